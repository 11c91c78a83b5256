// End-to-end tests of the `onnxkit` command: the real binary (bin/onnxkit.js → dist, built by
// the global setup) in a child process, with real files and real onnxruntime.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { DataType, GraphBuilder, Tensor } from '@onnxkit/graph';
import { load, save } from '@onnxkit/importer';
import { alexnet } from '@onnxkit/zoo';
import { BIN, cliRunner, expectOneLineError, FIXTURE, ROOT } from './helpers/cli.js';

const tmp = mkdtempSync(join(tmpdir(), 'onnxkit-cli-'));
const onnxkit = cliRunner(tmp);

function tinyModel(weight = 1): string {
  const b = new GraphBuilder({ name: 'tiny', opset: 17 });
  const x = b.input('x', DataType.FLOAT, [1, 2, 4, 4]);
  const w = b.constant('conv.weight', Tensor.fromNumbers(DataType.FLOAT, [2, 2, 1, 1], [weight, 0.5, -0.25, 2]));
  const c = b.op('Conv', [x, w], {}, { name: 'conv' });
  b.output(b.op('Relu', [c], {}, { name: 'relu' }), 'y');
  const file = join(tmp, `tiny-${weight}.onnx`);
  save(b.build(), file);
  return file;
}

let alexnetFile: string;
beforeAll(() => {
  alexnetFile = join(tmp, 'alexnet.onnx');
  save(alexnet({ weights: 'zeros' }), alexnetFile);
});

describe('onnxkit basics', () => {
  it('--version and --help with an example for every command', () => {
    const v = onnxkit(['--version']);
    expect(v.code).toBe(0);
    expect(v.stdout.trim()).toBe(JSON.parse(readFileSync(join(ROOT, 'packages/cli/package.json'), 'utf8')).version);
    const help = onnxkit(['--help']);
    expect(help.code).toBe(0);
    const commands = [...help.stdout.matchAll(/^ {2}([a-z]+) /gm)].map((m) => m[1]!).filter((c) => c !== 'help');
    expect(commands).toEqual(expect.arrayContaining(['inspect', 'convert', 'zoo', 'analyze', 'optimize', 'passes', 'verify', 'bench', 'run', 'calibrate', 'report', 'demo', 'batch']));
    for (const c of commands) {
      const h = onnxkit([c, '--help']);
      expect(h.code, c).toBe(0);
      expect(h.stdout, c).toMatch(/Examples:\n {2}\$ onnxkit /);
    }
  });

  it('a device profile measured by an older calibrate (median calls) gets a note to recalibrate; a current one does not', () => {
    const profile = (details: object) => ({ id: 'local', version: '2026-12-01', peakFlops: { fp32: 8e10 }, memoryBandwidth: 2e10, measuredAt: '2026-12-01T00:00:00Z', source: 'measured by onnxkit calibrate', details });
    writeFileSync(join(tmp, 'old-local.json'), JSON.stringify(profile({ matmul: [{ n: 1024, runs: 9, medianMs: 25, flops: 8.6e10, spread: 0.01 }], copy: { bytes: 1 << 26, copies: 5, medianMs: 6, spread: 0.02 } })));
    writeFileSync(join(tmp, 'new-local.json'), JSON.stringify(profile({ matmul: [{ n: 1024, runs: 9, bestMs: 24, flops: 8.9e10, spread: 0.01 }], copy: { bytes: 1 << 26, copies: 5, bestMs: 5.5, spread: 0.02 } })));
    const old = onnxkit(['analyze', FIXTURE, '--device', './old-local.json']);
    expect(old.code).toBe(0);
    expect(old.stderr).toMatch(/note: the device profile \.\/old-local\.json is out of date: .*older `onnxkit calibrate`.*run `onnxkit calibrate` again/);
    const current = onnxkit(['analyze', FIXTURE, '--device', './new-local.json']);
    expect(current.code).toBe(0);
    expect(current.stderr).not.toMatch(/out of date/);
  });

  it('bad usage and bad input: one line, exit 2, never a stack trace', () => {
    expectOneLineError(onnxkit(['frobnicate']), 2, /unknown command/);
    expectOneLineError(onnxkit(['inspect']), 2, /^onnxkit: onnxkit inspect needs its <model> argument: usage: onnxkit inspect \[options\] <model>$/);
    expectOneLineError(onnxkit(['inspect', 'missing.onnx']), 2, /cannot open 'missing.onnx': no such file/);
    writeFileSync(join(tmp, 'garbage.onnx'), 'this is not a model');
    expectOneLineError(onnxkit(['inspect', 'garbage.onnx']), 2, /not an ONNX model/);
    const truncated = readFileSync(FIXTURE).subarray(0, 5000);
    writeFileSync(join(tmp, 'truncated.onnx'), truncated);
    expectOneLineError(onnxkit(['analyze', 'truncated.onnx']), 2, /byte|truncated/i);
    expectOneLineError(onnxkit(['analyze', FIXTURE, '--bits', 'eight']), 2, /--bits expects an integer/);
    expectOneLineError(onnxkit(['analyze', FIXTURE, '--device', 'toaster']), 2, /--device 'toaster' is not one of jetson-agx-orin, raspberry-pi-4, h100-sxm, local, nor a profile \.json/);
    expectOneLineError(onnxkit(['analyze', FIXTURE, '--input-shape', 'input']), 2, /not NAME=DIMS/);
    expectOneLineError(onnxkit(['optimize', FIXTURE, '-o', join(tmp, 'x.onnx'), '--passes', 'no-such-pass']), 2, /^onnxkit: --passes: unknown pass 'no-such-pass' \(known passes: [^)]*; presets: default, edge\)$/);
    // A pass list that names nothing, or a misspelt --disable, used to run the default pipeline
    // (or disable nothing) without a word.
    expectOneLineError(onnxkit(['optimize', FIXTURE, '-o', join(tmp, 'x.onnx'), '--passes', '']), 2, /--passes names no pass/);
    expectOneLineError(onnxkit(['optimize', FIXTURE, '-o', join(tmp, 'x.onnx'), '--passes', ' , ']), 2, /--passes names no pass/);
    expectOneLineError(onnxkit(['optimize', FIXTURE, '-o', join(tmp, 'x.onnx'), '--disable', 'fold-batchnrom']), 2, /--disable: unknown pass 'fold-batchnrom'/);
    expectOneLineError(onnxkit(['optimize', FIXTURE, '-o', join(tmp, 'x.onnx'), '--disable', '']), 2, /--disable names no pass/);
    expectOneLineError(onnxkit(['optimize', FIXTURE, '-o', join(tmp, 'x.onnx'), '--disable', 'default']), 2, /--disable takes pass names; 'default' is a preset/);
    // report and batch checked their --optimize list only once a model ran it: batch failed every
    // model with the same error (exit 1, a summary of failures written), report named `--passes`.
    expectOneLineError(onnxkit(['report', FIXTURE, '-o', join(tmp, 'r-bad.html'), '--optimize', ' , ']), 2, /--optimize names no pass/);
    expectOneLineError(onnxkit(['report', FIXTURE, '-o', join(tmp, 'r-bad.html'), '--optimize', 'fold-batchnrom']), 2, /--optimize: unknown pass 'fold-batchnrom'/);
    expect(existsSync(join(tmp, 'r-bad.html'))).toBe(false);
    const folder = mkdtempSync(join(tmp, 'batch-'));
    writeFileSync(join(folder, 'm.onnx'), readFileSync(FIXTURE));
    expectOneLineError(onnxkit(['batch', folder, '--optimize', 'fold-batchnrom', '-o', join(tmp, 'b-bad.json')]), 2, /--optimize: unknown pass 'fold-batchnrom'/);
    expectOneLineError(onnxkit(['batch', folder, '--optimize', ' , ', '-o', join(tmp, 'b-bad.json')]), 2, /--optimize names no pass/);
    expect(existsSync(join(tmp, 'b-bad.json'))).toBe(false);
    // Issue 11 part 5: edge with calibration data quantizes; a missing folder fails before any pass runs.
    expectOneLineError(onnxkit(['optimize', FIXTURE, '-o', join(tmp, 'x.onnx'), '--preset', 'edge', '--calibration', 'calib/']), 2, /--calibration calib\/ does not exist/);
    // Unwritable outputs: a folder that cannot be created (Node's recursive mkdir used to spin
    // forever under /proc), a parent that is a file.
    expectOneLineError(onnxkit(['convert', FIXTURE, '-o', '/proc/onnxkit-nope/x.onnx']), 2, /cannot mkdir '\/proc\/onnxkit-nope'/);
    expectOneLineError(onnxkit(['convert', FIXTURE, '-o', join(tmp, 'garbage.onnx', 'x.onnx')]), 2, /is not a folder/);
    expectOneLineError(onnxkit(['inspect', FIXTURE, '--max-tensor-bytes', 'lots']), 2, /--max-tensor-bytes expects a size/);
  });

  it('--disable skips the passes it names, and only those', () => {
    const r = onnxkit(['optimize', FIXTURE, '-o', join(tmp, 'd.onnx'), '--disable', 'fold-batchnorm, eliminate-identity', '--json']);
    expect(r.code).toBe(0);
    const p = JSON.parse(r.stdout).pipeline;
    expect(p.disabled).toEqual(['eliminate-identity', 'fold-batchnorm']);
    expect(p.pipeline).not.toContain('fold-batchnorm');
    expect(p.pipeline).toContain('fold-constants');
    expect(p.summary.some((s: { pass: string }) => s.pass === 'fold-batchnorm')).toBe(false);
  });

  it('inspect --json describes the model without reading weights', () => {
    const r = onnxkit(['inspect', FIXTURE, '--json']);
    expect(r.code).toBe(0);
    const s = JSON.parse(r.stdout);
    const m = load(FIXTURE);
    expect(s.nodes).toBe(m.graph.nodeCount);
    expect(s.opHistogram.BatchNormalization).toBe(m.graph.nodes.filter((n) => n.opType === 'BatchNormalization').length);
    expect(s.initializers.count).toBe(m.graph.initializers.size);
    expect(s.inputs[0]).toMatchObject({ name: 'input', dtype: 'float' });
    expect(s.irVersion).toBe(m.irVersion);
  });

  it('output has no colour codes when not on a terminal or under NO_COLOR', () => {
    for (const env of [{}, { NO_COLOR: '1', FORCE_COLOR: '1' }] as Record<string, string>[]) {
      const r = onnxkit(['analyze', alexnetFile], { env });
      expect(r.code).toBe(0);
      expect(r.stdout).not.toContain('\u001b[');
    }
  });
});

describe('onnxkit analyze', () => {
  it('reproduces the lecture AlexNet totals in --json', () => {
    const r = onnxkit(['analyze', alexnetFile, '--json', '--bits', '8']);
    expect(r.code).toBe(0);
    const a = JSON.parse(r.stdout);
    expect(a.totals.weightParams).toBe(60_954_656);
    expect(a.totals.macs).toBe(724_406_816);
    expect(a.totals.activations.total).toBe(932_264);
    expect(a.totals.activations.peak).toBe(440_928);
    expect(a.totals.modelSizeBytesAtBits).toBe(60_954_656);
    const conv5 = a.layers.find((l: { name: string }) => l.name === 'features.10');
    expect(conv5.macs).toBe(74_760_192);
    for (const k of ['params', 'modelSizeBytes', 'flops', 'peakMemoryBytes', 'latency']) expect(a.totals).toHaveProperty(k);
    for (const k of ['name', 'opType', 'outputShape', 'params', 'macs', 'flops', 'activations', 'latency', 'bound']) expect(a.layers[0]).toHaveProperty(k);
  });

  it('prints the lecture-style table with thousands separators and writes csv, markdown and a Netron attachment', () => {
    const t = onnxkit(['analyze', alexnetFile]);
    expect(t.stdout).toMatch(/features\.0\s+Conv\s+96×55×55\s+34,848\s+105,415,200/);
    expect(t.stdout).toMatch(/Total\s+60,954,656\s+724,406,816\s+932,264/);
    const csv = onnxkit(['analyze', alexnetFile, '--csv']);
    expect(csv.stdout.split('\n').filter((l) => l && !l.startsWith('#'))).toHaveLength(1 + 19);
    const md = onnxkit(['analyze', alexnetFile, '--markdown']);
    expect(md.stdout).toMatch(/\| *features\.3 *\|/);
    const netron = join(tmp, 'alexnet.netron.json');
    expect(onnxkit(['analyze', alexnetFile, '--netron', netron]).code).toBe(0);
    expect(JSON.parse(readFileSync(netron, 'utf8')).signature).toBe('netron:attachment');
  });

  it('energy and training memory: --energy-table supplies a device table, --training-batch the batch', () => {
    const table = join(tmp, 'energy.json');
    writeFileSync(table, JSON.stringify({ source: 'my accelerator, measured', dramReadPj: 100, sramReadPj: 2, multPj: 1, addPj: 0.5 }));
    const r = onnxkit(['analyze', alexnetFile, '--json', '--energy-table', table, '--training-batch', '8']);
    expect(r.code).toBe(0);
    const a = JSON.parse(r.stdout);
    expect(a.totals.energy.table.source).toBe('my accelerator, measured');
    expect(a.totals.training.batch).toBe(8);
    const text = onnxkit(['analyze', alexnetFile]).stdout;
    expect(text).toMatch(/Energy estimate: .* DRAM read 640 pJ, SRAM read 5 pJ, float mult 3\.7 pJ, add 0\.9 pJ, int8 mult 0\.2 pJ, int32 add 0\.1 pJ, int8 add 0\.03 pJ, int32 mult 3\.1 pJ; M\. Horowitz/);
    expect(text).toMatch(/Training memory \(fp32, batch 1\)/);
    writeFileSync(table, JSON.stringify({ dramReadPj: 100 }));
    expectOneLineError(onnxkit(['analyze', alexnetFile, '--energy-table', table]), 2, /give a source/);
  });

  it('a symbolic batch: ? and an expression instead of zeros, and --dim binds the symbol', () => {
    const free = onnxkit(['analyze', FIXTURE]);
    expect(free.code).toBe(0);
    const bound = onnxkit(['analyze', FIXTURE, '--dim', 'N=2', '--json']);
    expect(bound.code).toBe(0);
    const a = JSON.parse(bound.stdout);
    expect(a.totals.macs).toBe(2 * 5_804_672);
    // Linear in the batch: the expressions' coefficients are half the N=2 totals.
    const g = (n: number) => n.toLocaleString('en-US');
    expect(free.stdout).toContain(`MACs: 5,804,672*N   FLOPs: ${g(a.totals.flops / 2)}*N`);
    expect(free.stdout).toContain(`Activations: total ${g(a.totals.activations.total / 2)}*N, peak ?`);
    expect(free.stdout).toContain('wait on symbolic dims N ');
    expect(a.model.bindings).toEqual({ N: 2 });
    const freeJson = JSON.parse(onnxkit(['analyze', FIXTURE, '--json']).stdout);
    expect(freeJson.totals).toMatchObject({ macs: null, macsExpr: '5804672*N', macsSymbols: ['N'], flops: null });
    expect([a.totals.unknownLayers, a.totals.latencyUnknownLayers, a.totals.activations.unknownLayers]).toEqual([0, 0, 0]);
    expect(a.model.symbols).toEqual([]);
    expectOneLineError(onnxkit(['analyze', FIXTURE, '--dim', 'N']), 2, /--dim 'N' is not SYMBOL=N/);
    expectOneLineError(onnxkit(['analyze', FIXTURE, '--dim', 'N=1', '--dim', 'N=2']), 2, /binds 'N' to both 1 and 2/);
  });
});

describe('dynamic shapes in verify and report (issue 16.2)', () => {
  const TRANSFORMER = new URL('../../../fixtures/transformer_encoder/model.onnx', import.meta.url).pathname;

  it('verify runs a model with free symbols at two bindings and says which', () => {
    const r = onnxkit(['verify', TRANSFORMER, TRANSFORMER, '--json']);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.equivalent).toBe(true);
    // The fixture's learned position table holds 64 positions: 128 cannot run, verify halves it and says so.
    expect(j.bindings.map((b: { dimValues: Record<string, number> }) => b.dimValues)).toEqual([
      { batch: 1, sequence: 1 },
      { batch: 2, sequence: 64 },
    ]);
    expect(onnxkit(['verify', TRANSFORMER, TRANSFORMER]).stderr).toMatch(/cannot run batch=2, sequence=128 .*; trying batch=2, sequence=64/);
    const text = onnxkit(['verify', TRANSFORMER, TRANSFORMER, '--dim', 'sequence=7']);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain('symbolic dims batch=1, sequence=7');
    expect(text.stdout).toContain('symbolic dims batch=2, sequence=7');
    // The float64 table is lines of its own (review: once printed as one line with literal \n).
    expect(text.stdout).not.toContain('\\n');
    expect(text.stdout).toMatch(/^output +A max err +A mean err/m);
  }, 120_000);

  it('report --dim binds a symbol, and says which symbols were defaulted to 1', () => {
    const out = join(tmp, 'dyn.html');
    const r = onnxkit(['report', TRANSFORMER, '-o', out, '--dim', 'sequence=16', '--no-bench']);
    expect(r.code).toBe(0);
    const html = readFileSync(out, 'utf8');
    expect(html).toContain('<code>batch=1</code> (default)');
    expect(html).toContain('<code>sequence=16</code>.');
    expect(html).not.toContain('<code>sequence=16</code> (default)');
  }, 120_000);
});

describe('onnxkit optimize and verify', () => {
  it('the before/after table shows symbolic MACs and FLOPs as expressions, never 0', () => {
    const r = onnxkit(['optimize', FIXTURE, '-o', join(tmp, 'symbolic.opt.onnx')]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/MACs\s+5804672\*N\s+5804672\*N\s+=/);
    // Folding BatchNorm removes its element-wise work: fewer FLOPs per sample after.
    const m = /FLOPs\s+(\d+)\*N\s+(\d+)\*N/.exec(r.stdout)!;
    expect(Number(m[2])).toBeLessThan(Number(m[1]));
  });

  it('never overwrites the input, writes an equivalent optimized model, and verify agrees', () => {
    const before = readFileSync(FIXTURE);
    expectOneLineError(onnxkit(['optimize', FIXTURE, '-o', FIXTURE]), 2, /refusing to overwrite the input/);
    expect(readFileSync(FIXTURE).equals(before)).toBe(true);
    const out = join(tmp, 'resnet_tiny.opt.onnx');
    const r = onnxkit(['optimize', FIXTURE, '-o', out, '--json']);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.after.opHistogram.BatchNormalization ?? 0).toBe(0);
    expect(j.before.opHistogram.BatchNormalization).toBeGreaterThan(0);
    expect(j.after.nodes).toBeLessThan(j.before.nodes);
    expect(load(out).graph.nodes.some((n) => n.opType === 'BatchNormalization')).toBe(false);
    const v = onnxkit(['verify', FIXTURE, out, '--json']);
    expect(v.code).toBe(0);
    const vr = JSON.parse(v.stdout);
    expect(vr.equivalent).toBe(true);
    expect(vr.outputs[0]).toHaveProperty('maxAbsError');
    expect(vr.outputs[0]).toHaveProperty('cosine');
    expect(readdirSync(tmp).filter((f) => f.includes('.tmp-'))).toEqual([]);
  });

  it('verify exits 1 for a broken model and --bisect names the diverging node; 2 for incompatible models', () => {
    const good = tinyModel(1);
    const bad = tinyModel(1.5);
    const r = onnxkit(['verify', good, bad, '--bisect', '--json']);
    expect(r.code).toBe(1);
    const j = JSON.parse(r.stdout);
    expect(j.equivalent).toBe(false);
    expect(j.firstDivergence.node.name).toBe('conv');
    // A NaN weight: the divergence names the non-finite elements, which B's max error (over
    // finite elements) does not show.
    const nan = onnxkit(['verify', good, tinyModel(NaN), '--bisect']);
    expect(nan.code).toBe(1);
    expect(nan.stdout).toMatch(/first value over the float64 budget: '[^']*' produced by Conv 'conv' \(.*, 16 elements over, 16 of them NaN\/±Inf in one model only\)/);
    const other = join(tmp, 'other-io.onnx');
    const b = new GraphBuilder({ name: 'other' });
    b.output(b.op('Relu', [b.input('z', DataType.FLOAT, [1, 2, 4, 4])]), 'y');
    save(b.build(), other);
    expectOneLineError(onnxkit(['verify', good, other]), 2, /different inputs/);
  });

  it('verify --bench reports latency for both models', () => {
    const m = tinyModel(1);
    const r = onnxkit(['verify', m, m, '--bench', '7', '--json']);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.latency.a.p50Ms).toBeGreaterThan(0);
    expect(j.latency.b.p50Ms).toBeGreaterThan(0);
    expect(j.latency.ratio).toBeGreaterThan(0);
    // A second session of A was timed too (verify's sessions are its own: it passes A's model).
    expect(j.latency.ratioStats.noiseFloor).toBeGreaterThanOrEqual(1);
  });
});

describe('onnxkit run, bench, batch, report', () => {
  it('run -o writes an npz of the outputs', () => {
    const out = join(tmp, 'outputs.npz');
    const r = onnxkit(['run', tinyModel(1), '-o', out, '--json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).outputs[0]).toMatchObject({ name: 'y', dtype: 'float', shape: [1, 2, 4, 4] });
    expect(readFileSync(out).subarray(0, 2).toString('latin1')).toBe('PK');
  });

  it('run prints int64 outputs beyond 2^53 exactly and NaN / infinities as JSON keeps them (onnxruntime computes them)', () => {
    const b = new GraphBuilder({ name: 'exact', opset: 17 });
    const big = b.constant('big', Tensor.fromArray(DataType.INT64, [3], BigInt64Array.of(2n ** 53n + 1n, -(2n ** 63n), 7n)));
    b.output(b.op('Identity', [big]), 'i', { kind: 'tensor', elemType: DataType.INT64, shape: [3] });
    const num = b.constant('num', Tensor.fromArray(DataType.FLOAT, [4], Float32Array.of(0, 1, -1, 3)));
    const den = b.constant('den', Tensor.fromArray(DataType.FLOAT, [4], Float32Array.of(0, 0, 0, 2)));
    b.output(b.op('Div', [num, den]), 'f', { kind: 'tensor', elemType: DataType.FLOAT, shape: [4] });
    save(b.build(), join(tmp, 'exact.onnx'));
    const j = onnxkit(['run', 'exact.onnx', '--json']);
    expect(j.code, j.stderr).toBe(0);
    const rows = JSON.parse(j.stdout).outputs as { name: string; min: unknown; max: unknown; mean: unknown; head: unknown[]; nan: number }[];
    expect(rows.find((r) => r.name === 'i')).toMatchObject({ min: '-9223372036854775808', max: '9007199254740993', head: ['9007199254740993', '-9223372036854775808', 7] });
    expect(rows.find((r) => r.name === 'f')).toMatchObject({ min: '-Infinity', max: 'Infinity', mean: 'NaN', head: ['NaN', 'Infinity', '-Infinity', 1.5], nan: 1 });
    const t = onnxkit(['run', 'exact.onnx']);
    expect(t.code, t.stderr).toBe(0);
    expect(t.stdout).toMatch(/^i\s+int64\s+\[3\]\s+-9223372036854775808\s+9007199254740993\s+.*9007199254740993, -9223372036854775808, 7$/m);
    expect(t.stdout).toMatch(/^f\s+float\s+\[4\]\s+-Infinity\s+Infinity\s+NaN\s+1\s+NaN, Infinity, -Infinity, 1\.500$/m);
  });

  it('bench --profile --json keeps its fields and maps every kernel to a layer', () => {
    const r = onnxkit(['bench', alexnetFile, '--profile', '--iterations', '3', '--warmup', '1', '--device', 'raspberry-pi-4', '--json']);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    // Stable fields (issue 16.3): latency.p50Ms, profile.kernelUs, profile.runs, roofline.totalMeasuredUs, roofline.totalEstimatedUs.
    for (const v of [j.latency.p50Ms, j.profile.kernelUs, j.profile.runs, j.roofline.totalMeasuredUs, j.roofline.totalEstimatedUs]) expect(typeof v).toBe('number');
    expect(j.roofline.level).toBe('all');
    expect(j.roofline.attributedPercent).toBeGreaterThanOrEqual(90);
    expect(j.roofline.totalEstimatedAsExecutedUs).toBeGreaterThan(0);
  }, 120_000);

  it('bench --vs compares interleaved and reports percentiles', () => {
    const m = tinyModel(1);
    const r = onnxkit(['bench', m, '--vs', m, '--iterations', '5', '--warmup', '1', '--json']);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.a.latency.p50Ms).toBeLessThanOrEqual(j.a.latency.p90Ms);
    expect(j.a.latency.p90Ms).toBeLessThanOrEqual(j.a.latency.p99Ms);
    expect(j.ratio.median).toBeGreaterThan(0);
  });

  it('bench says which dynamic dims it timed at 1, and counts a bound batch in the throughput', () => {
    const b = new GraphBuilder({ name: 'dyn', opset: 17 });
    const x = b.input('x', DataType.FLOAT, ['N', 'S', 4]);
    b.output(b.op('Relu', [x]), 'y');
    const m = join(tmp, 'dyn-seq.onnx');
    save(b.build(), m);
    const r = onnxkit(['bench', m, '--iterations', '2', '--warmup', '0', '-q']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('note: input dims x[1] (S) are dynamic and were not given: timed at 1, not at a real input size; bind them with --dim SYMBOL=n or --input-shape NAME=DIMS');
    const bound = onnxkit(['bench', m, '--dim', 'S=16', '--dim', 'N=8', '--iterations', '2', '--warmup', '0', '--json']);
    expect(bound.code).toBe(0);
    const j = JSON.parse(bound.stdout);
    expect(j.defaultedDims).toEqual([]);
    expect(j.inputShapes).toEqual({ x: [8, 16, 4] });
    expect(j.batch.size).toBe(8);
    expect(onnxkit(['bench', m, '--dim', 'S=16', '--iterations', '2', '--warmup', '0', '-q']).stdout).not.toContain('note:');
  });

  it('batch summarises a folder on worker threads as json, csv and html', () => {
    const dir = join(tmp, 'zoo-folder');
    spawnSync('mkdir', ['-p', dir]);
    save(load(FIXTURE), join(dir, 'a.onnx'));
    writeFileSync(join(dir, 'broken.onnx'), 'nope');
    const r = onnxkit(['batch', dir, '--json', '-o', join(tmp, 'summary.csv')]);
    expect(r.code).toBe(1); // the broken model fails the batch
    const j = JSON.parse(r.stdout);
    expect(j.models).toBe(2);
    const a = j.rows.find((x: { file: string }) => x.file === 'a.onnx');
    expect(a.ok).toBe(true);
    expect(a.macs).toBe(5_804_672);
    expect(j.rows.find((x: { file: string }) => x.file === 'broken.onnx').error).toMatch(/not an ONNX model/);
    expect(readFileSync(join(tmp, 'summary.csv'), 'utf8').split('\n')[0]).toMatch(/^file,ok,error,/);
  });

  it('batch CSV: a file name a spreadsheet would run as a formula is written as text', () => {
    const dir = join(tmp, 'formula-folder');
    spawnSync('mkdir', ['-p', dir]);
    writeFileSync(join(dir, '=1+1.onnx'), 'nope');
    const r = onnxkit(['batch', dir, '-o', join(tmp, 'formula.csv')]);
    expect(r.code).toBe(1);
    const lines = readFileSync(join(tmp, 'formula.csv'), 'utf8').split('\n');
    expect(lines[1]).toMatch(/^'=1\+1\.onnx,false,/);
  });

  it('report writes one self-contained HTML file', () => {
    const out = join(tmp, 'report.html');
    const r = onnxkit(['report', FIXTURE, '--optimize', '--bench', '3', '-o', out]);
    expect(r.code).toBe(0);
    const html = readFileSync(out, 'utf8');
    expect(html).toMatch(/^<!doctype html>/i);
    expect(html).not.toMatch(/<script[^>]+src=/i);
    expect(html).toContain('Chart');
  });
});

describe('onnxkit demo', () => {
  it('runs the main job on a model and writes the four outputs', () => {
    const out = join(tmp, 'demo-out');
    const r = onnxkit(['demo', FIXTURE, '--out', out, '--iterations', '3', '--device', 'raspberry-pi-4', '--json']);
    expect(r.code).toBe(0);
    const s = JSON.parse(r.stdout);
    expect(s.equivalent).toBe(true);
    expect(s.optimized.nodes).toBeLessThan(s.original.nodes);
    for (const f of Object.values(s.files) as string[]) expect(statSync(f).size).toBeGreaterThan(0);
    expect(Object.keys(s.files).sort()).toEqual(['analysis', 'int8', 'netron', 'optimized', 'report']);
    // Issue 11.7: the int8 model beside the optimized fp32 one (static QDQ on synthetic calibration data).
    expect(s.int8.layers).toBeGreaterThan(0);
    expect(s.int8.modelSizeBytes).toBeLessThan(s.optimized.modelSizeBytes / 2);
    expect(s.int8.intOps).toBeGreaterThan(2 * s.optimized.macs - 1);
    expect(s.int8.sqnrDb).toBeGreaterThan(20);
    expect(s.int8.measuredMs.int8).toBeGreaterThan(0);
    expect(s.int8.estimatedExecutedMs.int8).toBeLessThan(s.int8.estimatedExecutedMs.fp32);
    expect(s.int8.calibration).toMatch(/^minmax on 8 seeded synthetic inputs/);
    // Three timed pairs cannot reach a 95% interval: never a faster/slower claim from them.
    expect(s.measuredVerdict).toEqual({ all: 'same', disabled: 'same' });
    // The fixture's batch is symbolic: the metrics use N=1, as the runs do, and say so.
    expect(s.boundDims).toEqual({ N: 1 });
    expect(s.original.macs).toBe(5_804_672);
    expect(s.original.estimatedMs).toBeGreaterThan(0);
  });

  it('Ctrl-C stops with exit 130 and leaves no half-written file', async () => {
    const out = join(tmp, 'interrupted');
    const child = spawn(process.execPath, [BIN, 'demo', FIXTURE, '--out', out, '--iterations', '200', '--device', 'raspberry-pi-4'], { cwd: tmp, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ONNXKIT_PROGRESS: '1' } });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    // Interrupt once the benchmark is under way (the model has been imported and verified).
    await new Promise<void>((resolve) => {
      const t = setInterval(() => {
        if (/verify in onnxruntime/.test(stderr)) {
          clearInterval(t);
          resolve();
        }
      }, 50);
    });
    child.kill('SIGINT');
    const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
    expect(code).toBe(130);
    expect(stderr).toContain('onnxkit: interrupted');
    const left = existsSync(out) ? readdirSync(out) : [];
    expect(left.filter((f) => f.includes('.tmp'))).toEqual([]);
    expect(left.filter((f) => f.endsWith('.report.html'))).toEqual([]);
  });
});
