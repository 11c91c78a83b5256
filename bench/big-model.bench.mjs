// Big models (issue 7 part 3): a synthetic transformer with 4.5 GiB of external weights
// (scripts/make-big-model.mjs) is inspected (`onnxkit inspect` as a whole process, target < 2 s),
// analyzed, optimized with the `default` preset and saved — in a child process whose peak
// resident memory is measured — and onnxruntime-node loads and runs the saved result.
//
// "Passes that do not need weight values touch no weight bytes" is shown by accounting, not
// assumed: the flow reads /proc/self/io `rchar` (bytes the process read through read/pread)
// around every phase and every pass, so each pass's bytes read from the weight file are printed.
// Peak memory comes from VmHWM, reset per phase through /proc/self/clear_refs.
//
// Opt-in (it needs ~10 GB of disk and a few minutes): ONNXKIT_BENCH_BIG=1 pnpm bench big-model.
// ONNXKIT_BENCH_BIG_GIB changes the size; ONNXKIT_BENCH_KEEP=1 keeps the generated files.
//
// `node bench/big-model.bench.mjs --flow MODEL OUTDIR` runs the measured flow alone and prints
// JSON (used by this benchmark and by test/integration/big-model.test.ts, which runs it on the
// TypeScript sources through fuzz/ts-loader).
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = fileURLToPath(new URL('.', import.meta.url));
const ROOT_DIR = resolve(HERE, '..');
const GiB = 2 ** 30;
const MiB = 2 ** 20;

/**
 * Bytes this process has read through read(2)/pread(2) so far (/proc/self/io). Each call reads
 * /proc/self/io itself, ~110 bytes, which the next call counts: deltas carry that much noise, far
 * below the smallest external tensor (1 KiB), so "under 1 KiB" means "no tensor bytes".
 */
function rchar() {
  return Number(/rchar:\s+(\d+)/.exec(readFileSync('/proc/self/io', 'utf8'))[1]);
}
function status() {
  const s = readFileSync('/proc/self/status', 'utf8');
  return { hwm: Number(/VmHWM:\s+(\d+) kB/.exec(s)[1]) * 1024, rss: Number(/VmRSS:\s+(\d+) kB/.exec(s)[1]) * 1024 };
}

/** Runs `fn` and returns its result with wall time, bytes read and peak resident growth. */
async function phase(fn) {
  writeFileSync('/proc/self/clear_refs', '5');
  const before = status().rss;
  const r0 = rchar();
  const t0 = performance.now();
  const value = await fn();
  const ms = performance.now() - t0;
  const bytesRead = rchar() - r0;
  const { hwm } = status();
  return { value, ms, bytesRead, peakGrowth: hwm - before, peakRss: hwm };
}

/**
 * The measured flow: load (lazy), inspect-like summary, analyze, optimize (default preset, bytes
 * read per pass), save with external data. Runs in its own process so the peak is its own.
 */
export async function flow(modelPath, outDir) {
  const { load, save } = await import('@onnxkit/importer');
  const { analyzeModel, runPipeline } = await import('@onnxkit/passes');
  const baseline = status().rss;
  const result = { baselineRss: baseline };

  const loaded = await phase(() => load(modelPath));
  const model = loaded.value;
  let weightBytes = 0;
  let largest = 0;
  let external = 0;
  for (const v of model.graph.initializers.values()) {
    const t = v.constValue;
    weightBytes += t.byteLength;
    largest = Math.max(largest, t.byteLength);
    if (t.external) external++;
  }
  result.load = { ms: loaded.ms, bytesRead: loaded.bytesRead, peakGrowth: loaded.peakGrowth, nodes: model.graph.nodeCount, initializers: model.graph.initializers.size, externalTensors: external, weightBytes, largestTensor: largest };

  const analyzed = await phase(() => JSON.stringify(analyzeModel(model)));
  const report = JSON.parse(analyzed.value);
  result.analyze = { ms: analyzed.ms, bytesRead: analyzed.bytesRead, peakGrowth: analyzed.peakGrowth, params: report.totals.params, macs: report.totals.macs, jsonBytes: analyzed.value.length };

  const passes = [];
  let mark = rchar();
  let t = performance.now();
  const optimized = await phase(() =>
    runPipeline(model, 'default', {
      onPass: (run) => {
        const now = rchar();
        const tn = performance.now();
        passes.push({ pass: run.pass, iteration: run.iteration, changes: run.result.changes, bytesRead: now - mark, ms: tn - t });
        mark = now;
        t = tn;
      },
    }),
  );
  result.optimize = { ms: optimized.ms, bytesRead: optimized.bytesRead, peakGrowth: optimized.peakGrowth, iterations: optimized.value.iterations, totalChanges: optimized.value.totalChanges, nodes: model.graph.nodeCount, passes };

  mkdirSync(outDir, { recursive: true });
  const out = join(outDir, 'model.onnx');
  const saved = await phase(() => save(model, out, { externalData: true }));
  result.save = { ms: saved.ms, bytesRead: saved.bytesRead, peakGrowth: saved.peakGrowth, bytesWritten: saved.value.bytesWritten, path: out, externalFiles: saved.value.externalFiles };
  result.maxRss = process.resourceUsage().maxRSS * 1024;
  return result;
}

/** The flow in a child process: on dist by default, on the TypeScript sources with `source: true`. */
export function runFlowChild(modelPath, outDir, { source = false } = {}) {
  const args = [...(source ? ['--conditions=source', '--import', join(ROOT_DIR, 'fuzz', 'ts-loader', 'register.mjs')] : []), fileURLToPath(import.meta.url), '--flow', modelPath, outDir];
  const r = spawnSync(process.execPath, args, { cwd: ROOT_DIR, encoding: 'utf8', maxBuffer: 64 * MiB });
  if (r.status !== 0) throw new Error(`big-model flow failed (${r.status ?? r.signal}): ${r.stderr}`);
  return JSON.parse(r.stdout);
}

/**
 * Loads a model in onnxruntime-node (CPU, optimizations disabled) in a child process and runs it
 * once on a deterministic input [1, seq, d]; returns output statistics and the session time.
 */
export function ortRun(modelPath, { seq, d, valuesFile }) {
  const code = `
    import ort from 'onnxruntime-node';
    import { writeFileSync } from 'node:fs';
    const t0 = performance.now();
    const s = await ort.InferenceSession.create(${JSON.stringify(modelPath)}, { graphOptimizationLevel: 'disabled', intraOpNumThreads: 2, logSeverityLevel: 3 });
    const created = performance.now() - t0;
    const n = ${seq} * ${d};
    const x = new Float32Array(n);
    for (let i = 0; i < n; i++) x[i] = Math.sin(i * 0.37) * 0.5;
    const out = await s.run({ [s.inputNames[0]]: new ort.Tensor('float32', x, [1, ${seq}, ${d}]) });
    const y = out[s.outputNames[0]];
    let finite = 0;
    for (const v of y.data) if (Number.isFinite(v)) finite++;
    ${valuesFile ? `writeFileSync(${JSON.stringify(valuesFile)}, new Uint8Array(y.data.buffer, y.data.byteOffset, y.data.byteLength));` : ''}
    console.log(JSON.stringify({ createdMs: created, totalMs: performance.now() - t0, dims: y.dims, finite, size: y.data.length, maxRss: process.resourceUsage().maxRSS * 1024 }));
    await s.release();
  `;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', code], { cwd: ROOT_DIR, encoding: 'utf8', maxBuffer: 16 * MiB });
  if (r.status !== 0) throw new Error(`onnxruntime-node could not load/run ${modelPath}: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop());
}

/**
 * Passes of the default preset that may read tensor values: they fold constants, compare
 * tensors, or look for Add/Mul by 0/1 (eliminate-identity reads small constant operands).
 */
export const VALUE_PASSES = new Set(['eliminate-identity', 'fold-constants', 'eliminate-duplicate-initializers', 'eliminate-common-subexpressions', 'fold-batchnorm', 'fuse-bias-into-conv', 'fuse-affine-into-conv', 'fuse-pad-into-conv', 'conv-to-depthwise']);

export default async function bench() {
  const { fmtMs, row, section, skip } = await import('./lib.mjs');
  section('big model: > 4 GiB of external weights (inspect, analyze, optimize, save, ORT load)');
  if (process.env.ONNXKIT_BENCH_BIG !== '1') {
    skip('4.5 GiB synthetic transformer', 'skipped: set ONNXKIT_BENCH_BIG=1 (needs ~10 GB of disk)');
    return;
  }
  const { makeBigModel } = await import('../scripts/make-big-model.mjs');
  const gib = Number(process.env.ONNXKIT_BENCH_BIG_GIB ?? 4.5);
  const dir = join(ROOT_DIR, '.bench-cache', `big-model-${gib}gib`);
  const outDir = join(ROOT_DIR, '.bench-cache', `big-model-${gib}gib-optimized`);
  const modelPath = join(dir, 'model.onnx');
  try {
    let cfg;
    if (!existsSync(join(dir, 'model.onnx.data'))) {
      const made = makeBigModel({ gib, out: dir });
      cfg = made.config;
      row('generate (scripts/make-big-model.mjs)', fmtMs(made.seconds * 1000), `${(made.bytesWritten / GiB).toFixed(2)} GiB, d=${cfg.dModel}, ${cfg.layers} layers`);
    } else {
      const { bigModelConfig } = await import('../scripts/make-big-model.mjs');
      cfg = bigModelConfig(gib * GiB);
      row('generate', 'cached', dir);
    }

    // `onnxkit inspect` as a user runs it: a whole process, Node start-up included.
    const cli = join(ROOT_DIR, 'packages', 'cli', 'bin', 'onnxkit.js');
    const inspectRuns = [];
    for (let i = 0; i < 3; i++) {
      const t0 = performance.now();
      execFileSync(process.execPath, [cli, 'inspect', modelPath, '--json'], { stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 * MiB });
      inspectRuns.push(performance.now() - t0);
    }
    const inspectMs = Math.min(...inspectRuns);
    row('onnxkit inspect (whole process, best of 3)', fmtMs(inspectMs), `target < 2 s: ${inspectMs < 2000 ? 'met' : 'MISSED'}`);

    rmSync(outDir, { recursive: true, force: true });
    const f = runFlowChild(modelPath, outDir);
    row('weights (external)', `${(f.load.weightBytes / GiB).toFixed(2)} GiB`, `${f.load.externalTensors} tensors, largest ${(f.load.largestTensor / MiB).toFixed(0)} MiB`);
    row('load (lazy structure walk)', fmtMs(f.load.ms), `read ${(f.load.bytesRead / MiB).toFixed(2)} MiB`);
    row('analyze', fmtMs(f.analyze.ms), `read ${f.analyze.bytesRead} bytes; ${f.analyze.params.toLocaleString('en-US')} params`);
    row('optimize (default preset)', fmtMs(f.optimize.ms), `${f.optimize.totalChanges} changes, read ${(f.optimize.bytesRead / MiB).toFixed(1)} MiB`);
    const byPass = new Map();
    for (const p of f.optimize.passes) byPass.set(p.pass, (byPass.get(p.pass) ?? 0) + p.bytesRead);
    let structureOnlyRead = 0;
    for (const [pass, bytes] of byPass) {
      if (!VALUE_PASSES.has(pass)) structureOnlyRead += Math.max(0, bytes - 1024);
      if (bytes > 0 || VALUE_PASSES.has(pass)) row(`  ${pass}`, `${(bytes / MiB).toFixed(1)} MiB`, VALUE_PASSES.has(pass) ? 'may read values' : 'must read nothing');
    }
    row('  passes that need no values: tensor bytes read', String(structureOnlyRead), structureOnlyRead === 0 ? 'none: each read under 1 KiB, the smallest external tensor (rchar)' : 'NOT ZERO');
    row('save (external data, streamed)', fmtMs(f.save.ms), `${(f.save.bytesWritten / GiB).toFixed(2)} GiB written`);
    const weightsRead = f.optimize.bytesRead;
    const beyond = f.maxRss - f.baselineRss;
    row('peak RSS of the flow process', `${(f.maxRss / MiB).toFixed(0)} MiB`, `baseline ${(f.baselineRss / MiB).toFixed(0)} MiB`);
    row('  beyond baseline vs 1 GiB budget', `${(beyond / MiB).toFixed(0)} MiB`, `budget 1 GiB + weights held (largest tensor ${(f.load.largestTensor / MiB).toFixed(0)} MiB; passes read ${(weightsRead / GiB).toFixed(2)} GiB in total): ${beyond < GiB + f.load.largestTensor ? 'met' : 'MISSED'}`);

    const ort = ortRun(f.save.path, { seq: cfg.seqLen, d: cfg.dModel });
    row('onnxruntime-node loads + runs the saved model', fmtMs(ort.totalMs), `create ${fmtMs(ort.createdMs)}; output [${ort.dims}] ${ort.finite === ort.size ? 'all finite' : `${ort.size - ort.finite} non-finite`}`);
  } finally {
    rmSync(outDir, { recursive: true, force: true });
    if (process.env.ONNXKIT_BENCH_KEEP !== '1') rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url) && process.argv[2] === '--flow') {
  const [modelPath, outDir] = process.argv.slice(3);
  const r = await flow(modelPath, outDir);
  process.stdout.write(JSON.stringify(r) + '\n');
}
