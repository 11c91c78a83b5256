/**
 * The codec's one field-number table (src/schema.ts) against the schema of record,
 * schema/onnx.proto, parsed by protobufjs: every message the codec knows has exactly the
 * fields of its proto message, by name and number, so a wrong or missing number fails here
 * rather than as a silently unknown field in a user's file.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';
import { describe, expect, it } from 'vitest';
import { ALL_DATA_TYPES, AttributeType, DataType } from '@onnxkit/graph';
import { DataLocation, MESSAGE_SPECS, TENSOR_DATA_FIELD, TensorFields } from '../src/schema.js';

const PROTO = join(fileURLToPath(new URL('.', import.meta.url)), '..', 'schema', 'onnx.proto');
const root = new protobuf.Root().loadSync(PROTO, { keepCase: true });

describe('schema table vs schema/onnx.proto', () => {
  it.each(MESSAGE_SPECS.map((s) => [s.name, s] as const))('%s has the fields of onnx.proto, by name and number', (name, spec) => {
    const type = root.lookupType(`onnx.${name}`);
    const proto = Object.fromEntries(Object.values(type.fields).map((f) => [f.name, f.id]));
    expect(spec.byName).toEqual(proto);
    // The inverted table names every number once.
    for (const [field, id] of Object.entries(spec.byName)) expect(spec.fields[id]).toBe(field);
  });

  it('covers every message of onnx.proto that a model can contain', () => {
    const all: string[] = [];
    const walk = (ns: protobuf.NamespaceBase, prefix: string): void => {
      for (const o of ns.nestedArray) {
        if (o instanceof protobuf.Type) {
          all.push(`${prefix}${o.name}`);
          walk(o, `${prefix}${o.name}.`);
        } else if (o instanceof protobuf.Namespace) walk(o, prefix);
      }
    };
    walk(root.lookup('onnx') as protobuf.Namespace, '');
    const known = new Set(MESSAGE_SPECS.map((s) => s.name));
    // Messages the codec keeps as verbatim unknown bytes (ModelProto.configuration and
    // NodeProto.device_configurations, IR 11+ multi-device metadata) or that ONNX files never hold.
    const keptVerbatim = new Set(['DeviceConfigurationProto', 'NodeDeviceConfigurationProto', 'ShardingSpecProto', 'ShardedDimProto', 'SimpleShardedDimProto', 'IntIntListEntryProto', 'TypeProto.SparseTensor']);
    expect(all.filter((n) => !known.has(n) && !keptVerbatim.has(n))).toEqual([]);
  });

  it('a number used by the codec is the one onnx.proto gives (spot check: raw_data = 9)', () => {
    expect(TensorFields.raw_data).toBe(root.lookupType('onnx.TensorProto').fields['raw_data']!.id);
  });

  // Each enum of onnx.proto the code declares, value by value and in both directions: a value
  // onnx.proto adds and the code lacks fails here as surely as a wrong number.
  const members = (e: Record<string, string | number>): Record<string, number> =>
    Object.fromEntries(Object.entries(e).filter((x): x is [string, number] => typeof x[1] === 'number'));
  it.each([
    ['AttributeProto.AttributeType', members(AttributeType)],
    ['TensorProto.DataType', members(DataType)],
    ['TensorProto.DataLocation', DataLocation],
  ] as const)('enum %s has the values of onnx.proto', (name, declared) => {
    expect(declared).toEqual(root.lookupEnum(`onnx.${name}`).values);
  });

  it('names a TensorProto field for every data type, one onnx.proto has', () => {
    const fields = root.lookupType('onnx.TensorProto').fields;
    for (const t of ALL_DATA_TYPES) {
      const f = TENSOR_DATA_FIELD[t];
      expect([DataType[t], f !== undefined && f !== 'none' && fields[f]?.id === TensorFields[f]]).toEqual([DataType[t], true]);
    }
    expect(TENSOR_DATA_FIELD[DataType.UNDEFINED]).toBe('none');
    expect(TENSOR_DATA_FIELD.length).toBe(ALL_DATA_TYPES.length + 1);
  });

  // The released onnx.proto of Debian's python3-onnx (ONNX 1.12, IR 8) is older than the schema
  // of record (IR 13), so it is checked as a subset: every field it has, ours has too, same number.
  const DEBIAN = '/usr/lib/python3/dist-packages/onnx/onnx.proto';
  it.skipIf(!existsSync(DEBIAN))('agrees with the released onnx.proto of python3-onnx on every field it has', () => {
    const released = new protobuf.Root().loadSync(DEBIAN, { keepCase: true });
    let checked = 0;
    for (const spec of MESSAGE_SPECS) {
      const type = released.lookup(`onnx.${spec.name}`);
      if (!(type instanceof protobuf.Type)) continue;
      for (const f of Object.values(type.fields)) {
        expect([spec.name, f.name, spec.byName[f.name]]).toEqual([spec.name, f.name, f.id]);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(100);
  });
});
