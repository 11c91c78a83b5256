/**
 * The CLI's flags configure passes through their typed options factories (`pass.with`), not a
 * loose per-pass record: `--rank`/`--max-error` give a configured decouple-conv, and a fold
 * budget a configured fold-constants, which PipelineOptions.configured puts in the pipeline.
 */
import { DataType, GraphBuilder, Tensor } from '@onnxkit/graph';
import { PassManager, resolvePipeline, type RulePass } from '@onnxkit/passes';
import { describe, expect, it } from 'vitest';
import { pipelineFromFlags } from '../src/pipeline.js';

describe('pipelineFromFlags', () => {
  it('--rank and --max-error configure decouple-conv (typed options, no passOptions)', () => {
    const { names, options } = pipelineFromFlags({ rank: '2', maxError: '0.25', ortFold: false });
    expect(names).toEqual(['default', 'decouple-conv']);
    expect(options?.passOptions).toBeUndefined();
    const decouple = options?.configured?.find((p) => p.name === 'decouple-conv') as RulePass<{ rank: number; maxError: number; requireSavings: boolean }>;
    expect(decouple.defaults).toEqual({ rank: 2, maxError: 0.25, requireSavings: true });
  });

  it('--max-error is a non-negative number, like verify --max-error (a negative bound ran and declined every layer)', () => {
    for (const bad of ['-1', '-0.5', 'NaN', 'Infinity', '']) {
      expect(() => pipelineFromFlags({ rank: '2', maxError: bad, ortFold: false }), bad).toThrow(`--max-error expects a non-negative number, got '${bad}'`);
    }
    expect(pipelineFromFlags({ rank: '2', maxError: '0', ortFold: false }).options?.configured?.[0]?.name).toBe('decouple-conv');
  });

  it('without option flags nothing is configured', () => {
    expect(pipelineFromFlags({ ortFold: false }).options?.configured).toBeUndefined();
  });

  it('the configured pass runs in place of the catalogue one', async () => {
    const b = new GraphBuilder({ opset: 17 });
    const x = b.input('x', DataType.FLOAT, [1, 3, 8, 8]);
    const w = Float32Array.from({ length: 4 * 3 * 9 }, (_, i) => Math.sin(i));
    b.output(b.op('Conv', [x, b.constant('w', Tensor.fromArray(DataType.FLOAT, [4, 3, 3, 3], w))], { pads: [1, 1, 1, 1] }), 'y');
    const { names, options } = pipelineFromFlags({ passes: 'decouple-conv', rank: '1', maxError: '1e-9', ortFold: false });
    const report = await new PassManager(resolvePipeline(names), options).run(b.build());
    // rank 1 of a generic 3×3 kernel is far from 1e-9: declined by the configured bound.
    expect(report.summary[0]!.rejected).toMatchObject({ 'error-above-max': 1 });
  });
});
