// loadInputs: .npy / .npz / .pb / .json files → feeds, named by file, tensor or entry name or by
// position; and one clear VerifyError for each kind of bad input (missing, extra, misshaped,
// mistyped, duplicated, unreadable).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { DataType, Tensor } from '@onnxkit/graph';
import { encodeTensorProto } from '@onnxkit/importer';
import { encodeNpy, encodeNpz, loadInputs, readNpy, readNpz, VerifyError, writeNpy, writeNpz, type ValueMetadata } from '@onnxkit/runtime';
import { scratchDir, thrown } from '../../../test/helpers/errors.js';

const dir = scratchDir('inputs');

const inputs: ValueMetadata[] = [
  { name: 'x', isTensor: true, dtype: DataType.FLOAT, shape: ['N', 3] },
  { name: 'ids', isTensor: true, dtype: DataType.INT64, shape: ['N'] },
];
const x = Tensor.fromNumbers(DataType.FLOAT, [2, 3], [1, 2, 3, 4, 5, 6], { name: 'x' });
const ids = Tensor.fromNumbers(DataType.INT64, [2], [7n, 2n ** 60n], { name: 'ids' });

function file(name: string, bytes: Uint8Array | string): string {
  const p = join(dir, name);
  writeFileSync(p, bytes);
  return p;
}

function expectSame(t: Tensor | undefined, want: Tensor): void {
  expect(t).toBeDefined();
  expect(t!.dtype).toBe(want.dtype);
  expect(t!.dims).toEqual(want.dims);
  expect(Buffer.from(t!.bytes()).equals(Buffer.from(want.bytes()))).toBe(true);
}

const verifyError = (fn: () => unknown): VerifyError => thrown(VerifyError, fn);

describe('formats', () => {
  test('.npy files bind the input named like the file stem', () => {
    const feeds = loadInputs([file('ids.npy', encodeNpy(ids)), file('x.npy', encodeNpy(x))], inputs);
    expectSame(feeds.get('x'), x);
    expectSame(feeds.get('ids'), ids);
  });

  test('.npy files not named after an input bind by position, or by name=path', () => {
    const a = file('first.npy', encodeNpy(x));
    const b = file('second.npy', encodeNpy(ids));
    expectSame(loadInputs([a, b], inputs).get('ids'), ids);
    const swapped = loadInputs([`ids=${b}`, { path: a, name: 'x' }], inputs);
    expectSame(swapped.get('x'), x);
    expectSame(swapped.get('ids'), ids);
  });

  test('.npz entries bind inputs by name (writeNpz/readNpz round trip too)', () => {
    const p = join(dir, 'in.npz');
    writeNpz(p, new Map([['x', x], ['ids', ids]]), { compress: true });
    expectSame(readNpz(p).get('x'), x);
    const feeds = loadInputs([p], inputs);
    expectSame(feeds.get('x'), x);
    expectSame(feeds.get('ids'), ids);
    const q = join(dir, 'single.npy');
    writeNpy(q, x);
    expectSame(readNpy(q), x);
  });

  test('.pb TensorProto files bind by tensor name or position', () => {
    const named = loadInputs([file('a.pb', encodeTensorProto(ids)), file('b.pb', encodeTensorProto(x))], inputs);
    expectSame(named.get('x'), x);
    expectSame(named.get('ids'), ids);
    const anon = loadInputs([file('input_0.pb', encodeTensorProto(x.with({ name: '' }))), file('input_1.pb', encodeTensorProto(ids.with({ name: '' })))], inputs);
    expectSame(anon.get('x'), x);
    expectSame(anon.get('ids'), ids);
  });

  test('.json: nested arrays, object form, big int64 as strings, NaN/Infinity as strings', () => {
    const feeds = loadInputs([file('in.json', JSON.stringify({ x: [[1, 2, 3], [4, 5, 6]], ids: ['7', (2n ** 60n).toString()] }))], inputs);
    expectSame(feeds.get('x'), x);
    expectSame(feeds.get('ids'), ids);
    const obj = loadInputs([file('obj.json', JSON.stringify({ x: { data: [1, 'NaN', '-Infinity', 4, 5, 6], shape: [2, 3] }, ids: [1, 2] }))], inputs);
    const v = obj.get('x')!.toFloat64();
    expect(Number.isNaN(v[1])).toBe(true);
    expect(v[2]).toBe(-Infinity);
  });

  test('.json takes a flat list in the model shape when that shape is static', () => {
    const staticIn: ValueMetadata[] = [{ name: 'm', isTensor: true, dtype: DataType.BOOL, shape: [2, 2] }];
    const t = loadInputs([file('m.json', JSON.stringify({ m: [true, false, 1, 0] }))], staticIn).get('m')!;
    expect(t.dims).toEqual([2, 2]);
    expect([...t.toFloat64()]).toEqual([1, 0, 1, 0]);
  });
});

describe('bad input: one clear VerifyError each', () => {
  test('missing input', () => {
    const e = verifyError(() => loadInputs([file('x.npy', encodeNpy(x))], inputs));
    expect(e.code).toBe('VERIFY_INPUT_MISSING');
    expect(e.message).toMatch(/input 'ids' \(int64\[N\]\) of the model was not provided/);
  });

  test('extra input (npz entry, json key, too many positional files)', () => {
    expect(verifyError(() => loadInputs([file('extra.npz', encodeNpz({ x, ids, z: x }))], inputs)).message).toMatch(/entry 'z' is not an input of the model \(inputs: x, ids\)/);
    expect(verifyError(() => loadInputs([file('extra.json', JSON.stringify({ x: [[1, 2, 3]], ids: [1], w: [1] }))], inputs)).message).toMatch(/'w' is not an input/);
    const e = verifyError(() => loadInputs([file('p0.npy', encodeNpy(x)), file('p1.npy', encodeNpy(ids)), file('p2.npy', encodeNpy(ids))], inputs));
    expect(e.code).toBe('VERIFY_INPUT_EXTRA');
    expect(e.message).toMatch(/position 2 is past the model's 2 input\(s\)/);
  });

  test('misshaped input: wrong rank, wrong static dim, inconsistent symbolic dim', () => {
    const flat = Tensor.fromNumbers(DataType.FLOAT, [6], [1, 2, 3, 4, 5, 6]);
    expect(verifyError(() => loadInputs([file('x.npy', encodeNpy(flat)), file('ids.npy', encodeNpy(ids))], inputs)).message).toMatch(
      /input 'x': the model expects rank 2 \[N,3\], got rank 1 \[6\]/,
    );
    const wide = Tensor.fromNumbers(DataType.FLOAT, [2, 4], new Array(8).fill(0));
    expect(verifyError(() => loadInputs([file('x.npy', encodeNpy(wide)), file('ids.npy', encodeNpy(ids))], inputs)).message).toMatch(
      /expects shape \[N,3\], got \[2,4\] \(dim 1 must be 3\)/,
    );
    const three = Tensor.fromNumbers(DataType.INT64, [3], [1, 2, 3]);
    const e = verifyError(() => loadInputs([file('x.npy', encodeNpy(x)), file('ids.npy', encodeNpy(three))], inputs));
    expect(e.code).toBe('VERIFY_INPUT_SHAPE');
    expect(e.message).toMatch(/input 'ids': dim 0 \('N'\) is 3, but input 'x' binds 'N' to 2/);
  });

  test('mistyped input', () => {
    const dbl = Tensor.fromNumbers(DataType.DOUBLE, [2, 3], [1, 2, 3, 4, 5, 6]);
    const e = verifyError(() => loadInputs([file('x.npy', encodeNpy(dbl)), file('ids.npy', encodeNpy(ids))], inputs));
    expect(e.code).toBe('VERIFY_INPUT_DTYPE');
    expect(e.message).toMatch(/input 'x': the model expects float, got double/);
    expect(verifyError(() => loadInputs([file('bad.json', JSON.stringify({ x: [[1, 2, 3], [4, 5, 6]], ids: [1.5, 2] }))], inputs)).message).toMatch(/element 0 is 1.5; int64 needs integers/);
    expect(verifyError(() => loadInputs([file('bad2.json', JSON.stringify({ x: [[1, 2, 'a'], [4, 5, 6]], ids: [1, 2] }))], inputs)).message).toMatch(/element 2 is "a"; float needs numbers/);
    expect(verifyError(() => loadInputs([file('big.json', JSON.stringify({ x: [[1, 2, 3], [4, 5, 6]], ids: [2 ** 60, 2] }))], inputs)).message).toMatch(/beyond 2\^53/);
  });

  test('duplicate input', () => {
    const e = verifyError(() => loadInputs([file('x.npy', encodeNpy(x)), file('again.npz', encodeNpz({ x }))], inputs));
    expect(e.code).toBe('VERIFY_INPUT_DUPLICATE');
    expect(e.message).toMatch(/input 'x' is given twice/);
  });

  test('unreadable files: not found, unknown format, malformed contents', () => {
    expect(verifyError(() => loadInputs([join(dir, 'nope.npy')], inputs)).message).toMatch(/input file not found/);
    expect(verifyError(() => loadInputs([file('data.bin', new Uint8Array([1, 2, 3]))], inputs)).message).toMatch(/unknown input file format '\.bin'/);
    expect(verifyError(() => loadInputs([file('broken.json', '{"x": [1, 2')], inputs)).message).toMatch(/broken\.json: invalid JSON/);
    expect(verifyError(() => loadInputs([file('ragged.json', '{"x": [[1, 2, 3], [4, 5]]}')], inputs)).message).toMatch(/ragged array/);
    expect(verifyError(() => loadInputs([file('x.npy', new Uint8Array(20))], inputs)).message).toMatch(/not an \.npy file/);
    const e = verifyError(() => loadInputs([file('junk.pb', new Uint8Array([0x0a, 0xff, 0xff, 0xff, 0x0f, 1]))], inputs));
    expect(e.code).toBe('VERIFY_INPUT_FILE');
    expect(e.message).toMatch(/junk\.pb: not a valid ONNX TensorProto/);
  });
});
