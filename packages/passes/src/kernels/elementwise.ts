/**
 * Element-wise kernels with numpy broadcasting: the machinery of binary arithmetic (broadcasting,
 * typed loops, dtype dispatch: `binaryKernel`, `variadicKernel`), unary math, comparisons and
 * logic, and the kernels of Pow, Where, Not and Clip. What an op computes per element is
 * declared in its module (ops/elementwise-binary.ts, ops/elementwise-unary.ts) and passed in
 * (`binaryKernel({ float, int, big })`, `unaryKernel(f)`, `comparisonKernel(f)`): nothing here
 * decides semantics by op name, so adding such an op touches its module only.
 *
 * Exactness: float32 results are computed in float64 and rounded once when stored into a
 * Float32Array. For +, −, ×, ÷ and √ that single rounding gives the correctly rounded float32
 * result (53 ≥ 2·24+2 bits), which is what ONNX Runtime's CPU kernels compute, so these match
 * bit for bit. Transcendentals (Exp/Log/Tanh/Sigmoid/Erf) are computed accurately in float64 and
 * rounded; ORT uses vectorised approximations there, so they agree to a few ulp, not bit for bit.
 * Integers of every width wrap like C (two's complement), int64/uint64 are exact BigInt
 * arithmetic wrapped to 64 bits, integer Div truncates toward zero as ORT does, and integer
 * division by zero is an error. float16 widens to float32, operates, and rounds back (ORT's way).
 */
import { DataType, numberToFloat16Bits, type Node, type Tensor, type TypedArray } from '@onnxkit/graph';
import { KernelError, KernelFault } from './errors.js';
import {
  allocate,
  broadcastShapes,
  broadcastStrides,
  forEachStrided,
  isBigIntType,
  isElementAddressable,
  makeTensor,
  newStorage,
  numericView,
  sizeOf,
} from './tensor-data.js';
import type { KernelFn } from './types.js';

type NumFn = (a: number, b: number) => number;
type BigFn = (a: bigint, b: bigint) => bigint;

/**
 * One binary arithmetic op in three forms, declared by its op module (ops/elementwise-binary.ts:
 * Add, Sub, Mul, Div, Max, Min, Sum); the kernels here supply broadcasting, the typed loops and
 * the dtype dispatch. `int` is exact integer math on safe numbers whose result is wrapped to the
 * element width by the typed-array store (ToInt8/ToUint32… are modular, like C conversions);
 * `mul32` marks a product, which needs Math.imul for 32-bit operands because their exact
 * product can pass 2^53. `big` is unwrapped; the caller wraps to 64 bits.
 */
export interface ArithOp {
  readonly float: NumFn;
  readonly int: NumFn;
  readonly big: BigFn;
  readonly mul32?: boolean;
}

/** `b` as an integer divisor: integer division (or modulo) by zero is a fault, never a value. */
export function intDivisor<T extends number | bigint>(b: T): T {
  if (b === 0 || b === 0n) throw new KernelFault('integer division by zero');
  return b;
}

const FLOATS = new Set<DataType>([DataType.FLOAT, DataType.DOUBLE]);
const SMALL_INTS = new Set<DataType>([DataType.INT8, DataType.UINT8, DataType.INT16, DataType.UINT16]);
const INT32S = new Set<DataType>([DataType.INT32, DataType.UINT32]);

/** Element types the arithmetic kernels cover. */
function isArithType(t: DataType): boolean {
  return FLOATS.has(t) || t === DataType.FLOAT16 || SMALL_INTS.has(t) || INT32S.has(t) || isBigIntType(t);
}

/** Applies `body` over the broadcast of `a` and `b` into a new storage array of `outType`. */
function broadcastBinary(
  node: Node,
  a: Tensor,
  b: Tensor,
  outType: DataType,
  body: (out: TypedArray, x: TypedArray, y: TypedArray, i: number, ia: number, ib: number) => void,
  x: TypedArray = a.toArray(),
  y: TypedArray = b.toArray(),
): Tensor {
  const dims = broadcastShapes([a.dims, b.dims]);
  if (dims === null) {
    throw new KernelError(node, `shapes ${JSON.stringify(a.dims)} and ${JSON.stringify(b.dims)} do not broadcast`);
  }
  const n = sizeOf(dims);
  const out = newStorage(outType, n);
  if (a.size === n && b.size === n) {
    for (let i = 0; i < n; i++) body(out, x, y, i, i, i);
  } else if (a.size === n && b.size === 1) {
    for (let i = 0; i < n; i++) body(out, x, y, i, i, 0);
  } else if (a.size === 1 && b.size === n) {
    for (let i = 0; i < n; i++) body(out, x, y, i, 0, i);
  } else {
    const sa = broadcastStrides(a.dims, dims);
    const sb = broadcastStrides(b.dims, dims);
    forEachStrided(dims, [sa, sb], (i, ia, ib) => body(out, x, y, i, ia, ib));
  }
  return makeTensor(outType, dims, out);
}

/**
 * One arithmetic op on two tensors of the same dtype; undefined for uncovered dtypes. float16
 * is computed the way ORT does: widen to float32, operate, round the float32 result to half.
 */
function arith(node: Node, op: ArithOp, a: Tensor, b: Tensor): Tensor | undefined {
  if (a.dtype !== b.dtype) throw new KernelError(node, `operand types differ (${DataType[a.dtype]} vs ${DataType[b.dtype]})`);
  const t = a.dtype;
  if (!isArithType(t)) return undefined;
  if (isBigIntType(t)) {
    const f = op.big;
    const bits = 64;
    const wrap = t === DataType.INT64 ? (v: bigint) => BigInt.asIntN(bits, v) : (v: bigint) => BigInt.asUintN(bits, v);
    return broadcastBinary(node, a, b, t, (o, x, y, i, ia, ib) => {
      (o as BigInt64Array)[i] = wrap(f((x as BigInt64Array)[ia]!, (y as BigInt64Array)[ib]!));
    });
  }
  if (t === DataType.FLOAT16) {
    const f = op.float;
    return broadcastBinary(node, a, b, t, (o, x, y, i, ia, ib) => {
      (o as Uint16Array)[i] = numberToFloat16Bits(Math.fround(f((x as Float64Array)[ia]!, (y as Float64Array)[ib]!)));
    }, a.toFloat64(), b.toFloat64());
  }
  const f = FLOATS.has(t) ? op.float : op.mul32 && INT32S.has(t) ? Math.imul : op.int;
  return broadcastBinary(node, a, b, t, (o, x, y, i, ia, ib) => {
    (o as Float64Array)[i] = f((x as Float64Array)[ia]!, (y as Float64Array)[ib]!);
  });
}

/** A two-input broadcasting arithmetic op (Add, Sub, Mul, Div) computing `op`. */
export function binaryKernel(op: ArithOp): KernelFn {
  return (node, inputs) => {
    const [a, b] = inputs;
    if (!a || !b) return undefined;
    return one(arith(node, op, a, b));
  };
}

/** Variadic Min/Max/Sum: a left fold of the binary op, rounding after every step like ORT. */
export function variadicKernel(op: ArithOp): KernelFn {
  return (node, inputs) => {
    if (inputs.length === 0 || inputs.some((t) => t === null)) return undefined;
    let acc = inputs[0]!;
    if (!isArithType(acc.dtype)) return undefined;
    for (let k = 1; k < inputs.length; k++) {
      const r = arith(node, op, acc, inputs[k]!);
      if (r === undefined) return undefined;
      acc = r;
    }
    return [acc];
  };
}

function one(t: Tensor | undefined): Tensor[] | undefined {
  return t === undefined ? undefined : [t];
}

/** Integer power by squaring, wrapped to 64 bits (negative exponents truncate like C). */
function ipow64(base: bigint, exp: bigint): bigint {
  if (exp < 0n) return base === 1n ? 1n : base === -1n ? (exp % 2n === 0n ? 1n : -1n) : 0n;
  let result = 1n;
  let b = BigInt.asIntN(64, base);
  let e = exp;
  while (e > 0n) {
    if (e & 1n) result = BigInt.asIntN(64, result * b);
    b = BigInt.asIntN(64, b * b);
    e >>= 1n;
  }
  return result;
}

const INT_POW_BASES = new Set<DataType>([DataType.INT32, DataType.INT64]);

/**
 * An integer power as onnxruntime computes it: static_cast<T>(std::pow(double(x), double(y))).
 * In range that is the exact power rounded once to float64 (it matters beyond 2^53); out of
 * range (and 0^negative) the cast is undefined — x86 gives T's minimum, ARM saturates — so such
 * an element is not computed (KernelFault: constant folding leaves the node to the runtime).
 */
function ortIntPow(x: bigint, y: bigint, bits: number): bigint {
  let r: bigint | undefined;
  if (y < 0n) r = x === 0n ? undefined : ipow64(x, y);
  else if (y === 0n) r = 1n;
  else if (x === 0n || x === 1n) r = x;
  else if (x === -1n) r = y % 2n === 0n ? 1n : -1n;
  else if (y >= 64n) r = undefined;
  else r = x ** y;
  const lim = 2 ** (bits - 1);
  const d = r === undefined ? NaN : Number(r);
  if (!(d >= -lim && d < lim)) throw new KernelFault(`integer power ${x}^${y} is outside the int${bits} range, where onnxruntime's result is undefined; it is not computed`);
  return BigInt(d);
}

/**
 * C's pow (what onnxruntime's std::pow/powf give) where JavaScript's differs: pow(1, y) is 1 and
 * pow(−1, ±inf) is 1 for every y, NaN included; Math.pow gives NaN for both.
 */
export function cPow(x: number, y: number): number {
  if (x === 1 || (x === -1 && (y === Infinity || y === -Infinity))) return 1;
  return Math.pow(x, y);
}

/**
 * Pow(X: T, Y: T1). Float bases: Math.pow in float64, rounded once (ORT's powf can differ by an
 * ulp). Integer bases: as ORT's static_cast<T>(std::pow(x, y)) — the exact power rounded once to
 * float64 for integer exponents, the truncated float64 power for float ones; a result outside
 * T's range is not computed (issue 13: it was wrapped modulo 2^32, a value ORT never gives).
 */
export const powKernel: KernelFn = (node, inputs) => {
  const [a, b] = inputs;
  if (!a || !b) return undefined;
  if (!FLOATS.has(a.dtype) && !INT_POW_BASES.has(a.dtype)) return undefined;
  const yBig = isBigIntType(b.dtype);
  const yNum = yBig ? undefined : numericView(b);
  if (!yBig && yNum === undefined) return undefined;
  const yv = (yBig ? b.toArray() : yNum!) as TypedArray;
  const yIsInt = yBig || !(b.dtype === DataType.FLOAT || b.dtype === DataType.DOUBLE || b.dtype === DataType.FLOAT16 || b.dtype === DataType.BFLOAT16);
  const yAt = (i: number): number => Number((yv as Float64Array)[i]!);
  if (FLOATS.has(a.dtype)) {
    return [broadcastBinary(node, a, b, a.dtype, (o, x, _y, i, ia, ib) => {
      (o as Float64Array)[i] = cPow((x as Float64Array)[ia]!, yAt(ib));
    }, a.toArray(), yv)];
  }
  const bits = a.dtype === DataType.INT64 ? 64 : 32;
  return [broadcastBinary(node, a, b, a.dtype, (o, x, _y, i, ia, ib) => {
    const base = (x as Float64Array)[ia]!;
    let r: bigint;
    if (yIsInt) r = ortIntPow(BigInt(base), BigInt((yv as Float64Array)[ib]!), bits);
    else {
      const p = Math.trunc(Math.pow(Number(base), yAt(ib)));
      if (!(p >= -(2 ** (bits - 1)) && p < 2 ** (bits - 1))) throw new KernelFault(`integer power ${base}^${yAt(ib)} is outside the int${bits} range, where onnxruntime's result is undefined; it is not computed`);
      r = BigInt(p);
    }
    if (bits === 64) (o as BigInt64Array)[i] = BigInt.asIntN(64, r);
    else (o as Int32Array)[i] = Number(BigInt.asIntN(32, r));
  }, a.toArray(), yv)];
};

/**
 * A binary arithmetic op whose computation depends on the node (an attribute, as Mod's fmod):
 * `pick(node, isFloat)` returns it for floating-point or integer operands, or throws KernelError
 * for a form the op forbids.
 */
export function binaryKernelBy(pick: (node: Node, isFloat: boolean) => ArithOp): KernelFn {
  return (node, inputs) => {
    const [a, b] = inputs;
    if (!a || !b) return undefined;
    return one(arith(node, pick(node, FLOATS.has(a.dtype) || a.dtype === DataType.FLOAT16), a, b));
  };
}

// ---------------------------------------------------------------- unary

/** erf(x) to about 1e-15: Maclaurin series below 2, Lentz continued fraction for erfc above. */
export function erf(x: number): number {
  if (Number.isNaN(x)) return NaN;
  const ax = Math.abs(x);
  if (ax < 2) {
    const x2 = x * x;
    let term = x;
    let sum = x;
    for (let n = 1; n < 60; n++) {
      term *= -x2 / n;
      const t = term / (2 * n + 1);
      sum += t;
      if (Math.abs(t) < 1e-17 * Math.abs(sum)) break;
    }
    return (2 / Math.sqrt(Math.PI)) * sum;
  }
  if (ax > 6) return x > 0 ? 1 : -1;
  // erfc(x) = exp(-x²)/√π · 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + ...)))), evaluated by Lentz.
  const tiny = 1e-300;
  let f = ax;
  let c = ax;
  let d = 0;
  for (let k = 1; k < 200; k++) {
    const a = k / 2;
    d = ax + a * d;
    d = d === 0 ? tiny : d;
    c = ax + a / c;
    c = c === 0 ? tiny : c;
    d = 1 / d;
    const delta = c * d;
    f *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  const erfc = Math.exp(-ax * ax) / Math.sqrt(Math.PI) / f;
  return x > 0 ? 1 - erfc : erfc - 1;
}

/** An integer form of a unary op: int32 and int64 functions, from opset `minOpset` if given. */
export interface UnaryInt {
  readonly i32: (x: number) => number;
  readonly i64: (x: bigint) => bigint;
  readonly minOpset?: number;
}

/** A unary element-wise kernel: `float` on float32/float64 (rounded once), `int` on int32/int64. */
export function unaryKernel(float: (x: number) => number, int?: UnaryInt): KernelFn {
  return (_node, inputs, opset) => {
    const x = inputs[0];
    if (!x) return undefined;
    const n = x.size;
    if (x.dtype === DataType.FLOAT || x.dtype === DataType.DOUBLE) {
      const src = x.toArray() as Float32Array | Float64Array;
      const out = newStorage(x.dtype, n) as Float32Array | Float64Array;
      for (let i = 0; i < n; i++) out[i] = float(src[i]!);
      return [makeTensor(x.dtype, x.dims, out)];
    }
    const g = int;
    if (g === undefined || (g.minOpset !== undefined && opset < g.minOpset)) return undefined;
    if (x.dtype === DataType.INT32) {
      const src = x.toArray() as Int32Array;
      const out = allocate(Int32Array, n);
      for (let i = 0; i < n; i++) out[i] = g.i32(src[i]!);
      return [makeTensor(x.dtype, x.dims, out)];
    }
    if (x.dtype === DataType.INT64) {
      const src = x.toArray() as BigInt64Array;
      const out = allocate(BigInt64Array, n);
      for (let i = 0; i < n; i++) out[i] = g.i64(src[i]!);
      return [makeTensor(x.dtype, x.dims, out)];
    }
    return undefined;
  };
}

// ---------------------------------------------------------------- comparisons and logic

/** A comparison of two numbers (or two bigints). */
export type CmpFn = (a: number | bigint, b: number | bigint) => boolean;

/** A broadcasting comparison → bool, on numeric and bool types. */
export function comparisonKernel(f: CmpFn): KernelFn {
  return (node, inputs) => {
    const [a, b] = inputs;
    if (!a || !b) return undefined;
    if (a.dtype !== b.dtype) throw new KernelError(node, `operand types differ (${DataType[a.dtype]} vs ${DataType[b.dtype]})`);
    const big = isBigIntType(a.dtype);
    const x = big ? a.toArray() : numericView(a);
    const y = big ? b.toArray() : numericView(b);
    if (x === undefined || y === undefined) return undefined;
    return [broadcastBinary(node, a, b, DataType.BOOL, (o, xs, ys, i, ia, ib) => {
      (o as Uint8Array)[i] = f((xs as Float64Array)[ia]!, (ys as Float64Array)[ib]!) ? 1 : 0;
    }, x, y)];
  };
}

/** A broadcasting logical op on bool operands (0/1 bytes). */
export function logicKernel(f: (a: number, b: number) => number): KernelFn {
  return (node, inputs) => {
    const [a, b] = inputs;
    if (!a || !b) return undefined;
    if (a.dtype !== DataType.BOOL || b.dtype !== DataType.BOOL) return undefined;
    return [broadcastBinary(node, a, b, DataType.BOOL, (o, x, y, i, ia, ib) => {
      (o as Uint8Array)[i] = f((x as Uint8Array)[ia]!, (y as Uint8Array)[ib]!);
    })];
  };
}

export const notKernel: KernelFn = (_node, inputs) => {
  const x = inputs[0];
  if (!x || x.dtype !== DataType.BOOL) return undefined;
  const src = x.toArray() as Uint8Array;
  const out = allocate(Uint8Array, x.size);
  for (let i = 0; i < out.length; i++) out[i] = src[i] ? 0 : 1;
  return [makeTensor(DataType.BOOL, x.dims, out)];
};

export const whereKernel: KernelFn = (node, inputs) => {
  const [c, a, b] = inputs;
  if (!c || !a || !b) return undefined;
  if (c.dtype !== DataType.BOOL) throw new KernelError(node, `condition must be bool, got ${DataType[c.dtype]}`);
  if (a.dtype !== b.dtype) throw new KernelError(node, `X and Y types differ (${DataType[a.dtype]} vs ${DataType[b.dtype]})`);
  if (!isElementAddressable(a.dtype)) return undefined;
  const dims = broadcastShapes([c.dims, a.dims, b.dims]);
  if (dims === null) {
    throw new KernelError(node, `shapes ${JSON.stringify(c.dims)}, ${JSON.stringify(a.dims)} and ${JSON.stringify(b.dims)} do not broadcast`);
  }
  const cs = c.toArray() as Uint8Array;
  const xs = a.toArray() as unknown as { [i: number]: number | bigint };
  const ys = b.toArray() as unknown as { [i: number]: number | bigint };
  const out = newStorage(a.dtype, sizeOf(dims));
  const o = out as unknown as { [i: number]: number | bigint };
  forEachStrided(dims, [broadcastStrides(c.dims, dims), broadcastStrides(a.dims, dims), broadcastStrides(b.dims, dims)], (i, ic, ia, ib) => {
    o[i] = cs[ic] ? xs[ia]! : ys[ib]!;
  });
  return [makeTensor(a.dtype, dims, out)];
};

/** Clip: bounds from attributes before opset 11, from optional scalar inputs after (integers from 12). */
export const clipKernel: KernelFn = (node, inputs, opset) => {
  const x = inputs[0];
  if (!x || !isArithType(x.dtype)) return undefined;
  const isFloat = FLOATS.has(x.dtype) || x.dtype === DataType.FLOAT16;
  if (!isFloat && opset < 12) return undefined;
  const [, tmin, tmax] = inputs;
  for (const t of [tmin, tmax]) {
    if (t && (t.dtype !== x.dtype || t.size !== 1)) throw new KernelError(node, 'min/max must be scalars of the input type');
  }
  if (isBigIntType(x.dtype)) {
    const lo = tmin ? (tmin.toArray() as BigInt64Array)[0] : undefined;
    const hi = tmax ? (tmax.toArray() as BigInt64Array)[0] : undefined;
    const src = x.toArray() as BigInt64Array;
    const out = newStorage(x.dtype, x.size) as BigInt64Array;
    for (let i = 0; i < src.length; i++) {
      const v = src[i]!;
      const m = lo !== undefined && v < lo ? lo : v;
      out[i] = hi !== undefined && m > hi ? hi : m;
    }
    return [makeTensor(x.dtype, x.dims, out)];
  }
  let lo = -Infinity;
  let hi = Infinity;
  if (opset < 11) {
    lo = node.getFloat('min', -3.4028234663852886e38);
    hi = node.getFloat('max', 3.4028234663852886e38);
  } else {
    if (tmin) lo = numericView(tmin)![0]!;
    if (tmax) hi = numericView(tmax)![0]!;
  }
  const src = numericView(x)!;
  const out = newStorage(x.dtype, x.size) as Float64Array;
  const f16 = x.dtype === DataType.FLOAT16;
  for (let i = 0; i < src.length; i++) {
    const v = src[i]!;
    // min(max(v, lo), hi), as the spec and onnxruntime: every element is hi when lo > hi.
    const m = v < lo ? lo : v;
    const r = m > hi ? hi : m;
    out[i] = f16 ? numberToFloat16Bits(r) : r;
  }
  return [makeTensor(x.dtype, x.dims, out)];
};

