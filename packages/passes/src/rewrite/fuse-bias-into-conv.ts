/**
 * fuse-bias-into-conv — folds `Conv → Add(per-channel constant)` into the Conv's bias.
 *
 * Math: Conv(x; W, b) + v = Conv(x; W, b + v), with v broadcast along the channel axis
 * (computed in float64, rounded once; a missing bias is 0).
 *
 * Preconditions:
 *  1. The Add has a Conv output and a constant operand, in either order [operand-not-constant].
 *  2. The constant varies only along the channel axis: [C,1,1], [1,C,1,1], [1] or a scalar —
 *     never [C] on a 4-D output, which numpy broadcasting applies along the last (width) axis —
 *     and its rank does not exceed the output's [not-per-channel].
 *  3. Constant dtype = weight dtype, a float type [dtype-mismatch] [unsupported-dtype].
 *  4. The Conv output feeds only this Add and is not a graph output
 *     [producer-output-used-elsewhere] [producer-output-is-graph-output].
 *  5. Conv weight and bias are constants used by no other node [weights-not-constant]
 *     [weight-shared] (option `cloneSharedWeights: true` copies them instead).
 *  6. No unknown Conv attribute [unknown-attribute], none of the wrong type [bad-attribute].
 *
 * Known limits: ConvTranspose and Gemm biases are not handled here (see fuse-matmul-add-into-gemm).
 */
import { definePass } from './manager.js';
import type { RewriteSession } from './session.js';
import { foldIntoConv } from './conv-affine.js';

export const fuseBiasIntoConv = definePass({
  name: 'fuse-bias-into-conv',
  description: 'Fold Conv followed by Add of a per-channel constant into the Conv bias',
  exact: true,
  run(s: RewriteSession) {
    for (const g of s.liveGraphs()) {
      for (const n of g) {
        if (s.stopped) return;
        if (n.opType !== 'Add') continue;
        const r = foldIntoConv(s, g, n, ['Add'], 'conv+');
        if (r !== undefined && r !== 'no-match') s.decline(n, r[0], r[1]);
      }
    }
  },
});
