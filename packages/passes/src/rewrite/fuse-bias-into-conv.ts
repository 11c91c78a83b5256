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
 *  3. Constant dtype = weight dtype, a float type [dtype-mismatch] [unsupported-dtype]; the
 *     weight of rank ≥ 3 [shape-mismatch]. (The rule is shared with fuse-affine-into-conv, whose
 *     constant / Conv case is [not-affine]; an Add never is.)
 *  4. The Conv output feeds only this Add and is not a graph output
 *     [producer-output-used-elsewhere] [producer-output-is-graph-output].
 *  5. Conv weight and bias are constants used by no other node [weights-not-constant]
 *     [weight-shared] (option `cloneSharedWeights: true` copies them instead).
 *  6. No unknown Conv attribute [unknown-attribute], none of the wrong type [bad-attribute].
 *
 * Known limits: ConvTranspose and Gemm biases are not handled here (see fuse-matmul-add-into-gemm).
 */
import { WEIGHT_FOLD_OPTIONS, convAffineRule } from './conv-affine.js';
import { defineRulePass } from './rule.js';

export const fuseBiasIntoConv = defineRulePass({
  name: 'fuse-bias-into-conv',
  description: 'Fold Conv followed by Add of a per-channel constant into the Conv bias',
  exact: true,
  options: WEIGHT_FOLD_OPTIONS,
  rules: [convAffineRule('conv+add', ['Add'])],
});
