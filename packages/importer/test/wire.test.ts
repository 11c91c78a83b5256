/** The wire reader's primitives: varint limits, tags, and where errors say they happened. */
import { describe, expect, it } from 'vitest';
import { decode, ImportError } from '@onnxkit/importer';
import { PathTracker, Reader } from '../src/wire.js';
import { ModelSpec, NodeSpec } from '../src/schema.js';
import { cat, fBytes, fMsg, fVarint, model, node, varint } from './helpers/pb.js';

function reader(bytes: number[] | Uint8Array): Reader {
  const fail = (code: string, what: string, offset: number | undefined): never => {
    throw new ImportError(code as never, what, { byteOffset: offset });
  };
  return new Reader(Uint8Array.from(bytes), new PathTracker(ModelSpec, 64, fail), fail);
}

describe('varints', () => {
  it('read 64-bit values exactly, including 10-byte negatives', () => {
    for (const v of [0n, 1n, 127n, 128n, 2n ** 31n, 2n ** 53n + 1n, 2n ** 63n - 1n, -1n, -(2n ** 63n)]) {
      const r = reader(varint(v));
      expect(r.int64Big(100)).toBe(v);
      expect(r.pos).toBe(varint(v).length);
    }
    expect(reader(varint(-5)).int32(100)).toBe(-5);
    expect(reader(varint(2n ** 53n - 1n)).int64Number(100)).toBe(2 ** 53 - 1);
    expect(reader(varint(-(2n ** 53n) + 1n)).int64Number(100)).toBe(-(2 ** 53) + 1);
    expect(reader(varint(2n ** 53n + 1n)).int64Number(100)).toBeNaN();
  });

  it('refuse an 11-byte varint, a varint running past its message, and lengths past 2^53', () => {
    expect(() => reader([...Array(10).fill(0xff), 0x01]).int64Big(100)).toThrow(/malformed varint/);
    expect(() => reader([0x80, 0x80]).int64Big(2)).toThrow(/input ends inside a varint/);
    expect(() => reader([0x80, 0x80, 0x01]).int64Big(2)).toThrow(/runs past the end of its message/);
    expect(() => reader(varint(2n ** 60n)).uint(100)).toThrow(/exceeds 2\^53/);
  });

  it('refuse field number 0 and tags wider than 32 bits', () => {
    expect(() => reader([0x02]).tag(1)).toThrow(/field number 0/);
    expect(() => reader(varint(2n ** 33n)).tag(100)).toThrow(/tag varint exceeds 32 bits/);
  });
});

describe('field paths', () => {
  it('render the stack of fields with repeated indices', () => {
    const fail = (): never => {
      throw new Error('unused');
    };
    const p = new PathTracker(ModelSpec, 64, fail);
    p.field[0] = 7;
    p.enter('graph', -1, ModelSpec, 0);
    p.enter('node', 12, NodeSpec, 0);
    p.field[2] = 5;
    expect(p.render()).toBe('ModelProto.graph.node[12].attribute');
    expect(p.render(false)).toBe('ModelProto.graph.node[12]');
  });

  it('point at the exact byte and field of a truncated attribute deep in a subgraph', () => {
    const inner = cat(fBytes(1, 'alpha'), fVarint(20, 1));
    const bytes = model([node('If', ['c'], ['y'], fMsg(5, fBytes(1, 'then_branch'), fMsg(6, node('Elu', ['c'], ['o'], fMsg(5, inner))), fVarint(20, 5)))]);
    // Cut the input inside the innermost attribute's name.
    const cut = Buffer.from(bytes).indexOf(Buffer.from('alpha')) + 2;
    let err: ImportError | undefined;
    try {
      decode(bytes.subarray(0, cut));
    } catch (e) {
      err = e as ImportError;
    }
    expect(err).toBeInstanceOf(ImportError);
    // The outer messages' lengths are checked first: the graph field claims more than remains.
    expect(err!.code).toBe('IMPORT_LENGTH');
    expect(err!.fieldPath).toBe('ModelProto.graph');
    expect(err!.byteOffset).toBe(3);
  });
});
