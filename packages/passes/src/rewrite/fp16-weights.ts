/**
 * fp16-weights — stores float32 weights as float16 with a Cast back to float32 (opt-in,
 * approximate; halves the weight bytes, runs on any CPU because compute stays float32).
 *
 * Math: w ↦ fp16(w) (round to nearest even), read back as float32 by Cast(to=FLOAT) at run
 * time; relative rounding error ≤ 2⁻¹¹ for normal values. onnxruntime folds the Cast at session
 * creation with graph optimizations on, so compute cost is unchanged there.
 *
 * Preconditions:
 *  1. float32 initializer (not a graph input/output) with at least `minElements` elements
 *     (default 64) [too-small].
 *  2. Every use is a "weight slot" (Conv/ConvTranspose/Gemm/MatMul/… data and bias inputs,
 *     element-wise operands, normalization parameters, Gather data): inputs that must stay exact —
 *     Resize scales, Clip bounds, Pad values, shape-like inputs — are never converted
 *     [consumer-needs-exact-values].
 *  3. Every value is finite and stays finite in float16: |w| < 65520 (FLOAT16_OVERFLOW), the
 *     values round-to-nearest-even does not turn into ±inf — those in (65504, 65520) round to
 *     65504, float16's largest, within the 2⁻¹¹ relative bound [out-of-fp16-range]; values below
 *     2⁻²⁴ flush to zero (reported in `metrics`).
 *
 * Declared as an initializer-anchored rule (rule.ts): its patch replaces the weight (which leaves
 * the graph) by a Cast of the new float16 initializer, inserted first in the graph (it reads only
 * that initializer) and given the weight's name, so per-layer tables still line up.
 *
 * Reports bytes saved and the weight error (max abs, max relative over |w| ≥ 2⁻¹⁴, mean abs).
 * Known limits: it adds one Cast per converted weight; weights shared by nodes inside and outside
 * a subgraph are converted once, in the graph that owns them.
 */
import { Attribute, DataType, Node, Tensor, float16BitsToNumber, numberToFloat16Bits, type Value } from '@onnxkit/graph';
import { WEIGHT_INPUTS } from '../ops/registry.js';
import { defineInitializerRule, defineRulePass, type RuleContext } from './rule.js';
import { lookup } from '../common/op-table.js';
import { fitsFloat, minElementsOption, storedFloat32Weight } from './util.js';

/** (op → input positions that hold weights safe to round): each op's `weightInputs` (ops/). */
export const WEIGHT_SLOTS: Readonly<Record<string, readonly number[]>> = WEIGHT_INPUTS;

const REASONS = ['too-small', 'consumer-needs-exact-values', 'out-of-fp16-range'] as const;

/** A float32 weight to store as float16, and what its conversion measured. */
interface Candidate {
  readonly v: Value;
  readonly t: Tensor;
  maxAbs: number;
  maxRel: number;
  sumAbs: number;
  flushed: number;
}

/** The totals of one pass run (`metrics`): the rule's per-run state. */
interface Totals {
  saved: number;
  converted: number;
  maxAbs: number;
  maxRel: number;
  sumAbs: number;
  count: number;
  flushed: number;
}

const storeAsFp16 = defineInitializerRule({
  name: 'fp16-weight',
  reasons: REASONS,
  state: (): Totals => ({ saved: 0, converted: 0, maxAbs: 0, maxRel: 0, sumAbs: 0, count: 0, flushed: 0 }),
  match(v): Candidate | undefined {
    const t = storedFloat32Weight(v);
    return t ? { v, t, maxAbs: 0, maxRel: 0, sumAbs: 0, flushed: 0 } : undefined;
  },
  check({ v, t }, { options }: RuleContext<{ minElements: number }, never, Totals>) {
    if (t.size < options.minElements) return ['too-small', `'${v.name}' has ${t.size} elements`];
    const bad = v.uses.find((u) => !u.node.isOnnxDomain || !(lookup(WEIGHT_SLOTS, u.node.opType) ?? []).includes(u.index));
    if (bad) return ['consumer-needs-exact-values', `'${v.name}' feeds ${bad.node.opType} input ${bad.index}`, bad.node];
    return undefined;
  },
  rewrite(m, { session: s, graph: g }) {
    const { v, t } = m;
    const src = t.toArray() as Float32Array;
    const bits = new Uint16Array(src.length);
    for (let i = 0; i < src.length; i++) {
      const x = src[i]!;
      if (!fitsFloat(x, DataType.FLOAT16)) return ['out-of-fp16-range', `'${v.name}' holds values outside the float16 range`];
      const h = numberToFloat16Bits(x);
      bits[i] = h;
      const back = float16BitsToNumber(h);
      const err = Math.abs(back - x);
      if (back === 0 && x !== 0) m.flushed++;
      m.sumAbs += err;
      if (err > m.maxAbs) m.maxAbs = err;
      if (Math.abs(x) >= 2 ** -14 && err / Math.abs(x) > m.maxRel) m.maxRel = err / Math.abs(x);
    }
    const half = s.newInitializer(`${v.name}_fp16`, Tensor.fromArray(DataType.FLOAT16, t.dims, bits));
    const cast = new Node('Cast', [half], { name: `${v.name}_cast`, attributes: [Attribute.int('to', DataType.FLOAT)], outputs: [s.replacementName(v, `${v.name}_fp32`)] });
    const bytes = t.byteLength;
    const first = g.firstNode;
    return {
      remove: [],
      replace: [[v, cast.outputs[0]!]],
      add: [cast],
      // Reading only an initializer, the Cast is valid anywhere: first in the graph.
      ...(first ? { insertBefore: first } : {}),
      initializers: [half],
      description: `'${v.name}' stored as float16 (${bytes} → ${bytes / 2} bytes)`,
      details: { maxAbsError: m.maxAbs, maxRelError: m.maxRel },
    };
  },
  outcome(m, declined, { state: totals }) {
    if (declined) return;
    totals.saved += m.t.byteLength / 2;
    totals.converted++;
    totals.maxAbs = Math.max(totals.maxAbs, m.maxAbs);
    totals.maxRel = Math.max(totals.maxRel, m.maxRel);
    totals.sumAbs += m.sumAbs;
    totals.count += m.t.size;
    totals.flushed += m.flushed;
  },
  after({ session: s, state: t }) {
    s.metrics['converted'] = t.converted;
    s.metrics['bytesSaved'] = t.saved;
    s.metrics['maxAbsError'] = t.maxAbs;
    s.metrics['maxRelError'] = t.maxRel;
    s.metrics['meanAbsError'] = t.count ? t.sumAbs / t.count : 0;
    s.metrics['flushedToZero'] = t.flushed;
  },
});

export const fp16Weights = defineRulePass({
  name: 'fp16-weights',
  description: 'Store float32 weights as float16 plus a Cast back to float32 (halves weight bytes; approximate)',
  exact: false,
  options: minElementsOption(64),
  initializerRules: [storeAsFp16],
});
