/**
 * `onnxkit optimize --preset edge --calibration DIR|glob`: the `edge` preset with calibration
 * data means int8. The exact passes run to their fixed point (the `default` preset: BatchNorm
 * folded among them; fp16-weights is not run), then the model is quantized once, outside the
 * fixed-point loop, with the same code as `onnxkit quantize` (static-quantize.ts): activation
 * ranges calibrated through onnxruntime, QDQ nodes that onnxruntime fuses into QLinearConv/QGemm
 * and friends, int8 per-channel weights, int32 biases. The output SQNR and error are measured on
 * held-out inputs against the fp32 model the exact passes produced (onnxruntime level `all`).
 * Without calibration data `edge` stays `default` + fp16-weights.
 */
import type { Model } from '@onnxkit/graph';
import { oneLine, type QdqReport, type QdqSkip, type QdqSkipCode } from '@onnxkit/passes';
import type { AccuracyReport } from '@onnxkit/runtime';
import { CliError } from './errors.js';
import type { CalibrationFlags } from './options.js';
import { calibrationSettings, strayCalibrationFlag, nameUnnamedNodes, prepareQuantization, summaryJson, type CalibrationSettings, type PreparedQuantization } from './static-quantize.js';
import { compareNames, fmtBytes, paint, table, type OutputMode, type Progress } from './ui.js';
import { fmtDb } from './units.js';

/**
 * The int8 settings of `optimize --preset edge --calibration`, checked before the model is read;
 * undefined when no calibration data is given (then `edge` stores fp16 weights).
 */
export async function edgeQuantizeSettings(opts: CalibrationFlags & { preset?: string; passes?: string }): Promise<CalibrationSettings | undefined> {
  if (opts.calibration === undefined) {
    const stray = strayCalibrationFlag(opts);
    if (stray) throw new CliError(`${stray} applies to int8 quantization: give --preset edge --calibration DIR too`, { hint: 'or run onnxkit quantize, which also calibrates on synthetic inputs' });
    return undefined;
  }
  if (opts.preset !== 'edge' || opts.passes !== undefined) {
    throw new CliError('--calibration applies to --preset edge (the exact passes, then static int8 quantization)', { hint: `onnxkit optimize IN OUT --preset edge --calibration ${opts.calibration}` });
  }
  const settings = calibrationSettings(opts);
  // A missing folder or an empty glob fails now, not after the passes have run.
  const { listSamples } = await import('@onnxkit/runtime');
  listSamples(opts.calibration, '--calibration');
  if (opts.eval !== undefined) listSamples(opts.eval, '--eval');
  return settings;
}

export interface EdgeQuantization {
  /** The quantized model (a new model; the fp32 one is the reference). */
  model: Model;
  report: QdqReport;
  accuracy: AccuracyReport;
  settings: CalibrationSettings;
  prepared: Omit<PreparedQuantization, 'build' | 'evaluate' | 'evalSamples' | 'plan' | 'referenceRuns'>;
}

/** Quantizes the (already optimized, BN-folded) fp32 model and measures it on held-out inputs. */
export async function quantizeForEdge(model: Model, settings: CalibrationSettings, progress: Progress): Promise<EdgeQuantization> {
  nameUnnamedNodes(model);
  const prepared = await prepareQuantization(model, settings, progress);
  const step = progress.step('quantize (static int8, QDQ) and evaluate');
  const { q, report } = prepared.build([]);
  const accuracy = await prepared.evaluate(q, report);
  step.done(`${report.layers.length} layers, output SQNR ${fmtDb(accuracy.overall.sqnrDb)} dB`);
  const { calibration, evaluation, uncalibrated, warnings } = prepared;
  return { model: q, report, accuracy, settings, prepared: { calibration, evaluation, uncalibrated, warnings } };
}

/** The `quantize` part of `optimize --json`. */
export function edgeQuantizationJson(e: EdgeQuantization): Record<string, unknown> {
  const r = e.report;
  return {
    mode: 'static',
    activationType: e.settings.activationType,
    perChannel: e.settings.perChannel,
    calibration: e.prepared.calibration,
    evaluation: { ...e.prepared.evaluation, reference: 'the fp32 model after the exact passes, onnxruntime level all' },
    opset: r.opset,
    quantizedLayers: r.layers.length,
    layersByOp: byOp(r.layers.map((l) => l.opType)),
    quantizedTensors: r.quantizedTensors,
    fusedActivations: r.fusedActivations.length,
    skipped: r.skipped,
    uncalibrated: e.prepared.uncalibrated,
    weightBytes: { before: r.weightBytesBefore, after: r.weightBytesAfter },
    accuracy: { overall: summaryJson(e.accuracy.overall), outputs: Object.fromEntries(Object.entries(e.accuracy.outputs).map(([k, v]) => [k, summaryJson(v)])) },
    warnings: e.prepared.warnings,
  };
}

function byOp(ops: readonly string[]): Record<string, number> {
  const h: Record<string, number> = {};
  for (const op of ops) h[op] = (h[op] ?? 0) + 1;
  return Object.fromEntries(Object.entries(h).sort((a, b) => b[1] - a[1] || compareNames(a[0], b[0])));
}

/** The summary after the pass table: what was quantized and the accuracy on held-out inputs. */
export function formatEdgeQuantization(e: EdgeQuantization, mode: OutputMode): string {
  const r = e.report;
  const c = e.prepared.calibration!;
  const out = [
    `${paint(mode, 'bold', 'quantize')} (static int8, QDQ, as onnxkit quantize) — ${r.layers.length} layers quantized, ${r.fusedActivations.length} Relu/Clip folded into them; weights ${fmtBytes(r.weightBytesBefore)} → ${fmtBytes(r.weightBytesAfter)}${r.opset.from !== r.opset.to ? `; opset ${r.opset.from} → ${r.opset.to}` : ''}`,
    `calibration: ${c.method}${c.percentile !== undefined ? ` ${c.percentile}` : ''} on ${c.source} (${c.samples} samples, ${c.tensors} tensors); evaluation on ${e.prepared.evaluation.source} against the fp32 model after the exact passes (onnxruntime level all):`,
    table(['output', 'SQNR dB', 'max abs err', 'mean abs err'], Object.entries(e.accuracy.outputs).map(([k, v]) => [k, fmtDb(v.sqnrDb), v.maxAbsError.toPrecision(3), v.meanAbsError.toPrecision(3)]), mode),
    '(per-layer SQNR, sensitivity and mixed precision: onnxkit quantize --sensitivity / --min-sqnr)',
  ];
  return out.join('\n');
}

/** `--explain`: what the int8 step did, after the passes' own explanation. */
export function explainEdgeQuantization(e: EdgeQuantization): string {
  const r = e.report;
  const lines = [
    'edge with --calibration: the exact passes ran to their fixed point (fp16-weights not run: the weights become int8), then quantize ran once, after the loop (its QuantizeLinear/DequantizeLinear pairs are never folded back):',
  ];
  const ops = byOp(r.layers.map((l) => l.opType + (l.fusedActivation ? `+${l.fusedActivation}` : '')));
  lines.push(`  quantized: ${Object.entries(ops).map(([op, n]) => `${op} ×${n}`).join(', ')} (${r.quantizedTensors} activation tensors given a Q/DQ pair; int8 per-${e.settings.perChannel ? 'channel' : 'tensor'} weights, ${e.settings.activationType} activations, int32 biases)`);
  if (r.fusedActivations.length) lines.push(`  folded into the quantized output's range (removed): ${r.fusedActivations.length} Relu/Clip`);
  // One line per reason code: the words when every node of the code has the same ones, else the
  // code (range-not-finite and constant-not-finite name a tensor or an input in their words).
  const byCode = new Map<QdqSkipCode, QdqSkip[]>();
  for (const s of r.skipped) byCode.set(s.code, [...(byCode.get(s.code) ?? []), s]);
  for (const [code, list] of byCode) {
    const label = list.every((s) => s.reason === list[0]!.reason) ? list[0]!.reason : code;
    const nodes = list.map((s) => s.node || s.opType);
    lines.push(`  kept in float [${label}] ×${nodes.length}: ${nodes.slice(0, 6).join(', ')}${nodes.length > 6 ? `, … ${nodes.length - 6} more` : ''}`);
  }
  lines.push(`  output SQNR ${fmtDb(e.accuracy.overall.sqnrDb)} dB on ${e.prepared.evaluation.samples} held-out sample(s); onnxruntime fuses the QDQ pairs into integer kernels (QLinearConv, QGemm, …) when it optimizes the graph at load`);
  return lines.map(oneLine).join('\n');
}
