/**
 * The signal-processing ops (src/ops/signal.ts): HannWindow, HammingWindow, BlackmanWindow,
 * MelWeightMatrix, DFT, STFT — each facet through the path that uses it: attributeProblem for the
 * schema, inferShapes for the rule, analyzeModel for the cost, fold-constants for the generators'
 * float32 kernels (checked in onnxruntime against the unfolded model), and the float64 reference
 * against the ONNX backend corpus cases of each op.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { Attribute, AttributeType, DataType, GraphBuilder, Tensor } from '@onnxkit/graph';
import { attributeProblem } from '../../src/common/attribute-schema.js';
import { evaluateNode, KernelBudgetError } from '../../src/kernels/index.js';
import { getOp } from '../../src/ops/registry.js';
import type { RefTensor } from '../../src/ops/types.js';
import { closeWorker, equivalentAfter, f32, opTypes, ortRun, runPass, runTwice } from '../rewrite/helpers.js';
import { inferred, layer, oneNode, referenceMatchesCorpus, referenceVsOrt } from './op-test-helpers.js';

afterAll(closeWorker);

const F = DataType.FLOAT;
const I64 = DataType.INT64;
const int = (name: string, v: number) => ({ name, dtype: I64, dims: [], value: Tensor.scalar(I64, v) });
const flt = (name: string, v: number) => ({ name, dtype: F, dims: [], value: Tensor.scalar(F, v) });
const ref = (dtype: DataType, dims: number[], values: number[]): RefTensor => ({ dtype, dims, data: Float64Array.from(values) });

describe('window generators', () => {
  it('declare output_datatype and periodic with their defaults, checked by the schema', () => {
    for (const type of ['HannWindow', 'HammingWindow', 'BlackmanWindow']) {
      expect(getOp(type)!.attributes, type).toMatchObject({ output_datatype: { type: AttributeType.INT, default: DataType.FLOAT }, periodic: { type: AttributeType.INT, default: 1 } });
    }
    const node = [...oneNode('HannWindow', [int('size', 8)]).graph][0]!;
    expect(attributeProblem(node)).toBeUndefined();
    node.setAttribute(new Attribute('output_datatype', AttributeType.INT, 12345n));
    expect(attributeProblem(node)).toMatch(/output_datatype.*not an ONNX data type/);
  });

  it('infer [size] of output_datatype, symbolic or unknown when the size is not a constant', () => {
    expect(inferred(oneNode('HannWindow', [int('size', 10)])).shapes).toEqual([[10]]);
    expect(inferred(oneNode('BlackmanWindow', [{ name: 'size', dtype: I64, dims: [] }])).shapes).toEqual([[null]]);
    expect(inferred(oneNode('HammingWindow', [int('size', 4)], { output_datatype: DataType.DOUBLE })).types).toEqual([DataType.DOUBLE]);
  });

  it('report a negative length and leave that dim unknown (not a negative dim)', () => {
    expect(inferred(oneNode('HannWindow', [int('size', -3)]))).toMatchObject({ shapes: [[null]], warnings: [expect.stringMatching(/size is -3; it must not be negative/)] });
    expect(inferred(oneNode('STFT', [{ name: 'signal', dtype: F, dims: [1, 4, 1] }, int('step', 1), '', int('len', 16)]))).toMatchObject({ shapes: [[1, null, 9, 2]], warnings: [expect.stringMatching(/frame count .* is -11/)] });
    expect(inferred(oneNode('DFT', [{ name: 'x', dtype: F, dims: [1, 8, 1] }, int('len', -2)])).shapes).toEqual([[1, null, 2]]);
    expect(inferred(oneNode('MelWeightMatrix', [int('m', -1), int('d', 16), int('r', 8000), flt('lo', 0), flt('hi', 4000)])).shapes).toEqual([[9, null]]);
  });

  it('cost 4 (Hann, Hamming) or 7 (Blackman) operations per element, no MACs', () => {
    for (const [type, k] of [['HannWindow', 4], ['HammingWindow', 4], ['BlackmanWindow', 7]] as const) {
      // A window as long as a run-time signal (a constant one is computed once at load, not costed).
      const b = new GraphBuilder({ opset: 17 });
      b.output(b.op(type, [b.op('Size', [b.input('x', F, ['L'])])], {}, { name: 'win' }), 'y');
      const l = layer(b.build(), 'win');
      expect(l.macs, type).toBe(0);
      expect(l.flopsExpr, type).toBe(`${k}*L`);
    }
  });

  it('compute the spec\'s cosine sums, periodic and symmetric (hand-checked values)', () => {
    const hann = getOp('HannWindow')!.reference!;
    const node = [...oneNode('HannWindow', [int('size', 4)]).graph][0]!;
    const size4 = ref(I64, [], [4]);
    // Periodic, N = 4: sin²(πk/4) = 0, ½, 1, ½.
    expect([...(hann(node, [size4], 17)[0]!.data as Float64Array)].map((v) => +v.toFixed(12))).toEqual([0, 0.5, 1, 0.5]);
    node.setAttribute(new Attribute('periodic', AttributeType.INT, 0n));
    // Symmetric, N = 3: 0, ¾, ¾, 0.
    expect([...(hann(node, [size4], 17)[0]!.data as Float64Array)].map((v) => +v.toFixed(12))).toEqual([0, 0.75, 0.75, 0]);
    const blackman = getOp('BlackmanWindow')!.reference!;
    const b = [...oneNode('BlackmanWindow', [int('size', 4)]).graph][0]!;
    // 0.42 − 0.5·cos(πk/2) + 0.08·cos(πk): k = 0 → 0, k = 2 → 1.
    const w = blackman(b, [size4], 17)[0]!.data as Float64Array;
    expect(w[0]).toBeCloseTo(0, 15);
    expect(w[2]).toBeCloseTo(1, 15);
    // A symmetric window of one sample (N = 0) is not defined: declined.
    expect(() => hann(node, [ref(I64, [], [1])], 17)).toThrow(/N = 0/);
  });

  it('are folded by fold-constants (float32 kernels), as onnxruntime computes them', async () => {
    for (const [type, attrs] of [['HannWindow', {}], ['HammingWindow', { periodic: 0 }], ['BlackmanWindow', {}]] as const) {
      // x · window(64): the window is a constant sub-computation.
      const b = new GraphBuilder({ opset: 17 });
      const w = b.op(type, [b.int64s('size', [64], [])], attrs, { name: 'win' });
      b.output(b.op('Mul', [b.input('x', F, [64]), w], {}, { name: 'mul' }), 'y');
      const m = b.build();
      const { cmp, rewritten } = await equivalentAfter(m, async (mm) => {
        const r = await runTwice('fold-constants', mm);
        expect(r.metrics['byKernel'], type).toBe(1);
      });
      expect(cmp.equivalent, `${type}: ${cmp.reason ?? ''}`).toBe(true);
      expect(opTypes(rewritten)).toEqual(['Mul']);
    }
  });

  it('are refused over the folding budget before anything is allocated (the float64 scratch too)', () => {
    const node = [...oneNode('HannWindow', [int('size', 8)]).graph][0]!;
    // 2^33 samples: a float64 scratch array of 64 GiB, which V8 could not even create.
    expect(() => evaluateNode(node, [Tensor.scalar(I64, 2 ** 33)], 17, { maxOutputBytes: 1 << 20 })).toThrow(KernelBudgetError);
    expect(evaluateNode(node, [Tensor.scalar(I64, 4)], 17, { maxOutputBytes: 1 << 20 })![0]!.dims).toEqual([4]);
  });

  it('match the ONNX backend corpus (float64 reference)', () => {
    referenceMatchesCorpus('HannWindow', 'test_hannwindow', 2);
    referenceMatchesCorpus('HammingWindow', 'test_hammingwindow', 2);
    referenceMatchesCorpus('BlackmanWindow', 'test_blackmanwindow', 2);
  });
});

describe('MelWeightMatrix', () => {
  const inputs = (bins: number, dft: number, rate: number, lo: number, hi: number) => [int('num_mel_bins', bins), int('dft_length', dft), int('sample_rate', rate), flt('lower_edge_hertz', lo), flt('upper_edge_hertz', hi)];

  it('declares output_datatype and infers [⌊dft_length/2⌋ + 1, num_mel_bins]', () => {
    expect(getOp('MelWeightMatrix')!.attributes).toMatchObject({ output_datatype: { type: AttributeType.INT, default: DataType.FLOAT } });
    expect(inferred(oneNode('MelWeightMatrix', inputs(8, 16, 8192, 0, 4096))).shapes).toEqual([[9, 8]]);
    expect(inferred(oneNode('MelWeightMatrix', inputs(80, 401, 16000, 20, 8000))).shapes).toEqual([[201, 80]]);
    const b = new GraphBuilder({ opset: 17 });
    const c = (name: string, dtype: DataType, v: number) => b.constant(name, Tensor.scalar(dtype, v));
    b.output(b.op('MelWeightMatrix', [c('bins', I64, 8), b.op('Size', [b.input('x', F, ['L'])]), c('rate', I64, 8192), c('lo', F, 0), c('hi', F, 4096)], {}, { name: 'mel' }), 'y');
    // [⌊L/2⌋ + 1, 8] weights.
    expect(layer(b.build(), 'mel').flopsExpr).toBe('8*floor(L/2)+8');
  });

  it('is folded by fold-constants as onnxruntime computes it, and rejects edges past the Nyquist frequency', async () => {
    // spectrogram [1, 257] · mel [257, 40]: the MatMul keeps the folded matrix as its weight.
    const b = new GraphBuilder({ opset: 17 });
    const c = (name: string, dtype: DataType, v: number) => b.constant(name, Tensor.scalar(dtype, v));
    const mel = b.op('MelWeightMatrix', [c('bins', I64, 40), c('dft', I64, 512), c('rate', I64, 16000), c('lo', F, 20), c('hi', F, 8000)], {}, { name: 'mel' });
    b.output(b.op('MatMul', [b.input('spec', F, [1, 257]), mel], {}, { name: 'mm' }), 'y');
    const m = b.build();
    const { cmp, rewritten } = await equivalentAfter(m, async (model) => {
      const r = await runTwice('fold-constants', model);
      expect(r.metrics['byKernel']).toBe(1);
    });
    expect(cmp.equivalent, cmp.reason ?? '').toBe(true);
    expect(opTypes(rewritten)).toEqual(['MatMul']);
    const reference = getOp('MelWeightMatrix')!.reference!;
    const node = [...oneNode('MelWeightMatrix', inputs(8, 16, 8192, 0, 8192)).graph][0]!;
    expect(() => reference(node, [ref(I64, [], [8]), ref(I64, [], [16]), ref(I64, [], [8192]), ref(F, [], [0]), ref(F, [], [8192])], 17)).toThrow(/outside the 9 spectrogram bins/);
  });

  it('is not folded where onnxruntime refuses to run it: the upper edge\'s own bin past the spectrogram', async () => {
    // dft_length 63: 32 bins; ⌊64·8000/16000⌋ = 32 is out of range for onnxruntime, though the
    // last mel point (one mel step below 8 kHz) falls in bin 27 and the matrix could be built.
    const b = new GraphBuilder({ opset: 17 });
    const c = (name: string, dtype: DataType, v: number) => b.constant(name, Tensor.scalar(dtype, v));
    const mel = b.op('MelWeightMatrix', [c('bins', I64, 8), c('dft', I64, 63), c('rate', I64, 16000), c('lo', F, 20), c('hi', F, 8000)], {}, { name: 'mel' });
    b.output(b.op('Add', [b.input('x', F, [1]), mel], {}, { name: 'add' }), 'y');
    const m = b.build();
    await expect(ortRun(m, new Map([['x', f32([1], () => 1)]]))).rejects.toThrow(/highest_index/);
    expect(inferred(m).warnings.join()).toMatch(/upper_edge_hertz 8000 falls in spectrogram bin 32, outside the 32 spectrogram bins/);
    const r = await runPass('fold-constants', m);
    expect(r.rejected['kernel-error'], JSON.stringify(r.rejected)).toBe(1);
    expect(opTypes(m)).toEqual(['MelWeightMatrix', 'Add']);
    const reference = getOp('MelWeightMatrix')!.reference!;
    const node = [...m.graph][0]!;
    expect(() => reference(node, [ref(I64, [], [8]), ref(I64, [], [63]), ref(I64, [], [16000]), ref(F, [], [20]), ref(F, [], [8000])], 17)).toThrow(/upper_edge_hertz 8000 falls in spectrogram bin 32/);
    // dft_length 64 (33 bins): bin 32 fits, and onnxruntime runs it (the corpus-checked case above).
    expect(() => reference(node, [ref(I64, [], [8]), ref(I64, [], [64]), ref(I64, [], [16000]), ref(F, [], [20]), ref(F, [], [8000])], 17)).not.toThrow();
  });

  it('matches the ONNX backend corpus (float64 reference)', () => {
    referenceMatchesCorpus('MelWeightMatrix', 'test_melweightmatrix', 1);
  });
});

describe('DFT', () => {
  const x = (dims: (number | string)[]) => ({ name: 'x', dtype: F, dims });

  it('declares axis, inverse and onesided with their defaults', () => {
    expect(getOp('DFT')!.attributes).toMatchObject({ axis: { type: AttributeType.INT, default: 1 }, inverse: { type: AttributeType.INT, default: 0 }, onesided: { type: AttributeType.INT, default: 0 } });
    const node = [...oneNode('DFT', [x([1, 8, 1])]).graph][0]!;
    node.setAttribute(new Attribute('onesided', AttributeType.FLOAT, 1));
    expect(attributeProblem(node)).toMatch(/onesided.*FLOAT, not INT/);
  });

  it('infers [batch, …, bins, …, 2]: dft_length, one-sided bins, the axis attribute (17) or input (20)', () => {
    expect(inferred(oneNode('DFT', [x(['N', 100, 1])])).shapes).toEqual([['N', 100, 2]]);
    expect(inferred(oneNode('DFT', [x([2, 100, 1])], { onesided: 1 })).shapes).toEqual([[2, 51, 2]]);
    expect(inferred(oneNode('DFT', [x([2, 100, 1]), int('len', 128)], { onesided: 1 })).shapes).toEqual([[2, 65, 2]]);
    expect(inferred(oneNode('DFT', [x([1, 10, 12, 2])], { axis: 2 })).shapes).toEqual([[1, 10, 12, 2]]);
    expect(inferred(oneNode('DFT', [x([1, 10, 12, 1]), '', int('axis', 1)], {}, 1, 20)).shapes).toEqual([[1, 10, 12, 2]]);
    expect(inferred(oneNode('DFT', [x([1, 10, 12, 1]), int('len', 16)], {}, 1, 20)).shapes).toEqual([[1, 10, 16, 2]]);
    expect(inferred(oneNode('DFT', [x([1, 10, 3])])).warnings.join()).toMatch(/last dim is 3/);
  });

  it('costs the direct DFT: complex outputs × n × 2 (real input) or 4 (complex) MACs', () => {
    expect(layer(oneNode('DFT', [x([1, 100, 1])])).macs).toBe(100 * 100 * 2);
    expect(layer(oneNode('DFT', [x([3, 64, 2])])).macs).toBe(3 * 64 * 64 * 4);
    expect(layer(oneNode('DFT', [x([1, 64, 1])], { onesided: 1 })).macs).toBe(33 * 64 * 2);
    expect(layer(oneNode('DFT', [x([2, 10, 12, 2])], { axis: 2 })).macs).toBe(2 * 10 * 12 * 12 * 4);
    const inv = layer(oneNode('DFT', [x([1, 8, 2])], { inverse: 1 }));
    expect(inv.flops).toBe(2 * 8 * 8 * 4 + 16);
    // Not read from shapes: the one-sided length behind a dft_length input, an opset-20 axis input.
    expect(layer(oneNode('DFT', [x([1, 100, 1]), int('len', 128)], { onesided: 1 })).macs).toBeNull();
    expect(layer(oneNode('DFT', [x([1, 10, 12, 1]), '', int('axis', 1)], {}, 1, 20)).macs).toBeNull();
  });

  it('transforms by hand-checked values: an impulse, a constant, the inverse', () => {
    const dft = getOp('DFT')!.reference!;
    const node = [...oneNode('DFT', [x([1, 4, 1])]).graph][0]!;
    const run = (data: number[], dims: number[], extra: (RefTensor | null)[] = []) => [...(dft(node, [ref(F, dims, data), ...extra], 17)[0]!.data as Float64Array)];
    // A constant is all DC; an impulse at 0 is flat.
    expect(run([1, 1, 1, 1], [1, 4, 1])).toEqual([4, 0, 0, 0, 0, 0, 0, 0]);
    expect(run([1, 0, 0, 0], [1, 4, 1])).toEqual([1, 0, 1, 0, 1, 0, 1, 0]);
    // x = [0, 1, 0, 0] → e^{−iπk/2} = 1, −i, −1, i.
    expect(run([0, 1, 0, 0], [1, 4, 1])).toEqual([1, 0, 0, -1, -1, 0, 0, 1]);
    // Zero-padded to dft_length 8 and one-sided: 5 bins.
    node.setAttribute(new Attribute('onesided', AttributeType.INT, 1n));
    expect(run([1, 1, 1, 1], [1, 4, 1], [ref(I64, [], [8])]).length).toBe(10);
    node.setAttribute(new Attribute('onesided', AttributeType.INT, 0n));
    node.setAttribute(new Attribute('inverse', AttributeType.INT, 1n));
    expect(run([4, 0, 0, 0, 0, 0, 0, 0], [1, 4, 2])).toEqual([1, 0, 1, 0, 1, 0, 1, 0]);
  });

  it('inverts a one-sided spectrum to n real samples [.., n, 1], as onnxruntime does', async () => {
    // 5 complex bins: n = 2·(5 − 1) = 8 by default, dft_length 8 or 9 (opset 20, odd) as given.
    const cases = [
      { extra: [] as ({ name: string; dtype: DataType; dims: number[]; value: Tensor } | '')[], opset: 17, n: 8 },
      { extra: [int('len', 8)], opset: 17, n: 8 },
      { extra: [int('len', 9), int('axis', 1)], opset: 20, n: 9 },
    ];
    for (const { extra, opset, n } of cases) {
      const m = oneNode('DFT', [x([2, 5, 2]), ...extra], { inverse: 1, onesided: 1 }, 1, opset);
      expect(inferred(m), `n ${n}`).toEqual({ shapes: [[2, n, 1]], types: [F], warnings: [] });
      const feeds = new Map([['x', f32([2, 5, 2], (i) => Math.sin(i + 1))]]);
      expect((await ortRun(m, feeds)).get('y0')!.dims, `n ${n}`).toEqual([2, n, 1]);
      const [worst] = await referenceVsOrt(m, feeds);
      expect(worst, `n ${n}`).toBeLessThanOrEqual(1);
    }
    // The cost: the [n, 2·bins] real matrix times the bins, plus the 1/n scale per sample.
    const l = layer(oneNode('DFT', [x([2, 5, 2])], { inverse: 1, onesided: 1 }));
    expect(l.macs).toBe(2 * 8 * 5 * 2);
    expect(l.flops).toBe(2 * 2 * 8 * 5 * 2 + 2 * 8);
    // Other lengths: onnxruntime's values follow no one rule there, the reference declines.
    const short = oneNode('DFT', [x([1, 5, 2]), int('len', 12)], { inverse: 1, onesided: 1 });
    expect(inferred(short).shapes).toEqual([[1, 12, 1]]);
    const dft = getOp('DFT')!.reference!;
    expect(() => dft([...short.graph][0]!, [ref(F, [1, 5, 2], new Array(10).fill(1)), ref(I64, [], [12])], 17)).toThrow(/5 bins to length 12 .* not covered/);
  });

  it('reports what onnxruntime refuses at load: a one-sided forward DFT of a complex input, an inverse of a real one', () => {
    expect(inferred(oneNode('DFT', [x([2, 8, 2])], { onesided: 1 })).warnings.join()).toMatch(/one-sided DFT needs a real input/);
    expect(inferred(oneNode('DFT', [x([2, 8, 1])], { onesided: 1, inverse: 1 })).warnings.join()).toMatch(/inverse one-sided DFT needs a complex input/);
    expect(inferred(oneNode('DFT', [x([2, 1, 2])], { onesided: 1, inverse: 1 })).warnings.join()).toMatch(/of 1 bin\(s\) has length 0/);
    const dft = getOp('DFT')!.reference!;
    const node = [...oneNode('DFT', [x([1, 4, 2])], { onesided: 1 }).graph][0]!;
    expect(() => dft(node, [ref(F, [1, 4, 2], new Array(8).fill(1))], 17)).toThrow(/needs a real input/);
    node.setAttribute(new Attribute('inverse', AttributeType.INT, 1n));
    expect(() => dft(node, [ref(F, [1, 4, 1], new Array(4).fill(1))], 17)).toThrow(/needs a complex input/);
  });

  it('matches the ONNX backend corpus (float64 reference)', () => {
    referenceMatchesCorpus('DFT', 'test_dft', 3);
  });
});

describe('STFT', () => {
  const signal = (dims: (number | string)[]) => ({ name: 'signal', dtype: F, dims });
  const win = (n: number) => ({ name: 'window', dtype: F, dims: [n] });

  it('declares onesided (default 1) and infers [batch, frames, bins, 2]', () => {
    expect(getOp('STFT')!.attributes).toMatchObject({ onesided: { type: AttributeType.INT, default: 1 } });
    expect(inferred(oneNode('STFT', [signal([1, 128, 1]), int('step', 8), '', int('len', 16)])).shapes).toEqual([[1, 15, 9, 2]]);
    expect(inferred(oneNode('STFT', [signal(['N', 16000, 1]), int('step', 160), win(400)])).shapes).toEqual([['N', 98, 201, 2]]);
    expect(inferred(oneNode('STFT', [signal([2, 128, 2]), int('step', 8), win(16)], { onesided: 0 })).shapes).toEqual([[2, 15, 16, 2]]);
    expect(inferred(oneNode('STFT', [signal(['N', 'L', 1]), int('step', 8), win(16)])).shapes).toEqual([['N', 'floor((L-16)/8)+1', 9, 2]]);
  });

  it('reports a frame_step that is not positive (onnxruntime: an invalid dimension)', () => {
    for (const step of [0, -4]) {
      const got = inferred(oneNode('STFT', [signal([1, 64, 1]), int('step', step), '', int('len', 16)]));
      expect(got.shapes, `step ${step}`).toEqual([[1, null, 9, 2]]);
      expect(got.warnings.join(), `step ${step}`).toMatch(new RegExp(`frame_step is ${step}; it must be positive`));
    }
  });

  it('costs the direct DFT of every frame (the window folded into its matrix)', () => {
    expect(layer(oneNode('STFT', [signal([1, 16000, 1]), int('step', 160), win(400)])).macs).toBe(98 * 201 * 400 * 2);
    expect(layer(oneNode('STFT', [signal([2, 128, 2]), int('step', 8), win(16)], { onesided: 0 })).macs).toBe(2 * 15 * 16 * 16 * 4);
    expect(layer(oneNode('STFT', [signal([1, 128, 1]), int('step', 8), '', int('len', 16)])).macs).toBeNull();
  });

  it('frames and windows the signal (each frame the DFT of its windowed samples)', () => {
    const stft = getOp('STFT')!.reference!;
    const node = [...oneNode('STFT', [signal([1, 8, 1]), int('step', 4), win(4)]).graph][0]!;
    const out = stft(node, [ref(F, [1, 8, 1], [1, 1, 1, 1, 2, 2, 2, 2]), ref(I64, [], [2]), ref(F, [4], [1, 0, 0, 0])], 17)[0]!;
    // Frames start at 0, 2, 4 (3 frames); the window keeps each frame's first sample: flat spectra.
    expect(out.dims).toEqual([1, 3, 3, 2]);
    expect([...(out.data as Float64Array)]).toEqual([1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 2, 0, 2, 0, 2, 0]);
  });

  it('matches the ONNX backend corpus (float64 reference)', () => {
    referenceMatchesCorpus('STFT', 'test_stft', 2);
  });
});
