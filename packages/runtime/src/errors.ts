/**
 * Typed errors of @onnxkit/runtime.
 *
 * - `RuntimeError`: onnxruntime could not load or run a model, its child process crashed or timed out.
 *   It names the model (`model`) and the step (`step`: 'create' | 'run' | ...).
 * - `VerifyError`: the user's request cannot be answered as asked — inputs missing, extra,
 *   misshaped or mistyped, unreadable input files, models A and B with different interfaces,
 *   or nothing to compare. Messages say which input/output, what was expected and what was got.
 *
 * Both are "bad input" for the CLI (exit code 2); an equivalence *verdict* is never an error.
 */
import { OnnxkitError } from '@onnxkit/graph';

export interface RuntimeErrorOptions {
  code?: string;
  hint?: string;
  cause?: unknown;
  /** The model the error is about (a path or a label). */
  model?: string;
  /** The step that failed: 'encode', 'create', 'run', 'profile', 'release', 'worker'. */
  step?: string;
}

export class RuntimeError extends OnnxkitError {
  readonly model: string | undefined;
  readonly step: string | undefined;
  /** Exit code the CLI should use. */
  readonly exitCode = 2;

  constructor(message: string, options: RuntimeErrorOptions = {}) {
    super(message, { code: 'RUNTIME_ERROR', ...options });
    this.model = options.model;
    this.step = options.step;
  }
}

/** Error codes that mean the onnxruntime child process is gone (a native crash, a kill, a timeout). */
const CHILD_GONE: ReadonlySet<string> = new Set(['RUNTIME_WORKER_CRASH', 'RUNTIME_WORKER_DEAD', 'RUNTIME_TIMEOUT']);

/**
 * True when `e` says the onnxruntime child process died under a model (SIGSEGV, SIGFPE, the OOM
 * killer, a timeout): whatever else lived in that child is lost, but a fresh child can still run
 * another model.
 */
export function isChildDeath(e: unknown): e is RuntimeError {
  return e instanceof RuntimeError && CHILD_GONE.has(e.code);
}

/**
 * onnxruntime died on one of two models (verify, bench --vs) while the other ran: `side` names
 * the one that crashed, `survivor` holds what the other produced (null when nothing could be
 * kept: both crashed, or the other was a session in the dead child). The message is the crash's
 * own one line naming the model, plus what was kept; code, model and step are the crash's.
 */
export class ModelCrashError<S> extends RuntimeError {
  readonly side: 'A' | 'B';
  readonly survivor: S | null;

  constructor(crash: RuntimeError, side: 'A' | 'B', survivor: S | null, kept: string | null) {
    // The hint follows the note on the other model: it must name the model it is about.
    const hint = crash.model !== undefined ? crash.hint?.replace('this model or input', `${crash.model} on this input`).replace('this model', crash.model) : crash.hint;
    super(kept === null ? crash.message : `${crash.message}; ${kept}`, { code: crash.code, hint, cause: crash, model: crash.model, step: crash.step });
    this.side = side;
    this.survivor = survivor;
  }
}

export interface VerifyErrorOptions {
  code?: string;
  hint?: string;
  cause?: unknown;
  /** The input or output the error is about. */
  tensor?: string;
  /** The file the error is about. */
  file?: string;
  /** Byte offset in `file`, when the problem is in its bytes. */
  byteOffset?: number;
}

export class VerifyError extends OnnxkitError {
  readonly tensor: string | undefined;
  readonly file: string | undefined;
  readonly byteOffset: number | undefined;
  /** Exit code the CLI should use. */
  readonly exitCode = 2;

  constructor(message: string, options: VerifyErrorOptions = {}) {
    super(message, { code: 'VERIFY_ERROR', ...options });
    this.tensor = options.tensor;
    this.file = options.file;
    this.byteOffset = options.byteOffset;
  }
}
