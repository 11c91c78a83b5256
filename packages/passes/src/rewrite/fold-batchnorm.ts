/**
 * fold-batchnorm — folds an inference BatchNormalization into the Conv, ConvTranspose or Gemm
 * that feeds it.
 *
 * Math (per output channel c, computed in float64, rounded once to the weight's dtype):
 *   s_c  = γ_c / √(σ²_c + ε)
 *   W'   = W · s_c          (along the output-channel axis of W)
 *   b'_c = (b_c − μ_c) · s_c + β_c      (b = 0 when the producer has no bias)
 * Output-channel axis of W: Conv [M, C/g, k…] → axis 0; ConvTranspose [C_in, M/g, k…] → the
 * element W[ci, j, …] feeds output channel (ci ÷ (C_in/g))·(M/g) + j (group-aware); Gemm: B is
 * [K, N] (transB = 0, axis 1) or [N, K] (transB = 1, axis 0). For Gemm, Y = α·A·B + β·C becomes
 * α·A·B' + C' with C' = (β·C − μ)·s + β_BN broadcast per column, and beta = 1.
 *
 * Preconditions (decline reason in brackets):
 *  1. BN is in the default domain, inference mode: training_mode absent/0 (opset ≥ 14), one
 *     output (opsets 7–13, where declaring the statistics outputs, even unused, is training
 *     mode in onnxruntime), is_test=1 (opset < 7), spatial absent/1 (opset < 9) [training-mode]
 *     [not-spatial].
 *  2. BN's outputs other than Y are unused [bn-extra-outputs-used].
 *  3. BN's X comes from a Conv/ConvTranspose/Gemm whose output has no other use and is not a
 *     graph output [producer-output-used-elsewhere] [producer-output-is-graph-output].
 *  4. γ, β, μ, σ², W (and the bias, if any) are constants [weights-not-constant]; W and the bias
 *     are used by no other node [weight-shared] — unless option `cloneSharedWeights: true`, in
 *     which case the fused node gets its own copy and the other users keep the original.
 *  5. W is float, double or float16 [unsupported-dtype]; channel counts agree [shape-mismatch];
 *     Gemm's C broadcasts to [M, N] per column [bias-shape].
 *  6. No attribute the rule does not know on either node [unknown-attribute], none of the wrong
 *     type or with an impossible value (group ≤ 0…) [bad-attribute]; γ, β, μ, σ² are float
 *     tensors [unsupported-dtype].
 *  7. Every s_c is finite [non-finite-scale]: with γ_c = ±inf or σ²_c + ε = 0 the BatchNorm
 *     gives ±inf (NaN only where x = μ), while W·s would put ±inf in the weight and the Conv's
 *     sums of ±inf terms give NaN (a NaN s stays NaN either way and is folded).
 *  8. The folded bias and W·s fit the weight's type [folded-overflow]: past its largest value
 *     they would be written as ±inf where the model computes finite values (float16's 65504 is
 *     near: |W| 700 times s 100).
 *
 * Weights still in their file (a lazily imported model) are not read by the fold: the new
 * weight is a lazy tensor that reads and scales the old one's bytes when it is written
 * (scaled-weight.ts), chunk by chunk through save's buffer, with the same bits as an eager fold;
 * such a float32/float64 weight is not checked for [folded-overflow] (that would read it).
 *
 * Known limits: BN feeding from MatMul (without Gemm) is not folded; BN before a Conv (folding
 * into the following layer) is not attempted because zero padding would make it inexact.
 */
import { knownAttributes } from '../ops/registry.js';
import { Attribute, Node, dataTypeName, type Tensor, type Value } from '@onnxkit/graph';
import { WEIGHT_FOLD_OPTIONS, type WeightFoldOptions } from './conv-affine.js';
import { ATTRIBUTE_REASONS, defineRule, defineRulePass, type Decline, type Patch, type RuleContext } from './rule.js';
import type { RewriteSession } from './session.js';
import { WEIGHT_FLOAT_TYPES, attributeIssue, fitsFloat, floatScratch, floatTensor, floatView, nodeLabel, scaledWeight, scaledWeightOverflow, tensorFromScratch } from './util.js';

const CONV_ATTRS = knownAttributes('Conv');
const CONVT_ATTRS = knownAttributes('ConvTranspose');
const GEMM_ATTRS = knownAttributes('Gemm');
const BN_ATTRS = knownAttributes('BatchNormalization');

const REASONS = [
  ...ATTRIBUTE_REASONS,
  'training-mode',
  'not-spatial',
  'bn-extra-outputs-used',
  'producer-output-is-graph-output',
  'producer-output-used-elsewhere',
  'weights-not-constant',
  'unsupported-dtype',
  'weight-shared',
  'shape-mismatch',
  'bias-shape',
  'non-finite-scale',
  'folded-overflow',
] as const;
type Reason = (typeof REASONS)[number];
const PRODUCERS = ['Conv', 'ConvTranspose', 'Gemm'];
/**
 * epsilon's default, as the float32 attribute onnxruntime reads (1e-5 rounded to float32, not
 * the double 1e-5: with σ² = −1e-5f the runtime's σ² + ε is 0, the double's 2.5e-13).
 */
const DEFAULT_EPSILON = Math.fround(1e-5);

interface Match {
  p: Node;
  bn: Node;
  /** The constants check proved usable (filled in by check). */
  operands?: Operands;
}

/** The BN statistics and the producer's weight and bias, constant, float and of matching shapes. */
interface Operands {
  /** s = γ/√(σ²+ε) per channel, in float64 (every one finite: checked when it is computed). */
  scale: Float64Array;
  /** Conv/ConvTranspose: the factor of each row of W (Conv: `scale`; see foldOperands). */
  rowScale: Float64Array;
  epsilon: number;
  w: Tensor;
  wv: Value;
  bv: Value | null;
  /** The folded bias, in float64 (every value fits the weight's type: checked when it is computed), and its dims. */
  bias: Float64Array;
  biasDims: readonly number[];
}

const layerBn = defineRule({
  name: 'layer+bn',
  anchor: 'BatchNormalization',
  reasons: REASONS,
  match(bn): Match | undefined {
    const p = bn.inputs[0]?.producer;
    return p && p.isOnnxDomain && PRODUCERS.includes(p.opType) ? { p, bn } : undefined;
  },
  check(m, { session: s, options }: RuleContext<WeightFoldOptions>) {
    const { p, bn } = m;
    const opset = s.opset;
    const issue = attributeIssue(bn, BN_ATTRS) ?? attributeIssue(p, p.opType === 'Gemm' ? GEMM_ATTRS : p.opType === 'Conv' ? CONV_ATTRS : CONVT_ATTRS);
    if (issue) return issue;
    if (bn.getInt('training_mode', 0) !== 0) return ['training-mode', 'training_mode=1'];
    if (opset < 7 && bn.getInt('is_test', 0) !== 1) return ['training-mode', 'is_test=0'];
    if (opset < 9 && bn.getInt('spatial', 1) !== 1) return ['not-spatial', 'spatial=0 (per-element statistics)'];
    for (let i = 1; i < bn.outputs.length; i++) {
      const o = bn.outputs[i]!;
      if (o.useCount > 0 || o.isGraphOutput) return ['bn-extra-outputs-used', `output ${i} ('${o.name}') is used`];
    }
    // Opsets 7–13 have no mode attribute: the outputs declared decide, and onnxruntime runs a
    // BatchNormalization with running/saved statistics outputs (used or not) on batch statistics.
    if (opset >= 7 && opset < 14 && bn.outputs.length > 1) return ['training-mode', `opset ${opset} with ${bn.outputs.length} outputs (training mode: normalized with the batch's statistics)`];
    const pout = p.outputs[0]!;
    if (pout.isGraphOutput) return ['producer-output-is-graph-output', `'${pout.name}' is a graph output`];
    if (pout.useCount !== 1) return ['producer-output-used-elsewhere', `'${pout.name}' has ${pout.uses.length} uses`];
    const operands = foldOperands(s, m, options.cloneSharedWeights);
    if (Array.isArray(operands)) return operands as Decline<Reason>;
    m.operands = operands as Operands;
    return undefined;
  },
  rewrite: (m, { session: s }) => fold(s, m, m.operands!),
});

export const foldBatchnorm = defineRulePass({
  name: 'fold-batchnorm',
  description: 'Fold inference BatchNormalization into the preceding Conv, ConvTranspose or Gemm (float64 math)',
  exact: true,
  options: WEIGHT_FOLD_OPTIONS,
  rules: [layerBn],
});

/**
 * The constants of the fold and the proof that their shapes fit — every decline comes from here,
 * before any arithmetic, so a declined candidate costs no weight read.
 */
function foldOperands(s: RewriteSession, { p, bn }: Match, clone: boolean): Operands | Decline<Reason> {
  const consts: Tensor[] = [];
  for (let i = 1; i <= 4; i++) {
    const v = bn.inputs[i];
    const t = v ? s.facts.constOf(v) : undefined;
    if (!t) return ['weights-not-constant', `BatchNormalization input ${i} ('${v?.name ?? ''}') is not a constant`];
    if (!WEIGHT_FLOAT_TYPES.has(t.dtype)) return ['unsupported-dtype', `BatchNormalization input ${i} ('${v!.name}') is ${dataTypeName(t.dtype)}`];
    consts.push(t);
  }
  const [gamma, beta, mean, variance] = consts as [Tensor, Tensor, Tensor, Tensor];
  const wv = p.inputs[1];
  const bv = p.inputs[2] ?? null;
  const w = wv ? s.facts.constOf(wv) : undefined;
  if (!wv || !w) return ['weights-not-constant', `${p.opType} weight '${wv?.name ?? ''}' is not a constant`];
  const b = bv ? s.facts.constOf(bv) : undefined;
  if (bv && !b) return ['weights-not-constant', `${p.opType} bias '${bv.name}' is not a constant`];
  if (!clone) {
    for (const v of [wv, bv]) {
      if (v && v.uses.some((u) => u.node !== p)) return ['weight-shared', `'${v.name}' is also used by ${nodeLabel(v.uses.find((u) => u.node !== p)!.node)}`];
    }
  }
  if (!WEIGHT_FLOAT_TYPES.has(w.dtype)) return ['unsupported-dtype', `weight is ${dataTypeName(w.dtype)}`];
  if (b && b.dtype !== w.dtype) return ['unsupported-dtype', 'bias and weight dtypes differ'];
  const channels = gamma.size;
  if (beta.size !== channels || mean.size !== channels || variance.size !== channels || gamma.dims.length !== 1) {
    return ['shape-mismatch', 'BN parameters are not all [C]'];
  }
  const dims = w.dims;
  if (p.opType === 'Conv' || p.opType === 'ConvTranspose') {
    if (dims.length < 3) return ['shape-mismatch', `weight rank ${dims.length}`];
    if (p.opType === 'Conv') {
      if (dims[0] !== channels) return ['shape-mismatch', `Conv has ${dims[0]} output channels, BN ${channels}`];
    } else {
      const group = p.getInt('group', 1);
      const outChannels = dims[1]! * group;
      if (outChannels !== channels || dims[0]! % group !== 0) return ['shape-mismatch', `ConvTranspose has ${outChannels} output channels (group ${group}), BN ${channels}`];
    }
    if (b && b.size !== channels) return ['shape-mismatch', 'bias is not [M]'];
  } else {
    if (dims.length !== 2) return ['shape-mismatch', `Gemm B rank ${dims.length}`];
    const N = p.getInt('transB', 0) !== 0 ? dims[0]! : dims[1]!;
    if (N !== channels) return ['shape-mismatch', `Gemm has ${N} output columns, BN ${channels}`];
    if (b) {
      const cd = b.dims;
      if (cd.length > 2) return ['bias-shape', `C has rank ${cd.length}`];
      const ccols = cd.length === 0 ? 1 : cd[cd.length - 1]!;
      if (ccols !== 1 && ccols !== N) return ['bias-shape', `C has ${ccols} columns, Gemm ${N}`];
    }
  }
  const eps = bn.getFloat('epsilon', DEFAULT_EPSILON);
  const g64 = gamma.toFloat64();
  const var64 = variance.toFloat64();
  const scale = new Float64Array(channels);
  for (let c = 0; c < channels; c++) {
    const sc = g64[c]! / Math.sqrt(var64[c]! + eps);
    if (sc === Infinity || sc === -Infinity) return ['non-finite-scale', `channel ${c}: γ/√(σ²+ε) = ${g64[c]}/√(${var64[c]} + ${eps}) is infinite`];
    scale[c] = sc;
  }
  // The folded bias, (b − μ)·s + β (Gemm: (β_G·C − μ)·s + β over C's rows), and the folded weight
  // W·s must fit the weight's type: a product past its largest value would be written as ±inf
  // where the model computes finite values (float16 reaches 65504 soon: |W| 700 times s 100).
  const be64 = beta.toFloat64();
  const mu64 = mean.toFloat64();
  let bias: Float64Array;
  let biasDims: readonly number[];
  if (p.opType === 'Gemm') {
    const N = channels;
    const betaG = p.getFloat('beta', 1);
    let rows = 1;
    let C: Float64Array | undefined;
    let cCols = 1;
    if (b) {
      const cd = b.dims;
      cCols = cd.length === 0 ? 1 : cd[cd.length - 1]!;
      rows = cd.length === 2 ? cd[0]! : 1;
      C = b.toFloat64();
    }
    bias = new Float64Array(rows * N);
    for (let i = 0; i < rows; i++) {
      for (let n = 0; n < N; n++) {
        const cv = C ? C[i * cCols + (cCols === 1 ? 0 : n)]! : 0;
        bias[i * N + n] = (betaG * cv - mu64[n]!) * scale[n]! + be64[n]!;
      }
    }
    biasDims = rows > 1 ? [rows, N] : [N];
  } else {
    const b64 = b ? b.toFloat64() : new Float64Array(channels);
    bias = new Float64Array(channels);
    for (let c = 0; c < channels; c++) bias[c] = (b64[c]! - mu64[c]!) * scale[c]! + be64[c]!;
    biasDims = [channels];
  }
  for (let i = 0; i < bias.length; i++) {
    if (!fitsFloat(bias[i]!, w.dtype) && Number.isFinite(bias[i])) return ['folded-overflow', `the folded bias ${bias[i]} (element ${i}) overflows ${dataTypeName(w.dtype)}`];
  }
  // The factor of each row of W: Conv W [M, C/g, k…] row m is channel m; row (ci, j) of
  // ConvTranspose W [C_in, M/g, k…], seen as [C_in·M/g, k…], feeds channel (ci ÷ (C_in/g))·(M/g) + j.
  let rowScale = scale;
  if (p.opType === 'ConvTranspose') {
    const cin = dims[0]!;
    const perGroupOut = dims[1]!;
    const cinPerGroup = cin / p.getInt('group', 1);
    rowScale = new Float64Array(cin * perGroupOut);
    for (let ci = 0; ci < cin; ci++) {
      const gi = Math.floor(ci / cinPerGroup);
      for (let j = 0; j < perGroupOut; j++) rowScale[ci * perGroupOut + j] = scale[gi * perGroupOut + j]!;
    }
  }
  const overflow =
    p.opType === 'Gemm'
      ? scaledWeightOverflow(w, channels, (r) => scale[r]!, p.getInt('transB', 0) !== 0 ? 'rows' : 'columns')
      : scaledWeightOverflow(w, rowScale.length, (r) => rowScale[r]!);
  if (overflow !== undefined) return ['folded-overflow', `the folded weight: ${overflow}`];
  return { scale, rowScale, epsilon: eps, w, wv, bv, bias, biasDims };
}

/** The folded producer: W·s per output channel, (b − μ)·s + β with s = γ/√(σ²+ε), in float64. */
function fold(s: RewriteSession, { p, bn }: Match, { scale, rowScale, epsilon: eps, w, wv, bv, bias: newBias, biasDims }: Operands): Patch {
  const channels = scale.length;
  const dims = w.dims;
  // A weight still in its file stays there: the folded tensor scales its bytes when it is
  // written (scaled-weight.ts), so the fold itself reads nothing.
  let Wn: Tensor;
  const attrs: Attribute[] = [...p.attributes.values()];

  if (p.opType === 'Conv' || p.opType === 'ConvTranspose') {
    Wn = scaledWeight(w, rowScale, rowScale.length, w.size / rowScale.length);
  } else {
    const transB = p.getInt('transB', 0) !== 0;
    const [r, c] = dims as [number, number];
    const W = floatView(w);
    const out = floatScratch(w.dtype, W.length);
    for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) out[i * c + j] = W[i * c + j]! * scale[transB ? i : j]!;
    Wn = tensorFromScratch(w.dtype, dims, out);
    // C' = (β·C − μ)·s + β_BN (foldOperands), so the new Gemm's beta is 1.
    const keep = attrs.filter((a) => a.name !== 'beta');
    attrs.length = 0;
    for (const a of keep) attrs.push(a);
    attrs.push(Attribute.float('beta', 1));
  }

  const wNew = s.newInitializer(wv.name || `${p.name}_weight`, Wn);
  const bNew = s.newInitializer(bv?.name || `${wv.name || p.name}_bias`, floatTensor(w.dtype, biasDims, newBias));
  const y = bn.outputs[0]!;
  const out = s.freshName(y.name || `${p.name}_out`);
  const fused = new Node(p.opType, [p.inputs[0] ?? null, wNew, bNew], { name: p.name, attributes: attrs, outputs: [out] });
  return {
    rule: `${p.opType.toLowerCase()}+bn`,
    remove: [p, bn],
    replace: [[y, fused.outputs[0]!]],
    add: [fused],
    insertBefore: bn,
    initializers: [wNew, bNew],
    description: `folded ${nodeLabel(bn)} into ${p.opType} ${nodeLabel(p)}`,
    details: { channels, epsilon: eps },
  };
}

