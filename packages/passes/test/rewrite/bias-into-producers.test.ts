/**
 * Issue 11 part 6: a detector exported from another framework has ConvTranspose → Add(per-channel
 * constant) → BatchNormalization; fuse-bias-into-conv folds the Add into ConvTranspose's bias (and
 * into Gemm's C per output column), then fold-batchnorm folds the BN: one node is left. Checked
 * in onnxruntime-node at graphOptimizationLevel 'disabled' on the model files as written, with
 * verify() after every change; negatives for each precondition with the typed reason.
 */
import { Attribute, DataType, GraphBuilder, type Model, type Value } from '@onnxkit/graph';
import { decode, encode } from '@onnxkit/importer';
import { runPipeline } from '@onnxkit/passes';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { closeWorker, f32, inputsFor, opTypes, ortRun, rnd, runPass, runTwice } from './helpers.js';
import { compareOutputs } from '@onnxkit/runtime';

afterAll(closeWorker);

const tmp = mkdtempSync(join(tmpdir(), 'onnxkit-bias-'));

interface CtOptions {
  group?: number;
  bias?: boolean;
  addDims?: number[];
  addFirst?: boolean;
  bn?: boolean;
  weightInput?: boolean;
  shareWeight?: boolean;
  extraUse?: boolean;
  graphOutput?: boolean;
  addNotConstant?: boolean;
  unknownAttr?: boolean;
}

/** x[1,4,5,5] → ConvTranspose(W [4, 3, 3, 3], group g: C_out = 3g, stride 2) → Add(v) → BN → y. */
function ctAddBn(o: CtOptions = {}): Model {
  const g = o.group ?? 2;
  const cout = 3 * g;
  const b = new GraphBuilder();
  const x = b.input('x', DataType.FLOAT, [1, 4, 5, 5]);
  const w = o.weightInput ? b.input('w', DataType.FLOAT, [4, 3, 3, 3]) : b.constant('w', f32([4, 3, 3, 3], rnd(1)));
  const ins: (Value | null)[] = [x, w];
  if (o.bias) ins.push(b.constant('bias', f32([cout], rnd(2))));
  const attrs: Record<string, unknown> = { group: g, strides: [2, 2], pads: [1, 1, 1, 1], output_padding: [1, 1] };
  if (o.unknownAttr) attrs['frobnicate'] = 1;
  const y = b.op('ConvTranspose', ins, attrs as never, { name: 'deconv' });
  const v = o.addNotConstant ? b.input('v', DataType.FLOAT, [1, cout, 1, 1]) : b.constant('v', f32(o.addDims ?? [1, cout, 1, 1], rnd(3)));
  const z = b.op('Add', o.addFirst ? [v, y] : [y, v], {}, { name: 'add' });
  if (o.shareWeight) b.output(b.op('ConvTranspose', [x, w], { group: g }, { name: 'other_deconv' }), 'other');
  if (o.extraUse) b.output(b.op('Relu', [y]), 'side');
  if (o.graphOutput) b.output(y, 'deconv_out');
  if (o.bn === false) {
    b.output(z, 'y');
  } else {
    const pos = (seed: number) => f32([cout], (i) => 0.5 + Math.abs(rnd(seed)(i)));
    b.output(b.op('BatchNormalization', [z, b.constant('gamma', pos(4)), b.constant('beta', f32([cout], rnd(5))), b.constant('mean', f32([cout], rnd(6))), b.constant('var', pos(7))], { epsilon: Attribute.float('epsilon', 1e-5) }, { name: 'bn' }), 'y');
  }
  return b.build();
}

interface GemmOptions {
  transB?: boolean;
  c?: number[] | null;
  beta?: number;
  addDims?: number[];
  bn?: boolean;
}

/** x[2,5] → Gemm(B, C?) → Add(v) → BN → y (3 output columns). */
function gemmAddBn(o: GemmOptions = {}): Model {
  const b = new GraphBuilder();
  const x = b.input('x', DataType.FLOAT, [2, 5]);
  const B = b.constant('B', f32(o.transB ? [3, 5] : [5, 3], rnd(11)));
  const ins: Value[] = [x, B];
  if (o.c !== null) ins.push(b.constant('C', f32(o.c ?? [3], rnd(12))));
  const attrs: Record<string, unknown> = { alpha: Attribute.float('alpha', 0.75) };
  if (o.transB) attrs['transB'] = 1;
  if (o.beta !== undefined) attrs['beta'] = Attribute.float('beta', o.beta);
  const y = b.op('Gemm', ins, attrs as never, { name: 'fc' });
  const z = b.op('Add', [y, b.constant('v', f32(o.addDims ?? [1, 3], rnd(13)))], {}, { name: 'add' });
  if (o.bn === false) b.output(z, 'y');
  else {
    const pos = (seed: number) => f32([3], (i) => 0.5 + Math.abs(rnd(seed)(i)));
    b.output(b.op('BatchNormalization', [z, b.constant('gamma', pos(14)), b.constant('beta', f32([3], rnd(15))), b.constant('mean', f32([3], rnd(16))), b.constant('var', pos(17))], { epsilon: Attribute.float('epsilon', 1e-5) }, { name: 'bn' }), 'y');
  }
  return b.build();
}

/** Writes the model to a file, reads it back: what onnxruntime runs is the file as written. */
function viaFile(m: Model, name: string): Model {
  const path = join(tmp, `${name}.onnx`);
  writeFileSync(path, encode(m));
  return decode(readFileSync(path));
}

async function foldsToOne(m: Model, name: string, op: string): Promise<void> {
  const original = viaFile(m, `${name}.orig`);
  const working = viaFile(m, `${name}.work`);
  const report = await runPipeline(working, 'default', { verify: 'change' });
  expect(report.converged).toBe(true);
  expect(opTypes(working)).toEqual([op]);
  const bias = report.runs.filter((r) => r.pass === 'fuse-bias-into-conv').reduce((n, r) => n + r.result.changes, 0);
  expect(bias, 'fuse-bias-into-conv folded the Add').toBe(1);
  const optimized = viaFile(working, `${name}.opt`);
  const feeds = await inputsFor(original, 3);
  const cmp = compareOutputs(await ortRun(original, feeds), await ortRun(optimized, feeds), { atol: 1e-5, rtol: 1e-4 });
  expect(cmp.compared).toBeGreaterThan(0);
  expect(cmp.equivalent, cmp.reason ?? '').toBe(true);
}

async function declines(m: Model, reason: string): Promise<void> {
  const before = opTypes(m);
  const r = await runPass('fuse-bias-into-conv', m);
  expect(r.modified, JSON.stringify(r.log)).toBe(false);
  expect(r.rejected[reason], JSON.stringify(r.rejected)).toBeGreaterThanOrEqual(1);
  expect(opTypes(m)).toEqual(before);
}

describe('ConvTranspose → Add(per-channel constant) → BatchNormalization becomes one ConvTranspose', () => {
  it('group 2, no bias (the detector case)', () => foldsToOne(ctAddBn(), 'ct-g2', 'ConvTranspose'));
  it('group 1, with a bias, constant placed first', () => foldsToOne(ctAddBn({ group: 1, bias: true, addFirst: true }), 'ct-g1', 'ConvTranspose'));
  it('a [C,1,1] and a scalar constant', async () => {
    await foldsToOne(ctAddBn({ addDims: [6, 1, 1] }), 'ct-c11', 'ConvTranspose');
    await foldsToOne(ctAddBn({ addDims: [] }), 'ct-scalar', 'ConvTranspose');
  });
  it('the pass alone is idempotent and leaves ConvTranspose with a bias of C_out values', async () => {
    const m = ctAddBn({ bn: false });
    const r = await runTwice('fuse-bias-into-conv', m);
    expect(r.log.map((l) => l.rule)).toEqual(['convtranspose+add']);
    expect(opTypes(m)).toEqual(['ConvTranspose']);
    expect(m.graph.nodes[0]!.inputs[2]!.constValue!.dims).toEqual([6]);
  });
});

describe('Gemm → Add(per-column constant) → BatchNormalization becomes one Gemm', () => {
  it('with C', () => foldsToOne(gemmAddBn(), 'gemm-c', 'Gemm'));
  it('transB, C of dims [1,3], constant [3]', () => foldsToOne(gemmAddBn({ transB: true, c: [1, 3], addDims: [3] }), 'gemm-tb', 'Gemm'));
  it('without C (beta 0.5 is dropped: there was no C to scale)', () => foldsToOne(gemmAddBn({ c: null, beta: 0.5 }), 'gemm-noc', 'Gemm'));
  it('the pass alone is idempotent', async () => {
    const m = gemmAddBn({ bn: false });
    const r = await runTwice('fuse-bias-into-conv', m);
    expect(r.log.map((l) => l.rule)).toEqual(['gemm+add']);
    expect(opTypes(m)).toEqual(['Gemm']);
  });
});

describe('fuse-bias-into-conv on ConvTranspose / Gemm declines with the typed reason', () => {
  it('[not-per-channel]: a [C] constant on a 4-D output broadcasts along the width', () => declines(ctAddBn({ addDims: [6], bn: false }), 'not-per-channel'));
  it('[not-per-channel]: a per-row Gemm constant', () => declines(gemmAddBn({ addDims: [2, 1], bn: false }), 'not-per-channel'));
  it('[not-per-channel]: a Gemm C that varies along the rows', () => declines(gemmAddBn({ c: [2, 3], bn: false }), 'not-per-channel'));
  it('[scaled-bias]: Gemm beta ≠ 1 with a C', () => declines(gemmAddBn({ beta: 0.5, bn: false }), 'scaled-bias'));
  it('[operand-not-constant]', () => declines(ctAddBn({ addNotConstant: true, bn: false }), 'operand-not-constant'));
  it('[producer-output-used-elsewhere]', () => declines(ctAddBn({ extraUse: true, bn: false }), 'producer-output-used-elsewhere'));
  it('[producer-output-is-graph-output]', () => declines(ctAddBn({ graphOutput: true, bn: false }), 'producer-output-is-graph-output'));
  it('[weights-not-constant]', () => declines(ctAddBn({ weightInput: true, bn: false }), 'weights-not-constant'));
  it('[weight-shared]', () => declines(ctAddBn({ shareWeight: true, bn: false }), 'weight-shared'));
  it('[unknown-attribute]', () => declines(ctAddBn({ unknownAttr: true, bn: false }), 'unknown-attribute'));
  it('a Mul after ConvTranspose is not a candidate (only the bias changes here)', async () => {
    const b = new GraphBuilder();
    const x = b.input('x', DataType.FLOAT, [1, 4, 5, 5]);
    const y = b.op('ConvTranspose', [x, b.constant('w', f32([4, 3, 3, 3], rnd(1)))], {});
    b.output(b.op('Mul', [y, b.constant('v', f32([1, 3, 1, 1], rnd(2)))]), 'y');
    const m = b.build();
    const r = await runPass('fuse-bias-into-conv', m);
    expect(r.modified).toBe(false);
    expect(opTypes(m)).toEqual(['ConvTranspose', 'Mul']);
  });
});
