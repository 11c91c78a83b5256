/**
 * Shape inference and analysis on the real PyTorch exports in fixtures/ (torchvision CNNs with
 * and without BatchNorm, ShuffleNet's shuffles, a TransformerEncoder with dynamic batch and
 * sequence, an LSTM, If/Loop): every node's output shape is inferred (symbolic dims kept), all
 * dims are concrete once the inputs are pinned, outputs match the expected .pb tensors, and the
 * parameter counts match those the fixture generator recorded from the initializers.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeTensorProto, load } from '@onnxkit/importer';
import { analyzeModel, inferShapes } from '../../src/analysis/index.js';

const FIXTURES = new URL('../../../../fixtures/', import.meta.url).pathname;

interface Fixture {
  name: string;
  file: string;
  parameters: number;
  expected?: string;
  inputs: { name: string; shape: (number | string)[]; testShape: number[] }[];
  outputs: { name: string; shape: (number | string)[] }[];
}

function manifest(): Fixture[] {
  const file = join(FIXTURES, 'manifest.json');
  if (!existsSync(file)) throw new Error(`fixtures/manifest.json is missing: regenerate the fixtures (see fixtures/README.md)`);
  return (JSON.parse(readFileSync(file, 'utf8')) as { fixtures: Fixture[] }).fixtures;
}

describe('fixtures: real PyTorch exports', () => {
  const fixtures = manifest();

  it('covers the exports the brief names', () => {
    const names = fixtures.map((f) => f.name);
    for (const n of ['mobilenet_v2_035_bn', 'resnet_tiny_bn', 'shufflenet_v2_x0_5', 'transformer_encoder', 'lstm_tiny', 'loop_if']) expect(names).toContain(n);
  });

  it.each(fixtures.map((f) => [f.name, f] as const))('%s: every shape inferred, symbolic and pinned', (_name, f) => {
    const m = load(join(FIXTURES, f.file));
    const inf = inferShapes(m);
    expect(inf.diagnostics.filter((d) => d.severity !== 'info'), 'diagnostics').toEqual([]);
    for (const n of m.graph) {
      for (const o of n.outputs) {
        if (o.name === '' && o.uses.length === 0) continue;
        const s = inf.shapeOf(o);
        expect(s !== null && s.every((d) => d !== null), `${n.describe()} → ${JSON.stringify(s)}`).toBe(true);
      }
    }
    m.graph.outputs.forEach((o, k) => expect(inf.shapeOf(o), `output ${k}`).toEqual(f.outputs[k]!.shape));
    const pinned = inferShapes(m, { inputShapes: Object.fromEntries(f.inputs.map((i) => [i.name, i.testShape])) });
    for (const n of m.graph) {
      for (const o of n.outputs) {
        if (o.name === '' && o.uses.length === 0) continue;
        expect(pinned.shapeOf(o)!.every((d) => typeof d === 'number'), n.describe()).toBe(true);
      }
    }
    if (f.expected) {
      m.graph.outputs.forEach((o, k) => {
        const want = decodeTensorProto(readFileSync(join(FIXTURES, f.expected!, `output_${k}.pb`)));
        expect(pinned.shapeOf(o), `output ${k} vs expected .pb`).toEqual(want.dims);
      });
    }
  });

  it.each(fixtures.map((f) => [f.name, f] as const))('%s: learnable + buffer parameters match the generator count', (_name, f) => {
    const r = analyzeModel(load(join(FIXTURES, f.file)));
    expect(r.totals.params + r.totals.bufferParams).toBe(f.parameters);
  });

  it('transformer_encoder: attention MACs against the hand formula, symbolic and pinned', () => {
    // nn.TransformerEncoder: 2 layers, d_model 32, 4 heads (head dim 8), ffn 64, vocab 100.
    const [layers, d, heads, dh, ffn, vocab] = [2, 32, 4, 8, 64, 100];
    const m = load(join(FIXTURES, 'transformer_encoder/model.onnx'));
    const sym = analyzeModel(m);
    const attention = sym.layers.filter((l) => l.opType === 'MatMul' && l.params === 0);
    expect(attention).toHaveLength(2 * layers);
    for (const l of attention) expect(l.macsExpr).toBe(`${heads * dh}*batch*sequence*sequence`);
    const linearPerToken = layers * (3 * d * d + d * d + 2 * d * ffn) + d * vocab;
    expect(sym.totals.macsExpr).toBe(`${2 * layers * heads * dh}*batch*sequence*sequence+${linearPerToken}*batch*sequence`);
    const [B, S] = [2, 7];
    const pinned = analyzeModel(m, { inputShapes: { input_ids: [B, S] } });
    for (const l of pinned.layers.filter((x) => x.opType === 'MatMul' && x.params === 0)) expect(l.macs).toBe(B * heads * S * S * dh);
    expect(pinned.totals.macs).toBe(2 * layers * B * heads * S * S * dh + B * S * linearPerToken);
    expect(pinned.totals.unknownLayers).toBe(0);
  });

  it('loop_if: the work inside If (the costlier branch) and Loop (body × trip count) is counted', () => {
    const r = analyzeModel(load(join(FIXTURES, 'loop_if/model.onnx')), { inputShapes: { x: [3, 4] } });
    const iff = r.layers.find((l) => l.opType === 'If')!;
    const loop = r.layers.find((l) => l.opType === 'Loop')!;
    // then: ReduceSum over 3×4 (12 adds); the Loop body runs 3 times (x's first dim).
    expect(iff.flops).toBe(12);
    expect(iff.notes!.join()).toMatch(/costlier branch, then_branch, is counted/);
    expect(loop.flops).toBe(252);
    expect(loop.notes!.join()).toMatch(/body work × 3 iteration/);
    expect(r.totals.unknownLayers).toBe(0);
    expect(r.totals.flops).toBe(r.layers.reduce((a, l) => a + (l.constant ? 0 : l.flops!), 0));
    // Unbound: the trip count is a symbol, the Loop's FLOPs an expression in it.
    const free = analyzeModel(load(join(FIXTURES, 'loop_if/model.onnx')));
    expect(free.layers.find((l) => l.opType === 'Loop')!.flopsExpr).toBe('7*m*n*n');
    expect(free.totals.flops).toBeNull();
    expect(free.totals.flopsSymbols!.sort()).toEqual(['m', 'n']);
  });
});
