/**
 * #parameters and model size count every stored weight a layer reads, wherever it sits: the
 * first operand of a MatMul or Gemm (W·x), any operand of an Einsum, and the weights inside the
 * bodies of If and Loop (their own initializers and weights of the enclosing graph). The numbers
 * are the element counts of the tensors the models store, counted by hand.
 */
import { describe, expect, it } from 'vitest';
import { Attribute, DataType, Graph, GraphBuilder, Node, Tensor, Value, type SparseTensor } from '@onnxkit/graph';
import { analyzeModel, analyzeTotals } from '../../src/analysis/index.js';

const F = DataType.FLOAT;
const ones = (n: number): number[] => new Array<number>(n).fill(0.5);

describe('parameters: a stored operand at any position', () => {
  it('counts a stored first operand of MatMul and Gemm and any stored operand of Einsum', () => {
    const b = new GraphBuilder();
    const x = b.input('x', F, [3, 4]);
    const a = b.floats('A', [5, 3], ones(15));
    const m = b.op('MatMul', [a, x], {}, { name: 'w_times_x' }); // [5, 4]
    const e = b.op('Einsum', [m, b.floats('E', [4, 6], ones(24))], { equation: 'ij,jk->ik' }, { name: 'einsum' }); // [5, 6]
    const y = b.op('Gemm', [b.floats('G', [5, 7], ones(35)), e], { transA: 1 }, { name: 'gemm_ta' }); // [7, 6]
    b.output(y, 'y');
    const model = b.build();
    const r = analyzeModel(model);
    expect(r.layers.map((l) => [l.name, l.weightParams, l.params, l.macs])).toEqual([
      ['w_times_x', 15, 15, 5 * 4 * 3],
      ['einsum', 24, 24, 5 * 6 * 4],
      ['gemm_ta', 35, 35, 7 * 6 * 5],
    ]);
    expect(r.totals.weightParams).toBe(74);
    expect(r.totals.params).toBe(74);
    expect(r.totals.modelSizeBytes).toBe(74 * 4);
    expect(analyzeModel(model, { bits: 8 }).totals.modelSizeBytesAtBits).toBe(74);
    // The roofline moves each stored weight once (it is no activation input).
    expect(r.layers.map((l) => l.bytes.weights)).toEqual([60, 96, 140]);
    expect(analyzeTotals(model).totals.weightParams).toBe(74);
  });

  it('counts no activation operand, and no activation scale of a QDQ MatMul as a weight buffer', () => {
    const b = new GraphBuilder({ opset: 13 });
    const x = b.input('x', F, [2, 4]);
    const s = b.floats('x_scale', [], [0.1]);
    const z = b.constant('x_zero', Tensor.fromNumbers(DataType.UINT8, [], [128]));
    const xd = b.op('DequantizeLinear', [b.op('QuantizeLinear', [x, s, z]), s, z]);
    const wq = b.constant('w_q', Tensor.fromNumbers(DataType.INT8, [4, 3], ones(12).map(() => 1)));
    const wd = b.op('DequantizeLinear', [wq, b.floats('w_scale', [], [0.2]), b.constant('w_zero', Tensor.fromNumbers(DataType.INT8, [], [0]))]);
    const h = b.op('MatMul', [xd, wd], {}, { name: 'qdq_matmul' });
    b.output(b.op('MatMul', [h, h], {}, { name: 'act_act' }), 'y'); // [2,3]·[2,3] is ill-shaped: only its params matter
    const r = analyzeModel(b.build());
    expect(r.totals.weightParams).toBe(12);
    // The weight's scale and zero point are its buffers; the activation's are not the weight's.
    expect(r.layers.find((l) => l.name === 'qdq_matmul')!.bufferParams).toBe(2);
    expect(r.layers.find((l) => l.name === 'act_act')!.params).toBe(0);
  });

  it('traces a weight through a Gather only with constant indices: an embedding lookup is an activation, its table the Gather\'s', () => {
    const b = new GraphBuilder({ opset: 13 });
    const ids = b.input('ids', DataType.INT64, [2, 5]);
    const table = b.floats('E', [100, 6], ones(600));
    const emb = b.op('Gather', [table, ids], {}, { name: 'embed' }); // [2, 5, 6]
    const proj = b.op('MatMul', [emb, b.floats('W', [6, 3], ones(18))], {}, { name: 'proj' }); // [2, 5, 3]
    // Constant indices: rows of the stored table, a weight (as before).
    const rows = b.op('Gather', [table, b.constant('two', Tensor.fromNumbers(DataType.INT64, [2], [0, 1]))], {}, { name: 'rows' }); // [2, 6]
    const picked = b.op('MatMul', [rows, b.op('Transpose', [proj], { perm: [0, 2, 1] })], {}, { name: 'picked' }); // [2, 2, 5]
    b.output(picked, 'y');
    const r = analyzeModel(b.build());
    const layer = (name: string) => r.layers.find((l) => l.name === name)!;
    // The embedding's layer holds the table; the projection after it only W (not 600 + 18).
    expect(layer('embed').weightParams).toBe(600);
    expect(layer('proj').weightParams).toBe(18);
    expect(layer('proj').bytes.weights).toBe(18 * 4);
    expect(r.totals.weightParams).toBe(618);
  });
});

/** A body graph with the given inputs, nodes and outputs (a body's initializers are added by the caller). */
function body(name: string, inputs: Value[], nodes: Node[], outputs: Value[]): Graph {
  const g = new Graph({ name });
  for (const v of inputs) g.addInput(v);
  for (const n of nodes) g.append(n);
  for (const v of outputs) g.addOutput(v);
  return g;
}

describe('parameters: weights inside control flow', () => {
  it('counts the weights of both If branches (their own and the outer graph\'s) and of a Loop body, shared ones once', () => {
    const b = new GraphBuilder({ opset: 13 });
    const x = b.input('x', F, [1, 4, 10, 10]);
    const cond = b.input('cond', DataType.BOOL, []);
    const s0 = b.input('s0', F, [3, 4]);
    const wOuter = b.floats('w_outer', [6, 4, 1, 1], ones(24));
    const wLoop = b.floats('w_loop', [4, 4], ones(16));
    // then: a Conv on its own 3×3 weight (216); else: a 1×1 Conv on the outer weight (24).
    const thenConv = new Node('Conv', [x, null], { name: 'then_conv', attributes: [Attribute.ints('pads', [1, 1, 1, 1])], outputs: ['t'] });
    const thenG = body('then', [], [thenConv], [thenConv.output]);
    const wThen = thenG.initializer(Tensor.fromNumbers(F, [6, 4, 3, 3], ones(216)), 'w_then');
    thenConv.setInput(1, wThen);
    const elseConv = new Node('Conv', [x, wOuter], { name: 'else_conv', outputs: ['e'] });
    const y = b.op('If', [cond], { then_branch: thenG, else_branch: body('else', [], [elseConv], [elseConv.output]) }, { name: 'if' });
    // Loop ×5: s ← s·w_loop, the weight read from the outer graph.
    const i = new Value({ name: 'i', type: { kind: 'tensor', elemType: DataType.INT64, shape: [] } });
    const cIn = new Value({ name: 'c_in', type: { kind: 'tensor', elemType: DataType.BOOL, shape: [] } });
    const sIn = new Value({ name: 's_in', type: { kind: 'tensor', elemType: F, shape: [3, 4] } });
    const keep = new Node('Identity', [cIn], { name: 'keep', outputs: ['c_out'] });
    const step = new Node('MatMul', [sIn, wLoop], { name: 'step', outputs: ['s_out'] });
    const loopBody = body('loop_body', [i, cIn, sIn], [keep, step], [keep.output, step.output]);
    const trips = b.constant('trips', Tensor.fromNumbers(DataType.INT64, [], [5]));
    const s = b.op('Loop', [trips, null, s0], { body: loopBody }, { name: 'loop' });
    // A top-level reader of the Loop's weight: shared, counted once.
    b.output(y, 'y');
    b.output(b.op('MatMul', [s, wLoop], {}, { name: 'after' }), 'z');
    const model = b.build();
    const r = analyzeModel(model);
    const layer = (n: string) => r.layers.find((l) => l.name === n)!;
    expect(layer('if').weightParams).toBe(216 + 24);
    expect(layer('loop').weightParams).toBe(16);
    expect(layer('loop').macs).toBe(5 * 3 * 4 * 4);
    expect(layer('after').weightParams).toBe(16);
    expect(r.totals.weightParams).toBe(216 + 24 + 16);
    expect(r.totals.params).toBe(216 + 24 + 16);
    expect(r.totals.modelSizeBytes).toBe((216 + 24 + 16) * 4);
    expect(analyzeTotals(model).totals.weightParams).toBe(216 + 24 + 16);
  });
});

describe('Scan: the body inferred per slice', () => {
  /** s ← s + x_t·W over the slices x_t of x along `axis`; the scan output stacks s along `outAxis`. */
  function scanModel(xShape: (number | string)[], axis: number, outAxis: number, bodyDeclared: boolean) {
    const b = new GraphBuilder({ opset: 13 });
    const s0 = b.input('s0', F, [2, 4]);
    const x = b.input('x', F, xShape);
    const w = b.floats('w_scan', [4, 4], ones(16));
    const t = (name: string) => new Value({ name, type: { kind: 'tensor', elemType: F, shape: bodyDeclared ? [2, 4] : null } });
    const sIn = t('s_in');
    const xi = t('x_i');
    const mm = new Node('MatMul', [xi, w], { name: 'step', outputs: ['m'] });
    const add = new Node('Add', [sIn, mm.output], { name: 'acc', outputs: ['s_out'] });
    const copy = new Node('Identity', [add.output], { name: 'copy', outputs: ['y_i'] });
    const scanBody = body('scan_body', [sIn, xi], [mm, add, copy], [add.output, copy.output]);
    const [final, stacked] = b.opN('Scan', [s0, x], 2, { body: scanBody, num_scan_inputs: 1, scan_input_axes: [axis], scan_output_axes: [outAxis] }, { name: 'scan' });
    b.output(final!, 'final');
    b.output(stacked!, 'stacked');
    return b.build();
  }

  it('gives the states and the stacked outputs their shapes, and counts the body × the scan length', () => {
    const r = analyzeModel(scanModel([2, 7, 4], 1, 0, false));
    const scan = r.layers[0]!;
    expect(scan.outputShapes).toEqual([[2, 4], [7, 2, 4]]);
    // per step: MatMul 2·4·4 = 32 MACs, Add 8 FLOPs.
    expect(scan.macs).toBe(7 * 32);
    expect(scan.flops).toBe(7 * (2 * 32 + 8));
    expect(scan.weightParams).toBe(16);
    expect(r.totals.macs).toBe(224);
    expect(r.totals.unknownLayers).toBe(0);
    // Stacked along axis 2 instead, the sequence length symbolic.
    const sym = analyzeModel(scanModel([2, 'T', 4], -2, 2, true));
    expect(sym.layers[0]!.outputShapes).toEqual([[2, 4], [2, 4, 'T']]);
    expect(sym.layers[0]!.macsExpr).toBe('32*T');
    expect(analyzeModel(scanModel([2, 'T', 4], 1, 0, true), { dimValues: { T: 5 } }).totals.macs).toBe(160);
  });

  it('opset 8: sequence_lens first, a batch axis on every input, the body run batch × sequence times', () => {
    const b = new GraphBuilder({ opset: 8 });
    const s0 = b.input('s0', F, [3, 2]);
    const x = b.input('x', F, [3, 5, 2]);
    const sIn = new Value({ name: 's_in', type: { kind: 'tensor', elemType: F, shape: null } });
    const xi = new Value({ name: 'x_i', type: { kind: 'tensor', elemType: F, shape: null } });
    const add = new Node('Add', [sIn, xi], { name: 'acc', outputs: ['s_out'] });
    const copy = new Node('Identity', [add.output], { name: 'copy', outputs: ['y_i'] });
    const [final, stacked] = b.opN('Scan', [null, s0, x], 2, { body: body('scan8_body', [sIn, xi], [add, copy], [add.output, copy.output]), num_scan_inputs: 1 }, { name: 'scan8' });
    b.output(final!, 'final');
    b.output(stacked!, 'stacked');
    const scan = analyzeModel(b.build()).layers[0]!;
    expect(scan.outputShapes).toEqual([[3, 2], [3, 5, 2]]);
    // one Add of 2 elements per batch entry and step: 3 · 5 · 2.
    expect(scan.flops).toBe(30);
  });
});

describe('buffers: the scales and zero points of a QDQ model', () => {
  it('counts those of the activations Quantize/DequantizeLinear read, as QLinearConv counts its own, each once', () => {
    const b = new GraphBuilder({ opset: 13 });
    const x = b.input('x', F, [1, 4, 6, 6]);
    const u8 = (name: string, v: number) => b.constant(name, Tensor.fromNumbers(DataType.UINT8, [], [v]));
    const xs = b.floats('x_scale', [], [0.1]);
    const xz = u8('x_zero', 128);
    const xd = b.op('DequantizeLinear', [b.op('QuantizeLinear', [x, xs, xz]), xs, xz], {}, { name: 'x_dq' });
    const wq = b.constant('w_q', Tensor.fromNumbers(DataType.INT8, [8, 4, 3, 3], new Array<number>(288).fill(1)));
    const wd = b.op('DequantizeLinear', [wq, b.floats('w_scale', [8], ones(8)), b.constant('w_zero', Tensor.fromNumbers(DataType.INT8, [8], new Array<number>(8).fill(0)))], { axis: 0 }, { name: 'w_dq' });
    const c = b.op('Conv', [xd, wd], { pads: [1, 1, 1, 1] }, { name: 'conv' });
    const ys = b.floats('y_scale', [], [0.2]);
    const yz = u8('y_zero', 128);
    b.output(b.op('DequantizeLinear', [b.op('QuantizeLinear', [c, ys, yz], {}, { name: 'y_q' }), ys, yz], {}, { name: 'y_dq' }), 'y');
    const r = analyzeModel(b.build());
    // x and y: a scale and a zero point each; the weight's 8 + 8, counted with the Conv that reads it.
    expect(r.totals.bufferParams).toBe(2 + 2 + 16);
    expect(r.layers.find((l) => l.name === 'conv')!.bufferParams).toBe(16);
    expect(r.layers.find((l) => l.name === 'w_dq')!.bufferParams).toBe(0);
    expect(r.layers.find((l) => l.name === 'y_q')!.bufferParams).toBe(2);
    // Every stored byte: the int8 weight, the float scales, the 8-bit zero points.
    expect(r.totals.modelSizeBytes).toBe(288 + 8 * 4 + 8 + (4 + 1) * 2);
  });
});

describe('parameters: a sparse initializer', () => {
  it('is a weight of its dense shape, stored in its values and indices, and no activation', () => {
    const b = new GraphBuilder({ opset: 13 });
    const x = b.input('x', F, [1, 4, 10, 10]);
    const sparse: SparseTensor = { values: Tensor.fromNumbers(F, [3], [1, 2, 3]), indices: Tensor.fromNumbers(DataType.INT64, [3], [0, 5, 40]), dims: [8, 4, 1, 1] };
    const w = new Value({ name: 'w_sparse', type: { kind: 'sparse_tensor', elemType: F, shape: [8, 4, 1, 1] } });
    w.sparseValue = sparse;
    b.graph.addSparseInitializer(w);
    b.output(b.op('Conv', [x, w], {}, { name: 'conv' }), 'y');
    const r = analyzeModel(b.build());
    const conv = r.layers[0]!;
    expect(conv.weightParams).toBe(32);
    expect(conv.macs).toBe(8 * 10 * 10 * 4);
    expect(r.totals.weightParams).toBe(32);
    expect(r.totals.modelSizeBytes).toBe(3 * 4 + 3 * 8);
    // Activations: the input and the output, not the weight.
    expect(conv.activations.input).toBe(400);
    expect(r.totals.activations.peak).toBe(400 + 800);
  });
});
