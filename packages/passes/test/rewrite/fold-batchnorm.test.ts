import { Attribute, DataType, GraphBuilder, Node, Tensor, cloneModel, type Model, type Value } from '@onnxkit/graph';
import { encode, load, save } from '@onnxkit/importer';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { getPass, standaloneContext } from '@onnxkit/passes';
import { closeWorker, countOps, equivalentAfter, f32, opTypes, rnd, runPass, runTwice } from './helpers.js';

afterAll(closeWorker);

interface ConvBnOptions {
  op?: 'Conv' | 'ConvTranspose';
  bias?: boolean;
  group?: number;
  opset?: number;
  bnAttrs?: Record<string, number | Attribute>;
  extraBnOutputs?: number;
  /** Declare the extra outputs without reading them (no graph output). */
  extraOutputsUnused?: boolean;
  trainingMode?: boolean;
}

function bnParams(b: GraphBuilder, c: number, seed = 7): Value[] {
  const r = rnd(seed);
  return [
    b.constant('bn.weight', f32([c], () => 1 + 0.5 * r(0))),
    b.constant('bn.bias', f32([c], () => 0.3 * r(0))),
    b.constant('bn.running_mean', f32([c], () => 0.2 * r(0))),
    // Small variances make the scale large, so a wrong fold shows up clearly.
    b.constant('bn.running_var', f32([c], (i) => (i % 3 === 0 ? 1e-4 : 0.5 + Math.abs(r(0))))),
  ];
}

function convBn(o: ConvBnOptions = {}): Model {
  const op = o.op ?? 'Conv';
  const group = o.group ?? 1;
  const b = new GraphBuilder({ opset: o.opset ?? 17 });
  const cin = 4;
  const cout = 6;
  const x = b.input('x', DataType.FLOAT, [1, cin, 5, 5]);
  const r = rnd(3);
  const wDims = op === 'Conv' ? [cout, cin / group, 3, 3] : [cin, cout / group, 3, 3];
  const w = b.constant('conv.weight', f32(wDims, () => r(0)));
  const bias = o.bias ? b.constant('conv.bias', f32([cout], () => r(0))) : undefined;
  const y = b.op(op, [x, w, bias], { pads: [1, 1, 1, 1], group }, { name: 'conv' });
  const attrs: Record<string, number | Attribute> = { epsilon: Attribute.float('epsilon', 1e-5), ...(o.bnAttrs ?? {}) };
  if (o.trainingMode) attrs['training_mode'] = 1;
  const outs = b.opN('BatchNormalization', [y, ...bnParams(b, cout)], 1 + (o.extraBnOutputs ?? 0), attrs, { name: 'bn' });
  b.output(outs[0]!, 'out');
  if (!o.extraOutputsUnused) for (let i = 1; i < outs.length; i++) b.output(outs[i]!, `extra${i}`);
  return b.build();
}

function gemmBn(transB: 0 | 1, c: 'none' | 'vec' | 'scalar' | 'matrix', beta = 1): Model {
  const b = new GraphBuilder({ opset: 17 });
  const x = b.input('x', DataType.FLOAT, [3, 5]);
  const r = rnd(11);
  const w = b.constant('fc.weight', f32(transB ? [4, 5] : [5, 4], () => r(0)));
  const cv =
    c === 'none' ? undefined : b.constant('fc.bias', c === 'vec' ? f32([4], () => r(0)) : c === 'scalar' ? f32([], () => 0.7) : f32([3, 4], () => r(0)));
  const y = b.op('Gemm', [x, w, cv], { transB, beta: Attribute.float('beta', beta) }, { name: 'fc' });
  const z = b.op('BatchNormalization', [y, ...bnParams(b, 4, 5)], {}, { name: 'bn' });
  b.output(z, 'out');
  return b.build();
}

describe('fold-batchnorm: positive cases, numerically equivalent in onnxruntime', () => {
  const cases: [string, () => Model][] = [
    ['Conv without bias', () => convBn()],
    ['Conv with bias', () => convBn({ bias: true })],
    ['Conv group=2', () => convBn({ bias: true, group: 2 })],
    ['ConvTranspose', () => convBn({ op: 'ConvTranspose' })],
    ['ConvTranspose group=2 (weight [C_in, C_out/g, k, k])', () => convBn({ op: 'ConvTranspose', group: 2, bias: true })],
    ['Gemm transB=0 without C', () => gemmBn(0, 'none')],
    ['Gemm transB=1 with C [N]', () => gemmBn(1, 'vec')],
    ['Gemm transB=0 with scalar C and beta=0.5', () => gemmBn(0, 'scalar', 0.5)],
    ['Gemm transB=1 with C [M, N]', () => gemmBn(1, 'matrix', 2)],
  ];
  for (const [label, make] of cases) {
    it(label, async () => {
      const model = make();
      const producer = model.graph.nodes.find((n) => n.opType !== 'BatchNormalization')!;
      const xIn = producer.inputs[0]!;
      const { cmp, rewritten } = await equivalentAfter(model, async (m) => {
        const r = await runTwice('fold-batchnorm', m);
        expect(r.changes).toBe(1);
        expect(r.nodesRemoved).toBe(2);
        expect(r.nodesAdded).toBe(1);
      });
      expect(countOps(rewritten, 'BatchNormalization')).toBe(0);
      expect(opTypes(rewritten)).toEqual([producer.opType]);
      const fused = rewritten.graph.nodes[0]!;
      // The fused node reads the same graph input object and produces the graph output name.
      expect(fused.inputs[0]).toBe(rewritten.graph.inputs[0]);
      expect(xIn.name).toBe(fused.inputs[0]!.name);
      expect(fused.outputs[0]!.name).toBe('out');
      expect(fused.metadataProps.get('onnxkit.rule')).toMatch(/\+bn$/);
      // BN parameters are gone with the BN; the original weight name is kept by the new weight.
      expect([...rewritten.graph.initializers.keys()].some((k) => k.startsWith('bn.'))).toBe(false);
      expect(cmp.equivalent, cmp.reason ?? '').toBe(true);
      expect(cmp.compared).toBeGreaterThan(0);
    });
  }

  it('computes W·γ/√(σ²+ε) and (b−μ)·γ/√(σ²+ε)+β in float64 (checked element by element)', async () => {
    const model = convBn({ bias: true });
    const g = model.graph;
    const w = g.initializers.get('conv.weight')!.constValue!.toFloat64();
    const bias = g.initializers.get('conv.bias')!.constValue!.toFloat64();
    const [gamma, beta, mean, variance] = ['bn.weight', 'bn.bias', 'bn.running_mean', 'bn.running_var'].map((k) => g.initializers.get(k)!.constValue!.toFloat64());
    await runPass('fold-batchnorm', model);
    const conv = model.graph.nodes[0]!;
    const w2 = conv.inputs[1]!.constValue!.toFloat64();
    const b2 = conv.inputs[2]!.constValue!.toFloat64();
    const per = w.length / 6;
    for (let m = 0; m < 6; m++) {
      const s = gamma![m]! / Math.sqrt(variance![m]! + 1e-5);
      expect(b2[m]).toBe(Math.fround((bias[m]! - mean![m]!) * s + beta![m]!));
      for (let k = 0; k < per; k++) expect(w2[m * per + k]).toBe(Math.fround(w[m * per + k]! * s));
    }
  });
});

describe('fold-batchnorm: a weight that lives in a file', () => {
  /** A lazy source over `data` that counts its reads; `short` makes every ranged read fail. */
  const countingSource = (data: Uint8Array, short = false) => {
    const reads = { whole: 0, ranged: 0 };
    return {
      reads,
      source: {
        byteLength: data.byteLength,
        description: 'conv.weight in model.onnx',
        read: () => (reads.whole++, data.slice()),
        readInto: (target: Uint8Array, offset: number, length: number) => {
          reads.ranged++;
          target.set(data.subarray(offset, offset + length - (short ? 1 : 0)));
          if (short) throw new Error('conv.weight: short read');
        },
      },
    };
  };

  for (const o of [{ bias: true }, { op: 'ConvTranspose', group: 2 }] as ConvBnOptions[]) {
    it(`${o.op ?? 'Conv'}${o.group ? ` group ${o.group}` : ''}: folding reads nothing; the folded weight scales the file's bytes when read, with the bits of an in-memory fold, whatever the range`, async () => {
      const eager = convBn(o);
      await runPass('fold-batchnorm', eager);
      const expected = eager.graph.nodes[0]!.inputs[1]!.constValue!.bytes();

      const lazyModel = convBn(o);
      const wv = lazyModel.graph.initializers.get('conv.weight')!;
      const { reads, source } = countingSource(wv.constValue!.bytes().slice());
      wv.constValue = Tensor.lazy(DataType.FLOAT, wv.constValue!.dims, source, { name: 'conv.weight' });
      await runPass('fold-batchnorm', lazyModel);
      expect(reads).toEqual({ whole: 0, ranged: 0 });
      const folded = lazyModel.graph.nodes[0]!.inputs[1]!.constValue!;
      expect(folded.isLazy).toBe(true);
      expect(folded.external).toBeUndefined();
      expect(folded.bytes()).toEqual(expected);
      expect(reads).toEqual({ whole: 0, ranged: 1 });
      // Ranges that start and end inside an element, and chunked reads into aligned buffers.
      for (const [at, n] of [[0, 4], [1, 6], [7, 33], [expected.byteLength - 5, 5], [2, expected.byteLength - 3]] as const) {
        expect(folded.bytesAt(at, n)).toEqual(expected.subarray(at, at + n));
      }
      const chunked = new Uint8Array(expected.byteLength);
      for (let at = 0; at < chunked.byteLength; at += 40) folded.source!.readInto!(chunked.subarray(at, Math.min(at + 40, chunked.byteLength)), at, Math.min(40, chunked.byteLength - at));
      expect(chunked).toEqual(expected);
    });
  }

  it('a float64 weight: the deferred fold has the bits of an eager one (float64 storage, no rounding to float32)', async () => {
    const asDouble = (m: Model) => {
      for (const name of ['conv.weight', 'bn.weight', 'bn.bias', 'bn.running_mean', 'bn.running_var']) {
        const v = m.graph.initializers.get(name)!;
        v.constValue = Tensor.fromArray(DataType.DOUBLE, v.constValue!.dims, Float64Array.from(v.constValue!.toFloat64(), (x, i) => x + i * 1e-12), { name });
      }
      return m;
    };
    const eager = asDouble(convBn());
    await getPass('fold-batchnorm').run(eager, standaloneContext({}));
    const expected = eager.graph.nodes[0]!.inputs[1]!.constValue!;
    expect(expected.dtype).toBe(DataType.DOUBLE);
    const lazyModel = asDouble(convBn());
    const wv = lazyModel.graph.initializers.get('conv.weight')!;
    const { reads, source } = countingSource(wv.constValue!.bytes().slice());
    wv.constValue = Tensor.lazy(DataType.DOUBLE, wv.constValue!.dims, source, { name: 'conv.weight' });
    await getPass('fold-batchnorm').run(lazyModel, standaloneContext({}));
    expect(reads).toEqual({ whole: 0, ranged: 0 });
    const folded = lazyModel.graph.nodes[0]!.inputs[1]!.constValue!;
    expect(folded.bytes()).toEqual(expected.bytes());
    expect(folded.bytesAt(3, 21)).toEqual(expected.bytes().subarray(3, 24));
  });

  it('a real file: a model loaded lazily, folded and saved (weights streamed in chunks across rows) has the bytes of an eager fold', async () => {
    // [520, 256, 3, 3] float32 is 4.8 MB: more than save's 4 MiB write chunk, whose boundary falls inside a row.
    const b = new GraphBuilder({ opset: 17 });
    const x = b.input('x', DataType.FLOAT, [1, 256, 3, 3]);
    const r = rnd(5);
    const y = b.op('Conv', [x, b.constant('conv.weight', f32([520, 256, 3, 3], () => r(0)))], {}, { name: 'conv' });
    b.output(b.op('BatchNormalization', [y, ...bnParams(b, 520)], { epsilon: Attribute.float('epsilon', 1e-5) }), 'y');
    const dir = mkdtempSync(join(tmpdir(), 'fold-bn-'));
    try {
      const file = join(dir, 'model.onnx');
      save(b.build(), file);
      const eager = load(file, { lazy: false });
      await runPass('fold-batchnorm', eager);
      const lazyModel = load(file, { lazy: true });
      expect(lazyModel.graph.initializers.get('conv.weight')!.constValue!.isLazy).toBe(true);
      await runPass('fold-batchnorm', lazyModel);
      expect(lazyModel.graph.nodes[0]!.inputs[1]!.constValue!.isLazy).toBe(true);
      save(lazyModel, join(dir, 'out.onnx'));
      const want = encode(eager);
      // Buffer.compare: a deep equality over 5 MB would take a minute.
      expect(Buffer.compare(readFileSync(join(dir, 'out.onnx')), want)).toBe(0);
      expect(Buffer.compare(encode(lazyModel), want)).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a short read of the weight fails when the folded weight is read (saving it), not silently', async () => {
    const failing = convBn({ bias: true });
    const fv = failing.graph.initializers.get('conv.weight')!;
    fv.constValue = Tensor.lazy(DataType.FLOAT, fv.constValue!.dims, countingSource(fv.constValue!.bytes().slice(), true).source, { name: 'conv.weight' });
    await getPass('fold-batchnorm').run(failing, standaloneContext({}));
    expect(() => failing.graph.nodes[0]!.inputs[1]!.constValue!.bytes()).toThrow(/short read/);
  });
});

describe('fold-batchnorm below IR 4', () => {
  it('folds a model whose initializers are all graph inputs too (IR 3: onnxruntime takes them as constants), equivalent in onnxruntime', async () => {
    // Before, the rule's constant facts refused them as overridable inputs while shape inference
    // and the analysis took them as constants: an old exporter's Conv + BN was never folded.
    const b = new GraphBuilder({ opset: 8 });
    const x = b.input('x', DataType.FLOAT, [1, 2, 4, 4]);
    const w = b.constant('w', f32([3, 2, 3, 3], rnd(3)));
    const y = b.op('Conv', [x, w], { pads: [1, 1, 1, 1] }, { name: 'conv' });
    const [g, be, mu] = bnParams(b, 3);
    const v = b.constant('var', f32([3], (i) => 0.5 + i));
    b.output(b.op('BatchNormalization', [y, g!, be!, mu!, v], {}, { name: 'bn' }), 'out');
    const m = b.build({ irVersion: 3 });
    for (const init of [...m.graph.initializers.values()]) m.graph.addInput(init);
    const { cmp, rewritten } = await equivalentAfter(m, async (mm) => {
      const r = await runPass('fold-batchnorm', mm);
      expect(r.changes).toBe(1);
    });
    expect(cmp.equivalent, JSON.stringify(cmp)).toBe(true);
    expect(opTypes(rewritten)).toEqual(['Conv']);
    // IR 4 on, an initializer listed as an input is a default the caller may replace: not folded.
    const m4 = cloneModel(m);
    m4.irVersion = 7;
    expect((await runPass('fold-batchnorm', m4)).changes).toBe(0);
  });
});

describe('fold-batchnorm: one negative test per precondition', () => {
  async function declined(model: Model, reason: string, options = {}): Promise<void> {
    const before = opTypes(model);
    const r = await runPass('fold-batchnorm', model, options);
    expect(r.modified).toBe(false);
    expect(r.rejected[reason], JSON.stringify(r.rejected)).toBe(1);
    expect(opTypes(model)).toEqual(before);
  }

  it('training_mode=1', () => declined(convBn({ trainingMode: true, extraBnOutputs: 0 }), 'training-mode'));
  it('opset 6 is_test=0', () => declined(convBn({ opset: 6, bnAttrs: { is_test: 0 } }), 'training-mode'));
  it('opset 7 spatial=0', () => declined(convBn({ opset: 7, bnAttrs: { spatial: 0 } }), 'not-spatial'));
  it('an extra BN output is used', () => declined(convBn({ opset: 9, extraBnOutputs: 2 }), 'bn-extra-outputs-used'));
  it('opsets 7–13: statistics outputs declared but unused (onnxruntime then normalizes with batch statistics)', async () => {
    for (const opset of [7, 9, 13]) await declined(convBn({ opset, extraBnOutputs: 4, extraOutputsUnused: true }), 'training-mode');
    // Opset 14: training_mode decides; unused extra outputs do not (onnxruntime runs inference).
    expect((await runPass('fold-batchnorm', convBn({ opset: 14, extraBnOutputs: 2, extraOutputsUnused: true }))).changes).toBe(1);
  });
  it('an unknown BN attribute', () => declined(convBn({ bnAttrs: { fancy: 1 } }), 'unknown-attribute'));

  it('an infinite scale γ/√(σ²+ε) (σ² = −ε, or γ = inf): the BN gives ±inf, a weight of ±inf would give NaN', async () => {
    const withStat = (name: string, value: number): Model => {
      const m = convBn();
      const v = m.graph.initializers.get(name)!;
      const data = v.constValue!.toFloat64();
      data[1] = value;
      v.constValue = Tensor.fromNumbers(DataType.FLOAT, [data.length], [...data]);
      return m;
    };
    await declined(withStat('bn.running_var', -Math.fround(1e-5)), 'non-finite-scale');
    await declined(withStat('bn.weight', Infinity), 'non-finite-scale');
    // epsilon absent: its default is the float32 1e-5 the runtime adds, so σ² = −1e-5f is caught too.
    const b = new GraphBuilder({ opset: 17 });
    const x = b.input('x', DataType.FLOAT, [1, 2, 3, 3]);
    const y = b.op('Conv', [x, b.constant('w', f32([2, 2, 1, 1], rnd(1)))], {}, { name: 'conv' });
    const [g, be, mu] = bnParams(b, 2);
    const v = b.constant('var', f32([2], (i) => (i === 0 ? -Math.fround(1e-5) : 1)));
    b.output(b.op('BatchNormalization', [y, g!, be!, mu!, v], {}, { name: 'bn' }), 'out');
    await declined(b.build(), 'non-finite-scale');
    // A NaN γ makes the channel NaN before and after: still folded.
    const r = await runPass('fold-batchnorm', withStat('bn.weight', NaN));
    expect(r.changes).toBe(1);
  });

  it('a folded weight or bias past the largest value of its type (written as ±inf where the model is finite)', async () => {
    // γ = s with σ² = 1 − ε: the scale is s exactly enough; one channel's W·s or bias overflows.
    const model = (dtype: DataType, w: number, scale: number, mean = 0, producer: 'Conv' | 'Gemm' | 'GemmT' = 'Conv'): Model => {
      const b = new GraphBuilder({ opset: 17 });
      const t = (dims: number[], gen: (i: number) => number): Tensor =>
        dtype === DataType.FLOAT ? f32(dims, gen) : Tensor.fromNumbers(dtype, dims, Array.from({ length: dims.reduce((a, d) => a * d, 1) }, (_, i) => gen(i)));
      let y: Value;
      if (producer === 'Conv') {
        y = b.op('Conv', [b.input('x', dtype, [1, 2, 3, 3]), b.constant('w', t([2, 2, 1, 1], (i) => (i === 2 ? w : 0.5)))], {}, { name: 'conv' });
      } else {
        // Gemm B [K=2, N=2] (transB 0: channel n is column n) or [N, K] (transB 1: row n); channel 1 gets |W| = w.
        const tb = producer === 'GemmT';
        y = b.op('Gemm', [b.input('x', dtype, [1, 2]), b.constant('w', t([2, 2], (i) => ((tb ? i >= 2 : i % 2 === 1) && i !== 3 ? w : 0.5)))], tb ? { transB: 1 } : {}, { name: 'gemm' });
      }
      const c = (name: string, gen: (i: number) => number): Value => b.constant(name, t([2], gen));
      b.output(b.op('BatchNormalization', [y, c('g', (i) => (i === 1 ? scale : 1)), c('be', () => 0), c('mu', (i) => (i === 1 ? mean : 0)), c('var', () => 1 - 1e-5)], {}, { name: 'bn' }), 'out');
      return b.build();
    };
    // float16 reaches 65504 soon: |W| 700 × s 100 = 70,000; 600 × 100 = 60,000 fits.
    await declined(model(DataType.FLOAT16, 700, 100), 'folded-overflow');
    expect((await runPass('fold-batchnorm', model(DataType.FLOAT16, 600, 100))).changes).toBe(1);
    await declined(model(DataType.FLOAT, 1e37, 100), 'folded-overflow');
    expect((await runPass('fold-batchnorm', model(DataType.FLOAT, 1e36, 100))).changes).toBe(1);
    // The bias (b − μ)·s + β: μ = −1e37 with s = 100.
    await declined(model(DataType.FLOAT, 0.5, 100, -1e37), 'folded-overflow');
    // Gemm, both layouts of B: the check follows the channel to its column or row.
    await declined(model(DataType.FLOAT16, 700, 100, 0, 'Gemm'), 'folded-overflow');
    await declined(model(DataType.FLOAT16, 700, 100, 0, 'GemmT'), 'folded-overflow');
    const other = model(DataType.FLOAT16, 700, 100, 0, 'Gemm');
    const g = other.graph.initializers.get('g')!;
    g.constValue = Tensor.fromNumbers(DataType.FLOAT16, [2], [100, 1]); // the large scale on the other channel
    expect((await runPass('fold-batchnorm', other)).changes).toBe(1);
  });

  it('the Conv output is also a graph output', async () => {
    const m = convBn();
    m.graph.addOutput(m.graph.nodes[0]!.outputs[0]!);
    await declined(m, 'producer-output-is-graph-output');
  });

  it('the Conv output has another consumer', async () => {
    const m = convBn();
    const side = new Node('Relu', [m.graph.nodes[0]!.outputs[0]!], { name: 'side', outputs: ['side_out'] });
    m.graph.append(side);
    m.graph.addOutput(side.outputs[0]!);
    await declined(m, 'producer-output-used-elsewhere');
  });

  it('the weight is not a constant (graph input)', async () => {
    const b = new GraphBuilder();
    const x = b.input('x', DataType.FLOAT, [1, 2, 3, 3]);
    const w = b.input('w', DataType.FLOAT, [2, 2, 1, 1]);
    const y = b.op('Conv', [x, w], {}, { name: 'conv' });
    b.output(b.op('BatchNormalization', [y, ...bnParams(b, 2)], {}, { name: 'bn' }), 'out');
    await declined(b.build(), 'weights-not-constant');
  });

  it('a BN statistic is not a constant', async () => {
    const b = new GraphBuilder();
    const x = b.input('x', DataType.FLOAT, [1, 2, 3, 3]);
    const mean = b.input('mean', DataType.FLOAT, [2]);
    const w = b.constant('w', f32([2, 2, 1, 1], rnd(1)));
    const y = b.op('Conv', [x, w], {}, { name: 'conv' });
    const [g, be, , v] = bnParams(b, 2);
    b.output(b.op('BatchNormalization', [y, g, be, mean, v], {}, { name: 'bn' }), 'out');
    await declined(b.build(), 'weights-not-constant');
  });

  it('the weight is shared with another Conv (declined by default, folded into a copy on request)', async () => {
    const make = (): Model => {
      const b = new GraphBuilder();
      const x = b.input('x', DataType.FLOAT, [1, 2, 3, 3]);
      const w = b.constant('w', f32([2, 2, 1, 1], rnd(1)));
      const y = b.op('Conv', [x, w], {}, { name: 'conv' });
      const y2 = b.op('Conv', [x, w], {}, { name: 'conv2' });
      b.output(b.op('BatchNormalization', [y, ...bnParams(b, 2)], {}, { name: 'bn' }), 'out');
      b.output(y2, 'out2');
      return b.build();
    };
    await declined(make(), 'weight-shared');
    const m = make();
    const { cmp, rewritten } = await equivalentAfter(m, async (mm) => {
      const r = await runTwice('fold-batchnorm', mm, { cloneSharedWeights: true });
      expect(r.changes).toBe(1);
    });
    expect(cmp.equivalent, cmp.reason ?? '').toBe(true);
    // conv2 still reads the original weight object; the fused conv has its own.
    const fused = rewritten.graph.nodes.find((n) => n.name === 'conv')!;
    const other = rewritten.graph.nodes.find((n) => n.name === 'conv2')!;
    expect(other.inputs[1]!.name).toBe('w');
    expect(other.inputs[1]!.constValue).toBe(m.graph.initializers.get('w')!.constValue);
    expect(fused.inputs[1]).not.toBe(other.inputs[1]);
  });

  it('an unsupported dtype (bfloat16 weights)', async () => {
    const b = new GraphBuilder();
    const x = b.input('x', DataType.BFLOAT16, [1, 2, 3, 3]);
    const w = b.constant('w', Tensor.fromNumbers(DataType.BFLOAT16, [2, 2, 1, 1], [1, 2, 3, 4]));
    const y = b.op('Conv', [x, w], {}, { name: 'conv' });
    const p = ['g', 'b', 'm', 'v'].map((k) => b.constant(k, Tensor.fromNumbers(DataType.BFLOAT16, [2], [1, 1])));
    b.output(b.op('BatchNormalization', [y, ...p], {}, { name: 'bn' }), 'out');
    await declined(b.build(), 'unsupported-dtype');
  });

  it('BN channel count differs from the Conv output channels', async () => {
    const b = new GraphBuilder();
    const x = b.input('x', DataType.FLOAT, [1, 2, 3, 3]);
    const w = b.constant('w', f32([1, 2, 1, 1], rnd(1)));
    const y = b.op('Conv', [x, w], {}, { name: 'conv' });
    b.output(b.op('BatchNormalization', [y, ...bnParams(b, 3)], {}, { name: 'bn' }), 'out');
    await declined(b.build(), 'shape-mismatch');
  });
});
