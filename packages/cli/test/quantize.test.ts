// Static int8 quantization with real onnxruntime: zoo models (seeded weights, seeded synthetic
// inputs), the fused graph onnxruntime makes of the QDQ model (optimizedModelFilePath), the
// accuracy on held-out inputs, and the `onnxkit quantize` command end to end.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Attribute, DataType, GraphBuilder, Tensor, cloneModel, type Model } from '@onnxkit/graph';
import { decode, encode } from '@onnxkit/importer';
import { planQdq, quantizeDynamic, quantizeQdq, runPipeline } from '@onnxkit/passes';
import { calibrateRanges, createSession, encodeNpy, measureAccuracy, shutdownRuntime, syntheticSamples } from '@onnxkit/runtime';
import { mobilenetv2, resnet50, transformer } from '@onnxkit/zoo';
import { cliRunner, expectOneLineError } from './helpers/cli.js';

const tmp = mkdtempSync(join(tmpdir(), 'onnxkit-quantize-'));
const onnxkit = cliRunner(tmp, { env: { NO_COLOR: '1' }, timeout: 240_000 });
afterAll(() => shutdownRuntime());

async function quantized(build: () => Model, calib: number): Promise<{ fp32: Model; int8: Model; report: ReturnType<typeof quantizeQdq> }> {
  const fp32 = build();
  await runPipeline(fp32, ['fold-batchnorm']);
  const plan = planQdq(fp32);
  const cal = await calibrateRanges(fp32, syntheticSamples(fp32, calib, 100), { tensors: plan.tensors });
  expect(cal.missing).toEqual([]);
  const int8 = cloneModel(fp32);
  const report = quantizeQdq(int8, { ranges: cal.ranges });
  // Through the codec, as a user's file would be.
  return { fp32, int8: decode(encode(int8)), report };
}

/** Op histogram of the graph onnxruntime optimizes the model into at level `all`. */
async function fusedOps(model: Model, name: string): Promise<Map<string, number>> {
  const path = join(tmp, `${name}.optimized.onnx`);
  const s = await createSession(model, { graphOptimizationLevel: 'all', intraOpNumThreads: 1, optimizedModelFilePath: path });
  await s.release();
  const opt = decode(new Uint8Array(readFileSync(path)));
  const h = new Map<string, number>();
  for (const n of opt.graph) h.set(n.opType, (h.get(n.opType) ?? 0) + 1);
  return h;
}

/** The op counts of a histogram for the named ops (0 where absent), compared all at once. */
function expectCounts(ops: Map<string, number>, want: Record<string, number>): void {
  expect(Object.fromEntries(Object.keys(want).map((op) => [op, ops.get(op) ?? 0]))).toEqual(want);
}

/** Output SQNR (dB) of the int8 model against fp32 on two held-out seeded inputs (seed 9000, not the calibration seed). */
async function heldOutSqnr(fp32: Model, int8: Model): Promise<number> {
  return (await measureAccuracy(fp32, int8, [...syntheticSamples(fp32, 2, 9000)])).overall.sqnrDb;
}

describe('quantize: zoo models through onnxruntime', () => {
  // Seeded random weights and uniform synthetic inputs: measured output SQNR is ≈ 20.5 dB for
  // ResNet-50 and ≈ 16 dB for MobileNetV2 (a wrong bias scale or weight axis gives < 5 dB).
  it('ResNet-50: every Conv fuses into QLinearConv, Add/pool/Gemm into their integer kernels; SQNR on held-out inputs', async () => {
    const { fp32, int8, report } = await quantized(() => resnet50({ seed: 0 }), 4);
    const convs = [...fp32.graph].filter((n) => n.opType === 'Conv').length;
    expect(report.layers.filter((l) => l.opType === 'Conv')).toHaveLength(convs);
    expectCounts(await fusedOps(int8, 'resnet50'), { QLinearConv: convs, Conv: 0, QLinearAdd: 16, QLinearGlobalAveragePool: 1, QGemm: 1, DequantizeLinear: 0 });
    expect(await heldOutSqnr(fp32, int8)).toBeGreaterThan(18);
  }, 300_000);

  it('MobileNetV2: Clip(0, 6) folds into the Conv before it; every Conv fuses; SQNR on held-out inputs', async () => {
    const { fp32, int8, report } = await quantized(() => mobilenetv2({ seed: 0 }), 4);
    const convs = [...fp32.graph].filter((n) => n.opType === 'Conv').length;
    expect(report.fusedActivations).toHaveLength([...fp32.graph].filter((n) => n.opType === 'Clip').length);
    expectCounts(await fusedOps(int8, 'mobilenetv2'), { QLinearConv: convs, Conv: 0, Clip: 0 });
    expect(await heldOutSqnr(fp32, int8)).toBeGreaterThan(12);
  }, 300_000);
});

describe('quantize: op coverage through onnxruntime', () => {
  // Conv → ConvTranspose → AveragePool → Concat(with skip) → Resize → Mul(const) → Sigmoid →
  // LeakyRelu → Reshape → MatMul(act, act).
  function coverage(): Model {
    const b = new GraphBuilder({ opset: 17 });
    const f = (dims: number[], k: number): Tensor => Tensor.fromArray(DataType.FLOAT, dims, Float32Array.from({ length: dims.reduce((a, d) => a * d, 1) }, (_, i) => Math.sin(i * k + 0.3) * 0.4));
    const x = b.input('x', DataType.FLOAT, [1, 4, 8, 8]);
    const c = b.op('Relu', [b.op('Conv', [x, b.constant('w', f([8, 4, 3, 3], 1.1)), b.constant('b', f([8], 2.3))], { pads: [1, 1, 1, 1] }, { name: 'conv' })], {}, { name: 'relu' });
    const t = b.op('ConvTranspose', [c, b.constant('wt', f([8, 4, 2, 2], 0.7)), b.constant('bt', f([4], 1.7))], { strides: [2, 2] }, { name: 'deconv' });
    const down = b.op('AveragePool', [t], { kernel_shape: [2, 2], strides: [2, 2] }, { name: 'avg' });
    const cat = b.op('Concat', [down, x], { axis: 1 }, { name: 'cat' });
    const up = b.op('Resize', [cat, null, b.constant('scales', Tensor.fromArray(DataType.FLOAT, [4], Float32Array.from([1, 1, 2, 2])))], { mode: 'nearest' }, { name: 'resize' });
    const m = b.op('LeakyRelu', [b.op('Sigmoid', [b.op('Mul', [up, b.constant('gain', f([1, 8, 1, 1], 3.1))], {}, { name: 'mul' })], {}, { name: 'sigmoid' })], { alpha: Attribute.float('alpha', 0.1) }, { name: 'leaky' });
    const r = b.op('Reshape', [m, b.constant('shape', Tensor.fromNumbers(DataType.INT64, [3], [8, 16, 16]))], {}, { name: 'reshape' });
    b.output(b.op('MatMul', [r, r], {}, { name: 'mm' }), 'y');
    return b.build();
  }

  it('Conv, ConvTranspose, Concat, Resize, AveragePool, Mul, Sigmoid, LeakyRelu and an activation MatMul run fused with a sane SQNR', async () => {
    const fp32 = coverage();
    const plan = planQdq(fp32);
    const cal = await calibrateRanges(fp32, syntheticSamples(fp32, 8, 1), { tensors: plan.tensors });
    const int8 = cloneModel(fp32);
    const report = quantizeQdq(int8, { ranges: cal.ranges });
    expect(report.layers.map((l) => l.opType)).toEqual(['Conv', 'ConvTranspose', 'Concat', 'Mul', 'Sigmoid', 'LeakyRelu', 'MatMul']);
    expect(report.skipped).toEqual([]);
    const ops = await fusedOps(decode(encode(int8)), 'coverage');
    for (const op of ['QLinearConv', 'QLinearConcat', 'QLinearMul', 'QLinearAveragePool', 'QLinearSigmoid', 'QLinearLeakyRelu', 'MatMulIntegerToFloat', 'Resize']) expect(ops.get(op) ?? 0, op).toBe(1);
    // onnxruntime 1.30's CPU provider has no integer ConvTranspose: it stays DQ → ConvTranspose → Q.
    expect(ops.get('ConvTranspose') ?? 0).toBe(1);
    expect(ops.get('Conv') ?? 0).toBe(0);
    const acc = await measureAccuracy(fp32, int8, [...syntheticSamples(fp32, 2, 99)]);
    expect(acc.overall.sqnrDb).toBeGreaterThan(25);
  }, 120_000);

  it('a tensor that takes −∞ during calibration (masked_fill(-inf) reaching an Add) stays float: calibration reports the bound, the Add is kept float with its reason, the −∞ survives', async () => {
    // x → Conv → c; Where(mask, −∞, c) → masked (float: its constant is −∞); Add(masked, c) → y.
    const b = new GraphBuilder({ opset: 17 });
    const x = b.input('x', DataType.FLOAT, [1, 2, 4, 4]);
    const mask = b.input('mask', DataType.BOOL, [1, 2, 4, 4]);
    const c = b.op('Conv', [x, b.constant('w', Tensor.fromArray(DataType.FLOAT, [2, 2, 1, 1], Float32Array.of(0.5, -0.25, 0.75, 1)))], {}, { name: 'conv' });
    const masked = b.op('Where', [mask, b.constant('ninf', Tensor.fromArray(DataType.FLOAT, [], Float32Array.of(-Infinity))), c], {}, { name: 'masked' });
    b.output(b.op('Add', [masked, c], {}, { name: 'added' }), 'y');
    const fp32 = b.build();
    const maskData = Uint8Array.from({ length: 32 }, (_, i) => (i % 5 === 0 ? 1 : 0));
    const samples = [0, 1, 2].map((s) => new Map([['x', Tensor.fromArray(DataType.FLOAT, [1, 2, 4, 4], Float32Array.from({ length: 32 }, (_, i) => Math.sin(i + 7 * s)))], ['mask', Tensor.fromArray(DataType.BOOL, [1, 2, 4, 4], maskData)]]));
    const plan = planQdq(fp32);
    const cal = await calibrateRanges(fp32, samples, { tensors: plan.tensors });
    const maskedName = masked.name;
    expect(cal.ranges.get(maskedName)!.min).toBe(-Infinity);
    expect(Number.isFinite(cal.ranges.get(maskedName)!.max)).toBe(true);
    const int8 = cloneModel(fp32);
    const report = quantizeQdq(int8, { ranges: cal.ranges });
    expect(report.layers.map((l) => l.node)).toEqual(['conv']);
    expect(report.skipped.map((s) => [s.node, s.code])).toEqual([
      ['masked', 'constant-not-finite'],
      ['added', 'range-not-finite'],
    ]);
    expect(report.skipped[1]).toMatchObject({ tensor: maskedName, input: 0 });
    // The masked positions stay −∞ in the quantized model, as in the float one (quantized, they became the lowest level).
    const s = await createSession(decode(encode(int8)), { intraOpNumThreads: 1 });
    const y = (await s.run(samples[0]!)).get('y')!.toArray() as Float32Array;
    await s.release();
    for (let i = 0; i < 32; i++) expect(y[i] === -Infinity, `y[${i}]`).toBe(maskData[i] === 1);
  }, 120_000);
});

describe('quantize --dynamic: zoo transformer through onnxruntime', () => {
  it('every weight MatMul becomes DynamicQuantizeMatMul / MatMulIntegerToFloat; SQNR > 35 dB', async () => {
    const fp32 = transformer({ seed: 0, layers: 2, dModel: 64, seqLen: 16 });
    const int8 = cloneModel(fp32);
    const report = quantizeDynamic(int8);
    const weightMatMuls = [...fp32.graph].filter((n) => n.opType === 'MatMul' && n.inputs[1]!.isInitializer).length;
    expect(report.layers).toHaveLength(weightMatMuls);
    const ops = await fusedOps(decode(encode(int8)), 'transformer-dynamic');
    expect((ops.get('DynamicQuantizeMatMul') ?? 0) + (ops.get('MatMulIntegerToFloat') ?? 0)).toBe(weightMatMuls);
    expect(ops.get('MatMulInteger') ?? 0).toBe(0);
    expect(await heldOutSqnr(fp32, int8)).toBeGreaterThan(35);
  }, 300_000);
});

/** Conv → BN → Relu → Conv → GlobalAveragePool, [1, 3, 16, 16]. */
function smallCnn(opset = 17): string {
  const b = new GraphBuilder({ opset });
  const x = b.input('x', DataType.FLOAT, [1, 3, 16, 16]);
  const f = (dims: number[], k: number): Tensor => Tensor.fromArray(DataType.FLOAT, dims, Float32Array.from({ length: dims.reduce((a, d) => a * d, 1) }, (_, i) => Math.sin(i * k) * 0.3));
  const c1 = b.op('Conv', [x, b.constant('w1', f([8, 3, 3, 3], 1.3))], { pads: [1, 1, 1, 1] }, { name: 'conv1' });
  const pos = (dims: number[]): Tensor => Tensor.fromArray(DataType.FLOAT, dims, Float32Array.from({ length: dims[0]! }, (_, i) => 0.5 + (i % 3) * 0.25));
  const bn = b.op('BatchNormalization', [c1, b.constant('g', pos([8])), b.constant('be', f([8], 0.7)), b.constant('mu', f([8], 0.4)), b.constant('var', pos([8]))], {}, { name: 'bn1' });
  const r = b.op('Relu', [bn], {}, { name: 'relu1' });
  const c2 = b.op('Conv', [r, b.constant('w2', f([4, 8, 3, 3], 0.9))], { pads: [1, 1, 1, 1] }, { name: 'conv2' });
  b.output(b.op('GlobalAveragePool', [c2], {}, { name: 'pool' }), 'y');
  const path = join(tmp, `small-${opset}.onnx`);
  writeFileSync(path, encode(b.build()));
  return path;
}

describe('onnxkit quantize', () => {
  it('quantizes with --calibration files, holds back a fifth for evaluation, and reports SQNR per output and layer (--json)', () => {
    const model = smallCnn();
    const dir = join(tmp, 'calib');
    mkdirSync(dir, { recursive: true });
    for (let i = 0; i < 10; i++) {
      const data = Float32Array.from({ length: 768 }, (_, k) => Math.sin(k * 0.37 + i) * 0.5 + 0.5);
      writeFileSync(join(dir, `s${i}.npy`), encodeNpy(Tensor.fromArray(DataType.FLOAT, [1, 3, 16, 16], data)));
    }
    const out = join(tmp, 'small.int8.onnx');
    const r = onnxkit(['quantize', model, '-o', out, '--calibration', dir, '--method', 'percentile', '--percentile', '99.99', '--json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.calibration.samples).toBe(8);
    expect(j.evaluation.samples).toBe(2);
    expect(j.batchNormsFolded).toBe(1);
    expect(j.fusedActivations).toBe(1);
    expect(j.layers.map((l: { node: string }) => l.node)).toEqual(['conv1', 'conv2', 'pool']);
    expect(j.layers[0].output).toBe('relu1_output_0');
    expect(j.accuracy.overall.sqnrDb).toBeGreaterThan(25);
    expect(j.accuracy.outputs.y.maxAbsError).toBeGreaterThan(0);
    expect(j.fileBytes.output).toBeGreaterThan(0); // tiny model: scales and zero points outweigh the 4× smaller weights
    expect(existsSync(out)).toBe(true);
    const q = decode(new Uint8Array(readFileSync(out)));
    expect([...q.graph].filter((n) => n.opType === 'QuantizeLinear').length).toBeGreaterThan(0);
    expect(q.graph.inputs[0]!.dtype).toBe(DataType.FLOAT);
    expect(q.graph.outputs[0]!.name).toBe('y');
  }, 240_000);

  it('prints a table and warns that synthetic calibration is weaker than real data', () => {
    const r = onnxkit(['quantize', smallCnn(), '-o', join(tmp, 'small.synth.onnx'), '--samples', '4', '--eval-samples', '2']);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/warning: no --calibration data: calibrating on 4 seeded synthetic inputs; real inputs calibrate better/);
    expect(r.stdout).toMatch(/SQNR dB/);
    expect(r.stdout).toMatch(/conv1 +Conv\+Relu/);
  }, 240_000);

  it('--sensitivity measures each layer quantized alone; --min-sqnr keeps the most sensitive in float', () => {
    const model = smallCnn();
    const s = onnxkit(['quantize', model, '-o', join(tmp, 'small.sens.onnx'), '--samples', '4', '--eval-samples', '2', '--sensitivity', '--json']);
    expect(s.code).toBe(0);
    const j = JSON.parse(s.stdout);
    const alone = j.layers.filter((l: { opType: string }) => l.opType === 'Conv').map((l: { aloneSqnrDb: number }) => l.aloneSqnrDb);
    expect(alone).toHaveLength(2);
    // One layer quantized is at least as accurate as all of them.
    for (const a of alone) expect(a).toBeGreaterThanOrEqual(j.accuracy.overall.sqnrDb - 0.5);
    const target = j.accuracy.overall.sqnrDb + 1;
    const m = onnxkit(['quantize', model, '-o', join(tmp, 'small.mixed.onnx'), '--samples', '4', '--eval-samples', '2', '--min-sqnr', String(target), '--json']);
    expect(m.code).toBe(0);
    const k = JSON.parse(m.stdout);
    if (k.keptFloat.length > 0) {
      expect(k.accuracy.overall.sqnrDb).toBeGreaterThanOrEqual(target);
      expect(k.layers.map((l: { node: string }) => l.node)).not.toContain(k.keptFloat[0].node);
    } else expect(k.warnings.join(' ')).toMatch(/--min-sqnr .* not reached/);
  }, 240_000);

  it('--dynamic needs no calibration and reports the same accuracy table', () => {
    const b = new GraphBuilder({ opset: 17 });
    const x = b.input('x', DataType.FLOAT, [4, 32]);
    const w = b.constant('w', Tensor.fromArray(DataType.FLOAT, [32, 16], Float32Array.from({ length: 512 }, (_, i) => Math.sin(i * 0.7))));
    b.output(b.op('MatMul', [x, w], {}, { name: 'fc' }), 'y');
    const path = join(tmp, 'mm.onnx');
    writeFileSync(path, encode(b.build()));
    const r = onnxkit(['quantize', path, '-o', join(tmp, 'mm.dyn.onnx'), '--dynamic', '--json']);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.mode).toBe('dynamic');
    expect(j.calibration).toBe(null);
    expect(j.layers.map((l: { node: string }) => l.node)).toEqual(['fc']);
    expect(j.accuracy.overall.sqnrDb).toBeGreaterThan(30);
    expectOneLineError(onnxkit(['quantize', path, '-o', join(tmp, 'mm.x.onnx'), '--dynamic', '--method', 'entropy']), 2, /--dynamic .* takes no --calibration/);
  }, 240_000);

  it('refuses a bad --percentile, a model with nothing to quantize and an old opset with one line, exit 2', () => {
    expectOneLineError(onnxkit(['quantize', smallCnn(), '-o', join(tmp, 'x.onnx'), '--method', 'percentile', '--percentile', '120']), 2, /--percentile must be a number in \(0, 100\]/);
    expectOneLineError(onnxkit(['quantize', smallCnn(), '-o', join(tmp, 'x.onnx'), '--method', 'percentile', '--percentile', 'abc']), 2, /--percentile expects a number/);
    expectOneLineError(onnxkit(['quantize', smallCnn(), '-o', join(tmp, 'x.onnx'), '--method', 'kl']), 2, /--method 'kl' is not one of minmax, percentile, entropy/);
    const b = new GraphBuilder({ opset: 17 });
    b.output(b.op('Relu', [b.input('x', DataType.FLOAT, [2, 3])]), 'y');
    const none = join(tmp, 'relu.onnx');
    writeFileSync(none, encode(b.build()));
    expectOneLineError(onnxkit(['quantize', none, '-o', join(tmp, 'x.onnx')]), 2, /nothing to quantize/);
    expectOneLineError(onnxkit(['quantize', smallCnn(9), '-o', join(tmp, 'x.onnx')]), 2, /opset 9.*opset ≥ 13/);
    expect(existsSync(join(tmp, 'x.onnx'))).toBe(false);
  }, 240_000);
});
