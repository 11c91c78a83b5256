/**
 * Case generation: case `i` of run seed `s` is a pure function of (s, i) and the seed set, so
 * a finding is replayed with `node fuzz/run.mjs --seed s --case i`.
 *
 * A case picks a seed model (small seeds weigh more: they are where most of the cases per second
 * come from, and every mutation reaches the same code paths in a small model as in a big one),
 * then either (90%) applies 1–5 byte-level or structure-aware mutations to its bytes, or (10%)
 * decodes it, applies IR-level mutations and re-encodes it.
 */
import { decode, encode } from '@onnxkit/importer';
import { contextFor, mutateOnce } from './mutators.js';
import { mutateModel } from './ir-mutators.js';
import { Rng, caseSeed } from './rng.js';
import { SMALL_SEED_BYTES, type Seed, type SeedSet } from './seeds.js';
import { indexMessage, type WireIndex } from './wire.js';

export interface FuzzCase {
  readonly index: number;
  readonly seed: string;
  readonly bytes: Uint8Array;
  readonly mutations: readonly string[];
  readonly kind: 'bytes' | 'ir';
}

/** Per-process caches of seed indexes (indexing a 1.7 MB seed costs milliseconds). */
export class CaseFactory {
  readonly #indexes = new Map<Seed, WireIndex | null>();
  readonly #weights: (readonly [number, Seed])[];
  #donors: WireIndex[] | undefined;
  /** IR mutations the encoder (or the IR itself) refused, by error class and code: not cases. */
  readonly irRefusals = new Map<string, number>();

  /** `smallOnly`: draw only seeds of at most SMALL_SEED_BYTES (the throughput benchmark). */
  constructor(
    readonly seeds: SeedSet,
    smallOnly = false,
  ) {
    this.#weights = seeds.seeds
      .filter((s) => !smallOnly || s.bytes.length <= SMALL_SEED_BYTES)
      .map((s) => [s.bytes.length <= SMALL_SEED_BYTES ? 1 : s.bytes.length <= 512 * 1024 ? 0.25 : 0.05, s] as const);
  }

  indexOf(seed: Seed): WireIndex | null {
    let ix = this.#indexes.get(seed);
    if (ix === undefined) {
      ix = indexMessage(seed.bytes);
      this.#indexes.set(seed, ix);
    }
    return ix;
  }

  /** Small seeds whose messages crossover can borrow. */
  donors(): readonly WireIndex[] {
    if (this.#donors === undefined) {
      this.#donors = this.seeds.seeds.filter((s) => s.bytes.length <= SMALL_SEED_BYTES).map((s) => this.indexOf(s)).filter((x): x is WireIndex => x !== null);
    }
    return this.#donors;
  }

  make(runSeed: number, index: number): FuzzCase {
    const rng = new Rng(caseSeed(runSeed, index));
    const seed = rng.weighted(this.#weights);
    if (rng.chance(0.1)) {
      const ir = this.#irCase(seed, rng, index);
      if (ir !== null) return ir;
    }
    let bytes = seed.bytes;
    let ix: WireIndex | null | undefined = this.indexOf(seed);
    const mutations: string[] = [];
    const n = rng.weighted([
      [60, 1],
      [25, 2],
      [10, 3],
      [5, 5],
    ] as const);
    for (let k = 0; k < n; k++) {
      const structural = ix !== null && rng.chance(0.6);
      const r = mutateOnce(bytes, rng, contextFor(bytes, ix, () => this.donors()), structural);
      if (r === null) continue;
      bytes = r.bytes;
      mutations.push(r.detail);
      ix = undefined;
    }
    return { index, seed: seed.name, bytes, mutations, kind: 'bytes' };
  }

  #irCase(seed: Seed, rng: Rng, index: number): FuzzCase | null {
    let mutations: string[];
    let bytes: Uint8Array;
    try {
      const m = decode(seed.bytes);
      mutations = mutateModel(m, rng);
      if (mutations.length === 0) return null;
      bytes = encode(m);
    } catch (e) {
      // A mutated IR the encoder refuses (or a mutation the IR refuses) is not a case; it is
      // counted (a TypeError here would be an encoder bug on broken IR, reported in the summary).
      const key = `${(e as Error)?.constructor?.name ?? typeof e}:${(e as { code?: string })?.code ?? ''}`;
      this.irRefusals.set(key, (this.irRefusals.get(key) ?? 0) + 1);
      return null;
    }
    return { index, seed: seed.name, bytes, mutations: mutations.map((d) => `ir:${d}`), kind: 'ir' };
  }
}
