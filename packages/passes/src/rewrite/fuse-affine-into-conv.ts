/**
 * fuse-affine-into-conv — folds a per-channel affine op after a Conv into its weight and bias.
 *
 * Math (per output channel c, float64, rounded once; b = 0 when the Conv has no bias):
 *   Conv·v  → W'=W·v_c, b'=b·v_c        Conv/v → W'=W/v_c, b'=b/v_c
 *   Conv+v  → b'=b+v_c                  Conv−v → b'=b−v_c        v−Conv → W'=−W, b'=v_c−b
 * Chains (Conv → Mul → Add, the BatchNorm-as-affine form some exporters emit) fold one op per
 * step; the pipeline's fixed point folds the whole chain.
 *
 * Preconditions:
 *  1. The op is Mul, Div (Conv as dividend), Add or Sub with one Conv output and one constant
 *     operand [operand-not-constant] [not-affine].
 *  2. The constant varies only along the channel axis and does not raise the rank
 *     [not-per-channel]; its dtype is the weight's float dtype [dtype-mismatch].
 *  3. The Conv output feeds only this op and is not a graph output
 *     [producer-output-used-elsewhere] [producer-output-is-graph-output].
 *  4. Conv weight and bias are constants used by no other node [weights-not-constant]
 *     [weight-shared] (option `cloneSharedWeights: true` copies them instead).
 *  5. No unknown attribute [unknown-attribute], none of the wrong type [bad-attribute].
 *
 * Known limits: Mul/Div by a constant are rounded differently from the original (one rounding
 * of W·v instead of a rounding of the product at run time): equal within fp32 tolerance, not bit
 * for bit. ConvTranspose is not handled.
 */
import { definePass } from './manager.js';
import type { RewriteSession } from './session.js';
import { foldIntoConv } from './conv-affine.js';

export const fuseAffineIntoConv = definePass({
  name: 'fuse-affine-into-conv',
  description: 'Fold Conv followed by a per-channel Mul/Div/Add/Sub constant into the Conv weight and bias',
  exact: true,
  run(s: RewriteSession) {
    for (const g of s.liveGraphs()) {
      for (const n of g) {
        if (s.stopped) return;
        if (n.opType !== 'Mul' && n.opType !== 'Div' && n.opType !== 'Add' && n.opType !== 'Sub') continue;
        const r = foldIntoConv(s, g, n, ['Mul', 'Div', 'Add', 'Sub'], 'conv+');
        if (r !== undefined && r !== 'no-match') s.decline(n, r[0], r[1]);
      }
    }
  },
});
