// A node reading a value before the node that produces it (I4) was reported one way whether the
// graph had a cycle or its nodes were merely out of order ("Add 'n1' reads 'b' before Relu 'n2'
// produces it" of a true cycle reads like an ordering problem). verify() now tells them apart on
// the error path (Graph.findCycle, sort()'s own search): a cycle is named by its nodes, an acyclic
// graph out of order says so and what mends it; Graph.sort()'s error names the cycle too.
import { describe, expect, it } from 'vitest';
import { DataType, GraphBuilder, Node, verify, type Model } from '@onnxkit/graph';

/** x → Add 'n1'(x, b) → a → Relu 'n2' → b (a cycle), and Identity 'n3'(a) → y. */
function cycle(): Model {
  const b = new GraphBuilder({ name: 'g', opset: 17 });
  const x = b.input('x', DataType.FLOAT, [2]);
  const a = b.op('Add', [x, x], {}, { name: 'n1' });
  const r = b.op('Relu', [a], {}, { name: 'n2' });
  b.output(b.op('Identity', [a], {}, { name: 'n3' }), 'y');
  const m = b.build();
  m.graph.nodes[0]!.setInput(1, r);
  return m;
}


describe('verify() tells a cycle from nodes out of order', () => {
  it('names the nodes of a cycle, in data-flow order from the reader', () => {
    const m = cycle();
    const d = verify(m);
    expect(d.map((x) => [x.code, x.message, x.topology, x.node, x.value])).toEqual([
      ['I4-topological-order', "Add 'n1' reads 'n2_output_0' on a cycle: Add 'n1' → Relu 'n2' → Add 'n1' (each reads an output of the one before it, so no order of the nodes can run them; the model must be re-exported or edited to break it)", 'cycle', 'n1', 'n2_output_0'],
    ]);
    expect(m.graph.findCycle()!.map((n) => n.name)).toEqual(['n1', 'n2']);
    expect(() => m.graph.sort()).toThrow("cycle in graph 'g': Add 'n1' → Relu 'n2' → Add 'n1'");
  });

  it('says an acyclic graph is out of order and what mends it; sort() mends it', () => {
    const b = new GraphBuilder({ name: 'g', opset: 17 });
    const x = b.input('x', DataType.FLOAT, [2]);
    const r = b.op('Relu', [x], {}, { name: 'n1' });
    const y = b.op('Neg', [r], {}, { name: 'n2' });
    b.output(y, 'y');
    const m = b.build();
    const [n1, n2] = m.graph.nodes as [Node, Node];
    // n2 first: a Neg reading r, then the Relu producing it
    const early = new Node('Neg', [n1.output], { name: 'n0', outputs: ['early'] });
    m.graph.prepend(early);
    m.graph.addOutput(early.output);
    const d = verify(m);
    expect(d.map((x) => [x.code, x.message, x.topology])).toEqual([
      ['I4-topological-order', "Neg 'n0' reads 'n1_output_0' before Relu 'n1' produces it: the nodes are out of order (there is no cycle), which ONNX forbids; a topological sort mends it (onnxruntime sorts them itself; `onnxkit optimize` writes them sorted)", 'out-of-order'],
    ]);
    expect(m.graph.findCycle()).toBeNull();
    m.graph.sort();
    expect(m.graph.nodes.map((n) => n.name)).toEqual(['n1', 'n0', 'n2']);
    expect(verify(m)).toEqual([]);
    void n2;
  });

  it('a cycle and an out-of-order read apart in one graph: the cycle named, the other read in plain words', () => {
    const m = cycle();
    const g = m.graph;
    const late = new Node('Neg', [g.inputs[0]!], { name: 'late', outputs: ['l'] });
    g.append(late);
    const reader = new Node('Relu', [late.output], { name: 'reader', outputs: ['rl'] });
    g.prepend(reader);
    g.addOutput(reader.output);
    const d = verify(m);
    expect(d.map((x) => [x.message.split(' (')[0], x.topology])).toEqual([
      ["Relu 'reader' reads 'l' before Neg 'late' produces it", undefined],
      ["Add 'n1' reads 'n2_output_0' on a cycle: Add 'n1' → Relu 'n2' → Add 'n1'", 'cycle'],
    ]);
  });

  it('a valid graph: no diagnostic (the search runs on the error path alone)', () => {
    const b = new GraphBuilder({ name: 'g', opset: 17 });
    const x = b.input('x', DataType.FLOAT, [2]);
    b.output(b.op('Relu', [x], {}, { name: 'r' }), 'y');
    expect(verify(b.build())).toEqual([]);
  });
});
