// The launcher (bin/onnxkit.js) runs the command as one CommonJS bundle compiled with the V8 code
// cache the build made (scripts/bundle-cli.mjs). V8 refuses a cache made with other V8 flags, so a
// flag set at run time during the build's cache-producing run (optimize's heap flags) silently
// cost every command its cache; these cases fail if the cache is not used.
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cliRunner, FIXTURE, ROOT } from './helpers/cli.js';

const tmp = mkdtempSync(join(tmpdir(), 'onnxkit-bundle-'));
const onnxkit = cliRunner(tmp, { env: { ONNXKIT_DEBUG_CODE_CACHE: '1' } });

describe('the code-cached CLI bundle', () => {
  it('is loaded with the build\'s code cache by optimize (which sets heap flags) and by other commands', () => {
    // The build makes the cache in one process running several commands (optimize in three forms,
    // inspect, analyze): each must leave V8's flags as a fresh process has them.
    const commands = [
      ['optimize', FIXTURE, '-o', join(tmp, 'o.onnx'), '-q'],
      ['optimize', FIXTURE, '-o', join(tmp, 'j.onnx'), '--json'],
      ['optimize', FIXTURE, '-o', join(tmp, 'p.onnx')],
      ['inspect', FIXTURE],
      ['analyze', FIXTURE, '--json'],
      ['--version'],
    ];
    for (const args of commands) {
      const r = onnxkit(args);
      expect(r.code, args[0]).toBe(0);
      expect(r.stderr, args[0]).toContain('onnxkit: code cache used');
    }
  });

  it('a failing command of the build\'s cache run fails that run and writes no cache', () => {
    const cache = join(ROOT, 'packages', 'cli', 'dist', 'onnxkit.cjs.cache');
    const before = statSync(cache).mtimeMs;
    const runs = [['inspect', FIXTURE], ['inspect', join(tmp, 'missing.onnx')]];
    const r = onnxkit([], { env: { ONNXKIT_WRITE_CODE_CACHE: cache, ONNXKIT_CODE_CACHE_RUNS: JSON.stringify(runs) } });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`the code-cache run \`onnxkit inspect ${join(tmp, 'missing.onnx')}\` failed (exit code 2)`);
    expect(statSync(cache).mtimeMs).toBe(before);
  });

  it('a quiet optimize loads none of the built-ins only other commands or a terminal need (tty, net, child_process, http, worker_threads)', () => {
    // Each costs milliseconds of every start-up (tty and net bring Node's socket streams); the
    // launcher loads them on first use, and stdout/stderr are created only when written to.
    const preload = join(tmp, 'modules.cjs');
    writeFileSync(preload, "process.on('exit', () => require('node:fs').writeSync(2, 'modules: ' + process.moduleLoadList.join(',') + '\\n'));\n");
    const r = onnxkit(['optimize', FIXTURE, '-o', join(tmp, 'q.onnx'), '-q'], { env: { NODE_OPTIONS: `--require ${preload}` } });
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('onnxkit: code cache used');
    const loaded = new Set(/modules: (.*)/.exec(r.stderr)![1]!.split(',').filter((m) => m.startsWith('NativeModule ')).map((m) => m.slice('NativeModule '.length)));
    expect(loaded.has('vm')).toBe(true);
    for (const m of ['tty', 'net', 'child_process', 'http', 'worker_threads']) expect(loaded.has(m), m).toBe(false);
    // Not quiet, the same command writes to stdout and stderr as before.
    const loud = onnxkit(['optimize', FIXTURE, '-o', join(tmp, 'l.onnx')]);
    expect(loud.code).toBe(0);
    expect(loud.stdout).toContain('before → after');
  });

  it('gives the same output as the ES modules (ONNXKIT_NO_BUNDLE=1)', () => {
    const bundled = onnxkit(['analyze', FIXTURE, '--json']);
    const plain = onnxkit(['analyze', FIXTURE, '--json'], { env: { ONNXKIT_NO_BUNDLE: '1' } });
    expect(bundled.code).toBe(0);
    expect(plain.code).toBe(0);
    expect(plain.stderr).not.toContain('code cache');
    const strip = (s: string) => s.replace(/"(timeMs|ms|measuredAt)":\s*[^,\n]+/g, '"$1": 0');
    expect(strip(bundled.stdout)).toBe(strip(plain.stdout));
  });

  it('optimizes to the same bytes as the ES modules, with the V8 compiler flags the launcher sets for optimize', () => {
    const bundled = onnxkit(['optimize', FIXTURE, '-o', join(tmp, 'bundled.onnx'), '-q']);
    const plain = onnxkit(['optimize', FIXTURE, '-o', join(tmp, 'plain.onnx'), '-q'], { env: { ONNXKIT_NO_BUNDLE: '1' } });
    expect(bundled.code, bundled.stderr).toBe(0);
    expect(plain.code, plain.stderr).toBe(0);
    expect(readFileSync(join(tmp, 'bundled.onnx')).equals(readFileSync(join(tmp, 'plain.onnx')))).toBe(true);
  });
});
