/**
 * The facts shape inference takes from a value's declared type, when values share one type object
 * (the decoder gives values of identical types one object): the same facts for each, symbols bound
 * by `dimValues` substituted, and each value of a type that cannot be used reported on its own.
 */
import { describe, expect, it } from 'vitest';
import { DataType, GraphBuilder, type Model, type TypeInfo, type Value } from '@onnxkit/graph';
import { analyzeModel, inferShapes } from '../../src/analysis/index.js';

const F = DataType.FLOAT;

/** x → Relu × 4 (the last output named y), every output declared with `type` (one object). */
function chain(type: TypeInfo): { m: Model; outs: Value[] } {
  const b = new GraphBuilder({ name: 'g', opset: 17 });
  let x = b.input('x', F, null);
  const outs: Value[] = [];
  for (let i = 0; i < 4; i++) {
    x = b.op('Relu', [x], {}, { name: `r${i}` });
    x.type = type;
    outs.push(x);
  }
  b.output(x, 'y');
  return { m: b.build(), outs };
}

describe('declared types shared by values', () => {
  it('give each value the same facts', () => {
    const { m, outs } = chain({ kind: 'tensor', elemType: F, shape: [2, 'S'] });
    const inf = inferShapes(m);
    for (const v of outs) expect(inf.shapeOf(v)).toEqual([2, 'S']);
    expect(new Set(outs.map((v) => inf.shapeOf(v))).size).toBe(1);
  });

  it('with a symbol bound, give the bound dim', () => {
    const { m, outs } = chain({ kind: 'tensor', elemType: F, shape: [2, 'S'] });
    const inf = inferShapes(m, { dimValues: { S: 3 } });
    for (const v of outs) expect(inf.shapeOf(v)).toEqual([2, 3]);
  });

  it('report each value of an unusable type', () => {
    const { m } = chain({ kind: 'tensor', elemType: 99 as DataType, shape: [2] });
    const d = inferShapes(m).diagnostics.filter((x) => x.code === 'unknown-dtype');
    expect(d.map((x) => x.message.slice(0, 6))).toEqual(["'r0_ou", "'r1_ou", "'r2_ou", "'y' is"]);
    const { m: deep } = chain({ kind: 'tensor', elemType: F, shape: new Array<number>(65).fill(1) });
    expect(inferShapes(deep).diagnostics.filter((x) => x.code === 'rank-limit')).toHaveLength(4);
  });
});

// Exporters write -1 for a dim they do not know. Counted as a size, an input [-1, 3, 8, 8] gave
// -192 input activations to the Conv reading it (and a negative total for a Relu), and the Conv
// "computed an invalid output shape [-1, 8, 6, 6]".
describe('a negative declared dim', () => {
  it('is unknown, reported once, and no count goes negative', () => {
    const b = new GraphBuilder({ name: 'g', opset: 17 });
    const x = b.input('x', F, [-1, 3, 8, 8]);
    const w = b.floats('w', [8, 3, 3, 3], new Float32Array(216));
    b.output(b.op('Relu', [b.op('Conv', [x, w], {})]), 'y');
    const m = b.build();
    const inf = inferShapes(m);
    expect(inf.shapeOf(m.graph.inputs[0]!)).toEqual([null, 3, 8, 8]);
    expect(inf.diagnostics.filter((d) => d.code === 'negative-dim').map((d) => d.message)).toEqual(["'x' is declared with dim -1; a dim that is not a size is treated as unknown"]);
    expect(inf.diagnostics.map((d) => d.message).join('\n')).not.toMatch(/invalid output shape/);
    const r = analyzeModel(m);
    expect(r.layers[0]!.activations.input).toBeNull();
    expect(r.totals.activations.total).toBeNull();
    expect(r.totals.macs).toBeNull();
    const pinned = analyzeModel(m, { inputShapes: { x: [2, 3, 8, 8] } });
    expect(pinned.totals.macs).toBe(8 * 6 * 6 * 3 * 3 * 3 * 2);
  });
});
