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
import { closeSync, constants, copyFileSync, fdatasync, fsyncSync, linkSync, lstatSync, openSync, readdirSync, realpathSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { basename, dirname, join, sep } from 'node:path';
import { ExportError } from './errors.js';
import { isInside } from './external-data.js';

/**
 * Temporary files being written by this process. A signal handler removes them before exiting
 * (`removeLiveTemporaries`), so an interrupted save leaves nothing behind.
 */
const live = new Set<string>();

/** See onTemporaryFile. */
const creationListeners: (() => void)[] = [];

/**
 * Calls `listener` each time, from now on, just before this process creates a temporary file
 * (the one of a save, or the backup of a replaced file), synchronously: the onnxkit command
 * installs its signal handlers (which call removeLiveTemporaries) there, and only there, so a
 * command that never saves keeps the default disposition, ended at once by a signal even in the
 * middle of long synchronous work (see packages/cli/src/interrupt.ts). Returns a function that
 * removes the listener.
 */
export function onTemporaryFile(listener: () => void): () => void {
  creationListeners.push(listener);
  return () => {
    const i = creationListeners.indexOf(listener);
    if (i >= 0) creationListeners.splice(i, 1);
  };
}

/** Tells the listeners a temporary file is about to be created (before it exists: a signal cannot fall between). */
function temporaryComing(): void {
  for (const listener of creationListeners) listener();
}

/** Removes every temporary file this process is writing (for SIGINT/SIGTERM handlers). Sync, best effort. */
export function removeLiveTemporaries(): string[] {
  const removed: string[] = [];
  for (const p of live) {
    try {
      unlinkSync(p);
      removed.push(p);
    } catch {
      // Already gone.
    }
  }
  live.clear();
  return removed;
}

/**
 * Where and how a target is written:
 * - `-` is standard output, streamed;
 * - a path ending in a slash names a folder: refused (it is never a file to replace);
 * - a symlink is resolved and its target replaced atomically, as write-file-atomic does; a
 *   dangling or looping symlink, or one leading out of its folder, is refused (never replaced);
 * - a character or block device, FIFO or socket is streamed into, never renamed over (renaming
 *   over /dev/null as root would replace the device node with a regular file);
 * - a folder is refused; anything else (a regular file or a new name) is replaced atomically.
 */
export function resolveOutput(path: string): { kind: 'file' | 'stream' | 'stdout'; path: string } {
  if (path === '-') return { kind: 'stdout', path };
  if (path.endsWith('/') || path.endsWith(sep)) {
    throw new ExportError('EXPORT_IO', 'ends with a slash, so it names a folder; give a file name', { file: path, hint: `e.g. ${path}model.onnx` });
  }
  let st;
  try {
    st = lstatSync(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { kind: 'file', path };
    throw ioFail(path, 'cannot inspect the output path', e);
  }
  let real = path;
  if (st.isSymbolicLink()) {
    try {
      real = realpathSync(path);
      st = statSync(real);
    } catch (e) {
      throw new ExportError('EXPORT_IO', 'is a symlink to a missing file (or a symlink loop); refusing to write through it', { file: path, cause: e, hint: 'remove the link or point it at a file' });
    }
    // A link planted in the output folder must not redirect the write elsewhere (issue 7).
    let folder = dirname(path);
    try {
      folder = realpathSync(folder);
    } catch {
      // Resolved above through the same folder; keep the plain name.
    }
    if (!isInside(folder, real)) {
      throw new ExportError('EXPORT_IO', `is a symlink to ${real}, outside its folder; refusing to write through it (or to replace the link)`, { file: path, hint: `write to ${real} directly, or remove the link` });
    }
  }
  if (st.isDirectory()) throw new ExportError('EXPORT_IO', 'is a folder; give a file name', { file: path });
  if (st.isFile()) return { kind: 'file', path: real };
  return { kind: 'stream', path: real };
}

/** A file being written starts flushing to disk every this many bytes (see AtomicFile.flushEarly)… */
const EARLY_FLUSH_BYTES = 16 << 20;
/** …with at most this many flushes in flight (a synchronous save gets no callbacks until it returns). */
const MAX_EARLY_FLUSHES = 8;

/**
 * Writes all of `bytes` to `fd`, waiting for the reader when a non-blocking pipe (stdout, a FIFO)
 * is full (EAGAIN). Any other failure is thrown as it came, with `written`: the bytes of this
 * call that were written before it.
 * @internal (for the CLI's JSON stream)
 */
export function writeAllSync(fd: number, bytes: Uint8Array): void {
  let off = 0;
  while (off < bytes.byteLength) {
    try {
      off += writeSync(fd, bytes, off, Math.min(bytes.byteLength - off, 1 << 30));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') throw Object.assign(e as Error, { written: off });
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1);
    }
  }
}

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

/** A new temporary name beside `path`: `<name>.tmp-<host>-<pid>-<random>` (removeStaleTemporaries reads it back). */
function temporaryName(path: string): string {
  return join(dirname(path), `${basename(path)}.tmp-${HOST}-${process.pid}-${Math.floor(Math.random() * 2 ** 48).toString(36)}`);
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

/**
 * Checks, before any work, that a file can be created where `path` would be written: creates and
 * removes a temporary file as AtomicFile would (same name, O_EXCL), so a folder nobody may write
 * in — /proc, /sys, a read-only mount, which access(2) lets root believe writable — is refused
 * before a long job rather than after it, in the words the write would use. Nothing is checked
 * for standard output, a device or FIFO (streamed into), or a folder that does not exist yet (the
 * caller makes it). A process killed between the two calls leaves a temporary the next write of
 * the same target removes (removeStaleTemporaries).
 */
export function probeWritable(path: string): void {
  const target = resolveOutput(path);
  if (target.kind !== 'file') return;
  const dir = dirname(target.path);
  try {
    if (!statSync(dir).isDirectory()) return;
  } catch {
    return; // (made later by the caller, or refused there)
  }
  const probe = temporaryName(target.path);
  let fd: number;
  try {
    fd = openSync(probe, 'wx', 0o600);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return; // (a name in use: the folder takes files)
    // (ENOENT in a folder that exists: /proc's answer; EACCES: /sys's, or the folder's permissions)
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new ExportError('EXPORT_IO', `cannot create a file in ${dir}: the folder does not take new files`, { file: path, cause: e });
    throw ioFail(path, `cannot create a temporary file in ${dir}`, e);
  }
  closeSync(fd);
  try {
    unlinkSync(probe);
  } catch {
    // Gone already.
  }
}

/**
 * A file being written under a temporary name; `commit` renames it into place. Standard output
 * (`-`), devices and FIFOs are streamed into instead (see resolveOutput); `streaming` says so.
 */
export class AtomicFile {
  readonly tempPath!: string;
  readonly streaming: boolean = false;
  bytesWritten = 0;
  private fd = -1;
  private done = false;
  private ownsFd = true;
  /** Early flushes in flight (see write); the descriptor is closed only once they are done. */
  private flushing = 0;
  private closeWhenFlushed = -1;
  private unflushed = 0;
  /** @internal Test hook: commits of these paths fail as a rename would. */
  static readonly failCommitForTesting = new Set<string>();

  constructor(readonly path: string) {
    const target = resolveOutput(path);
    if (target.kind === 'stdout') {
      this.streaming = true;
      this.fd = 1;
      this.ownsFd = false;
      this.tempPath = '';
      return;
    }
    if (target.kind === 'stream') {
      this.streaming = true;
      this.tempPath = '';
      try {
        // Non-blocking open: a FIFO without a reader fails (ENXIO) instead of hanging.
        this.fd = openSync(target.path, constants.O_WRONLY | constants.O_NONBLOCK);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        throw ioFail(path, code === 'ENXIO' ? 'cannot write to it: a FIFO with no reader, or a socket' : 'cannot open it for writing', e);
      }
      return;
    }
    path = target.path;
    this.path = path;
    const dir = dirname(path);
    let mode = 0o666;
    try {
      mode = statSync(path).mode & 0o777;
    } catch {
      // A new file: default permissions (minus the umask).
    }
    removeStaleTemporaries(dir, basename(path));
    temporaryComing();
    // The name only has to be unused: O_EXCL ('wx') refuses an existing name and we try another.
    for (let attempt = 0; ; attempt++) {
      const tempPath = temporaryName(path);
      try {
        this.fd = openSync(tempPath, 'wx', mode);
        this.tempPath = tempPath;
        live.add(tempPath);
        return;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST' || attempt >= 16) throw ioFail(path, `cannot create a temporary file in ${dir}`, e);
      }
    }
  }

  write(chunk: Uint8Array): void {
    try {
      writeAllSync(this.fd, chunk);
    } catch (e) {
      throw ioFail(this.path, `write failed after ${this.bytesWritten + ((e as { written?: number }).written ?? 0)} bytes`, e);
    }
    this.bytesWritten += chunk.byteLength;
    this.unflushed += chunk.byteLength;
    if (!this.streaming && this.unflushed >= EARLY_FLUSH_BYTES && this.flushing < MAX_EARLY_FLUSHES) this.flushEarly();
  }

  /**
   * Starts writing what is written so far to the disk, on libuv's thread pool, while this
   * thread goes on producing the rest: finish()'s fsync then waits only for the tail (for a
   * 100 MB model, tens of milliseconds less). Durability still comes from finish()'s fsync.
   */
  private flushEarly(): void {
    this.unflushed = 0;
    this.flushing++;
    const fd = this.fd;
    fdatasync(fd, () => {
      // An error here is not lost: finish()'s fsync of the same file reports it.
      if (--this.flushing === 0 && this.closeWhenFlushed >= 0) this.closeNow();
    });
  }

  /** Closes the descriptor now, or when the early flushes using it are done. */
  private release(): void {
    const fd = this.fd;
    this.fd = -1;
    if (fd < 0) return;
    this.closeWhenFlushed = fd;
    if (this.flushing === 0) this.closeNow();
  }

  private closeNow(): void {
    const fd = this.closeWhenFlushed;
    this.closeWhenFlushed = -1;
    try {
      closeSync(fd);
    } catch {
      // Closing a descriptor that was written and synced cannot lose data.
    }
  }

  /** Flushes to stable storage and closes; the file is complete but not yet in place. */
  finish(): void {
    if (this.streaming) return;
    try {
      fsyncSync(this.fd);
      this.release();
    } catch (e) {
      throw ioFail(this.path, 'fsync failed', e);
    }
  }

  /** Renames the finished file over the target. */
  commit(): void {
    if (this.streaming) {
      this.done = true;
      if (this.ownsFd && this.fd >= 0) closeSync(this.fd);
      this.fd = -1;
      return;
    }
    if (this.fd >= 0) this.finish();
    try {
      if (AtomicFile.failCommitForTesting.has(this.path)) throw Object.assign(new Error('injected rename failure'), { code: 'EIO' });
      renameSync(this.tempPath, this.path);
    } catch (e) {
      throw ioFail(this.path, 'cannot rename the temporary file into place', e);
    }
    live.delete(this.tempPath);
    this.done = true;
    syncFolder(dirname(this.path));
  }

  /** Removes the temporary file (after a failure); the target is untouched. */
  abort(): void {
    if (this.done) return;
    this.done = true;
    if (this.fd >= 0 && this.ownsFd) this.release();
    this.fd = -1;
    if (this.streaming) return;
    live.delete(this.tempPath);
    try {
      unlinkSync(this.tempPath);
    } catch {
      // Nothing more can be done; the error being handled is reported instead.
    }
  }
}

/**
 * Commits several finished files as one: either every file is in place, or — if any rename
 * fails — every target holds its old content again (or is absent, if it was new). The old
 * files stay reachable through hard links (`<name>.tmp-…` names, removed afterwards) until the
 * last rename has succeeded. With `convert --external-data` this keeps the model and its data
 * file a matching pair.
 */
export function commitTogether(files: readonly AtomicFile[]): void {
  if (files.length === 1 || files.every((f) => f.streaming)) {
    for (const f of files) f.commit();
    return;
  }
  const backups = files.map((f) => (f.streaming ? undefined : keepOld(f.path)));
  const done: number[] = [];
  try {
    files.forEach((f, i) => {
      f.commit();
      done.push(i);
    });
  } catch (e) {
    for (const i of done) {
      const b = backups[i];
      try {
        if (b !== undefined) renameSync(b, files[i]!.path);
        else unlinkSync(files[i]!.path);
      } catch {
        // Best effort: the error below is what the caller sees.
      }
    }
    throw e;
  } finally {
    for (const b of backups) {
      if (b === undefined) continue;
      live.delete(b);
      try {
        unlinkSync(b);
      } catch {
        // Restored over the target already.
      }
    }
  }
}

/** A hard link to the current content of `path` (undefined when there is none). */
function keepOld(path: string): string | undefined {
  try {
    if (!statSync(path).isFile()) return undefined;
  } catch {
    return undefined;
  }
  temporaryComing();
  for (let attempt = 0; attempt < 16; attempt++) {
    const b = temporaryName(path);
    try {
      linkSync(path, b);
      live.add(b);
      return b;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') continue;
      try {
        copyFileSync(path, b, constants.COPYFILE_EXCL);
        live.add(b);
        return b;
      } catch (e2) {
        throw ioFail(path, 'cannot keep the old file while replacing the pair', e2);
      }
    }
  }
  throw new ExportError('EXPORT_IO', 'cannot find a free temporary name', { file: path });
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
