/**
 * RuntimeWorker: this process's handle on one onnxruntime child process
 * (`worker/ort-child.mjs`). Every native onnxruntime call happens there, so a native fault
 * (a segfault on a pathological model, SIGFPE from INT32_MIN / -1 in an integer Div, an abort,
 * the kernel's OOM killer) ends the child, never the caller: each request pending at that
 * moment is rejected with a RuntimeError naming the model, the step and the signal, and the
 * worker is unusable afterwards (the shared one is replaced on next use).
 *
 * Messages are binary frames over a dedicated pipe (worker/frames.mjs): JSON for the control part,
 * raw bytes for tensors and model bytes. Requests are answered in order; each may have a
 * timeout, after which the child is killed (a native call cannot otherwise be stopped). The
 * child's stdout and stderr are captured, never shown (onnxruntime's own coloured log lines do
 * not reach the user's terminal); their last lines are quoted when the child dies. The child is
 * kept referenced exactly while a request is in flight, so it never holds the process open.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { channel } from 'node:diagnostics_channel';
import type { Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { constants } from 'node:os';
import { RuntimeError } from './errors.js';
// The framing is plain ESM shared with the child (worker/frames.mjs; types in frames.d.mts).
import { frameReader, writeFrame } from '../worker/frames.mjs';

/**
 * The child script sits next to `src/` and `dist/` (packages/runtime/worker/), so the same
 * relative URL works when this module runs from TypeScript sources (vitest) or from dist.
 */
export const WORKER_URL = new URL('../worker/ort-child.mjs', import.meta.url);

/**
 * Published (no message) just before each onnxruntime child process is spawned. The
 * onnxkit command subscribes to it to install its signal handlers (which end the children) only
 * once a child exists, without loading this package for commands that never run onnxruntime
 * (packages/cli/src/interrupt.ts, which names the channel too). A diagnostics channel is
 * process-wide, by name: it reaches the subscriber whichever copy of this module spawns.
 */
export const CHILD_SPAWN_CHANNEL = 'onnxkit:runtime:child-spawn';
const childSpawn = channel(CHILD_SPAWN_CHANNEL);

interface Pending {
  resolve(v: Record<string, unknown>): void;
  reject(e: unknown): void;
  timer: ReturnType<typeof setTimeout> | undefined;
  type: string;
  model: string;
}

type Reply = { id: number; ok: boolean; error?: { name: string; message: string } } & Record<string, unknown>;

export interface RuntimeWorkerOptions {
  /** V8 heap limit of the child (ORT's own memory is native and not limited by this). */
  resourceLimits?: { maxOldGenerationSizeMb?: number; maxYoungGenerationSizeMb?: number };
}

/** What a fatal signal usually means when onnxruntime raises it. */
const SIGNAL_MEANING: Readonly<Record<string, string>> = {
  SIGSEGV: 'a segmentation fault in onnxruntime (e.g. stack exhaustion on a very deep or pathological model)',
  SIGFPE: 'an arithmetic fault in onnxruntime (e.g. integer division of INT32_MIN by -1, or by 0)',
  SIGBUS: 'a bus error in onnxruntime',
  SIGILL: 'an illegal instruction in onnxruntime',
  SIGABRT: 'onnxruntime aborted',
  SIGKILL: 'killed (often the system running out of memory)',
};

const STDERR_TAIL = 4096;

/** Control characters out, one line, at most `max` characters: safe to quote in an error. */
function quoteTail(text: string, max = 240): string {
  const lines = text
    .split(/\r?\n/)
    // eslint-disable-next-line no-control-regex -- stripping control characters is the point
    .map((l) => l.replace(/\x1b\[[0-9;?]*[ -/]*[@-~]/g, '').replace(/[\x00-\x1f\x7f-\x9f]/g, ' ').trim())
    .filter((l) => l.length > 0);
  const last = lines.at(-1) ?? '';
  return last.length > max ? `${last.slice(0, max - 1)}…` : last;
}

export class RuntimeWorker {
  readonly #child: ChildProcess;
  readonly #channel: Socket;
  readonly #pending = new Map<number, Pending>();
  #exited = false;
  #exitPromise: Promise<void>;
  #nextId = 1;
  #dead: RuntimeError | null = null;
  #refed = true;
  #stderr = '';

  constructor(options: RuntimeWorkerOptions = {}) {
    const execArgv: string[] = [];
    const heap = options.resourceLimits?.maxOldGenerationSizeMb;
    if (heap !== undefined) execArgv.push(`--max-old-space-size=${Math.max(16, Math.floor(heap))}`);
    const env = { ...process.env };
    // The child needs none of the parent's flags (test runners add loaders it must not see).
    delete env.NODE_OPTIONS;
    // Before the child exists: a signal cannot fall between its spawn and the handler that ends it.
    if (childSpawn.hasSubscribers) childSpawn.publish(undefined);
    this.#child = spawn(process.execPath, [...execArgv, fileURLToPath(WORKER_URL)], {
      stdio: ['ignore', 'pipe', 'pipe', 'pipe'],
      env,
      windowsHide: true,
    });
    this.#channel = this.#child.stdio[3] as Socket;
    const keep = (chunk: Buffer): void => {
      this.#stderr = (this.#stderr + chunk.toString('utf8')).slice(-STDERR_TAIL);
    };
    this.#child.stdout!.on('data', keep);
    this.#child.stderr!.on('data', keep);
    this.#channel.on('data', frameReader((m) => this.#onMessage(m as Reply)));
    this.#channel.on('error', () => {
      // The child died; 'exit' reports it.
    });
    this.#child.on('error', (e) => this.#die(e, 'could not be started'));
    live.add(this);
    this.#exitPromise = new Promise((resolve) => {
      this.#child.on('exit', (code, signal) => {
        live.delete(this);
        this.#exited = true;
        // Let the pipes drain the last stderr lines before describing the death.
        setImmediate(() => {
          this.#die(undefined, this.#describeExit(code, signal), signal ?? undefined);
          resolve();
        });
      });
    });
    this.#updateRef();
  }

  /** False once the child has exited, crashed, timed out or been terminated. */
  get alive(): boolean {
    return this.#dead === null;
  }

  /** Requests awaiting an answer. */
  get pending(): number {
    return this.#pending.size;
  }

  /** The child's process id (undefined if it could not be started). */
  get pid(): number | undefined {
    return this.#child.pid;
  }

  /**
   * Sends one request. `model` and the request type name the failure in errors; `timeoutMs`
   * bounds the wait (0 or undefined: no limit). A timeout rejects at once and kills the child.
   * `transfer` is accepted for compatibility and ignored (bytes are always sent raw).
   */
  request(type: string, payload: Record<string, unknown>, options: { model: string; timeoutMs?: number; transfer?: ArrayBuffer[] }): Promise<Record<string, unknown>> {
    if (this.#dead) {
      return Promise.reject(
        new RuntimeError(`${options.model}: cannot ${type}: the onnxruntime process is gone (${this.#dead.message})`, {
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
          const err = new RuntimeError(`${options.model}: ${type} did not finish within ${ms} ms; the onnxruntime process was stopped`, {
            code: 'RUNTIME_TIMEOUT',
            model: options.model,
            step: type,
            hint: 'raise the timeout, or use a smaller model or input',
          });
          this.#settle(id);
          reject(err);
          this.#die(err, 'was stopped after a timeout');
          void this.terminate();
        }, ms);
      }
      this.#pending.set(id, pending);
      try {
        writeFrame(this.#channel, { id, type, ...payload });
        this.#updateRef();
      } catch (e) {
        this.#settle(id);
        reject(new RuntimeError(`${options.model}: could not send ${type} to the onnxruntime process: ${(e as Error).message}`, { model: options.model, step: type, cause: e }));
      }
    });
  }

  /** Retires the worker (pending requests are rejected), kills the child and waits for its exit. Idempotent. */
  terminate(): Promise<void> {
    if (this.#dead === null) {
      this.#die(new RuntimeError('the onnxruntime process was terminated', { code: 'RUNTIME_TERMINATED', step: 'terminate' }), 'was terminated');
    }
    if (!this.#exited) {
      this.#updateRef(true);
      this.#child.kill('SIGKILL');
    }
    return this.#exitPromise;
  }

  /** @internal Test hook: makes the child die without answering, by exit code or by a signal. */
  _crashForTesting(code: number | NodeJS.Signals = 70): void {
    writeFrame(this.#channel, typeof code === 'number' ? { id: 0, type: 'crash', code } : { id: 0, type: 'crash', signal: code });
  }

  #describeExit(code: number | null, signal: NodeJS.Signals | null): string {
    const tail = quoteTail(this.#stderr);
    const said = tail ? ` (its last words: "${tail}")` : '';
    if (signal !== null) {
      const meaning = SIGNAL_MEANING[signal];
      const num = (constants.signals as Record<string, number>)[signal];
      return `was killed by ${signal}${num !== undefined ? ` (signal ${num})` : ''}${meaning ? `: ${meaning}` : ''}${said}`;
    }
    return `exited with code ${code}${said}`;
  }

  #settle(id: number): Pending | undefined {
    const p = this.#pending.get(id);
    if (p === undefined) return undefined;
    this.#pending.delete(id);
    if (p.timer !== undefined) clearTimeout(p.timer);
    this.#updateRef();
    return p;
  }

  #onMessage(m: Reply): void {
    const p = this.#settle(m.id);
    if (p === undefined) return;
    if (m.ok) p.resolve(m);
    else {
      const msg = m.error?.message ?? 'unknown error';
      p.reject(new RuntimeError(`${p.model}: onnxruntime failed to ${p.type}: ${msg}`, { code: `RUNTIME_${p.type.toUpperCase()}_FAILED`, model: p.model, step: p.type }));
    }
  }

  #die(cause: unknown, what: string, signal?: string): void {
    if (this.#dead === null) {
      this.#dead =
        cause instanceof RuntimeError
          ? cause
          : new RuntimeError(`the onnxruntime process ${what}${cause instanceof Error ? `: ${cause.message}` : ''}`, { code: 'RUNTIME_WORKER_CRASH', step: 'worker', cause });
      if (!this.#exited) this.#child.kill('SIGKILL');
    }
    for (const [id, p] of [...this.#pending]) {
      this.#settle(id);
      p.reject(
        new RuntimeError(`${p.model}: the onnxruntime process ${what} during ${p.type}${cause instanceof Error && !(cause instanceof RuntimeError) ? `: ${cause.message}` : ''}`, {
          code: 'RUNTIME_WORKER_CRASH',
          model: p.model,
          step: p.type,
          cause,
          hint:
            signal !== undefined && signal !== 'SIGKILL'
              ? 'onnxruntime cannot run this model or input; check the model (or report it to onnxruntime)'
              : 'the model may exhaust memory or hit an onnxruntime bug; try fewer threads or a smaller input',
        }),
      );
    }
    this.#updateRef();
  }

  #updateRef(force?: boolean): void {
    const want = force ?? (this.#pending.size > 0 && !this.#exited);
    if (want === this.#refed) return;
    this.#refed = want;
    for (const h of [this.#child, this.#channel, this.#child.stdout, this.#child.stderr] as ({ ref(): void; unref(): void } | null)[]) {
      if (h === null) continue;
      if (want) h.ref();
      else h.unref();
    }
  }
}

let shared: RuntimeWorker | null = null;
/** Workers whose child has not exited yet. */
const live = new Set<RuntimeWorker>();

/**
 * Ends every onnxruntime child of this process (native calls in flight are abandoned: they run
 * in another process, so nothing here can be corrupted) and resolves once they have exited.
 * For Ctrl-C handlers.
 */
export async function shutdownRuntime(): Promise<void> {
  shared = null;
  await Promise.all([...live].map((w) => w.terminate()));
}

/**
 * The process-wide worker used when no other is given: started on first use, replaced when it
 * has died, idle (unref'd) between calls. Sharing it means one child start-up per process,
 * not one per session, and sessions on it never run at the same time.
 */
export function defaultWorker(): RuntimeWorker {
  if (shared === null || !shared.alive) shared = new RuntimeWorker();
  return shared;
}

/**
 * Starts the process-wide child now (idempotent): a command that will run onnxruntime calls this
 * first, so the child's start-up (spawning node, loading onnxruntime, its one-time set-up) runs
 * while this process loads and decodes, instead of after. An idle child never holds the process
 * open. Cheap to import: `@onnxkit/runtime/start` loads only this module.
 */
export function startRuntime(): void {
  defaultWorker();
}
