/**
 * The contrib ops onnxruntime 1.30 writes into the optimized graph of a quantized model and that
 * had no cost or no shape rule (src/ops/contrib-quantized.ts, contrib-fused.ts, contrib-nchwc.ts): each
 * one-node model's output shape (inferShapes: onnxruntime's optimized file carries no
 * value_info for them) and its cost (analyzeModel). Without these declarations `analyze` of
 * onnxruntime's optimized QDQ transformer said "no cost model for op 'com.microsoft::QLinearSoftmax'"
 * and lost every shape after it. The same ops in onnxruntime's own optimized files:
 * packages/runtime/test/integer-analysis.test.ts. And the float Conv/Gemm forms its optimizer
 * writes into a float model (com.microsoft FusedConv and FusedGemm at levels extended and all, the
 * com.microsoft.nchwc Conv at all), which had none either: their totals over onnxruntime's own
 * files, packages/runtime/test/transformer-analysis.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { Attribute, AttributeType, DataType, Graph, GraphBuilder, Node, Tensor, type Model, type Value } from '@onnxkit/graph';
import { analyzeModel, inferShapes } from '../../src/analysis/index.js';
import { attributeProblem } from '../../src/common/attribute-schema.js';
import { getOp } from '../../src/ops/registry.js';
import { decode, encode } from '@onnxkit/importer';
import { runBuilt as runN } from './op-test-helpers.js';

const U8 = DataType.UINT8;
const F = DataType.FLOAT;
const MS = { domain: 'com.microsoft' };
const NCHWC = { domain: 'com.microsoft.nchwc' };

/** The model of one contrib node `build(b, s, z)` makes (s: a float scale, z: a uint8 zero point), its output 'y'. */
function oneNode(build: (b: GraphBuilder, s: Value, z: Value) => Value): Model {
  const b = new GraphBuilder({ opset: 17 });
  const s = b.constant('s', Tensor.fromArray(F, [], Float32Array.of(0.02)));
  const z = b.constant('z', Tensor.fromArray(U8, [], Uint8Array.of(128)));
  b.output(build(b, s, z), 'y');
  return b.build();
}

/** One contrib node `op` over `inputs(b)`, its output 'y'; the shape and the layer's cost. */
function run(build: (b: GraphBuilder, s: Value, z: Value) => Value): { shape: unknown; macs: unknown; intOps: unknown; flops: unknown; unknown: unknown; warnings: string[] } {
  const m = oneNode(build);
  const inf = inferShapes(m);
  const y = m.graph.valuesByName().get('y')!;
  const r = analyzeModel(m, { timeline: false });
  const layer = r.layers.find((l) => l.name === 'op')!;
  return {
    shape: inf.shapeOf(y),
    macs: layer.macs,
    intOps: layer.intOps,
    flops: layer.flops,
    unknown: layer.unknown ?? [],
    warnings: r.diagnostics.filter((d) => d.severity === 'warning').map((d) => d.message),
  };
}

describe('com.microsoft QLinear element ops (onnxruntime QDQ fusion)', () => {
  it('QLinearSigmoid and QLinearLeakyRelu: the input shape, one table lookup per element, as integer work', () => {
    for (const type of ['QLinearSigmoid', 'QLinearLeakyRelu']) {
      const r = run((b, s, z) => b.op(type, [b.input('x', U8, ['N', 4, 8, 8]), s, z, s, z], type === 'QLinearLeakyRelu' ? { alpha: Attribute.float('alpha', 0.1) } : {}, { name: 'op', ...MS }));
      expect(r.shape, type).toEqual(['N', 4, 8, 8]);
      expect(r.warnings, type).toEqual([]);
      const r1 = run((b, s, z) => b.op(type, [b.input('x', U8, [2, 4, 8, 8]), s, z, s, z], {}, { name: 'op', ...MS }));
      expect(r1, type).toMatchObject({ shape: [2, 4, 8, 8], macs: 0, intOps: 2 * 4 * 64, flops: 0, unknown: [] });
    }
    expect(getOp('QLinearLeakyRelu', 'com.microsoft')?.attributes).toMatchObject({ alpha: { default: 0.01 } });
  });

  it('QLinearSoftmax: the input shape; max, exp lookup, sum and requantization (6) per element', () => {
    const r = run((b, s, z) => b.op('QLinearSoftmax', [b.input('x', U8, [2, 4, 16, 16]), s, z, s, z], { axis: -1, opset: 13 }, { name: 'op', ...MS }));
    expect(r).toMatchObject({ shape: [2, 4, 16, 16], macs: 0, intOps: 6 * 2 * 4 * 256, flops: 0, unknown: [], warnings: [] });
    expect(getOp('QLinearSoftmax', 'com.microsoft')?.attributes).toHaveProperty('opset');
  });

  it('QLinearWhere: condition, X and Y broadcast three ways; select and requantization per output', () => {
    const r = run((b, s, z) =>
      b.op('QLinearWhere', [b.input('c', DataType.BOOL, [1, 4, 1, 1]), b.input('x', U8, [2, 1, 8, 8]), s, z, b.input('yy', U8, [1, 1, 1, 8]), s, z, s, z], {}, { name: 'op', ...MS }),
    );
    expect(r).toMatchObject({ shape: [2, 4, 8, 8], macs: 0, intOps: 2 * 2 * 4 * 64, flops: 0, unknown: [], warnings: [] });
  });

  it('QLinearAveragePool: the pooled shape, channels first or last (its cost needed the shape)', () => {
    const first = run((b, s, z) => b.op('QLinearAveragePool', [b.input('x', U8, [1, 4, 8, 8]), s, z, s, z], { kernel_shape: [2, 2], strides: [2, 2] }, { name: 'op', ...MS }));
    expect(first).toMatchObject({ shape: [1, 4, 4, 4], macs: 0, intOps: 64 * (4 + 1 + 3), unknown: [], warnings: [] });
    const last = run((b, s, z) => b.op('QLinearAveragePool', [b.input('x', U8, [1, 8, 8, 4]), s, z, s, z], { kernel_shape: [3, 3], pads: [1, 1, 1, 1], channels_last: 1 }, { name: 'op', ...MS }));
    expect(last).toMatchObject({ shape: [1, 8, 8, 4], intOps: 256 * (9 + 1 + 3), unknown: [], warnings: [] });
  });

  it('DynamicQuantizeMatMul and MatMulIntegerToFloat: the MatMul shape (batched), float out', () => {
    const w = (b: GraphBuilder) => b.constant('w', Tensor.fromArray(DataType.INT8, [32, 10], new Int8Array(320)));
    const d = run((b, s, z) => b.op('DynamicQuantizeMatMul', [b.input('a', F, ['S', 2, 32]), w(b), s, z], {}, { name: 'op', ...MS }));
    expect(d).toMatchObject({ shape: ['S', 2, 10], macs: null });
    const d1 = run((b, s, z) => b.op('DynamicQuantizeMatMul', [b.input('a', F, [3, 2, 32]), w(b), s, z], {}, { name: 'op', ...MS }));
    expect(d1).toMatchObject({ shape: [3, 2, 10], macs: 3 * 2 * 10 * 32, unknown: [] });
    const m = run((b, s, z) => b.op('MatMulIntegerToFloat', [b.input('a', U8, [4, 32]), w(b), s, s, z], {}, { name: 'op', ...MS }));
    expect(m).toMatchObject({ shape: [4, 10], macs: 4 * 10 * 32, unknown: [], warnings: [] });
  });
});

describe('the matrix-product contrib ops take ONNX MatMul\'s shape rule (ops/linear.ts matmulOut)', () => {
  /** The shape of 'y' and the shape-mismatch messages inferShapes reports for node 'op' (without their "<op type> 'op': " prefix). */
  function infer(build: (b: GraphBuilder, s: Value, z: Value) => Value): { shape: unknown; mismatches: string[] } {
    const m = oneNode(build);
    const inf = inferShapes(m);
    return { shape: inf.shapeOf(m.graph.valuesByName().get('y')!), mismatches: inf.diagnostics.filter((d) => d.code === 'shape-mismatch' && d.node === 'op').map((d) => d.message.replace(/^\S+ 'op': /, '')) };
  }
  const w = (b: GraphBuilder, dims: number[]) => b.constant('w', Tensor.fromArray(DataType.INT8, dims, new Int8Array(dims.reduce((x, y) => x * y, 1))));

  it('a mismatched inner dimension is reported as MatMul reports it (before, the contrib ops passed it silently)', () => {
    const mm = infer((b) => b.op('MatMul', [b.input('a', F, [4, 16]), b.input('bb', F, [32, 10])], {}, { name: 'op' }));
    expect(mm.mismatches).toEqual(['MatMul inner dimensions differ: 16 vs 32']);
    const cases: [string, (b: GraphBuilder, s: Value, z: Value) => Value][] = [
      ['DynamicQuantizeMatMul', (b, s, z) => b.op('DynamicQuantizeMatMul', [b.input('a', F, [4, 16]), w(b, [32, 10]), s, z], {}, { name: 'op', ...MS })],
      ['MatMulIntegerToFloat', (b, s, z) => b.op('MatMulIntegerToFloat', [b.input('a', U8, [4, 16]), w(b, [32, 10]), s, s, z], {}, { name: 'op', ...MS })],
      // K as read: A [16, 4] transposed is [4, 16], B [10, 32] transposed is [32, 10].
      ['FusedMatMul', (b) => b.op('FusedMatMul', [b.input('a', F, [16, 4]), b.input('bb', F, [10, 32])], { transA: 1, transB: 1 }, { name: 'op', ...MS })],
    ];
    for (const [type, build] of cases) expect(infer(build), type).toEqual({ shape: mm.shape, mismatches: mm.mismatches });
    // Rank 0 likewise.
    expect(infer((b) => b.op('FusedMatMul', [b.input('a', F, []), b.input('bb', F, [4, 6])], {}, { name: 'op', ...MS })).mismatches).toEqual(['MatMul inputs must have rank ≥ 1']);
  });

  it('symbolic dims merge as in MatMul: a symbolic inner dim meets a concrete one unreported, symbolic batch dims broadcast', () => {
    const d = infer((b, s, z) => b.op('DynamicQuantizeMatMul', [b.input('a', F, ['B', 'S', 'K']), w(b, [32, 10]), s, z], {}, { name: 'op', ...MS }));
    expect(d).toEqual({ shape: ['B', 'S', 10], mismatches: [] });
    const f = infer((b) => b.op('FusedMatMul', [b.input('a', F, ['B', 1, 'S', 'K']), b.input('bb', F, [1, 'H', 'K', 'S'])], { transB: 1 }, { name: 'op', ...MS }));
    expect(f).toEqual({ shape: ['B', 'H', 'S', 'K'], mismatches: [] });
    const m = infer((b, s, z) => b.op('MatMulIntegerToFloat', [b.input('a', U8, ['N', 32]), w(b, [32, 10]), b.constant('s16', Tensor.fromArray(DataType.FLOAT16, [], Uint16Array.of(0x3c00))), s, z], {}, { name: 'op', ...MS }));
    expect(m).toEqual({ shape: ['N', 10], mismatches: [] });
  });
});

describe("onnxruntime's float contrib ops in a quantized model's float parts", () => {
  it('FusedMatMul: the transposes (transA/B, transBatchA/B) applied to the operands; MACs as the MatMul it replaced, alpha free', () => {
    // Attention's Q·Kᵀ as MatmulTransposeFusion writes it: Q [S, B·H, d] read as [B·H, S, d], K likewise and transposed.
    const r = run((b) => b.op('FusedMatMul', [b.input('q', F, [5, 8, 16]), b.input('k', F, [5, 8, 16])], { transBatchA: 1, transBatchB: 1, transB: 1, alpha: Attribute.float('alpha', 0.25) }, { name: 'op', ...MS }));
    expect(r).toMatchObject({ shape: [8, 5, 5], macs: 8 * 5 * 5 * 16, flops: 2 * 8 * 5 * 5 * 16, unknown: [], warnings: [] });
    const plain = run((b) => b.op('FusedMatMul', [b.input('a', F, [2, 3, 4]), b.input('bb', F, [4, 6])], {}, { name: 'op', ...MS }));
    expect(plain).toMatchObject({ shape: [2, 3, 6], macs: 2 * 3 * 6 * 4 });
    const ta = run((b) => b.op('FusedMatMul', [b.input('a', F, [4, 3]), b.input('bb', F, [6, 4])], { transA: 1, transB: 1 }, { name: 'op', ...MS }));
    expect(ta).toMatchObject({ shape: [3, 6], macs: 3 * 6 * 4 });
  });

  it('com.microsoft Gelu: the input shape, 8 per element as the ONNX Gelu', () => {
    const r = run((b) => b.op('Gelu', [b.input('x', F, [2, 5, 32])], {}, { name: 'op', ...MS }));
    expect(r).toMatchObject({ shape: [2, 5, 32], macs: 0, flops: 8 * 320, unknown: [], warnings: [] });
  });

  it('com.microsoft.nchwc ReorderInput → MaxPool → ReorderOutput: NCHW dims through the blocked layout, the pool costed', () => {
    const b = new GraphBuilder({ opset: 17 });
    const x = b.input('x', F, [1, 16, 8, 8]);
    const r = b.op('ReorderInput', [x], { channels_last: 0 }, { name: 'ri', ...NCHWC });
    const p = b.op('MaxPool', [r], { kernel_shape: [3, 3], pads: [1, 1, 1, 1], strides: [2, 2] }, { name: 'op', ...NCHWC });
    b.output(b.op('ReorderOutput', [p], { channels: 16, channels_last: 0 }, { name: 'ro', ...NCHWC }), 'y');
    const m = b.build();
    const inf = inferShapes(m);
    expect(inf.shapeOf(m.graph.valuesByName().get('y')!)).toEqual([1, 16, 4, 4]);
    const a = analyzeModel(m, { timeline: false });
    expect(a.diagnostics.filter((d) => d.severity === 'warning')).toEqual([]);
    expect(a.layers.find((l) => l.name === 'op')).toMatchObject({ macs: 0, flops: 9 * 16 * 16 });
    expect(a.totals.flops).toBe(9 * 16 * 16);
    // NHWC in and out.
    const b2 = new GraphBuilder({ opset: 17 });
    const r2 = b2.op('ReorderInput', [b2.input('x', F, [1, 8, 8, 16])], { channels_last: 1 }, NCHWC);
    b2.output(b2.op('ReorderOutput', [r2], { channels: 16, channels_last: 1 }, NCHWC), 'y');
    const m2 = b2.build();
    const inf2 = inferShapes(m2);
    expect(inf2.shapeOf(r2)).toEqual([1, 16, 8, 8]);
    expect(inf2.shapeOf(m2.graph.valuesByName().get('y')!)).toEqual([1, 8, 8, 16]);
  });
});

const vec = (name: string, b: GraphBuilder, n: number): Value => b.constant(name, Tensor.fromArray(F, [n], Float32Array.from({ length: n }, (_, i) => 1 + i / n)));

describe('a float Conv or Gemm with what onnxruntime fused into it: com.microsoft.nchwc Conv, FusedConv, FusedGemm', () => {
  it('NCHWc Conv and FusedConv: the Conv rule on NCHW dims; the Conv MACs; bias, fused Sum and fused activation per element', () => {
    const w = (b: GraphBuilder) => b.constant('w', Tensor.fromArray(F, [16, 8, 3, 3], new Float32Array(16 * 8 * 9).fill(0.1)));
    // The NCHWc Conv's blocked output back to NCHW, as onnxruntime writes it: `channels` are the model's.
    const out = (b: GraphBuilder, v: Value, channels = 16): Value => b.op('ReorderOutput', [v], { channels }, NCHWC);
    const plain = runN((b) => [out(b, b.op('Conv', [b.input('x', F, [1, 8, 10, 10]), w(b), vec('bias', b, 16)], { kernel_shape: [3, 3], pads: [1, 1, 1, 1] }, { name: 'op', ...NCHWC }))]);
    expect(plain).toMatchObject({ shapes: [[1, 16, 10, 10]], macs: 1600 * 72, flops: 2 * 1600 * 72 + 1600, params: 16 * 72 + 16, unknown: [], warnings: [] });
    const fused = runN((b) => [
      out(b, b.op('Conv', [b.input('x', F, [1, 8, 10, 10]), w(b), vec('bias', b, 16), b.input('sum', F, [1, 16, 5, 5])], { kernel_shape: [3, 3], pads: [1, 1, 1, 1], strides: [2, 2], activation: 'Relu' }, { name: 'op', ...NCHWC })),
    ]);
    expect(fused).toMatchObject({ shapes: [[1, 16, 5, 5]], macs: 400 * 72, flops: 2 * 400 * 72 + 3 * 400, unknown: [], warnings: [] });
    const other = runN((b) => [out(b, b.op('Conv', [b.input('x', F, [1, 8, 10, 10]), w(b)], { kernel_shape: [3, 3], activation: 'Gelu' }, { name: 'op', ...NCHWC }))]);
    expect(other.macs).toBe(64 * 16 * 72);
    expect(other.flops).toBeNull();
    // Looked up prototype-safely: 'constructor' is no activation (it found Object's and counted a function).
    const proto = runN((b) => [out(b, b.op('Conv', [b.input('x', F, [1, 8, 10, 10]), w(b)], { kernel_shape: [3, 3], activation: 'constructor' }, { name: 'op', ...NCHWC }))]);
    expect(proto).toMatchObject({ macs: 64 * 16 * 72, flops: null });
    expect((proto.unknown as string[])[0]).toMatch(/'constructor' \(not an MLAS activation\)/);
    for (const [type, opts] of [['Conv', NCHWC], ['FusedConv', MS]] as const) {
      const r = runN((b) => [out(b, b.op(type, [b.input('x', F, [1, 8, 10, 10]), w(b), vec('bias', b, 16), b.input('z', F, [1, 16, 8, 8])], { kernel_shape: [3, 3], activation: 'LeakyRelu', activation_params: Attribute.floats('activation_params', [0.1]) }, { name: 'op', ...opts }))]);
      expect(r, type).toMatchObject({ shapes: [[1, 16, 8, 8]], macs: 64 * 16 * 72, flops: 2 * 1024 * 72 + (1 + 1 + 2) * 1024, unknown: [], warnings: [] });
    }
    // Padded: 10 of the 16 filters stored are the model's (ReorderOutput's channels): parameters,
    // MACs and FLOPs are 10/16 of the stored ones; no reader saying how many: unknown, not the padded count.
    const padded = runN((b) => [out(b, b.op('Conv', [b.input('x', F, [1, 8, 10, 10]), w(b), vec('bias', b, 16)], { kernel_shape: [3, 3], pads: [1, 1, 1, 1], activation: 'Relu' }, { name: 'op', ...NCHWC }), 10)]);
    expect(padded).toMatchObject({ shapes: [[1, 10, 10, 10]], macs: 1000 * 72, flops: 2 * 1000 * 72 + 2 * 1000, params: 10 * 72 + 10, unknown: [] });
    // No reader saying how many, and no bias: the channel dim unknown, the MACs and FLOPs null,
    // not the padded count. With a bias whose last stored value is non-zero (onnxruntime pads with
    // zeros): all 16 are the model's.
    const orphan = runN((b) => [b.op('Conv', [b.input('x', F, [1, 8, 10, 10]), w(b)], { kernel_shape: [3, 3], pads: [1, 1, 1, 1] }, { name: 'op', ...NCHWC })]);
    expect(orphan).toMatchObject({ shapes: [[1, null, 10, 10]], macs: null, flops: null });
    expect((orphan.unknown as string[]).join()).toMatch(/output channels are not recorded: onnxruntime pads them to its block size \(16 stored, of which 1 to 16 are the model's;/);
    // Its parameters as stored, an upper bound the report warns of (a parameter count is never null).
    expect(orphan.params).toBe(16 * 72);
    expect(orphan.warnings.join()).toMatch(/params is an upper bound: 1152 parameters of 1 layer\(s\) are counted as stored/);
    const biased = runN((b) => [b.op('Conv', [b.input('x', F, [1, 8, 10, 10]), w(b), vec('bias', b, 16)], { kernel_shape: [3, 3], pads: [1, 1, 1, 1] }, { name: 'op', ...NCHWC })]);
    expect(biased).toMatchObject({ shapes: [[1, 16, 10, 10]], macs: 1600 * 72, params: 16 * 72 + 16, unknown: [] });
    expect(getOp('FusedConv', 'com.microsoft')?.attributes).toBe(getOp('Conv', 'com.microsoft.nchwc')?.attributes);
    expect(getOp('Conv', 'com.microsoft.nchwc')?.attributes).toMatchObject({ activation: { type: 3 }, activation_params: { type: 6 }, group: { default: 1 } });
  });

  // blockedChannels walked every path from a Conv's output, recursively and at most 64 deep: 2^k
  // paths through k chained Add(x, x) when no ReorderOutput ends them (a 40-deep chain ran for
  // minutes, found by hand), and a ReorderOutput 65 or more values away was not found.
  it('NCHWc Conv: the channel count found 100 values away; a chain of Add(x, x) walked once per value', () => {
    const w = (b: GraphBuilder): Value => b.floats('w', [16, 8, 3, 3], new Float32Array(16 * 72).fill(0.5));
    const chain = (op: 'Add' | 'Relu', depth: number, channels?: number) =>
      runN((b) => {
        let v = b.op('Conv', [b.input('x', F, [1, 8, 10, 10]), w(b)], { kernel_shape: [3, 3], pads: [1, 1, 1, 1] }, { name: 'op', ...NCHWC });
        for (let i = 0; i < depth; i++) v = b.op(op, op === 'Add' ? [v, v] : [v]);
        return [channels === undefined ? v : b.op('ReorderOutput', [v], { channels }, NCHWC)];
      });
    expect(chain('Relu', 100, 10)).toMatchObject({ shapes: [[1, 10, 10, 10]], macs: 1000 * 72, params: 10 * 72, unknown: [] });
    const orphan = chain('Add', 48);
    expect(orphan).toMatchObject({ macs: null, params: 16 * 72 });
    expect((orphan.unknown as string[]).join()).toMatch(/output channels are not recorded/);
  });

  // The shape engine gives a rule's last result to the next node reading the same attributes and
  // input facts; after a save and load two such Convs share both (the decoder shares identical
  // attributes), and the second took the first's channels from its readers: 20 for a Conv whose
  // reader says 24 (or none). The NCHWc Conv's rule reads its readers and bias, so is not memoised.
  it('NCHWc Conv: two Convs of the same attributes and input read their own readers after a round trip', () => {
    const b = new GraphBuilder({ opset: 17 });
    const x = b.input('x', F, [1, 3, 8, 8]);
    const conv = (name: string): Value => b.op('Conv', [x, b.floats(`w${name}`, [32, 3, 3, 3], new Float32Array(32 * 27).fill(0.1))], { kernel_shape: [3, 3], pads: [1, 1, 1, 1] }, { name, ...NCHWC });
    const a = conv('a');
    const c = conv('c');
    const d = conv('d');
    b.output(b.op('ReorderOutput', [a], { channels: 20 }, NCHWC), 'ya');
    b.output(b.op('ReorderOutput', [c], { channels: 24 }, NCHWC), 'yc');
    b.output(d, 'yd');
    const r = analyzeModel(decode(encode(b.build())), { timeline: false });
    const layer = (name: string) => r.layers.find((l) => l.name === name)!;
    expect([layer('a').macs, layer('c').macs, layer('d').macs]).toEqual([20 * 64 * 27, 24 * 64 * 27, null]);
    expect([layer('a').params, layer('c').params, layer('d').params]).toEqual([20 * 27, 24 * 27, 32 * 27]);
  });

  it('NCHWc Upsample: integer scales per dim (the channels kept), the Resize cost of its mode', () => {
    const up = (mode: string) =>
      runN((b) => [b.op('ReorderOutput', [b.op('Upsample', [b.op('ReorderInput', [b.input('x', F, [1, 16, 4, 4])], {}, NCHWC)], { scales: [1, 1, 2, 2], mode }, { name: 'op', ...NCHWC })], { channels: 16 }, NCHWC)]);
    expect(up('nearest')).toMatchObject({ shapes: [[1, 16, 8, 8]], macs: 0, flops: 0, unknown: [], warnings: [] });
    // linear: 2·2² per output element, as Resize over 4-D.
    expect(up('linear')).toMatchObject({ shapes: [[1, 16, 8, 8]], flops: 8 * 16 * 64, unknown: [], warnings: [] });
    // Its scales are INTS (onnxruntime's NchwcUpsample schema), not the ONNX Upsample's FLOATS.
    const g = new GraphBuilder({ opset: 17 });
    const u = g.op('Upsample', [g.input('x', F, [1, 16, 4, 4])], { scales: [1, 1, 2, 2] }, NCHWC).producer!;
    expect(u.attr('scales')?.type).toBe(AttributeType.INTS);
    expect(attributeProblem(u)).toBeUndefined();
  });

  it("NCHWc Conv in an If branch (onnxruntime transforms bodies too): its parameters scaled to the model's channels there as well", () => {
    // then: NCHWc Conv(8→10 stored 16) → ReorderOutput (channels 10); else: the input as it is.
    // Counted as stored the branch had 16·72 + 16 = 1168 parameters for the model's 730.
    const b = new GraphBuilder({ opset: 17 });
    const x = b.input('x', F, [1, 8, 10, 10]);
    const cond = b.input('cond', DataType.BOOL, []);
    const w = b.constant('w', Tensor.fromArray(F, [16, 8, 3, 3], new Float32Array(16 * 72).fill(0.1)));
    const bias = b.constant('bias', Tensor.fromArray(F, [16], new Float32Array(16)));
    const conv = new Node('Conv', [x, w, bias], { name: 'conv', domain: 'com.microsoft.nchwc', attributes: [Attribute.ints('kernel_shape', [3, 3]), Attribute.ints('pads', [1, 1, 1, 1])], outputs: ['blocked'] });
    const back = new Node('ReorderOutput', [conv.output], { name: 'back', domain: 'com.microsoft.nchwc', attributes: [Attribute.int('channels', 10)], outputs: ['t'] });
    const thenG = new Graph({ name: 'then' });
    thenG.append(conv);
    thenG.append(back);
    thenG.addOutput(back.output);
    const keep = new Node('Identity', [x], { name: 'keep', outputs: ['e'] });
    const elseG = new Graph({ name: 'else' });
    elseG.append(keep);
    elseG.addOutput(keep.output);
    b.output(b.op('If', [cond], { then_branch: thenG, else_branch: elseG }, { name: 'if' }), 'y');
    const a = analyzeModel(b.build(), { timeline: false });
    expect(a.totals.params).toBe(10 * 72 + 10);
    expect(a.totals.macs).toBe(1000 * 72);
  });

  it('FusedGemm: the Gemm rule (transposes), the Gemm MACs, its C add and scaling, and the fused activation per element', () => {
    const r = runN((b) => [
      b.op('FusedGemm', [b.input('a', F, [32, 4]), b.constant('w', Tensor.fromArray(F, [16, 32], new Float32Array(512))), vec('c', b, 16)], { transA: 1, transB: 1, activation: 'Sigmoid' }, { name: 'op', ...MS }),
    ]);
    expect(r).toMatchObject({ shapes: [[4, 16]], macs: 4 * 16 * 32, flops: 2 * 4 * 16 * 32 + (1 + 4) * 64, params: 512 + 16, unknown: [], warnings: [] });
    const alpha = runN((b) => [b.op('FusedGemm', [b.input('a', F, [4, 32]), b.input('w', F, [32, 16])], { alpha: Attribute.float('alpha', 0.5), activation: 'Relu' }, { name: 'op', ...MS })]);
    expect(alpha).toMatchObject({ shapes: [[4, 16]], macs: 4 * 16 * 32, flops: 2 * 4 * 16 * 32 + (1 + 1) * 64 });
    expect(getOp('FusedGemm', 'com.microsoft')?.attributes).toMatchObject({ activation: { type: 3 }, activation_alpha: { type: 1 }, transA: { default: 0 } });
  });
});

describe("a contrib op's attributes are checked against its own declared schema", () => {
  it('a FusedMatMul with a FLOAT transA is malformed (bad-attribute, outputs unknown), not a throw from its shape rule', () => {
    const b = new GraphBuilder({ opset: 17 });
    const n = b.node('FusedMatMul', [b.input('a', F, [2, 4]), b.input('w', F, [4, 3])], { transA: Attribute.float('transA', 1) }, { name: 'op', ...MS });
    b.output(n.outputs[0]!, 'y');
    expect(attributeProblem(n)).toBe("attribute 'transA' is FLOAT, not INT");
    const inf = inferShapes(b.build());
    expect(inf.diagnostics.filter((d) => d.code === 'bad-attribute').map((d) => d.message)).toEqual([expect.stringMatching(/transA/)]);
    // The analysis makes it a layer of unknown cost with the reason (its cost function would read the attribute).
    const layer = analyzeModel(b.build(), { timeline: false }).layers.find((l) => l.name === 'op')!;
    expect(layer.macs).toBeNull();
    expect(layer.unknown?.[0]).toMatch(/^bad-attribute: .*transA/);
    // A well-formed one, and an op of another domain without a declared schema, have no problem.
    const ok = new GraphBuilder({ opset: 17 }).node('FusedMatMul', [null, null], { transA: 1, alpha: Attribute.float('alpha', 0.5) }, MS);
    expect(attributeProblem(ok)).toBeUndefined();
    expect(attributeProblem(new GraphBuilder({ opset: 17 }).node('Mine', [null], { transA: Attribute.float('transA', 1) }, { domain: 'com.example' }))).toBeUndefined();
  });
});
