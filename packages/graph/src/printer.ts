/**
 * A deterministic text form of a model or graph, close to the ONNX textual syntax: the same
 * model always prints the same text (no object ids, no Map-order surprises), so it can be a
 * golden file and a readable diff.
 */
import type { Attribute} from './attribute.js';
import { AttributeType, type SparseTensor } from './attribute.js';
import type { Graph, Model} from './core.js';
import { type Node, type Value } from './core.js';
import { dataTypeName } from './data-type.js';
import type { Tensor } from './tensor.js';
import { formatType } from './types.js';

export interface PrintOptions {
  /** Print up to this many elements of each constant (default 8; 0 prints none). */
  maxElements?: number;
  /** Print a content hash of each in-memory constant (lazy ones are not read). Default true. */
  hashTensors?: boolean;
  /** Include doc strings (default false). */
  docStrings?: boolean;
}

export function printModel(m: Model, options: PrintOptions = {}): string {
  const p = new Printer(options);
  const head: string[] = [`ir_version: ${m.irVersion}`];
  head.push(`opset_import: [${[...m.opsetImports].map(([d, v]) => `${JSON.stringify(d)}: ${v}`).join(', ')}]`);
  if (m.producerName) head.push(`producer_name: ${JSON.stringify(m.producerName)}`);
  if (m.producerVersion) head.push(`producer_version: ${JSON.stringify(m.producerVersion)}`);
  if (m.domain) head.push(`domain: ${JSON.stringify(m.domain)}`);
  if (m.modelVersion !== 0n) head.push(`model_version: ${m.modelVersion}`);
  if (m.metadataProps.size) head.push(`metadata_props: {${[...m.metadataProps].map(([k, v]) => `${JSON.stringify(k)}: ${JSON.stringify(v)}`).join(', ')}}`);
  if (options.docStrings && m.docString) head.push(`doc_string: ${JSON.stringify(m.docString)}`);
  p.line(`<\n  ${head.join(',\n  ')}\n>`);
  p.graph(m.graph, 'graph');
  for (const f of m.functions) {
    const attrs = [...f.attributeNames, ...f.attributeDefaults.map((a) => `${a.name} = ${p.attrValue(a)}`)];
    p.line('');
    p.line(`function ${f.domain}.${f.name}${f.overload ? `:${f.overload}` : ''}${attrs.length ? ` <${attrs.join(', ')}>` : ''}`);
    p.graph(f.graph, 'body');
  }
  m.trainingInfo.forEach((t, i) => {
    p.line('');
    p.line(`training_info[${i}] init_binding=${JSON.stringify(t.initializationBinding)} update_binding=${JSON.stringify(t.updateBinding)}`);
    if (t.initialization) p.graph(t.initialization, 'initialization');
    if (t.algorithm) p.graph(t.algorithm, 'algorithm');
  });
  return p.text();
}

export function printGraph(g: Graph, options: PrintOptions = {}): string {
  const p = new Printer(options);
  p.graph(g, 'graph');
  return p.text();
}

/** One node as a line of text: `%y = Conv<strides=[2,2]>(%x, %w)`. */
export function printNode(n: Node, options: PrintOptions = {}): string {
  return new Printer(options).node(n);
}

class Printer {
  private readonly lines: string[] = [];
  private indent = '';
  private readonly maxElements: number;
  private readonly hash: boolean;

  constructor(private readonly options: PrintOptions) {
    this.maxElements = options.maxElements ?? 8;
    this.hash = options.hashTensors ?? true;
  }

  text(): string {
    return this.lines.join('\n') + '\n';
  }

  line(s: string): void {
    this.lines.push(this.indent + s);
  }

  graph(g: Graph, keyword: string): void {
    const inputs = g.inputs.map((v) => `${ref(v)}: ${formatType(v.type)}`);
    this.line(`${keyword} ${JSON.stringify(g.name)} (${inputs.length ? '\n' + inputs.map((s) => `${this.indent}    ${s}`).join(',\n') + `\n${this.indent}` : ''}) {`);
    const prev = this.indent;
    this.indent += '  ';
    if (this.options.docStrings && g.docString) this.line(`# ${g.docString.replace(/\n/g, ' ')}`);
    for (const v of g.initializers.values()) this.line(`${ref(v)} = ${this.tensor(v.constValue!)}`);
    for (const v of g.sparseInitializers.values()) this.line(`${ref(v)} = ${this.sparse(v.sparseValue!)}`);
    for (const n of g) {
      this.line(this.node(n));
      for (const a of n.attributes.values()) {
        if (a.isRef) continue;
        const subs = a.type === AttributeType.GRAPH ? [a.value as Graph] : a.type === AttributeType.GRAPHS ? (a.value as Graph[]) : [];
        subs.forEach((sg, i) => this.graph(sg, `${a.name}${subs.length > 1 || a.type === AttributeType.GRAPHS ? `[${i}]` : ''}:`));
      }
    }
    const typed = this.valueInfos(g);
    for (const s of typed) this.line(s);
    this.line(`return ${g.outputs.map((v) => `${ref(v)}: ${formatType(v.type)}`).join(', ')}`);
    this.indent = prev;
    this.line('}');
  }

  /** Types of intermediate values, printed after the nodes so node lines stay short. */
  private valueInfos(g: Graph): string[] {
    const out: string[] = [];
    for (const n of g) {
      for (const o of n.outputs) {
        if (o.type !== null && !o.isGraphOutput) out.push(`# ${ref(o)}: ${formatType(o.type)}`);
      }
    }
    for (const v of g.danglingValueInfo) out.push(`# value_info ${ref(v)}: ${formatType(v.type)} (unreferenced)`);
    return out;
  }

  node(n: Node): string {
    const outs = n.outputs.map(ref).join(', ');
    const op = n.isOnnxDomain ? n.opType : `${n.domain}.${n.opType}`;
    const attrs = [...n.attributes.values()]
      .filter((a) => a.isRef || (a.type !== AttributeType.GRAPH && a.type !== AttributeType.GRAPHS))
      .map((a) => `${a.name}=${this.attrValue(a)}`);
    const subs = [...n.attributes.values()].filter((a) => !a.isRef && (a.type === AttributeType.GRAPH || a.type === AttributeType.GRAPHS));
    for (const a of subs) attrs.push(`${a.name}=<graph>`);
    const ins = n.inputs.map((v) => (v === null ? '""' : ref(v))).join(', ');
    const name = n.name ? `  # ${n.name}` : '';
    return `${outs} = ${op}${n.overload ? `:${n.overload}` : ''}${attrs.length ? `<${attrs.join(', ')}>` : ''}(${ins})${name}`;
  }

  attrValue(a: Attribute): string {
    if (a.isRef) return `@${a.refAttrName}`;
    switch (a.type) {
      case AttributeType.FLOAT:
        return fmtFloat(a.value);
      case AttributeType.INT:
        return String(a.value);
      case AttributeType.STRING:
        return JSON.stringify(a.value);
      case AttributeType.FLOATS:
        return `[${a.value.map(fmtFloat).join(',')}]`;
      case AttributeType.INTS:
        return `[${a.value.join(',')}]`;
      case AttributeType.STRINGS:
        return `[${a.value.map((s) => JSON.stringify(s)).join(',')}]`;
      case AttributeType.TENSOR:
        return this.tensor(a.value);
      case AttributeType.TENSORS:
        return `[${a.value.map((t) => this.tensor(t)).join(', ')}]`;
      case AttributeType.SPARSE_TENSOR:
        return this.sparse(a.value);
      case AttributeType.SPARSE_TENSORS:
        return `[${a.value.map((t) => this.sparse(t)).join(', ')}]`;
      case AttributeType.TYPE_PROTO:
        return formatType(a.value);
      case AttributeType.TYPE_PROTOS:
        return `[${a.value.map((t) => formatType(t)).join(', ')}]`;
      case AttributeType.GRAPH:
      case AttributeType.GRAPHS:
        return '<graph>';
    }
  }

  tensor(t: Tensor): string {
    let s = `${dataTypeName(t.dtype)}[${t.dims.join(',')}]`;
    if (t.isLazy) {
      const ext = t.external;
      return `${s} @external(${ext ? `${JSON.stringify(ext.location)}, offset=${ext.offset}, length=${t.byteLength}` : t.origin})`;
    }
    if (t.dtype === 8) {
      const texts = t.texts();
      s += ` {${texts.slice(0, this.maxElements).map((x) => JSON.stringify(x)).join(', ')}${texts.length > this.maxElements ? ', ...' : ''}}`;
      return s;
    }
    if (this.maxElements > 0 && t.size > 0) {
      let vals: string[];
      try {
        const f = t.toFloat64();
        vals = Array.from(f.subarray(0, this.maxElements), fmtFloat);
        if (f.length > this.maxElements) vals.push('...');
      } catch {
        vals = ['<unreadable>'];
      }
      s += ` {${vals.join(', ')}}`;
    }
    if (this.hash && t.size > this.maxElements) s += ` #${fnv1a(t.bytes())}`;
    return s;
  }

  sparse(t: SparseTensor): string {
    return `sparse(${this.tensor(t.values)}, indices=${this.tensor(t.indices)}, dims=[${t.dims.join(',')}])`;
  }
}

function ref(v: Value): string {
  return v.name === '' ? '""' : `%${/^[A-Za-z0-9_.:/-]+$/.test(v.name) ? v.name : JSON.stringify(v.name)}`;
}

function fmtFloat(x: number): string {
  if (Number.isNaN(x)) return 'nan';
  if (!Number.isFinite(x)) return x > 0 ? 'inf' : '-inf';
  if (Object.is(x, -0)) return '-0';
  return Number.isInteger(x) ? String(x) : String(Number(x.toPrecision(7)));
}

/** 32-bit FNV-1a of a byte array, hex. Enough to tell tensors apart in a golden file. */
export function fnv1a(bytes: Uint8Array): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < bytes.length; i++) {
    h ^= bytes[i]!;
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0).toString(16).padStart(8, '0');
}
