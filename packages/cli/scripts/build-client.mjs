// Builds the report's browser script: packages/cli/client/report.ts (type-checked by
// `pnpm typecheck` through client/tsconfig.json) → dist/report/client.js, one classic script
// that src/report/client-script.ts reads and the report inlines. The client is a single module
// with type-only imports, so compiling it with TypeScript is the whole bundle step.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const pkg = join(dirname(fileURLToPath(import.meta.url)), '..');
const source = readFileSync(join(pkg, 'client', 'report.ts'), 'utf8');
const out = ts.transpileModule(source, {
  fileName: 'report.ts',
  reportDiagnostics: true,
  compilerOptions: { target: ts.ScriptTarget.ES2020, module: ts.ModuleKind.ESNext, removeComments: false },
});
if (out.diagnostics?.length) {
  console.error(ts.formatDiagnostics(out.diagnostics, { getCanonicalFileName: (f) => f, getCurrentDirectory: () => pkg, getNewLine: () => '\n' }));
  process.exit(1);
}
// A classic <script>, not a module: drop the `export {}` that only marks the file as a module.
const js = out.outputText.replace(/^export \{\};?\s*$/m, '').trimEnd() + '\n';
if (/^\s*(import|export)\s/m.test(js)) {
  console.error('build-client: the report script must not import or export at run time');
  process.exit(1);
}
mkdirSync(join(pkg, 'dist', 'report'), { recursive: true });
// Unchanged output keeps its mtime, so build-app.mjs --if-stale does not rebuild the app for nothing.
const target = join(pkg, 'dist', 'report', 'client.js');
if (!existsSync(target) || readFileSync(target, 'utf8') !== js) writeFileSync(target, js);
