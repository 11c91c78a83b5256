/**
 * How the CLI turns failures into one line and an exit code:
 * 0 ok · 1 a check failed (not equivalent, verification failed) · 2 bad input or usage ·
 * 70 internal error (a bug: please report it) · 130 interrupted (Ctrl-C).
 */
import { terminalSafe } from './ui.js';
import { OnnxkitError } from '@onnxkit/graph';

export const EXIT = { ok: 0, checkFailed: 1, badInput: 2, internal: 70, interrupted: 130 } as const;

/** Bad usage or bad input detected by the CLI itself (exit 2). */
export class CliError extends OnnxkitError {
  readonly exitCode: number;
  constructor(message: string, options: { hint?: string; exitCode?: number; code?: string } = {}) {
    super(message, { code: options.code ?? 'CLI_USAGE', hint: options.hint });
    this.exitCode = options.exitCode ?? EXIT.badInput;
  }
}

/** Library error codes that mean "the check failed" rather than "the input was bad". */
const CHECK_FAILED_CODES = new Set(['PASS_VERIFY_FAILED', 'NOT_EQUIVALENT']);

interface SystemError extends Error {
  code?: string;
  path?: string;
  syscall?: string;
}

const SYSTEM_MESSAGES: Record<string, string> = {
  ENOENT: 'no such file or directory',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EISDIR: 'is a directory',
  ENOTDIR: 'a path component is not a directory',
  ENOSPC: 'no space left on device',
  EROFS: 'read-only file system',
  EMFILE: 'too many open files',
  // (each was 'internal error … a bug in onnxkit', exit 70: `inspect` of a symlink loop, a path
  // component over 255 bytes)
  ELOOP: 'a loop of symbolic links',
  ENAMETOOLONG: 'the file name is too long',
  EIO: 'input/output error',
  EDQUOT: 'disk quota exceeded',
  EFBIG: 'file too large',
  EBUSY: 'resource busy',
  ENXIO: 'no such device or address',
};

/**
 * A failed write to standard output (a full disk behind `> file`, an I/O error): the output is
 * incomplete, so the command fails (a reader that went away, EPIPE, is not an error: start.ts).
 */
export function stdoutWriteError(e: unknown): CliError {
  const se = e as SystemError;
  const reason = (se && typeof se.code === 'string' && SYSTEM_MESSAGES[se.code]) || (e instanceof Error ? e.message : String(e));
  return new CliError(`cannot write to stdout: ${reason}; the output is incomplete`, { code: 'CLI_STDOUT', hint: 'check the disk or file that stdout is redirected to' });
}

/** One line for the user, and the exit code. Never a stack trace unless ONNXKIT_DEBUG is set. */
export function describeError(e: unknown): { line: string; exitCode: number } {
  const d = describeRaw(e);
  // Names and messages may come from the model: one line, no control characters (issue 13).
  return { line: terminalSafe(d.line, { keepNewlines: false }), exitCode: d.exitCode };
}

function describeRaw(e: unknown): { line: string; exitCode: number } {
  if (e instanceof CliError) return { line: e.oneLine(), exitCode: e.exitCode };
  if (e instanceof OnnxkitError) {
    return { line: e.oneLine(), exitCode: CHECK_FAILED_CODES.has(e.code) ? EXIT.checkFailed : EXIT.badInput };
  }
  const se = e as SystemError;
  if (se && typeof se.code === 'string' && SYSTEM_MESSAGES[se.code]) {
    const what = se.syscall === 'open' || se.syscall === 'stat' || se.syscall === 'scandir' ? 'cannot open' : `cannot ${se.syscall ?? 'access'}`;
    return { line: `${what} '${se.path ?? '?'}': ${SYSTEM_MESSAGES[se.code]}`, exitCode: EXIT.badInput };
  }
  const msg = e instanceof Error ? e.message : String(e);
  return { line: `internal error: ${msg.split('\n')[0]} (this is a bug in onnxkit; rerun with ONNXKIT_DEBUG=1 for the stack trace)`, exitCode: EXIT.internal };
}
