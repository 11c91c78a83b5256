/**
 * Typed errors of the analyses. A model's content never makes an analysis throw (that becomes
 * a diagnostic); these are for bad arguments from the caller: an `--input-shape` naming no
 * input, a device profile that does not parse.
 */
import { OnnxkitError } from '@onnxkit/graph';

/** A requested input shape does not fit the model (unknown input, wrong rank, bad dim). */
export class ShapeError extends OnnxkitError {
  constructor(message: string, options: { code?: string; hint?: string } = {}) {
    super(message, { code: 'SHAPE_ERROR', ...options });
  }
}

/** A device profile is malformed or unknown. */
export class DeviceProfileError extends OnnxkitError {
  constructor(message: string, options: { code?: string; hint?: string } = {}) {
    super(message, { code: 'DEVICE_PROFILE_ERROR', ...options });
  }
}

/** An analysis option is invalid (e.g. `--bits 0`). */
export class AnalysisError extends OnnxkitError {
  constructor(message: string, options: { code?: string; hint?: string } = {}) {
    super(message, { code: 'ANALYSIS_ERROR', ...options });
  }
}
