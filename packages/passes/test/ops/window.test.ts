/**
 * The window attributes of Conv and pooling, read once (windowParams, src/ops/shape-helpers.ts)
 * by the shape rules and the float64 references: where they used to disagree, both now follow
 * onnxruntime-node 1.30.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { DataType, type Tensor } from '@onnxkit/graph';
import { closeWorker, f32, rnd } from '../rewrite/helpers.js';
import { inferred, oneNode, referenceVsOrt } from './op-test-helpers.js';

afterAll(closeWorker);

const F = DataType.FLOAT;

describe('window attributes', () => {
  it('ceil_mode other than 0 and 1 floors, as onnxruntime reads it: the shape rule and the reference agree (the reference took any value but 0 as ceil)', async () => {
    for (const ceil of [0, 1, 2]) {
      const m = oneNode('MaxPool', [{ name: 'x', dtype: F, dims: [1, 2, 6, 3] }], { kernel_shape: [3, 2], strides: [2, 2], ceil_mode: ceil });
      expect(inferred(m).shapes, `ceil_mode ${ceil}`).toEqual([ceil === 1 ? [1, 2, 3, 2] : [1, 2, 2, 1]]);
      const feeds = new Map<string, Tensor>([['x', f32([1, 2, 6, 3], rnd(ceil + 1))]]);
      const [err] = await referenceVsOrt(m, feeds);
      expect(err, `ceil_mode ${ceil}`).toBeLessThanOrEqual(1);
    }
  });
});
