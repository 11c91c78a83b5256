/**
 * Reductions (the machinery of the Reduce* ops: axes, keepdims, typed accumulation loops per
 * dtype) and Softmax/LogSoftmax. How each Reduce* op combines elements — its accumulator, its
 * integer forms, whether an empty reduction or a NaN is defined — is declared in ops/reduce.ts
 * and passed in (`reduceKernel(reducer, axesInputOpset)`): nothing here decides by op name.
 *
 * Axes come from the attribute before the input form existed (ReduceSum: opset 13, the others:
 * opset 18) and from input 1 after; `keepdims` defaults to 1; with no axes every axis is reduced
 * unless `noop_with_empty_axes` is set. Float sums are accumulated in float64 and rounded once,
 * so they can differ from ORT's float32 accumulation in the last ulp; integer reductions are
 * exact (int32 wraps like C, int64 uses BigInt).
 */
import { DataType, type Node, type Tensor } from '@onnxkit/graph';
import { KernelError } from './errors.js';
import { allocate, forEachStrided, makeTensor, normAxis, safeIntsOf, sizeOf, stridesOf } from './tensor-data.js';
import type { KernelFn } from './types.js';

/** A float accumulation: from `init`, `step` per element in order, then `finish(acc, count)`. */
export interface Accumulator {
  readonly init: number;
  readonly step: (acc: number, v: number) => number;
  readonly finish?: (acc: number, count: number) => number;
}

/**
 * An integer accumulation, from the arithmetic the typed loops below write inline (no call per
 * element: int32 folds run at the speed they had when each op was a branch here): wrapping sum
 * or product (int32 like C, int64 as BigInt wrapped to 64 bits), maximum or minimum, from the
 * combination's identity. `mean` then divides by the count, truncating.
 */
export interface IntAccumulation {
  readonly combine: 'add' | 'mul' | 'max' | 'min';
  readonly mean?: boolean;
}

/** How one Reduce* op combines the elements of each output, declared by its op module. */
export interface Reducer {
  /**
   * float32/float64: accumulated in float64 and rounded once. `maxShifted`: each output's
   * maximum m is subtracted from its elements before `step` and added after `finish`
   * (log-sum-exp without overflow).
   */
  readonly float: Accumulator & { readonly maxShifted?: boolean };
  /** int32 and int64; absent: floats only. */
  readonly int?: IntAccumulation;
  /** Defined on an empty reduction (`init` is its identity); otherwise such a node is not computed. */
  readonly empty: boolean;
  /**
   * Not computed when the input holds a NaN: onnxruntime's result then depends on where the NaN
   * sits (min over [1, NaN, 0] is 0, over [NaN, 2, -1] NaN). The node is left to the runtime,
   * its value unknown: the model is valid, so this is no KernelError.
   */
  readonly nanUndefined?: boolean;
}

/** Resolved reduction: output dims and, per input axis, whether it is reduced. */
function reductionPlan(
  node: Node,
  x: Tensor,
  inputs: readonly (Tensor | null)[],
  opset: number,
  inputOpset: number,
): { reduced: boolean[]; outDims: number[]; keptDims: number[] } | 'noop' | undefined {
  let axes: number[] | undefined;
  let noop = false;
  if (opset < inputOpset) {
    axes = node.getInts('axes');
  } else {
    const t = inputs[1];
    if (t) {
      axes = safeIntsOf(node, t, 'axes');
      if (axes === undefined) return undefined;
    }
    noop = node.getInt('noop_with_empty_axes', 0) === 1;
  }
  const r = x.rank;
  const reduced = new Array<boolean>(r).fill(false);
  if (axes === undefined || axes.length === 0) {
    if (noop) return 'noop';
    reduced.fill(true);
  } else {
    for (const a of axes) {
      const n = normAxis(node, a, r);
      if (reduced[n]) throw new KernelError(node, `axis ${a} is repeated`);
      reduced[n] = true;
    }
  }
  const keep = node.getInt('keepdims', 1) === 1;
  const keptDims = x.dims.map((d, i) => (reduced[i] ? 1 : d));
  const outDims = keep ? keptDims : x.dims.filter((_, i) => !reduced[i]);
  return { reduced, outDims, keptDims };
}

/** float64 results rounded once into a (budget-checked) float32 array. */
function toFloat32(a: Float64Array): Float32Array {
  const out = allocate(Float32Array, a.length);
  out.set(a);
  return out;
}

/** Output offset of every input element (reduced axes have stride 0). */
function forEachInput(x: Tensor, keptDims: number[], reduced: boolean[], visit: (inIndex: number, outIndex: number) => void): void {
  const outStrides = stridesOf(keptDims).map((s, i) => (reduced[i] ? 0 : s));
  forEachStrided(x.dims, [outStrides], visit);
}

/** A Reduce* op computing `r`, whose axes became an input at opset `inputOpset`. */
export function reduceKernel(r: Reducer, inputOpset: number): KernelFn {
  return (node, inputs, opset) => {
    const x = inputs[0];
    if (!x) return undefined;
    const isFloat = x.dtype === DataType.FLOAT || x.dtype === DataType.DOUBLE;
    const isInt = x.dtype === DataType.INT32 || x.dtype === DataType.INT64;
    if (!isFloat && !(isInt && r.int !== undefined)) return undefined;
    const plan = reductionPlan(node, x, inputs, opset, inputOpset);
    if (plan === undefined) return undefined;
    if (plan === 'noop') return [x];
    const { reduced, outDims, keptDims } = plan;
    const m = sizeOf(outDims);
    const count = m === 0 ? 0 : x.size / m;
    if (count === 0 && !r.empty) return undefined;
    if (isFloat) {
      const src = x.toArray() as Float64Array;
      if (r.nanUndefined && src.some(Number.isNaN)) return undefined;
      const acc = allocate(Float64Array, m);
      const f = r.float;
      const step = f.step;
      const finish = f.finish;
      acc.fill(f.init);
      if (f.maxShifted) {
        const mx = allocate(Float64Array, m).fill(-Infinity);
        forEachInput(x, keptDims, reduced, (i, o) => {
          if (src[i]! > mx[o]!) mx[o] = src[i]!;
        });
        forEachInput(x, keptDims, reduced, (i, o) => {
          acc[o] = step(acc[o]!, src[i]! - mx[o]!);
        });
        if (finish !== undefined) for (let o = 0; o < m; o++) acc[o] = finish(acc[o]!, count) + mx[o]!;
        else for (let o = 0; o < m; o++) acc[o]! += mx[o]!;
      } else {
        forEachInput(x, keptDims, reduced, (i, o) => {
          acc[o] = step(acc[o]!, src[i]!);
        });
        if (finish !== undefined) for (let o = 0; o < m; o++) acc[o] = finish(acc[o]!, count);
      }
      const out = x.dtype === DataType.FLOAT ? toFloat32(acc) : acc;
      return [makeTensor(x.dtype, outDims, out)];
    }
    const { combine, mean } = r.int!;
    if (x.dtype === DataType.INT64) {
      const src = x.toArray() as BigInt64Array;
      const init = combine === 'mul' ? 1n : combine === 'max' ? -(1n << 63n) : combine === 'min' ? (1n << 63n) - 1n : 0n;
      const acc = allocate(BigInt64Array, m).fill(init);
      forEachInput(x, keptDims, reduced, (i, o) => {
        const a = acc[o]!;
        const v = src[i]!;
        acc[o] = combine === 'mul' ? BigInt.asIntN(64, a * v) : combine === 'max' ? (v > a ? v : a) : combine === 'min' ? (v < a ? v : a) : BigInt.asIntN(64, a + v);
      });
      if (mean) for (let o = 0; o < m; o++) acc[o] = acc[o]! / BigInt(count);
      return [makeTensor(x.dtype, outDims, acc)];
    }
    const src = x.toArray() as Int32Array;
    const init = combine === 'mul' ? 1 : combine === 'max' ? -2147483648 : combine === 'min' ? 2147483647 : 0;
    const acc = allocate(Int32Array, m).fill(init);
    forEachInput(x, keptDims, reduced, (i, o) => {
      const a = acc[o]!;
      const v = src[i]!;
      acc[o] = combine === 'mul' ? Math.imul(a, v) : combine === 'max' ? (v > a ? v : a) : combine === 'min' ? (v < a ? v : a) : (a + v) | 0;
    });
    if (mean) for (let o = 0; o < m; o++) acc[o] = Math.trunc(acc[o]! / count);
    return [makeTensor(x.dtype, outDims, acc)];
  };
}

/**
 * Softmax/LogSoftmax: before opset 13 the input is coerced to 2-D at `axis` (default 1) and the
 * softmax runs over the flattened trailing block; from 13 on it runs along `axis` (default -1).
 */
export function softmaxKernel(log: boolean): KernelFn {
  return (node, inputs, opset) => {
    const x = inputs[0];
    if (!x || (x.dtype !== DataType.FLOAT && x.dtype !== DataType.DOUBLE)) return undefined;
    const r = x.rank;
    if (r === 0) return undefined;
    const axis = normAxis(node, node.getInt('axis', opset < 13 ? 1 : -1), r);
    const src = x.toArray() as Float64Array;
    const out = allocate(Float64Array, x.size);
    let outer: number;
    let len: number;
    let inner: number;
    if (opset < 13) {
      outer = sizeOf(x.dims.slice(0, axis));
      len = sizeOf(x.dims.slice(axis));
      inner = 1;
    } else {
      outer = sizeOf(x.dims.slice(0, axis));
      len = x.dims[axis]!;
      inner = sizeOf(x.dims.slice(axis + 1));
    }
    for (let o = 0; o < outer; o++) {
      for (let j = 0; j < inner; j++) {
        const base = o * len * inner + j;
        let mx = -Infinity;
        for (let k = 0; k < len; k++) mx = Math.max(mx, src[base + k * inner]!);
        let sum = 0;
        for (let k = 0; k < len; k++) sum += Math.exp(src[base + k * inner]! - mx);
        for (let k = 0; k < len; k++) {
          const v = src[base + k * inner]! - mx;
          out[base + k * inner] = log ? v - Math.log(sum) : Math.exp(v) / sum;
        }
      }
    }
    return [makeTensor(x.dtype, x.dims, x.dtype === DataType.FLOAT ? toFloat32(out) : out)];
  };
}

