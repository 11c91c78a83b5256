// verify() checks the uses a graph's values list (I1, I12 from the value's side) by a count: the
// reads its walk met against the uses its values list, and only when they differ (a use by a
// node elsewhere, a stale use, a subgraph reading the graph's values) value by value, as it always
// did. These pin the diagnostics, message for message, to those of the build before the count
// (each expectation was produced by it), for graphs with a subgraph read of an outer value (a
// problem before it or after it), uses by a removed node, stale uses of initializers and node
// outputs, initializers that are graph inputs too, and a read the value does not list.

import { describe, expect, it } from 'vitest';
import { DataType, Graph, GraphBuilder, Node, Tensor, verify, type Model, type Value } from '@onnxkit/graph';

const withIf = () => {
  const b = new GraphBuilder({ name: 'g', opset: 17 });
  const x = b.input('x', DataType.FLOAT, [2]);
  const w = b.constant('w', Tensor.fromArray(DataType.FLOAT, [2], new Float32Array([1, 2])));
  const r = b.op('Relu', [x], {}, { name: 'r' });
  const a = b.op('Add', [r, w], {}, { name: 'a' });
  const mk = (nm: string): Graph => { const g = new Graph({ name: nm }); const id = new Node('Identity', [a], { name: nm + 'id', outputs: [nm + 'o'] }); g.append(id); g.addOutput(id.output); return g; };
  const cond = b.input('c', DataType.BOOL, []);
  const y = b.op('If', [cond], { then_branch: mk('t'), else_branch: mk('e') }, { name: 'if' });
  const z = b.op('Mul', [y, w], {}, { name: 'm' });
  b.output(z, 'z');
  return b.build();
};
const chain = () => {
  const b = new GraphBuilder({ name: 'g', opset: 17 });
  let x: Value = b.input('x', DataType.FLOAT, [2]);
  for (let i = 0; i < 4; i++) x = b.op('Add', [b.op('Relu', [x], {}, { name: `r${i}` }), b.constant(`w${i}`, Tensor.fromArray(DataType.FLOAT, [2], new Float32Array([i, 1])))], {}, { name: `a${i}` });
  b.output(x, 'y');
  return b.build();
};
const cases: Record<string, () => Model> = {
  ifValid: () => withIf(),
  ifStaleUseBefore: () => { const m = withIf(); const r = m.graph.nodes[0]!; r.output._addUse(m.graph.nodes[3]!, 1); return m; },
  ifStaleUseAfter: () => { const m = withIf(); const nodes = m.graph.nodes; nodes[1]!.output._addUse(nodes[3]!, 0); return m; },
  ifMissingUseBefore: () => { const m = withIf(); const [r, a] = m.graph.nodes as [Node, Node]; r.output._removeUse(a, 0); return m; },
  initUsedByRemoved: () => { const m = chain(); const g = m.graph; const a1 = g.nodes.find((n) => n.name === 'a1')!; g.remove(a1); g.initializers.get('w1')!._addUse(a1, 1); return m; },
  initStaleUse: () => { const m = chain(); const g = m.graph; g.initializers.get('w2')!._addUse(g.nodes[0]!, 0); return m; },
  outputStaleUse: () => { const m = chain(); const g = m.graph; g.nodes[2]!.output._addUse(g.nodes[0]!, 0); return m; },
  initAlsoInput: () => { const m = chain(); const g = m.graph; g.addInput(g.initializers.get('w0')!); g.addInput(g.initializers.get('w3')!); return m; },
  inputUsedTwiceListedOnce: () => { const m = chain(); const g = m.graph; const x = g.inputs[0]!; g.nodes[2]!.setInput(0, x); x._removeUse(g.nodes[2]!, 0); return m; },
};

const expected: Record<string, [string, string][]> = {
  ifValid: [],
  ifStaleUseBefore: [
    [
      "I1-use-consistency",
      "'r_output_0' lists a use by Mul 'm' at input 1, but that input is another value"
    ],
  ],
  ifStaleUseAfter: [
    [
      "I1-use-consistency",
      "'a_output_0' lists a use by Mul 'm' at input 0, but that input is another value"
    ],
  ],
  ifMissingUseBefore: [
    [
      "I1-use-consistency",
      "Add 'a' reads 'r_output_0' at input 0 but the value does not list that use"
    ],
  ],
  initUsedByRemoved: [
    [
      "I4-topological-order",
      "Relu 'r2' reads 'a1_output_0', which is produced by Add 'a1' (a removed node)"
    ],
    [
      "I12-detached-uses",
      "'w1' is used by Add 'a1', which is in no graph"
    ],
  ],
  initStaleUse: [
    [
      "I1-use-consistency",
      "'w2' lists a use by Relu 'r0' at input 0, but that input is another value"
    ],
  ],
  outputStaleUse: [
    [
      "I1-use-consistency",
      "'r1_output_0' lists a use by Relu 'r0' at input 0, but that input is another value"
    ],
  ],
  initAlsoInput: [],
  inputUsedTwiceListedOnce: [
    [
      "I1-use-consistency",
      "Relu 'r1' reads 'x' at input 0 but the value does not list that use"
    ],
  ],
};

describe("verify: the uses of a graph's values, checked by a count", () => {
  for (const [name, make] of Object.entries(cases)) {
    it(name, () => {
      expect(verify(make(), { checkShadowing: true }).map((d) => [d.code, d.message])).toEqual(expected[name]);
    });
  }
});
