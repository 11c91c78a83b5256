/**
 * The analysis of onnxruntime's NCHWc graphs (level `all`, optimizedModelFilePath) whose channel
 * counts are not multiples of its block size (8 with AVX2, 16 with AVX-512): the op modules in
 * packages/passes/src/ops/contrib-nchwc.ts. onnxruntime-node 1.30 on an AVX-512 CPU writes, for
 * these models (3×16×16 input unless said; "[32, …]" the stored weight):
 * - Conv(3→20) → MaxPool(20) → Conv(20→20): nchwc Conv [32, 3, 3, 3] (NCHW in) → ReorderOutput
 *   (channels 20) → ONNX MaxPool → ReorderInput (of 20 channels) → nchwc Conv [32, 32, 3, 3] → ReorderOutput 20.
 * - Conv(3→20)+Relu → Conv(20→20) + Add + Relu: nchwc Conv (Relu fused) → nchwc Conv [32, 32, 3, 3]
 *   with the first's output as its Sum input, Relu fused → ReorderOutput 20.
 * - then a BatchNormalization: a third nchwc Conv [32, 1, 1, 1], group 32.
 * - Conv(3→20) → depthwise Conv(20, group 20): nchwc Conv [32, 1, 3, 3], group 32.
 * - Conv(3→20) → Resize (linear, half_pixel) → Relu: nchwc Upsample (scales [1, 1, 2, 2], linear)
 *   → ONNX Relu on the blocked tensor → ReorderOutput 20.
 * - two Conv(3→20) → Concat → Conv(40→20): the Concat stays ONNX (channels not block-aligned),
 *   ReorderInput of 40 channels → nchwc Conv [32, 48, 3, 3].
 * - Transpose(NHWC→NCHW) → Conv(20→20) → Transpose back: ReorderInput channels_last → nchwc Conv
 *   → ReorderOutput channels_last (20).
 * - Conv(3→32) → MaxPool → Conv(32→32) → AveragePool → Conv(32→20) → GlobalAveragePool: nchwc
 *   MaxPool and AveragePool (32 channels), ReorderOutput 20 before an ONNX GlobalAveragePool;
 *   Conv(3→32) → GlobalAveragePool / GlobalMaxPool: nchwc GlobalAveragePool / GlobalMaxPool.
 * - Conv(3→20), y = Relu(c + c): ONNX Add and Relu on the blocked tensor.
 * The pools are converted only when their channels are a multiple of the block; the Conv, the
 * element-wise ops and Upsample run padded. Without contrib-nchwc these analysed the padded
 * channels as the model's (Conv(20→20) counted 32 × 32 filters) or had no cost model (nchwc
 * AveragePool, GlobalAveragePool, GlobalMaxPool, Upsample).
 */
import { readFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import * as ort from 'onnxruntime-node';
import { DataType, GraphBuilder, Tensor, type Model, type Value } from '@onnxkit/graph';
import { decode, encode } from '@onnxkit/importer';
import { analyzeModel, type AnalysisReport } from '@onnxkit/passes';

const tmp = mkdtempSync(join(tmpdir(), 'onnxkit-nchwc-'));
const FIXTURES = new URL('../../../fixtures/', import.meta.url).pathname;
const F = DataType.FLOAT;
const NCHWC = 'com.microsoft.nchwc';

/** onnxruntime's optimized graph of `m` at level all (one thread), read back. */
async function ortAll(m: Model, name: string): Promise<Model> {
  const file = join(tmp, `${name}.all.onnx`);
  const s = await ort.InferenceSession.create(encode(m), { graphOptimizationLevel: 'all', optimizedModelFilePath: file, intraOpNumThreads: 1, logSeverityLevel: 3 });
  await s.release();
  return decode(new Uint8Array(readFileSync(file)));
}

/** The op types of a graph, another domain's as `domain::type`. */
const opTypes = (m: Model): Set<string> => new Set([...m.graph].map((n) => (n.isOnnxDomain ? n.opType : `${n.domain}::${n.opType}`)));

const f32 = (b: GraphBuilder, name: string, dims: number[], f: (i: number) => number): Value =>
  b.constant(name, Tensor.fromArray(F, dims, Float32Array.from({ length: dims.reduce((p, d) => p * d, 1) }, (_, i) => f(i))));

/** A model built by `f` from a fresh builder, its Convs numbered by `conv`. */
function model(f: (b: GraphBuilder, conv: (x: Value, ci: number, co: number, extra?: { k?: number; group?: number }) => Value) => Value): Model {
  const b = new GraphBuilder({ opset: 17 });
  let k = 0;
  const conv = (x: Value, ci: number, co: number, extra: { k?: number; group?: number } = {}): Value => {
    const ks = extra.k ?? 3;
    const g = extra.group ?? 1;
    k++;
    const n = k;
    return b.op('Conv', [x, f32(b, `w${n}`, [co, ci / g, ks, ks], (i) => Math.sin(i + n)), f32(b, `b${n}`, [co], (i) => Math.cos(i + n))], {
      kernel_shape: [ks, ks],
      pads: ks === 3 ? [1, 1, 1, 1] : [0, 0, 0, 0],
      ...(g === 1 ? {} : { group: g }),
    });
  };
  b.output(f(b, conv), 'y');
  return b.build();
}

const image = (b: GraphBuilder, c = 3, h = 16): Value => b.input('x', F, [1, c, h, h]);
const resize = (b: GraphBuilder, x: Value, mode: string, extra: Record<string, string>): Value =>
  b.op('Resize', [x, b.constant('roi', Tensor.fromArray(F, [0], new Float32Array(0))), b.constant('sc', Tensor.fromArray(F, [4], Float32Array.from([1, 1, 2, 2])))], { mode, ...extra });
const bn = (b: GraphBuilder, x: Value, c: number): Value =>
  b.op('BatchNormalization', [x, f32(b, 's', [c], (i) => 1 + i / 10), f32(b, 'bb', [c], Math.sin), f32(b, 'mm', [c], Math.cos), f32(b, 'vv', [c], (i) => 1 + i / 20)]);

/** No layer of unknown cost, op or shape, no warning. */
function expectComplete(a: AnalysisReport, what: string): void {
  expect(a.diagnostics.filter((d) => d.severity !== 'info' || d.code === 'coverage'), what).toEqual([]);
}

/** The channel dims (dim 1) of every layer's output in `a`. */
const channelsOf = (a: AnalysisReport): Set<unknown> => new Set(a.layers.map((l) => l.outputShape?.[1]));

interface Case {
  readonly name: string;
  readonly build: Parameters<typeof model>[0];
  /** The NCHWc ops onnxruntime writes (another domain's ONNX ops too, as `domain::type` or the ONNX type). */
  readonly ops: readonly string[];
  /** The model's channel counts: every output of the optimized graph has one of them. */
  readonly channels: readonly number[];
  /**
   * The activations the optimized graph has more than the original: the copies ReorderInput and
   * ReorderOutput make (of the model's channels), less the tensors a fusion removed.
   */
  readonly activations: number;
}

const CASES: readonly Case[] = [
  {
    name: 'conv-maxpool-conv',
    build: (b, conv) => conv(b.op('MaxPool', [b.op('Relu', [conv(image(b), 3, 20)])], { kernel_shape: [2, 2], strides: [2, 2] }), 20, 20),
    ops: ['ReorderInput', 'ReorderOutput', 'Conv', 'MaxPool'],
    channels: [20],
    activations: 7680, // ReorderOutput [1, 20, 16, 16], ReorderInput and ReorderOutput [1, 20, 8, 8]
  },
  {
    name: 'residual',
    build: (b, conv) => {
      const c1 = b.op('Relu', [conv(image(b), 3, 20)]);
      return b.op('Relu', [b.op('Add', [conv(c1, 20, 20), c1])]);
    },
    ops: ['Conv', 'ReorderOutput'],
    channels: [20],
    activations: 0, // ReorderOutput [1, 20, 16, 16]; the Add (fused into the Conv as its Sum) has no output of its own
  },
  {
    name: 'depthwise',
    build: (b, conv) => b.op('Sigmoid', [conv(b.op('Relu', [conv(image(b), 3, 20)]), 20, 20, { group: 20 })]),
    ops: ['Conv', 'ReorderOutput'],
    channels: [20],
    activations: 5120, // ReorderOutput [1, 20, 16, 16]
  },
  {
    name: 'upsample-linear',
    build: (b, conv) => b.op('Relu', [resize(b, conv(image(b, 3, 8), 3, 20), 'linear', { coordinate_transformation_mode: 'half_pixel' })]),
    ops: ['Conv', 'Upsample', 'ReorderOutput', 'Relu'],
    channels: [20],
    activations: 5120, // ReorderOutput [1, 20, 16, 16]
  },
  {
    name: 'concat',
    build: (b, conv) => {
      const x = image(b);
      return conv(b.op('Concat', [conv(x, 3, 20), conv(x, 3, 20)], { axis: 1 }), 40, 20);
    },
    ops: ['Conv', 'ReorderOutput', 'ReorderInput', 'Concat'],
    channels: [20, 40],
    activations: 25600, // two ReorderOutput [1, 20, 16, 16], ReorderInput [1, 40, 16, 16], ReorderOutput [1, 20, 16, 16]
  },
  {
    name: 'nhwc',
    build: (b, conv) => b.op('Transpose', [conv(b.op('Transpose', [b.input('x', F, [1, 16, 16, 20])], { perm: [0, 3, 1, 2] }), 20, 20)], { perm: [0, 2, 3, 1] }),
    ops: ['ReorderInput', 'Conv', 'ReorderOutput'],
    channels: [20, 16], // the NHWC input and output: dim 1 is the height
    activations: 0, // ReorderInput and ReorderOutput in place of the two Transposes
  },
  {
    name: 'pools',
    build: (b, conv) => {
      const m = b.op('MaxPool', [conv(image(b), 3, 32)], { kernel_shape: [2, 2], strides: [2, 2] });
      const a = b.op('AveragePool', [conv(m, 32, 32)], { kernel_shape: [2, 2], strides: [2, 2] });
      return b.op('GlobalAveragePool', [conv(a, 32, 20)]);
    },
    ops: ['Conv', 'MaxPool', 'AveragePool', 'ReorderOutput', 'GlobalAveragePool'],
    channels: [32, 20],
    activations: 320, // ReorderOutput [1, 20, 4, 4]
  },
  {
    name: 'global-pools',
    build: (b, conv) => {
      const c = conv(image(b), 3, 32);
      return b.op('Add', [b.op('GlobalAveragePool', [c]), b.op('GlobalMaxPool', [c])]);
    },
    ops: ['Conv', 'GlobalAveragePool', 'GlobalMaxPool', 'ReorderOutput'],
    channels: [32],
    activations: 32, // ReorderOutput [1, 32, 1, 1] after the Add
  },
  {
    name: 'elementwise-on-blocked',
    build: (b, conv) => {
      const c = conv(image(b), 3, 20);
      return b.op('Relu', [b.op('Add', [c, c])]);
    },
    ops: ['Conv', 'Add', 'Relu', 'ReorderOutput'],
    channels: [20],
    activations: 5120, // ReorderOutput [1, 20, 16, 16]
  },
];

describe("analysis of onnxruntime's NCHWc graphs with channels that are not multiples of the block size", () => {
  test.each(CASES)('$name: MACs, FLOPs, parameters and activations as the original, on the model\'s channels', async ({ name, build, ops, channels, activations }) => {
    const m = model(build);
    const fused = await ortAll(m, name);
    const have = opTypes(fused);
    for (const op of ops) expect(have.has(`${NCHWC}::${op}`) || have.has(op), `${name}: ${op} in ${[...have].join(', ')}`).toBe(true);
    const a0 = analyzeModel(m, { timeline: false });
    const a = analyzeModel(fused, { timeline: false });
    expectComplete(a0, name);
    expectComplete(a, name);
    expect(a.totals.macs, name).toBe(a0.totals.macs);
    expect(a.totals.flops, name).toBe(a0.totals.flops);
    expect(a.totals.params, name).toBe(a0.totals.params);
    expect(a.totals.weightParams, name).toBe(a0.totals.weightParams);
    // Activations (graph inputs and every layer's output): the original's, and the stated copies.
    expect(a.totals.activations.total! - a0.totals.activations.total!, name).toBe(activations);
    // Every tensor has the model's channels, none the block's padded count.
    for (const c of channelsOf(a)) expect([...channels, 1, 3], `${name}: channels ${String(c)}`).toContain(c);
  }, 20_000);

  test('a BatchNormalization on a blocked tensor: a depthwise 1×1 NCHWc Conv of the model\'s channels, its multiply a MAC', async () => {
    const m = model((b, conv) => {
      const c1 = b.op('Relu', [conv(image(b), 3, 20)]);
      return bn(b, b.op('Add', [conv(c1, 20, 20), c1]), 20);
    });
    const fused = await ortAll(m, 'bn');
    const dw = [...fused.graph].find((n) => n.domain === NCHWC && n.opType === 'Conv' && n.getInt('group', 1) > 1)!;
    expect(dw.inputs[1]!.constValue!.dims.slice(1)).toEqual([1, 1, 1]);
    const a0 = analyzeModel(m, { timeline: false });
    const a = analyzeModel(fused, { timeline: false });
    expectComplete(a, 'bn');
    // Over the [1, 20, 16, 16] output (5120 elements): BatchNormalization counted 2 per element
    // (scale, shift), no MAC; the Conv a MAC (2 FLOPs) and its bias add per element: +5120 MACs,
    // +5120 FLOPs; its scale and bias are the BatchNormalization's 40 parameters; its running mean
    // and variance (40 buffer parameters) are folded into them; the Conv's output is an activation
    // of the lecture's convention (a BatchNormalization's is not): +5120.
    expect(a.totals.macs! - a0.totals.macs!).toBe(5120);
    expect(a.totals.flops! - a0.totals.flops!).toBe(5120);
    expect(a.totals.params).toBe(a0.totals.params);
    // (its scale, a normalisation parameter of the BatchNormalization, is the Conv's weight)
    expect(a.totals.weightParams - a0.totals.weightParams).toBe(20);
    expect(a0.totals.bufferParams - a.totals.bufferParams).toBe(40);
    expect(a.totals.activations.total! - a0.totals.activations.total!).toBe(5120);
    expect(channelsOf(a)).toEqual(new Set([20]));
  }, 20_000);

  test('aligned channels with no ReorderOutput between two Convs: the last stored filter\'s non-zero bias says all are the model\'s', async () => {
    // Conv(3→32) → Conv(32→32): the blocked tensor between them has no reader that says its
    // channels; onnxruntime pads with zeros, so a non-zero bias of filter 31 proves 32 are the model's.
    const m = model((b, conv) => b.op('Relu', [conv(b.op('Relu', [conv(image(b), 3, 32)]), 32, 32)]));
    const fused = await ortAll(m, 'aligned');
    expect([...fused.graph].filter((n) => n.domain === NCHWC && n.opType === 'Conv')).toHaveLength(2);
    const a0 = analyzeModel(m, { timeline: false });
    const a = analyzeModel(fused, { timeline: false });
    expectComplete(a, 'aligned');
    expect(a.totals.macs).toBe(a0.totals.macs);
    expect(a.totals.params).toBe(a0.totals.params);
  }, 20_000);

  // A grouped NCHWc Conv reading the blocked tensor said nothing (null MACs for the Conv before it,
  // with no bias to prove its channels): onnxruntime converts a grouped Conv only when its
  // channels per group are a multiple of the block, so its weight's input channels × group are
  // the model's, exactly. Group 2 over 20, 24 or 40 channels stays an ONNX-domain FusedConv.
  test('a grouped NCHWc Conv reading a blocked tensor says its channels: per-group input channels × group', async () => {
    for (const [c, co, group] of [[32, 32, 2], [32, 64, 2], [48, 48, 3], [64, 64, 4], [20, 40, 2], [24, 48, 2]] as const) {
      const name = `grouped-${c}-${group}`;
      const b = new GraphBuilder({ opset: 17 });
      const convNoBias = (x: Value, ci: number, o: number, g: number, n: number): Value =>
        b.op('Conv', [x, f32(b, `w${n}`, [o, ci / g, 3, 3], (i) => Math.sin(i + n))], { kernel_shape: [3, 3], pads: [1, 1, 1, 1], ...(g === 1 ? {} : { group: g }) });
      b.output(b.op('Relu', [convNoBias(b.op('Relu', [convNoBias(image(b), 3, c, 1, 1)]), c, co, group, 2)]), 'y');
      const m = b.build();
      const fused = await ortAll(m, name);
      const grouped = [...fused.graph].filter((n) => n.domain === NCHWC && n.opType === 'Conv' && n.getInt('group', 1) > 1);
      expect(grouped, name).toHaveLength((c / group) % 16 === 0 ? 1 : 0);
      const a0 = analyzeModel(m, { timeline: false });
      const a = analyzeModel(fused, { timeline: false });
      expectComplete(a, name);
      expect([a.totals.macs, a.totals.params], name).toEqual([a0.totals.macs, a0.totals.params]);
    }
  }, 60_000);

  test('a padded blocked tensor no reader establishes: null with the reason, parameters as stored with a warning', async () => {
    // Conv(3→20) → Conv(20→20), and with an Upsample or QuickGelu (x·sigmoid(x)) between them:
    // the tensor between the Convs is stored with the padded channels only (the second Conv's
    // weight pads its input channels too) and its last filter's bias is onnxruntime's zero.
    const chains = {
      chain: (b: GraphBuilder, conv: (x: Value, ci: number, co: number) => Value) => b.op('Relu', [conv(b.op('Relu', [conv(image(b), 3, 20)]), 20, 20)]),
      upsample: (b: GraphBuilder, conv: (x: Value, ci: number, co: number) => Value) =>
        conv(resize(b, conv(image(b, 3, 8), 3, 20), 'nearest', { coordinate_transformation_mode: 'asymmetric', nearest_mode: 'floor' }), 20, 20),
      quickgelu: (b: GraphBuilder, conv: (x: Value, ci: number, co: number) => Value) => {
        const c = conv(image(b), 3, 20);
        return conv(b.op('Mul', [c, b.op('Sigmoid', [c])]), 20, 20);
      },
    };
    for (const [name, build] of Object.entries(chains)) {
      const m = model(build);
      const fused = await ortAll(m, name);
      const a = analyzeModel(fused, { timeline: false });
      expect(a.totals.macs, name).toBeNull();
      expect(a.totals.flops, name).toBeNull();
      const convs = a.layers.filter((l) => l.domain === NCHWC && l.opType === 'Conv');
      expect(convs, name).toHaveLength(2);
      // The first Conv's output channels, the second's input channels: unknown, each saying why.
      expect(convs[0]!.outputShape?.[1], name).toBeNull();
      // (32 stored with a block of 16, 24 with 8: 17 to 32, or 17 to 24, are the model's)
      expect(convs[0]!.unknown?.join(), name).toMatch(/MACs: the model's output channels are not recorded: onnxruntime pads them to its block size \((32 stored, of which 17 to 32|24 stored, of which 17 to 24) are the model's; the last filter's bias zero or absent\)/);
      expect(convs[1]!.outputShape?.[1], name).toBe(20);
      expect(convs[1]!.unknown?.join(), name).toMatch(/MACs: the model's input channels are not established/);
      // Parameters: as stored (an upper bound), said on the layers and the report.
      const stored = [...fused.graph].filter((n) => n.domain === NCHWC && n.opType === 'Conv').reduce((s, n) => s + n.inputs[1]!.constValue!.size + n.inputs[2]!.constValue!.size, 0);
      expect(a.totals.params, name).toBe(stored);
      expect(a.totals.params, name).toBeGreaterThan(analyzeModel(m, { timeline: false }).totals.params);
      for (const l of convs) expect(l.notes?.join(), name).toMatch(/parameters counted as stored \(padded channels; an upper bound\)/);
      expect(a.diagnostics.find((d) => d.code === 'nchwc-padded-params')?.message, name).toBe(
        `params is an upper bound: ${stored} parameters of 2 layer(s) are counted as stored, padded to onnxruntime's NCHWc block size, the model's channel count not being established (see the layers' notes)`,
      );
    }
  }, 30_000);

  test('torchvision exports (batch N = 1): a ResNet, every channel count a multiple of the block, as the original; MobileNetV2 ×0.35 null where the file does not say its 24 and 56 channels', async () => {
    const load = (name: string): Model => decode(new Uint8Array(readFileSync(join(FIXTURES, `${name}/model.onnx`))));
    const dims = { N: 1 };
    // resnet_tiny (BatchNorm folded): nchwc Conv (the residual Add as its Sum input), MaxPool and
    // GlobalAveragePool, one ReorderOutput (64) before the classifier; the Convs between say
    // nothing of their channels but their biases' last values, which are not zero.
    const resnet = load('resnet_tiny_folded');
    const r = await ortAll(resnet, 'resnet_tiny');
    for (const op of ['MaxPool', 'GlobalAveragePool', 'Conv']) expect(opTypes(r)).toContain(`${NCHWC}::${op}`);
    expect([...r.graph].some((n) => n.domain === NCHWC && n.opType === 'Conv' && n.inputs[3] != null)).toBe(true);
    const r0 = analyzeModel(resnet, { timeline: false, dimValues: dims });
    const ra = analyzeModel(r, { timeline: false, dimValues: dims });
    expectComplete(ra, 'resnet_tiny');
    expect([ra.totals.macs, ra.totals.flops, ra.totals.params]).toEqual([r0.totals.macs, r0.totals.flops, r0.totals.params]);
    // mobilenet_v2_035: with a block of 16 the projections to 24 and 56 channels are stored with 32
    // and 64, read by the next block's expansion (its input padded too) and the residual Sum, never
    // by a ReorderOutput: those Convs and the expansions after them have null MACs, their
    // parameters counted as stored. (With a block of 8 nothing is padded: all as the original.)
    const mobilenet = load('mobilenet_v2_035_folded');
    const mo = await ortAll(mobilenet, 'mobilenet_v2_035');
    const m0 = analyzeModel(mobilenet, { timeline: false, dimValues: dims });
    const ma = analyzeModel(mo, { timeline: false, dimValues: dims });
    const stored = [...mo.graph].filter((n) => n.domain === NCHWC && n.opType === 'Conv').map((n) => n.inputs[1]!.constValue!.dims[0]!);
    if (stored.includes(24)) {
      expect([ma.totals.macs, ma.totals.params]).toEqual([m0.totals.macs, m0.totals.params]);
      return;
    }
    expect(ma.totals.macs).toBeNull();
    const unknown = ma.layers.filter((l) => l.macs === null);
    expect(unknown.length).toBeGreaterThan(0);
    for (const l of unknown) expect(l.unknown?.join(), l.name).toMatch(/the model's (output|input) channels are not (recorded|established)/);
    // The known layers' MACs are the original's part: less than its total.
    expect(ma.totals.coverage.macs.partialSum).toBeLessThan(m0.totals.macs!);
    expect(ma.totals.params).toBeGreaterThan(m0.totals.params);
    expect(ma.diagnostics.map((d) => d.code)).toContain('nchwc-padded-params');
  }, 30_000);
});
