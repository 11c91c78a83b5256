/**
 * decouple-conv — approximates a regular k×k Conv by a depthwise + pointwise pair (opt-in,
 * APPROXIMATE below full rank; never in the default preset). Guo et al., "Network Decoupling:
 * From Regular to Depthwise Separable Convolutions", BMVC 2018.
 *
 * Math: for a regular (g = 1) k×k Conv and each input channel c, M_c = W[:, c, :, :] reshaped
 * [M, K] (K = k_h·k_w) has the SVD U Σ Vᵀ; keeping the top R terms:
 *   depthwise Conv, C·R output channels, group C: filter (c, r) = v_r reshaped [k_h, k_w]
 *   pointwise 1×1 Conv [M, C·R]: P[m, c·R + r] = σ_r·u_r[m] (= (M_c v_r)[m]); original bias.
 * Then Σ_c Σ_r P[m, cR+r]·(v_r ⋆ x_c) = Σ_c M̂_c[m,:] ⋆ x_c. Exact at R = K; relative weight
 * error ‖W − Ŵ‖_F / ‖W‖_F = √(Σ_c Σ_{r≥R} σ_{c,r}²) / ‖W‖_F. MACs per output pixel go from
 * M·C·K to C·R·K + M·C·R, i.e. a ratio R(K + M)/(M·K). SVD: svd.ts (Jacobi on the K×K Gram
 * matrix, float64).
 *
 * Options (typed; `decoupleConv.with({ rank: 2 })`, CLI `--rank R --max-error E`):
 *   rank (required, integer ≥ 1), maxError (default ∞), requireSavings (default true; false
 *   e.g. to check exactness at R = K).
 *
 * Preconditions:
 *  1. Default domain Conv with only known attributes [unknown-attribute] of the right types
 *     [bad-attribute]; constant float weight of rank ≥ 3 [weights-not-constant]
 *     [unsupported-dtype] [shape-mismatch]; constant bias if present.
 *  2. group = 1 [grouped-conv], kernel larger than 1×1 [pointwise-kernel],
 *     error ≤ maxError [error-above-max], MACs reduced [no-macs-saved].
 *
 * Known limits: below full rank this is an approximation — the pass reports error metrics
 * (per layer and overall, `metrics.layers`) instead of claiming equivalence.
 */
import { Attribute, Node, type Tensor, type Value } from '@onnxkit/graph';
import { CONV_WEIGHT_REASONS, convWeights } from './conv-to-depthwise.js';
import { defineRule, defineRulePass, opt, type Decline, type Patch, type RuleContext } from './rule.js';
import type { RewriteSession } from './session.js';
import { thinSvd } from './svd.js';
import { floatTensor, nodeLabel, product, trimInputs } from './util.js';

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

export interface DecoupleOptions {
  /** Depthwise multiplier R (terms kept per input channel); required, integer ≥ 1. */
  readonly rank: number;
  /** Decline layers whose relative weight error exceeds this (default ∞). */
  readonly maxError: number;
  /** Decline layers that save no MACs (default true). */
  readonly requireSavings: boolean;
}

const REASONS = [...CONV_WEIGHT_REASONS, 'grouped-conv', 'pointwise-kernel', 'error-above-max', 'no-macs-saved'] as const;
type Reason = (typeof REASONS)[number];

interface Match {
  n: Node;
  w?: Tensor;
  wv?: Value;
  layer?: DecoupledLayer;
}

const decoupleRule = defineRule({
  name: 'decouple',
  anchor: 'Conv',
  reasons: REASONS,
  // The layers of one pass run (`metrics.layers`, declined ones too): the rule's per-run state.
  state: (): DecoupledLayer[] => [],
  match: (n): Match => ({ n }),
  check(m, { session: s }: RuleContext<DecoupleOptions, never, DecoupledLayer[]>) {
    const got = convWeights(s, m.n);
    if (!('w' in got)) return got;
    if (m.n.getInt('group', 1) !== 1) return ['grouped-conv', `group=${m.n.getInt('group', 1)}`];
    if (product(got.w.dims.slice(2)) <= 1) return ['pointwise-kernel', 'a 1×1 kernel has nothing to decouple'];
    m.w = got.w;
    m.wv = got.wv;
    return undefined;
  },
  /** Declines late only on what the decomposition itself reveals: its error or a lack of savings. */
  rewrite: (m, { session: s, options, state: layers }) => decouple(s, m, options, layers),
  outcome(m, declined) {
    if (!m.layer) return;
    if (declined) m.layer.reason = declined[0];
    else m.layer.applied = true;
  },
  after({ session: s, state: layers }) {
    const applied = layers.filter((l) => l.applied);
    const before = applied.reduce((a, l) => a + (l.macsBefore ?? 0), 0);
    const after = applied.reduce((a, l) => a + (l.macsAfter ?? 0), 0);
    s.metrics['layers'] = layers;
    s.metrics['decoupled'] = applied.length;
    s.metrics['macsSaved'] = before - after;
    s.metrics['maxRelativeError'] = applied.reduce((a, l) => Math.max(a, l.relativeError), 0);
  },
});

export const decoupleConv = defineRulePass({
  name: 'decouple-conv',
  description: 'Approximate: k×k Conv → depthwise + pointwise by per-input-channel SVD (rank R), with weight error and MACs reported',
  exact: false,
  options: {
    defaults: { rank: 0, maxError: Infinity, requireSavings: true },
    parse(loose) {
      opt.only(loose, ['rank', 'maxError', 'requireSavings']);
      const rank = opt.num(loose, 'rank');
      const maxError = opt.num(loose, 'maxError', (x) => x >= 0);
      const requireSavings = opt.bool(loose, 'requireSavings');
      return { ...(rank !== undefined ? { rank } : {}), ...(maxError !== undefined ? { maxError } : {}), ...(requireSavings !== undefined ? { requireSavings } : {}) };
    },
    validate: (o) => (Number.isInteger(o.rank) && o.rank >= 1 ? undefined : `rank must be a positive integer, got ${o.rank === 0 ? 'none' : String(o.rank)} (CLI: --rank R)`),
  },
  rules: [decoupleRule],
});

function decouple(s: RewriteSession, m: Match, { rank: R, maxError, requireSavings }: DecoupleOptions, layers: DecoupledLayer[]): Patch | Decline<Reason> {
  const n = m.n;
  const w = m.w!;
  const wv = m.wv!;
  const [M, C] = w.dims as [number, number];
  const kdims = w.dims.slice(2);
  const K = product(kdims);
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
  m.layer = layer;
  layers.push(layer);
  if (relativeError > maxError) {
    return ['error-above-max', `relative weight error ${relativeError.toExponential(3)} > ${maxError}`];
  }
  if (requireSavings && after >= before) {
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
    outputs: [s.replacementName(y, `${n.name}_out`)],
  });
  return {
    rule: 'decouple',
    remove: [n],
    replace: [[y, point.outputs[0]!]],
    add: [depth, point],
    initializers: [dwInit, pwInit],
    description: `${nodeLabel(n)} → depthwise (×${r}) + pointwise: relative weight error ${relativeError.toExponential(3)}, MACs/pixel ${before} → ${after}`,
    details: { rank: r, relativeError, macsPerPixelBefore: before, macsPerPixelAfter: after, macsBefore: layer.macsBefore, macsAfter: layer.macsAfter },
  };
}
