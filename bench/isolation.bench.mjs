// What running onnxruntime in a child process costs (issue 13): onnxruntime-node used directly
// in this process is the baseline; measured are the same work through @onnxkit/runtime, whose
// sessions live in a child process (so a native crash cannot take the caller down).
//
// Rows: the child's start-up (spawn + loading onnxruntime-node, paid once per process), the
// per-run round trip on a tiny model, a 64 MiB tensor through and back (raw binary frames),
// and verify / bench end to end on a small model, where the start-up weighs most. Interleaved
// A B A B so drift cancels. The ResNet-50 verify overhead is in verify.bench.mjs.
import ort from 'onnxruntime-node';
import { DataType, GraphBuilder, Tensor } from '@onnxkit/graph';
import { encode } from '@onnxkit/importer';
import { benchModel, createSession, RuntimeWorker, verifyModels } from '@onnxkit/runtime';
import { fmtMs, ratio, row, section, time, timePair } from './lib.mjs';

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

export default async function () {
  section('onnxruntime in a child process: what isolation costs');
  const startup = await time(async () => {
    const w = new RuntimeWorker();
    await w.request('ping', {}, { model: 'ping' });
    await w.terminate();
  }, { runs: 5, warmup: 1 });
  row('child start-up: spawn + load onnxruntime-node + first reply', fmtMs(startup.median), 'once per process');

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

  // verify and bench end to end on a small model: a fresh child per call, as the CLI pays.
  const m = small();
  const mb = encode(m);
  const feed = { x: new ort.Tensor('float32', new Float32Array(64).fill(0.25), [1, 64]) };
  const baselineVerify = async () => {
    const sa = await ort.InferenceSession.create(mb, OPTIONS);
    const sb = await ort.InferenceSession.create(mb, OPTIONS);
    await sa.run(feed);
    await sb.run(feed);
    await sa.release();
    await sb.release();
  };
  let report;
  const tv = await timePair(baselineVerify, async () => {
    const w = new RuntimeWorker();
    try {
      report = await verifyModels(m, m, { seed: 0, sessionOptions: { worker: w } });
    } finally {
      await w.terminate();
    }
  }, { runs: 5, warmup: 1 });
  if (!report.equivalent) throw new Error('a model should be equivalent to itself');
  row('small model: ORT create A, B + run A, B in process (baseline)', fmtMs(tv.a));
  ratio('verifyModels(A, A) with a fresh child / baseline', tv.b, tv.a);
  row('  verify cost added by isolation (child start-up per process)', fmtMs(startup.median));

  const tbench = await timePair(async () => {
    const sa = await ort.InferenceSession.create(mb, OPTIONS);
    for (let i = 0; i < 50; i++) await sa.run(feed);
    await sa.release();
  }, async () => {
    const w = new RuntimeWorker();
    try {
      await benchModel(m, { iterations: 50, warmup: 0, sessionOptions: { worker: w } });
    } finally {
      await w.terminate();
    }
  }, { runs: 5, warmup: 1 });
  row('small model: ORT create + 50 runs in process (baseline)', fmtMs(tbench.a));
  ratio('benchModel(50 iterations) with a fresh child / baseline', tbench.b, tbench.a);
}
