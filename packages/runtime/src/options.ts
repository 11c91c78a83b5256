/**
 * `@onnxkit/runtime/options`: checks of option values that need no onnxruntime — the CLI parses
 * its flags with them before (or without) loading the runtime, and the runtime's functions check
 * the same values with the same words when called from code.
 */
import { VerifyError } from './errors.js';

/** A calibration percentile must be in (0, 100]. */
export function checkPercentile(p: number): void {
  if (!(Number.isFinite(p) && p > 0 && p <= 100)) {
    throw new VerifyError(`--percentile must be a number in (0, 100], e.g. 99.99; got ${p}`, { code: 'VERIFY_BAD_OPTION' });
  }
}
