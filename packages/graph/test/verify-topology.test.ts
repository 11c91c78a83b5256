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

  // A long cycle with its nodes in reverse order has a backward read per node: they give way to
  // one diagnostic (in one rebuild of the list, not a splice each), its message one line.
  it('a long cycle in reverse order: one diagnostic, its nodes elided in the middle; a long reversed acyclic chain: one per read, sort() mends it', () => {
    const n = 20_000;
    const reversed = (closed: boolean): Model => {
      const b = new GraphBuilder({ name: 'g', opset: 17 });
      const x = b.input('x', DataType.FLOAT, [2]);
      const m = b.build();
      const g = m.graph;
      // r0 reads x (or, closed, r{n-1}'s output), r_i reads r_{i-1}'s output: prepended in order, so the last is first
      const made: Node[] = [];
      for (let i = 0; i < n; i++) {
        const node = new Node('Relu', [i === 0 ? x : made[i - 1]!.outputs[0]!], { name: `r${i}`, outputs: [`v${i}`] });
        g.prepend(node);
        made.push(node);
      }
      if (closed) made[0]!.setInput(0, made[n - 1]!.outputs[0]!);
      g.addOutput(made[n - 1]!.outputs[0]!);
      return m;
    };
    const t0 = performance.now();
    const c = verify(reversed(true));
    expect(c).toHaveLength(1);
    expect(c[0]!.topology).toBe('cycle');
    expect(c[0]!.message).toMatch(/on a cycle: Relu 'r19999' → Relu 'r0' → Relu 'r1' → Relu 'r2' → Relu 'r3' → Relu 'r4' → … 19,992 more … → Relu 'r19997' → Relu 'r19998' → Relu 'r19999' \(/);
    const a = reversed(false);
    const d = verify(a);
    expect(d).toHaveLength(n - 1);
    expect(d.every((x) => x.topology === 'out-of-order')).toBe(true);
    a.graph.sort();
    expect(verify(a)).toEqual([]);
    expect(performance.now() - t0).toBeLessThan(20_000);
  });

  it('a valid graph: no diagnostic (the search runs on the error path alone)', () => {
    const b = new GraphBuilder({ name: 'g', opset: 17 });
    const x = b.input('x', DataType.FLOAT, [2]);
    b.output(b.op('Relu', [x], {}, { name: 'r' }), 'y');
    expect(verify(b.build())).toEqual([]);
  });
});
