/**
 * Recurrent layers: LSTM, GRU, RNN.
 */
import type { Dim } from '@onnxkit/graph';
import type { ShapeRule } from '../analysis/inference-types.js';
import { ATTR, attrs, withDefault } from './attributes.js';
import { perOutput, recurrentMacs } from './cost.js';
import { defineOp, type AttributeSchema, type OpDef, type ReferenceKernel, withFacets } from './types.js';
import { gruRef, lstmRef, rnnRef } from '../kernels/reference/rnn.js';

/**
 * LSTM/GRU/RNN: Y [seq, dirs, batch, hidden] and Y_h (and LSTM's Y_c) [dirs, batch, hidden];
 * with layout=1 (opset 14) batch comes first: Y [batch, seq, dirs, hidden], Y_h [batch, dirs, hidden].
 */
const recurrent: ShapeRule = (c) => {
  const xs = c.shape(0);
  const dirs = c.node.getString('direction', 'forward') === 'bidirectional' ? 2 : 1;
  const hidden: Dim = c.node.getInt('hidden_size') ?? c.shape(2)?.[2] ?? null;
  const layout = c.node.getInt('layout', 0);
  const seq = xs ? (layout === 1 ? xs[1]! : xs[0]!) : null;
  const batch = xs ? (layout === 1 ? xs[0]! : xs[1]!) : null;
  const type = c.dtype(0);
  c.out(0, type, layout === 1 ? [batch, seq, dirs, hidden] : [seq, dirs, batch, hidden]);
  for (let i = 1; i < c.node.outputs.length; i++) c.out(i, type, layout === 1 ? [batch, dirs, hidden] : [dirs, batch, hidden]);
};

const RECURRENT_ATTRIBUTES: AttributeSchema = {
  ...attrs('activation_alpha', 'activation_beta', 'activations', 'clip', 'hidden_size'),
  direction: withDefault(ATTR.direction, 'forward'),
  layout: withDefault(ATTR.layout, 0),
};

/**
 * A recurrent layer of `gates` gates: W (1) and R (2) are weights, B (3) — and LSTM's peephole
 * P (7) — biases; `perElement` element-wise ops per output element (`why` says which).
 */
const recurrentOp = (type: string, gates: number, biases: readonly number[], perElement: number, why: string, own: AttributeSchema, reference: ReferenceKernel): OpDef =>
  defineOp({
    type,
    reference,
    attributes: { ...RECURRENT_ATTRIBUTES, ...own },
    shape: recurrent,
    cost: { weights: [1, 2], biases, macs: recurrentMacs(gates), ops: perOutput(perElement), opsNote: `${perElement} per output element (${why})` },
    weightInputs: [1, 2, 3],
  });

export const RECURRENT_OPS: readonly OpDef[] = [
  withFacets(recurrentOp('LSTM', 4, [3, 7], 34, '3 sigmoid, 2 tanh, bias adds, cell update', { input_forget: withDefault(ATTR.input_forget, 0) }, lstmRef), { sameAt13From: 10, ort: { float16: 'casts' } }),
  withFacets(recurrentOp('GRU', 3, [3], 26, '2 sigmoid, 1 tanh, bias adds, blend', { linear_before_reset: withDefault(ATTR.linear_before_reset, 0) }, gruRef), { sameAt13From: 10, ort: { float16: 'casts' } }),
  withFacets(recurrentOp('RNN', 1, [3], 7, 'bias adds, tanh', {}, rnnRef), { sameAt13From: 10, ort: { float16: 'casts' } }),
];
