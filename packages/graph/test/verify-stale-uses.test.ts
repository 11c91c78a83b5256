// verify()'s I1 check from the value's side: a use a value lists must be a slot of its node that
// reads the value. It reads each use's node and slot without building Use objects (a single use
// is held as its node alone), so both ways a use is held are pinned here, message for message.

import { describe, expect, it } from 'vitest';
import { DataType, GraphBuilder, verify, type Graph, type Model, type Value } from '@onnxkit/graph';

function chain(): { m: Model; w: Value } {
  const b = new GraphBuilder({ name: 'g', opset: 17 });
  const x = b.input('x', DataType.FLOAT, [2]);
  const w = b.input('w', DataType.FLOAT, [2]);
  const r = b.op('Relu', [x], {}, { name: 'r' });
  const a = b.op('Add', [r, r], {}, { name: 'a' });
  b.output(a, 'y');
  return { m: b.build(), w };
}

const stale = (m: Model): string[] => verify(m).filter((d) => d.code === 'I1-use-consistency').map((d) => d.message);

describe('verify: uses a value lists but its node does not read', () => {
  it('passes the valid graph', () => {
    expect(verify(chain().m)).toEqual([]);
  });

  it('a single use (held as its node alone) by a node that reads the value at no input', () => {
    const { m, w } = chain();
    const relu = m.graph.nodes[0]!;
    w._addUse(relu, 0);
    expect(stale(m)).toEqual(["'w' lists a use by Relu 'r', but it reads the value at no input"]);
  });

  it('a use at an input that holds another value, among several uses', () => {
    const { m, w } = chain();
    const [relu, add] = m.graph.nodes as [never, never];
    w._addUse(relu, 0);
    w._addUse(add, 1);
    const messages = stale(m);
    expect(messages).toEqual(["'w' lists a use by Relu 'r', but it reads the value at no input", "'w' lists a use by Add 'a' at input 1, but that input is another value"]);
  });
});

describe('Value._usesIn (the closing check of a value): what a walk over its uses finds', () => {
  // The reference: each listed use's node is in `g` and reads the value at that input.
  const walk = (v: Value, g: Graph): boolean => v.uses.every((u) => u.node.graph === g && u.node.inputs[u.index] === v);

  it('agrees with the walk for single, wide-reader, listed and indexed uses, valid and stale, in and out of the graph', () => {
    let seed = 7;
    const rnd = (n: number): number => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) % n);
    let cases = 0;
    for (let round = 0; round < 60; round++) {
      const b = new GraphBuilder({ name: 'g', opset: 17 });
      const x = b.input('x', DataType.FLOAT, [2]);
      const w = b.input('w', DataType.FLOAT, [2]);
      const readers = 1 + rnd(12); // past SMALL_USES (8) the value's uses are indexed
      const wide = rnd(3) === 0; // a reader of more than 16 inputs holds a Use, not its node alone
      let last: Value = x;
      for (let i = 0; i < readers; i++) last = wide && i === 0 ? b.op('Concat', [last, ...Array.from({ length: 17 }, () => w)], { axis: 0 }) : b.op('Add', [last, w]);
      b.output(last, 'y');
      const m = b.build();
      const g = m.graph;
      const other = new GraphBuilder({ name: 'h', opset: 17 }).build().graph;
      const nodes = g.nodes;
      // Corruptions: a stale use at no input or at another value's input, a reader moved out of the graph.
      const kind = rnd(5);
      if (kind === 1) w._addUse(nodes[rnd(nodes.length)]!, 0);
      if (kind === 2) w._addUse(nodes[rnd(nodes.length)]!, 5);
      if (kind === 3) {
        const n = nodes[rnd(nodes.length)]!;
        const ins = n.inputs.slice();
        g.remove(n);
        other.append(n);
        n.setInputs(ins);
      }
      if (kind === 4) x._addUse(nodes[nodes.length - 1]!, 1);
      for (const v of [x, w, ...g.nodes.flatMap((n) => n.outputs)]) {
        for (const gg of [g, other]) {
          expect(v._usesIn(gg), `${v.name} in ${gg.name}, round ${round}`).toBe(walk(v, gg));
          cases++;
        }
      }
    }
    expect(cases).toBeGreaterThan(500);
  });
});
