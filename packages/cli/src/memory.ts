/**
 * The memory budgets (@onnxkit/graph's MemoryBudget) every import and every analysis report of a
 * command gets: a share of V8's heap limit for this isolate (the process's, or a worker
 * thread's). An import leaves the rest for the work after it: `optimize` peaks at about twice
 * what its import holds (the 100k-node chains: ≈ 40 MB of heap after the import, ≈ 90 MB at the
 * peak). A model past a budget gets an IMPORT_TOO_LARGE or ANALYSIS_TOO_LARGE error that says how
 * to raise the limit, instead of V8's out-of-memory abort (a 60 MB file of 30 million empty
 * nodes: signal 6 after 24 s; `analyze --json` of 3 million Relu layers: after 75 s).
 */
import type { MemoryBudget } from '@onnxkit/graph';
import { getHeapStatistics } from 'node:v8';
import { fmtBytes } from './units.js';

/** The share of the heap limit an import may fill. */
export const IMPORT_HEAP_SHARE = 0.5;
/**
 * The share an analysis report may fill (a row per layer, ≈ 2.5 KB each): what is left is for
 * its text (a table row ≈ 90 bytes a layer; the JSON is written in pieces).
 */
export const ANALYSIS_HEAP_SHARE = 0.8;
/** The part of V8's heap_size_limit the young generation reserves (three 16 MiB semi-spaces in V8 11.3). */
const YOUNG_RESERVE_BYTES = 48 * 2 ** 20;

export function importMemory(): MemoryBudget {
  return heapBudget(IMPORT_HEAP_SHARE, 'a model takes about 1 KiB of it per node');
}

/** The budget of every analysis report (a row per layer). */
export function analysisMemory(): MemoryBudget {
  return heapBudget(ANALYSIS_HEAP_SHARE, 'an analysis takes about 3 KiB of it per layer');
}

/** A budget of `share` of V8's heap limit, measured by its used heap; `cost` says what takes it, for the hint. */
export function heapBudget(share: number, cost: string): MemoryBudget {
  const limit = getHeapStatistics().heap_size_limit;
  return {
    // (V8's limit includes the young generation's reserve, which the old generation cannot use:
    // with --max-old-space-size=160 the limit is 208 MiB, and the process died at 160 MiB used)
    limitBytes: Math.max(0, limit - YOUNG_RESERVE_BYTES) * share,
    usedBytes: () => getHeapStatistics().used_heap_size,
    // (fmtBytes, not toLocaleString: that sets up ICU, ≈ 10 ms and 6.5 MB of RSS in every command)
    hint: `Node's heap is limited to ${fmtBytes(limit)} here; give it more with NODE_OPTIONS=--max-old-space-size=<MiB>; ${cost}`,
  };
}
