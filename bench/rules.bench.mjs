// Rules-as-data pipeline cost (issue 15 "Performance"): the `default` preset as a whole
// `onnxkit optimize --json` process (and, in its own row, the plain `onnxkit optimize IN -o OUT`
// users type, which prints the table) on a synthetic MatMul → Add → Relu → Identity → Mul(·, 1) chain
// of 10k / 100k / 1M nodes (target ≤ 10 µs of CPU per node on 100k, flat from 10k to 1M, peak RSS
// over the baseline process under 1 KiB per node), and the `default` pipeline alone on the zoo
// ResNet-50. Each size runs in its own process (the model file is written first, then `onnxkit
// optimize` is timed end to end, its CPU time and peak RSS read from /usr/bin/time). The baseline,
// measured in the same run, is the same command on a 5-node chain: the fixed cost of starting
// Node and loading the CLI, which per-node figures "over baseline" leave out.
// Run one size alone: `node bench/rules.bench.mjs --size 100000` (after `pnpm -s build`; it
// measures the baseline first), the pipeline alone in-process:
// `node --expose-gc bench/rules.bench.mjs --pipeline 100000`; the JIT's share, as the same command
// run again warm in one process: `node bench/rules.bench.mjs --warm 100000`; all sizes:
// `node --expose-gc bench/run.mjs rules`. `--root DIR` runs another built checkout's CLI / passes
// (e.g. a build of main for a before/after comparison).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { CACHE, ROOT, builtPackage, cpuMs, fmtMs, median, row, section } from './lib.mjs';

/** Issue 15's target: CPU µs per node of the whole `onnxkit optimize` process. */
const TARGET_US = 10;

const rootArg = process.argv.indexOf('--root');
const BASE = rootArg > 0 ? process.argv[rootArg + 1] : ROOT;
const CLI = join(BASE, 'packages/cli/bin/onnxkit.js');

/**
 * A chain of `n` nodes over a [1, 16] activation in blocks of 5: MatMul (16×16 weight), Add
 * (bias), Relu, Identity, Mul(·, 1). `default` removes the Identity and the Mul and fuses
 * MatMul + Add into Gemm: 5 → 2 nodes per block.
 *
 * By default every MatMul has its own weight and every Add its own bias (distinct data, ≈ 290 B
 * per node of raw weights): the harder case. With `shared`, every MatMul reads ONE 16×16 weight
 * and every Add ONE bias — the kind of file (issue 15 "1M nodes needs 2.7 GB", issue 13
 * item 6 "a 1M-node, 25 MB file"): small (≈ 69 B/node), so peak memory measures the IR and the
 * pipeline, not the weights. Both are printed, labelled.
 */
export async function writeChain(n, file, { shared = false } = {}) {
  const { DataType, GraphBuilder, Tensor } = await import('@onnxkit/graph');
  const { save } = await import('@onnxkit/importer');
  const b = new GraphBuilder({ name: `${shared ? 'shared-' : ''}chain-${n}` });
  let x = b.input('x', DataType.FLOAT, [1, 16]);
  const weight = (i) => {
    const w = new Float32Array(256);
    for (let k = 0; k < 256; k++) w[k] = Math.sin(i * 256 + k) * 0.1;
    return b.constant('w', Tensor.fromArray(DataType.FLOAT, [16, 16], w));
  };
  const biasOf = (i) => {
    const bias = new Float32Array(16);
    for (let k = 0; k < 16; k++) bias[k] = Math.cos(i * 16 + k) * 0.1;
    return b.constant('b', Tensor.fromArray(DataType.FLOAT, [16], bias));
  };
  const sharedW = shared ? weight(0) : undefined;
  const sharedB = shared ? biasOf(0) : undefined;
  const one = b.constant('one', Tensor.scalar(DataType.FLOAT, 1));
  for (let i = 0; i < Math.floor(n / 5); i++) {
    x = b.op('MatMul', [x, sharedW ?? weight(i)]);
    x = b.op('Add', [x, sharedB ?? biasOf(i)]);
    x = b.op('Relu', [x]);
    x = b.op('Identity', [x]);
    x = b.op('Mul', [x, one]);
  }
  b.output(x, 'y');
  const model = b.build();
  await save(model, file);
  return model.graph.nodeCount;
}

/**
 * Peak RSS of `onnxkit optimize -q` (the default table, not printed) per node over the baseline
 * (a 5-node chain), for the shared-weight chain (the file) and the weighted chain, at `n`
 * nodes. `node bench/rules.bench.mjs --memory 100000` (or 1000000: about 20 s per chain).
 */
async function memoryRows(n) {
  const dir = join(CACHE, 'rules-bench');
  mkdirSync(dir, { recursive: true });
  const out = join(dir, 'mem.opt.onnx');
  const run = async (shared, size, tag) => {
    const file = join(dir, `mem-${tag}-${size}.onnx`);
    const nodes = await writeChain(size, file, { shared });
    const bytes = statSync(file).size;
    const r = timed(`"${CLI}" optimize -q "${file}" -o "${out}"`);
    rmSync(file, { force: true });
    rmSync(out, { force: true });
    return { nodes, bytes, ...r };
  };
  for (const [label, shared, tag] of [
    ['shared-weight chain (the issue\'s kind of file)', true, 'shared'],
    ['weighted chain (a distinct 16×16 weight + bias per block)', false, 'weighted'],
  ]) {
    const b = await run(shared, 5, tag);
    const r = await run(shared, n, tag);
    const perNode = ((r.rssKiB - b.rssKiB) * 1024) / r.nodes;
    row(
      `peak RSS, onnxkit optimize -q, ${r.nodes.toLocaleString('en')}-node ${label}`,
      `${(r.rssKiB / 1024).toFixed(0)} MiB`,
      `file ${(r.bytes / 1e6).toFixed(1)} MB; baseline (5-node) ${(b.rssKiB / 1024).toFixed(0)} MiB; ${perNode.toFixed(0)} B/node over the baseline (target < 1024: ${perNode < 1024 ? 'met' : 'MISSED'}); CPU ${fmtMs(r.cpuMs)}`,
    );
  }
}

/** Times `onnxkit optimize` (default preset) on a chain of `n` nodes as a whole process, with its peak RSS. */
async function measureWithRss(n) {
  // /usr/bin/time reports on stderr; the CLI's own stdout is discarded.
  const dir = join(CACHE, 'rules-bench');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `chain-${n}.onnx`);
  const out = join(dir, `chain-${n}.opt.onnx`);
  const nodes = await writeChain(n, file);
  // Same-run reference: `onnxkit inspect` of the same file (start-up, read, decode, a summary).
  const inspect = n > 5 ? timed(`"${CLI}" inspect "${file}" --json`) : undefined;
  const r = timed(`"${CLI}" optimize "${file}" -o "${out}" --no-ort-fold --json`);
  // What users type: the default table on stdout, no change records kept (--json keeps them), and
  // no --no-ort-fold (onnxruntime is loaded only if a node needs it; none of the chain's does).
  const plain = n > 5 ? timed(`"${CLI}" optimize "${file}" -o "${out}"`) : undefined;
  rmSync(file, { force: true });
  rmSync(out, { force: true });
  return { nodes, ...r, ...(inspect ? { inspectCpuMs: inspect.cpuMs } : {}), ...(plain ? { plain } : {}) };
}

/** Runs `node ARGS` under /usr/bin/time: wall ms, CPU ms (user + sys), peak RSS in KiB. */
function timed(args) {
  const t0 = performance.now();
  // No V8 flags: the command runs as users run it (a flag such as --max-old-space-size also
  // makes V8 refuse the CLI's code cache, which is keyed to the flags it was made with).
  const stderr = execFileSync('sh', ['-c', `/usr/bin/time -f 'maxrss_kib=%M cpu_s=%U+%S' "${process.execPath}" ${args} 2>&1 >/dev/null`], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 3_600_000,
  });
  const ms = performance.now() - t0;
  const rss = Number(/maxrss_kib=(\d+)/.exec(stderr)?.[1] ?? NaN);
  const cpu = /cpu_s=([\d.]+)\+([\d.]+)/.exec(stderr);
  return { ms, cpuMs: cpu ? (Number(cpu[1]) + Number(cpu[2])) * 1000 : NaN, rssKiB: rss };
}

/** The `default` pipeline alone (in this process) on the chain: CPU per node, verify share. */
async function pipelineOnly(n) {
  const dir = join(CACHE, 'rules-bench');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `chain-${n}.onnx`);
  await writeChain(n, file);
  const pkg = (name) => builtPackage(BASE, name);
  const { load } = await import(pkg('importer'));
  const { runPipeline } = await import(pkg('passes'));
  const m = load(file, { lazy: false });
  rmSync(file, { force: true });
  const nodes = m.graph.nodeCount;
  globalThis.gc?.();
  const c0 = cpuMs();
  const rep = await runPipeline(m, 'default');
  const cpu = cpuMs() - c0;
  const us = (cpu * 1000) / nodes;
  row(`default pipeline alone, ${nodes.toLocaleString('en')}-node chain`, `CPU ${fmtMs(cpu)}`, `${us.toFixed(1)} µs/node (${(us / TARGET_US).toFixed(2)}× the whole-process target), ${rep.iterations} sweeps, ${rep.totalChanges.toLocaleString('en')} changes (wall ${fmtMs(rep.timeMs)}, of which verify ${fmtMs(rep.verifyMs)})`);
}

/**
 * The same `onnxkit optimize` run `runs` times in ONE process (the CLI's `start`, as the launcher
 * calls it, on the ES modules): the first run pays V8's warm-up (interpreter, TurboFan on the
 * background threads, deoptimise-and-recompile cycles) as a whole process does; the later ones run
 * code that is already optimized. The last half's median is the floor a better JIT set-up could reach: what
 * the work itself costs per node. `node bench/rules.bench.mjs --warm 100000`.
 */
async function warmRuns(n, runs = 8) {
  const dir = join(CACHE, 'rules-bench');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `warm-${n}.onnx`);
  const out = join(dir, `warm-${n}.opt.onnx`);
  const nodes = await writeChain(n, file);
  const { start } = await import(pathToFileURL(join(BASE, 'packages/cli/dist/start.js')).href);
  // One untimed run on a 5-node chain first: it loads and compiles the command's modules (the ES
  // modules here, without the bundle's code cache), which the first timed run would count as warm-up.
  const tiny = join(dir, 'warm-5.onnx');
  await writeChain(5, tiny);
  await start([process.execPath, CLI, 'optimize', tiny, '-o', out, '-q']);
  rmSync(tiny, { force: true });
  const cpu = [];
  for (let i = 0; i < runs; i++) {
    const c0 = cpuMs();
    await start([process.execPath, CLI, 'optimize', file, '-o', out, '-q']);
    cpu.push(cpuMs() - c0);
    if (process.exitCode) throw new Error(`onnxkit optimize failed in run ${i + 1} (exit code ${process.exitCode})`);
  }
  rmSync(file, { force: true });
  rmSync(out, { force: true });
  const us = (ms) => (ms * 1000) / nodes;
  // The last half: below 25,000 nodes the CLI delays tier-up (heap.ts), so runs 2–4 still warm up.
  const warm = median(cpu.slice(runs >> 1));
  row(
    `onnxkit optimize -q, ${nodes.toLocaleString('en')}-node chain, ${runs} runs in one process`,
    `first ${us(cpu[0]).toFixed(1)} µs/node`,
    `JIT warm (the last ${runs - (runs >> 1)} runs' median) ${us(warm).toFixed(1)} µs/node (runs 2–${runs}: ${cpu.slice(1).map((c) => us(c).toFixed(1)).join(' / ')}; target ≤ ${TARGET_US}): the first run's ${fmtMs(cpu[0] - warm)} more is the JIT's warm-up`,
  );
}

async function resnet() {
  const pkg = (name) => builtPackage(BASE, name);
  const { decode, encode } = await import(pkg('importer'));
  const { runPipeline } = await import(pkg('passes'));
  const { resnet50 } = await import(pkg('zoo'));
  const bytes = encode(resnet50());
  const times = [];
  const cpu = [];
  for (let i = 0; i < 7; i++) {
    const m = decode(bytes);
    globalThis.gc?.();
    const c0 = cpuMs();
    const t = performance.now();
    await runPipeline(m, 'default');
    times.push(performance.now() - t);
    cpu.push(cpuMs() - c0);
  }
  return { ms: median(times), cpuMs: median(cpu) };
}

// On a shared machine wall time includes waiting for a core; the process's CPU time (user + sys,
// which includes GC and compiler threads) is printed beside it and judged against the target.
function printBaseline(b) {
  row('baseline: onnxkit optimize, 5-node chain', fmtMs(b.ms), `CPU ${fmtMs(b.cpuMs)}; peak RSS ${(b.rssKiB / 1024).toFixed(0)} MiB`);
}

/** Prints one size; returns its CPU µs per node over the baseline. */
function printSize(r, b) {
  const us = (r.cpuMs * 1000) / r.nodes;
  const usOver = ((r.cpuMs - b.cpuMs) * 1000) / r.nodes;
  const perNode = ((r.rssKiB - b.rssKiB) * 1024) / r.nodes;
  row(
    `onnxkit optimize, ${r.nodes.toLocaleString('en')}-node chain`,
    fmtMs(r.ms),
    `CPU ${fmtMs(r.cpuMs)} = ${us.toFixed(1)} µs/node (${(us / TARGET_US).toFixed(2)}× the target), ${usOver.toFixed(1)} over the baseline (target ≤ ${TARGET_US}: ${us <= TARGET_US ? 'met' : usOver <= TARGET_US ? 'met over the baseline' : 'MISSED'}); ` +
      `peak RSS ${(r.rssKiB / 1024).toFixed(0)} MiB, ${perNode.toFixed(0)} B/node over the baseline (target < 1024: ${perNode < 1024 ? 'met' : 'MISSED'})` +
      (r.inspectCpuMs ? `; ${(r.cpuMs / r.inspectCpuMs).toFixed(2)}× the CPU of \`onnxkit inspect\` of the same file (${fmtMs(r.inspectCpuMs)})` : ''),
  );
  if (r.plain) {
    const p = r.plain;
    const pus = (p.cpuMs * 1000) / r.nodes;
    const pover = ((p.cpuMs - b.cpuMs) * 1000) / r.nodes;
    row(
      `onnxkit optimize IN -o OUT (the table, no --json), ${r.nodes.toLocaleString('en')}-node chain`,
      fmtMs(p.ms),
      `CPU ${fmtMs(p.cpuMs)} = ${pus.toFixed(1)} µs/node (${(pus / TARGET_US).toFixed(2)}× the target), ${pover.toFixed(1)} over the baseline; peak RSS ${(p.rssKiB / 1024).toFixed(0)} MiB`,
    );
  }
  return usOver;
}

export default async function () {
  section('rules as data: `onnxkit optimize` (default) as a whole process, per node');
  if (!existsSync(CLI)) return;
  const b = await measureWithRss(5);
  printBaseline(b);
  const perNode = new Map();
  for (const n of [10_000, 100_000, 1_000_000]) {
    const out = execFileSync(process.execPath, [fileURLToPath(import.meta.url), '--size', String(n), '--baseline', JSON.stringify(b)], { cwd: ROOT, encoding: 'utf8', timeout: 3_600_000 });
    console.log(out.trimEnd());
    const us = /(-?[\d.]+) over the baseline/.exec(out)?.[1];
    if (us !== undefined) perNode.set(n, Number(us));
  }
  const at100k = perNode.get(100_000);
  if (at100k) {
    const flat = [10_000, 1_000_000].map((n) => (perNode.has(n) ? `${n.toLocaleString('en')}: ${(perNode.get(n) / at100k).toFixed(2)}×` : '')).filter(Boolean);
    row('flatness: CPU per node over the baseline, vs 100k', flat.join(', '), '(flat: ≈ 1×)');
  }
  for (const n of [10_000, 100_000]) {
    const out = execFileSync(process.execPath, ['--expose-gc', '--max-old-space-size=12000', fileURLToPath(import.meta.url), '--pipeline', String(n)], { cwd: ROOT, encoding: 'utf8', timeout: 3_600_000 });
    console.log(out.trimEnd());
  }
  for (const n of [10_000, 100_000]) {
    console.log(execFileSync(process.execPath, [fileURLToPath(import.meta.url), '--warm', String(n)], { cwd: ROOT, encoding: 'utf8', timeout: 3_600_000 }).trimEnd());
  }
  for (const n of [100_000, 1_000_000]) {
    console.log(execFileSync(process.execPath, [fileURLToPath(import.meta.url), '--memory', String(n)], { cwd: ROOT, encoding: 'utf8', timeout: 3_600_000 }).trimEnd());
  }
  const r = await resnet();
  row('zoo ResNet-50: default pipeline (median of 7)', fmtMs(r.ms), `CPU ${fmtMs(r.cpuMs)}`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const i = process.argv.indexOf('--size');
  const j = process.argv.indexOf('--pipeline');
  const k = process.argv.indexOf('--baseline');
  if (i > 0) {
    const b = k > 0 ? JSON.parse(process.argv[k + 1]) : await measureWithRss(5);
    if (k < 0) printBaseline(b);
    printSize(await measureWithRss(Number(process.argv[i + 1])), b);
  }
  else if (j > 0) await pipelineOnly(Number(process.argv[j + 1]));
  else if (process.argv.includes('--warm')) await warmRuns(Number(process.argv[process.argv.indexOf('--warm') + 1]));
  else if (process.argv.includes('--memory')) await memoryRows(Number(process.argv[process.argv.indexOf('--memory') + 1]));
  else if (process.argv.includes('--resnet')) {
    const r = await resnet();
    row('zoo ResNet-50: default pipeline (median of 7)', fmtMs(r.ms), `CPU ${fmtMs(r.cpuMs)}`);
  }
}
