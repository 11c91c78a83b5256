/**
 * eliminate-duplicate-initializers — keeps one copy of byte-identical initializers.
 *
 * What: initializers of one graph with the same dtype, dims and bytes are merged: every use of a
 * duplicate reads the first one, and the duplicate is removed.
 *
 * Math: identical bytes are identical values (comparison is on bits: 0.0 and −0.0 differ).
 *
 * Preconditions:
 *  1. Same graph (scopes are not merged across subgraphs).
 *  2. Graph inputs (overridable initializers) and graph outputs are never merged.
 *  3. Dtype, dims and every byte equal; candidates are found by a sampled fingerprint and then
 *     compared in full, so cost is proportional to the bytes of true duplicates only.
 *  4. Initializers bound by training_info are kept.
 *
 * Known limits: sparse initializers are not deduplicated; tensors that differ by a reshape are
 * not merged.
 */
import type { Graph, Value } from '@onnxkit/graph';
import { definePass } from './manager.js';
import type { RewriteSession } from './session.js';
import { tensorFingerprint, tensorsIdentical } from './util.js';

export const eliminateDuplicateInitializers = definePass({
  name: 'eliminate-duplicate-initializers',
  description: 'Merge byte-identical initializers (same dtype, dims and data; graph inputs/outputs excluded)',
  exact: true,
  run(s: RewriteSession) {
    for (const g of s.graphs) {
      if (s.stopped || (g.parent !== null && g.parent.graph === null)) continue;
      runGraph(s, g);
    }
  },
});

function runGraph(s: RewriteSession, g: Graph): void {
  const bound = new Set<string>();
  if (g === s.model.graph) for (const t of s.model.trainingInfo) for (const [k] of [...t.initializationBinding, ...t.updateBinding]) bound.add(k);
  // Group by the cheap metadata first; fingerprint only groups with more than one member.
  const byShape = new Map<string, Value[]>();
  for (const v of g.initializers.values()) {
    const t = v.constValue;
    if (!t || v.isGraphInput || v.isGraphOutput || bound.has(v.name)) continue;
    const key = `${t.dtype}|${t.dims.join('x')}`;
    const list = byShape.get(key);
    if (list) list.push(v);
    else byShape.set(key, [v]);
  }
  for (const group of byShape.values()) {
    if (group.length < 2) continue;
    const byPrint = new Map<string, Value[]>();
    for (const v of group) {
      const fp = tensorFingerprint(v.constValue!);
      const list = byPrint.get(fp);
      if (list) list.push(v);
      else byPrint.set(fp, [v]);
    }
    for (const cands of byPrint.values()) {
      if (cands.length < 2) continue;
      const kept: Value[] = [];
      for (const v of cands) {
        if (s.stopped) return;
        const k = kept.find((x) => tensorsIdentical(x.constValue!, v.constValue!));
        if (!k) {
          kept.push(v);
          continue;
        }
        const bytes = v.constValue!.byteLength;
        s.mutate(g, 'duplicate-initializer', `'${v.name}' is byte-identical to '${k.name}'`, () => {
          v.replaceAllUsesWith(k);
          g.removeInitializer(v.name);
          return { bytesDelta: -bytes };
        });
      }
    }
  }
}
