// Bundles the compiled libraries that every CLI command loads (@onnxkit/graph, importer,
// passes) into one ES module each, dist/bundle/, which their package.json `exports` name as the
// run-time entry. Why: Node 20 resolves, reads and compiles every file of an import graph one
// by one (no compile cache before Node 22), and `onnxkit optimize` loaded 175 files — 130 ms
// of CPU before any work, 100 of them from passes. One file per package cuts that to about 60
// ms. The per-file output of `tsc` stays in dist/ for the type declarations; tests import the
// TypeScript sources (the `source` condition) and are unaffected; other @onnxkit packages stay
// external, so each class exists once. Incremental: a package is re-bundled only when a file of
// its dist/ is newer than its bundle.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'rolldown';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

/** Package → its run-time entries (name → compiled file), as its package.json exports them. */
const PACKAGES = {
  graph: { index: 'index.js' },
  importer: { index: 'index.js', codec: 'codec.js' },
  passes: { index: 'index.js' },
};

function newestMtime(dir, skip) {
  let newest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (p === skip) continue;
    if (e.isDirectory()) newest = Math.max(newest, newestMtime(p, skip));
    else if (e.name.endsWith('.js')) newest = Math.max(newest, statSync(p).mtimeMs);
  }
  return newest;
}

for (const [name, entries] of Object.entries(PACKAGES)) {
  const dist = join(ROOT, 'packages', name, 'dist');
  const out = join(dist, 'bundle');
  const stamp = join(out, 'index.js');
  if (existsSync(stamp) && statSync(stamp).mtimeMs >= newestMtime(dist, out)) continue;
  await build({
    input: Object.fromEntries(Object.entries(entries).map(([k, f]) => [k, join(dist, f)])),
    external: [/^@onnxkit\//, /^node:/],
    platform: 'node',
    logLevel: 'warn',
    output: { dir: out, format: 'esm', entryFileNames: '[name].js', chunkFileNames: '[name]-[hash].js', sourcemap: false },
  });
}
