/**
 * Dynamic int8 quantization of MatMul with a constant weight, as onnxruntime's
 * `quantize_dynamic` writes it (no calibration: the activation's scale is computed at run time):
 *
 *   x ─ DynamicQuantizeLinear ─▶ x_q (uint8), s_x, z_x
 *   MatMulInteger(x_q, W_q, z_x, z_w) ─▶ int32 ─ Cast(float) ─ Mul(s_x · s_w) ─▶ y
 *
 * W_q is int8 symmetric (z_w = 0), per column of W [K, N] (s_w of shape [N]) or per tensor;
 * onnxruntime fuses the group into DynamicQuantizeMatMul / MatMulIntegerToFloat. The output keeps
 * the MatMul's name. Other ops stay float. Preconditions: opset ≥ 11 (DynamicQuantizeLinear,
 * MatMulInteger 10); B a 2-D float32 initializer; A float32 and not a constant.
 */
import { Attribute, DataType, Node, Tensor, Value, type Model } from '@onnxkit/graph';
import { QuantizeError, qdqSkip, quantizeWeight, type QdqSkip, type QuantizedLayer } from './qdq.js';

export interface DynamicReport {
  layers: QuantizedLayer[];
  skipped: QdqSkip[];
  weightBytesBefore: number;
  weightBytesAfter: number;
}

export function quantizeDynamic(model: Model, options: { perChannel?: boolean; keepFloat?: readonly string[] } = {}): DynamicReport {
  const opset = model.opsetVersion('') ?? 1;
  if (opset < 11) {
    throw new QuantizeError(`the model imports opset ${opset}; dynamic quantization needs opset ≥ 11 (DynamicQuantizeLinear)`, { code: 'QUANTIZE_OPSET', hint: 'convert the model to opset 11 or later and retry' });
  }
  const perChannel = options.perChannel ?? true;
  const keep = new Set(options.keepFloat ?? []);
  const g = model.graph;
  const names = new Set<string>();
  for (const v of g.inputs) names.add(v.name);
  for (const v of g.initializers.values()) names.add(v.name);
  for (const n of g) {
    names.add(n.name);
    for (const o of n.outputs) names.add(o.name);
  }
  const fresh = (base: string): string => {
    let name = base;
    let k = 0;
    while (names.has(name)) name = `${base}_${++k}`;
    names.add(name);
    return name;
  };
  const layers: QuantizedLayer[] = [];
  const skipped: DynamicReport['skipped'] = [];
  let before = 0;
  let after = 0;
  const init = (name: string, t: Tensor): Value => g.addInitializer(new Value({ name: fresh(name), constValue: t }));
  for (const n of [...g]) {
    if (n.opType !== 'MatMul' || !n.isOnnxDomain) continue;
    const [a, b] = n.inputs;
    const label = n.name || 'MatMul#unnamed';
    if (keep.has(n.name)) {
      skipped.push(qdqSkip(n, { code: 'kept-float' }, label));
      continue;
    }
    if (!a || !b || !b.isInitializer || b.isGraphInput || !b.constValue || b.constValue.dtype !== DataType.FLOAT || b.constValue.dims.length !== 2) {
      skipped.push(qdqSkip(n, { code: 'b-not-2d-initializer' }, label));
      continue;
    }
    if ((a.dtype !== undefined && a.dtype !== DataType.FLOAT) || a.constValue !== null) {
      skipped.push(qdqSkip(n, { code: 'a-not-activation' }, label));
      continue;
    }
    const t = b.constValue;
    const { q, scales } = quantizeWeight(t, perChannel ? 1 : -1);
    const N = t.dims[1]!;
    const wq = init(`${b.name}_quantized`, Tensor.fromArray(DataType.INT8, t.dims, q));
    const wz = init(`${b.name}_zero_point`, Tensor.fromArray(DataType.INT8, perChannel ? [N] : [], new Int8Array(perChannel ? N : 1)));
    const ws = init(`${b.name}_scale`, Tensor.fromArray(DataType.FLOAT, perChannel ? [N] : [], scales));
    before += t.byteLength;
    after += q.byteLength + scales.byteLength + (perChannel ? N : 1);
    const base = label;
    const dql = new Node('DynamicQuantizeLinear', [a], { name: fresh(`${base}_DynamicQuantizeLinear`), outputs: [fresh(`${a.name}_quantized`), fresh(`${a.name}_scale`), fresh(`${a.name}_zero_point`)] });
    const mmi = new Node('MatMulInteger', [dql.outputs[0]!, wq, dql.outputs[2]!, wz], { name: fresh(`${base}_MatMulInteger`), outputs: [fresh(`${base}_int32`)] });
    const cast = new Node('Cast', [mmi.outputs[0]!], { name: fresh(`${base}_Cast`), attributes: [Attribute.int('to', DataType.FLOAT)], outputs: [fresh(`${base}_float`)] });
    const sc = new Node('Mul', [dql.outputs[1]!, ws], { name: fresh(`${base}_scales_Mul`), outputs: [fresh(`${base}_scale`)] });
    const y = n.outputs[0]!;
    const out = new Node('Mul', [cast.outputs[0]!, sc.outputs[0]!], { name: fresh(`${base}_output_Mul`), outputs: [fresh(`${y.name}_dynamic`)] });
    g.insertBefore(n, dql, mmi, cast, sc, out);
    const yNew = out.outputs[0]!;
    yNew.type = y.type;
    y.replaceAllUsesWith(yNew, { outputs: true });
    const name = y.name;
    g.remove(n, { safe: true });
    yNew.name = name;
    if (b.uses.length === 0 && !b.isGraphOutput) g.removeInitializer(b.name);
    layers.push({ node: label, opType: 'MatMul', output: name, quantizedOutput: name, weightAxis: perChannel ? 1 : -1 });
  }
  if (layers.length === 0) {
    throw new QuantizeError('nothing to quantize dynamically: the model has no MatMul with a constant 2-D float32 weight', { code: 'QUANTIZE_NOTHING', hint: 'dynamic quantization targets MatMul-heavy models (transformers); use static quantization for CNNs' });
  }
  return { layers, skipped, weightBytesBefore: before, weightBytesAfter: after };
}
