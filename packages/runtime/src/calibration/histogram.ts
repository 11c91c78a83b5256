/**
 * Streaming activation statistics for calibration, in memory independent of the number of
 * samples:
 *
 * - min/max (always).
 * - a histogram of 2·H bins over [−A, A] (H = 2048 by default). A starts at the first batch's
 *   |x| maximum and doubles whenever a later batch goes beyond it; doubling merges pairs of
 *   bins into the central half, which is exact (no re-binning error, unlike resampling edges),
 *   at the cost of at most a factor 2 in resolution.
 *
 * Range selection (onnxruntime's `calibrate.py` methods, re-derived):
 * - `minmax`: [min, max] over all samples.
 * - `percentile` p: cut (100 − p)/2 % of the mass from each tail (the edges of the bins where the
 *   cumulative count crosses those fractions), within [min, max].
 * - `entropy`: TensorRT's KL-divergence threshold search. For each candidate threshold t (a bin
 *   edge), the reference P is the histogram clipped at t (outliers added to the last bin) and Q
 *   is P's bins merged into `levels` quantization bins then spread back evenly over the non-empty
 *   source bins; t minimises KL(P‖Q). A tensor with min ≥ 0 (post-Relu) is searched one-sided on
 *   [0, A] with 255 levels (uint8 covers it), any other tensor on |x| with 128 levels per side;
 *   the first bin (exact zeros, half of a Relu output) is given its neighbour's count.
 */
export type CalibrationMethod = 'minmax' | 'percentile' | 'entropy';

export const DEFAULT_HALF_BINS = 2048;

export class TensorStatistics {
  /** Over the finite values (min/max, histogram and count leave ±∞ and NaN out). */
  min = Infinity;
  max = -Infinity;
  count = 0;
  /**
   * Whether a −∞ / +∞ was seen (a `masked_fill(-inf)` reaching the tensor): kept apart from the
   * finite statistics, which they would make infinite, and reported by `calibrateRanges` as the
   * range's bound (no 8-bit scale holds them: the quantizer keeps such a tensor float).
   */
  negInf = false;
  posInf = false;
  readonly halfBins: number;
  /** Histogram over [−absRange, absRange] (2·halfBins bins), or null when not collected. */
  hist: Float64Array | null;
  absRange = 0;

  constructor(histogram: boolean, halfBins = DEFAULT_HALF_BINS) {
    this.halfBins = halfBins;
    this.hist = histogram ? new Float64Array(2 * halfBins) : null;
  }

  add(data: Float32Array): void {
    let lo = this.min;
    let hi = this.max;
    let nonFinite = 0;
    for (let i = 0; i < data.length; i++) {
      const x = data[i]!;
      if (x < lo) lo = x;
      if (x > hi) hi = x;
      if (!Number.isFinite(x)) nonFinite++;
    }
    if (nonFinite > 0) {
      // ±Infinity would make every range infinite; NaN compares false. Recompute on finite values.
      lo = this.min;
      hi = this.max;
      for (let i = 0; i < data.length; i++) {
        const x = data[i]!;
        if (!Number.isFinite(x)) {
          if (x === -Infinity) this.negInf = true;
          else if (x === Infinity) this.posInf = true;
          continue;
        }
        if (x < lo) lo = x;
        if (x > hi) hi = x;
      }
    }
    this.min = lo;
    this.max = hi;
    this.count += data.length - nonFinite;
    const h = this.hist;
    // A batch with no finite value (all NaN or ±∞) leaves the histogram as it was: its range would
    // be infinite (lo = +∞, hi = −∞ when nothing finite came before), and every percentile NaN.
    if (h === null || nonFinite === data.length) return;
    const need = Math.max(Math.abs(lo), Math.abs(hi));
    if (this.absRange === 0) this.absRange = need > 0 ? need : 0;
    while (need > this.absRange) this.#double();
    const A = this.absRange;
    const H = this.halfBins;
    if (A === 0) {
      h[H] += data.length - nonFinite;
      return;
    }
    const k = H / A;
    const last = 2 * H - 1;
    for (let i = 0; i < data.length; i++) {
      const x = data[i]!;
      if (!Number.isFinite(x)) continue;
      let b = Math.floor((x + A) * k);
      if (b > last) b = last;
      else if (b < 0) b = 0;
      h[b]++;
    }
  }

  #double(): void {
    const h = this.hist!;
    const H = this.halfBins;
    const merged = new Float64Array(2 * H);
    for (let j = 0; j < 2 * H; j++) merged[(H >> 1) + (j >> 1)] += h[j]!;
    h.set(merged);
    this.absRange *= 2;
  }

  /** Left edge of bin b. */
  edge(b: number): number {
    return -this.absRange + (b * this.absRange) / this.halfBins;
  }

  range(method: CalibrationMethod, percentile = 99.999): { min: number; max: number } {
    if (this.count === 0) return { min: 0, max: 0 };
    if (method === 'minmax' || this.hist === null || this.absRange === 0) return { min: this.min, max: this.max };
    if (method === 'percentile') return this.#percentile(percentile);
    return this.#entropy();
  }

  #percentile(p: number): { min: number; max: number } {
    const h = this.hist!;
    const total = h.reduce((a, b) => a + b, 0);
    const cut = ((100 - p) / 200) * total;
    let acc = 0;
    let lo = 0;
    for (; lo < h.length; lo++) {
      acc += h[lo]!;
      if (acc > cut) break;
    }
    acc = 0;
    let hi = h.length - 1;
    for (; hi >= 0; hi--) {
      acc += h[hi]!;
      if (acc > cut) break;
    }
    const min = Math.max(this.min, Math.min(0, this.edge(lo)));
    const max = Math.min(this.max, Math.max(0, this.edge(hi + 1)));
    return { min, max };
  }

  #entropy(): { min: number; max: number } {
    const h = this.hist!;
    const H = this.halfBins;
    const half = new Float64Array(H);
    // The bin holding exact zeros (half the values after a Relu) would dominate KL(P‖Q) and
    // push the threshold down; as NVIDIA's pytorch-quantization does, it counts like its neighbour.
    if (this.min >= 0) {
      for (let i = 0; i < H; i++) half[i] = h[H + i]!;
      half[0] = half[1]!;
      const t = klThreshold(half, 255) * (this.absRange / H);
      return { min: this.min, max: Math.min(this.max, Math.max(t, 0)) };
    }
    for (let i = 0; i < H; i++) half[i] = h[H + i]! + h[H - 1 - i]!;
    half[0] = half[1]!;
    const t = klThreshold(half, 128) * (this.absRange / H);
    return { min: Math.max(this.min, -t), max: Math.min(this.max, t) };
  }
}

/**
 * The number of histogram bins (a threshold in bin units, ≥ `levels` or the whole histogram)
 * minimising KL(P‖Q) (see the module header).
 */
export function klThreshold(hist: Float64Array, levels: number): number {
  const n = hist.length;
  let last = n;
  while (last > 0 && hist[last - 1] === 0) last--;
  if (last <= levels) return Math.max(last, 1);
  let bestI = last;
  let bestKl = Infinity;
  const P = new Float64Array(n);
  const Q = new Float64Array(n);
  let tail = 0;
  for (let k = levels; k < last; k++) tail += hist[k]!;
  // Candidates i = levels … last (at most ~512 of them, evenly spaced, to bound the O(n²) work).
  const stride = Math.max(1, Math.floor((last - levels) / 512));
  let prev = levels;
  for (let i = levels; i <= last; i = i === last ? last + 1 : Math.min(last, i + stride)) {
    for (let k = prev; k < i; k++) tail -= hist[k]!;
    prev = i;
    let sumP = 0;
    for (let k = 0; k < i; k++) {
      P[k] = hist[k]!;
      sumP += P[k]!;
    }
    P[i - 1] += tail;
    sumP += tail;
    const step = i / levels;
    let sumQ = 0;
    for (let j = 0; j < levels; j++) {
      const start = Math.floor(j * step);
      const end = j === levels - 1 ? i : Math.floor((j + 1) * step);
      let total = 0;
      let nonzero = 0;
      for (let k = start; k < end; k++) {
        total += hist[k]!;
        if (hist[k] !== 0) nonzero++;
      }
      const v = nonzero > 0 ? total / nonzero : 0;
      for (let k = start; k < end; k++) {
        Q[k] = hist[k] !== 0 ? v : 0;
        sumQ += Q[k]!;
      }
    }
    if (sumP <= 0 || sumQ <= 0) continue;
    let kl = 0;
    for (let k = 0; k < i; k++) {
      const p = P[k]! / sumP;
      if (p === 0) continue;
      const q = Q[k]! / sumQ;
      // The clipped tail lands in P's last bin where Q may be 0: smooth instead of ∞.
      kl += p * Math.log(p / (q > 0 ? q : 1e-12));
    }
    if (kl < bestKl) {
      bestKl = kl;
      bestI = i;
    }
  }
  return bestI;
}
