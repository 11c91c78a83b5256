/**
 * onnxruntime-node for the importer's tests: sessions with every optimisation disabled (so ORT's
 * fusions cannot hide a codec bug), one thread, feeds built from TensorProtos, and exact
 * (bit-level) or tolerance-based output comparison.
 */
import * as ort from 'onnxruntime-node';
import { DataType, Tensor } from '@onnxkit/graph';
import { ortTypeName } from '@onnxkit/runtime';

export const SESSION_OPTIONS: ort.InferenceSession.SessionOptions = {
  graphOptimizationLevel: 'disabled',
  intraOpNumThreads: 1,
  interOpNumThreads: 1,
  executionMode: 'sequential',
  logSeverityLevel: 4,
};

/** The onnxruntime-node type of an ONNX element type, if ORT accepts it as model I/O. */
export function ortType(dt: DataType): ort.Tensor.Type | undefined {
  return ortTypeName(dt) as ort.Tensor.Type | undefined;
}

export function toOrt(t: Tensor): ort.Tensor {
  const type = ortType(t.dtype);
  if (type === undefined) throw new Error(`onnxruntime-node cannot take ${DataType[t.dtype]} tensors as input`);
  if (type === 'string') return new ort.Tensor('string', t.texts(), t.dims);
  const a = t.toArray();
  // ORT's int4 tensors are Int8Array views of the packed bytes.
  const data = type === 'int4' ? new Int8Array(a.buffer, a.byteOffset, a.byteLength) : a;
  return new ort.Tensor(type, data as ort.Tensor.DataType, t.dims);
}

export async function session(bytes: Uint8Array): Promise<ort.InferenceSession> {
  return ort.InferenceSession.create(bytes, SESSION_OPTIONS);
}

export async function run(bytes: Uint8Array, feeds: Record<string, ort.Tensor>): Promise<Record<string, ort.Tensor>> {
  const s = await session(bytes);
  try {
    return await s.run(feeds);
  } finally {
    await s.release();
  }
}

/** True when two ORT outputs have the same type, dims and bits (NaN payloads included). */
export function sameBits(a: ort.Tensor, b: ort.Tensor): boolean {
  if (a.type !== b.type || a.dims.length !== b.dims.length || a.dims.some((d, i) => d !== b.dims[i])) return false;
  if (a.type === 'string') {
    const x = a.data as string[];
    const y = b.data as string[];
    return x.length === y.length && x.every((s, i) => s === y[i]);
  }
  const x = a.data as Exclude<ort.Tensor.DataType, string[]>;
  const y = b.data as Exclude<ort.Tensor.DataType, string[]>;
  if (x.byteLength !== y.byteLength) return false;
  const bx = new Uint8Array(x.buffer, x.byteOffset, x.byteLength);
  const by = new Uint8Array(y.buffer, y.byteOffset, y.byteLength);
  for (let i = 0; i < bx.length; i++) if (bx[i] !== by[i]) return false;
  return true;
}

export function allSameBits(a: Record<string, ort.Tensor>, b: Record<string, ort.Tensor>): string | null {
  const ka = Object.keys(a).sort();
  const kb = Object.keys(b).sort();
  if (ka.join() !== kb.join()) return `outputs ${ka.join(',')} vs ${kb.join(',')}`;
  for (const k of ka) if (!sameBits(a[k]!, b[k]!)) return `output '${k}' differs`;
  return null;
}

/**
 * Compares an ORT output with an expected ONNX tensor the way ONNX's backend tests do
 * (rtol 1e-3, atol 1e-7; NaN equals NaN; integers, booleans and strings exactly).
 */
export function matchesExpected(actual: ort.Tensor, expected: Tensor, rtol = 1e-3, atol = 1e-7): string | null {
  if (ortType(expected.dtype) !== actual.type) return `type ${actual.type} vs ${DataType[expected.dtype]}`;
  if (actual.dims.length !== expected.dims.length || actual.dims.some((d, i) => d !== expected.dims[i])) return `dims [${actual.dims}] vs [${expected.dims}]`;
  if (actual.type === 'string') {
    const e = expected.texts();
    const a = actual.data as string[];
    return a.every((s, i) => s === e[i]) ? null : 'strings differ';
  }
  if (actual.type === 'int64' || actual.type === 'uint64') {
    const e = expected.toBigInt64();
    const a = actual.data as BigInt64Array | BigUint64Array;
    for (let i = 0; i < e.length; i++) if (BigInt.asIntN(64, a[i]!) !== e[i]) return `element ${i}: ${a[i]} vs ${e[i]}`;
    return null;
  }
  const e = expected.toFloat64();
  // Decode ORT's bits with the IR's own conversions (float16, packed int4) by viewing them as a
  // tensor of the expected type.
  const raw = actual.data as Exclude<ort.Tensor.DataType, string[]>;
  const a = Tensor.fromBytes(expected.dtype, actual.dims, new Uint8Array(raw.buffer, raw.byteOffset, raw.byteLength).slice()).toFloat64();
  for (let i = 0; i < e.length; i++) {
    const x = a[i]!;
    const y = e[i]!;
    if (Number.isNaN(x) && Number.isNaN(y)) continue;
    if (x === y) continue;
    if (!(Math.abs(x - y) <= atol + rtol * Math.abs(y))) return `element ${i}: ${x} vs ${y}`;
  }
  return null;
}
