/**
 * Conv and ConvTranspose in float64 (groups, dilations, pads, auto_pad, strides, output_padding,
 * output_shape). 2-D Conv runs direct loops ordered for the cache: per output channel (four at a
 * time, sharing each input load), per input channel and kernel tap, a contiguous sweep of an
 * output row. Other ranks and ConvTranspose use a generic N-D loop over flattened positions.
 */
import type { Node } from '@onnxkit/graph';
import { ReferenceInputError, ReferenceUnsupportedError } from '../errors.js';
import { allocF64, sizeOf, stridesOf } from '../tensor.js';
import type { ReferenceKernel, RefTensor } from '../types.js';

function f64(node: Node, t: RefTensor | null | undefined, what: string): Float64Array {
  if (t === null || t === undefined) throw new ReferenceInputError(node, `${what} is missing`);
  if (!(t.data instanceof Float64Array)) throw new ReferenceUnsupportedError(node, `${what} must be a floating-point tensor`);
  return t.data;
}

interface ConvGeometry {
  kernel: number[];
  strides: number[];
  dilations: number[];
  padBegin: number[];
  outSpatial: number[];
}

function convGeometry(node: Node, inSpatial: readonly number[], wSpatial: readonly number[]): ConvGeometry {
  const r = inSpatial.length;
  const kernel = node.getInts('kernel_shape') ?? [...wSpatial];
  const strides = node.getInts('strides') ?? new Array<number>(r).fill(1);
  const dilations = node.getInts('dilations') ?? new Array<number>(r).fill(1);
  const autoPad = node.getString('auto_pad', 'NOTSET');
  let pads = node.getInts('pads') ?? new Array<number>(2 * r).fill(0);
  const outSpatial: number[] = [];
  const padBegin: number[] = [];
  for (let i = 0; i < r; i++) {
    const ek = (kernel[i]! - 1) * dilations[i]! + 1;
    if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') {
      const o = Math.ceil(inSpatial[i]! / strides[i]!);
      const total = Math.max(0, (o - 1) * strides[i]! + ek - inSpatial[i]!);
      const begin = autoPad === 'SAME_UPPER' ? Math.floor(total / 2) : total - Math.floor(total / 2);
      padBegin.push(begin);
      outSpatial.push(o);
    } else if (autoPad === 'VALID') {
      padBegin.push(0);
      outSpatial.push(Math.floor((inSpatial[i]! - ek) / strides[i]!) + 1);
    } else {
      if (autoPad !== 'NOTSET') throw new ReferenceUnsupportedError(node, `auto_pad '${autoPad}' is not supported`);
      if (pads.length !== 2 * r) pads = new Array<number>(2 * r).fill(0);
      padBegin.push(pads[i]!);
      outSpatial.push(Math.floor((inSpatial[i]! + pads[i]! + pads[i + r]! - ek) / strides[i]!) + 1);
    }
  }
  if (outSpatial.some((o) => o < 0)) throw new ReferenceInputError(node, `the output would have a negative size (${outSpatial.join('×')})`);
  return { kernel, strides, dilations, padBegin, outSpatial };
}

export const convRef: ReferenceKernel = (node, inputs) => {
  const xt = inputs[0]!;
  const wt = inputs[1]!;
  const X = f64(node, xt, 'X');
  const W = f64(node, wt, 'W');
  const B = inputs[2] ? f64(node, inputs[2], 'B') : null;
  const group = node.getInt('group', 1);
  const [N, C] = xt.dims as [number, number];
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

function conv2d(X: Float64Array, W: Float64Array, B: Float64Array | null, out: Float64Array, N: number, C: number, M: number, group: number, H: number, Wd: number, OH: number, OW: number, KH: number, KW: number, SH: number, SW: number, DH: number, DW: number, PH: number, PW: number): void {
  const Cg = C / group;
  const Mg = M / group;
  const plane = OH * OW;
  const inPlane = H * Wd;
  const kSize = KH * KW;
  // Valid output-column range per kernel column (independent of the row).
  const owLo = new Int32Array(KW);
  const owHi = new Int32Array(KW);
  for (let kw = 0; kw < KW; kw++) {
    const off = kw * DW - PW;
    owLo[kw] = Math.max(0, Math.ceil(-off / SW));
    owHi[kw] = Math.min(OW, Math.floor((Wd - 1 - off) / SW) + 1);
  }
  const flat = KH === 1 && KW === 1 && SH === 1 && SW === 1 && PH === 0 && PW === 0 && OH === H && OW === Wd;
  for (let n = 0; n < N; n++) {
    for (let gi = 0; gi < group; gi++) {
      for (let m0 = 0; m0 < Mg; m0 += 4) {
        const mc = Math.min(4, Mg - m0);
        const oc0 = gi * Mg + m0;
        const o0 = (n * M + oc0) * plane;
        const o1 = o0 + plane;
        const o2 = o1 + plane;
        const o3 = o2 + plane;
        for (let j = 0; j < mc; j++) {
          const b = B === null ? 0 : B[oc0 + j]!;
          if (b !== 0) out.fill(b, o0 + j * plane, o0 + (j + 1) * plane);
        }
        for (let c = 0; c < Cg; c++) {
          const xb = (n * C + gi * Cg + c) * inPlane;
          const w0b = (oc0 * Cg + c) * kSize;
          const w1b = w0b + Cg * kSize;
          const w2b = w1b + Cg * kSize;
          const w3b = w2b + Cg * kSize;
          if (flat) {
            const w0 = W[w0b]!;
            if (mc === 4) {
              const w1 = W[w1b]!;
              const w2 = W[w2b]!;
              const w3 = W[w3b]!;
              for (let p = 0; p < plane; p++) {
                const xv = X[xb + p]!;
                out[o0 + p] += w0 * xv;
                out[o1 + p] += w1 * xv;
                out[o2 + p] += w2 * xv;
                out[o3 + p] += w3 * xv;
              }
            } else {
              for (let j = 0; j < mc; j++) {
                const w = W[w0b + j * Cg * kSize]!;
                const ob = o0 + j * plane;
                for (let p = 0; p < plane; p++) out[ob + p] += w * X[xb + p]!;
              }
            }
            continue;
          }
          for (let kh = 0; kh < KH; kh++) {
            for (let kw = 0; kw < KW; kw++) {
              const k = kh * KW + kw;
              const lo = owLo[kw]!;
              const hi = owHi[kw]!;
              if (lo >= hi) continue;
              const colOff = kw * DW - PW;
              const w0 = W[w0b + k]!;
              const w1 = mc > 1 ? W[w1b + k]! : 0;
              const w2 = mc > 2 ? W[w2b + k]! : 0;
              const w3 = mc > 3 ? W[w3b + k]! : 0;
              for (let oh = 0; oh < OH; oh++) {
                const ih = oh * SH - PH + kh * DH;
                if (ih < 0 || ih >= H) continue;
                const xr = xb + ih * Wd + colOff;
                const orow = oh * OW;
                if (mc === 4) {
                  if (SW === 1) {
                    for (let ow = lo; ow < hi; ow++) {
                      const xv = X[xr + ow]!;
                      out[o0 + orow + ow] += w0 * xv;
                      out[o1 + orow + ow] += w1 * xv;
                      out[o2 + orow + ow] += w2 * xv;
                      out[o3 + orow + ow] += w3 * xv;
                    }
                  } else {
                    for (let ow = lo; ow < hi; ow++) {
                      const xv = X[xr + ow * SW]!;
                      out[o0 + orow + ow] += w0 * xv;
                      out[o1 + orow + ow] += w1 * xv;
                      out[o2 + orow + ow] += w2 * xv;
                      out[o3 + orow + ow] += w3 * xv;
                    }
                  }
                } else {
                  for (let j = 0; j < mc; j++) {
                    const w = j === 0 ? w0 : j === 1 ? w1 : w2;
                    const ob = o0 + j * plane + orow;
                    for (let ow = lo; ow < hi; ow++) out[ob + ow] += w * X[xr + ow * SW]!;
                  }
                }
              }
            }
          }
        }
      }
    }
  }
}

function convNd(X: Float64Array, W: Float64Array, B: Float64Array | null, out: Float64Array, N: number, C: number, M: number, group: number, inSpatial: readonly number[], g: ConvGeometry): void {
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
        let rem = op;
        for (let d = r - 1; d >= 0; d--) {
          oIdx[d] = rem % g.outSpatial[d]!;
          rem = Math.floor(rem / g.outSpatial[d]!);
        }
        let acc = B === null ? 0 : B[oc]!;
        for (let c = 0; c < Cg; c++) {
          const xb = (n * C + gi * Cg + c) * inSize;
          const wb = (oc * Cg + c) * kSize;
          for (let kp = 0; kp < kSize; kp++) {
            let krem = kp;
            for (let d = r - 1; d >= 0; d--) {
              kIdx[d] = krem % g.kernel[d]!;
              krem = Math.floor(krem / g.kernel[d]!);
            }
            let xo = xb;
            let inside = true;
            for (let d = 0; d < r; d++) {
              const i = oIdx[d]! * g.strides[d]! - g.padBegin[d]! + kIdx[d]! * g.dilations[d]!;
              if (i < 0 || i >= inSpatial[d]!) {
                inside = false;
                break;
              }
              xo += i * inStrides[d]!;
            }
            if (inside) acc += W[wb + kp]! * X[xo]!;
          }
        }
        out[ob + op] = acc;
      }
    }
  }
}

export const convTransposeRef: ReferenceKernel = (node, inputs) => {
  const xt = inputs[0]!;
  const wt = inputs[1]!;
  const X = f64(node, xt, 'X');
  const W = f64(node, wt, 'W');
  const B = inputs[2] ? f64(node, inputs[2], 'B') : null;
  const group = node.getInt('group', 1);
  const [N, C] = xt.dims as [number, number];
  const inSpatial = xt.dims.slice(2);
  const r = inSpatial.length;
  const Mg = wt.dims[1]!;
  const M = Mg * group;
  if (wt.dims[0] !== C) throw new ReferenceInputError(node, `W has ${wt.dims[0]} input channels but X has ${C}`);
  const Cg = C / group;
  const kernel = node.getInts('kernel_shape') ?? wt.dims.slice(2);
  const strides = node.getInts('strides') ?? new Array<number>(r).fill(1);
  const dilations = node.getInts('dilations') ?? new Array<number>(r).fill(1);
  const outPad = node.getInts('output_padding') ?? new Array<number>(r).fill(0);
  const autoPad = node.getString('auto_pad', 'NOTSET');
  const outputShape = node.getInts('output_shape');
  let pads = node.getInts('pads') ?? new Array<number>(2 * r).fill(0);
  const outSpatial: number[] = [];
  const padBegin: number[] = [];
  for (let i = 0; i < r; i++) {
    const ek = (kernel[i]! - 1) * dilations[i]! + 1;
    const full = strides[i]! * (inSpatial[i]! - 1) + outPad[i]! + ek;
    if (outputShape !== undefined || autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') {
      const target = outputShape !== undefined ? outputShape[outputShape.length - r + i]! : inSpatial[i]! * strides[i]!;
      const total = full - target;
      padBegin.push(autoPad === 'SAME_UPPER' ? Math.floor(total / 2) : total - Math.floor(total / 2));
      outSpatial.push(target);
    } else {
      if (autoPad !== 'NOTSET' && autoPad !== 'VALID') throw new ReferenceUnsupportedError(node, `auto_pad '${autoPad}' is not supported`);
      if (autoPad === 'VALID' || pads.length !== 2 * r) pads = new Array<number>(2 * r).fill(0);
      padBegin.push(pads[i]!);
      outSpatial.push(full - pads[i]! - pads[i + r]!);
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
    let rem = ip;
    for (let d = r - 1; d >= 0; d--) {
      iIdx[d] = rem % inSpatial[d]!;
      rem = Math.floor(rem / inSpatial[d]!);
    }
    for (let kp = 0; kp < kSize; kp++) {
      let krem = kp;
      for (let d = r - 1; d >= 0; d--) {
        kIdx[d] = krem % kernel[d]!;
        krem = Math.floor(krem / kernel[d]!);
      }
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
