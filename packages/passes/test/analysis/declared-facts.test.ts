/**
 * The facts shape inference takes from a value's declared type, when values share one type object
 * (the decoder gives values of identical types one object): the same facts for each, symbols bound
 * by `dimValues` substituted, and each value of a type that cannot be used reported on its own.
 */
import { describe, expect, it } from 'vitest';
import { DataType, GraphBuilder, type Model, type TypeInfo, type Value } from '@onnxkit/graph';
import { inferShapes } from '../../src/analysis/index.js';

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
