// The manager's ChangeScope (issue 15 "Performance", the second sweep of the rule passes): on a
// 100,000-node graph where `default` finds only 10 MatMul + Add fusions, the second sweep's
// eliminate-dead-code, fold-constants and eliminate-common-subexpressions runs look only at what
// the fusions touched instead of the whole graph. Rows: the `default` pipeline in this process
// with and without the scope (PipelineOptions.scoped), alternating, medians of 5, and the three
// second-sweep runs alone. (On the 100k MatMul/Add/Relu/Identity/Mul chain of rules.bench.mjs the
// 20,000 fusions touch every node left, so the manager gives no scope there: a sweep costs as much.)
// `node --expose-gc bench/change-scope.bench.mjs [--root DIR]` (after `pnpm -s build`).
import { fileURLToPath } from 'node:url';
import { ROOT, builtPackage, fmtMs, median, row, section } from './lib.mjs';

const SWEPT = ['eliminate-dead-code', 'fold-constants', 'eliminate-common-subexpressions'];

async function measure(base, n = 100_000, fusions = 10) {
  const { DataType, GraphBuilder, Tensor } = await import(builtPackage(base, 'graph', 'index.bundle.js'));
  const P = await import(builtPackage(base, 'passes'));
  // Blocks of three nodes: Relu → Neg → Sigmoid, and every n/3/fusions blocks MatMul → Add → Sigmoid.
  const build = () => {
    const b = new GraphBuilder({ name: 'sparse' });
    let x = b.input('x', DataType.FLOAT, [1, 16]);
    const every = Math.floor(n / 3 / fusions);
    for (let i = 0; i < n / 3; i++) {
      if (i % every === 0) {
        x = b.op('MatMul', [x, b.constant('w', Tensor.fromArray(DataType.FLOAT, [16, 16], new Float32Array(256).fill(0.01 * (i + 1))))]);
        x = b.op('Add', [x, b.constant('b', Tensor.fromArray(DataType.FLOAT, [16], new Float32Array(16).fill(0.1 * (i + 1))))]);
      } else {
        x = b.op('Neg', [b.op('Relu', [x])]);
      }
      x = b.op('Sigmoid', [x]);
    }
    b.output(x, 'y');
    return b.build();
  };
  const out = { scoped: { total: [], second: [] }, full: { total: [], second: [] } };
  let nodes = 0;
  let scopedRuns = 0;
  for (let rep = 0; rep < 5; rep++) {
    for (const scoped of rep % 2 ? [true, false] : [false, true]) {
      const m = build();
      nodes = m.graph.nodeCount;
      const inference = P.inferShapes(m, {});
      globalThis.gc?.();
      const r = await new P.PassManager(P.resolvePipeline('default'), { inference, scoped }).run(m);
      if (scoped) scopedRuns = r.scopedRuns ?? 0;
      const o = out[scoped ? 'scoped' : 'full'];
      o.total.push(r.timeMs);
      o.second.push(r.runs.filter((x) => x.iteration > 1 && SWEPT.includes(x.pass)).reduce((a, x) => a + x.result.timeMs, 0));
    }
  }
  return { nodes, fusions, scopedRuns, out };
}

function print({ nodes, fusions, scopedRuns, out }) {
  const label = `${nodes.toLocaleString('en')}-node graph, ${fusions} fusions`;
  row(`default pipeline, ${label}, with scope`, fmtMs(median(out.scoped.total)), `second sweep's dead-code + fold + CSE ${fmtMs(median(out.scoped.second))} (${scopedRuns} scoped runs)`);
  row(`default pipeline, ${label}, full sweeps`, fmtMs(median(out.full.total)), `second sweep's dead-code + fold + CSE ${fmtMs(median(out.full.second))}`);
}

export default async function () {
  section('change scope: the second sweep after a few fusions (in-process wall, medians of 5)');
  print(await measure(ROOT));
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const i = process.argv.indexOf('--root');
  print(await measure(i > 0 ? process.argv[i + 1] : ROOT));
}
