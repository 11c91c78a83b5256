/**
 * conv-to-depthwise — rewrites a convolution as the grouped / depthwise convolution it is (exact,
 * in the default pipeline). The approximate SVD decoupling is its own pass, decouple-conv, so
 * "exact" is never claimed for an approximation.
 *
 * Math: a Conv with weight W [M, C/g, k…] and group g connects output
 * channel m to input channel c through W[m, c − g_m·C/g]. If, for a finer group count G (a
 * multiple of g dividing both M and C), every non-zero weight connects m only to inputs of block
 * ⌊m/(M/G)⌋ — W is block-diagonal over channels — then Conv(group=G, W') with
 * W'[m, j'] = W[m, ⌊m/(M/G)⌋·C/G + j' − g_m·C/g] computes the same sums minus zero terms. Validity
 * for G implies validity for every divisor of G that is a multiple of g, so candidates are tried
 * from coarse to fine (failing early on dense weights) and the largest valid G is used. The
 * structure is verified on the weight values, never assumed. The bias and all other attributes
 * are kept.
 *
 * Preconditions:
 *  1. Default domain Conv with only known attributes [unknown-attribute] of the right types, and
 *     group ≥ 1 dividing the output channels [bad-attribute]; constant weight
 *     [weights-not-constant] of a float type [unsupported-dtype] and rank ≥ 3 [shape-mismatch];
 *     constant bias if present [weights-not-constant].
 *  2. Some finer grouping exists [no-finer-grouping] (declines are counted, not listed,
 *     for the common dense case).
 *
 * Known limits: only block-diagonal structure over contiguous channel blocks is found (a
 * permutation of channels that would expose groups is not searched).
 */
import { knownAttributes } from '../ops/registry.js';
import { Attribute, DataType, Node, type Tensor, type Value } from '@onnxkit/graph';
import { ATTRIBUTE_REASONS, defineRule, defineRulePass, type Decline, type Patch } from './rule.js';
import type { RewriteSession } from './session.js';
import { WEIGHT_FLOAT_TYPES, attributeIssue, floatScratch, floatView, nodeLabel, product, tensorFromScratch, trimInputs } from './util.js';

const CONV_ATTRS = knownAttributes('Conv');

/** Reasons `convWeights` declines with (shared with decouple-conv). */
export const CONV_WEIGHT_REASONS = [...ATTRIBUTE_REASONS, 'weights-not-constant', 'unsupported-dtype', 'shape-mismatch'] as const;
const REASONS = [...CONV_WEIGHT_REASONS, 'no-finer-grouping'] as const;

const regroupRule = defineRule({
  name: 'regroup',
  anchor: 'Conv',
  reasons: REASONS,
  match: (n): Regrouping | undefined => ({ n }),
  check(m, { session: s }) {
    const got = convWeights(s, m.n);
    if (!('w' in got)) return got;
    const group = m.n.getInt('group', 1);
    const found = finestGrouping(got.w, group);
    if (typeof found !== 'number') return found;
    m.w = got.w;
    m.wv = got.wv;
    m.G = found;
    return undefined;
  },
  rewrite: (m, { session: s }) => regroup(s, m.n, m.w!, m.wv!, m.G!),
});

export const convToDepthwise = defineRulePass({
  name: 'conv-to-depthwise',
  description: 'Regroup Convs whose weights are block-diagonal over channels into the grouped/depthwise Conv they are (exact)',
  exact: true,
  rules: [regroupRule],
  after(s) {
    s.metrics['regrouped'] = s.changes;
  },
});

/** The constant float weight of a Conv (rank ≥ 3) and a constant bias, or why not. */
export function convWeights(s: RewriteSession, n: Node): { w: Tensor; wv: Value } | Decline<(typeof CONV_WEIGHT_REASONS)[number]> {
  // Also rejects group ≤ 0, which would make the regrouping loop below step backwards forever.
  const issue = attributeIssue(n, CONV_ATTRS);
  if (issue) return issue;
  const wv = n.inputs[1];
  const w = wv ? s.facts.constOf(wv) : undefined;
  if (!wv || !w) return ['weights-not-constant', `weight '${wv?.name ?? ''}' is not a constant`];
  if (!WEIGHT_FLOAT_TYPES.has(w.dtype)) return ['unsupported-dtype', 'weight is not a float type'];
  if (w.dims.length < 3) return ['shape-mismatch', `weight rank ${w.dims.length} (a Conv weight has rank ≥ 3)`];
  const bv = n.inputs[2];
  if (bv && !s.facts.constOf(bv)) return ['weights-not-constant', `bias '${bv.name}' is not a constant`];
  return { w, wv };
}

/** A Conv under consideration; check fills in its weight and the grouping it proved. */
interface Regrouping {
  readonly n: Node;
  w?: Tensor;
  wv?: Value;
  /** The coarsest group count finer than the Conv's that the weights' zeros allow. */
  G?: number;
}

/**
 * The group count G (a proper multiple of `group` dividing both channel counts) whose
 * block-diagonal structure the weights have (the largest that holds), or why there is none.
 */
function finestGrouping(w: Tensor, group: number): number | Decline<(typeof REASONS)[number]> {
  const [M, cPerGroup] = w.dims as [number, number];
  const K = product(w.dims.slice(2));
  const C = cPerGroup * group;
  if (M % group !== 0) return ['bad-attribute', `group ${group} does not divide the ${M} output channels`];
  const mPerGroup = M / group;
  // Divisors G of gcd(M, C) that are proper multiples of g, coarse (small G) first.
  const cands: number[] = [];
  for (let G = group * 2; G <= Math.min(M, C); G += group) if (M % G === 0 && C % G === 0) cands.push(G);
  if (cands.length === 0) return ['no-finer-grouping', 'channel counts admit no finer grouping'];
  // A weight still in its file (or folded from one): output channel 0 alone usually disproves
  // every candidate, so read that row first, not the whole weight (same verdict as below).
  if (w.isLazy && firstRowCrossesBlocks(w, cPerGroup * K, (C / cands[0]!) * K)) return ['no-finer-grouping', 'weights connect channels across every finer block'];
  const W = floatView(w);
  const valid = (G: number): boolean => {
    const mBlock = M / G;
    const cBlock = C / G;
    for (let m = 0; m < M; m++) {
      const target = Math.floor(m / mBlock);
      const gm = Math.floor(m / mPerGroup);
      for (let j = 0; j < cPerGroup; j++) {
        const c = gm * cPerGroup + j;
        if (Math.floor(c / cBlock) === target) continue;
        const base = (m * cPerGroup + j) * K;
        for (let k = 0; k < K; k++) if (W[base + k] !== 0) return false;
      }
    }
    return true;
  };
  let best = 0;
  const failed: number[] = [];
  for (const G of cands) {
    if (failed.some((f) => G % f === 0)) continue;
    if (valid(G)) best = G;
    else failed.push(G);
  }
  if (best === 0) return ['no-finer-grouping', 'weights connect channels across every finer block'];
  return best;
}

/**
 * True when row 0 of a float32/float64 weight (`rowLength` elements) has a non-zero at index
 * `from` or later: an element valid(G) above rejects for the coarsest candidate G, and so for
 * every finer one (their blocks are narrower).
 */
function firstRowCrossesBlocks(w: Tensor, rowLength: number, from: number): boolean {
  if (w.dtype !== DataType.FLOAT && w.dtype !== DataType.DOUBLE) return false;
  const b = w.bytesAt(0, rowLength * (w.dtype === DataType.FLOAT ? 4 : 8)).slice(); // aligned copy
  const row = w.dtype === DataType.FLOAT ? new Float32Array(b.buffer) : new Float64Array(b.buffer);
  for (let i = from; i < rowLength; i++) if (row[i] !== 0) return true;
  return false;
}

/** Rewrites Conv `n` (weight `w`, group g) as the equivalent Conv with `G` groups. */
function regroup(s: RewriteSession, n: Node, w: Tensor, wv: Value, G: number): Patch {
  const group = n.getInt('group', 1);
  const [M, cPerGroup] = w.dims as [number, number];
  const K = product(w.dims.slice(2));
  const C = cPerGroup * group;
  const W = floatView(w);
  const mPerGroup = M / group;
  const cBlock = C / G;
  const mBlock = M / G;
  const Wn = floatScratch(w.dtype, M * cBlock * K);
  for (let m = 0; m < M; m++) {
    const blk = Math.floor(m / mBlock);
    const gm = Math.floor(m / mPerGroup);
    for (let jp = 0; jp < cBlock; jp++) {
      const c = blk * cBlock + jp;
      const j = c - gm * cPerGroup;
      const src = (m * cPerGroup + j) * K;
      const dst = (m * cBlock + jp) * K;
      for (let k = 0; k < K; k++) Wn[dst + k] = W[src + k]!;
    }
  }
  const wNew = s.newInitializer(wv.name || `${n.name}_weight`, tensorFromScratch(w.dtype, [M, cBlock, ...w.dims.slice(2)], Wn));
  const attrs = [...n.attributes.values()].filter((a) => a.name !== 'group');
  attrs.push(Attribute.int('group', G));
  const y = n.outputs[0]!;
  const conv = new Node('Conv', trimInputs([n.inputs[0] ?? null, wNew, n.inputs[2] ?? null]), { name: n.name, attributes: attrs, outputs: [s.replacementName(y, `${n.name}_out`)] });
  return {
    rule: G === C && G === M ? 'dense-to-depthwise' : 'dense-to-grouped',
    remove: [n],
    replace: [[y, conv.outputs[0]!]],
    add: [conv],
    initializers: [wNew],
    description: `${nodeLabel(n)}: weights are block-diagonal over ${G} channel groups → group=${G} (was ${group})`,
    details: { groupBefore: group, groupAfter: G, weightElementsBefore: W.length, weightElementsAfter: Wn.length },
  };
}
