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
 *  3. Every value is finite and within the float16 range (|w| ≤ 65504)
 *     [out-of-fp16-range]; values below 2⁻²⁴ flush to zero (reported in `metrics`).
 *
 * Reports bytes saved and the weight error (max abs, max relative over |w| ≥ 2⁻¹⁴, mean abs).
 * Known limits: it adds one Cast per converted weight; weights shared by nodes inside and outside
 * a subgraph are converted once, in the graph that owns them.
 */
import { Attribute, DataType, Node, Tensor, float16BitsToNumber, numberToFloat16Bits } from '@onnxkit/graph';
import { WEIGHT_INPUTS } from '../ops/registry.js';
import { defineRulePass } from './rule.js';
import { lookup } from '../common/op-table.js';
import { minElementsOption, nodeLabel } from './util.js';

/** (op → input positions that hold weights safe to round): each op's `weightInputs` (ops/). */
export const WEIGHT_SLOTS: Readonly<Record<string, readonly number[]>> = WEIGHT_INPUTS;

const REASONS = ['too-small', 'consumer-needs-exact-values', 'out-of-fp16-range'] as const;
export const fp16Weights = defineRulePass({
  name: 'fp16-weights',
  description: 'Store float32 weights as float16 plus a Cast back to float32 (halves weight bytes; approximate)',
  exact: false,
  reasons: REASONS,
  options: minElementsOption(64),
  sweep(s, options) {
    const minElements = options.minElements;
    let saved = 0;
    let converted = 0;
    let maxAbs = 0;
    let maxRel = 0;
    let sumAbs = 0;
    let count = 0;
    let flushed = 0;
    for (const g of s.liveGraphs()) {
      for (const v of [...g.initializers.values()]) {
        if (s.stopped) break;
        const t = v.constValue;
        if (!t || t.dtype !== DataType.FLOAT || v.isGraphInput || v.isGraphOutput || v.useCount === 0) continue;
        if (t.size < minElements) {
          s.decline(null, 'too-small', `'${v.name}' has ${t.size} elements`);
          continue;
        }
        const bad = v.uses.find((u) => !u.node.isOnnxDomain || !(lookup(WEIGHT_SLOTS, u.node.opType) ?? []).includes(u.index));
        if (bad) {
          s.decline(bad.node, 'consumer-needs-exact-values', `'${v.name}' feeds ${bad.node.opType} input ${bad.index}`);
          continue;
        }
        const src = t.toArray() as Float32Array;
        const bits = new Uint16Array(src.length);
        let ok = true;
        let lMaxAbs = 0;
        let lMaxRel = 0;
        let lSum = 0;
        let lFlushed = 0;
        for (let i = 0; i < src.length; i++) {
          const x = src[i]!;
          if (!Number.isFinite(x) || Math.abs(x) > 65504) {
            ok = false;
            break;
          }
          const h = numberToFloat16Bits(x);
          bits[i] = h;
          const back = float16BitsToNumber(h);
          const err = Math.abs(back - x);
          if (back === 0 && x !== 0) lFlushed++;
          lSum += err;
          if (err > lMaxAbs) lMaxAbs = err;
          if (Math.abs(x) >= 2 ** -14 && err / Math.abs(x) > lMaxRel) lMaxRel = err / Math.abs(x);
        }
        if (!ok) {
          s.decline(null, 'out-of-fp16-range', `'${v.name}' holds values outside the float16 range`);
          continue;
        }
        const half = s.newInitializer(`${v.name}_fp16`, Tensor.fromArray(DataType.FLOAT16, t.dims, bits));
        const cast = new Node('Cast', [half], { name: `${v.name}_cast`, attributes: [Attribute.int('to', DataType.FLOAT)], outputs: [s.freshName(`${v.name}_fp32`)] });
        s.facts.note(cast.outputs[0]!, { kind: 'tensor', elemType: DataType.FLOAT, shape: t.dims });
        const bytes = t.byteLength;
        const applied = s.mutate(g, 'fp16-weight', `'${v.name}' stored as float16 (${bytes} → ${bytes / 2} bytes)`, () => {
          g.addInitializer(half);
          // Reading only an initializer, the Cast is valid anywhere: first in the graph.
          g.prepend(cast);
          cast.metadataProps.set('onnxkit.rule', 'fp16-weight');
          v.replaceAllUsesWith(cast.outputs[0]!);
          g.removeInitializer(v.name);
          return { added: [nodeLabel(cast)], bytesDelta: half.constValue!.byteLength - bytes, details: { maxAbsError: lMaxAbs, maxRelError: lMaxRel } };
        });
        if (!applied) break;
        // The Cast adopts the weight's old name so per-layer tables still line up.
        cast.outputs[0]!.name = v.name;
        saved += bytes - half.constValue!.byteLength;
        converted++;
        maxAbs = Math.max(maxAbs, lMaxAbs);
        maxRel = Math.max(maxRel, lMaxRel);
        sumAbs += lSum;
        count += src.length;
        flushed += lFlushed;
      }
    }
    s.metrics['converted'] = converted;
    s.metrics['bytesSaved'] = saved;
    s.metrics['maxAbsError'] = maxAbs;
    s.metrics['maxRelError'] = maxRel;
    s.metrics['meanAbsError'] = count ? sumAbs / count : 0;
    s.metrics['flushedToZero'] = flushed;
  },
});
