/**
 * The float64 reference kernels live in their ops' homes (OpDef.reference, issue 10 item 1 and
 * issue 15): every kernel module under src/kernels/reference/ exports only kernels some
 * registered op declares, REFERENCE_KERNELS / REFERENCE_OPS (what the evaluator runs and the
 * README lists) are exactly the ops declaring one, and the ops that came with the reference
 * (the training losses) have a schema, shape rule and cost that agree with the ONNX corpus.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { Attribute, AttributeType, DataType, GraphBuilder } from '@onnxkit/graph';
import { load } from '@onnxkit/importer';
import * as passes from '@onnxkit/passes';
import { analyzeModel, inferShapes } from '../../src/analysis/index.js';
import { attributeProblem } from '../../src/common/attribute-schema.js';
import { getOp, OPS, REFERENCE_KERNELS, REFERENCE_OPS } from '../../src/ops/registry.js';
import { corpusAvailable, NODE_CORPUS, nodeTests, testTensors } from '../analysis/corpus.js';
import { ROOT } from '../isolated.js';

const KERNELS = join(ROOT, 'packages', 'passes', 'src', 'kernels', 'reference');

describe('the reference facet', () => {
  it('registers every exported reference kernel as the reference of exactly one op', async () => {
    const byKernel = new Map<unknown, string[]>();
    for (const op of OPS) if (op.reference) byKernel.set(op.reference, [...(byKernel.get(op.reference) ?? []), op.type]);
    const orphans: string[] = [];
    let kernels = 0;
    for (const file of readdirSync(KERNELS).filter((f) => f.endsWith('.ts'))) {
      const mod = (await import(pathToFileURL(join(KERNELS, file)).href)) as Record<string, unknown>;
      for (const [name, value] of Object.entries(mod)) {
        if (!name.endsWith('Ref') || typeof value !== 'function') continue;
        kernels++;
        const ops = byKernel.get(value);
        if (ops === undefined) orphans.push(`${file}: ${name}`);
        else expect(ops, name).toHaveLength(1);
      }
    }
    expect(orphans).toEqual([]);
    // 69 since the element-wise and Reduce* ops build their references in their own modules
    // from the factories here (unaryReference, binaryReference, reduceReference…; issue 15).
    expect(kernels).toBeGreaterThan(60);
  });

  it('derives REFERENCE_KERNELS and REFERENCE_OPS from the ops declaring `reference`', () => {
    const declaring = OPS.filter((op) => op.domain === '' && op.reference !== undefined);
    expect(REFERENCE_OPS).toEqual(declaring.map((op) => op.type).sort());
    expect([...REFERENCE_KERNELS.keys()].sort()).toEqual(REFERENCE_OPS);
    for (const op of declaring) expect(REFERENCE_KERNELS.get(op.type), op.type).toBe(op.reference);
    // Ops the evaluator covered before the kernels moved home, and GridSample, declared the new way.
    for (const type of ['Conv', 'LSTM', 'Resize', 'NegativeLogLikelihoodLoss', 'SoftmaxCrossEntropyLoss', 'Trilu', 'ScatterND', 'GridSample', 'SimplifiedLayerNormalization', 'Attention', 'RotaryEmbedding']) expect(REFERENCE_OPS, type).toContain(type);
    // The 135 ops of the former temporary table (reference/table.ts) plus GridSample, and the ops
    // added since, each of which checks its reference against the corpus or onnxruntime in its own
    // test (test/ops/<module>.test.ts); the equality above is what ties the table to the declarations.
    expect(REFERENCE_OPS.length).toBeGreaterThanOrEqual(136);
    // The package's public API (the evaluator, the CLI, verification) serves the same views.
    expect(passes.REFERENCE_OPS).toBe(REFERENCE_OPS);
    expect(passes.REFERENCE_KERNELS).toBe(REFERENCE_KERNELS);
    expect(REFERENCE_KERNELS.get('constructor')).toBeUndefined();
  });
});

describe('the training losses', () => {
  it('type ignore_index (INT) and reduction (STRING, default mean)', () => {
    for (const type of ['NegativeLogLikelihoodLoss', 'SoftmaxCrossEntropyLoss']) {
      expect(getOp(type)!.attributes, type).toMatchObject({ ignore_index: { type: AttributeType.INT }, reduction: { type: AttributeType.STRING, default: 'mean' } });
    }
    const b = new GraphBuilder({ opset: 13 });
    const y = b.op('NegativeLogLikelihoodLoss', [b.input('x', DataType.FLOAT, [2, 3]), b.input('t', DataType.INT64, [2])], { ignore_index: Attribute.float('ignore_index', 1.5) }, { name: 'nll' });
    b.output(y, 'y');
    expect(attributeProblem([...b.build().graph][0]!)).toMatch(/ignore_index.*FLOAT, not INT/);
  });

  it('infer the loss shape (per target with reduction none, else a scalar) and log_prob, as the corpus expects', () => {
    if (!corpusAvailable()) return;
    const tests = nodeTests().filter((t) => /^test_(nllloss|sce)_/.test(t) && !t.endsWith('_expanded'));
    expect(tests.length).toBeGreaterThan(40);
    for (const t of tests) {
      const m = load(join(NODE_CORPUS, t, 'model.onnx'));
      // Shapes from the rule alone: the declared output shapes are dropped.
      for (const v of m.graph.outputs) v.type = null;
      const inf = inferShapes(m);
      const expected = testTensors(t, 'output', m);
      m.graph.outputs.forEach((v, i) => expect(inf.shapeOf(v), `${t} output ${i}`).toEqual(expected[i]!.dims));
      expect(inf.diagnostics.filter((d) => d.severity !== 'info'), t).toEqual([]);
    }
  });

  it('cost 2 per target element (NLL), plus 5 per score for the log-softmax (SCE)', () => {
    const layer = (type: string, reduction: string) => {
      const b = new GraphBuilder({ opset: 13 });
      b.output(b.op(type, [b.input('x', DataType.FLOAT, [4, 10, 3]), b.input('t', DataType.INT64, [4, 3])], { reduction }, { name: 'l' }), 'y');
      return analyzeModel(b.build()).layers.find((l) => l.name === 'l')!;
    };
    expect(layer('NegativeLogLikelihoodLoss', 'none').flops).toBe(2 * 4 * 3);
    expect(layer('NegativeLogLikelihoodLoss', 'mean').flops).toBe(2 * 4 * 3);
    expect(layer('SoftmaxCrossEntropyLoss', 'sum').flops).toBe(5 * 4 * 10 * 3 + 2 * 4 * 3);
  });
});
