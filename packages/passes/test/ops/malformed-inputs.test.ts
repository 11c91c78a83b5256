/**
 * The ops added as modules this round (signal, roi-pool, unpool, unique, col2im, center-crop-pad,
 * affine-grid, deform-conv) on malformed input: shape inference and the analysis never fail or
 * build a shape holding an undefined dim, whatever the ranks; the float64 references reject bad
 * input with the reference's typed errors (ReferenceInputError, ReferenceUnsupportedError), never
 * a TypeError or RangeError from a missing input, an empty scalar or a negative length.
 */
import { describe, expect, it } from 'vitest';
import { DataType, Tensor } from '@onnxkit/graph';
import { analyzeModel, inferShapes } from '../../src/analysis/index.js';
import { ReferenceInputError, ReferenceUnsupportedError } from '../../src/kernels/reference/errors.js';
import { getOp } from '../../src/ops/registry.js';
import type { RefTensor } from '../../src/ops/types.js';
import { oneNode } from './op-test-helpers.js';

const F = DataType.FLOAT;
const I = DataType.INT64;

/** Each op with its inputs' types and the attributes it needs to be well-formed otherwise. */
const OPS: [string, DataType[], Record<string, number[]>][] = [
  ['HannWindow', [I], {}],
  ['MelWeightMatrix', [I, I, I, F, F], {}],
  ['DFT', [F, I, I], {}],
  ['STFT', [F, I, F, I], {}],
  ['RoiAlign', [F, F, I], {}],
  ['MaxRoiPool', [F, F], { pooled_shape: [2, 2] }],
  ['MaxUnpool', [F, I, I], { kernel_shape: [2, 2] }],
  ['Unique', [F], {}],
  ['Col2Im', [F, I, I], {}],
  ['CenterCropPad', [F, I], {}],
  ['AffineGrid', [F, I], {}],
  ['DeformConv', [F, F, F, F, F], {}],
];

const filled = (dtype: DataType, dims: number[], v: number): RefTensor => {
  const n = dims.reduce((a, b) => a * b, 1);
  return dtype === I ? { dtype, dims, data: BigInt64Array.from({ length: n }, () => BigInt(v)) } : { dtype, dims, data: Float64Array.from({ length: n }, () => v) };
};

describe('ops added this round, on malformed input', () => {
  it('infer and analyse any ranks without failing or leaving an undefined dim', () => {
    const bad: string[] = [];
    for (const [op, types, attrs] of OPS) {
      for (const dims of [[], [3], [2, 3], [1, 2, 3], [1, 2, 3, 4], [1, 2, 3, 4, 5], ['N', 'M'], [0], [1, 0, 2]] as (number | string)[][]) {
        for (let k = 1; k <= types.length; k++) {
          for (const opset of [17, 20]) {
            const m = oneNode(op, types.slice(0, k).map((dtype, i) => ({ name: `i${i}`, dtype, dims })), attrs, op === 'Unique' ? 4 : 1, opset);
            const inf = inferShapes(m);
            for (const d of inf.diagnostics) if (d.code === 'rule-failed' || d.code === 'kernel-failed') bad.push(`${op} [${dims}] ${k} inputs: ${d.message}`);
            for (const v of m.graph.outputs) if (inf.shapeOf(v)?.some((d) => d === undefined)) bad.push(`${op} [${dims}] ${k} inputs: an undefined dim`);
            try {
              analyzeModel(m);
            } catch (e) {
              bad.push(`${op} [${dims}] ${k} inputs: analyzeModel threw ${String(e)}`);
            }
          }
        }
      }
    }
    expect(bad).toEqual([]);
  });

  it('report a negative length from a constant or attribute and infer no negative dim', () => {
    const ints = (name: string, v: number[]) => ({ name, dtype: I, dims: [v.length], value: Tensor.fromNumbers(I, [v.length], v) });
    const x = (dims: number[]) => ({ name: 'x', dtype: F, dims });
    const models = [
      oneNode('HannWindow', [{ name: 'size', dtype: I, dims: [], value: Tensor.scalar(I, -3) }]),
      oneNode('DFT', [x([1, 8, 1]), { name: 'len', dtype: I, dims: [], value: Tensor.scalar(I, -2) }]),
      oneNode('Col2Im', [x([1, 4, 9]), ints('img', [-4, 4]), ints('blk', [2, 2])], {}, 1, 18),
      oneNode('CenterCropPad', [x([4, 5]), ints('s', [-1, 3])], {}, 1, 18),
      oneNode('AffineGrid', [{ name: 't', dtype: F, dims: [1, 2, 3] }, ints('s', [1, 1, -3, 4])], {}, 1, 20),
      oneNode('MaxUnpool', [x([1, 1, 2, 2]), { name: 'i', dtype: I, dims: [1, 1, 2, 2] }, ints('s', [1, 1, -5, 5])], { kernel_shape: [2, 2] }),
      oneNode('MaxUnpool', [x([1, 1, 2, 2]), { name: 'i', dtype: I, dims: [1, 1, 2, 2] }], { kernel_shape: [2, 2], pads: [3, 0, 3, 0] }),
      oneNode('RoiAlign', [x([1, 3, 8, 8]), { name: 'r', dtype: F, dims: [2, 4] }, { name: 'b', dtype: I, dims: [2] }], { output_height: -2 }),
    ];
    for (const m of models) {
      const op = m.graph.nodes[0]!.opType;
      const inf = inferShapes(m);
      expect(inf.shapeOf(m.graph.outputs[0]!)!.some((d) => typeof d === 'number' && d < 0), op).toBe(false);
      expect(inf.diagnostics.filter((d) => d.severity === 'warning').map((d) => d.message).join(), op).toMatch(/must not be negative/);
    }
  });

  it('reject bad input to the references with typed errors only', () => {
    const bad = new Set<string>();
    const shapes = [[], [1], [2], [4], [5], [2, 3], [1, 2, 3], [1, 4, 3, 3], [1, 1, 2, 2, 2], [0], [3, 4], [1, 5]];
    for (const [op, types, attrs] of OPS) {
      const reference = getOp(op)!.reference!;
      const node = [...oneNode(op, types.map((dtype, i) => ({ name: `i${i}`, dtype, dims: [] })), attrs, op === 'Unique' ? 4 : 1, 20).graph][0]!;
      for (const first of shapes) {
        for (const rest of shapes) {
          for (const v of [0, 1, 2, -1, 3]) {
            for (let k = 1; k <= types.length; k++) {
              try {
                reference(node, types.map((dtype, i) => (i < k ? filled(dtype, i === 0 ? first : rest, v) : null)), 20);
              } catch (e) {
                if (!(e instanceof ReferenceInputError || e instanceof ReferenceUnsupportedError)) bad.add(`${op} [${first}] [${rest}] ${k} inputs: ${String(e).slice(0, 120)}`);
              }
            }
          }
        }
      }
    }
    expect([...bad].slice(0, 20)).toEqual([]);
  });
});
