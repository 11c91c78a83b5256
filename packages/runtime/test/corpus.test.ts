// The ONNX backend test corpus (libonnx-testdata): every model of node/, simple/,
// pytorch-converted/ and pytorch-operator/ is run in onnxruntime through createSession, fed the
// input_*.pb files of each of its test_data_set_* folders
// via loadInputs, and its outputs compared with output_*.pb via compareOutputs — at the backend
// test suite's own tolerances (rtol 1e-3, atol 1e-7; onnx/backend/test/runner). Models
// onnxruntime cannot run (or whose reference outputs it does not reproduce) are listed in
// corpus-exceptions.json with the reason; the test fails when the list is stale either way.
// Regenerate it with UPDATE_CORPUS_EXCEPTIONS=1 (and review the diff).
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { decodeTensorProto } from '@onnxkit/importer';
import { backendTestData, compareOutputs, createSession, loadInputs, RuntimeError, RuntimeWorker, VerifyError, type RuntimeSession } from '@onnxkit/runtime';
import type { Tensor } from '@onnxkit/graph';
import { CORPUS, corpusAvailable } from './helpers.js';

const DIRS = ['node', 'simple', 'pytorch-converted', 'pytorch-operator'] as const;
const TOLERANCE = { atol: 1e-7, rtol: 1e-3 };
const EXCEPTIONS_FILE = join(import.meta.dirname, 'corpus-exceptions.json');

type Kind = 'ok' | 'empty' | 'load' | 'io' | 'run' | 'mismatch';
interface Outcome {
  kind: Kind;
  detail: string;
}

async function check(dir: string, worker: RuntimeWorker): Promise<Outcome> {
  const sets = readdirSync(dir).filter((d) => d.startsWith('test_data_set_')).sort();
  let s: RuntimeSession;
  try {
    s = await createSession(join(dir, 'model.onnx'), { worker });
  } catch (e) {
    if (e instanceof RuntimeError && e.step === 'create' && worker.alive) return { kind: 'load', detail: firstLine(e.message) };
    throw e;
  }
  try {
    if ([...s.inputs, ...s.outputs].some((m) => !m.isTensor)) return { kind: 'io', detail: 'non-tensor input or output (sequence/optional/map)' };
    let compared = 0;
    let empty = false;
    for (const set of sets) {
      const { inputs, outputs } = backendTestData(join(dir, set));
      let feeds: Map<string, Tensor>;
      try {
        feeds = loadInputs(inputs, s, { label: dir });
      } catch (e) {
        if (e instanceof VerifyError) return { kind: 'io', detail: `${set}: ${firstLine(e.message)}` };
        throw e;
      }
      let got: Map<string, Tensor>;
      try {
        got = await s.run(feeds);
      } catch (e) {
        if (e instanceof RuntimeError && e.step === 'run' && worker.alive) return { kind: 'run', detail: `${set}: ${firstLine(e.message)}` };
        throw e;
      }
      const expected = new Map<string, Tensor>();
      outputs.forEach((f, i) => {
        const name = s.outputs[i]?.name ?? `#${i}`;
        expected.set(name, decodeTensorProto(readFileSync(f)).materialize());
      });
      const cmp = compareOutputs(expected, got, TOLERANCE);
      if (cmp.outputs.length > 0 && cmp.outputs.every((o) => o.pass) && cmp.compared === 0) empty = true;
      else if (!cmp.equivalent) return { kind: 'mismatch', detail: `${set}: ${cmp.reason ?? ''}` };
      compared += cmp.compared;
    }
    if (empty && compared === 0) return { kind: 'empty', detail: 'every output is empty' };
    return { kind: 'ok', detail: `${sets.length} data set(s), ${compared} elements` };
  } finally {
    await s.release();
  }
}

function firstLine(s: string): string {
  return s.split('\n')[0]!.replace(/\s+/g, ' ').slice(0, 300);
}

const results = new Map<string, Outcome>();

describe('libonnx-testdata corpus in onnxruntime', () => {
  const present = corpusAvailable();
  const exceptions: Record<string, { kind: Kind; reason: string }> = existsSync(EXCEPTIONS_FILE) ? JSON.parse(readFileSync(EXCEPTIONS_FILE, 'utf8')) : {};

  afterAll(() => {
    if (process.env.UPDATE_CORPUS_EXCEPTIONS === '1' && results.size > 0) {
      const out: Record<string, { kind: Kind; reason: string }> = {};
      for (const [k, v] of [...results].sort(([a], [b]) => a.localeCompare(b))) if (v.kind !== 'ok' && v.kind !== 'empty') out[k] = { kind: v.kind, reason: v.detail };
      writeFileSync(EXCEPTIONS_FILE, `${JSON.stringify(out, null, 2)}\n`);
    }
  });

  for (const sub of DIRS) {
    test(`${sub}/: every model runs and matches its reference outputs, or is a listed exception`, { timeout: 600_000 }, async () => {
      if (!present) return;
      const root = join(CORPUS, sub);
      const names = readdirSync(root).filter((d) => existsSync(join(root, d, 'model.onnx')) && existsSync(join(root, d, 'test_data_set_0'))).sort();
      let worker = new RuntimeWorker();
      const counts: Record<Kind, number> = { ok: 0, empty: 0, load: 0, io: 0, run: 0, mismatch: 0 };
      const unexpected: string[] = [];
      try {
        for (const name of names) {
          const key = `${sub}/${name}`;
          if (!worker.alive) worker = new RuntimeWorker();
          const o = await check(join(root, name), worker);
          results.set(key, o);
          counts[o.kind]++;
          const listed = exceptions[key];
          const passed = o.kind === 'ok' || o.kind === 'empty';
          if (listed === undefined && !passed) unexpected.push(`${key}: ${o.kind}: ${o.detail}`);
          if (listed !== undefined && passed) unexpected.push(`${key}: listed as ${listed.kind} but now passes (stale exception)`);
          if (listed !== undefined && !passed && listed.kind !== o.kind) unexpected.push(`${key}: listed as ${listed.kind}, now ${o.kind}: ${o.detail}`);
        }
      } finally {
        await worker.terminate();
      }
      console.log(`${sub}: ${names.length} models — ${counts.ok} match, ${counts.empty} empty outputs (shapes match, nothing to compare), excepted: ${counts.load} load, ${counts.io} io, ${counts.run} run, ${counts.mismatch} mismatch`);
      if (process.env.UPDATE_CORPUS_EXCEPTIONS !== '1') expect(unexpected).toEqual([]);
      if (sub === 'node') expect(counts.ok).toBeGreaterThanOrEqual(100);
      else expect(counts.ok).toBeGreaterThan(0);
    });
  }
});
