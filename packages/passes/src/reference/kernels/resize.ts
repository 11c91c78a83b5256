/**
 * Resize (opset 10+) and Upsample in float64: nearest (all four nearest_modes), linear and cubic
 * (cubic_coeff_a, exclude_outside), the coordinate transformation modes half_pixel,
 * half_pixel_symmetric, pytorch_half_pixel, align_corners, asymmetric, tf_half_pixel_for_nn;
 * `axes`. Separable: per axis, each output coordinate gets a list of (input index, weight) taps,
 * and the output is their N-D product. tf_crop_and_resize, antialias and keep_aspect_ratio_policy
 * other than "stretch" are refused (ReferenceUnsupportedError).
 */
import type { Node } from '@onnxkit/graph';
import { ReferenceInputError, ReferenceUnsupportedError } from '../errors.js';
import { allocF64, f64Of, intsOf, normAxis, sizeOf, stridesOf } from '../tensor.js';
import type { ReferenceKernel, RefTensor } from '../types.js';

interface Taps {
  index: number[][];
  weight: number[][];
}

/**
 * `outLen` is the integer output length; `resized` is in·scale (not floored), which the ONNX
 * formulas for align_corners, pytorch_half_pixel and half_pixel_symmetric use.
 */
function axisTaps(node: Node, mode: string, coord: string, nearestMode: string, a: number, excludeOutside: boolean, inLen: number, outLen: number, scale: number): Taps {
  const resized = inLen * scale;
  const index: number[][] = [];
  const weight: number[][] = [];
  for (let o = 0; o < outLen; o++) {
    let x: number;
    switch (coord) {
      case 'half_pixel':
        x = (o + 0.5) / scale - 0.5;
        break;
      case 'pytorch_half_pixel':
        x = resized > 1 ? (o + 0.5) / scale - 0.5 : 0;
        break;
      case 'align_corners':
        x = resized === 1 ? 0 : (o * (inLen - 1)) / (resized - 1);
        break;
      case 'asymmetric':
        x = o / scale;
        break;
      case 'tf_half_pixel_for_nn':
        x = (o + 0.5) / scale;
        break;
      case 'half_pixel_symmetric': {
        const adj = outLen / resized;
        const center = inLen / 2;
        x = center * (1 - adj) + (o + 0.5) / scale - 0.5;
        break;
      }
      default:
        throw new ReferenceUnsupportedError(node, `coordinate_transformation_mode '${coord}' is not supported`);
    }
    const clamp = (i: number): number => Math.max(0, Math.min(inLen - 1, i));
    if (mode === 'nearest') {
      let i: number;
      const f = Math.floor(x);
      switch (nearestMode) {
        case 'round_prefer_floor':
          i = x - f === 0.5 ? f : Math.round(x);
          break;
        case 'round_prefer_ceil':
          i = x - f === 0.5 ? f + 1 : Math.round(x);
          break;
        case 'floor':
          i = f;
          break;
        case 'ceil':
          i = Math.ceil(x);
          break;
        default:
          throw new ReferenceUnsupportedError(node, `nearest_mode '${nearestMode}' is not supported`);
      }
      index.push([clamp(i)]);
      weight.push([1]);
    } else if (mode === 'linear') {
      const xc = Math.max(0, Math.min(inLen - 1, x));
      const i0 = Math.floor(xc);
      const t = xc - i0;
      index.push([clamp(i0), clamp(i0 + 1)]);
      weight.push([1 - t, t]);
    } else if (mode === 'cubic') {
      const i0 = Math.floor(x);
      const t = x - i0;
      const ws = [
        ((a * (t + 1) - 5 * a) * (t + 1) + 8 * a) * (t + 1) - 4 * a,
        ((a + 2) * t - (a + 3)) * t * t + 1,
        ((a + 2) * (1 - t) - (a + 3)) * (1 - t) * (1 - t) + 1,
        ((a * (2 - t) - 5 * a) * (2 - t) + 8 * a) * (2 - t) - 4 * a,
      ];
      const is = [i0 - 1, i0, i0 + 1, i0 + 2];
      if (excludeOutside) {
        let s = 0;
        for (let k = 0; k < 4; k++) {
          if (is[k]! < 0 || is[k]! >= inLen) ws[k] = 0;
          s += ws[k]!;
        }
        for (let k = 0; k < 4; k++) ws[k] = ws[k]! / s;
      }
      index.push(is.map(clamp));
      weight.push(ws);
    } else {
      throw new ReferenceUnsupportedError(node, `Resize mode '${mode}' is not supported`);
    }
  }
  return { index, weight };
}

function resample(node: Node, x: RefTensor, outDims: number[], scales: number[], mode: string, coord: string, nearestMode: string, a: number, excludeOutside: boolean): RefTensor {
  const X = x.data instanceof Float64Array ? x.data : f64Of(x);
  const r = x.dims.length;
  const taps = x.dims.map((d, i) => axisTaps(node, mode, coord, nearestMode, a, excludeOutside, d, outDims[i]!, scales[i]!));
  const inStrides = stridesOf(x.dims);
  const n = sizeOf(outDims);
  const out = allocF64(n);
  const c = new Array<number>(r).fill(0);
  const t = new Array<number>(r).fill(0);
  for (let o = 0; o < n; o++) {
    // Sum over the product of taps (odometer over tap indices).
    let acc = 0;
    t.fill(0);
    for (;;) {
      let off = 0;
      let w = 1;
      for (let d = 0; d < r; d++) {
        off += taps[d]!.index[c[d]!]![t[d]!]! * inStrides[d]!;
        w *= taps[d]!.weight[c[d]!]![t[d]!]!;
      }
      if (w !== 0) acc += w * X[off]!;
      let d = r - 1;
      for (; d >= 0; d--) {
        t[d]!++;
        if (t[d]! < taps[d]!.index[c[d]!]!.length) break;
        t[d] = 0;
      }
      if (d < 0) break;
    }
    out[o] = acc;
    for (let d = r - 1; d >= 0; d--) {
      c[d]!++;
      if (c[d]! < outDims[d]!) break;
      c[d] = 0;
    }
  }
  return { dtype: x.dtype, dims: outDims, data: out };
}

export const resizeRef: ReferenceKernel = (node, inputs, opset) => {
  const x = inputs[0];
  if (!x) throw new ReferenceInputError(node, 'X is missing');
  const r = x.dims.length;
  const mode = node.getString('mode', 'nearest');
  const coord = node.getString('coordinate_transformation_mode', opset < 11 ? 'asymmetric' : 'half_pixel');
  if (coord === 'tf_crop_and_resize') throw new ReferenceUnsupportedError(node, "coordinate_transformation_mode 'tf_crop_and_resize' is not supported");
  if (node.getInt('antialias', 0) !== 0) throw new ReferenceUnsupportedError(node, 'Resize with antialias is not supported');
  const policy = node.getString('keep_aspect_ratio_policy', 'stretch');
  const nearestMode = node.getString('nearest_mode', 'round_prefer_floor');
  const a = node.getFloat('cubic_coeff_a', -0.75);
  const exclude = node.getInt('exclude_outside', 0) !== 0;
  const axesAttr = node.getInts('axes');
  const axes = axesAttr ? axesAttr.map((v) => normAxis(node, v, r)) : Array.from({ length: r }, (_, i) => i);
  const scalesT = opset < 11 ? inputs[1] : inputs[2];
  const sizesT = opset < 11 ? null : inputs[3];
  const scales = new Array<number>(r).fill(1);
  const outDims = [...x.dims];
  if (sizesT && sizeOf(sizesT.dims) > 0) {
    const sizes = intsOf(node, sizesT, 'sizes');
    if (policy !== 'stretch') throw new ReferenceUnsupportedError(node, `keep_aspect_ratio_policy '${policy}' is not supported`);
    axes.forEach((ax, i) => {
      outDims[ax] = sizes[i]!;
      scales[ax] = sizes[i]! / x.dims[ax]!;
    });
  } else if (scalesT && sizeOf(scalesT.dims) > 0) {
    const s = f64Of(scalesT);
    axes.forEach((ax, i) => {
      scales[ax] = s[i]!;
      outDims[ax] = Math.floor(x.dims[ax]! * s[i]!);
    });
  } else throw new ReferenceInputError(node, 'one of scales and sizes must be given');
  return [resample(node, x, outDims, scales, mode, coord, nearestMode, a, exclude)];
};

export const upsampleRef: ReferenceKernel = (node, inputs, opset) => {
  const x = inputs[0];
  if (!x) throw new ReferenceInputError(node, 'X is missing');
  const mode = node.getString('mode', 'nearest');
  const scales = opset < 9 ? (node.getFloats('scales') ?? []) : Array.from(f64Of(inputs[1]!));
  const outDims = x.dims.map((d, i) => Math.floor(d * scales[i]!));
  // Upsample is Resize with asymmetric coordinates; nearest floors.
  return [resample(node, x, outDims, scales, mode === 'bilinear' ? 'linear' : mode, 'asymmetric', 'floor', -0.75, false)];
};
