/**
 * fuse-consecutive-transposes — `Transpose(p1) → Transpose(p2)` becomes one Transpose, or
 * nothing when the composition is the identity.
 *
 * Math: out[i] = in2[p2[i]] and in2[j] = x[p1[j]], so the fused permutation is q[i] = p1[p2[i]].
 * (onnx/onnx #2446 composed them the other way round.)
 *
 * Preconditions:
 *  1. Both nodes in the default domain with only a `perm` attribute [unknown-attribute], a valid
 *     permutation [bad-attribute], and an input [missing-input].
 *  2. A missing perm (reverse the axes) needs the known rank [unknown-rank].
 *  3. If the first Transpose's output has other uses it stays for them; the second is rewritten.
 *  4. When q is the identity and the second output is a graph output, its input must be able to
 *     take that name (otherwise the rewrite is declined) [graph-output-name].
 *
 * Known limits: Transpose folding into MatMul/Gemm is not done here.
 */
import { Attribute, Node } from '@onnxkit/graph';
import { ATTRIBUTE_REASONS, defineRule, defineRulePass } from './rule.js';
import type { RewriteSession } from './session.js';
import { attributeIssue, nodeLabel } from './util.js';

const transposePair = defineRule({
  name: 'transpose+transpose',
  anchor: 'Transpose',
  reasons: [...ATTRIBUTE_REASONS, 'missing-input', 'unknown-rank'],
  match(t2): { t1: Node; t2: Node; p1?: number[]; p2?: number[] } | undefined {
    const t1 = t2.inputs[0]?.producer;
    return t1 && t1.opType === 'Transpose' && t1.isOnnxDomain ? { t1, t2 } : undefined;
  },
  check(m, { session: s }) {
    const { t1, t2 } = m;
    const issue = attributeIssue(t1, ['perm']) ?? attributeIssue(t2, ['perm']);
    if (issue) return issue;
    if (!t1.inputs[0]) return ['missing-input', `${nodeLabel(t1)} has no input`];
    m.p1 = permOf(s, t1);
    m.p2 = permOf(s, t2);
    if (!m.p1 || !m.p2) return ['unknown-rank', 'a Transpose without perm on a value of unknown rank'];
    if (m.p1.length !== m.p2.length) return ['unknown-rank', 'permutation lengths differ'];
    return undefined;
  },
  rewrite({ t1, t2, p1, p2 }, { session: s }) {
    const x = t1.inputs[0]!;
    const q = p2!.map((j) => p1![j]!);
    const y1 = t1.outputs[0]!;
    const y2 = t2.outputs[0]!;
    const t1Dies = y1.useCount === 1 && !y1.isGraphOutput;
    const remove = t1Dies ? [t1, t2] : [t2];
    if (q.every((v, i) => v === i)) {
      return { rule: 'transpose+transpose=identity', remove, replace: [[y2, x]], description: `${nodeLabel(t1)} and ${nodeLabel(t2)} cancel` };
    }
    const fused = new Node('Transpose', [x], { name: t2.name, attributes: [Attribute.ints('perm', q)], outputs: [s.replacementName(y2, `${t2.name}_out`)] });
    return {
      remove,
      replace: [[y2, fused.outputs[0]!]],
      add: [fused],
      insertBefore: t2,
      description: `composed ${nodeLabel(t1)} and ${nodeLabel(t2)} into perm [${q.join(',')}]`,
    };
  },
});

export const fuseConsecutiveTransposes = defineRulePass({
  name: 'fuse-consecutive-transposes',
  description: 'Compose back-to-back Transposes into one (or remove them when they cancel)',
  exact: true,
  rules: [transposePair],
});

function permOf(s: RewriteSession, t: Node): number[] | undefined {
  const p = t.getInts('perm');
  // attributeIssue has checked it is a permutation; negative entries count from the end.
  if (p) return p.map((a) => (a < 0 ? a + p.length : a));
  const rank = t.inputs[0] ? s.facts.rankOf(t.inputs[0]) : undefined;
  if (rank === undefined) return undefined;
  return Array.from({ length: rank }, (_, i) => rank - 1 - i);
}
