/**
 * The op cost table: one declarative entry per op saying which inputs are learnable weights,
 * biases (learnable, not weights) or buffers, how to count its MACs, how many element-wise
 * operations it performs, and whether its output is an alias of its input or written in place.
 * `analyze.ts` reads only this table — no per-op if-chains elsewhere.
 *
 * Conventions (printed with every report, see CONVENTION):
 * - MACs only for Conv/ConvTranspose/Gemm/MatMul/Einsum and their integer/quantized forms, with
 *   the lecture's formulas: Linear c_o·c_i; Conv c_i·k_h·k_w·h_o·w_o·c_o, grouped /g, depthwise
 *   k_h·k_w·h_o·w_o·c_o; all × batch. Bias additions are element-wise ops, not MACs.
 * - FLOPs = 2·MACs + element-wise operations, counted per output (or input) element with the
 *   per-op counts written in this table (`ops`), e.g. Relu 1, Sigmoid 4, Softmax 5 per element.
 * - "inPlace": an element-wise activation function (and inference BatchNorm) that the lecture
 *   counts as applied in place: no new activation. "alias": a pure view (Reshape, Flatten,
 *   Squeeze, Unsqueeze, Identity, Dropout at inference): no new activation, no data movement.
 */
import type { Dim, Node } from '@onnxkit/graph';
import { opTable } from '../common/op-table.js';

/** What the cost functions see of a node: its inferred shapes (static dims are numbers). */
export interface CostContext {
  readonly node: Node;
  readonly inputShapes: readonly (readonly Dim[] | null)[];
  readonly outputShapes: readonly (readonly Dim[] | null)[];
  /** True when input i is present and constant. */
  isConstant(i: number): boolean;
}

/**
 * Element-wise operations as a linear form of the element counts: `perInput` per element of
 * input 0 plus `perOutput` per element of output 0 (absent: 0), or why it cannot be given. The
 * analysis multiplies it out — with numbers, or with symbolic dims ("5*N*S") when shapes are
 * symbolic — so the table never needs the counts themselves.
 */
export type Count = { readonly perInput?: number; readonly perOutput?: number } | { readonly unknown: string };

/**
 * MACs as a product of factors (dims, possibly symbolic): the number is their product, and a
 * symbolic batch or sequence still yields an expression such as "4*N*S*S*16".
 */
export type Factors = readonly Dim[] | { readonly unknown: string };

export interface OpCost {
  /** Input slots holding learnable weights (the lecture's #parameters; bias ignored). */
  readonly weights?: readonly number[];
  /** Input slots holding learnable non-weight parameters (biases, normalisation scale/shift). */
  readonly biases?: readonly number[];
  /** Input slots holding non-learnable state (BatchNorm running mean/var). */
  readonly buffers?: readonly number[];
  /**
   * Element-wise ops (and Concat): a constant float operand with more than one element is a
   * learnable bias-like parameter (Linear exported as MatMul + Add, position embeddings,
   * LayerNorm gamma, ViT's class token). Traced through views, Slice/Gather/Expand/Tile to the
   * stored tensor, which is what is counted.
   */
  readonly constOperandsLearnable?: boolean;
  /** Multiply-accumulates as a product of factors. Absent: the op performs none (0). */
  readonly macs?: (c: CostContext) => Factors;
  /** Element-wise operations beyond 2·MACs. Absent: none (0). */
  readonly ops?: (c: CostContext) => Count;
  /** A human-readable statement of `ops`, shown in the convention table. */
  readonly opsNote?: string;
  readonly alias?: boolean;
  readonly inPlace?: boolean;
  /** Reads only its input's shape, never its data (Shape, Size): no input activation traffic. */
  readonly shapeOnly?: boolean;
}

const unknown = (why: string): Count => ({ unknown: why });

/** `k` operations per element of output 0. */
function perOutput(k: number): (c: CostContext) => Count {
  const form: Count = { perOutput: k };
  return () => form;
}

/** `k` operations per element of input 0 (plus `plusPerOutput` per element of output 0). */
function perInput(k: number, plusPerOutput = 0): (c: CostContext) => Count {
  const form: Count = { perInput: k, perOutput: plusPerOutput };
  return () => form;
}

/** Conv-family MACs: output elements × (c_i/g · k_h · k_w), the weight's per-filter size. */
function convMacs(wIdx: number): (c: CostContext) => Factors {
  return (c) => {
    const out = c.outputShapes[0];
    const w = c.inputShapes[wIdx];
    if (!out) return { unknown: 'output shape unknown' };
    if (!w) return { unknown: 'weight shape unknown' };
    return [...out, ...w.slice(1)];
  };
}

/** Bias adds of Conv-like ops: one per output element when the bias input is present. */
function biasOps(bIdx: number): (c: CostContext) => Count {
  return (c) => ({ perOutput: c.node.inputs[bIdx] == null ? 0 : 1 });
}

/** ConvTranspose: every input element is multiplied into (c_o/g · k_h · k_w) outputs. */
const convTransposeMacs = (c: CostContext): Factors => {
  const x = c.inputShapes[0];
  const w = c.inputShapes[1];
  if (!x) return { unknown: 'input shape unknown' };
  if (!w) return { unknown: 'weight shape unknown' };
  return [...x, ...w.slice(1)];
};

/** MatMul with numpy batching and the 1-D cases: (batch · M · N) output elements × K. */
function matmulMacs(): (c: CostContext) => Factors {
  return (c) => {
    const a = c.inputShapes[0];
    const out = c.outputShapes[0];
    if (!a || !out || a.length === 0) return { unknown: 'operand shapes unknown' };
    return [...out, a[a.length - 1]!];
  };
}

const gemmMacs = (c: CostContext): Factors => {
  const a = c.inputShapes[0];
  const out = c.outputShapes[0];
  if (!a || !out || a.length !== 2) return { unknown: 'operand shapes unknown' };
  return [...out, c.node.getInt('transA', 0) === 1 ? a[0]! : a[1]!];
};

/** Gemm's element-wise work: alpha scaling (if ≠ 1), beta scaling (if ≠ 1) and the C add. */
const gemmOps = (c: CostContext): Count => {
  let k = 0;
  if (c.node.getFloat('alpha', 1) !== 1) k++;
  if (c.node.inputs[2] != null) {
    k++;
    if (c.node.getFloat('beta', 1) !== 1) k++;
  }
  return { perOutput: k };
};

/** Einsum: the product of every index extent (contracted ones included), batch included. */
const einsumMacs = (c: CostContext): Factors => {
  const eq = c.node.getString('equation', '').replace(/\s+/g, '');
  const lhs = eq.split('->')[0] ?? '';
  if (lhs.includes('...')) return { unknown: 'Einsum with ellipsis is not costed' };
  const terms = lhs.split(',');
  if (terms.length < 2) return [0];
  const extents = new Map<string, Dim>();
  for (let t = 0; t < terms.length; t++) {
    const s = c.inputShapes[t];
    if (!s) return { unknown: 'operand shapes unknown' };
    [...terms[t]!].forEach((ch, i) => {
      const d = s[i] ?? null;
      if (d !== null) extents.set(ch, d);
    });
  }
  const out: Dim[] = [];
  for (const ch of new Set(lhs.replace(/,/g, ''))) {
    const d = extents.get(ch);
    if (d === undefined) return { unknown: `extent of index '${ch}' unknown` };
    out.push(d);
  }
  return out;
};

/**
 * Recurrent layers: per step, batch and direction, `gates` matrix-vector products of the input
 * (size I) and the hidden state (size H): seq · batch · dirs · gates · H · (I + H).
 */
function recurrentMacs(gates: number): (c: CostContext) => Factors {
  return (c) => {
    const x = c.inputShapes[0];
    const w = c.inputShapes[1];
    if (!x || x.length !== 3 || !w || w.length !== 3) return { unknown: 'input or weight shape unknown' };
    const hidden = w[1] === null || typeof w[1] === 'string' ? null : w[1] / gates;
    if (hidden === null) return { unknown: 'hidden size unknown' };
    // W: [dirs, gates·H, I]; R: [dirs, gates·H, H]. MACs = seq · batch · dirs · gates·H · (I + H).
    const i = w[2]!;
    return [x[0]!, x[1]!, w[0]!, w[1]!, typeof i === 'number' ? i + hidden : null];
  };
}

/** Pooling: one operation per window element per output (+1 divide for averages). */
function poolOps(extraPerOutput: number, perWindowElement = 1): (c: CostContext) => Count {
  return (c) => {
    const k = c.node.getInts('kernel_shape');
    if (!k) return unknown('kernel_shape missing');
    return { perOutput: perWindowElement * k.reduce((a, b) => a * b, 1) + extraPerOutput };
  };
}

/** Resize: operations per output element by interpolation mode (nearest 0, linear 2^r·2, cubic 4^r·2). */
const resizeOps = (c: CostContext): Count => {
  const mode = c.node.getString('mode', 'nearest');
  const rank = c.outputShapes[0]?.length;
  if (rank === undefined) return unknown('output rank unknown');
  const r = Math.max(0, rank - 2);
  return { perOutput: mode === 'nearest' ? 0 : mode === 'linear' ? 2 * 2 ** r : 2 * 4 ** r };
};

const ACTIVATION_OPS: Record<string, number> = {
  Relu: 1,
  LeakyRelu: 2,
  PRelu: 2,
  ThresholdedRelu: 1,
  Elu: 3,
  Selu: 4,
  Celu: 3,
  Sigmoid: 4,
  HardSigmoid: 3,
  HardSwish: 4,
  Swish: 5,
  Gelu: 8,
  Tanh: 5,
  Softplus: 3,
  Softsign: 3,
  Mish: 7,
  Clip: 2,
};

const UNARY_MATH_OPS: Record<string, number> = {
  Erf: 1, Exp: 1, Log: 1, Sqrt: 1, Neg: 1, Abs: 1, Reciprocal: 1, Floor: 1, Ceil: 1, Round: 1, Sign: 1,
  Sin: 1, Cos: 1, Tan: 1, Asin: 1, Acos: 1, Atan: 1, Sinh: 1, Cosh: 1, Asinh: 1, Acosh: 1, Atanh: 1,
  Not: 1, IsNaN: 1, IsInf: 1, BitwiseNot: 1, Cast: 1, CastLike: 1, CumSum: 1, Shrink: 2,
  QuantizeLinear: 3, DequantizeLinear: 2,
};

const BINARY_OPS = [
  'Add', 'Sub', 'Mul', 'Div', 'Pow', 'Mod', 'BitShift', 'BitwiseAnd', 'BitwiseOr', 'BitwiseXor',
  'And', 'Or', 'Xor', 'Equal', 'Less', 'Greater', 'LessOrEqual', 'GreaterOrEqual', 'Where',
];

const ALIAS_OPS = ['Reshape', 'Flatten', 'Squeeze', 'Unsqueeze', 'Identity', 'Dropout'];

const MOVEMENT_OPS = [
  'Transpose', 'Concat', 'Split', 'Slice', 'GatherElements', 'GatherND', 'Expand', 'Tile', 'Pad',
  'DepthToSpace', 'SpaceToDepth', 'Trilu', 'ScatterElements', 'ScatterND', 'Scatter', 'ReverseSequence',
  'Constant', 'ConstantOfShape', 'Range', 'NonZero', 'EyeLike', 'OneHot', 'Compress',
];

const NORM_OPS = 8;

export const COST_TABLE: Readonly<Record<string, OpCost>> = opTable<OpCost>({
  Conv: { weights: [1], biases: [2], macs: convMacs(1), ops: biasOps(2), opsNote: '1 per output (bias add, if any)' },
  ConvInteger: { weights: [1], macs: convMacs(1) },
  QLinearConv: { weights: [3], biases: [8], macs: convMacs(3), ops: biasOps(8), opsNote: '1 per output (bias add, if any)' },
  ConvTranspose: { weights: [1], biases: [2], macs: convTransposeMacs, ops: biasOps(2), opsNote: '1 per output (bias add, if any)' },
  Gemm: { weights: [1], biases: [2], macs: gemmMacs, ops: gemmOps, opsNote: '1 per output for the C add, +1 each for alpha/beta ≠ 1' },
  MatMul: { weights: [1], macs: matmulMacs() },
  MatMulInteger: { weights: [1], macs: matmulMacs() },
  QLinearMatMul: { weights: [3], macs: matmulMacs() },
  Einsum: { macs: einsumMacs },
  LSTM: { weights: [1, 2], biases: [3, 7], macs: recurrentMacs(4), ops: perOutput(34), opsNote: '34 per output element (3 sigmoid, 2 tanh, bias adds, cell update)' },
  GRU: { weights: [1, 2], biases: [3], macs: recurrentMacs(3), ops: perOutput(26), opsNote: '26 per output element (2 sigmoid, 1 tanh, bias adds, blend)' },
  RNN: { weights: [1, 2], biases: [3], macs: recurrentMacs(1), ops: perOutput(7), opsNote: '7 per output element (bias adds, tanh)' },
  BatchNormalization: { biases: [1, 2], buffers: [3, 4], inPlace: true, ops: perOutput(2), opsNote: '2 per element (scale and shift)' },
  LayerNormalization: { biases: [1, 2], ops: perOutput(NORM_OPS), opsNote: `${NORM_OPS} per element (mean, variance, normalise, scale, shift)` },
  GroupNormalization: { biases: [1, 2], ops: perOutput(NORM_OPS), opsNote: `${NORM_OPS} per element` },
  InstanceNormalization: { biases: [1, 2], ops: perOutput(NORM_OPS), opsNote: `${NORM_OPS} per element` },
  RMSNormalization: { biases: [1], ops: perOutput(5), opsNote: '5 per element' },
  MeanVarianceNormalization: { ops: perOutput(6), opsNote: '6 per element' },
  LpNormalization: { ops: perOutput(3), opsNote: '3 per element' },
  LRN: { ops: (c) => perOutput(c.node.getInt('size', 1) + 3)(c), opsNote: 'size + 3 per element' },
  Softmax: { ops: perOutput(5), opsNote: '5 per element (max, subtract, exp, sum, divide)' },
  LogSoftmax: { ops: perOutput(5), opsNote: '5 per element' },
  Hardmax: { ops: perOutput(2), opsNote: '2 per element' },
  MaxPool: { ops: poolOps(0), opsNote: 'kernel size per output (comparisons)' },
  AveragePool: { ops: poolOps(1), opsNote: 'kernel size + 1 per output (adds, divide)' },
  LpPool: { ops: poolOps(1, 2), opsNote: '2 × kernel size + 1 per output' },
  GlobalAveragePool: { ops: perInput(1, 1), opsNote: '1 per input element + 1 per output' },
  GlobalMaxPool: { ops: perInput(1), opsNote: '1 per input element' },
  GlobalLpPool: { ops: perInput(2, 1), opsNote: '2 per input element + 1 per output' },
  ReduceSum: { ops: perInput(1), opsNote: '1 per input element' },
  ReduceMean: { ops: perInput(1, 1), opsNote: '1 per input element + 1 per output' },
  ReduceMax: { ops: perInput(1), opsNote: '1 per input element' },
  ReduceMin: { ops: perInput(1), opsNote: '1 per input element' },
  ReduceProd: { ops: perInput(1), opsNote: '1 per input element' },
  ReduceL1: { ops: perInput(2), opsNote: '2 per input element' },
  ReduceL2: { ops: perInput(2, 1), opsNote: '2 per input element + 1 per output' },
  ReduceSumSquare: { ops: perInput(2), opsNote: '2 per input element' },
  ReduceLogSum: { ops: perInput(1, 1), opsNote: '1 per input element + 1 per output' },
  ReduceLogSumExp: { ops: perInput(3, 1), opsNote: '3 per input element + 1 per output' },
  ArgMax: { ops: perInput(1), opsNote: '1 per input element' },
  ArgMin: { ops: perInput(1), opsNote: '1 per input element' },
  TopK: { ops: perInput(1), opsNote: '1 per input element (lower bound)' },
  Resize: { ops: resizeOps, opsNote: 'nearest 0, linear 2·2^r, cubic 2·4^r per output (r spatial axes)' },
  Upsample: { ops: resizeOps, opsNote: 'as Resize' },
  Gather: { weights: [0], opsNote: 'data movement' },
  Sum: { constOperandsLearnable: true, ops: (c) => perOutput(Math.max(0, c.node.inputs.length - 1))(c), opsNote: 'inputs − 1 per output' },
  Mean: { ops: (c) => perOutput(c.node.inputs.length)(c), opsNote: 'inputs per output' },
  Max: { ops: (c) => perOutput(Math.max(0, c.node.inputs.length - 1))(c), opsNote: 'inputs − 1 per output' },
  Min: { ops: (c) => perOutput(Math.max(0, c.node.inputs.length - 1))(c), opsNote: 'inputs − 1 per output' },
  DynamicQuantizeLinear: { ops: perInput(5), opsNote: '5 per element' },
  ...Object.fromEntries(
    Object.entries(ACTIVATION_OPS).map(([op, k]) => [op, { inPlace: true, ops: perOutput(k), opsNote: `${k} per element`, ...(op === 'PRelu' ? { biases: [1] } : {}) } as OpCost]),
  ),
  ...Object.fromEntries(Object.entries(UNARY_MATH_OPS).map(([op, k]) => [op, { ops: perOutput(k), opsNote: `${k} per element` } as OpCost])),
  ...Object.fromEntries(BINARY_OPS.map((op) => [op, { constOperandsLearnable: !['Equal', 'Less', 'Greater', 'LessOrEqual', 'GreaterOrEqual', 'And', 'Or', 'Xor', 'Where'].includes(op), ops: perOutput(1), opsNote: '1 per output element' } as OpCost])),
  ...Object.fromEntries(ALIAS_OPS.map((op) => [op, { alias: true } as OpCost])),
  ...Object.fromEntries(MOVEMENT_OPS.map((op) => [op, { opsNote: 'data movement' } as OpCost])),
  // A learned token concatenated to the sequence (ViT's class token) is a parameter.
  Concat: { constOperandsLearnable: true, opsNote: 'data movement' },
  Shape: { shapeOnly: true, opsNote: 'reads the shape only' },
  Size: { shapeOnly: true, opsNote: 'reads the shape only' },
});

/** The lecture conventions, printed with every analysis output. */
export const CONVENTION =
  'MACs: multiply-accumulates of Conv/ConvTranspose/Gemm/MatMul/Einsum with the lecture formulas ' +
  '(Linear c_o·c_i; Conv c_i·k_h·k_w·h_o·w_o·c_o; grouped /g; depthwise k_h·k_w·h_o·w_o·c_o; × batch). ' +
  'FLOPs = 2·MACs + element-wise operations (per-op counts in the cost table; bias adds count here). ' +
  'Activations: total = graph inputs + every layer output, element-wise activation functions and ' +
  'inference BatchNorm in place and Reshape/Flatten/Squeeze/Unsqueeze/Identity/Dropout as views (not counted); ' +
  'peak = max over layers of input + output activations. Params: learnable = weights + biases + ' +
  'normalisation scale/shift, a shared tensor once; weight params = weights only (bias ignored). ' +
  'Peak memory: live activation bytes over the node order, weights excluded. Latency: roofline ' +
  'max(FLOPs / peak FLOP/s, bytes / bandwidth) per layer, summed; bytes = input + output activations + weights.';
