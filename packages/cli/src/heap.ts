/**
 * V8 heap settings for a command that loads a whole model (issue 15: peak memory per node of the
 * `onnxkit optimize` process). One home for them: the flags are set from inside the process
 * (`v8.setFlagsFromString`), before the import, because a user runs `onnxkit`, not
 * `node --max-semi-space-size=… onnxkit`.
 */
import { statSync } from 'node:fs';
import { getHeapSpaceStatistics, setFlagsFromString } from 'node:v8';

/**
 * For an input file of this size or more, V8 grows the heap by at most TIGHT_HEAP_GROWING_PERCENT
 * after each full collection instead of its default (up to 4× the live size when collecting is
 * cheap compared with the program's work). A rewrite pipeline turns every node it removes into
 * old-generation garbage: on a 1M-node chain (a 69 MB file) the default let the heap grow from
 * 342 MB live after the import to 1.5 GB without another full collection. With 20 % the peak RSS
 * is ≈ 0.93 GB (≈ 910–940 B per node over the baseline process, under the 1 KiB of issue 15; 30 %
 * gave ≈ 1.0 KiB, 50 % 1.09 KiB) for more full collections: about +30 % CPU at 1M nodes on this
 * machine (15–16 s → 19–23 s, noisy). The node count is not known before the import, whose own
 * collection sets the next limit, so the file size decides. Smaller inputs keep V8's default:
 * their peak is small anyway, and the collections would cost CPU for nothing — at 16 MiB the
 * 100k-node chain with a weight per block (a 29 MB file) paid +20 % CPU for 0–5 % less peak RSS
 * (three alternating runs of `optimize -q --json`: 4.5–4.8 s vs 3.7–3.9 s CPU), hence 64 MiB.
 */
export const TIGHT_HEAP_FILE_BYTES = 64 * 1024 * 1024;
const TIGHT_HEAP_GROWING_PERCENT = 20;

/**
 * Below TIGHT_HEAP_FILE_BYTES the young generation stays at the size it has when the command
 * starts (V8 starts it at 1 MiB per semi-space) instead of doubling up to 16 MiB per semi-space
 * under the import's allocation rate. Both semi-spaces are committed memory: 32 MiB of RSS that
 * no object of the model needs, on a 100k-node model ≈ 340 B per node of issue 15's 1 KiB.
 * `--max-semi-space-size` cannot be changed once the heap exists (measured: `setFlagsFromString`
 * of it at start-up leaves the new space growing to 32 MiB); the growth factor is read at each
 * growth, so setting it to 1 from inside the process holds the size. Measured on the 100k-node
 * chains (three alternating runs of `optimize -q`, medians): peak RSS 216 → 197 MiB (shared
 * weight, a 6.6 MB file) and 294 → 252 MiB (a weight per block, 29 MB), CPU +3–5 % (more, cheaper
 * scavenges); with `--json` (which keeps the change records and prints them) 291 → 237 MiB on the
 * first but 318 → 332 MiB on the second, whose last step (the report) finds more promoted garbage
 * not yet collected. Not with the tight heap growth of large inputs: on the 1M-node chains the small
 * young generation promotes more short-lived objects, each promotion brings the next full
 * collection of a ≈ 400 MB live heap nearer, and CPU rose 21 → 28 s (shared) and 34 → 46 s
 * (weighted) for 5 % less peak RSS (927 → 877 MiB, 1,544 → 1,487 MiB).
 */
const SEMI_SPACE_GROWTH_FACTOR = 1;

/**
 * The optimizing compiler (TurboFan, on a background thread) inlines callees of up to 115 bytes of
 * bytecode, 230 in all per function (a quarter of V8's defaults, 460 and 920), and does not peel
 * loops. TurboFan was most of the fixed cost that made a small optimize expensive per node: on a
 * 10k-node chain `optimize --json` spent ≈ 440 ms of CPU compiling ≈ 240 functions against
 * ≈ 310 ms on the main thread (≈ 940 ms against ≈ 1.35 s at 100k nodes), a few large functions
 * with much inlined into them (the rewrite session's #apply, Graph.uses) taking the most. Medians
 * of alternating runs of the whole process (CPU, 8 pairs): 10k nodes 0.80 → 0.65 s, 100k
 * 2.36 → 2.07 s, the background threads' share 440 → 290 and 940 → 660 ms, the main thread's
 * unchanged; 1M 19.7 → 19.6 s (4 runs each), 5 nodes 0.09 s both. Tried and not taken: no
 * inlining at all (10k −23 %, but 1M +14 %: the optimized code is slower), twice the tier-up
 * budget (--interrupt-budget; 10k −16 %, 100k +5 %). Set here, after the bundle is compiled: V8
 * keys a code cache to its flags, and the build's cache run sets none. Only flags V8 reads while
 * running may be set so: heap flags such as --single-threaded-gc or --no-parallel-marking are
 * fixed when the heap is made (V8 aborts in the next full collection when they change).
 * Measured with Node 20's V8 (11.3) and set only there: another V8 may tune its compiler
 * otherwise, or not know a flag (it would print an error at every optimize).
 */
const OPTIMIZER_FLAGS = '--max-inlined-bytecode-size=115 --max-inlined-bytecode-size-cumulative=230 --no-turbo-loop-peeling';

/** Size of a file, or 0 when it cannot be read (the import then says why). */
function sizeOnDisk(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}

/**
 * Sets V8's heap and compiler flags for loading and rewriting the model at `path` (`null` for
 * stdin, whose size is not known up front). Call before the import: V8 sets the next full
 * collection's limit after each one, the import's too.
 */
export function tuneHeapForModel(path: string | null): void {
  // The build's code-cache run (bin/onnxkit.js with ONNXKIT_WRITE_CODE_CACHE) must end with V8's
  // flags as every run starts with them: V8 keys a code cache to its flags and refuses one made
  // after a flag changed (every command would then compile the bundle from scratch).
  if (process.env.ONNXKIT_WRITE_CODE_CACHE !== undefined) return;
  if (process.versions.v8.startsWith('11.')) setFlagsFromString(OPTIMIZER_FLAGS);
  if (path !== null && sizeOnDisk(path) >= TIGHT_HEAP_FILE_BYTES) setFlagsFromString(`--heap-growing-percent=${TIGHT_HEAP_GROWING_PERCENT}`);
  else setFlagsFromString(`--semi-space-growth-factor=${SEMI_SPACE_GROWTH_FACTOR}`);
}

/** Committed bytes of V8's young generation (both semi-spaces), for tests and benchmarks. */
export function youngGenerationBytes(): number {
  const s = getHeapSpaceStatistics().find((x) => x.space_name === 'new_space');
  return s === undefined ? 0 : s.space_size;
}
