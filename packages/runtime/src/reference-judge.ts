/**
 * Equivalence judged against the exact math: a float64 evaluation of model A (the "reference",
 * ref64) is the yardstick, and model B must be as close to it as A is.
 *
 * The rule, per float output (exact types — integers, bool, string — must match A exactly):
 *
 *     e_a[i] = |a[i] − ref64[i]|        e_b[i] = |b[i] − ref64[i]|
 *     scale  = max |ref64[i]|           ulp    = spacing of the output's float type at `scale`
 *     budget = K · max_i e_a[i]  +  C · ulp          (K = 2, C = 4)
 *     element i passes iff e_b[i] ≤ budget
 *
 * i.e. B's worst error may be twice A's own worst float32 error plus four units in the last place
 * of the output's magnitude. Non-finite elements are compared as values: NaN equals NaN, +Inf and
 * −Inf are distinct, and B must be non-finite exactly where A is (an element where ref64 is not
 * finite but A and B agree passes).
 *
 * Verdicts: `equivalent` — every output passes the fixed fp32 tolerance (see compare.ts) and the
 * budget; `equivalent within float32 rounding` — some output fails the fixed tolerance but every
 * output is within the budget; `NOT equivalent` — some element of B exceeds the budget. When the
 * reference cannot evaluate the model, the fixed tolerance decides, and the report says so.
 * `maxError`/`minSqnrDb` (user budgets) replace the rule with "within the requested budget": with
 * `maxError` every element must be within it of ref64; with `minSqnrDb` alone each output's SQNR
 * must reach it (the per-element rounding budget is reported but not applied); with both, both.
 */
import { DataType, dataTypeName, type Model, type Tensor } from '@onnxkit/graph';
import { isExactType, type TensorComparison } from './compare.js';

/** A value of the float64 reference: floats widened to float64, int64 as bigint. */
export interface ReferenceValue {
  readonly dims: readonly number[];
  readonly data: Float64Array | BigInt64Array | readonly boolean[] | readonly string[];
}

export type ReferenceRun =
  | { ok: true; outputs: ReadonlyMap<string, ReferenceValue>; extra?: ReadonlyMap<string, ReferenceValue>; ms: number }
  | { ok: false; node: string; op: string | null; reason: string; ms: number };

/**
 * The float64 reference, injected (runtime may not import passes; the cli wires the real one).
 * `evaluate` must not throw for a model it cannot run: it returns `ok: false` naming the node.
 */
export interface ReferenceEvaluator {
  evaluate(model: Model | string, feeds: ReadonlyMap<string, Tensor>, options?: { extraOutputs?: readonly string[] | 'all'; externalDataDir?: string }): Promise<ReferenceRun>;
}

export const REFERENCE_RULE = { k: 2, ulps: 4 } as const;

export type Verdict = 'equivalent' | 'equivalent within float32 rounding' | 'NOT equivalent' | 'within the requested budget';

export interface ModelErrorStats {
  /** max |x − ref64| over finite elements. */
  maxError: number;
  meanError: number;
  /** 10·log10(Σ ref² / Σ (x − ref)²); null when the error is exactly 0 (infinite SQNR). */
  sqnrDb: number | null;
}

export interface OutputJudgement {
  name: string;
  dtype: string;
  /** Elements judged (0 for an output whose shape or type differs). */
  compared: number;
  exact: boolean;
  /** max |ref64| (finite elements). */
  scale: number;
  /** Spacing of the output's float type at `scale`. */
  ulp: number;
  /** The largest e_b allowed: K·maxError(A) + C·ulp, or the user's max error. */
  budget: number;
  a: ModelErrorStats;
  b: ModelErrorStats;
  /** Elements of B over the budget (or non-finite where A is not). */
  exceeding: number;
  /** Elements non-finite in one model but not the other (NaN = NaN, ±Inf distinct): not in a/b's errors, which cover finite elements only. */
  nonFinite: number;
  firstExceeding: { index: number; ref: number | string; a: number | string; b: number | string; errorA: number | null; errorB: number | null } | null;
  pass: boolean;
  reason: string | null;
}

export interface ReferenceJudgement {
  /** 'reference': ref64 decided; 'fixed-tolerance': the reference could not run (see `unavailable`). */
  basis: 'reference' | 'fixed-tolerance';
  /** Why the reference could not be used (names the node), when it could not. */
  unavailable: { node: string; op: string | null; reason: string } | null;
  rule: { k: number; ulps: number; text: string; maxError: number | null; minSqnrDb: number | null };
  outputs: OutputJudgement[];
  /** Time of the float64 evaluation. */
  ms: number;
}

const jsonNum = (x: number): number | string => (Number.isFinite(x) ? x : String(x));

/** Spacing of a float type at magnitude `x` (float32 unless told otherwise). */
export function ulpAt(x: number, dtype: DataType = DataType.FLOAT): number {
  const mant = dtype === DataType.DOUBLE ? 52 : dtype === DataType.FLOAT16 ? 10 : dtype === DataType.BFLOAT16 ? 7 : 23;
  const minExp = dtype === DataType.DOUBLE ? -1022 : dtype === DataType.FLOAT16 ? -14 : -126;
  const e = x > 0 && Number.isFinite(x) ? Math.max(Math.floor(Math.log2(x)), minExp) : minExp;
  return 2 ** (e - mant);
}

function floats(t: Tensor): Float64Array | Float32Array {
  if (t.dtype === DataType.FLOAT) return t.toArray() as Float32Array;
  return t.toFloat64();
}

function stats(err: Float64Array, refSq: number, n: number): ModelErrorStats {
  let mx = 0;
  let sum = 0;
  let sq = 0;
  for (let i = 0; i < n; i++) {
    const e = err[i]!;
    if (e > mx) mx = e;
    sum += e;
    sq += e * e;
  }
  return { maxError: mx, meanError: n > 0 ? sum / n : 0, sqnrDb: sq === 0 ? null : refSq === 0 ? -Infinity : 10 * Math.log10(refSq / sq) };
}

/**
 * Judges one output of A and B against ref64. `budgetOverride` (a user's max error) replaces the
 * K·e_a + C·ulp budget.
 */
export function judgeOutput(name: string, ref: ReferenceValue | undefined, a: Tensor, b: Tensor, options: { maxError?: number; minSqnrDb?: number } = {}): OutputJudgement {
  const r: OutputJudgement = {
    name,
    dtype: dataTypeName(a.dtype),
    compared: 0,
    exact: isExactType(a.dtype),
    scale: 0,
    ulp: 0,
    budget: 0,
    a: { maxError: 0, meanError: 0, sqnrDb: null },
    b: { maxError: 0, meanError: 0, sqnrDb: null },
    exceeding: 0,
    nonFinite: 0,
    firstExceeding: null,
    pass: false,
    reason: null,
  };
  if (a.dtype !== b.dtype || a.dims.length !== b.dims.length || a.dims.some((d, i) => d !== b.dims[i])) {
    r.reason = `A is ${dataTypeName(a.dtype)}[${a.dims.join(',')}] but B is ${dataTypeName(b.dtype)}[${b.dims.join(',')}]`;
    return r;
  }
  if (ref === undefined) {
    r.reason = 'the reference produced no value for this output';
    return r;
  }
  if (ref.dims.length !== a.dims.length || ref.dims.some((d, i) => d !== a.dims[i])) {
    r.reason = `the reference gives shape [${ref.dims.join(',')}] but the models give [${a.dims.join(',')}]`;
    return r;
  }
  const n = a.size;
  r.compared = n;
  if (r.exact) {
    // Integers, bool, string: B must equal A exactly (and the reference is reported, not used).
    const va = a.dtype === DataType.STRING ? a.texts() : (a.toArray() as ArrayLike<unknown>);
    const vb = b.dtype === DataType.STRING ? b.texts() : (b.toArray() as ArrayLike<unknown>);
    for (let i = 0; i < n; i++) {
      if (va[i] !== vb[i]) {
        if (r.exceeding === 0) r.firstExceeding = { index: i, ref: String((ref.data as ArrayLike<unknown>)[i]), a: String(va[i]), b: String(vb[i]), errorA: null, errorB: null };
        r.exceeding++;
      }
    }
    r.pass = r.exceeding === 0;
    if (!r.pass) r.reason = `${r.exceeding} of ${n} elements differ (compared exactly)`;
    return r;
  }
  const rv = ref.data instanceof Float64Array ? ref.data : null;
  if (rv === null) {
    r.reason = 'the reference value is not floating point';
    return r;
  }
  const va = floats(a);
  const vb = floats(b);
  const ea = new Float64Array(n);
  const eb = new Float64Array(n);
  let finite = 0;
  let refSq = 0;
  let scale = 0;
  // Pass 1: errors where everything is finite; non-finite elements compared as values.
  const nonFiniteBad: number[] = [];
  for (let i = 0; i < n; i++) {
    const x = rv[i]!;
    const p = va[i]!;
    const q = vb[i]!;
    if (x - x === 0 && p - p === 0 && q - q === 0) {
      ea[finite] = Math.abs(p - x);
      eb[finite] = Math.abs(q - x);
      finite++;
      refSq += x * x;
      if (Math.abs(x) > scale) scale = Math.abs(x);
      continue;
    }
    const same = (p !== p && q !== q) || p === q;
    if (!same) nonFiniteBad.push(i);
  }
  r.scale = scale;
  r.ulp = ulpAt(scale, a.dtype);
  r.a = stats(ea, refSq, finite);
  r.b = stats(eb, refSq, finite);
  const userBudget = options.maxError;
  r.budget = userBudget ?? REFERENCE_RULE.k * r.a.maxError + REFERENCE_RULE.ulps * r.ulp;
  // Pass 2: find B's elements over the budget (in element order).
  let j = 0;
  let firstBad = -1;
  let badCount = 0;
  for (let i = 0; i < n; i++) {
    const x = rv[i]!;
    const p = va[i]!;
    const q = vb[i]!;
    if (x - x === 0 && p - p === 0 && q - q === 0) {
      if (eb[j]! > r.budget) {
        badCount++;
        if (firstBad < 0) firstBad = i;
      }
      j++;
    }
  }
  for (const i of nonFiniteBad) if (firstBad < 0 || i < firstBad) firstBad = i;
  r.exceeding = badCount + nonFiniteBad.length;
  r.nonFinite = nonFiniteBad.length;
  if (firstBad >= 0) {
    const x = rv[firstBad]!;
    const p = va[firstBad]!;
    const q = vb[firstBad]!;
    const fin = (v: number): number | null => (Number.isFinite(v) ? v : null);
    r.firstExceeding = { index: firstBad, ref: jsonNum(x), a: jsonNum(p), b: jsonNum(q), errorA: fin(Math.abs(p - x)), errorB: fin(Math.abs(q - x)) };
  }
  const sqnrFail = options.minSqnrDb !== undefined && r.b.sqnrDb !== null && r.b.sqnrDb < options.minSqnrDb;
  // --min-sqnr alone accepts an approximation by its SQNR: the rounding budget is then reported,
  // not applied (it would reject every approximation); non-finite mismatches still fail.
  const elementRule = userBudget !== undefined || options.minSqnrDb === undefined;
  r.pass = (elementRule ? r.exceeding === 0 : nonFiniteBad.length === 0) && !sqnrFail;
  if (!r.pass) {
    if (sqnrFail) r.reason = `B's SQNR against float64 is ${r.b.sqnrDb!.toFixed(1)} dB, under the requested ${options.minSqnrDb} dB`;
    else if (nonFiniteBad.length > 0 && badCount === 0) r.reason = `${nonFiniteBad.length} of ${n} elements are non-finite in one model but not the other (NaN = NaN, ±Inf distinct)`;
    else
      r.reason = `${r.exceeding} of ${n} elements of B are further from float64 than the budget ${fmt(r.budget)} (${userBudget !== undefined ? 'the requested max error' : `${REFERENCE_RULE.k}× A's max error ${fmt(r.a.maxError)} + ${REFERENCE_RULE.ulps} ulp ${fmt(r.ulp)}`}); B's max error ${fmt(r.b.maxError)}`;
  }
  return r;
}

const fmt = (x: number): string => (x === 0 ? '0' : x.toExponential(2));

export function ruleText(options: { maxError?: number; minSqnrDb?: number } = {}): string {
  const parts: string[] = [];
  if (options.maxError !== undefined) parts.push(`|b − ref64| ≤ ${options.maxError} (requested)`);
  else parts.push(`|b − ref64| ≤ ${REFERENCE_RULE.k}·max|a − ref64| + ${REFERENCE_RULE.ulps} ulp(max|ref64|) per element`);
  if (options.minSqnrDb !== undefined) parts.push(`SQNR(b) ≥ ${options.minSqnrDb} dB (requested)${options.maxError === undefined ? '; the per-element budget is shown, not applied' : ''}`);
  return parts.join('; ');
}

/**
 * Combines the per-output judgements with the fixed-tolerance comparison into one verdict.
 * `fixed` are the fp32-tolerance comparisons of the same outputs (compare.ts).
 */
export function verdictOf(fixed: { equivalent: boolean; reason: string | null; outputs: readonly TensorComparison[]; compared: number }, judged: readonly OutputJudgement[] | null, user: boolean): { verdict: Verdict; equivalent: boolean; reason: string | null } {
  // No outputs, or an output missing, is never a pass, whatever the basis. Outputs that are all
  // empty (every shape agrees, zero elements) are identical: the fixed comparison says so.
  if (fixed.outputs.length === 0) return { verdict: 'NOT equivalent', equivalent: false, reason: fixed.reason ?? 'nothing compared' };
  if (fixed.compared === 0) return fixed.equivalent ? { verdict: 'equivalent', equivalent: true, reason: null } : { verdict: 'NOT equivalent', equivalent: false, reason: fixed.reason ?? 'nothing compared' };
  if (judged === null) return fixed.equivalent ? { verdict: 'equivalent', equivalent: true, reason: null } : { verdict: 'NOT equivalent', equivalent: false, reason: fixed.reason };
  const bad = judged.find((o) => !o.pass);
  if (bad !== undefined || judged.length === 0) return { verdict: 'NOT equivalent', equivalent: false, reason: bad ? `output '${bad.name}': ${bad.reason}` : 'nothing compared' };
  if (user) return { verdict: 'within the requested budget', equivalent: true, reason: null };
  return fixed.equivalent ? { verdict: 'equivalent', equivalent: true, reason: null } : { verdict: 'equivalent within float32 rounding', equivalent: true, reason: null };
}
