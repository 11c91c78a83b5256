/**
 * Atomic file writes, the one way onnxkit writes files: write `<name>.tmp-<random>` in the
 * target's folder, fsync it, rename it over the target, fsync the folder. A failure at any step
 * (a throwing producer, a full disk) removes the temporary file and leaves the old target
 * untouched; readers never see a half-written file. The temporary file is created with O_EXCL,
 * so it can never clobber (or be redirected by) an existing file or symlink.
 */
import { closeSync, fsyncSync, openSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { ExportError } from './errors.js';

function ioFail(file: string, what: string, e: unknown): ExportError {
  const err = e as NodeJS.ErrnoException;
  const reason = err?.code === 'ENOSPC' ? 'no space left on the device' : err?.code === 'EACCES' ? 'permission denied' : err?.code === 'ENOENT' ? 'the folder does not exist' : (err?.message ?? String(e));
  return new ExportError('EXPORT_IO', `${what}: ${reason}`, { file, cause: e });
}

/** A file being written under a temporary name; `commit` renames it into place. */
export class AtomicFile {
  readonly tempPath!: string;
  bytesWritten = 0;
  private fd = -1;
  private done = false;

  constructor(readonly path: string) {
    const dir = dirname(path);
    let mode = 0o666;
    try {
      mode = statSync(path).mode & 0o777;
    } catch {
      // A new file: default permissions (minus the umask).
    }
    // The name only has to be unused: O_EXCL ('wx') refuses an existing name and we try another.
    for (let attempt = 0; ; attempt++) {
      const tempPath = join(dir, `${basename(path)}.tmp-${process.pid.toString(36)}${Math.floor(Math.random() * 2 ** 48).toString(36)}`);
      try {
        this.fd = openSync(tempPath, 'wx', mode);
        this.tempPath = tempPath;
        return;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST' || attempt >= 16) throw ioFail(path, `cannot create a temporary file in ${dir}`, e);
      }
    }
  }

  write(chunk: Uint8Array): void {
    let off = 0;
    try {
      while (off < chunk.byteLength) off += writeSync(this.fd, chunk, off, Math.min(chunk.byteLength - off, 1 << 30));
    } catch (e) {
      throw ioFail(this.path, `write failed after ${this.bytesWritten + off} bytes`, e);
    }
    this.bytesWritten += chunk.byteLength;
  }

  /** Flushes to stable storage and closes; the file is complete but not yet in place. */
  finish(): void {
    try {
      fsyncSync(this.fd);
      closeSync(this.fd);
      this.fd = -1;
    } catch (e) {
      throw ioFail(this.path, 'fsync failed', e);
    }
  }

  /** Renames the finished file over the target. */
  commit(): void {
    if (this.fd >= 0) this.finish();
    try {
      renameSync(this.tempPath, this.path);
    } catch (e) {
      throw ioFail(this.path, 'cannot rename the temporary file into place', e);
    }
    this.done = true;
    syncFolder(dirname(this.path));
  }

  /** Removes the temporary file (after a failure); the target is untouched. */
  abort(): void {
    if (this.done) return;
    this.done = true;
    if (this.fd >= 0) {
      try {
        closeSync(this.fd);
      } catch {
        // Already failing; the unlink below is what matters.
      }
      this.fd = -1;
    }
    try {
      unlinkSync(this.tempPath);
    } catch {
      // Nothing more can be done; the error being handled is reported instead.
    }
  }
}

/** Makes a rename durable. Some file systems cannot fsync a folder; that is not an error. */
function syncFolder(dir: string): void {
  let fd = -1;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch {
    // Best effort (see above).
  } finally {
    if (fd >= 0) closeSync(fd);
  }
}

/**
 * Writes `data` (bytes, or chunks produced on demand) to `path` atomically. If writing fails or
 * the iterable throws, the previous content of `path` is intact and no temporary file remains.
 * Returns the number of bytes written.
 */
export function writeFileAtomic(path: string, data: Uint8Array | Iterable<Uint8Array>): number {
  const f = new AtomicFile(path);
  try {
    if (data instanceof Uint8Array) f.write(data);
    else for (const chunk of data) f.write(chunk);
    f.commit();
    return f.bytesWritten;
  } catch (e) {
    f.abort();
    throw e;
  }
}
