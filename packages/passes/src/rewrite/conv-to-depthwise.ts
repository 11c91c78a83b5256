/**
 * conv-to-depthwise — rewrites convolutions as the grouped / depthwise-separable convolutions
 * they are (exact mode, in the default pipeline) or approximate them as one (decoupling mode,
 * opt-in).
 *
 * EXACT mode (default). Math: a Conv with weight W [M, C/g, k…] and group g connects output
 * channel m to input channel c through W[m, c − g_m·C/g]. If, for a finer group count G (a
 * multiple of g dividing both M and C), every non-zero weight connects m only to inputs of block
 * ⌊m/(M/G)⌋ — W is block-diagonal over channels — then Conv(group=G, W') with
 * W'[m, j'] = W[m, ⌊m/(M/G)⌋·C/G + j' − g_m·C/g] computes the same sums minus zero terms. Validity
 * for G implies validity for every divisor of G that is a multiple of g, so candidates are tried
 * from coarse to fine (failing early on dense weights) and the largest valid G is used. The
 * structure is verified on the weight values, never assumed. The bias and all other attributes
 * are kept.
 *
 * DECOUPLING mode (options `{ mode: 'decouple', rank: R, maxError: E }`; Guo et al., "Network
 * Decoupling: From Regular to Depthwise Separable Convolutions", BMVC 2018). For a regular
 * (g = 1) k×k Conv and each input channel c, M_c = W[:, c, :, :] reshaped [M, K] (K = k_h·k_w)
 * has the SVD U Σ Vᵀ; keeping the top R terms:
 *   depthwise Conv, C·R output channels, group C: filter (c, r) = v_r reshaped [k_h, k_w]
 *   pointwise 1×1 Conv [M, C·R]: P[m, c·R + r] = σ_r·u_r[m] (= (M_c v_r)[m]); original bias.
 * Then Σ_c Σ_r P[m, cR+r]·(v_r ⋆ x_c) = Σ_c M̂_c[m,:] ⋆ x_c. Exact at R = K; relative weight
 * error ‖W − Ŵ‖_F / ‖W‖_F = √(Σ_c Σ_{r≥R} σ_{c,r}²) / ‖W‖_F. MACs per output pixel go from
 * M·C·K to C·R·K + M·C·R, i.e. a ratio R(K + M)/(M·K). A layer is declined when its error
 * exceeds E or it saves no MACs (option `requireSavings: false` lifts the latter, e.g. to check
 * exactness at R = K). SVD: svd.ts (Jacobi on the K×K Gram matrix, float64).
 *
 * Preconditions:
 *  1. Default domain Conv with only known attributes [unknown-attribute] of the right types, and
 *     group ≥ 1 dividing the output channels [bad-attribute]; constant weight
 *     [weights-not-constant] of a float type [unsupported-dtype]; constant bias if present.
 *  2. Exact: some finer grouping exists [no-finer-grouping] (declines are counted, not listed,
 *     for the common dense case).
 *  3. Decoupling: group = 1 [grouped-conv], kernel larger than 1×1 [pointwise-kernel],
 *     error ≤ E [error-above-max], MACs reduced [no-macs-saved]; R ≥ 1.
 *
 * Known limits: decoupling below full rank is an approximation — the pass reports error metrics
 * (per layer and overall) instead of claiming equivalence; it never runs in the default preset.
 */
import { Attribute, Node, type Graph, type Tensor, type Value } from '@onnxkit/graph';
import { knownAttributes } from '../ops/registry.js';
import { definePass } from './manager.js';
import type { RewriteSession } from './session.js';
import { thinSvd } from './svd.js';
import { WEIGHT_FLOAT_TYPES, attributeIssue, floatScratch, floatTensor, floatView, nodeLabel, product, tensorFromScratch, trimInputs } from './util.js';

const CONV_ATTRS = knownAttributes('Conv');

export interface DecoupledLayer {
  node: string;
  rank: number;
  kernel: number[];
  relativeError: number;
  macsPerPixelBefore: number;
  macsPerPixelAfter: number;
  /** Absolute MACs before/after when the output shape is static, else null. */
  macsBefore: number | null;
  macsAfter: number | null;
  applied: boolean;
  reason?: string;
}

export const convToDepthwise = definePass({
  name: 'conv-to-depthwise',
  description: 'Exact: regroup Convs whose weights are block-diagonal over channels; opt-in decoupling: k×k Conv → depthwise + pointwise by per-channel SVD',
  exact: true,
  run(s: RewriteSession) {
    const mode = s.options['mode'] ?? (s.options['rank'] !== undefined ? 'decouple' : 'exact');
    const layers: DecoupledLayer[] = [];
    let regrouped = 0;
    for (const g of s.liveGraphs()) {
      for (const n of g) {
        if (s.stopped) break;
        if (n.opType !== 'Conv' || !n.isOnnxDomain) continue;
        const why = mode === 'decouple' ? decouple(s, g, n, layers) : regroup(s, g, n);
        if (why === 'ok') regrouped++;
        else if (why) s.decline(n, why[0], why[1]);
      }
    }
    if (mode === 'decouple') {
      const applied = layers.filter((l) => l.applied);
      const before = applied.reduce((a, l) => a + (l.macsBefore ?? 0), 0);
      const after = applied.reduce((a, l) => a + (l.macsAfter ?? 0), 0);
      s.metrics['layers'] = layers;
      s.metrics['decoupled'] = applied.length;
      s.metrics['macsSaved'] = before - after;
      s.metrics['maxRelativeError'] = applied.reduce((a, l) => Math.max(a, l.relativeError), 0);
    } else {
      s.metrics['regrouped'] = regrouped;
    }
  },
});

type Outcome = 'ok' | [string, string] | undefined;

function weightsOf(s: RewriteSession, n: Node): { w: Tensor; wv: Value } | [string, string] {
  // Also rejects group ≤ 0, which would make the regrouping loop below step backwards forever.
  const issue = attributeIssue(n, CONV_ATTRS);
  if (issue) return issue;
  const wv = n.inputs[1];
  const w = wv ? s.facts.constOf(wv) : undefined;
  if (!wv || !w) return ['weights-not-constant', `weight '${wv?.name ?? ''}' is not a constant`];
  if (!WEIGHT_FLOAT_TYPES.has(w.dtype)) return ['unsupported-dtype', 'weight is not a float type'];
  if (w.dims.length < 3) return ['unknown-attribute', `weight rank ${w.dims.length}`];
  const bv = n.inputs[2];
  if (bv && !s.facts.constOf(bv)) return ['weights-not-constant', `bias '${bv.name}' is not a constant`];
  return { w, wv };
}

function regroup(s: RewriteSession, g: Graph, n: Node): Outcome {
  const got = weightsOf(s, n);
  if (Array.isArray(got)) return got;
  const { w, wv } = got;
  const group = n.getInt('group', 1);
  const [M, cPerGroup] = w.dims as [number, number];
  const K = product(w.dims.slice(2));
  const C = cPerGroup * group;
  if (M % group !== 0) return ['bad-attribute', `group ${group} does not divide the ${M} output channels`];
  const W = floatView(w);
  const mPerGroup = M / group;
  // Divisors G of gcd(M, C) that are proper multiples of g, coarse (small G) first.
  const cands: number[] = [];
  for (let G = group * 2; G <= Math.min(M, C); G += group) if (M % G === 0 && C % G === 0) cands.push(G);
  if (cands.length === 0) return ['no-finer-grouping', 'channel counts admit no finer grouping'];
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
  const G = best;
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
  const conv = new Node('Conv', trimInputs([n.inputs[0] ?? null, wNew, n.inputs[2] ?? null]), { name: n.name, attributes: attrs, outputs: [s.freshName(y.name || `${n.name}_out`)] });
  const r = s.apply(g, {
    rule: G === C && G === M ? 'dense-to-depthwise' : 'dense-to-grouped',
    remove: [n],
    replace: [[y, conv.outputs[0]!]],
    add: [conv],
    initializers: [wNew],
    description: `${nodeLabel(n)}: weights are block-diagonal over ${G} channel groups → group=${G} (was ${group})`,
    details: { groupBefore: group, groupAfter: G, weightElementsBefore: W.length, weightElementsAfter: Wn.length },
  });
  return r.ok ? 'ok' : [r.reason, r.detail];
}

function decouple(s: RewriteSession, g: Graph, n: Node, layers: DecoupledLayer[]): Outcome {
  const R = Number(s.options['rank']);
  const maxError = s.options['maxError'] === undefined ? Infinity : Number(s.options['maxError']);
  const requireSavings = s.options['requireSavings'] !== false;
  if (!Number.isInteger(R) || R < 1) return ['bad-option', `rank must be a positive integer, got ${String(s.options['rank'])}`];
  const got = weightsOf(s, n);
  if (Array.isArray(got)) return got;
  const { w, wv } = got;
  if (n.getInt('group', 1) !== 1) return ['grouped-conv', `group=${n.getInt('group', 1)}`];
  const [M, C] = w.dims as [number, number];
  const kdims = w.dims.slice(2);
  const K = product(kdims);
  if (K <= 1) return ['pointwise-kernel', 'a 1×1 kernel has nothing to decouple'];
  const r = Math.min(R, K);
  const W = w.toFloat64();
  let total = 0;
  for (let i = 0; i < W.length; i++) total += W[i]! * W[i]!;
  const dw = new Float64Array(C * r * K);
  const pw = new Float64Array(M * C * r);
  let lost = 0;
  const Mc = new Float64Array(M * K);
  for (let c = 0; c < C; c++) {
    for (let m = 0; m < M; m++) for (let k = 0; k < K; k++) Mc[m * K + k] = W[(m * C + c) * K + k]!;
    const { sigma, V, US } = thinSvd(Mc, M, K);
    for (let t = r; t < K; t++) lost += sigma[t]! * sigma[t]!;
    for (let t = 0; t < r; t++) {
      for (let k = 0; k < K; k++) dw[(c * r + t) * K + k] = V[k * K + t]!;
      for (let m = 0; m < M; m++) pw[m * C * r + c * r + t] = US[m * K + t]!;
    }
  }
  const relativeError = total > 0 ? Math.sqrt(lost / total) : 0;
  const before = M * C * K;
  const after = C * r * K + M * C * r;
  const outShape = s.facts.staticShape(n.outputs[0]!);
  const pixels = outShape && outShape.length >= 2 ? outShape[0]! * product(outShape.slice(2)) : null;
  const layer: DecoupledLayer = {
    node: nodeLabel(n),
    rank: r,
    kernel: kdims,
    relativeError,
    macsPerPixelBefore: before,
    macsPerPixelAfter: after,
    macsBefore: pixels === null ? null : before * pixels,
    macsAfter: pixels === null ? null : after * pixels,
    applied: false,
  };
  layers.push(layer);
  if (relativeError > maxError) {
    layer.reason = 'error-above-max';
    return ['error-above-max', `relative weight error ${relativeError.toExponential(3)} > ${maxError}`];
  }
  if (requireSavings && after >= before) {
    layer.reason = 'no-macs-saved';
    return ['no-macs-saved', `MACs per pixel ${after} ≥ ${before} at rank ${r}`];
  }
  const dwInit = s.newInitializer(`${wv.name || n.name}_depthwise`, floatTensor(w.dtype, [C * r, 1, ...kdims], dw));
  const pwInit = s.newInitializer(`${wv.name || n.name}_pointwise`, floatTensor(w.dtype, [M, C * r, ...kdims.map(() => 1)], pw));
  const dwAttrs = [...n.attributes.values()].filter((a) => a.name !== 'group');
  dwAttrs.push(Attribute.int('group', C));
  const y = n.outputs[0]!;
  const depth = new Node('Conv', [n.inputs[0] ?? null, dwInit], { name: `${n.name}/depthwise`, attributes: dwAttrs, outputs: [s.freshName(`${y.name || n.name}_depthwise`)] });
  const point = new Node('Conv', trimInputs([depth.outputs[0]!, pwInit, n.inputs[2] ?? null]), {
    name: `${n.name}/pointwise`,
    attributes: [Attribute.ints('kernel_shape', kdims.map(() => 1))],
    outputs: [s.freshName(y.name || `${n.name}_out`)],
  });
  const res = s.apply(g, {
    rule: 'decouple',
    remove: [n],
    replace: [[y, point.outputs[0]!]],
    add: [depth, point],
    initializers: [dwInit, pwInit],
    description: `${nodeLabel(n)} → depthwise (×${r}) + pointwise: relative weight error ${relativeError.toExponential(3)}, MACs/pixel ${before} → ${after}`,
    details: { rank: r, relativeError, macsPerPixelBefore: before, macsPerPixelAfter: after, macsBefore: layer.macsBefore, macsAfter: layer.macsAfter },
  });
  if (!res.ok) {
    layer.reason = res.reason;
    return [res.reason, res.detail];
  }
  layer.applied = true;
  return 'ok';
}
