/**
 * Adapters from the other packages' results to ReportData: a Model to its summary, a
 * PipelineReport to per-pass changes, a VerifyReport to verification stats, bench results and
 * ORT profiles to measured latency. They copy every field the report can show, so the CLI
 * feeds the report without losing information and the report keeps no reference to live
 * objects (the data is embedded as JSON).
 */
import { dataTypeName, type Model } from '@onnxkit/graph';
import type { PipelineReport } from '@onnxkit/passes';
import { ReportError } from './errors.js';
import { fmtInt } from './format.js';
import type { BenchPairResult, BenchResult, RooflineComparison, SurvivingRun, VerifyLatency, VerifyReport } from '@onnxkit/runtime';
import type {
  ReportCrash,
  ReportLatency,
  ReportLatencyStats,
  ReportLayerTime,
  ReportModelSummary,
  ReportOptimized,
  ReportPassChange,
  ReportVerification,
} from './types.js';

export interface SummarizeOptions {
  /** Display name; default the graph name, else the file's stem, else "model". */
  name?: string;
  /** Path of the ONNX file, as the user gave it. */
  file?: string | null;
  /** Size on disk (ONNX file plus external data). */
  fileBytes?: number | null;
}

function stem(file: string): string {
  const base = file.split(/[\\/]/).pop() ?? file;
  return base.replace(/\.onnx$/i, '') || base;
}

/** The header data of a model: metadata, interface, node count and op histogram. */
export function summarizeModel(model: Model, options: SummarizeOptions = {}): ReportModelSummary {
  const file = options.file ?? null;
  const hist = new Map<string, number>();
  // The main graph and its control-flow subgraphs: function bodies and training graphs are not
  // what inference runs.
  for (const g of [model.graph, ...model.graph.subgraphs()]) {
    for (const n of g) {
      const op = n.isOnnxDomain ? n.opType : `${n.domain}::${n.opType}`;
      hist.set(op, (hist.get(op) ?? 0) + 1);
    }
  }
  const opHistogram = Object.fromEntries([...hist.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)));
  const io = (v: Model['graph']['inputs'][number]): ReportModelSummary['inputs'][number] => ({
    name: v.name,
    dtype: v.dtype === undefined ? 'unknown' : dataTypeName(v.dtype),
    shape: v.shape === null ? null : [...v.shape],
  });
  let initBytes = 0;
  for (const v of model.graph.initializers.values()) initBytes += v.constValue?.byteLength ?? 0;
  return {
    name: options.name ?? (model.graph.name || (file ? stem(file) : 'model')),
    file,
    fileBytes: options.fileBytes ?? null,
    producer: { name: model.producerName, version: model.producerVersion },
    irVersion: model.irVersion,
    opset: model.opsetVersion('') ?? null,
    opsets: [...model.opsetImports].map(([domain, version]) => ({ domain: domain || 'ai.onnx', version })),
    domain: model.domain,
    modelVersion: String(model.modelVersion),
    docString: model.docString,
    metadata: Object.fromEntries(model.metadataProps),
    inputs: model.graph.inputs.filter((v) => !v.isInitializer).map(io),
    outputs: model.graph.outputs.map(io),
    nodes: model.graph.nodeCount,
    opHistogram,
    initializers: { count: model.graph.initializers.size, bytes: initBytes },
  };
}

/** Per-pass changes of a pipeline run (PassManager / runPipeline). */
export function passChanges(report: PipelineReport): ReportPassChange[] {
  return report.summary.map((s) => ({
    pass: s.pass,
    runs: s.runs,
    changes: s.changes,
    nodesAdded: s.nodesAdded,
    nodesRemoved: s.nodesRemoved,
    bytesDelta: s.bytesDelta,
    timeMs: s.timeMs,
    rejected: { ...s.rejected },
  }));
}

/** The optimized side of the report from the optimized model's summary, analysis and pipeline run. */
export function optimizedData(
  model: ReportModelSummary,
  analysis: ReportOptimized['analysis'],
  report: PipelineReport,
  pipeline?: string,
): ReportOptimized {
  return {
    model,
    analysis,
    ...(pipeline !== undefined ? { pipeline } : {}),
    passes: passChanges(report),
    iterations: report.iterations,
    converged: report.converged,
    totalChanges: report.totalChanges,
    timeMs: report.timeMs,
  };
}

function describeInputs(v: VerifyReport['inputs']): string {
  const shapes = Object.entries(v.shapes)
    .map(([k, s]) => `${k} ${s.join('×')}`)
    .join(', ');
  if (v.source === 'synthetic') {
    const dist =
      v.distribution === 'uniform'
        ? `uniform${v.range ? ` [${v.range[0]}, ${v.range[1]})` : ''}`
        : `normal${v.mean !== null ? ` μ=${v.mean}` : ''}${v.std !== null ? ` σ=${v.std}` : ''}`;
    return `synthetic ${dist}, seed ${v.seed}${shapes ? `; ${shapes}` : ''}`;
  }
  if (v.source === 'files') return `files ${v.files.join(', ')}${shapes ? `; ${shapes}` : ''}`;
  return `given feeds${shapes ? `; ${shapes}` : ''}`;
}

/** Verification stats of `verifyModels(original, optimized)`. */
export function verificationData(v: VerifyReport, graphOptimizationLevel?: string): ReportVerification {
  const fd = v.firstDivergence;
  return {
    equivalent: v.equivalent,
    verdict: v.verdict,
    ...(v.reference
      ? {
          reference: {
            basis: v.reference.basis,
            unavailable: v.reference.unavailable?.reason ?? null,
            rule: v.reference.rule.text,
            outputs: v.reference.outputs.map((o) => ({ name: o.name, aMaxError: o.a.maxError, aMeanError: o.a.meanError, aSqnrDb: o.a.sqnrDb, bMaxError: o.b.maxError, bMeanError: o.b.meanError, bSqnrDb: o.b.sqnrDb, budget: o.budget, exceeding: o.exceeding, pass: o.pass })),
          },
        }
      : {}),
    reason: v.reason,
    tolerance: { atol: v.tolerance.atol, rtol: v.tolerance.rtol, perOutput: { ...v.tolerance.perOutput } },
    outputs: v.outputs.map((o) => ({
      name: o.name,
      dtypeA: o.dtypeA,
      dtypeB: o.dtypeB,
      shapeA: o.shapeA,
      shapeB: o.shapeB,
      exact: o.exact,
      atol: o.atol,
      rtol: o.rtol,
      total: o.total,
      compared: o.compared,
      mismatches: o.mismatches,
      pass: o.pass,
      reason: o.reason,
      maxAbsError: o.maxAbsError,
      meanAbsError: o.meanAbsError,
      p99AbsError: o.p99AbsError,
      maxRelError: o.maxRelError,
      meanRelError: o.meanRelError,
      p99RelError: o.p99RelError,
      cosine: o.cosine,
      nan: { ...o.nan },
      inf: { ...o.inf },
    })),
    compared: v.compared,
    inputs: describeInputs(v.inputs),
    ...(graphOptimizationLevel !== undefined || v.latency ? { graphOptimizationLevel: graphOptimizationLevel ?? v.latency?.graphOptimizationLevel } : {}),
    ...(fd === undefined
      ? {}
      : { firstDivergence: fd === null ? null : { value: fd.value, node: fd.node.name, opType: fd.node.opType, maxAbsError: fd.comparison.maxAbsError } }),
  };
}

function stats(s: ReportLatencyStats): ReportLatencyStats {
  return { p50Ms: s.p50Ms, p90Ms: s.p90Ms, p99Ms: s.p99Ms, meanMs: s.meanMs, minMs: s.minMs, maxMs: s.maxMs, stdMs: s.stdMs };
}

/** Measured latency from `verifyModels(..., { bench })` (A = original, B = optimized). */
export function latencyFromVerify(l: VerifyLatency): ReportLatency {
  return {
    original: stats(l.a),
    optimized: stats(l.b),
    ratio: l.ratio,
    ratioP10: l.ratioStats.p10,
    ratioP90: l.ratioStats.p90,
    ratioCi: l.ratioStats.ci,
    iterations: l.iterations,
    warmup: l.warmup,
    threads: l.threads,
    graphOptimizationLevel: l.graphOptimizationLevel,
  };
}

/** Measured latency from `benchPair(original, optimized)`; per-layer times from profiles when recorded. */
export function latencyFromBenchPair(
  pair: BenchPairResult,
  perLayer?: { original?: RooflineComparison; optimized?: RooflineComparison },
): ReportLatency {
  return {
    original: stats(pair.a.latency),
    optimized: stats(pair.b.latency),
    ratio: pair.ratio.median,
    ratioP10: pair.ratio.p10,
    ratioP90: pair.ratio.p90,
    ratioCi: pair.ratio.ci,
    iterations: pair.a.iterations,
    warmup: pair.a.warmup,
    threads: pair.a.threads,
    graphOptimizationLevel: pair.a.graphOptimizationLevel,
    ...(perLayer?.original ? { perLayer: layerTimes(perLayer.original) } : {}),
    ...(perLayer?.optimized ? { perLayerOptimized: layerTimes(perLayer.optimized) } : {}),
  };
}

/** Per-layer measured times from `compareWithRoofline(parseProfile(...), analysis)`. */
export function layerTimes(c: RooflineComparison): ReportLayerTime[] {
  return c.rows.map((r) => ({ name: r.name, measuredUs: r.measuredUs, estimatedUs: r.estimatedAsExecutedUs, ratio: r.ratio, ...(r.fusedInto ? { fusedInto: r.fusedInto } : {}) }));
}

/**
 * onnxruntime crashed on a model (side A = original, B = optimized; `both`: on the other too):
 * the reason, and what the other model produced — its verify run's outputs and its benchmark
 * alone (`bench`, with the per-layer comparison of its profile when recorded).
 */
export function crashData(c: {
  side: 'A' | 'B';
  both: boolean;
  step: 'verify' | 'benchmark';
  error: { message: string; model?: string | undefined };
  survivorRun?: SurvivingRun;
  bench?: BenchResult;
  perLayer?: RooflineComparison;
}): ReportCrash {
  const name = (s: 'A' | 'B'): 'original' | 'optimized' => (s === 'A' ? 'original' : 'optimized');
  const other = name(c.side === 'A' ? 'B' : 'A');
  const r = c.survivorRun;
  const b = c.bench;
  return {
    crashed: c.both ? ['original', 'optimized'] : [name(c.side)],
    model: c.error.model ?? name(c.side),
    reason: c.error.message.split('\n')[0]!,
    step: c.step,
    ...(r && !c.both
      ? { survivorRun: { side: other, createMs: r.createMs, runMs: r.runMs, outputs: [...r.outputs].map(([n, t]) => ({ name: n, dtype: dataTypeName(t.dtype), shape: [...t.dims] })) } }
      : {}),
    ...(b && !c.both
      ? {
          survivorLatency: {
            side: other,
            stats: stats(b.latency),
            iterations: b.iterations,
            warmup: b.warmup,
            threads: b.threads,
            graphOptimizationLevel: b.graphOptimizationLevel,
            ...(c.perLayer ? { perLayer: layerTimes(c.perLayer) } : {}),
          },
        }
      : {}),
  };
}

/**
 * Layers an HTML report holds. The page carries every layer's row (≈ 1.1 KB of HTML each, twice
 * with an optimized model beside it): 300,000 Relu layers made a 326 MiB page (3.1 GB of RSS to
 * write), a million would pass V8's longest string. A model this large gets a clear refusal
 * pointing at the tables that scale (`analyze --csv`, `analyze --json`, written in pieces).
 */
export const MAX_REPORT_LAYERS = 100_000;

/** Refuses a model whose report page would hold more than MAX_REPORT_LAYERS layers. */
export function refuseOversizedReport(model: Model, file: string): void {
  const n = model.graph.nodeCount;
  if (n <= MAX_REPORT_LAYERS) return;
  throw new ReportError(`${file}: ${fmtInt(n)} layers are more than an HTML report holds (${fmtInt(MAX_REPORT_LAYERS)}, about 110 MB of page)`, {
    code: 'REPORT_TOO_LARGE',
    hint: 'for the per-layer numbers of a model this large use `onnxkit analyze --csv` or `--json`; `onnxkit optimize` and `verify` have no such limit',
  });
}
