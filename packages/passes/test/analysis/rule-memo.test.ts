/**
 * Shape inference gives a rule's last result back for the next node that would read the same
 * things (the engine's per-rule memo): nodes in a row with the same op type, attributes and
 * input facts. These graphs repeat an op with one thing changed — a constant input's content
 * (constants of one type and dims share their dims array, so only the content differs), an input
 * shape, a symbolic dim, an attribute, the number of outputs, an omitted input — and check that
 * every node gets its own result and its own diagnostics, as if inferred alone.
 */
import { describe, expect, it } from 'vitest';
import { DataType, GraphBuilder, Node, Tensor, type Dim, type Model } from '@onnxkit/graph';
import { inferShapes, updateInference } from '../../src/analysis/index.js';

const F = DataType.FLOAT;

function shapesOf(m: Model): Record<string, readonly Dim[] | null> {
  const inf = inferShapes(m);
  const out: Record<string, readonly Dim[] | null> = {};
  for (const n of m.graph) for (const v of n.outputs) out[v.name] = inf.shapeOf(v);
  return out;
}

describe('shape inference of repeated nodes (the per-rule memo)', () => {
  it('reads each node’s own constant input: Reshape, Slice, Expand and Tile with constants of the same dims but other values', () => {
    const b = new GraphBuilder({ name: 'consts' });
    const x = b.input('x', F, [2, 6]);
    b.output(b.op('Reshape', [x, b.int64s('s1', [3, 4])], {}, { name: 'n_r1', outputs: ['r1'] }));
    b.output(b.op('Reshape', [x, b.int64s('s2', [4, 3])], {}, { name: 'n_r2', outputs: ['r2'] }));
    b.output(b.op('Reshape', [x, b.int64s('s3', [12, 1])], {}, { name: 'n_r3', outputs: ['r3'] }));
    b.output(b.op('Slice', [x, b.int64s('st1', [0]), b.int64s('en1', [2]), b.int64s('ax1', [1])], {}, { name: 'n_sl1', outputs: ['sl1'] }));
    b.output(b.op('Slice', [x, b.int64s('st2', [1]), b.int64s('en2', [5]), b.int64s('ax2', [1])], {}, { name: 'n_sl2', outputs: ['sl2'] }));
    const one = b.input('one', F, [1, 1]);
    b.output(b.op('Expand', [one, b.int64s('e1', [2, 3])], {}, { name: 'n_ex1', outputs: ['ex1'] }));
    b.output(b.op('Expand', [one, b.int64s('e2', [5, 7])], {}, { name: 'n_ex2', outputs: ['ex2'] }));
    b.output(b.op('Tile', [x, b.int64s('t1', [1, 2])], {}, { name: 'n_ti1', outputs: ['ti1'] }));
    b.output(b.op('Tile', [x, b.int64s('t2', [3, 1])], {}, { name: 'n_ti2', outputs: ['ti2'] }));
    expect(shapesOf(b.build())).toEqual({
      r1: [3, 4],
      r2: [4, 3],
      r3: [12, 1],
      sl1: [2, 2],
      sl2: [2, 4],
      ex1: [2, 3],
      ex2: [5, 7],
      ti1: [2, 12],
      ti2: [6, 6],
    });
  });

  it('keeps the content that constant inputs give: an Add of two int64 constants, then of two others', () => {
    const b = new GraphBuilder({ name: 'partial' });
    const x = b.input('x', F, [24]);
    const s1 = b.op('Add', [b.int64s('a1', [1, 2]), b.int64s('b1', [2, 2])], {}, { name: 'add1', outputs: ['s1'] });
    const s2 = b.op('Add', [b.int64s('a2', [3, 1]), b.int64s('b2', [3, 1])], {}, { name: 'add2', outputs: ['s2'] });
    b.output(b.op('Reshape', [x, s1], {}, { name: 'n_v1', outputs: ['v1'] }));
    b.output(b.op('Reshape', [x, s2], {}, { name: 'n_v2', outputs: ['v2'] }));
    const m = b.build();
    const inf = inferShapes(m);
    const byName = m.graph.valuesByName();
    expect(inf.shapeOf(byName.get('v1')!)).toEqual([3, 4]);
    expect(inf.shapeOf(byName.get('v2')!)).toEqual([6, 2]);
    expect([...inf.constOf(byName.get('s2')!)!.toBigInt64()]).toEqual([6n, 2n]);
  });

  it('infers each input shape, symbolic dim, attribute and output count on its own', () => {
    const b = new GraphBuilder({ name: 'shapes', opset: 18 });
    const a = b.input('a', F, [2, 3]);
    const c = b.input('c', F, [4, 5]);
    const n = b.input('n', F, ['N', 3]);
    const m = b.input('m', F, ['M', 3]);
    b.output(b.op('Relu', [a], {}, { name: 'n_ra', outputs: ['ra'] }));
    b.output(b.op('Relu', [c], {}, { name: 'n_rc', outputs: ['rc'] }));
    b.output(b.op('Relu', [n], {}, { name: 'n_rn', outputs: ['rn'] }));
    b.output(b.op('Relu', [m], {}, { name: 'n_rm', outputs: ['rm'] }));
    b.output(b.op('Flatten', [c], { axis: 1 }, { name: 'n_f1', outputs: ['f1'] }));
    b.output(b.op('Flatten', [c], { axis: 0 }, { name: 'n_f0', outputs: ['f0'] }));
    b.output(b.op('Transpose', [c], {}, { name: 'n_tr', outputs: ['tr'] }));
    b.output(b.op('Transpose', [c], { perm: [0, 1] }, { name: 'n_tp', outputs: ['tp'] }));
    for (const v of b.node('Split', [c], { axis: 1, num_outputs: 2 }, { outputs: ['p', 'q'] }).outputs) b.output(v);
    for (const v of b.node('Split', [c], { axis: 1, num_outputs: 3 }, { outputs: ['r', 's', 't'] }).outputs) b.output(v);
    expect(shapesOf(b.build())).toEqual({
      ra: [2, 3],
      rc: [4, 5],
      rn: ['N', 3],
      rm: ['M', 3],
      f1: [4, 5],
      f0: [1, 20],
      tr: [5, 4],
      tp: [4, 5],
      p: [4, 3],
      q: [4, 2],
      r: [4, 2],
      s: [4, 2],
      t: [4, 1],
    });
  });

  it('reads each node’s omitted and present inputs: Pad with its axes input given or omitted', () => {
    const b = new GraphBuilder({ name: 'omitted', opset: 18 });
    const x = b.input('x', F, [4, 5]);
    const pads = b.int64s('pads', [1, 1, 1, 1]);
    const zero = b.constant('zero', Tensor.scalar(F, 0));
    // The same pads: per dim without axes, per axis given (axes [0, 1] then [1, 0]).
    b.output(b.op('Pad', [x, pads, zero], {}, { outputs: ['all'] }));
    b.output(b.op('Pad', [x, pads, null, b.int64s('a01', [0, 1])], {}, { outputs: ['ax01'] }));
    b.output(b.op('Pad', [x, b.int64s('pads2', [1, 0, 1, 0]), null, b.int64s('a10', [1, 0])], {}, { outputs: ['ax10'] }));
    b.output(b.op('Pad', [x, b.int64s('pads3', [1, 0, 1, 0]), zero, b.int64s('a10b', [1, 0])], {}, { outputs: ['ax10b'] }));
    expect(shapesOf(b.build())).toEqual({ all: [6, 7], ax01: [6, 7], ax10: [4, 7], ax10b: [4, 7] });
  });

  it('reads the dims of each node’s constant input when the rule reads no content: MatMul by weights of other shapes', () => {
    const b = new GraphBuilder({ name: 'weights' });
    const x = b.input('x', F, [1, 16]);
    const w = (name: string, dims: number[]) => b.constant(name, Tensor.fromArray(F, dims, new Float32Array(dims[0]! * dims[1]!)));
    b.output(b.op('MatMul', [x, w('w1', [16, 8])], {}, { outputs: ['y1'] }));
    b.output(b.op('MatMul', [x, w('w2', [16, 8])], {}, { outputs: ['y2'] }));
    b.output(b.op('MatMul', [x, w('w3', [16, 4])], {}, { outputs: ['y3'] }));
    b.output(b.op('Add', [x, w('b1', [1, 16])], {}, { outputs: ['a1'] }));
    b.output(b.op('Add', [x, w('b2', [4, 16])], {}, { outputs: ['a2'] }));
    expect(shapesOf(b.build())).toEqual({ y1: [1, 8], y2: [1, 8], y3: [1, 4], a1: [1, 16], a2: [4, 16] });
  });

  it('reads an input omitted in one node and given in the next: Slice with and without axes', () => {
    const b = new GraphBuilder({ name: 'slice-axes' });
    const x = b.input('x', F, [4, 5]);
    const st = b.int64s('st', [1]);
    const en = b.int64s('en', [3]);
    const steps = b.int64s('steps', [1]);
    b.output(b.op('Slice', [x, st, en, b.int64s('ax', [1]), steps], {}, { outputs: ['by_axis'] }));
    b.output(b.op('Slice', [x, st, en, null, steps], {}, { outputs: ['by_default'] }));
    expect(shapesOf(b.build())).toEqual({ by_axis: [4, 2], by_default: [2, 5] });
  });

  it('reads the output count: Split into equal parts by its number of outputs', () => {
    const b = new GraphBuilder({ name: 'split', opset: 13 });
    const x = b.input('x', F, [6, 4]);
    for (const v of b.node('Split', [x], {}, { outputs: ['p', 'q'] }).outputs) b.output(v);
    for (const v of b.node('Split', [x], {}, { outputs: ['r', 's', 't'] }).outputs) b.output(v);
    expect(shapesOf(b.build())).toEqual({ p: [3, 4], q: [3, 4], r: [2, 4], s: [2, 4], t: [2, 4] });
  });

  it('gives each value its own partial content: two Shape nodes of one input', () => {
    const b = new GraphBuilder({ name: 'shapes-of' });
    const x = b.input('x', F, ['N', 4]);
    b.output(b.op('Shape', [x], {}, { outputs: ['s1'] }));
    b.output(b.op('Shape', [x], {}, { outputs: ['s2'] }));
    const m = b.build();
    const inf = inferShapes(m);
    const byName = m.graph.valuesByName();
    const [s1, s2] = [byName.get('s1')!, byName.get('s2')!];
    expect(inf.shapeValueOf(s1)).toEqual(['N', 4]);
    expect(inf.shapeValueOf(s2)).toEqual(['N', 4]);
    // (facts with content are a value's own: a later rewrite of one value must not reach the other)
    expect(inf.shapeValueOf(s1)).not.toBe(inf.shapeValueOf(s2));
  });

  it('reports a diagnostic for each node that has one, not only the first', () => {
    const b = new GraphBuilder({ name: 'diagnostics' });
    const x = b.input('x', F, [2, 3]);
    const w1 = b.constant('w1', Tensor.fromArray(F, [4, 5], new Float32Array(20)));
    const w2 = b.constant('w2', Tensor.fromArray(F, [4, 5], new Float32Array(20)));
    b.output(b.op('MatMul', [x, w1], {}, { name: 'mm1', outputs: ['y1'] }));
    b.output(b.op('MatMul', [x, w2], {}, { name: 'mm2', outputs: ['y2'] }));
    b.output(b.op('MatMul', [x, w1], {}, { name: 'mm3', outputs: ['y3'] }));
    const inf = inferShapes(b.build());
    const mismatches = inf.diagnostics.filter((d) => d.code === 'shape-mismatch');
    expect(mismatches.map((d) => d.node)).toEqual(['mm1', 'mm2', 'mm3']);
  });

  it('gives the same facts after an update as a fresh inference when a repeated node is added', () => {
    const b = new GraphBuilder({ name: 'update' });
    let x = b.input('x', F, [1, 16]);
    const wa = b.constant('wa', Tensor.fromArray(F, [16, 8], new Float32Array(128)));
    b.constant('wb', Tensor.fromArray(F, [16, 4], new Float32Array(64)));
    x = b.op('MatMul', [x, wa], {}, { name: 'mm', outputs: ['h'] });
    b.output(b.op('Relu', [x], {}, { name: 'relu', outputs: ['y'] }));
    const m = b.build();
    const inf = inferShapes(m);
    const g = m.graph;
    const xs = g.valuesByName();
    // A second MatMul of the input, with a weight of other dims, inserted at the end.
    const mm2 = new Node('MatMul', [xs.get('x')!, xs.get('wb')!], { name: 'mm2', outputs: ['h2'] });
    g.append(mm2);
    g.addOutput(mm2.outputs[0]!);
    expect(updateInference(inf, { graph: g, added: [mm2], replaced: [], initializers: [] })).toBe(true);
    expect(inf.shapeOf(mm2.outputs[0]!)).toEqual([1, 4]);
    expect(inf.shapeOf(xs.get('h')!)).toEqual([1, 8]);
  });
  it('reads a dim a model wrote as an expression ("2*N") as the inference reads it at each node, also after the inference printed that expression itself', () => {
    // "2*N" in a value_info (as onnxruntime's symbolic shape inference and torch.export write
    // dims) is one opaque symbol until the inference computes 2·N itself (Concat of two [N, 4]):
    // from then on it reads as 2·N. Reshape B must not get Reshape A's result back.
    const b = new GraphBuilder({ name: 'printed' });
    const x = b.input('x', F, ['N', 4]);
    const y = b.op('Foo', [x], {}, { name: 'custom', domain: 'com.example', outputs: ['y'] });
    y.type = { kind: 'tensor', elemType: F, shape: ['2*N', 4] };
    const s = b.int64s('s', [-1]);
    b.output(b.op('Reshape', [y, s], {}, { name: 'A', outputs: ['a'] }));
    b.output(b.op('Concat', [x, x], { axis: 0 }, { name: 'C', outputs: ['c'] }));
    b.output(b.op('Reshape', [y, s], {}, { name: 'B', outputs: ['bb'] }));
    const shapes = shapesOf(b.build());
    expect(shapes.a).toEqual(['4*(2*N)']);
    expect(shapes.c).toEqual(['2*N', 4]);
    expect(shapes.bb).toEqual(['8*N']);
  });
});
