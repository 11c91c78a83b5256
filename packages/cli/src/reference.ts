/**
 * The float64 reference evaluator wired for the runtime's `verifyModels` (runtime may not import
 * passes): loads a model given by path, evaluates it with `evaluateReference`, and turns "cannot
 * evaluate" (an op without a kernel, a custom domain, the memory limit, an input it rejects) into
 * `ok: false` naming the node, so verify falls back to the fixed tolerance and says why.
 */
import { OnnxkitError, type Model, type Tensor } from '@onnxkit/graph';
import { load } from '@onnxkit/importer';
import { evaluateReference, ReferenceInputError, ReferenceMemoryError, ReferenceUnsupportedError } from '@onnxkit/passes';
import type { ReferenceEvaluator, ReferenceRun } from '@onnxkit/runtime';

export interface CliReferenceOptions {
  /** Largest number of bytes the reference may hold at once (default: the evaluator's 4 GiB). */
  memoryLimitBytes?: number;
}

export function createReferenceEvaluator(options: CliReferenceOptions = {}): ReferenceEvaluator {
  return {
    evaluate(model: Model | string, feeds: ReadonlyMap<string, Tensor>, o: { extraOutputs?: readonly string[] | 'all' } = {}): Promise<ReferenceRun> {
      const t0 = performance.now();
      try {
        const m = typeof model === 'string' ? load(model) : model;
        const r = evaluateReference(m, feeds, { memoryLimitBytes: options.memoryLimitBytes, extraOutputs: o.extraOutputs });
        return Promise.resolve({ ok: true, outputs: r.outputs, extra: r.extra, ms: r.ms });
      } catch (e) {
        const ms = performance.now() - t0;
        if (e instanceof ReferenceUnsupportedError) return Promise.resolve({ ok: false, node: e.node, op: e.op, reason: e.message, ms });
        if (e instanceof ReferenceMemoryError || e instanceof ReferenceInputError) return Promise.resolve({ ok: false, node: e.node, op: null, reason: e.message, ms });
        if (e instanceof OnnxkitError) return Promise.resolve({ ok: false, node: 'the model', op: null, reason: e.message, ms });
        throw e;
      }
    },
  };
}
