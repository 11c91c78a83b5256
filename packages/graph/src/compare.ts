/**
 * Semantic model equality for round-trip tests: the differences between two models, empty
 * when they are equal. Defaults count as unset (the IR already normalises them), tensor data
 * is compared by element bytes whatever field stored it, and collections ONNX treats as
 * unordered (opset imports, metadata, attributes, initializers) are compared as sets.
 */
import type { Attribute} from './attribute.js';
import { AttributeType, type SparseTensor } from './attribute.js';
import type { Graph, Model, Value } from './core.js';
import { DataType, dataTypeName } from './data-type.js';
import type { Tensor } from './tensor.js';
import { formatType, typesEqual, type TypeInfo } from './types.js';

export interface DiffOptions {
  /** Stop after this many differences (default 20). */
  limit?: number;
  /** Compare tensor contents (default true). Lazy tensors are read. */
  tensorData?: boolean;
}

export function diffModels(a: Model, b: Model, options: DiffOptions = {}): string[] {
  const d = new Differ(options);
  d.eq('ir_version', a.irVersion, b.irVersion);
  d.map('opset_import', a.opsetImports, b.opsetImports);
  d.eq('producer_name', a.producerName, b.producerName);
  d.eq('producer_version', a.producerVersion, b.producerVersion);
  d.eq('domain', a.domain, b.domain);
  d.eq('model_version', a.modelVersion, b.modelVersion);
  d.eq('doc_string', a.docString, b.docString);
  d.map('metadata_props', a.metadataProps, b.metadataProps);
  d.unknown('model', a.unknownFields, b.unknownFields);
  d.graph('graph', a.graph, b.graph);
  d.eq('functions.length', a.functions.length, b.functions.length);
  a.functions.forEach((fa, i) => {
    const fb = b.functions[i];
    if (!fb) return;
    const p = `functions[${i}]`;
    d.eq(`${p}.id`, fa.id, fb.id);
    d.eq(`${p}.attribute`, fa.attributeNames.join(','), fb.attributeNames.join(','));
    d.attrs(`${p}.attribute_proto`, fa.attributeDefaults, fb.attributeDefaults);
    d.map(`${p}.opset_import`, fa.opsetImports, fb.opsetImports);
    d.eq(`${p}.doc_string`, fa.docString, fb.docString);
    d.map(`${p}.metadata_props`, fa.metadataProps, fb.metadataProps);
    d.graph(`${p}`, fa.graph, fb.graph);
  });
  d.eq('training_info.length', a.trainingInfo.length, b.trainingInfo.length);
  a.trainingInfo.forEach((ta, i) => {
    const tb = b.trainingInfo[i];
    if (!tb) return;
    d.eq(`training_info[${i}].bindings`, JSON.stringify([ta.initializationBinding, ta.updateBinding]), JSON.stringify([tb.initializationBinding, tb.updateBinding]));
    d.optGraph(`training_info[${i}].initialization`, ta.initialization, tb.initialization);
    d.optGraph(`training_info[${i}].algorithm`, ta.algorithm, tb.algorithm);
  });
  return d.diffs;
}

export function diffGraphs(a: Graph, b: Graph, options: DiffOptions = {}): string[] {
  const d = new Differ(options);
  d.graph('graph', a, b);
  return d.diffs;
}

/** Element-wise equality of two tensors (dtype, dims, bytes; strings by bytes). */
export function tensorsEqual(a: Tensor, b: Tensor): boolean {
  if (a.dtype !== b.dtype || a.dims.length !== b.dims.length || a.dims.some((x, i) => x !== b.dims[i])) return false;
  if (a.dtype === DataType.STRING) {
    const sa = a.strings();
    const sb = b.strings();
    return sa.length === sb.length && sa.every((s, i) => bytesEqual(s, sb[i]!));
  }
  return bytesEqual(a.bytes(), b.bytes());
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false;
  for (let i = 0; i < a.byteLength; i++) if (a[i] !== b[i]) return false;
  return true;
}

class Differ {
  readonly diffs: string[] = [];
  private readonly limit: number;
  private readonly data: boolean;
  constructor(options: DiffOptions) {
    this.limit = options.limit ?? 20;
    this.data = options.tensorData ?? true;
  }

  private add(s: string): void {
    if (this.diffs.length < this.limit) this.diffs.push(s);
  }

  eq(path: string, a: unknown, b: unknown): void {
    if (a !== b) this.add(`${path}: ${show(a)} != ${show(b)}`);
  }

  map(path: string, a: ReadonlyMap<string, unknown>, b: ReadonlyMap<string, unknown>): void {
    for (const [k, v] of a) if (!b.has(k) || b.get(k) !== v) this.add(`${path}[${JSON.stringify(k)}]: ${show(v)} != ${show(b.get(k))}`);
    for (const [k, v] of b) if (!a.has(k)) this.add(`${path}[${JSON.stringify(k)}]: missing != ${show(v)}`);
  }

  unknown(path: string, a: Uint8Array[] | undefined, b: Uint8Array[] | undefined): void {
    const la = a ?? [];
    const lb = b ?? [];
    if (la.length !== lb.length || la.some((x, i) => !bytesEqual(x, lb[i]!))) this.add(`${path}: unknown fields differ (${la.length} vs ${lb.length})`);
  }

  optGraph(path: string, a: Graph | null, b: Graph | null): void {
    if (a === null || b === null) {
      if (a !== b) this.add(`${path}: ${a ? 'present' : 'absent'} != ${b ? 'present' : 'absent'}`);
      return;
    }
    this.graph(path, a, b);
  }

  type(path: string, a: TypeInfo | null, b: TypeInfo | null): void {
    if (!typesEqual(a, b)) this.add(`${path}: type ${formatType(a)} != ${formatType(b)}`);
  }

  value(path: string, a: Value, b: Value): void {
    this.eq(`${path}.name`, a.name, b.name);
    this.type(`${path}`, a.type, b.type);
    this.eq(`${path}.doc_string`, a.docString, b.docString);
    this.map(`${path}.metadata_props`, a.metadataProps, b.metadataProps);
  }

  tensor(path: string, a: Tensor, b: Tensor): void {
    if (a.dtype !== b.dtype) return this.add(`${path}: dtype ${dataTypeName(a.dtype)} != ${dataTypeName(b.dtype)}`);
    if (a.dims.join(',') !== b.dims.join(',')) return this.add(`${path}: dims [${a.dims}] != [${b.dims}]`);
    this.eq(`${path}.name`, a.name, b.name);
    this.eq(`${path}.doc_string`, a.docString, b.docString);
    this.map(`${path}.metadata_props`, a.metadataProps, b.metadataProps);
    if (this.data && !tensorsEqual(a, b)) this.add(`${path}: data differs`);
  }

  sparse(path: string, a: SparseTensor, b: SparseTensor): void {
    this.eq(`${path}.dims`, a.dims.join(','), b.dims.join(','));
    this.tensor(`${path}.values`, a.values, b.values);
    this.tensor(`${path}.indices`, a.indices, b.indices);
  }

  attrs(path: string, a: readonly Attribute[], b: readonly Attribute[]): void {
    const mb = new Map(b.map((x) => [x.name, x]));
    for (const x of a) {
      const y = mb.get(x.name);
      if (!y) this.add(`${path}.${x.name}: present != missing`);
      else this.attr(`${path}.${x.name}`, x, y);
    }
    for (const y of b) if (!a.some((x) => x.name === y.name)) this.add(`${path}.${y.name}: missing != present`);
  }

  attr(path: string, a: Attribute, b: Attribute): void {
    this.eq(`${path}.type`, AttributeType[a.type], AttributeType[b.type]);
    this.eq(`${path}.ref_attr_name`, a.refAttrName, b.refAttrName);
    this.eq(`${path}.doc_string`, a.docString, b.docString);
    if (a.type !== b.type || a.isRef) return;
    const va = a.value;
    const vb = b.value;
    switch (a.type) {
      case AttributeType.FLOAT:
        if (!(Object.is(va, vb) || (Number.isNaN(va) && Number.isNaN(vb)))) this.add(`${path}: ${show(va)} != ${show(vb)}`);
        return;
      case AttributeType.INT:
      case AttributeType.STRING:
        return this.eq(path, va, vb);
      case AttributeType.FLOATS:
      case AttributeType.INTS:
      case AttributeType.STRINGS:
        return this.eq(path, JSON.stringify((va as unknown[]).map(String)), JSON.stringify((vb as unknown[]).map(String)));
      case AttributeType.TENSOR:
        return this.tensor(path, va as Tensor, vb as Tensor);
      case AttributeType.TENSORS: {
        const ta = va as Tensor[];
        const tb = vb as Tensor[];
        this.eq(`${path}.length`, ta.length, tb.length);
        ta.forEach((t, i) => tb[i] && this.tensor(`${path}[${i}]`, t, tb[i]));
        return;
      }
      case AttributeType.GRAPH:
        return this.graph(path, va as Graph, vb as Graph);
      case AttributeType.GRAPHS: {
        const ga = va as Graph[];
        const gb = vb as Graph[];
        this.eq(`${path}.length`, ga.length, gb.length);
        ga.forEach((g, i) => gb[i] && this.graph(`${path}[${i}]`, g, gb[i]));
        return;
      }
      case AttributeType.SPARSE_TENSOR:
        return this.sparse(path, va as SparseTensor, vb as SparseTensor);
      case AttributeType.SPARSE_TENSORS: {
        const sa = va as SparseTensor[];
        const sb = vb as SparseTensor[];
        this.eq(`${path}.length`, sa.length, sb.length);
        sa.forEach((s, i) => sb[i] && this.sparse(`${path}[${i}]`, s, sb[i]));
        return;
      }
      case AttributeType.TYPE_PROTO:
        return this.type(path, va as TypeInfo, vb as TypeInfo);
      case AttributeType.TYPE_PROTOS: {
        const ta = va as TypeInfo[];
        const tb = vb as TypeInfo[];
        this.eq(`${path}.length`, ta.length, tb.length);
        ta.forEach((t, i) => this.type(`${path}[${i}]`, t, tb[i] ?? null));
        return;
      }
      default:
        return;
    }
  }

  graph(path: string, a: Graph, b: Graph): void {
    this.eq(`${path}.name`, a.name, b.name);
    this.eq(`${path}.doc_string`, a.docString, b.docString);
    this.map(`${path}.metadata_props`, a.metadataProps, b.metadataProps);
    this.unknown(`${path}`, a.unknownFields, b.unknownFields);
    this.eq(`${path}.input.length`, a.inputs.length, b.inputs.length);
    a.inputs.forEach((v, i) => b.inputs[i] && this.value(`${path}.input[${i}]`, v, b.inputs[i]));
    this.eq(`${path}.output.length`, a.outputs.length, b.outputs.length);
    a.outputs.forEach((v, i) => b.outputs[i] && this.value(`${path}.output[${i}]`, v, b.outputs[i]));
    this.eq(`${path}.initializer.count`, a.initializers.size, b.initializers.size);
    for (const [name, v] of a.initializers) {
      const w = b.initializers.get(name);
      if (!w) this.add(`${path}.initializer[${JSON.stringify(name)}]: missing in second model`);
      else this.tensor(`${path}.initializer[${JSON.stringify(name)}]`, v.constValue!, w.constValue!);
    }
    this.eq(`${path}.sparse_initializer.count`, a.sparseInitializers.size, b.sparseInitializers.size);
    for (const [name, v] of a.sparseInitializers) {
      const w = b.sparseInitializers.get(name);
      if (!w) this.add(`${path}.sparse_initializer[${JSON.stringify(name)}]: missing in second model`);
      else this.sparse(`${path}.sparse_initializer[${JSON.stringify(name)}]`, v.sparseValue!, w.sparseValue!);
    }
    this.eq(`${path}.quantization_annotation`, JSON.stringify(a.quantizationAnnotations), JSON.stringify(b.quantizationAnnotations));
    this.eq(`${path}.node.length`, a.nodeCount, b.nodeCount);
    const nb = b.nodes;
    let i = 0;
    for (const n of a) {
      const m = nb[i];
      const p = `${path}.node[${i}]`;
      i++;
      if (!m) break;
      this.eq(`${p}.op_type`, n.opType, m.opType);
      this.eq(`${p}.domain`, n.domain, m.domain);
      this.eq(`${p}.overload`, n.overload, m.overload);
      this.eq(`${p}.name`, n.name, m.name);
      this.eq(`${p}.doc_string`, n.docString, m.docString);
      this.map(`${p}.metadata_props`, n.metadataProps, m.metadataProps);
      this.unknown(p, n.unknownFields, m.unknownFields);
      this.eq(`${p}.input`, n.inputs.map((v) => v?.name ?? '').join(','), m.inputs.map((v) => v?.name ?? '').join(','));
      this.eq(`${p}.output`, n.outputs.map((v) => v.name).join(','), m.outputs.map((v) => v.name).join(','));
      n.outputs.forEach((o, k) => m.outputs[k] && !o.isGraphOutput && this.value(`${p}.output[${k}]`, o, m.outputs[k]));
      this.attrs(`${p}.attribute`, [...n.attributes.values()], [...m.attributes.values()]);
      if (this.diffs.length >= this.limit) return;
    }
    this.eq(`${path}.value_info(unreferenced)`, a.danglingValueInfo.map((v) => `${v.name}:${formatType(v.type)}`).join(','), b.danglingValueInfo.map((v) => `${v.name}:${formatType(v.type)}`).join(','));
  }
}

function show(v: unknown): string {
  if (typeof v === 'bigint') return `${v}n`;
  if (v === undefined) return 'missing';
  return JSON.stringify(v) ?? String(v);
}
