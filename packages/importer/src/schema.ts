/**
 * Field names of every ONNX message through IR version 13, by field number, as in
 * `schema/onnx.proto` (the schema of record). The codec's decoders and encoders use the numbers
 * directly; these tables name fields in error paths and tell known fields from unknown ones.
 */
import type { MessageSpec } from './wire.js';

function spec(name: string, fields: Record<number, string>): MessageSpec {
  return { name, fields };
}

export const ModelSpec = spec('ModelProto', {
  1: 'ir_version',
  2: 'producer_name',
  3: 'producer_version',
  4: 'domain',
  5: 'model_version',
  6: 'doc_string',
  7: 'graph',
  8: 'opset_import',
  14: 'metadata_props',
  20: 'training_info',
  25: 'functions',
  26: 'configuration',
});

export const GraphSpec = spec('GraphProto', {
  1: 'node',
  2: 'name',
  5: 'initializer',
  10: 'doc_string',
  11: 'input',
  12: 'output',
  13: 'value_info',
  14: 'quantization_annotation',
  15: 'sparse_initializer',
  16: 'metadata_props',
});

export const NodeSpec = spec('NodeProto', {
  1: 'input',
  2: 'output',
  3: 'name',
  4: 'op_type',
  5: 'attribute',
  6: 'doc_string',
  7: 'domain',
  8: 'overload',
  9: 'metadata_props',
  10: 'device_configurations',
});

export const AttributeSpec = spec('AttributeProto', {
  1: 'name',
  2: 'f',
  3: 'i',
  4: 's',
  5: 't',
  6: 'g',
  7: 'floats',
  8: 'ints',
  9: 'strings',
  10: 'tensors',
  11: 'graphs',
  13: 'doc_string',
  14: 'tp',
  15: 'type_protos',
  20: 'type',
  21: 'ref_attr_name',
  22: 'sparse_tensor',
  23: 'sparse_tensors',
});

export const ValueInfoSpec = spec('ValueInfoProto', { 1: 'name', 2: 'type', 3: 'doc_string', 4: 'metadata_props' });

export const TensorSpec = spec('TensorProto', {
  1: 'dims',
  2: 'data_type',
  3: 'segment',
  4: 'float_data',
  5: 'int32_data',
  6: 'string_data',
  7: 'int64_data',
  8: 'name',
  9: 'raw_data',
  10: 'double_data',
  11: 'uint64_data',
  12: 'doc_string',
  13: 'external_data',
  14: 'data_location',
  16: 'metadata_props',
});

export const SegmentSpec = spec('TensorProto.Segment', { 1: 'begin', 2: 'end' });

export const SparseTensorSpec = spec('SparseTensorProto', { 1: 'values', 2: 'indices', 3: 'dims' });

export const TypeSpec = spec('TypeProto', {
  1: 'tensor_type',
  4: 'sequence_type',
  5: 'map_type',
  6: 'denotation',
  7: 'opaque_type',
  8: 'sparse_tensor_type',
  9: 'optional_type',
});
export const TypeTensorSpec = spec('TypeProto.Tensor', { 1: 'elem_type', 2: 'shape' });
export const TypeSequenceSpec = spec('TypeProto.Sequence', { 1: 'elem_type' });
export const TypeMapSpec = spec('TypeProto.Map', { 1: 'key_type', 2: 'value_type' });
export const TypeOptionalSpec = spec('TypeProto.Optional', { 1: 'elem_type' });
export const TypeOpaqueSpec = spec('TypeProto.Opaque', { 1: 'domain', 2: 'name' });

export const ShapeSpec = spec('TensorShapeProto', { 1: 'dim' });
export const DimSpec = spec('TensorShapeProto.Dimension', { 1: 'dim_value', 2: 'dim_param', 3: 'denotation' });

export const EntrySpec = spec('StringStringEntryProto', { 1: 'key', 2: 'value' });
export const OpsetSpec = spec('OperatorSetIdProto', { 1: 'domain', 2: 'version' });
export const AnnotationSpec = spec('TensorAnnotation', { 1: 'tensor_name', 2: 'quant_parameter_tensor_names' });
export const TrainingSpec = spec('TrainingInfoProto', { 1: 'initialization', 2: 'algorithm', 3: 'initialization_binding', 4: 'update_binding' });

export const FunctionSpec = spec('FunctionProto', {
  1: 'name',
  4: 'input',
  5: 'output',
  6: 'attribute',
  7: 'node',
  8: 'doc_string',
  9: 'opset_import',
  10: 'domain',
  11: 'attribute_proto',
  12: 'value_info',
  13: 'overload',
  14: 'metadata_props',
});

/** TensorProto.DataLocation. */
export const DATA_LOCATION_EXTERNAL = 1;
