/**
 * Views and shape reads: Reshape, Flatten, Squeeze, Unsqueeze, Identity, Dropout (inference), Shape, Size.
 */
import { DataType, type Dim } from '@onnxkit/graph';
import type { ShapeRule } from '../analysis/inference-types.js';
import { dropoutKernel, flattenKernel, identityKernel, reshapeKernel, shapeKernel, sizeKernel, squeezeKernel, unsqueezeKernel } from '../kernels/shape-ops.js';
import { ATTR, attrs, withDefault } from './attributes.js';
import { normAxis, shapeRange } from './axes.js';
import { axesOf, identity, intsAttr } from './shape-helpers.js';
import { type AttributeSchema, defineOp, FP16_ALL, FP16_SHAPE_ONLY, sameAt13WithoutAttribute, type OpDef, type OpDefInput, type OpKernel } from './types.js';
import { identityRef } from '../kernels/reference/elementwise.js';
import { dropoutRef, flattenRef, reshapeRef, shapeRef, sizeRef, squeezeRef, unsqueezeRef } from '../kernels/reference/shape.js';

const dropout: ShapeRule = (c) => {
  identity(c);
  if (c.node.outputs.length > 1) c.out(1, c.opset >= 10 ? DataType.BOOL : c.dtype(0), c.shape(0));
};

const reshape: ShapeRule = (c) => {
  const xs = c.shape(0);
  const target = c.opset < 5 ? intsAttr(c, 'shape') : c.ints(1);
  const type = c.dtype(0);
  if (!target) {
    const ts = c.shape(1);
    const n = ts?.[0];
    c.unresolved('the target shape is not a constant');
    return c.out(0, type, c.unknownDims(n));
  }
  const allowZero = c.opset >= 14 && c.node.getInt('allowzero', 0) === 1;
  const dims: Dim[] = [];
  let infer = -1;
  target.forEach((t, i) => {
    if (t === -1) {
      if (infer >= 0) c.mismatch('the target shape has more than one -1');
      infer = i;
      dims.push(null);
    } else if (t === 0 && !allowZero) {
      dims.push(xs ? (i < xs.length ? xs[i]! : (c.mismatch(`target dim ${i} is 0 but the input has rank ${xs.length}`), null)) : null);
    } else if (typeof t === 'number' && t < -1) {
      c.mismatch(`target dim ${i} is ${t}`);
      dims.push(null);
    } else {
      dims.push(t);
    }
  });
  const total = xs ? c.alg.product(xs) : null;
  if (infer >= 0) {
    const known = c.alg.product(dims.filter((_, i) => i !== infer));
    dims[infer] = known === 0 ? null : c.alg.divExact(total, known);
    if (dims[infer] === null && total !== null && known !== null) {
      if (typeof total === 'number' && typeof known === 'number') c.mismatch(`cannot reshape ${total} elements to ${known} × -1`);
    }
  } else {
    const prod = c.alg.product(dims);
    if (typeof prod === 'number' && typeof total === 'number' && prod !== total) c.mismatch(`cannot reshape ${total} elements into ${prod}`);
  }
  c.out(0, type, dims);
  const p = c.ints(0);
  if (p && dims.length <= 1) c.partial(0, p);
};

const flatten: ShapeRule = (c) => {
  const xs = c.shape(0);
  if (!xs) return c.out(0, c.dtype(0), [null, null]);
  let axis = c.node.getInt('axis', 1);
  if (axis < 0) axis += xs.length;
  if (axis < 0 || axis > xs.length) {
    c.mismatch(`axis ${c.node.getInt('axis', 1)} is out of range for rank ${xs.length}`);
    return c.out(0, c.dtype(0), [null, null]);
  }
  c.out(0, c.dtype(0), [c.alg.product(xs.slice(0, axis)), c.alg.product(xs.slice(axis))]);
};

const unsqueeze: ShapeRule = (c) => {
  const xs = c.shape(0);
  const axes = axesOf(c, 13);
  const type = c.dtype(0);
  if (axes === null) c.mismatch('axes are required');
  if (!axes || !xs) {
    if (axes === undefined) c.unresolved('the axes are not constant');
    return c.out(0, type, null);
  }
  const r = xs.length + axes.length;
  const set = new Set(axes.map((a) => normAxis(a, r)));
  if (set.has(undefined) || set.size !== axes.length) {
    c.mismatch(`axes ${JSON.stringify(axes)} are invalid for output rank ${r}`);
    return c.out(0, type, null);
  }
  const out: Dim[] = [];
  let k = 0;
  for (let i = 0; i < r; i++) out.push(set.has(i) ? 1 : xs[k++]!);
  c.out(0, type, out);
  const p = c.ints(0);
  if (p && r <= 1) c.partial(0, p);
};

const squeeze: ShapeRule = (c) => {
  const xs = c.shape(0);
  const axes = axesOf(c, 13);
  const type = c.dtype(0);
  if (!xs || axes === undefined) {
    if (axes === undefined) c.unresolved('the axes are not constant');
    return c.out(0, type, null);
  }
  let out: Dim[];
  if (axes === null) {
    if (xs.some((d) => typeof d !== 'number')) {
      c.unresolved('squeeze without axes on a dimension that is not concrete');
      return c.out(0, type, null);
    }
    out = xs.filter((d) => d !== 1);
  } else {
    const drop = new Set(axes.map((a) => normAxis(a, xs.length)));
    if (drop.has(undefined)) {
      c.mismatch(`axes ${JSON.stringify(axes)} are out of range for rank ${xs.length}`);
      return c.out(0, type, null);
    }
    for (const a of drop) if (typeof xs[a!] === 'number' && xs[a!] !== 1) c.mismatch(`cannot squeeze axis ${a} of size ${xs[a!]}`);
    out = xs.filter((_, i) => !drop.has(i));
  }
  c.out(0, type, out);
  const p = c.ints(0);
  if (p && out.length === 0) c.partial(0, p);
};

const shape: ShapeRule = (c) => {
  const xs = c.shape(0);
  if (!xs) return c.out(0, DataType.INT64, [null]);
  const r = xs.length;
  const { start, end } = shapeRange(c.node, r, c.opset);
  const dims = xs.slice(start, end);
  c.out(0, DataType.INT64, [dims.length]);
  c.partial(0, dims);
};

const size: ShapeRule = (c) => {
  c.out(0, DataType.INT64, []);
  const xs = c.shape(0);
  if (xs) c.partial(0, [c.alg.product(xs)]);
};

/** A view: the output is the input's data under other dims (no new activation, no traffic). */
const view = (type: string, attributes: AttributeSchema, shape: ShapeRule, kernel: OpKernel, more: Partial<OpDefInput> = {}): OpDef =>
  defineOp({ type, attributes, shape, cost: { alias: true }, kernel, passesWeights: true, fp16: FP16_ALL, ...more });

const AXES_NOTE = 'axes attribute (< opset 13) or input (≥ 13)';

/**
 * Squeeze/Unsqueeze at opset 10–12 mean the same at 13 only without an `axes` attribute (it became
 * an input at 13; ONNX Changelog): a Squeeze of every size-1 axis.
 */
const noAxesAttribute = sameAt13WithoutAttribute('axes');

export const RESHAPE_OPS: readonly OpDef[] = [
  view('Reshape', { allowzero: withDefault(ATTR.allowzero, 0), shape: ATTR.shape }, reshape, { note: '0 copies, -1 infers, allowzero (opset 14)', fn: reshapeKernel }, { reference: reshapeRef, ort: { qdq: 'data' }, quantize: { placement: 'shared-scale' }, sameAt13From: 10 }),
  view('Flatten', { axis: withDefault(ATTR.axis, 1) }, flatten, { note: 'axis in [-r, r]', fn: flattenKernel }, { reference: flattenRef, ort: { qdq: 'data' }, quantize: { placement: 'shared-scale' }, sameAt13From: 10 }),
  view('Squeeze', attrs('axes'), squeeze, { note: `${AXES_NOTE}, or all size-1 axes`, fn: squeezeKernel }, { reference: squeezeRef, ort: { qdq: 'data' }, quantize: { placement: 'shared-scale' }, sameAt13From: noAxesAttribute }),
  view('Unsqueeze', attrs('axes'), unsqueeze, { note: `${AXES_NOTE}, negative axes`, fn: unsqueezeKernel }, { reference: unsqueezeRef, ort: { qdq: 'data' }, quantize: { placement: 'shared-scale' }, sameAt13From: noAxesAttribute }),
  view('Identity', attrs(), identity, { note: 'any tensor (returned as is)', fn: identityKernel, zeroCopy: 'unread' }, { reference: identityRef, ort: { eliminated: true }, sameAt13From: 10 }),
  view('Dropout', { is_test: ATTR.is_test, ratio: withDefault(ATTR.ratio, 0.5), seed: ATTR.seedInt }, dropout, { note: 'inference only (identity, all-true mask); declines training_mode=true', fn: dropoutKernel, zeroCopy: 'view' }, { fp16: { keepFloat32: [1, 2] }, reference: dropoutRef, ort: { eliminated: true }, sameAt13From: 12, nondeterministic: true }),
  defineOp({
    type: 'Shape',
    reference: shapeRef,
    attributes: { start: withDefault(ATTR.start, 0), end: ATTR.end },
    shape,
    cost: { shapeOnly: true, opsNote: 'reads the shape only' },
    kernel: { note: 'start/end (opset 15)', fn: shapeKernel },
    sameAt13From: 10,
    // Reads any element type for its shape and writes int64: convert-fp16 leaves its input as it
    // is — a converted (float16) tensor without a Cast back to float32 (it used to cast the whole
    // tensor to read its dims), a tensor left float32 without a float16 Cast of it.
    fp16: FP16_SHAPE_ONLY,
  }),
  defineOp({ type: 'Size', ort: { float16: 'casts' }, reference: sizeRef, attributes: attrs(), shape: size, cost: { shapeOnly: true, opsNote: 'reads the shape only' }, kernel: { note: 'int64 scalar', fn: sizeKernel }, sameAt13From: 10 }),
];
