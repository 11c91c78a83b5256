/**
 * GridSample, the op added the new way (src/ops/grid-sample.ts: one file, one registry line):
 * its attribute schema, shape rule, cost and float64 reference kernel, each through the public
 * path that uses it — attributeProblem, inferShapes, analyzeModel, and the reference against the
 * expected outputs of the ONNX backend corpus.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Attribute, AttributeType, DataType, GraphBuilder, type Tensor } from '@onnxkit/graph';
import { load } from '@onnxkit/importer';
import { analyzeModel, inferShapes } from '../../src/analysis/index.js';
import { attributeProblem } from '../../src/common/attribute-schema.js';
import { getOp } from '../../src/ops/registry.js';
import type { RefTensor } from '../../src/ops/types.js';
import { corpusAvailable, NODE_CORPUS, nodeTests, testTensors } from '../analysis/corpus.js';
import { ROOT } from '../isolated.js';

const F = DataType.FLOAT;

function model(xDims: (number | string)[], gridDims: (number | string)[], attrs: Record<string, number | string> = {}, opset = 20) {
  const b = new GraphBuilder({ opset });
  const x = b.input('x', F, xDims);
  const grid = b.input('grid', F, gridDims);
  b.output(b.op('GridSample', [x, grid], attrs, { name: 'gs' }), 'y');
  return b.build();
}

const toRef = (t: Tensor): RefTensor => ({ dtype: t.dtype, dims: [...t.dims], data: t.toFloat64() });

describe('GridSample', () => {
  it('is registered with its ONNX attributes and defaults', () => {
    const op = getOp('GridSample')!;
    expect(op.type).toBe('GridSample');
    expect(op.attributes).toMatchObject({
      align_corners: { type: AttributeType.INT, default: 0 },
      mode: { type: AttributeType.STRING, default: 'bilinear' },
      padding_mode: { type: AttributeType.STRING, default: 'zeros' },
    });
    expect(op.fp16).toBeUndefined();
    const m = model([1, 1, 4, 4], [1, 2, 2, 2]);
    const node = [...m.graph][0]!;
    expect(attributeProblem(node)).toBeUndefined();
    node.setAttribute(new Attribute('align_corners', AttributeType.FLOAT, 1));
    expect(attributeProblem(node)).toMatch(/align_corners.*FLOAT, not INT/);
  });

  it('infers [N, C, H_out, W_out] (and the 3-D form), keeping symbols and reporting contradictions', () => {
    const shapeOf = (m: ReturnType<typeof model>) => {
      const inf = inferShapes(m);
      return { shape: inf.shapeOf(m.graph.valuesByName().get('y')!), warnings: inf.diagnostics.filter((d) => d.severity === 'warning').map((d) => d.message) };
    };
    expect(shapeOf(model(['N', 3, 32, 32], ['N', 16, 8, 2]))).toEqual({ shape: ['N', 3, 16, 8], warnings: [] });
    expect(shapeOf(model([2, 4, 8, 8, 8], [2, 5, 6, 7, 3])).shape).toEqual([2, 4, 5, 6, 7]);
    expect(shapeOf(model([2, 3, 8, 8], [3, 4, 4, 2])).warnings.join()).toMatch(/batch of X and grid: 2 vs 3/);
    expect(shapeOf(model([1, 3, 8, 8], [1, 4, 4, 3])).warnings.join()).toMatch(/grid's last dim is 3; it must be 2/);
    expect(shapeOf(model([1, 3, 8, 8], [1, 4, 4, 4, 3])).warnings.join()).toMatch(/X has rank 4 but grid has rank 5/);
  });

  it('costs no MACs and the interpolation per output element (nearest 0, bilinear 8, bicubic 32 in 2-D)', () => {
    const outputs = 2 * 3 * 16 * 8;
    for (const [mode, perOutput] of [['nearest', 0], ['bilinear', 8], ['linear', 8], ['bicubic', 32], ['cubic', 32]] as const) {
      const layer = analyzeModel(model([2, 3, 32, 32], [2, 16, 8, 2], { mode })).layers.find((l) => l.name === 'gs')!;
      expect(layer.macs, mode).toBe(0);
      expect(layer.flops, mode).toBe(perOutput * outputs);
    }
    expect(analyzeModel(model([2, 3, 32, 32], [2, 16, 8, 2], { mode: 'sideways' })).layers.find((l) => l.name === 'gs')!.flops).toBeNull();
  });

  it('samples by hand-checked values: corners, centre, border and reflection padding', () => {
    const reference = getOp('GridSample')!.reference!;
    const x: RefTensor = { dtype: F, dims: [1, 1, 2, 2], data: Float64Array.from([1, 2, 3, 4]) };
    const grid = (pts: number[][]): RefTensor => ({ dtype: F, dims: [1, 1, pts.length, 2], data: Float64Array.from(pts.flat()) });
    const m = model([1, 1, 2, 2], [1, 1, 3, 2], { align_corners: 1 });
    const node = [...m.graph][0]!;
    // align_corners: (−1, −1) is pixel (0, 0) and (1, 1) pixel (1, 1); the centre averages all four.
    expect([...(reference(node, [x, grid([[-1, -1], [1, 1], [0, 0]])], 20)[0]!.data as Float64Array)]).toEqual([1, 4, 2.5]);
    node.setAttribute(new Attribute('align_corners', AttributeType.INT, 0n));
    // Without align_corners, x = −1 is the outer edge of pixel 0: half of it is zero padding…
    expect([...(reference(node, [x, grid([[-1, -1]])], 20)[0]!.data as Float64Array)]).toEqual([0.25]);
    // …border padding repeats the edge pixel, reflection mirrors the image at the edge.
    node.setAttribute(new Attribute('padding_mode', AttributeType.STRING, 'border'));
    expect([...(reference(node, [x, grid([[-3, -3]])], 20)[0]!.data as Float64Array)]).toEqual([1]);
    node.setAttribute(new Attribute('padding_mode', AttributeType.STRING, 'reflection'));
    expect([...(reference(node, [x, grid([[-1.5, 0]])], 20)[0]!.data as Float64Array)]).toEqual([2]);
  });

  it('agrees with every GridSample test of the ONNX backend corpus (float64 reference vs expected float32)', () => {
    if (!corpusAvailable()) return;
    const tests = nodeTests().filter((t) => t.startsWith('test_gridsample'));
    expect(tests.length).toBeGreaterThanOrEqual(8);
    const reference = getOp('GridSample')!.reference!;
    const worst: string[] = [];
    for (const test of tests) {
      const m = load(join(NODE_CORPUS, test, 'model.onnx'));
      const node = [...m.graph][0]!;
      const [x, grid] = testTensors(test, 'input', m);
      const [want] = testTensors(test, 'output', m);
      const got = reference(node, [toRef(x!), toRef(grid!)], m.opsetVersion('') ?? 16)[0]!;
      expect(got.dims, test).toEqual([...want!.dims]);
      const w = want!.toFloat64();
      const g = got.data as Float64Array;
      let err = 0;
      for (let i = 0; i < w.length; i++) err = Math.max(err, Math.abs(g[i]! - w[i]!) / Math.max(1, Math.abs(w[i]!)));
      // Some expected outputs (test_gridsample_bicubic) are PyTorch's printout, rounded to 4 decimals.
      if (err > 5e-5) worst.push(`${test}: max relative error ${err.toExponential(2)}`);
    }
    expect(worst).toEqual([]);
  });

  it('is the README\'s worked example, shown verbatim', () => {
    const source = readFileSync(join(ROOT, 'packages', 'passes', 'src', 'ops', 'grid-sample.ts'), 'utf8');
    const declaration = source.slice(source.indexOf('export const GridSample = defineOp({'), source.indexOf('\n});', source.indexOf('export const GridSample')) + 4);
    expect(declaration).toMatch(/^export const GridSample[\s\S]+\}\);$/);
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    expect(readme).toContain(declaration);
    expect(readme).toContain('  GridSample,\n  // … (each op added later appends its line)\n]);');
    // In the registry it is one line of OPS; ops added after it append theirs below it.
    expect(readFileSync(join(ROOT, 'packages', 'passes', 'src', 'ops', 'registry.ts'), 'utf8')).toMatch(/\nexport const OPS: readonly OpDef\[\] = Object\.freeze\(\[\n( {2}[^\n]+,\n)* {2}GridSample,\n( {2}[^\n]+,\n)*\]\);/);
  });
});
