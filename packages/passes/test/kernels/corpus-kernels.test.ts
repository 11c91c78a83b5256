/**
 * The TypeScript kernels against onnxruntime-node on the ONNX backend test corpus: every
 * single-node `node/test_*` model whose op has a kernel is evaluated from its `input_*.pb` and
 * compared with ORT's output on the same inputs (graph optimisations disabled) and with the
 * expected `output_*.pb`.
 *
 * Ops ORT computes exactly (data movement, + − × ÷, √, comparisons, casts, integer math) must
 * match bit for bit; transcendental and float-reduction ops within fp32 tolerances (ORT uses
 * vectorised approximations and float32 accumulation). Cases a kernel declines (an unsupported
 * dtype) or where the reference disagrees are listed with a reason in kernel-exceptions.json;
 * the test fails on any unlisted case and on stale entries.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { load } from '@onnxkit/importer';
import { dataTypeInfo, type Tensor } from '@onnxkit/graph';
import { evaluateNode, SUPPORTED_KERNELS, KernelError } from '../../src/kernels/index.js';
import { corpusAvailable, NODE_CORPUS, nodeTests, testTensors } from '../analysis/corpus.js';
import { compareTensors, runOrt } from './ort.js';

/**
 * Ops whose float results are approximations in ORT (or accumulate in float32). HammingWindow and
 * BlackmanWindow: ORT sums the cosine terms in float32 with float32 coefficients (its Hamming
 * window starts at 0.0869565010, 25/46 − 21/46 rounded term by term; its Blackman window at
 * 1.49e-8, not 0), where the kernel rounds the float64 sum once.
 */
const APPROX = new Set([
  'Exp', 'Log', 'Tanh', 'Sigmoid', 'Erf', 'Pow', 'Softmax', 'LogSoftmax',
  'ReduceMean', 'ReduceSum', 'ReduceProd', 'ReduceL1', 'ReduceL2', 'ReduceLogSum', 'ReduceLogSumExp', 'ReduceSumSquare',
  'HammingWindow', 'BlackmanWindow',
]);

const EXCEPTIONS: Record<string, string> = JSON.parse(readFileSync(new URL('./kernel-exceptions.json', import.meta.url), 'utf8'));

interface Row {
  exact: number;
  tolerance: number;
  /** ORT has no kernel for this dtype: compared with the expected .pb only. */
  reference: number;
  excepted: number;
}

describe('kernels vs onnxruntime on the ONNX backend test corpus', () => {
  it('evaluates every single-node test of a supported op like ORT does', async () => {
    if (!corpusAvailable()) return;
    const perOp = new Map<string, Row>();
    const problems: string[] = [];
    const stale: string[] = [];
    let evaluated = 0;
    for (const test of nodeTests()) {
      const file = join(NODE_CORPUS, test, 'model.onnx');
      const model = load(file);
      const nodes = [...model.graph];
      if (nodes.length !== 1) continue;
      const node = nodes[0]!;
      if (!node.isOnnxDomain || !(node.opType in SUPPORTED_KERNELS)) continue;
      const inputs = testTensors(test, 'input', model);
      const expected = testTensors(test, 'output', model);
      const byValue = new Map<unknown, Tensor>();
      model.graph.inputs.filter((v) => !v.isInitializer).forEach((v, i) => inputs[i] && byValue.set(v, inputs[i]!));
      for (const v of model.graph.initializers.values()) if (v.constValue) byValue.set(v, v.constValue);
      const row = perOp.get(node.opType) ?? { exact: 0, tolerance: 0, reference: 0, excepted: 0 };
      perOp.set(node.opType, row);
      const fail = (why: string): void => {
        if (test in EXCEPTIONS) row.excepted++;
        else problems.push(`${test}: ${why}`);
      };
      let ours: Tensor[] | undefined;
      try {
        ours = evaluateNode(node, node.inputs.map((v) => (v ? (byValue.get(v) ?? null) : null)), model.opsetVersion('') ?? 1);
      } catch (e) {
        fail(`kernel threw ${e instanceof KernelError ? e.message : String(e)}`);
        continue;
      }
      if (ours === undefined) {
        fail('kernel declined');
        continue;
      }
      evaluated++;
      const feeds: Record<string, Tensor> = {};
      model.graph.inputs.filter((v) => !v.isInitializer).forEach((v, i) => inputs[i] && (feeds[v.name] = inputs[i]!));
      let ortOut: Record<string, Tensor | undefined>;
      try {
        ortOut = await runOrt(readFileSync(file), feeds);
      } catch (e) {
        // ORT lacks a kernel for this dtype (or takes no bfloat16 I/O): the reference decides.
        const diffs = node.outputs.map((_, k) => {
          const mine = ours![k];
          const ref = expected[k];
          const approx = APPROX.has(node.opType) && mine !== undefined && dataTypeInfo(mine.dtype).kind === 'float';
          return mine && ref ? compareTensors(mine, ref, !approx) : undefined;
        });
        const d = diffs.find((x) => x !== undefined);
        if (d === undefined) {
          if (test in EXCEPTIONS) stale.push(test);
          row.reference++;
        } else fail(`ORT failed (${String(e).slice(0, 100)}) and the expected .pb differs: ${d}`);
        continue;
      }
      let worst: 'exact' | 'tolerance' | string = 'exact';
      node.outputs.forEach((v, k) => {
        if (typeof worst === 'string' && worst !== 'exact' && worst !== 'tolerance') return;
        const mine = ours![k];
        const theirs = ortOut[v.name];
        if (!mine || !theirs) return;
        const approx = APPROX.has(node.opType) && dataTypeInfo(mine.dtype).kind === 'float';
        const d = compareTensors(mine, theirs, !approx);
        if (d !== undefined) {
          worst = `output ${k} differs from ORT: ${d}`;
          return;
        }
        const ref = expected[k];
        const e = ref ? compareTensors(mine, ref, false) : undefined;
        if (e !== undefined) {
          worst = `output ${k} differs from the expected .pb: ${e}`;
          return;
        }
        if (approx) worst = 'tolerance';
      });
      if (worst === 'exact' || worst === 'tolerance') {
        if (test in EXCEPTIONS) stale.push(test);
        row[worst]++;
      } else fail(worst);
    }
    const lines = [...perOp.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([op, r]) => `  ${op.padEnd(18)} ${String(r.exact).padStart(3)} bit-exact  ${String(r.tolerance).padStart(3)} within tolerance${r.reference ? `  ${r.reference} vs reference only` : ''}${r.excepted ? `  ${r.excepted} excepted` : ''}`);
    console.log(`kernels vs ORT: ${evaluated} evaluated\n${lines.join('\n')}`);
    expect(problems, 'cases not listed in kernel-exceptions.json').toEqual([]);
    expect(stale, 'exceptions that now pass: remove them from kernel-exceptions.json').toEqual([]);
    expect(evaluated).toBeGreaterThan(250);
  }, 300_000);
});
