/**
 * Issue 11.4: the as-executed roofline of a QDQ model. onnxruntime (level extended and above) runs
 * each integer layer as one QLinear kernel with the DequantizeLinear of its activations and the
 * QuantizeLinear of its output fused in; the analysis fuses the same Q/DQ nodes — checked against
 * ORT's own optimized graph (optimizedModelFilePath) — so the int8 estimate no longer pays the
 * float traffic of the graph as written.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import * as ort from 'onnxruntime-node';
import { cloneModel, type Model } from '@onnxkit/graph';
import { decode, encode } from '@onnxkit/importer';
import { analyzeModel, planQdq, quantizeQdq, runPipeline } from '@onnxkit/passes';
import { mobilenetv2, resnet50 } from '@onnxkit/zoo';

const tmp = mkdtempSync(join(tmpdir(), 'onnxkit-executed-qdq-'));
// The models written here are ≈ 0.7 GB: leave nothing behind.
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

async function qdq(make: () => Model): Promise<{ fp32: Model; int8: Model }> {
  const fp32 = make();
  await runPipeline(fp32, ['fold-batchnorm']);
  const int8 = cloneModel(fp32);
  quantizeQdq(int8, { ranges: new Map(planQdq(int8).tensors.map((n) => [n, { min: -4, max: 4 }])) });
  return { fp32, int8 };
}

describe('as-executed roofline of QDQ models', () => {
  test.each([
    ['mobilenetv2', () => mobilenetv2({ seed: 0, batch: 1 })],
    ['resnet50', () => resnet50({ seed: 0, batch: 1 })],
  ] as const)('%s: the Q/DQ nodes we fuse at extended are the ones ORT fuses; the int8 estimate drops below fp32', async (name, make) => {
    const { fp32, int8 } = await qdq(make);
    const file = join(tmp, `${name}.extended.onnx`);
    const s = await ort.InferenceSession.create(encode(int8), { graphOptimizationLevel: 'extended', optimizedModelFilePath: file, intraOpNumThreads: 1 });
    await s.release();
    const opt = decode(new Uint8Array(readFileSync(file)));
    const left = opt.graph.nodes.filter((n) => n.opType === 'QuantizeLinear' || n.opType === 'DequantizeLinear').length;
    const q = analyzeModel(int8);
    const qdqLayers = q.layers.filter((l) => !l.constant && (l.opType === 'QuantizeLinear' || l.opType === 'DequantizeLinear'));
    const kept = qdqLayers.filter((l) => l.fusedInto?.extended === undefined);
    expect(kept.length, `${name}: ${kept.map((l) => l.name).join(', ')}`).toBe(left);
    expect(qdqLayers.length - kept.length).toBeGreaterThan(50);
    // Fused into the integer layers (or data movement between DQ and Q, run on 8 bits), never at basic.
    for (const l of qdqLayers) {
      if (!l.fusedInto?.extended) continue;
      const h = q.layers.find((x) => x.name === l.fusedInto!.extended)!;
      expect(h.intOps! > 0 || ['MaxPool', 'Flatten'].includes(h.opType), `${l.name} → ${h.name}`).toBe(true);
    }
    expect(qdqLayers.every((l) => l.fusedInto?.basic === undefined)).toBe(true);
    const t = q.totals.latency.asExecuted;
    const a = analyzeModel(fp32).totals.latency.asExecuted;
    expect(t.extended.seconds!).toBeLessThan(t.basic.seconds!);
    expect(t.all.seconds!).toBeLessThan(a.all.seconds!);
    console.log(`${name}: as executed at all, fp32 ${(a.all.seconds! * 1e6).toFixed(0)} µs, int8 ${(t.all.seconds! * 1e6).toFixed(0)} µs (as written ${(q.totals.latency.seconds! * 1e6).toFixed(0)} µs); Q/DQ fused ${qdqLayers.length - kept.length}, kept ${kept.length}`);
  }, 120_000);
});
