/**
 * Convolutions: Conv, its integer and quantized forms, ConvTranspose. MACs follow the lecture:
 * c_i·k_h·k_w·h_o·w_o·c_o, grouped /g, depthwise k_h·k_w·h_o·w_o·c_o, × batch.
 */
import { DataType, type Dim } from '@onnxkit/graph';
import type { RuleContext, ShapeRule } from '../analysis/inference-types.js';
import { ATTR, withDefault } from './attributes.js';
import { biasOps, convMacs, convTransposeMacs, QUANT_NOTE, quantizedOps } from './cost.js';
import { windowOut, windowParams } from './shape-helpers.js';
import { type AttributeSchema, defineOp, FP16_ALL, type OpDef } from './types.js';
import { convRef, convTransposeRef } from '../kernels/reference/conv.js';

/** What a convolution's shape rule reads besides X and W. */
export interface ConvShapeOptions {
  /** The output's element type (default X's). */
  readonly outType?: (c: RuleContext) => DataType;
  /**
   * A fixed number of spatial axes (DeformConv is 2-D only): a known X or W of another rank is a
   * mismatch, and with both unknown the output still has that rank, its dims unknown. Without
   * it the rank comes from X (else W), and with both unknown there is no shape.
   */
  readonly spatial?: number;
}

/**
 * Conv's shape rule, [N, M, out…] with each spatial extent by windowOut (the ONNX formula):
 * X at `xIdx`, W at `wIdx`. Conv, ConvInteger, QLinearConv and DeformConv (deform-conv.ts).
 */
export function convShape(xIdx: number, wIdx: number, options: ConvShapeOptions = {}): ShapeRule {
  const { outType, spatial: fixed } = options;
  return (c) => {
    const xs = c.shape(xIdx);
    const ws = c.shape(wIdx);
    const type = outType ? outType(c) : c.dtype(xIdx);
    if (fixed !== undefined && ((xs && xs.length !== fixed + 2) || (ws && ws.length !== fixed + 2))) {
      c.mismatch(`${c.node.opType} is ${fixed}-D: X and W must have rank ${fixed + 2}`);
      return c.out(0, type, null);
    }
    const rank = xs?.length ?? ws?.length ?? (fixed === undefined ? undefined : fixed + 2);
    if (rank === undefined) return c.out(0, type, null);
    const spatial = rank - 2;
    if (spatial < 0) {
      c.mismatch(`input or weight has rank ${rank}; a convolution needs at least 2`);
      return c.out(0, type, null);
    }
    const group = c.node.getInt('group', 1);
    const kernel: Dim[] = c.node.getInts('kernel_shape') ?? (ws ? ws.slice(2) : new Array<Dim>(spatial).fill(null));
    if (xs && ws && typeof xs[1] === 'number' && typeof ws[1] === 'number' && xs[1] !== ws[1] * group) {
      c.mismatch(`input has ${xs[1]} channels but the weight expects ${ws[1]} × group ${group}`);
    }
    const p = windowParams(c.node, spatial, kernel);
    const out: Dim[] = [xs?.[0] ?? null, ws?.[0] ?? null];
    for (let i = 0; i < spatial; i++) out.push(windowOut(c, p, i, spatial, xs?.[2 + i] ?? null));
    c.out(0, type, out);
  };
}

const convTranspose: ShapeRule = (c) => {
  const xs = c.shape(0);
  const ws = c.shape(1);
  const rank = xs?.length ?? ws?.length;
  if (rank === undefined) return c.out(0, c.dtype(0), null);
  const spatial = rank - 2;
  if (spatial < 0) {
    c.mismatch(`input or weight has rank ${rank}; a convolution needs at least 2`);
    return c.out(0, c.dtype(0), null);
  }
  const group = c.node.getInt('group', 1);
  const alg = c.alg;
  const kernel: Dim[] = c.node.getInts('kernel_shape') ?? (ws ? ws.slice(2) : new Array<Dim>(spatial).fill(null));
  const { strides, dilations: dil, pads, autoPad } = windowParams(c.node, spatial, kernel);
  const outPad = c.node.getInts('output_padding') ?? new Array<number>(spatial).fill(0);
  const outputShape = c.node.getInts('output_shape');
  if (xs && ws && typeof xs[1] === 'number' && typeof ws[0] === 'number' && xs[1] !== ws[0]) {
    c.mismatch(`input has ${xs[1]} channels but the weight has ${ws[0]}`);
  }
  const out: Dim[] = [xs?.[0] ?? null, alg.mul(ws?.[1] ?? null, group)];
  for (let i = 0; i < spatial; i++) {
    const inDim = xs?.[2 + i] ?? null;
    if (outputShape) {
      out.push(outputShape[outputShape.length === spatial + 2 ? i + 2 : i] ?? null);
      continue;
    }
    const s = strides[i] ?? 1;
    const k = kernel[i] ?? null;
    const extent = alg.add(alg.mul(dil[i] ?? 1, alg.sub(k, 1)), 1);
    if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') {
      // in·stride, padded down to it from the full extent s·(in − 1) + output_padding + extent;
      // when that is shorter (kernel + output_padding < stride) the padding would be negative,
      // and onnxruntime pads nothing: the full extent, in·stride − (s − output_padding − extent).
      const short = typeof extent === 'number' ? s - (outPad[i] ?? 0) - extent : 0;
      out.push(short > 0 ? alg.sub(alg.mul(inDim, s), short) : alg.mul(inDim, s));
      continue;
    }
    const pb = autoPad === 'VALID' ? 0 : (pads[i] ?? 0);
    const pe = autoPad === 'VALID' ? 0 : (pads[i + spatial] ?? 0);
    out.push(alg.sub(alg.add(alg.add(alg.mul(s, alg.sub(inDim, 1)), outPad[i] ?? 0), extent), pb + pe));
  }
  c.out(0, c.dtype(0), out);
};

/** Conv's attributes; the rewrites that rebuild a Conv decline on any other. */
export const CONV_ATTRIBUTES: AttributeSchema = {
  auto_pad: withDefault(ATTR.auto_pad, 'NOTSET'),
  dilations: ATTR.dilations,
  group: withDefault(ATTR.group, 1),
  kernel_shape: ATTR.kernel_shape,
  pads: ATTR.pads,
  strides: ATTR.strides,
};

const BIAS_NOTE = '1 per output (bias add, if any)';

export const CONV_OPS: readonly OpDef[] = [
  defineOp({
    type: 'Conv',
    reference: convRef,
    attributes: CONV_ATTRIBUTES,
    shape: convShape(0, 1),
    cost: { weights: [1], biases: [2], macs: convMacs(1), ops: biasOps(2), opsNote: BIAS_NOTE },
    weightInputs: [1, 2],
    int8WeightAxis: (_node, input) => (input === 1 ? 0 : undefined),
    fp16: FP16_ALL,
    ort: { qdq: 'mac', qdqUint8Activation: true },
    quantize: { placement: 'conv', anchor: true },
    sameAt13From: 10,
  }),
  // ConvInteger-10 and QLinearConv-10 are the only versions to opset 13 (ONNX Changelog; onnx 1.12's schemas to 17).
  defineOp({ type: 'ConvInteger', attributes: CONV_ATTRIBUTES, shape: convShape(0, 1, { outType: () => DataType.INT32 }), cost: { weights: [1], buffers: [2, 3], macs: convMacs(1), integer: true }, sameAt13From: 10 }),
  defineOp({
    type: 'QLinearConv',
    attributes: CONV_ATTRIBUTES,
    shape: convShape(0, 3, { outType: (c) => c.dtype(7) }),
    // x, x_scale, x_zero_point, w, w_scale, w_zero_point, y_scale, y_zero_point, B (int32).
    cost: { weights: [3], biases: [8], buffers: [1, 2, 4, 5, 6, 7], macs: convMacs(3), ops: quantizedOps(0, 6, 8), opsNote: QUANT_NOTE, integer: true },
    sameAt13From: 10,
  }),
  defineOp({
    type: 'ConvTranspose',
    reference: convTransposeRef,
    attributes: { ...CONV_ATTRIBUTES, output_padding: ATTR.output_padding, output_shape: ATTR.output_shape },
    shape: convTranspose,
    cost: { weights: [1], biases: [2], macs: convTransposeMacs, ops: biasOps(2), opsNote: BIAS_NOTE },
    weightInputs: [1, 2],
    // W is [C_in, C_out/g, k…]: output channels lie on axis 1 only when there is one group.
    int8WeightAxis: (node, input) => (input === 1 && node.getInt('group', 1) === 1 ? 1 : undefined),
    fp16: FP16_ALL,
    // No QDQ form in onnxruntime 1.30 (QDQSelectorActionTransformer registers no ConvTranspose
    // selector): between DequantizeLinear and QuantizeLinear it runs in float
    // (test/analysis/ort-qdq.test.ts). The quantizer still stores its weights as int8.
    quantize: { placement: 'conv', anchor: true },
    sameAt13From: 10,
  }),
];
