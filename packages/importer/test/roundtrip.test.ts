/**
 * Models built in code round-trip through encode → decode with `diffModels` empty, and the
 * decoder resolves names the way ONNX scopes them: subgraphs see enclosing values (the very
 * Value objects), inner names shadow outer ones, training graphs see the main graph, nodes need
 * not be sorted, undefined names become placeholders that survive.
 */
import { describe, expect, it } from 'vitest';
import {
  Attribute,
  DataType,
  Graph,
  GraphBuilder,
  Node,
  OnnxFunction,
  Tensor,
  Value,
  diffModels,
  verify,
  type Model,
  type SparseTensor,
} from '@onnxkit/graph';
import { decode, decodeWithDiagnostics, encode } from '@onnxkit/importer';
import { fBytes, fMsg, model, node, opset, cat, fVarint, valueInfo } from './helpers/pb.js';
import { kitchenSink } from './helpers/models.js';

function roundTrip(m: Model): Model {
  const bytes = encode(m);
  const back = decode(bytes);
  expect(diffModels(m, back, { limit: 50 })).toEqual([]);
  // Decoding and encoding again is a fixed point.
  expect(encode(back)).toEqual(bytes);
  return back;
}

describe('builder models round-trip with diffModels empty', () => {
  it('every attribute kind, many data types, an If with an outer-scope reference', () => {
    const back = roundTrip(kitchenSink());
    const ifNode = back.graph.nodes.find((n) => n.opType === 'If')!;
    const thenG = ifNode.attr('then_branch')!.asGraph();
    // The Identity inside the branch reads the outer node's output: the same Value object.
    expect(thenG.firstNode!.inputs[0]).toBe(back.graph.firstNode!.output);
    // The else branch returns the outer graph input itself.
    expect(ifNode.attr('else_branch')!.asGraph().outputs[0]).toBe(back.graph.inputs[0]);
    expect(verify(back).filter((d) => d.severity === 'error')).toEqual([]);
  });

  it('functions, training info, sparse initializers, metadata, doc strings and annotations', () => {
    const b = new GraphBuilder({ name: 'main', opset: 18, opsets: { local: 1 } });
    const x = b.input('x', DataType.FLOAT, [2]);
    const w = b.floats('w', [2], [1, 2]);
    const y = b.op('Scale', [x, w], {}, { domain: 'local', name: 'call' });
    b.output(y, 'y', { kind: 'tensor', elemType: DataType.FLOAT, shape: [2] });
    const sparse: SparseTensor = { values: Tensor.fromNumbers(DataType.FLOAT, [1], [5], { name: 'sp' }), indices: Tensor.fromNumbers(DataType.INT64, [1], [3]), dims: [4] };
    const sv = new Value({ name: 'sp' });
    sv.sparseValue = sparse;
    b.graph.addSparseInitializer(sv);
    b.graph.metadataProps.set('gk', 'gv');
    b.graph.docString = 'the main graph';
    b.graph.quantizationAnnotations.push({ tensorName: 'w', params: [['SCALE_TENSOR', 'w']] });

    const fx = new Value({ name: 'a' });
    const fw = new Value({ name: 'b' });
    const body = new Graph({ inputs: [fx, fw] });
    const mul = new Node('Mul', [fx, fw], { outputs: ['c'] });
    body.append(mul);
    body.addOutput(mul.output);
    const fn = new OnnxFunction({ domain: 'local', name: 'Scale', graph: body, opsetImports: new Map([['', 18]]), attributeDefaults: [Attribute.float('k', 2)], docString: 'scales' });

    const alg = new Graph({ name: 'algorithm' });
    const upd = new Node('Add', [w, w], { outputs: ['w_new'] });
    alg.append(upd);
    alg.addOutput(upd.output);

    const m = b.build({
      irVersion: 10,
      docString: 'doc',
      metadataProps: new Map([['author', 'me']]),
      functions: [fn],
      trainingInfo: [{ initialization: null, algorithm: alg, initializationBinding: [], updateBinding: [['w', 'w_new']] }],
      modelVersion: 2n ** 62n,
    });
    const back = roundTrip(m);
    // The training graph reads the main graph's initializer: the very same Value.
    const algBack = back.trainingInfo[0]!.algorithm!;
    expect(algBack.firstNode!.inputs[0]).toBe(back.graph.initializers.get('w'));
    expect(back.graph.sparseInitializers.get('sp')!.sparseValue!.dims).toEqual([4]);
    expect(back.functions[0]!.attributeDefaults[0]!.value).toBe(2);
    expect(back.modelVersion).toBe(2n ** 62n);
    expect(back.graph.quantizationAnnotations).toEqual([{ tensorName: 'w', params: [['SCALE_TENSOR', 'w']] }]);
  });

  it('types of intermediate values travel through value_info, unreferenced value_info through danglingValueInfo', () => {
    const b = new GraphBuilder();
    const x = b.input('x', DataType.FLOAT, ['N']);
    const h = b.op('Relu', [x]);
    h.type = { kind: 'tensor', elemType: DataType.FLOAT, shape: ['N'], dimDenotations: ['DATA_BATCH'] };
    b.output(b.op('Neg', [h]), 'y');
    b.graph.danglingValueInfo.push(new Value({ name: 'gone', type: { kind: 'tensor', elemType: DataType.INT8, shape: [] } }));
    const back = roundTrip(b.build());
    expect(back.graph.firstNode!.output.type).toEqual(h.type);
    expect(back.graph.danglingValueInfo.map((v) => v.name)).toEqual(['gone']);
  });

  it('Constant nodes stay nodes', () => {
    const b = new GraphBuilder();
    const c = b.op('Constant', [], { value: Tensor.fromNumbers(DataType.INT64, [2], [1, 2]) });
    b.output(b.op('Identity', [c]), 'y');
    const back = roundTrip(b.build());
    expect(back.graph.nodes.map((n) => n.opType)).toEqual(['Constant', 'Identity']);
    expect(back.graph.initializers.size).toBe(0);
  });
});

describe('name resolution', () => {
  const ifModel = (thenParts: Uint8Array[]): Uint8Array =>
    model([
      node('Relu', ['x'], ['h']),
      node('If', ['c'], ['z'], fMsg(5, fBytes(1, 'then_branch'), fMsg(6, ...thenParts), fVarint(20, 5)), fMsg(5, fBytes(1, 'else_branch'), fMsg(6, fBytes(2, 'else'), fBytes(12, fBytes(1, 'x'))), fVarint(20, 5))),
      fBytes(2, 'g'),
      valueInfo(11, 'x', 1, [1]),
      valueInfo(11, 'c', 9, []),
      valueInfo(12, 'z', 1, [1]),
    ]);

  it('resolves outer-scope references to the outer Value objects, and inner names shadow outer ones', () => {
    const bytes = ifModel([node('Neg', ['h'], ['x']), node('Abs', ['x'], ['t']), fBytes(2, 'then'), fBytes(12, fBytes(1, 't'))]);
    const m = decode(bytes);
    const relu = m.graph.firstNode!;
    const thenG = m.graph.lastNode!.attr('then_branch')!.asGraph();
    const [neg, abs] = thenG.nodes;
    expect(neg!.inputs[0]).toBe(relu.output); // outer 'h'
    expect(abs!.inputs[0]).toBe(neg!.output); // inner 'x' shadows the graph input 'x'
    expect(abs!.inputs[0]).not.toBe(m.graph.inputs[0]);
    // The else branch returns the outer input directly.
    expect(m.graph.lastNode!.attr('else_branch')!.asGraph().outputs[0]).toBe(m.graph.inputs[0]);
    expect(encode(m)).toEqual(bytes);
  });

  it('keeps a subgraph output declaration that differs from the outer value it names, without changing that value', () => {
    // The else branch declares its output 'x' (the outer float[1] input) as float with unknown shape.
    const bytes = model([
      node('If', ['c'], ['z'], fMsg(5, fBytes(1, 'else_branch'), fMsg(6, fBytes(2, 'else'), fMsg(12, fBytes(1, 'x'), fMsg(2, fMsg(1, fVarint(1, 1))))), fVarint(20, 5))),
      fBytes(2, 'g'),
      valueInfo(11, 'x', 1, [1]),
      valueInfo(11, 'c', 9, []),
      valueInfo(12, 'z', 1, [1]),
    ]);
    const m = decode(bytes);
    expect(m.graph.inputs[0]!.type).toEqual({ kind: 'tensor', elemType: DataType.FLOAT, shape: [1] });
    expect(encode(m)).toEqual(bytes);
  });

  it('resolves nodes that are not topologically sorted', () => {
    const bytes = model([node('Neg', ['h'], ['y']), node('Relu', ['x'], ['h']), fBytes(2, 'g'), valueInfo(11, 'x', 1, [1]), valueInfo(12, 'y', 1, [1])]);
    const m = decode(bytes);
    const [neg, relu] = m.graph.nodes;
    expect(neg!.inputs[0]).toBe(relu!.output);
    expect(encode(m)).toEqual(bytes);
  });

  it('gives a name defined nowhere one placeholder Value and a diagnostic, and keeps it on re-encoding', () => {
    const bytes = model([node('Add', ['ghost', 'ghost'], ['y']), fBytes(2, 'g'), valueInfo(12, 'y', 1, [1])]);
    const { model: m, diagnostics } = decodeWithDiagnostics(bytes);
    const add = m.graph.firstNode!;
    expect(add.inputs[0]!.name).toBe('ghost');
    expect(add.inputs[0]).toBe(add.inputs[1]);
    expect(add.inputs[0]!.graph).toBeNull();
    expect(diagnostics).toEqual([
      { code: 'IMPORT_UNDEFINED_NAME', message: expect.stringContaining("'ghost'"), fieldPath: 'ModelProto.graph.node[0].input[0]' },
    ]);
    expect(encode(m)).toEqual(bytes);
  });

  it('makes a graph input that is also an initializer (IR < 4) one Value', () => {
    const w = fMsg(5, fVarint(1, 1), fVarint(2, 1), fBytes(8, 'w'), fBytes(9, new Uint8Array(4)));
    const bytes = cat(fVarint(1, 3), fMsg(7, node('Add', ['x', 'w'], ['y']), fBytes(2, 'g'), w, valueInfo(11, 'x', 1, [1]), valueInfo(11, 'w', 1, [1]), valueInfo(12, 'y', 1, [1])), opset(8));
    const m = decode(bytes);
    const v = m.graph.inputs[1]!;
    expect(v.isGraphInput && v.isInitializer).toBe(true);
    expect(m.graph.initializers.get('w')).toBe(v);
    expect(m.graph.firstNode!.inputs[1]).toBe(v);
    expect(encode(m)).toEqual(bytes);
  });

  it('reports duplicate metadata keys and keeps the last value', () => {
    const bytes = model([fBytes(2, 'g')], fMsg(14, fBytes(1, 'k'), fBytes(2, 'a')), fMsg(14, fBytes(1, 'k'), fBytes(2, 'b')));
    const { model: m, diagnostics } = decodeWithDiagnostics(bytes);
    expect(m.metadataProps.get('k')).toBe('b');
    expect(diagnostics.map((d) => [d.code, d.fieldPath])).toEqual([['IMPORT_DUPLICATE_KEY', 'ModelProto.metadata_props[1]']]);
  });

  it('a model decoded from a file whose graph fields come in any order re-encodes canonically and equal', () => {
    const shuffled = cat(opset(17), fMsg(7, valueInfo(12, 'y', 1, [1]), fBytes(2, 'g'), node('Relu', ['x'], ['y']), valueInfo(11, 'x', 1, [1])), fVarint(1, 8));
    const m = decode(shuffled);
    const canonical = encode(m);
    expect(canonical).not.toEqual(shuffled);
    expect(diffModels(m, decode(canonical))).toEqual([]);
  });
});

describe('codec hints after a pass edits the graph', () => {
  it('drops a conflicting duplicate value_info once the value it described is gone', () => {
    // value_info describes 'h' twice, differently (the second entry is kept as a record).
    const twice = [valueInfo(13, 'h', 1, [1]), valueInfo(13, 'h', 1, ['N'])];
    const bytes = model([node('Relu', ['x'], ['h']), node('Neg', ['h'], ['y']), fBytes(2, 'g'), valueInfo(11, 'x', 1, [1]), valueInfo(12, 'y', 1, [1]), ...twice]);
    const m = decode(bytes);
    expect(encode(m)).toEqual(bytes);
    // A pass replaces Relu by Abs producing a new 'h'.
    const [relu, neg] = m.graph.nodes;
    const abs = new Node('Abs', [m.graph.inputs[0]!], { outputs: ['h2'] });
    m.graph.insertBefore(relu!, abs);
    neg!.setInput(0, abs.output);
    m.graph.remove(relu!, { safe: true });
    abs.output.name = 'h';
    const back = decode(encode(m));
    expect(back.graph.danglingValueInfo).toEqual([]);
    expect(back.graph.firstNode!.output.type).toBeNull();
  });
});
