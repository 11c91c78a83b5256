/**
 * onnxruntime profiles: ORT writes a Chrome-trace JSON array of events. Node events are named
 * `<node name>_kernel_time` (plus `_fence_before`/`_fence_after`) with `args.op_name`,
 * `args.node_index` and `dur` in µs; session events include `model_run` per run. We summarise
 * kernel time per op type and per node, and map ORT's node names back to the model's nodes
 * (by name — also ORT's fused nodes, named after the model's, see mapOptimized — or for unnamed nodes — which ORT calls `<OpType>_<index>` — by index when graph
 * optimizations are off and indices still match the model's node order).
 *
 * `compareWithRoofline` puts the measured per-node time next to the analysis' roofline
 * estimate per layer.
 */
import type { Model, Node } from '@onnxkit/graph';

export interface ProfileNodeStat {
  /** Node name as ORT reports it. */
  name: string;
  opType: string;
  /** The model's node this maps to (its name, or `<OpType>_<index>`-style for unnamed ones); null if unmapped. */
  node: string | null;
  /** Position of the model node in graph order, when mapped. */
  nodeIndex: number | null;
  provider: string;
  calls: number;
  totalUs: number;
  meanUs: number;
  /** Fastest single call, µs (calibration takes the best rate a kernel reached). */
  minUs: number;
  /** Share of the total run time, in percent. */
  percent: number;
}

export interface ProfileOpStat {
  opType: string;
  nodes: number;
  calls: number;
  totalUs: number;
  meanUs: number;
  percent: number;
}

export interface ProfileSummary {
  /** Number of `model_run` events (runs profiled). */
  runs: number;
  /** Sum of `model_run` durations, µs. */
  totalRunUs: number;
  meanRunUs: number;
  /** Sum of kernel times, µs (less than totalRunUs: the rest is executor overhead). */
  kernelUs: number;
  sessionInitUs: number;
  /** Per op type, by total time descending. */
  byOpType: ProfileOpStat[];
  /** Per node, in execution order of first appearance. */
  byNode: ProfileNodeStat[];
  /** ORT nodes that did not map to a model node (e.g. fused by graph optimizations). */
  unmapped: number;
}

interface TraceEvent {
  cat?: string;
  name?: string;
  dur?: number;
  args?: { op_name?: string; node_index?: string; provider?: string };
}

const KERNEL_SUFFIX = '_kernel_time';

/** Summarises ORT's profile events; `model` (when given) maps node names back. */
export function parseProfile(events: unknown, model?: Model): ProfileSummary {
  if (!Array.isArray(events)) throw new TypeError('onnxruntime profile: expected a JSON array of trace events');
  const nodes = model ? model.graph.nodes : [];
  const byName = new Map<string, { node: Node; index: number }>();
  const byOutput = new Map<string, { node: Node; index: number }>();
  nodes.forEach((n, i) => {
    if (n.name && !byName.has(n.name)) byName.set(n.name, { node: n, index: i });
    for (const v of n.outputs) if (v.name && !byOutput.has(v.name)) byOutput.set(v.name, { node: n, index: i });
  });
  let runs = 0;
  let totalRunUs = 0;
  let sessionInitUs = 0;
  const stats = new Map<string, ProfileNodeStat>();
  for (const raw of events as TraceEvent[]) {
    if (raw === null || typeof raw !== 'object') continue;
    const dur = typeof raw.dur === 'number' ? raw.dur : 0;
    if (raw.cat === 'Session') {
      if (raw.name === 'model_run') {
        runs++;
        totalRunUs += dur;
      } else if (raw.name === 'session_initialization') sessionInitUs += dur;
      continue;
    }
    if (raw.cat !== 'Node' || typeof raw.name !== 'string' || !raw.name.endsWith(KERNEL_SUFFIX)) continue;
    const name = raw.name.slice(0, -KERNEL_SUFFIX.length);
    let s = stats.get(name);
    if (s === undefined) {
      const opType = raw.args?.op_name ?? '?';
      const mapped = mapNode(name, opType, raw.args?.node_index, byName, nodes) ?? mapOptimized(name, byName, byOutput);
      s = { name, opType, node: mapped?.label ?? null, nodeIndex: mapped?.index ?? null, provider: raw.args?.provider ?? '', calls: 0, totalUs: 0, meanUs: 0, minUs: Infinity, percent: 0 };
      stats.set(name, s);
    }
    s.calls++;
    s.totalUs += dur;
    if (dur < s.minUs) s.minUs = dur;
  }
  const byNode = [...stats.values()];
  let kernelUs = 0;
  const ops = new Map<string, ProfileOpStat>();
  for (const s of byNode) {
    s.meanUs = s.calls > 0 ? s.totalUs / s.calls : 0;
    s.percent = totalRunUs > 0 ? (100 * s.totalUs) / totalRunUs : 0;
    kernelUs += s.totalUs;
    let o = ops.get(s.opType);
    if (o === undefined) {
      o = { opType: s.opType, nodes: 0, calls: 0, totalUs: 0, meanUs: 0, percent: 0 };
      ops.set(s.opType, o);
    }
    o.nodes++;
    o.calls += s.calls;
    o.totalUs += s.totalUs;
  }
  const byOpType = [...ops.values()].sort((a, b) => b.totalUs - a.totalUs || a.opType.localeCompare(b.opType));
  for (const o of byOpType) {
    o.meanUs = o.calls > 0 ? o.totalUs / o.calls : 0;
    o.percent = totalRunUs > 0 ? (100 * o.totalUs) / totalRunUs : 0;
  }
  return {
    runs,
    totalRunUs,
    meanRunUs: runs > 0 ? totalRunUs / runs : 0,
    kernelUs,
    sessionInitUs,
    byOpType,
    byNode,
    unmapped: model ? byNode.filter((s) => s.node === null).length : byNode.length,
  };
}

function mapNode(
  name: string,
  opType: string,
  nodeIndex: string | undefined,
  byName: ReadonlyMap<string, { node: Node; index: number }>,
  nodes: readonly Node[],
): { label: string; index: number } | undefined {
  const hit = byName.get(name);
  if (hit !== undefined && hit.node.opType === opType) return { label: hit.node.name, index: hit.index };
  const idx = nodeIndex !== undefined ? Number(nodeIndex) : NaN;
  if (Number.isInteger(idx) && idx >= 0 && idx < nodes.length) {
    const n = nodes[idx]!;
    // ORT names an unnamed node `<OpType>_<index>`; trust the index only when that agrees.
    if (n.name === '' && n.opType === opType && name === `${opType}_${idx}`) return { label: name, index: idx };
  }
  return undefined;
}

/**
 * Nodes of ORT's optimized graph (levels basic..all) named after the model: the NCHWc
 * transformer names a Conv after the value its fused chain produced (`relu_output_0_nchwc`:
 * the producer of `relu_output_0`), the fusions append their name to the first node's
 * (`fc1.MatMul/MatMulAddFusion`, `attn.MatMul/MatMulScaleFusion/`), GemmActivationFusion prefixes
 * it (`fused classifier.1`).
 */
function mapOptimized(
  name: string,
  byName: ReadonlyMap<string, { node: Node; index: number }>,
  byOutput: ReadonlyMap<string, { node: Node; index: number }>,
): { label: string; index: number } | undefined {
  const label = (h: { node: Node; index: number }) => ({ label: h.node.name || `${h.node.opType}_${h.index}`, index: h.index });
  // A fusion that keeps the node's name under a new op type (Conv → FusedConv, Gemm → FusedGemm).
  const same = byName.get(name);
  if (same) return label(same);
  if (name.endsWith('_nchwc')) {
    const h = byOutput.get(name.slice(0, -'_nchwc'.length));
    if (h) return label(h);
  }
  // GemmActivationFusion names its node 'fused <gemm name>'.
  if (name.startsWith('fused ')) {
    const h = byName.get(name.slice('fused '.length));
    if (h) return label(h);
  }
  const stripped = name.replace(/(\/[A-Za-z0-9]*Fusion\/?)+$/, '');
  if (stripped !== name) {
    const h = byName.get(stripped);
    if (h) return label(h);
  }
  return undefined;
}

/** The part of the analysis report this needs (see @onnxkit/passes analyzeModel). */
export interface RooflineLayerLike {
  name: string;
  opType?: string;
  /** Estimated latency in seconds. */
  latency: number | null;
  bound?: string | null;
  /** The layer ORT fuses this one into, per optimization level (analyzeModel's layer.fusedInto). */
  fusedInto?: Partial<Record<string, string>>;
  /** The as-executed latency per level where it differs from `latency`. */
  latencyAsExecuted?: Partial<Record<string, number | null>>;
}

export interface RooflineComparisonRow {
  name: string;
  opType: string;
  /** Mean measured kernel time per run, µs (with the kernels of the layers ORT fused into it). */
  measuredUs: number | null;
  /** Roofline estimate of the graph as written, µs. */
  estimatedUs: number | null;
  /** Roofline estimate as ORT executes it at the profiled level (0 for a layer fused into another), µs. */
  estimatedAsExecutedUs: number | null;
  /** measured / as-executed estimate (how far the layer is from its roof); null if either is unknown or 0. */
  ratio: number | null;
  bound: string | null;
  /** The layer whose kernel runs this one at the profiled level. */
  fusedInto?: string;
}

export interface RooflineComparison {
  /** Per layer in graph order (sort by `ratio` for the layers furthest from their roof). */
  rows: RooflineComparisonRow[];
  /** ORT graph optimization level of the profile (fusions are taken from it). */
  level: string | null;
  /** Sum of the measured times of mapped layers vs sum of their estimates (as written). */
  totalMeasuredUs: number;
  totalEstimatedUs: number;
  /** Sum of the as-executed estimates of the mapped layers. */
  totalEstimatedAsExecutedUs: number;
  /** totalMeasuredUs / totalEstimatedAsExecutedUs. */
  ratio: number | null;
  /** Share of the measured kernel time attributed to layers by name (the node, or ORT's fused node named after it), percent. */
  attributedPercent: number;
  /** Share attributed by execution order (helper nodes ORT inserted: reorders, reshapes around a Gemm, fused LayerNorm/Gelu), percent. */
  attributedByOrderPercent: number;
  /** Layers of the analysis with no measurement (fused layers excluded), and measured nodes with no layer. */
  unmatchedLayers: string[];
  unmatchedNodes: string[];
}

/**
 * Measured vs estimated per layer. Each profiled node is attributed to a layer: by name (ORT's
 * fused nodes are named after the model's, see parseProfile), then to the layer ORT fused it into
 * at the profiled level; a helper node ORT inserted (no name in the model) goes to the layer
 * executed just before it (the first mapped layer for leading helpers). The estimate to compare
 * is the as-executed one at that level: fused layers cost their host no extra memory traffic.
 */
export function compareWithRoofline(profile: ProfileSummary, analysis: { layers: readonly RooflineLayerLike[] }, options: { level?: string } = {}): RooflineComparison {
  const runs = Math.max(profile.runs, 1);
  const level = options.level ?? null;
  const layerByName = new Map<string, RooflineLayerLike>();
  for (const l of analysis.layers) layerByName.set(l.name, l);
  const hostOf = (name: string): string => {
    const l = layerByName.get(name);
    const h = level ? l?.fusedInto?.[level] : undefined;
    return h ?? name;
  };
  const measured = new Map<string, number>();
  const opOf = new Map<string, string>();
  let byName = 0;
  let byOrder = 0;
  let kernel = 0;
  const pending: ProfileNodeStat[] = [];
  let last: string | undefined;
  const unmatchedNodes: string[] = [];
  const add = (layer: string, us: number) => measured.set(layer, (measured.get(layer) ?? 0) + us);
  for (const s of profile.byNode) {
    kernel += s.totalUs;
    const target = s.node !== null && layerByName.has(s.node) ? hostOf(s.node) : undefined;
    if (target !== undefined) {
      add(target, s.totalUs);
      if (!opOf.has(target)) opOf.set(target, s.opType);
      byName += s.totalUs;
      last = target;
      for (const p of pending.splice(0)) {
        add(target, p.totalUs);
        byOrder += p.totalUs;
      }
      continue;
    }
    unmatchedNodes.push(s.name);
    if (last !== undefined) {
      add(last, s.totalUs);
      byOrder += s.totalUs;
    } else pending.push(s);
  }
  const rows: RooflineComparisonRow[] = [];
  const unmatchedLayers: string[] = [];
  let totalMeasuredUs = 0;
  let totalEstimatedUs = 0;
  let totalEstimatedAsExecutedUs = 0;
  const us = (x: number | null | undefined): number | null => (x === null || x === undefined || !Number.isFinite(x) ? null : x * 1e6);
  for (const layer of analysis.layers) {
    const host = level ? layer.fusedInto?.[level] : undefined;
    const m = measured.get(layer.name);
    const estimatedUs = us(layer.latency);
    const asExec = level && layer.latencyAsExecuted && level in layer.latencyAsExecuted ? us(layer.latencyAsExecuted[level]) : estimatedUs;
    const measuredUs = m !== undefined ? m / runs : null;
    if (m === undefined && host === undefined) unmatchedLayers.push(layer.name);
    if (measuredUs !== null && estimatedUs !== null && asExec !== null) {
      totalMeasuredUs += measuredUs;
      totalEstimatedUs += estimatedUs;
      totalEstimatedAsExecutedUs += asExec;
    }
    rows.push({
      name: layer.name,
      opType: opOf.get(layer.name) ?? layer.opType ?? '?',
      measuredUs,
      estimatedUs,
      estimatedAsExecutedUs: asExec,
      ratio: measuredUs !== null && asExec !== null && asExec > 0 ? measuredUs / asExec : null,
      bound: layer.bound ?? null,
      ...(host !== undefined ? { fusedInto: host } : {}),
    });
  }
  return {
    rows,
    level,
    totalMeasuredUs,
    totalEstimatedUs,
    totalEstimatedAsExecutedUs,
    ratio: totalEstimatedAsExecutedUs > 0 ? totalMeasuredUs / totalEstimatedAsExecutedUs : null,
    attributedPercent: kernel > 0 ? (100 * byName) / kernel : 0,
    attributedByOrderPercent: kernel > 0 ? (100 * byOrder) / kernel : 0,
    unmatchedLayers,
    unmatchedNodes,
  };
}
