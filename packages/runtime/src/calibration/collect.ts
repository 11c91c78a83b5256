/**
 * Activation calibration through onnxruntime: the fp32 model is copied with every requested
 * intermediate tensor added as an extra graph output, one session of the copy runs each sample
 * (graph optimizations disabled, so no fusion hides or renames a tensor), and each returned
 * tensor is folded into its TensorStatistics and dropped. Memory is one sample's activations
 * plus fixed-size histograms, whatever the number of samples. Sessions go through the runtime's
 * session API, so they run wherever that API runs onnxruntime (a worker, or a child process).
 *
 * Graph inputs among the requested tensors are taken from the feeds; tensors onnxruntime cannot
 * return, or that are not float32, are reported in `missing`. A tensor that took −∞ or +∞ has it
 * as its range's bound (its finite values still make the histogram); NaN is left out.
 */
import { DataType, cloneModel, type Model, type Tensor, type Value } from '@onnxkit/graph';
import { VerifyError } from '../errors.js';
import { checkPercentile } from '../options.js';
import { createSession, type SessionOptions } from '../session.js';
import { TensorStatistics, type CalibrationMethod } from './histogram.js';

export interface CalibrationOptions {
  /** Tensor names to calibrate (e.g. `planQdq(model).tensors`). */
  tensors: readonly string[];
  /** Default 'minmax'. */
  method?: CalibrationMethod;
  /** For 'percentile' (default 99.999). */
  percentile?: number;
  /** Histogram bins per sign (default 2048). */
  halfBins?: number;
  /** Session options (default: optimizations disabled, 1 intra-op thread). */
  sessionOptions?: SessionOptions;
  onSample?: (done: number) => void;
}

export interface CalibrationResult {
  /**
   * The range per tensor, from its finite values by `method`; a bound is −∞ (+∞) when the tensor
   * took that value on some sample (e.g. a masked_fill(-inf)): no scale holds it, and the
   * quantizer keeps the tensor float (quantize/qdq.ts, reason range-not-finite).
   */
  ranges: Map<string, { min: number; max: number }>;
  /** Observed min/max per tensor (before percentile/entropy clipping). */
  observed: Map<string, { min: number; max: number }>;
  method: CalibrationMethod;
  samples: number;
  /** Wall time of the runs and statistics (session creation excluded). */
  ms: number;
  createMs: number;
  missing: string[];
}

/** Collects statistics of `options.tensors` over `samples` and returns a range per tensor. */
export async function calibrateRanges(model: Model, samples: Iterable<Map<string, Tensor>> | AsyncIterable<Map<string, Tensor>>, options: CalibrationOptions): Promise<CalibrationResult> {
  const method = options.method ?? 'minmax';
  const percentile = options.percentile ?? 99.999;
  if (method === 'percentile') checkPercentile(percentile);
  const copy = cloneModel(model);
  const g = copy.graph;
  const inputs = new Set(g.inputs.map((v) => v.name));
  const produced = new Map<string, Value>();
  for (const n of g) for (const o of n.outputs) if (o.name) produced.set(o.name, o);
  const already = new Set(g.outputs.map((v) => v.name));
  const fetch: string[] = [];
  const fromFeeds: string[] = [];
  const missing: string[] = [];
  for (const name of options.tensors) {
    if (inputs.has(name)) {
      fromFeeds.push(name);
      continue;
    }
    const v = produced.get(name);
    if (v === undefined || (v.dtype !== undefined && v.dtype !== DataType.FLOAT)) {
      missing.push(name);
      continue;
    }
    if (!already.has(name)) {
      g.addOutput(v);
      already.add(name);
    }
    fetch.push(name);
  }
  const stats = new Map<string, TensorStatistics>();
  for (const name of [...fetch, ...fromFeeds]) stats.set(name, new TensorStatistics(method !== 'minmax', options.halfBins));
  const session = await createSession(copy, { graphOptimizationLevel: 'disabled', intraOpNumThreads: 1, label: 'calibration copy', ...options.sessionOptions });
  let count = 0;
  const t0 = performance.now();
  try {
    for await (const feeds of samples) {
      const out = fetch.length > 0 ? await session.run(feeds, fetch) : new Map<string, Tensor>();
      for (const name of fetch) {
        const t = out.get(name);
        if (t && t.dtype === DataType.FLOAT) stats.get(name)!.add(t.toArray() as Float32Array);
      }
      for (const name of fromFeeds) {
        const t = feeds.get(name);
        if (t && t.dtype === DataType.FLOAT) stats.get(name)!.add(t.toArray() as Float32Array);
      }
      count++;
      options.onSample?.(count);
    }
  } finally {
    await session.release();
  }
  if (count === 0) throw new VerifyError('calibration needs at least one input sample; none were given', { code: 'VERIFY_NO_SAMPLES', hint: 'pass --calibration DIR with .npy/.npz/.pb files, or use synthetic inputs' });
  const ranges = new Map<string, { min: number; max: number }>();
  const observed = new Map<string, { min: number; max: number }>();
  for (const [name, s] of stats) {
    const inf = s.negInf || s.posInf;
    if (s.count === 0 && !inf) {
      missing.push(name);
      continue;
    }
    const r = s.range(method, percentile);
    observed.set(name, inf ? { min: s.negInf ? -Infinity : s.count > 0 ? s.min : 0, max: s.posInf ? Infinity : s.count > 0 ? s.max : 0 } : { min: s.min, max: s.max });
    ranges.set(name, inf ? { min: s.negInf ? -Infinity : r.min, max: s.posInf ? Infinity : r.max } : r);
  }
  return { ranges, observed, method, samples: count, ms: performance.now() - t0, createMs: session.createMs, missing };
}
