// writeAllSync: all bytes reach a non-blocking pipe whose reader is slower than the writer (the
// EAGAIN wait), and a reader that leaves mid-way gives the error with the bytes written so far.
import { execFileSync, spawn } from 'node:child_process';
import { closeSync, constants, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { writeAllSync } from '@onnxkit/importer';

const dir = mkdtempSync(join(tmpdir(), 'onnxkit-write-all-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Opens `fifo` for writing, non-blocking, once `reader` has opened it (ENXIO until then). */
function openWriter(fifo: string): number {
  for (let i = 0; i < 5000; i++) {
    try {
      return openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENXIO') throw e;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 2);
    }
  }
  throw new Error(`no reader opened ${fifo}`);
}

const exited = (p: ReturnType<typeof spawn>): Promise<void> => new Promise((done) => p.on('exit', () => done()));

describe('writeAllSync', () => {
  const bytes = new Uint8Array(4 << 20).map((_, i) => (i * 2654435761) >>> 24);

  it('writes every byte to a full non-blocking pipe, waiting for its reader', async () => {
    const fifo = join(dir, 'all');
    execFileSync('mkfifo', [fifo]);
    const out = join(dir, 'all.out');
    const reader = spawn('sh', ['-c', `cat "${fifo}" > "${out}"`]);
    const fd = openWriter(fifo);
    writeAllSync(fd, bytes);
    closeSync(fd);
    await exited(reader);
    expect(Buffer.compare(readFileSync(out), Buffer.from(bytes.buffer))).toBe(0);
  });

  it('throws the write error with the bytes written before it when the reader leaves', async () => {
    const fifo = join(dir, 'gone');
    execFileSync('mkfifo', [fifo]);
    const reader = spawn('head', ['-c', '100000', fifo], { stdio: ['ignore', 'ignore', 'ignore'] });
    const fd = openWriter(fifo);
    let err: (Error & { code?: string; written?: number }) | undefined;
    try {
      writeAllSync(fd, bytes);
    } catch (e) {
      err = e as typeof err;
    } finally {
      closeSync(fd);
    }
    await exited(reader);
    expect(err?.code).toBe('EPIPE');
    expect(err?.written).toBeGreaterThanOrEqual(100000);
    expect(err?.written).toBeLessThan(bytes.byteLength);
  });
});
