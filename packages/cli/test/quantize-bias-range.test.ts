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
