/**
 * Bit-exact conversions between JavaScript numbers and the narrow float formats ONNX stores by
 * bit pattern: float16, bfloat16, the four float8 variants, float8e8m0 and float4e2m1, plus the
 * packed 4-bit and 2-bit integers.
 *
 * Encoders round to nearest, ties to even (the rule of IEEE 754 and of onnx.numpy_helper).
 * Float8 and float4 encoders saturate to the largest finite value, as ONNX `Cast` does with
 * its default `saturate=1`.
 */

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

export function float16BitsToNumber(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 0x1f) return m === 0 ? s * Infinity : NaN;
  return s * (1 + m / 1024) * 2 ** (e - 15);
}

/** float32/float64 → float16 bits, round to nearest even, overflow to ±Inf. */
export function numberToFloat16Bits(value: number): number {
  f32[0] = value;
  const x = u32[0];
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant !== 0 ? 0x200 | (mant >>> 13) : 0);
  let e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    const half = 1 << (shift - 1);
    const rest = mant & ((1 << shift) - 1);
    let r = mant >>> shift;
    if (rest > half || (rest === half && (r & 1) === 1)) r += 1;
    return sign | r;
  }
  let r = mant >>> 13;
  const rest = mant & 0x1fff;
  if (rest > 0x1000 || (rest === 0x1000 && (r & 1) === 1)) {
    r += 1;
    if (r === 0x400) {
      r = 0;
      e += 1;
      if (e >= 0x1f) return sign | 0x7c00;
    }
  }
  return sign | (e << 10) | r;
}

export function bfloat16BitsToNumber(b: number): number {
  u32[0] = (b & 0xffff) << 16;
  return f32[0];
}

export function numberToBfloat16Bits(value: number): number {
  f32[0] = value;
  const x = u32[0];
  if ((x & 0x7f800000) === 0x7f800000 && (x & 0x7fffff) !== 0) return ((x >>> 16) | 0x40) & 0xffff;
  const lsb = (x >>> 16) & 1;
  return ((x + 0x7fff + lsb) >>> 16) & 0xffff;
}

interface MiniFloat {
  expBits: number;
  manBits: number;
  bias: number;
  /** 'ieee': all-ones exponent is Inf/NaN; 'fn': only all-ones pattern is NaN; 'fnuz': 0x80 is NaN; 'none': no NaN. */
  special: 'ieee' | 'fn' | 'fnuz' | 'none';
}

const E4M3FN: MiniFloat = { expBits: 4, manBits: 3, bias: 7, special: 'fn' };
const E4M3FNUZ: MiniFloat = { expBits: 4, manBits: 3, bias: 8, special: 'fnuz' };
const E5M2: MiniFloat = { expBits: 5, manBits: 2, bias: 15, special: 'ieee' };
const E5M2FNUZ: MiniFloat = { expBits: 5, manBits: 2, bias: 16, special: 'fnuz' };
const E2M1: MiniFloat = { expBits: 2, manBits: 1, bias: 1, special: 'none' };

function decodeMini(bits: number, f: MiniFloat): number {
  const width = 1 + f.expBits + f.manBits;
  const signBit = 1 << (width - 1);
  const expMask = (1 << f.expBits) - 1;
  const manMask = (1 << f.manBits) - 1;
  if (f.special === 'fnuz' && bits === signBit) return NaN;
  const s = bits & signBit ? -1 : 1;
  const e = (bits >> f.manBits) & expMask;
  const m = bits & manMask;
  if (f.special === 'ieee' && e === expMask) return m === 0 ? s * Infinity : NaN;
  if (f.special === 'fn' && e === expMask && m === manMask) return NaN;
  if (e === 0) return s * m * 2 ** (1 - f.bias - f.manBits);
  return s * (1 + m / (1 << f.manBits)) * 2 ** (e - f.bias);
}

/** Finite, non-negative codes sorted by value, for nearest-even encoding by search. */
function positiveTable(f: MiniFloat): { values: number[]; codes: number[] } {
  const width = 1 + f.expBits + f.manBits;
  const pairs: [number, number][] = [];
  for (let c = 0; c < 1 << (width - 1); c++) {
    const v = decodeMini(c, f);
    if (Number.isFinite(v)) pairs.push([v, c]);
  }
  pairs.sort((a, b) => a[0] - b[0]);
  return { values: pairs.map((p) => p[0]), codes: pairs.map((p) => p[1]) };
}

function makeEncoder(f: MiniFloat): (v: number) => number {
  const width = 1 + f.expBits + f.manBits;
  const signBit = 1 << (width - 1);
  const { values, codes } = positiveTable(f);
  const nanCode = f.special === 'fnuz' ? signBit : f.special === 'ieee' ? (((1 << f.expBits) - 1) << f.manBits) | 1 : (1 << width) - 1 - signBit;
  return (v: number): number => {
    if (Number.isNaN(v)) return f.special === 'none' ? 0 : nanCode;
    const neg = v < 0 || Object.is(v, -0);
    const a = Math.abs(v);
    let lo = 0;
    let hi = values.length - 1;
    let code: number;
    if (a >= values[hi]) {
      code = f.special === 'ieee' && a === Infinity ? ((1 << f.expBits) - 1) << f.manBits : codes[hi];
    } else {
      while (hi - lo > 1) {
        const mid = (lo + hi) >> 1;
        if (values[mid] <= a) lo = mid;
        else hi = mid;
      }
      const dl = a - values[lo];
      const dh = values[hi] - a;
      code = dl < dh ? codes[lo] : dh < dl ? codes[hi] : (codes[lo] & 1) === 0 ? codes[lo] : codes[hi];
    }
    if (neg && !(f.special === 'fnuz' && code === 0)) code |= signBit;
    return code;
  };
}

const enc = {
  e4m3fn: makeEncoder(E4M3FN),
  e4m3fnuz: makeEncoder(E4M3FNUZ),
  e5m2: makeEncoder(E5M2),
  e5m2fnuz: makeEncoder(E5M2FNUZ),
  e2m1: makeEncoder(E2M1),
};

export const float8e4m3fnToNumber = (b: number): number => decodeMini(b & 0xff, E4M3FN);
export const float8e4m3fnuzToNumber = (b: number): number => decodeMini(b & 0xff, E4M3FNUZ);
export const float8e5m2ToNumber = (b: number): number => decodeMini(b & 0xff, E5M2);
export const float8e5m2fnuzToNumber = (b: number): number => decodeMini(b & 0xff, E5M2FNUZ);
export const float4e2m1ToNumber = (nibble: number): number => decodeMini(nibble & 0xf, E2M1);
export const numberToFloat8e4m3fn = enc.e4m3fn;
export const numberToFloat8e4m3fnuz = enc.e4m3fnuz;
export const numberToFloat8e5m2 = enc.e5m2;
export const numberToFloat8e5m2fnuz = enc.e5m2fnuz;
export const numberToFloat4e2m1 = enc.e2m1;

/** float8e8m0: an unsigned power of two 2^(e−127); 0xFF is NaN. */
export function float8e8m0ToNumber(b: number): number {
  const e = b & 0xff;
  return e === 0xff ? NaN : 2 ** (e - 127);
}

/** Rounds to the nearest power of two (in log2), saturating; NaN and non-positive map to NaN. */
export function numberToFloat8e8m0(v: number): number {
  if (!(v > 0) || Number.isNaN(v)) return 0xff;
  const e = Math.round(Math.log2(v)) + 127;
  return Math.min(254, Math.max(0, e));
}

/** Unpacks `count` sub-byte integers (4 or 2 bits, LSB first) into numbers. */
export function unpackSubByte(bytes: Uint8Array, count: number, bits: 4 | 2, signed: boolean): Int8Array {
  const out = new Int8Array(count);
  const per = 8 / bits;
  const mask = (1 << bits) - 1;
  const signBit = 1 << (bits - 1);
  for (let i = 0; i < count; i++) {
    const v = (bytes[(i / per) | 0] >> ((i % per) * bits)) & mask;
    out[i] = signed && v & signBit ? v - (1 << bits) : v;
  }
  return out;
}

/** Packs small integers (or nibble codes) into 4- or 2-bit fields, LSB first. */
export function packSubByte(values: ArrayLike<number>, bits: 4 | 2): Uint8Array {
  const per = 8 / bits;
  const mask = (1 << bits) - 1;
  const out = new Uint8Array(Math.ceil(values.length / per));
  for (let i = 0; i < values.length; i++) {
    out[(i / per) | 0] |= (values[i] & mask) << ((i % per) * bits);
  }
  return out;
}
