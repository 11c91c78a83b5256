/**
 * The app's verify worker: runs the original and the optimized model in onnxruntime-web (WASM
 * backend, served by the same local server: no network) on seeded synthetic inputs, judges the
 * outputs with the rule of `onnxkit verify` (the fixed fp32 tolerance, then the float64
 * reference: e_b ≤ 2·max e_a + 4 ulp), and times both models in interleaved runs.
 *
 * Shared code, not copies: the seeded inputs, the ORT type mapping, the tolerance comparison and
 * the verdict rule are the runtime package's own browser-safe modules (they import only
 * @onnxkit/graph), imported by path because the runtime's package entry also loads
 * onnxruntime-node. The float64 reference is @onnxkit/passes' evaluateReference, on this worker.
 */
import * as ort from 'onnxruntime-web/wasm';
import wasmUrl from 'onnxruntime-web/ort-wasm-simd-threaded.wasm?url';
import wasmModuleUrl from 'onnxruntime-web/ort-wasm-simd-threaded.mjs?url';
import type { Tensor} from '@onnxkit/graph';
import { OnnxkitError, type Model, type TypedArray } from '@onnxkit/graph';
import { decodeModelBytes } from '@onnxkit/importer/codec';
import { evaluateReference, ReferenceInputError, ReferenceMemoryError, ReferenceUnsupportedError } from '@onnxkit/passes';
import { compareOutputs } from '../../runtime/src/compare.js';
import { judgeOutput, REFERENCE_RULE, ruleText, verdictOf, type OutputJudgement } from '../../runtime/src/reference-judge.js';
import { syntheticInputs } from '../../runtime/src/synthetic.js';
import { dataTypeFromOrt, fromWire, ortTypeName } from '../../runtime/src/wire.js';
import type { VerifyReply, VerifyRequest } from './protocol.js';

ort.env.wasm.numThreads = 1;
ort.env.wasm.wasmPaths = { wasm: wasmUrl, mjs: wasmModuleUrl };

function toOrt(t: Tensor, name: string): ort.Tensor {
  const type = ortTypeName(t.dtype);
  if (type === undefined || type === 'string') throw new OnnxkitError(`input '${name}' has a type onnxruntime-web cannot take here`, { code: 'APP_VERIFY_TYPE' });
  return new ort.Tensor(type as 'float32', t.toArray() as Float32Array, [...t.dims]);
}

function fromOrt(name: string, t: ort.Tensor, label: string): Tensor {
  if (dataTypeFromOrt(t.type) === undefined) throw new OnnxkitError(`output '${name}' of ${label} has type '${t.type}', which onnxkit cannot compare`, { code: 'APP_VERIFY_TYPE' });
  return fromWire({ name, type: t.type, dims: [...t.dims], data: t.data as TypedArray | string[] }, label);
}

async function run(session: ort.InferenceSession, feeds: Record<string, ort.Tensor>, label: string): Promise<{ outputs: Map<string, Tensor>; ms: number }> {
  const t0 = performance.now();
  const out = await session.run(feeds);
  const ms = performance.now() - t0;
  return { outputs: new Map(session.outputNames.map((n) => [n, fromOrt(n, out[n]!, label)] as const)), ms };
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

function reference(model: Model, feeds: ReadonlyMap<string, Tensor>): { ok: true; outputs: Map<string, never>; ms: number } | { ok: false; reason: string; ms: number } {
  const t0 = performance.now();
  try {
    const r = evaluateReference(model, feeds);
    return { ok: true, outputs: r.outputs as Map<string, never>, ms: r.ms };
  } catch (e) {
    if (e instanceof ReferenceUnsupportedError || e instanceof ReferenceMemoryError || e instanceof ReferenceInputError || e instanceof OnnxkitError) {
      return { ok: false, reason: e.message, ms: performance.now() - t0 };
    }
    throw e;
  }
}

async function verify(req: VerifyRequest): Promise<VerifyReply> {
  const original = decodeModelBytes(new Uint8Array(req.original), { file: 'original' }).model;
  const feeds = syntheticInputs(original, { seed: req.seed });
  const ortFeeds = Object.fromEntries([...feeds].map(([n, t]) => [n, toOrt(t, n)] as const));
  const opts: ort.InferenceSession.SessionOptions = { executionProviders: ['wasm'], graphOptimizationLevel: 'all' };
  const sa = await ort.InferenceSession.create(new Uint8Array(req.original), opts);
  const sb = await ort.InferenceSession.create(new Uint8Array(req.optimized), opts);
  const ra = await run(sa, ortFeeds, 'original');
  const rb = await run(sb, ortFeeds, 'optimized');
  const cmp = compareOutputs(ra.outputs, rb.outputs, { outputs: sa.outputNames });
  const ref = reference(original, feeds);
  let judged: OutputJudgement[] | null = null;
  if (ref.ok) judged = sa.outputNames.map((name) => judgeOutput(name, ref.outputs.get(name), ra.outputs.get(name)!, rb.outputs.get(name)!, {}));
  const v = verdictOf(cmp, judged, false);
  // Interleaved timing: A, B, A, B… so drift hits both alike.
  const ta: number[] = [];
  const tb: number[] = [];
  for (let i = 0; i < req.iterations + 1; i++) {
    const a = (await run(sa, ortFeeds, 'original')).ms;
    const b = (await run(sb, ortFeeds, 'optimized')).ms;
    if (i > 0) {
      ta.push(a);
      tb.push(b);
    }
  }
  await sa.release();
  await sb.release();
  return {
    type: 'verified',
    verdict: v.verdict,
    equivalent: v.equivalent,
    reason: v.reason,
    basis: ref.ok ? 'reference' : 'fixed-tolerance',
    referenceUnavailable: ref.ok ? null : ref.reason,
    referenceMs: ref.ms,
    rule: ruleText({}),
    k: REFERENCE_RULE.k,
    outputs: cmp.outputs.map((o, i) => ({ name: o.name, maxAbsError: o.maxAbsError, errorA: judged?.[i]?.a.maxError ?? null, errorB: judged?.[i]?.b.maxError ?? null, pass: judged?.[i]?.pass ?? o.pass })),
    latency: { iterations: req.iterations, originalMs: median(ta), optimizedMs: median(tb) },
  };
}

self.onmessage = async (ev: MessageEvent<VerifyRequest & { id: number }>) => {
  let reply: VerifyReply;
  try {
    reply = await verify(ev.data);
  } catch (e) {
    const err = e as { code?: string; message?: string; hint?: string };
    reply = { type: 'error', code: err.code ?? 'APP_VERIFY', message: `verify failed: ${err.message ?? String(e)}`, ...(err.hint ? { hint: err.hint } : {}) };
  }
  (self as unknown as Worker).postMessage({ ...reply, id: ev.data.id });
};
