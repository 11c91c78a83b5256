/**
 * Shape inference on small graphs built with GraphBuilder: symbolic dims, partial constants
 * (PyTorch's Shape→Gather→Unsqueeze→Concat→Reshape with a symbolic batch), pinned input
 * shapes, opset-dependent forms, diagnostics for unknown ops and inconsistent shapes, and the
 * guarantee that the analysis never mutates the model.
 */
import { describe, expect, it } from 'vitest';
import { DataType, GraphBuilder, OnnxFunction, Tensor, printModel, type Dim, type Graph, type Model, type Value } from '@onnxkit/graph';
import { transformer } from '@onnxkit/zoo';
import { applyInferredTypes, DimAlgebra, inferShapes, ShapeError } from '../../src/analysis/index.js';

const F = DataType.FLOAT;
const w = (b: GraphBuilder, name: string, dims: number[]) => b.constant(name, Tensor.fromArray(F, dims, new Float32Array(dims.reduce((a, c) => a * c, 1))));

function shapes(m: Model, opts = {}): (name: string) => readonly Dim[] | null {
  const inf = inferShapes(m, opts);
  const byName = m.graph.valuesByName();
  return (name) => inf.shapeOf(byName.get(name)!);
}

/** The inferred shapes of the named values, compared all at once (a mismatch shows every one). */
function expectShapes(m: Model, want: Record<string, readonly Dim[] | null>, opts = {}): void {
  const get = shapes(m, opts);
  expect(Object.fromEntries(Object.keys(want).map((k) => [k, get(k)]))).toEqual(want);
}

describe('DimAlgebra', () => {
  it('keeps symbols, simplifies products and exact quotients, and names what it cannot simplify', () => {
    const a = new DimAlgebra();
    const ns = a.mul('N', 'S');
    expect(ns).toBe('N*S');
    expect(a.mul('S', 'N')).toBe('N*S');
    expect(a.mul(ns, 512)).toBe('512*N*S');
    expect(a.divExact(a.mul(ns, 512), a.mul(ns, 8))).toBe(64);
    expect(a.divExact('N', 'S')).toBeNull();
    expect(a.add('S', 1)).toBe('S+1');
    expect(a.sub(a.add('S', 1), 1)).toBe('S');
    expect(a.add('N', 'N')).toBe('2*N');
    expect(a.floorDiv('H', 2)).toBe('floor(H/2)');
    expect(a.floorDiv(a.mul('H', 4), 2)).toBe('2*H');
    expect(a.product([2, null, 0])).toBe(0);
    expect(a.product([2, null])).toBeNull();
    // A model's name is an opaque atom, never parsed: "seq-len" stays one symbol.
    expect(a.mul('seq-len', 2)).toBe('2*(seq-len)');
    expect(a.divExact(a.mul('seq-len', 2), 2)).toBe('seq-len');
  });
});

describe('symbolic dims and partial constants', () => {
  it('keeps N symbolic through a CNN and resolves Shape→Gather→Unsqueeze→Concat→Reshape', () => {
    const b = new GraphBuilder({ opset: 13 });
    const x = b.input('x', F, ['N', 3, 32, 32]);
    const c = b.op('Conv', [x, w(b, 'w', [8, 3, 3, 3])], { pads: [1, 1, 1, 1], strides: [2, 2] }, { name: 'conv' });
    const shape = b.op('Shape', [c], {}, { name: 'shape' });
    const n = b.op('Gather', [shape, b.constant('zero', Tensor.scalar(DataType.INT64, 0))], { axis: 0 }, { name: 'gather_n' });
    b.op('Gather', [shape, b.constant('one', Tensor.scalar(DataType.INT64, 1))], { axis: 0 }, { name: 'gather_c' });
    const un = b.op('Unsqueeze', [n, b.int64s('ax', [0])], {}, { name: 'unsq' });
    const target = b.op('Concat', [un, b.int64s('minus1', [-1])], { axis: 0 }, { name: 'concat' });
    const y = b.op('Reshape', [c, target], {}, { name: 'reshape' });
    b.output(y, 'y');
    const m = b.build();
    const inf = inferShapes(m);
    const v = m.graph.valuesByName();
    expect(inf.shapeOf(v.get('conv_output_0')!)).toEqual(['N', 8, 16, 16]);
    expect(inf.shapeValueOf(v.get('shape_output_0')!)).toEqual(['N', 8, 16, 16]);
    // Gather(…, 1) of a partially known shape is a real constant even though N is symbolic.
    expect(inf.constOf(v.get('gather_c_output_0')!)?.toBigInt64()).toEqual(BigInt64Array.from([8n]));
    expect(inf.constOf(v.get('gather_n_output_0')!)).toBeUndefined();
    expect(inf.shapeValueOf(v.get('concat_output_0')!)).toEqual(['N', -1]);
    expect(inf.shapeOf(v.get('y')!)).toEqual(['N', 2048]);
    expect(inf.diagnostics).toEqual([]);
  });

  it('divides symbolic products exactly for -1 (multi-head reshape) and prints expressions', () => {
    const b = new GraphBuilder({ opset: 17 });
    const x = b.input('x', F, ['N', 'S', 512]);
    const s = b.op('Shape', [x]);
    const nb = b.op('Unsqueeze', [b.op('Gather', [s, b.constant('i0', Tensor.scalar(DataType.INT64, 0))]), b.int64s('a0', [0])]);
    const sq = b.op('Unsqueeze', [b.op('Gather', [s, b.constant('i1', Tensor.scalar(DataType.INT64, 1))]), b.int64s('a1', [0])]);
    const heads = b.op('Reshape', [x, b.op('Concat', [nb, sq, b.int64s('h', [8, -1])], { axis: 0 })], {}, { name: 'split_heads' });
    const merged = b.op('Reshape', [x, b.op('Concat', [b.op('Mul', [nb, sq]), b.int64s('d', [512])], { axis: 0 })], {}, { name: 'merge' });
    b.output(heads, 'heads');
    b.output(merged, 'merged');
    expectShapes(b.build(), { heads: ['N', 'S', 8, 64], merged: ['N*S', 512] });
  });

  it('resolves the zoo transformer (PyTorch-style reshape chains) with symbolic batch and sequence', () => {
    const m = transformer({ batch: 'N', seqLen: 'S', layers: 2, dModel: 64, heads: 4 });
    const inf = inferShapes(m);
    expect(inf.diagnostics.filter((d) => d.severity !== 'info')).toEqual([]);
    for (const n of m.graph) {
      for (const o of n.outputs) {
        const s = inf.shapeOf(o);
        expect(s, `${n.describe()} output`).not.toBeNull();
        expect(s!.every((d) => d !== null), `${n.describe()}: ${JSON.stringify(s)}`).toBe(true);
      }
    }
    expect(inf.shapeOf(m.graph.outputs[0]!)).toEqual(['N', 'S', 64]);
    const pinned = inferShapes(m, { inputShapes: { [m.graph.inputs[0]!.name]: [2, 10, 64] } });
    for (const n of m.graph) for (const o of n.outputs) expect(pinned.shapeOf(o)!.every((d) => typeof d === 'number'), n.describe()).toBe(true);
  });
});

describe('pinned input shapes', () => {
  function twoInputs(): Model {
    const b = new GraphBuilder();
    const a = b.input('a', F, ['N', 4]);
    const c = b.input('c', F, ['N', 4]);
    b.output(b.op('Add', [a, c], {}, { name: 'add' }), 'y');
    return b.build();
  }
  it('binds a symbol everywhere it appears', () => {
    expectShapes(twoInputs(), { c: [3, 4], y: [3, 4] }, { inputShapes: { a: [3, 4] } });
  });
  it('rejects unknown inputs, wrong ranks and bad dims with typed errors', () => {
    expect(() => inferShapes(twoInputs(), { inputShapes: { nope: [1, 4] } })).toThrow(ShapeError);
    try {
      inferShapes(twoInputs(), { inputShapes: { nope: [1, 4] } });
    } catch (e) {
      expect((e as ShapeError).hint).toMatch(/a, c/);
    }
    expect(() => inferShapes(twoInputs(), { inputShapes: { a: [1, 4, 1] } })).toThrow(/rank 3.*declared with rank 2/);
    expect(() => inferShapes(twoInputs(), { inputShapes: { a: [-1, 4] } })).toThrow(ShapeError);
  });
  it('an initializer listed as an input is a constant before IR 4 (onnxruntime does not let it be fed), a default from IR 4 on', () => {
    const build = (irVersion: number): Model => {
      const b = new GraphBuilder({ opset: 9 });
      const x = b.input('x', F, [1, 2, 4, 4]);
      const shape = b.int64s('shp', [1, -1]);
      b.graph.addInput(shape);
      b.output(b.op('Reshape', [x, shape]), 'flat');
      const m = b.build();
      m.irVersion = irVersion;
      return m;
    };
    expectShapes(build(3), { flat: [1, 32] });
    // From IR 4 on the caller may feed another shape: the Reshape's target is unknown.
    expectShapes(build(4), { flat: [null, null] });
  });

  it('warns when a pinned dim overrides a declared concrete one', () => {
    const inf = inferShapes(twoInputs(), { inputShapes: { a: [3, 5] } });
    expect(inf.diagnostics.map((d) => d.code)).toContain('input-shape-override');
  });
});

describe('diagnostics, not exceptions', () => {
  it('names an unknown op and its node, leaves its outputs unknown, and analyses around it', () => {
    const b = new GraphBuilder({ opsets: { 'com.example': 1 } });
    const x = b.input('x', F, [1, 8]);
    const weird = b.op('FancyOp', [x], {}, { name: 'fancy', domain: 'com.example' });
    const after = b.op('Relu', [weird], {}, { name: 'after' });
    const ok = b.op('Sigmoid', [x], {}, { name: 'ok' });
    b.output(after, 'a');
    b.output(ok, 'b');
    const m = b.build();
    const inf = inferShapes(m);
    const d = inf.diagnostics.find((x) => x.code === 'unknown-op')!;
    expect(d.node).toBe('fancy');
    expect(d.op).toBe('com.example::FancyOp');
    expect(d.message).toMatch(/com\.example::FancyOp.*fancy/);
    const v = m.graph.valuesByName();
    expect(inf.shapeOf(v.get('a')!)).toBeNull();
    expect(inf.shapeOf(v.get('b')!)).toEqual([1, 8]);
    expect([...inf.unknownNodes].map((n) => n.name)).toEqual(['fancy']);
  });

  it('uses a declared type for an unknown op output', () => {
    const b = new GraphBuilder({ opsets: { 'com.example': 1 } });
    const x = b.input('x', F, [1, 8]);
    const weird = b.op('FancyOp', [x], {}, { domain: 'com.example' });
    weird.type = { kind: 'tensor', elemType: F, shape: [1, 16] };
    b.output(b.op('Relu', [weird]), 'y');
    expect(shapes(b.build())('y')).toEqual([1, 16]);
  });

  it('reports MatMul inner-dim mismatches and declared outputs that contradict inference', () => {
    const b = new GraphBuilder();
    const x = b.input('x', F, [2, 3]);
    const mm = b.op('MatMul', [x, w(b, 'w', [4, 5])], {}, { name: 'mm' });
    const r = b.op('Relu', [x], {}, { name: 'relu' });
    b.output(mm, 'y', { kind: 'tensor', elemType: F, shape: [2, 5] });
    b.output(r, 'z', { kind: 'tensor', elemType: F, shape: [2, 4] });
    const m = b.build();
    const inf = inferShapes(m);
    const codes = inf.diagnostics.map((d) => `${d.code}@${d.node}`);
    expect(codes).toContain('shape-mismatch@mm');
    expect(codes).toContain('declared-type-mismatch@relu');
    expect(inf.diagnostics.find((d) => d.code === 'shape-mismatch')!.message).toMatch(/inner dimensions differ: 3 vs 4/);
  });

  it('never mutates the model; applyInferredTypes is the explicit mutation', () => {
    const m = transformer({ batch: 'N', seqLen: 'S', layers: 1 });
    const before = printModel(m);
    const inf = inferShapes(m, { inputShapes: { [m.graph.inputs[0]!.name]: [1, 8, 64] } });
    expect(printModel(m)).toBe(before);
    const changed = applyInferredTypes(m, inf);
    expect(changed).toBeGreaterThan(10);
    expect(printModel(m)).not.toBe(before);
    const anyNode = [...m.graph][3]!;
    expect(anyNode.outputs[0]!.type).toEqual(inf.typeOf(anyNode.outputs[0]!));
    expect(applyInferredTypes(m, inf)).toBe(0);
  });
});

describe('op rules', () => {
  it('Conv/ConvTranspose: groups, dilations, auto_pad, output_padding and output_shape', () => {
    const b = new GraphBuilder();
    const x = b.input('x', F, [1, 4, 10, 9]);
    b.output(b.op('Conv', [x, w(b, 'w1', [6, 2, 3, 3])], { group: 2, dilations: [2, 1], strides: [1, 2] }), 'dil');
    b.output(b.op('Conv', [x, w(b, 'w2', [6, 4, 3, 3])], { auto_pad: 'SAME_UPPER', strides: [2, 2] }), 'same');
    b.output(b.op('Conv', [x, w(b, 'w3', [6, 4, 4, 4])], { auto_pad: 'VALID', strides: [3, 3] }), 'valid');
    const t = b.input('t', F, [1, 1, 3, 3]);
    b.output(b.op('ConvTranspose', [t, w(b, 'tw', [1, 2, 3, 3])], { strides: [3, 2], output_padding: [1, 1] }), 'ctp');
    b.output(b.op('ConvTranspose', [t, w(b, 'tw2', [1, 2, 3, 3])], { strides: [3, 2], output_shape: [10, 8] }), 'cts');
    b.output(b.op('ConvTranspose', [t, w(b, 'tw3', [1, 2, 3, 3])], { strides: [2, 2], auto_pad: 'SAME_UPPER' }), 'ctsame');
    expectShapes(b.build(), { dil: [1, 6, 6, 4], same: [1, 6, 5, 5], valid: [1, 6, 3, 2], ctp: [1, 2, 10, 8], cts: [1, 2, 10, 8], ctsame: [1, 2, 6, 6] });
  });

  it('ConvTranspose auto_pad SAME with kernel + output_padding < stride: the full extent, as onnxruntime runs it', () => {
    // in·stride would need negative padding: onnxruntime 1.30 pads nothing and gives
    // s·(in − 1) + output_padding + k (7 → 20 at k 2, s 3; 14 at k 2, s 2, op 1 reaches in·s).
    const b = new GraphBuilder();
    const x = b.input('x', F, [2, 4, 7, 5]);
    b.output(b.op('ConvTranspose', [x, w(b, 'k2s3', [4, 3, 2, 2])], { strides: [3, 3], auto_pad: 'SAME_UPPER' }), 'short');
    b.output(b.op('ConvTranspose', [x, w(b, 'k2s3l', [4, 3, 2, 2])], { strides: [3, 3], auto_pad: 'SAME_LOWER', dilations: [1, 2] }), 'short_dil');
    b.output(b.op('ConvTranspose', [x, w(b, 'k2s2', [4, 3, 2, 2])], { strides: [2, 2], output_padding: [1, 1], auto_pad: 'SAME_UPPER' }), 'reaches');
    const n = b.input('n', F, ['N', 4, 'H', 5]);
    b.output(b.op('ConvTranspose', [n, w(b, 'k1s4', [4, 3, 1, 1])], { strides: [4, 4], auto_pad: 'SAME_UPPER' }), 'symbolic');
    expectShapes(b.build(), { short: [2, 3, 20, 14], short_dil: [2, 3, 20, 15], reaches: [2, 3, 14, 10], symbolic: ['N', 3, '4*H-3', 17] });
  });

  it('pooling: ceil_mode (dropping a window that would start in the padding), dilations, Global*', () => {
    const b = new GraphBuilder();
    const x = b.input('x', F, [1, 2, 6, 3]);
    b.output(b.op('MaxPool', [x], { kernel_shape: [3, 2], strides: [2, 2] }), 'floor');
    b.output(b.op('MaxPool', [x], { kernel_shape: [3, 2], strides: [2, 2], ceil_mode: 1 }), 'ceil');
    b.output(b.op('AveragePool', [x], { kernel_shape: [2, 2], strides: [2, 2], pads: [1, 1, 1, 1], ceil_mode: 1 }), 'padceil');
    b.output(b.op('MaxPool', [x], { kernel_shape: [2, 2], dilations: [2, 1] }), 'dil');
    b.output(b.op('GlobalAveragePool', [x]), 'gap');
    // W: 3 + 2 − 2 = 3 → ceil(3/2) + 1 = 3, but window 3 would start at 4 ≥ 3 + 1: dropped.
    expectShapes(b.build(), { floor: [1, 2, 2, 1], ceil: [1, 2, 3, 2], padceil: [1, 2, 4, 2], dil: [1, 2, 4, 2], gap: [1, 2, 1, 1] });
  });

  it('MatMul batch broadcasting and the 1-D cases; Gemm transposes', () => {
    const b = new GraphBuilder();
    const a = b.input('a', F, ['B', 1, 4, 5]);
    b.output(b.op('MatMul', [a, b.input('c', F, [3, 5, 6])]), 'batched');
    b.output(b.op('MatMul', [b.input('v', F, [5]), b.input('m', F, [2, 5, 7])]), 'vec_left');
    b.output(b.op('MatMul', [a, b.input('u', F, [5])]), 'vec_right');
    b.output(b.op('Gemm', [b.input('g', F, [4, 3]), w(b, 'gw', [5, 4])], { transA: 1, transB: 1 }), 'gemm');
    expectShapes(b.build(), { batched: ['B', 3, 4, 6], vec_left: [2, 7], vec_right: ['B', 1, 4], gemm: [3, 5] });
  });

  it('Split in its attribute (opset 11), input (13) and num_outputs (18) forms', () => {
    const mk = (opset: number, f: (b: GraphBuilder, x: Value) => Value[]) => {
      const b = new GraphBuilder({ opset });
      const outs = f(b, b.input('x', F, [2, 7]));
      outs.forEach((o, i) => b.output(o, `o${i}`));
      const get = shapes(b.build());
      return outs.map((_, i) => get(`o${i}`));
    };
    expect(mk(11, (b, x) => b.opN('Split', [x], 2, { axis: 1, split: [3, 4] }))).toEqual([[2, 3], [2, 4]]);
    expect(mk(13, (b, x) => b.opN('Split', [x, b.int64s('s', [5, 2])], 2, { axis: 1 }))).toEqual([[2, 5], [2, 2]]);
    expect(mk(18, (b, x) => b.opN('Split', [x], 3, { axis: 1, num_outputs: 3 }))).toEqual([[2, 3], [2, 3], [2, 1]]);
    expect(mk(13, (b, x) => b.opN('Split', [x], 2, { axis: 0 }))).toEqual([[1, 7], [1, 7]]);
  });

  it("Split of a shape vector keeps each part's contents: onnxruntime's Shape → Split → Squeeze (GatherSliceToSplitFusion) still resolves a Reshape", () => {
    // As onnxruntime 1.30 writes PyTorch's Shape → Gather(0|1|2) chains at level all (the fp16
    // transformer_encoder fixture): without the parts' contents every Reshape after it, and the
    // attention MatMuls' MACs, were unknown.
    const b = new GraphBuilder({ opset: 13 });
    const x = b.input('x', F, ['N', 'S', 64]);
    const [n, s, d] = b.opN('Split', [b.op('Shape', [x]), b.int64s('sizes', [1, 1, 1])], 3, { axis: 0 });
    const sq = (v: Value, i: number) => b.op('Unsqueeze', [b.op('Squeeze', [v, b.int64s(`a${i}`, [0])]), b.int64s(`u${i}`, [0])]);
    const heads = b.int64s('h', [4]);
    const target = b.op('Concat', [sq(n!, 0), sq(s!, 1), heads, b.op('Div', [sq(d!, 2), heads])], { axis: 0 });
    b.output(b.op('Reshape', [x, target]), 'y');
    expectShapes(b.build(), { y: ['N', 'S', 4, 16] });
  });

  it('Squeeze/Unsqueeze attribute vs input forms; Slice with INT64_MAX; Pad; Resize by scales and sizes', () => {
    const b11 = new GraphBuilder({ opset: 11 });
    const x11 = b11.input('x', F, [1, 3, 1]);
    b11.output(b11.op('Squeeze', [x11], { axes: [0] }), 'sq');
    b11.output(b11.op('Unsqueeze', [x11], { axes: [-1] }), 'un');
    const g11 = shapes(b11.build());
    expect(g11('sq')).toEqual([3, 1]);
    expect(g11('un')).toEqual([1, 3, 1, 1]);
    const b = new GraphBuilder({ opset: 18 });
    const x = b.input('x', F, ['N', 3, 8, 8]);
    b.output(b.op('Squeeze', [b.op('Unsqueeze', [x, b.int64s('a', [0])]), b.int64s('a2', [0])]), 'round');
    b.output(b.op('Slice', [x, b.int64s('st', [2]), b.int64s('en', [2n ** 63n - 1n]), b.int64s('ax', [2])]), 'slice');
    b.output(b.op('Slice', [x, b.int64s('st2', [1]), b.int64s('en2', [2n ** 63n - 1n]), b.int64s('ax2', [0])]), 'slice_sym');
    b.output(b.op('Pad', [x, b.int64s('p', [0, 0, 1, 2, 0, 0, 3, 4])]), 'pad');
    const none = b.constant('empty', Tensor.fromArray(F, [0], new Float32Array(0)));
    b.output(b.op('Resize', [x, null, b.floats('sc', [4], [1, 1, 2, 0.5])]), 'scales');
    b.output(b.op('Resize', [x, null, none, b.int64s('sz', [1, 3, 5, 6])]), 'sizes');
    expectShapes(b.build(), { round: ['N', 3, 8, 8], slice: ['N', 3, 6, 8], slice_sym: ['N-1', 3, 8, 8], pad: ['N', 3, 12, 14], scales: ['N', 3, 16, 4], sizes: [1, 3, 5, 6] });
  });

  it('BatchNormalization training outputs and LayerNormalization statistics', () => {
    const b = new GraphBuilder({ opset: 17 });
    const x = b.input('x', F, ['N', 4, 5]);
    const p = (n: string) => w(b, n, [4]);
    const bn = b.opN('BatchNormalization', [x, p('s'), p('b'), p('m'), p('v')], 3, { training_mode: 1 });
    bn.forEach((o, i) => b.output(o, `bn${i}`));
    const ln = b.opN('LayerNormalization', [x, w(b, 'ls', [5]), w(b, 'lb', [5])], 3, { axis: -1 });
    ln.forEach((o, i) => b.output(o, `ln${i}`));
    expectShapes(b.build(), { bn0: ['N', 4, 5], bn1: [4], ln0: ['N', 4, 5], ln1: ['N', 4, 1] });
  });

  it('If merges its branches; a constant condition picks one; Loop carries types', () => {
    const b = new GraphBuilder();
    const x = b.input('x', F, [2, 3]);
    const cond = b.input('cond', DataType.BOOL, []);
    // Branches capture the outer `x` and reshape it.
    const branch = (shape: number[], name: string): Graph => {
      const c = new GraphBuilder({ name });
      c.output(c.op('Reshape', [x, c.int64s(`${name}_s`, shape)]), `${name}_y`);
      return c.graph;
    };
    const then = branch([3, 2], 'then');
    const els = branch([6, 1], 'else');
    b.output(b.op('If', [cond], { then_branch: then, else_branch: els }), 'merged');
    const same = branch([3, 2], 'then2');
    const same2 = branch([3, 2], 'else2');
    b.output(b.op('If', [cond], { then_branch: same, else_branch: same2 }), 'agreed');
    expectShapes(b.build(), { merged: [null, null], agreed: [3, 2] });
  });

  it('evaluates small constant sub-computations but not large ones', () => {
    const b = new GraphBuilder();
    const r = b.op('Range', [b.constant('s', Tensor.scalar(DataType.INT64, 0)), b.constant('l', Tensor.scalar(DataType.INT64, 10)), b.constant('d', Tensor.scalar(DataType.INT64, 3))], {}, { name: 'range' });
    const big = w(b, 'big', [300, 300]);
    const t = b.op('Transpose', [big], {}, { name: 'big_t' });
    const cst = b.op('Constant', [], { value_ints: [4, 5] }, { name: 'cst' });
    b.output(r, 'r');
    b.output(t, 't');
    b.output(cst, 'c');
    const m = b.build();
    const inf = inferShapes(m, { maxConstantElements: 1000 });
    const v = m.graph.valuesByName();
    expect(inf.constOf(v.get('r')!)?.toBigInt64()).toEqual(BigInt64Array.from([0n, 3n, 6n, 9n]));
    expect(inf.constOf(v.get('t')!)).toBeUndefined();
    expect(inf.shapeOf(v.get('t')!)).toEqual([300, 300]);
    expect(inf.constOf(v.get('c')!)?.toBigInt64()).toEqual(BigInt64Array.from([4n, 5n]));
    expect(inf.typeOf(v.get('c')!)).toEqual({ kind: 'tensor', elemType: DataType.INT64, shape: [2] });
  });

  it('never narrows int64: huge values are exact constants and ±Infinity as partial values', () => {
    const b = new GraphBuilder();
    const big = b.op('Constant', [], { value_ints: [2n ** 63n - 1n, 5n] }, { name: 'big' });
    const id = b.op('Identity', [big], {}, { name: 'id' });
    const x = b.input('x', F, ['N', 10]);
    const ends = b.op('Concat', [b.op('Slice', [b.op('Shape', [x]), b.int64s('s0', [1]), b.int64s('e0', [2])]), b.op('Slice', [id, b.int64s('s1', [0]), b.int64s('e1', [1])])], { axis: 0 });
    const sl = b.op('Slice', [x, b.int64s('st', [0, 2]), ends, b.int64s('ax', [1, 0])], {}, { name: 'slice' });
    b.output(id, 'id_out');
    b.output(sl, 'y');
    const m = b.build();
    const inf = inferShapes(m);
    const v = m.graph.valuesByName();
    expect(inf.constOf(v.get('id_out')!)!.toBigInt64()).toEqual(BigInt64Array.from([2n ** 63n - 1n, 5n]));
    expect(inf.shapeValueOf(v.get('id_out')!)).toEqual([Infinity, 5]);
    // ends = [10, INT64_MAX] for axes [1, 0]: x[2:, :10] → [N-2, 10].
    expect(inf.shapeOf(v.get('y')!)).toEqual(['N-2', 10]);
  });

  it('reports invalid constant input from the kernels as an error diagnostic', () => {
    const b = new GraphBuilder();
    const g = b.op('Gather', [b.int64s('d', [1, 2, 3]), b.int64s('i', [7])], {}, { name: 'bad_gather' });
    b.output(g, 'g');
    const inf = inferShapes(b.build());
    const d = inf.diagnostics.find((x) => x.code === 'invalid-constant-input')!;
    expect(d.severity).toBe('error');
    expect(d.node).toBe('bad_gather');
    expect(d.message).toMatch(/index 7/);
  });

  it('infers functions called by nodes from their bodies', () => {
    const fb = new GraphBuilder({ name: 'fn' });
    const fx = fb.input('fx', F, null);
    fb.output(fb.op('Transpose', [fx], { perm: [1, 0] }), 'fy');
    const b = new GraphBuilder({ opsets: { local: 1 } });
    const x = b.input('x', F, [2, 5]);
    b.output(b.op('MyT', [x], {}, { domain: 'local' }), 'y');
    const m = b.build({ functions: [new OnnxFunction({ domain: 'local', name: 'MyT', graph: fb.graph })] });
    const inf = inferShapes(m);
    expect(inf.shapeOf(m.graph.outputs[0]!)).toEqual([5, 2]);
    expect(inf.diagnostics).toEqual([]);
  });
});
