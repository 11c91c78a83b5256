// Checking and output of `onnxkit optimize --json` (issue 15 "Performance", sixth round): on the
// 100k-node weighted chain, the CPU of each step the command runs after the rewrites or around
// them, in this process over the built bundles: the pipeline's input `verify()` (100k nodes), a
// whole-model `verify()` of the optimized model (what the closing check falls back to), `encode()`,
// `save()` (encode + stream + fsync + rename) and `writeJson` of the report (60,000 change records
// to /dev/null). Median and minimum of `--runs` (15) each, CPU time of this process (user + sys),
// a full GC before each. The machine is shared: compare builds by alternating runs, e.g.
// `node --expose-gc bench/output.bench.mjs` and `… --root DIR` (another built checkout), A B A B.
// About 20 s per build at 100k nodes.
import { closeSync, mkdirSync, openSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CACHE, ROOT, cpuMs, fmtMs, median, row, section } from './lib.mjs';
import { writeChain } from './rules.bench.mjs';

const arg = (name, fallback) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : fallback;
};

export default async function main() {
  const base = arg('--root', ROOT);
  const size = Number(arg('--size', '100000'));
  const runs = Number(arg('--runs', '15'));
  const bundle = (pkg) => join(base, `packages/${pkg}/dist/index.bundle.js`);
  const { load, encode, save } = await import(bundle('importer'));
  const { verifyErrors } = await import(bundle('graph'));
  const { explainJson, runPipeline } = await import(bundle('passes'));
  const { writeJson } = await import(join(base, 'packages/cli/dist/json-stream.js'));
  const dir = join(CACHE, 'output-bench');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `chain-${size}.onnx`);
  const out = join(dir, `chain-${size}.opt.onnx`);
  await writeChain(size, file);
  const m = load(file);
  const times = {};
  const step = async (label, fn) => {
    const xs = (times[label] ??= []);
    for (let i = 0; i < runs; i++) {
      globalThis.gc?.();
      const t = cpuMs();
      await fn();
      xs.push(cpuMs() - t);
    }
  };
  await step('verify() of the input', () => verifyErrors(m));
  const report = await runPipeline(m, ['default'], { changeLog: true });
  const value = { input: file, output: out, pipeline: explainJson(report) };
  await step('verify() of the optimized model', () => verifyErrors(m));
  await step('encode()', () => encode(m));
  await step('save() (encode, stream, fsync, rename)', () => save(m, out));
  const fd = openSync('/dev/null', 'w');
  await step('writeJson of the report to /dev/null', () => writeJson(value, fd));
  closeSync(fd);
  rmSync(file, { force: true });
  rmSync(out, { force: true });
  section(`Checking and output, ${size.toLocaleString('en')}-node chain${base === ROOT ? '' : ` (build at ${base})`}`);
  for (const [label, xs] of Object.entries(times)) row(label, `CPU ${fmtMs(median(xs))}`, `median of ${xs.length}; min ${fmtMs(Math.min(...xs))}`);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await main();
