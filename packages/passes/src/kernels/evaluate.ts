/**
 * evaluateNode: pure-TypeScript evaluation of a default-domain node whose inputs are all
 * constant. One declarative table maps op types to kernels; `SUPPORTED_KERNELS` exposes what
 * each covers. Used by shape inference (constant shape sub-computations) and by the
 * fold-constants rewrite.
 */
import type { Node, Tensor } from '@onnxkit/graph';
import { ELEMENTWISE_KERNELS } from './elementwise.js';
import { KernelError, KernelFault } from './errors.js';
import { REDUCE_KERNELS } from './reduce.js';
import { SHAPE_KERNELS } from './shape-ops.js';
import type { KernelEntry } from './types.js';

const KERNELS: Readonly<Record<string, KernelEntry>> = { ...SHAPE_KERNELS, ...ELEMENTWISE_KERNELS, ...REDUCE_KERNELS };

/** op type → what its kernel covers (dtypes, forms, exactness). */
export const SUPPORTED_KERNELS: Readonly<Record<string, string>> = Object.freeze(
  Object.fromEntries(Object.entries(KERNELS).map(([op, k]) => [op, k.note])),
);

/**
 * Evaluates `node` from the constant values of its inputs (`inputs[i]` for `node.inputs[i]`,
 * null for an omitted optional input) under the default-domain `opset`.
 *
 * Returns one tensor per node output, or `undefined` when the op, a dtype or an attribute form
 * is not covered (including a null where a required input should be, custom domains and
 * attributes that refer to an enclosing function). Never returns a partial result. Throws
 * KernelError only when the input is genuinely invalid (shapes that do not broadcast, an index
 * out of range, an integer division by zero...).
 */
export function evaluateNode(node: Node, inputs: readonly (Tensor | null)[], opset: number): Tensor[] | undefined {
  if (!node.isOnnxDomain) return undefined;
  if (!Object.prototype.hasOwnProperty.call(KERNELS, node.opType)) return undefined;
  for (const a of node.attributes.values()) if (a.isRef) return undefined;
  const kernel = KERNELS[node.opType]!;
  let out: Tensor[] | undefined;
  try {
    out = kernel.fn(node, inputs, opset);
  } catch (e) {
    if (e instanceof KernelFault) throw new KernelError(node, e.message);
    throw e;
  }
  if (out === undefined) return undefined;
  // A node may declare fewer outputs than the kernel computes (e.g. Dropout without its mask).
  return out.length > node.outputs.length && node.outputs.length > 0 ? out.slice(0, node.outputs.length) : out;
}
