// Static int8 quantization (issue 11, Performance): the QDQ model `onnxkit quantize` builds
// against its BN-folded fp32 original, both at onnxruntime level `all`, 1 intra-op thread,
// spinning off, sessions created directly with onnxruntime-node, interleaved A B A B so drift
// cancels (ratio = median of per-pair ratios). Calibration: minmax on 32 seeded synthetic inputs
// (as the quantize_static models); accuracy: output SQNR on 4 held-out seeded inputs
// (other seeds), also for percentile 99.99 and entropy calibration; for the transformer also
// --dynamic (DynamicQuantizeLinear + MatMulInteger); for the CNNs `--min-sqnr 30` mixed precision
// (SQNR, layers kept float, speed). Targets: ResNet-50 ≥ 3.0×, MobileNetV2 ≥ 1.8×, file size
// ≈ 0.26×. A probe of the fp32 model alone (40 dB white noise on the input, and the share of the
// output that depends on the input) shows how much of the SQNR is the model's own sensitivity:
// see bench/quantize-diagnosis/README.md for why the zoo's random-weight ResNet-50 stays near
// 20 dB whatever the quantizer does.
import { execFileSync } from 'node:child_process';
import { statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import ort from 'onnxruntime-node';
import { cloneModel } from '@onnxkit/graph';
import { encode } from '@onnxkit/importer';
import { planQdq, quantizeDynamic, quantizeQdq, runPipeline } from '@onnxkit/passes';
import { calibrateRanges, measureAccuracy, shutdownRuntime, syntheticSamples } from '@onnxkit/runtime';
import { mobilenetv2, resnet50, transformer } from '@onnxkit/zoo';
import { CACHE, ROOT, fmtMs, row, section, timePair } from './lib.mjs';

const SESSION = {
  executionProviders: ['cpu'],
  intraOpNumThreads: 1,
  interOpNumThreads: 1,
  graphOptimizationLevel: 'all',
  logSeverityLevel: 3,
  extra: { session: { intra_op: { allow_spinning: '0' } } },
};

/** Seeded standard normal values (xorshift32 + Box–Muller), for the perturbation probe. */
function normals(n, seed) {
  let x = seed >>> 0 || 1;
  const u = () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return (x + 0.5) / 2 ** 32;
  };
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u());
  return out;
}

/**
 * How the fp32 model itself treats a perturbation, independent of any quantizer: white noise
 * 40 dB below each float input, and the output SQNR that leaves (a model that amplifies noise
 * shows < 40 dB); and the share of the output power that depends on the input at all (output
 * minus its mean over the held-out inputs), the part a classifier's decision lives in.
 */
async function probe(session, held) {
  let sig = 0;
  let err = 0;
  const outs = [];
  for (const [k, sample] of held.entries()) {
    const feeds = feedsOf(sample);
    const ref = await session.run(feeds);
    const noisy = {};
    for (const [name, t] of Object.entries(feeds)) {
      if (t.type !== 'float32') {
        noisy[name] = t;
        continue;
      }
      const d = t.data;
      let p = 0;
      for (const v of d) p += v * v;
      const sd = Math.sqrt(p / d.length) * 10 ** (-40 / 20);
      const n = normals(d.length, 1234 + k);
      const y = new Float32Array(d.length);
      for (let i = 0; i < d.length; i++) y[i] = d[i] + sd * n[i];
      noisy[name] = new ort.Tensor('float32', y, t.dims);
    }
    const out = await session.run(noisy);
    const name = session.outputNames[0];
    const a = ref[name].data;
    const b = out[name].data;
    for (let i = 0; i < a.length; i++) {
      sig += a[i] * a[i];
      err += (a[i] - b[i]) ** 2;
    }
    outs.push(Float32Array.from(a));
  }
  const n = outs[0].length;
  let total = 0;
  let varying = 0;
  for (let i = 0; i < n; i++) {
    let m = 0;
    for (const o of outs) m += o[i] / outs.length;
    for (const o of outs) {
      total += o[i] * o[i];
      varying += (o[i] - m) ** 2;
    }
  }
  return { sqnrDb: 10 * Math.log10(sig / err), inputDependent: varying / total };
}

function feedsOf(sample) {
  const f = {};
  for (const [name, t] of sample) f[name] = new ort.Tensor(t.dtype === 1 ? 'float32' : 'int64', t.toArray(), [...t.dims]);
  return f;
}

async function one(name, build, { target, runs, calibSamples = 32, methods = ['percentile', 'entropy'], dynamic = false, mixed }) {
  section(`quantize: zoo ${name} — int8 QDQ vs BN-folded fp32 (onnxruntime all, 1 thread)`);
  const fp32 = build();
  await runPipeline(fp32, ['fold-batchnorm']);
  const plan = planQdq(fp32);
  const held = [...syntheticSamples(fp32, 4, 1_000_000)];
  const t0 = performance.now();
  const cal = await calibrateRanges(fp32, syntheticSamples(fp32, calibSamples, 0), { tensors: plan.tensors });
  const calMs = performance.now() - t0;
  const int8 = cloneModel(fp32);
  const report = quantizeQdq(int8, { ranges: cal.ranges });
  const fpPath = join(CACHE, `quantize-${name}-fp32.onnx`);
  const qPath = join(CACHE, `quantize-${name}-int8.onnx`);
  writeFileSync(fpPath, encode(fp32));
  writeFileSync(qPath, encode(int8));
  const acc = await measureAccuracy(fp32, int8, held);
  await shutdownRuntime();

  const a = await ort.InferenceSession.create(fpPath, SESSION);
  const b = await ort.InferenceSession.create(qPath, SESSION);
  const feeds = feedsOf(held[0]);
  const t = await timePair(() => a.run(feeds), () => b.run(feeds), { runs, warmup: 3 });
  const pr = await probe(a, held);
  await a.release();
  await b.release();
  const speedup = t.a / t.b;
  const perPair = 1 / t.ratio;
  row('quantized layers / Q-DQ activation tensors', `${report.layers.length} / ${report.quantizedTensors}`, `${report.fusedActivations.length} Relu/Clip folded`);
  row('fp32 (BN-folded) latency, median', fmtMs(t.a));
  row('int8 QDQ latency, median', fmtMs(t.b));
  row('speed-up fp32 / int8 (median of per-pair ratios)', `${perPair.toFixed(2)}×`, `medians ${speedup.toFixed(2)}×  (target ≥ ${target}: ${perPair >= target ? 'met' : 'MISSED'})`);
  if (Number.isFinite(pr.sqnrDb)) row('fp32 model alone: 40 dB white noise on the input → output SQNR', `${pr.sqnrDb.toFixed(1)} dB`, `input-dependent share of the output power ${(100 * pr.inputDependent).toFixed(1)} % (seeded random weights)`);
  row('output SQNR, minmax, 4 held-out inputs', `${acc.overall.sqnrDb.toFixed(1)} dB`, `max abs err ${acc.overall.maxAbsError.toPrecision(3)}, mean ${acc.overall.meanAbsError.toPrecision(3)}`);
  row(`calibration time per sample (${calibSamples} samples, ${cal.ranges.size} tensors)`, fmtMs(calMs / calibSamples), `session ${fmtMs(cal.createMs)} excluded from per-sample`);
  const fs = statSync(fpPath).size;
  const qs = statSync(qPath).size;
  row('file size int8 / fp32 (BN-folded)', `${(qs / fs).toFixed(3)}×`, `${(qs / 2 ** 20).toFixed(1)} MiB / ${(fs / 2 ** 20).toFixed(1)} MiB (target ≈ 0.26)`);
  if (mixed) {
    // `onnxkit quantize --min-sqnr`: the most sensitive layers stay float until the target is met.
    const zooPath = join(CACHE, `quantize-${name}-zoo.onnx`);
    writeFileSync(zooPath, encode(build()));
    const mPath = join(CACHE, `quantize-${name}-mixed.onnx`);
    const t1 = performance.now();
    const out = execFileSync(process.execPath, [join(ROOT, 'packages/cli/bin/onnxkit.js'), 'quantize', zooPath, '-o', mPath, '--samples', String(calibSamples), '--min-sqnr', String(mixed), '--json'], { encoding: 'utf8', maxBuffer: 1 << 26 });
    const ms = performance.now() - t1;
    const j = JSON.parse(out);
    await shutdownRuntime();
    const a3 = await ort.InferenceSession.create(fpPath, SESSION);
    const b3 = await ort.InferenceSession.create(mPath, SESSION);
    const t3 = await timePair(() => a3.run(feeds), () => b3.run(feeds), { runs, warmup: 3 });
    await a3.release();
    await b3.release();
    row(`--min-sqnr ${mixed}: layers kept float / quantized`, `${j.keptFloat.length} / ${j.quantizedLayers}`, `output SQNR ${Number(j.accuracy.overall.sqnrDb).toFixed(1)} dB (its own 4 held-out inputs); command ${fmtMs(ms)}`);
    row(`--min-sqnr ${mixed}: speed-up fp32 / mixed`, `${(1 / t3.ratio).toFixed(2)}×`, `${fmtMs(t3.a)} / ${fmtMs(t3.b)}`);
  }
  if (dynamic) {
    const d = cloneModel(fp32);
    quantizeDynamic(d);
    const dPath = join(CACHE, `quantize-${name}-dynamic.onnx`);
    writeFileSync(dPath, encode(d));
    const r = await measureAccuracy(fp32, d, held);
    await shutdownRuntime();
    const a2 = await ort.InferenceSession.create(fpPath, SESSION);
    const b2 = await ort.InferenceSession.create(dPath, SESSION);
    const t2 = await timePair(() => a2.run(feeds), () => b2.run(feeds), { runs, warmup: 3 });
    await a2.release();
    await b2.release();
    row('--dynamic (MatMul int8, activations at run time): speed-up', `${(1 / t2.ratio).toFixed(2)}×`, `${fmtMs(t2.a)} / ${fmtMs(t2.b)}; output SQNR ${r.overall.sqnrDb.toFixed(1)} dB; size ${(statSync(dPath).size / statSync(fpPath).size).toFixed(3)}×`);
  }
  for (const method of methods) {
    const t1 = performance.now();
    const c = await calibrateRanges(fp32, syntheticSamples(fp32, calibSamples, 0), { tensors: plan.tensors, method, percentile: 99.99 });
    const ms = performance.now() - t1;
    const q = cloneModel(fp32);
    quantizeQdq(q, { ranges: c.ranges });
    const r = await measureAccuracy(fp32, q, held);
    row(`output SQNR, ${method === 'percentile' ? 'percentile 99.99' : method}`, `${r.overall.sqnrDb.toFixed(1)} dB`, `calibration ${fmtMs(ms / calibSamples)} per sample; the minmax graph with other scales: same speed`);
  }
  await shutdownRuntime();
}

export default async function () {
  await one('resnet50', () => resnet50({ seed: 0 }), { target: 3.0, runs: 15, mixed: 30 });
  await one('mobilenetv2', () => mobilenetv2({ seed: 0 }), { target: 1.8, runs: 41, mixed: 30 });
  await one('transformer', () => transformer({ seed: 0, layers: 4, dModel: 256, heads: 4, seqLen: 128 }), { target: 1.0, runs: 41, methods: [], dynamic: true });
}
