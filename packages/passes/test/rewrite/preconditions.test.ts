/** Negative tests for the preconditions not covered in the per-pass files: no change + the reason. */
import { Attribute, DataType, GraphBuilder, Tensor, type Model } from '@onnxkit/graph';
import { describe, expect, it } from 'vitest';
import { f32, opTypes, rnd, runPass } from './helpers.js';

async function declines(pass: string, m: Model, reason: string, options = {}): Promise<void> {
  const before = opTypes(m);
  const inits = [...m.graph.initializers.keys()];
  const r = await runPass(pass, m, options);
  expect(r.modified, JSON.stringify(r.log)).toBe(false);
  expect(r.rejected[reason], JSON.stringify(r.rejected)).toBeGreaterThanOrEqual(1);
  expect(opTypes(m)).toEqual(before);
  expect([...m.graph.initializers.keys()]).toEqual(inits);
}

describe('fold-batchnorm', () => {
  it('Gemm C of rank 3 [bias-shape]', async () => {
    const b = new GraphBuilder();
    const x = b.input('x', DataType.FLOAT, [3, 5]);
    const y = b.op('Gemm', [x, b.constant('w', f32([5, 4], rnd(1))), b.constant('c', f32([1, 1, 4], rnd(2)))]);
    const p = ['g', 'b', 'm', 'v'].map((k) => b.constant(k, f32([4], () => 1)));
    b.output(b.op('BatchNormalization', [y, ...p]), 'out');
    await declines('fold-batchnorm', b.build(), 'bias-shape');
  });
});

describe('eliminate-dead-code', () => {
  it('keeps an unused initializer bound by training_info [training-bound]', async () => {
    const b = new GraphBuilder();
    const x = b.input('x', DataType.FLOAT, [2]);
    b.constant('state', f32([2], () => 0));
    b.output(b.op('Relu', [x]), 'y');
    const m = b.build();
    m.trainingInfo.push({ initialization: null, algorithm: null, initializationBinding: [], updateBinding: [['state', 'y']] });
    await declines('eliminate-dead-code', m, 'training-bound');
  });
});

describe('eliminate-common-subexpressions', () => {
  it('does not compare tensor attributes above 1 MiB [large-tensor-attribute]', async () => {
    const b = new GraphBuilder();
    const x = b.input('x', DataType.FLOAT, [1]);
    const big = Tensor.fromArray(DataType.FLOAT, [300_000], new Float32Array(300_000));
    const c1 = b.op('Constant', [], { value: big });
    const c2 = b.op('Constant', [], { value: big });
    b.output(b.op('Add', [b.op('ReduceSum', [c1]), x]), 'a');
    b.output(b.op('Add', [b.op('ReduceSum', [c2]), x]), 'b');
    const m = b.build();
    const r = await runPass('eliminate-common-subexpressions', m);
    expect(r.modified).toBe(false);
    expect(opTypes(m).filter((o) => o === 'Constant').length).toBe(2);
  });
});

describe('fuse-pad-into-conv', () => {
  it('MaxPool whose Indices output is used [indices-used]', async () => {
    const b = new GraphBuilder();
    const x = b.input('x', DataType.FLOAT, [1, 1, 4, 4]);
    const p = b.op('Pad', [x, b.int64s('pads', [0, 0, 1, 1, 0, 0, 1, 1]), b.constant('v', f32([], () => -Infinity))]);
    const [v, idx] = b.opN('MaxPool', [p], 2, { kernel_shape: [3, 3] });
    b.output(v!, 'pooled');
    b.output(idx!, 'idx');
    await declines('fuse-pad-into-conv', b.build(), 'indices-used');
  });
  it('an attribute the rule does not know [unknown-attribute]', async () => {
    const b = new GraphBuilder();
    const x = b.input('x', DataType.FLOAT, [1, 1, 4, 4]);
    const p = b.op('Pad', [x, b.int64s('pads', [0, 0, 1, 1, 0, 0, 1, 1])]);
    b.output(b.op('Conv', [p, b.constant('w', f32([1, 1, 3, 3], rnd(1)))], { mystery: 1 }), 'y');
    await declines('fuse-pad-into-conv', b.build(), 'unknown-attribute');
  });
});

describe('fuse-matmul-add-into-gemm', () => {
  function mm(o: { bConst?: boolean; dtype?: DataType; extraUse?: boolean; opset?: number } = {}): Model {
    const dt = o.dtype ?? DataType.FLOAT;
    const b = new GraphBuilder({ opset: o.opset ?? 17 });
    const a = b.input('a', dt, [3, 5]);
    const B = o.bConst === false ? b.input('B', dt, [5, 4]) : b.constant('B', Tensor.fromNumbers(dt, [5, 4], Array.from({ length: 20 }, (_, i) => i % 5)));
    const y = b.op('MatMul', [a, B]);
    b.output(b.op('Add', [y, b.constant('C', Tensor.fromNumbers(dt, [4], [1, 2, 3, 4]))]), 'out');
    if (o.extraUse) b.output(b.op('Relu', [y]), 'side');
    return b.build();
  }
  it('B not a constant [b-not-constant]', () => declines('fuse-matmul-add-into-gemm', mm({ bConst: false }), 'b-not-constant'));
  it('integer MatMul [unsupported-dtype]', () => declines('fuse-matmul-add-into-gemm', mm({ dtype: DataType.INT32 }), 'unsupported-dtype'));
  it('MatMul output used elsewhere [producer-output-used-elsewhere]', () => declines('fuse-matmul-add-into-gemm', mm({ extraUse: true }), 'producer-output-used-elsewhere'));
  it('opset 6 [opset-too-old]', () => declines('fuse-matmul-add-into-gemm', mm({ opset: 6 }), 'opset-too-old'));
});

describe('fuse-consecutive-transposes', () => {
  it('an attribute besides perm [unknown-attribute]', async () => {
    const b = new GraphBuilder();
    const x = b.input('x', DataType.FLOAT, [2, 3]);
    b.output(b.op('Transpose', [b.op('Transpose', [x], { perm: [1, 0], extra: 1 })], { perm: [1, 0] }), 'y');
    await declines('fuse-consecutive-transposes', b.build(), 'unknown-attribute');
  });
});

describe('fold-constants', () => {
  it('a custom-domain node with constant inputs [unknown-domain]', async () => {
    const b = new GraphBuilder({ opsets: { 'com.example': 1 } });
    const x = b.input('x', DataType.FLOAT, [2]);
    const c = b.op('Mystery', [b.constant('k', f32([2], () => 1))], {}, { domain: 'com.example' });
    b.output(b.op('Add', [x, c]), 'y');
    await declines('fold-constants', b.build(), 'unknown-domain');
  });
  it('an invalid constant computation is reported, not thrown [kernel-error]', async () => {
    const b = new GraphBuilder();
    const x = b.input('x', DataType.INT64, [2]);
    const q = b.op('Div', [b.int64s('n', [4, 6]), b.int64s('zero', [0, 0])]);
    b.output(b.op('Add', [x, q]), 'y');
    await declines('fold-constants', b.build(), 'kernel-error');
  });
});

describe('quantize-weights-int8', () => {
  it('a weight with a NaN [non-finite]', async () => {
    const b = new GraphBuilder();
    const x = b.input('x', DataType.FLOAT, [1, 4, 8, 8]);
    b.output(b.op('Conv', [x, b.constant('w', f32([16, 4, 3, 3], (i) => (i === 5 ? NaN : 0.1)))]), 'y');
    await declines('quantize-weights-int8', b.build(), 'non-finite', { minElements: 16 });
  });
});

describe('convert-fp16', () => {
  it('a node reading a weight float16 cannot hold stays float32 [out-of-fp16-range]', async () => {
    // Before: the weight 1e5 was written as +inf in float16 and the outputs became non-finite.
    const build = (big: number): Model => {
      const b = new GraphBuilder();
      const x = b.input('x', DataType.FLOAT, [2, 4]);
      const m = b.op('Mul', [x, b.constant('w', f32([4], (i) => (i === 2 ? big : 0.5)))]);
      b.output(b.op('Relu', [m]), 'y');
      return b.build();
    };
    const m = build(1e5);
    const r = await runPass('convert-fp16', m);
    expect(r.rejected['out-of-fp16-range']).toBe(1);
    expect(m.graph.initializers.get('w')!.constValue!.dtype).toBe(DataType.FLOAT);
    expect(opTypes(m)).toEqual(['Mul', 'Cast', 'Relu', 'Cast']);
    const tie = build(65520); // halfway to 65536: rounds (to even) to +inf
    expect((await runPass('convert-fp16', tie)).rejected['out-of-fp16-range']).toBe(1);
    expect(tie.graph.initializers.get('w')!.constValue!.dtype).toBe(DataType.FLOAT);
    // 65504 is float16's largest finite value and 65519 rounds to it: both convert.
    for (const edge of [65504, 65519]) {
      const ok = build(edge);
      expect((await runPass('convert-fp16', ok)).rejected['out-of-fp16-range']).toBeUndefined();
      expect(ok.graph.initializers.get('w')!.constValue!.dtype).toBe(DataType.FLOAT16);
    }
    const c = new GraphBuilder();
    const x = c.input('x', DataType.FLOAT, [2]);
    const k = c.op('Constant', [], { value_float: Attribute.float('value_float', 1e6) });
    c.output(c.op('Add', [x, k]), 'y');
    const r2 = await runPass('convert-fp16', c.build());
    expect(r2.rejected['out-of-fp16-range']).toBe(1);
  });

  it('a node whose output type is unknown stays float32 [unknown-dtype]', async () => {
    const b = new GraphBuilder({ opsets: { 'com.example': 1 } });
    const x = b.input('x', DataType.FLOAT, [2]);
    const u = b.op('Mystery', [x], {}, { domain: 'com.example' });
    b.output(b.op('Relu', [u]), 'y');
    const m = b.build();
    const r = await runPass('convert-fp16', m);
    expect(r.rejected['unknown-dtype']).toBe(1);
    expect(opTypes(m)).toEqual(['Mystery', 'Relu']);
    void Attribute;
  });
});
