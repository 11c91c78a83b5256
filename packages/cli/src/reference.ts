/**
 * The float64 reference evaluator wired for the runtime's `verifyModels` (runtime may not import
 * passes): evaluates a model with `evaluateReference`, and turns "cannot evaluate" (an op without
 * a kernel, a custom domain, the memory limit, an input it rejects) into `ok: false` naming the
 * node, so verify falls back to the fixed tolerance and says why.
 *
 * It runs on a worker thread (reference-worker.ts) when the built worker file exists, so the
 * command's progress display stays live and the float64 arrays live and die in the worker; from
 * the TypeScript sources (tests) it runs inline.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { DataType, OnnxkitError, type Model, type Tensor } from '@onnxkit/graph';
import { encode, load } from '@onnxkit/importer';
import { evaluateReference, ReferenceInputError, ReferenceMemoryError, ReferenceUnsupportedError } from '@onnxkit/passes';
import type { ReferenceEvaluator, ReferenceRun } from '@onnxkit/runtime';

export interface CliReferenceOptions {
  /** Largest number of bytes the reference may hold at once (default: the evaluator's 4 GiB). */
  memoryLimitBytes?: number;
  /** Run on a worker thread when possible (default true). */
  worker?: boolean;
}

/** @internal the worker protocol */
export interface WireFeed {
  name: string;
  dtype: number;
  dims: number[];
  bytes?: Uint8Array;
  strings?: string[];
}
/** @internal */
export interface WireRequest {
  path?: string;
  bytes?: Uint8Array;
  feeds: WireFeed[];
  memoryLimitBytes?: number;
  extraOutputs?: readonly string[] | 'all';
}
/** @internal */
export type WireResponse =
  | { ok: true; outputs: [string, unknown][]; extra?: [string, unknown][]; ms: number }
  | { ok: false; node: string; op: string | null; reason: string; ms: number };

const WORKER_FILE = fileURLToPath(new URL('./reference-worker.js', import.meta.url));

/** @internal Evaluates on this thread; never throws for a model the reference cannot run. */
export function evaluateInline(model: Model, feeds: ReadonlyMap<string, Tensor>, memoryLimitBytes?: number, extraOutputs?: readonly string[] | 'all'): ReferenceRun {
  const t0 = performance.now();
  try {
    const r = evaluateReference(model, feeds, { memoryLimitBytes, extraOutputs });
    return { ok: true, outputs: r.outputs, extra: r.extra, ms: r.ms };
  } catch (e) {
    const ms = performance.now() - t0;
    if (e instanceof ReferenceUnsupportedError) return { ok: false, node: e.node, op: e.op, reason: e.message, ms };
    if (e instanceof ReferenceMemoryError || e instanceof ReferenceInputError) return { ok: false, node: e.node, op: null, reason: e.message, ms };
    if (e instanceof OnnxkitError) return { ok: false, node: 'the model', op: null, reason: e.message, ms };
    throw e;
  }
}

function inWorker(req: WireRequest, transfer: ArrayBuffer[]): Promise<ReferenceRun> {
  return new Promise((resolve, reject) => {
    const w = new Worker(WORKER_FILE);
    const done = (f: () => void): void => {
      void w.terminate();
      f();
    };
    w.once('message', (res: WireResponse) =>
      done(() => {
        if (!res.ok) return resolve(res);
        const map = (xs: [string, unknown][]): Map<string, never> => new Map(xs as [string, never][]);
        resolve({ ok: true, outputs: map(res.outputs), ...(res.extra ? { extra: map(res.extra) } : {}), ms: res.ms });
      }),
    );
    w.once('error', (e) => done(() => reject(e)));
    w.once('exit', (code) => {
      if (code !== 0) reject(new OnnxkitError(`the float64 reference worker exited with code ${code}`, { code: 'REFERENCE_WORKER_EXIT' }));
    });
    w.postMessage(req, transfer);
  });
}

export function createReferenceEvaluator(options: CliReferenceOptions = {}): ReferenceEvaluator {
  const useWorker = options.worker !== false && existsSync(WORKER_FILE);
  return {
    async evaluate(model: Model | string, feeds: ReadonlyMap<string, Tensor>, o: { extraOutputs?: readonly string[] | 'all' } = {}): Promise<ReferenceRun> {
      if (!useWorker) {
        let m: Model;
        try {
          m = typeof model === 'string' ? load(model) : model;
        } catch (e) {
          if (e instanceof OnnxkitError) return { ok: false, node: 'the model', op: null, reason: e.message, ms: 0 };
          throw e;
        }
        return evaluateInline(m, feeds, options.memoryLimitBytes, o.extraOutputs);
      }
      const transfer: ArrayBuffer[] = [];
      const wire: WireFeed[] = [...feeds].map(([name, t]) => {
        if (t.dtype === DataType.STRING) return { name, dtype: t.dtype, dims: [...t.dims], strings: t.texts() };
        const bytes = t.bytes().slice();
        transfer.push(bytes.buffer as ArrayBuffer);
        return { name, dtype: t.dtype, dims: [...t.dims], bytes };
      });
      const req: WireRequest = { feeds: wire, memoryLimitBytes: options.memoryLimitBytes, extraOutputs: o.extraOutputs };
      if (typeof model === 'string') req.path = model;
      else {
        // Copied, not transferred: the encoder's buffer is not necessarily ours alone.
        req.bytes = encode(model);
      }
      return inWorker(req, transfer);
    },
  };
}
