/**
 * DeformConv (src/ops/deform-conv.ts): the schema through attributeProblem, the shape rule
 * through inferShapes, the cost (weights, bias, MACs) through analyzeModel, and the float64
 * reference against onnxruntime-node (the ONNX 1.12 corpus predates DeformConv-19).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { Attribute, AttributeType, DataType, GraphBuilder, type AttributeInput } from '@onnxkit/graph';
import { attributeProblem } from '../../src/common/attribute-schema.js';
import { ReferenceInputError } from '../../src/kernels/reference/errors.js';
import { getOp } from '../../src/ops/registry.js';
import { closeWorker, f32, rnd } from '../rewrite/helpers.js';
import { inferred, layer, oneNode, referenceVsOrt } from './op-test-helpers.js';

afterAll(closeWorker);

const F = DataType.FLOAT;
const deform = (x: (number | string)[], w: number[], off: (number | string)[], attrs: Record<string, AttributeInput> = {}, withBias = false, mask?: (number | string)[]) =>
  oneNode('DeformConv', [
    { name: 'x', dtype: F, dims: x },
    { name: 'w', dtype: F, dims: w, value: f32(w, rnd(1)) },
    { name: 'offset', dtype: F, dims: off },
    ...(withBias ? [{ name: 'b', dtype: F, dims: [w[0]!], value: f32([w[0]!], rnd(2)) }] : mask ? (['' as const]) : []),
    ...(mask ? [{ name: 'mask', dtype: F, dims: mask }] : []),
  ], attrs, 1, 19);

describe('DeformConv', () => {
  it('declares Conv\'s attributes (without auto_pad) and offset_group', () => {
    expect(getOp('DeformConv')!.attributes).toMatchObject({ group: { type: AttributeType.INT, default: 1 }, offset_group: { type: AttributeType.INT, default: 1 }, kernel_shape: { type: AttributeType.INTS } });
    const node = [...deform([1, 4, 8, 8], [6, 4, 3, 3], [1, 18, 6, 6]).graph][0]!;
    expect(attributeProblem(node)).toBeUndefined();
    node.setAttribute(new Attribute('offset_group', AttributeType.INT, 0n));
    expect(attributeProblem(node)).toMatch(/offset_group.*at least 1/);
  });

  it('infers Conv\'s output shape and reports a channel mismatch', () => {
    expect(inferred(deform(['N', 4, 8, 8], [6, 4, 3, 3], ['N', 18, 6, 6])).shapes).toEqual([['N', 6, 6, 6]]);
    expect(inferred(deform([1, 4, 9, 9], [6, 2, 3, 3], [1, 18, 5, 5], { strides: [2, 2], pads: [1, 1, 1, 1], group: 2 })).shapes).toEqual([[1, 6, 5, 5]]);
    expect(inferred(deform([1, 5, 8, 8], [6, 4, 3, 3], [1, 18, 6, 6])).warnings.join()).toMatch(/input has 5 channels but the weight expects 4/);
  });

  it('is Conv\'s rule fixed to 2-D: rank 4 with unknown dims when X and W have no shape (Conv infers none), a mismatch for another rank', () => {
    const unshaped = (op: string) => {
      const b = new GraphBuilder({ opset: 19 });
      const ins = [b.input('x', F, null), b.input('w', F, null), ...(op === 'DeformConv' ? [b.input('offset', F, null)] : [])];
      b.output(b.op(op, ins, {}, { name: 'n' }), 'y0');
      return inferred(b.build());
    };
    expect(unshaped('DeformConv').shapes).toEqual([[null, null, null, null]]);
    expect(unshaped('Conv').shapes).toEqual([null]);
    for (const [x, w] of [[[1, 4, 8], [6, 4, 3, 3]], [[1, 4, 8, 8], [6, 4, 3, 3, 3]]]) {
      const bad = inferred(deform(x!, w!, [1, 18, 6, 6]));
      expect(bad.shapes).toEqual([null]);
      expect(bad.warnings.join()).toMatch(/DeformConv is 2-D: X and W must have rank 4/);
    }
  });

  it('takes the reference\'s geometry from Conv\'s: a negative output size and a kernel_shape other than W\'s are input errors', () => {
    const run = (attrs: Record<string, AttributeInput>, x: number[], w: number[], off: number[]) => {
      const node = [...deform(x, w, off, attrs).graph][0]!;
      const t = (dims: number[]) => ({ dtype: F, dims, data: new Float64Array(dims.reduce((a, b) => a * b, 1)) });
      return () => getOp('DeformConv')!.reference!(node, [t(x), t(w), t(off)], 19);
    };
    expect(run({}, [1, 1, 1, 1], [1, 1, 3, 3], [1, 18, 1, 1])).toThrow(ReferenceInputError);
    expect(run({}, [1, 1, 1, 1], [1, 1, 3, 3], [1, 18, 1, 1])).toThrow(/negative size/);
    expect(run({ kernel_shape: [2, 2] }, [1, 1, 4, 4], [1, 1, 3, 3], [1, 18, 2, 2])).toThrow(/kernel_shape \[2,2\] is not W's \[3,3\]/);
    expect(run({ strides: [2, 2], pads: [1, 1, 1, 1] }, [1, 1, 4, 4], [1, 1, 3, 3], [1, 18, 2, 2])()[0]!.dims).toEqual([1, 1, 2, 2]);
  });

  it('counts the weight, the bias, Conv\'s MACs and 4 per bilinear sample (a mask folded into the bilinear weights)', () => {
    const plain = layer(deform([2, 4, 8, 8], [6, 4, 3, 3], [2, 18, 6, 6], {}, true));
    expect(plain.weightParams).toBe(6 * 4 * 9);
    expect(plain.params).toBe(6 * 4 * 9 + 6);
    // Conv 2·6·36·4·9 = 15552, sampling 4·(2·4·36·9) = 10368.
    expect(plain.macs).toBe(2 * 36 * 9 * 4 * (6 + 4));
    expect(plain.flops).toBe(2 * plain.macs! + 2 * 6 * 36);
    expect(layer(deform([2, 4, 8, 8], [6, 2, 3, 3], [2, 18, 6, 6], { group: 2 }, false, [2, 9, 6, 6])).macs).toBe(2 * 36 * 9 * 4 * (3 + 4));
  });

  it('matches onnxruntime: offsets past the edges, groups, offset groups, a mask, strides, dilations and padding', async () => {
    const cases: [string, number[], Record<string, AttributeInput>, boolean, boolean][] = [
      ['plain', [5, 3, 3, 3], {}, false, false],
      ['bias, mask, stride, pads', [4, 3, 2, 3], { strides: [2, 1], pads: [1, 0, 1, 2], kernel_shape: [2, 3] }, true, true],
      ['groups, offset groups, dilation', [6, 1, 3, 3], { group: 3, offset_group: 3, dilations: [2, 1] }, true, false],
    ];
    for (const [label, w, attrs, withBias, withMask] of cases) {
      const og = (attrs['offset_group'] as number | undefined) ?? 1;
      const [kh, kw] = [w[2]!, w[3]!];
      const st = (attrs['strides'] as number[] | undefined) ?? [1, 1];
      const dl = (attrs['dilations'] as number[] | undefined) ?? [1, 1];
      const pd = (attrs['pads'] as number[] | undefined) ?? [0, 0, 0, 0];
      const oh = Math.floor((7 + pd[0]! + pd[2]! - dl[0]! * (kh - 1) - 1) / st[0]!) + 1;
      const ow = Math.floor((8 + pd[1]! + pd[3]! - dl[1]! * (kw - 1) - 1) / st[1]!) + 1;
      const b = new GraphBuilder({ opset: 19 });
      const ins = [b.input('x', F, [2, 3, 7, 8]), b.constant('w', f32(w, rnd(3))), b.input('offset', F, [2, og * 2 * kh * kw, oh, ow]), withBias ? b.constant('b', f32([w[0]!], rnd(4))) : null, withMask ? b.input('mask', F, [2, og * kh * kw, oh, ow]) : null];
      b.output(b.op('DeformConv', ins, attrs, { name: 'n' }), 'y');
      const offsets = f32([2, og * 2 * kh * kw, oh, ow], (i) => 3 * rnd(5 + i)(0));
      const feeds = new Map([['x', f32([2, 3, 7, 8], rnd(6))], ['offset', offsets]]);
      if (withMask) feeds.set('mask', f32([2, og * kh * kw, oh, ow], rnd(8)));
      const [err] = await referenceVsOrt(b.build(), feeds);
      expect(err, label).toBeLessThanOrEqual(1);
    }
  });
});
