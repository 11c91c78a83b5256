// calibrate: this machine as a roofline device profile — peak FP32 as the best rate of
// onnxruntime's own Conv / Gemm / MatMul kernels (fastest call in ORT's profile), memcpy
// bandwidth by working set (fastest copy) — on 1 and 2 threads, with the time it takes.
//
// Then what the profile is for (issue 16): the as-executed roofline estimate at the 1-thread
// profile must be a lower bound of onnxruntime's measured p50 (level all, 1 thread) on the zoo
// ResNet-50 and MobileNetV2. The ratio printed is estimate / measured (must stay < 1; the closer
// to 1, the tighter the roofline), the baseline being the measurement in the same run. And per
// layer, from ORT's profile: how many layers' kernels ran faster than their estimate (must be 0:
// the peak is one onnxruntime's kernels cannot beat) and the smallest measured / estimate.
import { analyzeModel, parseDeviceProfile } from '@onnxkit/passes';
import { benchModel, calibrate, compareWithRoofline } from '@onnxkit/runtime';
import { mobilenetv2, resnet50 } from '@onnxkit/zoo';
import { cached, fmtMs, row, section } from './lib.mjs';

export default async function () {
  section('calibrate: local device profile (best rates of onnxruntime kernels)');
  const profiles = [];
  for (const threads of [1, 2]) {
    const t0 = performance.now();
    const p = await calibrate({ threads });
    const ms = performance.now() - t0;
    profiles.push(p);
    const kernels = [...p.details.matmul.map((m) => ({ label: `MatMul ${m.n}`, flops: m.flops })), ...p.details.kernels.map((k) => ({ label: k.kernel, flops: k.flops }))].sort((a, b) => b.flops - a.flops);
    row(`peak fp32, ${threads} thread(s)`, `${(p.peakFlops.fp32 / 1e9).toFixed(1)} GFLOP/s`, `best: ${kernels[0].label}; worst: ${kernels.at(-1).label} ${(kernels.at(-1).flops / 1e9).toFixed(1)}`);
    row(`memory bandwidth (read + write, DRAM), ${threads} thread(s) run`, `${(p.memoryBandwidth / 2 ** 30).toFixed(1)} GiB/s`, p.memoryHierarchy.map((h) => `${h.bytes / 2 ** 10} KiB: ${(h.bandwidth / 2 ** 30).toFixed(1)}`).join(', '));
    row(`calibration time, ${threads} thread(s)`, fmtMs(ms), `load average ${p.load.loadAverage.toFixed(2)}, largest spread ${(p.load.maxSpread * 100).toFixed(1)}%`);
  }
  row('2-thread / 1-thread peak FP32', `${(profiles[1].peakFlops.fp32 / profiles[0].peakFlops.fp32).toFixed(2)}×`, 'ideal 2.00 on 2 cores');

  section('as-executed roofline at the 1-thread profile vs measured p50 (ORT all, 1 thread)');
  const device = parseDeviceProfile(JSON.parse(JSON.stringify(profiles[0])));
  for (const [name, build] of [
    ['ResNet-50', () => resnet50({ weights: 'zeros', batch: 1 })],
    ['MobileNetV2', () => mobilenetv2({ weights: 'zeros', batch: 1 })],
  ]) {
    const model = build();
    const file = cached(`calibrate-${name}.onnx`, () => model);
    const r = await benchModel(file, { iterations: 20, warmup: 2, graphOptimizationLevel: 'all', threads: 1 });
    const analysis = analyzeModel(model, { device });
    const est = analysis.totals.latency.asExecuted.all.seconds * 1e3;
    row(`${name}: estimate / measured p50`, `${(est / r.latency.p50Ms).toFixed(3)}×`, `${fmtMs(est)} / ${fmtMs(r.latency.p50Ms)} (must be < 1: a lower bound)`);
    const profiled = await benchModel(file, { iterations: 10, warmup: 2, graphOptimizationLevel: 'all', threads: 1, profile: true });
    const rows = compareWithRoofline(profiled.profile, analysis, { level: 'all' }).rows.filter((x) => x.ratio !== null);
    const beat = rows.filter((x) => x.ratio < 1);
    const worst = rows.reduce((a, x) => (x.ratio < a.ratio ? x : a));
    row(`${name}: layers faster than their estimate (profile)`, `${beat.length} of ${rows.length}`, `smallest measured / estimate ${worst.ratio.toFixed(3)} (${worst.name}, ${worst.bound}-bound)`);
  }
}
