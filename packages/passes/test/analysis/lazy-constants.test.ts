/**
 * Shape inference evaluates a constant sub-computation whether its inputs are in memory or left
 * in the file by the import (a lazy import: files over 64 MiB, or optimize's mid-size files): the
 * facts, and so the MACs and FLOPs the analysis counts, must not depend on where a weight lives.
 * Before, a lazy input was never evaluated, and a model's totals changed with its file's size
 * (`x + ReduceSum(c)` counted 4·N FLOPs from a 63 MiB file, 4·N + 256 from a 65 MiB one).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataType, GraphBuilder, Tensor, type Model } from '@onnxkit/graph';
import { load, save } from '@onnxkit/importer';
import { analyzeModel, inferShapes } from '@onnxkit/passes';
import { afterAll, describe, expect, it } from 'vitest';

const dir = mkdtempSync(join(tmpdir(), 'onnxkit-lazy-constants-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** y = x + ReduceSum(c) and z = x · (W1 · W2) with c [256], W1 [4, 64], W2 [64, 4]: weights of ≥ 1 KiB each. */
function model(): Model {
  const b = new GraphBuilder({ name: 'g' });
  const x = b.input('x', DataType.FLOAT, ['N', 4]);
  const c = b.constant('c', Tensor.fromArray(DataType.FLOAT, [256], Float32Array.from({ length: 256 }, (_, i) => i / 256)));
  b.output(b.op('Add', [x, b.op('ReduceSum', [c], { keepdims: 0 })]), 'y');
  const w1 = b.constant('w1', Tensor.fromArray(DataType.FLOAT, [4, 64], Float32Array.from({ length: 256 }, (_, i) => Math.sin(i))));
  const w2 = b.constant('w2', Tensor.fromArray(DataType.FLOAT, [64, 4], Float32Array.from({ length: 256 }, (_, i) => Math.cos(i))));
  b.output(b.op('MatMul', [x, b.op('MatMul', [w1, w2])]), 'z');
  return b.build({ opsetImports: new Map([['', 12]]) });
}

describe('constant sub-computations over lazy weights', () => {
  it('give the facts and totals of the same model read into memory', async () => {
    const file = join(dir, 'm.onnx');
    await save(model(), file);
    const eager = load(file, { lazy: false });
    const lazy = load(file, { lazy: true });
    expect(lazy.graph.initializers.get('c')!.constValue!.isLazy).toBe(true);
    const a = analyzeModel(eager);
    const b = analyzeModel(lazy);
    for (const k of ['flops', 'flopsExpr', 'macs', 'macsExpr'] as const) expect(b.totals[k], k).toEqual(a.totals[k]);
    const fa = inferShapes(eager);
    const fb = inferShapes(lazy);
    const sum = (m: Model) => m.graph.nodes.find((n) => n.opType === 'ReduceSum')!.outputs[0]!;
    expect(fb.constOf(sum(lazy))?.toFloat64()).toEqual(fa.constOf(sum(eager))?.toFloat64());
    expect(fa.constOf(sum(eager))).toBeDefined();
  });
});
