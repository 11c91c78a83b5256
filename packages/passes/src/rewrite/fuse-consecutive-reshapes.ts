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
 *  1. Both shapes are int64 constants [shape-not-constant]; no attribute but allowzero
 *     [unknown-attribute], well typed [bad-attribute].
 *  2. Zeros in s2 (with allowzero = 0) resolve as above [unresolved-zero]; allowzero = 1 on the
 *     second Reshape keeps literal zeros (valid as is); allowzero = 1 on the first with a 0 in s1
 *     declines [unresolved-zero].
 *  3. The fused shape keeps at most one −1 (it is s2's own).
 *  4. If the first Reshape's output has other uses it stays for them.
 *
 * Known limits: Flatten/Squeeze/Unsqueeze chains mixed with Reshape are not fused.
 */
import { Attribute, Node } from '@onnxkit/graph';
import { ATTRIBUTE_REASONS, defineRule, defineRulePass, type Decline, type Patch } from './rule.js';
import type { RewriteSession } from './session.js';
import { int64Tensor, intsOf, nodeLabel, pairIssue } from './util.js';

const REASONS = [...ATTRIBUTE_REASONS, 'missing-input', 'shape-not-constant', 'unresolved-zero'] as const;
type Reason = (typeof REASONS)[number];

const reshapePair = defineRule({
  name: 'reshape+reshape',
  anchor: 'Reshape',
  reasons: REASONS,
  match(r2, { session: s }): { r1: Node; r2: Node; shape?: number[] } | undefined {
    if (s.opset < 5) return undefined;
    const r1 = r2.inputs[0]?.producer;
    return r1 && r1.opType === 'Reshape' && r1.isOnnxDomain ? { r1, r2 } : undefined;
  },
  check(m, { session: s }) {
    const { r1, r2 } = m;
    const issue = pairIssue(r1, r2, ['allowzero']);
    if (issue) return issue;
    const shape = fusedShape(s, r1, r2);
    if ('reason' in shape) return shape.reason;
    m.shape = shape.dims;
    return undefined;
  },
  rewrite: ({ r1, r2, shape }, { session: s }) => fuse(s, r1, r2, shape!),
});

export const fuseConsecutiveReshapes = defineRulePass({
  name: 'fuse-consecutive-reshapes',
  description: 'Merge back-to-back Reshapes into one (resolving 0 = copy-dim entries)',
  exact: true,
  rules: [reshapePair],
});

/** The one target shape equal to Reshape(Reshape(x, s1), s2), its 0 = copy-dim entries resolved. */
function fusedShape(s: RewriteSession, r1: Node, r2: Node): { dims: number[] } | { reason: Decline<Reason> } {
  const t1 = r1.inputs[1] ? s.facts.constOf(r1.inputs[1]) : undefined;
  const t2 = r2.inputs[1] ? s.facts.constOf(r2.inputs[1]) : undefined;
  const s1 = t1 ? intsOf(t1) : undefined;
  const s2 = t2 ? intsOf(t2) : undefined;
  if (!s1 || !s2) return { reason: ['shape-not-constant', 'a target shape is not an int64 constant'] };
  const az1 = r1.getInt('allowzero', 0) === 1;
  const az2 = r2.getInt('allowzero', 0) === 1;
  const dims: number[] = [];
  for (let i = 0; i < s2.length; i++) {
    const d = s2[i]!;
    if (d !== 0 || az2) {
      dims.push(d);
      continue;
    }
    if (i >= s1.length) return { reason: ['unresolved-zero', `s2[${i}] = 0 copies a dim the first Reshape does not have`] };
    const src = s1[i]!;
    if (src > 0) dims.push(src);
    else if (src === 0 && !az1) dims.push(0);
    else return { reason: ['unresolved-zero', `s2[${i}] = 0 copies dim ${i} of the first Reshape, which is ${src === -1 ? 'inferred (-1)' : 'a literal 0'}`] };
  }
  return { dims };
}

function fuse(s: RewriteSession, r1: Node, r2: Node, fusedShape: readonly number[]): Patch {
  const x = r1.inputs[0]!;
  const az2 = r2.getInt('allowzero', 0) === 1;
  const y1 = r1.outputs[0]!;
  const y2 = r2.outputs[0]!;
  const shapeInit = s.newInitializer(`${r2.name || 'reshape'}_shape`, int64Tensor(fusedShape));
  const attrs = az2 ? [Attribute.int('allowzero', 1)] : [];
  const fused = new Node('Reshape', [x, shapeInit], { name: r2.name, attributes: attrs, outputs: [s.replacementName(y2, `${r2.name}_out`)] });
  const t1Dies = y1.useCount === 1 && !y1.isGraphOutput;
  return {
    remove: t1Dies ? [r1, r2] : [r2],
    replace: [[y2, fused.outputs[0]!]],
    add: [fused],
    insertBefore: r2,
    initializers: [shapeInit],
    description: `merged ${nodeLabel(r1)} into ${nodeLabel(r2)}: shape [${fusedShape.join(',')}]`,
  };
}
