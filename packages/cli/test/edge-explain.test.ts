// `optimize --preset edge --calibration … --explain`: the int8 step's "kept in float" lines group
// the layers by their typed reason code (QdqSkip.code), not by the reason's words — the words of
// range-not-finite and constant-not-finite name a tensor or an input, so grouping by words printed
// one line per node (every masked attention Add of a transformer).
import { describe, expect, it } from 'vitest';
import type { QdqSkip } from '@onnxkit/passes';
import { explainEdgeQuantization, type EdgeQuantization } from '../src/edge-quantize.js';

function explain(skipped: QdqSkip[]): string[] {
  // Only what explainEdgeQuantization reads of a quantization run.
  const e = {
    report: { layers: [{ opType: 'Conv' }], quantizedTensors: 2, fusedActivations: [], skipped },
    settings: { perChannel: true, activationType: 'uint8' },
    accuracy: { overall: { sqnrDb: 30 } },
    prepared: { evaluation: { samples: 2 } },
  } as unknown as EdgeQuantization;
  return explainEdgeQuantization(e).split('\n').filter((l) => l.includes('kept in float'));
}

describe('edge --explain: layers kept in float', () => {
  it('one line per reason code: the words when they are the same for every node, the code when they name a tensor each', () => {
    const lines = explain([
      { node: 'add1', opType: 'Add', code: 'range-not-finite', tensor: 'mask1', input: 1, range: '[-Infinity, 0]', reason: "input 1 ('mask1') has a calibrated range that is not finite: [-Infinity, 0]" },
      { node: 'add2', opType: 'Add', code: 'range-not-finite', tensor: 'mask2', input: 1, range: '[-Infinity, 0]', reason: "input 1 ('mask2') has a calibrated range that is not finite: [-Infinity, 0]" },
      { node: 'erf', opType: 'Erf', code: 'input-not-float', reason: 'input is not float32' },
      { node: 'erf2', opType: 'Erf', code: 'input-not-float', reason: 'input is not float32' },
    ]);
    expect(lines).toEqual(['  kept in float [range-not-finite] ×2: add1, add2', '  kept in float [input is not float32] ×2: erf, erf2']);
  });
});
