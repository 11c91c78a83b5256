/**
 * Number formatting for the static parts of the report, locale-fixed (en-US) so the same data
 * renders the same bytes on every machine: thousands separators, SI suffixes for counts,
 * binary units for bytes, and durations.
 */
import type { ReportDim } from './types.js';

const DASH = '—';

const grouping = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });

/** 25557032 → "25,557,032"; null → "—". */
export function fmtInt(n: number | null | undefined): string {
  if (n === null || n === undefined) return DASH;
  if (!Number.isFinite(n)) return String(n);
  return grouping.format(Math.round(n));
}

/** A number with up to `digits` significant decimals: 0.4991 → "0.499", 61.29 → "61.3". */
export function fmtNum(n: number | null | undefined, digits = 3): string {
  if (n === null || n === undefined) return DASH;
  if (!Number.isFinite(n)) return String(n);
  if (n === 0) return '0';
  const a = Math.abs(n);
  if (a >= 1000) return fmtInt(n);
  if (a < 1e-3) return n.toExponential(2);
  return String(Number(n.toPrecision(digits)));
}

const SI = ['', 'K', 'M', 'G', 'T', 'P', 'E'];

/** Counts with SI suffixes: 4089184256 → "4.09 G"; `unit` is appended ("FLOP/s" → "5.3 TFLOP/s"). */
export function fmtSI(n: number | null | undefined, unit = ''): string {
  if (n === null || n === undefined) return DASH;
  if (!Number.isFinite(n)) return String(n);
  let v = n;
  let u = 0;
  while (Math.abs(v) >= 999.5 && u < SI.length - 1) {
    v /= 1000;
    u++;
  }
  const num = u === 0 && Number.isInteger(v) ? String(v) : String(Number(v.toPrecision(3)));
  const suffix = SI[u]! + unit;
  return suffix ? `${num} ${suffix}` : num;
}

// Bytes: one convention for the CLI and the report (binary units), defined in units.ts.
export { fmtBytes } from '../units.js';

/** Seconds as a human duration: 0.00278 → "2.78 ms", 4.45e-5 → "44.5 µs". */
export function fmtSeconds(s: number | null | undefined): string {
  if (s === null || s === undefined) return DASH;
  if (!Number.isFinite(s)) return String(s);
  if (s === 0) return '0';
  const a = Math.abs(s);
  if (a < 1e-6) return `${Number((s * 1e9).toPrecision(3))} ns`;
  if (a < 1e-3) return `${Number((s * 1e6).toPrecision(3))} µs`;
  if (a < 1) return `${Number((s * 1e3).toPrecision(3))} ms`;
  return `${Number(s.toPrecision(3))} s`;
}

export function fmtMs(ms: number | null | undefined): string {
  return ms === null || ms === undefined ? DASH : fmtSeconds(ms / 1000);
}

/** Signed relative change: (after − before) / before as "−12.3%"; "0%" when equal. */
export function fmtChange(before: number | null | undefined, after: number | null | undefined): string {
  if (before === null || before === undefined || after === null || after === undefined) return DASH;
  if (before === after) return '0%';
  if (before === 0) return after > 0 ? '+∞' : '−∞';
  const pct = ((after - before) / Math.abs(before)) * 100;
  const abs = Math.abs(pct);
  const digits = abs >= 10 ? 0 : abs >= 1 ? 1 : 2;
  const s = abs.toFixed(digits);
  if (Number(s) === 0) return pct > 0 ? '+<0.01%' : '−<0.01%';
  return `${pct > 0 ? '+' : '−'}${s}%`;
}

/** A signed integer with separators and a real minus sign: −318,720. */
export function fmtSignedInt(n: number): string {
  if (n === 0) return '0';
  return `${n > 0 ? '+' : '−'}${fmtInt(Math.abs(n))}`;
}

/** [1,64,112,112] → "1×64×112×112"; symbols kept; unknown dims "?"; unknown rank "?". */
export function fmtShape(shape: readonly ReportDim[] | null | undefined): string {
  if (shape === null || shape === undefined) return '?';
  if (shape.length === 0) return 'scalar';
  return shape.map((d) => (d === null ? '?' : String(d))).join('×');
}
