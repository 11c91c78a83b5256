/**
 * onnxruntime's quantized contrib ops (domain com.microsoft), as its quantizer and its graph
 * optimizer (QDQ fusion at levels extended and all) emit them: QGemm, QLinearAdd, QLinearMul,
 * QLinearGlobalAveragePool, QLinearConcat, QLinearSigmoid, QLinearLeakyRelu, QLinearSoftmax,
 * QLinearWhere, QLinearAveragePool, MatMulIntegerToFloat, DynamicQuantizeMatMul, and the
 * channels-last (NHWC) QLinearConv, NhwcMaxPool and QLinearAveragePool its layout transformer
 * makes at level `all` (MACs are a product of the output dims, so the layout does not change
 * them; the weight stays [M, C/g, kH, kW]). Each declares its cost (integer operations, see
 * cost.ts; parameters at the stored dtypes) and a shape rule (the optimized model onnxruntime
 * writes carries no value_info for the values it made: without a rule every shape after the op
 * is lost, and with it the MACs of the layers after it).
 *
 * Measured (onnxruntime-node 1.30, levels extended and all, one thread, optimizedModelFilePath):
 * the zoo ResNet-50/MobileNetV2/AlexNet, the fixtures (ResNet/MobileNetV2/ShuffleNet tiny, LSTM,
 * both transformer encoders) quantized by `onnxkit quantize` (uint8 and int8 activations, and
 * `--dynamic`), and Conv → op → Conv models per QDQ element op, emit exactly these com.microsoft
 * ops: QLinearConv, NhwcMaxPool, QLinearAveragePool, QGemm, QLinearAdd, QLinearMul,
 * QLinearGlobalAveragePool, QLinearConcat, QLinearSigmoid, QLinearLeakyRelu, QLinearSoftmax,
 * QLinearWhere, DynamicQuantizeMatMul (and the float FusedMatMul and Gelu of contrib-fused.ts, the
 * com.microsoft.nchwc ops of contrib-nchwc.ts); MatMulIntegerToFloat is what its quantizer writes for a dynamic
 * MatMul. packages/runtime/test/integer-analysis.test.ts analyzes onnxruntime's optimized files
 * of such models (no op without a cost or a shape, the float model's MACs); each declaration's
 * shape and cost: packages/passes/test/ops/contrib-ops.test.ts. QLinearSigmoid and
 * QLinearLeakyRelu (and QLinearWhere's requantization) run as a 256-entry table built from the
 * constant scales at load (onnxruntime's QLinearLookupBase): one lookup per element.
 */
import { convMacs, gemmMacs, matmulMacs, perInput, perOutput, poolOps, QUANT_NOTE, quantizedOps, REQUANT_OPS, type CostContext, type Count } from './cost.js';
import { DataType, type Dim } from '@onnxkit/graph';
import type { RuleContext, ShapeRule } from '../analysis/inference-types.js';
import { broadcastShapesSymbolic, same, windowOut, windowParams } from './shape-helpers.js';
import { ATTR, attrs, withDefault } from './attributes.js';
import { POOL_OPS } from './pool.js';
import { matmulOut } from './linear.js';
import { defineOp, type OpDef, undeclared } from './types.js';

const MS = 'com.microsoft';
const NO_ATTRIBUTES = undeclared('not-validated', 'com.microsoft contrib op: attributes are read where needed, not validated');

/** Channels-last window op (QLinearConv with channels_last, NhwcMaxPool): [N, spatial…, C] → [N, out…, cOut]. */
function nhwcWindow(c: RuleContext, xIdx: number, kernel: readonly Dim[] | null, cOut: Dim, type: DataType): void {
  const xs = c.shape(xIdx);
  if (!xs || xs.length < 3 || !kernel) return c.out(0, type, null);
  const spatial = xs.length - 2;
  const p = windowParams(c.node, spatial, kernel);
  const out: Dim[] = [xs[0] ?? null];
  for (let i = 0; i < spatial; i++) out.push(windowOut(c, p, i, spatial, xs[1 + i] ?? null));
  out.push(cOut);
  c.out(0, type, out);
}

/** com.microsoft QLinearConv: NCHW like the ONNX op, or channels last (`channels_last` = 1, as the NHWC transformer writes it). */
const qLinearConvShape: ShapeRule = (c) => {
  const ws = c.shape(3);
  const type = c.has(7) ? c.dtype(7) : c.dtype(0);
  const kernel = c.node.getInts('kernel_shape') ?? (ws ? ws.slice(2) : null);
  if (c.node.getInt('channels_last', 0) === 1) return nhwcWindow(c, 0, kernel, ws?.[0] ?? null, type);
  const xs = c.shape(0);
  if (!xs || !kernel) return c.out(0, type, null);
  const spatial = xs.length - 2;
  const p = windowParams(c.node, spatial, kernel);
  const out: Dim[] = [xs[0] ?? null, ws?.[0] ?? null];
  for (let i = 0; i < spatial; i++) out.push(windowOut(c, p, i, spatial, xs[2 + i] ?? null));
  c.out(0, type, out);
};

/** QLinearAveragePool: a window over X (0), channels first or (`channels_last` = 1) last. */
const averagePoolShape = POOL_OPS.find((op) => op.type === 'AveragePool')!.shape as ShapeRule;
const qAveragePoolShape: ShapeRule = (c) => (c.node.getInt('channels_last', 0) !== 1 ? averagePoolShape(c) : nhwcPoolShape(c)); // channels first: AveragePool's rule

/** QLinearWhere: condition (0), X (1), Y (4) broadcast three ways; the output type is Z's zero point's (8), else X's. */
const qWhereShape: ShapeRule = (c) => c.out(0, c.has(8) ? c.dtype(8) : c.dtype(1), broadcastShapesSymbolic(c, [c.shape(0), c.shape(1), c.shape(4)]));

/** DynamicQuantizeMatMul: float A (0) × 8-bit B (1) → float, by ONNX MatMul's rule (linear.ts). */
const dynamicQuantizeMatMulShape: ShapeRule = (c) => matmulOut(c, c.shape(0), c.shape(1), DataType.FLOAT);
/** MatMulIntegerToFloat: 8-bit A (0) × B (1) → the type of a_scale (2): float or float16. */
const matMulIntegerToFloatShape: ShapeRule = (c) => matmulOut(c, c.shape(0), c.shape(1), c.dtype(2));

/** A channels-last (NHWC) pool of X (0): NhwcMaxPool, and QLinearAveragePool with `channels_last`. */
function nhwcPoolShape(c: RuleContext): void {
  const xs = c.shape(0);
  nhwcWindow(c, 0, c.node.getInts('kernel_shape') ?? null, xs?.[xs.length - 1] ?? null, c.dtype(0));
}

/** QLinearAdd/QLinearMul: numpy broadcasting of A (0) and B (3); the output type is A's. */
const qBinaryShape: ShapeRule = (c) => c.out(0, c.dtype(0), broadcastShapesSymbolic(c, [c.shape(0), c.shape(3)]));

/** QLinearGlobalAveragePool: every spatial axis to 1 (channels last or first). */
const qGlobalPoolShape: ShapeRule = (c) => {
  const xs = c.shape(0);
  if (!xs) return c.out(0, c.dtype(0), null);
  const last = c.node.getInt('channels_last', 0) === 1;
  c.out(0, c.dtype(0), xs.map((d, i) => (i === 0 || (last ? i === xs.length - 1 : i === 1) ? d : 1)));
};

/** QGemm: [M, N] from A (0) and B (3) with transA/transB; float output without y_scale (7). */
const qGemmShape: ShapeRule = (c) => {
  const a = c.shape(0);
  const b = c.shape(3);
  const m = a && a.length === 2 ? (c.node.getInt('transA', 0) === 1 ? a[1] : a[0]) ?? null : null;
  const n = b && b.length === 2 ? (c.node.getInt('transB', 0) === 1 ? b[0] : b[1]) ?? null : null;
  c.out(0, c.has(7) ? (c.has(8) ? c.dtype(8) : DataType.UINT8) : DataType.FLOAT, [m, n]);
};

/** QLinearConcat: Y_scale, Y_zero_point, then (X, scale, zero point) per input, joined along `axis`. */
const qConcatShape: ShapeRule = (c) => {
  const n = Math.floor((c.node.inputs.length - 2) / 3);
  const shapes = Array.from({ length: n }, (_, i) => c.shape(2 + 3 * i));
  const first = shapes[0];
  const type = c.dtype(2);
  if (!first || shapes.some((s) => !s || s.length !== first.length)) return c.out(0, type, null);
  const rank = first.length;
  const axisAttr = c.node.getInt('axis', 0);
  const axis = axisAttr < 0 ? axisAttr + rank : axisAttr;
  let total: Dim = 0;
  for (const s of shapes) total = c.alg.add(total, s![axis] ?? null);
  c.out(0, type, first.map((d, i) => (i === axis ? total : d)));
};

/** QLinearGlobalAveragePool: one add per input element, then per output a divide and the requantization. */
const qGlobalAveragePoolOps = perInput(1, 1 + REQUANT_OPS);

/** MatMulIntegerToFloat: the scale multiply per output, +1 for the bias add when present. */
const toFloatOps = (bIdx: number) => (c: CostContext): Count => ({ perOutput: 1 + (c.node.inputs[bIdx] != null ? 1 : 0) });

export const CONTRIB_QUANTIZED_OPS: readonly OpDef[] = [
  defineOp({
    type: 'QLinearConv',
    domain: MS,
    // Declared (ONNX QLinearConv's attributes plus the NHWC transformer's channels_last); like
    // every contrib op it is not validated before its rule runs — a failing rule is a diagnostic.
    attributes: attrs('auto_pad', 'channels_last', 'dilations', 'group', 'kernel_shape', 'pads', 'strides'),
    shape: qLinearConvShape,
    // As the ONNX QLinearConv, channels last: x, x_scale, x_zero_point, w, w_scale, w_zero_point, y_scale, y_zero_point, B.
    cost: { weights: [3], biases: [8], buffers: [1, 2, 4, 5, 6, 7], macs: convMacs(3), ops: quantizedOps(0, 6, 8), opsNote: QUANT_NOTE, integer: true },
  }),
  defineOp({
    type: 'NhwcMaxPool',
    domain: MS,
    attributes: NO_ATTRIBUTES,
    shape: nhwcPoolShape,
    // 8-bit max over the window (integer compares).
    cost: { ops: poolOps(0), opsNote: 'integer: 1 per window element per output', integer: true },
  }),
  defineOp({
    type: 'QLinearAveragePool',
    domain: MS,
    attributes: attrs('auto_pad', 'ceil_mode', 'channels_last', 'count_include_pad', 'dilations', 'kernel_shape', 'pads', 'strides'),
    shape: qAveragePoolShape,
    // X, x_scale, x_zero_point, y_scale, y_zero_point.
    cost: { buffers: [1, 2, 3, 4], ops: poolOps(1 + REQUANT_OPS), opsNote: 'integer: 1 per window element per output + 4 per output (divide, requantization)', integer: true },
  }),
  defineOp({
    type: 'QGemm',
    domain: MS,
    attributes: NO_ATTRIBUTES,
    shape: qGemmShape,
    // A, a_scale, a_zero_point, B, b_scale, b_zero_point, C (int32), y_scale, y_zero_point (float output without y_scale).
    cost: { weights: [3], biases: [6], buffers: [1, 2, 4, 5, 7, 8], macs: gemmMacs, ops: quantizedOps(0, 7, 6), opsNote: QUANT_NOTE, integer: true },
  }),
  ...(['QLinearAdd', 'QLinearMul'] as const).map((type) =>
    defineOp({
      type,
      domain: MS,
      attributes: NO_ATTRIBUTES,
      shape: qBinaryShape,
      // A, A_scale, A_zero_point, B, B_scale, B_zero_point, C_scale, C_zero_point.
      cost: { buffers: [1, 2, 4, 5, 6, 7], ops: quantizedOps(1, 6), opsNote: 'integer: 1 per output + 3 per output (requantization)', integer: true },
    }),
  ),
  defineOp({
    type: 'QLinearGlobalAveragePool',
    domain: MS,
    attributes: NO_ATTRIBUTES,
    shape: qGlobalPoolShape,
    // X, x_scale, x_zero_point, y_scale, y_zero_point.
    cost: { buffers: [1, 2, 3, 4], ops: qGlobalAveragePoolOps, opsNote: 'integer: 1 per input element + 4 per output (divide, requantization)', integer: true },
  }),
  // X, X_scale, X_zero_point, Y_scale, Y_zero_point: the 256-entry table onnxruntime builds at load maps each 8-bit input to its 8-bit output.
  defineOp({
    type: 'QLinearSigmoid',
    domain: MS,
    attributes: attrs(),
    shape: same,
    cost: { buffers: [1, 2, 3, 4], inPlace: true, ops: perOutput(1), opsNote: 'integer: 1 per element (table lookup)', integer: true },
  }),
  defineOp({
    type: 'QLinearLeakyRelu',
    domain: MS,
    attributes: { alpha: withDefault(ATTR.alpha, 0.01) },
    shape: same,
    cost: { buffers: [1, 2, 3, 4], inPlace: true, ops: perOutput(1), opsNote: 'integer: 1 per element (table lookup)', integer: true },
  }),
  defineOp({
    type: 'QLinearSoftmax',
    domain: MS,
    // axis (−1 by default, as the Softmax of `opset` ≥ 13 it replaced; 1 with 2-D coercion before).
    attributes: { axis: withDefault(ATTR.axis, -1), opset: ATTR.opset },
    shape: same,
    // X, X_scale, x_zero_point, y_scale, y_zero_point: per element the row max, a table lookup of
    // exp(x − max), the sum, then the scale by 1/sum and the requantization.
    cost: { buffers: [1, 2, 3, 4], ops: perOutput(3 + REQUANT_OPS), opsNote: 'integer: 6 per element (max, exp table lookup, sum, requantization 3)', integer: true },
  }),
  defineOp({
    type: 'QLinearWhere',
    domain: MS,
    attributes: attrs(),
    shape: qWhereShape,
    // condition (bool, read as it is), X, x_scale, x_zero_point, Y, y_scale, y_zero_point, z_scale, z_zero_point.
    cost: { buffers: [2, 3, 5, 6, 7, 8], ops: perOutput(2), opsNote: 'integer: 2 per output (select, table requantization)', integer: true },
  }),
  defineOp({
    type: 'QLinearConcat',
    domain: MS,
    attributes: NO_ATTRIBUTES,
    shape: qConcatShape,
    // Y_scale, Y_zero_point, then (X, x_scale, x_zero_point) per input: data movement, requantization only where scales differ (not counted).
    cost: { buffers: [0, 1], integer: true },
  }),
  defineOp({
    type: 'MatMulIntegerToFloat',
    domain: MS,
    attributes: NO_ATTRIBUTES,
    shape: matMulIntegerToFloatShape,
    // A, B, a_scale, b_scale, a_zero_point, b_zero_point, bias (float).
    cost: { weights: [1], biases: [6], buffers: [2, 3, 4, 5], macs: matmulMacs(), ops: toFloatOps(6), opsNote: 'integer: 2·MACs + 1 per output (scale) + 1 per output (bias, if any)', integer: true },
  }),
  defineOp({
    type: 'DynamicQuantizeMatMul',
    domain: MS,
    attributes: NO_ATTRIBUTES,
    shape: dynamicQuantizeMatMulShape,
    // A (float, quantized on the fly: 5 per element as DynamicQuantizeLinear), B, b_scale, b_zero_point, bias.
    cost: {
      weights: [1],
      biases: [4],
      buffers: [2, 3],
      macs: matmulMacs(),
      ops: (c) => ({ perInput: 5, perOutput: 1 + (c.node.inputs[4] != null ? 1 : 0) }),
      opsNote: 'integer: 2·MACs + 5 per input element (dynamic quantization) + 1 per output (scale) + 1 (bias, if any)',
      integer: true,
    },
  }),
];
