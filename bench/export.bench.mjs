// Export benchmarks (issue 2 and 7, Performance), as ratios against baselines measured in this
// same run:
//   (a) encode time / memcpy (Buffer.copy) of the same byte count, for the zoo ResNet-50 and a
//       50,000-node graph
//   (b) save with external data / fs.writeFileSync (+ fsync) of the same bytes
//   (c) with ONNXKIT_BENCH_BIG=1: a transformer with > 4 GiB of weights saved with external data
//       in a child process (time, peak RSS), walked lazily, re-saved by streaming from the lazy
//       file (peak RSS), and loaded by onnxruntime-node. Needs ~10 GB of free disk.
import { execFileSync } from 'node:child_process';
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { decode, encode, save } from '@onnxkit/importer';
import { CACHE, ROOT, fmtMs, ratio, row, section, skip, timePair } from './lib.mjs';
import { resnet50Path, wideGraphPath } from './import.bench.mjs';

const MB = 1024 * 1024;

function memcpy(bytes) {
  const out = Buffer.allocUnsafeSlow(bytes.byteLength);
  Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).copy(out);
  return out;
}

function writeAndSync(path, bytes) {
  writeFileSync(path, bytes);
  const fd = openSync(path, 'r');
  fsyncSync(fd);
  closeSync(fd);
}

/** Runs `code` (an ES module body) in a child node; returns its JSON output. */
function child(code, env = {}) {
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', code], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, ...env }, maxBuffer: 1 << 20 });
  return JSON.parse(out.trim().split('\n').pop());
}

export default async function () {
  section('export (a): encode / memcpy of the same bytes');
  for (const [label, path] of [
    ['ResNet-50', resnet50Path()],
    ['50k nodes', wideGraphPath()],
  ]) {
    const m = decode(path, { lazy: false });
    const bytes = readFileSync(path);
    const r = await timePair(() => memcpy(bytes), () => encode(m));
    ratio(`${label}: encode / memcpy (${(bytes.length / MB).toFixed(1)} MB)`, r.b, r.a);
  }

  section('export (b): save with external data / writeFileSync + fsync of the same bytes');
  const m = decode(resnet50Path(), { lazy: false });
  const dir = join(CACHE, 'export-bench');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const out = join(dir, 'resnet50.onnx');
  const res = save(m, out, { externalData: true });
  const total = new Uint8Array(res.bytesWritten);
  const r = await timePair(() => writeAndSync(join(dir, 'plain.bin'), total), () => save(m, out, { externalData: true }));
  ratio(`ResNet-50: save (external data, ${(res.bytesWritten / MB).toFixed(1)} MB) / writeFileSync+fsync`, r.b, r.a);
  const again = join(dir, 'again');
  mkdirSync(again);
  save(m, join(again, 'resnet50.onnx'), { externalData: true });
  const same = ['resnet50.onnx', 'resnet50.onnx.data'].every((f) => Buffer.compare(readFileSync(join(dir, f)), readFileSync(join(again, f))) === 0);
  row('saving twice gives byte-identical files', same ? 'yes' : 'NO');
  rmSync(dir, { recursive: true, force: true });

  section('export (c): > 4 GiB of weights (ONNXKIT_BENCH_BIG=1)');
  if (process.env.ONNXKIT_BENCH_BIG !== '1') {
    skip('transformer with 4.8 GB of weights', 'set ONNXKIT_BENCH_BIG=1 (needs ~10 GB of disk, ~1 min)');
    return;
  }
  const big = join(CACHE, 'export-big');
  rmSync(big, { recursive: true, force: true });
  mkdirSync(big, { recursive: true });
  const first = join(big, 'a', 'model.onnx');
  const second = join(big, 'b', 'model.onnx');
  mkdirSync(join(big, 'a'));
  mkdirSync(join(big, 'b'));
  const built = child(`
    import { transformer } from '@onnxkit/zoo';
    import { save } from '@onnxkit/importer';
    const m = transformer({ layers: 6, dModel: 4096, heads: 32, seqLen: 16, weights: 'zeros' });
    const t0 = performance.now();
    const r = save(m, ${JSON.stringify(first)}, { externalData: true });
    console.log(JSON.stringify({ ms: performance.now() - t0, bytes: r.bytesWritten, maxRssMB: process.resourceUsage().maxRSS / 1024 }));`);
  row('save 4.8 GB transformer (in-memory zero weights)', fmtMs(built.ms), `${(built.bytes / 2 ** 30).toFixed(2)} GiB written; child peak RSS ${built.maxRssMB.toFixed(0)} MB`);
  const resaved = child(`
    import { decodeWithDiagnostics, save } from '@onnxkit/importer';
    const t0 = performance.now();
    const r = decodeWithDiagnostics(${JSON.stringify(first)});
    const walk = performance.now() - t0;
    const t1 = performance.now();
    const s = save(r.model, ${JSON.stringify(second)}, { externalData: true });
    const external = [...r.model.graph.initializers.values()].filter((v) => v.constValue.external !== undefined).length;
    console.log(JSON.stringify({ walk, bytesRead: r.stats.bytesRead, external, ms: performance.now() - t1, bytes: s.bytesWritten, maxRssMB: process.resourceUsage().maxRSS / 1024 }));`);
  row('load of the saved model (weights stay in the data file)', fmtMs(resaved.walk), `${(resaved.bytesRead / 1024).toFixed(0)} KiB of model file read; ${resaved.external} external tensors, none read`);
  row('re-save streaming from the lazy file', fmtMs(resaved.ms), `${(resaved.bytes / 2 ** 30).toFixed(2)} GiB; child peak RSS ${resaved.maxRssMB.toFixed(0)} MB`);
  const identical = Buffer.compare(readFileSync(first), readFileSync(second)) === 0 && statSync(`${first}.data`).size === statSync(`${second}.data`).size;
  row('re-saved model file identical, data file same size', identical ? 'yes' : 'NO');
  const ortLoad = child(`
    import ort from 'onnxruntime-node';
    const t0 = performance.now();
    const s = await ort.InferenceSession.create(${JSON.stringify(second)}, { graphOptimizationLevel: 'disabled', logSeverityLevel: 3 });
    console.log(JSON.stringify({ ms: performance.now() - t0, inputs: s.inputNames }));`);
  row('onnxruntime-node loads the re-saved model', fmtMs(ortLoad.ms), `inputs ${ortLoad.inputs.join(',')}`);
  rmSync(big, { recursive: true, force: true });
}
