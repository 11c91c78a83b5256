/**
 * Divergence bisection: find the first value, in model A's topological order, whose values
 * differ between A and B.
 *
 * onnxruntime returns only graph outputs, so every intermediate value that exists under the
 * same name in both models (produced by a node in each, of a tensor type onnxruntime-node can
 * return) is added as an extra graph output to copies of A and B.
 *
 * 1. Types and shapes: a session of A's copy with every candidate exposed is created (not run);
 *    onnxruntime's output metadata gives each value's element type and inferred shape, also for
 *    values whose type the model does not declare. If that fails because an undeclared value
 *    has a type onnxruntime-node cannot return, only the declared ones are used.
 * 2. Chunks: candidates are split, in A's order, into chunks of at most `chunkValues` values and
 *    about `chunkBytes` of activations (sizes from the shapes, symbolic dims bound by the feeds).
 *    When everything fits one chunk, the session of step 1 and B's twin are run directly;
 *    otherwise one model's session exists at a time.
 * 3. Each chunk is run in both models on the same inputs and its values compared in order; the
 *    search stops at the first divergence, so memory stays bounded by one chunk.
 *
 * With `reference` (float64 values of A's intermediates, from the reference evaluator) a value
 * diverges when B's value is further from float64 than the budget of reference-judge.ts (2× A's
 * own error + 4 ulp), not when it merely differs by rounding; values the reference did not
 * produce fall back to the fixed tolerance.
 *
 * Names must mean the same thing in both models: a rewrite that keeps a name for a value that
 * legitimately changes (e.g. a Conv output after folding a BatchNorm into it) shows up as a
 * divergence at that value.
 */
import { cloneModel, dataTypeInfo, type Model, type Node, type Tensor, type Value } from '@onnxkit/graph';
import { load } from '@onnxkit/importer';
import { compareTensors, toleranceFor, type CompareOptions, type TensorComparison } from './compare.js';
import { judgeOutput, type OutputJudgement, type ReferenceValue } from './reference-judge.js';
import { RuntimeError, VerifyError } from './errors.js';
import { createSession, type RuntimeSession, type SessionOptions, type ValueMetadata } from './session.js';
import { isOrtIoType } from './wire.js';
import { defaultWorker, type RuntimeWorker } from './worker-client.js';

export interface Divergence {
  /** The first diverging value. */
  value: string;
  /** The node of A that produces it. */
  node: { name: string; opType: string };
  /** Position of that node in A's graph order. */
  nodeIndex: number;
  comparison: TensorComparison;
  /** The float64 judgement of this value (when bisecting against the reference). */
  judgement?: OutputJudgement;
}

/** Sent before each chunk runs. */
export interface BisectProgress {
  phase: 'bisect';
  chunk: number;
  chunks: number;
  valuesChecked: number;
  candidates: number;
}

export interface BisectOptions extends Pick<CompareOptions, 'atol' | 'rtol'> {
  /** Most values exposed per chunk (default 400). */
  chunkValues?: number;
  /** Estimated activation bytes per chunk (default 512 MiB). */
  chunkBytes?: number;
  /** Float64 values of A's intermediates by name: judge against them instead of the fixed tolerance. */
  reference?: ReadonlyMap<string, ReferenceValue>;
  /** Session options for the exposing copies (threads, optimization level — default 'disabled'). */
  sessionOptions?: SessionOptions;
  onProgress?: (p: BisectProgress) => void;
}

export interface BisectResult {
  /** The first diverging value, or null when every shared value matched. */
  firstDivergence: Divergence | null;
  /** Shared values eligible for comparison. */
  candidates: number;
  /** Values actually compared (up to and including the divergence). */
  valuesChecked: number;
  chunks: number;
  /** Shared names skipped, with why (untyped values onnxruntime could not return, etc.). */
  skipped: { value: string; reason: string }[];
}

export interface Candidate {
  name: string;
  node: Node;
  nodeIndex: number;
  typed: boolean;
}

interface Sized extends Candidate {
  bytes: number;
}

function asModel(m: Model | string): Model {
  if (typeof m !== 'string') return m;
  try {
    return load(m);
  } catch (e) {
    throw new VerifyError(`${m}: cannot read the model for bisection: ${(e as Error).message}`, { code: 'VERIFY_MODEL_UNREADABLE', file: m, cause: e });
  }
}

/** Node outputs by name, for the main graph. */
function nodeOutputs(model: Model): Map<string, Value> {
  const m = new Map<string, Value>();
  for (const n of model.graph) for (const o of n.outputs) if (o.name) m.set(o.name, o);
  return m;
}

/** Lists the values of A that can be compared with B, in A's topological order. */
export function bisectCandidates(a: Model, b: Model): { candidates: Candidate[]; skipped: { value: string; reason: string }[] } {
  const inB = nodeOutputs(b);
  const candidates: Candidate[] = [];
  const skipped: { value: string; reason: string }[] = [];
  let index = 0;
  for (const node of a.graph) {
    for (const v of node.outputs) {
      if (!v.name) continue;
      const w = inB.get(v.name);
      if (w === undefined) continue;
      if ((v.type !== null && v.type.kind !== 'tensor') || (w.type !== null && w.type.kind !== 'tensor')) {
        skipped.push({ value: v.name, reason: 'not a tensor' });
        continue;
      }
      // Differing element types under one name are still compared: they show as a divergence.
      const d = v.dtype ?? w.dtype;
      if (d !== undefined && !isOrtIoType(d)) {
        skipped.push({ value: v.name, reason: `onnxruntime-node cannot return ${dataTypeInfo(d).name} tensors` });
        continue;
      }
      candidates.push({ name: v.name, node, nodeIndex: index, typed: v.dtype !== undefined && w.dtype !== undefined });
    }
    index++;
  }
  return { candidates, skipped };
}

/** A copy of `model` whose graph outputs also include `names` (existing outputs are reused). */
function exposing(model: Model, names: readonly string[]): Model {
  const copy = cloneModel(model);
  const g = copy.graph;
  const values = nodeOutputs(copy);
  const already = new Set(g.outputs.map((v) => v.name));
  for (const name of names) {
    if (already.has(name)) continue;
    const v = values.get(name);
    if (v !== undefined) g.addOutput(v);
  }
  return copy;
}

/** Bytes of a value from ORT's metadata, symbolic dims bound by the feeds; NaN if unknown. */
function metadataBytes(m: ValueMetadata, dims: ReadonlyMap<string, number>): number {
  if (m.shape === null || m.dtype === undefined) return NaN;
  let n = 1;
  for (const d of m.shape) {
    const x = typeof d === 'number' ? d : typeof d === 'string' ? dims.get(d) : undefined;
    if (x === undefined) return NaN;
    n *= x;
  }
  return (n * dataTypeInfo(m.dtype).bits) / 8;
}

/** Splits candidates into chunks by count and bytes; unknown sizes count as the largest known. */
function chunk(cands: readonly Sized[], maxValues: number, maxBytes: number): Sized[][] {
  const known = cands.filter((c) => Number.isFinite(c.bytes)).map((c) => c.bytes);
  const fallback = known.length > 0 ? Math.max(...known) : 4 * 2 ** 20;
  const out: Sized[][] = [];
  let cur: Sized[] = [];
  let bytes = 0;
  for (const c of cands) {
    const b = Number.isFinite(c.bytes) ? c.bytes : fallback;
    if (cur.length > 0 && (cur.length >= maxValues || bytes + b > maxBytes)) {
      out.push(cur);
      cur = [];
      bytes = 0;
    }
    cur.push(c);
    bytes += b;
  }
  if (cur.length > 0) out.push(cur);
  return out;
}

/**
 * Runs the bisection with `feeds` (the inputs both models were verified with), in `worker` (default:
 * the shared worker).
 */
export async function bisectModels(
  a: Model | string,
  b: Model | string,
  feeds: ReadonlyMap<string, Tensor>,
  options: BisectOptions & { worker?: RuntimeWorker; labels?: { a: string; b: string } } = {},
): Promise<BisectResult> {
  const ma = asModel(a);
  const mb = asModel(b);
  const maxValues = options.chunkValues ?? 400;
  const maxBytes = options.chunkBytes ?? 512 * 2 ** 20;
  if (!Number.isInteger(maxValues) || maxValues < 1) throw new VerifyError(`chunkValues must be a positive integer, got ${maxValues}`, { code: 'VERIFY_BAD_OPTION' });
  const labels = options.labels ?? { a: 'A', b: 'B' };
  const { candidates: all, skipped } = bisectCandidates(ma, mb);
  const worker = options.worker ?? options.sessionOptions?.worker ?? defaultWorker();
  const open: RuntimeSession[] = [];
  const make = async (m: Model, names: readonly string[], label: string): Promise<RuntimeSession> => {
    const s = await createSession(exposing(m, names), { ...options.sessionOptions, worker, label: `${label} (bisect)` });
    open.push(s);
    return s;
  };
  const closeAll = async (): Promise<void> => {
    for (const s of open.splice(0)) await s.release();
  };
  try {
    // 1. Element types and shapes of every candidate, from onnxruntime's view of A.
    let cands = all;
    let sa: RuntimeSession;
    try {
      sa = await make(ma, cands.map((c) => c.name), labels.a);
    } catch (e) {
      const untyped = cands.filter((c) => !c.typed);
      if (!(e instanceof RuntimeError) || e.step !== 'create' || untyped.length === 0 || !worker.alive) throw e;
      for (const c of untyped) skipped.push({ value: c.name, reason: `type not declared, and exposing it failed: ${e.message.split('\n')[0]!.slice(0, 160)}` });
      cands = cands.filter((c) => c.typed);
      sa = await make(ma, cands.map((c) => c.name), labels.a);
    }
    const metaA = new Map(sa.outputs.map((m) => [m.name, m]));
    const dims = new Map<string, number>();
    for (const m of sa.inputs) {
      const t = feeds.get(m.name);
      m.shape?.forEach((d, i) => {
        if (typeof d === 'string' && t?.dims[i] !== undefined) dims.set(d, t.dims[i]!);
      });
    }
    const sized: Sized[] = [];
    for (const c of cands) {
      const x = metaA.get(c.name);
      if (x === undefined || !x.isTensor || x.dtype === undefined) {
        skipped.push({ value: c.name, reason: 'onnxruntime reports no tensor type for it' });
        continue;
      }
      sized.push({ ...c, bytes: metadataBytes(x, dims) });
    }
    // 2. Chunks. One chunk: run the session above and its twin for B. Several: one model's
    // session at a time, so at most one model and one chunk of activations are in memory.
    const chunks = chunk(sized, maxValues, maxBytes);
    let sb: RuntimeSession | undefined;
    if (chunks.length === 1) sb = await make(mb, chunks[0]!.map((c) => c.name), labels.b);
    else await closeAll();
    let checked = 0;
    for (let ci = 0; ci < chunks.length; ci++) {
      const part = chunks[ci]!;
      const names = part.map((c) => c.name);
      options.onProgress?.({ phase: 'bisect', chunk: ci + 1, chunks: chunks.length, valuesChecked: checked, candidates: sized.length });
      let ra: Map<string, Tensor>;
      let rb: Map<string, Tensor>;
      if (sb !== undefined) {
        ra = await sa.run(feeds, names);
        rb = await sb.run(feeds, names);
      } else {
        const ca = await make(ma, names, labels.a);
        ra = await ca.run(feeds, names);
        await closeAll();
        const cb = await make(mb, names, labels.b);
        rb = await cb.run(feeds, names);
        await closeAll();
      }
      for (const c of part) {
        const ta = ra.get(c.name)!;
        const tb = rb.get(c.name)!;
        checked++;
        const tol = toleranceFor(c.name, ta.dtype, options);
        const ref = options.reference?.get(c.name);
        const judgement = ref !== undefined ? judgeOutput(c.name, ref, ta, tb) : undefined;
        const diverges = judgement !== undefined ? !judgement.pass : !compareTensors(ta, tb, tol, { name: c.name, stats: 'verdict' }).pass;
        if (diverges) {
          return {
            firstDivergence: {
              value: c.name,
              node: { name: c.node.name, opType: c.node.opType },
              nodeIndex: c.nodeIndex,
              comparison: compareTensors(ta, tb, tol, { name: c.name }),
              ...(judgement !== undefined ? { judgement } : {}),
            },
            candidates: sized.length,
            valuesChecked: checked,
            chunks: ci + 1,
            skipped,
          };
        }
      }
    }
    return { firstDivergence: null, candidates: sized.length, valuesChecked: checked, chunks: chunks.length, skipped };
  } finally {
    await closeAll().catch(() => undefined);
  }
}
