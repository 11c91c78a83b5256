/** Models built in code for the codec tests. */
import { Attribute, DataType, Graph, GraphBuilder, Node, Tensor, type Model } from '@onnxkit/graph';

/** A model exercising every attribute kind, many data types, a subgraph and a function. */
export function kitchenSink(): Model {
  const b = new GraphBuilder({ name: 'sink', opset: 18, opsets: { 'com.example': 1 } });
  const x = b.input('x', DataType.FLOAT, ['N', 4]);
  const f32 = Tensor.fromNumbers(DataType.FLOAT, [2], [1.5, -0]);
  const node = b.node('Custom', [x], {}, { domain: 'com.example', outputs: ['y'] });
  node.setAttribute(Attribute.float('f', 0.25));
  node.setAttribute(Attribute.int('i', -(2n ** 63n)));
  node.setAttribute(Attribute.string('s', 'héllo'));
  node.setAttribute(Attribute.tensor('t', f32.with({ name: 'tval' })));
  node.setAttribute(Attribute.floats('floats', [1, NaN, -Infinity]));
  node.setAttribute(Attribute.ints('ints', [0, -1, 2n ** 40n]));
  node.setAttribute(Attribute.strings('strings', ['a', '', 'ü']));
  node.setAttribute(Attribute.tensors('tensors', [Tensor.fromNumbers(DataType.INT64, [2], [-5n, 7n])]));
  node.setAttribute(Attribute.typeProto('tp', { kind: 'sequence', elem: { kind: 'tensor', elemType: DataType.INT8, shape: [3, 'M'] } }));
  node.setAttribute(Attribute.int('big', 2n ** 63n - 1n));
  b.constant('w_f16', Tensor.fromNumbers(DataType.FLOAT16, [3], [1, -2, 0.5]));
  b.constant('w_bf16', Tensor.fromNumbers(DataType.BFLOAT16, [2], [3, -1]));
  b.constant('w_int4', Tensor.fromNumbers(DataType.INT4, [3], [-8, 7, 1]));
  b.constant('w_u64', Tensor.fromNumbers(DataType.UINT64, [1], [2n ** 64n - 1n]));
  b.constant('w_bool', Tensor.fromNumbers(DataType.BOOL, [2], [1, 0]));
  b.constant('w_c64', Tensor.fromArray(DataType.COMPLEX64, [1], Float32Array.of(1, 2)));
  b.constant('w_str', Tensor.fromStrings([2], ['x', 'yz']));
  const cond = b.input('cond', DataType.BOOL, []);
  const thenG = new Graph({ name: 'then' });
  const inner = new Node('Identity', [node.output], { outputs: ['then_out'] });
  thenG.append(inner);
  thenG.addOutput(inner.output);
  inner.output.type = { kind: 'tensor', elemType: DataType.FLOAT, shape: null };
  const elseG = new Graph({ name: 'else' });
  elseG.addOutput(x);
  const ifNode = b.node('If', [cond], { then_branch: thenG, else_branch: elseG }, { outputs: ['z'] });
  b.output(ifNode.output, 'z', { kind: 'tensor', elemType: DataType.FLOAT, shape: null });
  return b.build({ irVersion: 10 });
}
