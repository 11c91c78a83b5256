/**
 * Low-level helpers shared by the kernels: element arrays of a tensor, shape arithmetic,
 * numpy broadcasting and strided iteration.
 *
 * A kernel works on the tensor's storage typed array (`Tensor.toArray()`), which holds one entry
 * per element for every "element-addressable" type (all types except strings, complex and the
 * packed sub-byte types). int64/uint64 stay BigInt64Array/BigUint64Array end to end.
 */
import { DataType, Tensor, type Node, type TypedArray } from '@onnxkit/graph';
import { knownDataTypeInfo } from '../common/data-types.js';
import { normAxis as axisIndex } from '../ops/axes.js';
import { KernelBudgetFault, KernelError, KernelFault } from './errors.js';

/** Element-addressable: one storage entry per element (so data movement is a typed-array copy). */
export function isElementAddressable(dtype: DataType): boolean {
  if (dtype === DataType.STRING || dtype === DataType.UNDEFINED) return false;
  const info = knownDataTypeInfo(dtype);
  return info !== undefined && info.storage !== undefined && info.perStorageUnit === 1 && info.partsPerElement === 1;
}

/** True when the storage array of `dtype` holds bigints. */
export function isBigIntType(dtype: DataType): boolean {
  return dtype === DataType.INT64 || dtype === DataType.UINT64;
}

/**
 * The largest array (in bytes) a kernel may allocate during the current `evaluateNode` call.
 * Kernels are synchronous, so one module-level limit, set and restored by `withAllocationLimit`,
 * covers every allocation of one evaluation without threading it through each kernel.
 */
let allocationLimit = Infinity;

/** Runs `fn` with every kernel allocation capped at `maxBytes` (restored afterwards). */
export function withAllocationLimit<T>(maxBytes: number, fn: () => T): T {
  const previous = allocationLimit;
  allocationLimit = maxBytes;
  try {
    return fn();
  } finally {
    allocationLimit = previous;
  }
}

/**
 * A fresh zero-filled typed array of `n` elements — the only way kernels allocate. It checks the
 * size against the current limit BEFORE allocating, so an output the caller cannot afford (a
 * ConstantOfShape of 2^32 elements) is refused without touching memory, and a size that is not a
 * valid element count (negative, fractional, beyond 2^53) is an error in the node, not a
 * RangeError from the engine.
 */
export function allocate<T extends TypedArray>(Ctor: { new (n: number): T; readonly BYTES_PER_ELEMENT: number }, n: number): T {
  const bytes = n * Ctor.BYTES_PER_ELEMENT;
  if (bytes > allocationLimit) throw new KernelBudgetFault(bytes, allocationLimit);
  if (!Number.isSafeInteger(n) || n < 0) throw new KernelFault(`an output of ${n} elements cannot exist`);
  return new Ctor(n);
}

/** A fresh zero-filled storage array for `n` elements of `dtype`. */
export function newStorage(dtype: DataType, n: number): TypedArray {
  const Ctor = knownDataTypeInfo(dtype)?.storage;
  if (Ctor === undefined) throw new KernelFault(`element type ${dtype} has no numeric storage`);
  return allocate(Ctor as unknown as { new (n: number): TypedArray; readonly BYTES_PER_ELEMENT: number }, n);
}

export function sizeOf(dims: readonly number[]): number {
  let n = 1;
  for (const d of dims) n *= d;
  return n;
}

/** Row-major strides of `dims`. */
export function stridesOf(dims: readonly number[]): number[] {
  const s = new Array<number>(dims.length);
  let acc = 1;
  for (let i = dims.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= dims[i]!;
  }
  return s;
}

/** Builds an output tensor from a storage array (zero-copy). */
export function makeTensor(dtype: DataType, dims: readonly number[], data: TypedArray): Tensor {
  return Tensor.fromArray(dtype, dims, data);
}

/** numpy multidirectional broadcasting of static shapes; null when they do not broadcast. */
export function broadcastShapes(shapes: readonly (readonly number[])[]): number[] | null {
  let rank = 0;
  for (const s of shapes) rank = Math.max(rank, s.length);
  const out = new Array<number>(rank).fill(1);
  for (const s of shapes) {
    const off = rank - s.length;
    for (let i = 0; i < s.length; i++) {
      const d = s[i]!;
      const o = out[off + i]!;
      if (d === o || d === 1) continue;
      if (o === 1) out[off + i] = d;
      else return null;
    }
  }
  return out;
}

/** Width and signedness of the 8-, 16- and 32-bit integer types (held as JS numbers); undefined for any other type. */
export function smallIntBits(dtype: DataType): { bits: number; signed: boolean } | undefined {
  const info = knownDataTypeInfo(dtype);
  if (info === undefined || (info.kind !== 'int' && info.kind !== 'uint') || info.bits < 8 || info.bits > 32) return undefined;
  return { bits: info.bits, signed: info.kind === 'int' };
}

/** Strides of `inDims` seen from an output of shape `outDims` (0 on broadcast axes). */
export function broadcastStrides(inDims: readonly number[], outDims: readonly number[]): number[] {
  const inStrides = stridesOf(inDims);
  const off = outDims.length - inDims.length;
  const s = new Array<number>(outDims.length).fill(0);
  for (let i = 0; i < inDims.length; i++) s[off + i] = inDims[i] === 1 ? 0 : inStrides[i]!;
  return s;
}

/**
 * Calls `visit(outIndex, offsetA, offsetB, offsetC)` for every element of an output of shape
 * `dims`, where each offset walks its own stride vector (an odometer; no per-element division).
 * Up to three operands so that Where needs no second pass.
 */
export function forEachStrided(
  dims: readonly number[],
  strides: readonly (readonly number[])[],
  visit: (i: number, a: number, b: number, c: number) => void,
  offsets: readonly number[] = [],
): void {
  const n = sizeOf(dims);
  if (n === 0) return;
  const r = dims.length;
  const sa = strides[0] ?? [];
  const sb = strides[1] ?? [];
  const sc = strides[2] ?? [];
  let a = offsets[0] ?? 0;
  let b = offsets[1] ?? 0;
  let c = offsets[2] ?? 0;
  const idx = new Array<number>(r).fill(0);
  for (let i = 0; i < n; i++) {
    visit(i, a, b, c);
    for (let k = r - 1; k >= 0; k--) {
      idx[k]!++;
      a += sa[k] ?? 0;
      b += sb[k] ?? 0;
      c += sc[k] ?? 0;
      if (idx[k]! < dims[k]!) break;
      const d = dims[k]!;
      a -= (sa[k] ?? 0) * d;
      b -= (sb[k] ?? 0) * d;
      c -= (sc[k] ?? 0) * d;
      idx[k] = 0;
    }
  }
}

/** Copies `src` into a new array of shape `dims` reading at the strided offsets (one operand). */
export function gatherStrided(src: TypedArray, dims: readonly number[], strides: readonly number[], offset = 0): TypedArray {
  const Ctor = src.constructor as { new (n: number): TypedArray; readonly BYTES_PER_ELEMENT: number };
  const out = allocate(Ctor, sizeOf(dims));
  const o = out as unknown as { [i: number]: number | bigint };
  const s = src as unknown as { [i: number]: number | bigint };
  forEachStrided(dims, [strides], (i, a) => {
    o[i] = s[a]!;
  }, [offset]);
  return out;
}

/**
 * Integer values of a 1-D or scalar shape-like input (int32/int64) as bigints. Returns undefined
 * for other dtypes (the caller declines).
 */
export function bigintsOf(t: Tensor): bigint[] | undefined {
  if (t.dtype === DataType.INT64) return Array.from(t.toArray() as BigInt64Array);
  if (t.dtype === DataType.INT32) return Array.from(t.toArray() as Int32Array, (x) => BigInt(x));
  return undefined;
}

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
const MIN_SAFE = BigInt(Number.MIN_SAFE_INTEGER);

/** bigint → number, clamped to ±(2^53-1): right for slice bounds that get clamped anyway. */
export function clampToSafe(v: bigint): number {
  return v > MAX_SAFE ? Number.MAX_SAFE_INTEGER : v < MIN_SAFE ? Number.MIN_SAFE_INTEGER : Number(v);
}

/**
 * Integer values that must be exact numbers (axes, repeats, shape entries); throws KernelError
 * naming `what` when one does not fit a safe integer.
 */
export function safeIntsOf(node: Node, t: Tensor, what: string): number[] | undefined {
  const b = bigintsOf(t);
  if (b === undefined) return undefined;
  return b.map((v) => {
    if (v > MAX_SAFE || v < MIN_SAFE) throw new KernelError(node, `${what} value ${v} does not fit a safe integer`);
    return Number(v);
  });
}

/** Normalises a possibly negative axis against `rank`, throwing KernelError when out of range. */
export function normAxis(node: Node, axis: number, rank: number, what = 'axis'): number {
  const a = axisIndex(axis, rank);
  if (a === undefined) throw new KernelError(node, `${what} ${axis} is out of range for rank ${rank}`);
  return a;
}

/**
 * Element values as plain numbers for numeric comparison and math on non-bigint types; narrow
 * floats (float16/bfloat16) are decoded. Undefined for types with no numeric view here.
 */
export function numericView(t: Tensor): Float64Array | Exclude<TypedArray, BigInt64Array | BigUint64Array> | undefined {
  if (!isElementAddressable(t.dtype) || isBigIntType(t.dtype)) return undefined;
  if (t.dtype === DataType.FLOAT16 || t.dtype === DataType.BFLOAT16) return t.toFloat64();
  if (knownDataTypeInfo(t.dtype)?.kind === 'float' && t.dtype !== DataType.FLOAT && t.dtype !== DataType.DOUBLE) return undefined;
  return t.toArray() as Exclude<TypedArray, BigInt64Array | BigUint64Array>;
}
