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
