/**
 * ONNX's opset-23 Attention and RotaryEmbedding (src/ops/attention.ts), which onnxruntime-node 1.30
 * runs: each facet through the path that uses it — attributeProblem (the schema), inferShapes
 * against the output shapes onnxruntime's kernels return for the same node (4-D and 3-D, grouped
 * heads, a mask, causal, a key/value cache with every optional output), analyzeModel (the MACs
 * of Q·Kᵀ and scores·V, the per-score work), and the float64 references against onnxruntime's
 * values. Before them the analysis said "no cost model
 * for op 'Attention'" and lost every shape after it.
 */
import { describe, expect, it } from 'vitest';
import * as ort from 'onnxruntime-node';
import { Attribute, DataType, GraphBuilder, Tensor, type Dim, type Model } from '@onnxkit/graph';
import { encode } from '@onnxkit/importer';
import { analyzeModel, inferShapes } from '../../src/analysis/index.js';
import { attributeProblem } from '../../src/common/attribute-schema.js';
import { evaluateReference } from '../../src/reference/evaluate.js';
import { ReferenceInputError } from '../../src/kernels/reference/errors.js';

const F = DataType.FLOAT;
type Inputs = Record<string, { dims: number[]; type?: DataType; int64?: boolean }>;

/** One node `type` (named 'op') over `inputs` (in order; '' skips a slot), `outputs` outputs. */
function oneNode(type: string, inputs: Inputs, order: string[], attrs: Record<string, unknown>, outputs: number): Model {
  const b = new GraphBuilder({ opset: 23 });
  const vals = order.map((name) => (name === '' ? null : b.input(name, inputs[name]!.type ?? F, inputs[name]!.dims)));
  const n = b.node(type, vals, attrs as never, { name: 'op', outputs });
  n.outputs.forEach((v, i) => b.output(v, `y${i}`));
  return b.build();
}

/** The inputs' values: small floats (a seed per input), a bool mask with every row keeping its first key, positions 0–3. */
function values(inputs: Inputs): Map<string, Tensor> {
  const out = new Map<string, Tensor>();
  let seed = 1;
  for (const [name, { dims, type }] of Object.entries(inputs)) {
    const size = dims.reduce((p, d) => p * d, 1);
    const last = dims[dims.length - 1]!;
    const k = seed++;
    if (type === DataType.BOOL) out.set(name, Tensor.fromNumbers(DataType.BOOL, dims, Array.from({ length: size }, (_, i) => (i % last === 0 || i % 3 !== 0 ? 1 : 0))));
    else if (type === DataType.INT64) out.set(name, Tensor.fromNumbers(DataType.INT64, dims, Array.from({ length: size }, (_, i) => (i * 3) % 4)));
    else out.set(name, Tensor.fromArray(F, dims, Float32Array.from({ length: size }, (_, i) => Math.sin(i * 0.37 + k) * 0.8)));
  }
  return out;
}

/** onnxruntime's outputs (dims and values) for the node on `values(inputs)`. */
async function ortRun(m: Model, inputs: Inputs): Promise<{ dims: number[]; data: Float32Array }[]> {
  const s = await ort.InferenceSession.create(encode(m), { logSeverityLevel: 3 });
  const feeds: Record<string, ort.Tensor> = {};
  for (const [name, t] of values(inputs)) {
    const dims = [...t.dims];
    if (t.dtype === DataType.BOOL) feeds[name] = new ort.Tensor('bool', Uint8Array.from(t.toFloat64(), (v) => (v ? 1 : 0)), dims);
    else if (t.dtype === DataType.INT64) feeds[name] = new ort.Tensor('int64', BigInt64Array.from(t.toFloat64(), (v) => BigInt(v)), dims);
    else feeds[name] = new ort.Tensor('float32', Float32Array.from(t.toFloat64()), dims);
  }
  const r = await s.run(feeds);
  await s.release();
  return s.outputNames.map((o) => ({ dims: [...r[o]!.dims], data: r[o]!.data as Float32Array }));
}

async function ortDims(m: Model, inputs: Inputs): Promise<number[][]> {
  return (await ortRun(m, inputs)).map((o) => o.dims);
}

/** The float64 reference agrees with onnxruntime's float32 kernel on every output. */
async function expectReferenceMatches(m: Model, inputs: Inputs, what: string): Promise<void> {
  const got = await ortRun(m, inputs);
  const ref = evaluateReference(m, values(inputs)).outputs;
  got.forEach((o, i) => {
    const r = ref.get(`y${i}`)!;
    expect(r.dims, `${what} y${i}`).toEqual(o.dims);
    const d = r.data as Float64Array;
    let worst = 0;
    for (let j = 0; j < o.data.length; j++) worst = Math.max(worst, Math.abs(o.data[j]! - d[j]!) / Math.max(1, Math.abs(d[j]!)));
    expect(worst, `${what} y${i}`).toBeLessThan(1e-5);
  });
}

function inferred(m: Model): (readonly Dim[] | null)[] {
  const inf = inferShapes(m);
  return m.graph.outputs.map((v) => inf.shapeOf(v));
}

/** The shape-mismatch messages inferShapes reports for node 'op'. */
const mismatches = (m: Model): string[] => inferShapes(m).diagnostics.filter((d) => d.code === 'shape-mismatch' && d.node === 'op').map((d) => d.message);

const layer = (m: Model) => analyzeModel(m, { timeline: false }).layers.find((l) => l.name === 'op')!;

describe('Attention (opset 23)', () => {
  it('checks its attributes (is_causal and the head counts are INTs, softcap and scale FLOATs)', () => {
    const m = oneNode('Attention', { q: { dims: [1, 2, 4, 8] }, k: { dims: [1, 2, 4, 8] }, v: { dims: [1, 2, 4, 8] } }, ['q', 'k', 'v'], { is_causal: Attribute.float('is_causal', 1) }, 1);
    expect(attributeProblem([...m.graph][0]!)).toMatch(/is_causal/);
    const ok = oneNode('Attention', { q: { dims: [1, 2, 4, 8] }, k: { dims: [1, 2, 4, 8] }, v: { dims: [1, 2, 4, 8] } }, ['q', 'k', 'v'], { is_causal: 1, scale: Attribute.float('scale', 0.5), softcap: Attribute.float('softcap', 30) }, 1);
    expect(attributeProblem([...ok.graph][0]!)).toBeUndefined();
  });

  it("infers onnxruntime's output shapes and counts Q·Kᵀ and scores·V, per score the scale, masks, softcap and Softmax", async () => {
    const cases: { what: string; inputs: Inputs; order: string[]; attrs: Record<string, unknown>; outputs: number; macs: number; perScore: number; scores: number }[] = [
      // MHA, 4-D: 2·2·4·4 scores, head 8 = v_head.
      { what: '4-D', inputs: { q: { dims: [2, 2, 4, 8] }, k: { dims: [2, 2, 4, 8] }, v: { dims: [2, 2, 4, 8] } }, order: ['q', 'k', 'v'], attrs: {}, outputs: 1, macs: 2 * 2 * 4 * 4 * 16, perScore: 6, scores: 64 },
      // GQA (4 query heads on 2 kv heads), cross attention (q 3, kv 8), v_head 4 ≠ head 8, a bool mask, causal.
      {
        what: 'GQA, mask, causal',
        inputs: { q: { dims: [1, 4, 3, 8] }, k: { dims: [1, 2, 8, 8] }, v: { dims: [1, 2, 8, 4] }, m: { dims: [3, 8], type: DataType.BOOL } },
        order: ['q', 'k', 'v', 'm'],
        attrs: { is_causal: 1 },
        outputs: 1,
        macs: 4 * 3 * 8 * (8 + 4),
        perScore: 8,
        scores: 96,
      },
      // 3-D with the cache and every output: total = past 5 + kv 3 = 8; softcap.
      {
        what: '3-D, cache, softcap',
        inputs: { q: { dims: [1, 3, 16] }, k: { dims: [1, 3, 16] }, v: { dims: [1, 3, 16] }, pk: { dims: [1, 2, 5, 8] }, pv: { dims: [1, 2, 5, 8] } },
        order: ['q', 'k', 'v', '', 'pk', 'pv'],
        attrs: { q_num_heads: 2, kv_num_heads: 2, softcap: Attribute.float('softcap', 20) },
        outputs: 4,
        macs: 2 * 3 * 8 * 16,
        perScore: 6 + 7,
        scores: 48,
      },
    ];
    for (const c of cases) {
      const m = oneNode('Attention', c.inputs, c.order, c.attrs, c.outputs);
      expect(inferred(m), c.what).toEqual(await ortDims(m, c.inputs));
      await expectReferenceMatches(m, c.inputs, c.what);
      const l = layer(m);
      expect(l.unknown ?? [], c.what).toEqual([]);
      expect(l.macs, c.what).toBe(c.macs);
      expect(l.flops, c.what).toBe(2 * c.macs + c.perScore * c.scores);
    }
    // The float64 reference on what the cost cases leave out: causal with a cache (query i sees
    // the cache and keys 0…i), a float mask, softcap, and qk_matmul_output at each mode. Each of
    // onnxruntime's choices here was found by this comparison: the mask after softcap, the
    // causal mask after both, mode 1 written without the mask.
    for (const mode of [0, 1, 2, 3]) {
      const inputs: Inputs = { q: { dims: [1, 2, 3, 8] }, k: { dims: [1, 1, 3, 8] }, v: { dims: [1, 1, 3, 8] }, m: { dims: [1, 1, 3, 7] }, pk: { dims: [1, 1, 4, 8] }, pv: { dims: [1, 1, 4, 8] } };
      const attrs = { is_causal: mode % 2, qk_matmul_output_mode: mode, softcap: Attribute.float('softcap', mode >= 2 ? 2 : 0), scale: Attribute.float('scale', 0.3) };
      await expectReferenceMatches(oneNode('Attention', inputs, ['q', 'k', 'v', 'm', 'pk', 'pv'], attrs, 4), inputs, `mode ${mode}`);
    }
    // The outputs of the cache case, named: Y [1, 3, 16], present_key/value [1, 2, 8, 8], qk [1, 2, 3, 8].
    const m = oneNode('Attention', cases[2]!.inputs, cases[2]!.order, cases[2]!.attrs, 4);
    expect(inferred(m)).toEqual([[1, 3, 16], [1, 2, 8, 8], [1, 2, 8, 8], [1, 2, 3, 8]]);
  });

  it('keeps symbols; the per-score work is counted when it is not a whole count per element of Y or Q', () => {
    const m = oneNode('Attention', { q: { dims: ['B' as never, 4, 'S' as never, 16] }, k: { dims: ['B' as never, 4, 'S' as never, 16] }, v: { dims: ['B' as never, 4, 'S' as never, 16] } }, ['q', 'k', 'v'], {}, 1);
    expect(inferred(m)).toEqual([['B', 4, 'S', 16]]);
    // Symbolic batch and sequence: 2 · 128·B·S·S MACs + 6 per score over B·4·S·S scores.
    expect(layer(m).flopsExpr).toBe('280*B*S*S');
    // 17 keys over v_head 8 (a ViT's 16 patches and class token): 6·17/8 per element of Y is not
    // whole, which made the FLOPs unknown; 6 per score over 4·17·17 scores.
    const vit = oneNode('Attention', { q: { dims: [1, 4, 17, 8] }, k: { dims: [1, 4, 17, 8] }, v: { dims: [1, 4, 17, 8] } }, ['q', 'k', 'v'], {}, 1);
    const l = layer(vit);
    expect(l.macs).toBe(4 * 17 * 17 * 16);
    expect(l.unknown ?? []).toEqual([]);
    expect(l.flops).toBe(2 * 4 * 17 * 17 * 16 + 6 * 4 * 17 * 17);
  });

  it('reports query heads that are not a multiple of the key/value heads, which onnxruntime rejects', async () => {
    // 4-D: 3 query heads on 2 kv heads; 3-D: q_num_heads 4, kv_num_heads 3.
    const four: Inputs = { q: { dims: [1, 3, 2, 8] }, k: { dims: [1, 2, 2, 8] }, v: { dims: [1, 2, 2, 8] } };
    const three: Inputs = { q: { dims: [1, 2, 32] }, k: { dims: [1, 2, 24] }, v: { dims: [1, 2, 24] } };
    for (const [what, inputs, attrs] of [['4-D', four, {}], ['3-D', three, { q_num_heads: 4, kv_num_heads: 3 }]] as const) {
      const m = oneNode('Attention', inputs, ['q', 'k', 'v'], attrs, 1);
      await expect(ortRun(m, inputs), what).rejects.toThrow(/multiple of kv_num_heads/);
      expect(mismatches(m).join(), what).toMatch(/query heads are not a multiple of \d key\/value heads/);
    }
    const ok = oneNode('Attention', { q: { dims: [1, 4, 2, 8] }, k: { dims: [1, 2, 2, 8] }, v: { dims: [1, 2, 2, 8] } }, ['q', 'k', 'v'], {}, 1);
    expect(mismatches(ok)).toEqual([]);
  });

  it('a decode step over a cache of symbolic length P: the MACs over P + 1 keys (the shape rule\'s present_key)', () => {
    // An LLM's decode graph: one new token, past_key/past_value [1, 8, P, 64].
    const P = 'P' as never;
    const inputs: Inputs = { q: { dims: [1, 8, 1, 64] }, k: { dims: [1, 8, 1, 64] }, v: { dims: [1, 8, 1, 64] }, pk: { dims: [1, 8, P, 64] }, pv: { dims: [1, 8, P, 64] } };
    const m = oneNode('Attention', inputs, ['q', 'k', 'v', '', 'pk', 'pv'], {}, 3);
    expect(inferred(m)).toEqual([[1, 8, 1, 64], [1, 8, 'P+1', 64], [1, 8, 'P+1', 64]]);
    const l = layer(m);
    expect(l.macsExpr).toBe('1024*P+1024');
    // 6 per score over 8·(P + 1) scores.
    expect(l.flopsExpr).toBe('2096*P+2096');
    const bound = analyzeModel(m, { timeline: false, dimValues: { P: 7 } }).layers.find((x) => x.name === 'op')!;
    expect(bound.macs).toBe(8 * 8 * 128);
    expect(bound.flops).toBe(2 * 8 * 8 * 128 + 6 * 8 * 8);
  });
});

describe('RotaryEmbedding (opset 23)', () => {
  it("infers onnxruntime's output shapes (4-D, 3-D with num_heads, position_ids); 3 per rotated element", async () => {
    const cases: { what: string; inputs: Inputs; order: string[]; attrs: Record<string, unknown>; flops: number }[] = [
      { what: '4-D', inputs: { x: { dims: [2, 2, 4, 8] }, cos: { dims: [2, 4, 4] }, sin: { dims: [2, 4, 4] } }, order: ['x', 'cos', 'sin'], attrs: {}, flops: 3 * 128 },
      {
        what: '3-D, position_ids, half rotated',
        inputs: { x: { dims: [1, 4, 32] }, cos: { dims: [8, 2] }, sin: { dims: [8, 2] }, p: { dims: [1, 4], type: DataType.INT64 } },
        order: ['x', 'cos', 'sin', 'p'],
        attrs: { num_heads: 4, rotary_embedding_dim: 4 },
        // 4 of each head's 8 elements rotated (3·4/8 per element is not whole: it was unknown): 3 · 4 · 4 heads · 4 tokens.
        flops: 3 * 4 * 4 * 4,
      },
      {
        what: '3-D, interleaved',
        inputs: { x: { dims: [1, 4, 16] }, cos: { dims: [1, 4, 4] }, sin: { dims: [1, 4, 4] } },
        order: ['x', 'cos', 'sin'],
        attrs: { num_heads: 2, interleaved: 1 },
        flops: 3 * 64,
      },
    ];
    for (const c of cases) {
      const m = oneNode('RotaryEmbedding', c.inputs, c.order, c.attrs, 1);
      expect(inferred(m), c.what).toEqual(await ortDims(m, c.inputs));
      await expectReferenceMatches(m, c.inputs, c.what);
      const l = layer(m);
      expect(l.macs, c.what).toBe(0);
      if (Number.isNaN(c.flops)) expect(l.flops, c.what).toBeNull();
      else expect(l.flops, c.what).toBe(c.flops);
    }
    // rotary_embedding_dim equal to the head: every element rotated.
    const whole = oneNode('RotaryEmbedding', { x: { dims: [1, 2, 4, 16] }, cos: { dims: [1, 4, 8] }, sin: { dims: [1, 4, 8] } }, ['x', 'cos', 'sin'], { rotary_embedding_dim: 16 }, 1);
    expect(layer(whole).flops).toBe(3 * 128);
    // 6 of a head of 8 (3·6/8 is not whole): 3 · 6 · 2 heads · 4 tokens.
    const six = oneNode('RotaryEmbedding', { x: { dims: [1, 2, 4, 8] }, cos: { dims: [1, 4, 3] }, sin: { dims: [1, 4, 3] } }, ['x', 'cos', 'sin'], { rotary_embedding_dim: 6 }, 1);
    expect(layer(six).flops).toBe(3 * 6 * 2 * 4);
  });

  it('reports a 3-D X without num_heads, which onnxruntime rejects at load, and a rotary dim past the head', async () => {
    const inputs: Inputs = { x: { dims: [1, 3, 16] }, cos: { dims: [1, 3, 4] }, sin: { dims: [1, 3, 4] } };
    const m = oneNode('RotaryEmbedding', inputs, ['x', 'cos', 'sin'], {}, 1);
    await expect(ortRun(m, inputs)).rejects.toThrow(/num_heads attribute must be provided/);
    expect(mismatches(m).join()).toMatch(/3-D X needs num_heads/);
    expect(mismatches(oneNode('RotaryEmbedding', inputs, ['x', 'cos', 'sin'], { num_heads: 2 }, 1))).toEqual([]);
    // rotary_embedding_dim 12 of a head of 8: onnxruntime refuses it when it runs.
    const wide = oneNode('RotaryEmbedding', { x: { dims: [1, 2, 3, 8] }, cos: { dims: [1, 3, 6] }, sin: { dims: [1, 3, 6] } }, ['x', 'cos', 'sin'], { rotary_embedding_dim: 12 }, 1);
    expect(mismatches(wide).join()).toMatch(/rotary_embedding_dim 12 exceeds the head size 8/);
  });

  it('the float64 reference refuses what onnxruntime refuses or the spec leaves undefined, not garbage', async () => {
    const x = { dims: [1, 2, 3, 8] };
    const cases: { what: string; inputs: Inputs; order: string[]; attrs: Record<string, unknown>; error: RegExp; ortRejects: boolean }[] = [
      // onnxruntime: "rotary_embedding_dim must be less than or equal to head_size" (read past the head).
      { what: 'rd > head', inputs: { x, cos: { dims: [1, 3, 6] }, sin: { dims: [1, 3, 6] } }, order: ['x', 'cos', 'sin'], attrs: { rotary_embedding_dim: 12 }, error: /exceeds the head size 8/, ortRejects: true },
      // Positions 0, 3, 2 of a 2-row cache (read past it).
      { what: 'position past the cache', inputs: { x, cos: { dims: [2, 4] }, sin: { dims: [2, 4] }, p: { dims: [1, 3], type: DataType.INT64 } }, order: ['x', 'cos', 'sin', 'p'], attrs: {}, error: /position_id 3 is outside the cache's 2 rows/, ortRejects: true },
      // An odd rotary dim has no pairs (its half was fractional: NaN indices); onnxruntime returns a result the spec does not define.
      { what: 'odd rd', inputs: { x, cos: { dims: [1, 3, 1] }, sin: { dims: [1, 3, 1] } }, order: ['x', 'cos', 'sin'], attrs: { rotary_embedding_dim: 3 }, error: /not a positive even number/, ortRejects: false },
      // A cache of the wrong size (rd/2 = 4 per row, 2 given: read past each row).
      { what: 'cache shape', inputs: { x, cos: { dims: [1, 3, 2] }, sin: { dims: [1, 3, 2] } }, order: ['x', 'cos', 'sin'], attrs: {}, error: /are not \[1,3,4\]/, ortRejects: false },
    ];
    for (const c of cases) {
      const m = oneNode('RotaryEmbedding', c.inputs, c.order, c.attrs, 1);
      expect(() => evaluateReference(m, values(c.inputs)), c.what).toThrow(ReferenceInputError);
      expect(() => evaluateReference(m, values(c.inputs)), c.what).toThrow(c.error);
      if (c.ortRejects) await expect(ortRun(m, c.inputs), c.what).rejects.toThrow();
    }
  });
});
