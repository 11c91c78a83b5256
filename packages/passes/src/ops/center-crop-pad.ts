/**
 * CenterCropPad (opset 18): crops or zero-pads each of `axes` (default: every axis) of X to the
 * length given in `shape` (input 1), centred — vision preprocessing exported as one op.
 *
 * - Shapes: X's shape with each listed axis set to its `shape` entry (known when `shape` is
 *   constant), X's type.
 * - Reference: along an axis of length n cut to m < n, the slice starting at ⌊(n − m)/2⌋; padded to
 *   m > n, ⌊(m − n)/2⌋ zeros before and the rest after — the spec's function body, run as Slice's
 *   and Pad's reference kernels (sliceRef, padRef); onnxruntime expands it the same way: checked
 *   in test/ops/center-crop-pad.test.ts.
 * - Cost: data movement. No kernel (a copy; its input is an activation). Not float16-safe:
 *   onnxruntime 1.30 expands it (a function) and runs its Pad in float32 between Casts, its Slice
 *   in float16 (test/ops/added-ops-float16.test.ts).
 */
import { DataType, type Dim } from '@onnxkit/graph';
import type { ShapeRule } from '../analysis/inference-types.js';
import { ReferenceInputError } from '../kernels/reference/errors.js';
import { padRef, sliceRef } from '../kernels/reference/shape.js';
import { copyData, intsOf, normAxis as refAxis } from '../kernels/reference/tensor.js';
import { ATTR } from './attributes.js';
import { normAxis } from './axes.js';
import { nonNegativeDim } from './shape-helpers.js';
import { defineOp, type OpDef, type RefTensor, type ReferenceKernel } from './types.js';

const shape: ShapeRule = (c) => {
  const xs = c.shape(0);
  const type = c.dtype(0);
  if (!xs) return c.out(0, type, null);
  const axes = c.node.getInts('axes') ?? xs.map((_, i) => i);
  const target = c.ints(1);
  const out: Dim[] = [...xs];
  for (let i = 0; i < axes.length; i++) {
    const a = normAxis(axes[i]!, xs.length);
    if (a === undefined) {
      c.mismatch(`axis ${axes[i]} is out of range for rank ${xs.length}`);
      return c.out(0, type, null);
    }
    out[a] = nonNegativeDim(c, target?.[i] ?? null, `shape's entry for axis ${axes[i]}`);
  }
  if (target && target.length !== axes.length) c.mismatch(`shape has ${target.length} values for ${axes.length} axes`);
  c.out(0, type, out);
};

const reference: ReferenceKernel = (node, inputs) => {
  const [x, shapeT] = inputs;
  if (!x || !shapeT) throw new ReferenceInputError(node, 'input_data and shape are required');
  const dims = x.dims;
  const r = dims.length;
  const target = intsOf(node, shapeT, 'shape');
  if (target.some((d) => d < 0)) throw new ReferenceInputError(node, `shape [${target.join(',')}] holds a negative length`);
  const axes = (node.getInts('axes') ?? dims.map((_, i) => i)).map((a) => refAxis(node, a, r));
  if (target.length !== axes.length) throw new ReferenceInputError(node, `shape has ${target.length} values for ${axes.length} axes`);
  const out = [...dims];
  axes.forEach((a, i) => (out[a] = target[i]!));
  // The spec's function body: the axes cut short are sliced from ⌊(n − m)/2⌋, those lengthened
  // zero-padded by ⌊(m − n)/2⌋ before and the rest after (Slice's and Pad's own kernels).
  const starts = dims.map((n, a) => (out[a]! < n ? Math.floor((n - out[a]!) / 2) : 0));
  const ends = dims.map((n, a) => starts[a]! + Math.min(n, out[a]!));
  const pads = [...dims.map((n, a) => (out[a]! > n ? Math.floor((out[a]! - n) / 2) : 0)), ...dims.map((n, a) => (out[a]! > n ? out[a]! - n - Math.floor((out[a]! - n) / 2) : 0))];
  const ints = (v: number[]): RefTensor => ({ dtype: DataType.INT64, dims: [v.length], data: Float64Array.from(v) });
  const cropped = starts.some((s, a) => s > 0 || ends[a]! < dims[a]!) ? sliceRef(node, [x, ints(starts), ints(ends)], 18)[0]! : x;
  return pads.some((p) => p > 0) ? padRef(node, [cropped, ints(pads)], 18) : [cropped === x ? { dtype: x.dtype, dims: [...dims], data: copyData(x.data) } : cropped];
};

export const CenterCropPad: OpDef = defineOp({
  type: 'CenterCropPad',
  attributes: { axes: ATTR.axes },
  shape,
  cost: { opsNote: 'data movement' },
  reference,
});
