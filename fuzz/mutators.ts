/**
 * Byte-level and structure-aware mutators over encoded ONNX files.
 *
 * Byte-level: bit flips, byte overwrites, insertions, deletions, duplicated chunks, truncation.
 * Structure-aware (through fuzz/wire.ts, so every enclosing length prefix stays consistent unless
 * the mutation is about the prefix itself): inflated and deflated length prefixes, wrong wire
 * types, changed field numbers, duplicated / removed / reordered fields, huge varints, huge dims
 * in tensor shapes, value_info shapes and shape-like attributes (kernel_shape, pads, axes, … =
 * ±2^62), unknown data types, deep nesting (type protos and graphs in If attributes), hostile
 * strings, hostile external-data entries, packed/unpacked re-encoding, crossover from other seeds,
 * empty messages and thousands of repeated fields.
 *
 * Each mutator returns the new bytes and a one-line description (kept with every finding), or
 * null when the input offers nothing it can aim at (the caller then picks another).
 */
import type { Rng } from './rng.js';
import {
  SCHEMA,
  applyEdits,
  concat,
  containerOf,
  fieldText,
  indexMessage,
  lenField,
  replaceConsistent,
  tag,
  varint,
  type FieldRec,
  type WireIndex,
} from './wire.js';

export interface MutationContext {
  /** Index of the current bytes (cached; null when they no longer parse). */
  index(): WireIndex | null;
  /** Indexes of other seeds, for crossover. */
  donors(): readonly WireIndex[];
}

export interface MutationResult {
  readonly bytes: Uint8Array;
  readonly detail: string;
}

export type Mutator = (bytes: Uint8Array, rng: Rng, ctx: MutationContext) => MutationResult | null;

/** Varint values that break assumptions: sign, 31/32/53/63/64-bit edges. */
const INTERESTING_VARINTS: readonly bigint[] = [
  0n, 1n, 2n, 127n, 128n, 255n, 256n, 65535n, 2n ** 31n - 1n, 2n ** 31n, 2n ** 32n - 1n, 2n ** 32n, 2n ** 53n - 1n, 2n ** 53n, 2n ** 53n + 1n,
  2n ** 62n, 2n ** 63n - 1n, -1n, -2n, -(2n ** 31n), -(2n ** 53n), -(2n ** 62n), -(2n ** 63n),
];
/** Dims / shape-attribute values: ±2^62 and the other edges. */
const HUGE_DIMS: readonly bigint[] = [2n ** 62n, -(2n ** 62n), 2n ** 53n + 1n, 2n ** 53n - 1n, 2n ** 40n, 2n ** 31n, 2n ** 31n - 1n, 1_000_000_000n, -1n, -2n, 0n, 2n ** 63n - 1n, -(2n ** 63n)];
const SHAPE_ATTRIBUTES = new Set(['kernel_shape', 'pads', 'strides', 'dilations', 'axes', 'perm', 'shape', 'output_shape', 'output_padding', 'split', 'sizes', 'starts', 'ends', 'axis', 'group', 'to', 'blocksize', 'keepdims', 'num_scan_inputs', 'scan_input_axes', 'batch_dims', 'k', 'repeats']);
const DTYPES: readonly bigint[] = [0n, 1n, 2n, 3n, 6n, 7n, 8n, 9n, 10n, 11n, 12n, 13n, 14n, 15n, 16n, 17n, 18n, 19n, 20n, 21n, 22n, 23n, 24n, 25n, 26n, 27n, 31n, 64n, 255n, 2n ** 31n - 1n, -1n];
const NEST_DEPTHS: readonly number[] = [2, 20, 30, 31, 32, 33, 63, 64, 65, 200, 5000, 100_000];
const GRAPH_NEST_DEPTHS: readonly number[] = [2, 8, 20, 21, 22, 31, 32, 33, 64, 300, 2000];
const utf8 = new TextEncoder();
const HOSTILE_STRINGS: readonly Uint8Array[] = [
  new Uint8Array(0),
  utf8.encode('x'.repeat(65536)),
  Uint8Array.of(0xff, 0xfe, 0x80),
  Uint8Array.of(0xed, 0xa0, 0x80),
  utf8.encode('../../etc/passwd'),
  utf8.encode('/dev/zero'),
  utf8.encode('a\0b'),
  utf8.encode('ai.onnx'),
  utf8.encode('com.microsoft'),
  utf8.encode('__proto__'),
  utf8.encode('constructor'),
  utf8.encode('Loop'),
  utf8.encode('If'),
  utf8.encode('Constant'),
  utf8.encode('ConstantOfShape'),
  utf8.encode('😀'.repeat(100)),
];
const HOSTILE_LOCATIONS = ['../secret.bin', '/etc/passwd', 'sub/../../x.bin', 'C:\\x.bin', '\\\\host\\share\\x', 'w.bin', 'a\0b', '.', './', 'dir/', 'x'.repeat(5000)];
const HOSTILE_NUMBERS = ['0', '-1', '4096', '1e3', '0x10', ' 4', '18446744073709551616', '9007199254740993', '4294967296', ''];

const bytesOfStr = (s: string): Uint8Array => utf8.encode(s);

function pickField(ix: WireIndex, rng: Rng, pred: (f: FieldRec) => boolean): FieldRec | null {
  // Sample first (cheap on big indexes), scan only when sampling finds nothing.
  const fs = ix.fields;
  if (fs.length === 0) return null;
  for (let k = 0; k < 24; k++) {
    const f = fs[rng.int(fs.length)]!;
    if (pred(f)) return f;
  }
  const all = fs.filter(pred);
  return all.length === 0 ? null : rng.pick(all);
}

function describe(f: FieldRec): string {
  return `${f.owner}.${f.no}@${f.start}`;
}

function nameOf(ix: WireIndex, msgField: FieldRec | null): string | undefined {
  if (msgField === null) return undefined;
  const nameField = ix.fields.find((c) => c.parent === msgField.index && c.no === 1 && c.wire === 2);
  return nameField ? fieldText(ix, nameField) : undefined;
}

// ---------------------------------------------------------------- byte level

const bitflip: Mutator = (b, rng) => {
  if (b.length === 0) return null;
  const out = b.slice();
  const n = rng.range(1, 4);
  const at: number[] = [];
  for (let i = 0; i < n; i++) {
    const p = rng.int(out.length);
    out[p] = out[p]! ^ (1 << rng.int(8));
    at.push(p);
  }
  return { bytes: out, detail: `bitflip@${at.join(',')}` };
};

const byteset: Mutator = (b, rng) => {
  if (b.length === 0) return null;
  const out = b.slice();
  const p = rng.int(out.length);
  const v = rng.pick([0x00, 0xff, 0x7f, 0x80, 0x01, 0x08, 0x0a, 0x12, rng.int(256)]);
  out[p] = v;
  return { bytes: out, detail: `byteset@${p}=0x${v.toString(16)}` };
};

const insertBytes: Mutator = (b, rng) => {
  const p = rng.int(b.length + 1);
  const ins = rng.chance(0.5) ? rng.bytes(rng.range(1, 16)) : rng.pick([Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0x0f), Uint8Array.of(0x80), Uint8Array.of(0x0a, 0x00), Uint8Array.of(0x3a, 0x7f)]);
  return { bytes: applyEdits(b, [{ at: p, del: 0, ins }]), detail: `insert@${p}+${ins.length}` };
};

const deleteBytes: Mutator = (b, rng) => {
  if (b.length < 2) return null;
  const p = rng.int(b.length);
  const n = Math.min(b.length - p, rng.range(1, 64));
  return { bytes: applyEdits(b, [{ at: p, del: n, ins: new Uint8Array(0) }]), detail: `delete@${p}-${n}` };
};

const chunkDup: Mutator = (b, rng) => {
  if (b.length < 4) return null;
  const a = rng.int(b.length);
  const n = Math.min(b.length - a, rng.range(1, 256));
  const to = rng.int(b.length + 1);
  return { bytes: applyEdits(b, [{ at: to, del: 0, ins: b.slice(a, a + n) }]), detail: `chunkdup[${a},+${n}]->${to}` };
};

const truncate: Mutator = (b, rng) => {
  if (b.length < 2) return null;
  const p = rng.int(b.length);
  return { bytes: b.slice(0, p), detail: `truncate@${p}` };
};

// ---------------------------------------------------------------- structure aware

const inflateLength: Mutator = (b, rng, ctx) => {
  const ix = ctx.index();
  const f = ix && pickField(ix, rng, (x) => x.wire === 2);
  if (!f) return null;
  const len = f.end - f.payload;
  const claim = rng.pick([BigInt(len + 1), BigInt(len * 2 + 1), BigInt(b.length - f.payload + 1), 2n ** 31n - 1n, 2n ** 31n, 2n ** 32n - 1n, 2n ** 32n, 2n ** 53n, 2n ** 62n, 2n ** 64n - 1n]);
  return { bytes: applyEdits(b, [{ at: f.tagEnd, del: f.payload - f.tagEnd, ins: varint(claim) }]), detail: `inflate-length(${describe(f)}: ${len}->${claim})` };
};

const deflateLength: Mutator = (b, rng, ctx) => {
  const ix = ctx.index();
  const f = ix && pickField(ix, rng, (x) => x.wire === 2 && x.end > x.payload);
  if (!f) return null;
  const len = f.end - f.payload;
  const claim = rng.pick([0, len - 1, len >> 1]);
  return { bytes: applyEdits(b, [{ at: f.tagEnd, del: f.payload - f.tagEnd, ins: varint(claim) }]), detail: `deflate-length(${describe(f)}: ${len}->${claim})` };
};

const wireType: Mutator = (b, rng, ctx) => {
  const ix = ctx.index();
  const f = ix && pickField(ix, rng, () => true);
  if (!f) return null;
  let w = rng.int(8);
  if (w === f.wire) w = (w + 1) % 8;
  return { bytes: applyEdits(b, [{ at: f.start, del: f.tagEnd - f.start, ins: tag(f.no, w) }]), detail: `wire-type(${describe(f)}: ${f.wire}->${w})` };
};

const fieldNumber: Mutator = (b, rng, ctx) => {
  const ix = ctx.index();
  const f = ix && pickField(ix, rng, () => true);
  if (!f) return null;
  const known = Object.keys(SCHEMA[f.owner] ?? {}).map(Number);
  const no = rng.chance(0.8) && known.length > 0 ? rng.pick(known) : rng.pick([15, 19, 99, 2 ** 29 - 1]);
  // Same wire type, other meaning: a string where a message belongs, a node where an attribute does.
  const edit = { at: f.start, del: f.tagEnd - f.start, ins: tag(no, f.wire) };
  return { bytes: replaceConsistent(ix, containerOf(ix, f), edit.at, edit.del, edit.ins), detail: `field-number(${describe(f)}->${no})` };
};

const duplicateField: Mutator = (b, rng, ctx) => {
  const ix = ctx.index();
  const f = ix && pickField(ix, rng, (x) => x.end - x.start <= 1 << 20);
  if (!f) return null;
  const copy = b.slice(f.start, f.end);
  const times = rng.chance(0.1) ? rng.pick([100, 3000]) : 1;
  // Volume is the benchmarks' subject; a case stays small enough to judge against 1 s.
  if (copy.length * times > 256 * 1024) return null;
  const ins = times === 1 ? copy : concat(...Array.from({ length: times }, () => copy));
  const c = containerOf(ix, f);
  const at = rng.chance(0.5) ? f.end : c === null ? b.length : c.end;
  return { bytes: replaceConsistent(ix, c, at, 0, ins), detail: `duplicate(${describe(f)} x${times})` };
};

const removeField: Mutator = (b, rng, ctx) => {
  const ix = ctx.index();
  const f = ix && pickField(ix, rng, () => true);
  if (!f) return null;
  return { bytes: replaceConsistent(ix, containerOf(ix, f), f.start, f.end - f.start, new Uint8Array(0)), detail: `remove(${describe(f)})` };
};

const swapFields: Mutator = (b, rng, ctx) => {
  const ix = ctx.index();
  const f = ix && pickField(ix, rng, () => true);
  if (!f) return null;
  const siblings = ix.fields.filter((x) => x.parent === f.parent && x !== f);
  if (siblings.length === 0) return null;
  const g = rng.pick(siblings);
  const [x, y] = f.start < g.start ? [f, g] : [g, f];
  const ins = concat(b.subarray(y.start, y.end), b.subarray(x.end, y.start), b.subarray(x.start, x.end));
  return { bytes: applyEdits(b, [{ at: x.start, del: y.end - x.start, ins }]), detail: `swap(${describe(x)}<->${describe(y)})` };
};

const varintValue: Mutator = (b, rng, ctx) => {
  const ix = ctx.index();
  const f = ix && pickField(ix, rng, (x) => x.wire === 0);
  if (!f) return null;
  const v = rng.pick(INTERESTING_VARINTS);
  return { bytes: replaceConsistent(ix, containerOf(ix, f), f.tagEnd, f.end - f.tagEnd, varint(v)), detail: `varint(${describe(f)}: ${f.value}->${v})` };
};

/** Dims of shapes and tensors, and ints of shape-like attributes, set to ±2^62 and other edges. */
const hugeDims: Mutator = (b, rng, ctx) => {
  const ix = ctx.index();
  if (!ix) return null;
  const isShapeAttr = (x: FieldRec): boolean => x.owner === 'Attribute' && (x.no === 3 || x.no === 8) && SHAPE_ATTRIBUTES.has(nameOf(ix, containerOf(ix, x)) ?? '');
  const f = pickField(ix, rng, (x) => (x.owner === 'Dim' && x.no === 1) || (x.owner === 'Tensor' && x.no === 1) || (x.owner === 'Sparse' && x.no === 3) || isShapeAttr(x));
  if (!f) return null;
  const count = f.wire === 2 ? Math.max(1, countVarints(b, f.payload, f.end)) : 1;
  const values = Array.from({ length: rng.chance(0.2) ? rng.range(0, 8) : count }, () => rng.pick(HUGE_DIMS));
  const payload = f.wire === 2 ? concat(...values.map(varint)) : varint(values[0] ?? 0n);
  const ins = f.wire === 2 ? concat(varint(payload.length), payload) : payload;
  return { bytes: replaceConsistent(ix, containerOf(ix, f), f.tagEnd, f.end - f.tagEnd, ins), detail: `huge-dims(${describe(f)} ${nameOf(ix, containerOf(ix, f)) ?? ''}=[${values.join(',')}])` };
};

function countVarints(b: Uint8Array, s: number, e: number): number {
  let n = 0;
  for (let p = s; p < e; p++) if (b[p]! < 0x80) n++;
  return n;
}

const dataType: Mutator = (b, rng, ctx) => {
  const ix = ctx.index();
  const f = ix && pickField(ix, rng, (x) => x.wire === 0 && ((x.owner === 'Tensor' && x.no === 2) || (x.owner === 'TypeTensor' && x.no === 1) || (x.owner === 'TypeMap' && x.no === 1) || (x.owner === 'Attribute' && x.no === 20)));
  if (!f) return null;
  const v = rng.pick(DTYPES);
  return { bytes: replaceConsistent(ix, containerOf(ix, f), f.tagEnd, f.end - f.tagEnd, varint(v)), detail: `dtype(${describe(f)}: ${f.value}->${v})` };
};

/** Wraps a TypeProto in `depth` sequence types, written front to back in one buffer. */
export function nestType(inner: Uint8Array, depth: number): Uint8Array {
  const sizes = [inner.length];
  const elems: number[] = [];
  for (let i = 0; i < depth; i++) {
    const s = sizes[i]!;
    const elem = 1 + varintSize(s) + s;
    elems.push(elem);
    sizes.push(1 + varintSize(elem) + elem);
  }
  const out = new Uint8Array(sizes[depth]!);
  let p = 0;
  for (let i = depth; i > 0; i--) {
    out[p++] = 0x22; // TypeProto.sequence_type
    p = putVarint(out, p, elems[i - 1]!);
    out[p++] = 0x0a; // Sequence.elem_type
    p = putVarint(out, p, sizes[i - 1]!);
  }
  out.set(inner, p);
  return out;
}

function varintSize(v: number): number {
  let n = 1;
  while (v >= 0x80) {
    v = Math.floor(v / 0x80);
    n++;
  }
  return n;
}

function putVarint(out: Uint8Array, p: number, v: number): number {
  while (v >= 0x80) {
    out[p++] = (v % 0x80) | 0x80;
    v = Math.floor(v / 0x80);
  }
  out[p++] = v;
  return p;
}

/** Wraps a GraphProto's payload in `depth` graphs, each holding an If node whose then_branch is the next. */
export function nestGraph(inner: Uint8Array, depth: number): Uint8Array {
  const attrHead = concat(lenField(1, bytesOfStr('then_branch')), tag(20, 0), varint(5));
  const nodeHead = concat(lenField(1, bytesOfStr('c')), lenField(2, bytesOfStr('o')), lenField(4, bytesOfStr('If')));
  const sizes = [inner.length];
  const attrSizes: number[] = [];
  const nodeSizes: number[] = [];
  for (let i = 0; i < depth; i++) {
    const g = sizes[i]!;
    const attr = attrHead.length + 1 + varint(g).length + g;
    const node = nodeHead.length + 1 + varint(attr).length + attr;
    attrSizes.push(attr);
    nodeSizes.push(node);
    sizes.push(1 + varint(node).length + node);
  }
  const out = new Uint8Array(sizes[depth]!);
  let p = 0;
  const put = (x: Uint8Array): void => {
    out.set(x, p);
    p += x.length;
  };
  for (let i = depth - 1; i >= 0; i--) {
    put(tag(1, 2)); // GraphProto.node
    put(varint(nodeSizes[i]!));
    put(nodeHead);
    put(tag(5, 2)); // NodeProto.attribute
    put(varint(attrSizes[i]!));
    put(attrHead);
    put(tag(6, 2)); // AttributeProto.g
    put(varint(sizes[i]!));
  }
  put(inner);
  return out;
}

const deepNesting: Mutator = (b, rng, ctx) => {
  const ix = ctx.index();
  if (!ix) return null;
  const graphs = rng.chance(0.5);
  const f = pickField(ix, rng, (x) => x.msg === (graphs ? 'Graph' : 'Type'));
  if (!f) return null;
  const depth = rng.pick(graphs ? GRAPH_NEST_DEPTHS : NEST_DEPTHS);
  const inner = b.subarray(f.payload, f.end);
  const wrapped = graphs ? nestGraph(inner, depth) : nestType(inner, depth);
  return { bytes: replaceConsistent(ix, f, f.payload, f.end - f.payload, wrapped), detail: `nest-${graphs ? 'graph' : 'type'}(${describe(f)} x${depth})` };
};

/** Message fields each container accepts, for inserting empty or foreign messages. */
const MESSAGE_FIELDS: Readonly<Record<string, readonly (readonly [number, string])[]>> = Object.fromEntries(
  Object.entries(SCHEMA).map(([owner, fields]) => [
    owner,
    Object.entries(fields)
      .filter(([, k]) => typeof k === 'object')
      .map(([no, k]) => [Number(no), (k as { msg: string }).msg] as const),
  ]),
);

const emptyMessage: Mutator = (b, rng, ctx) => {
  const ix = ctx.index();
  if (!ix) return null;
  const c = rng.chance(0.2) ? null : pickField(ix, rng, (x) => x.msg !== undefined && (MESSAGE_FIELDS[x.msg]?.length ?? 0) > 0);
  const owner = c === null ? 'Model' : c.msg!;
  const choices = MESSAGE_FIELDS[owner] ?? [];
  if (choices.length === 0) return null;
  const [no, type] = rng.pick(choices);
  const at = c === null ? rng.pick([0, b.length]) : rng.pick([c.payload, c.end]);
  return { bytes: replaceConsistent(ix, c, at, 0, lenField(no, new Uint8Array(0))), detail: `empty-message(${owner}.${no}:${type} in ${c ? describe(c) : 'Model'})` };
};

const hostileString: Mutator = (b, rng, ctx) => {
  const ix = ctx.index();
  if (!ix) return null;
  const f = pickField(ix, rng, (x) => x.wire === 2 && (SCHEMA[x.owner]?.[x.no] === 'string' || SCHEMA[x.owner]?.[x.no] === 'bytes') && !(x.owner === 'Tensor' && x.no === 9));
  if (!f) return null;
  let s: Uint8Array;
  if (rng.chance(0.3)) {
    // A name that already exists elsewhere: duplicate definitions, self-references, cycles.
    const other = pickField(ix, rng, (x) => x.wire === 2 && SCHEMA[x.owner]?.[x.no] === 'string' && x.end - x.payload < 200);
    s = other ? b.slice(other.payload, other.end) : rng.pick(HOSTILE_STRINGS);
  } else s = rng.pick(HOSTILE_STRINGS);
  return { bytes: replaceConsistent(ix, containerOf(ix, f), f.tagEnd, f.end - f.tagEnd, concat(varint(s.length), s)), detail: `string(${describe(f)} := ${s.length} bytes)` };
};

/** Turns a tensor's raw_data into external_data entries with hostile keys and values. */
const externalData: Mutator = (b, rng, ctx) => {
  const ix = ctx.index();
  if (!ix) return null;
  const t = pickField(ix, rng, (x) => x.msg === 'Tensor');
  if (!t) return null;
  const raw = ix.fields.find((x) => x.parent === t.index && x.no === 9);
  const entry = (k: string, v: string): Uint8Array => lenField(13, concat(lenField(1, bytesOfStr(k)), lenField(2, bytesOfStr(v))));
  const entries: Uint8Array[] = [entry('location', rng.pick(HOSTILE_LOCATIONS))];
  if (rng.chance(0.6)) entries.push(entry('offset', rng.pick(HOSTILE_NUMBERS)));
  if (rng.chance(0.6)) entries.push(entry('length', rng.pick(HOSTILE_NUMBERS)));
  if (rng.chance(0.2)) entries.push(entry(rng.pick(['location', 'basepath', '__proto__', 'checksum', 'constructor']), rng.pick(HOSTILE_LOCATIONS)));
  if (rng.chance(0.05)) for (let i = 0; i < 5000; i++) entries.push(entry(`k${i}`, 'v'));
  const ins = concat(...entries, tag(14, 0), varint(rng.chance(0.9) ? 1 : rng.pick([0, 2, -1])));
  const at = raw ? raw.start : t.end;
  const del = raw ? raw.end - raw.start : 0;
  return { bytes: replaceConsistent(ix, t, at, del, ins), detail: `external-data(${describe(t)})` };
};

/** Re-encodes a packed repeated varint field unpacked (one tag per value), or the reverse. */
const packedToggle: Mutator = (b, rng, ctx) => {
  const ix = ctx.index();
  if (!ix) return null;
  const f = pickField(ix, rng, (x) => SCHEMA[x.owner]?.[x.no] === 'packed-varint' && x.wire === 2 && x.end - x.payload < 4096);
  if (!f) return null;
  const parts: Uint8Array[] = [];
  let p = f.payload;
  while (p < f.end) {
    const s = p;
    while (p < f.end && b[p]! >= 0x80) p++;
    p++;
    parts.push(concat(tag(f.no, 0), b.subarray(s, Math.min(p, f.end))));
  }
  return { bytes: replaceConsistent(ix, containerOf(ix, f), f.start, f.end - f.start, concat(...parts)), detail: `unpack(${describe(f)})` };
};

/** Inserts a message taken from another seed into a container of the matching type. */
const crossover: Mutator = (b, rng, ctx) => {
  const ix = ctx.index();
  const donors = ctx.donors();
  if (!ix || donors.length === 0) return null;
  const d = rng.pick(donors);
  const g = pickField(d, rng, (x) => x.msg !== undefined && x.end - x.start < 256 * 1024);
  if (!g) return null;
  const c = g.owner === 'Model' ? null : pickField(ix, rng, (x) => x.msg === g.owner);
  if (g.owner !== 'Model' && c === null) return null;
  const at = c === null ? b.length : rng.pick([c.payload, c.end]);
  return { bytes: replaceConsistent(ix, c, at, 0, d.bytes.slice(g.start, g.end)), detail: `crossover(${g.owner}.${g.no} ${g.end - g.start} bytes into ${c ? describe(c) : 'Model'})` };
};

/** Many copies of a small field: quadratic paths in duplicate detection, scaling of node lists. */
const repeatMany: Mutator = (b, rng, ctx) => {
  const ix = ctx.index();
  const f = ix && pickField(ix, rng, (x) => x.end - x.start <= 64 && x.parent >= 0);
  if (!f) return null;
  const one = b.subarray(f.start, f.end);
  // Many copies (quadratic paths show at thousands), not much volume (see duplicateField).
  const times = Math.min(rng.pick([1000, 20_000]), Math.floor((512 * 1024) / Math.max(1, one.length)));
  const ins = new Uint8Array(one.length * times);
  for (let i = 0; i < times; i++) ins.set(one, i * one.length);
  return { bytes: replaceConsistent(ix, containerOf(ix, f), f.end, 0, ins), detail: `repeat(${describe(f)} x${times})` };
};

export const BYTE_MUTATORS: readonly (readonly [number, string, Mutator])[] = [
  [3, 'bitflip', bitflip],
  [2, 'byteset', byteset],
  [1, 'insert', insertBytes],
  [1, 'delete', deleteBytes],
  [1, 'chunk-dup', chunkDup],
  [1, 'truncate', truncate],
];

export const STRUCTURE_MUTATORS: readonly (readonly [number, string, Mutator])[] = [
  [3, 'inflate-length', inflateLength],
  [1, 'deflate-length', deflateLength],
  [2, 'wire-type', wireType],
  [2, 'field-number', fieldNumber],
  [2, 'duplicate', duplicateField],
  [2, 'remove', removeField],
  [2, 'swap', swapFields],
  [2, 'varint', varintValue],
  [3, 'huge-dims', hugeDims],
  [2, 'dtype', dataType],
  [1, 'deep-nesting', deepNesting],
  [1, 'empty-message', emptyMessage],
  [2, 'string', hostileString],
  [1, 'external-data', externalData],
  [1, 'unpack', packedToggle],
  [2, 'crossover', crossover],
  [0.3, 'repeat', repeatMany],
];

/** Applies one mutator chosen by weight (retrying others when one finds nothing to aim at). */
export function mutateOnce(bytes: Uint8Array, rng: Rng, ctx: MutationContext, structural: boolean): MutationResult | null {
  const table = structural ? STRUCTURE_MUTATORS : BYTE_MUTATORS;
  for (let attempt = 0; attempt < 6; attempt++) {
    const [, name, m] = rng.weighted(table.map((e) => [e[0], e] as const));
    const r = m(bytes, rng, ctx);
    if (r !== null) return { bytes: r.bytes, detail: r.detail.startsWith(name) ? r.detail : `${name}:${r.detail}` };
  }
  return null;
}

/** A MutationContext over `bytes` that indexes lazily. */
export function contextFor(bytes: Uint8Array, cachedIndex: WireIndex | null | undefined, donors: () => readonly WireIndex[]): MutationContext {
  let ix = cachedIndex;
  return {
    index: () => (ix === undefined ? (ix = indexMessage(bytes)) : ix),
    donors,
  };
}
