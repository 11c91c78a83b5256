/**
 * Atomic file writes, the one way onnxkit writes files: write `<name>.tmp-<host>-<pid>-<random>`
 * in the target's folder, fsync it, rename it over the target, fsync the folder. A failure at any
 * step (a throwing producer, a full disk) removes the temporary file and leaves the old target
 * untouched; readers never see a half-written file. The temporary file is created with O_EXCL,
 * so it can never clobber (or be redirected by) an existing file or symlink.
 *
 * A process killed mid-write (SIGKILL, power loss) cannot remove its temporary file; the next
 * write of the same target on the same host removes the temporaries of processes that no longer
 * exist (the host and pid in the name say whose they are; another host's files on a shared
 * folder are never touched).
 */
import { closeSync, fsyncSync, openSync, readdirSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { ExportError } from './errors.js';

/** This host, as it appears in temporary file names. */
const HOST = (hostname().replace(/[^A-Za-z0-9]/g, '').slice(0, 32) || 'host').toLowerCase();

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: it exists but belongs to someone else.
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Removes `<base>.tmp-<this host>-<pid>-*` files in `dir` left by processes that are gone.
 * Returns the names removed. Best effort: a file that cannot be listed or removed is left.
 */
export function removeStaleTemporaries(dir: string, base: string): string[] {
  const prefix = `${base}.tmp-${HOST}-`;
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names) {
    if (!name.startsWith(prefix)) continue;
    const m = /^(\d+)-[0-9a-z]+$/.exec(name.slice(prefix.length));
    if (m === null) continue;
    const pid = Number(m[1]);
    if (pid === process.pid || processAlive(pid)) continue;
    try {
      unlinkSync(join(dir, name));
      removed.push(name);
    } catch {
      // Gone already, or not ours to remove.
    }
  }
  return removed;
}

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
    removeStaleTemporaries(dir, basename(path));
    // The name only has to be unused: O_EXCL ('wx') refuses an existing name and we try another.
    for (let attempt = 0; ; attempt++) {
      const tempPath = join(dir, `${basename(path)}.tmp-${HOST}-${process.pid}-${Math.floor(Math.random() * 2 ** 48).toString(36)}`);
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
