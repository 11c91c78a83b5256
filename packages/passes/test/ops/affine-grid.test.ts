/**
 * AffineGrid (src/ops/affine-grid.ts): the schema through attributeProblem, the shape rule
 * through inferShapes, the cost through analyzeModel, and the float64 reference against
 * onnxruntime-node (the ONNX 1.12 corpus predates AffineGrid-20), feeding GridSample.
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
const grid = (theta: (number | string)[], size: number[] | null, attrs: Record<string, number> = {}) =>
  oneNode('AffineGrid', [{ name: 'theta', dtype: F, dims: theta }, { name: 'size', dtype: I64, dims: [size?.length ?? theta[1] === 3 ? 5 : 4], ...(size ? { value: Tensor.fromNumbers(I64, [size.length], size) } : {}) }], attrs, 1, 20);

describe('AffineGrid', () => {
  it('declares align_corners (default 0)', () => {
    expect(getOp('AffineGrid')!.attributes).toMatchObject({ align_corners: { type: AttributeType.INT, default: 0 } });
    const node = [...grid([1, 2, 3], [1, 3, 8, 8]).graph][0]!;
    expect(attributeProblem(node)).toBeUndefined();
    node.setAttribute(new Attribute('align_corners', AttributeType.FLOAT, 1));
    expect(attributeProblem(node)).toMatch(/align_corners.*FLOAT, not INT/);
  });

  it('infers [N, H, W, 2] and [N, D, H, W, 3], and reports a theta of the wrong form', () => {
    expect(inferred(grid([2, 2, 3], [2, 3, 16, 24])).shapes).toEqual([[2, 16, 24, 2]]);
    expect(inferred(grid(['N', 3, 4], [1, 1, 4, 5, 6])).shapes).toEqual([[1, 4, 5, 6, 3]]);
    expect(inferred(grid(['N', 2, 3], null)).shapes).toEqual([['N', null, null, 2]]);
    expect(inferred(grid([2, 3, 4], [2, 3, 16, 24])).warnings.join()).toMatch(/theta is \[2, 3, 4\]; it must be \[N, 2, 3\]/);
  });

  it('costs r MACs and 1 add per output element', () => {
    const l = layer(grid([2, 2, 3], [2, 3, 16, 24]));
    expect(l.macs).toBe(2 * 16 * 24 * 2 * 2);
    expect(l.flops).toBe(2 * 2 * 16 * 24 * 2 * 2 + 2 * 16 * 24 * 2);
  });

  it('matches onnxruntime in 2-D and 3-D, with and without align_corners, and through GridSample', async () => {
    for (const [size, align] of [[[2, 1, 5, 7], 0], [[2, 1, 5, 7], 1], [[2, 1, 3, 4, 5], 0], [[2, 1, 3, 4, 5], 1]] as const) {
      const r = size.length - 2;
      const b = new GraphBuilder({ opset: 20 });
      b.output(b.op('AffineGrid', [b.input('theta', F, [2, r, r + 1]), b.int64s('size', [...size])], { align_corners: align }, { name: 'n' }), 'y');
      const [err] = await referenceVsOrt(b.build(), new Map([['theta', f32([2, r, r + 1], rnd(4))]]));
      expect(err, `${size} align_corners ${align}`).toBeLessThanOrEqual(1);
    }
    const b = new GraphBuilder({ opset: 20 });
    const g = b.op('AffineGrid', [b.input('theta', F, [1, 2, 3]), b.int64s('size', [1, 2, 6, 6])], {}, { name: 'n' });
    b.output(b.op('GridSample', [b.input('x', F, [1, 2, 8, 8]), g], {}, { name: 'gs' }), 'y');
    const [err] = await referenceVsOrt(b.build(), new Map([['theta', f32([1, 2, 3], rnd(9))], ['x', f32([1, 2, 8, 8], rnd(10))]]));
    expect(err).toBeLessThanOrEqual(1);
  });
});
