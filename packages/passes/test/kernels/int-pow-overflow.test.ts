// Integer Pow as onnxruntime computes it (issue 13): an int32 power that overflows was folded
// to a value wrapped modulo 2^32, which onnxruntime never produces (it casts a float64 power:
// T's minimum on x86). In-range powers equal onnxruntime's, including int64 powers beyond 2^53
// (rounded once through float64); out-of-range ones are not computed, so folding leaves them
// to the runtime.
import { describe, expect, it } from 'vitest';
import { DataType, GraphBuilder, Tensor } from '@onnxkit/graph';
import { encode } from '@onnxkit/importer';
import { evaluateNode } from '../../src/kernels/index.js';
import { KernelError } from '../../src/kernels/errors.js';
import { runOrt } from './ort.js';

function tensor(t: DataType, xs: number[]): Tensor {
  return t === DataType.INT64 ? Tensor.fromArray(t, [xs.length], BigInt64Array.from(xs.map(BigInt))) : t === DataType.FLOAT ? Tensor.fromArray(t, [xs.length], Float32Array.from(xs)) : Tensor.fromArray(t, [xs.length], Int32Array.from(xs));
}

function powModel(base: DataType, exp: DataType, n: number) {
  const b = new GraphBuilder({ name: 'pow', opset: 17 });
  const node = b.node('Pow', [b.input('a', base, [n]), b.input('e', exp, [n])], {}, { outputs: ['y'] });
  b.output(node.output, 'y');
  return { model: b.build(), node };
}

describe('integer Pow', () => {
  it.each([
    [DataType.INT32, DataType.INT32, [3, -3, 2, 46340, 0, -1, 5], [19, 19, 30, 2, 0, 7, -1]],
    [DataType.INT64, DataType.INT64, [3, 3, -3, 2, 7], [39, 35, 35, 62, 12]],
    [DataType.INT32, DataType.FLOAT, [3, 2, 10], [2, 30, 9]],
  ] as const)('in range: equal to onnxruntime (%s ^ %s)', async (bt, et, a, e) => {
    const { model, node } = powModel(bt, et, a.length);
    const feeds = { a: tensor(bt, [...a]), e: tensor(et, [...e]) };
    const got = evaluateNode(node, [feeds.a, feeds.e], 17)![0]!;
    const want = (await runOrt(encode(model), feeds)).y!;
    expect(Array.from(got.toArray() as ArrayLike<number | bigint>, String)).toEqual(Array.from(want.toArray() as ArrayLike<number | bigint>, String));
  });

  it.each([
    [DataType.INT32, DataType.INT32, [7], [12]],
    [DataType.INT32, DataType.INT32, [46341], [2]],
    [DataType.INT32, DataType.INT32, [2], [31]],
    [DataType.INT32, DataType.INT64, [3], [40]],
    [DataType.INT64, DataType.INT64, [3], [40]],
    [DataType.INT32, DataType.INT32, [0], [-1]],
    [DataType.INT32, DataType.FLOAT, [2], [40]],
  ] as const)('out of range: not computed (%s ^ %s, %s ^ %s)', (bt, et, a, e) => {
    const { node } = powModel(bt, et, a.length);
    expect(() => evaluateNode(node, [tensor(bt, [...a]), tensor(et, [...e])], 17)).toThrow(KernelError);
    expect(() => evaluateNode(node, [tensor(bt, [...a]), tensor(et, [...e])], 17)).toThrow(/outside the int(32|64) range/);
  });
});
