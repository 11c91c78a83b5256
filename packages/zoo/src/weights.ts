/**
 * Parameter tensors of zoo models: seeded random, all-zero, or lazily regenerated.
 *
 * Every tensor draws from its own PRNG stream keyed by (seed, tensor name), so its bytes do
 * not depend on the order tensors are built in; a lazy tensor regenerates identical bytes on
 * every read. 'zeros' tensors are views of a shared zero buffer (tensors are immutable, so
 * sharing is safe; the buffer is replaced by one twice as large when a bigger tensor comes),
 * which makes multi-GiB structural test models nearly free: untouched zero pages are never
 * resident.
 */
import { DataType, Tensor, type TensorSource } from '@onnxkit/graph';
import { Prng } from './prng.js';
import type { WeightsMode } from './options.js';

/** Writes a tensor's values, drawing from the tensor's own stream. */
export type Fill = (rng: Prng, out: Float32Array) => void;

/** Uniform in (−bound, bound). */
export const uniform =
  (bound: number): Fill =>
  (rng, out) =>
    rng.fillUniform(out, -bound, bound);

/** Uniform in (lo, hi). */
export const uniformRange =
  (lo: number, hi: number): Fill =>
  (rng, out) =>
    rng.fillUniform(out, lo, hi);

export interface MadeTensor {
  tensor: Tensor;
  /** The values, when asked for and the weights are random (null for zeros). */
  values: Float32Array | null;
}

export class WeightFactory {
  readonly mode: WeightsMode;
  readonly seed: number;
  readonly lazy: boolean;
  #zeros = new ArrayBuffer(0);
  /** First zero buffer: enough for every tensor of the CNNs, so they share exactly one. */
  static readonly ZERO_BUFFER_BYTES = 64 * 2 ** 20;

  constructor(mode: WeightsMode, seed: number, lazy: boolean) {
    this.mode = mode;
    this.seed = seed;
    this.lazy = lazy;
  }

  /**
   * A float32 tensor named `name`. With `keep`, the generated values are returned too (to
   * derive activation statistics) even when the tensor itself is lazy.
   */
  float(name: string, dims: readonly number[], fill: Fill, keep = false): MadeTensor {
    let size = 1;
    for (const d of dims) size *= d;
    if (this.mode === 'zeros') {
      const bytes = size * 4;
      if (this.#zeros.byteLength < bytes) this.#zeros = new ArrayBuffer(Math.max(bytes, 2 * this.#zeros.byteLength, WeightFactory.ZERO_BUFFER_BYTES));
      return { tensor: Tensor.fromBytes(DataType.FLOAT, dims, new Uint8Array(this.#zeros, 0, bytes), { name }), values: null };
    }
    const seed = this.seed;
    const generate = (): Float32Array => {
      const out = new Float32Array(size);
      fill(new Prng(seed, name), out);
      return out;
    };
    if (this.lazy) {
      const source: TensorSource = {
        byteLength: size * 4,
        description: `zoo random weights '${name}' (xoshiro128**, seed ${seed}, regenerated on read)`,
        read: () => {
          const a = generate();
          return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
        },
      };
      return { tensor: Tensor.lazy(DataType.FLOAT, dims, source, { name }), values: keep ? generate() : null };
    }
    const values = generate();
    return { tensor: Tensor.fromArray(DataType.FLOAT, dims, values, { name }), values: keep ? values : null };
  }
}
