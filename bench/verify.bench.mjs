// verify overhead and bisect time on the zoo ResNet-50 (issue 5, Performance).
//
// Baseline: what any equivalence check must pay — onnxruntime-node used directly on the main
// thread, same options as verify (CPU, 1 intra-op thread, optimizations disabled): create both
// sessions from the files, run both once on the same input. Measured: verifyModels() on the same
// files, end to end (worker thread, seeded inputs, comparison, report). Interleaved A B A B so
// drift cancels. Target: verify / baseline < 1.10. Bisect on a copy with one perturbed Conv
// weight: target < 30 s.
import ort from 'onnxruntime-node';
import { DataType, Tensor, cloneModel } from '@onnxkit/graph';
import { syntheticInputs, verifyModels } from '@onnxkit/runtime';
import { resnet50 } from '@onnxkit/zoo';
import { cached, fmtMs, ratio, row, section, timePair } from './lib.mjs';

export default async function () {
  section('verify: zoo ResNet-50 (1 thread, optimizations disabled)');
  const model = resnet50();
  const a = cached('runtime-resnet50-a.onnx', () => model);
  const b = cached('runtime-resnet50-b.onnx', () => cloneModel(model));
  const conv = model.graph.nodes.find((n) => n.name === 'layer3.2.conv2');
  const broken = cached('runtime-resnet50-broken.onnx', () => {
    const m = cloneModel(model);
    const v = m.graph.initializers.get(conv.inputs[1].name);
    const data = Float32Array.from(v.constValue.toArray());
    data[4321] += 0.5;
    v.constValue = Tensor.fromArray(DataType.FLOAT, v.constValue.dims, data, { name: v.name });
    return m;
  });
  const x = syntheticInputs(model, { seed: 0 }).get('input');
  const feed = { input: new ort.Tensor('float32', Float32Array.from(x.toArray()), [...x.dims]) };
  const options = { executionProviders: ['cpu'], intraOpNumThreads: 1, interOpNumThreads: 1, graphOptimizationLevel: 'disabled', logSeverityLevel: 3 };

  const baseline = async () => {
    const sa = await ort.InferenceSession.create(a, options);
    const sb = await ort.InferenceSession.create(b, options);
    await sa.run(feed);
    await sb.run(feed);
    await sa.release();
    await sb.release();
  };
  let report;
  const verify = async () => {
    report = await verifyModels(a, b, { seed: 0 });
  };
  const t = await timePair(baseline, verify, { runs: 5, warmup: 1 });
  if (!report.equivalent) throw new Error(`ResNet-50 and its copy should be equivalent: ${report.reason}`);
  row('onnxruntime directly: create A, B + run A, B (baseline)', fmtMs(t.a));
  row('verifyModels(A, B) end to end', fmtMs(t.b));
  row('  of which: session creation A + B (in the worker)', fmtMs(report.timings.createMs.a + report.timings.createMs.b));
  row('  of which: ORT run A + B (in the worker)', fmtMs(report.timings.runMs.a + report.timings.runMs.b));
  row('  of which: comparison', fmtMs(report.timings.compareMs));
  ratio('verify / baseline (median of per-pair ratios)', t.ratio * t.a, t.a, { op: '<=', value: 1.1 });
  row('verify overhead beyond the two inference runs', `${((t.ratio - 1) * 100).toFixed(1)} %`, 'target < 10 %');

  section('verify: in-memory Models (adds encoding both models for onnxruntime)');
  const copy = cloneModel(model);
  let mem;
  const tm = await timePair(baseline, async () => {
    mem = await verifyModels(model, copy, { seed: 0 });
  }, { runs: 3, warmup: 1 });
  if (!mem.equivalent) throw new Error('in-memory ResNet-50 pair should be equivalent');
  ratio('verifyModels(Model, Model) / baseline from files', tm.ratio * tm.a, tm.a);

  section('bisect: ResNet-50 with one perturbed Conv weight (layer3.2.conv2)');
  const t0 = performance.now();
  const r = await verifyModels(a, broken, { seed: 0, bisect: true });
  const total = performance.now() - t0;
  const found = r.firstDivergence;
  row('first divergence', found ? `${found.node.name} (${found.node.opType})` : 'none', found?.node.name === 'layer3.2.conv2' ? 'correct' : 'WRONG');
  row('values compared / shared values', `${r.bisect.valuesChecked} / ${r.bisect.candidates}`, `${r.bisect.chunks} chunk(s)`);
  row('bisect time', fmtMs(r.bisect.ms));
  row('verify --bisect total', fmtMs(total), `target < 30 s: ${total < 30_000 ? 'met' : 'MISSED'}`);

  // Memory-bounded mode: chunks of at most 16 MiB of activations (a model too big for one).
  const t1 = performance.now();
  const c = await verifyModels(a, broken, { seed: 0, bisect: { chunkBytes: 16 * 2 ** 20 } });
  const chunked = performance.now() - t1;
  row('bisect with 16 MiB chunks: first divergence', c.firstDivergence ? c.firstDivergence.node.name : 'none', c.firstDivergence?.node.name === 'layer3.2.conv2' ? 'correct' : 'WRONG');
  row('  chunks run / values compared', `${c.bisect.chunks} / ${c.bisect.valuesChecked}`);
  row('  verify --bisect total', fmtMs(chunked), `target < 30 s: ${chunked < 30_000 ? 'met' : 'MISSED'}`);
}
