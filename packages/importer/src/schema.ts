/**
 * The field numbers of every ONNX message through IR version 13, by name: the one table the
 * codec's decoders and encoders read them from (`TensorFields.raw_data`, never a bare 9), checked
 * field by field against `schema/onnx.proto` (the schema of record) by test/schema.test.ts. Each
 * `…Spec` is the same table inverted (number → name), which names fields in error paths and
 * tells known fields from unknown ones.
 */
import { ALL_DATA_TYPES, DataType } from '@onnxkit/graph';
import type { MessageSpec } from './wire.js';

/** A message's fields by name, and the spec (number → name) derived from them. */
function spec<F extends Readonly<Record<string, number>>>(name: string, byName: F): MessageSpec & { readonly byName: F } {
  const fields: Record<number, string> = {};
  for (const [k, n] of Object.entries(byName)) fields[n] = k;
  return { name, fields, byName };
}

export const ModelFields = {
  ir_version: 1,
  producer_name: 2,
  producer_version: 3,
  domain: 4,
  model_version: 5,
  doc_string: 6,
  graph: 7,
  opset_import: 8,
  metadata_props: 14,
  training_info: 20,
  functions: 25,
  configuration: 26,
} as const;
export const ModelSpec = spec('ModelProto', ModelFields);

export const GraphFields = {
  node: 1,
  name: 2,
  initializer: 5,
  doc_string: 10,
  input: 11,
  output: 12,
  value_info: 13,
  quantization_annotation: 14,
  sparse_initializer: 15,
  metadata_props: 16,
} as const;
export const GraphSpec = spec('GraphProto', GraphFields);

export const NodeFields = {
  input: 1,
  output: 2,
  name: 3,
  op_type: 4,
  attribute: 5,
  doc_string: 6,
  domain: 7,
  overload: 8,
  metadata_props: 9,
  device_configurations: 10,
} as const;
export const NodeSpec = spec('NodeProto', NodeFields);

export const AttributeFields = {
  name: 1,
  f: 2,
  i: 3,
  s: 4,
  t: 5,
  g: 6,
  floats: 7,
  ints: 8,
  strings: 9,
  tensors: 10,
  graphs: 11,
  doc_string: 13,
  tp: 14,
  type_protos: 15,
  type: 20,
  ref_attr_name: 21,
  sparse_tensor: 22,
  sparse_tensors: 23,
} as const;
export const AttributeSpec = spec('AttributeProto', AttributeFields);

export const ValueInfoFields = {
  name: 1,
  type: 2,
  doc_string: 3,
  metadata_props: 4,
} as const;
export const ValueInfoSpec = spec('ValueInfoProto', ValueInfoFields);

export const TensorFields = {
  dims: 1,
  data_type: 2,
  segment: 3,
  float_data: 4,
  int32_data: 5,
  string_data: 6,
  int64_data: 7,
  name: 8,
  raw_data: 9,
  double_data: 10,
  uint64_data: 11,
  doc_string: 12,
  external_data: 13,
  data_location: 14,
  metadata_props: 16,
} as const;
export const TensorSpec = spec('TensorProto', TensorFields);

export const SegmentFields = {
  begin: 1,
  end: 2,
} as const;
export const SegmentSpec = spec('TensorProto.Segment', SegmentFields);

export const SparseTensorFields = {
  values: 1,
  indices: 2,
  dims: 3,
} as const;
export const SparseTensorSpec = spec('SparseTensorProto', SparseTensorFields);

export const TypeFields = {
  tensor_type: 1,
  sequence_type: 4,
  map_type: 5,
  denotation: 6,
  opaque_type: 7,
  sparse_tensor_type: 8,
  optional_type: 9,
} as const;
export const TypeSpec = spec('TypeProto', TypeFields);

export const TypeTensorFields = {
  elem_type: 1,
  shape: 2,
} as const;
export const TypeTensorSpec = spec('TypeProto.Tensor', TypeTensorFields);

export const TypeSequenceFields = {
  elem_type: 1,
} as const;
export const TypeSequenceSpec = spec('TypeProto.Sequence', TypeSequenceFields);

export const TypeMapFields = {
  key_type: 1,
  value_type: 2,
} as const;
export const TypeMapSpec = spec('TypeProto.Map', TypeMapFields);

export const TypeOptionalFields = {
  elem_type: 1,
} as const;
export const TypeOptionalSpec = spec('TypeProto.Optional', TypeOptionalFields);

export const TypeOpaqueFields = {
  domain: 1,
  name: 2,
} as const;
export const TypeOpaqueSpec = spec('TypeProto.Opaque', TypeOpaqueFields);

export const ShapeFields = {
  dim: 1,
} as const;
export const ShapeSpec = spec('TensorShapeProto', ShapeFields);

export const DimFields = {
  dim_value: 1,
  dim_param: 2,
  denotation: 3,
} as const;
export const DimSpec = spec('TensorShapeProto.Dimension', DimFields);

export const EntryFields = {
  key: 1,
  value: 2,
} as const;
export const EntrySpec = spec('StringStringEntryProto', EntryFields);

export const OpsetFields = {
  domain: 1,
  version: 2,
} as const;
export const OpsetSpec = spec('OperatorSetIdProto', OpsetFields);

export const AnnotationFields = {
  tensor_name: 1,
  quant_parameter_tensor_names: 2,
} as const;
export const AnnotationSpec = spec('TensorAnnotation', AnnotationFields);

export const TrainingFields = {
  initialization: 1,
  algorithm: 2,
  initialization_binding: 3,
  update_binding: 4,
} as const;
export const TrainingSpec = spec('TrainingInfoProto', TrainingFields);

export const FunctionFields = {
  name: 1,
  input: 4,
  output: 5,
  attribute: 6,
  node: 7,
  doc_string: 8,
  opset_import: 9,
  domain: 10,
  attribute_proto: 11,
  value_info: 12,
  overload: 13,
  metadata_props: 14,
} as const;
export const FunctionSpec = spec('FunctionProto', FunctionFields);

/** Every message the codec reads or writes (the schema test walks this list). */
export const MESSAGE_SPECS: readonly (MessageSpec & { readonly byName: Readonly<Record<string, number>> })[] = [
  ModelSpec,
  GraphSpec,
  NodeSpec,
  AttributeSpec,
  ValueInfoSpec,
  TensorSpec,
  SegmentSpec,
  SparseTensorSpec,
  TypeSpec,
  TypeTensorSpec,
  TypeSequenceSpec,
  TypeMapSpec,
  TypeOptionalSpec,
  TypeOpaqueSpec,
  ShapeSpec,
  DimSpec,
  EntrySpec,
  OpsetSpec,
  AnnotationSpec,
  TrainingSpec,
  FunctionSpec,
];

/**
 * The enums of onnx.proto the codec reads or writes that the IR does not declare (the IR declares
 * DataType and AttributeType: test/schema.test.ts checks all of them against onnx.proto).
 */
export const DataLocation = {
  DEFAULT: 0,
  EXTERNAL: 1,
} as const;

/** The TensorProto fields that hold elements as typed values, the alternative to raw_data. */
export type TypedDataField = 'float_data' | 'int32_data' | 'int64_data' | 'double_data' | 'uint64_data';

/**
 * Which TensorProto field holds each data type's elements when raw_data is not used, indexed by
 * DataType (onnx.proto's comment on each field says which types it carries): string_data for
 * strings, 'none' for UNDEFINED. An array read by index, not a map: the decoder asks it for each
 * tensor stored in a typed field, the encoder for each tensor that was.
 */
export const TENSOR_DATA_FIELD: readonly (TypedDataField | 'string_data' | 'none')[] = (() => {
  const f: (TypedDataField | 'string_data' | 'none')[] = [];
  f[DataType.UNDEFINED] = 'none';
  f[DataType.STRING] = 'string_data';
  for (const t of [DataType.FLOAT, DataType.COMPLEX64]) f[t] = 'float_data';
  for (const t of [DataType.DOUBLE, DataType.COMPLEX128]) f[t] = 'double_data';
  f[DataType.INT64] = 'int64_data';
  for (const t of [DataType.UINT32, DataType.UINT64]) f[t] = 'uint64_data';
  // Every other type (8/16/32-bit integers, bool, float16, bfloat16, the float8, float4 and the
  // 4- and 2-bit integer types) is carried in int32_data, one storage unit per varint.
  for (const t of ALL_DATA_TYPES) f[t] ??= 'int32_data';
  return f;
})();
