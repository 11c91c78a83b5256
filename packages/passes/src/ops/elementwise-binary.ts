/**
 * Element-wise ops of two or more inputs with numpy broadcasting: arithmetic, comparison, logic,
 * Where, and the variadic Sum/Mean/Max/Min. Shape inference also combines their partial values
 * (small integer tensors such as shapes), which is how computed Reshape targets resolve.
 */
import { DataType, type Dim, type Node } from '@onnxkit/graph';
import type { RuleContext, ShapeRule } from '../analysis/inference-types.js';
import { lookup, opTable } from '../common/op-table.js';
import type { KernelEntry } from '../kernels/types.js';
import { binaryKernel, binaryKernelBy, comparisonKernel, cPow, intDivisor, logicKernel, powKernel, variadicKernel, whereKernel, type ArithOp, type CmpFn } from '../kernels/elementwise.js';
import { KernelError } from '../kernels/errors.js';
import { ATTR, attrs, withDefault } from './attributes.js';
import { type CostContext, type Count, type OpCost, perOutput } from './cost.js';
import { broadcastShapesSymbolic, broadcastTwoShared, firstType, isIntType, U } from './shape-helpers.js';
import { defineOp, FP16_ALL, type OpDef, type OpDefInput, type ReferenceKernel, withFacets } from './types.js';
import { binaryReference, broadcastBinary, need, numeric, predicateReference, variadicReference, whereRef, type Bin, type BinI } from '../kernels/reference/elementwise.js';
import { ReferenceInputError, ReferenceUnsupportedError } from '../kernels/reference/errors.js';

type PartialOp = (c: RuleContext, a: Dim, b: Dim, isInt: boolean) => Dim;

const PARTIAL_BINARY: Readonly<Record<string, PartialOp>> = opTable<PartialOp>({
  Add: (c, a, b) => c.alg.add(a, b),
  Sub: (c, a, b) => c.alg.sub(a, b),
  Mul: (c, a, b) => {
    if (typeof a === 'number' && typeof b === 'number') return a * b;
    // Symbols are integers: a fractional factor leaves the ring.
    if ((typeof a === 'number' && !Number.isInteger(a)) || (typeof b === 'number' && !Number.isInteger(b))) return null;
    return c.alg.mul(a, b);
  },
  Div: (c, a, b, isInt) => {
    if (typeof a === 'number' && typeof b === 'number') return b === 0 ? null : isInt ? Math.trunc(a / b) : a / b;
    if (typeof b === 'number' && b > 0) return isInt ? c.alg.floorDiv(a, b) : c.alg.divExact(a, b);
    return c.alg.divExact(a, b);
  },
  Max: (c, a, b) => c.alg.max(a, b),
  Min: (c, a, b) => c.alg.min(a, b),
  Mod: (_c, a, b) => (typeof a === 'number' && typeof b === 'number' && b !== 0 ? a - Math.floor(a / b) * b : null),
  // Symbolic dims are non-negative: equal to a negative number they never are.
  Equal: (_c, a, b) => (a !== null && a === b ? 1 : typeof a === 'number' && typeof b === 'number' ? 0 : (typeof a === 'number' && a < 0) || (typeof b === 'number' && b < 0) ? 0 : null),
  Less: (_c, a, b) => (typeof a === 'number' && typeof b === 'number' ? (a < b ? 1 : 0) : typeof b === 'number' && b <= 0 && a !== null ? 0 : null),
  Greater: (_c, a, b) => (typeof a === 'number' && typeof b === 'number' ? (a > b ? 1 : 0) : typeof b === 'number' && b < 0 && a !== null ? 1 : null),
});

/** Element-wise combination of the partial values of inputs 0 and 1 (length-1 broadcast). */
function partialBinary(c: RuleContext, op: PartialOp): void {
  const a = c.ints(0);
  const b = c.ints(1);
  if (!a || !b) return;
  if ((c.rank(0) ?? 2) > 1 || (c.rank(1) ?? 2) > 1) return;
  if (a.length !== b.length && a.length !== 1 && b.length !== 1) return;
  const n = Math.max(a.length, b.length);
  const isInt = isIntType(c.dtype(0));
  const out: Dim[] = [];
  for (let i = 0; i < n; i++) out.push(op(c, a[a.length === 1 ? 0 : i]!, b[b.length === 1 ? 0 : i]!, isInt));
  c.partial(0, out);
}

function binary(outType?: DataType): ShapeRule {
  return (c) => {
    // firstType(c, 0, 1) and broadcastShapesSymbolic(c, [a, b]) without an array per node (this runs for every Add and Mul).
    const t0 = c.dtype(0);
    c.out(0, outType ?? (t0 !== U ? t0 : c.dtype(1)), broadcastTwoShared(c, c.shape(0), c.shape(1)));
    const op = lookup(PARTIAL_BINARY, c.node.opType);
    if (op) partialBinary(c, op);
  };
}

const variadic: ShapeRule = (c) => {
  const shapes: (readonly Dim[] | null)[] = [];
  for (let i = 0; i < c.inputCount; i++) if (c.has(i)) shapes.push(c.shape(i));
  c.out(0, firstType(c, 0, 1), broadcastShapesSymbolic(c, shapes));
  const op = lookup(PARTIAL_BINARY, c.node.opType);
  if (op && c.inputCount === 2) partialBinary(c, op);
};

const where: ShapeRule = (c) => {
  c.out(0, firstType(c, 1, 2), broadcastShapesSymbolic(c, [c.shape(0), c.shape(1), c.shape(2)]));
  const cond = c.ints(0);
  const x = c.ints(1);
  const y = c.ints(2);
  if (!cond || !x || !y || [0, 1, 2].some((i) => (c.rank(i) ?? 2) > 1)) return;
  const n = Math.max(cond.length, x.length, y.length);
  if ([cond, x, y].some((p) => p.length !== n && p.length !== 1)) return;
  const out: Dim[] = [];
  for (let i = 0; i < n; i++) {
    const k = cond[cond.length === 1 ? 0 : i];
    out.push(k === null || typeof k === 'string' ? null : k ? x[x.length === 1 ? 0 : i]! : y[y.length === 1 ? 0 : i]!);
  }
  c.partial(0, out);
};

const BROADCAST = 'float32/float64/float16 and all integer widths, broadcasting; float32 bit-exact';

// ---- what each op computes: the float32 folding kernels (ArithOp: float, wrapped int, bigint) and the float64 reference

const maxNum = (a: number, b: number): number => (Number.isNaN(a) || Number.isNaN(b) ? NaN : a > b ? a : b);
const minNum = (a: number, b: number): number => (Number.isNaN(a) || Number.isNaN(b) ? NaN : a < b ? a : b);

const ADD: ArithOp = { float: (a, b) => a + b, int: (a, b) => a + b, big: (a, b) => a + b };
const SUB: ArithOp = { float: (a, b) => a - b, int: (a, b) => a - b, big: (a, b) => a - b };
const MUL: ArithOp = { float: (a, b) => a * b, int: (a, b) => a * b, big: (a, b) => a * b, mul32: true };
/** Integer division truncates toward zero, as onnxruntime's; by zero is an error. */
const DIV: ArithOp = { float: (a, b) => a / b, int: (a, b) => Math.trunc(a / intDivisor(b)), big: (a, b) => a / intDivisor(b) };

/**
 * Mod: C's fmod, the sign of the dividend (fmod=1, required for floats), or Python's modulo, the
 * sign of the divisor (fmod=0); integer modulo by zero is an error.
 */
const TRUNC_MOD: ArithOp = { float: (x, y) => x % y, int: (x, y) => x % intDivisor(y), big: (x, y) => x % intDivisor(y) };
const FLOOR_MOD: ArithOp = {
  float: (x, y) => x % y,
  int: (a, b) => {
    const r = a % intDivisor(b);
    return r !== 0 && r < 0 !== b < 0 ? r + b : r;
  },
  big: (a, b) => {
    const r = a % intDivisor(b);
    return r !== 0n && r < 0n !== b < 0n ? r + b : r;
  },
};
const modKernel = binaryKernelBy((node, isFloat) => {
  const fmod = node.getInt('fmod', 0);
  if (isFloat && fmod !== 1) throw new KernelError(node, 'Mod on floating-point inputs requires fmod=1');
  return fmod === 1 ? TRUNC_MOD : FLOOR_MOD;
});

/** The reference's Mod: C's fmod (fmod=1) and Python's modulo, the sign of the divisor (fmod=0). */
const fmodF64: Bin = (a, b) => a % b;
const pyModF64: Bin = (a, b) => {
  const r = a % b;
  return r !== 0 && r < 0 !== b < 0 ? r + b : r;
};

const divByZero = (node: Node, what: string): never => {
  throw new ReferenceInputError(node, `integer ${what} by zero`);
};

const addRef = binaryReference({ i64: () => (a, b) => BigInt.asIntN(64, a + b), f64: () => (p, q) => p + q, wrapsInt: true });
const subRef = binaryReference({ i64: () => (a, b) => BigInt.asIntN(64, a - b), f64: () => (p, q) => p - q, wrapsInt: true });
const mulRef = binaryReference({ i64: () => (a, b) => BigInt.asIntN(64, a * b), f64: () => (p, q) => p * q, wrapsInt: true });
const divRef = binaryReference({
  i64: (node) => (a, b) => (b === 0n ? divByZero(node, 'division') : a / b),
  f64: (node, isInt) => (isInt ? (p, q) => (q === 0 ? divByZero(node, 'division') : Math.trunc(p / q)) : (p, q) => p / q),
});
const powRef = binaryReference({
  i64: () => (a, b) => (b < 0n ? (a === 1n ? 1n : 0n) : BigInt.asIntN(64, a ** b)),
  f64: (_node, isInt) => (isInt ? (p, q) => Math.trunc(Math.pow(p, q)) : cPow),
  int64Result: true,
});
const modRef = binaryReference({
  i64: (node) => {
    const fmod = node.getInt('fmod', 0) !== 0;
    return (a, b): bigint => {
      if (b === 0n) divByZero(node, 'modulo');
      const r = a % b;
      return fmod || r === 0n || r < 0n === b < 0n ? r : r + b;
    };
  },
  f64: (node) => (node.getInt('fmod', 0) !== 0 ? fmodF64 : pyModF64),
});

/** BitShift on uint8/16/32 in float64 (shifts of the width or more give 0); uint64 is not supported. */
const bitShiftRef: ReferenceKernel = (node, inputs) => {
  const x = need(node, inputs[0], 0);
  const y = need(node, inputs[1], 1);
  if (x.data instanceof BigInt64Array && y.data instanceof BigInt64Array) throw new ReferenceUnsupportedError(node, `${node.opType} on int64 is not supported`);
  const left = node.getString('direction', 'LEFT') === 'LEFT';
  const bits = x.dtype === DataType.UINT8 ? 8 : x.dtype === DataType.UINT16 ? 16 : 32;
  const { dims, out } = broadcastBinary(node, x, y, numeric(node, x), numeric(node, y), (a, b) => (b >= bits ? 0 : left ? (a * 2 ** b) % 2 ** bits : Math.floor(a / 2 ** b)));
  return [{ dtype: x.dtype, dims, data: out }];
};

/** Comparisons: one function for the float32 kernel and the reference (numbers, bigints, bools, strings). */
const equal: CmpFn = (a, b) => a === b;
/** Each comparison and its `sameAt13From` (Less/Greater-9 and -13 differ by bfloat16; LessOrEqual/GreaterOrEqual appear at 12). */
const COMPARISONS = [
  ['Less', (a, b) => a < b, 10],
  ['Greater', (a, b) => a > b, 10],
  ['LessOrEqual', (a, b) => a <= b, 12],
  ['GreaterOrEqual', (a, b) => a >= b, 12],
] as const satisfies readonly (readonly [string, CmpFn, number])[];

/** Two-input broadcasting ops; a constant operand of arithmetic is a learnable parameter. */
const binaryOp = (type: string, shape: ShapeRule, learnable: boolean, more: Partial<OpDefInput> = {}): OpDef =>
  defineOp({ type, attributes: attrs(), shape, cost: { constOperandsLearnable: learnable, ops: perOutput(1), opsNote: '1 per output element' }, ...more });

const variadicOp = (type: string, reference: ReferenceKernel, cost: OpCost, kernel?: KernelEntry): OpDef =>
  defineOp({ type, attributes: attrs(), shape: variadic, cost, ...(kernel ? { kernel } : {}), reference, fp16: FP16_ALL });

const variadicNote = 'variadic, broadcasting, NaN propagates';

export const BINARY_OPS: readonly OpDef[] = [
  binaryOp('Add', binary(), true, {ort: { qdq: 'element' }, quantize: { placement: 'binary' }, sameAt13From: 10,  kernel: { note: BROADCAST, fn: binaryKernel(ADD) }, weightInputs: [0, 1], fp16: FP16_ALL, reference: addRef }),
  binaryOp('Sub', binary(), true, {sameAt13From: 10,  kernel: { note: BROADCAST, fn: binaryKernel(SUB) }, weightInputs: [0, 1], fp16: FP16_ALL, reference: subRef }),
  binaryOp('Mul', binary(), true, {ort: { qdq: 'element' }, quantize: { placement: 'binary' }, sameAt13From: 10,  kernel: { note: BROADCAST, fn: binaryKernel(MUL) }, weightInputs: [0, 1], fp16: FP16_ALL, reference: mulRef }),
  binaryOp('Div', binary(), true, {sameAt13From: 10,  kernel: { note: 'float32/float64/float16 and all integer widths; integer division truncates, by zero is an error', fn: binaryKernel(DIV) }, weightInputs: [0, 1], fp16: FP16_ALL, reference: divRef }),
  binaryOp('Pow', binary(), true, {sameAt13From: 10,  kernel: { note: 'float32/float64 bases via Math.pow rounded once (ORT powf may differ by 1 ulp); int32/int64 bases exact for integer exponents', fn: powKernel }, fp16: FP16_ALL, reference: powRef }),
  binaryOp('Mod', binary(), true, { attributes: { fmod: withDefault(ATTR.fmod, 0) }, kernel: { note: 'fmod=0 (integer, sign of divisor) and fmod=1 (C fmod), exact for int64 (ORT goes through double beyond 2^53); by zero is an error', fn: modKernel }, reference: modRef, fp16: FP16_ALL }),
  binaryOp('BitShift', binary(), true, { sameAt13From: 11, attributes: attrs('direction'), reference: bitShiftRef }),
  binaryOp('BitwiseAnd', binary(), true),
  binaryOp('BitwiseOr', binary(), true),
  binaryOp('BitwiseXor', binary(), true),
  binaryOp('And', binary(DataType.BOOL), false, { sameAt13From: 10, kernel: { note: 'bool, broadcasting', fn: logicKernel((a, b) => (a && b ? 1 : 0)) }, reference: predicateReference<boolean>((p, q) => p && q) }),
  binaryOp('Or', binary(DataType.BOOL), false, { sameAt13From: 10, kernel: { note: 'bool, broadcasting', fn: logicKernel((a, b) => (a || b ? 1 : 0)) }, reference: predicateReference<boolean>((p, q) => p || q) }),
  binaryOp('Xor', binary(DataType.BOOL), false, { sameAt13From: 10, kernel: { note: 'bool, broadcasting', fn: logicKernel((a, b) => (a ? 1 : 0) ^ (b ? 1 : 0)) }, reference: predicateReference<boolean>((p, q) => p !== q) }),
  binaryOp('Equal', binary(DataType.BOOL), false, { sameAt13From: 10, kernel: { note: 'numeric and bool types, broadcasting → bool', fn: comparisonKernel(equal) }, fp16: FP16_ALL, reference: predicateReference(equal) }),
  ...COMPARISONS.map(([type, f, sameAt13From]) =>
    binaryOp(type, binary(DataType.BOOL), false, { sameAt13From, kernel: { note: 'numeric types, broadcasting → bool', fn: comparisonKernel(f) }, fp16: FP16_ALL, reference: predicateReference(f) }),
  ),
  // onnxruntime 1.30 fuses DQ(X), DQ(Y) → Where → Q into com.microsoft QLinearWhere (level
  // extended; its WhereNodeGroupSelector): the bool condition is read as it is (qdqInputs).
  // Where-9 and Where-16 differ only by bfloat16 (ONNX Changelog): the same at 13 from 9.
  binaryOp('Where', where, false, { sameAt13From: 10, ort: { qdq: 'element', qdqInputs: [1, 2], qdqScalarConstant: true }, quantize: { placement: 'select' }, kernel: { note: 'any element-addressable type, three-way broadcasting', fn: whereKernel }, fp16: FP16_ALL, reference: whereRef }),
];

const inputsMinusOne = (c: CostContext): Count => perOutput(Math.max(0, c.node.inputs.length - 1))(c);

const SUM: ArithOp = { float: (a, b) => a + b, int: (a, b) => a + b, big: (a, b) => a + b };
const MAX: ArithOp = { float: maxNum, int: (a, b) => (a > b ? a : b), big: (a, b) => (a > b ? a : b) };
const MIN: ArithOp = { float: minNum, int: (a, b) => (a < b ? a : b), big: (a, b) => (a < b ? a : b) };
const sumI64: BinI = (a, b) => BigInt.asIntN(64, a + b);
const sumF64: Bin = (a, b) => a + b;

export const VARIADIC_OPS: readonly OpDef[] = [
  withFacets(variadicOp('Sum', variadicReference({ f64: sumF64, i64: sumI64 }), { constOperandsLearnable: true, ops: inputsMinusOne, opsNote: 'inputs − 1 per output' }, { note: 'variadic left fold, rounding after each step', fn: variadicKernel(SUM) }), { sameAt13From: 10 }),
  withFacets(variadicOp('Mean', variadicReference({ f64: sumF64, mean: true }), { ops: (c) => perOutput(c.node.inputs.length)(c), opsNote: 'inputs per output' }), { sameAt13From: 10 }),
  withFacets(variadicOp('Max', variadicReference({ f64: (a, b) => (a !== a || b !== b ? NaN : a > b ? a : b), i64: (a, b) => (a > b ? a : b) }), { ops: inputsMinusOne, opsNote: 'inputs − 1 per output' }, { note: variadicNote, fn: variadicKernel(MAX) }), { sameAt13From: 10 }),
  withFacets(variadicOp('Min', variadicReference({ f64: (a, b) => (a !== a || b !== b ? NaN : a < b ? a : b), i64: (a, b) => (a < b ? a : b) }), { ops: inputsMinusOne, opsNote: 'inputs − 1 per output' }, { note: variadicNote, fn: variadicKernel(MIN) }), { sameAt13From: 10 }),
];
