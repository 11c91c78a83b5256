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
