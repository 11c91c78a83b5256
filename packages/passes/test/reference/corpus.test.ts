// The float64 reference checks itself against the ONNX backend test corpus (libonnx-testdata):
// every model of node/, simple/, pytorch-converted/ and pytorch-operator/ whose ops the reference
// claims (findUnsupportedNode returns null) is evaluated on each test_data_set_*'s inputs and its
// outputs compared with output_*.pb at fp32 tolerance (rtol 1e-3 as the backend runner, atol
// 1e-6; NaN = NaN, signed infinities distinct; integers, bools and strings exactly). A claimed
// model that throws ReferenceUnsupportedError for a form of an op it does not cover (an attribute
// value, a dtype) counts as "declined", never as a pass. Mismatches and other errors are listed in
// reference-corpus-exceptions.json with the reason; the test fails when that list is stale either
// way. Regenerate with UPDATE_REFERENCE_EXCEPTIONS=1 (and review the diff).
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { DataType, Tensor } from '@onnxkit/graph';
import { decode, decodeTensorProto } from '@onnxkit/importer';
import { evaluateReference, findUnsupportedNode, refFromTensor, ReferenceUnsupportedError, type RefTensor } from '@onnxkit/passes';
import { CORPUS_ROOT, corpusAvailable } from '../analysis/corpus.js';

const DIRS = ['node', 'simple', 'pytorch-converted', 'pytorch-operator'] as const;
const RTOL = 1e-3;
const ATOL = 1e-6;
const EXCEPTIONS_FILE = join(import.meta.dirname, 'reference-corpus-exceptions.json');

type Kind = 'pass' | 'unclaimed' | 'declined' | 'io' | 'mismatch' | 'error';

function compare(got: RefTensor, want: RefTensor): string | null {
  if (got.dims.join(',') !== want.dims.join(',')) return `shape [${got.dims.join(',')}] ≠ expected [${want.dims.join(',')}]`;
  const a = got.data as ArrayLike<unknown>;
  const b = want.data as ArrayLike<unknown>;
  let worst = 0;
  let at = -1;
  for (let i = 0; i < b.length; i++) {
    const x = a[i];
    const y = b[i];
    if (typeof x === 'number' && typeof y === 'number') {
      if (Number.isNaN(x) && Number.isNaN(y)) continue;
      if (x === y) continue;
      const err = Math.abs(x - y) / (ATOL + RTOL * Math.abs(y));
      if (!(err <= 1)) {
        if (!(err <= worst)) {
          worst = Number.isNaN(err) ? Infinity : err;
          at = i;
        }
      }
    } else if (typeof x === 'bigint' && typeof y === 'bigint') {
      if (x !== y) return `element ${i}: ${x} ≠ expected ${y}`;
    } else if (x !== y) return `element ${i}: ${String(x)} ≠ expected ${String(y)}`;
  }
  return at < 0 ? null : `element ${at}: ${String(a[at])} vs expected ${String(b[at])} (${worst.toFixed(1)}× the tolerance)`;
}

/** ONNX 1.12's generator stored bfloat16 tensors as uint16: same bits, reinterpreted. */
function bf16(t: Tensor, declared: DataType | undefined): Tensor {
  return declared === DataType.BFLOAT16 && t.dtype === DataType.UINT16 ? Tensor.fromBytes(DataType.BFLOAT16, t.dims, t.bytes()) : t;
}

function check(dir: string): { kind: Kind; detail: string } {
  const model = decode(new Uint8Array(readFileSync(join(dir, 'model.onnx'))));
  const missing = findUnsupportedNode(model);
  if (missing !== null) return { kind: 'unclaimed', detail: missing.op };
  const graphInputs = model.graph.inputs.filter((v) => !v.isInitializer);
  const sets = readdirSync(dir).filter((d) => d.startsWith('test_data_set_')).sort();
  if (sets.length === 0) return { kind: 'io', detail: 'no test data' };
  for (const set of sets) {
    const read = (kind: 'input' | 'output'): (Tensor | null)[] =>
      readdirSync(join(dir, set))
        .filter((f) => f.startsWith(`${kind}_`) && f.endsWith('.pb'))
        .sort((x, y) => Number(x.slice(kind.length + 1, -3)) - Number(y.slice(kind.length + 1, -3)))
        .map((f) => {
          try {
            return decodeTensorProto(new Uint8Array(readFileSync(join(dir, set, f))));
          } catch {
            return null;
          }
        });
    const ins = read('input');
    const outs = read('output');
    if (ins.some((t) => t === null) || outs.some((t) => t === null)) return { kind: 'io', detail: 'a sequence/optional/map input or output' };
    const feeds = new Map<string, Tensor>();
    ins.forEach((t, i) => {
      const v = graphInputs[i];
      if (v !== undefined) feeds.set(v.name, bf16(t!, v.dtype));
    });
    let res;
    try {
      res = evaluateReference(model, feeds);
    } catch (e) {
      if (e instanceof ReferenceUnsupportedError) return { kind: 'declined', detail: e.message };
      return { kind: 'error', detail: `${set}: ${(e as Error).message.split('\n')[0]}` };
    }
    for (let i = 0; i < outs.length; i++) {
      const v = model.graph.outputs[i]!;
      const got = res.outputs.get(v.name)!;
      let want: RefTensor;
      try {
        want = refFromTensor(bf16(outs[i]!, v.dtype));
      } catch (e) {
        return { kind: 'io', detail: (e as Error).message };
      }
      const bad = compare(got, want);
      if (bad !== null) return { kind: 'mismatch', detail: `${set} output '${v.name}': ${bad}` };
    }
  }
  return { kind: 'pass', detail: '' };
}

describe.runIf(corpusAvailable())('float64 reference vs the ONNX backend corpus', () => {
  test('every claimed model matches the expected outputs (or is a listed exception)', () => {
    const counts: Record<Kind, number> = { pass: 0, unclaimed: 0, declined: 0, io: 0, mismatch: 0, error: 0 };
    const failures: Record<string, string> = {};
    const unclaimedOps = new Map<string, number>();
    for (const sub of DIRS) {
      const root = join(CORPUS_ROOT, sub);
      if (!existsSync(root)) continue;
      for (const t of readdirSync(root).filter((d) => d.startsWith('test_') && existsSync(join(root, d, 'model.onnx'))).sort()) {
        const r = check(join(root, t));
        counts[r.kind]++;
        if (r.kind === 'unclaimed') unclaimedOps.set(r.detail, (unclaimedOps.get(r.detail) ?? 0) + 1);
        if (r.kind === 'mismatch' || r.kind === 'error') failures[`${sub}/${t}`] = `${r.kind}: ${r.detail}`;
      }
    }
    const claimed = counts.pass + counts.declined + counts.io + counts.mismatch + counts.error;
    console.log(`reference corpus coverage: ${counts.pass} models match of ${claimed} claimed (${counts.unclaimed} use an op without a reference kernel; ${counts.declined} declined a form; ${counts.io} non-tensor I/O; ${counts.mismatch + counts.error} listed exceptions)`);
    console.log(`most common missing ops: ${[...unclaimedOps].sort((a, b) => b[1] - a[1]).slice(0, 60).map(([op, n]) => `${op} ${n}`).join(', ')}`);
    if (process.env.UPDATE_REFERENCE_EXCEPTIONS === '1') writeFileSync(EXCEPTIONS_FILE, `${JSON.stringify(failures, null, 2)}\n`);
    const listed = JSON.parse(readFileSync(EXCEPTIONS_FILE, 'utf8')) as Record<string, string>;
    expect(Object.keys(failures).sort()).toEqual(Object.keys(listed).sort());
    expect(counts.pass).toBeGreaterThan(500);
  }, 600_000);
});
