/**
 * fuse-consecutive-reshapes — `Reshape(s1) → Reshape(s2)` becomes `Reshape(x, s2')`.
 *
 * Math: a Reshape only reads its input's element count (row-major order is kept), so the first
 * Reshape is irrelevant to the second — except where s2 says 0 ("copy this dim of my input"),
 * which refers to the FIRST Reshape's output. Such zeros are replaced by that dim: s1[i] when it
 * is a positive literal, or kept as 0 when s1[i] was itself a 0 copying x's dim i. A 0 over a
 * −1 (or a dim we cannot resolve) declines. (onnxoptimizer's eliminate_consecutive_idempotent_ops
 * dropped the first Reshape without this substitution — onnx/optimizer #259.)
 *
 * Preconditions:
 *  1. Both shapes are int64 constants [shape-not-constant]; attributes well typed [bad-attribute].
 *  2. Zeros in s2 (with allowzero = 0) resolve as above [unresolved-zero]; allowzero = 1 on the
 *     second Reshape keeps literal zeros (valid as is); allowzero = 1 on the first with a 0 in s1
 *     declines [unresolved-zero].
 *  3. The fused shape keeps at most one −1 (it is s2's own).
 *  4. If the first Reshape's output has other uses it stays for them.
 *
 * Known limits: Flatten/Squeeze/Unsqueeze chains mixed with Reshape are not fused.
 */
import { Attribute, Node, type Graph } from '@onnxkit/graph';
import { definePass } from './manager.js';
import type { RewriteSession } from './session.js';
import { attributeIssue, int64Tensor, intsOf, nodeLabel } from './util.js';

export const fuseConsecutiveReshapes = definePass({
  name: 'fuse-consecutive-reshapes',
  description: 'Merge back-to-back Reshapes into one (resolving 0 = copy-dim entries)',
  exact: true,
  run(s: RewriteSession) {
    if (s.opset < 5) return;
    for (const g of s.liveGraphs()) {
      for (const r2 of g) {
        if (s.stopped) return;
        if (r2.opType !== 'Reshape' || !r2.isOnnxDomain) continue;
        const r1 = r2.inputs[0]?.producer;
        if (!r1 || r1.opType !== 'Reshape' || !r1.isOnnxDomain) continue;
        const why = fuse(s, g, r1, r2);
        if (why) s.decline(r2, why[0], why[1]);
      }
    }
  },
});

function fuse(s: RewriteSession, g: Graph, r1: Node, r2: Node): [string, string] | undefined {
  const issue = attributeIssue(r1, ['allowzero']) ?? attributeIssue(r2, ['allowzero']);
  if (issue) return issue;
  const x = r1.inputs[0];
  if (!x) return ['missing-input', `${nodeLabel(r1)} has no data input`];
  const t1 = r1.inputs[1] ? s.facts.constOf(r1.inputs[1]) : undefined;
  const t2 = r2.inputs[1] ? s.facts.constOf(r2.inputs[1]) : undefined;
  const s1 = t1 ? intsOf(t1) : undefined;
  const s2 = t2 ? intsOf(t2) : undefined;
  if (!s1 || !s2) return ['shape-not-constant', 'a target shape is not an int64 constant'];
  const az1 = r1.getInt('allowzero', 0) === 1;
  const az2 = r2.getInt('allowzero', 0) === 1;
  const fusedShape: number[] = [];
  for (let i = 0; i < s2.length; i++) {
    const d = s2[i]!;
    if (d !== 0 || az2) {
      fusedShape.push(d);
      continue;
    }
    if (i >= s1.length) return ['unresolved-zero', `s2[${i}] = 0 copies a dim the first Reshape does not have`];
    const src = s1[i]!;
    if (src > 0) fusedShape.push(src);
    else if (src === 0 && !az1) fusedShape.push(0);
    else return ['unresolved-zero', `s2[${i}] = 0 copies dim ${i} of the first Reshape, which is ${src === -1 ? 'inferred (-1)' : 'a literal 0'}`];
  }
  const y1 = r1.outputs[0]!;
  const y2 = r2.outputs[0]!;
  const shapeInit = s.newInitializer(`${r2.name || 'reshape'}_shape`, int64Tensor(fusedShape));
  const attrs = az2 ? [Attribute.int('allowzero', 1)] : [];
  const fused = new Node('Reshape', [x, shapeInit], { name: r2.name, attributes: attrs, outputs: [s.freshName(y2.name || `${r2.name}_out`)] });
  const t1Dies = y1.uses.length === 1 && !y1.isGraphOutput;
  const r = s.apply(g, {
    rule: 'reshape+reshape',
    remove: t1Dies ? [r1, r2] : [r2],
    replace: [[y2, fused.outputs[0]!]],
    add: [fused],
    insertBefore: r2,
    initializers: [shapeInit],
    description: `merged ${nodeLabel(r1)} into ${nodeLabel(r2)}: shape [${fusedShape.join(',')}]`,
  });
  return r.ok ? undefined : [r.reason, r.detail];
}
