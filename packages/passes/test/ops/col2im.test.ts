/**
 * Col2Im (src/ops/col2im.ts): the schema through attributeProblem, the shape rule through
 * inferShapes, the cost through analyzeModel, and the float64 reference against onnxruntime-node
 * (the ONNX 1.12 corpus predates Col2Im-18).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { Attribute, AttributeType, DataType, GraphBuilder, Tensor, type AttributeInput } from '@onnxkit/graph';
import { attributeProblem } from '../../src/common/attribute-schema.js';
import { getOp } from '../../src/ops/registry.js';
import { closeWorker, f32, rnd } from '../rewrite/helpers.js';
import { inferred, layer, oneNode, referenceVsOrt } from './op-test-helpers.js';

afterAll(closeWorker);

const F = DataType.FLOAT;
const I64 = DataType.INT64;
const ints = (name: string, v: number[]) => ({ name, dtype: I64, dims: [v.length], value: Tensor.fromNumbers(I64, [v.length], v) });
const col2im = (x: (number | string)[], image: number[], block: number[], attrs: Record<string, AttributeInput> = {}) =>
  oneNode('Col2Im', [{ name: 'x', dtype: F, dims: x }, ints('image', image), ints('block', block)], attrs, 1, 18);

describe('Col2Im', () => {
  it('declares dilations, pads and strides', () => {
    expect(getOp('Col2Im')!.attributes).toMatchObject({ dilations: { type: AttributeType.INTS }, pads: { type: AttributeType.INTS }, strides: { type: AttributeType.INTS } });
    const node = [...col2im([1, 4, 9], [4, 4], [2, 2]).graph][0]!;
    expect(attributeProblem(node)).toBeUndefined();
    node.setAttribute(new Attribute('dilations', AttributeType.INTS, [0n, 1n]));
    expect(attributeProblem(node)).toMatch(/dilations.*at least 1/);
  });

  it('infers [N, C, image_shape…] from the block count, and reports a channel count that does not divide', () => {
    expect(inferred(col2im(['N', 12, 9], [4, 4], [2, 2])).shapes).toEqual([['N', 3, 4, 4]]);
    expect(inferred(col2im([1, 27, 'L'], [5, 6, 7], [1, 3, 3])).shapes).toEqual([[1, 3, 5, 6, 7]]);
    expect(inferred(col2im([1, 10, 9], [4, 4], [2, 2])).warnings.join()).toMatch(/not a multiple of ∏block_shape = 4/);
  });

  it('costs one add per input element', () => {
    const l = layer(col2im([2, 12, 9], [4, 4], [2, 2]));
    expect(l.macs).toBe(0);
    expect(l.flops).toBe(2 * 12 * 9);
  });

  it('matches onnxruntime: overlapping blocks, strides, dilations and padding', async () => {
    for (const [image, block, attrs] of [
      [[5, 5], [2, 2], {}],
      [[6, 7], [3, 2], { strides: [2, 1], pads: [1, 0, 1, 1] }],
      [[7, 6], [2, 3], { dilations: [2, 1], strides: [1, 2], pads: [0, 1, 2, 1] }],
    ] as const) {
      const count = (i: number) => Math.floor((image[i]! + ((attrs as { pads?: number[] }).pads?.[i] ?? 0) + ((attrs as { pads?: number[] }).pads?.[i + 2] ?? 0) - ((attrs as { dilations?: number[] }).dilations?.[i] ?? 1) * (block[i]! - 1) - 1) / ((attrs as { strides?: number[] }).strides?.[i] ?? 1)) + 1;
      const dims = [2, 3 * block[0] * block[1], count(0) * count(1)];
      const b = new GraphBuilder({ opset: 18 });
      b.output(b.op('Col2Im', [b.input('x', F, dims), b.int64s('image', [...image]), b.int64s('block', [...block])], attrs as Record<string, AttributeInput>, { name: 'n' }), 'y');
      const [err] = await referenceVsOrt(b.build(), new Map([['x', f32(dims, rnd(11))]]));
      expect(err, JSON.stringify(attrs)).toBeLessThanOrEqual(1);
    }
  });

  it('rejects an image shorter than a block, even when the negative block counts multiply to L', () => {
    // image 2×2, block 5×5: ⌊(2 − 5)/1⌋ + 1 = −2 blocks per axis, (−2)·(−2) = 4 = L.
    const node = [...col2im([1, 25, 4], [2, 2], [5, 5]).graph][0]!;
    const arg = (dims: number[], v: number[]) => ({ dtype: I64, dims, data: Float64Array.from(v) });
    const x = { dtype: F, dims: [1, 25, 4], data: new Float64Array(100).fill(1) };
    expect(() => getOp('Col2Im')!.reference!(node, [x, arg([2], [2, 2]), arg([2], [5, 5])], 18)).toThrow(/shorter than a block/);
  });
});
