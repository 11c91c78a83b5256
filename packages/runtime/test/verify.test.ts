// verifyModels end to end in onnxruntime: a model against its own round trip (equivalent), a
// copy with one perturbed Conv weight (not equivalent, and bisect names exactly that Conv's
// output), exact integer outputs, interface mismatches (VerifyError), input files, benching,
// progress, and "nothing compared" never passing.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { cloneModel, DataType, GraphBuilder, Tensor, type Model } from '@onnxkit/graph';
import { decode, encode, ImportError } from '@onnxkit/importer';
import { resnet50 } from '@onnxkit/zoo';
import { bisectModels, encodeNpz, RuntimeError, runModel, syntheticInputs, verifyModels, VerifyError, type VerifyProgress } from '@onnxkit/runtime';
import { convnet, floats, mlp, workerRecordingSessions } from './helpers.js';
import { rejection, scratchDir } from '../../../test/helpers/errors.js';

const dir = scratchDir('verify');

/** A copy of `model` with weight element `index` of initializer `name` changed by `delta`. */
function perturb(model: Model, name: string, index: number, delta: number): Model {
  const copy = cloneModel(model);
  const v = copy.graph.initializers.get(name);
  if (v === undefined || v.constValue === null) throw new Error(`no initializer ${name}`);
  const data = Float32Array.from(v.constValue.toArray() as Float32Array);
  data[index] = data[index]! + delta;
  v.constValue = Tensor.fromArray(DataType.FLOAT, v.constValue.dims, data, { name });
  return copy;
}

describe('zoo ResNet-50', () => {
  const model = resnet50();

  test('a model and its own decode(encode()) round trip are equivalent', { timeout: 120_000 }, async () => {
    const roundTrip = decode(encode(model));
    const r = await verifyModels(model, roundTrip, { seed: 1 });
    expect(r.equivalent).toBe(true);
    expect(r.reason).toBeNull();
    expect(r.outputs).toHaveLength(1);
    expect(r.outputs[0]).toMatchObject({ name: 'output', pass: true, mismatches: 0, total: 1000, compared: 1000, maxAbsError: 0, cosine: 1 });
    expect(r.compared).toBe(1000);
    expect(r.inputs).toMatchObject({ source: 'synthetic', seed: 1, distribution: 'uniform', shapes: { input: [1, 3, 224, 224] } });
    expect(r.firstDivergence).toBeUndefined();
    expect(JSON.parse(JSON.stringify(r)).outputs[0].maxAbsError).toBe(0);
  });

  test('one perturbed Conv weight is caught, and bisect names exactly that Conv output', { timeout: 120_000 }, async () => {
    const conv = model.graph.nodes.find((n) => n.name === 'layer2.1.conv2')!;
    expect(conv.opType).toBe('Conv');
    const weight = conv.inputs[1]!.name;
    const broken = perturb(model, weight, 1234, 0.5);
    const phases: VerifyProgress['phase'][] = [];
    const r = await verifyModels(model, broken, { seed: 1, bisect: true, onProgress: (p) => phases.push(p.phase) });
    expect(r.equivalent).toBe(false);
    expect(r.outputs[0]!.pass).toBe(false);
    expect(r.outputs[0]!.mismatches).toBeGreaterThan(0);
    expect(r.reason).toMatch(/^output 'output': \d+ of 1000 elements differ by more than atol 0\.00001 and rtol 0\.0001$/);
    expect(r.firstDivergence).toBeDefined();
    expect(r.firstDivergence!.value).toBe(conv.outputs[0]!.name);
    expect(r.firstDivergence!.node).toEqual({ name: 'layer2.1.conv2', opType: 'Conv' });
    expect(r.firstDivergence!.comparison.pass).toBe(false);
    // Everything before the Conv matched; the bisect went through those values in order.
    expect(r.bisect!.valuesChecked).toBe(model.graph.nodes.indexOf(conv) + 1);
    expect(r.bisect!.candidates).toBe(model.graph.nodeCount);
    expect(phases).toEqual(['load', 'load', 'inputs', 'run', 'run', 'compare', ...phases.filter((p) => p === 'bisect'), 'done']);
    expect(phases).toContain('bisect');
    // The report is plain JSON data (no bigints, no non-finite numbers).
    expect(JSON.parse(JSON.stringify(r))).toEqual(r);
  });
});

describe('bisect', () => {
  test('finds the first diverging value across several chunks and stops there', async () => {
    const a = convnet();
    const b = perturb(a, 'conv2.weight', 5, 0.75);
    const feeds = syntheticInputs(a, { seed: 3 });
    const all = await bisectModels(a, b, feeds, { chunkValues: 1 });
    expect(all.firstDivergence!.value).toBe('conv2_output_0');
    expect(all.firstDivergence!.node).toEqual({ name: 'conv2', opType: 'Conv' });
    expect(all.chunks).toBe(3); // conv1, relu1, conv2 — pool never exposed
    expect(all.valuesChecked).toBe(3);
    const first = await bisectModels(a, perturb(a, 'conv1.weight', 0, 0.75), feeds, { chunkValues: 2 });
    expect(first.firstDivergence!.node.name).toBe('conv1');
    expect(first.chunks).toBe(1);
  });

  test('a tiny perturbation within tolerance is not a divergence', async () => {
    const a = convnet();
    const feeds = syntheticInputs(a, { seed: 3 });
    const r = await bisectModels(a, perturb(a, 'conv2.weight', 5, 1e-9), feeds);
    expect(r.firstDivergence).toBeNull();
    expect(r.valuesChecked).toBe(4);
  });

  test('undeclared values onnxruntime-node cannot return (bfloat16) are skipped, the rest still bisected', async () => {
    const build = (k: number) => {
      const b = new GraphBuilder({ name: `bf16-${k}` });
      const x = b.input('x', DataType.FLOAT, [4]);
      const half = b.op('Cast', [x], { to: DataType.BFLOAT16 }, { name: 'to_bf16' });
      const back = b.op('Cast', [half], { to: DataType.FLOAT }, { name: 'to_f32' });
      b.output(b.op('Mul', [back, b.floats('k', [], [k])], {}, { name: 'scale' }), 'y', { kind: 'tensor', elemType: DataType.FLOAT, shape: [4] });
      return b.build();
    };
    const feeds = syntheticInputs(build(2), { seed: 1 });
    const r = await bisectModels(build(2), build(3), feeds);
    expect(r.firstDivergence!.node).toEqual({ name: 'scale', opType: 'Mul' });
    expect(r.skipped.map((x) => x.value).sort()).toEqual(['to_bf16_output_0', 'to_f32_output_0']);
    expect(r.skipped[0]!.reason).toMatch(/type not declared, and exposing it failed: .*Unsupported data type: 16/);
  });

  test('values renamed in B are not compared; only shared names count', async () => {
    const a = convnet();
    const b = perturb(a, 'conv1.weight', 0, 0.75);
    b.graph.nodes.find((n) => n.name === 'conv1')!.outputs[0]!.name = 'renamed';
    const r = await bisectModels(a, b, syntheticInputs(a, { seed: 3 }));
    expect(r.candidates).toBe(3);
    expect(r.firstDivergence!.value).toBe('relu1_output_0');
  });
});

describe('verifyModels', () => {
  test('integer outputs are compared exactly, whatever the tolerance', async () => {
    const build = (offset: number) => {
      const b = new GraphBuilder({ name: offset ? 'shifted' : 'base' });
      const x = b.input('x', DataType.FLOAT, [16]);
      const scaled = b.op('Mul', [x, b.floats('k', [], [100])]);
      b.output(b.op('Add', [scaled, b.floats('o', [], [offset])]), 'f', { kind: 'tensor', elemType: DataType.FLOAT, shape: [16] });
      const i = b.op('Cast', [b.op('Floor', [scaled])], { to: DataType.INT64 });
      b.output(b.op('Add', [i, b.int64s('io', [offset], [])]), 'i', { kind: 'tensor', elemType: DataType.INT64, shape: [16] });
      return b.build();
    };
    const r = await verifyModels(build(0), build(1), { atol: 10 });
    expect(r.equivalent).toBe(false);
    const f = r.outputs.find((o) => o.name === 'f')!;
    const i = r.outputs.find((o) => o.name === 'i')!;
    expect(f.pass).toBe(true);
    expect(f.maxAbsError).toBeCloseTo(1, 5);
    expect(i.exact).toBe(true);
    expect(i.pass).toBe(false);
    expect(i.mismatches).toBe(16);
    expect(r.reason).toMatch(/output 'i': 16 of 16 elements differ \(compared exactly\)/);
  });

  test('mismatched interfaces are VerifyErrors (exit-code-2 class)', async () => {
    const renamed = mlp();
    renamed.graph.inputs[0]!.name = 'x2';
    let e = (await rejection(verifyModels(mlp(), renamed))) as VerifyError;
    expect(e).toBeInstanceOf(VerifyError);
    expect(e.code).toBe('VERIFY_MODEL_MISMATCH');
    expect(e.message).toBe('models A and B have different inputs: only in A: x; only in B: x2');

    const b = new GraphBuilder({ name: 'double' });
    const x = b.input('x', DataType.FLOAT, ['N', 4]);
    b.output(b.op('Cast', [b.op('Identity', [x])], { to: DataType.DOUBLE }), 'z', { kind: 'tensor', elemType: DataType.DOUBLE, shape: ['N', 4] });
    e = (await rejection(verifyModels(mlp(), b.build()))) as VerifyError;
    expect(e.message).toMatch(/output 'z' is float\[N,3\] in A but double\[N,4\] in B/);

    const c = new GraphBuilder({ name: 'static' });
    const cx = c.input('x', DataType.FLOAT, [2, 5]);
    c.output(c.op('MatMul', [cx, c.floats('w', [5, 3], new Array(15).fill(0))]), 'z', { kind: 'tensor', elemType: DataType.FLOAT, shape: [2, 3] });
    e = (await rejection(verifyModels(mlp({ batch: 2 }), c.build()))) as VerifyError;
    expect(e.message).toMatch(/input 'x' is float\[2,4\] in A but float\[2,5\] in B; one input cannot feed both/);
  });

  // A malformed file onnxruntime refuses gets the importer's typed error, with its byte offset
  // (onnxruntime says only 'Protobuf parsing failed'); a well-formed one it refuses, its own.
  test('a model onnxruntime cannot load is a RuntimeError naming it; a malformed one the importer\'s error', async () => {
    const p = join(dir, 'bad.onnx');
    writeFileSync(p, 'nope');
    const bad = (await rejection(verifyModels(mlp(), p))) as ImportError;
    expect(bad).toBeInstanceOf(ImportError);
    expect([bad.file, bad.byteOffset, bad.code]).toEqual([p, 0, 'IMPORT_NOT_ONNX']);
    const q = join(dir, 'unknown-op.onnx');
    const b = new GraphBuilder({ opset: 17 });
    b.output(b.op('NoSuchOperator', [b.input('x', DataType.FLOAT, [3, 4])]), 'y', { kind: 'tensor', elemType: DataType.FLOAT, shape: [3, 4] });
    writeFileSync(q, encode(b.build()));
    const e = (await rejection(verifyModels(mlp(), q))) as RuntimeError;
    expect(e).toBeInstanceOf(RuntimeError);
    expect(e.model).toBe(q);
    expect(e.exitCode).toBe(2);
  });

  test('input files feed both models; the report says which', async () => {
    const p = join(dir, 'inputs.npz');
    const x = Tensor.fromArray(DataType.FLOAT, [3, 4], floats(12, 21), { name: 'x' });
    writeFileSync(p, encodeNpz({ x }));
    const r = await verifyModels(mlp(), decode(encode(mlp())), { inputFiles: [p] });
    expect(r.equivalent).toBe(true);
    expect(r.inputs).toEqual({ source: 'files', files: [p], shapes: { x: [3, 4] } });
    expect(r.compared).toBe(9);
    const want = await runModel(mlp(), { x });
    const broken = perturb(mlp(), 'bias', 0, 1);
    const r2 = await verifyModels(mlp(), broken, { inputs: { x }, bisect: true });
    expect(r2.equivalent).toBe(false);
    expect(r2.inputs).toEqual({ source: 'given', shapes: { x: [3, 4] } });
    expect(r2.firstDivergence!.node).toEqual({ name: 'fc1_bias', opType: 'Add' });
    expect(r2.outputs[0]!.maxAbsError).toBeGreaterThan(0);
    expect(want.get('z')!.dims).toEqual([3, 3]);
  });

  test('symbolic dims are bound by inputShapes for both models', async () => {
    const r = await verifyModels(mlp(), mlp(), { inputShapes: { x: [7, 4] } });
    expect(r.equivalent).toBe(true);
    expect(r.compared).toBe(21);
  });

  test('a model whose every output is empty is equivalent to itself (issue 13)', async () => {
    const b = new GraphBuilder({ name: 'empty' });
    const x = b.input('x', DataType.FLOAT, [0, 3]);
    b.output(b.op('Relu', [x]), 'y', { kind: 'tensor', elemType: DataType.FLOAT, shape: [0, 3] });
    const m = b.build();
    const r = await verifyModels(m, decode(encode(m)));
    expect(r.equivalent).toBe(true);
    expect(r.compared).toBe(0);
    expect(r.reason).toBeNull();
  });

  test('bench reports latency of both models and their ratio', async () => {
    const r = await verifyModels(mlp(), mlp(), { bench: { iterations: 7, warmup: 1 } });
    expect(r.latency).toBeDefined();
    const l = r.latency!;
    expect(l.iterations).toBe(7);
    for (const s of [l.a, l.b]) {
      expect(s.minMs).toBeLessThanOrEqual(s.p50Ms);
      expect(s.p50Ms).toBeLessThanOrEqual(s.p90Ms);
      expect(s.p90Ms).toBeLessThanOrEqual(s.p99Ms);
      expect(s.p99Ms).toBeLessThanOrEqual(s.maxMs);
    }
    expect(l.ratio).toBeGreaterThan(0);
    expect(l.ratioStats.p10).toBeLessThanOrEqual(l.ratio);
    expect(l.ratio).toBeLessThanOrEqual(l.ratioStats.p90);
    expect(l.graphOptimizationLevel).toBe('disabled');
  });

  test('sessions timed by bench do not busy-wait between turns (allow_spinning 0)', async () => {
    const { worker, sent } = workerRecordingSessions();
    try {
      const r = await verifyModels(mlp(), mlp(), { threads: 2, bench: { iterations: 2, warmup: 0 }, sessionOptions: { worker } });
      expect(r.latency?.threads).toBe(2);
      expect(sent.length).toBeGreaterThanOrEqual(2);
      for (const o of sent) expect(o).toMatchObject({ intraOpNumThreads: 2, extra: { session: { intra_op: { allow_spinning: '0' } } } });
    } finally {
      await worker.terminate();
    }
  });
});
