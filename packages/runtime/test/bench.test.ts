// Benchmarks, profiles and calibration: structure and invariants only (counts, order of
// percentiles, batch binding, per-node names mapped back to the model) — never timing
// thresholds.
import { readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { describe, expect, test } from 'vitest';
import { DataType, GraphBuilder, Tensor } from '@onnxkit/graph';
import { analyzeModel, parseDeviceProfile } from '@onnxkit/passes';
import { benchModel, benchPair, calibrate, CONFIDENCE_LEVEL, formatSpeedup, medianInterval, pairedP50, ratioStats, withNoiseFloor, compareWithRoofline, createSession, parseProfile, syntheticInputs, type LatencyStats } from '@onnxkit/runtime';
import { convnet, floats, mlp, workerRecordingSessions } from './helpers.js';

function ordered(l: LatencyStats): void {
  expect(l.minMs).toBeGreaterThanOrEqual(0);
  expect(l.minMs).toBeLessThanOrEqual(l.p50Ms);
  expect(l.p50Ms).toBeLessThanOrEqual(l.p90Ms);
  expect(l.p90Ms).toBeLessThanOrEqual(l.p99Ms);
  expect(l.p99Ms).toBeLessThanOrEqual(l.maxMs);
  expect(l.meanMs).toBeGreaterThanOrEqual(l.minMs);
  expect(l.meanMs).toBeLessThanOrEqual(l.maxMs);
}

describe('benchModel', () => {
  test('warm-up plus N timed runs, ordered percentiles, throughput = batch × runs / time', async () => {
    const progress: string[] = [];
    const r = await benchModel(mlp(), { warmup: 2, iterations: 9, onProgress: (p) => progress.push(`${p.phase}:${p.done}/${p.total}`) });
    expect(r.iterations).toBe(9);
    expect(r.samplesMs).toHaveLength(9);
    expect(r.warmup).toBe(2);
    expect(r.threads).toBe(1);
    expect(r.graphOptimizationLevel).toBe('all');
    ordered(r.latency);
    const total = r.samplesMs.reduce((s, x) => s + x, 0);
    expect(r.throughput).toBeCloseTo((1 * 9 * 1000) / total, 6);
    expect(r.batch).toEqual({ size: 1, symbolic: true, note: null });
    expect(progress).toEqual(['load:0/1', 'warmup:1/2', 'warmup:2/2', ...Array.from({ length: 9 }, (_, i) => `run:${i + 1}/9`)]);
  });

  test('a symbolic batch dim is bound by batch; throughput counts every sample', async () => {
    const r = await benchModel(mlp(), { warmup: 0, iterations: 3, batch: 8 });
    expect(r.batch).toEqual({ size: 8, symbolic: true, note: null });
    const total = r.samplesMs.reduce((s, x) => s + x, 0);
    expect(r.throughput).toBeCloseTo((8 * 3 * 1000) / total, 6);
  });

  test('a symbolic batch bound by dimValues or inputShapes is the batch counted (not 1)', async () => {
    // Before: batch.size 1 whatever was fed, so `bench --dim N=8` reported an 8× too low throughput.
    for (const synthetic of [{ dimValues: { N: 8 } }, { inputShapes: { x: [8, 4] } }]) {
      const r = await benchModel(mlp(), { warmup: 0, iterations: 3, synthetic });
      expect(r.batch).toEqual({ size: 8, symbolic: true, note: null });
      expect(r.inputShapes).toEqual({ x: [8, 4] });
      const total = r.samplesMs.reduce((s, x) => s + x, 0);
      expect(r.throughput).toBeCloseTo((8 * 3 * 1000) / total, 6);
    }
    const p = await benchPair(mlp({ name: 'a' }), mlp({ name: 'b' }), { warmup: 0, iterations: 2, synthetic: { dimValues: { N: 5 } } });
    expect([p.a.batch.size, p.b.batch.size]).toEqual([5, 5]);
  });

  test('dynamic dims past the batch that nothing binds are named as timed at 1', async () => {
    const b = new GraphBuilder({ name: 'dyn', opset: 17 });
    const x = b.input('x', DataType.FLOAT, ['N', 'C', null]);
    b.output(b.op('Relu', [x]), 'y');
    const m = b.build();
    const r = await benchModel(m, { warmup: 0, iterations: 1 });
    expect(r.inputShapes).toEqual({ x: [1, 1, 1] });
    expect(r.defaultedDims).toEqual(['x[1] (C)', 'x[2]']);
    const p = await benchPair(m, m, { warmup: 0, iterations: 1 });
    expect([p.a.defaultedDims, p.b.defaultedDims]).toEqual([['x[1] (C)', 'x[2]'], ['x[1] (C)', 'x[2]']]);
    const bound = await benchModel(m, { warmup: 0, iterations: 1, synthetic: { dimValues: { C: 3 }, inputShapes: {} } });
    expect(bound.defaultedDims).toEqual(['x[2]']);
    const pinned = await benchModel(m, { warmup: 0, iterations: 1, synthetic: { inputShapes: { x: [2, 3, 5] } } });
    expect(pinned.defaultedDims).toEqual([]);
    expect(pinned.batch.size).toBe(2);
    expect((await benchModel(mlp(), { warmup: 0, iterations: 1 })).defaultedDims).toEqual([]);
  });

  test('a static batch dim cannot change, and the result says so', async () => {
    const r = await benchModel(mlp({ batch: 2 }), { warmup: 0, iterations: 2, batch: 8 });
    expect(r.batch.size).toBe(2);
    expect(r.batch.symbolic).toBe(false);
    expect(r.batch.note).toBe("batch cannot change: input 'x' has a static leading dim 2");
  });

  test('an existing session is used as is and not released', async () => {
    const s = await createSession(mlp(), { intraOpNumThreads: 2 });
    try {
      const r = await benchModel(s, { warmup: 1, iterations: 3, inputs: syntheticInputs(s, { dimValues: { N: 3 } }) });
      expect(r.threads).toBe(2);
      expect(r.graphOptimizationLevel).toBe('disabled');
      expect((await s.run({ x: Tensor.fromArray(DataType.FLOAT, [1, 4], floats(4, 1)) })).size).toBe(1);
    } finally {
      await s.release();
    }
  });

  test('bad counts are refused', async () => {
    await expect(benchModel(mlp(), { iterations: 0 })).rejects.toThrow(/iterations must be an integer >= 1, got 0/);
    await expect(benchModel(mlp(), { warmup: -1 })).rejects.toThrow(/warmup must be/);
  });
});

describe('benchPair', () => {
  test('A and B interleaved on the same inputs, with per-pair ratio statistics', async () => {
    const r = await benchPair(mlp({ name: 'a' }), convnetLike(), { warmup: 1, iterations: 11 });
    expect(r.a.iterations).toBe(11);
    expect(r.b.iterations).toBe(11);
    ordered(r.a.latency);
    ordered(r.b.latency);
    expect(r.ratio.p10).toBeLessThanOrEqual(r.ratio.median);
    expect(r.ratio.median).toBeLessThanOrEqual(r.ratio.p90);
    // The median of per-pair ratios is one of the pairs' ratios (odd count).
    const ratios = r.a.samplesMs.map((x, i) => r.b.samplesMs[i]! / x);
    expect(ratios.some((x) => Math.abs(x - r.ratio.median) < 1e-9)).toBe(true);
    expect(r.p50Ratio).toBeCloseTo(r.b.latency.p50Ms / r.a.latency.p50Ms, 9);
    expect(r.ratio.ci.low).toBeLessThanOrEqual(r.ratio.median);
    expect(r.ratio.ci.high).toBeGreaterThanOrEqual(r.ratio.median);
    expect(r.ratio.ci.level).toBeGreaterThanOrEqual(0.95);
  });
});

describe('a difference is claimed only beyond what separates A from itself', () => {
  // Two sessions of one model differ systematically (memory placement, thread scheduling): on a
  // busy 2-core machine MobileNetV2 0.35 against its own copy gave ×0.642 (95% CI ×0.573–×0.728),
  // "model.onnx is faster" than itself.
  const around = (c: number, spread: number) => Array.from({ length: 30 }, (_, i) => c + ((i - 15) * spread) / 15);
  test('B/A must lie beyond the band [1/floor, floor] the control (a second session of A) spans', () => {
    const b = ratioStats(around(0.95, 0.01)); // alone: faster
    expect(b.verdict).toBe('faster');
    const wide = withNoiseFloor(b, ratioStats(around(1.0, 0.2)));
    expect(wide.noiseFloor).toBeGreaterThan(1.05);
    expect(wide.verdict).toBe('same');
    const tight = withNoiseFloor(b, ratioStats(around(1.0, 0.01)));
    expect(tight.noiseFloor).toBeLessThan(1.02);
    expect(tight.verdict).toBe('faster');
    expect(withNoiseFloor(ratioStats(around(1.1, 0.01)), ratioStats(around(1.0, 0.01))).verdict).toBe('slower');
    // A control offset from 1 widens the band on both sides (the offset is the sessions', not the models').
    expect(withNoiseFloor(b, ratioStats(around(1.06, 0.005))).verdict).toBe('same');
    // Too few control pairs: no floor can be stated, so no claim.
    const few = withNoiseFloor(b, ratioStats([1, 1, 1]));
    expect(few).toMatchObject({ noiseFloor: Infinity, verdict: 'same' });
    expect(formatSpeedup(tight, 30)).toMatch(/; A against a second session of A: within ×0\.9\d\d–×1\.0\d\d\)$/);
    expect(formatSpeedup(few, 30)).toMatch(/A against a second session of A: too few pairs\)$/);
  });

  test('benchPair times the control by default; not with control: false or when A is the caller\'s session', async () => {
    const r = await benchPair(mlp({ name: 'a' }), convnetLike(), { warmup: 0, iterations: 7 });
    expect(r.ratio.noiseFloor).toBeGreaterThanOrEqual(1);
    expect(Number.isFinite(r.ratio.noiseFloor)).toBe(true);
    const off = await benchPair(mlp({ name: 'a' }), convnetLike(), { warmup: 0, iterations: 7, control: false });
    expect(off.ratio.noiseFloor).toBeUndefined();
    const { worker, sent } = workerRecordingSessions();
    try {
      const given = await createSession(mlp({ name: 'a' }), { worker });
      const before = sent.length;
      const mine = await benchPair(given, convnetLike(), { warmup: 0, iterations: 3, sessionOptions: { worker } });
      expect(mine.ratio.noiseFloor).toBeUndefined();
      expect(sent.length - before).toBe(1); // B only
      // With the model A was made from (verify --bench passes it), the control is made with A's options.
      const at = sent.length;
      const withModel = await benchPair(given, convnetLike(), { warmup: 0, iterations: 7, controlModel: mlp({ name: 'a' }), sessionOptions: { worker } });
      expect(Number.isFinite(withModel.ratio.noiseFloor)).toBe(true);
      expect(sent.slice(at)).toHaveLength(2); // B and the control
      expect(sent[at + 1]).toMatchObject({ intraOpNumThreads: given.options.intraOpNumThreads, graphOptimizationLevel: given.options.graphOptimizationLevel, enableProfiling: false });
      await given.release();
      // The control is made as A is: profiled when A is (a profiled A against an unprofiled
      // control measured the profiler: a band of ×0.88–×1.13 that hid a real ×0.90).
      const from = sent.length;
      const profiled = await benchPair(mlp({ name: 'a' }), convnetLike(), { warmup: 0, iterations: 3, profile: true, sessionOptions: { worker } });
      expect(profiled.a.profile).toBeDefined();
      expect(sent.slice(from)).toHaveLength(3);
      for (const o of sent.slice(from)) expect(o).toMatchObject({ enableProfiling: true });
    } finally {
      await worker.terminate();
    }
  });
});

describe('threads that busy-wait between turns', () => {
  // With more than one intra-op thread, onnxruntime's pool spins after a run; in an interleaved
  // pair the idle session's spinning thread took a core from the other one's run (zoo MobileNetV2,
  // --threads 2 on 2 shared cores: p50 13–34 ms and a 95% interval ×0.70–×1.15 for a model against
  // its own copy, instead of 5 ms and ±2 %).
  test('benchPair creates its sessions without spinning and says so; benchModel keeps the default of onnxruntime', async () => {
    const { worker, sent } = workerRecordingSessions();
    try {
      const r = await benchPair(mlp({ name: 'a' }), mlp({ name: 'b' }), { warmup: 0, iterations: 2, threads: 2, sessionOptions: { worker } });
      expect([r.a.allowSpinning, r.b.allowSpinning, r.a.threads]).toEqual([false, false, 2]);
      expect(sent).toHaveLength(3); // A, B and the control (a second session of A)
      for (const o of sent) expect(o).toMatchObject({ intraOpNumThreads: 2, extra: { session: { intra_op: { allow_spinning: '0' } } } });
      const one = await benchModel(mlp(), { warmup: 0, iterations: 1, threads: 2, sessionOptions: { worker } });
      expect(one.allowSpinning).toBe(true);
      expect(sent).toHaveLength(4);
      expect((sent[3] as { extra?: unknown }).extra).toBeUndefined();
    } finally {
      await worker.terminate();
    }
  });
});

describe('one way to state a speed-up (issue 16.5)', () => {
  test('the interval is always called 95%, its exact coverage kept apart', () => {
    for (const n of [6, 10, 20, 50, 51]) {
      const r = ratioStats(Array.from({ length: n }, (_, i) => 0.9 + i / 1000));
      expect(r.ci.level).toBe(CONFIDENCE_LEVEL);
      expect(r.ci.level).toBe(0.95);
      expect(r.ci.coverage).toBeGreaterThanOrEqual(0.95);
      expect(r.ci.reached).toBe(true);
      expect(formatSpeedup(r, n)).toMatch(new RegExp(`^×0\\.9\\d\\d \\(95% CI ×[\\d.]+–×[\\d.]+, median of ${n} interleaved pair ratios\\)$`));
      expect(r.definition).toMatch(/median over interleaved pairs/);
    }
    const few = ratioStats([0.9, 0.91, 0.92]);
    expect(few.ci).toMatchObject({ level: 0.95, reached: false });
    expect(few.verdict).toBe('same');
    expect(formatSpeedup(few, 3)).toContain('too few pairs (3) for a 95% interval');
  });

  test('p50s printed with the speed-up agree with it, or say why not', () => {
    const r = ratioStats([0.88, 0.89, 0.9, 0.9, 0.91, 0.92, 0.93]);
    expect(pairedP50(10, 9, r)).toEqual({ aMs: 10, bMs: 10 * r.median, bMeasuredMs: 9, consistent: true });
    expect(pairedP50(10, 10.5, r).consistent).toBe(false);
  });
});

describe('ratio statistics', () => {
  // Expected ranks and coverages from exact binomial sums: coverage(k) = 1 − 2·Σ_{j<k} C(n,j)/2^n,
  // the largest k with coverage ≥ 0.95.
  test.each([
    // n, k (1-based rank of the lower bound), coverage
    [6, 1, 0.96875],
    [10, 2, 0.978515625],
    [20, 6, 0.9586105346679688],
    [50, 18, 0.9671608624],
  ])('n = %i: from the rank-%i order statistic from each end, coverage %f', (n, k, coverage) => {
    const sorted = Array.from({ length: n }, (_, i) => i + 1);
    const ci = medianInterval(sorted, 0.95);
    expect(ci.low).toBe(k);
    expect(ci.high).toBe(n + 1 - k);
    expect(ci.level).toBeCloseTo(coverage, 4);
  });

  test('too few pairs to reach 95%: min to max, with the real (lower) coverage', () => {
    const ci = medianInterval([1, 2, 3, 4, 5], 0.95);
    expect(ci).toEqual({ low: 1, high: 5, level: 1 - 2 / 32 });
  });

  test('the verdict needs the whole interval on one side of 1', () => {
    const around = (c: number) => Array.from({ length: 30 }, (_, i) => c + (i - 15) * 0.001);
    expect(ratioStats(around(0.9)).verdict).toBe('faster');
    expect(ratioStats(around(1.1)).verdict).toBe('slower');
    expect(ratioStats(around(1.003)).verdict).toBe('same'); // ±0.015 of noise around a 0.3% difference
    expect(ratioStats([0.5, 0.6, 0.7, 0.8, 0.9]).verdict).toBe('same'); // 5 pairs: 94% at best, no claim
  });
});

/** The MLP interface with a different body (so A and B really differ). */
function convnetLike() {
  const b = new GraphBuilder({ name: 'b' });
  const x = b.input('x', DataType.FLOAT, ['N', 4]);
  const h = b.op('Tanh', [b.op('MatMul', [x, b.floats('W', [4, 3], floats(12, 4))])]);
  b.output(h, 'z', { kind: 'tensor', elemType: DataType.FLOAT, shape: ['N', 3] });
  return b.build();
}

describe('profiling', () => {
  test('per-node and per-op summaries, names mapped back to the model, trace file removed', async () => {
    const model = convnet();
    const traces = () => [...readdirSync(tmpdir()).filter((f) => f.startsWith('onnxkit-profile-')), ...readdirSync(process.cwd()).filter((f) => /profile.*\.json$|^ort_.*\.json$/.test(f))];
    const before = traces();
    const r = await benchModel(model, { warmup: 1, iterations: 4, profile: true, graphOptimizationLevel: 'disabled' });
    expect(traces()).toEqual(before);
    const p = r.profile!;
    expect(p.runs).toBe(5); // warm-up runs are profiled too
    const names = model.graph.nodes.map((n) => n.name);
    expect(p.byNode.map((s) => s.node)).toEqual(names);
    expect(p.byNode.map((s) => s.opType)).toEqual(model.graph.nodes.map((n) => n.opType));
    for (const s of p.byNode) {
      expect(s.calls).toBe(5);
      expect(s.meanUs).toBeCloseTo(s.totalUs / 5, 9);
      expect(s.provider).toBe('CPUExecutionProvider');
    }
    expect(p.unmapped).toBe(0);
    const conv = p.byOpType.find((o) => o.opType === 'Conv')!;
    expect(conv.nodes).toBe(2);
    expect(conv.calls).toBe(10);
    expect(p.kernelUs).toBeCloseTo(p.byNode.reduce((s, x) => s + x.totalUs, 0), 6);
    const pct = p.byNode.reduce((s, x) => s + x.percent, 0);
    expect(pct).toBeGreaterThan(0);
    expect(pct).toBeLessThanOrEqual(100.0001);
    for (let i = 1; i < p.byOpType.length; i++) expect(p.byOpType[i - 1]!.totalUs).toBeGreaterThanOrEqual(p.byOpType[i]!.totalUs);
  });

  test('unnamed nodes map back by index when optimizations are off', async () => {
    const b = new GraphBuilder({ name: 'unnamed' });
    const x = b.input('x', DataType.FLOAT, [4]);
    b.output(b.op('Neg', [b.op('Relu', [x])]), 'y', { kind: 'tensor', elemType: DataType.FLOAT, shape: [4] });
    const m = b.build();
    for (const n of m.graph) n.name = '';
    const s = await createSession(m, { enableProfiling: true });
    try {
      await s.run({ x: Tensor.fromNumbers(DataType.FLOAT, [4], [1, -2, 3, -4]) });
      const p = await s.endProfiling();
      expect(p.byNode.map((n) => [n.name, n.node, n.nodeIndex])).toEqual([
        ['Relu_0', 'Relu_0', 0],
        ['Neg_1', 'Neg_1', 1],
      ]);
      await expect(s.endProfiling()).rejects.toThrow(/profiling was not enabled/);
    } finally {
      await s.release();
    }
  });

  test('parseProfile refuses a non-array and ignores foreign events', () => {
    expect(() => parseProfile({})).toThrow(/expected a JSON array/);
    const p = parseProfile([{ cat: 'Session', name: 'model_run', dur: 100 }, { cat: 'Node', name: 'a_kernel_time', dur: 40, args: { op_name: 'Relu' } }, { cat: 'Node', name: 'a_fence_before', dur: 1 }, null, 5]);
    expect(p.runs).toBe(1);
    expect(p.byNode).toEqual([{ name: 'a', opType: 'Relu', node: null, nodeIndex: null, provider: '', calls: 1, totalUs: 40, meanUs: 40, minUs: 40, percent: 40 }]);
  });

  test('measured vs roofline per layer, matched by node name', async () => {
    const model = convnet();
    const analysis = analyzeModel(model, { device: 'raspberry-pi-4' });
    const r = await benchModel(model, { warmup: 0, iterations: 3, profile: true, graphOptimizationLevel: 'disabled' });
    const cmp = compareWithRoofline(r.profile!, analysis);
    expect(cmp.rows.map((x) => x.name)).toEqual(analysis.layers.map((l) => l.name));
    expect(cmp.unmatchedLayers).toEqual([]);
    expect(cmp.unmatchedNodes).toEqual([]);
    for (const row of cmp.rows) {
      const layer = analysis.layers.find((l) => l.name === row.name)!;
      const node = r.profile!.byNode.find((n) => n.node === row.name)!;
      expect(row.measuredUs).toBeCloseTo(node.totalUs / r.profile!.runs, 9);
      if (layer.latency !== null && layer.latency > 0) {
        expect(row.estimatedUs).toBeCloseTo(layer.latency * 1e6, 9);
        expect(row.ratio).toBeCloseTo(row.measuredUs! / row.estimatedUs!, 9);
      }
    }
  });
});

describe('calibrate', () => {
  test('returns a local device profile the analysis package accepts', async () => {
    const phases: string[] = [];
    const p = await calibrate({
      threads: 1,
      matmulSizes: [64, 128],
      kernels: [
        { op: 'Conv', kernel: 3, cin: 16, cout: 16, hw: 14 },
        { op: 'Gemm', m: 32, k: 64, n: 64 },
      ],
      minTimeMs: 20,
      minRuns: 3,
      copyBytes: 4 * 2 ** 20,
      copies: 3,
      workingSets: [32 * 2 ** 10],
      maxRounds: 3,
      onProgress: (e) => phases.push(e.phase),
    });
    expect(p.id).toBe('local');
    expect(p.peakFlops.fp32).toBeGreaterThan(0);
    expect(Number.isFinite(p.peakFlops.fp32)).toBe(true);
    expect(p.memoryBandwidth).toBeGreaterThan(0);
    expect(p.details.matmul.map((m) => m.n)).toEqual([64, 128]);
    // Each kernel's rate is its work over its fastest call in onnxruntime's profile.
    for (const m of p.details.matmul) {
      expect(m.runs).toBeGreaterThanOrEqual(3);
      expect(m.flops).toBeCloseTo((2 * m.n ** 3) / (m.bestMs / 1000), 3);
    }
    // Conv- and GEMM-shaped kernels too (FLOPs as the analysis counts them); the peak is the best of all kernels.
    expect(p.details.kernels.map((k) => k.kernel)).toEqual(['Conv 3x3 1x16x14x14 -> 16 + Relu', 'Gemm 32x64 * 64x64 + bias']);
    expect(p.details.kernels[0]!.flops).toBeCloseTo((2 * 16 * 16 * 9 * 14 * 14 + 2 * 16 * 14 * 14) / (p.details.kernels[0]!.bestMs / 1000), 3);
    expect(p.details.kernels[1]!.flops).toBeCloseTo((2 * 32 * 64 * 64 + 32 * 64) / (p.details.kernels[1]!.bestMs / 1000), 3);
    expect(p.peakFlops.fp32).toBe(Math.max(...p.details.matmul.map((m) => m.flops), ...p.details.kernels.map((k) => k.flops)));
    // Bandwidth: the fastest copy; a level's bytes are the copy's working set (source + destination).
    expect(p.memoryBandwidth).toBeCloseTo((2 * p.details.copy.bytes) / (p.details.copy.bestMs / 1000), 3);
    expect(p.memoryHierarchy.map((h) => h.bytes)).toEqual([64 * 2 ** 10, 8 * 2 ** 20]);
    expect(p.memoryHierarchy[0]!.bandwidth).toBeGreaterThanOrEqual(p.memoryHierarchy[1]!.bandwidth);
    // Repeated until settled (or maxRounds), the spread and the load recorded.
    for (const m of [...p.details.matmul, ...p.details.kernels]) expect(m.spread).toBeGreaterThanOrEqual(0);
    expect(p.threads).toBe(1);
    expect(typeof p.load.busy).toBe('boolean');
    expect(p.load.busy).toBe(p.load.maxSpread > 0.05 || p.load.loadAverage > Math.max(0, p.load.cores - 1) + 0.5);
    expect(phases).toEqual(['matmul', 'bandwidth']);
    const parsed = parseDeviceProfile(JSON.parse(JSON.stringify(p)));
    expect(parsed).toMatchObject({ id: 'local', peakFlops: { fp32: p.peakFlops.fp32 }, memoryBandwidth: p.memoryBandwidth, method: p.method, threads: 1, memoryHierarchy: p.memoryHierarchy });
    // Hierarchical roofline: a small layer's bytes move at the cache level's bandwidth.
    const small = analyzeModel(mlp(), { device: parsed });
    expect(small.device.memoryHierarchy).toEqual(p.memoryHierarchy);
  });
});
