/** `onnxkit calibrate`: measure this machine's peak FP32 FLOP/s and memory bandwidth (the `local` device). */
import { writeFileAtomic } from '@onnxkit/importer';
import { calibrate } from '@onnxkit/runtime';
import { localProfilePath } from '../devices.js';
import { intOption } from '../options.js';
import { fmtBytes, fmtNum, outputMode, Progress, type StepHandle } from '../ui.js';
import { ensureParent } from '../fs-utils.js';

export default async function calibrateCommand(opts: { threads?: string; output?: string; json?: boolean }): Promise<number> {
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
  const path = opts.output ?? localProfilePath();
  ensureParent(path);
  writeFileAtomic(path, new TextEncoder().encode(JSON.stringify(profile, null, 2) + '\n'));
  if (mode.json) {
    process.stdout.write(JSON.stringify({ ...profile, savedTo: path }, null, 2) + '\n');
  } else {
    process.stdout.write(
      `${profile.title}\n  peak FP32 ${fmtNum(profile.peakFlops.fp32 / 1e9, 1)} GFLOP/s, memory bandwidth ${fmtBytes(profile.memoryBandwidth)}/s (${profile.method})\n  saved to ${path}; use it with --device local\n`,
    );
  }
  return 0;
}
