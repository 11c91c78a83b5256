/**
 * The value and kernel types of the float64 reference evaluator, declared with the op homes
 * (ops/types.ts: `OpDef.reference`) and re-exported here for the evaluator's own modules.
 *
 * A RefTensor keeps its ONNX element type but holds its elements widened: every float and every
 * integer type narrower than 64 bits as a Float64Array (exact for all of them), int64/uint64 as a
 * BigInt64Array (never narrowed), bool as booleans and string as strings. A ReferenceKernel
 * returns one RefTensor per node output and throws ReferenceUnsupportedError for a form it does
 * not cover, never guessing.
 */
export type { RefTensor, ReferenceKernel } from '../ops/types.js';
