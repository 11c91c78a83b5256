/**
 * No data lost (issue 7 part 4): atomic writes leave the old file intact and no temporary file
 * behind when anything fails; save refuses to overwrite the file a model still reads from
 * unless told `inPlace`; outputs are deterministic.
 */
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DataType, GraphBuilder, Tensor, diffModels, type TensorSource } from '@onnxkit/graph';
import { encode, ExportError, load, onTemporaryFile, save, writeFileAtomic } from '@onnxkit/importer';
import { cleanup, mlp, tempDir, tempFiles } from './helpers/files.js';
import { thrown } from '../../../test/helpers/errors.js';

afterAll(cleanup);

const exportError = (fn: () => unknown): ExportError => thrown(ExportError, fn);

describe('writeFileAtomic', () => {
  it('writes bytes or chunks, replaces the old file and keeps its permissions', () => {
    const dir = tempDir('atomic');
    const p = join(dir, 'f.bin');
    expect(writeFileAtomic(p, Uint8Array.of(1, 2, 3))).toBe(3);
    chmodSync(p, 0o640);
    writeFileAtomic(p, [Uint8Array.of(4), Uint8Array.of(5, 6)]);
    expect(Array.from(readFileSync(p))).toEqual([4, 5, 6]);
    expect(statSync(p).mode & 0o777).toBe(0o640);
    expect(tempFiles(dir)).toEqual([]);
  });

  it('a failure mid-write leaves the old file intact and no temporary file behind', () => {
    const dir = tempDir('atomic');
    const p = join(dir, 'f.bin');
    writeFileSync(p, 'old content');
    function* chunks(): Generator<Uint8Array> {
      yield new Uint8Array(1 << 20).fill(1);
      yield new Uint8Array(1 << 20).fill(2);
      throw new Error('producer failed after 2 MiB');
    }
    expect(() => writeFileAtomic(p, chunks())).toThrow('producer failed after 2 MiB');
    expect(readFileSync(p, 'utf8')).toBe('old content');
    expect(tempFiles(dir)).toEqual([]);
    expect(readdirSync(dir)).toEqual(['f.bin']);
  });

  it('a large write (flushed to disk early, on the thread pool) has the right content, and its descriptor is closed once the flushes are done; a failure after them still leaves nothing', async () => {
    const dir = tempDir('atomic-large');
    const p = join(dir, 'big.bin');
    const chunk = new Uint8Array(5 << 20);
    const fds = () => (existsSync('/proc/self/fd') ? readdirSync('/proc/self/fd').length : 0); // Linux; elsewhere not checked
    const before = fds();
    const chunks = Array.from({ length: 12 }, (_, i) => chunk.map((_, j) => (i * 7 + j) & 255)); // 60 MiB, several early flushes
    expect(writeFileAtomic(p, chunks)).toBe(60 << 20);
    const back = readFileSync(p);
    for (let i = 0; i < 12; i++) expect(Buffer.compare(back.subarray(i * (5 << 20), (i + 1) * (5 << 20)), chunks[i]!)).toBe(0);
    for (let i = 0; i < 200 && fds() > before; i++) await new Promise((r) => setTimeout(r, 5));
    expect(fds()).toBe(before);
    function* failing(): Generator<Uint8Array> {
      for (let i = 0; i < 8; i++) yield chunk;
      throw new Error('producer failed');
    }
    expect(() => writeFileAtomic(p, failing())).toThrow(/producer failed/);
    expect(Buffer.compare(readFileSync(p), back)).toBe(0);
    expect(tempFiles(dir)).toEqual([]);
    for (let i = 0; i < 200 && fds() > before; i++) await new Promise((r) => setTimeout(r, 5));
    expect(fds()).toBe(before);
  });

  it('onTemporaryFile listeners hear of each temporary file before it exists (the CLI arms its signal handlers there), until removed', () => {
    const dir = tempDir('atomic');
    const p = join(dir, 'f.bin');
    const seen: string[][] = [];
    const off = onTemporaryFile(() => seen.push(tempFiles(dir)));
    try {
      writeFileAtomic(p, Uint8Array.of(1));
      writeFileAtomic(p, Uint8Array.of(2));
      writeFileAtomic(join(dir, 'g.bin'), Uint8Array.of(3));
      expect(seen).toEqual([[], [], []]);
    } finally {
      off();
    }
    writeFileAtomic(p, Uint8Array.of(4));
    expect(seen).toHaveLength(3);
    expect(tempFiles(dir)).toEqual([]);
  });

  it('a missing folder is a clear ExportError', () => {
    const dir = tempDir('atomic');
    const e = exportError(() => writeFileAtomic(join(dir, 'no', 'such', 'f.bin'), Uint8Array.of(1)));
    expect(e.code).toBe('EXPORT_IO');
    expect(e.message).toContain('cannot create a temporary file');
  });
});

describe('save', () => {
  it('writes exactly encode(model) without external data, deterministically', () => {
    const dir = tempDir('save');
    const m = mlp(16);
    save(m, join(dir, 'a.onnx'));
    save(m, join(dir, 'b.onnx'));
    expect(new Uint8Array(readFileSync(join(dir, 'a.onnx')))).toEqual(encode(m));
    expect(Buffer.compare(readFileSync(join(dir, 'a.onnx')), readFileSync(join(dir, 'b.onnx')))).toBe(0);
    expect(tempFiles(dir)).toEqual([]);
  });

  it('a tensor that cannot be read mid-save leaves the old model and data files intact, with no temporary files', () => {
    const dir = tempDir('save');
    const path = join(dir, 'm.onnx');
    save(mlp(32), path, { externalData: true });
    const oldModel = readFileSync(path);
    const oldData = readFileSync(join(dir, 'm.onnx.data'));
    const failing: TensorSource = {
      byteLength: 8192,
      description: 'a disk that fails',
      read(): Uint8Array {
        throw new Error('EIO: the disk went away');
      },
    };
    const b = new GraphBuilder();
    const x = b.input('x', DataType.FLOAT, [2048]);
    b.output(b.op('Add', [x, b.constant('w', Tensor.lazy(DataType.FLOAT, [2048], failing))]), 'y');
    for (const externalData of [true, false]) {
      expect(() => save(b.build(), path, { externalData })).toThrow('EIO: the disk went away');
      expect(Buffer.compare(readFileSync(path), oldModel)).toBe(0);
      expect(Buffer.compare(readFileSync(join(dir, 'm.onnx.data')), oldData)).toBe(0);
      expect(tempFiles(dir)).toEqual([]);
    }
  });

  it('refuses to overwrite the file a model was loaded from, unless inPlace', () => {
    const dir = tempDir('save');
    const path = join(dir, 'm.onnx');
    save(mlp(16), path);
    const m = load(path);
    const e = exportError(() => save(m, path));
    expect(e.code).toBe('EXPORT_OVERWRITE_SOURCE');
    expect(e.message).toContain('is the file this model was loaded from');
    expect(e.hint).toContain('inPlace');
    m.docString = 'edited';
    save(m, path, { inPlace: true });
    expect(load(path).docString).toBe('edited');
  });

  it('refuses to overwrite an external data file a lazily loaded model still reads, unless inPlace; in place it works', () => {
    const dir = tempDir('save');
    const path = join(dir, 'm.onnx');
    const original = mlp(64);
    save(original, path, { externalData: true });
    const m = load(path, { lazy: true });
    expect(m.graph.initializers.get('w1')!.constValue!.isLazy).toBe(true);
    const other = join(dir, 'copy.onnx');
    expect(exportError(() => save(m, other, { externalData: { location: 'm.onnx.data' } })).code).toBe('EXPORT_OVERWRITE_SOURCE');
    // In place, with the same data file name: every tensor is read before either file is renamed.
    save(m, path, { externalData: true, inPlace: true });
    expect(diffModels(original, load(path))).toEqual([]);
    expect(tempFiles(dir)).toEqual([]);
  });

  it('refuses an external data location that is the model file itself', () => {
    const dir = tempDir('save');
    expect(exportError(() => save(mlp(16), join(dir, 'm.onnx'), { externalData: { location: 'm.onnx' } })).code).toBe('EXPORT_LOCATION');
  });

  it('a model over 2 GiB cannot be encoded in one buffer or saved without external data, and nothing is read or written trying', () => {
    let reads = 0;
    const huge: TensorSource = {
      byteLength: 3 * 2 ** 30,
      description: 'a 3 GiB tensor',
      read(): Uint8Array {
        reads++;
        throw new Error('must not be read');
      },
    };
    const b = new GraphBuilder();
    b.output(b.constant('w', Tensor.lazy(DataType.FLOAT, [3 * 2 ** 28], huge)), 'w');
    const m = b.build();
    expect(exportError(() => encode(m)).code).toBe('EXPORT_TOO_LARGE');
    const dir = tempDir('save');
    const e = exportError(() => save(m, join(dir, 'big.onnx'), { externalData: false }));
    expect(e.code).toBe('EXPORT_TOO_LARGE');
    expect(e.hint).toContain('externalData');
    expect(reads).toBe(0);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('a missing output folder is an ExportError', () => {
    const dir = tempDir('save');
    mkdirSync(join(dir, 'exists'));
    expect(exportError(() => save(mlp(8), join(dir, 'nope', 'm.onnx'))).code).toBe('EXPORT_IO');
  });
});
