// verify()'s I1 check from the value's side: a use a value lists must be a slot of its node that
// reads the value. It reads each use's node and slot without building Use objects (a single use
// is held as its node alone), so both ways a use is held are pinned here, message for message.

import { describe, expect, it } from 'vitest';
import { DataType, GraphBuilder, verify, type Model, type Value } from '@onnxkit/graph';

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
