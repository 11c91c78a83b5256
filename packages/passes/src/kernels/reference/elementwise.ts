/**
 * Element-wise reference kernels in float64: unary math and activations, binary arithmetic with
 * numpy broadcasting (bigint for int64), comparisons, logic, Where, Clip, variadic Sum/Mean/Max/Min.
 */
import { DataType, type Node } from '@onnxkit/graph';
import { cPow } from '../elementwise.js';
import { ReferenceInputError, ReferenceUnsupportedError } from './errors.js';
import { allocBools, allocF64, allocI64, broadcastIndex, broadcastShapes, f64Of, isBigIntDtype, isFloatDtype, isIntegerDtype, sizeOf } from './tensor.js';
import type { ReferenceKernel, RefTensor } from '../../ops/types.js';

function need(node: Node, t: RefTensor | null | undefined, i: number): RefTensor {
  if (t === null || t === undefined) throw new ReferenceInputError(node, `input ${i} is missing`);
  return t;
}

function numeric(node: Node, t: RefTensor): Float64Array {
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

function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

type Unary = (x: number, node: Node) => number;

const unaryFns: Record<string, Unary> = {
  Relu: (x) => (x > 0 ? x : x === 0 || x < 0 ? 0 : x),
  Sigmoid: (x) => (x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x))),
  Tanh: Math.tanh,
  Erf: erf,
  Exp: Math.exp,
  Log: Math.log,
  Sqrt: Math.sqrt,
  Neg: (x) => -x,
  Abs: Math.abs,
  Reciprocal: (x) => 1 / x,
  Floor: Math.floor,
  Ceil: Math.ceil,
  Round: roundHalfEven,
  Sign: (x) => (Number.isNaN(x) ? NaN : x > 0 ? 1 : x < 0 ? -1 : 0),
  Sin: Math.sin,
  Cos: Math.cos,
  Tan: Math.tan,
  Asin: Math.asin,
  Acos: Math.acos,
  Atan: Math.atan,
  Sinh: Math.sinh,
  Cosh: Math.cosh,
  Asinh: Math.asinh,
  Acosh: Math.acosh,
  Atanh: Math.atanh,
  Softplus: (x) => (x > 0 ? x + Math.log1p(Math.exp(-x)) : Math.log1p(Math.exp(x))),
  Softsign: (x) => x / (1 + Math.abs(x)),
  Mish: (x) => x * Math.tanh(x > 0 ? x + Math.log1p(Math.exp(-x)) : Math.log1p(Math.exp(x))),
  LeakyRelu: (x, n) => (x >= 0 ? x : x * n.getFloat('alpha', 0.01)),
  Elu: (x, n) => (x >= 0 ? x : n.getFloat('alpha', 1) * Math.expm1(x)),
  Celu: (x, n) => {
    const a = n.getFloat('alpha', 1);
    return Math.max(0, x) + Math.min(0, a * Math.expm1(x / a));
  },
  Selu: (x, n) => n.getFloat('gamma', 1.05070102214813232421875) * (x > 0 ? x : n.getFloat('alpha', 1.67326319217681884765625) * Math.expm1(x)),
  ThresholdedRelu: (x, n) => (x > n.getFloat('alpha', 1) ? x : 0),
  HardSigmoid: (x, n) => Math.max(0, Math.min(1, n.getFloat('alpha', 0.2) * x + n.getFloat('beta', 0.5))),
  HardSwish: (x) => x * Math.max(0, Math.min(1, x / 6 + 0.5)),
  Shrink: (x, n) => {
    const l = n.getFloat('lambd', 0.5);
    const b = n.getFloat('bias', 0);
    return x < -l ? x + b : x > l ? x - b : 0;
  },
};

/** Attributes are read once per node, not per element: these take (node) and return the fn. */
function specialise(op: string, node: Node): (x: number) => number {
  switch (op) {
    case 'LeakyRelu': {
      const a = node.getFloat('alpha', 0.01);
      return (x) => (x >= 0 ? x : x * a);
    }
    case 'HardSigmoid': {
      const a = node.getFloat('alpha', 0.2);
      const b = node.getFloat('beta', 0.5);
      return (x) => Math.max(0, Math.min(1, a * x + b));
    }
    case 'Gelu': {
      const approx = node.getString('approximate', 'none');
      if (approx === 'tanh') return (x) => 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x)));
      if (approx !== 'none') throw new ReferenceUnsupportedError(node, `Gelu approximate='${approx}' is not supported`);
      return (x) => 0.5 * x * (1 + erf(x / Math.SQRT2));
    }
    default: {
      const f = unaryFns[op]!;
      return (x) => f(x, node);
    }
  }
}

function unaryKernel(op: string): ReferenceKernel {
  return (node, inputs) => {
    const x = need(node, inputs[0], 0);
    if (x.data instanceof BigInt64Array && (op === 'Neg' || op === 'Abs' || op === 'Sign' || op === 'Relu')) {
      const a = x.data;
      const out = allocI64(a.length);
      for (let i = 0; i < a.length; i++) {
        const v = a[i]!;
        out[i] = op === 'Neg' ? -v : op === 'Abs' ? (v < 0n ? -v : v) : op === 'Sign' ? (v > 0n ? 1n : v < 0n ? -1n : 0n) : v > 0n ? v : 0n;
      }
      return [{ dtype: x.dtype, dims: x.dims, data: out }];
    }
    const a = numeric(node, x);
    const f = specialise(op, node);
    const out = allocF64(a.length);
    if (op === 'Relu') for (let i = 0; i < a.length; i++) out[i] = a[i]! > 0 ? a[i]! : a[i]! !== a[i]! ? a[i]! : 0;
    else for (let i = 0; i < a.length; i++) out[i] = f(a[i]!);
    return [{ dtype: x.dtype, dims: x.dims, data: out }];
  };
}

// One named export per unary op (their homes take them at merge).
export const reluRef: ReferenceKernel = unaryKernel('Relu');
export const sigmoidRef: ReferenceKernel = unaryKernel('Sigmoid');
export const tanhRef: ReferenceKernel = unaryKernel('Tanh');
export const erfRef: ReferenceKernel = unaryKernel('Erf');
export const expRef: ReferenceKernel = unaryKernel('Exp');
export const logRef: ReferenceKernel = unaryKernel('Log');
export const sqrtRef: ReferenceKernel = unaryKernel('Sqrt');
export const negRef: ReferenceKernel = unaryKernel('Neg');
export const absRef: ReferenceKernel = unaryKernel('Abs');
export const reciprocalRef: ReferenceKernel = unaryKernel('Reciprocal');
export const floorRef: ReferenceKernel = unaryKernel('Floor');
export const ceilRef: ReferenceKernel = unaryKernel('Ceil');
export const roundRef: ReferenceKernel = unaryKernel('Round');
export const signRef: ReferenceKernel = unaryKernel('Sign');
export const sinRef: ReferenceKernel = unaryKernel('Sin');
export const cosRef: ReferenceKernel = unaryKernel('Cos');
export const tanRef: ReferenceKernel = unaryKernel('Tan');
export const asinRef: ReferenceKernel = unaryKernel('Asin');
export const acosRef: ReferenceKernel = unaryKernel('Acos');
export const atanRef: ReferenceKernel = unaryKernel('Atan');
export const sinhRef: ReferenceKernel = unaryKernel('Sinh');
export const coshRef: ReferenceKernel = unaryKernel('Cosh');
export const asinhRef: ReferenceKernel = unaryKernel('Asinh');
export const acoshRef: ReferenceKernel = unaryKernel('Acosh');
export const atanhRef: ReferenceKernel = unaryKernel('Atanh');
export const softplusRef: ReferenceKernel = unaryKernel('Softplus');
export const softsignRef: ReferenceKernel = unaryKernel('Softsign');
export const mishRef: ReferenceKernel = unaryKernel('Mish');
export const leakyReluRef: ReferenceKernel = unaryKernel('LeakyRelu');
export const eluRef: ReferenceKernel = unaryKernel('Elu');
export const celuRef: ReferenceKernel = unaryKernel('Celu');
export const seluRef: ReferenceKernel = unaryKernel('Selu');
export const thresholdedReluRef: ReferenceKernel = unaryKernel('ThresholdedRelu');
export const hardSigmoidRef: ReferenceKernel = unaryKernel('HardSigmoid');
export const hardSwishRef: ReferenceKernel = unaryKernel('HardSwish');
export const shrinkRef: ReferenceKernel = unaryKernel('Shrink');
export const geluRef: ReferenceKernel = unaryKernel('Gelu');

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

type Bin = (a: number, b: number) => number;
type BinI = (a: bigint, b: bigint) => bigint;

function fmod(a: number, b: number): number {
  return a % b;
}
function pyMod(a: number, b: number): number {
  const r = a % b;
  return r !== 0 && r < 0 !== b < 0 ? r + b : r;
}

/** Applies `f` over broadcast operands (the fast paths: same shape, scalar right). */
function broadcastBinary(node: Node, x: RefTensor, y: RefTensor, a: Float64Array, b: Float64Array, f: Bin): { dims: number[]; out: Float64Array } {
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

function arithmetic(op: 'Add' | 'Sub' | 'Mul' | 'Div' | 'Pow' | 'Mod' | 'BitShift'): ReferenceKernel {
  return (node, inputs) => {
    const x = need(node, inputs[0], 0);
    const y = need(node, inputs[1], 1);
    if (x.data instanceof BigInt64Array && y.data instanceof BigInt64Array) {
      const fmodAttr = node.getInt('fmod', 0) !== 0;
      const f: BinI | undefined =
        op === 'Add'
          ? (a, b) => BigInt.asIntN(64, a + b)
          : op === 'Sub'
            ? (a, b) => BigInt.asIntN(64, a - b)
            : op === 'Mul'
              ? (a, b) => BigInt.asIntN(64, a * b)
              : op === 'Div'
                ? (a, b) => {
                    if (b === 0n) throw new ReferenceInputError(node, 'integer division by zero');
                    return a / b;
                  }
                : op === 'Mod'
                  ? (a, b) => {
                      if (b === 0n) throw new ReferenceInputError(node, 'integer modulo by zero');
                      const r = a % b;
                      return fmodAttr || r === 0n || r < 0n === b < 0n ? r : r + b;
                    }
                  : op === 'Pow'
                    ? (a, b) => (b < 0n ? (a === 1n ? 1n : 0n) : BigInt.asIntN(64, a ** b))
                    : undefined;
      if (f === undefined) throw new ReferenceUnsupportedError(node, `${op} on int64 is not supported`);
      const { dims, out } = broadcastBinaryI(node, x, y, f);
      return [{ dtype: x.dtype, dims, data: out }];
    }
    if (op === 'BitShift') {
      const left = node.getString('direction', 'LEFT') === 'LEFT';
      const bits = x.dtype === DataType.UINT8 ? 8 : x.dtype === DataType.UINT16 ? 16 : 32;
      const { dims, out } = broadcastBinary(node, x, y, numeric(node, x), numeric(node, y), (a, b) => (b >= bits ? 0 : left ? (a * 2 ** b) % 2 ** bits : Math.floor(a / 2 ** b)));
      return [{ dtype: x.dtype, dims, data: out }];
    }
    if (op === 'Pow' && x.data instanceof BigInt64Array) {
      const { dims, out } = broadcastBinary(node, x, y, f64Of(x), f64Of(y), (p, q) => Math.trunc(Math.pow(p, q)));
      return [{ dtype: x.dtype, dims, data: BigInt64Array.from(out, (v) => BigInt(v)) }];
    }
    const a = x.data instanceof BigInt64Array ? f64Of(x) : numeric(node, x);
    const b = y.data instanceof BigInt64Array ? f64Of(y) : numeric(node, y);
    const isInt = isIntegerDtype(x.dtype);
    let f: Bin;
    switch (op) {
      case 'Add':
        f = (p, q) => p + q;
        break;
      case 'Sub':
        f = (p, q) => p - q;
        break;
      case 'Mul':
        f = (p, q) => p * q;
        break;
      case 'Div':
        f = isInt
          ? (p, q) => {
              if (q === 0) throw new ReferenceInputError(node, 'integer division by zero');
              return Math.trunc(p / q);
            }
          : (p, q) => p / q;
        break;
      case 'Pow':
        f = isInt ? (p, q) => Math.trunc(Math.pow(p, q)) : cPow;
        break;
      case 'Mod':
        f = node.getInt('fmod', 0) !== 0 ? fmod : pyMod;
        break;
    }
    const { dims, out } = broadcastBinary(node, x, y, a, b, f);
    if (isInt && (op === 'Add' || op === 'Sub' || op === 'Mul')) for (let i = 0; i < out.length; i++) out[i] = wrapInt(x.dtype, out[i]!);
    return [{ dtype: x.dtype, dims, data: out }];
  };
}

export const addRef = arithmetic('Add');
export const subRef = arithmetic('Sub');
export const mulRef = arithmetic('Mul');
export const divRef = arithmetic('Div');
export const powRef = arithmetic('Pow');
export const modRef = arithmetic('Mod');
export const bitShiftRef = arithmetic('BitShift');

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
function predicate<T>(node: Node, inputs: readonly (RefTensor | null)[], test: (p: T, q: T) => boolean): RefTensor[] {
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
}

function comparison(op: 'Equal' | 'Less' | 'Greater' | 'LessOrEqual' | 'GreaterOrEqual'): ReferenceKernel {
  const test: (p: number, q: number) => boolean = op === 'Equal' ? (p, q) => p === q : op === 'Less' ? (p, q) => p < q : op === 'Greater' ? (p, q) => p > q : op === 'LessOrEqual' ? (p, q) => p <= q : (p, q) => p >= q;
  return (node, inputs) => predicate(node, inputs, test);
}

export const equalRef = comparison('Equal');
export const lessRef = comparison('Less');
export const greaterRef = comparison('Greater');
export const lessOrEqualRef = comparison('LessOrEqual');
export const greaterOrEqualRef = comparison('GreaterOrEqual');

function logic(op: 'And' | 'Or' | 'Xor'): ReferenceKernel {
  const test: (p: boolean, q: boolean) => boolean = op === 'And' ? (p, q) => p && q : op === 'Or' ? (p, q) => p || q : (p, q) => p !== q;
  return (node, inputs) => predicate(node, inputs, test);
}

export const andRef = logic('And');
export const orRef = logic('Or');
export const xorRef = logic('Xor');

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

/** Variadic Sum/Mean/Max/Min with broadcasting (left fold; Mean divides once at the end). */
function variadic(op: 'Sum' | 'Mean' | 'Max' | 'Min'): ReferenceKernel {
  return (node, inputs) => {
    const xs = inputs.filter((t): t is RefTensor => t !== null);
    if (xs.length === 0) throw new ReferenceInputError(node, 'needs at least one input');
    if (xs.some((t) => t.data instanceof BigInt64Array)) {
      if (op === 'Mean') throw new ReferenceUnsupportedError(node, 'Mean on int64 is not supported');
      let acc = xs[0]!;
      for (const t of xs.slice(1)) {
        const { dims, out } = broadcastBinaryI(node, acc, t, op === 'Sum' ? (a, b) => BigInt.asIntN(64, a + b) : op === 'Max' ? (a, b) => (a > b ? a : b) : (a, b) => (a < b ? a : b));
        acc = { dtype: acc.dtype, dims, data: out };
      }
      return [acc];
    }
    const f: Bin = op === 'Sum' || op === 'Mean' ? (a, b) => a + b : op === 'Max' ? (a, b) => (a !== a || b !== b ? NaN : a > b ? a : b) : (a, b) => (a !== a || b !== b ? NaN : a < b ? a : b);
    let acc: RefTensor = { dtype: xs[0]!.dtype, dims: xs[0]!.dims, data: Float64Array.from(numeric(node, xs[0]!)) };
    for (const t of xs.slice(1)) {
      const { dims, out } = broadcastBinary(node, acc, t, acc.data as Float64Array, numeric(node, t), f);
      acc = { dtype: acc.dtype, dims, data: out };
    }
    if (op === 'Mean') {
      const d = acc.data as Float64Array;
      for (let i = 0; i < d.length; i++) d[i] = d[i]! / xs.length;
    }
    return [acc];
  };
}

export const sumRef = variadic('Sum');
export const meanRef = variadic('Mean');
export const maxRef = variadic('Max');
export const minRef = variadic('Min');

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
