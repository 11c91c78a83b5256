/**
 * Latency and throughput: warm-up runs, then N timed runs; two models are timed interleaved
 * (A B A B …) so machine drift hits both alike, and the per-pair ratio B/A is summarised.
 * Times are measured inside the worker around `InferenceSession.run` (message passing is not
 * counted). Benchmarks never go into unit tests; only their structure is tested.
 */
import type { Model, Tensor } from '@onnxkit/graph';
import { isChildDeath, ModelCrashError, RuntimeError, VerifyError } from './errors.js';
import type { ProfileSummary } from './profile.js';
import { createSession, type GraphOptimizationLevel, type RuntimeSession, type SessionOptions } from './session.js';
import { syntheticInputs, type SyntheticOptions } from './synthetic.js';
import { defaultWorker, RuntimeWorker } from './worker-client.js';

export interface LatencyStats {
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  meanMs: number;
  minMs: number;
  maxMs: number;
  stdMs: number;
}

export interface BatchInfo {
  /** The batch size actually run. */
  size: number;
  /** Whether the batch dim is symbolic (so `batch` could bind it). */
  symbolic: boolean;
  /** Why the requested batch could not be used, if so. */
  note: string | null;
}

export interface BenchProgress {
  phase: 'load' | 'warmup' | 'run' | 'profile';
  model: string;
  done: number;
  total: number;
}

export interface BenchOptions {
  /** Untimed runs first (default 5). */
  warmup?: number;
  /** Timed runs (default 50). */
  iterations?: number;
  /** Intra-op threads for sessions this creates (default 1). */
  threads?: number;
  /** Batch size: binds a symbolic leading dim of the inputs. */
  batch?: number;
  /** Feeds to use (default: seeded synthetic inputs). */
  inputs?: ReadonlyMap<string, Tensor>;
  /** Options for the synthetic inputs (seed, shapes, ...). */
  synthetic?: SyntheticOptions;
  /** For sessions this creates; default 'all' (deployment speed). */
  graphOptimizationLevel?: GraphOptimizationLevel;
  /** Record ORT's per-node profile during the timed runs (sessions this creates only). */
  profile?: boolean;
  /** Extra session options for sessions this creates. */
  sessionOptions?: SessionOptions;
  /**
   * benchPair: also time a second onnxruntime session of A in the same rotation, and claim a
   * difference between A and B only beyond what separates A from itself (RatioStats.noiseFloor).
   * Default true; off, or when A is a session the caller made and no controlModel is given, the
   * verdict rests on B/A's interval alone.
   */
  control?: boolean;
  /**
   * benchPair, when A is a session the caller made: the model it was made from, for the control
   * (a second session made with A's options). Without it there is no control for such an A.
   */
  controlModel?: Model | string;
  onProgress?: (p: BenchProgress) => void;
}

export interface BenchResult {
  model: string;
  iterations: number;
  warmup: number;
  threads: number;
  /**
   * Whether onnxruntime's intra-op threads busy-wait between runs (`session.intra_op.allow_spinning`).
   * False for the sessions benchPair creates: with more than one thread, the idle model's spinning
   * threads would take the cores from the other model's run.
   */
  allowSpinning: boolean;
  graphOptimizationLevel: GraphOptimizationLevel;
  batch: BatchInfo;
  /** The dims of every input as timed. */
  inputShapes: Record<string, number[]>;
  /**
   * Symbolic or unknown input dims past the leading (batch) one that nothing bound (no
   * inputShapes, dimValues or given inputs), so they were timed at the synthetic default 1, e.g.
   * `x[2] (seq)`: the latency is then that of a degenerate input, not of the model's real one.
   */
  defaultedDims: string[];
  latency: LatencyStats;
  /** Inferences per second: batch × runs / total run time. */
  throughput: number;
  samplesMs: number[];
  profile?: ProfileSummary;
}

/** The one confidence level of every speed-up onnxkit prints (CLI, JSON, report). */
export const CONFIDENCE_LEVEL = 0.95;

/** The one definition of a speed-up, printed next to it wherever it appears. */
export const SPEEDUP_DEFINITION =
  'B/A = the median over interleaved pairs (A B A B …, the order alternating) of B time / A time, with a distribution-free 95% confidence interval of that median (binomial order statistics); < 1: B is faster';

export interface RatioStats {
  /** Median over pairs of B time / A time (> 1: B is slower). */
  median: number;
  p10: number;
  p90: number;
  mean: number;
  /**
   * Distribution-free confidence interval of the median ratio (binomial order statistics: no
   * assumption about the shape of the timing noise). `level` is its exact coverage, ≥ 0.95 when
   * there are at least 6 pairs (fewer pairs cannot reach 95%: the interval is then min–max).
   */
  ci: {
    low: number;
    high: number;
    /** The nominal level, always CONFIDENCE_LEVEL (0.95): the number printed everywhere. */
    level: number;
    /** The exact coverage of the order-statistic interval (≥ level when `reached`). */
    coverage: number;
    /** False with fewer than 6 pairs: no interval reaches 95% (it is then min–max). */
    reached: boolean;
  };
  /** SPEEDUP_DEFINITION. */
  definition: string;
  /**
   * What separates A from itself (benchPair's control: a second session of the same model, timed
   * in the same rotation): max(high, 1/low) of the control's ratio interval, ≥ 1. Two sessions of
   * one model differ systematically (where their memory lands, how their threads are scheduled):
   * on a busy 2-core machine a model against its own copy gave ×0.64 with a 95% interval of
   * ×0.57–×0.73, which B/A's interval alone called faster. Infinity (null in JSON) when the
   * control had too few rounds for an interval; absent without a control.
   */
  noiseFloor?: number;
  /**
   * 'faster' when the whole interval is below 1, 'slower' when it is above 1, otherwise 'same':
   * no difference shown beyond the run-to-run noise — also when there are too few pairs (< 6)
   * for a 95% interval.
   */
  verdict: 'faster' | 'slower' | 'same';
}

export interface BenchPairResult {
  a: BenchResult;
  b: BenchResult;
  /** Per-pair B/A. */
  ratio: RatioStats;
  /** p50(B) / p50(A), for reference. */
  p50Ratio: number;
}

/** Linear-interpolated quantile of sorted values. */
function quantileSorted(s: readonly number[], q: number): number {
  if (s.length === 0) return 0;
  const pos = (s.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return s[lo]! + (s[hi]! - s[lo]!) * (pos - lo);
}

export function latencyStats(samples: readonly number[]): LatencyStats {
  const s = [...samples].sort((x, y) => x - y);
  const n = s.length;
  const mean = n > 0 ? s.reduce((p, x) => p + x, 0) / n : 0;
  const variance = n > 1 ? s.reduce((p, x) => p + (x - mean) ** 2, 0) / (n - 1) : 0;
  return {
    p50Ms: quantileSorted(s, 0.5),
    p90Ms: quantileSorted(s, 0.9),
    p99Ms: quantileSorted(s, 0.99),
    meanMs: mean,
    minMs: n > 0 ? s[0]! : 0,
    maxMs: n > 0 ? s[n - 1]! : 0,
    stdMs: Math.sqrt(variance),
  };
}

export function ratioStats(ratios: readonly number[]): RatioStats {
  const s = [...ratios].sort((x, y) => x - y);
  const interval = medianInterval(s, CONFIDENCE_LEVEL);
  const reached = interval.level >= CONFIDENCE_LEVEL;
  const ci = { low: interval.low, high: interval.high, level: CONFIDENCE_LEVEL, coverage: interval.level, reached };
  return {
    median: quantileSorted(s, 0.5),
    p10: quantileSorted(s, 0.1),
    p90: quantileSorted(s, 0.9),
    mean: s.length > 0 ? s.reduce((p, x) => p + x, 0) / s.length : 0,
    ci,
    definition: SPEEDUP_DEFINITION,
    verdict: !reached ? 'same' : ci.high < 1 ? 'faster' : ci.low > 1 ? 'slower' : 'same',
  };
}

/**
 * B/A's stats judged against the control's (C/A, C a second session of A): a difference is
 * claimed only when B/A's whole interval lies beyond the band [1/floor, floor] that A's two
 * sessions span (floor = max(C/A's high, 1/low)).
 */
export function withNoiseFloor(r: RatioStats, control: RatioStats): RatioStats {
  const floor = control.ci.reached ? Math.max(1, control.ci.high, 1 / control.ci.low) : Infinity;
  const verdict = !r.ci.reached || !Number.isFinite(floor) ? 'same' : r.ci.high < 1 / floor ? 'faster' : r.ci.low > floor ? 'slower' : 'same';
  return { ...r, noiseFloor: floor, verdict };
}

/**
 * The speed-up as every output prints it: "×0.890 (95% CI ×0.871–×0.905, median of 50 interleaved
 * pair ratios)". One formatter so the CLI, the report and the logs cannot disagree.
 */
export function formatSpeedup(r: Pick<RatioStats, 'median' | 'ci' | 'noiseFloor'>, pairs: number): string {
  const x = (v: number) => `×${v.toFixed(3)}`;
  const interval = r.ci.reached ? `${Math.round(r.ci.level * 100)}% CI ${x(r.ci.low)}–${x(r.ci.high)}` : `too few pairs (${pairs}) for a ${Math.round(r.ci.level * 100)}% interval`;
  const floor = r.noiseFloor === undefined ? '' : Number.isFinite(r.noiseFloor) ? `; A against a second session of A: within ×${(1 / r.noiseFloor).toFixed(3)}–×${r.noiseFloor.toFixed(3)}` : '; A against a second session of A: too few pairs';
  return `${x(r.median)} (${interval}, median of ${pairs} interleaved pair ratios${floor})`;
}

/**
 * The p50s to print next to a speed-up so that they agree with it: A's measured p50 and A's p50 ×
 * the speed-up. `bMeasured` is B's own p50; `consistent` is false when p50(B)/p50(A) falls outside
 * the interval (the two distributions differ in shape; the speed-up is still the median of pairs).
 */
export function pairedP50(aP50Ms: number, bP50Ms: number, r: Pick<RatioStats, 'median' | 'ci'>): { aMs: number; bMs: number; bMeasuredMs: number; consistent: boolean } {
  const p50Ratio = aP50Ms > 0 ? bP50Ms / aP50Ms : r.median;
  return { aMs: aP50Ms, bMs: aP50Ms * r.median, bMeasuredMs: bP50Ms, consistent: p50Ratio >= r.ci.low && p50Ratio <= r.ci.high };
}

/**
 * The confidence interval of the median of sorted samples from order statistics: the k-th
 * smallest and k-th largest, for the largest k whose coverage 1 − 2·P(Bin(n, ½) < k) is still
 * ≥ `level` (k = 1, min–max, when n is too small to reach it).
 */
export function medianInterval(sorted: readonly number[], level: number): { low: number; high: number; level: number } {
  const n = sorted.length;
  if (n === 0) return { low: 0, high: 0, level: 0 };
  // cdf[j] = P(Bin(n, ½) ≤ j), summed in log space so large n does not overflow.
  const logHalfN = -n * Math.LN2;
  let logC = 0; // log C(n, j)
  let below = 0; // P(Bin < k)
  let k = 1;
  let coverage = 1 - 2 * Math.exp(logHalfN); // k = 1: P(Bin < 1) = P(Bin = 0)
  for (let j = 0; j < Math.floor(n / 2); j++) {
    below += Math.exp(logC + logHalfN); // adds P(Bin = j): below = P(Bin ≤ j) = P(Bin < j + 1)
    const next = 1 - 2 * below;
    if (j + 1 > 1 && next < level) break;
    if (j + 1 > 1) {
      k = j + 1;
      coverage = next;
    }
    logC += Math.log(n - j) - Math.log(j + 1);
  }
  return { low: sorted[k - 1]!, high: sorted[n - k]!, level: Math.max(0, coverage) };
}

function checkCount(name: string, v: number, min: number): void {
  if (!Number.isInteger(v) || v < min) throw new VerifyError(`${name} must be an integer >= ${min}, got ${v}`, { code: 'VERIFY_BAD_OPTION' });
}

/** Works out the batch binding for a session's inputs. */
export function planBatch(session: RuntimeSession, batch: number | undefined): { batch: BatchInfo; synthetic: Pick<SyntheticOptions, 'dimValues' | 'inputShapes'> } {
  const lead = session.inputs.filter((m) => m.isTensor && m.shape !== null && m.shape.length > 0);
  const first = lead[0]?.shape?.[0];
  const symbolic = lead.length > 0 && typeof first !== 'number';
  if (batch === undefined) return { batch: { size: typeof first === 'number' ? first : 1, symbolic, note: null }, synthetic: {} };
  checkCount('batch', batch, 1);
  if (lead.length === 0) return { batch: { size: 1, symbolic: false, note: 'the model has no batched inputs; batch ignored' }, synthetic: {} };
  const fixed = lead.find((m) => typeof m.shape![0] === 'number');
  if (fixed !== undefined) {
    const size = fixed.shape![0] as number;
    return {
      batch: { size, symbolic: false, note: size === batch ? null : `batch cannot change: input '${fixed.name}' has a static leading dim ${size}` },
      synthetic: {},
    };
  }
  const dimValues: Record<string, number> = {};
  const inputShapes: Record<string, number[]> = {};
  for (const m of lead) {
    const d = m.shape![0];
    if (typeof d === 'string') dimValues[d] = batch;
    else inputShapes[m.name] = m.shape!.map((x, i) => (i === 0 ? batch : typeof x === 'number' ? x : 1));
  }
  return { batch: { size: batch, symbolic: true, note: null }, synthetic: { dimValues, inputShapes } };
}

interface Target {
  session: RuntimeSession;
  owned: boolean;
  feeds: ReadonlyMap<string, Tensor>;
  batch: BatchInfo;
  defaultedDims: string[];
}

/**
 * The batch as run: a symbolic leading dim takes the size of the tensor fed to it (bound by
 * `--dim N=8`, `--input-shape x=8x…` or given inputs, not only by `batch`), so the throughput
 * counts every sample of a run.
 */
function fedBatch(session: RuntimeSession, batch: BatchInfo, feeds: ReadonlyMap<string, Tensor>): BatchInfo {
  if (!batch.symbolic) return batch;
  const lead = session.inputs.find((m) => m.isTensor && m.shape !== null && m.shape.length > 0 && typeof m.shape[0] !== 'number');
  const fed = lead === undefined ? undefined : feeds.get(lead.name)?.dims[0];
  return fed === undefined || fed === batch.size ? batch : { ...batch, size: fed };
}

/** Non-leading symbolic/unknown dims of the inputs that neither inputShapes nor dimValues bind. */
function defaultedDims(session: RuntimeSession, synthetic: Pick<SyntheticOptions, 'inputShapes' | 'dimValues'>): string[] {
  const out: string[] = [];
  for (const m of session.inputs) {
    if (!m.isTensor || m.shape === null || synthetic.inputShapes?.[m.name] !== undefined) continue;
    m.shape.forEach((d, i) => {
      if (i === 0 || typeof d === 'number') return;
      if (typeof d === 'string' && synthetic.dimValues?.[d] !== undefined) return;
      out.push(`${m.name}[${i}]${typeof d === 'string' ? ` (${d})` : ''}`);
    });
  }
  return out;
}

/** A session the caller made (not a model or a path this module makes one of). */
function isSession(m: Model | string | RuntimeSession): m is RuntimeSession {
  return typeof m === 'object' && 'runTimed' in m;
}

async function prepare(model: Model | string | RuntimeSession, options: BenchOptions, worker: RuntimeWorker | undefined, feeds?: ReadonlyMap<string, Tensor>, pair = false): Promise<Target> {
  let session: RuntimeSession;
  let owned = false;
  if (isSession(model)) session = model;
  else {
    options.onProgress?.({ phase: 'load', model: typeof model === 'string' ? model : 'model', done: 0, total: 1 });
    session = await createSession(model, {
      ...options.sessionOptions,
      intraOpNumThreads: options.threads ?? options.sessionOptions?.intraOpNumThreads ?? 1,
      graphOptimizationLevel: options.graphOptimizationLevel ?? options.sessionOptions?.graphOptimizationLevel ?? 'all',
      enableProfiling: options.profile ?? false,
      // Two sessions take turns: neither may keep the cores busy-waiting while the other runs.
      ...(pair ? { allowSpinning: false } : {}),
      worker: worker ?? options.sessionOptions?.worker,
    });
    owned = true;
  }
  const plan = planBatch(session, options.batch);
  const synthetic = { ...options.synthetic, ...plan.synthetic, dimValues: { ...options.synthetic?.dimValues, ...plan.synthetic.dimValues }, inputShapes: { ...options.synthetic?.inputShapes, ...plan.synthetic.inputShapes } };
  const given = options.inputs ?? feeds;
  const f = given ?? syntheticInputs(session, synthetic);
  return { session, owned, feeds: f, batch: fedBatch(session, plan.batch, f), defaultedDims: given !== undefined ? [] : defaultedDims(session, synthetic) };
}

function result(t: Target, samples: number[], warmup: number, profile?: ProfileSummary): BenchResult {
  const latency = latencyStats(samples);
  const total = samples.reduce((p, x) => p + x, 0);
  return {
    model: t.session.label,
    iterations: samples.length,
    warmup,
    threads: t.session.options.intraOpNumThreads,
    allowSpinning: t.session.options.allowSpinning,
    graphOptimizationLevel: t.session.options.graphOptimizationLevel,
    batch: t.batch,
    inputShapes: Object.fromEntries([...t.feeds].map(([name, v]) => [name, [...v.dims]])),
    defaultedDims: t.defaultedDims,
    latency,
    throughput: total > 0 ? (t.batch.size * samples.length * 1000) / total : 0,
    samplesMs: samples,
    ...(profile ? { profile } : {}),
  };
}

async function finish(t: Target, profile: boolean): Promise<ProfileSummary | undefined> {
  try {
    if (profile && t.owned) return await t.session.endProfiling();
    return undefined;
  } finally {
    if (t.owned) await t.session.release();
  }
}

/** Benchmarks one model (a path, a Model, or an existing session). */
export async function benchModel(model: Model | string | RuntimeSession, options: BenchOptions = {}): Promise<BenchResult> {
  const warmup = options.warmup ?? 5;
  const iterations = options.iterations ?? 50;
  checkCount('warmup', warmup, 0);
  checkCount('iterations', iterations, 1);
  const t = await prepare(model, options, undefined);
  const samples: number[] = [];
  let failed = true;
  try {
    for (let i = 0; i < warmup; i++) {
      await t.session.runTimed(t.feeds);
      options.onProgress?.({ phase: 'warmup', model: t.session.label, done: i + 1, total: warmup });
    }
    for (let i = 0; i < iterations; i++) {
      samples.push((await t.session.runTimed(t.feeds)).ms);
      options.onProgress?.({ phase: 'run', model: t.session.label, done: i + 1, total: iterations });
    }
    failed = false;
  } finally {
    if (failed && t.owned) await t.session.release().catch(() => undefined);
  }
  const profile = await finish(t, options.profile ?? false);
  return result(t, samples, warmup, profile);
}

/**
 * benchPair when onnxruntime crashed (or timed out) on one model: the crash's one line naming that
 * model, and the other model benchmarked alone in a fresh child (`survivor`; null when it could
 * not be: it crashed too, or it was a session living in the dead child).
 */
export class BenchCrashError extends ModelCrashError<BenchResult> {}

/**
 * Benchmarks two models interleaved (A B, B A, A B … — the order alternates) with the same
 * inputs, and summarises the per-pair ratios B/A with a confidence interval of their median.
 * Sessions this creates share one worker, so they never run at the same time. When onnxruntime
 * dies on one model, the other is benchmarked alone in a fresh child and a BenchCrashError
 * carries its result.
 */
export async function benchPair(a: Model | string | RuntimeSession, b: Model | string | RuntimeSession, options: BenchOptions = {}): Promise<BenchPairResult> {
  const at: { side: 'A' | 'B' } = { side: 'A' };
  try {
    return await interleaved(a, b, options, at);
  } catch (e) {
    if (!isChildDeath(e)) throw e;
    const side = at.side;
    const other = side === 'A' ? b : a;
    const otherLabel = side === 'A' ? 'B' : 'A';
    if (isSession(other)) throw new BenchCrashError(e, side, null, null);
    const given = options.sessionOptions?.worker;
    const spare = given !== undefined ? new RuntimeWorker() : undefined;
    let survivor: BenchResult;
    try {
      survivor = await benchModel(other, { ...options, sessionOptions: { ...options.sessionOptions, worker: spare ?? defaultWorker() } });
    } catch (e2) {
      if (!isChildDeath(e2)) throw e2;
      throw new BenchCrashError(e, side, null, `${otherLabel} (${e2.model ?? 'the other model'}) crashed onnxruntime too`);
    } finally {
      await spare?.terminate();
    }
    throw new BenchCrashError(e, side, survivor, `${survivor.model}, benchmarked alone, ran without a crash`);
  }
}

/** Run orders of a round: A B and B A alternate; with the control C, the six orders of A B C. */
const ORDER_AB = [0, 1] as const;
const ORDER_BA = [1, 0] as const;
const ORDERS3 = [
  [0, 1, 2],
  [1, 2, 0],
  [2, 0, 1],
  [2, 1, 0],
  [1, 0, 2],
  [0, 2, 1],
] as const;

async function interleaved(a: Model | string | RuntimeSession, b: Model | string | RuntimeSession, options: BenchOptions, at: { side: 'A' | 'B' }): Promise<BenchPairResult> {
  const warmup = options.warmup ?? 5;
  const iterations = options.iterations ?? 50;
  checkCount('warmup', warmup, 0);
  checkCount('iterations', iterations, 1);
  const worker = options.sessionOptions?.worker ?? defaultWorker();
  let ta: Target | undefined;
  let tb: Target | undefined;
  let tc: Target | undefined;
  // Which model is in onnxruntime right now, so a crash is blamed on the right one.
  const on = <T>(side: 'A' | 'B', p: () => Promise<T>): Promise<T> => {
    at.side = side;
    return p();
  };
  try {
    ta = await on('A', () => prepare(a, options, worker, undefined, true));
    const fa = ta.feeds;
    tb = await on('B', () => prepare(b, options, worker, fa, true));
    // The control: a second session of A, fed A's inputs, made as A's (profiled when A is: a
    // profiled A against an unprofiled control measured the profiler, a band of ×0.88–×1.13 at
    // ORT `disabled` that hid a real ×0.90); see RatioStats.noiseFloor.
    if (options.control ?? true) {
      if (!isSession(a)) tc = await on('A', () => prepare(a, options, worker, fa, true));
      else if (options.controlModel !== undefined) {
        const given = a;
        const o = given.options;
        const like: BenchOptions = {
          ...options,
          threads: o.intraOpNumThreads,
          graphOptimizationLevel: o.graphOptimizationLevel,
          profile: o.enableProfiling,
          sessionOptions: { ...options.sessionOptions, interOpNumThreads: o.interOpNumThreads, allowSpinning: o.allowSpinning },
        };
        tc = await on('A', () => prepare(options.controlModel!, like, given.worker, fa, false));
      }
    }
    // B runs A's inputs: whatever A left at the default, B was timed at too.
    if (options.inputs === undefined) tb.defaultedDims = ta.defaultedDims;
    const xa = ta;
    const xb = tb;
    const runA = async (): Promise<number> => (await on('A', () => xa.session.runTimed(xa.feeds))).ms;
    const runB = async (): Promise<number> => (await on('B', () => xb.session.runTimed(xb.feeds))).ms;
    const xc = tc;
    const runC = async (): Promise<number> => (xc === undefined ? NaN : (await on('A', () => xc.session.runTimed(xc.feeds))).ms);
    const sa: number[] = [];
    const sb: number[] = [];
    const ratios: number[] = [];
    const controlRatios: number[] = [];
    for (let i = 0; i < warmup; i++) {
      await runA();
      await runB();
      if (xc) await runC();
      options.onProgress?.({ phase: 'warmup', model: `${ta.session.label} / ${tb.session.label}`, done: i + 1, total: warmup });
    }
    const times = [0, 0, 0];
    const runs = [runA, runB, runC];
    for (let i = 0; i < iterations; i++) {
      // A B, then B A (with the control, the six orders of A B C in turn): whichever runs later
      // in a round may find caches warmer or the CPU clocked differently; rotating the order
      // cancels that bias out of the ratios.
      const order = xc ? ORDERS3[i % 6]! : i % 2 === 0 ? ORDER_AB : ORDER_BA;
      for (const k of order) times[k] = await runs[k]!();
      const x = times[0]!;
      const y = times[1]!;
      sa.push(x);
      sb.push(y);
      ratios.push(x > 0 ? y / x : NaN);
      if (xc) controlRatios.push(x > 0 ? times[2]! / x : NaN);
      options.onProgress?.({ phase: 'run', model: `${ta.session.label} / ${tb.session.label}`, done: i + 1, total: iterations });
    }
    const pa = await on('A', () => finish(xa, options.profile ?? false));
    const pb = await on('B', () => finish(xb, options.profile ?? false));
    if (xc) await on('A', () => finish(xc, options.profile ?? false)); // (its profile is not used)
    tc = undefined;
    const ra = result(ta, sa, warmup, pa);
    const rb = result(tb, sb, warmup, pb);
    ta = undefined;
    tb = undefined;
    const finite = ratios.filter((r) => Number.isFinite(r));
    if (finite.length === 0) throw new RuntimeError('every timed run of A took 0 ms; cannot form ratios', { code: 'RUNTIME_BENCH_TIMER', step: 'bench' });
    let ratio = ratioStats(finite);
    if (xc) ratio = withNoiseFloor(ratio, ratioStats(controlRatios.filter((r) => Number.isFinite(r))));
    return { a: ra, b: rb, ratio, p50Ratio: ra.latency.p50Ms > 0 ? rb.latency.p50Ms / ra.latency.p50Ms : 0 };
  } finally {
    if (ta?.owned) await ta.session.release().catch(() => undefined);
    if (tb?.owned) await tb.session.release().catch(() => undefined);
    if (tc?.owned) await tc.session.release().catch(() => undefined);
  }
}
