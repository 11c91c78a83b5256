// compareTensors / compareOutputs: the element rule (fails only beyond BOTH atol and rtol·|ref|),
// its boundaries, NaN/Inf handling, exact integer comparison, statistics, and "nothing compared
// is never a pass".
import { describe, expect, test } from 'vitest';
import { DataType, Tensor } from '@onnxkit/graph';
import { compareOutputs, compareTensors, DEFAULT_TOLERANCES, percentile } from '@onnxkit/runtime';

const f64 = (values: number[], dims = [values.length]) => Tensor.fromNumbers(DataType.DOUBLE, dims, values);
const f32 = (values: number[], dims = [values.length]) => Tensor.fromNumbers(DataType.FLOAT, dims, values);

describe('element rule: fails iff |b-a| > atol AND |b-a| > rtol*|a| (a = reference)', () => {
  // Values are exact binary fractions so the boundaries are exact.
  test('atol boundary: a difference equal to atol passes, just above fails', () => {
    const tol = { atol: 0.125, rtol: 0 };
    expect(compareTensors(f64([1]), f64([1.125]), tol).pass).toBe(true);
    expect(compareTensors(f64([1]), f64([1.125 + 2 ** -40]), tol).pass).toBe(false);
    expect(compareTensors(f64([1]), f64([1 - 0.125]), tol).pass).toBe(true);
    expect(compareTensors(f64([1]), f64([1 - 0.125 - 2 ** -40]), tol).pass).toBe(false);
  });

  test('rtol boundary: a difference equal to rtol*|a| passes, just above fails', () => {
    const tol = { atol: 0, rtol: 0.125 };
    expect(compareTensors(f64([8]), f64([9]), tol).pass).toBe(true);
    expect(compareTensors(f64([8]), f64([9 + 2 ** -40]), tol).pass).toBe(false);
    expect(compareTensors(f64([-8]), f64([-9]), tol).pass).toBe(true);
    expect(compareTensors(f64([-8]), f64([-9 - 2 ** -40]), tol).pass).toBe(false);
  });

  test('an element must exceed both tolerances to fail', () => {
    const tol = { atol: 0.25, rtol: 0.125 }; // at a = 8: atol 0.25, rtol*|a| = 1
    expect(compareTensors(f64([8]), f64([8.5]), tol).pass).toBe(true); // > atol, < rtol
    expect(compareTensors(f64([0]), f64([0.25]), tol).pass).toBe(true); // = atol, > rtol*0
    expect(compareTensors(f64([0]), f64([0.3]), tol).pass).toBe(false); // > atol, > 0
    expect(compareTensors(f64([8]), f64([9.5]), tol).pass).toBe(false); // > both
  });

  test('the relative tolerance scales with the reference (A), not the candidate (B)', () => {
    const tol = { atol: 0, rtol: 0.125 };
    expect(compareTensors(f64([8]), f64([9.125]), tol).pass).toBe(false); // 1.125 > 0.125*8
    expect(compareTensors(f64([9.125]), f64([8]), tol).pass).toBe(true); // 1.125 <= 0.125*9.125
  });

  test('float32 defaults are atol 1e-5 and rtol 1e-4', () => {
    expect(DEFAULT_TOLERANCES[DataType.FLOAT]).toEqual({ atol: 1e-5, rtol: 1e-4 });
    expect(compareTensors(f32([1]), f32([1 + 5e-5])).pass).toBe(true);
    expect(compareTensors(f32([1]), f32([1 + 2e-4])).pass).toBe(false);
    expect(compareTensors(f32([0]), f32([9e-6])).pass).toBe(true);
    expect(compareTensors(f32([0]), f32([2e-5])).pass).toBe(false);
    expect(compareTensors(f32([1000]), f32([1000.06])).pass).toBe(true); // rtol*1000 = 0.1
    expect(compareTensors(f32([1000]), f32([1000.2])).pass).toBe(false);
  });

  test('float16 defaults are looser (atol 1e-3, rtol 1e-3)', () => {
    const h = (v: number[]) => Tensor.fromNumbers(DataType.FLOAT16, [v.length], v);
    expect(DEFAULT_TOLERANCES[DataType.FLOAT16]).toEqual({ atol: 1e-3, rtol: 1e-3 });
    expect(compareTensors(h([1]), h([1.0009765625])).pass).toBe(true); // one float16 ulp at 1
    expect(compareTensors(h([1]), h([1.00390625])).pass).toBe(false); // four ulps
    // The same difference at float32 would fail.
    expect(compareTensors(f32([1]), f32([1.0009765625])).pass).toBe(false);
  });

  test('mismatches are counted per element and the first one is located', () => {
    const a = f64([0, 1, 2, 3, 4, 5], [2, 3]);
    const b = f64([0, 1, 2.5, 3, 4, 7], [2, 3]);
    const r = compareTensors(a, b, { atol: 0.1, rtol: 0.01 });
    expect(r.pass).toBe(false);
    expect(r.mismatches).toBe(2);
    expect(r.total).toBe(6);
    expect(r.compared).toBe(6);
    expect(r.firstMismatch).toEqual({ index: 2, position: [0, 2], a: 2, b: 2.5 });
    expect(r.reason).toMatch(/2 of 6 elements differ/);
  });
});

describe('NaN and Inf', () => {
  test('NaN equals NaN; NaN against a number fails', () => {
    const r = compareTensors(f32([NaN, 1]), f32([NaN, 1]));
    expect(r.pass).toBe(true);
    expect(r.nan).toEqual({ a: 1, b: 1 });
    const s = compareTensors(f32([NaN, 1]), f32([0, 1]));
    expect(s.pass).toBe(false);
    expect(s.nan).toEqual({ a: 1, b: 0 });
    expect(compareTensors(f32([0]), f32([NaN]), { atol: 1e30 }).pass).toBe(false);
  });

  test('±Inf must match exactly, whatever the tolerance', () => {
    expect(compareTensors(f32([Infinity, -Infinity]), f32([Infinity, -Infinity])).pass).toBe(true);
    expect(compareTensors(f32([Infinity]), f32([-Infinity]), { atol: 1e38, rtol: 1e38 }).pass).toBe(false);
    expect(compareTensors(f32([Infinity]), f32([3e38]), { atol: 1e38, rtol: 1e38 }).pass).toBe(false);
    const r = compareTensors(f32([1, Infinity]), f32([-Infinity, Infinity]));
    expect(r.inf).toEqual({ a: 1, b: 2 });
    expect(r.mismatches).toBe(1);
  });

  test('statistics skip non-finite elements and stay finite (JSON-safe)', () => {
    const r = compareTensors(f32([NaN, Infinity, 2, 0]), f32([NaN, Infinity, 3, 1]));
    expect(r.maxAbsError).toBe(1);
    expect(r.meanAbsError).toBe(1);
    expect(r.maxRelError).toBe(0.5); // only the element with a non-zero reference
    const json = JSON.parse(JSON.stringify(r));
    expect(json.maxAbsError).toBe(1);
    for (const k of ['maxAbsError', 'meanAbsError', 'medianAbsError', 'p99AbsError', 'maxRelError', 'meanRelError', 'medianRelError', 'p99RelError']) {
      expect(Number.isFinite((r as unknown as Record<string, number>)[k])).toBe(true);
    }
  });
});

describe('exact comparison of integers, bools and strings', () => {
  test('int32 differences fail even with large tolerances', () => {
    const a = Tensor.fromNumbers(DataType.INT32, [3], [1, 2, 3]);
    const b = Tensor.fromNumbers(DataType.INT32, [3], [1, 2, 4]);
    const r = compareTensors(a, b, { atol: 10, rtol: 10 });
    expect(r.exact).toBe(true);
    expect(r.pass).toBe(false);
    expect(r.mismatches).toBe(1);
    expect(compareTensors(a, a, {}).pass).toBe(true);
  });

  test('int64 is compared as bigints beyond 2^53', () => {
    const big = 2n ** 53n;
    const a = Tensor.fromNumbers(DataType.INT64, [2], [big, -5n]);
    const b = Tensor.fromNumbers(DataType.INT64, [2], [big + 1n, -5n]); // equal as doubles
    expect(Number(big) === Number(big + 1n)).toBe(true);
    const r = compareTensors(a, b);
    expect(r.pass).toBe(false);
    expect(r.mismatches).toBe(1);
    expect(r.maxAbsError).toBe(1);
    expect(r.firstMismatch?.b).toBe((big + 1n).toString());
  });

  test('uint8 and bool', () => {
    const u = (v: number[]) => Tensor.fromNumbers(DataType.UINT8, [v.length], v);
    expect(compareTensors(u([0, 255]), u([0, 255])).pass).toBe(true);
    expect(compareTensors(u([0, 255]), u([0, 254])).pass).toBe(false);
    const bl = (v: number[]) => Tensor.fromNumbers(DataType.BOOL, [v.length], v);
    expect(compareTensors(bl([1, 0, 1]), bl([1, 0, 1])).pass).toBe(true);
    expect(compareTensors(bl([1, 0, 1]), bl([1, 1, 1])).mismatches).toBe(1);
  });

  test('strings', () => {
    const s = (v: string[]) => Tensor.fromStrings([v.length], v);
    expect(compareTensors(s(['a', 'bé']), s(['a', 'bé'])).pass).toBe(true);
    const r = compareTensors(s(['a', 'b']), s(['a', 'c']));
    expect(r.pass).toBe(false);
    expect(r.firstMismatch).toMatchObject({ index: 1, a: 'b', b: 'c' });
  });
});

describe('statistics', () => {
  test('abs/rel error statistics and cosine match hand computation', () => {
    const av = [0, 1, 2, 3];
    const bv = [0, 1.5, 2, 3];
    const r = compareTensors(f64(av), f64(bv), { atol: 1, rtol: 0 });
    expect(r.pass).toBe(true);
    expect(r.maxAbsError).toBe(0.5);
    expect(r.meanAbsError).toBe(0.125);
    expect(r.medianAbsError).toBe(0);
    // numpy.percentile([0, 0, 0, 0.5], 99) (linear interpolation)
    expect(r.p99AbsError).toBeCloseTo(0.485, 12);
    // relative errors over the non-zero references: 0.5, 0, 0
    expect(r.maxRelError).toBe(0.5);
    expect(r.meanRelError).toBeCloseTo(1 / 6, 12);
    expect(r.medianRelError).toBe(0);
    const dot = av.reduce((s, x, i) => s + x * bv[i]!, 0);
    const norm = (v: number[]) => Math.sqrt(v.reduce((s, x) => s + x * x, 0));
    expect(r.cosine).toBeCloseTo(dot / (norm(av) * norm(bv)), 12);
  });

  test('percentile agrees with a sort-based reference', () => {
    let seed = 7;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    for (const n of [1, 2, 3, 10, 101, 1000]) {
      const xs = Array.from({ length: n }, () => Math.floor(rnd() * 50) / 7);
      const sorted = [...xs].sort((p, q) => p - q);
      for (const q of [0, 0.5, 0.9, 0.99, 1]) {
        const pos = (n - 1) * q;
        const lo = Math.floor(pos);
        const want = sorted[lo]! + (sorted[Math.ceil(pos)]! - sorted[lo]!) * (pos - lo);
        expect(percentile(Float64Array.from(xs), n, q)).toBeCloseTo(want, 12);
      }
    }
  });

  test('cosine of opposite vectors is -1 and of a zero vector against non-zero is 0', () => {
    expect(compareTensors(f64([1, 2]), f64([-1, -2]), { atol: 10 }).cosine).toBeCloseTo(-1, 12);
    expect(compareTensors(f64([0, 0]), f64([0, 1]), { atol: 10 }).cosine).toBe(0);
  });
});

describe('shape and type mismatches', () => {
  test('different shapes fail with the reason, nothing is compared', () => {
    const r = compareTensors(f32([1, 2, 3, 4], [2, 2]), f32([1, 2, 3, 4], [4]));
    expect(r.pass).toBe(false);
    expect(r.compared).toBe(0);
    expect(r.reason).toBe('shape differs: [2,2] vs [4]');
  });

  test('different element types fail with the reason', () => {
    const r = compareTensors(f32([1]), f64([1]));
    expect(r.pass).toBe(false);
    expect(r.reason).toBe('element type differs: float vs double');
  });
});

describe('compareOutputs', () => {
  const map = (entries: [string, Tensor][]) => new Map(entries);

  test('equivalent when every output passes', () => {
    const r = compareOutputs(map([['y', f32([1, 2])], ['z', f32([3])]]), map([['z', f32([3])], ['y', f32([1, 2])]]));
    expect(r.equivalent).toBe(true);
    expect(r.reason).toBeNull();
    expect(r.compared).toBe(3);
    expect(r.outputs.map((o) => o.name)).toEqual(['y', 'z']);
  });

  test('nothing compared is never a pass', () => {
    const none = compareOutputs(new Map(), new Map());
    expect(none.equivalent).toBe(false);
    expect(none.reason).toMatch(/nothing compared/);
    const empty = compareOutputs(map([['y', f32([], [0, 3])]]), map([['y', f32([], [0, 3])]]));
    expect(empty.outputs[0]!.pass).toBe(true);
    expect(empty.compared).toBe(0);
    // Issue 13: all-empty outputs of equal shapes are equivalent; a shape difference is not.
    expect(empty.equivalent).toBe(true);
    expect(compareOutputs(map([['y', f32([], [0, 3])]]), map([['y', f32([], [3, 0])]])).equivalent).toBe(false);
  });

  test('inf vs -inf and NaN vs a number never read as "max abs 0, cosine 1" (issue 13)', () => {
    for (const [x, y] of [[Infinity, -Infinity], [NaN, 1], [Infinity, 1]] as const) {
      const r = compareOutputs(map([['y', f32([1, 2, x], [3])]]), map([['y', f32([1, 2, y], [3])]]));
      expect(r.equivalent).toBe(false);
      const o = r.outputs[0]!;
      expect(o.mismatches).toBe(1);
      expect(o.maxAbsError).toBe(Number.MAX_VALUE);
      expect(o.cosine).toBeNull();
      expect(JSON.parse(JSON.stringify(o)).maxAbsError).toBe(Number.MAX_VALUE);
    }
  });

  test('an output missing on one side fails', () => {
    const r = compareOutputs(map([['y', f32([1])], ['z', f32([1])]]), map([['y', f32([1])], ['w', f32([1])]]));
    expect(r.equivalent).toBe(false);
    expect(r.outputs.find((o) => o.name === 'z')!.reason).toBe('missing in B');
    expect(r.outputs.find((o) => o.name === 'w')!.reason).toBe('missing in A');
  });

  test('per-output tolerances override the global ones', () => {
    const a = map([['y', f32([1])], ['z', f32([1])]]);
    const b = map([['y', f32([1.5])], ['z', f32([1.5])]]);
    const r = compareOutputs(a, b, { perOutput: { y: { atol: 1 } } });
    expect(r.outputs.find((o) => o.name === 'y')!.pass).toBe(true);
    expect(r.outputs.find((o) => o.name === 'y')!.atol).toBe(1);
    expect(r.outputs.find((o) => o.name === 'z')!.pass).toBe(false);
    expect(r.equivalent).toBe(false);
    expect(compareOutputs(a, b, { atol: 1 }).equivalent).toBe(true);
    expect(compareOutputs(a, b, { atol: 1, perOutput: { z: { atol: 0.1, rtol: 0 } } }).equivalent).toBe(false);
  });

  test('negative or NaN tolerances are refused', () => {
    expect(() => compareOutputs(new Map(), new Map(), { atol: -1 })).toThrow(/atol must be/);
    expect(() => compareTensors(f32([1]), f32([1]), { rtol: NaN })).toThrow(/rtol must be/);
  });
});
