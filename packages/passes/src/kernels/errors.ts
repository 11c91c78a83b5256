/** The typed errors a kernel raises: invalid constant input, and an output over the byte limit. */
import { OnnxkitError, type Node } from '@onnxkit/graph';

/**
 * Invalid input to a kernel: shapes that do not broadcast, an index out of range, an integer
 * division by zero, an attribute of the wrong type. "Not supported" is never an error: kernels
 * return `undefined` for that.
 */
export class KernelError extends OnnxkitError {
  /** The node being evaluated, described as in `Node.describe()`. */
  readonly node: string;

  constructor(node: Node, message: string, hint?: string, code = 'KERNEL_INVALID_INPUT') {
    super(`${node.describe()}: ${message}`, { code, hint: hint ?? 'check the model: ONNX Runtime would reject this node too' });
    this.node = node.describe();
  }
}

/**
 * Evaluating the node would allocate an array larger than the caller's `maxOutputBytes`. Raised
 * before the allocation (kernels size their outputs from the inputs first), so a refused
 * evaluation costs no memory. Not an error in the model: the caller chose the limit.
 */
export class KernelBudgetError extends OnnxkitError {
  /** The node being evaluated, described as in `Node.describe()`. */
  readonly node: string;
  /** Bytes the refused allocation would have taken (may exceed 2^53 for absurd shapes). */
  readonly bytes: number;
  /** The limit it exceeds. */
  readonly limit: number;

  constructor(node: Node, bytes: number, limit: number) {
    super(`${node.describe()}: evaluating it would allocate ${bytes} bytes, over the limit of ${limit}`, {
      code: 'KERNEL_BUDGET_EXCEEDED',
      hint: 'raise the limit (e.g. fold-constants maxTensorBytes) if a tensor that large is really wanted',
    });
    this.node = node.describe();
    this.bytes = bytes;
    this.limit = limit;
  }
}

/**
 * Internal: raised by element functions that do not know their node (integer division by
 * zero); `evaluateNode` turns it into a KernelError naming the node.
 */
export class KernelFault extends Error {}

/** Internal: an allocation over the limit; `evaluateNode` turns it into a KernelBudgetError. */
export class KernelBudgetFault extends Error {
  constructor(
    readonly bytes: number,
    readonly limit: number,
  ) {
    super(`allocation of ${bytes} bytes over the limit of ${limit}`);
  }
}
