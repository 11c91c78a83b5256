// The product as users run it: `onnxkit demo` (the main job of `pnpm start`, after the build)
// as a whole process, against the 60 s target, and the CLI's start-up against a bare Node; then
// the start-up of a small `onnxkit optimize` (5 nodes) in CPU time, with the code-cached bundle
// the launcher loads against the plain ES modules (ONNXKIT_NO_BUNDLE=1), alternating.
// Alone: `node bench/cli.bench.mjs --startup [runs]` (after `pnpm -s build`).
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { CACHE, ROOT, childrenCpu, fmtMs, median, ratio, row, section, time } from './lib.mjs';

/** CPU time of `onnxkit optimize` on a 5-node model: code-cached bundle vs ES modules, alternating. */
async function startup(runs = 11) {
  if (!existsSync('/proc/self/stat')) return row('optimize start-up', 'skipped', 'needs /proc (Linux)');
  const { DataType, GraphBuilder, Tensor } = await import('@onnxkit/graph');
  const { save } = await import('@onnxkit/importer');
  const dir = join(CACHE, 'startup');
  mkdirSync(dir, { recursive: true });
  const model = join(dir, 'five.onnx');
  const b = new GraphBuilder({ name: 'five' });
  let x = b.input('x', DataType.FLOAT, [1, 16]);
  x = b.op('MatMul', [x, b.constant('w', Tensor.fromArray(DataType.FLOAT, [16, 16], new Float32Array(256).fill(0.1)))]);
  x = b.op('Add', [x, b.constant('b', Tensor.fromArray(DataType.FLOAT, [16], new Float32Array(16).fill(0.2)))]);
  x = b.op('Identity', [b.op('Relu', [x])]);
  b.output(b.op('Mul', [x, b.constant('one', Tensor.scalar(DataType.FLOAT, 1))]), 'y');
  save(b.build(), model);
  const cli = join(ROOT, 'packages', 'cli', 'bin', 'onnxkit.js');
  const run = (env) => {
    const c0 = childrenCpu();
    const r = spawnSync(process.execPath, [cli, 'optimize', model, '-o', join(dir, 'out.onnx'), '-q'], { stdio: 'ignore', env: { ...process.env, ...env } });
    if (r.status !== 0) throw new Error(`onnxkit optimize failed (exit ${r.status})`);
    return (childrenCpu() - c0) * 1000;
  };
  const cached = [];
  const plain = [];
  const bare = [];
  for (let i = 0; i < runs; i++) {
    cached.push(run({}));
    plain.push(run({ ONNXKIT_NO_BUNDLE: '1' }));
    const c0 = childrenCpu();
    spawnSync(process.execPath, ['-e', '0']);
    bare.push((childrenCpu() - c0) * 1000);
  }
  rmSync(dir, { recursive: true, force: true });
  row(`\`onnxkit optimize\` of 5 nodes, CPU (median of ${runs}, alternating)`, fmtMs(median(cached)), `ES modules ${fmtMs(median(plain))}, bare node -e 0 ${fmtMs(median(bare))}`);
  ratio('… code-cached bundle / ES modules', median(cached), median(plain));
}

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
  await startup();
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1] && process.argv[2] === '--startup') {
  section('cli: start-up of a small optimize');
  await startup(Number(process.argv[3] ?? 11));
}
