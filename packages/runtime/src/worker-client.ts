/**
 * RuntimeWorker: the main-thread handle of one onnxruntime worker thread
 * (`worker/ort-worker.mjs`). Requests are answered in order; each may have a timeout; a worker
 * that exits or throws rejects every pending request with a RuntimeError naming the model and
 * the step, and is unusable afterwards.
 *
 * A thread inside a native onnxruntime call cannot be stopped: terminating it (or exiting the
 * process) while ORT runs aborts the whole process ("terminate called after throwing an
 * instance of 'Napi::Error'"). So a timed-out request is rejected at once, the worker is
 * retired (no new requests), and it is terminated only after the native call has returned.
 * For the same reason the worker keeps the process alive exactly while a call is in flight, and
 * is unref'd when idle so it never holds the process open on its own.
 */
import { Worker } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
import { RuntimeError } from './errors.js';

/**
 * The worker script sits next to `src/` and `dist/` (packages/runtime/worker/), so the same
 * relative URL works when this module runs from TypeScript sources (vitest) or from dist.
 */
export const WORKER_URL = new URL('../worker/ort-worker.mjs', import.meta.url);

interface Pending {
  resolve(v: Record<string, unknown>): void;
  reject(e: unknown): void;
  timer: ReturnType<typeof setTimeout> | undefined;
  type: string;
  model: string;
}

type Reply = { id: number; ok: boolean; error?: { name: string; message: string } } & Record<string, unknown>;

export interface RuntimeWorkerOptions {
  /** V8 heap limits of the worker (ORT's own memory is native and not limited by these). */
  resourceLimits?: { maxOldGenerationSizeMb?: number; maxYoungGenerationSizeMb?: number };
}

export class RuntimeWorker {
  readonly #worker: Worker;
  readonly #pending = new Map<number, Pending>();
  /** Requests posted and not yet answered by the worker (timed-out ones included). */
  #inFlight = 0;
  #idleWaiters: (() => void)[] = [];
  #exited = false;
  #nextId = 1;
  #dead: RuntimeError | null = null;
  #refed = true;
  #terminating: Promise<void> | null = null;

  constructor(options: RuntimeWorkerOptions = {}) {
    this.#worker = new Worker(fileURLToPath(WORKER_URL), {
      resourceLimits: options.resourceLimits,
      // The worker needs none of the parent's flags (test runners add loaders it must not see).
      execArgv: [],
    });
    this.#worker.on('message', (m: Reply) => this.#onMessage(m));
    this.#worker.on('error', (e) => this.#die(e, 'threw an uncaught exception'));
    live.add(this);
    this.#worker.on('exit', (code) => {
      live.delete(this);
      this.#exited = true;
      this.#inFlight = 0;
      this.#die(undefined, `exited with code ${code}`);
      this.#wakeIdle();
    });
    this.#updateRef();
  }

  /** False once the worker has exited, crashed, timed out or been terminated. */
  get alive(): boolean {
    return this.#dead === null;
  }

  /** Requests awaiting an answer. */
  get pending(): number {
    return this.#pending.size;
  }

  /**
   * Sends one request. `model` and the request type name the failure in errors; `timeoutMs`
   * bounds the wait (0 or undefined: no limit). A timeout rejects at once and retires the worker.
   */
  request(type: string, payload: Record<string, unknown>, options: { model: string; timeoutMs?: number; transfer?: ArrayBuffer[] }): Promise<Record<string, unknown>> {
    if (this.#dead) {
      return Promise.reject(
        new RuntimeError(`${options.model}: cannot ${type}: the onnxruntime worker is gone (${this.#dead.message})`, {
          code: 'RUNTIME_WORKER_DEAD',
          model: options.model,
          step: type,
          cause: this.#dead,
          hint: 'create a new session',
        }),
      );
    }
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      const pending: Pending = { resolve, reject, timer: undefined, type, model: options.model };
      if (options.timeoutMs !== undefined && options.timeoutMs > 0 && Number.isFinite(options.timeoutMs)) {
        const ms = options.timeoutMs;
        pending.timer = setTimeout(() => {
          const err = new RuntimeError(`${options.model}: ${type} did not finish within ${ms} ms; the onnxruntime worker was retired`, {
            code: 'RUNTIME_TIMEOUT',
            model: options.model,
            step: type,
            hint: 'raise the timeout, or use a smaller model or input',
          });
          this.#settle(id);
          reject(err);
          this.#die(err, 'was retired after a timeout');
          void this.terminate();
        }, ms);
      }
      this.#pending.set(id, pending);
      try {
        this.#worker.postMessage({ id, type, ...payload }, options.transfer ?? []);
        this.#inFlight++;
        this.#updateRef();
      } catch (e) {
        this.#settle(id);
        reject(new RuntimeError(`${options.model}: could not send ${type} to the onnxruntime worker: ${(e as Error).message}`, { model: options.model, step: type, cause: e }));
      }
    });
  }

  /**
   * Retires the worker (pending requests are rejected) and ends its thread once no native call
   * is in flight. Idempotent.
   */
  terminate(): Promise<void> {
    if (this.#dead === null) {
      this.#die(new RuntimeError('the onnxruntime worker was terminated', { code: 'RUNTIME_TERMINATED', step: 'terminate' }), 'was terminated');
    }
    this.#terminating ??= (async () => {
      if (!this.#exited && this.#inFlight > 0) await new Promise<void>((r) => this.#idleWaiters.push(r));
      if (!this.#exited) await this.#worker.terminate();
    })();
    return this.#terminating;
  }

  /** @internal Test hook: makes the worker exit without answering, like a native crash. */
  _crashForTesting(code = 70): void {
    this.#worker.postMessage({ id: 0, type: 'crash', code });
  }

  #wakeIdle(): void {
    for (const w of this.#idleWaiters.splice(0)) w();
  }

  #settle(id: number): Pending | undefined {
    const p = this.#pending.get(id);
    if (p === undefined) return undefined;
    this.#pending.delete(id);
    if (p.timer !== undefined) clearTimeout(p.timer);
    return p;
  }

  #onMessage(m: Reply): void {
    if (this.#inFlight > 0) this.#inFlight--;
    if (this.#inFlight === 0) this.#wakeIdle();
    this.#updateRef();
    const p = this.#settle(m.id);
    if (p === undefined) return;
    if (m.ok) p.resolve(m);
    else {
      const msg = m.error?.message ?? 'unknown error';
      p.reject(new RuntimeError(`${p.model}: onnxruntime failed to ${p.type}: ${msg}`, { code: `RUNTIME_${p.type.toUpperCase()}_FAILED`, model: p.model, step: p.type }));
    }
  }

  #die(cause: unknown, what: string): void {
    if (this.#dead === null) {
      this.#dead =
        cause instanceof RuntimeError
          ? cause
          : new RuntimeError(`the onnxruntime worker ${what}${cause instanceof Error ? `: ${cause.message}` : ''}`, { code: 'RUNTIME_WORKER_CRASH', step: 'worker', cause });
    }
    for (const [id, p] of [...this.#pending]) {
      this.#settle(id);
      p.reject(
        new RuntimeError(`${p.model}: the onnxruntime worker ${what} during ${p.type}${cause instanceof Error && !(cause instanceof RuntimeError) ? `: ${cause.message}` : ''}`, {
          code: 'RUNTIME_WORKER_CRASH',
          model: p.model,
          step: p.type,
          cause,
          hint: 'the model may exhaust memory or hit an onnxruntime bug; try fewer threads or a smaller input',
        }),
      );
    }
    this.#updateRef();
  }

  #updateRef(): void {
    const want = this.#inFlight > 0 && !this.#exited;
    if (want === this.#refed) return;
    this.#refed = want;
    if (want) this.#worker.ref();
    else this.#worker.unref();
  }
}

let shared: RuntimeWorker | null = null;
/** Workers whose thread has not exited yet. */
const live = new Set<RuntimeWorker>();

/**
 * Retires every runtime worker of this process and resolves once their threads have ended,
 * which waits for a native onnxruntime call in flight to return: only then is `process.exit`
 * safe (exiting during a native call aborts the process). For Ctrl-C handlers.
 */
export async function shutdownRuntime(): Promise<void> {
  shared = null;
  await Promise.all([...live].map((w) => w.terminate()));
}

/**
 * The process-wide worker used when no other is given: started on first use, replaced when it
 * has died, idle (unref'd) between calls. Sharing it means one worker start-up per process,
 * not one per session, and sessions on it never run at the same time.
 */
export function defaultWorker(): RuntimeWorker {
  if (shared === null || !shared.alive) shared = new RuntimeWorker();
  return shared;
}
