/**
 * Issue 12.1: graph, the importer's codec entry, passes (and the report renderer the app
 * uses) bundle for the browser with no Node shims. The build fails on any Node built-in, and
 * we also prove the plugin would catch one (a module importing node:fs fails the build).
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { build, defaultClientConditions, type Plugin } from 'vite';
import { browserOnly, buildApp } from '../../src/app-build.js';

const ROOT = resolve(import.meta.dirname, '../../../..');
const tmp = mkdtempSync(join(tmpdir(), 'onnxkit-bundle-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

async function bundle(entrySource: string, outName: string): Promise<string> {
  const dir = join(tmp, outName);
  const entry = join(ROOT, 'packages/cli/test/app', `.entry-${outName}.ts`);
  writeFileSync(entry, entrySource);
  try {
    await build({
      configFile: false,
      logLevel: 'silent',
      resolve: { conditions: ['source', ...defaultClientConditions] },
      plugins: [browserOnly() as unknown as Plugin],
      build: { outDir: dir, emptyOutDir: true, minify: false, lib: { entry, formats: ['es'], fileName: 'bundle' }, target: 'es2022', reportCompressedSize: false },
    });
  } finally {
    rmSync(entry, { force: true });
  }
  return readdirSync(dir).filter((f) => f.endsWith('.js')).map((f) => readFileSync(join(dir, f), 'utf8')).join('\n');
}

describe('browser bundle', () => {
  it('graph + importer/codec + passes (with the float64 reference evaluator) bundle with no Node built-in, and the bundle decodes, analyzes, evaluates in float64, optimizes and encodes', async () => {
    const code = await bundle(
      `import { cloneModel } from '@onnxkit/graph';
import { decodeModelBytes, decodeSource, bytesReader, encode } from '@onnxkit/importer/codec';
import { analyzeModel, evaluateReference, runPipeline } from '@onnxkit/passes';
export async function roundTrip(bytes, feeds) {
  const eager = decodeModelBytes(bytes).model;
  const r = bytesReader(bytes, 'm.onnx');
  const lazy = decodeSource(r).model;
  const structureBytes = r.bytesRead;
  const opt = cloneModel(lazy);
  await runPipeline(opt, 'default');
  const ref = evaluateReference(eager, feeds);
  return { refOutputs: [...ref.outputs.keys()], macs: analyzeModel(eager).totals.macs, lazyMacs: analyzeModel(lazy).totals.macs, same: encode(lazy).length === bytes.length, optimized: encode(opt).length, bytesRead: structureBytes };
}
`,
      'core',
    );
    expect(code).not.toMatch(/from\s*["']node:|require\(["']node:|import\(["']node:/);
    expect(code).not.toContain('__vite-browser-external');
    // The bundle runs (here in Node, with nothing of Node's used) on a real model.
    const mod = (await import(`data:text/javascript;base64,${Buffer.from(code).toString('base64')}`)) as { roundTrip(b: Uint8Array, feeds: Map<string, unknown>): Promise<{ refOutputs: string[]; macs: number; lazyMacs: number; same: boolean; optimized: number; bytesRead: number }> };
    const { mobilenetv2 } = await import('@onnxkit/zoo');
    const { encode } = await import('@onnxkit/importer');
    const { analyzeModel } = await import('@onnxkit/passes');
    const m = mobilenetv2();
    const bytes = encode(m);
    const { syntheticInputs } = await import('@onnxkit/runtime');
    const out = await mod.roundTrip(bytes, syntheticInputs(m, { seed: 0 }));
    expect(out.refOutputs).toEqual(m.graph.outputs.map((o) => o.name));
    expect(out.macs).toBe(analyzeModel(m).totals.macs);
    expect(out.lazyMacs).toBe(out.macs);
    expect(out.same).toBe(true);
    expect(out.bytesRead).toBeLessThan(bytes.length / 4);
  }, 180_000);

  it('fails the build on a node: import', async () => {
    await expect(bundle(`import { readFileSync } from 'node:fs';\nexport const f = readFileSync;\n`, 'bad')).rejects.toThrow(/must not import Node built-ins: .* imports 'node:fs'/);
    await expect(bundle(`export { load } from '@onnxkit/importer';\n`, 'bad2')).rejects.toThrow(/must not import Node built-ins/);
  }, 120_000);

  it('the whole app (page + worker + report renderer) builds', async () => {
    const files = await buildApp(join(tmp, 'app'), { minify: false });
    expect(files.some((f) => f.endsWith('index.html'))).toBe(true);
    const js = files.filter((f) => f.endsWith('.js')).map((f) => readFileSync(f, 'utf8')).join('\n');
    expect(js).not.toMatch(/from\s*["']node:/);
    expect(js).toContain('Chart'); // Chart.js is bundled, not fetched from a CDN
    const html = readFileSync(files.find((f) => f.endsWith('index.html'))!, 'utf8');
    expect(html).not.toMatch(/https?:\/\//);
  }, 180_000);
});
