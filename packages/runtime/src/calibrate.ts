/**
 * Calibration of this machine as a roofline device profile (the format of the analysis
 * package's device profiles; units: FLOP/s and bytes/s).
 *
 * The roofline estimate must be a lower bound of what onnxruntime measures, so every peak is
 * the best rate observed, never a typical one: a peak that onnxruntime's own kernels beat would
 * put the estimate above the measurement (issue 16). Hence:
 *
 * - peak FP32: onnxruntime's own kernels in the shapes the zoo CNNs run — 3×3 Convs at the four
 *   ResNet stages (64×56², 128×28², 256×14², 512×7²), 1×1 Convs expanding and reducing at several
 *   channel counts (ResNet bottlenecks, MobileNetV2's 96 → 576), each with the ReLU that
 *   onnxruntime fuses into it, a Gemm with bias and square MatMuls (n = 1024 by default) — all
 *   branches of one model run at graph optimization level `all` (so the Convs run as onnxruntime
 *   runs them in a model: NCHWc FusedConv) with `threads` intra-op threads, profiled: each
 *   kernel's time is its fastest single call in ORT's profile (its own kernel time, without the
 *   run's overhead or the layout reorders), and its FLOPs are counted as the analysis counts a
 *   layer (2·MACs + 1 per output for the bias add + 1 for the ReLU), so the rate is comparable.
 *   The peak is the best kernel's rate; each kernel's own rate is kept (`details.kernels`).
 *   Best-of, not median: a busy moment slows some calls, which lowers the estimate rather than
 *   raising it above a run.
 * - peak INT8: onnxruntime's MatMulInteger (uint8 × int8 → int32), fastest call, 2·n³ OPs.
 * - memory bandwidth by working-set size: memcpy (Buffer.copy) of buffers from L1-sized to far
 *   beyond caches, (read + write bytes) / fastest copy, as STREAM's Copy kernel counts; a level's
 *   `bytes` is the copy's working set (source + destination), the size a layer's bytes moved are
 *   compared with (a hierarchical roofline: a layer whose tensors fit in a cache is not bound by
 *   DRAM bandwidth). The largest is `memoryBandwidth`.
 * - every measurement is repeated in rounds until the spread of the round bests is small
 *   (≤ `maxSpread`, default 5%) or `maxRounds` is reached; the best round is kept, the spread is
 *   recorded, and `busy` says whether the machine looked loaded (load average, or a spread that
 *   never settled).
 *
 * `method` records what was done so a profile can be reproduced.
 */
import { availableParallelism, loadavg } from 'node:os';
import { DataType, GraphBuilder, Tensor, type Model, type Value } from '@onnxkit/graph';
import { RuntimeError, VerifyError } from './errors.js';
import { createSession } from './session.js';
import { Xoshiro128 } from './synthetic.js';

/** A kernel shape to time: a Conv (+ ReLU) on a 1×cin×hw×hw input, or a Gemm (with bias) of m×k by k×n. */
export type CalibrationKernelSpec = { op: 'Conv'; kernel: 1 | 3; cin: number; cout: number; hw: number } | { op: 'Gemm'; m: number; k: number; n: number };

/** The Conv and Gemm shapes timed by default (see the module header). */
export const DEFAULT_CALIBRATION_KERNELS: readonly CalibrationKernelSpec[] = Object.freeze([
  { op: 'Conv', kernel: 3, cin: 64, cout: 64, hw: 56 },
  { op: 'Conv', kernel: 3, cin: 128, cout: 128, hw: 28 },
  { op: 'Conv', kernel: 3, cin: 256, cout: 256, hw: 14 },
  { op: 'Conv', kernel: 3, cin: 512, cout: 512, hw: 7 },
  { op: 'Conv', kernel: 1, cin: 64, cout: 256, hw: 56 },
  { op: 'Conv', kernel: 1, cin: 256, cout: 64, hw: 56 },
  { op: 'Conv', kernel: 1, cin: 512, cout: 128, hw: 28 },
  { op: 'Conv', kernel: 1, cin: 1024, cout: 256, hw: 14 },
  { op: 'Conv', kernel: 1, cin: 2048, cout: 512, hw: 7 },
  { op: 'Conv', kernel: 1, cin: 96, cout: 576, hw: 14 },
  { op: 'Gemm', m: 256, k: 1024, n: 1024 },
] as const);

export interface CalibrateOptions {
  /** Intra-op threads for the kernels (default 1). */
  threads?: number;
  /** Square MatMul sizes to time (default [1024]). */
  matmulSizes?: readonly number[];
  /** Conv and Gemm shapes to time (default DEFAULT_CALIBRATION_KERNELS). */
  kernels?: readonly CalibrationKernelSpec[];
  /** Minimum timed time of the kernel model per round, in ms (default 400); at least `minRuns` runs. */
  minTimeMs?: number;
  minRuns?: number;
  /** Bytes per buffer of the largest (DRAM) copy (default 256 MiB). */
  copyBytes?: number;
  /** Copies of the largest buffer per round (default 10). */
  copies?: number;
  /** Largest acceptable spread (max − min) / median of the round bests (default 0.05). */
  maxSpread?: number;
  /** Most rounds per measurement (default 5). */
  maxRounds?: number;
  /** Buffer sizes of the smaller copies (cache levels; working set = 2 × buffer); default 16 KiB, 128 KiB, 1 MiB, 4 MiB, 12 MiB. */
  workingSets?: readonly number[];
  /** Only the MatMul sizes: no Conv/Gemm/int8 kernels (tests). */
  matmulOnly?: boolean;
  onProgress?: (p: { phase: 'matmul' | 'bandwidth'; message: string }) => void;
}

/** How busy the machine looked while calibrating. */
export interface CalibrationLoad {
  /** 1-minute load average before measuring, and the cores available. */
  loadAverage: number;
  cores: number;
  /** Largest spread of round bests over all measurements. */
  maxSpread: number;
  /** True when the load average leaves fewer free cores than threads, or a spread stayed above maxSpread. */
  busy: boolean;
  reason?: string;
}

/** One timed kernel: its fastest call in onnxruntime's profile and the rate that gives. */
export interface KernelTiming {
  /** Calls timed (over the kept round). */
  runs: number;
  /** Fastest kernel call, ms. */
  bestMs: number;
  /** Spread of the round bests. */
  spread: number;
}

export interface CalibratedProfile {
  id: 'local';
  version: string;
  title: string;
  /** FLOP/s; int8: OP/s of onnxruntime's MatMulInteger (uint8 × int8 → int32), the peak integer layers are timed at. */
  peakFlops: { fp32: number; int8?: number };
  /** Bytes/s (read + write) of the largest working set (DRAM). */
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
    matmul: (KernelTiming & { n: number; flops: number })[];
    kernels: (KernelTiming & { kernel: string; flops: number })[];
    /** The int8 MatMulInteger measurement (absent with matmulOnly). */
    int8?: KernelTiming & { n: number; ops: number };
    copy: { bytes: number; copies: number; bestMs: number; spread: number };
    /** `bytes`: working set (source + destination) of a copy of bytes / 2. */
    hierarchy: { bytes: number; copies: number; bestMs: number; bandwidth: number; spread: number }[];
  };
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const n = s.length;
  return n === 0 ? 0 : n % 2 ? s[(n - 1) >> 1]! : (s[n / 2 - 1]! + s[n / 2]!) / 2;
}

/** (max − min) / median. */
function spreadOf(xs: readonly number[]): number {
  if (xs.length < 2) return 0;
  return (xs.reduce((m, x) => Math.max(m, x), -Infinity) - xs.reduce((m, x) => Math.min(m, x), Infinity)) / median(xs);
}

function randomFloats(n: number, seed: number): Float32Array {
  const rng = new Xoshiro128(1234, seed);
  const w = new Float32Array(n);
  for (let i = 0; i < w.length; i++) w[i] = rng.nextFloat() - 0.5;
  return w;
}

/** One branch of the kernel model: the nodes whose profiled calls make up the kernel, and its work. */
export interface CalibrationBranch {
  /** 'fp32' (FLOPs), 'int8' (integer OPs). */
  kind: 'matmul' | 'kernel' | 'int8';
  label: string;
  /** MatMul / MatMulInteger size. */
  n?: number;
  /** Names of the model's nodes of this branch (ORT's fused node maps back to one of them). */
  nodes: string[];
  /** FLOPs (or integer OPs) of one call, counted as the analysis counts the layers. */
  work: number;
}

/**
 * The model every compute kernel of the calibration runs in: one independent branch per kernel
 * (its own input and output), so one session and one profile time them all. Exported for the
 * test that counts each branch's work with the analysis.
 */
export function calibrationModel(options: { matmulSizes: readonly number[]; kernels: readonly CalibrationKernelSpec[]; int8?: number }): { model: Model; feeds: Map<string, Tensor>; branches: CalibrationBranch[] } {
  const b = new GraphBuilder({ name: 'calibrate-kernels', opset: 17 });
  const feeds = new Map<string, Tensor>();
  const branches: CalibrationBranch[] = [];
  let seed = 1;
  const input = (name: string, dtype: DataType, shape: number[], data: Float32Array | Uint8Array): Value => {
    feeds.set(name, Tensor.fromArray(dtype, shape, data));
    return b.input(name, dtype, shape);
  };
  const floats = (shape: number[]): Tensor => Tensor.fromArray(DataType.FLOAT, shape, randomFloats(shape.reduce((x, y) => x * y, 1), seed++));
  options.matmulSizes.forEach((n, i) => {
    const name = `matmul${i}`;
    b.output(b.op('MatMul', [input(`x_${name}`, DataType.FLOAT, [n, n], randomFloats(n * n, seed++)), b.constant(`w_${name}`, floats([n, n]))], {}, { name }), `y_${name}`);
    branches.push({ kind: 'matmul', label: `MatMul ${n}x${n}`, n, nodes: [name], work: 2 * n ** 3 });
  });
  options.kernels.forEach((k, i) => {
    const name = `kernel${i}`;
    if (k.op === 'Conv') {
      const x = input(`x_${name}`, DataType.FLOAT, [1, k.cin, k.hw, k.hw], randomFloats(k.cin * k.hw * k.hw, seed++));
      const pad = (k.kernel - 1) / 2;
      const conv = b.op('Conv', [x, b.constant(`w_${name}`, floats([k.cout, k.cin, k.kernel, k.kernel])), b.constant(`b_${name}`, floats([k.cout]))], { kernel_shape: [k.kernel, k.kernel], pads: [pad, pad, pad, pad] }, { name });
      b.output(b.op('Relu', [conv], {}, { name: `${name}.relu` }), `y_${name}`);
      const out = k.cout * k.hw * k.hw;
      // 2·MACs, the bias add and the ReLU: 2·cout·cin·k²·hw² + 2·cout·hw².
      branches.push({ kind: 'kernel', label: `Conv ${k.kernel}x${k.kernel} 1x${k.cin}x${k.hw}x${k.hw} -> ${k.cout} + Relu`, nodes: [name, `${name}.relu`], work: 2 * out * k.cin * k.kernel * k.kernel + 2 * out });
    } else {
      const x = input(`x_${name}`, DataType.FLOAT, [k.m, k.k], randomFloats(k.m * k.k, seed++));
      b.output(b.op('Gemm', [x, b.constant(`w_${name}`, floats([k.k, k.n])), b.constant(`b_${name}`, floats([k.n]))], {}, { name }), `y_${name}`);
      branches.push({ kind: 'kernel', label: `Gemm ${k.m}x${k.k} * ${k.k}x${k.n} + bias`, nodes: [name], work: 2 * k.m * k.k * k.n + k.m * k.n });
    }
  });
  if (options.int8 !== undefined) {
    const n = options.int8;
    const rng = new Xoshiro128(1234, n + 8);
    const a = Uint8Array.from({ length: n * n }, () => Math.floor(rng.nextFloat() * 256));
    const w = Int8Array.from({ length: n * n }, () => Math.floor(rng.nextFloat() * 256) - 128);
    b.output(b.op('MatMulInteger', [input('x_int8', DataType.UINT8, [n, n], a), b.constant('w_int8', Tensor.fromArray(DataType.INT8, [n, n], w))], {}, { name: 'int8' }), 'y_int8');
    branches.push({ kind: 'int8', label: `MatMulInteger ${n}x${n}`, n, nodes: ['int8'], work: 2 * n ** 3 });
  }
  return { model: b.build(), feeds, branches };
}

/**
 * One round: a fresh profiled session of the kernel model at level `all`, run until minRuns and
 * minTimeMs; per branch, the sum of the fastest calls of its nodes (a lower bound of any one
 * call of the branch: the rate can only come out higher).
 */
async function kernelRound(model: Model, feeds: Map<string, Tensor>, branches: readonly CalibrationBranch[], threads: number, minTimeMs: number, minRuns: number): Promise<{ runs: number; bestMs: number[] }> {
  const session = await createSession(model, { intraOpNumThreads: threads, graphOptimizationLevel: 'all', enableProfiling: true, label: 'calibration kernels' });
  try {
    await session.runTimed(feeds);
    let runs = 0;
    let total = 0;
    while (runs < minRuns || total < minTimeMs) {
      total += (await session.runTimed(feeds)).ms;
      if (++runs >= 1000) break;
    }
    const profile = await session.endProfiling();
    const bestUs = new Map<string, number>();
    for (const s of profile.byNode) if (s.node !== null && s.calls > 0) bestUs.set(s.node, (bestUs.get(s.node) ?? 0) + s.minUs);
    // NaN: no profiled call maps back to the branch (another build of onnxruntime may name its fused nodes otherwise); it is left out.
    const bestMs = branches.map((br) => {
      const us = br.nodes.reduce((t, n) => t + (bestUs.get(n) ?? 0), 0);
      return us > 0 ? us / 1000 : NaN;
    });
    return { runs, bestMs };
  } finally {
    await session.release();
  }
}

/** Best (lowest) time of `copies` copies of `bytes` bytes repeated `reps` times. */
function copyBest(bytes: number, copies: number, reps: number): number {
  const src = Buffer.alloc(bytes, 1);
  const dst = Buffer.alloc(bytes);
  src.copy(dst); // touch every page first
  let best = Infinity;
  for (let i = 0; i < copies; i++) {
    const t0 = performance.now();
    for (let r = 0; r < reps; r++) src.copy(dst);
    best = Math.min(best, performance.now() - t0);
  }
  return best;
}

/** Repeats `round` (returning best times, lower is better) until the round bests agree within maxSpread; keeps the best per item. */
async function settle(round: () => Promise<number[]> | number[], maxSpread: number, maxRounds: number): Promise<{ best: number[]; spread: number[]; rounds: number }> {
  const rounds: number[][] = [];
  let spread: number[] = [];
  while (rounds.length < maxRounds) {
    rounds.push(await round());
    if (rounds.length >= 2) {
      spread = rounds[0]!.map((_, i) => spreadOf(rounds.map((r) => r[i]!)));
      // NaN (an item with no time) never holds the rounds up.
      if (spread.every((x) => !(x > maxSpread))) break;
    }
  }
  const best = rounds[0]!.map((_, i) => rounds.reduce((m, r) => Math.min(m, r[i]!), Infinity));
  return { best, spread: rounds.length >= 2 ? spread : best.map(() => 0), rounds: rounds.length };
}

/** Measures this machine and returns a 'local' device profile. */
export async function calibrate(options: CalibrateOptions = {}): Promise<CalibratedProfile> {
  const threads = options.threads ?? 1;
  if (!Number.isInteger(threads) || threads < 1) throw new VerifyError(`threads must be a positive integer, got ${threads}`, { code: 'VERIFY_BAD_OPTION' });
  const maxSpread = options.maxSpread ?? 0.05;
  const maxRounds = options.maxRounds ?? 5;
  const cores = availableParallelism();
  const loadAverage = loadavg()[0] ?? 0;
  const sizes = options.matmulSizes ?? [1024];
  const specs = options.matmulOnly ? [] : (options.kernels ?? DEFAULT_CALIBRATION_KERNELS);
  const int8Size = options.matmulOnly ? undefined : sizes.reduce((m, x) => Math.max(m, x), 0);
  const minTime = options.minTimeMs ?? 400;
  const minRuns = options.minRuns ?? 5;

  const suite = calibrationModel({ matmulSizes: sizes, kernels: specs, ...(int8Size !== undefined ? { int8: int8Size } : {}) });
  options.onProgress?.({ phase: 'matmul', message: `${suite.branches.map((b) => b.label.split(' ')[0]).filter((x, i, a) => a.indexOf(x) === i).join(', ')}: ${suite.branches.length} kernels on ${threads} thread(s)` });
  let runs = 0;
  const compute = await settle(
    async () => {
      const r = await kernelRound(suite.model, suite.feeds, suite.branches, threads, minTime, minRuns);
      runs += r.runs;
      return r.bestMs;
    },
    maxSpread,
    maxRounds,
  );
  const timing = (i: number): KernelTiming => ({ runs, bestMs: compute.best[i]!, spread: compute.spread[i]! });
  const rate = (i: number): number => suite.branches[i]!.work / (compute.best[i]! / 1000);
  const matmul: CalibratedProfile['details']['matmul'] = [];
  const kernels: CalibratedProfile['details']['kernels'] = [];
  let int8: CalibratedProfile['details']['int8'];
  suite.branches.forEach((br, i) => {
    if (!Number.isFinite(compute.best[i]!)) return;
    if (br.kind === 'matmul') matmul.push({ n: br.n!, ...timing(i), flops: rate(i) });
    else if (br.kind === 'kernel') kernels.push({ kernel: br.label, ...timing(i), flops: rate(i) });
    else int8 = { n: br.n!, ...timing(i), ops: rate(i) };
  });

  if (matmul.length + kernels.length === 0) {
    throw new RuntimeError(`calibration: onnxruntime's profile maps no kernel time back to the ${suite.branches.length} calibration kernels`, { model: 'calibration kernels', step: 'profile', hint: 'report this with your onnxruntime-node version' });
  }
  options.onProgress?.({ phase: 'bandwidth', message: 'memory copy bandwidth by working set' });
  const copyBytes = options.copyBytes ?? 256 * 2 ** 20;
  const copies = options.copies ?? 10;
  const buffers = (options.workingSets ?? [16 * 2 ** 10, 128 * 2 ** 10, 2 ** 20, 4 * 2 ** 20, 12 * 2 ** 20]).filter((x) => x < copyBytes);
  // Small buffers: many copies per timing so the timer's resolution does not dominate.
  const reps = buffers.map((bytes) => Math.max(1, Math.round((8 * 2 ** 20) / bytes)));
  const bw = await settle(() => [...buffers.map((bytes, i) => copyBest(bytes, 7, reps[i]!)), copyBest(copyBytes, copies, 1)], maxSpread, maxRounds);
  const hierarchy: CalibratedProfile['details']['hierarchy'] = buffers.map((bytes, i) => ({ bytes: 2 * bytes, copies: reps[i]!, bestMs: bw.best[i]!, bandwidth: (2 * bytes * reps[i]!) / (bw.best[i]! / 1000), spread: bw.spread[i]! }));
  const copy = { bytes: copyBytes, copies, bestMs: bw.best[buffers.length]!, spread: bw.spread[buffers.length]! };
  const bandwidth = (2 * copy.bytes) / (copy.bestMs / 1000);
  hierarchy.push({ bytes: 2 * copy.bytes, copies: copy.copies, bestMs: copy.bestMs, bandwidth, spread: copy.spread });
  // A smaller working set never reports less than a larger one (a noisy small copy must not make a cache look slower than DRAM).
  for (let i = hierarchy.length - 2; i >= 0; i--) hierarchy[i]!.bandwidth = Math.max(hierarchy[i]!.bandwidth, hierarchy[i + 1]!.bandwidth);

  const fp32 = [...matmul, ...kernels].reduce((m, k) => Math.max(m, k.flops), -Infinity);
  const spreads = [...compute.spread, ...bw.spread].filter((x) => Number.isFinite(x));
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
  const best = [...matmul.map((m) => ({ label: `MatMul ${m.n}x${m.n}`, flops: m.flops })), ...kernels.map((k) => ({ label: k.kernel, flops: k.flops }))].reduce((a, x) => (x.flops > a.flops ? x : a));
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
      `peak fp32: the best rate of onnxruntime-node CPU kernels at graph optimization level all, ${threads} intra-op thread(s) — ${[...matmul.map((m) => `MatMul ${m.n}x${m.n}`), ...kernels.map((k) => k.kernel)].join(', ')} — each timed by its fastest call in onnxruntime's profile, FLOPs counted as the analysis counts layers (2·MACs + bias + ReLU); best: ${best.label}; ` +
      (int8 ? `peak int8: onnxruntime-node CPU MatMulInteger uint8×int8 ${int8.n}x${int8.n}, 2·n³ OPs / fastest call; ` : '') +
      `bandwidth: memcpy, (read + write bytes) / fastest copy, by working set (source + destination) ${hierarchy.map((h) => h.bytes).join(', ')} bytes (the largest is DRAM); ` +
      `rounds repeated until their bests agree within ${(maxSpread * 100).toFixed(0)}%`,
    source: 'measured by onnxkit calibrate',
    details: { threads, matmul, kernels, ...(int8 ? { int8 } : {}), copy, hierarchy },
  };
}
