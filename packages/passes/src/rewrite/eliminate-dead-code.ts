/**
 * eliminate-dead-code — removes computation whose results nobody reads.
 *
 * What: nodes none of whose outputs is used or is a graph output (walking each graph backwards,
 * so whole dead chains go in one sweep); initializers nobody uses; and, in the main graph only,
 * graph inputs that are also initializers (optional overrides) when nothing reads them.
 * Subgraphs (If/Loop/Scan bodies) are cleaned too; a value captured from an outer scope counts
 * as used, because a use inside a subgraph is a use like any other in the IR.
 *
 * Math: none — removing an unread value cannot change any output.
 *
 * Preconditions:
 *  1. A node is dead only if every output has no use and is not a graph output.
 *  2. Nodes outside the default ONNX domain are kept [unknown-domain]: a custom op may have
 *     effects we do not know about.
 *  3. Subgraph inputs (Loop/Scan body parameters) are never removed: they are positional.
 *  4. Initializers named in training_info bindings are kept [training-bound]; function bodies are
 *     left alone.
 *  5. Initialized graph inputs are removed only with option `removeInitializedInputs` (default
 *     true) [initialized-input-kept]; a caller that still feeds one will be told by onnxruntime
 *     that the input is gone.
 *
 * Whole-graph sweeps through RewriteSession.mutate, each change saying what it touched (the node
 * removed and the values it read; the initializer removed), so the session checks it locally
 * right after it is made and the manager needs no whole-model verify() after the pass (removing an
 * initialized graph input or a sparse initializer changes what that check does not look at: those
 * are verified in full).
 *
 * Known limits: dead outputs of live multi-output nodes stay (ONNX outputs are positional);
 * unused model-local functions are not pruned.
 */
import type { Graph, Model, Node, Value } from '@onnxkit/graph';
import { defineRulePass, opt, type ApplyReason } from './rule.js';
import { isLiveGraph, type RewriteSession } from './session.js';
import type { ChangeScope } from './types.js';
import { nodeLabel } from './util.js';

const REASONS = ['unknown-domain', 'training-bound', 'initialized-input-kept'] as const;
type Session = RewriteSession<(typeof REASONS)[number] | ApplyReason>;

export const eliminateDeadCode = defineRulePass({
  name: 'eliminate-dead-code',
  description: 'Remove nodes whose outputs are never read, unused initializers and unused initialized inputs (subgraphs too)',
  exact: true,
  reasons: REASONS,
  options: {
    defaults: { removeInitializedInputs: true },
    parse(loose) {
      opt.only(loose, ['removeInitializedInputs']);
      const removeInitializedInputs = opt.bool(loose, 'removeInitializedInputs');
      return removeInitializedInputs !== undefined ? { removeInitializedInputs } : {};
    },
  },
  sweep(s, options) {
    // After a quiet run, only what the patches since touched can have died (PassContext.scope).
    if (s.scope !== undefined && !mayBeDead(s.model.graph, s.scope)) return;
    const removeInputs = options.removeInitializedInputs;
    const graphs = [...s.graphs];
    // Inner graphs first, so a subgraph emptied of its dead nodes releases outer captures.
    for (const g of graphs.reverse()) {
      if (s.stopped) return;
      if (!isLiveGraph(g)) continue;
      sweepNodes(s, g);
      sweepInitializers(s, s.model, g, removeInputs && g === s.model.graph);
    }
  },
});

function isDead(n: Node): boolean {
  const outs = n.outputs;
  for (let i = 0; i < outs.length; i++) if (outs[i]!.useCount > 0 || outs[i]!.isGraphOutput) return false;
  return true;
}

/**
 * Whether the sweep could find anything after the changes in `scope` (the run before found
 * nothing): a value only loses readers where a patch touched it, so whatever died since is a node
 * the patches inserted, the producer of a value they touched, or an initializer they touched.
 */
function mayBeDead(g: Graph, scope: ChangeScope): boolean {
  const nodes = scope.nodes;
  for (let i = 0; i < nodes.length; i++) if (nodes[i]!.graph === g && isDead(nodes[i]!)) return true;
  const values = scope.values;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (v.useCount > 0 || v.isGraphOutput) continue;
    const p = v.producer;
    if (p !== null ? p.graph === g && isDead(p) : v.isInitializer && v.graph === g) return true;
  }
  return false;
}

function sweepNodes(s: Session, g: Graph): void {
  // Usually nothing is dead: find out in one forward scan before snapshotting the list backwards.
  let any = false;
  for (let n = g.firstNode; n !== null; n = n.next) {
    if (isDead(n)) {
      any = true;
      break;
    }
  }
  if (!any) return;
  for (const n of g.reversed()) {
    if (s.stopped) return;
    if (!isDead(n)) continue;
    if (!n.isOnnxDomain) {
      s.decline(n, 'unknown-domain', `${n.domain}::${n.opType} may have side effects`);
      continue;
    }
    const label = nodeLabel(n);
    s.mutate(g, 'dead-node', `removed ${n.opType} ${label}: no output is read`, () => {
      const released = readValues(n);
      g.remove(n, { safe: true });
      return { removed: [label], touched: { removedNodes: [n], released } };
    });
  }
}

function sweepInitializers(s: Session, model: Model, g: Graph, removeInputs: boolean): void {
  const bound = new Set<string>();
  if (g === model.graph) for (const t of model.trainingInfo) for (const [k] of [...t.initializationBinding, ...t.updateBinding]) bound.add(k);
  // Usually every initializer is read: find out without a Map iterator (a result object per
  // initializer, 40,000 on the 100k chain, each sweep).
  let unused = false;
  g.initializers.forEach((v) => {
    if (!unused && v.useCount === 0 && !v.isGraphOutput) unused = true;
  });
  for (const v of unused ? [...g.initializers.values()] : []) {
    if (s.stopped) return;
    if (v.useCount > 0 || v.isGraphOutput) continue;
    if (bound.has(v.name)) {
      s.decline(null, 'training-bound', `initializer '${v.name}' is bound by training_info`);
      continue;
    }
    if (v.isGraphInput) {
      if (!removeInputs) {
        s.decline(null, 'initialized-input-kept', `'${v.name}' is an initialized graph input`);
        continue;
      }
      const bytes = v.constValue?.byteLength ?? 0;
      s.mutate(g, 'unused-initialized-input', `removed unused initialized graph input '${v.name}'`, () => {
        g.removeInput(v);
        g.removeInitializer(v.name);
        return { bytesDelta: -bytes };
      });
      continue;
    }
    const bytes = v.constValue?.byteLength ?? 0;
    s.mutate(g, 'unused-initializer', `removed unused initializer '${v.name}'`, () => {
      g.removeInitializer(v.name);
      return { bytesDelta: -bytes, touched: { removedInitializers: [v] } };
    });
  }
  for (const v of [...g.sparseInitializers.values()]) {
    if (s.stopped) return;
    if (v.useCount > 0 || v.isGraphOutput || v.isGraphInput || bound.has(v.name)) continue;
    s.mutate(g, 'unused-initializer', `removed unused sparse initializer '${v.name}'`, () => {
      g.removeSparseInitializer(v.name);
      return {};
    });
  }
}

/** The values `n` reads, each once. */
function readValues(n: Node): Value[] {
  const out: Value[] = [];
  const ins = n.inputs;
  // A few inputs are searched in the list; many go through a set (a dead Concat of 100,000
  // inputs searched a list as long for each: quadratic).
  if (ins.length > 16) {
    const seen = new Set<Value>();
    for (const v of ins) {
      if (v && !seen.has(v)) {
        seen.add(v);
        out.push(v);
      }
    }
    return out;
  }
  for (const v of ins) if (v && !out.includes(v)) out.push(v);
  return out;
}
