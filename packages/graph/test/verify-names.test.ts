// verify()'s first run keeps its SSA name table in an Int32Array (src/name-table.ts, shared with
// the importer's decoder), sized from the graph's counts. These graphs exercise what a valid chain
// never does: the table growing past its first size (nodes with many outputs), names whose hashes
// collide until a probe gives up (the table's overflow map then holds them, with the same
// verdicts), and a duplicate found late.
import { describe, expect, it } from 'vitest';
import type { Model, Value } from '@onnxkit/graph';
import { DataType, GraphBuilder, verify } from '@onnxkit/graph';
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
});
