/**
 * Files read by positional reads: the model file in lazy mode and external data files.
 *
 * A FileHandle remembers the identity of the file it validated (device, inode, size,
 * modification time) and checks it on every read, so a tensor read after the file was replaced
 * or rewritten fails with IMPORT_IO instead of returning someone else's bytes. Descriptors are
 * held only while a structure walk is in progress (`pin`); lazy tensor reads open, verify, read
 * and close, so a model with thousands of external files never exhausts file descriptors.
 * Reads go through `fs.readSync` at explicit positions in chunks below 1 GiB, which is how
 * files over 2 GiB (beyond `readFileSync`) and tensors over 4 GiB are streamed.
 */
import { closeSync, constants, fstatSync, openSync, readlinkSync, readSync, realpathSync, statSync, type BigIntStats } from 'node:fs';

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
import type { ExternalDataInfo } from '@onnxkit/graph';
import { ImportError } from './errors.js';
import type { RangeReadable } from './encode.js';
import type { PositionalInput } from './wire.js';

const READ_CHUNK = 1 << 30;
/** Largest typed array Node 20 can allocate. */
const MAX_ALLOCATION = 2 ** 32 - 1;

export class FileHandle implements PositionalInput {
  readonly size: number;
  /** Bytes read through this handle (reported by benchmarks and `inspect`). */
  bytesRead = 0;
  private fd = -1;
  private pins = 0;
  private readonly identity: BigIntStats;

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
      throw ioError(display, `cannot open ${what}`, e);
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
    if (this.pins++ === 0 && this.fd < 0) this.fd = this.reopen();
  }

  unpin(): void {
    if (--this.pins === 0 && this.fd >= 0) {
      closeSync(this.fd);
      this.fd = -1;
    }
  }

  private reopen(): number {
    let fd: number;
    try {
      fd = openSync(this.path, constants.O_RDONLY | constants.O_NONBLOCK | (constants.O_NOFOLLOW ?? 0));
    } catch (e) {
      throw ioError(this.display, 'cannot reopen the file to read tensor data', e);
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
  constructor(
    private readonly handle: FileHandle,
    private readonly offset: number,
    readonly byteLength: number,
    readonly description: string,
    readonly external: ExternalDataInfo | undefined,
    private readonly maxBytes: number,
    private readonly label: string,
  ) {}

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
    const out = new Uint8Array(this.byteLength);
    this.handle.readAt(this.offset, out, this.byteLength);
    return out;
  }

  readInto(target: Uint8Array, sourceOffset: number, length: number): void {
    if (sourceOffset < 0 || sourceOffset + length > this.byteLength) {
      throw new ImportError('IMPORT_IO', `internal: read of [${sourceOffset}, ${sourceOffset + length}) outside ${this.label}'s ${this.byteLength} bytes`, { file: this.handle.display });
    }
    this.handle.readAt(this.offset + sourceOffset, target, length);
  }
}

function fileKind(st: BigIntStats): string {
  if (st.isDirectory()) return 'a directory';
  if (st.isFIFO()) return 'a FIFO';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isSocket()) return 'a socket';
  return 'not a regular file';
}

/** An ImportError for a failed system call, keeping the errno text. */
export function ioError(file: string, what: string, e: unknown): ImportError {
  const err = e as NodeJS.ErrnoException;
  const reason = err?.code === 'ENOENT' ? 'no such file' : err?.code === 'EACCES' ? 'permission denied' : err?.code === 'ELOOP' ? 'it is a symbolic link' : (err?.message ?? String(e));
  return new ImportError('IMPORT_IO', `${what}: ${reason}`, { file, cause: e });
}
