/**
 * ONNX's attention ops of opset 23: Attention (scaled dot-product attention, MHA/GQA/MQA, with an
 * optional mask, causal masking, softcap and a key/value cache) and RotaryEmbedding. onnxruntime-node
 * 1.30 runs both on the CPU (checked: packages/passes/test/ops/attention.test.ts compares the shape
 * rules with the shapes its kernels return, and the float64 references with its values).
 *
 * Layouts: 4-D Q [B, q_heads, q_seq, head], K [B, kv_heads, kv_seq, head], V [B, kv_heads, kv_seq,
 * v_head], Y [B, q_heads, q_seq, v_head]; or 3-D Q [B, q_seq, q_heads·head], K/V [B, kv_seq,
 * kv_heads·head|v_head] with `q_num_heads`/`kv_num_heads`, Y [B, q_seq, q_heads·v_head]. The
 * cache: past_key/past_value [B, kv_heads, past, head|v_head] come before K/V along the sequence,
 * so the scores span total = past + kv_seq, and present_key/present_value are the cache with them.
 * qk_matmul_output is [B, q_heads, q_seq, total].
 *
 * Cost: the two batched MatMuls it replaces, Q·Kᵀ and scores·V: B·q_heads·q_seq·total·(head +
 * v_head) MACs (a grouped K/V head is read by each of its query heads: the MACs are the query
 * heads'); per score element the scale (1), the additive mask (1, for attn_mask and for is_causal
 * each), softcap's c·tanh(x/c) (Div, Tanh, Mul) and the Softmax, counted as those ops' own
 * declarations count them, over the B · q_heads · q_seq · total scores (a product of dims, cost.ts
 * Count's `factors`: a symbolic total or 17 keys over head 8 are counted as any). The MACs and
 * FLOPs are given whenever the shapes are, a symbolic cache too (its total from present_key's
 * shape, as the shape rule wrote it: P + 1 for a decode step); without present_key or
 * qk_matmul_output a symbolic cache's total is unknown, and so are they.
 * RotaryEmbedding rotates `rotary_embedding_dim` (default the whole head) of each head's elements
 * in pairs, x1·cos − x2·sin and x2·cos + x1·sin: 3 per rotated element (3 · rd · B · heads · S),
 * the rest copied.
 */
import { DataType, type Dim, type Node } from '@onnxkit/graph';
import type { ShapeRule } from '../analysis/inference-types.js';
import { ReferenceInputError } from '../kernels/reference/errors.js';
import { allocF64, broadcastIndex, f64Of, floatInput, intsOf } from '../kernels/reference/tensor.js';
import { ATTR, withDefault } from './attributes.js';
import { type CostContext, type Count, type Factors, perOutputOfOp } from './cost.js';
import { ACTIVATION_OPS } from './elementwise-unary.js';
import { SOFTMAX_OPS } from './normalization.js';
import { same } from './shape-helpers.js';
import { defineOp, type OpDef, type ReferenceKernel, type RefTensor } from './types.js';

const SOFTMAX = perOutputOfOp(SOFTMAX_OPS, 'Softmax');
const TANH = perOutputOfOp(ACTIVATION_OPS, 'Tanh');
const SCALE = 1;
const MASK_ADD = 1;
const SOFTCAP = 1 + TANH + 1;

/** The dims Attention's shapes and cost are made of (null where unknown). */
interface AttentionDims {
  batch: Dim;
  qHeads: Dim;
  qSeq: Dim;
  kvHeads: Dim;
  head: Dim;
  vHead: Dim;
  total: Dim;
  threeD: boolean;
}

/** Attention's dims from the shapes of Q (0), K (1), V (2) and past_key (4); `div`/`add` are the dim algebra's. */
function attentionDims(
  node: CostContext['node'],
  shape: (i: number) => readonly Dim[] | null | undefined,
  div: (a: Dim, b: Dim) => Dim,
  add: (a: Dim, b: Dim) => Dim,
): AttentionDims | undefined {
  const q = shape(0);
  const k = shape(1);
  const v = shape(2);
  if (!q || !k || !v || q.length !== k.length || q.length !== v.length || (q.length !== 3 && q.length !== 4)) return undefined;
  const past = node.inputs[4] == null ? undefined : shape(4);
  if (q.length === 4) {
    const kvSeq = k[2]!;
    const total = node.inputs[4] == null ? kvSeq : past && past.length === 4 ? add(past[2]!, kvSeq) : null;
    return { batch: q[0]!, qHeads: q[1]!, qSeq: q[2]!, kvHeads: k[1]!, head: q[3]!, vHead: v[3]!, total, threeD: false };
  }
  const qh = node.getInt('q_num_heads', 0);
  const kvh = node.getInt('kv_num_heads', 0);
  if (qh <= 0 || kvh <= 0) return undefined;
  const kvSeq = k[1]!;
  const total = node.inputs[4] == null ? kvSeq : past && past.length === 4 ? add(past[2]!, kvSeq) : null;
  return { batch: q[0]!, qHeads: qh, qSeq: q[1]!, kvHeads: kvh, head: div(q[2]!, qh), vHead: div(v[2]!, kvh), total, threeD: true };
}

/** Y, present_key, present_value, qk_matmul_output (see the header); Q's type throughout. */
const attentionShape: ShapeRule = (c) => {
  const t = c.dtype(0);
  const n = c.node.outputs.length;
  const d = attentionDims(c.node, (i) => c.shape(i), (a, b) => c.alg.divExact(a, b), (a, b) => c.alg.add(a, b));
  if (!d) {
    if (c.shape(0) && c.shape(0)!.length === 3 && (c.node.getInt('q_num_heads', 0) <= 0 || c.node.getInt('kv_num_heads', 0) <= 0)) c.mismatch('3-D Q, K and V need q_num_heads and kv_num_heads');
    for (let i = 0; i < n; i++) c.out(i, t, null);
    return;
  }
  // onnxruntime: "q_num_heads must be a multiple of kv_num_heads" (each kv head serves a whole group).
  if (typeof d.qHeads === 'number' && typeof d.kvHeads === 'number' && (d.kvHeads <= 0 || d.qHeads % d.kvHeads !== 0)) c.mismatch(`${d.qHeads} query heads are not a multiple of ${d.kvHeads} key/value heads`);
  c.out(0, t, d.threeD ? [d.batch, d.qSeq, c.alg.mul(d.qHeads, d.vHead)] : [d.batch, d.qHeads, d.qSeq, d.vHead]);
  if (n > 1) c.out(1, t, [d.batch, d.kvHeads, d.total, d.head]);
  if (n > 2) c.out(2, t, [d.batch, d.kvHeads, d.total, d.vHead]);
  if (n > 3) c.out(3, t, [d.batch, d.qHeads, d.qSeq, d.total]);
};

const numAdd = (a: Dim, b: Dim): Dim => (typeof a === 'number' && typeof b === 'number' ? a + b : null);
const numDiv = (a: Dim, b: Dim): Dim => (typeof a === 'number' && typeof b === 'number' && b !== 0 && a % b === 0 ? a / b : null);

/**
 * The dims from the cost's shapes (numbers only where the dim algebra would be needed). A cache
 * of symbolic length (a decode step: past_key [B, kv_heads, P, head]) has its total, P + kv_seq,
 * from the shape rule's present_key (dim 2) or qk_matmul_output (dim 3), which the dim algebra
 * wrote.
 */
function costDims(c: CostContext): AttentionDims | undefined {
  const d = attentionDims(c.node, (i) => c.inputShapes[i], numDiv, numAdd);
  if (d !== undefined && d.total === null) {
    const outs = c.node.outputs.length;
    d.total = (outs > 1 ? c.outputShapes[1]?.[2] : undefined) ?? (outs > 3 ? c.outputShapes[3]?.[3] : undefined) ?? null;
  }
  return d;
}

/** Q·Kᵀ and scores·V: B·q_heads·q_seq·total·(head + v_head). */
const attentionMacs = (c: CostContext): Factors => {
  const d = costDims(c);
  if (!d) return { unknown: 'Q, K or V shape unknown (or 3-D without q_num_heads/kv_num_heads)' };
  if (d.head === null || d.vHead === null) return { unknown: 'head sizes unknown' };
  if (d.head === d.vHead) return [d.batch, d.qHeads, d.qSeq, d.total, 2, d.head];
  const inner = numAdd(d.head, d.vHead);
  return inner === null ? { unknown: 'head sizes differ and are not both numbers' } : [d.batch, d.qHeads, d.qSeq, d.total, inner];
};

/** Element-wise work per score, from the node's attributes and inputs. */
function perScore(c: CostContext): number {
  let k = SCALE + SOFTMAX;
  if (c.node.inputs[3] != null) k += MASK_ADD;
  if (c.node.getInt('is_causal', 0) === 1) k += MASK_ADD;
  if (c.node.getFloat('softcap', 0) > 0) k += SOFTCAP;
  return k;
}

/** The per-score work over the B · q_heads · q_seq · total scores (cost.ts Count's factors: symbolic dims too). */
const attentionOps = (c: CostContext): Count => {
  const d = costDims(c);
  if (!d) return { unknown: 'Q, K or V shape unknown' };
  if (d.total === null) return { unknown: 'the number of keys (past + kv_seq) is unknown' };
  return { factors: [perScore(c), d.batch, d.qHeads, d.qSeq, d.total] };
};

/**
 * RotaryEmbedding: 3 per rotated element; `rotary_embedding_dim` of each head's elements are
 * rotated, over B · heads · S heads' rows (4-D [B, heads, S, head]; 3-D [B, S, heads·head]).
 */
const rotaryOps = (c: CostContext): Count => {
  const x = c.inputShapes[0];
  const rd = c.node.getInt('rotary_embedding_dim', 0);
  if (rd === 0) return ROTARY_ALL;
  if (!x || (x.length !== 4 && x.length !== 3)) return { unknown: 'input shape unknown' };
  if (x.length === 4) return { factors: [3, rd, x[0]!, x[1]!, x[2]!] };
  const heads = c.node.getInt('num_heads', 0);
  if (heads <= 0) return { unknown: '3-D input without num_heads' };
  return { factors: [3, rd, x[0]!, x[1]!, heads] };
};
const ROTARY_ALL: Count = Object.freeze({ perInput: 3 });

/**
 * RotaryEmbedding: X's shape; a 3-D X needs num_heads (onnxruntime: "Input shape is 3D, num_heads
 * attribute must be provided"), and rotary_embedding_dim may not exceed the head ("must be less
 * than or equal to head_size").
 */
const rotaryShape: ShapeRule = (c) => {
  const xs = c.shape(0);
  const heads = c.node.getInt('num_heads', 0);
  if (xs && xs.length === 3 && heads <= 0) c.mismatch('3-D X needs num_heads');
  const rd = c.node.getInt('rotary_embedding_dim', 0);
  const head = !xs ? null : xs.length === 4 ? xs[3]! : xs.length === 3 ? numDiv(xs[2]!, heads) : null;
  if (typeof head === 'number' && rd > head) c.mismatch(`rotary_embedding_dim ${rd} exceeds the head size ${head}`);
  same(c);
};

// ---- float64 references


/** A [B, heads, seq, size] copy of a 4-D tensor as is, or of a 3-D [B, seq, heads·size] one split into heads. */
function toHeads(node: Node, t: RefTensor, heads: number, what: string): { data: Float64Array; dims: [number, number, number, number] } {
  const x = floatInput(node, t, what);
  if (t.dims.length === 4) return { data: x, dims: t.dims as unknown as [number, number, number, number] };
  const [b, s, hidden] = t.dims as unknown as [number, number, number];
  if (heads <= 0 || hidden % heads !== 0) throw new ReferenceInputError(node, `${what}'s last dim ${hidden} does not split into ${heads} heads`);
  const size = hidden / heads;
  const out = allocF64(x.length);
  for (let bi = 0; bi < b; bi++) for (let si = 0; si < s; si++) for (let h = 0; h < heads; h++) for (let e = 0; e < size; e++) out[((bi * heads + h) * s + si) * size + e] = x[(bi * s + si) * hidden + h * size + e]!;
  return { data: out, dims: [b, heads, s, size] };
}

/** `past` then `cur` along the sequence axis (2) of [B, heads, seq, size] tensors. */
function concatSeq(past: { data: Float64Array; dims: readonly number[] } | null, cur: { data: Float64Array; dims: readonly number[] }): { data: Float64Array; dims: [number, number, number, number] } {
  const [b, h, s, e] = cur.dims as [number, number, number, number];
  if (!past) return { data: cur.data, dims: [b, h, s, e] };
  const p = past.dims[2]!;
  const out = allocF64(b * h * (p + s) * e);
  for (let bh = 0; bh < b * h; bh++) {
    out.set(past.data.subarray(bh * p * e, (bh + 1) * p * e), bh * (p + s) * e);
    out.set(cur.data.subarray(bh * s * e, (bh + 1) * s * e), bh * (p + s) * e + p * e);
  }
  return { data: out, dims: [b, h, p + s, e] };
}

/** The score of a masked-out key, as onnxruntime writes it: float32's lowest value. */
const MASKED = -3.4028234663852886e38;

/**
 * Attention in float64, in the order onnxruntime-node 1.30's CPU kernel computes it (each step
 * found by comparing with it, attention.test.ts): scores = Q·Kᵀ·scale (scale default 1/√head)
 * over the cache and K/V, each query head reading kv head ⌊h / (q_heads/kv_heads)⌋; softcap
 * c·tanh(x/c); + attn_mask (a float mask added; a bool mask sets the score of a false key to
 * float32's lowest); the causal mask (a key after the query's position, the cache counted:
 * j > i + past, set to the lowest); Softmax over the keys; · V. qk_matmul_output is the scores
 * after Q·Kᵀ·scale for `qk_matmul_output_mode` 0 and 1 (onnxruntime writes mode 1 without the
 * mask), after the masks for 2, after Softmax for 3.
 */
export const attentionRef: ReferenceKernel = (node, inputs) => {
  const [qt, kt, vt] = inputs;
  if (!qt || !kt || !vt) throw new ReferenceInputError(node, 'Q, K and V are required');
  const threeD = qt.dims.length === 3;
  const q = toHeads(node, qt, node.getInt('q_num_heads', 0), 'Q');
  const kvHeads = node.getInt('kv_num_heads', 0);
  const pastK = inputs[4] ? { data: floatInput(node, inputs[4], 'past_key'), dims: inputs[4].dims } : null;
  const pastV = inputs[5] ? { data: floatInput(node, inputs[5], 'past_value'), dims: inputs[5].dims } : null;
  const k = concatSeq(pastK, toHeads(node, kt, kvHeads, 'K'));
  const v = concatSeq(pastV, toHeads(node, vt, kvHeads, 'V'));
  const [B, QH, QS, E] = q.dims;
  const [, KH, T] = k.dims;
  const VE = v.dims[3];
  if (KH === 0 || QH % KH !== 0 || k.dims[3] !== E) throw new ReferenceInputError(node, `Q [${q.dims.join(',')}] and K [${k.dims.join(',')}] do not match`);
  const group = QH / KH;
  const past = pastK ? pastK.dims[2]! : 0;
  const scale = node.getFloat('scale', 1 / Math.sqrt(E));
  const softcap = node.getFloat('softcap', 0);
  const causal = node.getInt('is_causal', 0) === 1;
  const mode = node.getInt('qk_matmul_output_mode', 0);
  const maskT = inputs[3] ?? null;
  const scoreDims = [B, QH, QS, T];
  const mask = maskT ? f64Of(maskT) : null;
  const maskIdx = maskT ? broadcastIndex(maskT.dims, scoreDims) : null;
  const boolMask = maskT?.dtype === DataType.BOOL;
  const y = allocF64(B * QH * QS * VE);
  const qk = allocF64(B * QH * QS * T);
  const row = new Float64Array(T);
  for (let b = 0; b < B; b++)
    for (let h = 0; h < QH; h++) {
      const kh = Math.floor(h / group);
      const kBase = (b * KH + kh) * T * E;
      const vBase = (b * KH + kh) * T * VE;
      for (let i = 0; i < QS; i++) {
        const qBase = ((b * QH + h) * QS + i) * E;
        const sBase = ((b * QH + h) * QS + i) * T;
        for (let j = 0; j < T; j++) {
          let acc = 0;
          for (let e = 0; e < E; e++) acc += q.data[qBase + e]! * k.data[kBase + j * E + e]!;
          let sc = acc * scale;
          if (mode <= 1) qk[sBase + j] = sc;
          if (softcap > 0) sc = softcap * Math.tanh(sc / softcap);
          if (mask) {
            const m = mask[maskIdx ? maskIdx[sBase + j]! : sBase + j]!;
            sc = boolMask ? (m ? sc : MASKED) : sc + m;
          }
          if (causal && j > i + past) sc = MASKED;
          if (mode === 2) qk[sBase + j] = sc;
          row[j] = sc;
        }
        let max = -Infinity;
        for (let j = 0; j < T; j++) if (row[j]! > max) max = row[j]!;
        let sum = 0;
        for (let j = 0; j < T; j++) sum += row[j] = Math.exp(row[j]! - max);
        for (let j = 0; j < T; j++) {
          row[j] = row[j]! / sum;
          if (mode === 3) qk[sBase + j] = row[j]!;
        }
        const yBase = ((b * QH + h) * QS + i) * VE;
        for (let j = 0; j < T; j++) {
          const p = row[j]!;
          for (let e = 0; e < VE; e++) y[yBase + e] += p * v.data[vBase + j * VE + e]!;
        }
      }
    }
  let yOut: RefTensor = { dtype: qt.dtype, dims: [B, QH, QS, VE], data: y };
  if (threeD) {
    const t = allocF64(y.length);
    for (let b = 0; b < B; b++) for (let h = 0; h < QH; h++) for (let i = 0; i < QS; i++) for (let e = 0; e < VE; e++) t[(b * QS + i) * QH * VE + h * VE + e] = y[((b * QH + h) * QS + i) * VE + e]!;
    yOut = { dtype: qt.dtype, dims: [B, QS, QH * VE], data: t };
  }
  return [yOut, { dtype: qt.dtype, dims: k.dims, data: k.data }, { dtype: qt.dtype, dims: v.dims, data: v.data }, { dtype: qt.dtype, dims: scoreDims, data: qk }];
};

/**
 * RotaryEmbedding in float64: per head, the first `rotary_embedding_dim` elements (default the
 * head) rotated in pairs — halves, or even/odd elements when `interleaved` — by the cos/sin of
 * the token's position (cos_cache[position_ids] [B, S, rd/2], or cos_cache itself as [B, S, rd/2]);
 * x1·cos − x2·sin, x2·cos + x1·sin; the rest copied. 4-D X is [B, heads, S, head], 3-D [B, S, heads·head].
 */
export const rotaryEmbeddingRef: ReferenceKernel = (node, inputs) => {
  const xt = inputs[0];
  if (!xt) throw new ReferenceInputError(node, 'X is required');
  const x = floatInput(node, xt, 'X');
  const cos = floatInput(node, inputs[1], 'cos_cache');
  const sin = floatInput(node, inputs[2], 'sin_cache');
  if (xt.dims.length !== 3 && xt.dims.length !== 4) throw new ReferenceInputError(node, `X has rank ${xt.dims.length}, not 3 or 4`);
  const four = xt.dims.length === 4;
  const B = xt.dims[0]!;
  const H = four ? xt.dims[1]! : node.getInt('num_heads', 0);
  const S = four ? xt.dims[2]! : xt.dims[1]!;
  const E = four ? xt.dims[3]! : H > 0 ? xt.dims[2]! / H : NaN;
  if (!Number.isInteger(E) || E <= 0) throw new ReferenceInputError(node, '3-D X needs num_heads dividing its last dim');
  const rd = node.getInt('rotary_embedding_dim', 0) || E;
  // onnxruntime refuses rd > head; an odd rd has no pairs to rotate (onnxruntime returns a result
  // the spec does not define: refused, not guessed).
  if (rd > E) throw new ReferenceInputError(node, `rotary_embedding_dim ${rd} exceeds the head size ${E}`);
  if (rd <= 0 || rd % 2 !== 0) throw new ReferenceInputError(node, `rotary_embedding_dim ${rd} is not a positive even number`);
  const half = rd / 2;
  const interleaved = node.getInt('interleaved', 0) === 1;
  const pos = inputs[3] ? intsOf(node, inputs[3], 'position_ids') : null;
  // The caches: [max_position, rd/2] read at position_ids [B, S], or [B, S, rd/2] without them.
  const cd = inputs[1]!.dims;
  const want = pos ? null : [B, S, half];
  const rows = pos ? cd[0]! : B * S;
  if ((pos ? cd.length !== 2 || cd[1] !== half : cd.length !== 3 || cd.some((d, i) => d !== want![i])) || inputs[2]!.dims.length !== cd.length || inputs[2]!.dims.some((d, i) => d !== cd[i]))
    throw new ReferenceInputError(node, `cos_cache [${cd.join(',')}] and sin_cache [${inputs[2]!.dims.join(',')}] are not ${pos ? `[max_position, ${half}]` : `[${want!.join(',')}]`}`);
  if (pos) {
    if (pos.length !== B * S) throw new ReferenceInputError(node, `position_ids has ${pos.length} elements, not B·S = ${B * S}`);
    for (let i = 0; i < pos.length; i++) if (!(pos[i]! >= 0 && pos[i]! < rows)) throw new ReferenceInputError(node, `position_id ${pos[i]} is outside the cache's ${rows} rows`);
  }
  const out = Float64Array.from(x);
  for (let b = 0; b < B; b++)
    for (let s = 0; s < S; s++) {
      const c = (pos ? pos[b * S + s]! : b * S + s) * half;
      for (let h = 0; h < H; h++) {
        const base = four ? ((b * H + h) * S + s) * E : (b * S + s) * H * E + h * E;
        for (let i = 0; i < half; i++) {
          const i1 = interleaved ? base + 2 * i : base + i;
          const i2 = interleaved ? base + 2 * i + 1 : base + i + half;
          const x1 = x[i1]!;
          const x2 = x[i2]!;
          out[i1] = x1 * cos[c + i]! - x2 * sin[c + i]!;
          out[i2] = x2 * cos[c + i]! + x1 * sin[c + i]!;
        }
      }
    }
  return [{ dtype: xt.dtype, dims: xt.dims, data: out }];
};

export const ATTENTION_OPS: readonly OpDef[] = [
  defineOp({
    type: 'Attention',
    attributes: {
      is_causal: withDefault(ATTR.is_causal, 0),
      kv_num_heads: ATTR.kv_num_heads,
      q_num_heads: ATTR.q_num_heads,
      qk_matmul_output_mode: withDefault(ATTR.qk_matmul_output_mode, 0),
      scale: ATTR.scale,
      softcap: withDefault(ATTR.softcap, 0),
      softmax_precision: ATTR.softmax_precision,
    },
    shape: attentionShape,
    reference: attentionRef,
    // Q, K, V and the cache are activations; a constant float mask is not learnable.
    cost: { macs: attentionMacs, ops: attentionOps, opsNote: `per score: scale ${SCALE}, Softmax ${SOFTMAX}, +${MASK_ADD} per mask (attn_mask, is_causal), +${SOFTCAP} softcap` },
  }),
  defineOp({
    type: 'RotaryEmbedding',
    attributes: { interleaved: withDefault(ATTR.interleaved, 0), num_heads: ATTR.num_heads, rotary_embedding_dim: withDefault(ATTR.rotary_embedding_dim, 0) },
    shape: rotaryShape,
    reference: rotaryEmbeddingRef,
    cost: { ops: rotaryOps, opsNote: '3 per rotated element' },
  }),
];
