import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

const FUZZ = 'fuzz/**/*.test.ts';

// Workspace packages resolve to their TypeScript sources through the "source" export
// condition, so tests never run against a stale dist/.
//
// Two groups run one after the other (sequence.groupOrder). The suite first, two files at a time
// even on a 2-core machine: most tests wait on child processes (the CLI, onnxruntime, Chromium),
// and vitest's default there (cores − 1 = one file at a time) left a core idle — a 2-core CI
// took ≈ 860 s of vitest, the sum of its files. Then the fuzzer alone: it fuzzes for a fixed
// time with two child processes, and its case count (the issue's ≥ 100,000) is what a second file
// beside it would take away (26,466 cases instead of 119,334 in a measured run).
export default defineConfig({
  resolve: { conditions: ['source'] },
  ssr: { resolve: { conditions: ['source'], externalConditions: ['source'] } },
  test: {
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 120_000,
    reporters: ['default', ['json', { outputFile: 'artifacts/vitest-results.json' }]],
    projects: [
      {
        extends: true,
        test: {
          name: 'suite',
          // The build the CLI tests spawn; the fuzzer runs its children from the sources (fuzz/ts-loader).
          globalSetup: ['test/global-setup.ts'],
          include: ['packages/*/test/**/*.test.ts', 'fixtures/**/*.test.ts', 'test/**/*.test.ts'],
          maxWorkers: Math.max(2, availableParallelism() - 1),
          sequence: { groupOrder: 0 },
        },
      },
      { extends: true, test: { name: 'fuzz', include: [FUZZ], maxWorkers: 1, sequence: { groupOrder: 1 } } },
    ],
  },
});
