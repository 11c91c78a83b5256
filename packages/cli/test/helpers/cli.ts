/**
 * The real `onnxkit` binary (bin/onnxkit.js → dist, built by the global setup) in a child
 * process, and the CLI's failure contract, for the end-to-end tests.
 */
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..');
export const BIN = join(ROOT, 'packages', 'cli', 'bin', 'onnxkit.js');
/** A small ResNet with BatchNorm (fixtures/resnet_tiny_bn). */
export const FIXTURE = join(ROOT, 'fixtures', 'resnet_tiny_bn', 'model.onnx');

export interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  /** Variables over the process's own (NO_COLOR and FORCE_COLOR are empty unless set here). */
  env?: Record<string, string>;
  /** Bytes or text for stdin. */
  input?: string | Buffer;
  /** Milliseconds before the child is killed (120 s unless set). */
  timeout?: number;
}

/** Runs `onnxkit ARGS` in `cwd`; `defaults` apply to every call, a call's own options over them. */
export function cliRunner(cwd: string, defaults: RunOptions = {}): (args: string[], options?: RunOptions) => Run {
  return (args, options = {}) => {
    const input = options.input ?? defaults.input;
    const r = spawnSync(process.execPath, [BIN, ...args], {
      cwd,
      encoding: 'utf8',
      env: { ...process.env, NO_COLOR: '', FORCE_COLOR: '', ...defaults.env, ...options.env },
      timeout: options.timeout ?? defaults.timeout ?? 120_000,
      ...(input !== undefined ? { input } : {}),
    });
    return { code: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
  };
}

/** The CLI's failure contract: no signal, exit `code`, one line on stderr ("onnxkit: …"), no stack trace. */
export function expectOneLineError(r: Run, code: number, pattern: RegExp): void {
  expect(r.signal).toBeNull();
  expect(r.code, r.stderr).toBe(code);
  // Progress lines (one per finished step when stderr is not a terminal) may come first.
  const lines = r.stderr.trim().split('\n').filter((l) => !l.startsWith('✔ '));
  expect(lines, r.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(/^onnxkit: /);
  expect(lines[0]).toMatch(pattern);
  expect(r.stderr).not.toMatch(/\n\s+at .+:\d+:\d+/);
}
