/**
 * PassError: a rewrite failed, produced an invalid model, or broke the pass contract. The message
 * names the pass, the change (when known) and what ran before, so a user can bisect with
 * `--disable` / `stopAfterChanges`.
 */
import { OnnxkitError, type Diagnostic } from '@onnxkit/graph';
import type { ChangeRecord } from './types.js';

export interface PassErrorDetails {
  /** The pass that failed. */
  pass: string;
  /** Passes that completed before it, in order (with iteration suffixes when repeated). */
  ranBefore: readonly string[];
  /** The change after which verification failed, when known. */
  change?: ChangeRecord;
  /** verify() diagnostics (errors only), when verification failed. */
  diagnostics?: readonly Diagnostic[];
  code?: string;
  hint?: string;
  cause?: unknown;
}

export class PassError extends OnnxkitError {
  readonly pass: string;
  readonly ranBefore: readonly string[];
  readonly change: ChangeRecord | undefined;
  readonly diagnostics: readonly Diagnostic[];

  constructor(message: string, details: PassErrorDetails) {
    const before = details.ranBefore.length ? details.ranBefore.join(', ') : 'nothing';
    // An input refused before any pass ran is no pass's doing: the message names none.
    super(details.code === 'PASS_INPUT_INVALID' ? message : `pass '${details.pass}': ${message} (ran before: ${before})`, {
      code: details.code ?? 'PASS_ERROR',
      hint: details.hint ?? `rerun with --disable ${details.pass} to skip it, or with --stop-after N (API: stopAfterChanges) to bisect the failing change`,
      cause: details.cause,
    });
    this.pass = details.pass;
    this.ranBefore = details.ranBefore;
    this.change = details.change;
    this.diagnostics = details.diagnostics ?? [];
  }
}

/** Formats the first few diagnostics for an error message. */
export function formatDiagnostics(diags: readonly Diagnostic[], limit = 5): string {
  const head = diags.slice(0, limit).map((d) => `[${d.code}] ${d.message}`);
  if (diags.length > limit) head.push(`… and ${diags.length - limit} more`);
  return head.join('; ');
}
