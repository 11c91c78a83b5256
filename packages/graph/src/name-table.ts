/**
 * The name table of the decoder's name resolution and of verify()'s SSA check (internal: exported
 * for @onnxkit/importer, not part of the documented API).
 */
import type { Value } from './core.js';

/**
 * The hash a NameTable files a name under. The importer's wire reader computes the same value
 * from the bytes while it reads an ASCII name (`Reader.asciiHash`), so a name read from a file
 * costs no second pass; this is the form for a name that is already a string.
 * @internal
 */
export function nameHash(s: string): number {
  let h = s.length | 0x40000000;
  for (let i = 0; i < s.length; i++) h = (Math.imul(h, 31) + s.charCodeAt(i)) | 0;
  return h;
}

/** @internal Spreads a nameHash over the low bits, which pick the slot (names differ mostly in their last characters). */
export function slotHash(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  return h ^ (h >>> 13);
}

/** Longest probe a NameTable walks; names past it (crafted to collide) go to an overflow map. */
const MAX_PROBE = 64;

/**
 * Values by name, first definition wins: open addressing in one Int32Array keyed by `nameHash`,
 * sized once from the expected count (it grows past it). A Map<string, Value> did the same at ≈ 2×
 * the cost on a 100k-node graph (measured for verify: its ordered hash table regrows a dozen times
 * while ≈ 140k names go in, each growth re-inserting every entry and allocating a new backing
 * store; this array holds no pointers for the GC to trace, and keeps each name's hash so a probe
 * compares strings only on a full-hash match). A name whose probe would run past MAX_PROBE (names
 * crafted to collide) is kept in a Map instead, so no file or graph makes lookups quadratic and
 * every answer is exact.
 * @internal
 */
export class NameTable {
  /** The values filed in the table, in order (`#count` of them). */
  readonly #values: Value[];
  #count = 0;
  /**
   * Slot i is `table[2i]` = 1 + an index into `#values` (0: empty) and `table[2i + 1]` = that
   * name's hash: one cache line per probe (the table of a 100k-node graph is 2 MB, and its slots
   * are hit at random).
   */
  #table: Int32Array;
  /** Slot count - 1 (a power of two, at most 2/3 full). */
  #mask: number;
  /** The names whose probe ran long, or undefined while there are none. */
  #overflow: Map<string, Value> | undefined = undefined;

  constructor(expected: number) {
    let cap = 16;
    while (cap * 2 < expected * 3) cap *= 2;
    this.#table = new Int32Array(cap * 2);
    this.#mask = cap - 1;
    this.#values = new Array<Value>(expected);
  }

  /** Files `v` under its name `h` hashes to (nameHash), unless the name is there already: returns the value the name is filed under. */
  add(v: Value, h: number = nameHash(v.name)): Value {
    const name = v.name;
    if ((this.#count + 1) * 3 > (this.#mask + 1) * 2) this.#grow();
    const table = this.#table;
    const values = this.#values;
    const mask = this.#mask;
    let at = slotHash(h) & mask;
    for (let probe = 0; probe < MAX_PROBE; probe++) {
      const e = table[2 * at]!;
      if (e === 0) {
        // (a name the overflow map took before the table grew may now probe to an empty slot)
        const first = this.#overflow?.get(name);
        if (first !== undefined) return first;
        values[this.#count++] = v;
        table[2 * at] = this.#count;
        table[2 * at + 1] = h;
        return v;
      }
      if (table[2 * at + 1] === h && values[e - 1]!.name === name) return values[e - 1]!;
      at = (at + 1) & mask;
    }
    const overflow = (this.#overflow ??= new Map());
    const first = overflow.get(name);
    if (first !== undefined) return first;
    overflow.set(name, v);
    return v;
  }

  /**
   * add() of `values[0, count)` in order, their nameHashes in `hashes[0, count)`: true when one
   * of their names was already filed under another value. The slots of the batch are read first,
   * in a loop of their own: those loads do not depend on each other, so the processor keeps many
   * in flight, where add() called between other work waits for each one (the table of a 100k-node
   * graph is 2 MB, hit at random: most of verify()'s time in its SSA check was these waits).
   */
  addAll(values: readonly Value[], hashes: Int32Array, count: number): boolean {
    if ((this.#count + count) * 3 > (this.#mask + 1) * 2) {
      // (the table would grow on the way: one at a time)
      let dup = false;
      for (let i = 0; i < count; i++) if (this.add(values[i]!, hashes[i]!) !== values[i]) dup = true;
      return dup;
    }
    const table = this.#table;
    const mask = this.#mask;
    // (into an array, so that the loads are not dropped as unused)
    let read = this.#read;
    if (read.length < count) read = this.#read = new Int32Array(count);
    for (let i = 0; i < count; i++) read[i] = table[2 * (slotHash(hashes[i]!) & mask)]!;
    let dup = false;
    for (let i = 0; i < count; i++) if (this.add(values[i]!, hashes[i]!) !== values[i]) dup = true;
    return dup;
  }

  /** Where addAll's first loop puts what it read. */
  #read = new Int32Array(0);

  /** The value filed under `name` (whose nameHash is `h`), or undefined. */
  get(name: string, h: number = nameHash(name)): Value | undefined {
    const table = this.#table;
    const mask = this.#mask;
    let at = slotHash(h) & mask;
    for (let probe = 0; probe < MAX_PROBE; probe++) {
      const e = table[2 * at]!;
      if (e === 0) return this.#overflow === undefined ? undefined : this.#overflow.get(name);
      if (table[2 * at + 1] === h) {
        const v = this.#values[e - 1]!;
        if (v.name === name) return v;
      }
      at = (at + 1) & mask;
    }
    return this.#overflow?.get(name);
  }

  /** get() of the ASCII name in `buf[at, at + len)` (`h` its nameHash), without making it a string. */
  getBytes(buf: Uint8Array, at: number, len: number, h: number): Value | undefined {
    const table = this.#table;
    const mask = this.#mask;
    let i = slotHash(h) & mask;
    for (let probe = 0; probe < MAX_PROBE; probe++) {
      const e = table[2 * i]!;
      if (e === 0) return this.#overflow === undefined ? undefined : this.#overflow.get(asciiString(buf, at, len));
      if (table[2 * i + 1] === h) {
        const v = this.#values[e - 1]!;
        if (sameAscii(v.name, buf, at, len)) return v;
      }
      i = (i + 1) & mask;
    }
    return this.#overflow === undefined ? undefined : this.#overflow.get(asciiString(buf, at, len));
  }

  #grow(): void {
    const old = this.#table;
    const cap = old.length; // twice the old slot count
    const table = new Int32Array(cap * 2);
    const mask = cap - 1;
    for (let i = 0; i < old.length; i += 2) {
      const e = old[i]!;
      if (e === 0) continue;
      const h = old[i + 1]!;
      let at = slotHash(h) & mask;
      let probe = 0;
      while (table[2 * at] !== 0 && probe < MAX_PROBE) {
        at = (at + 1) & mask;
        probe++;
      }
      if (probe === MAX_PROBE) {
        // (not findable within the longest probe in the new table: the overflow map keeps it)
        const v = this.#values[e - 1]!;
        (this.#overflow ??= new Map()).set(v.name, v);
        continue;
      }
      table[2 * at] = e;
      table[2 * at + 1] = h;
    }
    this.#table = table;
    this.#mask = mask;
  }
}

/** @internal Whether `s` is the ASCII string in `buf[at, at + len)`. */
export function sameAscii(s: string, buf: Uint8Array, at: number, len: number): boolean {
  if (s.length !== len) return false;
  for (let i = 0; i < len; i++) if (s.charCodeAt(i) !== buf[at + i]) return false;
  return true;
}

/** The ASCII string in `buf[at, at + len)` (an overflow lookup: seldom). */
function asciiString(buf: Uint8Array, at: number, len: number): string {
  let s = '';
  for (let i = 0; i < len; i++) s += String.fromCharCode(buf[at + i]!);
  return s;
}
