// verify()'s I1 check from the reading side for a value with many uses (a shared constant): a
// read is first compared with the use at a cursor into the value's use list (reads mostly come
// in the order the uses were recorded), and asked of hasUse when it is not that use. These pin
// that the cursor only ever confirms a use the list holds: reads out of list order pass, and a
// read the list lacks, or holds at another input, is reported message for message.

import { describe, expect, it } from 'vitest';
import { DataType, GraphBuilder, Tensor, verify, type Model, type Node, type Value } from '@onnxkit/graph';

/** x → Mul(·, c) × `n` (c shared by every Mul: past 8 uses, a value keeps them in a hash map). */
function shared(n = 20): { m: Model; c: Value; muls: Node[] } {
  const b = new GraphBuilder({ name: 'g', opset: 17 });
  let x = b.input('x', DataType.FLOAT, [2]);
  const c = b.constant('c', Tensor.scalar(DataType.FLOAT, 2));
  for (let i = 0; i < n; i++) x = b.op('Mul', [x, c], {}, { name: `m${i}` });
  b.output(x, 'y');
  const m = b.build();
  return { m, c, muls: m.graph.nodes };
}

const i1 = (m: Model): string[] => verify(m).filter((d) => d.code === 'I1-use-consistency').map((d) => d.message);

describe('verify: reads of a value with many uses', () => {
  it('passes reads in the order the uses were recorded', () => {
    const { m, c } = shared();
    expect(c.useCount).toBe(20);
    expect(verify(m)).toEqual([]);
  });

  it('passes reads out of that order (uses recorded again, last first)', () => {
    const { m, c, muls } = shared();
    const other = m.graph.inputs[0]!;
    // Each Mul's use of c moves to the end of c's list, from the last Mul to the first: the list
    // ends up in reverse node order, and the first read the walk meets is at the list's end.
    for (let k = muls.length - 1; k >= 0; k--) {
      muls[k]!.setInput(1, other);
      muls[k]!.setInput(1, c);
    }
    expect(c.uses[0]!.node).toBe(muls[muls.length - 1]);
    expect(verify(m)).toEqual([]);
  });

  it('reports a read the list lacks, first or in the middle, and passes the rest', () => {
    const { m, c, muls } = shared();
    c._removeUse(muls[0]!, 1); // stands in for a bug in the core
    c._removeUse(muls[7]!, 1);
    expect(i1(m)).toEqual(["Mul 'm0' reads 'c' at input 1 but the value does not list that use", "Mul 'm7' reads 'c' at input 1 but the value does not list that use"]);
  });

  it('reports a read whose node the list holds at another input', () => {
    const { m, c, muls } = shared();
    // m3 now reads c at input 0 too; its use is recorded at input 1 only (the stale use of a
    // bug): the cursor meets (m3, 1) where the walk reads (m3, 0), and the list lacks (m3, 0).
    const x3 = muls[3]!.inputs[0]!;
    muls[3]!.setInput(0, c);
    c._removeUse(muls[3]!, 0);
    x3._addUse(muls[3]!, 0);
    const messages = i1(m);
    expect(messages).toContain("Mul 'm3' reads 'c' at input 0 but the value does not list that use");
  });

  it('reports a use the list holds but no read matches, and passes every read', () => {
    const { m, c, muls } = shared();
    c._addUse(muls[5]!, 0); // m5 reads x5 at input 0, not c
    expect(i1(m)).toEqual(["'c' lists a use by Mul 'm5' at input 0, but that input is another value"]);
  });
});
