/**
 * Side tables the codec keeps next to the IR, for what ONNX can carry but the IR has no field
 * for: unknown fields inside small messages the IR flattens into plain values (TypeProto,
 * TensorShapeProto, map entries, opset ids, annotations, sparse tensors), the order of
 * `value_info` entries and value_info/output entries that disagree with the Value they name,
 * the raw bytes of attribute strings that were not UTF-8, and verbatim external_data entries.
 *
 * All tables are WeakMaps keyed by IR objects, so they cost nothing once a model is dropped,
 * and they describe only what was decoded: an object a pass replaces simply has no hints and
 * is encoded canonically.
 *
 * Tensors are the exception: their hints (which TensorProto field held the data, the segment,
 * unknown fields) ride on the tensor itself, in the two slots the IR keeps for a codec and never
 * reads (`Tensor.codecData`, `Tensor.codecRecord`). A table keyed by the tensor would lose them
 * on every copy a pass makes (`t.with({ name })` renames a weight, `materialize()` reads a lazy
 * one), which kept them when they were IR fields, and would cost the decoder and the encoder a
 * lookup per tensor; a slot costs neither.
 */
import type { Attribute, ExternalDataInfo, Graph, Model, Tensor, Value } from '@onnxkit/graph';
import type { TypedDataField } from './schema.js';

/** How a graph's ValueInfoProtos were laid out in the file. */
export interface GraphHints {
  /**
   * value_info entries in file order: Values of the graph (their info is emitted), entries of
   * `graph.danglingValueInfo`, or detached records (see `detached`).
   */
  readonly valueInfoOrder: Value[];
  /**
   * Records of value_info entries that disagreed with an already-described Value, mapped to
   * that Value: a record is re-emitted only while its Value is still in the graph under the
   * same name (a pass that removed or replaced the value drops the stale description).
   */
  readonly detached: Map<Value, Value>;
  /**
   * Output ValueInfoProtos that could not be stored on the Value they name (outer-scope or input
   * values, or a Value listed as an output more than once with different infos), by Value and
   * occurrence: `outputInfo.get(v)[k]` describes the k-th output slot holding `v`.
   */
  readonly outputInfo: Map<Value, (Value | undefined)[]>;
}

const graphHints = new WeakMap<Graph, GraphHints>();

export function setGraphHints(g: Graph, h: GraphHints): void {
  graphHints.set(g, h);
}
export function getGraphHints(g: Graph): GraphHints | undefined {
  return graphHints.get(g);
}

/** Unknown fields of a nested message, keyed by the IR object and a sub-key (see hints users). */
const extras = new WeakMap<object, Map<string, readonly Uint8Array[]>>();

export function setExtras(owner: object, key: string, fields: readonly Uint8Array[] | undefined): void {
  if (fields === undefined || fields.length === 0) return;
  let m = extras.get(owner);
  if (m === undefined) extras.set(owner, (m = new Map()));
  m.set(key, fields);
}
export function getExtras(owner: object, key: string): readonly Uint8Array[] | undefined {
  return extras.get(owner)?.get(key);
}
export function hasExtras(owner: object): boolean {
  return extras.has(owner);
}

/** Original bytes of STRING/STRINGS attribute values that were not valid UTF-8. */
const rawAttrStrings = new WeakMap<Attribute, readonly Uint8Array[]>();
export function setRawAttributeStrings(a: Attribute, raw: readonly Uint8Array[]): void {
  rawAttrStrings.set(a, raw);
}
export function getRawAttributeStrings(a: Attribute): readonly Uint8Array[] | undefined {
  return rawAttrStrings.get(a);
}

/** The external_data entries of a decoded tensor, as bytes, re-emitted when the info is unchanged. */
const rawExternalEntries = new WeakMap<ExternalDataInfo, readonly Uint8Array[]>();
export function setRawExternalEntries(info: ExternalDataInfo, raw: readonly Uint8Array[]): void {
  rawExternalEntries.set(info, raw);
}
export function getRawExternalEntries(info: ExternalDataInfo): readonly Uint8Array[] | undefined {
  return rawExternalEntries.get(info);
}

/** Where a model was loaded from, so `save` can refuse to overwrite a file it still reads. */
export interface ModelOrigin {
  /** Real paths of files the model's lazy tensors read (the model file and external data files). */
  readonly files: ReadonlySet<string>;
  /** Real path of the model file itself, when loaded from a path. */
  readonly modelFile: string | undefined;
}
const origins = new WeakMap<Model, ModelOrigin>();
export function setModelOrigin(m: Model, o: ModelOrigin): void {
  origins.set(m, o);
}
export function getModelOrigin(m: Model): ModelOrigin | undefined {
  return origins.get(m);
}

/**
 * Real paths of the files a model was loaded from and may still read: its model file (loaded
 * from a path) and the external data files it opened. Empty for a model decoded from bytes
 * without external data, or built or cloned in memory. A command writing a report, a table or
 * outputs refuses these names: overwriting a data file destroys the model's weights.
 */
export function modelFiles(m: Model): readonly string[] {
  const o = origins.get(m);
  if (o === undefined) return [];
  const files = new Set(o.files);
  if (o.modelFile !== undefined) files.add(o.modelFile);
  return [...files];
}

/**
 * Fields that were present in the file with their default value (proto2 keeps presence, so
 * `domain: ""` written explicitly differs in bytes from no domain). Recorded for the common
 * cases so files written by onnx/PyTorch re-encode byte for byte; semantics never depend on it.
 */
const present = new WeakMap<object, Set<string>>();
/**
 * Whether anything was ever marked: files written without explicit defaults (ours among them)
 * mark nothing, and then the encoder's question for every node and tensor is answered without a
 * WeakMap lookup.
 */
let anyPresent = false;
export function markPresent(owner: object, field: string): void {
  anyPresent = true;
  let s = present.get(owner);
  if (s === undefined) present.set(owner, (s = new Set()));
  s.add(field);
}
export function isPresent(owner: object, field: string): boolean {
  return anyPresent && (present.get(owner)?.has(field) ?? false);
}

/** Raw fixed32 bits of FLOAT/FLOATS attribute values holding NaNs (a signaling NaN loses its bits in a JS number). */
const rawAttrFloats = new WeakMap<Attribute, Uint8Array>();
export function setRawAttributeFloats(a: Attribute, raw: Uint8Array): void {
  rawAttrFloats.set(a, raw);
}
export function getRawAttributeFloats(a: Attribute): Uint8Array | undefined {
  return rawAttrFloats.get(a);
}

/**
 * A tensor whose elements the file held in a typed field (float_data, int32_data, ...) rather than
 * raw_data: its `codecData`. One shared object per field (nothing allocated per tensor). The
 * encoder writes the tensor back in that field while it is the field of the tensor's data type.
 */
export class TensorDataHint {
  private constructor(readonly field: TypedDataField) {
    Object.freeze(this);
  }
  static readonly float_data = new TensorDataHint('float_data');
  static readonly int32_data = new TensorDataHint('int32_data');
  static readonly int64_data = new TensorDataHint('int64_data');
  static readonly double_data = new TensorDataHint('double_data');
  static readonly uint64_data = new TensorDataHint('uint64_data');
}

/** The typed field a tensor's elements came from, or undefined (raw_data, or not decoded). */
export function tensorDataField(t: Tensor): TypedDataField | undefined {
  const h = t.codecData;
  return h instanceof TensorDataHint ? h.field : undefined;
}

/**
 * `t` as a file would hold it in a typed field: the encoder writes it in `field` when that is its
 * data type's field (raw_data otherwise). For tests and fuzz seeds that build such files.
 */
export function withDataField(t: Tensor, field: TypedDataField): Tensor {
  return t.with({ codecData: TensorDataHint[field] });
}

/** TensorProto.segment (deprecated by ONNX, rarely set), kept verbatim. */
export interface TensorSegment {
  readonly begin: bigint;
  readonly end: bigint;
}

/**
 * The TensorProto fields of a decoded tensor the IR has no place for, re-emitted verbatim: its
 * `codecRecord`, allocated only for a tensor that has any (nearly none do).
 */
export class TensorRecordHint {
  constructor(
    readonly segment: TensorSegment | undefined,
    readonly unknownFields: readonly Uint8Array[] | undefined,
  ) {
    Object.freeze(this);
  }
}

/** The record hint for a segment and unknown fields, or undefined when there are neither. */
export function tensorRecordHint(segment: TensorSegment | undefined, unknownFields: readonly Uint8Array[] | undefined): TensorRecordHint | undefined {
  return segment === undefined && unknownFields === undefined ? undefined : new TensorRecordHint(segment, unknownFields);
}

/** A tensor's record hint, or undefined. */
export function tensorRecord(t: Tensor): TensorRecordHint | undefined {
  const h = t.codecRecord;
  return h instanceof TensorRecordHint ? h : undefined;
}
