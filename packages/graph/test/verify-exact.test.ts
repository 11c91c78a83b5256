// verify() judges a graph's own reads from the SSA name table and falls back to exact definition
// positions when a value may be defined twice (a producer on an input or initializer, an output
// that does not point back). These corrupt graphs pin the diagnostics, message for message, to
// what the position-map implementation reported (each was run against it).
 
import { describe, expect, it } from 'vitest';
import type { Model} from '@onnxkit/graph';
import { DataType, Graph, GraphBuilder, Node, Tensor, Value, verify } from '@onnxkit/graph';

const cases: Record<string, () => Model> = {};
function base(): { b: GraphBuilder; x: Value } {
  const b = new GraphBuilder({ name: 'g', opset: 17 });
  const x = b.input('x', DataType.FLOAT, [2]);
  return { b, x };
}
cases.inputAlsoLaterOutput = () => {
  const { b, x } = base();
  const r1 = b.op('Relu', [x], {}, { name: 'r1' });
  const r2 = b.op('Relu', [r1], {}, { name: 'r2' });
  b.output(r2, 'y');
  const m = b.build();
  m.graph.nodes[1]!.addOutput(m.graph.inputs[0]!);
  return m;
};
cases.outputOfTwoNodes = () => {
  const { b, x } = base();
  const r1 = b.op('Relu', [x], {}, { name: 'r1' });
  const r2 = b.op('Relu', [r1], {}, { name: 'r2' });
  const r3 = b.op('Relu', [r2], {}, { name: 'r3' });
  b.output(r3, 'y');
  const m = b.build();
  const [n1, , n3] = m.graph.nodes as [Node, Node, Node];
  // r1's value becomes also an output of r3 (listed twice): read by r2 in between.
  const v = n1.output;
  v._setProducer(null);
  n3.addOutput(v);
  return m;
};
cases.dupNames = () => {
  const { b, x } = base();
  const r1 = b.op('Relu', [x], {}, { name: 'r1' });
  const r2 = b.op('Relu', [x], {}, { name: 'r2' });
  const s = b.op('Add', [r1, r2], {}, { name: 'add' });
  b.output(s, 'y');
  const m = b.build();
  const [n1, n2] = m.graph.nodes as [Node, Node];
  n2.output.name = n1.output.name;
  return m;
};
cases.readLater = () => {
  const { b, x } = base();
  const r1 = b.op('Relu', [x], {}, { name: 'r1' });
  const r2 = b.op('Relu', [r1], {}, { name: 'r2' });
  b.output(r2, 'y');
  const m = b.build();
  const [n1, n2] = m.graph.nodes as [Node, Node];
  n1.setInput(0, n2.output);
  return m;
};
cases.initWithProducer = () => {
  const { b, x } = base();
  const w = b.constant('w', Tensor.fromArray(DataType.FLOAT, [2], new Float32Array([1, 2])));
  const a = b.op('Add', [x, w], {}, { name: 'a' });
  const r = b.op('Relu', [a], {}, { name: 'r' });
  b.output(r, 'y');
  const m = b.build();
  const wv = m.graph.initializers.get("w")!;
  m.graph.nodes[1]!.addOutput(wv);
  return m;
};
cases.unnamedRead = () => {
  const { b, x } = base();
  const r1 = b.op('Relu', [x], {}, { name: 'r1' });
  const r2 = b.op('Relu', [r1], {}, { name: 'r2' });
  b.output(r2, 'y');
  const m = b.build();
  m.graph.nodes[0]!.output.name = "";
  return m;
};
cases.foreignValue = () => {
  const { b, x } = base();
  const r1 = b.op('Relu', [x], {}, { name: 'r1' });
  b.output(r1, 'y');
  const m = b.build();
  const other = new Value({ name: 'x' });
  m.graph.nodes[0]!.setInput(0, other);
  return m;
};
cases.subgraphReadsOwner = () => {
  const b = new GraphBuilder({ name: 'g', opset: 17 });
  const cond = b.input('c', DataType.BOOL, []);
  const x = b.input('x', DataType.FLOAT, [2]);
  const mk = (nm: string): Graph => { const g = new Graph({ name: nm }); const id = new Node('Identity', [x], { name: nm + 'id', outputs: [nm + 'o'] }); g.append(id); g.addOutput(id.output); return g; };
  const y = b.op('If', [cond], { then_branch: mk('t'), else_branch: mk('e') }, { name: 'if' });
  b.output(y, 'y');
  const m = b.build();
  const iff = m.graph.nodes[0]!;
  iff.subgraphs()[0]!.nodes[0]!.setInput(0, iff.output);
  return m;
};

const expected: Record<string, [string, string][]> = {
  inputAlsoLaterOutput: [["I9-graph-inputs", "graph input 'x' has a producer"], ["I4-topological-order", "Relu 'r1' reads 'x' before Relu 'r2' produces it"]],
  outputOfTwoNodes: [["I2-producer-consistency", "output 0 ('r1_output_0') of Relu 'r1' does not point back to it"], ["I4-topological-order", "Relu 'r2' reads 'r1_output_0' before Relu 'r3' produces it"]],
  dupNames: [["I5-unique-names", "name 'r1_output_0' is defined twice in graph 'g' (output of Relu 'r2')"]],
  // (r1 reads r2's output, r2 reads r1's: a cycle, which verify() names since it tells cycles apart)
  readLater: [["I4-topological-order", "Relu 'r1' reads 'y' on a cycle: Relu 'r1' → Relu 'r2' → Relu 'r1' (each reads an output of the one before it, so no order of the nodes can run them; the model must be re-exported or edited to break it)"]],
  initWithProducer: [["I6-initializers", "initializer 'w' also has a producer"], ["I4-topological-order", "Add 'a' reads 'w' before Relu 'r' produces it"]],
  unnamedRead: [["I8-omitted-outputs", "an unnamed (omitted) output of Relu 'r1' is used"]],
  foreignValue: [["I4-topological-order", "Relu 'r1' reads 'x', which is defined nowhere in scope"]],
  subgraphReadsOwner: [["I4-topological-order", "Identity 'tid' reads 'y', which is produced by If 'if' in graph 'g'"]],
};

describe('verify() on graphs that define a value twice or read out of order', () => {
  for (const [name, make] of Object.entries(cases)) {
    it(name, () => {
      const got = verify(make(), { checkShadowing: true }).map((d) => [d.code, d.message]);
      expect(got).toEqual(expected[name]);
    });
  }
});
