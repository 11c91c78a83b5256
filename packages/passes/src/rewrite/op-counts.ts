/**
 * Node counts per op type (anchor key) and graph, shared by the pass runs of a pipeline
 * (`PassContext.shared`): what lets a rule pass whose anchor op types are absent cost O(1).
 */
import type { Graph, Node } from '@onnxkit/graph';
import { opKey } from '../ops/registry.js';
import type { SharedModelState } from './types.js';

/**
 * The anchor key of a node: the registry's op key (ops/registry.ts opKey), its op type in the
 * default domain, `domain::OpType` otherwise (one key format for ops and rule anchors).
 */
export function anchorKey(n: Node): string {
  return n.isOnnxDomain ? n.opType : opKey(n.domain, n.opType);
}

/**
 * How many nodes of each op type (anchor key) `g` has. Unlike the index it stays exact through
 * every validated patch (RewriteSession.apply counts what it adds and removes), so after a patch
 * that adds nodes a pass whose anchors are absent still costs O(1): no scan to rebuild the index.
 */
export function opCounts(shared: SharedModelState | undefined, g: Graph): Map<string, number> {
  let all = shared?.opCounts as Map<Graph, Map<string, number>> | undefined;
  const hit = all?.get(g);
  if (hit) return hit;
  const counts = new Map<string, number>();
  const index = (shared?.opIndex as Map<Graph, Map<string, { readonly nodes: readonly Node[] }>> | undefined)?.get(g);
  if (index) {
    // The index is exact too while it lives, but holds removed nodes until it is rebuilt.
    for (const [k, b] of index) {
      let c = 0;
      for (let i = 0; i < b.nodes.length; i++) if (b.nodes[i]!.graph === g) c++;
      if (c > 0) counts.set(k, c);
    }
  } else {
    for (let n = g.firstNode; n !== null; n = n.next) {
      const k = anchorKey(n);
      counts.set(k, (counts.get(k) ?? 0) + 1);
    }
  }
  if (shared) {
    if (!all) shared.opCounts = all = new Map();
    all.set(g, counts);
  }
  return counts;
}

export function hasAnchor(counts: ReadonlyMap<string, number>, anchors: readonly string[]): boolean {
  for (let i = 0; i < anchors.length; i++) if ((counts.get(anchors[i]!) ?? 0) > 0) return true;
  return false;
}

/** Keeps the shared op counts of `g` exact after a validated patch added and removed these nodes. */
export function countPatch(shared: SharedModelState | undefined, g: Graph, added: readonly Node[], removed: readonly Node[]): void {
  const counts = (shared?.opCounts as Map<Graph, Map<string, number>> | undefined)?.get(g);
  if (!counts) return;
  for (let i = 0; i < added.length; i++) {
    const k = anchorKey(added[i]!);
    counts.set(k, (counts.get(k) ?? 0) + 1);
  }
  for (let i = 0; i < removed.length; i++) {
    const k = anchorKey(removed[i]!);
    counts.set(k, counts.get(k)! - 1);
  }
}

/** Keeps the shared op counts exact after a validated patch dropped an orphaned Constant node of `g`. */
export function countRemovedConstant(shared: SharedModelState | undefined, g: Graph): void {
  const counts = (shared?.opCounts as Map<Graph, Map<string, number>> | undefined)?.get(g);
  if (counts) counts.set('Constant', counts.get('Constant')! - 1);
}
