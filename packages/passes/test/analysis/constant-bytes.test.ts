// analyzeModel's totals.constantBytes counts every constant tensor of every graph of the model
// (the main graph, subgraphs at any depth, local-function bodies), each tensor once: the graphs
// are found with node cursors (Model.forEachGraph), not Model.graphs(), and must be the same set.
import { describe, expect, it } from 'vitest';
import { Attribute, DataType, Graph, GraphBuilder, Node, OnnxFunction, Tensor } from '@onnxkit/graph';
import { analyzeModel } from '@onnxkit/passes';

/** A branch graph holding an initializer of `n` floats and a Constant node of `k` floats. */
function branch(name: string, n: number, k: number, extra: Node[] = []): Graph {
  const g = new Graph({ name });
  const w = g.initializer(Tensor.fromArray(DataType.FLOAT, [n], new Float32Array(n).fill(1)), `${name}_w`);
  const c = new Node('Constant', [], { name: `${name}_c`, attributes: [Attribute.tensor('value', Tensor.fromArray(DataType.FLOAT, [k], new Float32Array(k).fill(2)))], outputs: [`${name}_cv`] });
  g.append(c);
  const add = new Node('Add', [w, c.output], { name: `${name}_add`, outputs: [`${name}_o`] });
  g.append(add);
  for (const e of extra) g.append(e);
  g.addOutput(add.output);
  return g;
}

describe('analyzeModel: constantBytes over every graph', () => {
  it('sums the initializers and Constant nodes of the main graph, nested subgraphs and function bodies', () => {
    const b = new GraphBuilder({ name: 'g', opset: 17 });
    const cond = b.input('c', DataType.BOOL, []);
    const shared = Tensor.fromArray(DataType.FLOAT, [8], new Float32Array(8).fill(3));
    const inner = new Node('If', [cond], { name: 'inner', attributes: [Attribute.graph('then_branch', branch('deep', 3, 3)), Attribute.graph('else_branch', branch('deep2', 3, 3))], outputs: ['io'] });
    const y = b.op('If', [cond], { then_branch: branch('then', 5, 2, [inner]), else_branch: branch('else', 7, 1) }, { name: 'if' });
    b.output(y, 'y');
    const m = b.build();
    m.graph.initializer(shared, 'main_w');
    m.functions.push(new OnnxFunction({ domain: 'local', name: 'F', graph: branch('fbody', 11, 4) }));
    // The same tensor as a second initializer elsewhere is counted once.
    m.functions[0]!.graph.initializer(shared, 'again');
    // A function body's Constant node is not counted (shape inference, whose constOf finds it,
    // does not run over function bodies on their own): its 4 floats are left out, as before.
    const floats = 8 + (5 + 2) + (3 + 3) + (3 + 3) + (7 + 1) + 11;
    expect(analyzeModel(m, { timeline: false }).totals.constantBytes).toBe(4 * floats);
    // Without the function: its initializer goes, the shared tensor is still counted once.
    m.functions.length = 0;
    expect(analyzeModel(m, { timeline: false }).totals.constantBytes).toBe(4 * (floats - 11));
  });
});
