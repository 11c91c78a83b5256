// The README stays true: its library example is this repository's examples/api.ts verbatim,
// and that example runs (on a real model, in onnxruntime) with the results it promises.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { load } from '@onnxkit/importer';
import { optimizeFile } from '../examples/api.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

describe('README', () => {
  it('shows examples/api.ts verbatim', () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const example = readFileSync(join(ROOT, 'examples', 'api.ts'), 'utf8').trim();
    expect(readme).toContain(example);
  });

  it('has exactly the two set-up commands, one for the main job and one for the tests', () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const setup = readme.slice(readme.indexOf('## Set up'), readme.indexOf('\n## ', readme.indexOf('## Set up') + 1));
    const commands = [...setup.matchAll(/```sh\n([^`]+)```/g)].map((m) => m[1]!.trim());
    expect(commands).toEqual(['npm i -g pnpm@10.34.9 && pnpm install && pnpm start', 'npm i -g pnpm@10.34.9 && pnpm install && pnpm test']);
    const scripts = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).scripts;
    expect(scripts.start).toMatch(/demo/);
    expect(scripts.test).toMatch(/vitest run/);
  });

  it('the library example optimizes and verifies a real model', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'onnxkit-readme-')), 'opt.onnx');
    const r = await optimizeFile(join(ROOT, 'fixtures', 'resnet_tiny_bn', 'model.onnx'), out);
    expect(r.equivalent).toBe(true);
    expect(r.changes).toBeGreaterThan(0);
    expect(r.macs).toBe('5804672*N'); // the fixture's batch is symbolic: MACs as an expression
    expect(load(out).graph.nodes.some((n) => n.opType === 'BatchNormalization')).toBe(false);
  });
});
