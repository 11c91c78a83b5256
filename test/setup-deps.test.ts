// scripts/setup-test-deps.sh, which `pnpm test` runs first: silent when everything is there;
// without root, stops at once (exit 1) and prints the one command that installs what is missing.
// The "missing" case runs a copy whose Chromium path points nowhere, as an unprivileged user.
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const SCRIPT = join(ROOT, 'scripts', 'setup-test-deps.sh');
const isRoot = process.getuid?.() === 0;
const hasSetpriv = spawnSync('sh', ['-c', 'command -v setpriv'], { encoding: 'utf8' }).status === 0;

describe('scripts/setup-test-deps.sh', () => {
  it('exits 0 without output when the test dependencies are installed', () => {
    const r = spawnSync('sh', [SCRIPT], { encoding: 'utf8', timeout: 30_000 });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it.runIf(isRoot && hasSetpriv)('as a non-root user with a package missing: exit 1 at once and the one apt-get command', () => {
    const dir = mkdtempSync(join(tmpdir(), 'onnxkit-setup-'));
    chmodSync(dir, 0o755);
    const copy = join(dir, 'setup.sh');
    writeFileSync(copy, readFileSync(SCRIPT, 'utf8').replaceAll('/usr/bin/chromium', '/nonexistent/chromium'));
    chmodSync(copy, 0o755);
    const t0 = performance.now();
    const r = spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', 'sh', copy], { encoding: 'utf8', timeout: 30_000 });
    expect(r.status).toBe(1);
    expect(r.stderr.trim().split('\n')).toEqual([
      'setup-test-deps: the tests need chromium; install them with:',
      '  sudo apt-get update && sudo apt-get install -y --no-install-recommends chromium',
    ]);
    expect(performance.now() - t0).toBeLessThan(10_000); // "at once": no network, no apt-get run
  });

  it('is what pnpm test runs first', () => {
    const scripts = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).scripts;
    expect(scripts.test).toBe('sh scripts/setup-test-deps.sh && vitest run');
  });
});
