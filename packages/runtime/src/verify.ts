/**
 * verifyModels: "is B numerically the same as A?" — the same inputs (seeded synthetic or user
 * files) through both models in onnxruntime (optimizations disabled, fixed threads), every
 * output compared (see compare.ts for the element rule), optionally the first diverging
 * intermediate value located (bisect.ts) and both models timed interleaved (bench.ts).
 *
 * With a float64 reference evaluator (`options.reference`, injected by the cli) every output is
 * judged against the exact math instead of a fixed tolerance (reference-judge.ts): verdicts
 * `equivalent`, `equivalent within float32 rounding`, `NOT equivalent` (or `within the requested
 * budget` with maxError/minSqnrDb). When the reference cannot evaluate model A the fixed
 * tolerance decides and `reference.basis` is 'fixed-tolerance' with the node it stopped at.
 *
 * Outcomes: a report with `equivalent: true | false` (a verdict, exit code 0 or 1 in the CLI),
 * or a thrown VerifyError / RuntimeError for requests that cannot be answered (models A and B
 * with different inputs or outputs, missing or misshaped inputs, a model onnxruntime cannot load
 * — exit code 2). Never `equivalent: true` when nothing was compared. When onnxruntime dies on
 * one model (SIGSEGV, SIGFPE, a timeout), the other still runs, in a fresh child if the crash
 * took its session down, and the VerifyCrashError thrown carries its outputs and timings.
 */
import type { Model, Tensor } from '@onnxkit/graph';
import { benchPair, type LatencyStats, type RatioStats } from './bench.js';
import { bisectModels, type BisectOptions, type Divergence } from './bisect.js';
import { compareOutputs, type CompareOptions, type TensorComparison } from './compare.js';
import { isChildDeath, ModelCrashError, type RuntimeError, VerifyError } from './errors.js';
import { loadInputs, type InputFile } from './load-inputs.js';
import { createSession, feedsToMap, formatMetadata, type Feeds, type GraphOptimizationLevel, type RunResult, type RuntimeSession, type SessionOptions, type ValueMetadata } from './session.js';
import { judgeOutput, REFERENCE_RULE, ruleText, verdictOf, type ReferenceEvaluator, type ReferenceJudgement, type ReferenceValue, type Verdict } from './reference-judge.js';
import { describeSynthetic, syntheticInputs, type SyntheticDescription, type SyntheticOptions } from './synthetic.js';
import { defaultWorker, RuntimeWorker } from './worker-client.js';

export interface VerifyProgress {
  phase: 'load' | 'inputs' | 'run' | 'compare' | 'reference' | 'bisect' | 'bench' | 'done';
  /** 'A' or 'B' when the step concerns one model. */
  model?: 'A' | 'B';
  message: string;
  done?: number;
  total?: number;
}

export interface VerifyOptions extends Pick<CompareOptions, 'atol' | 'rtol' | 'perOutput'> {
  /** Seed of the synthetic inputs (default 0). */
  seed?: number;
  distribution?: SyntheticOptions['distribution'];
  range?: SyntheticOptions['range'];
  /** Input files (.npy/.npz/.pb/.json) instead of synthetic inputs. */
  inputFiles?: readonly InputFile[];
  /** Feeds given directly (win over inputFiles and synthetic inputs). */
  inputs?: Feeds;
  /** Shapes for inputs with symbolic dims (synthetic inputs). */
  inputShapes?: SyntheticOptions['inputShapes'];
  dimValues?: SyntheticOptions['dimValues'];
  /** Locate the first diverging intermediate value when outputs differ. */
  bisect?: boolean | Omit<BisectOptions, 'onProgress' | 'atol' | 'rtol' | 'sessionOptions'>;
  /** Time both models interleaved: true (20 iterations) or the iteration count. */
  bench?: boolean | number | { iterations?: number; warmup?: number };
  /** Intra-op threads (default 1). */
  threads?: number;
  /** Default 'disabled'. */
  graphOptimizationLevel?: GraphOptimizationLevel;
  /** Extra options for both sessions (e.g. externalDataDir, timeouts). */
  sessionOptions?: SessionOptions;
  onProgress?: (p: VerifyProgress) => void;
  /** The float64 reference (judge against the exact math); omitted: the fixed tolerance decides. */
  reference?: ReferenceEvaluator;
  /** Accept B when every element is within this absolute error of float64 ("within the requested budget"). */
  maxError?: number;
  /** Accept B only when its SQNR against float64 is at least this many dB, per output. */
  minSqnrDb?: number;
}

export interface FileInputsDescription {
  source: 'files';
  files: string[];
  shapes: Record<string, number[]>;
}

export interface GivenInputsDescription {
  source: 'given';
  shapes: Record<string, number[]>;
}

export type InputsDescription = SyntheticDescription | FileInputsDescription | GivenInputsDescription;

export interface VerifyLatency {
  a: LatencyStats;
  b: LatencyStats;
  /** Median per-pair B/A time (< 1: B is faster). */
  ratio: number;
  ratioStats: RatioStats;
  iterations: number;
  warmup: number;
  threads: number;
  graphOptimizationLevel: GraphOptimizationLevel;
}

export interface VerifyReport {
  /** True for the verdicts `equivalent`, `equivalent within float32 rounding` and `within the requested budget`. */
  equivalent: boolean;
  verdict: Verdict;
  /** The float64 judgement (null when no reference evaluator was given). */
  reference: ReferenceJudgement | null;
  /** Why not equivalent (null when equivalent). */
  reason: string | null;
  models: { a: string; b: string };
  outputs: TensorComparison[];
  /** Elements compared over all outputs. */
  compared: number;
  inputs: InputsDescription;
  tolerance: { atol: number | null; rtol: number | null; perOutput: Record<string, { atol?: number; rtol?: number }> };
  /** When bisecting: the first diverging value (null: none found, undefined: not bisected). */
  firstDivergence?: Divergence | null;
  bisect?: { candidates: number; valuesChecked: number; chunks: number; skipped: { value: string; reason: string }[]; ms: number };
  latency?: VerifyLatency;
  timings: { createMs: { a: number; b: number }; runMs: { a: number; b: number }; compareMs: number; referenceMs: number; totalMs: number };
}

function label(m: Model | string, fallback: string): string {
  if (typeof m === 'string') return m;
  return m.graph.name ? `${fallback} (${m.graph.name})` : fallback;
}

/** Throws a VerifyError when A and B do not have the same inputs and outputs. */
export function checkSameInterface(a: RuntimeSession, b: RuntimeSession): void {
  const side = (xs: readonly ValueMetadata[], ys: readonly ValueMetadata[], what: 'input' | 'output'): void => {
    const nx = new Map(xs.map((m) => [m.name, m]));
    const ny = new Map(ys.map((m) => [m.name, m]));
    const onlyA = [...nx.keys()].filter((k) => !ny.has(k));
    const onlyB = [...ny.keys()].filter((k) => !nx.has(k));
    if (onlyA.length > 0 || onlyB.length > 0) {
      throw new VerifyError(
        `models A and B have different ${what}s: ${[onlyA.length ? `only in A: ${onlyA.join(', ')}` : '', onlyB.length ? `only in B: ${onlyB.join(', ')}` : ''].filter(Boolean).join('; ')}`,
        { code: 'VERIFY_MODEL_MISMATCH', tensor: onlyA[0] ?? onlyB[0], hint: `both models must have the same ${what} names` },
      );
    }
    for (const [name, x] of nx) {
      const y = ny.get(name)!;
      if (x.isTensor !== y.isTensor || (x.dtype !== undefined && y.dtype !== undefined && x.dtype !== y.dtype)) {
        throw new VerifyError(`${what} '${name}' is ${formatMetadata(x)} in A but ${formatMetadata(y)} in B`, {
          code: 'VERIFY_MODEL_MISMATCH',
          tensor: name,
          hint: `both models must agree on the element type of every ${what}`,
        });
      }
      if (what === 'input' && x.shape !== null && y.shape !== null) {
        const clash = x.shape.length !== y.shape.length || x.shape.some((d, i) => typeof d === 'number' && typeof y.shape![i] === 'number' && d !== y.shape![i]);
        if (clash) {
          throw new VerifyError(`input '${name}' is ${formatMetadata(x)} in A but ${formatMetadata(y)} in B; one input cannot feed both`, {
            code: 'VERIFY_MODEL_MISMATCH',
            tensor: name,
          });
        }
      }
    }
  };
  side(a.inputs, b.inputs, 'input');
  side(a.outputs, b.outputs, 'output');
}

function shapesOf(feeds: ReadonlyMap<string, Tensor>): Record<string, number[]> {
  return Object.fromEntries([...feeds].map(([k, t]) => [k, [...t.dims]]));
}

/** What the model that did not crash produced when onnxruntime died on the other one. */
export interface SurvivingRun {
  side: 'A' | 'B';
  /** Its label (path or "A (graph name)"). */
  model: string;
  outputs: Map<string, Tensor>;
  /** Session creation and the run, in ms, measured in the child. */
  createMs: number;
  runMs: number;
  inputs: InputsDescription;
}

/**
 * verifyModels when onnxruntime crashed (or timed out) on one model: the crash's one line naming
 * that model, and the other model's outputs and timings in `survivor` (null when both crashed).
 */
export class VerifyCrashError extends ModelCrashError<SurvivingRun> {}

interface Side {
  key: 'A' | 'B';
  model: Model | string;
  label: string;
  session?: RuntimeSession;
  crash?: RuntimeError;
  run?: RunResult;
}

/** Runs A and B on the same inputs and compares every output. See the module header. */
export async function verifyModels(a: Model | string, b: Model | string, options: VerifyOptions = {}): Promise<VerifyReport> {
  const t0 = performance.now();
  const progress = options.onProgress ?? (() => undefined);
  const la = label(a, 'A');
  const lb = label(b, 'B');
  // Both models share one child; when onnxruntime dies on one, the other is (re)created in a
  // fresh child so its results are kept: the shared one is replaced on use, and a given worker
  // is followed by spares this call starts and ends.
  const given = options.sessionOptions?.worker;
  const spares: RuntimeWorker[] = [];
  const live = (): RuntimeWorker => {
    if (given === undefined) return defaultWorker();
    if (given.alive) return given;
    if (spares.at(-1)?.alive !== true) spares.push(new RuntimeWorker());
    return spares.at(-1)!;
  };
  const sessionOptions: SessionOptions = {
    ...options.sessionOptions,
    intraOpNumThreads: options.threads ?? options.sessionOptions?.intraOpNumThreads ?? 1,
    graphOptimizationLevel: options.graphOptimizationLevel ?? options.sessionOptions?.graphOptimizationLevel ?? 'disabled',
    // The sessions are timed interleaved by --bench: no busy-waiting threads between turns.
    ...(options.bench ? { allowSpinning: false } : {}),
  };
  const A: Side = { key: 'A', model: a, label: la };
  const B: Side = { key: 'B', model: b, label: lb };
  const open = async (s: Side): Promise<void> => {
    progress({ phase: 'load', model: s.key, message: `loading ${s.label}` });
    try {
      s.session = await createSession(s.model, { ...sessionOptions, worker: live(), label: s.label });
    } catch (e) {
      if (!isChildDeath(e)) throw e;
      s.crash = e;
    }
  };
  // The other model crashed the child this session lived in: open it again in a fresh one.
  const reopen = async (s: Side): Promise<void> => {
    if (s.session === undefined || s.session.worker.alive) return;
    await s.session.release().catch(() => undefined);
    s.session = undefined;
    await open(s);
  };
  const runSide = async (s: Side, feeds: ReadonlyMap<string, Tensor>): Promise<void> => {
    if (s.session === undefined) return;
    progress({ phase: 'run', model: s.key, message: `running ${s.label}` });
    try {
      s.run = await s.session.runTimed(feeds);
    } catch (e) {
      if (!isChildDeath(e)) throw e;
      s.crash = e;
    }
  };
  const sessionOf = (s: Side): RuntimeSession => s.session!;
  try {
    await open(A);
    await open(B);
    await reopen(A);
    if (A.crash !== undefined && B.crash !== undefined) throw new VerifyCrashError(A.crash, 'A', null, `${lb} crashed onnxruntime too`);
    if (A.session !== undefined && B.session !== undefined) checkSameInterface(A.session, B.session);
    // The model that loaded decides the inputs when the other crashed at load.
    const first = A.session !== undefined ? A : B;

    progress({ phase: 'inputs', message: 'preparing inputs' });
    let feeds: Map<string, Tensor>;
    let inputs: InputsDescription;
    if (options.inputs !== undefined) {
      feeds = feedsToMap(options.inputs);
      inputs = { source: 'given', shapes: shapesOf(feeds) };
    } else if (options.inputFiles !== undefined && options.inputFiles.length > 0) {
      feeds = loadInputs(options.inputFiles, sessionOf(first), { label: first.label });
      inputs = { source: 'files', files: options.inputFiles.map((f) => (typeof f === 'string' ? f : f.path)), shapes: shapesOf(feeds) };
    } else {
      const syn: SyntheticOptions = { seed: options.seed, distribution: options.distribution, range: options.range, inputShapes: options.inputShapes, dimValues: options.dimValues };
      feeds = syntheticInputs(sessionOf(first), syn);
      inputs = describeSynthetic(feeds, syn);
    }

    await runSide(A, feeds);
    if (A.crash !== undefined) await reopen(B);
    await runSide(B, feeds);
    const crashed = A.crash !== undefined ? A : B.crash !== undefined ? B : undefined;
    if (crashed !== undefined) {
      const other = crashed === A ? B : A;
      const survivor: SurvivingRun | null =
        other.run === undefined ? null : { side: other.key, model: other.label, outputs: other.run.outputs, createMs: other.session!.createMs, runMs: other.run.ms, inputs };
      throw new VerifyCrashError(crashed.crash!, crashed.key, survivor, survivor === null ? (other.crash !== undefined ? `${other.label} crashed onnxruntime too` : null) : `${other.label} ran without a crash`);
    }
    const sa = sessionOf(A);
    const sb = sessionOf(B);
    const ra = A.run!;
    const rb = B.run!;
    const worker = live();

    progress({ phase: 'compare', message: 'comparing outputs' });
    const tc = performance.now();
    const cmp = compareOutputs(ra.outputs, rb.outputs, { atol: options.atol, rtol: options.rtol, perOutput: options.perOutput, outputs: sa.outputs.map((o) => o.name) });
    let compareMs = performance.now() - tc;

    const user = options.maxError !== undefined || options.minSqnrDb !== undefined;
    if (user && options.reference === undefined) {
      throw new VerifyError('--max-error/--min-sqnr need the float64 reference, which is not available here', { code: 'VERIFY_NO_REFERENCE', hint: 'run verify from the onnxkit cli, which provides the reference' });
    }
    let judgement: ReferenceJudgement | null = null;
    let referenceValues: ReadonlyMap<string, ReferenceValue> | undefined;
    let referenceMs = 0;
    if (options.reference !== undefined) {
      progress({ phase: 'reference', message: 'evaluating A in float64 (reference)' });
      const tr = performance.now();
      // With --bisect, keep every intermediate: bisection then judges each against float64.
      const run = await options.reference.evaluate(a, feeds, { externalDataDir: options.sessionOptions?.externalDataDir, ...(options.bisect ? { extraOutputs: 'all' as const } : {}) });
      if (run.ok && run.extra !== undefined) referenceValues = run.extra;
      referenceMs = performance.now() - tr;
      const budgets = { maxError: options.maxError, minSqnrDb: options.minSqnrDb };
      const rule = { k: REFERENCE_RULE.k, ulps: REFERENCE_RULE.ulps, text: ruleText(budgets), maxError: options.maxError ?? null, minSqnrDb: options.minSqnrDb ?? null };
      if (run.ok) {
        const tj = performance.now();
        const names = sa.outputs.map((o) => o.name);
        const outputs = names.map((name) => judgeOutput(name, run.outputs.get(name), ra.outputs.get(name)!, rb.outputs.get(name)!, budgets));
        compareMs += performance.now() - tj;
        judgement = { basis: 'reference', unavailable: null, rule, outputs, ms: run.ms };
      } else {
        if (user) {
          throw new VerifyError(`--max-error/--min-sqnr need the float64 reference, which cannot evaluate ${run.node}: ${run.reason}`, { code: 'VERIFY_NO_REFERENCE', hint: 'drop --max-error/--min-sqnr to use the fixed tolerance' });
        }
        judgement = { basis: 'fixed-tolerance', unavailable: { node: run.node, op: run.op, reason: run.reason }, rule, outputs: [], ms: run.ms };
      }
    }
    const v = verdictOf(cmp, judgement?.basis === 'reference' ? judgement.outputs : null, user);

    const report: VerifyReport = {
      equivalent: v.equivalent,
      verdict: v.verdict,
      reference: judgement,
      reason: v.reason,
      models: { a: la, b: lb },
      outputs: cmp.outputs,
      compared: cmp.compared,
      inputs,
      tolerance: { atol: options.atol ?? null, rtol: options.rtol ?? null, perOutput: { ...options.perOutput } },
      timings: { createMs: { a: sa.createMs, b: sb.createMs }, runMs: { a: ra.ms, b: rb.ms }, compareMs, referenceMs, totalMs: 0 },
    };

    if (options.bisect && !report.equivalent && cmp.compared > 0) {
      // The sessions' memory is not needed while bisecting.
      await sa.release();
      await sb.release();
      const tb = performance.now();
      const bo = typeof options.bisect === 'object' ? options.bisect : {};
      const res = await bisectModels(a, b, feeds, {
        ...bo,
        atol: options.atol,
        rtol: options.rtol,
        ...(judgement?.basis === 'reference' && referenceValues !== undefined ? { reference: referenceValues } : {}),
        worker,
        labels: { a: la, b: lb },
        sessionOptions: { ...sessionOptions, worker },
        onProgress: (p) => progress({ phase: 'bisect', message: `bisect: chunk ${p.chunk} of ${p.chunks}, ${p.valuesChecked} of ${p.candidates} shared values matched so far`, done: p.chunk, total: p.chunks }),
      });
      report.firstDivergence = res.firstDivergence;
      report.bisect = { candidates: res.candidates, valuesChecked: res.valuesChecked, chunks: res.chunks, skipped: res.skipped, ms: performance.now() - tb };
    } else if (options.bisect) {
      report.firstDivergence = null;
    }

    if (options.bench) {
      const bo = typeof options.bench === 'object' ? options.bench : typeof options.bench === 'number' ? { iterations: options.bench } : {};
      const ba = sa.released ? await createSession(a, { ...sessionOptions, worker, label: la }) : sa;
      A.session = ba;
      const bb = sb.released ? await createSession(b, { ...sessionOptions, worker, label: lb }) : sb;
      B.session = bb;
      const pair = await benchPair(ba, bb, {
        iterations: bo.iterations ?? 20,
        warmup: bo.warmup ?? 3,
        inputs: feeds,
        // (a second session of A, made with A's options: the band a difference must pass)
        controlModel: a,
        onProgress: (p) => progress({ phase: 'bench', message: `bench ${p.phase} ${p.done}/${p.total}`, done: p.done, total: p.total }),
      });
      report.latency = {
        a: pair.a.latency,
        b: pair.b.latency,
        ratio: pair.ratio.median,
        ratioStats: pair.ratio,
        iterations: pair.a.iterations,
        warmup: pair.a.warmup,
        threads: ba.options.intraOpNumThreads,
        graphOptimizationLevel: ba.options.graphOptimizationLevel,
      };
    }
    report.timings.totalMs = performance.now() - t0;
    progress({ phase: 'done', message: report.equivalent ? report.verdict : `not equivalent: ${report.reason}` });
    return report;
  } finally {
    await A.session?.release().catch(() => undefined);
    await B.session?.release().catch(() => undefined);
    await Promise.all(spares.map((w) => w.terminate()));
  }
}

export interface RunModelOptions {
  /** Input files, used when no feeds are given. */
  inputFiles?: readonly InputFile[];
  /** Synthetic input options, used when neither feeds nor files are given. */
  synthetic?: SyntheticOptions;
  /** Outputs to fetch (default: all). */
  outputNames?: readonly string[];
  /** Intra-op threads (default 1). */
  threads?: number;
  /** Default 'disabled'. */
  graphOptimizationLevel?: GraphOptimizationLevel;
  sessionOptions?: SessionOptions;
}

/**
 * Runs a model once and returns its outputs (by name, in output order). Inputs: `feeds`, else
 * `options.inputFiles`, else seeded synthetic inputs. Save the outputs with `writeNpz`.
 */
export async function runModel(model: Model | string, feeds?: Feeds, options: RunModelOptions = {}): Promise<Map<string, Tensor>> {
  const s = await createSession(model, {
    ...options.sessionOptions,
    intraOpNumThreads: options.threads ?? options.sessionOptions?.intraOpNumThreads ?? 1,
    graphOptimizationLevel: options.graphOptimizationLevel ?? options.sessionOptions?.graphOptimizationLevel ?? 'disabled',
  });
  try {
    const f =
      feeds !== undefined
        ? feedsToMap(feeds)
        : options.inputFiles !== undefined && options.inputFiles.length > 0
          ? loadInputs(options.inputFiles, s, { label: s.label })
          : syntheticInputs(s, options.synthetic);
    return await s.run(f, options.outputNames);
  } finally {
    await s.release();
  }
}
