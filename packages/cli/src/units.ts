/**
 * Units, one convention for the whole CLI and the HTML report:
 *
 * - **Bytes of files and memory are binary**: B, KiB, MiB, GiB, TiB (1 KiB = 1024 B), three
 *   significant digits — 102440608 → "97.7 MiB", 1536 → "1.5 KiB". Files, peak memory, bytes
 *   saved, limits (`--max-tensor-bytes 512MiB`) all use it.
 * - The exception is the analysis table of `@onnxkit/passes` (`formatBytes`), which prints the
 *   lecture's metrics — model size, peak memory — in SI units as the lecture does
 *   (243.8 MB = 243,818,624 B), with the exact byte count beside them; it never comes from here.
 */

const BINARY = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];

/** Bytes in binary units with three significant digits: 102440608 → "97.7 MiB". */
export function fmtBytes(n: number | null | undefined): string {
  if (n === null || n === undefined) return '—';
  if (!Number.isFinite(n)) return String(n);
  let v = n;
  let u = 0;
  while (Math.abs(v) >= 1024 && u < BINARY.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${Math.round(v)} B` : `${Number(v.toPrecision(3))} ${BINARY[u]}`;
}

/** A byte change with its sign: −7.96 KiB, +1 MiB, ±0 B. */
export function fmtBytesDelta(n: number): string {
  return n === 0 ? '±0 B' : `${n < 0 ? '−' : '+'}${fmtBytes(Math.abs(n))}`;
}
