/** ZooError: a zoo builder was asked for something it cannot build (bad option, unknown model). */
import { OnnxkitError } from '@onnxkit/graph';

export class ZooError extends OnnxkitError {
  constructor(message: string, options: { code?: string; hint?: string; cause?: unknown } = {}) {
    super(message, { code: 'ZOO_OPTIONS', ...options });
  }
}
