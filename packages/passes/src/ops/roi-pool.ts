/**
 * Region-of-interest pooling: RoiAlign (opset 10, 16) and MaxRoiPool (opset 1) — the box heads
 * of two-stage detectors (Mask R-CNN's RoIAlign, Fast R-CNN's RoIPool) — pooling each box of
 * `rois` over the feature map X [N, C, H, W] into a fixed [C, h, w] grid.
 *
 * - RoiAlign: rois [R, 4] (x1, y1, x2, y2) with batch_indices [R] → Y [R, C, output_height,
 *   output_width]. Each output bin averages (`mode` avg) or takes the maximum (`max`) of
 *   sampling_ratio² bilinear samples (sampling_ratio 0: ⌈box_h/output_height⌉ ×
 *   ⌈box_w/output_width⌉, adaptive). Box corners are scaled by spatial_scale and shifted by
 *   −0.5 for `half_pixel` (the default from opset 16; opset 10 had no attribute and behaved as
 *   `output_half_pixel`, no shift, which also forces a malformed box to 1×1). A sample more than
 *   one pixel outside the map reads 0; one inside the last pixel row or column clamps to it. The
 *   `max` mode is the spec's (and onnxruntime's): the maximum over the samples of the largest of
 *   the four weighted neighbours, not of the interpolated values.
 * - MaxRoiPool: rois [R, 5] (batch index, x1, y1, x2, y2) → Y [R, C, pooled_shape…]: the box
 *   corners scaled by spatial_scale and rounded (half away from zero), the box of at least 1×1
 *   pixels split into pooled_shape bins ([⌊i·size/n⌋, ⌈(i+1)·size/n⌉) each, clipped to the map),
 *   each the maximum of its pixels, 0 when empty — Caffe's ROIPooling, as onnxruntime computes it
 *   (checked in test/ops/roi-pool.test.ts: the corpus has no MaxRoiPool case).
 * - Cost: RoiAlign with sampling_ratio s > 0: per output s² samples of 8 operations (four
 *   weighted neighbours: 4 multiplies and 4 adds or comparisons) + 1 (avg's divide); adaptive
 *   sampling (s = 0) depends on the box coordinates: not costed. MaxRoiPool's comparisons per
 *   output are each bin's pixel count, which depends on the boxes: undeclared (data-dependent).
 * - No kernel: boxes and feature maps are activations. Not float16-safe: onnxruntime 1.30 runs
 *   both in float32 between Casts (test/ops/added-ops-float16.test.ts).
 */
import type { Dim } from '@onnxkit/graph';
import type { ShapeRule } from '../analysis/inference-types.js';
import { ReferenceInputError } from '../kernels/reference/errors.js';
import { allocF64, intsOf } from '../kernels/reference/tensor.js';
import { ATTR, withDefault } from './attributes.js';
import type { Count, CostContext } from './cost.js';
import { mergeDim, nonNegativeDim } from './shape-helpers.js';
import { defineOp, undeclared, type OpDef, type RefTensor, type ReferenceKernel } from './types.js';

/** [R, C, h, w] from X [N, C, H, W], R the boxes' count (rois' first dim, or batch_indices'). */
function roiOut(c: Parameters<ShapeRule>[0], boxes: Dim, spatial: readonly Dim[], cols: number): void {
  const xs = c.shape(0);
  const rs = c.shape(1);
  if (xs && xs.length !== 4) c.mismatch(`X has rank ${xs.length}; it must be 4 ([N, C, H, W])`);
  if (rs && (rs.length !== 2 || (typeof rs[1] === 'number' && rs[1] !== cols))) c.mismatch(`rois is [${rs.map((d) => d ?? '?').join(', ')}]; it must be [num_rois, ${cols}]`);
  c.out(0, c.dtype(0), [boxes, xs?.[1] ?? null, ...spatial]);
}

const roiAlignShape: ShapeRule = (c) => {
  const boxes = mergeDim(c, c.shape(1)?.[0] ?? null, c.shape(2)?.[0] ?? null, 'boxes of rois and batch_indices');
  roiOut(c, boxes, [nonNegativeDim(c, c.node.getInt('output_height', 1), 'output_height'), nonNegativeDim(c, c.node.getInt('output_width', 1), 'output_width')], 4);
};

const maxRoiPoolShape: ShapeRule = (c) => {
  const pooled = c.node.getInts('pooled_shape');
  if (!pooled || pooled.length !== 2) c.mismatch("attribute 'pooled_shape' must hold two values (height, width)");
  roiOut(c, c.shape(1)?.[0] ?? null, pooled?.length === 2 ? pooled : [null, null], 5);
};

const roiAlignOps = (c: CostContext): Count => {
  const s = c.node.getInt('sampling_ratio', 0);
  if (s <= 0) return { unknown: 'adaptive sampling (sampling_ratio 0): the samples per bin, ⌈box height/output_height⌉·⌈box width/output_width⌉, depend on the box coordinates' };
  return { perOutput: 8 * s * s + (c.node.getString('mode', 'avg') === 'avg' ? 1 : 0) };
};

/** The four neighbours (offsets in one H×W plane) and bilinear weights of one sample; weights 0 outside. */
interface Sample {
  readonly at: readonly [number, number, number, number];
  readonly w: readonly [number, number, number, number];
}

const OUTSIDE: Sample = { at: [0, 0, 0, 0], w: [0, 0, 0, 0] };

function bilinearSample(y0: number, x0: number, height: number, width: number): Sample {
  if (y0 < -1 || y0 > height || x0 < -1 || x0 > width) return OUTSIDE;
  let y = Math.max(y0, 0);
  let x = Math.max(x0, 0);
  let yLow = Math.trunc(y);
  let xLow = Math.trunc(x);
  let yHigh = yLow + 1;
  let xHigh = xLow + 1;
  if (yLow >= height - 1) {
    yLow = yHigh = height - 1;
    y = yLow;
  }
  if (xLow >= width - 1) {
    xLow = xHigh = width - 1;
    x = xLow;
  }
  const ly = y - yLow;
  const lx = x - xLow;
  const hy = 1 - ly;
  const hx = 1 - lx;
  return { at: [yLow * width + xLow, yLow * width + xHigh, yHigh * width + xLow, yHigh * width + xHigh], w: [hy * hx, hy * lx, ly * hx, ly * lx] };
}

const roiAlignReference: ReferenceKernel = (node, inputs, opset) => {
  const [x, rois, idx] = inputs;
  if (!x || !rois || !idx || !(x.data instanceof Float64Array) || !(rois.data instanceof Float64Array) || x.dims.length !== 4) throw new ReferenceInputError(node, 'X [N, C, H, W] and rois [R, 4] must be float tensors');
  const [n, ch, height, width] = x.dims as [number, number, number, number];
  const batch = intsOf(node, idx, 'batch_indices');
  const r = batch.length;
  if (rois.dims.length !== 2 || rois.dims[0] !== r || rois.dims[1] !== 4) throw new ReferenceInputError(node, `rois [${rois.dims.join(',')}] must be [${r}, 4]`);
  const oh = node.getInt('output_height', 1);
  const ow = node.getInt('output_width', 1);
  const ratio = node.getInt('sampling_ratio', 0);
  const scale = node.getFloat('spatial_scale', 1);
  const avg = node.getString('mode', 'avg') === 'avg';
  const halfPixel = node.getString('coordinate_transformation_mode', opset < 16 ? 'output_half_pixel' : 'half_pixel') === 'half_pixel';
  const xs = x.data;
  const bs = rois.data;
  const y = allocF64(r * ch * oh * ow);
  const plane = height * width;
  for (let k = 0; k < r; k++) {
    const b = batch[k]!;
    if (!(b >= 0 && b < n)) throw new ReferenceInputError(node, `batch index ${b} of box ${k} is outside [0, ${n})`);
    const shift = halfPixel ? 0.5 : 0;
    const x1 = bs[k * 4]! * scale - shift;
    const y1 = bs[k * 4 + 1]! * scale - shift;
    let boxW = bs[k * 4 + 2]! * scale - shift - x1;
    let boxH = bs[k * 4 + 3]! * scale - shift - y1;
    if (!halfPixel) {
      boxW = Math.max(boxW, 1);
      boxH = Math.max(boxH, 1);
    }
    const binH = boxH / oh;
    const binW = boxW / ow;
    const gridH = ratio > 0 ? ratio : Math.ceil(boxH / oh);
    const gridW = ratio > 0 ? ratio : Math.ceil(boxW / ow);
    const count = Math.max(gridH * gridW, 1);
    // The samples of every bin, shared by the channels.
    const samples: Sample[] = [];
    for (let ph = 0; ph < oh; ph++) {
      for (let pw = 0; pw < ow; pw++) {
        for (let iy = 0; iy < gridH; iy++) {
          const yy = y1 + ph * binH + ((iy + 0.5) * binH) / gridH;
          for (let ix = 0; ix < gridW; ix++) samples.push(bilinearSample(yy, x1 + pw * binW + ((ix + 0.5) * binW) / gridW, height, width));
        }
      }
    }
    for (let c = 0; c < ch; c++) {
      const base = (b * ch + c) * plane;
      let s = 0;
      for (let o = 0; o < oh * ow; o++) {
        let v = avg ? 0 : -Infinity;
        for (let g = 0; g < gridH * gridW; g++, s++) {
          const { at, w } = samples[s]!;
          if (avg) v += w[0] * xs[base + at[0]]! + w[1] * xs[base + at[1]]! + w[2] * xs[base + at[2]]! + w[3] * xs[base + at[3]]!;
          else v = Math.max(v, w[0] * xs[base + at[0]]!, w[1] * xs[base + at[1]]!, w[2] * xs[base + at[2]]!, w[3] * xs[base + at[3]]!);
        }
        y[(k * ch + c) * oh * ow + o] = avg ? v / count : gridH * gridW === 0 ? 0 : v;
      }
    }
  }
  const out: RefTensor = { dtype: x.dtype, dims: [r, ch, oh, ow], data: y };
  return [out];
};

/** Rounds half away from zero (C's round, as Caffe and onnxruntime round the box corners). */
const roundAway = (v: number): number => Math.sign(v) * Math.round(Math.abs(v));

const maxRoiPoolReference: ReferenceKernel = (node, inputs) => {
  const [x, rois] = inputs;
  if (!x || !rois || !(x.data instanceof Float64Array) || !(rois.data instanceof Float64Array) || x.dims.length !== 4) throw new ReferenceInputError(node, 'X [N, C, H, W] and rois [R, 5] must be float tensors');
  const [n, ch, height, width] = x.dims as [number, number, number, number];
  if (rois.dims.length !== 2 || rois.dims[1] !== 5) throw new ReferenceInputError(node, `rois [${rois.dims.join(',')}] must be [num_rois, 5]`);
  const pooled = node.getInts('pooled_shape');
  if (!pooled || pooled.length !== 2) throw new ReferenceInputError(node, "attribute 'pooled_shape' must hold two values");
  const [ph, pw] = pooled as [number, number];
  const scale = node.getFloat('spatial_scale', 1);
  const r = rois.dims[0]!;
  const xs = x.data;
  const bs = rois.data;
  const y = allocF64(r * ch * ph * pw);
  for (let k = 0; k < r; k++) {
    const b = bs[k * 5]!;
    if (!(Number.isInteger(b) && b >= 0 && b < n)) throw new ReferenceInputError(node, `batch index ${b} of box ${k} is not in [0, ${n})`);
    const [x1, y1, x2, y2] = [1, 2, 3, 4].map((i) => roundAway(bs[k * 5 + i]! * scale)) as [number, number, number, number];
    const boxH = Math.max(y2 - y1 + 1, 1);
    const boxW = Math.max(x2 - x1 + 1, 1);
    for (let c = 0; c < ch; c++) {
      const base = (b * ch + c) * height * width;
      for (let i = 0; i < ph; i++) {
        const h0 = Math.min(Math.max(Math.floor((i * boxH) / ph) + y1, 0), height);
        const h1 = Math.min(Math.max(Math.ceil(((i + 1) * boxH) / ph) + y1, 0), height);
        for (let j = 0; j < pw; j++) {
          const w0 = Math.min(Math.max(Math.floor((j * boxW) / pw) + x1, 0), width);
          const w1 = Math.min(Math.max(Math.ceil(((j + 1) * boxW) / pw) + x1, 0), width);
          let v = h1 <= h0 || w1 <= w0 ? 0 : -Infinity;
          for (let h = h0; h < h1; h++) for (let w = w0; w < w1; w++) v = Math.max(v, xs[base + h * width + w]!);
          y[((k * ch + c) * ph + i) * pw + j] = v;
        }
      }
    }
  }
  return [{ dtype: x.dtype, dims: [r, ch, ph, pw], data: y }];
};

export const ROI_POOL_OPS: readonly OpDef[] = [
  defineOp({
    type: 'RoiAlign',
    attributes: {
      coordinate_transformation_mode: withDefault(ATTR.coordinate_transformation_mode, 'half_pixel'), // opset 16; opset 10 behaves as 'output_half_pixel'
      mode: withDefault(ATTR.mode, 'avg'),
      output_height: withDefault(ATTR.output_height, 1),
      output_width: withDefault(ATTR.output_width, 1),
      sampling_ratio: withDefault(ATTR.sampling_ratio, 0),
      spatial_scale: withDefault(ATTR.spatial_scale, 1),
    },
    shape: roiAlignShape,
    cost: { ops: roiAlignOps, opsNote: 'per output 8·s² (s² bilinear samples of four weighted neighbours, sampling_ratio s) + 1 for avg; adaptive sampling (s = 0) depends on the boxes: unknown' },
    reference: roiAlignReference,
    sameAt13From: 10, // RoiAlign-10 is the form at 13 (16 added coordinate_transformation_mode)
  }),
  defineOp({
    type: 'MaxRoiPool',
    attributes: { pooled_shape: ATTR.pooled_shape, spatial_scale: withDefault(ATTR.spatial_scale, 1) },
    shape: maxRoiPoolShape,
    cost: undeclared('data-dependent', "its comparisons per output are the pixels of each box's bins, which depend on the rois' coordinates"),
    reference: maxRoiPoolReference,
    sameAt13From: 10, // unchanged since opset 1
  }),
];
