/**
 * V8 heap settings for a command that loads a whole model (issue 15: peak memory per node of the
 * `onnxkit optimize` process). One home for them: the flags are set from inside the process
 * (`v8.setFlagsFromString`), before the import, because a user runs `onnxkit`, not
 * `node --max-semi-space-size=… onnxkit`.
 */
import { closeSync, constants, fstatSync, openSync, readSync, statSync } from 'node:fs';
import { getHeapSpaceStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { GraphFields, ModelFields } from '@onnxkit/importer';

/**
 * Protobuf wire types, as @onnxkit/importer's wire.ts names them (WIRE_VARINT … WIRE_I32); its
 * package does not export them, so they are repeated here, named, rather than written as 0/1/2/5.
 */
const WIRE_VARINT = 0;
const WIRE_I64 = 1;
const WIRE_LEN = 2;
const WIRE_I32 = 5;

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
 * From this input size up (below the importer's AUTO_LAZY_BYTES, 64 MiB, where the whole import is
 * a lazy walk) optimize reads the file whole but leaves its payloads of 1 KiB or more in the file,
 * read on use through the read sessions a lazy import uses (each read checked against the file
 * loaded), and copies the smaller ones into shared slabs (the importer's `lazyWeightsFrom`): no
 * tensor views the file's bytes, so the import lets them go. Before, a file whose weights were most
 * of it (the 100k-node chain with a weight per block: 29 MB, payloads 74 %) kept its whole buffer
 * alive to the end (293 B per node). Alternating whole processes against main's build (CPU
 * user + sys, peak RSS; medians, load 8–9): that chain `optimize -q` 175 → 156 MiB (1,291 → 1,101
 * B/node over the 5-node baseline's 51.7 MiB), CPU +2–4 % (1.36 → 1.42 s and 1.36 → 1.40 s in
 * 9 pairs, 1.45 → 1.48 s in 7), `--json` 192 → 175 MiB, 1.68 → 1.67 s (9 pairs; 1.71 → 1.67 s
 * in 7): the weights are read from the file twice (the duplicate-initializer probe, the save),
 * ≈ 30–60 ms of 64 KiB reads in all; the zoo's MobileNetV2 (13.5 MiB, `-q`) 82 → 73 MiB,
 * 0.17 → 0.16 s (7 pairs); the 50k-node weighted chain (14.5 MB, `-q`) 122 → 115 MiB,
 * 1.04 → 1.07 s (7 pairs). Outputs byte-identical. Copying every payload into slabs instead
 * (nothing left in the file) saved 2 MiB (175 → 173 MiB; the copies and the file coexist at the
 * end of the import). A lazy walk of such a file (the importer's AUTO_LAZY_BYTES at 16 MiB) saved
 * as much but cost ≈ +10 % CPU (1.25 → 1.38 s, 5 pairs, before its window was widened over small
 * gaps): a windowed decode is slower than one in memory. Below 8 MiB the file's buffer is small
 * anyway. (Later in the round the import also frees the file's buffer before name resolution, the
 * import's peak: the chain's `-q` peak 1,093 → 996 B/node, see the importer's releaseInput.)
 */
export const LAZY_WEIGHTS_FILE_BYTES = 8 * 1024 * 1024;

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
 * (weighted) for 5 % less peak RSS (927 → 877 MiB, 1,544 → 1,487 MiB). Growth factor 2 re-measured
 * with the current pipeline (alternating runs of `optimize --json`, medians): 100k weighted chain
 * CPU 1.73 → 1.73 s, peak RSS 215 → 239 MiB (9 pairs); 10k 0.66 → 0.64 s, 80 → 93 MiB (9 pairs).
 * A cap below 16 MiB cannot be set from here (--max-semi-space-size, above).
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
 * budget for every graph (--interrupt-budget; 10k −16 %, 100k +5 %). Set here, after the bundle is compiled: V8
 * keys a code cache to its flags, and the build's cache run sets none. Only flags V8 reads while
 * running may be set so: heap flags such as --single-threaded-gc or --no-parallel-marking are
 * fixed when the heap is made (V8 aborts in the next full collection when they change).
 * --no-parallel-scavenge is read at each scavenge (ScavengerCollector::NumberOfScavengeTasks) and
 * could be set so, but it moves the work instead of saving it: 100k weighted chain `optimize
 * --json`, 9 alternating pairs, CPU 1.68 → 1.68 s (main thread +0.13 s, other threads −0.10 s),
 * wall 1.75 → 2.15 s; 10k 0.66 → 0.66 s. Neither did --no-turbo-escape, --no-use-osr,
 * --no-turbo-load-elimination, --ticks-before-optimization=5 or --max-bytecode-size-for-early-opt=0
 * move the 100k chain's CPU out of its noise (7 pairs, 1.63–1.89 s against 1.76 s);
 * --max-optimized-bytecode-size=8000 (which keeps only the cost model's analyze, over 8,000 bytes of
 * bytecode, out of TurboFan) gave 10k −8 %, 100k −1 to −3 %, not enough to keep (4,400 below 50k
 * nodes does pay: LARGE_FUNCTION_GRAPH_NODES). A larger tier-up budget pays below SMALL_GRAPH_NODES
 * only (below).
 * Measured with Node 20's V8 (11.3) and set only there: another V8 may tune its compiler
 * otherwise, or not know a flag (it would print an error at every optimize).
 */
const OPTIMIZER_FLAGS = '--max-inlined-bytecode-size=115 --max-inlined-bytecode-size-cumulative=230 --no-turbo-loop-peeling';

/**
 * Below this many nodes (the imported graph's, known once the import is done) TurboFan waits
 * SMALL_GRAPH_BUDGET_FACTOR times longer before optimizing a function (V8's --interrupt-budget,
 * 67,584 by default in V8 11.3: the bytecode a function runs between two tier-up checks). A small
 * graph's rule passes, analysis and save run too briefly to repay compiling most of what they
 * call: on the 10k-node chain TurboFan (the other threads) took ≈ 0.33 s of the ≈ 0.64 s of CPU,
 * the main thread ≈ 0.28 s. Measured with alternating whole processes of `onnxkit optimize FILE
 * -o OUT --json` (CPU user + sys from /usr/bin/time, medians; chains of bench/rules.bench.mjs's
 * writeChain; a shared 2-core machine at load 7–12), before → after: 10k nodes 0.76 → 0.49 s
 * (9 pairs; the other threads 0.38 → 0.10 s), 20k 1.06 → 0.89 s (7 pairs); the budget factor alone,
 * set after the import (7 pairs each): 2k 0.24 → 0.19 s, 20k 0.89 → 0.75 s (×4: 0.80 s), 30k
 * 0.98 → 0.97 s, so not above: the 50k-node shared-weight chain took 1.10 → 1.18 s with ×4, the
 * 100k ones +4–7 % with ×2–×4 (their optimized code pays for itself). Set after the import from the
 * graph's node count (the file size does not tell it: the 50k shared chain's file, 3.2 MB, is about
 * the 10k weighted chain's, 2.9 MB); ×4 from the start gave the 10k chain 0.46 s against 0.48 s
 * after the import, ×8 after it 0.42 s; ×16 was no better than ×8 (10k 0.48 against 0.47 s,
 * 7 pairs; 20k 0.78 against 0.78 s, 5 pairs). The import of a graph under SMALL_IMPORT_NODES runs
 * with it too (below).
 */
export const SMALL_GRAPH_NODES = 25_000;
const SMALL_GRAPH_BUDGET_FACTOR = 8;
const DEFAULT_INTERRUPT_BUDGET = 67_584; // V8 11.3's --interrupt-budget (node --v8-options)

/**
 * Below this many nodes (the imported graph's) TurboFan leaves alone the functions of
 * LARGE_FUNCTION_BYTES of bytecode or more (V8's --max-optimized-bytecode-size, 61,440 by
 * default): in this build the one that runs hot is the rewrite session's #apply (then 4,437 bytes; apply and
 * tryApply run it for each candidate of the rule driver but a plain bypass, which the smaller
 * #applyBypass, ≈ 1,750 bytes then and 1,115 now, so compiled, takes), whose compile took 56–90 ms of TurboFan each time on the 20k-node
 * chain (`--trace-opt`, 3 runs, load ≈ 9) and did not repay it below ≈ 50k nodes. Alternating
 * whole processes of `onnxkit optimize FILE -o OUT --json` (CPU of the process from
 * process.cpuUsage() at exit, by a `node -r` hook; medians; load 9–10 on 2 cores), the cap alone,
 * set after the import (9 pairs each): 15k-node chain 580 → 562 ms (6 of 9 pairs faster), 20k
 * 717 → 693 ms (7/9), 30k 974 → 922 ms (9/9), 40k 1,192 → 1,104 ms (8/9); but 50k 1,148 → 1,167 ms
 * (3/7) and 100k 1.77 → 1.81 s (2/7), where the optimized #apply pays for its compile, hence the
 * limit. A cap of 2,000 or 3,000 bytes gave less at 30k (941 and 955 ms), 6,000 (above #apply)
 * nothing (973 ms); `--turbo-filter=-#apply` (by name) 20k 717 → 696 ms, 30k 1,007 → 991 ms
 * (6/9; 7 pairs before: 990 → 953 ms). Against main's build, with SMALL_IMPORT_NODES's change (9 pairs):
 * 20k 726 → 692 ms (8/9), 30k 974 → 956 ms (6/9), 40k 1,088 → 1,054 ms (7/9), 10k 445 → 451 ms
 * (5/9), 100k 1.74 → 1.74 s (7 pairs). The size follows #apply's: a rewrite that shrinks it
 * under LARGE_FUNCTION_BYTES leaves it to TurboFan again, as happened unnoticed when #apply went to
 * 4,023 bytes under a cap of 4,400 (TurboFan then compiled it on the 20k–40k chains: 27–53 ms of
 * compile each, `--trace-opt`). Since #apply shares its record and touched-values code with
 * #applyBypass it is 3,446 bytes, and the cap 3,000: the other functions the 20k chain runs are
 * under 2,700 bytes but for the pass manager's run (3,547, called once per pass, now also kept
 * out); so are, when optimize measures an approximate pass's accuracy, verifyModels (4,386 bytes),
 * evaluateReference (3,882) and one of 3,704, which the 4,400 cap let TurboFan compile (not
 * measured: the accuracy run is a second of onnxruntime and float64 work). Alternating whole processes against the build with the stale
 * cap (`optimize --json`, CPU medians of 9 pairs, load 5–7): 20k 0.63 → 0.60 s, 30k 0.86 → 0.86 s,
 * 40k 0.96 → 0.96 s, 100k (no cap there) 1.62 → 1.61 s: what #apply's compile costs the other
 * threads, the interpreted #apply costs the main thread about as much at this load. heap.test.ts
 * fails when #apply is under the cap, to have it measured again.
 */
export const LARGE_FUNCTION_GRAPH_NODES = 50_000;
export const LARGE_FUNCTION_BYTES = 3_000;
const DEFAULT_MAX_OPTIMIZED_BYTECODE_SIZE = 61_440; // V8 11.3's --max-optimized-bytecode-size (node --v8-options)

/**
 * Below this many nodes in the file (countGraphNodes, before the import) the import, too, runs
 * with the tier-up budget of a small graph (SMALL_GRAPH_BUDGET_FACTOR): its decoder (node(),
 * tensor(), resolveGraph; ≈ 11 and 9 ms of TurboFan for the first two alone on the 10k chain, by
 * --trace-opt) was compiled for a graph too small to repay it. Alternating whole processes of
 * `onnxkit optimize FILE -o OUT --json` against main's build (CPU of the whole process from
 * process.cpuUsage() at exit, by a `node -r` hook; medians of 11 pairs, load 7–9 on 2 cores;
 * chains of bench/rules.bench.mjs's writeChain, the zoo's models): 2k-node chain 184 → 177 ms
 * (9 of 11 pairs faster), 5k 303 → 281 ms (10/11), the zoo's transformer (78 nodes) 104 → 101 ms (6/11), MobileNetV2 (222)
 * 168 → 163 ms (10/11), ResNet-50 (175, 98 MB) 228 → 220 ms (7/11); 10k 433 → 435 ms (4/11),
 * 20k 702 → 692 ms (6/11) and 100k (9 pairs) 1.61 → 1.59 s unchanged (they count to the limit and
 * import as before; the count to 10,000 takes ≈ 1.1 ms of CPU in a fresh process, 5 runs on each
 * 100k chain). The budget before the import alone (no count; 9 pairs): 5k −4 %, 10k
 * 444 → 447 ms, 20k 701 → 742 ms (1 of 9 faster), hence the limit.
 */
export const SMALL_IMPORT_NODES = 10_000;
const COUNT_CHUNK = 64 * 1024;
const SKIP_CHUNK = 1024;

/**
 * The number of nodes of the main graph in the ONNX file at `path`, counted from the tags and
 * lengths of the graph's fields without decoding anything, or `limit` as soon as the count reaches
 * it. `limit` as well when the file cannot be read or is not a ModelProto this scan understands
 * (the import then says why, or reads it as it would have). Reads the file in chunks of
 * COUNT_CHUNK bytes and seeks over the fields it skips, so most of a graph's weights are not read:
 * on the zoo's ResNet-50 (a 98 MB file) 100 reads, 3.4 MB; 10 reads, 0.6 MB, to reach 10,000 nodes
 * of the 10k chain.
 */
export function countGraphNodes(path: string, limit: number): number {
  let fd: number;
  try {
    // Regular files only, opened without blocking: opening a FIFO for reading waits for a writer
    // (the command hung before the import could refuse it), and its bytes would be consumed here.
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch {
    return limit;
  }
  const buf = Buffer.allocUnsafe(COUNT_CHUNK);
  let base = 0; // buf holds the file's bytes [base, end)
  let end = 0;
  let pos = 0;
  const varint = (): number => {
    let v = 0;
    for (let i = 0, scale = 1; i < 10; i++, scale *= 128) {
      if (pos < base || pos >= end) {
        // A small read after a skip over more than a chunk (a weight, often followed by another)
        const n = readSync(fd, buf, 0, pos - end < COUNT_CHUNK ? COUNT_CHUNK : SKIP_CHUNK, pos);
        base = pos;
        end = pos + n;
        if (end <= pos) throw new RangeError('the file ends inside a field');
      }
      const b = buf[pos++ - base]!;
      v += (b & 127) * scale;
      if (b < 128) return v;
    }
    throw new RangeError('a varint of more than 10 bytes');
  };
  /** Moves past the value of a field of wire type `w`. */
  const skip = (w: number): void => {
    if (w === WIRE_VARINT) varint();
    else if (w === WIRE_I64) pos += 8;
    else if (w === WIRE_LEN) {
      const len = varint(); // (not `pos += varint()`: that adds to pos as it was before the length)
      pos += len;
    } else if (w === WIRE_I32) pos += 4;
    else throw new RangeError(`wire type ${w}`);
  };
  const GRAPH = (ModelFields.graph << 3) | WIRE_LEN;
  const NODE = (GraphFields.node << 3) | WIRE_LEN;
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile()) return limit;
    const size = stat.size;
    let nodes = 0;
    // Fields read one by one (a node found by the fast path below is not one): a model holds a few
    // top-level fields and, in its graph, a few per node. A file that is not one (10 GB of zeros,
    // read as 5·10⁹ fields of number 0) gave up only at its end: 26 s for 3 GB before the import
    // could refuse it in a millisecond. Field number 0 is not protobuf at all.
    let budget = 16 * limit + 65_536;
    while (pos < size) {
      const tag = varint();
      if (tag < 8 || --budget < 0) return limit;
      if (tag !== GRAPH) {
        skip(tag & 7);
        continue;
      }
      // (every graph field: a message repeated in the file is merged into one)
      const graphLength = varint();
      const graphEnd = pos + graphLength;
      while (pos < graphEnd) {
        // A node whose tag and length (under 16 KiB) are in the buffer: skipped without a call
        // (this loop runs in V8's interpreter, once per node)
        const i = pos - base;
        if (i >= 0 && i + 3 <= end - base && buf[i] === NODE && (buf[i + 1]! < 128 || buf[i + 2]! < 128)) {
          const b = buf[i + 1]!;
          pos += b < 128 ? 2 + b : 3 + (b & 127) + buf[i + 2]! * 128;
          if (++nodes >= limit) return limit;
          continue;
        }
        const t = varint();
        if (t < 8 || --budget < 0) return limit;
        if (t === NODE && ++nodes >= limit) return limit;
        skip(t & 7);
      }
      if (pos !== graphEnd) return limit;
    }
    return pos === size ? nodes : limit;
  } catch {
    return limit;
  } finally {
    closeSync(fd);
  }
}

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
 * stdin, whose size is not known up front), and the import's tier-up budget when the file holds
 * fewer than SMALL_IMPORT_NODES nodes. Call before the import: V8 sets the next full
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
  if (path !== null && process.versions.v8.startsWith('11.3.')) {
    // (set before the count, whose loop then stays in the interpreter: compiled on the way, as V8's
    // own budget had it between 7,000 and 8,000 nodes, it cost ≈ 3 ms of CPU instead of ≈ 1)
    setFlagsFromString(`--interrupt-budget=${DEFAULT_INTERRUPT_BUDGET * SMALL_GRAPH_BUDGET_FACTOR}`);
    if (countGraphNodes(path, SMALL_IMPORT_NODES) >= SMALL_IMPORT_NODES) setFlagsFromString(`--interrupt-budget=${DEFAULT_INTERRUPT_BUDGET}`);
  }
}

/**
 * Sets V8's tier-up budget for rewriting a graph of `nodeCount` nodes (see SMALL_GRAPH_NODES), also
 * where tuneHeapForModel raised it for the import and the graph turned out larger, and below
 * LARGE_FUNCTION_GRAPH_NODES the largest function TurboFan compiles. Call after the import. Same guards as tuneHeapForModel: not in the build's code-cache run, and
 * only with Node 20's V8 (11.3), whose default budget this multiplies.
 */
export function tuneCompilerForGraph(nodeCount: number): void {
  if (process.env.ONNXKIT_WRITE_CODE_CACHE !== undefined) return;
  if (!process.versions.v8.startsWith('11.3.')) return;
  // (V8's own budget above: the import's may have been raised by tuneHeapForModel's count)
  setFlagsFromString(`--interrupt-budget=${DEFAULT_INTERRUPT_BUDGET * (nodeCount < SMALL_GRAPH_NODES ? SMALL_GRAPH_BUDGET_FACTOR : 1)}`);
  // (set either way: an earlier command in this process, e.g. the bench's --warm runs, may have capped it)
  setFlagsFromString(`--max-optimized-bytecode-size=${nodeCount < LARGE_FUNCTION_GRAPH_NODES ? LARGE_FUNCTION_BYTES : DEFAULT_MAX_OPTIMIZED_BYTECODE_SIZE}`);
}

/**
 * A full collection right after the import of a graph of SMALL_GRAPH_NODES nodes or more, from a
 * file below TIGHT_HEAP_FILE_BYTES. The import reads the whole file and copies the payloads it
 * keeps out of it, so the file's bytes (and the decoder's other buffers) are garbage once it
 * returns, but V8 frees an ArrayBuffer only in a full collection, and the import's last one set
 * the next one's limit from a much smaller live heap: the dead buffers stayed until the rule
 * passes had filled the heap with their own garbage, at the peak. On the 100k-node shared-weight
 * chain 12.3 of 13.2 MB of ArrayBuffers were dead after the import. `node bench/rules.bench.mjs
 * --memory 100000`: shared chain 157 → 145 MiB peak RSS, 1,099–1,107 → 975 B/node over the 5-node
 * baseline (issue 15's target: under 1,024); weighted chain 197–198 → 183 MiB, 1,523–1,535 →
 * 1,377 B/node. Alternating whole processes (medians of peak RSS and CPU, 7 pairs each, load ≈ 10
 * on 2 cores), shared 100k chain: `optimize -q` 158 → 145 MiB, CPU 1.33 → 1.31 s; `--json`
 * 175 → 164 MiB, 1.59 → 1.68 s; the collection alone (same build, with and without): `-q`
 * 1.19 → 1.26 s, `--json` 1.49 → 1.55 s, weighted `-q` 198 → 184 MiB, 1.51 → 1.59 s (5 pairs): up to
 * ≈ 5 % more CPU (a full collection of a ≈ 55 MB live heap) for 6–8 % less peak memory. Larger
 * shared chains, `-q`: 200k nodes 243 → 226 MiB, CPU 2.05 → 2.05 s (4 pairs); 500k 526–532 →
 * 451–453 MiB, CPU 4.34–4.57 → 4.14–5.06 s (6 pairs, medians ≈ 4.38 → 4.50 s). Not for the
 * 10k chain (77 → 77 MiB, 0.46 → 0.49 s), nor above TIGHT_HEAP_FILE_BYTES, where the tight heap
 * growth collects soon after the import anyway. V8 offers no collection to a script without
 * --expose-gc; set here, after the bundle is compiled, it gives a new context a `gc` function.
 */
export function collectImportGarbage(path: string | null, nodeCount: number): void {
  if (process.env.ONNXKIT_WRITE_CODE_CACHE !== undefined) return;
  if (path === null || nodeCount < SMALL_GRAPH_NODES || sizeOnDisk(path) >= TIGHT_HEAP_FILE_BYTES) return;
  setFlagsFromString('--expose-gc');
  // (a V8 that ignores the flag once running gives the context no `gc`: then nothing is collected)
  const gc = runInNewContext('typeof gc === "function" ? gc : undefined') as (() => void) | undefined;
  setFlagsFromString('--no-expose-gc');
  gc?.();
}

/** Committed bytes of V8's young generation (both semi-spaces), for tests and benchmarks. */
export function youngGenerationBytes(): number {
  const s = getHeapSpaceStatistics().find((x) => x.space_name === 'new_space');
  return s === undefined ? 0 : s.space_size;
}
