// Issue 11.4: the analysis knows integer models. A QDQ ResNet-50 (quantizeQdq, as `onnxkit
// quantize` writes it) against its BN-folded fp32 model: the same MACs, reported as integer
// operations (intOps) instead of FLOPs, the model size at the stored dtypes (int8 weights, int32
// biases, float scales) ≈ 0.26× the fp32 size, and the roofline timing the integer layers at the
// device's int8 peak. The fused QLinearConv/QGemm form onnxruntime makes of it is tested with real
// onnxruntime in packages/runtime/test/integer-analysis.test.ts.
import { describe, expect, it } from 'vitest';
import { cloneModel, DataType, GraphBuilder, Tensor, type Model } from '@onnxkit/graph';
import { resnet50 } from '@onnxkit/zoo';
import { analysisToCsv, analyzeModel, DEVICES, formatAnalysisTable, getOp, planQdq, quantizeQdq, runPipeline, type TensorRange } from '../../src/index.js';

function ranges(names: readonly string[]): Map<string, TensorRange> {
  return new Map(names.map((n) => [n, { min: -4, max: 4 }]));
}

async function pair(): Promise<{ fp32: Model; int8: Model }> {
  const fp32 = resnet50({ seed: 0 });
  await runPipeline(fp32, ['fold-batchnorm']);
  const int8 = cloneModel(fp32);
  quantizeQdq(int8, { ranges: ranges(planQdq(int8).tensors) });
  return { fp32, int8 };
}

describe('integer models', () => {
  it('QDQ ResNet-50: MACs equal the fp32 MACs, counted as intOps; FLOPs only the conversions; size ≈ 0.26×; int8 peak', async () => {
    const { fp32, int8 } = await pair();
    const a = analyzeModel(fp32, { timeline: false });
    const q = analyzeModel(int8, { timeline: false });
    expect(a.totals.intOps).toBe(0);
    expect(q.totals.macs).toBe(a.totals.macs);
    expect(q.totals.intOps).toBeGreaterThanOrEqual(2 * a.totals.macs!);
    expect(q.totals.flops).toBeLessThan(a.totals.flops! / 50);
    const convs = q.layers.filter((l) => l.opType === 'Conv');
    expect(convs).toHaveLength(53);
    for (const l of convs) {
      expect(l.flops, l.name).toBe(0);
      expect(l.intOps, l.name).toBe(2 * l.macs! + l.outputShape!.reduce<number>((x, d) => x * (d as number), 1));
    }
    // Learnable parameters unchanged in number; bytes at the stored dtypes (int8 weights, int32 bias).
    expect(q.totals.weightParams).toBe(a.totals.weightParams);
    expect(q.totals.params).toBe(a.totals.params);
    expect(q.totals.bufferParams).toBeGreaterThan(0); // per-channel scales and zero points
    const ratio = q.totals.modelSizeBytes / a.totals.modelSizeBytes;
    expect(ratio).toBeGreaterThan(0.25);
    expect(ratio).toBeLessThan(0.27);
    // --bits stays the lecture's number: weightParams × bits / 8.
    const b8 = analyzeModel(int8, { timeline: false, bits: 8 });
    expect(b8.totals.modelSizeBytesAtBits).toBe(a.totals.weightParams);
    // Roofline: the integer layers at the int8 peak (Jetson AGX Orin: 85 dense TOPS against 5.3 FP32 TFLOPS).
    expect(q.device.intPrecision).toBe('int8');
    expect(q.device.peakIntOps).toBe(85e12);
    expect(q.device.peakFlops).toBe(5.3e12);
    const big = convs.reduce((m, l) => (l.macs! > m.macs! ? l : m));
    const fpBig = a.layers.find((l) => l.name === big.name)!;
    expect(q.totals.latency.computeSeconds!).toBeLessThan(a.totals.latency.computeSeconds! / 10);
    expect(big.latency).toBeLessThan(fpBig.latency!);
    expect(q.convention).toMatch(/intOps = 2·integer MACs/);
    expect(q.convention).toMatch(/QuantizeLinear .* counted as FLOPs/);
    expect(formatAnalysisTable(q)).toMatch(/integer OPs: [\d.,]+ ?[GM]? \(timed at int8/);
    console.log(
      `fp32: MACs ${a.totals.macs} FLOPs ${a.totals.flops} size ${a.totals.modelSizeBytes} B compute ${a.totals.latency.computeSeconds}s latency ${a.totals.latency.seconds}s; ` +
        `QDQ: MACs ${q.totals.macs} intOps ${q.totals.intOps} FLOPs ${q.totals.flops} size ${q.totals.modelSizeBytes} B (${ratio.toFixed(4)}×) compute ${q.totals.latency.computeSeconds}s latency ${q.totals.latency.seconds}s`,
    );
  });

  it('QLinearConv, QLinearMatMul, MatMulInteger and com.microsoft QGemm read their MACs from the right slots', () => {
    const b = new GraphBuilder({ opset: 17 });
    const U8 = DataType.UINT8;
    const I8 = DataType.INT8;
    const x = b.input('x', U8, [1, 8, 16, 16]);
    const s = b.constant('s', Tensor.fromArray(DataType.FLOAT, [], new Float32Array([0.1])));
    const zx = b.constant('zx', Tensor.fromArray(U8, [], new Uint8Array([128])));
    const w = b.constant('w', Tensor.fromArray(I8, [16, 8, 3, 3], new Int8Array(16 * 8 * 9).fill(1)));
    const ws = b.constant('ws', Tensor.fromArray(DataType.FLOAT, [16], new Float32Array(16).fill(0.01)));
    const zw = b.constant('zw', Tensor.fromArray(I8, [16], new Int8Array(16)));
    const bias = b.constant('bias', Tensor.fromArray(DataType.INT32, [16], new Int32Array(16)));
    const y = b.op('QLinearConv', [x, s, zx, w, ws, zw, s, zx, bias], { pads: [1, 1, 1, 1] }, { name: 'qconv' });
    b.output(y);
    const a = b.input('a', U8, [4, 32]);
    const m = b.constant('m', Tensor.fromArray(I8, [32, 10], new Int8Array(320)));
    const zm = b.constant('zm', Tensor.fromArray(I8, [], new Int8Array(1)));
    b.output(b.op('QLinearMatMul', [a, s, zx, m, s, zm, s, zx], {}, { name: 'qmm' }));
    b.output(b.op('MatMulInteger', [a, m, zx, zm], {}, { name: 'mmi' }));
    const qg = b.op('QGemm', [a, s, zx, m, s, zm], {}, { name: 'qgemm', domain: 'com.microsoft' });
    // onnxruntime declares the contrib op's output type (value_info): the analysis reads it.
    qg.type = { kind: 'tensor', elemType: DataType.FLOAT, shape: [4, 10] };
    b.output(qg);
    const model = b.build();
    const r = analyzeModel(model, { timeline: false });
    const L = (n: string) => r.layers.find((l) => l.name === n)!;
    expect(L('qconv').macs).toBe(16 * 16 * 16 * 8 * 9);
    expect(L('qconv').intOps).toBe(2 * 16 * 16 * 16 * 8 * 9 + 4 * 16 * 16 * 16); // bias add + requantization
    expect(L('qconv').flops).toBe(0);
    expect(L('qconv').weightParams).toBe(16 * 8 * 9);
    expect(L('qconv').params).toBe(16 * 8 * 9 + 16);
    // Read at the stored dtypes: int8 w, int32 bias, float w scales, int8 w zero points, and x/y scale (float) and zero point (uint8) per slot.
    expect(L('qconv').bytes.weights).toBe(16 * 8 * 9 + 4 * 16 + 4 * 16 + 16 + 2 * 4 + 2 * 1);
    expect(L('qmm').macs).toBe(4 * 10 * 32);
    expect(L('qmm').intOps).toBe(2 * 4 * 10 * 32 + 3 * 40);
    expect(L('mmi').macs).toBe(4 * 10 * 32);
    expect(L('mmi').intOps).toBe(2 * 4 * 10 * 32);
    expect(L('qgemm').macs).toBe(4 * 10 * 32);
    expect(L('qgemm').intOps).toBe(2 * 4 * 10 * 32); // float output: no requantization
    expect(r.totals.flops).toBe(0);
    expect(getOp('QGemm', 'com.microsoft')?.cost).toMatchObject({ integer: true });
  });

  it("energy: integer layers are priced with the lecture's int8 energies (8-bit mult + 32-bit add per MAC, 8-bit SRAM operands)", async () => {
    const { fp32, int8 } = await pair();
    const a = analyzeModel(fp32, { timeline: false });
    const q = analyzeModel(int8, { timeline: false });
    expect(q.totals.energy.table).toMatchObject({ multPj: 3.7, addPj: 0.9, int8MultPj: 0.2, int8AddPj: 0.03, int32MultPj: 3.1, int32AddPj: 0.1 });
    // Hand formula on an integer Conv: MACs × (0.2 + 0.1) + other OPs × 0.1 + 2·MACs × 5/4 + bytes/4 × 640 (pJ).
    const c = q.layers.find((l) => l.opType === 'Conv' && l.intOps! > 0)!;
    const bytes = c.bytes.weights + c.bytes.input! + c.bytes.output!;
    expect(c.energy.computeJoules).toBeCloseTo((c.macs! * 0.3 + (c.intOps! - 2 * c.macs!) * 0.1) * 1e-12, 15);
    expect(c.energy.sramJoules).toBeCloseTo(2 * c.macs! * 1.25 * 1e-12, 15);
    expect(c.energy.joules).toBeCloseTo(c.energy.computeJoules! + c.energy.sramJoules! + (bytes / 4) * 640 * 1e-12, 15);
    // The same Conv in fp32 pays float arithmetic: an int8 MAC is 4.6 / 0.3 ≈ 15× cheaper.
    const f = a.layers.find((l) => l.name === c.name)!;
    expect(f.energy.computeJoules! / c.energy.computeJoules!).toBeGreaterThan(12);
    expect(q.totals.energy.computeJoules!).toBeLessThan(a.totals.energy.computeJoules! / 10);
    expect(q.totals.energy.sramJoules!).toBeCloseTo(a.totals.energy.sramJoules! / 4, 6);
    // DRAM traffic still dominates (and the QDQ graph's Q/DQ nodes move float activations as separate layers).
    expect(q.totals.energy.joules!).toBeLessThan(a.totals.energy.joules!);
    expect(q.totals.energy.convention).toMatch(/int8 MACs \(8-bit int mult \+ 32-bit int add\)/);
    expect(formatAnalysisTable(q)).toMatch(/float mult 3\.7 pJ, add 0\.9 pJ, int8 mult 0\.2 pJ, int32 add 0\.1 pJ, int8 add 0\.03 pJ, int32 mult 3\.1 pJ;/);
    // The per-layer table gains an integer-OPs column; the CSV an intOps column.
    expect(formatAnalysisTable(q)).toMatch(/MACs +Int OPs +Activations/);
    expect(formatAnalysisTable(a)).not.toMatch(/Int OPs/);
    const csv = analysisToCsv(q).split('\n');
    const head = csv.find((l) => l.startsWith('index,'))!.split(',');
    const row = csv.find((l) => l.split(',')[1] === c.name)!.split(',');
    expect(Number(row[head.indexOf('intOps')])).toBe(c.intOps);
    expect(csv.find((l) => l.startsWith('# totals:'))).toContain(`intOps=${q.totals.intOps}`);
    // A table without integer entries prices integer work as float.
    const own = { source: 'float only', dramReadPj: 640, sramReadPj: 5, multPj: 3.7, addPj: 0.9 };
    const qf = analyzeModel(int8, { timeline: false, energy: own });
    expect(qf.layers.find((l) => l.name === c.name)!.energy.computeJoules).toBeCloseTo((c.macs! * 4.6 + (c.intOps! - 2 * c.macs!) * 0.9) * 1e-12, 15);
    console.log(`energy per inference, ResNet-50: fp32 ${a.totals.energy.joules} J (arithmetic ${a.totals.energy.computeJoules}, SRAM ${a.totals.energy.sramJoules}, DRAM ${a.totals.energy.dramJoules}); QDQ int8 ${q.totals.energy.joules} J (arithmetic ${q.totals.energy.computeJoules}, SRAM ${q.totals.energy.sramJoules}, DRAM ${q.totals.energy.dramJoules})`);
  });

  it('every built-in device profile carries an int8 peak, the Raspberry Pi 4 one marked as an estimate', () => {
    for (const d of DEVICES) expect(d.peakFlops.int8, d.id).toBeGreaterThan(d.peakFlops.fp32);
    expect(DEVICES.find((d) => d.id === 'raspberry-pi-4')!.source).toMatch(/ESTIMATE from NEON/);
  });
});
