// verify() of a valid graph (issue 15 "Performance"): the pass pipeline verifies its input in
// full, so on the 100k-node MatMul/Add/Relu/Identity/Mul chain this is paid by every
// `onnxkit optimize`. Measured in-process on the decoded chain (load(file, { lazy: false }), as
// the CLI decodes it): CPU of the first call in a fresh process (what the CLI pays) and the median
// of 9 further calls, each the median over 3 fresh processes.
// Alone: `node bench/verify-ir.bench.mjs [--size 100000] [--root OTHER_CHECKOUT]` (after
// `pnpm -s build`; --root measures another built checkout's verify on the same file).
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { CACHE, ROOT, cpuMs as cpu, fmtMs, median, row, section } from './lib.mjs';
import { writeChain } from './rules.bench.mjs';


/** In a child: decode `file` with `root`'s builds, verify it 10 times, print CPU ms as JSON. */
async function child(file, root) {
  const { load } = await import(pathToFileURL(join(root, 'packages/importer/dist/index.bundle.js')).href);
  const { verify } = await import(pathToFileURL(join(root, 'packages/graph/dist/index.bundle.js')).href);
  const m = load(file, { lazy: false });
  globalThis.gc?.();
  let c0 = cpu();
  const d = verify(m);
  const first = cpu() - c0;
  if (d.length > 0) throw new Error(`the chain should verify clean: ${d[0].code} ${d[0].message}`);
  const rest = [];
  for (let i = 0; i < 9; i++) {
    globalThis.gc?.();
    c0 = cpu();
    verify(m);
    rest.push(cpu() - c0);
  }
  console.log(JSON.stringify({ first, median: median(rest), nodes: m.graph.nodeCount }));
}

export default async function verifyBench(n = 100_000, root = ROOT) {
  section(`verify() of a valid graph: decoded ${n.toLocaleString('en')}-node chain`);
  const dir = join(CACHE, 'verify-ir-bench');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `chain-${n}.onnx`);
  await writeChain(n, file);
  const runs = [];
  for (let i = 0; i < 3; i++) {
    const out = execFileSync(process.execPath, ['--expose-gc', fileURLToPath(import.meta.url), '--child', file, root], { encoding: 'utf8' });
    runs.push(JSON.parse(out));
  }
  rmSync(file, { force: true });
  const nodes = runs[0].nodes;
  const first = median(runs.map((r) => r.first));
  const steady = median(runs.map((r) => r.median));
  row('verify(model), first call in a fresh process (CPU)', fmtMs(first), `${((first * 1000) / nodes).toFixed(2)} µs/node (median of 3 processes)`);
  row('verify(model), median of 9 later calls (CPU)', fmtMs(steady), `${((steady * 1000) / nodes).toFixed(2)} µs/node`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const c = process.argv.indexOf('--child');
  if (c > 0) await child(process.argv[c + 1], process.argv[c + 2]);
  else {
    const s = process.argv.indexOf('--size');
    const r = process.argv.indexOf('--root');
    await verifyBench(s > 0 ? Number(process.argv[s + 1]) : 100_000, r > 0 ? process.argv[r + 1] : ROOT);
  }
}
