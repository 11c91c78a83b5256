/**
 * Unique (src/ops/unique.ts): the schema through attributeProblem, the shape rule (its
 * data-dependent count unknown, as NonZero's) through inferShapes, the cost through analyzeModel,
 * the float64 reference against the corpus's Unique cases and against onnxruntime-node.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { Attribute, AttributeType, DataType, GraphBuilder, Tensor } from '@onnxkit/graph';
import { attributeProblem } from '../../src/common/attribute-schema.js';
import { getOp, notFp16Safe, sameAt13Why } from '../../src/ops/registry.js';
import type { RefTensor } from '../../src/ops/types.js';
import { closeWorker } from '../rewrite/helpers.js';
import { inferred, layer, oneNode, referenceMatchesCorpus, referenceVsOrt } from './op-test-helpers.js';

afterAll(closeWorker);

const F = DataType.FLOAT;
const unique = (dims: (number | string)[], attrs: Record<string, number> = {}, outputs = 4, dtype: DataType = F) => oneNode('Unique', [{ name: 'x', dtype, dims }], attrs, outputs);

describe('Unique', () => {
  it('declares axis (no default: flatten) and sorted (default 1)', () => {
    expect(getOp('Unique')!.attributes).toMatchObject({ axis: { type: AttributeType.INT }, sorted: { type: AttributeType.INT, default: 1 } });
    expect((getOp('Unique')!.attributes as Record<string, { default?: unknown }>)['axis']!.default).toBeUndefined();
    const node = [...unique([6]).graph][0]!;
    expect(attributeProblem(node)).toBeUndefined();
    node.setAttribute(new Attribute('sorted', AttributeType.STRING, 'yes'));
    expect(attributeProblem(node)).toMatch(/sorted.*STRING, not INT/);
  });

  it('infers an unknown count of distinct values and the known inverse_indices length', () => {
    expect(inferred(unique([2, 3]))).toMatchObject({ shapes: [[null], [null], [6], [null]], types: [F, DataType.INT64, DataType.INT64, DataType.INT64] });
    expect(inferred(unique(['N', 4, 2], { axis: 1 })).shapes).toEqual([['N', null, 2], [null], [4], [null]]);
    expect(inferred(unique(['N', 4, 2], { axis: -1 }, 1)).shapes).toEqual([['N', 4, null]]);
    expect(inferred(unique(['N', 'S'])).shapes[2]).toEqual(['N*S']);
    expect(inferred(unique([2, 3], { axis: 2 })).warnings.join()).toMatch(/axis 2 is out of range for rank 2/);
  });

  it('means at opset 13 what it means from 11, where it was introduced', () => {
    const node = [...unique([6]).graph][0]!;
    expect(sameAt13Why(node, 11)).toBeUndefined();
    expect(sameAt13Why(node, 10)).toBe('the same as at 13 only from opset 11');
  });

  it('is kept float32 by convert-fp16 with onnxruntime\'s reason (it casts a float16 Unique: added-ops-float16.test.ts)', () => {
    expect(notFp16Safe('Unique')).toMatch(/^Unique is not declared float16-safe .*: onnxruntime 1\.30's CPU provider has no float16 kernel for it \(it would run it in float32/);
  });

  it('costs 1 per input element (a lower bound)', () => {
    expect(layer(unique([8, 16])).flops).toBe(128);
  });

  it('finds the distinct values by hand-checked examples: sorted, first-occurrence order, slices, strings', () => {
    const reference = getOp('Unique')!.reference!;
    const run = (attrs: Record<string, number>, x: RefTensor) => reference([...unique([...x.dims], attrs).graph][0]!, [x], 11).map((t) => Array.from(t.data as ArrayLike<unknown>).map((v) => (typeof v === 'bigint' ? Number(v) : v)));
    const x: RefTensor = { dtype: F, dims: [6], data: Float64Array.from([2, 1, 1, 3, 4, 3]) };
    expect(run({}, x)).toEqual([[1, 2, 3, 4], [1, 0, 3, 4], [1, 0, 0, 2, 3, 2], [2, 1, 2, 1]]);
    expect(run({ sorted: 0 }, x)).toEqual([[2, 1, 3, 4], [0, 1, 3, 4], [0, 1, 1, 2, 3, 2], [1, 2, 2, 1]]);
    // Columns of [[1, 0, 0], [1, 0, 0], [2, 3, 3]]: (0, 0, 3) twice and (1, 1, 2), sorted.
    const m: RefTensor = { dtype: F, dims: [3, 3], data: Float64Array.from([1, 0, 0, 1, 0, 0, 2, 3, 3]) };
    expect(run({ axis: 1 }, m)).toEqual([[0, 1, 0, 1, 3, 2], [1, 0], [1, 0, 0], [2, 1]]);
    const s: RefTensor = { dtype: DataType.STRING, dims: [4], data: ['b', 'a', 'b', 'c'] };
    expect(run({}, s)[0]).toEqual(['a', 'b', 'c']);
  });

  it('matches the ONNX backend corpus (float64 reference)', () => {
    referenceMatchesCorpus('Unique', 'test_unique', 5);
  });

  it('matches onnxruntime on int64 data with repeats, sorted and not, along an axis', async () => {
    const x = Tensor.fromNumbers(DataType.INT64, [3, 4], [5, -1, 5, 7, 0, 2, 0, 2, 5, -1, 5, 7]);
    for (const attrs of [{}, { sorted: 0 }, { axis: 0 }, { axis: 1, sorted: 0 }]) {
      const b = new GraphBuilder({ opset: 17 });
      b.opN('Unique', [b.input('x', DataType.INT64, [3, 4])], 4, attrs, { name: 'n' }).forEach((v, k) => b.output(v, `y${k}`));
      expect(await referenceVsOrt(b.build(), new Map([['x', x]])), JSON.stringify(attrs)).toEqual([0, 0, 0, 0]);
    }
  });
});
