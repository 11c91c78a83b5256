/**
 * MaxUnpool (src/ops/unpool.ts): the schema through attributeProblem, the shape rule through
 * inferShapes, the cost through analyzeModel, the float64 reference against the corpus's
 * MaxUnpool cases and against onnxruntime-node after a MaxPool with indices.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { Attribute, AttributeType, DataType, GraphBuilder, Tensor } from '@onnxkit/graph';
import { attributeProblem } from '../../src/common/attribute-schema.js';
import { getOp, sameAt13Why } from '../../src/ops/registry.js';
import { closeWorker, f32, rnd } from '../rewrite/helpers.js';
import { inferred, layer, oneNode, referenceMatchesCorpus, referenceVsOrt } from './op-test-helpers.js';

afterAll(closeWorker);

const F = DataType.FLOAT;
const I64 = DataType.INT64;
const unpool = (x: (number | string)[], attrs: Record<string, number[]>, outShape?: { value?: Tensor; dims: number[] }) =>
  oneNode('MaxUnpool', [{ name: 'x', dtype: F, dims: x }, { name: 'i', dtype: I64, dims: x }, ...(outShape ? [{ name: 'shape', dtype: I64, ...outShape }] : [])], attrs);

describe('MaxUnpool', () => {
  it('declares kernel_shape, pads and strides', () => {
    expect(getOp('MaxUnpool')!.attributes).toMatchObject({ kernel_shape: { type: AttributeType.INTS }, pads: { type: AttributeType.INTS }, strides: { type: AttributeType.INTS } });
    const node = [...unpool([1, 1, 2, 2], { kernel_shape: [2, 2], strides: [2, 2] }).graph][0]!;
    expect(attributeProblem(node)).toBeUndefined();
    node.setAttribute(new Attribute('strides', AttributeType.INTS, [0n, 2n]));
    expect(attributeProblem(node)).toMatch(/strides.*at least 1/);
  });

  it('infers (d − 1)·stride − pads + kernel per axis, or output_shape', () => {
    expect(inferred(unpool(['N', 64, 'H', 16], { kernel_shape: [2, 2], strides: [2, 2] })).shapes).toEqual([['N', 64, '2*H', 32]]);
    expect(inferred(unpool([1, 8, 5, 5], { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] })).shapes).toEqual([[1, 8, 9, 9]]);
    expect(inferred(unpool([1, 1, 2, 2], { kernel_shape: [2, 2], strides: [2, 2] }, { dims: [4], value: Tensor.fromNumbers(I64, [4], [1, 1, 5, 5]) })).shapes).toEqual([[1, 1, 5, 5]]);
    expect(inferred(unpool([1, 1, 2, 2], { kernel_shape: [2, 2], strides: [2, 2] }, { dims: [4] })).shapes).toEqual([[null, null, null, null]]);
    expect(inferred(unpool([1, 1, 2, 2], { kernel_shape: [2] })).warnings.join()).toMatch(/kernel_shape' must hold 2 values/);
    // Too low a rank is reported, with no shape (not a shape holding undefined dims).
    const flat = unpool([4], { kernel_shape: [2] });
    expect(inferred(flat)).toMatchObject({ shapes: [null], warnings: [expect.stringMatching(/X has rank 1; MaxUnpool needs/)] });
    expect(layer(flat).flops).toBe(0);
  });

  it('means at opset 13 what it means from 10 (the quantizer may raise an opset-10 model holding it)', () => {
    expect(sameAt13Why([...unpool([1, 1, 2, 2], { kernel_shape: [2, 2] }).graph][0]!, 10)).toBeUndefined();
  });

  it('costs data movement only', () => {
    const l = layer(unpool([1, 64, 16, 16], { kernel_shape: [2, 2], strides: [2, 2] }));
    expect(l.macs).toBe(0);
    expect(l.flops).toBe(0);
  });

  it('matches the ONNX backend corpus (float64 reference: output_shape pads the unpooled block at the end)', () => {
    referenceMatchesCorpus('MaxUnpool', 'test_maxunpool', 2);
  });

  it('inverts onnxruntime\'s MaxPool with indices as onnxruntime does (3×3, stride 2, padded)', async () => {
    const b = new GraphBuilder({ opset: 17 });
    const x = b.input('x', F, [2, 3, 9, 9]);
    const [pooled, ind] = b.opN('MaxPool', [x], 2, { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] });
    b.output(b.op('MaxUnpool', [pooled!, ind!], { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] }, { name: 'n' }), 'y');
    const [err] = await referenceVsOrt(b.build(), new Map([['x', f32([2, 3, 9, 9], rnd(5))]]));
    expect(err).toBeLessThanOrEqual(1);
  });
});
