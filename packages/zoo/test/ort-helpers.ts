/**
 * Running zoo models in onnxruntime-node: the model is encoded with @onnxkit/importer's
 * `encode` (the project's one ONNX writer) and run with ORT's graph optimisations disabled.
 */
import type { Model } from '@onnxkit/graph';
import { encode } from '@onnxkit/importer';
import * as ort from 'onnxruntime-node';

export type OrtSession = ort.InferenceSession;

/** An onnxruntime session on the model's encoded bytes, ORT's graph optimisations disabled. */
export async function session(m: Model): Promise<OrtSession> {
  return ort.InferenceSession.create(encode(m), { graphOptimizationLevel: 'disabled', intraOpNumThreads: 2 });
}

export function floatTensor(data: Float32Array, dims: readonly number[]): ort.Tensor {
  return new ort.Tensor('float32', data, [...dims]);
}

export function int64Tensor(data: BigInt64Array, dims: readonly number[]): ort.Tensor {
  return new ort.Tensor('int64', data, [...dims]);
}

export async function run(s: OrtSession, feeds: Record<string, ort.Tensor>): Promise<Record<string, { dims: readonly number[]; data: Float32Array }>> {
  const out = await s.run(feeds);
  const r: Record<string, { dims: readonly number[]; data: Float32Array }> = {};
  for (const [k, v] of Object.entries(out)) r[k] = { dims: v.dims, data: v.data as Float32Array };
  return r;
}

export interface Moments {
  finite: boolean;
  mean: number;
  rms: number;
  maxAbs: number;
}

export function moments(a: Float32Array): Moments {
  let s1 = 0;
  let s2 = 0;
  let maxAbs = 0;
  let finite = true;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    if (!Number.isFinite(x)) finite = false;
    s1 += x;
    s2 += x * x;
    maxAbs = Math.max(maxAbs, Math.abs(x));
  }
  return { finite, mean: s1 / a.length, rms: Math.sqrt(s2 / a.length), maxAbs };
}

export function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) return Infinity;
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}
