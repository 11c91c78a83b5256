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
 *     [not-per-channel]; its dtype is the weight's float dtype [dtype-mismatch], weight and bias
 *     a float type [unsupported-dtype], the weight of rank ≥ 3 [shape-mismatch].
 *  3. The Conv output feeds only this op and is not a graph output
 *     [producer-output-used-elsewhere] [producer-output-is-graph-output].
 *  4. Conv weight and bias are constants used by no other node [weights-not-constant]
 *     [weight-shared] (option `cloneSharedWeights: true` copies them instead).
 *  5. No unknown attribute [unknown-attribute], none of the wrong type [bad-attribute].
 *  6. A Mul's constant has no ±inf and a Div's no ±0 [non-finite-scale]: y·inf is ±inf per
 *     element (NaN only where y = 0), but W·inf makes the Conv add ±inf terms of both signs,
 *     NaN almost everywhere. (A NaN constant gives NaN either way and is folded.)
 *  7. The folded weight W·v (W/v) and bias fit the weight's type [folded-overflow]: past its
 *     largest value they would be written as ±inf where the model computes finite values.
 *  (The rule is shared with fuse-bias-into-conv, whose Gemm case declines a scaled C
 *  [scaled-bias]; a Conv never does.)
 *
 * Known limits: Mul/Div by a constant are rounded differently from the original (one rounding
 * of W·v instead of a rounding of the product at run time): equal within fp32 tolerance, not bit
 * for bit. ConvTranspose and Gemm are not handled here (their Add is fuse-bias-into-conv's).
 */
import { WEIGHT_FOLD_OPTIONS, convAffineRule } from './conv-affine.js';
import { defineRulePass } from './rule.js';

export const fuseAffineIntoConv = defineRulePass({
  name: 'fuse-affine-into-conv',
  description: 'Fold Conv followed by a per-channel Mul/Div/Add/Sub constant into the Conv weight and bias',
  exact: true,
  options: WEIGHT_FOLD_OPTIONS,
  rules: [convAffineRule('conv+affine', ['Mul', 'Div', 'Add', 'Sub'])],
});
