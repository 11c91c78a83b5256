/**
 * eliminate-duplicate-initializers — keeps one copy of byte-identical initializers.
 *
 * What: initializers of one graph with the same dtype, dims and bytes are merged: every use of a
 * duplicate reads the first one, and the duplicate is removed.
 *
 * Math: identical bytes are identical values (comparison is on bits: 0.0 and −0.0 differ).
 *
 * Preconditions:
 *  1. Same graph (scopes are not merged across subgraphs).
 *  2. Graph inputs (overridable initializers) and graph outputs are never merged.
 *  3. Dtype, dims and every byte equal. Cost: initializers are grouped by dtype, dims and byte
 *     length first — no data is read for a tensor alone in its group; the others are grouped by
 *     a sample (three 1 KiB windows: start, middle, end — positional reads for lazy tensors, so
 *     distinct weights of a 4 GiB model cost kilobytes, not gigabytes; for a tensor of at most
 *     three windows already in memory, its first and last 16 bytes); only tensors whose samples
 *     agree are hashed in full; tensors with equal hashes are then compared byte for byte, so a
 *     hash collision can never merge different weights. Samples and hashes of lazy tensors and
 *     of tensors above three windows are kept per Tensor object in WeakMaps (tensors are
 *     immutable), so later sweeps and runs read nothing again; a small tensor already in memory
 *     is cheaper to hash again than to look up (100,000-node models carry tens of thousands of
 *     them). Hashes are numbers (53 bits), so grouping builds no strings.
 *  4. Initializers bound by training_info are kept.
 *  5. A tensor whose data cannot be read (lazy external data above the importer's
 *     `maxTensorBytes`, a file that went missing…) is left alone [unreadable-tensor].
 *
 * Known limits: sparse initializers are not deduplicated; tensors that differ by a reshape are
 * not merged.
 */
import { DataType, type Graph, type Node, type Tensor, type Value } from '@onnxkit/graph';
import { defineRulePass, type ApplyReason } from './rule.js';
import type { RewriteSession } from './session.js';
import { sweepLiveGraphs, tensorsIdentical } from './util.js';

const REASONS = ['unreadable-tensor'] as const;
const NO_NODES: readonly Node[] = [];
type Session = RewriteSession<(typeof REASONS)[number] | ApplyReason>;

export const eliminateDuplicateInitializers = defineRulePass({
  name: 'eliminate-duplicate-initializers',
  description: 'Merge byte-identical initializers (same dtype, dims and data; graph inputs/outputs excluded)',
  exact: true,
  reasons: REASONS,
  sweep: sweepLiveGraphs(runGraph),
});

function runGraph(s: Session, g: Graph): void {
  const bound = new Set<string>();
  if (g === s.model.graph) for (const t of s.model.trainingInfo) for (const [k] of [...t.initializationBinding, ...t.updateBinding]) bound.add(k);
  // Group by metadata first (no I/O): only a tensor with a same-sized peer can have a duplicate.
  // A value is filed alone until a peer comes (an array per initializer was most of the cost
  // on graphs of tens of thousands of distinct small weights).
  const byMeta = new Map<number | string, Value | Value[]>();
  // (forEach: a Map iterator makes a result object per initializer)
  g.initializers.forEach((v) => {
    const t = v.constValue;
    if (!t || v.isGraphInput || v.isGraphOutput || bound.has(v.name)) return;
    file(byMeta, metaKey(t), v);
  });
  const unreadable = (v: Value, h: Hash): h is { readonly error: string } => {
    if (typeof h === 'number') return false;
    s.decline(null, 'unreadable-tensor', `initializer '${v.name}': ${h.error}`);
    return true;
  };
  for (const group of byMeta.values()) {
    if (!Array.isArray(group)) continue;
    for (const sampled of groupBy(group, (v) => sampleHash(v.constValue!), unreadable)) {
      dedupe(s, g, groupBy(sampled, (v) => contentHash(v.constValue!), unreadable));
      if (s.stopped) return;
    }
  }
}

/** 2^22: dims below it fit the numeric metadata key. */
const DIM_LIMIT = 0x400000;

/**
 * The metadata a duplicate shares (dtype, dims, byte length) as a Map key: for a tensor of rank
 * at most 2 with dims below DIM_LIMIT (its byte length then follows from dtype and dims), an
 * exact number — (rank, dtype, d0, d1) in 2 + 6 + 22 + 22 bits — with no string built; else a
 * string, which no number equals.
 */
function metaKey(t: Tensor): number | string {
  const d = t.dims;
  const r = d.length;
  if (t.dtype !== DataType.STRING && r <= 2 && t.dtype < 64) {
    const d0 = r > 0 ? d[0]! : 0;
    const d1 = r > 1 ? d[1]! : 0;
    if (Number.isInteger(d0) && Number.isInteger(d1) && d0 >= 0 && d1 >= 0 && d0 < DIM_LIMIT && d1 < DIM_LIMIT) return ((r * 64 + t.dtype) * DIM_LIMIT + d0) * DIM_LIMIT + d1;
  }
  return `${t.dtype}|${d.join('x')}|${t.byteLength}`;
}

/** Files `v` under `key`: alone, or in the list of values with that key. */
function file<K>(map: Map<K, Value | Value[]>, key: K, v: Value): void {
  const prev = map.get(key);
  if (prev === undefined) map.set(key, v);
  else if (Array.isArray(prev)) prev.push(v);
  else map.set(key, [prev, v]);
}

/** A content hash, or why the tensor could not be read. */
type Hash = number | { readonly error: string };

/**
 * Splits `values` by key into the groups of two or more, in the order of their first member;
 * values whose key is an error are reported by `bad` and dropped. The keys (53-bit integers) are
 * filed in an open-addressing table of typed arrays, not a Map: a Map of 20,000 number keys (the
 * 100k-node chain's weights, then its biases) boxed every key and grew by rehashing, and a value
 * alone under its key — nearly all of them — now costs a probe and two array stores.
 */
function groupBy(values: readonly Value[], key: (v: Value) => Hash, bad: (v: Value, k: Hash) => boolean): Value[][] {
  const n = values.length;
  let cap = 16;
  while (cap < n * 2) cap *= 2;
  const mask = cap - 1;
  /** 1 + the index of the distinct key filed in each slot (0: empty). */
  const slots = new Int32Array(cap);
  /** Per distinct key, in order of first appearance: the key, its first member, and its list once a second comes. */
  const keys = new Float64Array(n);
  const firsts = new Int32Array(n);
  const lists: Value[][] = [];
  let distinct = 0;
  let grouped = 0;
  for (let i = 0; i < n; i++) {
    const v = values[i]!;
    const k = key(v);
    if (bad(v, k)) continue;
    const h = k as number;
    // The low bits of a 53-bit hash are as mixed as the rest (see Hasher.digest, probeHash).
    let at = (h | 0) & mask;
    let d = -1;
    for (let s = slots[at]!; s !== 0; s = slots[at]!) {
      if (keys[s - 1] === h) {
        d = s - 1;
        break;
      }
      at = (at + 1) & mask;
    }
    if (d < 0) {
      keys[distinct] = h;
      firsts[distinct] = i;
      slots[at] = ++distinct;
    } else if (lists[d] === undefined) {
      lists[d] = [values[firsts[d]!]!, v];
      grouped++;
    } else lists[d]!.push(v);
  }
  const groups: Value[][] = [];
  if (grouped > 0) for (let d = 0; d < distinct; d++) if (lists[d] !== undefined) groups.push(lists[d]!);
  return groups;
}

/** Merges byte-identical members of each group of equal-hash candidates. */
function dedupe(s: Session, g: Graph, groups: readonly Value[][]): void {
  for (const cands of groups) {
    const kept: Value[] = [];
    for (const v of cands) {
      if (s.stopped) return;
      let k: Value | undefined;
      try {
        k = kept.find((x) => tensorsIdentical(x.constValue!, v.constValue!));
      } catch (e) {
        s.decline(null, 'unreadable-tensor', `initializer '${v.name}': ${e instanceof Error ? e.message : String(e)}`);
        continue;
      }
      if (!k) {
        kept.push(v);
        continue;
      }
      // A patch that replaces the duplicate by the kept one (it leaves the graph): validated and
      // reported by the session's primitive like any rule's.
      const why = s.tryApply(g, { rule: 'duplicate-initializer', remove: NO_NODES, replace: [[v, k]], description: `'${v.name}' is byte-identical to '${k.name}'` });
      if (why !== undefined && why[0] !== 'stopped-after-n-changes') s.decline(null, why[0], why[1]);
    }
  }
}

/**
 * Hash of a tensor's content (or why it could not be read), for lazy tensors and those above three
 * windows. Module-level on purpose, not per-run state: a pure function of an immutable Tensor
 * (its bytes, or its source's failure to give them), valid for every run and pipeline that meets
 * the same object; held weakly, it goes with the tensor.
 */
const HASHES = new WeakMap<Tensor, Hash>();
/** The sample hash (sampleHash) of such a tensor: a content cache like HASHES. */
const SAMPLES = new WeakMap<Tensor, Hash>();

/** Bytes per sampled window. */
const WINDOW = 1024;

/**
 * A hash of three windows of the tensor's bytes (start, middle, end; the whole tensor when it is
 * at most three windows long), read positionally for lazy tensors. Equal tensors have equal
 * samples; different weights almost never do. Strings: the full content hash.
 */
export function sampleHash(t: Tensor): Hash {
  if (t.dtype === DataType.STRING) return contentHash(t);
  if (t.byteLength <= 3 * WINDOW && !t.isLazy) return probeHash(t);
  const cached = SAMPLES.get(t);
  if (cached !== undefined) return cached;
  if (t.byteLength <= 3 * WINDOW) {
    // A small lazy tensor: its probe, read once (a failure too) whatever the number of sweeps;
    // positionally when the source can, else the whole tensor.
    const h = t.source?.readInto !== undefined ? lazyProbeHash(t) : probeHash(t);
    SAMPLES.set(t, h);
    return h;
  }
  let h: Hash;
  try {
    const n = t.byteLength;
    const hasher = new Hasher();
    for (const at of [0, Math.floor((n - WINDOW) / 2), n - WINDOW]) hasher.bytes(t.bytesAt(at, WINDOW));
    h = hasher.digest();
  } catch (e) {
    h = { error: e instanceof Error ? e.message : String(e) };
  }
  SAMPLES.set(t, h);
  return h;
}

/** Bytes a small in-memory tensor's probe reads at each end. */
const PROBE = 16;
/** lazyProbeHash's scratch for the two ends (3 bytes of zeros past PROBE: see endsHash); filled and read in one synchronous call. */
const PROBE_HEAD = new Uint8Array(PROBE + 4);
const PROBE_TAIL = new Uint8Array(PROBE + 4);

/**
 * The sample of a small tensor already in memory: its length and its first and last PROBE bytes.
 * Equal tensors have equal probes; distinct weights (tens of thousands of small ones in a big
 * graph) almost never do, and only those that do are hashed in full.
 */
function probeHash(t: Tensor): Hash {
  try {
    const b = t.bytes();
    return endsHash(b.byteLength, b, b, 0);
  } catch (e) {
    return { error: e instanceof Error ? e.message : String(e) };
  }
}

/**
 * The probe of `n` bytes from their first PROBE bytes (`head` from offset 0) and their last PROBE
 * bytes (`tail` holding offsets from `tailBase` on), mixed in place (no Hasher per tensor): two
 * lanes, head words into one, tail words into the other. Bytes past the end of either array read
 * as undefined, which the shifts turn into 0 (PROBE is a multiple of 4, so a word of the head never
 * reaches past PROBE).
 */
function endsHash(n: number, head: Uint8Array, tail: Uint8Array, tailBase: number): number {
  let a = 0x9747b28c ^ n;
  let c = 0x85ebca6b;
  const h = Math.min(n, PROBE);
  for (let i = 0; i < h; i += 4) a = mix(a, head[i]! | (head[i + 1]! << 8) | (head[i + 2]! << 16) | (head[i + 3]! << 24));
  for (let i = Math.max(h, n - PROBE) - tailBase; i < n - tailBase; i += 4) c = mix(c, tail[i]! | (tail[i + 1]! << 8) | (tail[i + 2]! << 16) | (tail[i + 3]! << 24));
  a = (a + c) | 0;
  c = (c + a) | 0;
  return fmix(a) * 0x200000 + (fmix(c) >>> 11);
}

/**
 * probeHash of a small lazy tensor whose source reads ranges (200k 1 KiB weights on disk in the
 * 1M-node weighted chain): its two ends read positionally (readInto), not the whole tensor
 * (allocated, copied, then hashed whole: +0.75 s there); the same value probeHash gives.
 */
function lazyProbeHash(t: Tensor): Hash {
  try {
    const n = t.byteLength;
    const head = Math.min(n, PROBE);
    const tailAt = Math.max(head, n - PROBE);
    // Read into two reused scratch blocks, not an array per end (bytesAt: 40,000 arrays on the
    // 100k-node chain), both ranges within the tensor (bytesAt's range check cannot fail). Each
    // block is zeroed first: endsHash reads up to 3 bytes past a short end, which a block of that
    // end's length gave as undefined (0).
    const src = t.source!;
    PROBE_HEAD.fill(0);
    PROBE_TAIL.fill(0);
    src.readInto!(PROBE_HEAD, 0, head);
    src.readInto!(PROBE_TAIL, tailAt, n - tailAt);
    return endsHash(n, PROBE_HEAD, PROBE_TAIL, tailAt);
  } catch (e) {
    return { error: e instanceof Error ? e.message : String(e) };
  }
}

/**
 * A 53-bit hash of the tensor's bytes (strings: of each byte string and its length), computed at
 * most once per lazy or large Tensor object. Reading fails cleanly: the error is remembered too,
 * so an unreadable tensor is not retried every sweep.
 */
export function contentHash(t: Tensor): Hash {
  // A small tensor already in memory is cheaper to hash again than to look up; a lazy one is
  // read (and a failure remembered) once.
  const small = !t.isLazy && t.dtype !== DataType.STRING && t.byteLength <= 3 * WINDOW;
  const cached = small ? undefined : HASHES.get(t);
  if (cached !== undefined) return cached;
  let h: Hash;
  try {
    const hasher = new Hasher();
    if (t.dtype === DataType.STRING) {
      for (const b of t.strings()) {
        hasher.word(b.byteLength);
        hasher.bytes(b);
      }
    } else {
      hasher.bytes(t.bytes());
    }
    h = hasher.digest();
  } catch (e) {
    h = { error: e instanceof Error ? e.message : String(e) };
  }
  if (!small) HASHES.set(t, h);
  return h;
}

/** Misaligned data is hashed through a reused aligned scratch block of this many bytes (used within one synchronous call: no state between calls). */
const CHUNK = 1 << 20;
let scratch: Uint32Array | undefined;

/**
 * MurmurHash3-style mixing (Math.imul, rotations) of little-endian 32-bit words into two lanes —
 * even words into one, odd words into the other, cross-mixed at the end — for a 64-bit digest at
 * the cost of one multiply-rotate per word. Not cryptographic: equal hashes are confirmed byte
 * for byte before anything is merged.
 */
class Hasher {
  #a = 0x9747b28c;
  #b = 0x85ebca6b;
  #n = 0;

  word(w: number): void {
    // One word at the global index #n: the lane it belongs to, as #words would mix it.
    if (this.#n & 1) this.#b = mix(this.#b, w | 0);
    else this.#a = mix(this.#a, w | 0);
    this.#n++;
  }

  bytes(b: Uint8Array): void {
    const words = b.byteLength >>> 2;
    if (b.byteOffset % 4 === 0) this.#words(new Uint32Array(b.buffer, b.byteOffset, words));
    else {
      scratch ??= new Uint32Array(CHUNK / 4);
      const view = new Uint8Array(scratch.buffer);
      for (let at = 0; at < words * 4; at += CHUNK) {
        const len = Math.min(CHUNK, words * 4 - at);
        view.set(b.subarray(at, at + len));
        this.#words(scratch.subarray(0, len >>> 2));
      }
    }
    let tail = 0;
    for (let i = words * 4; i < b.byteLength; i++) tail = (tail << 8) | b[i]!;
    this.word(tail ^ (b.byteLength << 24));
  }

  #words(w: Uint32Array): void {
    let a = this.#a;
    let c = this.#b;
    // Lanes follow the global word index, so chunking never changes the digest.
    let i = 0;
    if (this.#n & 1 && w.length > 0) c = mix(c, w[i++]!);
    const end = i + ((w.length - i) & ~1);
    for (; i < end; i += 2) {
      a = mix(a, w[i]!);
      c = mix(c, w[i + 1]!);
    }
    if (i < w.length) a = mix(a, w[i]!);
    this.#a = a;
    this.#b = c;
    this.#n += w.length;
  }

  /** 53 bits of the two mixed lanes: 32 of one, 21 of the other (an exact integer Map key). */
  digest(): number {
    let a = this.#a ^ this.#n;
    let c = this.#b ^ Math.imul(this.#n, 0x27d4eb2f);
    a = (a + c) | 0;
    c = (c + a) | 0;
    return fmix(a) * 0x200000 + (fmix(c) >>> 11);
  }
}

function mix(h: number, x: number): number {
  let k = Math.imul(x, 0xcc9e2d51);
  k = (k << 15) | (k >>> 17);
  h ^= Math.imul(k, 0x1b873593);
  h = (h << 13) | (h >>> 19);
  return (Math.imul(h, 5) + 0xe6546b64) | 0;
}

function fmix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}
