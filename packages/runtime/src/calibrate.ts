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
 * - conv- and GEMM-shaped kernels as well (a ResNet 3×3 Conv, a Gemm with bias): the peak is the
 *   best of all kernels, each kernel's own rate is kept (`details.kernels`);
 * - bandwidth by working-set size (32 KiB … 256 MiB): a layer whose tensors fit in a cache is not
 *   bound by DRAM bandwidth — the analysis uses `memoryHierarchy` for a hierarchical roofline;
 * - every measurement is repeated in rounds until the spread of the round medians is small
 *   (≤ `maxSpread`, default 5%) or `maxRounds` is reached; the spread is recorded, and
 *   `busy` says whether the machine looked loaded (load average, or a spread that never settled).
 *
 * `method` records what was done so a profile can be reproduced.
 */
import { availableParallelism, loadavg } from 'node:os';
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
  /** Largest acceptable spread (max − min) / median of the round medians (default 0.05). */
  maxSpread?: number;
  /** Most rounds per measurement (default 5). */
  maxRounds?: number;
  /** Working-set sizes for the bandwidth hierarchy (default 32 KiB, 256 KiB, 4 MiB, 256 MiB). */
  workingSets?: readonly number[];
  /** Skip the conv/GEMM kernels (tests). */
  matmulOnly?: boolean;
  onProgress?: (p: { phase: 'matmul' | 'bandwidth'; message: string }) => void;
}

/** How busy the machine looked while calibrating. */
export interface CalibrationLoad {
  /** 1-minute load average before measuring, and the cores available. */
  loadAverage: number;
  cores: number;
  /** Largest spread of round medians over all measurements. */
  maxSpread: number;
  /** True when the load average leaves fewer free cores than threads, or a spread stayed above maxSpread. */
  busy: boolean;
  reason?: string;
}

export interface CalibratedProfile {
  id: 'local';
  version: string;
  title: string;
  /** FLOP/s; int8: OP/s of onnxruntime's MatMulInteger (uint8 × int8 → int32), the peak integer layers are timed at. */
  peakFlops: { fp32: number; int8?: number };
  /** Bytes/s (read + write). */
  memoryBandwidth: number;
  /** ISO timestamp. */
  measuredAt: string;
  method: string;
  source: string;
  /** Bandwidth by working-set size (ascending): the hierarchical roofline's memory levels. */
  memoryHierarchy: { bytes: number; bandwidth: number }[];
  /** The intra-op threads measured with (bench and analyze --device local should use the same). */
  threads: number;
  load: CalibrationLoad;
  details: {
    threads: number;
    matmul: { n: number; runs: number; medianMs: number; flops: number; spread: number }[];
    kernels: { kernel: string; runs: number; medianMs: number; flops: number; spread: number }[];
    /** The int8 MatMulInteger measurement (absent with matmulOnly). */
    int8?: { n: number; runs: number; medianMs: number; ops: number; spread: number };
    copy: { bytes: number; copies: number; medianMs: number; spread: number };
    hierarchy: { bytes: number; copies: number; medianMs: number; bandwidth: number; spread: number }[];
  };
}

/** Repeats `round` (which returns a median) until the round medians agree within maxSpread. */
async function settle<T extends { medianMs: number }>(round: () => Promise<T> | T, maxSpread: number, maxRounds: number): Promise<T & { spread: number }> {
  const rounds: T[] = [];
  let spread = Infinity;
  while (rounds.length < maxRounds) {
    rounds.push(await round());
    if (rounds.length >= 2) {
      const ms = rounds.map((r) => r.medianMs);
      spread = (ms.reduce((m, x) => Math.max(m, x), -Infinity) - ms.reduce((m, x) => Math.min(m, x), Infinity)) / median(ms);
      if (spread <= maxSpread) break;
    }
  }
  const best = rounds.reduce((a, b) => (b.medianMs < a.medianMs ? b : a));
  return { ...best, spread: rounds.length >= 2 ? spread : 0 };
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const n = s.length;
  return n === 0 ? 0 : n % 2 ? s[(n - 1) >> 1]! : (s[n / 2 - 1]! + s[n / 2]!) / 2;
}

function randomFloats(n: number, seed: number): Float32Array {
  const rng = new Xoshiro128(1234, seed);
  const w = new Float32Array(n);
  for (let i = 0; i < w.length; i++) w[i] = rng.nextFloat() - 0.5;
  return w;
}

async function matmulFlops(n: number, threads: number, minTimeMs: number, minRuns: number): Promise<{ n: number; runs: number; medianMs: number; flops: number }> {
  const w = randomFloats(n * n, n);
  const b = new GraphBuilder({ name: `calibrate-matmul-${n}`, opset: 17 });
  const x = b.input('x', DataType.FLOAT, [n, n]);
  b.output(b.op('MatMul', [x, b.constant('w', Tensor.fromArray(DataType.FLOAT, [n, n], w))]), 'y');
  const r = await timeSession(b.build(), new Map([['x', Tensor.fromArray(DataType.FLOAT, [n, n], w)]]), threads, minTimeMs, minRuns, `MatMul ${n}x${n}`);
  return { n, runs: r.runs, medianMs: r.medianMs, flops: (2 * n ** 3) / (r.medianMs / 1000) };
}

/** Int8 peak: MatMulInteger of a uint8 [n, n] activation and an int8 [n, n] constant weight, 2·n³ OPs. */
async function matmulIntegerOps(n: number, threads: number, minTimeMs: number, minRuns: number): Promise<{ n: number; runs: number; medianMs: number; ops: number }> {
  const rng = new Xoshiro128(1234, n + 8);
  const a = Uint8Array.from({ length: n * n }, () => Math.floor(rng.nextFloat() * 256));
  const w = Int8Array.from({ length: n * n }, () => Math.floor(rng.nextFloat() * 256) - 128);
  const b = new GraphBuilder({ name: `calibrate-matmulinteger-${n}`, opset: 17 });
  const x = b.input('x', DataType.UINT8, [n, n]);
  b.output(b.op('MatMulInteger', [x, b.constant('w', Tensor.fromArray(DataType.INT8, [n, n], w))]), 'y');
  const r = await timeSession(b.build(), new Map([['x', Tensor.fromArray(DataType.UINT8, [n, n], a)]]), threads, minTimeMs, minRuns, `MatMulInteger ${n}x${n}`);
  return { n, runs: r.runs, medianMs: r.medianMs, ops: (2 * n ** 3) / (r.medianMs / 1000) };
}

/** A ResNet-stage 3×3 Conv (1×128×28×28 → 128) and a Gemm with bias (256×1024 · 1024×1024). */
async function kernelFlops(kernel: 'conv3x3' | 'gemm', threads: number, minTimeMs: number, minRuns: number): Promise<{ kernel: string; runs: number; medianMs: number; flops: number }> {
  const b = new GraphBuilder({ name: `calibrate-${kernel}`, opset: 17 });
  if (kernel === 'conv3x3') {
    const [c, hw] = [128, 28];
    const x = b.input('x', DataType.FLOAT, [1, c, hw, hw]);
    b.output(b.op('Conv', [x, b.constant('w', Tensor.fromArray(DataType.FLOAT, [c, c, 3, 3], randomFloats(c * c * 9, 3))), b.constant('b', Tensor.fromArray(DataType.FLOAT, [c], randomFloats(c, 4)))], { kernel_shape: [3, 3], pads: [1, 1, 1, 1] }), 'y');
    const r = await timeSession(b.build(), new Map([['x', Tensor.fromArray(DataType.FLOAT, [1, c, hw, hw], randomFloats(c * hw * hw, 5))]]), threads, minTimeMs, minRuns, 'Conv 3x3');
    return { kernel: `Conv 3x3 1x${c}x${hw}x${hw} -> ${c}`, runs: r.runs, medianMs: r.medianMs, flops: (2 * c * 9 * hw * hw * c) / (r.medianMs / 1000) };
  }
  const [m, k, n] = [256, 1024, 1024];
  const x = b.input('x', DataType.FLOAT, [m, k]);
  b.output(b.op('Gemm', [x, b.constant('w', Tensor.fromArray(DataType.FLOAT, [k, n], randomFloats(k * n, 6))), b.constant('b', Tensor.fromArray(DataType.FLOAT, [n], randomFloats(n, 7)))]), 'y');
  const r = await timeSession(b.build(), new Map([['x', Tensor.fromArray(DataType.FLOAT, [m, k], randomFloats(m * k, 8))]]), threads, minTimeMs, minRuns, 'Gemm');
  return { kernel: `Gemm ${m}x${k} * ${k}x${n} + bias`, runs: r.runs, medianMs: r.medianMs, flops: (2 * m * k * n) / (r.medianMs / 1000) };
}

async function timeSession(model: Parameters<typeof createSession>[0], feeds: Map<string, Tensor>, threads: number, minTimeMs: number, minRuns: number, label: string): Promise<{ runs: number; medianMs: number }> {
  const session = await createSession(model, { intraOpNumThreads: threads, graphOptimizationLevel: 'all', label });
  try {
    for (let i = 0; i < 2; i++) await session.runTimed(feeds);
    const samples: number[] = [];
    let total = 0;
    while (samples.length < minRuns || total < minTimeMs) {
      const ms = (await session.runTimed(feeds)).ms;
      samples.push(ms);
      total += ms;
      if (samples.length >= 1000) break;
    }
    return { runs: samples.length, medianMs: median(samples) };
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
  const maxSpread = options.maxSpread ?? 0.05;
  const maxRounds = options.maxRounds ?? 5;
  const cores = availableParallelism();
  const loadAverage = loadavg()[0] ?? 0;
  const sizes = options.matmulSizes ?? [1024, 2048];
  const minTime = (options.minTimeMs ?? 1500) / 3;
  const minRuns = options.minRuns ?? 5;
  const matmul = [];
  for (const n of sizes) {
    options.onProgress?.({ phase: 'matmul', message: `MatMul ${n}x${n} on ${threads} thread(s)` });
    matmul.push(await settle(() => matmulFlops(n, threads, minTime, minRuns), maxSpread, maxRounds));
  }
  const kernels = [];
  let int8: { n: number; runs: number; medianMs: number; ops: number; spread: number } | undefined;
  if (!options.matmulOnly) {
    const n = sizes.reduce((m, x) => Math.max(m, x), 0);
    // Part of the kernel phase (reported with conv3x3/gemm below), no progress event of its own.
    int8 = await settle(() => matmulIntegerOps(n, threads, minTime, minRuns), maxSpread, maxRounds);
    for (const k of ['conv3x3', 'gemm'] as const) {
      options.onProgress?.({ phase: 'matmul', message: `${k} on ${threads} thread(s)` });
      kernels.push(await settle(() => kernelFlops(k, threads, minTime, minRuns), maxSpread, maxRounds));
    }
  }
  options.onProgress?.({ phase: 'bandwidth', message: 'memory copy bandwidth by working set' });
  const copyBytes = options.copyBytes ?? 256 * 2 ** 20;
  const copy = await settle(() => copyBandwidth(copyBytes, options.copies ?? 10), maxSpread, maxRounds);
  const hierarchy = [];
  for (const bytes of (options.workingSets ?? [32 * 2 ** 10, 256 * 2 ** 10, 4 * 2 ** 20]).filter((x) => x < copyBytes)) {
    // Small buffers: many copies per timing so the timer's resolution does not dominate.
    const reps = Math.max(1, Math.round((8 * 2 ** 20) / bytes));
    const c = await settle(() => repeatedCopy(bytes, reps), maxSpread, maxRounds);
    hierarchy.push({ bytes, copies: reps, medianMs: c.medianMs, bandwidth: (2 * bytes * reps) / (c.medianMs / 1000), spread: c.spread });
  }
  const bandwidth = (2 * copy.bytes) / (copy.medianMs / 1000);
  hierarchy.push({ bytes: copy.bytes, copies: copy.copies, medianMs: copy.medianMs, bandwidth, spread: copy.spread });
  // A faster level never reports less than the next (a noisy small copy must not make a cache look slower than DRAM).
  for (let i = hierarchy.length - 2; i >= 0; i--) hierarchy[i]!.bandwidth = Math.max(hierarchy[i]!.bandwidth, hierarchy[i + 1]!.bandwidth);
  const fp32 = [...matmul, ...kernels].reduce((m, k) => Math.max(m, k.flops), -Infinity);
  const spreads = [...matmul, ...kernels, ...(int8 ? [int8] : []), copy, ...hierarchy].map((x) => x.spread);
  const worst = spreads.reduce((m, x) => Math.max(m, x), 0);
  const overloaded = loadAverage > Math.max(0, cores - threads) + 0.5;
  const unsettled = worst > maxSpread;
  const load: CalibrationLoad = {
    loadAverage,
    cores,
    maxSpread: worst,
    busy: overloaded || unsettled,
    ...(overloaded || unsettled
      ? { reason: [overloaded ? `load average ${loadAverage.toFixed(2)} on ${cores} core(s) leaves fewer than ${threads} free` : '', unsettled ? `timings did not settle (spread ${(worst * 100).toFixed(1)}% > ${(maxSpread * 100).toFixed(0)}%)` : ''].filter(Boolean).join('; ') }
      : {}),
  };
  const measuredAt = new Date().toISOString();
  return {
    id: 'local',
    version: measuredAt.slice(0, 10),
    title: `This machine (calibrated, ${threads} thread${threads > 1 ? 's' : ''})`,
    peakFlops: { fp32, ...(int8 ? { int8: int8.ops } : {}) },
    memoryBandwidth: bandwidth,
    memoryHierarchy: hierarchy.map((h) => ({ bytes: h.bytes, bandwidth: h.bandwidth })),
    threads,
    load,
    measuredAt,
    method:
      `peak fp32: best of onnxruntime-node CPU MatMul ${sizes.map((n) => `${n}x${n}`).join(' and ')}${kernels.length ? `, ${kernels.map((k) => k.kernel).join(', ')}` : ''}, median run time, rounds repeated until within ${(maxSpread * 100).toFixed(0)}%, ${threads} intra-op thread(s); ` +
      (int8 ? `peak int8: onnxruntime-node CPU MatMulInteger uint8×int8 ${int8.n}x${int8.n}, 2·n³ OPs / median time; ` : '') +
      `bandwidth: memcpy, (read + write bytes) / median time, by working set ${hierarchy.map((h) => h.bytes).join(', ')} bytes (the largest is DRAM)`,
    source: 'measured by onnxkit calibrate',
    details: { threads, matmul, kernels, ...(int8 ? { int8 } : {}), copy, hierarchy },
  };
}

function repeatedCopy(bytes: number, reps: number): { medianMs: number } {
  const src = Buffer.alloc(bytes, 1);
  const dst = Buffer.alloc(bytes);
  src.copy(dst);
  const samples: number[] = [];
  for (let i = 0; i < 7; i++) {
    const t0 = performance.now();
    for (let r = 0; r < reps; r++) src.copy(dst);
    samples.push(performance.now() - t0);
  }
  return { medianMs: median(samples) };
}
