/** Errors of the HTML report: data that cannot be rendered, or the chart library missing. */
import { OnnxkitError } from '@onnxkit/graph';

export class ReportError extends OnnxkitError {
  constructor(message: string, options: { code?: string; hint?: string; cause?: unknown } = {}) {
    super(message, { code: 'REPORT_ERROR', ...options });
  }
}
