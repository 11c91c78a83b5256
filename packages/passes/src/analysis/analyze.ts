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
import { DataType, dataTypeName, isStaticShape, type Dim, type Model, type Node, type Tensor, type Value } from '@onnxkit/graph';
import { attributeProblem } from '../common/attribute-schema.js';
import { elementBits, isDefinedDataType, knownDataTypeInfo } from '../common/data-types.js';
import { lookup } from '../common/op-table.js';
import { WEIGHT_PASS_THROUGH } from '../ops/registry.js';
import { COST_TABLE, CONVENTION, type CostContext, type Count, type OpCost } from './cost-table.js';
import { DEFAULT_DEVICE, getDevice, parseDeviceProfile, type DeviceProfile } from './devices.js';
import { AnalysisError } from './errors.js';
import type { AnalysisDiagnostic } from './inference-types.js';
import { activationLiveness, type MemoryStep } from './memory.js';
import { inferShapes, type InferShapesOptions, type ShapeInference } from './shape-inference.js';

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
  /** Activation elements read (non-constant inputs) and written (all outputs). */
  readonly activations: { readonly input: number | null; readonly output: number | null };
  /** Bytes moved: weights (incl. biases, buffers), input and output activations. */
  readonly bytes: { readonly weights: number; readonly input: number | null; readonly output: number | null };
  readonly arithmeticIntensity: number | null;
  readonly latency: number | null;
  /** Which roofline limit dominates; null when unknown or when the layer costs nothing (a view). */
  readonly bound: Bound | null;
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
  readonly memoryBandwidth: number;
}

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
  /** Sum over layers with known MACs (see unknownLayers). */
  readonly macs: number;
  /** Total MACs as an expression of the symbolic dims, when some layers are symbolic and none unknown. */
  readonly macsExpr?: string;
  readonly flops: number;
  /** Total FLOPs as an expression of the symbolic dims, when some layers are symbolic and none unknown. */
  readonly flopsExpr?: string;
  /** `total` covers layers of known size; `totalExpr` is the whole total as an expression when it depends on symbolic dims. */
  readonly activations: { readonly total: number; readonly totalExpr?: string; readonly peak: number; readonly peakLayer: string | null; readonly unknownLayers: number };
  /** True peak of live activation bytes over the node order; weights excluded. */
  readonly peakMemoryBytes: number;
  /** Activations of unknown size, counted as 0 bytes (peakMemoryBytes is then a lower bound). */
  readonly peakMemoryUnknownValues: number;
  readonly peakMemoryLayer: string | null;
  readonly latency: { readonly seconds: number; readonly computeSeconds: number; readonly memorySeconds: number; readonly bound: Bound };
  /** Layers whose latency is unknown (FLOPs or bytes unknown): missing from `latency`. */
  readonly latencyUnknownLayers: number;
  readonly layers: number;
  /** Layers whose MACs or FLOPs are unknown (their contribution is missing from the sums). */
  readonly unknownLayers: number;
  readonly computeBoundLayers: number;
  readonly memoryBoundLayers: number;
}

export interface AnalysisReport {
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

function learnableDtype(t: Tensor): boolean {
  const info = knownDataTypeInfo(t.dtype);
  const k = info?.kind;
  return k === 'float' || ((k === 'int' || k === 'uint') && info!.bits <= 8);
}

/** The cost entry of a well-formed default-domain node (a malformed one has none: its cost is unknown). */
function costEntry(n: Node): OpCost | undefined {
  return n.isOnnxDomain && attributeProblem(n) === undefined ? lookup(COST_TABLE, n.opType) : undefined;
}

function elements(shape: readonly Dim[] | null | undefined): number | null {
  if (!shape || !isStaticShape(shape)) return null;
  let n = 1;
  for (const d of shape) n *= d as number;
  return n;
}

function resolveDevice(d: string | DeviceProfile | undefined, bits: number | null): DeviceUse {
  const p = d === undefined ? getDevice(DEFAULT_DEVICE) : typeof d === 'string' ? getDevice(d) : parseDeviceProfile(d);
  let precision: DeviceUse['precision'] = 'fp32';
  let peak = p.peakFlops.fp32;
  if (bits !== null && bits <= 8 && p.peakFlops.int8) {
    precision = 'int8';
    peak = p.peakFlops.int8;
  } else if (bits !== null && bits <= 16 && p.peakFlops.fp16) {
    precision = 'fp16';
    peak = p.peakFlops.fp16;
  }
  return { id: p.id, version: p.version, title: p.title, source: p.source, precision, peakFlops: peak, memoryBandwidth: p.memoryBandwidth };
}

export function analyzeModel(model: Model, options: AnalyzeOptions = {}): AnalysisReport {
  const bits = options.bits ?? null;
  if (bits !== null && (!Number.isInteger(bits) || bits < 1 || bits > 64)) {
    throw new AnalysisError(`bits must be an integer from 1 to 64, got ${bits}`, { hint: 'e.g. --bits 8 for int8 weights' });
  }
  const device = resolveDevice(options.device, bits);
  const inf = options.inference ?? inferShapes(model, options);
  const graph = model.graph;
  const nodes = graph.nodes;
  const diagnostics: AnalysisDiagnostic[] = [...inf.diagnostics];

  const isConst = (v: Value): boolean => inf.constOf(v) !== undefined || (v.isInitializer && v.constValue !== null);
  // Element counts and bytes are needed several times per value (layer, roofline, liveness).
  const elemCache = new Map<Value, number | null>();
  const elementsOf = (v: Value): number | null => {
    let n = elemCache.get(v);
    if (n === undefined) {
      n = elements(inf.shapeOf(v));
      elemCache.set(v, n);
    }
    return n;
  };
  /** Elements as a Dim: the number when static, an expression of symbolic dims, or null. */
  const elementsDim = (v: Value): Dim => {
    const n = elementsOf(v);
    if (n !== null) return n;
    const shape = inf.shapeOf(v);
    return shape ? inf.algebra.product(shape) : null;
  };
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
      s = inf.algebra.add(s, elementsDim(v));
    }
    return s;
  };

  /** The stored tensor behind a weight input, and the value that identifies it for dedup. */
  const traceWeight = (v: Value): { key: Value; tensor: Tensor } | undefined => {
    let cur = v;
    for (let hops = 0; hops < 16; hops++) {
      if (cur.isInitializer && cur.constValue) return { key: cur, tensor: cur.constValue };
      const p = cur.producer;
      if (p && p.isOnnxDomain && WEIGHT_PASS_THROUGH.has(p.opType) && p.inputs[0]) {
        cur = p.inputs[0];
        continue;
      }
      const t = inf.constOf(cur) ?? (p && p.opType === 'Constant' && p.isOnnxDomain && attributeProblem(p) === undefined ? p.getTensor('value') : undefined);
      return t ? { key: cur, tensor: t } : undefined;
    }
    return undefined;
  };

  const seen = new Map<Value, 'weight' | 'bias' | 'buffer'>();
  let params = 0;
  let weightParams = 0;
  let bufferParams = 0;
  let modelSizeBytes = 0;
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
  /** The lecture's activation total as an expression of the symbolic dims (null: some unknown). */
  let symbolicAct: Dim = 0;
  let anySymbolic = false;

  for (const v of graph.inputs) {
    if (v.isInitializer) continue;
    const n = elementsOf(v);
    if (n === null) actUnknown++;
    else actTotal += n;
    symbolicAct = inf.algebra.add(symbolicAct, elementsDim(v));
  }

  nodes.forEach((node, index) => {
    const name = node.name || `${node.opType}_${index}`;
    names.push(name);
    const badAttribute = node.isOnnxDomain ? attributeProblem(node) : undefined;
    const entry: OpCost | undefined = costEntry(node);
    const inputShapes = node.inputs.map((v) => (v ? inf.shapeOf(v) : null));
    const outputShapes = node.outputs.map((v) => inf.shapeOf(v));
    let unknownList: string[] | undefined;
    let notesList: string[] | undefined;
    const unknown = { push: (m: string) => void (unknownList ??= []).push(m) };
    const notes = { push: (m: string) => void (notesList ??= []).push(m) };
    const constant = node.outputs.length > 0 && node.outputs.every((v) => v.name === '' || isConst(v));

    // Parameters: the slots the table names, traced to stored tensors; shared tensors once.
    let lParams = 0;
    let lWeights = 0;
    let lBuffers = 0;
    let weightBytes = 0;
    const count = (slot: number, kind: 'weight' | 'bias' | 'buffer'): void => {
      const v = node.inputs[slot];
      if (!v) return;
      const src = traceWeight(v);
      if (!src || !learnableDtype(src.tensor)) return;
      const n = src.tensor.size;
      const b = bits !== null && kind !== 'buffer' ? (n * bits) / 8 : src.tensor.byteLength;
      weightBytes += b;
      if (kind === 'buffer') lBuffers += n;
      else {
        lParams += n;
        if (kind === 'weight') lWeights += n;
      }
      if (seen.has(src.key)) {
        notes.push(`shares '${src.key.name}' with an earlier layer (counted once in totals)`);
        return;
      }
      seen.set(src.key, kind);
      modelSizeBytes += src.tensor.byteLength;
      if (kind === 'buffer') bufferParams += n;
      else {
        params += n;
        if (kind === 'weight') weightParams += n;
      }
    };
    if (entry && !constant) {
      for (const s of entry.weights ?? []) count(s, 'weight');
      for (const s of entry.biases ?? []) count(s, 'bias');
      for (const s of entry.buffers ?? []) count(s, 'buffer');
      if (entry.constOperandsLearnable) {
        node.inputs.forEach((v, i) => {
          const t = v ? traceWeight(v)?.tensor : undefined;
          if (t && t.size > 1 && knownDataTypeInfo(t.dtype)?.kind === 'float') count(i, 'bias');
        });
      }
    }

    // MACs and FLOPs from the table.
    const ctx = new LayerCost(node, inputShapes, outputShapes, isConst);
    /** The table's linear form of element-wise ops, multiplied out (a number, an expression, or null). */
    const opsCount = (f: ((c: CostContext) => Count) | undefined): Dim => {
      if (!f) return 0;
      const r = f(ctx);
      if ('unknown' in r) {
        unknown.push(`element-wise ops: ${r.unknown}`);
        return null;
      }
      const a = r.perInput ?? 0;
      const b = r.perOutput ?? 0;
      const nIn = a === 0 ? 0 : inf.algebra.product(inputShapes[0] ?? [null]);
      const nOut = b === 0 ? 0 : inf.algebra.product(outputShapes[0] ?? [null]);
      const n = inf.algebra.add(inf.algebra.mul(a, nIn), inf.algebra.mul(b, nOut));
      if (n === null) unknown.push(`element-wise ops: ${nIn === null ? 'input' : 'output'} shape unknown`);
      return n;
    };
    let macs: number | null;
    let flops: number | null;
    let macsExpr: string | undefined;
    let flopsExpr: string | undefined;
    if (constant) {
      macs = 0;
      flops = 0;
      notes.push('constant: computed once at load, excluded from totals');
    } else if (badAttribute !== undefined) {
      // Malformed (ONNX Runtime would reject it): shape inference reported it; no cost is guessed.
      macs = null;
      flops = null;
      unknown.push(`bad-attribute: ${badAttribute}`);
    } else if (!entry) {
      macs = null;
      flops = null;
      const label = node.isOnnxDomain ? node.opType : `${node.domain}::${node.opType}`;
      unknown.push(`no cost model for op '${label}'`);
      unknownOps.set(label, (unknownOps.get(label) ?? 0) + 1);
    } else {
      if (!entry.macs) macs = 0;
      else {
        const f = entry.macs(ctx);
        if (!Array.isArray(f)) {
          macs = null;
          unknown.push(`MACs: ${(f as { unknown: string }).unknown}`);
        } else {
          const p = inf.algebra.product(f as readonly Dim[]);
          if (typeof p === 'number') macs = p;
          else {
            macs = null;
            if (p !== null) macsExpr = p;
            unknown.push(p === null ? 'MACs: a dimension is unknown' : `MACs: symbolic (${p})`);
          }
        }
      }
      if (macsExpr !== undefined || macs === null) symbolicMacs = macsExpr === undefined || symbolicMacs === null ? null : inf.algebra.add(symbolicMacs, macsExpr);
      else if (symbolicMacs !== null) symbolicMacs = inf.algebra.add(symbolicMacs, macs);
      const ops = opsCount(entry.ops);
      if (typeof macs === 'number' && typeof ops === 'number') flops = 2 * macs + ops;
      else {
        flops = null;
        const macsDim: Dim = macs ?? macsExpr ?? null;
        const f = macsDim === null || ops === null ? null : inf.algebra.add(inf.algebra.mul(2, macsDim), ops);
        if (typeof f === 'string') flopsExpr = f;
      }
      if (node.subgraphs().length > 0) notes.push('subgraph cost not included');
    }
    // Every branch above (constant, malformed, no cost model, costed) feeds the symbolic total.
    if (flopsExpr !== undefined) symbolicFlops = symbolicFlops === null ? null : inf.algebra.add(symbolicFlops, flopsExpr);
    else if (flops === null) symbolicFlops = null;
    else if (symbolicFlops !== null) symbolicFlops = inf.algebra.add(symbolicFlops, flops);

    // Activations (elements): non-constant inputs read, outputs written.
    const shapeOnly = entry?.shapeOnly === true;
    const actIn = constant || shapeOnly ? 0 : sumInputs(node, elementsOf);
    const actOut = constant ? 0 : sumOutputs(node, elementsOf);
    const alias = entry?.alias === true;
    const inPlace = entry?.inPlace === true && !(node.opType === 'BatchNormalization' && isTrainingBN(node));
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
    if (flops !== null && bytesIn !== null && bytesOut !== null) {
      const moved = bytesIn + bytesOut + (constant ? 0 : weightBytes);
      const tc = flops / device.peakFlops;
      const tm = moved / device.memoryBandwidth;
      latency = Math.max(tc, tm);
      // A view or a no-op moves nothing and computes nothing: neither bound applies.
      bound = latency === 0 ? null : tc >= tm ? 'compute' : 'memory';
      intensity = moved > 0 ? flops / moved : null;
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

    if (macsExpr !== undefined) anySymbolic = true;
    else if (macs === null) symbolicMacs = null;
    if (macs === null || flops === null) unknownLayers++;
    else if (!constant) {
      macsTotal += macs;
      flopsTotal += flops;
    }

    const layer: { -readonly [K in keyof LayerReport]: LayerReport[K] } = {
      index,
      name,
      opType: node.opType,
      domain: node.domain,
      inputShapes,
      outputShape: outputShapes[0] ?? null,
      params: lParams,
      weightParams: lWeights,
      bufferParams: lBuffers,
      macs,
      flops,
      activations: { input: actIn, output: actOut },
      bytes: { weights: constant ? 0 : weightBytes, input: bytesIn, output: bytesOut },
      arithmeticIntensity: intensity,
      latency,
      bound,
    };
    if (!node.name) layer.unnamed = true;
    if (outputShapes.length > 1) layer.outputShapes = outputShapes;
    if (macsExpr !== undefined) layer.macsExpr = macsExpr;
    if (flopsExpr !== undefined) layer.flopsExpr = flopsExpr;
    if (inPlace) layer.inPlace = true;
    if (alias) layer.alias = true;
    if (constant) layer.constant = true;
    if (unknownList) layer.unknown = unknownList;
    if (notesList) layer.notes = notesList;
    layers.push(layer);
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
      if (e?.inPlace && !(n.opType === 'BatchNormalization' && isTrainingBN(n))) return 'inPlace';
      return undefined;
    },
  });

  let constantBytes = 0;
  const constSeen = new Set<Tensor>();
  for (const g of model.graphs()) {
    for (const v of g.initializers.values()) {
      if (v.constValue && !constSeen.has(v.constValue)) {
        constSeen.add(v.constValue);
        constantBytes += v.constValue.byteLength;
      }
    }
    for (const n of g) {
      if (n.opType !== 'Constant' || !n.isOnnxDomain) continue;
      const t = inf.constOf(n.outputs[0]!);
      if (t && !constSeen.has(t) && t.dtype !== DataType.STRING) {
        constSeen.add(t);
        constantBytes += t.byteLength;
      }
    }
  }

  for (const [op, k] of unknownOps) {
    diagnostics.push({ severity: 'warning', code: 'no-cost-model', message: `${k} layer(s) of op '${op}' have no cost model: their MACs/FLOPs/latency are unknown and missing from the totals`, op });
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
  if (live.unknownValues > 0) {
    diagnostics.push({ severity: 'info', code: 'unknown-activation-size', message: `${live.unknownValues} activation(s) have unknown size; peakMemoryBytes is a lower bound` });
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

  return {
    model: { name: graph.name, producer: [model.producerName, model.producerVersion].filter(Boolean).join(' '), opset: inf.opset, nodes: nodes.length, inputs, symbols: freeSymbols(inputs) },
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
      macs: macsTotal,
      ...(anySymbolic && typeof symbolicMacs === 'string' ? { macsExpr: symbolicMacs } : {}),
      flops: flopsTotal,
      ...(typeof symbolicFlops === 'string' ? { flopsExpr: symbolicFlops } : {}),
      activations: { total: actTotal, ...(typeof symbolicAct === 'string' ? { totalExpr: symbolicAct } : {}), peak: actPeak, peakLayer: actPeakLayer, unknownLayers: actUnknown },
      peakMemoryBytes: live.peakBytes,
      peakMemoryUnknownValues: live.unknownValues,
      peakMemoryLayer: live.peakStep >= 0 ? names[live.peakStep]! : null,
      latency: { seconds: latencySeconds, computeSeconds, memorySeconds, bound: computeBoundLatency >= memoryBoundLatency && computeBoundLatency > 0 ? 'compute' : 'memory' },
      latencyUnknownLayers,
      layers: layers.length,
      unknownLayers,
      computeBoundLayers,
      memoryBoundLayers,
    },
    layers,
    memoryTimeline: options.timeline === false ? [] : live.timeline,
    diagnostics,
  };
}

/** The symbolic dims of the graph inputs' (inferred, so already bound) shapes, first seen first. */
function freeSymbols(inputs: readonly { readonly shape: readonly Dim[] | null }[]): string[] {
  const out = new Set<string>();
  for (const i of inputs) for (const d of i.shape ?? []) if (typeof d === 'string') out.add(d);
  return [...out];
}

/** BatchNormalization in training mode (opset 14 attribute, or the extra outputs in use). */
function isTrainingBN(n: Node): boolean {
  if (n.getInt('training_mode', 0) === 1) return true;
  return n.outputs.slice(1).some((v) => v.name !== '' && (v.uses.length > 0 || v.isGraphOutput));
}

/** The CostContext of one layer (a class: no per-layer closures for a million-node graph). */
class LayerCost implements CostContext {
  constructor(
    readonly node: Node,
    readonly inputShapes: readonly (readonly Dim[] | null)[],
    readonly outputShapes: readonly (readonly Dim[] | null)[],
    readonly isConst: (v: Value) => boolean,
  ) {}
  isConstant(i: number): boolean {
    const v = this.node.inputs[i];
    return v != null && this.isConst(v);
  }
}
