/**
 * Linear algebra: Gemm, MatMul (and integer/quantized forms), Einsum, Det. MACs follow the lecture:
 * Linear c_o·c_i per output row, × batch.
 */
import { DataType, type Dim } from '@onnxkit/graph';
import type { RuleContext, ShapeRule } from '../analysis/inference-types.js';
import { ATTR, attrs, withDefault } from './attributes.js';
import { einsumMacs, gemmMacs, gemmOps, matmulMacs, QUANT_NOTE, quantizedOps } from './cost.js';
import { broadcastShapesSymbolic, firstType, mergeDim } from './shape-helpers.js';
import { defineOp, FP16_ALL, type OpDef, undeclared } from './types.js';
import { einsumRef, gemmRef, matMulRef } from '../kernels/reference/matmul.js';

const gemm: ShapeRule = (c) => {
  const a = c.shape(0);
  const b = c.shape(1);
  const ta = c.node.getInt('transA', 0) === 1;
  const tb = c.node.getInt('transB', 0) === 1;
  if ((a && a.length !== 2) || (b && b.length !== 2)) c.mismatch('Gemm inputs must be 2-D');
  const m = a ? (ta ? a[1] : a[0]) ?? null : null;
  const k1 = a ? (ta ? a[0] : a[1]) ?? null : null;
  const k2 = b ? (tb ? b[1] : b[0]) ?? null : null;
  const n = b ? (tb ? b[0] : b[1]) ?? null : null;
  mergeDim(c, k1, k2, 'Gemm inner dimensions differ');
  c.out(0, firstType(c, 0, 1), [m, n]);
};

/**
 * ONNX MatMul's output of operands `a` and `b` (as the multiplication reads them) as `type`:
 * numpy batching, a 1-D operand as ONNX MatMul takes it (a row of A, a column of B, its axis
 * dropped from the output); the inner dimensions merged (concrete ones that differ reported as a
 * shape mismatch), rank 0 reported. The one rule of every matrix product: MatMul, MatMulInteger
 * and QLinearMatMul here, com.microsoft DynamicQuantizeMatMul and MatMulIntegerToFloat
 * (contrib-quantized.ts) and FusedMatMul with its transposes applied (contrib-fused.ts).
 */
export function matmulOut(c: RuleContext, a: readonly Dim[] | null, b: readonly Dim[] | null, type: DataType): void {
  if (!a || !b) return c.out(0, type, null);
  if (a.length === 0 || b.length === 0) {
    c.mismatch('MatMul inputs must have rank ≥ 1');
    return c.out(0, type, null);
  }
  const aa = a.length === 1 ? [1, a[0]!] : a;
  const bb = b.length === 1 ? [b[0]!, 1] : b;
  mergeDim(c, aa[aa.length - 1]!, bb[bb.length - 2]!, 'MatMul inner dimensions differ');
  // Two matrices (most MatMuls): [M, N], in an array of that length (an empty one grown by
  // push is a larger allocation), with no batch dims to broadcast.
  if (a.length === 2 && b.length === 2) return c.out(0, type, [a[0]!, b[1]!]);
  const out: Dim[] = aa.length === 2 && bb.length === 2 ? [] : [...(broadcastShapesSymbolic(c, [aa.slice(0, -2), bb.slice(0, -2)]) ?? [])];
  if (a.length !== 1) out.push(aa[aa.length - 2]!);
  if (b.length !== 1) out.push(bb[bb.length - 1]!);
  c.out(0, type, out);
}

/** MatMul of inputs 0 and `bIdx`, its output typed by `outType` (default: the operands' type). */
function matmul(outType?: (c: RuleContext) => DataType, bIdx = 1): ShapeRule {
  return (c) => matmulOut(c, c.shape(0), c.shape(bIdx), outType ? outType(c) : firstType(c, 0, bIdx));
}

const einsum: ShapeRule = (c) => {
  const eq = c.node.getString('equation', '').replace(/\s+/g, '');
  const [lhs, rhsGiven] = eq.split('->') as [string, string | undefined];
  const terms = lhs.split(',');
  const letters = new Map<string, Dim>();
  const counts = new Map<string, number>();
  let ellipsis: Dim[] | null = [];
  for (let t = 0; t < terms.length; t++) {
    const s = c.shape(t);
    const term = terms[t]!;
    const parts = term.split('...');
    const explicit = parts.join('').length;
    if (!s) {
      ellipsis = parts.length > 1 ? null : ellipsis;
      for (const ch of parts.join('')) counts.set(ch, (counts.get(ch) ?? 0) + 1);
      continue;
    }
    const eRank = s.length - explicit;
    let pos = 0;
    const head = parts[0]!;
    for (const ch of head) {
      letters.set(ch, mergeDim(c, letters.get(ch) ?? null, s[pos++]!, `Einsum dimension '${ch}'`));
      counts.set(ch, (counts.get(ch) ?? 0) + 1);
    }
    if (parts.length > 1) {
      const e = s.slice(pos, pos + eRank);
      pos += eRank;
      if (ellipsis) ellipsis = broadcastShapesSymbolic(c, [ellipsis, e]);
    }
    for (const ch of parts[1] ?? '') {
      letters.set(ch, mergeDim(c, letters.get(ch) ?? null, s[pos++]!, `Einsum dimension '${ch}'`));
      counts.set(ch, (counts.get(ch) ?? 0) + 1);
    }
  }
  const rhs = rhsGiven ?? `${lhs.includes('...') ? '...' : ''}${[...counts.keys()].filter((k) => counts.get(k) === 1).sort().join('')}`;
  const out: Dim[] = [];
  const rparts = rhs.split('...');
  for (const ch of rparts[0]!) out.push(letters.get(ch) ?? null);
  if (rparts.length > 1) {
    if (ellipsis === null) return c.out(0, c.dtype(0), null);
    for (const d of ellipsis) out.push(d);
    for (const ch of rparts[1]!) out.push(letters.get(ch) ?? null);
  }
  c.out(0, c.dtype(0), out);
};

/** Det: the determinants of the trailing square matrices. */
const det: ShapeRule = (c) => {
  const xs = c.shape(0);
  c.out(0, c.dtype(0), xs ? xs.slice(0, -2) : null);
};

export const LINEAR_OPS: readonly OpDef[] = [
  defineOp({
    type: 'Gemm',
    reference: gemmRef,
    attributes: { alpha: withDefault(ATTR.alpha, 1), beta: withDefault(ATTR.beta, 1), transA: withDefault(ATTR.transA, 0), transB: withDefault(ATTR.transB, 0), broadcast: ATTR.broadcast },
    shape: gemm,
    // A stored A is a weight too (Gemm(W, x, transA) computes W·x): an activation A is not counted.
    cost: { weights: [0, 1], biases: [2], macs: gemmMacs, ops: gemmOps, opsNote: '1 per output for the C add, +1 each for alpha/beta ≠ 1' },
    weightInputs: [0, 1, 2],
    int8WeightAxis: (node, input) => (input !== 1 ? undefined : node.getInt('transB', 0) ? 0 : 1),
    fp16: FP16_ALL,
    ort: { qdq: 'mac', qdqFloatOutput: true },
    quantize: { placement: 'gemm', anchor: true },
    sameAt13From: 10,
  }),
  defineOp({
    type: 'MatMul',
    reference: matMulRef,
    attributes: attrs(),
    shape: matmul(),
    // Either operand may be the stored weight (x·W or W·x); an activation operand is not counted.
    cost: { weights: [0, 1], macs: matmulMacs() },
    weightInputs: [0, 1],
    int8WeightAxis: (_node, input, rank) => (input === 1 && rank === 2 ? 1 : undefined),
    fp16: FP16_ALL,
    ort: { qdq: 'mac', qdqFloatOutput: true, qdqUint8Activation: true },
    quantize: { placement: 'matmul', anchor: true },
    sameAt13From: 10,
  }),
  // MatMulInteger-10 and QLinearMatMul-10 are the only versions to opset 13 (ONNX Changelog; onnx 1.12's schemas to 17).
  defineOp({ type: 'MatMulInteger', attributes: attrs(), shape: matmul(() => DataType.INT32), cost: { weights: [1], buffers: [2, 3], macs: matmulMacs(), integer: true }, sameAt13From: 10 }),
  defineOp({
    type: 'QLinearMatMul',
    attributes: attrs(),
    shape: matmul((c) => c.dtype(7), 3),
    // a, a_scale, a_zero_point, b, b_scale, b_zero_point, y_scale, y_zero_point.
    cost: { weights: [3], buffers: [1, 2, 4, 5, 6, 7], macs: matmulMacs(), ops: quantizedOps(0, 6), opsNote: QUANT_NOTE, integer: true },
    sameAt13From: 10,
  }),
  defineOp({ type: 'Einsum', reference: einsumRef, attributes: attrs('equation'), shape: einsum, cost: { macs: einsumMacs, constOperandsWeights: true }, weightInputs: [0, 1, 2], fp16: FP16_ALL, sameAt13From: 12 }),
  defineOp({ type: 'Det', ort: { float16: 'casts' }, sameAt13From: 11, attributes: attrs(), shape: det, cost: undeclared('not-modelled', 'a determinant (LU decomposition) is not costed') }),
];
