/**
 * An independent protobuf wire walker for the fuzzer: indexes every field of an ONNX file (tag,
 * length prefix, payload, parent, message type) so mutators can aim at structure — a length
 * prefix, a tensor's dims, an attribute named `kernel_shape` — and rewrite a field while keeping
 * every enclosing length prefix consistent.
 *
 * It shares no code with the importer on purpose: a decoder bug must not hide in both.
 */

/** What a field holds, by message type and field number (onnx.proto, IR version 13). */
export type FieldKind = 'varint' | 'string' | 'bytes' | 'f32' | 'f64' | 'packed-varint' | 'packed-f32' | 'packed-f64' | { msg: string };

const M = (msg: string): { msg: string } => ({ msg });

/** The ONNX schema the walker descends with; fields not listed are unknown (kept as bytes). */
export const SCHEMA: Readonly<Record<string, Readonly<Record<number, FieldKind>>>> = {
  Model: { 1: 'varint', 2: 'string', 3: 'string', 4: 'string', 5: 'varint', 6: 'string', 7: M('Graph'), 8: M('OpsetId'), 14: M('Entry'), 20: M('Training'), 25: M('Function') },
  Graph: { 1: M('Node'), 2: 'string', 5: M('Tensor'), 10: 'string', 11: M('ValueInfo'), 12: M('ValueInfo'), 13: M('ValueInfo'), 14: M('Annotation'), 15: M('Sparse'), 16: M('Entry') },
  Node: { 1: 'string', 2: 'string', 3: 'string', 4: 'string', 5: M('Attribute'), 6: 'string', 7: 'string', 8: 'string', 9: M('Entry') },
  Attribute: {
    1: 'string', 2: 'f32', 3: 'varint', 4: 'bytes', 5: M('Tensor'), 6: M('Graph'), 7: 'packed-f32', 8: 'packed-varint', 9: 'bytes', 10: M('Tensor'),
    11: M('Graph'), 13: 'string', 14: M('Type'), 15: M('Type'), 20: 'varint', 21: 'string', 22: M('Sparse'), 23: M('Sparse'),
  },
  Tensor: {
    1: 'packed-varint', 2: 'varint', 3: M('Segment'), 4: 'packed-f32', 5: 'packed-varint', 6: 'bytes', 7: 'packed-varint', 8: 'string', 9: 'bytes',
    10: 'packed-f64', 11: 'packed-varint', 12: 'string', 13: M('Entry'), 14: 'varint', 16: M('Entry'),
  },
  Segment: { 1: 'varint', 2: 'varint' },
  ValueInfo: { 1: 'string', 2: M('Type'), 3: 'string', 4: M('Entry') },
  Type: { 1: M('TypeTensor'), 4: M('TypeElem'), 5: M('TypeMap'), 6: 'string', 7: M('TypeOpaque'), 8: M('TypeTensor'), 9: M('TypeElem') },
  TypeTensor: { 1: 'varint', 2: M('Shape') },
  TypeElem: { 1: M('Type') },
  TypeMap: { 1: 'varint', 2: M('Type') },
  TypeOpaque: { 1: 'string', 2: 'string' },
  Shape: { 1: M('Dim') },
  Dim: { 1: 'varint', 2: 'string', 3: 'string' },
  Sparse: { 1: M('Tensor'), 2: M('Tensor'), 3: 'packed-varint' },
  OpsetId: { 1: 'string', 2: 'varint' },
  Entry: { 1: 'string', 2: 'string' },
  Training: { 1: M('Graph'), 2: M('Graph'), 3: M('Entry'), 4: M('Entry') },
  Function: { 1: 'string', 4: 'string', 5: 'string', 6: 'string', 7: M('Node'), 8: 'string', 9: M('OpsetId'), 10: 'string', 11: M('Attribute'), 12: M('ValueInfo'), 13: 'string', 14: M('Entry') },
  Annotation: { 1: 'string', 2: M('Entry') },
};

/** One field occurrence in the input. Offsets are absolute; `end` is exclusive. */
export interface FieldRec {
  readonly index: number;
  /** Message type holding the field. */
  readonly owner: string;
  readonly no: number;
  readonly wire: number;
  /** Offset of the tag. */
  readonly start: number;
  /** Offset right after the tag (= start of the length prefix for LEN fields). */
  readonly tagEnd: number;
  /** Offset of the payload (after the length prefix for LEN fields). */
  readonly payload: number;
  readonly end: number;
  /** Index of the enclosing message's field, or -1 at top level. */
  readonly parent: number;
  readonly depth: number;
  /** Set when the schema says the payload is a message and it parsed as one. */
  readonly msg: string | undefined;
  /** Varint value (wire type 0). */
  readonly value: bigint | undefined;
}

export interface WireIndex {
  readonly bytes: Uint8Array;
  readonly fields: readonly FieldRec[];
}

export function readVarint(b: Uint8Array, p: number, limit: number): { value: bigint; end: number } | null {
  let v = 0n;
  let shift = 0n;
  for (let i = 0; i < 10; i++) {
    if (p >= limit) return null;
    const c = b[p++]!;
    v |= BigInt(c & 0x7f) << shift;
    if (c < 0x80) return { value: v, end: p };
    shift += 7n;
  }
  return null;
}

/** Encodes an unsigned (or two's-complement 64-bit) varint. */
export function varint(v: bigint | number): Uint8Array {
  if (typeof v === 'number' && v >= 0 && v <= Number.MAX_SAFE_INTEGER) {
    const out: number[] = [];
    while (v >= 0x80) {
      out.push((v % 0x80) | 0x80);
      v = Math.floor(v / 0x80);
    }
    out.push(v);
    return Uint8Array.from(out);
  }
  let x = BigInt.asUintN(64, BigInt(v));
  const out: number[] = [];
  while (x >= 0x80n) {
    out.push(Number(x & 0x7fn) | 0x80);
    x >>= 7n;
  }
  out.push(Number(x));
  return Uint8Array.from(out);
}

export function tag(no: number, wire: number): Uint8Array {
  return varint((BigInt(no) << 3n) | BigInt(wire));
}

export function concat(...parts: (Uint8Array | readonly number[])[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** A length-delimited field with `payload`. */
export function lenField(no: number, payload: Uint8Array): Uint8Array {
  return concat(tag(no, 2), varint(payload.length), payload);
}

/**
 * Indexes `bytes` as a message of type `root`. Descends into message fields whose payload parses;
 * a payload that does not parse is kept as an opaque field (so corrupted inputs still index as
 * far as they are well formed). Returns null when the top level itself is not well formed.
 * Nesting deeper than `maxDepth` is indexed as opaque bytes (the walker never recurses unbounded).
 */
export function indexMessage(bytes: Uint8Array, root = 'Model', maxDepth = 200): WireIndex | null {
  const fields: FieldRec[] = [];
  const ok = walk(bytes, 0, bytes.length, root, -1, 0, fields, maxDepth);
  return ok ? { bytes, fields } : null;
}

/** A varint as a number, or -1 when it is malformed, truncated or above 2^53. */
function varintNum(b: Uint8Array, p: number, limit: number): { value: number; end: number } {
  let v = 0;
  let mul = 1;
  for (let i = 0; i < 10; i++) {
    if (p >= limit) return { value: -1, end: p };
    const c = b[p++]!;
    v += (c & 0x7f) * mul;
    if (c < 0x80) return { value: v > Number.MAX_SAFE_INTEGER ? -1 : v, end: p };
    mul *= 128;
  }
  return { value: -1, end: p };
}

function walk(b: Uint8Array, s: number, e: number, type: string, parent: number, depth: number, out: FieldRec[], maxDepth: number): boolean {
  const schema = SCHEMA[type] ?? {};
  const mark = out.length;
  let p = s;
  while (p < e) {
    const t = varintNum(b, p, e);
    if (t.value < 8 || t.value > 0xffffffff) return rollback(out, mark);
    const no = Math.floor(t.value / 8);
    const wire = t.value % 8;
    const tagEnd = t.end;
    let payload = tagEnd;
    let end: number;
    let value: bigint | undefined;
    if (wire === 0) {
      const v = readVarint(b, tagEnd, e);
      if (v === null) return rollback(out, mark);
      value = v.value;
      end = v.end;
    } else if (wire === 1) {
      end = tagEnd + 8;
    } else if (wire === 5) {
      end = tagEnd + 4;
    } else if (wire === 2) {
      const l = varintNum(b, tagEnd, e);
      if (l.value < 0 || l.value > e - l.end) return rollback(out, mark);
      payload = l.end;
      end = l.end + l.value;
    } else {
      return rollback(out, mark);
    }
    if (end > e) return rollback(out, mark);
    const kind = schema[no];
    const index = out.length;
    const msgType = wire === 2 && kind !== undefined && typeof kind === 'object' ? kind.msg : undefined;
    const rec: { -readonly [K in keyof FieldRec]: FieldRec[K] } = { index, owner: type, no, wire, start: p, tagEnd, payload, end, parent, depth, msg: undefined, value };
    out.push(rec);
    if (msgType !== undefined && depth < maxDepth) {
      if (walk(b, payload, end, msgType, index, depth + 1, out, maxDepth)) rec.msg = msgType;
    }
    p = end;
  }
  return true;
}

function rollback(out: FieldRec[], mark: number): false {
  out.length = mark;
  return false;
}

/** The fields directly inside `parent` (-1: top level). */
export function childrenOf(ix: WireIndex, parent: number): FieldRec[] {
  return ix.fields.filter((f) => f.parent === parent);
}

/** Ancestors of a field, innermost first. */
export function ancestors(ix: WireIndex, f: FieldRec): FieldRec[] {
  const out: FieldRec[] = [];
  for (let p = f.parent; p >= 0; p = ix.fields[p]!.parent) out.push(ix.fields[p]!);
  return out;
}

/** The string value of a field (UTF-8, lossy). */
export function fieldText(ix: WireIndex, f: FieldRec): string {
  return new TextDecoder().decode(ix.bytes.subarray(f.payload, f.end));
}

/** A byte-range replacement. */
export interface Edit {
  readonly at: number;
  readonly del: number;
  readonly ins: Uint8Array;
}

/** Applies non-overlapping edits (any order) to `bytes`. */
export function applyEdits(bytes: Uint8Array, edits: readonly Edit[]): Uint8Array {
  const sorted = [...edits].sort((a, b) => a.at - b.at || a.del - b.del);
  let size = bytes.length;
  for (const e of sorted) size += e.ins.length - e.del;
  const out = new Uint8Array(size);
  let src = 0;
  let dst = 0;
  for (const e of sorted) {
    if (e.at < src) throw new Error(`internal: overlapping edits at ${e.at}`);
    out.set(bytes.subarray(src, e.at), dst);
    dst += e.at - src;
    out.set(e.ins, dst);
    dst += e.ins.length;
    src = e.at + e.del;
  }
  out.set(bytes.subarray(src), dst);
  return out;
}

/**
 * Replaces the byte range [at, at + del), which lies inside the payload of message field
 * `container` (null: the top-level message), with `ins`, rewriting the length prefix of the
 * container and of every message enclosing it, so the result stays well formed.
 */
export function replaceConsistent(ix: WireIndex, container: FieldRec | null, at: number, del: number, ins: Uint8Array): Uint8Array {
  const delta = ins.length - del;
  const edits: Edit[] = [{ at, del, ins }];
  if (container !== null) {
    if (at < container.payload || at + del > container.end) throw new Error(`internal: edit [${at}, ${at + del}) is outside field ${container.index}`);
    for (const a of [container, ...ancestors(ix, container)]) {
      edits.push({ at: a.tagEnd, del: a.payload - a.tagEnd, ins: varint(a.end - a.payload + delta) });
    }
  }
  return applyEdits(ix.bytes, edits);
}

/** The message field enclosing `f` (null at top level). */
export function containerOf(ix: WireIndex, f: FieldRec): FieldRec | null {
  return f.parent < 0 ? null : ix.fields[f.parent]!;
}
