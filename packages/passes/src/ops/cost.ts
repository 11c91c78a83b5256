/**
 * The cost facet of an op: which inputs are learnable weights, biases (learnable, not weights)
 * or buffers, how to count its MACs, how many element-wise operations it performs, and whether
 * its output is an alias of its input or written in place — with the helpers the op modules
 * build their cost declarations from. analysis/cost-table.ts derives COST_TABLE from the ops.
 */
import type { Dim, Node } from '@onnxkit/graph';
import type { OpDef } from './types.js';

/**
 * What the cost functions see of a node: its inferred shapes (static dims are numbers). A cost
 * function reads of `node` only its attributes and which inputs are present: the analysis gives
 * an entry's result back for the next layer with the same attributes, present inputs and shapes
 * (WorkMemo in analysis/analyze.ts), which a read of anything else would make stale.
 */
export interface CostContext {
  readonly node: Node;
  readonly inputShapes: readonly (readonly Dim[] | null)[];
  readonly outputShapes: readonly (readonly Dim[] | null)[];
  /** True when input i is present and constant. */
  isConstant(i: number): boolean;
}

/**
 * Element-wise operations as a linear form of the element counts: `perInput` per element of
 * input 0 plus `perOutput` per element of output 0 (absent: 0); or as a product of `factors`
 * (numbers and dims, symbolic ones too), for work that is no whole number per element of either
 * (Attention's per-score work: k · B · q_heads · q_seq · total keys; RotaryEmbedding's rotated
 * elements); or why it cannot be given. The analysis multiplies it out — with numbers, or with
 * symbolic dims ("5*N*S") when shapes are symbolic — so the table never needs the counts themselves.
 */
export type Count = { readonly perInput?: number; readonly perOutput?: number } | { readonly factors: readonly Dim[] } | { readonly unknown: string };

/**
 * MACs as a product of factors (dims, possibly symbolic): the number is their product, and a
 * symbolic batch or sequence still yields an expression such as "4*N*S*S*16".
 */
export type Factors = readonly Dim[] | { readonly unknown: string };

export interface OpCost {
  /** Input slots holding learnable weights (the lecture's #parameters; bias ignored). */
  readonly weights?: readonly number[];
  /** Input slots holding learnable non-weight parameters (biases, normalisation scale/shift). */
  readonly biases?: readonly number[];
  /**
   * Input slots holding non-learnable state: BatchNorm running mean/var, and the scales and zero
   * points of the quantized ops (counted at their stored dtypes, like every parameter).
   */
  readonly buffers?: readonly number[];
  /**
   * Integer arithmetic (QLinearConv, MatMulInteger, QGemm…): the op's whole work — 2·MACs plus
   * its element-wise operations (bias adds, requantization) — is reported as integer operations
   * (`intOps`, the lecture's OPs), not FLOPs, and the roofline times it at the int8 peak.
   */
  readonly integer?: boolean;
  /**
   * Element-wise ops (and Concat): a constant float operand with more than one element is a
   * learnable bias-like parameter (Linear exported as MatMul + Add, position embeddings,
   * LayerNorm gamma, ViT's class token). Traced through views, Slice/Gather/Expand/Tile to the
   * stored tensor, which is what is counted.
   */
  readonly constOperandsLearnable?: boolean;
  /**
   * Every operand that is a stored tensor is a learnable weight (Einsum: any of its operands can
   * be the weight, `bhij,jk->bhik`); an activation operand is not counted.
   */
  readonly constOperandsWeights?: boolean;
  /** Multiply-accumulates as a product of factors. Absent: the op performs none (0). */
  readonly macs?: (c: CostContext) => Factors;
  /** Element-wise operations beyond 2·MACs. Absent: none (0). */
  readonly ops?: (c: CostContext) => Count;
  /** A human-readable statement of `ops`, shown in the convention table. */
  readonly opsNote?: string;
  readonly alias?: boolean;
  /**
   * Writes its output over its input (an activation function), for every node (true) or the
   * nodes a function accepts (BatchNormalization: not in training mode). See `runsInPlace`.
   */
  readonly inPlace?: boolean | ((node: Node) => boolean);
  /** Reads only its input's shape, never its data (Shape, Size): no input activation traffic. */
  readonly shapeOnly?: boolean;
  /**
   * The channels its weight and bias store against the model's: onnxruntime's NCHWc Conv pads
   * its output channels, and its input channels when it reads a blocked tensor, to its block size
   * (8 or 16, by the CPU), the extra filters zero (contrib-nchwc.ts). The analysis counts of the
   * stored weight its `out`/`outStored` × `in`/`inStored` share and of the bias its
   * `out`/`outStored` share; or, when they cannot be established, the parameters as stored (an
   * upper bound) with a note. It reads the node's inferred shapes (`c`, loaded with `node`), whose
   * channels are the model's as the NCHWc Conv's shape rule established them from the node's
   * readers (so its MACs and FLOPs need no scaling), and runs per node, outside the memoised cost.
   */
  readonly paddedChannels?: (node: Node, c: CostContext) => PaddedChannels;
}

/** OpCost.paddedChannels' answer. */
export type PaddedChannels = { readonly out: number; readonly outStored: number; readonly in: number; readonly inStored: number } | { readonly unknown: string };

export const unknownCount = (why: string): Count => ({ unknown: why });

/** Whether `node`, of an op with cost `entry`, runs in place (`OpCost.inPlace`). */
export function runsInPlace(entry: OpCost | undefined, node: Node): boolean {
  const p = entry?.inPlace;
  return p === true || (typeof p === 'function' && p(node));
}

/**
 * `dims` followed by `dims2` from index `from` (then `last`, if given), in one array of its final
 * length: a spread builds its result through the iterator protocol, growing it (≈ 230 B per
 * MatMul or Gemm, each counted twice per model by `onnxkit optimize`).
 */
function factors(dims: readonly Dim[], dims2: readonly Dim[] | undefined, from: number, last?: Dim): Dim[] {
  const n = dims.length;
  const m = dims2 === undefined ? 0 : Math.max(0, dims2.length - from);
  const out = new Array<Dim>(n + m + (last === undefined ? 0 : 1));
  for (let i = 0; i < n; i++) out[i] = dims[i]!;
  for (let i = 0; i < m; i++) out[n + i] = dims2![from + i]!;
  if (last !== undefined) out[n + m] = last;
  return out;
}

/** The `k` of each function `perOutput` made (read by perOutputOf, never per node). */
const PER_OUTPUT = new WeakMap<(c: CostContext) => Count, number>();

/** `k` operations per element of output 0. */
export function perOutput(k: number): (c: CostContext) => Count {
  const form: Count = { perOutput: k };
  const f = (): Count => form;
  PER_OUTPUT.set(f, k);
  return f;
}

/**
 * The per-element count of an op whose element-wise work is `perOutput(k)` (undefined for any
 * other form): what a fused op that replaced it counts for it (onnxruntime's SkipLayerNormalization
 * counts a LayerNormalization's, its FusedConv the activation's).
 */
export function perOutputOf(cost: OpCost): number | undefined {
  return cost.ops === undefined ? undefined : PER_OUTPUT.get(cost.ops);
}

/**
 * perOutputOf the declaration of op `type` among `ops`, for a fused op that counts the ops it
 * replaced (read once, at module load); throws when that op has no per-output-element count (its
 * declaration changed under the fused op's cost).
 */
export function perOutputOfOp(ops: readonly OpDef[], type: string): number {
  const k = perOutputOf(ops.find((op) => op.type === type)!.cost as OpCost);
  if (k === undefined) throw new Error(`${type} has no per-output-element count (perOutputOf), which a fused op's cost reads`);
  return k;
}

/** `k` operations per element of input 0 (plus `plusPerOutput` per element of output 0). */
export function perInput(k: number, plusPerOutput = 0): (c: CostContext) => Count {
  const form: Count = { perInput: k, perOutput: plusPerOutput };
  return () => form;
}

/** Conv-family MACs: output elements × (c_i/g · k_h · k_w), the weight's per-filter size. */
export function convMacs(wIdx: number): (c: CostContext) => Factors {
  return (c) => {
    const out = c.outputShapes[0];
    const w = c.inputShapes[wIdx];
    if (!out) return { unknown: 'output shape unknown' };
    if (!w) return { unknown: 'weight shape unknown' };
    return factors(out, w, 1);
  };
}

/** Bias adds of Conv-like ops: one per output element when the bias input is present. */
export function biasOps(bIdx: number): (c: CostContext) => Count {
  return (c) => ({ perOutput: c.node.inputs[bIdx] == null ? 0 : 1 });
}

/** ConvTranspose: every input element is multiplied into (c_o/g · k_h · k_w) outputs. */
export const convTransposeMacs = (c: CostContext): Factors => {
  const x = c.inputShapes[0];
  const w = c.inputShapes[1];
  if (!x) return { unknown: 'input shape unknown' };
  if (!w) return { unknown: 'weight shape unknown' };
  return factors(x, w, 1);
};

/** MatMul with numpy batching and the 1-D cases: (batch · M · N) output elements × K. */
export function matmulMacs(): (c: CostContext) => Factors {
  return (c) => {
    const a = c.inputShapes[0];
    const out = c.outputShapes[0];
    if (!a || !out || a.length === 0) return { unknown: 'operand shapes unknown' };
    return factors(out, undefined, 0, a[a.length - 1]!);
  };
}

export const gemmMacs = (c: CostContext): Factors => {
  const a = c.inputShapes[0];
  const out = c.outputShapes[0];
  if (!a || !out || a.length !== 2) return { unknown: 'operand shapes unknown' };
  return factors(out, undefined, 0, c.node.getInt('transA', 0) === 1 ? a[0]! : a[1]!);
};

/** gemmOps' four possible answers, made once (not an object per Gemm). */
const GEMM_OPS: readonly Count[] = [0, 1, 2, 3].map((k) => Object.freeze({ perOutput: k }));

/** Gemm's element-wise work: alpha scaling (if ≠ 1), beta scaling (if ≠ 1) and the C add. */
export const gemmOps = (c: CostContext): Count => {
  let k = 0;
  if (c.node.getFloat('alpha', 1) !== 1) k++;
  if (c.node.inputs[2] != null) {
    k++;
    if (c.node.getFloat('beta', 1) !== 1) k++;
  }
  return GEMM_OPS[k]!;
};

/** Einsum: the product of every index extent (contracted ones included), batch included. */
export const einsumMacs = (c: CostContext): Factors => {
  const eq = c.node.getString('equation', '').replace(/\s+/g, '');
  const lhs = eq.split('->')[0] ?? '';
  if (lhs.includes('...')) return { unknown: 'Einsum with ellipsis is not costed' };
  const terms = lhs.split(',');
  if (terms.length < 2) return [0];
  const extents = new Map<string, Dim>();
  for (let t = 0; t < terms.length; t++) {
    const s = c.inputShapes[t];
    if (!s) return { unknown: 'operand shapes unknown' };
    [...terms[t]!].forEach((ch, i) => {
      const d = s[i] ?? null;
      if (d !== null) extents.set(ch, d);
    });
  }
  const out: Dim[] = [];
  for (const ch of new Set(lhs.replace(/,/g, ''))) {
    const d = extents.get(ch);
    if (d === undefined) return { unknown: `extent of index '${ch}' unknown` };
    out.push(d);
  }
  return out;
};

/**
 * Recurrent layers: per step, batch and direction, `gates` matrix-vector products of the input
 * (size I) and the hidden state (size H): seq · batch · dirs · gates · H · (I + H).
 */
export function recurrentMacs(gates: number): (c: CostContext) => Factors {
  return (c) => {
    const x = c.inputShapes[0];
    const w = c.inputShapes[1];
    if (!x || x.length !== 3 || !w || w.length !== 3) return { unknown: 'input or weight shape unknown' };
    const hidden = w[1] === null || typeof w[1] === 'string' ? null : w[1] / gates;
    if (hidden === null) return { unknown: 'hidden size unknown' };
    // W: [dirs, gates·H, I]; R: [dirs, gates·H, H]. MACs = seq · batch · dirs · gates·H · (I + H).
    const i = w[2]!;
    return [x[0]!, x[1]!, w[0]!, w[1]!, typeof i === 'number' ? i + hidden : null];
  };
}

/** Pooling: one operation per window element per output (+1 divide for averages). */
export function poolOps(extraPerOutput: number, perWindowElement = 1): (c: CostContext) => Count {
  return (c) => {
    const k = c.node.getInts('kernel_shape');
    if (!k) return unknownCount('kernel_shape missing');
    return { perOutput: perWindowElement * k.reduce((a, b) => a * b, 1) + extraPerOutput };
  };
}

/** Resize: operations per output element by interpolation mode (nearest 0, linear 2^r·2, cubic 4^r·2). */
export const resizeOps = (c: CostContext): Count => {
  const mode = c.node.getString('mode', 'nearest');
  const rank = c.outputShapes[0]?.length;
  if (rank === undefined) return unknownCount('output rank unknown');
  const r = Math.max(0, rank - 2);
  return { perOutput: mode === 'nearest' ? 0 : mode === 'linear' ? 2 * 2 ** r : 2 * 4 ** r };
};

/** Requantizing an integer accumulator to the output's 8-bit type: scale, round, add zero point. */
export const REQUANT_OPS = 3;

/** Element ops of a quantized op: `k` per output element plus requantization (when it has an output scale). */
export function quantizedOps(k: number, yScaleIdx: number | null, bIdx: number | null = null): (c: CostContext) => Count {
  return (c) => ({
    perOutput: k + (bIdx !== null && c.node.inputs[bIdx] != null ? 1 : 0) + (yScaleIdx === null || c.node.inputs[yScaleIdx] != null ? REQUANT_OPS : 0),
  });
}

/** The convention text of `quantizedOps`. */
export const QUANT_NOTE = 'integer: 2·MACs + 1 per output (bias add, if any) + 3 per output (requantization, if quantized output)';
