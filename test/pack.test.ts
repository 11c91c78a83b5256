// The packages as a user gets them: `pnpm pack` every package, install the tarballs with npm into
// a fresh folder outside the workspace, then run there what the READMEs promise — the main
// README's library example, each package README's example (type-checked as an ESM consumer
// would, then run), `npx onnxkit --version` and `onnxkit analyze` — and check the published types
// with arethetypeswrong. Slow (an npm install, ≈30–60 s), but it is the only test that sees the
// packages from outside the monorepo.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const PACKAGES = ['graph', 'importer', 'passes', 'runtime', 'zoo', 'cli'];
const NPM_ENV = { ...process.env, ONNXRUNTIME_NODE_INSTALL: 'skip', npm_config_audit: 'false', npm_config_fund: 'false', npm_config_update_notifier: 'false' };

let work = '';
let consumer = '';
const tarballs: string[] = [];

/** The first ```ts block after a README's "## Example" heading. */
function readmeExample(pkg: string): string {
  const readme = readFileSync(join(ROOT, 'packages', pkg, 'README.md'), 'utf8');
  const at = readme.indexOf('\n## Example\n');
  const m = /```ts\n([^`]+)```/.exec(readme.slice(at));
  if (at < 0 || !m) throw new Error(`packages/${pkg}/README.md has no "## Example" section with a ts block`);
  return m[1]!;
}

function toJs(source: string): string {
  return ts.transpileModule(source, { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 } }).outputText;
}

function run(cmd: string, args: string[], timeout = 60_000): string {
  const r = spawnSync(cmd, args, { cwd: consumer, env: NPM_ENV, encoding: 'utf8', timeout });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}:\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'onnxkit-pack-'));
  consumer = join(work, 'consumer');
  mkdirSync(consumer);
  for (const pkg of PACKAGES) {
    execFileSync('pnpm', ['pack', '--pack-destination', work], { cwd: join(ROOT, 'packages', pkg), stdio: 'pipe' });
  }
  tarballs.push(...readdirSync(work).filter((f) => f.endsWith('.tgz')).map((f) => join(work, f)));
  writeFileSync(join(consumer, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
  // --prefer-offline: the third-party dependencies (commander, chart.js, onnxruntime-node) come
  // from npm's cache when they are there; ONNXRUNTIME_NODE_INSTALL=skip as the READMEs say.
  run('npm', ['install', '--prefer-offline', '--no-save', ...tarballs], 110_000);
  copyFileSync(join(ROOT, 'fixtures', 'resnet_tiny_bn', 'model.onnx'), join(consumer, 'model.onnx'));
}, 180_000);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('packed packages installed with npm', () => {
  it('every tarball carries its README, LICENSE, dist and the publish metadata', () => {
    expect(tarballs).toHaveLength(PACKAGES.length);
    for (const pkg of PACKAGES) {
      const dir = join(consumer, 'node_modules', '@onnxkit', pkg);
      const files = readdirSync(dir);
      expect(files, pkg).toEqual(expect.arrayContaining(['README.md', 'LICENSE', 'dist', 'package.json']));
      const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
      expect(manifest.publishConfig, pkg).toEqual({ access: 'public' });
      expect(manifest.engines.node, pkg).toBe('>=20.0.0');
      expect(manifest.repository.directory, pkg).toBe(`packages/${pkg}`);
      expect(manifest.license, pkg).toBe('MIT');
      expect(JSON.stringify(manifest.dependencies ?? {}), pkg).not.toContain('workspace:');
    }
  });

  it('the README examples type-check as an ESM consumer (NodeNext) against the installed types', () => {
    const sources = ['api.ts', ...PACKAGES.filter((p) => p !== 'cli').map((p) => `example-${p}.ts`)];
    writeFileSync(join(consumer, 'api.ts'), readFileSync(join(ROOT, 'examples', 'api.ts'), 'utf8'));
    for (const pkg of PACKAGES.filter((p) => p !== 'cli')) writeFileSync(join(consumer, `example-${pkg}.ts`), `${readmeExample(pkg)}\nexport {};\n`);
    writeFileSync(join(consumer, 'tsconfig.json'), JSON.stringify({
      compilerOptions: {
        module: 'NodeNext', moduleResolution: 'NodeNext', target: 'ES2022', strict: true, noEmit: true, skipLibCheck: false,
        types: ['node'], typeRoots: [join(ROOT, 'node_modules', '@types')],
      },
      files: sources,
    }));
    const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
    const r = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.json'], { cwd: consumer, encoding: 'utf8' });
    expect(r.stdout + r.stderr).toBe('');
    expect(r.status).toBe(0);
  }, 90_000);

  it("runs the main README's library example (optimize + verify in onnxruntime)", () => {
    writeFileSync(join(consumer, 'api.mjs'), toJs(readFileSync(join(ROOT, 'examples', 'api.ts'), 'utf8')));
    writeFileSync(join(consumer, 'run-api.mjs'), [
      "import { optimizeFile } from './api.mjs';",
      "import { shutdownRuntime } from '@onnxkit/runtime';",
      "console.log(JSON.stringify(await optimizeFile('model.onnx', 'opt.onnx')));",
      'await shutdownRuntime();',
    ].join('\n'));
    const r = JSON.parse(run(process.execPath, ['run-api.mjs']).trim());
    expect(r).toEqual({ macs: '5804672*N', changes: expect.any(Number), equivalent: true });
    expect(r.changes).toBeGreaterThan(0);
  }, 60_000);

  it.each(PACKAGES.filter((p) => p !== 'cli'))("runs packages/%s/README.md's example", (pkg) => {
    writeFileSync(join(consumer, `example-${pkg}.mjs`), toJs(readmeExample(pkg)));
    run(process.execPath, [`example-${pkg}.mjs`]); // throws with its output unless it exits 0
  }, 60_000);

  it('npx onnxkit --version and onnxkit analyze work from the installed CLI', () => {
    const version = JSON.parse(readFileSync(join(ROOT, 'packages', 'cli', 'package.json'), 'utf8')).version;
    expect(run('npx', ['--no-install', 'onnxkit', '--version']).trim()).toBe(version);
    const report = JSON.parse(run('npx', ['--no-install', 'onnxkit', 'analyze', 'model.onnx', '--json', '--dim', 'N=1']));
    expect(report.totals.macs).toBe(5804672);
  }, 60_000);

  it('the installed CLI ships the prebuilt browser app: `onnxkit app -o DIR` copies it and `onnxkit serve` answers with the page (no Vite, no repository)', async () => {
    const cli = join(consumer, 'node_modules', '@onnxkit', 'cli');
    expect(existsSync(join(cli, 'dist', 'app', 'index.html'))).toBe(true);
    // Nothing the build used is reachable from here: the consumer folder is outside the workspace.
    expect(spawnSync(process.execPath, ['--input-type=module', '-e', "await import('vite')"], { cwd: consumer, encoding: 'utf8' }).status).not.toBe(0);
    expect(run('npx', ['--no-install', 'onnxkit', 'app', '-o', 'site'])).toMatch(/wrote the onnxkit app to site/);
    const html = readFileSync(join(consumer, 'site', 'index.html'), 'utf8');
    expect(html).toContain('data-testid="model-file"');
    const assets = readdirSync(join(consumer, 'site', 'assets'));
    expect(assets.some((f) => f.endsWith('.wasm')), 'onnxruntime-web WASM is in the static app').toBe(true);
    const bin = join(consumer, 'node_modules', '.bin', 'onnxkit');
    const child = spawn(bin, ['serve', 'model.onnx', '--port', '0'], { cwd: consumer, stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      const url = await new Promise<string>((ok, fail) => {
        let out = '';
        child.stdout.on('data', (c: Buffer) => {
          out += c.toString();
          const m = /(http:\/\/127\.0\.0\.1:\d+\/)\S*/.exec(out);
          if (m) ok(m[1]!);
        });
        child.stderr.on('data', (c: Buffer) => (out += c.toString()));
        child.on('exit', (code) => fail(new Error(`serve exited with ${code}: ${out}`)));
        setTimeout(() => fail(new Error(`no URL printed: ${out}`)), 30_000);
      });
      const page = await fetch(url);
      expect(page.status).toBe(200);
      expect(await page.text()).toBe(html);
      for (const a of assets) expect((await fetch(`${url}assets/${a}`, { method: 'HEAD' })).status, a).toBe(200);
      const model = await fetch(`${url}model/model.onnx`, { headers: { range: 'bytes=0-15' } });
      expect(model.status).toBe(206);
      expect(Buffer.from(await model.arrayBuffer())).toEqual(readFileSync(join(consumer, 'model.onnx')).subarray(0, 16));
    } finally {
      child.kill('SIGINT');
    }
  }, 60_000);

  it('arethetypeswrong finds no problem for ESM consumers in any tarball', () => {
    const attw = join(ROOT, 'node_modules', '@arethetypeswrong', 'cli', 'dist', 'index.js');
    for (const tgz of tarballs) {
      const r = spawnSync(process.execPath, [attw, '--pack', tgz, '--profile', 'esm-only', '--format', 'json'], { encoding: 'utf8', timeout: 60_000 });
      const result = JSON.parse(r.stdout) as { problems: Record<string, { kind: string; resolutionKind?: string }[]> };
      // The esm-only profile ignores node10 and require() resolutions: the packages are ESM-only,
      // as their READMEs say. Anything else (node16 from ESM, bundler) is a real problem.
      const esmProblems = Object.values(result.problems).flat().filter((p) => p.resolutionKind !== 'node10' && p.resolutionKind !== 'node16-cjs');
      expect(esmProblems, tgz).toEqual([]);
      expect(r.status, tgz).toBe(0);
    }
  }, 120_000);
});
