/**
 * The float64 reference evaluator: runs a Model's main graph with every floating-point value
 * widened to float64 (int64 stays bigint, bool and string as they are), so that the float32
 * results of two models can be judged against the exact math rather than against each other.
 *
 * - Nodes run in topological order (a stable Kahn order of the graph's node list).
 * - Liveness: each value is freed right after its last use (initializers are widened on first
 *   use and freed the same way), so peak memory is the largest live set, not the whole graph.
 * - Memory limit: before each node the kernels get the remaining budget; an output that would
 *   exceed it raises ReferenceMemoryError naming the node and the tensor.
 * - Never guesses: an op without a kernel, a custom domain, a model-local function or a form a
 *   kernel does not cover raises ReferenceUnsupportedError naming the node and the op.
 * - `extraOutputs`: any intermediate value by name is kept and returned (for bisecting).
 * - Control flow (If, Loop) runs in the engine: the chosen branch or the body is evaluated with
 *   the outer values it captures (which stay live until the If/Loop node has run).
 *
 * Browser-safe: no `node:*` imports.
 */
import type { Graph, Model, Node, Tensor, Value } from '@onnxkit/graph';
import { capturedValues, DataType, OnnxkitError } from '@onnxkit/graph';
import { ReferenceInputError, ReferenceMemoryError, ReferenceUnsupportedError } from '../kernels/reference/errors.js';
import { NONDETERMINISTIC_OPS, REFERENCE_KERNELS, SUBGRAPH_OPS } from '../ops/registry.js';
import { ReferenceBudgetFault, refBytes, refFromTensor, setAllocationBudget } from '../kernels/reference/tensor.js';
import type { ReferenceKernel, RefTensor } from './types.js';

export interface ReferenceOptions {
  /** Largest number of bytes held at once (default 4 GiB). */
  memoryLimitBytes?: number;
  /**
   * Intermediate (or input/initializer) values to return besides the graph outputs, by name;
   * 'all': every named node output (for bisecting; nothing is freed then).
   */
  extraOutputs?: readonly string[] | 'all';
  /** Kernel table (default: the built-in one). */
  kernels?: ReadonlyMap<string, ReferenceKernel>;
  /** Called after each node (done, total) — for progress bars. */
  onNode?: (done: number, total: number, node: Node) => void;
}

export interface ReferenceResult {
  /** Graph outputs by name, in the graph's output order. */
  outputs: Map<string, RefTensor>;
  /** The values asked for in `extraOutputs` (every one that exists in the graph). */
  extra: Map<string, RefTensor>;
  /** Largest number of bytes held at once. */
  peakBytes: number;
  ms: number;
}

export const DEFAULT_REFERENCE_MEMORY_LIMIT = 4 * 1024 ** 3;

/** The node the reference would stop at, or null when every node has a kernel (a pre-check). */
export function findUnsupportedNode(model: Model, kernels: ReadonlyMap<string, ReferenceKernel> = REFERENCE_KERNELS): { node: Node; op: string; reason: string } | null {
  for (const node of model.graph.nodes) {
    const why = unsupportedReason(node, model, kernels);
    if (why !== null) return { node, op: node.isOnnxDomain ? node.opType : `${node.domain}::${node.opType}`, reason: why };
  }
  return null;
}

function unsupportedReason(node: Node, model: Model, kernels: ReadonlyMap<string, ReferenceKernel>): string | null {
  if (!node.isOnnxDomain) {
    return model.findFunction(node.domain, node.opType, node.overload) !== undefined
      ? `model-local function ${node.domain}::${node.opType} is not supported`
      : `custom domain '${node.domain}' is not supported`;
  }
  if (CONTROL_FLOW_RUNNERS.has(node.opType)) {
    for (const g of node.subgraphs()) {
      for (const inner of g.nodes) {
        const why = unsupportedReason(inner, model, kernels);
        if (why !== null) return `its subgraph '${g.name}' has ${inner.describe()}: ${why}`;
      }
    }
    return null;
  }
  if (!kernels.has(node.opType)) {
    // A random op's own reason (its `nondeterministic` facet): there is no one value to compute.
    return NONDETERMINISTIC_OPS.has(node.opType) ? `no reference kernel for ${node.opType}: its output is random (nondeterministic), no one value to compare against` : `no reference kernel for ${node.opType}`;
  }
  return null;
}

type Lookup = (v: Value) => RefTensor;

/** Runs a subgraph (If branch, Loop body) with its inputs bound; returns its outputs in order. */
function runSubgraph(g: Graph, bound: readonly RefTensor[], outer: Lookup, kernels: ReadonlyMap<string, ReferenceKernel>, opset: number): RefTensor[] {
  const local = new Map<Value, RefTensor>();
  g.inputs.forEach((v, i) => {
    const t = bound[i];
    if (t !== undefined) local.set(v, t);
  });
  const lookup: Lookup = (v) => {
    const t = local.get(v);
    if (t !== undefined) return t;
    if (v.constValue !== null && (v.isInitializer || v.graph === g)) {
      const w = refFromTensor(v.constValue);
      local.set(v, w);
      return w;
    }
    return outer(v);
  };
  for (const node of topologicalOrder(g)) {
    const args = node.inputs.map((v) => (v === null || v.name === '' ? null : lookup(v)));
    const outs = execNode(node, args, lookup, kernels, opset);
    node.outputs.forEach((v, i) => {
      const t = outs[i];
      if (t !== undefined && v.name !== '') local.set(v, t);
    });
  }
  return g.outputs.map((v) => lookup(v));
}

function scalarBool(t: RefTensor | null | undefined): boolean {
  if (t === null || t === undefined) return true;
  const d = t.data;
  return d instanceof Float64Array ? d[0] !== 0 : d instanceof BigInt64Array ? d[0] !== 0n : Boolean((d as readonly unknown[])[0]);
}

/** Stacks equally-shaped tensors along a new axis 0 (Loop scan outputs). */
function stack(ts: readonly RefTensor[]): RefTensor {
  const first = ts[0]!;
  const n = first.data.length;
  const out: { [i: number]: unknown; length: number } = first.data instanceof Float64Array ? new Float64Array(n * ts.length) : first.data instanceof BigInt64Array ? new BigInt64Array(n * ts.length) : new Array<unknown>(n * ts.length);
  ts.forEach((t, k) => {
    const src = t.data as ArrayLike<unknown>;
    for (let i = 0; i < n; i++) out[k * n + i] = src[i];
  });
  return { dtype: first.dtype, dims: [ts.length, ...first.dims], data: out as RefTensor['data'] };
}

type ControlFlowRunner = (node: Node, args: readonly (RefTensor | null)[], outer: Lookup, kernels: ReadonlyMap<string, ReferenceKernel>, opset: number) => RefTensor[];

/** If: the branch the condition picks, run with the outer values it captures. */
const runIf: ControlFlowRunner = (node, args, outer, kernels, opset) => {
  const branch = node.attr(scalarBool(args[0]) ? 'then_branch' : 'else_branch')?.asGraph();
  if (branch === undefined) throw new ReferenceInputError(node, 'missing then_branch/else_branch');
  return runSubgraph(branch, [], outer, kernels, opset);
};

/** Loop: the body while the trip count and condition allow, carried values threaded, scan outputs stacked. */
const runLoop: ControlFlowRunner = (node, args, outer, kernels, opset) => {
  const body = node.attr('body')?.asGraph();
  if (body === undefined) throw new ReferenceInputError(node, 'missing body');
  const maxTrip = args[0] ? Number((args[0].data as BigInt64Array)[0]) : Infinity;
  let cond = args[1] ? scalarBool(args[1]) : true;
  let carried = args.slice(2).map((t) => t!);
  const K = carried.length;
  const scans: RefTensor[][] = [];
  for (let i = 0; i < maxTrip && cond; i++) {
    const outs = runSubgraph(body, [{ dtype: DataType.INT64, dims: [], data: BigInt64Array.of(BigInt(i)) }, { dtype: DataType.BOOL, dims: [], data: [cond] }, ...carried], outer, kernels, opset);
    cond = scalarBool(outs[0]);
    carried = outs.slice(1, 1 + K);
    outs.slice(1 + K).forEach((t, j) => (scans[j] ??= []).push(t));
  }
  const nScan = body.outputs.length - 1 - K;
  const scanOuts = Array.from({ length: nScan }, (_, j) => (scans[j] && scans[j]!.length > 0 ? stack(scans[j]!) : { dtype: body.outputs[1 + K + j]!.dtype ?? DataType.FLOAT, dims: [0], data: new Float64Array(0) }));
  return [...carried, ...scanOuts];
};

/**
 * The control-flow ops (the registry's SUBGRAPH_OPS: If, Loop, Scan) the engine runs itself, by
 * op type. Scan has no runner: it is refused as an op without a reference kernel.
 */
const CONTROL_FLOW_RUNNERS: ReadonlyMap<string, ControlFlowRunner> = new Map([
  ['If', runIf],
  ['Loop', runLoop],
]);

function execNode(node: Node, args: readonly (RefTensor | null)[], outer: Lookup, kernels: ReadonlyMap<string, ReferenceKernel>, opset: number): RefTensor[] {
  const run = node.isOnnxDomain ? CONTROL_FLOW_RUNNERS.get(node.opType) : undefined;
  if (run !== undefined) return run(node, args, outer, kernels, opset);
  return kernels.get(node.opType)!(node, args, opset);
}

/** Stable topological order of `graph`'s nodes (Kahn's algorithm, ties in list order). */
export function topologicalOrder(graph: Graph): Node[] {
  const nodes = graph.nodes;
  const position = new Map<Node, number>();
  nodes.forEach((n, i) => position.set(n, i));
  const pending = new Map<Node, number>();
  for (const n of nodes) {
    let deps = 0;
    for (const v of n.inputs) if (v !== null && v.producer !== null && position.has(v.producer)) deps++;
    pending.set(n, deps);
  }
  // A min-heap would be exact; the common case (already sorted) is linear with this cursor scan.
  const ready: Node[] = [];
  const order: Node[] = [];
  for (const n of nodes) if (pending.get(n) === 0) ready.push(n);
  ready.sort((x, y) => position.get(x)! - position.get(y)!);
  while (ready.length > 0) {
    const n = ready.shift()!;
    order.push(n);
    const woken: Node[] = [];
    for (const out of n.outputs) {
      for (const use of out.uses) {
        const left = pending.get(use.node);
        if (left === undefined) continue;
        pending.set(use.node, left - 1);
        if (left - 1 === 0) woken.push(use.node);
      }
    }
    if (woken.length > 0) {
      for (const w of woken) ready.push(w);
      ready.sort((x, y) => position.get(x)! - position.get(y)!);
    }
  }
  if (order.length !== nodes.length) {
    const stuck = nodes.find((n) => pending.get(n)! > 0)!;
    throw new ReferenceInputError(stuck, 'the graph has a cycle through this node');
  }
  return order;
}

/**
 * Evaluates `model`'s main graph in float64 on `inputs` (by graph input name; IR tensors are
 * widened). See the module header for the guarantees.
 */
export function evaluateReference(model: Model, inputs: ReadonlyMap<string, RefTensor | Tensor>, options: ReferenceOptions = {}): ReferenceResult {
  const t0 = performance.now();
  const kernels = options.kernels ?? REFERENCE_KERNELS;
  const limit = options.memoryLimitBytes ?? DEFAULT_REFERENCE_MEMORY_LIMIT;
  const graph = model.graph;
  const opset = model.opsetVersion('') ?? model.opsetVersion('ai.onnx') ?? 21;
  const order = topologicalOrder(graph);
  for (const node of order) {
    const why = unsupportedReason(node, model, kernels);
    if (why !== null) throw new ReferenceUnsupportedError(node, why);
  }

  const keep = new Set<Value>(graph.outputs);
  const wanted = new Set(options.extraOutputs === 'all' ? order.flatMap((n) => n.outputs.map((v) => v.name).filter((x) => x !== '')) : (options.extraOutputs ?? []));
  if (wanted.size > 0) {
    for (const v of graph.inputs) if (wanted.has(v.name)) keep.add(v);
    for (const v of graph.initializers.values()) if (wanted.has(v.name)) keep.add(v);
    for (const n of order) for (const v of n.outputs) if (v.name !== '' && wanted.has(v.name)) keep.add(v);
  }

  // Remaining uses of each value within the main graph; a control-flow node also "uses" the outer
  // values its subgraphs capture (graph's capturedValues), so they stay live until it has run.
  const captured = new Map<Node, Value[]>();
  for (const n of order) if (SUBGRAPH_OPS.has(n.opType)) captured.set(n, [...capturedValues(n)]);
  const usesOf = (n: Node): (Value | null)[] => [...n.inputs, ...(captured.get(n) ?? [])];
  const remaining = new Map<Value, number>();
  for (const n of order) for (const v of usesOf(n)) if (v !== null) remaining.set(v, (remaining.get(v) ?? 0) + 1);

  const live = new Map<Value, RefTensor>();
  let liveBytes = 0;
  let peak = 0;
  const hold = (v: Value, t: RefTensor): void => {
    const old = live.get(v);
    if (old !== undefined) liveBytes -= refBytes(old);
    live.set(v, t);
    liveBytes += refBytes(t);
    if (liveBytes > peak) peak = liveBytes;
  };

  for (const v of graph.inputs) {
    const given = inputs.get(v.name);
    if (given === undefined) {
      if (v.constValue !== null) continue; // an initializer-backed input: its default is used lazily
      throw new OnnxkitError(`the float64 reference needs a value for graph input '${v.name}'`, { code: 'REFERENCE_MISSING_INPUT', hint: 'pass every graph input' });
    }
    hold(v, isTensor(given) ? refFromTensor(given) : given);
  }

  const valueOf = (v: Value, node: Node): RefTensor => {
    const t = live.get(v);
    if (t !== undefined) return t;
    if (v.constValue !== null) {
      let w: RefTensor;
      try {
        w = refFromTensor(v.constValue);
      } catch (e) {
        throw new ReferenceUnsupportedError(node, `its input '${v.name}' cannot be widened: ${(e as Error).message}`);
      }
      hold(v, w);
      return w;
    }
    throw new ReferenceInputError(node, `input '${v.name}' has no value (not a graph input, initializer or earlier output)`);
  };

  const release = (v: Value): void => {
    if (keep.has(v)) return;
    const t = live.get(v);
    if (t === undefined) return;
    live.delete(v);
    liveBytes -= refBytes(t);
  };

  let done = 0;
  for (const node of order) {
    const args = node.inputs.map((v) => (v === null || v.name === '' ? null : valueOf(v, node)));
    setAllocationBudget(limit - liveBytes);
    let outs: RefTensor[];
    try {
      outs = execNode(node, args, (v) => valueOf(v, node), kernels, opset);
    } catch (e) {
      if (e instanceof ReferenceBudgetFault) {
        throw new ReferenceMemoryError(node, node.outputs[0]?.name ?? '', e.bytes, liveBytes, limit);
      }
      if (e instanceof OnnxkitError) throw e;
      throw new ReferenceInputError(node, (e as Error).message);
    } finally {
      setAllocationBudget(Infinity);
    }
    for (let i = 0; i < node.outputs.length; i++) {
      const v = node.outputs[i]!;
      const t = outs[i];
      if (v.name === '') continue;
      if (t === undefined) {
        if ((remaining.get(v) ?? 0) > 0 || keep.has(v)) throw new ReferenceUnsupportedError(node, `the reference kernel does not produce output ${i} ('${v.name}')`);
        continue;
      }
      if (liveBytes + refBytes(t) > limit) throw new ReferenceMemoryError(node, v.name, refBytes(t), liveBytes, limit);
      hold(v, t);
      if ((remaining.get(v) ?? 0) === 0) release(v);
    }
    for (const v of usesOf(node)) {
      if (v === null) continue;
      const left = remaining.get(v)! - 1;
      remaining.set(v, left);
      if (left === 0) release(v);
    }
    done++;
    options.onNode?.(done, order.length, node);
  }

  const outputs = new Map<string, RefTensor>();
  for (const v of graph.outputs) {
    const t = live.get(v) ?? (v.constValue !== null ? refFromTensor(v.constValue) : undefined);
    if (t === undefined) throw new OnnxkitError(`the float64 reference produced no value for graph output '${v.name}'`, { code: 'REFERENCE_NO_OUTPUT' });
    outputs.set(v.name, t);
  }
  const extra = new Map<string, RefTensor>();
  for (const v of keep) {
    if (!wanted.has(v.name)) continue;
    const t = live.get(v) ?? (v.constValue !== null ? refFromTensor(v.constValue) : undefined);
    if (t !== undefined) extra.set(v.name, t);
  }
  return { outputs, extra, peakBytes: peak, ms: performance.now() - t0 };
}

function isTensor(x: RefTensor | Tensor): x is Tensor {
  return typeof (x as Tensor).toArray === 'function';
}
