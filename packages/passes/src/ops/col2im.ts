/**
 * Col2Im (opset 18): the inverse of an im2col unfold (PyTorch's `nn.Fold`) — the columns of
 * sliding blocks summed back into an image.
 *
 * - Shapes: input [N, C·∏block_shape, L] with image_shape (input 1) and block_shape (input 2)
 *   → [N, C, image_shape…], X's type. L must be the block count ∏ ⌊(image + pad_begin + pad_end
 *   − dilation·(block − 1) − 1)/stride⌋ + 1.
 * - Reference (float64): each column element (c, k…) of block l adds to the image position
 *   l·stride − pad_begin + k·dilation when that lies inside the image: summed in the padded
 *   image through stridedOffsets (no per-element division or bounds test), the pads cropped off.
 * - Cost: one add per input element (overlapping blocks sum); no MACs.
 * - No kernel: its input is an activation. Not float16-safe: onnxruntime 1.30 runs it in float32
 *   between Casts (test/ops/added-ops-float16.test.ts).
 */
import type { Dim } from '@onnxkit/graph';
import type { ShapeRule } from '../analysis/inference-types.js';
import { ReferenceInputError } from '../kernels/reference/errors.js';
import { allocF64, intsOf, sizeOf, stridedOffsets, stridesOf } from '../kernels/reference/tensor.js';
import { ATTR } from './attributes.js';
import { perInput } from './cost.js';
import { nonNegativeDim, windowParams } from './shape-helpers.js';
import { defineOp, type OpDef, type ReferenceKernel } from './types.js';

const shape: ShapeRule = (c) => {
  const xs = c.shape(0);
  const type = c.dtype(0);
  if (xs && xs.length !== 3) c.mismatch(`input has rank ${xs.length}; Col2Im needs [N, C·∏block_shape, L]`);
  const image = c.ints(1);
  const block = c.exactInts(2);
  const spatial = image?.length ?? block?.length ?? c.shape(1)?.[0] ?? null;
  if (typeof spatial !== 'number') return c.out(0, type, null);
  const cols = xs?.length === 3 ? xs[1]! : null;
  let channels: Dim = null;
  if (block && cols !== null) {
    const per = sizeOf(block);
    channels = c.alg.divExact(cols, per);
    if (channels === null && typeof cols === 'number') c.mismatch(`input's dim 1 (${cols}) is not a multiple of ∏block_shape = ${per}`);
  }
  c.out(0, type, [xs?.[0] ?? null, channels, ...(image ? image.map((d) => nonNegativeDim(c, d, 'an image_shape entry')) : new Array<Dim>(spatial).fill(null))]);
};

const reference: ReferenceKernel = (node, inputs) => {
  const [x, imageT, blockT] = inputs;
  if (!x || !(x.data instanceof Float64Array) || x.dims.length !== 3) throw new ReferenceInputError(node, 'input must be a float tensor [N, C·∏block_shape, L]');
  if (!imageT || !blockT) throw new ReferenceInputError(node, 'image_shape and block_shape are required');
  const image = intsOf(node, imageT, 'image_shape');
  const block = intsOf(node, blockT, 'block_shape');
  const r = image.length;
  if (block.length !== r) throw new ReferenceInputError(node, `image_shape has ${r} dims, block_shape ${block.length}`);
  if (image.some((d) => d < 0) || block.some((d) => d < 1)) throw new ReferenceInputError(node, `image_shape [${image.join(',')}] and block_shape [${block.join(',')}] must be non-negative and positive`);
  const { strides, dilations, pads } = windowParams(node, r, block);
  const [n, cols, len] = x.dims as [number, number, number];
  const per = sizeOf(block);
  if (cols % per !== 0) throw new ReferenceInputError(node, `input's dim 1 (${cols}) is not a multiple of ∏block_shape = ${per}`);
  const ch = cols / per;
  const counts = image.map((d, i) => Math.floor((d + pads[i]! + pads[i + r]! - dilations[i]! * (block[i]! - 1) - 1) / strides[i]!) + 1);
  if (counts.some((c) => c < 0)) throw new ReferenceInputError(node, `the padded image is shorter than a block (block counts ${counts.join('·')})`);
  if (sizeOf(counts) !== len) throw new ReferenceInputError(node, `L is ${len}, but the blocks number ${counts.join('·')}`);
  // Block l of tap k lands at l·stride + k·dilation of the padded image, always inside it: sum
  // there (strided offsets, no bounds test), then crop the pads away. The sums of each image
  // element are taken in the same order as a direct scatter; what lands in the pads is dropped.
  const padded = image.map((d, i) => d + pads[i]! + pads[i + r]!);
  const pStrides = stridesOf(padded);
  const pPlane = sizeOf(padded);
  const acc = allocF64(n * ch * pPlane);
  const taps = stridedOffsets(block, dilations.map((d, i) => d * pStrides[i]!), allocF64(per));
  const blocks = stridedOffsets(counts, strides.map((s, i) => s * pStrides[i]!), allocF64(len));
  const xs = x.data;
  for (let b = 0; b < n; b++) {
    for (let c = 0; c < cols; c++) {
      // Column c is channel ⌊c/∏block⌋ at tap c mod ∏block (row-major over block_shape).
      const base = (b * ch + Math.floor(c / per)) * pPlane + taps[c % per]!;
      const from = (b * cols + c) * len;
      for (let p = 0; p < len; p++) acc[base + blocks[p]!] += xs[from + p]!;
    }
  }
  const plane = sizeOf(image);
  const crop = stridedOffsets(image, pStrides, allocF64(plane), pads.slice(0, r).reduce((s, p, i) => s + p * pStrides[i]!, 0));
  const y = allocF64(n * ch * plane);
  for (let m = 0; m < n * ch; m++) for (let i = 0; i < plane; i++) y[m * plane + i] = acc[m * pPlane + crop[i]!]!;
  return [{ dtype: x.dtype, dims: [n, ch, ...image], data: y }];
};

export const Col2Im: OpDef = defineOp({
  type: 'Col2Im',
  attributes: { dilations: ATTR.dilations, pads: ATTR.pads, strides: ATTR.strides },
  shape,
  cost: { ops: perInput(1), opsNote: '1 per input element (each column element added into the image)' },
  reference,
});
