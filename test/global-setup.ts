// Builds the packages once before the test run, so CLI tests can spawn the real `onnxkit`
// command (packages/cli/bin/onnxkit.js → dist) as users do. `tsc -b` is incremental: a no-op
// when dist is up to date.
import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export default function setup(): void {
  const root = join(dirname(fileURLToPath(import.meta.url)), '..');
  execFileSync(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-b', 'packages/cli/tsconfig.json'], { cwd: root, stdio: 'inherit' });
  // graph, importer and passes → one module each (their run-time entries; see the script).
  execFileSync(process.execPath, [join(root, 'scripts', 'bundle-libs.mjs')], { cwd: root, stdio: 'inherit' });
  // The report's browser script (packages/cli/client/report.ts) → packages/cli/dist/report/client.js.
  execFileSync(process.execPath, [join(root, 'packages', 'cli', 'scripts', 'build-client.mjs')], { cwd: root, stdio: 'inherit' });
  // The browser app → packages/cli/dist/app (what `onnxkit serve` and `onnxkit app` ship), only when a source changed.
  execFileSync(process.execPath, [join(root, 'packages', 'cli', 'scripts', 'build-app.mjs'), '--if-stale'], { cwd: root, stdio: 'inherit' });
  // The CLI as one code-cached CommonJS file (what bin/onnxkit.js runs), when a compiled file changed.
  execFileSync(process.execPath, [join(root, 'scripts', 'bundle-cli.mjs')], { cwd: root, stdio: 'inherit' });
}
