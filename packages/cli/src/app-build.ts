/**
 * Builds the browser app (packages/cli/app: one page, Web Workers, every script and style
 * bundled, no CDN) into a static folder. Build time only: `pnpm build` runs it through
 * scripts/build-app.mjs into dist/app, which the package ships and `onnxkit serve` /
 * `onnxkit app` serve or copy (app-static.ts), so no command needs Vite (a development
 * dependency of the repository). The `browserOnly` plugin refuses any Node built-in in the
 * bundle, so a `node:` import anywhere in the page's code fails the build.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type * as Vite from 'vite';
import { CliError } from './errors.js';

/** Folder of the app's sources (the same relative place from src/ and from dist/). */
export const APP_SOURCE_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../app');

const BUILTINS = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));
const CHART_LIBRARY_ID = '\0onnxkit-browser-chart-library';
const CLIENT_SCRIPT_ID = '\0onnxkit-browser-report-client';

/** The minimal plugin shape this file needs (keeps vite's types out of the CLI's public types). */
interface BuildPlugin {
  name: string;
  enforce: 'pre';
  resolveId(id: string, importer: string | undefined): string | null;
  load(id: string): string | null;
}

/**
 * A bundler plugin that fails on any Node built-in (`node:fs`, `fs`, …) and swaps the report's
 * Chart.js file reader for the Chart.js source inlined at build time.
 */
export function browserOnly(found: string[] = []): BuildPlugin {
  return {
    name: 'onnxkit-browser-only',
    enforce: 'pre',
    resolveId(id, importer) {
      if (BUILTINS.has(id) || id.startsWith('node:')) {
        found.push(`${importer ?? '?'} imports ${id}`);
        throw new Error(`the browser bundle must not import Node built-ins: ${importer ?? '?'} imports '${id}'`);
      }
      if (id === './chart-library.js' && importer !== undefined && /[\\/]report[\\/][\w-]+\.ts$/.test(importer)) return CHART_LIBRARY_ID;
      if (id === './client-script.js' && importer !== undefined && /[\\/]report[\\/][\w-]+\.ts$/.test(importer)) return CLIENT_SCRIPT_ID;
      return null;
    },
    load(id) {
      if (id === CLIENT_SCRIPT_ID) return `export const CLIENT_SCRIPT = ${JSON.stringify(builtClientScript())};\n`;
      if (id !== CHART_LIBRARY_ID) return null;
      const src = readFileSync(chartUmdPath(), 'utf8').replace(/\n\/\/# sourceMappingURL=.*$/m, '');
      return `const SRC = ${JSON.stringify(src)};\nexport function chartJsSource() { return SRC; }\nexport function chartJsPath() { return 'chart.umd.js'; }\n`;
    },
  };
}

/** The report page's own script, compiled by `pnpm build` (report/client-script.ts reads the same file with node:fs). */
function builtClientScript(): string {
  const built = resolve(APP_SOURCE_DIR, '../dist/report/client.js');
  if (!existsSync(built)) throw new CliError(`the report script is not built (${built})`, { hint: 'run `pnpm build`' });
  return readFileSync(built, 'utf8');
}

function chartUmdPath(): string {
  // Same lookup as report/chart-library.ts, without importing it here (it is Node-only on purpose).
  const candidates = [resolve(APP_SOURCE_DIR, '../node_modules/chart.js/dist/chart.umd.js'), resolve(APP_SOURCE_DIR, '../../../node_modules/chart.js/dist/chart.umd.js')];
  const hit = candidates.find((p) => existsSync(p));
  if (!hit) throw new CliError('cannot find chart.js/dist/chart.umd.js to bundle into the app', { hint: 'run `pnpm install`' });
  return hit;
}

export interface BuildAppOptions {
  /** Minify the bundle (default true). */
  minify?: boolean;
}

/** Builds the app into `outDir` (emptied first). Returns the files written. */
export async function buildApp(outDir: string, options: BuildAppOptions = {}): Promise<string[]> {
  let vite: typeof Vite;
  try {
    vite = await import('vite');
  } catch (e) {
    throw new CliError(`building the browser app needs Vite, which is not installed (${e instanceof Error ? e.message : String(e)})`, { hint: 'run it from the onnxkit repository after `pnpm install`' });
  }
  mkdirSync(outDir, { recursive: true });
  const conditions = ['source', ...vite.defaultClientConditions];
  const plugin = browserOnly() as unknown as Vite.Plugin;
  const out = await vite.build({
    configFile: false,
    root: APP_SOURCE_DIR,
    base: './',
    logLevel: 'error',
    publicDir: false,
    resolve: { conditions },
    plugins: [plugin],
    worker: { format: 'es', plugins: () => [browserOnly() as unknown as Vite.Plugin] },
    build: {
      outDir: resolve(outDir),
      emptyOutDir: true,
      target: 'es2022',
      minify: options.minify ?? true,
      reportCompressedSize: false,
      modulePreload: { polyfill: false },
      chunkSizeWarningLimit: 100_000,
    },
  });
  const outputs = (Array.isArray(out) ? out : [out]) as { output?: { fileName: string }[] }[];
  return outputs.flatMap((o) => (o.output ?? []).map((f) => join(outDir, f.fileName)));
}
