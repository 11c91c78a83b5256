/**
 * The zoo models in onnxruntime-node (encoded by @onnxkit/importer, ORT optimisations
 * disabled): each runs with finite outputs of the expected shape; every intermediate
 * activation stays finite and O(1) for a standard-normal input; BatchNorm running statistics
 * are calibrated to what each BN sees; a symbolic batch gives per-sample results identical to
 * batch 1; ORT's shapes agree with the lecture's shape arithmetic; and the transformer matches
 * an independent float64 reference implementation of the same equations.
 */
import { describe, expect, it } from 'vitest';
import type { Model, Value } from '@onnxkit/graph';
import { alexnet, mobilenetv2, normalArray, resnet50, transformer, vgg16, type TransformerOptions } from '@onnxkit/zoo';
import { walkCnn } from './helpers.js';
import { floatTensor, int64Tensor, maxAbsDiff, moments, run, session } from './ort-helpers.js';

/** Bounds for "O(1)": a wrong initialisation scale (×2 per layer) leaves them within a few layers. */
const MAX_RMS = 10;
const MIN_RMS = 0.05;
const MAX_ABS = 100;

/** Exposes every node output (but Constants') as a graph output, so ORT returns it. */
function exposeAll(m: Model): Value[] {
  const extra: Value[] = [];
  for (const n of m.graph) {
    if (n.opType === 'Constant' || n.output.isGraphOutput) continue;
    m.graph.addOutput(n.output);
    extra.push(n.output);
  }
  return extra;
}

describe.each([
  ['alexnet', () => alexnet({ batch: 'N' })],
  ['vgg16', () => vgg16({ batch: 'N' })],
  ['resnet50', () => resnet50({ batch: 'N' })],
  ['mobilenetv2', () => mobilenetv2({ batch: 'N' })],
])('%s in onnxruntime', (name, build) => {
  it('runs at batch 1 and 2 with finite, O(1) activations, ORT shapes = lecture arithmetic, per-sample batch results', async () => {
    const m = build();
    const expectedDims = new Map(walkCnn(m).map((r) => [r.name, r.dims]));
    const bn = m.graph.nodes.filter((n) => n.opType === 'BatchNormalization');
    const bnInputs = new Map(bn.map((n) => [n, n.inputs[0]!]));
    const extra = exposeAll(m);
    const s = await session(m);

    const sample = 3 * 224 * 224;
    const x = normalArray(2 * sample, 11);
    const one = await run(s, { input: floatTensor(x.subarray(0, sample), [1, 3, 224, 224]) });
    expect(one.output!.dims).toEqual([1, 1000]);
    const logits = moments(one.output!.data);
    expect(logits.finite).toBe(true);
    expect(logits.rms).toBeGreaterThan(MIN_RMS);
    expect(logits.rms).toBeLessThan(MAX_RMS);

    for (const v of extra) {
      const r = one[v.name]!;
      const node = v.producer!;
      expect(r.dims.slice(1), `${node.describe()} shape`).toEqual(expectedDims.get(node.name));
      const st = moments(r.data);
      expect(st.finite, `${node.describe()} finite`).toBe(true);
      expect(st.rms, `${node.describe()} rms`).toBeLessThan(MAX_RMS);
      expect(st.rms, `${node.describe()} rms`).toBeGreaterThan(MIN_RMS);
      expect(st.maxAbs, `${node.describe()} max`).toBeLessThan(MAX_ABS);
    }

    // Calibrated BN: the running statistics describe what the layer actually sees, up to the
    // documented jitter (variance ×U(0.5,1.5), mean ±0.25σ) and the estimate's drift.
    for (const [n, input] of bnInputs) {
      const r = one[input.name]!;
      const [, c, h, w] = r.dims as [number, number, number, number];
      const runMean = n.inputs[3]!.constValue!.toArray() as Float32Array;
      const runVar = n.inputs[4]!.constValue!.toArray() as Float32Array;
      let ratio = 0;
      let offset = 0;
      for (let ch = 0; ch < c; ch++) {
        let s1 = 0;
        let s2 = 0;
        for (let i = ch * h * w; i < (ch + 1) * h * w; i++) {
          s1 += r.data[i]!;
          s2 += r.data[i]! * r.data[i]!;
        }
        const mean = s1 / (h * w);
        ratio += (s2 / (h * w) - mean * mean) / runVar[ch]!;
        offset += (mean - runMean[ch]!) / Math.sqrt(runVar[ch]!);
      }
      expect(ratio / c, `${n.describe()} E[var / running_var]`).toBeGreaterThan(0.5);
      expect(ratio / c, `${n.describe()} E[var / running_var]`).toBeLessThan(5);
      expect(Math.abs(offset / c), `${n.describe()} E[(mean − running_mean) / σ]`).toBeLessThan(0.5);
    }

    const two = await run(s, { input: floatTensor(x, [2, 3, 224, 224]) });
    expect(two.output!.dims).toEqual([2, 1000]);
    const out = two.output!.data;
    expect(maxAbsDiff(out.subarray(0, 1000), one.output!.data)).toBeLessThan(1e-4 * Math.max(1, logits.maxAbs));
    // The second sample is a different image: a broken Flatten mixing samples would not give this.
    expect(maxAbsDiff(out.subarray(1000), out.subarray(0, 1000))).toBeGreaterThan(1e-3);
    await s.release();
  });
});

describe('ORT accepts every supported opset', () => {
  it.each([11, 13, 17, 21, 25])('mobilenetv2 at opset %i', async (opset) => {
    const m = mobilenetv2({ opset, widthMultiplier: 0.35, imageSize: 96 });
    const s = await session(m);
    const r = await run(s, { input: floatTensor(normalArray(3 * 96 * 96, 1), [1, 3, 96, 96]) });
    expect(r.output!.dims).toEqual([1, 1000]);
    expect(moments(r.output!.data).finite).toBe(true);
    await s.release();
  });
});

// ------------------------------------------------------------------------------- transformer

type Mat = Float64Array;

/** A float64 reference of the documented transformer equations, from the initializer values. */
function referenceTransformer(m: Model, o: Required<Pick<TransformerOptions, 'layers' | 'dModel' | 'heads' | 'causal'>>, ids: number[]): Mat {
  const p = (name: string): Float64Array => {
    const v = m.graph.initializers.get(name);
    if (!v) throw new Error(`reference: no initializer ${name}`);
    return v.constValue!.toFloat64();
  };
  const d = o.dModel;
  const S = ids.length;
  const linear = (x: Mat, inF: number, outF: number, w: Float64Array, b: Float64Array | null): Mat => {
    const y = new Float64Array(S * outF);
    for (let s = 0; s < S; s++)
      for (let j = 0; j < outF; j++) {
        let acc = b ? b[j]! : 0;
        for (let i = 0; i < inF; i++) acc += x[s * inF + i]! * w[i * outF + j]!;
        y[s * outF + j] = acc;
      }
    return y;
  };
  const ln = (x: Mat, prefix: string): Mat => {
    const g = p(`${prefix}.weight`);
    const b = p(`${prefix}.bias`);
    const y = new Float64Array(x.length);
    for (let s = 0; s < S; s++) {
      const row = x.subarray(s * d, (s + 1) * d);
      const mean = row.reduce((a, v) => a + v, 0) / d;
      const variance = row.reduce((a, v) => a + (v - mean) ** 2, 0) / d;
      for (let i = 0; i < d; i++) y[s * d + i] = ((row[i]! - mean) / Math.sqrt(variance + 1e-5)) * g[i]! + b[i]!;
    }
    return y;
  };
  const add = (a: Mat, b: Mat): Mat => a.map((v, i) => v + b[i]!);
  const attention = (x: Mat, prefix: string): Mat => {
    const lin = (name: string): Mat => linear(x, d, d, p(`${prefix}.${name}.weight`), p(`${prefix}.${name}.bias`));
    const [q, k, v] = [lin('q_proj'), lin('k_proj'), lin('v_proj')];
    const dh = d / o.heads;
    const ctx = new Float64Array(S * d);
    for (let h = 0; h < o.heads; h++)
      for (let i = 0; i < S; i++) {
        const scores: number[] = [];
        for (let j = 0; j < S; j++) {
          if (o.causal && j > i) {
            scores.push(-Infinity);
            continue;
          }
          let dot = 0;
          for (let t = 0; t < dh; t++) dot += q[i * d + h * dh + t]! * k[j * d + h * dh + t]!;
          scores.push(dot / Math.sqrt(dh));
        }
        const mx = Math.max(...scores);
        const e = scores.map((z) => Math.exp(z - mx));
        const z = e.reduce((a, b) => a + b, 0);
        for (let t = 0; t < dh; t++) {
          let acc = 0;
          for (let j = 0; j < S; j++) acc += (e[j]! / z) * v[j * d + h * dh + t]!;
          ctx[i * d + h * dh + t] = acc;
        }
      }
    return linear(ctx, d, d, p(`${prefix}.out_proj.weight`), p(`${prefix}.out_proj.bias`));
  };
  const ffnSize = m.graph.initializers.get('layers.0.linear1.bias')?.constValue!.size ?? 0;
  const ffn = (x: Mat, prefix: string): Mat => {
    const h = linear(x, d, ffnSize, p(`${prefix}.linear1.weight`), p(`${prefix}.linear1.bias`)).map((u) => 0.5 * u * (1 + erf(u / Math.SQRT2)));
    return linear(h, ffnSize, d, p(`${prefix}.linear2.weight`), p(`${prefix}.linear2.bias`));
  };
  const tok = p('embed_tokens.weight');
  const pos = p('embed_positions.weight');
  let x: Mat = new Float64Array(S * d);
  for (let s = 0; s < S; s++) for (let i = 0; i < d; i++) x[s * d + i] = tok[ids[s]! * d + i]! + pos[s * d + i]!;
  if (!o.causal) x = ln(x, 'embed_norm');
  for (let l = 0; l < o.layers; l++) {
    const pre = `layers.${l}`;
    if (o.causal) {
      x = add(x, attention(ln(x, `${pre}.norm1`), `${pre}.self_attn`));
      x = add(x, ffn(ln(x, `${pre}.norm2`), pre));
    } else {
      x = ln(add(x, attention(x, `${pre}.self_attn`)), `${pre}.norm1`);
      x = ln(add(x, ffn(x, pre)), `${pre}.norm2`);
    }
  }
  if (o.causal) x = ln(x, 'norm');
  const vocab = m.graph.initializers.get('lm_head.weight')!.constValue!.dims[1]!;
  return linear(x, d, vocab, p('lm_head.weight'), null);
}

/** erf to ~1e-15 (series for |x| < 3, continued fraction beyond). */
function erf(x: number): number {
  const ax = Math.abs(x);
  if (ax < 3) {
    let term = ax;
    let sumv = ax;
    for (let n = 1; n < 100; n++) {
      term *= (-ax * ax) / n;
      const add = term / (2 * n + 1);
      sumv += add;
      if (Math.abs(add) < 1e-17) break;
    }
    return Math.sign(x) * (2 / Math.sqrt(Math.PI)) * sumv;
  }
  let f = 0;
  for (let n = 60; n >= 1; n--) f = n / 2 / (ax + f);
  return Math.sign(x) * (1 - Math.exp(-ax * ax) / Math.sqrt(Math.PI) / (ax + f));
}

async function logits(m: Model, ids: number[][]): Promise<{ dims: readonly number[]; data: Float32Array }> {
  const s = await session(m);
  const flat = BigInt64Array.from(ids.flat(), (v) => BigInt(v));
  const r = await run(s, { input_ids: int64Tensor(flat, [ids.length, ids[0]!.length]) });
  await s.release();
  return r.output!;
}

describe('transformer in onnxruntime', () => {
  const small = { layers: 2, dModel: 16, heads: 4, ffn: 24, vocab: 37 };
  const ids = [[3, 1, 4, 1, 5, 9, 2]];

  it.each([false, true])('matches a float64 reference of the equations (causal: %s)', async (causal) => {
    const m = transformer({ ...small, causal, seqLen: 7, seed: 5 });
    const out = await logits(m, ids);
    expect(out.dims).toEqual([1, 7, 37]);
    const ref = referenceTransformer(m, { ...small, causal }, ids[0]!);
    let worst = 0;
    for (let i = 0; i < ref.length; i++) worst = Math.max(worst, Math.abs(ref[i]! - out.data[i]!));
    expect(worst).toBeLessThan(1e-4);
    const st = moments(out.data);
    expect(st.rms).toBeGreaterThan(MIN_RMS);
    expect(st.rms).toBeLessThan(MAX_RMS);
  });

  it('symbolic batch and sequence (Shape→Gather→Unsqueeze→Concat→Reshape) equal the static model', async () => {
    for (const causal of [false, true]) {
      const base = { ...small, causal, maxSeqLen: 12, seed: 8 };
      const dynamic = transformer({ ...base, batch: 'B', seqLen: 'S' });
      expect(dynamic.graph.nodes.filter((n) => n.opType === 'Shape').length).toBeGreaterThanOrEqual(2);
      const batch = [
        [1, 2, 3, 4, 5],
        [6, 7, 8, 9, 10],
      ];
      const dyn = await logits(dynamic, batch);
      expect(dyn.dims).toEqual([2, 5, 37]);
      const fixed = await logits(transformer({ ...base, batch: 1, seqLen: 5 }), [batch[1]!]);
      expect(maxAbsDiff(dyn.data.subarray(5 * 37), fixed.data)).toBeLessThan(1e-5);
    }
  });

  it('the causal mask hides later tokens; the encoder sees them', async () => {
    for (const causal of [true, false]) {
      const m = transformer({ ...small, causal, seqLen: 6 });
      const a = await logits(m, [[1, 2, 3, 4, 5, 6]]);
      const b = await logits(m, [[1, 2, 3, 4, 5, 30]]);
      const early = maxAbsDiff(a.data.subarray(0, 5 * 37), b.data.subarray(0, 5 * 37));
      if (causal) expect(early).toBe(0);
      else expect(early).toBeGreaterThan(1e-4);
    }
  });

  it('decomposed LayerNorm (opset 16) and the Gelu op (opset 20) compute the same function', async () => {
    const o = { ...small, seqLen: 7, seed: 2 };
    const ref = await logits(transformer({ ...o, opset: 17 }), ids);
    const decomposed = transformer({ ...o, opset: 16 });
    expect(decomposed.graph.nodes.some((n) => n.opType === 'LayerNormalization')).toBe(false);
    expect(maxAbsDiff((await logits(decomposed, ids)).data, ref.data)).toBeLessThan(1e-5);
    const geluOp = transformer({ ...o, opset: 20, gelu: 'op' });
    expect(geluOp.graph.nodes.some((n) => n.opType === 'Gelu')).toBe(true);
    expect(maxAbsDiff((await logits(geluOp, ids)).data, ref.data)).toBeLessThan(1e-5);
  });

  it('without a vocabulary, hidden states in and out; zero and lazy weights run too', async () => {
    for (const o of [{}, { weights: 'zeros' as const }, { lazy: true }]) {
      const m = transformer({ layers: 2, dModel: 32, heads: 4, batch: 'N', seqLen: 'S', ...o });
      const s = await session(m);
      const r = await run(s, { input: floatTensor(normalArray(3 * 9 * 32, 4), [3, 9, 32]) });
      await s.release();
      expect(r.output!.dims).toEqual([3, 9, 32]);
      const st = moments(r.output!.data);
      expect(st.finite).toBe(true);
      if (o.weights === 'zeros') expect(st.maxAbs).toBe(0);
      else expect(st.rms).toBeGreaterThan(MIN_RMS);
    }
  });
});
