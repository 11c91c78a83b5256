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
import { Tensor } from './tensor.js';
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

/**
 * What an attribute holds, discriminated by `type`: a FLOAT holds a number and an INT a bigint,
 * so `FLOAT 1.0` and `INT 1` are different values that never convert into each other. A
 * reference attribute (`isRef`, inside a function body) holds no value.
 */
export type AttributeData =
  | { readonly isRef: false; readonly type: AttributeType.FLOAT; readonly value: number }
  | { readonly isRef: false; readonly type: AttributeType.INT; readonly value: bigint }
  | { readonly isRef: false; readonly type: AttributeType.STRING; readonly value: string }
  | { readonly isRef: false; readonly type: AttributeType.TENSOR; readonly value: Tensor }
  | { readonly isRef: false; readonly type: AttributeType.GRAPH; readonly value: Graph }
  | { readonly isRef: false; readonly type: AttributeType.FLOATS; readonly value: readonly number[] }
  | { readonly isRef: false; readonly type: AttributeType.INTS; readonly value: readonly bigint[] }
  | { readonly isRef: false; readonly type: AttributeType.STRINGS; readonly value: readonly string[] }
  | { readonly isRef: false; readonly type: AttributeType.TENSORS; readonly value: readonly Tensor[] }
  | { readonly isRef: false; readonly type: AttributeType.GRAPHS; readonly value: readonly Graph[] }
  | { readonly isRef: false; readonly type: AttributeType.SPARSE_TENSOR; readonly value: SparseTensor }
  | { readonly isRef: false; readonly type: AttributeType.SPARSE_TENSORS; readonly value: readonly SparseTensor[] }
  | { readonly isRef: false; readonly type: AttributeType.TYPE_PROTO; readonly value: TypeInfo }
  | { readonly isRef: false; readonly type: AttributeType.TYPE_PROTOS; readonly value: readonly TypeInfo[] }
  | { readonly isRef: true; readonly type: AttributeType; readonly value: null };

/** The member of `AttributeData` whose type is `T`. */
export type AttributeOf<T extends AttributeType> = AttributeBase & Extract<AttributeData, { isRef: false; type: T }>;

/**
 * A node attribute: `AttributeBase` (name, doc string, accessors) narrowed by `AttributeData`,
 * so checking `a.type === AttributeType.FLOAT` (with `!a.isRef`) types `a.value` as a number.
 */
export type Attribute = AttributeBase & AttributeData;

const MAX = BigInt(Number.MAX_SAFE_INTEGER);
const MIN = BigInt(Number.MIN_SAFE_INTEGER);
const saturate = (v: bigint): number => (v > MAX ? Number.MAX_SAFE_INTEGER : v < MIN ? Number.MIN_SAFE_INTEGER : Number(v));

class AttributeBase {
  readonly name: string;
  readonly type: AttributeType;
  readonly value: AttributeValue | null;
  readonly docString: string;
  readonly refAttrName: string;
  /** True for a reference to an attribute of the enclosing function (no value here). */
  readonly isRef: boolean;
  /** AttributeProto fields the codec did not recognise, re-emitted verbatim. */
  readonly unknownFields: readonly Uint8Array[] | undefined;

  /**
   * Checks that `value` is what `type` holds (a number for FLOAT, a bigint for INT, arrays of
   * those for FLOATS/INTS, …) and throws GraphError otherwise: the type is never guessed from
   * the value, and a value is never converted to fit the type.
   */
  constructor(name: string, type: AttributeType, value: AttributeValue | null, options: AttributeOptions = {}) {
    this.name = name;
    this.type = type;
    this.value = value;
    this.docString = options.docString ?? '';
    this.refAttrName = options.refAttrName ?? '';
    this.isRef = this.refAttrName !== '';
    this.unknownFields = options.unknownFields;
    if (value === null) {
      if (!this.isRef) throw new GraphError(`attribute '${name}' has no value and is not a reference attribute`);
    } else {
      const problem = valueProblem(type, value);
      if (problem !== undefined) throw new GraphError(`attribute '${name}': ${AttributeType[type] ?? `type ${type}`} ${problem}`);
    }
  }

  static float(name: string, v: number): AttributeOf<AttributeType.FLOAT> {
    return make(name, AttributeType.FLOAT, Math.fround(v));
  }
  static int(name: string, v: number | bigint): AttributeOf<AttributeType.INT> {
    return make(name, AttributeType.INT, toBigInt(name, v));
  }
  static string(name: string, v: string): AttributeOf<AttributeType.STRING> {
    return make(name, AttributeType.STRING, v);
  }
  static tensor(name: string, v: Tensor): AttributeOf<AttributeType.TENSOR> {
    return make(name, AttributeType.TENSOR, v);
  }
  static graph(name: string, v: Graph): AttributeOf<AttributeType.GRAPH> {
    return make(name, AttributeType.GRAPH, v);
  }
  static floats(name: string, v: readonly number[]): AttributeOf<AttributeType.FLOATS> {
    return make(name, AttributeType.FLOATS, v.map((x) => Math.fround(x)));
  }
  static ints(name: string, v: readonly (number | bigint)[]): AttributeOf<AttributeType.INTS> {
    return make(name, AttributeType.INTS, v.map((x) => toBigInt(name, x)));
  }
  static strings(name: string, v: readonly string[]): AttributeOf<AttributeType.STRINGS> {
    return make(name, AttributeType.STRINGS, [...v]);
  }
  static tensors(name: string, v: readonly Tensor[]): AttributeOf<AttributeType.TENSORS> {
    return make(name, AttributeType.TENSORS, [...v]);
  }
  static graphs(name: string, v: readonly Graph[]): AttributeOf<AttributeType.GRAPHS> {
    return make(name, AttributeType.GRAPHS, [...v]);
  }
  static typeProto(name: string, v: TypeInfo): AttributeOf<AttributeType.TYPE_PROTO> {
    return make(name, AttributeType.TYPE_PROTO, v);
  }
  /** A reference to attribute `ref` of the enclosing function. */
  static ref(name: string, type: AttributeType, ref: string): Attribute {
    return new AttributeBase(name, type, null, { refAttrName: ref }) as Attribute;
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

function make<T extends AttributeType>(name: string, type: T, value: AttributeValue): AttributeOf<T> {
  return new AttributeBase(name, type, value) as AttributeOf<T>;
}

interface AttributeConstructor {
  /** Checks `value` against `type` (see AttributeBase's constructor); throws GraphError on a mismatch. */
  new (name: string, type: AttributeType, value: AttributeValue | null, options?: AttributeOptions): Attribute;
  readonly prototype: AttributeBase;
  float: typeof AttributeBase.float;
  int: typeof AttributeBase.int;
  string: typeof AttributeBase.string;
  tensor: typeof AttributeBase.tensor;
  graph: typeof AttributeBase.graph;
  floats: typeof AttributeBase.floats;
  ints: typeof AttributeBase.ints;
  strings: typeof AttributeBase.strings;
  tensors: typeof AttributeBase.tensors;
  graphs: typeof AttributeBase.graphs;
  typeProto: typeof AttributeBase.typeProto;
  ref: typeof AttributeBase.ref;
}

/** The Attribute class: `new Attribute(name, type, value)`, `Attribute.float(...)`, `x instanceof Attribute`. */
export const Attribute = AttributeBase as unknown as AttributeConstructor;

const isObject = (v: unknown): boolean => typeof v === 'object' && v !== null;
const every = (v: unknown, ok: (x: unknown) => boolean): boolean => Array.isArray(v) && v.every(ok);

/** Why `value` cannot be the value of an attribute of `type`, or undefined when it can. */
function valueProblem(type: AttributeType, value: AttributeValue): string | undefined {
  switch (type) {
    case AttributeType.FLOAT:
      return typeof value === 'number' ? undefined : `needs a number, got ${describe(value)}`;
    case AttributeType.INT:
      return typeof value === 'bigint' ? undefined : `needs a bigint, got ${describe(value)}`;
    case AttributeType.STRING:
      return typeof value === 'string' ? undefined : `needs a string, got ${describe(value)}`;
    case AttributeType.TENSOR:
      return value instanceof Tensor ? undefined : `needs a Tensor, got ${describe(value)}`;
    case AttributeType.GRAPH:
    case AttributeType.SPARSE_TENSOR:
    case AttributeType.TYPE_PROTO:
      return isObject(value) && !Array.isArray(value) && !(value instanceof Tensor) ? undefined : `needs an object, got ${describe(value)}`;
    case AttributeType.FLOATS:
      return every(value, (x) => typeof x === 'number') ? undefined : `needs an array of numbers, got ${describe(value)}`;
    case AttributeType.INTS:
      return every(value, (x) => typeof x === 'bigint') ? undefined : `needs an array of bigints, got ${describe(value)}`;
    case AttributeType.STRINGS:
      return every(value, (x) => typeof x === 'string') ? undefined : `needs an array of strings, got ${describe(value)}`;
    case AttributeType.TENSORS:
      return every(value, (x) => x instanceof Tensor) ? undefined : `needs an array of Tensors, got ${describe(value)}`;
    case AttributeType.GRAPHS:
    case AttributeType.SPARSE_TENSORS:
    case AttributeType.TYPE_PROTOS:
      return every(value, isObject) ? undefined : `needs an array of objects, got ${describe(value)}`;
    default:
      return 'is not an attribute type that holds a value';
  }
}

function describe(v: unknown): string {
  if (Array.isArray(v)) return v.length === 0 ? 'an empty array' : `an array of ${typeof v[0]}`;
  if (v instanceof Tensor) return 'a Tensor';
  return typeof v === 'object' ? 'an object' : `${typeof v} ${String(v)}`;
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
