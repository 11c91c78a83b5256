// Seeded synthetic inputs: determinism, per-input streams, distributions, dtypes, shape binding
// and clear refusals.
import { describe, expect, test } from 'vitest';
import { DataType, GraphBuilder, float16BitsToNumber } from '@onnxkit/graph';
import { syntheticInputs, VerifyError, type ValueMetadata } from '@onnxkit/runtime';

const meta = (name: string, dtype: DataType, shape: ValueMetadata['shape']): ValueMetadata => ({ name, isTensor: true, dtype, shape });

describe('syntheticInputs', () => {
  test('same seed gives identical bytes; another seed differs', () => {
    const inputs = [meta('x', DataType.FLOAT, [2, 8]), meta('ids', DataType.INT64, [4])];
    const a = syntheticInputs(inputs, { seed: 42 });
    const b = syntheticInputs(inputs, { seed: 42 });
    const c = syntheticInputs(inputs, { seed: 43 });
    expect(Buffer.from(a.get('x')!.bytes()).equals(Buffer.from(b.get('x')!.bytes()))).toBe(true);
    expect(Buffer.from(a.get('x')!.bytes()).equals(Buffer.from(c.get('x')!.bytes()))).toBe(false);
  });

  test('each input has its own stream: order and other inputs do not matter', () => {
    const x = meta('x', DataType.FLOAT, [16]);
    const y = meta('y', DataType.FLOAT, [16]);
    const one = syntheticInputs([x, y], { seed: 1 });
    const two = syntheticInputs([y, x], { seed: 1 });
    const alone = syntheticInputs([x], { seed: 1 });
    expect([...one.get('x')!.toArray()]).toEqual([...two.get('x')!.toArray()]);
    expect([...one.get('x')!.toArray()]).toEqual([...alone.get('x')!.toArray()]);
    expect([...one.get('x')!.toArray()]).not.toEqual([...one.get('y')!.toArray()]);
  });

  test('uniform floats default to [-1, 1) and honour range', () => {
    const t = syntheticInputs([meta('x', DataType.FLOAT, [20000])], { seed: 3 }).get('x')!;
    const v = t.toArray() as Float32Array;
    expect(Math.min(...v)).toBeGreaterThanOrEqual(-1);
    expect(Math.max(...v)).toBeLessThan(1);
    const mean = v.reduce((s, x) => s + x, 0) / v.length;
    expect(Math.abs(mean)).toBeLessThan(0.03); // sd of the mean is 0.004
    expect(Math.min(...v)).toBeLessThan(-0.99);
    const r = syntheticInputs([meta('x', DataType.DOUBLE, [5000])], { seed: 3, range: [10, 12] }).get('x')!.toArray() as Float64Array;
    expect(Math.min(...r)).toBeGreaterThanOrEqual(10);
    expect(Math.max(...r)).toBeLessThan(12);
  });

  test('normal values have the requested mean and std', () => {
    const v = syntheticInputs([meta('x', DataType.DOUBLE, [20000])], { seed: 5, distribution: 'normal', mean: 2, std: 3 }).get('x')!.toArray() as Float64Array;
    const mean = v.reduce((s, x) => s + x, 0) / v.length;
    const sd = Math.sqrt(v.reduce((s, x) => s + (x - mean) ** 2, 0) / v.length);
    expect(Math.abs(mean - 2)).toBeLessThan(0.1); // sd of the mean is 0.02
    expect(Math.abs(sd - 3)).toBeLessThan(0.1);
  });

  test('every numeric type and bool', () => {
    const types = [DataType.FLOAT16, DataType.INT8, DataType.UINT8, DataType.INT16, DataType.UINT16, DataType.INT32, DataType.UINT32, DataType.INT64, DataType.UINT64, DataType.BOOL];
    const feeds = syntheticInputs(types.map((d, i) => meta(`t${i}`, d, [400])), { seed: 9 });
    types.forEach((d, i) => {
      const t = feeds.get(`t${i}`)!;
      expect(t.dtype).toBe(d);
      expect(t.dims).toEqual([400]);
      const values = t.toFloat64();
      if (d === DataType.FLOAT16) {
        const bits = t.toArray() as Uint16Array;
        expect(values.every((x, k) => x === float16BitsToNumber(bits[k]!) && x >= -1 && x <= 1)).toBe(true);
      } else {
        // Integers and bools default to the inclusive range [0, 1]: both values occur.
        expect(new Set(values)).toEqual(new Set([0, 1]));
      }
    });
    const ints = syntheticInputs([meta('i', DataType.INT32, [1000])], { seed: 2, range: [-3, 3] }).get('i')!.toFloat64();
    expect(new Set(ints)).toEqual(new Set([-3, -2, -1, 0, 1, 2, 3]));
  });

  test('symbolic dims: inputShapes, dimValues, then defaultDim (1)', () => {
    const inputs = [meta('x', DataType.FLOAT, ['N', 3, null]), meta('m', DataType.INT64, ['N'])];
    expect(syntheticInputs(inputs).get('x')!.dims).toEqual([1, 3, 1]);
    expect(syntheticInputs(inputs, { dimValues: { N: 4 }, defaultDim: 2 }).get('x')!.dims).toEqual([4, 3, 2]);
    const f = syntheticInputs(inputs, { inputShapes: { x: [2, 3, 7] }, dimValues: { N: 2 } });
    expect(f.get('x')!.dims).toEqual([2, 3, 7]);
    expect(f.get('m')!.dims).toEqual([2]);
  });

  test('inputShapes must agree with static dims and name real inputs', () => {
    const inputs = [meta('x', DataType.FLOAT, ['N', 3])];
    expect(() => syntheticInputs(inputs, { inputShapes: { x: [1, 4] } })).toThrow(/dim 1 is fixed to 3 by the model, got 4/);
    expect(() => syntheticInputs(inputs, { inputShapes: { x: [1, 3, 1] } })).toThrow(/rank 3, the model expects rank 2/);
    expect(() => syntheticInputs(inputs, { inputShapes: { y: [1] } })).toThrow(VerifyError);
  });

  test('string and non-tensor inputs are refused clearly', () => {
    expect(() => syntheticInputs([meta('s', DataType.STRING, [2])])).toThrow(/'s' is a string tensor; synthetic inputs cannot be generated/);
    expect(() => syntheticInputs([{ name: 'q', isTensor: false, dtype: undefined, shape: null }])).toThrow(/'q' is not a tensor/);
    expect(() => syntheticInputs([meta('u', DataType.UINT8, [2])], { range: [0, 300] })).toThrow(/does not fit/);
  });

  test('accepts a Model: inputs that are not initializers', () => {
    const b = new GraphBuilder();
    const x = b.input('x', DataType.FLOAT, ['B', 2]);
    b.output(b.op('Add', [x, b.floats('c', [2], [1, 2])]), 'y');
    const feeds = syntheticInputs(b.build(), { seed: 1 });
    expect([...feeds.keys()]).toEqual(['x']);
    expect(feeds.get('x')!.dims).toEqual([1, 2]);
  });
});
