// `onnxkit optimize` benchmarks (issue 4 "Performance"), all as ratios measured in this run:
//  1. the `default` preset on the zoo ResNet-50: time vs its import (decode) time and vs the
//     `onnxsim` npm package 0.7.3 (WebAssembly), node counts side by side
//     (targets: < 200 ms, ≥ 50× faster than onnxsim, equal or fewer nodes);
//  2. onnxruntime latency optimized/original, interleaved pairs in alternating order, at 'all'
//     (target ≤ 1.00: missed only if the median's 95% confidence interval lies above 1) and at
//     'disabled' (reported), on the zoo ResNet-50 and MobileNetV2, next to a control run of the
//     original against an identical copy (the noise floor);
//  3. our node count next to onnxruntime's own optimized model (optimizedModelFilePath) at
//     'basic' and 'extended';
//  4. conv-to-depthwise decoupling: MACs ratio next to measured latency ratio per rank, on the
//     zoo VGG-16 and ResNet-50;
//     On the torchvision export (fixtures/large, when exported) also whole processes: `onnxkit
//     optimize` against a read → simplify → write script, CPU and wall time (target ≥ 30×);
//  5. pipeline time on synthetic 10k / 100k / 1M-node graphs (time per node), each size in a
//     child process with a larger heap.
// Run: `pnpm bench optimize` (builds first) or `node --expose-gc bench/run.mjs optimize`.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CACHE, ROOT, childrenCpu, fmtMs, median, ratio, row, section, skip } from './lib.mjs';

const ONNXSIM_DIR = join(CACHE, 'onnxsim');

async function ensureOnnxsim() {
  const entry = join(ONNXSIM_DIR, 'node_modules/onnxsim/index.mjs');
  if (existsSync(entry)) return entry;
  try {
    mkdirSync(ONNXSIM_DIR, { recursive: true });
    execFileSync('npm', ['install', '--no-audit', '--no-fund', '--prefix', ONNXSIM_DIR, 'onnxsim@0.7.3'], { stdio: 'ignore', timeout: 300_000 });
  } catch {
    return null;
  }
  return existsSync(entry) ? entry : null;
}

function opCount(model) {
  let n = 0;
  for (const g of model.graphs()) n += g.nodeCount;
  return n;
}

/** Runs onnxsim with its console chatter (progress tables) silenced. */
async function quietly(fn) {
  const saved = [console.log, console.error, console.warn, process.stdout.write, process.stderr.write];
  console.log = console.error = console.warn = () => undefined;
  process.stdout.write = process.stderr.write = () => true;
  try {
    return await fn();
  } finally {
    [console.log, console.error, console.warn, process.stdout.write, process.stderr.write] = saved;
  }
}

/**
 * Whole processes, as users run them, alternating: `onnxkit optimize IN -o OUT` against a
 * Node script that reads the file, runs onnxsim's `simplify` and writes the result. CPU time
 * (user + system, children's rusage) is the fair measure on a shared machine; wall time too.
 * Then one more `onnxkit optimize` with progress lines on, whose step times break the wall time
 * down (start-up = the process's wall time minus its steps: Node, module loading, exit).
 * Alone: `node bench/optimize.bench.mjs --whole [runs]` (after `pnpm -s build`).
 */
function wholeProcess(model, simEntry, runs = 5) {
  if (!existsSync('/proc/self/stat')) return skip('whole-process comparison', 'needs /proc (Linux)');
  const tmp = join(CACHE, 'whole-process');
  mkdirSync(tmp, { recursive: true });
  const sim = join(tmp, 'simplify.mjs');
  writeFileSync(
    sim,
    "import { readFileSync, writeFileSync } from 'node:fs';\n" +
      'const { simplify } = await import(process.argv[4]);\n' +
      'console.log = console.error = console.warn = () => {};\n' +
      'const { model } = await simplify(new Uint8Array(readFileSync(process.argv[2])));\n' +
      'writeFileSync(process.argv[3], model);\n',
  );
  const cli = join(ROOT, 'packages/cli/bin/onnxkit.js');
  const run = (args, env) => {
    const c0 = childrenCpu();
    const t0 = performance.now();
    const r = spawnSync(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8', env: { ...process.env, ...env } });
    if (r.status !== 0) throw new Error(`${args.slice(0, 2).join(' ')} failed (exit ${r.status}): ${r.stderr.trim().split('\n').pop()}`);
    return { wall: performance.now() - t0, cpu: (childrenCpu() - c0) * 1000, err: r.stderr };
  };
  const ours = [];
  const theirs = [];
  for (let i = 0; i < runs; i++) {
    ours.push(run([cli, 'optimize', model, '-o', join(tmp, 'ours.onnx'), '-q']));
    if (simEntry) theirs.push(run([sim, model, join(tmp, 'onnxsim.onnx'), simEntry]));
  }
  const steps = run([cli, 'optimize', model, '-o', join(tmp, 'ours.onnx')], { ONNXKIT_PROGRESS: '1' });
  rmSync(tmp, { recursive: true, force: true });
  const med = (xs, k) => median(xs.map((x) => x[k]));
  row(`torchvision ResNet-50, whole process: \`onnxkit optimize\` CPU / wall (median of ${runs})`, `${fmtMs(med(ours, 'cpu'))} / ${fmtMs(med(ours, 'wall'))}`);
  const parts = [...steps.err.matchAll(/✔ (\w+(?: \((?:before|after)\))?)[^\n]*\(([\d.]+) (ms|s|µs)\)/g)].map(([, name, v, unit]) => [name, Number(v) * (unit === 's' ? 1000 : unit === 'µs' ? 1e-3 : 1)]);
  if (parts.length > 0) {
    const inSteps = parts.reduce((a, [, ms]) => a + ms, 0);
    row('… one more run, wall time by step', fmtMs(steps.wall), [...parts.map(([n, ms]) => `${n} ${fmtMs(ms)}`), `start-up and exit ${fmtMs(steps.wall - inSteps)}`].join(', '));
  }
  if (process.env.NODE_EXTRA_CA_CERTS) {
    // Node reads and parses the CA certificates at every start when this is set (empty: not set).
    const bare = (env) => median(Array.from({ length: 9 }, () => run(['-e', '0'], env).cpu));
    row('… NODE_EXTRA_CA_CERTS is set here: bare `node -e 0` CPU with / without it', `${fmtMs(bare({}))} / ${fmtMs(bare({ NODE_EXTRA_CA_CERTS: '' }))}`, 'Node parses CA certificates at every start; both sides pay it');
  }
  if (!simEntry) return;
  row('… onnxsim (read, simplify, write) CPU / wall', `${fmtMs(med(theirs, 'cpu'))} / ${fmtMs(med(theirs, 'wall'))}`);
  ratio('torchvision ResNet-50, whole process: onnxsim / ours in CPU time', med(theirs, 'cpu'), med(ours, 'cpu'), { op: '>=', value: 30 });
  ratio('… in wall time', med(theirs, 'wall'), med(ours, 'wall'), { op: '>=', value: 30 });
}

export default async function () {
  const { decode, encode, load } = await import('@onnxkit/importer');
  const { runPipeline, analyzeModel } = await import('@onnxkit/passes');
  const { resnet50, mobilenetv2, vgg16 } = await import('@onnxkit/zoo');
  const { benchPair, createSession, RuntimeWorker } = await import('@onnxkit/runtime');

  section('optimize: default preset on the zoo ResNet-50 (BatchNorm kept)');
  const rnBytes = encode(resnet50());
  const rnNodes = decode(rnBytes).graph.nodeCount;
  const decodeTimes = [];
  const optTimes = [];
  let optimized;
  for (let i = 0; i < 7; i++) {
    globalThis.gc?.();
    let t0 = performance.now();
    const m = decode(rnBytes);
    decodeTimes.push(performance.now() - t0);
    globalThis.gc?.();
    t0 = performance.now();
    await runPipeline(m, 'default');
    optTimes.push(performance.now() - t0);
    optimized = m;
  }
  const tOpt = median(optTimes);
  const tDecode = median(decodeTimes);
  row('model bytes', `${(rnBytes.byteLength / 2 ** 20).toFixed(1)} MiB`);
  row('nodes before → after (ours)', `${rnNodes} → ${optimized.graph.nodeCount}`);
  row('default pipeline time (median of 7)', fmtMs(tOpt), tOpt < 200 ? '(target < 200 ms: met)' : '(target < 200 ms: MISSED)');
  ratio('default pipeline / import (decode) time', tOpt, tDecode);

  const simEntry = await ensureOnnxsim();
  if (!simEntry) skip('onnxsim 0.7.3 (WebAssembly)', 'not installed and the npm registry is not reachable');
  else {
    const { simplify } = await import(simEntry);
    const t0 = performance.now();
    const { model: simBytes } = await quietly(() => simplify(rnBytes));
    const tSim = performance.now() - t0;
    const simModel = decode(new Uint8Array(simBytes));
    row('onnxsim 0.7.3 time (one run)', fmtMs(tSim));
    row('nodes: ours vs onnxsim', `${optimized.graph.nodeCount} vs ${simModel.graph.nodeCount}`, optimized.graph.nodeCount <= simModel.graph.nodeCount ? '(target ≤: met)' : '(target ≤: MISSED)');
    ratio('onnxsim / ours (speed-up)', tSim, tOpt, { op: '>=', value: 50 });
    const tv = join(ROOT, 'fixtures/large/resnet50_bn/model.onnx');
    if (existsSync(tv)) {
      const bytes = readFileSync(tv);
      const nodes = decode(bytes).graph.nodeCount;
      const ours = [];
      let m;
      for (let i = 0; i < 5; i++) {
        m = decode(bytes);
        globalThis.gc?.();
        const t = performance.now();
        await runPipeline(m, 'default');
        ours.push(performance.now() - t);
      }
      const tOurs = median(ours);
      const t1 = performance.now();
      const { model: sb } = await quietly(() => simplify(new Uint8Array(bytes)));
      const tS = performance.now() - t1;
      row('torchvision ResNet-50 (BN kept, fixtures/large): nodes', `${nodes} → ours ${m.graph.nodeCount}, onnxsim ${decode(new Uint8Array(sb)).graph.nodeCount}`);
      row('torchvision ResNet-50: default pipeline time (median of 5)', fmtMs(tOurs), tOurs < 200 ? '(target < 200 ms: met)' : '(target < 200 ms: MISSED)');
      ratio('torchvision ResNet-50: onnxsim / ours', tS, tOurs, { op: '>=', value: 50 });
      wholeProcess(tv, simEntry);
    }
  }

  const worker = new RuntimeWorker();
  try {
    section('onnxruntime latency, optimized / original (interleaved pairs in alternating order, 1 thread)');
    for (const [name, build] of [
      ['ResNet-50', resnet50],
      ['MobileNetV2', mobilenetv2],
    ]) {
      const original = build();
      const opt = decode(encode(original));
      await runPipeline(opt, 'default');
      const iterations = 30;
      // The noise floor: the original against an identical copy of itself, same protocol.
      const control = await benchPair(original, decode(encode(original)), { iterations, warmup: 3, graphOptimizationLevel: 'all', sessionOptions: { worker } });
      row(`${name} control, original / identical copy at 'all'`, `${control.ratio.median.toFixed(3)}×`, ci(control.ratio));
      for (const level of ['all', 'disabled']) {
        const r = await benchPair(original, opt, { iterations, warmup: 3, graphOptimizationLevel: level, sessionOptions: { worker } });
        // "Never slower" holds unless the whole confidence interval of the median is above 1.
        const target = level === 'all' ? `(target ≤ 1.00: ${r.ratio.verdict === 'slower' ? 'MISSED' : r.ratio.verdict === 'faster' ? 'met' : 'met, no difference beyond the noise'})` : `(reported: ${r.ratio.verdict})`;
        row(`${name} at '${level}': p50 ${r.a.latency.p50Ms.toFixed(1)} → ${r.b.latency.p50Ms.toFixed(1)} ms`, `${r.ratio.median.toFixed(3)}×`, `${ci(r.ratio)} ${target}`);
      }
    }

    section("node count: ours vs onnxruntime's own optimizer (optimizedModelFilePath)");
    for (const [name, build] of [
      ['ResNet-50', resnet50],
      ['MobileNetV2', mobilenetv2],
    ]) {
      const original = build();
      const opt = decode(encode(original));
      await runPipeline(opt, 'default');
      const counts = [];
      for (const level of ['basic', 'extended']) {
        const file = join(CACHE, `ort-optimized-${name}-${level}.onnx`);
        const s = await createSession(original, { worker, graphOptimizationLevel: level, optimizedModelFilePath: file });
        await s.release();
        counts.push(`${level} ${opCount(load(file))}`);
        rmSync(file, { force: true });
      }
      row(`${name}: original ${original.graph.nodeCount}, ours ${opt.graph.nodeCount}, onnxruntime`, counts.join(', '));
    }

    section('conv-to-depthwise decoupling: MACs ratio vs measured latency ratio (onnxruntime, all)');
    for (const [name, build, ranks, iters] of [
      ['ResNet-50', resnet50, [1, 2, 4], 7],
      ['VGG-16', vgg16, [1, 2, 4], 3],
    ]) {
      const base = build();
      await runPipeline(base, 'default');
      const macs0 = analyzeModel(base).totals.macs;
      for (const rank of ranks) {
        const m = decode(encode(base));
        const rep = await runPipeline(m, ['decouple-conv'], { passOptions: { 'decouple-conv': { rank, maxError: 1 } }, maxIterations: 1 });
        const metrics = rep.runs[0].result.metrics;
        const macs1 = analyzeModel(m).totals.macs;
        const r = await benchPair(base, m, { iterations: iters, warmup: 1, graphOptimizationLevel: 'all', sessionOptions: { worker } });
        row(
          `${name} rank ${rank}: ${metrics.decoupled} convs, max weight error ${metrics.maxRelativeError.toFixed(3)}`,
          `MACs ${(macs1 / macs0).toFixed(3)}×`,
          `latency ${r.ratio.median.toFixed(3)}× (p10–p90 ${r.ratio.p10.toFixed(2)}–${r.ratio.p90.toFixed(2)})`,
        );
      }
    }
  } finally {
    await worker.terminate();
  }

  // verify 'off' skips the per-pass verify() (the input and the result are still verified);
  // verify 'pass' (the default) adds one O(n) verify() per pass that changed something.
  section('pipeline time on synthetic graphs (default preset; each size in a child process)');
  const self = fileURLToPath(import.meta.url);
  for (const [nodes, mode] of [
    [10_000, 'off'],
    [100_000, 'off'],
    [1_000_000, 'off'],
    [10_000, 'pass'],
    [100_000, 'pass'],
  ]) {
    try {
      const out = execFileSync(process.execPath, ['--max-old-space-size=12000', '--expose-gc', self, '--synthetic', String(nodes), mode], { cwd: ROOT, encoding: 'utf8', timeout: 1_800_000 });
      const r = JSON.parse(out.trim().split('\n').pop());
      row(`verify '${mode}': ${r.nodes.toLocaleString('en')} nodes → ${r.after.toLocaleString('en')} (${r.changes.toLocaleString('en')} changes)`, fmtMs(r.ms), `${((r.ms * 1e6) / r.nodes).toFixed(0)} ns/node (passes ${fmtMs(r.passMs)}, verify ${fmtMs(r.verifyMs)}); slowest: ${r.slowest.join(', ')}`);
    } catch (e) {
      skip(`${nodes.toLocaleString('en')} nodes, verify '${mode}'`, String(e instanceof Error ? e.message : e).split('\n')[0]);
    }
  }
}

/**
 * A synthetic network of `nodes` nodes in blocks of 6: Identity → Relu → Mul(·, 1) → Conv 1×1
 * (own 4×4 weight) → BatchNormalization → Add(residual). `default` removes the Identity and the
 * Mul and folds the BN: 6 → 3 nodes per block.
 */
async function synthetic(nodes, verifyMode) {
  const { DataType, GraphBuilder, Tensor, Attribute } = await import('@onnxkit/graph');
  const { runPipeline } = await import('@onnxkit/passes');
  const b = new GraphBuilder({ name: 'synthetic' });
  let x = b.input('x', DataType.FLOAT, [1, 4, 8, 8]);
  const eps = Attribute.float('epsilon', 1e-5);
  const blocks = Math.floor(nodes / 6);
  for (let i = 0; i < blocks; i++) {
    const a = b.op('Identity', [x]);
    const r = b.op('Relu', [a]);
    const m = b.op('Mul', [r, b.constant('one', Tensor.scalar(DataType.FLOAT, 1))]);
    // Distinct data per block, as in a real network: every block is its own BatchNorm fold.
    const w = new Float32Array(16);
    for (let k = 0; k < 16; k++) w[k] = Math.sin(i * 16 + k + 1);
    const c = b.op('Conv', [m, b.constant('w', Tensor.fromArray(DataType.FLOAT, [4, 4, 1, 1], w))]);
    const bn = ['gamma', 'beta', 'mean', 'var'].map((k, j) => b.constant(k, Tensor.fromArray(DataType.FLOAT, [4], Float32Array.from({ length: 4 }, (_, c) => 1 + 0.5 * Math.cos(i * 4 + c + j)))));
    const n = b.op('BatchNormalization', [c, ...bn], { epsilon: eps });
    x = b.op('Add', [n, x]);
  }
  b.output(x, 'y');
  const model = b.build();
  const before = model.graph.nodeCount;
  globalThis.gc?.();
  const t0 = performance.now();
  const report = await runPipeline(model, 'default', { verify: verifyMode });
  const ms = performance.now() - t0;
  const slowest = [...report.summary].sort((a, b) => b.timeMs - a.timeMs).slice(0, Number(process.env.SLOWEST ?? 3)).map((p) => `${p.pass} ${(p.timeMs / 1000).toFixed(1)} s`);
  const passMs = report.summary.reduce((a, p) => a + p.timeMs, 0);
  return { nodes: before, after: model.graph.nodeCount, changes: report.totalChanges, ms, verifyMs: report.verifyMs, passMs, slowest };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1] && process.argv[2] === '--whole') {
  const tv = join(ROOT, 'fixtures/large/resnet50_bn/model.onnx');
  if (!existsSync(tv)) skip('torchvision ResNet-50 whole process', 'fixtures/large/resnet50_bn/model.onnx is missing (python3 fixtures/export_torchvision.py)');
  else {
    section('optimize: torchvision ResNet-50 (BN kept), whole processes');
    wholeProcess(tv, await ensureOnnxsim(), Number(process.argv[3] ?? 5));
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1] && process.argv[2] === '--synthetic') {
  const r = await synthetic(Number(process.argv[3]), process.argv[4] ?? 'pass');
  process.stdout.write(`${JSON.stringify(r)}\n`);
}

/** The median ratio's confidence interval, as printed. */
function ci(r) {
  return `${Math.round(r.ci.level * 100)}% CI ${r.ci.low.toFixed(3)}–${r.ci.high.toFixed(3)}`;
}
