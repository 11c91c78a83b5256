/**
 * Element-wise reference kernels in float64: the machinery of unary math and activations, binary
 * arithmetic with numpy broadcasting (bigint for int64), comparisons and logic, and variadic
 * folds (`unaryReference`, `binaryReference`, `predicateReference`, `variadicReference`), plus the kernels of Identity,
 * IsNaN, IsInf, PRelu, Not, Where and Clip. What an op computes per element is declared in its
 * module (ops/elementwise-unary.ts, ops/elementwise-binary.ts) and passed in: nothing here
 * decides semantics by op name, so adding such an op touches its module only.
 */
import { DataType, type Node } from '@onnxkit/graph';
import { ReferenceInputError, ReferenceUnsupportedError } from './errors.js';
import { allocBools, allocF64, allocI64, broadcastIndex, broadcastShapes, f64Of, isBigIntDtype, isFloatDtype, isIntegerDtype, sizeOf } from './tensor.js';
import type { ReferenceKernel, RefTensor } from '../../ops/types.js';

export function need(node: Node, t: RefTensor | null | undefined, i: number): RefTensor {
  if (t === null || t === undefined) throw new ReferenceInputError(node, `input ${i} is missing`);
  return t;
}

export function numeric(node: Node, t: RefTensor): Float64Array {
  if (!(t.data instanceof Float64Array)) throw new ReferenceUnsupportedError(node, `element type ${DataType[t.dtype]} is not supported here`);
  return t.data;
}

// ---- unary --------------------------------------------------------------------------------

/** erf to full float64 precision (W. J. Cody's rational approximations, as in most libms). */
export function erf(x: number): number {
  if (Number.isNaN(x)) return NaN;
  const ax = Math.abs(x);
  if (ax < 0.5) {
    const t = x * x;
    const p = (((0.18577770618460315 * t + 3.1611237438705655) * t + 113.86415415105016) * t + 377.485237685302) * t + 3209.3775891384694;
    const q = (((t + 23.601290952344122) * t + 244.02463793444417) * t + 1282.6165260773723) * t + 2844.2368333340264;
    return (x * p) / q;
  }
  return x < 0 ? -(1 - erfc(ax)) : 1 - erfc(ax);
}

function erfc(ax: number): number {
  if (ax >= 27) return 0;
  let r: number;
  if (ax < 4) {
    const p = ((((((((2.1531153547440383e-08 * ax + 0.5641884969886701) * ax + 8.883149794388377) * ax + 66.11919063714163) * ax + 298.6351381974001) * ax + 881.952221241769) * ax + 1712.0476126340707) * ax + 2051.0783778260716) * ax + 1230.3393547979972);
    const q = ((((((((ax + 15.744926110709835) * ax + 117.6939508913125) * ax + 537.1811018620099) * ax + 1621.3895745666903) * ax + 3290.7992357334597) * ax + 4362.619090143247) * ax + 3439.3676741437216) * ax + 1230.3393548037495);
    r = p / q;
  } else {
    const z = 1 / (ax * ax);
    const p = (((((0.016315387137302097 * z + 0.30532663496123236) * z + 0.36034489994980445) * z + 0.12578172611122926) * z + 0.016083785148742275) * z + 0.0006587491615298378);
    const q = (((((z + 2.568520192289822) * z + 1.8729528499234673) * z + 0.5279051029514285) * z + 0.06051834131244132) * z + 0.0023352049762686918);
    r = (1 / ax) * (0.5641895835477563 - (z * p) / q);
  }
  // exp(-x²) split to keep precision for large x.
  const xs = Math.trunc(ax * 16) / 16;
  const del = (ax - xs) * (ax + xs);
  return Math.exp(-xs * xs) * Math.exp(-del) * r;
}

/** A scalar function of float64, made once per node (its attributes read there, not per element). */
export type UnaryF64 = (node: Node) => (x: number) => number;

/** The loop over one node's elements: `out[i]` from `a[i]`. */
type UnaryLoop = (a: Float64Array, out: Float64Array) => void;

/**
 * The loop over one node's int64 elements, written by the op (no call per element: a BigInt
 * computed inline is stored without being allocated, one returned by a call is not).
 */
export type UnaryLoopI64 = (a: BigInt64Array, out: BigInt64Array) => void;

function unaryWith(prepare: (node: Node) => UnaryLoop, i64: UnaryLoopI64 | undefined): ReferenceKernel {
  return (node, inputs) => {
    const x = need(node, inputs[0], 0);
    if (i64 !== undefined && x.data instanceof BigInt64Array) {
      const out = allocI64(x.data.length);
      i64(x.data, out);
      return [{ dtype: x.dtype, dims: x.dims, data: out }];
    }
    const a = numeric(node, x);
    const loop = prepare(node);
    const out = allocF64(a.length);
    loop(a, out);
    return [{ dtype: x.dtype, dims: x.dims, data: out }];
  };
}

/**
 * A unary element-wise op computing `f64(node)` on float64 elements and, when given, its int64
 * loop `i64` (without it int64 is not supported).
 */
export function unaryReference(f64: UnaryF64, i64?: UnaryLoopI64): ReferenceKernel {
  return unaryWith((node) => {
    const f = f64(node);
    return (a, out) => {
      for (let i = 0; i < a.length; i++) out[i] = f(a[i]!);
    };
  }, i64);
}

/** As unaryReference, with the op's own loop over the whole array: no call per element (Relu). */
export function unaryLoopReference(loop: UnaryLoop, i64?: UnaryLoopI64): ReferenceKernel {
  return unaryWith(() => loop, i64);
}

export const identityRef: ReferenceKernel = (node, inputs) => [need(node, inputs[0], 0)];

export const isNaNRef: ReferenceKernel = (node, inputs) => {
  const a = numeric(node, need(node, inputs[0], 0));
  const out = allocBools(a.length);
  for (let i = 0; i < a.length; i++) out[i] = Number.isNaN(a[i]);
  return [{ dtype: DataType.BOOL, dims: inputs[0]!.dims, data: out }];
};

export const isInfRef: ReferenceKernel = (node, inputs) => {
  const a = numeric(node, need(node, inputs[0], 0));
  const pos = node.getInt('detect_positive', 1) !== 0;
  const neg = node.getInt('detect_negative', 1) !== 0;
  const out = allocBools(a.length);
  for (let i = 0; i < a.length; i++) out[i] = (pos && a[i] === Infinity) || (neg && a[i] === -Infinity);
  return [{ dtype: DataType.BOOL, dims: inputs[0]!.dims, data: out }];
};

// ---- binary -------------------------------------------------------------------------------

export type Bin = (a: number, b: number) => number;
export type BinI = (a: bigint, b: bigint) => bigint;

/** Applies `f` over broadcast operands (the fast paths: same shape, scalar right). */
export function broadcastBinary(node: Node, x: RefTensor, y: RefTensor, a: Float64Array, b: Float64Array, f: Bin): { dims: number[]; out: Float64Array } {
  const dims = broadcastShapes(node, [x.dims, y.dims]);
  const n = sizeOf(dims);
  const out = allocF64(n);
  const ia = broadcastIndex(x.dims, dims);
  const ib = broadcastIndex(y.dims, dims);
  if (ia === null && ib === null) for (let i = 0; i < n; i++) out[i] = f(a[i]!, b[i]!);
  else if (ia === null && b.length === 1) {
    const bv = b[0]!;
    for (let i = 0; i < n; i++) out[i] = f(a[i]!, bv);
  } else if (ia === null) for (let i = 0; i < n; i++) out[i] = f(a[i]!, b[ib![i]!]!);
  else if (ib === null) for (let i = 0; i < n; i++) out[i] = f(a[ia[i]!]!, b[i]!);
  else for (let i = 0; i < n; i++) out[i] = f(a[ia[i]!]!, b[ib[i]!]!);
  return { dims, out };
}

function broadcastBinaryI(node: Node, x: RefTensor, y: RefTensor, f: BinI): { dims: number[]; out: BigInt64Array } {
  const a = x.data as BigInt64Array;
  const b = y.data as BigInt64Array;
  const dims = broadcastShapes(node, [x.dims, y.dims]);
  const n = sizeOf(dims);
  const out = allocI64(n);
  const ia = broadcastIndex(x.dims, dims);
  const ib = broadcastIndex(y.dims, dims);
  for (let i = 0; i < n; i++) out[i] = f(a[ia === null ? i : ia[i]!]!, b[ib === null ? i : ib[i]!]!);
  return { dims, out };
}

function wrapInt(dtype: DataType, v: number): number {
  switch (dtype) {
    case DataType.INT32:
      return v | 0;
    case DataType.UINT32:
      return v >>> 0;
    case DataType.INT8:
      return (v << 24) >> 24;
    case DataType.UINT8:
      return v & 0xff;
    case DataType.INT16:
      return (v << 16) >> 16;
    case DataType.UINT16:
      return v & 0xffff;
    default:
      return v;
  }
}

/**
 * One binary arithmetic op, declared by its module (ops/elementwise-binary.ts). Both operands
 * int64: `i64(node)` on bigints (absent: int64 is not supported). Otherwise `f64(node, isInt)` on
 * float64 values (int64 operands converted), `isInt` for integer element types; `wrapsInt`
 * wraps integer results to the element width (+, −, ×, whose float64 result is exact);
 * `int64Result` converts the result back to int64 when the first operand is int64 and the
 * second is not (Pow's T, T1).
 */
export interface BinaryReferenceOp {
  readonly i64?: (node: Node) => BinI;
  readonly f64: (node: Node, isInt: boolean) => Bin;
  readonly wrapsInt?: boolean;
  readonly int64Result?: boolean;
}

export function binaryReference(op: BinaryReferenceOp): ReferenceKernel {
  return (node, inputs) => {
    const x = need(node, inputs[0], 0);
    const y = need(node, inputs[1], 1);
    if (x.data instanceof BigInt64Array && y.data instanceof BigInt64Array) {
      if (op.i64 === undefined) throw new ReferenceUnsupportedError(node, `${node.opType} on int64 is not supported`);
      const { dims, out } = broadcastBinaryI(node, x, y, op.i64(node));
      return [{ dtype: x.dtype, dims, data: out }];
    }
    if (op.int64Result && x.data instanceof BigInt64Array) {
      const { dims, out } = broadcastBinary(node, x, y, f64Of(x), f64Of(y), op.f64(node, true));
      return [{ dtype: x.dtype, dims, data: BigInt64Array.from(out, (v) => BigInt(v)) }];
    }
    const a = x.data instanceof BigInt64Array ? f64Of(x) : numeric(node, x);
    const b = y.data instanceof BigInt64Array ? f64Of(y) : numeric(node, y);
    const isInt = isIntegerDtype(x.dtype);
    const { dims, out } = broadcastBinary(node, x, y, a, b, op.f64(node, isInt));
    if (isInt && op.wrapsInt) for (let i = 0; i < out.length; i++) out[i] = wrapInt(x.dtype, out[i]!);
    return [{ dtype: x.dtype, dims, data: out }];
  };
}

export const preluRef: ReferenceKernel = (node, inputs) => {
  const x = need(node, inputs[0], 0);
  let s = need(node, inputs[1], 1);
  // Old exporters give a per-channel slope [C] for X [N, C, ...] (the pre-opset-7 layout).
  if (s.dims.length === 1 && x.dims.length > 2 && s.dims[0] === x.dims[1] && s.dims[0] !== x.dims[x.dims.length - 1]) {
    s = { ...s, dims: [s.dims[0]!, ...x.dims.slice(2).map(() => 1)] };
  }
  const { dims, out } = broadcastBinary(node, x, s, numeric(node, x), numeric(node, s), (a, b) => (a < 0 ? a * b : a));
  return [{ dtype: x.dtype, dims, data: out }];
};

/** A broadcast binary predicate of the two inputs, as a bool tensor (comparisons and logic). */
export function predicateReference<T>(test: (p: T, q: T) => boolean): ReferenceKernel {
  return (node, inputs) => {
    const x = need(node, inputs[0], 0);
    const y = need(node, inputs[1], 1);
    const dims = broadcastShapes(node, [x.dims, y.dims]);
    const n = sizeOf(dims);
    const ia = broadcastIndex(x.dims, dims);
    const ib = broadcastIndex(y.dims, dims);
    const out = allocBools(n);
    const a = x.data as ArrayLike<unknown>;
    const b = y.data as ArrayLike<unknown>;
    for (let i = 0; i < n; i++) out[i] = test(a[ia === null ? i : ia[i]!] as T, b[ib === null ? i : ib[i]!] as T);
    return [{ dtype: DataType.BOOL, dims, data: out }];
  };
}

export const notRef: ReferenceKernel = (node, inputs) => {
  const x = need(node, inputs[0], 0);
  return [{ dtype: DataType.BOOL, dims: x.dims, data: (x.data as readonly boolean[]).map((b) => !b) }];
};

export const whereRef: ReferenceKernel = (node, inputs) => {
  const c = need(node, inputs[0], 0);
  const x = need(node, inputs[1], 1);
  const y = need(node, inputs[2], 2);
  const dims = broadcastShapes(node, [c.dims, x.dims, y.dims]);
  const n = sizeOf(dims);
  const ic = broadcastIndex(c.dims, dims);
  const ix = broadcastIndex(x.dims, dims);
  const iy = broadcastIndex(y.dims, dims);
  const cd = c.data as readonly boolean[];
  const xd = x.data as ArrayLike<unknown>;
  const yd = y.data as ArrayLike<unknown>;
  const out: { [i: number]: unknown; length: number } = x.data instanceof Float64Array ? allocF64(n) : x.data instanceof BigInt64Array ? allocI64(n) : new Array<unknown>(n);
  for (let i = 0; i < n; i++) out[i] = cd[ic === null ? i : ic[i]!] ? xd[ix === null ? i : ix[i]!] : yd[iy === null ? i : iy[i]!];
  return [{ dtype: x.dtype, dims, data: out as RefTensor['data'] }];
};

/**
 * A variadic broadcasting op (Sum, Mean, Max, Min), declared by its module: a left fold of `f64`,
 * or of `i64` when an input is int64 (absent: int64 is not supported); `mean` divides by the
 * number of inputs once at the end.
 */
export interface VariadicReferenceOp {
  readonly f64: Bin;
  readonly i64?: BinI;
  readonly mean?: boolean;
}

export function variadicReference(op: VariadicReferenceOp): ReferenceKernel {
  return (node, inputs) => {
    const xs = inputs.filter((t): t is RefTensor => t !== null);
    if (xs.length === 0) throw new ReferenceInputError(node, 'needs at least one input');
    if (xs.some((t) => t.data instanceof BigInt64Array)) {
      if (op.i64 === undefined) throw new ReferenceUnsupportedError(node, `${node.opType} on int64 is not supported`);
      let acc = xs[0]!;
      for (const t of xs.slice(1)) {
        const { dims, out } = broadcastBinaryI(node, acc, t, op.i64);
        acc = { dtype: acc.dtype, dims, data: out };
      }
      return [acc];
    }
    const f = op.f64;
    let acc: RefTensor = { dtype: xs[0]!.dtype, dims: xs[0]!.dims, data: Float64Array.from(numeric(node, xs[0]!)) };
    for (const t of xs.slice(1)) {
      const { dims, out } = broadcastBinary(node, acc, t, acc.data as Float64Array, numeric(node, t), f);
      acc = { dtype: acc.dtype, dims, data: out };
    }
    if (op.mean) {
      const d = acc.data as Float64Array;
      for (let i = 0; i < d.length; i++) d[i] = d[i]! / xs.length;
    }
    return [acc];
  };
}

export const clipRef: ReferenceKernel = (node, inputs, opset) => {
  const x = need(node, inputs[0], 0);
  let lo: number | bigint;
  let hi: number | bigint;
  if (opset < 11) {
    lo = node.getFloat('min', -Infinity);
    hi = node.getFloat('max', Infinity);
  } else {
    const l = inputs[1];
    const h = inputs[2];
    lo = l ? (l.data as ArrayLike<number | bigint>)[0]! : -Infinity;
    hi = h ? (h.data as ArrayLike<number | bigint>)[0]! : Infinity;
  }
  if (x.data instanceof BigInt64Array) {
    const a = x.data;
    const out = allocI64(a.length);
    for (let i = 0; i < a.length; i++) {
      let v = a[i]!;
      if (typeof lo === 'bigint' && v < lo) v = lo;
      if (typeof hi === 'bigint' && v > hi) v = hi;
      out[i] = v;
    }
    return [{ dtype: x.dtype, dims: x.dims, data: out }];
  }
  const a = numeric(node, x);
  const l = Number(lo);
  const h = Number(hi);
  const out = allocF64(a.length);
  for (let i = 0; i < a.length; i++) {
    const v = a[i]!;
    // min(max(v, lo), hi): every element is hi when lo > hi (the spec, onnxruntime).
    const m = v < l ? l : v;
    out[i] = m > h ? h : m;
  }
  return [{ dtype: x.dtype, dims: x.dims, data: out }];
};

export { isBigIntDtype, isFloatDtype };
