/**
 * The analysis of the float graph onnxruntime runs: every op onnxruntime-node 1.30 writes into the
 * optimized graph of a float transformer (optimizedModelFilePath, levels extended and all) has a
 * cost and a shape rule, so `analyze` of that file gives the MACs and parameters of the model it
 * came from. The ops (packages/passes/src/ops/contrib-transformer.ts, contrib-fused.ts):
 * com.microsoft SkipLayerNormalization, BiasGelu, QuickGelu and FusedMatMul, the default-domain
 * SimplifiedLayerNormalization, and for the Conv and Gemm of a float model com.microsoft FusedConv,
 * FusedGemm and the com.microsoft.nchwc Conv. Before them the analysis of these files had no MAC
 * total ("no cost model for op 'com.microsoft::SkipLayerNormalization'", every shape after it lost).
 *
 * FLOPs follow each op's own convention, so they match where the original wrote the op and differ
 * by a stated amount where it wrote a formula: onnxruntime folds attention's 1/√d scale (a Div over
 * the scores, 1 per element) into FusedMatMul's alpha, which the GEMM applies for free; its Gelu and
 * BiasGelu count the ONNX Gelu's 8 per element where PyTorch's erf formula (Div, Erf, Add, Mul, Mul)
 * counts 5; its SimplifiedLayerNormalization counts RMSNormalization's 5 per element where the
 * decomposition (Pow, ReduceMean, Add ε, Sqrt, Div, Mul) counts 4 per element and 3 per row.
 */
import { readFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import * as ort from 'onnxruntime-node';
import { cloneModel, DataType, GraphBuilder, Tensor, type Model, type Value } from '@onnxkit/graph';
import { decode, encode } from '@onnxkit/importer';
import { analyzeModel, runPipeline, type AnalysisReport } from '@onnxkit/passes';
import { transformer } from '@onnxkit/zoo';

const tmp = mkdtempSync(join(tmpdir(), 'onnxkit-transformer-'));
const FIXTURES = new URL('../../../fixtures/', import.meta.url).pathname;
const F = DataType.FLOAT;
const LEVELS = ['extended', 'all'] as const;

/** onnxruntime's optimized graph of `m` at `level` (one thread), read back. */
async function ortOptimized(m: Model, name: string, level: 'extended' | 'all'): Promise<Model> {
  const file = join(tmp, `${name}.${level}.onnx`);
  const s = await ort.InferenceSession.create(encode(m), { graphOptimizationLevel: level, optimizedModelFilePath: file, intraOpNumThreads: 1, logSeverityLevel: 3 });
  await s.release();
  return decode(new Uint8Array(readFileSync(file)));
}

/** The op types of a graph, another domain's as `domain::type`. */
const opTypes = (m: Model): Set<string> => new Set([...m.graph].map((n) => (n.isOnnxDomain ? n.opType : `${n.domain}::${n.opType}`)));

/** No layer of unknown cost or shape. */
function expectComplete(a: AnalysisReport, what: string): void {
  expect(a.diagnostics.filter((d) => d.code === 'no-cost-model' || d.code === 'unknown-op' || d.code === 'unknown-cost' || d.code === 'coverage'), what).toEqual([]);
}

/** Every symbolic input dim bound to `v`. */
function bindAll(m: Model, v: number): Record<string, number> {
  const out: Record<string, number> = {};
  for (const x of m.graph.inputs) for (const d of x.shape ?? []) if (typeof d === 'string') out[d] = v;
  return out;
}

/**
 * Analyses `m` and onnxruntime's optimized graph of it at both levels: the `expected` ops are
 * there, every layer is costed, MACs and parameters equal; returns the FLOPs difference
 * (optimized − original), the same at both levels.
 */
async function compare(m: Model, name: string, expected: readonly string[], dims: Record<string, number> = {}): Promise<number> {
  const a0 = analyzeModel(m, { timeline: false, dimValues: dims });
  expectComplete(a0, name);
  const deltas = new Set<number>();
  for (const level of LEVELS) {
    const fused = await ortOptimized(m, name, level);
    const ops = opTypes(fused);
    for (const op of expected) expect(ops, `${name} ${level}`).toContain(op);
    const a = analyzeModel(fused, { timeline: false, dimValues: dims });
    expectComplete(a, `${name} ${level}`);
    expect(a.totals.macs, `${name} ${level}`).toBe(a0.totals.macs);
    expect(a.totals.params, `${name} ${level}`).toBe(a0.totals.params);
    deltas.add(a.totals.flops! - a0.totals.flops!);
  }
  expect(deltas.size, name).toBe(1);
  return [...deltas][0]!;
}

const f32 = (b: GraphBuilder, name: string, dims: number[], f: (i: number) => number): Value =>
  b.constant(name, Tensor.fromArray(F, dims, Float32Array.from({ length: dims.reduce((p, d) => p * d, 1) }, (_, i) => f(i))));

describe("analysis of onnxruntime's optimized float transformer graphs", () => {
  test('the zoo transformer with the Gelu op (opset 20): SkipLayerNormalization; FLOPs less only the attention scale onnxruntime folds into FusedMatMul', async () => {
    // 2 blocks, 4 heads, 16 tokens: the Div by √d over [1, 4, 16, 16] scores, 1024 per block.
    const m = transformer({ seed: 0, gelu: 'op', opset: 20 });
    expect(await compare(m, 'zoo-gelu-op', ['com.microsoft::SkipLayerNormalization', 'com.microsoft::FusedMatMul', 'Gelu'])).toBe(-2 * 4 * 16 * 16);
  }, 20_000);

  test('the zoo decoder-only transformer with a vocabulary (erf GELU): SkipLayerNormalization and com.microsoft Gelu', async () => {
    // 2 blocks: the erf formula's 5 per element of the [1, 16, 256] FFN activation becomes Gelu's 8
    // (+3 · 4096 per block), the attention scale (1024 per block) goes into FusedMatMul.
    const m = transformer({ seed: 0, causal: true, vocab: 50 });
    expect(await compare(m, 'zoo-causal', ['com.microsoft::SkipLayerNormalization', 'com.microsoft::Gelu'])).toBe(2 * (3 * 4096 - 1024));
  }, 20_000);

  test('the transformer_encoder fixture (symbolic batch and sequence, bound to 4): BiasGelu; and in float16 at level all (Shape → Split → Squeeze)', async () => {
    const m = decode(new Uint8Array(readFileSync(join(FIXTURES, 'transformer_encoder/model.onnx'))));
    const dims = bindAll(m, 4);
    // 2 blocks: BiasGelu's 1 + 8 per element of the [4, 4, 128] FFN activation where the bias Add
    // and the erf formula counted 1 + 5 (+3 · 2048 in all), the attention scale over the
    // [16, 4, 4] scores of each block (−512 each) folded into FusedMatMul.
    expect(await compare(m, 'encoder', ['com.microsoft::BiasGelu', 'com.microsoft::FusedMatMul'], dims)).toBe(3 * 2048 - 2 * 512);
    // Unbound, the MACs are the same expression in the symbols.
    const expr = analyzeModel(m, { timeline: false }).totals.macsExpr;
    expect(expr).toBe('128*batch*sequence*sequence+19584*batch*sequence');
    for (const level of LEVELS) expect(analyzeModel(await ortOptimized(m, 'encoder', level), { timeline: false }).totals.macsExpr, level).toBe(expr);
    // convert-fp16: onnxruntime fuses less around the Casts (no BiasGelu), and at level all writes
    // the Shape → Gather chains as Shape → Split → Squeeze, whose Reshape targets still resolve.
    const half = cloneModel(m);
    await runPipeline(half, ['convert-fp16']);
    const fused = await ortOptimized(half, 'encoder-fp16', 'all');
    expect(opTypes(fused)).toContain('Split');
    const a = analyzeModel(fused, { timeline: false, dimValues: dims });
    expectComplete(a, 'encoder fp16 all');
    expect(a.totals.macs).toBe(analyzeModel(m, { timeline: false, dimValues: dims }).totals.macs);
  }, 20_000);

  test('an RMSNorm MLP with x·sigmoid(1.702x): SimplifiedLayerNormalization and QuickGelu', async () => {
    const b = new GraphBuilder({ opset: 17 });
    let x = b.input('x', F, [1, 8, 32]);
    for (let l = 0; l < 2; l++) {
      const mean = b.op('ReduceMean', [b.op('Pow', [x, b.constant(`two${l}`, Tensor.scalar(F, 2))])], { axes: [-1], keepdims: 1 });
      const rms = b.op('Sqrt', [b.op('Add', [mean, b.constant(`eps${l}`, Tensor.scalar(F, 1e-6))])]);
      const n = b.op('Mul', [f32(b, `g${l}`, [32], (i) => 1 + i / 32), b.op('Div', [x, rms])]);
      const h = b.op('Add', [b.op('MatMul', [n, f32(b, `w1${l}`, [32, 64], Math.sin)]), f32(b, `b1${l}`, [64], Math.cos)]);
      const g = b.op('Mul', [h, b.op('Sigmoid', [b.op('Mul', [h, b.constant(`a${l}`, Tensor.scalar(F, 1.702))])])]);
      x = b.op('Add', [x, b.op('Add', [b.op('MatMul', [g, f32(b, `w2${l}`, [64, 32], Math.cos)]), f32(b, `b2${l}`, [32], Math.sin)])]);
    }
    b.output(x, 'y');
    // QuickGelu's 1 + 4 + 1 per element is the Mul, Sigmoid and Mul it replaced. Each
    // SimplifiedLayerNormalization counts 5 · 256 = 1280 where the decomposition counted
    // Pow, ReduceMean's sum, Div and Mul (4 · 256) and ReduceMean's divide, Add ε, Sqrt (3 · 8 rows) = 1048.
    expect(await compare(b.build(), 'rms-quickgelu', ['SimplifiedLayerNormalization', 'com.microsoft::QuickGelu'])).toBe(2 * (1280 - 1048));
  }, 20_000);

  test("SiLU's x·sigmoid(x): QuickGelu with alpha 1, no α·x multiply counted", async () => {
    // QuickGeluFusion fuses x·Sigmoid(x) too, with alpha = 1: Sigmoid (4) + Mul (1) per element,
    // as the original (counted 1 + 4 + 1 it had 32 FLOPs more over these 32 elements).
    const b = new GraphBuilder({ opset: 17 });
    const h = b.op('MatMul', [b.input('x', F, [1, 4, 8]), f32(b, 'w', [8, 8], Math.sin)]);
    b.output(b.op('Mul', [h, b.op('Sigmoid', [h])]), 'y');
    const m = b.build();
    expect(await compare(m, 'silu', ['com.microsoft::QuickGelu'])).toBe(0);
    const q = [...(await ortOptimized(m, 'silu', 'all')).graph].find((n) => n.opType === 'QuickGelu')!;
    expect(q.getFloat('alpha', 0)).toBe(1);
  }, 20_000);

  test('a patch-embedding Conv, Conv + Relu and a residual Add: FusedConv (extended), NCHWc Convs with the Relu and the Add fused (all); FusedGemm', async () => {
    const b = new GraphBuilder({ opset: 17 });
    const x = b.input('x', F, [1, 3, 32, 32]);
    const c0 = b.op('Conv', [x, f32(b, 'w0', [16, 3, 4, 4], Math.sin), f32(b, 'b0', [16], Math.cos)], { kernel_shape: [4, 4], strides: [4, 4] });
    const c1 = b.op('Relu', [b.op('Conv', [c0, f32(b, 'w1', [16, 16, 3, 3], Math.cos), f32(b, 'b1', [16], Math.sin)], { kernel_shape: [3, 3], pads: [1, 1, 1, 1] })]);
    const c2 = b.op('Conv', [c1, f32(b, 'w2', [16, 16, 3, 3], (i) => Math.sin(i + 1)), f32(b, 'b2', [16], Math.sin)], { kernel_shape: [3, 3], pads: [1, 1, 1, 1] });
    b.output(b.op('Relu', [b.op('Add', [c2, c0])]), 'y');
    const cnn = b.build();
    // Exact: the bias, the fused Sum and the fused activation count as the Add and Relu did.
    expect(await compare(cnn, 'cnn', [])).toBe(0);
    expect(opTypes(await ortOptimized(cnn, 'cnn', 'extended'))).toContain('com.microsoft::FusedConv');
    expect(opTypes(await ortOptimized(cnn, 'cnn', 'all'))).toContain('com.microsoft.nchwc::Conv');

    const g = new GraphBuilder({ opset: 17 });
    const h = g.op('Relu', [g.op('Gemm', [g.input('x', F, [4, 32]), f32(g, 'w', [32, 16], Math.sin), f32(g, 'c', [16], Math.cos)])]);
    g.output(g.op('Sigmoid', [g.op('Gemm', [h, f32(g, 'w2', [16, 16], Math.cos), f32(g, 'c2', [16], Math.sin)], { transB: 1 })]), 'y');
    expect(await compare(g.build(), 'gemm', ['com.microsoft::FusedGemm'])).toBe(0);
  }, 20_000);

  test('NCHWc Convs whose output channels are not a multiple of the block size: the padded filters are not counted', async () => {
    // onnxruntime stores Conv(8→10)'s weight as [16 (or 8·2), 8, 3, 3] and its bias as [16], the
    // extra filters zero; the ReorderOutput after it (channels 10), or after the MaxPool that
    // reads the blocked output, says how many are the model's. Counted padded, the 8→10 Conv had
    // 1,168 parameters for 730, the chain 8→10→12 2,624 for 1,822.
    const b = new GraphBuilder({ opset: 17 });
    const x = b.input('x', F, [1, 8, 16, 16]);
    const c0 = b.op('Relu', [b.op('Conv', [x, f32(b, 'w0', [10, 8, 3, 3], Math.sin), f32(b, 'b0', [10], Math.cos)], { kernel_shape: [3, 3], pads: [1, 1, 1, 1] })]);
    const r0 = b.op('Conv', [x, f32(b, 'w2', [10, 8, 1, 1], Math.cos), f32(b, 'b2', [10], Math.sin)], { kernel_shape: [1, 1] });
    const s0 = b.op('Relu', [b.op('Add', [c0, r0])]);
    b.output(b.op('Conv', [s0, f32(b, 'w1', [12, 10, 3, 3], Math.cos), f32(b, 'b1', [12], Math.sin)], { kernel_shape: [3, 3] }), 'y');
    const chain = b.build();
    expect(analyzeModel(chain, { timeline: false }).totals.params).toBe(730 + 90 + 1092);
    expect(await compare(chain, 'nchwc-padded', [])).toBe(0);
    const fused = await ortOptimized(chain, 'nchwc-padded', 'all');
    expect(opTypes(fused)).toContain('com.microsoft.nchwc::Conv');
  }, 20_000);
});
