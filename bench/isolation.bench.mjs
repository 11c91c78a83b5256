// What running onnxruntime in a child process costs (issue 13): onnxruntime-node used directly
// in this process is the baseline; measured are the same work through @onnxkit/runtime, whose
// sessions live in a child process (so a native crash cannot take the caller down).
//
// Rows: the child's start-up (spawn + loading onnxruntime-node + its one-time set-up, paid once
// per process; wall time and the child's own CPU time), the per-run round trip on a tiny model, a
// 64 MiB tensor through and back (raw binary frames), verify / bench end to end on a small model
// with the child started at the beginning, as the CLI does, while this process decodes the
// models — against the same work in process — and the whole `onnxkit verify` process with the
// child started first (bin.ts) or only at the first session. Interleaved A B A B so drift cancels.
// The ResNet-50 verify overhead is in verify.bench.mjs.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import ort from 'onnxruntime-node';
import { DataType, GraphBuilder, Tensor } from '@onnxkit/graph';
import { encode, load, save } from '@onnxkit/importer';
import { benchModel, createSession, RuntimeWorker, verifyModels } from '@onnxkit/runtime';
import { CACHE, ROOT, fmtMs, median, ratio, row, section, time, timePair } from './lib.mjs';

const OPTIONS = { executionProviders: ['cpu'], intraOpNumThreads: 1, interOpNumThreads: 1, graphOptimizationLevel: 'disabled', logSeverityLevel: 3 };

function identity(n) {
  const b = new GraphBuilder({ name: 'identity', opset: 17 });
  b.output(b.op('Identity', [b.input('x', DataType.FLOAT, [n])]), 'y');
  return b.build();
}

function small() {
  const b = new GraphBuilder({ name: 'small', opset: 17 });
  let x = b.input('x', DataType.FLOAT, [1, 64]);
  const w = b.constant('W', Tensor.fromArray(DataType.FLOAT, [64, 64], Float32Array.from({ length: 4096 }, (_, i) => Math.sin(i) / 8)));
  for (let i = 0; i < 8; i++) x = b.op('Tanh', [b.op('MatMul', [x, w])]);
  b.output(x, 'y');
  return b.build();
}

/** CPU time (user + system) a live process has used so far, in ms (Linux /proc; 10 ms ticks). */
function cpuMsOf(pid) {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return ((Number(f[11]) + Number(f[12])) * 1000) / 100;
  } catch {
    return NaN;
  }
}

export default async function () {
  section('onnxruntime in a child process: what isolation costs');
  const cpu = [];
  const startup = await time(async () => {
    const w = new RuntimeWorker();
    await w.request('ping', {}, { model: 'ping' });
    cpu.push(cpuMsOf(w.pid));
    await w.terminate();
  }, { runs: 5, warmup: 1 });
  const childCpu = [...cpu].sort((x, y) => x - y)[Math.floor(cpu.length / 2)];
  row('child start-up: spawn + load onnxruntime-node + set-up + first reply', fmtMs(startup.median), `once per process; the child's CPU ${fmtMs(childCpu)}`);

  // The CLI starts the child before it loads the command and decodes the model (bin.ts): with
  // this process busy for 150 ms meanwhile, how long the first session then keeps it waiting.
  const tinyFirst = identity(4);
  const waits = [];
  const inChild = [];
  for (let i = 0; i < 5; i++) {
    const w = new RuntimeWorker();
    const t0 = performance.now();
    while (performance.now() - t0 < 150);
    const t1 = performance.now();
    const first = await createSession(tinyFirst, { worker: w });
    waits.push(performance.now() - t1);
    inChild.push(first.createMs);
    await w.terminate();
  }
  row('first session after 150 ms of work here: wait for it', fmtMs(median(waits)), `its creation in the child ${fmtMs(median(inChild))} (onnxruntime's one-time set-up already done)`);

  // Per-run round trip on a tiny model.
  const tiny = identity(4);
  const tinyBytes = encode(tiny);
  const direct = await ort.InferenceSession.create(tinyBytes, OPTIONS);
  const s = await createSession(tiny);
  const x = Tensor.fromArray(DataType.FLOAT, [4], Float32Array.of(1, 2, 3, 4));
  const ortFeed = { x: new ort.Tensor('float32', Float32Array.of(1, 2, 3, 4), [4]) };
  const many = 200;
  const t = await timePair(async () => {
    for (let i = 0; i < many; i++) await direct.run(ortFeed);
  }, async () => {
    for (let i = 0; i < many; i++) await s.run({ x });
  }, { runs: 5, warmup: 1 });
  row('tiny model run, in process (baseline)', `${((t.a / many) * 1000).toFixed(0)} µs`);
  row('tiny model run, through the child', `${((t.b / many) * 1000).toFixed(0)} µs`, `+${(((t.b - t.a) / many) * 1000).toFixed(0)} µs per run`);
  await s.release();
  await direct.release();

  // A 64 MiB tensor in and out.
  const n = 16 * 2 ** 20;
  const big = identity(n);
  const bigDirect = await ort.InferenceSession.create(encode(big), OPTIONS);
  const bigS = await createSession(big);
  const data = new Float32Array(n).fill(0.5);
  const bigX = Tensor.fromArray(DataType.FLOAT, [n], data);
  const bigFeed = { x: new ort.Tensor('float32', data, [n]) };
  const tb = await timePair(() => bigDirect.run(bigFeed), () => bigS.run({ x: bigX }), { runs: 5, warmup: 1 });
  row('64 MiB Identity, in process (baseline)', fmtMs(tb.a));
  row('64 MiB Identity, through the child (128 MiB over the pipe)', fmtMs(tb.b), `+${fmtMs(tb.b - tb.a)}, ${((2 * 64) / ((tb.b - tb.a) / 1000)).toFixed(0)} MiB/s`);
  await bigS.release();
  await bigDirect.release();

  // verify and bench end to end on a small model, from files: a fresh child per call, started
  // first (as bin.ts does), while this process decodes both models as the CLI does.
  const m = small();
  const file = join(CACHE, 'isolation-small.onnx');
  save(m, file);
  const mb = readFileSync(file);
  const feed = { x: new ort.Tensor('float32', new Float32Array(64).fill(0.25), [1, 64]) };
  const baselineVerify = async () => {
    load(file);
    load(file);
    const sa = await ort.InferenceSession.create(file, OPTIONS);
    const sb = await ort.InferenceSession.create(file, OPTIONS);
    await sa.run(feed);
    await sb.run(feed);
    await sa.release();
    await sb.release();
  };
  let report;
  const verifyIn = async (early) => {
    const w = early ? new RuntimeWorker() : undefined;
    load(file);
    load(file);
    const worker = w ?? new RuntimeWorker();
    try {
      report = await verifyModels(file, file, { seed: 0, sessionOptions: { worker } });
    } finally {
      await worker.terminate();
    }
  };
  const tv = await timePair(baselineVerify, () => verifyIn(true), { runs: 7, warmup: 1 });
  if (!report.equivalent) throw new Error('a model should be equivalent to itself');
  row('small model: decode A, B + ORT create A, B + run A, B in process (baseline)', fmtMs(tv.a));
  ratio('verifyModels(A, A), child started first / baseline', tv.b, tv.a);
  row('  verify cost added by isolation', fmtMs(tv.b - tv.a), 'the child start-up, once per process');

  const benchIn = async () => {
    const w = new RuntimeWorker();
    load(file);
    try {
      await benchModel(file, { iterations: 50, warmup: 0, sessionOptions: { worker: w } });
    } finally {
      await w.terminate();
    }
  };
  const tbench = await timePair(async () => {
    load(file);
    const sa = await ort.InferenceSession.create(mb, OPTIONS);
    for (let i = 0; i < 50; i++) await sa.run(feed);
    await sa.release();
  }, benchIn, { runs: 7, warmup: 1 });
  row('small model: decode + ORT create + 50 runs in process (baseline)', fmtMs(tbench.a));
  ratio('benchModel(50 iterations), child started first / baseline', tbench.b, tbench.a);
  row('  bench cost added by isolation', fmtMs(tbench.b - tbench.a), 'the child start-up once + a round trip per run');

  // The whole CLI process: the child started by bin.ts before the command loads (now) vs at the
  // first session (the command's program run directly, as before), interleaved; and how long
  // the CLI waits for its first session (its own progress line "loading A (… ms)").
  const cli = join(ROOT, 'packages', 'cli', 'bin', 'onnxkit.js');
  const program = join(ROOT, 'packages', 'cli', 'dist', 'program.js');
  const args = ['verify', file, file, '--no-reference'];
  const firstLoad = { early: [], late: [] };
  const proc = (argv, key) => () => {
    const r = spawnSync(process.execPath, argv, { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
    if (r.status !== 0) throw new Error(`onnxkit verify exited ${r.status}: ${r.stderr}`);
    const m = /loading .*? \(([\d.]+) (ms|µs|s)\)/.exec(r.stderr);
    if (m) firstLoad[key].push(Number(m[1]) * (m[2] === 's' ? 1000 : m[2] === 'µs' ? 0.001 : 1));
  };
  const late = proc(['--input-type=module', '-e', `const { main } = await import(${JSON.stringify(program)}); process.exitCode = await main([process.argv[0], 'onnxkit', ...${JSON.stringify(args)}]);`], 'late');
  const tcli = await timePair(late, proc([cli, ...args], 'early'), { runs: 9, warmup: 1 });
  row('`onnxkit verify small small --no-reference`, child started at the first session', fmtMs(tcli.a), `waits ${fmtMs(median(firstLoad.late))} for its first session`);
  row('  … child started first (bin.ts)', fmtMs(tcli.b), `waits ${fmtMs(median(firstLoad.early))} for its first session`);
  ratio('  … started first / at the first session (whole process)', tcli.b, tcli.a);
}
