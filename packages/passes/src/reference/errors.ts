/** Typed errors of the float64 reference evaluator: what it lacks, what it cannot afford, bad input. */
import { OnnxkitError, type Node } from '@onnxkit/graph';

/**
 * The reference has no kernel for this op (or for this form of it: a dtype, an attribute value,
 * a custom domain). The evaluator stops here rather than guess; callers fall back to another rule.
 */
export class ReferenceUnsupportedError extends OnnxkitError {
  /** `Node.describe()` of the node it stopped at. */
  readonly node: string;
  /** The op type (with its domain when not the default one). */
  readonly op: string;

  constructor(node: Node, what?: string) {
    const op = node.isOnnxDomain ? node.opType : `${node.domain}::${node.opType}`;
    super(`the float64 reference cannot evaluate ${node.describe()}: ${what ?? `no reference kernel for ${op}`}`, {
      code: 'REFERENCE_UNSUPPORTED',
      hint: 'the reference only covers the ops listed in REFERENCE_OPS; verification falls back to the fixed tolerance',
    });
    this.node = node.describe();
    this.op = op;
  }
}

/** A tensor the reference would have to hold exceeds the memory limit. */
export class ReferenceMemoryError extends OnnxkitError {
  readonly node: string;
  readonly tensor: string;
  readonly bytes: number;
  readonly limit: number;

  constructor(node: Node, tensor: string, bytes: number, live: number, limit: number) {
    super(`the float64 reference ran out of memory at ${node.describe()}: output '${tensor}' needs ${bytes} bytes with ${live} bytes live, over the limit of ${limit}`, {
      code: 'REFERENCE_MEMORY_LIMIT',
      hint: 'raise the reference memory limit (memoryLimitBytes) or verify with a smaller input',
    });
    this.node = node.describe();
    this.tensor = tensor;
    this.bytes = bytes;
    this.limit = limit;
  }
}

/** Invalid input to a reference kernel (shapes that do not broadcast, an index out of range…). */
export class ReferenceInputError extends OnnxkitError {
  readonly node: string;

  constructor(node: Node, message: string) {
    super(`the float64 reference cannot evaluate ${node.describe()}: ${message}`, {
      code: 'REFERENCE_INVALID_INPUT',
      hint: 'check the model and its inputs: onnxruntime would reject this node too',
    });
    this.node = node.describe();
  }
}
