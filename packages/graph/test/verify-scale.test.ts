// verify() must stay linear in graph size when many nodes hold subgraphs: a subgraph's view of
// the enclosing scope is a position limit, not a copy (a 4,000-If chain took 2.6 s before).
import { describe, expect, it } from 'vitest';
import { DataType, Graph, GraphBuilder, Node, verify } from '@onnxkit/graph';

function ifChain(n: number) {
  const b = new GraphBuilder({ name: 'chain', opset: 17 });
  const cond = b.input('cond', DataType.BOOL, []);
  let v = b.input('x', DataType.FLOAT, [2]);
  for (let i = 0; i < n; i++) {
    const branch = (name: string): Graph => {
      const g = new Graph({ name: `${name}${i}` });
      const id = new Node('Identity', [v], { name: `${name}_id${i}`, outputs: [`${name}_out${i}`] });
      g.append(id);
      g.addOutput(id.output);
      return g;
    };
    v = b.op('If', [cond], { then_branch: branch('then'), else_branch: branch('else') }, { name: `if${i}` });
  }
  b.output(v, 'y');
  return b.build();
}

describe('verify() at scale', () => {
  it('accepts a chain of 4,000 If nodes whose branches read the previous value', () => {
    const small = ifChain(500);
    const big = ifChain(4000);
    expect(verify(small)).toEqual([]);
    // The old quadratic path took seconds here; fuzz/regressions replays this shape under the
    // fuzzer's 1 s per-phase limit, so a regression in speed is caught there, not by a timer here.
    expect(verify(big)).toEqual([]);
  });

  it('still rejects a subgraph that reads a value produced after its owning node', () => {
    const m = ifChain(2);
    const [if0, if1] = m.graph.nodes;
    // Point if0's then-branch Identity at if1's output: defined later in the outer graph.
    const inner = if0!.subgraphs()[0]!.nodes[0]!;
    inner.setInput(0, if1!.output);
    expect(verify(m).map((d) => d.code)).toContain('I4-topological-order');
  });
});
