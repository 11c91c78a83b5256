// `onnxkit optimize --json`'s writer (issue 15 "Performance", memory under 1 KiB per node): the
// report of the `default` pipeline on the 100k-node chain (60,000 change records, ≈ 22 MB of
// JSON) written to /dev/null by the streamed writer (packages/cli/src/json-stream.ts: 64 K-character
// pieces through one reused buffer) against the one-string writer it replaced
// (JSON.stringify(v, null, 2) → escaped Buffer → write), interleaved A B A B, CPU of this thread.
// Also checks the two wrote the same bytes. Whole-process peak RSS with --json is in rules.bench.mjs.
// Alone: `node --expose-gc bench/json.bench.mjs [--size N]` after `pnpm -s build`.
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CACHE, cpuMs, fmtMs, median, row, section } from './lib.mjs';
import { writeChain } from './rules.bench.mjs';

export default async function main(size = 100_000) {
  const { load } = await import('@onnxkit/importer');
  const { explainJson, runPipeline } = await import('@onnxkit/passes');
  const { writeJson } = await import('../packages/cli/dist/json-stream.js');
  const { jsonTerminalSafeBytes } = await import('../packages/cli/dist/ui.js');
  const dir = join(CACHE, 'json-bench');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `chain-${size}.onnx`);
  await writeChain(size, file);
  const report = await runPipeline(load(file), ['default'], { changeLog: true });
  rmSync(file, { force: true });
  const value = { input: file, output: file, pipeline: explainJson(report) };
  const oneString = (fd) => {
    writeSync(fd, jsonTerminalSafeBytes(JSON.stringify(value, null, 2)));
    writeSync(fd, '\n');
  };
  const streamed = (fd) => writeJson(value, fd);

  // Same bytes.
  const outs = [];
  for (const [name, f] of [['one-string', oneString], ['streamed', streamed]]) {
    const path = join(dir, `${name}.json`);
    const fd = openSync(path, 'w');
    f(fd);
    closeSync(fd);
    outs.push(readFileSync(path));
    rmSync(path);
  }

  const devNull = openSync('/dev/null', 'w');
  const cpu = { a: [], b: [] };
  for (let i = 0; i < 11; i++) {
    for (const [k, f] of [['a', oneString], ['b', streamed]]) {
      globalThis.gc?.();
      const c0 = cpuMs();
      f(devNull);
      cpu[k].push(cpuMs() - c0);
    }
  }
  closeSync(devNull);
  section(`optimize --json writer, ${size.toLocaleString('en-US')}-node chain (${report.totalChanges.toLocaleString('en-US')} change records, ${(outs[0].length / 1e6).toFixed(1)} MB)`);
  row('same bytes as JSON.stringify(v, null, 2) + escaping', outs[0].equals(outs[1]) ? 'yes' : 'NO');
  row('one string + one Buffer (before), CPU', fmtMs(median(cpu.a)), `${((median(cpu.a) * 1000) / size).toFixed(2)} µs/node`);
  row('streamed, 64 K-character pieces (after), CPU', fmtMs(median(cpu.b)), `${((median(cpu.b) * 1000) / size).toFixed(2)} µs/node; no ${(outs[0].length / 1e6).toFixed(0)} MB string or Buffer held`);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const s = process.argv.indexOf('--size');
  await main(s > 0 ? Number(process.argv[s + 1]) : 100_000);
}
