// verify() judges a read of an initializer first by a cursor into the graph's initializer map (in
// its order, a few entries of lookahead), then by the map itself. These pin that the cursor only
// ever passes a value the map holds: reads in map order, out of it, of initializers never read,
// and a value that claims to be an initializer the map no longer holds (reported, message for
// message, as verify() reported it before the cursor).

import { describe, expect, it } from 'vitest';
import { DataType, GraphBuilder, Tensor, verify, type Model, type Value } from '@onnxkit/graph';

/** x → Add(·, w_i) × `n`, each block with its own initializer w_i, read in `order`. */
function chain(n: number, order: readonly number[] = [...Array(n).keys()]): { m: Model; ws: Value[] } {
  const b = new GraphBuilder({ name: 'g', opset: 17 });
  let x = b.input('x', DataType.FLOAT, [2]);
  const ws: Value[] = [];
  for (let i = 0; i < n; i++) ws.push(b.constant(`w${i}`, Tensor.fromArray(DataType.FLOAT, [2], new Float32Array([i, i + 1]))));
  for (const i of order) x = b.op('Add', [x, ws[i]!], {}, { name: `a${i}` });
  b.output(x, 'y');
  return { m: b.build(), ws };
}

describe('verify: reads of initializers', () => {
  it('passes reads in the map order', () => {
    const { m } = chain(20);
    expect(verify(m)).toEqual([]);
  });

  it('passes reads out of the map order, and initializers never read', () => {
    expect(verify(chain(20, [19, 0, 3, 2, 1, 7, 18, 5, 4, 9, 8, 6]).m)).toEqual([]);
  });

  it('reports a value that claims an initializer the map no longer holds, wherever the cursor is', () => {
    for (const k of [0, 1, 5, 19]) {
      const { m, ws } = chain(20);
      const g = m.graph;
      const w = ws[k]!;
      const reader = w.uses[0]!;
      // Taken out of the map (the reader moved off it meanwhile), then read again with its stale
      // back-pointer set by hand (a bug in a pass).
      reader.node.setInput(1, g.initializers.get(`w${k === 0 ? 1 : 0}`)!);
      g.removeInitializer(w.name);
      w._initializerOf = g;
      reader.node.setInput(1, w);
      expect(verify(m).map((d) => [d.code, d.message])).toEqual([["I4-topological-order", `Add 'a${k}' reads 'w${k}', which is defined nowhere in scope`]]);
    }
  });
});
