/**
 * onnxruntime profiles: ORT writes a Chrome-trace JSON array of events. Node events are named
 * `<node name>_kernel_time` (plus `_fence_before`/`_fence_after`) with `args.op_name`,
 * `args.node_index` and `dur` in µs; session events include `model_run` per run. We summarise
 * kernel time per op type and per node, and map ORT's node names back to the model's nodes
 * (by name, or for unnamed nodes — which ORT calls `<OpType>_<index>` — by index when graph
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
  nodes.forEach((n, i) => {
    if (n.name && !byName.has(n.name)) byName.set(n.name, { node: n, index: i });
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
      const mapped = mapNode(name, opType, raw.args?.node_index, byName, nodes);
      s = { name, opType, node: mapped?.label ?? null, nodeIndex: mapped?.index ?? null, provider: raw.args?.provider ?? '', calls: 0, totalUs: 0, meanUs: 0, percent: 0 };
      stats.set(name, s);
    }
    s.calls++;
    s.totalUs += dur;
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

/** The part of the analysis report this needs (see @onnxkit/passes analyzeModel). */
export interface RooflineLayerLike {
  name: string;
  opType?: string;
  /** Estimated latency in seconds. */
  latency: number | null;
  bound?: string | null;
}

export interface RooflineComparisonRow {
  name: string;
  opType: string;
  /** Mean measured kernel time per run, µs. */
  measuredUs: number | null;
  /** Roofline estimate, µs. */
  estimatedUs: number | null;
  /** measured / estimated (how far the layer is from its roofline); null if either is unknown or 0. */
  ratio: number | null;
  bound: string | null;
}

export interface RooflineComparison {
  rows: RooflineComparisonRow[];
  /** Sum of the measured times of mapped layers vs sum of their estimates. */
  totalMeasuredUs: number;
  totalEstimatedUs: number;
  ratio: number | null;
  /** Layers of the analysis with no measurement, and measured nodes with no layer. */
  unmatchedLayers: string[];
  unmatchedNodes: string[];
}

/**
 * Measured vs estimated per layer, matched by node name. Measured is the mean per run of the
 * node's kernel time; the ratio says how many times slower than its roofline the layer ran.
 */
export function compareWithRoofline(profile: ProfileSummary, analysis: { layers: readonly RooflineLayerLike[] }): RooflineComparison {
  const runs = Math.max(profile.runs, 1);
  const measured = new Map<string, ProfileNodeStat>();
  for (const s of profile.byNode) measured.set(s.node ?? s.name, s);
  const rows: RooflineComparisonRow[] = [];
  const unmatchedLayers: string[] = [];
  const matched = new Set<string>();
  let totalMeasuredUs = 0;
  let totalEstimatedUs = 0;
  for (const layer of analysis.layers) {
    const m = measured.get(layer.name);
    const estimatedUs = layer.latency === null || !Number.isFinite(layer.latency) ? null : layer.latency * 1e6;
    const measuredUs = m ? m.totalUs / runs : null;
    if (m) matched.add(layer.name);
    else unmatchedLayers.push(layer.name);
    if (measuredUs !== null && estimatedUs !== null) {
      totalMeasuredUs += measuredUs;
      totalEstimatedUs += estimatedUs;
    }
    rows.push({
      name: layer.name,
      opType: m?.opType ?? layer.opType ?? '?',
      measuredUs,
      estimatedUs,
      ratio: measuredUs !== null && estimatedUs !== null && estimatedUs > 0 ? measuredUs / estimatedUs : null,
      bound: layer.bound ?? null,
    });
  }
  const unmatchedNodes = [...measured.keys()].filter((k) => !matched.has(k));
  return { rows, totalMeasuredUs, totalEstimatedUs, ratio: totalEstimatedUs > 0 ? totalMeasuredUs / totalEstimatedUs : null, unmatchedLayers, unmatchedNodes };
}
