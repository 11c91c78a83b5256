/**
 * onnxruntime's float contrib ops that its graph optimizer writes into the float parts of a
 * quantized model (measured with onnxruntime-node 1.30, levels extended and all, on the models
 * `onnxkit quantize` makes: see contrib-quantized.ts): com.microsoft FusedMatMul (MatMul with
 * the Transposes and the scale Mul before it folded in: MatmulTransposeFusion,
 * MatMulScaleFusion) and Gelu (GeluFusion of Div → Erf → Add → Mul → Mul), in a dynamically
 * quantized transformer; and a float model's Conv or Gemm with its activation fused
 * (ConvActivationFusion, GemmActivationFusion: com.microsoft FusedConv — with the residual Add as
 * its `Z` input — and FusedGemm, levels extended and all), which may carry MLAS's activations
 * (`activation`: Relu, LeakyRelu, Tanh, Sigmoid, Clip, HardSigmoid). FusedConv's attributes and
 * cost are the NCHWc Conv's too (contrib-nchwc.ts, the com.microsoft.nchwc layout of level `all`).
 * Attributes as onnxruntime's schemas, checked before the rule runs (attributeProblem: a contrib
 * node against its own op's schema).
 */
import type { Dim } from '@onnxkit/graph';
import type { ShapeRule } from '../analysis/inference-types.js';
import { lookup, opTable } from '../common/op-table.js';
import { ATTR, attrs, withDefault } from './attributes.js';
import { type CostContext, type Count, type Factors, gemmOps, type OpCost, perOutputOfOp } from './cost.js';
import { CONV_ATTRIBUTES, CONV_OPS } from './conv.js';
import { ACTIVATION_OPS } from './elementwise-unary.js';
import { LINEAR_OPS, matmulOut } from './linear.js';
import { same } from './shape-helpers.js';
import { defineOp, type OpDef } from './types.js';

const MS = 'com.microsoft';

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

export const FUSED_CONV_ATTRIBUTES = { ...CONV_ATTRIBUTES, activation: ATTR.activation, activation_params: ATTR.activation_params };
/** X, W, B, Sum (Z): the Conv's MACs (W's per-filter size as stored), weights and bias. */
export const FUSED_CONV_COST: OpCost = { weights: convCost.weights, biases: convCost.biases, macs: convCost.macs, ops: fusedConvOps, opsNote: 'bias, fused Sum and fused activation per element' };

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
