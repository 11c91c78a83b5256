/**
 * AffineGrid (opset 20): the sampling grid of a spatial transformer — the affine maps theta
 * applied to the normalised coordinates of an output of `size`; GridSample reads it.
 *
 * - Shapes: theta [N, 2, 3] with size (input 1) = [N, C, H, W] → [N, H, W, 2]; theta [N, 3, 4]
 *   with size [N, C, D, H, W] → [N, D, H, W, 3]; theta's type.
 * - Reference (float64): the base coordinate along an axis of n points is −1 + (2i + 1)/n, or
 *   −1 + 2i/(n − 1) with align_corners (−1 for n = 1, as the spec's reference); each grid point is
 *   theta · (x, y[, z], 1), x along W, y along H, z along D.
 * - Cost: r MACs per output element (r = 2 or 3 spatial axes: a row of theta times the point)
 *   plus 1 add (the translation); the base grid is not counted.
 * - No kernel: theta comes from a localisation network in a spatial transformer. Not
 *   float16-safe: onnxruntime 1.30 runs it in float32 between Casts
 *   (test/ops/added-ops-float16.test.ts).
 */
import type { Dim } from '@onnxkit/graph';
import type { ShapeRule } from '../analysis/inference-types.js';
import { ReferenceInputError } from '../kernels/reference/errors.js';
import { allocF64, intsOf, sizeOf } from '../kernels/reference/tensor.js';
import { ATTR, withDefault } from './attributes.js';
import { perOutput, type CostContext, type Factors } from './cost.js';
import { mergeDim, nonNegativeDim } from './shape-helpers.js';
import { defineOp, type OpDef, type ReferenceKernel } from './types.js';

const shape: ShapeRule = (c) => {
  const ts = c.shape(0);
  const type = c.dtype(0);
  const size = c.ints(1);
  const rank = size?.length ?? c.shape(1)?.[0] ?? null;
  if (rank !== null && rank !== 4 && rank !== 5) {
    c.mismatch(`size has ${String(rank)} values; it must be [N, C, H, W] or [N, C, D, H, W]`);
    return c.out(0, type, null);
  }
  const r = typeof rank === 'number' ? rank - 2 : ts && typeof ts[1] === 'number' ? ts[1] : null;
  if (r !== 2 && r !== 3) return c.out(0, type, null);
  if (ts && ((typeof ts[1] === 'number' && ts[1] !== r) || (typeof ts[2] === 'number' && ts[2] !== r + 1))) c.mismatch(`theta is [${ts.map((d) => d ?? '?').join(', ')}]; it must be [N, ${r}, ${r + 1}] for ${r} spatial axes`);
  const batch = mergeDim(c, ts?.[0] ?? null, size?.[0] ?? null, 'batch of theta and size');
  const spatial: Dim[] = size ? size.slice(2).map((d) => nonNegativeDim(c, d, 'a size entry')) : new Array<Dim>(r).fill(null);
  c.out(0, type, [batch, ...spatial, r]);
};

/** r MACs per output element: the output dims times r. */
const macs = (c: CostContext): Factors => {
  const out = c.outputShapes[0];
  if (!out || out.length < 4) return { unknown: 'output shape unknown' };
  return [...out, out[out.length - 1]!];
};

const reference: ReferenceKernel = (node, inputs) => {
  const [theta, sizeT] = inputs;
  if (!theta || !(theta.data instanceof Float64Array) || !sizeT) throw new ReferenceInputError(node, 'theta (a float tensor) and size are required');
  const size = intsOf(node, sizeT, 'size');
  const r = size.length - 2;
  const [n, rows, cols] = theta.dims as [number, number, number];
  if ((r !== 2 && r !== 3) || theta.dims.length !== 3 || rows !== r || cols !== r + 1 || size[0] !== n) throw new ReferenceInputError(node, `theta [${theta.dims.join(',')}] and size [${size.join(',')}] do not describe a ${r}-D affine grid`);
  const spatial = size.slice(2);
  if (spatial.some((d) => d < 0)) throw new ReferenceInputError(node, `size [${size.join(',')}] holds a negative length`);
  const aligned = node.getInt('align_corners', 0) !== 0;
  // Base coordinates per spatial axis (D, H, W order).
  const base = spatial.map((len) => Array.from({ length: len }, (_, i) => (aligned ? (len === 1 ? -1 : -1 + (2 * i) / (len - 1)) : -1 + (2 * i + 1) / len)));
  const points = sizeOf(spatial);
  const y = allocF64(n * points * r);
  const p = new Array<number>(r + 1);
  const t = theta.data;
  // The points in row-major (D,) H, W order, a 2-D grid as one of depth 1: nested loops, no
  // per-point division to recover the indices.
  const [bz, by, bx] = (r === 3 ? base : [[0], ...base]) as [number[], number[], number[]];
  p[r] = 1;
  let q = 0;
  for (let b = 0; b < n; b++) {
    for (const z of bz) {
      for (const yy of by) {
        for (const x of bx) {
          // The point (x, y[, z], 1): x is the last spatial axis (W).
          p[0] = x;
          p[1] = yy;
          if (r === 3) p[2] = z;
          for (let i = 0; i < r; i++) {
            let v = 0;
            for (let j = 0; j <= r; j++) v += t[(b * r + i) * (r + 1) + j]! * p[j]!;
            y[q * r + i] = v;
          }
          q++;
        }
      }
    }
  }
  return [{ dtype: theta.dtype, dims: [n, ...spatial, r], data: y }];
};

export const AffineGrid: OpDef = defineOp({
  type: 'AffineGrid',
  attributes: { align_corners: withDefault(ATTR.align_corners, 0) },
  shape,
  cost: { macs, ops: perOutput(1), opsNote: 'r MACs (r = 2 or 3 spatial axes) + 1 add (translation) per output element' },
  reference,
});
