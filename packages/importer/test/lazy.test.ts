/**
 * Lazy mode: the structure is walked with positional reads through a small window and tensor
 * payloads stay on disk until used; reads notice a file replaced or rewritten since load; the
 * maxTensorBytes limit refuses big reads (while save still streams them).
 */
import { openSync, readFileSync, statSync, utimesSync, writeSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { diffModels } from '@onnxkit/graph';
import { decodeWithDiagnostics, encode, ImportError, load, save, writeFileAtomic } from '@onnxkit/importer';
import * as ort from 'onnxruntime-node';
import { Decoder } from '../src/decode.js';
import { FileHandle, FileRangeSource } from '../src/file-source.js';
import { ModelSpec } from '../src/schema.js';
import { corpusModels } from './helpers/corpus.js';
import { cleanup, mlp, seededFloats, tempDir } from './helpers/files.js';
import { allSameBits, run } from './helpers/ort.js';
import { thrown } from '../../../test/helpers/errors.js';

afterAll(cleanup);

const importError = (fn: () => unknown): ImportError => thrown(ImportError, fn);

function savedMlp(width: number): { dir: string; path: string } {
  const dir = tempDir('lazy');
  const path = join(dir, 'mlp.onnx');
  save(mlp(width), path);
  return { dir, path };
}

describe('lazy structure walk', () => {
  it('reads a small fraction of the file, leaves large payloads on disk, and equals the eager decode', async () => {
    const { path } = savedMlp(512);
    const size = statSync(path).size;
    expect(size).toBeGreaterThan(2 * 512 * 512 * 4);
    const lazy = decodeWithDiagnostics(path, { lazy: true });
    const eager = decodeWithDiagnostics(path, { lazy: false });
    expect(lazy.stats.lazy).toBe(true);
    expect(eager.stats.bytesRead).toBe(size);
    expect(lazy.stats.bytesRead).toBeLessThan(64 * 1024);
    const w1 = lazy.model.graph.initializers.get('w1')!.constValue!;
    expect(w1.isLazy).toBe(true);
    expect(w1.origin).toMatch(/^mlp\.onnx @ \d+ \+ 1048576 bytes$/);
    // 2 KiB biases are over the 1 KiB threshold (LAZY_TENSOR_BYTES) and stay on disk too.
    expect(lazy.model.graph.initializers.get('b1')!.constValue!.isLazy).toBe(true);
    expect(diffModels(eager.model, lazy.model)).toEqual([]);
    // Re-encoding the lazy model streams payloads from disk and gives the file back.
    expect(Buffer.compare(encode(lazy.model), readFileSync(path))).toBe(0);
    const x = new ort.Tensor('float32', seededFloats(512, 3), [1, 512]);
    expect(allSameBits(await run(encode(eager.model), { x }), await run(encode(lazy.model), { x }))).toBeNull();
  });

  it("'auto' decodes small files eagerly", () => {
    const { path } = savedMlp(16);
    const r = decodeWithDiagnostics(path);
    expect(r.stats.lazy).toBe(false);
    expect(r.model.graph.initializers.get('w1')!.constValue!.isLazy).toBe(false);
  });

  it('a lazy read after the file was replaced fails instead of returning other bytes', () => {
    const { path } = savedMlp(128);
    const m = load(path, { lazy: true });
    const w1 = m.graph.initializers.get('w1')!.constValue!;
    expect(w1.bytes().byteLength).toBe(128 * 128 * 4);
    writeFileAtomic(path, encode(mlp(128, 42)));
    const e = importError(() => w1.bytes());
    expect(e.code).toBe('IMPORT_IO');
    expect(e.message).toContain('changed since the model was loaded');
    expect(e.file).toBe(path);
  });

  it('a lazy read after the file was rewritten in place fails too', () => {
    const { path } = savedMlp(128);
    const m = load(path, { lazy: true });
    const fd = openSync(path, 'r+');
    writeSync(fd, Uint8Array.of(0), 0, 1, statSync(path).size - 1);
    closeSync(fd);
    const later = new Date(Date.now() + 5000);
    utimesSync(path, later, later);
    expect(importError(() => m.graph.initializers.get('w2')!.constValue!.bytes()).code).toBe('IMPORT_IO');
  });

  it('maxTensorBytes refuses to read a big tensor into memory, while save streams it', () => {
    const { dir, path } = savedMlp(128);
    const m = load(path, { lazy: true, maxTensorBytes: 1000 });
    const e = importError(() => m.graph.initializers.get('w1')!.constValue!.bytes());
    expect(e.code).toBe('IMPORT_TOO_LARGE');
    expect(e.message).toContain("tensor 'w1' holds 65536 bytes, more than maxTensorBytes (1000)");
    const copy = join(dir, 'copy.onnx');
    save(m, copy, { externalData: true });
    expect(diffModels(mlp(128), load(copy))).toEqual([]);
  });
});

describe('lazyWeightsFrom: read whole, weights left in the file', () => {
  it('decodes in memory, leaves payloads of 1 KiB or more on disk, copies the smaller ones, and equals the eager decode', () => {
    const { path } = savedMlp(128);
    const size = statSync(path).size;
    const r = decodeWithDiagnostics(path, { lazyWeightsFrom: size });
    const eager = decodeWithDiagnostics(path, { lazy: false });
    expect(r.stats).toEqual({ inputBytes: size, bytesRead: size, lazy: true });
    const w1 = r.model.graph.initializers.get('w1')!.constValue!;
    expect(w1.isLazy).toBe(true);
    expect(w1.origin).toMatch(/^mlp\.onnx @ \d+ \+ 65536 bytes$/);
    expect(r.model.graph.initializers.get('b1')!.constValue!.isLazy).toBe(false); // 512 bytes
    expect(diffModels(eager.model, r.model)).toEqual([]);
    expect(Buffer.compare(encode(r.model), readFileSync(path))).toBe(0);
    // Below the size, and with an explicit `lazy`, the file is decoded as before.
    expect(decodeWithDiagnostics(path, { lazyWeightsFrom: size + 1 }).stats.lazy).toBe(false);
    expect(decodeWithDiagnostics(path, { lazyWeightsFrom: 0, lazy: false }).model.graph.initializers.get('w1')!.constValue!.isLazy).toBe(false);
  });

  it('a read after the file was replaced or rewritten in place fails instead of returning other bytes', () => {
    const { path } = savedMlp(128);
    const m = load(path, { lazyWeightsFrom: 0 });
    const w1 = m.graph.initializers.get('w1')!.constValue!;
    expect(w1.bytes().byteLength).toBe(128 * 128 * 4);
    writeFileAtomic(path, encode(mlp(128, 42)));
    const e = importError(() => m.graph.initializers.get('w2')!.constValue!.bytes());
    expect(e.code).toBe('IMPORT_IO');
    expect(e.message).toContain('changed since the model was loaded');
    expect(e.file).toBe(path);
    const m2 = load(path, { lazyWeightsFrom: 0 });
    const fd = openSync(path, 'r+');
    writeSync(fd, Uint8Array.of(0), 0, 1, statSync(path).size - 1);
    closeSync(fd);
    const later = new Date(Date.now() + 5000);
    utimesSync(path, later, later);
    expect(importError(() => m2.graph.initializers.get('w2')!.constValue!.bytes()).code).toBe('IMPORT_IO');
  });

  it('resolves names after releasing the input: an undefined or repeated name is reported as by the eager decode', () => {
    const { dir, path } = savedMlp(128);
    const bytes = readFileSync(path);
    // The second MatMul reads the first Add's output... under a name nothing defines.
    const add = Buffer.from(mlp(128).graph.nodes.find((n) => n.opType === 'Relu')!.inputs[0]!.name);
    const first = bytes.indexOf(add);
    const second = bytes.indexOf(add, first + 1);
    expect(second).toBeGreaterThan(first);
    const bad = Buffer.from(bytes);
    bad[second + add.length - 1] = 'Z'.charCodeAt(0);
    const badPath = join(dir, 'bad.onnx');
    writeFileAtomic(badPath, bad);
    const r = decodeWithDiagnostics(badPath, { lazyWeightsFrom: 0 });
    const eager = decodeWithDiagnostics(badPath, { lazy: false });
    expect(r.stats.lazy).toBe(true);
    expect(r.diagnostics.map((d) => d.code)).toContain('IMPORT_UNDEFINED_NAME');
    expect(r.diagnostics).toEqual(eager.diagnostics);
    expect(diffModels(eager.model, r.model)).toEqual([]);
  });

  it('maxTensorBytes does not limit reading them (the file was read whole, as without the option)', () => {
    const { path } = savedMlp(128);
    const m = load(path, { lazyWeightsFrom: 0, maxTensorBytes: 1000 });
    const w1 = m.graph.initializers.get('w1')!.constValue!;
    expect(w1.isLazy).toBe(true);
    expect(w1.bytes().byteLength).toBe(65536);
  });
});

describe('the windowed reader', () => {
  it('copies small payloads into shared, 8-byte aligned slabs (through windows smaller than a payload), unchanged', () => {
    const { path } = savedMlp(300); // 1,200-byte biases, 360,000-byte weights
    for (const windowBytes of [7, undefined]) {
      const handle = FileHandle.open(path, path, 'the model');
      handle.pin();
      let m;
      try {
        m = new Decoder(handle, ModelSpec, {
          windowBytes,
          lazyRaw: { threshold: 4096, source: (offset, length, name) => new FileRangeSource(handle, offset, length, `${offset}+${length}`, undefined, 2 ** 31, name) },
        }).model();
      } finally {
        handle.unpin();
      }
      const [b1, b2] = ['b1', 'b2'].map((n) => m.graph.initializers.get(n)!.constValue!);
      expect(b1!.isLazy).toBe(false);
      expect(m.graph.initializers.get('w1')!.constValue!.isLazy).toBe(true);
      expect(b1!.bytes().buffer).toBe(b2!.bytes().buffer);
      expect(b1!.bytes().byteOffset % 8).toBe(0);
      expect(b2!.bytes().byteOffset % 8).toBe(0);
      expect(Array.from(b2!.toArray() as Float32Array)).toEqual(Array.from(seededFloats(300, 4)));
      expect(Buffer.compare(encode(m), readFileSync(path))).toBe(0);
    }
  });

  it('decodes every corpus model through 7-byte windows, with payloads over 16 bytes left on disk, byte-identically', () => {
    const models = corpusModels();
    if (models.length === 0) return;
    let checked = 0;
    for (const c of models) {
      const handle = FileHandle.open(c.model, c.model, 'the model');
      handle.pin();
      let m;
      try {
        const dec = new Decoder(handle, ModelSpec, {
          windowBytes: 7,
          lazyRaw: { threshold: 16, source: (offset, length, name) => new FileRangeSource(handle, offset, length, `${offset}+${length}`, undefined, 2 ** 31, name) },
        });
        m = dec.model();
      } finally {
        handle.unpin();
      }
      expect(Buffer.compare(encode(m), readFileSync(c.model)), c.id).toBe(0);
      checked++;
    }
    expect(checked).toBe(models.length);
  });
});
