/**
 * Codec unit tests on hand-built byte sequences (test/helpers/pb.ts builds them independently
 * of the codec): every wire type, packed and unpacked repeated fields, every attribute kind and
 * data type, int64 extremes, negative zero and NaN payloads, unknown fields in every message,
 * protobuf merge semantics, and the error locations.
 */
import { describe, expect, it } from 'vitest';
import {
  ALL_DATA_TYPES,
  Attribute,
  AttributeType,
  DataType,
  GraphBuilder,
  Tensor,
  dataTypeInfo,
  packedByteLength,
  type Graph,
  type SparseTensor,
  type TypeInfo,
} from '@onnxkit/graph';
import { decode, decodeTensorProto, decodeWithDiagnostics, encode, encodeTensorProto, ImportError } from '@onnxkit/importer';
import { cat, f32le, fBytes, fDouble, fFloat, fMsg, fVarint, model, node, opset, packedVarints, reluModel, tag, tensorType, valueInfo } from './helpers/pb.js';
import { VarintTensorSource } from '../src/wire.js';
import { TENSOR_DATA_FIELD } from '../src/schema.js';
import { tensorDataField, tensorRecord } from '../src/hints.js';
import { thrown } from '../../../test/helpers/errors.js';

const importError = (fn: () => unknown): ImportError => thrown(ImportError, fn);

/** A model whose only node is `Constant` with attribute `value` holding `tensorBytes`. */
function constantModel(tensorBytes: Uint8Array): Uint8Array {
  return model([node('Constant', [], ['c'], fMsg(5, fBytes(1, 'value'), fMsg(5, tensorBytes), fVarint(20, AttributeType.TENSOR))), fBytes(2, 'g'), fBytes(12, cat(fBytes(1, 'c')))]);
}

function constantTensor(tensorBytes: Uint8Array): Tensor {
  return decode(constantModel(tensorBytes)).graph.firstNode!.getTensor('value')!;
}

/** One node `N` carrying one attribute built from `parts`. */
function attrModel(...parts: Uint8Array[]): Uint8Array {
  return model([node('N', [], ['y'], fMsg(5, ...parts)), fBytes(2, 'g'), fBytes(12, fBytes(1, 'y'))]);
}

describe('basic structure', () => {
  it('decodes a Relu model and re-encodes it byte for byte', () => {
    const bytes = reluModel();
    const m = decode(bytes);
    expect(m.irVersion).toBe(8);
    expect([...m.opsetImports]).toEqual([['', 17]]);
    expect(m.graph.name).toBe('g');
    const relu = m.graph.firstNode!;
    expect(relu.opType).toBe('Relu');
    expect(relu.inputs[0]).toBe(m.graph.inputs[0]);
    expect(m.graph.outputs[0]).toBe(relu.output);
    expect(m.graph.inputs[0]!.type).toEqual({ kind: 'tensor', elemType: DataType.FLOAT, shape: [2, 3] });
    expect(encode(m)).toEqual(bytes);
  });

  it('is deterministic: the same model encodes to the same bytes twice', () => {
    const m = decode(reluModel());
    expect(encode(m)).toEqual(encode(m));
  });
});

describe('wire types and repeated encodings', () => {
  it('accepts dims packed and unpacked, and re-emits them unpacked as onnx.proto declares', () => {
    const unpacked = cat(fVarint(1, 2), fVarint(1, 3), fVarint(2, DataType.FLOAT), fBytes(9, f32le(1, 2, 3, 4, 5, 6)));
    const packed = cat(packedVarints(1, [2, 3]), fVarint(2, DataType.FLOAT), fBytes(9, f32le(1, 2, 3, 4, 5, 6)));
    expect(constantTensor(unpacked).dims).toEqual([2, 3]);
    expect(constantTensor(packed).dims).toEqual([2, 3]);
    expect(encode(decode(constantModel(packed)))).toEqual(constantModel(unpacked));
  });

  it('accepts float_data packed, unpacked and in several packed runs, without converting values', () => {
    const packed = cat(fVarint(1, 3), fVarint(2, DataType.FLOAT), fBytes(4, f32le(1.5, -0, 3)));
    const unpacked = cat(fVarint(1, 3), fVarint(2, DataType.FLOAT), fFloat(4, 1.5), fFloat(4, -0), fFloat(4, 3));
    const runs = cat(fVarint(1, 3), fVarint(2, DataType.FLOAT), fBytes(4, f32le(1.5)), fBytes(4, f32le(-0, 3)));
    for (const b of [packed, unpacked, runs]) {
      const t = constantTensor(b);
      expect(tensorDataField(t)).toBe('float_data');
      expect(Array.from(t.toArray() as Float32Array)).toEqual([1.5, -0, 3]);
      expect(Object.is((t.toArray() as Float32Array)[1], -0)).toBe(true);
    }
    // Re-encoded as one packed run (onnx.proto says packed = true).
    expect(encode(decode(constantModel(unpacked)))).toEqual(constantModel(packed));
  });

  it('accepts int32_data / int64_data / uint64_data packed and unpacked, keeping varints verbatim', () => {
    const i32p = cat(fVarint(1, 3), fVarint(2, DataType.INT32), packedVarints(5, [-1, 0, 2147483647]));
    const i32u = cat(fVarint(1, 3), fVarint(2, DataType.INT32), fVarint(5, -1), fVarint(5, 0), fVarint(5, 2147483647));
    for (const b of [i32p, i32u]) expect(Array.from(constantTensor(b).toArray() as Int32Array)).toEqual([-1, 0, 2147483647]);
    expect(encode(decode(constantModel(i32u)))).toEqual(constantModel(i32p));

    const min = -(2n ** 63n);
    const max = 2n ** 63n - 1n;
    const i64 = cat(fVarint(1, 3), fVarint(2, DataType.INT64), packedVarints(7, [min, -1n, max]));
    const t64 = constantTensor(i64);
    expect(t64.source).toBeInstanceOf(VarintTensorSource);
    expect((t64.source as VarintTensorSource).wire).toBe('int64');
    expect(t64.isLazy).toBe(false);
    expect(Array.from(t64.toArray() as BigInt64Array)).toEqual([min, -1n, max]);
    expect(encode(decode(constantModel(i64)))).toEqual(constantModel(i64));

    const u64 = cat(fVarint(1, 2), fVarint(2, DataType.UINT64), packedVarints(11, [2n ** 64n - 1n, 0n]));
    expect(Array.from(constantTensor(u64).toArray() as BigUint64Array)).toEqual([2n ** 64n - 1n, 0n]);
    const u32 = cat(fVarint(1, 1), fVarint(2, DataType.UINT32), fVarint(11, 4294967295));
    expect(Array.from(constantTensor(u32).toArray() as Uint32Array)).toEqual([4294967295]);
  });

  it('decodes varint payloads exactly, 64-bit values without bigint arithmetic', () => {
    const enc = (v: bigint): number[] => {
      let x = BigInt.asUintN(64, v);
      const out: number[] = [];
      do {
        let b = Number(x & 0x7fn);
        x >>= 7n;
        if (x) b |= 0x80;
        out.push(b);
      } while (x);
      return out;
    };
    const values = [0n, 1n, -1n, 127n, 128n, 2n ** 31n - 1n, -(2n ** 31n), 2n ** 32n, 2n ** 35n + 5n, 1n << 62n, -(2n ** 63n), 2n ** 63n - 1n, -123456789012345n];
    const bytes = new Uint8Array(values.flatMap(enc));
    const i64 = Tensor.lazy(DataType.INT64, [values.length], new VarintTensorSource(bytes, 'int64', DataType.INT64, values.length, 8 * values.length));
    expect(Array.from(i64.toBigInt64())).toEqual(values);
    const u64 = new VarintTensorSource(new Uint8Array(enc(2n ** 64n - 1n)), 'uint64', DataType.UINT64, 1, 8);
    expect(Array.from(Tensor.lazy(DataType.UINT64, [1], u64).toArray() as BigUint64Array)).toEqual([2n ** 64n - 1n]);
    // int32_data holds float16 bits, and negative int32s as sign-extended 10-byte varints.
    const f16 = new VarintTensorSource(new Uint8Array([0x80, 0x78, 0x80, 0x7c]), 'int32', DataType.FLOAT16, 2, 4);
    expect(Array.from(Tensor.lazy(DataType.FLOAT16, [2], f16).toFloat64())).toEqual([1, 1.5]); // 0x3C00, 0x3E00
    const i8 = new VarintTensorSource(new Uint8Array([...enc(-128n), ...enc(127n), ...enc(-1n)]), 'int32', DataType.INT8, 3, 3);
    expect(Array.from(Tensor.lazy(DataType.INT8, [3], i8).toArray() as Int8Array)).toEqual([-128, 127, -1]);
  });

  it('refuses a varint longer than 10 bytes in a typed data field', () => {
    const bad = cat(fVarint(1, 1), fVarint(2, DataType.INT64), fBytes(7, new Uint8Array([0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01])));
    expect(() => constantTensor(bad)).toThrow(/longer than 10 bytes/);
  });

  it('keeps FLOAT 1.0 and INT 1 attributes apart through decode and encode', () => {
    const b = new GraphBuilder();
    const x = b.input('x', DataType.FLOAT, [2]);
    b.output(b.op('Gemm', [x, x], { alpha: Attribute.float('alpha', 1), transB: 1 }), 'y');
    const m = decode(encode(b.build()));
    const gemm = m.graph.nodes[0]!;
    expect(gemm.attr('alpha')!.type).toBe(AttributeType.FLOAT);
    expect(gemm.attr('alpha')!.value).toBe(1);
    expect(gemm.attr('transB')!.type).toBe(AttributeType.INT);
    expect(gemm.attr('transB')!.value).toBe(1n);
    expect(gemm.getFloat('alpha')).toBe(1);
  });

  it('accepts double_data packed and unpacked', () => {
    const packed = cat(fVarint(1, 2), fVarint(2, DataType.DOUBLE), fBytes(10, new Uint8Array(Float64Array.of(Math.PI, -0).buffer)));
    const unpacked = cat(fVarint(1, 2), fVarint(2, DataType.DOUBLE), fDouble(10, Math.PI), fDouble(10, -0));
    for (const b of [packed, unpacked]) expect(Array.from(constantTensor(b).toArray() as Float64Array)).toEqual([Math.PI, -0]);
    expect(encode(decode(constantModel(unpacked)))).toEqual(constantModel(packed));
  });

  it('skips and preserves unknown fields of every wire type, including groups', () => {
    const group = cat(tag(90, 3), fVarint(1, 5), tag(91, 3), tag(91, 4), tag(90, 4));
    const unknown = cat(fVarint(100, 123456789012n), fDouble(101, 1.25), fBytes(102, 'opaque'), fFloat(103, 2.5), group);
    const bytes = cat(reluModel(), unknown);
    const m = decode(bytes);
    expect(m.unknownFields?.length).toBe(5);
    expect(cat(...m.unknownFields!)).toEqual(unknown);
    expect(encode(m)).toEqual(bytes);
  });

  it('refuses a known field with an impossible wire type, naming the field and the byte', () => {
    // NodeProto.op_type (field 4) as a varint.
    const graph = cat(fMsg(1, fBytes(1, 'x'), fVarint(4, 7)));
    const bytes = cat(fVarint(1, 8), fMsg(7, graph));
    const e = importError(() => decode(bytes));
    expect(e.code).toBe('IMPORT_WIRE_TYPE');
    expect(e.fieldPath).toBe('ModelProto.graph.node[0].op_type');
    // 2 bytes of ir_version, 2 of graph header, 2 of node header, 3 of input: the tag is at 9.
    expect(e.byteOffset).toBe(9);
    expect(e.message).toContain('NodeProto.op_type (field 4) must be a length-delimited string');
  });
});

describe('attributes of every kind', () => {
  it('decodes each kind from hand-built bytes and re-encodes byte for byte', () => {
    const tensor = cat(fVarint(1, 2), fVarint(2, DataType.FLOAT), fBytes(8, 'tv'), fBytes(9, f32le(1, 2)));
    const graph = cat(node('Identity', ['a'], ['b']), fBytes(2, 'sub'), valueInfo(11, 'a', 1, [1]), valueInfo(12, 'b', 1, [1]));
    const sparse = cat(fMsg(1, fVarint(1, 2), fVarint(2, DataType.FLOAT), fBytes(8, 'sv'), fBytes(9, f32le(7, 8))), fMsg(2, fVarint(1, 2), fVarint(2, DataType.INT64), packedVarints(7, [1, 5])), fVarint(3, 10));
    const tp = fMsg(4, fMsg(1, tensorType(DataType.INT8, [3, 'M'])));
    const kinds: [string, AttributeType, Uint8Array[]][] = [
      ['f', AttributeType.FLOAT, [fFloat(2, 0.5)]],
      ['i', AttributeType.INT, [fVarint(3, -(2n ** 63n))]],
      ['s', AttributeType.STRING, [fBytes(4, 'héllo')]],
      ['t', AttributeType.TENSOR, [fMsg(5, tensor)]],
      ['g', AttributeType.GRAPH, [fMsg(6, graph)]],
      ['floats', AttributeType.FLOATS, [fFloat(7, 1), fFloat(7, -0)]],
      ['ints', AttributeType.INTS, [fVarint(8, 2n ** 63n - 1n), fVarint(8, -1)]],
      ['strings', AttributeType.STRINGS, [fBytes(9, 'a'), fBytes(9, '')]],
      ['tensors', AttributeType.TENSORS, [fMsg(10, tensor), fMsg(10, tensor)]],
      ['graphs', AttributeType.GRAPHS, [fMsg(11, graph)]],
      ['tp', AttributeType.TYPE_PROTO, [fMsg(14, tp)]],
      ['tps', AttributeType.TYPE_PROTOS, [fMsg(15, tp), fMsg(15, fBytes(6, 'IMAGE'))]],
      ['sp', AttributeType.SPARSE_TENSOR, [fMsg(22, sparse)]],
      ['sps', AttributeType.SPARSE_TENSORS, [fMsg(23, sparse)]],
    ];
    for (const [name, type, value] of kinds) {
      // Canonical order: name(1), value fields, type(20) (or 22/23 after it).
      const body = type === AttributeType.SPARSE_TENSOR || type === AttributeType.SPARSE_TENSORS ? [fBytes(1, name), fVarint(20, type), ...value] : [fBytes(1, name), ...value, fVarint(20, type)];
      const bytes = attrModel(...body);
      const a = decode(bytes).graph.firstNode!.attr(name)!;
      expect(a.type, name).toBe(type);
      expect(encode(decode(bytes)), name).toEqual(bytes);
      switch (type) {
        case AttributeType.FLOAT:
          expect(a.value).toBe(0.5);
          break;
        case AttributeType.INT:
          expect(a.value).toBe(-(2n ** 63n));
          break;
        case AttributeType.STRING:
          expect(a.value).toBe('héllo');
          break;
        case AttributeType.TENSOR:
          expect(Array.from((a.value as Tensor).toFloat64())).toEqual([1, 2]);
          break;
        case AttributeType.GRAPH:
          expect((a.value as Graph).firstNode!.opType).toBe('Identity');
          break;
        case AttributeType.FLOATS:
          expect(Object.is((a.value as number[])[1], -0)).toBe(true);
          break;
        case AttributeType.INTS:
          expect(a.value).toEqual([2n ** 63n - 1n, -1n]);
          break;
        case AttributeType.STRINGS:
          expect(a.value).toEqual(['a', '']);
          break;
        case AttributeType.TENSORS:
          expect((a.value as Tensor[]).length).toBe(2);
          break;
        case AttributeType.GRAPHS:
          expect((a.value as Graph[])[0]!.name).toBe('sub');
          break;
        case AttributeType.TYPE_PROTO:
          expect(a.value).toEqual({ kind: 'sequence', elem: { kind: 'tensor', elemType: DataType.INT8, shape: [3, 'M'] } });
          break;
        case AttributeType.TYPE_PROTOS:
          expect((a.value as TypeInfo[])[1]).toEqual({ kind: 'empty', denotation: 'IMAGE' });
          break;
        case AttributeType.SPARSE_TENSOR:
          expect((a.value as SparseTensor).dims).toEqual([10]);
          expect(Array.from((a.value as SparseTensor).indices.toBigInt64())).toEqual([1n, 5n]);
          break;
        case AttributeType.SPARSE_TENSORS:
          expect((a.value as SparseTensor[]).length).toBe(1);
          break;
      }
    }
  });

  it('accepts packed floats and ints in attributes (re-emitted unpacked)', () => {
    const packed = attrModel(fBytes(1, 'k'), fBytes(7, f32le(1, 2)), fVarint(20, AttributeType.FLOATS));
    expect(decode(packed).graph.firstNode!.getFloats('k')).toEqual([1, 2]);
    expect(encode(decode(packed))).toEqual(attrModel(fBytes(1, 'k'), fFloat(7, 1), fFloat(7, 2), fVarint(20, AttributeType.FLOATS)));
    const ints = attrModel(fBytes(1, 'k'), packedVarints(8, [3, -4]), fVarint(20, AttributeType.INTS));
    expect(decode(ints).graph.firstNode!.attr('k')!.value).toEqual([3n, -4n]);
  });

  it('keeps negative zero and NaN payloads bit for bit, including a signaling NaN', () => {
    const nanBits = (bits: number): Uint8Array => cat(tag(2, 5), Uint8Array.of(bits & 0xff, (bits >> 8) & 0xff, (bits >> 16) & 0xff, bits >>> 24));
    for (const bits of [0x80000000, 0x7fc00001, 0x7f800001, 0xffa12345]) {
      const bytes = attrModel(fBytes(1, 'f'), nanBits(bits), fVarint(20, AttributeType.FLOAT));
      expect(encode(decode(bytes))).toEqual(bytes);
    }
    const floats = attrModel(fBytes(1, 'fs'), cat(tag(7, 5), Uint8Array.of(1, 0, 0x80, 0x7f)), fFloat(7, 1), fVarint(20, AttributeType.FLOATS));
    expect(encode(decode(floats))).toEqual(floats);
    const tensorNaN = cat(fVarint(1, 2), fVarint(2, DataType.FLOAT), fBytes(9, Uint8Array.of(1, 0, 0x80, 0x7f, 0, 0, 0, 0x80)));
    expect(encode(decode(constantModel(tensorNaN)))).toEqual(constantModel(tensorNaN));
  });

  it('infers the type of an IR-version-1 attribute without a type field, with a diagnostic', () => {
    const { model: m, diagnostics } = decodeWithDiagnostics(attrModel(fBytes(1, 'alpha'), fFloat(2, 0.25)));
    const a = m.graph.firstNode!.attr('alpha')!;
    expect(a.type).toBe(AttributeType.FLOAT);
    expect(a.value).toBe(0.25);
    expect(diagnostics.map((d) => d.code)).toContain('IMPORT_ATTRIBUTE_TYPE');
  });

  it('keeps the bytes of a non-UTF-8 string attribute', () => {
    const bytes = attrModel(fBytes(1, 'mode'), fBytes(4, Uint8Array.of(0x66, 0xff, 0xfe)), fVarint(20, AttributeType.STRING));
    const { model: m, diagnostics } = decodeWithDiagnostics(bytes);
    expect(diagnostics.map((d) => d.code)).toContain('IMPORT_NON_UTF8');
    expect(encode(m)).toEqual(bytes);
  });

  it('keeps reference attributes of function bodies', () => {
    const fn = fMsg(25, fBytes(1, 'F'), fBytes(4, 'x'), fBytes(5, 'y'), fBytes(6, 'alpha'), fMsg(7, fBytes(1, 'x'), fBytes(2, 'y'), fBytes(4, 'LeakyRelu'), fMsg(5, fBytes(1, 'alpha'), fVarint(20, AttributeType.FLOAT), fBytes(21, 'alpha'))), opset(17).subarray(0, 0), fBytes(10, 'local'));
    const bytes = cat(reluModel(), fn);
    const m = decode(bytes);
    const f = m.functions[0]!;
    expect(f.id).toBe('local:F');
    expect(f.attributeNames).toEqual(['alpha']);
    const a = f.graph.firstNode!.attr('alpha')!;
    expect(a.isRef).toBe(true);
    expect(a.refAttrName).toBe('alpha');
    expect(f.graph.firstNode!.inputs[0]).toBe(f.graph.inputs[0]);
    expect(encode(m)).toEqual(bytes);
  });
});

/** Raw storage bytes for a handful of elements of every data type, built without the IR. */
function sampleRaw(dt: DataType): { dims: number[]; raw: Uint8Array } {
  const info = dataTypeInfo(dt);
  const size = info.perStorageUnit > 1 ? 3 : 2;
  const raw = new Uint8Array(packedByteLength(dt, size));
  for (let i = 0; i < raw.length; i++) raw[i] = (i * 37 + dt) & 0xff;
  return { dims: [size], raw };
}

describe('every data type', () => {
  it.each(ALL_DATA_TYPES.filter((d) => d !== DataType.STRING).map((d) => [DataType[d], d] as const))('%s in raw_data: zero-copy view, round trip', (_name, dt) => {
    const { dims, raw } = sampleRaw(dt);
    const tbytes = cat(...dims.map((d) => fVarint(1, d)), fVarint(2, dt), fBytes(8, 'w'), fBytes(9, raw));
    const bytes = model([fBytes(2, 'g'), fMsg(5, tbytes)]);
    const m = decode(bytes);
    const t = m.graph.initializers.get('w')!.constValue!;
    expect(t.dtype).toBe(dt);
    expect(t.bytes()).toEqual(raw);
    // Zero-copy: the tensor's bytes are a view of the input buffer.
    expect(t.bytes().buffer).toBe(bytes.buffer);
    expect(encode(m)).toEqual(bytes);
  });

  it.each(ALL_DATA_TYPES.filter((d) => TENSOR_DATA_FIELD[d] === 'int32_data').map((d) => [DataType[d], d] as const))('%s in int32_data: one varint per storage unit', (_name, dt) => {
    const { dims, raw } = sampleRaw(dt);
    const info = dataTypeInfo(dt);
    const width = info.storage!.BYTES_PER_ELEMENT;
    const view = new DataView(raw.buffer);
    const signed = info.kind === 'int' && info.perStorageUnit === 1;
    const units: number[] = [];
    for (let o = 0; o < raw.length; o += width) units.push(width === 1 ? (signed ? view.getInt8(o) : view.getUint8(o)) : width === 2 ? (signed ? view.getInt16(o, true) : view.getUint16(o, true)) : view.getInt32(o, true));
    const tbytes = cat(...dims.map((d) => fVarint(1, d)), fVarint(2, dt), packedVarints(5, units), fBytes(8, 'w'));
    const bytes = model([fBytes(2, 'g'), fMsg(5, tbytes)]);
    const m = decode(bytes);
    const t = m.graph.initializers.get('w')!.constValue!;
    expect(tensorDataField(t)).toBe('int32_data');
    expect(t.bytes()).toEqual(raw);
    expect(encode(m)).toEqual(bytes);
  });

  it('STRING in string_data, including empty and non-UTF-8 byte strings', () => {
    const tbytes = cat(fVarint(1, 3), fVarint(2, DataType.STRING), fBytes(6, 'abc'), fBytes(6, ''), fBytes(6, Uint8Array.of(0xff)), fBytes(8, 's'));
    const bytes = model([fBytes(2, 'g'), fMsg(5, tbytes)]);
    const t = decode(bytes).graph.initializers.get('s')!.constValue!;
    expect(t.strings().map((s) => Array.from(s))).toEqual([[97, 98, 99], [], [255]]);
    expect(encode(decode(bytes))).toEqual(bytes);
  });

  it('refuses a data type onnxkit does not know, and data in a field that does not fit the type', () => {
    const unknown = importError(() => decode(constantModel(cat(fVarint(1, 1), fVarint(2, 99), fBytes(9, [0])))));
    expect(unknown.code).toBe('IMPORT_INVALID');
    expect(unknown.message).toContain('data_type 99');
    expect(unknown.fieldPath).toBe('ModelProto.graph.node[0].attribute[0].t');
    const wrongField = importError(() => decode(constantModel(cat(fVarint(1, 1), fVarint(2, DataType.INT64), fBytes(4, f32le(1))))));
    expect(wrongField.message).toContain('is int64 but stores data in float_data');
    const short = importError(() => decode(constantModel(cat(fVarint(1, 4), fVarint(2, DataType.FLOAT), fBytes(9, f32le(1))))));
    expect(short.message).toContain('needs 16 bytes but raw_data holds 4');
  });
});

describe('unknown fields in every message', () => {
  it('are preserved in place and re-emitted, so the model re-encodes byte for byte', () => {
    const u = (n: number): Uint8Array => fBytes(900 + n, `u${n}`);
    const dim = (v: number): Uint8Array => fMsg(1, fVarint(1, v), fBytes(3, 'DATA_BATCH'), u(1));
    const type = fMsg(2, fMsg(1, fVarint(1, DataType.FLOAT), fMsg(2, dim(2), u(2)), u(3)), u(4));
    const entry = fMsg(16, fBytes(1, 'k'), fBytes(2, 'v'), u(5));
    const tensor = cat(fVarint(1, 1), fVarint(2, DataType.FLOAT), fMsg(3, fVarint(1, 0), fVarint(2, 1), u(19)), fBytes(8, 'w'), fBytes(9, f32le(3)), fMsg(16, fBytes(1, 'tk'), fBytes(2, 'tv'), u(6)), u(7));
    const attr = fMsg(5, fBytes(1, 'alpha'), fFloat(2, 0.1), fVarint(20, AttributeType.FLOAT), u(8));
    const graph = [
      fMsg(1, fBytes(1, 'x'), fBytes(1, 'w'), fBytes(2, 'y'), fBytes(4, 'Add'), attr, fMsg(9, fBytes(1, 'nk'), fBytes(2, 'nv'), u(9)), u(10)),
      fBytes(2, 'g'),
      fMsg(5, tensor),
      fMsg(11, fBytes(1, 'x'), type, fMsg(4, fBytes(1, 'vk'), fBytes(2, 'vv'), u(11)), u(12)),
      fMsg(12, fBytes(1, 'y'), type),
      fMsg(14, fBytes(1, 'y'), fMsg(2, fBytes(1, 'SCALE_TENSOR'), fBytes(2, 'w'), u(13)), u(14)),
      fMsg(15, fMsg(1, fVarint(1, 1), fVarint(2, DataType.FLOAT), fBytes(8, 'sp'), fBytes(9, f32le(1))), fMsg(2, fVarint(1, 1), fVarint(2, DataType.INT64), packedVarints(7, [3])), fVarint(3, 8), u(15)),
      entry,
      u(16),
    ];
    const training = fMsg(20, fMsg(3, fBytes(1, 'w'), fBytes(2, 'w'), u(17)), u(18));
    const bytes = cat(fVarint(1, 9), fMsg(7, ...graph), fMsg(8, fBytes(1, ''), fVarint(2, 17), u(20)), training, fMsg(25, fBytes(1, 'F'), fBytes(10, 'd'), u(21)), u(22));
    const { model: m, diagnostics } = decodeWithDiagnostics(bytes);
    expect(diagnostics).toEqual([]);
    expect(m.unknownFields?.length).toBe(1);
    expect(m.graph.unknownFields?.length).toBe(1);
    expect(m.graph.firstNode!.unknownFields?.length).toBe(1);
    expect(m.graph.firstNode!.attr('alpha')!.unknownFields?.length).toBe(1);
    expect(tensorRecord(m.graph.initializers.get('w')!.constValue!)?.unknownFields?.length).toBe(1);
    expect(m.graph.inputs[0]!.unknownFields?.length).toBe(1);
    expect(m.trainingInfo[0]!.unknownFields?.length).toBe(1);
    expect(m.functions[0]!.unknownFields?.length).toBe(1);
    expect(encode(m)).toEqual(bytes);
  });
});

describe('protobuf semantics', () => {
  it('merges repeated occurrences of a singular message field (two graph fields make one graph)', () => {
    const bytes = cat(fVarint(1, 8), fMsg(7, node('Relu', ['x'], ['h']), valueInfo(11, 'x', 1, [1])), fMsg(7, node('Neg', ['h'], ['y']), fBytes(2, 'merged'), fBytes(12, fBytes(1, 'y'))), opset(17));
    const m = decode(bytes);
    expect(m.graph.name).toBe('merged');
    expect(m.graph.nodes.map((n) => n.opType)).toEqual(['Relu', 'Neg']);
    expect(m.graph.lastNode!.inputs[0]).toBe(m.graph.firstNode!.output);
  });

  it('lets the last occurrence of a scalar field win', () => {
    const m = decode(cat(reluModel(), fBytes(2, 'first'), fBytes(2, 'second'), fVarint(1, 11)));
    expect(m.producerName).toBe('second');
    expect(m.irVersion).toBe(11);
  });

  it('lets a later member of a oneof replace an earlier one (TypeProto)', () => {
    const t = fMsg(2, fMsg(1, fVarint(1, DataType.FLOAT)), fMsg(4, fMsg(1, fMsg(1, fVarint(1, DataType.INT8)))));
    const m = decode(model([fMsg(11, fBytes(1, 'x'), t), fBytes(2, 'g')]));
    expect(m.graph.inputs[0]!.type).toEqual({ kind: 'sequence', elem: { kind: 'tensor', elemType: DataType.INT8, shape: null } });
  });
});

describe('decodeTensorProto / encodeTensorProto', () => {
  it('round-trip a standalone TensorProto byte for byte', () => {
    const bytes = cat(fVarint(1, 2), fVarint(1, 2), fVarint(2, DataType.FLOAT), fBytes(8, 'x'), fBytes(9, f32le(1, 2, 3, 4)));
    const t = decodeTensorProto(bytes);
    expect(t.name).toBe('x');
    expect(Array.from(t.toFloat64())).toEqual([1, 2, 3, 4]);
    expect(encodeTensorProto(t)).toEqual(bytes);
  });

  // How a file stored a tensor (typed field, segment, unknown fields) is the importer's hint on
  // the tensor (hints.ts), not an IR field; the copies a pass makes keep what they kept when it
  // was: with() and materialize() everything, reshape() the field only; a new tensor is raw_data.
  it('keep a decoded tensor\'s field, segment and unknown fields through the copies a pass makes', () => {
    const head = cat(fVarint(1, 3), fVarint(2, DataType.FLOAT), fMsg(3, fVarint(1, 0), fVarint(2, 3)));
    const bytes = cat(head, fBytes(4, f32le(1.5, -0, 3)), fBytes(8, 'w'), fVarint(20, 7));
    const t = decodeTensorProto(bytes);
    expect(tensorDataField(t)).toBe('float_data');
    expect(tensorRecord(t)?.segment).toEqual({ begin: 0n, end: 3n });
    expect(encodeTensorProto(t.with({}))).toEqual(bytes);
    expect(encodeTensorProto(t.with({ name: 'v' }))).toEqual(cat(head, fBytes(4, f32le(1.5, -0, 3)), fBytes(8, 'v'), fVarint(20, 7)));
    expect(encodeTensorProto(t.materialize())).toEqual(bytes);
    expect(encodeTensorProto(t.reshape([3, 1]))).toEqual(cat(fVarint(1, 3), fVarint(1, 1), fVarint(2, DataType.FLOAT), fBytes(4, f32le(1.5, -0, 3)), fBytes(8, 'w')));
    const fresh = Tensor.fromBytes(DataType.FLOAT, [3], t.bytes().slice(), { name: 'w' });
    expect(tensorDataField(fresh)).toBeUndefined();
    expect(encodeTensorProto(fresh)).toEqual(cat(fVarint(1, 3), fVarint(2, DataType.FLOAT), fBytes(8, 'w'), fBytes(9, f32le(1.5, -0, 3))));
    // A varint field: its in-memory source's bytes are re-emitted as read; a materialised copy's
    // are re-encoded from the values (the same bytes for canonical varints).
    const ints = cat(fVarint(1, 3), fVarint(2, DataType.INT8), packedVarints(5, [1, -1, 5]), fBytes(8, 'i'));
    const i8 = decodeTensorProto(ints);
    expect(tensorDataField(i8)).toBe('int32_data');
    expect(encodeTensorProto(i8.with({}))).toEqual(ints);
    expect(encodeTensorProto(i8.materialize())).toEqual(ints);
  });

  it('report errors at the root as TensorProto.<field>', () => {
    const e = importError(() => decodeTensorProto(cat(fVarint(1, 2), fVarint(2, DataType.FLOAT), fBytes(9, f32le(1)))));
    expect(e.code).toBe('IMPORT_INVALID');
    expect(e.fieldPath).toBe('TensorProto');
    expect(e.byteOffset).toBe(6);
  });
});
