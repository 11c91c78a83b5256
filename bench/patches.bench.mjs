// The cost of a validated patch (issue 15 "Performance", the rule passes' share of `onnxkit
// optimize`): the `default` pipeline in this process on the 100k-node MatMul/Add/Relu/Identity/Mul
// chain of rules.bench.mjs, with change records kept (what `--json` and `--explain` keep), and the
// main-thread CPU of each pass run read from the kernel (Linux: /proc/self/task/PID/schedstat;
// elsewhere the process's CPU time, which also counts GC and compiler threads). Rows: the two
// rule passes that make the chain's 60,000 patches (eliminate-identity's bypasses,
// fuse-matmul-add-into-gemm's fusions) per patch, the GC pauses inside them, the closing local
// check, and the whole pipeline's main-thread CPU per node.
// `node --expose-gc bench/patches.bench.mjs [--size N] [--root DIR]` (after `pnpm -s build`;
// `--root` runs another built checkout's passes, e.g. a build of main, for a before/after pair).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { PerformanceObserver } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { CACHE, ROOT, builtPackage, cpuMs, fmtMs, row, section } from './lib.mjs';
import { writeChain } from './rules.bench.mjs';

const RULE_PASSES = ['eliminate-identity', 'fuse-matmul-add-into-gemm'];
const arg = (name) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : undefined;
};

/** Main-thread CPU in ms: this thread's scheduler time where Linux tells it, else the process's CPU. */
const schedstat = `/proc/self/task/${process.pid}/schedstat`;
const mainCpu = existsSync(schedstat) ? () => Number(readFileSync(schedstat, 'utf8').split(' ')[0]) / 1e6 : cpuMs;

async function measure(n, base) {
  const dir = join(CACHE, 'patches-bench');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `chain-${n}.onnx`);
  await writeChain(n, file);
  const pkg = (name) => builtPackage(base, name);
  const { load } = await import(pkg('importer'));
  const P = await import(pkg('passes'));
  const model = load(file, { lazy: false });
  rmSync(file, { force: true });
  const nodes = model.graph.nodeCount;
  // As `onnxkit optimize` does: one inference of the input serves the pipeline's first passes.
  const inference = P.inferShapes(model, {});
  const perPass = new Map();
  const spans = [];
  let changes = 0;
  const passes = P.resolvePipeline('default').map((p) => ({
    ...p,
    run(m, ctx) {
      const c0 = mainCpu();
      const t0 = performance.now();
      const done = (r) => {
        perPass.set(p.name, (perPass.get(p.name) ?? 0) + mainCpu() - c0);
        spans.push([p.name, t0, performance.now()]);
        if (RULE_PASSES.includes(p.name)) changes += r.changes;
        return r;
      };
      const r = p.run(m, ctx);
      return r instanceof Promise ? r.then(done) : done(r);
    },
  }));
  const pauses = [];
  const obs = new PerformanceObserver((l) => {
    for (const e of l.getEntries()) pauses.push([e.startTime, e.duration]);
  });
  globalThis.gc?.();
  obs.observe({ entryTypes: ['gc'] });
  const c0 = mainCpu();
  const report = await new P.PassManager(passes, { inference, changeLog: true }).run(model);
  const total = mainCpu() - c0;
  await new Promise((r) => setTimeout(r, 20)); // let the observer deliver the last entries
  obs.disconnect();
  const rules = RULE_PASSES.reduce((a, k) => a + (perPass.get(k) ?? 0), 0);
  let gcRules = 0;
  for (const [at, d] of pauses) if (spans.some(([p, a, b]) => RULE_PASSES.includes(p) && at >= a && at < b)) gcRules += d;
  return { nodes, changes, rules, gcRules, total, verifyMs: report.verifyMs, finalCheck: report.finalCheck };
}

function print(r) {
  row(
    `rule passes, main thread, ${r.nodes.toLocaleString('en')}-node chain`,
    `CPU ${fmtMs(r.rules)}`,
    `${RULE_PASSES.join(' + ')}: ${r.changes.toLocaleString('en')} validated patches, ${((r.rules * 1000) / r.changes).toFixed(2)} µs per patch; GC pauses in them ${fmtMs(r.gcRules)} wall`,
  );
  row(
    `default pipeline, main thread, ${r.nodes.toLocaleString('en')}-node chain`,
    `CPU ${fmtMs(r.total)}`,
    `${((r.total * 1000) / r.nodes).toFixed(2)} µs/node; verify (input + closing ${r.finalCheck} check) ${fmtMs(r.verifyMs)} wall`,
  );
}

export default async function () {
  section('validated patches: the rule passes of `default` on the chain (main-thread CPU)');
  // A fresh process with --expose-gc: the pipeline's GC depends on what ran before it.
  const out = execFileSync(process.execPath, ['--expose-gc', fileURLToPath(import.meta.url), '--size', '100000'], { cwd: ROOT, encoding: 'utf8', timeout: 600_000 });
  console.log(out.trimEnd());
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  // The heap as `onnxkit optimize` has it for an input under 64 MiB (packages/cli/src/heap.ts):
  // the young generation kept at its start-up size, so what a patch allocates costs scavenges.
  setFlagsFromString('--semi-space-growth-factor=1');
  print(await measure(Number(arg('--size') ?? 100_000), arg('--root') ?? ROOT));
}
