// Shared helpers for `pnpm bench`. Benchmarks print ratios against a baseline measured in the
// same run (reading the file, memcpy, Python onnx.load, onnxsim, onnxruntime's optimizer), never
// absolute claims: this machine is shared and noisy. Timings never go into unit tests.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { save } from '@onnxkit/importer';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
/** Generated models (zoo exports, synthetic graphs) are cached here between runs (gitignored). */
export const CACHE = join(ROOT, '.bench-cache');
mkdirSync(CACHE, { recursive: true });

/**
 * What to import for package `name` (graph, importer, passes, zoo) of the build at `root`: this
 * checkout's workspace package, or another built checkout's `dist/<entry>` (`--root DIR` of the
 * benches that compare two builds; `index.bundle.js` is the package as one file).
 */
export function builtPackage(root, name, entry = 'index.js') {
  return root === ROOT ? `@onnxkit/${name}` : join(root, `packages/${name}/dist/${entry}`);
}

/** The path of `name` in CACHE, holding the model `build()` returns: built and saved on the first run only. */
export function cached(name, build) {
  const p = join(CACHE, name);
  if (!existsSync(p)) save(build(), p);
  return p;
}

/** The median of `xs` (the upper middle of an even count). */
export function median(xs) {
  return [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
}

/** CPU seconds (user + system) of this process's waited-for children, from /proc (Linux). */
export function childrenCpu() {
  const fields = readFileSync('/proc/self/stat', 'utf8').split(') ')[1].split(' ');
  return (Number(fields[13]) + Number(fields[14])) / 100; // cutime, cstime in clock ticks
}

/** CPU milliseconds (user + system, all threads: GC helpers count) this process has used; subtract two readings. */
export function cpuMs() {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

/**
 * Median wall and CPU milliseconds of `fn` (sync or async) over `runs` calls after `warmup`
 * untimed ones, and the mean CPU time, which spreads the full collections that free earlier
 * results over the runs (a median of a few runs swings by ±10% with whether one lands in it).
 */
export async function timeCpu(fn, { runs = 15, warmup = 0 } = {}) {
  for (let i = 0; i < warmup; i++) await fn();
  const wall = [];
  const cpu = [];
  for (let i = 0; i < runs; i++) {
    const c0 = cpuMs();
    const t0 = performance.now();
    await fn();
    wall.push(performance.now() - t0);
    cpu.push(cpuMs() - c0);
  }
  return { wall: median(wall), cpu: median(cpu), cpuMean: cpu.reduce((a, b) => a + b, 0) / cpu.length };
}

/**
 * Times `fn` (sync or async): `warmup` untimed calls, then `runs` timed ones.
 * Returns the median, min and all samples in milliseconds.
 */
export async function time(fn, { runs = 7, warmup = 1 } = {}) {
  for (let i = 0; i < warmup; i++) await fn();
  const samples = [];
  for (let i = 0; i < runs; i++) {
    globalThis.gc?.();
    const t0 = performance.now();
    await fn();
    samples.push(performance.now() - t0);
  }
  return { median: median(samples), min: Math.min(...samples), samples };
}

/** Times A and B interleaved (A B A B ...) so drift cancels; returns per-pair ratio stats. */
export async function timePair(fa, fb, { runs = 9, warmup = 1 } = {}) {
  for (let i = 0; i < warmup; i++) {
    await fa();
    await fb();
  }
  const a = [];
  const b = [];
  const ratios = [];
  for (let i = 0; i < runs; i++) {
    let t0 = performance.now();
    await fa();
    a.push(performance.now() - t0);
    t0 = performance.now();
    await fb();
    b.push(performance.now() - t0);
    ratios.push(b[i] / a[i]);
  }
  return { a: median(a), b: median(b), ratio: median(ratios) };
}

export function section(title) {
  console.log(`\n## ${title}`);
}

export function fmtMs(ms) {
  return ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(ms < 10 ? 2 : 1)} ms`;
}

/** Prints `label: value` lines aligned. */
export function row(label, value, note = '') {
  console.log(`  ${label.padEnd(58)} ${String(value).padStart(12)}${note ? `  ${note}` : ''}`);
}

/** Prints a ratio with its two operands and an optional target, e.g. "≤ 1.30". */
export function ratio(label, num, den, target) {
  const r = num / den;
  const t = target ? `  (target ${target.op} ${target.value}: ${target.op === '<=' ? (r <= target.value ? 'met' : 'MISSED') : r >= target.value ? 'met' : 'MISSED'})` : '';
  row(label, `${r.toFixed(2)}×`, `${fmtMs(num)} / ${fmtMs(den)}${t}`);
  return r;
}

/** Debian's python3 with onnx/torch, if installed; else null. */
export function systemPython(module = 'onnx') {
  const py = '/usr/bin/python3';
  if (!existsSync(py)) return null;
  try {
    execFileSync(py, ['-c', `import ${module}`], { stdio: 'ignore' });
    return py;
  } catch {
    return null;
  }
}

export function skip(label, why) {
  row(label, 'skipped', why);
}
