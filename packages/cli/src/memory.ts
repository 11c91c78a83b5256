/**
 * The memory budget every import of a command gets (the importer's MemoryBudget): a share of V8's
 * heap limit for this isolate (the process's, or a worker thread's). The rest is for the work
 * after the import: `optimize` peaks at about twice what its import holds (the 100k-node chains:
 * ≈ 40 MB of heap after the import, ≈ 90 MB at the peak). A model past the budget gets an
 * IMPORT_TOO_LARGE error that says how to raise the limit, instead of V8's out-of-memory abort
 * (a 60 MB file of 30 million empty nodes: signal 6 after 24 s, with V8's 4 GiB default here).
 */
import type { MemoryBudget } from '@onnxkit/importer';
import { getHeapStatistics } from 'node:v8';
import { fmtBytes } from './units.js';

/** The share of the heap limit an import may fill. */
export const IMPORT_HEAP_SHARE = 0.5;

export function importMemory(): MemoryBudget {
  const limit = getHeapStatistics().heap_size_limit;
  return {
    limitBytes: limit * IMPORT_HEAP_SHARE,
    usedBytes: () => getHeapStatistics().used_heap_size,
    // (fmtBytes, not toLocaleString: that sets up ICU, ≈ 10 ms and 6.5 MB of RSS in every command)
    hint: `Node's heap is limited to ${fmtBytes(limit)} here; give it more with NODE_OPTIONS=--max-old-space-size=<MiB>; a model takes about 1 KiB of it per node`,
  };
}
