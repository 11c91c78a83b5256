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
import type { Model } from '@onnxkit/graph';
import { save } from '@onnxkit/importer';
import { runPipeline, type QdqReport, type QdqSkip } from '@onnxkit/passes';
import { measureAccuracy, referenceRuns, type AccuracyReport } from '@onnxkit/runtime';
import { ensureParent, refuseOverwritingFiles, refuseOverwritingInput, refuseOverwritingModelFiles, refuseUnwritableOutput } from '../fs-utils.js';
import { loadModel } from '../limits.js';
import { calibrationSettings, jsonNumber, nameUnnamedNodes, prepareQuantization, summaryJson } from '../static-quantize.js';
import { fmtDb as db } from '../units.js';
import { fmtBytes, fmtDuration, outputMode, paint, Progress, table, type OutputMode } from '../ui.js';
import type { OptionsOf } from '../definitions.js';

/** The options of `onnxkit quantize`, as its definition (definitions.ts) makes commander parse them. */
export type QuantizeCliOptions = OptionsOf<'quantize'>;

interface LayerRow {
  node: string;
  opType: string;
  output: string;
  fusedActivation?: string;
  sqnrDb: number | null;
  /** Output SQNR with only this layer quantized (--sensitivity, --min-sqnr). */
  aloneSqnrDb?: number | null;
}

export default async function quantize(input: string, opts: QuantizeCliOptions): Promise<number> {
  const mode = outputMode(opts);
  refuseOverwritingInput(input, opts.output, '-o');
  refuseOverwritingFiles(opts.output, '-o', [['--calibration', opts.calibration], ['--eval', opts.eval]]);
  refuseUnwritableOutput(opts.output);
  const settings = calibrationSettings(opts);
  const minSqnr = opts.minSqnr;
  const dynamic = settings.dynamic;
  const progress = new Progress(mode);
  let step = progress.step(`import ${input}`);
  const model = loadModel(input);
  refuseOverwritingModelFiles(model, opts.output, '-o');
  const inBytes = statSync(input).size;
  step.done();

  step = progress.step('fold BatchNormalization');
  const folded = await runPipeline(model, ['fold-batchnorm'], { verify: 'pass' });
  step.done(`${folded.totalChanges} folded`);
  nameUnnamedNodes(model);

  // Samples (calibration and held-out evaluation), calibrated ranges, build and evaluate.
  const prepared = await prepareQuantization(model, settings, progress);
  const { build, evaluate, evalSamples, warnings } = prepared;
  const sessionOptions = { intraOpNumThreads: settings.threads };
  if (!mode.json) for (const w of warnings) process.stderr.write(`onnxkit: warning: ${w}\n`);
  const early = warnings.length;
  // The fp32 outputs, computed once per optimization level and compared with every candidate.
  const refAll = await prepared.referenceRuns();

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
  const summary = summaryJson;
  const result = {
    input,
    output: opts.output,
    method: dynamic ? null : settings.method,
    ...(!dynamic && settings.method === 'percentile' ? { percentile: settings.percentile } : {}),
    activationType: settings.activationType,
    perChannel: settings.perChannel,
    mode: dynamic ? 'dynamic' : 'static',
    calibration: prepared.calibration ? { source: prepared.calibration.source, samples: prepared.calibration.samples, msPerSample: prepared.calibration.msPerSample, tensors: prepared.calibration.tensors } : null,
    evaluation: { ...prepared.evaluation, reference: 'BN-folded fp32 model, onnxruntime level all' },
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
  skipped: QdqSkip[];
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
  const notQ = r.skipped.filter((s) => s.code !== 'no-quantized-neighbour');
  if (notQ.length > 0) out.push(`not quantized: ${notQ.slice(0, 8).map((s) => `${s.node || s.opType} (${s.reason})`).join(', ')}${notQ.length > 8 ? `, … ${notQ.length - 8} more` : ''}`);
  out.push(`file: ${fmtBytes(r.fileBytes.input)} → ${fmtBytes(r.fileBytes.output)} (${r.fileBytes.ratio.toFixed(2)}×)`);
  out.push(`wrote ${r.output}`);
  return out.join('\n');
}
