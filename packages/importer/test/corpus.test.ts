/**
 * Round trip over a corpus no one here wrote: every model of the ONNX backend test data
 * (Debian's libonnx-testdata) must decode, re-encode and re-decode to an equal model, and the
 * re-encoded bytes must run in onnxruntime-node with outputs bit-identical to the original's
 * for every model ORT runs.
 *
 * Two re-encodings are checked. `encode(decode(bytes))` must give the original bytes back,
 * byte for byte (the codec keeps field presence, value_info order and unknown fields). That
 * makes running it in ORT uninformative, so the ORT comparison uses the *canonical* encoding of
 * a `cloneModel` copy, which drops every codec hint and regenerates value_info, presence and
 * ordering from the IR alone.
 *
 * Models ORT cannot run from the ORIGINAL bytes (or whose outputs do not match the test's
 * expected outputs) are listed in corpus-exceptions.json with their class; the test fails when
 * that list is stale. Regenerate it with ONNXKIT_UPDATE_CORPUS_EXCEPTIONS=1.
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type * as ort from 'onnxruntime-node';
import { cloneModel, diffModels, type Model } from '@onnxkit/graph';
import { decode, decodeTensorProto, encode } from '@onnxkit/importer';
import { corpusModels, type CorpusModel } from './helpers/corpus.js';
import { allSameBits, matchesExpected, ortType, run, session, toOrt } from './helpers/ort.js';

type ExceptionClass = 'ort-load-error' | 'ort-run-error' | 'non-tensor-io' | 'unsupported-io-type' | 'mismatch-expected' | 'nondeterministic';
interface Exception {
  class: ExceptionClass;
  reason: string;
}

const EXCEPTIONS_FILE = fileURLToPath(new URL('./corpus-exceptions.json', import.meta.url));
const UPDATE = process.env.ONNXKIT_UPDATE_CORPUS_EXCEPTIONS === '1';

/** ORT messages carry source paths and line numbers of its build; keep the stable part. */
function reasonOf(e: unknown): string {
  const first = String(e instanceof Error ? e.message : e).split('\n')[0]!;
  return first.replace(/\/onnxruntime_src\/\S+:\d+\s*/g, '').replace(/\s+/g, ' ').trim().slice(0, 200);
}

function loadInputs(c: CorpusModel, m: Model, prefix: 'input' | 'output'): Map<string, ReturnType<typeof decodeTensorProto>> | string {
  const ds = join(c.dir, 'test_data_set_0');
  const files = readdirSync(ds)
    .filter((f) => f.startsWith(`${prefix}_`) && f.endsWith('.pb'))
    .sort((a, b) => parseInt(a.slice(prefix.length + 1)) - parseInt(b.slice(prefix.length + 1)));
  const names = prefix === 'input' ? m.graph.inputs.filter((v) => !v.isInitializer).map((v) => v.name) : m.graph.outputs.map((v) => v.name);
  const out = new Map<string, ReturnType<typeof decodeTensorProto>>();
  files.forEach((f, i) => {
    const t = decodeTensorProto(readFileSync(join(ds, f)));
    out.set(t.name || names[i]!, t);
  });
  return out;
}

/** Operators whose outputs are drawn at random (a run of the model is not reproducible). */
const RANDOM_OPS: ReadonlySet<string> = new Set(['Bernoulli', 'Multinomial', 'RandomNormal', 'RandomNormalLike', 'RandomUniform', 'RandomUniformLike']);
const RANDOM_RUNS = 8;

function hasRandomOp(m: Model): boolean {
  for (const g of m.graphs()) for (const n of g) if (RANDOM_OPS.has(n.opType)) return true;
  return false;
}

/** What ORT makes of the original bytes: null when it runs and matches the expected outputs. */
async function classify(c: CorpusModel, bytes: Uint8Array, m: Model, canonical: Uint8Array): Promise<{ exception: Exception | null; bitIdentical: boolean | null }> {
  const io = [...m.graph.inputs.filter((v) => !v.isInitializer), ...m.graph.outputs];
  const nonTensor = io.find((v) => v.type !== null && v.type.kind !== 'tensor');
  if (nonTensor) return { exception: { class: 'non-tensor-io', reason: `'${nonTensor.name}' is a ${nonTensor.type!.kind}` }, bitIdentical: null };
  const odd = io.find((v) => v.dtype !== undefined && ortType(v.dtype) === undefined);
  if (odd) return { exception: { class: 'unsupported-io-type', reason: `'${odd.name}' has element type ${odd.dtype}, which onnxruntime-node cannot feed or return` }, bitIdentical: null };
  const inputs = loadInputs(c, m, 'input') as Map<string, ReturnType<typeof decodeTensorProto>>;
  const feeds: Record<string, ort.Tensor> = {};
  for (const [name, t] of inputs) feeds[name] = toOrt(t);
  let s: ort.InferenceSession;
  try {
    s = await session(bytes);
  } catch (e) {
    return { exception: { class: 'ort-load-error', reason: reasonOf(e) }, bitIdentical: null };
  }
  let first: Record<string, ort.Tensor>;
  try {
    first = await s.run(feeds);
  } catch (e) {
    await s.release();
    return { exception: { class: 'ort-run-error', reason: reasonOf(e) }, bitIdentical: null };
  }
  // A random operator's two runs agree by chance now and then (test_bernoulli draws 10 bits:
  // once in 1,024 runs), which would turn its class into mismatch-expected: a model with one is
  // run until two runs differ, at most RANDOM_RUNS times.
  let differs = false;
  for (let r = 1; r < (hasRandomOp(m) ? RANDOM_RUNS : 2) && !differs; r++) differs = allSameBits(first, await s.run(feeds)) !== null;
  await s.release();
  if (differs) return { exception: { class: 'nondeterministic', reason: 'two runs of the original differ (random operator)' }, bitIdentical: null };
  const reencoded = await run(canonical, feeds);
  const bitIdentical = allSameBits(first, reencoded) === null;
  const expected = loadInputs(c, m, 'output') as Map<string, ReturnType<typeof decodeTensorProto>>;
  for (const [name, t] of expected) {
    const a = first[name];
    const why = a === undefined ? `no output '${name}'` : matchesExpected(a, t);
    if (why !== null) return { exception: { class: 'mismatch-expected', reason: `ORT's output '${name}' differs from the expected output: ${why}` }, bitIdentical };
  }
  return { exception: null, bitIdentical };
}

describe('ONNX backend test corpus', () => {
  const models = corpusModels();

  it('has the corpus (or was explicitly allowed to skip it)', () => {
    if (models.length === 0) {
      console.warn('corpus tests skipped: ONNXKIT_ALLOW_MISSING_CORPUS=1 and libonnx-testdata is not installed');
      return;
    }
    expect(models.length).toBeGreaterThan(1000);
  });

  it('decodes, re-encodes byte-identically, re-decodes equal, and ORT runs the canonical re-encoding bit-identically', { timeout: 300_000 }, async () => {
    if (models.length === 0) return;
    const counts = { decoded: 0, byteIdentical: 0, reDecodedEqual: 0, canonicalEqual: 0, ortRan: 0, bitIdentical: 0, excepted: 0 };
    const byClass: Record<string, number> = {};
    const failures: string[] = [];
    const actual: Record<string, Exception> = {};
    for (const c of models) {
      const bytes = new Uint8Array(readFileSync(c.model));
      let m: Model;
      try {
        m = decode(bytes);
      } catch (e) {
        failures.push(`${c.id}: decode failed: ${(e as Error).message}`);
        continue;
      }
      counts.decoded++;
      const out = encode(m);
      if (Buffer.compare(out, bytes) === 0) counts.byteIdentical++;
      else failures.push(`${c.id}: re-encoding differs from the original bytes (${out.length} vs ${bytes.length} bytes)`);
      const d1 = diffModels(m, decode(out));
      if (d1.length === 0) counts.reDecodedEqual++;
      else failures.push(`${c.id}: re-decoded model differs: ${d1.slice(0, 3).join('; ')}`);
      const canonical = encode(cloneModel(m));
      const d2 = diffModels(m, decode(canonical));
      if (d2.length === 0) counts.canonicalEqual++;
      else failures.push(`${c.id}: canonical re-encoding differs: ${d2.slice(0, 3).join('; ')}`);

      const { exception, bitIdentical } = await classify(c, bytes, m, canonical);
      if (bitIdentical !== null) {
        counts.ortRan++;
        if (bitIdentical) counts.bitIdentical++;
        else failures.push(`${c.id}: ORT outputs of the re-encoded model differ from the original's`);
      }
      if (exception) {
        actual[c.id] = exception;
        counts.excepted++;
        byClass[exception.class] = (byClass[exception.class] ?? 0) + 1;
      }
    }

    const listed: Record<string, Exception> = existsSync(EXCEPTIONS_FILE) ? JSON.parse(readFileSync(EXCEPTIONS_FILE, 'utf8')) : {};
    if (UPDATE) {
      const sorted = Object.fromEntries(Object.entries(actual).sort(([a], [b]) => a.localeCompare(b)));
      writeFileSync(EXCEPTIONS_FILE, `${JSON.stringify(sorted, null, 2)}\n`);
      console.warn(`rewrote ${EXCEPTIONS_FILE} with ${Object.keys(sorted).length} exceptions`);
    } else {
      const ids = new Set(models.map((c) => c.id));
      for (const [id, e] of Object.entries(actual)) {
        const l = listed[id];
        if (l === undefined) failures.push(`${id}: new ORT exception not in corpus-exceptions.json: ${e.class}: ${e.reason}`);
        else if (l.class !== e.class) failures.push(`${id}: exception class changed from ${l.class} to ${e.class}: ${e.reason}`);
      }
      for (const id of Object.keys(listed)) {
        if (ids.has(id) && actual[id] === undefined) failures.push(`${id}: listed in corpus-exceptions.json but now runs and matches; remove it`);
      }
    }
    console.log(
      `corpus: ${models.length} models; decoded ${counts.decoded}; re-encoded byte-identical ${counts.byteIdentical}; ` +
        `re-decoded equal ${counts.reDecodedEqual}; canonical re-encoding equal ${counts.canonicalEqual}; ` +
        `ORT ran ${counts.ortRan} (bit-identical ${counts.bitIdentical}); passing ${models.length - counts.excepted}; ` +
        `excepted ${counts.excepted} ${JSON.stringify(byClass)}`,
    );
    expect(failures).toEqual([]);
    expect(counts.decoded).toBe(models.length);
    expect(counts.bitIdentical).toBe(counts.ortRan);
  });
});
