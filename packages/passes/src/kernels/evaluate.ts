/**
 * evaluateNode: pure-TypeScript evaluation of a default-domain node whose inputs are all
 * constant. Each op declares its kernel in its module (ops/); the table here is derived from the
 * registry, and `SUPPORTED_KERNELS` exposes what each covers. Used by shape inference (constant shape sub-computations) and by the
 * fold-constants rewrite.
 */
import type { Node, Tensor } from '@onnxkit/graph';
import { attributeProblem } from '../common/attribute-schema.js';
import { lookup, opTable } from '../common/op-table.js';
import { KERNEL_FACET as KERNELS } from '../ops/registry.js';
import { KernelBudgetError, KernelBudgetFault, KernelError, KernelFault } from './errors.js';
import { withAllocationLimit } from './tensor-data.js';

/** op type → what its kernel covers (dtypes, forms, exactness). */
export const SUPPORTED_KERNELS: Readonly<Record<string, string>> = opTable(Object.entries(KERNELS).map(([op, k]) => [op, k.note] as const));

export interface EvaluateOptions {
  /**
   * The largest array, in bytes, the evaluation may allocate — its outputs and any scratch
   * array of the same size. Kernels size their outputs from the inputs before allocating, so
   * a node over the limit is refused (KernelBudgetError) without allocating. Default: no limit.
   */
  readonly maxOutputBytes?: number;
}

/**
 * Evaluates `node` from the constant values of its inputs (`inputs[i]` for `node.inputs[i]`,
 * null for an omitted optional input) under the default-domain `opset`.
 *
 * Returns one tensor per node output, or `undefined` when the op, a dtype or an attribute form
 * is not covered (including a null where a required input should be, custom domains and
 * attributes that refer to an enclosing function). Never returns a partial result. Throws
 * KernelError when the input is genuinely invalid (shapes that do not broadcast, an index out of
 * range, an integer division by zero, an attribute of the wrong type…) and KernelBudgetError when
 * an array would exceed `options.maxOutputBytes`.
 */
export function evaluateNode(node: Node, inputs: readonly (Tensor | null)[], opset: number, options: EvaluateOptions = {}): Tensor[] | undefined {
  if (!node.isOnnxDomain) return undefined;
  const kernel = lookup(KERNELS, node.opType);
  if (kernel === undefined) return undefined;
  for (const a of node.attributes.values()) if (a.isRef) return undefined;
  const bad = attributeProblem(node);
  if (bad !== undefined) throw new KernelError(node, bad, 'the node is malformed: fix or remove the attribute', 'KERNEL_BAD_ATTRIBUTE');
  const limit = options.maxOutputBytes ?? Infinity;
  let out: Tensor[] | undefined;
  try {
    out = withAllocationLimit(limit, () => kernel.fn(node, inputs, opset));
  } catch (e) {
    if (e instanceof KernelBudgetFault) throw new KernelBudgetError(node, e.bytes, e.limit);
    if (e instanceof KernelFault) throw new KernelError(node, e.message);
    throw e;
  }
  if (out === undefined) return undefined;
  // A node may declare fewer outputs than the kernel computes (e.g. Dropout without its mask).
  return out.length > node.outputs.length && node.outputs.length > 0 ? out.slice(0, node.outputs.length) : out;
}
