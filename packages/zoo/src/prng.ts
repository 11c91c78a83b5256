/**
 * Seeded pseudo-random numbers for the zoo's weights and for tests' inputs.
 *
 * Algorithm: xoshiro128** (Blackman & Vigna, 2018; 128-bit state, period 2^128 − 1), whose four
 * state words are derived with the SplitMix32 finaliser from `(seed, stream name)`. Every
 * tensor draws from its own stream keyed by its name, so a tensor's values depend only on the
 * seed and its name — not on build order — which is what lets a lazily generated tensor
 * regenerate identical bytes on every read.
 *
 * Floats: a uniform float in [0, 1) keeps the top 24 bits of a draw (exactly representable in
 * float32); normals use the Box–Muller transform. Everything is 32-bit integer arithmetic
 * (`Math.imul`, `>>>`), identical on every JavaScript engine, so the same seed gives the same
 * bytes in Node and in a browser.
 */

const TWO_POW_MINUS_24 = 1 / 16777216;

/** 32-bit FNV-1a of a string's UTF-16 code units, from the given offset basis. */
function fnv1a32(s: string, basis: number): number {
  let h = basis >>> 0;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** The SplitMix32 / MurmurHash3 finaliser: a bijective 32-bit mix. */
function mix32(z: number): number {
  z = Math.imul(z ^ (z >>> 16), 0x21f0aaad);
  z = Math.imul(z ^ (z >>> 15), 0x735a2d97);
  return (z ^ (z >>> 15)) >>> 0;
}

/** Folds any safe integer (negative or ≥ 2^32 too) into 32 bits without losing its high part. */
function seedWord(seed: number): number {
  const lo = seed >>> 0;
  const hi = Math.floor(seed / 4294967296) >>> 0;
  return (lo ^ mix32(hi ^ 0x5bd1e995)) >>> 0;
}

export class Prng {
  #s0: number;
  #s1: number;
  #s2: number;
  #s3: number;

  /** A generator for stream `stream` (e.g. a tensor name) of `seed`. */
  constructor(seed: number, stream = '') {
    const h1 = fnv1a32(stream, 0x811c9dc5);
    const h2 = fnv1a32(stream, 0x050c5d1f);
    let x = seedWord(seed);
    const words = [h1, h2, h1 ^ 0xa5a5a5a5, h2 ^ 0x5a5a5a5a].map((h) => {
      x = (x + 0x9e3779b9) >>> 0;
      return mix32(x ^ h);
    });
    // xoshiro's only forbidden state is all zeros.
    if ((words[0]! | words[1]! | words[2]! | words[3]!) === 0) words[0] = 1;
    this.#s0 = words[0]!;
    this.#s1 = words[1]!;
    this.#s2 = words[2]!;
    this.#s3 = words[3]!;
  }

  /** A generator started from raw xoshiro128** state words (for reference test vectors). */
  static fromState(s0: number, s1: number, s2: number, s3: number): Prng {
    const p = new Prng(0);
    p.#s0 = s0 | 0;
    p.#s1 = s1 | 0;
    p.#s2 = s2 | 0;
    p.#s3 = s3 | 0;
    return p;
  }

  /** Next 32-bit unsigned integer. */
  nextUint32(): number {
    const s1 = this.#s1;
    const r = Math.imul(rotl(Math.imul(s1, 5), 7), 9);
    const t = s1 << 9;
    this.#s2 ^= this.#s0;
    this.#s3 ^= s1;
    this.#s1 ^= this.#s2;
    this.#s0 ^= this.#s3;
    this.#s2 ^= t;
    this.#s3 = rotl(this.#s3, 11);
    return r >>> 0;
  }

  /** Uniform float in [0, 1) with 24 random bits. */
  nextFloat(): number {
    return (this.nextUint32() >>> 8) * TWO_POW_MINUS_24;
  }

  /** Standard normal (Box–Muller; uses two draws). */
  nextNormal(): number {
    const u1 = ((this.nextUint32() >>> 8) + 0.5) * TWO_POW_MINUS_24;
    const u2 = this.nextFloat();
    return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
  }

  /**
   * Fills `out` with uniform values in the open interval (lo, hi), symmetric about its centre.
   * The hot loop keeps the state in locals: this is what makes VGG-16's 138M weights cheap.
   */
  fillUniform(out: Float32Array | Float64Array, lo: number, hi: number): void {
    let s0 = this.#s0;
    let s1 = this.#s1;
    let s2 = this.#s2;
    let s3 = this.#s3;
    const scale = (hi - lo) * TWO_POW_MINUS_24;
    const base = lo + 0.5 * scale;
    for (let i = 0; i < out.length; i++) {
      const r = Math.imul(rotl(Math.imul(s1, 5), 7), 9);
      const t = s1 << 9;
      s2 ^= s0;
      s3 ^= s1;
      s1 ^= s2;
      s0 ^= s3;
      s2 ^= t;
      s3 = (s3 << 11) | (s3 >>> 21);
      out[i] = base + (r >>> 8) * scale;
    }
    this.#s0 = s0;
    this.#s1 = s1;
    this.#s2 = s2;
    this.#s3 = s3;
  }

  /** Fills `out` with normal values of the given mean and standard deviation. */
  fillNormal(out: Float32Array | Float64Array, mean = 0, std = 1): void {
    for (let i = 0; i < out.length; i++) out[i] = mean + std * this.nextNormal();
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

/** `n` standard-normal float32 values from stream `stream` of `seed` (e.g. a test input). */
export function normalArray(n: number, seed: number, stream = 'input'): Float32Array {
  const out = new Float32Array(n);
  new Prng(seed, stream).fillNormal(out);
  return out;
}
