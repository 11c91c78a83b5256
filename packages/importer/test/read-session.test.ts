/**
 * Read sessions (file-source.ts): a save reads every lazy tensor through one descriptor per file
 * and read-ahead windows, still refuses a file changed since the load, and closes what it opened
 * on every path.
 */
import { openSync, readdirSync, readFileSync, statSync, utimesSync, writeSync, closeSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { GraphBuilder, DataType, Tensor, type Model } from '@onnxkit/graph';
import { ExportError, ImportError, load, save, withReadSession, withReadSessionAsync } from '@onnxkit/importer';
import { FileRangeSource, sessionFilesForTesting, type FileHandle } from '../src/file-source.js';
import { cleanup, seededFloats, tempDir } from './helpers/files.js';
import { thrown } from '../../../test/helpers/errors.js';

afterAll(cleanup);

/** A chain of `n` MatMuls with distinct 16×16 float weights (1 KiB each: lazy when loaded lazily). */
function chain(n: number): Model {
  const b = new GraphBuilder({ name: 'chain', opset: 17 });
  let x = b.input('x', DataType.FLOAT, [1, 16]);
  for (let i = 0; i < n; i++) x = b.op('MatMul', [x, b.constant(`w${i}`, Tensor.fromArray(DataType.FLOAT, [16, 16], seededFloats(256, i + 1)))]);
  b.output(x, 'y', { kind: 'tensor', elemType: DataType.FLOAT, shape: [1, 16] });
  return b.build({ irVersion: 8 });
}

function savedChain(n: number): { dir: string; path: string; model: Model } {
  const dir = tempDir('session');
  const path = join(dir, 'chain.onnx');
  save(chain(n), path);
  return { dir, path, model: load(path, { lazy: true }) };
}

function handleOf(m: Model, name: string): FileHandle {
  const src = m.graph.initializers.get(name)!.constValue!.source as unknown as { handle: FileHandle };
  expect(src).toBeInstanceOf(FileRangeSource);
  return src.handle;
}

const openFds = (): number => (existsSync('/proc/self/fd') ? readdirSync('/proc/self/fd').length : 0);

describe('read sessions', () => {
  it('a save reads 200 lazy 1 KiB weights through one descriptor, byte-identically, and closes it', () => {
    const { dir, path, model } = savedChain(200);
    expect(model.graph.initializers.get('w0')!.constValue!.isLazy).toBe(true);
    const handle = handleOf(model, 'w0');
    const before = handle.reopens;
    const fds = openFds();
    const out = join(dir, 'out.onnx');
    save(model, out);
    expect(handle.reopens - before).toBe(1);
    expect(Buffer.compare(readFileSync(out), readFileSync(path))).toBe(0);
    expect(sessionFilesForTesting()).toBe(0);
    expect(openFds()).toBe(fds);
    // Outside a session, each read opens, checks and closes the file.
    model.graph.initializers.get('w1')!.constValue!.bytes();
    model.graph.initializers.get('w2')!.constValue!.bytes();
    expect(handle.reopens - before).toBe(3);
  });

  it('a save still refuses a file rewritten since the load, and closes the descriptor', () => {
    const { dir, path, model } = savedChain(50);
    const fd = openSync(path, 'r+');
    writeSync(fd, Uint8Array.of(0), 0, 1, statSync(path).size - 1);
    closeSync(fd);
    const later = new Date(Date.now() + 5000);
    utimesSync(path, later, later);
    const fds = openFds();
    const out = join(dir, 'out.onnx');
    const e = thrown(ExportError, () => save(model, out));
    expect(e.code).toBe('EXPORT_IO');
    expect(e.message).toContain('changed since the model was loaded');
    expect(existsSync(out)).toBe(false);
    expect(sessionFilesForTesting()).toBe(0);
    expect(openFds()).toBe(fds);
  });

  it('within a session, a change is noticed at the next read from the disk; bytes already read are the loaded ones', () => {
    const { path, model } = savedChain(200);
    const w = (i: number) => model.graph.initializers.get(`w${i}`)!.constValue!;
    const first = Array.from(w(0).bytes());
    withReadSession(() => {
      expect(Array.from(w(0).bytes())).toEqual(first);
      expect(sessionFilesForTesting()).toBe(1);
      const later = new Date(Date.now() + 5000);
      utimesSync(path, later, later);
      // w1 lies in the window read with w0 (read before the change); w199 is 200 KiB further.
      expect(w(1).bytes().byteLength).toBe(1024);
      expect(thrown(ImportError, () => w(199).bytes()).message).toContain('changed since the model was loaded');
    });
    expect(sessionFilesForTesting()).toBe(0);
  });

  it('an async session closes its descriptors when the work settles, failed or not', async () => {
    const { model } = savedChain(20);
    const fds = openFds();
    await expect(
      withReadSessionAsync(async () => {
        model.graph.initializers.get('w3')!.constValue!.bytes();
        expect(sessionFilesForTesting()).toBe(1);
        await Promise.resolve();
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(sessionFilesForTesting()).toBe(0);
    expect(openFds()).toBe(fds);
  });

  it('--in-place: a lazily loaded model replaces its own file only after everything was read', () => {
    const { path, model } = savedChain(100);
    const expected = readFileSync(path);
    save(model, path, { inPlace: true });
    expect(Buffer.compare(readFileSync(path), expected)).toBe(0);
    expect(sessionFilesForTesting()).toBe(0);
  });
});
