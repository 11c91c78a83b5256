// Builds the browser scripts of the HTML outputs: packages/cli/client/report.ts (the report) and
// client/batch.ts (the batch summary's sortable table), type-checked by `pnpm typecheck` through
// client/tsconfig.json and linted, → dist/report/client.js and dist/report/batch.js, each one
// classic script (an IIFE) that src/report/client-script.ts reads and the page inlines.
//
// A real bundle step (rolldown, already the CLI bundler: scripts/bundle-cli.mjs): the report
// script imports the CLI's own formats (src/units.ts, src/report/format.ts) and the report's JSON
// types (src/report/types.ts) instead of copies, and the bundle inlines them. Type-only imports
// vanish; a run-time import of anything but those browser-safe modules is refused below.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { rolldown } from 'rolldown';

const pkg = join(dirname(fileURLToPath(import.meta.url)), '..');
/** The modules a browser script may bundle: the client itself and these (no Node API in them). */
const BROWSER_SAFE = new Set(['client/report.ts', 'client/batch.ts', 'src/units.ts', 'src/report/format.ts', 'src/report/types.ts']);

for (const [source, name] of [['report.ts', 'client.js'], ['batch.ts', 'batch.js']]) {
  const bundle = await rolldown({
    input: join(pkg, 'client', source),
    platform: 'browser',
    // Anything outside the package (a bare import such as node:fs or @onnxkit/passes at run time) fails the build.
    external: () => false,
    plugins: [
      {
        name: 'onnxkit-browser-safe',
        load(id) {
          const rel = relative(pkg, id).split('\\').join('/');
          if (!BROWSER_SAFE.has(rel)) throw new Error(`build-client: client/${source} bundles ${rel}, which is not on the browser-safe list (scripts/build-client.mjs)`);
          return null;
        },
      },
    ],
  });
  const { output } = await bundle.generate({ format: 'iife', minify: false, comments: { legal: false, annotation: false, jsdoc: true } });
  await bundle.close();
  const js = output[0].code.trimEnd() + '\n';
  mkdirSync(join(pkg, 'dist', 'report'), { recursive: true });
  // Unchanged output keeps its mtime, so build-app.mjs --if-stale does not rebuild the app for nothing.
  const target = join(pkg, 'dist', 'report', name);
  if (!existsSync(target) || readFileSync(target, 'utf8') !== js) writeFileSync(target, js);
}
