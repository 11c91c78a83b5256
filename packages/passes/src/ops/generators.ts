/**
 * Ops that create tensors: Constant, ConstantOfShape, Range, EyeLike, OneHot.
 */
import { AttributeType, DataType, type Dim, type SparseTensor, type Tensor } from '@onnxkit/graph';
import type { ShapeRule } from '../analysis/inference-types.js';
import { constantKernel, constantOfShapeKernel, rangeKernel } from '../kernels/shape-ops.js';
import { ATTR, attrs, withDefault } from './attributes.js';
import { normAxis } from './axes.js';
import type { OpCost } from './cost.js';
import { firstType, U } from './shape-helpers.js';
import { defineOp, FP16_ALL, undeclared, type OpDef, type OrtFacet } from './types.js';
import { eyeLikeRef, oneHotRef } from '../kernels/reference/misc.js';
import { constantOfShapeRef, constantRef, rangeRef } from '../kernels/reference/shape.js';

function sparseDims(sp: SparseTensor): number[] {
  return [...sp.dims];
}

const constant: ShapeRule = (c) => {
  for (const a of c.node.attributes.values()) {
    switch (a.name) {
      case 'value': {
        if (a.isRef) return c.out(0, U, null);
        const t = a.value as Tensor;
        return c.out(0, t.dtype, t.dims);
      }
      case 'value_float':
        return c.out(0, DataType.FLOAT, []);
      case 'value_floats':
        return c.out(0, DataType.FLOAT, [a.isRef ? null : (a.value as number[]).length]);
      case 'value_int':
        return c.out(0, DataType.INT64, []);
      case 'value_ints':
        return c.out(0, DataType.INT64, [a.isRef ? null : (a.value as bigint[]).length]);
      case 'value_string':
        return c.out(0, DataType.STRING, []);
      case 'value_strings':
        return c.out(0, DataType.STRING, [a.isRef ? null : (a.value as string[]).length]);
      case 'sparse_value':
        return c.out(0, a.isRef ? U : (a.value as SparseTensor).values.dtype, a.isRef ? null : sparseDims(a.value as SparseTensor));
      default:
        break;
    }
  }
  c.mismatch('Constant has no value attribute');
  c.out(0, U, null);
};

const constantOfShape: ShapeRule = (c) => {
  const v = c.node.attr('value');
  const type = v && v.type === AttributeType.TENSOR && !v.isRef ? (v.value as Tensor).dtype : DataType.FLOAT;
  const dims = c.ints(0);
  if (!dims) {
    c.unresolved('the shape is not a constant');
    return c.out(0, type, c.unknownDims(c.shape(0)?.[0]));
  }
  c.out(0, type, dims);
};

const range: ShapeRule = (c) => {
  const type = firstType(c, 0, 1, 2);
  const scalar = (i: number): Dim => {
    const p = c.ints(i);
    if (p && p.length === 1) return p[0]!;
    const f = c.floats(i);
    return f && f.length === 1 ? f[0]! : null;
  };
  const [start, limit, delta] = [scalar(0), scalar(1), scalar(2)];
  let n: Dim = null;
  if (typeof start === 'number' && typeof limit === 'number' && typeof delta === 'number' && delta !== 0) {
    n = Math.max(0, Math.ceil((limit - start) / delta));
  } else if (typeof delta === 'number' && delta > 0 && Number.isInteger(delta) && start !== null && limit !== null) {
    n = c.alg.ceilDiv(c.alg.sub(limit, start), delta);
  } else {
    c.unresolved('start, limit and delta are not all known');
  }
  c.out(0, type, [n]);
};

const eyeLike: ShapeRule = (c) => c.out(0, c.node.getInt('dtype', c.dtype(0)) as DataType, c.shape(0));

const oneHot: ShapeRule = (c) => {
  const is = c.shape(0);
  const depth = c.ints(1)?.[0] ?? (c.floats(1)?.[0] ?? null);
  const type = c.dtype(2);
  if (!is) return c.out(0, type, null);
  const r = is.length + 1;
  const axis = normAxis(c.node.getInt('axis', -1), r) ?? r - 1;
  const out: Dim[] = [...is];
  out.splice(axis, 0, typeof depth === 'number' ? Math.trunc(depth) : depth);
  c.out(0, type, out);
};

const MOVES: OpCost = { opsNote: 'data movement' };

const RANDOM_SHAPE = 'random generators: outputs are left as declared';
const RANDOM_COST = 'random generators: not costed';

/** A random generator: declared for its attribute schema and its `nondeterministic` fact (never folded, never merged). */
const random = (type: string, attributes: Parameters<typeof defineOp>[0]['attributes'], ort?: OrtFacet): OpDef =>
  defineOp({ type, attributes, shape: undeclared('as-declared', RANDOM_SHAPE), cost: undeclared('not-modelled', RANDOM_COST), nondeterministic: true, ...(ort ? { ort } : {}) });

const RANDOM_OPS: readonly OpDef[] = [
  random('RandomNormal', { dtype: withDefault(ATTR.dtype, DataType.FLOAT), mean: withDefault(ATTR.mean, 0), scale: withDefault(ATTR.scale, 1), seed: ATTR.seedFloat, shape: ATTR.shape }, { float16: 'no-kernel' }),
  random('RandomNormalLike', { dtype: ATTR.dtype, mean: withDefault(ATTR.mean, 0), scale: withDefault(ATTR.scale, 1), seed: ATTR.seedFloat }, { float16: 'casts' }),
  random('RandomUniform', { dtype: withDefault(ATTR.dtype, DataType.FLOAT), high: withDefault(ATTR.high, 1), low: withDefault(ATTR.low, 0), seed: ATTR.seedFloat, shape: ATTR.shape }, { float16: 'no-kernel' }),
  random('RandomUniformLike', { dtype: ATTR.dtype, high: withDefault(ATTR.high, 1), low: withDefault(ATTR.low, 0), seed: ATTR.seedFloat }, { float16: 'casts' }),
  random('Bernoulli', { dtype: ATTR.dtype, seed: ATTR.seedFloat }),
  random('Multinomial', { dtype: withDefault(ATTR.dtype, DataType.INT32), sample_size: withDefault(ATTR.sample_size, 1), seed: ATTR.seedFloat }, { float16: 'casts' }),
];

export const GENERATOR_OPS: readonly OpDef[] = [
  defineOp({
    type: 'Constant',
    reference: constantRef,
    attributes: {
      value: ATTR.valueTensor,
      sparse_value: ATTR.sparse_value,
      value_float: ATTR.value_float,
      value_floats: ATTR.value_floats,
      value_int: ATTR.value_int,
      value_ints: ATTR.value_ints,
      value_string: ATTR.value_string,
      value_strings: ATTR.value_strings,
    },
    shape: constant,
    cost: MOVES,
    kernel: { note: 'value, value_float(s), value_int(s), value_string(s), sparse_value', fn: constantKernel, zeroCopy: 'unread' },
    fp16: FP16_ALL,
    sameAt13From: 10,
  }),
  defineOp({
    type: 'ConstantOfShape',
    reference: constantOfShapeRef,
    attributes: { value: ATTR.valueTensor },
    shape: constantOfShape,
    cost: MOVES,
    kernel: { note: 'value attribute (default float32 0)', fn: constantOfShapeKernel },
    fp16: FP16_ALL,
    sameAt13From: 10,
  }),
  // no fp16: its schema has no float16 (onnxruntime-node 1.30 rejects it: ort.float16)
  defineOp({ type: 'Range', ort: { float16: 'rejects' }, sameAt13From: 11, reference: rangeRef, attributes: attrs(), shape: range, cost: MOVES, kernel: { note: 'float32/float64/int16/int32/int64, accumulated like ORT', fn: rangeKernel } }),
  defineOp({ type: 'EyeLike', ort: { float16: 'casts' }, sameAt13From: 10, reference: eyeLikeRef, attributes: { dtype: ATTR.dtype, k: withDefault(ATTR.k, 0) }, shape: eyeLike, cost: MOVES }),
  defineOp({ type: 'OneHot', ort: { float16: 'casts' }, sameAt13From: 11, reference: oneHotRef, attributes: { axis: withDefault(ATTR.axis, -1) }, shape: oneHot, cost: MOVES }),
  ...RANDOM_OPS,
];
