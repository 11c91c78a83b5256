/**
 * RoiAlign and MaxRoiPool (src/ops/roi-pool.ts): the schema through attributeProblem, the shape
 * rule through inferShapes, the cost through analyzeModel, and the float64 reference against the
 * corpus's RoiAlign cases and against onnxruntime-node on forms the corpus lacks (RoiAlign's max
 * mode and adaptive sampling, MaxRoiPool).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { Attribute, AttributeType, DataType, GraphBuilder, Tensor, type AttributeInput } from '@onnxkit/graph';
import { attributeProblem } from '../../src/common/attribute-schema.js';
import { getOp, sameAt13Why, undeclaredFacet } from '../../src/ops/registry.js';
import { closeWorker, f32, rnd } from '../rewrite/helpers.js';
import { inferred, layer, oneNode, referenceMatchesCorpus, referenceVsOrt } from './op-test-helpers.js';

afterAll(closeWorker);

const F = DataType.FLOAT;
const I64 = DataType.INT64;

const roiAlign = (x: (number | string)[], r: number | string, attrs: Record<string, AttributeInput> = {}, opset = 16) =>
  oneNode('RoiAlign', [{ name: 'x', dtype: F, dims: x }, { name: 'rois', dtype: F, dims: [r, 4] }, { name: 'idx', dtype: I64, dims: [r] }], attrs, 1, opset);
const maxRoiPool = (x: (number | string)[], r: number | string, attrs: Record<string, AttributeInput> = { pooled_shape: [3, 3] }) =>
  oneNode('MaxRoiPool', [{ name: 'x', dtype: F, dims: x }, { name: 'rois', dtype: F, dims: [r, 5] }], attrs);

describe('RoiAlign', () => {
  it('declares its opset-16 attributes with their defaults', () => {
    expect(getOp('RoiAlign')!.attributes).toMatchObject({
      coordinate_transformation_mode: { type: AttributeType.STRING, default: 'half_pixel' },
      mode: { type: AttributeType.STRING, default: 'avg' },
      output_height: { type: AttributeType.INT, default: 1 },
      output_width: { type: AttributeType.INT, default: 1 },
      sampling_ratio: { type: AttributeType.INT, default: 0 },
      spatial_scale: { type: AttributeType.FLOAT, default: 1 },
    });
    const node = [...roiAlign([1, 3, 8, 8], 2).graph][0]!;
    expect(attributeProblem(node)).toBeUndefined();
    node.setAttribute(new Attribute('spatial_scale', AttributeType.INT, 1n));
    expect(attributeProblem(node)).toMatch(/spatial_scale.*INT, not FLOAT/);
  });

  it('infers [boxes, C, output_height, output_width], checking the boxes agree', () => {
    expect(inferred(roiAlign(['N', 256, 50, 50], 'R', { output_height: 7, output_width: 7 })).shapes).toEqual([['R', 256, 7, 7]]);
    expect(inferred(roiAlign([1, 3, 8, 8], 4)).shapes).toEqual([[4, 3, 1, 1]]);
    const bad = oneNode('RoiAlign', [{ name: 'x', dtype: F, dims: [1, 3, 8, 8] }, { name: 'rois', dtype: F, dims: [4, 4] }, { name: 'idx', dtype: I64, dims: [5] }]);
    expect(inferred(bad).warnings.join()).toMatch(/boxes of rois and batch_indices: 4 vs 5/);
  });

  it('costs 8·s² + 1 (avg) or 8·s² (max) per output, and nothing it cannot know for adaptive sampling', () => {
    const outputs = 10 * 256 * 7 * 7;
    expect(layer(roiAlign([1, 256, 50, 50], 10, { output_height: 7, output_width: 7, sampling_ratio: 2 })).flops).toBe(outputs * 33);
    expect(layer(roiAlign([1, 256, 50, 50], 10, { output_height: 7, output_width: 7, sampling_ratio: 2, mode: 'max' })).flops).toBe(outputs * 32);
    expect(layer(roiAlign([1, 256, 50, 50], 10, { output_height: 7, output_width: 7 })).flops).toBeNull();
  });

  it('means at opset 13 what it means from 10 (the quantizer may raise an opset-10 model holding it)', () => {
    expect(sameAt13Why([...roiAlign([1, 3, 8, 8], 2, {}, 10).graph][0]!, 10)).toBeUndefined();
    expect(sameAt13Why([...maxRoiPool([1, 3, 8, 8], 2).graph][0]!, 10)).toBeUndefined();
  });

  it('matches the ONNX backend corpus (float64 reference)', () => {
    referenceMatchesCorpus('RoiAlign', 'test_roialign', 2);
  });

  it('matches onnxruntime in the forms the corpus lacks: max mode, adaptive sampling, opset 10, a box past the edge', async () => {
    const x = f32([2, 3, 10, 12], rnd(7));
    const rois = Tensor.fromNumbers(F, [3, 4], [0, 0, 9, 9, 2.5, 1.5, 11.7, 8.2, -3, -2, 4, 14]);
    const idx = Tensor.fromNumbers(I64, [3], [0, 1, 1]);
    const feeds = new Map([['x', x], ['rois', rois], ['idx', idx]]);
    for (const [attrs, opset] of [
      [{ output_height: 3, output_width: 4, sampling_ratio: 2, mode: 'max' }, 16],
      [{ output_height: 3, output_width: 2, spatial_scale: Attribute.float('spatial_scale', 0.5) }, 16],
      [{ output_height: 2, output_width: 2, sampling_ratio: 3 }, 10],
      [{ output_height: 2, output_width: 5, coordinate_transformation_mode: 'output_half_pixel', mode: 'max' }, 16],
    ] as const) {
      const [err] = await referenceVsOrt(roiAlign([2, 3, 10, 12], 3, attrs, opset), feeds);
      expect(err, JSON.stringify(attrs)).toBeLessThanOrEqual(1);
    }
  });
});

describe('MaxRoiPool', () => {
  it('declares pooled_shape and spatial_scale, and infers [boxes, C, pooled_shape…]', () => {
    expect(getOp('MaxRoiPool')!.attributes).toMatchObject({ pooled_shape: { type: AttributeType.INTS }, spatial_scale: { type: AttributeType.FLOAT, default: 1 } });
    const node = [...maxRoiPool([1, 3, 8, 8], 2).graph][0]!;
    expect(attributeProblem(node)).toBeUndefined();
    node.setAttribute(new Attribute('pooled_shape', AttributeType.INTS, [0n, 2n]));
    expect(attributeProblem(node)).toMatch(/pooled_shape.*at least 1/);
    expect(inferred(maxRoiPool(['N', 512, 14, 14], 'R', { pooled_shape: [7, 7] })).shapes).toEqual([['R', 512, 7, 7]]);
    expect(inferred(maxRoiPool([1, 3, 8, 8], 2, { pooled_shape: [7] })).warnings.join()).toMatch(/pooled_shape/);
  });

  it('states why it has no cost: its work depends on the box coordinates', () => {
    expect(undeclaredFacet('MaxRoiPool', 'cost')).toMatch(/^data-dependent: .*rois' coordinates/);
    const l = layer(maxRoiPool([1, 3, 8, 8], 2));
    expect(l.flops).toBeNull();
    expect(l.unknown?.join()).toMatch(/no cost model for op 'MaxRoiPool' \(data-dependent/);
  });

  it('matches onnxruntime (the corpus has no MaxRoiPool case): rounding, clipping, empty bins', async () => {
    const b = new GraphBuilder({ opset: 17 });
    b.output(b.op('MaxRoiPool', [b.input('x', F, [2, 3, 9, 11]), b.input('rois', F, [4, 5])], { pooled_shape: [3, 2], spatial_scale: Attribute.float('spatial_scale', 0.5) }, { name: 'n' }), 'y');
    const rois = Tensor.fromNumbers(F, [4, 5], [0, 0, 0, 20, 16, 1, 3, 5, 9, 7, 1, -6, -6, 30, 30, 0, 21, 17, 25, 24]);
    const [err] = await referenceVsOrt(b.build(), new Map([['x', f32([2, 3, 9, 11], rnd(3))], ['rois', rois]]));
    expect(err).toBeLessThanOrEqual(1);
  });
});
