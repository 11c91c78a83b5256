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

/**
 * Weights counted once whatever the route: read once (no dedup set needed), shared by two nodes,
 * traced through a Transpose, and QDQ weights whose DequantizeLinear is not evaluated (over the
 * constant budget) sharing one scale and zero point.
 */
function weightRoutes(): Model {
  const b = new GraphBuilder();
  const f = (name: string, dims: number[]) => b.constant(name, Tensor.fromArray(DataType.FLOAT, dims, new Float32Array(dims.reduce((a, c) => a * c, 1)).fill(0.25)));
  const q = (name: string) => b.constant(name, Tensor.fromArray(DataType.INT8, [4, 4], new Int8Array(16).fill(3)));
  let x = b.input('x', DataType.FLOAT, [1, 4]);
  x = b.op('MatMul', [x, f('w1', [4, 4])]);
  x = b.op('Add', [x, f('b1', [4])]);
  const w2 = f('w2', [4, 4]);
  x = b.op('MatMul', [b.op('MatMul', [x, w2]), w2]);
  x = b.op('MatMul', [x, b.op('Transpose', [f('wt', [4, 4])])]);
  const scale = b.constant('s', Tensor.scalar(DataType.FLOAT, 0.5));
  const zero = b.constant('zp', Tensor.scalar(DataType.INT8, 0));
  x = b.op('MatMul', [x, b.op('DequantizeLinear', [q('q1'), scale, zero])]);
  x = b.op('MatMul', [x, b.op('DequantizeLinear', [q('q2'), scale, zero])]);
  b.output(x, 'y');
  return b.build();
}

describe('parameter counting', () => {
  it('counts each stored tensor once: read once, shared, traced through a Transpose, QDQ with a shared scale', () => {
    const m = weightRoutes();
    for (const o of [{}, { maxConstantElements: 8 }]) {
      const r = analyzeModel(m, o);
      expect({ params: r.totals.params, weights: r.totals.weightParams, buffers: r.totals.bufferParams }).toEqual({ params: 84, weights: 80, buffers: 2 });
      expect(analyzeTotals(m, o).totals).toEqual(pick(m, o));
      const notes = r.layers.flatMap((l) => l.notes ?? []).filter((n) => n.startsWith('shares'));
      expect(notes).toEqual(["shares 'w2' with an earlier layer (counted once in totals)", "shares 's' with an earlier layer (counted once in totals)", "shares 'zp' with an earlier layer (counted once in totals)"]);
    }
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
