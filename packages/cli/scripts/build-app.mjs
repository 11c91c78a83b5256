// Builds the browser app (packages/cli/app) into packages/cli/dist/app with Vite, through the
// compiled dist/app-build.js (run after `tsc -b`): the published package ships this folder, and
// `onnxkit serve` / `onnxkit app` only serve or copy it (no Vite at run time).
// `--if-stale`: skip the build when dist/app is newer than every source it is built from (the app,
// the report script, and the src/ of every workspace package), as the test setup calls it.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const pkg = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(pkg, 'dist', 'app');
const stamp = join(out, 'index.html');

function newest(dir) {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.name === 'node_modules' || e.name === 'dist') continue;
    const p = join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newest(p) : statSync(p).mtimeMs);
  }
  return t;
}

if (process.argv.includes('--if-stale') && existsSync(stamp)) {
  const packages = join(pkg, '..');
  const inputs = [join(pkg, 'app'), join(pkg, 'client'), join(pkg, 'dist', 'report'), ...readdirSync(packages).map((p) => join(packages, p, 'src')).filter((p) => existsSync(p))];
  const built = statSync(stamp).mtimeMs;
  if (inputs.every((d) => newest(d) < built)) process.exit(0);
}
const { buildApp } = await import(new URL('../dist/app-build.js', import.meta.url).href);
await buildApp(out);
