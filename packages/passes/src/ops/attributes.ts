/**
 * The attribute vocabulary the op modules declare their schemas from: one spec per attribute
 * name (ONNX type and value check), so that two ops reading `group` or `strides` check them the
 * same way. An op adds its own default with `withDefault`. common/attribute-schema.ts derives the
 * per-name table every consumer checks (`attributeProblem`) from the ops' schemas.
 */
import { AttributeType, isKnownDataType, type AttributeValue } from '@onnxkit/graph';
import type { AttributeCheck, AttributeSchema, AttributeSpec } from './types.js';

const atLeastOne: AttributeCheck = (v) => ((v as bigint) >= 1n ? undefined : `is ${String(v)}; it must be at least 1`);
const allAtLeastOne: AttributeCheck = (v) => {
  const bad = (v as readonly bigint[]).find((x) => x < 1n);
  return bad === undefined ? undefined : `holds ${bad}; every entry must be at least 1`;
};
/** A data type code: known to ONNX, and not UNDEFINED unless `zeroMeansUnset`. */
const dataTypeCode =
  (zeroMeansUnset: boolean): AttributeCheck =>
  (v: AttributeValue): string | undefined => {
    const code = v as bigint;
    if (code === 0n && zeroMeansUnset) return undefined;
    return code > 0n && isKnownDataType(Number(code)) ? undefined : `is ${code}, which is not an ONNX data type`;
  };
const dataType = dataTypeCode(false);
const dataTypeOrUnset = dataTypeCode(true);
/** A permutation of 0…n−1 (negative entries counted from the end, as the kernels accept). */
const permutation: AttributeCheck = (v) => {
  const p = v as readonly bigint[];
  const n = BigInt(p.length);
  const seen = new Set<bigint>();
  for (const x of p) {
    const a = x < 0n ? x + n : x;
    if (a < 0n || a >= n || seen.has(a)) return `[${p.join(',')}] is not a permutation of ${p.length} axes`;
    seen.add(a);
  }
  return undefined;
};

const T = AttributeType;
const spec = (type: AttributeType, check?: AttributeCheck): AttributeSpec => Object.freeze(check ? { type, check } : { type });
const int = spec(T.INT);
const ints = spec(T.INTS);
const float = spec(T.FLOAT);
const floats = spec(T.FLOATS);
const string = spec(T.STRING);
const strings = spec(T.STRINGS);
const graph = spec(T.GRAPH);
const tensor = spec(T.TENSOR);

/** Attribute name → spec, for the names whose type is the same on every op that has them. */
export const ATTR = Object.freeze({
  allowzero: int,
  alpha: float,
  auto_pad: string,
  axes: ints,
  axis: int,
  batch_dims: int,
  beta: float,
  blocksize: spec(T.INT, atLeastOne),
  body: graph,
  ceil_mode: int,
  channels_last: int,
  count_include_pad: int,
  dilations: spec(T.INTS, allAtLeastOne),
  direction: string,
  dtype: spec(T.INT, dataType),
  else_branch: graph,
  end: int,
  ends: ints,
  epsilon: float,
  equation: string,
  fmod: int,
  group: spec(T.INT, atLeastOne),
  hidden_size: int,
  is_test: int,
  k: int,
  keep_aspect_ratio_policy: string,
  keepdims: int,
  kernel_shape: spec(T.INTS, allAtLeastOne),
  layout: int,
  max: float,
  min: float,
  mode: string,
  noop_with_empty_axes: int,
  num_outputs: int,
  num_scan_inputs: int,
  output_dtype: spec(T.INT, dataTypeOrUnset),
  output_padding: ints,
  output_shape: ints,
  paddings: ints,
  pads: ints,
  perm: spec(T.INTS, permutation),
  saturate: int,
  round_mode: string,
  scales: floats,
  scan_input_axes: ints,
  scan_input_directions: ints,
  scan_output_axes: ints,
  scan_output_directions: ints,
  shape: ints,
  size: int,
  sparse_value: spec(T.SPARSE_TENSOR),
  spatial: int,
  split: ints,
  start: int,
  starts: ints,
  stash_type: spec(T.INT, dataType),
  storage_order: int,
  strides: spec(T.INTS, allAtLeastOne),
  then_branch: graph,
  to: spec(T.INT, dataType),
  training_mode: int,
  transA: int,
  transB: int,
  value_float: float,
  value_floats: floats,
  value_int: int,
  value_ints: ints,
  value_string: string,
  value_strings: strings,
  // Per-op types of `value`: a TENSOR on Constant/ConstantOfShape, a FLOAT on Pad (opset < 11).
  valueTensor: tensor,
  valueFloat: float,
  // Per-op types of `seed`: an INT on Dropout, a FLOAT on the Random* ops, Bernoulli, Multinomial.
  seedInt: int,
  seedFloat: float,
  // Attributes the toolkit keeps without reading them (types per the ONNX operator schemas).
  activation_alpha: floats,
  activation_beta: floats,
  activations: strings,
  antialias: int,
  approximate: string,
  batch_axis: int,
  bias: float,
  block_size: int,
  broadcast: int,
  center_point_box: int,
  clip: float,
  consumed_inputs: ints,
  coordinate_transformation_mode: string,
  cubic_coeff_a: float,
  detect_negative: int,
  detect_positive: int,
  exclude_outside: int,
  exclusive: int,
  extrapolation_value: float,
  gamma: float,
  ignore_index: int,
  input_forget: int,
  lambd: float,
  largest: int,
  linear_before_reset: int,
  momentum: float,
  nearest_mode: string,
  num_groups: int,
  p: int,
  ratio: float,
  reduction: string,
  reverse: int,
  select_last_index: int,
  sorted: int,
  time_axis: int,
  upper: int,
  // Attributes of ops added the new way.
  align_corners: int,
  padding_mode: string,
  high: float,
  low: float,
  mean: float,
  sample_size: int,
  scale: float,
  // Attention and RotaryEmbedding (opset 23).
  interleaved: int,
  is_causal: int,
  kv_num_heads: int,
  num_heads: int,
  q_num_heads: int,
  qk_matmul_output_mode: int,
  rotary_embedding_dim: int,
  softcap: float,
  softmax_precision: int,
  // Signal processing (ops/signal.ts): the generators' output type, windows, DFT/STFT.
  inverse: int,
  onesided: int,
  output_datatype: spec(T.INT, dataType),
  periodic: int,
  // Deformable convolution (ops/deform-conv.ts).
  offset_group: spec(T.INT, atLeastOne),
  // Region-of-interest pooling (ops/roi-pool.ts).
  output_height: int,
  output_width: int,
  pooled_shape: spec(T.INTS, allAtLeastOne),
  sampling_ratio: int,
  spatial_scale: float,
  // Attributes of onnxruntime's com.microsoft / com.microsoft.nchwc contrib ops (its schemas'
  // types): QLinearSoftmax's opset (the Softmax it replaced: axis semantics), FusedMatMul's
  // batch transposes, ReorderOutput's channel count, the NCHWc Conv's fused activation.
  activation: string,
  activation_params: floats,
  channels: int,
  opset: int,
  transBatchA: int,
  transBatchB: int,
} satisfies Record<string, AttributeSpec>);

export type AttrName = Exclude<keyof typeof ATTR, 'valueTensor' | 'valueFloat' | 'seedInt' | 'seedFloat'>;

/** `spec` with the op's default for an absent attribute. */
export function withDefault(s: AttributeSpec, value: number | string | readonly number[]): AttributeSpec {
  return Object.freeze({ ...s, default: value });
}

/** A schema of vocabulary attributes without op-specific defaults. */
export function attrs(...names: AttrName[]): AttributeSchema {
  return Object.freeze(Object.fromEntries(names.map((n) => [n, ATTR[n]])));
}
