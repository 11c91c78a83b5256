/**
 * The shape facts a pipeline keeps up to date patch by patch (Facts.patched → updateInference)
 * must be what a fresh `inferShapes` of the rewritten model gives, for every live value: types,
 * dims, constant content and partial content. A patch whose new value has other facts than the
 * value it replaces must reach the readers downstream.
 */
import { Attribute, DataType, GraphBuilder, Node, Tensor, type Model, type Value } from '@onnxkit/graph';
import { defineRule, defineRulePass, inferShapes, PassManager, resolvePipeline, runPipeline, updateInference, type ShapeInference } from '@onnxkit/passes';
import { mobilenetv2, resnet50, transformer } from '@onnxkit/zoo';
import { describe, expect, it } from 'vitest';

/** Every value a node reads or writes in the live model, and the graph inputs. */
function liveValues(m: Model): Value[] {
  const out = new Set<Value>(m.graph.inputs);
  for (const g of m.graphs()) for (const n of g) for (const v of [...n.inputs, ...n.outputs]) if (v) out.add(v);
  return [...out];
}

function expectSameFacts(m: Model, kept: ShapeInference): void {
  const fresh = inferShapes(m);
  for (const v of liveValues(m)) {
    expect(kept.typeOf(v), `type of '${v.name}'`).toEqual(fresh.typeOf(v));
    expect(kept.shapeValueOf(v), `partial content of '${v.name}'`).toEqual(fresh.shapeValueOf(v));
    const a = kept.constOf(v);
    const b = fresh.constOf(v);
    expect(a === undefined, `'${v.name}' constant in one only`).toBe(b === undefined);
    if (a && b && a !== b) {
      expect(a.dims).toEqual(b.dims);
      expect(a.dtype).toBe(b.dtype);
      expect(Array.from(a.toFloat64())).toEqual(Array.from(b.toFloat64()));
    }
  }
}

/** The bench's chain (MatMul → Add → Relu → Identity → Mul(·, 1)) plus a Shape → Gather → Reshape tail. */
function chain(blocks: number): Model {
  const b = new GraphBuilder({ name: 'chain' });
  let x = b.input('x', DataType.FLOAT, [1, 16]);
  const one = b.constant('one', Tensor.scalar(DataType.FLOAT, 1));
  for (let i = 0; i < blocks; i++) {
    const w = Float32Array.from({ length: 256 }, (_, k) => Math.sin(i * 256 + k));
    x = b.op('MatMul', [x, b.constant('w', Tensor.fromArray(DataType.FLOAT, [16, 16], w))]);
    x = b.op('Add', [x, b.floats('b', [16], Array.from({ length: 16 }, (_, k) => Math.cos(i * 16 + k)))]);
    x = b.op('Relu', [x]);
    x = b.op('Identity', [x]);
    x = b.op('Mul', [x, one]);
  }
  const shape = b.op('Shape', [x]);
  const dims = b.op('Concat', [b.op('Identity', [shape]), b.int64s('extra', [1])], { axis: 0 });
  const r = b.op('Reshape', [x, dims]);
  b.output(r, 'y');
  return b.build({ opsetImports: new Map([['', 17]]) });
}

describe('shape facts kept up to date by validated patches', () => {
  it('equal a fresh inference after the default pipeline on the chain', async () => {
    const m = chain(20);
    const inference = inferShapes(m);
    const report = await runPipeline(m, 'default', { inference });
    expect(report.totalChanges).toBeGreaterThan(60);
    expect(m.graph.nodes.some((n) => n.opType === 'Gemm')).toBe(true);
    // The pipeline's one inference, followed patch by patch, is handed on for the output model.
    expect(report.inference).toBe(inference);
    expectSameFacts(m, inference);
  });

  for (const [name, build] of [
    ['resnet50', () => resnet50()],
    ['mobilenetv2', () => mobilenetv2()],
    ['transformer', () => transformer()],
  ] as const) {
    it(`equal a fresh inference after the default pipeline on zoo/${name}`, async () => {
      const m = build();
      const inference = inferShapes(m);
      const report = await runPipeline(m, 'default', { inference });
      expect(report.totalChanges).toBeGreaterThan(0);
      expectSameFacts(m, report.inference ?? inference);
    });
  }

  it('reach the readers downstream when a patch changes a value’s facts', async () => {
    // A test rule (not exact on purpose): Cast(x, to=FLOAT) becomes Cast(x, to=DOUBLE), so every
    // value after it changes element type; the kept facts must follow through the whole chain.
    const widen = defineRule({
      name: 'widen',
      anchor: 'Cast',
      reasons: [] as const,
      match: (n) => (n.getInt('to') === DataType.FLOAT ? n : undefined),
      rewrite: (n) => {
        const c = new Node('Cast', [n.inputs[0]!], { name: n.name, attributes: [Attribute.int('to', DataType.DOUBLE)], outputs: [n.outputs[0]!.name] });
        return { remove: [n], replace: [[n.outputs[0]!, c.outputs[0]!]], add: [c], description: 'widened' };
      },
    });
    const pass = defineRulePass({ name: 'widen-cast', description: 'test', exact: false, rules: [widen] });
    const b = new GraphBuilder({ name: 'widen' });
    const x = b.input('x', DataType.INT32, [2, 3]);
    let y = b.op('Cast', [x], { to: DataType.FLOAT });
    for (let i = 0; i < 5; i++) y = b.op('Relu', [y]);
    const s = b.op('Shape', [y]);
    b.output(b.op('Neg', [y]), 'out');
    b.output(s, 'shape');
    const m = b.build({ opsetImports: new Map([['', 17]]) });
    const inference = inferShapes(m);
    const last = m.graph.outputs[0]!;
    expect(inference.typeOf(last)).toMatchObject({ elemType: DataType.FLOAT });
    const report = await new PassManager([pass, ...resolvePipeline(['eliminate-dead-code'])], { inference, verify: 'change' }).run(m);
    expect(report.totalChanges).toBeGreaterThan(0);
    expect(inference.typeOf(m.graph.outputs[0]!)).toMatchObject({ elemType: DataType.DOUBLE, shape: [2, 3] });
    expectSameFacts(m, inference);
  });

  it('decline (and leave the caller to infer again) a patch of a subgraph', () => {
    const b = new GraphBuilder({ name: 'outer' });
    const x = b.input('x', DataType.FLOAT, [2]);
    b.output(b.op('Relu', [x]), 'y');
    const m = b.build({ opsetImports: new Map([['', 17]]) });
    const inference = inferShapes(m);
    const sub = new GraphBuilder({ name: 'inner' }).graph;
    expect(updateInference(inference, { graph: sub, added: [], replaced: [], initializers: [] })).toBe(false);
    expect(updateInference(inference, { graph: m.graph, added: [], replaced: [], initializers: [] })).toBe(true);
  });
});

describe('facts of removed nodes', () => {
  it('an inference kept up to date through a pipeline forgets the outputs of the nodes it removed (they can be collected)', async () => {
    const b = new GraphBuilder({ name: 'ids' });
    const x = b.input('x', DataType.FLOAT, [2, 3]);
    const r = b.op('Relu', [x], {}, { name: 'r' });
    const i = b.op('Identity', [r], {}, { name: 'i' });
    b.output(b.op('Relu', [i], {}, { name: 'r2' }), 'y');
    const m = b.build();
    const removed = m.graph.nodes.find((n) => n.opType === 'Identity')!.outputs[0]!;
    removed.type = null;
    const inference = inferShapes(m);
    expect(inference.shapeOf(removed)).toEqual([2, 3]);
    await runPipeline(m, ['eliminate-identity'], { inference });
    expect(m.graph.nodes.map((n) => n.opType)).toEqual(['Relu', 'Relu']);
    // No facts left for it: the inference answers from the value's own (empty) declaration.
    expect(inference.typeOf(removed)).toBeNull();
    expectSameFacts(m, inference);
  });
});
