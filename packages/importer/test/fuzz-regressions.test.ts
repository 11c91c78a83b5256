/**
 * Regression tests for importer bugs found by the fuzzer (fuzz/, issue 7). Each test rebuilds the
 * minimised input by hand and checks the property the fuzzer saw broken; the minimised files
 * themselves live in fuzz/regressions/ and are replayed by fuzz/fuzz.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { DataType, diffModels } from '@onnxkit/graph';
import { decode, encode } from '@onnxkit/importer';
import { cat, fBytes, fMsg, fVarint } from './helpers/pb.js';

/** A ValueInfoProto `name: float[dims]` (dims: numbers or symbols). */
function outputInfo(name: string, dims: (number | string)[]): Uint8Array {
  const shape = cat(...dims.map((d) => fMsg(1, typeof d === 'number' ? fVarint(1, d) : fBytes(2, d))));
  return fMsg(12, fBytes(1, name), fMsg(2, fMsg(1, fVarint(1, DataType.FLOAT), fMsg(2, shape))));
}

describe('a value listed as a graph output twice with different value infos', () => {
  it('round-trips each slot with its own info (the second used to overwrite the first on re-encode)', () => {
    // fuzz finding import-roundtrip: graph { output y: float[1,2]; output y: float[N,2,4] }.
    const bytes = fMsg(7, outputInfo('y', [1, 2]), outputInfo('y', ['N', 2, 4]));
    const m = decode(bytes);
    expect(m.graph.outputs).toHaveLength(2);
    expect(m.graph.outputs[0]).toBe(m.graph.outputs[1]);
    const again = encode(m);
    expect(again).toEqual(bytes);
    const m2 = decode(again);
    expect(diffModels(m, m2)).toEqual([]);
    expect(m2.graph.outputs[0]!.shape).toEqual([1, 2]);
    expect(encode(m2)).toEqual(again);
  });

  it('keeps working when the slots are produced by a node (own value) and the infos agree', () => {
    const node = fMsg(1, fBytes(1, 'x'), fBytes(2, 'y'), fBytes(4, 'Relu'));
    const input = fMsg(11, fBytes(1, 'x'), fMsg(2, fMsg(1, fVarint(1, DataType.FLOAT), fMsg(2, fMsg(1, fVarint(1, 3))))));
    const bytes = cat(fVarint(1, 8), fMsg(7, node, input, outputInfo('y', [3]), outputInfo('y', [3]), outputInfo('y', [-1])), fMsg(8, fVarint(2, 17)));
    const m = decode(bytes);
    expect(encode(m)).toEqual(bytes);
    expect(diffModels(m, decode(encode(m)))).toEqual([]);
  });
});
