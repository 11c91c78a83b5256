/**
 * Element-wise unary ops: activation functions (applied in place) and element-wise math.
 */
import type { ShapeRule } from '../analysis/inference-types.js';
import { clipKernel, erf, notKernel, unaryKernel } from '../kernels/elementwise.js';
import { ATTR, attrs, withDefault } from './attributes.js';
import { perOutput } from './cost.js';
import { same, sameBool } from './shape-helpers.js';
import { type AttributeSchema, defineOp, FP16_ALL, type OpDef, type OpDefInput } from './types.js';
import { absRef, acosRef, acoshRef, asinRef, asinhRef, atanRef, atanhRef, ceilRef, celuRef, clipRef, cosRef, coshRef, eluRef, erfRef, expRef, floorRef, geluRef, hardSigmoidRef, hardSwishRef, isInfRef, isNaNRef, leakyReluRef, logRef, mishRef, negRef, notRef, preluRef, reciprocalRef, reluRef, roundRef, seluRef, shrinkRef, sigmoidRef, signRef, sinRef, sinhRef, softplusRef, softsignRef, sqrtRef, tanRef, tanhRef, thresholdedReluRef } from '../kernels/reference/elementwise.js';
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

/** Activation functions: applied in place (no new activation), counted per element. */
export const ACTIVATION_OPS: readonly OpDef[] = [
  activation('Relu', 1, attrs(), { kernel: { note: 'float32/float64 (int32/int64 from opset 14)', fn: unaryKernel((x) => (x < 0 ? 0 : x), { i32: (x) => (x < 0 ? 0 : x), i64: (x) => (x < 0n ? 0n : x), minOpset: 14 }) }, fp16: FP16_ALL, reference: reluRef, ort: { fusesIntoConv: true }, sameAt13From: 10 }),
  activation('LeakyRelu', 2, { alpha: withDefault(ATTR.alpha, 0.01) }, { fp16: FP16_ALL, reference: leakyReluRef, ort: { fusesIntoConv: true, qdq: 'element' }, quantize: { placement: 'unary' }, sameAt13From: 10 }),
  activation('PRelu', 2, attrs(), { shape: prelu, cost: { inPlace: true, ops: perOutput(2), opsNote: '2 per element', biases: [1] }, weightInputs: [1], fp16: FP16_ALL, reference: preluRef }),
  activation('ThresholdedRelu', 1, { alpha: withDefault(ATTR.alpha, 1) }, { fp16: FP16_ALL, reference: thresholdedReluRef }),
  activation('Elu', 3, { alpha: withDefault(ATTR.alpha, 1) }, { fp16: FP16_ALL, reference: eluRef }),
  activation('Selu', 4, { alpha: withDefault(ATTR.alpha, 1.67326319217681884765625), gamma: withDefault(ATTR.gamma, 1.05070102214813232421875) }, { fp16: FP16_ALL, reference: seluRef }),
  // no fp16: Celu's schema is float-only (failed in float16 on onnxruntime-node 1.30 CPU)
  activation('Celu', 3, { alpha: withDefault(ATTR.alpha, 1) }, { reference: celuRef }),
  activation('Sigmoid', 4, attrs(), { kernel: { note: 'float32/float64, float64-accurate (ORT approximates: few-ulp agreement)', fn: unaryKernel((x) => 1 / (1 + Math.exp(-x))) }, fp16: FP16_ALL, reference: sigmoidRef, ort: { fusesIntoConv: true, qdq: 'element' }, quantize: { placement: 'unary' }, sameAt13From: 10 }),
  activation('HardSigmoid', 3, { alpha: withDefault(ATTR.alpha, 0.2), beta: withDefault(ATTR.beta, 0.5) }, { fp16: FP16_ALL, reference: hardSigmoidRef, ort: { fusesIntoConv: true }, sameAt13From: 10 }),
  activation('HardSwish', 4, attrs(), { fp16: FP16_ALL, reference: hardSwishRef, sameAt13From: 10 }),
  activation('Swish', 5, { alpha: withDefault(ATTR.alpha, 1) }),
  activation('Gelu', 8, { approximate: withDefault(ATTR.approximate, 'none') }, { fp16: FP16_ALL, reference: geluRef }),
  activation('Tanh', 5, attrs(), { kernel: { note: 'float32/float64, float64-accurate (few-ulp agreement with ORT)', fn: unaryKernel(Math.tanh) }, fp16: FP16_ALL, reference: tanhRef, ort: { fusesIntoConv: true }, sameAt13From: 10 }),
  activation('Softplus', 3, attrs(), { fp16: FP16_ALL, reference: softplusRef }),
  activation('Softsign', 3, attrs(), { fp16: FP16_ALL, reference: softsignRef }),
  activation('Mish', 7, attrs(), { reference: mishRef }),
  activation('Clip', 2, attrs('min', 'max'), { shape: clip, kernel: { note: 'floats (attribute bounds before opset 11, inputs after), all integer widths from opset 12', fn: clipKernel }, fp16: FP16_ALL, reference: clipRef, ort: { fusesIntoConv: true }, sameAt13From: 11 }),
];

/** Element-wise math: a new output, counted per element. */
export const UNARY_MATH_OPS: readonly OpDef[] = [
  math('Erf', 1, same, { kernel: { note: 'float32/float64, series + continued fraction to ~1e-15', fn: unaryKernel(erf) }, fp16: FP16_ALL, reference: erfRef, sameAt13From: 10 }),
  math('Exp', 1, same, { kernel: { note: float64Accurate, fn: unaryKernel(Math.exp) }, fp16: FP16_ALL, reference: expRef, sameAt13From: 10 }),
  math('Log', 1, same, { kernel: { note: float64Accurate, fn: unaryKernel(Math.log) }, fp16: FP16_ALL, reference: logRef }),
  math('Sqrt', 1, same, { kernel: { note: 'float32/float64, correctly rounded', fn: unaryKernel(Math.sqrt) }, fp16: FP16_ALL, reference: sqrtRef, sameAt13From: 10 }),
  math('Neg', 1, unaryPartial((v) => -v, false), { kernel: { note: 'float32/float64/int32/int64', fn: unaryKernel((x) => -x, { i32: (x) => -x | 0, i64: (x) => BigInt.asIntN(64, -x) }) }, fp16: FP16_ALL, reference: negRef, sameAt13From: 10 }),
  math('Abs', 1, unaryPartial(Math.abs, true), { kernel: { note: 'float32/float64/int32/int64', fn: unaryKernel(Math.abs, { i32: (x) => Math.abs(x) | 0, i64: (x) => BigInt.asIntN(64, x < 0n ? -x : x) }) }, fp16: FP16_ALL, reference: absRef, sameAt13From: 10 }),
  math('Reciprocal', 1, same, { kernel: { note: 'float32/float64, correctly rounded', fn: unaryKernel((x) => 1 / x) }, fp16: FP16_ALL, reference: reciprocalRef }),
  math('Floor', 1, unaryPartial(Math.floor, true), { kernel: { note: 'float32/float64', fn: unaryKernel(Math.floor) }, fp16: FP16_ALL, reference: floorRef }),
  math('Ceil', 1, unaryPartial(Math.ceil, true), { kernel: { note: 'float32/float64', fn: unaryKernel(Math.ceil) }, fp16: FP16_ALL, reference: ceilRef }),
  math('Round', 1, unaryPartial((v) => Math.round(v), true), { fp16: FP16_ALL, reference: roundRef }),
  math('Sign', 1, same, { fp16: FP16_ALL, reference: signRef }),
  math('Sin', 1, same, { fp16: FP16_ALL, reference: sinRef }),
  math('Cos', 1, same, { fp16: FP16_ALL, reference: cosRef }),
  math('Tan', 1, same, { reference: tanRef }),
  math('Asin', 1, same, { reference: asinRef }),
  math('Acos', 1, same, { reference: acosRef }),
  math('Atan', 1, same, { reference: atanRef }),
  math('Sinh', 1, same, { reference: sinhRef }),
  math('Cosh', 1, same, { reference: coshRef }),
  math('Asinh', 1, same, { reference: asinhRef }),
  math('Acosh', 1, same, { reference: acoshRef }),
  math('Atanh', 1, same, { reference: atanhRef }),
  math('BitwiseNot', 1, same),
  math('Not', 1, notRule, { kernel: { note: 'bool', fn: notKernel }, reference: notRef }),
  math('IsNaN', 1, sameBool, { reference: isNaNRef }),
  math('IsInf', 1, sameBool, { attributes: { detect_negative: withDefault(ATTR.detect_negative, 1), detect_positive: withDefault(ATTR.detect_positive, 1) }, reference: isInfRef }),
  math('CumSum', 1, same, { attributes: { exclusive: withDefault(ATTR.exclusive, 0), reverse: withDefault(ATTR.reverse, 0) }, fp16: FP16_ALL, reference: cumSumRef }),
  math('Shrink', 2, same, { attributes: { bias: withDefault(ATTR.bias, 0), lambd: withDefault(ATTR.lambd, 0.5) }, reference: shrinkRef }),
];
