/**
 * Units and number formats, one module for the whole CLI, the HTML report and the report's
 * browser script (client/report.ts imports it; the build bundles it in, so it imports nothing
 * and touches no Node API). Locale-fixed (en-US) so the same data prints the same bytes on every
 * machine.
 *
 * - **Bytes of files and memory are binary**: B, KiB, MiB, GiB, TiB (1 KiB = 1024 B), three
 *   significant digits — 102440608 → "97.7 MiB", 1536 → "1.5 KiB". Files, peak memory, bytes
 *   saved, limits (`--max-tensor-bytes 512MiB`) all use it.
 * - The exception is the analysis table of `@onnxkit/passes` (`formatBytes`), which prints the
 *   lecture's metrics — model size, peak memory — in SI units as the lecture does
 *   (243.8 MB = 243,818,624 B), with the exact byte count beside them; it never comes from here.
 *   Energies are printed by passes' `formatJoules` (the report uses it too).
 * - **Counts** (MACs, FLOPs, parameters): SI prefixes with three significant digits and a space,
 *   4089184256 → "4.09 G", 724406816 → "724 M" (fmtSI); exact counts with separators (fmtInt).
 * - **Durations**: three significant digits in ns, µs, ms or s, then minutes (fmtDuration, from
 *   milliseconds; fmtSeconds from seconds).
 * - **Ratios in dB**: one decimal (fmtDb).
 *
 * "—" stands for a value that is not known (null or undefined).
 */

const DASH = '—';
const BINARY = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];

/** Three significant digits, no trailing zeros: 61.29 → "61.3", 0.4991 → "0.499". */
const sig3 = (v: number): string => String(Number(v.toPrecision(3)));

/** Bytes in binary units with three significant digits: 102440608 → "97.7 MiB". */
export function fmtBytes(n: number | null | undefined): string {
  if (n === null || n === undefined) return DASH;
  if (!Number.isFinite(n)) return String(n);
  let v = n;
  let u = 0;
  while (Math.abs(v) >= 1024 && u < BINARY.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${Math.round(v)} B` : `${sig3(v)} ${BINARY[u]}`;
}

/** A byte change with its sign: −7.96 KiB, +1 MiB, ±0 B. */
export function fmtBytesDelta(n: number): string {
  return n === 0 ? '±0 B' : `${n < 0 ? '−' : '+'}${fmtBytes(Math.abs(n))}`;
}

/** 60954656 → "60,954,656" (rounded); bigints exactly; null → "—". */
export function fmtInt(n: number | bigint | null | undefined): string {
  if (n === null || n === undefined) return DASH;
  if (typeof n === 'bigint') return groupThousands(String(n));
  if (!Number.isFinite(n)) return String(n);
  const r = Math.round(n);
  // toLocaleString's result, without its first call's ≈10 ms of ICU set-up (every command pays it).
  return Math.abs(r) < 1e21 && !Object.is(r, -0) ? groupThousands(String(r)) : r.toLocaleString('en-US');
}

/** "-1234567" → "-1,234,567" (decimal digits with an optional minus sign). */
function groupThousands(s: string): string {
  const sign = s.startsWith('-') ? '-' : '';
  const d = sign ? s.slice(1) : s;
  if (d.length <= 3) return s;
  let out = d.slice(0, d.length % 3 || 3);
  for (let i = out.length; i < d.length; i += 3) out += `,${d.slice(i, i + 3)}`;
  return sign + out;
}

/** A number with separators and at most `decimals` decimals (terminal tables): 1234.567 → "1,234.57". */
export function fmtNum(n: number, decimals = 2): string {
  return n.toLocaleString('en-US', { maximumFractionDigits: decimals, minimumFractionDigits: 0 });
}

/** A number with up to `digits` significant digits (report cells): 0.4991 → "0.499", 61.29 → "61.3"; from 1000 on, an integer with separators. */
export function fmtSig(n: number | null | undefined, digits = 3): string {
  if (n === null || n === undefined) return DASH;
  if (!Number.isFinite(n)) return String(n);
  if (n === 0) return '0';
  const a = Math.abs(n);
  if (a >= 1000) return fmtInt(n);
  if (a < 1e-3) return n.toExponential(2);
  return String(Number(n.toPrecision(digits)));
}

const SI = ['', 'K', 'M', 'G', 'T', 'P', 'E'];

/** Counts with SI prefixes: 4089184256 → "4.09 G"; `unit` is appended ("FLOP/s" → "5.3 TFLOP/s"). */
export function fmtSI(n: number | null | undefined, unit = ''): string {
  if (n === null || n === undefined) return DASH;
  if (!Number.isFinite(n)) return String(n);
  let v = n;
  let u = 0;
  while (Math.abs(v) >= 999.5 && u < SI.length - 1) {
    v /= 1000;
    u++;
  }
  const num = u === 0 && Number.isInteger(v) ? String(v) : sig3(v);
  const suffix = SI[u]! + unit;
  return suffix ? `${num} ${suffix}` : num;
}

/**
 * A duration given in milliseconds: three significant digits in ns, µs, ms or s
 * (0.0445 → "44.5 µs", 2.78 → "2.78 ms"), from a minute on minutes and seconds ("2 min 5 s").
 */
export function fmtDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return DASH;
  if (!Number.isFinite(ms)) return String(ms);
  if (ms === 0) return '0';
  const a = Math.abs(ms);
  if (a < 1e-3) return `${sig3(ms * 1e6)} ns`;
  if (a < 1) return `${sig3(ms * 1e3)} µs`;
  if (a < 1e3) return `${sig3(ms)} ms`;
  if (a < 60e3) return `${sig3(ms / 1e3)} s`;
  const s = Math.round(a / 1e3);
  return `${ms < 0 ? '-' : ''}${Math.floor(s / 60)} min ${s % 60} s`;
}

/** A duration given in seconds (fmtDuration): 0.00278 → "2.78 ms". */
export function fmtSeconds(s: number | null | undefined): string {
  return s === null || s === undefined ? DASH : fmtDuration(s * 1e3);
}

/**
 * A ratio in decibels with one decimal, "31.2" (with `unit`, "31.2 dB"); an infinite ratio (no
 * error at all: null in JSON, or Infinity) is "∞", its negative "-∞".
 */
export function fmtDb(x: number | null | undefined, { unit = false }: { unit?: boolean } = {}): string {
  if (x === null || x === undefined || x === Infinity) return '∞';
  if (x === -Infinity) return '-∞';
  return unit ? `${x.toFixed(1)} dB` : x.toFixed(1);
}
