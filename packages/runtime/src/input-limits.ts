/**
 * How large an input tensor may be (issue 13): a model that declares an input [1e5, 1e5], a
 * 160-byte model asking for a 4 GiB input, or a 3 MB .npz that inflates to 9.5 GB must be
 * refused before the memory is allocated, with an error naming the input and its size.
 *
 * The limit is per tensor, the same one `--max-tensor-bytes` sets for weights: the explicit
 * option when given, else the environment variable ONNXKIT_MAX_TENSOR_BYTES (the CLI sets it
 * from `--max-tensor-bytes`, so child processes inherit it), else 2 GiB.
 */
import { dataTypeInfo, dataTypeName, isKnownDataType, type DataType } from '@onnxkit/graph';
import { VerifyError } from './errors.js';

/** Default input tensor limit: 2 GiB, as for weights. */
export const DEFAULT_MAX_INPUT_BYTES = 2 ** 31;

/** The limit in force: `given`, else ONNXKIT_MAX_TENSOR_BYTES, else DEFAULT_MAX_INPUT_BYTES. */
export function maxInputBytes(given?: number): number {
  if (given !== undefined) {
    if (!(given >= 0)) throw new VerifyError(`maxTensorBytes must be a non-negative number, got ${given}`, { code: 'VERIFY_BAD_OPTION' });
    return given;
  }
  const env = process.env.ONNXKIT_MAX_TENSOR_BYTES;
  const v = env === undefined || env === '' ? NaN : Number(env);
  return Number.isFinite(v) && v >= 0 ? v : DEFAULT_MAX_INPUT_BYTES;
}

function human(n: number): string {
  if (n >= 2 ** 30) return `${(n / 2 ** 30).toFixed(1)} GiB`;
  if (n >= 2 ** 20) return `${(n / 2 ** 20).toFixed(1)} MiB`;
  return `${n} bytes`;
}

/** Bytes a tensor of this type and shape takes (an upper bound for strings: 8 per element). */
export function tensorBytes(dtype: DataType, dims: readonly number[]): number {
  const elements = dims.reduce((p, d) => p * d, 1);
  const bits = isKnownDataType(dtype) ? dataTypeInfo(dtype).bits : 64;
  return Math.ceil((elements * (bits || 64)) / 8);
}

/**
 * Throws VERIFY_INPUT_TOO_LARGE when an input of this type and shape would exceed `limit`
 * bytes (or its element count is not a safe integer), before anything is allocated.
 */
export function checkInputSize(name: string, dtype: DataType, dims: readonly number[], limit: number, file?: string): void {
  const elements = dims.reduce((p, d) => p * d, 1);
  const bytes = tensorBytes(dtype, dims);
  if (Number.isSafeInteger(elements) && bytes <= limit) return;
  const type = isKnownDataType(dtype) ? dataTypeName(dtype) : `type ${dtype}`;
  throw new VerifyError(`input '${name}' would be ${type}[${dims.join(',')}] = ${human(bytes)}, above the limit of ${human(limit)} per tensor${file ? ` (${file})` : ''}`, {
    code: 'VERIFY_INPUT_TOO_LARGE',
    tensor: name,
    file,
    hint: 'bind smaller dims (--input-shape name=1x3x224x224), or raise --max-tensor-bytes if the machine has the memory',
  });
}
