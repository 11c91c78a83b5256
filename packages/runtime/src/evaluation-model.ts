/**
 * The model a constant evaluator runs for `fold-constants` (browser-safe: it imports only
 * @onnxkit/graph, so the browser app's onnxruntime-web evaluator builds the very same model as
 * constant-evaluator.ts does for onnxruntime-node): the nodes are copied into a small model whose
 * inputs are initializers holding the given constants and whose outputs are every named output
 * of the nodes.
 */
import { Graph, Model, Node, type Tensor, type Value } from '@onnxkit/graph';

export interface EvaluationModel {
  model: Model;
  /** Each named output of the given nodes, with its output in `model`. */
  produced: [Value, Value][];
}

/** The evaluation model, or the reason it cannot be built (a string). */
export function evaluationModel(nodes: readonly Node[], inputs: ReadonlyMap<Value, Tensor>, opset: number): EvaluationModel | string {
  if (nodes.some((n) => n.subgraphs().length > 0)) return 'nodes with subgraphs are not evaluated';
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
      if (m === undefined) return `input '${v.name}' of ${n.opType} node '${n.name}' is neither given nor computed by the nodes`;
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
  return { model: new Model({ graph: g, irVersion: 8, opsetImports: opsets, producerName: 'onnxkit constant evaluator' }), produced };
}
