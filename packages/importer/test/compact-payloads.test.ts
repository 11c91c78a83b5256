/**
 * load() of a file whose tensor payloads are a small part of it (a graph that is mostly
 * structure) copies them out of the file buffer, so that the buffer (the whole file) can be
 * collected once the import returns; a file that is mostly payload keeps zero-copy views, and
 * decode() of caller-owned bytes always does. Contents and the saved file never change.
 */
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DataType, GraphBuilder, Tensor, type Model } from '@onnxkit/graph';
import { decode, encode, load, save } from '@onnxkit/importer';
import { cleanup, tempDir } from './helpers/files.js';

afterAll(cleanup);

/** A chain of `blocks` Add → Relu nodes over one [4] bias, plus one weight of `weightFloats` floats. */
function chain(blocks: number, weightFloats: number): Model {
  const b = new GraphBuilder({ name: 'compact' });
  let x = b.input('x', DataType.FLOAT, [4]);
  const bias = b.constant('bias', Tensor.fromArray(DataType.FLOAT, [4], new Float32Array([1, 2, 3, 4])));
  const w = b.constant('w', Tensor.fromArray(DataType.FLOAT, [weightFloats], Float32Array.from({ length: weightFloats }, (_, i) => i * 0.5)));
  for (let i = 0; i < blocks; i++) x = b.op('Relu', [b.op('Add', [x, bias])]);
  b.output(x, 'y');
  b.output(b.op('Identity', [w]), 'w_out');
  return b.build();
}

function saved(m: Model, name: string): string {
  const path = join(tempDir('compact'), name);
  save(m, path);
  return path;
}

describe('payload compaction on load', () => {
  it('copies the payloads of a mostly-structure file out of the file buffer, unchanged', () => {
    const path = saved(chain(2000, 4), 'structure.onnx');
    const size = statSync(path).size;
    const m = load(path);
    const bias = m.graph.initializers.get('bias')!.constValue!;
    const w = m.graph.initializers.get('w')!.constValue!;
    // Both payloads live in one small buffer of their own, not in the file's.
    expect(bias.bytes().buffer).toBe(w.bytes().buffer);
    expect(bias.bytes().buffer.byteLength).toBeLessThan(size / 10);
    expect(bias.bytes().byteOffset % 8).toBe(0);
    expect(w.bytes().byteOffset % 8).toBe(0);
    expect(Array.from(bias.toArray() as Float32Array)).toEqual([1, 2, 3, 4]);
    expect(Array.from(w.toArray() as Float32Array)).toEqual([0, 0.5, 1, 1.5]);
    // The saved model is the same bytes as the file.
    expect(Buffer.from(encode(m)).equals(readFileSync(path))).toBe(true);
  });

  it('keeps zero-copy views when the payloads are most of the file, and for caller-owned bytes', () => {
    const path = saved(chain(10, 100_000), 'weights.onnx');
    const size = statSync(path).size;
    const m = load(path);
    const w = m.graph.initializers.get('w')!.constValue!;
    expect(w.bytes().buffer.byteLength).toBeGreaterThanOrEqual(size); // a view of the file buffer
    const bytes = readFileSync(saved(chain(2000, 4), 'structure2.onnx'));
    const d = decode(bytes);
    expect(d.graph.initializers.get('bias')!.constValue!.bytes().buffer).toBe(bytes.buffer);
  });
});
