/**
 * Reductions in float64: the machinery of the Reduce* ops (axes as an attribute before the opset
 * the op declares — 18, 13 for ReduceSum — and as an input after; keepdims;
 * noop_with_empty_axes; a strided walk per output), and ArgMax/ArgMin (keepdims,
 * select_last_index). How each Reduce* op combines elements is declared in ops/reduce.ts
 * (`reduceReference({ init, step, finish })`): nothing here decides semantics by op name.
 */
import { DataType, type Node } from '@onnxkit/graph';
import { ReferenceInputError, ReferenceUnsupportedError } from './errors.js';
import { allocF64, allocI64, intsOf, normAxis, sizeOf, stridedOffsets, stridesOf } from './tensor.js';
import type { ReferenceKernel, RefTensor } from '../../ops/types.js';

function reduceAxes(node: Node, inputs: readonly (RefTensor | null)[], opset: number, since: number, rank: number): number[] | null {
  const given = opset >= since ? (inputs[1] ? intsOf(node, inputs[1], 'axes') : undefined) : node.getInts('axes');
  if (given === undefined || given.length === 0) return node.getInt('noop_with_empty_axes', 0) !== 0 && opset >= since ? null : Array.from({ length: rank }, (_, i) => i);
  return [...new Set(given.map((a) => normAxis(node, a, rank)))].sort((a, b) => a - b);
}

/** Strided walk: for each output element, visits the reduced elements of `x`. */
function reduceWith(node: Node, x: RefTensor, axes: readonly number[], keepdims: boolean, init: number, step: (acc: number, v: number) => number, finish: (acc: number, count: number) => number): RefTensor {
  if (!(x.data instanceof Float64Array)) throw new ReferenceUnsupportedError(node, `reducing ${DataType[x.dtype]} is not supported`);
  const X = x.data;
  const red = new Set(axes);
  const keptAxes = x.dims.map((_, i) => i).filter((i) => !red.has(i));
  const redAxes = [...axes];
  const strides = stridesOf(x.dims);
  const outDims = keepdims ? x.dims.map((d, i) => (red.has(i) ? 1 : d)) : keptAxes.map((i) => x.dims[i]!);
  const nOut = sizeOf(keptAxes.map((i) => x.dims[i]!));
  const nRed = sizeOf(redAxes.map((i) => x.dims[i]!));
  const out = allocF64(nOut);
  // Offsets of the reduced block relative to its origin, and of each block's origin.
  const redOff = stridedOffsets(redAxes.map((a) => x.dims[a]!), redAxes.map((a) => strides[a]!), new Float64Array(nRed));
  const bases = stridedOffsets(keptAxes.map((a) => x.dims[a]!), keptAxes.map((a) => strides[a]!), new Float64Array(nOut));
  for (let o = 0; o < nOut; o++) {
    const base = bases[o]!;
    let acc = init;
    for (let i = 0; i < nRed; i++) acc = step(acc, X[base + redOff[i]!]!);
    out[o] = finish(acc, nRed);
  }
  return { dtype: x.dtype, dims: outDims, data: out };
}

/**
 * How one Reduce* op combines the elements of each output, declared by its module: from `init`,
 * `step` per element in order, then `finish(acc, count)`. `int64`: int64 inputs are reduced the
 * same way on their float64 values and converted back (otherwise not supported).
 */
export interface ReferenceReducer {
  readonly init: number;
  readonly step: (acc: number, v: number) => number;
  readonly finish: (acc: number, count: number) => number;
  readonly int64?: boolean;
}

/** A Reduce* op whose axes became an input at opset `since`. */
export function reduceReference(r: ReferenceReducer, since: number): ReferenceKernel {
  return (node, inputs, opset) => {
    const x = inputs[0];
    if (!x) throw new ReferenceInputError(node, 'data is missing');
    const keepdims = node.getInt('keepdims', 1) !== 0;
    const axes = reduceAxes(node, inputs, opset, since, x.dims.length);
    if (axes === null) return [x];
    if (x.data instanceof BigInt64Array && r.int64) {
      const asF = { dtype: x.dtype, dims: x.dims, data: Float64Array.from(x.data, (v) => Number(v)) };
      const out = reduceWith(node, asF, axes, keepdims, r.init, r.step, r.finish);
      return [{ dtype: x.dtype, dims: out.dims, data: BigInt64Array.from(out.data as Float64Array, (v) => BigInt(v)) }];
    }
    return [reduceWith(node, x, axes, keepdims, r.init, r.step, r.finish)];
  };
}

function argReduce(max: boolean): ReferenceKernel {
  return (node, inputs) => {
    const x = inputs[0];
    if (!x) throw new ReferenceInputError(node, 'data is missing');
    const X = x.data instanceof BigInt64Array ? Float64Array.from(x.data, (v) => Number(v)) : x.data;
    if (!(X instanceof Float64Array)) throw new ReferenceUnsupportedError(node, 'arg-reducing a non-numeric tensor is not supported');
    const r = x.dims.length;
    const axis = normAxis(node, node.getInt('axis', 0), r);
    const keepdims = node.getInt('keepdims', 1) !== 0;
    const last = node.getInt('select_last_index', 0) !== 0;
    const outer = sizeOf(x.dims.slice(0, axis));
    const len = x.dims[axis]!;
    const inner = sizeOf(x.dims.slice(axis + 1));
    const out = allocI64(outer * inner);
    for (let o = 0; o < outer; o++) {
      for (let j = 0; j < inner; j++) {
        let best = X[o * len * inner + j]!;
        let arg = 0;
        for (let i = 1; i < len; i++) {
          const v = X[(o * len + i) * inner + j]!;
          if (max ? v > best || (last && v === best) : v < best || (last && v === best)) {
            best = v;
            arg = i;
          }
        }
        out[o * inner + j] = BigInt(arg);
      }
    }
    const dims = keepdims ? x.dims.map((d, i) => (i === axis ? 1 : d)) : x.dims.filter((_, i) => i !== axis);
    return [{ dtype: DataType.INT64, dims, data: out }];
  };
}

export const argMaxRef = argReduce(true);
export const argMinRef = argReduce(false);
