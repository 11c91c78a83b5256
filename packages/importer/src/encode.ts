/**
 * IR → ModelProto bytes in one pass over the model: metadata goes into one growing buffer, each
 * submessage's length is written when it closes (see EncodeOut), and large payloads are left as
 * holes filled at emission: into one exactly sized buffer (`encode`), or streamed to a sink in
 * chunks (for `save`, so weights go from a lazy source to disk without ever being all in memory).
 *
 * Output is canonical and deterministic: fields in field-number order (as protobuf's C++
 * serializer writes them, so files written by onnx/PyTorch usually re-encode byte for byte),
 * unknown fields last, repeated scalars unpacked except where onnx.proto says `packed = true`,
 * each tensor in the field it came from (its `TensorDataHint`, see hints.ts), varint payloads verbatim.
 *
 * Browser-safe: no Node imports.
 */
import {
  AttributeType,
  DataType,
  type Attribute,
  type ExternalDataInfo,
  type Graph,
  type Model,
  type Node,
  type OnnxFunction,
  type QuantizationAnnotation,
  type SparseTensor,
  type Tensor,
  type TensorSource,
  type TensorType,
  type TrainingInfo,
  type TypeInfo,
  type Value,
} from '@onnxkit/graph';
import { ExportError } from './errors.js';
import { TensorDataHint, TensorRecordHint, getExtras, getGraphHints, hasExtras, getRawAttributeFloats, getRawAttributeStrings, getRawExternalEntries, isPresent } from './hints.js';
import {
  AnnotationFields,
  AttributeFields,
  DataLocation,
  DimFields,
  EntryFields,
  FunctionFields,
  GraphFields,
  ModelFields,
  NodeFields,
  OpsetFields,
  SegmentFields,
  ShapeFields,
  SparseTensorFields,
  TENSOR_DATA_FIELD,
  TensorFields,
  TrainingFields,
  type TypedDataField,
  TypeFields,
  TypeMapFields,
  TypeOpaqueFields,
  TypeOptionalFields,
  TypeSequenceFields,
  TypeTensorFields,
  ValueInfoFields,
} from './schema.js';
import { VarintTensorSource } from './wire.js';

export interface EncodeOptions {
  /**
   * Tensors stored as external data: `'keep'` (default) re-emits their external_data references
   * verbatim, so the bytes are valid next to the same data files; `'embed'` reads them and
   * writes raw_data.
   */
  externalData?: 'keep' | 'embed';
}

/** Internal: tensors placed into a new external data file by `save`. */
export type ExternalPlan = Map<Tensor, ExternalDataInfo>;

/** A TensorSource that can copy a byte range into a caller's buffer (streaming, no allocation). */
export interface RangeReadable extends TensorSource {
  readInto(target: Uint8Array, sourceOffset: number, length: number): void;
}
export function isRangeReadable(s: TensorSource | undefined): s is RangeReadable {
  return s !== undefined && typeof (s as Partial<RangeReadable>).readInto === 'function';
}

/** TypeProto's field for each kind of value type (0: none). */
const MEMBER_FIELD: Record<TypeInfo['kind'], number> = {
  tensor: TypeFields.tensor_type,
  sparse_tensor: TypeFields.sparse_tensor_type,
  sequence: TypeFields.sequence_type,
  optional: TypeFields.optional_type,
  map: TypeFields.map_type,
  opaque: TypeFields.opaque_type,
  empty: 0,
};

const LEN = 2;
const I32 = 5;
/** Streaming: payloads of at least this many bytes go to the sink as they are, not via the chunk. */
const DIRECT_BYTES = 64 * 1024;

function varintSize(v: number): number {
  if (v < 0x80) return 1;
  if (v < 0x4000) return 2;
  if (v < 0x200000) return 3;
  if (v < 0x10000000) return 4;
  if (v < 0x800000000) return 5;
  if (v < 0x40000000000) return 6;
  if (v < 0x2000000000000) return 7;
  return 8;
}

function varint64Size(v: bigint): number {
  if (v >= 0n && v < 0x20000000000000n) return varintSize(Number(v));
  if (v < 0n) return 10;
  let u = BigInt.asUintN(64, v);
  let n = 1;
  while (u >= 0x80n) {
    u >>= 7n;
    n++;
  }
  return n;
}

const textEncoder = new TextEncoder();
const f32 = new Float32Array(1);
const f32Bytes = new Uint8Array(f32.buffer);

/**
 * When saving, payloads (tensor bytes, packed varints, raw unknown fields) of at least this many
 * bytes are not copied into the encoder's buffer: it records where they go (a "hole") and copies
 * them only at emission, straight to the sink. The buffer then holds the metadata only (names,
 * dims, attributes: tens of bytes per node), so saving stays in bounded memory however large the
 * weights are.
 */
const STREAM_HOLE_BYTES = 256;

/**
 * The one encoding pass. Protobuf puts a submessage's length before its body, so `open` reserves
 * one byte for it and `close` writes the body's length there, moving the body right by the extra
 * bytes when the length needs more than one (rare for a node; once for a graph: a memmove,
 * far cheaper than a whole sizing walk). Hole lengths count in message lengths, so the output is
 * exactly the canonical bytes a size-then-write encoder produces.
 */
export class EncodeOut {
  buf: Uint8Array;
  pos = 0;
  /** Bytes in holes so far: the output's length is pos + holeBytes. */
  holeBytes = 0;
  /** Per hole: its position in buf, its length and its bytes (or the tensor that has them). */
  private readonly holePos: number[] = [];
  private readonly holeLen: number[] = [];
  private readonly holeRef: (Tensor | Uint8Array)[] = [];
  /** Open messages: [slot position, hole count, hole bytes] per level. */
  private readonly stack: number[] = [];

  /**
   * `holeBytes`: payloads from this size on become holes. Streaming keeps it small (the buffer
   * then holds metadata only); in memory the output holds everything anyway, so only large
   * payloads (copied once, straight into the result) are worth the bookkeeping.
   */
  constructor(
    capacity = 256,
    private readonly holeMin = DIRECT_BYTES,
  ) {
    this.buf = allocate(capacity);
  }

  /** The encoded length in bytes. */
  get length(): number {
    return this.pos + this.holeBytes;
  }

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.byteLength) return;
    const next = allocate(Math.max(this.buf.byteLength * 2, this.pos + n));
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
  }

  private tag(field: number, wire: number): void {
    const t = field * 8 + wire;
    if (t < 128) this.buf[this.pos++] = t;
    else this.varint(t);
  }

  private varint(v: number): void {
    const buf = this.buf;
    let p = this.pos;
    while (v > 0x7fffffff) {
      buf[p++] = (v % 128) | 0x80;
      v = Math.floor(v / 128);
    }
    while (v > 127) {
      buf[p++] = (v & 127) | 128;
      v >>>= 7;
    }
    buf[p++] = v;
    this.pos = p;
  }

  private varint64(lo: number, hi: number): void {
    const buf = this.buf;
    let p = this.pos;
    while (hi > 0 || lo > 127) {
      buf[p++] = (lo & 127) | 128;
      lo = ((lo >>> 7) | (hi << 25)) >>> 0;
      hi >>>= 7;
    }
    buf[p++] = lo;
    this.pos = p;
  }

  u(field: number, v: number): void {
    this.ensure(13);
    this.tag(field, 0);
    this.varint(v);
  }
  i32(field: number, v: number): void {
    this.ensure(15);
    this.tag(field, 0);
    if (v < 0) this.varint64(v >>> 0, 0xffffffff);
    else this.varint(v);
  }
  i64(field: number, v: bigint): void {
    this.ensure(15);
    this.tag(field, 0);
    if (v >= 0n && v < 0x20000000000000n) this.varint(Number(v));
    else {
      const u = BigInt.asUintN(64, v);
      this.varint64(Number(u & 0xffffffffn), Number(u >> 32n));
    }
  }
  s(field: number, str: string): void {
    const len = str.length;
    if (len < 128) {
      // Names are short and nearly always ASCII: copy the code units, checking as we go, with
      // the one-byte length written first; anything else takes the general path.
      this.ensure(len + 4);
      const start = this.pos;
      this.tag(field, LEN);
      const buf = this.buf;
      let p = this.pos;
      buf[p++] = len;
      let i = 0;
      for (; i < len; i++) {
        const c = str.charCodeAt(i);
        if (c >= 0x80) break;
        buf[p++] = c;
      }
      if (i === len) {
        this.pos = p;
        return;
      }
      this.pos = start;
    }
    const bytes = textEncoder.encode(str);
    this.b(field, bytes);
  }
  b(field: number, bytes: Uint8Array): void {
    this.ensure(15);
    this.tag(field, LEN);
    this.varint(bytes.byteLength);
    this.raw(bytes);
  }
  f32(field: number, v: number): void {
    this.ensure(7);
    this.tag(field, I32);
    f32[0] = v;
    this.buf.set(f32Bytes, this.pos);
    this.pos += 4;
  }
  raw(bytes: Uint8Array): void {
    const n = bytes.byteLength;
    if (n >= this.holeMin) {
      this.hole(bytes, n);
      return;
    }
    this.ensure(n);
    this.buf.set(bytes, this.pos);
    this.pos += n;
  }
  /** A tensor's packed bytes, `length` of them: copied at emission (lazy sources read then). */
  payload(field: number, t: Tensor, length: number): void {
    this.ensure(15);
    this.tag(field, LEN);
    this.varint(length);
    if (length >= this.holeMin) {
      this.hole(t, length);
      return;
    }
    this.ensure(length);
    const src = t.source;
    if (isRangeReadable(src)) src.readInto(this.buf.subarray(this.pos, this.pos + length), 0, length);
    else this.buf.set(t.bytes(), this.pos);
    this.pos += length;
  }
  private hole(ref: Tensor | Uint8Array, n: number): void {
    this.holePos.push(this.pos);
    this.holeLen.push(n);
    this.holeRef.push(ref);
    this.holeBytes += n;
  }
  open(field: number): void {
    this.ensure(15);
    this.tag(field, LEN);
    this.stack.push(this.pos, this.holePos.length, this.holeBytes);
    this.pos++;
  }
  close(): void {
    const stack = this.stack;
    const holeBytes0 = stack.pop()!;
    const holes0 = stack.pop()!;
    const slot = stack.pop()!;
    const body = this.pos - slot - 1 + this.holeBytes - holeBytes0;
    if (body < 128) {
      this.buf[slot] = body;
      return;
    }
    const extra = varintSize(body) - 1;
    this.ensure(extra);
    this.buf.copyWithin(slot + 1 + extra, slot + 1, this.pos);
    this.pos += extra;
    const holePos = this.holePos;
    for (let i = holes0; i < holePos.length; i++) holePos[i]! += extra;
    const end = this.pos;
    this.pos = slot;
    this.varint(body);
    this.pos = end;
  }

  /** The whole encoding in one exactly sized buffer. */
  toBytes(): Uint8Array {
    if (this.holePos.length === 0) {
      // The buffer was sized from the model, usually within a few percent: a view of it rather
      // than a copy, unless that would keep much unused memory alive.
      return this.buf.byteLength - this.pos <= this.pos / 8 ? this.buf.subarray(0, this.pos) : this.buf.slice(0, this.pos);
    }
    const out = allocate(this.length);
    const buf = this.buf;
    let at = 0;
    this.emit(
      (from, to) => {
        out.set(buf.subarray(from, to), at);
        at += to - from;
      },
      (piece) => {
        out.set(piece, at);
        at += piece.byteLength;
      },
      (src, length) => {
        src.readInto(out.subarray(at, at + length), 0, length);
        at += length;
      },
    );
    return out;
  }

  /**
   * Streams the encoding to `sink` in pieces of about `chunk` bytes: metadata and small payloads
   * gathered in one reused buffer, large payloads handed over as they are (views of the file they
   * came from, no copy) or read in chunks from a lazy source.
   */
  stream(sink: (piece: Uint8Array) => void, chunk: number): void {
    let out = allocate(Math.min(chunk, Math.max(this.length, 4096)));
    let fill = 0;
    const buf = this.buf;
    const { holePos, holeLen, holeRef } = this;
    // One loop over the holes, copying inline (not emit()'s three callbacks, called per hole:
    // they were compiled, deoptimized and compiled again as each kind of piece first came up).
    let at = 0;
    for (let i = 0; i <= holePos.length; i++) {
      // The metadata before hole i (or after the last one).
      const to = i < holePos.length ? holePos[i]! : this.pos;
      const n = to - at;
      if (n >= DIRECT_BYTES) {
        if (fill > 0) sink(out.subarray(0, fill));
        fill = 0;
        sink(buf.subarray(at, to));
      } else if (n > 0) {
        if (fill + n > out.byteLength && fill > 0) {
          sink(out.subarray(0, fill));
          fill = 0;
        }
        // Between two holes lie a few tens of bytes (a tensor's header): a loop beats a view.
        if (n < 64) for (let j = at; j < to; j++) out[fill++] = buf[j]!;
        else {
          out.set(buf.subarray(at, to), fill);
          fill += n;
        }
      }
      at = to;
      if (i === holePos.length) break;
      const ref = holeRef[i]!;
      const src = ref instanceof Uint8Array ? undefined : ref.source;
      if (isRangeReadable(src)) {
        const length = holeLen[i]!;
        if (length < DIRECT_BYTES && fill + length <= out.byteLength) {
          src.readInto(out.subarray(fill, fill + length), 0, length);
          fill += length;
          continue;
        }
        // Read in chunks into the start of the buffer (aligned, so a source that computes its
        // bytes, such as a folded weight, works on typed views).
        if (fill > 0) sink(out.subarray(0, fill));
        fill = 0;
        if (out.byteLength % 8 !== 0) out = allocate(out.byteLength - (out.byteLength % 8) + 8);
        for (let off = 0; off < length; ) {
          const k = Math.min(out.byteLength, length - off);
          src.readInto(out.subarray(0, k), off, k);
          sink(out.subarray(0, k));
          off += k;
        }
        continue;
      }
      const piece = ref instanceof Uint8Array ? ref : ref.bytes();
      const k = piece.byteLength;
      if (k >= DIRECT_BYTES) {
        if (fill > 0) sink(out.subarray(0, fill));
        fill = 0;
        sink(piece);
        continue;
      }
      if (fill + k > out.byteLength && fill > 0) {
        sink(out.subarray(0, fill));
        fill = 0;
      }
      out.set(piece, fill);
      fill += k;
    }
    if (fill > 0) sink(out.subarray(0, fill));
  }

  /** For toBytes: calls `own` for each run of metadata, `bytes` or `read` for each hole, in order (stream has its own loop). */
  private emit(
    own: (from: number, to: number) => void,
    bytes: (piece: Uint8Array) => void,
    read: (src: RangeReadable, length: number) => void,
  ): void {
    let at = 0;
    const { holePos, holeLen, holeRef } = this;
    for (let i = 0; i < holePos.length; i++) {
      const p = holePos[i]!;
      if (p > at) own(at, p);
      at = p;
      const ref = holeRef[i]!;
      if (ref instanceof Uint8Array) bytes(ref);
      else {
        const src = ref.source;
        if (isRangeReadable(src)) read(src, holeLen[i]!);
        else bytes(ref.bytes());
      }
    }
    if (this.pos > at) own(at, this.pos);
  }
}


/**
 * An output buffer. Every byte gets written, so under Node the zero-filling of
 * `new Uint8Array` is skipped (a full extra pass over a 100 MB model); browsers get the plain
 * array. The result is a plain Uint8Array view either way.
 */
function allocate(n: number): Uint8Array {
  const B = (globalThis as { Buffer?: { allocUnsafeSlow(n: number): Uint8Array } }).Buffer;
  if (B === undefined || n < 4096) return new Uint8Array(n);
  const b = B.allocUnsafeSlow(n);
  return new Uint8Array(b.buffer, b.byteOffset, n);
}

/** Walks a model in canonical field order into an EncodeOut. */
export class ModelEncoder {

  constructor(
    private readonly embedExternal: boolean,
    private readonly plan: ExternalPlan | undefined,
  ) {}

  model(o: EncodeOut, m: Model): void {
    if (m.irVersion !== 0) o.i64(ModelFields.ir_version, BigInt(m.irVersion));
    if (m.producerName) o.s(ModelFields.producer_name, m.producerName);
    if (m.producerVersion) o.s(ModelFields.producer_version, m.producerVersion);
    if (m.domain) o.s(ModelFields.domain, m.domain);
    if (m.modelVersion !== 0n) o.i64(ModelFields.model_version, m.modelVersion);
    if (m.docString) o.s(ModelFields.doc_string, m.docString);
    o.open(ModelFields.graph);
    this.graphBody(o, m.graph);
    o.close();
    this.opsets(o, ModelFields.opset_import, m.opsetImports);
    this.entries(o, ModelFields.metadata_props, m.metadataProps);
    for (const t of m.trainingInfo) {
      o.open(ModelFields.training_info);
      this.training(o, t);
      o.close();
    }
    for (const f of m.functions) {
      o.open(ModelFields.functions);
      this.function(o, f);
      o.close();
    }
    this.unknown(o, m.unknownFields);
  }

  private unknown(o: EncodeOut, fields: readonly Uint8Array[] | undefined): void {
    if (fields) for (const f of fields) o.raw(f);
  }

  private opsets(o: EncodeOut, field: number, opsets: ReadonlyMap<string, number>): void {
    for (const [domain, version] of opsets) {
      o.open(field);
      if (domain !== '' || !isPresent(opsets, `opset-no-domain:${domain}`)) o.s(OpsetFields.domain, domain);
      o.i64(OpsetFields.version, BigInt(version));
      this.unknown(o, getExtras(opsets, `opset:${domain}`));
      o.close();
    }
  }

  private entries(o: EncodeOut, field: number, map: ReadonlyMap<string, string>): void {
    // Most maps are empty (every tensor's): no iterator for them.
    if (map.size === 0) return;
    // forEach, and the extras looked up only for a map that has some: a for-of makes an
    // iterator and a [key, value] pair, and the key string a concatenation, per entry (one
    // entry on every node a rewrite stamped with its rule: 20,000 on the 100k-node chain).
    const extra = hasExtras(map);
    map.forEach((v, k) => {
      o.open(field);
      o.s(EntryFields.key, k);
      o.s(EntryFields.value, v);
      if (extra) this.unknown(o, getExtras(map, `entry:${k}`));
      o.close();
    });
  }

  private pairs(o: EncodeOut, field: number, list: readonly (readonly [string, string])[]): void {
    for (const pair of list) {
      o.open(field);
      o.s(EntryFields.key, pair[0]);
      o.s(EntryFields.value, pair[1]);
      this.unknown(o, getExtras(pair, 'entry'));
      o.close();
    }
  }

  private training(o: EncodeOut, t: TrainingInfo): void {
    if (t.initialization) {
      o.open(TrainingFields.initialization);
      this.graphBody(o, t.initialization);
      o.close();
    }
    if (t.algorithm) {
      o.open(TrainingFields.algorithm);
      this.graphBody(o, t.algorithm);
      o.close();
    }
    this.pairs(o, TrainingFields.initialization_binding, t.initializationBinding);
    this.pairs(o, TrainingFields.update_binding, t.updateBinding);
    this.unknown(o, t.unknownFields);
  }

  private function(o: EncodeOut, f: OnnxFunction): void {
    if (f.name) o.s(FunctionFields.name, f.name);
    for (const v of f.graph.inputs) o.s(FunctionFields.input, v.name);
    for (const v of f.graph.outputs) o.s(FunctionFields.output, v.name);
    for (const a of f.attributeNames) o.s(FunctionFields.attribute, a);
    for (const n of f.graph) {
      o.open(FunctionFields.node);
      this.node(o, n);
      o.close();
    }
    if (f.docString) o.s(FunctionFields.doc_string, f.docString);
    this.opsets(o, FunctionFields.opset_import, f.opsetImports);
    if (f.domain) o.s(FunctionFields.domain, f.domain);
    for (const a of f.attributeDefaults) {
      o.open(FunctionFields.attribute_proto);
      this.attribute(o, a);
      o.close();
    }
    this.valueInfos(o, FunctionFields.value_info, f.graph);
    if (f.overload) o.s(FunctionFields.overload, f.overload);
    this.entries(o, FunctionFields.metadata_props, f.metadataProps);
    this.unknown(o, f.unknownFields);
  }

  graphBody(o: EncodeOut, g: Graph): void {
    // Cursor walks and forEach, not for-of: Graph's iterator and a Map's entries allocate a
    // result (and a [key, value] pair) per item — 40k nodes and 40k initializers of garbage on the
    // 100k chain (issue 15 "Performance", allocation).
    // Node outputs that may need a value_info entry, noted while each node is at hand (see
    // valueInfos): a second walk over every node and output cost as much again in cache misses.
    const described: Value[] = [];
    for (let n = g.firstNode; n !== null; n = n.next) {
      o.open(GraphFields.node);
      this.node(o, n);
      o.close();
      const outs = n.outputs;
      for (let i = 0; i < outs.length; i++) if (describable(outs[i]!)) described.push(outs[i]!);
    }
    if (g.name) o.s(GraphFields.name, g.name);
    g.initializers.forEach((v, name) => {
      const t = v.constValue;
      if (t === null) throw new ExportError('EXPORT_INVALID', `initializer '${name}' of graph '${g.name}' has no tensor`);
      o.open(GraphFields.initializer);
      this.tensorBody(o, t, name);
      o.close();
    });
    if (g.docString) o.s(GraphFields.doc_string, g.docString);
    for (const v of g.inputs) {
      o.open(GraphFields.input);
      this.valueInfoBody(o, v, v.name);
      o.close();
    }
    const hints = getGraphHints(g);
    // A Value may be listed as an output more than once, each slot with its own recorded info.
    const seen = hints && hints.outputInfo.size > 0 ? new Map<Value, number>() : undefined;
    for (const v of g.outputs) {
      o.open(GraphFields.output);
      let info: Value = v;
      if (seen !== undefined) {
        const k = seen.get(v) ?? 0;
        seen.set(v, k + 1);
        info = hints!.outputInfo.get(v)?.[k] ?? v;
      }
      this.valueInfoBody(o, info, v.name);
      o.close();
    }
    this.valueInfos(o, GraphFields.value_info, g, described);
    for (const q of g.quantizationAnnotations) {
      o.open(GraphFields.quantization_annotation);
      this.annotation(o, q);
      o.close();
    }
    for (const [name, v] of g.sparseInitializers) {
      const s = v.sparseValue;
      if (s === null) throw new ExportError('EXPORT_INVALID', `sparse initializer '${name}' of graph '${g.name}' has no sparse value`);
      o.open(GraphFields.sparse_initializer);
      this.sparseBody(o, s, name);
      o.close();
    }
    this.entries(o, GraphFields.metadata_props, g.metadataProps);
    this.unknown(o, g.unknownFields);
  }

  /**
   * value_info entries: first those the file had, in its order (dropping values a pass removed),
   * then typed values the file did not describe, in node order, then new dangling entries.
   * `described`: the node outputs, in node order, that `describable` picked (found by walking the
   * nodes here when not given).
   */
  private valueInfos(o: EncodeOut, field: number, g: Graph, described?: readonly Value[]): void {
    const hints = getGraphHints(g);
    const done = new Set<Value>();
    const dangling = new Set(g.danglingValueInfo);
    const emit = (v: Value): void => {
      done.add(v);
      o.open(field);
      this.valueInfoBody(o, v, v.name);
      o.close();
    };
    if (hints) {
      for (const v of hints.valueInfoOrder) {
        if (done.has(v)) continue;
        const target = hints.detached.get(v);
        if (target !== undefined) {
          if (definedIn(target, g) && target.name === v.name) emit(v);
        } else if (dangling.has(v) || definedIn(v, g)) emit(v);
      }
    }
    const typed = (v: Value): void => {
      if (!done.has(v) && v.name !== '' && !v._outputOf.includes(g)) emit(v);
    };
    if (described !== undefined) for (let i = 0; i < described.length; i++) typed(described[i]!);
    else {
      for (let n = g.firstNode; n !== null; n = n.next) {
        const outs = n.outputs;
        for (let i = 0; i < outs.length; i++) if (describable(outs[i]!)) typed(outs[i]!);
      }
    }
    for (const v of g.danglingValueInfo) if (!done.has(v)) emit(v);
  }

  valueInfoBody(o: EncodeOut, v: Value, name: string): void {
    o.s(ValueInfoFields.name, name);
    if (v.type !== null) {
      o.open(ValueInfoFields.type);
      this.type(o, v.type);
      o.close();
    }
    if (v.docString) o.s(ValueInfoFields.doc_string, v.docString);
    if (v.hasMetadata) this.entries(o, ValueInfoFields.metadata_props, v.metadataProps);
    this.unknown(o, v.unknownFields);
  }

  type(o: EncodeOut, t: TypeInfo): void {
    const den = t.denotation;
    const extra = hasExtras(t);
    // Fields in number order: the value member goes before or after denotation by its number.
    const memberField = MEMBER_FIELD[t.kind];
    if (memberField !== 0 && memberField < TypeFields.denotation) this.typeMember(o, t, memberField, extra);
    if (den !== undefined) o.s(TypeFields.denotation, den);
    if (memberField > TypeFields.denotation) this.typeMember(o, t, memberField, extra);
    if (extra) this.unknown(o, getExtras(t, 'type'));
  }

  /** The value member of a TypeProto, in its field (MEMBER_FIELD). */
  private typeMember(o: EncodeOut, t: TypeInfo, field: number, extra: boolean): void {
    o.open(field);
    switch (t.kind) {
      case 'tensor':
      case 'sparse_tensor':
        this.tensorType(o, t, extra);
        break;
      case 'sequence':
      case 'optional':
        if (t.elem !== null) {
          o.open(t.kind === 'sequence' ? TypeSequenceFields.elem_type : TypeOptionalFields.elem_type);
          this.type(o, t.elem);
          o.close();
        }
        break;
      case 'map':
        o.i32(TypeMapFields.key_type, t.keyType);
        if (t.value !== null) {
          o.open(TypeMapFields.value_type);
          this.type(o, t.value);
          o.close();
        }
        break;
      case 'opaque':
        if (t.domain) o.s(TypeOpaqueFields.domain, t.domain);
        if (t.name) o.s(TypeOpaqueFields.name, t.name);
        break;
    }
    if (extra) this.unknown(o, getExtras(t, 'inner'));
    o.close();
  }

  private tensorType(o: EncodeOut, t: TensorType, extra: boolean): void {
    o.i32(TypeTensorFields.elem_type, t.elemType);
    const shape = t.shape;
    if (shape !== null) {
      o.open(TypeTensorFields.shape);
      const dens = t.dimDenotations;
      for (let i = 0; i < shape.length; i++) {
        const d = shape[i];
        o.open(ShapeFields.dim);
        if (typeof d === 'number') {
          if (!Number.isSafeInteger(d)) throw new ExportError('EXPORT_INVALID', `a shape has dimension ${d}, which is not an integer`);
          if (d >= 0) o.u(DimFields.dim_value, d);
          else o.i64(DimFields.dim_value, BigInt(d));
        } else if (typeof d === 'string') o.s(DimFields.dim_param, d);
        const den = dens?.[i];
        if (den !== undefined) o.s(DimFields.denotation, den);
        if (extra) this.unknown(o, getExtras(t, `dim:${i}`));
        o.close();
      }
      if (extra) this.unknown(o, getExtras(t, 'shape'));
      o.close();
    }
  }

  private node(o: EncodeOut, n: Node): void {
    // Indexed loops (no iterator result per item; most nodes have no attribute at all).
    const ins = n.inputs;
    for (let i = 0; i < ins.length; i++) {
      const v = ins[i];
      o.s(NodeFields.input, v ? v.name : '');
    }
    const outs = n.outputs;
    for (let i = 0; i < outs.length; i++) o.s(NodeFields.output, outs[i]!.name);
    if (n.name || isPresent(n, 'name')) o.s(NodeFields.name, n.name);
    if (n.opType) o.s(NodeFields.op_type, n.opType);
    if (n.attributes.size !== 0) {
      for (const a of n.attributes.values()) {
        o.open(NodeFields.attribute);
        this.attribute(o, a);
        o.close();
      }
    }
    if (n.docString) o.s(NodeFields.doc_string, n.docString);
    if (n.domain || isPresent(n, 'domain')) o.s(NodeFields.domain, n.domain);
    if (n.overload) o.s(NodeFields.overload, n.overload);
    if (n.hasMetadata) this.entries(o, NodeFields.metadata_props, n.metadataProps);
    this.unknown(o, n.unknownFields);
  }

  attribute(o: EncodeOut, a: Attribute): void {
    o.s(AttributeFields.name, a.name);
    const v = a.value;
    const ref = a.isRef;
    const rawStrings = getRawAttributeStrings(a);
    const rawFloats = getRawAttributeFloats(a);
    if (!ref) {
      switch (a.type) {
        case AttributeType.FLOAT:
          if (rawFloats) o.raw(fixed32Field(AttributeFields.f, rawFloats, 0));
          else o.f32(AttributeFields.f, v as number);
          break;
        case AttributeType.INT:
          o.i64(AttributeFields.i, v as bigint);
          break;
        case AttributeType.STRING:
          if (rawStrings) o.b(AttributeFields.s, rawStrings[0]!);
          else o.s(AttributeFields.s, v as string);
          break;
        case AttributeType.TENSOR:
          o.open(AttributeFields.t);
          this.tensorBody(o, v as Tensor, (v as Tensor).name);
          o.close();
          break;
        case AttributeType.GRAPH:
          o.open(AttributeFields.g);
          this.graphBody(o, v as Graph);
          o.close();
          break;
        case AttributeType.FLOATS:
          if (rawFloats) for (let i = 0; i < rawFloats.byteLength; i += 4) o.raw(fixed32Field(AttributeFields.floats, rawFloats, i));
          else for (const x of v as readonly number[]) o.f32(AttributeFields.floats, x);
          break;
        case AttributeType.INTS:
          for (const x of v as readonly bigint[]) o.i64(AttributeFields.ints, x);
          break;
        case AttributeType.STRINGS:
          if (rawStrings) for (const x of rawStrings) o.b(AttributeFields.strings, x);
          else for (const x of v as readonly string[]) o.s(AttributeFields.strings, x);
          break;
        case AttributeType.TENSORS:
          for (const t of v as readonly Tensor[]) {
            o.open(AttributeFields.tensors);
            this.tensorBody(o, t, t.name);
            o.close();
          }
          break;
        case AttributeType.GRAPHS:
          for (const g of v as readonly Graph[]) {
            o.open(AttributeFields.graphs);
            this.graphBody(o, g);
            o.close();
          }
          break;
        default:
          break;
      }
    }
    if (a.docString) o.s(AttributeFields.doc_string, a.docString);
    if (!ref) {
      if (a.type === AttributeType.TYPE_PROTO) {
        o.open(AttributeFields.tp);
        this.type(o, v as TypeInfo);
        o.close();
      } else if (a.type === AttributeType.TYPE_PROTOS) {
        for (const t of v as readonly TypeInfo[]) {
          o.open(AttributeFields.type_protos);
          this.type(o, t);
          o.close();
        }
      }
    }
    o.i32(AttributeFields.type, a.type);
    if (ref) o.s(AttributeFields.ref_attr_name, a.refAttrName);
    if (!ref) {
      if (a.type === AttributeType.SPARSE_TENSOR) {
        o.open(AttributeFields.sparse_tensor);
        this.sparseBody(o, v as SparseTensor, (v as SparseTensor).values.name);
        o.close();
      } else if (a.type === AttributeType.SPARSE_TENSORS) {
        for (const s of v as readonly SparseTensor[]) {
          o.open(AttributeFields.sparse_tensors);
          this.sparseBody(o, s, s.values.name);
          o.close();
        }
      }
    }
    this.unknown(o, a.unknownFields);
  }

  private sparseBody(o: EncodeOut, s: SparseTensor, name: string): void {
    o.open(SparseTensorFields.values);
    this.tensorBody(o, s.values, name);
    o.close();
    o.open(SparseTensorFields.indices);
    this.tensorBody(o, s.indices, s.indices.name);
    o.close();
    for (const d of s.dims) o.i64(SparseTensorFields.dims, BigInt(d));
    this.unknown(o, getExtras(s, 'sparse'));
  }

  private annotation(o: EncodeOut, q: QuantizationAnnotation): void {
    if (q.tensorName) o.s(AnnotationFields.tensor_name, q.tensorName);
    this.pairs(o, AnnotationFields.quant_parameter_tensor_names, q.params);
    this.unknown(o, getExtras(q, 'annotation'));
  }

  /**
   * Which field carries a tensor's data in the output: external data where planned or where it
   * lives (unless embedding), string_data for strings, the typed field the file held it in while
   * that is still its data type's field (a decoded tensor's TensorDataHint, kept by the copies a
   * pass makes), else raw_data: the canonical form of every tensor a pass creates.
   */
  private field(t: Tensor): TypedDataField | 'raw_data' | 'string_data' | 'external' {
    if (this.plan?.has(t)) return 'external';
    if (t.dtype === DataType.STRING) return 'string_data';
    if (t.external !== undefined) return this.embedExternal ? 'raw_data' : 'external';
    const h = t.codecData;
    return h instanceof TensorDataHint && TENSOR_DATA_FIELD[t.dtype] === h.field ? h.field : 'raw_data';
  }

  tensorBody(o: EncodeOut, t: Tensor, name: string): void {
    const dims = t.dims;
    for (let i = 0; i < dims.length; i++) o.u(TensorFields.dims, dims[i]!);
    o.i32(TensorFields.data_type, t.dtype);
    const rec = t.codecRecord;
    const record = rec instanceof TensorRecordHint ? rec : undefined;
    const segment = record?.segment;
    if (segment) {
      o.open(TensorFields.segment);
      o.i64(SegmentFields.begin, segment.begin);
      o.i64(SegmentFields.end, segment.end);
      this.unknown(o, getExtras(segment, 'segment'));
      o.close();
    }
    const field = this.field(t);
    const n = t.byteLength;
    if (field === 'float_data' && n > 0) o.payload(TensorFields.float_data, t, n);
    if (field === 'int32_data') this.varints(o, TensorFields.int32_data, t);
    if (field === 'string_data') for (const s of t.strings()) o.b(TensorFields.string_data, s);
    if (field === 'int64_data') this.varints(o, TensorFields.int64_data, t);
    if (name || isPresent(t, 'name')) o.s(TensorFields.name, name);
    if (field === 'raw_data') o.payload(TensorFields.raw_data, t, n);
    if (field === 'double_data' && n > 0) o.payload(TensorFields.double_data, t, n);
    if (field === 'uint64_data') this.varints(o, TensorFields.uint64_data, t);
    if (t.docString) o.s(TensorFields.doc_string, t.docString);
    if (field === 'external') {
      const planned = this.plan?.get(t);
      const info = planned ?? t.external!;
      const raw = planned ? undefined : getRawExternalEntries(info);
      if (raw) for (const e of raw) o.raw(e);
      else {
        const entries: [string, string][] = [['location', info.location], ['offset', String(info.offset)]];
        if (info.length !== undefined) entries.push(['length', String(info.length)]);
        if (info.checksum !== undefined) entries.push(['checksum', info.checksum]);
        this.pairs(o, TensorFields.external_data, entries);
      }
      o.i32(TensorFields.data_location, DataLocation.EXTERNAL);
    }
    this.entries(o, TensorFields.metadata_props, t.metadataProps);
    this.unknown(o, record?.unknownFields);
  }

  private varints(o: EncodeOut, field: number, t: Tensor): void {
    const src = t.source;
    const wire = field === TensorFields.int32_data ? 'int32' : field === TensorFields.int64_data ? 'int64' : 'uint64';
    const bytes = src instanceof VarintTensorSource && src.wire === wire && src.dtype === t.dtype ? src.varints : varintsOf(t);
    if (bytes.byteLength > 0) o.b(field, bytes);
  }
}

/** Packed varints of a tensor's storage values (int32 family sign-extended, int64 as two's complement). */
function varintsOf(t: Tensor): Uint8Array {
  const a = t.toArray();
  const n = a.length;
  const values: bigint[] | number[] = [];
  let size = 0;
  if (a instanceof BigInt64Array || a instanceof BigUint64Array) {
    const vs = values as bigint[];
    for (let i = 0; i < n; i++) {
      const v = BigInt.asUintN(64, a[i]!);
      vs.push(v);
      size += varint64Size(v);
    }
  } else {
    const vs = values as number[];
    for (let i = 0; i < n; i++) {
      const v = a[i] as number;
      vs.push(v);
      size += v < 0 ? 10 : varintSize(v);
    }
  }
  const out = new Uint8Array(size);
  let p = 0;
  for (const v of values) {
    let u = typeof v === 'bigint' ? v : v < 0 ? BigInt.asUintN(64, BigInt(v)) : BigInt(v);
    while (u >= 0x80n) {
      out[p++] = Number(u & 0x7fn) | 0x80;
      u >>= 7n;
    }
    out[p++] = Number(u);
  }
  return out;
}

/** A fixed32 field (tag + 4 bytes) from raw bits; AttributeProto.f and .floats (2, 7) have one-byte tags. */
function fixed32Field(field: number, bits: Uint8Array, at: number): Uint8Array {
  const out = new Uint8Array(5);
  out[0] = field * 8 + I32;
  out.set(bits.subarray(at, at + 4), 1);
  return out;
}

/** Whether a value carries anything a ValueInfoProto would say besides its name. */
function describable(v: Value): boolean {
  return v.type !== null || v.docString !== '' || v.hasMetadata || (v.unknownFields?.length ?? 0) > 0;
}

function definedIn(v: Value, g: Graph): boolean {
  return (v.producer !== null && v.producer.graph === g) || v._inputOf === g || v._initializerOf === g;
}

const MAX_MESSAGE = 0x7fffffff;

/** Encodes in one pass into one exactly sized buffer. */
export function encodeWith(fn: (o: EncodeOut) => void, what: string, capacity = 256): Uint8Array {
  const out = new EncodeOut(capacity);
  fn(out);
  if (out.length > MAX_MESSAGE) {
    throw new ExportError('EXPORT_TOO_LARGE', `${what} would be ${out.length} bytes, over protobuf's 2 GiB limit`, {
      hint: 'save it with external data: save(model, path, { externalData: true })',
    });
  }
  return out.toBytes();
}

/** Serializes a model to ModelProto bytes. Deterministic: the same model gives the same bytes. */
export function encode(model: Model, options: EncodeOptions = {}): Uint8Array {
  const enc = new ModelEncoder(options.externalData === 'embed', undefined);
  return encodeWith((o) => enc.model(o, model), 'the model', initialCapacity(model, DIRECT_BYTES));
}

/** Serializes one tensor as a TensorProto (the `.pb` format of ONNX test data). */
export function encodeTensorProto(t: Tensor): Uint8Array {
  const enc = new ModelEncoder(true, undefined);
  return encodeWith((o) => enc.tensorBody(o, t, t.name), `tensor '${t.name}'`);
}

/** True when two ValueInfoProtos would encode identically apart from their names. */
export function valueInfosEqual(a: Value, b: Value): boolean {
  const enc = new ModelEncoder(false, undefined);
  const x = encodeWith((o) => enc.valueInfoBody(o, a, ''), 'a value info');
  const y = encodeWith((o) => enc.valueInfoBody(o, b, ''), 'a value info');
  if (x.byteLength !== y.byteLength) return false;
  for (let i = 0; i < x.byteLength; i++) if (x[i] !== y[i]) return false;
  return true;
}

/** A first guess at a model's metadata bytes, so the buffer rarely grows (it doubles when it must). */
function initialCapacity(model: Model, holeMin: number): number {
  let n = 4096 + 64 * model.graph.nodeCount;
  model.graph.initializers.forEach((v) => {
    const b = v.constValue?.byteLength ?? 0;
    n += b < holeMin ? b + 48 : 48;
  });
  return Math.min(1 << 30, n);
}

/** Internal for `save`: encodes a model (payloads left as holes) with a given external placement. */
export function encodeModel(model: Model, plan: ExternalPlan | undefined): EncodeOut {
  const out = new EncodeOut(initialCapacity(model, STREAM_HOLE_BYTES), STREAM_HOLE_BYTES);
  new ModelEncoder(true, plan).model(out, model);
  return out;
}
