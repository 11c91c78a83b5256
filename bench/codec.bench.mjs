// Codec and whole-process benchmarks (issue 15, Performance). Ratios against baselines measured
// in this same run: Python's onnx.load (C++ protobuf, Debian's python3-onnx) on the same file,
// and the bare I/O of the same bytes (readFileSync, writeFileSync + fsync).
//
//   (a) decoding a 50,000-node weightless graph: onnxkit decode / Python onnx.load (target ≤ 1.0),
//       and the live heap the decoded IR holds per node (target < 1 KiB; needs --expose-gc)
//   (b) the whole `onnxkit optimize` process on the torchvision ResNet-50 export with BatchNorm
//       kept (fixtures/large/resnet50_bn, made by `fixtures/export_torchvision.py --large`):
//       process time, and in one process its phases (decode, pipeline, save) next to the bare
//       read and write of the same bytes.
import { execFileSync } from 'node:child_process';
import { closeSync, existsSync, fsyncSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decode, save } from '@onnxkit/importer';
import { wideGraphPath } from './import.bench.mjs';
import { ROOT, fmtMs, median, ratio, row, section, skip, systemPython, time, timeCpu } from './lib.mjs';

const MB = 1024 * 1024;

/**
 * Python's onnx.load on `path`, timed inside the interpreter (start-up excluded): median wall
 * time, median and mean CPU time (process_time), in ms. Each timed call includes reading the file
 * (from the page cache), parsing it into protobuf objects, and freeing the previous result.
 */
function pythonLoad(py, path, runs = 15) {
  const code = `import onnx, time, sys
ts = []; cs = []
for _ in range(${runs + 1}):
    t = time.perf_counter(); c = time.process_time(); onnx.load(sys.argv[1]); cs.append(time.process_time() - c); ts.append(time.perf_counter() - t)
ts = sorted(ts[1:]); cs = sorted(cs[1:]); print(ts[len(ts) // 2] * 1000, cs[len(cs) // 2] * 1000, sum(cs) / len(cs) * 1000)`;
  const [wall, cpu, cpuMean] = execFileSync(py, ['-c', code, path], { encoding: 'utf8' }).trim().split(/\s+/).map(Number);
  return { wall, cpu, cpuMean };
}

function writeAndSync(path, bytes) {
  const fd = openSync(path, 'w');
  try {
    for (let off = 0; off < bytes.byteLength; ) off += writeSync(fd, bytes, off, Math.min(bytes.byteLength - off, 1 << 30));
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}


export default async function () {
  const python = systemPython('onnx');

  section('codec (a): decoding a 50,000-node weightless graph vs Python onnx.load');
  const wide = wideGraphPath();
  row('50k nodes: file size', `${(statSync(wide).size / MB).toFixed(1)} MB`);
  const ours = await timeCpu(() => decode(wide, { lazy: false }), { warmup: 2 });
  // Both sides: read the file from the page cache and build the whole model in memory (ours also
  // resolves every edge: values know their producer and uses), freeing the previous one.
  row('50k nodes: onnxkit decode (from path, eager), wall / CPU', fmtMs(ours.wall), `CPU ${fmtMs(ours.cpu)} (mean ${fmtMs(ours.cpuMean)})`);
  if (python) {
    const py = pythonLoad(python, wide);
    row('50k nodes: Python onnx.load, wall / CPU', fmtMs(py.wall), `CPU ${fmtMs(py.cpu)} (mean ${fmtMs(py.cpuMean)})`);
    ratio('50k nodes: onnxkit decode / Python onnx.load (wall)', ours.wall, py.wall, { op: '<=', value: 1.0 });
    // CPU time is what a busy machine distorts least (wall time waits for cores).
    ratio('50k nodes: onnxkit decode / Python onnx.load (CPU time)', ours.cpu, py.cpu, { op: '<=', value: 1.0 });
    ratio('50k nodes: the same, mean CPU time of 15 runs', ours.cpuMean, py.cpuMean, { op: '<=', value: 1.0 });
  } else skip('50k nodes: vs Python onnx.load', 'python3-onnx not installed');
  // What the decoded IR keeps alive: heap growth across a decode, after full collections.
  if (globalThis.gc) {
    globalThis.gc();
    globalThis.gc();
    const before = process.memoryUsage().heapUsed;
    const m = decode(wide, { lazy: false });
    globalThis.gc();
    globalThis.gc();
    const live = process.memoryUsage().heapUsed - before;
    const perNode = live / m.graph.nodeCount;
    row('50k nodes: live heap of the decoded IR, per node', `${perNode.toFixed(0)} B`, `${(live / MB).toFixed(1)} MB in all (target < 1024 B: ${perNode < 1024 ? 'met' : 'MISSED'})`);
  } else skip('50k nodes: live heap per node', 'run with node --expose-gc');

  section('codec (b): whole `onnxkit optimize` process, torchvision ResNet-50 (BN kept)');
  const tv = join(ROOT, 'fixtures/large/resnet50_bn/model.onnx');
  if (!existsSync(tv)) {
    skip('torchvision ResNet-50', 'run /usr/bin/python3 fixtures/export_torchvision.py --large --only resnet50_bn');
    return;
  }
  const cli = join(ROOT, 'packages/cli/bin/onnxkit.js');
  const dir = mkdtempSync(join(tmpdir(), 'onnxkit-codec-bench-'));
  try {
    const out = join(dir, 'out.onnx');
    const size = statSync(tv).size;
    row('input file size', `${(size / MB).toFixed(1)} MB`);
    const bare = await time(() => execFileSync(process.execPath, ['-e', '0']), { runs: 5 });
    const proc = await time(() => execFileSync(process.execPath, [cli, 'optimize', tv, '-o', out, '--json'], { stdio: 'ignore' }), { runs: 7 });
    const outSize = statSync(out).size;
    const bytes = readFileSync(tv);
    const read = await time(() => readFileSync(tv), { runs: 7 });
    const write = await time(() => writeAndSync(join(dir, 'copy.onnx'), bytes), { runs: 7 });
    row('whole process: onnxkit optimize -o out.onnx (median of 7)', fmtMs(proc.median), `output ${(outSize / MB).toFixed(1)} MB`);
    row('node start-up alone (node -e 0)', fmtMs(bare.median));
    row('I/O floor: readFileSync + writeFileSync/fsync of the input', fmtMs(read.median + write.median), `${fmtMs(read.median)} + ${fmtMs(write.median)}`);
    ratio('whole process / (start-up + I/O floor)', proc.median, bare.median + read.median + write.median);

    // The same work in this process, phase by phase (what the process time is made of).
    const { runPipeline } = await import('@onnxkit/passes');
    const phases = { decode: [], pipeline: [], save: [] };
    for (let i = 0; i < 5; i++) {
      globalThis.gc?.();
      let t = performance.now();
      const m = decode(tv);
      phases.decode.push(performance.now() - t);
      t = performance.now();
      await runPipeline(m, 'default');
      phases.pipeline.push(performance.now() - t);
      t = performance.now();
      save(m, out);
      phases.save.push(performance.now() - t);
    }
    row('in process: decode (lazy walk, auto)', fmtMs(median(phases.decode)));
    row('in process: default pipeline', fmtMs(median(phases.pipeline)));
    row('in process: save (encode + write + fsync + rename)', fmtMs(median(phases.save)));
    ratio('in process: save / bare write+fsync of the same size', median(phases.save), write.median * (outSize / size));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
