// The float64 equivalence rule on hand-made values: the budget's numbers, NaN = NaN, signed
// infinities distinct, and the verdict words.
import { describe, expect, test } from 'vitest';
import { DataType, Tensor } from '@onnxkit/graph';
import { compareOutputs, judgeOutput, ulpAt, verdictOf } from '@onnxkit/runtime';

const f32 = (xs: number[]) => Tensor.fromArray(DataType.FLOAT, [xs.length], Float32Array.from(xs));
const ref = (xs: number[]) => ({ dims: [xs.length], data: Float64Array.from(xs) });

describe('judgeOutput', () => {
  test('budget = 2 x A max error + 4 ulp at the output scale; B within it passes, beyond it fails', () => {
    const r = ref([1000.00001, 1, -2]);
    const a = f32([1000.00001, 1, -2]);
    const j = judgeOutput('y', r, a, f32([1000.00001, 1, -2]));
    expect(j.ulp).toBe(ulpAt(1000));
    expect(j.ulp).toBe(2 ** -14);
    expect(j.budget).toBeCloseTo(2 * j.a.maxError + 4 * 2 ** -14, 12);
    expect(j.pass).toBe(true);
    const off = judgeOutput('y', r, a, f32([1000.00001, 1 + 10 * j.budget, -2]));
    expect(off.pass).toBe(false);
    expect(off.exceeding).toBe(1);
    expect(off.firstExceeding?.index).toBe(1);
    expect(off.reason).toMatch(/1 of 3 elements of B are further from float64 than the budget/);
  });

  test('NaN equals NaN; +Inf and -Inf are distinct; a non-finite B where A is finite fails', () => {
    const r = ref([NaN, Infinity, 1]);
    expect(judgeOutput('y', r, f32([NaN, Infinity, 1]), f32([NaN, Infinity, 1])).pass).toBe(true);
    const neg = judgeOutput('y', r, f32([NaN, Infinity, 1]), f32([NaN, -Infinity, 1]));
    expect(neg.pass).toBe(false);
    expect(neg.reason).toMatch(/non-finite/);
    expect(judgeOutput('y', r, f32([NaN, Infinity, 1]), f32([NaN, Infinity, NaN])).pass).toBe(false);
  });

  test('SQNR against float64 is reported, null (infinite) when exact', () => {
    const j = judgeOutput('y', ref([1, 2]), f32([1, 2]), f32([1, 2.5]));
    expect(j.a.sqnrDb).toBeNull();
    expect(j.b.sqnrDb).toBeCloseTo(10 * Math.log10(5 / 0.25), 6);
  });
});

describe('verdictOf', () => {
  test('the three verdicts and the fallback', () => {
    const a = f32([1, 2]);
    const close = f32([1, 2]);
    // A and B on either side of the exact value, 6e-4 apart: beyond rtol 1e-4 · 2, equally close to float64.
    const rounding = f32([1, 2 + 6e-4]);
    const fixedPass = compareOutputs(new Map([['y', a]]), new Map([['y', close]]));
    const fixedFail = compareOutputs(new Map([['y', a]]), new Map([['y', rounding]]));
    const ok = judgeOutput('y', ref([1, 2]), a, close);
    expect(verdictOf(fixedPass, [ok], false).verdict).toBe('equivalent');
    const within = judgeOutput('y', ref([1, 2 + 3e-4]), a, rounding);
    expect(within.pass).toBe(true);
    expect(verdictOf(fixedFail, [within], false)).toMatchObject({ verdict: 'equivalent within float32 rounding', equivalent: true });
    const bad = judgeOutput('y', ref([1, 2]), a, rounding);
    expect(verdictOf(fixedFail, [bad], false)).toMatchObject({ verdict: 'NOT equivalent', equivalent: false });
    expect(verdictOf(fixedPass, [ok], true).verdict).toBe('within the requested budget');
    expect(verdictOf(fixedFail, null, false).verdict).toBe('NOT equivalent');
  });
});
