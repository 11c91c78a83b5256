/**
 * The fuzzer in CI (issue 7 part 1): every regression input in fuzz/regressions replayed against
 * import, analyze and optimize; then about 45 s of fuzzing with a fixed seed and 45 s with a
 * rotating one (today's date, printed, so a failure replays with `node fuzz/run.mjs --seed S
 * --case I`). A fatal finding fails the test with its seed, case, mutations and stack; its
 * minimised input is written to artifacts/fuzz-findings/ to be moved into fuzz/regressions.
 *
 * Environment: ONNXKIT_FUZZ_SECONDS (per seed, default 45), ONNXKIT_FUZZ_SEED (rotating seed),
 * ONNXKIT_ALLOW_MISSING_CORPUS=1 (fuzz without the backend-corpus seeds instead of failing).
 */
import { readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MemoryProbe } from './memory.js';
import { PACE_MAX, PACE_REFERENCE_MS, RSS_PER_INPUT_BYTE, TIME_LIMIT_MS, checkImport, memoryLimit, paceFactor, paceMs } from './properties.js';
import { formatSummary } from './report.js';
import { dateSeed } from './seed-of-day.js';
import { ROOT, loadSeeds } from './seeds.js';
import { fuzz, regressionFiles, replay, type FoundIssue, type FuzzSummary } from './supervisor.js';
import { concat, lenField } from './wire.js';

const FIXED_SEED = 20_260_101;
const ROTATING_SEED = Number(process.env.ONNXKIT_FUZZ_SEED ?? dateSeed());
const SECONDS = Number(process.env.ONNXKIT_FUZZ_SECONDS ?? 45);
const OUT = join(ROOT, 'artifacts', 'fuzz-findings');
/** A run that gets through fewer cases than this did not really fuzz (broken harness, or a machine far too slow to judge). */
const MIN_CASES = Math.round(SECONDS * 100);

/** Signatures of the open bugs kept in fuzz/regressions (to label a rediscovery as known, not to excuse it). */
function knownSignatures(): Map<string, string> {
  const m = new Map<string, string>();
  for (const f of regressionFiles()) {
    try {
      const meta = JSON.parse(readFileSync(f.replace(/\.onnx$/, '.json'), 'utf8')) as { status?: string; signature?: string; kind?: string };
      // A hang's or crash's signature names no code site: it cannot identify a known bug.
      if (meta.status === 'open' && meta.signature && meta.kind !== 'hang' && meta.kind !== 'crash') m.set(meta.signature, basename(f));
    } catch {
      // A regression without metadata is still replayed; it just cannot label rediscoveries.
    }
  }
  return m;
}
const KNOWN = knownSignatures();

function explain(list: readonly FoundIssue[]): string[] {
  return list.map(
    (f) =>
      `${KNOWN.has(f.signature) ? `(known, open: fuzz/regressions/${KNOWN.get(f.signature)}) ` : ''}[${f.target}/${f.kind}] ${f.message.split('\n')[0]} — from ${f.seedName}` +
      `${f.runSeed !== null && f.index !== null ? ` (replay: node fuzz/run.mjs --seed ${f.runSeed} --case ${f.index})` : ''}` +
      `${f.mutations.length ? `; mutations: ${f.mutations.join(' ; ')}` : ''}${f.written ? `; input: ${f.written}` : ''}`,
  );
}

const totals: { cases: number; seconds: number } = { cases: 0, seconds: 0 };

describe('fuzz: regression inputs', () => {
  it('every input kept in fuzz/regressions passes import, analyze and the default optimize pipeline', async () => {
    const files = regressionFiles();
    expect(files.length, 'fuzz/regressions holds the minimised inputs of every bug found so far').toBeGreaterThan(0);
    const s = await replay(files, { hangSeconds: 10 });
    console.log(formatSummary(s));
    // Every file was run (a hang or crash skips only the file that caused it).
    expect(s.cases + s.restarts).toBe(files.length);
    expect(explain(s.findings)).toEqual([]);
  }, 600_000);
});

describe('fuzz: CI budget', () => {
  it.each([
    ['fixed', FIXED_SEED],
    ['rotating (date)', ROTATING_SEED],
  ])('%s seed %i: only typed errors, round trips hold, every phase under 1 s and within its memory bound', async (_label, seed) => {
    const seeds = loadSeeds();
    if (seeds.missing) console.warn(`fuzz: ${seeds.missing}; fuzzing without corpus seeds (ONNXKIT_ALLOW_MISSING_CORPUS=1)`);
    console.log(`fuzz: seed ${seed} for ${SECONDS} s (replay a case: node fuzz/run.mjs --seed ${seed} --case I)`);
    const s: FuzzSummary = await fuzz({ seed, seconds: SECONDS, minimizeSeconds: 5, minimizeMax: 3, hangSeconds: 15, outDir: OUT });
    console.log(formatSummary(s));
    totals.cases += s.cases;
    totals.seconds += s.seconds;
    expect(s.cases).toBeGreaterThan(MIN_CASES);
    // Each target really ran, and mutated inputs reached both sides of every contract.
    const t = s.stats.targets;
    expect(t.import.verdicts.ok).toBeGreaterThan(s.cases / 10);
    expect(t.import.verdicts.refused).toBeGreaterThan(s.cases / 10);
    expect(t.analyze.runs).toBeGreaterThan(s.cases / 100);
    expect(t.optimize.runs).toBeGreaterThan(s.cases / 1000);
    expect(t.optimize.verdicts.ok).toBeGreaterThan(0);
    expect(s.stats.irCases).toBeGreaterThan(s.cases / 50);
    expect(explain(s.findings)).toEqual([]);
  }, 600_000);

  it('reports the cases covered by this suite', () => {
    console.log(`fuzz: ${totals.cases} cases in ${totals.seconds.toFixed(0)} s across both seeds (issue target: ≥ 100,000 when the machine allows)`);
    expect(totals.cases).toBeGreaterThan(2 * MIN_CASES);
  });
});

describe('fuzz: the measurements themselves', () => {
  it('the slow bound is 1 s at the reference pace or faster, looser only as far as the pace probe runs slower (at most PACE_MAX×)', () => {
    const ms = paceMs();
    console.log(`pace probe now: ${ms.toFixed(2)} ms of CPU (reference ${PACE_REFERENCE_MS} ms; slow bound ${(TIME_LIMIT_MS * paceFactor(ms)).toFixed(0)} ms)`);
    // The probe measures something: a 4 MiB hash eight times over is neither free nor a second long.
    expect(ms).toBeGreaterThan(0.5);
    expect(ms).toBeLessThan(1000);
    expect(paceFactor(PACE_REFERENCE_MS / 2)).toBe(1);
    expect(paceFactor(PACE_REFERENCE_MS)).toBe(1);
    expect(paceFactor(2 * PACE_REFERENCE_MS)).toBeCloseTo(2, 12);
    expect(paceFactor(100 * PACE_REFERENCE_MS)).toBe(PACE_MAX);
  });

  it('the memory probe sees a touched allocation and an untouched one', () => {
    const probe = new MemoryProbe();
    expect(probe.available, 'this Linux exposes /proc/self/clear_refs and VmHWM').toBe(true);
    probe.start();
    const touched = new Uint8Array(96 << 20).fill(1);
    const a = probe.stop();
    expect(touched[12345]).toBe(1);
    expect(a.peakRss!).toBeGreaterThan(90 << 20);
    expect(a.arrayBuffers).toBeGreaterThan(90 << 20);
    probe.start();
    const untouched = new Uint8Array(256 << 20);
    const b = probe.stop();
    expect(untouched.length).toBe(256 << 20);
    // Not resident (calloc'd zero pages), but counted as a buffer: the second measure covers the first's blind spot.
    expect(b.peakRss!).toBeLessThan(64 << 20);
    expect(b.arrayBuffers).toBeGreaterThan(250 << 20);
    probe.close();
  });

  it('structural amplification: 256 KiB of empty NodeProtos stays within the documented bytes-per-input-byte bound', async () => {
    // The worst case found: each 2-byte empty node becomes a Node with maps, arrays and a list cell.
    const nodes = new Uint8Array(1 << 18);
    for (let i = 0; i < nodes.length; i += 2) nodes[i] = 0x0a;
    const bytes = lenField(7, nodes);
    const probe = new MemoryProbe();
    const r = await checkImport(bytes, { probe, confirm: false });
    probe.close();
    expect(r.model?.graph.nodeCount).toBe(1 << 17);
    const perByte = (r.result.memory.peakRss ?? 0) / bytes.length;
    console.log(`structural amplification: ${bytes.length} bytes of empty nodes → +${((r.result.memory.peakRss ?? 0) / 2 ** 20).toFixed(0)} MiB peak RSS (${perByte.toFixed(0)} bytes per input byte, bound ${RSS_PER_INPUT_BYTE}), ${r.result.ms.toFixed(0)} ms`);
    // This test is about memory; on a loaded machine the phase may also pass 1 s ('slow').
    expect(['ok', 'slow']).toContain(r.result.code);
    expect(perByte).toBeGreaterThan(16);
    expect(r.result.memory.peakRss!).toBeLessThan(memoryLimit('import', bytes.length).rss);
    expect(r.result.memory.arrayBuffers).toBeLessThan(memoryLimit('import', bytes.length).buffers);
  });

  it('a case that allocates by a forged length is measured against 4× its size (the importer refuses it first)', async () => {
    // raw_data claiming 2^32 bytes inside a 40-byte file: refused in O(1), no buffer allocated.
    const forged = concat(lenField(7, concat([0x2a, 0x0e, 0x08, 0x01, 0x10, 0x01, 0x4a, 0x80, 0x80, 0x80, 0x80, 0x10, 0x00, 0x00, 0x00, 0x00])));
    const probe = new MemoryProbe();
    const r = await checkImport(forged, { probe });
    probe.close();
    expect(r.result.verdict).toBe('refused');
    expect(r.result.code).toBe('IMPORT_LENGTH');
    expect(r.result.memory.arrayBuffers).toBeLessThan(memoryLimit('import', forged.length).buffers);
  });
});
