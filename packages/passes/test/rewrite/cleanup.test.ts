import { Attribute, DataType, Graph, GraphBuilder, Node, Tensor, Value, type Model } from '@onnxkit/graph';
import { afterAll, describe, expect, it } from 'vitest';
import { closeWorker, equivalentAfter, f32, opTypes, rnd, runPass, runTwice } from './helpers.js';

afterAll(closeWorker);

describe('eliminate-dead-code', () => {
  it('removes dead chains, unused initializers and unused initialized inputs', async () => {
    const b = new GraphBuilder();
    const x = b.input('x', DataType.FLOAT, [2, 3]);
    const w = b.constant('w', f32([2, 3], rnd(1)));
    b.constant('unused', f32([5], rnd(2)));
    const dead1 = b.op('Mul', [x, w], {}, { name: 'dead1' });
    b.op('Relu', [dead1], {}, { name: 'dead2' });
    b.output(b.op('Relu', [x], {}, { name: 'live' }), 'out');
    const m = b.build();
    const opt = new Value({ name: 'opt', constValue: f32([1], () => 1), type: { kind: 'tensor', elemType: DataType.FLOAT, shape: [1] } });
    m.graph.addInput(opt);
    m.graph.addInitializer(opt);
    const { cmp, rewritten } = await equivalentAfter(m, async (mm) => {
      const r = await runTwice('eliminate-dead-code', mm);
      expect(r.nodesRemoved).toBe(2);
      expect(r.changes).toBe(5); // 2 nodes, 'w', 'unused', 'opt'
      expect(r.bytesDelta).toBe(-(24 + 20 + 4));
    }, new Map([['x', f32([2, 3], rnd(3))]]));
    expect(cmp.equivalent).toBe(true);
    expect(opTypes(rewritten)).toEqual(['Relu']);
    expect(rewritten.graph.initializers.size).toBe(0);
    expect(rewritten.graph.inputs.map((v) => v.name)).toEqual(['x']);
  });

  it('keeps initialized inputs when asked, and nodes of unknown domains', async () => {
    const b = new GraphBuilder({ opsets: { 'com.example': 1 } });
    const x = b.input('x', DataType.FLOAT, [2]);
    b.op('Mystery', [x], {}, { domain: 'com.example', name: 'side_effect' });
    b.output(b.op('Relu', [x]), 'out');
    const m = b.build();
    const opt = new Value({ name: 'opt', constValue: f32([1], () => 1) });
    m.graph.addInput(opt);
    m.graph.addInitializer(opt);
    const r = await runPass('eliminate-dead-code', m, { removeInitializedInputs: false });
    expect(r.modified).toBe(false);
    expect(r.rejected['unknown-domain']).toBe(1);
    expect(r.rejected['initialized-input-kept']).toBe(1);
  });

  it('cleans subgraphs and respects outer-scope captures', async () => {
    // If(cond) { then: Relu(x) (+ a dead node); else: Neg(x) } — x is captured from outside.
    const b = new GraphBuilder();
    const x = b.input('x', DataType.FLOAT, [2]);
    const cond = b.input('cond', DataType.BOOL, []);
    const thenG = new Graph({ name: 'then' });
    const t1 = new Node('Relu', [x], { name: 'then_relu', outputs: ['then_out'] });
    const tDead = new Node('Neg', [x], { name: 'then_dead', outputs: ['then_dead_out'] });
    thenG.append(t1, tDead);
    thenG.addOutput(t1.outputs[0]!);
    const elseG = new Graph({ name: 'else' });
    const e1 = new Node('Neg', [x], { name: 'else_neg', outputs: ['else_out'] });
    elseG.append(e1);
    elseG.addOutput(e1.outputs[0]!);
    const ifNode = b.node('If', [cond], { then_branch: thenG, else_branch: elseG }, { name: 'if' });
    b.output(ifNode.output, 'out');
    // A dead If whose branches capture x: removing it must detach the inner uses of x.
    const thenD = new Graph({ name: 'then_d' });
    const td = new Node('Abs', [x], { name: 'd_abs', outputs: ['d_then'] });
    thenD.append(td);
    thenD.addOutput(td.outputs[0]!);
    const elseD = new Graph({ name: 'else_d' });
    const ed = new Node('Abs', [x], { name: 'd_abs2', outputs: ['d_else'] });
    elseD.append(ed);
    elseD.addOutput(ed.outputs[0]!);
    b.node('If', [cond], { then_branch: thenD, else_branch: elseD }, { name: 'dead_if' });
    const m = b.build();
    const feeds = new Map([
      ['x', f32([2], (i) => i - 0.5)],
      ['cond', Tensor.scalar(DataType.BOOL, 1)],
    ]);
    const { cmp, rewritten } = await equivalentAfter(m, async (mm) => {
      const r = await runTwice('eliminate-dead-code', mm);
      expect(r.nodesRemoved).toBe(2); // then_dead inside the branch, dead_if outside
    }, feeds);
    expect(cmp.equivalent).toBe(true);
    expect(rewritten.graph.nodes.map((n) => n.name)).toEqual(['if']);
    const thenAfter = rewritten.graph.nodes[0]!.attr('then_branch')!.asGraph();
    expect(thenAfter.nodes.map((n) => n.name)).toEqual(['then_relu']);
    // x is used only by the live branches now.
    expect(rewritten.graph.inputs[0]!.uses.map((u) => u.node.name).sort()).toEqual(['else_neg', 'then_relu']);
  });
});

describe('eliminate-common-subexpressions', () => {
  it('merges duplicated chains, keeping the first node and rewiring consumers', async () => {
    const b = new GraphBuilder();
    const x = b.input('x', DataType.FLOAT, [2, 3]);
    const a1 = b.op('Relu', [x], {}, { name: 'a1' });
    const a2 = b.op('Relu', [x], {}, { name: 'a2' });
    const s1 = b.op('LeakyRelu', [a1], { alpha: Attribute.float('alpha', 0.1) }, { name: 's1' });
    const s2 = b.op('LeakyRelu', [a2], { alpha: Attribute.float('alpha', 0.1) }, { name: 's2' });
    b.output(b.op('Add', [s1, s2], {}, { name: 'add' }), 'out');
    const m = b.build();
    const { cmp, rewritten } = await equivalentAfter(m, async (mm) => {
      const r = await runTwice('eliminate-common-subexpressions', mm);
      expect(r.changes).toBe(2);
    });
    expect(cmp.equivalent).toBe(true);
    const add = rewritten.graph.nodes.find((n) => n.name === 'add')!;
    expect(add.inputs[0]).toBe(add.inputs[1]);
    expect(add.inputs[0]!.producer!.name).toBe('s1');
  });

  it('treats 0.0 and -0.0 constants as different (1/x gives +inf vs -inf)', async () => {
    const b = new GraphBuilder();
    const x = b.input('x', DataType.FLOAT, [2]);
    const pz = b.op('Constant', [], { value: Tensor.fromArray(DataType.FLOAT, [2], new Float32Array([0, 0])) }, { name: 'pz' });
    const nz = b.op('Constant', [], { value: Tensor.fromArray(DataType.FLOAT, [2], new Float32Array([-0, -0])) }, { name: 'nz' });
    b.output(b.op('Div', [x, pz]), 'p');
    b.output(b.op('Div', [x, nz]), 'n');
    const m = b.build();
    const r = await runPass('eliminate-common-subexpressions', m);
    expect(r.modified).toBe(false);
    const { cmp } = await equivalentAfter(m, () => undefined, new Map([['x', f32([2], () => 1)]]));
    expect(cmp.equivalent).toBe(true);
  });

  it('never merges random ops, subgraph ops, unknown domains, or different attributes', async () => {
    const b = new GraphBuilder({ opsets: { 'com.example': 1 } });
    const x = b.input('x', DataType.FLOAT, [2]);
    b.output(b.op('RandomUniformLike', [x]), 'r1');
    b.output(b.op('RandomUniformLike', [x]), 'r2');
    b.output(b.op('Mystery', [x], {}, { domain: 'com.example' }), 'm1');
    b.output(b.op('Mystery', [x], {}, { domain: 'com.example' }), 'm2');
    b.output(b.op('LeakyRelu', [x], { alpha: Attribute.float('alpha', 0.1) }), 'l1');
    b.output(b.op('LeakyRelu', [x], { alpha: Attribute.float('alpha', 0.2) }), 'l2');
    const m = b.build();
    const r = await runPass('eliminate-common-subexpressions', m);
    expect(r.modified).toBe(false);
    expect(r.rejected['nondeterministic']).toBe(1);
    expect(r.rejected['unknown-domain']).toBe(1);
    expect(r.declined.map((d) => d.reason).sort()).toEqual(['nondeterministic', 'unknown-domain']);
  });

  it('does not merge two nodes that both produce graph outputs', async () => {
    const b = new GraphBuilder();
    const x = b.input('x', DataType.FLOAT, [2]);
    b.output(b.op('Relu', [x]), 'y1');
    b.output(b.op('Relu', [x]), 'y2');
    const m = b.build();
    const r = await runPass('eliminate-common-subexpressions', m);
    expect(r.modified).toBe(false);
    expect(r.rejected['graph-output-name']).toBe(1);
    expect(m.graph.outputs.map((o) => o.name)).toEqual(['y1', 'y2']);
  });

  it('merges when only the duplicate is a graph output (the kept value takes its name)', async () => {
    const b = new GraphBuilder();
    const x = b.input('x', DataType.FLOAT, [2]);
    const a = b.op('Relu', [x], {}, { name: 'first' });
    b.output(b.op('Neg', [a]), 'n');
    b.output(b.op('Relu', [x], {}, { name: 'second' }), 'y');
    const m = b.build();
    const { cmp, rewritten } = await equivalentAfter(m, (mm) => runTwice('eliminate-common-subexpressions', mm));
    expect(cmp.equivalent).toBe(true);
    expect(rewritten.graph.outputs.map((o) => o.name)).toEqual(['n', 'y']);
    expect(rewritten.graph.outputs[1]!.producer!.name).toBe('first');
  });

  it('handles omitted optional inputs and multiple outputs', async () => {
    const b = new GraphBuilder();
    const x = b.input('x', DataType.FLOAT, [1, 1, 4, 4]);
    const [v1, i1] = b.opN('MaxPool', [x], 2, { kernel_shape: [2, 2] });
    const [v2, i2] = b.opN('MaxPool', [x], 2, { kernel_shape: [2, 2] });
    b.output(b.op('Add', [v1!, v2!]), 'v');
    b.output(b.op('Add', [i1!, i2!]), 'i');
    const c1 = b.op('Clip', [x, null, b.constant('hi', f32([], () => 1))]);
    const c2 = b.op('Clip', [x, null, m0(b)]);
    b.output(b.op('Sub', [c1, c2]), 'c');
    const m = b.build();
    const { cmp, rewritten } = await equivalentAfter(m, async (mm) => {
      const r = await runTwice('eliminate-common-subexpressions', mm);
      expect(r.changes).toBe(1); // the two MaxPools; the Clips read different constants
    });
    expect(cmp.equivalent).toBe(true);
    expect(rewritten.graph.nodes.filter((n) => n.opType === 'MaxPool').length).toBe(1);
  });

  it('declines when the kept node omitted an output the duplicate uses', async () => {
    const b = new GraphBuilder();
    const x = b.input('x', DataType.FLOAT, [1, 1, 4, 4]);
    const first = b.node('MaxPool', [x], { kernel_shape: [2, 2] }, { outputs: ['v1', ''] });
    const [v2, i2] = b.opN('MaxPool', [x], 2, { kernel_shape: [2, 2] });
    b.output(first.outputs[0]!, 'v1o');
    b.output(b.op('Relu', [v2!]), 'v2o');
    b.output(i2!, 'idx');
    const m = b.build();
    const r = await runPass('eliminate-common-subexpressions', m);
    expect(r.modified).toBe(false);
    expect(r.rejected['kept-node-lacks-output']).toBe(1);
  });
});

function m0(b: GraphBuilder): Value {
  return b.constant('hi2', f32([], () => 2));
}

describe('eliminate-duplicate-initializers', () => {
  function dupModel(): Model {
    const b = new GraphBuilder();
    const x = b.input('x', DataType.FLOAT, [2, 3]);
    const r = rnd(5);
    const data = Array.from({ length: 6 }, () => r(0));
    const w1 = b.constant('w1', Tensor.fromNumbers(DataType.FLOAT, [2, 3], data));
    const w2 = b.constant('w2', Tensor.fromNumbers(DataType.FLOAT, [2, 3], data));
    const w3 = b.constant('w3', Tensor.fromNumbers(DataType.FLOAT, [3, 2], data)); // same bytes, other dims
    const z1 = b.constant('z1', Tensor.fromArray(DataType.FLOAT, [2], new Float32Array([0, 1])));
    const z2 = b.constant('z2', Tensor.fromArray(DataType.FLOAT, [2], new Float32Array([-0, 1]))); // differs in the sign bit
    b.output(b.op('Add', [b.op('Mul', [x, w1]), w2]), 'a');
    b.output(b.op('MatMul', [x, w3]), 'b');
    b.output(b.op('Div', [b.constant('one', f32([2], () => 1)), z1]), 'c');
    b.output(b.op('Div', [b.constant('one2', f32([2], () => 1)), z2]), 'd');
    return b.build();
  }

  it('merges byte-identical initializers only (dtype, dims and bits)', async () => {
    const m = dupModel();
    const { cmp, rewritten } = await equivalentAfter(m, async (mm) => {
      const r = await runTwice('eliminate-duplicate-initializers', mm);
      expect(r.changes).toBe(2); // w2 → w1, one2 → one
      expect(r.bytesDelta).toBe(-(24 + 8));
    });
    expect(cmp.equivalent).toBe(true);
    const names = [...rewritten.graph.initializers.keys()].sort();
    expect(names).toEqual(['one', 'w1', 'w3', 'z1', 'z2']);
    const add = rewritten.graph.nodes.find((n) => n.opType === 'Add')!;
    expect(add.inputs[1]).toBe(rewritten.graph.initializers.get('w1'));
  });

  it('merges small lazy initializers by their bytes, read at both ends then compared whole, and with equal ones in memory', async () => {
    // 1 KiB weights left on disk by a lazy import (sampled through bytesAt: a probe of each end).
    const lazy = (name: string, data: Float32Array): Tensor => {
      const bytes = new Uint8Array(data.buffer.slice(0));
      return Tensor.lazy(DataType.FLOAT, [16, 16], {
        byteLength: bytes.byteLength,
        description: `${name} in memory`,
        read: () => bytes.slice(),
        readInto: (target, at, length) => target.set(bytes.subarray(at, at + length)),
      });
    };
    const r = rnd(9);
    const data = Float32Array.from({ length: 256 }, () => r(0));
    const middle = data.slice();
    middle[128] = 42; // same ends (same probe), different bytes
    const b = new GraphBuilder();
    const x = b.input('x', DataType.FLOAT, [1, 16]);
    const ws = [b.constant('l1', lazy('l1', data)), b.constant('l2', lazy('l2', data)), b.constant('m', Tensor.fromArray(DataType.FLOAT, [16, 16], data.slice())), b.constant('l3', lazy('l3', middle))];
    ws.forEach((w, i) => b.output(b.op('MatMul', [x, w]), `y${i}`));
    const m = b.build();
    expect(m.graph.initializers.get('l1')!.constValue!.isLazy).toBe(true);
    const res = await runTwice('eliminate-duplicate-initializers', m);
    expect(res.changes).toBe(2); // l2 and m → l1; l3 differs in the middle
    expect([...m.graph.initializers.keys()].sort()).toEqual(['l1', 'l3']);
  });

  it('never merges graph inputs or graph outputs', async () => {
    const b = new GraphBuilder();
    const x = b.input('x', DataType.FLOAT, [2]);
    const c1 = b.constant('c1', f32([2], () => 3));
    b.constant('c2', f32([2], () => 3));
    b.output(b.op('Add', [x, c1]), 'y');
    const m = b.build();
    const c2 = m.graph.initializers.get('c2')!;
    m.graph.addOutput(c2);
    const c3 = new Value({ name: 'c3', constValue: f32([2], () => 3) });
    m.graph.addInput(c3);
    m.graph.addInitializer(c3);
    const r = await runPass('eliminate-duplicate-initializers', m);
    expect(r.modified).toBe(false);
  });
});
