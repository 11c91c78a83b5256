/**
 * Differential test: protobufjs, driven by the project's schema of record (schema/onnx.proto),
 * decodes the same bytes as the hand-written codec, and the two must agree on everything the
 * IR represents: graph structure (recursively through subgraphs and functions), names, op
 * types, attribute values, tensor types, shapes and bytes. The schema and the codec check each
 * other: a wrong field number in either shows up here.
 *
 * The encoder is checked the same way: models built in code are encoded by onnxkit and decoded
 * by protobufjs.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';
import { describe, expect, it } from 'vitest';
import {
  AttributeType,
  DataType,
  dataTypeInfo,
  type Attribute,
  type Graph,
  type Model,
  type Node,
  type SparseTensor,
  type Tensor,
  type TypeInfo,
  type Value,
} from '@onnxkit/graph';
import { decode, encode } from '@onnxkit/importer';
import { TENSOR_DATA_FIELD } from '../src/schema.js';
import { corpusModels } from './helpers/corpus.js';
import { kitchenSink } from './helpers/models.js';

const root = protobuf.loadSync(fileURLToPath(new URL('../schema/onnx.proto', import.meta.url)));
const ModelProto = root.lookupType('onnx.ModelProto');

/* eslint-disable @typescript-eslint/no-explicit-any -- protobufjs objects are untyped */
type Pb = any;

const big = (v: unknown): bigint => BigInt(String(v ?? 0));

/** The packed little-endian storage bytes protobufjs's view of a TensorProto describes. */
function pbTensorBytes(t: Pb): Uint8Array {
  const dt = t.dataType as DataType;
  if (t.rawData && t.rawData.length > 0) return new Uint8Array(t.rawData);
  const info = dataTypeInfo(dt);
  let a: ArrayBufferView;
  switch (TENSOR_DATA_FIELD[dt]) {
    case 'float_data':
      a = Float32Array.from(t.floatData ?? []);
      break;
    case 'double_data':
      a = Float64Array.from(t.doubleData ?? []);
      break;
    case 'int64_data':
      a = BigInt64Array.from((t.int64Data ?? []).map(big));
      break;
    case 'uint64_data':
      a = dt === DataType.UINT64 ? BigUint64Array.from((t.uint64Data ?? []).map((x: unknown) => BigInt.asUintN(64, big(x)))) : Uint32Array.from((t.uint64Data ?? []).map(Number));
      break;
    case 'int32_data':
      a = new info.storage!((t.int32Data ?? []).length);
      (t.int32Data ?? []).forEach((v: number, i: number) => ((a as Int32Array)[i] = v));
      break;
    default:
      throw new Error(`no bytes for data type ${dt}`);
  }
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

class Comparer {
  readonly errors: string[] = [];
  private check(cond: boolean, what: string): void {
    if (!cond && this.errors.length < 20) this.errors.push(what);
  }

  tensor(p: string, pb: Pb, t: Tensor): void {
    this.check((pb.dataType ?? 0) === t.dtype, `${p}: data_type ${pb.dataType} vs ${t.dtype}`);
    this.check((pb.dims ?? []).map(Number).join() === t.dims.join(), `${p}: dims`);
    this.check((pb.name ?? '') === t.name, `${p}: name '${pb.name}' vs '${t.name}'`);
    if (pb.dataLocation === 1) {
      this.check(t.external !== undefined, `${p}: external`);
      return;
    }
    if (t.dtype === DataType.STRING) {
      const s = (pb.stringData ?? []) as Uint8Array[];
      this.check(s.length === t.strings().length && s.every((x, i) => sameBytes(new Uint8Array(x), t.strings()[i]!)), `${p}: string_data`);
      return;
    }
    this.check(sameBytes(pbTensorBytes(pb), t.bytes()), `${p}: tensor bytes`);
  }

  type(p: string, pb: Pb, t: TypeInfo | null): void {
    if (!pb) {
      this.check(t === null, `${p}: type present only in onnxkit`);
      return;
    }
    if (t === null) return void this.check(false, `${p}: type missing in onnxkit`);
    const tt = pb.tensorType ?? pb.sparseTensorType;
    if (tt) {
      this.check(t.kind === (pb.tensorType ? 'tensor' : 'sparse_tensor'), `${p}: kind ${t.kind}`);
      if (t.kind !== 'tensor' && t.kind !== 'sparse_tensor') return;
      this.check((tt.elemType ?? 0) === t.elemType, `${p}: elem_type`);
      const dims = tt.shape ? (tt.shape.dim ?? []).map((d: Pb) => (d.dimParam !== undefined && d.dimParam !== null && d.value === 'dimParam' ? d.dimParam : d.value === 'dimValue' ? Number(d.dimValue) : null)) : null;
      this.check(JSON.stringify(dims) === JSON.stringify(t.shape), `${p}: shape ${JSON.stringify(dims)} vs ${JSON.stringify(t.shape)}`);
    } else if (pb.sequenceType) {
      this.check(t.kind === 'sequence', `${p}: kind ${t.kind} (sequence expected)`);
      if (t.kind === 'sequence') this.type(`${p}.elem`, pb.sequenceType.elemType, t.elem);
    } else if (pb.optionalType) {
      this.check(t.kind === 'optional', `${p}: kind ${t.kind} (optional expected)`);
      if (t.kind === 'optional') this.type(`${p}.elem`, pb.optionalType.elemType, t.elem);
    } else if (pb.mapType) {
      this.check(t.kind === 'map' && t.keyType === pb.mapType.keyType, `${p}: map`);
      if (t.kind === 'map') this.type(`${p}.value`, pb.mapType.valueType, t.value);
    } else if (pb.opaqueType) {
      this.check(t.kind === 'opaque' && t.domain === (pb.opaqueType.domain ?? '') && t.name === (pb.opaqueType.name ?? ''), `${p}: opaque`);
    }
  }

  valueInfo(p: string, pb: Pb, v: Value): void {
    this.check((pb.name ?? '') === v.name, `${p}: name '${pb.name}' vs '${v.name}'`);
    this.type(`${p}.type`, pb.type, v.type);
  }

  sparse(p: string, pb: Pb, s: SparseTensor): void {
    this.tensor(`${p}.values`, pb.values, s.values);
    this.tensor(`${p}.indices`, pb.indices, s.indices);
    this.check((pb.dims ?? []).map(Number).join() === s.dims.join(), `${p}.dims`);
  }

  attribute(p: string, pb: Pb, a: Attribute): void {
    this.check(pb.name === a.name, `${p}: name`);
    this.check((pb.refAttrName ?? '') === a.refAttrName, `${p}: ref_attr_name`);
    if (a.isRef) return;
    this.check((pb.type ?? 0) === a.type, `${p}: type ${pb.type} vs ${a.type}`);
    const v = a.value;
    const utf8 = (b: Uint8Array): string => new TextDecoder().decode(b);
    switch (a.type) {
      case AttributeType.FLOAT:
        this.check(Object.is(Math.fround(pb.f ?? 0), v) || (Number.isNaN(pb.f) && Number.isNaN(v as number)), `${p}: f ${pb.f} vs ${v}`);
        break;
      case AttributeType.INT:
        this.check(big(pb.i) === v, `${p}: i ${pb.i} vs ${v}`);
        break;
      case AttributeType.STRING:
        this.check(utf8(pb.s ?? new Uint8Array()) === v, `${p}: s`);
        break;
      case AttributeType.FLOATS:
        this.check(JSON.stringify((pb.floats ?? []).map((x: number) => Math.fround(x))) === JSON.stringify(v), `${p}: floats`);
        break;
      case AttributeType.INTS:
        this.check((pb.ints ?? []).map(big).join() === (v as bigint[]).join(), `${p}: ints`);
        break;
      case AttributeType.STRINGS:
        this.check((pb.strings ?? []).map(utf8).join('\u0000') === (v as string[]).join('\u0000'), `${p}: strings`);
        break;
      case AttributeType.TENSOR:
        this.tensor(`${p}.t`, pb.t, v as Tensor);
        break;
      case AttributeType.TENSORS:
        (v as Tensor[]).forEach((t, i) => this.tensor(`${p}.tensors[${i}]`, pb.tensors[i], t));
        break;
      case AttributeType.GRAPH:
        this.graph(`${p}.g`, pb.g, v as Graph);
        break;
      case AttributeType.GRAPHS:
        (v as Graph[]).forEach((g, i) => this.graph(`${p}.graphs[${i}]`, pb.graphs[i], g));
        break;
      case AttributeType.SPARSE_TENSOR:
        this.sparse(`${p}.sparse_tensor`, pb.sparseTensor, v as SparseTensor);
        break;
      case AttributeType.TYPE_PROTO:
        this.type(`${p}.tp`, pb.tp, v as TypeInfo);
        break;
      case AttributeType.TYPE_PROTOS:
        (v as TypeInfo[]).forEach((t, i) => this.type(`${p}.type_protos[${i}]`, pb.typeProtos[i], t));
        break;
      default:
        break;
    }
  }

  nodes(p: string, pbNodes: Pb[], g: Graph): void {
    const nodes = g.nodes;
    this.check((pbNodes ?? []).length === nodes.length, `${p}: ${pbNodes?.length ?? 0} nodes vs ${nodes.length}`);
    nodes.forEach((n: Node, i) => {
      const pn = pbNodes[i];
      if (!pn) return;
      const q = `${p}.node[${i}]`;
      this.check(pn.opType === n.opType, `${q}: op_type ${pn.opType} vs ${n.opType}`);
      this.check((pn.name ?? '') === n.name, `${q}: name`);
      this.check((pn.domain ?? '') === n.domain, `${q}: domain`);
      this.check((pn.input ?? []).join() === n.inputs.map((v) => v?.name ?? '').join(), `${q}: inputs`);
      this.check((pn.output ?? []).join() === n.outputs.map((v) => v.name).join(), `${q}: outputs`);
      const attrs = [...n.attributes.values()];
      this.check((pn.attribute ?? []).length === attrs.length, `${q}: attribute count`);
      attrs.forEach((a, k) => this.attribute(`${q}.attribute[${k}]`, pn.attribute[k], a));
    });
  }

  graph(p: string, pb: Pb, g: Graph): void {
    this.check((pb.name ?? '') === g.name, `${p}: name`);
    this.nodes(p, pb.node, g);
    const inits = [...g.initializers.values()];
    this.check((pb.initializer ?? []).length === inits.length, `${p}: initializer count`);
    inits.forEach((v, i) => this.tensor(`${p}.initializer[${i}]`, pb.initializer[i], v.constValue!));
    const sparse = [...g.sparseInitializers.values()];
    sparse.forEach((v, i) => this.sparse(`${p}.sparse_initializer[${i}]`, pb.sparseInitializer[i], v.sparseValue!));
    this.check((pb.input ?? []).length === g.inputs.length, `${p}: input count`);
    g.inputs.forEach((v, i) => this.valueInfo(`${p}.input[${i}]`, pb.input[i], v));
    this.check((pb.output ?? []).length === g.outputs.length, `${p}: output count`);
    g.outputs.forEach((v, i) => this.check(pb.output[i]?.name === v.name, `${p}.output[${i}]: name`));
    // Every value_info the file has is on a Value of the graph or in danglingValueInfo.
    const typed = new Map<string, Value>();
    for (const v of g.valuesByName().values()) typed.set(v.name, v);
    for (const v of g.danglingValueInfo) typed.set(v.name, v);
    for (const vi of pb.valueInfo ?? []) {
      const v = typed.get(vi.name);
      this.check(v !== undefined, `${p}: value_info '${vi.name}' lost`);
      if (v && !v.isGraphInput) this.type(`${p}.value_info['${vi.name}']`, vi.type, v.type);
    }
  }

  model(pb: Pb, m: Model): void {
    this.check(Number(pb.irVersion ?? 0) === m.irVersion, 'ir_version');
    this.check((pb.producerName ?? '') === m.producerName, 'producer_name');
    const opsets = new Map((pb.opsetImport ?? []).map((o: Pb) => [o.domain ?? '', Number(o.version)]));
    this.check(JSON.stringify([...opsets]) === JSON.stringify([...m.opsetImports]), 'opset_import');
    this.graph('graph', pb.graph, m.graph);
    this.check((pb.functions ?? []).length === m.functions.length, 'functions');
    m.functions.forEach((f, i) => {
      const pf = pb.functions[i];
      this.check(pf.name === f.name && (pf.domain ?? '') === f.domain, `functions[${i}]: id`);
      this.check((pf.input ?? []).join() === f.graph.inputs.map((v) => v.name).join(), `functions[${i}]: inputs`);
      this.check((pf.output ?? []).join() === f.graph.outputs.map((v) => v.name).join(), `functions[${i}]: outputs`);
      this.nodes(`functions[${i}]`, pf.node, f.graph);
    });
    this.check((pb.trainingInfo ?? []).length === m.trainingInfo.length, 'training_info');
  }
}

describe('protobufjs with schema/onnx.proto agrees with the hand-written codec', () => {
  it('on every model of the ONNX backend corpus', { timeout: 120_000 }, () => {
    const models = corpusModels();
    if (models.length === 0) return;
    let compared = 0;
    const failures: string[] = [];
    for (const c of models) {
      const bytes = readFileSync(c.model);
      const pb = ModelProto.decode(bytes);
      const m = decode(new Uint8Array(bytes));
      const cmp = new Comparer();
      cmp.model(pb, m);
      if (cmp.errors.length > 0) failures.push(`${c.id}: ${cmp.errors.join('; ')}`);
      compared++;
    }
    console.log(`differential: ${compared} corpus models compared field by field with protobufjs`);
    expect(failures).toEqual([]);
    expect(compared).toBe(models.length);
  });

  it('on models built in code with every attribute kind, data type and nested structure (encoder side)', () => {
    const m = kitchenSink();
    const bytes = encode(m);
    const pb = ModelProto.decode(bytes);
    const cmp = new Comparer();
    cmp.model(pb, m);
    expect(cmp.errors).toEqual([]);
    // Spot checks with literal expectations, so the comparer itself cannot be vacuous.
    const obj = ModelProto.toObject(pb, { longs: String }) as Pb;
    const attrs = obj.graph.node[0].attribute;
    expect(attrs.map((a: Pb) => a.name)).toEqual(['f', 'i', 's', 't', 'floats', 'ints', 'strings', 'tensors', 'tp', 'big']);
    expect(attrs[1].i).toBe('-9223372036854775808');
    expect(attrs[9].i).toBe('9223372036854775807');
    expect(obj.graph.initializer.map((t: Pb) => t.name)).toContain('w_int4');
    expect(obj.opsetImport).toEqual([{ domain: '', version: '18' }, { domain: 'com.example', version: '1' }]);
  });
});
