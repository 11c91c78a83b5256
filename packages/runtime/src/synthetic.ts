/**
 * Seeded synthetic inputs: the same seed gives the same tensors on every machine, and each input
 * draws from its own stream (seeded from the seed and the input's name), so adding or
 * reordering inputs does not change the others.
 *
 * Generator: xoshiro128** (Blackman & Vigna) seeded through splitmix32; normal values by the
 * Box–Muller transform. Defaults: floats uniform in [-1, 1) (or normal(mean 0, std 1));
 * integers uniform over the inclusive range [0, 1] — safe for masks, token types and indices —
 * unless `range` is given; bools true with probability 1/2. Symbolic dims take
 * `inputShapes[name]` (the whole shape), else `dimValues[symbol]`, else `defaultDim` (1); an
 * input of unknown rank needs `inputShapes`.
 */
import { DataType, Tensor, dataTypeInfo, dataTypeName, encodeNumbers, isKnownDataType, type Model, type Dim, type TypedArray } from '@onnxkit/graph';
import { VerifyError } from './errors.js';
import { checkInputSize, maxInputBytes } from './input-limits.js';
import type { RuntimeSession, ValueMetadata } from './session.js';

export interface SyntheticOptions {
  /** Default 0. */
  seed?: number;
  /** Default 'uniform'. */
  distribution?: 'uniform' | 'normal';
  /** Uniform range [lo, hi) for floats, inclusive [lo, hi] for integers. Also clamps normal values when given. */
  range?: readonly [number, number];
  /** Normal distribution parameters (default 0 and 1). */
  mean?: number;
  std?: number;
  /** Full shapes per input name; override the model's (static dims must agree). */
  inputShapes?: Readonly<Record<string, readonly number[]>>;
  /** Values for symbolic dims by name, e.g. { N: 8 } for the batch. */
  dimValues?: Readonly<Record<string, number>>;
  /** Value of symbolic or unknown dims not otherwise bound (default 1). */
  defaultDim?: number;
  /** Largest input tensor to generate, in bytes (default: see input-limits.ts, 2 GiB). */
  maxTensorBytes?: number;
}

/** What the inputs were, for reports. */
export interface SyntheticDescription {
  source: 'synthetic';
  seed: number;
  distribution: 'uniform' | 'normal';
  range: [number, number] | null;
  mean: number | null;
  std: number | null;
  shapes: Record<string, number[]>;
}

/** Input metadata of a Model's graph (graph inputs that are not initializers). */
export function modelInputs(model: Model): ValueMetadata[] {
  return model.graph.inputs
    .filter((v) => !v.isInitializer)
    .map((v) => {
      const t = v.tensorType;
      return t === null || t.kind !== 'tensor'
        ? { name: v.name, isTensor: v.type === null, dtype: undefined, shape: null }
        : { name: v.name, isTensor: true, dtype: t.elemType, shape: t.shape };
    });
}

/** Output metadata of a Model's graph. */
export function modelOutputs(model: Model): ValueMetadata[] {
  return model.graph.outputs.map((v) => {
    const t = v.tensorType;
    return t === null || t.kind !== 'tensor' ? { name: v.name, isTensor: v.type === null, dtype: undefined, shape: null } : { name: v.name, isTensor: true, dtype: t.elemType, shape: t.shape };
  });
}

export function inputMetadataOf(source: RuntimeSession | Model | readonly ValueMetadata[]): readonly ValueMetadata[] {
  if (Array.isArray(source)) return source as readonly ValueMetadata[];
  if ('graph' in (source as object)) return modelInputs(source as Model);
  return (source as RuntimeSession).inputs;
}

/** splitmix32: spreads a 32-bit seed over the generator state. */
function splitmix32(state: { s: number }): number {
  state.s = (state.s + 0x9e3779b9) | 0;
  let z = state.s;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

function fnv1a32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** xoshiro128**: fast, 128-bit state, good statistical quality; returns uint32. */
export class Xoshiro128 {
  #a: number;
  #b: number;
  #c: number;
  #d: number;

  constructor(seed: number, stream = 0) {
    const st = { s: (Math.trunc(seed) ^ Math.imul(stream, 0x27d4eb2d)) | 0 };
    this.#a = splitmix32(st);
    this.#b = splitmix32(st);
    this.#c = splitmix32(st);
    this.#d = splitmix32(st);
    if ((this.#a | this.#b | this.#c | this.#d) === 0) this.#a = 1;
  }

  nextUint32(): number {
    const r = Math.imul(rotl(Math.imul(this.#b, 5), 7), 9) >>> 0;
    const t = this.#b << 9;
    this.#c ^= this.#a;
    this.#d ^= this.#b;
    this.#b ^= this.#c;
    this.#a ^= this.#d;
    this.#c ^= t;
    this.#d = rotl(this.#d, 11);
    return r;
  }

  /** Uniform in [0, 1) with 53 random bits. */
  nextFloat(): number {
    const hi = this.nextUint32() >>> 5;
    const lo = this.nextUint32() >>> 6;
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  /** Standard normal (Box–Muller; one value per call, the pair's twin is kept). */
  #spare: number | null = null;
  nextNormal(): number {
    if (this.#spare !== null) {
      const s = this.#spare;
      this.#spare = null;
      return s;
    }
    let u = 0;
    while (u === 0) u = this.nextFloat();
    const v = this.nextFloat();
    const r = Math.sqrt(-2 * Math.log(u));
    this.#spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

/** Resolves the concrete shape of one input (see SyntheticOptions). */
export function resolveShape(m: ValueMetadata, options: Pick<SyntheticOptions, 'inputShapes' | 'dimValues' | 'defaultDim'> = {}): number[] {
  const given = options.inputShapes?.[m.name];
  const def = options.defaultDim ?? 1;
  if (given !== undefined) {
    if (!given.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      throw new VerifyError(`input shape for '${m.name}' must be non-negative integers, got [${given.join(',')}]`, { code: 'VERIFY_INPUT_SHAPE', tensor: m.name });
    }
    if (m.shape !== null) {
      if (given.length !== m.shape.length) {
        throw new VerifyError(`input shape for '${m.name}' has rank ${given.length}, the model expects rank ${m.shape.length} [${m.shape.map(fmtDim).join(',')}]`, { code: 'VERIFY_INPUT_SHAPE', tensor: m.name });
      }
      m.shape.forEach((d, i) => {
        if (typeof d === 'number' && d !== given[i]) {
          throw new VerifyError(`input shape for '${m.name}': dim ${i} is fixed to ${d} by the model, got ${given[i]}`, { code: 'VERIFY_INPUT_SHAPE', tensor: m.name });
        }
      });
    }
    return [...given];
  }
  if (m.shape === null) {
    throw new VerifyError(`input '${m.name}' has no declared shape (its rank is unknown)`, {
      code: 'VERIFY_INPUT_SHAPE',
      tensor: m.name,
      hint: `give its shape, e.g. inputShapes: { '${m.name}': [1, 3, 224, 224] } (CLI: --input-shape ${m.name}=1x3x224x224)`,
    });
  }
  return m.shape.map((d) => (typeof d === 'number' ? d : typeof d === 'string' && options.dimValues?.[d] !== undefined ? options.dimValues[d]! : def));
}

function fmtDim(d: Dim): string {
  return d === null ? '?' : String(d);
}

/** Seeded inputs for every input of a session, a Model, or a metadata list. */
export function syntheticInputs(source: RuntimeSession | Model | readonly ValueMetadata[], options: SyntheticOptions = {}): Map<string, Tensor> {
  const inputs = inputMetadataOf(source);
  const seed = options.seed ?? 0;
  const dist = options.distribution ?? 'uniform';
  if (!Number.isFinite(seed)) throw new VerifyError(`seed must be a finite number, got ${seed}`, { code: 'VERIFY_BAD_OPTION' });
  if (options.range && !(options.range[0] <= options.range[1])) {
    throw new VerifyError(`range must be [lo, hi] with lo <= hi, got [${options.range.join(', ')}]`, { code: 'VERIFY_BAD_OPTION' });
  }
  for (const name of Object.keys(options.inputShapes ?? {})) {
    if (!inputs.some((m) => m.name === name)) {
      throw new VerifyError(`input shape given for '${name}', which is not an input (inputs: ${inputs.map((m) => m.name).join(', ') || 'none'})`, { code: 'VERIFY_INPUT_EXTRA', tensor: name });
    }
  }
  const limit = maxInputBytes(options.maxTensorBytes);
  const out = new Map<string, Tensor>();
  for (const m of inputs) {
    if (!m.isTensor) throw new VerifyError(`input '${m.name}' is not a tensor; synthetic inputs cover tensors only`, { code: 'VERIFY_INPUT_TYPE', tensor: m.name, hint: 'provide it from a file' });
    if (m.dtype === undefined || !isKnownDataType(m.dtype)) throw new VerifyError(`input '${m.name}' has no known element type`, { code: 'VERIFY_INPUT_TYPE', tensor: m.name });
    if (m.dtype === DataType.STRING) {
      throw new VerifyError(`input '${m.name}' is a string tensor; synthetic inputs cannot be generated for strings`, { code: 'VERIFY_INPUT_TYPE', tensor: m.name, hint: 'pass it in a .json input file' });
    }
    const shape = resolveShape(m, options);
    checkInputSize(m.name, m.dtype, shape, limit);
    const size = shape.reduce((p, d) => p * d, 1);
    const rng = new Xoshiro128(seed, fnv1a32(m.name));
    out.set(m.name, Tensor.fromArray(m.dtype, shape, generate(m.dtype, size, rng, options, dist, m.name), { name: m.name }));
  }
  return out;
}

/** Describes the inputs syntheticInputs made, for reports. */
export function describeSynthetic(feeds: ReadonlyMap<string, Tensor>, options: SyntheticOptions = {}): SyntheticDescription {
  const dist = options.distribution ?? 'uniform';
  return {
    source: 'synthetic',
    seed: options.seed ?? 0,
    distribution: dist,
    range: options.range ? [options.range[0], options.range[1]] : dist === 'uniform' ? [-1, 1] : null,
    mean: dist === 'normal' ? (options.mean ?? 0) : null,
    std: dist === 'normal' ? (options.std ?? 1) : null,
    shapes: Object.fromEntries([...feeds].map(([k, t]) => [k, [...t.dims]])),
  };
}

function generate(dtype: DataType, size: number, rng: Xoshiro128, o: SyntheticOptions, dist: 'uniform' | 'normal', name: string): TypedArray {
  const info = dataTypeInfo(dtype);
  if (info.kind === 'bool') {
    const a = new Uint8Array(size);
    for (let i = 0; i < size; i++) a[i] = rng.nextUint32() >>> 31;
    return a;
  }
  if (info.kind === 'int' || info.kind === 'uint') {
    const [lo, hi] = o.range ? [Math.ceil(o.range[0]), Math.floor(o.range[1])] : [0, 1];
    if (hi < lo) throw new VerifyError(`input '${name}': range [${o.range!.join(', ')}] contains no integer`, { code: 'VERIFY_BAD_OPTION', tensor: name });
    const values = new Float64Array(size);
    const span = hi - lo + 1;
    for (let i = 0; i < size; i++) {
      const x = dist === 'normal' ? Math.round((o.mean ?? 0) + (o.std ?? 1) * rng.nextNormal()) : lo + Math.floor(rng.nextFloat() * span);
      values[i] = Math.min(hi, Math.max(lo, x));
    }
    checkIntRange(dtype, lo, hi, name);
    return encodeNumbers(dtype, values);
  }
  if (info.kind === 'float' || info.kind === 'complex') {
    const n = size * info.partsPerElement;
    const values = dtype === DataType.FLOAT || dtype === DataType.COMPLEX64 ? new Float32Array(n) : new Float64Array(n);
    const [lo, hi] = o.range ?? [-1, 1];
    for (let i = 0; i < n; i++) {
      let x = dist === 'normal' ? (o.mean ?? 0) + (o.std ?? 1) * rng.nextNormal() : lo + (hi - lo) * rng.nextFloat();
      if (dist === 'normal' && o.range) x = Math.min(hi, Math.max(lo, x));
      values[i] = x;
    }
    if (values instanceof Float32Array || dtype === DataType.DOUBLE || dtype === DataType.COMPLEX128) return values;
    return encodeNumbers(dtype, values);
  }
  throw new VerifyError(`input '${name}': cannot generate ${dataTypeName(dtype)} values`, { code: 'VERIFY_INPUT_TYPE', tensor: name });
}

const INT_LIMITS: Partial<Record<DataType, [number, number]>> = {
  [DataType.INT8]: [-128, 127],
  [DataType.UINT8]: [0, 255],
  [DataType.INT16]: [-32768, 32767],
  [DataType.UINT16]: [0, 65535],
  [DataType.INT32]: [-(2 ** 31), 2 ** 31 - 1],
  [DataType.UINT32]: [0, 2 ** 32 - 1],
  [DataType.INT64]: [Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER],
  [DataType.UINT64]: [0, Number.MAX_SAFE_INTEGER],
  [DataType.INT4]: [-8, 7],
  [DataType.UINT4]: [0, 15],
  [DataType.INT2]: [-2, 1],
  [DataType.UINT2]: [0, 3],
};

function checkIntRange(dtype: DataType, lo: number, hi: number, name: string): void {
  const lim = INT_LIMITS[dtype];
  if (lim && (lo < lim[0] || hi > lim[1])) {
    throw new VerifyError(`input '${name}' is ${dataTypeName(dtype)}; range [${lo}, ${hi}] does not fit [${lim[0]}, ${lim[1]}]`, { code: 'VERIFY_BAD_OPTION', tensor: name });
  }
}
