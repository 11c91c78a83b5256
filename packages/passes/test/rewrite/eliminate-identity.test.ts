import { Attribute, DataType, GraphBuilder, Tensor, type Model, type Value } from '@onnxkit/graph';
import { afterAll, describe, expect, it } from 'vitest';
import { closeWorker, equivalentAfter, f32, opTypes, rnd, runPass, runTwice } from './helpers.js';

afterAll(closeWorker);

type Build = (b: GraphBuilder, x: Value) => Value;

/** x[2,3,4] → (op under test) → Relu → out, so a bypass keeps a consumer to rewire. */
function model(build: Build, opset = 17, shape: (number | string)[] = [2, 3, 4], dtype = DataType.FLOAT): Model {
  const b = new GraphBuilder({ opset });
  const x = b.input('x', dtype, shape);
  const y = build(b, x);
  b.output(b.op(dtype === DataType.FLOAT ? 'Relu' : 'Identity', [y], {}, { name: 'consumer' }), 'out');
  return b.build();
}

async function removes(m: Model, op: string): Promise<void> {
  const x = m.graph.inputs[0]!;
  const { cmp, rewritten } = await equivalentAfter(m, async (mm) => {
    const r = await runTwice('eliminate-identity', mm);
    expect(r.changes).toBeGreaterThanOrEqual(1);
    expect(r.nodesRemoved).toBeGreaterThanOrEqual(1);
  });
  expect(opTypes(rewritten)).not.toContain(op);
  // The consumer now reads the graph input object itself.
  const consumer = rewritten.graph.nodes.find((n) => n.name === 'consumer')!;
  expect(consumer.inputs[0]).toBe(rewritten.graph.inputs[0]);
  expect(x.name).toBe(consumer.inputs[0]!.name);
  expect(cmp.equivalent, cmp.reason ?? '').toBe(true);
}

async function keeps(m: Model, reason?: string): Promise<void> {
  const before = opTypes(m);
  const r = await runPass('eliminate-identity', m);
  expect(r.modified).toBe(false);
  expect(opTypes(m)).toEqual(before);
  if (reason) expect(r.rejected[reason], JSON.stringify(r.rejected)).toBeGreaterThanOrEqual(1);
}

const i64 = (b: GraphBuilder, name: string, v: number[]): Value => b.int64s(name, v);

describe('eliminate-identity: removes provable no-ops (equivalent in onnxruntime)', () => {
  it('Identity', () => removes(model((b, x) => b.op('Identity', [x])), 'Identity'));
  it('Dropout (opset 17, no training_mode)', () => removes(model((b, x) => b.op('Dropout', [x])), 'Dropout'));
  it('Dropout with constant training_mode=false', () => removes(model((b, x) => b.op('Dropout', [x, null, b.constant('tm', Tensor.scalar(DataType.BOOL, 0))])), 'Dropout'));
  it('Dropout opset 10 (inference)', () => removes(model((b, x) => b.op('Dropout', [x], { ratio: Attribute.float('ratio', 0.5) }), 10), 'Dropout'));
  it('Cast to the same type', () => removes(model((b, x) => b.op('Cast', [x], { to: DataType.FLOAT })), 'Cast'));
  it('Reshape to the same shape (with 0 and -1)', () => removes(model((b, x) => b.op('Reshape', [x, i64(b, 's', [0, -1, 4])])), 'Reshape'));
  it('Reshape with a symbolic dim copied by 0', () => removes(model((b, x) => b.op('Reshape', [x, i64(b, 's', [0, 3, 4])]), 17, ['N', 3, 4]), 'Reshape'));
  it('Expand to a broadcast-compatible smaller shape', () => removes(model((b, x) => b.op('Expand', [x, i64(b, 's', [3, 1])])), 'Expand'));
  it('Transpose with the identity perm', () => removes(model((b, x) => b.op('Transpose', [x], { perm: [0, 1, 2] })), 'Transpose'));
  it('Slice covering everything (INT64_MAX end)', () =>
    removes(model((b, x) => b.op('Slice', [x, i64(b, 'st', [0]), b.int64s('en', [9223372036854775807n]), i64(b, 'ax', [1])])), 'Slice'));
  it('Slice covering everything (negative start = -dim)', () => removes(model((b, x) => b.op('Slice', [x, i64(b, 'st', [-4]), i64(b, 'en', [4]), i64(b, 'ax', [-1])])), 'Slice'));
  it('Pad with zero pads (reflect mode)', () => removes(model((b, x) => b.op('Pad', [x, i64(b, 'p', [0, 0, 0, 0, 0, 0])], { mode: 'reflect' })), 'Pad'));
  it('Pad opset 2 attribute form', () => removes(model((b, x) => b.op('Pad', [x], { pads: [0, 0, 0, 0, 0, 0] }), 7), 'Pad'));
  it('Concat of one input', () => removes(model((b, x) => b.op('Concat', [x], { axis: 1 })), 'Concat'));
  it('Split with one output covering the axis', () => removes(model((b, x) => b.op('Split', [x, i64(b, 'sp', [3])], { axis: 1 })), 'Split'));
  it('Flatten of a 2-D tensor (axis 1)', () => removes(model((b, x) => b.op('Flatten', [x], { axis: 1 }), 17, [2, 12]), 'Flatten'));
  it('Add −0 (constant first)', () => removes(model((b, x) => b.op('Add', [b.constant('z', f32([4], () => -0)), x])), 'Add'));
  it('Sub 0', () => removes(model((b, x) => b.op('Sub', [x, b.constant('z', f32([3, 1], () => 0))])), 'Sub'));
  it('Mul 1 (scalar)', () => removes(model((b, x) => b.op('Mul', [x, b.constant('one', f32([], () => 1))])), 'Mul'));
  it('Div 1', () => removes(model((b, x) => b.op('Div', [x, b.constant('one', f32([1, 1, 4], () => 1))])), 'Div'));
  it('Dropout opset 12 with a seed (its home lists no seed; the rule accepts it)', () => removes(model((b, x) => b.op('Dropout', [x], { seed: 7 }), 12), 'Dropout'));
  it('Mul 1 on int64', () => removes(model((b, x) => b.op('Mul', [x, b.int64s('one', [1])]), 17, [2, 3], DataType.INT64), 'Mul'));
  it('a chain of no-ops in one sweep', async () => {
    const m = model((b, x) => b.op('Identity', [b.op('Cast', [b.op('Identity', [x])], { to: DataType.FLOAT })]));
    const r = await runTwice('eliminate-identity', m);
    expect(r.changes).toBe(3);
    expect(opTypes(m)).toEqual(['Relu']);
  });
});

describe('eliminate-identity: keeps what is not provably a no-op', () => {
  // Issue 13: −0 + (+0) = +0 and −0 − (−0) = +0, so these change the sign of a zero output.
  it('Add(x, +0) on floats (maps −0 to +0)', () => keeps(model((b, x) => b.op('Add', [x, b.constant('z', f32([4], () => 0))])), 'signed-zero'));
  it('Sub(x, −0) on floats', () => keeps(model((b, x) => b.op('Sub', [x, b.constant('z', f32([4], () => -0))])), 'signed-zero'));
  it('Add(x, 0) on int64 is still removed (no signed zeros)', () => removes(model((b, x) => b.op('Add', [x, b.int64s('z', [0])]), 17, [2, 3], DataType.INT64), 'Add'));
  it('Add 0 that broadcasts to a larger shape (onnxoptimizer nop_with_unit trap)', () =>
    keeps(model((b, x) => b.op('Add', [x, b.constant('z', f32([5, 2, 3, 4], () => -0))])), 'broadcast-changes-shape'));
  it('Add 0 whose constant rank is higher than the input', () => keeps(model((b, x) => b.op('Add', [x, b.constant('z', f32([1, 1, 1, 1], () => -0))])), 'broadcast-changes-shape'));
  it('Add 0 on an input of unknown shape', () => keeps(model((b, x) => b.op('Add', [x, b.constant('z', f32([1], () => -0))]), 17, null as unknown as number[]), 'unknown-input-shape'));
  it('Add of a non-zero constant', () => keeps(model((b, x) => b.op('Add', [x, b.constant('z', f32([4], (i) => (i === 2 ? 1e-30 : 0)))]))));
  it('Sub with the zero first (0 - x is not x)', () => keeps(model((b, x) => b.op('Sub', [b.constant('z', f32([4], () => 0)), x]))));
  it('Div with the one first (1 / x is not x)', () => keeps(model((b, x) => b.op('Div', [b.constant('o', f32([4], () => 1)), x]))));
  it('Cast to another type', () => keeps(model((b, x) => b.op('Cast', [b.op('Cast', [x], { to: DataType.DOUBLE })], { to: DataType.FLOAT }))));
  it('Cast whose input type is not known', async () => {
    const b = new GraphBuilder();
    const x = b.input('x', DataType.FLOAT, [2]);
    const u = b.op('Mystery', [x], {}, { domain: 'com.example' });
    b.output(b.op('Cast', [u], { to: DataType.FLOAT }), 'out');
    await keeps(b.build(), 'unknown-input-dtype');
  });
  it('Reshape that changes the shape', () => keeps(model((b, x) => b.op('Reshape', [x, i64(b, 's', [3, 2, 4])]))));
  it('Reshape with a numeric target over a symbolic dim (onnxoptimizer nop_reshape trap)', () =>
    keeps(model((b, x) => b.op('Reshape', [x, i64(b, 's', [2, 3, 4])]), 17, ['N', 3, 4]), 'shape-not-provably-equal'));
  it('Reshape with allowzero=1 and a literal 0', () => keeps(model((b, x) => b.op('Reshape', [x, i64(b, 's', [0, 3, 4])], { allowzero: 1 }), 17, [2, 3, 4])));
  it('Expand that adds a leading dim of 1 (rank change)', () => keeps(model((b, x) => b.op('Expand', [x, i64(b, 's', [1, 1, 1, 1])]))));
  it('Expand that broadcasts a 1 to 5', () => keeps(model((b, x) => b.op('Expand', [x, i64(b, 's', [2, 3, 4])]), 17, [2, 1, 4])));
  it('Transpose with a real permutation', () => keeps(model((b, x) => b.op('Transpose', [x], { perm: [1, 0, 2] }))));
  it('Transpose without perm on a value of unknown rank', () => keeps(model((b, x) => b.op('Transpose', [x]), 17, null as unknown as number[]), 'unknown-input-shape'));
  it('Slice with step 2', () => keeps(model((b, x) => b.op('Slice', [x, i64(b, 'st', [0]), i64(b, 'en', [4]), i64(b, 'ax', [2]), i64(b, 'sp', [2])]))));
  it('Slice that drops the last element', () => keeps(model((b, x) => b.op('Slice', [x, i64(b, 'st', [0]), i64(b, 'en', [-1]), i64(b, 'ax', [2])]))));
  it('Slice on a symbolic axis with a finite end', () => keeps(model((b, x) => b.op('Slice', [x, i64(b, 'st', [0]), i64(b, 'en', [1000]), i64(b, 'ax', [0])]), 17, ['N', 3, 4]), 'shape-not-provably-equal'));
  it('Pad with a negative pad and a positive pad', () => keeps(model((b, x) => b.op('Pad', [x, i64(b, 'p', [0, 0, 1, 0, 0, -1])]))));
  it('Split with a non-constant split', async () => {
    const b = new GraphBuilder();
    const x = b.input('x', DataType.FLOAT, [2, 3]);
    const sp = b.input('sp', DataType.INT64, [1]);
    b.output(b.op('Split', [x, sp], { axis: 1 }), 'out');
    await keeps(b.build(), 'split-not-constant');
  });
  it('Dropout in training mode', () => keeps(model((b, x) => b.op('Dropout', [x, null, b.constant('tm', Tensor.scalar(DataType.BOOL, 1))])), 'training-mode'));
  it('Dropout whose mask is used', async () => {
    const b = new GraphBuilder();
    const x = b.input('x', DataType.FLOAT, [2, 3]);
    const [y, mask] = b.opN('Dropout', [x], 2);
    b.output(y!, 'out');
    b.output(mask!, 'mask');
    await keeps(b.build(), 'mask-output-used');
  });
  it('Dropout opset 6 with is_test=0', () => keeps(model((b, x) => b.op('Dropout', [x], { is_test: 0 }), 6), 'training-mode'));
  it('Flatten of a 3-D tensor', () => keeps(model((b, x) => b.op('Flatten', [x], { axis: 1 }))));
  it('an op with an attribute the rule does not know', () => keeps(model((b, x) => b.op('Identity', [x], { surprise: 1 })), 'unknown-attribute'));
  it('Identity between a graph input and a graph output (would rename the interface)', async () => {
    const b = new GraphBuilder();
    const x = b.input('x', DataType.FLOAT, [2]);
    b.output(b.op('Identity', [x]), 'y');
    await keeps(b.build(), 'graph-output-name');
  });
  it('Identity whose input is another graph output (would merge two outputs)', async () => {
    const b = new GraphBuilder();
    const x = b.input('x', DataType.FLOAT, [2]);
    const r = b.op('Relu', [x]);
    b.output(r, 'r');
    b.output(b.op('Identity', [r]), 'y');
    await keeps(b.build(), 'graph-output-name');
  });
  it('Identity whose input is an initializer and output a graph output', async () => {
    const b = new GraphBuilder();
    b.input('x', DataType.FLOAT, [2]);
    b.output(b.op('Identity', [b.constant('c', f32([2], rnd(1)))]), 'y');
    await keeps(b.build(), 'graph-output-name');
  });
});

describe('eliminate-identity: graph outputs keep their names', () => {
  it('an intermediate takes the output name when the no-op produced a graph output', async () => {
    const b = new GraphBuilder();
    const x = b.input('x', DataType.FLOAT, [2, 3]);
    const r = b.op('Relu', [x], {}, { name: 'relu' });
    b.output(b.op('Identity', [r]), 'y');
    const m = b.build();
    const { cmp, rewritten } = await equivalentAfter(m, (mm) => runTwice('eliminate-identity', mm));
    expect(cmp.equivalent).toBe(true);
    expect(rewritten.graph.outputs.map((o) => o.name)).toEqual(['y']);
    expect(rewritten.graph.outputs[0]!.producer!.name).toBe('relu');
  });
});
