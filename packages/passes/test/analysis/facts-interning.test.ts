/**
 * Plain facts ({ elemType, shape }, no content) are stored once per inference: values with equal
 * plain facts share one frozen object and one frozen dims array, whether inferShapes or the
 * per-patch updateInference of a pipeline created them — and facts are never mutated (a
 * mutation of a frozen object throws in these strict-mode modules, so the suites that run
 * inference and the pipeline over the zoo would fail).
 */
import { describe, expect, it } from 'vitest';
import { DataType, GraphBuilder, Tensor, type Model, type Value } from '@onnxkit/graph';
import { mobilenetv2 } from '@onnxkit/zoo';
import { inferShapes, type ShapeInference } from '../../src/analysis/index.js';
import { inferenceFacts } from '../../src/analysis/shape-inference.js';
import type { Facts } from '../../src/analysis/inference-types.js';
import { runPipeline } from '../../src/rewrite/index.js';
import { Facts as RewriteFacts } from '../../src/rewrite/facts.js';
import { transformer } from '@onnxkit/zoo';

const F = DataType.FLOAT;

function isPlain(f: Facts): boolean {
  return f.value === undefined && f.partial === undefined && f.other === undefined;
}

/** Every plain facts object is frozen (dims too) and no two distinct ones are equal. Returns how many there are. */
function expectInterned(inf: ShapeInference): number {
  const map = inferenceFacts(inf)!;
  const byKey = new Map<string, Facts>();
  let plainValues = 0;
  for (const f of map.values()) {
    if (!isPlain(f)) continue;
    plainValues++;
    expect(Object.isFrozen(f)).toBe(true);
    if (f.shape !== null) expect(Object.isFrozen(f.shape)).toBe(true);
    const key = JSON.stringify([f.elemType, f.shape]);
    const seen = byKey.get(key);
    if (seen === undefined) byKey.set(key, f);
    else expect(seen).toBe(f);
  }
  expect(plainValues).toBeGreaterThan(byKey.size);
  return byKey.size;
}

function twoBranches(): Model {
  const b = new GraphBuilder({ name: 'two-branches' });
  const x = b.input('x', F, [1, 16]);
  const w1 = b.constant('w1', Tensor.fromArray(F, [16, 8], new Float32Array(128).fill(1)));
  const w2 = b.constant('w2', Tensor.fromArray(F, [16, 8], new Float32Array(128).fill(2)));
  // Neither MatMul's output has the facts of one of its inputs: before interning, two objects.
  const a = b.op('MatMul', [x, w1]);
  const c = b.op('MatMul', [x, w2]);
  b.output(b.op('Add', [a, c]), 'y');
  return b.build();
}

/** The bench's chain (bench/rules.bench.mjs): MatMul, Add, Relu, Identity, Mul(·, 1) blocks over [1, 16]. */
function chain(n: number): Model {
  const b = new GraphBuilder({ name: 'chain' });
  let x = b.input('x', F, [1, 16]);
  const one = b.constant('one', Tensor.scalar(F, 1));
  for (let i = 0; i < n / 5; i++) {
    x = b.op('MatMul', [x, b.constant('w', Tensor.fromArray(F, [16, 16], new Float32Array(256).fill(i)))]);
    x = b.op('Add', [x, b.constant('b', Tensor.fromArray(F, [16], new Float32Array(16).fill(i)))]);
    x = b.op('Relu', [x]);
    x = b.op('Identity', [x]);
    x = b.op('Mul', [x, one]);
  }
  b.output(x, 'y');
  return b.build();
}

describe('plain facts are interned', () => {
  it('values with equal facts share one frozen object, whatever node made them', () => {
    const m = twoBranches();
    const inf = inferShapes(m);
    const [mm1, mm2, add] = [...m.graph].map((n) => n.outputs[0]!);
    const facts = inferenceFacts(inf)!;
    expect(facts.get(mm1!)).toBe(facts.get(mm2!));
    expect(facts.get(add!)).toBe(facts.get(mm1!));
    expect(inf.shapeOf(mm1!)).toEqual([1, 8]);
    expect(() => (inf.shapeOf(mm1!) as (number | string | null)[]).push(1)).toThrow(TypeError);
    expectInterned(inf);
  });

  it('holds for a zoo model', () => {
    expectInterned(inferShapes(mobilenetv2({ weights: 'zeros' })));
  });

  it('holds after a pipeline kept the inference up to date patch by patch', async () => {
    const m = chain(50);
    const inf = inferShapes(m);
    expectInterned(inf);
    const report = await runPipeline(m, 'default', { inference: inf });
    // The pipeline updated this very inference (updateInference per patch), fusing MatMul+Add into Gemm.
    expect(report.inference).toBe(inf);
    expect([...m.graph].some((n) => n.opType === 'Gemm')).toBe(true);
    expectInterned(inf);
    // And its facts are those a fresh inference of the optimized model gives.
    const fresh = inferShapes(m);
    for (const n of m.graph) for (const v of n.outputs) expect(inf.typeOf(v)).toEqual(fresh.typeOf(v));
  });
});

/** Every value of the main graph: inputs, initializers, node outputs. */
function allValues(m: Model): Value[] {
  const out = new Set<Value>([...m.graph.inputs, ...m.graph.initializers.values()]);
  for (const n of m.graph) for (const v of [...n.inputs, ...n.outputs]) if (v) out.add(v);
  return [...out];
}

describe('allocation-free type accessors', () => {
  it("the rewrite facts' dtypeOf/shapeOf give what typeOf gives", () => {
    for (const m of [mobilenetv2({ weights: 'zeros' }), transformer({ weights: 'zeros', batch: 'N' }), twoBranches()]) {
      const inf = inferShapes(m);
      const rf = new RewriteFacts(m, undefined, inf);
      let known = 0;
      for (const v of allValues(m)) {
        const rt = rf.typeOf(v);
        const tensor = rt !== null && (rt.kind === 'tensor' || rt.kind === 'sparse_tensor') ? rt : undefined;
        expect(rf.dtypeOf(v)).toBe(tensor && tensor.elemType !== DataType.UNDEFINED ? tensor.elemType : undefined);
        expect(rf.shapeOf(v)).toEqual(tensor ? tensor.shape : null);
        if (rf.dtypeOf(v) !== undefined) known++;
      }
      expect(known).toBeGreaterThan(5);
    }
  });
});
