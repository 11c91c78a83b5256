/**
 * A node of very many inputs (a Concat or Sum of 50,000) must not make the work on the nodes
 * after it grow with its width: the inference's reused input list was cleared to its longest
 * length at every node (quadratic: a dead Concat of 100,000 inputs ahead of 100,000 nodes took
 * 9 s of `optimize`), and eliminate-dead-code searched a list of the removed node's inputs for
 * each of them.
 */
import { DataType, GraphBuilder, verifyErrors } from '@onnxkit/graph';
import { inferShapes, runPipeline } from '@onnxkit/passes';
import { describe, expect, it } from 'vitest';
import { fitInputStore } from '../../src/analysis/shape-inference.js';

describe('a node of many inputs', () => {
  it('fitInputStore cuts a reused list far longer than the inputs back, and clears a slightly longer one', () => {
    const wide: unknown[] = Array.from({ length: 50_000 }, (_, i) => i);
    fitInputStore(wide, 2);
    expect(wide.length).toBeLessThanOrEqual(2 + 64);
    expect(wide.slice(0, 2)).toEqual([0, 1]);
    expect(wide.slice(2).every((x) => x === undefined)).toBe(true);
    const near: unknown[] = [1, 2, 3, 4, 5];
    fitInputStore(near, 2);
    expect(near).toEqual([1, 2, undefined, undefined, undefined]);
  });

  it('the nodes after a wide Concat get their facts, and eliminate-dead-code removes a dead wide Concat (repeated inputs included)', async () => {
    const b = new GraphBuilder({ name: 'wide', opset: 17 });
    const x = b.input('x', DataType.FLOAT, [1, 4]);
    const relus = Array.from({ length: 300 }, () => b.op('Relu', [x]));
    const c = b.op('Concat', [...relus, x, x, ...relus.slice(0, 10)], { axis: 0 });
    let y = b.op('Relu', [x]);
    for (let i = 0; i < 5; i++) y = b.op('Sigmoid', [y]);
    b.op('Concat', Array.from({ length: 200 }, () => x), { axis: 0 }); // dead, x at every input
    b.output(y, 'y');
    b.output(c, 'c');
    const m = b.build();
    const inf = inferShapes(m);
    expect(inf.shapeOf(c)).toEqual([312, 4]);
    expect(inf.shapeOf(y)).toEqual([1, 4]);
    m.graph.removeOutput(m.graph.outputs.indexOf(c));
    const report = await runPipeline(m, ['eliminate-dead-code']);
    expect(report.finalCheck).toBe('local');
    expect(m.graph.nodes.map((n) => n.opType)).toEqual(['Relu', 'Sigmoid', 'Sigmoid', 'Sigmoid', 'Sigmoid', 'Sigmoid']);
    expect(verifyErrors(m)).toEqual([]);
  });
});
