/**
 * The base of onnxkit's typed errors. Every error a user can hit says what went wrong, where
 * (node, tensor, byte offset) and, when there is one, what to do about it.
 */
export class OnnxkitError extends Error {
  /** Stable machine-readable code, e.g. "IMPORT_TRUNCATED". */
  readonly code: string;
  /** What the user can do about it, when there is something. */
  readonly hint: string | undefined;

  constructor(message: string, options: { code?: string; hint?: string; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = options.code ?? 'ONNXKIT_ERROR';
    this.hint = options.hint;
  }

  /** One line for a terminal: message plus hint. */
  oneLine(): string {
    return this.hint ? `${this.message} (${this.hint})` : this.message;
  }
}

/** Misuse of the IR API or a structural inconsistency found while editing a graph. */
export class GraphError extends OnnxkitError {
  constructor(message: string, options: { code?: string; hint?: string; cause?: unknown } = {}) {
    super(message, { code: 'GRAPH_ERROR', ...options });
  }
}
