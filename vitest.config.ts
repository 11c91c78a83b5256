import { chmodSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { defineConfig } from 'vitest/config';

const FUZZ = 'fuzz/**/*.test.ts';

// Every temporary file of a test run goes into one folder, removed when the run ends. The tests
// make their folders with mkdtemp(os.tmpdir()) and most never removed them: a CI run left ≈ 1 GB
// in /tmp (a shared machine's disk filled after ≈ 70 runs: 54 GB of onnxkit-* folders, and the
// next run's tests failed with "no space left on the device"). TMPDIR is what os.tmpdir() reads,
// in this process and in every worker and child it starts (the CLI, onnxruntime's child, Chromium).
// Set once (the workers inherit the variable and do not make their own). A run killed before its
// exit handler (or whose folder something wrote into after it) leaves its folder: the next run
// removes those of processes that no longer exist (the folder is named after the run's pid).
if (process.env.ONNXKIT_TEST_TMP === undefined) {
  const parent = tmpdir();
  for (const name of readdirSync(parent)) {
    const pid = /^onnxkit-test-run-(\d+)-/.exec(name)?.[1];
    if (pid !== undefined && !alive(Number(pid))) rmSync(join(parent, name), { recursive: true, force: true });
  }
  const runDir = mkdtempSync(join(parent, `onnxkit-test-run-${process.pid}-`));
  // The modes of the folder it stands for (sticky, everyone may create): a test that drops to
  // another user (setup-deps.test.ts, as 'nobody') reads and writes below it as it did in /tmp.
  chmodSync(runDir, 0o1777);
  process.env.ONNXKIT_TEST_TMP = runDir;
  process.env.TMPDIR = runDir;
  process.on('exit', () => rmSync(runDir, { recursive: true, force: true }));
}

/**
 * Whether process `pid` exists (signal 0 tests without sending; EPERM: it exists, not ours). The
 * importer's atomic-write.ts has the same test for its temporary files, not exported; this file is
 * loaded before the test run builds the packages, so it cannot import them.
 */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

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
