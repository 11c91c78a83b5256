/**
 * Hostile input: truncation at every offset, inflated length prefixes, wrong wire types, deep
 * nesting, huge dims, non-ONNX files and random corruption all give an ImportError with a byte
 * offset and field path, in bounded memory; nothing else ever escapes (no RangeError from an
 * allocation, no stack overflow, no TypeError).
 */
import { describe, expect, it } from 'vitest';
import { DataType, Graph, GraphBuilder, Node } from '@onnxkit/graph';
import { decode, decodeWithDiagnostics, encode, ImportError, type ImportErrorCode } from '@onnxkit/importer';
import { cat, f32le, fBytes, fMsg, fVarint, model, node, opset, reluModel, tag, valueInfo, varint } from './helpers/pb.js';
import { kitchenSink } from './helpers/models.js';

function outcome(bytes: Uint8Array): ImportError | null {
  try {
    decode(bytes);
    return null;
  } catch (e) {
    if (!(e instanceof ImportError)) throw new Error(`a ${(e as Error)?.constructor?.name} escaped: ${(e as Error)?.message}`);
    if (e.code === 'IMPORT_INTERNAL') throw new Error(`internal error surfaced: ${e.message}`);
    return e;
  }
}

function expectError(bytes: Uint8Array, code: ImportErrorCode): ImportError {
  const e = outcome(bytes);
  expect(e, `expected ${code}`).not.toBeNull();
  expect(e!.code).toBe(code);
  return e!;
}

/** End offsets of the top-level fields of a ModelProto, walked independently of the codec. */
function topLevelBoundaries(bytes: Uint8Array): Set<number> {
  const ends = new Set<number>([0]);
  let p = 0;
  const readVarint = (): bigint => {
    let v = 0n;
    let s = 0n;
    for (;;) {
      const b = bytes[p++]!;
      v |= BigInt(b & 0x7f) << s;
      s += 7n;
      if (b < 0x80) return v;
    }
  };
  while (p < bytes.length) {
    const t = Number(readVarint());
    const w = t & 7;
    if (w === 0) readVarint();
    else if (w === 2) {
      const len = Number(readVarint());
      p += len;
    }
    else if (w === 5) p += 4;
    else if (w === 1) p += 8;
    ends.add(p);
  }
  return ends;
}

/** xorshift32: a fixed-seed generator so failures reproduce. */
function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 4294967296;
  };
}

describe('truncation', () => {
  it.each([
    ['a Relu model', reluModel()],
    ['a model with every attribute kind and a subgraph', encode(kitchenSink())],
  ])('at every offset of %s gives an ImportError with offset and path, except at top-level field boundaries', (_name, bytes) => {
    const boundaries = topLevelBoundaries(bytes);
    let errors = 0;
    for (let k = 0; k < bytes.length; k++) {
      const e = outcome(bytes.subarray(0, k));
      if (boundaries.has(k)) {
        // A prefix ending between top-level fields is a valid (smaller) ModelProto, or empty.
        if (e !== null) expect(['IMPORT_NOT_ONNX']).toContain(e.code);
        continue;
      }
      expect(e, `prefix of ${k} bytes decoded`).not.toBeNull();
      expect(['IMPORT_TRUNCATED', 'IMPORT_LENGTH', 'IMPORT_INVALID', 'IMPORT_NOT_ONNX', 'IMPORT_WIRE_TYPE']).toContain(e!.code);
      if (e!.code !== 'IMPORT_NOT_ONNX') {
        expect(e!.byteOffset).toBeLessThanOrEqual(k);
        expect(e!.fieldPath).toMatch(/^ModelProto/);
      }
      errors++;
    }
    expect(errors).toBeGreaterThan(bytes.length - boundaries.size - 1);
  });
});

describe('inflated length prefixes', () => {
  it('a 4 GiB length claim inside a 1 MB file fails at once, without allocating', () => {
    const weights = new Uint8Array(1 << 20);
    const build = (rawLength: number): Uint8Array => {
      const tensor = cat(fVarint(1, weights.length / 4), fVarint(2, DataType.FLOAT), fBytes(8, 'w'), tag(9, 2), varint(rawLength), weights);
      return model([node('Identity', ['w'], ['y']), fBytes(2, 'g'), fMsg(5, tensor)]);
    };
    expect(outcome(build(weights.length))).toBeNull();
    const forged = build(0xffffffff);
    // The length varint follows the name field and the raw_data tag.
    const marker = cat(fBytes(8, 'w'), tag(9, 2));
    const lenAt = Buffer.from(forged).indexOf(Buffer.from(marker)) + marker.length;
    const before = process.memoryUsage().arrayBuffers;
    const e = expectError(forged, 'IMPORT_LENGTH');
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(64 << 20);
    expect(e.message).toMatch(/length prefix of 4294967295 bytes for raw_data exceeds the 1048576 bytes left/);
    expect(e.fieldPath).toBe('ModelProto.graph.initializer[0].raw_data');
    expect(e.byteOffset).toBe(lenAt);
  });

  it('every length prefix of a model, inflated by one byte or to 2^62, is refused', () => {
    const bytes = encode(kitchenSink());
    let refused = 0;
    // Find length prefixes by walking tags: any byte position whose tag has wire type 2.
    for (let p = 0; p < bytes.length; p++) {
      if ((bytes[p]! & 7) !== 2 || bytes[p]! & 0x80) continue;
      for (const claim of [2n ** 62n]) {
        const lenAt = p + 1;
        let q = lenAt;
        while (q < bytes.length && bytes[q]! & 0x80) q++;
        if (q >= bytes.length) continue;
        const forged = cat(bytes.subarray(0, lenAt), varint(claim), bytes.subarray(q + 1));
        const e = outcome(forged);
        if (e !== null) refused++;
      }
    }
    expect(refused).toBeGreaterThan(50);
  });
});

describe('wrong wire types', () => {
  it('changing the wire type of any tag gives success or an ImportError, never another exception', () => {
    const bytes = encode(kitchenSink());
    let errors = 0;
    for (let p = 0; p < bytes.length; p++) {
      for (let w = 0; w < 8; w++) {
        const forged = bytes.slice();
        forged[p] = (forged[p]! & ~7) | w;
        if (outcome(forged) !== null) errors++;
      }
    }
    expect(errors).toBeGreaterThan(bytes.length);
  });

  it('a varint where a string belongs names the field', () => {
    const e = expectError(model([fMsg(1, fBytes(1, 'x'), fVarint(2, 5))]), 'IMPORT_WIRE_TYPE');
    expect(e.fieldPath).toBe('ModelProto.graph.node[0].output');
  });

  it('wire types 6 and 7 are refused even in unknown fields', () => {
    const e = expectError(cat(reluModel(), tag(500, 7)), 'IMPORT_WIRE_TYPE');
    expect(e.message).toContain('not a protobuf wire type');
  });
});

/**
 * A TypeProto of `depth` nested sequences around a float tensor, written back to front in one
 * buffer (wrapping with fMsg would copy the whole message once per level).
 */
function nestedSequences(depth: number): Uint8Array {
  const leaf = fMsg(1, fVarint(1, 1));
  const sizes: number[] = [leaf.length];
  for (let i = 0; i < depth; i++) {
    const inner = sizes[sizes.length - 1]!;
    const elem = 1 + varint(inner).length + inner; // TypeProto.Sequence.elem_type (field 1)
    sizes.push(1 + varint(elem).length + elem); // TypeProto.sequence_type (field 4)
  }
  const out = new Uint8Array(sizes[depth]!);
  let p = 0;
  for (let i = depth; i > 0; i--) {
    const inner = sizes[i - 1]!;
    const elem = 1 + varint(inner).length + inner;
    for (const b of cat([0x22], varint(elem), [0x0a], varint(inner))) out[p++] = b;
  }
  out.set(leaf, p);
  return out;
}

describe('deep nesting', () => {
  it('100,000 nested sequence types give IMPORT_NESTING, not a stack overflow', () => {
    const e = expectError(model([fMsg(11, fBytes(1, 'x'), fBytes(2, nestedSequences(100_000)))]), 'IMPORT_NESTING');
    expect(e.fieldPath).toMatch(/^ModelProto\.graph\.input\[0\]\.type\.sequence_type\.elem_type\.sequence_type/);
  });

  it('graphs nested in attributes 2,000 deep give IMPORT_NESTING', () => {
    let g: Uint8Array = fBytes(2, 'leaf');
    for (let i = 0; i < 2000; i++) g = cat(node('If', ['c'], ['o'], fMsg(5, fBytes(1, 'then_branch'), fMsg(6, g), fVarint(20, 5))));
    expectError(model([g]), 'IMPORT_NESTING');
  });

  it('deeply nested groups in an unknown field give IMPORT_NESTING', () => {
    const open = Array.from({ length: 500 }, () => tag(77, 3));
    const close = Array.from({ length: 500 }, () => tag(77, 4));
    expectError(cat(reluModel(), ...open, ...close), 'IMPORT_NESTING');
  });

  it('the nesting limit is an option', () => {
    // 20 sequence levels are about 45 nested messages: within the default 64, beyond 30.
    const bytes = model([fMsg(11, fBytes(1, 'x'), fBytes(2, nestedSequences(20)))]);
    expect(outcome(bytes)).toBeNull();
    expect(() => decode(bytes, { maxDepth: 30 })).toThrow(/nest deeper than 30/);
  });
});

describe('huge and invalid dims', () => {
  it('refuses element counts past 2^53 without allocating', () => {
    const t = fMsg(5, fVarint(1, 2 ** 40), fVarint(1, 2 ** 40), fVarint(2, DataType.FLOAT), fBytes(8, 'w'), fBytes(9, f32le(1)));
    const e = expectError(model([fBytes(2, 'g'), t]), 'IMPORT_INVALID');
    expect(e.message).toContain('exceeds 2^53');
    expect(e.fieldPath).toBe('ModelProto.graph.initializer[0]');
  });

  it('refuses a dim past 2^53 and a negative dim', () => {
    expectError(model([fBytes(2, 'g'), fMsg(5, fVarint(1, 2n ** 60n), fVarint(2, 1), fBytes(8, 'w'))]), 'IMPORT_INVALID');
    expectError(model([fBytes(2, 'g'), fMsg(5, fVarint(1, -3), fVarint(2, 1), fBytes(8, 'w'))]), 'IMPORT_INVALID');
    const e = expectError(model([valueInfo(11, 'x', 1, [2 ** 60])]), 'IMPORT_INVALID');
    expect(e.fieldPath).toBe('ModelProto.graph.input[0].type.tensor_type.shape.dim[0].dim_value');
  });

  it('refuses a huge element count claimed for a small varint payload', () => {
    const t = fMsg(5, fVarint(1, 1e12), fVarint(2, DataType.INT64), fBytes(7, [1, 2, 3]), fBytes(8, 'w'));
    expect(expectError(model([fBytes(2, 'g'), t]), 'IMPORT_INVALID').message).toContain('needs 1000000000000 values in int64_data, found 3');
  });

  it('keeps symbolic and negative shape dims of value infos (exporters write -1)', () => {
    const m = decode(model([valueInfo(11, 'x', 1, ['N', -1, 3])]));
    expect(m.graph.inputs[0]!.shape).toEqual(['N', -1, 3]);
  });
});

describe('many attributes', () => {
  // Node._setAttributes looked each attribute's name up among the ones kept so far: a 3.4 MB
  // file with one node of 200,000 attributes took minutes in every command (80,000: 18 s).
  it('a node with 200,000 attributes decodes (in linear time), a repeated name keeps its first place and last value', () => {
    const n = 200_000;
    const parts: Uint8Array[] = [];
    for (let i = 0; i < n; i++) parts.push(fMsg(5, fBytes(1, `a${i}`), fVarint(3, i), fVarint(20, 2)));
    parts.push(fMsg(5, fBytes(1, 'a5'), fVarint(3, 77), fVarint(20, 2)));
    // (joined here: 200,001 arguments would overflow the stack of a spread call)
    const attrs = new Uint8Array(parts.reduce((k, p) => k + p.length, 0));
    parts.reduce((at, p) => (attrs.set(p, at), at + p.length), 0);
    const m = decode(model([node('Relu', ['x'], ['y'], attrs), fBytes(2, 'g'), valueInfo(11, 'x', 1, [2]), valueInfo(12, 'y', 1, [2])]));
    const relu = m.graph.nodes[0]!;
    expect(relu.attributes.size).toBe(n);
    const names = [...relu.attributes.keys()];
    expect(names[0]).toBe('a0');
    expect(names[5]).toBe('a5');
    expect(names[n - 1]).toBe(`a${n - 1}`);
    expect(relu.getInt('a5')).toBe(77);
    expect(relu.getInt('a6')).toBe(6);
  });

  it('a few attributes with a repeated name: the same rule', () => {
    const m = decode(model([node('Relu', ['x'], ['y'], fMsg(5, fBytes(1, 'p'), fVarint(3, 1), fVarint(20, 2)), fMsg(5, fBytes(1, 'q'), fVarint(3, 2), fVarint(20, 2)), fMsg(5, fBytes(1, 'p'), fVarint(3, 3), fVarint(20, 2))), fBytes(2, 'g'), valueInfo(11, 'x', 1, [2]), valueInfo(12, 'y', 1, [2])]));
    const relu = m.graph.nodes[0]!;
    expect([...relu.attributes.keys()]).toEqual(['p', 'q']);
    expect(relu.getInt('p')).toBe(3);
  });
});

describe('unknown fields', () => {
  // Each unknown field is kept (≈ 100 bytes of heap) for a lossless re-encode: a valid model
  // followed by 30 million 3-byte unknown fields (90 MB) aborted the process out of memory.
  it('more than a million are refused with one error; a few are kept', () => {
    const extra = new Uint8Array(3 * 1_000_001);
    for (let i = 0; i < extra.length; i += 3) extra.set([0xa0, 0x06, 0x00], i);
    const e = expectError(cat(reluModel(), extra), 'IMPORT_INVALID');
    expect(e.message).toMatch(/more than 1000000 fields that are not part of ONNX's schema \(field 100 here\)/);
    const few = decode(cat(reluModel(), extra.subarray(0, 30)));
    expect(few.unknownFields).toHaveLength(10);
  });

  // Every finding was kept (≈ 250 bytes each): 12 million repeated metadata keys (96 MB) held
  // 3 GB of diagnostics; a larger file aborted out of memory.
  it('findings stop at 10,000 and one IMPORT_DIAGNOSTICS_LIMIT says so', () => {
    const entry = Uint8Array.from([0x72, 0x06, 0x0a, 0x01, 0x6b, 0x12, 0x01, 0x76]); // metadata_props { key: 'k', value: 'v' }
    const n = 10_005;
    const repeated = new Uint8Array(entry.length * n);
    for (let i = 0; i < n; i++) repeated.set(entry, i * entry.length);
    const seen: string[] = [];
    const { diagnostics } = decodeWithDiagnostics(cat(reluModel(), repeated), { onDiagnostic: (d) => seen.push(d.code) });
    expect(diagnostics).toHaveLength(10_001);
    expect(diagnostics[9_999]!.code).toBe('IMPORT_DUPLICATE_KEY');
    expect(diagnostics[10_000]!.code).toBe('IMPORT_DIAGNOSTICS_LIMIT');
    expect(diagnostics[10_000]!.message).toBe('more than 10000 findings; the rest are not listed');
    expect(seen).toHaveLength(10_001);
  });

  it('past 10,000 findings, an initializer defined twice is still refused', () => {
    // Review: 10,001 repeated metadata keys before the graph used the cap up, the duplicate's
    // finding was dropped, and the model (its two W differ) loaded, its computation changed.
    const entry = Uint8Array.from([0x72, 0x06, 0x0a, 0x01, 0x6b, 0x12, 0x01, 0x76]);
    const repeated = new Uint8Array(entry.length * 10_001);
    for (let i = 0; i < 10_001; i++) repeated.set(entry, i * entry.length);
    const w = (v: number[]) => fMsg(5, fVarint(1, 2), fVarint(2, 1), fBytes(8, 'W'), fBytes(9, f32le(...v)));
    const graph = fMsg(7, node('Add', ['x', 'W'], ['y']), fBytes(2, 'g'), w([1, 2]), w([100, 200]), valueInfo(11, 'x', 1, [2]), valueInfo(12, 'y', 1, [2]));
    const bytes = cat(fVarint(1, 8), repeated, graph, opset(17));
    const e = expectError(bytes, 'IMPORT_INVALID');
    expect(e.message).toMatch(/initializer 'W' is defined twice/);
  });
});

describe('non-ONNX input', () => {
  it.each([
    ['an empty file', new Uint8Array(0)],
    ['a zip archive (PyTorch checkpoint)', cat([0x50, 0x4b, 0x03, 0x04], new Uint8Array(60))],
    ['a text file', new TextEncoder().encode('hello, this is not a model\n')],
    ['a JPEG', cat([0xff, 0xd8, 0xff, 0xe0], new Uint8Array(40))],
    ['JSON', new TextEncoder().encode('{"graph": []}')],
  ])('%s gives IMPORT_NOT_ONNX', (_name, bytes) => {
    const e = expectError(bytes, 'IMPORT_NOT_ONNX');
    expect(e.message).toContain(bytes.length === 0 ? 'empty' : 'not an ONNX model');
  });

  it('names the format when it recognises it', () => {
    expect(expectError(cat([0x50, 0x4b, 0x03, 0x04], new Uint8Array(60)), 'IMPORT_NOT_ONNX').message).toContain('zip archive');
  });
});

describe('random corruption', () => {
  it('3,000 seeded bit flips, byte overwrites and splices: only ImportErrors, and whatever loads re-encodes and re-decodes', () => {
    const base = encode(kitchenSink());
    const next = rng(0xc0ffee);
    let loaded = 0;
    for (let i = 0; i < 3000; i++) {
      const b = base.slice();
      const kind = i % 3;
      const p = Math.floor(next() * b.length);
      if (kind === 0) b[p] = b[p]! ^ (1 << Math.floor(next() * 8));
      else if (kind === 1) b[p] = Math.floor(next() * 256);
      const bytes = kind === 2 ? cat(b.subarray(0, p), b.subarray(Math.floor(next() * b.length))) : b;
      const e = outcome(bytes);
      if (e === null) {
        loaded++;
        const again = encode(decode(bytes));
        expect(outcome(again)).toBeNull();
      }
    }
    expect(loaded).toBeGreaterThan(100);
  });
});

describe('a memory budget', () => {
  // A model's structure can take far more heap than its bytes (an empty node: 2 bytes, ≈ 160 bytes
  // of heap): a 60 MB file of 30 million empty nodes ran the process out of memory (an abort).
  const chain = (n: number): Uint8Array => {
    const nodes: Uint8Array[] = [];
    for (let i = 0; i < n; i++) nodes.push(node('Relu', [`x${i}`], [`x${i + 1}`]));
    const all = new Uint8Array(nodes.reduce((s, b) => s + b.length, 0));
    nodes.reduce((at, b) => (all.set(b, at), at + b.length), 0);
    return model([all, fBytes(2, 'g'), valueInfo(11, 'x0', 1, [4]), valueInfo(12, `x${n}`, 1, [4])]);
  };
  const bytes = chain(30_000); // ≈ 120,000 fields: the budget is asked about once or twice

  it('past the budget, IMPORT_TOO_LARGE with the amounts, the byte offset and the caller\'s hint', () => {
    let asked = 0;
    const memory = { limitBytes: 100 * 2 ** 20, usedBytes: () => (asked++, 101 * 2 ** 20), hint: 'raise the limit' };
    const e = outcomeWith(bytes, { memory });
    expect(e?.code).toBe('IMPORT_TOO_LARGE');
    expect(e!.message).toMatch(/needs more memory than the import may take \(101 MiB in use, 100 MiB allowed\).*\(at byte \d+, in ModelProto/);
    expect(e!.hint).toBe('raise the limit');
    expect(asked).toBe(1);
  });

  it('within it, or without one, the model loads; the budget is asked about rarely', () => {
    let asked = 0;
    const m = decode(bytes, { memory: { limitBytes: 100, usedBytes: () => (asked++, 100) } });
    expect(m.graph.nodeCount).toBe(30_000);
    expect(asked).toBeGreaterThan(0);
    expect(asked).toBeLessThan(5);
    expect(decode(bytes).graph.nodeCount).toBe(30_000);
  });

  it('asks over all graphs together: 2,000 small subgraphs do not each ask (a check reads the heap statistics)', () => {
    const b = new GraphBuilder({ opset: 17 });
    const x = b.input('x', DataType.FLOAT, [2]);
    const c = b.input('c', DataType.BOOL, []);
    const branch = (name: string): Graph => {
      const g = new Graph({ name });
      const n = new Node('Identity', [x], { outputs: [`${name}_y`] });
      g.append(n);
      g.addOutput(n.output);
      return g;
    };
    for (let i = 0; i < 1000; i++) b.output(b.node('If', [c], { then_branch: branch(`t${i}`), else_branch: branch(`e${i}`) }, { outputs: [`y${i}`] }).output, `y${i}`);
    let asked = 0;
    const m = decode(encode(b.build()), { memory: { limitBytes: 1, usedBytes: () => (asked++, 0) } });
    expect(m.graph.nodeCount).toBe(1000);
    expect(asked).toBeLessThan(5);
  });

  it('name resolution asks too: a budget that runs out after the fields are read still stops the import', () => {
    let asked = 0;
    // (the decode's field checks pass; the first of name resolution's, at its first node, finds
    // the budget exceeded; resolution checks at nodes 0 and 65,536 of these 70,000)
    const big = chain(70_000);
    let total = 0;
    decode(big, { memory: { limitBytes: 1, usedBytes: () => (total++, 0) } });
    const fieldChecks = total - 2;
    const e = outcomeWith(big, { memory: { limitBytes: 1, usedBytes: () => (++asked > fieldChecks ? 2 : 0) } });
    expect(e?.code).toBe('IMPORT_TOO_LARGE');
    expect(asked).toBe(fieldChecks + 1);
  });
});

describe('attribute lists and shapes', () => {
  // A JavaScript array past 2^27 elements is a fatal V8 error, not an exception: a 150 MB file
  // whose one attribute packed 150 million ints killed the process (SIGTRAP) after 14 s.
  const withAttribute = (attribute: Uint8Array): Uint8Array =>
    model([node('Unsqueeze', ['x'], ['y'], fMsg(5, attribute)), fBytes(2, 'g'), valueInfo(11, 'x', 1, [2]), valueInfo(12, 'y', 1, null)], opset(11));
  it('more than 2^24 packed ints or floats in one attribute or outputs of a node, more than 2^16 dimensions in a shape: IMPORT_TOO_LARGE, no list past the cap built', () => {
    const ints = withAttribute(cat(fBytes(1, 'axes'), fVarint(20, 7), fBytes(8, new Uint8Array(2 ** 24 + 1))));
    const e = expectError(ints, 'IMPORT_TOO_LARGE');
    expect(e.message).toMatch(/an attribute holds more than 16777216 ints \(at byte \d+, in ModelProto\.graph\.node\[0\]\.attribute\[0\]\.ints\)/);
    expect(e.hint).toMatch(/belongs in a tensor/);
    const floats = withAttribute(cat(fBytes(1, 'f'), fVarint(20, 6), fBytes(7, new Uint8Array(4 * (2 ** 24 + 1)))));
    expect(expectError(floats, 'IMPORT_TOO_LARGE').message).toMatch(/more than 16777216 floats/);
    // Shapes: a tensor's packed dims, a type's dim messages.
    const rank = 2 ** 16 + 1;
    const tensor = model([fBytes(2, 'g'), fMsg(5, fBytes(8, 'w'), fVarint(2, 1), fBytes(1, new Uint8Array(rank)))], opset(11));
    expect(expectError(tensor, 'IMPORT_TOO_LARGE').message).toMatch(/a shape of more than 65536 dimensions/);
    const dimMsgs = new Uint8Array(2 * rank);
    for (let i = 0; i < rank; i++) dimMsgs[2 * i] = 0x0a; // TensorShapeProto.dim {}, empty
    const typed = model([fBytes(2, 'g'), fMsg(11, fBytes(1, 'x'), fMsg(2, fMsg(1, fVarint(1, 1), fMsg(2, dimMsgs))))], opset(11));
    expect(expectError(typed, 'IMPORT_TOO_LARGE').message).toMatch(/a shape of more than 65536 dimensions/);
    // A node's outputs (their names go into an array): 2^24 + 1 empty output names.
    const outs = new Uint8Array(2 * (2 ** 24 + 1));
    for (let i = 0; i < outs.length; i += 2) outs[i] = 0x12; // NodeProto.output ''
    const wide = model([fMsg(1, fBytes(4, 'Split'), outs), fBytes(2, 'g')], opset(11));
    expect(expectError(wide, 'IMPORT_TOO_LARGE').message).toMatch(/a node with more than 16777216 outputs/);
    // A list within the cap loads as before.
    const few = decode(withAttribute(cat(fBytes(1, 'axes'), fVarint(20, 7), fBytes(8, Uint8Array.of(0, 1)))));
    expect(few.graph.nodes[0]!.attributes.get('axes')!.value).toEqual([0n, 1n]);
  });
});

function outcomeWith(bytes: Uint8Array, options: Parameters<typeof decode>[1]): ImportError | null {
  try {
    decode(bytes, options);
    return null;
  } catch (e) {
    if (!(e instanceof ImportError)) throw e;
    return e;
  }
}
