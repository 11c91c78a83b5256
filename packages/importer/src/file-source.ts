/**
 * Files read by positional reads: the model file in lazy mode and external data files.
 *
 * A FileHandle remembers the identity of the file it validated (device, inode, size,
 * modification time) and checks it on every read, so a tensor read after the file was replaced
 * or rewritten fails with IMPORT_IO instead of returning someone else's bytes. Descriptors are
 * held only while a structure walk is in progress (`pin`) or a read session (`withReadSession`,
 * around a save) is open; other lazy tensor reads open, verify, read and close, so a model with
 * thousands of external files never exhausts file descriptors (a session keeps at most
 * SESSION_FILES of them open).
 * Reads go through `fs.readSync` at explicit positions in chunks below 1 GiB, which is how
 * files over 2 GiB (beyond `readFileSync`) and tensors over 4 GiB are streamed.
 */
import { closeSync, constants, fstatSync, lstatSync, openSync, readlinkSync, readSync, realpathSync, statSync, type BigIntStats } from 'node:fs';

/**
 * The real path of the file open on `fd`: /proc/self/fd on Linux; elsewhere the realpath of
 * `path`, accepted only if it is still the same file (device and inode) as the descriptor.
 */
function openedRealPath(fd: number, path: string, st: BigIntStats): string {
  try {
    return readlinkSync(`/proc/self/fd/${fd}`);
  } catch {
    // No procfs.
  }
  try {
    const real = realpathSync(path);
    const now = statSync(real, { bigint: true });
    if (now.dev === st.dev && now.ino === st.ino) return real;
  } catch {
    // Fall through: unknown.
  }
  return '(a file that changed while it was opened)';
}
import { basename } from 'node:path';
import type { ExternalDataInfo } from '@onnxkit/graph';
import { ImportError } from './errors.js';
import type { RangeReadable } from './encode.js';
import type { PositionalInput } from './wire.js';

const READ_CHUNK = 1 << 30;
/** Largest typed array Node 20 can allocate. */
const MAX_ALLOCATION = 2 ** 32 - 1;

/**
 * In a read session, reads smaller than this are served from a window of this many bytes read
 * ahead at once: a save writes the initializers of a lazily loaded model in file order, so a
 * weighted chain's 200k small weights (1M nodes) cost a few thousand reads instead of 200k
 * open/fstat/read/close rounds.
 */
const SESSION_WINDOW = 64 * 1024;
/** Descriptors a read session keeps open at most (the least recently joined is closed first). */
const SESSION_FILES = 16;
let sessionDepth = 0;
const sessionHandles = new Set<FileHandle>();

/**
 * Runs `fn` with file reads batched: a file read from keeps its descriptor open and reads small
 * ranges through a read-ahead window, until the outermost session ends (normally or not), when
 * every descriptor it opened is closed and the windows are dropped. The file's identity is still
 * checked on every read from the disk (each window fill), so a file changed since the load is
 * still refused; bytes served from a window were read (and checked) during this session.
 */
export function withReadSession<T>(fn: () => T): T {
  sessionDepth++;
  try {
    return fn();
  } finally {
    endSession();
  }
}

/**
 * withReadSession around asynchronous work (an optimization pipeline, whose passes read weights
 * in graph order: a dedupe pass hashes every small lazy initializer). Reads made by anything
 * else running meanwhile are batched too; everything is closed when `fn` settles.
 */
export async function withReadSessionAsync<T>(fn: () => Promise<T>): Promise<T> {
  sessionDepth++;
  try {
    return await fn();
  } finally {
    endSession();
  }
}

function endSession(): void {
  if (--sessionDepth > 0) return;
  let failure: unknown;
  for (const h of sessionHandles) {
    try {
      h.leaveSession();
    } catch (e) {
      failure ??= e;
    }
  }
  sessionHandles.clear();
  if (failure !== undefined) throw failure;
}

/** @internal Descriptors held by the current read session (tests). */
export function sessionFilesForTesting(): number {
  return sessionHandles.size;
}

export class FileHandle implements PositionalInput {
  readonly size: number;
  /** Bytes read through this handle (reported by benchmarks and `inspect`). */
  bytesRead = 0;
  /** Times the file was opened again for reads after `open` (tests: a save opens it once). */
  reopens = 0;
  private fd = -1;
  private pins = 0;
  private readonly identity: BigIntStats;
  /** In a read session: the read-ahead window and the file range it holds. */
  private window: Uint8Array | undefined = undefined;
  private windowAt = 0;
  private windowLength = 0;
  /** In the current read session's set (sessionHandles), checked per read without a Set lookup. */
  private inSession = false;

  private constructor(
    /** The path opened (already resolved by the caller). */
    readonly path: string,
    /** The name shown in messages (as the user or the model wrote it). */
    readonly display: string,
    fd: number,
    st: BigIntStats,
  ) {
    this.identity = st;
    this.size = Number(st.size);
    this.fd = fd;
  }

  /**
   * Opens `path` without following a final symlink and without blocking on FIFOs, and checks
   * it is a regular file. `what` names the file in messages ("external data file 'w.bin'").
   */
  static open(path: string, display: string, what: string, checkOpened?: (realPath: string) => void): FileHandle {
    FileHandle.beforeOpenForTesting?.(path);
    let fd: number;
    try {
      fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK | (constants.O_NOFOLLOW ?? 0));
    } catch (e) {
      throw ioError(display, `cannot open ${what}`, e, path);
    }
    try {
      const st = fstatSync(fd, { bigint: true });
      if (!st.isFile()) {
        throw new ImportError('IMPORT_IO', `${what} is not a regular file (${fileKind(st)}); refusing to read it`, { file: display });
      }
      // The path was checked before the open; a folder on it may have been swapped for a
      // symlink since. Check the file actually opened: its real path from the descriptor.
      if (checkOpened !== undefined) checkOpened(openedRealPath(fd, path, st));
      const h = new FileHandle(path, display, fd, st);
      h.pins = 1;
      h.unpin();
      return h;
    } catch (e) {
      closeSync(fd);
      throw e;
    }
  }

  /** @internal Test hook: runs between the caller's path checks and the open (to stage a race). */
  static beforeOpenForTesting: ((path: string) => void) | undefined = undefined;

  /** Keeps the descriptor open until `unpin` (for many small reads, e.g. a structure walk). */
  pin(): void {
    if (this.pins === 0 && this.fd < 0) this.fd = this.reopen();
    this.pins++;
  }

  unpin(): void {
    if (--this.pins === 0 && this.fd >= 0) {
      closeSync(this.fd);
      this.fd = -1;
    }
  }

  /** Joins the current read session: pinned (and its descriptor counted) until the session ends. */
  private joinSession(): void {
    if (sessionHandles.size >= SESSION_FILES) {
      const oldest = sessionHandles.values().next().value as FileHandle;
      sessionHandles.delete(oldest);
      oldest.leaveSession();
    }
    this.pin();
    sessionHandles.add(this);
    this.inSession = true;
  }

  /** @internal Called by the session's end (or eviction): drops the window and the session's pin. */
  leaveSession(): void {
    this.inSession = false;
    this.window = undefined;
    this.windowLength = 0;
    this.unpin();
  }

  private reopen(): number {
    this.reopens++;
    let fd: number;
    try {
      fd = openSync(this.path, constants.O_RDONLY | constants.O_NONBLOCK | (constants.O_NOFOLLOW ?? 0));
    } catch (e) {
      throw ioError(this.display, 'cannot reopen the file to read tensor data', e, this.path);
    }
    try {
      this.verify(fd);
    } catch (e) {
      closeSync(fd);
      throw e;
    }
    return fd;
  }

  private verify(fd: number): void {
    const st = fstatSync(fd, { bigint: true });
    const id = this.identity;
    if (st.dev !== id.dev || st.ino !== id.ino || st.size !== id.size || st.mtimeNs !== id.mtimeNs) {
      throw new ImportError('IMPORT_IO', 'the file changed since the model was loaded (different file, size or modification time); refusing to read tensor data from it', {
        file: this.display,
        hint: 'load the model again',
      });
    }
  }

  /** Reads exactly `length` bytes at `offset` into `target[0..length)`. */
  readAt(offset: number, target: Uint8Array, length: number): void {
    if (offset + length > this.size) {
      throw new ImportError('IMPORT_TRUNCATED', `read of ${length} bytes at offset ${offset} passes the end of the ${this.size}-byte file`, { file: this.display, byteOffset: offset });
    }
    if (sessionDepth > 0) {
      if (!this.inSession) this.joinSession();
      if (length < SESSION_WINDOW) {
        if (this.window === undefined || offset < this.windowAt || offset + length > this.windowAt + this.windowLength) {
          const n = Math.min(SESSION_WINDOW, this.size - offset);
          this.window ??= new Uint8Array(SESSION_WINDOW);
          this.windowLength = 0;
          this.read(offset, this.window, n);
          this.windowAt = offset;
          this.windowLength = n;
        }
        const from = offset - this.windowAt;
        const w = this.window;
        // (a probe's few bytes, 2 per small lazy weight in a duplicate-initializer sweep: copied
        // without a view object)
        if (length <= 32) for (let i = 0; i < length; i++) target[i] = w[from + i]!;
        else target.set(w.subarray(from, from + length));
        return;
      }
    }
    this.read(offset, target, length);
  }

  /** Reads `length` bytes at `offset` from the file itself (checking it is still the one loaded). */
  private read(offset: number, target: Uint8Array, length: number): void {
    const pinned = this.fd >= 0;
    const fd = pinned ? this.fd : this.reopen();
    try {
      if (pinned) this.verify(fd);
      let done = 0;
      while (done < length) {
        const n = readSync(fd, target, done, Math.min(length - done, READ_CHUNK), offset + done);
        if (n === 0) {
          throw new ImportError('IMPORT_IO', `the file ended after ${offset + done} bytes while reading tensor data; it was truncated since it was loaded`, { file: this.display, byteOffset: offset + done });
        }
        done += n;
      }
      this.bytesRead += length;
    } catch (e) {
      if (e instanceof ImportError) throw e;
      throw ioError(this.display, `cannot read ${length} bytes at offset ${offset}`, e);
    } finally {
      if (!pinned) closeSync(fd);
    }
  }
}

/** A byte range of a file, read on demand: lazy raw_data and external data. */
export class FileRangeSource implements RangeReadable {
  /**
   * The description, or undefined for a raw_data range of the model file (FileRangeSource.raw),
   * whose description is made when asked for: a string per source built up front cost ≈ 300 bytes
   * of heap per lazy tensor (cons strings of the template, the offset's digits, the label).
   */
  readonly #description: string | undefined;
  /** The label of messages ('tensor 'w'', 'a tensor'), or for a raw range the tensor's name. */
  readonly #label: string;

  constructor(
    private readonly handle: FileHandle,
    private readonly offset: number,
    readonly byteLength: number,
    description: string | undefined,
    readonly external: ExternalDataInfo | undefined,
    private readonly maxBytes: number,
    label: string,
  ) {
    this.#description = description;
    this.#label = label;
  }

  /**
   * A raw_data payload of the model file opened as `handle` (a lazy import): described as
   * `<file name> @ <offset> + <length> bytes`, labelled `tensor '<name>'` (`a tensor` unnamed).
   */
  static raw(handle: FileHandle, offset: number, length: number, maxBytes: number, tensorName: string): FileRangeSource {
    return new FileRangeSource(handle, offset, length, undefined, undefined, maxBytes, tensorName);
  }

  /** Human-readable origin, e.g. `model.onnx @ 4096 + 1024 bytes`. */
  get description(): string {
    return this.#description ?? `${basename(this.handle.display)} @ ${this.offset} + ${this.byteLength} bytes`;
  }

  private get label(): string {
    if (this.#description !== undefined) return this.#label;
    return this.#label ? `tensor '${this.#label}'` : 'a tensor';
  }

  /** The file this range lives in (resolved path). */
  get file(): string {
    return this.handle.path;
  }

  read(): Uint8Array {
    if (this.byteLength > this.maxBytes || this.byteLength > MAX_ALLOCATION) {
      throw new ImportError('IMPORT_TOO_LARGE', `${this.label} holds ${this.byteLength} bytes, more than ${this.byteLength > MAX_ALLOCATION ? 'one buffer can hold' : `maxTensorBytes (${this.maxBytes})`}; refusing to read it into memory`, {
        file: this.handle.display,
        hint: 'raise maxTensorBytes if the machine has the memory, or use save(), which streams tensors without loading them',
      });
    }
    const n = this.byteLength;
    // Small reads (1–4 KiB weights, 200k of them on the 1M-node chain, read once by a dedupe pass
    // and dropped) come from Node's shared 8 KiB pool, 8-byte aligned, instead of an ArrayBuffer
    // each: a plain Uint8Array view, every byte overwritten by the read. A caller keeping one
    // keeps at most 8 KiB alive.
    const out = n < SMALL_READ ? pooled(n) : new Uint8Array(n);
    this.handle.readAt(this.offset, out, n);
    return out;
  }

  readInto(target: Uint8Array, sourceOffset: number, length: number): void {
    if (sourceOffset < 0 || sourceOffset + length > this.byteLength) {
      throw new ImportError('IMPORT_IO', `internal: read of [${sourceOffset}, ${sourceOffset + length}) outside ${this.label}'s ${this.byteLength} bytes`, { file: this.handle.display });
    }
    this.handle.readAt(this.offset + sourceOffset, target, length);
  }
}

/** Reads below this size come from Node's Buffer pool (it pools allocations under 4 KiB). */
const SMALL_READ = 4096;

function pooled(n: number): Uint8Array {
  const b = Buffer.allocUnsafe(n);
  return new Uint8Array(b.buffer, b.byteOffset, n);
}

/** What a non-regular file is, from its stat (never opened): 'a FIFO', 'a character device', … */
export function fileKind(st: Pick<BigIntStats, 'isDirectory' | 'isFIFO' | 'isCharacterDevice' | 'isBlockDevice' | 'isSocket'>): string {
  if (st.isDirectory()) return 'a directory';
  if (st.isFIFO()) return 'a FIFO';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isSocket()) return 'a socket';
  return 'not a regular file';
}

/**
 * An ImportError for a failed system call, keeping the errno text.
 *
 * ELOOP means two things. From a call that follows links (stat, readFile, realpath, an open
 * without O_NOFOLLOW) it is a loop of symbolic links on the path. From an O_NOFOLLOW open (pass
 * the path opened as `noFollowPath`) it is usually the final component being a link, which the
 * open refuses — the callers open resolved paths, so a link there replaced the file after it was
 * resolved — but a loop in a folder on the path gives the same errno: the path is lstat-ed to
 * tell them apart (only on this error path).
 */
export function ioError(file: string, what: string, e: unknown, noFollowPath?: string): ImportError {
  const err = e as NodeJS.ErrnoException;
  if (err?.code === 'ELOOP') {
    if (noFollowPath !== undefined && isSymlink(noFollowPath)) {
      return new ImportError('IMPORT_IO', `${what}: it is a symbolic link (not followed: the file was replaced by a link after its path was resolved)`, { file, cause: e, hint: 'load the model again' });
    }
    return new ImportError('IMPORT_IO', `${what}: a loop of symbolic links`, { file, cause: e, hint: 'point the link at the real file' });
  }
  if (err?.code === 'ENOENT' && isSymlink(file)) {
    // (a dangling link: 'no such file' of a name `ls` lists reads as a lie)
    return new ImportError('IMPORT_IO', `${what}: it is a symbolic link to ${linkTarget(file)}, which does not exist`, { file, cause: e, hint: 'point the link at the real file' });
  }
  const reason = err?.code === 'ENOENT' ? 'no such file' : err?.code === 'EACCES' ? 'permission denied' : (err?.message ?? String(e));
  return new ImportError('IMPORT_IO', `${what}: ${reason}`, { file, cause: e });
}

/** Where the symbolic link `path` points, quoted, or 'a missing file' when it cannot be read. */
function linkTarget(path: string): string {
  try {
    return `'${readlinkSync(path)}'`;
  } catch {
    return 'a missing file';
  }
}

function isSymlink(path: string): boolean {
  try {
    return lstatSync(path).isSymbolicLink();
  } catch {
    // A loop in a folder on the path (ELOOP again), or the path is gone.
    return false;
  }
}
