/**
 * An onnxruntime-backed constant evaluator, structurally the `ConstantEvaluator` interface of
 * @onnxkit/passes (`fold-constants` uses it for nodes its TypeScript kernels do not cover):
 * the nodes are copied into a small model (evaluation-model.ts, shared with the browser app's
 * onnxruntime-web evaluator) whose inputs are initializers holding the given
 * constants and whose outputs are every named output of the nodes; onnxruntime runs it once
 * (optimizations disabled) and the results are returned by Value. Anything onnxruntime cannot
 * do — an unknown op, a subgraph, a model-local function, an output type onnxruntime-node
 * cannot return — yields an empty map ("could not evaluate"), never an exception.
 */
import type { Node, Tensor, Value } from '@onnxkit/graph';
import { evaluationModel } from './evaluation-model.js';
import { createSession, type SessionOptions } from './session.js';

export interface OrtConstantEvaluator {
  evaluate(nodes: readonly Node[], inputs: ReadonlyMap<Value, Tensor>, opset: number): Promise<Map<Value, Tensor>>;
}

export interface ConstantEvaluatorOptions {
  /** Session options (worker, timeouts). Optimizations are always disabled. */
  sessionOptions?: SessionOptions;
  /** Called with the reason whenever an evaluation is declined or fails. */
  onDecline?: (reason: string) => void;
}

/** Creates the evaluator. */
export function createConstantEvaluator(options: ConstantEvaluatorOptions = {}): OrtConstantEvaluator {
  const decline = (reason: string): Map<Value, Tensor> => {
    options.onDecline?.(reason);
    return new Map();
  };
  return {
    async evaluate(nodes, inputs, opset) {
      if (nodes.length === 0) return new Map();
      const built = evaluationModel(nodes, inputs, opset);
      if (typeof built === 'string') return decline(built);
      const { model, produced } = built;
      let session;
      try {
        session = await createSession(model, { ...options.sessionOptions, graphOptimizationLevel: 'disabled', label: `constant evaluation of ${nodes.length} node(s)` });
      } catch (e) {
        return decline((e as Error).message);
      }
      try {
        const out = await session.run(new Map());
        const result = new Map<Value, Tensor>();
        for (const [orig, c] of produced) {
          const t = out.get(c.name);
          if (t !== undefined) result.set(orig, t.with({ name: orig.name }));
        }
        return result;
      } catch (e) {
        return decline((e as Error).message);
      } finally {
        await session.release();
      }
    },
  };
}
