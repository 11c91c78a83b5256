/** The shape of one kernel: evaluates a node from constant inputs, or declines with undefined. */
import type { Node, Tensor } from '@onnxkit/graph';

/**
 * `inputs[i]` is the constant value of `node.inputs[i]`, or null for an omitted optional input.
 * Returns one tensor per node output, or undefined when the op/dtype/attribute combination is
 * not covered. Throws KernelError only for genuinely invalid input.
 */
export type KernelFn = (node: Node, inputs: readonly (Tensor | null)[], opset: number) => Tensor[] | undefined;

export interface KernelEntry {
  /** What the kernel covers (dtypes, forms, exactness), shown by `SUPPORTED_KERNELS`. */
  readonly note: string;
  readonly fn: KernelFn;
}
