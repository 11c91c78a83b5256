/**
 * How the decoder binds input names to Values (phase 2 of decode.ts): the first definition of a
 * repeated name wins (graph inputs before initializers before node outputs, nodes in file
 * order) with one IMPORT_DUPLICATE_NAME diagnostic per repeat, also when the repeat is the
 * node right before the reader (the chain fast path must not bind to it); unsorted nodes and
 * outer-scope captures still resolve.
 */
import { describe, expect, it } from 'vitest';
import { verify } from '@onnxkit/graph';
import { decodeWithDiagnostics } from '@onnxkit/importer';
import { fBytes, model, node, valueInfo } from './helpers/pb.js';

const FLOAT = 1;

describe('name resolution', () => {
  it('binds a chain to the previous outputs without diagnostics', () => {
    const bytes = model([node('Relu', ['x'], ['a']), node('Neg', ['a'], ['b']), node('Abs', ['b'], ['y']), fBytes(2, 'g'), valueInfo(11, 'x', FLOAT, [2]), valueInfo(12, 'y', FLOAT, [2])]);
    const { model: m, diagnostics } = decodeWithDiagnostics(bytes);
    expect(diagnostics).toEqual([]);
    const [relu, neg, abs] = m.graph.nodes;
    expect(relu!.inputs[0]).toBe(m.graph.inputs[0]);
    expect(neg!.inputs[0]).toBe(relu!.output);
    expect(abs!.inputs[0]).toBe(neg!.output);
    expect(m.graph.outputs[0]).toBe(abs!.output);
    expect(verify(m).filter((d) => d.severity === 'error')).toEqual([]);
  });

  it('binds a repeated node output to its first definition, not to the node just before the reader', () => {
    const bytes = model([node('Relu', ['x'], ['a']), node('Abs', ['x'], ['a']), node('Neg', ['a'], ['y']), fBytes(2, 'g'), valueInfo(11, 'x', FLOAT, [2]), valueInfo(12, 'y', FLOAT, [2])]);
    const { model: m, diagnostics } = decodeWithDiagnostics(bytes);
    expect(diagnostics.map((d) => d.code)).toEqual(['IMPORT_DUPLICATE_NAME']);
    expect(diagnostics[0]!.message).toContain("'a' is defined twice");
    expect(diagnostics[0]!.message).toContain('output of Abs node');
    const [relu, abs, neg] = m.graph.nodes;
    expect(neg!.inputs[0]).toBe(relu!.output);
    expect(abs!.output.uses).toEqual([]);
  });

  it('binds a node output named like a graph input to the graph input', () => {
    const bytes = model([node('Relu', ['x'], ['x']), node('Neg', ['x'], ['y']), fBytes(2, 'g'), valueInfo(11, 'x', FLOAT, [2]), valueInfo(12, 'y', FLOAT, [2])]);
    const { model: m, diagnostics } = decodeWithDiagnostics(bytes);
    expect(diagnostics.map((d) => d.code)).toEqual(['IMPORT_DUPLICATE_NAME']);
    expect(diagnostics[0]!.message).toContain('output of Relu node');
    const [relu, neg] = m.graph.nodes;
    expect(neg!.inputs[0]).toBe(m.graph.inputs[0]);
    expect(relu!.inputs[0]).toBe(m.graph.inputs[0]);
  });

  it('finds non-ASCII and long names (hashed apart from the reader) from inputs, value_info and outputs', () => {
    const long = `${'block/'.repeat(15)}out`; // 93 bytes: past the reader's hashed strings
    const names = ['été', long, 'b'];
    // Unsorted, so every input goes through the name table rather than the chain fast path.
    const bytes = model([
      node('Abs', [long], ['b']),
      node('Neg', ['été'], [long]),
      node('Relu', ['x'], ['été']),
      fBytes(2, 'g'),
      valueInfo(11, 'x', FLOAT, [2]),
      valueInfo(12, 'b', FLOAT, [2]),
      valueInfo(13, long, FLOAT, [7]),
      valueInfo(13, 'été', FLOAT, [5]),
    ]);
    const { model: m, diagnostics } = decodeWithDiagnostics(bytes);
    expect(diagnostics).toEqual([]);
    const [abs, neg, relu] = m.graph.nodes;
    expect(neg!.inputs[0]).toBe(relu!.output);
    expect(abs!.inputs[0]).toBe(neg!.output);
    expect(m.graph.outputs[0]).toBe(abs!.output);
    expect([relu, neg, abs].map((n) => n!.output.name)).toEqual(names);
    expect(neg!.output.shape).toEqual([7]);
    expect(relu!.output.shape).toEqual([5]);
    expect(m.graph.danglingValueInfo).toEqual([]);
  });

  it('resolves nodes listed before their producers, and reports names defined nowhere once', () => {
    const bytes = model([node('Neg', ['a', 'ghost'], ['y']), node('Relu', ['x'], ['a']), node('Abs', ['ghost'], ['z']), fBytes(2, 'g'), valueInfo(11, 'x', FLOAT, [2]), valueInfo(12, 'y', FLOAT, [2]), valueInfo(12, 'z', FLOAT, [2])]);
    const { model: m, diagnostics } = decodeWithDiagnostics(bytes);
    expect(diagnostics.map((d) => d.code)).toEqual(['IMPORT_UNDEFINED_NAME']);
    const [neg, relu, abs] = m.graph.nodes;
    expect(neg!.inputs[0]).toBe(relu!.output);
    expect(neg!.inputs[1]).toBe(abs!.inputs[0]);
    expect(neg!.inputs[1]!.name).toBe('ghost');
  });
});
