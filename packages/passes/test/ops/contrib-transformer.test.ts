/**
 * onnxruntime's fused transformer ops (src/ops/contrib-transformer.ts) and the NCHWc Conv
 * (src/ops/contrib-fused.ts), each facet through the path that uses it: the attribute schema
 * (getOp; attributeProblem for the default-domain SimplifiedLayerNormalization), the shape rule
 * (inferShapes of a one-node model: onnxruntime's optimized file carries no value_info for the
 * values it made), the cost (analyzeModel: the per-element counts of the ops each one replaced,
 * its gammas, betas and biases as learnable parameters) and SimplifiedLayerNormalization's float64
 * reference against onnxruntime. Before these declarations `analyze` of onnxruntime's optimized
 * transformer said "no cost model for op 'com.microsoft::SkipLayerNormalization'" and lost every
 * shape and MAC after it. The totals over onnxruntime's own optimized files:
 * packages/runtime/test/transformer-analysis.test.ts.
 */
import { describe, expect, it } from 'vitest';
import * as ort from 'onnxruntime-node';
import { Attribute, DataType, GraphBuilder, Tensor, type Value } from '@onnxkit/graph';
import { encode } from '@onnxkit/importer';
import { inferShapes } from '../../src/analysis/index.js';
import { attributeProblem } from '../../src/common/attribute-schema.js';
import { getOp } from '../../src/ops/registry.js';
import { evaluateReference } from '../../src/reference/evaluate.js';
import { runBuilt as run } from './op-test-helpers.js';

const F = DataType.FLOAT;
const MS = { domain: 'com.microsoft' };
const vec = (name: string, b: GraphBuilder, n: number, f: (i: number) => number = (i) => 1 + i / n): Value =>
  b.constant(name, Tensor.fromArray(F, [n], Float32Array.from({ length: n }, (_, i) => f(i))));

describe("onnxruntime's fused transformer ops", () => {
  it('SkipLayerNormalization: output and input_skip_bias_sum as the input, mean and inv_std_var with the last axis 1; residual Add (+ bias Add) + LayerNormalization per element; gamma, beta, bias learnable', () => {
    expect(getOp('SkipLayerNormalization', 'com.microsoft')?.attributes).toMatchObject({ epsilon: { type: 1, default: 1e-12 } });
    const four = run((b) => {
      const n = b.node('SkipLayerNormalization', [b.input('x', F, ['B', 'S', 16]), b.input('s', F, ['B', 'S', 16]), vec('g', b, 16), vec('be', b, 16), vec('bias', b, 16)], { epsilon: Attribute.float('epsilon', 1e-5) }, { name: 'op', outputs: 4, ...MS });
      return [...n.outputs];
    });
    expect(four.shapes).toEqual([['B', 'S', 16], ['B', 'S', 1], ['B', 'S', 1], ['B', 'S', 16]]);
    
    expect(four.params).toBe(48);
    const withBias = run((b) => [b.op('SkipLayerNormalization', [b.input('x', F, [2, 5, 16]), b.input('s', F, [2, 5, 16]), vec('g', b, 16), vec('be', b, 16), vec('bias', b, 16)], {}, { name: 'op', ...MS })]);
    expect(withBias).toMatchObject({ shapes: [[2, 5, 16]], macs: 0, flops: 10 * 160, unknown: [], warnings: [] });
    // Without beta and bias (skip broadcast over the batch, as onnxruntime allows).
    const noBias = run((b) => [b.op('SkipLayerNormalization', [b.input('x', F, [2, 5, 16]), b.input('s', F, [5, 16]), vec('g', b, 16)], {}, { name: 'op', ...MS })]);
    expect(noBias).toMatchObject({ shapes: [[2, 5, 16]], macs: 0, flops: 9 * 160, params: 16, unknown: [], warnings: [] });
  });

  it('BiasGelu: the input shape; bias Add + Gelu (1 + 8) per element; the bias learnable', () => {
    expect(getOp('BiasGelu', 'com.microsoft')?.attributes).toEqual({});
    const r = run((b) => [b.op('BiasGelu', [b.input('a', F, ['S', 2, 32]), vec('bias', b, 32)], {}, { name: 'op', ...MS })]);
    expect(r).toMatchObject({ shapes: [['S', 2, 32]], params: 32 });
    const r1 = run((b) => [b.op('BiasGelu', [b.input('a', F, [3, 2, 32]), vec('bias', b, 32)], {}, { name: 'op', ...MS })]);
    expect(r1).toMatchObject({ shapes: [[3, 2, 32]], macs: 0, flops: 9 * 192, unknown: [] });
  });

  it('QuickGelu: the input shape; α·x, Sigmoid, ·x (1 + 4 + 1) per element; alpha defaults to 1.702', () => {
    expect(getOp('QuickGelu', 'com.microsoft')?.attributes).toMatchObject({ alpha: { type: 1, default: 1.702 } });
    const r = run((b) => [b.op('QuickGelu', [b.input('a', F, [4, 8, 32])], { alpha: Attribute.float('alpha', 1.702) }, { name: 'op', ...MS })]);
    expect(r).toMatchObject({ shapes: [[4, 8, 32]], macs: 0, flops: 6 * 1024, unknown: [], warnings: [] });
  });

  it('SimplifiedLayerNormalization (default domain): attributes checked, Y and inv_std_var shapes, RMSNormalization cost, scale learnable', () => {
    const b = new GraphBuilder({ opset: 17 });
    const bad = b.node('SimplifiedLayerNormalization', [b.input('x', F, [2, 3]), vec('g', b, 3)], { epsilon: 1 }, { name: 'bad' });
    b.output(bad.outputs[0]!, 'y');
    expect(attributeProblem(bad)).toMatch(/epsilon/);
    const r = run((b2) => [...b2.node('SimplifiedLayerNormalization', [b2.input('x', F, ['N', 6, 32]), vec('g', b2, 32)], { axis: -1, epsilon: Attribute.float('epsilon', 1e-6) }, { name: 'op', outputs: 2 }).outputs]);
    expect(r).toMatchObject({ shapes: [['N', 6, 32], ['N', 6, 1]], params: 32 });
    const r1 = run((b2) => [b2.op('SimplifiedLayerNormalization', [b2.input('x', F, [2, 6, 32]), vec('g', b2, 32)], {}, { name: 'op' })]);
    expect(r1).toMatchObject({ shapes: [[2, 6, 32]], macs: 0, flops: 5 * 384, unknown: [] });
  });

  it("SimplifiedLayerNormalization's float64 reference agrees with onnxruntime's kernel (axis −1 and 1)", async () => {
    for (const axis of [-1, 1]) {
      const b = new GraphBuilder({ opset: 17 });
      const x = b.input('x', F, [2, 3, 8]);
      const scaleLen = axis === -1 ? 8 : 24;
      const scale = b.constant('g', Tensor.fromArray(F, axis === -1 ? [8] : [3, 8], Float32Array.from({ length: scaleLen }, (_, i) => 0.5 + Math.sin(i))));
      b.output(b.op('SimplifiedLayerNormalization', [x, scale], { axis, epsilon: Attribute.float('epsilon', 1e-5) }), 'y');
      const m = b.build();
      const data = Float32Array.from({ length: 48 }, (_, i) => Math.cos(i * 0.7) * (1 + (i % 5)));
      const ref = evaluateReference(m, new Map([['x', Tensor.fromArray(F, [2, 3, 8], data)]])).outputs.get('y')!;
      const s = await ort.InferenceSession.create(encode(m), { graphOptimizationLevel: 'disabled', logSeverityLevel: 3 });
      const got = (await s.run({ x: new ort.Tensor('float32', data, [2, 3, 8]) })).y!.data as Float32Array;
      await s.release();
      expect(ref.dims).toEqual([2, 3, 8]);
      for (let i = 0; i < 48; i++) expect(Math.abs(got[i]! - Number(ref.data[i])), `axis ${axis} [${i}]`).toBeLessThan(1e-5 * Math.max(1, Math.abs(got[i]!)));
    }
  });

  it('inv_std_var is float32 (stash_type) for a float16 X, as onnxruntime returns it and the shape rule says', async () => {
    const H = DataType.FLOAT16;
    const b = new GraphBuilder({ opset: 17 });
    const n = b.node('SimplifiedLayerNormalization', [b.input('x', H, [2, 8]), b.constant('g', Tensor.fromNumbers(H, [8], [1, 2, 1, 2, 1, 2, 1, 2]))], {}, { name: 'op', outputs: 2 });
    b.output(n.outputs[0]!, 'y');
    b.output(n.outputs[1]!, 'inv');
    const m = b.build();
    // Half-precision bit patterns of values in ±[0.5, 1).
    const bits = Uint16Array.from({ length: 16 }, (_, i) => 0x3800 + ((i * 37) % 512) + (i % 2) * 0x8000);
    const x = Tensor.fromArray(H, [2, 8], bits);
    const s = await ort.InferenceSession.create(encode(m), { graphOptimizationLevel: 'disabled', logSeverityLevel: 3 });
    const got = await s.run({ x: new ort.Tensor('float16', bits, [2, 8]) });
    await s.release();
    expect(got.inv!.type).toBe('float32');
    const inf = inferShapes(m);
    expect(inf.typeOf(m.graph.valuesByName().get('inv')!)).toMatchObject({ elemType: DataType.FLOAT });
    const ref = evaluateReference(m, new Map([['x', x]])).outputs.get('inv')!;
    expect(ref.dtype).toBe(DataType.FLOAT);
    expect(ref.dims).toEqual([2, 1]);
    const inv = got.inv!.data as Float32Array;
    for (let i = 0; i < 2; i++) expect(Math.abs(inv[i]! - Number(ref.data[i]))).toBeLessThan(1e-3 * inv[i]!);
  });

  it("ONNX LayerNormalization's Mean and InvStdDev are float32 (stash_type) for a float16 X too, as onnxruntime returns them", async () => {
    const H = DataType.FLOAT16;
    const b = new GraphBuilder({ opset: 17 });
    const n = b.node('LayerNormalization', [b.input('x', H, [2, 8]), b.constant('g', Tensor.fromNumbers(H, [8], [1, 2, 1, 2, 1, 2, 1, 2])), b.constant('bb', Tensor.fromNumbers(H, [8], [0, 0, 0, 0, 1, 1, 1, 1]))], {}, { name: 'op', outputs: 3 });
    b.output(n.outputs[0]!, 'y');
    b.output(n.outputs[1]!, 'mean');
    b.output(n.outputs[2]!, 'inv');
    const m = b.build();
    const bits = Uint16Array.from({ length: 16 }, (_, i) => 0x3800 + ((i * 37) % 512) + (i % 2) * 0x8000);
    const s = await ort.InferenceSession.create(encode(m), { graphOptimizationLevel: 'disabled', logSeverityLevel: 3 });
    const got = await s.run({ x: new ort.Tensor('float16', bits, [2, 8]) });
    await s.release();
    const inf = inferShapes(m);
    const ref = evaluateReference(m, new Map([['x', Tensor.fromArray(H, [2, 8], bits)]])).outputs;
    for (const name of ['mean', 'inv']) {
      expect(got[name]!.type, name).toBe('float32');
      expect(inf.typeOf(m.graph.valuesByName().get(name)!), name).toMatchObject({ elemType: DataType.FLOAT });
      expect(ref.get(name)!.dtype, name).toBe(DataType.FLOAT);
      const want = got[name]!.data as Float32Array;
      for (let i = 0; i < 2; i++) expect(Math.abs(want[i]! - Number(ref.get(name)!.data[i])), `${name}[${i}]`).toBeLessThan(1e-3 * Math.max(1, Math.abs(want[i]!)));
    }
  });
});
