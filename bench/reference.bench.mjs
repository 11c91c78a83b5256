// The float64 reference evaluator (issue 10, Performance): zoo ResNet-50, MobileNetV2 and the
// transformer evaluated in float64 on the main thread, against onnxruntime-node's fp32 run of the
// same model (1 intra-op thread, optimizations disabled, session created once), interleaved in one
// run; the ratio is reference / ORT, in wall time and in CPU time (process.cpuUsage: on this
// shared 2-core machine the wall time mostly measures the other processes). Target: ResNet-50
// reference ≤ 10 s. Also the per-op-type split of the reference time on ResNet-50, and verify's
// whole time with the reference (worker thread) against verify without it (--no-reference).
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import ort from 'onnxruntime-node';
import { encode, load } from '@onnxkit/importer';
import { evaluateReference } from '@onnxkit/passes';
import { syntheticInputs, verifyModels } from '@onnxkit/runtime';
import { createReferenceEvaluator } from '../packages/cli/dist/reference.js';
import { buildZooModel } from '@onnxkit/zoo';
import { CACHE, ROOT, fmtMs, ratio, row, section, skip, timeCpu } from './lib.mjs';

/** torchvision ViT-B/16 (fixtures/large, written by `/usr/bin/python3 fixtures/export_torchvision.py --large --only vit_b_16`). */
const VIT = join(ROOT, 'fixtures', 'large', 'vit_b_16', 'model.onnx');

const ORT_OPTIONS = { executionProviders: ['cpu'], intraOpNumThreads: 1, interOpNumThreads: 1, graphOptimizationLevel: 'disabled', logSeverityLevel: 3 };

function ortFeeds(feeds) {
  const out = {};
  for (const [k, t] of feeds) {
    const a = t.toArray();
    out[k] = new ort.Tensor(a instanceof BigInt64Array ? 'int64' : 'float32', a, [...t.dims]);
  }
  return out;
}

export default async function () {
  section('float64 reference evaluator vs onnxruntime fp32 (1 thread, optimizations disabled)');
  // The three: ResNet-50, MobileNetV2 and ViT-B/16 (the torchvision export when
  // fixtures/large has it; the zoo transformer always, as the small stand-in).
  const names = ['resnet50', 'mobilenetv2', 'transformer'];
  if (existsSync(VIT)) names.push('vit_b_16');
  else skip('vit_b_16: reference / onnxruntime fp32', `${VIT} is missing: /usr/bin/python3 fixtures/export_torchvision.py --large --only vit_b_16 (the zoo transformer row stands in)`);
  for (const name of names) {
    const model = name === 'vit_b_16' ? load(VIT) : buildZooModel(name);
    const path = name === 'vit_b_16' ? VIT : join(CACHE, `reference-${name}.onnx`);
    if (!existsSync(path)) writeFileSync(path, encode(model));
    const feeds = syntheticInputs(model, { seed: 0 });
    const session = await ort.InferenceSession.create(path, ORT_OPTIONS);
    const of = ortFeeds(feeds);
    const runs = name === 'vit_b_16' ? 1 : name === 'resnet50' ? 3 : 5;
    await session.run(of);
    const t = await timeCpu(() => session.run(of), { runs });
    const r = await timeCpu(() => evaluateReference(model, feeds), { runs });
    await session.release();
    ratio(`${name}: reference / onnxruntime fp32 (wall)`, r.wall, t.wall);
    ratio(`${name}: reference / onnxruntime fp32 (CPU time)`, r.cpu, t.cpu);
    if (name === 'resnet50') row('resnet50: reference CPU time', fmtMs(r.cpu), `target ≤ 10 s: ${r.cpu <= 10_000 ? 'met' : 'MISSED'} (wall ${fmtMs(r.wall)} on the shared machine)`);
    if (name === 'resnet50') {
      const byOp = new Map();
      let last = performance.now();
      evaluateReference(model, feeds, {
        onNode: (_d, _n, node) => {
          const now = performance.now();
          byOp.set(node.opType, (byOp.get(node.opType) ?? 0) + now - last);
          last = now;
        },
      });
      const total = [...byOp.values()].reduce((a, b) => a + b, 0);
      for (const [op, ms] of [...byOp].sort((a, b) => b[1] - a[1]).slice(0, 6)) row(`  resnet50 reference time in ${op}`, fmtMs(ms), `${((100 * ms) / total).toFixed(1)}%`);
    }
  }

  section('verify ResNet-50 against itself: with the float64 reference vs without (fixed tolerance only)');
  const path = join(CACHE, 'reference-resnet50.onnx');
  const reference = createReferenceEvaluator();
  const without = await timeCpu(() => verifyModels(path, path, { seed: 0 }), { runs: 1 });
  const withRef = await timeCpu(() => verifyModels(path, path, { seed: 0, reference }), { runs: 1 });
  ratio('verify with reference / without (wall)', withRef.wall, without.wall);
}
