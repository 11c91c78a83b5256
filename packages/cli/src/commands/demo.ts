/**
 * `onnxkit demo [MODEL]` (and `pnpm start`): the main job. Import → analyze → optimize
 * (`default` preset) → verify against the original in onnxruntime → benchmark both,
 * interleaved → write the optimized model, the HTML report, the analysis JSON and a Netron
 * attachment to out/. With no MODEL it uses an embedded default: the zoo MobileNetV2 with its
 * BatchNormalization nodes kept. Exits 1 when the optimized model is not equivalent. When
 * onnxruntime crashes on one model, the other's results are kept, the files are written and the
 * summary marks the crashed side unavailable; then the crash's one line, exit 2.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { save, writeFileAtomic } from '@onnxkit/importer';
import { analysisToJson, parseDeviceProfile, QuantizeError, toNetronAttachment, type DeviceProfile } from '@onnxkit/passes';
import { calibrate } from '@onnxkit/runtime';
import { buildZooModel } from '@onnxkit/zoo';
import { localProfilePath, resolveDevice } from '../devices.js';
import { EXIT } from '../errors.js';
import { reportData, runJob, type JobResult } from '../job.js';
import { checkDimSymbols, inputShapesWithDims, shapeBindings } from '../options.js';
import { quantizeBeside, type QuantizedBeside } from '../quantize-compare.js';
import { calibrationSettings, strayCalibrationFlag } from '../static-quantize.js';
import { CliError } from '../errors.js';
import { crashData, refuseOversizedReport, renderReport, type ReportCrash } from '../report/index.js';
import { fmtBytes, fmtDuration, fmtInt, outputMode, paint, Progress, table, type OutputMode } from '../ui.js';
import { fmtSI } from '../units.js';
import { generator } from '../version.js';
import { pipelineFromFlags } from '../pipeline.js';
import { loadModel } from '../limits.js';
import { refuseInvalidModel, sortedInputWarning } from '../validity.js';
import { ensureDir } from '../fs-utils.js';
import type { OptionsOf } from '../definitions.js';

/** The options of `onnxkit demo`, as its definition (definitions.ts) makes commander parse them. */
export type DemoCliOptions = OptionsOf<'demo'>;

const encoder = new TextEncoder();

export default async function demo(modelArg: string | undefined, opts: DemoCliOptions): Promise<number> {
  const mode = outputMode(opts);
  shapeBindings(opts); // bad --input-shape / --dim fail before any work
  const stray = opts.quantize === false ? strayCalibrationFlag(opts) : undefined;
  if (stray) throw new CliError(`${stray} applies to the int8 step, which --no-quantize skips`);
  const { threads, seed, iterations } = opts;
  const int8 = opts.quantize === false ? undefined : calibrationSettings(opts);
  // A --device given is read now: a bad name failed only after the model was built and imported.
  const givenDevice = opts.device === undefined ? undefined : resolveDevice(opts.device);
  const progress = new Progress(mode);
  const outDir = opts.out;
  const t0 = performance.now();

  let file: string;
  let name: string;
  if (modelArg === undefined) {
    ensureDir(outDir);
    name = 'mobilenetv2';
    file = join(outDir, `${name}.onnx`);
    const step = progress.step(`build the embedded default: zoo MobileNetV2 with BatchNorm kept → ${file}`);
    save(buildZooModel('mobilenetv2', { seed: 0 }), file);
    step.done();
  } else {
    file = modelArg;
    name = basename(file).replace(/\.onnx$/i, '');
  }

  let step = progress.step(`import ${file}`);
  const model = loadModel(file);
  // (an invalid graph's numbers are meaningless: refused before any step, as analyze refuses it)
  const sortedWarning = sortedInputWarning(refuseInvalidModel(model, 'the demo did not run'));
  if (sortedWarning !== undefined && !mode.quiet) process.stderr.write(`${sortedWarning}\n`);
  checkDimSymbols(model, opts);
  refuseOversizedReport(model, file);
  const fileBytes = statSync(file).size;
  step.done(`${fmtInt(model.graph.nodeCount)} nodes, ${fmtBytes(fileBytes)}`);
  // out/ is made once the model given is read: a model refused leaves no empty folder behind (the
  // embedded model was saved into it, which made it already).
  if (modelArg !== undefined) ensureDir(outDir);

  const device = givenDevice ?? (await localDevice(outDir, progress));
  const inputShapes = inputShapesWithDims(model, opts);
  const preset = opts.preset;
  const input = { model, file, fileBytes };
  const result = await runJob(input, {
    device,
    ...(inputShapes ? { inputShapes } : {}),
    pipeline: [preset],
    pipelineOptions: pipelineFromFlags({ preset }).options,
    verify: true,
    benchIterations: iterations,
    threads,
    seed,
    progress,
  });

  // The int8 model beside fp32 (the optimized model): size, MACs/integer OPs, roofline, measured latency, SQNR.
  let quantized: QuantizedBeside | undefined;
  let int8Skipped: string | undefined;
  const crash = result.crash;
  if (int8 && crash !== undefined && (crash.side === 'B' || crash.both)) {
    int8Skipped = 'onnxruntime crashed on the optimized model';
  } else if (int8) {
    // Synthetic calibration (no --calibration): 8 samples and 2 held out keep the demo short.
    const settings = int8.calibration === undefined ? { ...int8, samples: int8.samples ?? 8, evalSamples: int8.evalSamples ?? 2 } : int8;
    quantized = await quantizeBeside(result.optimized!.model, {
      settings,
      device,
      analysisShapes: { ...(inputShapes ? { inputShapes } : {}), ...(result.boundDims ? { dimValues: result.boundDims } : {}) },
      benchIterations: iterations,
      threads,
      seed,
      progress,
      reference: `the optimized model (${preset})`,
      name: `${name} (int8)`,
      warn: (w) => {
        if (!mode.json && !mode.quiet) process.stderr.write(`onnxkit: warning: ${w}\n`);
      },
    }).catch((e: unknown) => {
      // A model the int8 flow refuses (nothing to quantize, an old opset, already quantized): the demo goes on without it.
      if (!(e instanceof QuantizeError)) throw e;
      int8Skipped = e.message;
      return undefined;
    });
    if (int8Skipped !== undefined && !mode.json && !mode.quiet) process.stderr.write(`onnxkit: note: int8 step skipped: ${int8Skipped}\n`);
  }

  step = progress.step(`write ${outDir}/`);
  const files = {
    optimized: join(outDir, `${name}.optimized.onnx`),
    report: join(outDir, `${name}.report.html`),
    analysis: join(outDir, `${name}.analysis.json`),
    netron: join(outDir, `${name}.netron.json`),
    ...(quantized ? { int8: join(outDir, `${name}.int8.onnx`) } : {}),
  };
  save(result.optimized!.model, files.optimized);
  const optimizedBytes = statSync(files.optimized).size;
  if (quantized) save(quantized.int8, files.int8!);
  const data = { ...reportData(input, result, { generator: generator(), pipelineName: preset }), ...(quantized ? { quantized: quantized.data } : {}) };
  writeFileAtomic(files.report, encoder.encode(renderReport(data)));
  writeFileAtomic(
    files.analysis,
    encoder.encode(
      JSON.stringify(
        {
          original: JSON.parse(analysisToJson(result.original.analysis)),
          optimized: JSON.parse(analysisToJson(result.optimized!.analysis)),
          ...(quantized ? { int8: JSON.parse(analysisToJson(quantized.int8Analysis)) } : {}),
        },
        null,
        2,
      ) + '\n',
    ),
  );
  writeFileAtomic(files.netron, encoder.encode(JSON.stringify(toNetronAttachment(result.original.analysis), null, 2) + '\n'));
  step.done(Object.values(files).map((f) => basename(f)).join(', '));

  const summary = demoSummary(name, preset, result, fileBytes, optimizedBytes, device, performance.now() - t0, quantized && { q: quantized, fileBytes: statSync(files.int8!).size }, int8Skipped);
  if (mode.json) process.stdout.write(JSON.stringify({ ...summary, files }, null, 2) + '\n');
  else process.stdout.write('\n' + formatSummary(summary, files, mode) + '\n');
  // What was known is printed and written: now the crash's one line, exit 2.
  if (crash !== undefined) throw crash.error;
  return result.verify?.equivalent === false ? EXIT.checkFailed : EXIT.ok;
}

/** The roofline device without --device: this machine's measured profile (measured once, kept in out/; see DEVICE_DEFAULTS). */
async function localDevice(outDir: string, progress: Progress): Promise<DeviceProfile> {
  for (const p of [localProfilePath(), join(outDir, 'local-device.json')]) {
    if (existsSync(p)) return parseDeviceProfile(JSON.parse(readFileSync(p, 'utf8')));
  }
  const step = progress.step('calibrate this CPU for the roofline (once; onnxkit calibrate does it thoroughly)');
  const profile = await calibrate({ threads: 1, matmulSizes: [1024], minTimeMs: 400, minRuns: 3, copyBytes: 64 * 1024 * 1024, copies: 5 });
  writeFileAtomic(join(outDir, 'local-device.json'), encoder.encode(JSON.stringify(profile, null, 2) + '\n'));
  step.done(`${fmtSI(profile.peakFlops.fp32, 'FLOP/s')}, ${fmtBytes(profile.memoryBandwidth)}/s`);
  return parseDeviceProfile(profile);
}

interface Side {
  nodes: number;
  params: number;
  modelSizeBytes: number;
  fileBytes: number;
  macs: number | null;
  estimatedMs: number | null;
  measuredMs: { all: number | null; disabled: number | null };
}

export interface DemoSummary {
  model: string;
  preset: string;
  device: string;
  original: Side;
  optimized: Side;
  measuredRatio: { all: number | null; disabled: number | null };
  /** Symbolic input dims bound for the metrics and the runs (the optimized model stays symbolic). */
  boundDims?: Record<string, number>;
  /** Whether the 95% confidence interval of each ratio excludes 1 ('same': within the noise). */
  measuredVerdict: { all: 'faster' | 'slower' | 'same' | null; disabled: 'faster' | 'slower' | 'same' | null };
  equivalent: boolean | null;
  /** 'equivalent', 'equivalent within float32 rounding', 'NOT equivalent' (null: not verified). */
  verdict: string | null;
  /** Worst error of each model against the float64 reference (null: reference not used). */
  errorVsFloat64: { a: number; b: number; budget: number } | null;
  maxAbsError: number | null;
  maxRelError: number | null;
  changes: number;
  /** The int8 model beside the optimized fp32 one (absent with --no-quantize). */
  int8?: {
    fileBytes: number;
    modelSizeBytes: number;
    macs: number | null;
    intOps: number | null;
    estimatedMs: number | null;
    /** The roofline as onnxruntime runs the graph at level all (Q/DQ fused into the integer kernels): fp32 and int8. */
    estimatedExecutedMs: { fp32: number | null; int8: number | null };
    /** fp32 (the optimized model) and int8 p50 at onnxruntime `all`, interleaved. */
    measuredMs: { fp32: number | null; int8: number | null };
    /** Median of the interleaved int8/fp32 pair ratios, its 95% interval and verdict. */
    ratio: number | null;
    ratioCi: { low: number; high: number } | null;
    verdict: 'faster' | 'slower' | 'same' | null;
    sqnrDb: number | null;
    maxAbsError: number;
    layers: number;
    calibration: string;
    evaluation: string;
  };
  /** Why the int8 step was skipped (the model cannot be quantized). */
  int8Skipped?: string;
  /** onnxruntime crashed on a model: its measured and verified values are null, the other's are kept. */
  crashed?: {
    side: 'original' | 'optimized' | 'both';
    model: string | null;
    step: 'verify' | 'benchmark';
    error: string;
    /** The other model's verify run: its outputs (name, type, shape) and timings. */
    survivor?: ReportCrash['survivorRun'];
  };
  elapsedMs: number;
}

function demoSummary(name: string, preset: string, r: JobResult, fileBytes: number, optimizedBytes: number, device: DeviceProfile, elapsedMs: number, quantized?: { q: QuantizedBeside; fileBytes: number }, int8Skipped?: string): DemoSummary {
  const o = r.optimized!;
  const sideOf = (a: JobResult['original']['analysis'], nodes: number, bytes: number, which: 'a' | 'b'): Side => ({
    nodes,
    params: a.totals.params,
    modelSizeBytes: a.totals.modelSizeBytes,
    fileBytes: bytes,
    macs: a.totals.macs,
    estimatedMs: a.totals.latency.seconds === null ? null : a.totals.latency.seconds * 1e3,
    measuredMs: {
      all: r.benchAll?.[which].latency.p50Ms ?? survivor(which, 'all'),
      disabled: r.benchProfiled?.[which].latency.p50Ms ?? survivor(which, 'disabled'),
    },
  });
  // After a crash, the other model benchmarked alone.
  const survivor = (which: 'a' | 'b', level: 'all' | 'disabled'): number | null => {
    const c = r.crash;
    return c && !c.both && c.side !== (which === 'a' ? 'A' : 'B') ? (c.survivorBench[level]?.latency.p50Ms ?? null) : null;
  };
  const c = r.crash;
  // The report's view of the crash (its one line, the survivor's outputs), without the survivor's latency.
  const crash = c ? crashData(c) : undefined;
  const outs = r.verify?.outputs ?? [];
  return {
    model: name,
    preset,
    device: `${device.title} [${device.id}]`,
    original: sideOf(r.original.analysis, r.original.model.graph.nodeCount, fileBytes, 'a'),
    optimized: sideOf(o.analysis, o.model.graph.nodeCount, optimizedBytes, 'b'),
    measuredRatio: { all: r.benchAll?.ratio.median ?? null, disabled: r.benchProfiled?.ratio.median ?? null },
    measuredVerdict: { all: r.benchAll?.ratio.verdict ?? null, disabled: r.benchProfiled?.ratio.verdict ?? null },
    ...(r.boundDims ? { boundDims: r.boundDims } : {}),
    equivalent: r.verify?.equivalent ?? null,
    verdict: r.verify?.verdict ?? null,
    errorVsFloat64:
      r.verify?.reference?.basis === 'reference' && r.verify.reference.outputs.length > 0
        ? {
            a: r.verify.reference.outputs.reduce((m, x) => Math.max(m, x.a.maxError), -Infinity),
            b: r.verify.reference.outputs.reduce((m, x) => Math.max(m, x.b.maxError), -Infinity),
            budget: r.verify.reference.outputs.reduce((m, x) => Math.min(m, x.budget), Infinity),
          }
        : null,
    maxAbsError: outs.length ? outs.reduce((m, x) => Math.max(m, x.maxAbsError), -Infinity) : null,
    maxRelError: outs.length ? outs.reduce((m, x) => Math.max(m, x.maxRelError), -Infinity) : null,
    changes: o.pipeline.totalChanges,
    ...(quantized ? { int8: int8Summary(quantized.q, quantized.fileBytes) } : {}),
    ...(int8Skipped !== undefined ? { int8Skipped } : {}),
    ...(c && crash
      ? {
          crashed: {
            side: crash.crashed.length > 1 ? 'both' : crash.crashed[0]!,
            model: c.error.model ?? null,
            step: crash.step,
            error: crash.reason,
            ...(crash.survivorRun ? { survivor: crash.survivorRun } : {}),
          },
        }
      : {}),
    elapsedMs,
  };
}

const msOf = (s: number | null): number | null => (s === null ? null : s * 1e3);

/** The demo's int8 row values. */
function int8Summary(q: QuantizedBeside, fileBytes: number): NonNullable<DemoSummary['int8']> {
  const t = q.int8Analysis.totals;
  const c = q.prepared.calibration!;
  const ci = q.bench?.ratio.ci;
  return {
    fileBytes,
    modelSizeBytes: t.modelSizeBytes,
    macs: t.macs,
    intOps: t.intOps,
    estimatedMs: t.latency.seconds === null ? null : t.latency.seconds * 1e3,
    estimatedExecutedMs: { fp32: msOf(q.fp32Analysis.totals.latency.asExecuted.all.seconds), int8: msOf(t.latency.asExecuted.all.seconds) },
    measuredMs: { fp32: q.bench?.a.latency.p50Ms ?? null, int8: q.bench?.b.latency.p50Ms ?? null },
    ratio: q.bench?.ratio.median ?? null,
    ratioCi: ci ? { low: ci.low, high: ci.high } : null,
    verdict: q.bench?.ratio.verdict ?? null,
    sqnrDb: Number.isFinite(q.accuracy.overall.sqnrDb) ? q.accuracy.overall.sqnrDb : null,
    maxAbsError: q.accuracy.overall.maxAbsError,
    layers: q.report.layers.length,
    calibration: `${c.method} on ${c.source}`,
    evaluation: q.prepared.evaluation.source,
  };
}

/** "  ×0.937 interleaved, faster" — or "within noise" when the ratio's 95% interval spans 1. */
function ratioText(ratio: number | null, verdict: 'faster' | 'slower' | 'same' | null): string {
  if (ratio === null) return '';
  return `  speed-up ×${ratio.toFixed(3)} (median of interleaved pair ratios)${verdict === null ? '' : verdict === 'same' ? ', within noise' : `, ${verdict}`}`;
}

/** The int8 model beside the optimized fp32 one. */
function formatInt8(s: DemoSummary, mode: OutputMode): string {
  const q = s.int8!;
  const ms = (x: number | null): string => (x === null ? '—' : fmtDuration(x));
  const ratio = q.ratio === null ? '' : `  speed-up ×${q.ratio.toFixed(3)}${q.ratioCi ? ` (95% CI ×${q.ratioCi.low.toFixed(3)}–×${q.ratioCi.high.toFixed(3)})` : ''}${q.verdict === null ? '' : q.verdict === 'same' ? ', within noise' : `, ${q.verdict}`}`;
  const rows = [
    ['model size (weights)', `${fmtBytes(s.optimized.modelSizeBytes)} → ${fmtBytes(q.modelSizeBytes)}`],
    ['file size', `${fmtBytes(s.optimized.fileBytes)} → ${fmtBytes(q.fileBytes)}`],
    ['MACs → integer OPs', `${fmtInt(s.optimized.macs)} MACs → ${fmtInt(q.intOps)} integer OPs (2 per MAC + requantization)`],
    ['latency, roofline as ORT runs it (all)', `${ms(q.estimatedExecutedMs.fp32)} → ${ms(q.estimatedExecutedMs.int8)}  (int8 layers at the device's int8 peak, Q/DQ fused into them)`],
    ['latency, measured p50 (ORT all)', `${ms(q.measuredMs.fp32)} → ${ms(q.measuredMs.int8)}${ratio}`],
    ['output SQNR vs fp32', `${q.sqnrDb === null ? '∞' : `${q.sqnrDb.toFixed(1)} dB`}, max abs error ${q.maxAbsError.toPrecision(3)} (${q.evaluation})`],
  ];
  return [
    `${paint(mode, 'bold', 'int8')}: ${q.layers} layers quantized (static QDQ, as onnxkit quantize; calibration ${q.calibration})`,
    table(['', 'optimized fp32 → int8'], rows, mode),
    '(not equivalent by design: accept it explicitly with onnxkit verify ORIGINAL INT8 --min-sqnr DB)',
  ].join('\n');
}

function formatSummary(s: DemoSummary, files: Record<string, string>, mode: OutputMode): string {
  const crashed = (side: 'original' | 'optimized'): boolean => s.crashed !== undefined && (s.crashed.side === side || s.crashed.side === 'both');
  const ms = (x: number | null, side?: 'original' | 'optimized'): string => (x !== null ? fmtDuration(x) : side !== undefined && crashed(side) ? 'unavailable (crashed onnxruntime)' : '—');
  const arrow = (a: string, b: string): string => (a === b ? a : `${a} → ${b}`);
  const rows = [
    ['nodes', arrow(fmtInt(s.original.nodes), fmtInt(s.optimized.nodes))],
    ['learnable params', arrow(fmtInt(s.original.params), fmtInt(s.optimized.params))],
    ['model size (weights)', arrow(fmtBytes(s.original.modelSizeBytes), fmtBytes(s.optimized.modelSizeBytes))],
    ['file size', arrow(fmtBytes(s.original.fileBytes), fmtBytes(s.optimized.fileBytes))],
    ['MACs', arrow(fmtInt(s.original.macs), fmtInt(s.optimized.macs))],
    ['latency, roofline estimate', `${arrow(ms(s.original.estimatedMs), ms(s.optimized.estimatedMs))}  (${s.device})`],
    ['latency, measured p50 (ORT all)', `${arrow(ms(s.original.measuredMs.all, 'original'), ms(s.optimized.measuredMs.all, 'optimized'))}${ratioText(s.measuredRatio.all, s.measuredVerdict.all)}`],
    ['latency, measured p50 (ORT disabled)', `${arrow(ms(s.original.measuredMs.disabled, 'original'), ms(s.optimized.measuredMs.disabled, 'optimized'))}${ratioText(s.measuredRatio.disabled, s.measuredVerdict.disabled)}`],
  ];
  const verdict =
    s.equivalent === null && s.crashed !== undefined
      ? paint(mode, 'red', `unavailable — onnxruntime crashed on ${s.crashed.side === 'both' ? 'both models' : `the ${s.crashed.side} model`}${s.crashed.model ? ` (${s.crashed.model})` : ''} during ${s.crashed.step === 'verify' ? 'verification' : 'the benchmark'}`)
      : s.equivalent === null
      ? 'not verified'
      : s.equivalent
        ? paint(mode, 'green', `${s.verdict ?? 'equivalent'} — max abs error ${s.maxAbsError?.toExponential(2)}, max rel error ${s.maxRelError?.toExponential(2)}${s.errorVsFloat64 ? `; vs float64: original ${s.errorVsFloat64.a.toExponential(2)}, optimized ${s.errorVsFloat64.b.toExponential(2)} (budget ${s.errorVsFloat64.budget.toExponential(2)})` : ''}`)
        : paint(mode, 'red', `NOT equivalent — max abs error ${s.maxAbsError?.toExponential(2)}, max rel error ${s.maxRelError?.toExponential(2)}`);
  return [
    `${paint(mode, 'bold', s.model)}: ${s.changes} rewrites by the '${s.preset}' preset`,
    table(['', 'original → optimized'], rows, mode),
    ...(s.boundDims ? [`(symbolic dims ${Object.entries(s.boundDims).map(([k, v]) => `${k}=${v}`).join(', ')} for the metrics and the runs; the optimized model keeps them symbolic)`] : []),
    '',
    `verification: ${verdict}`,
    ...(s.crashed?.survivor
      ? [
          `the ${s.crashed.survivor.side} model ran without a crash: created in ${fmtDuration(s.crashed.survivor.createMs)}, ran in ${fmtDuration(s.crashed.survivor.runMs)}; outputs ${s.crashed.survivor.outputs.map((o) => `${o.name} ${o.dtype} [${o.shape?.join(', ') ?? '?'}]`).join(', ')}`,
        ]
      : []),
    ...(s.int8 ? ['', formatInt8(s, mode)] : []),
    ...(s.int8Skipped !== undefined ? ['', `int8: skipped (${s.int8Skipped})`] : []),
    `files: ${Object.values(files).join(', ')}`,
    `done in ${fmtDuration(s.elapsedMs)}`,
  ].join('\n');
}
