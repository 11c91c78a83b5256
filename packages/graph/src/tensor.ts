/**
 * Tensor: an immutable, lazily materialised constant.
 *
 * `dtype`, `dims`, `size` and `byteLength` never touch the data. The payload is one of:
 * - raw little-endian bytes, usually a zero-copy range of the decoded file buffer: either a view
 *   of their own, or a range `[at, at + byteLength)` of a slab the importer shares between many
 *   small payloads (the file buffer, or a buffer the payloads were copied to), with no view
 *   object kept per tensor (`bytes()` makes one on each call);
 * - a `TensorSource` read on use of `bytes()` and never cached by the tensor, so large weights
 *   are not pinned: external data or payload bytes left on disk by a lazy import, or (with
 *   `inMemory`) bytes the importer derives from what it decoded. How a file stores a tensor is
 *   the importer's business, not the IR's;
 * - byte strings for STRING tensors.
 *
 * What a codec knows about how a file stored a tensor (which field of its record held the data,
 * record fields the IR has no place for) rides along as two opaque objects, `codecData` and
 * `codecRecord`, which the IR carries through copies but never reads: their meaning lives in the
 * codec (the importer's hints.ts). A tensor built without them is stored canonically.
 *
 * Views handed out by `bytes()` and `toArray()` may alias the file buffer: never write into them.
 * A rewrite makes a new tensor.
 */
import { DataType, dataTypeInfo, dataTypeName, isKnownDataType, packedByteLength, type TypedArray } from './data-type.js';
import {
  bfloat16BitsToNumber,
  float16BitsToNumber,
  float4e2m1ToNumber,
  float8e4m3fnToNumber,
  float8e4m3fnuzToNumber,
  float8e5m2ToNumber,
  float8e5m2fnuzToNumber,
  float8e8m0ToNumber,
  numberToBfloat16Bits,
  numberToFloat16Bits,
  numberToFloat4e2m1,
  numberToFloat8e4m3fn,
  numberToFloat8e4m3fnuz,
  numberToFloat8e5m2,
  numberToFloat8e5m2fnuz,
  numberToFloat8e8m0,
  packSubByte,
  unpackSubByte,
} from './float-formats.js';
import { GraphError } from './errors.js';

/** Where an external tensor's bytes live, as written in `TensorProto.external_data`. */
export interface ExternalDataInfo {
  readonly location: string;
  readonly offset: number;
  /** Byte count as written in the file; undefined when the key was absent. */
  readonly length: number | undefined;
  readonly checksum?: string;
}

/** A lazily read byte range. Implementations live outside the IR (the importer reads files). */
export interface TensorSource {
  readonly byteLength: number;
  /** Human-readable origin for diagnostics, e.g. `weights.bin @ 4096 + 1024 bytes`. */
  readonly description: string;
  /** Set when the bytes live in an external data file. */
  readonly external?: ExternalDataInfo;
  /**
   * True when `read()` costs no I/O (its bytes are computed from memory, e.g. decoded from
   * another representation the file used, and cached by the source): the tensor is then not lazy.
   */
  readonly inMemory?: boolean;
  /** Reads the bytes synchronously; throws a typed error naming the tensor on failure. */
  read(): Uint8Array;
  /**
   * Optional: copies `length` bytes starting at `sourceOffset` into `target[0..length)` without
   * reading the rest (positional reads). Lets callers sample or stream a large lazy tensor.
   */
  readInto?(target: Uint8Array, sourceOffset: number, length: number): void;
}

/**
 * The payload itself, with no wrapper object (a model may hold hundreds of thousands of small
 * tensors): raw bytes (a typed-array view), byte strings (an array), or a source (anything else).
 */
type Payload = Uint8Array | readonly Uint8Array[] | TensorSource;

/** Tensor fields that are nearly always empty, kept out of line. */
interface TensorExtras {
  readonly docString: string;
  readonly metadataProps: ReadonlyMap<string, string>;
  readonly codecRecord: object | undefined;
}

function isRaw(p: Payload): p is Uint8Array {
  return ArrayBuffer.isView(p);
}
function isStrings(p: Payload): p is readonly Uint8Array[] {
  return Array.isArray(p);
}
function lazySource(p: Payload): TensorSource | undefined {
  return ArrayBuffer.isView(p) || Array.isArray(p) ? undefined : (p as TensorSource);
}

export interface TensorInit {
  name?: string;
  docString?: string;
  metadataProps?: ReadonlyMap<string, string>;
  /**
   * Opaque to the IR: what a codec recorded about how a file stored the data (the importer: which
   * field held it). Every copy that keeps the payload keeps it (`with`, `reshape`, `materialize`).
   */
  codecData?: object;
  /**
   * Opaque to the IR: what a codec recorded about the rest of the tensor's record (the importer:
   * fields the IR has no place for, re-emitted verbatim). Kept with the doc string and metadata
   * (`with`, `materialize`); `reshape`, which drops those, drops it too.
   */
  codecRecord?: object;
}

const utf8 = new TextEncoder();
const utf8d = new TextDecoder();

export class Tensor {
  readonly dtype: DataType;
  readonly dims: readonly number[];
  readonly name: string;
  /** See `TensorInit.codecData`: opaque to the IR, undefined unless a codec set it. */
  readonly codecData: object | undefined;
  /** Element count (product of dims; 1 for a scalar). */
  readonly size: number;
  #payload: Payload; // replaced only by _rebase, with the same bytes
  /**
   * -1: `#payload` is the payload itself. ≥ 0: `#payload` is a slab (raw bytes shared with other
   * tensors) and this tensor's bytes are `[#at, #at + byteLength)` of it. A view object per
   * small tensor cost 96 bytes of heap: 3.8 MB for the 40,000 weights and biases of the 100k-node
   * chain with a weight per block (heap snapshot after `load`).
   */
  #at: number;
  readonly #x: TensorExtras | null;

  private constructor(dtype: DataType, dims: readonly number[], payload: Payload, init: TensorInit, at = -1) {
    this.dtype = dtype;
    this.name = init.name ?? '';
    const meta = init.metadataProps ?? EMPTY_MAP;
    this.#x =
      init.docString || meta.size > 0 || init.codecRecord !== undefined
        ? { docString: init.docString ?? '', metadataProps: meta, codecRecord: init.codecRecord }
        : null;
    let size = 1;
    for (let i = 0; i < dims.length; i++) {
      const d = dims[i]!;
      if (!Number.isSafeInteger(d) || d < 0) throw new GraphError(`tensor '${this.name}': invalid dimension ${d}`);
      size *= d;
    }
    this.size = size;
    this.dims = sharedDims(dims);
    this.#payload = payload;
    this.#at = at;
    this.codecData = init.codecData;
  }

  get docString(): string {
    return this.#x === null ? '' : this.#x.docString;
  }
  get metadataProps(): ReadonlyMap<string, string> {
    return this.#x === null ? EMPTY_MAP : this.#x.metadataProps;
  }
  /** See `TensorInit.codecRecord`: opaque to the IR, undefined unless a codec set it. */
  get codecRecord(): object | undefined {
    return this.#x === null ? undefined : this.#x.codecRecord;
  }

  /** Wraps little-endian packed bytes (zero-copy: the tensor takes the view as is). */
  static fromBytes(dtype: DataType, dims: readonly number[], bytes: Uint8Array, init: TensorInit = {}): Tensor {
    if (!isRaw(bytes)) throw new GraphError(`tensor '${init.name ?? ''}': fromBytes needs a Uint8Array`);
    const t = new Tensor(dtype, dims, bytes, init);
    if (dtype === DataType.STRING) throw new GraphError(`tensor '${t.name}': string tensors hold byte strings, use Tensor.fromStrings`);
    const expected = packedByteLength(dtype, t.size);
    if (bytes.byteLength !== expected) {
      throw new GraphError(
        `tensor '${t.name}': ${dataTypeName(dtype)}${JSON.stringify(dims)} needs ${expected} bytes, got ${bytes.byteLength}`,
      );
    }
    return t;
  }

  /**
   * @internal Raw bytes `[at, at + packed byte length)` of `slab`, a buffer the importer shares
   * between many small payloads (zero-copy, no view object kept: see `#at`). Same checks as
   * `fromBytes`; do not modify the slab's range afterwards.
   */
  static _fromSlab(dtype: DataType, dims: readonly number[], slab: Uint8Array, at: number, init: TensorInit = {}): Tensor {
    if (!isRaw(slab)) throw new GraphError(`tensor '${init.name ?? ''}': _fromSlab needs a Uint8Array`);
    const t = new Tensor(dtype, dims, slab, init, at);
    if (dtype === DataType.STRING) throw new GraphError(`tensor '${t.name}': string tensors hold byte strings, use Tensor.fromStrings`);
    const expected = packedByteLength(dtype, t.size);
    if (!Number.isSafeInteger(at) || at < 0 || at + expected > slab.byteLength) {
      throw new GraphError(`tensor '${t.name}': ${dataTypeName(dtype)}${JSON.stringify(dims)} needs ${expected} bytes at ${at}, outside a slab of ${slab.byteLength}`);
    }
    return t;
  }

  /** A tensor whose bytes are read on demand from `source` (external data, lazy import). */
  static lazy(dtype: DataType, dims: readonly number[], source: TensorSource, init: TensorInit = {}): Tensor {
    if (lazySource(source) === undefined) throw new GraphError(`tensor '${init.name ?? ''}': a lazy source cannot be a typed array or an array`);
    const t = new Tensor(dtype, dims, source, init);
    const expected = packedByteLength(dtype, t.size);
    if (dtype !== DataType.STRING && source.byteLength !== expected) {
      throw new GraphError(
        `tensor '${t.name}': ${dataTypeName(dtype)}${JSON.stringify(dims)} needs ${expected} bytes, but ${source.description} holds ${source.byteLength}`,
      );
    }
    return t;
  }

  static fromStrings(dims: readonly number[], values: readonly (Uint8Array | string)[], init: TensorInit = {}): Tensor {
    const bytes = values.map((v) => (typeof v === 'string' ? utf8.encode(v) : v));
    const t = new Tensor(DataType.STRING, dims, bytes, init);
    if (bytes.length !== t.size) throw new GraphError(`tensor '${t.name}': ${t.size} strings expected, got ${bytes.length}`);
    return t;
  }

  /**
   * From a typed array holding the storage representation (Float32Array for float,
   * Uint16Array of bits for float16, BigInt64Array for int64, packed Uint8Array for int4).
   * Zero-copy: the tensor views the array's memory; do not modify it afterwards.
   */
  static fromArray(dtype: DataType, dims: readonly number[], data: TypedArray, init: TensorInit = {}): Tensor {
    const info = dataTypeInfo(dtype);
    if (info.storage === undefined || !(data instanceof info.storage)) {
      throw new GraphError(`tensor '${init.name ?? ''}': ${dataTypeName(dtype)} is stored as ${info.storage?.name ?? 'strings'}, got ${data.constructor.name}`);
    }
    return Tensor.fromBytes(dtype, dims, new Uint8Array(data.buffer, data.byteOffset, data.byteLength), init);
  }

  /** From JavaScript numbers (or bigints), converting to the element type's bit patterns; complex as interleaved parts. */
  static fromNumbers(dtype: DataType, dims: readonly number[], values: ArrayLike<number | bigint>, init: TensorInit = {}): Tensor {
    return Tensor.fromArray(dtype, dims, encodeNumbers(dtype, values), init);
  }

  static scalar(dtype: DataType, value: number | bigint, init: TensorInit = {}): Tensor {
    return Tensor.fromNumbers(dtype, [], [value], init);
  }

  /** Same data under another name (and optionally other metadata). */
  with(init: TensorInit): Tensor {
    return new Tensor(
      this.dtype,
      this.dims,
      this.#payload,
      {
        name: this.name,
        docString: this.docString,
        metadataProps: this.metadataProps,
        codecData: this.codecData,
        codecRecord: this.codecRecord,
        ...init,
      },
      this.#at,
    );
  }

  /** Same bytes viewed with other dims (element count must match). */
  reshape(dims: readonly number[]): Tensor {
    const t = new Tensor(this.dtype, dims, this.#payload, { name: this.name, codecData: this.codecData }, this.#at);
    if (t.size !== this.size) throw new GraphError(`tensor '${this.name}': cannot reshape ${this.size} elements to ${JSON.stringify(dims)}`);
    return t;
  }

  get rank(): number {
    return this.dims.length;
  }

  /** Bytes of the packed little-endian payload (for strings: total string bytes). No I/O. */
  get byteLength(): number {
    const p = this.#payload;
    if (isStrings(p)) return p.reduce((n, v) => n + v.byteLength, 0);
    if (this.dtype === DataType.STRING) {
      const src = lazySource(p);
      if (src !== undefined) return src.byteLength;
    }
    return packedByteLength(this.dtype, this.size);
  }

  /** True when reading the data costs I/O (external data or a lazily imported file range). */
  get isLazy(): boolean {
    const src = lazySource(this.#payload);
    return src !== undefined && src.inMemory !== true;
  }

  get external(): ExternalDataInfo | undefined {
    return lazySource(this.#payload)?.external;
  }

  /** Describes where the data lives, for diagnostics. */
  get origin(): string {
    return lazySource(this.#payload)?.description ?? 'memory';
  }

  /** The source of a source-backed tensor (for writers that stream data without materialising it). */
  get source(): TensorSource | undefined {
    return lazySource(this.#payload);
  }

  /**
   * Little-endian packed bytes. In-memory payloads are returned without copying; lazy ones are
   * read on each call and not retained. Do not write into the result.
   */
  bytes(): Uint8Array {
    const p = this.#payload;
    if (isRaw(p)) {
      const at = this.#at;
      return at < 0 ? p : new Uint8Array(p.buffer, p.byteOffset + at, packedByteLength(this.dtype, this.size));
    }
    if (isStrings(p)) throw new GraphError(`tensor '${this.name}': string tensors have no packed bytes; use strings()`);
    const src = p as TensorSource;
    const b = src.read();
    if (b.byteLength !== src.byteLength) {
      throw new GraphError(`tensor '${this.name}': ${src.description} yielded ${b.byteLength} bytes, expected ${src.byteLength}`);
    }
    return b;
  }

  /**
   * @internal The first four bytes of a raw payload held in memory as a little-endian uint32, read
   * in place: no view object (a rule that asks it of every constant it meets, the biases of a
   * chain, made one each), or -1 when the payload is not raw bytes in memory (lazy, strings) or
   * has fewer than four bytes.
   */
  _firstUint32(): number {
    const p = this.#payload;
    if (!isRaw(p) || packedByteLength(this.dtype, this.size) < 4) return -1;
    const at = this.#at < 0 ? 0 : this.#at;
    return (p[at]! | (p[at + 1]! << 8) | (p[at + 2]! << 16) | (p[at + 3]! << 24)) >>> 0;
  }

  /**
   * `length` packed bytes from byte `offset`: a view for in-memory payloads, a positional read of
   * just that range for lazy ones whose source supports it (otherwise the whole payload is read
   * and sliced). Do not write into the result.
   */
  bytesAt(offset: number, length: number): Uint8Array {
    const total = this.byteLength;
    if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0 || offset + length > total) {
      throw new GraphError(`tensor '${this.name}': byte range [${offset}, ${offset + length}) is outside its ${total} bytes`);
    }
    const src = lazySource(this.#payload);
    if (src?.readInto) {
      const out = new Uint8Array(length);
      src.readInto(out, offset, length);
      return out;
    }
    return this.bytes().subarray(offset, offset + length);
  }

  /**
   * Copies the packed bytes into `target` (exactly `byteLength` bytes): a lazy payload whose
   * source reads positionally is read straight into it, with no buffer of its own size.
   */
  copyTo(target: Uint8Array): void {
    if (target.byteLength !== this.byteLength) {
      throw new GraphError(`tensor '${this.name}': copyTo needs a target of ${this.byteLength} bytes, got ${target.byteLength}`);
    }
    const src = lazySource(this.#payload);
    if (src?.readInto && !src.inMemory) src.readInto(target, 0, target.byteLength);
    else target.set(this.bytes());
  }

  /**
   * @internal Moves a raw payload to an equal copy of it somewhere else: `bytes` itself, or with
   * `at` ≥ 0 the range `[at, at + byteLength)` of the slab `bytes` (the importer copies small
   * payloads out of a large file buffer so that the buffer can be freed). The tensor's contents
   * do not change.
   */
  _rebase(bytes: Uint8Array, at = -1): void {
    const p = this.#payload;
    const n = isRaw(p) ? packedByteLength(this.dtype, this.size) : -1;
    const fits = at < 0 ? bytes.byteLength === n : Number.isSafeInteger(at) && at + n <= bytes.byteLength;
    if (n < 0 || !isRaw(bytes) || !fits) throw new GraphError(`internal: tensor '${this.name}': _rebase needs a raw payload of ${n < 0 ? '?' : n} bytes`);
    this.#payload = bytes;
    this.#at = at;
  }

  /** Byte strings of a STRING tensor. */
  strings(): readonly Uint8Array[] {
    const p = this.#payload;
    if (!isStrings(p)) throw new GraphError(`tensor '${this.name}' is ${dataTypeName(this.dtype)}, not string`);
    return p;
  }

  /** UTF-8 decoded strings of a STRING tensor. */
  texts(): string[] {
    return this.strings().map((s) => utf8d.decode(s));
  }

  /**
   * The storage typed array (see `fromArray`). Zero-copy when the bytes are suitably aligned,
   * otherwise an aligned copy. Do not write into the result.
   */
  toArray(): TypedArray {
    const info = dataTypeInfo(this.dtype);
    if (info.storage === undefined) throw new GraphError(`tensor '${this.name}': ${dataTypeName(this.dtype)} has no numeric storage`);
    let b = this.bytes();
    const width = info.storage.BYTES_PER_ELEMENT;
    // new Uint8Array(view) copies; Buffer#slice would only make another (misaligned) view.
    if (b.byteOffset % width !== 0) b = new Uint8Array(b);
    const Ctor = info.storage as unknown as new (buffer: ArrayBufferLike, offset: number, length: number) => TypedArray;
    return new Ctor(b.buffer, b.byteOffset, b.byteLength / width);
  }

  /**
   * Element values as float64 (float16/bfloat16/float8/float4 decoded, 4/2-bit ints unpacked,
   * bool as 0/1, int64 converted to the nearest double). Complex types give interleaved parts.
   */
  toFloat64(): Float64Array {
    return decodeToFloat64(this.dtype, this.toArray(), this.size);
  }

  /** Integer element values as bigint (int64/uint64 exactly, other integer types widened). */
  toBigInt64(): BigInt64Array {
    const a = this.toArray();
    if (a instanceof BigInt64Array) return a;
    if (a instanceof BigUint64Array) return BigInt64Array.from(a, (x) => BigInt.asIntN(64, x));
    const f = this.toFloat64();
    const out = new BigInt64Array(f.length);
    for (let i = 0; i < f.length; i++) {
      const v = f[i];
      if (!Number.isInteger(v)) throw new GraphError(`tensor '${this.name}': element ${i} (${v}) is not an integer`);
      out[i] = BigInt(v);
    }
    return out;
  }

  /** Integer values as numbers; throws if one is beyond ±2^53 (never narrows silently). */
  toSafeIntegers(): number[] {
    const a = this.toArray();
    if (a instanceof BigInt64Array || a instanceof BigUint64Array) {
      const out: number[] = new Array(a.length);
      for (let i = 0; i < a.length; i++) {
        const v = a[i];
        if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < BigInt(Number.MIN_SAFE_INTEGER)) {
          throw new GraphError(`tensor '${this.name}': element ${i} (${v}) does not fit a JavaScript number`);
        }
        out[i] = Number(v);
      }
      return out;
    }
    return Array.from(this.toFloat64());
  }

  /** A copy whose payload lives in memory (reads a lazy tensor once). */
  materialize(): Tensor {
    if (lazySource(this.#payload) === undefined) return this;
    const bytes = this.bytes();
    return new Tensor(this.dtype, this.dims, bytes, {
      name: this.name,
      docString: this.docString,
      metadataProps: this.metadataProps,
      codecData: this.codecData,
      codecRecord: this.codecRecord,
    });
  }

  toString(): string {
    return `Tensor(${this.name ? `'${this.name}' ` : ''}${dataTypeName(this.dtype)}${JSON.stringify(this.dims)})`;
  }
}

const EMPTY_MAP: ReadonlyMap<string, string> = new Map();

/**
 * Frozen dims arrays shared by every tensor of the same shape (a model has hundreds of thousands
 * of weights in a few dozen shapes): a fresh frozen copy per tensor cost ≈ 64 bytes each, 2.5 MB
 * on a 100k-node chain with a weight and a bias per block. Ranks 1 and 2 are keyed by a number
 * (no string built per tensor); ranks up to 8 by their text; at most SHARED_DIMS_MAX shapes are
 * kept, later ones get their own copy. Dims are validated before they get here.
 */
const SHARED_DIMS = new Map<number | string, readonly number[]>();
const SHARED_DIMS_MAX = 4096;
const NO_DIMS: readonly number[] = Object.freeze([]);
const DIM_KEY = 2 ** 26;

function sharedDims(dims: readonly number[]): readonly number[] {
  const rank = dims.length;
  if (rank === 0) return NO_DIMS;
  let key: number | string;
  // Rank 1 is keyed by its dim (≥ 0), rank 2 by a negative number: the two never collide.
  if (rank === 1 && dims[0]! < DIM_KEY) key = dims[0]!;
  else if (rank === 2 && dims[0]! < DIM_KEY && dims[1]! < DIM_KEY) key = -1 - (dims[0]! * DIM_KEY + dims[1]!);
  else if (rank <= 8) key = dims.join(',');
  else return Object.freeze(dims.slice());
  let shared = SHARED_DIMS.get(key);
  if (shared === undefined) {
    shared = Object.freeze(dims.slice());
    if (SHARED_DIMS.size < SHARED_DIMS_MAX) SHARED_DIMS.set(key, shared);
  }
  return shared;
}

function decodeToFloat64(dtype: DataType, a: TypedArray, size: number): Float64Array {
  const n = a instanceof Uint8Array && (dtype === DataType.INT4 || dtype === DataType.UINT4 || dtype === DataType.FLOAT4E2M1 || dtype === DataType.INT2 || dtype === DataType.UINT2) ? size : a.length;
  const out = new Float64Array(n);
  switch (dtype) {
    case DataType.FLOAT16:
      for (let i = 0; i < n; i++) out[i] = float16BitsToNumber(a[i] as number);
      return out;
    case DataType.BFLOAT16:
      for (let i = 0; i < n; i++) out[i] = bfloat16BitsToNumber(a[i] as number);
      return out;
    case DataType.FLOAT8E4M3FN:
      for (let i = 0; i < n; i++) out[i] = float8e4m3fnToNumber(a[i] as number);
      return out;
    case DataType.FLOAT8E4M3FNUZ:
      for (let i = 0; i < n; i++) out[i] = float8e4m3fnuzToNumber(a[i] as number);
      return out;
    case DataType.FLOAT8E5M2:
      for (let i = 0; i < n; i++) out[i] = float8e5m2ToNumber(a[i] as number);
      return out;
    case DataType.FLOAT8E5M2FNUZ:
      for (let i = 0; i < n; i++) out[i] = float8e5m2fnuzToNumber(a[i] as number);
      return out;
    case DataType.FLOAT8E8M0:
      for (let i = 0; i < n; i++) out[i] = float8e8m0ToNumber(a[i] as number);
      return out;
    case DataType.FLOAT4E2M1: {
      const codes = unpackSubByte(a as Uint8Array, n, 4, false);
      for (let i = 0; i < n; i++) out[i] = float4e2m1ToNumber(codes[i]);
      return out;
    }
    case DataType.INT4:
    case DataType.UINT4:
    case DataType.INT2:
    case DataType.UINT2: {
      const bits = dtype === DataType.INT4 || dtype === DataType.UINT4 ? 4 : 2;
      out.set(unpackSubByte(a as Uint8Array, n, bits, dtype === DataType.INT4 || dtype === DataType.INT2));
      return out;
    }
    default:
      if (a instanceof BigInt64Array || a instanceof BigUint64Array) {
        for (let i = 0; i < n; i++) out[i] = Number(a[i]);
        return out;
      }
      out.set(a as ArrayLike<number>);
      return out;
  }
}

/** Numbers → the storage typed array of `dtype` (bit patterns for narrow floats). */
export function encodeNumbers(dtype: DataType, values: ArrayLike<number | bigint>): TypedArray {
  if (!isKnownDataType(dtype)) throw new GraphError(`unknown data type ${String(dtype)}`);
  const info = dataTypeInfo(dtype);
  const n = values.length;
  const num = (i: number): number => Number(values[i]);
  const conv = (f: (v: number) => number): Uint8Array | Uint16Array => {
    const out = info.bits === 16 ? new Uint16Array(n) : new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = f(num(i));
    return out;
  };
  switch (dtype) {
    case DataType.FLOAT16:
      return conv(numberToFloat16Bits);
    case DataType.BFLOAT16:
      return conv(numberToBfloat16Bits);
    case DataType.FLOAT8E4M3FN:
      return conv(numberToFloat8e4m3fn);
    case DataType.FLOAT8E4M3FNUZ:
      return conv(numberToFloat8e4m3fnuz);
    case DataType.FLOAT8E5M2:
      return conv(numberToFloat8e5m2);
    case DataType.FLOAT8E5M2FNUZ:
      return conv(numberToFloat8e5m2fnuz);
    case DataType.FLOAT8E8M0:
      return conv(numberToFloat8e8m0);
    case DataType.FLOAT4E2M1:
      return packSubByte(Array.from({ length: n }, (_, i) => numberToFloat4e2m1(num(i))), 4);
    case DataType.INT4:
    case DataType.UINT4:
      return packSubByte(Array.from({ length: n }, (_, i) => num(i)), 4);
    case DataType.INT2:
    case DataType.UINT2:
      return packSubByte(Array.from({ length: n }, (_, i) => num(i)), 2);
    case DataType.INT64: {
      const out = new BigInt64Array(n);
      for (let i = 0; i < n; i++) {
        const v = values[i];
        out[i] = typeof v === 'bigint' ? v : BigInt(Math.trunc(v));
      }
      return out;
    }
    case DataType.UINT64: {
      const out = new BigUint64Array(n);
      for (let i = 0; i < n; i++) {
        const v = values[i];
        out[i] = typeof v === 'bigint' ? v : BigInt(Math.trunc(v));
      }
      return out;
    }
    case DataType.STRING:
    case DataType.UNDEFINED:
      throw new GraphError(`cannot encode numbers as ${dataTypeName(dtype)}`);
    default: {
      // Complex values arrive interleaved (re, im, re, im, ...), one number per stored part.
      const Ctor = info.storage!;
      const out = new Ctor(n) as Exclude<TypedArray, BigInt64Array | BigUint64Array>;
      for (let i = 0; i < out.length; i++) out[i] = Number(values[i]);
      return out;
    }
  }
}
