/**
 * Issue 4 part 4: the zoo ResNet-50 and MobileNetV2 (BatchNorm kept) come out of the `default`
 * preset with zero BatchNormalization nodes and 25,530,472 / 3,487,816 learnable parameters
 * (conv/linear weights + biases; BN scale/shift — none left), the analysis agrees, and the
 * outputs match. The expected counts are the numbers: the input totals (25,557,032 /
 * 3,504,872) minus BN γ,β (2 per channel) plus one new conv bias per channel.
 *
 * Equivalence: MobileNetV2 passes the fp32 criterion (atol 1e-5 AND rtol 1e-4) outright. For the
 * 53-BN-deep ResNet-50 the criterion is tighter than float32 itself: the ORIGINAL model, run by
 * onnxruntime in float32, is ~7e-5 away from the same model evaluated in float64 (PyTorch), and
 * folding moves roundings around by the same amount. So ResNet-50 is judged against a float64
 * reference: the rewritten model must be as accurate as the original (max and mean error within
 * 1.5× of the original's), which any real folding mistake breaks by orders of magnitude.
 */
import { cloneModel, type Model } from '@onnxkit/graph';
import { analyzeModel, runPipeline } from '@onnxkit/passes';
import { mobilenetv2, resnet50 } from '@onnxkit/zoo';
import { afterAll, describe, expect, it } from 'vitest';
import { absErrors, closeWorker, countOps, equivalentAfter, float64Reference, inputsFor, ortRun, requireTorch } from './helpers.js';

afterAll(closeWorker);

/** Learnable parameters counted independently of the analysis: weights and biases of Conv/Gemm/MatMul + BN scale/shift. */
function learnable(m: Model): number {
  const seen = new Set<unknown>();
  let n = 0;
  const add = (v: { constValue: { size: number } | null } | null | undefined): void => {
    if (!v || !v.constValue || seen.has(v)) return;
    seen.add(v);
    n += v.constValue.size;
  };
  for (const node of m.graph) {
    if (['Conv', 'ConvTranspose', 'Gemm'].includes(node.opType)) {
      add(node.inputs[1]);
      add(node.inputs[2]);
    } else if (node.opType === 'MatMul') add(node.inputs[1]);
    else if (node.opType === 'BatchNormalization') {
      add(node.inputs[1]);
      add(node.inputs[2]);
    }
  }
  return n;
}

const cases: [string, () => Model, number, number, boolean][] = [
  ['ResNet-50', () => resnet50(), 25_557_032, 25_530_472, false],
  ['MobileNetV2', () => mobilenetv2(), 3_504_872, 3_487_816, true],
];

describe('default preset on the zoo', () => {
  for (const [name, build, before, after, strict] of cases) {
    it(`${name}: no BatchNormalization left, ${after.toLocaleString('en')} learnable params, outputs match`, async () => {
      const model = build();
      expect(countOps(model, 'BatchNormalization')).toBeGreaterThan(0);
      expect(learnable(model)).toBe(before);
      expect(analyzeModel(cloneModel(model)).totals.params).toBe(before);
      const feeds = await inputsFor(model, 1);
      const { cmp, rewritten } = await equivalentAfter(model, async (m) => {
        const report = await runPipeline(m, 'default');
        expect(report.converged).toBe(true);
      }, feeds);
      expect(countOps(rewritten, 'BatchNormalization')).toBe(0);
      expect(learnable(rewritten)).toBe(after);
      expect(analyzeModel(rewritten).totals.params).toBe(after);
      expect(cmp.compared).toBeGreaterThan(0);
      expect(cmp.outputs[0]!.cosine).toBeGreaterThan(0.9999999);
      if (strict) expect(cmp.equivalent, cmp.reason ?? '').toBe(true);
      if (requireTorch()) {
        const input = [...feeds.values()][0]!;
        const truth = float64Reference(model, input);
        const orig = absErrors((await ortRun(model, feeds)).values().next().value!.toFloat64(), truth);
        const ours = absErrors((await ortRun(rewritten, feeds)).values().next().value!.toFloat64(), truth);
        expect(orig.max).toBeGreaterThan(0);
        expect(ours.max, `rewritten max error ${ours.max} vs original ${orig.max} against float64`).toBeLessThanOrEqual(1.5 * orig.max);
        expect(ours.mean, `rewritten mean error ${ours.mean} vs original ${orig.mean} against float64`).toBeLessThanOrEqual(1.5 * orig.mean);
      }
    }, 180_000);
  }
});
