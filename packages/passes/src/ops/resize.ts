/**
 * Resize and its predecessor Upsample.
 */
import type { Dim } from '@onnxkit/graph';
import type { RuleContext, ShapeRule } from '../analysis/inference-types.js';
import { ATTR, withDefault } from './attributes.js';
import { normAxis } from './axes.js';
import { resizeOps } from './cost.js';
import { intsAttr } from './shape-helpers.js';
import { defineOp, type OpDef } from './types.js';
import { resizeRef, upsampleRef } from '../kernels/reference/resize.js';

function scaleDim(c: RuleContext, d: Dim, scale: number): Dim {
  if (typeof d === 'number') return Math.floor(d * scale);
  if (d !== null && Number.isInteger(scale)) return c.alg.mul(d, scale);
  return null;
}

const resize: ShapeRule = (c) => {
  const xs = c.shape(0);
  const type = c.dtype(0);
  if (!xs) return c.out(0, type, null);
  const r = xs.length;
  const axes = (c.opset >= 18 ? intsAttr(c, 'axes') : undefined)?.map((a) => normAxis(a, r) ?? 0) ?? Array.from({ length: r }, (_, i) => i);
  let scales: number[] | undefined;
  let sizes: readonly Dim[] | undefined;
  if (c.opset < 11 || c.node.opType === 'Upsample') {
    scales = c.node.opType === 'Upsample' && c.opset < 9 ? c.node.getFloats('scales') : c.floats(1);
  } else {
    if (c.has(3)) {
      sizes = c.ints(3);
      if (sizes && sizes.length === 0) sizes = undefined;
    }
    if (!sizes && c.has(2)) {
      scales = c.floats(2);
      if (scales && scales.length === 0) scales = undefined;
    }
  }
  const out: Dim[] = [...xs];
  if (sizes) {
    const policy = c.node.getString('keep_aspect_ratio_policy', 'stretch');
    if (policy !== 'stretch' && axes.every((a, k) => typeof xs[a] === 'number' && typeof sizes![k] === 'number')) {
      const ratios = axes.map((a, k) => (sizes![k] as number) / (xs[a] as number));
      const s = policy === 'not_larger' ? ratios.reduce((m, r) => Math.min(m, r), Infinity) : ratios.reduce((m, r) => Math.max(m, r), -Infinity);
      axes.forEach((a) => (out[a] = Math.round(s * (xs[a] as number))));
    } else {
      axes.forEach((a, k) => (out[a] = sizes![k] ?? null));
    }
  } else if (scales) {
    axes.forEach((a, k) => (out[a] = scaleDim(c, xs[a]!, scales![k] ?? 1)));
  } else {
    c.unresolved('neither scales nor sizes are constant');
    axes.forEach((a) => (out[a] = null));
  }
  c.out(0, type, out);
};

export const RESIZE_OPS: readonly OpDef[] = [
  defineOp({
    type: 'Resize',
    reference: resizeRef,
    attributes: {
      antialias: withDefault(ATTR.antialias, 0),
      axes: ATTR.axes,
      coordinate_transformation_mode: withDefault(ATTR.coordinate_transformation_mode, 'half_pixel'),
      cubic_coeff_a: withDefault(ATTR.cubic_coeff_a, -0.75),
      exclude_outside: withDefault(ATTR.exclude_outside, 0),
      extrapolation_value: withDefault(ATTR.extrapolation_value, 0),
      keep_aspect_ratio_policy: withDefault(ATTR.keep_aspect_ratio_policy, 'stretch'),
      mode: withDefault(ATTR.mode, 'nearest'),
      nearest_mode: withDefault(ATTR.nearest_mode, 'round_prefer_floor'),
    },
    shape: resize,
    cost: { ops: resizeOps, opsNote: 'nearest 0, linear 2·2^r, cubic 2·4^r per output (r spatial axes)' },
    fp16: { keepFloat32: [1, 2] },
    ort: { qdq: 'data' },
    quantize: { placement: 'shared-scale' },
    // Resize-10 reads (X, scales), Resize-11 (X, roi, scales, sizes); opset 13 dropped the
    // coordinate_transformation_mode tf_half_pixel_for_nn.
    sameAt13From: (node) => (node.getString('coordinate_transformation_mode') === 'tf_half_pixel_for_nn' ? undefined : 11),
  }),
  defineOp({
    type: 'Upsample',
    reference: upsampleRef,
    attributes: { mode: withDefault(ATTR.mode, 'nearest'), scales: ATTR.scales },
    shape: resize,
    cost: { ops: resizeOps, opsNote: 'as Resize' },
    fp16: { keepFloat32: [1] },
    sameAt13From: { changedBy13: 'deprecated' },
  }),
];
