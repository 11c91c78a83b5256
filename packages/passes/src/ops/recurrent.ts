/**
 * Recurrent layers: LSTM, GRU, RNN.
 */
import type { Dim } from '@onnxkit/graph';
import type { ShapeRule } from '../analysis/inference-types.js';
import { ATTR, withDefault } from './attributes.js';
import { perOutput, recurrentMacs } from './cost.js';
import { defineOp, type OpDef } from './types.js';

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

const RECURRENT_ATTRIBUTES = { direction: withDefault(ATTR.direction, 'forward'), hidden_size: ATTR.hidden_size, layout: withDefault(ATTR.layout, 0) };

export const RECURRENT_OPS: readonly OpDef[] = [
  defineOp({
    type: 'LSTM',
    attributes: RECURRENT_ATTRIBUTES,
    shape: recurrent,
    cost: { weights: [1, 2], biases: [3, 7], macs: recurrentMacs(4), ops: perOutput(34), opsNote: '34 per output element (3 sigmoid, 2 tanh, bias adds, cell update)' },
    weightInputs: [1, 2, 3],
  }),
  defineOp({
    type: 'GRU',
    attributes: RECURRENT_ATTRIBUTES,
    shape: recurrent,
    cost: { weights: [1, 2], biases: [3], macs: recurrentMacs(3), ops: perOutput(26), opsNote: '26 per output element (2 sigmoid, 1 tanh, bias adds, blend)' },
    weightInputs: [1, 2, 3],
  }),
  defineOp({
    type: 'RNN',
    attributes: RECURRENT_ATTRIBUTES,
    shape: recurrent,
    cost: { weights: [1, 2], biases: [3], macs: recurrentMacs(1), ops: perOutput(7), opsNote: '7 per output element (bias adds, tanh)' },
    weightInputs: [1, 2, 3],
  }),
];
