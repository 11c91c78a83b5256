/**
 * onnxruntime's quantized contrib ops (domain com.microsoft), as its quantizer and its graph
 * optimizer (QDQ fusion at level `all`) emit them: QGemm, QLinearAdd, QLinearMul,
 * QLinearGlobalAveragePool, QLinearConcat, MatMulIntegerToFloat, DynamicQuantizeMatMul. Only the
 * cost facet is declared: the toolkit counts their work (integer operations, see cost.ts) and
 * their parameters at the stored dtypes; their output shapes are the ones onnxruntime declares.
 */
import { gemmMacs, matmulMacs, perInput, QUANT_NOTE, quantizedOps, REQUANT_OPS, type CostContext, type Count } from './cost.js';
import { defineOp, type OpDef, undeclared } from './types.js';

const MS = 'com.microsoft';
const NO_ATTRIBUTES = undeclared('com.microsoft contrib op: attributes are read where needed, not validated');
const NO_SHAPE = undeclared('com.microsoft contrib op: outputs take their declared types (onnxruntime writes them as value_info)');

/** QLinearGlobalAveragePool: one add per input element, then per output a divide and the requantization. */
const qGlobalAveragePoolOps = perInput(1, 1 + REQUANT_OPS);

/** MatMulIntegerToFloat: the scale multiply per output, +1 for the bias add when present. */
const toFloatOps = (bIdx: number) => (c: CostContext): Count => ({ perOutput: 1 + (c.node.inputs[bIdx] != null ? 1 : 0) });

export const CONTRIB_QUANTIZED_OPS: readonly OpDef[] = [
  defineOp({
    type: 'QGemm',
    domain: MS,
    attributes: NO_ATTRIBUTES,
    shape: NO_SHAPE,
    // A, a_scale, a_zero_point, B, b_scale, b_zero_point, C (int32), y_scale, y_zero_point (float output without y_scale).
    cost: { weights: [3], biases: [6], buffers: [1, 2, 4, 5, 7, 8], macs: gemmMacs, ops: quantizedOps(0, 7, 6), opsNote: QUANT_NOTE, integer: true },
  }),
  ...(['QLinearAdd', 'QLinearMul'] as const).map((type) =>
    defineOp({
      type,
      domain: MS,
      attributes: NO_ATTRIBUTES,
      shape: NO_SHAPE,
      // A, A_scale, A_zero_point, B, B_scale, B_zero_point, C_scale, C_zero_point.
      cost: { buffers: [1, 2, 4, 5, 6, 7], ops: quantizedOps(1, 6), opsNote: 'integer: 1 per output + 3 per output (requantization)', integer: true },
    }),
  ),
  defineOp({
    type: 'QLinearGlobalAveragePool',
    domain: MS,
    attributes: NO_ATTRIBUTES,
    shape: NO_SHAPE,
    // X, x_scale, x_zero_point, y_scale, y_zero_point.
    cost: { buffers: [1, 2, 3, 4], ops: qGlobalAveragePoolOps, opsNote: 'integer: 1 per input element + 4 per output (divide, requantization)', integer: true },
  }),
  defineOp({
    type: 'QLinearConcat',
    domain: MS,
    attributes: NO_ATTRIBUTES,
    shape: NO_SHAPE,
    // Y_scale, Y_zero_point, then (X, x_scale, x_zero_point) per input: data movement, requantization only where scales differ (not counted).
    cost: { buffers: [0, 1], integer: true },
  }),
  defineOp({
    type: 'MatMulIntegerToFloat',
    domain: MS,
    attributes: NO_ATTRIBUTES,
    shape: NO_SHAPE,
    // A, B, a_scale, b_scale, a_zero_point, b_zero_point, bias (float).
    cost: { weights: [1], biases: [6], buffers: [2, 3, 4, 5], macs: matmulMacs(), ops: toFloatOps(6), opsNote: 'integer: 2·MACs + 1 per output (scale) + 1 per output (bias, if any)', integer: true },
  }),
  defineOp({
    type: 'DynamicQuantizeMatMul',
    domain: MS,
    attributes: NO_ATTRIBUTES,
    shape: NO_SHAPE,
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
