/**
 * ONNX tensor element types (TensorProto.DataType, through IR version 13) and what onnxkit
 * knows about each: its name, bit width, signedness and the typed array that holds it.
 *
 * Sub-byte types (int4/uint4/float4e2m1: two per byte; int2/uint2: four per byte) are packed
 * least-significant bits first, as ONNX stores them. 8- and 16-bit float formats keep their bit
 * patterns in Uint8Array/Uint16Array; explicit conversions live in `float-formats.ts`.
 */

export enum DataType {
  UNDEFINED = 0,
  FLOAT = 1,
  UINT8 = 2,
  INT8 = 3,
  UINT16 = 4,
  INT16 = 5,
  INT32 = 6,
  INT64 = 7,
  STRING = 8,
  BOOL = 9,
  FLOAT16 = 10,
  DOUBLE = 11,
  UINT32 = 12,
  UINT64 = 13,
  COMPLEX64 = 14,
  COMPLEX128 = 15,
  BFLOAT16 = 16,
  FLOAT8E4M3FN = 17,
  FLOAT8E4M3FNUZ = 18,
  FLOAT8E5M2 = 19,
  FLOAT8E5M2FNUZ = 20,
  UINT4 = 21,
  INT4 = 22,
  FLOAT4E2M1 = 23,
  FLOAT8E8M0 = 24,
  UINT2 = 25,
  INT2 = 26,
}

export type TypedArray =
  | Float32Array
  | Float64Array
  | Int8Array
  | Uint8Array
  | Int16Array
  | Uint16Array
  | Int32Array
  | Uint32Array
  | BigInt64Array
  | BigUint64Array;

export type TypedArrayCtor =
  | Float32ArrayConstructor
  | Float64ArrayConstructor
  | Int8ArrayConstructor
  | Uint8ArrayConstructor
  | Int16ArrayConstructor
  | Uint16ArrayConstructor
  | Int32ArrayConstructor
  | Uint32ArrayConstructor
  | BigInt64ArrayConstructor
  | BigUint64ArrayConstructor;

export type DataTypeKind = 'float' | 'int' | 'uint' | 'bool' | 'string' | 'complex' | 'undefined';

export interface DataTypeInfo {
  readonly type: DataType;
  /** Lower-case ONNX name as in onnx.helper / onnxruntime ("float", "float16", "int64"). */
  readonly name: string;
  /** Bits per element; 0 for string and undefined. Complex counts both parts. */
  readonly bits: number;
  readonly kind: DataTypeKind;
  /**
   * The typed array holding the element bits as stored (float16 → Uint16Array, int4 → Uint8Array
   * of packed nibbles, complex64 → Float32Array of interleaved parts). Undefined for string.
   */
  readonly storage: TypedArrayCtor | undefined;
  /** Elements packed into one storage unit (2 for 4-bit types, 4 for 2-bit, 1 otherwise). */
  readonly perStorageUnit: number;
  /** Scalars per element in storage (2 for complex, else 1). */
  readonly partsPerElement: number;
}

const table: DataTypeInfo[] = [];
function def(
  type: DataType,
  name: string,
  bits: number,
  kind: DataTypeKind,
  storage: TypedArrayCtor | undefined,
  perStorageUnit = 1,
  partsPerElement = 1,
): void {
  table[type] = { type, name, bits, kind, storage, perStorageUnit, partsPerElement };
}
def(DataType.UNDEFINED, 'undefined', 0, 'undefined', undefined);
def(DataType.FLOAT, 'float', 32, 'float', Float32Array);
def(DataType.UINT8, 'uint8', 8, 'uint', Uint8Array);
def(DataType.INT8, 'int8', 8, 'int', Int8Array);
def(DataType.UINT16, 'uint16', 16, 'uint', Uint16Array);
def(DataType.INT16, 'int16', 16, 'int', Int16Array);
def(DataType.INT32, 'int32', 32, 'int', Int32Array);
def(DataType.INT64, 'int64', 64, 'int', BigInt64Array);
def(DataType.STRING, 'string', 0, 'string', undefined);
def(DataType.BOOL, 'bool', 8, 'bool', Uint8Array);
def(DataType.FLOAT16, 'float16', 16, 'float', Uint16Array);
def(DataType.DOUBLE, 'double', 64, 'float', Float64Array);
def(DataType.UINT32, 'uint32', 32, 'uint', Uint32Array);
def(DataType.UINT64, 'uint64', 64, 'uint', BigUint64Array);
def(DataType.COMPLEX64, 'complex64', 64, 'complex', Float32Array, 1, 2);
def(DataType.COMPLEX128, 'complex128', 128, 'complex', Float64Array, 1, 2);
def(DataType.BFLOAT16, 'bfloat16', 16, 'float', Uint16Array);
def(DataType.FLOAT8E4M3FN, 'float8e4m3fn', 8, 'float', Uint8Array);
def(DataType.FLOAT8E4M3FNUZ, 'float8e4m3fnuz', 8, 'float', Uint8Array);
def(DataType.FLOAT8E5M2, 'float8e5m2', 8, 'float', Uint8Array);
def(DataType.FLOAT8E5M2FNUZ, 'float8e5m2fnuz', 8, 'float', Uint8Array);
def(DataType.UINT4, 'uint4', 4, 'uint', Uint8Array, 2);
def(DataType.INT4, 'int4', 4, 'int', Uint8Array, 2);
def(DataType.FLOAT4E2M1, 'float4e2m1', 4, 'float', Uint8Array, 2);
def(DataType.FLOAT8E8M0, 'float8e8m0', 8, 'float', Uint8Array);
def(DataType.UINT2, 'uint2', 2, 'uint', Uint8Array, 4);
def(DataType.INT2, 'int2', 2, 'int', Uint8Array, 4);

/** Every data type ONNX defines, in enum order (UNDEFINED excluded). */
export const ALL_DATA_TYPES: readonly DataType[] = table.map((t) => t.type).filter((t) => t !== DataType.UNDEFINED);

export function isKnownDataType(code: number): code is DataType {
  return Number.isInteger(code) && code >= 0 && code < table.length && table[code] !== undefined;
}

export function dataTypeInfo(type: DataType): DataTypeInfo {
  const info = table[type];
  if (info === undefined) throw new RangeError(`unknown ONNX data type ${String(type)}`);
  return info;
}

export function dataTypeName(type: number): string {
  return isKnownDataType(type) ? table[type].name : `unknown(${type})`;
}

const byName = new Map<string, DataType>();
for (const info of table) {
  byName.set(info.name, info.type);
  byName.set(DataType[info.type].toLowerCase(), info.type);
}
byName.set('float32', DataType.FLOAT);
byName.set('float64', DataType.DOUBLE);
byName.set('fp32', DataType.FLOAT);
byName.set('fp16', DataType.FLOAT16);
byName.set('bf16', DataType.BFLOAT16);

/** Parses "float32", "float", "FLOAT16", "int64", ... */
export function parseDataType(name: string): DataType | undefined {
  return byName.get(name.toLowerCase());
}

export function isFloatType(type: DataType): boolean {
  return table[type]?.kind === 'float';
}

export function isIntegerType(type: DataType): boolean {
  const k = table[type]?.kind;
  return k === 'int' || k === 'uint';
}

/** Bytes needed to store `count` elements of `type` packed little-endian (strings: 0). */
export function packedByteLength(type: DataType, count: number): number {
  const info = dataTypeInfo(type);
  if (info.kind === 'string' || info.kind === 'undefined') return 0;
  return Math.ceil((count * info.bits) / 8);
}

/** The host must be little-endian: payloads are little-endian (as ONNX stores them) and views are zero-copy. */
export const HOST_IS_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
