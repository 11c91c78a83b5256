/**
 * GraphBuilder: write models in code.
 *
 *   const b = new GraphBuilder({ name: 'tiny', opset: 17 });
 *   const x = b.input('x', DataType.FLOAT, ['N', 3, 32, 32]);
 *   const w = b.constant('w', Tensor.fromNumbers(DataType.FLOAT, [8, 3, 3, 3], weights));
 *   const y = b.op('Relu', [b.op('Conv', [x, w], { pads: [1, 1, 1, 1] })]);
 *   b.output(y, 'y');
 *   const model = b.build();
 *
 * Integer attribute values become INT/INTS, other numbers FLOAT/FLOATS; wrap with
 * `Attribute.float(name, 1)` to force a float. Names are unique within the builder.
 */
import type { Attribute} from './attribute.js';
import { type AttributeInput } from './attribute.js';
import { Graph, Model, Node, Value, toAttribute, type ModelInit } from './core.js';
import { DataType } from './data-type.js';
import { GraphError } from './errors.js';
import { Tensor } from './tensor.js';
import type { Shape, TypeInfo } from './types.js';

export interface BuilderOptions {
  name?: string;
  /** Default-domain opset version (default 17). */
  opset?: number;
  /** Extra opset imports, e.g. { 'com.microsoft': 1 }. */
  opsets?: Record<string, number>;
}

export interface OpOptions {
  name?: string;
  domain?: string;
  /** Number of outputs (default 1) or their names. */
  outputs?: number | readonly string[];
  docString?: string;
}

export class GraphBuilder {
  readonly graph: Graph;
  readonly opsets: Map<string, number>;
  readonly #used = new Set<string>();
  readonly #counters = new Map<string, number>();
  #prefix: string[] = [];

  constructor(options: BuilderOptions = {}) {
    this.graph = new Graph({ name: options.name ?? 'graph' });
    this.opsets = new Map([['', options.opset ?? 17], ...Object.entries(options.opsets ?? {})]);
  }

  /** A name not used yet in this builder, derived from `base`. */
  uniqueName(base: string): string {
    let name = base;
    let k = this.#counters.get(base) ?? 0;
    while (this.#used.has(name)) name = `${base}_${++k}`;
    this.#counters.set(base, k);
    this.#used.add(name);
    return name;
  }

  /** Runs `fn` with `prefix/` prepended to generated node names (like PyTorch module paths). */
  scope<T>(prefix: string, fn: () => T): T {
    this.#prefix.push(prefix);
    try {
      return fn();
    } finally {
      this.#prefix.pop();
    }
  }

  #scoped(name: string): string {
    return this.#prefix.length ? `${this.#prefix.join('.')}.${name}` : name;
  }

  input(name: string, elemType: DataType, shape: Shape | null, extra: { denotation?: string } = {}): Value {
    const type: TypeInfo = { kind: 'tensor', elemType, shape, ...(extra.denotation ? { denotation: extra.denotation } : {}) };
    return this.graph.addInput(new Value({ name: this.#claim(name), type }));
  }

  /** Adds an initializer holding `tensor` under `name` (scoped and made unique). */
  constant(name: string, tensor: Tensor): Value {
    const n = this.uniqueName(this.#scoped(name));
    return this.graph.initializer(tensor.name === n ? tensor : tensor.with({ name: n }), n);
  }

  /** A float32 initializer from numbers. */
  floats(name: string, dims: readonly number[], values: ArrayLike<number>): Value {
    return this.constant(name, Tensor.fromNumbers(DataType.FLOAT, dims, values));
  }

  /** An int64 initializer (shapes, axes, pads). */
  int64s(name: string, values: readonly (number | bigint)[], dims: readonly number[] = [values.length]): Value {
    return this.constant(name, Tensor.fromNumbers(DataType.INT64, dims, values));
  }

  /** Adds a node and returns it. */
  node(opType: string, inputs: readonly (Value | null | undefined)[], attrs: Record<string, AttributeInput | undefined> = {}, options: OpOptions = {}): Node {
    const nodeName = options.name !== undefined ? this.#claim(this.#scoped(options.name)) : this.uniqueName(this.#scoped(opType));
    const count = typeof options.outputs === 'number' ? options.outputs : (options.outputs?.length ?? 1);
    const outNames = Array.from({ length: count }, (_, i) => {
      const given = typeof options.outputs === 'object' ? options.outputs[i] : undefined;
      if (given === '') return '';
      return given !== undefined ? this.#claim(given) : this.uniqueName(`${nodeName}_output_${i}`);
    });
    const attributes: Attribute[] = [];
    for (const [k, v] of Object.entries(attrs)) if (v !== undefined) attributes.push(toAttribute(k, v));
    // Trailing omitted inputs are dropped rather than written as "": ONNX allows both, but
    // consumers such as onnxruntime's Conv+BatchNormalization fusion skip nodes with a "" bias.
    const ins = inputs.map((v) => v ?? null);
    while (ins.length > 0 && ins[ins.length - 1] === null) ins.pop();
    const node = new Node(opType, ins, {
      name: nodeName,
      domain: options.domain ?? '',
      attributes,
      outputs: outNames,
      docString: options.docString,
    });
    if (options.domain && !this.opsets.has(options.domain)) this.opsets.set(options.domain, 1);
    this.graph.append(node);
    return node;
  }

  /** Adds a node and returns its first output. */
  op(opType: string, inputs: readonly (Value | null | undefined)[], attrs: Record<string, AttributeInput | undefined> = {}, options: OpOptions = {}): Value {
    return this.node(opType, inputs, attrs, options).output;
  }

  /** Adds a node with several outputs and returns them. */
  opN(opType: string, inputs: readonly (Value | null | undefined)[], outputs: number, attrs: Record<string, AttributeInput | undefined> = {}, options: OpOptions = {}): Value[] {
    return [...this.node(opType, inputs, attrs, { ...options, outputs }).outputs];
  }

  /** Marks `v` as a graph output, renaming it to `name` when given, and records its type. */
  output(v: Value, name?: string, type?: TypeInfo): Value {
    if (name !== undefined && name !== v.name) {
      this.#used.delete(v.name);
      v.name = this.#claim(name);
    }
    if (type) v.type = type;
    return this.graph.addOutput(v);
  }

  build(init: Omit<ModelInit, 'graph'> = {}): Model {
    return new Model({ irVersion: 8, producerName: 'onnxkit', opsetImports: new Map(this.opsets), ...init, graph: this.graph });
  }

  #claim(name: string): string {
    if (this.#used.has(name)) throw new GraphError(`name '${name}' is already used in this graph`);
    this.#used.add(name);
    return name;
  }
}
