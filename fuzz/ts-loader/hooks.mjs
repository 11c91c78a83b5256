/**
 * Node module hooks that run onnxkit's TypeScript sources without a build: `.ts` files are
 * transpiled on load with TypeScript's `transpileModule` (types stripped, no type check), and a
 * relative `./x.js` import from a `.ts` file resolves to `./x.ts` when only the latter exists
 * (the sources import each other by their emitted `.js` names, as NodeNext requires).
 *
 * Used with `--conditions=source` (so `@onnxkit/*` resolve to `src/index.ts`, as in vitest) by
 * fuzz/run.mjs and by the integration tests that need a separate process. Registered by
 * ./register.mjs; see fuzz/README.md.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Transpiled files are cached by content hash (loading TypeScript and transpiling ~100 files costs seconds). */
const CACHE = fileURLToPath(new URL('../../node_modules/.cache/onnxkit-ts-loader/', import.meta.url));
const VERSION = '1';
let ts;

export async function resolve(specifier, context, nextResolve) {
  const parent = context.parentURL;
  if (parent !== undefined && parent.startsWith('file:') && parent.endsWith('.ts') && (specifier.startsWith('./') || specifier.startsWith('../')) && specifier.endsWith('.js')) {
    const url = new URL(specifier.slice(0, -3) + '.ts', parent);
    if (!existsSync(new URL(specifier, parent)) && existsSync(url)) return { url: url.href, format: 'module', shortCircuit: true };
  }
  return nextResolve(specifier, context);
}

export async function load(url, context, nextLoad) {
  if (!url.startsWith('file:') || !url.endsWith('.ts')) return nextLoad(url, context);
  const file = fileURLToPath(url);
  const source = await readFile(file, 'utf8');
  const key = createHash('sha1').update(VERSION).update(file).update('\0').update(source).digest('hex');
  const cached = join(CACHE, `${key}.js`);
  if (existsSync(cached)) return { format: 'module', source: readFileSync(cached, 'utf8'), shortCircuit: true };
  ts ??= (await import('typescript')).default;
  const out = ts.transpileModule(source, {
    fileName: file,
    compilerOptions: {
      module: ts.ModuleKind.ESNext,
      target: ts.ScriptTarget.ES2022,
      verbatimModuleSyntax: true,
      inlineSourceMap: true,
      inlineSources: false,
    },
  });
  try {
    // Written under a temporary name and renamed, so a concurrent run never reads half a file.
    mkdirSync(CACHE, { recursive: true });
    const tmp = `${cached}.${process.pid}.tmp`;
    writeFileSync(tmp, out.outputText);
    renameSync(tmp, cached);
  } catch {
    // A read-only checkout still works, only slower.
  }
  return { format: 'module', source: out.outputText, shortCircuit: true };
}
