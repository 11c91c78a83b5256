// What `run` (and verify/bench for a surviving model) prints per output: exact where JSON cannot be.
import { describe, expect, it } from 'vitest';
import { DataType, Tensor } from '@onnxkit/graph';
import { summarizeTensor } from '@onnxkit/runtime';

describe('summarizeTensor', () => {
  it('int64 beyond ±2^53: min, max and first values exact (decimal strings), safe ones stay numbers', () => {
    const big = 2n ** 53n + 1n; // a double rounds it to 2^53
    const t = Tensor.fromArray(DataType.INT64, [4], BigInt64Array.of(big, -(2n ** 63n), 5n, 2n ** 63n - 1n));
    const s = summarizeTensor('y', t);
    expect(s.head).toEqual(['9007199254740993', '-9223372036854775808', 5, '9223372036854775807']);
    expect(s.min).toBe('-9223372036854775808');
    expect(s.max).toBe('9223372036854775807');
    expect(s.nan).toBe(0);
    const small = summarizeTensor('i', Tensor.fromArray(DataType.INT64, [3], BigInt64Array.of(-3n, 7n, 2n)));
    expect(small).toMatchObject({ min: -3, max: 7, mean: 2, head: [-3, 7, 2] });
    const u = summarizeTensor('u', Tensor.fromArray(DataType.UINT64, [2], BigUint64Array.of(2n ** 64n - 1n, 1n)));
    expect(u).toMatchObject({ min: 1, max: '18446744073709551615', head: ['18446744073709551615', 1] });
  });

  it('NaN is counted and left out of min, max and mean wherever it is; infinities are strings JSON keeps', () => {
    for (const data of [[NaN, 1, 2, Infinity], [1, NaN, 2, Infinity], [1, 2, Infinity, NaN]]) {
      const s = summarizeTensor('y', Tensor.fromArray(DataType.FLOAT, [4], Float32Array.from(data)));
      expect(s).toMatchObject({ min: 1, max: 'Infinity', mean: 'Infinity', nan: 1 });
      expect(JSON.parse(JSON.stringify(s)).max).toBe('Infinity');
    }
    const s = summarizeTensor('y', Tensor.fromArray(DataType.FLOAT, [4], Float32Array.of(-Infinity, Infinity, NaN, 0.5)));
    expect(s).toMatchObject({ min: '-Infinity', max: 'Infinity', mean: 'NaN', head: ['-Infinity', 'Infinity', 'NaN', 0.5], nan: 1 });
    const allNan = summarizeTensor('n', Tensor.fromArray(DataType.FLOAT, [2], Float32Array.of(NaN, NaN)));
    expect(allNan).toMatchObject({ min: null, max: null, mean: null, nan: 2, head: ['NaN', 'NaN'] });
  });

  it('strings have no numbers; an empty tensor has none either', () => {
    expect(summarizeTensor('s', Tensor.fromStrings([1], ['a']))).toMatchObject({ min: null, max: null, mean: null, head: [], nan: 0 });
    expect(summarizeTensor('e', Tensor.fromArray(DataType.FLOAT, [0], new Float32Array(0)))).toMatchObject({ min: null, max: null, mean: null, head: [], nan: 0 });
    expect(summarizeTensor('e', Tensor.fromArray(DataType.INT64, [0], new BigInt64Array(0)))).toMatchObject({ min: null, max: null, mean: null, head: [] });
  });
});
