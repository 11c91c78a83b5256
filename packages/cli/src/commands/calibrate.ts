/** `onnxkit calibrate`: measure this machine's peak FP32 FLOP/s and memory bandwidth (the `local` device). */
import { writeFileAtomic } from '@onnxkit/importer';
import { calibrate } from '@onnxkit/runtime';
import { localProfilePath } from '../devices.js';
import { intOption } from '../options.js';
import { CliError } from '../errors.js';
import { fmtBytes, fmtNum, outputMode, Progress, type StepHandle } from '../ui.js';
import { ensureParent } from '../fs-utils.js';

export default async function calibrateCommand(opts: { threads?: string; output?: string; json?: boolean; force?: boolean }): Promise<number> {
  const mode = outputMode(opts);
  const progress = new Progress(mode);
  let step: StepHandle | undefined;
  let phase = '';
  const profile = await calibrate({
    threads: intOption('--threads', opts.threads, { min: 1 }) ?? 1,
    onProgress: (p) => {
      if (p.phase !== phase) {
        step?.done();
        phase = p.phase;
        step = progress.step(p.phase === 'matmul' ? 'peak FP32 (onnxruntime MatMul)' : 'memory bandwidth (large buffer copies)');
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
    process.stdout.write(
      `${profile.title}\n  peak FP32 ${fmtNum(profile.peakFlops.fp32 / 1e9, 1)} GFLOP/s (${profile.details.matmul.concat().map((m) => `MatMul ${m.n}: ${fmtNum(m.flops / 1e9, 1)}`).concat(profile.details.kernels.map((k) => `${k.kernel.split(' ')[0]}: ${fmtNum(k.flops / 1e9, 1)}`)).join(', ')}), memory bandwidth ${fmtBytes(profile.memoryBandwidth)}/s; by working set ${profile.memoryHierarchy.map((h) => `${fmtBytes(h.bytes)}: ${fmtBytes(h.bandwidth)}/s`).join(', ')}\n  largest spread between rounds ${fmtNum(profile.load.maxSpread * 100, 1)}%, load average ${fmtNum(profile.load.loadAverage, 2)} on ${profile.load.cores} core(s)\n  saved to ${path}; use it with --device local (bench with --threads ${profile.threads})\n`,
    );
  }
  return 0;
}
