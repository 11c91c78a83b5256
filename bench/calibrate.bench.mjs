// calibrate: this machine as a roofline device profile (ORT MatMul peak FP32, memcpy
// bandwidth), printed as the JSON `onnxkit calibrate` writes, on 1 and 2 threads. The
// baseline of each number is the measurement itself; the ratio printed is 2-thread / 1-thread
// FLOP/s (ideal 2.0 on this 2-core machine).
import { calibrate } from '@onnxkit/runtime';
import { row, section } from './lib.mjs';

export default async function () {
  section('calibrate: local device profile');
  const one = await calibrate({ threads: 1 });
  const two = await calibrate({ threads: 2 });
  for (const p of [one, two]) {
    row(`peak fp32, ${p.details.threads} thread(s)`, `${(p.peakFlops.fp32 / 1e9).toFixed(1)} GFLOP/s`, p.details.matmul.map((m) => `n=${m.n}: ${(m.flops / 1e9).toFixed(1)}`).join(', '));
    row(`memory bandwidth (read + write), ${p.details.threads} thread(s) run`, `${(p.memoryBandwidth / 2 ** 30).toFixed(1)} GiB/s`, `memcpy of ${p.details.copy.bytes / 2 ** 20} MiB, median ${p.details.copy.medianMs.toFixed(1)} ms`);
  }
  row('2-thread / 1-thread MatMul FLOP/s', `${(two.peakFlops.fp32 / one.peakFlops.fp32).toFixed(2)}×`, 'ideal 2.00 on 2 cores');
  console.log(JSON.stringify({ ...two, details: undefined }, null, 2));
}
