import { join } from 'node:path';
import { load } from '@onnxkit/importer';
import { buildZooModel } from '@onnxkit/zoo';
import { describe, expect, it } from 'vitest';
import { opHistogram } from '../src/commands/optimize.js';
import type { Model } from '@onnxkit/graph';

const ROOT = join(import.meta.dirname, '../../..');

/** The histogram as Model.graphs() defines the nodes counted: every graph, every node. */
function reference(m: Model): Record<string, number> {
  const h: Record<string, number> = {};
  for (const g of m.graphs()) for (const n of g) h[n.opType] = (h[n.opType] ?? 0) + 1;
  return h;
}

describe('opHistogram', () => {
  it('counts the nodes of every graph Model.graphs() yields, subgraphs included, most frequent first', () => {
    const m = load(join(ROOT, 'fixtures/loop_if/model.onnx'));
    expect([...m.graphs()].length).toBeGreaterThan(1);
    // Model.forEachGraph (the cursor walk opHistogram uses) visits graphs() in its order.
    const visited: unknown[] = [];
    m.forEachGraph((g) => visited.push(g));
    const graphs = [...m.graphs()];
    expect(visited.length).toBe(graphs.length);
    graphs.forEach((g, i) => expect(visited[i]).toBe(g));
    // Model.forEachNode (what opHistogram counts with) visits each node of graphs() once, with its graph.
    const met = new Map<unknown, unknown>();
    m.forEachNode((n, g) => {
      expect(met.has(n)).toBe(false);
      met.set(n, g);
    });
    const all = graphs.flatMap((g) => [...g].map((n) => [n, g] as const));
    expect(met.size).toBe(all.length);
    for (const [n, g] of all) expect(met.get(n)).toBe(g);
    const h = opHistogram(m);
    expect(h).toEqual(reference(m));
    expect(Object.keys(h).includes('If') || Object.keys(h).includes('Loop')).toBe(true);
    const counts = Object.values(h);
    expect(counts).toEqual([...counts].sort((a, b) => b - a));
  });

  it('matches on a zoo model', () => {
    const m = buildZooModel('mobilenetv2');
    expect(opHistogram(m)).toEqual(reference(m));
  });
});
