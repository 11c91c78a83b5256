/**
 * Data-dependent selection: TopK, NonZero, Compress, NonMaxSuppression.
 */
import { DataType } from '@onnxkit/graph';
import type { ShapeRule } from '../analysis/inference-types.js';
import { ATTR, attrs, withDefault } from './attributes.js';
import { normAxis } from './axes.js';
import { perInput } from './cost.js';
import { defineOp, FP16_ALL, type OpDef, undeclared } from './types.js';
import { compressRef, nonZeroRef, topKRef } from '../kernels/reference/misc.js';

const topK: ShapeRule = (c) => {
  const xs = c.shape(0);
  const k = c.opset < 10 ? c.node.getInt('k') ?? null : (c.ints(1)?.[0] ?? null);
  if (!xs) {
    c.out(0, c.dtype(0), null);
    c.out(1, DataType.INT64, null);
    return;
  }
  const axis = normAxis(c.node.getInt('axis', -1), xs.length);
  const out = [...xs];
  if (axis !== undefined) out[axis] = k;
  if (k === null) c.unresolved('K is not a constant');
  c.out(0, c.dtype(0), out);
  c.out(1, DataType.INT64, out);
};

const nonZero: ShapeRule = (c) => {
  const r = c.rank(0);
  c.out(0, DataType.INT64, [r ?? null, null]);
};

const compress: ShapeRule = (c) => {
  const xs = c.shape(0);
  const axis = c.node.getInt('axis');
  if (axis === undefined || !xs) return c.out(0, c.dtype(0), axis === undefined ? [null] : null);
  const a = normAxis(axis, xs.length);
  c.out(0, c.dtype(0), xs.map((d, i) => (i === a ? null : d)));
};

const nms: ShapeRule = (c) => c.out(0, DataType.INT64, [null, 3]);

export const SELECTION_OPS: readonly OpDef[] = [
  defineOp({
    type: 'TopK',
    reference: topKRef,
    attributes: { axis: withDefault(ATTR.axis, -1), k: ATTR.k, largest: withDefault(ATTR.largest, 1), sorted: withDefault(ATTR.sorted, 1) },
    shape: topK,
    cost: { ops: perInput(1), opsNote: '1 per input element (lower bound)' },
    sameAt13From: 11,
  }),
  defineOp({ type: 'NonZero', ort: { float16: 'casts' }, sameAt13From: 10, reference: nonZeroRef, attributes: attrs(), shape: nonZero, cost: { opsNote: 'data movement' } }),
  defineOp({ type: 'Compress', sameAt13From: 11, reference: compressRef, attributes: attrs('axis'), shape: compress, cost: { opsNote: 'data movement' }, fp16: FP16_ALL }),
  defineOp({
    type: 'NonMaxSuppression',
    attributes: { center_point_box: withDefault(ATTR.center_point_box, 0) },
    shape: nms,
    cost: undeclared('data-dependent', 'its work depends on the box data (how many boxes survive), not on shapes'),
  }),
];
