// The decoder shares immutable objects decoded from identical bytes (attributes, types,
// initializer types) and binds a chain input to the previous node's output without a lookup:
// what is shared must be exactly what a fresh decode gives, and nothing that carries a finding,
// raw bits or unknown fields may be shared.
import { describe, expect, it } from 'vitest';
import { AttributeType, DataType } from '@onnxkit/graph';
import { decode, decodeWithDiagnostics, encode } from '@onnxkit/importer';
import { cat, fBytes, fFloat, fMsg, fVarint, model, node, tag, valueInfo } from './helpers/pb.js';

const alpha = (v: number, ...extra: Uint8Array[]): Uint8Array => fMsg(5, fBytes(1, 'alpha'), fFloat(2, v), ...extra);
const FLOAT_TYPE = fVarint(20, AttributeType.FLOAT);

/** Nodes `n0..n{k-1}` in a chain x -> y{k-1}, each with the given attribute bytes. */
function chain(attrs: Uint8Array[], ...graphParts: Uint8Array[]): Uint8Array {
  const nodes = attrs.map((a, i) => node('LeakyRelu', [i === 0 ? 'x' : `y${i - 1}`], [`y${i}`], a));
  return model([...nodes, fBytes(2, 'g'), valueInfo(11, 'x', DataType.FLOAT, [2]), valueInfo(12, `y${attrs.length - 1}`, DataType.FLOAT, [2]), ...graphParts]);
}

describe('objects shared by the decoder', () => {
  it('shares an attribute decoded from identical bytes, and only such', () => {
    const bytes = chain([alpha(0.5, FLOAT_TYPE), alpha(0.5, FLOAT_TYPE), alpha(0.25, FLOAT_TYPE)]);
    const m = decode(bytes);
    const [a, b, c] = m.graph.nodes.map((n) => n.attr('alpha')!);
    expect(a).toBe(b);
    expect(c).not.toBe(a);
    expect(c!.value).toBe(0.25);
    expect(encode(m)).toEqual(bytes);
  });

  it('shares INTS attributes (a bigint per element) and re-encodes them byte for byte', () => {
    const pads = fMsg(5, fBytes(1, 'pads'), ...[1, 1, 2, 300].map((v) => fVarint(8, v)), fVarint(20, AttributeType.INTS));
    const bytes = chain([pads, pads]);
    const m = decode(bytes);
    const [a, b] = m.graph.nodes.map((n) => n.attr('pads')!);
    expect(a).toBe(b);
    expect(a!.value).toEqual([1n, 1n, 2n, 300n]);
    expect(encode(m)).toEqual(bytes);
  });

  it('does not share an attribute whose decode reported something: each occurrence reports it', () => {
    // No type field (IR version 1): inferred, with a diagnostic per attribute.
    const { model: m, diagnostics } = decodeWithDiagnostics(chain([alpha(0.5), alpha(0.5)]));
    expect(diagnostics.filter((d) => d.code === 'IMPORT_ATTRIBUTE_TYPE')).toHaveLength(2);
    const [a, b] = m.graph.nodes.map((n) => n.attr('alpha')!);
    expect(a).not.toBe(b);
  });

  it('does not share an attribute holding raw NaN bits or unknown fields', () => {
    const nan = cat(fBytes(1, 'alpha'), tag(2, 5), Uint8Array.of(1, 0, 0x80, 0x7f), FLOAT_TYPE);
    const withUnknown = alpha(0.5, FLOAT_TYPE, fVarint(99, 7));
    for (const attr of [fMsg(5, nan), withUnknown]) {
      const bytes = chain([attr, attr]);
      const m = decode(bytes);
      const [a, b] = m.graph.nodes.map((n) => n.attr('alpha')!);
      expect(a).not.toBe(b);
      expect(encode(m)).toEqual(bytes);
    }
  });

  it('still refuses a shared attribute nested past the depth limit', () => {
    // The outer node's alpha is at depth 3 (ModelProto, graph, node, attribute); the same bytes
    // in the If branch are at depth 6 (… attribute, g, node, attribute).
    const a = alpha(0.5, FLOAT_TYPE);
    const branch = fMsg(6, node('LeakyRelu', ['x'], ['o'], a), fBytes(2, 'then'), fBytes(12, fBytes(1, 'o')));
    const bytes = model([
      node('LeakyRelu', ['x'], ['y'], a),
      node('If', ['c'], ['z'], fMsg(5, fBytes(1, 'then_branch'), branch, fVarint(20, AttributeType.GRAPH)), fMsg(5, fBytes(1, 'else_branch'), branch, fVarint(20, AttributeType.GRAPH))),
      fBytes(2, 'g'),
    ]);
    expect(decode(bytes, { maxDepth: 6 }).graph.nodeCount).toBe(2);
    expect(() => decode(bytes, { maxDepth: 5 })).toThrow(/nest deeper than 5/);
  });

  it('shares value_info types decoded from identical bytes, not those with unknown fields', () => {
    const shared = [valueInfo(13, 'y0', DataType.FLOAT, ['N', 2]), valueInfo(13, 'y1', DataType.FLOAT, ['N', 2])];
    const odd = fMsg(13, fBytes(1, 'y2'), fMsg(2, fMsg(1, fVarint(1, DataType.FLOAT), fVarint(77, 1))));
    const odd2 = fMsg(13, fBytes(1, 'y3'), fMsg(2, fMsg(1, fVarint(1, DataType.FLOAT), fVarint(77, 1))));
    const a = alpha(0.5, FLOAT_TYPE);
    const bytes = chain([a, a, a, a, a], ...shared, odd, odd2);
    const m = decode(bytes);
    const values = m.graph.nodes.map((n) => n.output);
    expect(values[0]!.type).toBe(values[1]!.type);
    expect(values[0]!.type).toEqual({ kind: 'tensor', elemType: DataType.FLOAT, shape: ['N', 2] });
    expect(values[2]!.type).not.toBe(values[3]!.type);
    expect(encode(m)).toEqual(bytes);
  });

  it('gives initializers of one dtype and shape one type, equal to a fresh one', () => {
    const init = (name: string, dt: number): Uint8Array => fMsg(5, fVarint(1, 2), fVarint(2, dt), fBytes(8, name), fBytes(9, new Uint8Array(dt === DataType.FLOAT ? 8 : 16)));
    const bytes = model([
      node('Add', ['a', 'b'], ['s']),
      node('Add', ['c', 'd'], ['t']),
      fBytes(2, 'g'),
      init('a', DataType.FLOAT),
      init('b', DataType.FLOAT),
      init('c', DataType.DOUBLE),
      init('d', DataType.DOUBLE),
      valueInfo(12, 's', DataType.FLOAT, [2]),
      valueInfo(12, 't', DataType.DOUBLE, [2]),
    ]);
    const m = decode(bytes);
    const [a, b, c, d] = [...m.graph.initializers.values()];
    expect(a!.type).toBe(b!.type);
    expect(c!.type).toBe(d!.type);
    expect(a!.type).toEqual({ kind: 'tensor', elemType: DataType.FLOAT, shape: [2] });
    expect(c!.type).toEqual({ kind: 'tensor', elemType: DataType.DOUBLE, shape: [2] });
    expect(encode(m)).toEqual(bytes);
  });
});

describe('a chain input bound to the previous output', () => {
  it('is the previous node output when names are unique', () => {
    const m = decode(chain([alpha(0.5, FLOAT_TYPE), alpha(0.5, FLOAT_TYPE), alpha(0.5, FLOAT_TYPE)]));
    const nodes = m.graph.nodes;
    expect(nodes[1]!.inputs[0]).toBe(nodes[0]!.output);
    expect(nodes[2]!.inputs[0]).toBe(nodes[1]!.output);
  });

  it('refers to the first definition when the name is defined twice', () => {
    // 'y' is a graph input and the output of the first node: uses refer to the graph input.
    const bytes = model([node('Relu', ['y'], ['y']), node('Relu', ['y'], ['z']), fBytes(2, 'g'), valueInfo(11, 'y', DataType.FLOAT, [2]), valueInfo(12, 'z', DataType.FLOAT, [2])]);
    const { model: m, diagnostics } = decodeWithDiagnostics(bytes);
    expect(diagnostics.map((d) => d.code)).toContain('IMPORT_DUPLICATE_NAME');
    const [first, second] = m.graph.nodes;
    expect(second!.inputs[0]).toBe(m.graph.inputs[0]);
    expect(second!.inputs[0]).not.toBe(first!.output);
  });

  it('is not taken from a subgraph node read after the outer node outputs', () => {
    // The If node's branches end with a node whose output 'o' is read after the If's own output
    // 'z'; the next outer node reads 'o', the outer graph's input, not the If's output.
    const branch = fMsg(6, node('Identity', ['x'], ['o']), fBytes(2, 'then'), valueInfo(12, 'o', DataType.FLOAT, [2]));
    const ifNode = fMsg(1, fBytes(1, 'c'), fBytes(2, 'z'), fBytes(4, 'If'), fMsg(5, fBytes(1, 'then_branch'), branch, fVarint(20, AttributeType.GRAPH)), fMsg(5, fBytes(1, 'else_branch'), branch, fVarint(20, AttributeType.GRAPH)));
    const bytes = model([
      ifNode,
      node('Add', ['o', 'z'], ['r']),
      fBytes(2, 'g'),
      valueInfo(11, 'c', DataType.BOOL, []),
      valueInfo(11, 'x', DataType.FLOAT, [2]),
      valueInfo(11, 'o', DataType.FLOAT, [2]),
      valueInfo(12, 'r', DataType.FLOAT, [2]),
    ]);
    const m = decode(bytes);
    const [ifn, add] = m.graph.nodes;
    expect(add!.inputs[0]).toBe(m.graph.inputs[2]);
    expect(add!.inputs[1]).toBe(ifn!.output);
    expect(encode(m)).toEqual(bytes);
  });
  it('binds initializer names in or out of the order of the initializers, and a repeated name to its first definition', () => {
    const init = (name: string): Uint8Array => fMsg(5, fVarint(1, 2), fVarint(2, DataType.FLOAT), fBytes(8, name), fBytes(9, new Uint8Array(8)));
    const bytes = model([
      node('Add', ['x', 'b'], ['s']), // 'b' before 'a': the cursor misses
      node('Add', ['s', 'a'], ['t']),
      node('Relu', ['t'], ['a']), // 'a' again: uses refer to the initializer
      node('Add', ['a', 'c'], ['u']),
      fBytes(2, 'g'),
      init('a'),
      init('b'),
      init('c'),
      valueInfo(11, 'x', DataType.FLOAT, [2]),
      valueInfo(12, 'u', DataType.FLOAT, [2]),
    ]);
    const { model: m, diagnostics } = decodeWithDiagnostics(bytes);
    expect(diagnostics.map((d) => d.code)).toContain('IMPORT_DUPLICATE_NAME');
    const inits = m.graph.initializers;
    const [n0, n1, , n3] = m.graph.nodes;
    expect(n0!.inputs[1]).toBe(inits.get('b'));
    expect(n1!.inputs[1]).toBe(inits.get('a'));
    expect(n3!.inputs[0]).toBe(inits.get('a'));
    expect(n3!.inputs[1]).toBe(inits.get('c'));
  });
});
