/**
 * Numeric comparison of tensors and of whole output maps.
 *
 * The rule (as numpy.isclose, but failing only when BOTH tolerances are exceeded): with `a` the
 * reference (model A's output) and `b` the candidate, an element FAILS iff
 *
 *     |b − a| > atol  AND  |b − a| > rtol · |a|
 *
 * NaN equals NaN; ±Inf must match exactly (same sign); NaN/Inf against a finite value fails.
 * Integer, bool and string tensors are compared exactly (int64/uint64 as bigints, no rounding).
 * Default tolerances by element type (see DEFAULT_TOLERANCES): float32/float64 atol 1e-5,
 * rtol 1e-4; float16/bfloat16 atol 1e-3, rtol 1e-3; 8-bit floats atol 1e-1, rtol 1e-1.
 *
 * Error statistics (max/mean/median/p99 of absolute and relative error, cosine similarity) are
 * over elements where both sides are finite; relative error only where the reference is
 * non-zero (rtol·|a| is 0 there, so such elements are judged by atol alone). Percentiles use
 * linear interpolation between order statistics (numpy's default). All numbers in a result are
 * finite or null, so results serialise to JSON as they are.
 *
 * A comparison without outputs is never a pass (`equivalent: false`); outputs that are all
 * empty, with equal shapes and types on both sides, are equivalent (there is nothing they could
 * differ in; issue 13). A non-finite mismatch (inf vs −inf, NaN vs a number) sets the maximum
 * absolute error to Number.MAX_VALUE and the cosine to null, so a table never shows
 * "max abs 0, cosine 1" for outputs that differ.
 */
import { DataType, dataTypeInfo, dataTypeName, type Tensor } from '@onnxkit/graph';

export interface Tolerance {
  atol: number;
  rtol: number;
}

/** Defaults per element type; types not listed (integers, bool, string) compare exactly. */
export const DEFAULT_TOLERANCES: Readonly<Partial<Record<DataType, Tolerance>>> = {
  [DataType.FLOAT]: { atol: 1e-5, rtol: 1e-4 },
  [DataType.DOUBLE]: { atol: 1e-5, rtol: 1e-4 },
  [DataType.COMPLEX64]: { atol: 1e-5, rtol: 1e-4 },
  [DataType.COMPLEX128]: { atol: 1e-5, rtol: 1e-4 },
  [DataType.FLOAT16]: { atol: 1e-3, rtol: 1e-3 },
  [DataType.BFLOAT16]: { atol: 1e-3, rtol: 1e-3 },
  [DataType.FLOAT8E4M3FN]: { atol: 1e-1, rtol: 1e-1 },
  [DataType.FLOAT8E4M3FNUZ]: { atol: 1e-1, rtol: 1e-1 },
  [DataType.FLOAT8E5M2]: { atol: 1e-1, rtol: 1e-1 },
  [DataType.FLOAT8E5M2FNUZ]: { atol: 1e-1, rtol: 1e-1 },
  [DataType.FLOAT8E8M0]: { atol: 1e-1, rtol: 1e-1 },
  [DataType.FLOAT4E2M1]: { atol: 1e-1, rtol: 1e-1 },
};

/** True when the type is compared exactly (integers, bool, string). */
export function isExactType(dtype: DataType): boolean {
  return DEFAULT_TOLERANCES[dtype] === undefined;
}

export interface TensorComparison {
  name: string;
  /** Element type names of A (reference) and B. */
  dtypeA: string | null;
  dtypeB: string | null;
  shapeA: number[] | null;
  shapeB: number[] | null;
  /** True for integer/bool/string outputs (tolerances do not apply). */
  exact: boolean;
  atol: number;
  rtol: number;
  /** Elements in the reference. */
  total: number;
  /** Elements actually compared (0 when shapes or types differ). */
  compared: number;
  mismatches: number;
  pass: boolean;
  /** Why it failed (or, for a pass of an empty tensor, that nothing was compared). */
  reason: string | null;
  maxAbsError: number;
  meanAbsError: number;
  medianAbsError: number;
  p99AbsError: number;
  maxRelError: number;
  meanRelError: number;
  medianRelError: number;
  p99RelError: number;
  /** Cosine similarity over finite elements; null when there is none. */
  cosine: number | null;
  nan: { a: number; b: number };
  inf: { a: number; b: number };
  /** The first failing element (flat index, multi-index and both values), if any. */
  firstMismatch: { index: number; position: number[]; a: number | string; b: number | string } | null;
}

export interface CompareTensorOptions {
  /** 'full' (default) computes every statistic; 'verdict' skips percentiles (faster, for bisect). */
  stats?: 'full' | 'verdict';
}

export interface CompareOptions extends CompareTensorOptions {
  /** Override the per-dtype default for every float output. */
  atol?: number;
  rtol?: number;
  /** Per-output overrides (win over atol/rtol). */
  perOutput?: Readonly<Record<string, { atol?: number; rtol?: number }>>;
  /** Compare only these outputs (default: all of A's, plus any only B has). */
  outputs?: readonly string[];
}

export interface OutputsComparison {
  equivalent: boolean;
  outputs: TensorComparison[];
  /** Elements compared over all outputs. */
  compared: number;
  /** Why not equivalent (first failing output, or that nothing was compared). */
  reason: string | null;
}

/** The tolerance that applies to an output of type `dtype` given the options. */
export function toleranceFor(name: string, dtype: DataType | undefined, options: CompareOptions = {}): Tolerance {
  const base = (dtype !== undefined ? DEFAULT_TOLERANCES[dtype] : undefined) ?? { atol: 0, rtol: 0 };
  const o = options.perOutput?.[name];
  return {
    atol: o?.atol ?? options.atol ?? base.atol,
    rtol: o?.rtol ?? options.rtol ?? base.rtol,
  };
}

function checkTolerance(t: Tolerance): void {
  for (const k of ['atol', 'rtol'] as const) {
    if (!(typeof t[k] === 'number' && t[k] >= 0 && Number.isFinite(t[k]))) throw new RangeError(`${k} must be a finite number >= 0, got ${t[k]}`);
  }
}

function emptyResult(name: string, a: Tensor | undefined, b: Tensor | undefined, tol: Tolerance, exact: boolean): TensorComparison {
  return {
    name,
    dtypeA: a ? dataTypeName(a.dtype) : null,
    dtypeB: b ? dataTypeName(b.dtype) : null,
    shapeA: a ? [...a.dims] : null,
    shapeB: b ? [...b.dims] : null,
    exact,
    atol: exact ? 0 : tol.atol,
    rtol: exact ? 0 : tol.rtol,
    total: a?.size ?? b?.size ?? 0,
    compared: 0,
    mismatches: 0,
    pass: false,
    reason: null,
    maxAbsError: 0,
    meanAbsError: 0,
    medianAbsError: 0,
    p99AbsError: 0,
    maxRelError: 0,
    meanRelError: 0,
    medianRelError: 0,
    p99RelError: 0,
    cosine: null,
    nan: { a: 0, b: 0 },
    inf: { a: 0, b: 0 },
    firstMismatch: null,
  };
}

function unravel(index: number, dims: readonly number[]): number[] {
  const pos = new Array<number>(dims.length).fill(0);
  for (let i = dims.length - 1; i >= 0; i--) {
    const d = dims[i]!;
    if (d > 0) {
      pos[i] = index % d;
      index = Math.floor(index / d);
    }
  }
  return pos;
}

const fmtShape = (d: readonly number[]): string => `[${d.join(',')}]`;

/**
 * Compares candidate `b` against reference `a` (element rule in the module header). `tol`
 * is ignored for exactly-compared types.
 */
export function compareTensors(a: Tensor, b: Tensor, tol?: Partial<Tolerance>, options: CompareTensorOptions & { name?: string } = {}): TensorComparison {
  const name = options.name ?? (a.name || b.name);
  const dflt = DEFAULT_TOLERANCES[a.dtype] ?? { atol: 0, rtol: 0 };
  const t: Tolerance = { atol: tol?.atol ?? dflt.atol, rtol: tol?.rtol ?? dflt.rtol };
  checkTolerance(t);
  const exact = isExactType(a.dtype);
  const r = emptyResult(name, a, b, t, exact);
  if (a.dtype !== b.dtype) {
    r.reason = `element type differs: ${dataTypeName(a.dtype)} vs ${dataTypeName(b.dtype)}`;
    return r;
  }
  if (a.dims.length !== b.dims.length || a.dims.some((d, i) => d !== b.dims[i])) {
    r.reason = `shape differs: ${fmtShape(a.dims)} vs ${fmtShape(b.dims)}`;
    return r;
  }
  r.compared = a.size;
  if (a.size === 0) {
    r.pass = true;
    r.reason = 'empty tensor: shapes match, no elements to compare';
    return r;
  }
  if (a.dtype === DataType.STRING) compareStrings(a, b, r);
  else if (exact) compareExact(a, b, r, options.stats ?? 'full');
  else compareFloats(a, b, r, t, options.stats ?? 'full');
  r.pass = r.mismatches === 0;
  if (!r.pass) {
    r.reason = exact
      ? `${r.mismatches} of ${r.compared} elements differ (compared exactly)`
      : `${r.mismatches} of ${r.compared} elements differ by more than atol ${t.atol} and rtol ${t.rtol}`;
  }
  return r;
}

function compareStrings(a: Tensor, b: Tensor, r: TensorComparison): void {
  const sa = a.texts();
  const sb = b.texts();
  for (let i = 0; i < sa.length; i++) {
    if (sa[i] !== sb[i]) {
      if (r.mismatches === 0) r.firstMismatch = { index: i, position: unravel(i, a.dims), a: sa[i]!, b: sb[i]! };
      r.mismatches++;
    }
  }
}

/** Float views of a tensor: float32/float64 read in place, narrow floats decoded. */
function floatView(t: Tensor): Float32Array | Float64Array {
  if (t.dtype === DataType.FLOAT || t.dtype === DataType.COMPLEX64) return t.toArray() as Float32Array;
  if (t.dtype === DataType.DOUBLE || t.dtype === DataType.COMPLEX128) return t.toArray() as Float64Array;
  return t.toFloat64();
}

function compareFloats(a: Tensor, b: Tensor, r: TensorComparison, t: Tolerance, stats: 'full' | 'verdict'): void {
  const va = floatView(a);
  const vb = floatView(b);
  const n = va.length;
  const parts = dataTypeInfo(a.dtype).partsPerElement;
  const full = stats === 'full';
  const abs = full ? new Float64Array(n) : undefined;
  const rel = full ? new Float64Array(n) : undefined;
  let nAbs = 0;
  let nRel = 0;
  let sumAbs = 0;
  let sumRel = 0;
  let maxAbs = 0;
  let maxRel = 0;
  let dot = 0;
  let na2 = 0;
  let nb2 = 0;
  let mism = 0;
  let nanA = 0;
  let nanB = 0;
  let infA = 0;
  let infB = 0;
  let first = -1;
  let nonFinite = 0;
  const { atol, rtol } = t;
  for (let i = 0; i < n; i++) {
    const x = va[i]!;
    const y = vb[i]!;
    if (x - x === 0 && y - y === 0) {
      // Both finite (x - x is NaN for NaN and ±Inf).
      let d = Math.abs(y - x);
      if (d > Number.MAX_VALUE) d = Number.MAX_VALUE;
      const ax = Math.abs(x);
      if (d > atol && d > rtol * ax) {
        if (first < 0) first = i;
        mism++;
      }
      sumAbs += d;
      if (d > maxAbs) maxAbs = d;
      if (abs) abs[nAbs] = d;
      nAbs++;
      if (ax > 0) {
        const q = Math.min(d / ax, Number.MAX_VALUE);
        sumRel += q;
        if (q > maxRel) maxRel = q;
        if (rel) rel[nRel] = q;
        nRel++;
      }
      dot += x * y;
      na2 += x * x;
      nb2 += y * y;
      continue;
    }
    const xNan = x !== x;
    const yNan = y !== y;
    if (xNan) nanA++;
    else if (x - x !== 0) infA++;
    if (yNan) nanB++;
    else if (y - y !== 0) infB++;
    const same = (xNan && yNan) || x === y;
    if (!same) {
      if (first < 0) first = i;
      mism++;
      nonFinite++;
    }
  }
  r.mismatches = parts > 1 ? countElementMismatches(va, vb, parts, atol, rtol) : mism;
  r.nan = { a: nanA, b: nanB };
  r.inf = { a: infA, b: infB };
  // inf vs −inf, NaN vs a number: an unbounded error, and no similarity to speak of.
  r.maxAbsError = nonFinite > 0 ? Number.MAX_VALUE : maxAbs;
  r.meanAbsError = nAbs > 0 ? Math.min(sumAbs / nAbs, Number.MAX_VALUE) : 0;
  r.maxRelError = nonFinite > 0 ? Number.MAX_VALUE : maxRel;
  r.meanRelError = nRel > 0 ? Math.min(sumRel / nRel, Number.MAX_VALUE) : 0;
  if (abs && rel) {
    r.medianAbsError = percentile(abs, nAbs, 0.5);
    r.p99AbsError = percentile(abs, nAbs, 0.99);
    r.medianRelError = percentile(rel, nRel, 0.5);
    r.p99RelError = percentile(rel, nRel, 0.99);
  }
  r.cosine = nonFinite > 0 ? null : cosine(dot, na2, nb2, nAbs);
  if (first >= 0) {
    const el = Math.floor(first / parts);
    r.firstMismatch = { index: el, position: unravel(el, a.dims), a: jsonNumber(va[first]!), b: jsonNumber(vb[first]!) };
  }
}

/** Complex tensors: an element (both parts) fails if either part fails. */
function countElementMismatches(va: ArrayLike<number>, vb: ArrayLike<number>, parts: number, atol: number, rtol: number): number {
  let m = 0;
  for (let e = 0; e < va.length; e += parts) {
    for (let p = 0; p < parts; p++) {
      const x = va[e + p]!;
      const y = vb[e + p]!;
      const bad = x - x === 0 && y - y === 0 ? Math.abs(y - x) > atol && Math.abs(y - x) > rtol * Math.abs(x) : !((x !== x && y !== y) || x === y);
      if (bad) {
        m++;
        break;
      }
    }
  }
  return m;
}

function compareExact(a: Tensor, b: Tensor, r: TensorComparison, stats: 'full' | 'verdict'): void {
  const big = a.dtype === DataType.INT64 || a.dtype === DataType.UINT64;
  const sub = dataTypeInfo(a.dtype).perStorageUnit > 1;
  // Sub-byte ints are unpacked to numbers; int64/uint64 compared as bigints (no rounding).
  const va: ArrayLike<number | bigint> = sub ? a.toFloat64() : (a.toArray() as ArrayLike<number | bigint>);
  const vb: ArrayLike<number | bigint> = sub ? b.toFloat64() : (b.toArray() as ArrayLike<number | bigint>);
  const n = a.size;
  const full = stats === 'full';
  const abs = full ? new Float64Array(n) : undefined;
  let nRel = 0;
  const rel = full ? new Float64Array(n) : undefined;
  let sumAbs = 0;
  let sumRel = 0;
  let maxAbs = 0;
  let maxRel = 0;
  let dot = 0;
  let na2 = 0;
  let nb2 = 0;
  let first = -1;
  let mism = 0;
  for (let i = 0; i < n; i++) {
    const p = va[i]!;
    const q = vb[i]!;
    if (p !== q) {
      if (first < 0) first = i;
      mism++;
    }
    const x = Number(p);
    const y = Number(q);
    const d = big ? Math.abs(Number((q as bigint) - (p as bigint))) : Math.abs(y - x);
    sumAbs += d;
    if (d > maxAbs) maxAbs = d;
    if (abs) abs[i] = d;
    if (x !== 0) {
      const rr = d / Math.abs(x);
      sumRel += rr;
      if (rr > maxRel) maxRel = rr;
      if (rel) rel[nRel] = rr;
      nRel++;
    }
    dot += x * y;
    na2 += x * x;
    nb2 += y * y;
  }
  r.mismatches = mism;
  r.maxAbsError = maxAbs;
  r.meanAbsError = n > 0 ? sumAbs / n : 0;
  r.maxRelError = maxRel;
  r.meanRelError = nRel > 0 ? sumRel / nRel : 0;
  if (abs && rel) {
    r.medianAbsError = percentile(abs, n, 0.5);
    r.p99AbsError = percentile(abs, n, 0.99);
    r.medianRelError = percentile(rel, nRel, 0.5);
    r.p99RelError = percentile(rel, nRel, 0.99);
  }
  r.cosine = cosine(dot, na2, nb2, n);
  if (first >= 0) {
    const fa = va[first]!;
    const fb = vb[first]!;
    r.firstMismatch = {
      index: first,
      position: unravel(first, a.dims),
      a: typeof fa === 'bigint' ? (Number.isSafeInteger(Number(fa)) ? Number(fa) : fa.toString()) : fa,
      b: typeof fb === 'bigint' ? (Number.isSafeInteger(Number(fb)) ? Number(fb) : fb.toString()) : fb,
    };
  }
}

function jsonNumber(x: number): number | string {
  return Number.isFinite(x) ? x : String(x);
}

function cosine(dot: number, na2: number, nb2: number, n: number): number | null {
  if (n === 0 || !Number.isFinite(dot) || !Number.isFinite(na2) || !Number.isFinite(nb2)) return null;
  if (na2 === 0 && nb2 === 0) return 1;
  if (na2 === 0 || nb2 === 0) return 0;
  const c = dot / (Math.sqrt(na2) * Math.sqrt(nb2));
  return Math.max(-1, Math.min(1, c));
}

/**
 * The q-quantile of the first `n` values (linear interpolation, numpy's default), by
 * quickselect in O(n). Reorders `values`.
 */
export function percentile(values: Float64Array, n: number, q: number): number {
  if (n === 0) return 0;
  const pos = (n - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  const vlo = select(values, n, lo);
  if (hi === lo) return vlo;
  // After selecting `lo`, everything above index lo is >= vlo; the next order statistic is their min.
  let vhi = Infinity;
  for (let i = lo + 1; i < n; i++) if (values[i]! < vhi) vhi = values[i]!;
  return vlo + (vhi - vlo) * (pos - lo);
}

function select(a: Float64Array, n: number, k: number): number {
  let lo = 0;
  let hi = n - 1;
  while (hi > lo) {
    // Median of three pivot keeps sorted and constant inputs linear.
    const mid = (lo + hi) >>> 1;
    const x = a[lo]!;
    const y = a[mid]!;
    const z = a[hi]!;
    const pivot = x < y ? (y < z ? y : x < z ? z : x) : x < z ? x : y < z ? z : y;
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (a[i]! < pivot) i++;
      while (a[j]! > pivot) j--;
      if (i <= j) {
        const t = a[i]!;
        a[i] = a[j]!;
        a[j] = t;
        i++;
        j--;
      }
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else return a[k]!;
  }
  return a[k]!;
}

/**
 * Compares output maps: A is the reference. Outputs are matched by name; one present on only
 * one side fails. `equivalent` needs at least one output, at least one element compared, and
 * every output passing.
 */
export function compareOutputs(a: ReadonlyMap<string, Tensor>, b: ReadonlyMap<string, Tensor>, options: CompareOptions = {}): OutputsComparison {
  if (options.atol !== undefined || options.rtol !== undefined) checkTolerance({ atol: options.atol ?? 0, rtol: options.rtol ?? 0 });
  const names = options.outputs ? [...options.outputs] : [...a.keys(), ...[...b.keys()].filter((k) => !a.has(k))];
  const outputs: TensorComparison[] = [];
  let compared = 0;
  for (const name of names) {
    const ta = a.get(name);
    const tb = b.get(name);
    const tol = toleranceFor(name, ta?.dtype ?? tb?.dtype, options);
    if (ta === undefined || tb === undefined) {
      const r = emptyResult(name, ta, tb, tol, (ta ?? tb) !== undefined && isExactType((ta ?? tb)!.dtype));
      r.reason = ta === undefined ? (tb === undefined ? 'missing in both A and B' : 'missing in A') : 'missing in B';
      outputs.push(r);
      continue;
    }
    const r = compareTensors(ta, tb, tol, { name, stats: options.stats });
    compared += r.compared;
    outputs.push(r);
  }
  const failed = outputs.find((o) => !o.pass);
  let reason: string | null = null;
  if (outputs.length === 0) reason = 'nothing compared: there are no outputs';
  else if (failed) reason = `output '${failed.name}': ${failed.reason}`;
  return { equivalent: reason === null, outputs, compared, reason };
}
