/**
 * Local functions that would make analysis or optimization recurse forever, overflow the stack
 * or expand exponentially (issue 13, item 1). The models are in memory (the importer refuses
 * recursion at load; these reach the analysis without it): each gives a report with an error
 * naming the function chain, quickly.
 */
import { describe, expect, it } from 'vitest';
import { analyzeModel, inferShapes, runPipeline } from '@onnxkit/passes';
import { functionChain, recursiveFunctions } from '../../../../fuzz/hostile.js';

function errors(m: Parameters<typeof inferShapes>[0]): string[] {
  return inferShapes(m).diagnostics.filter((d) => d.severity === 'error').map((d) => d.message);
}

describe('local functions', () => {
  it.each([1, 3])('recursion through %i function(s) is an error naming the chain, not a stack overflow', (k) => {
    const m = recursiveFunctions(k);
    const msgs = errors(m);
    const chain = k === 1 ? 'f0 → f0' : 'f0 → f1 → f2 → f0';
    expect(msgs.some((s) => s.includes(`(${chain})`) && /called recursively/.test(s))).toBe(true);
    expect(() => analyzeModel(m)).not.toThrow();
    expect(() => runPipeline(m, 'default')).not.toThrow();
  });

  it('functions that each call the next twice (2^40 expansions from 3 KB) stop at the work budget', () => {
    const m = functionChain(40, 2);
    const t0 = performance.now();
    const msgs = errors(m);
    expect(performance.now() - t0).toBeLessThan(10_000);
    expect(msgs.some((s) => /expanding local functions would visit more than 250000 nodes \(at f39 → f38 → f37 → f36 → … →/.test(s))).toBe(true);
    expect(() => runPipeline(m, 'default')).not.toThrow();
  });

  it('a chain of 3,000 functions (valid ONNX) stops at the depth limit instead of overflowing the stack', () => {
    const m = functionChain(3000, 1);
    const msgs = errors(m);
    expect(msgs.some((s) => /local function calls nest deeper than 256 levels/.test(s))).toBe(true);
    expect(() => analyzeModel(m)).not.toThrow();
  });

  it('a legitimate chain of functions is still expanded and inferred', () => {
    const m = functionChain(50, 1);
    const si = inferShapes(m);
    expect(si.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    expect(si.shapeOf(m.graph.outputs[0]!)).toEqual([2]);
  });
});
