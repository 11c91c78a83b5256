/**
 * Per-channel activation statistics, propagated analytically through the network while it is
 * built, so BatchNormalization gets *calibrated* running statistics — as a trained network
 * has — instead of arbitrary ones.
 *
 * Why: with arbitrary running mean/var, each BN rescales its input by an unrelated factor and
 * the product over ResNet-50's 53 BNs blows activations up by orders of magnitude. Real running
 * statistics match the data the layer sees; we reproduce that for a standard-normal input, then
 * jitter them (see `net.ts`) so that BN folding stays numerically meaningful.
 *
 * Model: each channel is treated as a Gaussian N(mean, var) over samples and positions, and
 * the inputs of a sum as independent. For random zero-mean weights that assumption is unbiased
 * in expectation over the weights (cross terms average out), so conv statistics are exact in
 * the mean and a good estimate in the variance. Clamps (ReLU, ReLU6) use the closed-form
 * moments of a clipped Gaussian; max pooling uses the order statistics of Gaussians (see
 * `maxPoolStats`). What the model misses (residual branches correlated with their identity,
 * mostly) lets the estimate drift by up to ~3× in variance by ResNet-50's last stage; the
 * runtime test bounds that drift.
 */

export interface ChannelStats {
  readonly mean: Float64Array;
  readonly var: Float64Array;
}

export function standardStats(channels: number): ChannelStats {
  return { mean: new Float64Array(channels), var: new Float64Array(channels).fill(1) };
}

/**
 * Statistics of a convolution (or a linear layer: kernel size 1) output. `w` has layout
 * [cout, cin/groups, k...] with `kernel` elements per (cout, cin) pair.
 */
export function convStats(x: ChannelStats, w: Float32Array, bias: Float32Array | null, cout: number, groups: number, kernel: number): ChannelStats {
  const cinPerGroup = x.mean.length / groups;
  const coutPerGroup = cout / groups;
  const mean = new Float64Array(cout);
  const variance = new Float64Array(cout);
  for (let c = 0; c < cout; c++) {
    const g = Math.floor(c / coutPerGroup);
    let m = bias ? bias[c]! : 0;
    let v = 0;
    for (let k = 0; k < cinPerGroup; k++) {
      const ci = g * cinPerGroup + k;
      const base = (c * cinPerGroup + k) * kernel;
      let s = 0;
      let s2 = 0;
      for (let j = 0; j < kernel; j++) {
        const wv = w[base + j]!;
        s += wv;
        s2 += wv * wv;
      }
      m += s * x.mean[ci]!;
      v += s2 * x.var[ci]!;
    }
    mean[c] = m;
    variance[c] = v;
  }
  return { mean, var: variance };
}

/** Inference BatchNormalization: y = γ (x − μ_r) / √(σ²_r + ε) + β. */
export function batchNormStats(x: ChannelStats, gamma: Float32Array, beta: Float32Array, runMean: Float32Array, runVar: Float32Array, eps: number): ChannelStats {
  const n = x.mean.length;
  const mean = new Float64Array(n);
  const variance = new Float64Array(n);
  for (let c = 0; c < n; c++) {
    const a = gamma[c]! / Math.sqrt(runVar[c]! + eps);
    mean[c] = a * (x.mean[c]! - runMean[c]!) + beta[c]!;
    variance[c] = a * a * x.var[c]!;
  }
  return { mean, var: variance };
}

/** clamp(x, lo, hi) per channel (lo = 0, hi = ∞ is ReLU; hi = 6 is ReLU6). */
export function clampStats(x: ChannelStats, lo: number, hi: number): ChannelStats {
  const n = x.mean.length;
  const mean = new Float64Array(n);
  const variance = new Float64Array(n);
  for (let c = 0; c < n; c++) {
    const [m, v] = clampedGaussian(x.mean[c]!, Math.sqrt(x.var[c]!), lo, hi);
    mean[c] = m;
    variance[c] = v;
  }
  return { mean, var: variance };
}

export function addStats(a: ChannelStats, b: ChannelStats): ChannelStats {
  const n = a.mean.length;
  const mean = new Float64Array(n);
  const variance = new Float64Array(n);
  for (let c = 0; c < n; c++) {
    mean[c] = a.mean[c]! + b.mean[c]!;
    variance[c] = a.var[c]! + b.var[c]!;
  }
  return { mean, var: variance };
}

/**
 * Correlation between the inputs of a max-pool window. With random zero-mean filters the
 * fluctuations of neighbouring conv outputs are uncorrelated on average (the filter's
 * autocorrelation at a non-zero shift has mean zero), so the window is modelled as independent;
 * packages/zoo/test checks the resulting BatchNorm calibration against onnxruntime.
 */
const POOL_CORRELATION = 0;

/**
 * Max over `n` window elements. The window is modelled as n equicorrelated Gaussians
 * (correlation ρ): max = μ + σ(√ρ·Z₀ + √(1−ρ)·max of n iid), so
 * E = μ + σ√(1−ρ)·e_n and Var = σ²(ρ + (1−ρ)·d_n) with e_n, d_n the mean and variance of the
 * largest of n iid standard normals (computed numerically once per n). When the input is a
 * clamp (ReLU) of a Gaussian, max commutes with the clamp, so the max is taken before it.
 */
export function maxPoolStats(x: ChannelStats, n: number, clamp?: ClampOf): ChannelStats {
  if (clamp) return clampStats(maxPoolStats(clamp.pre, n), clamp.lo, clamp.hi);
  const [en, dn] = maxOfNormals(n);
  const rho = POOL_CORRELATION;
  const len = x.mean.length;
  const mean = new Float64Array(len);
  const variance = new Float64Array(len);
  for (let c = 0; c < len; c++) {
    const s = Math.sqrt(x.var[c]!);
    mean[c] = x.mean[c]! + s * Math.sqrt(1 - rho) * en;
    variance[c] = x.var[c]! * (rho + (1 - rho) * dn);
  }
  return { mean, var: variance };
}

/** Records that an activation is clamp(pre, lo, hi) of a Gaussian `pre`. */
export interface ClampOf {
  readonly pre: ChannelStats;
  readonly lo: number;
  readonly hi: number;
}

/** Global average pooling leaves the per-channel mean; the variance is not needed after it. */
export function averagedStats(x: ChannelStats): ChannelStats {
  return { mean: x.mean.slice(), var: x.var.slice() };
}

// ----------------------------------------------------------------------------- Gaussian helpers

const INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI);

function pdf(z: number): number {
  return Number.isFinite(z) ? INV_SQRT_2PI * Math.exp(-0.5 * z * z) : 0;
}

/** Standard normal CDF via erfc (Numerical Recipes' Chebyshev fit, |relative error| < 1.2e-7). */
export function normalCdf(z: number): number {
  if (z === Infinity) return 1;
  if (z === -Infinity) return 0;
  return 0.5 * erfc(-z / Math.SQRT2);
}

function erfc(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const r =
    t *
    Math.exp(
      -z * z -
        1.26551223 +
        t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return x >= 0 ? r : 2 - r;
}

/** Mean and variance of clamp(X, lo, hi) for X ~ N(mu, sigma²). */
export function clampedGaussian(mu: number, sigma: number, lo: number, hi: number): [number, number] {
  if (!(sigma > 0)) {
    const v = Math.min(Math.max(mu, lo), hi);
    return [v, 0];
  }
  const a = (lo - mu) / sigma;
  const b = (hi - mu) / sigma;
  const pa = normalCdf(a);
  const pb = normalCdf(b);
  const mid = pb - pa;
  const fa = pdf(a);
  const fb = pdf(b);
  const ez = fa - fb;
  const ez2 = mid + (Number.isFinite(a) ? a * fa : 0) - (Number.isFinite(b) ? b * fb : 0);
  let m1 = mu * mid + sigma * ez;
  let m2 = mu * mu * mid + 2 * mu * sigma * ez + sigma * sigma * ez2;
  if (Number.isFinite(lo)) {
    m1 += lo * pa;
    m2 += lo * lo * pa;
  }
  if (Number.isFinite(hi)) {
    m1 += hi * (1 - pb);
    m2 += hi * hi * (1 - pb);
  }
  return [m1, Math.max(m2 - m1 * m1, 0)];
}

const maxCache = new Map<number, [number, number]>();

/** Mean and variance of the largest of n iid standard normals (trapezoid rule on [−8, 8]). */
export function maxOfNormals(n: number): [number, number] {
  const hit = maxCache.get(n);
  if (hit) return hit;
  const steps = 4000;
  const h = 16 / steps;
  let m1 = 0;
  let m2 = 0;
  for (let i = 0; i <= steps; i++) {
    const z = -8 + i * h;
    const w = i === 0 || i === steps ? 0.5 : 1;
    const dens = n * pdf(z) * Math.pow(normalCdf(z), n - 1);
    m1 += w * z * dens * h;
    m2 += w * z * z * dens * h;
  }
  const r: [number, number] = [m1, m2 - m1 * m1];
  maxCache.set(n, r);
  return r;
}
