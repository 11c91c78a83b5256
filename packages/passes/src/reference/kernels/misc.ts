/**
 * Further reference kernels: Trilu, CumSum, OneHot, EyeLike, TopK, GatherND, ScatterND,
 * ScatterElements, Compress, NonZero, QuantizeLinear / DequantizeLinear (per-tensor and per-axis,
 * int8/uint8; saturating, round half to even).
 */
import { DataType, type Node } from '@onnxkit/graph';
import { ReferenceInputError, ReferenceUnsupportedError } from '../errors.js';
import { allocF64, allocI64, allocLike, copyData, f64Of, gatherData, intsOf, normAxis, sizeOf, stridesOf, type AnyData } from '../tensor.js';
import type { ReferenceKernel, RefTensor } from '../types.js';

function need(node: Node, t: RefTensor | null | undefined, what: string): RefTensor {
  if (t === null || t === undefined) throw new ReferenceInputError(node, `${what} is missing`);
  return t;
}

type Writable = { [i: number]: unknown; length: number };

export const triluRef: ReferenceKernel = (node, inputs) => {
  const x = need(node, inputs[0], 'input');
  const k = inputs[1] ? intsOf(node, inputs[1], 'k')[0]! : 0;
  const upper = node.getInt('upper', 1) !== 0;
  const r = x.dims.length;
  const R = x.dims[r - 2]!;
  const C = x.dims[r - 1]!;
  const out = copyData(x.data) as unknown as Writable;
  const zero = x.data instanceof BigInt64Array ? 0n : x.dtype === DataType.BOOL ? false : 0;
  const mats = sizeOf(x.dims.slice(0, -2));
  for (let m = 0; m < mats; m++) {
    for (let i = 0; i < R; i++) {
      for (let j = 0; j < C; j++) {
        const keep = upper ? j - i >= k : j - i <= k;
        if (!keep) out[(m * R + i) * C + j] = zero;
      }
    }
  }
  return [{ dtype: x.dtype, dims: x.dims, data: out as unknown as AnyData }];
};

export const cumSumRef: ReferenceKernel = (node, inputs) => {
  const x = need(node, inputs[0], 'x');
  const axis = normAxis(node, intsOf(node, need(node, inputs[1], 'axis'), 'axis')[0]!, x.dims.length);
  const exclusive = node.getInt('exclusive', 0) !== 0;
  const reverse = node.getInt('reverse', 0) !== 0;
  const outer = sizeOf(x.dims.slice(0, axis));
  const len = x.dims[axis]!;
  const inner = sizeOf(x.dims.slice(axis + 1));
  const big = x.data instanceof BigInt64Array;
  const src = x.data as ArrayLike<number | bigint>;
  const out = (big ? allocI64(src.length) : allocF64(src.length)) as unknown as Writable;
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < inner; j++) {
      let acc: number | bigint = big ? 0n : 0;
      for (let s = 0; s < len; s++) {
        const i = reverse ? len - 1 - s : s;
        const at = (o * len + i) * inner + j;
        if (exclusive) {
          out[at] = acc;
          acc = (acc as number) + (src[at] as number);
        } else {
          acc = (acc as number) + (src[at] as number);
          out[at] = acc;
        }
      }
    }
  }
  return [{ dtype: x.dtype, dims: x.dims, data: out as unknown as AnyData }];
};

export const oneHotRef: ReferenceKernel = (node, inputs) => {
  const idx = f64Of(need(node, inputs[0], 'indices'));
  const idxDims = inputs[0]!.dims;
  const depth = Math.trunc(f64Of(need(node, inputs[1], 'depth'))[0]!);
  const values = need(node, inputs[2], 'values');
  const r = idxDims.length + 1;
  const axis = normAxis(node, node.getInt('axis', -1), r);
  const dims = [...idxDims.slice(0, axis), depth, ...idxDims.slice(axis)];
  const outer = sizeOf(idxDims.slice(0, axis));
  const inner = sizeOf(idxDims.slice(axis));
  const v = values.data as ArrayLike<unknown>;
  const out = allocLike(values.data, sizeOf(dims)) as Writable;
  for (let i = 0; i < out.length; i++) out[i] = v[0];
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < inner; j++) {
      let k = idx[o * inner + j]!;
      if (k < 0) k += depth;
      if (k >= 0 && k < depth) out[(o * depth + k) * inner + j] = v[1];
    }
  }
  return [{ dtype: values.dtype, dims, data: out as unknown as AnyData }];
};

export const eyeLikeRef: ReferenceKernel = (node, inputs) => {
  const x = need(node, inputs[0], 'input');
  const dtype = (node.getInt('dtype') as DataType | undefined) ?? x.dtype;
  const k = node.getInt('k', 0);
  const [R, C] = x.dims as [number, number];
  const big = dtype === DataType.INT64 || dtype === DataType.UINT64;
  if (dtype === DataType.BOOL || dtype === DataType.STRING) throw new ReferenceUnsupportedError(node, `EyeLike of ${DataType[dtype]} is not supported`);
  const out = (big ? allocI64(R * C) : allocF64(R * C)) as unknown as Writable;
  for (let i = 0; i < R; i++) {
    const j = i + k;
    if (j >= 0 && j < C) out[i * C + j] = big ? 1n : 1;
  }
  return [{ dtype, dims: [R, C], data: out as unknown as AnyData }];
};

export const topKRef: ReferenceKernel = (node, inputs) => {
  const x = need(node, inputs[0], 'X');
  const k = intsOf(node, need(node, inputs[1], 'K'), 'K')[0]!;
  const axis = normAxis(node, node.getInt('axis', -1), x.dims.length);
  const largest = node.getInt('largest', 1) !== 0;
  const vals = f64Of(x);
  const outer = sizeOf(x.dims.slice(0, axis));
  const len = x.dims[axis]!;
  const inner = sizeOf(x.dims.slice(axis + 1));
  const dims = x.dims.map((d, i) => (i === axis ? k : d));
  const outIdx = allocI64(outer * k * inner);
  const index = new Float64Array(outer * k * inner);
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < inner; j++) {
      const order = Array.from({ length: len }, (_, i) => i);
      // Stable: equal values keep the lower index first (as onnxruntime).
      order.sort((p, q) => {
        const a = vals[(o * len + p) * inner + j]!;
        const b = vals[(o * len + q) * inner + j]!;
        return a === b ? p - q : largest ? b - a : a - b;
      });
      for (let s = 0; s < k; s++) {
        const at = (o * k + s) * inner + j;
        outIdx[at] = BigInt(order[s]!);
        index[at] = (o * len + order[s]!) * inner + j;
      }
    }
  }
  return [
    { dtype: x.dtype, dims, data: gatherData(x.data, index) },
    { dtype: DataType.INT64, dims, data: outIdx },
  ];
};

export const gatherNDRef: ReferenceKernel = (node, inputs) => {
  const x = need(node, inputs[0], 'data');
  const it = need(node, inputs[1], 'indices');
  const b = node.getInt('batch_dims', 0);
  const idx = intsOf(node, it, 'indices');
  const q = it.dims.length;
  const last = it.dims[q - 1]!;
  const batch = sizeOf(x.dims.slice(0, b));
  const sliceDims = x.dims.slice(b + last);
  const slice = sizeOf(sliceDims);
  const dims = [...it.dims.slice(0, q - 1), ...sliceDims];
  const perBatch = sizeOf(it.dims.slice(b, q - 1));
  const xs = stridesOf(x.dims.slice(b));
  const batchSize = sizeOf(x.dims.slice(b));
  const index = new Float64Array(sizeOf(dims));
  let at = 0;
  for (let bi = 0; bi < batch; bi++) {
    for (let p = 0; p < perBatch; p++) {
      let off = bi * batchSize;
      for (let d = 0; d < last; d++) {
        let v = idx[(bi * perBatch + p) * last + d]!;
        if (v < 0) v += x.dims[b + d]!;
        off += v * xs[d]!;
      }
      for (let s = 0; s < slice; s++) index[at++] = off + s;
    }
  }
  return [{ dtype: x.dtype, dims, data: gatherData(x.data, index) }];
};

function reduceInto(node: Node, mode: string, out: Writable, at: number, v: unknown): void {
  if (mode === 'none') out[at] = v;
  else if (mode === 'add') out[at] = (out[at] as number) + (v as number);
  else if (mode === 'mul') out[at] = (out[at] as number) * (v as number);
  else if (mode === 'max') out[at] = (v as number) > (out[at] as number) ? v : out[at];
  else if (mode === 'min') out[at] = (v as number) < (out[at] as number) ? v : out[at];
  else throw new ReferenceUnsupportedError(node, `reduction '${mode}' is not supported`);
}

export const scatterNDRef: ReferenceKernel = (node, inputs) => {
  const x = need(node, inputs[0], 'data');
  const it = need(node, inputs[1], 'indices');
  const u = need(node, inputs[2], 'updates');
  const mode = node.getString('reduction', 'none');
  const idx = intsOf(node, it, 'indices');
  const last = it.dims[it.dims.length - 1]!;
  const n = sizeOf(it.dims.slice(0, -1));
  const slice = sizeOf(x.dims.slice(last));
  const xs = stridesOf(x.dims);
  const out = copyData(x.data) as unknown as Writable;
  const ud = u.data as ArrayLike<unknown>;
  for (let p = 0; p < n; p++) {
    let off = 0;
    for (let d = 0; d < last; d++) {
      let v = idx[p * last + d]!;
      if (v < 0) v += x.dims[d]!;
      off += v * xs[d]!;
    }
    for (let s = 0; s < slice; s++) reduceInto(node, mode, out, off + s, ud[p * slice + s]);
  }
  return [{ dtype: x.dtype, dims: x.dims, data: out as unknown as AnyData }];
};

export const scatterElementsRef: ReferenceKernel = (node, inputs) => {
  const x = need(node, inputs[0], 'data');
  const it = need(node, inputs[1], 'indices');
  const u = need(node, inputs[2], 'updates');
  const axis = normAxis(node, node.getInt('axis', 0), x.dims.length);
  const mode = node.getString('reduction', 'none');
  const idx = intsOf(node, it, 'indices');
  const xs = stridesOf(x.dims);
  const is = stridesOf(it.dims);
  const out = copyData(x.data) as unknown as Writable;
  const ud = u.data as ArrayLike<unknown>;
  for (let i = 0; i < idx.length; i++) {
    let rem = i;
    let off = 0;
    for (let d = 0; d < it.dims.length; d++) {
      const c = Math.floor(rem / is[d]!);
      rem -= c * is[d]!;
      let j = c;
      if (d === axis) {
        j = idx[i]!;
        if (j < 0) j += x.dims[axis]!;
      }
      off += j * xs[d]!;
    }
    reduceInto(node, mode, out, off, ud[i]);
  }
  return [{ dtype: x.dtype, dims: x.dims, data: out as unknown as AnyData }];
};

export const compressRef: ReferenceKernel = (node, inputs) => {
  const x = need(node, inputs[0], 'input');
  const cond = need(node, inputs[1], 'condition').data as readonly boolean[];
  const axisAttr = node.getInt('axis');
  const src = x.data as ArrayLike<unknown>;
  if (axisAttr === undefined) {
    const keep: number[] = [];
    for (let i = 0; i < Math.min(cond.length, src.length); i++) if (cond[i]) keep.push(i);
    return [{ dtype: x.dtype, dims: [keep.length], data: gatherData(x.data, keep) }];
  }
  const axis = normAxis(node, axisAttr, x.dims.length);
  const len = x.dims[axis]!;
  const sel: number[] = [];
  for (let i = 0; i < Math.min(cond.length, len); i++) if (cond[i]) sel.push(i);
  const outer = sizeOf(x.dims.slice(0, axis));
  const inner = sizeOf(x.dims.slice(axis + 1));
  const index: number[] = [];
  for (let o = 0; o < outer; o++) for (const s of sel) for (let j = 0; j < inner; j++) index.push((o * len + s) * inner + j);
  return [{ dtype: x.dtype, dims: x.dims.map((d, i) => (i === axis ? sel.length : d)), data: gatherData(x.data, index) }];
};

export const nonZeroRef: ReferenceKernel = (node, inputs) => {
  const x = need(node, inputs[0], 'X');
  const src = x.data as ArrayLike<unknown>;
  const r = x.dims.length;
  const st = stridesOf(x.dims);
  const hits: number[] = [];
  for (let i = 0; i < src.length; i++) if (src[i] !== 0 && src[i] !== 0n && src[i] !== false && src[i] !== '') hits.push(i);
  const out = allocI64(r * hits.length);
  hits.forEach((flat, h) => {
    let rem = flat;
    for (let d = 0; d < r; d++) {
      const c = Math.floor(rem / st[d]!);
      rem -= c * st[d]!;
      out[d * hits.length + h] = BigInt(c);
    }
  });
  return [{ dtype: DataType.INT64, dims: [r, hits.length], data: out }];
};

function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** Per-tensor or per-axis parameters of (De)QuantizeLinear, broadcast to every element index. */
function paramAt(node: Node, x: RefTensor, p: RefTensor | null | undefined, fallback: number): (i: number) => number {
  if (p === null || p === undefined) return () => fallback;
  const v = f64Of(p);
  if (v.length === 1) return () => v[0]!;
  if (p.dims.length !== 1) throw new ReferenceUnsupportedError(node, 'blocked quantization is not supported');
  const axis = normAxis(node, node.getInt('axis', 1), x.dims.length);
  const inner = sizeOf(x.dims.slice(axis + 1));
  const len = x.dims[axis]!;
  return (i) => v[Math.floor(i / inner) % len]!;
}

export const quantizeLinearRef: ReferenceKernel = (node, inputs) => {
  const x = need(node, inputs[0], 'x');
  const zp = inputs[2];
  const to = zp?.dtype ?? DataType.UINT8;
  const [lo, hi] = to === DataType.INT8 ? [-128, 127] : to === DataType.UINT8 ? [0, 255] : to === DataType.INT16 ? [-32768, 32767] : to === DataType.UINT16 ? [0, 65535] : [NaN, NaN];
  if (Number.isNaN(lo)) throw new ReferenceUnsupportedError(node, `QuantizeLinear to ${DataType[to]} is not supported`);
  const scale = paramAt(node, x, need(node, inputs[1], 'y_scale'), 1);
  const zero = paramAt(node, x, zp, 0);
  const xv = f64Of(x);
  const out = allocF64(xv.length);
  for (let i = 0; i < xv.length; i++) out[i] = Math.max(lo!, Math.min(hi!, roundHalfEven(xv[i]! / scale(i)) + zero(i)));
  return [{ dtype: to, dims: x.dims, data: out }];
};

export const dequantizeLinearRef: ReferenceKernel = (node, inputs) => {
  const x = need(node, inputs[0], 'x');
  if (x.data instanceof BigInt64Array || !(x.data instanceof Float64Array)) throw new ReferenceUnsupportedError(node, `DequantizeLinear of ${DataType[x.dtype]} is not supported`);
  const scaleT = need(node, inputs[1], 'x_scale');
  const scale = paramAt(node, x, scaleT, 1);
  const zero = paramAt(node, x, inputs[2], 0);
  const xv = x.data;
  const out = allocF64(xv.length);
  for (let i = 0; i < xv.length; i++) out[i] = (xv[i]! - zero(i)) * scale(i);
  return [{ dtype: scaleT.dtype, dims: x.dims, data: out }];
};
