/**
 * The end-to-end job shared by `demo`, `report` and `batch`: analyze a model, optimize a copy,
 * verify the copy against the original in onnxruntime, benchmark both interleaved (with ORT's
 * per-node profile next to the roofline), and assemble the report data.
 */
import { cloneModel, type Model } from '@onnxkit/graph';
import { analyzeModel, runPipeline, type AnalysisReport, type DeviceProfile, type PipelineReport } from '@onnxkit/passes';
import { benchPair, compareWithRoofline, verifyModels, type BenchPairResult, type VerifyReport } from '@onnxkit/runtime';
import { latencyFromBenchPair, optimizedData, summarizeModel, verificationData, type ReportData } from './report/index.js';
import { createReferenceEvaluator } from './reference.js';
import type { Progress, StepHandle } from './ui.js';

export interface JobInput {
  model: Model;
  /** Path of the model file (null when built in memory). */
  file: string | null;
  fileBytes: number | null;
}

export interface JobOptions {
  device: DeviceProfile;
  inputShapes?: Record<string, (number | string)[]>;
  /** Pipeline to run (preset or pass names); null: no optimization. */
  pipeline: string[] | null;
  pipelineOptions?: Parameters<typeof runPipeline>[2];
  verify: boolean;
  /** Timed interleaved pairs; 0 skips benchmarking. */
  benchIterations: number;
  threads: number;
  seed: number;
  progress: Progress;
}

export interface JobResult {
  /**
   * Symbolic input dims the user left free, bound to 1 for the analyses — the values the
   * runtime's synthetic inputs give them, so estimates and measurements describe the same runs.
   * The optimized model itself stays symbolic.
   */
  boundDims?: Record<string, number>;
  original: { model: Model; analysis: AnalysisReport };
  optimized?: { model: Model; analysis: AnalysisReport; pipeline: PipelineReport };
  verify?: VerifyReport;
  /** Interleaved pair at onnxruntime's 'all' level: what a deployment sees. */
  benchAll?: BenchPairResult;
  /** Interleaved pair at 'disabled' with profiling: the rewrites' own effect, per layer. */
  benchProfiled?: BenchPairResult;
}

function numericShapes(s: Record<string, (number | string)[]> | undefined): Record<string, number[]> | undefined {
  if (!s) return undefined;
  const out: Record<string, number[]> = {};
  for (const [k, v] of Object.entries(s)) if (v.every((d) => typeof d === 'number')) out[k] = v as number[];
  return out;
}

/** The graph inputs' symbolic dims that `inputShapes` leaves free, each bound to 1. */
export function freeDimsAsOne(model: Model, inputShapes: Record<string, (number | string)[]> | undefined): Record<string, number> | undefined {
  const inputs = model.graph.inputs.filter((v) => !v.isInitializer);
  const pinned = new Set<string>();
  for (const v of inputs) {
    const p = inputShapes?.[v.name];
    v.shape?.forEach((d, i) => {
      if (typeof d === 'string' && typeof p?.[i] === 'number') pinned.add(d);
    });
  }
  const out: Record<string, number> = {};
  for (const v of inputs) for (const d of v.shape ?? []) if (typeof d === 'string' && !pinned.has(d)) out[d] = 1;
  return Object.keys(out).length > 0 ? out : undefined;
}

export async function runJob(input: JobInput, o: JobOptions): Promise<JobResult> {
  const shapes = o.inputShapes ? { inputShapes: o.inputShapes } : {};
  const boundDims = freeDimsAsOne(input.model, o.inputShapes);
  const analysisShapes = { ...shapes, ...(boundDims ? { dimValues: boundDims } : {}) };
  let step: StepHandle = o.progress.step('analyze');
  const analysis = analyzeModel(input.model, { device: o.device, ...analysisShapes });
  step.done(`${analysis.totals.macs.toLocaleString('en-US')} MACs, ${analysis.totals.params.toLocaleString('en-US')} params`);
  const result: JobResult = { ...(boundDims ? { boundDims } : {}), original: { model: input.model, analysis } };
  if (o.pipeline === null) return result;

  step = o.progress.step(`optimize (${o.pipeline.join(', ')})`);
  const optimized = cloneModel(input.model);
  const pipeline = await runPipeline(optimized, o.pipeline, {
    ...o.pipelineOptions,
    ...shapes,
    onPass: (run) => step.update(undefined, run.pass),
  });
  const optAnalysis = analyzeModel(optimized, { device: o.device, ...analysisShapes });
  step.done(`${pipeline.totalChanges} changes, ${input.model.graph.nodeCount} → ${optimized.graph.nodeCount} nodes`);
  result.optimized = { model: optimized, analysis: optAnalysis, pipeline };

  const runShapes = numericShapes(o.inputShapes);
  // Original by path when it exists on disk (its external data stays where it is).
  const a: Model | string = input.file ?? input.model;
  if (o.verify) {
    step = o.progress.step('verify in onnxruntime (optimizations disabled)');
    result.verify = await verifyModels(a, optimized, {
      seed: o.seed,
      threads: o.threads,
      bisect: true,
      reference: createReferenceEvaluator(),
      ...(runShapes ? { inputShapes: runShapes } : {}),
      onProgress: (p) => step.update(p.total ? (p.done ?? 0) / p.total : undefined, p.message),
    });
    const v = result.verify;
    const worst = Math.max(0, ...v.outputs.map((x) => x.maxAbsError));
    step.done(`${v.verdict}, max abs error ${worst.toExponential(2)}`);
  }
  if (o.benchIterations > 0) {
    const synthetic = { seed: o.seed, ...(runShapes ? { inputShapes: runShapes } : {}) };
    for (const level of ['all', 'disabled'] as const) {
      const profile = level === 'disabled';
      step = o.progress.step(`benchmark original vs optimized, interleaved (ORT ${level}${profile ? ', profiled' : ''})`);
      const pair = await benchPair(a, optimized, {
        iterations: o.benchIterations,
        warmup: Math.min(5, o.benchIterations),
        threads: o.threads,
        graphOptimizationLevel: level,
        profile,
        synthetic,
        onProgress: (p) => step.update(p.total ? p.done / p.total : undefined, `${p.phase} ${p.model}`),
      });
      step.done(`${pair.a.latency.p50Ms.toFixed(2)} → ${pair.b.latency.p50Ms.toFixed(2)} ms (×${pair.ratio.median.toFixed(3)})`);
      if (profile) result.benchProfiled = pair;
      else result.benchAll = pair;
    }
  }
  return result;
}

/** The HTML report's data for a job. */
export function reportData(input: JobInput, r: JobResult, extra: { generator: string; pipelineName?: string }): ReportData {
  const model = summarizeModel(input.model, { file: input.file, fileBytes: input.fileBytes });
  const data: { -readonly [K in keyof ReportData]: ReportData[K] } = { model, analysis: r.original.analysis, generator: extra.generator };
  if (r.optimized) {
    const summary = summarizeModel(r.optimized.model, { name: `${model.name} (optimized)` });
    data.optimized = optimizedData(summary, r.optimized.analysis, r.optimized.pipeline, extra.pipelineName);
  }
  if (r.verify) data.verification = verificationData(r.verify, 'disabled');
  const pair = r.benchProfiled ?? r.benchAll;
  if (pair) {
    const perLayer =
      r.benchProfiled?.a.profile && r.optimized
        ? {
            original: compareWithRoofline(r.benchProfiled.a.profile, r.original.analysis),
            ...(r.benchProfiled.b.profile ? { optimized: compareWithRoofline(r.benchProfiled.b.profile, r.optimized.analysis) } : {}),
          }
        : undefined;
    data.latency = latencyFromBenchPair(pair, perLayer);
  }
  return data;
}
