/**
 * Data movement and shape ops in the reference: Reshape, Flatten, Squeeze, Unsqueeze, Identity,
 * Dropout (inference), Concat, Split, Slice, Gather, GatherElements, Transpose, Expand, Tile,
 * Pad, Shape, Size, Constant, ConstantOfShape, Range, Cast, CastLike, DepthToSpace, SpaceToDepth.
 * They move elements without arithmetic, so they keep any element kind (float64, bigint, bool,
 * string); Cast is the one that converts.
 */
import { AttributeType, bfloat16BitsToNumber, DataType, float16BitsToNumber, numberToBfloat16Bits, numberToFloat16Bits, type Node } from '@onnxkit/graph';
import { ReferenceInputError, ReferenceUnsupportedError } from './errors.js';
import { allocBools, allocF64, allocI64, allocLike, broadcastIndex, broadcastShapes, copyData, f64Of, gatherData, intsOf, isBigIntDtype, isF64Dtype, normAxis, refFromTensor, sizeOf, stridedOffsets, stridesOf, type AnyData } from './tensor.js';
import { smallIntBits } from '../tensor-data.js';
import type { ReferenceKernel, RefTensor } from '../../ops/types.js';

function need(node: Node, t: RefTensor | null | undefined, what: string): RefTensor {
  if (t === null || t === undefined) throw new ReferenceInputError(node, `${what} is missing`);
  return t;
}

const view = (t: RefTensor, dims: readonly number[]): RefTensor => ({ dtype: t.dtype, dims: [...dims], data: t.data });

export const reshapeRef: ReferenceKernel = (node, inputs) => {
  const x = need(node, inputs[0], 'data');
  const shape = intsOf(node, need(node, inputs[1], 'shape'), 'shape');
  const allowZero = node.getInt('allowzero', 0) !== 0;
  const dims = shape.map((d, i) => (d === 0 && !allowZero ? (x.dims[i] ?? 0) : d));
  const minus = dims.indexOf(-1);
  if (minus >= 0) {
    const known = sizeOf(dims.filter((_, i) => i !== minus));
    dims[minus] = known === 0 ? 0 : sizeOf(x.dims) / known;
  }
  if (sizeOf(dims) !== sizeOf(x.dims) || dims.some((d) => !Number.isInteger(d) || d < 0)) {
    throw new ReferenceInputError(node, `cannot reshape [${x.dims.join(',')}] to [${shape.join(',')}]`);
  }
  return [view(x, dims)];
};

export const flattenRef: ReferenceKernel = (node, inputs) => {
  const x = need(node, inputs[0], 'input');
  const r = x.dims.length;
  let axis = node.getInt('axis', 1);
  if (axis < 0) axis += r;
  return [view(x, [sizeOf(x.dims.slice(0, axis)), sizeOf(x.dims.slice(axis))])];
};

function axesArg(node: Node, inputs: readonly (RefTensor | null)[], opset: number, since: number): number[] | undefined {
  if (opset >= since) return inputs[1] ? intsOf(node, inputs[1], 'axes') : undefined;
  return node.getInts('axes');
}

export const squeezeRef: ReferenceKernel = (node, inputs, opset) => {
  const x = need(node, inputs[0], 'data');
  const axes = axesArg(node, inputs, opset, 13);
  const r = x.dims.length;
  const drop = new Set((axes ?? x.dims.map((d, i) => (d === 1 ? i : -1)).filter((i) => i >= 0)).map((a) => normAxis(node, a, r)));
  for (const a of drop) if (x.dims[a] !== 1) throw new ReferenceInputError(node, `cannot squeeze axis ${a} of size ${x.dims[a]}`);
  return [view(x, x.dims.filter((_, i) => !drop.has(i)))];
};

export const unsqueezeRef: ReferenceKernel = (node, inputs, opset) => {
  const x = need(node, inputs[0], 'data');
  const axes = axesArg(node, inputs, opset, 13);
  if (axes === undefined) throw new ReferenceInputError(node, 'axes are required');
  const r = x.dims.length + axes.length;
  const set = new Set(axes.map((a) => normAxis(node, a, r)));
  const dims: number[] = [];
  let j = 0;
  for (let i = 0; i < r; i++) dims.push(set.has(i) ? 1 : x.dims[j++]!);
  return [view(x, dims)];
};

export const dropoutRef: ReferenceKernel = (node, inputs) => {
  const x = need(node, inputs[0], 'data');
  const training = inputs[2];
  if (training && (training.data as readonly boolean[])[0] === true) throw new ReferenceUnsupportedError(node, 'Dropout in training mode is random; not supported');
  const mask = allocBools(sizeOf(x.dims)).fill(true);
  return [x, { dtype: DataType.BOOL, dims: x.dims, data: mask }];
};

export const concatRef: ReferenceKernel = (node, inputs) => {
  const xs = inputs.filter((t): t is RefTensor => t !== null);
  if (xs.length === 0) throw new ReferenceInputError(node, 'needs at least one input');
  const first = xs[0]!;
  const r = first.dims.length;
  const axis = normAxis(node, node.getInt('axis', 0), r);
  const dims = [...first.dims];
  dims[axis] = xs.reduce((s, t) => s + t.dims[axis]!, 0);
  const outer = sizeOf(dims.slice(0, axis));
  const inner = sizeOf(dims.slice(axis + 1));
  const out = allocLike(first.data, sizeOf(dims)) as { [i: number]: unknown };
  let at = 0;
  for (let o = 0; o < outer; o++) {
    for (const t of xs) {
      const chunk = t.dims[axis]! * inner;
      const src = t.data as ArrayLike<unknown>;
      const base = o * chunk;
      for (let i = 0; i < chunk; i++) out[at++] = src[base + i];
    }
  }
  return [{ dtype: first.dtype, dims, data: out as unknown as AnyData }];
};

function sliceAlong(t: RefTensor, axis: number, start: number, len: number): RefTensor {
  const dims = [...t.dims];
  const outer = sizeOf(dims.slice(0, axis));
  const inner = sizeOf(dims.slice(axis + 1));
  const full = dims[axis]!;
  dims[axis] = len;
  const out = allocLike(t.data, sizeOf(dims)) as { [i: number]: unknown };
  const src = t.data as ArrayLike<unknown>;
  let at = 0;
  for (let o = 0; o < outer; o++) {
    const base = (o * full + start) * inner;
    for (let i = 0; i < len * inner; i++) out[at++] = src[base + i];
  }
  return { dtype: t.dtype, dims, data: out as unknown as AnyData };
}

export const splitRef: ReferenceKernel = (node, inputs, opset) => {
  const x = need(node, inputs[0], 'input');
  const axis = normAxis(node, node.getInt('axis', 0), x.dims.length);
  const n = node.outputs.length;
  const len = x.dims[axis]!;
  let sizes: number[] | undefined = opset >= 13 ? (inputs[1] ? intsOf(node, inputs[1], 'split') : undefined) : node.getInts('split');
  if (sizes === undefined) {
    const numOutputs = node.getInt('num_outputs', n);
    const chunk = Math.ceil(len / numOutputs);
    sizes = Array.from({ length: numOutputs }, (_, i) => Math.max(0, Math.min(chunk, len - i * chunk)));
  }
  if (sizes.reduce((a, b) => a + b, 0) !== len) throw new ReferenceInputError(node, `split sizes [${sizes.join(',')}] do not add up to ${len}`);
  const outs: RefTensor[] = [];
  let start = 0;
  for (const s of sizes) {
    outs.push(sliceAlong(x, axis, start, s));
    start += s;
  }
  return outs;
};

export const sliceRef: ReferenceKernel = (node, inputs, opset) => {
  const x = need(node, inputs[0], 'data');
  const r = x.dims.length;
  let starts: number[];
  let ends: number[];
  let axes: number[] | undefined;
  let steps: number[] | undefined;
  if (opset < 10) {
    starts = node.getInts('starts') ?? [];
    ends = node.getInts('ends') ?? [];
    axes = node.getInts('axes');
  } else {
    starts = intsOf(node, need(node, inputs[1], 'starts'), 'starts');
    ends = intsOf(node, need(node, inputs[2], 'ends'), 'ends');
    axes = inputs[3] ? intsOf(node, inputs[3], 'axes') : undefined;
    steps = inputs[4] ? intsOf(node, inputs[4], 'steps') : undefined;
  }
  axes ??= starts.map((_, i) => i);
  const begin = new Array<number>(r).fill(0);
  const step = new Array<number>(r).fill(1);
  const dims = [...x.dims];
  axes.forEach((a0, i) => {
    const a = normAxis(node, a0, r);
    const d = x.dims[a]!;
    const s = steps?.[i] ?? 1;
    if (s === 0) throw new ReferenceInputError(node, 'a slice step cannot be 0');
    let st = starts[i]!;
    let en = ends[i]!;
    if (st < 0) st += d;
    if (en < 0) en += d;
    if (s > 0) {
      st = Math.max(0, Math.min(d, st));
      en = Math.max(0, Math.min(d, en));
      dims[a] = Math.max(0, Math.ceil((en - st) / s));
    } else {
      st = Math.max(-1, Math.min(d - 1, st));
      en = Math.max(-1, Math.min(d - 1, en));
      dims[a] = Math.max(0, Math.ceil((en - st) / s));
    }
    begin[a] = st;
    step[a] = s;
  });
  const inStrides = stridesOf(x.dims);
  let start = 0;
  for (let d = 0; d < r; d++) start += begin[d]! * inStrides[d]!;
  const index = stridedOffsets(dims, step.map((s, d) => s * inStrides[d]!), new Float64Array(sizeOf(dims)), start);
  return [{ dtype: x.dtype, dims, data: gatherData(x.data, index) }];
};

/** data, indices (as numbers) and the normalized axis of Gather and GatherElements. */
function gatherOperands(node: Node, inputs: readonly (RefTensor | null)[]) {
  const x = need(node, inputs[0], 'data');
  const idxT = need(node, inputs[1], 'indices');
  return { x, idxT, r: x.dims.length, axis: normAxis(node, node.getInt('axis', 0), x.dims.length), idx: intsOf(node, idxT, 'indices') };
}

export const gatherRef: ReferenceKernel = (node, inputs) => {
  const { x, idxT, axis, idx } = gatherOperands(node, inputs);
  const d = x.dims[axis]!;
  const outer = sizeOf(x.dims.slice(0, axis));
  const inner = sizeOf(x.dims.slice(axis + 1));
  const dims = [...x.dims.slice(0, axis), ...idxT.dims, ...x.dims.slice(axis + 1)];
  const index = new Float64Array(sizeOf(dims));
  let at = 0;
  for (let o = 0; o < outer; o++) {
    for (const i0 of idx) {
      const i = i0 < 0 ? i0 + d : i0;
      if (i < 0 || i >= d) throw new ReferenceInputError(node, `index ${i0} is out of range for axis ${axis} of size ${d}`);
      const base = (o * d + i) * inner;
      for (let k = 0; k < inner; k++) index[at++] = base + k;
    }
  }
  return [{ dtype: x.dtype, dims, data: gatherData(x.data, index) }];
};

export const gatherElementsRef: ReferenceKernel = (node, inputs) => {
  const { x, idxT, r, axis, idx } = gatherOperands(node, inputs);
  const xs = stridesOf(x.dims);
  const is = stridesOf(idxT.dims);
  const index = new Float64Array(idx.length);
  for (let i = 0; i < idx.length; i++) {
    let rem = i;
    let off = 0;
    for (let k = 0; k < r; k++) {
      const c = Math.floor(rem / is[k]!);
      rem -= c * is[k]!;
      if (k === axis) {
        let j = idx[i]!;
        if (j < 0) j += x.dims[axis]!;
        if (j < 0 || j >= x.dims[axis]!) throw new ReferenceInputError(node, `index ${idx[i]} is out of range`);
        off += j * xs[k]!;
      } else off += c * xs[k]!;
    }
    index[i] = off;
  }
  return [{ dtype: x.dtype, dims: idxT.dims, data: gatherData(x.data, index) }];
};

export const transposeRef: ReferenceKernel = (node, inputs) => {
  const x = need(node, inputs[0], 'data');
  const r = x.dims.length;
  const perm = node.getInts('perm') ?? Array.from({ length: r }, (_, i) => r - 1 - i);
  const dims = perm.map((p) => x.dims[p]!);
  const inStrides = stridesOf(x.dims);
  const index = stridedOffsets(dims, perm.map((p) => inStrides[p]!), new Float64Array(sizeOf(dims)));
  return [{ dtype: x.dtype, dims, data: gatherData(x.data, index) }];
};

export const expandRef: ReferenceKernel = (node, inputs) => {
  const x = need(node, inputs[0], 'input');
  const shape = intsOf(node, need(node, inputs[1], 'shape'), 'shape');
  const dims = broadcastShapes(node, [x.dims, shape]);
  const idx = broadcastIndex(x.dims, dims);
  return [{ dtype: x.dtype, dims, data: idx === null ? copyData(x.data) : gatherData(x.data, idx) }];
};

export const tileRef: ReferenceKernel = (node, inputs) => {
  const x = need(node, inputs[0], 'input');
  const reps = intsOf(node, need(node, inputs[1], 'repeats'), 'repeats');
  const r = x.dims.length;
  const dims = x.dims.map((d, i) => d * reps[i]!);
  const inStrides = stridesOf(x.dims);
  const outStrides = stridesOf(dims);
  const n = sizeOf(dims);
  const index = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let rem = i;
    let off = 0;
    for (let k = 0; k < r; k++) {
      const c = Math.floor(rem / outStrides[k]!);
      rem -= c * outStrides[k]!;
      off += (c % x.dims[k]!) * inStrides[k]!;
    }
    index[i] = off;
  }
  return [{ dtype: x.dtype, dims, data: gatherData(x.data, index) }];
};

export const padRef: ReferenceKernel = (node, inputs, opset) => {
  const x = need(node, inputs[0], 'data');
  const r = x.dims.length;
  const mode = node.getString('mode', 'constant');
  let pads: number[];
  let cval: unknown = x.data instanceof BigInt64Array ? 0n : x.dtype === DataType.BOOL ? false : x.dtype === DataType.STRING ? '' : 0;
  if (opset < 11) {
    pads = node.getInts('pads') ?? [];
    cval = node.getFloat('value', 0);
  } else {
    const p = intsOf(node, need(node, inputs[1], 'pads'), 'pads');
    if (inputs[2] && sizeOf(inputs[2].dims) > 0) cval = (inputs[2].data as ArrayLike<unknown>)[0];
    const axes = inputs[3] ? intsOf(node, inputs[3], 'axes').map((a) => normAxis(node, a, r)) : null;
    if (axes === null) pads = p;
    else {
      pads = new Array<number>(2 * r).fill(0);
      axes.forEach((a, i) => {
        pads[a] = p[i]!;
        pads[a + r] = p[i + axes.length]!;
      });
    }
  }
  if (pads.length !== 2 * r) throw new ReferenceInputError(node, `pads has ${pads.length} entries, expected ${2 * r}`);
  const dims = x.dims.map((d, i) => d + pads[i]! + pads[i + r]!);
  const n = sizeOf(dims);
  const out = allocLike(x.data, n) as { [i: number]: unknown };
  const src = x.data as ArrayLike<unknown>;
  const inStrides = stridesOf(x.dims);
  const outStrides = stridesOf(dims);
  for (let i = 0; i < n; i++) {
    let rem = i;
    let off = 0;
    let inside = true;
    for (let k = 0; k < r; k++) {
      const c = Math.floor(rem / outStrides[k]!);
      rem -= c * outStrides[k]!;
      let j = c - pads[k]!;
      const d = x.dims[k]!;
      if (j < 0 || j >= d) {
        if (mode === 'constant') {
          inside = false;
          break;
        } else if (mode === 'edge') j = j < 0 ? 0 : d - 1;
        else if (mode === 'reflect') {
          if (d === 1) j = 0;
          else {
            const period = 2 * (d - 1);
            j = ((j % period) + period) % period;
            if (j >= d) j = period - j;
          }
        } else if (mode === 'wrap') j = ((j % d) + d) % d;
        else throw new ReferenceUnsupportedError(node, `Pad mode '${mode}' is not supported`);
      }
      off += j * inStrides[k]!;
    }
    out[i] = inside ? src[off] : cval;
  }
  return [{ dtype: x.dtype, dims, data: out as unknown as AnyData }];
};

export const shapeRef: ReferenceKernel = (node, inputs) => {
  const x = need(node, inputs[0], 'data');
  const r = x.dims.length;
  let start = node.getInt('start', 0);
  let end = node.getInt('end', r);
  if (start < 0) start += r;
  if (end < 0) end += r;
  start = Math.max(0, Math.min(r, start));
  end = Math.max(start, Math.min(r, end));
  const dims = x.dims.slice(start, end);
  return [{ dtype: DataType.INT64, dims: [dims.length], data: BigInt64Array.from(dims, (d) => BigInt(d)) }];
};

export const sizeRef: ReferenceKernel = (node, inputs) => {
  const x = need(node, inputs[0], 'data');
  return [{ dtype: DataType.INT64, dims: [], data: BigInt64Array.of(BigInt(sizeOf(x.dims))) }];
};

export const constantRef: ReferenceKernel = (node) => {
  const a = [...node.attributes.values()][0];
  if (a === undefined) throw new ReferenceInputError(node, 'Constant has no value attribute');
  switch (a.type) {
    case AttributeType.TENSOR:
      return [refFromTensor(node.getTensor(a.name)!)];
    case AttributeType.FLOAT:
      return [{ dtype: DataType.FLOAT, dims: [], data: Float64Array.of(node.getFloat(a.name)!) }];
    case AttributeType.FLOATS: {
      const v = node.getFloats(a.name)!;
      return [{ dtype: DataType.FLOAT, dims: [v.length], data: Float64Array.from(v) }];
    }
    case AttributeType.INT:
      return [{ dtype: DataType.INT64, dims: [], data: BigInt64Array.of(BigInt(a.asInt())) }];
    case AttributeType.INTS: {
      const v = node.getInts(a.name)!;
      return [{ dtype: DataType.INT64, dims: [v.length], data: BigInt64Array.from(v, (x) => BigInt(x)) }];
    }
    case AttributeType.STRING:
      return [{ dtype: DataType.STRING, dims: [], data: [node.getString(a.name)!] }];
    case AttributeType.STRINGS: {
      const v = node.getStrings(a.name)!;
      return [{ dtype: DataType.STRING, dims: [v.length], data: v }];
    }
    default:
      throw new ReferenceUnsupportedError(node, `Constant with a ${AttributeType[a.type]} value is not supported`);
  }
};

export const constantOfShapeRef: ReferenceKernel = (node, inputs) => {
  const dims = intsOf(node, need(node, inputs[0], 'input'), 'shape');
  const vt = node.getTensor('value');
  const v = vt ? refFromTensor(vt) : { dtype: DataType.FLOAT, dims: [1], data: Float64Array.of(0) };
  const n = sizeOf(dims);
  const out = allocLike(v.data, n) as { [i: number]: unknown };
  const x = (v.data as ArrayLike<unknown>)[0];
  for (let i = 0; i < n; i++) out[i] = x;
  return [{ dtype: v.dtype, dims, data: out as unknown as AnyData }];
};

export const rangeRef: ReferenceKernel = (node, inputs) => {
  const s = need(node, inputs[0], 'start');
  const l = need(node, inputs[1], 'limit');
  const d = need(node, inputs[2], 'delta');
  if (s.data instanceof BigInt64Array) {
    const a = s.data[0]!;
    const b = (l.data as BigInt64Array)[0]!;
    const c = (d.data as BigInt64Array)[0]!;
    if (c === 0n) throw new ReferenceInputError(node, 'delta cannot be 0');
    const diff = b - a;
    let n = diff / c + (diff % c !== 0n && diff > 0n === c > 0n ? 1n : 0n);
    if (n < 0n) n = 0n;
    const out = allocI64(Number(n));
    for (let i = 0; i < out.length; i++) out[i] = a + BigInt(i) * c;
    return [{ dtype: s.dtype, dims: [out.length], data: out }];
  }
  const a = (s.data as Float64Array)[0]!;
  const b = (l.data as Float64Array)[0]!;
  const c = (d.data as Float64Array)[0]!;
  const n = Math.max(0, Math.ceil((b - a) / c));
  const out = allocF64(n);
  for (let i = 0; i < n; i++) out[i] = a + i * c;
  return [{ dtype: s.dtype, dims: [n], data: out }];
};

// ---- Cast -----------------------------------------------------------------------------------

/** The shortest decimal text that reads back as the same float32 (as numpy prints it). */
function float32Text(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (!Number.isFinite(v)) return v > 0 ? 'INF' : '-INF';
  const f = Math.fround(v);
  for (let p = 1; p <= 9; p++) {
    const s = f.toPrecision(p);
    if (Math.fround(Number(s)) === f) return String(Number(s));
  }
  return String(f);
}

function parseFloatText(s: string): number {
  const t = s.trim().toLowerCase();
  if (t === 'inf' || t === '+inf' || t === 'infinity' || t === '+infinity') return Infinity;
  if (t === '-inf' || t === '-infinity') return -Infinity;
  if (t === 'nan' || t === '-nan' || t === '+nan') return NaN;
  return Number(s);
}

/**
 * Converts `x` to `to`. float → float keeps the float64 value except where the target is
 * narrower than float32 (float16, bfloat16): there the model asks for that rounding explicitly,
 * so the reference applies it. float → int truncates toward zero and wraps like a C cast.
 */
export function castRefTensor(node: Node, x: RefTensor, to: DataType): RefTensor {
  const n = sizeOf(x.dims);
  if (to === x.dtype) return x;
  if (to === DataType.STRING || x.dtype === DataType.STRING) {
    if (to === DataType.STRING) {
      const src = x.data as ArrayLike<unknown>;
      const out: string[] = [];
      for (let i = 0; i < n; i++) out.push(typeof src[i] === 'boolean' ? (src[i] ? '1' : '0') : typeof src[i] === 'number' && x.dtype === DataType.FLOAT ? float32Text(src[i] as number) : String(src[i]));
      return { dtype: to, dims: x.dims, data: out };
    }
    const src = x.data as readonly string[];
    if (isBigIntDtype(to)) return { dtype: to, dims: x.dims, data: BigInt64Array.from(src, (s) => BigInt(s)) };
    return { dtype: to, dims: x.dims, data: Float64Array.from(src, parseFloatText) };
  }
  if (to === DataType.BOOL) {
    const src = x.data as ArrayLike<unknown>;
    const out = allocBools(n);
    for (let i = 0; i < n; i++) out[i] = src[i] !== 0 && src[i] !== 0n && src[i] !== false;
    return { dtype: to, dims: x.dims, data: out };
  }
  if (isBigIntDtype(to)) {
    const out = allocI64(n);
    if (x.data instanceof BigInt64Array) out.set(x.data);
    else {
      const f = f64Of(x);
      for (let i = 0; i < n; i++) {
        const v = Math.trunc(f[i]!);
        out[i] = Number.isFinite(v) ? BigInt.asIntN(64, BigInt(v)) : -(2n ** 63n);
      }
    }
    return { dtype: to, dims: x.dims, data: out };
  }
  if (!isF64Dtype(to)) throw new ReferenceUnsupportedError(node, `Cast to ${DataType[to]} is not supported`);
  const f = x.data instanceof Float64Array ? x.data : f64Of(x);
  const out = allocF64(n);
  const ib = smallIntBits(to);
  if (ib !== undefined) {
    const mod = 2 ** ib.bits;
    for (let i = 0; i < n; i++) {
      let v = Math.trunc(f[i]!);
      if (!Number.isFinite(v)) v = 0;
      v = ((v % mod) + mod) % mod;
      if (ib.signed && v >= mod / 2) v -= mod;
      out[i] = v;
    }
  } else if (to === DataType.FLOAT16) {
    for (let i = 0; i < n; i++) out[i] = float16BitsToNumber(numberToFloat16Bits(f[i]!));
  } else if (to === DataType.BFLOAT16) {
    for (let i = 0; i < n; i++) out[i] = bfloat16BitsToNumber(numberToBfloat16Bits(f[i]!));
  } else if (to === DataType.FLOAT || to === DataType.DOUBLE) {
    out.set(f);
  } else {
    throw new ReferenceUnsupportedError(node, `Cast to ${DataType[to]} is not supported`);
  }
  return { dtype: to, dims: x.dims, data: out };
}

export const castRef: ReferenceKernel = (node, inputs) => {
  const x = need(node, inputs[0], 'input');
  const to = node.getInt('to');
  if (to === undefined) throw new ReferenceInputError(node, "attribute 'to' is required");
  return [castRefTensor(node, x, to as DataType)];
};

export const castLikeRef: ReferenceKernel = (node, inputs) => [castRefTensor(node, need(node, inputs[0], 'input'), need(node, inputs[1], 'target_type').dtype)];

function depthSpace(toDepth: boolean): ReferenceKernel {
  return (node, inputs) => {
    const x = need(node, inputs[0], 'input');
    const b = node.getInt('blocksize');
    if (b === undefined) throw new ReferenceInputError(node, "attribute 'blocksize' is required");
    const [N, C, H, W] = x.dims as [number, number, number, number];
    const crd = node.getString('mode', 'DCR') === 'CRD';
    const dims = toDepth ? [N, C * b * b, H / b, W / b] : [N, C / (b * b), H * b, W * b];
    const n = sizeOf(dims);
    const index = new Float64Array(n);
    const [, OC, OH, OW] = dims as [number, number, number, number];
    for (let i = 0; i < n; i++) {
      const ow = i % OW;
      const oh = Math.floor(i / OW) % OH;
      const oc = Math.floor(i / (OW * OH)) % OC;
      const nn = Math.floor(i / (OW * OH * OC));
      let c: number;
      let h: number;
      let w: number;
      if (toDepth) {
        const blk = Math.floor(oc / C);
        c = oc % C;
        h = oh * b + Math.floor(blk / b);
        w = ow * b + (blk % b);
      } else {
        const bh = oh % b;
        const bw = ow % b;
        c = crd ? oc * b * b + bh * b + bw : (bh * b + bw) * OC + oc;
        h = Math.floor(oh / b);
        w = Math.floor(ow / b);
      }
      index[i] = ((nn * C + c) * H + h) * W + w;
    }
    return [{ dtype: x.dtype, dims, data: gatherData(x.data, index) }];
  };
}

export const depthToSpaceRef = depthSpace(false);
export const spaceToDepthRef = depthSpace(true);

