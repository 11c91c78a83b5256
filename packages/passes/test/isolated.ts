/**
 * Runs a snippet in a separate Node process on the TypeScript sources (the loader the fuzzer and
 * test/integration use), for regressions that used to hang: a synchronous infinite loop cannot
 * be interrupted inside the test process, but a child can be killed after a deadline and the
 * test fails with a clear message instead of blocking the suite.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
const LOADER = ['--conditions=source', '--import', join(ROOT, 'fuzz', 'ts-loader', 'register.mjs')];

export interface Isolated {
  /** The last line the snippet printed, parsed as JSON. */
  readonly result: unknown;
  readonly stderr: string;
}

/**
 * Runs `code` (an ES module; it must print one JSON line last) with a deadline meant to catch a
 * hang, not to time anything: a run over it is reported as "did not finish".
 */
export function runIsolated(code: string, deadlineMs = 90_000): Isolated {
  const r = spawnSync(process.execPath, [...LOADER, '--input-type=module', '-e', code], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: deadlineMs,
    maxBuffer: 64 << 20,
  });
  if (r.error || r.signal) throw new Error(`the snippet did not finish within ${deadlineMs / 1000} s (${r.signal ?? r.error?.message}); stderr: ${r.stderr.slice(-2000)}`);
  if (r.status !== 0) throw new Error(`the snippet exited with ${r.status}: ${r.stderr.slice(-4000)}`);
  const last = r.stdout.trim().split('\n').pop() ?? '';
  return { result: JSON.parse(last) as unknown, stderr: r.stderr };
}
