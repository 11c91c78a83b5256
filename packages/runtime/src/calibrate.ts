/**
 * Calibration of this machine as a roofline device profile (the format of the analysis
 * package's device profiles; units: FLOP/s and bytes/s):
 *
 * - peak FP32: an onnxruntime MatMul of square float32 matrices (n = 1024 and 2048 by default),
 *   FLOPs = 2·n³ per run, graph optimizations on, `threads` intra-op threads; the best median
 *   over the sizes is reported (runs are timed inside the worker).
 * - memory bandwidth: copies of a large buffer (256 MiB by default, far beyond caches) with
 *   memcpy (Buffer.copy), counting bytes read plus bytes written, as STREAM's Copy kernel does;
 *   the median over repetitions is reported.
 *
 * Measurements take a few seconds and are noisy on a shared machine; `method` records what was
 * done so a profile can be reproduced.
 */
import { DataType, GraphBuilder, Tensor } from '@onnxkit/graph';
import { VerifyError } from './errors.js';
import { createSession } from './session.js';
import { Xoshiro128 } from './synthetic.js';

export interface CalibrateOptions {
  /** Intra-op threads for the MatMul (default 1). */
  threads?: number;
  /** Square MatMul sizes to try (default [1024, 2048]). */
  matmulSizes?: readonly number[];
  /** Minimum timed time per MatMul size, in ms (default 1500); at least `minRuns` runs. */
  minTimeMs?: number;
  minRuns?: number;
  /** Bytes per buffer for the bandwidth test (default 256 MiB). */
  copyBytes?: number;
  /** Buffer copies to time (default 10). */
  copies?: number;
  onProgress?: (p: { phase: 'matmul' | 'bandwidth'; message: string }) => void;
}

export interface CalibratedProfile {
  id: 'local';
  version: string;
  title: string;
  /** FLOP/s. */
  peakFlops: { fp32: number };
  /** Bytes/s (read + write). */
  memoryBandwidth: number;
  /** ISO timestamp. */
  measuredAt: string;
  method: string;
  source: string;
  details: {
    threads: number;
    matmul: { n: number; runs: number; medianMs: number; flops: number }[];
    copy: { bytes: number; copies: number; medianMs: number };
  };
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const n = s.length;
  return n === 0 ? 0 : n % 2 ? s[(n - 1) >> 1]! : (s[n / 2 - 1]! + s[n / 2]!) / 2;
}

async function matmulFlops(n: number, threads: number, minTimeMs: number, minRuns: number): Promise<{ n: number; runs: number; medianMs: number; flops: number }> {
  const rng = new Xoshiro128(1234, n);
  const w = new Float32Array(n * n);
  for (let i = 0; i < w.length; i++) w[i] = rng.nextFloat() - 0.5;
  const b = new GraphBuilder({ name: `calibrate-matmul-${n}`, opset: 17 });
  const x = b.input('x', DataType.FLOAT, [n, n]);
  b.output(b.op('MatMul', [x, b.constant('w', Tensor.fromArray(DataType.FLOAT, [n, n], w))]), 'y');
  const session = await createSession(b.build(), { intraOpNumThreads: threads, graphOptimizationLevel: 'all', label: `MatMul ${n}x${n}` });
  try {
    const feeds = new Map([['x', Tensor.fromArray(DataType.FLOAT, [n, n], w)]]);
    for (let i = 0; i < 2; i++) await session.runTimed(feeds);
    const samples: number[] = [];
    let total = 0;
    while (samples.length < minRuns || total < minTimeMs) {
      const ms = (await session.runTimed(feeds)).ms;
      samples.push(ms);
      total += ms;
      if (samples.length >= 1000) break;
    }
    const med = median(samples);
    return { n, runs: samples.length, medianMs: med, flops: (2 * n ** 3) / (med / 1000) };
  } finally {
    await session.release();
  }
}

function copyBandwidth(bytes: number, copies: number): { bytes: number; copies: number; medianMs: number } {
  const src = Buffer.alloc(bytes, 1);
  const dst = Buffer.alloc(bytes);
  src.copy(dst); // touch every page first
  const samples: number[] = [];
  for (let i = 0; i < copies; i++) {
    const t0 = performance.now();
    src.copy(dst);
    samples.push(performance.now() - t0);
  }
  return { bytes, copies, medianMs: median(samples) };
}

/** Measures this machine and returns a 'local' device profile. */
export async function calibrate(options: CalibrateOptions = {}): Promise<CalibratedProfile> {
  const threads = options.threads ?? 1;
  if (!Number.isInteger(threads) || threads < 1) throw new VerifyError(`threads must be a positive integer, got ${threads}`, { code: 'VERIFY_BAD_OPTION' });
  const sizes = options.matmulSizes ?? [1024, 2048];
  const matmul = [];
  for (const n of sizes) {
    options.onProgress?.({ phase: 'matmul', message: `MatMul ${n}x${n} on ${threads} thread(s)` });
    matmul.push(await matmulFlops(n, threads, options.minTimeMs ?? 1500, options.minRuns ?? 5));
  }
  options.onProgress?.({ phase: 'bandwidth', message: 'memory copy bandwidth' });
  const copy = copyBandwidth(options.copyBytes ?? 256 * 2 ** 20, options.copies ?? 10);
  const fp32 = matmul.reduce((best, m) => Math.max(best, m.flops), -Infinity);
  const bandwidth = (2 * copy.bytes) / (copy.medianMs / 1000);
  const measuredAt = new Date().toISOString();
  return {
    id: 'local',
    version: measuredAt.slice(0, 10),
    title: `This machine (calibrated, ${threads} thread${threads > 1 ? 's' : ''})`,
    peakFlops: { fp32 },
    memoryBandwidth: bandwidth,
    measuredAt,
    method:
      `peak fp32: onnxruntime-node CPU MatMul ${sizes.map((n) => `${n}x${n}`).join(' and ')}, 2n^3 FLOPs per run, median run time, best size, ${threads} intra-op thread(s); ` +
      `bandwidth: memcpy of ${copy.bytes} bytes, (read + write bytes) / median time over ${copy.copies} copies`,
    source: 'measured by onnxkit calibrate',
    details: { threads, matmul, copy },
  };
}
