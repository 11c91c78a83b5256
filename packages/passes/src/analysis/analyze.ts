/**
 * analyzeModel: the efficiency picture of MIT EfficientML.ai lecture 2, per layer and in total —
 * #parameters (learnable, lecture's weights-only, buffers), model size, activations (total and
 * peak), MACs and FLOPs, true peak live memory, and a roofline latency estimate for a device.
 *
 * Everything per op comes from the cost table (cost-table.ts); shapes from shape inference.
 * What cannot be computed is `null` with a reason — never a silent 0 — and the totals count
 * the layers left unknown. The report is plain JSON data: counts are JavaScript numbers, exact
 * below 2^53 (9·10^15), which holds for every realistic model (GPT-3 inference is ~1.75·10^11
 * MACs per token); a total that passes 2^53 is flagged with a diagnostic.
 */
import { AttributeType, DataType, dataTypeName, isStaticShape, type Attribute, type Dim, type Graph, type MemoryBudget, type Model, type Node, type SparseTensor, type Tensor, type Value } from '@onnxkit/graph';
import { evaluateDimExpr, exprSymbols, type DimAlgebra } from './dim-algebra.js';
import { attributeProblem } from '../common/attribute-schema.js';
import { elementBits, isDefinedDataType, knownDataTypeInfo } from '../common/data-types.js';
import { isOnnxOp, lookup } from '../common/op-table.js';
import { opKey, ORT_FACET, PASSES_WEIGHTS, SUBGRAPH_OPS, undeclaredFacet, WEIGHT_PASS_THROUGH } from '../ops/registry.js';
import { CONTRIB_COST_TABLE, COST_TABLE, CONVENTION, type CostContext, type Count, type OpCost, type PaddedChannels } from './cost-table.js';
import { runsInPlace } from '../ops/cost.js';
import { DEFAULT_DEVICE, getDevice, parseDeviceProfile, type DeviceProfile } from './devices.js';
import { AnalysisError } from './errors.js';
import type { AnalysisDiagnostic, Facts } from './inference-types.js';
import { ENERGY_CONVENTION, HOROWITZ_45NM, layerEnergy, trainingMemory, type EnergyTable, type LayerEnergy, type TrainingMemory } from './energy.js';
import { executedRoofline, ORT_LEVELS, ortExecutedType, type OrtLevel } from './executed.js';
import { activationLiveness, type MemoryStep } from './memory.js';
import { factsFromLast, inferenceFacts, inferenceOrder, inferShapes, NOT_LAST, reusedList, type FactsView, type InferShapesOptions, type ShapeInference, type VisitOrder } from './shape-inference.js';

export interface AnalyzeOptions extends InferShapesOptions {
  /** A built-in device id ("jetson-agx-orin", "raspberry-pi-4", "h100-sxm") or a profile. Default: jetson-agx-orin. */
  device?: string | DeviceProfile;
  /**
   * Bit width for the lecture's model size (weightParams × bits / 8) and for the roofline's
   * bytes moved (weights and activations at bits/8 bytes) and peak (int8 ≤ 8 < fp16 ≤ 16 < fp32).
   */
  bits?: number;
  /** A shape inference already computed for this model with the same options. */
  inference?: ShapeInference;
  /** Include the per-step memory timeline (default true). */
  timeline?: boolean;
  /** Per-operation energies (default: the device profile's `energy`, else Horowitz ISSCC 2014, 45 nm). */
  energy?: EnergyTable;
  /** Batch size of the training-memory estimate (default: the model's batch when concrete, else 1). */
  trainingBatch?: number;
  /**
   * Memory the report may take: asked every 4,096 layers, past it an AnalysisError instead of an
   * out-of-memory abort. A layer's row takes ≈ 2.5 KB; 3 million Relu layers ran V8 out of heap.
   */
  memory?: MemoryBudget;
}

export type Bound = 'compute' | 'memory';

export interface LayerReport {
  readonly index: number;
  /** The node's name, or `<op>_<index>` for an unnamed node (see `unnamed`). */
  readonly name: string;
  /** The node has no name in the model (`name` was made up). */
  readonly unnamed?: true;
  readonly opType: string;
  readonly domain: string;
  /** Shapes of all inputs (null: omitted or unknown rank). */
  readonly inputShapes: (readonly Dim[] | null)[];
  readonly outputShape: readonly Dim[] | null;
  /** All outputs' shapes when the node has several. */
  readonly outputShapes?: (readonly Dim[] | null)[];
  /** Learnable parameters this layer reads (weights + biases + normalisation scale/shift). */
  readonly params: number;
  /** The lecture's count: weights only, bias ignored. */
  readonly weightParams: number;
  /** Non-learnable state (BatchNorm running mean/var). */
  readonly bufferParams: number;
  readonly macs: number | null;
  /** MACs as an expression of symbolic dims (e.g. "4*N*S*S*16") when they are not all concrete. */
  readonly macsExpr?: string;
  readonly flops: number | null;
  /** FLOPs as an expression of symbolic dims, when they are not all concrete. */
  readonly flopsExpr?: string;
  /** Integer operations (the lecture's OPs) of an integer op: 2·MACs + its element ops; 0 for float ops. */
  readonly intOps: number | null;
  readonly intOpsExpr?: string;
  /** Activation elements read (non-constant inputs) and written (all outputs). */
  readonly activations: { readonly input: number | null; readonly output: number | null };
  /** Bytes moved: weights (incl. biases, buffers), input and output activations. */
  readonly bytes: { readonly weights: number; readonly input: number | null; readonly output: number | null };
  readonly arithmeticIntensity: number | null;
  readonly latency: number | null;
  /** Energy estimate (see ENERGY_CONVENTION); null parts when MACs, FLOPs or bytes are unknown. */
  readonly energy: LayerEnergy;
  /** Which roofline limit dominates; null when unknown or when the layer costs nothing (a view). */
  readonly bound: Bound | null;
  /**
   * The layer onnxruntime fuses this one into, per optimization level where it is fused (BN, a
   * constant Add/Mul into a Conv at basic; activations into Conv/Gemm and a bias Add into MatMul
   * at extended; a residual Add into the NCHWc Conv at all): its time is in that layer's kernel.
   */
  readonly fusedInto?: Partial<Record<OrtLevel, string>>;
  /** Roofline latency as executed, per level where it differs from `latency` (a host paying for fused layers; 0 for a fused one). */
  readonly latencyAsExecuted?: Partial<Record<OrtLevel, number | null>>;
  /** An element-wise activation (or inference BatchNorm) the lecture counts as in place. */
  readonly inPlace?: true;
  /** A view of its input (Reshape, Flatten, …): no activation, no data movement. */
  readonly alias?: true;
  /** Every output is constant (computed once at load): excluded from totals. */
  readonly constant?: true;
  /** Why something is null. */
  readonly unknown?: string[];
  readonly notes?: string[];
}

export interface DeviceUse {
  readonly id: string;
  readonly version: string;
  readonly title: string;
  readonly source: string;
  readonly precision: 'fp32' | 'fp16' | 'int8';
  /** Peak FLOP/s (or OP/s) used for the compute time. */
  readonly peakFlops: number;
  /** Peak OP/s the integer layers (intOps) are timed at: the profile's int8 peak, else its fp32 peak. */
  readonly peakIntOps: number;
  /** Which of the profile's peaks `peakIntOps` is. */
  readonly intPrecision: 'int8' | 'fp32';
  readonly memoryBandwidth: number;
  /** Bandwidth by working-set size (a calibrated profile): the roofline uses the level a layer's bytes fit in. */
  readonly memoryHierarchy?: readonly { readonly bytes: number; readonly bandwidth: number }[];
}

/** Version of the `analyze --json` document (docs/analyze.schema.json); bumped on an incompatible change (3: integer operations, FLOPs exclude integer ops' work). */
export const ANALYSIS_SCHEMA_VERSION = 3;

/**
 * Whole-model totals. A total that depends on an unbound symbolic dim, or on a layer whose cost
 * is unknown, is null — never a partial sum — with its expression (`…Expr`) and the symbols it
 * waits on (`…Symbols`) when it is a polynomial of the symbolic dims. Sums over the layers that
 * are known live in `coverage` and in fields named as lower bounds.
 */
export interface AnalysisTotals {
  readonly params: number;
  readonly weightParams: number;
  readonly bufferParams: number;
  /** Bytes of the learnable parameters and buffers at their stored dtypes. */
  readonly modelSizeBytes: number;
  /** The lecture's model size: weightParams × bits / 8 (null without `bits`). */
  readonly modelSizeBytesAtBits: number | null;
  /** Bytes of every constant tensor (initializers and Constant nodes, shape constants included). */
  readonly constantBytes: number;
  /** Total MACs; null when a layer is unknown or symbolic. */
  readonly macs: number | null;
  /** Total MACs as an expression of the symbolic dims (every layer known). */
  readonly macsExpr?: string;
  /** The symbols macsExpr waits on. */
  readonly macsSymbols?: string[];
  readonly flops: number | null;
  readonly flopsExpr?: string;
  readonly flopsSymbols?: string[];
  /** Total integer operations (see CONVENTION); null when a layer is unknown or symbolic. */
  readonly intOps: number | null;
  readonly intOpsExpr?: string;
  readonly intOpsSymbols?: string[];
  readonly activations: {
    readonly total: number | null;
    readonly totalExpr?: string;
    readonly totalSymbols?: string[];
    /** Largest single-layer activation (input + output); null when a layer's size is unknown. */
    readonly peak: number | null;
    /** The largest over the layers of known size. */
    readonly peakLowerBound: number;
    readonly peakLayer: string | null;
    readonly unknownLayers: number;
  };
  /** True peak of live activation bytes over the node order (weights excluded); null when an activation's size is unknown. */
  readonly peakMemoryBytes: number | null;
  /** The peak with unknown-size activations counted as 0 bytes. */
  readonly peakMemoryLowerBoundBytes: number;
  readonly peakMemoryUnknownValues: number;
  readonly peakMemoryLayer: string | null;
  /** Roofline latency; null fields when a layer's latency is unknown (see lowerBoundSeconds, symbols). */
  readonly latency: {
    readonly seconds: number | null;
    readonly computeSeconds: number | null;
    readonly memorySeconds: number | null;
    readonly bound: Bound | null;
    /** Sum over the layers whose latency is known. */
    readonly lowerBoundSeconds: number;
    /** The free symbolic dims the latency waits on (when some are free). */
    readonly symbols?: string[];
    /**
     * The roofline of the graph as onnxruntime executes it at each optimization level: fused
     * element-wise layers and BatchNorm pay no memory traffic of their own (see executed.ts).
     */
    readonly asExecuted: Record<OrtLevel, { readonly seconds: number | null; readonly fusedLayers: number }>;
  };
  /** Layers whose latency is unknown (FLOPs or bytes unknown). */
  readonly latencyUnknownLayers: number;
  readonly layers: number;
  /** Layers whose MACs/FLOPs are unknown (no cost model, malformed, unknown shape) — not merely symbolic. */
  readonly unknownLayers: number;
  /** Layers whose MACs/FLOPs are expressions of the symbolic dims. */
  readonly symbolicLayers: number;
  readonly computeBoundLayers: number;
  readonly memoryBoundLayers: number;
  /** Energy of one inference: null when a layer's energy is unknown (lowerBoundJoules sums the known). */
  readonly energy: {
    readonly joules: number | null;
    readonly computeJoules: number | null;
    readonly sramJoules: number | null;
    readonly dramJoules: number | null;
    readonly lowerBoundJoules: number;
    readonly unknownLayers: number;
    /** The per-operation energies used, with their source. */
    readonly table: EnergyTable;
    readonly convention: string;
  };
  /** Memory to train the model at a batch size (weights, gradients, optimizer state, stored activations). */
  readonly training: TrainingMemory;
  /** How much of the model the numbers cover, with the partial sums over known layers. */
  readonly coverage: {
    readonly layers: number;
    readonly macs: { readonly known: number; readonly partialSum: number };
    readonly flops: { readonly known: number; readonly partialSum: number };
    readonly latency: { readonly known: number; readonly partialSumSeconds: number };
    readonly activations: { readonly unknownLayers: number; readonly partialSum: number };
    /** e.g. "MACs known for 171 of 175 layers". */
    readonly text: string[];
  };
}

export interface AnalysisReport {
  readonly schemaVersion: number;
  readonly model: {
    readonly name: string;
    readonly producer: string;
    readonly opset: number;
    readonly nodes: number;
    readonly inputs: { readonly name: string; readonly dtype: string; readonly shape: readonly Dim[] | null }[];
    /**
     * Symbolic dims left free in the graph inputs (not bound by `inputShapes`/`dimValues`), in
     * order of appearance, e.g. ["N"]. Totals that depend on them are partial (see the
     * unknown-layer counts); MACs stay exact as `macsExpr`.
     */
    readonly symbols: string[];
    /** Symbolic dims bound by the caller (--dim, --input-shape), with the value used. */
    readonly bindings: Readonly<Record<string, number>>;
  };
  readonly convention: string;
  readonly device: DeviceUse;
  readonly bits: number | null;
  readonly totals: AnalysisTotals;
  readonly layers: LayerReport[];
  readonly memoryTimeline: MemoryStep[];
  readonly diagnostics: AnalysisDiagnostic[];
}

/**
 * Ops a weight is traced back through (via input 0) to its stored tensor: fp16 storage, quantized
 * weights, transposed weights, and a learned table read in part (positions sliced to the
 * sequence length) — the parameter is the whole stored tensor.
 */

/** What the analysis asks of a default-domain op type, resolved once per type (one lookup per node, not four). */
interface OpInfo {
  /** Its cost entry (for a well-formed node). */
  readonly cost: OpCost | undefined;
  /** It has body graphs (If, Loop, Scan: the registry's SUBGRAPH_OPS). */
  readonly controlFlow: boolean;
  /** Its QDQ form in onnxruntime is an integer matrix kernel (`ort.qdq` 'mac', see qdqInteger). */
  readonly qdqMac: boolean;
  /** That kernel may output float (`ort.qdqFloatOutput`: Gemm, MatMul). */
  readonly qdqFloatOutput: boolean;
  /** Its QDQ form in onnxruntime is a QLinear element kernel (`ort.qdq` 'element'). */
  readonly qdqElement: boolean;
  /** The inputs that QDQ form reads dequantized (`ort.qdqInputs`: Where's X and Y), undefined for every present one. */
  readonly qdqInputs: readonly number[] | undefined;
  /** Its 'mac' kernel takes no int8 activation (`ort.qdqUint8Activation`: Conv, MatMul). */
  readonly qdqUint8Activation: boolean;
  /** One of its `qdqInputs` may be a float scalar initializer (`ort.qdqScalarConstant`: Where). */
  readonly qdqScalarConstant: boolean;
}
const OP_INFO = new Map<string, OpInfo>();

/** OpInfo of a default-domain op type. */
function opInfo(opType: string): OpInfo {
  let info = OP_INFO.get(opType);
  if (info === undefined) {
    const ort = lookup(ORT_FACET, opType);
    const qdq = ort?.qdq;
    info = { cost: lookup(COST_TABLE, opType), controlFlow: SUBGRAPH_OPS.has(opType), qdqMac: qdq === 'mac', qdqFloatOutput: ort?.qdqFloatOutput === true, qdqElement: qdq === 'element', qdqInputs: ort?.qdqInputs, qdqUint8Activation: ort?.qdqUint8Activation === true, qdqScalarConstant: ort?.qdqScalarConstant === true };
    // Op types come from files: a hostile one cannot grow the cache past the table's own ops.
    if (info.cost !== undefined || info.controlFlow) OP_INFO.set(opType, info);
  }
  return info;
}

/** The work of one node or body: MACs and FLOPs as numbers, expressions, or null (with reasons). */
interface Work {
  macs: Dim;
  flops: Dim;
  intOps: Dim;
  unknown: string[];
  notes: string[];
  unknownOps: string[];
}

/**
 * Which of two branches costs more (by FLOPs, then MACs): decided when the difference is a
 * number, or when one dominates at every sampled binding of its symbols; null when undecidable.
 */
function costlier(a: Work, b: Work, alg: DimAlgebra): 'then' | 'else' | null {
  if (a.flops === null || b.flops === null || a.macs === null || b.macs === null) return null;
  if (typeof a.flops === 'number' && typeof b.flops === 'number') return a.flops >= b.flops ? 'then' : 'else';
  const syms = [...new Set([...symbolsOf(a.flops, alg), ...symbolsOf(b.flops, alg)])];
  let aWins = true;
  let bWins = true;
  for (const v of [1, 2, 8, 64, 1024, 65536]) {
    const at = Object.fromEntries(syms.map((x) => [x, v]));
    let fa: number;
    let fb: number;
    try {
      fa = typeof a.flops === 'number' ? a.flops : evaluateDimExpr(a.flops, at, syms);
      fb = typeof b.flops === 'number' ? b.flops : evaluateDimExpr(b.flops, at, syms);
    } catch {
      // A dim name the expression parser cannot read back (a model's dim_param is any string):
      // which branch costs more is then not known, as when it depends on the dims.
      return null;
    }
    if (fa < fb) aWins = false;
    if (fb < fa) bWins = false;
  }
  return aWins ? 'then' : bWins ? 'else' : null;
}

function symbolsOf(d: number | string, alg: DimAlgebra): string[] {
  if (typeof d === 'number') return [];
  try {
    return exprSymbols(d, alg.namesIn(d));
  } catch {
    return [];
  }
}

function learnableDtype(t: Tensor): boolean {
  const info = knownDataTypeInfo(t.dtype);
  const k = info?.kind;
  // Integer tensors up to 32 bits: int8/uint8 weights and zero points, int32 quantized biases.
  return k === 'float' || ((k === 'int' || k === 'uint') && info!.bits <= 32);
}

/**
 * The cost entry of a well-formed node (a malformed one has none: its cost is unknown). A node of
 * another domain is checked against its own op's schema too (attributeProblem), so a contrib node
 * with a mistyped attribute is a layer of unknown cost, not a cost function reading it.
 */
function costEntry(n: Node): OpCost | undefined {
  return costEntryOf(n, attributeProblem(n));
}

/** costEntry(n), given `bad`, n's attribute problem (undefined for a well-formed node). */
function costEntryOf(n: Node, bad: string | undefined): OpCost | undefined {
  if (bad !== undefined) return undefined;
  return n.isOnnxDomain ? opInfo(n.opType).cost : lookup(CONTRIB_COST_TABLE, opKey(n.domain, n.opType));
}

function elements(shape: readonly Dim[] | null | undefined): number | null {
  if (!shape || !isStaticShape(shape)) return null;
  let n = 1;
  for (const d of shape) n *= d as number;
  return n;
}

function deviceProfile(d: string | DeviceProfile | undefined): DeviceProfile {
  return d === undefined ? getDevice(DEFAULT_DEVICE) : typeof d === 'string' ? getDevice(d) : parseDeviceProfile(d);
}

function resolveDevice(d: string | DeviceProfile | undefined, bits: number | null): DeviceUse {
  const p = deviceProfile(d);
  let precision: DeviceUse['precision'] = 'fp32';
  let peak = p.peakFlops.fp32;
  if (bits !== null && bits <= 8 && p.peakFlops.int8) {
    precision = 'int8';
    peak = p.peakFlops.int8;
  } else if (bits !== null && bits <= 16 && p.peakFlops.fp16) {
    precision = 'fp16';
    peak = p.peakFlops.fp16;
  }
  const peakIntOps = p.peakFlops.int8 ?? p.peakFlops.fp32;
  const intPrecision = p.peakFlops.int8 !== undefined ? 'int8' : 'fp32';
  return { id: p.id, version: p.version, title: p.title, source: p.source, precision, peakFlops: peak, peakIntOps, intPrecision, memoryBandwidth: p.memoryBandwidth, ...(p.memoryHierarchy?.length ? { memoryHierarchy: p.memoryHierarchy } : {}) };
}

/**
 * The whole-model cost totals of `analyzeModel` without the rest of the report (layers, roofline,
 * energy, memory timeline): what `onnxkit optimize` shows before and after. The numbers are those
 * analyzeModel computes, by the same code; on a large graph this costs a fraction of the full
 * report and keeps no per-layer objects.
 */
export type CostTotals = Pick<AnalysisTotals, 'params' | 'weightParams' | 'macs' | 'macsExpr' | 'flops' | 'flopsExpr' | 'unknownLayers'>;

/** `analyzeModel(model, options).totals`, restricted to CostTotals and computed without the per-layer report. */
export function analyzeTotals(model: Model, options: Pick<AnalyzeOptions, 'inputShapes' | 'dimValues' | 'maxConstantElements' | 'inference'> = {}): { readonly totals: CostTotals } {
  return analyze(model, options, true) as { totals: CostTotals };
}

export function analyzeModel(model: Model, options: AnalyzeOptions = {}): AnalysisReport {
  return analyze(model, options, false) as AnalysisReport;
}

/** Stops the analysis with an AnalysisError when it has taken more memory than `memory` allows. */
function checkMemory(memory: MemoryBudget, index: number, layers: number): void {
  const used = memory.usedBytes();
  if (used <= memory.limitBytes) return;
  const mib = (n: number): string => `${Math.round(n / 2 ** 20)} MiB`;
  const where = layers > 0 ? ` after ${index} of ${layers} layers` : ` after ${index} layers`;
  throw new AnalysisError(`the analysis needs more memory than it may take (${mib(used)} in use, ${mib(memory.limitBytes)} allowed${where}); refusing before the process runs out of memory`, { code: 'ANALYSIS_TOO_LARGE', ...(memory.hint !== undefined ? { hint: memory.hint } : {}) });
}

/** `totalsOnly`: compute only CostTotals (analyzeTotals) and return `{ totals }`. */
function analyze(model: Model, options: AnalyzeOptions, totalsOnly: boolean): AnalysisReport | { totals: CostTotals } {
  const bits = options.bits ?? null;
  if (bits !== null && (!Number.isInteger(bits) || bits < 1 || bits > 64)) {
    throw new AnalysisError(`bits must be an integer from 1 to 64, got ${bits}`, { hint: 'e.g. --bits 8 for int8 weights' });
  }
  const device = resolveDevice(options.device, bits);
  if (options.trainingBatch !== undefined && (!Number.isSafeInteger(options.trainingBatch) || options.trainingBatch < 1)) {
    throw new AnalysisError(`trainingBatch must be a positive integer, got ${options.trainingBatch}`, { hint: 'e.g. --training-batch 32' });
  }
  const inf = options.inference ?? inferShapes(model, options);
  const graph = model.graph;
  // The full report indexes layers by node; the totals walk the graph with a cursor (no 100k-entry array).
  const nodes = totalsOnly ? [] : nodeArray(graph);
  const diagnostics: AnalysisDiagnostic[] = [...inf.diagnostics];

  const factsMap = inferenceFacts(inf);
  // The state of this analysis, and the functions the walk calls, shared by every call (see CostWalk).
  const walk = new CostWalk(inf, factsMap, bits, totalsOnly);
  const isConst = (v: Value): boolean => walk.isConst(v);
  const elementsOf = (v: Value): number | null => walk.elementsOf(v);
  const bytesOf = (v: Value): number | null => {
    const n = elementsOf(v);
    if (n === null) return null;
    const t = inf.typeOf(v);
    if (!t || t.kind !== 'tensor') return null;
    const b = bits ?? elementBits(t.elemType);
    return b === undefined ? null : (n * b) / 8;
  };
  /** Why bytesOf(v) is null: the shape, or the element type (unknown, undefined, strings). */
  const bytesUnknownReason = (v: Value): string => {
    if (elementsOf(v) === null) return `shape of '${v.name}' is not static`;
    const t = inf.typeOf(v);
    if (!t || t.kind !== 'tensor') return `type of '${v.name}' is unknown`;
    const declared = v.tensorType?.elemType;
    if (t.elemType === DataType.UNDEFINED && declared !== undefined && declared !== DataType.UNDEFINED && !isDefinedDataType(declared)) {
      return `element type of '${v.name}' (${dataTypeName(declared)}) is not an ONNX data type`;
    }
    return `element type of '${v.name}' (${dataTypeName(t.elemType)}) has no fixed size`;
  };
  /** The first value among `vs` whose bytes are unknown, as a reason. */
  const firstUnknownBytes = (vs: readonly (Value | null)[], skipConst: boolean): string | undefined => {
    for (const v of vs) {
      if (!v || (skipConst && isConst(v)) || (v.name === '' && v.uses.length === 0)) continue;
      if (bytesOf(v) === null) return bytesUnknownReason(v);
    }
    return undefined;
  };
  /** Sums f over the activation inputs (non-constant) or all used outputs; null if one is unknown. */
  const sumInputs = (node: Node, f: (v: Value) => number | null): number | null => {
    let s = 0;
    for (const v of node.inputs) {
      if (!v || isConst(v)) continue;
      const x = f(v);
      if (x === null) return null;
      s += x;
    }
    return s;
  };
  const sumOutputs = (node: Node, f: (v: Value) => number | null): number | null => {
    let s = 0;
    for (const v of node.outputs) {
      if (v.name === '' && v.uses.length === 0) continue;
      const x = f(v);
      if (x === null) return null;
      s += x;
    }
    return s;
  };

  /** Output elements of a node as a Dim (sumOutputs for symbolic shapes). */
  const sumOutputsDim = (node: Node): Dim => {
    let s: Dim = 0;
    for (const v of node.outputs) {
      if (v.name === '' && v.uses.length === 0) continue;
      s = inf.algebra.add(s, walk.elementsDim(v));
    }
    return s;
  };

  const unknownOps = new Map<string, number>();
  const layers: LayerReport[] = [];
  let macsTotal = 0;
  let flopsTotal = 0;
  let unknownLayers = 0;
  let latencyUnknownLayers = 0;
  let actTotal = 0;
  let actPeak = 0;
  let actPeakLayer: string | null = null;
  let actUnknown = 0;
  let computeSeconds = 0;
  let memorySeconds = 0;
  let latencySeconds = 0;
  let computeBoundLatency = 0;
  let memoryBoundLatency = 0;
  let computeBoundLayers = 0;
  let memoryBoundLayers = 0;
  const names: string[] = [];
  let symbolicMacs: Dim = 0;
  let symbolicFlops: Dim = 0;
  let symbolicIntOps: Dim = 0;
  /** The lecture's activation total as an expression of the symbolic dims (null: some unknown). */
  let symbolicAct: Dim = 0;
  let macsKnown = 0;
  let flopsKnown = 0;
  const energyTable = options.energy ?? deviceProfile(options.device).energy ?? HOROWITZ_45NM;
  const energySum = { joules: 0, compute: 0, sram: 0, dram: 0, unknown: 0 };
  let symbolicLayers = 0;

  for (const v of graph.inputs) {
    if (v.isInitializer) continue;
    const n = walk.elementsOf(v);
    if (n === null) actUnknown++;
    else actTotal += n;
    symbolicAct = inf.algebra.add(symbolicAct, walk.elementsDim(v));
  }

  const layer = walk.layer;
  const ctx = walk.ctx;

  // The full report indexes its layers by `nodes`; the totals alone walk the graph by its cursor.
  let cur: Node | null = totalsOnly ? graph.firstNode : (nodes[0] ?? null);
  for (let index = 0; cur !== null; cur = totalsOnly ? cur.next : (nodes[index + 1] ?? null), index++) {
    const node: Node = cur;
    // (from layer 0, so the call has run before the loop is optimised: see the importer's memoryTick)
    if ((index & 0xfff) === 0 && options.memory !== undefined) checkMemory(options.memory, index, nodes.length);
    const name = totalsOnly ? '' : node.name || `${node.opType}_${index}`;
    if (!totalsOnly) names.push(name);
    // One OpInfo per node serves its cost entry, the control-flow test and the QDQ test.
    const info = node.isOnnxDomain ? opInfo(node.opType) : undefined;
    const bad = attributeProblem(node);
    const entry: OpCost | undefined = info === undefined ? costEntryOf(node, bad) : bad === undefined ? info.cost : undefined;
    layer.reset();
    walk.nodeKeyCount = 0;
    walk.passesWeights = null;
    const unknown = layer.unknown;
    const notes = layer.notes;
    ctx.load(node);
    const constant = ctx.allOutputsConstant();

    // Parameters: the slots the table names, traced to stored tensors; shared tensors once.
    if (entry && !constant) walk.countParams(node, entry, true);

    // MACs and FLOPs from the table (control flow: the work of its bodies).
    let macs: number | null;
    let flops: number | null;
    let macsExpr: string | undefined;
    let flopsExpr: string | undefined;
    let intOps: number | null;
    let intOpsExpr: string | undefined;
    let macsDim: Dim;
    let flopsDim: Dim;
    let intOpsDim: Dim;
    if (constant) {
      macs = 0;
      flops = 0;
      intOps = 0;
      macsDim = 0;
      flopsDim = 0;
      intOpsDim = 0;
      notes.push('constant: computed once at load, excluded from totals');
    } else {
      // Control flow loads its bodies' nodes into their own LayerCosts: `ctx` still holds this node.
      const w = walk.nodeWork(node, 0, bad, entry, ctx, info);
      // Indexed loops: once per node, the lists mostly empty, and array iterators allocate until optimised.
      for (let k = 0; k < w.unknown.length; k++) unknown.push(w.unknown[k]!);
      for (let k = 0; k < w.notes.length; k++) notes.push(w.notes[k]!);
      for (let k = 0; k < w.unknownOps.length; k++) {
        const op = w.unknownOps[k]!;
        unknownOps.set(op, (unknownOps.get(op) ?? 0) + 1);
      }
      macsDim = w.macs;
      flopsDim = w.flops;
      intOpsDim = w.intOps;
      intOps = typeof w.intOps === 'number' ? w.intOps : null;
      if (typeof w.intOps === 'string') intOpsExpr = w.intOps;
      macs = typeof w.macs === 'number' ? w.macs : null;
      flops = typeof w.flops === 'number' ? w.flops : null;
      if (typeof w.macs === 'string') macsExpr = w.macs;
      if (typeof w.flops === 'string') flopsExpr = w.flops;
    }
    symbolicMacs = inf.algebra.add(symbolicMacs, macsDim);
    symbolicFlops = inf.algebra.add(symbolicFlops, flopsDim);
    symbolicIntOps = inf.algebra.add(symbolicIntOps, intOpsDim);
    if (macs !== null) {
      macsKnown++;
      if (!constant) macsTotal += macs;
    }
    if (flops !== null) {
      flopsKnown++;
      if (!constant) flopsTotal += flops;
    }
    if (macsExpr !== undefined || flopsExpr !== undefined) symbolicLayers++;
    if (totalsOnly) {
      if ((macs === null || flops === null) && macsExpr === undefined && flopsExpr === undefined) unknownLayers++;
      continue;
    }

    // Activations (elements): non-constant inputs read, outputs written.
    const shapeOnly = entry?.shapeOnly === true;
    const actIn = constant || shapeOnly ? 0 : sumInputs(node, elementsOf);
    const actOut = constant ? 0 : sumOutputs(node, elementsOf);
    const alias = entry?.alias === true;
    const inPlace = runsInPlace(entry, node);
    if (!constant && !alias) {
      if (!inPlace) {
        if (actOut === null) actUnknown++;
        else actTotal += actOut;
        symbolicAct = inf.algebra.add(symbolicAct, actOut ?? sumOutputsDim(node));
      }
      const peakHere = actIn === null || (actOut === null && !inPlace) ? null : actIn + (inPlace ? 0 : actOut!);
      if (peakHere === null) actUnknown++;
      else if (peakHere > actPeak) {
        actPeak = peakHere;
        actPeakLayer = name;
      }
    }

    // Roofline.
    const bytesIn = constant || alias || shapeOnly ? 0 : sumInputs(node, bytesOf);
    const bytesOut = constant || alias ? 0 : sumOutputs(node, bytesOf);
    let latency: number | null = null;
    let bound: Bound | null = null;
    let intensity: number | null = null;
    if (flops !== null && intOps !== null && bytesIn !== null && bytesOut !== null) {
      const moved = bytesIn + bytesOut + (constant ? 0 : layer.weightBytes);
      // Integer layers at the int8 peak, float work at the float peak.
      const tc = flops / device.peakFlops + intOps / device.peakIntOps;
      const tm = moved / bandwidthFor(device, moved);
      latency = Math.max(tc, tm);
      // A view or a no-op moves nothing and computes nothing: neither bound applies.
      bound = latency === 0 ? null : tc >= tm ? 'compute' : 'memory';
      intensity = moved > 0 ? (flops + intOps) / moved : null;
      if (!constant) {
        computeSeconds += tc;
        memorySeconds += tm;
        latencySeconds += latency;
        if (latency > 0) {
          if (bound === 'compute') {
            computeBoundLatency += latency;
            computeBoundLayers++;
          } else {
            memoryBoundLatency += latency;
            memoryBoundLayers++;
          }
        }
      }
    } else if (!constant) {
      latencyUnknownLayers++;
      const why = bytesIn === null ? firstUnknownBytes(node.inputs, true) : bytesOut === null ? firstUnknownBytes(node.outputs, false) : undefined;
      unknown.push(why === undefined ? 'latency: FLOPs or bytes unknown' : `latency: bytes unknown (${why})`);
    }

    if ((macs === null || flops === null) && macsExpr === undefined && flopsExpr === undefined) unknownLayers++;

    const energy = constant
      ? { joules: 0, computeJoules: 0, sramJoules: 0, dramJoules: 0 }
      : // An integer layer's work is all intOps (its FLOPs are 0): priced at int8 energies.
        layerEnergy(energyTable, macs, flops === null || intOps === null ? null : flops + intOps, bytesIn === null || bytesOut === null ? null : bytesIn + bytesOut + layer.weightBytes, intOps !== null && intOps > 0);
    if (energy.joules === null) energySum.unknown++;
    else {
      energySum.joules += energy.joules;
      energySum.compute += energy.computeJoules!;
      energySum.sram += energy.sramJoules!;
      energySum.dram += energy.dramJoules!;
    }
    // `ctx` still holds this node (control flow loads its bodies into LayerCosts of their own).
    const inputShapes = ctx.inputShapes.slice(0, ctx.inputCount);
    const outputShapes = ctx.outputShapes.slice(0, ctx.outputCount);
    const report: { -readonly [K in keyof LayerReport]: LayerReport[K] } = {
      index,
      name,
      opType: node.opType,
      domain: node.domain,
      inputShapes,
      outputShape: outputShapes[0] ?? null,
      params: layer.params,
      weightParams: layer.weights,
      bufferParams: layer.buffers,
      macs,
      flops,
      intOps,
      activations: { input: actIn, output: actOut },
      bytes: { weights: constant ? 0 : layer.weightBytes, input: bytesIn, output: bytesOut },
      arithmeticIntensity: intensity,
      latency,
      energy,
      bound,
    };
    if (!node.name) report.unnamed = true;
    if (outputShapes.length > 1) report.outputShapes = outputShapes;
    if (macsExpr !== undefined) report.macsExpr = macsExpr;
    if (flopsExpr !== undefined) report.flopsExpr = flopsExpr;
    if (intOpsExpr !== undefined) report.intOpsExpr = intOpsExpr;
    if (inPlace) report.inPlace = true;
    if (alias) report.alias = true;
    if (constant) report.constant = true;
    if (layer.unknownList) report.unknown = layer.unknownList;
    if (layer.notesList) report.notes = layer.notesList;
    layers.push(report);
  }

  const { params, weightParams, bufferParams, modelSizeBytes } = walk;
  if (totalsOnly) {
    return {
      totals: {
        params,
        weightParams,
        macs: typeof symbolicMacs === 'number' ? symbolicMacs : null,
        ...(typeof symbolicMacs === 'string' ? { macsExpr: symbolicMacs } : {}),
        flops: typeof symbolicFlops === 'number' ? symbolicFlops : null,
        ...(typeof symbolicFlops === 'string' ? { flopsExpr: symbolicFlops } : {}),
        unknownLayers,
      },
    };
  }
  const executed = executedRoofline(nodes, layers, device, isConst, bytesOf);
  for (const [i, m] of executed.fusedInto) {
    const named: Partial<Record<OrtLevel, string>> = {};
    for (const level of ORT_LEVELS) if (m[level] !== undefined) named[level] = names[m[level]!]!;
    (layers[i] as { fusedInto?: Partial<Record<OrtLevel, string>> }).fusedInto = named;
  }
  layers.forEach((l, i) => {
    const diff: Partial<Record<OrtLevel, number | null>> = {};
    for (const level of ORT_LEVELS) if (level !== 'disabled' && executed.latency[level][i] !== l.latency) diff[level] = executed.latency[level][i]!;
    if (Object.keys(diff).length > 0) (l as { latencyAsExecuted?: Partial<Record<OrtLevel, number | null>> }).latencyAsExecuted = diff;
  });
  const costOf = costEntry;
  const live = activationLiveness({
    graph,
    nodes,
    names,
    bytesOf,
    isActivation: (v) => !isConst(v),
    reuse: (n) => {
      const e = costOf(n);
      if (e?.alias) return 'alias';
      if (runsInPlace(e, n)) return 'inPlace';
      return undefined;
    },
  });

  let constantBytes = 0;
  const constSeen = new Set<Tensor>();
  model.forEachGraph((g) => {
    g.initializers.forEach((v) => {
      if (v.constValue && !constSeen.has(v.constValue)) {
        constSeen.add(v.constValue);
        constantBytes += v.constValue.byteLength;
      }
    });
    for (let n = g.firstNode; n !== null; n = n.next) {
      // (a Constant without outputs, which a damaged file may hold, has no bytes to count)
      if (n.opType !== 'Constant' || !n.isOnnxDomain || n.outputs.length === 0) continue;
      const t = inf.constOf(n.outputs[0]!);
      if (t && !constSeen.has(t) && t.dtype !== DataType.STRING) {
        constSeen.add(t);
        constantBytes += t.byteLength;
      }
    }
  });

  for (const [op, k] of unknownOps) {
    const why = undeclaredFacet(op, 'cost');
    diagnostics.push({ severity: 'warning', code: 'no-cost-model', message: `${k} layer(s) of op '${op}' have no cost model${why === undefined ? '' : ` (${why})`}: their MACs/FLOPs/latency are unknown and missing from the totals`, op });
  }
  const costUnknown = layers.filter((l) => (l.macs === null || l.flops === null) && !l.unknown?.some((u) => u.startsWith('no cost model') || u.startsWith('bad-attribute')));
  if (costUnknown.length > 0) {
    const symbolic = costUnknown.filter((l) => l.macsExpr !== undefined || (l.outputShape?.some((d) => typeof d === 'string') ?? false)).length;
    const list = costUnknown.slice(0, 10).map((l) => `'${l.name}'`).join(', ');
    diagnostics.push({
      severity: 'warning',
      code: 'unknown-cost',
      message:
        `${costUnknown.length} layer(s) have unknown MACs/FLOPs (${list}${costUnknown.length > 10 ? ', …' : ''}): ` +
        `${symbolic} with symbolic dims (MACs given as expressions where possible), ${costUnknown.length - symbolic} unresolved; pin input shapes with --input-shape`,
    });
  }
  if (walk.paddedParams > 0) {
    diagnostics.push({
      severity: 'warning',
      code: 'nchwc-padded-params',
      message: `params is an upper bound: ${walk.paddedParams} parameters of ${walk.paddedLayers} layer(s) are counted as stored, padded to onnxruntime's NCHWc block size, the model's channel count not being established (see the layers' notes)`,
    });
  }
  if (live.unknownValues > 0) {
    diagnostics.push({ severity: 'info', code: 'unknown-activation-size', message: `${live.unknownValues} activation(s) have unknown size; peakMemoryBytes is a lower bound` });
  }
  if (unknownOps.size > 0 || unknownLayers > 0) {
    diagnostics.push({ severity: 'info', code: 'coverage', message: `MACs known for ${layers.filter((l) => l.macs !== null).length} of ${layers.length} layers; ${unknownLayers} unknown layer(s): the MAC/FLOP totals are null (partial sums in totals.coverage)` });
  }
  for (const [what, v] of [['MACs', macsTotal], ['FLOPs', flopsTotal], ['params', params]] as const) {
    if (v > Number.MAX_SAFE_INTEGER) diagnostics.push({ severity: 'warning', code: 'precision', message: `total ${what} (${v}) exceeds 2^53: the last digits are not exact` });
  }

  const inputs = graph.inputs
    .filter((v) => !v.isInitializer)
    .map((v) => {
      const t = inf.typeOf(v);
      const code = t && t.kind === 'tensor' && t.elemType !== DataType.UNDEFINED ? t.elemType : v.tensorType?.elemType;
      return { name: v.name, dtype: code === undefined || code === DataType.UNDEFINED ? 'unknown' : dataTypeName(code), shape: inf.shapeOf(v) };
    });

  const layerCount = layers.length;
  const symbols = freeSymbols(inputs);
  /** The names an expression of this analysis may hold: the inputs' dims and any declared inside the graph. */
  const namesIn = (d: string): string[] => [...new Set([...symbols, ...inf.algebra.namesIn(d)])];
  /** Training memory: the activation total per sample (the first input's leading dim is the batch) × the batch. */
  const training = (): TrainingMemory => {
    const b0 = inputs[0]?.shape?.[0];
    const total = actUnknown === 0 ? actTotal : null;
    let perSample: number | null = null;
    if (typeof b0 === 'number' && b0 > 0 && total !== null) perSample = total / b0;
    else if (typeof b0 === 'string' && typeof symbolicAct === 'string') {
      try {
        const names = namesIn(symbolicAct);
        const syms = exprSymbols(symbolicAct, names);
        if (syms.length === 1 && syms[0] === b0) perSample = evaluateDimExpr(symbolicAct, { [b0]: 1 }, names);
      } catch {
        // An expression that does not read back: the per-sample figure is not known.
      }
    }
    const batch = options.trainingBatch ?? (typeof b0 === 'number' && b0 > 0 ? b0 : 1);
    return trainingMemory(params, perSample, batch);
  };
  /** A whole-model total: the number, or null with its expression and the symbols it waits on. */
  const whole = (d: Dim): { value: number | null; expr?: string; symbols?: string[] } => {
    if (typeof d === 'number') return { value: d };
    if (d === null) return { value: null };
    try {
      return { value: null, expr: d, symbols: exprSymbols(d, namesIn(d)) };
    } catch {
      return { value: null, expr: d }; // (an expression that does not read back: its symbols unsaid)
    }
  };
  const macsW = whole(symbolicMacs);
  const flopsW = whole(symbolicFlops);
  const intOpsW = whole(symbolicIntOps);
  const actW = whole(symbolicAct);
  const latencyKnown = layerCount - latencyUnknownLayers;
  const latencyComplete = latencyUnknownLayers === 0;
  const actComplete = actUnknown === 0;
  const bindings = boundSymbols(graph.inputs.filter((v) => !v.isInitializer), inf);
  const coverageText = [
    coverageLine('MACs', macsKnown, layers.filter((l) => l.macsExpr !== undefined).length, layerCount),
    coverageLine('FLOPs', flopsKnown, layers.filter((l) => l.flopsExpr !== undefined).length, layerCount),
    `latency known for ${latencyKnown} of ${layerCount} layers`,
  ];

  return {
    schemaVersion: ANALYSIS_SCHEMA_VERSION,
    model: { name: graph.name, producer: [model.producerName, model.producerVersion].filter(Boolean).join(' '), opset: inf.opset, nodes: nodes.length, inputs, symbols, bindings },
    convention: CONVENTION,
    device,
    bits,
    totals: {
      params,
      weightParams,
      bufferParams,
      modelSizeBytes,
      modelSizeBytesAtBits: bits === null ? null : (weightParams * bits) / 8,
      constantBytes,
      macs: macsW.value,
      ...(macsW.expr !== undefined ? { macsExpr: macsW.expr, macsSymbols: macsW.symbols } : {}),
      flops: flopsW.value,
      ...(flopsW.expr !== undefined ? { flopsExpr: flopsW.expr, flopsSymbols: flopsW.symbols } : {}),
      intOps: intOpsW.value,
      ...(intOpsW.expr !== undefined ? { intOpsExpr: intOpsW.expr, intOpsSymbols: intOpsW.symbols } : {}),
      activations: {
        total: actComplete ? actTotal : actW.value,
        ...(actW.expr !== undefined ? { totalExpr: actW.expr, totalSymbols: actW.symbols } : {}),
        peak: actComplete ? actPeak : null,
        peakLowerBound: actPeak,
        peakLayer: actComplete ? actPeakLayer : null,
        unknownLayers: actUnknown,
      },
      peakMemoryBytes: live.unknownValues === 0 ? live.peakBytes : null,
      peakMemoryLowerBoundBytes: live.peakBytes,
      peakMemoryUnknownValues: live.unknownValues,
      peakMemoryLayer: live.unknownValues === 0 && live.peakStep >= 0 ? names[live.peakStep]! : null,
      latency: {
        seconds: latencyComplete ? latencySeconds : null,
        computeSeconds: latencyComplete ? computeSeconds : null,
        memorySeconds: latencyComplete ? memorySeconds : null,
        bound: !latencyComplete ? null : computeBoundLatency >= memoryBoundLatency && computeBoundLatency > 0 ? 'compute' : 'memory',
        lowerBoundSeconds: latencySeconds,
        asExecuted: executed.levels,
        ...(latencyComplete ? {} : { symbols: symbols.length > 0 ? symbols : undefined }),
      },
      latencyUnknownLayers,
      layers: layerCount,
      unknownLayers,
      symbolicLayers,
      computeBoundLayers,
      memoryBoundLayers,
      energy: {
        joules: energySum.unknown === 0 ? energySum.joules : null,
        computeJoules: energySum.unknown === 0 ? energySum.compute : null,
        sramJoules: energySum.unknown === 0 ? energySum.sram : null,
        dramJoules: energySum.unknown === 0 ? energySum.dram : null,
        lowerBoundJoules: energySum.joules,
        unknownLayers: energySum.unknown,
        table: energyTable,
        convention: ENERGY_CONVENTION,
      },
      training: training(),
      coverage: {
        layers: layerCount,
        macs: { known: macsKnown, partialSum: macsTotal },
        flops: { known: flopsKnown, partialSum: flopsTotal },
        latency: { known: latencyKnown, partialSumSeconds: latencySeconds },
        activations: { unknownLayers: actUnknown, partialSum: actTotal },
        text: coverageText,
      },
    },
    layers,
    memoryTimeline: options.timeline === false ? [] : live.timeline,
    diagnostics,
  };
}

/** Symbols the caller bound: declared symbolic dims of the graph inputs that inference made concrete. */
function boundSymbols(inputs: readonly Value[], inf: ShapeInference): Record<string, number> {
  const out: Record<string, number> = {};
  for (const v of inputs) {
    const declared = v.tensorType?.shape;
    const inferred = inf.shapeOf(v);
    if (!declared || !inferred) continue;
    declared.forEach((d, i) => {
      const x = inferred[i];
      if (typeof d === 'string' && typeof x === 'number') out[d] = x;
    });
  }
  return out;
}

/** "MACs known for 171 of 175 layers, 3 as expressions of symbolic dims, 1 unknown". */
function coverageLine(what: string, known: number, symbolic: number, layers: number): string {
  const unknown = layers - known - symbolic;
  return `${what} known for ${known} of ${layers} layers${symbolic > 0 ? `, ${symbolic} as expressions of symbolic dims` : ''}${unknown > 0 ? `, ${unknown} unknown` : ''}`;
}

/** Hierarchical roofline: the bandwidth of the smallest memory level the working set fits in (else DRAM). */
export function bandwidthFor(device: Pick<DeviceUse, 'memoryBandwidth' | 'memoryHierarchy'>, bytes: number): number {
  for (const level of device.memoryHierarchy ?? []) if (bytes <= level.bytes) return level.bandwidth;
  return device.memoryBandwidth;
}

/** The symbolic dims of the graph inputs' (inferred, so already bound) shapes, first seen first. */
function freeSymbols(inputs: readonly { readonly shape: readonly Dim[] | null }[]): string[] {
  const out = new Set<string>();
  for (const i of inputs) for (const d of i.shape ?? []) if (typeof d === 'string') out.add(d);
  return [...out];
}

/** Some reader of `v` is a QuantizeLinear. */
function readByQuantize(v: Value | undefined): boolean {
  if (v === undefined) return false;
  // (by index: `uses` would build a list for a single reader, and this runs per node)
  for (let r = 0; r < v.useCount; r++) if (isOnnxOp(v._userAt(r), 'QuantizeLinear')) return true;
  return false;
}

/** A list of reasons nobody reads. */
const IGNORED = { push: (_m: string): void => {} };

/** What the parameter count and the reasons of one layer accumulate; one instance serves every node. */
class LayerSums {
  params = 0;
  weights = 0;
  buffers = 0;
  weightBytes = 0;
  unknownList: string[] | undefined;
  notesList: string[] | undefined;
  readonly unknown: { push(m: string): void };
  readonly notes: { push(m: string): void };
  /** `totalsOnly`: the reasons are not reported, so not kept (a string and a list per layer that shares a weight). */
  constructor(totalsOnly: boolean) {
    this.unknown = totalsOnly ? IGNORED : { push: (m) => void (this.unknownList ??= []).push(m) };
    this.notes = totalsOnly ? IGNORED : { push: (m) => void (this.notesList ??= []).push(m) };
  }
  reset(): void {
    this.params = 0;
    this.weights = 0;
    this.buffers = 0;
    this.weightBytes = 0;
    this.unknownList = undefined;
    this.notesList = undefined;
  }
}

/** What an array of exactly a node's length reads past its end (the arrays' type does not say so). */
const PAST_END = undefined as unknown as null;

/** A placeholder for facts not read yet (undefined means "read: none"). */
const UNREAD = null;

/** Whether `v`, whose facts are `f`, is constant (the analysis' isConst, from facts already read). */
function constantWith(v: Value, f: Facts | undefined): boolean {
  return (f !== undefined && f.value !== undefined) || (v.isInitializer && v.constValue !== null);
}

/**
 * The CostContext of one layer, with the facts of its inputs and outputs read once. A class
 * loaded node after node: one instance (and its arrays) serves every top-level layer of a
 * million-node graph, instead of three objects per node. Entries past a node's inputs or outputs
 * read undefined, as in arrays of exactly its length (cost functions only index them).
 */
class LayerCost implements CostContext {
  node!: Node;
  // (reused lists, made by reusedList: see there)
  readonly inputShapes: (readonly Dim[] | null)[] = reusedList();
  readonly outputShapes: (readonly Dim[] | null)[] = reusedList();
  /** Facts of each input (undefined: omitted, or none), then of each output. */
  readonly inFacts: (Facts | undefined)[] = reusedList();
  readonly outFacts: (Facts | undefined)[] = reusedList();
  inputCount = 0;
  outputCount = 0;

  /** The inference's visit order while the nodes loaded follow it (see inferenceOrder), with the position in it. */
  #order: VisitOrder | undefined;
  #orderNode = 0;
  #orderFact = 0;

  /**
   * `facts`: inferShapes' own store of `inf`'s facts (inferenceFacts), or undefined for another
   * ShapeInference (see `read`). `ownFacts`: `facts` is that store (a map, or the facts held on
   * the values), which gives an initializer holding a tensor the facts { its dtype, its dims,
   * itself (unless it is also a graph input) } (Engine.runGraph, Engine.update). `onValues`:
   * `facts` are held on the values (see FactsView.onValues), which costs less than asking
   * whether the previous node produced the value.
   */
  constructor(
    readonly facts: FactsView | undefined,
    readonly inf: ShapeInference,
    readonly ownFacts = false,
    order?: VisitOrder,
    readonly onValues = false,
  ) {
    this.#order = order;
  }

  /**
   * The facts of a value, read once per node (not asked of shapeOf, constOf and isConst one by
   * one: a map lookup each, several per value). For an inference that is not inferShapes' own,
   * the same facts through its accessors. A method, not a function passed in: see CostWalk.
   */
  read(v: Value): Facts | undefined {
    const facts = this.facts;
    if (facts !== undefined) return facts.get(v);
    const value = this.inf.constOf(v);
    return { elemType: DataType.UNDEFINED, shape: this.inf.shapeOf(v), ...(value ? { value } : {}) };
  }

  /**
   * Reads the facts of `node`'s inputs and outputs — with as few map lookups as it can, since
   * on a large graph they are cache misses: an input the previously loaded node produced takes
   * that node's output facts, and (with `ownFacts`) an initializer's shape is its tensor's dims,
   * which its facts hold, its entry in `inFacts` left undefined (with `onValues`, its facts are
   * read as any input's) — every reader of `inFacts` (isConstant, traceWeight) decides an
   * initializer holding a tensor before looking at facts.
   */
  load(node: Node): this {
    const prev = this.node as Node | undefined;
    this.node = node;
    const ins = node.inputs;
    const n = ins.length;
    const inShapes = this.inputShapes;
    const inFacts = this.inFacts;
    const prevOutFacts = this.outFacts;
    for (let i = 0; i < n; i++) {
      const v = ins[i];
      if (v && this.onValues) {
        const f = this.read(v);
        inFacts[i] = f;
        inShapes[i] = f ? f.shape : v.shape;
      } else if (v) {
        // The previous node's outputs were read into outFacts (not yet overwritten).
        let f = factsFromLast(v, prev, prevOutFacts);
        if (f === NOT_LAST) {
          if (this.ownFacts && v.isInitializer && v.producer === null) {
            const t = v.constValue;
            if (t !== null) {
              inFacts[i] = undefined;
              inShapes[i] = t.dims;
              continue;
            }
          }
          f = this.read(v);
        }
        // shapeOf: the inferred dims, else (no facts) the declared ones.
        inFacts[i] = f;
        inShapes[i] = f ? f.shape : v.shape;
      } else {
        inFacts[i] = undefined;
        inShapes[i] = null;
      }
    }
    for (let i = n; i < this.inputCount; i++) {
      inShapes[i] = PAST_END;
      inFacts[i] = undefined;
    }
    this.inputCount = n;
    const outs = node.outputs;
    const m = outs.length;
    const outShapes = this.outputShapes;
    const outFacts = this.outFacts;
    // The outputs' facts in visit order (read sequentially) while the nodes follow it; for good once they do not.
    const order = this.#order;
    let from = -1;
    if (order !== undefined) {
      if (order.nodes[this.#orderNode] === node) {
        from = this.#orderFact;
        this.#orderNode++;
        this.#orderFact += m;
      } else this.#order = undefined;
    }
    for (let i = 0; i < m; i++) {
      const v = outs[i]!;
      const f = from >= 0 ? order!.facts[from + i] : this.read(v);
      outFacts[i] = f;
      outShapes[i] = f ? f.shape : v.shape;
    }
    for (let i = m; i < this.outputCount; i++) {
      outShapes[i] = PAST_END;
      outFacts[i] = undefined;
    }
    this.outputCount = m;
    return this;
  }

  /** Set when a cost function asked isConstant (its answer is not part of WorkMemo's key). */
  askedConstant = false;

  isConstant(i: number): boolean {
    this.askedConstant = true;
    const v = this.node.inputs[i];
    return v != null && constantWith(v, this.inFacts[i]);
  }

  /** The node computes only constants: it has outputs and each is unnamed or constant. */
  allOutputsConstant(): boolean {
    const outs = this.node.outputs;
    if (outs.length === 0) return false;
    for (let i = 0; i < outs.length; i++) {
      const v = outs[i]!;
      if (v.name !== '' && !constantWith(v, this.outFacts[i])) return false;
    }
    return true;
  }
}

/**
 * One analysis' state — the inference, the per-layer sums, the loaded node, the weights seen and
 * the parameter totals — with the functions that read and update it as methods: the state is made
 * per call, the functions once. As closures made by each call (count, countValue, traceWeight,
 * nodeWork, the facts reader), TurboFan inlined the first call's closures into analyze and
 * LayerCost.load, and the next call deoptimized there ("wrong call target" in `node
 * --trace-deopt`) and warmed up again: `onnxkit optimize` analyses twice, and a process that
 * analyses two models pays the warm-up for each.
 */
class CostWalk {
  /** Per-layer sums the parameter count fills (one object reused for every node: no per-node closures). */
  readonly layer: LayerSums;
  /** The top-level node's facts, read once per node (nested bodies get their own). */
  readonly ctx: LayerCost;
  /** What the last traceWeight found: the value that identifies the tensor for dedup. */
  tracedKey: Value | undefined = undefined;
  /** The sparse initializer the last traceWeight found (its values were returned), else null. */
  tracedSparse: SparseTensor | null = null;
  readonly seen = new Set<Value>();
  params = 0;
  weightParams = 0;
  bufferParams = 0;
  modelSizeBytes = 0;
  /** Parameters counted as stored with padded channels the model's count of which is not established (countPaddedParams), and their layers. */
  paddedParams = 0;
  paddedLayers = 0;
  /**
   * Values the current node counted from its own slots without `seen` (see countValue): a value
   * read at one slot only can be counted again only by this node (two lists naming that slot).
   */
  readonly nodeKeys: Value[] = [];
  /** How many entries of `nodeKeys` are the current node's (the array is not emptied between nodes: setting its length to 0 frees its store, which the next push allocates again). */
  nodeKeyCount = 0;
  /** Whether the current node is one that weights are traced through (null: not decided yet). */
  passesWeights: boolean | null = null;
  /**
   * The top-level layer's Work, read and dropped before the next layer's: one object (and its
   * lists) serves every layer instead of four allocations per node.
   */
  readonly topWork: Work = { macs: null, flops: null, intOps: null, unknown: [], notes: [], unknownOps: [] };
  /** Element counts, needed several times per value (layer, roofline, liveness). */
  readonly #elements = new Map<Value, number | null>();
  /** Each cost entry's last top-level result (see WorkMemo). */
  readonly #workMemo = new Map<OpCost, WorkMemo>();

  /** `facts`: inferenceFacts(inf). `bits`: the analysis' bit width (null: the stored dtypes). */
  constructor(
    readonly inf: ShapeInference,
    readonly facts: FactsView | undefined,
    readonly bits: number | null,
    readonly totalsOnly: boolean,
  ) {
    this.layer = new LayerSums(totalsOnly);
    this.ctx = new LayerCost(facts, inf, facts !== undefined, inferenceOrder(inf), facts?.onValues === true);
  }

  isConst(v: Value): boolean {
    // (a sparse initializer is stored, not computed: a weight, no activation)
    return this.inf.constOf(v) !== undefined || (v.isInitializer && v.constValue !== null) || (v.producer === null && v.sparseValue !== null);
  }

  elementsOf(v: Value): number | null {
    let n = this.#elements.get(v);
    if (n === undefined) {
      n = elements(this.inf.shapeOf(v));
      this.#elements.set(v, n);
    }
    return n;
  }

  /** Elements as a Dim: the number when static, an expression of symbolic dims, or null. */
  elementsDim(v: Value): Dim {
    const n = this.elementsOf(v);
    if (n !== null) return n;
    const shape = this.inf.shapeOf(v);
    return shape ? this.inf.algebra.product(shape) : null;
  }

  /**
   * The stored tensor behind a weight input (the value that identifies it for dedup in
   * `tracedKey`), or undefined. `vFacts`: the facts of `v` when the caller has read them (UNREAD:
   * look them up). The key is left in a field, not returned in a pair: this runs for every
   * weight and bias, twice per model in `onnxkit optimize`.
   */
  traceWeight(v: Value, vFacts: Facts | undefined | typeof UNREAD = UNREAD): Tensor | undefined {
    let cur = v;
    this.tracedSparse = null;
    for (let hops = 0; hops < 16; hops++) {
      if (cur.isInitializer && cur.constValue) {
        this.tracedKey = cur;
        return cur.constValue;
      }
      if (cur.producer === null) {
        const sp = cur.sparseValue;
        if (sp !== null) {
          // A sparse initializer: its stored values stand for it (dtype); countValue reads the rest.
          this.tracedKey = cur;
          this.tracedSparse = sp;
          return sp.values;
        }
      }
      const p = cur.producer;
      if (p && this.passesWeight(p)) {
        cur = p.inputs[0]!;
        continue;
      }
      const known = cur === v && vFacts !== UNREAD ? vFacts?.value : this.inf.constOf(cur);
      const t = known ?? (p && p.opType === 'Constant' && p.isOnnxDomain && attributeProblem(p) === undefined ? p.getTensor('value') : undefined);
      if (t) this.tracedKey = cur;
      return t ?? undefined;
    }
    return undefined;
  }

  /**
   * Whether a weight is traced through `p` (a Transpose, Reshape, DequantizeLinear … of its input
   * 0): its op's `passesWeights` facet. Not through a Gather whose indices are computed at run
   * time (an embedding lookup, its facet's `when`): the rows it picks are an activation, and the
   * Gather's own layer counts the table it reads (its cost's weight slot). Traced through, a MatMul after an embedding counted the whole
   * table as its own weight (640,512 parameters and their bytes for a 64×8 projection, which
   * doubled the model's roofline latency). A Slice, Expand or Tile of a stored tensor by run-time
   * bounds is still traced to it (a positional embedding cut to the sequence length): their layers
   * count no weight, so the tensor would be counted nowhere.
   */
  passesWeight(p: Node): boolean {
    if (!p.isOnnxDomain || !p.inputs[0]) return false;
    const f = lookup(PASSES_WEIGHTS, p.opType);
    return f === true || (f !== undefined && (f.when === undefined || f.when(p, this.#isConst)));
  }

  /** isConst as a function value (for the facets' `when`). */
  readonly #isConst = (v: Value): boolean => this.isConst(v);

  /**
   * Whether `n` is a node weights are traced through (a DequantizeLinear) that reads a stored
   * weight: its buffers (the weight's scale and zero point) are counted by the layer that reads
   * the weight through it, with the weight, not by `n` itself.
   */
  readsStoredWeight(n: Node): boolean {
    const v = n.inputs[0];
    return v !== null && v !== undefined && this.passesWeight(n) && this.traceWeight(v) !== undefined;
  }

  /** Counts input `slot` of the node `ctx` is loaded with. */
  count(slot: number, kind: 'weight' | 'bias' | 'buffer'): void {
    const ctx = this.ctx;
    this.countValue(ctx.node.inputs[slot], kind, slot < ctx.inputCount ? ctx.inFacts[slot] : undefined, true);
  }

  /**
   * `own`: v is input of the current node (ctx.node) at one of its slots. Shared tensors are
   * counted once through `seen`, a set of every weight, except for a value the node reads
   * directly (its own stored or constant tensor) that has no other use, when the node is not
   * one that weights are traced through: every count of a value comes from a slot that reads it
   * or from a trace through a pass-through node (or a DequantizeLinear) that reads it, so that
   * value is counted by this node alone — `nodeKeys` dedups it — and a set insert, a cache
   * miss or two on a large model, is saved for most weights.
   */
  countValue(v: Value | null | undefined, kind: 'weight' | 'bias' | 'buffer', vFacts: Facts | undefined | typeof UNREAD = UNREAD, own = false): void {
    if (!v) return;
    const tensor = this.traceWeight(v, vFacts);
    if (!tensor || !learnableDtype(tensor)) return;
    const key = this.tracedKey!;
    const sparse = this.tracedSparse;
    if (kind !== 'buffer') {
      // A QDQ weight: the DequantizeLinear it passes through stores a scale and a zero point
      // (its facet's `buffers`; only a stored weight's: an activation read at a weight slot, as
      // MatMul's A, has none).
      let cur: Value | undefined = v;
      for (let hops = 0; cur && hops < 16; hops++) {
        const p: Node | null | undefined = cur.producer;
        if (!p || !this.passesWeight(p)) break;
        const f = PASSES_WEIGHTS[p.opType];
        const buffers = f === true ? undefined : f?.buffers;
        if (buffers !== undefined) for (let k = 0; k < buffers.length; k++) this.countValue(p.inputs[buffers[k]!], 'buffer');
        cur = p.inputs[0] ?? undefined;
      }
    }
    // A sparse weight: as many parameters as its dense shape (the layer computes with all of
    // them, as its MACs count), and the bytes it stores (values and indices).
    const n = sparse === null ? tensor.size : sparse.dims.reduce((a, d) => a * d, 1);
    // Read once (a getter that reaches the tensor's payload), for the layer and the model size.
    const bytes = sparse === null ? tensor.byteLength : tensor.byteLength + sparse.indices.byteLength;
    const bits = this.bits;
    const b = bits !== null && kind !== 'buffer' ? (n * bits) / 8 : bytes;
    const layer = this.layer;
    layer.weightBytes += b;
    if (kind === 'buffer') layer.buffers += n;
    else {
      layer.params += n;
      if (kind === 'weight') layer.weights += n;
    }
    let shared: boolean;
    const node = this.ctx.node;
    if (own && key === v && v.useCount === 1 && !(this.passesWeights ??= node.isOnnxDomain && WEIGHT_PASS_THROUGH.has(node.opType))) {
      shared = false;
      const nodeKeys = this.nodeKeys;
      const nodeKeyCount = this.nodeKeyCount;
      for (let k = 0; k < nodeKeyCount; k++) {
        if (nodeKeys[k] === key) {
          shared = true;
          break;
        }
      }
      if (!shared) nodeKeys[this.nodeKeyCount++] = key;
    } else {
      // One set operation, not has() then add(): the set holds every weight of the model.
      const seen = this.seen;
      const size = seen.size;
      seen.add(key);
      shared = seen.size === size;
    }
    if (shared) {
      if (!this.totalsOnly) layer.notes.push(`shares '${key.name}' with an earlier layer (counted once in totals)`);
      return;
    }
    this.modelSizeBytes += bytes;
    if (kind === 'buffer') this.bufferParams += n;
    else {
      this.params += n;
      if (kind === 'weight') this.weightParams += n;
    }
  }

  /** Element-wise op count of the table's linear form (a number, an expression, or null). */
  opsCount(ctx: LayerCost, f: ((c: CostContext) => Count) | undefined, unknown: string[]): Dim {
    if (!f) return 0;
    const r = f(ctx);
    if ('unknown' in r) {
      unknown.push(`element-wise ops: ${r.unknown}`);
      return null;
    }
    const alg = this.inf.algebra;
    if ('factors' in r) {
      const n = alg.product(r.factors);
      if (n === null) unknown.push('element-wise ops: a dimension is unknown');
      return n;
    }
    const a = r.perInput ?? 0;
    const b = r.perOutput ?? 0;
    const nIn = a === 0 ? 0 : alg.product(ctx.inputShapes[0] ?? [null]);
    const nOut = b === 0 ? 0 : alg.product(ctx.outputShapes[0] ?? [null]);
    const n = alg.add(alg.mul(a, nIn), alg.mul(b, nOut));
    if (n === null) unknown.push(`element-wise ops: ${nIn === null ? 'input' : 'output'} shape unknown`);
    return n;
  }

  /**
   * The 8-bit type (DataType.INT8 or UINT8) `v` is dequantized from, as onnxruntime sees it
   * (ortExecutedType), or 0 when `v` is not the output of a DequantizeLinear of 8-bit integers.
   */
  fromInt8(v: Value | null | undefined): number {
    const p = v?.producer;
    if (!isOnnxOp(p, 'DequantizeLinear') || !p.inputs[0]) return 0;
    const t = this.inf.typeOf(p.inputs[0]);
    if (t === undefined || t === null || t.kind !== 'tensor' || (t.elemType !== DataType.UINT8 && t.elemType !== DataType.INT8)) return 0;
    return ortExecutedType(p.inputs[0], t.elemType);
  }

  /**
   * The one 8-bit type, as onnxruntime sees it (ortExecutedType), that every output of `node` is
   * quantized to (each output read, and only by QuantizeLinear nodes: the Q of a QDQ group), or 0
   * when an output is not so read or two of those types differ.
   */
  quantizedOutputType(node: Node): number {
    let type = 0;
    for (const o of node.outputs) {
      const readers = o.useCount;
      if (readers === 0 || o.isGraphOutput) return 0;
      for (let r = 0; r < readers; r++) {
        const q = o._userAt(r);
        if (!isOnnxOp(q, 'QuantizeLinear')) return 0;
        const qOut = q.outputs[0];
        const t = qOut ? this.inf.typeOf(qOut) : undefined;
        const e = t !== undefined && t !== null && t.kind === 'tensor' ? ortExecutedType(qOut, t.elemType) : 0;
        if (e !== DataType.UINT8 && e !== DataType.INT8) return 0;
        if (type !== 0 && e !== type) return 0;
        type = e;
      }
    }
    return type;
  }

  /**
   * QDQ form (each op's `ort.qdq`, ops/): onnxruntime runs a Conv/Gemm/MatMul ('mac') whose data
   * and weight inputs are both dequantized 8-bit integers as an integer kernel (QLinearConv,
   * QGemm, QLinearMatMul) — a Conv only when its output is quantized again, Gemm and MatMul
   * also with a float output (QGemm, MatMulIntegerToFloat) — and an 'element' op (Add, Mul, Concat, AveragePool,
   * GlobalAveragePool, Sigmoid, LeakyRelu, Softmax, Where) between DequantizeLinear and
   * QuantizeLinear as its QLinear kernel: their work is integer operations, as in the fused
   * graph. The inputs that must be dequantized are those the op's `ort.qdqInputs` names (Where's
   * X and Y: its bool condition never is), else every present one. A ConvTranspose has no QDQ
   * kernel: it stays float. Every selector also wants one 8-bit type over the dequantized data
   * inputs and the quantized outputs as onnxruntime sees them (an int8 tensor that several
   * inputs read stays int8, a single-reader one becomes uint8: see OrtFacet.qdq), and a 'mac'
   * op declaring `qdqUint8Activation` (Conv, MatMul) wants that type uint8; a 'mac' weight keeps
   * its own type (int8 weights with uint8 activations are what these kernels run).
   * `info`: opInfo(node.opType) of a default-domain node.
   */
  qdqInteger(node: Node, info: OpInfo): boolean {
    if (info.qdqMac) {
      const a = this.fromInt8(node.inputs[0]);
      if (a === 0 || this.fromInt8(node.inputs[1]) === 0 || (info.qdqUint8Activation && a !== DataType.UINT8)) return false;
      // No QuantizeLinear after it: the float-output kernel (Gemm, MatMul) or none; else its output type as any group's.
      if (!readByQuantize(node.outputs[0])) return info.qdqFloatOutput;
      return this.quantizedOutputType(node) === a;
    }
    if (!info.qdqElement) return false;
    const ins = node.inputs;
    const only = info.qdqInputs;
    let type = 0;
    if (only !== undefined) {
      // The inputs the op's QDQ form dequantizes, each present and dequantized, of one type (the facet's own array: nothing built).
      let scalar = false;
      let dequantized: Value | null | undefined;
      for (let k = 0; k < only.length; k++) {
        const v = ins[only[k]!];
        const t = this.fromInt8(v);
        if (t === 0) {
          // (qdqScalarConstant: one float scalar initializer, given a DQ by WhereDummyDq)
          const c = v?.constValue;
          if (!info.qdqScalarConstant || scalar || v === null || v === undefined || v.producer !== null || c === undefined || c === null || c.dtype !== DataType.FLOAT || c.dims.length !== 0) return false;
          scalar = true;
          continue;
        }
        if (type !== 0 && t !== type) return false;
        type = t;
        dequantized = v;
      }
      if (scalar) {
        // WhereDummyDq: the output read by one QuantizeLinear alone; the dummy DQ has the other DQ's declared type.
        const out = node.outputs[0];
        if (dequantized === undefined || dequantized === null || out === undefined || out.useCount !== 1) return false;
        const declared = this.inf.typeOf(dequantized.producer!.inputs[0]!);
        if (declared === undefined || declared === null || declared.kind !== 'tensor' || declared.elemType !== type) return false;
      }
      return this.quantizedOutputType(node) === type;
    }
    // Every present input dequantized (at least one), of one type, with no array built (this runs for every Add and Mul).
    for (let i = 0; i < ins.length; i++) {
      const v = ins[i];
      if (v === null || v === undefined) continue;
      const t = this.fromInt8(v);
      if (t === 0 || (type !== 0 && t !== type)) return false;
      type = t;
    }
    return type !== 0 && this.quantizedOutputType(node) === type;
  }

  /** MACs and FLOPs of one node (numbers, expressions of symbolic dims, or null with reasons). */
  work(node: Node, depth: number): Work {
    const bad = attributeProblem(node);
    return this.nodeWork(node, depth, bad, costEntryOf(node, bad), undefined, node.isOnnxDomain ? opInfo(node.opType) : undefined);
  }

  /**
   * work(node, depth) given what the caller knows already: `bad` (node's attribute problem),
   * `entry` (costEntryOf(node, bad)), `ctx`, a LayerCost loaded with `node` (or undefined), and
   * `info`, opInfo(node.opType) for a default-domain node (undefined for another domain).
   */
  nodeWork(node: Node, depth: number, bad: string | undefined, entry: OpCost | undefined, ctx: LayerCost | undefined, info: OpInfo | undefined): Work {
    let out: Work;
    if (depth === 0) {
      out = this.topWork;
      out.macs = out.flops = out.intOps = null;
      // Setting an array's length is a runtime call, even to its current length.
      if (out.unknown.length !== 0) out.unknown.length = 0;
      if (out.notes.length !== 0) out.notes.length = 0;
      if (out.unknownOps.length !== 0) out.unknownOps.length = 0;
    } else out = { macs: null, flops: null, intOps: null, unknown: [], notes: [], unknownOps: [] };
    if (bad !== undefined) {
      // Malformed (ONNX Runtime would reject it): shape inference reported it; no cost is guessed.
      out.unknown.push(`bad-attribute: ${bad}`);
      return out;
    }
    if (info !== undefined && info.controlFlow) return this.controlFlowWork(node, depth);
    if (!entry) {
      const label = node.isOnnxDomain ? node.opType : `${node.domain}::${node.opType}`;
      // A registered op that declares no cost says why (its `cost: undeclared(kind, …)`, ops/).
      const why = undeclaredFacet(label, 'cost');
      out.unknown.push(why === undefined ? `no cost model for op '${label}'` : `no cost model for op '${label}' (${why})`);
      out.unknownOps.push(label);
      return out;
    }
    ctx ??= new LayerCost(this.facts, this.inf, this.facts !== undefined).load(node);
    const alg = this.inf.algebra;
    let macs: Dim = 0;
    let total: Dim;
    // A top-level layer the table's functions would see as they saw the last one of its entry: their result again.
    const memo = depth === 0 ? this.#workMemo.get(entry) : undefined;
    if (memo !== undefined && memo.epoch === alg.epoch && memo.matches(node, ctx)) {
      macs = memo.macs;
      total = memo.total;
      const unknown = memo.unknown;
      for (let k = 0; k < unknown.length; k++) out.unknown.push(unknown[k]!);
    } else {
      ctx.askedConstant = false;
      const epoch = alg.epoch;
      if (entry.macs) {
        const f = entry.macs(ctx);
        if (!Array.isArray(f)) {
          macs = null;
          out.unknown.push(`MACs: ${(f as { unknown: string }).unknown}`);
        } else {
          macs = alg.product(f as readonly Dim[]);
          if (macs === null) out.unknown.push('MACs: a dimension is unknown');
          else if (typeof macs === 'string') out.unknown.push(`MACs: symbolic (${macs})`);
        }
      }
      const ops = this.opsCount(ctx, entry.ops, out.unknown);
      total = macs === null || ops === null ? null : alg.add(alg.mul(2, macs), ops);
      // (not when the computation changed how a dim it may have read is read: see DimAlgebra.epoch)
      if (depth === 0 && !ctx.askedConstant && alg.epoch === epoch) {
        if (memo !== undefined) memo.record(node, ctx, macs, total, out.unknown, epoch);
        else this.#workMemo.set(entry, new WorkMemo(node, ctx, macs, total, out.unknown, epoch));
      }
    }
    out.macs = macs;
    const integer = entry.integer === true || (info !== undefined && this.qdqInteger(node, info));
    if (integer && !entry.integer) out.notes.push('QDQ: dequantized 8-bit inputs, run as an integer kernel by onnxruntime: counted as intOps');
    out.flops = integer ? (total === null ? null : 0) : total;
    out.intOps = integer ? total : total === null ? null : 0;
    return out;
  }

  /**
   * The parameters a node inside a body graph reads, counted into the current layer (the If,
   * Loop or Scan that holds the body) and the totals: the slots its cost entry names, traced to
   * their stored tensors as at the top level, each tensor once through `seen` (a body reads its
   * own initializers and Constant nodes, and weights of the enclosing graphs). Every branch is
   * counted, not only the costlier one: all of them are stored in the model.
   */
  countBodyParams(n: Node): void {
    const entry = costEntry(n);
    if (entry) this.countParams(n, entry, false);
  }

  /**
   * The parameters `n` reads at the slots its cost `entry` names (weights, biases, buffers, stored
   * operands), traced to their stored tensors, shared ones once. `top`: `n` is the node `ctx` is
   * loaded with (its input facts are read from there, and a tensor it alone reads skips the set);
   * else a node of a body graph. Indexed loops: this runs once per node, and array iterators
   * allocate until optimised.
   */
  countParams(n: Node, entry: OpCost, top: boolean): void {
    const padded = entry.paddedChannels;
    // (a node of a body graph is loaded on its own: an NCHWc Conv in an If or Loop body, rare)
    if (padded !== undefined) this.countPaddedParams(n, entry, top, padded(n, top ? this.ctx : new LayerCost(this.facts, this.inf, this.facts !== undefined).load(n)));
    else this.countStoredParams(n, entry, top);
  }

  /**
   * countParams of a node whose weights are stored with padded channels (OpCost.paddedChannels):
   * of the weights it adds the model's share (out/outStored × in/inStored), of the biases
   * out/outStored (the bytes stay those stored). When the model's channels are not established,
   * the parameters as stored, an upper bound: a note on the layer, and `paddedParams` counts them
   * for the report's warning (a parameter count is never null in the schema).
   */
  private countPaddedParams(n: Node, entry: OpCost, top: boolean, p: PaddedChannels): void {
    const layer = this.layer;
    if ('unknown' in p) {
      const was = this.params;
      this.countStoredParams(n, entry, top);
      this.paddedParams += this.params - was;
      if (this.params > was) this.paddedLayers++;
      if (!this.totalsOnly) layer.notes.push(`parameters counted as stored (padded channels; an upper bound): ${p.unknown}`);
      return;
    }
    const scaled = (slots: readonly number[] | undefined, kind: 'weight' | 'bias', share: number): void => {
      if (!slots) return;
      const before = [layer.params, layer.weights, this.params, this.weightParams];
      for (let k = 0; k < slots.length; k++) this.countSlot(n, slots[k]!, kind, top);
      const scale = (now: number, was: number): number => was + (now - was) * share;
      layer.params = scale(layer.params, before[0]!);
      layer.weights = scale(layer.weights, before[1]!);
      this.params = scale(this.params, before[2]!);
      this.weightParams = scale(this.weightParams, before[3]!);
    };
    scaled(entry.weights, 'weight', (p.out * p.in) / (p.outStored * p.inStored));
    scaled(entry.biases, 'bias', p.out / p.outStored);
  }

  /** countParams: the tensors as stored. */
  private countStoredParams(n: Node, entry: OpCost, top: boolean): void {
    const ws = entry.weights;
    if (ws) for (let k = 0; k < ws.length; k++) this.countSlot(n, ws[k]!, 'weight', top);
    const bs = entry.biases;
    if (bs) for (let k = 0; k < bs.length; k++) this.countSlot(n, bs[k]!, 'bias', top);
    const fs = entry.buffers;
    if (fs && !this.readsStoredWeight(n)) for (let k = 0; k < fs.length; k++) this.countSlot(n, fs[k]!, 'buffer', top);
    const ins = n.inputs;
    if (entry.constOperandsWeights) for (let i = 0; i < ins.length; i++) this.countSlot(n, i, 'weight', top);
    if (entry.constOperandsLearnable) {
      for (let i = 0; i < ins.length; i++) {
        const v = ins[i];
        const t = v ? this.traceWeight(v, top ? this.ctx.inFacts[i] : UNREAD) : undefined;
        if (t && t.size > 1 && knownDataTypeInfo(t.dtype)?.kind === 'float') this.countSlot(n, i, 'bias', top);
      }
    }
  }

  /** Input `slot` of `n` counted as `kind` (see countParams for `top`). */
  private countSlot(n: Node, slot: number, kind: 'weight' | 'bias' | 'buffer', top: boolean): void {
    if (top) this.count(slot, kind);
    else this.countValue(n.inputs[slot], kind);
  }

  /** The work of a body graph: the sum over its non-constant nodes (whose parameters it counts). */
  graphWork(g: Graph, depth: number): Work {
    const out: Work = { macs: 0, flops: 0, intOps: 0, unknown: [], notes: [], unknownOps: [] };
    for (const n of g.nodes) {
      if (n.outputs.length > 0 && n.outputs.every((v) => v.name === '' || this.isConst(v))) continue;
      this.countBodyParams(n);
      const w = this.work(n, depth + 1);
      out.macs = this.inf.algebra.add(out.macs, w.macs);
      out.flops = this.inf.algebra.add(out.flops, w.flops);
      out.intOps = this.inf.algebra.add(out.intOps, w.intOps);
      for (const u of w.unknown) out.unknown.push(`${n.name || n.opType}: ${u}`);
      for (const u of w.unknownOps) out.unknownOps.push(u);
    }
    return out;
  }

  /** If: the costlier branch; Loop/Scan: the body × the trip count (a number, an expression, or null). */
  controlFlowWork(node: Node, depth: number): Work {
    const out: Work = { macs: null, flops: null, intOps: null, unknown: [], notes: [], unknownOps: [] };
    if (depth > 16) {
      out.unknown.push('control flow nested more than 16 deep');
      return out;
    }
    const graphAttr = (name: string): Graph | undefined => {
      const a = node.attr(name);
      return a && !a.isRef && a.type === AttributeType.GRAPH ? (a.value as Graph) : undefined;
    };
    if (node.opType === 'If') {
      const thenG = graphAttr('then_branch');
      const elseG = graphAttr('else_branch');
      if (!thenG || !elseG) {
        out.unknown.push('If without both branches');
        return out;
      }
      const a = this.graphWork(thenG, depth);
      const b = this.graphWork(elseG, depth);
      const pick = costlier(a, b, this.inf.algebra);
      for (const u of [a.unknownOps, b.unknownOps].flat()) out.unknownOps.push(u);
      if (pick === null) {
        for (const u of a.unknown) out.unknown.push(`then_branch: ${u}`);
        for (const u of b.unknown) out.unknown.push(`else_branch: ${u}`);
        if (a.flops !== null && b.flops !== null) out.unknown.push(`If: the costlier branch depends on the symbolic dims (then ${a.flops} FLOPs, else ${b.flops})`);
        return out;
      }
      const [w, which, other] = pick === 'then' ? [a, 'then_branch', b] : [b, 'else_branch', a];
      out.macs = w.macs;
      out.flops = w.flops;
      out.intOps = w.intOps;
      out.notes.push(`If: the costlier branch, ${which}, is counted (${String(w.flops)} FLOPs; the other ${String(other.flops)})`);
      return out;
    }
    const body = graphAttr('body');
    if (!body) {
      out.unknown.push(`${node.opType} without a body`);
      return out;
    }
    const w = this.graphWork(body, depth);
    for (const u of w.unknownOps) out.unknownOps.push(u);
    for (const u of w.unknown) out.unknown.push(`body: ${u}`);
    let trips: Dim = null;
    let why = '';
    if (node.opType === 'Loop') {
      const m = node.inputs[0];
      const t = m ? this.inf.shapeValueOf(m)?.[0] : undefined;
      if (!m) why = 'Loop has no trip count: the condition decides at run time';
      else if (t === undefined || t === null || (typeof t === 'number' && !Number.isSafeInteger(t))) why = `Loop trip count '${m.name}' is computed at run time`;
      else trips = t;
    } else {
      // Scan: the extent of the first scan input along its scan axis; opset 8's batched form runs
      // the body for every batch entry too (its scan inputs are [batch, seq, …]).
      const nScan = node.getInt('num_scan_inputs', 0);
      const first = node.inputs[node.inputs.length - nScan];
      const opset9 = this.inf.opset >= 9;
      const axes = node.getInts('scan_input_axes');
      const axis = opset9 ? (axes?.[0] ?? 0) : 1;
      const shape = first ? this.inf.shapeOf(first) : null;
      const ax = shape ? (axis < 0 ? shape.length + axis : axis) : -1;
      if (!shape || ax < 0 || ax >= shape.length || shape[ax] === null) why = 'Scan iteration count unknown (scan input shape)';
      else if (opset9) trips = shape[ax]!;
      else {
        trips = this.inf.algebra.mul(shape[0]!, shape[ax]!);
        if (trips === null) why = 'Scan iteration count unknown (batch of the scan input)';
      }
    }
    if (trips === null) {
      out.unknown.push(why);
      return out;
    }
    out.macs = this.inf.algebra.mul(trips, w.macs);
    out.flops = this.inf.algebra.mul(trips, w.flops);
    out.intOps = this.inf.algebra.mul(trips, w.intOps);
    out.notes.push(`${node.opType}: body work × ${String(trips)} iteration(s)`);
    return out;
  }
}

/**
 * The MACs and work of the last top-level layer of one cost entry, for the next layer whose cost
 * functions would read the same: layers repeat (a chain's blocks, a transformer's layers), the
 * decoder shares attributes, and the shapes the functions read are shared arrays (interned facts,
 * a tensor's dims). The table's functions read the node's attributes, which inputs are present,
 * and the input and output shapes — the key, compared by identity — and never the graph around
 * the node (`isConstant`, which could, makes the result not kept; QDQ integer kernels are decided
 * per layer by the caller), in the algebra's epoch it was computed in (DimAlgebra.epoch). The result: MACs, 2·MACs + element-wise ops, and the reasons pushed.
 */
class WorkMemo {
  attrs: readonly Attribute[] = [];
  readonly present: boolean[] = [];
  readonly inShapes: (readonly Dim[] | null)[] = [];
  readonly outShapes: (readonly Dim[] | null)[] = [];
  macs: Dim = null;
  total: Dim = null;
  readonly unknown: string[] = [];
  /** The algebra's epoch the result was computed in (see DimAlgebra.epoch). */
  epoch = 0;

  constructor(node: Node, ctx: LayerCost, macs: Dim, total: Dim, unknown: readonly string[], epoch: number) {
    this.record(node, ctx, macs, total, unknown, epoch);
  }

  record(node: Node, ctx: LayerCost, macs: Dim, total: Dim, unknown: readonly string[], epoch: number): void {
    this.epoch = epoch;
    this.attrs = node._attributeItems;
    const ins = node.inputs;
    const n = ins.length;
    const present = this.present;
    const inShapes = this.inShapes;
    if (present.length !== n) present.length = inShapes.length = n;
    for (let i = 0; i < n; i++) {
      present[i] = ins[i] != null;
      inShapes[i] = ctx.inputShapes[i]!;
    }
    const m = node.outputs.length;
    const outShapes = this.outShapes;
    if (outShapes.length !== m) outShapes.length = m;
    for (let i = 0; i < m; i++) outShapes[i] = ctx.outputShapes[i]!;
    this.macs = macs;
    this.total = total;
    const mine = this.unknown;
    if (mine.length !== unknown.length) mine.length = unknown.length;
    for (let i = 0; i < unknown.length; i++) mine[i] = unknown[i]!;
  }

  /** Whether `node`, loaded in `ctx`, has the attributes, present inputs and shapes of the layer recorded. */
  matches(node: Node, ctx: LayerCost): boolean {
    const ins = node.inputs;
    const n = ins.length;
    const present = this.present;
    if (n !== present.length || node.outputs.length !== this.outShapes.length) return false;
    const attrs = node._attributeItems;
    if (attrs !== this.attrs) {
      const mine = this.attrs;
      if (attrs.length !== mine.length) return false;
      for (let i = 0; i < attrs.length; i++) if (attrs[i] !== mine[i]) return false;
    }
    const inShapes = this.inShapes;
    for (let i = 0; i < n; i++) if ((ins[i] != null) !== present[i] || ctx.inputShapes[i] !== inShapes[i]) return false;
    const outShapes = this.outShapes;
    for (let i = 0; i < outShapes.length; i++) if (ctx.outputShapes[i] !== outShapes[i]) return false;
    return true;
  }
}

/** The nodes of `g` in order, by a cursor walk (Graph.nodes spreads its iterator: a result object per node). */
function nodeArray(g: Graph): Node[] {
  const out = new Array<Node>(g.nodeCount);
  let i = 0;
  for (let n = g.firstNode; n !== null; n = n.next) out[i++] = n;
  out.length = i;
  return out;
}

