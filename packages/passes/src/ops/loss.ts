/**
 * Training losses found in exported training graphs and the ONNX backend corpus:
 * NegativeLogLikelihoodLoss and SoftmaxCrossEntropyLoss (reduction none / sum / mean, optional
 * class weights, ignore_index; SoftmaxCrossEntropyLoss's optional log_prob output).
 */
import type { ShapeRule } from '../analysis/inference-types.js';
import { negativeLogLikelihoodLossRef, softmaxCrossEntropyLossRef } from '../kernels/reference/loss.js';
import { ATTR, withDefault } from './attributes.js';
import { type CostContext, type Count, unknownCount } from './cost.js';
import { defineOp, type OpDef } from './types.js';

/**
 * Output 0: the loss per target element ([N, d1, …], the input without its class axis) with
 * reduction 'none', else a scalar; output 1 (SoftmaxCrossEntropyLoss's log_prob): the input's shape.
 */
const loss: ShapeRule = (c) => {
  const xs = c.shape(0);
  const perTarget = xs ? [xs[0]!, ...xs.slice(2)] : c.shape(1);
  c.out(0, c.dtype(0), c.node.getString('reduction', 'mean') === 'none' ? perTarget : []);
  for (let i = 1; i < c.node.outputs.length; i++) c.out(i, c.dtype(0), xs);
};

/**
 * `perScore` per input element (the log-softmax, when there is one), plus 2 per target element
 * (weight, accumulate): a target element is one input element in C, C being dim 1 of the input.
 */
const lossOps =
  (perScore: number) =>
  (c: CostContext): Count => {
    const classes = c.inputShapes[0]?.[1];
    return typeof classes === 'number' && classes > 0 ? { perInput: perScore + 2 / classes } : unknownCount('the class count (dim 1 of the input) is not static');
  };

const LOSS_ATTRIBUTES = { ignore_index: ATTR.ignore_index, reduction: withDefault(ATTR.reduction, 'mean') };

export const LOSS_OPS: readonly OpDef[] = [
  defineOp({
    type: 'NegativeLogLikelihoodLoss',
    ort: { float16: 'casts' },
    attributes: LOSS_ATTRIBUTES,
    shape: loss,
    cost: { ops: lossOps(0), opsNote: '2 per target element (weight, accumulate)' },
    reference: negativeLogLikelihoodLossRef,
  }),
  defineOp({
    type: 'SoftmaxCrossEntropyLoss',
    ort: { float16: 'casts' },
    attributes: LOSS_ATTRIBUTES,
    shape: loss,
    cost: { ops: lossOps(5), opsNote: '5 per score (log-softmax) + 2 per target element' },
    reference: softmaxCrossEntropyLossRef,
  }),
];
