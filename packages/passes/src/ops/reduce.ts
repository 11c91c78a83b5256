/**
 * Reductions: Reduce* and ArgMax/ArgMin. Each Reduce* op declares here how it combines
 * elements, for the float32 folding kernel (`Reducer`: float64 accumulation, its int32/int64
 * forms, whether an empty reduction or a NaN has a defined value) and for the float64 reference
 * (`ReferenceReducer`); kernels/reduce.ts and kernels/reference/reduce.ts supply the axes
 * handling and the loops.
 */
import { DataType } from '@onnxkit/graph';
import type { ShapeRule } from '../analysis/inference-types.js';
import { reduceKernel, type Reducer } from '../kernels/reduce.js';
import { ATTR, withDefault } from './attributes.js';
import { normAxis } from './axes.js';
import { type OpCost, perInput } from './cost.js';
import { axesOf } from './shape-helpers.js';
import { defineOp, FP16_ALL, type OpDef, sameAt13WithoutAttribute, withFacets } from './types.js';
import { argMaxRef, argMinRef, reduceReference, type ReferenceReducer } from '../kernels/reference/reduce.js';

function reduce(inputOpset: number, outType?: DataType): ShapeRule {
  return (c) => {
    const xs = c.shape(0);
    const type = outType ?? c.dtype(0);
    const keep = c.node.getInt('keepdims', 1) === 1;
    let axes: number[] | null | undefined;
    let noop = false;
    if (c.node.opType === 'ArgMax' || c.node.opType === 'ArgMin') {
      axes = [c.node.getInt('axis', 0)];
    } else {
      axes = axesOf(c, inputOpset);
      if (c.opset >= inputOpset) noop = c.node.getInt('noop_with_empty_axes', 0) === 1;
    }
    if (!xs) return c.out(0, type, null);
    if (axes === undefined) {
      c.unresolved('the reduction axes are not constant');
      return c.out(0, type, keep ? xs.map(() => null) : null);
    }
    if (axes === null || axes.length === 0) {
      if (noop) return c.out(0, type, xs);
      return c.out(0, type, keep ? xs.map(() => 1) : []);
    }
    const set = new Set(axes.map((a) => normAxis(a, xs.length)));
    if (set.has(undefined)) {
      c.mismatch(`axes ${JSON.stringify(axes)} are out of range for rank ${xs.length}`);
      return c.out(0, type, null);
    }
    c.out(0, type, keep ? xs.map((d, i) => (set.has(i) ? 1 : d)) : xs.filter((_, i) => !set.has(i)));
  };
}

const REDUCE_ATTRIBUTES = { axes: ATTR.axes, keepdims: withDefault(ATTR.keepdims, 1), noop_with_empty_axes: withDefault(ATTR.noop_with_empty_axes, 0) };
const FLOATS_ONLY = 'float32/float64';
const ALL_TYPES = 'float32/float64/int32/int64; axes input from opset 18';

/**
 * Opset-13 stability (ONNX Changelog): the Reduce* ops whose axes stay an attribute at 13 (all but
 * ReduceSum) changed at 11 (negative axes accepted) and 13 (bfloat16; the empty reduction's value
 * stated) only, so an opset-10 form means the same at 13; ReduceSum's axes attribute became an
 * input at 13, so only its form without one (reduce every axis, as at 13) does.
 */
const reduceSameAt13 = (axesInputOpset: number): OpDef['sameAt13From'] => (axesInputOpset > 13 ? 10 : sameAt13WithoutAttribute('axes'));

/** A Reduce* op whose axes became an input at `axesInputOpset` (13 for ReduceSum, 18 for the rest). */
const reduceOp = (type: string, axesInputOpset: number, ops: OpCost['ops'], opsNote: string, note: string, fp16: boolean, kernel: Reducer, reference: ReferenceReducer): OpDef =>
  defineOp({
    type,
    sameAt13From: reduceSameAt13(axesInputOpset),
    attributes: REDUCE_ATTRIBUTES,
    shape: reduce(axesInputOpset),
    cost: { ops, opsNote },
    kernel: { note, fn: reduceKernel(kernel, axesInputOpset) },
    reference: reduceReference(reference, axesInputOpset),
    ...(fp16 ? { fp16: FP16_ALL } : {}),
  });

const PER_INPUT = '1 per input element';
const PER_INPUT_AND_OUTPUT = '1 per input element + 1 per output';

type Step = (acc: number, v: number) => number;
const add: Step = (a, v) => a + v;
const addSquare: Step = (a, v) => a + v * v;
const unchanged = (a: number): number => a;

export const REDUCE_OPS: readonly OpDef[] = [
  reduceOp('ReduceSum', 13, perInput(1), PER_INPUT, 'float32/float64/int32/int64; axes attribute (< 13) or input (≥ 13)', true,
    { float: { init: 0, step: add }, int: { combine: 'add' }, empty: true },
    { init: 0, step: add, finish: unchanged, int64: true }),
  reduceOp('ReduceMean', 18, perInput(1, 1), PER_INPUT_AND_OUTPUT, 'float32/float64/int32/int64 (integer mean truncates); axes input from opset 18', true,
    { float: { init: 0, step: add, finish: (a, n) => a / n }, int: { combine: 'add', mean: true }, empty: false },
    { init: 0, step: add, finish: (a, n) => a / n }),
  withFacets(reduceOp('ReduceMax', 18, perInput(1), PER_INPUT, ALL_TYPES, true,
    { float: { init: -Infinity, step: (a, v) => (v > a ? v : a) }, int: { combine: 'max' }, empty: false, nanUndefined: true },
    { init: -Infinity, step: (a, v) => (v > a || Number.isNaN(v) ? v : a), finish: unchanged, int64: true }), { ort: { qdq: 'data', qdqPositiveScale: true } }),
  withFacets(reduceOp('ReduceMin', 18, perInput(1), PER_INPUT, ALL_TYPES, true,
    { float: { init: Infinity, step: (a, v) => (v < a ? v : a) }, int: { combine: 'min' }, empty: false, nanUndefined: true },
    { init: Infinity, step: (a, v) => (v < a || Number.isNaN(v) ? v : a), finish: unchanged, int64: true }), { ort: { qdq: 'data', qdqPositiveScale: true } }),
  reduceOp('ReduceProd', 18, perInput(1), PER_INPUT, ALL_TYPES, true,
    { float: { init: 1, step: (a, v) => a * v }, int: { combine: 'mul' }, empty: true },
    { init: 1, step: (a, v) => a * v, finish: unchanged, int64: true }),
  withFacets(reduceOp('ReduceL1', 18, perInput(2), '2 per input element', FLOATS_ONLY, false,
    { float: { init: 0, step: (a, v) => a + Math.abs(v) }, empty: true },
    { init: 0, step: (a, v) => a + Math.abs(v), finish: unchanged }), { ort: { float16: 'casts' } }),
  reduceOp('ReduceL2', 18, perInput(2, 1), '2 per input element + 1 per output', FLOATS_ONLY, true,
    { float: { init: 0, step: addSquare, finish: (a) => Math.sqrt(a) }, empty: true },
    { init: 0, step: addSquare, finish: (a) => Math.sqrt(a) }),
  withFacets(reduceOp('ReduceSumSquare', 18, perInput(2), '2 per input element', FLOATS_ONLY, false,
    { float: { init: 0, step: addSquare }, empty: true },
    { init: 0, step: addSquare, finish: unchanged }), { ort: { float16: 'casts' } }),
  withFacets(reduceOp('ReduceLogSum', 18, perInput(1, 1), PER_INPUT_AND_OUTPUT, FLOATS_ONLY, false,
    { float: { init: 0, step: add, finish: (a) => Math.log(a) }, empty: false },
    { init: 0, step: add, finish: (a) => Math.log(a) }), { ort: { float16: 'casts' } }),
  // The float32 kernel shifts by the maximum (exp never overflows); the reference sums exp(v) as the spec writes it.
  withFacets(reduceOp('ReduceLogSumExp', 18, perInput(3, 1), '3 per input element + 1 per output', 'float32/float64, max-shifted', false,
    { float: { init: 0, step: (a, v) => a + Math.exp(v), finish: (a) => Math.log(a), maxShifted: true }, empty: false },
    { init: 0, step: (a, v) => a + Math.exp(v), finish: (a) => Math.log(a) }), { ort: { float16: 'casts' } }),
  ...([
    ['ArgMax', argMaxRef],
    ['ArgMin', argMinRef],
  ] as const).map(([type, reference]) =>
    defineOp({
      type,
      reference,
      attributes: { axis: withDefault(ATTR.axis, 0), keepdims: withDefault(ATTR.keepdims, 1), select_last_index: withDefault(ATTR.select_last_index, 0) },
      shape: reduce(Infinity, DataType.INT64),
      cost: { ops: perInput(1), opsNote: PER_INPUT },
      fp16: FP16_ALL,
      // select_last_index (12) defaults to the earlier behaviour; 13 adds bfloat16 (ONNX Changelog).
      sameAt13From: 10,
    }),
  ),
];
