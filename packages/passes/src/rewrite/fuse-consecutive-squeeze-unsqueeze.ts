/**
 * fuse-consecutive-squeeze-unsqueeze — composes back-to-back Squeeze/Unsqueeze.
 *
 * Math (axes normalised to non-negative with the rank each op sees):
 *  - Squeeze(a1) → Squeeze(a2): a2 indexes the reduced tensor; its j-th axis is the j-th axis of
 *    x not in a1, so the fused axes are a1 ∪ {that axis for each j in a2}.
 *  - Unsqueeze(a1) → Unsqueeze(a2): a2 indexes the final tensor; the intermediate's axis i lands
 *    on the i-th final position not in a2, so the fused axes are a2 ∪ {that position for i ∈ a1}.
 *  - Unsqueeze(a) → Squeeze(a) with the same normalised axes: the identity (both removed).
 *  - Squeeze(a) → Unsqueeze(a) with the same normalised axes: the identity — the squeezed dims
 *    were 1 and are put back (an input whose dims there are not 1 was an error before; it is
 *    passed through now).
 * onnxoptimizer's fuse_consecutive_squeezes read only the attribute form and composed negative
 * axes wrongly (onnx/optimizer #253); here both forms are read and negatives are normalised.
 *
 * Preconditions:
 *  1. Axes are integer constants (attribute before opset 13, input from 13) [axes-not-constant],
 *     no attribute but axes [unknown-attribute], well typed [bad-attribute], and the first node
 *     has an input [missing-input].
 *  2. Negative axes need the known input rank [unknown-rank]; Squeeze without axes needs a
 *     static input shape [unknown-rank].
 *  3. If the first node's output has other uses it stays for them.
 *
 * Known limits: Squeeze/Unsqueeze around Reshape are not merged.
 */
import { Attribute, Node, type Value } from '@onnxkit/graph';
import { ATTRIBUTE_REASONS, defineRule, defineRulePass, type Patch } from './rule.js';
import type { RewriteSession } from './session.js';
import { MAX_RANK } from '../analysis/inference-types.js';
import { int64Tensor, intsOf, nodeLabel, pairIssue } from './util.js';

const REASONS = [...ATTRIBUTE_REASONS, 'missing-input', 'axes-not-constant', 'unknown-rank'] as const;
type Reason = (typeof REASONS)[number];
const SQ = ['Squeeze', 'Unsqueeze'];

const squeezePair = defineRule({
  name: 'squeeze/unsqueeze pair',
  anchor: SQ,
  reasons: REASONS,
  match(n2): { n1: Node; n2: Node; a1?: number[]; a2?: number[] } | undefined {
    const n1 = n2.inputs[0]?.producer;
    return n1 && SQ.includes(n1.opType) && n1.isOnnxDomain ? { n1, n2 } : undefined;
  },
  check(m, { session: s }) {
    const { n1, n2 } = m;
    const issue = pairIssue(n1, n2, ['axes']);
    if (issue) return issue;
    // The axes of both, normalised against the ranks they refer to.
    const r0 = s.facts.rankOf(n1.inputs[0]!); // pairIssue checked the input is there
    const k1len = rawLength(s, n1);
    const r1 = r0 === undefined || k1len === undefined ? undefined : n1.opType === 'Squeeze' ? r0 - k1len : r0 + k1len;
    const a1 = axesOf(s, n1, n1.opType === 'Squeeze' ? r0 : r1);
    if (!isAxes(a1)) return a1;
    const rank1 = r0 === undefined ? undefined : n1.opType === 'Squeeze' ? r0 - a1.length : r0 + a1.length;
    const k2len = rawLength(s, n2);
    const rank2 = rank1 === undefined || k2len === undefined ? undefined : n2.opType === 'Squeeze' ? rank1 : rank1 + k2len;
    const a2 = axesOf(s, n2, rank2);
    if (!isAxes(a2)) return a2;
    m.a1 = a1;
    m.a2 = a2;
    return undefined;
  },
  rewrite: ({ n1, n2, a1, a2 }, { session: s }) => fuse(s, n1, n2, a1!, a2!),
});

export const fuseConsecutiveSqueezeUnsqueeze = defineRulePass({
  name: 'fuse-consecutive-squeeze-unsqueeze',
  description: 'Compose back-to-back Squeeze/Unsqueeze (and drop pairs that cancel)',
  exact: true,
  rules: [squeezePair],
});

/** Normalised, sorted axes of a Squeeze/Unsqueeze given the rank the axes refer to. */
function axesOf(s: RewriteSession, n: Node, rank: number | undefined): number[] | [Reason, string] {
  let raw: number[] | undefined;
  if (s.opset < 13) raw = n.getInts('axes');
  else if (n.inputs[1]) {
    const t = s.facts.constOf(n.inputs[1]);
    raw = t ? intsOf(t) : undefined;
    if (!raw) return ['axes-not-constant', `axes '${n.inputs[1].name}' is not an integer constant`];
  }
  if (raw === undefined) {
    if (n.opType === 'Unsqueeze') return ['axes-not-constant', 'Unsqueeze without axes'];
    const shape = n.inputs[0] ? s.facts.staticShape(n.inputs[0]) : null;
    if (!shape) return ['unknown-rank', 'Squeeze without axes on a value of unknown shape'];
    raw = shape.flatMap((d, i) => (d === 1 ? [i] : []));
  }
  if (raw.some((a) => a < 0)) {
    if (rank === undefined) return ['unknown-rank', 'negative axes on a value of unknown rank'];
    raw = raw.map((a) => (a < 0 ? a + rank : a));
  }
  if (rank !== undefined && raw.some((a) => a < 0 || a >= rank)) return ['unknown-rank', 'axis out of range'];
  // Without a known rank the axes still index a tensor: beyond MAX_RANK they cannot be real.
  if (raw.some((a) => a >= MAX_RANK)) return ['unknown-rank', `axis beyond the largest supported rank (${MAX_RANK})`];
  return [...new Set(raw)].sort((a, b) => a - b);
}

function fuse(s: RewriteSession, n1: Node, n2: Node, a1: readonly number[], a2: readonly number[]): Patch | undefined {
  const x = n1.inputs[0]!;
  const y1 = n1.outputs[0]!;
  const y2 = n2.outputs[0]!;
  const t1Dies = y1.useCount === 1 && !y1.isGraphOutput;
  const remove = t1Dies ? [n1, n2] : [n2];

  if (n1.opType !== n2.opType) {
    if (a1.length === a2.length && a1.every((v, i) => v === a2[i])) {
      return { rule: `${n1.opType.toLowerCase()}+${n2.opType.toLowerCase()}=identity`, remove, replace: [[y2, x]], description: `${nodeLabel(n1)} and ${nodeLabel(n2)} cancel` };
    }
    return undefined;
  }
  let fusedAxes: number[];
  if (n1.opType === 'Squeeze') {
    const removed = new Set(a1);
    const kept: number[] = [];
    const last = a2.reduce((m, a) => Math.max(m, a), -1);
    for (let i = 0; kept.length <= last; i++) if (!removed.has(i)) kept.push(i);
    fusedAxes = [...a1, ...a2.map((j) => kept[j]!)].sort((a, b) => a - b);
  } else {
    const inserted = new Set(a2);
    const free: number[] = [];
    const last = a1.reduce((m, a) => Math.max(m, a), -1);
    for (let i = 0; free.length <= last; i++) if (!inserted.has(i)) free.push(i);
    fusedAxes = [...a2, ...a1.map((i) => free[i]!)].sort((a, b) => a - b);
  }
  const inputs: (Value | null)[] = [x];
  const attrs: Attribute[] = [];
  const inits: Value[] = [];
  if (s.opset >= 13) {
    const v = s.newInitializer(`${n2.name || n2.opType}_axes`, int64Tensor(fusedAxes));
    inputs.push(v);
    inits.push(v);
  } else attrs.push(Attribute.ints('axes', fusedAxes));
  const fused = new Node(n2.opType, inputs, { name: n2.name, attributes: attrs, outputs: [s.replacementName(y2, `${n2.name}_out`)] });
  return {
    rule: `${n1.opType.toLowerCase()}+${n2.opType.toLowerCase()}`,
    remove,
    replace: [[y2, fused.outputs[0]!]],
    add: [fused],
    insertBefore: n2,
    initializers: inits,
    description: `composed ${nodeLabel(n1)} and ${nodeLabel(n2)}: axes [${fusedAxes.join(',')}]`,
  };
}

function isAxes(a: number[] | [Reason, string]): a is number[] {
  return a.length === 0 || typeof a[0] === 'number';
}

/** Number of axes listed (before normalisation), when known without the rank. */
function rawLength(s: RewriteSession, n: Node): number | undefined {
  if (s.opset < 13) return n.getInts('axes')?.length;
  const t = n.inputs[1] ? s.facts.constOf(n.inputs[1]) : undefined;
  return t?.size;
}
