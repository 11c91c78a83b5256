// The quantizer's per-channel weight axis comes from the ops' `int8WeightAxis` facet (ops/), not
// from a copy of its own: with the facet answering otherwise, the plan follows it.
import { DataType, GraphBuilder, Tensor } from '@onnxkit/graph';
import { describe, expect, it, vi } from 'vitest';
import type * as Registry from '../../src/ops/registry.js';
import { planQdq } from '../../src/quantize/qdq.js';

vi.mock('../../src/ops/registry.js', async (importOriginal) => {
  const real = await importOriginal<typeof Registry>();
  // Conv's weight declared per tensor, Gemm's on axis 0 whatever transB says.
  return { ...real, int8WeightAxis: (node: { opType: string }, input: number, rank: number) => (node.opType === 'Conv' ? undefined : node.opType === 'Gemm' ? 0 : real.int8WeightAxis(node as never, input, rank)) };
});

const f32 = (dims: number[]): Tensor => Tensor.fromArray(DataType.FLOAT, dims, Float32Array.from({ length: dims.reduce((a, d) => a * d, 1) }, (_, i) => Math.sin(i)));

describe('planQdq weight axes', () => {
  it('reads each op’s int8WeightAxis facet', () => {
    const b = new GraphBuilder({ opset: 17 });
    const x = b.input('x', DataType.FLOAT, [1, 2, 4, 4]);
    const c = b.op('Conv', [x, b.constant('w', f32([3, 2, 1, 1]))], {}, { name: 'conv' });
    const f = b.op('Flatten', [c], {}, { name: 'flat' });
    const g = b.op('Gemm', [f, b.constant('wg', f32([48, 5]))], {}, { name: 'fc' });
    b.output(b.op('MatMul', [g, b.constant('wm', f32([5, 2]))], {}, { name: 'mm' }), 'y');
    const axes = Object.fromEntries(planQdq(b.build()).nodes.filter((p) => p.weight).map((p) => [p.node.name, p.weight!.axis]));
    expect(axes).toEqual({ conv: -1, fc: 0, mm: 1 });
  });
});
