/**
 * The int8 model beside fp32, for `report --quantize` and `demo`: the fp32 model (BatchNorm
 * folded) is quantized with the code of `onnxkit quantize` (static-quantize.ts), both are analyzed
 * (size at stored dtypes, MACs, FLOPs and integer OPs, the roofline at the device's int8 peak,
 * the energy estimate), timed as interleaved pairs at onnxruntime `all` (the ratio's 95% interval
 * as `bench` reports it), and the int8 outputs are compared with fp32 on held-out inputs (SQNR).
 */
import { cloneModel, type Model } from '@onnxkit/graph';
import { encode } from '@onnxkit/importer';
import { analyzeModel, runPipeline, type AnalysisReport, type DeviceProfile, type QdqReport } from '@onnxkit/passes';
import { benchPair, formatSpeedup, type AccuracyReport, type AccuracySummary, type BenchPairResult } from '@onnxkit/runtime';
import { latencyFromBenchPair, summarizeModel, type ReportQuantized, type ReportQuantizedError } from './report/index.js';
import { nameUnnamedNodes, prepareQuantization, type CalibrationSettings, type PreparedQuantization } from './static-quantize.js';
import type { Progress } from './ui.js';
import { fmtDb } from './units.js';
import { analysisMemory } from './memory.js';

export interface QuantizeBesideOptions {
  settings: CalibrationSettings;
  device: DeviceProfile;
  /** Shapes for the analyses (as the job's): pinned input shapes and bound symbolic dims. */
  analysisShapes?: { inputShapes?: Record<string, (number | string)[]>; dimValues?: Record<string, number> };
  /** Interleaved timed pairs; 0 skips the measurement. */
  benchIterations: number;
  threads: number;
  seed: number;
  progress: Progress;
  /** What the fp32 side is, in words (the report says it). */
  reference: string;
  /** Display name of the int8 model. */
  name: string;
  /** Called with each warning (synthetic calibration data, layers left in float) as soon as it is known. */
  warn?: (message: string) => void;
}

export interface QuantizedBeside {
  /** The fp32 reference (BatchNorm folded, nodes named). */
  fp32: Model;
  int8: Model;
  report: QdqReport;
  accuracy: AccuracyReport;
  prepared: PreparedQuantization;
  fp32Analysis: AnalysisReport;
  int8Analysis: AnalysisReport;
  /** Encoded sizes of the two models (no external data). */
  fp32Bytes: number;
  int8Bytes: number;
  bench?: BenchPairResult;
  /** The HTML report's block. */
  data: ReportQuantized;
}

function err(name: string, s: AccuracySummary): ReportQuantizedError {
  return { name, sqnrDb: Number.isFinite(s.sqnrDb) ? s.sqnrDb : null, maxAbsError: s.maxAbsError, meanAbsError: s.meanAbsError };
}

/** Quantizes a copy of `fp32` and measures it beside fp32 (see the module header). */
export async function quantizeBeside(fp32Source: Model, o: QuantizeBesideOptions): Promise<QuantizedBeside> {
  const fp32 = cloneModel(fp32Source);
  // The quantize command's reference: BatchNorm folded (a no-op after the default passes).
  await runPipeline(fp32, ['fold-batchnorm'], { verify: 'pass' });
  nameUnnamedNodes(fp32);
  const prepared = await prepareQuantization(fp32, o.settings, o.progress);
  for (const w of prepared.warnings) o.warn?.(w);
  let step = o.progress.step('quantize (static int8, QDQ) and evaluate against fp32');
  const { q, report } = prepared.build([]);
  const accuracy = await prepared.evaluate(q, report);
  step.done(`${report.layers.length} layers, output SQNR ${fmtDb(accuracy.overall.sqnrDb)} dB`);

  step = o.progress.step('analyze int8 and fp32');
  const shapes = o.analysisShapes ?? {};
  const fp32Analysis = analyzeModel(fp32, { device: o.device, ...shapes, memory: analysisMemory() });
  const int8Analysis = analyzeModel(q, { device: o.device, ...shapes, memory: analysisMemory() });
  const fp32Bytes = encode(fp32).byteLength;
  const int8Bytes = encode(q).byteLength;
  step.done();

  let bench: BenchPairResult | undefined;
  if (o.benchIterations > 0) {
    step = o.progress.step('benchmark fp32 vs int8, interleaved (ORT all)');
    bench = await benchPair(fp32, q, {
      iterations: o.benchIterations,
      warmup: Math.min(5, o.benchIterations),
      threads: o.threads,
      graphOptimizationLevel: 'all',
      synthetic: { seed: o.seed, ...(shapes.dimValues ? { dimValues: shapes.dimValues } : {}) },
      onProgress: (p) => step.update(p.total ? p.done / p.total : undefined, `${p.phase} ${p.model}`),
    });
    step.done(`p50 ${bench.a.latency.p50Ms.toFixed(2)} / ${bench.b.latency.p50Ms.toFixed(2)} ms, speed-up ${formatSpeedup(bench.ratio, bench.a.iterations)}`);
  }

  const c = prepared.calibration!;
  const data: ReportQuantized = {
    reference: o.reference,
    fp32: { analysis: fp32Analysis, fileBytes: fp32Bytes },
    int8: { model: summarizeModel(q, { name: o.name, fileBytes: int8Bytes }), analysis: int8Analysis },
    calibration: { method: c.method, ...(c.percentile !== undefined ? { percentile: c.percentile } : {}), source: c.source, samples: c.samples, msPerSample: c.msPerSample },
    evaluation: prepared.evaluation,
    layers: report.layers.length,
    fusedActivations: report.fusedActivations.length,
    skipped: report.skipped,
    accuracy: { overall: err('all outputs', accuracy.overall), outputs: Object.entries(accuracy.outputs).map(([k, v]) => err(k, v)) },
    ...(bench ? { latency: latencyFromBenchPair(bench) } : {}),
  };
  return { fp32, int8: q, report, accuracy, prepared, fp32Analysis, int8Analysis, fp32Bytes, int8Bytes, ...(bench ? { bench } : {}), data };
}
