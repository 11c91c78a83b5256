/**
 * The IR knows no file format: how a file stores a tensor (which TensorProto field holds its
 * elements, varint payloads, segments, a tensor's unrecognised fields) is the importer's (its
 * schema.ts and hints.ts), carried on a tensor only as the opaque `codecData` / `codecRecord`.
 * This scans the IR's sources for the names that knowledge would bring back.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { DataType, dataTypeInfo, Tensor } from '@onnxkit/graph';

const SRC = join(fileURLToPath(new URL('.', import.meta.url)), '..', 'src');
const FORMAT_WORDS = /\b(?:(?:raw|float|int32|int64|double|uint64|string)_data|protoField|TensorEncoding|varints?|segment)\b/gi;

describe('the IR holds no protobuf knowledge', () => {
  it.each(readdirSync(SRC).filter((f) => f.endsWith('.ts')))('%s names no TensorProto data field, varint or segment', (file) => {
    expect(readFileSync(join(SRC, file), 'utf8').match(FORMAT_WORDS) ?? []).toEqual([]);
  });

  it('a data type says nothing about where a file stores it; a tensor has no encoding', () => {
    expect(Object.keys(dataTypeInfo(DataType.FLOAT)).sort()).toEqual(['bits', 'kind', 'name', 'partsPerElement', 'perStorageUnit', 'storage', 'type']);
    const t = Tensor.fromNumbers(DataType.FLOAT, [2], [1, 2]);
    expect(t.codecData).toBeUndefined();
    expect(t.codecRecord).toBeUndefined();
    expect('encoding' in t || 'segment' in t || 'unknownFields' in t).toBe(false);
  });

  it('carries a codec\'s opaque facts through copies: with and materialize keep both, reshape the data facts', () => {
    const data = {};
    const record = {};
    const bytes = new Uint8Array(8);
    const source = { byteLength: 8, description: 'test source', read: () => bytes };
    const t = Tensor.lazy(DataType.FLOAT, [2], source, { name: 't', docString: 'd', codecData: data, codecRecord: record });
    for (const c of [t.with({ name: 'u' }), t.materialize()]) {
      expect(c.codecData).toBe(data);
      expect(c.codecRecord).toBe(record);
    }
    expect(t.materialize().isLazy).toBe(false);
    const r = t.reshape([2, 1]);
    expect(r.codecData).toBe(data);
    expect([r.codecRecord, r.docString]).toEqual([undefined, '']);
    expect(t.with({ codecData: undefined }).codecData).toBeUndefined();
  });
});
