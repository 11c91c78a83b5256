// Lint config. Beyond style, it enforces the package import direction of DESIGN.md §1, so a
// wrong arrow between packages fails `pnpm lint` rather than a review.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const ours = ['graph', 'importer', 'passes', 'runtime', 'cli', 'zoo'];
// package -> packages of ours it may import
const allowed = {
  graph: [],
  importer: ['graph'],
  passes: ['graph'],
  zoo: ['graph'],
  runtime: ['graph', 'importer'],
  cli: ['graph', 'importer', 'passes', 'runtime', 'zoo'],
};
// Packages that must also run in a browser: no Node built-ins, no Node globals.
const browserSafe = new Set(['graph', 'passes', 'zoo']);

function restrictionsFor(pkg) {
  const patterns = [
    {
      group: ['**/packages/*/src/**', '../../*/src/**', '../../../*/src/**'],
      message: 'Import another package by its name (@onnxkit/...), never by a relative path into its sources.',
    },
  ];
  const forbidden = ours.filter((p) => p !== pkg && !allowed[pkg].includes(p));
  if (forbidden.length > 0) {
    patterns.push({
      group: forbidden.map((p) => `@onnxkit/${p}`),
      message: `packages/${pkg} may import only: ${allowed[pkg].join(', ') || 'nothing of ours'} (DESIGN.md §1).`,
    });
  }
  if (browserSafe.has(pkg)) {
    patterns.push({
      group: ['node:*', 'fs', 'path', 'os', 'worker_threads', 'child_process', 'crypto', 'url', 'util', 'stream', 'buffer'],
      message: `packages/${pkg} must run in a browser: no Node built-ins.`,
    });
  }
  if (pkg === 'graph') {
    patterns.push({ group: ['protobufjs', 'protobufjs/*', 'onnx-proto'], message: 'The IR knows nothing of protobuf.' });
  }
  if (pkg !== 'runtime') {
    patterns.push({ group: ['onnxruntime-node', 'onnxruntime-*'], message: 'Only packages/runtime touches onnxruntime.' });
  }
  return patterns;
}

export default tseslint.config(
  { ignores: ['**/dist/**', '**/node_modules/**', 'out/**', 'artifacts/**', 'coverage/**', 'fixtures/large/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: {
        console: 'readonly', process: 'readonly', Buffer: 'readonly', URL: 'readonly',
        TextEncoder: 'readonly', TextDecoder: 'readonly', performance: 'readonly',
        setTimeout: 'readonly', clearTimeout: 'readonly', setInterval: 'readonly', clearInterval: 'readonly',
        setImmediate: 'readonly', queueMicrotask: 'readonly', structuredClone: 'readonly',
        SharedArrayBuffer: 'readonly', Atomics: 'readonly', globalThis: 'readonly', AbortController: 'readonly',
      },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-constant-condition': ['error', { checkLoops: false }],
      eqeqeq: ['error', 'always', { null: 'ignore' }],
    },
  },
  {
    // Spreading an array into a call puts every element on the stack: a model-sized array (150k
    // table rows, node inputs, graphs) overflows it ("Maximum call stack size exceeded", issue 13).
    // Loop or reduce instead; a call with a fixed handful of arguments may disable this per line.
    files: ['packages/*/src/**/*.ts'],
    rules: {
      'no-restricted-syntax': [
        'error',
        { selector: 'CallExpression > SpreadElement', message: 'No spread into a call (a model-sized array overflows the stack): use a loop or reduce.' },
      ],
    },
  },
  ...ours.map((pkg) => ({
    files: [`packages/${pkg}/src/**/*.ts`],
    rules: {
      'no-restricted-imports': ['error', { patterns: restrictionsFor(pkg) }],
      ...(browserSafe.has(pkg)
        ? { 'no-restricted-globals': ['error', 'process', 'Buffer', 'require', '__dirname', '__filename', 'setImmediate'] }
        : {}),
      // Library code reports through return values and diagnostics, never the console.
      ...(pkg !== 'cli' ? { 'no-console': 'error' } : {}),
    },
  })),
  {
    // A CLI command never imports another command (issue 15.4): what two commands share lives in
    // a module beside them (options.ts, ui.ts, units.ts, pipeline.ts, …), so each command stays a
    // leaf that program.ts loads only when it runs.
    files: ['packages/cli/src/commands/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            ...restrictionsFor('cli'),
            { group: ['./*', '../commands/*', '../program.js'], message: 'a command does not import another command (or the program that wires them): move what they share into a module beside them (options.ts, ui.ts, units.ts, …).' },
          ],
        },
      ],
    },
  },
  {
    // Inside passes, the op declarations (ops/) and their kernels (kernels/, the float64 reference
    // kernels in kernels/reference/) sit below what reads them: the analyses, the rewrites, the
    // quantizer (quantize/) and the reference evaluator's engine (reference/) import ops/, never
    // the reverse.
    files: ['packages/passes/src/ops/**/*.ts', 'packages/passes/src/kernels/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            ...restrictionsFor('passes'),
            {
              group: [
                ...['../', '../../'].flatMap((up) => [`${up}rewrite/*`, `${up}reference/*`, `${up}quantize/*`, `${up}analysis/*`, `!${up}analysis/inference-types.js`]),
              ],
              message: 'ops/ and kernels/ are below the analyses, rewrites, quantizer and reference evaluator: declare there, read from there (README "Adding an operator").',
            },
          ],
        },
      ],
    },
  },
);
