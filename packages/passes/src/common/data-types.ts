/**
 * Element-type facts that never throw. A model may declare an element type ONNX does not define
 * (the importer keeps it as a number, with a diagnostic); `dataTypeInfo` from @onnxkit/graph
 * throws a RangeError for such a code, so the analyses read types through these helpers and
 * treat an unknown code as "size unknown".
 */
import { DataType, dataTypeInfo, isKnownDataType, type DataTypeInfo } from '@onnxkit/graph';

/** What @onnxkit/graph knows of `code`, or undefined for a code ONNX does not define. */
export function knownDataTypeInfo(code: number): DataTypeInfo | undefined {
  return isKnownDataType(code) ? dataTypeInfo(code) : undefined;
}

/** True for a code ONNX defines other than UNDEFINED (0). */
export function isDefinedDataType(code: number): code is DataType {
  return code !== DataType.UNDEFINED && isKnownDataType(code);
}

/** Bits per element of a numeric type; undefined for strings, UNDEFINED and unknown codes. */
export function elementBits(code: number): number | undefined {
  const info = knownDataTypeInfo(code);
  return info && info.bits > 0 ? info.bits : undefined;
}
