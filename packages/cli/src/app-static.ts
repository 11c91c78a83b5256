/**
 * The browser app as shipped: `pnpm build` (scripts/build-app.mjs, through app-build.ts and Vite)
 * writes the static app into dist/app, which is part of the published package. `onnxkit serve`
 * serves that folder and `onnxkit app -o DIR` copies it, so neither needs Vite, the app's sources
 * or the repository at run time.
 */
import { cpSync, existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CliError } from './errors.js';

/** dist/app of this package (the same place seen from src/ and from dist/). */
export const PREBUILT_APP_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../dist/app');

/** The prebuilt app's folder; a CliError when the package was not built. */
export function prebuiltApp(): string {
  if (!existsSync(join(PREBUILT_APP_DIR, 'index.html'))) {
    throw new CliError(`the browser app is not built (no ${join(PREBUILT_APP_DIR, 'index.html')})`, { hint: 'run `pnpm build` in the onnxkit checkout (the published package ships it built)' });
  }
  return PREBUILT_APP_DIR;
}

/** Every file under `dir`, relative, sorted. */
function listFiles(dir: string, prefix = ''): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? listFiles(join(dir, e.name), `${prefix}${e.name}/`) : [`${prefix}${e.name}`]))
    .sort();
}

/** Copies the prebuilt app into `outDir` (emptied first). Returns the files written. */
export function copyApp(outDir: string): string[] {
  const from = prebuiltApp();
  if (existsSync(outDir)) for (const e of readdirSync(outDir)) rmSync(join(outDir, e), { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  cpSync(from, outDir, { recursive: true });
  return listFiles(outDir).map((f) => join(outDir, f));
}
