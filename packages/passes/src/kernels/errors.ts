/** The typed error a kernel raises when a node's constant inputs are genuinely invalid. */
import { OnnxkitError, type Node } from '@onnxkit/graph';

/**
 * Invalid input to a kernel: shapes that do not broadcast, an index out of range, an integer
 * division by zero. "Not supported" is never an error: kernels return `undefined` for that.
 */
export class KernelError extends OnnxkitError {
  /** The node being evaluated, described as in `Node.describe()`. */
  readonly node: string;

  constructor(node: Node, message: string, hint?: string) {
    super(`${node.describe()}: ${message}`, { code: 'KERNEL_INVALID_INPUT', hint: hint ?? 'check the model: ONNX Runtime would reject this node too' });
    this.node = node.describe();
  }
}

/**
 * Internal: raised by element functions that do not know their node (integer division by
 * zero); `evaluateNode` turns it into a KernelError naming the node.
 */
export class KernelFault extends Error {}
