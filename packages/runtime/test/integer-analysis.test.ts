/**
 * Issue 11.4 with real onnxruntime: the analysis of the integer graph onnxruntime makes of a QDQ
 * ResNet-50 at level `all` (QLinearConv, com.microsoft QLinearAdd/QLinearGlobalAveragePool/QGemm),
 * read back from SessionOptions.optimizedModelFilePath: the same MACs as the fp32 model, counted
 * as integer operations, and the roofline at the device's int8 peak. And every contrib op
 * onnxruntime 1.30 writes into the optimized graph of a quantized model (levels extended and all:
 * QDQ ResNet-50, MobileNetV2, a Sigmoid/LeakyRelu/AveragePool/Softmax/Where model, the
 * transformer encoder statically and dynamically quantized, an int8-activation ResNet whose
 * MaxPool goes NCHWc) has a cost and a shape rule: no unknown layer, the float model's MACs.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import * as ort from 'onnxruntime-node';
import { cloneModel, DataType, GraphBuilder, Tensor, type Model } from '@onnxkit/graph';
import { decode, encode } from '@onnxkit/importer';
import { analyzeModel, inferShapes, parseDeviceProfile, planQdq, quantizeDynamic, quantizeQdq, runPipeline, type AnalysisReport } from '@onnxkit/passes';
import { calibrate } from '@onnxkit/runtime';
import { mobilenetv2, resnet50 } from '@onnxkit/zoo';

const tmp = mkdtempSync(join(tmpdir(), 'onnxkit-integer-'));

/** onnxruntime's optimized graph of `m` at `level` (one thread), read back. */
async function ortOptimized(m: Model, name: string, level: 'extended' | 'all'): Promise<Model> {
  const file = join(tmp, `${name}.${level}.onnx`);
  const s = await ort.InferenceSession.create(encode(m), { graphOptimizationLevel: level, optimizedModelFilePath: file, intraOpNumThreads: 1, logSeverityLevel: 3 });
  await s.release();
  return decode(new Uint8Array(readFileSync(file)));
}

/** Static QDQ quantization (every planned tensor in [-4, 4]) of a copy of `m`. */
function qdq(m: Model, activationType: 'uint8' | 'int8' = 'uint8'): Model {
  const q = cloneModel(m);
  quantizeQdq(q, { activationType, ranges: new Map(planQdq(q).tensors.map((t) => [t, { min: -4, max: 4 }])) });
  return q;
}

/** The other-domain op types of a graph, as `domain::type`. */
const contribOps = (m: Model): Set<string> => new Set([...m.graph].filter((n) => !n.isOnnxDomain).map((n) => `${n.domain}::${n.opType}`));

/** Every symbolic input dim bound to `v`. */
function bindAll(m: Model, v: number): Record<string, number> {
  const out: Record<string, number> = {};
  for (const x of m.graph.inputs) for (const d of x.shape ?? []) if (typeof d === 'string') out[d] = v;
  return out;
}

/** No layer of unknown cost or shape: every op onnxruntime wrote has a cost and a shape rule (ops/contrib-*.ts). */
function expectComplete(a: AnalysisReport, what: string): void {
  expect(a.diagnostics.filter((d) => d.code === 'no-cost-model' || d.code === 'unknown-op' || d.code === 'unknown-cost' || d.code === 'coverage'), what).toEqual([]);
}

const FIXTURES = new URL('../../../fixtures/', import.meta.url).pathname;

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

  test('ResNet-50 at extended, MobileNetV2 at extended and all: every op costed, MACs of the fp32 model', async () => {
    for (const [name, build] of [['resnet50', resnet50], ['mobilenetv2', mobilenetv2]] as const) {
      const fp32 = build({ seed: 0 });
      await runPipeline(fp32, ['fold-batchnorm']);
      const macs = analyzeModel(fp32, { timeline: false }).totals.macs;
      const q = qdq(fp32);
      for (const level of name === 'resnet50' ? (['extended'] as const) : (['extended', 'all'] as const)) {
        const fused = await ortOptimized(q, name, level);
        const a = analyzeModel(fused, { timeline: false });
        expectComplete(a, `${name} ${level}`);
        expect(a.totals.macs, `${name} ${level}`).toBe(macs);
        expect(a.totals.intOps!, `${name} ${level}`).toBeGreaterThanOrEqual(2 * macs!);
      }
    }
  }, 300_000);

  /**
   * The QLinear element ops onnxruntime fuses QDQ Sigmoid, LeakyRelu, AveragePool, Softmax and
   * Where into (com.microsoft QLinearSigmoid, QLinearLeakyRelu, QLinearAveragePool,
   * QLinearSoftmax, QLinearWhere): the analysis of the optimized graph had no cost for the first
   * three and QLinearSoftmax, no shape after QLinearAveragePool, and so no MAC total.
   */
  test('QLinearSigmoid, QLinearLeakyRelu, QLinearAveragePool, QLinearSoftmax, QLinearWhere: costed as integer work, shapes through them', async () => {
    const b = new GraphBuilder({ opset: 17 });
    const f32 = (dims: number[], f: (i: number) => number): Tensor => Tensor.fromArray(DataType.FLOAT, dims, Float32Array.from({ length: dims.reduce((p, d) => p * d, 1) }, (_, i) => f(i)));
    const x = b.input('x', DataType.FLOAT, [1, 4, 8, 8]);
    const c1 = b.op('Conv', [x, b.constant('w1', f32([4, 4, 3, 3], Math.sin))], { pads: [1, 1, 1, 1] });
    const sg = b.op('Sigmoid', [c1]);
    const c2 = b.op('Conv', [sg, b.constant('w2', f32([4, 4, 1, 1], Math.cos))]);
    const lr = b.op('LeakyRelu', [c2]);
    const ap = b.op('AveragePool', [lr], { kernel_shape: [2, 2], strides: [2, 2] });
    const c3 = b.op('Conv', [ap, b.constant('w3', f32([4, 4, 1, 1], (i) => Math.sin(i + 2)))]);
    const sm = b.op('Softmax', [c3], { axis: -1 });
    const c4 = b.op('Conv', [sm, b.constant('w4', f32([4, 4, 1, 1], (i) => Math.cos(i + 3)))]);
    const wh = b.op('Where', [b.constant('cond', Tensor.fromNumbers(DataType.BOOL, [1, 4, 1, 1], [1, 0, 0, 1])), c4, c3]);
    b.output(b.op('Conv', [wh, b.constant('w5', f32([2, 4, 1, 1], (i) => Math.cos(i + 4)))]), 'y');
    const fp32 = b.build();
    const macs = analyzeModel(fp32, { timeline: false }).totals.macs;
    for (const type of ['uint8', 'int8'] as const) {
      for (const level of ['extended', 'all'] as const) {
        const fused = await ortOptimized(qdq(fp32, type), `qlinear-${type}`, level);
        const ops = contribOps(fused);
        // (with int8 activations onnxruntime 1.30 leaves this Softmax and Where in float between DequantizeLinear and QuantizeLinear)
        const fusedOps = type === 'uint8' ? ['QLinearSigmoid', 'QLinearLeakyRelu', 'QLinearAveragePool', 'QLinearSoftmax', 'QLinearWhere'] : ['QLinearSigmoid', 'QLinearLeakyRelu', 'QLinearAveragePool'];
        for (const op of fusedOps) expect(ops, `${type} ${level}`).toContain(`com.microsoft::${op}`);
        const a = analyzeModel(fused, { timeline: false });
        expectComplete(a, `${type} ${level}`);
        expect(a.totals.macs).toBe(macs);
        // uint8: float work only in the conversions at the graph's edges.
        if (type === 'uint8') expect(new Set(a.layers.filter((l) => l.flops !== 0).map((l) => l.opType)), `${type} ${level}`).toEqual(new Set(['QuantizeLinear', 'DequantizeLinear']));
        for (const l of a.layers.filter((x) => x.opType.startsWith('QLinear'))) expect(l.intOps, l.name).toBeGreaterThan(0);
      }
    }
  }, 120_000);

  /**
   * The transformer encoder fixture quantized statically (uint8 and int8 activations:
   * com.microsoft QLinearSoftmax) and dynamically (DynamicQuantizeMatMul with onnxruntime's float
   * FusedMatMul and Gelu): every op costed, every shape known, the MACs of the float model.
   */
  test('transformer encoder, static and dynamic: QLinearSoftmax, DynamicQuantizeMatMul, FusedMatMul, Gelu costed; MACs of the float model', async () => {
    const fp32 = decode(new Uint8Array(readFileSync(join(FIXTURES, 'transformer_encoder/model.onnx'))));
    const dims = bindAll(fp32, 4);
    const macs = analyzeModel(fp32, { timeline: false, dimValues: dims }).totals.macs;
    const dynamic = cloneModel(fp32);
    quantizeDynamic(dynamic);
    const cases: [string, Model, string[]][] = [
      ['uint8', qdq(fp32, 'uint8'), ['QLinearSoftmax']],
      ['int8', qdq(fp32, 'int8'), ['QLinearSoftmax']],
      ['dynamic', dynamic, ['DynamicQuantizeMatMul', 'FusedMatMul', 'Gelu']],
    ];
    for (const [name, m, expected] of cases) {
      for (const level of ['extended', 'all'] as const) {
        const fused = await ortOptimized(m, `encoder-${name}`, level);
        const ops = contribOps(fused);
        for (const op of expected) expect(ops, `${name} ${level}`).toContain(`com.microsoft::${op}`);
        const a = analyzeModel(fused, { timeline: false, dimValues: dims });
        expectComplete(a, `${name} ${level}`);
        expect(a.totals.macs, `${name} ${level}`).toBe(macs);
      }
    }
  }, 120_000);

  test('DynamicQuantizeMatMul, MatMulIntegerToFloat, FusedMatMul take ONNX MatMul\'s shape rule, as onnxruntime does: its output shape, and a mismatched inner dimension rejected', async () => {
    const F = DataType.FLOAT;
    const MS = { domain: 'com.microsoft' };
    const floats = (dims: number[]) => new ort.Tensor('float32', new Float32Array(dims.reduce((x, y) => x * y, 1)), dims);
    const cases: [string, (b: GraphBuilder, k: number) => void, (k: number) => Record<string, ort.Tensor>][] = [
      ['DynamicQuantizeMatMul', (b, k) => void b.output(b.op('DynamicQuantizeMatMul', [b.input('a', F, [2, 3, k]), b.constant('w', Tensor.fromArray(DataType.INT8, [32, 10], new Int8Array(320))), b.constant('s', Tensor.fromArray(F, [], Float32Array.of(0.02))), b.constant('z', Tensor.fromArray(DataType.INT8, [], Int8Array.of(0)))], {}, { name: 'op', ...MS }), 'y'), (k) => ({ a: floats([2, 3, k]) })],
      ['MatMulIntegerToFloat', (b, k) => {
        const s = b.constant('s', Tensor.fromArray(F, [], Float32Array.of(0.02)));
        b.output(b.op('MatMulIntegerToFloat', [b.input('a', DataType.UINT8, [4, k]), b.constant('w', Tensor.fromArray(DataType.INT8, [32, 10], new Int8Array(320))), s, s], {}, { name: 'op', ...MS }), 'y');
      }, (k) => ({ a: new ort.Tensor('uint8', new Uint8Array(4 * k), [4, k]) })],
      // Batch dims broadcast ([2, 3, 1] with [3, 5]), both operands transposed.
      ['FusedMatMul', (b, k) => void b.output(b.op('FusedMatMul', [b.input('a', F, [2, 3, 1, k, 4]), b.input('bb', F, [3, 5, 10, 32])], { transA: 1, transB: 1 }, { name: 'op', ...MS }), 'y'), (k) => ({ a: floats([2, 3, 1, k, 4]), bb: floats([3, 5, 10, 32]) })],
    ];
    for (const [op, build, feeds] of cases) {
      for (const k of [32, 16]) {
        const b = new GraphBuilder({ opset: 17 });
        build(b, k);
        const m = b.build();
        const inf = inferShapes(m);
        const mismatches = inf.diagnostics.filter((d) => d.code === 'shape-mismatch').map((d) => d.message);
        const created = () => ort.InferenceSession.create(encode(m), { graphOptimizationLevel: 'disabled', intraOpNumThreads: 1, logSeverityLevel: 3 });
        if (k === 32) {
          expect(mismatches, op).toEqual([]);
          const s = await created();
          const y = (await s.run(feeds(k))).y!;
          await s.release();
          expect(inf.shapeOf(m.graph.valuesByName().get('y')!), op).toEqual(y.dims);
        } else {
          expect(mismatches, op).toEqual([`com.microsoft::${op} 'op': MatMul inner dimensions differ: 16 vs 32`]);
          await expect(created(), op).rejects.toThrow(/Incompatible dimensions for matrix multiplication/);
        }
      }
    }
  });

  test('a ResNet with int8 activations at level all: the MaxPool left in float goes NCHWc (com.microsoft.nchwc ReorderInput, MaxPool, ReorderOutput), costed', async () => {
    const fp32 = decode(new Uint8Array(readFileSync(join(FIXTURES, 'resnet_tiny_bn/model.onnx'))));
    await runPipeline(fp32, ['fold-batchnorm']);
    const dims = bindAll(fp32, 1);
    const a0 = analyzeModel(fp32, { timeline: false, dimValues: dims });
    const fused = await ortOptimized(qdq(fp32, 'int8'), 'resnet-tiny-int8', 'all');
    const ops = contribOps(fused);
    for (const op of ['ReorderInput', 'MaxPool', 'ReorderOutput']) expect(ops).toContain(`com.microsoft.nchwc::${op}`);
    const a = analyzeModel(fused, { timeline: false, dimValues: dims });
    expectComplete(a, 'resnet_tiny int8 all');
    expect(a.totals.macs).toBe(a0.totals.macs);
    const pool = a.layers.find((l) => l.opType === 'MaxPool')!;
    expect(pool.flops).toBe(a0.layers.find((l) => l.opType === 'MaxPool')!.flops);
  }, 120_000);

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
