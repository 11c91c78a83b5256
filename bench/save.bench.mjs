// `save` and `encode` on the 100k-node chain of bench/rules.bench.mjs (MatMul/Add/Relu/Identity/Mul,
// own weights): main-thread time of writing the model (encode + atomic write + fsync), as a
// ratio to writing the same number of bytes with one writeFileSync + fsync (the floor).
// Alone: `node --expose-gc bench/save.bench.mjs [nodes] [--root DIR]` (after `pnpm -s build`);
// --root measures another checkout's build (before/after comparisons).
import { closeSync, fsyncSync, mkdirSync, openSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { CACHE, ROOT, cpuMs, fmtMs, median, ratio, row, section, time } from './lib.mjs';
import { writeChain } from './rules.bench.mjs';

export default async function run(nodes = 100_000, base = ROOT) {
  const { save, encode, load } = await import(pathToFileURL(join(base, 'packages/importer/dist/index.bundle.js')).href);
  section(`save: the ${nodes.toLocaleString('en')}-node chain`);
  const dir = join(CACHE, 'save-bench');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'chain.onnx');
  await writeChain(nodes, file);
  // The decoded model, as `onnxkit optimize` saves it (tensors are views of the file's bytes).
  const model = load(file);
  const out = join(dir, 'out.onnx');
  const s = await time(() => save(model, out), { runs: 9 });
  const e = await time(() => encode(model), { runs: 9 });
  const cpu = [];
  for (let i = 0; i < 9; i++) {
    globalThis.gc?.();
    const c0 = cpuMs();
    save(model, out);
    cpu.push(cpuMs() - c0);
  }
  const bytes = encode(model);
  const floor = await time(
    () => {
      const fd = openSync(out, 'w');
      writeSync(fd, bytes);
      fsyncSync(fd);
      closeSync(fd);
    },
    { runs: 9 },
  );
  row('model bytes', `${(bytes.byteLength / 2 ** 20).toFixed(1)} MiB`);
  row('save (encode, atomic write, fsync), median of 9', fmtMs(s.median), `min ${fmtMs(s.min)}`);
  row('save, process CPU time (user + system), median of 9', fmtMs(median(cpu)), `min ${fmtMs(Math.min(...cpu))}`);
  row('encode to memory, median of 9', fmtMs(e.median), `min ${fmtMs(e.min)}`);
  ratio('save / (one write + fsync of the same bytes)', s.median, floor.median);
  rmSync(dir, { recursive: true, force: true });
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const r = process.argv.indexOf('--root');
  const n = process.argv.slice(2).find((a, i, all) => /^\d+$/.test(a) && all[i - 1] !== '--root');
  await run(n ? Number(n) : 100_000, r > 0 ? process.argv[r + 1] : ROOT);
}
