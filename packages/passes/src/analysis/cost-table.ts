/**
 * The op cost table: per op, which inputs are learnable weights, biases (learnable, not weights)
 * or buffers, how to count its MACs, how many element-wise operations it performs, and whether
 * its output is an alias of its input or written in place. Each op declares its cost in its own
 * module (ops/, the `cost` facet); this table is derived from the registry. `analyze.ts` reads
 * only this table — no per-op if-chains elsewhere.
 *
 * Conventions (printed with every report, see CONVENTION):
 * - MACs only for Conv/ConvTranspose/Gemm/MatMul/Einsum and their integer/quantized forms, with
 *   the lecture's formulas: Linear c_o·c_i; Conv c_i·k_h·k_w·h_o·w_o·c_o, grouped /g, depthwise
 *   k_h·k_w·h_o·w_o·c_o; all × batch. Bias additions are element-wise ops, not MACs.
 * - FLOPs = 2·MACs + element-wise operations, counted per output (or input) element with the
 *   per-op counts written in this table (`ops`), e.g. Relu 1, Sigmoid 4, Softmax 5 per element.
 * - "inPlace": an element-wise activation function (and inference BatchNorm) that the lecture
 *   counts as applied in place: no new activation. "alias": a pure view (Reshape, Flatten,
 *   Squeeze, Unsqueeze, Identity, Dropout at inference): no new activation, no data movement.
 */
import { CONTRIB_COST_FACET, COST_FACET } from '../ops/registry.js';
import type { OpCost } from '../ops/cost.js';

export type { CostContext, Count, Factors, OpCost, PaddedChannels } from '../ops/cost.js';

export const COST_TABLE: Readonly<Record<string, OpCost>> = COST_FACET;

/** `domain::type` → cost for the ops of other domains (onnxruntime's com.microsoft quantized ops). */
export const CONTRIB_COST_TABLE: Readonly<Record<string, OpCost>> = CONTRIB_COST_FACET;

/** The lecture conventions, printed with every analysis output. */
export const CONVENTION =
  'MACs: multiply-accumulates of Conv/ConvTranspose/Gemm/MatMul/Einsum with the lecture formulas ' +
  '(Linear c_o·c_i; Conv c_i·k_h·k_w·h_o·w_o·c_o; grouped /g; depthwise k_h·k_w·h_o·w_o·c_o; × batch). ' +
  'FLOPs = 2·MACs + element-wise operations (per-op counts in the cost table; bias adds count here). ' +
  'Integer ops (QLinearConv, QLinearMatMul, ConvInteger, MatMulInteger, com.microsoft QGemm, QLinearAdd/Mul, ' +
  'QLinearGlobalAveragePool, QLinearAveragePool, QLinearConcat, QLinearSigmoid, QLinearLeakyRelu, QLinearSoftmax, QLinearWhere, ' +
  'MatMulIntegerToFloat, DynamicQuantizeMatMul): MACs with the same formulas, ' +
  'but their work is OPs, not FLOPs: intOps = 2·integer MACs + their element ops (bias add 1, requantization 3 per output); ' +
  'in QDQ form a Conv/Gemm/MatMul with both data and weight dequantized from int8/uint8 (a Conv only with a quantized output), and an Add/Mul/Concat/AveragePool/' +
  'GlobalAveragePool/Sigmoid/LeakyRelu/Softmax between DequantizeLinear and QuantizeLinear, and a Where with both branches dequantized ' +
  '(its bool condition read as it is) or one dequantized and a float scalar constant, are counted as integer too, when the group has one 8-bit type ' +
  'as onnxruntime sees it (on x86-64 an int8 tensor read once becomes uint8, one read twice stays int8; Conv/MatMul take only uint8 activations) ' +
  '(onnxruntime 1.30 fuses them into QLinear kernels; a QDQ ConvTranspose stays float); ' +
  'QuantizeLinear (3 per element), DequantizeLinear (2) and DynamicQuantizeLinear (5) are float conversion work, counted as FLOPs. ' +
  'Activations: total = graph inputs + every layer output, element-wise activation functions and ' +
  'inference BatchNorm in place and Reshape/Flatten/Squeeze/Unsqueeze/Identity/Dropout as views (not counted); ' +
  'peak = max over layers of input + output activations. Params: learnable = weights + biases + ' +
  'normalisation scale/shift, a shared tensor once; weight params = weights only (bias ignored). ' +
  'Quantized ops\' scales and zero points are buffers; every parameter is counted at its stored dtype (int8 weights 1 byte, int32 bias 4). ' +
  'Peak memory: live activation bytes over the node order, weights excluded. Latency: roofline ' +
  'max(FLOPs / peak FLOP/s + intOps / peak int8 OP/s, bytes / bandwidth) per layer, summed; bytes = input + output activations + weights.';
