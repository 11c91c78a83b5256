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
// (fixtures/resnet_tiny_bn: optimize quiet, plain and --json, inspect, analyze; all in one
// process), so the functions these commands compile lazily are in the cache too.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, isAbsolute, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'rolldown';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const DIST = join(ROOT, 'packages', 'cli', 'dist');
const BUNDLE = join(DIST, 'onnxkit.cjs');
const CACHE = `${BUNDLE}.cache`;

/**
 * Rewrites every non-ASCII character of the bundle as a \\u escape (in strings, templates,
 * regular expressions and comments alike; the bundle uses no raw template strings), so the
 * launcher reads it as latin1 into a one-byte string: a 1.5 MB source with a few arrows and
 * check marks would otherwise be decoded from UTF-8 into a two-byte string of twice the size
 * (≈ 3 ms of every start-up).
 */
function asciiOnly(file) {
  const source = readFileSync(file, 'utf8');
  if (source.includes('String.raw')) throw new Error(`${file}: uses raw template strings, whose text \\u escapes would change`);
  writeFileSync(file, source.replace(/[\u0080-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`));
}

/**
 * Newest compiled .js file of the packages the bundle holds, or this script if newer: a bundle
 * made by an older version of it (not ASCII-escaped, say, which the launcher's latin1 read needs)
 * is rebuilt.
 */
function newestInput() {
  let newest = statSync(fileURLToPath(import.meta.url)).mtimeMs;
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
        // commander (dist/commander.js, from scripts/bundle-libs.mjs) loads child_process when it
        // loads, ≈4 ms of every start-up, for executable subcommands, which onnxkit does not
        // have: it is loaded on first use instead.
        name: 'onnxkit-lazy-child-process',
        transform(code, id) {
          if (id !== join(DIST, 'commander.js')) return null;
          const eager = 'const childProcess = __require("node:child_process");';
          if (!code.includes(eager)) this.error(`${id}: expected ${eager} (commander or its bundling changed; update this plugin)`);
          return { code: code.replace(eager, 'const childProcess = { spawn: (...args) => __require("node:child_process").spawn(...args) };'), map: null };
        },
      },
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
  asciiOnly(BUNDLE);
  // Produce the code cache, in a fresh process (no V8 flags set): the commands people run most,
  // in the forms whose code differs (quiet, with progress lines, --json), on a small committed
  // model, one after another in that process, so the functions each compiles lazily are in the
  // cache. (From `optimize -q` alone, a plain or --json optimize of the 42-node model compiled its
  // progress, summary and JSON writers itself: ≈ 10–20 ms more CPU of ≈ 150.)
  const tmp = mkdtempSync(join(tmpdir(), 'onnxkit-code-cache-'));
  const model = join(ROOT, 'fixtures', 'resnet_tiny_bn', 'model.onnx');
  const runs = [
    ['optimize', model, '-o', join(tmp, 'quiet.onnx'), '-q'],
    ['optimize', model, '-o', join(tmp, 'plain.onnx')],
    ['optimize', model, '-o', join(tmp, 'json.onnx'), '--json'],
    ['inspect', model],
    ['inspect', model, '--json'],
    ['analyze', model],
    ['analyze', model, '--json'],
  ];
  try {
    execFileSync(process.execPath, [join(ROOT, 'packages', 'cli', 'bin', 'onnxkit.js')], {
      env: { ...process.env, ONNXKIT_WRITE_CODE_CACHE: CACHE, ONNXKIT_CODE_CACHE_RUNS: JSON.stringify(runs) },
      // The commands' reports are not the build's output; a failure's message is.
      stdio: ['ignore', 'ignore', 'pipe'],
    });
  } catch (e) {
    process.stderr.write(e.stderr ?? '');
    throw new Error(`producing the code cache ${CACHE} failed: ${e.message.split('\n')[0]}`);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  if (!existsSync(CACHE)) throw new Error(`producing the code cache ${CACHE} failed: no cache was written`);
}
