// The float64 reference engine on tiny graphs: float64 (not float32) arithmetic, liveness frees,
// the memory limit, unsupported ops and domains named, extra outputs, int64 kept exact.
import { describe, expect, test } from 'vitest';
import { DataType, GraphBuilder, Tensor } from '@onnxkit/graph';
import { evaluateReference, findUnsupportedNode, ReferenceMemoryError, ReferenceUnsupportedError, REFERENCE_OPS } from '@onnxkit/passes';

function chain(n: number) {
  const b = new GraphBuilder({ name: 'chain' });
  let x = b.input('x', DataType.FLOAT, [1024]);
  for (let i = 0; i < n; i++) x = b.op('Add', [x, b.floats(`c${i}`, [1], [0.1])], {}, { name: `add${i}` });
  b.output(x, 'y');
  return b.build();
}

const feeds = (n = 1024) => new Map([['x', Tensor.fromArray(DataType.FLOAT, [n], new Float32Array(n).fill(1))]]);

describe('evaluateReference', () => {
  test('computes in float64: ten additions of 0.1 (a float32 constant) without float32 rounding', () => {
    const r = evaluateReference(chain(10), feeds());
    const y = r.outputs.get('y')!;
    expect(y.dims).toEqual([1024]);
    // 0.1 as float32 widened exactly, summed in float64.
    expect((y.data as Float64Array)[0]).toBeCloseTo(1 + 10 * Math.fround(0.1), 14);
    expect((y.data as Float64Array)[0]).not.toBe(Math.fround(1 + 10 * Math.fround(0.1)));
  });

  test('frees each intermediate after its last use: peak stays at a few tensors, not the chain length', () => {
    const r = evaluateReference(chain(50), feeds());
    // Input + current + next + constants: far less than 50 intermediates of 8 KiB each.
    expect(r.peakBytes).toBeLessThan(5 * 1024 * 8);
  });

  test('extra outputs keep and return intermediates by name (and all of them with "all")', () => {
    const m = chain(5);
    const name = m.graph.nodes[2]!.outputs[0]!.name;
    const r = evaluateReference(m, feeds(), { extraOutputs: [name] });
    expect((r.extra.get(name)!.data as Float64Array)[0]).toBeCloseTo(1 + 3 * Math.fround(0.1), 14);
    const all = evaluateReference(m, feeds(), { extraOutputs: 'all' });
    expect(all.extra.size).toBe(5);
  });

  test('Clip with min > max is max everywhere, and Pow(1, NaN) = Pow(−1, inf) = 1, as onnxruntime computes them', () => {
    const b = new GraphBuilder({ name: 'edges' });
    const x = b.input('x', DataType.FLOAT, [3]);
    b.output(b.op('Clip', [x, b.floats('lo', [], [2]), b.floats('hi', [], [1])]), 'clip');
    b.output(b.op('Pow', [b.floats('base', [3], [1, -1, 2]), x]), 'pow');
    const r = evaluateReference(b.build(), new Map([['x', Tensor.fromArray(DataType.FLOAT, [3], new Float32Array([-1, Infinity, NaN]))]]));
    expect([...(r.outputs.get('clip')!.data as Float64Array)]).toEqual([1, 1, NaN]);
    expect([...(r.outputs.get('pow')!.data as Float64Array)]).toEqual([1, 1, NaN]);
  });

  test('an opset 7–13 BatchNormalization declaring its statistics outputs is training mode: unsupported, not evaluated as inference', () => {
    const build = (opset: number, outputs: number) => {
      const b = new GraphBuilder({ name: 'bn', opset });
      const x = b.input('x', DataType.FLOAT, [2, 2, 3, 3]);
      const p = (n: string, v: number) => b.floats(n, [2], [v, v]);
      const outs = b.opN('BatchNormalization', [x, p('s', 1), p('b', 0), p('m', 0), p('v', 1)], outputs, {}, { name: 'bn' });
      b.output(outs[0]!, 'y');
      return b.build();
    };
    const feed = new Map([['x', Tensor.fromArray(DataType.FLOAT, [2, 2, 3, 3], new Float32Array(36).fill(1))]]);
    expect(() => evaluateReference(build(9, 5), feed)).toThrow(ReferenceUnsupportedError);
    expect(() => evaluateReference(build(9, 1), feed)).not.toThrow();
    expect(() => evaluateReference(build(15, 3), feed)).not.toThrow();
  });

  test('the memory limit raises ReferenceMemoryError naming the node and tensor', () => {
    const m = chain(3);
    let err: unknown;
    try {
      evaluateReference(m, feeds(), { memoryLimitBytes: 12 * 1024 });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ReferenceMemoryError);
    expect((err as ReferenceMemoryError).node).toMatch(/Add 'add\d'/);
    expect((err as ReferenceMemoryError).message).toMatch(/output '.+' needs 8192 bytes/);
  });

  test('an op without a kernel, or a custom domain, is named and never guessed', () => {
    const b = new GraphBuilder({ name: 'u', opsets: { 'com.example': 1 } });
    const x = b.input('x', DataType.FLOAT, [4]);
    const y = b.op('Relu', [x]);
    b.output(b.op('LpNormalization', [y], { axis: 0 }, { name: 'lp' }), 'y');
    const m = b.build();
    expect(findUnsupportedNode(m)).toMatchObject({ op: 'LpNormalization' });
    expect(() => evaluateReference(m, feeds(4))).toThrow(ReferenceUnsupportedError);
    expect(() => evaluateReference(m, feeds(4))).toThrow(/LpNormalization 'lp'.*no reference kernel for LpNormalization/);

    const c = new GraphBuilder({ name: 'c', opsets: { 'com.example': 1 } });
    const cx = c.input('x', DataType.FLOAT, [4]);
    c.output(c.op('Relu', [cx], {}, { domain: 'com.example', name: 'mine' }), 'y');
    expect(() => evaluateReference(c.build(), feeds(4))).toThrow(/custom domain 'com.example'/);

    // A random op says why it has none (its `nondeterministic` facet).
    const r = new GraphBuilder({ name: 'r', opset: 17 });
    const rx = r.input('x', DataType.FLOAT, [4]);
    r.output(r.op('Add', [rx, r.op('RandomNormalLike', [rx], {}, { name: 'noise' })]), 'y');
    expect(() => evaluateReference(r.build(), feeds(4))).toThrow(/RandomNormalLike 'noise'.*no reference kernel for RandomNormalLike: its output is random \(nondeterministic\)/);
  });

  test('ConvTranspose auto_pad SAME with kernel < stride: the unpadded full extent, as onnxruntime', () => {
    // in 3, k 2, s 3: in·s = 9 would need padding −1; onnxruntime gives the 8 outputs of no padding.
    const b = new GraphBuilder({ name: 'ct' });
    const x = b.input('x', DataType.FLOAT, [1, 1, 3]);
    const wt = b.constant('w', Tensor.fromNumbers(DataType.FLOAT, [1, 1, 2], [1, 10]));
    b.output(b.op('ConvTranspose', [x, wt], { strides: [3], auto_pad: 'SAME_UPPER' }), 'y');
    const r = evaluateReference(b.build(), new Map([['x', Tensor.fromNumbers(DataType.FLOAT, [1, 1, 3], [1, 2, 3])]]));
    const y = r.outputs.get('y')!;
    expect(y.dims).toEqual([1, 1, 8]);
    expect([...(y.data as Float64Array)]).toEqual([1, 10, 0, 2, 20, 0, 3, 30]);
  });

  test('int64 shape arithmetic stays exact bigint', () => {
    const b = new GraphBuilder({ name: 'i64' });
    const x = b.input('x', DataType.INT64, [2]);
    const big = b.constant('big', Tensor.fromNumbers(DataType.INT64, [2], [2n ** 60n, 1n]));
    b.output(b.op('Add', [x, big]), 'y');
    const r = evaluateReference(b.build(), new Map([['x', Tensor.fromNumbers(DataType.INT64, [2], [3n, 4n])]]));
    expect([...(r.outputs.get('y')!.data as BigInt64Array)]).toEqual([2n ** 60n + 3n, 5n]);
  });

  test('covers the ops the zoo, fixtures, torchvision CNNs and transformers use', () => {
    for (const op of ['Conv', 'ConvTranspose', 'Gemm', 'MatMul', 'BatchNormalization', 'MaxPool', 'AveragePool', 'GlobalAveragePool', 'Relu', 'Erf', 'Gelu', 'HardSigmoid', 'HardSwish', 'Softmax', 'LayerNormalization', 'Reshape', 'Concat', 'Split', 'Slice', 'Gather', 'Transpose', 'Resize', 'ReduceMean', 'Einsum', 'Where', 'Cast']) {
      expect(REFERENCE_OPS).toContain(op);
    }
  });
});
