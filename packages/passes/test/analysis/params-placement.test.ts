/**
 * #parameters and model size count every stored weight a layer reads, wherever it sits: the
 * first operand of a MatMul or Gemm (W·x) and any operand of an Einsum. The numbers are the
 * element counts of the tensors the models store, counted by hand.
 */
import { describe, expect, it } from 'vitest';
import { DataType, GraphBuilder, Tensor } from '@onnxkit/graph';
import { analyzeModel, analyzeTotals } from '../../src/analysis/index.js';

const F = DataType.FLOAT;
const ones = (n: number): number[] => new Array<number>(n).fill(0.5);

describe('parameters: a stored operand at any position', () => {
  it('counts a stored first operand of MatMul and Gemm and any stored operand of Einsum', () => {
    const b = new GraphBuilder();
    const x = b.input('x', F, [3, 4]);
    const a = b.floats('A', [5, 3], ones(15));
    const m = b.op('MatMul', [a, x], {}, { name: 'w_times_x' }); // [5, 4]
    const e = b.op('Einsum', [m, b.floats('E', [4, 6], ones(24))], { equation: 'ij,jk->ik' }, { name: 'einsum' }); // [5, 6]
    const y = b.op('Gemm', [b.floats('G', [5, 7], ones(35)), e], { transA: 1 }, { name: 'gemm_ta' }); // [7, 6]
    b.output(y, 'y');
    const model = b.build();
    const r = analyzeModel(model);
    expect(r.layers.map((l) => [l.name, l.weightParams, l.params, l.macs])).toEqual([
      ['w_times_x', 15, 15, 5 * 4 * 3],
      ['einsum', 24, 24, 5 * 6 * 4],
      ['gemm_ta', 35, 35, 7 * 6 * 5],
    ]);
    expect(r.totals.weightParams).toBe(74);
    expect(r.totals.params).toBe(74);
    expect(r.totals.modelSizeBytes).toBe(74 * 4);
    expect(analyzeModel(model, { bits: 8 }).totals.modelSizeBytesAtBits).toBe(74);
    // The roofline moves each stored weight once (it is no activation input).
    expect(r.layers.map((l) => l.bytes.weights)).toEqual([60, 96, 140]);
    expect(analyzeTotals(model).totals.weightParams).toBe(74);
  });

  it('counts no activation operand, and no activation scale of a QDQ MatMul as a weight buffer', () => {
    const b = new GraphBuilder({ opset: 13 });
    const x = b.input('x', F, [2, 4]);
    const s = b.floats('x_scale', [], [0.1]);
    const z = b.constant('x_zero', Tensor.fromNumbers(DataType.UINT8, [], [128]));
    const xd = b.op('DequantizeLinear', [b.op('QuantizeLinear', [x, s, z]), s, z]);
    const wq = b.constant('w_q', Tensor.fromNumbers(DataType.INT8, [4, 3], ones(12).map(() => 1)));
    const wd = b.op('DequantizeLinear', [wq, b.floats('w_scale', [], [0.2]), b.constant('w_zero', Tensor.fromNumbers(DataType.INT8, [], [0]))]);
    const h = b.op('MatMul', [xd, wd], {}, { name: 'qdq_matmul' });
    b.output(b.op('MatMul', [h, h], {}, { name: 'act_act' }), 'y'); // [2,3]·[2,3] is ill-shaped: only its params matter
    const r = analyzeModel(b.build());
    expect(r.totals.weightParams).toBe(12);
    // The weight's scale and zero point are its buffers; the activation's are not the weight's.
    expect(r.layers.find((l) => l.name === 'qdq_matmul')!.bufferParams).toBe(2);
    expect(r.layers.find((l) => l.name === 'act_act')!.params).toBe(0);
  });
});
