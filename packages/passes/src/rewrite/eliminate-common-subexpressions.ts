/**
 * eliminate-common-subexpressions — merges nodes that compute the same thing.
 *
 * What: two nodes with the same op, domain, overload, attributes (deep equality: ints as bigint,
 * floats and tensors by their bits, so 0.0 ≠ −0.0 and NaN payloads count) and the same inputs
 * (by identity; trailing omitted optional inputs ignored) produce the same outputs; the later one
 * is removed and its consumers read the earlier one's outputs. Walking in graph order collapses
 * whole duplicated chains in one sweep.
 *
 * Math: a deterministic f gives f(x) = f(x).
 *
 * Preconditions:
 *  1. Default ONNX domain only [unknown-domain] (a custom op may be stateful).
 *  2. Never non-deterministic ops (RandomNormal*, RandomUniform*, Multinomial, Bernoulli) nor
 *     Dropout [nondeterministic]. Both are declined only for a node that has an identical twin.
 *  3. Never nodes with subgraph attributes or reference attributes (skipped, not counted).
 *  4. Same output count; every output of the removed node that is used must exist (be named) on
 *     the kept node [kept-node-lacks-output].
 *  5. If an output of the removed node is a graph output, the kept node's output must be free to
 *     take its name — two graph outputs never merge into one value [graph-output-name].
 *  6. Tensor attributes above 1 MiB, or whose data cannot be read, are not compared (the node is
 *     skipped, not counted).
 *
 * Known limits: commutative inputs (Add(a,b) vs Add(b,a)) are not normalised; nodes are merged
 * only within one graph, not across subgraph boundaries.
 */
import { AttributeType, type Attribute, type Graph, type Node, type Tensor, type Value } from '@onnxkit/graph';
import { NONDETERMINISTIC_OPS } from '../ops/registry.js';
import { defineRulePass, type ApplyReason } from './rule.js';
import type { RewriteSession } from './session.js';
import type { ChangeScope } from './types.js';
import { floatBitsKey, nodeLabel, sweepLiveGraphs, tensorFingerprint, tensorsIdentical } from './util.js';

const MAX_TENSOR_ATTR = 1 << 20;

const REASONS = ['unknown-domain', 'nondeterministic', 'kept-node-lacks-output'] as const;
type Session = RewriteSession<(typeof REASONS)[number] | ApplyReason>;

export const eliminateCommonSubexpressions = defineRulePass({
  name: 'eliminate-common-subexpressions',
  description: 'Merge nodes with the same op, attributes and inputs (never random ops or subgraph ops)',
  exact: true,
  reasons: REASONS,
  sweep(s) {
    // After a quiet run, a new twin pair holds a node the patches inserted or rewired (PassContext.scope).
    if (s.scope !== undefined && !mayHaveTwin(s.model.graph, s.scope)) return;
    sweepLiveGraphs(runGraph)(s);
  },
});

/**
 * Whether the sweep could merge or decline anything after the changes in `scope` (the run before
 * did neither): two nodes that were not twins become twins only when the inputs of one changed,
 * so one of them is a node the patches inserted or a reader of a value they touched.
 */
function mayHaveTwin(g: Graph, scope: ChangeScope): boolean {
  const nodes = scope.nodes;
  for (let i = 0; i < nodes.length; i++) if (nodes[i]!.graph === g && hasTwin(g, nodes[i]!)) return true;
  const values = scope.values;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (v.useCount < 2) continue; // its one reader reads it privately: no twin through it
    const uses = v.uses;
    for (let k = 0; k < uses.length; k++) if (uses[k]!.node.graph === g && hasTwin(g, uses[k]!.node)) return true;
  }
  return false;
}

/** Whether another node of `g` has `n`'s op type and inputs (conservative: a node without inputs may have a twin anywhere). */
function hasTwin(g: Graph, n: Node): boolean {
  const ins = n.inputs;
  let last = ins.length;
  while (last > 0 && ins[last - 1] === null) last--;
  // A twin reads every input of n: look among the readers of the least-read one.
  let least: Value | null = null;
  for (let i = 0; i < last; i++) {
    const v = ins[i];
    if (v && (least === null || v.useCount < least.useCount)) least = v;
  }
  if (least === null) return true;
  if (least.useCount < 2) return false;
  const uses = least.uses;
  for (let k = 0; k < uses.length; k++) {
    const m = uses[k]!.node;
    if (m === n || m.graph !== g || m.opType !== n.opType) continue;
    const mi = m.inputs;
    let ml = mi.length;
    while (ml > 0 && mi[ml - 1] === null) ml--;
    if (ml !== last) continue;
    let same = true;
    for (let i = 0; i < last && same; i++) same = mi[i] === ins[i];
    if (same) return true;
  }
  return false;
}

function runGraph(s: Session, g: Graph): void {
  const ids = new Map<Value, number>();
  const idOf = (v: Value): number => {
    let id = ids.get(v);
    if (id === undefined) {
      id = ids.size;
      ids.set(v, id);
    }
    return id;
  };
  const seen = new Map<string, Node[]>();
  const blocked = new Set<string>();
  // A cursor walk (Graph's iterator allocates a result per node). A merge removes the node and
  // the orphaned Constants before it and inserts none, so the next node, read first, stays put.
  for (let n = g.firstNode, next: Node | null = null; n !== null; n = next) {
    next = n.next;
    if (s.stopped) return;
    // A twin reads the same inputs, so a node with an input nobody else reads has none: skip it
    // before building its key (most nodes of a chain).
    if (hasPrivateInput(n)) continue;
    const k = nodeKey(n, idOf);
    if (typeof k !== 'string') continue;
    const blocker = blockerOf(n);
    if (blocker) {
      // Only a node with a would-be twin is a declined candidate; report it, do not merge.
      if (blocked.has(k)) s.decline(n, blocker[0], blocker[1]);
      else blocked.add(k);
      continue;
    }
    const key = k;
    const bucket = seen.get(key);
    if (!bucket) {
      seen.set(key, [n]);
      continue;
    }
    const kept = bucket.find((k) => k.graph === g && sameAttributes(k, n));
    if (!kept) {
      bucket.push(n);
      continue;
    }
    const replace: [Value, Value][] = [];
    let problem: string | undefined;
    n.outputs.forEach((o, i) => {
      if (o.useCount === 0 && !o.isGraphOutput) return;
      const k = kept.outputs[i];
      if (!k || k.name === '') problem = `output ${i} ('${o.name}') is omitted on ${nodeLabel(kept)}`;
      else replace.push([o, k]);
    });
    if (problem) {
      s.decline(n, 'kept-node-lacks-output', problem);
      continue;
    }
    const r = s.apply(g, {
      rule: 'cse',
      remove: [n],
      replace,
      description: `${nodeLabel(n)} duplicates ${nodeLabel(kept)} (${n.opType})`,
    });
    if (!r.ok) s.decline(n, r.reason, r.detail);
    // (Were `next` removed, its `next` would read null and end the walk silently: say so.)
    else if (next !== null && next.graph !== g) throw new Error(`internal: eliminate-common-subexpressions removed ${nodeLabel(next)}, the node after the one it merged`);
  }
}

function hasPrivateInput(n: Node): boolean {
  const ins = n.inputs;
  for (let i = 0; i < ins.length; i++) {
    const v = ins[i];
    if (v !== null && v !== undefined && v.useCount < 2) return true;
  }
  return false;
}

type KeyResult = string | { reason: string; detail: string };

/** Why a node must never be merged even with an identical twin. */
function blockerOf(n: Node): [(typeof REASONS)[number], string] | undefined {
  if (!n.isOnnxDomain) return ['unknown-domain', `${n.domain}::${n.opType} may be stateful`];
  if (NONDETERMINISTIC_OPS.has(n.opType)) return ['nondeterministic', `${n.opType} is not deterministic`];
  return undefined;
}

function nodeKey(n: Node, idOf: (v: Value) => number): KeyResult {
  const parts: string[] = [n.opType, n.domain === 'ai.onnx' ? '' : n.domain, n.overload, String(n.outputs.length)];
  let last = n.inputs.length;
  while (last > 0 && n.inputs[last - 1] === null) last--;
  for (let i = 0; i < last; i++) {
    const v = n.inputs[i];
    parts.push(v ? String(idOf(v)) : '-');
  }
  parts.push('|');
  const names = [...n.attributes.keys()].sort();
  for (const name of names) {
    const a = n.attributes.get(name)!;
    const k = attrKey(a);
    if (typeof k !== 'string') return k;
    parts.push(`${name}=${k}`);
  }
  return parts.join(',');
}

function attrKey(a: Attribute): KeyResult {
  if (a.isRef) return { reason: 'skip', detail: '' };
  switch (a.type) {
    case AttributeType.INT:
      return `i${String(a.value)}`;
    case AttributeType.INTS:
      return `I[${(a.value as readonly bigint[]).join(',')}]`;
    case AttributeType.FLOAT:
      return `f${floatBitsKey(a.value as number)}`;
    case AttributeType.FLOATS:
      return `F[${(a.value as readonly number[]).map(floatBitsKey).join(',')}]`;
    case AttributeType.STRING:
      return `s${JSON.stringify(a.value)}`;
    case AttributeType.STRINGS:
      return `S${JSON.stringify(a.value)}`;
    case AttributeType.TENSOR: {
      const t = a.value as Tensor;
      if (t.byteLength > MAX_TENSOR_ATTR) return { reason: 'large-tensor-attribute', detail: `tensor attribute '${a.name}' is ${t.byteLength} bytes` };
      return readable(a, () => `t${tensorFingerprint(t)}`);
    }
    case AttributeType.TENSORS: {
      const ts = a.value as readonly Tensor[];
      let total = 0;
      for (const t of ts) total += t.byteLength;
      if (total > MAX_TENSOR_ATTR) return { reason: 'large-tensor-attribute', detail: `tensors attribute '${a.name}' is ${total} bytes` };
      return readable(a, () => `T[${ts.map(tensorFingerprint).join(';')}]`);
    }
    case AttributeType.GRAPH:
    case AttributeType.GRAPHS:
      return { reason: 'has-subgraph', detail: `attribute '${a.name}' holds a graph` };
    default:
      // Type protos and sparse tensors: rare; treat as not comparable rather than guess.
      return { reason: 'unsupported-attribute', detail: `attribute '${a.name}' of type ${AttributeType[a.type]}` };
  }
}

/** A key from a tensor attribute's data, or "not comparable" when the data cannot be read (external data gone). */
function readable(a: Attribute, key: () => string): KeyResult {
  try {
    return key();
  } catch (e) {
    return { reason: 'unreadable-tensor', detail: `tensor attribute '${a.name}': ${e instanceof Error ? e.message : String(e)}` };
  }
}

/** Full comparison of tensor attributes (the key holds only a fingerprint). */
function sameAttributes(a: Node, b: Node): boolean {
  for (const [name, x] of a.attributes) {
    const y = b.attributes.get(name);
    if (!y) return false;
    if (x.type === AttributeType.TENSOR) {
      if (!tensorsIdentical(x.value as Tensor, y.value as Tensor)) return false;
    } else if (x.type === AttributeType.TENSORS) {
      const xs = x.value as readonly Tensor[];
      const ys = y.value as readonly Tensor[];
      if (xs.length !== ys.length || xs.some((t, i) => !tensorsIdentical(t, ys[i]!))) return false;
    }
  }
  return true;
}
