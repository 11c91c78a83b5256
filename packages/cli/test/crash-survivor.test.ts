// Issue 13, the leftover of "onnxruntime cannot take the process down": when onnxruntime crashes
// on one of the two models `demo` and `report` run (the original and the optimized one), the other
// model's results are kept and shown — printed by demo, rendered by report with the crashed
// model's columns marked unavailable and the reason — then one line naming the crashed model,
// exit 2. Real models that raise SIGFPE inside onnxruntime, the real binary (built by the global
// setup), as hostile.test.ts does for verify and bench --vs.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Attribute, DataType, Graph, GraphBuilder, Node, Tensor, type Model } from '@onnxkit/graph';
import { save } from '@onnxkit/importer';
import { alwaysFaulting, intAdd } from '../../../fuzz/hostile.js';
import { cliRunner, expectOneLineError } from './helpers/cli.js';

const tmp = mkdtempSync(join(tmpdir(), 'onnxkit-crash-survivor-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
// A fresh config folder: no calibrated `local` profile is read or written.
const onnxkit = cliRunner(tmp, { env: { XDG_CONFIG_HOME: join(tmp, 'config') } });

const int32 = (v: number): Tensor => Tensor.fromArray(DataType.INT32, [2], Int32Array.of(v, v));
const io = { kind: 'tensor', elemType: DataType.INT32, shape: [2] } as const;

/**
 * y = a + INT32_MIN / −1 with both operands constant: onnxruntime at level disabled runs the Div
 * and raises SIGFPE; the default preset folds it (as onnxruntime computes it), so the optimized
 * model runs. The original crashes, the optimized one survives.
 */
function constantFaulting(): Model {
  const b = new GraphBuilder({ name: 'const-fpe', opset: 17 });
  const a = b.input('a', DataType.INT32, [2]);
  b.input('b', DataType.INT32, [2]);
  b.output(b.op('Add', [a, b.op('Div', [b.constant('num', int32(-(2 ** 31))), b.constant('den', int32(-1))])]), 'y', io);
  return b.build();
}

/**
 * The same Div inside the then-branch of an If whose condition is always false (b > b): never run
 * at level disabled, so verify passes; at level all onnxruntime constant-folds the branch while
 * creating the session and raises SIGFPE. The default preset folds the Div, so the optimized
 * model runs at every level: the crash happens in the benchmark, at one level only.
 */
function faultsWhenFolded(): Model {
  const b = new GraphBuilder({ name: 'fold-fpe', opset: 17 });
  const a = b.input('a', DataType.INT32, [2]);
  const d = b.input('b', DataType.INT32, [2]);
  const never = b.op('Cast', [b.op('ReduceMax', [b.op('Cast', [b.op('Greater', [d, d])], { to: DataType.INT32 })], { keepdims: 0 })], { to: DataType.BOOL });
  const constant = (name: string, v: number): Node => {
    const n = new Node('Constant', [], { outputs: [name] });
    n.setAttribute(Attribute.tensor('value', int32(v)));
    return n;
  };
  const thenG = new Graph({ name: 'then' });
  const num = constant('num', -(2 ** 31));
  const den = constant('den', -1);
  const div = new Node('Div', [num.output, den.output], { outputs: ['q'] });
  const add = new Node('Add', [a, div.output], { outputs: ['t'] });
  for (const n of [num, den, div, add]) thenG.append(n);
  thenG.addOutput(add.output);
  const elseG = new Graph({ name: 'else' });
  const id = new Node('Identity', [a], { outputs: ['e'] });
  elseG.append(id);
  elseG.addOutput(id.output);
  b.output(b.node('If', [never], { then_branch: thenG, else_branch: elseG }, { outputs: ['y'] }).output, 'y', io);
  return b.build();
}

save(intAdd('int-add'), join(tmp, 'add.onnx'));
save(alwaysFaulting('always-fpe'), join(tmp, 'fpe.onnx'));
save(constantFaulting(), join(tmp, 'const-fpe.onnx'));
save(faultsWhenFolded(), join(tmp, 'fold-fpe.onnx'));

/** The report's embedded data (the JSON the page renders from). */
function reportData(file: string): { crash?: { crashed: string[]; model: string; reason: string; step: string; survivorRun?: { side: string; outputs: { name: string }[] }; survivorLatency?: { side: string; stats: { p50Ms: number }; graphOptimizationLevel: string } }; verification?: { equivalent: boolean }; latency?: unknown } {
  const html = readFileSync(file, 'utf8');
  const m = /<script type="application\/json" id="onnxkit-report-data">([\s\S]*?)<\/script>/.exec(html);
  expect(m, 'the report embeds its data').not.toBeNull();
  return JSON.parse(m![1]!) as ReturnType<typeof reportData>;
}

describe('report: onnxruntime crashes on one of the two models', () => {
  it('--optimized that crashes: the original is verified and benchmarked alone, the report marks the optimized columns unavailable, exit 2', () => {
    const r = onnxkit(['report', 'add.onnx', '--optimized', 'fpe.onnx', '-o', 'r1.html', '--bench', '3']);
    expectOneLineError(r, 2, /^onnxkit: fpe\.onnx: the onnxruntime process was killed by SIGFPE.*; add\.onnx ran without a crash/);
    expect(r.stdout).toMatch(/^wrote r1\.html — onnxruntime crashed on the optimized model: its columns are marked unavailable$/m);
    const html = readFileSync(join(tmp, 'r1.html'), 'utf8');
    expect(html).toMatch(/<span class="verdict fail">✗ unavailable<\/span> onnxruntime crashed on the optimized model during verification: fpe\.onnx: the onnxruntime process was killed by SIGFPE/);
    expect(html).toMatch(/<tr><td>original \(alone\)<\/td><td class="num" data-v="[\d.]+">/);
    expect(html).toMatch(/<tr><td>optimized<\/td><td class="num muted" colspan="5">unavailable: onnxruntime crashed on it<\/td><\/tr>/);
    const d = reportData(join(tmp, 'r1.html'));
    expect(d.crash).toMatchObject({ crashed: ['optimized'], model: 'fpe.onnx', step: 'verify', survivorRun: { side: 'original', outputs: [{ name: 'y' }] }, survivorLatency: { side: 'original', graphOptimizationLevel: 'disabled' } });
    expect(d.crash!.survivorLatency!.stats.p50Ms).toBeGreaterThan(0);
    expect(d.verification).toBeUndefined();
  });

  it('an original that crashes, --json: the report is written, the JSON names the crashed model, exit 2', () => {
    const r = onnxkit(['report', 'fpe.onnx', '--optimized', 'add.onnx', '-o', 'r2.html', '--bench', '3', '--json']);
    expectOneLineError(r, 2, /^onnxkit: fpe\.onnx: .*SIGFPE.*; add\.onnx ran without a crash/);
    const out = JSON.parse(r.stdout) as { output: string; crashed: { side: string; model: string; step: string; error: string } };
    expect(out).toMatchObject({ output: 'r2.html', crashed: { side: 'original', model: 'fpe.onnx', step: 'verify' } });
    expect(out.crashed.error).toMatch(/SIGFPE/);
    expect(reportData(join(tmp, 'r2.html')).crash).toMatchObject({ crashed: ['original'], survivorLatency: { side: 'optimized' } });
  });

  it('--optimize of a model that crashes and whose optimized copy does not: what ran is in the report, exit 2', () => {
    const r = onnxkit(['report', 'const-fpe.onnx', '--optimize', '-o', 'r3.html', '--bench', '3']);
    expectOneLineError(r, 2, /^onnxkit: const-fpe\.onnx: .*SIGFPE.*ran without a crash/);
    const d = reportData(join(tmp, 'r3.html'));
    expect(d.crash).toMatchObject({ crashed: ['original'], model: 'const-fpe.onnx', step: 'verify', survivorRun: { side: 'optimized' }, survivorLatency: { side: 'optimized', graphOptimizationLevel: 'disabled' } });
  });

  it('both models crash: the report says so and has no survivor, exit 2', () => {
    const r = onnxkit(['report', 'fpe.onnx', '--optimized', 'fpe.onnx', '-o', 'r4.html', '--bench', '3']);
    expectOneLineError(r, 2, /^onnxkit: fpe\.onnx: .*SIGFPE.*crashed onnxruntime too/);
    const d = reportData(join(tmp, 'r4.html'));
    expect(d.crash).toMatchObject({ crashed: ['original', 'optimized'] });
    expect(d.crash!.survivorRun).toBeUndefined();
    expect(d.crash!.survivorLatency).toBeUndefined();
  });
});

describe('demo: onnxruntime crashes on one of the two models', () => {
  it('the original crashes: the optimized model\'s outputs and latency are printed, the original\'s are unavailable, files written, exit 2', () => {
    const r = onnxkit(['demo', 'const-fpe.onnx', '--no-quantize', '--iterations', '3', '--device', 'jetson-agx-orin', '--out', 'demo1']);
    expectOneLineError(r, 2, /^onnxkit: const-fpe\.onnx: the onnxruntime process was killed by SIGFPE.*ran without a crash/);
    expect(r.stdout).toMatch(/^latency, measured p50 \(ORT all\)\s+unavailable \(crashed onnxruntime\) → \d+(\.\d+)? [µm]s$/m);
    expect(r.stdout).toMatch(/^latency, measured p50 \(ORT disabled\)\s+unavailable \(crashed onnxruntime\) → \d+(\.\d+)? [µm]s$/m);
    expect(r.stdout).toMatch(/^verification: unavailable — onnxruntime crashed on the original model \(const-fpe\.onnx\) during verification$/m);
    expect(r.stdout).toMatch(/^the optimized model ran without a crash: created in .+, ran in .+; outputs y int32 \[2\]$/m);
    for (const f of ['const-fpe.optimized.onnx', 'const-fpe.report.html', 'const-fpe.analysis.json']) expect(existsSync(join(tmp, 'demo1', f)), f).toBe(true);
    expect(reportData(join(tmp, 'demo1', 'const-fpe.report.html')).crash).toMatchObject({ crashed: ['original'], survivorLatency: { side: 'optimized' } });
  });

  it('a crash in the benchmark at one level only: verification and the other level are kept, exit 2', () => {
    const r = onnxkit(['demo', 'fold-fpe.onnx', '--no-quantize', '--iterations', '3', '--device', 'jetson-agx-orin', '--out', 'demo2', '--json']);
    expectOneLineError(r, 2, /^onnxkit: fold-fpe\.onnx: .*SIGFPE.*during create; .*benchmarked alone, ran without a crash/);
    const s = JSON.parse(r.stdout) as { equivalent: boolean; original: { measuredMs: { all: number | null; disabled: number | null } }; optimized: { measuredMs: { all: number | null; disabled: number | null } }; crashed: { side: string; model: string; step: string } };
    expect(s.crashed).toMatchObject({ side: 'original', model: 'fold-fpe.onnx', step: 'benchmark' });
    expect(s.equivalent).toBe(true);
    // Level all: onnxruntime folds the Div while creating the original's session; level disabled runs both.
    expect(s.original.measuredMs.all).toBeNull();
    expect(s.optimized.measuredMs.all).toBeGreaterThan(0);
    expect(s.original.measuredMs.disabled).toBeGreaterThan(0);
    expect(s.optimized.measuredMs.disabled).toBeGreaterThan(0);
  });

  it('both crash, --json: the summary says both, no measurement is kept, exit 2', () => {
    const r = onnxkit(['demo', 'fpe.onnx', '--no-quantize', '--iterations', '3', '--device', 'jetson-agx-orin', '--out', 'demo3', '--json']);
    expectOneLineError(r, 2, /^onnxkit: fpe\.onnx: .*SIGFPE.*crashed onnxruntime too/);
    const s = JSON.parse(r.stdout) as { equivalent: boolean | null; original: { measuredMs: { all: number | null } }; optimized: { measuredMs: { all: number | null } }; crashed: { side: string; survivor?: unknown } };
    expect(s.crashed.side).toBe('both');
    expect(s.crashed.survivor).toBeUndefined();
    expect(s.equivalent).toBeNull();
    expect([s.original.measuredMs.all, s.optimized.measuredMs.all]).toEqual([null, null]);
  });
});
