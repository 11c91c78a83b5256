/**
 * Protobuf wire format: a bounds-checked reader over either an in-memory buffer or a file read
 * through a sliding window of positional reads, and the path tracker that names the field being
 * read when something is wrong.
 *
 * Every length prefix is checked against the bytes its enclosing message has left before
 * anything is allocated or skipped, so a 4 GiB claim inside a 1 MB file fails in O(1). Positions
 * are absolute input offsets in both modes; only the window moves.
 */
import { GraphError, dataTypeInfo, dataTypeName, type DataType, type TensorSource, type TypedArray } from '@onnxkit/graph';
import type { ImportErrorCode } from './errors.js';

export const WIRE_VARINT = 0;
export const WIRE_I64 = 1;
export const WIRE_LEN = 2;
export const WIRE_SGROUP = 3;
export const WIRE_EGROUP = 4;
export const WIRE_I32 = 5;

export const WIRE_NAMES = ['varint', 'fixed64', 'length-delimited', 'start-group', 'end-group', 'fixed32', 'invalid(6)', 'invalid(7)'];

/** A message type as the path tracker sees it: its name and field names by number. */
export interface MessageSpec {
  readonly name: string;
  readonly fields: Readonly<Record<number, string>>;
}

/**
 * The stack of fields being decoded, kept as parallel arrays so entering a message costs a few
 * stores. Rendered to `ModelProto.graph.node[12].attribute[3].t.raw_data` only on error.
 */
export class PathTracker {
  depth = 0;
  readonly names: string[] = [];
  readonly index: number[] = [];
  readonly specs: MessageSpec[] = [];
  /** Field number currently being read at each depth (0 = between fields). */
  readonly field: number[] = [];

  constructor(
    root: MessageSpec,
    private readonly maxDepth: number,
    private readonly fail: (code: ImportErrorCode, what: string, offset: number | undefined, hint?: string) => never,
  ) {
    this.names.push(root.name);
    this.index.push(-1);
    this.specs.push(root);
    this.field.push(0);
  }

  /** Descends into field `name` (element `index` of a repeated field, or -1) of type `spec`. */
  enter(name: string, index: number, spec: MessageSpec, offset: number): void {
    const d = ++this.depth;
    if (d > this.maxDepth) {
      this.depth--;
      this.fail('IMPORT_NESTING', `messages nest deeper than ${this.maxDepth} levels`, offset, 'the file is corrupt or hostile; raise maxDepth only for a model you trust');
    }
    this.names[d] = name;
    this.index[d] = index;
    this.specs[d] = spec;
    this.field[d] = 0;
  }

  leave(): void {
    this.depth--;
  }

  render(withField = true): string {
    let s = '';
    for (let i = 0; i <= this.depth; i++) {
      if (i > 0) s += '.';
      s += this.names[i];
      if (this.index[i]! >= 0) s += `[${this.index[i]}]`;
    }
    const f = this.field[this.depth]!;
    if (withField && f !== 0) s += `.${this.specs[this.depth]!.fields[f] ?? `<field ${f}>`}`;
    return s;
  }
}

/** Positional reads of a file (or anything addressable), for the windowed mode. */
export interface PositionalInput {
  readonly size: number;
  /** Reads exactly `length` bytes at `offset` into `target[0..length)`. */
  readAt(offset: number, target: Uint8Array, length: number): void;
}

const MIN_WINDOW = 4096;
const STRING_CACHE_MASK = 4095;
const MAX_WINDOW = 1 << 20;

/**
 * Node's Buffer#latin1Slice (it accepts any Uint8Array), absent in a browser: for ASCII names it
 * makes the string in one native call, ~1.5x faster than String.fromCharCode over char codes.
 */
const LATIN1_SLICE = (globalThis as { Buffer?: { prototype: { latin1Slice?: unknown } } }).Buffer?.prototype.latin1Slice as ((start: number, end: number) => string) | undefined;

const utf8Fatal = new TextDecoder('utf-8', { fatal: true });
const utf8Lossy = new TextDecoder('utf-8');

/**
 * A protobuf reader. Positions are absolute; `buf[pos - base]` is the byte at `pos`. In memory
 * mode `base` is 0 and the window is the whole input, so `ensure` never reads.
 */
/** Unknown fields one decode keeps at most (each is kept for a lossless re-encode). */
export const MAX_UNKNOWN_FIELDS = 1_000_000;

export class Reader {
  buf: Uint8Array;
  base = 0;
  /** Absolute end of the bytes present in `buf`. */
  winEnd: number;
  readonly size: number;
  pos = 0;
  readonly inMemory: boolean;
  /** Low and high 32 bits (unsigned) of the last 64-bit varint read. */
  lo = 0;
  hi = 0;
  /**
   * decode.ts's nameHash of the last string read, when string() computed it on the way (ASCII,
   * at most 64 bytes), else 0.
   */
  lastHash = 0;
  /** Bytes read from the input by window refills (windowed mode). */
  bytesRead = 0;
  /** Unknown fields kept so far (see unknown()). */
  private unknownFields = 0;
  /** Called when a string field is not valid UTF-8 (the string is decoded lossily). */
  onInvalidUtf8: ((offset: number) => void) | undefined;

  private view: DataView;
  private readonly input: PositionalInput | undefined;
  private readonly strings: (string | undefined)[] = new Array(STRING_CACHE_MASK + 1);
  /**
   * Full hash of each cached string (0 = empty slot): a miss is decided here without touching
   * the cached string, which lives somewhere else in the heap (a cache miss of its own).
   */
  private readonly hashes = new Int32Array(STRING_CACHE_MASK + 1);
  private readonly latin1 = LATIN1_SLICE;
  /** codes[n]: a scratch array of n char codes (n ≤ 64), see string(). */
  private readonly codes: number[][] = [];
  private window: number;

  constructor(
    source: Uint8Array | PositionalInput,
    readonly path: PathTracker,
    private readonly failAt: (code: ImportErrorCode, what: string, offset: number | undefined, hint?: string) => never,
    /** Smallest window read (tests shrink it to force refills everywhere). */
    private readonly minWindow = MIN_WINDOW,
  ) {
    this.window = minWindow;
    if (source instanceof Uint8Array) {
      this.buf = source;
      this.size = source.byteLength;
      this.winEnd = this.size;
      this.inMemory = true;
      this.input = undefined;
    } else {
      this.input = source;
      this.size = source.size;
      this.buf = new Uint8Array(0);
      this.winEnd = 0;
      this.inMemory = false;
    }
    this.view = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength);
  }

  fail(code: ImportErrorCode, what: string, offset = this.pos, hint?: string): never {
    return this.failAt(code, what, offset, hint);
  }

  /** Makes `[at, at + n)` present in the window (windowed mode only; n ≤ remaining input). */
  ensureAt(at: number, n: number): void {
    if (at >= this.base && at + n <= this.winEnd) return;
    const input = this.input;
    if (input === undefined) return;
    // Reading on from where the window ended, or past a gap of at most the smallest window (a
    // small skipped payload between stretches of structure), means a structure-heavy stretch:
    // widen the window. A longer jump (past a large skipped payload) starts small again, so
    // skipping costs little I/O.
    const sequential = at >= this.base && at <= this.winEnd + this.minWindow && this.winEnd > 0;
    this.window = sequential ? Math.min(this.window * 2, MAX_WINDOW) : this.minWindow;
    const len = Math.min(Math.max(n, this.window), this.size - at);
    if (this.buf.byteLength < len) this.buf = new Uint8Array(Math.max(len, this.minWindow));
    input.readAt(at, this.buf, len);
    this.bytesRead += len;
    this.base = at;
    this.winEnd = at + len;
    this.view = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength);
  }

  /** Reads a varint of up to 64 bits into `lo`/`hi`. */
  varint64(limit: number): void {
    let p = this.pos;
    if (!this.inMemory) this.ensureAt(p, Math.min(10, limit - p));
    const buf = this.buf;
    const base = this.base;
    let lo = 0;
    let hi = 0;
    let b: number;
    for (let shift = 0; shift < 28; shift += 7) {
      if (p >= limit) this.truncatedVarint(p);
      b = buf[p - base]!;
      p++;
      lo |= (b & 0x7f) << shift;
      if (b < 0x80) {
        this.lo = lo >>> 0;
        this.hi = 0;
        this.pos = p;
        return;
      }
    }
    if (p >= limit) this.truncatedVarint(p);
    b = buf[p - base]!;
    p++;
    lo |= (b & 0x0f) << 28;
    hi = (b & 0x7f) >> 4;
    if (b < 0x80) {
      this.lo = lo >>> 0;
      this.hi = hi >>> 0;
      this.pos = p;
      return;
    }
    for (let shift = 3; shift <= 31; shift += 7) {
      if (p >= limit) this.truncatedVarint(p);
      b = buf[p - base]!;
      p++;
      hi |= (b & 0x7f) << shift;
      if (b < 0x80) {
        this.lo = lo >>> 0;
        this.hi = hi >>> 0;
        this.pos = p;
        return;
      }
    }
    return this.fail('IMPORT_INVALID', 'malformed varint (more than 10 bytes)', this.pos);
  }

  private truncatedVarint(p: number): never {
    return this.fail('IMPORT_TRUNCATED', p >= this.size ? 'input ends inside a varint' : 'varint runs past the end of its message', p);
  }

  /** A tag (field number << 3 | wire type). Field number 0 is refused. */
  tag(limit: number): number {
    const p = this.pos;
    const buf = this.buf;
    if (this.inMemory && p < limit) {
      const b = buf[p]!;
      if (b < 0x80) {
        this.pos = p + 1;
        if (b < 8) this.fail('IMPORT_WIRE_TYPE', `field number 0 is not valid protobuf (tag byte 0x${b.toString(16).padStart(2, '0')})`, p);
        return b;
      }
    }
    this.varint64(limit);
    if (this.hi !== 0 || this.lo > 0xffffffff) this.fail('IMPORT_WIRE_TYPE', 'tag varint exceeds 32 bits', p);
    const tag = this.lo;
    if (tag >>> 3 === 0) this.fail('IMPORT_WIRE_TYPE', 'field number 0 is not valid protobuf', p);
    return tag;
  }

  /** An unsigned varint as a number; refuses values past 2^53. */
  uint(limit: number): number {
    const p = this.pos;
    if (this.inMemory && p < limit) {
      const b = this.buf[p]!;
      if (b < 0x80) {
        this.pos = p + 1;
        return b;
      }
    }
    this.varint64(limit);
    const hi = this.hi;
    if (hi === 0) return this.lo; // (see int64Number)
    if (hi >= 0x200000) this.fail('IMPORT_INVALID', 'varint value exceeds 2^53', p);
    return hi * 4294967296 + this.lo;
  }

  /** An int64 varint as a number, or NaN when it does not fit a safe integer. */
  int64Number(limit: number): number {
    this.varint64(limit);
    const hi = this.hi;
    const lo = this.lo;
    // A value under 2^32 is `lo` itself: `0 * 4294967296 + lo` is the same number, but before
    // TurboFan compiles the caller the interpreter makes it a heap number (4294967296 is not a
    // Smi), and from a length or a dim such a number spread into the positions the decoder keeps
    // in fields (Reader.pos, deferredAt, viewBytes…) and into dims arrays: fields turned to
    // doubles after the decoder's code was compiled (its map changed, `field`, `len`, `str`
    // deoptimised) and dims arrays took double elements.
    if (hi === 0) return lo;
    if (hi < 0x200000) return hi * 4294967296 + lo;
    if (hi >= 0xffe00000) {
      // Negative: two's complement of a value whose magnitude fits 53 bits.
      const v = -((~hi >>> 0) * 4294967296 + (~lo >>> 0) + 1);
      return Number.isSafeInteger(v) ? v : NaN;
    }
    return NaN;
  }

  /** An int64 varint as a bigint (exact). */
  int64Big(limit: number): bigint {
    this.varint64(limit);
    if (this.hi === 0) return BigInt(this.lo);
    return BigInt.asIntN(64, (BigInt(this.hi) << 32n) | BigInt(this.lo));
  }

  /** An int32/enum varint (a negative int32 is a sign-extended 10-byte varint). */
  int32(limit: number): number {
    this.varint64(limit);
    return this.lo | 0;
  }

  /** A length prefix, checked against the bytes left before `limit`. */
  length(limit: number, what: string): number {
    const at = this.pos;
    const len = this.uint(limit);
    const left = limit - this.pos;
    if (len > left) {
      this.fail(
        'IMPORT_LENGTH',
        `length prefix of ${len} bytes for ${what} exceeds the ${left} bytes left in its ${this.path.depth === 0 ? 'input' : 'enclosing message'}`,
        at,
        'the file is truncated or corrupt',
      );
    }
    return len;
  }

  float32(limit: number): number {
    const p = this.pos;
    if (p + 4 > limit) this.fail('IMPORT_TRUNCATED', 'input ends inside a fixed32 field', p);
    if (!this.inMemory) this.ensureAt(p, 4);
    this.pos = p + 4;
    return this.view.getFloat32(p - this.base, true);
  }

  /**
   * Views of the input handed out by `bytesAt` (memory mode): each may be kept by what it was
   * read for, and keeps the whole input buffer alive with it (see Decoder's compaction).
   */
  viewsOut = 0;

  /**
   * Bytes `[at, at + len)` as a zero-copy view (memory mode) or a copy (windowed mode), for a
   * caller that may keep them (counted in `viewsOut`); `peekAt` for one that only reads them.
   */
  bytesAt(at: number, len: number): Uint8Array {
    if (this.inMemory) {
      this.viewsOut++;
      return this.buf.subarray(at, at + len);
    }
    return this.peekAt(at, len);
  }

  /** Bytes `[at, at + len)` to be read now and dropped: a view (memory mode, not counted) or a copy. */
  peekAt(at: number, len: number): Uint8Array {
    if (this.inMemory) return this.buf.subarray(at, at + len);
    const out = new Uint8Array(len);
    this.copyAt(at, len, out, 0);
    return out;
  }

  /** Copies bytes `[at, at + len)` of the input into `out` from `outAt` (either mode). */
  copyAt(at: number, len: number, out: Uint8Array, outAt: number): void {
    if (this.inMemory) {
      out.set(this.buf.subarray(at, at + len), outAt);
      return;
    }
    let done = 0;
    while (done < len) {
      const chunk = Math.min(len - done, MAX_WINDOW);
      this.ensureAt(at + done, chunk);
      out.set(this.buf.subarray(at + done - this.base, at + done - this.base + chunk), outAt + done);
      done += chunk;
    }
  }

  /** Reads `len` bytes at the current position as a view or copy (see bytesAt). */
  bytes(len: number): Uint8Array {
    const b = this.bytesAt(this.pos, len);
    this.pos += len;
    return b;
  }

  /**
   * A UTF-8 string of `len` bytes at the current position, for a name that is rarely repeated
   * (a node's own name): an ASCII one is sliced straight out, without hashing it or filing it in
   * the cache (where it would only push out names that do repeat). `lastHash` is left 0.
   */
  uniqueString(len: number): string {
    const at = this.pos;
    const latin1 = this.latin1;
    if (latin1 === undefined || len === 0 || len > 64 || !this.inMemory) return this.string(len);
    const buf = this.buf;
    const end = at + len;
    let ascii = 0;
    for (let i = at; i < end; i++) ascii |= buf[i]!;
    if (ascii >= 0x80) return this.string(len);
    this.lastHash = 0;
    this.pos = end;
    return latin1.call(buf, at, end);
  }

  /**
   * A name that is defined once and looked up by its hash (a node output or a tensor's name, in
   * memory mode, where inputs naming it are compared as bytes): string() without the cache,
   * which it would only churn (and every store into the old cache array of a new string is a
   * slot the next scavenge visits). Sets `lastHash` as string() does.
   */
  hashedString(len: number): string {
    const latin1 = this.latin1;
    if (latin1 === undefined || len === 0 || len > 64 || !this.inMemory) return this.string(len);
    const at = this.pos;
    const h = this.asciiHash(at, len);
    if (h === 0) return this.string(len);
    this.lastHash = h;
    this.pos = at + len;
    return latin1.call(this.buf, at, at + len);
  }

  /**
   * The name hash (graph's `nameHash`, the key of the name tables) of the `len` bytes at `at`
   * (absolute, inside the window), or 0 when one of them is not ASCII: then the string is not the
   * bytes' Latin-1 reading and has to be hashed from its text. The one copy of the byte loop
   * (string, hashedString and the decoder's deferred input names call it).
   */
  asciiHash(at: number, len: number): number {
    const buf = this.buf;
    let h = len | 0x40000000;
    for (let i = at - this.base, e = i + len; i < e; i++) {
      const c = buf[i]!;
      if (c >= 0x80) return 0;
      h = (Math.imul(h, 31) + c) | 0;
    }
    return h;
  }

  /** The string of `len` bytes at `at` (the position is left where it was). */
  stringAt(at: number, len: number): string {
    const pos = this.pos;
    this.pos = at;
    try {
      return this.string(len);
    } finally {
      this.pos = pos;
    }
  }

  /** A UTF-8 string of `len` bytes at the current position. */
  string(len: number): string {
    const at = this.pos;
    this.lastHash = 0;
    if (len === 0) return '';
    if (!this.inMemory) this.ensureAt(at, Math.min(len, this.size - at));
    this.pos = at + len;
    if (len <= 64 && at - this.base + len <= this.buf.byteLength) {
      const buf = this.buf;
      const start = at - this.base;
      const end = start + len;
      const h = this.asciiHash(at, len);
      if (h !== 0) {
        this.lastHash = h;
        // Names repeat (a value's name is written once per use, op types and attribute names
        // on every node): reuse the string instead of allocating it again.
        const slot = (h ^ (h >>> 13)) & STRING_CACHE_MASK;
        if (this.hashes[slot] === h) {
          const hit = this.strings[slot]!;
          if (hit.length === len) {
            let same = true;
            for (let i = 0; i < len; i++) {
              if (hit.charCodeAt(i) !== buf[start + i]) {
                same = false;
                break;
              }
            }
            if (same) return hit;
          }
        }
        let str: string;
        if (this.latin1 !== undefined) str = this.latin1.call(buf, start, end);
        else {
          // From a reused array of exactly `len` char codes: a subarray per string would be
          // ~100 bytes of garbage each, and names are most of a weightless graph's strings.
          const codes = (this.codes[len] ??= new Array<number>(len));
          for (let i = 0; i < len; i++) codes[i] = buf[start + i]!;
          str = String.fromCharCode.apply(null, codes);
        }
        this.strings[slot] = str;
        this.hashes[slot] = h;
        return str;
      }
    }
    const bytes = this.peekAt(at, len);
    try {
      return utf8Fatal.decode(bytes);
    } catch {
      this.onInvalidUtf8?.(at);
      return utf8Lossy.decode(bytes);
    }
  }

  /** Skips the value of a field with wire type `wire` (tag already read), bounded by `limit`. */
  skip(wire: number, limit: number, tagAt: number, field: number): void {
    switch (wire) {
      case WIRE_VARINT:
        this.varint64(limit);
        return;
      case WIRE_I64:
        if (this.pos + 8 > limit) this.fail('IMPORT_TRUNCATED', 'input ends inside a fixed64 field', this.pos);
        this.pos += 8;
        return;
      case WIRE_LEN: {
        const len = this.length(limit, `field ${field}`);
        this.pos += len;
        return;
      }
      case WIRE_I32:
        if (this.pos + 4 > limit) this.fail('IMPORT_TRUNCATED', 'input ends inside a fixed32 field', this.pos);
        this.pos += 4;
        return;
      case WIRE_SGROUP:
        this.skipGroup(limit, field, tagAt);
        return;
      default:
        return this.fail('IMPORT_WIRE_TYPE', `wire type ${WIRE_NAMES[wire]} (${wire}) of field ${field} is not a protobuf wire type`, tagAt);
    }
  }

  /** Skips a (deprecated) group up to its matching end tag, with bounded nesting. */
  private skipGroup(limit: number, field: number, tagAt: number): void {
    const open = [field];
    while (open.length > 0) {
      if (this.pos >= limit) this.fail('IMPORT_TRUNCATED', `group of field ${field} is not closed`, tagAt);
      const at = this.pos;
      const tag = this.tag(limit);
      const f = tag >>> 3;
      const w = tag & 7;
      if (w === WIRE_EGROUP) {
        if (open[open.length - 1] !== f) this.fail('IMPORT_WIRE_TYPE', `end-group tag of field ${f} does not match the open group of field ${open[open.length - 1]}`, at);
        open.pop();
      } else if (w === WIRE_SGROUP) {
        if (open.length >= 64) this.fail('IMPORT_NESTING', 'groups nest deeper than 64 levels', at);
        open.push(f);
      } else {
        this.skip(w, limit, at, f);
      }
    }
  }

  /** Skips an unknown field and returns its bytes (tag included), to be re-emitted verbatim. */
  unknown(tagAt: number, wire: number, limit: number, field: number): Uint8Array {
    if (wire === WIRE_EGROUP) this.fail('IMPORT_WIRE_TYPE', `end-group tag of field ${field} without a matching start`, tagAt);
    // Each one kept costs a view and its slot (≈ 100 bytes of heap): a 90 MB file of 30 million
    // 3-byte unknown fields ran the process out of memory (a V8 abort, not an error).
    if (++this.unknownFields > MAX_UNKNOWN_FIELDS) {
      this.fail('IMPORT_INVALID', `more than ${MAX_UNKNOWN_FIELDS} fields that are not part of ONNX's schema (field ${field} here); refusing to keep them all`, tagAt, 'an ONNX model carries few fields from a newer ONNX; this file is probably not an ONNX model');
    }
    this.skip(wire, limit, tagAt, field);
    return this.bytesAt(tagAt, this.pos - tagAt);
  }
}

/** Which proto field family a run of packed varints came from. */
export type VarintWire = 'int32' | 'int64' | 'uint64';

/**
 * A tensor's data as the packed varints of a typed TensorProto field (`int32_data`,
 * `int64_data`, `uint64_data`). The IR sees a TensorSource whose bytes cost no I/O: they are
 * decoded to the packed little-endian layout on first `read()` (32-bit halves, no bigint per
 * element) and cached; the encoder re-emits `varints` verbatim, so a round trip is lossless.
 * The caller has checked that `varints` holds exactly `units` complete varints.
 */
export class VarintTensorSource implements TensorSource {
  readonly inMemory = true;
  readonly description: string;
  #decoded: Uint8Array | undefined;

  constructor(
    readonly varints: Uint8Array,
    readonly wire: VarintWire,
    readonly dtype: DataType,
    /** Storage units the varints hold (elements, parts of complex elements, or packed bytes). */
    readonly units: number,
    readonly byteLength: number,
  ) {
    this.description = `${wire}_data (${units} varints)`;
  }

  read(): Uint8Array {
    return (this.#decoded ??= this.#decode());
  }

  #decode(): Uint8Array {
    const info = dataTypeInfo(this.dtype);
    const Storage = info.storage;
    if (Storage === undefined) throw new GraphError(`${dataTypeName(this.dtype)} cannot come from ${this.wire}_data`);
    const src = this.varints;
    const n = this.units;
    const wide = Storage.BYTES_PER_ELEMENT === 8;
    const out = new Storage(n);
    // 64-bit values go in as two little-endian 32-bit halves; narrower storage takes the low
    // 32 bits as a signed int (a typed array store wraps it to its width, like a C cast).
    const halves = wide ? new Uint32Array(out.buffer, 0, 2 * n) : undefined;
    const narrow = wide ? undefined : (out as Exclude<TypedArray, BigInt64Array | BigUint64Array>);
    let pos = 0;
    for (let i = 0; i < n; i++) {
      let lo = 0;
      let hi = 0;
      let b = src[pos++]!;
      lo = b & 0x7f;
      if (b >= 0x80) {
        let shift = 7;
        do {
          b = src[pos++]!;
          if (shift < 28) lo |= (b & 0x7f) << shift;
          else if (shift === 28) {
            lo |= (b & 0x0f) << 28;
            hi = (b & 0x7f) >>> 4;
          } else hi |= (b & 0x7f) << (shift - 32);
          shift += 7;
        } while (b >= 0x80 && shift < 70);
      }
      if (halves !== undefined) {
        halves[2 * i] = lo;
        halves[2 * i + 1] = hi;
      } else narrow![i] = lo | 0;
    }
    return new Uint8Array(out.buffer, 0, this.byteLength);
  }
}
