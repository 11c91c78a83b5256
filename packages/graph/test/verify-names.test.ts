// verify()'s first run keeps its SSA name table in an Int32Array (src/name-table.ts, shared with
// the importer's decoder), sized from the graph's counts. These graphs exercise what a valid chain
// never does: the table growing past its first size (nodes with many outputs), names whose hashes
// collide until a probe gives up (the table's overflow map then holds them, with the same
// verdicts), and a duplicate found late.
import { describe, expect, it } from 'vitest';
import type { Model, Value } from '@onnxkit/graph';
import { DataType, Graph, GraphBuilder, Node, verify } from '@onnxkit/graph';
import { nameHash, slotHash } from '../src/name-table.js';

/** `nodes` Split nodes of `width` outputs each, named by `name(node, k)`; a Sum reads one output of every node. */
function fan(nodes: number, width: number, name: (node: number, k: number) => string): Model {
  const b = new GraphBuilder({ name: 'g', opset: 17 });
  let x: Value = b.input('x', DataType.FLOAT, [width * 4]);
  const firsts: Value[] = [];
  for (let i = 0; i < nodes; i++) {
    const outs = b.opN('Split', [x], width, { axis: 0, num_outputs: width }, { name: `s${i}` });
    outs.forEach((o, k) => (o.name = name(i, k)));
    firsts.push(outs[width - 1]!);
    x = b.op('Concat', outs, { axis: 0 }, { name: `c${i}` });
  }
  b.output(b.op('Sum', firsts, {}, { name: 'sum' }), 'y');
  return b.build();
}

/** `count` distinct names whose hashes agree in their low 8 bits: one probe chain in a table of up to 256 slots (the tests' graphs). */
function collidingNames(count: number): string[] {
  const out: string[] = [];
  const slot = (name: string): number => slotHash(nameHash(name)) & 0xff;
  const want = slot('v0');
  for (let i = 0; out.length < count; i++) if (slot(`v${i}`) === want) out.push(`v${i}`);
  return out;
}

describe('verify() name table', () => {
  it('accepts a graph whose definitions outgrow the first table size, and reads far back', () => {
    const m = fan(20, 50, (i, k) => `s${i}_${k}`);
    expect(verify(m)).toEqual([]);
  });

  it('reports a name defined twice far apart, message for message', () => {
    const m = fan(20, 50, (i, k) => `s${i}_${k}`);
    m.graph.nodes[38]!.outputs[7]!.name = 's0_3';
    expect(verify(m).map((d) => [d.code, d.message])).toEqual([
      ['I5-unique-names', "name 's0_3' is defined twice in graph 'g' (output of Split 's19')"],
    ]);
  });

  it('gives the same verdicts when the names collide past the longest probe', () => {
    const names = collidingNames(100);
    expect(new Set(names).size).toBe(100);
    const m = fan(1, 100, (_, k) => names[k]!);
    expect(verify(m)).toEqual([]);
    // A read before its definition is still caught with colliding names.
    const sum = m.graph.nodes[2]!;
    m.graph.nodes[0]!.setInput(0, sum.output);
    expect(verify(m).map((d) => d.code)).toEqual(['I4-topological-order']);
    const dup = fan(1, 100, (_, k) => names[k]!);
    // names[80] is past the longest probe: the overflow map finds it again at output 90.
    dup.graph.nodes[0]!.outputs[90]!.name = names[80]!;
    expect(verify(dup).map((d) => [d.code, d.message])).toEqual([
      ['I5-unique-names', `name '${names[80]}' is defined twice in graph 'g' (output of Split 's0')`],
    ]);
  });
  // verify() files definitions in batches of 64 (Verifier.graph's `file`) and files the pending
  // ones before any lookup: a read a few nodes back, within a batch, across batches, from the
  // graph outputs and around a subgraph must give the verdicts of one-by-one filing.
  it('gives the same verdicts around its batches of definitions', () => {
    /** A chain of `n` Relu nodes r0..r(n-1) where node i also reads the output of node i - back (an Add). */
    const chain = (n: number, back: number): Model => {
      const b = new GraphBuilder({ name: 'g', opset: 17 });
      const outs: Value[] = [b.input('x', DataType.FLOAT, [4])];
      for (let i = 0; i < n; i++) {
        const prev = outs[outs.length - 1]!;
        const far = outs[Math.max(0, outs.length - back)]!;
        outs.push(i % 2 === 1 && back > 1 ? b.op('Add', [prev, far], {}, { name: `a${i}` }) : b.op('Relu', [prev], {}, { name: `r${i}` }));
      }
      b.output(outs[outs.length - 1]!, 'y');
      b.output(outs[3]!, 'early');
      return b.build();
    };
    for (const n of [10, 63, 64, 65, 200]) {
      for (const back of [2, 5, 70]) {
        expect(verify(chain(n, back))).toEqual([]);
        // A duplicate name inside the first batch, and one across batches.
        const near = chain(n, back);
        near.graph.nodes[5]!.output.name = near.graph.nodes[2]!.output.name;
        expect(verify(near).map((d) => d.code)).toEqual(['I5-unique-names']);
        const far = chain(n, back);
        far.graph.nodes[n - 1]!.output.name = far.graph.nodes[0]!.output.name;
        expect(verify(far).map((d) => d.code)).toEqual(['I5-unique-names']);
        // A read of a value defined later (within the pending batch) is still caught.
        const early = chain(n, back);
        early.graph.nodes[1]!.setInput(0, early.graph.nodes[3]!.output);
        expect(verify(early).map((d) => d.code)).toContain('I4-topological-order');
      }
    }
  });

  it('files the pending definitions before walking a subgraph that reads them', () => {
    const b = new GraphBuilder({ name: 'g', opset: 17 });
    const x = b.input('x', DataType.FLOAT, [4]);
    const cond = b.input('c', DataType.BOOL, []);
    const r = [b.op('Relu', [x], {}, { name: 'r0' })];
    for (let i = 1; i < 5; i++) r.push(b.op('Relu', [r[i - 1]!], {}, { name: `r${i}` }));
    // Each branch reads r1 and r3 of the outer graph (defined before the If, still pending in its batch).
    const branch = (tag: string): Graph => {
      const g = new Graph({ name: tag });
      const add = new Node('Add', [r[1]!, r[3]!], { name: `${tag}_add`, outputs: [`${tag}_y`] });
      g.append(add);
      g.addOutput(add.output);
      return g;
    };
    const y = b.op('If', [cond], { then_branch: branch('t'), else_branch: branch('e') }, { name: 'if' });
    const z = b.op('Add', [y, r[2]!], {}, { name: 'after' });
    b.output(z, 'z');
    expect(verify(b.build())).toEqual([]);
  });
});
