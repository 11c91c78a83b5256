/**
 * The end-to-end job shared by `demo`, `report` and `batch`: analyze a model, optimize a copy,
 * verify the copy against the original in onnxruntime, benchmark both interleaved (with ORT's
 * per-node profile next to the roofline), and assemble the report data.
 *
 * When onnxruntime crashes on one model (SIGSEGV, SIGFPE, a kill, a timeout — issue 13), the job
 * does not end there: `crash` says which model and why, the other model's verify run is kept, and
 * at each level where the pair crashes the other is benchmarked alone, so the caller can show
 * what is known and then fail with the crash's one line (exit 2). Once both have crashed, nothing
 * more runs.
 */
import { cloneModel, type Model } from '@onnxkit/graph';
import { analyzeModel, runPipeline, type AnalysisReport, type DeviceProfile, type PipelineReport } from '@onnxkit/passes';
import { BenchCrashError, benchPair, compareWithRoofline, formatSpeedup, VerifyCrashError, verifyModels, type BenchPairResult, type BenchResult, type ModelCrashError, type SurvivingRun, type VerifyReport } from '@onnxkit/runtime';
import { crashData, latencyFromBenchPair, optimizedData, summarizeModel, verificationData, type ReportData } from './report/index.js';
import { createReferenceEvaluator } from './reference.js';
import { fmtInt, type Progress, type StepHandle } from './ui.js';
import { analysisMemory } from './memory.js';

export interface JobInput {
  model: Model;
  /** Path of the model file (null when built in memory). */
  file: string | null;
  fileBytes: number | null;
}

export interface JobOptions {
  device: DeviceProfile;
  inputShapes?: Record<string, (number | string)[]>;
  /** Symbolic dims bound by the user (--dim); the free rest defaults to 1, and the outputs say so. */
  dimValues?: Record<string, number>;
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
  /** The symbols of boundDims nobody chose (defaulted to 1). */
  defaultedDims?: string[];
  original: { model: Model; analysis: AnalysisReport };
  optimized?: { model: Model; analysis: AnalysisReport; pipeline: PipelineReport };
  verify?: VerifyReport;
  /** Interleaved pair at onnxruntime's 'all' level: what a deployment sees. */
  benchAll?: BenchPairResult;
  /** Interleaved pair at 'disabled' with profiling: the rewrites' own effect, per layer. */
  benchProfiled?: BenchPairResult;
  /** onnxruntime crashed on one model or both: verify and the pairs from that step on are absent. */
  crash?: JobCrash;
}

/** onnxruntime died on a model of the job, and what was kept of the other one. */
export interface JobCrash {
  /** The model it crashed on: A the original, B the optimized one. */
  side: 'A' | 'B';
  /** The other model crashed onnxruntime too. */
  both: boolean;
  step: 'verify' | 'benchmark';
  /** The crash's one-line error (names the model, the signal or timeout, and what was kept). */
  error: ModelCrashError<unknown>;
  /** The other model's verify run: its outputs and timings. */
  survivorRun?: SurvivingRun;
  /** The other model benchmarked alone, at each onnxruntime level where the pair crashed. */
  survivorBench: { all?: BenchResult; disabled?: BenchResult };
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
  const defaulted = freeDimsAsOne(input.model, o.inputShapes);
  for (const k of Object.keys(o.dimValues ?? {})) delete defaulted?.[k];
  const defaultedDims = Object.keys(defaulted ?? {});
  const boundDims = defaultedDims.length > 0 || o.dimValues ? { ...defaulted, ...o.dimValues } : undefined;
  const analysisShapes = { ...shapes, ...(boundDims ? { dimValues: boundDims } : {}) };
  let step: StepHandle = o.progress.step('analyze');
  const analysis = analyzeModel(input.model, { device: o.device, ...analysisShapes, memory: analysisMemory() });
  const macs = analysis.totals.macs;
  step.done(`${macs !== null && macs !== undefined ? fmtInt(macs) : (analysis.totals.macsExpr ?? '?')} MACs, ${fmtInt(analysis.totals.params)} params`);
  const result: JobResult = { ...(boundDims ? { boundDims } : {}), ...(defaultedDims.length > 0 ? { defaultedDims } : {}), original: { model: input.model, analysis } };
  if (o.pipeline === null) return result;

  step = o.progress.step(`optimize (${o.pipeline.join(', ')})`);
  const optimized = cloneModel(input.model);
  const pipeline = await runPipeline(optimized, o.pipeline, {
    ...o.pipelineOptions,
    ...shapes,
    onPass: (run) => step.update(undefined, run.pass),
  });
  const optAnalysis = analyzeModel(optimized, { device: o.device, ...analysisShapes, memory: analysisMemory() });
  step.done(`${pipeline.totalChanges} changes, ${input.model.graph.nodeCount} → ${optimized.graph.nodeCount} nodes`);
  result.optimized = { model: optimized, analysis: optAnalysis, pipeline };

  const runShapes = numericShapes(o.inputShapes);
  // Original by path when it exists on disk (its external data stays where it is).
  const measured = await verifyAndBench(input.file ?? input.model, optimized, {
    verify: o.verify,
    benchIterations: o.benchIterations,
    levels: ['all', 'disabled'],
    threads: o.threads,
    seed: o.seed,
    ...(runShapes ? { inputShapes: runShapes } : {}),
    ...(boundDims ? { dimValues: boundDims } : {}),
    progress: o.progress,
  });
  Object.assign(result, measured);
  return result;
}

/**
 * Verifies B against A in onnxruntime and benchmarks the two interleaved at each level (profiled
 * at 'disabled'). A crash of onnxruntime on one model is returned as `crash`, with the other
 * model's verify run and its benchmark alone; any other error is thrown.
 */
export async function verifyAndBench(
  a: Model | string,
  b: Model | string,
  o: {
    verify: boolean;
    benchIterations: number;
    levels: readonly ('all' | 'disabled')[];
    threads: number;
    seed: number;
    inputShapes?: Record<string, number[]>;
    dimValues?: Record<string, number>;
    progress: Progress;
  },
): Promise<Pick<JobResult, 'verify' | 'benchAll' | 'benchProfiled' | 'crash'>> {
  const result: Pick<JobResult, 'verify' | 'benchAll' | 'benchProfiled' | 'crash'> = {};
  const shapes = { ...(o.inputShapes ? { inputShapes: o.inputShapes } : {}), ...(o.dimValues ? { dimValues: o.dimValues } : {}) };
  let step: StepHandle;
  if (o.verify) {
    step = o.progress.step('verify in onnxruntime (optimizations disabled)');
    try {
      result.verify = await verifyModels(a, b, {
        seed: o.seed,
        threads: o.threads,
        bisect: true,
        reference: createReferenceEvaluator(),
        ...shapes,
        onProgress: (p) => step.update(p.total ? (p.done ?? 0) / p.total : undefined, p.message),
      });
      const v = result.verify;
      const worst = v.outputs.reduce((m, x) => Math.max(m, x.maxAbsError), 0);
      step.done(`${v.verdict}, max abs error ${worst.toExponential(2)}`);
    } catch (e) {
      if (!(e instanceof VerifyCrashError)) throw e;
      result.crash = { side: e.side, both: e.survivor === null, step: 'verify', error: e, ...(e.survivor ? { survivorRun: e.survivor } : {}), survivorBench: {} };
      step.done(`onnxruntime crashed on ${e.side === 'A' ? 'the original' : 'the optimized model'}`);
    }
  }
  if (o.benchIterations <= 0 || result.crash?.both === true) return result;
  const synthetic = { seed: o.seed, ...shapes };
  for (const level of o.levels) {
    const profile = level === 'disabled';
    step = o.progress.step(`benchmark original vs optimized, interleaved (ORT ${level}${profile ? ', profiled' : ''})`);
    try {
      // Even after a crash: onnxruntime may run at this level what it could not at another.
      const pair = await benchPair(a, b, {
        iterations: o.benchIterations,
        warmup: Math.min(5, o.benchIterations),
        threads: o.threads,
        graphOptimizationLevel: level,
        profile,
        synthetic,
        onProgress: (p) => step.update(p.total ? p.done / p.total : undefined, `${p.phase} ${p.model}`),
      });
      step.done(`p50 ${pair.a.latency.p50Ms.toFixed(2)} / ${pair.b.latency.p50Ms.toFixed(2)} ms, speed-up ${formatSpeedup(pair.ratio, pair.a.iterations)}`);
      if (profile) result.benchProfiled = pair;
      else result.benchAll = pair;
    } catch (e) {
      // The crashed model is named by the first crash; the other one was benchmarked alone (survivor).
      if (!(e instanceof BenchCrashError)) throw e;
      const crash = (result.crash ??= { side: e.side, both: false, step: 'benchmark', error: e, survivorBench: {} });
      if (e.survivor === null || e.side !== crash.side) crash.both = true;
      else crash.survivorBench[level] = e.survivor;
      step.done(`onnxruntime crashed on ${e.side === 'A' ? 'the original' : 'the optimized model'}${e.survivor ? '; the other benchmarked alone' : ''}`);
      if (crash.both) break;
    }
  }
  return result;
}

/** The HTML report's data for a job. */
export function reportData(input: JobInput, r: JobResult, extra: { generator: string; pipelineName?: string }): ReportData {
  const model = summarizeModel(input.model, { file: input.file, fileBytes: input.fileBytes });
  const data: { -readonly [K in keyof ReportData]: ReportData[K] } = { model, analysis: r.original.analysis, generator: extra.generator };
  if (r.boundDims) data.bindings = { values: r.boundDims, defaulted: r.defaultedDims ?? [] };
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
            original: compareWithRoofline(r.benchProfiled.a.profile, r.original.analysis, { level: r.benchProfiled.a.graphOptimizationLevel }),
            ...(r.benchProfiled.b.profile ? { optimized: compareWithRoofline(r.benchProfiled.b.profile, r.optimized.analysis, { level: r.benchProfiled.b.graphOptimizationLevel }) } : {}),
          }
        : undefined;
    data.latency = latencyFromBenchPair(pair, perLayer);
  }
  if (r.crash) data.crash = jobCrashData(r.crash, r.original.analysis, r.optimized?.analysis);
  return data;
}

/** The report's view of a crash: the survivor's benchmark at the profiled level when there is one, with its layers. */
export function jobCrashData(c: JobCrash, original: AnalysisReport, optimized: AnalysisReport | undefined): NonNullable<ReportData['crash']> {
  const bench = c.survivorBench.disabled ?? c.survivorBench.all;
  const analysis = c.side === 'A' ? optimized : original;
  return crashData({
    ...c,
    ...(bench ? { bench } : {}),
    ...(bench?.profile && analysis ? { perLayer: compareWithRoofline(bench.profile, analysis, { level: bench.graphOptimizationLevel }) } : {}),
  });
}
