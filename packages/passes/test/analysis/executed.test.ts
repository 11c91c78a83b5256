/**
 * The as-executed roofline's quantization parameters (analysis/executed.ts): a 'data' op's
 * DequantizeLinear and QuantizeLinear are dropped only when they share constant scalar scales and
 * zero points (positive for MaxPool), read through the one numericScalar (common/data-types.ts)
 * the rewrites read their constant operands with — a string or complex constant is no number, and
 * a float16 scale is its value, not its bits. What onnxruntime does with valid models is measured
 * in ort-qdq.test.ts; these models are the malformed or rarer ones.
 */
import { describe, expect, it } from 'vitest';
import { DataType, GraphBuilder, Tensor, numberToFloat16Bits, type Model } from '@onnxkit/graph';
import { analyzeModel } from '../../src/index.js';
import { numericScalar } from '../../src/common/data-types.js';

const f16 = (x: number): Tensor => Tensor.fromArray(DataType.FLOAT16, [], Uint16Array.of(numberToFloat16Bits(x)));

/** x → Q → DQ ('dq_in') → `op` → Q ('q_out') → DQ → y, both pairs with scale `scale` and a uint8 zero point 128. */
function pair(op: 'Transpose' | 'MaxPool', scale: Tensor): Model {
  const b = new GraphBuilder({ opset: 19 });
  const x = b.input('x', DataType.FLOAT, [1, 4, 8]);
  const s = b.constant('s', scale);
  const z = b.constant('z', Tensor.fromArray(DataType.UINT8, [], Uint8Array.of(128)));
  const dq = b.op('DequantizeLinear', [b.op('QuantizeLinear', [x, s, z], {}, { name: 'q_in' }), s, z], {}, { name: 'dq_in' });
  const y = b.op(op, [dq], op === 'MaxPool' ? { kernel_shape: [2] } : {}, { name: 'op' });
  b.output(b.op('DequantizeLinear', [b.op('QuantizeLinear', [y, s, z], {}, { name: 'q_out' }), s, z], {}, { name: 'dq_out' }), 'y');
  return b.build();
}

const dropped = (m: Model): boolean[] => {
  const layers = analyzeModel(m, { timeline: false }).layers;
  return ['dq_in', 'q_out'].map((name) => layers.find((l) => l.name === name)!.fusedInto?.extended === 'op');
};

describe('numericScalar', () => {
  it('reads one real element (narrow floats decoded, int64 and bool too); a string, complex or longer tensor is no scalar', () => {
    expect(numericScalar(f16(-0.5))).toBe(-0.5);
    expect(numericScalar(Tensor.fromArray(DataType.INT64, [1], BigInt64Array.of(-3n)))).toBe(-3);
    expect(numericScalar(Tensor.fromNumbers(DataType.BOOL, [], [1]))).toBe(1);
    expect(numericScalar(Tensor.fromStrings([], ['0.5']))).toBeUndefined();
    expect(numericScalar(Tensor.fromArray(DataType.COMPLEX64, [], Float32Array.of(1, 0)))).toBeUndefined();
    expect(numericScalar(Tensor.fromNumbers(DataType.FLOAT, [2], [1, 1]))).toBeUndefined();
  });
});

describe("the as-executed roofline's 'data' form reads its scales as numbers", () => {
  it('drops the pair for an equal float32 or float16 scale, and for MaxPool only when it is positive', () => {
    expect(dropped(pair('Transpose', Tensor.scalar(DataType.FLOAT, 0.5)))).toEqual([true, true]);
    expect(dropped(pair('MaxPool', f16(0.5)))).toEqual([true, true]);
    expect(dropped(pair('Transpose', f16(-0.5)))).toEqual([true, true]);
    // A negative float16 scale's bits (0xb800) are a positive number: read as bits, it passed.
    expect(dropped(pair('MaxPool', f16(-0.5)))).toEqual([false, false]);
  });

  it('keeps the pair when the scale is a string or complex constant (no number; a string\'s "0.5" was read as 0.5)', () => {
    expect(dropped(pair('Transpose', Tensor.fromStrings([], ['0.5'])))).toEqual([false, false]);
    expect(dropped(pair('Transpose', Tensor.fromArray(DataType.COMPLEX64, [], Float32Array.of(0.5, 0))))).toEqual([false, false]);
  });
});
