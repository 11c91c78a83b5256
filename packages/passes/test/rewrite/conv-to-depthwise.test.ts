import { DataType, GraphBuilder, Tensor, type Model } from '@onnxkit/graph';
import { compareOutputs } from '@onnxkit/runtime';
import { jacobiEigen, thinSvd, type DecoupledLayer } from '@onnxkit/passes';
import { afterAll, describe, expect, it } from 'vitest';
import { closeWorker, equivalentAfter, f32, inputsFor, opTypes, ortRun, rnd, runPass, runTwice } from './helpers.js';

afterAll(closeWorker);

describe('svd (Jacobi on the Gram matrix)', () => {
  it('diagonalises a symmetric matrix: A·V = V·Λ and VᵀV = I', () => {
    const n = 6;
    const r = rnd(3);
    const B = Array.from({ length: n * n }, () => r(0));
    const A = new Float64Array(n * n);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) for (let k = 0; k < n; k++) A[i * n + j] += B[k * n + i]! * B[k * n + j]!;
    const { values, vectors: V } = jacobiEigen(A, n);
    for (let i = 0; i < n; i++) {
      for (let c = 0; c < n; c++) {
        let av = 0;
        for (let k = 0; k < n; k++) av += A[i * n + k]! * V[k * n + c]!;
        expect(av).toBeCloseTo(V[i * n + c]! * values[c]!, 9);
        let dot = 0;
        for (let k = 0; k < n; k++) dot += V[k * n + i]! * V[k * n + c]!;
        expect(dot).toBeCloseTo(i === c ? 1 : 0, 12);
      }
    }
  });

  it('reconstructs M exactly from all terms and matches known singular values', () => {
    // M = diag(3, 2, 1) stacked on a zero row, permuted columns: σ = 3, 2, 1.
    const M = new Float64Array([0, 3, 0, 2, 0, 0, 0, 0, 1, 0, 0, 0]);
    const { sigma, V, US } = thinSvd(M, 4, 3);
    expect([...sigma].map((s) => +s.toFixed(12))).toEqual([3, 2, 1]);
    const r = rnd(8);
    const big = Float64Array.from({ length: 20 * 9 }, () => r(0));
    const svd = thinSvd(big, 20, 9);
    for (let i = 0; i < 20; i++) {
      for (let j = 0; j < 9; j++) {
        let acc = 0;
        for (let t = 0; t < 9; t++) acc += svd.US[i * 9 + t]! * svd.V[j * 9 + t]!;
        expect(acc).toBeCloseTo(big[i * 9 + j]!, 12);
      }
    }
    for (let t = 1; t < 9; t++) expect(svd.sigma[t - 1]!).toBeGreaterThanOrEqual(svd.sigma[t]! - 1e-12);
    void V;
    void US;
  });

  it('truncation error equals the discarded singular values (Eckart–Young)', () => {
    const r = rnd(4);
    const M = Float64Array.from({ length: 12 * 9 }, () => r(0));
    const { sigma, V, US } = thinSvd(M, 12, 9);
    const R = 3;
    let err = 0;
    for (let i = 0; i < 12; i++) {
      for (let j = 0; j < 9; j++) {
        let acc = 0;
        for (let t = 0; t < R; t++) acc += US[i * 9 + t]! * V[j * 9 + t]!;
        err += (acc - M[i * 9 + j]!) ** 2;
      }
    }
    let tail = 0;
    for (let t = R; t < 9; t++) tail += sigma[t]! ** 2;
    expect(err).toBeCloseTo(tail, 10);
  });
});

function denseConv(opts: { cin: number; cout: number; group?: number; k?: number; blocks?: number; bias?: boolean; opset?: number }): Model {
  const { cin, cout, group = 1, k = 3 } = opts;
  const b = new GraphBuilder({ opset: opts.opset ?? 17 });
  const x = b.input('x', DataType.FLOAT, [1, cin, 7, 7]);
  const r = rnd(21);
  const cPerGroup = cin / group;
  const blocks = opts.blocks ?? 0;
  const w = f32([cout, cPerGroup, k, k], (i) => {
    if (!blocks) return r(0);
    const m = Math.floor(i / (cPerGroup * k * k));
    const j = Math.floor(i / (k * k)) % cPerGroup;
    const c = Math.floor(m / (cout / group)) * cPerGroup + j;
    // Zero outside the channel block-diagonal of `blocks` blocks.
    return Math.floor(c / (cin / blocks)) === Math.floor(m / (cout / blocks)) ? r(0) : 0;
  });
  const y = b.op('Conv', [x, b.constant('w', w), opts.bias ? b.constant('bias', f32([cout], rnd(2))) : null], { pads: [1, 1, 1, 1], group, strides: [2, 2] }, { name: 'conv' });
  b.output(y, 'out');
  return b.build();
}

describe('conv-to-depthwise (exact mode)', () => {
  it('rewrites a dense Conv with a channel-diagonal weight to a depthwise Conv', async () => {
    const m = denseConv({ cin: 4, cout: 4, blocks: 4, bias: true });
    const { cmp, rewritten } = await equivalentAfter(m, async (mm) => {
      const r = await runTwice('conv-to-depthwise', mm);
      expect(r.changes).toBe(1);
      expect(r.log[0]!.rule).toBe('dense-to-depthwise');
    });
    expect(cmp.equivalent, cmp.reason ?? '').toBe(true);
    const conv = rewritten.graph.nodes[0]!;
    expect(conv.getInt('group')).toBe(4);
    expect(conv.inputs[1]!.constValue!.dims).toEqual([4, 1, 3, 3]);
    expect(conv.inputs[2]!.name).toBe('bias');
  });

  it('finds the largest valid grouping (4 blocks of an 8-channel conv, from group=2)', async () => {
    const m = denseConv({ cin: 8, cout: 12, group: 2, blocks: 4 });
    const { cmp, rewritten } = await equivalentAfter(m, (mm) => runTwice('conv-to-depthwise', mm));
    expect(cmp.equivalent).toBe(true);
    expect(rewritten.graph.nodes[0]!.getInt('group')).toBe(4);
    expect(rewritten.graph.nodes[0]!.inputs[1]!.constValue!.dims).toEqual([12, 2, 3, 3]);
  });

  it('declines a dense Conv (counted, weights never assumed)', async () => {
    const m = denseConv({ cin: 4, cout: 6 });
    const r = await runPass('conv-to-depthwise', m);
    expect(r.modified).toBe(false);
    expect(r.rejected['no-finer-grouping']).toBe(1);
    // One tiny non-zero weight off the depthwise diagonal (output 0 ← input 1) rules out 4
    // groups; 2 groups remain valid, and that is what the pass must pick.
    const m2 = denseConv({ cin: 4, cout: 4, blocks: 4 });
    const w = m2.graph.initializers.get('w')!;
    const data = Float32Array.from(w.constValue!.toArray() as Float32Array);
    data[9] = 1e-7;
    w.constValue = f32([4, 4, 3, 3], (i) => data[i]!);
    const { cmp, rewritten } = await equivalentAfter(m2, (mm) => runTwice('conv-to-depthwise', mm));
    expect(cmp.equivalent).toBe(true);
    expect(rewritten.graph.nodes[0]!.getInt('group')).toBe(2);
    // And an off-diagonal weight across the 2 halves (output 0 ← input 3) rules out every grouping.
    data[3 * 9] = 1e-7;
    const m3 = denseConv({ cin: 4, cout: 4, blocks: 4 });
    m3.graph.initializers.get('w')!.constValue = f32([4, 4, 3, 3], (i) => data[i]!);
    const r3 = await runPass('conv-to-depthwise', m3);
    expect(r3.modified).toBe(false);
    expect(r3.rejected['no-finer-grouping']).toBe(1);
  });

  it('a weight in a file: a dense one is declined after reading only its first output channel; a block-diagonal one is read and regrouped', async () => {
    const lazify = (m: Model) => {
      const v = m.graph.initializers.get('w')!;
      const data = v.constValue!.bytes().slice();
      const reads: number[] = [];
      v.constValue = Tensor.lazy(DataType.FLOAT, v.constValue!.dims, {
        byteLength: data.byteLength,
        description: 'w in model.onnx',
        read: () => (reads.push(data.byteLength), data.slice()),
        readInto: (t: Uint8Array, at: number, n: number) => (reads.push(n), t.set(data.subarray(at, at + n))),
      });
      return reads;
    };
    const dense = denseConv({ cin: 4, cout: 6 });
    const reads = lazify(dense);
    const r = await runPass('conv-to-depthwise', dense);
    expect(r.rejected['no-finer-grouping']).toBe(1);
    expect(reads).toEqual([4 * 3 * 3 * 4]); // one row of [6, 4, 3, 3] float32
    const blocky = denseConv({ cin: 8, cout: 12, group: 2, blocks: 4 });
    lazify(blocky);
    const r2 = await runPass('conv-to-depthwise', blocky);
    expect(r2.changes).toBe(1);
    expect(blocky.graph.nodes[0]!.getInt('group')).toBe(4);
  });

  it('declines a Conv whose weight is not a constant', async () => {
    const b = new GraphBuilder();
    const x = b.input('x', DataType.FLOAT, [1, 2, 3, 3]);
    const w = b.input('w', DataType.FLOAT, [2, 2, 1, 1]);
    b.output(b.op('Conv', [x, w]), 'out');
    const r = await runPass('conv-to-depthwise', b.build());
    expect(r.rejected['weights-not-constant']).toBe(1);
  });
});

describe('decouple-conv (Guo et al. 2018)', () => {
  it('is exact at full rank R = k_h·k_w (equivalent in onnxruntime)', async () => {
    const m = denseConv({ cin: 3, cout: 8, bias: true });
    const { cmp, rewritten } = await equivalentAfter(m, async (mm) => {
      const r = await runTwice('decouple-conv', mm, { rank: 9, requireSavings: false });
      expect(r.changes).toBe(1);
      const layer = (r.metrics['layers'] as DecoupledLayer[])[0]!;
      expect(layer.relativeError).toBeLessThan(1e-12);
      expect(layer.macsPerPixelBefore).toBe(8 * 3 * 9);
      expect(layer.macsPerPixelAfter).toBe(3 * 9 * 9 + 8 * 3 * 9);
    });
    expect(cmp.equivalent, cmp.reason ?? '').toBe(true);
    expect(opTypes(rewritten)).toEqual(['Conv', 'Conv']);
    const [dw, pw] = rewritten.graph.nodes;
    expect(dw!.getInt('group')).toBe(3);
    expect(dw!.inputs[1]!.constValue!.dims).toEqual([27, 1, 3, 3]);
    expect(dw!.getInts('strides')).toEqual([2, 2]);
    expect(pw!.inputs[1]!.constValue!.dims).toEqual([8, 27, 1, 1]);
    expect(pw!.inputs[2]!.name).toBe('bias');
    expect(pw!.outputs[0]!.name).toBe('out');
  });

  it('approximates below full rank and reports error, cosine and MACs (not equivalence)', async () => {
    const m = denseConv({ cin: 4, cout: 64 });
    const feeds = await inputsFor(m);
    const ref = await ortRun(m, feeds);
    const results: { rank: number; err: number; maxAbs: number; cosine: number; macs: number }[] = [];
    for (const rank of [1, 2, 4]) {
      const mm = denseConv({ cin: 4, cout: 64 });
      const r = await runPass('decouple-conv', mm, { rank, maxError: 1 });
      expect(r.changes).toBe(1);
      const layer = (r.metrics['layers'] as DecoupledLayer[])[0]!;
      const out = await ortRun(mm, feeds);
      const cmp = compareOutputs(ref, out);
      results.push({ rank, err: layer.relativeError, maxAbs: cmp.outputs[0]!.maxAbsError, cosine: cmp.outputs[0]!.cosine ?? 0, macs: layer.macsPerPixelAfter / layer.macsPerPixelBefore });
      expect(layer.macsBefore).toBe(64 * 4 * 9 * 16);
    }
    // Error falls and cosine rises with the rank; MACs grow linearly with the rank.
    expect(results[0]!.err).toBeGreaterThan(results[1]!.err);
    expect(results[1]!.err).toBeGreaterThan(results[2]!.err);
    expect(results[2]!.cosine).toBeGreaterThan(results[0]!.cosine);
    expect(results[0]!.cosine).toBeGreaterThan(0.3);
    expect(results.map((x) => +x.macs.toFixed(4))).toEqual([1, 2, 4].map((R) => +((R * (9 + 64)) / (64 * 9)).toFixed(4)));
  });

  it('declines layers whose error exceeds maxError or that save no MACs', async () => {
    const r1 = await runPass('decouple-conv', denseConv({ cin: 4, cout: 64 }), { rank: 1, maxError: 1e-6 });
    expect(r1.rejected['error-above-max']).toBe(1);
    const r2 = await runPass('decouple-conv', denseConv({ cin: 4, cout: 4 }), { rank: 8, maxError: 1 });
    expect(r2.rejected['no-macs-saved']).toBe(1);
    const r3 = await runPass('decouple-conv', denseConv({ cin: 4, cout: 8, group: 2 }), { rank: 2, maxError: 1 });
    expect(r3.rejected['grouped-conv']).toBe(1);
    const r4 = await runPass('decouple-conv', denseConv({ cin: 4, cout: 8, k: 1 }), { rank: 2, maxError: 1 });
    expect(r4.rejected['pointwise-kernel']).toBe(1);
    // A bad rank is a usage error for the whole pass (typed options), not a per-layer decline.
    await expect(runPass('decouple-conv', denseConv({ cin: 4, cout: 8 }), { rank: 0 })).rejects.toThrow(/rank must be a positive integer/);
    await expect(runPass('decouple-conv', denseConv({ cin: 4, cout: 8 }))).rejects.toThrow(/rank must be a positive integer, got none/);
  });
});
