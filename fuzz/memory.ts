/**
 * Per-case memory measurement for the fuzzer (see fuzz/README.md, "Memory").
 *
 * Two independent measures per phase (decode+round trip, analyze, optimize):
 *
 * 1. Peak resident memory. Before the phase the kernel's high-water mark is reset
 *    (`/proc/self/clear_refs` ← "5" resets VmHWM to the current RSS); after it VmHWM is read, so
 *    `VmHWM − RSS before` is the phase's peak growth, counting every page it touched — JS heap,
 *    ArrayBuffer backing stores, native allocations — even if a GC freed them before the end.
 *    Blind spots: pages the process already had resident (free heap space, freed malloc chunks)
 *    are reused without raising the mark, and allocated-but-never-written memory (calloc'd zero
 *    pages) is not resident at all.
 * 2. External memory (`v8.getHeapStatistics().external_memory`: ArrayBuffer backing stores and
 *    external strings; 20× cheaper to read than `process.memoryUsage().arrayBuffers`, same
 *    buffers) after minus before: every buffer the phase allocated and that is not yet
 *    collected, touched or not (it covers blind spot 2 of the first measure). Blind spot: a GC
 *    during the phase can free a dead buffer before the second sample.
 *
 * A phase over its bound is measured again after a full GC (so heap growth caused by earlier
 * cases' garbage is not billed to it); only a phase over the bound twice is a finding.
 */
import { closeSync, openSync, readSync, writeSync } from 'node:fs';
import { getHeapStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

export interface MemorySample {
  /** Peak resident growth in bytes (null where /proc is unavailable). */
  readonly peakRss: number | null;
  /** ArrayBuffer (external) bytes allocated and still uncollected at the end. */
  readonly arrayBuffers: number;
}

let gcFn: (() => void) | undefined;

/** A full garbage collection (`--expose-gc` or enabled at run time). */
export function fullGc(): void {
  if (gcFn === undefined) {
    const g = (globalThis as { gc?: () => void }).gc;
    if (typeof g === 'function') gcFn = g;
    else {
      setFlagsFromString('--expose-gc');
      gcFn = runInNewContext('gc') as () => void;
    }
  }
  gcFn();
}

export class MemoryProbe {
  readonly available: boolean;
  #clear = -1;
  #status = -1;
  readonly #buf = Buffer.alloc(4096);
  #rss0 = 0;
  #ab0 = 0;

  constructor() {
    let ok = false;
    try {
      this.#clear = openSync('/proc/self/clear_refs', 'w');
      this.#status = openSync('/proc/self/status', 'r');
      writeSync(this.#clear, '5');
      ok = this.#read() !== null;
    } catch {
      ok = false;
    }
    this.available = ok;
  }

  /** [VmHWM, VmRSS] in bytes. */
  #read(): [number, number] | null {
    const n = readSync(this.#status, this.#buf, 0, this.#buf.length, 0);
    const s = this.#buf.toString('latin1', 0, n);
    const hwm = /VmHWM:\s+(\d+) kB/.exec(s);
    const rss = /VmRSS:\s+(\d+) kB/.exec(s);
    return hwm && rss ? [Number(hwm[1]) * 1024, Number(rss[1]) * 1024] : null;
  }

  start(): void {
    if (this.available) {
      writeSync(this.#clear, '5');
      this.#rss0 = this.#read()![1];
    }
    this.#ab0 = getHeapStatistics().external_memory;
  }

  stop(): MemorySample {
    const ab = getHeapStatistics().external_memory - this.#ab0;
    if (!this.available) return { peakRss: null, arrayBuffers: ab };
    const [hwm] = this.#read()!;
    return { peakRss: Math.max(0, hwm - this.#rss0), arrayBuffers: ab };
  }

  close(): void {
    if (this.#clear >= 0) closeSync(this.#clear);
    if (this.#status >= 0) closeSync(this.#status);
  }
}
