/**
 * The quantization flow every command shares (`onnxkit quantize`, `optimize --preset edge
 * --calibration`, `report --quantize`, `demo --quantize`): the calibration flags parsed once,
 * the calibration and held-out evaluation samples chosen, activation ranges calibrated through
 * onnxruntime, and two functions, `build` (a QDQ copy of the model, some layers kept in float)
 * and `evaluate` (its output and per-layer SQNR against the float model on the held-out inputs).
 *
 * The model given is the float reference: BatchNormalization already folded (quantize runs
 * fold-batchnorm, optimize the exact passes), every node named (`nameUnnamedNodes`), since layers
 * are named in the reports and in --min-sqnr.
 */
import { cloneModel, type Model, type Tensor } from '@onnxkit/graph';
import { planQdq, quantizeDynamic, quantizeQdq, type QdqPlan, type QdqReport, type QuantType } from '@onnxkit/passes';
// onnxruntime (@onnxkit/runtime) is loaded when quantization runs, not with this module:
// `optimize` imports it for its flags, and most runs never quantize.
import type { AccuracyReport, AccuracySummary, CalibrationMethod } from '@onnxkit/runtime';
import { checkPercentile } from '@onnxkit/runtime/options';
import { CliError } from './errors.js';
import type { CalibrationFlags } from './options.js';
import { fmtDuration, type Progress } from './ui.js';


/** The calibration flags, checked. */
export interface CalibrationSettings {
  calibration?: string;
  eval?: string;
  method: CalibrationMethod;
  percentile: number;
  samples?: number;
  evalSamples?: number;
  seed: number;
  threads: number;
  activationType: QuantType;
  perChannel: boolean;
  dynamic: boolean;
}

/** Parses and checks the calibration flags (usage errors name the flag). */
export function calibrationSettings(opts: CalibrationFlags & { seed?: number; threads?: number; dynamic?: boolean }): CalibrationSettings {
  // commander checked --method and --activation-type against their choices, and parsed the numbers (options.ts).
  const method: CalibrationMethod = opts.method ?? 'minmax';
  const percentile = opts.percentile ?? 99.999;
  if (opts.percentile !== undefined && method !== 'percentile') throw new CliError('--percentile applies to --method percentile');
  checkPercentile(percentile);
  const activationType: QuantType = opts.activationType ?? 'uint8';
  const dynamic = opts.dynamic === true;
  if (dynamic && (opts.calibration !== undefined || opts.method !== undefined || opts.percentile !== undefined || opts.samples !== undefined)) {
    throw new CliError('--dynamic computes activation scales at run time: it takes no --calibration, --method, --percentile or --samples');
  }
  const { samples, evalSamples } = opts;
  return {
    ...(opts.calibration !== undefined ? { calibration: opts.calibration } : {}),
    ...(opts.eval !== undefined ? { eval: opts.eval } : {}),
    method,
    percentile,
    ...(samples !== undefined ? { samples } : {}),
    ...(evalSamples !== undefined ? { evalSamples } : {}),
    // optimize --preset edge has no --seed or --threads: those flags' defaults (options.ts).
    seed: opts.seed ?? 0,
    threads: opts.threads ?? 1,
    activationType,
    perChannel: opts.perTensor !== true,
    dynamic,
  };
}

/** The flags that only make sense when quantizing. */
const CALIBRATION_ONLY: readonly [keyof CalibrationFlags, string][] = [
  ['calibration', '--calibration'],
  ['eval', '--eval'],
  ['method', '--method'],
  ['percentile', '--percentile'],
  ['samples', '--samples'],
  ['evalSamples', '--eval-samples'],
  ['activationType', '--activation-type'],
  ['perTensor', '--per-tensor'],
];

/** The first calibration flag given (as the user spells it), for "--method applies to …" errors. */
export function strayCalibrationFlag(opts: CalibrationFlags, except: readonly (keyof CalibrationFlags)[] = []): string | undefined {
  return CALIBRATION_ONLY.find(([k]) => opts[k] !== undefined && !except.includes(k))?.[1];
}

/** Gives every unnamed node a stable name (`Conv_3`): layers are named in reports and --min-sqnr. */
export function nameUnnamedNodes(model: Model): void {
  const taken = new Set([...model.graph].map((n) => n.name));
  let unnamed = 0;
  for (const n of model.graph) {
    if (n.name) continue;
    let name = `${n.opType}_${unnamed++}`;
    while (taken.has(name)) name = `${n.opType}_${unnamed++}`;
    taken.add(name);
    n.name = name;
  }
}

export interface PreparedQuantization {
  /** The QDQ plan (null with --dynamic). */
  plan: QdqPlan | null;
  /** Calibrated ranges (null with --dynamic). */
  calibration: { source: string; samples: number; msPerSample: number; tensors: number; method: CalibrationMethod; percentile?: number } | null;
  evaluation: { source: string; samples: number };
  evalSamples: Map<string, Tensor>[];
  /** Layers left in float because onnxruntime returned no float32 values for a tensor they touch. */
  uncalibrated: string[];
  /** Warnings to print (synthetic calibration data, uncalibrated layers). */
  warnings: string[];
  /** A quantized copy of the model with `keepFloat` layers left in float. */
  build(keepFloat: readonly string[], requireAnchor?: boolean): { q: Model; report: QdqReport };
  /** Output and per-layer SQNR of a quantized copy against the float model, at onnxruntime `all`. */
  evaluate(q: Model, report: QdqReport): Promise<AccuracyReport>;
  /** The float model's outputs on the evaluation samples at onnxruntime `all`, run once (what `evaluate` compares with). */
  referenceRuns(): Promise<Map<string, Tensor>[]>;
}

/**
 * Chooses the samples (calibration and held-out evaluation) and calibrates the activation ranges.
 * `--calibration` files: the last fifth is held back for evaluation unless `--eval` is given; no
 * calibration data: seeded synthetic inputs, with a warning that real data calibrates better.
 */
export async function prepareQuantization(model: Model, s: CalibrationSettings, progress: Progress): Promise<PreparedQuantization> {
  const { calibrateRanges, listSamples, measureAccuracy, readSamples, referenceRuns, syntheticSamples } = await import('@onnxkit/runtime');
  const plan = s.dynamic ? null : planQdq(model, { activationType: s.activationType, perChannel: s.perChannel });
  const warnings: string[] = [];
  const evalFiles = (): Map<string, Tensor>[] => {
    let ev = listSamples(s.eval!, '--eval');
    if (s.evalSamples !== undefined) ev = ev.slice(0, s.evalSamples);
    return [...readSamples(ev, model)];
  };
  let calibration: Iterable<Map<string, Tensor>>;
  let calibrationCount: number;
  let calibrationSource: string;
  let evalSamples: Map<string, Tensor>[];
  let evalSource: string;
  if (s.dynamic) {
    calibration = [];
    calibrationCount = 0;
    calibrationSource = 'none (--dynamic)';
    const n = s.evalSamples ?? 4;
    evalSamples = s.eval !== undefined ? evalFiles() : [...syntheticSamples(model, n, s.seed + 1_000_000)];
    evalSource = s.eval ?? `${n} seeded synthetic inputs (seed ${s.seed + 1_000_000})`;
  } else if (s.calibration !== undefined) {
    let files = listSamples(s.calibration, '--calibration');
    let held: string[][] = [];
    if (s.eval === undefined) {
      if (files.length < 2) throw new CliError(`--calibration ${s.calibration} holds ${files.length} sample; give at least 2 (one is held back for evaluation) or --eval DIR`);
      const k = Math.max(1, Math.floor(files.length / 5));
      held = files.slice(files.length - k);
      files = files.slice(0, files.length - k);
    }
    if (s.samples !== undefined) files = files.slice(0, s.samples);
    calibration = readSamples(files, model);
    calibrationCount = files.length;
    calibrationSource = s.calibration;
    if (s.eval !== undefined) {
      evalSamples = evalFiles();
      evalSource = s.eval;
    } else {
      evalSamples = [...readSamples(held, model)];
      evalSource = `${held.length} held-back sample(s) of --calibration`;
    }
  } else {
    calibrationCount = s.samples ?? 16;
    calibration = syntheticSamples(model, calibrationCount, s.seed);
    calibrationSource = `${calibrationCount} seeded synthetic inputs (seed ${s.seed})`;
    warnings.push(`no --calibration data: calibrating on ${calibrationCount} seeded synthetic inputs; real inputs calibrate better`);
    if (s.eval !== undefined) {
      evalSamples = evalFiles();
      evalSource = s.eval;
    } else {
      const n = s.evalSamples ?? 4;
      evalSamples = [...syntheticSamples(model, n, s.seed + 1_000_000)];
      evalSource = `${n} seeded synthetic inputs (seed ${s.seed + 1_000_000}, not used for calibration)`;
    }
  }

  const sessionOptions = { intraOpNumThreads: s.threads };
  let cal: Awaited<ReturnType<typeof calibrateRanges>> | undefined;
  if (plan) {
    const step = progress.step(`calibrate (${s.method}, ${calibrationCount} samples)`);
    cal = await calibrateRanges(model, calibration, {
      tensors: plan.tensors,
      method: s.method,
      percentile: s.percentile,
      sessionOptions,
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

  const build = (keepFloat: readonly string[], requireAnchor = true): { q: Model; report: QdqReport } => {
    const q = cloneModel(model);
    if (!cal) {
      const d = quantizeDynamic(q, { perChannel: s.perChannel, keepFloat });
      const opset = model.opsetVersion('') ?? 0;
      return { q, report: { ...d, quantizedTensors: 0, fusedActivations: [], opset: { from: opset, to: opset }, params: new Map() } };
    }
    const report = quantizeQdq(q, { activationType: s.activationType, perChannel: s.perChannel, ranges: cal.ranges, keepFloat, uncalibrated, requireAnchor });
    return { q, report };
  };
  // The fp32 outputs, computed once and compared with every candidate (sensitivity, mixed precision).
  let refAll: Promise<Map<string, Tensor>[]> | undefined;
  const refs = (): Promise<Map<string, Tensor>[]> => (refAll ??= referenceRuns(model, evalSamples, sessionOptions));
  const evaluate = async (q: Model, report: QdqReport): Promise<AccuracyReport> =>
    measureAccuracy(model, q, evalSamples, {
      sessionOptions,
      referenceRuns: await refs(),
      layers: report.layers.filter((l) => l.output !== null && l.quantizedOutput !== null).map((l) => ({ reference: l.output!, quantized: l.quantizedOutput!, clampBelow: l.flatBelow })),
    });

  return {
    plan,
    calibration: cal
      ? { source: calibrationSource, samples: cal.samples, msPerSample: cal.ms / cal.samples, tensors: cal.ranges.size, method: s.method, ...(s.method === 'percentile' ? { percentile: s.percentile } : {}) }
      : null,
    evaluation: { source: evalSource, samples: evalSamples.length },
    evalSamples,
    uncalibrated,
    warnings,
    build,
    evaluate,
    referenceRuns: refs,
  };
}

/** A number JSON can carry (Infinity as the string "Infinity"). */
export function jsonNumber(x: number): number | string {
  return Number.isFinite(x) ? x : String(x);
}

/** SQNR, max and mean absolute error of one accuracy summary, for --json. */
export function summaryJson(s: AccuracySummary): Record<string, number | string> {
  return { sqnrDb: jsonNumber(s.sqnrDb), maxAbsError: s.maxAbsError, meanAbsError: s.meanAbsError };
}
