// Import benchmarks (issue 2, Performance). Every number is a ratio against a baseline measured
// in this same run: reading the file into memory (readFileSync), protobufjs decoding the same
// bytes with the project's schema (schema/onnx.proto), and Python's onnx.load when Debian's
// python3-onnx is installed.
//
//   (a) a weight-heavy model (zoo ResNet-50, ~100 MB): import / read, target <= 1.3
//   (b) a 50,000-node weightless graph: import / read, and vs protobufjs
//   (c) the lazy structure walk: time and bytes read must not grow with weight bytes
//       (ResNet-50 100 MB vs VGG-16 553 MB), plus a whole `node` process loading VGG-16
//   (d) what 'auto' lazy costs when every tensor is read afterwards (justifies AUTO_LAZY_BYTES)
//   (e) the import step of `onnxkit optimize` on the 100k-node weighted chain of rules.bench.mjs
//       (issue 15: the whole process targets ≤ 10 µs/node, so import should be ≈ 2 µs/node): CPU
//       of load() in a fresh process (what the CLI pays: code not yet optimised) and warm
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';
import { Attribute, DataType, GraphBuilder } from '@onnxkit/graph';
import { AUTO_LAZY_BYTES, decode, decodeWithDiagnostics } from '@onnxkit/importer';
import * as zoo from '@onnxkit/zoo';
import { CACHE, ROOT, cached, cpuMs, fmtMs, median, ratio, row, section, skip, systemPython, time, timePair } from './lib.mjs';
import { writeChain } from './rules.bench.mjs';

const MB = 1024 * 1024;

export function resnet50Path() {
  return cached('importer-resnet50.onnx', () => (typeof zoo.resnet50 === 'function' ? zoo.resnet50() : syntheticWeights(100 * MB)));
}

/** Fallback when the zoo has no ResNet-50: 50 float initializers of the same total size. */
function syntheticWeights(bytes) {
  const b = new GraphBuilder({ name: 'synthetic' });
  let x = b.input('x', DataType.FLOAT, [1, 1024]);
  const n = 50;
  const per = Math.floor(bytes / 4 / n / 1024) * 1024;
  for (let i = 0; i < n; i++) x = b.op('MatMul', [x, b.floats(`w${i}`, [1024, per / 1024], new Float32Array(per).fill(i / n))]);
  b.output(x, 'y');
  return b.build();
}

/** 50,000 activation nodes with names, attributes and typed values, no weights. */
export function wideGraphPath() {
  return cached('importer-50k-nodes.onnx', () => {
    const b = new GraphBuilder({ name: 'deep' });
    let x = b.input('x', DataType.FLOAT, ['N', 64]);
    const ops = ['Relu', 'LeakyRelu', 'Sigmoid', 'Abs', 'Neg'];
    for (let i = 0; i < 50_000; i++) {
      const op = ops[i % 5];
      x = b.scope(`block${Math.floor(i / 5)}`, () => b.op(op, [x], op === 'LeakyRelu' ? { alpha: Attribute.float('alpha', 0.01) } : {}));
      if (i % 10 === 0) x.type = { kind: 'tensor', elemType: DataType.FLOAT, shape: ['N', 64] };
    }
    b.output(x, 'y');
    return b.build();
  });
}

function vgg16Path() {
  return typeof zoo.vgg16 === 'function' ? cached('importer-vgg16.onnx', () => zoo.vgg16()) : null;
}

/** Median of Python's onnx.load on `path`, timed inside the interpreter (start-up excluded). */
function pythonLoad(py, path, runs = 5) {
  const code = `import onnx, time, sys
ts = []
for _ in range(${runs + 1}):
    t = time.perf_counter(); onnx.load(sys.argv[1]); ts.append(time.perf_counter() - t)
ts = sorted(ts[1:]); print(ts[len(ts) // 2] * 1000)`;
  return Number(execFileSync(py, ['-c', code, path], { encoding: 'utf8' }).trim());
}

async function compare(label, path, { python }) {
  const size = statSync(path).size;
  row(`${label}: file size`, `${(size / MB).toFixed(1)} MB`);
  const read = () => readFileSync(path);
  const eager = await timePair(read, () => decode(path, { lazy: false }));
  ratio(`${label}: import (eager, from path) / readFileSync`, eager.b, eager.a, label.includes('ResNet') ? { op: '<=', value: 1.3 } : undefined);
  const lazy = await timePair(read, () => decode(path, { lazy: true }));
  const walked = decodeWithDiagnostics(path, { lazy: true }).stats.bytesRead;
  ratio(`${label}: import (lazy walk) / readFileSync`, lazy.b, lazy.a);
  row(`${label}: lazy walk reads`, `${(walked / 1024).toFixed(0)} KiB`, `of ${(size / MB).toFixed(1)} MB`);

  const bytes = new Uint8Array(readFileSync(path));
  const ModelProto = protobuf.loadSync(join(ROOT, 'packages/importer/schema/onnx.proto')).lookupType('onnx.ModelProto');
  let t0 = performance.now();
  ModelProto.decode(bytes);
  const pbFirst = performance.now() - t0;
  const pb = await timePair(() => ModelProto.decode(bytes), () => decode(bytes));
  const rd = await time(read, { runs: 5 });
  ratio(`${label}: protobufjs decode, first call / readFileSync`, pbFirst, rd.median);
  ratio(`${label}: protobufjs decode, warm / readFileSync`, pb.a, rd.median);
  ratio(`${label}: onnxkit decode of the same bytes / protobufjs warm`, pb.b, pb.a, undefined);
  if (python) {
    const pyMs = pythonLoad(python, path);
    ratio(`${label}: onnxkit import / Python onnx.load`, eager.b, pyMs);
  } else skip(`${label}: vs Python onnx.load`, 'python3-onnx not installed');
}

export default async function () {
  const python = systemPython('onnx');
  section('import (a): weight-heavy model, zoo ResNet-50');
  const resnet = resnet50Path();
  await compare(typeof zoo.resnet50 === 'function' ? 'ResNet-50' : 'synthetic 100 MB', resnet, { python });

  section('import (b): 50,000-node weightless graph');
  await compare('50k nodes', wideGraphPath(), { python });

  section('import (c): lazy structure walk vs weight bytes');
  const vgg = vgg16Path();
  if (vgg === null) {
    skip('VGG-16', '@onnxkit/zoo has no vgg16');
  } else {
    const r = await time(() => decode(resnet, { lazy: true }), { runs: 9 });
    const v = await time(() => decode(vgg, { lazy: true }), { runs: 9 });
    const rb = decodeWithDiagnostics(resnet, { lazy: true }).stats.bytesRead;
    const vb = decodeWithDiagnostics(vgg, { lazy: true }).stats.bytesRead;
    row('ResNet-50 lazy walk', fmtMs(r.median), `${(rb / 1024).toFixed(0)} KiB read of ${(statSync(resnet).size / MB).toFixed(0)} MB`);
    row('VGG-16 lazy walk', fmtMs(v.median), `${(vb / 1024).toFixed(0)} KiB read of ${(statSync(vgg).size / MB).toFixed(0)} MB`);
    row('weight bytes VGG-16 / ResNet-50', `${(statSync(vgg).size / statSync(resnet).size).toFixed(2)}×`, 'walk time ratio below should not follow it');
    ratio('lazy walk time VGG-16 / ResNet-50', v.median, r.median);
    // A whole process, like `onnxkit inspect` would be: Node start-up + import + lazy load.
    const script = `import('@onnxkit/importer').then((m) => { const x = m.load(${JSON.stringify(vgg)}); process.stdout.write(String(x.graph.nodeCount)); })`;
    const proc = await time(() => execFileSync(process.execPath, ['-e', script], { cwd: ROOT }), { runs: 5 });
    const bare = await time(() => execFileSync(process.execPath, ['-e', '0']), { runs: 5 });
    row('node process loading VGG-16 (lazy), start-up included', fmtMs(proc.median), `bare node -e 0: ${fmtMs(bare.median)}`);
    // The real command, as a user runs it (the target names this process).
    const cli = join(ROOT, 'packages', 'cli', 'bin', 'onnxkit.js');
    const inspect = await time(() => execFileSync(process.execPath, [cli, 'inspect', vgg], { cwd: ROOT, stdio: 'ignore' }), { runs: 7 });
    row('`onnxkit inspect` of VGG-16, whole process', fmtMs(inspect.median), `min ${fmtMs(inspect.min)}; target ≤ 250 ms: ${inspect.median <= 250 ? 'met' : 'MISSED'}`);
    ratio('`onnxkit inspect` of VGG-16 / bare node -e 0', inspect.median, bare.median);
    if (python) {
      const pyMs = pythonLoad(python, vgg, 3);
      ratio('VGG-16: onnxkit lazy import / Python onnx.load', v.median, pyMs);
    }
  }

  section(`import (d): 'auto' lazy from ${AUTO_LAZY_BYTES / MB} MiB — cost when every tensor is read later (ResNet-50)`);
  const readAll = (m) => {
    for (const g of m.graphs()) for (const v of g.initializers.values()) v.constValue.bytes();
  };
  const cost = await timePair(
    () => readAll(decode(resnet, { lazy: false })),
    () => readAll(decode(resnet, { lazy: true })),
  );
  ratio('lazy import + reading every tensor / eager import + the same', cost.b, cost.a);

  await chainImport();
}

/**
 * The import step at 100k nodes: CPU (all threads: GC helpers count) and wall time of load() on the
 * 29 MB chain, first call in a fresh process (median of 5 processes) and warm in this one.
 */
export async function chainImport(n = 100_000) {
  section(`import (e): the import step of \`onnxkit optimize\` on the ${n.toLocaleString('en')}-node weighted chain`);
  const file = join(CACHE, `import-chain-${n}.onnx`);
  if (!existsSync(file)) await writeChain(n, file);
  row('chain: file size', `${(statSync(file).size / MB).toFixed(1)} MB`);
  const script = `import('@onnxkit/importer').then((m) => { const c = process.cpuUsage(); const t = performance.now(); const x = m.load(${JSON.stringify(file)});
    const w = performance.now() - t; const d = process.cpuUsage(c); process.stdout.write(JSON.stringify({ wall: w, cpu: (d.user + d.system) / 1000, nodes: x.graph.nodeCount })); })`;
  const cold = [];
  for (let i = 0; i < 5; i++) cold.push(JSON.parse(execFileSync(process.execPath, ['-e', script], { cwd: ROOT, encoding: 'utf8' })));
  const nodes = cold[0].nodes;
  const coldCpu = median(cold.map((x) => x.cpu));
  row('load(), first call in a fresh process: wall / CPU', fmtMs(median(cold.map((x) => x.wall))), `CPU ${fmtMs(coldCpu)} = ${((coldCpu * 1000) / nodes).toFixed(2)} µs/node (median of 5 processes; target ≈ 2 µs/node)`);
  const { load } = await import('@onnxkit/importer');
  load(file);
  const warm = [];
  for (let i = 0; i < 5; i++) {
    const c0 = cpuMs();
    load(file);
    warm.push(cpuMs() - c0);
  }
  row('load(), warm in this process: CPU', fmtMs(median(warm)), `${((median(warm) * 1000) / nodes).toFixed(2)} µs/node (median of 5)`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1] && process.argv.includes('--chain')) await chainImport();
