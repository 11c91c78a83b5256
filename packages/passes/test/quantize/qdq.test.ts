// QDQ placement (no onnxruntime here; the fused graph and the accuracy are tested with real
// onnxruntime in packages/cli/test/quantize.test.ts).
import { Attribute, DataType, GraphBuilder, Tensor, verify, type Model, type Node, type Value } from '@onnxkit/graph';
import { describe, expect, it } from 'vitest';
import { sameAt13Why } from '../../src/ops/registry.js';
import { computeParams, planQdq, QDQ_SKIP_CODES, qdqSkipText, quantizeDynamic, quantizeQdq, QuantizeError, type QdqSkipReason, type TensorRange } from '../../src/index.js';

function f32(dims: number[], f: (i: number) => number): Tensor {
  const n = dims.reduce((a, d) => a * d, 1);
  return Tensor.fromArray(DataType.FLOAT, dims, Float32Array.from({ length: n }, (_, i) => f(i)));
}

/** x → Conv(+b) → Relu → MaxPool → Conv → Add(skip) → GlobalAveragePool → Flatten → Gemm → out. */
function cnn(opset = 17): Model {
  const b = new GraphBuilder({ opset });
  const x = b.input('x', DataType.FLOAT, [1, 2, 8, 8]);
  const w1 = b.constant('w1', f32([4, 2, 3, 3], (i) => Math.sin(i) * (1 + (i % 4))));
  const b1 = b.constant('b1', f32([4], (i) => 0.1 * (i - 1.5)));
  const c1 = b.op('Conv', [x, w1, b1], { pads: [1, 1, 1, 1] }, { name: 'conv1' });
  const r1 = b.op('Relu', [c1], {}, { name: 'relu1' });
  const p1 = b.op('MaxPool', [r1], { kernel_shape: [2, 2], strides: [2, 2] }, { name: 'pool' });
  const w2 = b.constant('w2', f32([4, 4, 1, 1], (i) => Math.cos(i)));
  const c2 = b.op('Conv', [p1, w2], {}, { name: 'conv2' });
  const s = b.op('Add', [c2, p1], {}, { name: 'add' });
  const g = b.op('GlobalAveragePool', [s], {}, { name: 'gap' });
  const f = b.op('Flatten', [g], {}, { name: 'flatten' });
  const w3 = b.constant('w3', f32([3, 4], (i) => 0.5 - i / 12));
  const b3 = b.constant('b3', f32([3], (i) => i));
  const y = b.op('Gemm', [f, w3, b3], { transB: 1 }, { name: 'fc' });
  b.output(y, 'out');
  return b.build();
}

function ranges(names: readonly string[]): Map<string, TensorRange> {
  return new Map(names.map((n, i) => [n, { min: n === 'x' ? -1 : 0, max: 1 + i }]));
}

const ops = (m: Model): string[] => [...m.graph].map((n) => n.opType);
const count = (m: Model, op: string): number => ops(m).filter((o) => o === op).length;
const byName = (m: Model, name: string): Node => [...m.graph].find((n) => n.name === name)!;
const scalar = (n: Node, i: number): number => Number(n.inputs[i]!.constValue!.toArray()[0]);

describe('planQdq', () => {
  it('lists the tensors to calibrate by their fp32 names (a folded Relu contributes its output)', () => {
    const m = cnn();
    const plan = planQdq(m);
    expect([...plan.tensors].sort()).toEqual(['add_output_0', 'conv2_output_0', 'flatten_output_0', 'gap_output_0', 'pool_output_0', 'relu1_output_0', 'x']);
    expect(plan.tensors).toContain('relu1_output_0');
    expect(plan.tensors).not.toContain('conv1_output_0');
    expect(plan.tensors).not.toContain('out'); // a Gemm graph output stays float (QGemm outputs float)
    expect(plan.nodes.find((p) => p.node.name === 'conv1')!.fusedActivation?.name).toBe('relu1');
    expect(plan.opset).toEqual({ from: 17, to: 17 });
  });
});

describe('quantizeQdq', () => {
  it('places Q/DQ pairs, int8 per-channel weights and int32 biases as onnxruntime fuses them', () => {
    const m = cnn();
    const plan = planQdq(m);
    const rep = quantizeQdq(m, { ranges: ranges(plan.tensors) });
    expect(verify(m).filter((d) => d.severity === 'error')).toEqual([]);
    expect(count(m, 'Relu')).toBe(0);
    expect(rep.fusedActivations).toEqual(['relu1']);
    // conv1 writes the Relu's output name, read only by its Q.
    const conv1 = byName(m, 'conv1');
    expect(conv1.outputs[0]!.name).toBe('relu1_output_0');
    expect(conv1.outputs[0]!.uses.map((u) => u.node.opType)).toEqual(['QuantizeLinear']);
    // Weight: int8, symmetric, per output channel (axis 0), zero point 0.
    const wdq = conv1.inputs[1]!.producer!;
    expect(wdq.opType).toBe('DequantizeLinear');
    expect(wdq.getInt('axis')).toBe(0);
    expect(wdq.inputs[0]!.constValue!.dtype).toBe(DataType.INT8);
    expect(wdq.inputs[1]!.constValue!.dims).toEqual([4]);
    expect([...(wdq.inputs[2]!.constValue!.toArray() as Int8Array)]).toEqual([0, 0, 0, 0]);
    const q = wdq.inputs[0]!.constValue!.toArray() as Int8Array;
    expect(Math.max(...[...q].map(Math.abs))).toBe(127);
    // Bias: int32 with scale x_scale · w_scale per channel.
    const bdq = conv1.inputs[2]!.producer!;
    expect(bdq.inputs[0]!.constValue!.dtype).toBe(DataType.INT32);
    const xdq = conv1.inputs[0]!.producer!;
    const xs = scalar(xdq, 1);
    expect(xs).toBeCloseTo(computeParams({ min: -1, max: 1 }, 'uint8', false).scale, 7);
    const ws = wdq.inputs[1]!.constValue!.toArray() as Float32Array;
    const bs = bdq.inputs[1]!.constValue!.toArray() as Float32Array;
    for (let c = 0; c < 4; c++) expect(bs[c]).toBe(Math.fround(xs * ws[c]!));
    const bq = bdq.inputs[0]!.constValue!.toArray() as Int32Array;
    for (let c = 0; c < 4; c++) expect(Math.abs(bq[c]! * bs[c]! - Math.fround(0.1 * (c - 1.5)))).toBeLessThanOrEqual(bs[c]! / 2 + 1e-9);
    // MaxPool: the output Q uses the input's scale and zero point.
    const pool = byName(m, 'pool');
    const inDq = pool.inputs[0]!.producer!;
    const outQ = pool.outputs[0]!.uses[0]!.node;
    expect(outQ.opType).toBe('QuantizeLinear');
    expect(scalar(outQ, 1)).toBe(scalar(inDq, 1));
    expect(scalar(outQ, 2)).toBe(scalar(inDq, 2));
    // Gemm: B per channel on axis 0 (transB = 1); output stays float and keeps its name.
    const fc = byName(m, 'fc');
    expect(fc.inputs[1]!.producer!.getInt('axis')).toBe(0);
    expect(fc.outputs[0]!.name).toBe('out');
    expect(m.graph.outputs[0]!.name).toBe('out');
    expect(m.graph.inputs.map((v) => v.name)).toEqual(['x']);
    expect(m.graph.inputs[0]!.dtype).toBe(DataType.FLOAT);
    // Add: both inputs through DQ.
    const add = byName(m, 'add');
    expect(add.inputs.map((v) => v!.producer!.opType)).toEqual(['DequantizeLinear', 'DequantizeLinear']);
    // The float weights are gone.
    for (const w of ['w1', 'w2', 'w3', 'b1', 'b3']) expect(m.graph.initializers.has(w)).toBe(false);
    expect(rep.layers.map((l) => l.opType)).toEqual(['Conv', 'Conv', 'Add', 'GlobalAveragePool', 'Gemm']);
  });

  it('keeps a graph output float under its name when its producer is quantized (Conv)', () => {
    const b = new GraphBuilder({ opset: 13 });
    const x = b.input('x', DataType.FLOAT, [1, 1, 4, 4]);
    const y = b.op('Conv', [x, b.constant('w', f32([2, 1, 1, 1], (i) => i + 1))], {}, { name: 'conv' });
    b.output(y, 'y');
    const m = b.build();
    quantizeQdq(m, { ranges: new Map([['x', { min: 0, max: 1 }], ['y', { min: 0, max: 2 }]]) });
    const out = m.graph.outputs[0]!;
    expect(out.name).toBe('y');
    expect(out.producer!.opType).toBe('DequantizeLinear');
    expect(byName(m, 'conv').outputs[0]!.uses.map((u) => u.node.opType)).toEqual(['QuantizeLinear']);
    expect(verify(m).filter((d) => d.severity === 'error')).toEqual([]);
  });

  it('raises opset 11 to 13 when every op means the same there', () => {
    const m = cnn(11);
    const plan = planQdq(m);
    expect(plan.opset).toEqual({ from: 11, to: 13 });
    quantizeQdq(m, { ranges: ranges(plan.tensors) });
    expect(m.opsetVersion('')).toBe(13);
  });

  it('raises an opset 10–12 model with Where, comparisons, Squeeze without axes and ReduceMean (reviewed against the ONNX Changelog), not Squeeze with axes', () => {
    // Where-9 and Where-16 differ only by bfloat16: Where means the same at 13 from opset 9.
    const make = (opset: number, squeezeAxes: boolean): Model => {
      const b = new GraphBuilder({ opset });
      const x = b.input('x', DataType.FLOAT, [1, 2, 4, 4]);
      const c = b.op('Conv', [x, b.constant('w', f32([2, 2, 1, 1], (i) => i - 1))], {}, { name: 'conv' });
      const mask = b.op('Less', [c, b.constant('zero', f32([], () => 0))], {}, { name: 'less' });
      const w = b.op('Where', [mask, b.constant('fill', f32([], () => -1)), c], {}, { name: 'where' });
      const m = b.op('ReduceMean', [w], { axes: [2, 3], keepdims: 1 }, { name: 'mean' });
      b.output(b.op('Squeeze', [m], squeezeAxes ? { axes: [2, 3] } : {}, { name: 'squeeze' }), 'y');
      return b.build();
    };
    for (const opset of [10, 11, 12]) expect(planQdq(make(opset, false)).opset, `opset ${opset}`).toEqual({ from: opset, to: 13 });
    expect(() => planQdq(make(11, true))).toThrow(/Squeeze \(this form of it \(its attributes\) changed by 13\)/);
  });

  it('raises an opset 10–12 model holding the default-domain quantized ops (reviewed against the ONNX Changelog), DynamicQuantizeLinear from 11', () => {
    // ConvInteger, QLinearConv, MatMulInteger and QLinearMatMul have one version to 13 (10), DynamicQuantizeLinear one (11);
    // QuantizeLinear/DequantizeLinear-13 only added per-axis scales (1-D, with `axis`) to 10's
    // scalar form, which 13 reads the same way (`axis` is ignored for a per-tensor scale).
    const make = (opset: number): Model => {
      const b = new GraphBuilder({ opset });
      const x = b.input('x', DataType.FLOAT, [1, 2, 4, 4]);
      const u8 = (name: string, dims: number[], f: (i: number) => number): Value => b.constant(name, Tensor.fromNumbers(DataType.UINT8, dims, Array.from({ length: dims.reduce((a, d) => a * d, 1) }, (_, i) => f(i))));
      const scalar = (name: string, v: number): Value => b.constant(name, f32([], () => v));
      const c = b.op('Conv', [x, b.constant('w', f32([2, 2, 1, 1], (i) => i - 1.5))], {}, { name: 'conv' });
      const [q, qs, qz] = b.opN('DynamicQuantizeLinear', [c], 3, {}, { name: 'dql' });
      const wq = u8('wq', [2, 2, 1, 1], (i) => 120 + i);
      const wz = u8('wz', [], () => 128);
      const ci = b.op('ConvInteger', [q, wq, qz, wz], {}, { name: 'convinteger' });
      const ql = b.op('QLinearConv', [q, qs, qz, wq, scalar('ws', 0.01), wz, scalar('ys', 0.05), u8('yz', [], () => 128)], {}, { name: 'qlinearconv' });
      const dq = b.op('DequantizeLinear', [ql, scalar('ds', 0.05), u8('dz', [], () => 128)], {}, { name: 'dq' });
      // 2×2 matrix products over the last two axes of [1, 2, 4, 4]: the same shape as the convs' outputs.
      const mq = u8('mq', [4, 4], (i) => 120 + i);
      const mi = b.op('MatMulInteger', [q, mq, qz, wz], {}, { name: 'matmulinteger' });
      const qm = b.op('QLinearMatMul', [q, qs, qz, mq, scalar('ms', 0.01), wz, scalar('ys2', 0.05), u8('yz2', [], () => 128)], {}, { name: 'qlinearmatmul' });
      const dq2 = b.op('DequantizeLinear', [qm, scalar('ds2', 0.05), u8('dz2', [], () => 128)], {}, { name: 'dq2' });
      const convs = b.op('Add', [b.op('Cast', [ci], { to: DataType.FLOAT }), dq], {}, { name: 'add' });
      const mats = b.op('Add', [b.op('Cast', [mi], { to: DataType.FLOAT }), dq2], {}, { name: 'add2' });
      b.output(b.op('Add', [convs, mats], {}, { name: 'add3' }), 'y');
      return b.build();
    };
    for (const opset of [11, 12]) expect(planQdq(make(opset)).opset, `opset ${opset}`).toEqual({ from: opset, to: 13 });
    expect(() => planQdq(make(10))).toThrow(/not every op of it is known to mean the same at 13: DynamicQuantizeLinear \(the same as at 13 only from opset 11\); so/);
    // QuantizeLinear's opset-10 form (a scalar scale) means the same at 13, as DequantizeLinear's (a model holding it is refused as already quantized).
    const b = new GraphBuilder({ opset: 10 });
    const quantize = b.node('QuantizeLinear', [b.input('x', DataType.FLOAT, [1, 2]), b.constant('s', f32([], () => 0.1))]);
    expect(sameAt13Why(quantize, 10)).toBeUndefined();
  });

  it('keeps requested layers in float', () => {
    const m = cnn();
    const plan = planQdq(m, { keepFloat: ['conv2'] });
    const rep = quantizeQdq(m, { ranges: ranges(plan.tensors), keepFloat: ['conv2'] });
    expect(rep.layers.map((l) => l.node)).not.toContain('conv2');
    expect(byName(m, 'conv2').inputs[1]!.constValue?.dtype).toBe(DataType.FLOAT);
    expect(rep.skipped.find((s) => s.node === 'conv2')).toMatchObject({ code: 'kept-float', reason: 'kept in float (requested)' });
  });

  it('says a layer calibration could not measure is uncalibrated, not kept float on request', () => {
    const m = cnn();
    const plan = planQdq(m, { uncalibrated: ['conv2'] });
    const rep = quantizeQdq(m, { ranges: ranges(plan.tensors), uncalibrated: ['conv2'], keepFloat: ['fc'] });
    expect(rep.skipped.filter((s) => s.node === 'conv2' || s.node === 'fc').map((s) => [s.node, s.code])).toEqual([
      ['conv2', 'uncalibrated'],
      ['fc', 'kept-float'],
    ]);
  });

  it('leaves float an op whose constant operand holds ±∞ (masked_fill(-inf) as Where(mask, -inf, x)), initializer or Constant node', () => {
    for (const how of ['initializer', 'Constant'] as const) {
      const b = new GraphBuilder({ opset: 17 });
      const x = b.input('x', DataType.FLOAT, [1, 4, 4, 4]);
      const mask = b.input('mask', DataType.BOOL, [1, 1, 4, 4]);
      const c = b.op('Conv', [x, b.constant('w', f32([4, 4, 1, 1], Math.sin))], {}, { name: 'conv' });
      const inf = Tensor.fromArray(DataType.FLOAT, [], Float32Array.of(-Infinity));
      const ninf = how === 'initializer' ? b.constant('ninf', inf) : b.op('Constant', [], { value: inf });
      const masked = b.op('Where', [mask, ninf, c], {}, { name: 'masked' });
      const added = b.op('Add', [c, ninf], {}, { name: 'added' });
      b.output(b.op('Add', [masked, added], {}, { name: 'sum' }), 'y');
      const plan = planQdq(b.build());
      expect(plan.skipped, how).toEqual([
        { node: 'masked', opType: 'Where', code: 'constant-not-finite', input: 1, reason: 'input 1 is a constant with ±∞ or NaN (no 8-bit level holds it)' },
        { node: 'added', opType: 'Add', code: 'constant-not-finite', input: 1, reason: 'input 1 is a constant with ±∞ or NaN (no 8-bit level holds it)' },
      ]);
      expect(plan.nodes.map((p) => p.node.name)).toEqual(['conv', 'sum']);
    }
  });

  it('says why a node stays float with a typed reason: a code outside the union, or one without its detail, fails typecheck', () => {
    const ok: QdqSkipReason = { code: 'input-constant' };
    // @ts-expect-error 'input-is-constant' is not a QdqSkipCode
    const misspelt: QdqSkipReason = { code: 'input-is-constant' };
    // @ts-expect-error 'constant-not-finite' names its input
    const noDetail: QdqSkipReason = { code: 'constant-not-finite' };
    // @ts-expect-error a free string is not a reason
    qdqSkipText('input is a constant');
    expect(qdqSkipText(ok)).toBe('input is a constant');
    expect([misspelt.code, noDetail.code]).not.toContain(ok.code);
    // Every code has its words, none empty, none shared.
    const texts = QDQ_SKIP_CODES.map((code) => qdqSkipText(code === 'constant-not-finite' ? { code, input: 0 } : code === 'range-not-finite' ? { code, tensor: 't', range: '[-Infinity, 0]' } : { code }));
    expect(texts.every((t) => typeof t === 'string' && t.length > 0)).toBe(true);
    expect(new Set(texts).size).toBe(texts.length);
  });

  it('leaves float an op reading or writing a tensor whose calibrated range is not finite (±∞ reached it), instead of scale 1', () => {
    const m = cnn();
    const plan = planQdq(m);
    const r = ranges(plan.tensors);
    const addIn = byName(m, 'conv2').outputs[0]!.name; // conv2 → add
    r.set(addIn, { min: -Infinity, max: 2 });
    const rep = quantizeQdq(m, { ranges: r });
    const skipped = rep.skipped.filter((s) => s.code === 'range-not-finite');
    expect(skipped.map((s) => [s.node, s]).sort()).toEqual([
      ['add', { node: 'add', opType: 'Add', code: 'range-not-finite', tensor: addIn, input: 0, range: '[-Infinity, 2]', reason: `the calibrated range of input 0 '${addIn}' is [-Infinity, 2]: ±∞ or NaN reached it (e.g. masked_fill(-inf)), and no 8-bit scale holds it` }],
      ['conv2', { node: 'conv2', opType: 'Conv', code: 'range-not-finite', tensor: addIn, range: '[-Infinity, 2]', reason: `the calibrated range of its output '${addIn}' is [-Infinity, 2]: ±∞ or NaN reached it (e.g. masked_fill(-inf)), and no 8-bit scale holds it` }],
    ]);
    expect(rep.layers.map((l) => l.node)).toEqual(['conv1', 'gap', 'fc']);
    expect([...rep.params.keys()]).not.toContain(addIn);
    expect(rep.params.size).toBeGreaterThan(0);
    expect([...rep.params.values()].every((p) => Number.isFinite(p.scale) && p.scale !== 1)).toBe(true);
  });

  it('refuses a model with nothing to quantize', () => {
    const b = new GraphBuilder({ opset: 17 });
    const x = b.input('x', DataType.FLOAT, [2, 3]);
    b.output(b.op('Relu', [b.op('Softmax', [x])]), 'y');
    const m = b.build();
    expect(() => planQdq(m)).toThrow(QuantizeError);
    expect(() => planQdq(m)).toThrow(/nothing to quantize/);
  });

  it('refuses an opset below 10, and 11 with ops whose meaning changed by 13', () => {
    expect(() => planQdq(cnn(9))).toThrow(/opset 9/);
    const b = new GraphBuilder({ opset: 11 });
    const x = b.input('x', DataType.FLOAT, [2, 3]);
    const y = b.op('MatMul', [x, b.constant('w', f32([3, 3], (i) => i))]);
    b.output(b.op('Softmax', [y]), 'y');
    expect(() => planQdq(b.build())).toThrow(/Softmax \(changed by 13: its axis coerced the input to 2-D before, names one axis from 13\)/);
    // Each op says why: an op nobody reviewed says so, instead of being called changed.
    const e = new GraphBuilder({ opset: 12 });
    const ex = e.input('x', DataType.FLOAT, [2, 3]);
    const ey = e.op('MatMul', [ex, e.constant('w', f32([3, 3], (i) => i))]);
    e.output(e.op('Upsample', [e.op('Mod', [ey, e.constant('d', f32([], () => 2))], { fmod: 1 }), e.constant('s', f32([2], () => 1))]), 'y');
    expect(() => planQdq(e.build())).toThrow(/not every op of it is known to mean the same at 13: Mod \(not reviewed for opset 13\), Upsample \(deprecated at 10, not defined at 13\); so/);
  });

  it('refuses an opset 10–12 op whose form changed by 13 (Clip with min/max attributes, Resize-10), and raises its opset-11 form', () => {
    const clip = (opset: number): Model => {
      const b = new GraphBuilder({ opset });
      const x = b.input('x', DataType.FLOAT, [1, 2, 4, 4]);
      const c = b.op('Conv', [x, b.constant('w', f32([3, 2, 1, 1], (i) => i - 2))], {}, { name: 'conv' });
      const bounds = opset < 11 ? [] : [b.constant('lo', f32([], () => 0)), b.constant('hi', f32([], () => 6))];
      const attrs = opset < 11 ? { min: Attribute.float('min', 0), max: Attribute.float('max', 6) } : {};
      b.output(b.op('Clip', [c, ...bounds], attrs, { name: 'clip' }), 'y');
      return b.build();
    };
    // Clip-6's min/max attributes are unknown to Clip-13 (onnxruntime: "Unrecognized attribute: min").
    expect(() => planQdq(clip(10))).toThrow(/Clip \(the same as at 13 only from opset 11\)/);
    expect(planQdq(clip(11)).opset).toEqual({ from: 11, to: 13 });
    const b = new GraphBuilder({ opset: 10 });
    const x = b.input('x', DataType.FLOAT, [1, 2, 4, 4]);
    const c = b.op('Conv', [x, b.constant('w', f32([3, 2, 1, 1], (i) => i - 2))], {}, { name: 'conv' });
    b.output(b.op('Resize', [c, b.constant('scales', f32([4], (i) => (i < 2 ? 1 : 2)))], {}, { name: 'up' }), 'y');
    // Resize-10 reads (X, scales); at 13 input 1 is roi.
    expect(() => planQdq(b.build())).toThrow(/Resize \(the same as at 13 only from opset 11\)/);
  });

  it('leaves int64 shape arithmetic alone even when its types are not declared', () => {
    const b = new GraphBuilder({ opset: 17 });
    const x = b.input('x', DataType.FLOAT, [1, 2, 4, 4]);
    const c = b.op('Conv', [x, b.constant('w', f32([3, 2, 1, 1], (i) => i - 2))], {}, { name: 'conv' });
    const shape = b.op('Shape', [c], {}, { name: 'shape' });
    const head = b.op('Slice', [shape, b.constant('s0', Tensor.fromNumbers(DataType.INT64, [1], [0])), b.constant('s1', Tensor.fromNumbers(DataType.INT64, [1], [1]))], {}, { name: 'slice' });
    const dims = b.op('Concat', [head, b.constant('rest', Tensor.fromNumbers(DataType.INT64, [1], [-1]))], { axis: 0 }, { name: 'dims' });
    b.output(b.op('Reshape', [c, dims], {}, { name: 'flat' }), 'y');
    const m = b.build();
    for (const n of m.graph) for (const o of n.outputs) o.type = null; // as an exporter without value_info writes it
    const plan = planQdq(m);
    expect(plan.skipped.find((s) => s.node === 'dims')).toMatchObject({ code: 'input-not-float', reason: 'input is not float32' });
    expect(plan.nodes.map((p) => p.node.name)).toEqual(['conv', 'flat']);
  });

  it('refuses to quantize twice', () => {
    const m = cnn();
    quantizeQdq(m, { ranges: ranges(planQdq(m).tensors) });
    expect(() => planQdq(m)).toThrow(/already quantized/);
  });

  it('refuses missing ranges with the tensor names', () => {
    const m = cnn();
    expect(() => quantizeQdq(m, { ranges: new Map() })).toThrow(/no calibrated range.*x/);
    expect(count(m, 'QuantizeLinear')).toBe(0);
  });

  it('computes onnxruntime’s scale and zero point', () => {
    expect(computeParams({ min: -1, max: 3 }, 'uint8', false)).toEqual({ type: 'uint8', scale: Math.fround(4 / 255), zeroPoint: 64 });
    expect(computeParams({ min: 0.5, max: 2 }, 'uint8', false).zeroPoint).toBe(0);
    expect(computeParams({ min: -2, max: 1 }, 'int8', true)).toEqual({ type: 'int8', scale: Math.fround(4 / 254), zeroPoint: 0 });
    expect(computeParams({ min: 0, max: 0 }, 'uint8', false).scale).toBe(1);
  });
});

describe("Softmax's fixed output range", () => {
  function model(asOutput: boolean): Model {
    const b = new GraphBuilder({ opset: 17 });
    const x = b.input('x', DataType.FLOAT, [1, 1000]);
    const w = b.constant('w', Tensor.fromArray(DataType.FLOAT, [1000, 1000], Float32Array.from({ length: 1e6 }, (_, i) => Math.sin(i) / 100)));
    const sm = b.op('Softmax', [b.op('MatMul', [x, w], {}, { name: 'mm' })], { axis: 1 }, { name: 'softmax' });
    if (asOutput) b.output(sm, 'prob');
    else b.output(b.op('MatMul', [sm, w], {}, { name: 'mm2' }), 'y');
    return b.build();
  }
  it('inside the graph its output gets 1/256 whatever the calibrated range (QLinearSoftmax); as a model output it stays float', () => {
    for (const asOutput of [false, true]) {
      const m = model(asOutput);
      const plan = planQdq(m, { opTypes: ['MatMul', 'Softmax'] });
      const rep = quantizeQdq(m, { ranges: new Map(plan.tensors.map((t) => [t, { min: 0, max: 0.01 }])), opTypes: ['MatMul', 'Softmax'] });
      const softmax = byName(m, 'softmax');
      const readers = softmax.outputs[0]!.uses.map((u) => u.node.opType);
      if (asOutput) {
        // probabilities below 1/512 of a 1000-class head would all read 0 at scale 1/256
        expect(softmax.outputs[0]!.isGraphOutput).toBe(true);
        expect(readers).toEqual([]);
      } else {
        expect(readers).toEqual(['QuantizeLinear']);
        const q = softmax.outputs[0]!.uses[0]!.node;
        expect(q.inputs[1]!.constValue!.toFloat64()[0]).toBe(1 / 256);
      }
      expect(rep.layers.map((l) => l.opType)).toContain('Softmax');
    }
  });
});

describe('quantizeDynamic', () => {
  function mlp(opset = 17): Model {
    const b = new GraphBuilder({ opset });
    const x = b.input('x', DataType.FLOAT, [2, 8]);
    const h = b.op('MatMul', [x, b.constant('w1', f32([8, 4], (i) => Math.sin(i)))], {}, { name: 'fc1' });
    const y = b.op('MatMul', [b.op('Relu', [h]), b.constant('w2', f32([4, 3], (i) => Math.cos(i)))], {}, { name: 'fc2' });
    b.output(y, 'y');
    return b.build();
  }

  it('rewrites MatMul with a constant weight as DynamicQuantizeLinear → MatMulInteger → Cast → Mul, keeping the output name', () => {
    const m = mlp();
    const r = quantizeDynamic(m);
    expect(verify(m).filter((d) => d.severity === 'error')).toEqual([]);
    expect(r.layers.map((l) => l.node)).toEqual(['fc1', 'fc2']);
    expect(count(m, 'MatMul')).toBe(0);
    expect(count(m, 'MatMulInteger')).toBe(2);
    expect(count(m, 'DynamicQuantizeLinear')).toBe(2);
    const mmi = [...m.graph].find((n) => n.opType === 'MatMulInteger')!;
    expect(mmi.inputs[1]!.constValue!.dtype).toBe(DataType.INT8);
    expect(mmi.inputs[3]!.constValue!.dims).toEqual([4]); // per column of W [8, 4]
    expect(m.graph.outputs[0]!.name).toBe('y');
    expect(m.graph.outputs[0]!.producer!.opType).toBe('Mul');
    expect(m.graph.initializers.has('w1')).toBe(false);
  });

  it('refuses a model without a weight MatMul, and opset < 11', () => {
    const b = new GraphBuilder({ opset: 17 });
    b.output(b.op('Relu', [b.input('x', DataType.FLOAT, [2])]), 'y');
    expect(() => quantizeDynamic(b.build())).toThrow(/nothing to quantize dynamically/);
    expect(() => quantizeDynamic(mlp(10))).toThrow(/opset 10/);
  });
});
