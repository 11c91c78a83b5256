// verify()'s opset-import check (I10) walks every graph of the model with node cursors: the
// main graph, its subgraphs depth first, function bodies. Each domain used without an import is
// reported once, in the order Model.graphs() meets it (the walk once went through that generator).
import { describe, expect, it } from 'vitest';
import { Attribute, DataType, Graph, GraphBuilder, Node, OnnxFunction, verify } from '@onnxkit/graph';

/** A graph of one node of `domain` (an Identity-like op) reading `x`, and `extra` nodes after it. */
function body(name: string, domain: string, extra: Node[] = []): Graph {
  const g = new Graph({ name });
  const n = new Node('Op', [], { domain, name: `${name}-op`, outputs: [`${name}-o`] });
  g.append(n);
  for (const e of extra) g.append(e);
  g.addOutput(n.output);
  return g;
}

describe('verify: opset imports of every graph', () => {
  it('reports each unimported domain once, main graph first, then subgraphs depth first, then functions', () => {
    const b = new GraphBuilder({ name: 'g', opset: 17 });
    const cond = b.input('c', DataType.BOOL, []);
    // Two nested levels: the inner If sits in the then branch, after a node of another domain.
    const inner = new Node('If', [cond], { name: 'inner', attributes: [Attribute.graph('then_branch', body('deep', 'a.deep')), Attribute.graph('else_branch', body('deep2', 'a.deep'))], outputs: ['io'] });
    const y = b.op('If', [cond], { then_branch: body('then', 'a.sub', [inner]), else_branch: body('else', 'a.else') }, { name: 'if' });
    b.output(y, 'y');
    const m = b.build();
    const main = new Node('Op2', [y], { domain: 'c.main', name: 'm', outputs: ['z'] });
    m.graph.append(main);
    const z = main.output;
    m.functions.push(new OnnxFunction({ domain: 'local', name: 'F', graph: body('fbody', 'b.fn') }));
    // A domain used twice in a row and the ai.onnx alias are not reported.
    m.graph.append(new Node('Relu', [z], { domain: 'ai.onnx', name: 'r', outputs: ['r'] }));
    const i10 = verify(m).filter((d) => d.code === 'I10-opset-imports').map((d) => d.message);
    const order = ['c.main', 'a.sub', 'a.deep', 'a.else', 'b.fn'];
    expect(i10).toEqual(order.map((d) => `nodes use domain '${d}' but the model imports no opset for it`));
    // The same order as Model.graphs(), node by node.
    const seen: string[] = [];
    for (const g of m.graphs()) for (const n of g) if (n.domain !== '' && n.domain !== 'ai.onnx' && !seen.includes(n.domain)) seen.push(n.domain);
    expect(seen).toEqual(order);
    // Imported, none is reported.
    for (const d of order) m.opsetImports.set(d, 1);
    expect(verify(m).filter((d) => d.code === 'I10-opset-imports')).toEqual([]);
  });

  // Without subgraphs verify() takes the domains its own walk of each graph noted (no second walk):
  // the order must still be Model.graphs()'s — main graph, function bodies, training graphs.
  it('without subgraphs: main graph, then functions, then training graphs, each domain once', () => {
    const b = new GraphBuilder({ name: 'g', opset: 17 });
    const x = b.input('x', DataType.FLOAT, [1]);
    const a = b.op('Relu', [x], {}, { name: 'a' });
    b.output(a, 'y');
    const m = b.build();
    const n1 = new Node('Op', [a], { domain: 'c.main', name: 'n1', outputs: ['o1'] });
    m.graph.append(n1);
    m.graph.append(new Node('Op', [n1.output], { domain: 'a.main2', name: 'n2', outputs: ['o2'] }));
    m.graph.append(new Node('Op', [n1.output], { domain: 'c.main', name: 'n3', outputs: ['o3'] }));
    m.functions.push(new OnnxFunction({ domain: 'local', name: 'F', graph: body('fbody', 'b.fn') }));
    m.trainingInfo.push({ initialization: body('init', 'z.init'), algorithm: body('algo', 'c.main', [new Node('Op', [], { domain: 'd.algo', name: 'd', outputs: ['d-o'] })]), initializationBinding: [], updateBinding: [] });
    const i10 = verify(m).filter((d) => d.code === 'I10-opset-imports').map((d) => d.message);
    const order = ['c.main', 'a.main2', 'b.fn', 'z.init', 'd.algo'];
    expect(i10).toEqual(order.map((d) => `nodes use domain '${d}' but the model imports no opset for it`));
    const seen: string[] = [];
    for (const g of m.graphs()) for (const n of g) if (n.domain !== '' && !seen.includes(n.domain)) seen.push(n.domain);
    expect(seen).toEqual(order);
  });
});
