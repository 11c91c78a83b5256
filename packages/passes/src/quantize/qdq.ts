/**
 * Static int8 quantization in the QDQ format: QuantizeLinear/DequantizeLinear pairs placed the
 * way onnxruntime's `quantize_static` (QDQ format) places them, so that onnxruntime's QDQ
 * selectors (level ≥ extended) fuse each `DQ → op → Q` group into an integer kernel: QLinearConv,
 * QGemm, QLinearMatMul (MatMulIntegerToFloat when the output stays float), QLinearAdd,
 * QLinearMul, QLinearConcat, QLinearGlobalAveragePool, QLinearAveragePool, QLinearSigmoid,
 * QLinearLeakyRelu, QLinearSoftmax, QLinearWhere (its bool condition is not quantized); MaxPool, Resize and
 * data-movement ops (Reshape, Flatten, Transpose, Squeeze, Unsqueeze) run on the 8-bit tensor
 * directly when their input and output share one scale and zero point, so they get the input's.
 *
 * What is inserted (per tensor, once, right after its producer; every consumer reads the DQ):
 *  - activations: `x → QuantizeLinear(x, s, z) → DequantizeLinear(·, s, z)`, per tensor, uint8
 *    asymmetric by default (int8, and symmetric, on request); s, z from the calibrated range
 *    (see params.ts).
 *  - weights (Conv/ConvTranspose W, Gemm B, MatMul constant B): stored as int8, symmetric
 *    (z = 0, range ±127), per output channel on the axis the op's `int8WeightAxis` facet names
 *    (ops/: axis 0 for Conv, 1 for ConvTranspose with group 1, 0 for Gemm with transB = 1 else
 *    1, 1 for a 2-D MatMul B), per tensor where it names none; followed by
 *    `DequantizeLinear(axis)`.
 *  - bias (Conv/ConvTranspose B, Gemm C with beta = 1): int32 with scale_c = s_x · s_w,c and
 *    zero point 0, so the integer kernel adds it to the int32 accumulator unchanged. A channel
 *    whose weights are (near) zero but whose bias is not gets its weight scale raised until the
 *    int32 bias fits (as onnxruntime's quantizer does), instead of a bias saturated at ±2³¹ − 1.
 *  - other constants feeding a quantized op (an Add's bias, a Concat operand, Where's X or Y):
 *    quantized like activations with their own min/max; an op with such a constant holding ±∞
 *    or NaN stays float (no scale holds it), and so does an op reading or writing an activation
 *    whose calibrated range is not finite (a −∞ from masked_fill(-inf) reaching an Add: calibration
 *    reports it as the bound, and computeParams would otherwise give scale 1).
 *  - Relu, and Clip with constant min ≤ 0 ≤ max, that follow a quantized op whose output they
 *    alone read: removed; the op writes the activation's output, quantized with the
 *    activation's calibrated range (clamping at the zero point is the Relu). Only with
 *    asymmetric activations (symmetric ranges cannot clamp at 0).
 *  - an activation whose every reader is constant below some t (Relu, Clip, HardSigmoid,
 *    HardSwish, and hard-swish written as x · Clip(x + 3, 0, 6) / 6) gets the range [t, max]
 *    instead of [calibrated min, max] (asymmetric only): clamping at t is exact, and the levels
 *    go where the values matter (PP-OCRv4's pre-activations reach −96; hard-swish is 0 below −3).
 *  - an op whose `quantize` facet fixes its output (Softmax: [0, 1) at scale 1/256, zero point 0
 *    for uint8 or −128 for int8; 1/128 with 128 or 0 when symmetric — onnxruntime's QDQSoftmax)
 *    gets those parameters whatever its calibrated range: a value it has not seen still fits.
 *  - graph inputs and outputs stay float with their names (a graph output gets the DQ; a Gemm or
 *    MatMul output that is a graph output is left float: the fused kernel can output float).
 *
 * Which ops are quantized, and how (compute or shared-scale, which inputs are weights, which ops
 * make a model worth quantizing), is each op's `quantize` facet (ops/, QuantizeFacet).
 *
 * Preconditions: default-domain opset ≥ 13 (per-axis DequantizeLinear); an opset 10–12 model is
 * moved to 13 when every op in it means the same at 13 (each op's `sameAt13From`), else refused
 * (Clip with min/max attributes, Pad with a pads attribute, Resize-10, Dropout with a ratio
 * attribute, Squeeze/Unsqueeze/ReduceSum with an axes attribute, Split with a split attribute,
 * Softmax, Upsample: onnxruntime rejects or reinterprets them at 13; an op nobody reviewed is
 * refused as such). BatchNormalization should
 * be folded first (a BN left in place stays float between DQ and Q).
 *
 * Known limits: only the main graph is quantized (subgraphs stay float); ConvTranspose weights
 * with group > 1 are quantized per tensor; onnxruntime 1.30 has no QDQ ConvTranspose kernel (it
 * runs in float between its DequantizeLinear and QuantizeLinear: the int8 weights save storage,
 * not time); no 16-bit or 4-bit types.
 */
import { Attribute, DataType, Node, OnnxkitError, Tensor, Value, type Graph, type Model } from '@onnxkit/graph';
import { inferShapes } from '../analysis/shape-inference.js';
import { lookup } from '../common/op-table.js';
import { int8WeightAxis, QUANTIZE_FACET, sameAt13Why } from '../ops/registry.js';
import { computeParams, quantizeValue, type QuantParams, type QuantType, type TensorRange } from './params.js';

export class QuantizeError extends OnnxkitError {
  constructor(message: string, options: { code?: string; hint?: string; cause?: unknown } = {}) {
    super(message, { code: 'QUANTIZE_ERROR', ...options });
  }
}

export interface QdqPlanOptions {
  /** Activation type (default 'uint8', as onnxruntime's default). */
  activationType?: QuantType;
  /** Symmetric activations (default false). */
  symmetricActivations?: boolean;
  /** Per-output-channel weights (default true). */
  perChannel?: boolean;
  /** Node names to keep in float (mixed precision). */
  keepFloat?: ReadonlySet<string> | readonly string[];
  /**
   * Node names left float because calibration measured no float32 values for a tensor they read
   * or write (onnxruntime returned none): reported as such (reason uncalibrated), not as requested.
   */
  uncalibrated?: ReadonlySet<string> | readonly string[];
  /** Op types to quantize (default all of QUANTIZABLE_OPS). */
  opTypes?: readonly string[];
  /**
   * Refuse (QUANTIZE_NOTHING) when no Conv/ConvTranspose/Gemm/MatMul would be quantized (default
   * true). False lets mixed precision and sensitivity analysis quantize an Add or a pool alone.
   */
  requireAnchor?: boolean;
}

export interface QdqOptions extends QdqPlanOptions {
  /** Calibrated range of every tensor the plan lists (`planQdq(...).tensors`). */
  ranges: ReadonlyMap<string, TensorRange> | Readonly<Record<string, TensorRange>>;
}

/**
 * The ops quantized (each op's `quantize` facet, ops/, in registration order): compute ops get
 * their own output scale; shared-scale ops pass 8-bit data through with their input's.
 */
export const COMPUTE_OPS: readonly string[] = Object.freeze(Object.keys(QUANTIZE_FACET).filter((t) => QUANTIZE_FACET[t]!.placement !== 'shared-scale'));
export const SHARED_SCALE_OPS: readonly string[] = Object.freeze(Object.keys(QUANTIZE_FACET).filter((t) => QUANTIZE_FACET[t]!.placement === 'shared-scale'));
export const QUANTIZABLE_OPS: readonly string[] = Object.freeze([...COMPUTE_OPS, ...SHARED_SCALE_OPS]);
/** Ops that are worth quantizing on their own (a model with none of them is refused): `quantize.anchor`. */
const ANCHOR_OPS: ReadonlySet<string> = new Set(Object.keys(QUANTIZE_FACET).filter((t) => QUANTIZE_FACET[t]!.anchor === true));

/**
 * Why the quantizer leaves a node float: a typed code (a misspelt one fails typecheck), with the
 * detail its words need, worded once (`qdqSkipText`). The report carries both: `code` and its
 * detail for programs, `reason` (the words) for people (--explain, --json, the text summary).
 */
export const QDQ_SKIP_CODES = [
  'kept-float',
  'uncalibrated',
  'input-not-float',
  'output-not-float',
  'constant-not-finite',
  'range-not-finite',
  'weight-not-initializer',
  'input-constant',
  'bias-not-initializer',
  'b-not-2d-initializer',
  'a-constant',
  'a-not-activation',
  'c-not-initializer',
  'beta-not-one',
  'c-not-per-column',
  'b-not-float',
  'both-constant',
  'second-not-float',
  'y-not-float',
  'x-and-y-constant',
  'input-of-many-not-float',
  'many-outputs',
  'no-quantized-neighbour',
] as const;
export type QdqSkipCode = (typeof QDQ_SKIP_CODES)[number];

/** The codes whose words need no detail. */
type PlainSkipCode = Exclude<QdqSkipCode, 'constant-not-finite' | 'range-not-finite'>;

/** Why a node stays float: its code, and the input or tensor the words name. */
export type QdqSkipReason =
  | { readonly code: PlainSkipCode }
  /** A constant activation operand (input `input`) holds ±∞ or NaN. */
  | { readonly code: 'constant-not-finite'; readonly input: number }
  /**
   * The calibrated range of `tensor` (the node's input `input`, or its output when absent) is not
   * finite, e.g. a −∞ from masked_fill(-inf) reaching an Add: printed as `range` ("[-Infinity, 3]").
   */
  | { readonly code: 'range-not-finite'; readonly tensor: string; readonly input?: number; readonly range: string };

/** One node left float: its name and op, the typed reason, and the reason in words. */
export type QdqSkip = { readonly node: string; readonly opType: string; readonly reason: string } & QdqSkipReason;

/** The words of the codes without detail (typed over PlainSkipCode: a new code needs its words). */
const SKIP_TEXT: { readonly [K in PlainSkipCode]: string } = Object.freeze({
  'kept-float': 'kept in float (requested)',
  uncalibrated: 'onnxruntime returned no float32 values for a tensor it reads or writes (not calibrated)',
  'input-not-float': 'input is not float32',
  'output-not-float': 'output is not float32',
  'weight-not-initializer': 'weight is not a float32 initializer',
  'input-constant': 'input is a constant',
  'bias-not-initializer': 'bias is not a 1-D float32 initializer',
  'b-not-2d-initializer': 'B is not a 2-D float32 initializer',
  'a-constant': 'A is a constant',
  'a-not-activation': 'A is not a float32 activation',
  'c-not-initializer': 'C is not a float32 initializer',
  'beta-not-one': 'beta ≠ 1 (the int32 bias needs beta = 1)',
  'c-not-per-column': 'C is not a per-column bias',
  'b-not-float': 'B is not float32',
  'both-constant': 'both inputs are constants',
  'second-not-float': 'second input is not float32',
  'y-not-float': 'Y is not float32',
  'x-and-y-constant': 'X and Y are constants',
  'input-of-many-not-float': 'an input is not float32',
  'many-outputs': 'more than one output',
  'no-quantized-neighbour': 'no quantized neighbour',
});

/** The words of a skip reason (as the report's `reason` carries them). */
export function qdqSkipText(r: QdqSkipReason): string {
  switch (r.code) {
    case 'constant-not-finite':
      return `input ${r.input} is a constant with ±∞ or NaN (no 8-bit level holds it)`;
    case 'range-not-finite':
      return `the calibrated range of ${r.input === undefined ? 'its output' : `input ${r.input}`} '${r.tensor}' is ${r.range}: ±∞ or NaN reached it (e.g. masked_fill(-inf)), and no 8-bit scale holds it`;
    default:
      return SKIP_TEXT[r.code];
  }
}

/** The report entry of `n` left float for `r`. */
export function qdqSkip(n: Node, r: QdqSkipReason, label = n.name): QdqSkip {
  return { node: label, opType: n.opType, reason: qdqSkipText(r), ...r };
}

/** A node the plan quantizes. */
export interface PlannedNode {
  node: Node;
  /** Input indices quantized as activations (a constant here is quantized with its own range). */
  activationInputs: number[];
  /** Weight input index and its channel axis (−1 = per tensor). */
  weight?: { index: number; axis: number };
  /** Bias input index (int32). */
  bias?: number;
  /** The output tensor's name after activation removal, or null when the output stays float. */
  output: string | null;
  /** Output shares the params of input 0 (pooling, Resize, data movement). */
  sharesInput: boolean;
  /** The Relu/Clip folded into the output. */
  fusedActivation?: Node;
}

export interface QdqPlan {
  nodes: PlannedNode[];
  /** Names of the tensors whose calibrated range is needed (fp32-model names). */
  tensors: string[];
  skipped: QdqSkip[];
  opset: { from: number; to: number };
}

export interface QuantizedLayer {
  node: string;
  opType: string;
  /** Output name shared with the fp32 model (for a fused Relu/Clip, its output). */
  output: string | null;
  /** The value consumers read in the quantized model (the DQ output), or null if float. */
  quantizedOutput: string | null;
  fusedActivation?: string;
  weightAxis?: number;
  /** The output's range starts here, not at its calibrated min: every reader is constant below. */
  flatBelow?: number;
}

export interface QdqReport {
  layers: QuantizedLayer[];
  skipped: QdqSkip[];
  /** Activation tensors given a Q/DQ pair. */
  quantizedTensors: number;
  /** Removed Relu/Clip nodes. */
  fusedActivations: string[];
  weightBytesBefore: number;
  weightBytesAfter: number;
  opset: { from: number; to: number };
  params: Map<string, QuantParams>;
}

/** Checks the opset and returns the version to use (13 when raised). */
function opsetPlan(model: Model): { from: number; to: number } {
  const from = model.opsetVersion('') ?? 1;
  if (from >= 13) return { from, to: from };
  if (from < 10) {
    throw new QuantizeError(`the model imports opset ${from}; QDQ quantization needs opset ≥ 13 (QuantizeLinear/DequantizeLinear appear at 10, per-channel axes at 13)`, {
      code: 'QUANTIZE_OPSET',
      hint: 'convert the model to opset 13 or later (e.g. onnx.version_converter) and retry',
    });
  }
  // Each op's `sameAt13From` (ops/): whether its definition at `from` means what it means at 13, and if not, why.
  const bad = new Map<string, string>();
  for (const g of model.graphs()) {
    for (const n of g) {
      if (!n.isOnnxDomain || bad.has(n.opType)) continue;
      const why = sameAt13Why(n, from);
      if (why !== undefined) bad.set(n.opType, why);
    }
  }
  if (bad.size > 0) {
    const list = [...bad].sort(([a], [b]) => (a < b ? -1 : 1)).map(([t, why]) => `${t} (${why})`);
    throw new QuantizeError(`the model imports opset ${from} and per-channel quantization needs opset 13, but not every op of it is known to mean the same at 13: ${list.join(', ')}; so the opset cannot simply be raised`, {
      code: 'QUANTIZE_OPSET',
      hint: 'convert the model to opset 13 or later (e.g. onnx.version_converter) and retry',
    });
  }
  return { from, to: 13 };
}

/** float32, or of unknown type (neither declared nor inferred: taken as float). */
type FloatCheck = (v: Value | null) => v is Value;

function floatCheck(inferredType: (v: Value) => DataType | undefined): FloatCheck {
  return (v: Value | null): v is Value => {
    if (v === null) return false;
    const t = v.constValue?.dtype ?? v.dtype ?? inferredType(v);
    return t === undefined || t === DataType.FLOAT;
  };
}

function isConstant(v: Value): boolean {
  return v.constValue !== null && v.isInitializer && !v.isGraphInput;
}

/**
 * Every element of a float32 constant is finite. A constant activation operand is quantized with
 * its own min/max (see the header): an infinity (a `masked_fill(-inf)` exported as
 * Where(mask, -inf, x)) would give no usable scale and come back as the zero point, 0.
 */
function allFinite(t: Tensor): boolean {
  if (t.dtype !== DataType.FLOAT) return true;
  const d = t.toArray() as Float32Array;
  for (let i = 0; i < d.length; i++) if (!Number.isFinite(d[i]!)) return false;
  return true;
}

/** The tensor held by an initializer or a Constant node's `value`. */
function constantTensor(v: Value): Tensor | undefined {
  const p = v.producer;
  return isConstant(v) ? v.constValue! : p?.opType === 'Constant' && p.isOnnxDomain ? p.getTensor('value') : undefined;
}

/** A float scalar held by an initializer or a Constant node's `value`. */
function constantScalar(v: Value | null): number | undefined {
  if (v === null) return undefined;
  const t = constantTensor(v);
  if (t === undefined) return undefined;
  if (t.size !== 1 || t.dtype !== DataType.FLOAT) return undefined;
  return Number(t.toArray()[0]);
}

/** Relu/Clip that can be removed after `producer` (see the header), or undefined. */
function fusableActivation(producer: Node, symmetric: boolean): Node | undefined {
  if (symmetric || producer.outputs.length !== 1) return undefined;
  const p = producer.outputs[0]!;
  if (p.isGraphOutput || p.uses.length !== 1) return undefined;
  const a = p.uses[0]!.node;
  if (!a.isOnnxDomain || a.graph !== producer.graph || a.outputs.length !== 1 || a.outputs[0]!.isGraphOutput) return undefined;
  if (a.opType === 'Relu') return a;
  if (a.opType === 'Clip') {
    const lo = a.inputs.length > 1 ? constantScalar(a.inputs[1] ?? null) : (a.getFloat('min') ?? -Infinity);
    const hi = a.inputs.length > 2 ? constantScalar(a.inputs[2] ?? null) : (a.getFloat('max') ?? Infinity);
    const loV = a.inputs.length > 1 && a.inputs[1] === null ? -Infinity : lo;
    const hiV = a.inputs.length > 2 && a.inputs[2] === null ? Infinity : hi;
    if (loV !== undefined && hiV !== undefined && loV <= 0 && hiV >= 0) return a;
  }
  return undefined;
}

/** The lower bound of a Clip (−∞ when absent, undefined when not a constant). */
function clipMin(a: Node): number | undefined {
  if (a.inputs.length > 1) return a.inputs[1] === null ? -Infinity : constantScalar(a.inputs[1] ?? null);
  return a.getFloat('min') ?? -Infinity;
}

/**
 * The largest t such that every reader of `v` gives the same result for any x ≤ t as for t, or
 * undefined. Readers recognised: Relu (0), Clip (its min), HardSigmoid (−β/α), HardSwish (−3), and
 * hard-swish as exporters without HardSwish write it, x · Clip(x + c, 0, ·) (/ 6): the
 * `Add(x, c) → Clip(lo, ·)` reader gives lo − c, the `Mul(x, that Clip)` reader −c. A graph output
 * has no such bound.
 */
function flatBelow(v: Value): number | undefined {
  if (v.isGraphOutput || v.uses.length === 0) return undefined;
  let t = Infinity;
  for (const { node: u, index } of v.uses) {
    if (!u.isOnnxDomain) return undefined;
    let tu: number | undefined;
    if (u.opType === 'Relu') tu = 0;
    else if (u.opType === 'HardSwish') tu = -3;
    else if (u.opType === 'HardSigmoid') {
      const alpha = u.getFloat('alpha', 0.2);
      tu = alpha > 0 ? -u.getFloat('beta', 0.5) / alpha : undefined;
    } else if (u.opType === 'Clip' && index === 0) tu = clipMin(u);
    else if (u.opType === 'Add') tu = addClipBound(u, index);
    else if (u.opType === 'Mul' && u.inputs.length === 2) {
      // x · Clip(x + c, 0, ·): 0 for x ≤ −c.
      const other = u.inputs[1 - index] ?? null;
      const clip = other?.producer;
      if (clip?.opType === 'Clip' && clip.isOnnxDomain && clipMin(clip) === 0) {
        const add = clip.inputs[0]?.producer;
        if (add?.opType === 'Add' && add.isOnnxDomain && add.inputs.includes(v)) tu = addClipBound(add, add.inputs.indexOf(v));
      }
    }
    if (tu === undefined || !Number.isFinite(tu)) return undefined;
    t = Math.min(t, tu);
  }
  return Number.isFinite(t) ? t : undefined;
}

/** `Add(x, c)` (x at `index`, c a constant scalar) read only by `Clip(lo, ·)`: lo − c. */
function addClipBound(add: Node, index: number): number | undefined {
  if (add.inputs.length !== 2 || add.outputs.length !== 1) return undefined;
  const c = constantScalar(add.inputs[1 - index] ?? null);
  const out = add.outputs[0]!;
  if (c === undefined || out.isGraphOutput || out.uses.length !== 1) return undefined;
  const clip = out.uses[0]!.node;
  if (clip.opType !== 'Clip' || !clip.isOnnxDomain || out.uses[0]!.index !== 0) return undefined;
  const lo = clipMin(clip);
  return lo === undefined ? undefined : lo - c;
}

/**
 * The channel axis of the weight `w` read at input 1 of `n`: its op's `int8WeightAxis` facet
 * (ops/), −1 (per tensor) when the op declares none for it or per-channel is off.
 */
function weightAxis(n: Node, w: Value, perChannel: boolean): number {
  return perChannel ? (int8WeightAxis(n, 1, w.constValue!.dims.length) ?? -1) : -1;
}

/** Why `n` is not quantized, or its plan. */
function planNode(n: Node, o: Required<Pick<QdqPlanOptions, 'perChannel' | 'symmetricActivations'>>, isFloat: FloatCheck): PlannedNode | QdqSkipReason {
  const ins = n.inputs;
  // An op type the caller asked for (opTypes) that declares no placement passes 8-bit data through.
  const facet = lookup(QUANTIZE_FACET, n.opType);
  const placement = facet?.placement ?? 'shared-scale';
  // The first data input: input 0, but X at 1 for a select (Where's bool condition stays as it is).
  const x = ins[placement === 'select' ? 1 : 0] ?? null;
  if (!isFloat(x)) return { code: 'input-not-float' };
  const out = n.outputs[0];
  if (out === undefined || !isFloat(out)) return { code: 'output-not-float' };
  const withOutput = (p: Omit<PlannedNode, 'output' | 'sharesInput'>, keepFloatIfGraphOutput: boolean): PlannedNode | QdqSkipReason => {
    for (const i of p.activationInputs) {
      const v = ins[i];
      const t = v ? constantTensor(v) : undefined;
      if (t !== undefined && !allFinite(t)) return { code: 'constant-not-finite', input: i };
    }
    const act = fusableActivation(n, o.symmetricActivations);
    const tensor = act ? act.outputs[0]! : out;
    const float = keepFloatIfGraphOutput && tensor.isGraphOutput;
    return { ...p, output: float ? null : tensor.name, sharesInput: false, fusedActivation: act };
  };
  switch (placement) {
    case 'conv': {
      const w = ins[1];
      if (!w || !isConstant(w) || w.constValue!.dtype !== DataType.FLOAT || w.constValue!.dims.length < 3) return { code: 'weight-not-initializer' };
      if (isConstant(x)) return { code: 'input-constant' };
      const b = ins[2] ?? null;
      if (b !== null && (!isConstant(b) || b.constValue!.dtype !== DataType.FLOAT || b.constValue!.dims.length !== 1)) return { code: 'bias-not-initializer' };
      const axis = weightAxis(n, w, o.perChannel);
      return withOutput({ node: n, activationInputs: [0], weight: { index: 1, axis }, bias: b === null ? undefined : 2 }, false);
    }
    case 'gemm': {
      const w = ins[1];
      if (!w || !isConstant(w) || w.constValue!.dtype !== DataType.FLOAT || w.constValue!.dims.length !== 2) return { code: 'b-not-2d-initializer' };
      if (isConstant(x)) return { code: 'a-constant' };
      const c = ins[2] ?? null;
      if (c !== null) {
        if (!isConstant(c) || c.constValue!.dtype !== DataType.FLOAT) return { code: 'c-not-initializer' };
        if (n.getFloat('beta', 1) !== 1) return { code: 'beta-not-one' };
        const N = w.constValue!.dims[n.getInt('transB', 0) ? 0 : 1]!;
        const cd = c.constValue!.dims;
        if (!(cd.length === 1 && (cd[0] === N || cd[0] === 1)) && !(cd.length === 2 && cd[0] === 1 && cd[1] === N)) return { code: 'c-not-per-column' };
      }
      const axis = weightAxis(n, w, o.perChannel);
      return withOutput({ node: n, activationInputs: [0], weight: { index: 1, axis }, bias: c === null ? undefined : 2 }, true);
    }
    case 'matmul': {
      const b = ins[1] ?? null;
      if (!isFloat(b)) return { code: 'b-not-float' };
      if (isConstant(x) && isConstant(b)) return { code: 'both-constant' };
      if (isConstant(b)) {
        const axis = weightAxis(n, b, o.perChannel);
        return withOutput({ node: n, activationInputs: [0], weight: { index: 1, axis } }, true);
      }
      return withOutput({ node: n, activationInputs: [0, 1] }, true);
    }
    case 'binary': {
      const b = ins[1] ?? null;
      if (!isFloat(b)) return { code: 'second-not-float' };
      if (isConstant(x) && isConstant(b)) return { code: 'both-constant' };
      return withOutput({ node: n, activationInputs: [0, 1] }, false);
    }
    case 'select': {
      // Where(condition, X, Y): X and Y quantized, the condition read as it is (ORT's QLinearWhere).
      const y = ins[2] ?? null;
      if (!isFloat(y)) return { code: 'y-not-float' };
      if (isConstant(x) && isConstant(y)) return { code: 'x-and-y-constant' };
      return withOutput({ node: n, activationInputs: [1, 2] }, false);
    }
    case 'variadic': {
      if (!ins.every((v) => isFloat(v))) return { code: 'input-of-many-not-float' };
      return withOutput({ node: n, activationInputs: ins.map((_, i) => i) }, false);
    }
    case 'unary':
      if (isConstant(x)) return { code: 'input-constant' };
      // An op whose output range is fixed (Softmax at 1/256, as onnxruntime's quantizer fixes it)
      // keeps a graph output float: a model's probabilities below 1/512 would all read 0 (a
      // 1000-class head), which the integer kernel inside the graph is worth, a model output not.
      return withOutput({ node: n, activationInputs: [0] }, facet?.fixedOutput !== undefined);
    case 'shared-scale': {
      if (n.outputs.length !== 1) return { code: 'many-outputs' };
      if (isConstant(x)) return { code: 'input-constant' };
      return { node: n, activationInputs: [0], output: out.name, sharesInput: true };
    }
  }
}

/**
 * What would be quantized and which tensors need a calibrated range; pure (the model is not
 * changed). The tensor names are those of the fp32 model, so calibration can expose them.
 * Given the calibrated `ranges` (as quantizeQdq plans), a node reading or writing a tensor whose
 * range is not finite (±∞ reached it, e.g. masked_fill(-inf)) stays float [range-not-finite], as
 * one whose constant operand holds ±∞ or NaN does [constant-not-finite]: no scale holds it, and
 * computeParams would give scale 1 silently.
 */
export function planQdq(model: Model, options: QdqPlanOptions & Partial<Pick<QdqOptions, 'ranges'>> = {}): QdqPlan {
  const opset = opsetPlan(model);
  for (const n of model.graph) {
    if (n.opType === 'QuantizeLinear' && n.isOnnxDomain) {
      throw new QuantizeError(`the model is already quantized (QuantizeLinear '${n.name}')`, { code: 'QUANTIZE_ALREADY', hint: 'quantize the float32 model' });
    }
  }
  const keep = new Set(options.keepFloat ?? []);
  keep.delete('');
  const uncalibrated = new Set(options.uncalibrated ?? []);
  uncalibrated.delete('');
  const types = new Set(options.opTypes ?? QUANTIZABLE_OPS);
  // Undeclared intermediate types (e.g. int64 shape arithmetic feeding a Concat) from inference.
  let inferredType: (v: Value) => DataType | undefined = () => undefined;
  try {
    const inference = inferShapes(model);
    inferredType = (v) => {
      const t = inference.typeOf(v);
      return t?.kind === 'tensor' && t.elemType !== DataType.UNDEFINED ? t.elemType : undefined;
    };
  } catch {
    // Inference is a refinement here: without it, undeclared types are taken as float.
  }
  return planNodes(model, keep, uncalibrated, types, options, opset, floatCheck(inferredType));
}

/** A range as the range-not-finite reason prints it: "[-Infinity, 1.559]" (4 significant digits). */
function rangeText(r: TensorRange): string {
  const f = (x: number): string => (Number.isFinite(x) ? String(Number(x.toPrecision(4))) : String(x));
  return `[${f(r.min)}, ${f(r.max)}]`;
}

/** Why `p` may not quantize the tensors it reads or writes: a calibrated range that is not finite. */
function nonFiniteRange(p: PlannedNode, ranges: QdqOptions['ranges']): QdqSkipReason | undefined {
  const ins = p.node.inputs;
  for (const i of p.activationInputs) {
    const v = ins[i]!;
    if (isConstant(v)) continue;
    const r = rangeOf(ranges, v.name);
    if (notFinite(r)) return { code: 'range-not-finite', tensor: v.name, input: i, range: rangeText(r) };
  }
  if (p.output === null || p.sharesInput) return undefined;
  const r = rangeOf(ranges, p.output);
  return notFinite(r) ? { code: 'range-not-finite', tensor: p.output, range: rangeText(r) } : undefined;
}

/** A calibrated range with a bound that is ±∞ or NaN. */
function notFinite(r: TensorRange | undefined): r is TensorRange {
  return r !== undefined && !(Number.isFinite(r.min) && Number.isFinite(r.max));
}

function planNodes(model: Model, keep: ReadonlySet<string>, uncalibrated: ReadonlySet<string>, types: ReadonlySet<string>, options: QdqPlanOptions & Partial<Pick<QdqOptions, 'ranges'>>, opset: { from: number; to: number }, isFloat: FloatCheck): QdqPlan {
  const o = { perChannel: options.perChannel ?? true, symmetricActivations: options.symmetricActivations ?? false };
  const nodes: PlannedNode[] = [];
  const skipped: QdqPlan['skipped'] = [];
  const planned = new Set<Node>();
  for (const n of model.graph) {
    if (!n.isOnnxDomain || !types.has(n.opType)) continue;
    if (uncalibrated.has(n.name) || keep.has(n.name)) {
      skipped.push(qdqSkip(n, { code: uncalibrated.has(n.name) ? 'uncalibrated' : 'kept-float' }));
      continue;
    }
    const p = planNode(n, o, isFloat);
    if ('code' in p) {
      skipped.push(qdqSkip(n, p));
      continue;
    }
    const infinite = options.ranges !== undefined ? nonFiniteRange(p, options.ranges) : undefined;
    if (infinite !== undefined) {
      skipped.push(qdqSkip(n, infinite));
      continue;
    }
    nodes.push(p);
    planned.add(n);
  }
  // A shared-scale op (pooling, data movement) is worth quantizing only next to a compute op:
  // drop those whose input is not read by, or produced by, a quantized compute op.
  const computeTouched = new Set<Value>();
  for (const p of nodes) {
    if (p.sharesInput) continue;
    for (const i of p.activationInputs) computeTouched.add(p.node.inputs[i]!);
    if (p.output !== null) computeTouched.add((p.fusedActivation ?? p.node).outputs[0]!);
  }
  const kept: PlannedNode[] = [];
  for (const p of nodes) {
    if (p.sharesInput && !computeTouched.has(p.node.inputs[0]!) && !p.node.outputs[0]!.uses.some((u) => planned.has(u.node))) {
      skipped.push(qdqSkip(p.node, { code: 'no-quantized-neighbour' }));
      planned.delete(p.node);
      continue;
    }
    kept.push(p);
  }
  if ((options.requireAnchor ?? true) && !kept.some((p) => ANCHOR_OPS.has(p.node.opType))) {
    throw new QuantizeError(`nothing to quantize: the model has no Conv, ConvTranspose, Gemm or MatMul that can be quantized${skipped.length ? ` (${skipped.slice(0, 3).map((s) => `${s.opType} '${s.node}': ${s.reason}`).join('; ')})` : ''}`, {
      code: 'QUANTIZE_NOTHING',
      hint: 'static int8 quantization pays off on Conv/Gemm/MatMul models with float32 weights',
    });
  }
  const tensors = new Set<string>();
  for (const p of kept) {
    for (const i of p.activationInputs) {
      const v = p.node.inputs[i]!;
      if (!isConstant(v)) tensors.add(v.name);
    }
    if (p.output !== null && !p.sharesInput) tensors.add(p.output);
  }
  return { nodes: kept, tensors: [...tensors], skipped, opset };
}

function rangeOf(ranges: QdqOptions['ranges'], name: string): TensorRange | undefined {
  return ranges instanceof Map ? ranges.get(name) : (ranges as Readonly<Record<string, TensorRange>>)[name];
}

function qDataType(t: QuantType): DataType {
  return t === 'uint8' ? DataType.UINT8 : DataType.INT8;
}

function zpTensor(p: QuantParams): Tensor {
  return p.type === 'uint8' ? Tensor.fromArray(DataType.UINT8, [], new Uint8Array([p.zeroPoint])) : Tensor.fromArray(DataType.INT8, [], new Int8Array([p.zeroPoint]));
}

/**
 * Per-channel symmetric int8 of a float32 weight along `axis` (−1 = per tensor). `minScales`
 * (one per channel, or one for per tensor) raises a channel's scale to at least that value (see
 * `biasScaleFloor`).
 */
export function quantizeWeight(t: Tensor, axis: number, minScales?: Float64Array): { q: Int8Array; scales: Float32Array } {
  const W = t.toArray() as Float32Array;
  const dims = t.dims;
  const C = axis < 0 ? 1 : dims[axis]!;
  const outer = axis < 0 ? 1 : dims.slice(0, axis).reduce((a, d) => a * d, 1);
  const inner = axis < 0 ? W.length : dims.slice(axis + 1).reduce((a, d) => a * d, 1);
  const maxAbs = new Float64Array(C);
  for (let o = 0; o < outer; o++) {
    for (let c = 0; c < C; c++) {
      const base = (o * C + c) * inner;
      let m = maxAbs[c]!;
      for (let k = 0; k < inner; k++) {
        const a = Math.abs(W[base + k]!);
        if (a > m) m = a;
      }
      maxAbs[c] = m;
    }
  }
  const scales = new Float32Array(C);
  for (let c = 0; c < C; c++) {
    scales[c] = maxAbs[c]! > 0 && Number.isFinite(maxAbs[c]!) ? maxAbs[c]! / 127 : 1;
    const floor = minScales?.[c];
    if (floor !== undefined && scales[c]! < floor) scales[c] = Math.fround(floor);
  }
  const q = new Int8Array(W.length);
  for (let o = 0; o < outer; o++) {
    for (let c = 0; c < C; c++) {
      const s = scales[c]!;
      const base = (o * C + c) * inner;
      for (let k = 0; k < inner; k++) q[base + k] = Math.max(-127, Math.min(127, Math.round(W[base + k]! / s)));
    }
  }
  return { q, scales };
}

const INT32_MAX = 2147483647;

/**
 * The smallest weight scale per channel (one value for per tensor, `axis` −1) for which the int32
 * bias b / (s_x · s_w) stays in range, as onnxruntime's quantizer adjusts it
 * (`_adjust_weight_scale_for_int32_bias`): s_w ≥ 1.0001 · 2·|b| / (2³² − 2) / s_x. A channel whose
 * weights are (near) zero but whose bias is not (a dead channel after BatchNorm folding) would
 * otherwise get s_w = max|w|/127 ≈ 1e-30, its bias would saturate at ±2³¹ − 1 and the channel
 * would output ≈ 0 instead of b. Undefined when no channel needs it.
 */
function biasScaleFloor(bias: Tensor, sx: number, channels: number): Float64Array | undefined {
  const b = bias.toArray() as Float32Array;
  const need = (x: number): number => (1.0001 * 2 * Math.abs(x)) / (2 * INT32_MAX) / sx;
  let floors: Float64Array | undefined;
  if (channels <= 1) {
    let m = 0;
    for (const x of b) m = Math.max(m, need(x));
    floors = new Float64Array([m]);
  } else if (b.length === channels || b.length === 1) {
    floors = new Float64Array(channels);
    for (let c = 0; c < channels; c++) floors[c] = need(b[b.length === 1 ? 0 : c]!);
  } else return undefined;
  return floors.some((f) => f > 0) ? floors : undefined;
}

/** Names in use anywhere in the model, for fresh names. */
function namer(model: Model): (base: string) => string {
  const names = new Set<string>();
  for (const g of model.graphs()) {
    for (const v of g.inputs) names.add(v.name);
    for (const v of g.initializers.values()) names.add(v.name);
    for (const n of g) {
      if (n.name) names.add(n.name);
      for (const v of n.outputs) names.add(v.name);
    }
  }
  return (base: string) => {
    let name = base;
    let k = 0;
    while (names.has(name)) name = `${base}_${++k}`;
    names.add(name);
    return name;
  };
}

/**
 * Quantizes `model` in place (see the module header). Every tensor in `planQdq(model).tensors`
 * needs a range in `options.ranges`.
 */
export function quantizeQdq(model: Model, options: QdqOptions): QdqReport {
  const plan = planQdq(model, options);
  const type = options.activationType ?? 'uint8';
  const symmetric = options.symmetricActivations ?? false;
  const g: Graph = model.graph;
  const fresh = namer(model);
  const missing = plan.tensors.filter((t) => rangeOf(options.ranges, t) === undefined);
  if (missing.length > 0) {
    throw new QuantizeError(`no calibrated range for ${missing.length} tensor(s): ${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ', …' : ''}`, {
      code: 'QUANTIZE_RANGES',
      hint: 'calibrate every tensor listed by planQdq(model).tensors',
    });
  }
  if (plan.opset.to !== plan.opset.from) {
    model.opsetImports.delete('ai.onnx');
    model.opsetImports.set('', plan.opset.to);
    if (model.irVersion < 7) model.irVersion = 7;
  }

  // Lower bounds below which every reader is constant (see step 2), on the fp32 graph.
  const floors = new Map<string, number>();
  if (!symmetric) {
    const wanted = new Set(plan.tensors);
    for (const n of g) {
      for (const v of n.outputs) {
        if (!wanted.has(v.name)) continue;
        const t = flatBelow(v);
        if (t !== undefined) floors.set(v.name, t);
      }
    }
  }

  // 1. Remove the fused activations: the producer writes the activation's output.
  const fused: string[] = [];
  for (const p of plan.nodes) {
    const a = p.fusedActivation;
    if (!a) continue;
    const produced = p.node.outputs[0]!;
    const r = a.outputs[0]!;
    const name = r.name;
    r.replaceAllUsesWith(produced);
    g.remove(a, { safe: true });
    produced.name = name;
    if (r.type !== null) produced.type = r.type;
    fused.push(a.name || `${a.opType}#unnamed`);
  }

  // 2. Parameters of every quantized tensor, by value. A tensor whose every reader is constant
  // below some t (hard-swish, hard-sigmoid, Relu, Clip) needs no range below t: clamping there
  // is exact and leaves the levels to the values that matter.
  // (The bounds were found before step 1 changed the readers.)
  const params = new Map<string, QuantParams>();
  for (const name of plan.tensors) {
    const r = rangeOf(options.ranges, name)!;
    const t = floors.get(name);
    const clamp = t !== undefined && t > r.min && t < r.max;
    if (!clamp) floors.delete(name);
    params.set(name, computeParams(clamp ? { min: t, max: r.max } : r, type, symmetric));
  }
  // An op that fixes its output's params (Softmax: [0, 1]) gets them, not the calibrated range's.
  for (const p of plan.nodes) {
    const fixed = p.output === null ? undefined : lookup(QUANTIZE_FACET, p.node.opType)?.fixedOutput;
    if (fixed === undefined) continue;
    const f = symmetric ? fixed.symmetric : fixed.asymmetric;
    params.set(p.output!, { type, scale: Math.fround(f.scale), zeroPoint: type === 'uint8' ? f.uint8ZeroPoint : f.int8ZeroPoint });
  }
  // Shared-scale outputs take their input's params, in graph order (chains resolve forward).
  for (const p of plan.nodes) {
    if (!p.sharesInput) continue;
    const src = params.get(p.node.inputs[0]!.name);
    if (src) params.set(p.output!, src);
  }

  // 3. One Q/DQ pair per quantized activation tensor.
  const dqOf = new Map<Value, Value>();
  const dqParams = new Map<Value, QuantParams>();
  const scaleInit = (base: string, scale: number): Value => g.addInitializer(new Value({ name: fresh(`${base}_scale`), constValue: Tensor.fromArray(DataType.FLOAT, [], new Float32Array([scale])) }));
  const zpInit = (base: string, p: QuantParams): Value => g.addInitializer(new Value({ name: fresh(`${base}_zero_point`), constValue: zpTensor(p) }));
  const insertPair = (v: Value, p: QuantParams): Value => {
    const existing = dqOf.get(v);
    if (existing) return existing;
    const base = v.name;
    const s = scaleInit(base, p.scale);
    const z = zpInit(base, p);
    const q = new Node('QuantizeLinear', [v, s, z], { name: fresh(`${base}_QuantizeLinear`), outputs: [fresh(`${base}_quantized`)] });
    const dq = new Node('DequantizeLinear', [q.outputs[0]!, s, z], { name: fresh(`${base}_DequantizeLinear`), outputs: [fresh(`${base}_dequantized`)] });
    q.outputs[0]!.type = { kind: 'tensor', elemType: qDataType(p.type), shape: v.shape };
    dq.outputs[0]!.type = v.type;
    const producer = v.producer;
    if (producer !== null && producer.graph === g) g.insertAfter(producer, q, dq);
    else g.prepend(q, dq);
    const out = dq.outputs[0]!;
    for (const u of [...v.uses]) if (u.node !== q) u.node.setInput(u.index, out);
    if (v.isGraphOutput) {
      // Keep the graph output's name and float type on the DQ; the producer's value is renamed
      // so that it feeds only the Q (what the fusion needs).
      const name = v.name;
      v.name = fresh(`${name}_QuantizeInput`);
      out.name = name;
      g.outputs.forEach((o, i) => {
        if (o === v) g.setOutput(i, out);
      });
    }
    dqOf.set(v, out);
    dqParams.set(out, p);
    return out;
  };
  /** A constant operand quantized with its own min/max (activation type), via a DQ. */
  const constantOperand = (v: Value): Value => {
    const existing = dqOf.get(v);
    if (existing) return existing;
    const data = v.constValue!.toArray() as Float32Array;
    let lo = Infinity;
    let hi = -Infinity;
    for (const x of data) {
      if (x < lo) lo = x;
      if (x > hi) hi = x;
    }
    const p = computeParams({ min: lo, max: hi }, type, symmetric);
    const qd = p.type === 'uint8' ? new Uint8Array(data.length) : new Int8Array(data.length);
    for (let i = 0; i < data.length; i++) qd[i] = quantizeValue(data[i]!, p);
    const qv = g.addInitializer(new Value({ name: fresh(`${v.name}_quantized`), constValue: Tensor.fromArray(qDataType(p.type), v.constValue!.dims, qd) }));
    const dq = new Node('DequantizeLinear', [qv, scaleInit(v.name, p.scale), zpInit(v.name, p)], { name: fresh(`${v.name}_DequantizeLinear`), outputs: [fresh(`${v.name}_dequantized`)] });
    dq.outputs[0]!.type = v.type;
    g.prepend(dq);
    dqOf.set(v, dq.outputs[0]!);
    return dq.outputs[0]!;
  };

  let weightBytesBefore = 0;
  let weightBytesAfter = 0;
  const weightCache = new Map<string, { dq: Value; scales: Float32Array }>();
  const layers: QuantizedLayer[] = [];
  const replaced = new Set<Value>();
  let quantizedTensors = 0;

  for (const p of plan.nodes) {
    const n = p.node;
    // Inputs.
    let xParams: QuantParams | undefined;
    for (const i of p.activationInputs) {
      const v = n.inputs[i]!;
      if (isConstant(v)) {
        replaced.add(v);
        n.setInput(i, constantOperand(v));
        continue;
      }
      const already = dqParams.get(v);
      if (already) {
        if (i === 0) xParams = already;
        continue;
      }
      const prm = params.get(v.name);
      if (!prm) continue;
      if (i === 0) xParams = prm;
      if (!dqOf.has(v)) quantizedTensors++;
      n.setInput(i, insertPair(v, prm));
    }
    // Weight.
    let wScales: Float32Array | undefined;
    if (p.weight) {
      const w = n.inputs[p.weight.index]!;
      const t = w.constValue!;
      // The int32 bias needs s_x · s_w large enough (see biasScaleFloor).
      const b = p.bias !== undefined && xParams ? n.inputs[p.bias]! : undefined;
      const floors = b ? biasScaleFloor(b.constValue!, xParams!.scale, p.weight.axis < 0 ? 1 : t.dims[p.weight.axis]!) : undefined;
      const key = `${w.name}\u0000${p.weight.axis}${floors ? `\u0000${b!.name}\u0000${xParams!.scale}` : ''}`;
      let cached = weightCache.get(key);
      if (!cached) {
        const { q, scales } = quantizeWeight(t, p.weight.axis, floors);
        const per = p.weight.axis >= 0;
        const qv = g.addInitializer(new Value({ name: fresh(`${w.name}_quantized`), constValue: Tensor.fromArray(DataType.INT8, t.dims, q) }));
        const sv = g.addInitializer(new Value({ name: fresh(`${w.name}_scale`), constValue: Tensor.fromArray(DataType.FLOAT, per ? [scales.length] : [], scales) }));
        const zv = g.addInitializer(new Value({ name: fresh(`${w.name}_zero_point`), constValue: Tensor.fromArray(DataType.INT8, per ? [scales.length] : [], new Int8Array(scales.length)) }));
        const dq = new Node('DequantizeLinear', [qv, sv, zv], {
          name: fresh(`${w.name}_DequantizeLinear`),
          outputs: [fresh(`${w.name}_dequantized`)],
          attributes: per ? [Attribute.int('axis', p.weight.axis)] : [],
        });
        dq.outputs[0]!.type = w.type;
        g.prepend(dq);
        weightBytesBefore += t.byteLength;
        weightBytesAfter += q.byteLength + scales.byteLength * 2;
        cached = { dq: dq.outputs[0]!, scales };
        weightCache.set(key, cached);
      }
      wScales = cached.scales;
      replaced.add(w);
      n.setInput(p.weight.index, cached.dq);
    }
    // Bias: int32, scale = s_x · s_w (per channel).
    if (p.bias !== undefined && wScales) {
      const b = n.inputs[p.bias]!;
      const xp = xParams;
      if (xp) {
        replaced.add(b);
        const bt = b.constValue!;
        const data = bt.toArray() as Float32Array;
        const C = data.length;
        const scales = new Float32Array(C);
        const q = new Int32Array(C);
        for (let c = 0; c < C; c++) {
          const ws = wScales.length === 1 ? wScales[0]! : wScales[c] ?? wScales[0]!;
          const s = Math.fround(xp.scale * ws);
          scales[c] = s > 0 ? s : 1;
          q[c] = Math.max(-2147483647, Math.min(2147483647, Math.round(data[c]! / scales[c]!)));
        }
        const per = C > 1 || wScales.length > 1;
        const qv = g.addInitializer(new Value({ name: fresh(`${b.name}_quantized`), constValue: Tensor.fromArray(DataType.INT32, bt.dims, q) }));
        const sv = g.addInitializer(new Value({ name: fresh(`${b.name}_scale`), constValue: Tensor.fromArray(DataType.FLOAT, per ? [C] : [], per ? scales : scales.subarray(0, 1)) }));
        const zv = g.addInitializer(new Value({ name: fresh(`${b.name}_zero_point`), constValue: Tensor.fromArray(DataType.INT32, per ? [C] : [], new Int32Array(per ? C : 1)) }));
        const dq = new Node('DequantizeLinear', [qv, sv, zv], {
          name: fresh(`${b.name}_DequantizeLinear`),
          outputs: [fresh(`${b.name}_dequantized`)],
          attributes: per && bt.dims.length === 1 ? [Attribute.int('axis', 0)] : per ? [Attribute.int('axis', bt.dims.length - 1)] : [],
        });
        dq.outputs[0]!.type = b.type;
        g.prepend(dq);
        n.setInput(p.bias, dq.outputs[0]!);
        weightBytesBefore += bt.byteLength;
        weightBytesAfter += q.byteLength + scales.byteLength;
      }
    }
    // Output.
    let quantizedOutput: string | null = null;
    if (p.output !== null) {
      const out = n.outputs[0]!;
      const prm = params.get(out.name);
      if (prm) {
        quantizedTensors++;
        quantizedOutput = insertPair(out, prm).name;
      }
    } else quantizedOutput = n.outputs[0]!.name;
    if (!p.sharesInput) {
      layers.push({
        node: n.name || `${n.opType}#unnamed`,
        opType: n.opType,
        output: p.output ?? n.outputs[0]!.name,
        quantizedOutput,
        fusedActivation: p.fusedActivation ? p.fusedActivation.opType : undefined,
        weightAxis: p.weight?.axis,
        ...(p.output !== null && floors.has(p.output) ? { flatBelow: floors.get(p.output) } : {}),
      });
    }
  }
  // Drop the float constants that were replaced and have no reader left.
  for (const v of replaced) if (v.uses.length === 0 && !v.isGraphOutput && g.initializers.get(v.name) === v) g.removeInitializer(v.name);
  g.sort();
  return {
    layers,
    skipped: plan.skipped,
    quantizedTensors,
    fusedActivations: fused,
    weightBytesBefore,
    weightBytesAfter,
    opset: plan.opset,
    params,
  };
}

