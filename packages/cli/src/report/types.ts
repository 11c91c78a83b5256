/**
 * ReportData: everything the HTML report shows, as plain JSON-serialisable data. It is decoupled
 * from the internal types of the other packages (only the analysis is `AnalysisReport` itself);
 * `adapters.ts` fills it from a Model, a PipelineReport, a VerifyReport and bench results
 * without dropping fields the report can use.
 */
import type { AnalysisReport, QdqSkip } from '@onnxkit/passes';

/** A dimension: a size, a symbol ("N") or unknown (null). */
export type ReportDim = number | string | null;

export interface ReportIo {
  readonly name: string;
  /** Element type name ("float", "int64", …) or "unknown". */
  readonly dtype: string;
  /** null: the rank is unknown. */
  readonly shape: readonly ReportDim[] | null;
}

/** What a model is: the header of the report and each side of the before/after comparison. */
export interface ReportModelSummary {
  /** Display name (the graph name, or the file's stem). */
  readonly name: string;
  /** Path of the ONNX file, as the user gave it (null: built in memory, e.g. from the zoo). */
  readonly file: string | null;
  /** Size of the ONNX file (plus external data) in bytes; null when not written to disk. */
  readonly fileBytes: number | null;
  readonly producer: { readonly name: string; readonly version: string };
  readonly irVersion: number;
  /** Default-domain (ai.onnx) opset version; null when the model imports none. */
  readonly opset: number | null;
  /** Every opset import, `ai.onnx` for the default domain. */
  readonly opsets: readonly { readonly domain: string; readonly version: number }[];
  readonly domain?: string;
  readonly modelVersion?: string;
  readonly docString?: string;
  /** metadata_props, in file order. */
  readonly metadata: Readonly<Record<string, string>>;
  readonly inputs: readonly ReportIo[];
  readonly outputs: readonly ReportIo[];
  /** Nodes of the main graph. */
  readonly nodes: number;
  /** Op type → count over the main graph and its subgraphs; custom domains as `domain::Op`. */
  readonly opHistogram: Readonly<Record<string, number>>;
  readonly initializers?: { readonly count: number; readonly bytes: number };
}

/** One pass's effect over the whole pipeline run (a PassSummary of @onnxkit/passes). */
export interface ReportPassChange {
  readonly pass: string;
  /** How many times the pass ran (pipeline sweeps). */
  readonly runs?: number;
  readonly changes: number;
  readonly nodesAdded: number;
  readonly nodesRemoved: number;
  /** Initializer bytes after minus before: negative = bytes saved. */
  readonly bytesDelta: number;
  readonly timeMs: number;
  /** Declined candidates per reason code. */
  readonly rejected?: Readonly<Record<string, number>>;
}

export interface ReportOptimized {
  readonly model: ReportModelSummary;
  readonly analysis: AnalysisReport;
  /** Preset or pass list that produced it, e.g. "default". */
  readonly pipeline?: string;
  /** Per-pass totals in pipeline order. */
  readonly passes: readonly ReportPassChange[];
  readonly iterations?: number;
  readonly converged?: boolean;
  readonly totalChanges?: number;
  readonly timeMs?: number;
}

/** One output's comparison, original (A, reference) vs optimized (B). */
export interface ReportOutputComparison {
  readonly name: string;
  readonly dtypeA?: string | null;
  readonly dtypeB?: string | null;
  readonly shapeA?: readonly number[] | null;
  readonly shapeB?: readonly number[] | null;
  /** Integer/bool/string output: compared exactly. */
  readonly exact?: boolean;
  readonly atol: number;
  readonly rtol: number;
  readonly total?: number;
  readonly compared?: number;
  readonly mismatches: number;
  readonly pass: boolean;
  readonly reason?: string | null;
  readonly maxAbsError: number | null;
  readonly meanAbsError?: number;
  readonly p99AbsError?: number;
  readonly maxRelError: number | null;
  readonly meanRelError?: number;
  readonly p99RelError?: number;
  /** Cosine similarity over finite elements; null when there is none. */
  readonly cosine: number | null;
  readonly nan?: { readonly a: number; readonly b: number };
  readonly inf?: { readonly a: number; readonly b: number };
}

export interface ReportVerification {
  readonly equivalent: boolean;
  /** The verdict in words ('equivalent', 'equivalent within float32 rounding', …) and the float64 judgement summary. */
  readonly verdict?: string;
  readonly reference?: {
    readonly basis: 'reference' | 'fixed-tolerance';
    readonly unavailable: string | null;
    readonly rule: string;
    readonly outputs: readonly { readonly name: string; readonly aMaxError: number; readonly aMeanError: number; readonly aSqnrDb: number | null; readonly bMaxError: number; readonly bMeanError: number; readonly bSqnrDb: number | null; readonly budget: number; readonly exceeding: number; readonly pass: boolean }[];
  };
  /** Why not equivalent (null when equivalent). */
  readonly reason: string | null;
  /** Tolerances requested (null: the per-dtype default, see each output's atol/rtol). */
  readonly tolerance: {
    readonly atol: number | null;
    readonly rtol: number | null;
    readonly perOutput?: Readonly<Record<string, { readonly atol?: number; readonly rtol?: number }>>;
  };
  readonly outputs: readonly ReportOutputComparison[];
  /** Elements compared over all outputs. */
  readonly compared?: number;
  /** One line: which inputs were fed (e.g. "synthetic uniform [0, 1), seed 0"). */
  readonly inputs?: string;
  /** onnxruntime graph optimization level used for both sessions. */
  readonly graphOptimizationLevel?: string;
  /** First diverging intermediate value when bisected (null: none found). */
  readonly firstDivergence?: { readonly value: string; readonly node: string; readonly opType: string; readonly maxAbsError: number } | null;
}

export interface ReportLatencyStats {
  readonly p50Ms: number;
  readonly p90Ms: number;
  readonly p99Ms?: number;
  readonly meanMs?: number;
  readonly minMs?: number;
  readonly maxMs?: number;
  readonly stdMs?: number;
}

/** Measured time of one layer (ORT profiling), matched to the analysis by layer name. */
export interface ReportLayerTime {
  readonly name: string;
  /** Mean kernel time per run, µs; null when the layer was not measured (e.g. fused by ORT). */
  readonly measuredUs: number | null;
  /** The roofline estimate as onnxruntime executes the graph at the profiled level, µs. */
  readonly estimatedUs?: number | null;
  /** measured / estimated: how far the layer runs from its roof. */
  readonly ratio?: number | null;
  /** The layer ORT fused this one into (its time is measured there). */
  readonly fusedInto?: string;
}

export interface ReportLatency {
  readonly original: ReportLatencyStats;
  readonly optimized?: ReportLatencyStats;
  /** Median over interleaved pairs of optimized time / original time (< 1: faster). */
  readonly ratio?: number;
  readonly ratioP10?: number;
  readonly ratioP90?: number;
  /** The 95% interval of the median pair ratio; `level` is always 0.95, `coverage` the exact coverage, `reached` false with too few pairs. */
  readonly ratioCi?: { readonly low: number; readonly high: number; readonly level: number; readonly coverage?: number; readonly reached?: boolean };
  readonly iterations?: number;
  readonly warmup?: number;
  readonly threads: number;
  readonly graphOptimizationLevel?: string;
  /** Per-layer measured times of the original model. */
  readonly perLayer?: readonly ReportLayerTime[];
  /** Per-layer measured times of the optimized model. */
  readonly perLayerOptimized?: readonly ReportLayerTime[];
}

/** Accuracy of one output (or all outputs pooled) of the quantized model against fp32. */
export interface ReportQuantizedError {
  readonly name: string;
  /** Signal-to-quantization-noise ratio, dB (null: infinite, an exact match, through JSON). */
  readonly sqnrDb: number | null;
  readonly maxAbsError: number;
  readonly meanAbsError: number;
}

/**
 * The static int8 (QDQ) model beside its fp32 reference: sizes, MACs and integer OPs, the roofline
 * estimate, measured latency (interleaved pairs) and the SQNR on held-out inputs.
 */
export interface ReportQuantized {
  /** What the fp32 side is, e.g. "the optimized model (default)" or "the BN-folded original". */
  readonly reference: string;
  readonly fp32: { readonly analysis: AnalysisReport; readonly fileBytes: number | null };
  readonly int8: { readonly model: ReportModelSummary; readonly analysis: AnalysisReport };
  readonly calibration: { readonly method: string; readonly percentile?: number; readonly source: string; readonly samples: number; readonly msPerSample: number };
  readonly evaluation: { readonly source: string; readonly samples: number };
  readonly layers: number;
  readonly fusedActivations: number;
  /** Layers kept in float and why (node, op, typed code with its detail, the reason in words). */
  readonly skipped: readonly QdqSkip[];
  readonly accuracy: { readonly overall: ReportQuantizedError; readonly outputs: readonly ReportQuantizedError[] };
  /** fp32 (`original` side) against int8 (`optimized` side), interleaved, at onnxruntime `all`. */
  readonly latency?: ReportLatency;
}

/**
 * onnxruntime crashed on a model (a native crash, a kill or a timeout — issue 13): what is
 * unavailable and why, and what the other model produced. The report shows what is known.
 */
export interface ReportCrash {
  /** The model(s) onnxruntime crashed on. */
  readonly crashed: readonly ('original' | 'optimized')[];
  /** The crashed model as the error names it (its file, or a label). */
  readonly model: string;
  /** The crash's one-line error (the signal or timeout, and what was kept). */
  readonly reason: string;
  /** The step onnxruntime crashed in. */
  readonly step: 'verify' | 'benchmark';
  /** The other model's verify run, when it ran: its outputs and timings. */
  readonly survivorRun?: { readonly side: 'original' | 'optimized'; readonly createMs: number; readonly runMs: number; readonly outputs: readonly ReportIo[] };
  /** The other model benchmarked alone, when it ran (the profiled level when there were two). */
  readonly survivorLatency?: {
    readonly side: 'original' | 'optimized';
    readonly stats: ReportLatencyStats;
    readonly iterations: number;
    readonly warmup: number;
    readonly threads: number;
    readonly graphOptimizationLevel: string;
    readonly perLayer?: readonly ReportLayerTime[];
  };
}

export interface ReportData {
  /** Page title; default "<model name> — onnxkit report". */
  readonly title?: string;
  /** E.g. "onnxkit 0.1.0"; shown in the footer. */
  readonly generator?: string;
  /** A timestamp string shown in the footer. Never added implicitly: the same input renders the same bytes. */
  readonly generatedAt?: string;
  readonly model: ReportModelSummary;
  readonly analysis: AnalysisReport;
  readonly optimized?: ReportOptimized;
  readonly verification?: ReportVerification;
  readonly latency?: ReportLatency;
  /** The int8 model beside fp32 (`report --quantize`, `demo`). */
  readonly quantized?: ReportQuantized;
  /** onnxruntime crashed on one model or both: the verification / measurements it cut short. */
  readonly crash?: ReportCrash;
  /**
   * Symbolic dims bound for the analysis and the runs: the values, and which of them nobody
   * chose (defaulted to 1 — the report says so and how to choose with --dim).
   */
  readonly bindings?: { readonly values: Readonly<Record<string, number>>; readonly defaulted: readonly string[] };
}

export interface RenderOptions {
  /**
   * Source of the Chart.js 4 UMD build to inline. Default: `chart.umd.js` of the chart.js
   * package installed with @onnxkit/cli, read once per process.
   */
  readonly chartJs?: string;
}
