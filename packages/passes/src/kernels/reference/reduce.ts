/**
 * Reductions in float64: ReduceSum/Mean/Max/Min/Prod/L1/L2/SumSquare/LogSum/LogSumExp (axes as an
 * attribute before opset 18 — 13 for ReduceSum — and as an input after; keepdims;
 * noop_with_empty_axes), and ArgMax/ArgMin (keepdims, select_last_index).
 */
import { DataType, type Node } from '@onnxkit/graph';
import { ReferenceInputError, ReferenceUnsupportedError } from './errors.js';
import { allocF64, allocI64, intsOf, normAxis, sizeOf, stridedOffsets, stridesOf } from './tensor.js';
import type { ReferenceKernel, RefTensor } from '../../ops/types.js';

type Kind = 'Sum' | 'Mean' | 'Max' | 'Min' | 'Prod' | 'L1' | 'L2' | 'SumSquare' | 'LogSum' | 'LogSumExp';

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

function reduce(kind: Kind): ReferenceKernel {
  const since = kind === 'Sum' ? 13 : 18;
  return (node, inputs, opset) => {
    const x = inputs[0];
    if (!x) throw new ReferenceInputError(node, 'data is missing');
    const keepdims = node.getInt('keepdims', 1) !== 0;
    const axes = reduceAxes(node, inputs, opset, since, x.dims.length);
    if (axes === null) return [x];
    if (x.data instanceof BigInt64Array && (kind === 'Sum' || kind === 'Max' || kind === 'Min' || kind === 'Prod')) {
      const asF = { dtype: x.dtype, dims: x.dims, data: Float64Array.from(x.data, (v) => Number(v)) };
      const [init, step, finish] = ops(kind);
      const r = reduceWith(node, asF, axes, keepdims, init, step, finish);
      return [{ dtype: x.dtype, dims: r.dims, data: BigInt64Array.from(r.data as Float64Array, (v) => BigInt(v)) }];
    }
    const [init, step, finish] = ops(kind);
    return [reduceWith(node, x, axes, keepdims, init, step, finish)];
  };
}

function ops(kind: Kind): [number, (a: number, v: number) => number, (a: number, n: number) => number] {
  const id = (a: number): number => a;
  switch (kind) {
    case 'Sum':
      return [0, (a, v) => a + v, id];
    case 'Mean':
      return [0, (a, v) => a + v, (a, n) => a / n];
    case 'Max':
      return [-Infinity, (a, v) => (v > a || Number.isNaN(v) ? v : a), id];
    case 'Min':
      return [Infinity, (a, v) => (v < a || Number.isNaN(v) ? v : a), id];
    case 'Prod':
      return [1, (a, v) => a * v, id];
    case 'L1':
      return [0, (a, v) => a + Math.abs(v), id];
    case 'L2':
      return [0, (a, v) => a + v * v, (a) => Math.sqrt(a)];
    case 'SumSquare':
      return [0, (a, v) => a + v * v, id];
    case 'LogSum':
      return [0, (a, v) => a + v, (a) => Math.log(a)];
    case 'LogSumExp':
      return [0, (a, v) => a + Math.exp(v), (a) => Math.log(a)];
  }
}

export const reduceSumRef = reduce('Sum');
export const reduceMeanRef = reduce('Mean');
export const reduceMaxRef = reduce('Max');
export const reduceMinRef = reduce('Min');
export const reduceProdRef = reduce('Prod');
export const reduceL1Ref = reduce('L1');
export const reduceL2Ref = reduce('L2');
export const reduceSumSquareRef = reduce('SumSquare');
export const reduceLogSumRef = reduce('LogSum');
export const reduceLogSumExpRef = reduce('LogSumExp');

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
