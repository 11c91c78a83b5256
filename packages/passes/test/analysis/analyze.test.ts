/**
 * analyzeModel against the spec: the lecture's AlexNet table layer by layer (issue 3 part 3),
 * the zoo totals, transformer attention MACs against the hand formula, roofline arithmetic,
 * the liveness peak, shared weights, and unknowns that are reported — never silently 0.
 * The numbers asserted here come from the issue and the lecture, not from this code.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DataType, GraphBuilder, Tensor, printModel, type Model } from '@onnxkit/graph';
import { alexnet, mobilenetv2, resnet50, transformer, vgg16 } from '@onnxkit/zoo';
import { AnalysisError, analyzeModel, formatAnalysisTable, formatCount, formatPartial, formatPerSample, type AnalysisReport, type DeviceProfile, type LayerReport } from '../../src/analysis/index.js';

const F = DataType.FLOAT;

describe('AlexNet: the lecture table, layer by layer', () => {
  const report = analyzeModel(alexnet());
  const convOrLinear = report.layers.filter((l) => l.opType === 'Conv' || l.opType === 'Gemm');
  const lectureRows = report.layers.filter((l) => ['Conv', 'MaxPool', 'Gemm'].includes(l.opType));

  it('has the lecture output C×H×W per row', () => {
    expect(lectureRows.map((l) => formatPerSample(l.outputShape))).toEqual([
      '96×55×55', '96×27×27', '256×27×27', '256×13×13', '384×13×13', '384×13×13', '256×13×13', '256×6×6', '4096', '4096', '1000',
    ]);
  });

  it('has the lecture #parameters (bias ignored) per layer and in total', () => {
    expect(convOrLinear.map((l) => l.weightParams)).toEqual([34_848, 307_200, 884_736, 663_552, 442_368, 37_748_736, 16_777_216, 4_096_000]);
    expect(report.totals.weightParams).toBe(60_954_656);
    // Learnable adds the biases: 96+256+384+384+256+4096+4096+1000.
    expect(report.totals.params).toBe(60_954_656 + 10_568);
    expect(report.totals.bufferParams).toBe(0);
  });

  it('has the lecture MACs per layer (the fifth conv is 74,760,192: the slide slips) and in total', () => {
    expect(convOrLinear.map((l) => l.macs)).toEqual([105_415_200, 223_948_800, 149_520_384, 112_140_288, 74_760_192, 37_748_736, 16_777_216, 4_096_000]);
    expect(report.totals.macs).toBe(724_406_816);
    expect(report.layers.filter((l) => !['Conv', 'Gemm'].includes(l.opType)).every((l) => l.macs === 0)).toBe(true);
  });

  it('has the lecture activations: per layer, total 932,264 and peak 440,928', () => {
    expect(lectureRows.map((l) => l.activations.output)).toEqual([290_400, 69_984, 186_624, 43_264, 64_896, 64_896, 43_264, 9_216, 4_096, 4_096, 1_000]);
    expect(report.totals.activations.total).toBe(932_264);
    expect(report.totals.activations.peak).toBe(440_928);
    expect(report.totals.activations.peakLayer).toBe('features.0');
    expect(report.layers.filter((l) => l.opType === 'Relu').every((l) => l.inPlace)).toBe(true);
    expect(report.layers.find((l) => l.opType === 'Flatten')!.alias).toBe(true);
  });

  it('has the lecture model size: 243,818,624 B at 32 bits, 60,954,656 B at 8 bits', () => {
    expect(analyzeModel(alexnet(), { bits: 32 }).totals.modelSizeBytesAtBits).toBe(243_818_624);
    expect(analyzeModel(alexnet(), { bits: 8 }).totals.modelSizeBytesAtBits).toBe(60_954_656);
    expect(report.totals.modelSizeBytesAtBits).toBeNull();
    // Stored as float32, biases included.
    expect(report.totals.modelSizeBytes).toBe((60_954_656 + 10_568) * 4);
  });

  it('counts FLOPs as 2·MACs plus the element-wise operations of the cost table', () => {
    const conv1 = report.layers[0]!;
    expect(conv1.flops).toBe(2 * 105_415_200 + 290_400);
    const relu1 = report.layers[1]!;
    expect(relu1.flops).toBe(290_400);
    const pool1 = report.layers[2]!;
    expect(pool1.flops).toBe(69_984 * 9);
    const fc1 = report.layers.find((l) => l.name === 'classifier.1')!;
    expect(fc1.flops).toBe(2 * 37_748_736 + 4096);
    expect(report.totals.flops).toBe(report.layers.reduce((a, l) => a + l.flops!, 0));
    expect(report.convention).toMatch(/FLOPs = 2·MACs \+ element-wise/);
  });

  it('matches the golden alexnet.layers.tsv (UPDATE_GOLDEN=1 rewrites it)', () => {
    const tsv = [
      ['layer', 'op', 'C×H×W', '#params (bias ignored)', 'MACs', 'activations'].join('\t'),
      ...report.layers.map((l) => [l.name, l.opType, formatPerSample(l.outputShape), l.weightParams, l.macs, l.alias ? 'view' : l.inPlace ? 'in place' : l.activations.output].join('\t')),
      ['total', '', '', report.totals.weightParams, report.totals.macs, `${report.totals.activations.total} (peak ${report.totals.activations.peak})`].join('\t'),
    ].join('\n') + '\n';
    const file = new URL('../golden/alexnet.layers.tsv', import.meta.url);
    if (process.env.UPDATE_GOLDEN === '1') writeFileSync(file, tsv);
    if (!existsSync(file)) throw new Error('golden/alexnet.layers.tsv is missing: run with UPDATE_GOLDEN=1 to create it, then review it');
    expect(tsv).toBe(readFileSync(file, 'utf8'));
  });
});

describe('zoo totals (issue 3 part 3)', () => {
  it.each([
    ['ResNet-50 v1.5', resnet50, 25_557_032, 4_089_184_256, 53_120],
    ['MobileNetV2', mobilenetv2, 3_504_872, 300_774_272, undefined],
    ['VGG-16', vgg16, 138_357_544, 15_470_264_320, 0],
  ] as const)('%s: learnable params and MACs', (_name, build, params, macs, buffers) => {
    const r = analyzeModel(build());
    expect(r.totals.params).toBe(params);
    expect(r.totals.macs).toBe(macs);
    if (buffers !== undefined) expect(r.totals.bufferParams).toBe(buffers);
    expect(r.totals.unknownLayers).toBe(0);
    expect(r.diagnostics.filter((d) => d.severity !== 'info')).toEqual([]);
  });

  it('scales MACs and activations with the batch, and keeps a symbolic batch symbolic', () => {
    const b4 = analyzeModel(resnet50({ batch: 4 }));
    expect(b4.totals.macs).toBe(4 * 4_089_184_256);
    const n = analyzeModel(resnet50({ batch: 'N' }));
    expect(n.totals.macs).toBeNull();
    expect(n.totals.macsExpr).toBe('4089184256*N');
    expect(n.totals.macsSymbols).toEqual(['N']);
    const pinned = analyzeModel(resnet50({ batch: 'N' }), { inputShapes: { [resnet50({ batch: 'N' }).graph.inputs[0]!.name]: [2, 3, 224, 224] } });
    expect(pinned.totals.macs).toBe(2 * 4_089_184_256);
  });
});

describe('transformer: attention MACs against the hand formula', () => {
  const cfg = { layers: 2, dModel: 64, heads: 4, ffn: 256 };
  const dh = cfg.dModel / cfg.heads;

  it('pinned batch and sequence: every MatMul matches B·h·S·S·dh (attention) or B·S·in·out (linear)', () => {
    const m = transformer({ ...cfg, batch: 'N', seqLen: 'S' });
    const [B, S] = [3, 10];
    const r = analyzeModel(m, { inputShapes: { [m.graph.inputs[0]!.name]: [B, S, cfg.dModel] } });
    const mm = r.layers.filter((l) => l.opType === 'MatMul');
    const attention = mm.filter((l) => l.params === 0);
    const linear = mm.filter((l) => l.params > 0);
    expect(attention).toHaveLength(2 * cfg.layers);
    for (const l of attention) expect(l.macs, l.name).toBe(B * cfg.heads * S * S * dh);
    expect(linear.map((l) => l.macs)).toEqual(
      Array.from({ length: cfg.layers }, () => [B * S * 64 * 64, B * S * 64 * 64, B * S * 64 * 64, B * S * 64 * 64, B * S * 64 * 256, B * S * 256 * 64]).flat(),
    );
    const perLayer = 4 * B * S * cfg.dModel ** 2 + 2 * B * S * cfg.dModel * cfg.ffn + 2 * B * cfg.heads * S * S * dh;
    expect(r.totals.macs).toBe(cfg.layers * perLayer);
    expect(r.totals.unknownLayers).toBe(0);
  });

  it('symbolic batch and sequence: MACs as expressions, the Shape→…→Reshape chains evaluated', () => {
    const m = transformer({ ...cfg, batch: 'N', seqLen: 'S' });
    const r = analyzeModel(m);
    const attention = r.layers.filter((l) => l.opType === 'MatMul' && l.params === 0);
    for (const l of attention) {
      expect(l.macs).toBeNull();
      expect(l.macsExpr).toBe(`${cfg.heads * dh}*N*S*S`);
      expect(l.unknown!.join()).toMatch(/symbolic/);
    }
    expect(r.totals.macsExpr).toBe(`${cfg.layers * 2 * cfg.heads * dh}*N*S*S+${cfg.layers * (4 * 64 * 64 + 2 * 64 * 256)}*N*S`);
    const reshapes = r.layers.filter((l) => l.opType === 'Reshape');
    expect(reshapes.length).toBeGreaterThan(0);
    for (const l of reshapes) expect(l.outputShape!.every((d) => d !== null), l.name).toBe(true);
    expect(r.diagnostics.find((d) => d.code === 'unknown-cost')!.message).toMatch(/with symbolic dims/);
  });

  it('symbolic FLOPs and activation totals evaluate to the numbers of a pinned analysis', () => {
    const m = transformer({ ...cfg, batch: 'N', seqLen: 'S' });
    const r = analyzeModel(m);
    /** Evaluates a sum of products such as "4096*N*S*S+1234*N*S". */
    const evaluate = (expr: string, at: Record<string, number>): number =>
      expr.split('+').reduce((sum, term) => sum + term.split('*').reduce((p, f) => p * (/^\d+$/.test(f) ? Number(f) : at[f]!), 1), 0);
    expect(r.totals.flopsExpr).toMatch(/N\*S\*S/); // attention scores: quadratic in the sequence
    for (const at of [{ N: 1, S: 7 }, { N: 3, S: 16 }]) {
      const pinned = analyzeModel(m, { dimValues: at }).totals;
      expect(pinned.unknownLayers).toBe(0);
      expect(evaluate(r.totals.flopsExpr!, at)).toBe(pinned.flops);
      expect(evaluate(r.totals.macsExpr!, at)).toBe(pinned.macs);
      // Shape arithmetic (Shape → Gather → Unsqueeze → Concat) is computed at run time while dims
      // are symbolic, and folded once they are pinned: its small outputs are the only difference.
      const pinnedLayers = analyzeModel(m, { dimValues: at }).layers;
      const shapeWork = r.layers.filter((l, i) => !l.constant && pinnedLayers[i]!.constant && !l.alias && !l.inPlace).reduce((n, l) => n + l.activations.output!, 0);
      expect(shapeWork).toBeGreaterThan(0);
      expect(evaluate(r.totals.activations.totalExpr!, at)).toBe(pinned.activations.total! + shapeWork);
    }
  });
});

describe('unknowns are reported, never silently zero', () => {
  function withUnknownOp(): Model {
    const b = new GraphBuilder({ opsets: { 'com.vendor': 1 } });
    const x = b.input('x', F, [1, 16]);
    const h = b.op('Gemm', [x, b.floats('w1', [16, 16], new Array(256).fill(0.1))], { transB: 1 }, { name: 'fc1' });
    const y = b.op('MysteryAttention', [h], {}, { name: 'mystery', domain: 'com.vendor' });
    const z = b.op('Gemm', [x, b.floats('w2', [8, 16], new Array(128).fill(0.1))], { transB: 1 }, { name: 'fc2' });
    b.output(y, 'y');
    b.output(z, 'z');
    return b.build();
  }

  it('names the unknown op and node, keeps analysing the rest, and counts it', () => {
    const r = analyzeModel(withUnknownOp());
    const layer = r.layers.find((l) => l.name === 'mystery')!;
    expect(layer.macs).toBeNull();
    expect(layer.flops).toBeNull();
    expect(layer.latency).toBeNull();
    expect(layer.unknown!.join()).toMatch(/no cost model for op 'com\.vendor::MysteryAttention'/);
    expect(r.totals.unknownLayers).toBe(1);
    // The whole is unknown; the known part is named as such, with its coverage.
    expect(r.totals.macs).toBeNull();
    expect(r.totals.flops).toBeNull();
    expect(r.totals.latency.seconds).toBeNull();
    expect(r.totals.coverage.macs).toEqual({ known: r.layers.length - 1, partialSum: 16 * 16 + 16 * 8 });
    expect(r.totals.coverage.text[0]).toBe(`MACs known for ${r.layers.length - 1} of ${r.layers.length} layers, 1 unknown`);
    const d = r.diagnostics.find((x) => x.code === 'unknown-op')!;
    expect(d.node).toBe('mystery');
    expect(d.op).toBe('com.vendor::MysteryAttention');
    expect(r.diagnostics.some((x) => x.code === 'no-cost-model' && /MysteryAttention/.test(x.message))).toBe(true);
  });

  it("gives a registered op's own reason for its unknown cost or missing shape rule (its `undeclared(kind, …)`), where an unregistered op has none", () => {
    const b = new GraphBuilder({ opset: 17 });
    const boxes = b.input('boxes', F, [1, 6, 4]);
    const scores = b.input('scores', F, [1, 1, 6]);
    b.output(b.op('NonMaxSuppression', [boxes, scores], {}, { name: 'nms' }), 'keep');
    b.output(b.op('RandomNormal', [], { shape: [2, 3] }, { name: 'noise' }), 'random');
    const r = analyzeModel(b.build());
    const nms = r.layers.find((l) => l.name === 'nms')!;
    expect(nms.macs).toBeNull();
    expect(nms.unknown).toContain("no cost model for op 'NonMaxSuppression' (data-dependent: its work depends on the box data (how many boxes survive), not on shapes)");
    expect(r.diagnostics.find((d) => d.code === 'no-cost-model' && d.op === 'NonMaxSuppression')!.message).toMatch(/^1 layer\(s\) of op 'NonMaxSuppression' have no cost model \(data-dependent: its work depends on the box data/);
    expect(r.diagnostics.find((d) => d.code === 'no-cost-model' && d.op === 'RandomNormal')!.message).toMatch(/no cost model \(not-modelled: random generators: not costed\)/);
    expect(r.diagnostics.find((d) => d.code === 'unknown-op' && d.node === 'noise')!.message).toMatch(/no shape rule for op 'RandomNormal' at node 'noise' \(as-declared: random generators: outputs are left as declared\)/);
    // An op nobody declared has no reason to give.
    const m = analyzeModel(withUnknownOp());
    expect(m.layers.find((l) => l.name === 'mystery')!.unknown).toContain("no cost model for op 'com.vendor::MysteryAttention'");
  });

  it('a symbolic batch: totals say which symbol they wait for, print as ? or ≥, and --dim binds it', () => {
    const model = resnet50({ batch: 'N' });
    const input = model.graph.inputs[0]!.name;
    const free = analyzeModel(model);
    expect(free.model.symbols).toEqual(['N']);
    expect(free.totals.latencyUnknownLayers).toBeGreaterThan(0);
    expect(free.totals.activations.unknownLayers).toBeGreaterThan(0);
    // MACs, FLOPs and the activation total are linear in N: expressions whose coefficient is the
    // batch-1 number. The peak and the latency (a max, and a sum of maxes) are not: unknown.
    const one = analyzeModel(model, { dimValues: { N: 1 } }).totals;
    expect(free.totals.flopsExpr).toBe(`${one.flops}*N`);
    expect(free.totals.activations.totalExpr).toBe(`${one.activations.total}*N`);
    const text = formatAnalysisTable(free);
    expect(text).toContain(`MACs: 4,089,184,256*N   FLOPs: ${formatCount(one.flops)}*N\n`);
    expect(text).toContain(`Activations: total ${formatCount(one.activations.total)}*N, peak ? `);
    expect(text).toMatch(/Latency estimate: \? on /);
    expect(text).toContain('wait on symbolic dims N ');
    expect(text).toContain('--dim N=');
    expect(text).not.toContain('≥');
    expect(free.totals.latency).toMatchObject({ seconds: null, symbols: ['N'] });
    expect(free.totals.peakMemoryBytes).toBeNull();
    expect(text).not.toMatch(/FLOPs: 0\b|total 0,|Latency estimate: 0 /);
    // Binding the symbol by name is the same as pinning the input's shape.
    const byDim = analyzeModel(model, { dimValues: { N: 2 } });
    const byShape = analyzeModel(model, { inputShapes: { [input]: [2, 3, 224, 224] } });
    expect(byDim.totals).toEqual(byShape.totals);
    expect(byDim.totals.macs).toBe(2 * 4_089_184_256);
    expect(byDim.model.symbols).toEqual([]);
    expect(formatAnalysisTable(byDim)).not.toContain('wait on');
    expect(formatAnalysisTable(byDim)).toContain('Symbolic dims bound: N=2');
    expect(byDim.model.bindings).toEqual({ N: 2 });
    expect(() => analyzeModel(model, { dimValues: { N: 2 }, inputShapes: { [input]: [3, 3, 224, 224] } })).toThrow(/binds symbol 'N' to both 2 and 3/);
    expect(() => analyzeModel(model, { dimValues: { N: -1 } })).toThrow(/not a non-negative integer/);
  });

  it('no total expression when a layer is unknown for another reason than its symbols', () => {
    const b = new GraphBuilder({ opsets: { 'com.vendor': 1 } });
    const x = b.input('x', F, ['N', 16]);
    const h = b.op('Gemm', [x, b.floats('w1', [16, 16], new Array(256).fill(0.1))], { transB: 1 }, { name: 'fc1' });
    b.output(b.op('MysteryAttention', [h], {}, { name: 'mystery', domain: 'com.vendor' }), 'y');
    const r = analyzeModel(b.build());
    expect(r.layers.find((l) => l.name === 'fc1')!.flopsExpr).toBe('512*N');
    expect(r.totals.flopsExpr).toBeUndefined();
    expect(r.totals.macsExpr).toBeUndefined();
    expect(r.totals.activations.totalExpr).toBeUndefined();
    expect(r.totals.flops).toBeNull();
    expect(formatAnalysisTable(r)).toMatch(/FLOPs: \?\n/);
    expect(formatAnalysisTable(r)).toContain('Coverage: MACs known for 0 of 2 layers, 1 as expressions of symbolic dims, 1 unknown');
  });

  it('formatPartial: exact, a lower bound, or unknown — never a bare 0 for unknown', () => {
    expect(formatPartial(1234, 0)).toBe('1,234');
    expect(formatPartial(0, 0)).toBe('0');
    expect(formatPartial(1234, 2)).toBe('≥ 1,234');
    expect(formatPartial(0, 2)).toBe('?');
  });

  it('marks layers whose shapes cannot be resolved with a reason', () => {
    const b = new GraphBuilder();
    const x = b.input('x', F, [1, 64]);
    const s = b.input('target', DataType.INT64, [2]);
    const r = b.op('Reshape', [x, s], {}, { name: 'dyn_reshape' });
    b.output(b.op('MatMul', [r, b.floats('w', [8, 4], new Array(32).fill(1))], {}, { name: 'mm' }), 'y');
    const rep = analyzeModel(b.build());
    const mm = rep.layers.find((l) => l.name === 'mm')!;
    expect(mm.macs).toBeNull();
    expect(mm.unknown!.join()).toMatch(/MACs/);
    expect(rep.totals.unknownLayers).toBe(1);
    expect(rep.diagnostics.some((d) => d.code === 'unresolved-shape' && d.node === 'dyn_reshape')).toBe(true);
    expect(rep.diagnostics.some((d) => d.code === 'unknown-cost')).toBe(true);
  });
});

describe('parameters', () => {
  it('counts a tensor shared by several nodes once in the totals', () => {
    const b = new GraphBuilder();
    const x = b.input('x', F, [2, 8]);
    const wgt = b.floats('shared', [8, 8], new Array(64).fill(0.5));
    const h = b.op('MatMul', [x, wgt], {}, { name: 'first' });
    b.output(b.op('MatMul', [h, wgt], {}, { name: 'second' }), 'y');
    const r = analyzeModel(b.build());
    expect(r.layers.map((l) => l.params)).toEqual([64, 64]);
    expect(r.totals.params).toBe(64);
    expect(r.totals.weightParams).toBe(64);
    expect(r.layers[1]!.notes!.join()).toMatch(/shares 'shared'/);
  });

  it('separates BN scale/shift (learnable) from running statistics (buffers); traces fp16 weights through Cast', () => {
    const b = new GraphBuilder();
    const x = b.input('x', F, [1, 3, 8, 8]);
    const w16 = b.constant('w16', Tensor.fromNumbers(DataType.FLOAT16, [4, 3, 3, 3], new Array(108).fill(0.5)));
    const wf = b.op('Cast', [w16], { to: DataType.FLOAT }, { name: 'w_cast' });
    const c = b.op('Conv', [x, wf], { pads: [1, 1, 1, 1] }, { name: 'conv' });
    const p = (n: string) => b.floats(n, [4], [1, 1, 1, 1]);
    b.output(b.op('BatchNormalization', [c, p('gamma'), p('beta'), p('mean'), p('var')], {}, { name: 'bn' }), 'y');
    const r = analyzeModel(b.build());
    expect(r.totals.weightParams).toBe(108);
    expect(r.totals.params).toBe(108 + 8);
    expect(r.totals.bufferParams).toBe(8);
    expect(r.totals.modelSizeBytes).toBe(108 * 2 + 16 * 4);
    const bn = r.layers.find((l) => l.name === 'bn')!;
    expect(bn.inPlace).toBe(true);
    // The Cast of a stored constant is itself constant: folded at load, no cost, no activation.
    expect(r.layers.find((l) => l.name === 'w_cast')!.constant).toBe(true);
  });
});

describe('peak memory from liveness', () => {
  it('frees buffers after their last use, reuses in place and aliases views', () => {
    const b = new GraphBuilder();
    const x = b.input('x', F, [1, 1000]);
    const a = b.op('Mul', [x, x], {}, { name: 'mul' });
    const r = b.op('Relu', [a], {}, { name: 'relu' });
    const v = b.op('Reshape', [r, b.int64s('s', [1000])], {}, { name: 'view' });
    const c = b.op('Add', [v, b.op('Reshape', [x, b.int64s('s2', [1000])], {}, { name: 'xview' })], {}, { name: 'add' });
    b.output(c, 'y');
    const rep = analyzeModel(b.build());
    // x: 4000 B live from the start. mul allocates 4000; relu reuses it in place; the views
    // allocate nothing; add allocates 4000 while x and the relu buffer are still live.
    expect(rep.memoryTimeline.map((s) => s.liveBytes)).toEqual([8000, 8000, 8000, 8000, 12000]);
    expect(rep.memoryTimeline.map((s) => s.node)).toEqual(['mul', 'relu', 'view', 'xview', 'add']);
    expect(rep.totals.peakMemoryBytes).toBe(12000);
    expect(rep.totals.peakMemoryLayer).toBe('add');
  });

  it('gives AlexNet a true peak that is at least the lecture peak in bytes', () => {
    const r = analyzeModel(alexnet());
    expect(r.totals.peakMemoryBytes).toBe(440_928 * 4);
    expect(analyzeModel(alexnet(), { timeline: false }).memoryTimeline).toEqual([]);
  });
});

describe('roofline', () => {
  const device: DeviceProfile = { id: 'toy', version: '1', title: 'Toy', peakFlops: { fp32: 1e9, fp16: 4e9 }, memoryBandwidth: 1e8, source: 'test' };
  function gemm(): Model {
    const b = new GraphBuilder();
    const x = b.input('x', F, [4, 100]);
    b.output(b.op('Gemm', [x, b.floats('w', [50, 100], new Array(5000).fill(1))], { transB: 1 }, { name: 'fc' }), 'y');
    return b.build();
  }
  it('takes max(FLOPs/peak, bytes/bandwidth) per layer with the lecture bytes', () => {
    const r = analyzeModel(gemm(), { device });
    const l = r.layers[0]!;
    const flops = 2 * 4 * 100 * 50;
    const bytes = 4 * 100 * 4 + 4 * 50 * 4 + 5000 * 4;
    expect(l.flops).toBe(flops);
    expect(l.bytes).toEqual({ weights: 20000, input: 1600, output: 800 });
    expect(l.arithmeticIntensity).toBeCloseTo(flops / bytes, 12);
    expect(l.latency).toBeCloseTo(Math.max(flops / 1e9, bytes / 1e8), 15);
    expect(l.bound).toBe('memory');
    expect(r.totals.latency.seconds).toBeCloseTo(l.latency!, 15);
    expect(r.device).toMatchObject({ id: 'toy', precision: 'fp32', peakFlops: 1e9 });
  });
  it('uses the fp16 peak at 16 bits and falls back to fp32 without an int8 peak', () => {
    expect(analyzeModel(gemm(), { device, bits: 16 }).device).toMatchObject({ precision: 'fp16', peakFlops: 4e9 });
    expect(analyzeModel(gemm(), { device, bits: 8 }).device).toMatchObject({ precision: 'fp16', peakFlops: 4e9 });
    expect(analyzeModel(gemm(), { device: 'h100-sxm', bits: 8 }).device.precision).toBe('int8');
    const b16 = analyzeModel(gemm(), { device, bits: 16 }).layers[0]!;
    expect(b16.bytes.weights).toBe(5000 * 2);
  });
  it('marks compute-bound layers', () => {
    const b = new GraphBuilder();
    const x = b.input('x', F, [1, 64, 56, 56]);
    b.output(b.op('Conv', [x, b.floats('w', [64, 64, 3, 3], new Array(64 * 64 * 9).fill(0.01))], { pads: [1, 1, 1, 1] }), 'y');
    const r = analyzeModel(b.build(), { device: 'h100-sxm' });
    expect(r.layers[0]!.bound).toBe('compute');
    expect(r.totals.computeBoundLayers).toBe(1);
  });
  it('stops with ANALYSIS_TOO_LARGE past its memory budget, asked every 4,096 layers from the first', () => {
    // A row per layer (≈ 2.5 KB): 3 million Relu layers ran V8 out of heap, an abort.
    const b = new GraphBuilder({ opset: 17 });
    let v = b.input('x', F, [1, 4]);
    for (let i = 0; i < 70_000; i++) v = b.op('Relu', [v]);
    b.output(v, 'y');
    const m = b.build();
    let asked = 0;
    const over = { limitBytes: 100, usedBytes: () => (++asked > 1 ? 200 : 0), hint: 'give it more' };
    let e: unknown;
    try {
      analyzeModel(m, { memory: over });
    } catch (x) {
      e = x;
    }
    expect(e).toBeInstanceOf(AnalysisError);
    expect((e as AnalysisError).code).toBe('ANALYSIS_TOO_LARGE');
    expect((e as AnalysisError).message).toMatch(/needs more memory than it may take \(0 MiB in use, 0 MiB allowed after 4096 of 70000 layers\)/);
    expect((e as AnalysisError).hint).toBe('give it more');
    expect(asked).toBe(2); // layers 0 and 4,096
    let calls = 0;
    expect(analyzeModel(m, { memory: { limitBytes: 1, usedBytes: () => (calls++, 0) } }).layers).toHaveLength(70_000);
    expect(calls).toBe(Math.ceil(70_000 / 4096));
  });
  it('rejects bad bit widths with a typed error', () => {
    expect(() => analyzeModel(gemm(), { bits: 0 })).toThrow(AnalysisError);
    expect(() => analyzeModel(gemm(), { bits: 3.5 })).toThrow(/integer from 1 to 64/);
  });
});

describe('the report', () => {
  it('is plain JSON data and the analysis does not mutate the model', () => {
    const m = resnet50();
    const before = printModel(m);
    const r: AnalysisReport = analyzeModel(m);
    expect(printModel(m)).toBe(before);
    const round = JSON.parse(JSON.stringify(r)) as AnalysisReport;
    expect(round).toEqual(r);
    const numbers: number[] = [];
    const walk = (v: unknown): void => {
      if (typeof v === 'number') numbers.push(v);
      else if (typeof v === 'bigint') throw new Error('bigint in report');
      else if (Array.isArray(v)) v.forEach(walk);
      else if (v && typeof v === 'object') Object.values(v).forEach(walk);
    };
    walk(r);
    expect(numbers.every((n) => Number.isFinite(n))).toBe(true);
    const fields: (keyof LayerReport)[] = ['name', 'opType', 'inputShapes', 'outputShape', 'params', 'weightParams', 'macs', 'flops', 'activations', 'bytes', 'arithmeticIntensity', 'latency', 'bound'];
    for (const f of fields) expect(r.layers[0]).toHaveProperty(f);
  });
});
