/**
 * `onnxkit quantize IN -o OUT`: post-training static int8 quantization in the QDQ format that
 * onnxruntime fuses into integer kernels.
 *
 * 1. BatchNormalization is folded (fold-batchnorm); that BN-folded fp32 model is the reference.
 * 2. Activation ranges are calibrated through onnxruntime on `--calibration` inputs (or seeded
 *    synthetic ones, with a warning) by `--method` minmax | percentile | entropy.
 * 3. QDQ nodes are inserted (int8 per-channel weights, uint8 activations, int32 biases).
 * 4. Accuracy on held-out inputs (`--eval`, else the last fifth of the calibration files, else
 *    synthetic inputs with other seeds): per-output SQNR, max/mean abs error against the
 *    BN-folded fp32 model at onnxruntime `all`, and each quantized layer's output SQNR.
 * 5. `--sensitivity`: each layer quantized alone (every other layer float): the model's output
 *    SQNR then (onnxruntime, optimizations disabled: QDQ evaluated in float).
 * 6. `--min-sqnr DB` (implies 5): the k most sensitive layers stay in float, the smallest k that
 *    meets DB (doubling, then bisection, each step measured); the layers kept are reported.
 * `--dynamic`: MatMul weights to int8, activations quantized at run time (DynamicQuantizeLinear +
 * MatMulInteger, fused by onnxruntime), no calibration; the same accuracy report.
 * The result is written atomically.
 */
import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import { cloneModel, type Model, type Tensor } from '@onnxkit/graph';
import { save } from '@onnxkit/importer';
import { planQdq, quantizeDynamic, quantizeQdq, runPipeline, type QdqReport, type QuantType } from '@onnxkit/passes';
import {
  calibrateRanges,
  checkPercentile,
  listSamples,
  measureAccuracy,
  readSamples,
  referenceRuns,
  syntheticSamples,
  type AccuracyReport,
  type AccuracySummary,
  type CalibrationMethod,
} from '@onnxkit/runtime';
import { CliError } from '../errors.js';
import { ensureParent } from '../fs-utils.js';
import { loadModel } from '../limits.js';
import { intOption, numberOption } from '../options.js';
import { fmtBytes, fmtDuration, outputMode, paint, Progress, table, type OutputMode } from '../ui.js';

export interface QuantizeCliOptions {
  output: string;
  calibration?: string;
  eval?: string;
  method?: string;
  percentile?: string;
  samples?: string;
  evalSamples?: string;
  seed?: string;
  activationType?: string;
  perTensor?: boolean;
  minSqnr?: string;
  sensitivity?: boolean;
  dynamic?: boolean;
  threads?: string;
  json?: boolean;
}

const METHODS: readonly CalibrationMethod[] = ['minmax', 'percentile', 'entropy'];

interface LayerRow {
  node: string;
  opType: string;
  output: string;
  fusedActivation?: string;
  sqnrDb: number | null;
  /** Output SQNR with only this layer quantized (--sensitivity, --min-sqnr). */
  aloneSqnrDb?: number | null;
}

function db(x: number): string {
  return Number.isFinite(x) ? x.toFixed(1) : x > 0 ? '∞' : '-∞';
}

function jsonNumber(x: number): number | string {
  return Number.isFinite(x) ? x : String(x);
}

export default async function quantize(input: string, opts: QuantizeCliOptions): Promise<number> {
  const mode = outputMode(opts);
  if (resolve(opts.output) === resolve(input)) throw new CliError(`refusing to overwrite the input '${input}'`, { hint: 'write the quantized model to another file' });
  const method = (opts.method ?? 'minmax') as CalibrationMethod;
  if (!METHODS.includes(method)) throw new CliError(`--method '${opts.method}' is not one of ${METHODS.join(', ')}`);
  const percentile = numberOption('--percentile', opts.percentile) ?? 99.999;
  if (opts.percentile !== undefined && method !== 'percentile') throw new CliError('--percentile applies to --method percentile');
  try {
    checkPercentile(percentile);
  } catch (e) {
    throw new CliError((e as Error).message);
  }
  const samplesWanted = intOption('--samples', opts.samples, { min: 1 });
  const evalWanted = intOption('--eval-samples', opts.evalSamples, { min: 1 });
  const seed = intOption('--seed', opts.seed ?? '0', { min: 0 })!;
  const threads = intOption('--threads', opts.threads ?? '1', { min: 1 })!;
  const minSqnr = numberOption('--min-sqnr', opts.minSqnr);
  const activationType = (opts.activationType ?? 'uint8') as QuantType;
  if (activationType !== 'uint8' && activationType !== 'int8') throw new CliError(`--activation-type '${opts.activationType}' is not one of uint8, int8`);

  const dynamic = opts.dynamic === true;
  if (dynamic && (opts.calibration !== undefined || opts.method !== undefined || opts.percentile !== undefined || opts.samples !== undefined)) {
    throw new CliError('--dynamic computes activation scales at run time: it takes no --calibration, --method, --percentile or --samples');
  }
  const progress = new Progress(mode);
  let step = progress.step(`import ${input}`);
  const model = loadModel(input);
  const inBytes = statSync(input).size;
  step.done();

  step = progress.step('fold BatchNormalization');
  const folded = await runPipeline(model, ['fold-batchnorm'], { verify: 'pass' });
  step.done(`${folded.totalChanges} folded`);
  // Layers are named in the report and in --min-sqnr: give unnamed nodes a stable name.
  const taken = new Set([...model.graph].map((n) => n.name));
  let unnamed = 0;
  for (const n of model.graph) {
    if (n.name) continue;
    let name = `${n.opType}_${unnamed++}`;
    while (taken.has(name)) name = `${n.opType}_${unnamed++}`;
    taken.add(name);
    n.name = name;
  }
  const planOptions = { activationType, perChannel: !opts.perTensor };
  const plan = dynamic ? undefined : planQdq(model, planOptions);

  // Samples: calibration and held-out evaluation.
  const warnings: string[] = [];
  let calibration: Iterable<Map<string, Tensor>>;
  let calibrationCount: number;
  let evalSamples: Map<string, Tensor>[];
  let evalSource: string;
  let calibrationSource: string;
  if (dynamic) {
    calibration = [];
    calibrationCount = 0;
    calibrationSource = 'none (--dynamic)';
    let ev = opts.eval !== undefined ? listSamples(opts.eval, '--eval') : undefined;
    if (ev && evalWanted !== undefined) ev = ev.slice(0, evalWanted);
    const n = evalWanted ?? 4;
    evalSamples = ev ? [...readSamples(ev, model)] : [...syntheticSamples(model, n, seed + 1_000_000)];
    evalSource = ev ? opts.eval! : `${n} seeded synthetic inputs (seed ${seed + 1_000_000})`;
  } else if (opts.calibration !== undefined) {
    let files = listSamples(opts.calibration, '--calibration');
    let held: string[][] = [];
    if (opts.eval === undefined) {
      if (files.length < 2) throw new CliError(`--calibration ${opts.calibration} holds ${files.length} sample; give at least 2 (one is held back for evaluation) or --eval DIR`);
      const k = Math.max(1, Math.floor(files.length / 5));
      held = files.slice(files.length - k);
      files = files.slice(0, files.length - k);
    }
    if (samplesWanted !== undefined) files = files.slice(0, samplesWanted);
    calibration = readSamples(files, model);
    calibrationCount = files.length;
    calibrationSource = opts.calibration;
    if (opts.eval !== undefined) {
      let ev = listSamples(opts.eval, '--eval');
      if (evalWanted !== undefined) ev = ev.slice(0, evalWanted);
      evalSamples = [...readSamples(ev, model)];
      evalSource = opts.eval;
    } else {
      evalSamples = [...readSamples(held, model)];
      evalSource = `${held.length} held-back sample(s) of --calibration`;
    }
  } else {
    calibrationCount = samplesWanted ?? 16;
    calibration = syntheticSamples(model, calibrationCount, seed);
    calibrationSource = `${calibrationCount} seeded synthetic inputs (seed ${seed})`;
    warnings.push(`no --calibration data: calibrating on ${calibrationCount} seeded synthetic inputs; real inputs calibrate better`);
    if (opts.eval !== undefined) {
      let ev = listSamples(opts.eval, '--eval');
      if (evalWanted !== undefined) ev = ev.slice(0, evalWanted);
      evalSamples = [...readSamples(ev, model)];
      evalSource = opts.eval;
    } else {
      const n = evalWanted ?? 4;
      evalSamples = [...syntheticSamples(model, n, seed + 1_000_000)];
      evalSource = `${n} seeded synthetic inputs (seed ${seed + 1_000_000}, not used for calibration)`;
    }
  }
  if (!mode.json) for (const w of warnings) process.stderr.write(`onnxkit: warning: ${w}\n`);
  const early = warnings.length;

  let cal: Awaited<ReturnType<typeof calibrateRanges>> | undefined;
  if (plan) {
    step = progress.step(`calibrate (${method}, ${calibrationCount} samples)`);
    cal = await calibrateRanges(model, calibration, {
      tensors: plan.tensors,
      method,
      percentile,
      sessionOptions: { intraOpNumThreads: threads },
      onSample: (d) => step.update(d / calibrationCount, `${d}/${calibrationCount}`),
    });
    step.done(`${cal.ranges.size} tensors, ${fmtDuration(cal.ms / cal.samples)}/sample`);
  }
  // Tensors onnxruntime returned no float32 values for (types the model does not declare):
  // the layers that touch them stay float.
  const uncalibrated: string[] = [];
  if (cal && plan && cal.missing.length > 0) {
    const missing = new Set(cal.missing);
    for (const p of plan.nodes) {
      const names = [...p.activationInputs.map((i) => p.node.inputs[i]!.name), p.output ?? ''];
      if (names.some((n) => missing.has(n))) uncalibrated.push(p.node.name);
    }
    warnings.push(`${uncalibrated.length} layer(s) left in float: onnxruntime returned no float32 values for ${cal.missing.slice(0, 3).join(', ')}${cal.missing.length > 3 ? ', …' : ''}`);
  }

  const sessionOptions = { intraOpNumThreads: threads };
  const build = (keepFloat: readonly string[], requireAnchor = true): { q: Model; report: QdqReport } => {
    const q = cloneModel(model);
    if (!cal) {
      const d = quantizeDynamic(q, { perChannel: !opts.perTensor, keepFloat });
      const opset = model.opsetVersion('') ?? 0;
      return { q, report: { ...d, quantizedTensors: 0, fusedActivations: [], opset: { from: opset, to: opset }, params: new Map() } };
    }
    const report = quantizeQdq(q, { ...planOptions, ranges: cal.ranges, keepFloat: [...uncalibrated, ...keepFloat], requireAnchor });
    return { q, report };
  };
  // The fp32 outputs, computed once per optimization level and compared with every candidate.
  const refAll = await referenceRuns(model, evalSamples, sessionOptions);
  const evaluate = async (q: Model, report: QdqReport): Promise<AccuracyReport> =>
    measureAccuracy(model, q, evalSamples, {
      sessionOptions,
      referenceRuns: refAll,
      layers: report.layers.filter((l) => l.output !== null && l.quantizedOutput !== null).map((l) => ({ reference: l.output!, quantized: l.quantizedOutput!, clampBelow: l.flatBelow })),
    });

  step = progress.step('quantize and evaluate');
  let { q, report } = build([]);
  let acc = await evaluate(q, report);
  step.done(`output SQNR ${db(acc.overall.sqnrDb)} dB`);

  // Sensitivity: the output SQNR with only that layer quantized (the rest in float).
  let alone: Map<string, number> | undefined;
  if (opts.sensitivity || minSqnr !== undefined) {
    step = progress.step(`sensitivity (${report.layers.length} layers, each quantized alone)`);
    alone = new Map();
    const disabled = { ...sessionOptions, graphOptimizationLevel: 'disabled' as const };
    const refDisabled = await referenceRuns(model, evalSamples, disabled);
    const names = report.layers.map((l) => l.node);
    for (const [i, l] of report.layers.entries()) {
      step.update(i / names.length, l.node);
      let single: Model;
      try {
        single = build(names.filter((n) => n !== l.node), false).q;
      } catch {
        continue; // a layer that cannot be quantized alone (e.g. only an Add): no figure
      }
      const r = await measureAccuracy(model, single, evalSamples, { sessionOptions: disabled, referenceRuns: refDisabled });
      alone.set(l.node, r.overall.sqnrDb);
    }
    step.done();
  }

  // Mixed precision: keep the k most sensitive layers in float, the smallest k (doubling, then
  // bisection) that meets the target.
  const keptFloat: { node: string; opType: string; aloneSqnrDb: number }[] = [];
  if (minSqnr !== undefined && acc.overall.sqnrDb < minSqnr && alone) {
    step = progress.step(`mixed precision (target ${minSqnr} dB)`);
    const order = report.layers.filter((l) => alone.has(l.node)).sort((a, b) => alone.get(a.node)! - alone.get(b.node)!);
    const tried = new Map<number, { q: Model; report: QdqReport; acc: AccuracyReport }>();
    const attempt = async (k: number): Promise<{ q: Model; report: QdqReport; acc: AccuracyReport } | undefined> => {
      if (tried.has(k)) return tried.get(k);
      let built: { q: Model; report: QdqReport };
      try {
        built = build(order.slice(0, k).map((l) => l.node), false);
      } catch {
        return undefined; // nothing left to quantize
      }
      const a = await measureAccuracy(model, built.q, evalSamples, { sessionOptions, referenceRuns: refAll });
      const r = { ...built, acc: a };
      tried.set(k, r);
      step.update(undefined, `${k} in float: ${db(a.overall.sqnrDb)} dB`);
      return r;
    };
    let lo = 0;
    let hi = 1;
    let best: { k: number; r: { q: Model; report: QdqReport; acc: AccuracyReport } } | undefined;
    while (hi <= order.length) {
      const r = await attempt(hi);
      if (!r) {
        // Everything left would be float (only non-anchor ops): try one layer fewer.
        if (hi - 1 > lo) {
          hi--;
          continue;
        }
        break;
      }
      if (r.acc.overall.sqnrDb >= minSqnr) {
        best = { k: hi, r };
        break;
      }
      lo = hi;
      if (hi === order.length) break;
      hi = Math.min(order.length, hi * 2);
    }
    if (best) {
      while (best.k - lo > 1) {
        const mid: number = (lo + best.k) >> 1;
        const r = await attempt(mid);
        if (r && r.acc.overall.sqnrDb >= minSqnr) best = { k: mid, r };
        else lo = mid;
      }
      ({ q, report } = best.r);
      for (const l of order.slice(0, best.k)) keptFloat.push({ node: l.node, opType: l.opType, aloneSqnrDb: alone.get(l.node)! });
      acc = await evaluate(q, report);
    } else warnings.push(`--min-sqnr ${minSqnr} dB not reached even with the most sensitive layers in float`);
    step.done(`${keptFloat.length} layer(s) kept in float, output SQNR ${db(acc.overall.sqnrDb)} dB`);
  }

  ensureParent(opts.output);
  step = progress.step(`write ${opts.output}`);
  const saved = save(q, opts.output);
  const outBytes = statSync(opts.output).size + saved.externalFiles.reduce((n, f) => n + statSync(f).size, 0);
  step.done(fmtBytes(outBytes));

  const layerRows: LayerRow[] = report.layers.map((l) => ({
    node: l.node,
    opType: l.opType,
    output: l.output ?? '',
    ...(l.fusedActivation ? { fusedActivation: l.fusedActivation } : {}),
    sqnrDb: l.output !== null && acc.layers.has(l.output) ? acc.layers.get(l.output)!.sqnrDb : null,
    ...(alone ? { aloneSqnrDb: alone.get(l.node) ?? null } : {}),
  }));
  const summary = (s: AccuracySummary): Record<string, number | string> => ({ sqnrDb: jsonNumber(s.sqnrDb), maxAbsError: s.maxAbsError, meanAbsError: s.meanAbsError });
  const result = {
    input,
    output: opts.output,
    method: dynamic ? null : method,
    ...(method === 'percentile' ? { percentile } : {}),
    activationType,
    perChannel: !opts.perTensor,
    mode: dynamic ? 'dynamic' : 'static',
    calibration: cal ? { source: calibrationSource, samples: cal.samples, msPerSample: cal.ms / cal.samples, tensors: cal.ranges.size } : null,
    evaluation: { source: evalSource, samples: evalSamples.length, reference: 'BN-folded fp32 model, onnxruntime level all' },
    batchNormsFolded: folded.totalChanges,
    opset: report.opset,
    quantizedLayers: report.layers.length,
    quantizedTensors: report.quantizedTensors,
    fusedActivations: report.fusedActivations.length,
    keptFloat,
    skipped: report.skipped,
    fileBytes: { input: inBytes, output: outBytes, ratio: outBytes / inBytes },
    weightBytes: { before: report.weightBytesBefore, after: report.weightBytesAfter },
    accuracy: { overall: summary(acc.overall), outputs: Object.fromEntries(Object.entries(acc.outputs).map(([k, v]) => [k, summary(v)])) },
    layers: layerRows.map((r) => ({
      ...r,
      sqnrDb: r.sqnrDb === null ? null : jsonNumber(r.sqnrDb),
      ...(r.aloneSqnrDb !== undefined ? { aloneSqnrDb: r.aloneSqnrDb === null ? null : jsonNumber(r.aloneSqnrDb) } : {}),
    })),
    warnings,
  };
  if (mode.json) {
    process.stdout.write(JSON.stringify(result, null, 2) + '\n');
    return 0;
  }
  for (const w of warnings.slice(early)) process.stderr.write(`onnxkit: warning: ${w}\n`);
  process.stdout.write(formatText(result, layerRows, acc, mode) + '\n');
  return 0;
}

function formatText(r: {
  output: string;
  method: string | null;
  mode: string;
  calibration: { source: string; samples: number; msPerSample: number; tensors: number } | null;
  evaluation: { source: string; samples: number };
  batchNormsFolded: number;
  quantizedLayers: number;
  fusedActivations: number;
  keptFloat: { node: string; opType: string; aloneSqnrDb: number }[];
  skipped: { node: string; opType: string; reason: string }[];
  fileBytes: { input: number; output: number; ratio: number };
  opset: { from: number; to: number };
}, layers: LayerRow[], acc: AccuracyReport, mode: OutputMode): string {
  const out: string[] = [];
  if (r.calibration) {
    out.push(`${paint(mode, 'bold', 'quantized')} ${r.quantizedLayers} layers (int8 weights, ${r.fusedActivations} Relu/Clip folded, ${r.batchNormsFolded} BatchNorm folded first)${r.opset.from !== r.opset.to ? `, opset ${r.opset.from} → ${r.opset.to}` : ''}`);
    out.push(`calibration: ${r.method} on ${r.calibration.source}: ${r.calibration.tensors} tensors, ${fmtDuration(r.calibration.msPerSample)} per sample`);
  } else out.push(`${paint(mode, 'bold', 'quantized dynamically')} ${r.quantizedLayers} MatMul layers (int8 weights, uint8 activations quantized at run time)`);
  out.push(`evaluation on ${r.evaluation.source} against the BN-folded fp32 model (onnxruntime level all):`);
  out.push('');
  out.push(table(['output', 'SQNR dB', 'max abs err', 'mean abs err'], Object.entries(acc.outputs).map(([k, v]) => [k, db(v.sqnrDb), v.maxAbsError.toPrecision(3), v.meanAbsError.toPrecision(3)]), mode));
  out.push('');
  const withAlone = layers.some((l) => l.aloneSqnrDb !== undefined);
  out.push(
    table(
      ['layer', 'op', 'output', 'SQNR dB', ...(withAlone ? ['output SQNR alone'] : [])],
      layers.map((l) => [
        l.node,
        l.opType + (l.fusedActivation ? `+${l.fusedActivation}` : ''),
        l.output,
        l.sqnrDb === null ? '—' : db(l.sqnrDb),
        ...(withAlone ? [l.aloneSqnrDb === undefined || l.aloneSqnrDb === null ? '—' : db(l.aloneSqnrDb)] : []),
      ]),
      mode,
    ),
  );
  out.push("(SQNR dB: the layer's dequantized output against the fp32 one, error accumulated up to that layer; an output read only by hard-swish/Relu-like ops is compared above the value they are flat below" + (withAlone ? '; output SQNR alone: the model output with only that layer quantized)' : ')'));
  if (r.keptFloat.length > 0) out.push(`kept in float (--min-sqnr): ${r.keptFloat.map((k) => `${k.node} (${k.opType}, ${db(k.aloneSqnrDb)} dB alone)`).join(', ')}`);
  const notQ = r.skipped.filter((s) => s.reason !== 'no quantized neighbour');
  if (notQ.length > 0) out.push(`not quantized: ${notQ.slice(0, 8).map((s) => `${s.node || s.opType} (${s.reason})`).join(', ')}${notQ.length > 8 ? `, … ${notQ.length - 8} more` : ''}`);
  out.push(`file: ${fmtBytes(r.fileBytes.input)} → ${fmtBytes(r.fileBytes.output)} (${r.fileBytes.ratio.toFixed(2)}×)`);
  out.push(`wrote ${r.output}`);
  return out.join('\n');
}
