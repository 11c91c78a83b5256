/**
 * Element-wise ops of two or more inputs with numpy broadcasting: arithmetic, comparison, logic,
 * Where, and the variadic Sum/Mean/Max/Min. Shape inference also combines their partial values
 * (small integer tensors such as shapes), which is how computed Reshape targets resolve.
 */
import { DataType, type Dim } from '@onnxkit/graph';
import type { RuleContext, ShapeRule } from '../analysis/inference-types.js';
import { lookup, opTable } from '../common/op-table.js';
import type { KernelEntry } from '../kernels/types.js';
import { arithKernel, comparisonKernel, logicKernel, modKernel, powKernel, variadicArithKernel, whereKernel, type CmpFn } from '../kernels/elementwise.js';
import { ATTR, attrs, withDefault } from './attributes.js';
import { type CostContext, type Count, type OpCost, perOutput } from './cost.js';
import { broadcastShapesSymbolic, broadcastTwoShared, firstType, isIntType, U } from './shape-helpers.js';
import { defineOp, FP16_ALL, type OpDef, type OpDefInput, type ReferenceKernel, withFacets } from './types.js';
import { addRef, andRef, bitShiftRef, divRef, equalRef, greaterOrEqualRef, greaterRef, lessOrEqualRef, lessRef, maxRef, meanRef, minRef, modRef, mulRef, orRef, powRef, subRef, sumRef, whereRef, xorRef } from '../kernels/reference/elementwise.js';

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

/** Two-input broadcasting ops; a constant operand of arithmetic is a learnable parameter. */
const binaryOp = (type: string, shape: ShapeRule, learnable: boolean, more: Partial<OpDefInput> = {}): OpDef =>
  defineOp({ type, attributes: attrs(), shape, cost: { constOperandsLearnable: learnable, ops: perOutput(1), opsNote: '1 per output element' }, ...more });

const variadicOp = (type: string, reference: ReferenceKernel, cost: OpCost, kernel?: KernelEntry): OpDef =>
  defineOp({ type, attributes: attrs(), shape: variadic, cost, ...(kernel ? { kernel } : {}), reference, fp16: FP16_ALL });

const variadicNote = 'variadic, broadcasting, NaN propagates';

export const BINARY_OPS: readonly OpDef[] = [
  binaryOp('Add', binary(), true, { kernel: { note: BROADCAST, fn: arithKernel('Add') }, weightInputs: [0, 1], fp16: FP16_ALL, reference: addRef, ort: { qdq: 'element' }, quantize: { placement: 'binary' }, sameAt13From: 10 }),
  binaryOp('Sub', binary(), true, { kernel: { note: BROADCAST, fn: arithKernel('Sub') }, weightInputs: [0, 1], fp16: FP16_ALL, reference: subRef, sameAt13From: 10 }),
  binaryOp('Mul', binary(), true, { kernel: { note: BROADCAST, fn: arithKernel('Mul') }, weightInputs: [0, 1], fp16: FP16_ALL, reference: mulRef, ort: { qdq: 'element' }, quantize: { placement: 'binary' }, sameAt13From: 10 }),
  binaryOp('Div', binary(), true, { kernel: { note: 'float32/float64/float16 and all integer widths; integer division truncates, by zero is an error', fn: arithKernel('Div') }, weightInputs: [0, 1], fp16: FP16_ALL, reference: divRef, sameAt13From: 10 }),
  binaryOp('Pow', binary(), true, { kernel: { note: 'float32/float64 bases via Math.pow rounded once (ORT powf may differ by 1 ulp); int32/int64 bases exact for integer exponents', fn: powKernel }, fp16: FP16_ALL, reference: powRef, sameAt13From: 10 }),
  binaryOp('Mod', binary(), true, { attributes: { fmod: withDefault(ATTR.fmod, 0) }, kernel: { note: 'fmod=0 (integer, sign of divisor) and fmod=1 (C fmod), exact for int64 (ORT goes through double beyond 2^53); by zero is an error', fn: modKernel }, reference: modRef }),
  binaryOp('BitShift', binary(), true, { attributes: attrs('direction'), reference: bitShiftRef }),
  binaryOp('BitwiseAnd', binary(), true),
  binaryOp('BitwiseOr', binary(), true),
  binaryOp('BitwiseXor', binary(), true),
  binaryOp('And', binary(DataType.BOOL), false, { kernel: { note: 'bool, broadcasting', fn: logicKernel((a, b) => (a && b ? 1 : 0)) }, reference: andRef }),
  binaryOp('Or', binary(DataType.BOOL), false, { kernel: { note: 'bool, broadcasting', fn: logicKernel((a, b) => (a || b ? 1 : 0)) }, reference: orRef }),
  binaryOp('Xor', binary(DataType.BOOL), false, { kernel: { note: 'bool, broadcasting', fn: logicKernel((a, b) => (a ? 1 : 0) ^ (b ? 1 : 0)) }, reference: xorRef }),
  binaryOp('Equal', binary(DataType.BOOL), false, { kernel: { note: 'numeric and bool types, broadcasting → bool', fn: comparisonKernel((a, b) => a === b) }, fp16: FP16_ALL, reference: equalRef }),
  ...([
    ['Less', (a, b) => a < b, lessRef],
    ['Greater', (a, b) => a > b, greaterRef],
    ['LessOrEqual', (a, b) => a <= b, lessOrEqualRef],
    ['GreaterOrEqual', (a, b) => a >= b, greaterOrEqualRef],
  ] as const satisfies readonly (readonly [string, CmpFn, ReferenceKernel])[]).map(([type, f, reference]) =>
    binaryOp(type, binary(DataType.BOOL), false, { kernel: { note: 'numeric types, broadcasting → bool', fn: comparisonKernel(f) }, fp16: FP16_ALL, reference }),
  ),
  binaryOp('Where', where, false, { kernel: { note: 'any element-addressable type, three-way broadcasting', fn: whereKernel }, fp16: FP16_ALL, reference: whereRef }),
];

const inputsMinusOne = (c: CostContext): Count => perOutput(Math.max(0, c.node.inputs.length - 1))(c);

export const VARIADIC_OPS: readonly OpDef[] = [
  withFacets(variadicOp('Sum', sumRef, { constOperandsLearnable: true, ops: inputsMinusOne, opsNote: 'inputs − 1 per output' }, { note: 'variadic left fold, rounding after each step', fn: variadicArithKernel('Sum') }), { sameAt13From: 10 }),
  withFacets(variadicOp('Mean', meanRef, { ops: (c) => perOutput(c.node.inputs.length)(c), opsNote: 'inputs per output' }), { sameAt13From: 10 }),
  withFacets(variadicOp('Max', maxRef, { ops: inputsMinusOne, opsNote: 'inputs − 1 per output' }, { note: variadicNote, fn: variadicArithKernel('Max') }), { sameAt13From: 10 }),
  withFacets(variadicOp('Min', minRef, { ops: inputsMinusOne, opsNote: 'inputs − 1 per output' }, { note: variadicNote, fn: variadicArithKernel('Min') }), { sameAt13From: 10 }),
];
