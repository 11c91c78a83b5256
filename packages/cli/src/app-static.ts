/**
 * The browser app as shipped: `pnpm build` (scripts/build-app.mjs, through app-build.ts and Vite)
 * writes the static app into dist/app, which is part of the published package. `onnxkit serve`
 * serves that folder and `onnxkit app -o DIR` copies it, so neither needs Vite, the app's sources
 * or the repository at run time.
 */
import { cpSync, existsSync, readdirSync, readFileSync, rmdirSync, rmSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeFileAtomic } from '@onnxkit/importer';
import { CliError } from './errors.js';
import { ensureDir, realOrResolved } from './fs-utils.js';

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

/**
 * The file `onnxkit app` writes last into its folder, listing the files it wrote: what identifies
 * a previous app build (an index.html does not: a web site has one too).
 */
export const APP_MANIFEST = '.onnxkit-app.json';

/** True when `child` is `parent` or inside it (absolute paths). */
function inside(parent: string, child: string): boolean {
  const rel = relative(parent, child);
  return rel === '' || (!isAbsolute(rel) && rel !== '..' && !rel.startsWith(`..${sep}`));
}

/**
 * The files of the previous build in `outDir` (relative paths from its manifest), to remove
 * before the copy; [] for a missing or empty folder. Anything else is refused: a folder with
 * other content (a web site with its own index.html), or not a folder.
 */
function previousBuild(outDir: string): string[] {
  let entries: string[];
  try {
    if (!statSync(outDir).isDirectory()) throw new CliError(`'${outDir}' is not a folder`, { hint: 'give a new or empty folder' });
    entries = readdirSync(outDir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
  if (entries.length === 0) return [];
  let listed: unknown;
  try {
    listed = entries.includes(APP_MANIFEST) ? (JSON.parse(readFileSync(join(outDir, APP_MANIFEST), 'utf8')) as { files?: unknown }).files : undefined;
  } catch {
    listed = undefined;
  }
  if (!Array.isArray(listed) || !listed.every((f): f is string => typeof f === 'string')) {
    throw new CliError(`refusing to write into '${outDir}': it is not empty and holds no previous app build (no ${APP_MANIFEST} written by onnxkit app)`, { hint: 'give a new or empty folder; an app built by an onnxkit older than the manifest is replaced once its folder is removed by hand' });
  }
  const root = realOrResolved(outDir);
  // (a manifest is data: a name leading out of the folder, by itself or through a symlinked
  // folder, is never removed)
  return listed.filter((f) => f !== '' && !isAbsolute(f) && resolve(root, f) !== root && inside(root, resolve(root, f)) && inside(root, realOrResolved(dirname(resolve(root, f)))));
}

/**
 * Copies the prebuilt app into `outDir`: a new or empty folder, or one holding a previous build,
 * whose files (as its manifest lists them) are removed first; other files are never touched.
 * Returns the files written.
 */
export function copyApp(outDir: string): string[] {
  const from = prebuiltApp();
  const src = realOrResolved(from);
  const out = realOrResolved(outDir);
  if (inside(src, out) || inside(out, src)) {
    throw new CliError(`refusing to write the app into '${outDir}': it is (or holds) the app's own prebuilt folder ${src}`, { hint: 'give another folder' });
  }
  const old = previousBuild(outDir);
  for (const f of old) {
    try {
      rmSync(join(outDir, f), { force: true });
    } catch {
      // Not a file any more (a folder in its place): left as it is.
    }
  }
  // The folders the old files were in, deepest first, when nothing else is left in them.
  const dirs = [...new Set(old.flatMap((f) => f.split('/').slice(0, -1).map((_, i, parts) => parts.slice(0, i + 1).join('/'))))].sort((a, b) => b.length - a.length);
  for (const d of dirs) {
    try {
      rmdirSync(join(outDir, d));
    } catch {
      // Not empty (someone's file) or gone: kept.
    }
  }
  rmSync(join(outDir, APP_MANIFEST), { force: true });
  ensureDir(outDir);
  cpSync(from, outDir, { recursive: true });
  const files = listFiles(from);
  writeFileAtomic(join(outDir, APP_MANIFEST), new TextEncoder().encode(JSON.stringify({ generator: 'onnxkit app', files }, null, 2) + '\n'));
  return files.map((f) => join(outDir, f));
}
