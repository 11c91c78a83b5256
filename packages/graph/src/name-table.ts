/**
 * verify()'s name table (internal: not exported from the package index; its own module so the
 * collision test can reach the hash).
 */
import type { Value } from './core.js';

/**
 * The first run's name table: each named definition once, in walk order, in an open-addressing
 * table of Int32Arrays keyed by a hash of the name computed here. A Map<string, Value> did the
 * same at ≈ 2× the cost on a 100k-node graph (measured: its ordered hash table regrows a dozen
 * times while ≈ 140k names go in, each growth re-inserting every entry and allocating a new
 * backing store the size of the table; these arrays are sized once from the graph's counts, hold
 * no pointers for the GC to trace, and keep each name's hash so a probe compares strings only on a
 * full-hash match). It answers only what a valid graph needs: `add` says false when the name is
 * already there — or when a probe runs long (names crafted to collide) — and the caller then
 * checks the graph again exactly, so a false answer costs time, never a wrong verdict.
 */
export class NameTable {
  /** The values added, in order; `slots` holds 1 + an index into this, 0 for an empty slot. */
  readonly #values: Value[] = [];
  #slots: Int32Array;
  #hashes: Int32Array;
  #mask: number;

  constructor(expected: number) {
    let cap = 16;
    while (cap < expected * 2) cap *= 2;
    this.#slots = new Int32Array(cap);
    this.#hashes = new Int32Array(cap);
    this.#mask = cap - 1;
  }

  /** Adds `v` (named) under its name; false when a value is already there under that name (or the probe ran long). */
  add(v: Value): boolean {
    const name = v.name;
    const h = hashName(name);
    const values = this.#values;
    if ((values.length + 1) * 2 > this.#slots.length) this.#grow();
    const slots = this.#slots;
    const hashes = this.#hashes;
    const mask = this.#mask;
    let at = h & mask;
    for (let probe = 0; probe < MAX_PROBE; probe++) {
      const e = slots[at]!;
      if (e === 0) {
        values.push(v);
        slots[at] = values.length;
        hashes[at] = h;
        return true;
      }
      if (hashes[at] === h && values[e - 1]!.name === name) return false;
      at = (at + 1) & mask;
    }
    return false;
  }

  /** The value added under `name`, if any (undefined too when a probe would run long). */
  get(name: string): Value | undefined {
    const h = hashName(name);
    const slots = this.#slots;
    const hashes = this.#hashes;
    const mask = this.#mask;
    let at = h & mask;
    for (let probe = 0; probe < MAX_PROBE; probe++) {
      const e = slots[at]!;
      if (e === 0) return undefined;
      if (hashes[at] === h) {
        const v = this.#values[e - 1]!;
        if (v.name === name) return v;
      }
      at = (at + 1) & mask;
    }
    return undefined;
  }

  #grow(): void {
    const oldSlots = this.#slots;
    const oldHashes = this.#hashes;
    const cap = oldSlots.length * 2;
    const slots = new Int32Array(cap);
    const hashes = new Int32Array(cap);
    const mask = cap - 1;
    for (let i = 0; i < oldSlots.length; i++) {
      const e = oldSlots[i]!;
      if (e === 0) continue;
      const h = oldHashes[i]!;
      let at = h & mask;
      while (slots[at] !== 0) at = (at + 1) & mask;
      slots[at] = e;
      hashes[at] = h;
    }
    this.#slots = slots;
    this.#hashes = hashes;
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
