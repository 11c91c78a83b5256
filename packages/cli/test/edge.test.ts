// Issue 11.5: `onnxkit optimize --preset edge --calibration DIR` = the exact passes to their fixed
// point, then static int8 quantization with the same code as `onnxkit quantize`. End to end on zoo
// models with real onnxruntime: the QDQ output fuses into QLinearConv (optimizedModelFilePath), the
// SQNR report is printed, --explain says what happened, and the exact passes run again on the
// quantized model converge without folding a DequantizeLinear back into a float weight. Issue 11.7:
// `verify --min-sqnr` accepts the int8 model explicitly; `report --quantize` shows it beside fp32.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { DataType, Tensor, type Model } from '@onnxkit/graph';
import { decode, encode } from '@onnxkit/importer';
import { runPipeline } from '@onnxkit/passes';
import { createSession, encodeNpy, shutdownRuntime } from '@onnxkit/runtime';
import { mobilenetv2, resnet50 } from '@onnxkit/zoo';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const BIN = join(ROOT, 'packages', 'cli', 'bin', 'onnxkit.js');
const tmp = mkdtempSync(join(tmpdir(), 'onnxkit-edge-'));
afterAll(() => shutdownRuntime());

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function onnxkit(args: string[]): Run {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: tmp, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' }, timeout: 400_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function expectOneLineError(r: Run, pattern: RegExp): void {
  expect(r.code).toBe(2);
  const lines = r.stderr.trim().split('\n').filter((l) => !l.startsWith('✔ '));
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^onnxkit: /);
  expect(lines[0]).toMatch(pattern);
}

/** Writes `n` calibration samples ([1, 3, 224, 224], image-like values in [0, 1]) to a folder. */
function calibrationDir(name: string, n: number): string {
  const dir = join(tmp, name);
  mkdirSync(dir, { recursive: true });
  for (let i = 0; i < n; i++) {
    const data = Float32Array.from({ length: 3 * 224 * 224 }, (_, k) => 0.5 + 0.5 * Math.sin(k * 0.013 + i * 1.7) * Math.cos(k * 0.0007 + i));
    writeFileSync(join(dir, `s${i}.npy`), encodeNpy(Tensor.fromArray(DataType.FLOAT, [1, 3, 224, 224], data)));
  }
  return dir;
}

function histogram(m: Model): Map<string, number> {
  const h = new Map<string, number>();
  for (const n of m.graph) h.set(n.opType, (h.get(n.opType) ?? 0) + 1);
  return h;
}

/** Op histogram of the graph onnxruntime makes of `file` at level `all`. */
async function fusedOps(file: string): Promise<Map<string, number>> {
  const path = file.replace(/\.onnx$/, '.ort.onnx');
  const s = await createSession(file, { graphOptimizationLevel: 'all', intraOpNumThreads: 1, optimizedModelFilePath: path });
  await s.release();
  return histogram(decode(new Uint8Array(readFileSync(path))));
}

describe('optimize --preset edge --calibration', () => {
  it('MobileNetV2: exact passes converge, then QDQ int8 that onnxruntime fuses into QLinearConv; SQNR printed; --explain says what happened', async () => {
    const file = join(tmp, 'mbv2.onnx');
    const fp32 = mobilenetv2({ seed: 0 });
    writeFileSync(file, encode(fp32));
    const convs = histogram(fp32).get('Conv')!;
    const calib = calibrationDir('calib-mbv2', 10);
    const out = join(tmp, 'mbv2.int8.onnx');
    const j = onnxkit(['optimize', file, out, '--preset', 'edge', '--calibration', calib, '--json']);
    expect(j.stderr).toBe('');
    expect(j.code).toBe(0);
    const r = JSON.parse(j.stdout);
    // The exact passes (not fp16-weights), to a fixed point in a bounded number of sweeps.
    expect(r.pipeline.converged).toBe(true);
    expect(r.pipeline.iterations).toBeLessThanOrEqual(3);
    const passes = r.pipeline.summary.map((s: { pass: string }) => s.pass);
    expect(passes).toContain('fold-batchnorm');
    expect(passes).not.toContain('fp16-weights');
    // Quantized as onnxkit quantize does: every Conv, Clip folded, 8 samples calibrate and 2 are held back.
    const q = r.quantize;
    expect(q.mode).toBe('static');
    expect(q.calibration).toMatchObject({ source: calib, samples: 8, method: 'minmax' });
    expect(q.evaluation.samples).toBe(2);
    expect(q.layersByOp.Conv).toBe(convs);
    expect(q.fusedActivations).toBe(histogram(fp32).get('Clip'));
    expect(q.accuracy.overall.sqnrDb).toBeGreaterThan(12);
    expect(q.weightBytes.after / q.weightBytes.before).toBeLessThan(0.3);
    expect(r.after.fileBytes / r.before.fileBytes).toBeLessThan(0.3);
    expect(r.after.opHistogram.BatchNormalization ?? 0).toBe(0);
    expect(r.after.opHistogram.QuantizeLinear).toBeGreaterThan(0);
    // onnxruntime fuses the QDQ model into integer kernels.
    const ops = await fusedOps(out);
    expect(ops.get('QLinearConv') ?? 0).toBe(convs);
    expect(ops.get('Conv') ?? 0).toBe(0);
    expect(ops.get('Clip') ?? 0).toBe(0);
    expect(ops.get('QLinearAdd') ?? 0).toBe(10);

    // The exact passes again on the quantized model: converged, no DequantizeLinear folded back into a float weight.
    const int8 = decode(new Uint8Array(readFileSync(out)));
    const before = histogram(int8);
    const again = await runPipeline(int8, 'default');
    expect(again.converged).toBe(true);
    expect(histogram(int8).get('DequantizeLinear')).toBe(before.get('DequantizeLinear'));
    expect(histogram(int8).get('QuantizeLinear')).toBe(before.get('QuantizeLinear'));

    // Text: the SQNR table, and --explain names the int8 step and what stayed float.
    const t = onnxkit(['optimize', file, join(tmp, 'mbv2.int8.text.onnx'), '--preset', 'edge', '--calibration', calib, '--explain']);
    expect(t.code).toBe(0);
    expect(t.stdout).toMatch(/edge with --calibration: the exact passes ran to their fixed point \(fp16-weights not run/);
    expect(t.stdout).toMatch(new RegExp(`quantized: Conv\\+Clip ×35, Conv ×17, Add ×10`));
    expect(t.stdout).toMatch(/quantize \(static int8, QDQ, as onnxkit quantize\) — 64 layers quantized, 35 Relu\/Clip folded/);
    expect(t.stdout).toMatch(/output +SQNR dB +max abs err +mean abs err\n.*\noutput +\d+\.\d/);
    expect(t.stdout).toMatch(/passes — \d+ changes, [1-3] sweep\(s\), converged/);

    // verify: the int8 model is not equivalent, and --min-sqnr accepts it explicitly (against float64).
    const plain = onnxkit(['verify', file, out, '--json']);
    expect(plain.code).toBe(1);
    const low = onnxkit(['verify', file, out, '--min-sqnr', '3', '--json']);
    expect(low.code).toBe(0);
    const v = JSON.parse(low.stdout);
    expect(v.equivalent).toBe(true);
    expect(v.verdict).toBe('within the requested budget');
    expect(v.reference.outputs[0].b.sqnrDb).toBeGreaterThan(3);
    expect(v.reference.outputs[0].b.sqnrDb).toBeLessThan(60);
    const high = onnxkit(['verify', file, out, '--min-sqnr', '60']);
    expect(high.code).toBe(1);
    expect(high.stdout).toMatch(/NOT equivalent: output 'output': B's SQNR against float64 is [\d.]+ dB, under the requested 60 dB/);

    // report --quantize: the int8 model beside fp32 in the HTML report.
    const html = join(tmp, 'mbv2.int8.html');
    const rep = onnxkit(['report', file, '-o', html, '--optimize', '--quantize', '--calibration', calib, '--bench', '4', '--no-verify', '--json']);
    expect(rep.stderr).toBe('');
    expect(rep.code).toBe(0);
    const page = readFileSync(html, 'utf8');
    const section = page.slice(page.indexOf('<section class="sec" id="quantized"'), page.indexOf('</section>', page.indexOf('<section class="sec" id="quantized"')));
    expect(section).toContain('fp32 side: the optimized model (default)');
    expect(section).toMatch(/Calibration: minmax on .*calib-mbv2 \(8 samples/);
    for (const row of ['weights as stored', 'file size (encoded)', 'MACs', 'integer OPs', 'estimated latency as onnxruntime runs it, level all (jetson-agx-orin', 'estimated latency, graph as written', 'estimated energy', 'measured latency p50']) expect(section, row).toContain(`<td>${row}`);
    expect(section).toMatch(/<td class="mono">output<\/td><td class="num" data-v="[\d.]+">[\d.]+ dB<\/td>/);
    expect(section).toMatch(/Speed-up, int8 \/ fp32 — the median over interleaved pairs/);
    expect(page).toContain('<a href="#quantized"');
  }, 400_000);

  it('ResNet-50 with --method percentile: every Conv fuses into QLinearConv, Add into QLinearAdd, SQNR on held-out files', async () => {
    const file = join(tmp, 'resnet50.onnx');
    const fp32 = resnet50({ seed: 0 });
    writeFileSync(file, encode(fp32));
    const calib = calibrationDir('calib-r50', 5);
    const out = join(tmp, 'resnet50.int8.onnx');
    const j = onnxkit(['optimize', file, '-o', out, '--preset', 'edge', '--calibration', calib, '--method', 'percentile', '--percentile', '99.99', '--json']);
    expect(j.stderr).toBe('');
    expect(j.code).toBe(0);
    const r = JSON.parse(j.stdout);
    expect(r.pipeline.converged).toBe(true);
    expect(r.quantize.calibration).toMatchObject({ samples: 4, method: 'percentile', percentile: 99.99 });
    expect(r.quantize.evaluation.samples).toBe(1);
    expect(r.quantize.accuracy.overall.sqnrDb).toBeGreaterThan(15);
    const ops = await fusedOps(out);
    expect(ops.get('QLinearConv') ?? 0).toBe(histogram(fp32).get('Conv'));
    expect(ops.get('QLinearAdd') ?? 0).toBe(16);
    expect(ops.get('Conv') ?? 0).toBe(0);
  }, 400_000);

  it('refuses --calibration without --preset edge and a calibration flag without --calibration, one line, exit 2', () => {
    const file = join(tmp, 'mbv2-flags.onnx');
    writeFileSync(file, encode(mobilenetv2({ seed: 0, weights: 'zeros' })));
    expectOneLineError(onnxkit(['optimize', file, join(tmp, 'x.onnx'), '--calibration', tmp]), /--calibration applies to --preset edge/);
    expectOneLineError(onnxkit(['optimize', file, join(tmp, 'x.onnx'), '--preset', 'edge', '--passes', 'fold-batchnorm', '--calibration', tmp]), /--calibration applies to --preset edge|give --preset or --passes/);
    expectOneLineError(onnxkit(['optimize', file, join(tmp, 'x.onnx'), '--preset', 'edge', '--method', 'entropy']), /--method applies to int8 quantization: give --preset edge --calibration/);
    expectOneLineError(onnxkit(['optimize', file, join(tmp, 'x.onnx'), '--preset', 'edge', '--calibration', tmp, '--method', 'kl']), /--method 'kl' is not one of minmax, percentile, entropy/);
    expectOneLineError(onnxkit(['report', file, '-o', join(tmp, 'x.html'), '--calibration', tmp]), /--calibration applies to --quantize/);
    expectOneLineError(onnxkit(['demo', file, '--out', join(tmp, 'demo-x'), '--no-quantize', '--method', 'entropy']), /--method applies to the int8 step, which --no-quantize skips/);
  }, 120_000);
});
