/** `onnxkit calibrate`: measure this machine's peak FP32 FLOP/s and memory bandwidth (the `local` device): the best rates onnxruntime's own kernels reach. */
import { writeFileAtomic } from '@onnxkit/importer';
import { calibrate } from '@onnxkit/runtime';
import { localProfilePath } from '../devices.js';
import { CliError } from '../errors.js';
import { fmtBytes, fmtNum, outputMode, Progress, type StepHandle } from '../ui.js';
import { ensureParent, refuseUnwritableOutput } from '../fs-utils.js';
import type { OptionsOf } from '../definitions.js';

export default async function calibrateCommand(opts: OptionsOf<'calibrate'>): Promise<number> {
  const mode = outputMode(opts);
  refuseUnwritableOutput(opts.output);
  const progress = new Progress(mode);
  let step: StepHandle | undefined;
  let phase = '';
  const profile = await calibrate({
    threads: opts.threads,
    onProgress: (p) => {
      if (p.phase !== phase) {
        step?.done();
        phase = p.phase;
        step = progress.step(p.phase === 'matmul' ? 'peak FP32 (onnxruntime Conv, Gemm and MatMul kernels, fastest calls)' : 'memory bandwidth by working set (buffer copies, fastest)');
      }
      step?.update(undefined, p.message);
    },
  });
  step?.done();
  if (profile.load.busy && opts.force !== true) {
    throw new CliError(`the machine looks busy (${profile.load.reason}): measured ${fmtNum(profile.peakFlops.fp32 / 1e9, 1)} GFLOP/s would understate it, so the profile was not saved`, {
      hint: 'rerun when the machine is quiet, or pass --force to save it anyway',
    });
  }
  if (profile.load.busy) process.stderr.write(`warning: the machine looks busy (${profile.load.reason}); saved anyway (--force)\n`);
  const path = opts.output ?? localProfilePath();
  ensureParent(path);
  writeFileAtomic(path, new TextEncoder().encode(JSON.stringify(profile, null, 2) + '\n'));
  if (mode.json) {
    process.stdout.write(JSON.stringify({ ...profile, savedTo: path }, null, 2) + '\n');
  } else {
    const rates = [...profile.details.matmul.map((m) => ({ label: `MatMul ${m.n}`, flops: m.flops })), ...profile.details.kernels.map((k) => ({ label: k.kernel.replace(/ \+ (Relu|bias)$/, ''), flops: k.flops }))].sort((a, b) => b.flops - a.flops);
    const gf = (x: number): string => fmtNum(x / 1e9, 1);
    process.stdout.write(
      `${profile.title}\n  peak FP32 ${gf(profile.peakFlops.fp32)} GFLOP/s, the best of ${rates.length} onnxruntime kernels (${rates.map((r) => `${r.label}: ${gf(r.flops)}`).join(', ')})${profile.peakFlops.int8 ? `; peak INT8 ${gf(profile.peakFlops.int8)} GOP/s` : ''}\n  memory bandwidth ${fmtBytes(profile.memoryBandwidth)}/s; by working set ${profile.memoryHierarchy.map((h) => `${fmtBytes(h.bytes)}: ${fmtBytes(h.bandwidth)}/s`).join(', ')}\n  largest spread between rounds ${fmtNum(profile.load.maxSpread * 100, 1)}%, load average ${fmtNum(profile.load.loadAverage, 2)} on ${profile.load.cores} core(s)\n  saved to ${path}; use it with --device local (bench with --threads ${profile.threads})\n`,
    );
  }
  return 0;
}
