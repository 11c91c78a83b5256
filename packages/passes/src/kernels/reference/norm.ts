/**
 * Normalisations and softmax in float64: BatchNormalization (inference), LayerNormalization,
 * InstanceNormalization, LRN, Softmax / LogSoftmax / Hardmax (opset < 13: the 2-D coercion at
 * `axis`; opset 13+: one axis).
 */
import { DataType, type Node } from '@onnxkit/graph';
import { ReferenceInputError, ReferenceUnsupportedError } from './errors.js';
import { allocF64, floatInput, normAxis, sizeOf } from './tensor.js';
import type { ReferenceKernel } from '../../ops/types.js';


export const batchNormalizationRef: ReferenceKernel = (node, inputs, opset) => {
  if (node.getInt('training_mode', 0) !== 0) throw new ReferenceUnsupportedError(node, 'BatchNormalization in training mode is not supported');
  // Opsets 7–13 say training mode by declaring the statistics outputs (onnxruntime then uses the
  // batch's statistics, read or not).
  if (opset >= 7 && opset < 14 && node.outputs.length > 1) {
    throw new ReferenceUnsupportedError(node, `BatchNormalization in training mode (opset ${opset}, ${node.outputs.length} outputs) is not supported`);
  }
  const xt = inputs[0]!;
  const X = floatInput(node, xt, 'X');
  const scale = floatInput(node, inputs[1], 'scale');
  const bias = floatInput(node, inputs[2], 'B');
  const mean = floatInput(node, inputs[3], 'mean');
  const variance = floatInput(node, inputs[4], 'var');
  const eps = node.getFloat('epsilon', Math.fround(1e-5));
  const N = xt.dims[0] ?? 1;
  const C = xt.dims[1] ?? 1;
  const inner = sizeOf(xt.dims.slice(2));
  const out = allocF64(X.length);
  for (let c = 0; c < C; c++) {
    const k = scale[c]! / Math.sqrt(variance[c]! + eps);
    const m = mean[c]!;
    const b = bias[c]!;
    for (let n = 0; n < N; n++) {
      const base = (n * C + c) * inner;
      for (let i = 0; i < inner; i++) out[base + i] = (X[base + i]! - m) * k + b;
    }
  }
  return [{ dtype: xt.dtype, dims: xt.dims, data: out }];
};

export const instanceNormalizationRef: ReferenceKernel = (node, inputs) => {
  const xt = inputs[0]!;
  const X = floatInput(node, xt, 'X');
  const scale = floatInput(node, inputs[1], 'scale');
  const bias = floatInput(node, inputs[2], 'B');
  const eps = node.getFloat('epsilon', Math.fround(1e-5));
  const [N, C] = xt.dims as [number, number];
  const inner = sizeOf(xt.dims.slice(2));
  const out = allocF64(X.length);
  for (let n = 0; n < N; n++) {
    for (let c = 0; c < C; c++) {
      const base = (n * C + c) * inner;
      let s = 0;
      for (let i = 0; i < inner; i++) s += X[base + i]!;
      const mu = s / inner;
      let v = 0;
      for (let i = 0; i < inner; i++) v += (X[base + i]! - mu) ** 2;
      const k = scale[c]! / Math.sqrt(v / inner + eps);
      for (let i = 0; i < inner; i++) out[base + i] = (X[base + i]! - mu) * k + bias[c]!;
    }
  }
  return [{ dtype: xt.dtype, dims: xt.dims, data: out }];
};

export const layerNormalizationRef: ReferenceKernel = (node, inputs) => {
  const xt = inputs[0]!;
  const X = floatInput(node, xt, 'X');
  const scale = floatInput(node, inputs[1], 'Scale');
  const bias = inputs[2] ? floatInput(node, inputs[2], 'B') : null;
  const axis = normAxis(node, node.getInt('axis', -1), xt.dims.length);
  const eps = node.getFloat('epsilon', Math.fround(1e-5));
  const outer = sizeOf(xt.dims.slice(0, axis));
  const inner = sizeOf(xt.dims.slice(axis));
  const sDims = inputs[1]!.dims;
  const bDims = inputs[2]?.dims ?? [];
  // Scale and B broadcast against the normalised part [axis:]; index them modulo their size.
  const sN = sizeOf(sDims);
  const bN = sizeOf(bDims);
  if (inner % sN !== 0 || (bias !== null && inner % bN !== 0)) throw new ReferenceInputError(node, `Scale/B do not broadcast to the normalised shape [${xt.dims.slice(axis).join(',')}]`);
  const out = allocF64(X.length);
  const meanOut = allocF64(outer);
  const invOut = allocF64(outer);
  for (let o = 0; o < outer; o++) {
    const base = o * inner;
    let s = 0;
    for (let i = 0; i < inner; i++) s += X[base + i]!;
    const mu = s / inner;
    let v = 0;
    for (let i = 0; i < inner; i++) v += (X[base + i]! - mu) ** 2;
    const inv = 1 / Math.sqrt(v / inner + eps);
    meanOut[o] = mu;
    invOut[o] = inv;
    for (let i = 0; i < inner; i++) out[base + i] = (X[base + i]! - mu) * inv * scale[i % sN]! + (bias === null ? 0 : bias[i % bN]!);
  }
  const statDims = xt.dims.map((d, i) => (i < axis ? d : 1));
  // Mean and InvStdDev in stash_type (float32 by default), as the shape rule and onnxruntime (float32 for a float16 X) have them.
  const stash = node.getInt('stash_type', DataType.FLOAT) as DataType;
  return [
    { dtype: xt.dtype, dims: xt.dims, data: out },
    { dtype: stash, dims: statDims, data: meanOut },
    { dtype: stash, dims: statDims, data: invOut },
  ];
};

/** (outer, axisLen, inner) for a softmax-like op: opset < 13 flattens at `axis` (default 1). */
function softmaxLayout(node: Node, dims: readonly number[], opset: number): [number, number, number] {
  const rank = dims.length;
  if (opset < 13) {
    const axis = rank === 0 ? 0 : normAxis(node, node.getInt('axis', 1), rank);
    return [sizeOf(dims.slice(0, axis)), sizeOf(dims.slice(axis)), 1];
  }
  const axis = normAxis(node, node.getInt('axis', -1), Math.max(rank, 1));
  return [sizeOf(dims.slice(0, axis)), dims[axis] ?? 1, sizeOf(dims.slice(axis + 1))];
}

/**
 * The Softmax family over one max-scan per row: `exp` normalises exp(v − max) (Softmax), `log`
 * gives v − max − log Σ exp (LogSoftmax), `oneHot` marks the first maximum (Hardmax).
 */
function softmaxKind(kind: 'exp' | 'log' | 'oneHot'): ReferenceKernel {
  return (node, inputs, opset) => {
    const xt = inputs[0]!;
    const X = floatInput(node, xt, 'input');
    const [outer, len, inner] = softmaxLayout(node, xt.dims, opset);
    const out = allocF64(X.length);
    for (let o = 0; o < outer; o++) {
      for (let j = 0; j < inner; j++) {
        const base = o * len * inner + j;
        let mx = -Infinity;
        let arg = 0;
        for (let i = 0; i < len; i++) {
          const v = X[base + i * inner]!;
          if (v > mx || (Number.isNaN(v) && !Number.isNaN(mx))) {
            mx = v;
            arg = i;
          }
        }
        if (kind === 'oneHot') {
          out[base + arg * inner] = 1;
          continue;
        }
        let s = 0;
        for (let i = 0; i < len; i++) s += Math.exp(X[base + i * inner]! - mx);
        if (kind === 'exp') for (let i = 0; i < len; i++) out[base + i * inner] = Math.exp(X[base + i * inner]! - mx) / s;
        else {
          const ls = Math.log(s);
          for (let i = 0; i < len; i++) out[base + i * inner] = X[base + i * inner]! - mx - ls;
        }
      }
    }
    return [{ dtype: xt.dtype, dims: xt.dims, data: out }];
  };
}

export const softmaxRef = softmaxKind('exp');
export const logSoftmaxRef = softmaxKind('log');
export const hardmaxRef = softmaxKind('oneHot');

export const lrnRef: ReferenceKernel = (node, inputs) => {
  const xt = inputs[0]!;
  const X = floatInput(node, xt, 'X');
  const alpha = node.getFloat('alpha', 0.0001);
  const beta = node.getFloat('beta', 0.75);
  const bias = node.getFloat('bias', 1);
  const size = node.getInt('size');
  if (size === undefined) throw new ReferenceInputError(node, "attribute 'size' is required");
  const [N, C] = xt.dims as [number, number];
  const inner = sizeOf(xt.dims.slice(2));
  const out = allocF64(X.length);
  const lo = Math.floor((size - 1) / 2);
  const hi = Math.ceil((size - 1) / 2);
  for (let n = 0; n < N; n++) {
    for (let c = 0; c < C; c++) {
      for (let i = 0; i < inner; i++) {
        let s = 0;
        for (let k = Math.max(0, c - lo); k <= Math.min(C - 1, c + hi); k++) s += X[(n * C + k) * inner + i]! ** 2;
        const at = (n * C + c) * inner + i;
        out[at] = X[at]! / Math.pow(bias + (alpha / size) * s, beta);
      }
    }
  }
  return [{ dtype: xt.dtype, dims: xt.dims, data: out }];
};
