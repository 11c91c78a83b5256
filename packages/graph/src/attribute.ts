/**
 * Node attributes: every ONNX AttributeProto kind, including graphs, tensors, sparse tensors
 * and type protos, and reference attributes inside function bodies (`refAttrName`).
 *
 * INT and INTS values are kept as bigint so that int64 values such as INT64_MAX (used by old
 * Slice exports) survive a round trip; the `as*` accessors return numbers, saturating at ±2^53
 * rather than wrapping.
 */
import type { Graph } from './core.js';
import { GraphError } from './errors.js';
import type { Tensor } from './tensor.js';
import type { TypeInfo } from './types.js';

export enum AttributeType {
  UNDEFINED = 0,
  FLOAT = 1,
  INT = 2,
  STRING = 3,
  TENSOR = 4,
  GRAPH = 5,
  FLOATS = 6,
  INTS = 7,
  STRINGS = 8,
  TENSORS = 9,
  GRAPHS = 10,
  SPARSE_TENSOR = 11,
  SPARSE_TENSORS = 12,
  TYPE_PROTO = 13,
  TYPE_PROTOS = 14,
}

/** A SparseTensorProto: COO `indices` (int64, [NNZ] or [NNZ, rank]) into a dense `dims` shape. */
export interface SparseTensor {
  readonly values: Tensor;
  readonly indices: Tensor;
  readonly dims: readonly number[];
}

export type AttributeValue =
  | number
  | bigint
  | string
  | Tensor
  | Graph
  | SparseTensor
  | TypeInfo
  | readonly number[]
  | readonly bigint[]
  | readonly string[]
  | readonly Tensor[]
  | readonly Graph[]
  | readonly SparseTensor[]
  | readonly TypeInfo[];

export interface AttributeOptions {
  docString?: string;
  /** Inside a function body: the name of the function attribute this one refers to. */
  refAttrName?: string;
  /** AttributeProto fields the codec did not recognise, re-emitted verbatim. */
  unknownFields?: readonly Uint8Array[];
}

const MAX = BigInt(Number.MAX_SAFE_INTEGER);
const MIN = BigInt(Number.MIN_SAFE_INTEGER);
const saturate = (v: bigint): number => (v > MAX ? Number.MAX_SAFE_INTEGER : v < MIN ? Number.MIN_SAFE_INTEGER : Number(v));

export class Attribute {
  readonly name: string;
  readonly type: AttributeType;
  readonly value: AttributeValue | null;
  readonly docString: string;
  readonly refAttrName: string;
  /** AttributeProto fields the codec did not recognise, re-emitted verbatim. */
  readonly unknownFields: readonly Uint8Array[] | undefined;

  constructor(name: string, type: AttributeType, value: AttributeValue | null, options: AttributeOptions = {}) {
    this.name = name;
    this.type = type;
    this.value = value;
    this.docString = options.docString ?? '';
    this.refAttrName = options.refAttrName ?? '';
    this.unknownFields = options.unknownFields;
    if (value === null && this.refAttrName === '') {
      throw new GraphError(`attribute '${name}' has no value and is not a reference attribute`);
    }
  }

  static float(name: string, v: number): Attribute {
    return new Attribute(name, AttributeType.FLOAT, Math.fround(v));
  }
  static int(name: string, v: number | bigint): Attribute {
    return new Attribute(name, AttributeType.INT, toBigInt(name, v));
  }
  static string(name: string, v: string): Attribute {
    return new Attribute(name, AttributeType.STRING, v);
  }
  static tensor(name: string, v: Tensor): Attribute {
    return new Attribute(name, AttributeType.TENSOR, v);
  }
  static graph(name: string, v: Graph): Attribute {
    return new Attribute(name, AttributeType.GRAPH, v);
  }
  static floats(name: string, v: readonly number[]): Attribute {
    return new Attribute(name, AttributeType.FLOATS, v.map((x) => Math.fround(x)));
  }
  static ints(name: string, v: readonly (number | bigint)[]): Attribute {
    return new Attribute(name, AttributeType.INTS, v.map((x) => toBigInt(name, x)));
  }
  static strings(name: string, v: readonly string[]): Attribute {
    return new Attribute(name, AttributeType.STRINGS, [...v]);
  }
  static tensors(name: string, v: readonly Tensor[]): Attribute {
    return new Attribute(name, AttributeType.TENSORS, [...v]);
  }
  static graphs(name: string, v: readonly Graph[]): Attribute {
    return new Attribute(name, AttributeType.GRAPHS, [...v]);
  }
  static typeProto(name: string, v: TypeInfo): Attribute {
    return new Attribute(name, AttributeType.TYPE_PROTO, v);
  }
  /** A reference to attribute `ref` of the enclosing function. */
  static ref(name: string, type: AttributeType, ref: string): Attribute {
    return new Attribute(name, type, null, { refAttrName: ref });
  }

  get isRef(): boolean {
    return this.refAttrName !== '';
  }

  asInt(): number {
    this.expect(AttributeType.INT);
    return saturate(this.value as bigint);
  }
  asBigInt(): bigint {
    this.expect(AttributeType.INT);
    return this.value as bigint;
  }
  asInts(): number[] {
    this.expect(AttributeType.INTS);
    return (this.value as readonly bigint[]).map(saturate);
  }
  asFloat(): number {
    this.expect(AttributeType.FLOAT);
    return this.value as number;
  }
  asFloats(): number[] {
    this.expect(AttributeType.FLOATS);
    return [...(this.value as readonly number[])];
  }
  asString(): string {
    this.expect(AttributeType.STRING);
    return this.value as string;
  }
  asStrings(): string[] {
    this.expect(AttributeType.STRINGS);
    return [...(this.value as readonly string[])];
  }
  asTensor(): Tensor {
    this.expect(AttributeType.TENSOR);
    return this.value as Tensor;
  }
  asGraph(): Graph {
    this.expect(AttributeType.GRAPH);
    return this.value as Graph;
  }
  asGraphs(): readonly Graph[] {
    this.expect(AttributeType.GRAPHS);
    return this.value as readonly Graph[];
  }

  private expect(type: AttributeType): void {
    if (this.isRef) {
      throw new GraphError(`attribute '${this.name}' refers to function attribute '${this.refAttrName}' and has no value here`);
    }
    if (this.type !== type) {
      throw new GraphError(`attribute '${this.name}' is ${AttributeType[this.type]}, not ${AttributeType[type]}`);
    }
  }
}

function toBigInt(name: string, v: number | bigint): bigint {
  if (typeof v === 'bigint') return BigInt.asIntN(64, v) === v ? v : fail();
  if (!Number.isSafeInteger(v)) return fail();
  return BigInt(v);
  function fail(): never {
    throw new GraphError(`attribute '${name}': ${String(v)} is not an int64`);
  }
}

export type AttributeInput =
  | number
  | bigint
  | string
  | boolean
  | Tensor
  | Graph
  | readonly number[]
  | readonly bigint[]
  | readonly string[]
  | readonly Tensor[]
  | readonly Graph[]
  | Attribute;
