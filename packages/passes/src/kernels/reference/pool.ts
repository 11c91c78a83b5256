/**
 * Pooling in float64: MaxPool (dilations, ceil_mode, Indices output, storage_order),
 * AveragePool (count_include_pad, ceil_mode, dilations), LpPool, and their Global forms, any
 * spatial rank.
 */
import { DataType, type Node } from '@onnxkit/graph';
import { ReferenceInputError, ReferenceUnsupportedError } from './errors.js';
import { allocF64, allocI64, sizeOf, stridesOf } from './tensor.js';
import { samePad, tapOffset, unravel, type WindowGeometry } from './window.js';
import { windowParams } from '../../ops/shape-helpers.js';
import type { ReferenceKernel, RefTensor } from '../../ops/types.js';

function f64(node: Node, t: RefTensor | null | undefined): Float64Array {
  if (t === null || t === undefined) throw new ReferenceInputError(node, 'X is missing');
  if (!(t.data instanceof Float64Array)) throw new ReferenceUnsupportedError(node, 'X must be a numeric tensor');
  return t.data;
}

interface PoolGeometry extends WindowGeometry {
  padEnd: number[];
}

function poolGeometry(node: Node, inSpatial: readonly number[]): PoolGeometry {
  const r = inSpatial.length;
  const kernel = node.getInts('kernel_shape');
  if (kernel === undefined || kernel.length !== r) throw new ReferenceInputError(node, `kernel_shape must have ${r} entries`);
  const { strides, dilations, ceil, autoPad, pads } = windowParams(node, r, kernel);
  const padBegin: number[] = [];
  const padEnd: number[] = [];
  const outSpatial: number[] = [];
  for (let i = 0; i < r; i++) {
    const ek = (kernel[i]! - 1) * dilations[i]! + 1;
    const n = inSpatial[i]!;
    const s = strides[i]!;
    if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') {
      const same = samePad(n, s, ek, autoPad === 'SAME_UPPER');
      padBegin.push(same.begin);
      padEnd.push(same.total - same.begin);
      outSpatial.push(same.out);
    } else if (autoPad === 'VALID') {
      padBegin.push(0);
      padEnd.push(0);
      outSpatial.push(ceil ? Math.ceil((n - ek) / s) + 1 : Math.floor((n - ek) / s) + 1);
    } else {
      if (autoPad !== 'NOTSET') throw new ReferenceUnsupportedError(node, `auto_pad '${autoPad}' is not supported`);
      const pb = pads[i]!;
      const pe = pads[i + r]!;
      padBegin.push(pb);
      padEnd.push(pe);
      const span = n + pb + pe - ek;
      let o = (ceil ? Math.ceil(span / s) : Math.floor(span / s)) + 1;
      // The last window must start inside the input or the begin padding (PyTorch/ORT rule).
      if (ceil && (o - 1) * s >= n + pb) o--;
      outSpatial.push(o);
    }
  }
  return { kernel, strides, dilations, padBegin, padEnd, outSpatial };
}

type PoolKind = 'max' | 'avg' | 'lp';

function pool(kind: PoolKind): ReferenceKernel {
  return (node, inputs) => {
    const xt = inputs[0]!;
    const X = f64(node, xt);
    const [N, C] = xt.dims as [number, number];
    const inSpatial = xt.dims.slice(2);
    const r = inSpatial.length;
    const g = poolGeometry(node, inSpatial);
    const includePad = node.getInt('count_include_pad', 0) !== 0;
    const p = node.getInt('p', 2);
    const storageOrder = node.getInt('storage_order', 0);
    const wantIndices = kind === 'max' && node.outputs.length > 1 && node.outputs[1]!.name !== '';
    const outDims = [N, C, ...g.outSpatial];
    const outSize = sizeOf(g.outSpatial);
    const inSize = sizeOf(inSpatial);
    const out = allocF64(N * C * outSize);
    const indices = wantIndices ? allocI64(N * C * outSize) : null;
    const inStrides = stridesOf(inSpatial);
    // Column-major strides for storage_order = 1.
    const colStrides: number[] = [];
    {
      let acc = 1;
      for (let d = 0; d < r; d++) {
        colStrides.push(acc);
        acc *= inSpatial[d]!;
      }
    }
    const kSize = sizeOf(g.kernel);
    const oIdx = new Array<number>(r);
    const kIdx = new Array<number>(r);
    // Per output position: the list of in-bounds input offsets and the padded-window count.
    for (let op = 0; op < outSize; op++) {
      unravel(op, g.outSpatial, oIdx);
      const offs: number[] = [];
      const cols: number[] = [];
      let padded = 1;
      for (let d = 0; d < r; d++) {
        const start = oIdx[d]! * g.strides[d]! - g.padBegin[d]!;
        const end = Math.min(start + (g.kernel[d]! - 1) * g.dilations[d]! + 1, inSpatial[d]! + g.padEnd[d]!);
        padded *= Math.floor((end - start - 1) / g.dilations[d]!) + 1;
      }
      for (let kp = 0; kp < kSize; kp++) {
        unravel(kp, g.kernel, kIdx);
        const off = tapOffset(g, oIdx, kIdx, inSpatial, inStrides);
        if (off >= 0) {
          offs.push(off);
          cols.push(tapOffset(g, oIdx, kIdx, inSpatial, colStrides));
        }
      }
      for (let nc = 0; nc < N * C; nc++) {
        const base = nc * inSize;
        const at = nc * outSize + op;
        if (kind === 'max') {
          let mx = -Infinity;
          let arg = -1;
          for (let j = 0; j < offs.length; j++) {
            const v = X[base + offs[j]!]!;
            if (v > mx || (arg < 0 && Number.isNaN(v))) {
              mx = v;
              arg = j;
            }
          }
          out[at] = mx;
          if (indices !== null && arg >= 0) indices[at] = BigInt(base + (storageOrder === 1 ? cols[arg]! : offs[arg]!));
        } else if (kind === 'avg') {
          let s = 0;
          for (let j = 0; j < offs.length; j++) s += X[base + offs[j]!]!;
          out[at] = s / (includePad ? padded : offs.length);
        } else {
          let s = 0;
          for (let j = 0; j < offs.length; j++) s += Math.abs(X[base + offs[j]!]!) ** p;
          out[at] = s ** (1 / p);
        }
      }
    }
    const res: RefTensor[] = [{ dtype: xt.dtype, dims: outDims, data: out }];
    if (indices !== null) res.push({ dtype: DataType.INT64, dims: outDims, data: indices });
    return res;
  };
}

export const maxPoolRef = pool('max');
export const averagePoolRef = pool('avg');
export const lpPoolRef = pool('lp');

function globalPool(kind: PoolKind): ReferenceKernel {
  return (node, inputs) => {
    const xt = inputs[0]!;
    const X = f64(node, xt);
    const [N, C] = xt.dims as [number, number];
    const inner = sizeOf(xt.dims.slice(2));
    const p = node.getInt('p', 2);
    const out = allocF64(N * C);
    for (let nc = 0; nc < N * C; nc++) {
      const base = nc * inner;
      let acc = kind === 'max' ? -Infinity : 0;
      for (let i = 0; i < inner; i++) {
        const v = X[base + i]!;
        if (kind === 'max') acc = v > acc || Number.isNaN(v) ? v : acc;
        else if (kind === 'avg') acc += v;
        else acc += Math.abs(v) ** p;
      }
      out[nc] = kind === 'avg' ? acc / inner : kind === 'lp' ? acc ** (1 / p) : acc;
    }
    return [{ dtype: xt.dtype, dims: [N, C, ...xt.dims.slice(2).map(() => 1)], data: out }];
  };
}

export const globalAveragePoolRef = globalPool('avg');
export const globalMaxPoolRef = globalPool('max');
export const globalLpPoolRef = globalPool('lp');
