import { Attribute, DataType, GraphBuilder, cloneModel, type Model, type Value } from '@onnxkit/graph';
import { compareOutputs } from '@onnxkit/runtime';
import type { QuantizedTensorReport } from '@onnxkit/passes';
import { afterAll, describe, expect, it } from 'vitest';
import { closeWorker, countOps, f32, inputsFor, ortRun, rnd, runPass, runTwice } from './helpers.js';

afterAll(closeWorker);

/** Conv → Relu → Conv → GlobalAveragePool → Flatten → Gemm, He-style weights. */
function cnn(opset = 17, extra?: (b: GraphBuilder, v: Value) => Value): Model {
  const b = new GraphBuilder({ opset });
  const x = b.input('x', DataType.FLOAT, [1, 3, 16, 16]);
  const r = rnd(17);
  const he = (fan: number) => () => r(0) * Math.sqrt(6 / fan);
  let y = b.op('Conv', [x, b.constant('conv1.weight', f32([16, 3, 3, 3], he(27))), b.constant('conv1.bias', f32([16], () => 0.01))], { pads: [1, 1, 1, 1] });
  y = b.op('Relu', [y]);
  y = b.op('Conv', [y, b.constant('conv2.weight', f32([32, 16, 3, 3], he(144))), b.constant('conv2.bias', f32([32], () => 0.02))], { pads: [1, 1, 1, 1], strides: [2, 2] });
  y = b.op('Relu', [y]);
  if (extra) y = extra(b, y);
  y = b.op('Flatten', [b.op('GlobalAveragePool', [y])]);
  y = b.op('Gemm', [y, b.constant('fc.weight', f32([10, 32], he(32))), b.constant('fc.bias', f32([10], () => 0))], { transB: 1 });
  b.output(y, 'logits');
  return b.build();
}

/** Runs the original and the compressed model on the same seeded inputs; returns the comparison. */
async function errorOf(original: Model, compressed: Model) {
  const feeds = await inputsFor(original, 3);
  const a = await ortRun(original, feeds);
  const b = await ortRun(compressed, feeds);
  return compareOutputs(a, b).outputs[0]!;
}

describe('fp16-weights (approximate: reports error instead of claiming equivalence)', () => {
  it('halves the weight bytes with a Cast per weight; outputs stay close', async () => {
    const m = cnn();
    const c = cloneModel(m);
    const r = await runTwice('fp16-weights', c, { minElements: 64 });
    expect(r.metrics['converted']).toBe(3);
    expect(r.metrics['bytesSaved']).toBe((16 * 27 + 32 * 144 + 320) * 2);
    expect(r.bytesDelta).toBe(-(16 * 27 + 32 * 144 + 320) * 2);
    expect(countOps(c, 'Cast')).toBe(3);
    expect(c.graph.initializers.get('conv1.weight_fp16')!.constValue!.dtype).toBe(DataType.FLOAT16);
    expect(r.metrics['maxRelError'] as number).toBeLessThanOrEqual(2 ** -11);
    const cmp = await errorOf(m, c);
    expect(cmp.dtypeB).toBe('float');
    expect(cmp.cosine).toBeGreaterThan(0.99999);
    expect(cmp.maxRelError).toBeLessThan(1e-2);
    // It is not bit-exact: this is an approximation, reported as such.
    expect(cmp.maxAbsError).toBeGreaterThan(0);
  });

  it('skips tiny tensors, exact-valued inputs and out-of-range values', async () => {
    const b = new GraphBuilder();
    const x = b.input('x', DataType.FLOAT, [1, 1, 4, 4]);
    const scales = b.constant('scales', f32([4], (i) => (i < 2 ? 1 : 2)));
    const up = b.op('Resize', [x, null, scales], { mode: 'nearest' });
    const w = b.constant('big', f32([1, 1, 3, 3], (i) => (i === 4 ? 1e6 : 0.1)));
    b.output(b.op('Conv', [up, w]), 'y');
    b.output(b.op('Add', [x, b.constant('tiny', f32([1], () => 0.5))]), 'z');
    const m = b.build();
    const r = await runPass('fp16-weights', m, { minElements: 4 });
    expect(r.modified).toBe(false);
    expect(r.rejected['consumer-needs-exact-values']).toBe(1);
    expect(r.rejected['out-of-fp16-range']).toBe(1);
    expect(r.rejected['too-small']).toBe(1);
    // The decline of an exact-valued input names its reader.
    expect(r.declined.find((d) => d.reason === 'consumer-needs-exact-values')?.opType).toBe('Resize');
  });

  it('out of the float16 range means "would be stored as ±inf": below 65520 a value rounds to at most 65504', async () => {
    const weight = (big: number) => {
      const b = new GraphBuilder();
      const x = b.input('x', DataType.FLOAT, [1, 1, 4, 4]);
      b.output(b.op('Conv', [x, b.constant('w', f32([1, 1, 3, 3], (i) => (i === 4 ? big : 0.1)))]), 'y');
      return b.build();
    };
    const m = weight(65510);
    const fits = await runPass('fp16-weights', m, { minElements: 4 });
    expect(fits.changes).toBe(1);
    expect(m.graph.initializers.get('w_fp16')!.constValue!.toFloat64()[4]).toBe(65504);
    expect((await runPass('fp16-weights', weight(65519.99), { minElements: 4 })).changes).toBe(1);
    expect((await runPass('fp16-weights', weight(65520), { minElements: 4 })).rejected).toEqual({ 'out-of-fp16-range': 1 });
    expect((await runPass('fp16-weights', weight(Number.NaN), { minElements: 4 })).rejected).toEqual({ 'out-of-fp16-range': 1 });
  });
});

describe('quantize-weights-int8 (approximate)', () => {
  it('stores per-output-channel int8 weights with DequantizeLinear(axis): 4× smaller, bounded error', async () => {
    const m = cnn();
    const c = cloneModel(m);
    const r = await runTwice('quantize-weights-int8', c, { minElements: 64 });
    const tensors = r.metrics['tensors'] as QuantizedTensorReport[];
    expect(tensors.map((t) => [t.name, t.axis])).toEqual([
      ['conv1.weight', 0],
      ['conv2.weight', 0],
      ['fc.weight', 0],
    ]);
    expect(countOps(c, 'DequantizeLinear')).toBe(3);
    const dq = c.graph.nodes.find((n) => n.opType === 'DequantizeLinear')!;
    expect(dq.inputs[0]!.constValue!.dtype).toBe(DataType.INT8);
    for (const t of tensors) {
      // int8 data (1 byte per weight) + a float32 scale and an int8 zero point per channel.
      const size = t.bytesBefore / 4;
      const channels = t.name === 'fc.weight' ? 10 : t.name === 'conv1.weight' ? 16 : 32;
      expect(t.bytesAfter).toBe(size + 5 * channels);
      expect(t.cosine).toBeGreaterThan(0.999);
      expect(t.relativeError).toBeLessThan(0.02);
    }
    // |w − ŵ| ≤ scale/2 for every element, scale = max|w_c|/127.
    const w = m.graph.initializers.get('conv2.weight')!.constValue!.toFloat64();
    let maxW = 0;
    for (const v of w) maxW = Math.max(maxW, Math.abs(v));
    expect(tensors[1]!.maxAbsError).toBeLessThanOrEqual(maxW / 127 / 2 + 1e-9);
    const cmp = await errorOf(m, c);
    expect(cmp.cosine).toBeGreaterThan(0.999);
  });

  it('uses axis 1 for a MatMul [K, N] weight and declines other consumers and old opsets', async () => {
    const b = new GraphBuilder({ opset: 17 });
    const x = b.input('x', DataType.FLOAT, [2, 32]);
    const w = b.constant('w', f32([32, 16], rnd(3)));
    b.output(b.op('MatMul', [x, w]), 'y');
    b.output(b.op('Add', [x, b.constant('addend', f32([4, 32], rnd(4)))]), 'z');
    const m = b.build();
    const r = await runPass('quantize-weights-int8', m, { minElements: 64 });
    expect((r.metrics['tensors'] as QuantizedTensorReport[]).map((t) => t.axis)).toEqual([1]);
    expect(r.rejected['consumer-not-weight']).toBe(1);
    const r2 = await runPass('quantize-weights-int8', cnn(11));
    expect(r2.rejected['opset-too-old']).toBe(1);
    expect(r2.modified).toBe(false);
  });
});

describe('convert-fp16 (approximate)', () => {
  it('runs the body in float16 with float32 graph inputs/outputs; outputs stay close', async () => {
    const m = cnn();
    const c = cloneModel(m);
    const r = await runTwice('convert-fp16', c);
    expect(r.metrics['convertedWeights']).toBe(6);
    expect(c.graph.inputs[0]!.dtype).toBe(DataType.FLOAT);
    expect(c.graph.outputs[0]!.dtype).toBe(DataType.FLOAT);
    expect(c.graph.outputs[0]!.name).toBe('logits');
    expect(c.graph.initializers.get('conv1.weight')!.constValue!.dtype).toBe(DataType.FLOAT16);
    expect(countOps(c, 'Cast')).toBe(2);
    expect(r.bytesDelta).toBeLessThan(0);
    const cmp = await errorOf(m, c);
    expect(cmp.dtypeB).toBe('float');
    expect(cmp.cosine).toBeGreaterThan(0.9999);
    expect(cmp.maxRelError).toBeLessThan(0.05);
  });

  it('keeps ops not declared float16-safe (float-only schemas) in float32 between Casts', async () => {
    const m = cnn(17, (b, v) => b.op('Celu', [v], { alpha: Attribute.float('alpha', 1.5) }, { name: 'celu' }));
    const c = cloneModel(m);
    const r = await runTwice('convert-fp16', c);
    // not declared fp16-safe is its own reason, not 'blocked-op' (the user's block list)
    expect(r.rejected['not-fp16-safe']).toBe(1);
    expect(r.rejected['blocked-op']).toBeUndefined();
    const celu = c.graph.nodes.find((n) => n.name === 'celu')!;
    expect(celu.inputs[0]!.producer!.opType).toBe('Cast');
    expect(celu.inputs[0]!.producer!.getInt('to')).toBe(DataType.FLOAT);
    expect(celu.outputs[0]!.uses[0]!.node.opType).toBe('Cast');
    const cmp = await errorOf(m, c);
    expect(cmp.cosine).toBeGreaterThan(0.9999);
  });

  it("reports the ops of the user's block list as blocked-op", async () => {
    const c = cnn();
    const r = await runTwice('convert-fp16', c, { block: ['Relu'] });
    expect(r.rejected['blocked-op']).toBe(2);
    expect(r.rejected['not-fp16-safe']).toBeUndefined();
  });

  it('keeps float16 graph outputs when keepIoTypes is false', async () => {
    const c = cnn();
    await runPass('convert-fp16', c, { keepIoTypes: false });
    expect(countOps(c, 'Cast')).toBe(1);
    const feeds = await inputsFor(c, 3);
    const out = await ortRun(c, feeds);
    expect(out.get('logits')!.dtype).toBe(DataType.FLOAT16);
  });
});
