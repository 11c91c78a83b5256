// Static int8 quantization with real onnxruntime: zoo models (seeded weights, seeded synthetic
// inputs), the fused graph onnxruntime makes of the QDQ model, and the accuracy on held-out inputs.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type Model } from '@onnxkit/graph';
import { decode, encode } from '@onnxkit/importer';
import { planQdq, quantizeQdq, runPipeline } from '@onnxkit/passes';
import { calibrateRanges, createSession, measureAccuracy, shutdownRuntime, syntheticSamples } from '@onnxkit/runtime';
import { resnet50 } from '@onnxkit/zoo';

const tmp = mkdtempSync(join(tmpdir(), 'onnxkit-quantize-'));
afterAll(() => shutdownRuntime());

async function quantized(build: () => Model, calib = 4): Promise<{ fp32: Model; int8: Model; report: ReturnType<typeof quantizeQdq> }> {
  const fp32 = build();
  await runPipeline(fp32, ['fold-batchnorm']);
  const plan = planQdq(fp32);
  const cal = await calibrateRanges(fp32, syntheticSamples(fp32, calib, 100), { tensors: plan.tensors });
  expect(cal.missing).toEqual([]);
  const int8 = decode(encode(fp32));
  const report = quantizeQdq(int8, { ranges: cal.ranges });
  return { fp32, int8: decode(encode(int8)), report };
}

async function fusedOps(model: Model, name: string): Promise<Map<string, number>> {
  const path = join(tmp, `${name}.optimized.onnx`);
  const s = await createSession(model, { graphOptimizationLevel: 'all', intraOpNumThreads: 1, optimizedModelFilePath: path });
  await s.release();
  const opt = decode(new Uint8Array(readFileSync(path)));
  const h = new Map<string, number>();
  for (const n of opt.graph) h.set(n.opType, (h.get(n.opType) ?? 0) + 1);
  return h;
}

describe('quantize: zoo models through onnxruntime', () => {
  it('ResNet-50: QDQ model fuses into QLinearConv and keeps SQNR > 20 dB on held-out inputs', async () => {
    const { fp32, int8, report } = await quantized(() => resnet50({ seed: 0 }));
    const convs = [...fp32.graph].filter((n) => n.opType === 'Conv').length;
    expect(report.layers.filter((l) => l.opType === 'Conv')).toHaveLength(convs);
    const ops = await fusedOps(int8, 'resnet50');
    console.log(Object.fromEntries(ops));
    expect(ops.get('QLinearConv') ?? 0).toBe(convs);
    expect(ops.get('Conv') ?? 0).toBe(0);
    const held = [...syntheticSamples(fp32, 2, 9000)];
    const acc = await measureAccuracy(fp32, int8, held);
    console.log(acc.overall);
    expect(acc.overall.sqnrDb).toBeGreaterThan(20);
  }, 300_000);
});
