/**
 * RefTensor helpers: widening IR tensors to float64, narrowing back for comparisons, shape and
 * broadcasting arithmetic, and the one allocation path (checked against the memory budget).
 */
import { DataType, isFloatType, isIntegerType, Tensor, type Node } from '@onnxkit/graph';
import { ReferenceInputError, ReferenceUnsupportedError } from './errors.js';
import { normAxis as axisIndex } from '../../ops/axes.js';
import type { RefTensor } from '../../ops/types.js';
import { broadcastShapes as broadcastStatic, broadcastStrides, sizeOf, stridesOf } from '../tensor-data.js';

/** The element types the reference holds as bigints. */
export function isBigIntDtype(dtype: DataType): boolean {
  return dtype === DataType.INT64 || dtype === DataType.UINT64;
}

/** Every float type, of any width (the IR's data-type table decides). */
export const isFloatDtype = isFloatType;

/** Every signed and unsigned integer type, of any width (not bool). */
export const isIntegerDtype = isIntegerType;

/** Numeric (held as Float64Array): every float and every integer type narrower than 64 bits. */
export function isF64Dtype(dtype: DataType): boolean {
  return isFloatDtype(dtype) || (isIntegerDtype(dtype) && !isBigIntDtype(dtype));
}

// ---- the memory budget -------------------------------------------------------------------

/**
 * Bytes a kernel may still allocate during the current node. The engine sets it before each node
 * (limit minus live bytes) so an output that cannot fit is refused before it is allocated.
 */
let budget = Infinity;

/** Internal: an allocation over the budget; the engine turns it into ReferenceMemoryError. */
export class ReferenceBudgetFault extends Error {
  constructor(readonly bytes: number) {
    super(`allocation of ${bytes} bytes over the reference memory budget`);
  }
}

export function setAllocationBudget(bytes: number): void {
  budget = bytes;
}

function charge(bytes: number): void {
  if (bytes > budget) throw new ReferenceBudgetFault(bytes);
}

export function allocF64(n: number): Float64Array {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`an output of ${n} elements cannot exist`);
  charge(n * 8);
  return new Float64Array(n);
}

export function allocI64(n: number): BigInt64Array {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`an output of ${n} elements cannot exist`);
  charge(n * 8);
  return new BigInt64Array(n);
}

export function allocBools(n: number): boolean[] {
  charge(n * 8);
  return new Array<boolean>(n).fill(false);
}

/** Bytes a RefTensor holds (booleans and strings counted at 8 bytes per element). */
export function refBytes(t: RefTensor): number {
  const d = t.data;
  if (d instanceof Float64Array || d instanceof BigInt64Array) return d.byteLength;
  if (t.dtype === DataType.STRING) {
    let n = 0;
    for (const s of d as readonly string[]) n += 16 + s.length * 2;
    return n;
  }
  return d.length * 8;
}

// ---- construction -----------------------------------------------------------------------

/** Element count and row-major strides: the float32 kernels' own helpers. */
export { sizeOf, stridesOf };

export function ref(dtype: DataType, dims: readonly number[], data: RefTensor['data']): RefTensor {
  return { dtype, dims: [...dims], data };
}

/** Widens an IR tensor: floats/small ints to float64, int64 stays bigint, bool, string. */
export function refFromTensor(t: Tensor): RefTensor {
  const dims = [...t.dims];
  if (t.dtype === DataType.STRING) return { dtype: t.dtype, dims, data: t.texts() };
  if (t.dtype === DataType.BOOL) {
    const a = t.toArray();
    const out = new Array<boolean>(a.length);
    for (let i = 0; i < a.length; i++) out[i] = a[i] !== 0;
    return { dtype: t.dtype, dims, data: out };
  }
  if (isBigIntDtype(t.dtype)) return { dtype: t.dtype, dims, data: t.toBigInt64() };
  if (t.dtype === DataType.COMPLEX64 || t.dtype === DataType.COMPLEX128) {
    throw new RangeError(`tensor '${t.name}': complex element types are not supported by the float64 reference`);
  }
  const a = t.toArray();
  if (a instanceof Float32Array || a instanceof Int32Array || a instanceof Int8Array || a instanceof Uint8Array || a instanceof Int16Array || a instanceof Uint32Array) {
    if (t.dtype === DataType.FLOAT || t.dtype === DataType.INT32 || t.dtype === DataType.INT8 || t.dtype === DataType.UINT8 || t.dtype === DataType.INT16 || t.dtype === DataType.UINT32) {
      return { dtype: t.dtype, dims, data: Float64Array.from(a as ArrayLike<number>) };
    }
  }
  if (a instanceof Float64Array) return { dtype: t.dtype, dims, data: Float64Array.from(a) };
  return { dtype: t.dtype, dims, data: t.toFloat64() };
}

/**
 * The float64 data of input `what` of `node`, which a reference kernel needs present and
 * floating-point (a typed error naming it otherwise).
 */
export function floatInput(node: Node, t: RefTensor | null | undefined, what: string): Float64Array {
  if (t === null || t === undefined) throw new ReferenceInputError(node, `${what} is missing`);
  if (!(t.data instanceof Float64Array)) throw new ReferenceUnsupportedError(node, `${what} must be a floating-point tensor`);
  return t.data;
}

/** Float64 values of a numeric RefTensor (bigints converted; bools as 0/1). */
export function f64Of(t: RefTensor): Float64Array {
  const d = t.data;
  if (d instanceof Float64Array) return d;
  if (d instanceof BigInt64Array) {
    const out = new Float64Array(d.length);
    for (let i = 0; i < d.length; i++) out[i] = Number(d[i]);
    return out;
  }
  if (t.dtype === DataType.BOOL) {
    const b = d as readonly boolean[];
    const out = new Float64Array(b.length);
    for (let i = 0; i < b.length; i++) out[i] = b[i] ? 1 : 0;
    return out;
  }
  throw new RangeError('string tensor has no numeric values');
}

/** Integer values of a shape-like input as exact numbers (throws ReferenceInputError when unsafe). */
export function intsOf(node: Node, t: RefTensor, what: string): number[] {
  const d = t.data;
  const out: number[] = [];
  if (d instanceof BigInt64Array) {
    for (const v of d) {
      if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < BigInt(Number.MIN_SAFE_INTEGER)) {
        // Slice bounds like INT64_MAX mean "to the end": clamp, callers clamp again.
        out.push(v > 0n ? Number.MAX_SAFE_INTEGER : Number.MIN_SAFE_INTEGER);
      } else out.push(Number(v));
    }
    return out;
  }
  if (d instanceof Float64Array) {
    for (const v of d) {
      if (!Number.isInteger(v)) throw new ReferenceInputError(node, `${what} holds a non-integer value ${v}`);
      out.push(v);
    }
    return out;
  }
  throw new ReferenceInputError(node, `${what} must be an integer tensor`);
}

/** `axis` counted from the end when negative (ops/axes.ts), throwing ReferenceInputError when out of range. */
export function normAxis(node: Node, axis: number, rank: number, what = 'axis'): number {
  const a = axisIndex(axis, rank);
  if (a === undefined) throw new ReferenceInputError(node, `${what} ${axis} is out of range for rank ${rank}`);
  return a;
}

/** numpy broadcasting of shapes; throws ReferenceInputError when they do not broadcast. */
export function broadcastShapes(node: Node, shapes: readonly (readonly number[])[]): number[] {
  const out = broadcastStatic(shapes);
  if (out === null) throw new ReferenceInputError(node, `shapes ${shapes.map((x) => `[${x.join(',')}]`).join(' and ')} do not broadcast`);
  return out;
}

/**
 * For an output of shape `outDims`, the flat input offset of each output element for an input of
 * shape `inDims` broadcast to it (null when no broadcasting is needed: offset = index).
 */
export function broadcastIndex(inDims: readonly number[], outDims: readonly number[]): Int32Array | Float64Array | null {
  const n = sizeOf(outDims);
  if (sizeOf(inDims) === n && inDims.length <= outDims.length) return null;
  return stridedOffsets(outDims, broadcastStrides(inDims, outDims), n < 2 ** 31 ? new Int32Array(n) : new Float64Array(n));
}

/**
 * The flat offset of every position of a row-major box of extent `dims`, in order, where a step
 * along axis k moves `strides[k]` elements (0 repeats an element: broadcasting; permuted strides
 * transpose): `out[i] = start + Σ_k idx_k · strides[k]`, an odometer with no per-element division.
 * `out` has sizeOf(dims) elements.
 */
export function stridedOffsets<T extends Int32Array | Float64Array>(dims: readonly number[], strides: readonly number[], out: T, start = 0): T {
  const r = dims.length;
  const counter = new Array<number>(r).fill(0);
  let o = start;
  for (let i = 0; i < out.length; i++) {
    out[i] = o;
    for (let k = r - 1; k >= 0; k--) {
      counter[k]!++;
      o += strides[k]!;
      if (counter[k]! < dims[k]!) break;
      o -= strides[k]! * dims[k]!;
      counter[k] = 0;
    }
  }
  return out;
}

/** Element `i` (flat) of any RefTensor, for data movement ops. */
export type AnyData = RefTensor['data'];

/** A fresh array of the same kind as `like` with `n` elements. */
export function allocLike(like: AnyData, n: number): Float64Array | BigInt64Array | unknown[] {
  if (like instanceof Float64Array) return allocF64(n);
  if (like instanceof BigInt64Array) return allocI64(n);
  const out = new Array<unknown>(n);
  if (n * 8 > budget) throw new ReferenceBudgetFault(n * 8);
  return out;
}

/** Gathers `src[index[i]]` for every i into a new array of the same kind. */
export function gatherData(src: AnyData, index: ArrayLike<number>): AnyData {
  const n = index.length;
  const out = allocLike(src, n) as { [i: number]: unknown };
  const s = src as unknown as { readonly [i: number]: unknown };
  for (let i = 0; i < n; i++) out[i] = s[index[i]!];
  return out as unknown as AnyData;
}

/** Copies the whole data array (used where a kernel must not alias its input). */
export function copyData(src: AnyData): AnyData {
  if (src instanceof Float64Array) return Float64Array.from(src);
  if (src instanceof BigInt64Array) return BigInt64Array.from(src);
  return [...(src as readonly unknown[])] as AnyData;
}

/** Narrows a RefTensor to an IR tensor of its own dtype (rounding floats, for tests and export). */
export function refToTensor(t: RefTensor): Tensor {
  if (t.dtype === DataType.STRING) return Tensor.fromStrings(t.dims, t.data as readonly string[]);
  if (t.dtype === DataType.BOOL) return Tensor.fromNumbers(t.dtype, t.dims, (t.data as readonly boolean[]).map((b) => (b ? 1 : 0)));
  return Tensor.fromNumbers(t.dtype, t.dims, t.data as Float64Array | BigInt64Array);
}
