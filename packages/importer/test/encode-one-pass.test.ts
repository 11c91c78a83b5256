/**
 * The one-pass encoder writes each submessage's length when the message closes, moving the body
 * when the length needs more than one byte, and leaves large payloads as holes filled at
 * emission (from 64 KiB in memory, from 256 B when saving). These tests pin the bytes against an
 * independent protobuf writer (helpers/pb.ts) at every length boundary, and check that `save`
 * (streaming, small holes) writes exactly the bytes `encode` returns, for every corpus model and
 * for lazily loaded models whose payloads are read at emission.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DataType, GraphBuilder, Tensor, type Model } from '@onnxkit/graph';
import { decode, encode, load, save } from '@onnxkit/importer';
import { corpusAvailable, corpusModels } from './helpers/corpus.js';
import { cleanup, tempDir } from './helpers/files.js';
import { kitchenSink } from './helpers/models.js';
import { fBytes, fMsg, model, node } from './helpers/pb.js';

afterAll(cleanup);

function saved(m: Model, dir: string, name = 'm.onnx'): Uint8Array {
  const p = join(dir, name);
  save(m, p);
  return new Uint8Array(readFileSync(p));
}

describe('one-pass encoding', () => {
  it('writes lengths of 1 to 3 bytes exactly as a sizing encoder would (node names around 127, 16383 bytes; non-ASCII names)', () => {
    for (const len of [1, 100, 119, 120, 121, 127, 128, 129, 200, 16_380, 16_384, 20_000]) {
      for (const ch of ['a', 'é', '𝄞']) {
        const name = ch.repeat(Math.max(1, Math.floor(len / ch.length)));
        const expected = model([node('Relu', ['x'], [name]), fBytes(2, 'g'), fMsg(11, fBytes(1, 'x')), fMsg(12, fBytes(1, name))]);
        const m = decode(expected);
        expect(encode(m)).toEqual(expected);
      }
    }
  });

  it('gives the same bytes through save (streamed, payloads ≥ 256 B as holes) as through encode, with tensors of every size around the hole threshold', () => {
    const dir = tempDir('one-pass');
    const b = new GraphBuilder({ name: 'holes' });
    let x = b.input('x', DataType.FLOAT, [1, 4]);
    for (const n of [1, 15, 16, 31, 32, 63, 64, 65, 100, 1000, 16_384, 20_000]) {
      const w = Float32Array.from({ length: n }, (_, i) => Math.sin(i + n));
      x = b.op('Add', [x, b.constant(`w${n}`, Tensor.fromArray(DataType.FLOAT, [n], w))]);
      x = b.op('Add', [x, b.constant(`i${n}`, Tensor.fromArray(DataType.INT64, [n], BigInt64Array.from({ length: n }, (_, i) => BigInt(i * 977 - 5000))))]);
    }
    b.output(x, 'y');
    const m = b.build();
    const bytes = encode(m);
    expect(saved(m, dir)).toEqual(bytes);
    // Loaded lazily (payloads stay in the file and are read while saving): the same bytes.
    const lazy = load(join(dir, 'm.onnx'), { lazy: true });
    expect(saved(lazy, dir, 'again.onnx')).toEqual(bytes);
    expect(encode(lazy)).toEqual(bytes);
  });

  it('save writes the bytes encode returns for a model with every attribute kind and subgraphs', () => {
    const dir = tempDir('one-pass');
    const m = kitchenSink();
    expect(saved(m, dir)).toEqual(encode(m));
  });

  it.runIf(corpusAvailable())('save writes the bytes of encode for every model of the ONNX backend corpus', () => {
    const dir = tempDir('one-pass-corpus');
    let n = 0;
    for (const c of corpusModels()) {
      const file = readFileSync(c.model);
      let m: Model;
      try {
        m = decode(new Uint8Array(file));
      } catch {
        continue; // a model the decoder refuses is the corpus test's business
      }
      const bytes = encode(m);
      const out = join(dir, 'out.onnx');
      save(load(c.model), out);
      expect(new Uint8Array(readFileSync(out)), c.id).toEqual(bytes);
      n++;
    }
    expect(n).toBeGreaterThan(1000);
  });
});
