/**
 * The attribute types (and the few value constraints) the analyses, kernels and rewrites rely
 * on, and the one check they all make before reading a node's attributes.
 *
 * `Node.getInt('axis')` throws a GraphError when a file stores `axis` as a FLOAT or a STRING,
 * and a kernel or a loop bound driven by `group = 0` or `strides = [0]` divides by zero or never
 * ends. Such a node is malformed: ONNX Runtime rejects it at session creation. Rather than guard
 * every read, every consumer asks `attributeProblem(node)` first and treats a node with a
 * problem as malformed — shape inference reports a `bad-attribute` diagnostic and leaves its
 * outputs as declared, the analysis marks the layer unknown, the kernels refuse it and the
 * rewrites decline with reason `bad-attribute`.
 *
 * The table names every attribute this package reads (a test checks that against the sources).
 * Types follow the ONNX operator schemas; a name whose type differs between ops (`value`: a
 * TENSOR on Constant/ConstantOfShape, a FLOAT on Pad before opset 11) is typed per op. Only
 * default-domain nodes are checked, and reference attributes (inside function bodies) are
 * skipped: they carry no value to check.
 */
import { AttributeType, isKnownDataType, type AttributeValue, type Node } from '@onnxkit/graph';
import { lookup, opTable } from './op-table.js';

interface AttributeSpec {
  readonly type: AttributeType;
  /** A constraint on the value; returns what is wrong, phrased after "attribute 'x' ". */
  readonly check?: (value: AttributeValue) => string | undefined;
}

const atLeastOne = (v: AttributeValue): string | undefined => ((v as bigint) >= 1n ? undefined : `is ${String(v)}; it must be at least 1`);
const allAtLeastOne = (v: AttributeValue): string | undefined => {
  const bad = (v as readonly bigint[]).find((x) => x < 1n);
  return bad === undefined ? undefined : `holds ${bad}; every entry must be at least 1`;
};
/** A data type code: known to ONNX, and not UNDEFINED unless `zeroMeansUnset`. */
const dataTypeCode =
  (zeroMeansUnset: boolean) =>
  (v: AttributeValue): string | undefined => {
    const code = v as bigint;
    if (code === 0n && zeroMeansUnset) return undefined;
    return code > 0n && isKnownDataType(Number(code)) ? undefined : `is ${code}, which is not an ONNX data type`;
  };
/** A permutation of 0…n−1 (negative entries counted from the end, as the kernels accept). */
const permutation = (v: AttributeValue): string | undefined => {
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
const int: AttributeSpec = { type: T.INT };
const ints: AttributeSpec = { type: T.INTS };
const float: AttributeSpec = { type: T.FLOAT };
const string: AttributeSpec = { type: T.STRING };
const graph: AttributeSpec = { type: T.GRAPH };

/** Expected type by attribute name (default-domain ops). */
export const ATTRIBUTE_TYPES: Readonly<Record<string, AttributeSpec>> = opTable<AttributeSpec>({
  allowzero: int,
  alpha: float,
  auto_pad: string,
  axes: ints,
  axis: int,
  batch_dims: int,
  beta: float,
  blocksize: { type: T.INT, check: atLeastOne },
  body: graph,
  ceil_mode: int,
  count_include_pad: int,
  dilations: { type: T.INTS, check: allAtLeastOne },
  direction: string,
  dtype: { type: T.INT, check: dataTypeCode(false) },
  else_branch: graph,
  end: int,
  ends: ints,
  epsilon: float,
  equation: string,
  fmod: int,
  group: { type: T.INT, check: atLeastOne },
  hidden_size: int,
  is_test: int,
  k: int,
  keep_aspect_ratio_policy: string,
  keepdims: int,
  kernel_shape: { type: T.INTS, check: allAtLeastOne },
  layout: int,
  max: float,
  min: float,
  mode: string,
  noop_with_empty_axes: int,
  num_outputs: int,
  num_scan_inputs: int,
  output_dtype: { type: T.INT, check: dataTypeCode(true) },
  output_padding: ints,
  output_shape: ints,
  paddings: ints,
  pads: ints,
  perm: { type: T.INTS, check: permutation },
  saturate: int,
  scales: { type: T.FLOATS },
  scan_input_axes: ints,
  shape: ints,
  size: int,
  sparse_value: { type: T.SPARSE_TENSOR },
  spatial: int,
  split: ints,
  start: int,
  starts: ints,
  stash_type: { type: T.INT, check: dataTypeCode(false) },
  strides: { type: T.INTS, check: allAtLeastOne },
  then_branch: graph,
  to: { type: T.INT, check: dataTypeCode(false) },
  training_mode: int,
  transA: int,
  transB: int,
  value_float: float,
  value_floats: { type: T.FLOATS },
  value_int: int,
  value_ints: ints,
  value_string: string,
  value_strings: { type: T.STRINGS },
});

/** Per-op exceptions to ATTRIBUTE_TYPES (same name, another type). */
const PER_OP: Readonly<Record<string, Readonly<Record<string, AttributeSpec>>>> = opTable({
  Constant: opTable<AttributeSpec>({ value: { type: T.TENSOR } }),
  ConstantOfShape: opTable<AttributeSpec>({ value: { type: T.TENSOR } }),
  Pad: opTable<AttributeSpec>({ value: float }),
});

/** The type this package expects for attribute `name` of a default-domain `opType`, if it reads it. */
export function expectedAttributeType(opType: string, name: string): AttributeType | undefined {
  const own = lookup(PER_OP, opType);
  return ((own && lookup(own, name)) ?? lookup(ATTRIBUTE_TYPES, name))?.type;
}

/**
 * What is wrong with `node`'s attributes, as a sentence naming the attribute, or undefined when
 * every attribute this package reads has the expected type and an acceptable value.
 */
export function attributeProblem(node: Node): string | undefined {
  if (!node.isOnnxDomain || node.attributes.size === 0) return undefined;
  const own = lookup(PER_OP, node.opType);
  for (const a of node.attributes.values()) {
    if (a.isRef) continue;
    const spec = (own && lookup(own, a.name)) ?? lookup(ATTRIBUTE_TYPES, a.name);
    if (spec === undefined) continue;
    if (a.type !== spec.type) return `attribute '${a.name}' is ${AttributeType[a.type] ?? `type ${a.type}`}, not ${AttributeType[spec.type]}`;
    const why = spec.check?.(a.value!);
    if (why !== undefined) return `attribute '${a.name}' ${why}`;
  }
  return undefined;
}
