/**
 * Element-wise unary ops: activation functions (applied in place) and element-wise math. Each op
 * declares here what it computes per element, for the float32 folding kernel (`unaryKernel(f)`)
 * and for the float64 reference (`unaryReference(node => f)`, attributes read once per node);
 * kernels/elementwise.ts and kernels/reference/elementwise.ts supply the loops.
 */
import type { ShapeRule } from '../analysis/inference-types.js';
import { clipKernel, erf, notKernel, unaryKernel } from '../kernels/elementwise.js';
import { ATTR, attrs, withDefault } from './attributes.js';
import { perOutput } from './cost.js';
import { same, sameBool } from './shape-helpers.js';
import { type AttributeSchema, defineOp, FP16_ALL, type OpDef, type OpDefInput } from './types.js';
import { clipRef, erf as erf64, isInfRef, isNaNRef, notRef, preluRef, unaryLoopReference, unaryReference, type UnaryF64 } from '../kernels/reference/elementwise.js';
import { ReferenceUnsupportedError } from '../kernels/reference/errors.js';
import { cumSumRef } from '../kernels/reference/misc.js';

const notRule: ShapeRule = (c) => {
  sameBool(c);
  const p = c.ints(0);
  if (p) c.partial(0, p.map((v) => (typeof v === 'number' ? (v ? 0 : 1) : null)));
};

/** Unary ops whose partial values survive (rounding functions on integers, Neg, Abs). */
function unaryPartial(f: (v: number) => number, keepsSymbols: boolean): ShapeRule {
  return (c) => {
    same(c);
    const p = c.ints(0);
    if (p) c.partial(0, p.map((v) => (typeof v === 'number' ? f(v) : keepsSymbols ? v : null)));
  };
}

const clip: ShapeRule = (c) => same(c);

const prelu: ShapeRule = (c) => c.out(0, c.dtype(0), c.shape(0));

const activation = (type: string, k: number, attributes: AttributeSchema, more: Partial<OpDefInput> = {}): OpDef =>
  defineOp({ type, attributes, shape: same, cost: { inPlace: true, ops: perOutput(k), opsNote: `${k} per element` }, ...more });

const math = (type: string, k: number, shape: ShapeRule, more: Partial<OpDefInput> = {}): OpDef =>
  defineOp({ type, attributes: attrs(), shape, cost: { ops: perOutput(k), opsNote: `${k} per element` }, ...more });

const float64Accurate = 'float32/float64, float64-accurate (few-ulp agreement with ORT)';

// ---- the float64 reference of each op (the float32 kernels are written on the declarations)

/** A float64 function without attributes. */
const pure = (f: (x: number) => number): UnaryF64 => () => f;

function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

const softplus64 = (x: number): number => (x > 0 ? x + Math.log1p(Math.exp(-x)) : Math.log1p(Math.exp(x)));

/** Relu in its own loop (no call per element: the reference runs it on every activation); NaN stays NaN. */
const reluRef = unaryLoopReference(
  (a, out) => {
    for (let i = 0; i < a.length; i++) out[i] = a[i]! > 0 ? a[i]! : a[i]! !== a[i]! ? a[i]! : 0;
  },
  (a, out) => {
    for (let i = 0; i < a.length; i++) out[i] = a[i]! > 0n ? a[i]! : 0n;
  },
);

const geluRef = unaryReference((node) => {
  const approx = node.getString('approximate', 'none');
  if (approx === 'tanh') return (x) => 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x)));
  if (approx !== 'none') throw new ReferenceUnsupportedError(node, `Gelu approximate='${approx}' is not supported`);
  return (x) => 0.5 * x * (1 + erf64(x / Math.SQRT2));
});

/** Activation functions: applied in place (no new activation), counted per element. */
export const ACTIVATION_OPS: readonly OpDef[] = [
  activation('Relu', 1, attrs(), {ort: { fusesIntoConv: true }, sameAt13From: 10,  kernel: { note: 'float32/float64 (int32/int64 from opset 14)', fn: unaryKernel((x) => (x < 0 ? 0 : x), { i32: (x) => (x < 0 ? 0 : x), i64: (x) => (x < 0n ? 0n : x), minOpset: 14 }) }, fp16: FP16_ALL, reference: reluRef }),
  activation('LeakyRelu', 2, { alpha: withDefault(ATTR.alpha, 0.01) }, {ort: { fusesIntoConv: true, qdq: 'element' }, quantize: { placement: 'unary' }, sameAt13From: 10,  fp16: FP16_ALL, reference: unaryReference((node) => {
    const a = node.getFloat('alpha', 0.01);
    return (x) => (x >= 0 ? x : x * a);
  }) }),
  activation('PRelu', 2, attrs(), { sameAt13From: 10, shape: prelu, cost: { inPlace: true, ops: perOutput(2), opsNote: '2 per element', biases: [1] }, weightInputs: [1], fp16: FP16_ALL, reference: preluRef }),
  activation('ThresholdedRelu', 1, { alpha: withDefault(ATTR.alpha, 1) }, { sameAt13From: 10, fp16: FP16_ALL, reference: unaryReference((node) => {
    const a = node.getFloat('alpha', 1);
    return (x) => (x > a ? x : 0);
  }) }),
  activation('Elu', 3, { alpha: withDefault(ATTR.alpha, 1) }, { sameAt13From: 10, fp16: FP16_ALL, reference: unaryReference((node) => {
    const a = node.getFloat('alpha', 1);
    return (x) => (x >= 0 ? x : a * Math.expm1(x));
  }) }),
  activation('Selu', 4, { alpha: withDefault(ATTR.alpha, 1.67326319217681884765625), gamma: withDefault(ATTR.gamma, 1.05070102214813232421875) }, { sameAt13From: 10, fp16: FP16_ALL, reference: unaryReference((node) => {
    const g = node.getFloat('gamma', 1.05070102214813232421875);
    const a = node.getFloat('alpha', 1.67326319217681884765625);
    return (x) => g * (x > 0 ? x : a * Math.expm1(x));
  }) }),
  // no fp16: Celu's schema is float-only (onnxruntime-node 1.30 rejects it in float16: ort.float16)
  activation('Celu', 3, { alpha: withDefault(ATTR.alpha, 1) }, { sameAt13From: 12, ort: { float16: 'rejects' }, reference: unaryReference((node) => {
    const a = node.getFloat('alpha', 1);
    return (x) => Math.max(0, x) + Math.min(0, a * Math.expm1(x / a));
  }) }),
  activation('Sigmoid', 4, attrs(), {ort: { fusesIntoConv: true, qdq: 'element' }, quantize: { placement: 'unary' }, sameAt13From: 10,  kernel: { note: 'float32/float64, float64-accurate (ORT approximates: few-ulp agreement)', fn: unaryKernel((x) => 1 / (1 + Math.exp(-x))) }, fp16: FP16_ALL, reference: unaryReference(pure((x) => (x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x))))) }),
  activation('HardSigmoid', 3, { alpha: withDefault(ATTR.alpha, 0.2), beta: withDefault(ATTR.beta, 0.5) }, {ort: { fusesIntoConv: true }, sameAt13From: 10,  fp16: FP16_ALL, reference: unaryReference((node) => {
    const a = node.getFloat('alpha', 0.2);
    const b = node.getFloat('beta', 0.5);
    return (x) => Math.max(0, Math.min(1, a * x + b));
  }) }),
  activation('HardSwish', 4, attrs(), { fp16: FP16_ALL, reference: unaryReference(pure((x) => x * Math.max(0, Math.min(1, x / 6 + 0.5)))) }),
  activation('Swish', 5, { alpha: withDefault(ATTR.alpha, 1) }),
  activation('Gelu', 8, { approximate: withDefault(ATTR.approximate, 'none') }, { fp16: FP16_ALL, reference: geluRef }),
  activation('Tanh', 5, attrs(), {ort: { fusesIntoConv: true }, sameAt13From: 10,  kernel: { note: 'float32/float64, float64-accurate (few-ulp agreement with ORT)', fn: unaryKernel(Math.tanh) }, fp16: FP16_ALL, reference: unaryReference(pure(Math.tanh)) }),
  activation('Softplus', 3, attrs(), { sameAt13From: 10, fp16: FP16_ALL, reference: unaryReference(pure(softplus64)) }),
  activation('Softsign', 3, attrs(), { sameAt13From: 10, fp16: FP16_ALL, reference: unaryReference(pure((x) => x / (1 + Math.abs(x)))) }),
  activation('Mish', 7, attrs(), { ort: { float16: 'casts' }, reference: unaryReference(pure((x) => x * Math.tanh(softplus64(x)))) }),
  activation('Clip', 2, attrs('min', 'max'), {ort: { fusesIntoConv: true }, sameAt13From: 11,  shape: clip, kernel: { note: 'floats (attribute bounds before opset 11, inputs after), all integer widths from opset 12', fn: clipKernel }, fp16: FP16_ALL, reference: clipRef }),
];

/** Element-wise math: a new output, counted per element. */
export const UNARY_MATH_OPS: readonly OpDef[] = [
  math('Erf', 1, same, {sameAt13From: 10,  kernel: { note: 'float32/float64, series + continued fraction to ~1e-15', fn: unaryKernel(erf) }, fp16: FP16_ALL, reference: unaryReference(pure(erf64)) }),
  math('Exp', 1, same, {sameAt13From: 10,  kernel: { note: float64Accurate, fn: unaryKernel(Math.exp) }, fp16: FP16_ALL, reference: unaryReference(pure(Math.exp)) }),
  math('Log', 1, same, { sameAt13From: 10, kernel: { note: float64Accurate, fn: unaryKernel(Math.log) }, fp16: FP16_ALL, reference: unaryReference(pure(Math.log)) }),
  math('Sqrt', 1, same, {sameAt13From: 10,  kernel: { note: 'float32/float64, correctly rounded', fn: unaryKernel(Math.sqrt) }, fp16: FP16_ALL, reference: unaryReference(pure(Math.sqrt)) }),
  math('Neg', 1, unaryPartial((v) => -v, false), {sameAt13From: 10,  kernel: { note: 'float32/float64/int32/int64', fn: unaryKernel((x) => -x, { i32: (x) => -x | 0, i64: (x) => BigInt.asIntN(64, -x) }) }, fp16: FP16_ALL, reference: unaryReference(pure((x) => -x), (a, out) => {
    for (let i = 0; i < a.length; i++) out[i] = -a[i]!;
  }) }),
  math('Abs', 1, unaryPartial(Math.abs, true), {sameAt13From: 10,  kernel: { note: 'float32/float64/int32/int64', fn: unaryKernel(Math.abs, { i32: (x) => Math.abs(x) | 0, i64: (x) => BigInt.asIntN(64, x < 0n ? -x : x) }) }, fp16: FP16_ALL, reference: unaryReference(pure(Math.abs), (a, out) => {
    for (let i = 0; i < a.length; i++) out[i] = a[i]! < 0n ? -a[i]! : a[i]!;
  }) }),
  math('Reciprocal', 1, same, { sameAt13From: 10, kernel: { note: 'float32/float64, correctly rounded', fn: unaryKernel((x) => 1 / x) }, fp16: FP16_ALL, reference: unaryReference(pure((x) => 1 / x)) }),
  math('Floor', 1, unaryPartial(Math.floor, true), { sameAt13From: 10, kernel: { note: 'float32/float64', fn: unaryKernel(Math.floor) }, fp16: FP16_ALL, reference: unaryReference(pure(Math.floor)) }),
  math('Ceil', 1, unaryPartial(Math.ceil, true), { sameAt13From: 10, kernel: { note: 'float32/float64', fn: unaryKernel(Math.ceil) }, fp16: FP16_ALL, reference: unaryReference(pure(Math.ceil)) }),
  math('Round', 1, unaryPartial((v) => Math.round(v), true), { sameAt13From: 11, fp16: FP16_ALL, reference: unaryReference(pure(roundHalfEven)) }),
  math('Sign', 1, same, { sameAt13From: 10, fp16: FP16_ALL, reference: unaryReference(pure((x) => (Number.isNaN(x) ? NaN : x > 0 ? 1 : x < 0 ? -1 : 0)), (a, out) => {
    for (let i = 0; i < a.length; i++) out[i] = a[i]! > 0n ? 1n : a[i]! < 0n ? -1n : 0n;
  }) }),
  math('Sin', 1, same, { sameAt13From: 10, fp16: FP16_ALL, reference: unaryReference(pure(Math.sin)) }),
  math('Cos', 1, same, { sameAt13From: 10, fp16: FP16_ALL, reference: unaryReference(pure(Math.cos)) }),
  math('Tan', 1, same, { sameAt13From: 10, ort: { float16: 'casts' }, reference: unaryReference(pure(Math.tan)) }),
  math('Asin', 1, same, { sameAt13From: 10, ort: { float16: 'casts' }, reference: unaryReference(pure(Math.asin)) }),
  math('Acos', 1, same, { sameAt13From: 10, ort: { float16: 'casts' }, reference: unaryReference(pure(Math.acos)) }),
  math('Atan', 1, same, { sameAt13From: 10, ort: { float16: 'casts' }, reference: unaryReference(pure(Math.atan)) }),
  math('Sinh', 1, same, { sameAt13From: 10, ort: { float16: 'casts' }, reference: unaryReference(pure(Math.sinh)) }),
  math('Cosh', 1, same, { sameAt13From: 10, ort: { float16: 'casts' }, reference: unaryReference(pure(Math.cosh)) }),
  math('Asinh', 1, same, { sameAt13From: 10, ort: { float16: 'casts' }, reference: unaryReference(pure(Math.asinh)) }),
  math('Acosh', 1, same, { sameAt13From: 10, ort: { float16: 'casts' }, reference: unaryReference(pure(Math.acosh)) }),
  math('Atanh', 1, same, { sameAt13From: 10, ort: { float16: 'casts' }, reference: unaryReference(pure(Math.atanh)) }),
  math('BitwiseNot', 1, same),
  math('Not', 1, notRule, { sameAt13From: 10, kernel: { note: 'bool', fn: notKernel }, reference: notRef }),
  math('IsNaN', 1, sameBool, { sameAt13From: 10, reference: isNaNRef, fp16: FP16_ALL }),
  // Float16-safe from opset 20: onnxruntime 1.30 runs IsInf-20 in float16 with its own kernel
  // (every detect_negative/detect_positive), but IsInf-10 is float/double only, so below opset
  // 20 a float16 IsInf is an invalid model (test/ops/ort-float16.test.ts).
  math('IsInf', 1, sameBool, { sameAt13From: 10, attributes: { detect_negative: withDefault(ATTR.detect_negative, 1), detect_positive: withDefault(ATTR.detect_positive, 1) }, reference: isInfRef, fp16: { keepFloat32: [], unsafeFor: (_node, opset) => (opset < 20 ? 'rejects' : undefined) } }),
  math('CumSum', 1, same, { sameAt13From: 11, attributes: { exclusive: withDefault(ATTR.exclusive, 0), reverse: withDefault(ATTR.reverse, 0) }, fp16: FP16_ALL, reference: cumSumRef }),
  math('Shrink', 2, same, { sameAt13From: 10, attributes: { bias: withDefault(ATTR.bias, 0), lambd: withDefault(ATTR.lambd, 0.5) }, reference: unaryReference((node) => {
    const l = node.getFloat('lambd', 0.5);
    const b = node.getFloat('bias', 0);
    return (x) => (x < -l ? x + b : x > l ? x - b : 0);
  }), fp16: FP16_ALL }),
];
