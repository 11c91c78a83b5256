/**
 * Shape inference keeps its facts on the values themselves (Value._factsOf, stamped with the
 * inference's id), by the first live inference of a graph; a later inference of the same model keeps
 * its facts in a map. Neither may see the other's facts, and forgetting a removed node's outputs
 * must forget them for the inference holding the slots as it did for a map.
 */
import { describe, expect, it } from 'vitest';
import { DataType, GraphBuilder, type Model } from '@onnxkit/graph';
import { forgetRemoved, inferShapes } from '../../src/analysis/index.js';
import { inferenceFacts } from '../../src/analysis/shape-inference.js';

/** x[N, 16] → Relu → Relu → y. */
function twoRelus(): Model {
  const b = new GraphBuilder({ name: 'two-relus' });
  const x = b.input('x', DataType.FLOAT, ['N', 16]);
  b.output(b.op('Relu', [b.op('Relu', [x])]), 'y');
  return b.build();
}

describe('facts held on the values', () => {
  it('two live inferences of one model keep their own facts', () => {
    const m = twoRelus();
    const [r1, r2] = [...m.graph];
    const symbolic = inferShapes(m);
    const pinned = inferShapes(m, { inputShapes: { x: [4, 16] } });
    const symbolicAgain = inferShapes(m);
    for (const n of [r1!, r2!]) {
      expect(symbolic.shapeOf(n.outputs[0]!)).toEqual(['N', 16]);
      expect(pinned.shapeOf(n.outputs[0]!)).toEqual([4, 16]);
      expect(symbolicAgain.shapeOf(n.outputs[0]!)).toEqual(['N', 16]);
    }
    expect(inferenceFacts(symbolic)!.get(m.graph.inputs[0]!)?.shape).toEqual(['N', 16]);
    expect(inferenceFacts(pinned)!.get(m.graph.inputs[0]!)?.shape).toEqual([4, 16]);
  });

  it('an inference of another model does not read facts this one left on a value', () => {
    const a = twoRelus();
    const b = twoRelus();
    const infA = inferShapes(a, { inputShapes: { x: [2, 16] } });
    const infB = inferShapes(b);
    // A value of model a, never seen by b's inference: no facts there (its declared shape instead).
    const va = [...a.graph][0]!.outputs[0]!;
    expect(infA.shapeOf(va)).toEqual([2, 16]);
    expect(inferenceFacts(infB)!.get(va)).toBeUndefined();
    expect(infB.constOf(va)).toBeUndefined();
  });

  it('forgetRemoved forgets the outputs of nodes taken out of the graph, for either kind of inference', () => {
    // x → Relu (r1) → y, and a Relu (r2) of r1's output that nothing reads.
    const b = new GraphBuilder({ name: 'dangling' });
    const x = b.input('x', DataType.FLOAT, ['N', 16]);
    const y = b.op('Relu', [x]);
    b.op('Relu', [y]);
    b.output(y, 'y');
    const m = b.build();
    const [r1, r2] = [...m.graph];
    const slots = inferShapes(m);
    const mapped = inferShapes(m);
    const out = r2!.outputs[0]!;
    // Still in the graph: kept.
    forgetRemoved(slots, [r2!]);
    forgetRemoved(mapped, [r2!]);
    expect(inferenceFacts(slots)!.get(out)?.shape).toEqual(['N', 16]);
    expect(inferenceFacts(mapped)!.get(out)?.shape).toEqual(['N', 16]);
    m.graph.remove([r2!], { safe: true });
    forgetRemoved(slots, [r2!]);
    expect(inferenceFacts(slots)!.get(out)).toBeUndefined();
    // The map's facts of it are its own: forgetting them is forgetRemoved on that inference.
    expect(inferenceFacts(mapped)!.get(out)?.shape).toEqual(['N', 16]);
    forgetRemoved(mapped, [r2!]);
    expect(inferenceFacts(mapped)!.get(out)).toBeUndefined();
    // The surviving value keeps its facts in both.
    expect(inferenceFacts(slots)!.get(r1!.outputs[0]!)?.shape).toEqual(['N', 16]);
    expect(inferenceFacts(mapped)!.get(r1!.outputs[0]!)?.shape).toEqual(['N', 16]);
  });

  it('two models over one graph keep their inferences apart (the slots are claimed per graph)', () => {
    // GraphBuilder.build() twice: two Model objects, one Graph, the same Values.
    const b = new GraphBuilder({ name: 'shared' });
    const x = b.input('x', DataType.FLOAT, [2, 3]);
    const y = b.op('Relu', [x]);
    b.output(y, 'y');
    const m1 = b.build();
    const m2 = b.build();
    expect(m2.graph).toBe(m1.graph);
    const i1 = inferShapes(m1, { inputShapes: { x: [2, 3] } });
    const i2 = inferShapes(m2, { inputShapes: { x: [5, 7] } });
    expect(i1.shapeOf(y)).toEqual([2, 3]);
    expect(i2.shapeOf(y)).toEqual([5, 7]);
    expect(inferenceFacts(i1)!.onValues).toBe(true);
    expect(inferenceFacts(i2)!.onValues).not.toBe(true);
  });

  it('leaves no field a deep comparison of values would see', () => {
    const m = twoRelus();
    const v = [...m.graph][0]!.outputs[0]!;
    const keys = Object.keys(v);
    inferShapes(m, { inputShapes: { x: [4, 16] } });
    expect(Object.keys(v)).toEqual(keys);
  });
});

