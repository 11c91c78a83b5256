// The README tour's ResNet-50 steps, end to end with the built CLI (`pnpm -s build` first) and
// real onnxruntime-node (issue 10, item 3): `zoo resnet50` → `optimize` (the exact default
// preset, 53 BatchNorms folded) → `verify` exits 0 and says the folded model is equivalent
// (within float32 rounding: it fails the fixed fp32 tolerance, but is as close to the float64
// result as the original), and `report --optimize` shows that verdict's badge, never the red
// "not equivalent" one the fixed tolerance gave before the float64 reference.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cliRunner } from './helpers/cli.js';

const tmp = mkdtempSync(join(tmpdir(), 'onnxkit-tour-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const onnxkit = cliRunner(tmp, { env: { NO_COLOR: '1' }, timeout: 300_000 });

describe('the README tour on ResNet-50', () => {
  it('zoo → optimize → verify exits 0 with the float64 verdict, and report --optimize shows its badge', () => {
    expect(onnxkit(['zoo', 'resnet50', '-o', 'resnet50.onnx']).code).toBe(0);
    const opt = onnxkit(['optimize', 'resnet50.onnx', '-o', 'resnet50.opt.onnx', '--json']);
    expect(opt.code, opt.stderr).toBe(0);
    const sides = JSON.parse(opt.stdout) as { before: { nodes: number }; after: { nodes: number } };
    expect(sides.after.nodes).toBeLessThan(sides.before.nodes); // the BatchNorms are gone

    const v = onnxkit(['verify', 'resnet50.onnx', 'resnet50.opt.onnx', '--json']);
    expect(v.code, v.stderr).toBe(0);
    const report = JSON.parse(v.stdout) as { verdict: string; equivalent: boolean; reference: { basis: string } };
    expect(report.equivalent).toBe(true);
    expect(report.reference.basis).toBe('reference');
    expect(report.verdict).toMatch(/^equivalent( within float32 rounding)?$/);

    const r = onnxkit(['report', 'resnet50.onnx', '--optimize', '-o', 'resnet50.html', '--bench', '0']);
    expect(r.code, r.stderr).toBe(0);
    const html = readFileSync(join(tmp, 'resnet50.html'), 'utf8');
    expect(html).toContain(report.verdict);
    expect(html).not.toMatch(/NOT equivalent/);
  }, 600_000);
});
