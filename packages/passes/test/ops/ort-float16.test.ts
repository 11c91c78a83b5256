// The ops' `ort.float16` facet against onnxruntime-node 1.30 itself: each op that says it has no
// float16 kernel is built as a one-node float16 model (opset 21) and given to an InferenceSession
// (level basic, optimizedModelFilePath): 'casts' — onnxruntime accepts it and its optimized graph
// holds the Casts its InsertCastTransformer put around the op; 'no-kernel' — no kernel is found;
// 'rejects' — the model is invalid for the op's schema. The ops onnxruntime runs in float16
// natively that were not declared `fp16` (Shrink, IsNaN, Shape, Mod, GatherElements,
// GatherND, Compress, ReverseSequence: convert-fp16 kept them float32 behind Casts) now are, each
// run here as a one-node float16 model with no Cast in onnxruntime's optimized graph, and a model
// of all of them converted by convert-fp16 runs and matches its float32 original. IsInf,
// ScatterElements and ScatterND are float16-safe per node (their `fp16.unsafeFor`): each form —
// every opset where their schema or float16 support changes, every attribute value that matters
// (IsInf's detect_negative/detect_positive, the Scatter reductions) — is run here in float16 and
// does what the declaration says (runs without a Cast, or the model is invalid below IsInf-20,
// or the kernel refuses the reduction at run time), and convert-fp16 converts the safe nodes and
// keeps the others float32 with that reason. And convert-fp16 gives
// the op's reason when it keeps an op in float32 (its `not-fp16-safe` decline), where before it
// said only "not declared float16-safe".
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Attribute, DataType, GraphBuilder, Tensor, type AttributeInput, type Model, type Value } from '@onnxkit/graph';
import { decode, encode } from '@onnxkit/importer';
import { getPass, standaloneContext } from '@onnxkit/passes';
import * as ort from 'onnxruntime-node';
import { afterAll, describe, expect, it } from 'vitest';
import { OPS } from '../../src/ops/registry.js';
import { ORT_FLOAT16_WHY, type OrtFloat16 } from '../../src/ops/types.js';

const H = DataType.FLOAT16;
const I = DataType.INT64;
const X4 = [2, 3, 4, 4];

/** How to build each op around a float16 tensor `x` ([2, 3, 4, 4]) or inputs of its own: its outputs. */
type Build = (b: GraphBuilder, x: Value) => Value[];
const BUILD: Record<string, Build> = {
  Det: (b) => [b.op('Det', [b.input('m', H, [2, 3, 3])])],
  LpPool: (b, x) => [b.op('LpPool', [x], { kernel_shape: [2, 2] })],
  EyeLike: (b) => [b.op('EyeLike', [b.input('m', H, [3, 3])])],
  OneHot: (b) => [b.op('OneHot', [b.input('ind', I, [3]), b.constant('depth', Tensor.fromNumbers(I, [], [4])), b.input('vals', H, [2])])],
  Range: (b) => [b.op('Range', [b.input('s', H, []), b.input('l', H, []), b.input('d', H, [])])],
  GridSample: (b, x) => [b.op('GridSample', [x, b.input('g', H, [2, 4, 4, 2])])],
  NegativeLogLikelihoodLoss: (b, x) => [b.op('NegativeLogLikelihoodLoss', [x, b.input('t', I, [2, 4, 4])])],
  SoftmaxCrossEntropyLoss: (b, x) => [b.op('SoftmaxCrossEntropyLoss', [x, b.input('t', I, [2, 4, 4])])],
  RandomNormal: (b) => [b.op('RandomNormal', [], { shape: [2, 3], dtype: H })],
  RandomUniform: (b) => [b.op('RandomUniform', [], { shape: [2, 3], dtype: H })],
  Multinomial: (b) => [b.op('Multinomial', [b.input('p', H, [2, 3])])],
  RNN: (b) => [b.node('RNN', [b.input('X', H, [2, 1, 3]), b.input('W', H, [1, 4, 3]), b.input('R', H, [1, 4, 4])], { hidden_size: 4 }).outputs[0]!],
  GRU: (b) => [b.node('GRU', [b.input('X', H, [2, 1, 3]), b.input('W', H, [1, 12, 3]), b.input('R', H, [1, 12, 4])], { hidden_size: 4 }).outputs[0]!],
  LSTM: (b) => [b.node('LSTM', [b.input('X', H, [2, 1, 3]), b.input('W', H, [1, 16, 3]), b.input('R', H, [1, 16, 4])], { hidden_size: 4 }).outputs[0]!],
  GatherElements: (b, x) => [b.op('GatherElements', [x, b.input('idx', I, X4)])],
  // (a symbolic batch: onnxruntime folds the Shape of a static shape away)
  Shape: (b) => [b.op('Shape', [b.input('xs', H, ['N', 3, 4, 4])])],
  Shrink: (b, x) => [b.op('Shrink', [x], { lambd: Attribute.float('lambd', 0.25) })],
  Mod: (b, x) => [b.op('Mod', [x, b.input('d', H, X4)], { fmod: 1 })],
  GatherND: (b, x) => [b.op('GatherND', [x, b.input('idx', I, [2, 1])])],
  Compress: (b, x) => [b.op('Compress', [x, b.input('keep', DataType.BOOL, [2])], { axis: 0 })],
  ReverseSequence: (b, x) => [b.op('ReverseSequence', [x, b.input('lens', I, [3])], { batch_axis: 1, time_axis: 0 })],
};

/** onnxruntime feeds for `m`'s inputs: float16 values in (−2, 2), int64 zeros (valid indices), bool true; symbolic dims 2. */
function feedsFor(m: Model): Record<string, ort.Tensor> {
  const feeds: Record<string, ort.Tensor> = {};
  for (const v of m.graph.inputs) {
    const dims = (v.shape ?? []).map((d) => (typeof d === 'number' ? d : 2));
    const n = dims.reduce((a, d) => a * d, 1);
    if (v.dtype === H) feeds[v.name] = new ort.Tensor('float16', Uint16Array.from({ length: n }, (_, i) => 0x3800 + ((i * 37) % 512) + (i % 2) * 0x8000), dims);
    else if (v.dtype === DataType.FLOAT) feeds[v.name] = new ort.Tensor('float32', Float32Array.from({ length: n }, (_, i) => Math.sin(i * 0.7) * 3), dims);
    else if (v.dtype === I) feeds[v.name] = new ort.Tensor('int64', new BigInt64Array(n).fill(1n), dims);
    else feeds[v.name] = new ort.Tensor('bool', new Uint8Array(n).fill(1), dims);
  }
  return feeds;
}

const dir = mkdtempSync(join(tmpdir(), 'onnxkit-ort-float16-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** What onnxruntime does with a float16 model: the Casts it inserts, or the error it gives and where (creating the session, or running it). */
type Outcome = { casts: number } | { error: string; at: 'create' | 'run' };

/** What onnxruntime does with `op` in float16 (a one-node model at opset 21). */
async function inFloat16(op: string, run = false): Promise<Outcome> {
  const b = new GraphBuilder({ opset: 21 });
  const build = BUILD[op];
  const outs = build ? build(b, b.input('x', H, X4)) : [b.op(op, [b.input('x', H, X4)])];
  outs.forEach((o, i) => b.output(o, `y${i}`));
  return ortFloat16(b.build(), op, run);
}

/** onnxruntime's session of `model` (level basic): the Casts in its optimized graph, or its error. */
async function ortFloat16(model: Model, name: string, run: boolean): Promise<Outcome> {
  const out = join(dir, `${name}.onnx`);
  let session: ort.InferenceSession;
  try {
    session = await ort.InferenceSession.create(encode(model), { graphOptimizationLevel: 'basic', optimizedModelFilePath: out, intraOpNumThreads: 1, logSeverityLevel: 4 });
  } catch (e) {
    return { error: e instanceof Error ? e.message : String(e), at: 'create' };
  }
  try {
    // (run: it also computes, as a session alone does not show: a kernel may refuse float16 at run time)
    if (run) await session.run(feedsFor(model));
  } catch (e) {
    return { error: e instanceof Error ? e.message : String(e), at: 'run' };
  } finally {
    await session.release();
  }
  return { casts: [...decode(readFileSync(out)).graph].filter((n) => n.opType === 'Cast').length };
}

/** `r` is what `why` says onnxruntime does in float16 (undefined: its own float16 kernel, no Cast). */
function expectOutcome(why: OrtFloat16 | undefined, r: Outcome, label: string): void {
  if (why === undefined) expect(r, label).toEqual({ casts: 0 });
  else if (why === 'casts') expect((r as { casts: number }).casts, label).toBeGreaterThan(0);
  else if (why === 'no-kernel') expect(r, label).toEqual({ error: expect.stringMatching(/Could not find an implementation/) as string, at: 'create' });
  else if (why === 'rejects') expect(r, label).toEqual({ error: expect.stringMatching(/Type 'tensor\(float16\)' of input parameter .* is invalid/) as string, at: 'create' });
  else expect(r, label).toEqual({ error: expect.stringMatching(/MLFloat16 data type is not supported/) as string, at: 'run' });
}

/** Ops onnxruntime 1.30 runs in float16 with its own kernels, declared `fp16` (convert-fp16 kept them float32 behind Casts before). */
const FLOAT16_NATIVE = ['Shrink', 'IsNaN', 'Shape', 'Mod', 'GatherElements', 'GatherND', 'Compress', 'ReverseSequence'];

describe("ops' ort.float16 facet against onnxruntime-node 1.30", () => {
  const declared = OPS.filter((op) => op.ort?.float16 !== undefined);

  it('is declared only by ops convert-fp16 keeps in float32 (no fp16 facet)', () => {
    expect(declared.length).toBeGreaterThan(30);
    expect(declared.filter((op) => op.fp16 !== undefined).map((op) => op.type)).toEqual([]);
  });

  for (const op of declared) {
    const kind = op.ort!.float16!;
    it(`${op.type}: ${kind}`, async () => {
      expectOutcome(kind, await inFloat16(op.type, kind === 'fails-at-run'), op.type);
    });
  }

  for (const op of FLOAT16_NATIVE) {
    it(`${op}: declared fp16, and onnxruntime runs it in float16 without a Cast`, async () => {
      const def = OPS.find((o) => o.type === op && o.domain === '')!;
      expect(def.fp16?.keepFloat32, op).toEqual([]);
      // Shape reads its input for the shape only: any float type, never cast (Fp16Facet.anyFloat).
      expect(def.fp16?.anyFloat, op).toEqual(op === 'Shape' ? [0] : undefined);
      expect(def.ort?.float16).toBeUndefined();
      expect(await inFloat16(op, true)).toEqual({ casts: 0 });
    });
  }
});

/**
 * The forms of the ops float16-safe per node (`fp16.unsafeFor`): the opsets where the op's
 * schema or float16 support changes (IsInf-10 → IsInf-20; ScatterElements/ScatterND-11, 13,
 * 16 with add/mul, 18 with max/min) and every value of the attributes that could matter, each
 * a one-node float16 model onnxruntime creates and runs.
 */
const PER_NODE: Record<string, { opsets: number[]; forms: (opset: number) => Record<string, AttributeInput>[]; build: (b: GraphBuilder, attrs: Record<string, AttributeInput>) => Value }> = {
  IsInf: {
    opsets: [10, 13, 19, 20, 21],
    forms: (): Record<string, AttributeInput>[] => [{}, { detect_negative: 0 }, { detect_positive: 0 }, { detect_negative: 0, detect_positive: 0 }],
    build: (b, attrs) => b.op('IsInf', [b.input('x', H, X4)], attrs, { name: 'n' }),
  },
  ...Object.fromEntries(
    ['ScatterElements', 'ScatterND'].map((op) => {
      const nd = op === 'ScatterND';
      return [
        op,
        {
          opsets: [11, 13, 16, 18, 21],
          forms: (opset: number) => [{}, ...(opset >= 16 ? ['none', 'add', 'mul'] : []), ...(opset >= 18 ? ['max', 'min'] : [])].map((r) => (typeof r === 'string' ? { reduction: r } : r)),
          build: (b: GraphBuilder, attrs: Record<string, AttributeInput>) => {
            const idx = b.constant('i', Tensor.fromNumbers(I, nd ? [1, 1] : [2, 1], nd ? [1] : [0, 2]));
            return b.op(op, [b.input('x', H, [2, 3]), idx, b.input('u', H, nd ? [1, 3] : [2, 1])], nd ? attrs : { axis: 1, ...attrs }, { name: 'n' });
          },
        },
      ];
    }),
  ),
};

describe('the per-node float16 safety of IsInf, ScatterElements and ScatterND (fp16.unsafeFor) against onnxruntime-node 1.30', () => {
  const perNode = OPS.filter((op) => op.fp16?.unsafeFor !== undefined);

  it('is declared by exactly the ops whose forms are run here, none of which states a float16 reason for the whole op', () => {
    expect(perNode.map((op) => op.type).sort()).toEqual(Object.keys(PER_NODE).sort());
    for (const op of perNode) expect(op.ort?.float16, op.type).toBeUndefined();
  });

  for (const op of perNode) {
    const spec = PER_NODE[op.type]!;
    const cases = spec.opsets.flatMap((opset) =>
      spec.forms(opset).map((attrs) => {
        const b = new GraphBuilder({ opset });
        b.output(spec.build(b, attrs), 'y');
        const model = b.build();
        const why = op.fp16!.unsafeFor!(model.graph.nodes.find((n) => n.name === 'n')!, opset);
        return { label: `${op.type} at opset ${opset} ${JSON.stringify(attrs)}`, model, why };
      }),
    );

    it(`${op.type}: some forms are float16-safe and some are not (a per-node facet, not a per-op one)`, () => {
      expect(cases.some((c) => c.why === undefined), op.type).toBe(true);
      expect(cases.some((c) => c.why !== undefined), op.type).toBe(true);
    });

    for (const c of cases) {
      it(`${c.label}: ${c.why ?? 'float16, its own kernel'}`, async () => {
        expectOutcome(c.why, await ortFloat16(c.model, `${op.type}-per-node`, true), c.label);
      });
    }
  }
});

/**
 * convert-fp16 with the ops declared `fp16` above: before, each stayed float32 between a Cast to
 * float32 and one back; now each reads and writes float16 (Shape and IsNaN write int64 and
 * bool) and the converted model runs in onnxruntime with outputs matching the float32 model.
 */
describe('convert-fp16 runs the float16-native ops in float16', () => {
  it('no Cast around Shrink, IsNaN, Shape, Mod, GatherElements, GatherND, Compress, ReverseSequence; outputs match', async () => {
    const F = DataType.FLOAT;
    const b = new GraphBuilder({ opset: 17 });
    const x = b.input('x', F, ['N', 3, 4, 4]);
    const w = (name: string, dims: number[], f: (i: number) => number): Value => b.constant(name, Tensor.fromArray(F, dims, Float32Array.from({ length: dims.reduce((a, d) => a * d, 1) }, (_, i) => f(i))));
    // (only these ops between the boundary Casts: onnxruntime 1.30 runs e.g. Mul and Relu in float32 between Casts of its own)
    const h = b.op('Shrink', [x], { lambd: Attribute.float('lambd', 0.25), bias: Attribute.float('bias', 0.125) }, { name: 'shrink' });
    const mod = b.op('Mod', [h, w('div', [1, 3, 1, 1], (i) => 0.75 + i / 2)], { fmod: 1 }, { name: 'mod' });
    const ge = b.op('GatherElements', [mod, b.constant('gi', Tensor.fromNumbers(I, [1, 3, 4, 4], Array.from({ length: 48 }, (_, i) => (i * 5) % 4)))], { axis: 3 }, { name: 'gatherelements' });
    const gnd = b.op('GatherND', [ge, b.constant('ni', Tensor.fromNumbers(I, [2, 1], [0, 0]))], {}, { name: 'gathernd' });
    const cmp = b.op('Compress', [gnd, b.constant('keep', Tensor.fromNumbers(DataType.BOOL, [3], [1, 0, 1]))], { axis: 1 }, { name: 'compress' });
    const rev = b.op('ReverseSequence', [cmp, b.constant('lens', Tensor.fromNumbers(I, [2], [2, 1]))], { batch_axis: 1, time_axis: 0 }, { name: 'reverse' });
    b.output(rev, 'y');
    b.output(b.op('Shape', [h], {}, { name: 'shape' }), 'dims');
    b.output(b.op('IsNaN', [h], {}, { name: 'isnan' }), 'nans');
    // (no IsInf: float16 only from opset 20, see above)
    const model = b.build();
    const fp32 = encode(model);
    const r = await getPass('convert-fp16').run(model, standaloneContext({}));
    expect(r.declined.filter((d) => d.reason === 'not-fp16-safe')).toEqual([]);
    for (const name of ['mod', 'gatherelements', 'gathernd', 'compress', 'reverse', 'shape', 'isnan']) {
      const n = model.graph.nodes.find((k) => k.name === name)!;
      expect(n.inputs[0]!.producer?.opType, name).not.toBe('Cast');
      // (reverse's output is the graph output: its Cast back to float32 is the boundary one)
      if (name !== 'reverse') for (const o of n.outputs) expect(o.uses.filter((u) => u.node.opType === 'Cast' && u.node.getInt('to') === DataType.FLOAT).length, name).toBe(0);
    }
    // Casts only at the boundary: x to float16, y back to float32; none added by onnxruntime either (its optimized graph).
    expect(model.graph.nodes.filter((n) => n.opType === 'Cast')).toHaveLength(2);
    const optimized = join(dir, 'converted.onnx');
    await (await ort.InferenceSession.create(encode(model), { graphOptimizationLevel: 'basic', optimizedModelFilePath: optimized, intraOpNumThreads: 1 })).release();
    expect([...decode(readFileSync(optimized)).graph].filter((n) => n.opType === 'Cast')).toHaveLength(2);
    const run = async (bytes: Uint8Array): Promise<Record<string, ort.Tensor>> => {
      const s = await ort.InferenceSession.create(bytes, { graphOptimizationLevel: 'basic', intraOpNumThreads: 1 });
      try {
        return await s.run(feedsFor(model));
      } finally {
        await s.release();
      }
    };
    const [a, c] = [await run(fp32), await run(encode(model))];
    expect(c['y']!.type).toBe('float32');
    expect(c['y']!.dims).toEqual(a['y']!.dims);
    const ya = a['y']!.data as Float32Array;
    const yc = c['y']!.data as Float32Array;
    // float16 rounding of the input and of the fmod (inputs below 3 in magnitude, |y| < 1.75): a few float16 ulps
    let maxErr = 0;
    for (let i = 0; i < ya.length; i++) maxErr = Math.max(maxErr, Math.abs(ya[i]! - yc[i]!));
    expect(maxErr).toBeLessThan(1e-2);
    expect(c['dims']!.data).toEqual(a['dims']!.data);
    expect(c['nans']!.data).toEqual(a['nans']!.data);
  });
});

describe('convert-fp16 leaves the input of Shape as it is', () => {
  it('a Shape of a float32 tensor that stays float32 gets no float16 Cast, and a graph with nothing else to convert is not changed', async () => {
    const F = DataType.FLOAT;
    const b = new GraphBuilder({ opset: 17 });
    const x = b.input('x', F, ['N', 64, 8, 8]);
    b.output(b.op('Celu', [x], {}, { name: 'celu' }), 'y'); // not float16-safe: stays float32
    b.output(b.op('Shape', [x], {}, { name: 'shape' }), 'dims');
    const model = b.build();
    const before = encode(model);
    const r = await getPass('convert-fp16').run(model, standaloneContext({}));
    expect(r.changes).toBe(0);
    expect(Buffer.compare(encode(model), before)).toBe(0);
    expect(model.graph.nodes.filter((n) => n.opType === 'Cast')).toHaveLength(0);
  });

  it('beside a converted node, a Shape of the float32 input reads it as it is (no Cast of the whole tensor to read its dims)', async () => {
    const F = DataType.FLOAT;
    const b = new GraphBuilder({ opset: 17 });
    const x = b.input('x', F, ['N', 64, 8, 8]);
    b.output(b.op('Relu', [x], {}, { name: 'relu' }), 'y');
    b.output(b.op('Shape', [x], {}, { name: 'shape' }), 'dims');
    const model = b.build();
    await getPass('convert-fp16').run(model, standaloneContext({}));
    const shape = model.graph.nodes.find((n) => n.name === 'shape')!;
    expect(shape.inputs[0]!.name).toBe('x');
    expect(model.graph.nodes.find((n) => n.name === 'relu')!.inputs[0]!.producer?.opType).toBe('Cast');
  });
});

describe("convert-fp16 gives the op's reason for keeping it float32", () => {
  it('says why Tan stays float32 (no float16 kernel), why a ScatterND with a reduction does (per node), and only that an undeclared op is not declared safe', async () => {
    const b = new GraphBuilder({ opset: 17 });
    const x = b.input('x', DataType.FLOAT, [2, 3]);
    const w = b.constant('w', Tensor.fromArray(DataType.FLOAT, [3, 3], Float32Array.from({ length: 9 }, (_, i) => i / 9)));
    const m = b.op('MatMul', [x, w], {}, { name: 'mm' });
    const tan = b.op('Tan', [m], {}, { name: 'tan' });
    const idx = b.constant('idx', Tensor.fromNumbers(DataType.INT64, [1, 1], [0]));
    const scatter = b.op('ScatterND', [b.op('MatMul', [tan, w], {}, { name: 'mm2' }), idx, b.input('u', DataType.FLOAT, [1, 3])], { reduction: 'add' }, { name: 'scatter' });
    b.output(b.opN('TopK', [scatter, b.constant('k', Tensor.fromNumbers(DataType.INT64, [1], [2]))], 2, { axis: 1 }, { name: 'topk' })[0]!, 'y');
    const model = b.build();
    const r = await getPass('convert-fp16').run(model, standaloneContext({}));
    const why = (node: string): string | undefined => r.declined.find((d) => d.node === node && d.reason === 'not-fp16-safe')?.detail;
    expect(why('tan')).toBe(`Tan is not declared float16-safe (its fp16 facet, ops/): stays float32: ${ORT_FLOAT16_WHY.casts}`);
    expect(why('scatter')).toBe(`ScatterND is float16-safe only in some forms (its fp16 facet, ops/): this one, at opset 17, stays float32: ${ORT_FLOAT16_WHY['fails-at-run']}`);
    expect(why('topk')).toBe('TopK is not declared float16-safe (its fp16 facet, ops/): stays float32');
  });
});

/**
 * convert-fp16 with the ops float16-safe per node: before, every IsInf, ScatterElements and
 * ScatterND stayed float32 between Casts; now the nodes onnxruntime runs in float16 with its own
 * kernels are converted, and the others stay float32 with their reason — and the converted model
 * runs in onnxruntime (which a float16 ScatterND with a reduction, or a float16 IsInf at opset
 * 19, would not) with the float32 model's outputs.
 */
describe('convert-fp16 converts IsInf, ScatterElements and ScatterND per node', () => {
  const build = (opset: number): Model => {
    const F = DataType.FLOAT;
    const b = new GraphBuilder({ opset });
    const x = b.input('x', F, [2, 3]);
    const u = b.input('u', F, [2, 1]);
    const v = b.input('v', F, [1, 3]);
    const ei = b.constant('ei', Tensor.fromNumbers(I, [2, 1], [0, 2]));
    const ni = b.constant('ni', Tensor.fromNumbers(I, [1, 1], [1]));
    const se = b.op('ScatterElements', [x, ei, u], { axis: 1, reduction: 'max' }, { name: 'se_max' });
    const seAdd = b.op('ScatterElements', [se, ei, u], { axis: 1, reduction: 'add' }, { name: 'se_add' });
    const nd = b.op('ScatterND', [seAdd, ni, v], {}, { name: 'nd' });
    b.output(b.op('ScatterND', [nd, ni, v], { reduction: 'max' }, { name: 'nd_max' }), 'y');
    b.output(b.op('IsInf', [se], { detect_negative: 0 }, { name: 'isinf' }), 'inf');
    return b.build();
  };
  const feeds = (): Record<string, ort.Tensor> => ({
    x: new ort.Tensor('float32', Float32Array.of(1.5, -2, Infinity, 0.25, -Infinity, 3), [2, 3]),
    u: new ort.Tensor('float32', Float32Array.of(0.5, -1.25), [2, 1]),
    v: new ort.Tensor('float32', Float32Array.of(2, -0.5, 0.75), [1, 3]),
  });
  const run = async (m: Model): Promise<Record<string, ort.Tensor>> => {
    const s = await ort.InferenceSession.create(encode(m), { graphOptimizationLevel: 'basic', intraOpNumThreads: 1 });
    try {
      return await s.run(feeds());
    } finally {
      await s.release();
    }
  };

  for (const opset of [18, 21]) {
    it(`opset ${opset}: ScatterElements max and ScatterND without reduction${opset >= 20 ? ' and IsInf' : ''} run in float16; ScatterElements add, ScatterND max${opset < 20 ? ' and IsInf' : ''} stay float32, each with its reason; outputs match`, async () => {
      const model = build(opset);
      const a = await run(model);
      const r = await getPass('convert-fp16').run(model, standaloneContext({}));
      const node = (name: string) => model.graph.nodes.find((n) => n.name === name)!;
      const kept = Object.fromEntries(r.declined.filter((d) => d.reason === 'not-fp16-safe').map((d) => [d.node, d.detail]));
      const perNode = (op: string, why: OrtFloat16): string => `${op} is float16-safe only in some forms (its fp16 facet, ops/): this one, at opset ${opset}, stays float32: ${ORT_FLOAT16_WHY[why]}`;
      expect(kept).toEqual({
        se_add: perNode('ScatterElements', 'fails-at-run'),
        nd_max: perNode('ScatterND', 'fails-at-run'),
        ...(opset < 20 ? { isinf: perNode('IsInf', 'rejects') } : {}),
      });
      // A converted node reads float16 (a Cast's, or a converted node's output), a kept one float32 (a Cast back).
      const reads = (name: string): string => {
        const p = node(name).inputs[0]!.producer!;
        return p.opType === 'Cast' ? DataType[p.getInt('to')!]! : p.name;
      };
      expect(reads('se_max')).toBe('FLOAT16');
      expect(reads('se_add')).toBe('FLOAT');
      expect(reads('nd')).toBe('FLOAT16');
      expect(reads('nd_max')).toBe('FLOAT');
      expect(reads('isinf')).toBe(opset >= 20 ? 'se_max' : 'FLOAT');
      const c = await run(model);
      expect(Array.from(c['y']!.data as Float32Array)).toEqual(Array.from(a['y']!.data as Float32Array));
      expect(Array.from(c['inf']!.data as Uint8Array)).toEqual(Array.from(a['inf']!.data as Uint8Array));
    });
  }
});
