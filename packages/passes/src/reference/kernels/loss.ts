/**
 * NegativeLogLikelihoodLoss and SoftmaxCrossEntropyLoss in float64 (reduction none / sum / mean,
 * class weights, ignore_index; the optional log_prob output).
 */
import type { Node } from '@onnxkit/graph';
import { ReferenceInputError } from '../errors.js';
import { allocF64, f64Of, intsOf, sizeOf } from '../tensor.js';
import type { ReferenceKernel, RefTensor } from '../types.js';

function nll(node: Node, logp: Float64Array, dims: readonly number[], target: readonly number[], weight: Float64Array | null): { data: Float64Array; dims: number[] } {
  const N = dims[0]!;
  const C = dims[1]!;
  const inner = sizeOf(dims.slice(2));
  const reduction = node.getString('reduction', 'mean');
  const ignore = node.getInt('ignore_index');
  const loss = allocF64(N * inner);
  let wsum = 0;
  for (let n = 0; n < N; n++) {
    for (let j = 0; j < inner; j++) {
      const t = target[n * inner + j]!;
      if (ignore !== undefined && t === ignore) continue;
      if (t < 0 || t >= C) throw new ReferenceInputError(node, `target ${t} is out of range for ${C} classes`);
      const w = weight === null ? 1 : weight[t]!;
      loss[n * inner + j] = -logp[(n * C + t) * inner + j]! * w;
      wsum += w;
    }
  }
  if (reduction === 'none') return { data: loss, dims: [N, ...dims.slice(2)] };
  let s = 0;
  for (let i = 0; i < loss.length; i++) s += loss[i]!;
  return { data: Float64Array.of(reduction === 'sum' ? s : s / wsum), dims: [] };
}

export const negativeLogLikelihoodLossRef: ReferenceKernel = (node, inputs) => {
  const x = inputs[0];
  const t = inputs[1];
  if (!x || !t) throw new ReferenceInputError(node, 'input and target are required');
  const r = nll(node, f64Of(x), x.dims, intsOf(node, t, 'target'), inputs[2] ? f64Of(inputs[2]) : null);
  return [{ dtype: x.dtype, dims: r.dims, data: r.data }];
};

export const softmaxCrossEntropyLossRef: ReferenceKernel = (node, inputs) => {
  const x = inputs[0];
  const t = inputs[1];
  if (!x || !t) throw new ReferenceInputError(node, 'scores and labels are required');
  const X = f64Of(x);
  const N = x.dims[0]!;
  const C = x.dims[1] ?? 1;
  const inner = sizeOf(x.dims.slice(2));
  const logp = allocF64(X.length);
  for (let n = 0; n < N; n++) {
    for (let j = 0; j < inner; j++) {
      let mx = -Infinity;
      for (let c = 0; c < C; c++) mx = Math.max(mx, X[(n * C + c) * inner + j]!);
      let s = 0;
      for (let c = 0; c < C; c++) s += Math.exp(X[(n * C + c) * inner + j]! - mx);
      const ls = Math.log(s) + mx;
      for (let c = 0; c < C; c++) logp[(n * C + c) * inner + j] = X[(n * C + c) * inner + j]! - ls;
    }
  }
  const r = nll(node, logp, x.dims, intsOf(node, t, 'labels'), inputs[2] ? f64Of(inputs[2]) : null);
  const out: RefTensor[] = [{ dtype: x.dtype, dims: r.dims, data: r.data }];
  out.push({ dtype: x.dtype, dims: x.dims, data: logp });
  return out;
};
