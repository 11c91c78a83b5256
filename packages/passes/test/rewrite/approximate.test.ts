/**
 * Approximate passes on real-sized models: they are NOT claimed equivalent; their output error
 * (max / mean absolute, relative, cosine similarity against the original in onnxruntime) is
 * measured and printed, and checked against floors that separate "lossy as designed" from
 * "broken" (a wrong scale, axis or cast gives cosines far below these).
 */
import { cloneModel, type Model } from '@onnxkit/graph';
import { runPipeline, type DecoupledLayer } from '@onnxkit/passes';
import { compareOutputs } from '@onnxkit/runtime';
import { mobilenetv2, resnet50 } from '@onnxkit/zoo';
import { afterAll, describe, expect, it } from 'vitest';
import { closeWorker, inputsFor, ortRun } from './helpers.js';

afterAll(closeWorker);

interface Variant {
  label: string;
  passes: string[];
  options?: Record<string, Record<string, unknown>>;
  minCosine: number;
}

const VARIANTS: Variant[] = [
  { label: 'fp16-weights', passes: ['fp16-weights'], minCosine: 0.9999 },
  { label: 'convert-fp16', passes: ['convert-fp16'], minCosine: 0.999 },
  { label: 'quantize-weights-int8', passes: ['quantize-weights-int8'], minCosine: 0.99 },
  { label: 'edge preset', passes: ['edge'], minCosine: 0.9999 },
  { label: 'decoupling rank 4 (3×3 convs)', passes: ['decouple-conv'], options: { 'decouple-conv': { rank: 4, maxError: 1 } }, minCosine: 0.5 },
];

async function measure(name: string, build: () => Model): Promise<void> {
  const model = build();
  const feeds = await inputsFor(model, 11);
  const ref = await ortRun(model, feeds);
  const lines: string[] = [];
  for (const v of VARIANTS) {
    const m = cloneModel(model);
    const report = await runPipeline(m, v.passes, { passOptions: v.options ?? {}, maxIterations: v.label.startsWith('decoupling') ? 1 : 10 });
    expect(report.totalChanges, v.label).toBeGreaterThan(0);
    const out = await ortRun(m, feeds);
    const c = compareOutputs(ref, out).outputs[0]!;
    const bytes = report.summary.reduce((a, s) => a + s.bytesDelta, 0);
    const extra = report.runs.find((r) => r.pass === 'decouple-conv')?.result.metrics['layers'] as DecoupledLayer[] | undefined;
    lines.push(
      `${v.label.padEnd(30)} max|Δ| ${c.maxAbsError.toExponential(2)}  mean|Δ| ${c.meanAbsError.toExponential(2)}  max rel ${c.maxRelError.toExponential(2)}  cosine ${(c.cosine ?? NaN).toFixed(6)}  bytes ${(bytes / 2 ** 20).toFixed(2)} MiB` +
        (extra ? `  layers ${extra.filter((l) => l.applied).length}` : ''),
    );
    expect(c.cosine, `${name} ${v.label}`).toBeGreaterThan(v.minCosine);
    expect(Number.isFinite(c.maxAbsError)).toBe(true);
  }
  console.log(`[approximate] ${name} (output error vs the original, onnxruntime fp32 reference)\n  ${lines.join('\n  ')}`);
}

describe('approximate passes report their error', () => {
  it('MobileNetV2', () => measure('MobileNetV2', () => mobilenetv2()), 240_000);
  it('ResNet-50', () => measure('ResNet-50', () => resnet50()), 240_000);
});
