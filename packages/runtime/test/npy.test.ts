// .npy / .npz codecs: round trips for every supported type, interoperability with real numpy
// (Debian's /usr/bin/python3), determinism, and clear errors on malformed files.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { DataType, Tensor } from '@onnxkit/graph';
import { decodeNpy, decodeNpz, encodeNpy, encodeNpz, VerifyError } from '@onnxkit/runtime';
import { scratchDir } from '../../../test/helpers/errors.js';
import { PYTHON, pythonHas } from '../../../test/helpers/python.js';

const dir = scratchDir('npy');

const hasNumpy = pythonHas('numpy');
function requireNumpy(): void {
  if (!hasNumpy && process.env.ONNXKIT_ALLOW_MISSING_NUMPY !== '1') {
    throw new Error('numpy under /usr/bin/python3 is required for the interoperability tests (apt-get install python3-numpy), or set ONNXKIT_ALLOW_MISSING_NUMPY=1');
  }
}

const samples: Tensor[] = [
  Tensor.fromNumbers(DataType.FLOAT, [2, 3], [0, -1.5, 2.25, NaN, Infinity, -0]),
  Tensor.fromNumbers(DataType.DOUBLE, [3], [Math.PI, -1e300, 5e-324]),
  Tensor.fromNumbers(DataType.FLOAT16, [2], [0.5, -65504]),
  Tensor.fromNumbers(DataType.INT8, [2], [-128, 127]),
  Tensor.fromNumbers(DataType.UINT8, [2], [0, 255]),
  Tensor.fromNumbers(DataType.INT16, [2], [-32768, 32767]),
  Tensor.fromNumbers(DataType.UINT16, [1], [65535]),
  Tensor.fromNumbers(DataType.INT32, [2, 1], [-(2 ** 31), 2 ** 31 - 1]),
  Tensor.fromNumbers(DataType.UINT32, [1], [2 ** 32 - 1]),
  Tensor.fromNumbers(DataType.INT64, [2], [-(2n ** 63n), 2n ** 63n - 1n]),
  Tensor.fromNumbers(DataType.UINT64, [1], [2n ** 64n - 1n]),
  Tensor.fromNumbers(DataType.BOOL, [3], [1, 0, 1]),
  Tensor.fromNumbers(DataType.FLOAT, [], [7]),
  Tensor.fromNumbers(DataType.FLOAT, [0, 4], []),
  Tensor.fromStrings([2], ['héllo', '🙂x']),
];

describe('.npy', () => {
  test.each(samples.map((t) => [t.toString(), t] as const))('round trip %s', (_, t) => {
    const back = decodeNpy(encodeNpy(t), 'x');
    expect(back.dtype).toBe(t.dtype);
    expect(back.dims).toEqual(t.dims);
    if (t.dtype === DataType.STRING) expect(back.texts()).toEqual(t.texts());
    else expect(Buffer.from(back.bytes()).equals(Buffer.from(t.bytes()))).toBe(true);
  });

  test('header is padded to a multiple of 64 bytes, as numpy requires', () => {
    for (const t of samples) {
      const b = encodeNpy(t);
      const headerLen = b[8]! | (b[9]! << 8);
      expect((10 + headerLen) % 64).toBe(0);
      expect(b[10 + headerLen - 1]).toBe(0x0a);
    }
  });

  test('files written by numpy are read (little/big endian, Fortran order, bool, unicode)', () => {
    requireNumpy();
    if (!hasNumpy) return;
    execFileSync(PYTHON, ['-c', `
import numpy as np
np.save('${dir}/f4.npy', np.arange(6, dtype='<f4').reshape(2, 3) / 4)
np.save('${dir}/be.npy', np.array([[1, -2], [3, 2**40]], dtype='>i8'))
np.save('${dir}/fo.npy', np.asfortranarray(np.arange(24, dtype=np.float64).reshape(2, 3, 4)))
np.save('${dir}/b1.npy', np.array([True, False, True]))
np.save('${dir}/u.npy', np.array(['ab', 'cdé']))
np.save('${dir}/f2.npy', np.array([1.5, -2], dtype=np.float16))
`]);
    const f4 = decodeNpy(readFileSync(join(dir, 'f4.npy')));
    expect(f4.dtype).toBe(DataType.FLOAT);
    expect(f4.dims).toEqual([2, 3]);
    expect([...f4.toFloat64()]).toEqual([0, 0.25, 0.5, 0.75, 1, 1.25]);
    const be = decodeNpy(readFileSync(join(dir, 'be.npy')));
    expect(be.dtype).toBe(DataType.INT64);
    expect([...(be.toArray() as BigInt64Array)]).toEqual([1n, -2n, 3n, 2n ** 40n]);
    const fo = decodeNpy(readFileSync(join(dir, 'fo.npy')));
    expect(fo.dims).toEqual([2, 3, 4]);
    expect([...fo.toFloat64()]).toEqual(Array.from({ length: 24 }, (_, i) => i));
    expect([...decodeNpy(readFileSync(join(dir, 'b1.npy'))).toFloat64()]).toEqual([1, 0, 1]);
    expect(decodeNpy(readFileSync(join(dir, 'u.npy'))).texts()).toEqual(['ab', 'cdé']);
    expect([...decodeNpy(readFileSync(join(dir, 'f2.npy'))).toFloat64()]).toEqual([1.5, -2]);
  });

  test('files we write are read by numpy with the same values', () => {
    requireNumpy();
    if (!hasNumpy) return;
    writeFileSync(join(dir, 'ours.npz'), encodeNpz(new Map([['a', samples[0]!], ['b', samples[9]!], ['c', samples[14]!], ['d', samples[11]!]]), { compress: true }));
    writeFileSync(join(dir, 'ours.npy'), encodeNpy(samples[7]!));
    const out = execFileSync(PYTHON, ['-c', `
import numpy as np, json
z = np.load('${dir}/ours.npz')
one = np.load('${dir}/ours.npy')
print(json.dumps({'a': [str(x) for x in z['a'].ravel()], 'ashape': list(z['a'].shape), 'b': [str(x) for x in z['b']], 'c': list(z['c']), 'd': z['d'].tolist(), 'ddtype': str(z['d'].dtype), 'one': one.tolist()}))
`]).toString();
    const j = JSON.parse(out);
    expect(j.ashape).toEqual([2, 3]);
    expect(j.a).toEqual(['0.0', '-1.5', '2.25', 'nan', 'inf', '-0.0']);
    expect(j.b).toEqual([(-(2n ** 63n)).toString(), (2n ** 63n - 1n).toString()]);
    expect(j.c).toEqual(['héllo', '🙂x']);
    expect(j.d).toEqual([true, false, true]);
    expect(j.ddtype).toBe('bool');
    expect(j.one).toEqual([[-(2 ** 31)], [2 ** 31 - 1]]);
  });

  test('malformed files give a VerifyError saying what and where', () => {
    const good = encodeNpy(samples[0]!);
    const bad = (b: Uint8Array) => {
      try {
        decodeNpy(b, 'x', 'in.npy');
      } catch (e) {
        expect(e).toBeInstanceOf(VerifyError);
        return (e as Error).message;
      }
      throw new Error('no error');
    };
    expect(bad(new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]))).toMatch(/in\.npy: not an \.npy file/);
    expect(bad(good.subarray(0, good.length - 3))).toMatch(/data truncated: <f4\[2,3\] needs 24 bytes, the file has 21/);
    expect(bad(good.subarray(0, 40))).toMatch(/header claims/);
    const extra = new Uint8Array(good.length + 2);
    extra.set(good);
    expect(bad(extra)).toMatch(/2 unexpected bytes after the array data/);
    const obj = Uint8Array.from(good);
    const text = new TextDecoder('latin1').decode(obj);
    obj.set(new TextEncoder().encode("'|O8'"), text.indexOf("'<f4'"));
    expect(bad(obj)).toMatch(/unsupported dtype descr '\|O8'/);
  });
});

describe('.npz', () => {
  const map = new Map([['x', samples[0]!], ['ids', samples[9]!], ['names', samples[14]!]]);

  test('round trip, stored and deflated', () => {
    for (const compress of [false, true]) {
      const back = decodeNpz(encodeNpz(map, { compress }));
      expect([...back.keys()]).toEqual(['x', 'ids', 'names']);
      expect(Buffer.from(back.get('x')!.bytes()).equals(Buffer.from(samples[0]!.bytes()))).toBe(true);
      expect([...(back.get('ids')!.toArray() as BigInt64Array)]).toEqual([-(2n ** 63n), 2n ** 63n - 1n]);
      expect(back.get('names')!.texts()).toEqual(['héllo', '🙂x']);
    }
  });

  test('deterministic bytes', () => {
    expect(Buffer.from(encodeNpz(map)).equals(Buffer.from(encodeNpz(new Map(map))))).toBe(true);
    expect(Buffer.from(encodeNpz(map, { compress: true })).equals(Buffer.from(encodeNpz(map, { compress: true })))).toBe(true);
  });

  test('numpy savez and savez_compressed archives are read', () => {
    requireNumpy();
    if (!hasNumpy) return;
    execFileSync(PYTHON, ['-c', `
import numpy as np
np.savez('${dir}/s.npz', x=np.arange(4, dtype=np.float32), y=np.array([[1, 2]], dtype=np.int32))
np.savez_compressed('${dir}/c.npz', x=np.arange(1000, dtype=np.float64))
`]);
    const s = decodeNpz(readFileSync(join(dir, 's.npz')));
    expect([...s.keys()].sort()).toEqual(['x', 'y']);
    expect([...s.get('x')!.toFloat64()]).toEqual([0, 1, 2, 3]);
    expect(s.get('y')!.dims).toEqual([1, 2]);
    const c = decodeNpz(readFileSync(join(dir, 'c.npz')));
    expect(c.get('x')!.toFloat64()[999]).toBe(999);
  });

  test('corrupt archives give a VerifyError', () => {
    const good = encodeNpz(map);
    expect(() => decodeNpz(new Uint8Array(100), 'a.npz')).toThrow(/a\.npz: not a zip archive/);
    expect(() => decodeNpz(good.subarray(0, good.length - 30), 'a.npz')).toThrow(/truncated zip|bad central directory|not a zip/);
    const flipped = Uint8Array.from(good);
    const at = 30 + 'x.npy'.length + 128 + 4; // inside the first entry's array data
    flipped[at] = flipped[at]! ^ 0xff;
    expect(() => decodeNpz(flipped, 'a.npz')).toThrow(/CRC mismatch/);
    const deflated = Uint8Array.from(encodeNpz(map, { compress: true }));
    deflated[60] = deflated[60]! ^ 0x55;
    expect(() => decodeNpz(deflated, 'a.npz')).toThrow(VerifyError);
  });
});
