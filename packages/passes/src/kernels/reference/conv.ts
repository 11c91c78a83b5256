/**
 * Conv and ConvTranspose in float64 (groups, dilations, pads, auto_pad, strides, output_padding,
 * output_shape). 2-D Conv runs direct loops ordered for the cache: per output channel (four at a
 * time, sharing each input load), per input channel and kernel tap, a contiguous sweep of an
 * output row. Other ranks and ConvTranspose use a generic N-D loop over flattened positions.
 */
import type { Node } from '@onnxkit/graph';
import { ReferenceInputError, ReferenceUnsupportedError } from './errors.js';
import { allocF64, floatInput, sizeOf, stridesOf } from './tensor.js';
import { samePad, tapOffset, unravel, type WindowGeometry } from './window.js';
import { windowParams, type WindowParams } from '../../ops/shape-helpers.js';
import type { ReferenceKernel, RefTensor } from '../../ops/types.js';

/**
 * Conv's and ConvTranspose's window attributes over `r` spatial axes: kernel_shape, else W's
 * spatial dims `wSpatial`, and windowParams' others; pads of a length other than 2·r read as none.
 */
function convWindow(node: Node, r: number, wSpatial: readonly number[]): WindowParams<number> {
  const w = windowParams(node, r, node.getInts('kernel_shape') ?? wSpatial);
  if (w.pads.length !== 2 * r) w.pads = new Array<number>(2 * r).fill(0);
  return w;
}

/**
 * Conv's window geometry from its attributes (convWindow) over X's spatial dims; a negative
 * output size is an input error. Conv (its 2-D and N-D loops) and DeformConv (ops/deform-conv.ts)
 * read it.
 */
export function convGeometry(node: Node, inSpatial: readonly number[], wSpatial: readonly number[]): WindowGeometry {
  const r = inSpatial.length;
  const { kernel, strides, dilations, autoPad, pads } = convWindow(node, r, wSpatial);
  const outSpatial: number[] = [];
  const padBegin: number[] = [];
  for (let i = 0; i < r; i++) {
    const ek = (kernel[i]! - 1) * dilations[i]! + 1;
    if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') {
      const same = samePad(inSpatial[i]!, strides[i]!, ek, autoPad === 'SAME_UPPER');
      padBegin.push(same.begin);
      outSpatial.push(same.out);
    } else if (autoPad === 'VALID') {
      padBegin.push(0);
      outSpatial.push(Math.floor((inSpatial[i]! - ek) / strides[i]!) + 1);
    } else {
      if (autoPad !== 'NOTSET') throw new ReferenceUnsupportedError(node, `auto_pad '${autoPad}' is not supported`);
      padBegin.push(pads[i]!);
      outSpatial.push(Math.floor((inSpatial[i]! + pads[i]! + pads[i + r]! - ek) / strides[i]!) + 1);
    }
  }
  if (outSpatial.some((o) => o < 0)) throw new ReferenceInputError(node, `the output would have a negative size (${outSpatial.join('×')})`);
  return { kernel, strides, dilations, padBegin, outSpatial };
}

/** X, W, the optional bias B and the group count of Conv and ConvTranspose. */
function convOperands(node: Node, inputs: readonly (RefTensor | null)[]) {
  const xt = inputs[0]!;
  const wt = inputs[1]!;
  const [N, C] = xt.dims as [number, number];
  return { xt, wt, X: floatInput(node, xt, 'X'), W: floatInput(node, wt, 'W'), B: inputs[2] ? floatInput(node, inputs[2], 'B') : null, group: node.getInt('group', 1), N, C };
}

export const convRef: ReferenceKernel = (node, inputs) => {
  const { xt, wt, X, W, B, group, N, C } = convOperands(node, inputs);
  const M = wt.dims[0]!;
  const inSpatial = xt.dims.slice(2);
  if (wt.dims.length !== xt.dims.length) throw new ReferenceInputError(node, `W has rank ${wt.dims.length} but X has rank ${xt.dims.length}`);
  if (C !== wt.dims[1]! * group || M % group !== 0) throw new ReferenceInputError(node, `channels do not match: X has ${C}, W is [${wt.dims.join(',')}] with group ${group}`);
  const g = convGeometry(node, inSpatial, wt.dims.slice(2));
  const outDims = [N, M, ...g.outSpatial];
  const out = allocF64(sizeOf(outDims));
  if (inSpatial.length === 2 || inSpatial.length === 1) {
    // 1-D runs as 2-D with a height of 1.
    const two = inSpatial.length === 2;
    conv2d(X, W, B, out, N, C, M, group, two ? inSpatial[0]! : 1, two ? inSpatial[1]! : inSpatial[0]!, two ? g.outSpatial[0]! : 1, two ? g.outSpatial[1]! : g.outSpatial[0]!, two ? g.kernel[0]! : 1, two ? g.kernel[1]! : g.kernel[0]!, two ? g.strides[0]! : 1, two ? g.strides[1]! : g.strides[0]!, two ? g.dilations[0]! : 1, two ? g.dilations[1]! : g.dilations[0]!, two ? g.padBegin[0]! : 0, two ? g.padBegin[1]! : g.padBegin[0]!);
  } else {
    convNd(X, W, B, out, N, C, M, group, inSpatial, g);
  }
  return [{ dtype: xt.dtype, dims: outDims, data: out }];
};

/**
 * 2-D convolution, output-stationary and register-blocked: a tile of 4 output channels × 4 output
 * columns keeps 16 running sums in locals while the reduction (input channel, kernel row, kernel
 * column — flattened, with precomputed input offsets) streams 4 weights and 4 inputs per step:
 * 8 loads for 16 multiply-adds, no bounds checks (the input is zero-padded once per image and
 * group when the geometry needs it). Tails fall back to 4×1, 1×4 and 1×1 tiles.
 */
function conv2d(X: Float64Array, W: Float64Array, B: Float64Array | null, out: Float64Array, N: number, C: number, M: number, group: number, H0: number, W0: number, OH0: number, OW0: number, KH: number, KW: number, SH: number, SW: number, DH: number, DW: number, PH: number, PW: number): void {
  const Cg = C / group;
  const Mg = M / group;
  const plane = OH0 * OW0;
  // A 1×1, stride-1, unpadded conv is a matrix product: treat each plane as one long row.
  const flat = KH === 1 && KW === 1 && SH === 1 && SW === 1 && PH === 0 && PW === 0 && OH0 === H0 && OW0 === W0;
  const H = flat ? 1 : H0;
  const Wd = flat ? H0 * W0 : W0;
  const OH = flat ? 1 : OH0;
  const OW = flat ? plane : OW0;
  const Hp = Math.max(H + PH, (OH - 1) * SH + (KH - 1) * DH + 1);
  const Wp = Math.max(Wd + PW, (OW - 1) * SW + (KW - 1) * DW + 1);
  const padded = Hp !== H || Wp !== Wd || PH !== 0 || PW !== 0;
  const inPlane = H * Wd;
  const pPlane = Hp * Wp;
  const xp = padded ? new Float64Array(Cg * pPlane) : null;
  const K = Cg * KH * KW;
  const koff = new Int32Array(K);
  for (let c = 0; c < Cg; c++) for (let kh = 0; kh < KH; kh++) for (let kw = 0; kw < KW; kw++) koff[(c * KH + kh) * KW + kw] = c * (padded ? pPlane : inPlane) + kh * DH * (padded ? Wp : Wd) + kw * DW;
  const rowStride = padded ? Wp : Wd;
  const wp = new Float64Array(K * 4);
  const S1 = SW;
  const S2 = 2 * SW;
  const S3 = 3 * SW;
  for (let n = 0; n < N; n++) {
    for (let gi = 0; gi < group; gi++) {
      let src = X;
      let sbase = (n * C + gi * Cg) * inPlane;
      if (xp !== null) {
        xp.fill(0);
        for (let c = 0; c < Cg; c++) {
          for (let h = 0; h < H; h++) {
            const from = sbase + c * inPlane + h * Wd;
            xp.set(X.subarray(from, from + Wd), c * pPlane + (h + PH) * Wp + PW);
          }
        }
        src = xp;
        sbase = 0;
      }
      for (let m0 = 0; m0 < Mg; m0 += 4) {
        const mc = Math.min(4, Mg - m0);
        const oc0 = gi * Mg + m0;
        for (let j = 0; j < mc; j++) for (let k = 0; k < K; k++) wp[k * 4 + j] = W[(oc0 + j) * K + k]!;
        for (let j = mc; j < 4; j++) for (let k = 0; k < K; k++) wp[k * 4 + j] = 0;
        const b0 = B === null ? 0 : B[oc0]!;
        const b1 = B === null || mc < 2 ? 0 : B[oc0 + 1]!;
        const b2 = B === null || mc < 3 ? 0 : B[oc0 + 2]!;
        const b3 = B === null || mc < 4 ? 0 : B[oc0 + 3]!;
        const o0 = (n * M + oc0) * plane;
        const o1 = o0 + plane;
        const o2 = o1 + plane;
        const o3 = o2 + plane;
        for (let oh = 0; oh < OH; oh++) {
          const rowBase = sbase + oh * SH * rowStride;
          const orow = oh * OW;
          let ow = 0;
          for (; ow + 4 <= OW; ow += 4) {
            const base = rowBase + ow * SW;
            let s00 = b0, s01 = b0, s02 = b0, s03 = b0;
            let s10 = b1, s11 = b1, s12 = b1, s13 = b1;
            let s20 = b2, s21 = b2, s22 = b2, s23 = b2;
            let s30 = b3, s31 = b3, s32 = b3, s33 = b3;
            for (let k = 0, w = 0; k < K; k++, w += 4) {
              const xo = base + koff[k]!;
              const x0 = src[xo]!;
              const x1 = src[xo + S1]!;
              const x2 = src[xo + S2]!;
              const x3 = src[xo + S3]!;
              const w0 = wp[w]!;
              const w1 = wp[w + 1]!;
              const w2 = wp[w + 2]!;
              const w3 = wp[w + 3]!;
              s00 += w0 * x0;
              s01 += w0 * x1;
              s02 += w0 * x2;
              s03 += w0 * x3;
              s10 += w1 * x0;
              s11 += w1 * x1;
              s12 += w1 * x2;
              s13 += w1 * x3;
              s20 += w2 * x0;
              s21 += w2 * x1;
              s22 += w2 * x2;
              s23 += w2 * x3;
              s30 += w3 * x0;
              s31 += w3 * x1;
              s32 += w3 * x2;
              s33 += w3 * x3;
            }
            const at = orow + ow;
            store4(out, o0 + at, s00, s01, s02, s03);
            if (mc > 1) store4(out, o1 + at, s10, s11, s12, s13);
            if (mc > 2) store4(out, o2 + at, s20, s21, s22, s23);
            if (mc > 3) store4(out, o3 + at, s30, s31, s32, s33);
          }
          for (; ow < OW; ow++) {
            const base = rowBase + ow * SW;
            let s0 = b0, s1 = b1, s2 = b2, s3 = b3;
            for (let k = 0, w = 0; k < K; k++, w += 4) {
              const x = src[base + koff[k]!]!;
              s0 += wp[w]! * x;
              s1 += wp[w + 1]! * x;
              s2 += wp[w + 2]! * x;
              s3 += wp[w + 3]! * x;
            }
            const at = orow + ow;
            out[o0 + at] = s0;
            if (mc > 1) out[o1 + at] = s1;
            if (mc > 2) out[o2 + at] = s2;
            if (mc > 3) out[o3 + at] = s3;
          }
        }
      }
    }
  }
}

/** One row of a 4×4 tile: four sums at `out[at..at+3]`. */
function store4(out: Float64Array, at: number, a: number, b: number, c: number, d: number): void {
  out[at] = a;
  out[at + 1] = b;
  out[at + 2] = c;
  out[at + 3] = d;
}

function convNd(X: Float64Array, W: Float64Array, B: Float64Array | null, out: Float64Array, N: number, C: number, M: number, group: number, inSpatial: readonly number[], g: WindowGeometry): void {
  const r = inSpatial.length;
  const Cg = C / group;
  const Mg = M / group;
  const outSize = sizeOf(g.outSpatial);
  const inSize = sizeOf(inSpatial);
  const kSize = sizeOf(g.kernel);
  const inStrides = stridesOf(inSpatial);
  const oIdx = new Array<number>(r);
  const kIdx = new Array<number>(r);
  for (let n = 0; n < N; n++) {
    for (let oc = 0; oc < M; oc++) {
      const gi = Math.floor(oc / Mg);
      const ob = (n * M + oc) * outSize;
      for (let op = 0; op < outSize; op++) {
        unravel(op, g.outSpatial, oIdx);
        let acc = B === null ? 0 : B[oc]!;
        for (let c = 0; c < Cg; c++) {
          const xb = (n * C + gi * Cg + c) * inSize;
          const wb = (oc * Cg + c) * kSize;
          for (let kp = 0; kp < kSize; kp++) {
            unravel(kp, g.kernel, kIdx);
            const xo = tapOffset(g, oIdx, kIdx, inSpatial, inStrides);
            if (xo >= 0) acc += W[wb + kp]! * X[xb + xo]!;
          }
        }
        out[ob + op] = acc;
      }
    }
  }
}

export const convTransposeRef: ReferenceKernel = (node, inputs) => {
  const { xt, wt, X, W, B, group, N, C } = convOperands(node, inputs);
  const inSpatial = xt.dims.slice(2);
  const r = inSpatial.length;
  const Mg = wt.dims[1]!;
  const M = Mg * group;
  if (wt.dims[0] !== C) throw new ReferenceInputError(node, `W has ${wt.dims[0]} input channels but X has ${C}`);
  const Cg = C / group;
  const { kernel, strides, dilations, autoPad, pads } = convWindow(node, r, wt.dims.slice(2));
  const outPad = node.getInts('output_padding') ?? new Array<number>(r).fill(0);
  const outputShape = node.getInts('output_shape');
  const outSpatial: number[] = [];
  const padBegin: number[] = [];
  for (let i = 0; i < r; i++) {
    const ek = (kernel[i]! - 1) * dilations[i]! + 1;
    const full = strides[i]! * (inSpatial[i]! - 1) + outPad[i]! + ek;
    if (outputShape !== undefined || autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') {
      // SAME: in·stride, or the full extent when that is shorter (no negative padding, as onnxruntime).
      const target = outputShape !== undefined ? outputShape[outputShape.length - r + i]! : Math.min(inSpatial[i]! * strides[i]!, full);
      const total = full - target;
      padBegin.push(autoPad === 'SAME_UPPER' ? Math.floor(total / 2) : total - Math.floor(total / 2));
      outSpatial.push(target);
    } else {
      if (autoPad !== 'NOTSET' && autoPad !== 'VALID') throw new ReferenceUnsupportedError(node, `auto_pad '${autoPad}' is not supported`);
      const pb = autoPad === 'VALID' ? 0 : pads[i]!;
      padBegin.push(pb);
      outSpatial.push(full - pb - (autoPad === 'VALID' ? 0 : pads[i + r]!));
    }
  }
  const outDims = [N, M, ...outSpatial];
  const out = allocF64(sizeOf(outDims));
  const outSize = sizeOf(outSpatial);
  const inSize = sizeOf(inSpatial);
  const kSize = sizeOf(kernel);
  const outStrides = stridesOf(outSpatial);
  const iIdx = new Array<number>(r);
  const kIdx = new Array<number>(r);
  // Precompute, per (input position, kernel position), the output offset (or -1 outside).
  const target = new Int32Array(inSize * kSize);
  for (let ip = 0; ip < inSize; ip++) {
    unravel(ip, inSpatial, iIdx);
    for (let kp = 0; kp < kSize; kp++) {
      unravel(kp, kernel, kIdx);
      let o = 0;
      for (let d = 0; d < r; d++) {
        const p = iIdx[d]! * strides[d]! + kIdx[d]! * dilations[d]! - padBegin[d]!;
        if (p < 0 || p >= outSpatial[d]!) {
          o = -1;
          break;
        }
        o += p * outStrides[d]!;
      }
      target[ip * kSize + kp] = o;
    }
  }
  for (let n = 0; n < N; n++) {
    for (let gi = 0; gi < group; gi++) {
      for (let m = 0; m < Mg; m++) {
        const oc = gi * Mg + m;
        const ob = (n * M + oc) * outSize;
        if (B !== null) out.fill(B[oc]!, ob, ob + outSize);
        for (let c = 0; c < Cg; c++) {
          const ic = gi * Cg + c;
          const xb = (n * C + ic) * inSize;
          const wb = (ic * Mg + m) * kSize;
          for (let ip = 0; ip < inSize; ip++) {
            const xv = X[xb + ip]!;
            const tb = ip * kSize;
            for (let kp = 0; kp < kSize; kp++) {
              const o = target[tb + kp]!;
              if (o >= 0) out[ob + o] += xv * W[wb + kp]!;
            }
          }
        }
      }
    }
  }
  return [{ dtype: xt.dtype, dims: outDims, data: out }];
};
