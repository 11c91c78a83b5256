/**
 * IR-level mutations: decode a seed, break it the way a buggy exporter or a bad rewrite would
 * (rewire an input, drop a node, change an attribute's type or value, change an op type, reorder
 * nodes, clash names, change declared types and initializer tensors, change the opset), and
 * re-encode it to bytes. These produce well-formed protobuf with wrong semantics, which byte
 * mutations rarely reach.
 */
import { Attribute, AttributeType, DataType, Graph, Node, Tensor, Value, type Model } from '@onnxkit/graph';
import type { Rng } from './rng.js';

export type IrMutator = (m: Model, rng: Rng) => string | null;

const OPS = ['Conv', 'MatMul', 'Gemm', 'Add', 'Reshape', 'Transpose', 'Concat', 'Slice', 'Gather', 'BatchNormalization', 'Pad', 'Squeeze', 'Unsqueeze', 'Expand', 'Tile', 'ConstantOfShape', 'Range', 'Shape', 'Size', 'Cast', 'Identity', 'Split', 'ReduceMean', 'Softmax', 'LayerNormalization', 'If', 'Loop', 'Scan', 'Constant', 'Resize', 'Einsum', 'NoSuchOp', ''];
const HUGE = [2n ** 62n, -(2n ** 62n), 2n ** 53n - 1n, 2n ** 31n, -1n, 0n, 1_000_000n, 2n ** 63n - 1n];

function nodesOf(m: Model): { graph: Graph; node: Node }[] {
  const out: { graph: Graph; node: Node }[] = [];
  for (const g of m.graphs()) for (const node of g) out.push({ graph: g, node });
  return out;
}

function valuesOf(g: Graph): Value[] {
  const vs: Value[] = [...g.inputs, ...g.initializers.values()];
  for (const n of g) vs.push(...n.outputs.filter((o) => o.name !== ''));
  return vs;
}

const rewireInput: IrMutator = (m, rng) => {
  const all = nodesOf(m).filter((x) => x.node.inputs.length > 0);
  if (all.length === 0) return null;
  const { graph, node } = rng.pick(all);
  const i = rng.int(node.inputs.length + 1);
  const candidates = valuesOf(graph);
  const v = rng.chance(0.15) || candidates.length === 0 ? null : rng.pick(candidates);
  node.setInput(i, v);
  return `rewire(${node.describe()}.input[${i}] := ${v ? `'${v.name}'` : 'null'})`;
};

const dropNode: IrMutator = (m, rng) => {
  const all = nodesOf(m);
  if (all.length === 0) return null;
  const { graph, node } = rng.pick(all);
  graph.remove(node);
  return `drop(${node.describe()})`;
};

function otherTypedAttribute(a: Attribute, rng: Rng): Attribute {
  const kinds: (() => Attribute)[] = [
    () => Attribute.float(a.name, rng.pick([0.5, -1, NaN, Infinity])),
    () => Attribute.int(a.name, rng.pick(HUGE)),
    () => Attribute.string(a.name, rng.pick(['', 'NOTSET', 'x'.repeat(1000)])),
    () => Attribute.ints(a.name, Array.from({ length: rng.int(6) }, () => rng.pick(HUGE))),
    () => Attribute.floats(a.name, [1.5, NaN]),
    () => Attribute.strings(a.name, ['a', 'b']),
    () => Attribute.tensor(a.name, Tensor.fromNumbers(DataType.INT64, [2], [1n, 2n])),
    () => Attribute.graph(a.name, new Graph({ name: 'empty' })),
    () => Attribute.typeProto(a.name, { kind: 'tensor', elemType: DataType.FLOAT, shape: [1] }),
  ];
  for (;;) {
    const b = rng.pick(kinds)();
    if (b.type !== a.type) return b;
  }
}

const attributeType: IrMutator = (m, rng) => {
  const all = nodesOf(m).filter((x) => x.node.attributes.size > 0);
  if (all.length === 0) return null;
  const { node } = rng.pick(all);
  const a = rng.pick([...node.attributes.values()]);
  const b = otherTypedAttribute(a, rng);
  node.setAttribute(b);
  return `attr-type(${node.describe()}.${a.name}: ${AttributeType[a.type]} -> ${AttributeType[b.type]})`;
};

const attributeValue: IrMutator = (m, rng) => {
  const all = nodesOf(m);
  if (all.length === 0) return null;
  const { node } = rng.pick(all);
  const existing = [...node.attributes.values()].filter((a) => a.type === AttributeType.INT || a.type === AttributeType.INTS);
  const name = existing.length > 0 && rng.chance(0.7) ? rng.pick(existing).name : rng.pick(['axis', 'kernel_shape', 'pads', 'strides', 'perm', 'axes', 'group', 'to', 'keepdims', 'dilations']);
  const list = rng.chance(0.7);
  const values = Array.from({ length: rng.int(7) }, () => rng.pick(HUGE));
  node.setAttribute(list ? Attribute.ints(name, values) : Attribute.int(name, values[0] ?? rng.pick(HUGE)));
  return `attr-value(${node.describe()}.${name} := ${list ? `[${values.join(',')}]` : (values[0] ?? '')})`;
};

const opType: IrMutator = (m, rng) => {
  const all = nodesOf(m);
  if (all.length === 0) return null;
  const { node } = rng.pick(all);
  const before = node.opType;
  node.opType = rng.pick(OPS);
  if (rng.chance(0.1)) node.domain = rng.pick(['com.microsoft', 'unknown.domain', 'ai.onnx.ml']);
  return `op-type(${before} -> ${node.domain ? `${node.domain}::` : ''}${node.opType})`;
};

const reorder: IrMutator = (m, rng) => {
  const all = nodesOf(m).filter((x) => x.graph.nodeCount > 1);
  if (all.length === 0) return null;
  const { graph, node } = rng.pick(all);
  graph.remove(node);
  graph.prepend(node);
  return `reorder(${node.describe()} first)`;
};

const nameClash: IrMutator = (m, rng) => {
  const g = m.graph;
  const vs = valuesOf(g);
  if (vs.length < 2) return null;
  const a = rng.pick(vs);
  const b = rng.pick(vs);
  if (a === b || a.isInitializer) return null;
  const before = a.name;
  a.name = b.name;
  return `name-clash('${before}' := '${b.name}')`;
};

const valueType: IrMutator = (m, rng) => {
  const vs = [...m.graph.inputs, ...m.graph.outputs, ...nodesOf(m).flatMap((x) => x.node.outputs)].filter((v) => !v.isInitializer);
  if (vs.length === 0) return null;
  const v = rng.pick(vs);
  const dims = Array.from({ length: rng.int(6) }, () => rng.pick<number | string | null>([1, 0, -1, 2 ** 53 - 1, 2 ** 31, 'N', null, 3]));
  v.type = rng.chance(0.8)
    ? { kind: 'tensor', elemType: rng.pick([DataType.FLOAT, DataType.INT64, DataType.STRING, DataType.BFLOAT16, DataType.FLOAT8E4M3FN, DataType.INT4, 99 as DataType]), shape: rng.chance(0.1) ? null : dims }
    : rng.pick([{ kind: 'sequence', elem: null } as const, { kind: 'optional', elem: { kind: 'tensor', elemType: DataType.FLOAT, shape: [1] } } as const, { kind: 'empty' } as const]);
  return `value-type('${v.name}' := ${JSON.stringify(v.type)})`;
};

const initializerTensor: IrMutator = (m, rng) => {
  const inits = [...m.graph.initializers.values()];
  if (inits.length === 0) return null;
  const v = rng.pick(inits);
  const t = rng.pick([
    () => Tensor.fromNumbers(DataType.FLOAT, [], [1]),
    () => Tensor.fromNumbers(DataType.FLOAT, [0], []),
    () => Tensor.fromNumbers(DataType.INT64, [3], [2n ** 62n, -1n, 0n]),
    () => Tensor.fromNumbers(DataType.INT64, [4], [1n, 1n, 2n ** 31n, 2n ** 31n]),
    () => Tensor.fromStrings([1], ['s']),
    () => Tensor.fromNumbers(DataType.FLOAT16, [2, 1], [1, 2]),
    () => Tensor.fromNumbers(DataType.BOOL, [1], [1]),
  ])().with({ name: v.name });
  v.constValue = t;
  if (rng.chance(0.5)) v.type = { kind: 'tensor', elemType: t.dtype, shape: t.dims };
  return `initializer('${v.name}' := ${t.toString()})`;
};

const opset: IrMutator = (m, rng) => {
  const v = rng.pick([1, 6, 7, 10, 13, 25, 26, 999, 0, -1]);
  if (rng.chance(0.2)) {
    m.opsetImports.delete('');
    return 'opset(removed)';
  }
  m.opsetImports.set('', v);
  return `opset(${v})`;
};

const graphOutputs: IrMutator = (m, rng) => {
  const g = m.graph;
  if (rng.chance(0.3) && g.outputs.length > 0) {
    g.removeOutput(rng.int(g.outputs.length));
    return 'outputs(remove one)';
  }
  const vs = valuesOf(g);
  if (vs.length === 0) return null;
  const v = rng.pick(vs);
  g.addOutput(v);
  return `outputs(add '${v.name}')`;
};

const inputCount: IrMutator = (m, rng) => {
  const all = nodesOf(m);
  if (all.length === 0) return null;
  const { graph, node } = rng.pick(all);
  if (rng.chance(0.5) && node.inputs.length > 0) {
    node.truncateInputs(rng.int(node.inputs.length));
    return `truncate-inputs(${node.describe()} -> ${node.inputs.length})`;
  }
  const vs = valuesOf(graph);
  const extra = rng.range(1, 4);
  for (let k = 0; k < extra; k++) node.setInput(node.inputs.length, vs.length > 0 ? rng.pick(vs) : null);
  return `extra-inputs(${node.describe()} +${extra})`;
};

const selfLoop: IrMutator = (m, rng) => {
  const all = nodesOf(m).filter((x) => x.node.inputs.length > 0 && x.node.outputs.length > 0);
  if (all.length === 0) return null;
  const { node } = rng.pick(all);
  node.setInput(0, node.outputs[0]!);
  return `cycle(${node.describe()} reads its own output)`;
};

const orphanValue: IrMutator = (m, rng) => {
  const all = nodesOf(m).filter((x) => x.node.inputs.length > 0);
  if (all.length === 0) return null;
  const { node } = rng.pick(all);
  const i = rng.int(node.inputs.length);
  node.setInput(i, new Value({ name: rng.pick(['undefined_value', '', 'x']) }));
  return `orphan(${node.describe()}.input[${i}])`;
};

/** Issue 13: a local function calls itself or an earlier one (recursion the importer must refuse). */
const functionRecursion: IrMutator = (m, rng) => {
  if (m.functions.length === 0) return null;
  const f = rng.pick(m.functions);
  const callee = rng.pick(m.functions);
  const nodes = [...f.graph];
  const n = nodes.length > 0 ? rng.pick(nodes) : undefined;
  if (n === undefined || n.inputs.length === 0) return null;
  const call = new Node(callee.name, [n.inputs[0]!], { domain: callee.domain, outputs: [`${callee.name}_rec_${rng.int(1000)}`] });
  f.graph.insertBefore(n, call);
  return `function-recursion(${f.name} → ${callee.name})`;
};

/** Issue 13: duplicate every call in a function body (each level doubles the inlined size). */
const functionFanout: IrMutator = (m, rng) => {
  if (m.functions.length === 0) return null;
  const f = rng.pick(m.functions);
  const calls = [...f.graph].filter((n) => m.findFunction(n.domain, n.opType, n.overload) !== undefined);
  if (calls.length === 0) return null;
  for (const c of calls) {
    const again = new Node(c.opType, c.inputs, { domain: c.domain, outputs: c.outputs.map((o) => `${o.name}_dup_${rng.int(1000)}`) });
    f.graph.insertBefore(c, again);
  }
  return `function-fanout(${f.name}: ${calls.length} call(s))`;
};

/** Issue 13: give an initializer the name of another (two definitions of one name in the bytes). */
const duplicateName: IrMutator = (m, rng) => {
  const inits = [...m.graph.initializers.values()];
  if (inits.length < 2) return null;
  const a = rng.pick(inits);
  const b = rng.pick(inits.filter((v) => v !== a));
  a.name = b.name;
  return `duplicate-name('${b.name}')`;
};

/** Issue 13: float zeros of random sign in an initializer (±0 must survive exact rewrites). */
const signedZero: IrMutator = (m, rng) => {
  const inits = [...m.graph.initializers.values()].filter((v) => v.constValue?.dtype === DataType.FLOAT && v.constValue.size <= 65536);
  if (inits.length === 0) return null;
  const v = rng.pick(inits);
  const t = v.constValue!;
  const zeros = Float32Array.from({ length: t.size }, () => (rng.chance(0.5) ? -0 : 0));
  v.constValue = Tensor.fromArray(DataType.FLOAT, t.dims, zeros, { name: t.name });
  return `signed-zero('${v.name}')`;
};

export const IR_MUTATORS: readonly (readonly [number, string, IrMutator])[] = [
  [3, 'rewire', rewireInput],
  [2, 'drop', dropNode],
  [3, 'attr-type', attributeType],
  [3, 'attr-value', attributeValue],
  [2, 'op-type', opType],
  [1, 'reorder', reorder],
  [1, 'name-clash', nameClash],
  [2, 'value-type', valueType],
  [2, 'initializer', initializerTensor],
  [1, 'opset', opset],
  [1, 'outputs', graphOutputs],
  [2, 'input-count', inputCount],
  [1, 'cycle', selfLoop],
  [1, 'orphan', orphanValue],
  [1, 'function-recursion', functionRecursion],
  [1, 'function-fanout', functionFanout],
  [1, 'duplicate-name', duplicateName],
  [1, 'signed-zero', signedZero],
];

/** Applies 1–3 IR mutations; returns their descriptions (empty when none applied). */
export function mutateModel(m: Model, rng: Rng): string[] {
  const out: string[] = [];
  const n = rng.chance(0.7) ? 1 : rng.range(2, 3);
  for (let k = 0; k < n; k++) {
    for (let attempt = 0; attempt < 4; attempt++) {
      const [, , mut] = rng.weighted(IR_MUTATORS.map((e) => [e[0], e] as const));
      const d = mut(m, rng);
      if (d !== null) {
        out.push(d);
        break;
      }
    }
  }
  return out;
}
