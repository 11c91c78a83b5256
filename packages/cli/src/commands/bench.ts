/**
 * `onnxkit bench MODEL [--vs OTHER]`: latency percentiles and throughput in onnxruntime, two
 * models interleaved (A B A B …) so machine drift cancels, and with `--profile` ORT's per-node
 * times next to the roofline estimate of each layer.
 */
import { analyzeModel } from '@onnxkit/passes';
import { BenchCrashError, benchModel, benchPair, compareWithRoofline, formatSpeedup, pairedP50, type BenchPairResult, type BenchProgress, type BenchResult, type RooflineComparison } from '@onnxkit/runtime';
import { checkDeviceName, resolveDeviceOrCalibrate } from '../devices.js';
import { checkDimSymbols, DEVICE_DEFAULTS, inputShapesWithDims, numericInputShapes, parseDimValues } from '../options.js';
import { fmtDuration, fmtInt, fmtNum, outputMode, paint, Progress, table, type OutputMode, type StepHandle } from '../ui.js';
import { loadModel } from '../limits.js';
import { CliError } from '../errors.js';
import { analysisMemory } from '../memory.js';
import type { OptionsOf } from '../definitions.js';

/** The options of `onnxkit bench`, as its definition (definitions.ts) makes commander parse them. */
export type BenchCliOptions = OptionsOf<'bench'>;

export default async function bench(file: string, opts: BenchCliOptions): Promise<number> {
  const mode = outputMode(opts);
  const inputShapes = numericInputShapes(opts);
  const dimValues = parseDimValues(opts.dim);
  if (file === '-' && opts.vs === '-') throw new CliError('only one of the two models can come from stdin (-)');
  // --device is the roofline's, which only --profile computes: refused without it (it was
  // ignored), and a bad name refused before the model is loaded and timed.
  if (opts.device !== undefined && opts.profile !== true) throw new CliError('--device applies to --profile (the roofline estimate next to the measured profile)', { hint: `onnxkit bench MODEL --profile --device ${opts.device}` });
  if (opts.device !== undefined) checkDeviceName(opts.device);
  // A model from stdin goes to onnxruntime as the decoded model, not as a path.
  const model = file === '-' ? loadModel(file) : file;
  const vs = opts.vs === '-' ? loadModel(opts.vs) : opts.vs;
  if (dimValues) {
    // A --dim symbol must be one the models use (a structure-only read of a model given by path).
    for (const m of [model, vs]) if (m !== undefined) checkDimSymbols(typeof m === 'string' ? loadModel(m, { lazy: true }) : m, opts);
  }
  const progress = new Progress(mode);
  const common = {
    iterations: opts.iterations,
    warmup: opts.warmup,
    threads: opts.threads,
    ...(opts.batch !== undefined ? { batch: opts.batch } : {}),
    graphOptimizationLevel: opts.ortOpt,
    synthetic: {
      seed: opts.seed,
      ...(inputShapes ? { inputShapes } : {}),
      ...(dimValues ? { dimValues } : {}),
    },
  };
  let step: StepHandle | undefined;
  let key = '';
  // The label names what the bar counts: with --vs one tick is an interleaved pair (two runs),
  // which is also what the result's "median of N interleaved pair ratios" counts.
  const unit = (phase: BenchProgress['phase']): string => (phase === 'load' ? '' : vs !== undefined ? 'pairs' : 'runs');
  const onProgress = (p: BenchProgress): void => {
    const k = `${p.phase}:${p.model}`;
    if (k !== key) {
      step?.done();
      key = k;
      const what = p.phase === 'load' ? 'load' : p.phase === 'warmup' ? 'warm up' : p.phase === 'run' ? 'time' : p.phase;
      step = progress.step(`${what} ${p.model}${unit(p.phase) ? ` (${p.total} ${unit(p.phase)})` : ''}`);
    }
    if (p.total) step?.update(p.done / p.total, `${p.done}/${p.total}${unit(p.phase) ? ` ${unit(p.phase)}` : ''}`);
  };

  if (vs !== undefined) {
    let r: BenchPairResult;
    try {
      r = await benchPair(model, vs, { ...common, onProgress });
    } catch (e) {
      // onnxruntime crashed on one model: the other one's timings (benchmarked alone), then the one-line error.
      if (e instanceof BenchCrashError) {
        step?.done();
        const crashed = { side: e.side, model: e.model ?? null, step: e.step ?? null, code: e.code, error: e.message };
        if (mode.json) process.stdout.write(JSON.stringify({ crashed, survivor: e.survivor }, null, 2) + '\n');
        else if (e.survivor !== null) process.stdout.write(`${formatBench([e.survivor], mode)}\n${e.side === 'A' ? 'B' : 'A'} benchmarked alone (${e.side} crashed onnxruntime)\n`);
      }
      throw e;
    }
    step?.done();
    if (mode.json) {
      process.stdout.write(JSON.stringify(r, null, 2) + '\n');
    } else {
      process.stdout.write(formatBench([r.a, r.b], mode) + '\n\n');
      process.stdout.write(
        `${speedupLine(r)} — ${verdictText(mode, r.ratio.verdict, opts.vs!)}\n`,
      );
    }
    return 0;
  }

  const r = await benchModel(model, { ...common, profile: opts.profile === true, onProgress });
  step?.done();
  let roofline: RooflineComparison | undefined;
  if (r.profile) {
    const s = progress.step('roofline estimate');
    const device = await resolveDeviceOrCalibrate(opts.device ?? DEVICE_DEFAULTS.bench, r.threads);
    const m = typeof model === 'string' ? loadModel(model) : model;
    const shapes = inputShapesWithDims(m, opts);
    const analysis = analyzeModel(m, { device, ...(shapes ? { inputShapes: shapes } : {}), memory: analysisMemory() });
    roofline = compareWithRoofline(r.profile, analysis, { level: r.graphOptimizationLevel });
    s.done(device.title);
  }
  if (mode.json) {
    process.stdout.write(JSON.stringify({ ...r, ...(roofline ? { roofline } : {}) }, null, 2) + '\n');
    return 0;
  }
  process.stdout.write(formatBench([r], mode) + '\n');
  if (r.profile) {
    const p = r.profile;
    process.stdout.write(`\n${paint(mode, 'bold', 'per op type')} (ORT profile, ${p.runs} runs; kernels ${fmtNum(p.kernelUs / Math.max(1, p.totalRunUs) * 100, 1)}% of run time)\n`);
    process.stdout.write(
      table(
        ['op', 'nodes', 'mean µs/run', '%'],
        p.byOpType.map((o) => [o.opType, fmtInt(o.nodes), fmtNum(o.totalUs / Math.max(1, p.runs), 1), fmtNum(o.percent, 1)]),
        mode,
      ) + '\n',
    );
  }
  if (roofline) {
    // Furthest from the roof first: measured / as-executed estimate, descending.
    const rows = roofline.rows.filter((x) => x.ratio !== null).sort((x, y) => y.ratio! - x.ratio!).slice(0, 25);
    process.stdout.write(`\n${paint(mode, 'bold', `layers furthest from their roof: measured vs roofline as ORT executes it (${roofline.level})`)}\n`);
    process.stdout.write(
      table(
        ['layer', 'op', 'measured µs', 'estimate µs', 'measured/estimate', 'bound'],
        rows.map((x) => [x.name, x.opType, x.measuredUs === null ? '—' : fmtNum(x.measuredUs, 1), x.estimatedAsExecutedUs === null ? '—' : fmtNum(x.estimatedAsExecutedUs, 1), x.ratio === null ? '—' : `${fmtNum(x.ratio, 1)}×`, x.bound ?? '—']),
        mode,
      ) + '\n',
    );
    process.stdout.write(`kernel time attributed to layers: ${fmtNum(roofline.attributedPercent + roofline.attributedByOrderPercent, 1)}% (${fmtNum(roofline.attributedPercent, 1)}% by name, ${fmtNum(roofline.attributedByOrderPercent, 1)}% of helper nodes by execution order)\n`);
    if (roofline.ratio !== null) process.stdout.write(`all mapped layers: measured ${fmtNum(roofline.totalMeasuredUs, 0)} µs vs estimate as executed ${fmtNum(roofline.totalEstimatedAsExecutedUs, 0)} µs (${fmtNum(roofline.ratio, 1)}×; as written ${fmtNum(roofline.totalEstimatedUs, 0)} µs)\n`);
  }
  return 0;
}

export function formatBench(results: BenchResult[], mode: OutputMode): string {
  return table(
    ['model', 'batch', 'p50', 'p90', 'p99', 'mean', 'throughput', 'runs', 'threads', 'ORT opt'],
    results.map((r) => [
      r.model,
      `${r.batch.size}${r.batch.note ? '*' : ''}`,
      fmtDuration(r.latency.p50Ms),
      fmtDuration(r.latency.p90Ms),
      fmtDuration(r.latency.p99Ms),
      fmtDuration(r.latency.meanMs),
      `${fmtNum(r.throughput, 1)}/s`,
      fmtInt(r.iterations),
      String(r.threads),
      r.graphOptimizationLevel,
    ]),
    mode,
  ) + results.filter((r) => r.batch.note).map((r) => `\n* ${r.batch.note}`).join('') + defaultedNote(results);
}

/** Dims nothing bound were timed at 1: the latency of a degenerate input, said once under the table. */
function defaultedNote(results: BenchResult[]): string {
  const dims = [...new Set(results.flatMap((r) => r.defaultedDims ?? []))];
  if (dims.length === 0) return '';
  return `\nnote: input dims ${dims.join(', ')} are dynamic and were not given: timed at 1, not at a real input size; bind them with --dim SYMBOL=n or --input-shape NAME=DIMS`;
}

/** p50s and the speed-up (the one definition, formatSpeedup), and a note when p50(B)/p50(A) falls outside its interval. */
function speedupLine(r: BenchPairResult): string {
  const p = pairedP50(r.a.latency.p50Ms, r.b.latency.p50Ms, r.ratio);
  const note = p.consistent ? '' : `; p50(B)/p50(A) = ×${(p.bMeasuredMs / p.aMs).toFixed(3)} lies outside the interval: the two timing distributions differ in shape, the speed-up is the paired median`;
  return `p50 A ${p.aMs.toFixed(3)} ms, B ${p.bMeasuredMs.toFixed(3)} ms; speed-up B/A ${formatSpeedup(r.ratio, r.a.iterations)}${note}`;
}

function verdictText(mode: OutputMode, verdict: 'faster' | 'slower' | 'same', vs: string): string {
  if (verdict === 'faster') return paint(mode, 'green', `${vs} is faster`);
  if (verdict === 'slower') return paint(mode, 'yellow', `${vs} is slower`);
  return `no difference beyond the noise (run more --iterations to resolve a smaller one)`;
}
