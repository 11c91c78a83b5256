/**
 * CenterCropPad (src/ops/center-crop-pad.ts): the schema through attributeProblem, the shape
 * rule through inferShapes, the cost through analyzeModel, and the float64 reference against
 * onnxruntime-node (the ONNX 1.12 corpus predates CenterCropPad-18).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { Attribute, AttributeType, DataType, GraphBuilder, Tensor } from '@onnxkit/graph';
import { attributeProblem } from '../../src/common/attribute-schema.js';
import { getOp } from '../../src/ops/registry.js';
import { closeWorker, f32, rnd } from '../rewrite/helpers.js';
import { inferred, layer, oneNode, referenceVsOrt } from './op-test-helpers.js';

afterAll(closeWorker);

const F = DataType.FLOAT;
const I64 = DataType.INT64;
const crop = (x: (number | string)[], target: number[] | null, axes?: number[]) =>
  oneNode('CenterCropPad', [{ name: 'x', dtype: F, dims: x }, { name: 'shape', dtype: I64, dims: [target?.length ?? axes?.length ?? x.length], ...(target ? { value: Tensor.fromNumbers(I64, [target.length], target) } : {}) }], axes ? { axes } : {}, 1, 18);

describe('CenterCropPad', () => {
  it('declares axes (default: every axis)', () => {
    expect(getOp('CenterCropPad')!.attributes).toMatchObject({ axes: { type: AttributeType.INTS } });
    const node = [...crop([4, 5], [3, 7]).graph][0]!;
    expect(attributeProblem(node)).toBeUndefined();
    node.setAttribute(new Attribute('axes', AttributeType.INT, 1n));
    expect(attributeProblem(node)).toMatch(/axes.*INT, not INTS/);
  });

  it('infers X\'s shape with the listed axes set to shape\'s values', () => {
    expect(inferred(crop([4, 5], [3, 7])).shapes).toEqual([[3, 7]]);
    expect(inferred(crop(['N', 3, 256, 300], [224, 224], [-2, -1])).shapes).toEqual([['N', 3, 224, 224]]);
    expect(inferred(crop(['N', 3, 256, 300], null, [2, 3])).shapes).toEqual([['N', 3, null, null]]);
    expect(inferred(crop([4, 5], [3], [2])).warnings.join()).toMatch(/axis 2 is out of range for rank 2/);
  });

  it('costs data movement only', () => {
    expect(layer(crop(['N', 3, 256, 300], [224, 224], [2, 3])).flops).toBe(0);
  });

  it('matches onnxruntime: odd and even crops and pads, on some axes or all', async () => {
    for (const [target, axes] of [[[3, 8], undefined], [[2, 9], [1, 2]], [[7, 1], [-1, 0]]] as const) {
      const b = new GraphBuilder({ opset: 18 });
      b.output(b.op('CenterCropPad', [b.input('x', F, axes ? [4, 5, 6] : [5, 6]), b.int64s('shape', [...target])], axes ? { axes: [...axes] } : {}, { name: 'n' }), 'y');
      const dims = axes ? [4, 5, 6] : [5, 6];
      const [err] = await referenceVsOrt(b.build(), new Map([['x', f32(dims, rnd(2))]]));
      expect(err, JSON.stringify(target)).toBe(0);
    }
  });
});
