/**
 * Issue 11.4 with real onnxruntime: the analysis of the integer graph onnxruntime makes of a QDQ
 * ResNet-50 at level `all` (QLinearConv, com.microsoft QLinearAdd/QLinearGlobalAveragePool/QGemm),
 * read back from SessionOptions.optimizedModelFilePath: the same MACs as the fp32 model, counted
 * as integer operations, and the roofline at the device's int8 peak.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import * as ort from 'onnxruntime-node';
import { cloneModel } from '@onnxkit/graph';
import { decode, encode } from '@onnxkit/importer';
import { analyzeModel, parseDeviceProfile, planQdq, quantizeQdq, runPipeline } from '@onnxkit/passes';
import { calibrate } from '@onnxkit/runtime';
import { resnet50 } from '@onnxkit/zoo';

const tmp = mkdtempSync(join(tmpdir(), 'onnxkit-integer-'));

describe('analysis of the integer graph onnxruntime runs', () => {
  test('ResNet-50 as QLinearConv/QGemm: MACs of the fp32 model, as intOps; roofline at the int8 peak', async () => {
    const fp32 = resnet50({ seed: 0 });
    await runPipeline(fp32, ['fold-batchnorm']);
    const qdq = cloneModel(fp32);
    quantizeQdq(qdq, { ranges: new Map(planQdq(qdq).tensors.map((t) => [t, { min: -4, max: 4 }])) });
    const file = join(tmp, 'resnet50.int8.optimized.onnx');
    const s = await ort.InferenceSession.create(encode(qdq), { graphOptimizationLevel: 'all', optimizedModelFilePath: file, intraOpNumThreads: 1 });
    await s.release();
    const fused = decode(new Uint8Array(readFileSync(file)));
    const ops = [...fused.graph].map((n) => (n.isOnnxDomain ? n.opType : `${n.domain}::${n.opType}`));
    // At level `all` onnxruntime also goes channels-last: com.microsoft QLinearConv and NhwcMaxPool.
    expect(ops.filter((o) => o === 'QLinearConv' || o === 'com.microsoft::QLinearConv')).toHaveLength(53);
    expect(ops).toContain('com.microsoft::QGemm');
    expect(ops).toContain('com.microsoft::QLinearAdd');
    expect(ops).not.toContain('Conv');
    expect(ops).not.toContain('DequantizeLinear');

    const a = analyzeModel(fp32, { timeline: false });
    const q = analyzeModel(fused, { timeline: false });
    expect(q.diagnostics.filter((d) => d.code === 'no-cost-model')).toEqual([]);
    expect(q.totals.macs).toBe(a.totals.macs);
    expect(q.totals.intOps).toBeGreaterThanOrEqual(2 * a.totals.macs!);
    expect(q.totals.flops).toBeLessThan(a.totals.flops! / 50);
    const ratio = q.totals.modelSizeBytes / a.totals.modelSizeBytes;
    expect(ratio).toBeGreaterThan(0.25);
    expect(ratio).toBeLessThan(0.27);
    expect(q.device.intPrecision).toBe('int8');
    expect(q.totals.latency.computeSeconds).toBeCloseTo(q.totals.flops! / q.device.peakFlops + q.totals.intOps! / q.device.peakIntOps, 12);
    console.log(
      `fp32: MACs ${a.totals.macs} FLOPs ${a.totals.flops} size ${a.totals.modelSizeBytes} B latency ${a.totals.latency.seconds}s; ` +
        `ORT int8: MACs ${q.totals.macs} intOps ${q.totals.intOps} FLOPs ${q.totals.flops} size ${q.totals.modelSizeBytes} B (${ratio.toFixed(4)}×) latency ${q.totals.latency.seconds}s`,
    );
  }, 300_000);

  test('calibrate measures an int8 peak (MatMulInteger) that the local profile carries into the roofline', async () => {
    const p = await calibrate({ threads: 1, matmulSizes: [256], minTimeMs: 60, minRuns: 3, copyBytes: 4 * 2 ** 20, copies: 3, workingSets: [32 * 2 ** 10], maxRounds: 2 });
    expect(p.peakFlops.int8).toBeGreaterThan(0);
    expect(p.details.int8?.n).toBe(256);
    expect(p.method).toMatch(/peak int8: onnxruntime-node CPU MatMulInteger/);
    const dev = parseDeviceProfile(JSON.parse(JSON.stringify(p)));
    expect(dev.peakFlops.int8).toBe(p.peakFlops.int8);
    console.log(`local (small, 1 thread): fp32 ${(p.peakFlops.fp32 / 1e9).toFixed(1)} GFLOP/s, int8 ${(p.peakFlops.int8! / 1e9).toFixed(1)} GOP/s`);
  }, 120_000);
});
