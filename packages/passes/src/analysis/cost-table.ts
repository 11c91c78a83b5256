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
import { COST_FACET } from '../ops/registry.js';
import type { OpCost } from '../ops/cost.js';

export type { CostContext, Count, Factors, OpCost } from '../ops/cost.js';

export const COST_TABLE: Readonly<Record<string, OpCost>> = COST_FACET;

/** The lecture conventions, printed with every analysis output. */
export const CONVENTION =
  'MACs: multiply-accumulates of Conv/ConvTranspose/Gemm/MatMul/Einsum with the lecture formulas ' +
  '(Linear c_o·c_i; Conv c_i·k_h·k_w·h_o·w_o·c_o; grouped /g; depthwise k_h·k_w·h_o·w_o·c_o; × batch). ' +
  'FLOPs = 2·MACs + element-wise operations (per-op counts in the cost table; bias adds count here). ' +
  'Activations: total = graph inputs + every layer output, element-wise activation functions and ' +
  'inference BatchNorm in place and Reshape/Flatten/Squeeze/Unsqueeze/Identity/Dropout as views (not counted); ' +
  'peak = max over layers of input + output activations. Params: learnable = weights + biases + ' +
  'normalisation scale/shift, a shared tensor once; weight params = weights only (bias ignored). ' +
  'Peak memory: live activation bytes over the node order, weights excluded. Latency: roofline ' +
  'max(FLOPs / peak FLOP/s, bytes / bandwidth) per layer, summed; bytes = input + output activations + weights.';
