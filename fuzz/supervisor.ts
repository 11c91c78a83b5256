/**
 * The fuzz supervisor: shards case indexes over child processes (fuzz/child.ts), merges their
 * statistics, and turns a child that stops making progress (hang) or dies (crash, out of memory)
 * into a finding for the case it was running — read from the child's progress file — before
 * starting a new child after that case. Findings are minimised in a child too and written as
 * `<target>-<kind>-<hash>.onnx` plus a `.json` describing them.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CaseFactory } from './cases.js';
import { PHASES, emptyStats, signatureOf, type ChildMessage, type FindingReport, type ShardJob, type ShardStats, type TargetStats } from './engine.js';
import type { Target } from './properties.js';
import { minimize } from './minimize.js';
import { ROOT, loadSeeds } from './seeds.js';

const HERE = fileURLToPath(new URL('.', import.meta.url));
export const REGRESSIONS = join(HERE, 'regressions');
const CHILD = join(HERE, 'child.ts');
const REGISTER = join(HERE, 'ts-loader', 'register.mjs');

export interface FuzzOptions {
  seed: number;
  /** Wall-clock budget. */
  seconds: number;
  /** Stop after this many cases (default: only the time budget). */
  maxCases?: number;
  /** First case index (default 0). */
  start?: number;
  /** Child processes (default: min(2, cores)). */
  workers?: number;
  /** Analyze one decoded case in N (default 8; 0 never); 1 with target 'analyze'. */
  analyzeEvery?: number;
  /** Optimize one decoded case in N (default 40; 0 never); 1 with target 'optimize'. */
  optimizeEvery?: number;
  /** Focus: run the given target on every decoded case. */
  target?: Target;
  /** Draw only seeds of at most 64 KiB (the throughput benchmark's "small fixtures"). */
  smallSeedsOnly?: boolean;
  /** Heap cap of a child in MiB (default 2048): a blow-up past it is an out-of-memory finding. */
  heapMb?: number;
  /** A child whose current case makes no progress for this long is killed: a hang (default 30). */
  hangSeconds?: number;
  /** Where minimised findings are written (default: not written). */
  outDir?: string;
  /** Budget for minimising each distinct fatal finding (default 10 s; 0 disables). */
  minimizeSeconds?: number;
  /** At most this many distinct findings are minimised (default 5). */
  minimizeMax?: number;
  /**
   * Budget for minimising a hang or crash (default 0: kept as found). Each attempt runs in a
   * fresh child with a short hang timeout, so this is slow; fuzz/run.mjs uses 60 s.
   */
  minimizeHangSeconds?: number;
  onProgress?: (s: FuzzProgress) => void;
}

export interface FuzzProgress {
  readonly cases: number;
  readonly elapsed: number;
  readonly findings: number;
}

export interface FoundIssue extends FindingReport {
  /** How many cases produced this signature. */
  count: number;
  /** Where the (minimised) input was written, when an outDir was given. */
  written?: string;
  minimizedBytes?: number;
}

export interface FuzzSummary {
  readonly seed: number | null;
  readonly fingerprint: string;
  readonly cases: number;
  readonly seconds: number;
  readonly workers: number;
  readonly analyzeEvery: number;
  readonly optimizeEvery: number;
  readonly stats: ShardStats;
  /** Fatal findings, one per signature. */
  readonly findings: FoundIssue[];
  /** Typed but out-of-contract outcomes, one per signature. */
  readonly warnings: FoundIssue[];
  /** Children restarted after a hang or crash. */
  readonly restarts: number;
}

function mergeTarget(a: TargetStats, b: TargetStats): TargetStats {
  const codes = { ...a.codes };
  for (const [k, v] of Object.entries(b.codes)) codes[k] = (codes[k] ?? 0) + v;
  return {
    runs: a.runs + b.runs,
    verdicts: { ok: a.verdicts.ok + b.verdicts.ok, refused: a.verdicts.refused + b.verdicts.refused, warning: a.verdicts.warning + b.verdicts.warning, finding: a.verdicts.finding + b.verdicts.finding },
    codes,
    totalMs: a.totalMs + b.totalMs,
    maxMs: Math.max(a.maxMs, b.maxMs),
    maxMsCase: a.maxMs >= b.maxMs ? a.maxMsCase : b.maxMsCase,
    maxPeakRss: Math.max(a.maxPeakRss, b.maxPeakRss),
    maxPeakRssCase: a.maxPeakRss >= b.maxPeakRss ? a.maxPeakRssCase : b.maxPeakRssCase,
    maxArrayBuffers: Math.max(a.maxArrayBuffers, b.maxArrayBuffers),
    maxArrayBuffersCase: a.maxArrayBuffers >= b.maxArrayBuffers ? a.maxArrayBuffersCase : b.maxArrayBuffersCase,
    maxRatio: Math.max(a.maxRatio, b.maxRatio),
    maxBufferRatio: Math.max(a.maxBufferRatio, b.maxBufferRatio),
  };
}

export function mergeStats(a: ShardStats, b: ShardStats): ShardStats {
  const ir = { ...a.irRefusals };
  for (const [k, v] of Object.entries(b.irRefusals)) ir[k] = (ir[k] ?? 0) + v;
  return {
    cases: a.cases + b.cases,
    irCases: a.irCases + b.irCases,
    smallCases: a.smallCases + b.smallCases,
    smallImportMs: a.smallImportMs + b.smallImportMs,
    targets: {
      import: mergeTarget(a.targets.import, b.targets.import),
      analyze: mergeTarget(a.targets.analyze, b.targets.analyze),
      optimize: mergeTarget(a.targets.optimize, b.targets.optimize),
    },
    irRefusals: ir,
    memoryProbe: a.memoryProbe || b.memoryProbe,
    busyMs: a.busyMs + b.busyMs,
  };
}

interface ChildRun {
  /** Statistics of completed children plus the live one's latest snapshot. */
  done: ShardStats;
  live: ShardStats;
}

function spawnChild(heapMb: number): { child: ChildProcess; stderr: () => string } {
  const child = fork(CHILD, [], {
    execArgv: ['--conditions=source', '--import', REGISTER, '--expose-gc', `--max-old-space-size=${heapMb}`, '--enable-source-maps'],
    stdio: ['ignore', 'inherit', 'pipe', 'ipc'],
    serialization: 'json',
  });
  let err = '';
  child.stderr?.on('data', (d: Buffer) => {
    err = (err + d.toString()).slice(-8000);
  });
  return { child, stderr: () => err };
}

/** The case index and phase a child is running, and how many phase runs it has started, from its progress file. */
function readProgress(file: string): { index: number; target: Target; runs: number } | null {
  try {
    const b = readFileSync(file);
    if (b.length < 24) return null;
    const f = new Float64Array(new Uint8Array(b).buffer, 0, 3);
    return { index: f[0]!, target: PHASES[f[1]!] ?? 'import', runs: f[2]! };
  } catch {
    return null;
  }
}

class Collector {
  readonly findings = new Map<string, FoundIssue>();
  readonly warnings = new Map<string, FoundIssue>();

  add(f: FindingReport): void {
    const map = f.verdict === 'finding' ? this.findings : this.warnings;
    const had = map.get(f.signature);
    if (had) had.count++;
    else map.set(f.signature, { ...f, count: 1 });
  }
}

/**
 * Runs one job in a child, restarting it after a hang or crash (cases mode) until the job is done.
 * Resolves with the child's final statistics.
 */
async function runJob(
  job: ShardJob,
  o: { heapMb: number; hangSeconds: number; collector: Collector; onStats: (s: ShardStats) => void; regenerate: (index: number) => { seedName: string; bytes: Uint8Array; mutations: readonly string[]; runSeed: number | null; file: string | null } },
): Promise<{ stats: ShardStats; restarts: number; minimized?: Uint8Array }> {
  const dir = mkdtempSync(join(tmpdir(), 'onnxkit-fuzz-'));
  const progressFile = join(dir, 'progress');
  let current: ShardJob = { ...job, progressFile } as ShardJob;
  const run: ChildRun = { done: emptyStats(), live: emptyStats() };
  let restarts = 0;
  let minimized: Uint8Array | undefined;
  try {
    for (;;) {
      const { child, stderr } = spawnChild(o.heapMb);
      const outcome = await new Promise<{ ok: boolean; reason: string }>((resolve) => {
        let lastIndex: string | null = null;
        let lastChange = Date.now();
        let finished = false;
        const timer = setInterval(() => {
          const p = readProgress(progressFile);
          const idx = p === null ? null : `${p.index}:${p.target}:${p.runs}`;
          if (idx !== lastIndex) {
            lastIndex = idx;
            lastChange = Date.now();
          } else if (Date.now() - lastChange > o.hangSeconds * 1000 && !finished) {
            finished = true;
            child.kill('SIGKILL');
            resolve({ ok: false, reason: `no progress for ${o.hangSeconds} s` });
          }
        }, 250);
        child.on('message', (m: ChildMessage) => {
          if (m.type === 'stats' || m.type === 'done') {
            run.live = m.stats;
            o.onStats(mergeStats(run.done, run.live));
          } else if (m.type === 'finding') {
            o.collector.add(m.finding);
          } else if (m.type === 'minimized') {
            minimized = new Uint8Array(Buffer.from(m.bytesBase64, 'base64'));
          }
          if (m.type === 'done' || m.type === 'minimized') finished = true;
        });
        child.on('close', (code, signal) => {
          clearInterval(timer);
          if (finished && code === 0) resolve({ ok: true, reason: '' });
          else if (!finished || code !== 0) {
            const tail = stderr().trim().split('\n').slice(-6).join(' | ');
            const oom = /heap limit|out of memory|Allocation failed/i.test(tail);
            resolve({ ok: false, reason: oom ? `out of memory (heap cap ${o.heapMb} MiB): ${tail}` : `child exited with ${signal ?? `code ${code}`}${tail ? `: ${tail}` : ''}` });
          }
        });
        child.send(current);
      });
      if (outcome.ok) break;
      run.done = mergeStats(run.done, run.live);
      run.live = emptyStats();
      const progress = readProgress(progressFile);
      if (current.mode === 'minimize') break;
      if (progress === null) throw new Error(`fuzz child failed before its first case: ${outcome.reason}`);
      const idx = progress.index;
      const c = current.mode === 'files' ? fileCase(current.files[idx] ?? '') : o.regenerate(idx);
      const hang = outcome.reason.startsWith('no progress');
      const finding: FindingReport = {
        verdict: 'finding',
        target: progress.target,
        kind: hang ? 'hang' : 'crash',
        code: hang ? 'hang' : 'crash',
        message: `the fuzz process ${outcome.reason}`,
        signature: '',
        seedName: c.seedName,
        runSeed: c.runSeed,
        index: current.mode === 'cases' ? idx : null,
        file: c.file,
        mutations: c.mutations,
        bytesBase64: Buffer.from(c.bytes).toString('base64'),
        ms: 0,
      };
      // A hang or crash has no stack to tell two of them apart: its input names it.
      o.collector.add({ ...finding, signature: `${signatureOf({ target: progress.target, kind: finding.kind, code: finding.code, message: outcome.reason.replace(/:.*$/, '') })}|${c.file ?? c.seedName}` });
      restarts++;
      if (current.mode === 'cases') current = { ...current, start: idx + current.stride };
      else if (current.mode === 'files') current = { ...current, files: current.files.slice(idx + 1) };
      if (current.mode === 'files' && current.files.length === 0) break;
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return { stats: mergeStats(run.done, run.live), restarts, ...(minimized ? { minimized } : {}) };
}

function fileCase(file: string): { seedName: string; bytes: Uint8Array; mutations: readonly string[]; runSeed: number | null; file: string | null } {
  return { seedName: file, bytes: existsSync(file) ? new Uint8Array(readFileSync(file)) : new Uint8Array(0), mutations: [], runSeed: null, file };
}

function writeFinding(outDir: string, f: FoundIssue, bytes: Uint8Array, fingerprint: string): string {
  mkdirSync(outDir, { recursive: true });
  const hash = createHash('sha1').update(f.signature).digest('hex').slice(0, 10);
  const base = join(outDir, `${f.target}-${f.kind}-${hash}`);
  writeFileSync(`${base}.onnx`, bytes);
  const meta = {
    status: 'open',
    target: f.target,
    kind: f.kind,
    verdict: f.verdict,
    code: f.code,
    message: f.message,
    stack: f.stack?.split(ROOT).join(''),
    signature: f.signature,
    cases: f.count,
    foundBy: { runSeed: f.runSeed, index: f.index, seed: f.seedName, mutations: f.mutations, seedSet: fingerprint },
    replay: f.runSeed !== null && f.index !== null ? `node fuzz/run.mjs --seed ${f.runSeed} --case ${f.index}` : `node fuzz/run.mjs --replay ${base}.onnx`,
    originalBytes: Buffer.from(f.bytesBase64, 'base64').length,
    minimizedBytes: bytes.length,
  };
  writeFileSync(`${base}.json`, JSON.stringify(meta, null, 2) + '\n');
  return `${base}.onnx`;
}

/** Minimises a hang or crash: each candidate is replayed in a fresh child that may hang or die. */
async function minimizeFatal(bytes: Uint8Array, kind: 'hang' | 'crash', seconds: number, heapMb: number): Promise<Uint8Array> {
  const dir = mkdtempSync(join(tmpdir(), 'onnxkit-fuzz-min-'));
  try {
    const file = join(dir, 'candidate.onnx');
    const r = await minimize(
      bytes,
      async (b) => {
        writeFileSync(file, b);
        const s = await replay([file], { heapMb, hangSeconds: 5 });
        return s.findings.some((x) => x.kind === kind);
      },
      seconds,
    );
    return r.bytes;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function minimizeAll(list: FoundIssue[], o: { seconds: number; hangSecondsBudget?: number; max: number; heapMb: number; hangSeconds: number; outDir: string | undefined; fingerprint: string }): Promise<void> {
  let n = 0;
  for (const f of list) {
    let bytes = new Uint8Array(Buffer.from(f.bytesBase64, 'base64'));
    if ((f.kind === 'hang' || f.kind === 'crash') && (o.hangSecondsBudget ?? 0) > 0 && n < o.max) {
      n++;
      bytes = new Uint8Array(await minimizeFatal(bytes, f.kind, o.hangSecondsBudget!, o.heapMb));
      f.minimizedBytes = bytes.length;
    } else if (o.seconds > 0 && n < o.max && f.kind !== 'hang' && f.kind !== 'crash') {
      n++;
      const collector = new Collector();
      const r = await runJob(
        { mode: 'minimize', bytesBase64: f.bytesBase64, target: f.target, signature: f.signature, seconds: o.seconds, progressFile: '' },
        { heapMb: o.heapMb, hangSeconds: Math.max(o.hangSeconds, o.seconds * 2), collector, onStats: () => undefined, regenerate: () => ({ seedName: '', bytes, mutations: [], runSeed: null, file: null }) },
      );
      if (r.minimized && r.minimized.length <= bytes.length) bytes = new Uint8Array(r.minimized);
      f.minimizedBytes = bytes.length;
    }
    if (o.outDir !== undefined) f.written = writeFinding(o.outDir, f, bytes, o.fingerprint);
  }
}

/** Fuzzes for `seconds` (or `maxCases`) with the given seed; see FuzzOptions. */
export async function fuzz(o: FuzzOptions): Promise<FuzzSummary> {
  const seeds = loadSeeds();
  const factory = new CaseFactory(seeds, o.smallSeedsOnly ?? false);
  const workers = Math.max(1, o.workers ?? Math.min(2, availableParallelism()));
  const analyzeEvery = o.target === 'analyze' ? 1 : (o.analyzeEvery ?? 8);
  const optimizeEvery = o.target === 'optimize' ? 1 : (o.optimizeEvery ?? 40);
  const heapMb = o.heapMb ?? 2048;
  const hangSeconds = o.hangSeconds ?? 30;
  const start = o.start ?? 0;
  const t0 = Date.now();
  const deadline = t0 + o.seconds * 1000;
  const collector = new Collector();
  const live: ShardStats[] = Array.from({ length: workers }, emptyStats);
  let lastReport = 0;
  const jobs = Array.from({ length: workers }, (_, k) =>
    runJob(
      {
        mode: 'cases',
        runSeed: o.seed,
        start: start + k,
        stride: workers,
        end: o.maxCases === undefined ? Number.MAX_SAFE_INTEGER : start + o.maxCases,
        deadline,
        analyzeEvery,
        optimizeEvery,
        smallOnly: o.smallSeedsOnly ?? false,
        progressFile: '',
        keepPerSignature: 2,
      },
      {
        heapMb,
        hangSeconds,
        collector,
        onStats: (s) => {
          live[k] = s;
          if (o.onProgress && Date.now() - lastReport > 2000) {
            lastReport = Date.now();
            o.onProgress({ cases: live.reduce((n, x) => n + x.cases, 0), elapsed: (Date.now() - t0) / 1000, findings: collector.findings.size });
          }
        },
        regenerate: (index) => {
          const c = factory.make(o.seed, index);
          return { seedName: c.seed, bytes: c.bytes, mutations: c.mutations, runSeed: o.seed, file: null };
        },
      },
    ),
  );
  const results = await Promise.all(jobs);
  const stats = results.reduce((acc, r) => mergeStats(acc, r.stats), emptyStats());
  const seconds = (Date.now() - t0) / 1000;
  const findings = [...collector.findings.values()];
  const warnings = [...collector.warnings.values()];
  await minimizeAll(findings, { seconds: o.minimizeSeconds ?? 10, hangSecondsBudget: o.minimizeHangSeconds ?? 0, max: o.minimizeMax ?? 5, heapMb, hangSeconds, outDir: o.outDir, fingerprint: seeds.fingerprint });
  if (o.outDir !== undefined) await minimizeAll(warnings, { seconds: 0, max: 0, heapMb, hangSeconds, outDir: join(o.outDir, 'warnings'), fingerprint: seeds.fingerprint });
  return { seed: o.seed, fingerprint: seeds.fingerprint, cases: stats.cases, seconds, workers, analyzeEvery, optimizeEvery, stats, findings, warnings, restarts: results.reduce((n, r) => n + r.restarts, 0) };
}

/** Holds every file to every property (import, analyze, optimize), each in a supervised child. */
export async function replay(files: readonly string[], o: { heapMb?: number; hangSeconds?: number } = {}): Promise<FuzzSummary> {
  const t0 = Date.now();
  const collector = new Collector();
  const r = await runJob(
    { mode: 'files', files: [...files], progressFile: '', keepPerSignature: 1000 },
    {
      heapMb: o.heapMb ?? 2048,
      hangSeconds: o.hangSeconds ?? 30,
      collector,
      onStats: () => undefined,
      regenerate: (k) => fileCase(files[k] ?? ''),
    },
  );
  return {
    seed: null,
    fingerprint: 'files',
    cases: r.stats.cases,
    seconds: (Date.now() - t0) / 1000,
    workers: 1,
    analyzeEvery: 1,
    optimizeEvery: 1,
    stats: r.stats,
    findings: [...collector.findings.values()],
    warnings: [...collector.warnings.values()],
    restarts: r.restarts,
  };
}

/** The regression inputs kept in fuzz/regressions, sorted. */
export function regressionFiles(dir = REGRESSIONS): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith('.onnx'))
    .sort()
    .map((f) => join(dir, f));
}
