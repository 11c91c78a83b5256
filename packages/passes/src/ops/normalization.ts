/**
 * Normalisations (BatchNormalization, LayerNormalization, …) and the Softmax family.
 */
import type { DataType, Dim, Node } from '@onnxkit/graph';
import type { ShapeRule } from '../analysis/inference-types.js';
import { softmaxKernel } from '../kernels/reduce.js';
import { ATTR, attrs, withDefault } from './attributes.js';
import { normAxis } from './axes.js';
import { perOutput } from './cost.js';
import { firstType, same } from './shape-helpers.js';
import { defineOp, FP16_ALL, type OpDef } from './types.js';
import { batchNormalizationRef, hardmaxRef, instanceNormalizationRef, layerNormalizationRef, logSoftmaxRef, lrnRef, softmaxRef } from '../kernels/reference/norm.js';

const batchNorm: ShapeRule = (c) => {
  const xs = c.shape(0);
  c.out(0, c.dtype(0), xs);
  const ch = xs?.[1] ?? c.shape(1)?.[0] ?? null;
  for (let i = 1; i < c.node.outputs.length; i++) c.out(i, firstType(c, 3, 0), [ch]);
};

const layerNorm: ShapeRule = (c) => {
  const xs = c.shape(0);
  c.out(0, c.dtype(0), xs);
  if (c.node.outputs.length > 1) {
    const stash = c.node.getInt('stash_type', 1) as DataType;
    let s: Dim[] | null = null;
    if (xs) {
      const axis = normAxis(c.node.getInt('axis', -1), xs.length);
      if (axis !== undefined) s = [...xs.slice(0, axis), ...xs.slice(axis).map(() => 1)];
    }
    for (let i = 1; i < c.node.outputs.length; i++) c.out(i, stash, s);
  }
};

/** Normalisations' element-wise work: mean, variance, normalise, scale, shift. */
const NORM_OPS = 8;

/** A BatchNormalization in training mode: training_mode = 1, or a running mean/variance output in use. */
function isTrainingBN(n: Node): boolean {
  if (n.getInt('training_mode', 0) === 1) return true;
  return n.outputs.slice(1).some((v) => v.name !== '' && (v.uses.length > 0 || v.isGraphOutput));
}
const epsilon = withDefault(ATTR.epsilon, 1e-5);

export const NORMALIZATION_OPS: readonly OpDef[] = [
  defineOp({
    type: 'BatchNormalization',
    reference: batchNormalizationRef,
    attributes: {
      epsilon,
      momentum: withDefault(ATTR.momentum, 0.9),
      training_mode: withDefault(ATTR.training_mode, 0),
      // Before opset 7 (is_test, spatial) and opset 6 (consumed_inputs).
      is_test: ATTR.is_test,
      spatial: ATTR.spatial,
      consumed_inputs: ATTR.consumed_inputs,
    },
    shape: batchNorm,
    // In place in inference; training mode (the attribute, or a read running mean/variance
    // output) writes new outputs.
    cost: { biases: [1, 2], buffers: [3, 4], inPlace: (n) => !isTrainingBN(n), ops: perOutput(2), opsNote: '2 per element (scale and shift)' },
    weightInputs: [1, 2, 3, 4],
    fp16: FP16_ALL,
    sameAt13From: 10,
  }),
  defineOp({
    type: 'LayerNormalization',
    reference: layerNormalizationRef,
    attributes: { axis: withDefault(ATTR.axis, -1), epsilon, stash_type: withDefault(ATTR.stash_type, 1) },
    shape: layerNorm,
    cost: { biases: [1, 2], ops: perOutput(NORM_OPS), opsNote: `${NORM_OPS} per element (mean, variance, normalise, scale, shift)` },
    weightInputs: [1, 2],
    fp16: FP16_ALL,
  }),
  defineOp({
    type: 'GroupNormalization',
    attributes: { epsilon, num_groups: ATTR.num_groups, stash_type: withDefault(ATTR.stash_type, 1) },
    shape: same,
    cost: { biases: [1, 2], ops: perOutput(NORM_OPS), opsNote: `${NORM_OPS} per element` },
  }),
  defineOp({
    type: 'InstanceNormalization',
    reference: instanceNormalizationRef,
    attributes: { epsilon },
    shape: same,
    cost: { biases: [1, 2], ops: perOutput(NORM_OPS), opsNote: `${NORM_OPS} per element` },
    weightInputs: [1, 2],
    fp16: FP16_ALL,
    sameAt13From: 10,
  }),
  defineOp({
    type: 'RMSNormalization',
    attributes: { axis: withDefault(ATTR.axis, -1), epsilon, stash_type: withDefault(ATTR.stash_type, 1) },
    shape: same,
    cost: { biases: [1], ops: perOutput(5), opsNote: '5 per element' },
  }),
  defineOp({ type: 'MeanVarianceNormalization', sameAt13From: 10, attributes: { axes: withDefault(ATTR.axes, [0, 2, 3]) }, shape: same, cost: { ops: perOutput(6), opsNote: '6 per element' }, fp16: FP16_ALL }),
  defineOp({ type: 'LpNormalization', ort: { float16: 'casts' }, sameAt13From: 10, attributes: { axis: withDefault(ATTR.axis, -1), p: withDefault(ATTR.p, 2) }, shape: same, cost: { ops: perOutput(3), opsNote: '3 per element' } }),
  defineOp({
    type: 'LRN',
    reference: lrnRef,
    attributes: { alpha: withDefault(ATTR.alpha, 0.0001), beta: withDefault(ATTR.beta, 0.75), bias: withDefault(ATTR.bias, 1), size: ATTR.size },
    shape: same,
    cost: { ops: (c) => perOutput(c.node.getInt('size', 1) + 3)(c), opsNote: 'size + 3 per element' },
    fp16: FP16_ALL,
    sameAt13From: 10,
  }),
];

const SOFTMAX_NOTE = 'float32/float64; 2-D coercion before opset 13, single axis after';

/** Softmax family; `axis` defaults to 1 before opset 13 and −1 from it. */
export const SOFTMAX_OPS: readonly OpDef[] = [
  defineOp({
    type: 'Softmax',
    reference: softmaxRef,
    attributes: attrs('axis'),
    shape: same,
    cost: { ops: perOutput(5), opsNote: '5 per element (max, subtract, exp, sum, divide)' },
    kernel: { note: SOFTMAX_NOTE, fn: softmaxKernel(false) },
    fp16: FP16_ALL,
    sameAt13From: { changedBy13: 'axis-semantics' },
    ort: { qdq: 'element' },
    // Its output lies in [0, 1]: onnxruntime's quantizer (QDQSoftmax) fixes the output at scale
    // 1/256 with zero point 0 (uint8) or −128 (int8), 1/128 with 128 or 0 when symmetric, so the
    // 256 levels span [0, 1) whatever the calibrated maximum (QLinearSoftmax honours any output
    // scale: ort-qdq test).
    quantize: {
      placement: 'unary',
      fixedOutput: { asymmetric: { scale: 1 / 256, uint8ZeroPoint: 0, int8ZeroPoint: -128 }, symmetric: { scale: 1 / 128, uint8ZeroPoint: 128, int8ZeroPoint: 0 } },
    },
  }),
  defineOp({ type: 'LogSoftmax', sameAt13From: { changedBy13: 'axis-semantics' }, reference: logSoftmaxRef, attributes: attrs('axis'), shape: same, cost: { ops: perOutput(5), opsNote: '5 per element' }, kernel: { note: SOFTMAX_NOTE, fn: softmaxKernel(true) }, fp16: FP16_ALL }),
  defineOp({ type: 'Hardmax', ort: { float16: 'casts' }, sameAt13From: { changedBy13: 'axis-semantics' }, reference: hardmaxRef, attributes: attrs('axis'), shape: same, cost: { ops: perOutput(2), opsNote: '2 per element' } }),
];
