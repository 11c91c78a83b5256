/**
 * Shape inference checked against the ONNX backend test corpus: for every node/ test whose ops
 * are all in issue 3's list, infer the output shapes and types and compare them with the dims
 * and dtypes of the expected `output_*.pb` tensors.
 *
 * The corpus feeds shape parameters (Reshape's shape, Slice's starts, Resize's sizes, …) as graph
 * inputs; real exports hold them as constants. The test binds exactly those parameter inputs to
 * their test values, strips every declared type from node outputs (so the declared output type
 * cannot leak into the answer) and leaves data inputs symbolic-free but non-constant, so the
 * shape rules — not the kernels — produce the answer. Known, explained mismatches live in
 * corpus-shape-exceptions.json; the test fails when one is fixed (stale) or a new one appears.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { load } from '@onnxkit/importer';
import { dataTypeName, type Model } from '@onnxkit/graph';
import { analysisToCsv, analysisToJson, analysisToMarkdown, analyzeModel, formatAnalysisTable, inferShapes, toNetronAttachment } from '../../src/analysis/index.js';
import { SHAPE_RULES } from '../../src/analysis/shape-rules.js';
import { CORPUS_ROOT, corpusAvailable, corpusTests, NODE_CORPUS, nodeTests, testTensors } from './corpus.js';

/** Issue 3 part 1's op list, spelled out. */
const ISSUE_OPS = new Set([
  'Conv', 'ConvTranspose', 'Gemm', 'MatMul', 'BatchNormalization', 'LayerNormalization',
  'MaxPool', 'AveragePool', 'LpPool', 'GlobalAveragePool', 'GlobalMaxPool', 'GlobalLpPool',
  'Relu', 'Clip', 'Sigmoid', 'HardSigmoid', 'HardSwish', 'Gelu', 'Erf', 'Tanh', 'Softmax', 'LogSoftmax',
  'Add', 'Sub', 'Mul', 'Div', 'Pow', 'Mod', 'Max', 'Min', 'Sum', 'Mean', 'Equal', 'Less', 'Greater',
  'LessOrEqual', 'GreaterOrEqual', 'And', 'Or', 'Xor', 'Not', 'Neg', 'Abs', 'Sqrt', 'Exp', 'Log', 'Reciprocal', 'Floor', 'Ceil',
  'Reshape', 'Flatten', 'Transpose', 'Concat', 'Split', 'Slice', 'Gather', 'Squeeze', 'Unsqueeze',
  'Shape', 'Size', 'Expand', 'Tile', 'Pad', 'Resize',
  'ReduceMean', 'ReduceSum', 'ReduceMax', 'ReduceMin', 'ReduceProd', 'ReduceL1', 'ReduceL2', 'ReduceSumSquare', 'ReduceLogSum', 'ReduceLogSumExp',
  'Cast', 'CastLike', 'Constant', 'ConstantOfShape', 'Identity', 'Dropout', 'Where', 'Range',
]);
/** Checked: the issue's ops and every other op that has a shape rule. */
const OPS = new Set([...ISSUE_OPS, ...Object.keys(SHAPE_RULES)]);

/** Inputs that carry shape parameters: bound to their test values as constants. */
const PARAMETER_SLOTS: Record<string, number[]> = {
  Reshape: [1],
  Expand: [1],
  Tile: [1],
  Slice: [1, 2, 3, 4],
  Pad: [1, 3],
  Resize: [1, 2, 3],
  Split: [1],
  Range: [0, 1, 2],
  Upsample: [1],
  OneHot: [1],
  TopK: [1],
  ConstantOfShape: [0],
  MaxUnpool: [2],
  Unsqueeze: [1],
  Squeeze: [1],
  ReduceMean: [1], ReduceSum: [1], ReduceMax: [1], ReduceMin: [1], ReduceProd: [1], ReduceL1: [1], ReduceL2: [1],
  ReduceSumSquare: [1], ReduceLogSum: [1], ReduceLogSumExp: [1],
};

interface Outcome {
  op: string;
  status: 'ok' | 'mismatch';
  detail?: string;
}

function prepare(test: string, model: Model): void {
  const inputs = testTensors(test, 'input', model);
  const g = model.graph;
  const graphInputs = g.inputs.filter((v) => !v.isInitializer);
  for (const v of [...graphInputs]) {
    // Scalars are sizes, limits and trip counts in these tests; shape parameters by slot.
    const bound = v.shape?.length === 0 || v.uses.some((u) => u.node.graph === g && (PARAMETER_SLOTS[u.node.opType] ?? []).includes(u.index));
    if (!bound) continue;
    const t = inputs[graphInputs.indexOf(v)];
    if (!t) continue;
    v.constValue = t;
    g.addInitializer(v);
    g.removeInput(v);
  }
  for (const sub of model.graphs()) for (const n of sub) for (const o of n.outputs) o.type = null;
}

function check(test: string): Outcome | undefined {
  const model = load(join(NODE_CORPUS, test, 'model.onnx'));
  const ops = [...model.graph].map((n) => n.opType);
  if (ops.length === 0 || !ops.every((op) => OPS.has(op)) || [...model.graph].some((n) => !n.isOnnxDomain)) return undefined;
  const expected = testTensors(test, 'output', model);
  if (expected.length === 0) return undefined;
  const op = test.endsWith('_expanded') ? `${ops[ops.length - 1]} (expanded)` : ops[0]!;
  prepare(test, model);
  const inf = inferShapes(model);
  const problems: string[] = [];
  for (const d of inf.diagnostics) {
    // A shape rule disagreeing with kernel evaluation, or crashing, is a bug whatever the outputs.
    if (d.code === 'rule-kernel-disagree' || d.code === 'rule-failed' || d.code === 'kernel-failed') problems.push(`${d.code}: ${d.message}`);
  }
  model.graph.outputs.forEach((v, k) => {
    const want = expected[k];
    if (!want) return;
    const got = inf.shapeOf(v);
    const type = inf.typeOf(v);
    const gotText = got ? `[${got.map((d) => d ?? '?').join(',')}]` : '[*]';
    if (!got || got.length !== want.dims.length || got.some((d, i) => d !== want.dims[i])) {
      problems.push(`output ${k} '${v.name}': expected [${want.dims.join(',')}], inferred ${gotText}`);
    }
    if (!type || type.kind !== 'tensor' || type.elemType !== want.dtype) {
      problems.push(`output ${k} '${v.name}': expected ${dataTypeName(want.dtype)}, inferred ${type && type.kind === 'tensor' ? dataTypeName(type.elemType) : '?'}`);
    }
  });
  return problems.length === 0 ? { op, status: 'ok' } : { op, status: 'mismatch', detail: problems.join('; ') };
}

const EXCEPTIONS: Record<string, string> = JSON.parse(readFileSync(new URL('./corpus-shape-exceptions.json', import.meta.url), 'utf8'));

describe('shape inference vs the ONNX backend test corpus', () => {
  it('infers the expected output shape and dtype of every node test of the listed ops', () => {
    if (!corpusAvailable()) return;
    const perOp = new Map<string, { ok: number; excepted: number }>();
    const unexpected: string[] = [];
    const stale: string[] = [];
    let checked = 0;
    for (const test of nodeTests()) {
      const r = check(test);
      if (!r) continue;
      checked++;
      const row = perOp.get(r.op) ?? { ok: 0, excepted: 0 };
      perOp.set(r.op, row);
      if (r.status === 'ok') {
        row.ok++;
        if (test in EXCEPTIONS) stale.push(test);
      } else if (test in EXCEPTIONS) {
        row.excepted++;
      } else {
        unexpected.push(`${test}: ${r.detail}`);
      }
    }
    const missing = [...ISSUE_OPS].filter((op) => !perOp.has(op) && !perOp.has(`${op} (expanded)`));
    const lines = [...perOp.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([op, r]) => `  ${op.padEnd(32)} ${String(r.ok).padStart(4)} ok${r.excepted ? `, ${r.excepted} excepted` : ''}`);
    const okTotal = [...perOp.values()].reduce((a, r) => a + r.ok, 0);
    console.log(`corpus shape inference: ${checked} models, ${okTotal} exact, ${checked - okTotal} excepted or failing\n${lines.join('\n')}`);
    expect(unexpected, 'mismatches not listed in corpus-shape-exceptions.json').toEqual([]);
    expect(stale, 'exceptions that now pass: remove them from corpus-shape-exceptions.json').toEqual([]);
    expect(checked).toBeGreaterThan(500);
    // Every op of the issue's list is exercised by at least one corpus model, except those the
    // ONNX 1.12 corpus has no standalone test for.
    expect(missing).toEqual(['LpPool', 'GlobalLpPool', 'Gelu']);
  });

  it('infers the output shapes of every pytorch-converted and pytorch-operator model (whole exported networks)', () => {
    if (!corpusAvailable()) return;
    const problems: string[] = [];
    let checked = 0;
    for (const folder of ['pytorch-converted', 'pytorch-operator']) {
      const root = join(CORPUS_ROOT, folder);
      for (const test of corpusTests(root)) {
        const model = load(join(root, test, 'model.onnx'));
        const expected = testTensors(test, 'output', model, root);
        for (const g of model.graphs()) for (const n of g) for (const o of n.outputs) o.type = null;
        const inf = inferShapes(model);
        checked++;
        model.graph.outputs.forEach((v, k) => {
          const want = expected[k];
          const got = inf.shapeOf(v);
          if (want && (!got || got.length !== want.dims.length || got.some((d, i) => d !== want.dims[i]))) {
            problems.push(`${folder}/${test} output ${k}: expected [${want.dims}], inferred ${JSON.stringify(got)}`);
          }
        });
        for (const d of inf.diagnostics) if (d.severity !== 'info') problems.push(`${folder}/${test}: ${d.code}: ${d.message}`);
      }
    }
    console.log(`pytorch-converted + pytorch-operator: ${checked} models, ${problems.length} problems`);
    expect(problems).toEqual([]);
    expect(checked).toBeGreaterThan(100);
  });

  it('analyses every corpus model (all ops, sequences, strings, training ops) without throwing', () => {
    if (!corpusAvailable()) return;
    const failures: string[] = [];
    let analysed = 0;
    for (const folder of ['node', 'pytorch-converted', 'pytorch-operator', 'simple']) {
      const root = join(CORPUS_ROOT, folder);
      for (const test of corpusTests(root)) {
        const model = load(join(root, test, 'model.onnx'));
        try {
          const r = analyzeModel(model, { bits: 8 });
          JSON.parse(analysisToJson(r));
          formatAnalysisTable(r);
          toNetronAttachment(r);
          analysisToCsv(r);
          analysisToMarkdown(r);
          analysed++;
        } catch (e) {
          failures.push(`${folder}/${test}: ${e instanceof Error ? e.message : String(e)}`);
        }
      }
    }
    expect(failures).toEqual([]);
    expect(analysed).toBeGreaterThan(1000);
  });
});
