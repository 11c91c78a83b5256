/**
 * Element-type facts that never throw. A model may declare an element type ONNX does not define
 * (the importer keeps it as a number, with a diagnostic); `dataTypeInfo` from @onnxkit/graph
 * throws a RangeError for such a code, so the analyses read types through these helpers and
 * treat an unknown code as "size unknown".
 */
import { DataType, dataTypeInfo, isKnownDataType, type DataTypeInfo, type Tensor } from '@onnxkit/graph';

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

/**
 * The value of a one-element numeric tensor (float, integer or bool) as a number, narrow floats
 * decoded (a float16 scale is its value, not its bits); undefined for strings, complex and
 * packed types, an unknown code, or any other element count. The rewrites' constant operands
 * (rewrite/util.ts) and the as-executed roofline's quantization parameters (analysis/executed.ts)
 * read scalars through it.
 */
export function numericScalar(t: Tensor): number | undefined {
  if (t.size !== 1) return undefined;
  const info = knownDataTypeInfo(t.dtype);
  if (!info || info.storage === undefined || info.kind === 'complex' || info.kind === 'string') return undefined;
  return t.toFloat64()[0];
}
