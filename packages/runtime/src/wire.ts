/**
 * Tensors across the process boundary: onnxkit `Tensor` ⇄ the plain `{ name, type, dims, data }`
 * records the onnxruntime child understands, plus the element-type names onnxruntime uses.
 *
 * Feeds are views of the tensors' own bytes (tensors are immutable; the frame writer sends the
 * bytes raw, without a copy); outputs arrive in fresh buffers and are wrapped without copying.
 */
import { DataType, Tensor, dataTypeInfo, dataTypeName, type TypedArray } from '@onnxkit/graph';
import { RuntimeError } from './errors.js';

/** A tensor as posted to / from the worker. */
export interface WireTensor {
  name: string;
  type: string;
  dims: number[];
  data: TypedArray | string[] | null;
}

const ORT_TYPES: ReadonlyMap<DataType, string> = new Map([
  [DataType.FLOAT, 'float32'],
  [DataType.UINT8, 'uint8'],
  [DataType.INT8, 'int8'],
  [DataType.UINT16, 'uint16'],
  [DataType.INT16, 'int16'],
  [DataType.INT32, 'int32'],
  [DataType.INT64, 'int64'],
  [DataType.STRING, 'string'],
  [DataType.BOOL, 'bool'],
  [DataType.FLOAT16, 'float16'],
  [DataType.DOUBLE, 'float64'],
  [DataType.UINT32, 'uint32'],
  [DataType.UINT64, 'uint64'],
  [DataType.UINT4, 'uint4'],
  [DataType.INT4, 'int4'],
]);
const FROM_ORT: ReadonlyMap<string, DataType> = new Map([...ORT_TYPES].map(([k, v]) => [v, k]));

/** ORT's name for a data type, or undefined when onnxruntime-node cannot take it as model I/O. */
export function ortTypeName(dtype: DataType): string | undefined {
  return ORT_TYPES.get(dtype);
}

/** onnxkit DataType for an ORT type name ('float32' → FLOAT), or undefined. */
export function dataTypeFromOrt(type: string): DataType | undefined {
  return FROM_ORT.get(type);
}

/** True when onnxruntime-node accepts the type as a model input or output. */
export function isOrtIoType(dtype: DataType): boolean {
  return ORT_TYPES.has(dtype);
}

/** The tensor as a wire record (a view of its bytes; `_transfer` is unused, kept for callers). */
export function toWire(name: string, t: Tensor, _transfer?: ArrayBuffer[]): WireTensor {
  const type = ORT_TYPES.get(t.dtype);
  if (type === undefined) {
    throw new RuntimeError(`input '${name}' is ${dataTypeName(t.dtype)}, which onnxruntime-node does not accept as model input`, {
      code: 'RUNTIME_UNSUPPORTED_TYPE',
      step: 'run',
      hint: 'cast the input to a supported type (float, float16, double, int*, uint*, bool, string)',
    });
  }
  if (t.dtype === DataType.STRING) return { name, type, dims: [...t.dims], data: t.texts() };
  const info = dataTypeInfo(t.dtype);
  const src = t.bytes();
  const Ctor = info.storage as unknown as new (b: ArrayBuffer, o: number, n: number) => TypedArray;
  if (src.byteOffset % info.storage!.BYTES_PER_ELEMENT === 0) {
    return { name, type, dims: [...t.dims], data: new Ctor(src.buffer as ArrayBuffer, src.byteOffset, src.byteLength / info.storage!.BYTES_PER_ELEMENT) };
  }
  // An unaligned view (e.g. raw bytes inside a file buffer): copy to align it.
  const copy = new Uint8Array(src.byteLength);
  copy.set(src);
  return { name, type, dims: [...t.dims], data: new Ctor(copy.buffer, 0, copy.byteLength / info.storage!.BYTES_PER_ELEMENT) };
}

/** Wraps a tensor the worker sent back (zero-copy over the transferred buffer). */
export function fromWire(w: WireTensor, model: string): Tensor {
  const dtype = FROM_ORT.get(w.type);
  if (dtype === undefined || w.data === null) {
    throw new RuntimeError(`output '${w.name}' of ${model} is not a tensor onnxkit can read (onnxruntime type '${w.type}')`, {
      code: 'RUNTIME_UNSUPPORTED_TYPE',
      step: 'run',
      model,
      hint: 'only tensor outputs are supported; sequence and map outputs are not',
    });
  }
  if (dtype === DataType.STRING) return Tensor.fromStrings(w.dims, w.data as string[], { name: w.name });
  const data = w.data as TypedArray;
  const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  return Tensor.fromBytes(dtype, w.dims, bytes, { name: w.name });
}
