/**
 * Cast between the numeric ONNX types: float32/float64/float16/bfloat16, signed and unsigned
 * 8–64-bit integers and bool.
 *
 * Rules (those of ONNX Runtime's CPU Cast, which follows C++ static_cast):
 * - float → integer truncates toward zero; NaN, ±Inf or a truncated value outside the target
 *   range is undefined behaviour in C++ and platform-specific in ORT, so the kernel declines.
 * - integer → narrower integer wraps modulo 2^bits (two's complement).
 * - int64/uint64 → float32 is rounded once, exactly (not via float64, which could double-round).
 * - anything → float16/bfloat16 goes through float32 and the graph's round-to-nearest-even
 *   encoders (ORT converts through float as well).
 * - → bool is `x != 0` (NaN is true).
 * Strings, complex, float8 and packed sub-byte types are not covered.
 */
import { DataType, numberToBfloat16Bits, numberToFloat16Bits, type Tensor, type TypedArray } from '@onnxkit/graph';
import { isBigIntType, makeTensor, newStorage, numericView, smallIntBits } from './tensor-data.js';

const CASTABLE = new Set<DataType>([
  DataType.FLOAT,
  DataType.DOUBLE,
  DataType.FLOAT16,
  DataType.BFLOAT16,
  DataType.INT8,
  DataType.UINT8,
  DataType.INT16,
  DataType.UINT16,
  DataType.INT32,
  DataType.UINT32,
  DataType.INT64,
  DataType.UINT64,
  DataType.BOOL,
]);

const INT_RANGE: Partial<Record<DataType, [number, number]>> = {
  [DataType.INT8]: [-128, 127],
  [DataType.UINT8]: [0, 255],
  [DataType.INT16]: [-32768, 32767],
  [DataType.UINT16]: [0, 65535],
  [DataType.INT32]: [-2147483648, 2147483647],
  [DataType.UINT32]: [0, 4294967295],
  // 64-bit upper bounds are exclusive: 2^63 − 1 and 2^64 − 1 are not doubles.
  [DataType.INT64]: [-(2 ** 63), 2 ** 63],
  [DataType.UINT64]: [0, 2 ** 64],
};

export function isCastable(dtype: DataType): boolean {
  return CASTABLE.has(dtype);
}

/** The float32 nearest to an integer, rounding exactly once (ties to even). */
export function bigintToFloat32(v: bigint): number {
  const neg = v < 0n;
  const a = neg ? -v : v;
  if (a < 1n << 53n) return Math.fround(Number(v));
  const bits = a.toString(2).length;
  const shift = BigInt(bits - 24);
  let mant = a >> shift;
  const rest = a & ((1n << shift) - 1n);
  const half = 1n << (shift - 1n);
  if (rest > half || (rest === half && (mant & 1n) === 1n)) mant += 1n;
  const r = Number(mant) * 2 ** Number(shift);
  return neg ? -r : r;
}

/** Casts `t` to `to`; undefined when a type is not covered or a value has no defined result. */
export function castTensor(t: Tensor, to: DataType): Tensor | undefined {
  if (!CASTABLE.has(t.dtype) || !CASTABLE.has(to)) return undefined;
  if (t.dtype === to) return t;
  const n = t.size;
  const out = newStorage(to, n);
  if (isBigIntType(t.dtype)) {
    const src = t.toArray() as BigInt64Array | BigUint64Array;
    for (let i = 0; i < n; i++) {
      const r = castBigint(src[i]!, to);
      if (r === undefined) return undefined;
      (out as unknown as { [k: number]: number | bigint })[i] = r;
    }
    return makeTensor(to, t.dims, out);
  }
  const src = numericView(t);
  if (src === undefined) return undefined;
  const fromFloat = t.dtype === DataType.FLOAT || t.dtype === DataType.DOUBLE || t.dtype === DataType.FLOAT16 || t.dtype === DataType.BFLOAT16;
  if (!writeNumbers(src, fromFloat, to, out)) return undefined;
  return makeTensor(to, t.dims, out);
}

function castBigint(v: bigint, to: DataType): number | bigint | undefined {
  switch (to) {
    case DataType.FLOAT:
      return bigintToFloat32(v);
    case DataType.DOUBLE:
      return Number(v);
    case DataType.FLOAT16:
      return numberToFloat16Bits(bigintToFloat32(v));
    case DataType.BFLOAT16:
      return numberToBfloat16Bits(bigintToFloat32(v));
    case DataType.BOOL:
      return v !== 0n ? 1 : 0;
    case DataType.INT64:
      return BigInt.asIntN(64, v);
    case DataType.UINT64:
      return BigInt.asUintN(64, v);
    default: {
      const int = smallIntBits(to);
      return int === undefined ? undefined : Number(int.signed ? BigInt.asIntN(int.bits, v) : BigInt.asUintN(int.bits, v));
    }
  }
}

function writeNumbers(src: ArrayLike<number>, fromFloat: boolean, to: DataType, out: TypedArray): boolean {
  const n = src.length;
  switch (to) {
    case DataType.FLOAT:
    case DataType.DOUBLE:
      (out as Float64Array).set(src);
      return true;
    case DataType.FLOAT16:
      for (let i = 0; i < n; i++) (out as Uint16Array)[i] = numberToFloat16Bits(Math.fround(src[i]!));
      return true;
    case DataType.BFLOAT16:
      for (let i = 0; i < n; i++) (out as Uint16Array)[i] = numberToBfloat16Bits(Math.fround(src[i]!));
      return true;
    case DataType.BOOL:
      for (let i = 0; i < n; i++) (out as Uint8Array)[i] = src[i] !== 0 ? 1 : 0;
      return true;
    default: {
      const range = INT_RANGE[to]!;
      const big = to === DataType.INT64 || to === DataType.UINT64;
      for (let i = 0; i < n; i++) {
        let v = src[i]!;
        if (fromFloat) {
          if (!Number.isFinite(v)) return false;
          v = Math.trunc(v);
          if (v < range[0] || (big ? v >= range[1] : v > range[1])) return false;
        }
        if (big) {
          const b = BigInt(v);
          (out as BigInt64Array)[i] = to === DataType.INT64 ? BigInt.asIntN(64, b) : BigInt.asUintN(64, b);
        } else {
          // Typed-array stores wrap modulo 2^bits, as C++ integer conversion does.
          (out as Int32Array)[i] = v;
        }
      }
      return true;
    }
  }
}
