/**
 * The value and kernel types of the float64 reference evaluator.
 *
 * A RefTensor keeps its ONNX element type but holds its elements widened: every float and every
 * integer type narrower than 64 bits as a Float64Array (exact for all of them), int64/uint64 as a
 * BigInt64Array (never narrowed), bool as booleans and string as strings.
 */
import type { DataType, Node } from '@onnxkit/graph';

export interface RefTensor {
  readonly dtype: DataType;
  readonly dims: readonly number[];
  readonly data: Float64Array | BigInt64Array | readonly boolean[] | readonly string[];
}

/**
 * Evaluates one node in float64. `inputs[i]` is the value of `node.inputs[i]` (null when the
 * optional input is omitted). Returns one RefTensor per node output (omitted trailing outputs may
 * be left out). Throws ReferenceUnsupportedError for a form it does not cover, never guesses.
 */
export type ReferenceKernel = (node: Node, inputs: readonly (RefTensor | null)[], opset: number) => RefTensor[];
