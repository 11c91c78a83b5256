/**
 * Issue 16.3: the as-executed roofline's fusions agree with what onnxruntime actually does —
 * checked against ORT's own optimized graph (SessionOptions.optimizedModelFilePath) per level.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import * as ort from 'onnxruntime-node';
import { encode, decode } from '@onnxkit/importer';
import { analyzeModel } from '@onnxkit/passes';
import { resnet50, mobilenetv2 } from '@onnxkit/zoo';

const tmp = mkdtempSync(join(tmpdir(), 'onnxkit-executed-'));

async function ortOptimized(bytes: Uint8Array, level: 'basic' | 'extended', file: string) {
  const s = await ort.InferenceSession.create(bytes, { graphOptimizationLevel: level, optimizedModelFilePath: file, intraOpNumThreads: 1 });
  await s.release();
  return decode(new Uint8Array(readFileSync(file)));
}

describe('as-executed roofline (ORT fusions)', () => {
  test.each([
    ['resnet50', () => resnet50({ weights: 'zeros', batch: 1 })],
    ['mobilenetv2', () => mobilenetv2({ weights: 'zeros', batch: 1 })],
  ] as const)('%s: the layers we fuse are the ones ORT removes, per level', async (name, make) => {
    const m = make();
    const bytes = encode(m);
    const r = analyzeModel(m);
    const live = r.layers.filter((l) => !l.constant);
    for (const level of ['basic', 'extended'] as const) {
      const opt = await ortOptimized(bytes, level, join(tmp, `${name}.${level}.onnx`));
      const fused = live.filter((l) => l.fusedInto?.[level] !== undefined || l.opType === 'Identity' || l.opType === 'Dropout').length;
      // Every fused layer disappears from ORT's graph; nothing else does (static shapes, nothing to fold).
      expect(opt.graph.nodes.length, `${name} at ${level}`).toBe(live.length - fused);
      expect(r.totals.latency.asExecuted[level].fusedLayers).toBe(fused);
      if (level === 'extended') {
        const fusedConvs = opt.graph.nodes.filter((n) => n.opType === 'FusedConv').length;
        const convsWithActivation = new Set(live.filter((l) => l.fusedInto?.extended && ['Relu', 'Clip'].includes(l.opType)).map((l) => l.fusedInto!.extended)).size;
        expect(fusedConvs).toBe(convsWithActivation);
      }
    }
    const t = r.totals.latency.asExecuted;
    expect(t.disabled.seconds).toBeCloseTo(r.totals.latency.seconds!, 12);
    expect(t.basic.seconds!).toBeLessThan(t.disabled.seconds!);
    expect(t.extended.seconds!).toBeLessThan(t.basic.seconds!);
    expect(t.all.seconds!).toBeLessThanOrEqual(t.extended.seconds!);
  }, 120_000);
});
