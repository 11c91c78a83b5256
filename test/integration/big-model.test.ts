/**
 * Big models in CI (issue 7 parts 3 and 4), on a ~0.3 GiB version of the benchmark's 4.5 GiB
 * model: scripts/make-big-model.mjs generates a transformer with external weights; a separate
 * process loads, analyzes, optimizes (default preset) and saves it while its reads and peak
 * memory are accounted (bench/big-model.bench.mjs --flow); onnxruntime-node runs the original
 * and the saved result to the same output. Then a save killed by SIGKILL mid-write leaves the
 * old files intact, and its leftover temporary file is removed by the next save.
 *
 * Everything runs on the TypeScript sources (`--conditions=source --import
 * fuzz/ts-loader/register.mjs` in the child processes), and every file is removed afterwards.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_MAX_TENSOR_BYTES, ExportError, ImportError, load, save } from '@onnxkit/importer';
import { FOLD_CONSTANTS_BUDGET, analyzeModel } from '@onnxkit/passes';
import { transformer } from '@onnxkit/zoo';
// @ts-expect-error -- plain ESM modules without type declarations
import { VALUE_PASSES, ortRun, runFlowChild } from '../../bench/big-model.bench.mjs';
// @ts-expect-error -- plain ESM modules without type declarations
import { bigModelConfig, makeBigModel } from '../../scripts/make-big-model.mjs';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const LOADER = ['--conditions=source', '--import', join(ROOT, 'fuzz', 'ts-loader', 'register.mjs')];
const GiB = 2 ** 30;
const MiB = 2 ** 20;
/** Reads under this are /proc bookkeeping, not tensor data: the smallest external tensor is 1 KiB. */
const NO_TENSOR_BYTES = 1024;

let work: string;

interface Made {
  path: string;
  dataPath: string;
  bytesWritten: number;
  config: { dModel: number; heads: number; ffn: number; layers: number; seqLen: number; weightBytes: number };
}
let made: Made;

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'onnxkit-big-'));
  // The generator script itself, as a user runs it (here on the sources).
  const r = spawnSync(process.execPath, [...LOADER, join(ROOT, 'scripts', 'make-big-model.mjs'), '--gib', '0.3', '--out', join(work, 'model')], { cwd: ROOT, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`make-big-model failed: ${r.stderr}`);
  made = JSON.parse(r.stdout) as Made;
});

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

function sha(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

describe('a 0.3 GiB transformer with external weights', () => {
  it('is generated as a small model file plus one data file of the requested size', () => {
    expect(made.config).toEqual(bigModelConfig(0.3 * GiB));
    expect(made.config.layers).toBeGreaterThan(1);
    expect(statSync(made.dataPath).size).toBe(made.config.weightBytes);
    expect(statSync(made.path).size).toBeLessThan(1 * MiB);
    expect(Math.abs(made.config.weightBytes - 0.3 * GiB) / (0.3 * GiB)).toBeLessThan(0.1);
  });

  it('loads, analyzes and optimizes reading no weight bytes outside the passes that need values, and saves in bounded memory', () => {
    const out = join(work, 'optimized');
    const f = runFlowChild(made.path, out, { source: true });
    const weights = f.load.weightBytes as number;
    expect(weights).toBe(made.config.weightBytes);
    expect(f.load.externalTensors).toBe(f.load.initializers);
    // The structure walk reads the model file (tens of KiB), never the data file.
    expect(f.load.bytesRead).toBeLessThan(statSync(made.path).size + 64 * 1024);
    expect(f.analyze.bytesRead).toBeLessThan(NO_TENSOR_BYTES);
    expect(f.analyze.params).toBeGreaterThan(weights / 4 - 1024 * made.config.layers * 20);
    const readers: Record<string, number> = {};
    for (const p of f.optimize.passes as { pass: string; bytesRead: number }[]) {
      if (!VALUE_PASSES.has(p.pass)) expect(p.bytesRead, `${p.pass} must not read tensor data`).toBeLessThan(NO_TENSOR_BYTES);
      else readers[p.pass] = (readers[p.pass] ?? 0) + p.bytesRead;
    }
    // The weights are distinct: deduplication tells them apart from 3 KiB samples (positional
    // reads), and the other value passes read only small constants. Under 1% of the weights in all.
    expect(readers['eliminate-duplicate-initializers']).toBeLessThan(4 * 1024 * f.load.initializers);
    expect(f.optimize.bytesRead).toBeLessThan(weights / 100);
    // Saving streams the data: every weight byte read once, none held.
    expect(f.save.bytesRead).toBeGreaterThanOrEqual(weights);
    expect(f.save.bytesRead).toBeLessThan(weights + 4 * MiB);
    expect(f.save.peakGrowth).toBeLessThan(64 * MiB);
    expect(f.save.bytesWritten).toBeGreaterThan(weights);
    // Peak memory: far below the weights (a flow that materialised them would need all 0.3 GiB).
    const beyond = f.maxRss - f.baselineRss;
    console.log(
      `big model (${(weights / MiB).toFixed(0)} MiB of weights): peak RSS ${(f.maxRss / MiB).toFixed(0)} MiB (+${(beyond / MiB).toFixed(0)} MiB over the loaded runtime); ` +
        `bytes read: load ${f.load.bytesRead}, analyze ${f.analyze.bytesRead}, passes ${JSON.stringify(readers)}, save ${f.save.bytesRead}`,
    );
    expect(beyond).toBeLessThan(weights / 2);
    expect(beyond).toBeLessThan(GiB);
  });

  it('onnxruntime-node runs the saved result with the same outputs as the original', () => {
    const out = join(work, 'optimized', 'model.onnx');
    const a = ortRun(made.path, { seq: made.config.seqLen, d: made.config.dModel, valuesFile: join(work, 'a.bin') });
    const b = ortRun(out, { seq: made.config.seqLen, d: made.config.dModel, valuesFile: join(work, 'b.bin') });
    expect(a.dims).toEqual([1, made.config.seqLen, made.config.dModel]);
    expect(b.dims).toEqual(a.dims);
    expect(a.finite).toBe(a.size);
    const x = new Float32Array(new Uint8Array(readFileSync(join(work, 'a.bin'))).buffer);
    const y = new Float32Array(new Uint8Array(readFileSync(join(work, 'b.bin'))).buffer);
    expect(y.length).toBe(x.length);
    let worst = 0;
    for (let i = 0; i < x.length; i++) {
      const d = Math.abs(x[i]! - y[i]!);
      // fp32 rule of DESIGN.md §4: an element fails only when it exceeds both atol and rtol.
      if (d > 1e-5 && d > 1e-4 * Math.abs(x[i]!)) worst = Math.max(worst, d);
    }
    expect(worst).toBe(0);
  });

  it('is never overwritten by a save of the model loaded from it, unless inPlace', () => {
    const before = sha(made.path);
    const m = load(made.path);
    let err: unknown;
    try {
      save(m, made.path, { externalData: true });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ExportError);
    expect((err as ExportError).code).toBe('EXPORT_OVERWRITE_SOURCE');
    expect(sha(made.path)).toBe(before);
    expect(readdirSync(join(work, 'model')).sort()).toEqual(['model.onnx', 'model.onnx.data']);
  });
});

describe('a save killed mid-write (SIGKILL)', () => {
  it('leaves the old model and data intact; the next save removes the dead writer\'s temporary file', async () => {
    const dir = join(work, 'kill');
    mkdirSync(dir);
    const target = join(dir, 'model.onnx');
    const tiny = (): ReturnType<typeof transformer> => transformer({ layers: 1, dModel: 16, heads: 2, ffn: 32, seqLen: 4, seed: 9 });
    save(tiny(), target, { externalData: { sizeThreshold: 0 } });
    const oldModel = sha(target);
    const oldData = sha(`${target}.data`);

    // A child saving ~0.3 GiB of lazily generated weights over the same files.
    const code = `
      import { save } from '@onnxkit/importer';
      import { transformer } from '@onnxkit/zoo';
      save(transformer({ layers: 6, dModel: 1024, heads: 16, ffn: 4096, seqLen: 16, lazy: true }), process.env.TARGET, { externalData: true });
    `;
    const child = spawn(process.execPath, [...LOADER, '--input-type=module', '-e', code], { cwd: ROOT, env: { ...process.env, TARGET: target }, stdio: 'ignore' });
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (c, s) => resolve({ code: c, signal: s })));
    let done = false;
    void exited.then(() => (done = true));
    let temp: string | undefined;
    for (const t0 = Date.now(); Date.now() - t0 < 60_000 && !done; ) {
      temp = readdirSync(dir).find((f) => f.includes('.tmp-') && statSync(join(dir, f)).size > 32 * MiB);
      if (temp !== undefined) break;
      await new Promise((r) => setTimeout(r, 5));
    }
    expect(temp, 'the child was caught writing its temporary data file').toBeDefined();
    child.kill('SIGKILL');
    expect((await exited).signal).toBe('SIGKILL');

    // The old files are untouched; the killed writer's temporary file is all that is left.
    expect(sha(target)).toBe(oldModel);
    expect(sha(`${target}.data`)).toBe(oldData);
    const left = readdirSync(dir).filter((f) => f.includes('.tmp-'));
    expect(left.length).toBeGreaterThan(0);
    expect(left.every((f) => f.startsWith('model.onnx.'))).toBe(true);
    expect(load(target).graph.nodeCount).toBeGreaterThan(0);

    // The next save of the same target cleans up after the dead process.
    save(tiny(), target, { externalData: { sizeThreshold: 0 } });
    expect(readdirSync(dir).sort()).toEqual(['model.onnx', 'model.onnx.data']);
    expect(sha(target)).toBe(oldModel);
  });
});

describe('scripts/make-big-model.mjs', () => {
  it('refuses clearly, writing nothing, when the disk has less space than the model needs', () => {
    const dir = join(work, 'refused');
    expect(() => makeBigModel({ gib: 1e6, out: dir })).toThrow(/needs [\d.]+ GiB free in .*refused, only [\d.]+ GiB available/);
    expect(readdirSync(dir)).toEqual([]);
  });
});

describe('resource limits: refusing beats swapping (issue 7 part 5)', () => {
  it('the caps exist with safe defaults', () => {
    expect(DEFAULT_MAX_TENSOR_BYTES).toBe(2 * GiB);
    expect(FOLD_CONSTANTS_BUDGET.maxTensorBytes).toBe(16 * MiB);
    expect(FOLD_CONSTANTS_BUDGET.maxTotalBytes).toBe(64 * MiB);
  });

  it('a tensor above maxTensorBytes is refused with its name and file; analysis still works and save still streams it', () => {
    const m = load(made.path, { maxTensorBytes: 1 * MiB });
    const big = [...m.graph.initializers.values()].find((v) => v.constValue!.byteLength > MiB)!;
    let err: unknown;
    try {
      big.constValue!.bytes();
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ImportError);
    expect((err as ImportError).code).toBe('IMPORT_TOO_LARGE');
    expect((err as ImportError).message).toContain(`tensor '${big.name}'`);
    expect((err as ImportError).message).toContain('maxTensorBytes (1048576)');
    expect((err as ImportError).file).toBe('model.onnx.data');
    expect(analyzeModel(m).totals.params).toBeGreaterThan(0);
    const out = join(work, 'limited', 'model.onnx');
    mkdirSync(join(work, 'limited'));
    save(m, out, { externalData: true });
    const back = load(out).graph.initializers.get(big.name)!.constValue!;
    const original = load(made.path).graph.initializers.get(big.name)!.constValue!;
    expect(Buffer.compare(back.bytes(), original.bytes())).toBe(0);
    rmSync(join(work, 'limited'), { recursive: true, force: true });
  });

  it('constant folding that would make a 4 GiB tensor is declined, naming the node, without allocating it', () => {
    // In a child limited to 3 GiB of address space, so a 4 GiB allocation cannot swap the machine.
    const code = `
      import { DataType, GraphBuilder, Tensor } from '@onnxkit/graph';
      import { analyzeModel, runPipeline } from '@onnxkit/passes';
      import { readFileSync, writeFileSync } from 'node:fs';
      const hwm = () => Number(/VmHWM:\\s+(\\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))[1]) * 1024;
      const b = new GraphBuilder({ name: 'g', opset: 17 });
      const x = b.input('x', DataType.FLOAT, [1]);
      const c = b.op('ConstantOfShape', [b.int64s('shape', [32768, 32768])], { value: Tensor.fromNumbers(DataType.FLOAT, [1], [1]) }, { name: 'huge_fill' });
      b.output(b.op('Mul', [c, x]), 'y');
      const m = b.build();
      writeFileSync('/proc/self/clear_refs', '5');
      const before = hwm();
      analyzeModel(m);
      const report = await runPipeline(m, 'default');
      const fold = report.runs.find((r) => r.pass === 'fold-constants').result;
      console.log(JSON.stringify({ rejected: fold.rejected, declined: fold.declined, growth: hwm() - before, nodes: m.graph.nodes.map((n) => n.opType) }));
    `;
    const r = spawnSync('bash', ['-c', 'ulimit -v 3000000 && exec "$0" "$@"', process.execPath, ...LOADER, '--input-type=module', '-e', code], { cwd: ROOT, encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout.trim().split('\n').pop()!) as { rejected: Record<string, number>; declined: { node: string; reason: string; detail: string }[]; growth: number; nodes: string[] };
    expect(out.nodes).toContain('ConstantOfShape');
    const d = out.declined.find((x) => x.node === 'huge_fill');
    expect(d, JSON.stringify(out.declined)).toBeDefined();
    expect(d!.reason).toBe('budget-exceeded');
    expect(d!.detail).toContain(String(4 * GiB));
    expect(out.growth).toBeLessThan(256 * MiB);
  });
});
