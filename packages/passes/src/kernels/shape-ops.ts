/**
 * Shape and data-movement kernels: Shape, Size, Gather, Unsqueeze, Squeeze, Concat, Slice,
 * Reshape, Flatten, Transpose, Expand, Tile, Identity, Dropout (inference), Constant,
 * ConstantOfShape, Range, Cast and CastLike.
 *
 * They move storage entries without interpreting them, so any element-addressable dtype works
 * (float16 and bool included). Attribute-vs-input forms follow the opset: Unsqueeze/Squeeze
 * axes became inputs in opset 13, Slice bounds in opset 10, Reshape's shape in opset 5.
 */
import { AttributeType, DataType, Tensor, type Node, type SparseTensor, type TypedArray } from '@onnxkit/graph';
import { shapeRange } from '../ops/axes.js';
import { castTensor } from './cast.js';
import { KernelError } from './errors.js';
import {
  allocate,
  bigintsOf,
  broadcastShapes,
  broadcastStrides,
  clampToSafe,
  gatherStrided,
  isElementAddressable,
  makeTensor,
  newStorage,
  normAxis,
  safeIntsOf,
  sizeOf,
  stridesOf,
} from './tensor-data.js';
import type { KernelFn } from './types.js';

/** A zero-copy view of `t` under new dims (element count already checked by the caller). */
function reshaped(t: Tensor, dims: readonly number[]): Tensor {
  if (t.dtype === DataType.STRING) return Tensor.fromStrings(dims, t.strings());
  return Tensor.fromBytes(t.dtype, dims, t.bytes());
}

function int64Vector(values: readonly (number | bigint)[]): Tensor {
  return Tensor.fromNumbers(DataType.INT64, [values.length], values);
}

/** Integer list from an INTS attribute, exact (bigint → safe number or KernelError). */
function intsAttr(node: Node, name: string): number[] | undefined {
  const a = node.attr(name);
  if (a === undefined || a.isRef) return undefined;
  if (a.type !== AttributeType.INTS) throw new KernelError(node, `attribute '${name}' must be a list of ints`);
  return (a.value as readonly bigint[]).map((v) => {
    if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < BigInt(Number.MIN_SAFE_INTEGER)) throw new KernelError(node, `attribute '${name}' value ${v} is out of range`);
    return Number(v);
  });
}

export const shapeKernel: KernelFn = (node, inputs, opset) => {
  const x = inputs[0];
  if (!x) return undefined;
  const r = x.rank;
  const { start, end } = shapeRange(node, r, opset);
  return [int64Vector(x.dims.slice(start, end))];
};

export const sizeKernel: KernelFn = (_node, inputs) => {
  const x = inputs[0];
  if (!x) return undefined;
  return [Tensor.scalar(DataType.INT64, x.size)];
};

export const identityKernel: KernelFn = (_node, inputs) => {
  const x = inputs[0];
  return x ? [x] : undefined;
};

/** Dropout at inference is the identity; its optional mask is all true. */
export const dropoutKernel: KernelFn = (node, inputs, opset) => {
  const x = inputs[0];
  if (!x) return undefined;
  if (opset >= 12) {
    const training = inputs[2];
    if (training) {
      if (training.dtype !== DataType.BOOL) throw new KernelError(node, 'training_mode must be bool');
      if ((training.toArray() as Uint8Array)[0]) return undefined;
    }
  } else if (opset < 7 && node.getInt('is_test', 0) === 0) {
    return undefined;
  }
  const outs = [x];
  if (node.outputs.length > 1) {
    const mask = allocate(Uint8Array, x.size).fill(1);
    // Before opset 10 the mask had the input's type; from 10 on it is bool.
    if (opset >= 10) outs.push(makeTensor(DataType.BOOL, x.dims, mask));
    else return undefined;
  }
  return outs;
};

export const gatherKernel: KernelFn = (node, inputs) => {
  const [data, indices] = inputs;
  if (!data || !indices || !isElementAddressable(data.dtype)) return undefined;
  const idx = bigintsOf(indices);
  if (idx === undefined) return undefined;
  const r = data.rank;
  if (r === 0) throw new KernelError(node, 'data must have rank ≥ 1');
  const axis = normAxis(node, node.getInt('axis', 0), r);
  const dimAxis = data.dims[axis]!;
  const outer = sizeOf(data.dims.slice(0, axis));
  const inner = sizeOf(data.dims.slice(axis + 1));
  const outDims = [...data.dims.slice(0, axis), ...indices.dims, ...data.dims.slice(axis + 1)];
  const src = data.toArray();
  const out = newStorage(data.dtype, sizeOf(outDims));
  const norm = idx.map((v, k) => {
    const i = v < 0n ? v + BigInt(dimAxis) : v;
    if (i < 0n || i >= BigInt(dimAxis)) {
      throw new KernelError(node, `index ${v} (position ${k}) is out of range for axis ${axis} of size ${dimAxis}`);
    }
    return Number(i);
  });
  let pos = 0;
  for (let o = 0; o < outer; o++) {
    for (const i of norm) {
      const from = (o * dimAxis + i) * inner;
      copyRange(out, pos, src, from, inner);
      pos += inner;
    }
  }
  return [makeTensor(data.dtype, outDims, out)];
};

function copyRange(out: TypedArray, at: number, src: TypedArray, from: number, count: number): void {
  (out as Float64Array).set((src as Float64Array).subarray(from, from + count), at);
}

/** Axes from the attribute (before `inputOpset`) or from input 1; null when absent. */
function axesOf(node: Node, inputs: readonly (Tensor | null)[], opset: number, inputOpset: number): number[] | null | undefined {
  if (opset < inputOpset) return intsAttr(node, 'axes') ?? null;
  const t = inputs[1];
  if (!t) return null;
  return safeIntsOf(node, t, 'axes');
}

export const unsqueezeKernel: KernelFn = (node, inputs, opset) => {
  const x = inputs[0];
  if (!x) return undefined;
  const axes = axesOf(node, inputs, opset, 13);
  if (axes === undefined) return undefined;
  if (axes === null) throw new KernelError(node, 'axes are required');
  const r = x.rank + axes.length;
  const set = new Set<number>();
  for (const a of axes) {
    const n = normAxis(node, a, r, 'axis');
    if (set.has(n)) throw new KernelError(node, `axis ${a} is repeated`);
    set.add(n);
  }
  const dims: number[] = [];
  let k = 0;
  for (let i = 0; i < r; i++) dims.push(set.has(i) ? 1 : x.dims[k++]!);
  return [reshaped(x, dims)];
};

export const squeezeKernel: KernelFn = (node, inputs, opset) => {
  const x = inputs[0];
  if (!x) return undefined;
  const axes = axesOf(node, inputs, opset, 13);
  if (axes === undefined) return undefined;
  let drop: Set<number>;
  if (axes === null) {
    drop = new Set(x.dims.flatMap((d, i) => (d === 1 ? [i] : [])));
  } else {
    drop = new Set();
    for (const a of axes) {
      const n = normAxis(node, a, x.rank);
      if (x.dims[n] !== 1) throw new KernelError(node, `cannot squeeze axis ${a} of size ${x.dims[n]}`);
      drop.add(n);
    }
  }
  return [reshaped(x, x.dims.filter((_, i) => !drop.has(i)))];
};

export const concatKernel: KernelFn = (node, inputs) => {
  if (inputs.length === 0 || inputs.some((t) => t === null)) return undefined;
  const ts = inputs as Tensor[];
  const first = ts[0]!;
  if (!isElementAddressable(first.dtype)) return undefined;
  const axisAttr = node.getInt('axis');
  if (axisAttr === undefined) throw new KernelError(node, "attribute 'axis' is required");
  const r = first.rank;
  const axis = normAxis(node, axisAttr, r);
  let total = 0;
  for (const t of ts) {
    if (t.dtype !== first.dtype) throw new KernelError(node, `input types differ (${DataType[first.dtype]} vs ${DataType[t.dtype]})`);
    if (t.rank !== r || t.dims.some((d, i) => i !== axis && d !== first.dims[i])) {
      throw new KernelError(node, `input shapes ${JSON.stringify(first.dims)} and ${JSON.stringify(t.dims)} differ outside axis ${axis}`);
    }
    total += t.dims[axis]!;
  }
  const outDims = [...first.dims];
  outDims[axis] = total;
  const outer = sizeOf(first.dims.slice(0, axis));
  const inner = sizeOf(first.dims.slice(axis + 1));
  const out = newStorage(first.dtype, sizeOf(outDims));
  const srcs = ts.map((t) => t.toArray());
  let pos = 0;
  for (let o = 0; o < outer; o++) {
    ts.forEach((t, k) => {
      const chunk = t.dims[axis]! * inner;
      copyRange(out, pos, srcs[k]!, o * chunk, chunk);
      pos += chunk;
    });
  }
  return [makeTensor(first.dtype, outDims, out)];
};

/**
 * Resolved slice parameters for one axis, per the ONNX spec: negative starts/ends count from the
 * end, then clamp to [0, dim] (step > 0) or [0, dim-1] / [-1, dim-1] (step < 0).
 */
export function sliceAxis(dim: number, start: number, end: number, step: number): { start: number; count: number } {
  let s = start < 0 ? start + dim : start;
  let e = end < 0 ? end + dim : end;
  if (step > 0) {
    s = Math.min(Math.max(s, 0), dim);
    e = Math.min(Math.max(e, 0), dim);
  } else {
    s = Math.min(Math.max(s, 0), dim - 1);
    e = Math.min(Math.max(e, -1), dim - 1);
  }
  const count = Math.max(0, Math.ceil((e - s) / step));
  return { start: s, count };
}

export const sliceKernel: KernelFn = (node, inputs, opset) => {
  const x = inputs[0];
  if (!x || !isElementAddressable(x.dtype)) return undefined;
  let starts: bigint[];
  let ends: bigint[];
  let axes: bigint[] | undefined;
  let steps: bigint[] | undefined;
  if (opset < 10) {
    const a = node.attr('starts');
    const b = node.attr('ends');
    if (!a || !b) throw new KernelError(node, "attributes 'starts' and 'ends' are required");
    starts = [...(a.value as bigint[])];
    ends = [...(b.value as bigint[])];
    const ax = node.attr('axes');
    axes = ax ? [...(ax.value as bigint[])] : undefined;
  } else {
    const [, ts, te, ta, tp] = inputs;
    if (!ts || !te) return undefined;
    const s = bigintsOf(ts);
    const e = bigintsOf(te);
    if (!s || !e) return undefined;
    starts = s;
    ends = e;
    if (ta) axes = bigintsOf(ta);
    if (tp) steps = bigintsOf(tp);
    if ((ta && !axes) || (tp && !steps)) return undefined;
  }
  if (ends.length !== starts.length || (axes && axes.length !== starts.length) || (steps && steps.length !== starts.length)) {
    throw new KernelError(node, 'starts, ends, axes and steps must have the same length');
  }
  const r = x.rank;
  const begin = new Array<number>(r).fill(0);
  const step = new Array<number>(r).fill(1);
  const outDims = [...x.dims];
  const seen = new Set<number>();
  starts.forEach((s, k) => {
    const axis = normAxis(node, axes ? clampToSafe(axes[k]!) : k, r);
    if (seen.has(axis)) throw new KernelError(node, `axis ${axis} is repeated`);
    seen.add(axis);
    const st = steps ? clampToSafe(steps[k]!) : 1;
    if (st === 0) throw new KernelError(node, `step for axis ${axis} is 0`);
    const res = sliceAxis(x.dims[axis]!, clampToSafe(s), clampToSafe(ends[k]!), st);
    begin[axis] = res.start;
    step[axis] = st;
    outDims[axis] = res.count;
  });
  const inStrides = stridesOf(x.dims);
  let offset = 0;
  const strides = inStrides.map((s, i) => {
    offset += begin[i]! * s;
    return s * step[i]!;
  });
  if (sizeOf(outDims) === 0) offset = 0;
  return [makeTensor(x.dtype, outDims, gatherStrided(x.toArray(), outDims, strides, offset))];
};

/** Reshape target dims: 0 copies the input dim (unless allowzero), -1 is inferred. */
export function resolveReshape(node: Node, inDims: readonly number[], shape: readonly number[], allowZero: boolean): number[] {
  const dims = [...shape];
  let infer = -1;
  let known = 1;
  for (let i = 0; i < dims.length; i++) {
    const d = dims[i]!;
    if (d === -1) {
      if (infer >= 0) throw new KernelError(node, 'shape has more than one -1');
      infer = i;
    } else if (d === 0 && !allowZero) {
      if (i >= inDims.length) throw new KernelError(node, `shape[${i}] = 0 copies a dimension the input (rank ${inDims.length}) does not have`);
      dims[i] = inDims[i]!;
      known *= dims[i]!;
    } else if (d < 0) {
      throw new KernelError(node, `shape[${i}] = ${d} is invalid`);
    } else {
      known *= d;
    }
  }
  if (allowZero && infer >= 0 && dims.includes(0)) throw new KernelError(node, 'allowzero=1 forbids 0 together with -1');
  const total = sizeOf(inDims);
  if (infer >= 0) {
    if (known === 0 || total % known !== 0) {
      throw new KernelError(node, `cannot reshape ${JSON.stringify(inDims)} (${total} elements) to ${JSON.stringify(shape)}`);
    }
    dims[infer] = total / known;
  } else if (known !== total) {
    throw new KernelError(node, `cannot reshape ${JSON.stringify(inDims)} (${total} elements) to ${JSON.stringify(shape)}`);
  }
  return dims;
}

export const reshapeKernel: KernelFn = (node, inputs, opset) => {
  const x = inputs[0];
  if (!x) return undefined;
  let shape: number[] | undefined;
  if (opset < 5) shape = intsAttr(node, 'shape');
  else if (inputs[1]) shape = safeIntsOf(node, inputs[1], 'shape');
  if (shape === undefined) return undefined;
  const allowZero = opset >= 14 && node.getInt('allowzero', 0) === 1;
  return [reshaped(x, resolveReshape(node, x.dims, shape, allowZero))];
};

export const flattenKernel: KernelFn = (node, inputs) => {
  const x = inputs[0];
  if (!x) return undefined;
  const r = x.rank;
  let axis = node.getInt('axis', 1);
  if (axis < 0) axis += r;
  if (axis < 0 || axis > r) throw new KernelError(node, `axis ${node.getInt('axis', 1)} is out of range for rank ${r}`);
  return [reshaped(x, [sizeOf(x.dims.slice(0, axis)), sizeOf(x.dims.slice(axis))])];
};

export const transposeKernel: KernelFn = (node, inputs) => {
  const x = inputs[0];
  if (!x || !isElementAddressable(x.dtype)) return undefined;
  const r = x.rank;
  const perm = intsAttr(node, 'perm') ?? Array.from({ length: r }, (_, i) => r - 1 - i);
  const notPermutation = (): KernelError => new KernelError(node, `perm ${JSON.stringify(perm)} is not a permutation of ${r} axes`);
  if (perm.length !== r) throw notPermutation();
  const p = perm.map((a) => normAxis(node, a, r, 'perm entry'));
  if (new Set(p).size !== r) throw notPermutation();
  const inStrides = stridesOf(x.dims);
  const outDims = p.map((a) => x.dims[a]!);
  return [makeTensor(x.dtype, outDims, gatherStrided(x.toArray(), outDims, p.map((a) => inStrides[a]!)))];
};

export const expandKernel: KernelFn = (node, inputs) => {
  const [x, s] = inputs;
  if (!x || !s || !isElementAddressable(x.dtype)) return undefined;
  const shape = safeIntsOf(node, s, 'shape');
  if (shape === undefined) return undefined;
  const dims = broadcastShapes([x.dims, shape]);
  if (dims === null) throw new KernelError(node, `input shape ${JSON.stringify(x.dims)} cannot expand to ${JSON.stringify(shape)}`);
  return [makeTensor(x.dtype, dims, gatherStrided(x.toArray(), dims, broadcastStrides(x.dims, dims)))];
};

export const tileKernel: KernelFn = (node, inputs) => {
  const [x, rep] = inputs;
  if (!x || !rep || !isElementAddressable(x.dtype)) return undefined;
  const repeats = safeIntsOf(node, rep, 'repeats');
  if (repeats === undefined) return undefined;
  if (repeats.length !== x.rank || repeats.some((v) => v < 0)) {
    throw new KernelError(node, `repeats ${JSON.stringify(repeats)} must be ${x.rank} non-negative integers`);
  }
  const r = x.rank;
  const outDims = x.dims.map((d, i) => d * repeats[i]!);
  const n = sizeOf(outDims);
  const src = x.toArray();
  const out = newStorage(x.dtype, n);
  const o = out as unknown as { [i: number]: number | bigint };
  const s = src as unknown as { [i: number]: number | bigint };
  const inStrides = stridesOf(x.dims);
  const idx = new Array<number>(r).fill(0);
  for (let i = 0; i < n; i++) {
    let off = 0;
    for (let k = 0; k < r; k++) off += (idx[k]! % x.dims[k]!) * inStrides[k]!;
    o[i] = s[off]!;
    for (let k = r - 1; k >= 0; k--) {
      if (++idx[k]! < outDims[k]!) break;
      idx[k] = 0;
    }
  }
  return [makeTensor(x.dtype, outDims, out)];
};

export const constantOfShapeKernel: KernelFn = (node, inputs) => {
  const s = inputs[0];
  if (!s) return undefined;
  const dims = safeIntsOf(node, s, 'shape');
  if (dims === undefined) return undefined;
  if (dims.some((d) => d < 0)) throw new KernelError(node, `shape ${JSON.stringify(dims)} has a negative dimension`);
  const value = node.getTensor('value') ?? Tensor.scalar(DataType.FLOAT, 0);
  if (value.size !== 1) throw new KernelError(node, "attribute 'value' must hold exactly one element");
  if (!isElementAddressable(value.dtype)) return undefined;
  const v = (value.toArray() as unknown as { [i: number]: number | bigint })[0]!;
  const out = newStorage(value.dtype, sizeOf(dims));
  (out as Float64Array).fill(v as number);
  return [makeTensor(value.dtype, dims, out)];
};

/**
 * Range exactly as ONNX Runtime computes it: n = ceil((limit − start) / delta) with the
 * difference taken in the input type, then values accumulated by repeated `+= delta` in that
 * type (not start + i·delta), which matters for float32 bit-exactness.
 */
export const rangeKernel: KernelFn = (node, inputs) => {
  const [ts, tl, td] = inputs;
  if (!ts || !tl || !td) return undefined;
  if (ts.dtype !== tl.dtype || ts.dtype !== td.dtype) throw new KernelError(node, 'start, limit and delta must have the same type');
  if (ts.size !== 1 || tl.size !== 1 || td.size !== 1) throw new KernelError(node, 'start, limit and delta must be scalars');
  const dtype = ts.dtype;
  const MAX = 1 << 30;
  if (dtype === DataType.INT64) {
    const [start, limit, delta] = [ts, tl, td].map((t) => (t.toArray() as BigInt64Array)[0]!) as [bigint, bigint, bigint];
    if (delta === 0n) throw new KernelError(node, 'delta is 0');
    const n = Math.max(0, Math.ceil(Number(BigInt.asIntN(64, limit - start)) / Number(delta)));
    if (n > MAX) return undefined;
    const out = allocate(BigInt64Array, n);
    let v = start;
    for (let i = 0; i < n; i++) {
      out[i] = v;
      v = BigInt.asIntN(64, v + delta);
    }
    return [makeTensor(dtype, [n], out)];
  }
  if (dtype !== DataType.FLOAT && dtype !== DataType.DOUBLE && dtype !== DataType.INT32 && dtype !== DataType.INT16) return undefined;
  const [start, limit, delta] = [ts, tl, td].map((t) => Number((t.toArray() as Float64Array)[0])) as [number, number, number];
  if (delta === 0) throw new KernelError(node, 'delta is 0');
  const round = dtype === DataType.FLOAT ? Math.fround : dtype === DataType.DOUBLE ? (x: number) => x : dtype === DataType.INT32 ? (x: number) => x | 0 : (x: number) => (x << 16) >> 16;
  const n = Math.max(0, Math.ceil(round(limit - start) / delta));
  if (!Number.isFinite(n) || n > MAX) return undefined;
  const out = newStorage(dtype, n) as Float64Array;
  let v = start;
  for (let i = 0; i < n; i++) {
    out[i] = v;
    v = round(v + delta);
  }
  return [makeTensor(dtype, [n], out)];
};

function densify(node: Node, sp: SparseTensor): Tensor | undefined {
  const { values, indices, dims } = sp;
  if (!isElementAddressable(values.dtype)) return undefined;
  const n = sizeOf(dims);
  const out = newStorage(values.dtype, n);
  const o = out as unknown as { [i: number]: number | bigint };
  const v = values.toArray() as unknown as { [i: number]: number | bigint };
  const idx = bigintsOf(indices);
  if (!idx) return undefined;
  const nnz = values.size;
  const strides = stridesOf(dims);
  const linear = indices.rank === 1;
  for (let k = 0; k < nnz; k++) {
    let at = 0;
    if (linear) at = Number(idx[k]!);
    else for (let j = 0; j < dims.length; j++) at += Number(idx[k * dims.length + j]!) * strides[j]!;
    if (at < 0 || at >= n) throw new KernelError(node, `sparse index ${at} is out of range for ${JSON.stringify(dims)}`);
    o[at] = v[k]!;
  }
  return makeTensor(values.dtype, dims, out);
}

/** Constant: every value_* attribute (and sparse_value, densified). */
export const constantKernel: KernelFn = (node) => {
  for (const a of node.attributes.values()) {
    if (a.isRef) return undefined;
    switch (a.name) {
      case 'value':
        return [a.asTensor()];
      case 'value_float':
        return [Tensor.scalar(DataType.FLOAT, a.asFloat())];
      case 'value_floats': {
        const f = a.asFloats();
        return [Tensor.fromNumbers(DataType.FLOAT, [f.length], f)];
      }
      case 'value_int':
        return [Tensor.scalar(DataType.INT64, a.asBigInt())];
      case 'value_ints': {
        const v = a.value as readonly bigint[];
        return [Tensor.fromNumbers(DataType.INT64, [v.length], v)];
      }
      case 'value_string':
        return [Tensor.fromStrings([], [a.asString()])];
      case 'value_strings': {
        const s = a.asStrings();
        return [Tensor.fromStrings([s.length], s)];
      }
      case 'sparse_value': {
        const t = densify(node, a.value as SparseTensor);
        return t ? [t] : undefined;
      }
      default:
        break;
    }
  }
  throw new KernelError(node, 'Constant has no value attribute');
};

export const castKernel: KernelFn = (node, inputs) => {
  const x = inputs[0];
  if (!x) return undefined;
  const to = node.getInt('to');
  if (to === undefined) throw new KernelError(node, "attribute 'to' is required");
  const sat = node.attr('saturate');
  if (sat !== undefined && node.getInt('saturate', 1) === 0) return undefined;
  const t = castTensor(x, to as DataType);
  return t ? [t] : undefined;
};

export const castLikeKernel: KernelFn = (_node, inputs) => {
  const [x, like] = inputs;
  if (!x || !like) return undefined;
  const t = castTensor(x, like.dtype);
  return t ? [t] : undefined;
};

