import { Attribute, DataType, Graph, GraphBuilder, Node, Tensor, type Model } from '@onnxkit/graph';
import { FOLD_CONSTANTS_BUDGET, SUPPORTED_KERNELS } from '@onnxkit/passes';
import { afterAll, describe, expect, it } from 'vitest';
import { closeWorker, equivalentAfter, f32, opTypes, ortEvaluator, rnd, runPass, runTwice } from './helpers.js';

afterAll(closeWorker);

/** The PyTorch-style dynamic reshape: Shape → Gather → Unsqueeze → Concat → Reshape. */
function pytorchReshape(batch: number | string): Model {
  const b = new GraphBuilder({ opset: 17 });
  const x = b.input('x', DataType.FLOAT, [batch, 3, 4]);
  const s = b.op('Shape', [x], {}, { name: 'shape' });
  const n = b.op('Gather', [s, b.constant('zero', Tensor.scalar(DataType.INT64, 0))], { axis: 0 }, { name: 'gather' });
  const nu = b.op('Unsqueeze', [n, b.int64s('axes', [0])], {}, { name: 'unsq' });
  const shape = b.op('Concat', [nu, b.int64s('minus1', [-1])], { axis: 0 }, { name: 'concat' });
  b.output(b.op('Reshape', [x, shape], {}, { name: 'reshape' }), 'out');
  return b.build();
}

describe('fold-constants', () => {
  it('folds a PyTorch Shape→Gather→Unsqueeze→Concat chain on a static shape, in one sweep', async () => {
    const m = pytorchReshape(2);
    const { cmp, rewritten } = await equivalentAfter(m, async (mm) => {
      const r = await runTwice('fold-constants', mm);
      expect(r.changes).toBe(4);
      expect(r.metrics['byKernel']).toBe(3);
    });
    expect(cmp.equivalent, cmp.reason ?? '').toBe(true);
    expect(opTypes(rewritten)).toEqual(['Reshape']);
    const reshape = rewritten.graph.nodes[0]!;
    expect(reshape.inputs[0]).toBe(rewritten.graph.inputs[0]);
    expect(reshape.inputs[1]!.isInitializer).toBe(true);
    expect(Array.from(reshape.inputs[1]!.constValue!.toBigInt64())).toEqual([2n, -1n]);
  });

  it('keeps Shape of a symbolic dim (declines shape-not-static)', async () => {
    const m = pytorchReshape('N');
    const r = await runPass('fold-constants', m);
    expect(r.rejected['shape-not-static']).toBe(1);
    expect(opTypes(m)).toContain('Shape');
    expect(opTypes(m)).toContain('Reshape');
  });

  it('folds Shape with start/end (opset 15) and Size', async () => {
    const b = new GraphBuilder({ opset: 18 });
    const x = b.input('x', DataType.FLOAT, [2, 3, 4, 5]);
    const s = b.op('Shape', [x], { start: -3, end: -1 });
    const z = b.op('Size', [x]);
    b.output(b.op('Mul', [s, b.op('Unsqueeze', [z, b.int64s('ax', [0])])]), 'out');
    const m = b.build();
    const { cmp, rewritten } = await equivalentAfter(m, (mm) => runTwice('fold-constants', mm));
    expect(cmp.equivalent).toBe(true);
    // The last node produces the graph output, which stays a node output (not an initializer).
    expect(opTypes(rewritten)).toEqual(['Mul']);
    const mul = rewritten.graph.nodes[0]!;
    expect(Array.from(mul.inputs[0]!.constValue!.toBigInt64())).toEqual([3n, 4n]);
    expect(Array.from(mul.inputs[1]!.constValue!.toBigInt64())).toEqual([120n]);
  });

  it('turns Constant nodes into initializers', async () => {
    const b = new GraphBuilder();
    const x = b.input('x', DataType.FLOAT, [3]);
    const c = b.op('Constant', [], { value: f32([3], (i) => i + 1) }, { name: 'k' });
    const ci = b.op('Constant', [], { value_ints: [1, 2, 3] }, { name: 'ki' });
    b.output(b.op('Mul', [x, c]), 'y');
    b.output(b.op('Cast', [ci], { to: DataType.FLOAT }), 'z');
    const m = b.build();
    const { cmp, rewritten } = await equivalentAfter(m, async (mm) => {
      const r = await runTwice('fold-constants', mm);
      expect(r.log.map((l) => l.rule)).toContain('constant-to-initializer');
    });
    expect(cmp.equivalent).toBe(true);
    expect(opTypes(rewritten)).toEqual(['Mul', 'Cast']);
    expect(rewritten.graph.nodes.every((n) => n.inputs.every((v) => v === rewritten.graph.inputs[0] || v!.isInitializer))).toBe(true);
  });

  it('never folds random or non-deterministic ops', async () => {
    const b = new GraphBuilder();
    const x = b.input('x', DataType.FLOAT, [3]);
    const rn = b.op('RandomNormal', [], { shape: [3] });
    const ru = b.op('RandomUniformLike', [b.constant('c', f32([3], () => 1))]);
    const bern = b.op('Bernoulli', [b.constant('p', f32([3], () => 0.5))]);
    b.output(b.op('Add', [b.op('Add', [x, rn]), b.op('Add', [ru, bern])]), 'y');
    const m = b.build();
    const r = await runPass('fold-constants', m);
    expect(r.modified).toBe(false);
    expect(opTypes(m).filter((o) => o.startsWith('Random') || o === 'Bernoulli').length).toBe(3);
  });

  it('respects the byte budget (named constant, overridable)', async () => {
    expect(FOLD_CONSTANTS_BUDGET.maxTensorBytes).toBe(16 * 1024 * 1024);
    const b = new GraphBuilder();
    const x = b.input('x', DataType.FLOAT, [1000, 1000]);
    const big = b.op('ConstantOfShape', [b.int64s('shape', [1000, 1000])], { value: f32([1], () => 2) });
    b.output(b.op('Mul', [x, big]), 'y');
    const m = b.build();
    const r = await runPass('fold-constants', m, { maxTensorBytes: 1_000_000 });
    expect(r.rejected['budget-exceeded']).toBe(1);
    expect(opTypes(m)).toContain('ConstantOfShape');
    const r2 = await runPass('fold-constants', m, { maxTensorBytes: 8_000_000, maxTotalBytes: 3_000_000 });
    expect(r2.rejected['budget-exceeded']).toBe(1);
    const r3 = await runPass('fold-constants', m);
    expect(r3.changes).toBe(1);
    expect(r3.bytesDelta).toBe(4_000_000 - 16);
  });

  it('does not fold a node whose output is a graph output into an initializer', async () => {
    const b = new GraphBuilder();
    b.input('x', DataType.FLOAT, [1]);
    b.output(b.op('Add', [b.constant('a', f32([2], () => 1)), b.constant('b', f32([2], () => 2))]), 'y');
    const r = await runPass('fold-constants', b.build());
    expect(r.modified).toBe(false);
    expect(r.rejected['graph-output-name']).toBe(1);
  });

  it('does not fold ops with subgraphs', async () => {
    const b = new GraphBuilder();
    const x = b.input('x', DataType.FLOAT, [2]);
    const t = new Graph({ name: 't' });
    const tn = new Node('Identity', [x], { outputs: ['t_out'] });
    t.append(tn);
    t.addOutput(tn.output);
    const e = new Graph({ name: 'e' });
    const en = new Node('Neg', [x], { outputs: ['e_out'] });
    e.append(en);
    e.addOutput(en.output);
    const cond = b.constant('cond', Tensor.scalar(DataType.BOOL, 1));
    b.output(b.op('Relu', [b.node('If', [cond], { then_branch: t, else_branch: e }).output]), 'y');
    const m = b.build();
    const r = await runPass('fold-constants', m);
    expect(r.modified).toBe(false);
    expect(opTypes(m)).toEqual(['If', 'Relu']);
  });

  it('uses the pluggable evaluator for ops without a TypeScript kernel', async () => {
    const op = ['Sin', 'Hardmax', 'Det'].find((o) => !(o in SUPPORTED_KERNELS))!;
    const make = (): Model => {
      const b = new GraphBuilder();
      const x = b.input('x', DataType.FLOAT, [2, 2]);
      const c = b.op(op, [b.constant('c', f32([2, 2], rnd(3)))], {}, { name: 'const_op' });
      b.output(b.op('Add', [x, c]), 'y');
      return b.build();
    };
    const without = await runPass('fold-constants', make());
    expect(without.modified).toBe(false);
    expect(without.rejected['no-kernel']).toBe(1);
    const ev = ortEvaluator();
    const { cmp, rewritten } = await equivalentAfter(make(), async (mm) => {
      const r = await runTwice('fold-constants', mm, {}, ev);
      expect(r.metrics['byEvaluator']).toBe(1);
    });
    expect(ev.calls).toBe(1);
    expect(cmp.equivalent, cmp.reason ?? '').toBe(true);
    expect(opTypes(rewritten)).toEqual(['Add']);
  });

  it("a no-kernel decline says its op's own reason (random, body graphs, stated facets, not registered, a kernel's coverage), worded once per op type", async () => {
    const b = new GraphBuilder({ opset: 17 });
    const x = b.input('x', DataType.FLOAT, [2, 2]);
    const c = (name: string) => b.constant(name, f32([2, 2], rnd(name.length)));
    const random = b.op('RandomNormalLike', [c('rn')], {}, { name: 'random' });
    const sin1 = b.op('Sin', [c('s1')], {}, { name: 'sin1' });
    const sin2 = b.op('Sin', [c('s22')], {}, { name: 'sin2' });
    const boxes = b.constant('boxes', f32([1, 2, 4], (i) => [0, 0, 1, 1, 0, 0.1, 1, 1.1][i]!));
    const scores = b.constant('scores', f32([1, 1, 2], (i) => [0.9, 0.8][i]!));
    const nms = b.op('NonMaxSuppression', [boxes, scores], {}, { name: 'nms' });
    const foo = b.op('FooBar', [c('fooIn')], {}, { name: 'foo' });
    // A Cast to string: the Cast kernel does not cover it.
    const str = b.op('Cast', [c('cs')], { to: DataType.STRING }, { name: 'tostring' });
    const t = new Graph({ name: 't' });
    const tn = new Node('Identity', [x], { outputs: ['t_out'] });
    t.append(tn);
    t.addOutput(tn.output);
    const iff = b.node('If', [b.constant('cond', Tensor.scalar(DataType.BOOL, 1))], { then_branch: t, else_branch: t }).output;
    b.output(b.op('Add', [x, b.op('Add', [random, b.op('Add', [sin1, sin2])])]), 'y');
    b.output(nms, 'sel');
    b.output(foo, 'foo_out');
    b.output(str, 'str_out');
    b.output(iff, 'if_out');
    const r = await runPass('fold-constants', b.build());
    const detail = Object.fromEntries(r.declined.filter((d) => d.reason === 'no-kernel').map((d) => [d.node, d.detail]));
    expect(detail).toEqual({
      random: 'RandomNormalLike: its output is random (nondeterministic): there is no one value to fold',
      sin1: 'Sin: its op module (ops/) declares no TypeScript kernel; no evaluator (onnxruntime) was given',
      sin2: 'Sin: its op module (ops/) declares no TypeScript kernel; no evaluator (onnxruntime) was given',
      nms: 'NonMaxSuppression: its op module (ops/) declares no TypeScript kernel; it states: cost data-dependent: its work depends on the box data (how many boxes survive), not on shapes; no evaluator (onnxruntime) was given',
      foo: 'FooBar: not registered (no module in ops/ declares it), so no TypeScript kernel; no evaluator (onnxruntime) was given',
      tostring: expect.stringMatching(/^Cast: its kernel does not cover this node \(it covers: .+\); no evaluator \(onnxruntime\) was given$/),
      If: 'If: it runs its body graphs, which constant folding does not evaluate',
    });
  });

  it('folds element-wise kernels bit-exactly (float32 Add/Mul of constants)', async () => {
    const b = new GraphBuilder();
    const x = b.input('x', DataType.FLOAT, [4]);
    const c = b.op('Mul', [b.constant('a', f32([4], rnd(1))), b.constant('b', f32([4], rnd(2)))]);
    const d = b.op('Add', [c, b.constant('e', f32([1], () => 0.1))]);
    b.output(b.op('Sub', [x, d]), 'y');
    const m = b.build();
    const { cmp } = await equivalentAfter(m, (mm) => runTwice('fold-constants', mm), new Map([['x', f32([4], () => 0)]]));
    expect(cmp.outputs[0]!.maxAbsError).toBe(0);
  });

  it('declines a Dropout-with-constant-input (left to eliminate-identity) and keeps its training flag semantics', async () => {
    const b = new GraphBuilder();
    b.input('x', DataType.FLOAT, [1]);
    const d = b.op('Dropout', [b.constant('c', f32([3], () => 1)), b.constant('ratio', f32([], () => 0.5)), b.constant('tm', Tensor.scalar(DataType.BOOL, 1))]);
    b.output(b.op('Relu', [d]), 'y');
    const m = b.build();
    const r = await runPass('fold-constants', m);
    expect(r.modified).toBe(false);
    expect(opTypes(m)).toContain('Dropout');
    void Attribute;
  });
});

describe('fold-constants never folds a compressed weight back into float [compressed-weight]', () => {
  /** fold-constants changes nothing, declines the one compressed weight, and leaves `ops`. */
  async function expectCompressedWeightKept(m: Model, ops: string[]): Promise<void> {
    const r = await runPass('fold-constants', m);
    expect(r.modified).toBe(false);
    expect(r.rejected['compressed-weight']).toBe(1);
    expect(opTypes(m)).toEqual(ops);
  }

  it('keeps fp16-weights\' Cast(float16 → float) in front of a Conv', async () => {
    const b = new GraphBuilder();
    const x = b.input('x', DataType.FLOAT, [1, 2, 4, 4]);
    const bits = new Uint16Array(8 * 2 * 9).fill(0x3c00);
    const w = b.op('Cast', [b.constant('w_fp16', Tensor.fromArray(DataType.FLOAT16, [8, 2, 3, 3], bits))], { to: DataType.FLOAT });
    b.output(b.op('Conv', [x, w]), 'y');
    await expectCompressedWeightKept(b.build(), ['Cast', 'Conv']);
  });

  it('keeps DequantizeLinear(int8 weight, scale, zero point) in front of a MatMul', async () => {
    const b = new GraphBuilder();
    const x = b.input('x', DataType.FLOAT, [2, 4]);
    const q = b.constant('w_int8', Tensor.fromArray(DataType.INT8, [4, 3], new Int8Array([1, -2, 3, 4, 5, -6, 7, 8, 9, 10, -11, 12])));
    const w = b.op('DequantizeLinear', [q, b.constant('s', Tensor.fromNumbers(DataType.FLOAT, [], [0.5])), b.constant('zp', Tensor.fromArray(DataType.INT8, [], new Int8Array([0])))]);
    b.output(b.op('MatMul', [x, w]), 'y');
    await expectCompressedWeightKept(b.build(), ['DequantizeLinear', 'MatMul']);
  });

  it('still folds a Cast of a constant that is not a compressed weight (int32 → float, float → float16)', async () => {
    const b = new GraphBuilder();
    const x = b.input('x', DataType.FLOAT, [3]);
    const c = b.op('Cast', [b.constant('k', Tensor.fromArray(DataType.INT32, [3], new Int32Array([1, 2, 3])))], { to: DataType.FLOAT });
    const h = b.op('Cast', [b.constant('f', f32([3], (i) => i))], { to: DataType.FLOAT16 });
    b.output(b.op('Mul', [x, c]), 'y');
    b.output(b.op('Mul', [b.input('x16', DataType.FLOAT16, [3]), h]), 'z');
    const m = b.build();
    const r = await runTwice('fold-constants', m);
    expect(r.rejected['compressed-weight'] ?? 0).toBe(0);
    expect(r.changes).toBe(2);
    expect(opTypes(m)).toEqual(['Mul', 'Mul']);
  });
});
