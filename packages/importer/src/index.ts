/**
 * @onnxkit/importer — ONNX protobuf ⇄ onnxkit IR: decode and encode every ModelProto field
 * through IR version 13, lazy and zero-copy tensors, external data confined to the model's
 * folder, atomic and deterministic saves. The codec is hand-written; bench/import.bench.mjs
 * and bench/export.bench.mjs give the numbers behind that choice.
 */
export { ImportError, ExportError, type ImportErrorCode, type ImportErrorInit, type ExportErrorCode, type ImportDiagnostic } from './errors.js';
export {
  decode,
  load,
  decodeWithDiagnostics,
  decodeTensorProto,
  recursiveFunctionChain,
  AUTO_LAZY_BYTES,
  DEFAULT_MAX_TENSOR_BYTES,
  type DecodeOptions,
  type DecodeResult,
  type DecodeStats,
} from './load.js';
export { encode, encodeTensorProto, type EncodeOptions } from './encode.js';
export type { MemoryBudget } from './decode.js';
export { GraphFields, ModelFields } from './schema.js';
export { WIRE_I32, WIRE_I64, WIRE_LEN, WIRE_VARINT } from './wire.js';
export { checkExternalDataLocation, externalDataFile, save, type SaveOptions, type SaveResult, type ExternalDataOptions } from './save.js';
export { withReadSession, withReadSessionAsync } from './file-source.js';
export { writeFileAtomic, writeAllSync, removeLiveTemporaries, onTemporaryFile, probeWritable, resolveOutput, AtomicFile } from './atomic-write.js';
export { modelFiles, tensorDataField, withDataField, tensorRecord, TensorRecordHint, type TensorSegment } from './hints.js';
export type { TypedDataField } from './schema.js';
