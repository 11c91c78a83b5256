/**
 * The fuzz loop that runs inside a child process (fuzz/child.ts): generates cases of one shard
 * (or reads regression files), holds each to the properties of properties.ts, keeps statistics,
 * and reports findings and progress to the supervisor. Before each case it writes the case's
 * index to a progress file, so the supervisor can name the case that hung or killed the process.
 */
import { openSync, readFileSync, writeSync } from 'node:fs';
import { basename } from 'node:path';
import { CaseFactory, type FuzzCase } from './cases.js';
import { MemoryProbe, fullGc } from './memory.js';
import { FIXED_BYTES, checkAnalyze, checkImport, checkOptimize, type FindingKind, type PhaseResult, type Target, type Verdict } from './properties.js';
import { caseSeed } from './rng.js';
import { SMALL_SEED_BYTES, loadSeeds } from './seeds.js';

export interface TargetStats {
  runs: number;
  verdicts: Record<Verdict, number>;
  /** Outcome codes (ok, IMPORT_LENGTH, PASS_INPUT_INVALID, ...) and their counts. */
  codes: Record<string, number>;
  totalMs: number;
  maxMs: number;
  maxMsCase: string;
  /** Largest peak-RSS growth and ArrayBuffer growth seen, in bytes, and the bound they were held to. */
  maxPeakRss: number;
  maxPeakRssCase: string;
  maxArrayBuffers: number;
  maxArrayBuffersCase: string;
  /** Largest (peak RSS growth − fixed allowance) / input size seen (bound: RSS_PER_INPUT_BYTE). */
  maxRatio: number;
  /** Largest (ArrayBuffer growth − fixed allowance) / input size seen (bound: BUFFERS_PER_INPUT_BYTE). */
  maxBufferRatio: number;
}

export interface ShardStats {
  cases: number;
  irCases: number;
  /** Cases whose seed was small (≤ SMALL_SEED_BYTES) and the time their import phase took. */
  smallCases: number;
  smallImportMs: number;
  targets: Record<Target, TargetStats>;
  irRefusals: Record<string, number>;
  memoryProbe: boolean;
  /** Wall time spent running cases (excludes process start-up and time lost to a hang). */
  busyMs: number;
}

export interface FindingReport {
  readonly verdict: 'finding' | 'warning';
  readonly target: Target;
  readonly kind: FindingKind;
  readonly code: string;
  readonly message: string;
  readonly stack?: string;
  readonly signature: string;
  readonly seedName: string;
  readonly runSeed: number | null;
  readonly index: number | null;
  readonly file: string | null;
  readonly mutations: readonly string[];
  readonly bytesBase64: string;
  readonly ms: number;
}

export type ChildMessage =
  | { type: 'ready'; fingerprint: string }
  | { type: 'stats'; stats: ShardStats }
  | { type: 'finding'; finding: FindingReport; repeat: number }
  | { type: 'done'; stats: ShardStats }
  | { type: 'minimized'; bytesBase64: string; attempts: number }
  /** Sent last, with a callback: once it is handed over, every earlier message has been too. */
  | { type: 'stats-flush' };

export type ShardJob =
  | {
      mode: 'cases';
      runSeed: number;
      start: number;
      stride: number;
      /** Exclusive upper bound of indexes. */
      end: number;
      /** Date.now() after which no new case starts. */
      deadline: number;
      /** Analyze one decoded case in this many (1 = all, 0 = none). */
      analyzeEvery: number;
      optimizeEvery: number;
      /** Draw only small seeds. */
      smallOnly: boolean;
      progressFile: string;
      /** Findings per signature sent in full (the rest are counted). */
      keepPerSignature: number;
    }
  | { mode: 'files'; files: string[]; progressFile: string; keepPerSignature: number }
  | { mode: 'minimize'; bytesBase64: string; target: Target; signature: string; seconds: number; progressFile: string };

function emptyTarget(): TargetStats {
  return {
    runs: 0,
    verdicts: { ok: 0, refused: 0, warning: 0, finding: 0 },
    codes: {},
    totalMs: 0,
    maxMs: 0,
    maxMsCase: '',
    maxPeakRss: 0,
    maxPeakRssCase: '',
    maxArrayBuffers: 0,
    maxArrayBuffersCase: '',
    maxRatio: 0,
    maxBufferRatio: 0,
  };
}

/** Phase codes of the progress file. */
export const PHASES: readonly Target[] = ['import', 'analyze', 'optimize'];

export function emptyStats(): ShardStats {
  return {
    cases: 0,
    irCases: 0,
    smallCases: 0,
    smallImportMs: 0,
    targets: { import: emptyTarget(), analyze: emptyTarget(), optimize: emptyTarget() },
    irRefusals: {},
    memoryProbe: false,
    busyMs: 0,
  };
}

/**
 * A finding's identity for deduplication: target, kind, the message with numbers and names
 * blanked, and the first two functions of the stack (the same message from two call sites is
 * two bugs).
 */
export function signatureOf(r: Pick<PhaseResult, 'target' | 'kind' | 'code' | 'message' | 'stack'>): string {
  const msg = (r.message ?? '')
    .split('\n')[0]!
    .replace(/'[^']*'/g, "'…'")
    .replace(/"[^"]*"/g, '"…"')
    .replace(/-?\d+/g, '#')
    .slice(0, 200);
  const frames = (r.stack ?? '')
    .split('\n')
    .slice(1)
    .map((l) => /at (?:async )?([^\s(]+)/.exec(l.trim())?.[1])
    .filter((f): f is string => f !== undefined && f !== '<anonymous>')
    .slice(0, 2);
  return `${r.target}|${r.kind ?? r.code}|${msg}${frames.length ? `|${frames.join('<')}` : ''}`;
}

function record(stats: ShardStats, r: PhaseResult, label: string, inputBytes: number): void {
  const t = stats.targets[r.target];
  t.runs++;
  t.verdicts[r.verdict]++;
  t.codes[r.code] = (t.codes[r.code] ?? 0) + 1;
  t.totalMs += r.ms;
  if (r.ms > t.maxMs) {
    t.maxMs = r.ms;
    t.maxMsCase = label;
  }
  const peak = r.memory.peakRss ?? 0;
  if (peak > t.maxPeakRss) {
    t.maxPeakRss = peak;
    t.maxPeakRssCase = label;
  }
  if (r.memory.arrayBuffers > t.maxArrayBuffers) {
    t.maxArrayBuffers = r.memory.arrayBuffers;
    t.maxArrayBuffersCase = label;
  }
  const fixed = FIXED_BYTES[r.target];
  t.maxRatio = Math.max(t.maxRatio, (peak - fixed) / Math.max(1, inputBytes));
  t.maxBufferRatio = Math.max(t.maxBufferRatio, (r.memory.arrayBuffers - fixed) / Math.max(1, inputBytes));
}

export class Shard {
  readonly stats = emptyStats();
  readonly #sent = new Map<string, number>();
  readonly #probe = new MemoryProbe();
  readonly #progress: number;
  /** [case index, phase (0 import, 1 analyze, 2 optimize), runs started], written before every run of a phase. */
  readonly #progressBuf = new Float64Array(3);

  constructor(
    progressFile: string,
    readonly send: (m: ChildMessage) => void,
    readonly keepPerSignature: number,
  ) {
    this.#progress = openSync(progressFile, 'w');
    this.stats.memoryProbe = this.#probe.available;
  }

  /** Records the case about to run (read by the supervisor if this process hangs or dies). */
  mark(index: number): void {
    this.#progressBuf[0] = index;
    this.#phase('import');
    this.#heartbeat();
  }

  #phase(t: Target): void {
    this.#progressBuf[1] = PHASES.indexOf(t);
  }

  /** A phase run is starting (first runs and re-measurements alike). */
  #heartbeat(): void {
    this.#progressBuf[2]!++;
    writeSync(this.#progress, new Uint8Array(this.#progressBuf.buffer), 0, 24, 0);
  }

  report(r: PhaseResult, c: { seedName: string; runSeed: number | null; index: number | null; file: string | null; mutations: readonly string[]; bytes: Uint8Array }): void {
    if (r.verdict !== 'finding' && r.verdict !== 'warning') return;
    const signature = signatureOf(r);
    const n = (this.#sent.get(signature) ?? 0) + 1;
    this.#sent.set(signature, n);
    if (n > this.keepPerSignature) return;
    this.send({
      type: 'finding',
      repeat: n,
      finding: {
        verdict: r.verdict,
        target: r.target,
        kind: r.kind ?? 'exception',
        code: r.code,
        message: r.message ?? '',
        ...(r.stack ? { stack: r.stack } : {}),
        signature,
        seedName: c.seedName,
        runSeed: c.runSeed,
        index: c.index,
        file: c.file,
        mutations: c.mutations,
        bytesBase64: Buffer.from(c.bytes.buffer, c.bytes.byteOffset, c.bytes.byteLength).toString('base64'),
        ms: r.ms,
      },
    });
  }

  /** Runs the targets on one input; `analyze`/`optimize` say whether those targets run for it. */
  async check(bytes: Uint8Array, label: string, ctx: Parameters<Shard['report']>[1], analyze: boolean, optimize: boolean): Promise<PhaseResult[]> {
    const o = { probe: this.#probe, onRun: () => this.#heartbeat() };
    const out: PhaseResult[] = [];
    const imp = await checkImport(bytes, o);
    out.push(imp.result);
    record(this.stats, imp.result, label, bytes.length);
    this.report(imp.result, ctx);
    if (imp.model !== undefined && imp.result.verdict !== 'finding') {
      if (analyze) {
        this.#phase('analyze');
        const a = await checkAnalyze(imp.model, bytes.length, o);
        out.push(a);
        record(this.stats, a, label, bytes.length);
        this.report(a, ctx);
      }
      if (optimize) {
        this.#phase('optimize');
        const p = await checkOptimize(bytes, o);
        out.push(p);
        record(this.stats, p, label, bytes.length);
        this.report(p, ctx);
      }
    }
    return out;
  }

  async runCases(job: Extract<ShardJob, { mode: 'cases' }>): Promise<void> {
    const seeds = loadSeeds();
    const factory = new CaseFactory(seeds, job.smallOnly);
    this.send({ type: 'ready', fingerprint: seeds.fingerprint });
    const small = new Set(seeds.seeds.filter((s) => s.bytes.length <= SMALL_SEED_BYTES).map((s) => s.name));
    let lastStats = Date.now();
    let lastGc = 0;
    const t0 = performance.now();
    for (let i = job.start; i < job.end && Date.now() < job.deadline; i += job.stride) {
      this.mark(i);
      const c: FuzzCase = factory.make(job.runSeed, i);
      const pick = caseSeed(job.runSeed ^ 0x5eed, i);
      const analyze = job.analyzeEvery > 0 && pick % job.analyzeEvery === 0;
      const optimize = job.optimizeEvery > 0 && Math.floor(pick / 7) % job.optimizeEvery === 0;
      const results = await this.check(c.bytes, `seed ${job.runSeed} case ${i}`, { seedName: c.seed, runSeed: job.runSeed, index: i, file: null, mutations: c.mutations, bytes: c.bytes }, analyze, optimize);
      this.stats.cases++;
      if (c.kind === 'ir') this.stats.irCases++;
      if (small.has(c.seed)) {
        this.stats.smallCases++;
        this.stats.smallImportMs += results[0]!.ms;
      }
      if (this.stats.cases - lastGc >= 5000) {
        // Keeps garbage of earlier cases from being billed to later ones (see memory.ts).
        fullGc();
        lastGc = this.stats.cases;
      }
      if (Date.now() - lastStats > 500) {
        this.stats.busyMs = performance.now() - t0;
        this.#flushRefusals(factory);
        this.send({ type: 'stats', stats: this.stats });
        lastStats = Date.now();
      }
    }
    this.stats.busyMs = performance.now() - t0;
    this.#flushRefusals(factory);
    this.send({ type: 'done', stats: this.stats });
  }

  #flushRefusals(factory: CaseFactory): void {
    this.stats.irRefusals = Object.fromEntries(factory.irRefusals);
  }

  async runFiles(job: Extract<ShardJob, { mode: 'files' }>): Promise<void> {
    this.send({ type: 'ready', fingerprint: 'files' });
    for (let k = 0; k < job.files.length; k++) {
      this.mark(k);
      const file = job.files[k]!;
      const bytes = new Uint8Array(readFileSync(file));
      await this.check(bytes, basename(file), { seedName: basename(file), runSeed: null, index: k, file, mutations: [], bytes }, true, true);
      this.stats.cases++;
      // After every file: a later file that hangs or kills the process must not erase this one's count.
      this.send({ type: 'stats', stats: this.stats });
    }
    this.send({ type: 'done', stats: this.stats });
  }

  /** The signature the input produces for `target` (or null when it passes). */
  async signatureFor(bytes: Uint8Array, target: Target): Promise<string | null> {
    const results = await this.check(bytes, 'minimize', { seedName: '', runSeed: null, index: null, file: null, mutations: [], bytes }, target === 'analyze', target === 'optimize');
    const r = results.find((x) => x.target === target && (x.verdict === 'finding' || x.verdict === 'warning'));
    return r ? signatureOf(r) : null;
  }
}
