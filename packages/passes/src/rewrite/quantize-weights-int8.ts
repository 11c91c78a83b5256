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
 * Declared as an initializer-anchored rule (rule.ts): its patch replaces the weight (which leaves
 * the graph) by a DequantizeLinear of three new initializers, inserted first in the graph and
 * given the weight's name. The output-channel axis of each use is the op's `int8WeightAxis`
 * (ops/, one home per operator).
 *
 * Reports bytes saved, and per tensor and overall: max/mean absolute error, relative Frobenius
 * error ‖W − Ŵ‖/‖W‖ and cosine similarity. Biases stay float32 (an int32 bias would need the
 * activation scale).
 */
import { Attribute, DataType, Node, Tensor, type Value } from '@onnxkit/graph';
import { int8WeightAxis } from '../ops/registry.js';
import { defineInitializerRule, defineRulePass, type Patch, type RuleContext } from './rule.js';
import type { RewriteSession } from './session.js';
import { attributeIssue, minElementsOption, storedFloat32Weight } from './util.js';

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

/** A weight to quantize: its tensor, its channel axis, and (once made) its report. */
interface Candidate {
  readonly v: Value;
  readonly t: Tensor;
  axis: number;
  report?: QuantizedTensorReport;
}

const quantizeWeight = defineInitializerRule({
  name: 'int8-weight',
  reasons: REASONS,
  // The reports of one pass run (`metrics.tensors`): the rule's per-run state.
  state: (): QuantizedTensorReport[] => [],
  match(v): Candidate | undefined {
    const t = storedFloat32Weight(v);
    return t && t.dims.length >= 2 ? { v, t, axis: -1 } : undefined;
  },
  check(m, { options }: RuleContext<{ minElements: number }, never, QuantizedTensorReport[]>) {
    const { v, t } = m;
    const axis = weightAxis(v);
    if (typeof axis === 'string') return ['consumer-not-weight', axis, v.uses[0]!.node];
    if (t.size < options.minElements) return ['too-small', `'${v.name}' has ${t.size} elements`, v.uses[0]!.node];
    m.axis = axis;
    return undefined;
  },
  rewrite(m, { session: s, graph: g }) {
    const r = quantize(s, m.v, m.t, m.axis);
    if (r === 'non-finite') return ['non-finite', `'${m.v.name}'`, m.v.uses[0]!.node];
    const first = g.firstNode;
    if (first) r.patch.insertBefore = first;
    m.report = r.report;
    return r.patch;
  },
  outcome(m, declined, { state: reports }) {
    if (declined || !m.report) return;
    reports.push(m.report);
  },
  after({ session: s, state: reports }) {
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

export const quantizeWeightsInt8 = defineRulePass({
  name: 'quantize-weights-int8',
  description: 'Per-output-channel symmetric int8 weights with DequantizeLinear (4x smaller weights; approximate)',
  exact: false,
  options: minElementsOption(256),
  precondition: (s) => (s.opset < 13 ? ['opset-too-old', `opset ${s.opset} < 13 has no per-axis DequantizeLinear`] : undefined),
  // (The rule's `after` writes the metrics; it does not run when the precondition declines.)
  initializerRules: [quantizeWeight],
});

/** The output-channel axis of `v` if every use is a weight input (ops/ `int8WeightAxis`), else why not. */
function weightAxis(v: Value): number | string {
  let axis: number | undefined;
  const rank = v.constValue?.dims.length ?? 0;
  for (const u of v.uses) {
    const n = u.node;
    if (!n.isOnnxDomain) return `'${v.name}' feeds ${n.domain}::${n.opType}`;
    const issue = attributeIssue(n);
    if (issue) return `'${v.name}' feeds a malformed node (${issue[1]})`;
    const a = int8WeightAxis(n, u.index, rank);
    if (a === undefined) return `'${v.name}' feeds ${n.opType} input ${u.index}`;
    if (axis !== undefined && axis !== a) return `'${v.name}' is used with different channel axes`;
    axis = a;
  }
  return axis ?? `'${v.name}' is unused`;
}

/** The quantized weight as a patch (DequantizeLinear of three new initializers) and its report. */
function quantize(s: RewriteSession<string>, v: Value, t: Tensor, axis: number): { patch: Patch; report: QuantizedTensorReport } | 'non-finite' {
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
  const dq = new Node('DequantizeLinear', [qInit, sInit, zInit], { name: `${v.name}_dequantize`, attributes: [Attribute.int('axis', axis)], outputs: [s.replacementName(v, `${v.name}_dq`)] });
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
  const patch: Patch = {
    remove: [],
    replace: [[v, dq.outputs[0]!]],
    add: [dq],
    initializers: [qInit, sInit, zInit],
    description: `'${v.name}' quantized to int8 per channel (axis ${axis}), relative error ${report.relativeError.toExponential(2)}`,
    details: { ...report },
  };
  return { patch, report };
}
