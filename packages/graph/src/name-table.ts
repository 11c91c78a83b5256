/**
 * verify()'s name table (internal: not exported from the package index; its own module so the
 * collision test can reach the hash).
 */
import type { Value } from './core.js';

/**
 * The first run's name table: each named definition once, in walk order, in an open-addressing
 * table in an Int32Array keyed by a hash of the name computed here. A Map<string, Value> did the
 * same at ≈ 2× the cost on a 100k-node graph (measured: its ordered hash table regrows a dozen
 * times while ≈ 140k names go in, each growth re-inserting every entry and allocating a new
 * backing store the size of the table; this array is sized once from the graph's counts, holds
 * no pointers for the GC to trace, and keeps each name's hash so a probe compares strings only on a
 * full-hash match). It answers only what a valid graph needs: `add` says false when the name is
 * already there — or when a probe runs long (names crafted to collide) — and the caller then
 * checks the graph again exactly, so a false answer costs time, never a wrong verdict.
 */
export class NameTable {
  /** The values added, in order (`#count` of them; made at the expected length, grows past it). */
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

  constructor(expected: number) {
    let cap = 16;
    while (cap * 2 < expected * 3) cap *= 2;
    this.#table = new Int32Array(cap * 2);
    this.#mask = cap - 1;
    this.#values = new Array<Value>(expected);
  }

  /** Adds `v` (named) under its name; false when a value is already there under that name (or the probe ran long). */
  add(v: Value): boolean {
    const name = v.name;
    const h = hashName(name);
    const values = this.#values;
    if ((this.#count + 1) * 3 > (this.#mask + 1) * 2) this.#grow();
    const table = this.#table;
    const mask = this.#mask;
    let at = h & mask;
    for (let probe = 0; probe < MAX_PROBE; probe++) {
      const e = table[2 * at]!;
      if (e === 0) {
        values[this.#count++] = v;
        table[2 * at] = this.#count;
        table[2 * at + 1] = h;
        return true;
      }
      if (table[2 * at + 1] === h && values[e - 1]!.name === name) return false;
      at = (at + 1) & mask;
    }
    return false;
  }

  /** The value added under `name`, if any (undefined too when a probe would run long). */
  get(name: string): Value | undefined {
    const h = hashName(name);
    const table = this.#table;
    const mask = this.#mask;
    let at = h & mask;
    for (let probe = 0; probe < MAX_PROBE; probe++) {
      const e = table[2 * at]!;
      if (e === 0) return undefined;
      if (table[2 * at + 1] === h) {
        const v = this.#values[e - 1]!;
        if (v.name === name) return v;
      }
      at = (at + 1) & mask;
    }
    return undefined;
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
      let at = h & mask;
      while (table[2 * at] !== 0) at = (at + 1) & mask;
      table[2 * at] = e;
      table[2 * at + 1] = h;
    }
    this.#table = table;
    this.#mask = mask;
  }
}

/** Longest probe NameTable walks before it gives up (and the graph is checked exactly). */
const MAX_PROBE = 64;

/** FNV-1a over the UTF-16 code units, with a final avalanche (the low bits pick the slot). */
export function hashName(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  return h ^ (h >>> 13);
}
