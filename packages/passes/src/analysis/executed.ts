/**
 * The roofline of the graph as onnxruntime executes it. ORT's graph optimizer (onnxruntime
 * core/optimizer, GenerateTransformers) fuses element-wise layers into their producer, and a
 * fused layer pays no memory traffic of its own (its input is still in the producer's
 * registers/cache; only the chain's final output is written):
 *
 * - basic (TransformerLevel::Level1, rule-based): EliminateIdentity, EliminateDropout, and
 *   ConvBNFusion, ConvAddFusion, ConvMulFusion (BatchNormalization / Add / Mul with a constant
 *   operand folded into the Conv's weights and bias);
 * - extended (Level2): ConvActivationFusion and GemmActivationFusion (Relu, Sigmoid, Tanh,
 *   LeakyRelu, Clip, HardSigmoid into FusedConv / FusedGemm), MatMulAddFusion (MatMul + bias Add
 *   → Gemm, then its activation);
 * - all (Level3): NchwcTransformer, which also folds a residual Add/Sum (and the activation after
 *   it) into the NCHWc Conv that produces one of its operands; the other operand is read by the
 *   Conv.
 * - QDQ models, extended and all (Level2, QDQSelectorActionTransformer): a layer whose work is
 *   integer OPs (a Conv/Gemm/MatMul between DequantizeLinear and QuantizeLinear, QLinearAdd, …)
 *   runs as one integer kernel (QLinearConv, QGemm, …): the DequantizeLinear nodes of its
 *   activations and the QuantizeLinear of its output are fused into it (no FLOPs, no traffic of
 *   their own), and it reads and writes the 8-bit tensors instead of their float copies.
 *
 * A layer is fused only when its producer's output has no other use (ORT's rule too). Which ops
 * are eliminated, fuse into a Conv/Gemm, or drop their Q/DQ is each op's `ort` facet (ops/).
 */
import { DataType, type Node, type Value } from '@onnxkit/graph';
import { numericScalar } from '../common/data-types.js';
import { isOnnxOp, lookup } from '../common/op-table.js';
import { ORT_FACET } from '../ops/registry.js';

export type OrtLevel = 'disabled' | 'basic' | 'extended' | 'all';
export const ORT_LEVELS: readonly OrtLevel[] = ['disabled', 'basic', 'extended', 'all'];


/** What executedRoofline needs of a layer (see LayerReport). */
export interface ExecLayer {
  readonly flops: number | null;
  /** Integer operations (timed at the int8 peak); absent: 0. */
  readonly intOps?: number | null;
  readonly bytes: { readonly weights: number; readonly input: number | null; readonly output: number | null };
  readonly latency: number | null;
  readonly constant?: true;
}

export interface ExecutedLevel {
  /** Sum of the as-executed layer latencies; null when one is unknown. */
  readonly seconds: number | null;
  /** Layers fused into their producer (or eliminated) at this level. */
  readonly fusedLayers: number;
}

export interface ExecutedRoofline {
  readonly levels: Record<OrtLevel, ExecutedLevel>;
  /** Per layer index: the layer it runs inside at each level where it is fused. */
  readonly fusedInto: Map<number, Partial<Record<OrtLevel, number>>>;
  /** Per level, per layer index: the as-executed latency (0 for a fused layer; the host carries its work). */
  readonly latency: Record<OrtLevel, (number | null)[]>;
}

/**
 * The element type onnxruntime (x86-64) executes the tensor `t` in, `stored` being the type the
 * model gives it: UINT8 where `t` is the int8 tensor between a QuantizeLinear and a
 * DequantizeLinear (default domain) that onnxruntime rewrites as uint8 (QDQS8ToU8Transformer),
 * else `stored`. The one home of that rule: the QDQ selectors of analyze.ts read it on the
 * DequantizeLinear side (fromInt8) and on the QuantizeLinear side (quantizedOutputType), and
 * sameQuantParams on both sides of a dropped pair.
 *
 * The pair is rewritten when the Q feeds only that DQ, and the DQ is a graph output read by no
 * node or feeds one input of one node and is no graph output — EnsureUniqueDQForNodeUnit, which
 * runs first, gives every other reader its own DQ, and a Q with several DQs is left int8. Both
 * zero points are constant int8 scalars of one value (QDQ_S8_to_U8: measured, a DQ zero point of
 * 5 against the Q's 0, or a per-axis one, leaves the pair int8 and the Conv reading it float);
 * the scales play no part.
 */
export function ortExecutedType(t: Value | null | undefined, stored: number): number {
  if (stored !== DataType.INT8 || t === null || t === undefined || t.useCount !== 1 || t.isGraphOutput) return stored;
  const q = t.producer;
  const dq = t._userAt(0);
  if (!isOnnxOp(q, 'QuantizeLinear') || !isOnnxOp(dq, 'DequantizeLinear')) return stored;
  const zq = int8Scalar(q.inputs[2]);
  if (zq === undefined || zq !== int8Scalar(dq.inputs[2])) return stored;
  const dqOut = dq.outputs[0];
  if (dqOut === undefined) return stored;
  const readers = dqOut.useCount;
  return (readers === 0 ? dqOut.isGraphOutput : readers === 1 && !dqOut.isGraphOutput) ? DataType.UINT8 : stored;
}

/** The value of `v` when it is a constant int8 tensor of one element, else undefined. */
function int8Scalar(v: Value | null | undefined): number | undefined {
  return v?.constValue?.dtype === DataType.INT8 ? scalarOf(v) : undefined;
}

/**
 * The scalar value of constant `v` (an initializer) by numericScalar: undefined for a string or
 * complex one (it was NaN, or a string's number: "0.5" was 0.5), a float16 one decoded (it was its
 * bits, so a negative float16 scale passed as positive).
 */
function scalarOf(v: Value | null | undefined): number | undefined {
  const t = v?.constValue;
  return t ? numericScalar(t) : undefined;
}

/**
 * The DequantizeLinear `dq` and the QuantizeLinear `q` around a 'data' op share one scale and
 * zero point (onnxruntime's IsQDQPairSupported: constant scalars, equal values, one zero-point
 * type), the scale positive when `positive` (OrtFacet.qdqPositiveScale): only then does
 * onnxruntime drop them and move the 8-bit values.
 */
function sameQuantParams(dq: Node, q: Node, positive: boolean): boolean {
  const s = scalarOf(dq.inputs[1]);
  if (s === undefined || s !== scalarOf(q.inputs[1]) || (positive && !(s > 0))) return false;
  const a = dq.inputs[2];
  const b = q.inputs[2];
  if (!a || !b) return !a && !b;
  const za = scalarOf(a);
  const zb = scalarOf(b);
  if (za === undefined || zb === undefined) return false;
  // One 8-bit type and one zero point as onnxruntime sees them: an int8 pair it rewrites as uint8
  // (ortExecutedType) has its zero point moved by 128 (measured: an int8 input pair at 0 drops
  // with a uint8 output pair at 128, not at 0).
  const sa = a.constValue!.dtype;
  const sb = b.constValue!.dtype;
  const ea = ortExecutedType(dq.inputs[0], sa);
  const eb = ortExecutedType(q.outputs[0], sb);
  return (ea === DataType.UINT8) === (eb === DataType.UINT8) && za + (ea !== sa ? 128 : 0) === zb + (eb !== sb ? 128 : 0);
}

export function executedRoofline(
  nodes: readonly Node[],
  layers: readonly ExecLayer[],
  device: { peakFlops: number; peakIntOps?: number; memoryBandwidth: number; memoryHierarchy?: readonly { bytes: number; bandwidth: number }[] },
  isConst: (v: Value) => boolean,
  bytesOf: (v: Value) => number | null,
): ExecutedRoofline {
  const index = new Map<Node, number>();
  nodes.forEach((n, i) => index.set(n, i));
  // Per node, once (the level loop below is integer work): its non-constant inputs as
  // [producer index or -1 when the value has other uses / is a graph output, bytes], and
  // whether it has a constant operand.
  const dynamic: { producer: number; value: Value }[][] = [];
  const constOperand: boolean[] = [];
  nodes.forEach((n) => {
    const dyn: { producer: number; value: Value }[] = [];
    let hasConst = false;
    for (const v of n.inputs) {
      if (v === null) continue;
      if (isConst(v)) {
        hasConst = true;
        continue;
      }
      const p = v.producer;
      const j = p ? index.get(p) : undefined;
      dyn.push({ producer: j !== undefined && v.uses.length === 1 && !v.isGraphOutput ? j : -1, value: v });
    }
    dynamic.push(dyn);
    constOperand.push(hasConst && n.inputs.length === 2);
  });
  const fusedInto = new Map<number, Partial<Record<OrtLevel, number>>>();
  const levels = {} as Record<OrtLevel, ExecutedLevel>;
  const latency = {} as Record<OrtLevel, (number | null)[]>;
  for (const level of ORT_LEVELS) {
    const rank = ORT_LEVELS.indexOf(level);
    const host = new Array<number>(nodes.length).fill(-1);
    /** Op of each host as ORT sees it after fusing (MatMul + Add becomes Gemm). */
    const hostOp = nodes.map((n) => n.opType);
    const extraBytes = new Array<number | null>(nodes.length).fill(0);
    const eliminated = new Array<boolean>(nodes.length).fill(false);
    /** Fused Q/DQ conversions: their work disappears into the integer kernel. */
    const noFlops = new Array<boolean>(nodes.length).fill(false);
    const rootOf = (j: number): number => (j < 0 ? -1 : host[j]! >= 0 ? host[j]! : j);
    for (let i = 0; rank > 0 && i < nodes.length; i++) {
      const n = nodes[i]!;
      if (layers[i]?.constant || !n.isOnnxDomain) continue;
      const op = n.opType;
      const ort = lookup(ORT_FACET, op);
      if (ort?.eliminated === true) {
        eliminated[i] = true;
        continue;
      }
      const dyn = dynamic[i]!;
      if (dyn.length === 1) {
        const r = rootOf(dyn[0]!.producer);
        if (r < 0) continue;
        const rop = hostOp[r]!;
        const withConst = constOperand[i]!;
        const fuse =
          (rop === 'Conv' && (op === 'BatchNormalization' || ((op === 'Add' || op === 'Mul') && withConst))) ||
          (rank >= 2 && (rop === 'Conv' || rop === 'Gemm') && ort?.fusesIntoConv === true) ||
          (rank >= 2 && rop === 'MatMul' && op === 'Add' && withConst);
        if (fuse) {
          host[i] = r;
          if (rop === 'MatMul') hostOp[r] = 'Gemm';
        }
        continue;
      }
      if (rank >= 3 && (op === 'Add' || op === 'Sum') && dyn.length === 2) {
        // NCHWc: the residual Add folds into the Conv producing one operand; the Conv reads the other.
        for (let k = 0; k < 2; k++) {
          const r = rootOf(dyn[k]!.producer);
          if (r >= 0 && hostOp[r] === 'Conv') {
            host[i] = r;
            const other = bytesOf(dyn[1 - k]!.value);
            extraBytes[r] = other === null || extraBytes[r] === null ? null : extraBytes[r]! + other;
            break;
          }
        }
      }
    }
    if (rank >= 2) fuseQdq(nodes, layers, index, host, noFlops, extraBytes, isConst, bytesOf);
    // Latency per layer as executed: a host pays its own and its fused layers' FLOPs, its own bytes
    // (input, weights, the chain's output), and the residual operands it reads.
    const flops = layers.map((l) => l.flops);
    const lat: (number | null)[] = layers.map((l) => l.latency);
    const hostFlops = new Map<number, number | null>();
    host.forEach((h, i) => {
      if (h < 0) return;
      const f = noFlops[i] ? 0 : (flops[i] ?? null);
      const cur = hostFlops.get(h) ?? flops[h] ?? null;
      hostFlops.set(h, cur === null || f === null ? null : cur + f);
      (fusedInto.get(i) ?? fusedInto.set(i, {}).get(i)!)[level] = h;
      lat[i] = 0;
    });
    eliminated.forEach((e, i) => {
      if (e) lat[i] = 0;
    });
    for (const [h, f] of hostFlops) {
      const l = layers[h]!;
      const b = l.bytes.input === null || l.bytes.output === null || extraBytes[h] === null ? null : l.bytes.weights + l.bytes.input + l.bytes.output + extraBytes[h]!;
      const io = l.intOps === undefined ? 0 : l.intOps;
      lat[h] = f === null || b === null || io === null ? null : Math.max(f / device.peakFlops + io / (device.peakIntOps ?? device.peakFlops), b / (device.memoryHierarchy?.find((x) => b <= x.bytes)?.bandwidth ?? device.memoryBandwidth));
    }
    let seconds: number | null = 0;
    lat.forEach((x, i) => {
      if (layers[i]?.constant) return;
      seconds = x === null || seconds === null ? null : seconds + x;
    });
    levels[level] = { seconds, fusedLayers: host.filter((h) => h >= 0).length + eliminated.filter(Boolean).length };
    latency[level] = lat;
  }
  return { levels, fusedInto, latency };
}

const isIntegerLayer = (l: ExecLayer | undefined): boolean => l !== undefined && !l.constant && (l.intOps ?? 0) > 0;


/**
 * QDQ fusion (see the header): each integer layer takes in the DequantizeLinear nodes of its
 * activations (when every use of the dequantized value is an integer layer; onnxruntime gives each
 * consumer its own copy) and the QuantizeLinear of its output (its only use), and reads / writes
 * the 8-bit tensors (`extraBytes` turns the float bytes into the 8-bit ones).
 */
function fuseQdq(
  nodes: readonly Node[],
  layers: readonly ExecLayer[],
  index: ReadonlyMap<Node, number>,
  host: number[],
  noFlops: boolean[],
  extraBytes: (number | null)[],
  isConst: (v: Value) => boolean,
  bytesOf: (v: Value) => number | null,
): void {
  const addBytes = (i: number, wide: Value, narrow: Value | null | undefined): void => {
    const a = bytesOf(wide);
    const b = narrow ? bytesOf(narrow) : null;
    extraBytes[i] = a === null || b === null || extraBytes[i] === null ? null : extraBytes[i]! + b - a;
  };
  const dqFused = new Set<number>();
  for (let i = 0; i < nodes.length; i++) {
    const n = nodes[i]!;
    // Data movement onnxruntime runs on the 8-bit tensor (`ort.qdq` 'data': its DropQDQ rules).
    const ort = n.isOnnxDomain ? lookup(ORT_FACET, n.opType) : undefined;
    if (ort?.qdq === 'data' && !layers[i]?.constant && host[i]! < 0) {
      // DequantizeLinear → data movement → QuantizeLinear: both conversions dropped, the op moves 8-bit values.
      const v = n.inputs[0];
      const p = v?.producer;
      const j = p ? index.get(p) : undefined;
      const out = n.outputs[0];
      const q = out && out.uses.length === 1 && !out.isGraphOutput ? out.uses[0]!.node : undefined;
      const k = q ? index.get(q) : undefined;
      if (v && p && j !== undefined && k !== undefined && v.uses.length === 1 && !v.isGraphOutput && isOnnxOp(p, 'DequantizeLinear') && isOnnxOp(q, 'QuantizeLinear') && host[j]! < 0 && host[k]! < 0 && !layers[j]?.constant && sameQuantParams(p, q, ort.qdqPositiveScale === true)) {
        host[j] = i;
        host[k] = i;
        noFlops[j] = true;
        noFlops[k] = true;
        addBytes(i, v, p.inputs[0]);
        addBytes(i, out!, q.outputs[0]);
      }
      continue;
    }
    if (!isIntegerLayer(layers[i]) || host[i]! >= 0) continue;
    for (const v of n.inputs) {
      if (!v || isConst(v)) continue;
      const p = v.producer;
      const j = p ? index.get(p) : undefined;
      if (j === undefined || !isOnnxOp(p, 'DequantizeLinear') || layers[j]?.constant) continue;
      if (host[j]! >= 0 && !dqFused.has(j)) continue;
      if (v.isGraphOutput || !v.uses.every((u) => isIntegerLayer(layers[index.get(u.node) ?? -1]))) continue;
      if (!dqFused.has(j)) {
        host[j] = i;
        noFlops[j] = true;
        dqFused.add(j);
      }
      addBytes(i, v, p.inputs[0]);
    }
    const out = n.outputs[0];
    const q = out && out.uses.length === 1 && !out.isGraphOutput ? out.uses[0]!.node : undefined;
    const k = q ? index.get(q) : undefined;
    if (k !== undefined && isOnnxOp(q, 'QuantizeLinear') && host[k]! < 0 && !layers[k]?.constant) {
      host[k] = i;
      noFlops[k] = true;
      addBytes(i, out!, q.outputs[0]);
    }
  }
}
