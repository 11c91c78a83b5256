/**
 * A small, exact-enough SVD for the decoupling rewrite: matrices are tall and thin
 * ([C_out, k_h·k_w], k_h·k_w ≤ 49 in practice), so we diagonalise the small Gram matrix
 * G = Mᵀ·M with the cyclic Jacobi eigenvalue method in float64 and recover U·Σ = M·V.
 *
 * Why Jacobi: it is short, unconditionally convergent for symmetric matrices, and yields an
 * orthogonal V to machine precision — which is what makes the full-rank reconstruction exact:
 * Σ_r (M v_r) v_rᵀ = M·V·Vᵀ = M regardless of how accurately small σ are resolved. Squaring the
 * condition number only affects the ordering/accuracy of tiny singular values, which the
 * truncation discards anyway.
 */

export interface ThinSvd {
  /** Singular values, descending (length n). */
  readonly sigma: Float64Array;
  /** Right singular vectors as columns of an n×n row-major matrix (V[i*n + r] = v_r[i]). */
  readonly V: Float64Array;
  /** U·Σ as an m×n row-major matrix (column r = M·v_r = σ_r·u_r). */
  readonly US: Float64Array;
}

/**
 * Symmetric eigen-decomposition by cyclic Jacobi rotations. `A` (n×n, row-major) is not modified.
 * Returns eigenvalues and eigenvectors (columns of `vectors`), unsorted.
 */
export function jacobiEigen(A: Float64Array, n: number, maxSweeps = 60): { values: Float64Array; vectors: Float64Array } {
  const a = Float64Array.from(A);
  const v = new Float64Array(n * n);
  for (let i = 0; i < n; i++) v[i * n + i] = 1;
  for (let sweep = 0; sweep < maxSweeps; sweep++) {
    let off = 0;
    let diag = 0;
    for (let p = 0; p < n; p++) {
      diag += a[p * n + p]! * a[p * n + p]!;
      for (let q = p + 1; q < n; q++) off += a[p * n + q]! * a[p * n + q]!;
    }
    if (off <= 1e-30 * Math.max(diag, 1e-300)) break;
    for (let p = 0; p < n - 1; p++) {
      for (let q = p + 1; q < n; q++) {
        const apq = a[p * n + q]!;
        if (apq === 0) continue;
        const app = a[p * n + p]!;
        const aqq = a[q * n + q]!;
        const theta = (aqq - app) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < n; k++) {
          const akp = a[k * n + p]!;
          const akq = a[k * n + q]!;
          a[k * n + p] = c * akp - s * akq;
          a[k * n + q] = s * akp + c * akq;
        }
        for (let k = 0; k < n; k++) {
          const apk = a[p * n + k]!;
          const aqk = a[q * n + k]!;
          a[p * n + k] = c * apk - s * aqk;
          a[q * n + k] = s * apk + c * aqk;
        }
        for (let k = 0; k < n; k++) {
          const vkp = v[k * n + p]!;
          const vkq = v[k * n + q]!;
          v[k * n + p] = c * vkp - s * vkq;
          v[k * n + q] = s * vkp + c * vkq;
        }
      }
    }
  }
  const values = new Float64Array(n);
  for (let i = 0; i < n; i++) values[i] = a[i * n + i]!;
  return { values, vectors: v };
}

/** Thin SVD of an m×n row-major matrix M (m ≥ 1, n small). */
export function thinSvd(M: Float64Array, m: number, n: number): ThinSvd {
  const G = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = i; j < n; j++) {
      let acc = 0;
      for (let r = 0; r < m; r++) acc += M[r * n + i]! * M[r * n + j]!;
      G[i * n + j] = acc;
      G[j * n + i] = acc;
    }
  }
  const { values, vectors } = jacobiEigen(G, n);
  const order = Array.from({ length: n }, (_, i) => i).sort((x, y) => values[y]! - values[x]!);
  const V = new Float64Array(n * n);
  const sigma = new Float64Array(n);
  order.forEach((src, r) => {
    for (let i = 0; i < n; i++) V[i * n + r] = vectors[i * n + src]!;
  });
  const US = new Float64Array(m * n);
  for (let r = 0; r < n; r++) {
    let norm = 0;
    for (let row = 0; row < m; row++) {
      let acc = 0;
      for (let i = 0; i < n; i++) acc += M[row * n + i]! * V[i * n + r]!;
      US[row * n + r] = acc;
      norm += acc * acc;
    }
    // σ from ‖M v‖ rather than √λ: accurate even where λ lost digits to squaring.
    sigma[r] = Math.sqrt(norm);
  }
  return { sigma, V, US };
}
