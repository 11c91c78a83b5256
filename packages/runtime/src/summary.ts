/**
 * A tensor in one table row: dtype, shape, min / max / mean and the first values — what `run`
 * prints for each output, and `verify` / `bench` for the model that survived a crash of the other.
 */
import { DataType, dataTypeName, type Tensor } from '@onnxkit/graph';

/**
 * A number of a summary, or a string where a JSON number cannot hold it, as protobuf's JSON
 * mapping writes those: "NaN", "Infinity", "-Infinity", and a 64-bit integer beyond ±2^53 in
 * decimal (a JSON number would round 9007199254740993 to ...992; JSON.stringify writes NaN and
 * ±Infinity as null, which reads as "no number").
 */
export type SummaryValue = number | string;

export interface TensorSummary {
  name: string;
  dtype: string;
  shape: number[];
  /** Over the elements that are not NaN; null when there are none, or no numbers at all (strings). */
  min: SummaryValue | null;
  max: SummaryValue | null;
  mean: SummaryValue | null;
  /** Up to the first four values. */
  head: SummaryValue[];
  /** How many elements are NaN (0 for integer and string tensors). */
  nan: number;
}

const HEAD = 4;

export function summarizeTensor(name: string, t: Tensor): TensorSummary {
  const base = { name, dtype: dataTypeName(t.dtype), shape: [...t.dims] };
  let values: ArrayLike<number> | BigInt64Array | BigUint64Array | null = null;
  try {
    // (64-bit integers as stored, exact; everything else through float64)
    values = t.dtype === DataType.INT64 || t.dtype === DataType.UINT64 ? (t.toArray() as BigInt64Array | BigUint64Array) : t.toFloat64();
  } catch {
    values = null;
  }
  if (values === null) return { ...base, min: null, max: null, mean: null, head: [], nan: 0 };
  if (values instanceof BigInt64Array || values instanceof BigUint64Array) return { ...base, ...bigintStats(values), nan: 0 };
  let min = Infinity;
  let max = -Infinity;
  let sum = 0;
  let nan = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (v !== v) {
      nan++;
      continue;
    }
    if (v < min) min = v;
    if (v > max) max = v;
    sum += v;
  }
  const counted = values.length - nan;
  const head: SummaryValue[] = [];
  for (let i = 0; i < Math.min(HEAD, values.length); i++) head.push(jsonNumber(values[i]!));
  return {
    ...base,
    min: counted > 0 ? jsonNumber(min) : null,
    max: counted > 0 ? jsonNumber(max) : null,
    mean: counted > 0 ? jsonNumber(sum / counted) : null,
    head,
    nan,
  };
}

/** Min, max and first values exact, the mean as the nearest double. */
function bigintStats(a: BigInt64Array | BigUint64Array): Pick<TensorSummary, 'min' | 'max' | 'mean' | 'head'> {
  if (a.length === 0) return { min: null, max: null, mean: null, head: [] };
  let min = a[0]!;
  let max = a[0]!;
  let sum = 0n;
  for (let i = 0; i < a.length; i++) {
    const v = a[i]!;
    if (v < min) min = v;
    if (v > max) max = v;
    sum += v;
  }
  const head: SummaryValue[] = [];
  for (let i = 0; i < Math.min(HEAD, a.length); i++) head.push(exactInteger(a[i]!));
  return { min: exactInteger(min), max: exactInteger(max), mean: Number(sum) / a.length, head };
}

function exactInteger(v: bigint): SummaryValue {
  return v <= BigInt(Number.MAX_SAFE_INTEGER) && v >= BigInt(Number.MIN_SAFE_INTEGER) ? Number(v) : String(v);
}

function jsonNumber(v: number): SummaryValue {
  return Number.isFinite(v) ? v : v !== v ? 'NaN' : v > 0 ? 'Infinity' : '-Infinity';
}
