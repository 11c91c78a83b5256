/**
 * fuse-bias-into-conv — folds `Conv → Add(per-channel constant)` into the Conv's bias, and the
 * same for ConvTranspose's bias and Gemm's C (so a following BatchNormalization can be folded
 * by fold-batchnorm: ConvTranspose → Add → BN becomes one ConvTranspose).
 *
 * Math: P(x; W, b) + v = P(x; W, b + v), with v broadcast along the output channel axis
 * (computed in float64, rounded once; a missing bias is 0).
 *  - Conv: W [M, C/group, k…], output channel axis 1, bias length M.
 *  - ConvTranspose: W [C_in, C_out/group, k…], output channel axis 1, bias length
 *    C_out = W.dims[1]·group.
 *  - Gemm: Y = alpha·A'·B' + beta·C of shape [rows, N], N = B.dims[transB ? 0 : 1]; v and C
 *    vary only along the columns (v of dims [N], [1,N], [1] or a scalar); the new C has dims [N].
 *
 * Preconditions:
 *  1. The Add has a Conv/ConvTranspose/Gemm output and a constant operand, in either order
 *     [operand-not-constant].
 *  2. The constant varies only along the channel axis: [C,1,1], [1,C,1,1], [1] or a scalar —
 *     never [C] on a 4-D output, which numpy broadcasting applies along the last (width) axis —
 *     and its rank does not exceed the output's [not-per-channel]; a Gemm's C, when present,
 *     is per column too [not-per-channel] and unscaled (beta = 1) [scaled-bias].
 *  3. Constant dtype = weight dtype, a float type [dtype-mismatch] [unsupported-dtype]; a Conv/
 *     ConvTranspose weight of rank ≥ 3 with a bias of C_out values, a Gemm B of rank 2
 *     [shape-mismatch]. (The rule is shared with fuse-affine-into-conv, whose constant / Conv
 *     case is [not-affine] and whose Mul by ±inf or Div by 0 is [non-finite-scale]; an Add never
 *     is either.)
 *  4. The producer's output feeds only this Add and is not a graph output
 *     [producer-output-used-elsewhere] [producer-output-is-graph-output].
 *  5. Weight and bias are constants used by no other node [weights-not-constant]
 *     [weight-shared] (option `cloneSharedWeights: true` copies them instead).
 *  6. No unknown attribute on the producer [unknown-attribute], none of the wrong type
 *     [bad-attribute].
 *  7. The folded bias fits the weight's type [folded-overflow] (past its largest value it would
 *     be written as ±inf where the model computes finite values).
 *
 * Known limits: MatMul → Add is fuse-matmul-add-into-gemm's; Mul/Div into ConvTranspose or Gemm
 * weights are not folded.
 */
import { WEIGHT_FOLD_OPTIONS, convAffineRule } from './conv-affine.js';
import { defineRulePass } from './rule.js';

export const fuseBiasIntoConv = defineRulePass({
  name: 'fuse-bias-into-conv',
  description: 'Fold Conv/ConvTranspose/Gemm followed by Add of a per-channel constant into the bias (Gemm C)',
  exact: true,
  options: WEIGHT_FOLD_OPTIONS,
  rules: [convAffineRule('conv+add', ['Add'], ['Conv', 'ConvTranspose', 'Gemm'])],
});
