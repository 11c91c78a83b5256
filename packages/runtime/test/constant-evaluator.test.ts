// The onnxruntime-backed ConstantEvaluator used by fold-constants in @onnxkit/passes.
import { describe, expect, test } from 'vitest';
import { Attribute, DataType, GraphBuilder, Tensor, type Value } from '@onnxkit/graph';
import type { ConstantEvaluator } from '@onnxkit/passes';
import { createConstantEvaluator } from '@onnxkit/runtime';

describe('createConstantEvaluator', () => {
  test('evaluates a chain of nodes on given constants and returns every named output', async () => {
    const b = new GraphBuilder();
    const x = b.input('x', DataType.FLOAT, [3]);
    const sin = b.node('Sin', [x], {}, { name: 'sin' });
    const shape = b.node('Shape', [sin.output], {}, { name: 'shape' });
    const topk = b.node('TopK', [sin.output, b.int64s('k', [2])], {}, { name: 'topk', outputs: 2 });
    b.output(topk.outputs[0]!, 'values');
    const evaluator: ConstantEvaluator = createConstantEvaluator();
    const xs = [0.5, -1, 2];
    const out = await evaluator.evaluate([sin, shape, topk], new Map<Value, Tensor>([[x, Tensor.fromNumbers(DataType.FLOAT, [3], xs)], [topk.inputs[1]!, Tensor.fromNumbers(DataType.INT64, [1], [2])]]), 17);
    const s = out.get(sin.output)!;
    expect(s.name).toBe(sin.output.name);
    [...s.toFloat64()].forEach((v, i) => expect(v).toBeCloseTo(Math.sin(xs[i]!), 6));
    expect([...(out.get(shape.output)!.toArray() as BigInt64Array)]).toEqual([3n]);
    const sorted = xs.map(Math.sin).sort((p, q) => q - p);
    [...out.get(topk.outputs[0]!)!.toFloat64()].forEach((v, i) => expect(v).toBeCloseTo(sorted[i]!, 6));
    expect([...(out.get(topk.outputs[1]!)!.toArray() as BigInt64Array)]).toEqual([2n, 0n]);
  });

  test('declines (empty map, reason reported) instead of throwing', async () => {
    const reasons: string[] = [];
    const ev = createConstantEvaluator({ onDecline: (r) => reasons.push(r) });
    const b = new GraphBuilder();
    const x = b.input('x', DataType.FLOAT, [1]);
    const custom = b.node('Mystery', [x], {}, { domain: 'com.example' });
    expect((await ev.evaluate([custom], new Map([[x, Tensor.fromNumbers(DataType.FLOAT, [1], [1])]]), 17)).size).toBe(0);
    expect(reasons[0]).toMatch(/Mystery/);
    const relu = b.node('Relu', [x]);
    expect((await ev.evaluate([relu], new Map(), 17)).size).toBe(0);
    expect(reasons[1]).toMatch(/input 'x' of Relu node .* is neither given nor computed/);
    const cond = b.input('c', DataType.BOOL, []);
    const branch = new GraphBuilder({ name: 'then' });
    branch.output(branch.op('Identity', [branch.floats('one', [1], [1])]), 'r');
    const iff = b.node('If', [cond], { then_branch: Attribute.graph('then_branch', branch.graph), else_branch: Attribute.graph('else_branch', branch.graph) });
    expect((await ev.evaluate([iff], new Map([[cond, Tensor.fromNumbers(DataType.BOOL, [], [1])]]), 17)).size).toBe(0);
    expect(reasons[2]).toMatch(/subgraphs/);
  });
});
