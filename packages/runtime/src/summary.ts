/**
 * A tensor in one table row: dtype, shape, min / max / mean and the first values — what `run`
 * prints for each output, and `verify` / `bench` for the model that survived a crash of the other.
 */
import { dataTypeName, type Tensor } from '@onnxkit/graph';

export interface TensorSummary {
  name: string;
  dtype: string;
  shape: number[];
  /** null for tensors without numbers (strings). */
  min: number | null;
  max: number | null;
  mean: number | null;
  /** Up to the first four values. */
  head: number[];
}

export function summarizeTensor(name: string, t: Tensor): TensorSummary {
  let values: Float64Array | null = null;
  try {
    values = t.toFloat64();
  } catch {
    values = null;
  }
  let min: number | null = null;
  let max: number | null = null;
  let sum = 0;
  if (values) {
    for (const v of values) {
      if (min === null || v < min) min = v;
      if (max === null || v > max) max = v;
      sum += v;
    }
  }
  return { name, dtype: dataTypeName(t.dtype), shape: [...t.dims], min, max, mean: values && values.length ? sum / values.length : null, head: values ? Array.from(values.subarray(0, 4)) : [] };
}
