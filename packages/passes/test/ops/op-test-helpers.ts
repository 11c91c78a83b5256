/**
 * Test helper for the op modules' own tests (test/ops/*.test.ts): a model of one node, the
 * inferred shape of its outputs, one layer's analysis, and an op's float64 reference run on the
 * ONNX backend corpus cases of that op, compared at the reference corpus test's tolerance
 * (test/reference/corpus.test.ts: an element fails when it exceeds atol 1e-6 + rtol 1e-3 of the
 * expected value; NaN equals NaN; integers exactly).
 */
import { join } from 'node:path';
import { expect } from 'vitest';
import { GraphBuilder, type AttributeInput, type DataType, type Dim, type Model, type Tensor, type Value } from '@onnxkit/graph';
import { load } from '@onnxkit/importer';
import { analyzeModel, inferShapes } from '../../src/analysis/index.js';
import { refFromTensor } from '../../src/kernels/reference/tensor.js';
import { evaluateReference } from '../../src/reference/evaluate.js';
import { getOp } from '../../src/ops/registry.js';
import type { RefTensor } from '../../src/ops/types.js';
import { corpusAvailable, NODE_CORPUS, nodeTests, testTensors } from '../analysis/corpus.js';
import { ortRun } from '../rewrite/helpers.js';

export const RTOL = 1e-3;
export const ATOL = 1e-6;

export interface In {
  readonly name: string;
  readonly dtype: DataType;
  readonly dims: readonly (number | string)[];
  /** A constant input (an initializer) instead of a graph input. */
  readonly value?: Tensor;
}

/** One `type` node reading `inputs` ('' skips an optional slot), its outputs named y0, y1, … */
export function oneNode(type: string, inputs: readonly (In | '')[], attrs: Record<string, AttributeInput> = {}, outputs = 1, opset = 17): Model {
  const b = new GraphBuilder({ opset });
  const ins = inputs.map((i) => (i === '' ? null : i.value ? b.constant(i.name, i.value) : b.input(i.name, i.dtype, [...i.dims])));
  b.opN(type, ins, outputs, attrs, { name: 'n' }).forEach((v, k) => b.output(v, `y${k}`));
  return b.build();
}

/** The inferred shapes of the outputs y0… and the warnings of shape inference. */
export function inferred(m: Model): { shapes: (readonly Dim[] | null)[]; types: (DataType | undefined)[]; warnings: string[] } {
  const inf = inferShapes(m);
  const values = m.graph.valuesByName();
  return {
    shapes: m.graph.outputs.map((v) => inf.shapeOf(values.get(v.name)!)),
    types: m.graph.outputs.map((v) => {
      const t = inf.typeOf(values.get(v.name)!);
      return t?.kind === 'tensor' ? t.elemType : undefined;
    }),
    warnings: inf.diagnostics.filter((d) => d.severity === 'warning').map((d) => d.message),
  };
}

/**
 * One node (named 'op') built by `build` at opset 17, its outputs 'y0'…: their inferred shapes and
 * types, the layer's cost, the model's parameters and the analysis's warnings.
 */
export function runBuilt(build: (b: GraphBuilder) => Value[]): { shapes: unknown[]; types: unknown[]; macs: unknown; flops: unknown; params: unknown; unknown: unknown; warnings: string[] } {
  const b = new GraphBuilder({ opset: 17 });
  const outs = build(b);
  outs.forEach((v, i) => b.output(v, `y${i}`));
  const m = b.build();
  const inf = inferShapes(m);
  const values = m.graph.valuesByName();
  const r = analyzeModel(m, { timeline: false });
  const node = r.layers.find((l) => l.name === 'op')!;
  return {
    shapes: outs.map((_, i) => inf.shapeOf(values.get(`y${i}`)!)),
    types: outs.map((_, i) => inf.typeOf?.(values.get(`y${i}`)!) ?? null),
    macs: node.macs,
    flops: node.flops,
    params: r.totals.params,
    unknown: node.unknown ?? [],
    warnings: r.diagnostics.filter((d) => d.severity === 'warning').map((d) => d.message),
  };
}

/** The analysis of node `name`. */
export function layer(m: Model, name = 'n') {
  return analyzeModel(m).layers.find((l) => l.name === name)!;
}

/** The worst element of `got` against `want` in units of the tolerance (≤ 1 passes); integers exactly (∞ when not). */
export function worstError(got: RefTensor, want: RefTensor): number {
  if (got.dims.join(',') !== want.dims.join(',')) return Infinity;
  const a = got.data as ArrayLike<unknown>;
  const b = want.data as ArrayLike<unknown>;
  let worst = 0;
  for (let i = 0; i < b.length; i++) {
    const x = a[i];
    const y = b[i];
    if (typeof x === 'number' && typeof y === 'number') {
      if (x === y || (Number.isNaN(x) && Number.isNaN(y))) continue;
      const err = Math.abs(x - y) / (ATOL + RTOL * Math.abs(y));
      worst = Number.isNaN(err) ? Infinity : Math.max(worst, err);
    } else if (x !== y) return Infinity;
  }
  return worst;
}

/**
 * Runs `type`'s reference kernel on every node/ corpus test named `prefix…` (single-node models,
 * `_expanded` ones skipped) and expects each output within the tolerance; returns the tests run.
 */
export function referenceMatchesCorpus(type: string, prefix: string, atLeast: number): string[] {
  if (!corpusAvailable()) return [];
  const tests = nodeTests().filter((t) => t.startsWith(prefix) && !t.endsWith('_expanded'));
  expect(tests.length).toBeGreaterThanOrEqual(atLeast);
  const reference = getOp(type)!.reference!;
  const bad: string[] = [];
  for (const test of tests) {
    const m = load(join(NODE_CORPUS, test, 'model.onnx'));
    const node = [...m.graph][0]!;
    expect(node.opType, test).toBe(type);
    const ins = testTensors(test, 'input', m);
    const want = testTensors(test, 'output', m);
    const byName = new Map<string, Tensor>();
    m.graph.inputs.filter((v) => !v.isInitializer).forEach((v, i) => ins[i] && byName.set(v.name, ins[i]!));
    const args = node.inputs.map((v) => (v ? refFromTensor(byName.get(v.name) ?? v.constValue!) : null));
    const got = reference(node, args, m.opsetVersion('') ?? 17);
    want.forEach((w, k) => {
      if (!w) return;
      const e = worstError(got[k]!, refFromTensor(w));
      if (!(e <= 1)) bad.push(`${test} output ${k}: ${e === Infinity ? `[${got[k]!.dims.join(',')}] vs [${w.dims.join(',')}] or an integer differs` : `${e.toFixed(2)}× the tolerance`}`);
    });
  }
  expect(bad).toEqual([]);
  return tests;
}

/**
 * Runs `m` in onnxruntime-node (graph optimisations off) and in the float64 reference evaluator
 * (evaluateReference, the path `verify` takes) on `feeds`; returns each output's worst error in
 * units of the tolerance (≤ 1 passes: onnxruntime computes in float32).
 */
export async function referenceVsOrt(m: Model, feeds: Map<string, Tensor>): Promise<number[]> {
  const ort = await ortRun(m, feeds);
  const ours = evaluateReference(m, feeds).outputs;
  return m.graph.outputs.map((v) => worstError(ours.get(v.name)!, refFromTensor(ort.get(v.name)!)));
}
