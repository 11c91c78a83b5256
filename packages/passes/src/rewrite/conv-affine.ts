/**
 * The shared core of fuse-bias-into-conv and fuse-affine-into-conv: folding a per-channel
 * element-wise constant op that follows a Conv into the Conv's weight and bias.
 *
 * For y = Conv(x; W, b) and a constant v broadcast along the channel axis only:
 *   y + v → W,        b + v          y − v → W,       b − v
 *   v + y → W,        b + v          v − y → −W,      v − b
 *   y · v → W·v_c,    b·v            y / v → W / v_c, b / v
 * (float64 math, rounded once). The constant must vary only along axis 1 of the Conv output and
 * must not raise its rank, so the output shape and dtype are unchanged.
 */
import { knownAttributes } from '../ops/registry.js';
import { Node, dataTypeName, type Tensor, type Value } from '@onnxkit/graph';
import { ATTRIBUTE_REASONS, defineRule, opt, type OptionsSpec, type Patch, type Rule } from './rule.js';
import type { RewriteSession } from './session.js';
import { WEIGHT_FLOAT_TYPES, attributeIssue, fitsFloat, floatScratch, floatTensor, floatView, nodeLabel, perChannelValues, scaledWeight, scaledWeightOverflow, tensorFromScratch } from './util.js';

const KNOWN_ATTRS: Readonly<Record<Producer, readonly string[] | undefined>> = {
  Conv: knownAttributes('Conv'),
  ConvTranspose: knownAttributes('ConvTranspose'),
  Gemm: knownAttributes('Gemm'),
};

/**
 * The ops whose output channels a per-channel constant can fold into. Conv takes every
 * AffineOp; ConvTranspose and Gemm take only what changes the bias alone — `y + v`, `v + y`,
 * `y − v` — into ConvTranspose's bias (output channel axis 1, weight [C_in, C_out/group, k…],
 * bias length C_out) or Gemm's C (per output column: N = B.dims[transB ? 0 : 1]).
 */
export type Producer = 'Conv' | 'ConvTranspose' | 'Gemm';

export type AffineOp = 'Add' | 'Sub' | 'Mul' | 'Div';

/** Options shared by the passes that fold into a Conv's weights. */
export interface WeightFoldOptions {
  /** Copy a weight that another node also uses instead of declining [weight-shared]. */
  readonly cloneSharedWeights: boolean;
}

export const WEIGHT_FOLD_OPTIONS: OptionsSpec<WeightFoldOptions> = {
  defaults: { cloneSharedWeights: false },
  parse(loose) {
    opt.only(loose, ['cloneSharedWeights']);
    const c = opt.bool(loose, 'cloneSharedWeights');
    return c === undefined ? {} : { cloneSharedWeights: c };
  },
};

export const CONV_AFFINE_REASONS = [
  ...ATTRIBUTE_REASONS,
  'operand-not-constant',
  'not-affine',
  'producer-output-is-graph-output',
  'producer-output-used-elsewhere',
  'weights-not-constant',
  'unsupported-dtype',
  'dtype-mismatch',
  'weight-shared',
  'shape-mismatch',
  'not-per-channel',
  'scaled-bias',
  'non-finite-scale',
  'folded-overflow',
] as const;

interface ConvAffineMatch {
  e: Node;
  op: AffineOp;
  conv: Node;
  producer: Producer;
  convSide: 0 | 1;
  /** Output channels (Conv M, ConvTranspose C_out, Gemm N); filled by check. */
  channels?: number;
  /** Filled by check. */
  w?: Tensor;
  /** The folded bias and each output channel's weight factor (1 when the weight stays), in float64; filled by check. */
  newBias?: Float64Array;
  rowScale?: Float64Array;
  vec?: Float64Array;
}

/** The rule folding element-wise `ops` (per-channel constant operand) into the Conv feeding them. */
export function convAffineRule(name: string, ops: readonly AffineOp[], producers: readonly Producer[] = ['Conv']): Rule<WeightFoldOptions> {
  const accepts = (n: Node | null | undefined, op: AffineOp, side: 0 | 1): n is Node => {
    if (!n || !n.isOnnxDomain || !producers.includes(n.opType as Producer)) return false;
    return n.opType === 'Conv' || op === 'Add' || (op === 'Sub' && side === 0);
  };
  return defineRule({
    name,
    anchor: ops,
    // `accepts` matches only a default-domain producer of these types.
    requires: producers,
    reasons: CONV_AFFINE_REASONS,
    match(e): ConvAffineMatch | undefined {
      if (e.inputs.length !== 2) return undefined;
      const [a, b] = e.inputs;
      if (!a || !b) return undefined;
      const op = e.opType as AffineOp;
      if (accepts(a.producer, op, 0)) return { e, op, conv: a.producer, producer: a.producer.opType as Producer, convSide: 0 };
      if (accepts(b.producer, op, 1)) return { e, op, conv: b.producer, producer: b.producer.opType as Producer, convSide: 1 };
      return undefined;
    },
    check(m, { session: s, options }) {
      const { e, conv, convSide, op, producer } = m;
      const y = e.inputs[convSide]!;
      const cv = e.inputs[1 - convSide]!;
      const c = s.facts.constOf(cv);
      if (!c) return ['operand-not-constant', `'${cv.name}' is not a constant`];
      if (op === 'Div' && convSide === 1) return ['not-affine', 'constant / Conv is not affine in the Conv output'];
      const issue = attributeIssue(conv, KNOWN_ATTRS[producer]) ?? attributeIssue(e, []);
      if (issue) return issue;
      if (y.isGraphOutput) return ['producer-output-is-graph-output', `'${y.name}' is a graph output`];
      if (y.useCount !== 1) return ['producer-output-used-elsewhere', `'${y.name}' has ${y.uses.length} uses`];
      const wv = conv.inputs[1];
      const bv = conv.inputs[2] ?? null;
      const w = wv ? s.facts.constOf(wv) : undefined;
      if (!wv || !w) return ['weights-not-constant', `${producer} weight '${wv?.name ?? ''}' is not a constant`];
      const bias = bv ? s.facts.constOf(bv) : undefined;
      if (bv && !bias) return ['weights-not-constant', `${producer} bias '${bv.name}' is not a constant`];
      if (!WEIGHT_FLOAT_TYPES.has(w.dtype)) return ['unsupported-dtype', 'weight is not a float type'];
      if (bias && bias.dtype !== w.dtype) return ['unsupported-dtype', 'bias and weight dtypes differ'];
      if (c.dtype !== w.dtype) return ['dtype-mismatch', `constant and weight dtypes differ`];
      if (!options.cloneSharedWeights) {
        for (const v of [wv, bv]) {
          const other = v?.uses.find((u) => u.node !== conv);
          if (v && other) return ['weight-shared', `'${v.name}' is also used by ${nodeLabel(other.node)}`];
        }
      }
      let M: number;
      let rank: number;
      /** The bias per output channel (Gemm: C per column, checked here). */
      let B: Float64Array | undefined;
      if (producer === 'Gemm') {
        // Gemm: Y = alpha·A'·B' + beta·C, [rows, N]; the constant must vary only along N.
        if (w.dims.length !== 2) return ['shape-mismatch', `Gemm B has rank ${w.dims.length}`];
        M = w.dims[conv.getInt('transB', 0) ? 0 : 1]!;
        rank = 2;
        B = bias ? perChannelValues(bias, 2, 1, M) : undefined;
        if (bias && !B) return ['not-per-channel', `Gemm C dims [${bias.dims.join(',')}] vary along the rows; only a per-column C can absorb the constant`];
        const beta = conv.getFloat('beta', 1);
        if (bias && beta !== 1) return ['scaled-bias', `Gemm beta = ${beta} scales C; C + v/beta would round`];
      } else {
        if (w.dims.length < 3) return ['shape-mismatch', `${producer} weight has rank ${w.dims.length}`];
        // ConvTranspose: W [C_in, C_out/group, k…], output channels C_out = W.dims[1]·group.
        M = producer === 'Conv' ? w.dims[0]! : w.dims[1]! * conv.getInt('group', 1);
        rank = w.dims.length;
        if (bias && bias.size !== M) return ['shape-mismatch', `${producer} bias has ${bias.size} values for ${M} output channels`];
      }
      const vec = perChannelValues(c, rank, 1, M);
      if (!vec) return ['not-per-channel', `constant dims [${c.dims.join(',')}] do not broadcast per channel over a rank-${rank} ${producer} output with ${M} channels`];
      if (op === 'Mul' || op === 'Div') {
        // y·±inf (or y/0) is ±inf per element, NaN only where y = 0; W·±inf makes the Conv sum
        // ±inf terms of both signs, NaN almost everywhere. A NaN constant gives NaN either way.
        for (let i = 0; i < M; i++) {
          const sc = op === 'Mul' ? vec[i]! : 1 / vec[i]!;
          if (sc === Infinity || sc === -Infinity) return ['non-finite-scale', `channel ${i}: ${op === 'Mul' ? 'multiplying by' : 'dividing by'} ${vec[i]} would put ±inf in the weight`];
        }
      }
      // The folded bias and weight must fit the weight's type (a product past its largest value
      // would be written as ±inf where the model computes finite values).
      const { newBias, rowScale } = foldedChannels(op, convSide, B ?? bias?.toFloat64() ?? new Float64Array(M), vec);
      for (let i = 0; i < M; i++) {
        if (!fitsFloat(newBias[i]!, w.dtype) && Number.isFinite(newBias[i])) return ['folded-overflow', `channel ${i}: the folded bias ${newBias[i]} overflows ${dataTypeName(w.dtype)}`];
      }
      if (op === 'Mul' || op === 'Div') {
        const overflow = scaledWeightOverflow(w, M, (r) => rowScale[r]!);
        if (overflow !== undefined) return ['folded-overflow', `the folded weight: ${overflow}`];
      }
      m.channels = M;
      m.w = w;
      m.newBias = newBias;
      m.rowScale = rowScale;
      m.vec = vec;
      return undefined;
    },
    rewrite(m, { session: s }) {
      return foldPatch(s, m);
    },
  });
}

/** Per output channel: the folded bias, and the factor of the channel's weights (−1 for v − y, 1 when they stay). */
function foldedChannels(op: AffineOp, convSide: 0 | 1, B: Float64Array, vec: Float64Array): { newBias: Float64Array; rowScale: Float64Array } {
  const M = vec.length;
  const newBias = new Float64Array(M);
  const rowScale = new Float64Array(M);
  for (let m = 0; m < M; m++) {
    const v = vec[m]!;
    let sw = 1;
    let bm = 0;
    switch (op) {
      case 'Add':
        bm = B[m]! + v;
        break;
      case 'Sub':
        if (convSide === 0) bm = B[m]! - v;
        else {
          sw = -1;
          bm = v - B[m]!;
        }
        break;
      case 'Mul':
        sw = v;
        bm = B[m]! * v;
        break;
      case 'Div':
        sw = 1 / v;
        bm = B[m]! / v;
        break;
    }
    newBias[m] = bm;
    rowScale[m] = sw;
  }
  return { newBias, rowScale };
}

function foldPatch(s: RewriteSession, m: ConvAffineMatch): Patch {
  const { e, conv, convSide, op } = m;
  const w = m.w!;
  const vec = m.vec!;
  const Bn = m.newBias!;
  const rowScale = m.rowScale!;
  const wv = conv.inputs[1]!;
  const bv = conv.inputs[2] ?? null;
  const cv = e.inputs[1 - convSide]!;
  const M = m.channels!;
  const per = w.size / M;
  const needsWeight = op === 'Mul' || op === 'Div' || (op === 'Sub' && convSide === 1);
  // Dividing by v and multiplying by 1/v round differently; keep the division for Div.
  // An Add (or x − c) changes only the bias: the weights are not read at all.
  let Wn: Tensor | undefined;
  if (needsWeight && op === 'Div') {
    const W = floatView(w);
    const out = floatScratch(w.dtype, W.length);
    for (let m = 0; m < M; m++) for (let k = 0; k < per; k++) out[m * per + k] = W[m * per + k]! / vec[m]!;
    Wn = tensorFromScratch(w.dtype, w.dims, out);
  } else if (needsWeight) Wn = scaledWeight(w, rowScale, M, per);
  const inits: Value[] = [];
  let wIn: Value = wv;
  if (Wn !== undefined) {
    wIn = s.newInitializer(wv.name || `${conv.name}_weight`, Wn);
    inits.push(wIn);
  }
  const bIn = s.newInitializer(bv?.name || `${wv.name || conv.name}_bias`, floatTensor(w.dtype, [M], Bn));
  inits.push(bIn);
  const z = e.outputs[0]!;
  // Gemm without C ignores beta; with the new C it must be 1 (checked when C existed).
  const attributes = [...conv.attributes.values()].filter((a) => !(m.producer === 'Gemm' && a.name === 'beta'));
  const fused = new Node(m.producer, [conv.inputs[0] ?? null, wIn, bIn], { name: conv.name, attributes, outputs: [s.replacementName(z, `${conv.name}_out`)] });
  return {
    rule: `${m.producer.toLowerCase()}+${op.toLowerCase()}`,
    remove: [conv, e],
    replace: [[z, fused.outputs[0]!]],
    add: [fused],
    insertBefore: e,
    initializers: inits,
    description: `folded ${op} ${nodeLabel(e)} (per-channel constant '${cv.name}') into ${m.producer} ${nodeLabel(conv)}`,
    details: { channels: M },
  };
}

