/**
 * onnxruntime's float contrib ops that its graph optimizer writes into the float parts of a
 * quantized model (measured with onnxruntime-node 1.30, levels extended and all, on the models
 * `onnxkit quantize` makes: see contrib-quantized.ts): com.microsoft FusedMatMul (MatMul with
 * the Transposes and the scale Mul before it folded in: MatmulTransposeFusion,
 * MatMulScaleFusion) and Gelu (GeluFusion of Div → Erf → Add → Mul → Mul), in a dynamically
 * quantized transformer; and at level `all` the NCHWc layout's com.microsoft.nchwc ReorderInput,
 * MaxPool and ReorderOutput around a MaxPool left in float (a ResNet with int8 activations,
 * whose MaxPool onnxruntime does not run in 8 bits); and at level `all` the com.microsoft.nchwc
 * Conv of a float model's Conv (a torchvision ViT's patch embedding: NCHW in, NCHWc out through
 * ReorderOutput), which may carry a fused activation (`activation`, MLAS's Relu, LeakyRelu, Tanh,
 * Sigmoid, Clip, HardSigmoid) and a fused residual Add (the `Sum` input); and a float model's
 * Conv or Gemm with its activation fused (ConvActivationFusion, GemmActivationFusion: com.microsoft
 * FusedConv — with the residual Add as its `Z` input — and FusedGemm, levels extended and all).
 * The NCHWc Conv's output channels are padded to the block size (8 or 16, by the CPU) when they
 * are not a multiple of it, its weight and bias stored with zero filters: its parameters, MACs and
 * FLOPs are scaled to the model's channels (nchwcChannels, OpCost.paddedChannels), so that its
 * graph analyses as the original (packages/runtime/test/transformer-analysis.test.ts).
 * Attributes as onnxruntime's schemas, checked before the rule runs (attributeProblem: a contrib
 * node against its own op's schema).
 */
import type { Dim, Node, Value } from '@onnxkit/graph';
import type { ShapeRule } from '../analysis/inference-types.js';
import { lookup, opTable } from '../common/op-table.js';
import { ATTR, attrs, withDefault } from './attributes.js';
import { type CostContext, type Count, type Factors, gemmOps, type OpCost, type PaddedChannels, perOutputOfOp } from './cost.js';
import { CONV_ATTRIBUTES, CONV_OPS } from './conv.js';
import { ACTIVATION_OPS } from './elementwise-unary.js';
import { LINEAR_OPS, matmulOut } from './linear.js';
import { POOL_OPS } from './pool.js';
import { same } from './shape-helpers.js';
import { defineOp, type OpDef } from './types.js';

const MS = 'com.microsoft';
const NCHWC = 'com.microsoft.nchwc';

/**
 * A FusedMatMul operand as the multiplication reads it: `transBatch` moves the first axis behind
 * the batch axes (rank ≥ 3: [d0, d1…dr−2, dr−1] → [d1…dr−2, d0, dr−1], the Transpose
 * perm [1, …, 0, r−1] it replaced), then `trans` swaps the last two.
 */
function fusedOperand(s: readonly Dim[] | null, transBatch: boolean, trans: boolean): Dim[] | null {
  if (!s) return null;
  const d = transBatch && s.length >= 3 ? [...s.slice(1, -1), s[0]!, s[s.length - 1]!] : [...s];
  if (trans && d.length >= 2) {
    const last = d[d.length - 1]!;
    d[d.length - 1] = d[d.length - 2]!;
    d[d.length - 2] = last;
  }
  return d;
}

const fusedA = (node: CostContext['node'], s: readonly Dim[] | null): Dim[] | null => fusedOperand(s, node.getInt('transBatchA', 0) === 1, node.getInt('transA', 0) === 1);
const fusedB = (node: CostContext['node'], s: readonly Dim[] | null): Dim[] | null => fusedOperand(s, node.getInt('transBatchB', 0) === 1, node.getInt('transB', 0) === 1);

/** FusedMatMul: ONNX MatMul's rule (linear.ts) over the operands as read (transposes applied); the output type is A's. */
const fusedMatMulShape: ShapeRule = (c) => matmulOut(c, fusedA(c.node, c.shape(0)), fusedB(c.node, c.shape(1)), c.dtype(0));

/** FusedMatMul MACs: output elements × K, the inner dimension of A as read. */
const fusedMatMulMacs = (c: CostContext): Factors => {
  const a = fusedA(c.node, c.inputShapes[0] ?? null);
  const out = c.outputShapes[0];
  if (!a || !out || a.length === 0) return { unknown: 'operand shapes unknown' };
  return [...out, a[a.length - 1]!];
};

/** ReorderInput: NCHW (or NHWC with `channels_last`) into the blocked NCHWc layout, the dims in NCHW order. */
const reorderInputShape: ShapeRule = (c) => {
  const xs = c.shape(0);
  if (!xs || c.node.getInt('channels_last', 0) !== 1 || xs.length < 3) return c.out(0, c.dtype(0), xs);
  c.out(0, c.dtype(0), [xs[0]!, xs[xs.length - 1]!, ...xs.slice(1, -1)]);
};

/** ReorderOutput: back to NCHW (NHWC with `channels_last`) with `channels` channels, dropping the block padding. */
const reorderOutputShape: ShapeRule = (c) => {
  const xs = c.shape(0);
  const ch = c.node.getInt('channels', -1);
  if (!xs || xs.length < 3) return c.out(0, c.dtype(0), null);
  const channels: Dim = ch > 0 ? ch : null;
  c.out(0, c.dtype(0), c.node.getInt('channels_last', 0) === 1 ? [xs[0]!, ...xs.slice(2), channels] : [xs[0]!, channels, ...xs.slice(2)]);
};

const maxPool = POOL_OPS.find((op) => op.type === 'MaxPool')!;
const gelu = ACTIVATION_OPS.find((op) => op.type === 'Gelu')!;
const conv = CONV_OPS.find((op) => op.type === 'Conv')!;
const convCost = conv.cost as OpCost;
const gemm = LINEAR_OPS.find((op) => op.type === 'Gemm')!;
const gemmCost = gemm.cost as OpCost;

/**
 * The per-element count of each activation onnxruntime fuses into a Conv or Gemm (MLAS's
 * activations: FusedConv, FusedGemm, the NCHWc Conv), from the activation op's own declaration
 * (perOutputOfOp).
 */
const FUSED_ACTIVATION_OPS: Readonly<Record<string, number>> = opTable(
  ['Relu', 'LeakyRelu', 'Tanh', 'Sigmoid', 'Clip', 'HardSigmoid'].map((t): [string, number] => [t, perOutputOfOp(ACTIVATION_OPS, t)]),
);

/** The fused activation's count per output element (0 without one), or why it has none. */
function fusedActivation(c: CostContext): number | string {
  const act = c.node.getString('activation');
  if (act === undefined) return 0;
  return lookup(FUSED_ACTIVATION_OPS, act) ?? `fused activation '${act}' (not an MLAS activation)`;
}

/**
 * FusedConv and the NCHWc Conv: the bias (2) and the fused residual Sum/Z (3) add one per output
 * element each, a fused activation its own count (the Add and the activation they replaced).
 */
const fusedConvOps = (c: CostContext): Count => {
  const k = fusedActivation(c);
  if (typeof k === 'string') return { unknown: k };
  return { perOutput: (c.node.inputs[2] == null ? 0 : 1) + (c.node.inputs[3] == null ? 0 : 1) + k };
};

/** FusedGemm: the Gemm's work and the fused activation per output element. */
const fusedGemmOps = (c: CostContext): Count => {
  const k = fusedActivation(c);
  if (typeof k === 'string') return { unknown: k };
  const g = gemmOps(c) as { perOutput: number };
  return { perOutput: g.perOutput + k };
};

/** The com.microsoft.nchwc ops that keep a blocked tensor's channels (its output 0 has its input 0's). */
const NCHWC_CHANNEL_KEEPING: ReadonlySet<string> = new Set(['MaxPool', 'AveragePool', 'GlobalMaxPool', 'GlobalAveragePool', 'Upsample']);
/** The ONNX ops onnxruntime's NchwcTransformer runs on a blocked tensor as they are (element-wise: the channels kept). */
const ONNX_CHANNEL_KEEPING: ReadonlySet<string> = new Set(['Relu', 'LeakyRelu', 'Sigmoid', 'Tanh', 'HardSigmoid', 'Clip', 'Add', 'Sum', 'Mul']);

/**
 * The model's channel count of the blocked tensor `v`, as onnxruntime's NchwcTransformer knows it
 * (its NchwcArgument's channels): the `channels` of the ReorderOutput that returns it to NCHW,
 * through the ops that keep its channels — an NCHWc pool or Upsample, an element-wise op, the
 * fused residual Sum (3) of another NCHWc Conv, which has the same channels; or the input
 * channels of the NCHWc Conv that reads it as X (its weight's dim 1 × group). Undefined when no
 * consumer says.
 */
function blockedChannels(v: Value, depth: number): number | undefined {
  if (depth > 64) return undefined;
  for (const use of v.uses) {
    const u = use.node;
    let next: Value | null | undefined;
    if (u.domain === NCHWC) {
      if (u.opType === 'ReorderOutput') {
        const ch = u.getInt('channels', -1);
        if (ch > 0) return ch;
      } else if (u.opType === 'Conv' && use.index === 0) {
        const w = u.inputs[1];
        const wd = w?.constValue?.dims ?? w?.shape;
        const ci = wd?.[1];
        if (typeof ci === 'number') return ci * u.getInt('group', 1);
      } else if ((u.opType === 'Conv' && use.index === 3) || NCHWC_CHANNEL_KEEPING.has(u.opType)) next = u.outputs[0];
    } else if (u.isOnnxDomain && ONNX_CHANNEL_KEEPING.has(u.opType)) next = u.outputs[0];
    if (next) {
      const ch = blockedChannels(next, depth + 1);
      if (ch !== undefined) return ch;
    }
  }
  return undefined;
}

/**
 * The NCHWc Conv's output channels: onnxruntime pads them to the block size (its weight is stored
 * [padded, …], the bias [padded], the extra filters zero), and the blocked output's channel count
 * is the model's (blockedChannels). Measured: torch's Conv2d(8→10, 3) + ReLU at level all is
 * stored [16, 8, 3, 3] with a [16] bias, its ReorderOutput's channels 10.
 */
const nchwcChannels = (node: Node): PaddedChannels => {
  const w = node.inputs[1];
  const padded = (w?.constValue?.dims ?? w?.shape)?.[0];
  if (typeof padded !== 'number') return { unknown: 'weight shape unknown' };
  const out = node.outputs[0];
  const real = out ? blockedChannels(out, 0) : undefined;
  if (real === undefined) return { unknown: `the model's output channels (of the ${padded} stored, padded to the block size) are not established: no ReorderOutput or NCHWc Conv reads the output` };
  if (real > padded || real <= 0) return { unknown: `output channels ${real} do not fit the ${padded} stored` };
  return { real, padded };
};

const FUSED_CONV_ATTRIBUTES = { ...CONV_ATTRIBUTES, activation: ATTR.activation, activation_params: ATTR.activation_params };
/** X, W, B, Sum (Z): the Conv's MACs (W's per-filter size as stored), weights and bias. */
const FUSED_CONV_COST: OpCost = { weights: convCost.weights, biases: convCost.biases, macs: convCost.macs, ops: fusedConvOps, opsNote: 'bias, fused Sum and fused activation per element' };

export const CONTRIB_FUSED_OPS: readonly OpDef[] = [
  defineOp({
    type: 'FusedMatMul',
    domain: MS,
    attributes: { alpha: withDefault(ATTR.alpha, 1), transA: withDefault(ATTR.transA, 0), transB: withDefault(ATTR.transB, 0), transBatchA: withDefault(ATTR.transBatchA, 0), transBatchB: withDefault(ATTR.transBatchB, 0) },
    shape: fusedMatMulShape,
    // alpha is the GEMM's own scale (MLAS's alpha): no operation of its own.
    cost: { macs: fusedMatMulMacs },
  }),
  defineOp({
    type: 'Gelu',
    domain: MS,
    attributes: attrs(),
    shape: same,
    // As the ONNX Gelu (erf form).
    cost: gelu.cost,
  }),
  defineOp({
    type: 'ReorderInput',
    domain: NCHWC,
    attributes: attrs('channels_last'),
    // onnxruntime's NchwcTransformer reorders a tensor only when its channels are a multiple of
    // the block size (8 or 16, by the CPU), so the dims are the NCHW ones.
    shape: reorderInputShape,
    cost: {}, // data movement
  }),
  defineOp({
    type: 'ReorderOutput',
    domain: NCHWC,
    attributes: { channels: ATTR.channels, channels_last: withDefault(ATTR.channels_last, 0) },
    shape: reorderOutputShape,
    cost: {}, // data movement
  }),
  defineOp({
    type: 'MaxPool',
    domain: NCHWC,
    // The ONNX MaxPool's attributes, shape rule and cost on the blocked layout (dims as NCHW).
    attributes: maxPool.attributes,
    shape: maxPool.shape,
    cost: maxPool.cost,
  }),
  defineOp({
    type: 'Conv',
    domain: NCHWC,
    attributes: FUSED_CONV_ATTRIBUTES,
    // The ONNX Conv's rule on the dims in NCHW order: the output channels are the weight's first
    // dim as onnxruntime stores it (padded to the block size; ReorderOutput's `channels` drops the padding).
    shape: conv.shape,
    // Its weights, bias, MACs and element-wise operations scaled to the model's channels (nchwcChannels).
    cost: { ...FUSED_CONV_COST, paddedChannels: nchwcChannels },
  }),
  defineOp({
    type: 'FusedConv',
    domain: MS,
    attributes: FUSED_CONV_ATTRIBUTES,
    shape: conv.shape,
    cost: FUSED_CONV_COST,
  }),
  defineOp({
    type: 'FusedGemm',
    domain: MS,
    // activation_alpha/beta/gamma are single floats here (the LeakyRelu slope, Clip's bounds…), not the RNN ops' lists.
    attributes: { ...gemm.attributes, activation: ATTR.activation, activation_alpha: ATTR.alpha, activation_beta: ATTR.beta, activation_gamma: ATTR.gamma },
    shape: gemm.shape,
    cost: { ...gemmCost, ops: fusedGemmOps, opsNote: "the Gemm's, and the fused activation per element" },
  }),
];
