// The README stays true: its library example is this repository's examples/api.ts verbatim,
// and that example runs (on a real model, in onnxruntime) with the results it promises.
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { load } from '@onnxkit/importer';
import { optimizeFile } from '../examples/api.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

/**
 * Repository paths a markdown file names: link targets, and tokens of inline code and code blocks
 * that start with one of the repository's top-level folders (`packages/…`, `fixtures/…`, `.ci/run`).
 * Paths the repository ignores (generated output such as `docs/api/`, `fixtures/large/`) are left
 * out: they exist only after a command that the text names.
 */
function repoPathsIn(markdown: string, root: string): string[] {
  const tops = ['packages', 'fixtures', 'docs', 'scripts', 'examples', 'fuzz', 'bench', 'test', '.ci', 'schema', 'src', 'bin'];
  const ignored = readFileSync(join(ROOT, '.gitignore'), 'utf8').split('\n').map((l) => l.trim().replace(/\/$/, '')).filter((l) => l && !l.includes('*'));
  const found = new Set<string>();
  for (const m of markdown.matchAll(/\]\(([^)\s]+)\)/g)) if (!/^[a-z]+:/.test(m[1]!) && !m[1]!.startsWith('#')) found.add(m[1]!);
  for (const m of markdown.matchAll(/```[a-z]*\n([^`]*)```|`([^`\n]+)`/g)) {
    for (const token of (m[1] ?? m[2]!).split(/[\s'"()=,;]+/)) {
      const t = token.replace(/[.:]+$/, '');
      if (tops.some((top) => t.startsWith(`${top}/`)) || ['.ci/run', 'LICENSE', 'README.md'].includes(t)) found.add(t);
    }
  }
  return [...found].filter((p) => !ignored.some((ig) => p === ig || p.startsWith(`${ig}/`)) && !p.includes('…')).map((p) => join(root, p));
}

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

  it('names only repository files that exist', () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const paths = repoPathsIn(readme, ROOT);
    expect(paths.length).toBeGreaterThan(10);
    expect(paths.filter((p) => !existsSync(p)).map((p) => p.slice(ROOT.length + 1))).toEqual([]);
  });

  it('.ci/run runs exactly the README test command', () => {
    const ci = readFileSync(join(ROOT, '.ci', 'run'), 'utf8');
    expect(ci).toContain("README_TEST_COMMAND='npm i -g pnpm@10.34.9 && pnpm install && pnpm test'");
    expect(ci).toMatch(/bash -c "\$README_TEST_COMMAND"/);
    expect(ci).not.toMatch(/apt-get/); // the test command provisions, so CI cannot hide a missing step
    const scripts = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).scripts;
    expect(scripts.test).toMatch(/^sh scripts\/setup-test-deps\.sh && vitest run/);
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
