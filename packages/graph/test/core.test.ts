import { describe, expect, it } from 'vitest';
import {
  Attribute,
  AttributeType,
  DataType,
  Graph,
  GraphBuilder,
  GraphError,
  Node,
  Tensor,
  Value,
  cloneModel,
  diffModels,
  printModel,
  verify,
  verifyErrors,
  toAttribute,
} from '@onnxkit/graph';

function chain(n: number): { g: Graph; x: Value; nodes: Node[] } {
  const x = new Value({ name: 'x' });
  const g = new Graph({ name: 'g', inputs: [x] });
  let cur = x;
  const nodes: Node[] = [];
  for (let i = 0; i < n; i++) {
    const node = new Node('Relu', [cur], { name: `n${i}`, outputs: [`v${i}`] });
    g.append(node);
    nodes.push(node);
    cur = node.output;
  }
  g.addOutput(cur);
  return { g, x, nodes };
}

describe('Value uses and Node inputs', () => {
  it('keeps both sides in sync through setInput and replaceInputWith', () => {
    const a = new Value({ name: 'a' });
    const b = new Value({ name: 'b' });
    const n = new Node('Add', [a, a], { outputs: ['c'] });
    expect(a.uses.map((u) => u.index)).toEqual([0, 1]);
    n.setInput(1, b);
    expect(a.uses).toEqual([{ node: n, index: 0 }]);
    expect(b.uses).toEqual([{ node: n, index: 1 }]);
    expect(n.replaceInputWith(a, b)).toBe(1);
    expect(a.uses).toHaveLength(0);
    expect(n.inputs).toEqual([b, b]);
    n.setInput(3, a);
    expect(n.inputs).toEqual([b, b, null, a]);
    n.truncateInputs(2);
    expect(a.uses).toHaveLength(0);
  });

  it('lists uses in the order they were attached through random edits, many uses and nodes reading a value twice included', () => {
    // The reference: (node, slot) pairs in attachment order; a slot set again moves to the end.
    let seed = 11;
    const rnd = (n: number): number => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) % n);
    for (let round = 0; round < 40; round++) {
      const v = new Value({ name: 'v' });
      const other = new Value({ name: 'o' });
      const nodes = Array.from({ length: 4 + rnd(30) }, (_, i) => new Node('Sum', [other, other, other], { name: `n${i}`, outputs: [`y${i}`] }));
      const ref: { node: Node; index: number }[] = [];
      const twice = rnd(2) === 0; // else each node reads v at one slot at most
      for (let step = 0; step < 300; step++) {
        const n = nodes[rnd(nodes.length)]!;
        const slot = twice ? rnd(3) : 0;
        const at = ref.findIndex((u) => u.node === n && u.index === slot);
        if (at >= 0 && rnd(3) > 0) {
          n.setInput(slot, other);
          ref.splice(at, 1);
        } else if (at < 0) {
          n.setInput(slot, v);
          ref.push({ node: n, index: slot });
        }
        if (step % 7 === 0 || step === 299) {
          expect(v.uses.map((u) => [u.node.name, u.index])).toEqual(ref.map((u) => [u.node.name, u.index]));
          expect(v.useCount).toBe(ref.length);
          for (let i = 0; i < ref.length; i++) {
            expect(v._userAt(i)).toBe(ref[i]!.node);
            expect(v._useIndexAt(i)).toBe(ref[i]!.index);
          }
          for (const n2 of nodes) for (let k = 0; k < 3; k++) expect(v.hasUse(n2, k)).toBe(ref.some((u) => u.node === n2 && u.index === k));
        }
      }
    }
  });

  it('a node reading one value at many inputs (past SLOT_USES: kept by slot) keeps uses, hasUse and _usedBy exact through random edits', () => {
    let seed = 5;
    const rnd = (n: number): number => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) % n);
    const W = 30;
    for (let round = 0; round < 20; round++) {
      const v = new Value({ name: 'v' });
      const other = new Value({ name: 'o' });
      const nodes = Array.from({ length: 1 + rnd(4) }, (_, i) => new Node('Concat', Array.from({ length: W }, () => other), { name: `n${i}`, outputs: [`y${i}`] }));
      const ref: { node: Node; index: number }[] = [];
      for (let step = 0; step < 400; step++) {
        const n = nodes[rnd(nodes.length)]!;
        const slot = rnd(W);
        const at = ref.findIndex((u) => u.node === n && u.index === slot);
        // (more sets than clears: a node's entry grows past SLOT_USES and shrinks back)
        if (at >= 0 && rnd(round % 2 === 0 ? 3 : 5) === 0) {
          n.setInput(slot, other);
          ref.splice(at, 1);
        } else if (at < 0) {
          n.setInput(slot, v);
          ref.push({ node: n, index: slot });
        }
        if (step % 13 === 0 || step === 399) {
          expect(v.uses.map((u) => [u.node.name, u.index])).toEqual(ref.map((u) => [u.node.name, u.index]));
          expect(v.useCount).toBe(ref.length);
          for (const n2 of nodes) {
            expect(v._usedBy(n2)).toBe(ref.some((u) => u.node === n2));
            for (let k = 0; k < W; k++) expect(v.hasUse(n2, k)).toBe(ref.some((u) => u.node === n2 && u.index === k));
          }
        }
      }
      // Detaching a node that reads v at many inputs drops each of its uses.
      nodes[0]!.setInputs([]);
      expect(v.uses.some((u) => u.node === nodes[0])).toBe(false);
      expect(v._usedBy(nodes[0]!)).toBe(false);
      expect(v.useCount).toBe(ref.filter((u) => u.node !== nodes[0]).length);
    }
  });

  it('keeps uses in order, indexed and snapshot-stable across the switch from a few uses to many', () => {
    const w = new Value({ name: 'w' });
    const x = new Value({ name: 'x' });
    let few: readonly { node: Node; index: number }[] = [];
    const nodes = Array.from({ length: 20 }, (_, i) => {
      if (i === 3) few = w.uses; // a snapshot taken while the value had three uses
      return new Node('MatMul', [x, w], { name: `m${i}`, outputs: [`y${i}`] });
    });
    const many = w.uses;
    expect(w.uses.map((u) => u.node.name)).toEqual(nodes.map((n) => n.name));
    expect(nodes.every((n) => w.hasUse(n, 1) && !w.hasUse(n, 0))).toBe(true);
    // Remove every other use (in large mode), then go back below the small-mode size.
    for (let i = 0; i < 20; i += 2) nodes[i]!.setInput(1, x);
    expect(w.uses.map((u) => u.node.name)).toEqual(nodes.filter((_, i) => i % 2 === 1).map((n) => n.name));
    expect(w.hasUse(nodes[0]!, 1)).toBe(false);
    expect(x.uses).toHaveLength(30);
    // A node reading a large-mode value at several inputs: each (node, index) is its own use.
    expect(x.hasUse(nodes[0]!, 0) && x.hasUse(nodes[0]!, 1)).toBe(true);
    nodes[0]!.setInput(0, w);
    expect(x.hasUse(nodes[0]!, 0)).toBe(false);
    expect(x.hasUse(nodes[0]!, 1)).toBe(true);
    nodes[0]!.setInput(2, x);
    nodes[0]!.setInput(3, x);
    expect([0, 1, 2, 3].map((i) => x.hasUse(nodes[0]!, i))).toEqual([false, true, true, true]);
    nodes[0]!.setInput(2, null);
    expect([0, 1, 2, 3].map((i) => x.hasUse(nodes[0]!, i))).toEqual([false, true, false, true]);
    expect(() => x._removeUse(nodes[0]!, 2)).toThrow(/has no use/);
    nodes[0]!.truncateInputs(2);
    nodes[0]!.setInput(0, x);
    expect(x.uses.filter((u) => u.node === nodes[0]).map((u) => u.index).sort()).toEqual([0, 1]);
    expect(x.uses).toHaveLength(30);
    // Snapshots handed out earlier never change.
    expect(few).toEqual(nodes.slice(0, 3).map((n) => ({ node: n, index: 1 })));
    expect(many).toEqual(nodes.map((n) => ({ node: n, index: 1 })));
    const small = new Value({ name: 's' });
    const a = new Node('Add', [small, small], { outputs: ['t'] });
    const snapshot = small.uses;
    a.setInput(0, x);
    expect(snapshot.map((u) => u.index)).toEqual([0, 1]);
    expect(small.uses.map((u) => u.index)).toEqual([1]);
    expect(() => small._removeUse(a, 0)).toThrow(/has no use/);
  });

  it('a single use by a wide reader keeps its slot (no search of the inputs), and uses stay exact', () => {
    // 40 inputs: past the node-only form's limit; v is read at slots 20 and 33, w at 39 only.
    const vals = Array.from({ length: 40 }, (_, k) => new Value({ name: `i${k}` }));
    const v = new Value({ name: 'v' });
    const w = new Value({ name: 'w' });
    vals[20] = v;
    vals[33] = v;
    vals[39] = w;
    const wide = new Node('Concat', vals, { outputs: ['c'] });
    expect(w._useAt(0)).toEqual({ node: wide, index: 39 });
    expect(w._useAt(0)).toBe(w._useAt(0)); // the Use is held, not rebuilt by a search
    expect(v.uses).toEqual([{ node: wide, index: 20 }, { node: wide, index: 33 }]);
    wide.setInput(20, null); // 2 → 1 use
    expect(v.uses).toEqual([{ node: wide, index: 33 }]);
    expect(v.hasUse(wide, 33)).toBe(true);
    expect(v.hasUse(wide, 20)).toBe(false);
    const z = new Value({ name: 'z' });
    w.replaceAllUsesWith(z);
    expect(wide.inputs[39]).toBe(z);
    expect(z._useAt(0)).toEqual({ node: wide, index: 39 });
    expect(w.useCount).toBe(0);
    // A narrow reader: the node alone, the Use made when asked.
    const r = new Node('Relu', [w], { outputs: ['r'] });
    expect(w._useAt(0)).toEqual({ node: r, index: 0 });
    expect(w._useAt(0)).not.toBe(w._useAt(0));
  });

  it('verify() reports a use record lost by a node that reads the value twice (I1)', () => {
    const b = new GraphBuilder({ name: 'g', opset: 17 });
    const x = b.input('x', DataType.FLOAT, [2]);
    const r = b.op('Relu', [x]);
    const add = b.op('Add', [r, r]);
    b.output(add, 'y');
    const m = b.build();
    expect(verify(m)).toEqual([]);
    r._removeUse(m.graph.nodes[1]!, 1); // stands in for a bug in the core
    expect(verify(m).map((d) => d.code)).toContain('I1-use-consistency');
  });

  it('_userAt names the node of _useAt for one use, a small list and the indexed set', () => {
    const v = new Value({ name: 'v' });
    const readers: Node[] = [];
    for (let k = 0; k < 40; k++) {
      readers.push(new Node('Relu', [v], { outputs: [`r${k}`] }));
      for (let i = 0; i < v.useCount; i++) expect(v._userAt(i)).toBe(v._useAt(i).node);
    }
    expect(v.uses.map((u) => u.node)).toEqual(readers);
  });

  it('_useIndexAt gives the index of _useAt for a node held alone, a small list and the indexed set', () => {
    const v = new Value({ name: 'v' });
    const other = new Value({ name: 'o' });
    // Reads v at slot 1 (behind another value): held as the node alone, its slot is searched.
    const first = new Node('Add', [other, v], { outputs: ['s'] });
    expect(v._useIndexAt(0)).toBe(1);
    for (let k = 0; k < 40; k++) {
      // Alternate slots, so an index that is not the use's own would show.
      new Node('Add', k % 2 === 0 ? [v, other] : [other, v], { outputs: [`r${k}`] });
      for (let i = 0; i < v.useCount; i++) {
        expect(v._useIndexAt(i)).toBe(v._useAt(i).index);
        expect(v._userAt(i).inputs[v._useIndexAt(i)]).toBe(v);
      }
    }
    expect(v._userAt(0)).toBe(first);
  });

  it('a single use is listed the same whether or not its list was read before a change', () => {
    const v = new Value({ name: 'v' });
    const a = new Node('Relu', [v], { outputs: ['a'] });
    expect(v.useCount).toBe(1);
    expect(v.hasUse(a, 0)).toBe(true);
    expect(v.hasUse(a, 1)).toBe(false);
    expect(v._useAt(0)).toEqual({ node: a, index: 0 });
    const one = v.uses;
    expect(one).toEqual([{ node: a, index: 0 }]);
    expect(v.uses).toEqual(one); // read again: an equal list (a fresh one: a single use keeps no list)
    const b = new Node('Relu', [v], { outputs: ['b'] });
    expect(one).toHaveLength(1); // a list handed out never changes
    expect(v.uses.map((u) => u.node)).toEqual([a, b]);
    b.setInput(0, null);
    a.setInput(0, null);
    expect(v.useCount).toBe(0);
    expect(v.uses).toEqual([]);
    // removal before the list was ever read
    const w = new Value({ name: 'w' });
    const c = new Node('Relu', [w], { outputs: ['c'] });
    expect(() => w._removeUse(c, 1)).toThrow(/has no use/);
    c.setInput(0, null);
    expect(w.useCount).toBe(0);
    expect(w.uses).toEqual([]);
    new Node('Relu', [w], { outputs: ['d'] });
    new Node('Relu', [w], { outputs: ['e'] });
    expect(w.uses.map((u) => u.node.outputs[0]!.name)).toEqual(['d', 'e']);
  });

  it('a single use held as its node alone reports the right slot while the node adds and drops more', () => {
    // The value holds the node of its one use, and the slot is looked up in the node's inputs:
    // these are the cases where the node reads the value at more than one slot, mid-change.
    const x = new Value({ name: 'x' });
    const y = new Value({ name: 'y' });
    const s = new Node('Sum', [y, x, y, x], { outputs: ['s'] }); // added in slot order
    expect(x.uses).toEqual([{ node: s, index: 1 }, { node: s, index: 3 }]);
    const t = new Node('Relu', [y], { outputs: ['t'] });
    t.setInput(2, x); // a single use at slot 2 …
    expect(x.useCount).toBe(3);
    const z = new Value({ name: 'z' });
    const u = new Node('Add', [null, z], { outputs: ['u'] });
    expect(z._useAt(0)).toEqual({ node: u, index: 1 });
    u.setInput(0, z); // … then the same node reads it at an earlier slot too
    expect(z.uses).toEqual([{ node: u, index: 1 }, { node: u, index: 0 }]);
    u.setInput(1, null);
    expect(z.uses).toEqual([{ node: u, index: 0 }]);
    const w = new Value({ name: 'w' });
    const m = new Node('Mul', [w, null], { outputs: ['m'] });
    expect(w.hasUse(m, 0) && !w.hasUse(m, 1)).toBe(true);
    expect(() => w._removeUse(m, 1)).toThrow(/has no use/);
    m.setInput(1, w); // slot 1 after slot 0
    expect(w.uses.map((q) => q.index)).toEqual([0, 1]);
    // Back from two uses to one (the single-use form again), whichever stays, mid-change too.
    m.setInput(0, null);
    expect(w.uses).toEqual([{ node: m, index: 1 }]);
    expect(w.hasUse(m, 1) && !w.hasUse(m, 0)).toBe(true);
    m.setInput(0, w);
    m.setInputs([w, null, w]); // removes (m,0) and (m,1) in order, then adds (m,0) and (m,2)
    expect(w.uses).toEqual([{ node: m, index: 0 }, { node: m, index: 2 }]);
    m.truncateInputs(1);
    expect(w.uses).toEqual([{ node: m, index: 0 }]);
    w.replaceAllUsesWith(z);
    expect(m.inputs[0]).toBe(z);
    expect(w.useCount).toBe(0);
    const v = new Value({ name: 'v' });
    const n = new Node('Relu', [v], { outputs: ['n'] });
    const other = new Value({ name: 'o' });
    v.replaceAllUsesWith(other);
    expect(n.inputs[0]).toBe(other);
    expect(v.useCount).toBe(0);
    expect(other._useAt(0)).toEqual({ node: n, index: 0 });
  });

  it('replaceAllUsesWith refuses to retarget a graph output unless asked', () => {
    const { g, nodes } = chain(3);
    const last = nodes[2]!.output;
    const other = nodes[1]!.output;
    expect(() => last.replaceAllUsesWith(other)).toThrow(GraphError);
    expect(g.outputs[0]).toBe(last);
    last.replaceAllUsesWith(other, { outputs: true });
    expect(g.outputs[0]).toBe(other);
    expect(other.isGraphOutput).toBe(true);
    expect(last.isGraphOutput).toBe(false);
  });

  it('the empty graph-output list every value starts with is shared and stays empty', () => {
    // (NO_GRAPHS in core.ts: withOne and withoutOne never write it.)
    const { g, nodes } = chain(3);
    const fresh = new Value({ name: 'fresh' });
    const empty = fresh._outputOf;
    expect(nodes[0]!.output._outputOf).toBe(empty);
    const a = nodes[0]!.output;
    const b = nodes[1]!.output;
    g.addOutput(a);
    g.addOutput(a);
    g.setOutput(0, b);
    g.removeOutput(g.outputs.length - 1);
    g.removeOutput(g.outputs.length - 1);
    g.removeOutput(0);
    expect(g.outputs).toEqual([]);
    expect(a.isGraphOutput).toBe(false);
    expect(b.isGraphOutput).toBe(false);
    expect(empty).toEqual([]);
    expect(new Value({ name: 'later' })._outputOf).toEqual([]);
  });
});

describe('Node attributes', () => {
  it('read as a map: insertion order, a set of an existing name replaces it in place, removal, iteration unaffected by changes', () => {
    const n = new Node('Conv', [], { attributes: [Attribute.ints('kernel_shape', [3, 3]), Attribute.int('group', 1), Attribute.ints('pads', [1, 1, 1, 1])] });
    const a = n.attributes;
    expect(a.size).toBe(3);
    expect([...a.keys()]).toEqual(['kernel_shape', 'group', 'pads']);
    expect(a.get('group')?.asInt()).toBe(1);
    expect(a.has('strides')).toBe(false);
    expect(a.get('strides')).toBeUndefined();
    const seen: string[] = [];
    for (const [name, attr] of a) {
      seen.push(name);
      expect(attr.name).toBe(name);
      // changes while iterating: the iteration goes on over the attributes it started with
      n.setAttribute(Attribute.int('group', 2));
      n.setAttribute(Attribute.ints('strides', [2, 2]));
    }
    expect(seen).toEqual(['kernel_shape', 'group', 'pads']);
    expect([...n.attributes.keys()]).toEqual(['kernel_shape', 'group', 'pads', 'strides']);
    expect(n.getInt('group')).toBe(2);
    expect(n.removeAttribute('group')).toBe(true);
    expect(n.removeAttribute('group')).toBe(false);
    expect([...n.attributes.values()].map((x) => x.name)).toEqual(['kernel_shape', 'pads', 'strides']);
    const each: string[] = [];
    n.attributes.forEach((v, k, m) => {
      each.push(k);
      expect(m.get(k)).toBe(v);
    });
    expect(each).toEqual(['kernel_shape', 'pads', 'strides']);
    expect(new Map(n.attributes).get('pads')?.asInts()).toEqual([1, 1, 1, 1]);
    const bare = new Node('Relu', []);
    expect(bare.attributes.size).toBe(0);
    expect([...bare.attributes]).toEqual([]);
    expect(bare.removeAttribute('x')).toBe(false);
  });

  it('setting a GRAPH attribute makes the node the parent of its graph', () => {
    const body = new Graph({ name: 'body' });
    const n = new Node('If', [], { attributes: [Attribute.graph('then_branch', body)] });
    expect(body.parent).toBe(n);
    const other = new Graph({ name: 'other' });
    n.setAttribute(Attribute.graphs('branches', [other]));
    expect(other.parent).toBe(n);
  });
});

describe('mutation-safe node list', () => {
  it('visits nodes inserted after the cursor and skips removed ones', () => {
    const { g, nodes } = chain(4);
    const seen: string[] = [];
    for (const n of g) {
      seen.push(n.name);
      if (n.name === 'n0') {
        const extra = new Node('Identity', [n.output], { name: 'inserted', outputs: ['e'] });
        g.insertAfter(n, extra);
        g.remove(nodes[2]!); // unsafe removal of a later node
      }
      if (n.name === 'n1') g.remove(n);
    }
    expect(seen).toEqual(['n0', 'inserted', 'n1', 'n3']);
    expect(g.nodes.map((n) => n.name)).toEqual(['n0', 'inserted', 'n3']);
    expect(g.nodeCount).toBe(3);
  });

  it('goes on from the old place of the node it is parked on when that node moves, also in nested loops', () => {
    const { g, nodes } = chain(5);
    const seen: string[] = [];
    let moved = false;
    for (const n of g) {
      seen.push(n.name);
      if (n.name === 'n1' && !moved) {
        moved = true;
        // An inner loop runs to its end while the outer one is parked on n1.
        expect([...g].map((m) => m.name)).toEqual(['n0', 'n1', 'n2', 'n3', 'n4']);
        g.remove(n);
        g.append(n); // moved to the end while parked on it: visited again there
        g.remove(nodes[3]!);
        g.insertBefore(nodes[0]!, nodes[3]!); // moved behind the cursor: not visited again
      }
    }
    expect(seen).toEqual(['n0', 'n1', 'n2', 'n4', 'n1']);
    expect(g.nodes.map((n) => n.name)).toEqual(['n3', 'n0', 'n2', 'n4', 'n1']);
    expect(nodes[2]!.prev?.name).toBe('n0');
    expect(nodes[2]!.next?.name).toBe('n4');
    expect(nodes[1]!.next).toBe(null);
    expect(nodes[3]!.prev).toBe(null);
    expect(g.firstNode?.name).toBe('n3');
    expect(g.lastNode?.name).toBe('n1');
    // Moves with no loop running (a removed node has lost its inputs: nothing to sort by).
    g.remove(nodes[4]!);
    g.prepend(nodes[4]!);
    g.remove(nodes[0]!);
    g.insertAfter(nodes[2]!, nodes[0]!);
    expect(g.nodes.map((n) => n.name)).toEqual(['n4', 'n3', 'n2', 'n0', 'n1']);
    expect([...g.reversed()].map((n) => n.name)).toEqual(['n1', 'n0', 'n2', 'n3', 'n4']);
    expect(nodes[0]!.prev?.name).toBe('n2');
    expect(nodes[0]!.next?.name).toBe('n1');
    expect(g.nodeCount).toBe(5);
  });

  it('_follows(p, k) answers what a walk back of k steps over prev finds, also over the cells of nodes relinked while a loop ran', () => {
    const { g, nodes } = chain(6);
    for (const n of g) {
      if (n.name === 'n1') {
        // Relinked while the loop is parked: these nodes get cells of their own (not themselves).
        g.remove(n);
        g.append(n);
        g.remove(nodes[4]!);
        g.insertBefore(nodes[0]!, nodes[4]!);
      }
    }
    const order = g.nodes;
    expect(order.map((n) => n.name)).toEqual(['n4', 'n0', 'n2', 'n3', 'n5', 'n1']);
    const walk = (n: Node, p: Node, k: number): boolean => {
      let cur = n.prev;
      for (let i = 0; cur !== null && i < k; i++, cur = cur.prev) if (cur === p) return true;
      return false;
    };
    for (const n of order) for (const p of order) for (const k of [0, 1, 2, 64]) expect(n._follows(p, k)).toBe(walk(n, p, k));
    const removed = order[2]!;
    g.remove(removed);
    for (const n of g.nodes) expect(n._follows(removed, 64)).toBe(false);
  });

  it('remove({safe}) checks every node first and changes nothing on failure', () => {
    const { g, nodes } = chain(3);
    expect(() => g.remove([nodes[0]!], { safe: true })).toThrow(/used by Relu 'n1'/);
    expect(g.nodeCount).toBe(3);
    expect(nodes[0]!.inputs[0]!.uses).toHaveLength(1);
    expect(() => g.remove([nodes[2]!], { safe: true })).toThrow(/graph output/);
    g.remove([nodes[1]!, nodes[0]!].slice(0, 1).concat([]), {}); // unsafe: leaves a dangling use
    expect(verifyErrors(g).map((d) => d.code)).toContain('I4-topological-order');
  });

  it('insertBefore / prepend / next / prev', () => {
    const { g, nodes } = chain(2);
    const a = new Node('Identity', [], { name: 'a', outputs: ['ao'] });
    const b = new Node('Identity', [], { name: 'b', outputs: ['bo'] });
    g.prepend(a);
    g.insertBefore(nodes[1]!, b);
    expect(g.nodes.map((n) => n.name)).toEqual(['a', 'n0', 'b', 'n1']);
    expect(nodes[0]!.next).toBe(b);
    expect(b.prev).toBe(nodes[0]);
    expect(() => g.append(a)).toThrow(/already belongs/);
  });
});

/** The outer graph of the capture tests: inputs x: float[2] and cond: bool, and y = neg(x). */
function outerNeg() {
  const b = new GraphBuilder({ name: 'outer' });
  const x = b.input('x', DataType.FLOAT, [2]);
  const cond = b.input('cond', DataType.BOOL, []);
  const y = b.op('Neg', [x], {}, { name: 'neg' });
  return { b, x, cond, y };
}

describe('topological sort', () => {
  it('is stable and restores order', () => {
    const { g, nodes } = chain(4);
    const side = new Node('Neg', [nodes[0]!.output], { name: 'side', outputs: ['s'] });
    g.prepend(side); // out of order: reads v0 before n0
    expect(verifyErrors(g).some((d) => d.code === 'I4-topological-order')).toBe(true);
    g.sort();
    expect(g.nodes.map((n) => n.name)).toEqual(['n0', 'side', 'n1', 'n2', 'n3']);
    expect(verifyErrors(g)).toEqual([]);
  });

  it('raises on a cycle naming a node', () => {
    const a = new Value({ name: 'a' });
    const n1 = new Node('Relu', [a], { name: 'n1', outputs: ['b'] });
    const n2 = new Node('Relu', [n1.output], { name: 'n2', outputs: ['c'] });
    n1.setInput(0, n2.output);
    const g = new Graph({ inputs: [a], nodes: [n1, n2] });
    expect(() => g.sort()).toThrow(/cycle/);
  });

  it('counts values captured by subgraphs as dependencies', () => {
    const { b, x, cond, y } = outerNeg();
    const t = new Node('Identity', [y], { name: 'captures', outputs: ['ty'] });
    const then = new Graph({ name: 'then', nodes: [t], outputs: [t.output] });
    const e = new Node('Identity', [x], { name: 'e', outputs: ['ey'] });
    const els = new Graph({ name: 'else', nodes: [e], outputs: [e.output] });
    // the If comes before the node whose output it captures
    const ifNode = new Node('If', [cond], { name: 'if', attributes: [Attribute.graph('then_branch', then), Attribute.graph('else_branch', els)], outputs: ['out'] });
    b.graph.prepend(ifNode);
    b.output(ifNode.output);
    expect(verifyErrors(b.graph).length).toBeGreaterThan(0);
    b.graph.sort();
    expect(b.graph.nodes.map((n) => n.name)).toEqual(['neg', 'if']);
    expect(verifyErrors(b.build())).toEqual([]);
  });
});

describe('Graph.remove and subgraph captures', () => {
  /** x → neg → y; an If whose branches read y (a node input) and x (a branch output). */
  function capturing() {
    const { b, x, cond, y } = outerNeg();
    const deep = new Node('Identity', [y], { name: 'deep', outputs: ['dy'] });
    const inner = new Graph({ name: 'inner', nodes: [deep], outputs: [deep.output] });
    const loopish = new Node('If', [cond], { name: 'nested', attributes: [Attribute.graph('then_branch', inner), Attribute.graph('else_branch', new Graph({ outputs: [y] }))], outputs: ['ny'] });
    const then = new Graph({ name: 'then', nodes: [loopish], outputs: [loopish.output] });
    const els = new Graph({ name: 'else', outputs: [x] });
    const ifNode = b.node('If', [cond], { then_branch: then, else_branch: els }, { name: 'if' });
    b.output(y, 'y');
    return { b, x, y, ifNode, then, els };
  }

  it('removing a node releases the uses its subgraphs made of outer values, at any depth', () => {
    const { b, x, y, ifNode } = capturing();
    expect(y.uses.map((u) => u.node.name)).toEqual(['deep']);
    expect(y._outputOf.length).toBe(2); // the main graph and the nested else branch
    expect(x._outputOf.length).toBe(1); // the else branch
    b.graph.remove(ifNode, { safe: true });
    expect(y.uses).toEqual([]);
    expect(y._outputOf).toEqual([b.graph]);
    expect(x.isGraphOutput).toBe(false);
    expect(x.uses.map((u) => u.node.name)).toEqual(['neg']);
    expect(verifyErrors(b.build())).toEqual([]);
  });

  // The rewrite session removes one node at a time unchecked (Graph.remove's one-node path, after
  // checking the patch itself): that path must release the captures too, as must an unchecked list.
  it.each([
    ['one node, unchecked (the rewrite session\'s path)', (g: Graph, n: Node) => g.remove(n)],
    ['a list, unchecked', (g: Graph, n: Node) => g.remove([n])],
  ] as const)('removing %s releases the uses its subgraphs made of outer values', (_path, remove) => {
    const { b, x, y, ifNode, then } = capturing();
    remove(b.graph, ifNode);
    expect(ifNode.graph).toBeNull();
    expect(then.nodeCount).toBe(0);
    expect(y.uses).toEqual([]);
    expect(y._outputOf).toEqual([b.graph]);
    expect(x.isGraphOutput).toBe(false);
    expect(x.uses.map((u) => u.node.name)).toEqual(['neg']);
    expect(verifyErrors(b.build())).toEqual([]);
  });

  it('verify reports a capture held by a subgraph of a node that is in no graph (I12)', () => {
    const b = new GraphBuilder({ name: 'outer' });
    const x = b.input('x', DataType.FLOAT, [2]);
    b.output(b.op('Relu', [x], {}, { name: 'relu' }), 'y');
    const inner = new Node('Identity', [x], { name: 'inner', outputs: ['ix'] });
    const body = new Graph({ name: 'body', nodes: [inner], outputs: [inner.output] });
    // An If built but never added (what a removal that left its subgraphs alone looked like).
    new Node('If', [], { name: 'orphan', attributes: [Attribute.graph('then_branch', body)], outputs: ['o'] });
    const d = verify(b.build()).filter((x) => x.code === 'I12-detached-uses');
    expect(d.map((x) => x.message)).toEqual([expect.stringContaining("inside a subgraph of If 'orphan'")]);
  });

  it('verify notes whether a node holds a subgraph (options.noted), for the pass manager', () => {
    const plain = outerNeg();
    plain.b.output(plain.y, 'y');
    const noted = { subgraphs: true };
    expect(verify(plain.b.build(), { noted })).toEqual([]);
    expect(noted.subgraphs).toBe(false);
    const { b } = capturing();
    const m = b.build();
    verify(m, { noted });
    expect(noted.subgraphs).toBe(true);
    // Also on a graph target, and with diagnostics.
    noted.subgraphs = true;
    const g = outerNeg().b.build().graph;
    g.append(new Node('Foo', [], { domain: 'com.example', outputs: ['f'] }));
    verify(g, { noted });
    expect(noted.subgraphs).toBe(false);
  });

  it('a refused safe removal leaves the subgraphs untouched', () => {
    const { b, y, then } = capturing();
    const neg = y.producer!;
    expect(() => b.graph.remove(neg, { safe: true })).toThrow(/graph output|used by/);
    expect(then.nodeCount).toBe(1);
    expect(y.uses.map((u) => u.node.name)).toEqual(['deep']);
  });
});

describe('verify()', () => {
  it('reports broken invariants instead of throwing', () => {
    const b = new GraphBuilder();
    const x = b.input('x', DataType.FLOAT, [1]);
    const y = b.op('Relu', [x], {}, { name: 'r' });
    b.output(y);
    const m = b.build();
    expect(verify(m)).toEqual([]);
    // duplicate name
    const dup = new Node('Neg', [x], { name: 'dup', outputs: [y.name] });
    m.graph.append(dup);
    // reference attribute in main graph
    dup.setAttribute(Attribute.ref('alpha', 1, 'a'));
    // initializer with mismatching declared type
    const w = m.graph.initializer(Tensor.fromNumbers(DataType.FLOAT, [2], [1, 2]), 'w');
    w.type = { kind: 'tensor', elemType: DataType.INT64, shape: [2] };
    // domain without opset import
    m.graph.append(new Node('Foo', [x], { domain: 'com.example', name: 'foo', outputs: ['f'] }));
    const codes = verify(m).map((d) => d.code);
    expect(codes).toEqual(expect.arrayContaining(['I5-unique-names', 'I11-attributes', 'I6-initializers', 'I10-opset-imports']));
  });

  it('flags an omitted output that is used', () => {
    const x = new Value({ name: 'x' });
    const bn = new Node('Dropout', [x], { outputs: ['y', ''] });
    const g = new Graph({ inputs: [x], nodes: [bn] });
    g.append(new Node('Relu', [bn.outputs[1]!], { outputs: ['z'] }));
    expect(verify(g).map((d) => d.code)).toContain('I8-omitted-outputs');
  });
});

/** 16 bytes 0…15 behind a lazy source that counts whole reads and bytes read positionally. */
function countingBytes() {
  const all = new Uint8Array(Array.from({ length: 16 }, (_, i) => i));
  const counts = { full: 0, partial: 0 };
  const src = {
    byteLength: 16,
    description: 'test',
    read: () => (counts.full++, all.slice()),
    readInto: (target: Uint8Array, offset: number, length: number) => ((counts.partial += length), target.set(all.subarray(offset, offset + length))),
  };
  return { all, src, counts };
}

describe('Tensor', () => {
  it('tensors of one shape share one frozen dims array; other shapes and ranks never do', () => {
    const a = Tensor.fromArray(DataType.FLOAT, [16, 16], new Float32Array(256));
    const b = Tensor.fromArray(DataType.FLOAT, [16, 16], new Float32Array(256));
    expect(b.dims).toBe(a.dims);
    expect(Object.isFrozen(a.dims)).toBe(true);
    const caller = [2, 3, 4];
    const c = Tensor.fromArray(DataType.FLOAT, caller, new Float32Array(24));
    caller[0] = 9; // the tensor keeps its own copy
    expect(c.dims).toEqual([2, 3, 4]);
    expect(Tensor.fromArray(DataType.FLOAT, [2, 3, 4], new Float32Array(24)).dims).toBe(c.dims);
    // [5], [0, 5] and [5, 0] (keys of rank 1 and 2 must not collide), a scalar, a rank-9 shape.
    const shapes = [[5], [0, 5], [5, 0], [], [1, 1, 1, 1, 1, 1, 1, 1, 5]];
    const dims = shapes.map((s) => Tensor.fromArray(DataType.FLOAT, s, new Float32Array(s.reduce((x, y) => x * y, 1))).dims);
    expect(dims).toEqual(shapes);
    expect(new Set(dims).size).toBe(shapes.length);
  });

  it('is zero-copy over raw bytes and aligned-copies when needed', () => {
    const buf = new Uint8Array(13);
    const f = new Float32Array([1.5, -2, 3]);
    buf.set(new Uint8Array(f.buffer), 1);
    const t = Tensor.fromBytes(DataType.FLOAT, [3], buf.subarray(1, 13));
    expect(t.bytes().buffer).toBe(buf.buffer);
    expect(Array.from(t.toArray() as Float32Array)).toEqual([1.5, -2, 3]);
    expect(t.byteLength).toBe(12);
    expect(() => Tensor.fromBytes(DataType.FLOAT, [4], buf.subarray(1, 13))).toThrow(/needs 16 bytes/);
  });

  it('a slab tensor is its range of a shared buffer, through bytes, with, reshape, copyTo and _rebase', () => {
    const slab = new Uint8Array(32);
    slab.set(new Uint8Array(new Float32Array([1.5, -2, 3, 4]).buffer), 8);
    const t = Tensor._fromSlab(DataType.FLOAT, [4], slab, 8, { name: 't' });
    expect(t.bytes().buffer).toBe(slab.buffer); // zero-copy: a view made on each call
    expect([t.bytes().byteOffset, t.bytes().byteLength, t.byteLength]).toEqual([8, 16, 16]);
    expect(Array.from(t.toArray() as Float32Array)).toEqual([1.5, -2, 3, 4]);
    expect(Array.from(t.bytesAt(4, 4))).toEqual(Array.from(slab.subarray(12, 16)));
    expect(Array.from(t.with({ name: 'u' }).toArray() as Float32Array)).toEqual([1.5, -2, 3, 4]);
    expect(Array.from(t.reshape([2, 2]).toFloat64())).toEqual([1.5, -2, 3, 4]);
    const out = new Uint8Array(16);
    t.copyTo(out);
    expect(Array.from(out)).toEqual(Array.from(slab.subarray(8, 24)));
    expect(() => Tensor._fromSlab(DataType.FLOAT, [4], slab, 24)).toThrow(/needs 16 bytes at 24, outside a slab of 32/);
    expect(() => Tensor._fromSlab(DataType.FLOAT, [4], slab, -1)).toThrow(/outside a slab/);
    // A slab tensor moved elsewhere (a view of its own, or another slab), and back.
    const own = new Uint8Array(t.bytes());
    t._rebase(own);
    expect(t.bytes()).toBe(own);
    const other = new Uint8Array(24);
    other.set(own, 8);
    t._rebase(other, 8);
    expect(t.bytes().buffer).toBe(other.buffer);
    expect(Array.from(t.toFloat64())).toEqual([1.5, -2, 3, 4]);
    expect(() => t._rebase(other, 16)).toThrow(/_rebase needs a raw payload of 16 bytes/);
    expect(() => t._rebase(new Uint8Array(15))).toThrow(/_rebase needs a raw payload of 16 bytes/);
  });

  it('copies a misaligned Node Buffer view instead of re-viewing it', () => {
    const buf = Buffer.alloc(9);
    buf.writeFloatLE(2.5, 1);
    buf.writeFloatLE(-1, 5);
    const t = Tensor.fromBytes(DataType.FLOAT, [2], buf.subarray(1, 9));
    expect(Array.from(t.toArray() as Float32Array)).toEqual([2.5, -1]);
  });

  it('an in-memory source is not lazy: no I/O, printed as data', () => {
    let reads = 0;
    const bytes = new Uint8Array(new Float32Array([1, 2]).buffer);
    const src = { byteLength: 8, description: 'derived', inMemory: true, read: () => (reads++, bytes) };
    const t = Tensor.lazy(DataType.FLOAT, [2], src);
    expect(t.isLazy).toBe(false);
    expect(t.source).toBe(src);
    expect(Array.from(t.toFloat64())).toEqual([1, 2]);
    expect(reads).toBe(1);
    const onDisk = Tensor.lazy(DataType.FLOAT, [2], { byteLength: 8, description: 'disk', read: () => bytes });
    expect(onDisk.isLazy).toBe(true);
  });

  it('reads lazy sources on each call and checks their length', () => {
    let reads = 0;
    const src = { byteLength: 8, description: 'test', read: () => (reads++, new Uint8Array(new Float32Array([1, 2]).buffer)) };
    const t = Tensor.lazy(DataType.FLOAT, [2], src);
    expect(t.isLazy).toBe(true);
    expect(t.byteLength).toBe(8);
    expect(reads).toBe(0);
    expect(Array.from(t.toFloat64())).toEqual([1, 2]);
    t.toFloat64();
    expect(reads).toBe(2);
    const bad = Tensor.lazy(DataType.FLOAT, [2], { ...src, read: () => new Uint8Array(4) });
    expect(() => bad.bytes()).toThrow(/yielded 4 bytes/);
  });

  it('bytesAt reads only the range from sources that can, and checks bounds', () => {
    const { all, src, counts } = countingBytes();
    const t = Tensor.lazy(DataType.FLOAT, [4], src);
    expect(Array.from(t.bytesAt(4, 3))).toEqual([4, 5, 6]);
    expect([counts.full, counts.partial]).toEqual([0, 3]);
    const { readInto: _, ...plain } = src;
    expect(Array.from(Tensor.lazy(DataType.FLOAT, [4], plain).bytesAt(12, 4))).toEqual([12, 13, 14, 15]);
    expect(counts.full).toBe(1); // no readInto: the whole payload, sliced
    const mem = Tensor.fromBytes(DataType.FLOAT, [4], all);
    expect(mem.bytesAt(8, 8).buffer).toBe(all.buffer); // a view, no copy
    expect(() => t.bytesAt(10, 7)).toThrow(/byte range \[10, 17\) is outside its 16 bytes/);
    expect(() => t.bytesAt(-1, 1)).toThrow(/outside/);
  });

  it('copyTo reads a positional source straight into the target, copies the rest, and checks the size', () => {
    const { all, src, counts } = countingBytes();
    const out = new Uint8Array(16);
    Tensor.lazy(DataType.FLOAT, [4], src).copyTo(out);
    expect(Array.from(out)).toEqual(Array.from(all));
    expect([counts.full, counts.partial]).toEqual([0, 16]);
    const { readInto: _, ...plain } = src;
    const viaRead = new Uint8Array(16);
    Tensor.lazy(DataType.FLOAT, [4], plain).copyTo(viaRead);
    expect(Array.from(viaRead)).toEqual(Array.from(all));
    expect(counts.full).toBe(1);
    const inMemory = new Uint8Array(16);
    Tensor.fromBytes(DataType.FLOAT, [4], all).copyTo(inMemory);
    expect(Array.from(inMemory)).toEqual(Array.from(all));
    expect(() => Tensor.fromBytes(DataType.FLOAT, [4], all).copyTo(new Uint8Array(15))).toThrow(/copyTo needs a target of 16 bytes, got 15/);
  });

  it('builds complex tensors from interleaved parts', () => {
    const t = Tensor.fromNumbers(DataType.COMPLEX64, [2], [1, -2, 3.5, 0]);
    expect(t.byteLength).toBe(16);
    expect(Array.from(t.toFloat64())).toEqual([1, -2, 3.5, 0]);
  });

  it('packs int4 two per byte and round-trips through numbers', () => {
    const t = Tensor.fromNumbers(DataType.INT4, [5], [-8, 7, -1, 0, 3]);
    expect(t.byteLength).toBe(3);
    expect(Array.from(t.bytes())).toEqual([0x78, 0x0f, 0x03]);
    expect(Array.from(t.toFloat64())).toEqual([-8, 7, -1, 0, 3]);
  });
});

describe('builder, printer, clone and diff', () => {
  function small() {
    const b = new GraphBuilder({ name: 'small', opset: 13 });
    const x = b.input('x', DataType.FLOAT, ['N', 4]);
    const w = b.floats('w', [4, 2], [1, 2, 3, 4, 5, 6, 7, 8]);
    const y = b.op('MatMul', [x, w]);
    const z = b.op('LeakyRelu', [y], { alpha: Attribute.float('alpha', 0.2) });
    b.output(z, 'z');
    return b.build({ producerName: 'test' });
  }

  it('prints deterministically', () => {
    const a = printModel(small());
    const b = printModel(small());
    expect(a).toBe(b);
    expect(a).toContain('%MatMul_output_0 = MatMul(%x, %w)');
    expect(a).toContain('LeakyRelu<alpha=0.2>');
    expect(a).toContain('%x: float[N,4]');
  });

  it('clones deeply and diffs semantically', () => {
    const m = small();
    const c = cloneModel(m);
    expect(diffModels(m, c)).toEqual([]);
    expect(verifyErrors(c)).toEqual([]);
    expect(c.graph.inputs[0]).not.toBe(m.graph.inputs[0]);
    const node = c.graph.nodes[1]!;
    node.setAttribute(Attribute.float('alpha', 0.3));
    c.graph.initializers.get('w')!.constValue = Tensor.fromNumbers(DataType.FLOAT, [4, 2], [1, 2, 3, 4, 5, 6, 7, 9]);
    const d = diffModels(m, c);
    expect(d.some((s) => s.includes('alpha'))).toBe(true);
    expect(d.some((s) => s.includes('data differs'))).toBe(true);
    // original untouched
    expect(m.graph.nodes[1]!.getFloat('alpha')).toBeCloseTo(0.2);
  });

  // cloneModel gave a value read before its producer (an invalid model: a cycle, a node reading its
  // own output) a placeholder, and the producer's copy another value: batch/report/demo --optimize,
  // which verify a clone, said "reads 'b', which is defined nowhere in scope" of a value node B
  // defines, where optimize (the original) said "reads 'b' before Relu 'B' produces it".
  it('clones a value read before its producer as the producer\'s output, so the copy says what the original says', () => {
    const { g, x, nodes } = chain(2);
    const add = new Node('Add', [x, x], { name: 'A', outputs: ['a'] });
    g.insertBefore(nodes[0]!, add);
    add.setInput(1, nodes[1]!.output); // A reads v1, which n1 (after it) produces: out of order
    const self = new Node('Relu', [x], { name: 'self', outputs: ['s'] });
    g.append(self);
    self.setInput(0, self.output);
    const b = new GraphBuilder({ opset: 17 });
    const m = b.build();
    m.graph = g;
    const c = cloneModel(m);
    const messages = (model: typeof m) => verifyErrors(model).map((d) => d.message);
    expect(messages(c)).toEqual(messages(m));
    expect(messages(c).join('\n')).toContain("Add 'A' reads 'v1' before Relu 'n1' produces it");
    // (self reads its own output: a cycle of one, named as such since verify() tells cycles apart)
    expect(messages(c).join('\n')).toContain("Relu 'self' reads 's' on a cycle: Relu 'self' → Relu 'self' (it reads its own output");
    const [ca, cn1, cself] = [c.graph.nodes.find((n) => n.name === 'A')!, c.graph.nodes.find((n) => n.name === 'n1')!, c.graph.nodes.find((n) => n.name === 'self')!];
    expect(ca.inputs[1]).toBe(cn1.output);
    expect(cself.inputs[0]).toBe(cself.output);
    expect(cn1.output).not.toBe(nodes[1]!.output);
  });

  it('drops trailing omitted inputs but keeps inner ones', () => {
    const b = new GraphBuilder();
    const x = b.input('x', DataType.FLOAT, [1, 1, 4, 4]);
    const w = b.floats('w', [1, 1, 1, 1], [1]);
    expect(b.node('Conv', [x, w, null]).inputs).toEqual([x, w]);
    expect(b.node('Clip', [x, undefined, w]).inputs).toEqual([x, null, w]);
  });

  it('infers attribute types from JS types (never from values) and keeps int64 exact', () => {
    const b = new GraphBuilder();
    const x = b.input('x', DataType.FLOAT, [4]);
    const n = b.node('Slice', [x], { starts: [0], ends: [9223372036854775807n], f: Attribute.float('f', 1.5), one: 1, s: 'abc' });
    expect(n.attr('ends')!.value).toEqual([9223372036854775807n]);
    expect(n.getInts('ends')).toEqual([Number.MAX_SAFE_INTEGER]);
    expect(n.getFloat('f')).toBe(1.5);
    expect(n.attr('one')!.type).toBe(AttributeType.INT);
    expect(n.getString('s')).toBe('abc');
    expect(() => Attribute.int('i', 2 ** 60)).toThrow(/not an int64/);
    // A bare non-integer would have to be guessed as FLOAT while 1.0 would be INT: refused.
    expect(() => b.node('LeakyRelu', [x], { alpha: 0.5 })).toThrow(/Attribute\.float\('alpha', 0\.5\)/);
    expect(() => b.node('Resize', [x], { scales: [1, 1.5] })).toThrow(/not an integer/);
  });

  it('keeps FLOAT 1.0 and INT 1 apart: the value must be what the type holds', () => {
    const f = Attribute.float('alpha', 1);
    const i = Attribute.int('alpha', 1);
    expect(f.type).toBe(AttributeType.FLOAT);
    expect(f.value).toBe(1);
    expect(i.value).toBe(1n);
    expect(() => f.asInt()).toThrow(/is FLOAT, not INT/);
    expect(() => i.asFloat()).toThrow(/is INT, not FLOAT/);
    expect(() => new Attribute('alpha', AttributeType.FLOAT, 1n)).toThrow(/FLOAT needs a number, got bigint 1/);
    expect(() => new Attribute('axis', AttributeType.INT, 1)).toThrow(/INT needs a bigint, got number 1/);
    expect(() => new Attribute('pads', AttributeType.INTS, [1, 2])).toThrow(/INTS needs an array of bigints/);
    expect(() => new Attribute('x', 99 as AttributeType, 1)).toThrow(/not an attribute type/);
    // Narrowing on type gives the value its type without casts.
    const a: Attribute = f;
    if (!a.isRef && a.type === AttributeType.FLOAT) expect(a.value.toFixed(1)).toBe('1.0');
    expect(toAttribute('alpha', f)).toBe(f);
    expect(toAttribute('beta', f).type).toBe(AttributeType.FLOAT);
    const r = Attribute.ref('alpha', AttributeType.FLOAT, 'outer_alpha');
    expect(r.isRef).toBe(true);
    expect(r.value).toBeNull();
  });
});
