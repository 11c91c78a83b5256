/**
 * A configurable transformer block stack, written the way `torch.onnx.export` writes one:
 * Linear layers on 3-D inputs as MatMul + Add (weights stored transposed, [in, out]), attention
 * as batched MatMuls over [batch, heads, seq, head_dim] with Reshape/Transpose around them,
 * Softmax over the last axis, LayerNormalization (decomposed into ReduceMean/Sub/Pow/Sqrt/Div
 * below opset 17, as PyTorch does), and GELU as the erf formula
 * x · 0.5 · (1 + erf(x / √2)) or, from opset 20, the Gelu op.
 *
 * Two flavours:
 * - encoder (default): post-LN blocks as nn.TransformerEncoderLayer(norm_first=False);
 *   with a vocabulary, token + position embeddings followed by a LayerNorm (BERT-style).
 * - decoder-only (`causal: true`): pre-LN blocks with an additive causal mask and a final
 *   LayerNorm (GPT-style).
 * With `vocab`, the input is `input_ids` (int64 [batch, seq]) and the output logits
 * [batch, seq, vocab] through an `lm_head` MatMul; without it the input and output are hidden
 * states [batch, seq, dModel].
 *
 * When the batch or sequence dim is symbolic, reshape targets are computed at run time with
 * the Shape → Gather → Unsqueeze → Concat → Reshape chains PyTorch exports (once per attention
 * block, as PyTorch does); positions and the causal mask are sliced from tables of `maxSeqLen`
 * rows. With static dims they are Constant nodes.
 *
 * Large models: `weights: 'zeros'` or `lazy: true` build a multi-GiB model in O(structure)
 * time and memory.
 */
import { Attribute, DataType, Tensor, type Model, type Value } from '@onnxkit/graph';
import { ZooError } from './errors.js';
import { Net } from './net.js';
import { intOption, resolveOptions, type ZooOptions } from './options.js';
import { uniform, uniformRange, type Fill } from './weights.js';

export interface TransformerOptions extends ZooOptions {
  /** Number of blocks. Default 2. */
  layers?: number;
  /** Hidden size. Default 64. */
  dModel?: number;
  /** Attention heads; must divide dModel. Default 4. */
  heads?: number;
  /** Feed-forward hidden size. Default 4·dModel. */
  ffn?: number;
  /** Sequence length: a positive integer, or a string for a symbolic dim. Default 16. */
  seqLen?: number | string;
  /** Rows of the position table and causal mask. Default: seqLen if numeric, else 512. */
  maxSeqLen?: number;
  /** Vocabulary size: adds token/position embeddings and an LM head. */
  vocab?: number;
  /** Decoder-only (GPT-style, pre-LN, causal mask). Default false (encoder, post-LN). */
  causal?: boolean;
  /** 'erf' (default): the formula PyTorch exports; 'op': the Gelu operator (opset ≥ 20). */
  gelu?: 'erf' | 'op';
}

export const LAYER_NORM_EPSILON = 1e-5;
/** Additive mask value: large enough to zero a softmax weight, finite so no inf·0 = NaN anywhere. */
const MASK_VALUE = -1e9;

const i64 = (values: readonly number[], dims: readonly number[] = [values.length]): Tensor => Tensor.fromNumbers(DataType.INT64, dims, values);
const f32 = (value: number): Tensor => Tensor.scalar(DataType.FLOAT, value);

interface Dims {
  /** [batch, seq] as Unsqueezed 1-D int64 values (dynamic) or null (static). */
  dynamic: { batch: Value; seq: Value } | null;
}

class TransformerNet {
  readonly net: Net;
  readonly d: number;
  readonly heads: number;
  readonly headDim: number;
  readonly ffn: number;
  readonly batch: number | string;
  readonly seq: number | string;
  readonly gelu: 'erf' | 'op';
  /** The module path, mirrored from the builder's naming scope (PRNG streams are keyed by full names). */
  readonly #path: string[] = [];

  constructor(net: Net, d: number, heads: number, ffn: number, seq: number | string, gelu: 'erf' | 'op') {
    this.net = net;
    this.d = d;
    this.heads = heads;
    this.headDim = d / heads;
    this.ffn = ffn;
    this.batch = net.o.batch;
    this.seq = seq;
    this.gelu = gelu;
  }

  get b() {
    return this.net.b;
  }

  /** Runs `fn` with the module path `name` as the naming scope. */
  scope<T>(name: string, fn: () => T): T {
    this.#path.push(name);
    try {
      return this.b.scope(name, fn);
    } finally {
      this.#path.pop();
    }
  }

  /** A parameter `<module path>.<name>`, drawn from the stream of that full name. */
  param(name: string, dims: readonly number[], fill: Fill): Value {
    const full = [...this.#path, name].join('.');
    const value = this.b.constant(name, this.net.w.float(full, dims, fill).tensor);
    if (value.name !== full) throw new ZooError(`internal: parameter '${full}' was registered as '${value.name}' (duplicate module path)`);
    return value;
  }

  const(t: Tensor): Value {
    return this.b.op('Constant', [], { value: t });
  }

  /** nn.Linear on a 3-D input: MatMul(x, W[in,out]) + b. */
  linear(name: string, x: Value, inF: number, outF: number, bias = true): Value {
    return this.scope(name, () => {
      const bound = 1 / Math.sqrt(inF);
      const w = this.param('weight', [inF, outF], uniform(bound));
      const y = this.b.op('MatMul', [x, w]);
      if (!bias) return y;
      const bv = this.param('bias', [outF], uniform(bound));
      return this.b.op('Add', [bv, y]);
    });
  }

  layerNorm(name: string, x: Value): Value {
    return this.scope(name, () => {
      const scale = this.param('weight', [this.d], uniformRange(0.8, 1.2));
      const bias = this.param('bias', [this.d], uniformRange(-0.1, 0.1));
      if (this.net.o.opset >= 17) {
        return this.b.op('LayerNormalization', [x, scale, bias], { axis: -1, epsilon: Attribute.float('epsilon', LAYER_NORM_EPSILON) });
      }
      const mean = this.b.op('ReduceMean', [x], { axes: [-1], keepdims: 1 });
      const centred = this.b.op('Sub', [x, mean]);
      const sq = this.b.op('Pow', [centred, this.const(f32(2))]);
      const variance = this.b.op('ReduceMean', [sq], { axes: [-1], keepdims: 1 });
      const std = this.b.op('Sqrt', [this.b.op('Add', [variance, this.const(f32(LAYER_NORM_EPSILON))])]);
      const normed = this.b.op('Div', [centred, std]);
      return this.b.op('Add', [this.b.op('Mul', [normed, scale]), bias]);
    });
  }

  geluAct(x: Value): Value {
    if (this.gelu === 'op') return this.b.op('Gelu', [x]);
    const e = this.b.op('Erf', [this.b.op('Div', [x, this.const(f32(Math.SQRT2))])]);
    const onePlus = this.b.op('Add', [e, this.const(f32(1))]);
    return this.b.op('Mul', [this.b.op('Mul', [x, onePlus]), this.const(f32(0.5))]);
  }

  /** Dims `axes` of `x` as 1-D int64 values, the way PyTorch's export computes them. */
  runtimeDims(x: Value, axes: readonly number[]): Value[] {
    const shape = this.b.op('Shape', [x]);
    return axes.map((i) => {
      const g = this.b.op('Gather', [shape, this.const(Tensor.scalar(DataType.INT64, i))], { axis: 0 });
      return this.b.op('Unsqueeze', [g, this.const(i64([0]))]);
    });
  }

  /** A reshape target [batch, seq, ...tail]: a Constant for static dims, else a Concat chain. */
  shape(dims: Dims, tail: readonly number[]): Value {
    if (dims.dynamic === null) return this.const(i64([this.batch as number, this.seq as number, ...tail]));
    return this.b.op('Concat', [dims.dynamic.batch, dims.dynamic.seq, ...tail.map((t) => this.const(i64([t])))], { axis: 0 });
  }

  attention(name: string, x: Value, mask: Value | null): Value {
    return this.scope(name, () => {
      let dims: Dims = { dynamic: null };
      if (typeof this.batch === 'string' || typeof this.seq === 'string') {
        const [batch, seq] = this.runtimeDims(x, [0, 1]);
        dims = { dynamic: { batch: batch!, seq: seq! } };
      }
      const q = this.linear('q_proj', x, this.d, this.d);
      const k = this.linear('k_proj', x, this.d, this.d);
      const v = this.linear('v_proj', x, this.d, this.d);
      const split = this.shape(dims, [this.heads, this.headDim]);
      const heads = (t: Value, perm: number[]): Value => this.b.op('Transpose', [this.b.op('Reshape', [t, split])], { perm });
      const qh = heads(q, [0, 2, 1, 3]);
      const kt = heads(k, [0, 2, 3, 1]);
      const vh = heads(v, [0, 2, 1, 3]);
      let scores = this.b.op('Div', [this.b.op('MatMul', [qh, kt]), this.const(f32(Math.sqrt(this.headDim)))]);
      if (mask) scores = this.b.op('Add', [scores, mask]);
      const probs = this.b.op('Softmax', [scores], { axis: -1 });
      const ctx = this.b.op('Transpose', [this.b.op('MatMul', [probs, vh])], { perm: [0, 2, 1, 3] });
      const merged = this.b.op('Reshape', [ctx, this.shape(dims, [this.d])]);
      return this.linear('out_proj', merged, this.d, this.d);
    });
  }

  feedForward(x: Value): Value {
    const h = this.geluAct(this.linear('linear1', x, this.d, this.ffn));
    return this.linear('linear2', h, this.ffn, this.d);
  }
}

export function transformer(o: TransformerOptions = {}): Model {
  const causal = o.causal ?? false;
  const model = causal ? 'transformer (decoder)' : 'transformer (encoder)';
  const r = resolveOptions('transformer', o, 13);
  const layers = intOption('transformer', 'layers', o.layers ?? 2, 0);
  const d = intOption('transformer', 'dModel', o.dModel ?? 64, 1);
  const heads = intOption('transformer', 'heads', o.heads ?? 4, 1);
  if (d % heads !== 0) throw new ZooError(`transformer: dModel ${d} is not divisible by heads ${heads}`, { hint: 'choose heads dividing dModel' });
  const ffn = intOption('transformer', 'ffn', o.ffn ?? 4 * d, 1);
  const seq = o.seqLen ?? 16;
  if (typeof seq === 'number') intOption('transformer', 'seqLen', seq, 1);
  else if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(seq)) throw new ZooError(`transformer: symbolic seqLen ${JSON.stringify(seq)} is not an identifier`);
  if (typeof seq === 'string' && seq === r.batch) throw new ZooError(`transformer: batch and seqLen must be different symbols, both are '${seq}'`);
  const maxSeq = intOption('transformer', 'maxSeqLen', o.maxSeqLen ?? (typeof seq === 'number' ? seq : 512), typeof seq === 'number' ? seq : 1);
  const vocab = o.vocab === undefined ? undefined : intOption('transformer', 'vocab', o.vocab, 1);
  const gelu = o.gelu ?? 'erf';
  if (gelu !== 'erf' && gelu !== 'op') throw new ZooError(`transformer: gelu must be 'erf' or 'op', got ${JSON.stringify(gelu)}`);
  if (gelu === 'op' && r.opset < 20) throw new ZooError(`transformer: the Gelu op needs opset 20 or later (opset is ${r.opset})`, { hint: "use gelu: 'erf' or opset: 20" });

  const net = new Net('transformer', r);
  const t = new TransformerNet(net, d, heads, ffn, seq, gelu);
  const b = net.b;
  const symbolic = typeof r.batch === 'string' || typeof seq === 'string';

  let x: Value;
  let seqDim: Value | null = null;
  const inputName = vocab === undefined ? 'input' : 'input_ids';
  if (vocab === undefined) {
    x = b.input(inputName, DataType.FLOAT, [r.batch, seq, d]);
  } else {
    const ids = b.input(inputName, DataType.INT64, [r.batch, seq]);
    const tokenTable = t.param('embed_tokens.weight', [vocab, d], uniform(Math.sqrt(3)));
    const posTable = t.param('embed_positions.weight', [maxSeq, d], uniform(Math.sqrt(3)));
    const tokens = b.op('Gather', [tokenTable, ids], { axis: 0 }, { name: 'embed_tokens' });
    let positions: Value;
    if (symbolic) {
      seqDim = t.scope('embed_positions', () => t.runtimeDims(ids, [1])[0]!);
      const all = t.scope('embed_positions', () => t.const(i64(Array.from({ length: maxSeq }, (_, i) => i))));
      const ids1 = t.scope('embed_positions', () => b.op('Slice', [all, t.const(i64([0])), seqDim!, t.const(i64([0]))]));
      positions = b.op('Gather', [posTable, ids1], { axis: 0 }, { name: 'embed_positions' });
    } else {
      const ids1 = t.scope('embed_positions', () => t.const(i64(Array.from({ length: seq as number }, (_, i) => i))));
      positions = b.op('Gather', [posTable, ids1], { axis: 0 }, { name: 'embed_positions' });
    }
    x = b.op('Add', [tokens, positions], {}, { name: 'Add' });
    if (!causal) x = t.layerNorm('embed_norm', x);
  }

  let mask: Value | null = null;
  if (causal) {
    const rows = typeof seq === 'number' ? seq : maxSeq;
    const m = new Float32Array(rows * rows);
    for (let i = 0; i < rows; i++) for (let j = i + 1; j < rows; j++) m[i * rows + j] = MASK_VALUE;
    mask = t.scope('causal_mask', () => {
      const full = t.const(Tensor.fromArray(DataType.FLOAT, [rows, rows], m));
      if (typeof seq === 'number') return full;
      const s = seqDim ?? t.runtimeDims(x, [1])[0]!;
      const ends = b.op('Concat', [s, s], { axis: 0 });
      return b.op('Slice', [full, t.const(i64([0, 0])), ends, t.const(i64([0, 1]))]);
    });
  }

  for (let i = 0; i < layers; i++) {
    x = t.scope(`layers.${i}`, () => {
      let h = x;
      if (causal) {
        h = b.op('Add', [h, t.attention('self_attn', t.layerNorm('norm1', h), mask)]);
        return b.op('Add', [h, t.feedForward(t.layerNorm('norm2', h))]);
      }
      h = t.layerNorm('norm1', b.op('Add', [h, t.attention('self_attn', h, null)]));
      return t.layerNorm('norm2', b.op('Add', [h, t.feedForward(h)]));
    });
  }
  if (causal) x = t.layerNorm('norm', x);
  let outDim = d;
  if (vocab !== undefined) {
    x = t.linear('lm_head', x, d, vocab, false);
    outDim = vocab;
  }
  b.output(x, 'output', { kind: 'tensor', elemType: DataType.FLOAT, shape: [r.batch, seq, outDim] });
  return net.build(`${model}: ${layers} layers, d_model ${d}, ${heads} heads, ffn ${ffn}${vocab ? `, vocab ${vocab}` : ''}`, {
    'zoo.model': 'transformer',
  });
}
