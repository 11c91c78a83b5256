/**
 * LSTM in float64 (ONNX opset 7–22): forward, reverse and bidirectional; layout 0 and 1; initial
 * h/c; peepholes; clip; input_forget; the default activations (Sigmoid, Tanh, Tanh) and the common
 * alternatives (Relu, HardSigmoid, LeakyRelu, Affine…) are refused unless default. sequence_lens
 * is honoured per batch entry (outputs past a sequence's end are 0, Y_h/Y_c its last state).
 * Gate order as ONNX: i, o, f, c.
 */
import { ReferenceInputError, ReferenceUnsupportedError } from './errors.js';
import { allocF64, intsOf } from './tensor.js';
import type { ReferenceKernel, RefTensor } from '../../ops/types.js';

const sigmoid = (x: number): number => (x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x)));

/** The inputs and attributes LSTM, GRU and RNN share, with W checked against `gatesPerUnit`·H rows. */
function recurrentInputs(node: Parameters<ReferenceKernel>[0], inputs: Parameters<ReferenceKernel>[1], xt: RefTensor, wt: RefTensor, rt: RefTensor, gatesPerUnit: number) {
  const H = node.getInt('hidden_size') ?? rt.dims[2]!;
  const direction = node.getString('direction', 'forward');
  const numDir = direction === 'bidirectional' ? 2 : 1;
  const layout = node.getInt('layout', 0);
  const X = xt.data as Float64Array;
  const W = wt.data as Float64Array;
  const R = rt.data as Float64Array;
  const B = inputs[3] ? (inputs[3].data as Float64Array) : null;
  const seqLens = inputs[4] ? intsOf(node, inputs[4], 'sequence_lens') : null;
  const h0 = inputs[5] ? (inputs[5].data as Float64Array) : null;
  const [T, N, I] = layout === 0 ? (xt.dims as [number, number, number]) : [xt.dims[1]!, xt.dims[0]!, xt.dims[2]!];
  if (wt.dims[1] !== gatesPerUnit * H || wt.dims[2] !== I) throw new ReferenceInputError(node, `W is [${wt.dims.join(',')}], expected [${numDir},${gatesPerUnit * H},${I}]`);
  return { H, direction, numDir, layout, X, W, R, B, seqLens, h0, T, N, I };
}

export const lstmRef: ReferenceKernel = (node, inputs) => {
  const xt = inputs[0];
  const wt = inputs[1];
  const rt = inputs[2];
  if (!xt || !wt || !rt) throw new ReferenceInputError(node, 'X, W and R are required');
  const acts = node.getStrings('activations');
  if (acts !== undefined && acts.join(',').toLowerCase() !== ['sigmoid', 'tanh', 'tanh'].concat(acts.length > 3 ? ['sigmoid', 'tanh', 'tanh'] : []).join(',')) {
    throw new ReferenceUnsupportedError(node, `LSTM activations ${acts.join(',')} are not supported (only the defaults)`);
  }
  const clip = node.getFloat('clip');
  const inputForget = node.getInt('input_forget', 0) !== 0;
  const c0 = inputs[6] ? (inputs[6].data as Float64Array) : null;
  const P = inputs[7] ? (inputs[7].data as Float64Array) : null;
  const { H, direction, numDir, layout, X, W, R, B, seqLens, h0, T, N, I } = recurrentInputs(node, inputs, xt, wt, rt, 4);
  const xAt = (t: number, n: number, i: number): number => X[layout === 0 ? (t * N + n) * I + i : (n * T + t) * I + i]!;
  const Y = allocF64(T * numDir * N * H);
  const Yh = allocF64(numDir * N * H);
  const Yc = allocF64(numDir * N * H);
  const f = (v: number): number => (clip === undefined ? v : Math.max(-clip, Math.min(clip, v)));
  const gates = new Float64Array(4 * H);
  for (let d = 0; d < numDir; d++) {
    const reverse = direction === 'reverse' || d === 1;
    const wOff = d * 4 * H * I;
    const rOff = d * 4 * H * H;
    const bOff = d * 8 * H;
    const pOff = d * 3 * H;
    for (let n = 0; n < N; n++) {
      const len = seqLens ? seqLens[n]! : T;
      const h = new Float64Array(H);
      const c = new Float64Array(H);
      for (let j = 0; j < H; j++) {
        // initial_h/c are [num_directions, batch, hidden] (layout 0) or [batch, num_directions, hidden].
        const at = layout === 0 ? (d * N + n) * H + j : (n * numDir + d) * H + j;
        h[j] = h0 ? h0[at]! : 0;
        c[j] = c0 ? c0[at]! : 0;
      }
      for (let s = 0; s < len; s++) {
        const t = reverse ? len - 1 - s : s;
        for (let g = 0; g < 4 * H; g++) {
          let acc = B ? B[bOff + g]! + B[bOff + 4 * H + g]! : 0;
          const wr = wOff + g * I;
          for (let i = 0; i < I; i++) acc += W[wr + i]! * xAt(t, n, i);
          const rr = rOff + g * H;
          for (let k = 0; k < H; k++) acc += R[rr + k]! * h[k]!;
          gates[g] = acc;
        }
        for (let j = 0; j < H; j++) {
          const pi = P ? P[pOff + j]! : 0;
          const po = P ? P[pOff + H + j]! : 0;
          const pf = P ? P[pOff + 2 * H + j]! : 0;
          const it = sigmoid(f(gates[j]! + pi * c[j]!));
          const ft = inputForget ? 1 - it : sigmoid(f(gates[2 * H + j]! + pf * c[j]!));
          const ct = Math.tanh(f(gates[3 * H + j]!));
          const cNew = ft * c[j]! + it * ct;
          const ot = sigmoid(f(gates[H + j]! + po * cNew));
          c[j] = cNew;
          gates[j] = ot * Math.tanh(cNew);
        }
        for (let j = 0; j < H; j++) {
          h[j] = gates[j]!;
          Y[layout === 0 ? ((t * numDir + d) * N + n) * H + j : ((n * T + t) * numDir + d) * H + j] = h[j]!;
        }
      }
      for (let j = 0; j < H; j++) {
        const at = layout === 0 ? (d * N + n) * H + j : (n * numDir + d) * H + j;
        Yh[at] = h[j]!;
        Yc[at] = c[j]!;
      }
    }
  }
  const dt = xt.dtype;
  const out: RefTensor[] = [
    { dtype: dt, dims: layout === 0 ? [T, numDir, N, H] : [N, T, numDir, H], data: Y },
    { dtype: dt, dims: layout === 0 ? [numDir, N, H] : [N, numDir, H], data: Yh },
    { dtype: dt, dims: layout === 0 ? [numDir, N, H] : [N, numDir, H], data: Yc },
  ];
  return out;
};

/** Shared driver of GRU and RNN: per direction and batch entry, `step` maps (x_t, h) to h. */
function recurrent(node: Parameters<ReferenceKernel>[0], inputs: Parameters<ReferenceKernel>[1], gatesPerUnit: number, defaults: string[], step: (x: (i: number) => number, h: Float64Array, W: Float64Array, R: Float64Array, B: Float64Array | null, wOff: number, rOff: number, bOff: number, H: number, I: number) => void): RefTensor[] {
  const xt = inputs[0];
  const wt = inputs[1];
  const rt = inputs[2];
  if (!xt || !wt || !rt) throw new ReferenceInputError(node, 'X, W and R are required');
  const acts = node.getStrings('activations');
  const want = node.getString('direction', 'forward') === 'bidirectional' ? [...defaults, ...defaults] : defaults;
  if (acts !== undefined && acts.map((a) => a.toLowerCase()).join(',') !== want.join(',')) throw new ReferenceUnsupportedError(node, `${node.opType} activations ${acts.join(',')} are not supported (only the defaults)`);
  if (node.getFloat('clip') !== undefined) throw new ReferenceUnsupportedError(node, `${node.opType} with clip is not supported`);
  const { H, direction, numDir, layout, X, W, R, B, seqLens, h0, T, N, I } = recurrentInputs(node, inputs, xt, wt, rt, gatesPerUnit);
  const Y = allocF64(T * numDir * N * H);
  const Yh = allocF64(numDir * N * H);
  for (let d = 0; d < numDir; d++) {
    const reverse = direction === 'reverse' || d === 1;
    for (let n = 0; n < N; n++) {
      const len = seqLens ? seqLens[n]! : T;
      const h = new Float64Array(H);
      for (let j = 0; j < H; j++) h[j] = h0 ? h0[layout === 0 ? (d * N + n) * H + j : (n * numDir + d) * H + j]! : 0;
      for (let s = 0; s < len; s++) {
        const t = reverse ? len - 1 - s : s;
        const x = (i: number): number => X[layout === 0 ? (t * N + n) * I + i : (n * T + t) * I + i]!;
        step(x, h, W, R, B, d * gatesPerUnit * H * I, d * gatesPerUnit * H * H, d * 2 * gatesPerUnit * H, H, I);
        for (let j = 0; j < H; j++) Y[layout === 0 ? ((t * numDir + d) * N + n) * H + j : ((n * T + t) * numDir + d) * H + j] = h[j]!;
      }
      for (let j = 0; j < H; j++) Yh[layout === 0 ? (d * N + n) * H + j : (n * numDir + d) * H + j] = h[j]!;
    }
  }
  return [
    { dtype: xt.dtype, dims: layout === 0 ? [T, numDir, N, H] : [N, T, numDir, H], data: Y },
    { dtype: xt.dtype, dims: layout === 0 ? [numDir, N, H] : [N, numDir, H], data: Yh },
  ];
}

/** Σ_i W[row, i]·x_i over a row of a [gates·H, I] block. */
function dotRow(W: Float64Array, off: number, x: (i: number) => number, n: number): number {
  let s = 0;
  for (let i = 0; i < n; i++) s += W[off + i]! * x(i);
  return s;
}

export const gruRef: ReferenceKernel = (node, inputs) => {
  const lbr = node.getInt('linear_before_reset', 0) !== 0;
  return recurrent(node, inputs, 3, ['sigmoid', 'tanh'], (x, h, W, R, B, wOff, rOff, bOff, H, I) => {
    const hp = Float64Array.from(h);
    const hv = (i: number): number => hp[i]!;
    const bias = (k: number): number => (B === null ? 0 : B[bOff + k]!);
    const z = new Float64Array(H);
    const r = new Float64Array(H);
    for (let j = 0; j < H; j++) {
      z[j] = sigmoid(dotRow(W, wOff + j * I, x, I) + dotRow(R, rOff + j * H, hv, H) + bias(j) + bias(3 * H + j));
      r[j] = sigmoid(dotRow(W, wOff + (H + j) * I, x, I) + dotRow(R, rOff + (H + j) * H, hv, H) + bias(H + j) + bias(4 * H + j));
    }
    const rh = (i: number): number => r[i]! * hp[i]!;
    for (let j = 0; j < H; j++) {
      const wx = dotRow(W, wOff + (2 * H + j) * I, x, I) + bias(2 * H + j);
      const rec = lbr ? r[j]! * (dotRow(R, rOff + (2 * H + j) * H, hv, H) + bias(5 * H + j)) : dotRow(R, rOff + (2 * H + j) * H, rh, H) + bias(5 * H + j);
      const ht = Math.tanh(wx + rec);
      h[j] = (1 - z[j]!) * ht + z[j]! * hp[j]!;
    }
  });
};

export const rnnRef: ReferenceKernel = (node, inputs) =>
  recurrent(node, inputs, 1, ['tanh'], (x, h, W, R, B, wOff, rOff, bOff, H, I) => {
    const hp = Float64Array.from(h);
    const hv = (i: number): number => hp[i]!;
    for (let j = 0; j < H; j++) h[j] = Math.tanh(dotRow(W, wOff + j * I, x, I) + dotRow(R, rOff + j * H, hv, H) + (B === null ? 0 : B[bOff + j]! + B[bOff + H + j]!));
  });
