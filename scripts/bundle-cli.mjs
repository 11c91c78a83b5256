// Builds the `onnxkit` command as one CommonJS file, packages/cli/dist/onnxkit.cjs, and a V8 code
// cache for it, dist/onnxkit.cjs.cache, which bin/onnxkit.js loads through vm.Script. Why: Node 20
// has no compile cache for ES modules, and parsing + compiling the CLI and its libraries was
// about a third of a small `onnxkit optimize`'s CPU time. V8 refuses a cache made by another V8
// version or with other flags (cachedDataRejected); the launcher then compiles the bundle as
// usual, and without the bundle it imports the ES modules (dist/bin.js) as before.
//
// The bundle holds the CLI (dist/start.js and every command it imports, dynamic imports inlined)
// and the compiled @onnxkit libraries, so each class exists once. Only Node built-ins and
// third-party packages the CLI loads on demand (vite) stay outside. `import.meta.url` is
// rewritten per module into the URL of the module's own compiled file, so paths made from it
// (runtime's onnxruntime child, the report's client script, package.json) still resolve.
//
// The cache is produced by running the bundle on a small committed model
// (fixtures/resnet_tiny_bn: import, the default pipeline, shape inference, save), so the
// functions a typical optimize compiles lazily are in the cache too.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, isAbsolute, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'rolldown';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const DIST = join(ROOT, 'packages', 'cli', 'dist');
const BUNDLE = join(DIST, 'onnxkit.cjs');
const CACHE = `${BUNDLE}.cache`;

/** Newest compiled .js file of the packages the bundle holds. */
function newestInput() {
  let newest = 0;
  const walk = (dir) => {
    if (!existsSync(dir)) return;
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.js')) newest = Math.max(newest, statSync(p).mtimeMs);
    }
  };
  for (const pkg of ['cli', 'graph', 'importer', 'passes', 'runtime', 'zoo']) walk(join(ROOT, 'packages', pkg, 'dist'));
  return newest;
}

const upToDate = existsSync(BUNDLE) && existsSync(CACHE) && statSync(BUNDLE).mtimeMs >= newestInput();
if (!upToDate) {
  rmSync(CACHE, { force: true });
  await build({
    input: join(DIST, 'start.js'),
    // Bare imports other than our own packages (node: built-ins, vite) stay outside.
    external: (id) => !id.startsWith('.') && !isAbsolute(id) && !id.startsWith('@onnxkit/') && !id.startsWith('\0'),
    platform: 'node',
    logLevel: 'warn',
    plugins: [
      {
        name: 'onnxkit-import-meta-url',
        transform(code, id) {
          if (!code.includes('import.meta.url')) return null;
          const rel = relative(DIST, id).split('\\').join('/');
          return { code: code.replaceAll('import.meta.url', `__onnxkitUrl(${JSON.stringify(rel)})`), map: null };
        },
      },
    ],
    output: {
      file: BUNDLE,
      format: 'cjs',
      codeSplitting: false,
      sourcemap: false,
      // The first line names this build; the cache file starts with the same line, so a cache
      // from another build of the bundle is never used (mtimes do not survive npm pack).
      banner: `// onnxkit-build ${randomBytes(16).toString('hex')}\nconst __onnxkitUrl = (rel) => require('node:url').pathToFileURL(require('node:path').join(__dirname, rel)).href;`,
    },
  });
  // Produce the code cache: one optimize of a small model, in a fresh process (no V8 flags set).
  const tmp = mkdtempSync(join(tmpdir(), 'onnxkit-code-cache-'));
  try {
    execFileSync(process.execPath, [join(ROOT, 'packages', 'cli', 'bin', 'onnxkit.js'), 'optimize', join(ROOT, 'fixtures', 'resnet_tiny_bn', 'model.onnx'), '-o', join(tmp, 'out.onnx'), '-q'], {
      env: { ...process.env, ONNXKIT_WRITE_CODE_CACHE: CACHE },
      stdio: 'inherit',
    });
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}
