// Patterns of trained CNNs (PaddleOCR PP-OCRv4) that the quantizer must handle.
//
// A channel whose weights are (near) zero but whose bias is not — what BatchNorm folding leaves
// of a channel the training switched off (γ ≈ 0, β ≠ 0), seen in PaddleOCR's PP-OCRv4 detector —
// must keep its bias through the int32 bias quantization: with s_w = max|w| / 127 ≈ 1e-14 the
// bias b / (s_x · s_w) saturates at ±2³¹ − 1 and the channel outputs ≈ 0 instead of b. The
// quantizer raises that channel's weight scale (as onnxruntime's quantize_static does), and the
// model, run by real onnxruntime, keeps its accuracy.
import { afterAll, describe, expect, it } from 'vitest';
import { DataType, GraphBuilder, Tensor, cloneModel, type Model } from '@onnxkit/graph';
import { decode, encode } from '@onnxkit/importer';
import { planQdq, quantizeQdq } from '@onnxkit/passes';
import { calibrateRanges, measureAccuracy, shutdownRuntime, syntheticSamples } from '@onnxkit/runtime';

afterAll(() => shutdownRuntime());

const DEAD = [2, 5];

/** x → Conv 3×3 (8 channels; channels 2 and 5 have ~0 weights and a bias) → Relu → Conv 1×1 → y. */
function deadChannelCnn(): Model {
  const b = new GraphBuilder({ opset: 17 });
  const f = (dims: number[], g: (i: number) => number): Tensor => Tensor.fromArray(DataType.FLOAT, dims, Float32Array.from({ length: dims.reduce((a, d) => a * d, 1) }, (_, i) => g(i)));
  const x = b.input('x', DataType.FLOAT, [1, 3, 8, 8]);
  const per = 3 * 3 * 3;
  const w1 = f([8, 3, 3, 3], (i) => (DEAD.includes(Math.floor(i / per)) ? 1e-14 * Math.sin(i) : 0.3 * Math.sin(i * 1.7 + 0.2)));
  const b1 = f([8], (c) => (DEAD.includes(c) ? 2 + 0.5 * c : 0.1 * (c - 4)));
  const c1 = b.op('Conv', [x, b.constant('w1', w1), b.constant('b1', b1)], { pads: [1, 1, 1, 1] }, { name: 'conv1' });
  const r1 = b.op('Relu', [c1], {}, { name: 'relu1' });
  const c2 = b.op('Conv', [r1, b.constant('w2', f([4, 8, 1, 1], (i) => Math.cos(i * 0.9))), b.constant('b2', f([4], (i) => 0.05 * i))], {}, { name: 'conv2' });
  b.output(c2, 'y');
  return b.build();
}

describe('quantize: int32 bias range', () => {
  it('raises the weight scale of a dead channel so its bias does not saturate; SQNR through onnxruntime stays high', async () => {
    const fp32 = deadChannelCnn();
    const plan = planQdq(fp32);
    const cal = await calibrateRanges(fp32, syntheticSamples(fp32, 8, 3), { tensors: plan.tensors });
    expect(cal.missing).toEqual([]);
    const int8 = cloneModel(fp32);
    quantizeQdq(int8, { ranges: cal.ranges });

    const init = (name: RegExp): Tensor => [...int8.graph.initializers.values()].find((v) => name.test(v.name))!.constValue!;
    const qb = init(/^b1_quantized/).toArray() as Int32Array;
    for (const v of qb) expect(Math.abs(v)).toBeLessThan(2147483647);
    // The dequantized bias is the float one (within its rounding) in every channel, dead ones included.
    const bs = init(/^b1_scale/).toArray() as Float32Array;
    const b1 = fp32.graph.initializers.get('b1')!.constValue!.toArray() as Float32Array;
    for (let c = 0; c < 8; c++) expect(Math.abs(qb[c]! * bs[c]! - b1[c]!)).toBeLessThanOrEqual(bs[c]! / 2 + 1e-6);
    // Only the dead channels' weight scales were raised.
    const ws = init(/^w1_scale/).toArray() as Float32Array;
    for (const c of DEAD) expect(ws[c]!).toBeGreaterThan(1e-12);
    expect(ws[0]!).toBeCloseTo(Math.max(...Array.from({ length: 27 }, (_, i) => Math.abs(0.3 * Math.sin(i * 1.7 + 0.2)))) / 127, 6);

    // Real onnxruntime on held-out inputs: the dead channels' constant output reaches conv2
    // (with the saturated bias, before this fix, the output SQNR was −0.1 dB).
    const acc = await measureAccuracy(fp32, decode(encode(int8)), [...syntheticSamples(fp32, 2, 77)]);
    expect(acc.overall.sqnrDb).toBeGreaterThan(30);
  }, 120_000);
});

// Hard-swish as exporters without HardSwish write it (PaddleOCR's paddle2onnx):
// x · Clip(x + 3, 0, 6) / 6. Every reader of x is constant for x ≤ −3, so x's uint8 range needs
// nothing below −3; PP-OCRv4's pre-activations reach −96 (a step of 0.72 instead of 0.36).
function hardSwishCnn(op: 'decomposed' | 'HardSwish', skip = false): Model {
  const b = new GraphBuilder({ opset: 17 });
  const f = (dims: number[], g: (i: number) => number): Tensor => Tensor.fromArray(DataType.FLOAT, dims, Float32Array.from({ length: dims.reduce((a, d) => a * d, 1) }, (_, i) => g(i)));
  const x = b.input('x', DataType.FLOAT, [1, 3, 8, 8]);
  // Channels 0–3 sit far below −3 (hard-swish gives 0 there), channels 4–7 around 0.
  const c1 = b.op('Conv', [x, b.constant('w1', f([8, 3, 3, 3], (i) => 0.4 * Math.sin(i * 1.3 + 0.5))), b.constant('b1', f([8], (c) => (c < 4 ? -60 : 0.5)))], { pads: [1, 1, 1, 1] }, { name: 'conv1' });
  let h;
  if (op === 'HardSwish') h = b.op('HardSwish', [c1], {}, { name: 'hswish' });
  else {
    const a = b.op('Add', [c1, b.constant('three', Tensor.fromArray(DataType.FLOAT, [], Float32Array.from([3])))], {}, { name: 'add3' });
    const c = b.op('Clip', [a, b.constant('lo', Tensor.fromArray(DataType.FLOAT, [], Float32Array.from([0]))), b.constant('hi', Tensor.fromArray(DataType.FLOAT, [], Float32Array.from([6])))], {}, { name: 'relu6' });
    const m = b.op('Mul', [c1, c], {}, { name: 'mul' });
    h = b.op('Div', [m, b.constant('six', Tensor.fromArray(DataType.FLOAT, [], Float32Array.from([6])))], {}, { name: 'div' });
  }
  const c2 = b.op('Conv', [h, b.constant('w2', f([4, 8, 1, 1], (i) => Math.cos(i * 0.9))), b.constant('b2', f([4], (i) => 0.05 * i))], {}, { name: 'conv2' });
  b.output(skip ? b.op('Add', [c2, b.op('ReduceMean', [c1], { axes: [1], keepdims: 1 }, { name: 'rm' })], {}, { name: 'skip' }) : c2, 'y');
  return b.build();
}

async function quantizeWithRanges(fp32: Model): Promise<{ int8: Model; report: ReturnType<typeof quantizeQdq>; sqnr: number }> {
  const plan = planQdq(fp32);
  const cal = await calibrateRanges(fp32, syntheticSamples(fp32, 8, 3), { tensors: plan.tensors });
  expect(cal.missing).toEqual([]);
  expect(cal.ranges.get('conv1_output_0')!.min).toBeLessThan(-40);
  const int8 = cloneModel(fp32);
  const report = quantizeQdq(int8, { ranges: cal.ranges });
  const acc = await measureAccuracy(fp32, decode(encode(int8)), [...syntheticSamples(fp32, 2, 77)]);
  return { int8, report, sqnr: acc.overall.sqnrDb };
}

const convOutParams = (m: Model): { scale: number; zeroPoint: number } => {
  const q = [...m.graph].find((n) => n.opType === 'QuantizeLinear' && n.inputs[0]!.name === 'conv1_output_0')!;
  return { scale: Number(q.inputs[1]!.constValue!.toArray()[0]), zeroPoint: Number(q.inputs[2]!.constValue!.toArray()[0]) };
};

describe('quantize: a tensor read only by hard-swish is clamped at −3', () => {
  it('decomposed hard-swish (Add 3 → Clip 0..6 → Mul → Div 6): range starts at −3; SQNR through onnxruntime', async () => {
    const { int8, report, sqnr } = await quantizeWithRanges(hardSwishCnn('decomposed'));
    const p = convOutParams(int8);
    expect(p.zeroPoint * p.scale).toBeCloseTo(3, 1); // −3 is the lowest level
    expect(report.layers.find((l) => l.node === 'conv1')!.flatBelow).toBe(-3);
    // 30.9 dB; with the calibrated min (≈ −64) it was 20.5 dB.
    expect(sqnr).toBeGreaterThan(27);
    // The per-layer comparison clamps the fp32 values the same way (47.5 dB; unclamped the clamp
    // reads as error: 0.4 dB).
    const fp32 = hardSwishCnn('decomposed');
    const layer = report.layers.find((l) => l.node === 'conv1')!;
    const pair = { reference: 'conv1_output_0', quantized: layer.quantizedOutput! };
    const held = [...syntheticSamples(fp32, 2, 77)];
    const clamped = await measureAccuracy(fp32, decode(encode(int8)), held, { layers: [{ ...pair, clampBelow: layer.flatBelow }] });
    const raw = await measureAccuracy(fp32, decode(encode(int8)), held, { layers: [pair] });
    expect(clamped.layers.get('conv1_output_0')!.sqnrDb).toBeGreaterThan(35);
    expect(raw.layers.get('conv1_output_0')!.sqnrDb).toBeLessThan(clamped.layers.get('conv1_output_0')!.sqnrDb - 10);
  }, 120_000);

  it('HardSwish op: the same bound', async () => {
    const { int8, report } = await quantizeWithRanges(hardSwishCnn('HardSwish'));
    expect(convOutParams(int8).zeroPoint * convOutParams(int8).scale).toBeCloseTo(3, 1);
    expect(report.layers.find((l) => l.node === 'conv1')!.flatBelow).toBe(-3);
  }, 120_000);

  it('keeps the calibrated min when another reader needs the values below −3', async () => {
    const { int8, report } = await quantizeWithRanges(hardSwishCnn('decomposed', true));
    expect(convOutParams(int8).zeroPoint * convOutParams(int8).scale).toBeGreaterThan(40);
    expect(report.layers.find((l) => l.node === 'conv1')!.flatBelow).toBeUndefined();
  }, 120_000);
});
