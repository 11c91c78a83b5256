import type { Dim } from '@onnxkit/graph';
import { describe, expect, it } from 'vitest';
import type { RuleContext } from '../../src/analysis/inference-types.js';
import { broadcastShapesSymbolic, broadcastTwoShared } from '../../src/ops/shape-helpers.js';

/** A rule context that records what the broadcast reports (the helpers read nothing else of it). */
function reporting(): { c: RuleContext; reports: string[] } {
  const reports: string[] = [];
  const c = { mismatch: (m: string) => void reports.push(m) } as unknown as RuleContext;
  return { c, reports };
}

const PAIRS: [readonly Dim[] | null, readonly Dim[] | null][] = [
  [[1, 16], [16]],
  [[1, 16], []],
  [[1, 16], [1, 16]],
  [['N', 3, 224, 224], [3, 1, 1]],
  [['N', 16], ['N', 16]],
  [['N', 16], ['M', 16]],
  [[null, 16], [1]],
  [[null, 16], [5, 16]],
  [[1, 16], [null]],
  [[5, 16], [null]],
  [[1, 1], [4, 1]],
  [[2, 3], [4, 3]],
  [[0, 3], [1, 3]],
  [[3], [2, 3]],
  [[], []],
  [null, [3]],
  [[3], null],
];

describe('broadcastTwoShared', () => {
  for (const [a, b] of PAIRS) {
    it(`gives broadcastShapesSymbolic's dims and reports: ${JSON.stringify(a)} with ${JSON.stringify(b)}`, () => {
      const want = reporting();
      const got = reporting();
      const expected = broadcastShapesSymbolic(want.c, [a, b]);
      const shared = broadcastTwoShared(got.c, a, b);
      expect(shared).toEqual(expected);
      expect(got.reports).toEqual(want.reports);
      // The first input itself when the result equals it (no array built), a new array otherwise.
      if (a !== null && expected !== null && expected.length === a.length && expected.every((d, i) => d === a[i])) expect(shared).toBe(a);
      else if (shared !== null) expect(shared).not.toBe(a);
    });
  }
});
