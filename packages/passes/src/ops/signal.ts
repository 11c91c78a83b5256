/**
 * Signal processing (opset 17): the window generators HannWindow, HammingWindow and
 * BlackmanWindow, the MelWeightMatrix generator, and the transforms DFT and STFT — what an
 * exported audio front end (a log-mel spectrogram) is made of.
 *
 * - Windows: output [size] of `output_datatype` (default float), w[k] = a0 − a1·cos(2πk/N) +
 *   a2·cos(4πk/N) with N = size (periodic, the default) or size − 1 (symmetric): Hann a0 = a1 =
 *   0.5; Hamming a0 = 25/46, a1 = 21/46 (the spec's α and β = 1 − α); Blackman 0.42, 0.5, 0.08.
 *   A symmetric window of size 1 (N = 0) is not defined by the spec: the kernels decline it.
 * - MelWeightMatrix: output [⌊dft_length/2⌋ + 1, num_mel_bins], the spec's triangular filters:
 *   num_mel_bins + 2 points equally spaced in mel (2595·log10(1 + hz/700)) from
 *   lower_edge_hertz to upper_edge_hertz, each mapped to the spectrogram bin
 *   ⌊(dft_length + 1)·hz / sample_rate⌋; filter i rises from point i to point i + 1 and falls to
 *   point i + 2 (computed in float64; onnxruntime computes the mel points in float32, so a point
 *   that lands within float32 rounding of a bin edge could fall in the next bin there).
 *   onnxruntime first requires each edge's bin ⌊(dft_length + 1)·hz / sample_rate⌋ (float32) to
 *   lie in [0, ⌊dft_length/2⌋ + 1): where it does not, the shape rule reports a mismatch, the
 *   kernel throws (fold-constants declines the node, kernel-error) and the reference rejects it —
 *   folding it would turn a model onnxruntime refuses into one it runs.
 * - DFT: input [batch, n_1…n_r, 1 | 2] (real, or complex as (re, im)), transformed along `axis`
 *   (an attribute, default 1, before opset 20; the input 2, default −2, from 20), zero-padded or
 *   truncated to `dft_length` (input 1) when given; output [batch, …, 2] with that axis the
 *   transform length, or ⌊length/2⌋ + 1 bins when `onesided` (real input only). `inverse` is
 *   e^{+2πijk/n} scaled by 1/n. The inverse of a one-sided spectrum (DFT-20's spec allows it;
 *   onnxruntime runs it at opsets 17 and 20) takes a complex input of bins along the axis and
 *   gives a real output [batch, …, n, 1], n = dft_length or 2·(bins − 1): the Hermitian
 *   extension X[n − k] = conj(X[k]) inverted, its real part. onnxruntime 1.30 refuses a one-sided
 *   forward DFT of a complex input and a one-sided inverse of a real one at load: the shape rule
 *   reports both as mismatches and the reference rejects them. Measured against onnxruntime 1.30
 *   (test/ops/signal.test.ts): with bins = ⌊n/2⌋ + 1 (n = 2·(bins − 1) or that + 1) it computes
 *   the Hermitian-extended inverse; with other dft_lengths its values follow no one rule (n = 6
 *   of 5 bins matches numpy's irfft, n = 4 and 3 the extension of all bins, n = 12 neither), so
 *   the reference declines those (typed refusal) while the shape rule still gives [.., n, 1].
 * - STFT: signal [batch, length, 1 | 2], `frame_step` (input 1), an optional `window` (input 2)
 *   and/or `frame_length` (input 3): frames = ⌊(length − frame_length)/frame_step⌋ + 1, each
 *   multiplied by the window and transformed; output [batch, frames, bins, 2], bins
 *   ⌊frame_length/2⌋ + 1 when `onesided` (default 1), else frame_length. A frame_step that is
 *   not positive is a mismatch (onnxruntime fails with an invalid dimension).
 * - Cost convention for DFT and STFT: the direct DFT, a matrix product of the input with the DFT
 *   matrix — n multiply-adds per output bin, 2 real MACs each for a real input, 4 for a complex
 *   one (an STFT's window is folded into that matrix, W·diag(w): it adds no work). An FFT does
 *   less — about (n/2)·log2 n complex products per transform for a power-of-two n, which is what
 *   onnxruntime's CPU kernel runs for such lengths (radix-2) — so for those the count is an
 *   upper bound on the kernel's work, as the naive algorithm onnxruntime uses for other lengths
 *   performs it. The inverse one-sided DFT is the product of its [n, 2·bins] real matrix (the
 *   Hermitian extension folded in) with the bins: per real output sample 2 real MACs per input
 *   bin. The transform length is read from the shapes; a forward one-sided DFT with a
 *   `dft_length` input (2·(bins − 1) or that + 1) or an opset-20 `axis` input is not costed.
 * - Kernels: the generators take no activation, so they are constant-folded (float32 and float64
 *   outputs; the window in float64 rounded once to float32, where onnxruntime holds Hamming's and
 *   Blackman's coefficients in float32 and sums in float32: their values differ by ~1e-8); the
 *   transforms only have the float64 reference (their signal is an activation in every real
 *   model).
 * - Not float16-safe (no `fp16`): onnxruntime 1.30's CPU provider runs DFT and STFT in float32
 *   between Casts and has no float16 window kernel (test/ops/added-ops-float16.test.ts).
 */
import { DataType, type Dim, type Node, type Tensor } from '@onnxkit/graph';
import type { RuleContext, ShapeRule } from '../analysis/inference-types.js';
import { KernelError } from '../kernels/errors.js';
import { ReferenceInputError, ReferenceUnsupportedError } from '../kernels/reference/errors.js';
import { allocF64, intsOf, sizeOf } from '../kernels/reference/tensor.js';
import { allocate, makeTensor } from '../kernels/tensor-data.js';
import type { KernelFn } from '../kernels/types.js';
import { ATTR, withDefault } from './attributes.js';
import { normAxis } from './axes.js';
import { perOutput, type CostContext, type Factors } from './cost.js';
import { nonNegativeDim, scalarInput } from './shape-helpers.js';
import { defineOp, type OpDef, type RefTensor, type ReferenceKernel } from './types.js';

// ---- the generators ---------------------------------------------------------------------------

/** A cosine-sum window's coefficients: w[k] = a0 − a1·cos(2πk/N) + a2·cos(4πk/N). */
interface CosineSum {
  readonly a0: number;
  readonly a1: number;
  readonly a2: number;
}

const HANN: CosineSum = { a0: 0.5, a1: 0.5, a2: 0 };
const HAMMING: CosineSum = { a0: 25 / 46, a1: 21 / 46, a2: 0 };
const BLACKMAN: CosineSum = { a0: 0.42, a1: 0.5, a2: 0.08 };

/**
 * The float64 window of `size` samples, in an array from `alloc` (the folding kernels' budgeted
 * allocation or the reference's); undefined for a symmetric window of size 1 (N = 0).
 */
function windowValues(w: CosineSum, size: number, periodic: boolean, alloc: (n: number) => Float64Array): Float64Array | undefined {
  const n = periodic ? size : size - 1;
  if (size > 0 && n === 0) return undefined;
  const out = alloc(size);
  for (let k = 0; k < size; k++) {
    const t = (2 * Math.PI * k) / n;
    out[k] = w.a0 - w.a1 * Math.cos(t) + (w.a2 === 0 ? 0 : w.a2 * Math.cos(2 * t));
  }
  return out;
}

/** The output types the generators' kernels write (`output_datatype`). */
const isFloatOut = (t: number): boolean => t === DataType.FLOAT || t === DataType.DOUBLE;

/** One integer scalar of a kernel input (int32 or int64). */
function scalarOf(t: Tensor | null): number | undefined {
  if (!t || t.size !== 1) return undefined;
  const v = t.toArray()[0];
  return typeof v === 'bigint' ? Number(v) : typeof v === 'number' ? v : undefined;
}

/** float64 values into a float32 or float64 tensor of `dtype`. */
function floatTensor(dtype: DataType, dims: readonly number[], values: Float64Array): Tensor {
  const out = dtype === DataType.FLOAT ? allocate(Float32Array, values.length) : allocate(Float64Array, values.length);
  out.set(values);
  return makeTensor(dtype, dims, out);
}

const windowKernel =
  (w: CosineSum): KernelFn =>
  (node, inputs) => {
    const dtype = node.getInt('output_datatype', DataType.FLOAT);
    const size = scalarOf(inputs[0] ?? null);
    if (!isFloatOut(dtype) || size === undefined) return undefined;
    if (size < 0) throw new KernelError(node, `size is ${size}; it must not be negative`);
    const values = windowValues(w, size, node.getInt('periodic', 1) !== 0, (k) => allocate(Float64Array, k));
    return values && [floatTensor(dtype, [size], values)];
  };

const windowReference =
  (w: CosineSum): ReferenceKernel =>
  (node, inputs) => {
    const dtype = node.getInt('output_datatype', DataType.FLOAT);
    if (!isFloatOut(dtype) && dtype !== DataType.FLOAT16 && dtype !== DataType.BFLOAT16) throw new ReferenceUnsupportedError(node, `output_datatype ${dtype} (an integer window) is not covered`);
    if (!inputs[0]) throw new ReferenceInputError(node, 'size is required');
    const [size] = intsOf(node, inputs[0], 'size');
    if (size === undefined || size < 0) throw new ReferenceInputError(node, `size must be a non-negative scalar`);
    const values = windowValues(w, size, node.getInt('periodic', 1) !== 0, allocF64);
    if (!values) throw new ReferenceUnsupportedError(node, 'a symmetric window of size 1 divides by N = 0 (not defined by the spec)');
    return [{ dtype, dims: [size], data: values }];
  };

const windowShape: ShapeRule = (c) => {
  c.out(0, c.node.getInt('output_datatype', DataType.FLOAT) as DataType, [nonNegativeDim(c, scalarInput(c, 0), 'size')]);
};

const WINDOW_ATTRIBUTES = { output_datatype: withDefault(ATTR.output_datatype, DataType.FLOAT), periodic: withDefault(ATTR.periodic, 1) };

const windowOp = (type: string, w: CosineSum, ops: number, opsNote: string): OpDef =>
  defineOp({
    type,
    attributes: WINDOW_ATTRIBUTES,
    shape: windowShape,
    cost: { ops: perOutput(ops), opsNote },
    kernel: { note: 'float32/float64 output_datatype; float64 arithmetic rounded once (ORT: float32 coefficients and sums)', fn: windowKernel(w) },
    reference: windowReference(w),
  });

/** The mel points' spectrogram bins (num_mel_bins + 2 of them), in float64. */
function melBins(melCount: number, dftLength: number, sampleRate: number, lowHz: number, highHz: number): number[] {
  const mel = (hz: number): number => 2595 * Math.log10(1 + hz / 700);
  const lo = mel(lowHz);
  const step = (mel(highHz) - lo) / (melCount + 2);
  const bins: number[] = [];
  for (let i = 0; i < melCount + 2; i++) {
    const hz = 700 * (10 ** ((lo + i * step) / 2595) - 1);
    bins.push(Math.floor(((dftLength + 1) * hz) / sampleRate));
  }
  return bins;
}

/**
 * The spectrogram bin of an edge frequency as onnxruntime 1.30 checks it before building the
 * matrix (window_functions.cc): ⌊(dft_length + 1)·hz / sample_rate⌋ in float32 arithmetic.
 */
const edgeBin = (dftLength: number, hz: number, sampleRate: number): number => Math.floor(Math.fround(Math.fround(Math.fround(dftLength + 1) * Math.fround(hz)) / Math.fround(sampleRate)));

/**
 * What onnxruntime refuses to run: either edge's bin (edgeBin) outside [0, ⌊dft_length/2⌋ + 1).
 * The upper edge's own bin, not the last mel point's (which lies one mel step below it): a
 * matrix whose points all fit can still be refused (dft_length 63, 16 kHz, upper edge 8 kHz).
 */
function melEdgeProblem(dftLength: number, sampleRate: number, lowHz: number, highHz: number): string | undefined {
  const rows = Math.floor(dftLength / 2) + 1;
  for (const [name, hz] of [['lower_edge_hertz', lowHz], ['upper_edge_hertz', highHz]] as const) {
    const bin = edgeBin(dftLength, hz, sampleRate);
    if (!(bin >= 0 && bin < rows)) return `${name} ${hz} falls in spectrogram bin ${bin}, outside the ${rows} spectrogram bins of dft_length ${dftLength} at sample_rate ${sampleRate} (onnxruntime refuses it)`;
  }
  return undefined;
}

/** The [⌊dft_length/2⌋ + 1, num_mel_bins] filter bank, row-major; a string saying what is wrong. */
function melMatrix(melCount: number, dftLength: number, sampleRate: number, lowHz: number, highHz: number, alloc: (n: number) => Float64Array): Float64Array | string {
  if (melCount < 0 || dftLength < 0 || sampleRate <= 0) return `num_mel_bins ${melCount}, dft_length ${dftLength} and sample_rate ${sampleRate} must be non-negative (sample_rate positive)`;
  const edges = melEdgeProblem(dftLength, sampleRate, lowHz, highHz);
  if (edges) return edges;
  const rows = Math.floor(dftLength / 2) + 1;
  const bins = melBins(melCount, dftLength, sampleRate, lowHz, highHz);
  if (bins.some((b) => !(b >= 0 && b < rows))) return `the mel points fall outside the ${rows} spectrogram bins (lower_edge_hertz ${lowHz}, upper_edge_hertz ${highHz}, sample_rate ${sampleRate}: the edges must lie in [0, sample_rate/2])`;
  const out = alloc(rows * melCount);
  for (let i = 0; i < melCount; i++) {
    const [lo, mid, hi] = [bins[i]!, bins[i + 1]!, bins[i + 2]!];
    if (mid === lo) out[mid * melCount + i] = 1;
    else for (let j = lo; j <= mid; j++) out[j * melCount + i] = (j - lo) / (mid - lo);
    for (let j = mid; j < hi; j++) out[j * melCount + i] = (hi - j) / (hi - mid);
  }
  return out;
}

const melKernel: KernelFn = (node, inputs) => {
  const dtype = node.getInt('output_datatype', DataType.FLOAT);
  const ints = [0, 1, 2].map((i) => scalarOf(inputs[i] ?? null));
  const edges = [3, 4].map((i) => (inputs[i]?.size === 1 ? inputs[i]!.toFloat64()[0] : undefined));
  if (!isFloatOut(dtype) || ints.includes(undefined) || edges.includes(undefined)) return undefined;
  const [melCount, dftLength, sampleRate] = ints as number[];
  const m = melMatrix(melCount!, dftLength!, sampleRate!, edges[0]!, edges[1]!, (n) => allocate(Float64Array, n));
  if (typeof m === 'string') throw new KernelError(node, m);
  return [floatTensor(dtype, [Math.floor(dftLength! / 2) + 1, melCount!], m)];
};

const melReference: ReferenceKernel = (node, inputs) => {
  const dtype = node.getInt('output_datatype', DataType.FLOAT);
  if (!isFloatOut(dtype) && dtype !== DataType.FLOAT16 && dtype !== DataType.BFLOAT16) throw new ReferenceUnsupportedError(node, `output_datatype ${dtype} (an integer matrix) is not covered`);
  const names = ['num_mel_bins', 'dft_length', 'sample_rate', 'lower_edge_hertz', 'upper_edge_hertz'];
  names.forEach((name, i) => {
    const t = inputs[i];
    if (!t || sizeOf(t.dims) !== 1 || (i >= 3 && !(t.data instanceof Float64Array))) throw new ReferenceInputError(node, `${name} must be a scalar${i >= 3 ? ' float' : ''}`);
  });
  const [melCount, dftLength, sampleRate] = [0, 1, 2].map((i) => intsOf(node, inputs[i]!, names[i]!)[0]!);
  const [lowHz, highHz] = [3, 4].map((i) => (inputs[i]!.data as Float64Array)[0]!);
  const m = melMatrix(melCount!, dftLength!, sampleRate!, lowHz!, highHz!, allocF64);
  if (typeof m === 'string') throw new ReferenceInputError(node, m);
  return [{ dtype, dims: [Math.floor(dftLength! / 2) + 1, melCount!], data: m }];
};

const melShape: ShapeRule = (c) => {
  const dft = nonNegativeDim(c, scalarInput(c, 1), 'dft_length');
  const rate = scalarInput(c, 2);
  const [lo, hi] = [c.floats(3), c.floats(4)];
  if (typeof dft === 'number' && typeof rate === 'number' && rate > 0 && lo?.length === 1 && hi?.length === 1) {
    const problem = melEdgeProblem(dft, rate, lo[0]!, hi[0]!);
    if (problem) c.mismatch(problem);
  }
  const rows = typeof dft === 'number' ? Math.floor(dft / 2) + 1 : dft === null ? null : c.alg.add(c.alg.floorDiv(dft, 2), 1);
  c.out(0, c.node.getInt('output_datatype', DataType.FLOAT) as DataType, [rows, nonNegativeDim(c, scalarInput(c, 0), 'num_mel_bins')]);
};

// ---- the transforms ---------------------------------------------------------------------------

/** DFT's axis over the input's rank (its attribute before opset 20, its input 2 from 20); undefined when unknown. */
function dftAxis(node: Node, opset: number, rank: number, axisInput: () => number | null | undefined): number | undefined {
  const raw = opset < 20 ? node.getInt('axis', 1) : node.inputs[2] == null ? -2 : axisInput();
  return typeof raw === 'number' ? normAxis(raw, rank) : undefined;
}

/** Bins of a transform of length `n`: n, or ⌊n/2⌋ + 1 one-sided. */
const binsOf = (c: RuleContext, n: Dim, onesided: boolean): Dim =>
  !onesided || n === null ? n : typeof n === 'number' ? Math.floor(n / 2) + 1 : c.alg.add(c.alg.floorDiv(n, 2), 1);

const dftShape: ShapeRule = (c) => {
  const xs = c.shape(0);
  const type = c.dtype(0);
  if (!xs) return c.out(0, type, null);
  const r = xs.length;
  const last = xs[r - 1];
  if (r < 3) c.mismatch(`input has rank ${r}; DFT needs [batch, signal…, 1 or 2]`);
  if (typeof last === 'number' && last !== 1 && last !== 2) c.mismatch(`input's last dim is ${last}; it must be 1 (real) or 2 (complex)`);
  const axis = dftAxis(c.node, c.opset, r, () => {
    const v = scalarInput(c, 2);
    return typeof v === 'number' ? v : null;
  });
  const out: Dim[] = [...xs.slice(0, -1), 2];
  if (axis === undefined || axis === 0 || axis >= r - 1) {
    if (axis !== undefined) c.mismatch(`axis ${axis} is not a signal axis of a rank-${r} input`);
    else c.unresolved('the DFT axis is not a constant');
    return c.out(0, type, r < 2 ? null : [xs[0]!, ...new Array<Dim>(r - 2).fill(null), 2]);
  }
  const onesided = c.node.getInt('onesided', 0) !== 0;
  const inverse = c.node.getInt('inverse', 0) !== 0;
  if (onesided && !inverse && last === 2) c.mismatch('a one-sided DFT needs a real input (last dim 1); this one is complex');
  if (onesided && inverse && last === 1) c.mismatch('an inverse one-sided DFT needs a complex input (last dim 2); this one is real');
  let n: Dim = xs[axis]!;
  if (c.has(1)) {
    n = nonNegativeDim(c, scalarInput(c, 1), 'dft_length');
    if (n === null) c.unresolved('dft_length is not a constant');
  } else if (onesided && inverse) {
    // The one-sided spectrum of bins values inverts to 2·(bins − 1) real samples.
    n = typeof n === 'number' ? 2 * (n - 1) : n === null ? null : c.alg.mul(c.alg.sub(n, 1), 2);
    if (typeof n === 'number' && n < 1) {
      c.mismatch(`an inverse one-sided DFT of ${xs[axis]} bin(s) has length ${n}; give dft_length`);
      n = null;
    }
  }
  if (onesided && inverse) {
    out[axis] = n;
    out[r - 1] = 1;
  } else out[axis] = binsOf(c, n, onesided);
  c.out(0, type, out);
};

/** Real MACs of one complex output bin per input sample: 2 for a real input, 4 for a complex one. */
const perSample = (last: Dim | undefined): number | undefined => (last === 1 ? 2 : last === 2 ? 4 : undefined);

const dftMacs = (c: CostContext): Factors => {
  const xs = c.inputShapes[0];
  const out = c.outputShapes[0];
  if (!xs || !out) return { unknown: 'input or output shape unknown' };
  const k = perSample(xs[xs.length - 1]);
  if (k === undefined) return { unknown: 'input is neither real nor complex (last dim not 1 or 2)' };
  // A cost function reads attributes, not the opset: an `axis` attribute is opset 17's; an input
  // 2 is opset 20's (a value, not read here); without either the default is 1 (17) or −2 (20),
  // the same axis for the usual rank-3 [batch, n, 1 | 2] input.
  if (c.node.inputs[2] != null) return { unknown: 'the axis is an input (opset 20), not read from shapes' };
  const r = xs.length;
  const attr = c.node.getInt('axis');
  if (attr === undefined && r !== 3) return { unknown: 'default axis: 1 at opset 17, −2 at opset 20, different axes of this rank' };
  const axis = normAxis(attr ?? 1, r);
  if (axis === undefined || axis === 0 || axis >= r - 1) return { unknown: `axis ${attr ?? 1} is not a signal axis` };
  const onesided = c.node.getInt('onesided', 0) !== 0;
  const hasLength = c.node.inputs[1] != null;
  // Inverse one-sided: [n, 2·bins] real matrix times the bins, 2 real MACs per output sample and bin.
  if (onesided && c.node.getInt('inverse', 0) !== 0) return k === 4 ? [...out.slice(0, -1), xs[axis]!, 2] : { unknown: 'an inverse one-sided DFT of a real input is invalid' };
  if (onesided && hasLength) return { unknown: 'one-sided with a dft_length input: the transform length is not read from shapes' };
  const n = hasLength ? out[axis]! : xs[axis]!;
  return [...out.slice(0, -1), n, k];
};

/**
 * The direct DFT of `n` (≤ input length `m` read, zero-padded past it) samples along one axis,
 * into `bins` outputs: reads x at base + j·stride (re, im interleaved when complex), writes
 * (re, im) at outBase + k·outStride.
 */
function dftLine(x: Float64Array, base: number, stride: number, m: number, complex: boolean, n: number, bins: number, inverse: boolean, cos: Float64Array, sin: Float64Array, y: Float64Array, outBase: number, outStride: number, window?: Float64Array): void {
  const sign = inverse ? 1 : -1;
  const count = Math.min(m, n);
  for (let k = 0; k < bins; k++) {
    let re = 0;
    let im = 0;
    for (let j = 0; j < count; j++) {
      const at = base + j * stride;
      const w = window ? window[j]! : 1;
      const xr = x[at]! * w;
      const xi = complex ? x[at + 1]! * w : 0;
      const t = (j * k) % n;
      // x · e^{sign·2πi·jk/n}
      re += xr * cos[t]! - sign * xi * sin[t]!;
      im += sign * xr * sin[t]! + xi * cos[t]!;
    }
    const o = outBase + k * outStride;
    y[o] = inverse ? re / n : re;
    y[o + 1] = inverse ? im / n : im;
  }
}

/** cos and sin of 2πt/n for t < n (exact at the quarter turns). */
function twiddles(n: number): { cos: Float64Array; sin: Float64Array } {
  const cos = allocF64(n);
  const sin = allocF64(n);
  for (let t = 0; t < n; t++) {
    const a = (2 * Math.PI * t) / n;
    cos[t] = 4 * t === n || 4 * t === 3 * n ? 0 : Math.cos(a);
    sin[t] = 2 * t === n ? 0 : Math.sin(a);
  }
  return { cos, sin };
}

const dftReference: ReferenceKernel = (node, inputs, opset) => {
  const x = inputs[0];
  if (!x || !(x.data instanceof Float64Array)) throw new ReferenceInputError(node, 'input must be a float tensor');
  const dims = x.dims;
  const r = dims.length;
  if (r < 3 || (dims[r - 1] !== 1 && dims[r - 1] !== 2)) throw new ReferenceInputError(node, `input [${dims.join(',')}] is not [batch, signal…, 1 or 2]`);
  const axis = dftAxis(node, opset, r, () => (inputs[2] ? intsOf(node, inputs[2], 'axis')[0] : undefined));
  if (axis === undefined || axis === 0 || axis >= r - 1) throw new ReferenceInputError(node, `axis is not a signal axis of the rank-${r} input`);
  const inverse = node.getInt('inverse', 0) !== 0;
  const onesided = node.getInt('onesided', 0) !== 0;
  const complex = dims[r - 1] === 2;
  if (onesided && !inverse && complex) throw new ReferenceInputError(node, 'a one-sided DFT needs a real input (last dim 1); this one is complex');
  if (onesided && inverse && !complex) throw new ReferenceInputError(node, 'an inverse one-sided DFT needs a complex input (last dim 2); this one is real');
  const m = dims[axis]!;
  const n = inputs[1] ? intsOf(node, inputs[1], 'dft_length')[0]! : onesided && inverse ? 2 * (m - 1) : m;
  if (!(n >= 1)) throw new ReferenceInputError(node, `dft_length ${n} must be positive`);
  if (onesided && inverse) return [inverseOnesided(node, x, axis, n)];
  const bins = onesided ? Math.floor(n / 2) + 1 : n;
  const outDims = [...dims.slice(0, -1), 2];
  outDims[axis] = bins;
  const outer = sizeOf(dims.slice(0, axis));
  const inner = sizeOf(dims.slice(axis + 1, -1));
  const c = dims[r - 1]!;
  const y = allocF64(outer * bins * inner * 2);
  const { cos, sin } = twiddles(n);
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      dftLine(x.data, (o * m * inner + i) * c, inner * c, m, complex, n, bins, inverse, cos, sin, y, (o * bins * inner + i) * 2, inner * 2);
    }
  }
  const out: RefTensor = { dtype: x.dtype, dims: outDims, data: y };
  return [out];
};

/**
 * The inverse one-sided DFT of complex `x` (bins along `axis`) into n real samples [.., n, 1]:
 * the inverse of the Hermitian extension X[n − k] = conj(X[k]), its real part,
 * y[t] = (1/n)·Σ_k (Re X[k]·cos(2πkt/n) − Im X[k]·sin(2πkt/n)) over the extended spectrum.
 * Only bins = ⌊n/2⌋ + 1, where onnxruntime computes exactly that (see the header).
 */
function inverseOnesided(node: Node, x: RefTensor, axis: number, n: number): RefTensor {
  const dims = x.dims;
  const bins = dims[axis]!;
  if (bins !== Math.floor(n / 2) + 1) throw new ReferenceUnsupportedError(node, `an inverse one-sided DFT of ${bins} bins to length ${n} (not ⌊n/2⌋ + 1 bins) is not covered: onnxruntime's values there follow no one rule`);
  const data = x.data as Float64Array;
  const outer = sizeOf(dims.slice(0, axis));
  const inner = sizeOf(dims.slice(axis + 1, -1));
  const outDims = [...dims.slice(0, -1), 1];
  outDims[axis] = n;
  const y = allocF64(outer * n * inner);
  const { cos, sin } = twiddles(n);
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      const base = (o * bins * inner + i) * 2;
      for (let t = 0; t < n; t++) {
        let acc = 0;
        for (let k = 0; k < n; k++) {
          // Bin k, or the conjugate of bin n − k past the stored half.
          const stored = k < bins;
          const at = base + (stored ? k : n - k) * inner * 2;
          const tw = (k * t) % n;
          acc += data[at]! * cos[tw]! - (stored ? 1 : -1) * data[at + 1]! * sin[tw]!;
        }
        y[(o * n + t) * inner + i] = acc / n;
      }
    }
  }
  return { dtype: x.dtype, dims: outDims, data: y };
}

/** STFT's frame length: input 3, else the window's length. */
function frameLength(c: RuleContext): Dim {
  if (c.has(3)) return scalarInput(c, 3);
  return c.has(2) ? (c.shape(2)?.[0] ?? null) : null;
}

const stftShape: ShapeRule = (c) => {
  const xs = c.shape(0);
  const type = c.dtype(0);
  if (xs && xs.length !== 3) c.mismatch(`signal has rank ${xs.length}; STFT needs [batch, length, 1 or 2]`);
  const fl = nonNegativeDim(c, frameLength(c), 'frame_length');
  if (!c.has(2) && !c.has(3)) c.mismatch('neither window nor frame_length is given');
  const samples = xs?.length === 3 ? xs[1]! : null;
  let frames: Dim = null;
  const s = scalarInput(c, 1);
  if (typeof s === 'number' && s <= 0) c.mismatch(`frame_step is ${s}; it must be positive`);
  if (typeof samples === 'number' && typeof fl === 'number' && typeof s === 'number' && s > 0) frames = nonNegativeDim(c, Math.floor((samples - fl) / s) + 1, `the frame count (signal of ${samples} samples, frame_length ${fl})`);
  else if (samples !== null && fl !== null && typeof s === 'number' && s > 0) frames = c.alg.add(c.alg.floorDiv(c.alg.sub(samples, fl), s), 1);
  else if (!(typeof s === 'number' && s <= 0)) c.unresolved('frame count not known (signal length, frame_step or frame_length)');
  c.out(0, type, [xs?.[0] ?? null, frames, binsOf(c, fl, c.node.getInt('onesided', 1) !== 0), 2]);
};

const stftMacs = (c: CostContext): Factors => {
  const xs = c.inputShapes[0];
  const out = c.outputShapes[0];
  if (!xs || !out || out.length !== 4) return { unknown: 'signal or output shape unknown' };
  const k = perSample(xs[2]);
  if (k === undefined) return { unknown: 'signal is neither real nor complex (last dim not 1 or 2)' };
  const win = c.inputShapes[2];
  const fl = win && win.length === 1 ? win[0]! : c.node.getInt('onesided', 1) === 0 ? out[2]! : null;
  if (fl === null) return { unknown: 'frame length not read from shapes (one-sided, no window)' };
  return [out[0]!, out[1]!, out[2]!, fl, k];
};

const stftReference: ReferenceKernel = (node, inputs) => {
  const [x, stepT, windowT, lengthT] = inputs;
  if (!x || !(x.data instanceof Float64Array) || x.dims.length !== 3) throw new ReferenceInputError(node, 'signal must be a float tensor [batch, length, 1 or 2]');
  const [batch, length, c] = x.dims as [number, number, number];
  if (c !== 1 && c !== 2) throw new ReferenceInputError(node, `signal's last dim is ${c}; it must be 1 or 2`);
  if (!stepT) throw new ReferenceInputError(node, 'frame_step is required');
  const step = intsOf(node, stepT, 'frame_step')[0]!;
  const window = windowT ? (windowT.data as Float64Array) : undefined;
  const fl = lengthT ? intsOf(node, lengthT, 'frame_length')[0]! : window?.length;
  if (fl === undefined) throw new ReferenceInputError(node, 'neither window nor frame_length is given');
  if (window && window.length !== fl) throw new ReferenceInputError(node, `window has ${window.length} samples but frame_length is ${fl}`);
  if (!(step >= 1) || !(fl >= 1) || fl > length) throw new ReferenceInputError(node, `frame_step ${step} and frame_length ${fl} do not frame a signal of ${length} samples`);
  const onesided = node.getInt('onesided', 1) !== 0;
  if (onesided && c === 2) throw new ReferenceUnsupportedError(node, 'a one-sided STFT of a complex signal is not covered');
  const frames = Math.floor((length - fl) / step) + 1;
  const bins = onesided ? Math.floor(fl / 2) + 1 : fl;
  const y = allocF64(batch * frames * bins * 2);
  const { cos, sin } = twiddles(fl);
  for (let b = 0; b < batch; b++) {
    for (let f = 0; f < frames; f++) {
      dftLine(x.data, (b * length + f * step) * c, c, fl, c === 2, fl, bins, false, cos, sin, y, (b * frames + f) * bins * 2, 2, window);
    }
  }
  return [{ dtype: x.dtype, dims: [batch, frames, bins, 2], data: y }];
};

const DFT_NOTE = 'direct DFT (the DFT-matrix product): per output bin n multiply-adds, 2 real MACs each for a real input, 4 for a complex one; an FFT needs ~(n/2)·log2 n complex products (ORT: radix-2 for a power-of-two n), so there this is an upper bound';

export const SIGNAL_OPS: readonly OpDef[] = [
  windowOp('HannWindow', HANN, 4, 'per element 4: the angle, its cosine, a scale and a subtraction'),
  windowOp('HammingWindow', HAMMING, 4, 'per element 4: the angle, its cosine, a scale and a subtraction'),
  windowOp('BlackmanWindow', BLACKMAN, 7, 'per element 7: the angle and its double, two cosines, two scales and two additions'),
  defineOp({
    type: 'MelWeightMatrix',
    attributes: { output_datatype: withDefault(ATTR.output_datatype, DataType.FLOAT) },
    shape: melShape,
    cost: { ops: perOutput(1), opsNote: 'per element 1: a zero or one triangle weight (a division)' },
    kernel: { note: 'float32/float64 output_datatype; mel points in float64 (ORT: float32)', fn: melKernel },
    reference: melReference,
  }),
  defineOp({
    type: 'DFT',
    attributes: { axis: withDefault(ATTR.axis, 1), inverse: withDefault(ATTR.inverse, 0), onesided: withDefault(ATTR.onesided, 0) },
    shape: dftShape,
    cost: { macs: dftMacs, ops: (c) => ({ perOutput: c.node.getInt('inverse', 0) !== 0 ? 1 : 0 }), opsNote: `${DFT_NOTE}; an inverse adds 1 per output (the 1/n scale)` },
    reference: dftReference,
  }),
  defineOp({
    type: 'STFT',
    attributes: { onesided: withDefault(ATTR.onesided, 1) },
    shape: stftShape,
    cost: { macs: stftMacs, opsNote: `${DFT_NOTE}, per frame; the window is folded into the DFT matrix (no work of its own)` },
    reference: stftReference,
  }),
];
