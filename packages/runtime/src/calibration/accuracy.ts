/**
 * Accuracy of a quantized model against its fp32 original on held-out inputs.
 *
 * SQNR (dB) = 10·log10(Σ ref² / Σ (ref − test)²), summed over every element of every sample
 * (∞ when the error is zero). Max and mean absolute error are over all elements too.
 *
 * Per layer: both models are run with the layers' outputs exposed (optimizations disabled, so
 * the exposed tensors exist; the quantized model then computes in float on dequantized values,
 * which is what the integer kernels compute up to rounding of the requantization). A layer's
 * SQNR compares its fp32 output with the dequantized output consumers read in the int8 model:
 * it is the error accumulated up to and including that layer.
 */
import { DataType, cloneModel, type Model, type Tensor, type Value } from '@onnxkit/graph';
import { VerifyError } from '../errors.js';
import { createSession, type SessionOptions } from '../session.js';

export class ErrorAccumulator {
  signal = 0;
  noise = 0;
  maxAbs = 0;
  sumAbs = 0;
  count = 0;

  add(ref: Float32Array, test: Float32Array): void {
    const n = Math.min(ref.length, test.length);
    for (let i = 0; i < n; i++) {
      const r = ref[i]!;
      const d = r - test[i]!;
      this.signal += r * r;
      this.noise += d * d;
      const a = Math.abs(d);
      this.sumAbs += a;
      if (a > this.maxAbs || Number.isNaN(a)) this.maxAbs = a;
    }
    this.count += n;
  }

  get sqnrDb(): number {
    if (this.noise === 0) return Infinity;
    return 10 * Math.log10(this.signal / this.noise);
  }

  summary(): AccuracySummary {
    return { sqnrDb: this.sqnrDb, maxAbsError: this.maxAbs, meanAbsError: this.count ? this.sumAbs / this.count : 0, elements: this.count };
  }
}

export interface AccuracySummary {
  sqnrDb: number;
  maxAbsError: number;
  meanAbsError: number;
  elements: number;
}

export interface LayerPair {
  /** Name in the fp32 model. */
  reference: string;
  /** Name in the quantized model. */
  quantized: string;
  /**
   * The quantized tensor was clamped at this value because its readers are constant below it
   * (e.g. a hard-swish reads it): the fp32 values are raised to it before the comparison.
   */
  clampBelow?: number;
}

export interface AccuracyOptions {
  /** Session options for both models (default: level 'all', 1 thread). */
  sessionOptions?: SessionOptions;
  /** Layers to measure (run at level 'disabled' with the outputs exposed). */
  layers?: readonly LayerPair[];
  /**
   * The reference model's outputs on `samples`, from `referenceRuns` with the same session
   * options: a caller comparing many candidates against one reference (sensitivity, mixed
   * precision) runs the reference once instead of once per candidate.
   */
  referenceRuns?: readonly Map<string, Tensor>[];
}

/** The reference model's outputs on each sample, for `AccuracyOptions.referenceRuns`. */
export async function referenceRuns(reference: Model, samples: readonly Map<string, Tensor>[], sessionOptions: SessionOptions = {}): Promise<Map<string, Tensor>[]> {
  const so: SessionOptions = { graphOptimizationLevel: 'all', intraOpNumThreads: 1, ...sessionOptions };
  const outputs = reference.graph.outputs.map((v) => v.name);
  const runs: Map<string, Tensor>[] = [];
  const a = await createSession(reference, { ...so, label: 'fp32 model' });
  try {
    for (const s of samples) runs.push(await a.run(s, outputs));
  } finally {
    await a.release();
  }
  return runs;
}

export interface AccuracyReport {
  outputs: Record<string, AccuracySummary>;
  overall: AccuracySummary;
  layers: Map<string, AccuracySummary>;
  samples: number;
}

function floatOf(t: Tensor | undefined): Float32Array | undefined {
  return t && t.dtype === DataType.FLOAT ? (t.toArray() as Float32Array) : undefined;
}

/** Compares `quantized` with `reference` on `samples` (see the module header). */
export async function measureAccuracy(reference: Model, quantized: Model, samples: readonly Map<string, Tensor>[], options: AccuracyOptions = {}): Promise<AccuracyReport> {
  const so: SessionOptions = { graphOptimizationLevel: 'all', intraOpNumThreads: 1, ...options.sessionOptions };
  const outputs = reference.graph.outputs.map((v) => v.name);
  const perOutput = new Map(outputs.map((n) => [n, new ErrorAccumulator()]));
  const overall = new ErrorAccumulator();
  const refRuns = options.referenceRuns ?? (await referenceRuns(reference, samples, so));
  if (refRuns.length !== samples.length) {
    throw new VerifyError(`referenceRuns holds ${refRuns.length} run(s) for ${samples.length} sample(s)`, {
      code: 'VERIFY_BAD_OPTION',
      hint: 'compute it with referenceRuns(reference, samples) on the same samples',
    });
  }
  const b = await createSession(quantized, { ...so, label: 'quantized model' });
  try {
    for (let i = 0; i < samples.length; i++) {
      const got = await b.run(samples[i]!, outputs);
      for (const name of outputs) {
        const r = floatOf(refRuns[i]!.get(name));
        const q = floatOf(got.get(name));
        if (r && q) {
          perOutput.get(name)!.add(r, q);
          overall.add(r, q);
        }
      }
    }
  } finally {
    await b.release();
  }
  const layers = new Map<string, AccuracySummary>();
  if (options.layers && options.layers.length > 0) {
    const acc = await layerErrors(reference, quantized, samples, options.layers, so);
    for (const [k, v] of acc) layers.set(k, v.summary());
  }
  return { outputs: Object.fromEntries([...perOutput].map(([k, v]) => [k, v.summary()])), overall: overall.summary(), layers, samples: samples.length };
}

function exposing(model: Model, names: readonly string[]): Model {
  const copy = cloneModel(model);
  const byName = new Map<string, Value>();
  for (const n of copy.graph) for (const o of n.outputs) byName.set(o.name, o);
  const have = new Set(copy.graph.outputs.map((v) => v.name));
  for (const name of names) {
    const v = byName.get(name);
    if (v && !have.has(name)) {
      copy.graph.addOutput(v);
      have.add(name);
    }
  }
  return copy;
}

async function layerErrors(reference: Model, quantized: Model, samples: readonly Map<string, Tensor>[], layers: readonly LayerPair[], so: SessionOptions): Promise<Map<string, ErrorAccumulator>> {
  const acc = new Map(layers.map((l) => [l.reference, new ErrorAccumulator()]));
  const disabled = { ...so, graphOptimizationLevel: 'disabled' as const };
  const a = await createSession(exposing(reference, layers.map((l) => l.reference)), { ...disabled, label: 'fp32 model (layers exposed)' });
  const b = await createSession(exposing(quantized, layers.map((l) => l.quantized)), { ...disabled, label: 'quantized model (layers exposed)' });
  const aNames = new Set(a.outputs.map((o) => o.name));
  const bNames = new Set(b.outputs.map((o) => o.name));
  const usable = layers.filter((l) => aNames.has(l.reference) && bNames.has(l.quantized));
  try {
    for (const s of samples) {
      const ra = await a.run(s, usable.map((l) => l.reference));
      const rb = await b.run(s, usable.map((l) => l.quantized));
      for (const l of usable) {
        let x = floatOf(ra.get(l.reference));
        const y = floatOf(rb.get(l.quantized));
        const t = l.clampBelow;
        if (x && t !== undefined) x = x.map((v) => (v < t ? t : v));
        if (x && y) acc.get(l.reference)!.add(x, y);
      }
    }
  } finally {
    await a.release();
    await b.release();
  }
  for (const l of layers) if (!usable.includes(l)) acc.delete(l.reference);
  return acc;
}
