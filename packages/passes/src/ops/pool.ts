/**
 * Pooling: windowed (Max/Average/Lp) and global.
 */
import { DataType, type Dim } from '@onnxkit/graph';
import type { ShapeRule } from '../analysis/inference-types.js';
import { ATTR, attrs, withDefault } from './attributes.js';
import { perInput, poolOps, type OpCost } from './cost.js';
import { windowOut, windowParams } from './shape-helpers.js';
import { defineOp, FP16_ALL, type AttributeSchema, type OpDef, type ReferenceKernel, withFacets } from './types.js';
import { averagePoolRef, globalAveragePoolRef, globalLpPoolRef, globalMaxPoolRef, lpPoolRef, maxPoolRef } from '../kernels/reference/pool.js';

function pool(withIndices: boolean): ShapeRule {
  return (c) => {
    const xs = c.shape(0);
    if (!xs) {
      c.out(0, c.dtype(0), null);
      if (withIndices && c.node.outputs.length > 1) c.out(1, DataType.INT64, null);
      return;
    }
    const spatial = xs.length - 2;
    if (spatial < 0) {
      c.mismatch(`input has rank ${xs.length}; pooling needs at least 2`);
      c.out(0, c.dtype(0), null);
      if (withIndices && c.node.outputs.length > 1) c.out(1, DataType.INT64, null);
      return;
    }
    const kernel = c.node.getInts('kernel_shape');
    if (!kernel) c.mismatch("attribute 'kernel_shape' is required");
    const p = windowParams(c.node, spatial, kernel ?? new Array<Dim>(spatial).fill(null));
    const out: Dim[] = [xs[0]!, xs[1]!];
    for (let i = 0; i < spatial; i++) out.push(windowOut(c, p, i, spatial, xs[2 + i]!));
    c.out(0, c.dtype(0), out);
    if (withIndices && c.node.outputs.length > 1) c.out(1, DataType.INT64, out);
  };
}

const globalPool: ShapeRule = (c) => {
  const xs = c.shape(0);
  c.out(0, c.dtype(0), xs ? [xs[0]!, xs[1]!, ...xs.slice(2).map(() => 1)] : null);
};

const WINDOW = {
  auto_pad: withDefault(ATTR.auto_pad, 'NOTSET'),
  ceil_mode: withDefault(ATTR.ceil_mode, 0),
  dilations: ATTR.dilations,
  kernel_shape: ATTR.kernel_shape,
  pads: ATTR.pads,
  strides: ATTR.strides,
};

/** A windowed pool: the shared window attributes plus its own, and `ops` per output. */
const windowPool = (type: string, own: AttributeSchema, withIndices: boolean, ops: OpCost['ops'], opsNote: string, fp16: boolean, reference: ReferenceKernel): OpDef =>
  defineOp({ type, attributes: { ...WINDOW, ...own }, shape: pool(withIndices), cost: { ops, opsNote }, reference, ...(fp16 ? { fp16: FP16_ALL } : {}) });

export const POOL_OPS: readonly OpDef[] = [
  // onnxruntime drops the Q/DQ around a MaxPool of opset ≥ 12 (8-bit MaxPool appears at 12); QDQ needs opset ≥ 13 anyway.
  withFacets(windowPool('MaxPool', { storage_order: withDefault(ATTR.storage_order, 0) }, true, poolOps(0), 'kernel size per output (comparisons)', true, maxPoolRef), { ort: { qdq: 'data', qdqPositiveScale: true }, quantize: { placement: 'shared-scale' }, sameAt13From: 10 }),
  // onnxruntime runs a QDQ AveragePool as QLinearAveragePool (with its own output scale; the quantizer gives it its input's).
  withFacets(windowPool('AveragePool', { count_include_pad: withDefault(ATTR.count_include_pad, 0) }, false, poolOps(1), 'kernel size + 1 per output (adds, divide)', true, averagePoolRef), { ort: { qdq: 'element' }, quantize: { placement: 'shared-scale' }, sameAt13From: 10 }),
  withFacets(windowPool('LpPool', { p: withDefault(ATTR.p, 2) }, false, poolOps(1, 2), '2 × kernel size + 1 per output', false, lpPoolRef), { sameAt13From: 11, ort: { float16: 'casts' } }),
  defineOp({ type: 'GlobalAveragePool', reference: globalAveragePoolRef, attributes: attrs(), shape: globalPool, cost: { ops: perInput(1, 1), opsNote: '1 per input element + 1 per output' }, fp16: FP16_ALL, ort: { qdq: 'element' }, quantize: { placement: 'unary' }, sameAt13From: 10 }),
  defineOp({ type: 'GlobalMaxPool', reference: globalMaxPoolRef, attributes: attrs(), shape: globalPool, cost: { ops: perInput(1), opsNote: '1 per input element' }, fp16: FP16_ALL, sameAt13From: 10 }),
  defineOp({ type: 'GlobalLpPool', ort: { float16: 'casts' }, sameAt13From: 10, reference: globalLpPoolRef, attributes: { p: withDefault(ATTR.p, 2) }, shape: globalPool, cost: { ops: perInput(2, 1), opsNote: '2 per input element + 1 per output' } }),
];
