// The heap settings of `onnxkit optimize` (packages/cli/src/heap.ts) take effect when set from
// inside the process: each case runs the built module (dist, built by the global setup) in a fresh
// Node process, allocates ≈ 200 MB of short-lived objects and reads the young generation's size.
import { spawnSync } from 'node:child_process';
import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ROOT } from './helpers/cli.js';

const HEAP = pathToFileURL(join(ROOT, 'packages/cli/dist/heap.js')).href;
const MiB = 1024 * 1024;

/** Young generation bytes after a burst of allocation, in a process that called `tune(path)` first (or nothing). */
function youngAfterAllocation(tune: string): number {
  const script = `
    import { tuneHeapForModel, youngGenerationBytes } from ${JSON.stringify(HEAP)};
    ${tune}
    let keep = [];
    for (let i = 0; i < 2e6; i++) { keep.push({ a: i, b: [i] }); if (keep.length > 1000) keep = []; }
    process.stdout.write(String(youngGenerationBytes()));
  `;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 60_000 });
  expect(r.stderr).toBe('');
  return Number(r.stdout);
}

/**
 * Calls of a small function until V8 marks it for optimization (or optimizes it), in a fresh
 * process that called `tuneCompilerForGraph(nodes)` first (nothing for null), with `env`.
 */
function callsUntilTierUp(nodes: number | null, env: Record<string, string> = {}): number {
  const script = `
    import { tuneCompilerForGraph } from ${JSON.stringify(HEAP)};
    ${nodes === null ? '' : `tuneCompilerForGraph(${nodes});`}
    function hot(x) { return (x * 3 + 1) | 0; }
    function count() {
      let calls = 0;
      let s = 0;
      while (calls < 5e6) {
        for (let i = 0; i < 1000; i++) s += hot(i);
        calls += 1000;
        // Optimized, marked for optimization, or being optimized (V8's OptimizationStatus bits).
        if (%GetOptimizationStatus(hot) & (16 | 256 | 512 | 1024)) return calls;
      }
      return calls + (s & 0);
    }
    %NeverOptimizeFunction(count);
    process.stdout.write(String(count()));
  `;
  const { ONNXKIT_WRITE_CODE_CACHE: _, ...rest } = process.env;
  const r = spawnSync(process.execPath, ['--allow-natives-syntax', '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 60_000, env: { ...rest, ...env } });
  expect(r.stderr).toBe('');
  return Number(r.stdout);
}

describe('compiler settings for a small graph (issue 15: the 10k-node warm-up)', () => {
  it('makes V8 tier up later below SMALL_GRAPH_NODES, and only there, with Node 20\'s V8, outside the code-cache run', async () => {
    const { SMALL_GRAPH_NODES } = (await import(HEAP)) as { SMALL_GRAPH_NODES: number };
    const untouched = callsUntilTierUp(null);
    expect(untouched).toBeLessThan(1e6); // the default optimizes it: proves the count measures something
    const small = callsUntilTierUp(10_000);
    if (process.versions.v8.startsWith('11.3.')) expect(small).toBeGreaterThanOrEqual(4 * untouched);
    else expect(small).toBeLessThanOrEqual(2 * untouched);
    expect(callsUntilTierUp(SMALL_GRAPH_NODES)).toBeLessThanOrEqual(2 * untouched);
    // The build's code-cache run must end with V8's flags as every run starts with them (heap.ts).
    expect(callsUntilTierUp(10_000, { ONNXKIT_WRITE_CODE_CACHE: 'x' })).toBeLessThanOrEqual(2 * untouched);
  });
});

/** Bytes of ArrayBuffers after dropping a 16 MiB one and calling `collectImportGarbage(file, nodes)`. */
function arrayBuffersAfterImport(file: string, nodes: number, env: Record<string, string> = {}): number {
  const script = `
    import { collectImportGarbage } from ${JSON.stringify(HEAP)};
    let bytes = new Uint8Array(16 * 1024 * 1024);
    bytes[1] = 1;
    bytes = null;
    collectImportGarbage(${JSON.stringify(file)}, ${nodes});
    process.stdout.write(String(process.memoryUsage().arrayBuffers));
  `;
  const { ONNXKIT_WRITE_CODE_CACHE: _, ...rest } = process.env;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 60_000, env: { ...rest, ...env } });
  expect(r.stderr).toBe('');
  return Number(r.stdout);
}

describe('a collection after the import (issue 15: peak memory per node)', () => {
  it('frees the dead buffers of a graph of SMALL_GRAPH_NODES or more, not of a smaller one, nor in the code-cache run', async () => {
    const { SMALL_GRAPH_NODES } = (await import(HEAP)) as { SMALL_GRAPH_NODES: number };
    const dir = mkdtempSync(join(tmpdir(), 'onnxkit-heap-'));
    const file = join(dir, 'model.onnx');
    writeFileSync(file, new Uint8Array(1024));
    expect(arrayBuffersAfterImport(file, SMALL_GRAPH_NODES)).toBeLessThan(4 * MiB);
    expect(arrayBuffersAfterImport(file, SMALL_GRAPH_NODES - 1)).toBeGreaterThanOrEqual(16 * MiB);
    expect(arrayBuffersAfterImport(file, SMALL_GRAPH_NODES, { ONNXKIT_WRITE_CODE_CACHE: 'x' })).toBeGreaterThanOrEqual(16 * MiB);
  });
});

describe('heap settings for a model import (issue 15: peak memory per node)', () => {
  it('keeps the young generation at its start-up size for a small input, where V8 alone grows it to 32 MiB', () => {
    const dir = mkdtempSync(join(tmpdir(), 'onnxkit-heap-'));
    const small = join(dir, 'small.onnx');
    writeFileSync(small, new Uint8Array(1024));
    const untouched = youngAfterAllocation('');
    const tuned = youngAfterAllocation(`tuneHeapForModel(${JSON.stringify(small)});`);
    const stdin = youngAfterAllocation('tuneHeapForModel(null);');
    expect(untouched).toBeGreaterThanOrEqual(8 * MiB); // the default: proves the allocation grows it
    expect(tuned).toBeLessThanOrEqual(4 * MiB);
    expect(stdin).toBeLessThanOrEqual(4 * MiB);
  });
});
