/**
 * The error an approximate pass cost, measured against the exact math (issue 10, item 6).
 *
 * When `onnxkit optimize` ran a pass that is not exact (`exact: false` in the pass registry:
 * fp16-weights, quantize-weights-int8, decouple-conv, convert-fp16) and it changed the model, the
 * optimized model is run in onnxruntime (fp32, optimizations disabled) on seeded synthetic inputs
 * (seed 0) and compared, per output, with a float64 evaluation of the ORIGINAL model: max and mean
 * absolute error and SQNR in dB. The original model's own fp32 error against the same reference is
 * shown beside it, so the cost of the approximation reads against float32 rounding. This is
 * `verifyModels(original, optimized)` with the float64 reference injected; its verdict is not used
 * (an approximation is not "equivalent"; `onnxkit verify --max-error/--min-sqnr` accepts one).
 *
 * When the reference cannot evaluate the model (an op without a float64 kernel, the memory limit),
 * the error is measured against the original model's fp32 onnxruntime output instead, labelled
 * `basis: 'fp32'` with the reason; when onnxruntime cannot run a model, `basis: 'unavailable'`.
 */
import type { Model } from '@onnxkit/graph';
import { getPass, type PipelineReport } from '@onnxkit/passes';
import type { createReferenceEvaluator } from './reference.js';
import { fmtDuration, paint, table, type OutputMode } from './ui.js';
import { fmtDb } from './units.js';

export interface OutputAccuracy {
  name: string;
  /** The optimized model's max/mean |error| and SQNR (dB; null when the signal is zero or the error is 0 → Infinity is null). */
  maxError: number;
  meanError: number;
  sqnrDb: number | null;
  /**
   * Elements non-finite (NaN, ±Inf) in the optimized model but not in the original, or the other
   * way round: the errors above cover finite elements only (for basis 'fp32', the growth in
   * non-finite elements).
   */
  nonFinite: number;
  /** The original model's fp32 error against the same float64 reference (null when basis is 'fp32'). */
  original: { maxError: number; meanError: number; sqnrDb: number | null } | null;
}

export interface AccuracyReport {
  /** What the errors are measured against: the float64 reference of the original model, its fp32 onnxruntime output, or nothing. */
  basis: 'float64' | 'fp32' | 'unavailable';
  /** Why the float64 reference (or, for 'unavailable', onnxruntime) could not be used. */
  note: string | null;
  /** The approximate passes that changed the model. */
  passes: string[];
  inputs: 'synthetic (seed 0)';
  outputs: OutputAccuracy[];
  ms: number;
}

/** The passes of the run that are not exact and made at least one change (empty: nothing to measure). */
export function approximatePassesRun(report: PipelineReport): string[] {
  const out: string[] = [];
  for (const s of report.summary) {
    if (s.changes <= 0 || out.includes(s.pass)) continue;
    let exact = true;
    try {
      exact = getPass(s.pass).exact !== false;
    } catch {
      // Not a registered pass name (cannot happen for a report of runPipeline): treat as exact.
    }
    if (!exact) out.push(s.pass);
  }
  return out;
}

const finite = (x: number | null): number | null => (x === null || !Number.isFinite(x) ? null : x);

/** Measures the optimized model against the float64 reference of the original (see the module header). */
export async function measureAccuracy(original: Model, optimized: Model, passes: string[], shapes: { inputShapes?: Record<string, number[]>; dimValues?: Record<string, number> } = {}): Promise<AccuracyReport> {
  const t0 = performance.now();
  // Loaded here, not with this module: `optimize` imports it, and only approximate passes measure.
  const [{ verifyModels }, reference] = await Promise.all([import('@onnxkit/runtime'), import('./reference.js')]);
  const createEvaluator: typeof createReferenceEvaluator = reference.createReferenceEvaluator;
  try {
    const r = await verifyModels(original, optimized, {
      seed: 0,
      ...(shapes.inputShapes ? { inputShapes: shapes.inputShapes } : {}),
      ...(shapes.dimValues ? { dimValues: shapes.dimValues } : {}),
      reference: createEvaluator(),
    });
    const ref = r.reference;
    if (ref && ref.basis === 'reference') {
      return {
        basis: 'float64',
        note: null,
        passes,
        inputs: 'synthetic (seed 0)',
        outputs: ref.outputs.map((o) => ({
          name: o.name,
          maxError: o.b.maxError,
          meanError: o.b.meanError,
          sqnrDb: finite(o.b.sqnrDb),
          nonFinite: o.nonFinite,
          original: { maxError: o.a.maxError, meanError: o.a.meanError, sqnrDb: finite(o.a.sqnrDb) },
        })),
        ms: performance.now() - t0,
      };
    }
    const why = ref?.unavailable ? `the float64 reference cannot evaluate ${ref.unavailable.node}${ref.unavailable.op ? ` (${ref.unavailable.op})` : ''}; measured against the original model's fp32 output` : "measured against the original model's fp32 output";
    return {
      basis: 'fp32',
      note: why,
      passes,
      inputs: 'synthetic (seed 0)',
      outputs: r.outputs.map((o) => ({ name: o.name, maxError: o.maxAbsError, meanError: o.meanAbsError, sqnrDb: null, nonFinite: Math.abs(o.nan.b + o.inf.b - (o.nan.a + o.inf.a)), original: null })),
      ms: performance.now() - t0,
    };
  } catch (e) {
    const msg = e instanceof Error ? e.message.split('\n')[0]!.slice(0, 300) : String(e);
    return { basis: 'unavailable', note: `could not measure the error: ${msg}`, passes, inputs: 'synthetic (seed 0)', outputs: [], ms: performance.now() - t0 };
  }
}

const sci = (x: number): string => (x === 0 ? '0' : x.toExponential(2));
/** The max error, and the elements it cannot cover: NaN or ±Inf in one model only. */
const maxErr = (o: OutputAccuracy): string => (o.nonFinite > 0 ? `${sci(o.maxError)} + ${o.nonFinite} non-finite` : sci(o.maxError));
const db = (x: number | null): string => fmtDb(x, { unit: true });

export function formatAccuracy(a: AccuracyReport, mode: OutputMode): string {
  const head = `${paint(mode, 'bold', 'accuracy')} — approximate pass${a.passes.length === 1 ? '' : 'es'} ${a.passes.join(', ')}; `;
  if (a.basis === 'unavailable') return `${head}${a.note}`;
  if (a.basis === 'fp32') {
    const rows = a.outputs.map((o) => [o.name, maxErr(o), sci(o.meanError)]);
    return `${head}error against the original model in fp32 (${a.note}), ${a.inputs} inputs, ${fmtDuration(a.ms)}\n${table(['output', 'max |err|', 'mean |err|'], rows, mode)}`;
  }
  const rows = a.outputs.map((o) => [o.name, maxErr(o), sci(o.meanError), db(o.sqnrDb), o.original ? sci(o.original.maxError) : '', o.original ? db(o.original.sqnrDb) : '']);
  return `${head}error against the float64 reference of the original model, ${a.inputs} inputs, ${fmtDuration(a.ms)}\n${table(['output', 'max |err|', 'mean |err|', 'SQNR', 'original fp32 max |err|', 'original SQNR'], rows, mode)}\n(accept it explicitly with onnxkit verify --max-error E or --min-sqnr DB; skip this check with --no-accuracy)`;
}
