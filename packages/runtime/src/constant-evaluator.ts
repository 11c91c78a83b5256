/**
 * An onnxruntime-backed constant evaluator, structurally the `ConstantEvaluator` interface of
 * @onnxkit/passes (`fold-constants` uses it for nodes its TypeScript kernels do not cover):
 * the nodes are copied into a small model whose inputs are initializers holding the given
 * constants and whose outputs are every named output of the nodes; onnxruntime runs it once
 * (optimizations disabled) and the results are returned by Value. Anything onnxruntime cannot
 * do — an unknown op, a subgraph, a model-local function, an output type onnxruntime-node
 * cannot return — yields an empty map ("could not evaluate"), never an exception.
 */
import { Graph, Model, Node, type Tensor, type Value } from '@onnxkit/graph';
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
      if (nodes.some((n) => n.subgraphs().length > 0)) return decline('nodes with subgraphs are not evaluated');
      const g = new Graph({ name: 'constant-evaluation' });
      const mapped = new Map<Value, Value>();
      let k = 0;
      for (const [v, t] of inputs) {
        const name = `c${k++}`;
        mapped.set(v, g.initializer(t.with({ name }), name));
      }
      const produced: [Value, Value][] = [];
      for (const n of nodes) {
        const ins: (Value | null)[] = [];
        for (const v of n.inputs) {
          if (v === null) {
            ins.push(null);
            continue;
          }
          const m = mapped.get(v);
          if (m === undefined) return decline(`input '${v.name}' of ${n.opType} node '${n.name}' is neither given nor computed by the nodes`);
          ins.push(m);
        }
        const copy = new Node(n.opType, ins, {
          domain: n.domain,
          name: n.name,
          attributes: [...n.attributes.values()],
          outputs: n.outputs.map((o) => (o.name === '' ? '' : `o${k++}`)),
        });
        g.append(copy);
        n.outputs.forEach((o, i) => {
          const c = copy.outputs[i]!;
          if (o.name !== '') {
            mapped.set(o, c);
            produced.push([o, c]);
          }
        });
      }
      for (const [, c] of produced) g.addOutput(c);
      const opsets = new Map<string, number>([['', opset]]);
      for (const n of nodes) if (n.domain !== '' && n.domain !== 'ai.onnx' && !opsets.has(n.domain)) opsets.set(n.domain, 1);
      const model = new Model({ graph: g, irVersion: 8, opsetImports: opsets, producerName: 'onnxkit constant evaluator' });
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
