// Streaming calibration statistics, and ranges collected through real onnxruntime.
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cloneModel, DataType, Tensor } from '@onnxkit/graph';
import { calibrateRanges, checkPercentile, encodeNpy, encodeNpz, klThreshold, listSamples, measureAccuracy, readSamples, referenceRuns, shutdownRuntime, syntheticSamples, TensorStatistics, VerifyError } from '../src/index.js';
import { convnet, floats } from './helpers.js';

afterAll(() => shutdownRuntime());

function gaussian(n: number, seed: number): Float32Array {
  const u = floats(2 * n, seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.sqrt(-2 * Math.log(u[2 * i]! + 0.5 + 1e-9)) * Math.cos(2 * Math.PI * (u[2 * i + 1]! + 0.5));
  return out;
}

describe('TensorStatistics', () => {
  it('min/max are exact and independent of how the data is split', () => {
    const x = gaussian(10_000, 1);
    const whole = new TensorStatistics(true);
    whole.add(x);
    const parts = new TensorStatistics(true);
    for (let i = 0; i < 10; i++) parts.add(x.subarray(i * 1000, (i + 1) * 1000));
    let lo = Infinity;
    let hi = -Infinity;
    for (const v of x) {
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
    }
    expect(whole.range('minmax')).toEqual({ min: lo, max: hi });
    expect(parts.range('minmax')).toEqual({ min: lo, max: hi });
    expect(parts.count).toBe(10_000);
    expect(parts.hist!.reduce((a, b) => a + b, 0)).toBe(10_000);
  });

  it('a first batch with no finite value (all NaN or −∞) leaves the histogram to the batches after it', () => {
    const x = gaussian(1000, 3);
    for (const first of [Float32Array.from([Number.NaN, Number.NaN]), Float32Array.from([-Infinity])]) {
      const s = new TensorStatistics(true);
      s.add(first);
      s.add(x);
      const clean = new TensorStatistics(true);
      clean.add(x);
      expect(s.absRange).toBe(clean.absRange);
      expect(s.range('percentile', 99.9)).toEqual(clean.range('percentile', 99.9));
      expect(s.range('entropy')).toEqual(clean.range('entropy'));
    }
  });

  it('doubling the histogram range merges bins exactly (counts land in the right halves)', () => {
    const s = new TensorStatistics(true, 8);
    s.add(Float32Array.from([-1, -0.5, 0.25, 0.9]));
    expect(s.absRange).toBe(1);
    s.add(Float32Array.from([3.5]));
    expect(s.absRange).toBe(4);
    // 16 bins over [-4, 4): width 0.5.
    const nonzero = [...s.hist!.entries()].filter(([, c]) => c > 0).map(([b, c]) => [s.edge(b), c]);
    expect(nonzero).toEqual([[-1, 1], [-0.5, 1], [0, 1], [0.5, 1], [3.5, 1]]);
  });

  it('percentile clips the tails and never widens the observed range', () => {
    const x = gaussian(200_000, 2);
    const s = new TensorStatistics(true);
    s.add(x);
    const r = s.range('percentile', 99.9);
    // ±3.29σ for a two-sided 99.9 % interval.
    expect(r.max).toBeGreaterThan(3.0);
    expect(r.max).toBeLessThan(3.6);
    expect(r.min).toBeLessThan(-3.0);
    expect(r.min).toBeGreaterThan(-3.6);
    expect(s.range('percentile', 100)).toEqual({ min: expect.closeTo(s.min, 2), max: expect.closeTo(s.max, 2) });
    expect(() => checkPercentile(0)).toThrow(/percentile/);
    expect(() => checkPercentile(100.5)).toThrow(/percentile/);
    expect(() => checkPercentile(Number.NaN)).toThrow(/percentile/);
  });

  it('entropy keeps the whole range of a uniform distribution and clips a long tail', () => {
    const flat = new Float64Array(2048).fill(100);
    expect(klThreshold(flat, 128)).toBeGreaterThan(1900);
    // Relu of a Gaussian plus rare far outliers: the threshold sits well inside the max.
    const x = gaussian(100_000, 3).map((v) => Math.max(0, v));
    x[5] = 40;
    const s = new TensorStatistics(true);
    s.add(x);
    const r = s.range('entropy');
    expect(r.min).toBe(0);
    expect(r.max).toBeGreaterThan(2);
    expect(r.max).toBeLessThan(20);
  });
});

describe('calibrateRanges (onnxruntime)', () => {
  it('minmax ranges cover every sample (graph inputs from the feeds, intermediates from onnxruntime)', async () => {
    const m = convnet();
    const samples = [...syntheticSamples(m, 3, 5)];
    const r = await calibrateRanges(m, samples, { tensors: ['x', 'relu1_output_0', 'conv2_output_0'] });
    expect(r.samples).toBe(3);
    expect(r.missing).toEqual([]);
    let lo = Infinity;
    let hi = -Infinity;
    for (const s of samples) {
      for (const v of s.get('x')!.toArray() as Float32Array) {
        lo = Math.min(lo, v);
        hi = Math.max(hi, v);
      }
    }
    expect(r.ranges.get('x')).toEqual({ min: lo, max: hi });
    expect(r.ranges.get('relu1_output_0')!.min).toBe(0);
    expect(r.ranges.get('relu1_output_0')!.max).toBeGreaterThan(0);
    const c2 = r.ranges.get('conv2_output_0')!;
    expect(c2.min).toBeLessThan(0);
    expect(c2.max).toBeGreaterThan(0);
  });

  it('reports tensors that do not exist', async () => {
    const m = convnet();
    const r = await calibrateRanges(m, syntheticSamples(m, 1), { tensors: ['nope'] });
    expect(r.missing).toEqual(['nope']);
  });
});

describe('measureAccuracy with cached reference runs', () => {
  it('gives the same report as running the reference, and refuses runs of other samples', async () => {
    const ref = convnet();
    const other = cloneModel(ref);
    const w = other.graph.initializers.get('conv2.weight')!;
    const data = Float32Array.from(w.constValue!.toArray() as Float32Array, (v, i) => v * (1 + 0.01 * Math.sin(i)));
    w.constValue = Tensor.fromArray(DataType.FLOAT, w.constValue!.dims, data);
    const samples = [...syntheticSamples(ref, 3, 9)];
    const fresh = await measureAccuracy(ref, other, samples);
    const cached = await measureAccuracy(ref, other, samples, { referenceRuns: await referenceRuns(ref, samples) });
    expect(fresh.overall.sqnrDb).toBeGreaterThan(20);
    expect(fresh.overall.sqnrDb).toBeLessThan(80);
    expect(cached).toEqual(fresh);
    const two = await referenceRuns(ref, samples.slice(0, 2));
    await expect(measureAccuracy(ref, other, samples, { referenceRuns: two })).rejects.toThrow(VerifyError);
    await expect(measureAccuracy(ref, other, samples, { referenceRuns: two })).rejects.toThrow(/2 run\(s\) for 3 sample/);
  });
});

describe('calibration samples', () => {
  it('reads a folder of .npy/.npz files and sub-folders, and globs', () => {
    const dir = mkdtempSync(join(tmpdir(), 'onnxkit-calib-'));
    const t = Tensor.fromArray(DataType.FLOAT, [1, 3, 8, 8], floats(192, 1));
    writeFileSync(join(dir, 'a.npy'), encodeNpy(t));
    writeFileSync(join(dir, 'b.npz'), encodeNpz(new Map([['x', t]])));
    writeFileSync(join(dir, 'notes.txt'), 'ignored');
    mkdirSync(join(dir, 'c'));
    writeFileSync(join(dir, 'c', 'x.npy'), encodeNpy(t));
    const samples = listSamples(dir);
    expect(samples.map((s) => s.map((f) => f.slice(dir.length + 1)))).toEqual([['a.npy'], ['b.npz'], ['c/x.npy']]);
    expect(listSamples(join(dir, '*.np?'))).toHaveLength(2);
    const feeds = [...readSamples(samples, convnet())];
    expect(feeds).toHaveLength(3);
    expect(feeds[1]!.get('x')!.dims).toEqual([1, 3, 8, 8]);
    expect(() => listSamples(join(dir, 'missing'))).toThrow(/does not exist/);
    expect(() => listSamples(join(dir, '*.pb'))).toThrow(/matches no file/);
  });
});
