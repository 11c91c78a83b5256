// Analysis cost: analyzeModel on the zoo ResNet-50 against importing the same model (target:
// analysis < 5% of import), and on synthetic graphs of 10k, 100k and 1M nodes built with
// GraphBuilder, with the time per node to show linear growth. Ratios are measured in this run.
// Also the analysis steps of `onnxkit optimize` on the 100k-node chain of rules.bench.mjs
// (issue 15): inferShapes, analyzeTotals before (with that inference) and after the `default`
// pipeline (with the pipeline's updated inference), as CPU µs per node, each the first call in a
// fresh process as in the CLI (target ≈ 1 µs/node for the analysis). Alone:
// `node --expose-gc bench/analyze.bench.mjs --chain 100000` (after `pnpm -s build`).
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DataType, GraphBuilder, Tensor } from '@onnxkit/graph';
import { decode, encode, load } from '@onnxkit/importer';
import { analyzeModel, analyzeTotals, inferShapes, runPipeline } from '@onnxkit/passes';
import { resnet50 } from '@onnxkit/zoo';
import { CACHE, ROOT, cpuMs as cpu, fmtMs, median, ratio, row, section, skip, time } from './lib.mjs';
import { writeChain } from './rules.bench.mjs';

/**
 * A chain of `n` nodes over a [1, 64] activation: MatMul with one shared 64×64 weight every
 * fourth node, then Add (shared bias), Relu, Reshape (a view) — the op mix of an MLP.
 */
function synthetic(n) {
  const b = new GraphBuilder({ name: `synthetic-${n}` });
  let x = b.input('x', DataType.FLOAT, [1, 64]);
  const w = b.constant('w', Tensor.fromArray(DataType.FLOAT, [64, 64], new Float32Array(64 * 64).fill(0.01)));
  const bias = b.constant('bias', Tensor.fromArray(DataType.FLOAT, [64], new Float32Array(64).fill(0.1)));
  const shape = b.int64s('shape', [1, 64]);
  for (let i = 0; i < n; i++) {
    switch (i % 4) {
      case 0:
        x = b.op('MatMul', [x, w], {}, { name: `mm${i}` });
        break;
      case 1:
        x = b.op('Add', [x, bias], {}, { name: `add${i}` });
        break;
      case 2:
        x = b.op('Relu', [x], {}, { name: `relu${i}` });
        break;
      default:
        x = b.op('Reshape', [x, shape], {}, { name: `view${i}` });
    }
  }
  b.output(x, 'y');
  return b.build();
}


/** The analysis steps of `onnxkit optimize` on the chain, once each (cold, as in the CLI), in CPU ms. */
async function chainRun(file) {
  const model = load(file);
  globalThis.gc?.();
  let t = cpu();
  const inference = inferShapes(model);
  const infer = cpu() - t;
  t = cpu();
  const before = analyzeTotals(model, { inference });
  const totalsBefore = cpu() - t;
  const report = await runPipeline(model, 'default', { inference });
  globalThis.gc?.();
  t = cpu();
  const after = analyzeTotals(model, report.inference ? { inference: report.inference } : {});
  const totalsAfter = cpu() - t;
  return { infer, totalsBefore, totalsAfter, macs: [before.totals.macs, after.totals.macs] };
}

export default async function () {
  section('analyze: the analysis steps of `onnxkit optimize` on the 100k-node chain (CPU, first call per process; median of 3 processes)');
  {
    const n = 100_000;
    const file = join(CACHE, `analyze-chain-${n}.onnx`);
    if (!existsSync(file)) await writeChain(n, file);
    const self = fileURLToPath(import.meta.url);
    const runs = [];
    for (let i = 0; i < 3; i++) runs.push(JSON.parse(execFileSync(process.execPath, ['--expose-gc', self, '--chain-file', file], { cwd: ROOT, encoding: 'utf8', timeout: 600_000 }).trim().split('\n').pop()));
    const med = (k) => median(runs.map((r) => r[k]));
    const us = (ms, nodes) => `${((ms * 1e3) / nodes).toFixed(2)} µs/node`;
    row('inferShapes (input, 100k nodes)', fmtMs(med('infer')), us(med('infer'), n));
    row('analyzeTotals before (given the inference)', fmtMs(med('totalsBefore')), `${us(med('totalsBefore'), n)} (target ≈ 1)`);
    row('analyzeTotals after `default` (its updated inference; 40k nodes)', fmtMs(med('totalsAfter')), `${us(med('totalsAfter'), n)} of the input's nodes (target ≈ 0.4)`);
    row('MACs before / after (sanity)', runs[0].macs.map((m) => m?.toLocaleString('en-US')).join(' / '));
  }

  section('analyze: ResNet-50 (zoo) — analysis vs import');
  const file = join(CACHE, 'analyze-resnet50.onnx');
  if (!existsSync(file)) writeFileSync(file, encode(resnet50()));
  const bytes = readFileSync(file);
  row('model bytes', bytes.byteLength.toLocaleString('en-US'));
  const eager = () => decode(bytes, { lazy: false });
  const model = eager();
  const checks = analyzeModel(model);
  row('params / MACs (sanity)', `${checks.totals.params.toLocaleString('en-US')} / ${checks.totals.macs.toLocaleString('en-US')}`);
  // Both sides take milliseconds, so preemption on a shared machine dominates single samples:
  // the minimum over many samples is the intrinsic cost, the median is printed beside it.
  // time() collects garbage before each sample, so the decode's garbage is not billed here.
  const opts = { runs: 41, warmup: 20 };
  const dec = await time(eager, opts);
  const eagerFile = await time(() => load(file, { lazy: false }), opts);
  const lazyFile = await time(() => load(file), opts);
  const an = await time(() => analyzeModel(model), opts);
  const inf = await time(() => inferShapes(model), opts);
  const show = (label, a, b) => {
    ratio(`${label} (min)`, a.min, b.min, { op: '<=', value: 0.05 });
    row(`${label} (median)`, `${(a.median / b.median).toFixed(2)}×`, `${fmtMs(a.median)} / ${fmtMs(b.median)}`);
  };
  show('analyzeModel / decode(bytes, eager)', an, dec);
  show('analyzeModel / load(path, eager: read + decode)', an, eagerFile);
  show('analyzeModel / load(path, default lazy)', an, lazyFile);
  row('inferShapes alone (min)', fmtMs(inf.min), `${((inf.min * 1e3) / model.graph.nodeCount).toFixed(2)} µs/node, ${model.graph.nodeCount} nodes`);
  // What a user waits for: the whole command, cold JIT and Node start-up included.
  const cli = join(ROOT, 'packages', 'cli', 'bin', 'onnxkit.js');
  const proc = (cmd) => time(() => execFileSync(process.execPath, [cli, cmd, file], { stdio: 'ignore' }), { runs: 7 });
  const inspectProc = await proc('inspect');
  const analyzeProc = await proc('analyze');
  ratio('`onnxkit analyze` / `onnxkit inspect`, whole processes (median)', analyzeProc.median, inspectProc.median);

  // Each size in its own process with a 12 GB heap: a 1M-node graph plus its per-layer report
  // takes ≈3 GB, and in a default-sized heap the time goes into garbage collection, not analysis.
  section('analyze: synthetic chains (time per node should stay flat; each size in a child process)');
  const self = fileURLToPath(import.meta.url);
  let first;
  for (const n of [10_000, 100_000, 1_000_000]) {
    try {
      const out = execFileSync(process.execPath, ['--max-old-space-size=12000', '--expose-gc', self, '--synthetic', String(n)], { cwd: ROOT, encoding: 'utf8', timeout: 1_800_000 });
      const r = JSON.parse(out.trim().split('\n').pop());
      const perNode = (r.min * 1e3) / n;
      first ??= perNode;
      row(`${n.toLocaleString('en-US')} nodes: analyzeModel (min)`, fmtMs(r.min), `${perNode.toFixed(2)} µs/node (${(perNode / first).toFixed(2)}× the 10k rate; median ${fmtMs(r.median)}; build ${fmtMs(r.build)}; heap ${(r.heapBytes / 2 ** 20).toFixed(0)} MiB)`);
    } catch (e) {
      skip(`${n.toLocaleString('en-US')} nodes`, String(e instanceof Error ? e.message : e).split('\n')[0]);
    }
  }
}

/** One synthetic size, measured in this (child) process. */
async function syntheticRun(n) {
  const t0 = performance.now();
  const m = synthetic(n);
  const build = performance.now() - t0;
  globalThis.gc?.();
  // The smallest graph gets the most warm-up: otherwise its rate carries the JIT's cold start.
  const runs = n >= 1_000_000 ? 3 : n >= 100_000 ? 5 : 9;
  const t = await time(() => analyzeModel(m, { timeline: false }), { runs, warmup: n >= 1_000_000 ? 1 : 3 });
  return { min: t.min, median: t.median, build, heapBytes: process.memoryUsage().heapUsed };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1] && process.argv[2] === '--synthetic') {
  process.stdout.write(`${JSON.stringify(await syntheticRun(Number(process.argv[3])))}\n`);
}
if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1] && process.argv[2] === '--chain-file') {
  process.stdout.write(`${JSON.stringify(await chainRun(process.argv[3]))}\n`);
}
if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1] && process.argv[2] === '--chain') {
  const { mkdirSync } = await import('node:fs');
  mkdirSync(CACHE, { recursive: true });
  const n = Number(process.argv[3]);
  const file = join(CACHE, `analyze-chain-${n}.onnx`);
  if (!existsSync(file)) await writeChain(n, file);
  const r = await chainRun(file);
  process.stdout.write(`inferShapes ${fmtMs(r.infer)}, analyzeTotals before ${fmtMs(r.totalsBefore)}, after ${fmtMs(r.totalsAfter)} (CPU, ${n} nodes)\n`);
}
