/**
 * MatMul (numpy semantics: batched, broadcasting, 1-D promotion), Gemm (transA/transB, alpha,
 * beta, broadcast C) and Einsum (explicit or implicit output, no ellipsis) in float64.
 * The inner loops run i-k-j so both B and C are read along rows.
 */
import type { Node } from '@onnxkit/graph';
import { ReferenceInputError, ReferenceUnsupportedError } from '../errors.js';
import { allocF64, broadcastShapes, sizeOf, stridesOf } from '../tensor.js';
import type { ReferenceKernel, RefTensor } from '../types.js';

function f64(node: Node, t: RefTensor | null | undefined, what: string): Float64Array {
  if (t === null || t === undefined) throw new ReferenceInputError(node, `${what} is missing`);
  if (!(t.data instanceof Float64Array)) throw new ReferenceUnsupportedError(node, `${what} must be a floating-point or small-integer tensor`);
  return t.data;
}

/** C[M×N] (+)= A[M×K]·B[K×N], row-major, at the given offsets. */
function gemmBlock(A: Float64Array, ao: number, B: Float64Array, bo: number, C: Float64Array, co: number, M: number, K: number, N: number): void {
  for (let i = 0; i < M; i++) {
    const crow = co + i * N;
    const arow = ao + i * K;
    for (let k = 0; k < K; k++) {
      const a = A[arow + k]!;
      const brow = bo + k * N;
      for (let j = 0; j < N; j++) C[crow + j] += a * B[brow + j]!;
    }
  }
}

export const matMulRef: ReferenceKernel = (node, inputs) => {
  const at = inputs[0]!;
  const bt = inputs[1]!;
  const A = f64(node, at, 'A');
  const B = f64(node, bt, 'B');
  let ad = [...at.dims];
  let bd = [...bt.dims];
  const aVec = ad.length === 1;
  const bVec = bd.length === 1;
  if (aVec) ad = [1, ad[0]!];
  if (bVec) bd = [bd[0]!, 1];
  const M = ad[ad.length - 2]!;
  const K = ad[ad.length - 1]!;
  const N = bd[bd.length - 1]!;
  if (bd[bd.length - 2] !== K) throw new ReferenceInputError(node, `inner dimensions differ: [${at.dims.join(',')}] × [${bt.dims.join(',')}]`);
  const batch = broadcastShapes(node, [ad.slice(0, -2), bd.slice(0, -2)]);
  const nb = sizeOf(batch);
  const out = allocF64(nb * M * N);
  const aBatch = ad.slice(0, -2);
  const bBatch = bd.slice(0, -2);
  const aStr = stridesOf(aBatch);
  const bStr = stridesOf(bBatch);
  const bs = stridesOf(batch);
  for (let b = 0; b < nb; b++) {
    let ai = 0;
    let bi = 0;
    let rem = b;
    for (let d = 0; d < batch.length; d++) {
      const idx = Math.floor(rem / bs[d]!);
      rem -= idx * bs[d]!;
      const da = d - (batch.length - aBatch.length);
      const db = d - (batch.length - bBatch.length);
      if (da >= 0 && aBatch[da]! !== 1) ai += idx * aStr[da]!;
      if (db >= 0 && bBatch[db]! !== 1) bi += idx * bStr[db]!;
    }
    gemmBlock(A, ai * M * K, B, bi * K * N, out, b * M * N, M, K, N);
  }
  const dims = [...batch];
  if (!aVec) dims.push(M);
  if (!bVec) dims.push(N);
  return [{ dtype: at.dtype, dims, data: out }];
};

export const gemmRef: ReferenceKernel = (node, inputs) => {
  const at = inputs[0]!;
  const bt = inputs[1]!;
  const A = f64(node, at, 'A');
  const B = f64(node, bt, 'B');
  const transA = node.getInt('transA', 0) !== 0;
  const transB = node.getInt('transB', 0) !== 0;
  const alpha = node.getFloat('alpha', 1);
  const beta = node.getFloat('beta', 1);
  if (at.dims.length !== 2 || bt.dims.length !== 2) throw new ReferenceInputError(node, 'A and B must be 2-D');
  const M = transA ? at.dims[1]! : at.dims[0]!;
  const K = transA ? at.dims[0]! : at.dims[1]!;
  const N = transB ? bt.dims[0]! : bt.dims[1]!;
  if ((transB ? bt.dims[1] : bt.dims[0]) !== K) throw new ReferenceInputError(node, `inner dimensions differ: A [${at.dims.join(',')}], B [${bt.dims.join(',')}]`);
  const out = allocF64(M * N);
  for (let i = 0; i < M; i++) {
    for (let j = 0; j < N; j++) {
      let acc = 0;
      for (let k = 0; k < K; k++) acc += A[transA ? k * M + i : i * K + k]! * B[transB ? j * K + k : k * N + j]!;
      out[i * N + j] = alpha * acc;
    }
  }
  const ct = inputs[2];
  if (ct && beta !== 0) {
    const Cd = f64(node, ct, 'C');
    const cd = ct.dims;
    const rows = cd.length === 2 ? cd[0]! : 1;
    const cols = cd.length === 0 ? 1 : cd[cd.length - 1]!;
    if ((rows !== 1 && rows !== M) || (cols !== 1 && cols !== N)) throw new ReferenceInputError(node, `C [${cd.join(',')}] does not broadcast to [${M},${N}]`);
    for (let i = 0; i < M; i++) for (let j = 0; j < N; j++) out[i * N + j] += beta * Cd[(rows === 1 ? 0 : i) * cols + (cols === 1 ? 0 : j)]!;
  }
  return [{ dtype: at.dtype, dims: [M, N], data: out }];
};

/** Einsum by a straightforward loop over the union of indices (enough for the forms models use). */
export const einsumRef: ReferenceKernel = (node, inputs) => {
  const eq = (node.getString('equation') ?? '').replace(/\s+/g, '');
  if (eq.includes('.')) throw new ReferenceUnsupportedError(node, `Einsum with an ellipsis ('${eq}') is not supported`);
  const [lhs, rhsGiven] = eq.split('->') as [string, string | undefined];
  const terms = lhs.split(',');
  const ts = inputs.filter((t): t is RefTensor => t !== null);
  if (terms.length !== ts.length) throw new ReferenceInputError(node, `equation '${eq}' names ${terms.length} operands but ${ts.length} are given`);
  const sizes = new Map<string, number>();
  const counts = new Map<string, number>();
  terms.forEach((term, ti) => {
    if (term.length !== ts[ti]!.dims.length) throw new ReferenceInputError(node, `operand ${ti} has rank ${ts[ti]!.dims.length} but '${term}' names ${term.length} axes`);
    [...term].forEach((ch, i) => {
      const d = ts[ti]!.dims[i]!;
      const s = sizes.get(ch);
      if (s !== undefined && s !== d && s !== 1 && d !== 1) throw new ReferenceInputError(node, `index '${ch}' has sizes ${s} and ${d}`);
      sizes.set(ch, Math.max(s ?? d, d));
      counts.set(ch, (counts.get(ch) ?? 0) + 1);
    });
  });
  const rhs = rhsGiven ?? [...counts.keys()].filter((c) => counts.get(c) === 1).sort().join('');
  const outIdx = [...rhs];
  const sumIdx = [...sizes.keys()].filter((c) => !outIdx.includes(c));
  const all = [...outIdx, ...sumIdx];
  const allSizes = all.map((c) => sizes.get(c)!);
  const outDims = outIdx.map((c) => sizes.get(c)!);
  const data = ts.map((t, i) => f64(node, t, `operand ${i}`));
  // Stride of each operand along each index of `all` (0 where absent or broadcast).
  const opStrides = ts.map((t, ti) => {
    const st = stridesOf(t.dims);
    return all.map((c) => {
      let s = 0;
      [...terms[ti]!].forEach((ch, i) => {
        if (ch === c && t.dims[i] !== 1) s += st[i]!;
      });
      return s;
    });
  });
  const nOut = sizeOf(outDims);
  const nSum = sizeOf(sumIdx.map((c) => sizes.get(c)!));
  const out = allocF64(nOut);
  const idx = new Array<number>(all.length).fill(0);
  for (let o = 0; o < nOut; o++) {
    let rem = o;
    for (let d = outIdx.length - 1; d >= 0; d--) {
      idx[d] = rem % allSizes[d]!;
      rem = Math.floor(rem / allSizes[d]!);
    }
    let acc = 0;
    for (let s = 0; s < nSum; s++) {
      let srem = s;
      for (let d = all.length - 1; d >= outIdx.length; d--) {
        idx[d] = srem % allSizes[d]!;
        srem = Math.floor(srem / allSizes[d]!);
      }
      let prod = 1;
      for (let t = 0; t < data.length; t++) {
        let off = 0;
        const st = opStrides[t]!;
        for (let d = 0; d < all.length; d++) off += idx[d]! * st[d]!;
        prod *= data[t]![off]!;
      }
      acc += prod;
    }
    out[o] = acc;
  }
  return [{ dtype: ts[0]!.dtype, dims: outDims, data: out }];
};
