import { Attribute, DataType, GraphBuilder, Node, Tensor, type Model, type Value } from '@onnxkit/graph';
import { afterAll, describe, expect, it } from 'vitest';
import { closeWorker, equivalentAfter, f32, opTypes, rnd, runPass, runTwice } from './helpers.js';

afterAll(closeWorker);

async function fuses(pass: string, m: Model, expectOps: string[], changes = 1, options = {}): Promise<Model> {
  const { cmp, rewritten } = await equivalentAfter(m, async (mm) => {
    const r = await runTwice(pass, mm, options);
    expect(r.changes).toBe(changes);
  });
  expect(opTypes(rewritten)).toEqual(expectOps);
  expect(cmp.equivalent, cmp.reason ?? '').toBe(true);
  return rewritten;
}

async function declines(pass: string, m: Model, reason: string | null, options = {}): Promise<void> {
  const before = opTypes(m);
  const r = await runPass(pass, m, options);
  expect(r.modified).toBe(false);
  if (reason) expect(r.rejected[reason], JSON.stringify(r.rejected)).toBeGreaterThanOrEqual(1);
  expect(opTypes(m)).toEqual(before);
}

const i64 = (b: GraphBuilder, name: string, v: number[]): Value => b.int64s(name, v);

describe('fuse-pad-into-conv', () => {
  function padThen(op: 'Conv' | 'AveragePool' | 'MaxPool', o: { pads?: number[]; value?: number; mode?: string; own?: number[]; cip?: number; ceil?: number; relu?: boolean; opset?: number } = {}): Model {
    const b = new GraphBuilder({ opset: o.opset ?? 17 });
    let x = b.input('x', DataType.FLOAT, [1, 2, 6, 6]);
    if (o.relu) x = b.op('Relu', [x]);
    const pads = o.pads ?? [0, 0, 1, 2, 0, 0, 2, 1];
    const padInputs: (Value | null)[] = [x, i64(b, 'pads', pads)];
    if (o.value !== undefined) padInputs.push(b.constant('v', f32([], () => o.value!)));
    const p = b.op('Pad', padInputs, { mode: o.mode ?? 'constant' }, { name: 'pad' });
    const attrs: Record<string, unknown> = {};
    if (o.own) attrs['pads'] = o.own;
    let y: Value;
    if (op === 'Conv') y = b.op('Conv', [p, b.constant('w', f32([3, 2, 3, 3], rnd(2)))], attrs as Record<string, number[]>, { name: 'c' });
    else y = b.op(op, [p], { kernel_shape: [3, 3], ...(attrs as Record<string, number[]>), ...(o.cip !== undefined ? { count_include_pad: o.cip } : {}), ...(o.ceil ? { ceil_mode: 1 } : {}) }, { name: 'c' });
    b.output(y, 'out');
    return b.build();
  }

  it('folds a zero Pad into Conv pads', async () => {
    const m = await fuses('fuse-pad-into-conv', padThen('Conv', { own: [1, 0, 0, 1] }), ['Conv']);
    const conv = m.graph.nodes[0]!;
    expect(conv.getInts('pads')).toEqual([2, 2, 2, 2]);
    expect(conv.inputs[0]).toBe(m.graph.inputs[0]);
  });
  it('folds into AveragePool with count_include_pad=1', () => fuses('fuse-pad-into-conv', padThen('AveragePool', { cip: 1, own: [1, 0, 0, 1] }), ['AveragePool']));
  it('declines pool pads that would reach the kernel size (onnxruntime rejects them)', () => declines('fuse-pad-into-conv', padThen('AveragePool', { cip: 1, own: [1, 1, 1, 1] }), 'pads-exceed-kernel'));
  it('folds into AveragePool without own pads (sets count_include_pad=1)', async () => {
    const m = await fuses('fuse-pad-into-conv', padThen('AveragePool'), ['AveragePool']);
    expect(m.graph.nodes[0]!.getInt('count_include_pad')).toBe(1);
  });
  it('folds a -inf Pad into MaxPool', () => fuses('fuse-pad-into-conv', padThen('MaxPool', { value: -Infinity }), ['MaxPool']));
  it('folds a zero Pad into MaxPool over Relu output (non-negative data)', () => fuses('fuse-pad-into-conv', padThen('MaxPool', { relu: true }), ['Relu', 'MaxPool']));
  it('opset 10 attribute form', async () => {
    const b = new GraphBuilder({ opset: 10 });
    const x = b.input('x', DataType.FLOAT, [1, 2, 5, 5]);
    const p = b.op('Pad', [x], { pads: [0, 0, 1, 1, 0, 0, 1, 1], value: Attribute.float('value', 0) }, { name: 'pad' });
    b.output(b.op('Conv', [p, b.constant('w', f32([1, 2, 3, 3], rnd(3)))]), 'out');
    await fuses('fuse-pad-into-conv', b.build(), ['Conv']);
  });

  it('declines a non-zero pad value', () => declines('fuse-pad-into-conv', padThen('Conv', { value: 1 }), 'pad-value-nonzero'));
  it('declines reflect mode', () => declines('fuse-pad-into-conv', padThen('Conv', { mode: 'reflect' }), 'pad-mode'));
  it('declines padding on the channel axis', () => declines('fuse-pad-into-conv', padThen('Conv', { pads: [0, 1, 0, 0, 0, 0, 0, 0] }), 'pad-on-batch-or-channel'));
  it('declines negative pads', () => declines('fuse-pad-into-conv', padThen('Conv', { pads: [0, 0, -1, 0, 0, 0, 0, 0] }), 'negative-pad'));
  it('declines AveragePool excluding its own padding (onnx/optimizer #269)', () => declines('fuse-pad-into-conv', padThen('AveragePool', { own: [1, 0, 0, 1], cip: 0 }), 'count-include-pad'));
  it('declines AveragePool with ceil_mode', () => declines('fuse-pad-into-conv', padThen('AveragePool', { ceil: 1 }), 'ceil-mode'));
  it('declines a zero Pad before MaxPool on signed data (onnx/optimizer #269)', () => declines('fuse-pad-into-conv', padThen('MaxPool'), 'maxpool-pad-value'));
  it('declines a Pad whose output has another consumer', async () => {
    const m = padThen('Conv');
    const pad = m.graph.nodes.find((n) => n.opType === 'Pad')!;
    const side = new Node('Relu', [pad.output], { outputs: ['side'] });
    m.graph.append(side);
    m.graph.addOutput(side.output);
    await declines('fuse-pad-into-conv', m, 'pad-output-used-elsewhere');
  });
  it('declines non-constant pads', async () => {
    const b = new GraphBuilder();
    const x = b.input('x', DataType.FLOAT, [1, 1, 4, 4]);
    const pads = b.input('pads', DataType.INT64, [8]);
    b.output(b.op('Conv', [b.op('Pad', [x, pads]), b.constant('w', f32([1, 1, 1, 1], () => 1))]), 'out');
    await declines('fuse-pad-into-conv', b.build(), 'pad-not-constant');
  });
  it('declines Conv with auto_pad', () => declines('fuse-pad-into-conv', (() => {
    const m = padThen('Conv');
    m.graph.nodes.find((n) => n.opType === 'Conv')!.setAttribute(Attribute.string('auto_pad', 'SAME_UPPER'));
    return m;
  })(), 'auto-pad'));
});

function convThen(op: string, cDims: number[], cFirst = false, gen: (i: number) => number = (i) => 0.5 + i * 0.25, bias = true): Model {
  const b = new GraphBuilder();
  const x = b.input('x', DataType.FLOAT, [1, 3, 5, 5]);
  const r = rnd(9);
  const y = b.op('Conv', [x, b.constant('w', f32([4, 3, 3, 3], () => r(0))), bias ? b.constant('bias', f32([4], () => r(0))) : null], { pads: [1, 1, 1, 1] }, { name: 'conv' });
  const c = b.constant('c', f32(cDims, gen));
  b.output(b.op(op, cFirst ? [c, y] : [y, c], {}, { name: 'post' }), 'out');
  return b.build();
}

describe('fuse-bias-into-conv', () => {
  it('folds Add of a [C,1,1] constant', async () => {
    const m = await fuses('fuse-bias-into-conv', convThen('Add', [4, 1, 1]), ['Conv']);
    expect(m.graph.outputs[0]!.name).toBe('out');
  });
  it('folds Add of a [1,C,1,1] constant placed first, into a Conv without bias', () => fuses('fuse-bias-into-conv', convThen('Add', [1, 4, 1, 1], true, undefined, false), ['Conv']));
  it('folds Add of a scalar', () => fuses('fuse-bias-into-conv', convThen('Add', []), ['Conv']));
  it('reads no weight bytes to fold a bias (the weight stays the very same tensor)', async () => {
    const m = convThen('Add', [4, 1, 1]);
    const conv = m.graph.nodes.find((n) => n.opType === 'Conv')!;
    const w = conv.inputs[1]!;
    const data = w.constValue!.bytes().slice();
    let reads = 0;
    const lazy = Tensor.lazy(DataType.FLOAT, w.constValue!.dims, { byteLength: data.byteLength, description: 'w.bin', read: () => (reads++, data.slice()) }, { name: 'w' });
    w.constValue = lazy; // the initializer 'w'
    const r = await runPass('fuse-bias-into-conv', m);
    expect(r.changes).toBe(1);
    expect(reads).toBe(0);
    expect(m.graph.nodes.find((n) => n.opType === 'Conv')!.inputs[1]!.constValue).toBe(lazy);
  });
  it('declines Add of a [C] constant (broadcasts along width, not channels)', () => declines('fuse-bias-into-conv', convThen('Add', [4]), 'not-per-channel'));
  it('declines Add of a spatially varying constant', () => declines('fuse-bias-into-conv', convThen('Add', [4, 5, 5]), 'not-per-channel'));
  it('declines Add that raises the rank', () => declines('fuse-bias-into-conv', convThen('Add', [1, 1, 4, 1, 1]), 'not-per-channel'));
  it('declines a non-constant operand', async () => {
    const b = new GraphBuilder();
    const x = b.input('x', DataType.FLOAT, [1, 1, 3, 3]);
    const z = b.input('z', DataType.FLOAT, [1, 1, 1, 1]);
    b.output(b.op('Add', [b.op('Conv', [x, b.constant('w', f32([1, 1, 1, 1], () => 2))]), z]), 'out');
    await declines('fuse-bias-into-conv', b.build(), 'operand-not-constant');
  });
  it('declines a shared weight', async () => {
    const m = convThen('Add', [4, 1, 1]);
    const w = m.graph.initializers.get('w')!;
    const other = new Node('Conv', [m.graph.inputs[0]!, w], { attributes: [Attribute.ints('pads', [1, 1, 1, 1])], outputs: ['o2'] });
    m.graph.append(other);
    m.graph.addOutput(other.output);
    await declines('fuse-bias-into-conv', m, 'weight-shared');
  });
});

describe('fuse-affine-into-conv', () => {
  it('folds Mul by a per-channel constant', () => fuses('fuse-affine-into-conv', convThen('Mul', [4, 1, 1]), ['Conv']));
  it('folds Div by a per-channel constant', () => fuses('fuse-affine-into-conv', convThen('Div', [1, 4, 1, 1]), ['Conv']));
  it('folds constant − Conv (negated weights)', () => fuses('fuse-affine-into-conv', convThen('Sub', [4, 1, 1], true), ['Conv']));
  it('folds a Mul → Add chain to a fixed point', async () => {
    const b = new GraphBuilder();
    const x = b.input('x', DataType.FLOAT, [1, 2, 4, 4]);
    const y = b.op('Conv', [x, b.constant('w', f32([2, 2, 1, 1], rnd(4)))]);
    const z = b.op('Mul', [y, b.constant('s', f32([2, 1, 1], (i) => 1 + i))]);
    b.output(b.op('Add', [z, b.constant('t', f32([2, 1, 1], (i) => -i))]), 'out');
    await fuses('fuse-affine-into-conv', b.build(), ['Conv'], 2);
  });
  it('a weight still in its file is folded without reading it, with the bits of an in-memory fold (the BatchNorm fold\'s deferred scaling)', async () => {
    const eager = convThen('Mul', [4, 1, 1]);
    await runPass('fuse-affine-into-conv', eager);
    const expected = eager.graph.nodes[0]!.inputs[1]!.constValue!.bytes();

    const m = convThen('Mul', [4, 1, 1]);
    const wv = m.graph.initializers.get('w')!;
    const data = wv.constValue!.bytes().slice();
    const reads = { whole: 0, ranged: 0 };
    const source = {
      byteLength: data.byteLength,
      description: 'w in model.onnx',
      read: () => (reads.whole++, data.slice()),
      readInto: (target: Uint8Array, offset: number, length: number) => (reads.ranged++, target.set(data.subarray(offset, offset + length))),
    };
    wv.constValue = Tensor.lazy(DataType.FLOAT, wv.constValue!.dims, source, { name: 'w' });
    await runPass('fuse-affine-into-conv', m);
    expect(opTypes(m)).toEqual(['Conv']);
    expect(reads).toEqual({ whole: 0, ranged: 0 });
    const folded = m.graph.nodes[0]!.inputs[1]!.constValue!;
    expect(folded.isLazy).toBe(true);
    expect(folded.bytes()).toEqual(expected);
  });
  it('declines constant / Conv', () => declines('fuse-affine-into-conv', convThen('Div', [4, 1, 1], true), 'not-affine'));
  it('declines Div by a zero and Mul by an infinite constant (y/0 is ±inf, a ±inf weight sums to NaN)', async () => {
    await declines('fuse-affine-into-conv', convThen('Div', [4, 1, 1], false, (i) => (i === 2 ? 0 : 1 + i)), 'non-finite-scale');
    await declines('fuse-affine-into-conv', convThen('Div', [1], false, () => -0), 'non-finite-scale');
    await declines('fuse-affine-into-conv', convThen('Mul', [1, 4, 1, 1], false, (i) => (i === 1 ? -Infinity : 1 + i)), 'non-finite-scale');
    // Dividing by inf (weights ±0) and multiplying by NaN fold as before.
    await fuses('fuse-affine-into-conv', convThen('Div', [4, 1, 1], false, (i) => (i === 2 ? Infinity : 1 + i)), ['Conv']);
  });

  it('declines a folded weight or bias past float32\'s largest value (it would be written as ±inf)', async () => {
    // Channel 1 of the Conv gets a weight or bias of 1e37; the constant scales or shifts it past 3.4e38.
    const patched = (op: string, gen: (i: number) => number, name: 'w' | 'bias'): Model => {
      const m = convThen(op, [4, 1, 1], false, gen);
      const v = m.graph.initializers.get(name)!;
      const data = v.constValue!.toFloat64();
      data[name === 'w' ? 27 : 1] = 1e37; // w [4, 3, 3, 3]: element 27 is channel 1's first
      v.constValue = Tensor.fromNumbers(DataType.FLOAT, [...v.constValue!.dims], [...data]);
      return m;
    };
    await declines('fuse-affine-into-conv', patched('Mul', (i) => (i === 1 ? 100 : 1), 'w'), 'folded-overflow');
    await declines('fuse-affine-into-conv', patched('Div', (i) => (i === 1 ? 0.01 : 1), 'w'), 'folded-overflow');
    await declines('fuse-bias-into-conv', patched('Add', (i) => (i === 1 ? 3.4e38 : 1), 'bias'), 'folded-overflow');
    // The same constants on another channel: folded.
    await fuses('fuse-affine-into-conv', patched('Mul', (i) => (i === 2 ? 100 : 1), 'w'), ['Conv']);
  });
  it('declines a per-width constant', () => declines('fuse-affine-into-conv', convThen('Mul', [5]), 'not-per-channel'));
  it('declines when the Conv output is also a graph output', async () => {
    const m = convThen('Mul', [4, 1, 1]);
    m.graph.addOutput(m.graph.nodes[0]!.output);
    await declines('fuse-affine-into-conv', m, 'producer-output-is-graph-output');
  });
  it('declines dtype mismatch', async () => {
    const b = new GraphBuilder();
    const x = b.input('x', DataType.DOUBLE, [1, 1, 3, 3]);
    const y = b.op('Conv', [x, b.constant('w', Tensor.fromNumbers(DataType.DOUBLE, [1, 1, 1, 1], [2]))]);
    b.output(b.op('Mul', [y, b.constant('s', f32([1, 1, 1], () => 3))]), 'out');
    await declines('fuse-affine-into-conv', b.build(), 'dtype-mismatch');
  });
});

describe('fuse-matmul-add-into-gemm', () => {
  function mm(aShape: (number | string)[], cDims: number[] | 'input', cFirst = false): Model {
    const b = new GraphBuilder();
    const a = b.input('a', DataType.FLOAT, aShape);
    const y = b.op('MatMul', [a, b.constant('B', f32([5, 4], rnd(5)))], {}, { name: 'mm' });
    const c = cDims === 'input' ? b.input('c', DataType.FLOAT, [4]) : b.constant('C', f32(cDims, rnd(6)));
    b.output(b.op('Add', cFirst ? [c, y] : [y, c], {}, { name: 'add' }), 'out');
    return b.build();
  }
  it('fuses 2-D MatMul + Add [N]', async () => {
    const m = await fuses('fuse-matmul-add-into-gemm', mm([3, 5], [4]), ['Gemm']);
    expect(m.graph.nodes[0]!.inputs[0]).toBe(m.graph.inputs[0]);
  });
  it('fuses with C first and C [M, N]', () => fuses('fuse-matmul-add-into-gemm', mm([3, 5], [3, 4], true), ['Gemm']));
  it('fuses with C [1, N] and a symbolic M', () => fuses('fuse-matmul-add-into-gemm', mm(['M', 5], [1, 4]), ['Gemm']));
  it('declines a 3-D A (batched MatMul)', () => declines('fuse-matmul-add-into-gemm', mm([2, 3, 5], [4]), 'a-not-2d'));
  it('declines a C that broadcasts the result to a larger shape', () => declines('fuse-matmul-add-into-gemm', mm([3, 5], [2, 3, 4]), 'bias-shape'));
  it('declines C [M, N] when M is symbolic', () => declines('fuse-matmul-add-into-gemm', mm(['M', 5], [3, 4]), 'bias-shape'));
  it('declines a non-constant C', () => declines('fuse-matmul-add-into-gemm', mm([3, 5], 'input'), 'c-not-constant'));
});

describe('fuse-consecutive-transposes', () => {
  function tt(p1: number[] | undefined, p2: number[] | undefined, shape: number[] | null = [2, 3, 4]): Model {
    const b = new GraphBuilder();
    const x = b.input('x', DataType.FLOAT, shape);
    const t1 = b.op('Transpose', [x], p1 ? { perm: p1 } : {}, { name: 't1' });
    b.output(b.op('Relu', [b.op('Transpose', [t1], p2 ? { perm: p2 } : {}, { name: 't2' })], {}, { name: 'consumer' }), 'out');
    return b.build();
  }
  it('composes perms as q[i] = p1[p2[i]] (onnx/onnx #2446 had it backwards)', async () => {
    const m = await fuses('fuse-consecutive-transposes', tt([1, 2, 0], [0, 2, 1]), ['Transpose', 'Relu']);
    expect(m.graph.nodes[0]!.getInts('perm')).toEqual([1, 0, 2]);
  });
  it('removes transposes that cancel', async () => {
    const m = await fuses('fuse-consecutive-transposes', tt([1, 2, 0], [2, 0, 1]), ['Relu']);
    expect(m.graph.nodes[0]!.inputs[0]).toBe(m.graph.inputs[0]);
  });
  it('handles missing perms (reverse) with a known rank', () => fuses('fuse-consecutive-transposes', tt(undefined, undefined), ['Relu']));
  it('declines missing perms on an unknown rank', () => declines('fuse-consecutive-transposes', tt(undefined, [0, 1, 2], null), 'unknown-rank'));
});

describe('fuse-consecutive-reshapes', () => {
  function rr(s1: number[], s2: number[], allowzero2 = 0): Model {
    const b = new GraphBuilder();
    const x = b.input('x', DataType.FLOAT, [4, 6]);
    const r1 = b.op('Reshape', [x, i64(b, 's1', s1)], {}, { name: 'r1' });
    b.output(b.op('Reshape', [r1, i64(b, 's2', s2)], allowzero2 ? { allowzero: 1 } : {}, { name: 'r2' }), 'out');
    return b.build();
  }
  it('merges reshapes', () => fuses('fuse-consecutive-reshapes', rr([2, 12], [3, 8]), ['Reshape']));
  it('resolves a 0 in the second shape to the first shape’s dim (onnx/optimizer #259)', async () => {
    const m = await fuses('fuse-consecutive-reshapes', rr([6, 4], [0, -1]), ['Reshape']);
    expect(m.graph.nodes[0]!.inputs[1]!.constValue!.toSafeIntegers()).toEqual([6, -1]);
  });
  it('keeps a 0 that copies a 0 (a dim of x)', () => fuses('fuse-consecutive-reshapes', rr([0, 2, 3], [0, 6]), ['Reshape']));
  it('declines a 0 that copies a -1', () => declines('fuse-consecutive-reshapes', rr([-1, 4], [0, 2, 2]), 'unresolved-zero'));
  it('declines non-constant shapes', async () => {
    const b = new GraphBuilder();
    const x = b.input('x', DataType.FLOAT, [4, 6]);
    const s = b.input('s', DataType.INT64, [2]);
    b.output(b.op('Reshape', [b.op('Reshape', [x, s]), i64(b, 's2', [24])]), 'out');
    await declines('fuse-consecutive-reshapes', b.build(), 'shape-not-constant');
  });
});

describe('fuse-consecutive-squeeze-unsqueeze', () => {
  function su(ops: [string, number[]][], shape: (number | string)[] | null, opset = 17): Model {
    const b = new GraphBuilder({ opset });
    let v = b.input('x', DataType.FLOAT, shape);
    ops.forEach(([op, axes], i) => {
      v = opset >= 13 ? b.op(op, [v, i64(b, `a${i}`, axes)], {}, { name: `n${i}` }) : b.op(op, [v], { axes }, { name: `n${i}` });
    });
    b.output(b.op('Relu', [v]), 'out');
    return b.build();
  }
  it('composes Squeeze→Squeeze (input form, negative axes; onnx/optimizer #253)', async () => {
    const m = await fuses('fuse-consecutive-squeeze-unsqueeze', su([['Squeeze', [1, -3]], ['Squeeze', [0, -1]]], [1, 1, 2, 3, 1, 5, 1]), ['Squeeze', 'Relu']);
    expect(m.graph.nodes[0]!.inputs[1]!.constValue!.toSafeIntegers()).toEqual([0, 1, 4, 6]);
  });
  it('composes Squeeze→Squeeze in the attribute form (opset 11)', async () => {
    const m = await fuses('fuse-consecutive-squeeze-unsqueeze', su([['Squeeze', [1, 4]], ['Squeeze', [0, 4]]], [1, 1, 2, 3, 1, 5, 1], 11), ['Squeeze', 'Relu']);
    expect(m.graph.nodes[0]!.getInts('axes')).toEqual([0, 1, 4, 6]);
  });
  it('composes Unsqueeze→Unsqueeze', async () => {
    const m = await fuses('fuse-consecutive-squeeze-unsqueeze', su([['Unsqueeze', [0, 2]], ['Unsqueeze', [1, -1]]], [3, 4]), ['Unsqueeze', 'Relu']);
    // [3,4] → [1,3,1,4] → [1,1,3,1,4,1]: new dims at 0,1,3,5.
    expect(m.graph.nodes[0]!.inputs[1]!.constValue!.toSafeIntegers()).toEqual([0, 1, 3, 5]);
  });
  it('removes Unsqueeze→Squeeze on the same axes', () => fuses('fuse-consecutive-squeeze-unsqueeze', su([['Unsqueeze', [1]], ['Squeeze', [1]]], [3, 4]), ['Relu']));
  it('removes Squeeze→Unsqueeze on the same axes', () => fuses('fuse-consecutive-squeeze-unsqueeze', su([['Squeeze', [0]], ['Unsqueeze', [0]]], [1, 4]), ['Relu']));
  it('leaves Unsqueeze→Squeeze on different axes', () => declines('fuse-consecutive-squeeze-unsqueeze', su([['Unsqueeze', [0]], ['Squeeze', [2]]], [3, 1]), null));
  it('declines negative axes on an unknown rank', () => declines('fuse-consecutive-squeeze-unsqueeze', su([['Squeeze', [-1]], ['Squeeze', [0]]], null), 'unknown-rank'));
  it('declines non-constant axes', async () => {
    const b = new GraphBuilder();
    const x = b.input('x', DataType.FLOAT, [1, 1, 3]);
    const ax = b.input('ax', DataType.INT64, [1]);
    b.output(b.op('Squeeze', [b.op('Squeeze', [x, ax]), i64(b, 'a', [0])]), 'out');
    await declines('fuse-consecutive-squeeze-unsqueeze', b.build(), 'axes-not-constant');
  });
});
