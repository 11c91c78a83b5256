// The product as users run it: `onnxkit demo` (the main job of `pnpm start`, after the build)
// as a whole process, against the 60 s target, and the CLI's start-up against a bare Node.
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { CACHE, ROOT, fmtMs, ratio, row, section, time } from './lib.mjs';

export default async function () {
  const cli = join(ROOT, 'packages', 'cli', 'bin', 'onnxkit.js');
  section('cli: start-up and the main job');
  const bare = await time(() => execFileSync(process.execPath, ['-e', '0']), { runs: 7 });
  const version = await time(() => execFileSync(process.execPath, [cli, '--version'], { stdio: 'ignore' }), { runs: 7 });
  ratio('`onnxkit --version` / bare node -e 0', version.median, bare.median);
  const out = join(CACHE, 'demo');
  const demo = await time(
    () => {
      rmSync(out, { recursive: true, force: true });
      execFileSync(process.execPath, [cli, 'demo', '--out', out], { cwd: ROOT, stdio: 'ignore' });
    },
    { runs: 3, warmup: 0 },
  );
  row('`onnxkit demo` (zoo MobileNetV2, incl. a quick calibration), whole process', fmtMs(demo.median), `min ${fmtMs(demo.min)}; target < 60 s (pnpm start adds the build): ${demo.median < 60_000 ? 'met' : 'MISSED'}`);
}
