/**
 * CenterCropPad (opset 18): crops or zero-pads each of `axes` (default: every axis) of X to the
 * length given in `shape` (input 1), centred — vision preprocessing exported as one op.
 *
 * - Shapes: X's shape with each listed axis set to its `shape` entry (known when `shape` is
 *   constant), X's type.
 * - Reference: along an axis of length n cut to m < n, the slice starting at ⌊(n − m)/2⌋; padded to
 *   m > n, ⌊(m − n)/2⌋ zeros before and the rest after (the spec's function body; onnxruntime
 *   expands it the same way: checked in test/ops/center-crop-pad.test.ts).
 * - Cost: data movement. No kernel (a copy; its input is an activation). Not float16-safe:
 *   onnxruntime 1.30 expands it (a function) and runs its Pad in float32 between Casts, its Slice
 *   in float16 (test/ops/added-ops-float16.test.ts).
 */
import type { Dim } from '@onnxkit/graph';
import type { ShapeRule } from '../analysis/inference-types.js';
import { ReferenceInputError } from '../kernels/reference/errors.js';
import { allocLike, intsOf, normAxis as refAxis } from '../kernels/reference/tensor.js';
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
  // Per axis, the input index read at output index 0 (negative when padding before).
  const shift = dims.map((n, a) => (out[a]! < n ? Math.floor((n - out[a]!) / 2) : -Math.floor((out[a]! - n) / 2)));
  const total = out.reduce((p, q) => p * q, 1);
  const data = allocLike(x.data, total) as { [i: number]: unknown };
  const src = x.data as unknown as { readonly [i: number]: unknown };
  const zero = x.data instanceof BigInt64Array ? 0n : x.data instanceof Float64Array ? 0 : typeof src[0] === 'string' ? '' : false;
  const idx = new Array<number>(r);
  for (let o = 0; o < total; o++) {
    let rest = o;
    for (let a = r - 1; a >= 0; a--) {
      idx[a] = rest % out[a]!;
      rest = Math.floor(rest / out[a]!);
    }
    let off = 0;
    let inside = true;
    for (let a = 0; a < r && inside; a++) {
      const i = idx[a]! + shift[a]!;
      inside = i >= 0 && i < dims[a]!;
      off = off * dims[a]! + i;
    }
    data[o] = inside ? src[off] : zero;
  }
  const y: RefTensor = { dtype: x.dtype, dims: out, data: data as unknown as RefTensor['data'] };
  return [y];
};

export const CenterCropPad: OpDef = defineOp({
  type: 'CenterCropPad',
  attributes: { axes: ATTR.axes },
  shape,
  cost: { opsNote: 'data movement' },
  reference,
});
