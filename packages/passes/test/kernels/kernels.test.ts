/**
 * Unit tests of the TypeScript kernels: opset-dependent forms, exact int64 arithmetic beyond
 * 2^53, the edge cases of Slice/Reshape/Cast/Range, typed errors for invalid input and
 * `undefined` (never an exception) for what is not covered.
 */
import { describe, expect, it } from 'vitest';
import { Attribute, DataType, GraphBuilder, Tensor, Value, type AttributeInput, type Node } from '@onnxkit/graph';
import { evaluateNode, KernelError, SUPPORTED_KERNELS, bigintToFloat32, erf } from '../../src/kernels/index.js';

/** A detached node with `n` inputs, for evaluateNode. */
function mk(op: string, attrs: Record<string, AttributeInput> = {}, nIn = 1, nOut = 1, domain = ''): Node {
  const b = new GraphBuilder({ opset: 18 });
  const ins = Array.from({ length: nIn }, (_, i) => b.input(`i${i}`, DataType.FLOAT, null));
  return b.node(op, ins, attrs, { outputs: nOut, domain: domain || undefined });
}

const f32 = (dims: number[], v: number[]) => Tensor.fromNumbers(DataType.FLOAT, dims, v);
const i64 = (v: (number | bigint)[], dims: number[] = [v.length]) => Tensor.fromNumbers(DataType.INT64, dims, v);
const i32 = (v: number[], dims: number[] = [v.length]) => Tensor.fromNumbers(DataType.INT32, dims, v);
const scalar64 = (v: number | bigint) => Tensor.scalar(DataType.INT64, v);

function run(op: string, inputs: (Tensor | null)[], attrs: Record<string, AttributeInput> = {}, opset = 18, nOut = 1): Tensor[] {
  const out = evaluateNode(mk(op, attrs, inputs.length, nOut), inputs, opset);
  if (!out) throw new Error(`${op} declined`);
  return out;
}
const one = (op: string, inputs: (Tensor | null)[], attrs: Record<string, AttributeInput> = {}, opset = 18): Tensor => run(op, inputs, attrs, opset)[0]!;
const nums = (t: Tensor) => Array.from(t.toFloat64());
const bigs = (t: Tensor) => Array.from(t.toBigInt64());

describe('coverage table', () => {
  it('lists every op the brief requires, each with a note', () => {
    const required = [
      'Shape', 'Size', 'Gather', 'Unsqueeze', 'Squeeze', 'Concat', 'Slice', 'Reshape', 'Flatten', 'Transpose', 'Cast',
      'ConstantOfShape', 'Range', 'Expand', 'Tile', 'Where', 'Equal', 'Less', 'Greater', 'Not', 'And', 'Or', 'Identity',
      'Add', 'Sub', 'Mul', 'Div', 'Pow', 'Neg', 'Abs', 'Sqrt', 'Reciprocal', 'Floor', 'Ceil', 'Min', 'Max', 'Mod',
      'ReduceProd', 'ReduceSum', 'ReduceMean', 'ReduceMax', 'ReduceMin', 'Constant', 'Relu', 'Sigmoid', 'Tanh', 'Erf', 'Exp', 'Log', 'Clip', 'Softmax',
    ];
    for (const op of required) expect(SUPPORTED_KERNELS[op], op).toMatch(/\w/);
  });
});

describe('declines instead of throwing', () => {
  it('returns undefined for custom domains, unknown ops, uncovered dtypes and reference attributes', () => {
    expect(evaluateNode(mk('Add', {}, 2, 1, 'com.example'), [f32([1], [1]), f32([1], [2])], 18)).toBeUndefined();
    expect(evaluateNode(mk('LSTM', {}, 1), [f32([1], [1])], 18)).toBeUndefined();
    const s = Tensor.fromStrings([1], ['a']);
    expect(evaluateNode(mk('Add', {}, 2), [s, s], 18)).toBeUndefined();
    const h = Tensor.fromNumbers(DataType.FLOAT16, [1], [1]);
    expect(evaluateNode(mk('Exp', {}, 1), [h], 18)).toBeUndefined();
    expect(evaluateNode(mk('Add', {}, 2), [f32([1], [1]), null], 18)).toBeUndefined();
    const n = mk('Transpose');
    n.setAttribute(Attribute.ref('perm', Attribute.ints('perm', []).type, 'p'));
    expect(evaluateNode(n, [f32([1, 2], [1, 2])], 18)).toBeUndefined();
    const drop = mk('Dropout', {}, 3, 1);
    expect(evaluateNode(drop, [f32([2], [1, 2]), Tensor.scalar(DataType.FLOAT, 0.5), Tensor.fromNumbers(DataType.BOOL, [], [1])], 13)).toBeUndefined();
    expect(evaluateNode(mk('Cast', { to: DataType.INT32 }), [f32([1], [3e10])], 18)).toBeUndefined();
    expect(evaluateNode(mk('Cast', { to: DataType.UINT8 }), [f32([1], [NaN])], 18)).toBeUndefined();
  });

  it('raises KernelError naming the node for genuinely invalid input', () => {
    const n = mk('Div', {}, 2);
    n.name = 'div7';
    expect(() => evaluateNode(n, [i32([1, 2]), i32([1, 0])], 18)).toThrow(KernelError);
    expect(() => evaluateNode(n, [i32([1, 2]), i32([1, 0])], 18)).toThrow(/div7.*division by zero/);
    expect(() => run('Add', [f32([2], [1, 2]), f32([3], [1, 2, 3])])).toThrow(/do not broadcast/);
    expect(() => run('Gather', [f32([3], [1, 2, 3]), i64([3])])).toThrow(/index 3 .*out of range for axis 0 of size 3/);
    expect(() => run('Reshape', [f32([6], [1, 2, 3, 4, 5, 6]), i64([4, -1])])).toThrow(/cannot reshape/);
    expect(() => run('Slice', [f32([3], [1, 2, 3]), i64([0]), i64([3]), i64([0]), i64([0])])).toThrow(/step for axis 0 is 0/);
    expect(() => run('Squeeze', [f32([2, 1], [1, 2]), i64([0])])).toThrow(/cannot squeeze axis 0 of size 2/);
    expect(() => run('Concat', [f32([1, 2], [1, 2]), f32([1, 3], [1, 2, 3])], { axis: 0 })).toThrow(/differ outside axis 0/);
    expect(() => run('Mod', [f32([1], [1]), f32([1], [2])], { fmod: 0 })).toThrow(/requires fmod=1/);
    expect(() => run('Range', [scalar64(0), scalar64(5), scalar64(0)])).toThrow(/delta is 0/);
  });
});

describe('int64 is exact and never narrowed to number', () => {
  const two53 = 2n ** 53n;
  it('adds, multiplies (wrapping at 2^64) and compares above 2^53', () => {
    expect(bigs(one('Add', [i64([two53]), i64([1n])]))).toEqual([two53 + 1n]);
    expect(bigs(one('Sub', [i64([two53 + 3n]), i64([two53 + 1n])]))).toEqual([2n]);
    expect(bigs(one('Mul', [i64([2n ** 62n]), i64([4n])]))).toEqual([0n]);
    expect(bigs(one('Mul', [i64([(2n ** 40n) + 1n]), i64([(2n ** 20n) + 3n])]))).toEqual([((2n ** 40n) + 1n) * ((2n ** 20n) + 3n)]);
    expect(nums(one('Equal', [i64([two53, two53]), i64([two53 + 1n, two53])]))).toEqual([0, 1]);
    expect(nums(one('Less', [i64([two53]), i64([two53 + 1n])]))).toEqual([1]);
    expect(bigs(one('Max', [i64([two53 + 1n]), i64([two53])]))).toEqual([two53 + 1n]);
    expect(bigs(one('Neg', [i64([-(2n ** 63n)])]))).toEqual([-(2n ** 63n)]);
    expect(one('Add', [i64([1n]), i64([2n])]).toArray()).toBeInstanceOf(BigInt64Array);
  });

  it('divides truncating toward zero (like ORT) and takes both Mod conventions', () => {
    expect(bigs(one('Div', [i64([-7n, 7n, -7n]), i64([2n, -2n, -2n])]))).toEqual([-3n, -3n, 3n]);
    expect(nums(one('Div', [i32([-7, 7]), i32([2, -2])]))).toEqual([-3, -3]);
    expect(bigs(one('Mod', [i64([-7n, 7n]), i64([3n, -3n])], { fmod: 0 }))).toEqual([2n, -2n]);
    expect(bigs(one('Mod', [i64([-7n, 7n]), i64([3n, -3n])], { fmod: 1 }))).toEqual([-1n, 1n]);
    // Exact above 2^53 (ORT's std::fmod through double is not).
    expect(bigs(one('Mod', [i64([two53 + 1n]), i64([2n])], { fmod: 1 }))).toEqual([1n]);
  });

  it('reduces exactly', () => {
    const t = i64([two53, 1n, 1n, two53], [2, 2]);
    expect(bigs(one('ReduceSum', [t, i64([1])], { keepdims: 0 }, 13))).toEqual([two53 + 1n, two53 + 1n]);
    expect(bigs(one('ReduceMax', [t], { axes: [0], keepdims: 1 }, 13))).toEqual([two53, two53]);
    expect(bigs(one('ReduceProd', [i64([2n ** 31n, 2n ** 31n, 3n])], { keepdims: 0 }, 18))).toEqual([BigInt.asIntN(64, 3n * 2n ** 62n)]);
  });

  it('casts to float32 rounding exactly once, and wraps to narrower ints', () => {
    // 2^60 + 2^36 + 1: via float64 it rounds to 2^60 + 2^36 (a tie in float32 → even: 2^60);
    // rounded once, the +1 breaks the tie upward to 2^60 + 2^37.
    const v = 2n ** 60n + 2n ** 36n + 1n;
    expect(bigintToFloat32(v)).toBe(2 ** 60 + 2 ** 37);
    expect(Math.fround(Number(v))).toBe(2 ** 60);
    expect(nums(one('Cast', [i64([v, -v])], { to: DataType.FLOAT }))).toEqual([2 ** 60 + 2 ** 37, -(2 ** 60 + 2 ** 37)]);
    expect(nums(one('Cast', [i64([2n ** 32n + 5n, -1n])], { to: DataType.INT32 }))).toEqual([5, -1]);
    expect(nums(one('Cast', [i64([300n])], { to: DataType.UINT8 }))).toEqual([44]);
  });
});

describe('shape kernels', () => {
  const x = f32([2, 3, 4], Array.from({ length: 24 }, (_, i) => i));
  it('Shape honours start/end from opset 15 only', () => {
    expect(bigs(one('Shape', [x], { start: 1 }, 15))).toEqual([3n, 4n]);
    expect(bigs(one('Shape', [x], { start: -2, end: -1 }, 15))).toEqual([3n]);
    expect(bigs(one('Shape', [x], { start: 1 }, 13))).toEqual([2n, 3n, 4n]);
    expect(one('Shape', [x]).dtype).toBe(DataType.INT64);
    expect(bigs(one('Size', [x]))).toEqual([24n]);
    expect(one('Size', [x]).dims).toEqual([]);
  });

  it('Gather with negative indices keeps the indices shape', () => {
    const g = one('Gather', [x, i64([-1, 0], [1, 2])], { axis: 1 });
    expect(g.dims).toEqual([2, 1, 2, 4]);
    expect(nums(g).slice(0, 8)).toEqual([8, 9, 10, 11, 0, 1, 2, 3]);
    expect(one('Gather', [i64([5, 6, 7]), scalar64(1)]).dims).toEqual([]);
  });

  it('Unsqueeze/Squeeze take axes as attribute before opset 13 and as input after', () => {
    expect(one('Unsqueeze', [x], { axes: [0, -1] }, 11).dims).toEqual([1, 2, 3, 4, 1]);
    expect(one('Unsqueeze', [x, i64([1])], {}, 13).dims).toEqual([2, 1, 3, 4]);
    const y = f32([1, 3, 1], [1, 2, 3]);
    expect(one('Squeeze', [y], { axes: [2] }, 11).dims).toEqual([1, 3]);
    expect(one('Squeeze', [y, i64([0])], {}, 13).dims).toEqual([3, 1]);
    expect(one('Squeeze', [y], {}, 13).dims).toEqual([3]);
  });

  it('Slice handles INT64_MAX/MIN bounds, negative steps and the opset-1 attribute form', () => {
    const v = i64([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    const s = (starts: (number | bigint)[], ends: (number | bigint)[], steps?: number[]) =>
      bigs(one('Slice', [v, i64(starts), i64(ends), i64([0]), steps ? i64(steps) : null]));
    expect(s([2], [2n ** 63n - 1n])).toEqual([2n, 3n, 4n, 5n, 6n, 7n, 8n, 9n]);
    expect(s([-1], [-(2n ** 63n)], [-1])).toEqual([9n, 8n, 7n, 6n, 5n, 4n, 3n, 2n, 1n, 0n]);
    expect(s([8], [1], [-3])).toEqual([8n, 5n, 2n]);
    expect(s([-3], [100], [2])).toEqual([7n, 9n]);
    expect(s([5], [2])).toEqual([]);
    expect(bigs(one('Slice', [v], { starts: [1], ends: [4] }, 9))).toEqual([1n, 2n, 3n]);
    const m = one('Slice', [x, i64([1, -2]), i64([3, 100]), i64([2, 1]), null]);
    expect(m.dims).toEqual([2, 2, 2]);
    // x[b, 1:3, 1:3] = 12b + 4j + k
    expect(nums(m)).toEqual([5, 6, 9, 10, 17, 18, 21, 22]);
  });

  it('Reshape copies 0s, infers -1, and honours allowzero (opset 14)', () => {
    expect(one('Reshape', [x, i64([0, -1])]).dims).toEqual([2, 12]);
    expect(one('Reshape', [x, i64([-1])]).dims).toEqual([24]);
    const empty = f32([0, 3], []);
    expect(one('Reshape', [empty, i64([3, 0])], { allowzero: 1 }, 14).dims).toEqual([3, 0]);
    expect(() => run('Reshape', [empty, i64([3, 0])], { allowzero: 0 }, 14)).toThrow(KernelError);
    expect(one('Flatten', [x], { axis: 0 }).dims).toEqual([1, 24]);
    expect(one('Flatten', [x], { axis: -1 }).dims).toEqual([6, 4]);
    expect(one('Flatten', [x], { axis: 3 }).dims).toEqual([24, 1]);
  });

  it('Transpose, Concat, Expand and Tile move the right elements', () => {
    const t = one('Transpose', [f32([2, 3], [1, 2, 3, 4, 5, 6])]);
    expect(t.dims).toEqual([3, 2]);
    expect(nums(t)).toEqual([1, 4, 2, 5, 3, 6]);
    const c = one('Concat', [f32([2, 1], [1, 2]), f32([2, 2], [3, 4, 5, 6])], { axis: -1 });
    expect(nums(c)).toEqual([1, 3, 4, 2, 5, 6]);
    const e = one('Expand', [f32([3, 1], [1, 2, 3]), i64([2, 1, 2])]);
    expect(e.dims).toEqual([2, 3, 2]);
    expect(nums(e)).toEqual([1, 1, 2, 2, 3, 3, 1, 1, 2, 2, 3, 3]);
    const tl = one('Tile', [f32([2], [1, 2]), i64([3])]);
    expect(nums(tl)).toEqual([1, 2, 1, 2, 1, 2]);
  });

  it('ConstantOfShape, Range and Constant produce what the spec says', () => {
    const z = one('ConstantOfShape', [i64([2, 3])]);
    expect(z.dtype).toBe(DataType.FLOAT);
    expect(nums(z)).toEqual([0, 0, 0, 0, 0, 0]);
    const v = one('ConstantOfShape', [i64([2])], { value: Tensor.fromNumbers(DataType.INT64, [1], [2n ** 60n]) });
    expect(bigs(v)).toEqual([2n ** 60n, 2n ** 60n]);
    // Accumulated like ORT: v += delta in float32, not start + i·delta.
    const r = one('Range', [Tensor.scalar(DataType.FLOAT, 0.1), Tensor.scalar(DataType.FLOAT, 3), Tensor.scalar(DataType.FLOAT, 0.3)]);
    let acc = Math.fround(0.1);
    const want: number[] = [];
    for (let i = 0; i < 10; i++) {
      want.push(acc);
      acc = Math.fround(acc + Math.fround(0.3));
    }
    expect(nums(r)).toEqual(want);
    expect(bigs(one('Range', [scalar64(2n ** 60n), scalar64(2n ** 60n + 5n), scalar64(2)]))).toEqual([2n ** 60n, 2n ** 60n + 2n, 2n ** 60n + 4n]);
    const cases: [Record<string, AttributeInput>, DataType, number[]][] = [
      [{ value_float: Attribute.float('value_float', 1.5) }, DataType.FLOAT, []],
      [{ value_floats: Attribute.floats('value_floats', [1.5, 2.5]) }, DataType.FLOAT, [2]],
      [{ value_int: 7 }, DataType.INT64, []],
      [{ value_ints: [1, 2, 3] }, DataType.INT64, [3]],
      [{ value_string: 'a' }, DataType.STRING, []],
      [{ value_strings: ['a', 'b'] }, DataType.STRING, [2]],
      [{ value: x }, DataType.FLOAT, [2, 3, 4]],
    ];
    for (const [attrs, dtype, dims] of cases) {
      const t = run('Constant', [], attrs)[0]!;
      expect(t.dtype).toBe(dtype);
      expect(t.dims).toEqual(dims);
    }
    expect(bigs(run('Constant', [], { value_int: 2n ** 62n + 1n })[0]!)).toEqual([2n ** 62n + 1n]);
    const n = mk('Constant', {}, 0);
    n.setAttribute(new Attribute('sparse_value', 11, { values: f32([2], [5, 6]), indices: i64([1, 3]), dims: [2, 2] }));
    expect(nums(evaluateNode(n, [], 18)![0]!)).toEqual([0, 5, 0, 6]);
  });

  it('Identity returns the same tensor; Dropout at inference adds an all-true mask', () => {
    expect(one('Identity', [x])).toBe(x);
    const [y, mask] = run('Dropout', [x], {}, 13, 2);
    expect(y).toBe(x);
    expect(mask!.dtype).toBe(DataType.BOOL);
    expect(nums(mask!).every((v) => v === 1)).toBe(true);
  });
});

describe('element-wise and reductions', () => {
  it('broadcasts float32 like numpy and rounds once to float32', () => {
    const a = f32([2, 1], [0.1, 0.2]);
    const b = f32([3], [0.3, 1e-8, 3.4e38]);
    const r = one('Add', [a, b]);
    expect(r.dims).toEqual([2, 3]);
    const want = [0.1, 0.2].flatMap((p) => [0.3, 1e-8, 3.4e38].map((q) => Math.fround(Math.fround(p) + Math.fround(q))));
    expect(nums(r)).toEqual(want);
    expect(nums(one('Mul', [f32([1], [3.4e38]), f32([1], [10])]))).toEqual([Infinity]);
  });

  it('computes transcendental functions accurately', () => {
    const known: [number, number][] = [[0.5, 0.5204998778130465], [1, 0.8427007929497149], [2, 0.9953222650189527], [3, 0.9999779095030014], [-1.5, -0.9661051464753108], [1e-10, 1.1283791670955126e-10]];
    for (const [x, y] of known) expect(Math.abs(erf(x) - y)).toBeLessThanOrEqual(2e-15 * Math.abs(y));
    const s = nums(one('Sigmoid', [f32([3], [0, 2, -40])]));
    expect(s[0]).toBe(0.5);
    expect(s[1]).toBeCloseTo(0.8807970779778823, 7);
    expect(s[2]).toBeLessThan(1e-17);
  });

  it('Clip takes bounds from attributes before opset 11 and from inputs after', () => {
    const x = f32([4], [-5, -1, 1, 5]);
    expect(nums(one('Clip', [x], { min: Attribute.float('min', -2), max: Attribute.float('max', 2) }, 6))).toEqual([-2, -1, 1, 2]);
    expect(nums(one('Clip', [x, Tensor.scalar(DataType.FLOAT, 0), null], {}, 13))).toEqual([0, 0, 1, 5]);
    expect(nums(one('Clip', [i32([-5, 9]), Tensor.scalar(DataType.INT32, 0), Tensor.scalar(DataType.INT32, 6)], {}, 13))).toEqual([0, 6]);
  });

  it('Clip with min > max gives max everywhere (min(max(x, lo), hi), as onnxruntime)', () => {
    const x = f32([4], [-1, 0.5, 5, NaN]);
    expect(nums(one('Clip', [x, Tensor.scalar(DataType.FLOAT, 2), Tensor.scalar(DataType.FLOAT, 1)], {}, 13))).toEqual([1, 1, 1, NaN]);
    expect(nums(one('Clip', [x], { min: Attribute.float('min', 2), max: Attribute.float('max', 1) }, 6))).toEqual([1, 1, 1, NaN]);
    expect(nums(one('Clip', [i32([-5, 9]), Tensor.scalar(DataType.INT32, 6), Tensor.scalar(DataType.INT32, 0)], {}, 13))).toEqual([0, 0]);
    expect(nums(one('Clip', [i64([-5, 9]), Tensor.fromArray(DataType.INT64, [], new BigInt64Array([6n])), Tensor.fromArray(DataType.INT64, [], new BigInt64Array([0n]))], {}, 13))).toEqual([0, 0]);
  });

  it('Pow follows C (onnxruntime) where Math.pow differs: 1^NaN = 1, (−1)^±inf = 1', () => {
    expect(nums(one('Pow', [f32([4], [1, -1, -1, NaN]), f32([4], [NaN, Infinity, -Infinity, 0])]))).toEqual([1, 1, 1, 1]);
  });

  it('ReduceMax/ReduceMin over a NaN are left to the runtime (its result depends on the NaN\'s position), not refused as invalid', () => {
    // Not computed (undefined), as an unsupported case: no KernelError, which would call a valid
    // model's constant input invalid (analyze printed an error for it).
    expect(evaluateNode(mk('ReduceMin', { keepdims: 0 }, 1, 1), [f32([3], [1, NaN, 0])], 18)).toBeUndefined();
    expect(evaluateNode(mk('ReduceMax', { keepdims: 0 }, 1, 1), [f32([3], [NaN, 2, -1])], 18)).toBeUndefined();
    expect(nums(one('ReduceMax', [f32([3], [1, -0, 0])], { keepdims: 0 }))).toEqual([1]);
    expect(nums(one('ReduceSum', [f32([2], [1, NaN])], { keepdims: 0 }))).toEqual([NaN]);
  });

  it('reductions take axes as attribute or input by opset, with keepdims and noop_with_empty_axes', () => {
    const x = f32([2, 3], [1, 2, 3, 4, 5, 6]);
    expect(one('ReduceMean', [x], { axes: [1] }, 13).dims).toEqual([2, 1]);
    expect(nums(one('ReduceMean', [x], { axes: [1] }, 13))).toEqual([2, 5]);
    expect(nums(one('ReduceMean', [x, i64([0])], { keepdims: 0 }, 18))).toEqual([2.5, 3.5, 4.5]);
    expect(one('ReduceSum', [x], {}, 13).dims).toEqual([1, 1]);
    expect(one('ReduceSum', [x, i64([])], { noop_with_empty_axes: 1 }, 13)).toBe(x);
    expect(nums(one('ReduceMax', [x, i64([-1])], { keepdims: 0 }, 18))).toEqual([3, 6]);
    expect(nums(one('ReduceMin', [x], { axes: [0], keepdims: 0 }, 11))).toEqual([1, 2, 3]);
    expect(nums(one('ReduceProd', [x, i64([0, 1])], { keepdims: 0 }, 18))).toEqual([720]);
    expect(nums(one('ReduceMean', [i32([1, 2, 4])], { keepdims: 0 }, 13))).toEqual([2]);
  });

  it('Softmax coerces to 2-D before opset 13 and uses a single axis after', () => {
    const x = f32([2, 2], [0, 0, 1, 1]);
    // Opset 11, axis 0: one softmax over the whole [1, 4] coerced block.
    const z = 2 + 2 * Math.E;
    expect(nums(one('Softmax', [x], { axis: 0 }, 11))).toEqual([1 / z, 1 / z, Math.E / z, Math.E / z].map(Math.fround));
    expect(nums(one('Softmax', [x], { axis: 1 }, 11))).toEqual([0.5, 0.5, 0.5, 0.5]);
    const s13 = nums(one('Softmax', [x], { axis: 0 }, 13));
    expect(s13[0]).toBeCloseTo(0.2689414213699951, 7);
    expect(s13[2]).toBeCloseTo(0.7310585786300049, 7);
  });

  it('Where selects with three-way broadcasting, float16 Add rounds like ORT', () => {
    const w = one('Where', [Tensor.fromNumbers(DataType.BOOL, [2, 1], [1, 0]), i64([1, 2]), i64([9])]);
    expect(bigs(w)).toEqual([1n, 2n, 9n, 9n]);
    const h = (v: number[]) => Tensor.fromNumbers(DataType.FLOAT16, [v.length], v);
    // 1 + 2^-11 and 2048 + 1 are ties in float16: both round to even.
    expect(nums(one('Add', [h([1, 2048, 1]), h([0.00048828125, 1, 0.0009765625])]))).toEqual([1, 2048, 1.0009765625]);
  });
});

describe('evaluateNode on nodes in a graph', () => {
  it('uses the node attributes and ignores the Value wiring', () => {
    const b = new GraphBuilder({ opset: 17 });
    const x = b.input('x', DataType.FLOAT, [2, 3]);
    const n = b.node('Transpose', [x], { perm: [1, 0] });
    expect(evaluateNode(n, [f32([2, 3], [1, 2, 3, 4, 5, 6])], 17)![0]!.dims).toEqual([3, 2]);
    expect(n.inputs[0]).toBeInstanceOf(Value);
  });
});
