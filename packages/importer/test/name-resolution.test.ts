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
import { bytesReader, decodeSource } from '@onnxkit/importer/codec';
import { f32le, fBytes, fMsg, fVarint, model, node, valueInfo } from './helpers/pb.js';

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

  it('binds input names compared as bytes (weights, other outputs, captures, ghosts) as a windowed decode does with strings', () => {
    // In memory, an input name that is not the last output read stays bytes until phase 2; a
    // windowed decode makes every name a string. Both must bind every input to the same Value.
    const w = fMsg(5, fVarint(1, 1), fVarint(2, FLOAT), fBytes(8, 'w'), fBytes(9, f32le(0.5)));
    const then = fMsg(6, node('Add', ['a', 'w'], ['t']), fBytes(2, 'then'), valueInfo(12, 't', FLOAT, [1]));
    const bytes = model([
      node('Split', ['x'], ['a', 'b']),
      node('Mul', ['a', 'w'], ['m']), // 'a' is output 0 of the node before; 'b' was read last
      node('Add', ['m', 'b'], ['s']),
      node('If', ['c'], ['y'], fMsg(5, fBytes(1, 'then_branch'), fVarint(20, 5), then), fMsg(5, fBytes(1, 'else_branch'), fVarint(20, 5), then)),
      node('Abs', ['ghost'], ['z']),
      fBytes(2, 'g'),
      w,
      valueInfo(11, 'x', FLOAT, [2]),
      valueInfo(11, 'c', 9, []),
      valueInfo(12, 'y', FLOAT, [1]),
      valueInfo(12, 's', FLOAT, [1]),
      valueInfo(12, 'z', FLOAT, [1]),
    ]);
    const memory = decodeWithDiagnostics(bytes);
    const windowed = decodeSource(bytesReader(bytes), { lazyThreshold: 1 });
    const bindings = (m: typeof memory.model): string[] =>
      [...m.graph.allNodes()].map((n) => `${n.opType}(${n.inputs.map((v) => (v === null ? '-' : `${v.name}@${v.producer?.opType ?? (v.isInitializer ? 'init' : v.isGraphInput ? 'input' : 'none')}`)).join(',')})`);
    expect(bindings(memory.model)).toEqual(bindings(windowed.model));
    expect(bindings(memory.model)).toEqual(['Split(x@input)', 'Mul(a@Split,w@init)', 'Add(m@Mul,b@Split)', 'If(c@input)', 'Add(a@Split,w@init)', 'Add(a@Split,w@init)', 'Abs(ghost@none)']);
    expect(memory.diagnostics.map((d) => d.code)).toEqual(['IMPORT_UNDEFINED_NAME']);
    const [split, mul, add] = memory.model.graph.nodes;
    expect(mul!.inputs[0]).toBe(split!.outputs[0]);
    expect(mul!.inputs[1]).toBe(memory.model.graph.initializers.get('w'));
    expect(add!.inputs[1]).toBe(split!.outputs[1]);
  });

  it('binds every initializer input when the initializers are not in the order of first use', () => {
    // A shared constant written first ('one'), then a weight per block in order of use, then
    // one written after its use ('late') and one never used ('unused'): each input binds to
    // the initializer it names, however far from where the decoder's cursor expects it.
    const init = (name: string, x: number): Uint8Array => fMsg(5, fVarint(1, 1), fVarint(2, FLOAT), fBytes(8, name), fBytes(9, f32le(x)));
    const bytes = model([
      node('Mul', ['x', 'w0'], ['m0']),
      node('Add', ['m0', 'one'], ['a0']),
      node('Mul', ['a0', 'w1'], ['m1']),
      node('Add', ['m1', 'late'], ['a1']),
      node('Mul', ['a1', 'w2'], ['m2']),
      node('Add', ['m2', 'one'], ['y']),
      fBytes(2, 'g'),
      init('one', 1),
      init('w0', 2),
      init('w1', 3),
      init('unused', 4),
      init('w2', 5),
      init('late', 6),
      valueInfo(11, 'x', FLOAT, [1]),
      valueInfo(12, 'y', FLOAT, [1]),
    ]);
    const memory = decodeWithDiagnostics(bytes);
    const windowed = decodeSource(bytesReader(bytes), { lazyThreshold: 1 });
    expect(memory.diagnostics).toEqual([]);
    const inits = memory.model.graph.initializers;
    const nodes = memory.model.graph.nodes;
    expect(nodes.map((n) => n.inputs[1]!.name)).toEqual(['w0', 'one', 'w1', 'late', 'w2', 'one']);
    for (const n of nodes) expect(n.inputs[1]).toBe(inits.get(n.inputs[1]!.name));
    expect(inits.get('one')!.uses.length).toBe(2);
    expect(inits.get('unused')!.uses.length).toBe(0);
    const bindings = (m: typeof memory.model): string[] => m.graph.nodes.map((n) => n.inputs.map((v) => `${v!.name}@${v!.isInitializer ? 'init' : (v!.producer?.opType ?? 'input')}`).join(','));
    expect(bindings(memory.model)).toEqual(bindings(windowed.model));
  });
});
