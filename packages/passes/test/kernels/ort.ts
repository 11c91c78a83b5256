/**
 * Test helper: run a model in onnxruntime-node (graph optimisations disabled, one thread) and
 * compare tensors exactly or with the project's fp32 tolerances.
 */
import * as ort from 'onnxruntime-node';
import { DataType, Tensor, dataTypeName, type TypedArray } from '@onnxkit/graph';
import { dataTypeFromOrt, ortTypeName } from '@onnxkit/runtime';

/** onnxruntime-node's type for `dtype` (@onnxkit/runtime's table), packed 4-bit types excluded: the kernels' tests compare unpacked elements. */
function ortType(dtype: DataType): ort.Tensor.Type | undefined {
  return dtype === DataType.INT4 || dtype === DataType.UINT4 ? undefined : (ortTypeName(dtype) as ort.Tensor.Type | undefined);
}

export function toOrt(t: Tensor): ort.Tensor | undefined {
  const type = ortType(t.dtype);
  if (!type) return undefined;
  if (t.dtype === DataType.STRING) return new ort.Tensor('string', t.texts(), [...t.dims]);
  const a = t.toArray();
  // ORT keeps a reference to the buffer: hand it a private copy.
  const copy = a.slice() as TypedArray;
  return new ort.Tensor(type, copy as never, [...t.dims]);
}

export function fromOrt(t: ort.Tensor): Tensor | undefined {
  const dtype = dataTypeFromOrt(t.type);
  if (dtype === undefined || dtype === DataType.STRING || ortType(dtype) === undefined) return undefined;
  const data = t.data as TypedArray;
  const Ctor = data.constructor as new (n: number) => TypedArray;
  const copy = new Ctor(data.length);
  (copy as unknown as { set(x: ArrayLike<unknown>): void }).set(data as unknown as ArrayLike<unknown>);
  return Tensor.fromArray(dtype, [...t.dims], copy);
}

/** Runs `bytes` in ORT with the given feeds; returns outputs by name, or throws ORT's error. */
export async function runOrt(bytes: Uint8Array, feeds: Record<string, Tensor>): Promise<Record<string, Tensor | undefined>> {
  const session = await ort.InferenceSession.create(bytes, { graphOptimizationLevel: 'disabled', intraOpNumThreads: 1, interOpNumThreads: 1 });
  try {
    const f: Record<string, ort.Tensor> = {};
    for (const [k, v] of Object.entries(feeds)) {
      const t = toOrt(v);
      if (!t) throw new Error(`cannot feed ${dataTypeName(v.dtype)} to ORT`);
      f[k] = t;
    }
    const out = await session.run(f);
    const res: Record<string, Tensor | undefined> = {};
    for (const [k, v] of Object.entries(out)) res[k] = fromOrt(v);
    return res;
  } finally {
    await session.release();
  }
}

/**
 * Compares two tensors. `exact`: every element identical (NaN equals NaN, +0 ≠ −0 for floats).
 * Otherwise fp tolerances from DESIGN.md (an element fails only when it exceeds both atol and
 * rtol·|expected|). Returns a description of the first difference, or undefined when equal.
 */
export function compareTensors(got: Tensor, want: Tensor, exact: boolean, atol = 1e-5, rtol = 1e-4): string | undefined {
  if (got.dtype !== want.dtype) return `dtype ${dataTypeName(got.dtype)} vs ${dataTypeName(want.dtype)}`;
  if (got.dims.length !== want.dims.length || got.dims.some((d, i) => d !== want.dims[i])) return `dims [${got.dims}] vs [${want.dims}]`;
  if (got.dtype === DataType.STRING) {
    const a = got.texts();
    const b = want.texts();
    const i = a.findIndex((s, k) => s !== b[k]);
    return i < 0 ? undefined : `element ${i}: '${a[i]}' vs '${b[i]}'`;
  }
  const isFloat = got.dtype === DataType.FLOAT || got.dtype === DataType.DOUBLE || got.dtype === DataType.FLOAT16;
  const a = isFloat ? got.toFloat64() : got.toArray();
  const b = isFloat ? want.toFloat64() : want.toArray();
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (typeof x === 'bigint' || typeof y === 'bigint') {
      if (x !== y) return `element ${i}: ${x} vs ${y}`;
      continue;
    }
    if (Number.isNaN(x) && Number.isNaN(y)) continue;
    if (Object.is(x, y)) continue;
    if (exact || !isFloat) return `element ${i}: ${x} vs ${y}`;
    const err = Math.abs(x - y);
    if (x === y || (err <= atol || err <= rtol * Math.abs(y))) continue;
    return `element ${i}: ${x} vs ${y} (|Δ| = ${err})`;
  }
  return undefined;
}
