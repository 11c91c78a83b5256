/**
 * onnxruntime's fused transformer ops, as its graph optimizer writes them into the optimized
 * graph of a float transformer (onnxruntime-node 1.30, levels extended and all, CPU,
 * optimizedModelFilePath): com.microsoft SkipLayerNormalization (residual Add [+ a Linear's bias
 * Add] + LayerNormalization: SkipLayerNormFusion), BiasGelu (a Linear's bias Add + the erf GELU
 * formula: BiasGeluFusion), QuickGelu (x · Sigmoid(α·x), CLIP's GELU, and with α = 1 SiLU's
 * x · Sigmoid(x): QuickGeluFusion), and
 * SimplifiedLayerNormalization — in the default ONNX domain, where onnxruntime registers it —
 * (x / √(mean(x²) + ε) · scale, an RMSNorm: SimplifiedLayerNormFusion, which also takes the
 * Pow → ReduceMean → Add → Sqrt → Div → Mul tail of a LayerNorm PyTorch decomposes below opset
 * 17, after its Sub; seen in a torchvision ViT at opset 14).
 *
 * Measured on: the fixtures transformer_encoder and transformer_encoder_opset14 (BiasGelu), the
 * zoo transformer (encoder, decoder-only, with a vocabulary, the Gelu op, symbolic sequence:
 * SkipLayerNormalization, BiasGelu), torch 1.13's nn.TransformerEncoder with GELU and
 * torchvision's VisionTransformer at opsets 14 and 17 (SkipLayerNormalization,
 * SimplifiedLayerNormalization; at level all the patch Conv goes NCHWc: contrib-nchwc.ts), an
 * RMSNorm MLP with x·sigmoid(1.702x) (SimplifiedLayerNormalization, QuickGelu), and the same
 * models after `convert-fp16` (nothing new). No Attention, MultiHeadAttention,
 * EmbedLayerNormalization, FastGelu (torch's tanh GELU stays Tanh/Mul/Add), BiasSoftmax (CUDA
 * only) or SkipSimplifiedLayerNormalization appeared: onnxruntime's AttentionFusion matches the
 * BERT exports of its own transformers optimizer, not PyTorch's nn.MultiheadAttention, so they are
 * not declared here.
 *
 * Each cost is the cost of the float subgraph it replaced, from the ops' own declarations, so that
 * analysing onnxruntime's optimized graph gives the original's MACs (none of these does any) and
 * FLOPs: SkipLayerNormalization = Add (1) [+ bias Add (1)] + LayerNormalization (8) per element;
 * BiasGelu = Add (1) + Gelu (8); QuickGelu = Mul (1) + Sigmoid (4) + Mul (1), with α = 1 (SiLU,
 * no α·x) Sigmoid (4) + Mul (1);
 * SimplifiedLayerNormalization = RMSNormalization (5). Where the original wrote a formula rather
 * than the op (the erf GELU: Div, Erf, Add, Mul, Mul = 5; a decomposed LayerNorm) the FLOPs
 * differ by the op's convention: packages/runtime/test/transformer-analysis.test.ts states the
 * numbers. The gammas, betas and biases these ops read are learnable parameters (`biases`), as
 * they were on the LayerNormalization and the Linear's Add. Attributes as onnxruntime's schemas
 * (ContribOperators.md), checked before the rule runs (attributeProblem: a com.microsoft node
 * against its own op's schema).
 */
import { DataType, type Dim } from '@onnxkit/graph';
import type { ShapeRule } from '../analysis/inference-types.js';
import { ReferenceInputError, ReferenceUnsupportedError } from '../kernels/reference/errors.js';
import { allocF64, normAxis, sizeOf } from '../kernels/reference/tensor.js';
import { ATTR, withDefault } from './attributes.js';
import { type CostContext, type Count, type OpCost, perOutput, perOutputOfOp } from './cost.js';
import { ACTIVATION_OPS } from './elementwise-unary.js';
import { NORMALIZATION_OPS } from './normalization.js';
import { same } from './shape-helpers.js';
import { defineOp, type OpDef, type ReferenceKernel } from './types.js';

const MS = 'com.microsoft';

// The per-element counts of the ops a fusion replaced, from their declarations.
const LAYER_NORM = perOutputOfOp(NORMALIZATION_OPS, 'LayerNormalization');
const RMS_NORM = NORMALIZATION_OPS.find((op) => op.type === 'RMSNormalization')!.cost as OpCost;
const GELU = perOutputOfOp(ACTIVATION_OPS, 'Gelu');
const SIGMOID = perOutputOfOp(ACTIVATION_OPS, 'Sigmoid');
const ADD = 1;
const MUL = 1;

/**
 * SkipLayerNormalization: output (0) and input_skip_bias_sum (3) have the input's shape; mean (1)
 * and inv_std_var (2) are float32, the input's shape with the last (normalised) axis 1.
 */
const skipLayerNormShape: ShapeRule = (c) => {
  const xs = c.shape(0);
  const t = c.dtype(0);
  c.out(0, t, xs);
  const n = c.node.outputs.length;
  if (n > 1) {
    const stat: Dim[] | null = xs && xs.length > 0 ? [...xs.slice(0, -1), 1] : null;
    c.out(1, DataType.FLOAT, stat);
    if (n > 2) c.out(2, DataType.FLOAT, stat);
    if (n > 3) c.out(3, t, xs);
  }
};

const SKIP_NO_BIAS: Count = { perOutput: ADD + LAYER_NORM };
const SKIP_BIAS: Count = { perOutput: ADD + ADD + LAYER_NORM };
/** The residual Add, the Linear's bias Add when the bias (4) is present, the LayerNormalization. */
const skipLayerNormOps = (c: CostContext): Count => (c.node.inputs[4] == null ? SKIP_NO_BIAS : SKIP_BIAS);

const QUICK_GELU: Count = { perOutput: MUL + SIGMOID + MUL };
const SILU: Count = { perOutput: SIGMOID + MUL };
/** QuickGelu: α·x (none when α = 1: SiLU's x·Sigmoid(x), which QuickGeluFusion fuses too), Sigmoid, ·x. */
const quickGeluOps = (c: CostContext): Count => (c.node.getFloat('alpha', 1.702) === 1 ? SILU : QUICK_GELU);

/** SimplifiedLayerNormalization's shape: LayerNormalization's rule (Y; inv_std_var as its stats outputs). */
const layerNormShape = NORMALIZATION_OPS.find((op) => op.type === 'LayerNormalization')!.shape as ShapeRule;

/**
 * SimplifiedLayerNormalization (and RMSNormalization) in float64: over the axes from `axis`,
 * Y = X / √(mean(X²) + ε) · scale (scale broadcast against those axes); inv_std_var of the
 * normalised axes as a second output, in stash_type.
 */
export const simplifiedLayerNormalizationRef: ReferenceKernel = (node, inputs) => {
  const xt = inputs[0];
  const st = inputs[1];
  if (!xt || !st) throw new ReferenceInputError(node, 'X and scale are required');
  if (!(xt.data instanceof Float64Array) || !(st.data instanceof Float64Array)) throw new ReferenceUnsupportedError(node, 'X and scale must be floating-point tensors');
  const X = xt.data;
  const scale = st.data;
  const axis = normAxis(node, node.getInt('axis', -1), xt.dims.length);
  const eps = node.getFloat('epsilon', Math.fround(1e-5));
  const outer = sizeOf(xt.dims.slice(0, axis));
  const inner = sizeOf(xt.dims.slice(axis));
  const sN = sizeOf(st.dims);
  if (sN === 0 || inner % sN !== 0) throw new ReferenceInputError(node, `scale does not broadcast to the normalised shape [${xt.dims.slice(axis).join(',')}]`);
  const out = allocF64(X.length);
  const invOut = allocF64(outer);
  for (let o = 0; o < outer; o++) {
    const base = o * inner;
    let s = 0;
    for (let i = 0; i < inner; i++) s += X[base + i]! * X[base + i]!;
    const inv = 1 / Math.sqrt(s / inner + eps);
    invOut[o] = inv;
    for (let i = 0; i < inner; i++) out[base + i] = X[base + i]! * inv * scale[i % sN]!;
  }
  return [
    { dtype: xt.dtype, dims: xt.dims, data: out },
    // In stash_type (float32 by default), as the shape rule and onnxruntime (float32 for a float16 X) have it.
    { dtype: node.getInt('stash_type', DataType.FLOAT) as DataType, dims: xt.dims.map((d, i) => (i < axis ? d : 1)), data: invOut },
  ];
};

export const CONTRIB_TRANSFORMER_OPS: readonly OpDef[] = [
  defineOp({
    type: 'SkipLayerNormalization',
    domain: MS,
    // onnxruntime's default epsilon (kDefaultSkipLayerNormEpsilon).
    attributes: { epsilon: withDefault(ATTR.epsilon, 1e-12) },
    shape: skipLayerNormShape,
    // input, skip, gamma, beta (optional), bias (optional: the Linear's bias before the residual Add).
    cost: { biases: [2, 3, 4], ops: skipLayerNormOps, opsNote: `${ADD + LAYER_NORM} per element (residual Add, LayerNormalization), ${ADD + ADD + LAYER_NORM} with the bias` },
  }),
  defineOp({
    type: 'BiasGelu',
    domain: MS,
    attributes: {},
    // A (the MatMul's output) and the bias B broadcast along the last axis: A's shape.
    shape: same,
    cost: { biases: [1], ops: perOutput(ADD + GELU), opsNote: `${ADD + GELU} per element (bias Add, Gelu)` },
  }),
  defineOp({
    type: 'QuickGelu',
    domain: MS,
    attributes: { alpha: withDefault(ATTR.alpha, 1.702) },
    shape: same,
    // An activation function, in place as Gelu is.
    cost: { inPlace: true, ops: quickGeluOps, opsNote: `${MUL + SIGMOID + MUL} per element (α·x, Sigmoid, ·x); ${SIGMOID + MUL} with α = 1 (SiLU)` },
  }),
  defineOp({
    type: 'SimplifiedLayerNormalization',
    // onnxruntime registers it in the ONNX domain (opset 1), not com.microsoft.
    domain: '',
    attributes: { axis: withDefault(ATTR.axis, -1), epsilon: withDefault(ATTR.epsilon, 1e-5), stash_type: withDefault(ATTR.stash_type, 1) },
    shape: layerNormShape,
    cost: RMS_NORM,
    reference: simplifiedLayerNormalizationRef,
  }),
];
