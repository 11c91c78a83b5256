/**
 * Deterministic outputs (issue 7 part 4): the same input and options give byte-identical files —
 * `save` with and without external data, the zoo builders, `encode` after the `default` pipeline
 * (and its report), analysis JSON and .npz files of inputs and onnxruntime outputs. Each artifact
 * is produced twice in this process and once in a fresh process (no in-process cache can hide
 * nondeterminism there), and every file must be identical across the three.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { encode } from '@onnxkit/importer';
import { transformer } from '@onnxkit/zoo';
import { produceArtifacts } from './determinism-artifacts.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'onnxkit-determinism-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const EXPECTED = [
  'analysis-resnet_tiny_bn.formatted.json',
  'analysis-resnet_tiny_bn.json',
  'analysis-shufflenet_v2_x0_5.formatted.json',
  'analysis-shufflenet_v2_x0_5.json',
  'analysis-transformer_encoder.formatted.json',
  'analysis-transformer_encoder.json',
  'analysis-zoo-resnet50.json',
  'inputs.npz',
  'optimized-loop_if.onnx',
  'optimized-loop_if.report.json',
  'optimized-lstm_tiny.onnx',
  'optimized-lstm_tiny.report.json',
  'optimized-mobilenet_v2_035_bn.onnx',
  'optimized-mobilenet_v2_035_bn.report.json',
  'optimized-resnet_tiny_bn.onnx',
  'optimized-resnet_tiny_bn.report.json',
  'optimized-transformer_encoder.onnx',
  'optimized-transformer_encoder.report.json',
  'optimized-zoo-transformer.onnx',
  'optimized-zoo-transformer.report.json',
  'outputs-deflated.npz',
  'outputs.npz',
  'resave-external.onnx',
  'resave.bin',
  'save-external.onnx',
  'save-external.onnx.data',
  'save-inline.onnx',
  'zoo-alexnet-zeros.onnx',
  'zoo-mobilenetv2.onnx',
  'zoo-resnet50.onnx',
  'zoo-transformer.onnx',
];

describe('byte-identical outputs', () => {
  let first: Record<string, string>;

  it('produces every artifact (and nothing else: no temporary files)', async () => {
    first = await produceArtifacts(join(work, 'a'));
    expect(Object.keys(first)).toEqual(EXPECTED);
    expect(readdirSync(join(work, 'a')).sort()).toEqual(EXPECTED);
    // The rewrites did something, so "identical" is about real work, not about copying input through.
    const report = JSON.parse(readFileSync(join(work, 'a', 'optimized-resnet_tiny_bn.report.json'), 'utf8')) as { totalChanges: number };
    expect(report.totalChanges).toBeGreaterThan(0);
    // External data really went to the data files.
    expect(readFileSync(join(work, 'a', 'save-external.onnx.data')).length).toBeGreaterThan(1 << 20);
    expect(readFileSync(join(work, 'a', 'resave.bin')).length).toBeGreaterThan(1 << 20);
    expect(readFileSync(join(work, 'a', 'save-external.onnx')).length).toBeLessThan(256 << 10);
  }, 300_000);

  it('twice in one process: every file identical', async () => {
    const second = await produceArtifacts(join(work, 'b'));
    for (const name of EXPECTED) {
      expect(second[name], name).toBe(first[name]);
      expect(Buffer.compare(readFileSync(join(work, 'a', name)), readFileSync(join(work, 'b', name))), name).toBe(0);
    }
  }, 300_000);

  it('in a separate process: every file identical', () => {
    const r = spawnSync(
      process.execPath,
      ['--conditions=source', '--import', join(ROOT, 'fuzz', 'ts-loader', 'register.mjs'), join(ROOT, 'test', 'integration', 'determinism-artifacts.ts'), join(work, 'c')],
      { cwd: ROOT, encoding: 'utf8', maxBuffer: 16 << 20 },
    );
    expect(r.status, r.stderr).toBe(0);
    const third = JSON.parse(r.stdout.trim().split('\n').pop()!) as Record<string, string>;
    expect(Object.keys(third)).toEqual(EXPECTED);
    for (const name of EXPECTED) expect(third[name], name).toBe(first[name]);
  }, 300_000);

  it('the comparison can fail: another seed gives other bytes', () => {
    const a = encode(transformer({ layers: 1, dModel: 16, heads: 2, seqLen: 4, seed: 1 }));
    const b = encode(transformer({ layers: 1, dModel: 16, heads: 2, seqLen: 4, seed: 2 }));
    expect(Buffer.compare(a, b)).not.toBe(0);
  });
});
