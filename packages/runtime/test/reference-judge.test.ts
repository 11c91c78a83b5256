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

describe('user budgets (verify --max-error / --min-sqnr)', () => {
  // B is an approximation: 1e-2 off the exact value on one element (far beyond the rounding budget).
  const r = ref([1, 2, 3]);
  const a = f32([1, 2, 3]);
  const b = f32([1, 2.01, 3]);
  const sqnr = 10 * Math.log10(14 / 1e-4);
  test('--max-error replaces the rounding budget: above the error passes, below it fails', () => {
    expect(judgeOutput('y', r, a, b).pass).toBe(false);
    const ok = judgeOutput('y', r, a, b, { maxError: 0.02 });
    expect(ok.budget).toBe(0.02);
    expect(ok.pass).toBe(true);
    expect(judgeOutput('y', r, a, b, { maxError: 0.005 }).pass).toBe(false);
  });

  test('--min-sqnr alone judges by SQNR (the rounding budget is not applied); with --max-error both apply', () => {
    const j = judgeOutput('y', r, a, b, { minSqnrDb: sqnr - 1 });
    expect(j.b.sqnrDb).toBeCloseTo(sqnr, 3);
    expect(j.exceeding).toBe(1); // reported ...
    expect(j.pass).toBe(true); // ... not applied
    const tight = judgeOutput('y', r, a, b, { minSqnrDb: sqnr + 1 });
    expect(tight.pass).toBe(false);
    expect(tight.reason).toMatch(/SQNR against float64 is .* dB, under the requested/);
    expect(judgeOutput('y', r, a, b, { minSqnrDb: sqnr - 1, maxError: 0.005 }).pass).toBe(false);
    expect(judgeOutput('y', r, a, b, { minSqnrDb: sqnr - 1, maxError: 0.02 }).pass).toBe(true);
    // A non-finite mismatch fails whatever the SQNR budget.
    expect(judgeOutput('y', r, a, f32([1, 2, NaN]), { minSqnrDb: -100 }).pass).toBe(false);
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

  test('an ill-conditioned output: A far from float64 by float32 rounding alone, B closer, is within float32 rounding', () => {
    // Conv with a bias of 1e6, then BatchNormalization with mean 1e6: A rounds ≈ 1e6 in float32
    // (ulp 0.0625) before the subtraction, the folded B does not. A is 3e-2 from float64 at a scale
    // of ≈ 2.7; a rule that took A's distance for a reference computing other semantics called
    // this correct rewrite NOT equivalent. The reference vouches: B is as close to it as A.
    const exact = [2.7, -1.25, 0.5, 1.75];
    const a = f32(exact.map((x, i) => x + [0.031, -0.03, 0.0625, -0.0312][i]!));
    const b = f32(exact.map((x) => x + 4e-7));
    const fixedFail = compareOutputs(new Map([['y', a]]), new Map([['y', b]]));
    expect(fixedFail.equivalent).toBe(false);
    const j = judgeOutput('y', ref(exact), a, b);
    expect(j.pass).toBe(true);
    expect(verdictOf(fixedFail, [j], false)).toMatchObject({ verdict: 'equivalent within float32 rounding', equivalent: true });
  });
});
