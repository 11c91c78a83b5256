/**
 * Formatting for the report, static parts and browser script alike (client/report.ts imports
 * this module; it must stay free of Node APIs): relative changes, signed counts and shapes here,
 * numbers, bytes and durations from units.ts.
 */
import type { ReportDim } from './types.js';

const DASH = '—';

// Numbers, bytes and durations: one convention for the CLI and the report, defined in units.ts
// (the report's browser script imports it too).
export { fmtBytes, fmtDb, fmtDuration, fmtInt, fmtSeconds, fmtSI, fmtSig } from '../units.js';
import { fmtInt } from '../units.js';

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
