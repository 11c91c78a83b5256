/**
 * MaxUnpool (opset 9, 11): the partial inverse of MaxPool — X [N, C, d…] (a MaxPool's output)
 * written at the positions I (its Indices output, flat over the whole [N, C, D…] tensor), zeros
 * elsewhere; SegNet-style decoders export it.
 *
 * - Shapes: the third input `output_shape` when given (its values when constant), else
 *   [N, C, D…] with D = (d − 1)·stride − pad_begin − pad_end + kernel per spatial axis, X's type.
 * - Reference (float64): the spec's reference implementation — scatter into the inferred shape
 *   above, then place that at the start of an `output_shape` tensor, zero elsewhere. onnxruntime
 *   1.30 scatters the flat indices into `output_shape`'s own layout instead, so the two differ when
 *   output_shape is not the inferred shape (the corpus's test_maxunpool_export_with_output_shape
 *   fails in onnxruntime: packages/runtime/test/corpus-exceptions.json); PyTorch's MaxUnpool
 *   indices are per plane, which its ONNX export turns into whole-tensor ones.
 * - Cost: data movement (a zero fill and a scatter): no arithmetic.
 * - No kernel: X and I are activations. Not float16-safe: onnxruntime 1.30 runs it in float32
 *   between Casts (test/ops/added-ops-float16.test.ts).
 */
import type { Dim } from '@onnxkit/graph';
import type { ShapeRule } from '../analysis/inference-types.js';
import { ReferenceInputError } from '../kernels/reference/errors.js';
import { allocF64, intsOf, sizeOf, stridedOffsets, stridesOf } from '../kernels/reference/tensor.js';
import { ATTR } from './attributes.js';
import { nonNegativeDim, windowParams } from './shape-helpers.js';
import { defineOp, type OpDef, type ReferenceKernel } from './types.js';

const shape: ShapeRule = (c) => {
  const xs = c.shape(0);
  const type = c.dtype(0);
  if (c.has(2)) {
    const given = c.ints(2);
    return c.out(0, type, given ? given.map((d) => nonNegativeDim(c, d, 'an output_shape entry')) : c.unknownDims(c.shape(2)?.[0] ?? undefined));
  }
  if (!xs) return c.out(0, type, null);
  const spatial = xs.length - 2;
  if (spatial < 1) {
    c.mismatch(`X has rank ${xs.length}; MaxUnpool needs [N, C, d…]`);
    return c.out(0, type, null);
  }
  const kernel = c.node.getInts('kernel_shape');
  if (!kernel || kernel.length !== spatial) {
    c.mismatch(`attribute 'kernel_shape' must hold ${spatial} values, one per spatial axis`);
    return c.out(0, type, [xs[0]!, xs[1]!, ...new Array<Dim>(spatial).fill(null)]);
  }
  const { strides, pads } = windowParams(c.node, spatial, kernel);
  const alg = c.alg;
  c.out(0, type, [xs[0]!, xs[1]!, ...kernel.map((k, i) => (xs[2 + i] === null ? null : nonNegativeDim(c, alg.add(alg.mul(alg.sub(xs[2 + i]!, 1), strides[i] ?? 1), k - (pads[i] ?? 0) - (pads[i + spatial] ?? 0)), `the unpooled extent of spatial axis ${i}`)))]);
};

const reference: ReferenceKernel = (node, inputs) => {
  const [x, ind, outShape] = inputs;
  if (!x || !ind || !(x.data instanceof Float64Array)) throw new ReferenceInputError(node, 'X must be a float tensor');
  const spatial = x.dims.length - 2;
  const kernel = node.getInts('kernel_shape');
  if (!kernel || kernel.length !== spatial) throw new ReferenceInputError(node, `kernel_shape must hold ${spatial} values`);
  const { strides, pads } = windowParams(node, spatial, kernel);
  const inferred = [x.dims[0]!, x.dims[1]!, ...kernel.map((k, i) => (x.dims[2 + i]! - 1) * strides[i]! - pads[i]! - pads[i + spatial]! + k)];
  if (inferred.some((d) => d < 0)) throw new ReferenceInputError(node, `the unpooled shape [${inferred.join(',')}] has a negative dim`);
  const dims = outShape ? intsOf(node, outShape, 'output_shape') : inferred;
  if (dims.length !== inferred.length || dims.some((d, a) => d < inferred[a]!)) throw new ReferenceInputError(node, `output_shape [${dims.join(',')}] is smaller than the unpooled shape [${inferred.join(',')}]`);
  const total = sizeOf(inferred);
  const is = intsOf(node, ind, 'I');
  if (is.length !== x.data.length) throw new ReferenceInputError(node, `I has ${is.length} elements, X ${x.data.length}`);
  // Index `at` of the unpooled block, which sits at the start of each axis of output_shape (the
  // same tensor when equal): its offset there, by output_shape's strides.
  const offsets = stridedOffsets(inferred, stridesOf(dims), allocF64(total));
  const y = allocF64(sizeOf(dims));
  for (let i = 0; i < is.length; i++) {
    const at = is[i]!;
    if (!(at >= 0 && at < total)) throw new ReferenceInputError(node, `index ${at} is outside the ${total} unpooled elements`);
    y[offsets[at]!] = x.data[i]!;
  }
  return [{ dtype: x.dtype, dims, data: y }];
};

export const MaxUnpool: OpDef = defineOp({
  type: 'MaxUnpool',
  attributes: { kernel_shape: ATTR.kernel_shape, pads: ATTR.pads, strides: ATTR.strides },
  shape,
  cost: { opsNote: 'data movement (a zero fill and a scatter)' },
  reference,
  sameAt13From: 10, // MaxUnpool-11 changed only the documentation of MaxUnpool-9 (strides' default)
});
