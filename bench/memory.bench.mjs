// Where the bytes of `onnxkit optimize` are (issue 15 "memory under 1 KiB per node"): the steps of
// the optimize flow (import, shape inference + cost summary, `default` pipeline, cost summary,
// save) in one process with the heap settings optimize uses (packages/cli/src/heap.ts), on the
// two 100k-node chains of rules.bench.mjs. After each step: the live heap (after a full
// collection) and the live array buffers (the file, the output) per node, the heap V8 had
// committed before that collection (live + garbage not yet collected), and the young generation.
// The peak RSS rows are rules.bench.mjs `--memory N`; these rows say what makes them up.
// `node bench/memory.bench.mjs --phases 100000` (after `pnpm -s build`).
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { CACHE, ROOT, row, section } from './lib.mjs';

const MiB = 1024 * 1024;

async function phases(n, shared) {
  const { writeChain } = await import('./rules.bench.mjs');
  const dir = join(CACHE, 'memory-bench');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${shared ? 'shared' : 'weighted'}-${n}.onnx`);
  const out = join(dir, 'out.onnx');
  const nodes = await writeChain(n, file, { shared });
  const bytes = statSync(file).size;
  // A fresh process: this one holds the builder's model and its own garbage.
  const script = `
    import { tuneHeapForModel, youngGenerationBytes } from ${JSON.stringify(pathToFileURL(join(ROOT, 'packages/cli/dist/heap.js')).href)};
    tuneHeapForModel(${JSON.stringify(file)});
    const { load, save } = await import('@onnxkit/importer');
    const { analyzeTotals, inferShapes, runPipeline } = await import('@onnxkit/passes');
    const rows = [];
    const step = (label) => {
      const before = process.memoryUsage();
      const youngBytes = youngGenerationBytes();
      globalThis.gc();
      const live = process.memoryUsage();
      rows.push({ label, committed: before.heapTotal, live: live.heapUsed, buffers: live.arrayBuffers, young: youngBytes });
    };
    step('start (CLI modules loaded)');
    const model = load(${JSON.stringify(file)});
    step('import');
    let inference = inferShapes(model, {});
    analyzeTotals(model, { inference });
    step('shape facts + cost summary');
    const report = await runPipeline(model, ['default'], { inference, changeLog: false });
    inference = undefined;
    step('default pipeline');
    analyzeTotals(model, report.inference ? { inference: report.inference } : {});
    step('cost summary (after)');
    await save(model, ${JSON.stringify(out)});
    step('save');
    process.stdout.write(JSON.stringify({ rows }));
  `;
  const res = JSON.parse(execFileSync(process.execPath, ['--expose-gc', '--max-old-space-size=12000', '--input-type=module', '-e', script], { cwd: ROOT, encoding: 'utf8', timeout: 3_600_000 }));
  rmSync(file, { force: true });
  rmSync(out, { force: true });
  const base = res.rows[0];
  const label = shared ? 'shared-weight chain' : 'weighted chain';
  section(`${nodes.toLocaleString('en')}-node ${label} (file ${(bytes / 1e6).toFixed(1)} MB): the optimize flow step by step, per node over the start`);
  for (const r of res.rows.slice(1)) {
    const per = (x, y) => `${((x - y) / nodes).toFixed(0)} B`;
    row(
      `${label}: after ${r.label}`,
      `${per(r.live + r.buffers, base.live + base.buffers)}/node live`,
      `heap ${per(r.live, base.live)} + buffers ${per(r.buffers, base.buffers)}; committed before collecting ${(r.committed / MiB).toFixed(0)} MiB (live ${(r.live / MiB).toFixed(0)} MiB); young generation ${(r.young / MiB).toFixed(0)} MiB`,
    );
  }
}

export default async function main() {
  for (const shared of [true, false]) await phases(100_000, shared);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const i = process.argv.indexOf('--phases');
  const n = i > 0 ? Number(process.argv[i + 1]) : 100_000;
  for (const shared of [true, false]) await phases(n, shared);
}
