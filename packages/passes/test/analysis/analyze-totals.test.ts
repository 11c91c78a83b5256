/**
 * analyzeTotals (what `onnxkit optimize` shows before and after) must give exactly the totals of
 * the full analyzeModel report — concrete, symbolic, pinned, unknown ops — and a pipeline handed an
 * inference must produce what it produces without one, and hand back an inference of its output
 * equal to a fresh one.
 */
import { describe, expect, it } from 'vitest';
import { DataType, GraphBuilder, Tensor, printModel, type Model } from '@onnxkit/graph';
import { mobilenetv2, resnet50, transformer } from '@onnxkit/zoo';
import { analyzeModel, analyzeTotals, inferShapes, runPipeline, type AnalyzeOptions } from '@onnxkit/passes';

const pick = (m: Model, o: AnalyzeOptions = {}) => {
  const t = analyzeModel(m, o).totals;
  return { params: t.params, weightParams: t.weightParams, macs: t.macs, ...(t.macsExpr !== undefined ? { macsExpr: t.macsExpr } : {}), flops: t.flops, ...(t.flopsExpr !== undefined ? { flopsExpr: t.flopsExpr } : {}), unknownLayers: t.unknownLayers };
};

/** A graph with an op no cost model covers and a shared weight. */
function unknownOp(): Model {
  const b = new GraphBuilder();
  const x = b.input('x', DataType.FLOAT, [1, 4]);
  const w = b.constant('w', Tensor.fromArray(DataType.FLOAT, [4, 4], new Float32Array(16).fill(0.5)));
  const a = b.op('MatMul', [x, w]);
  const c = b.op('MatMul', [a, w]);
  const d = b.op('Custom', [c], {}, { domain: 'com.example' });
  b.output(d, 'y');
  return b.build();
}

describe('analyzeTotals', () => {
  const cases: [string, () => Model, AnalyzeOptions][] = [
    ['ResNet-50', () => resnet50(), {}],
    ['MobileNetV2, symbolic batch', () => mobilenetv2({ batch: 'N' }), {}],
    ['transformer, symbolic batch and sequence', () => transformer({ layers: 1, dModel: 32, heads: 2, ffn: 64, batch: 'N', seqLen: 'S' }), {}],
    ['transformer, pinned', () => transformer({ layers: 1, dModel: 32, heads: 2, ffn: 64, batch: 'N', seqLen: 'S' }), { dimValues: { N: 2, S: 5 } }],
    ['an unknown op and a shared weight', unknownOp, {}],
  ];
  for (const [name, build, o] of cases) {
    it(`${name}: the totals of analyzeModel`, () => {
      const m = build();
      const lite = analyzeTotals(m, o).totals;
      expect(lite).toEqual(pick(m, o));
      // With an inference handed in, the same numbers.
      expect(analyzeTotals(m, { ...o, inference: inferShapes(m, o) }).totals).toEqual(lite);
    });
  }
  it('an unknown op leaves the MACs total null, not a partial sum', () => {
    const t = analyzeTotals(unknownOp()).totals;
    expect(t.macs).toBeNull();
    expect(t.unknownLayers).toBe(1);
    expect(t.params).toBe(16);
  });
});

describe('runPipeline with an inference of its input', () => {
  it('rewrites exactly as without it, and returns an inference of its output equal to a fresh one', async () => {
    const a = resnet50();
    const b = resnet50();
    const ra = await runPipeline(a, 'default');
    const rb = await runPipeline(b, 'default', { inference: inferShapes(b) });
    expect(printModel(b)).toBe(printModel(a));
    expect(rb.totalChanges).toBe(ra.totalChanges);
    // Not report data: JSON of the report does not carry it.
    expect(Object.keys(rb)).not.toContain('inference');
    const fresh = inferShapes(b);
    expect(rb.inference).toBeDefined();
    if (rb.inference) {
      for (const n of b.graph) for (const v of n.outputs) expect(rb.inference.shapeOf(v)).toEqual(fresh.shapeOf(v));
      expect(analyzeTotals(b, { inference: rb.inference }).totals).toEqual(analyzeTotals(b).totals);
    }
  });
});
