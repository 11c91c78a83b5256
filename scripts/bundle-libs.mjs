// Bundles the compiled libraries the CLI commands load (@onnxkit/graph, importer, passes,
// runtime) into one ES module per entry, dist/<entry>.bundle.js, which their package.json
// `exports` name as the run-time entry. Why: Node 20 resolves, reads and compiles every file of an import graph one
// by one (no compile cache before Node 22), and `onnxkit optimize` loaded 175 files — 130 ms
// of CPU before any work, 100 of them from passes. One file per package cuts that to about 60
// ms. The per-file output of `tsc` stays in dist/ for the type declarations; tests import the
// TypeScript sources (the `source` condition) and are unaffected. Every bare import (other
// @onnxkit packages, onnxruntime-node, node: built-ins) stays external, so each class exists
// once. The bundles sit in dist/ itself, at the depth of the files they replace, so paths made
// from import.meta.url (runtime's onnxruntime child, ../worker/ort-child.mjs) still resolve.
// Incremental: a package is re-bundled only when a compiled file is newer than its bundle.
//
// Also commander: the CLI imports it through packages/cli/src/commander.ts (a re-export); its
// compiled file is replaced by one ES module holding commander and its typings' wrapper. Through
// Node's CommonJS loader commander was nine files and ≈5 ms of every command's start-up.
import { existsSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'rolldown';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

/** Package → its run-time entries (name → compiled file), as its package.json exports them. */
const PACKAGES = {
  graph: { index: 'index.js' },
  importer: { index: 'index.js', codec: 'codec.js' },
  passes: { index: 'index.js' },
  runtime: { index: 'index.js', start: 'start.js', options: 'options.js' },
};

const isBundleFile = (name) => name.endsWith('.bundle.js') || name.startsWith('bundle-chunk-');

function newestMtime(dir) {
  let newest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) newest = Math.max(newest, newestMtime(p));
    else if (e.name.endsWith('.js') && !isBundleFile(e.name)) newest = Math.max(newest, statSync(p).mtimeMs);
  }
  return newest;
}

for (const [name, entries] of Object.entries(PACKAGES)) {
  const dist = join(ROOT, 'packages', name, 'dist');
  const stamp = join(dist, 'index.bundle.js');
  if (existsSync(stamp) && statSync(stamp).mtimeMs >= newestMtime(dist)) continue;
  for (const f of readdirSync(dist)) if (isBundleFile(f)) rmSync(join(dist, f));
  await build({
    input: Object.fromEntries(Object.entries(entries).map(([k, f]) => [k, join(dist, f)])),
    external: (id) => !id.startsWith('.') && !isAbsolute(id),
    platform: 'node',
    logLevel: 'warn',
    output: { dir: dist, format: 'esm', entryFileNames: '[name].bundle.js', chunkFileNames: 'bundle-chunk-[hash].js', sourcemap: false },
  });
}

// commander → packages/cli/dist/commander.js, unless that file is already the bundle (tsc
// rewrites it as the one-line re-export only when src/commander.ts changes).
const cliCommander = join(ROOT, 'packages', 'cli', 'dist', 'commander.js');
if (existsSync(cliCommander) && readFileSync(cliCommander, 'utf8').includes("from '@commander-js/extra-typings'")) {
  await build({
    input: { commander: '@commander-js/extra-typings' },
    cwd: join(ROOT, 'packages', 'cli'),
    external: (id) => id.startsWith('node:'),
    platform: 'node',
    logLevel: 'warn',
    output: { dir: dirname(cliCommander), format: 'esm', entryFileNames: '[name].js', sourcemap: false },
  });
  rmSync(`${cliCommander}.map`, { force: true }); // tsc's map of the re-export, wrong for the bundle
}
