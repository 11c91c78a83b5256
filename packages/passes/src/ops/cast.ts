/**
 * Cast and CastLike: element type conversion.
 */
import { DataType } from '@onnxkit/graph';
import type { ShapeRule } from '../analysis/inference-types.js';
import { castKernel, castLikeKernel } from '../kernels/shape-ops.js';
import { ATTR, withDefault } from './attributes.js';
import { perOutput, type OpCost } from './cost.js';
import { isIntType, U } from './shape-helpers.js';
import { defineOp, FP16_ALL, type OpDef } from './types.js';
import { castLikeRef, castRef } from '../kernels/reference/shape.js';

const cast: ShapeRule = (c) => {
  const to = c.node.getInt('to', U);
  c.out(0, to as DataType, c.shape(0));
  const p = c.ints(0);
  if (p && to !== DataType.BOOL) c.partial(0, isIntType(to as DataType) ? p.map((v) => (typeof v === 'number' ? Math.trunc(v) : v)) : p);
};

const castLike: ShapeRule = (c) => {
  c.out(0, c.dtype(1), c.shape(0));
  const p = c.ints(0);
  if (p) c.partial(0, p);
};

/** One conversion per element. */
const CONVERT: OpCost = { ops: perOutput(1), opsNote: '1 per element' };

export const CAST_OPS: readonly OpDef[] = [
  defineOp({
    type: 'Cast',
    reference: castRef,
    attributes: { to: ATTR.to, saturate: withDefault(ATTR.saturate, 1), round_mode: withDefault(ATTR.round_mode, 'up') },
    shape: cast,
    cost: CONVERT,
    kernel: { note: 'numeric types and bool, float16/bfloat16 via the graph encoders; declines UB conversions', fn: castKernel },
    passesWeights: true,
    fp16: FP16_ALL,
    sameAt13From: 10,
  }),
  defineOp({
    type: 'CastLike',
    reference: castLikeRef,
    attributes: { saturate: withDefault(ATTR.saturate, 1), round_mode: withDefault(ATTR.round_mode, 'up') },
    shape: castLike,
    cost: CONVERT,
    kernel: { note: 'as Cast, target type from the second input', fn: castLikeKernel },
    passesWeights: true,
  }),
];
