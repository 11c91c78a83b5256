/**
 * quantize-weights-int8 — per-output-channel symmetric int8 weights with a DequantizeLinear in
 * front of the op (opt-in, approximate; weights 4× smaller, compute stays float32).
 *
 * Math, per output channel c of weight W (axis a):
 *   scale_c = max_i |W_c,i| / 127   (1 when the channel is all zeros)
 *   q_c,i   = clamp(round(W_c,i / scale_c), −127, 127)        (int8, zero point 0)
 *   Ŵ_c,i   = q_c,i · scale_c     = DequantizeLinear(q, scale, 0, axis = a)
 * so |W − Ŵ| ≤ scale_c / 2 element-wise. Output-channel axis: Conv/ConvTranspose weight [M,…] →
 * 0 for Conv, 1 for ConvTranspose (group 1 only); Gemm B → 0 with transB = 1, else 1; MatMul B
 * ([K, N], constant second input) → 1.
 *
 * Preconditions:
 *  1. Opset ≥ 13 (DequantizeLinear with `axis`) [opset-too-old].
 *  2. float32 initializer of rank ≥ 2 (not a graph input/output), ≥ `minElements` elements
 *     (default 256) [too-small], used only as the weight input of Conv / ConvTranspose (group 1) /
 *     Gemm / MatMul [consumer-not-weight].
 *  3. Finite values [non-finite].
 *
 * Reports bytes saved, and per tensor and overall: max/mean absolute error, relative Frobenius
 * error ‖W − Ŵ‖/‖W‖ and cosine similarity. Biases stay float32 (an int32 bias would need the
 * activation scale).
 */
import { Attribute, DataType, Node, Tensor, type Graph, type Value } from '@onnxkit/graph';
import { defineRulePass, type ApplyReason } from './rule.js';
import type { RewriteSession } from './session.js';
import { attributeIssue, minElementsOption, nodeLabel } from './util.js';

export interface QuantizedTensorReport {
  name: string;
  axis: number;
  maxAbsError: number;
  meanAbsError: number;
  relativeError: number;
  cosine: number;
  bytesBefore: number;
  bytesAfter: number;
}

const REASONS = ['opset-too-old', 'consumer-not-weight', 'too-small', 'non-finite'] as const;
type Session = RewriteSession<(typeof REASONS)[number] | ApplyReason>;

export const quantizeWeightsInt8 = defineRulePass({
  name: 'quantize-weights-int8',
  description: 'Per-output-channel symmetric int8 weights with DequantizeLinear (4x smaller weights; approximate)',
  exact: false,
  reasons: REASONS,
  options: minElementsOption(256),
  sweep(s, options) {
    if (s.opset < 13) {
      s.decline(null, 'opset-too-old', `opset ${s.opset} < 13 has no per-axis DequantizeLinear`);
      return;
    }
    const minElements = options.minElements;
    const reports: QuantizedTensorReport[] = [];
    for (const g of s.liveGraphs()) {
      for (const v of [...g.initializers.values()]) {
        if (s.stopped) break;
        const t = v.constValue;
        if (!t || t.dtype !== DataType.FLOAT || t.dims.length < 2 || v.isGraphInput || v.isGraphOutput || v.useCount === 0) continue;
        const axis = weightAxis(v);
        if (typeof axis === 'string') {
          s.decline(v.uses[0]!.node, 'consumer-not-weight', axis);
          continue;
        }
        if (t.size < minElements) {
          s.decline(v.uses[0]!.node, 'too-small', `'${v.name}' has ${t.size} elements`);
          continue;
        }
        const r = quantize(s, g, v, t, axis);
        if (typeof r === 'string') s.decline(v.uses[0]!.node, r, `'${v.name}'`);
        else if (r) reports.push(r);
      }
    }
    let num = 0;
    let den = 0;
    let before = 0;
    let after = 0;
    for (const r of reports) {
      before += r.bytesBefore;
      after += r.bytesAfter;
      num = Math.max(num, r.maxAbsError);
      den = Math.max(den, r.relativeError);
    }
    s.metrics['tensors'] = reports;
    s.metrics['quantized'] = reports.length;
    s.metrics['bytesSaved'] = before - after;
    s.metrics['maxAbsError'] = num;
    s.metrics['maxRelativeError'] = den;
    s.metrics['minCosine'] = reports.reduce((a, r) => Math.min(a, r.cosine), 1);
  },
});

/** The output-channel axis of `v` if every use is a weight input, else why not. */
function weightAxis(v: Value): number | string {
  let axis: number | undefined;
  for (const u of v.uses) {
    const n = u.node;
    let a: number | undefined;
    if (!n.isOnnxDomain) return `'${v.name}' feeds ${n.domain}::${n.opType}`;
    const issue = attributeIssue(n);
    if (issue) return `'${v.name}' feeds a malformed node (${issue[1]})`;
    if (n.opType === 'Conv' && u.index === 1) a = 0;
    else if (n.opType === 'ConvTranspose' && u.index === 1 && n.getInt('group', 1) === 1) a = 1;
    else if (n.opType === 'Gemm' && u.index === 1) a = n.getInt('transB', 0) ? 0 : 1;
    else if (n.opType === 'MatMul' && u.index === 1 && (v.constValue?.dims.length ?? 0) === 2) a = 1;
    else return `'${v.name}' feeds ${n.opType} input ${u.index}`;
    if (axis !== undefined && axis !== a) return `'${v.name}' is used with different channel axes`;
    axis = a;
  }
  return axis ?? `'${v.name}' is unused`;
}

function quantize(s: Session, g: Graph, v: Value, t: Tensor, axis: number): QuantizedTensorReport | 'non-finite' | undefined {
  const W = t.toArray() as Float32Array;
  const dims = t.dims;
  const C = dims[axis]!;
  const outer = dims.slice(0, axis).reduce((a, d) => a * d, 1);
  const inner = dims.slice(axis + 1).reduce((a, d) => a * d, 1);
  const maxAbs = new Float64Array(C);
  for (let o = 0; o < outer; o++) {
    for (let c = 0; c < C; c++) {
      const base = (o * C + c) * inner;
      for (let k = 0; k < inner; k++) {
        const x = W[base + k]!;
        if (!Number.isFinite(x)) return 'non-finite';
        const a = Math.abs(x);
        if (a > maxAbs[c]!) maxAbs[c] = a;
      }
    }
  }
  const scale = new Float32Array(C);
  for (let c = 0; c < C; c++) scale[c] = maxAbs[c]! > 0 ? maxAbs[c]! / 127 : 1;
  const q = new Int8Array(W.length);
  let errMax = 0;
  let errSum = 0;
  let diff2 = 0;
  let w2 = 0;
  let wh2 = 0;
  let dot = 0;
  for (let o = 0; o < outer; o++) {
    for (let c = 0; c < C; c++) {
      const sc = scale[c]!;
      const base = (o * C + c) * inner;
      for (let k = 0; k < inner; k++) {
        const x = W[base + k]!;
        const qi = Math.max(-127, Math.min(127, Math.round(x / sc)));
        q[base + k] = qi;
        const back = qi * sc;
        const e = Math.abs(back - x);
        errSum += e;
        if (e > errMax) errMax = e;
        diff2 += e * e;
        w2 += x * x;
        wh2 += back * back;
        dot += x * back;
      }
    }
  }
  const qInit = s.newInitializer(`${v.name}_int8`, Tensor.fromArray(DataType.INT8, dims, q));
  const sInit = s.newInitializer(`${v.name}_scale`, Tensor.fromArray(DataType.FLOAT, [C], scale));
  const zInit = s.newInitializer(`${v.name}_zero_point`, Tensor.fromArray(DataType.INT8, [C], new Int8Array(C)));
  const dq = new Node('DequantizeLinear', [qInit, sInit, zInit], { name: `${v.name}_dequantize`, attributes: [Attribute.int('axis', axis)], outputs: [s.freshName(`${v.name}_dq`)] });
  const bytesBefore = t.byteLength;
  const bytesAfter = qInit.constValue!.byteLength + sInit.constValue!.byteLength + zInit.constValue!.byteLength;
  const report: QuantizedTensorReport = {
    name: v.name,
    axis,
    maxAbsError: errMax,
    meanAbsError: errSum / W.length,
    relativeError: w2 > 0 ? Math.sqrt(diff2 / w2) : 0,
    cosine: w2 > 0 && wh2 > 0 ? dot / Math.sqrt(w2 * wh2) : 1,
    bytesBefore,
    bytesAfter,
  };
  const name = v.name;
  const ok = s.mutate(g, 'int8-weight', `'${name}' quantized to int8 per channel (axis ${axis}), relative error ${report.relativeError.toExponential(2)}`, () => {
    g.addInitializer(qInit);
    g.addInitializer(sInit);
    g.addInitializer(zInit);
    g.prepend(dq);
    dq.metadataProps.set('onnxkit.rule', 'int8-weight');
    v.replaceAllUsesWith(dq.outputs[0]!);
    g.removeInitializer(name);
    dq.outputs[0]!.name = name;
    return { added: [nodeLabel(dq)], bytesDelta: bytesAfter - bytesBefore, details: { ...report } };
  });
  return ok ? report : undefined;
}
