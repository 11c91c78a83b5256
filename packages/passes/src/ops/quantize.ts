/**
 * Quantization: QuantizeLinear, DequantizeLinear, DynamicQuantizeLinear.
 */
import { DataType } from '@onnxkit/graph';
import type { ShapeRule } from '../analysis/inference-types.js';
import { ATTR, attrs, withDefault } from './attributes.js';
import { perInput, perOutput } from './cost.js';
import { defineOp, type OpDef } from './types.js';
import { dequantizeLinearRef, quantizeLinearRef } from '../kernels/reference/misc.js';

const quantize: ShapeRule = (c) => {
  const type = c.has(2) ? c.dtype(2) : (c.node.getInt('output_dtype', 0) as DataType) || DataType.UINT8;
  c.out(0, type, c.shape(0));
};

const dequantize: ShapeRule = (c) => c.out(0, c.node.getInt('output_dtype', 0) || c.dtype(1), c.shape(0));

const dynamicQuantize: ShapeRule = (c) => {
  c.out(0, DataType.UINT8, c.shape(0));
  c.out(1, DataType.FLOAT, []);
  c.out(2, DataType.UINT8, []);
};

// sameAt13From (ONNX Changelog; onnx 1.12's schemas): QuantizeLinear and DequantizeLinear have
// versions 10 and 13, and 13 only extended them — it added the `axis` attribute and 1-D (per-axis)
// scales and zero points, where 10 takes scalars alone (a per-tensor form, which 13 reads the same
// way whatever its axis default). So every valid opset 10–12 node of them means at 13 what it
// meant: 10, not `{ changedBy13 }` (which says a form's meaning changed, and would refuse a model
// holding them). DynamicQuantizeLinear-11 is its only version to 13.
export const QUANTIZE_OPS: readonly OpDef[] = [
  defineOp({
    type: 'QuantizeLinear',
    reference: quantizeLinearRef,
    attributes: { axis: withDefault(ATTR.axis, 1), block_size: withDefault(ATTR.block_size, 0), output_dtype: withDefault(ATTR.output_dtype, 0), saturate: withDefault(ATTR.saturate, 1) },
    shape: quantize,
    // y_scale and y_zero_point are stored buffers, as the scales and zero points of QLinearConv.
    cost: { buffers: [1, 2], ops: perOutput(3), opsNote: '3 per element' },
    sameAt13From: 10,
  }),
  defineOp({
    type: 'DequantizeLinear',
    reference: dequantizeLinearRef,
    attributes: { axis: withDefault(ATTR.axis, 1), block_size: withDefault(ATTR.block_size, 0), output_dtype: withDefault(ATTR.output_dtype, 0) },
    shape: dequantize,
    // x_scale and x_zero_point: buffers (a stored weight's are counted by the layer that reads it).
    passesWeights: { buffers: [1, 2] },
    cost: { buffers: [1, 2], ops: perOutput(2), opsNote: '2 per element' },
    sameAt13From: 10,
  }),
  defineOp({ type: 'DynamicQuantizeLinear', attributes: attrs(), shape: dynamicQuantize, cost: { ops: perInput(5), opsNote: '5 per element' }, sameAt13From: 11 }),
];
