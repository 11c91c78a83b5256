/**
 * What an operator declares about itself: the `OpDef` every module in this folder exports, one
 * per op type, with a facet per thing the toolkit knows about the op (attribute schema, shape
 * and type rule, cost, float32 constant-folding kernel, float64 reference kernel, weight inputs,
 * weight pass-through, int8 weight axis, float16 safety, onnxruntime behaviour, quantizer placement,
 * opset-13 stability). The tables the analyses and rewrites read are views of the registry
 * (registry.ts), derived from these declarations, never written by hand.
 *
 * A facet an op deliberately lacks is stated with a typed kind and a reason (`undeclared(kind, '…')`), so "no shape
 * rule" reads as a decision, and the registry test can require every op to say something.
 */
import type { AttributeType, AttributeValue, DataType, Node, Value } from '@onnxkit/graph';
import type { ShapeRule } from '../analysis/inference-types.js';
import type { KernelEntry } from '../kernels/types.js';
import type { OpCost } from './cost.js';

/** A tensor of the float64 reference evaluator: floats widened to float64, int64 as bigint. */
export interface RefTensor {
  readonly dtype: DataType;
  readonly dims: readonly number[];
  readonly data: Float64Array | BigInt64Array | readonly boolean[] | readonly string[];
}

/** The float64 reference evaluation of one node (null for an omitted optional input). */
export type ReferenceKernel = (node: Node, inputs: readonly (RefTensor | null)[], opset: number) => RefTensor[];

/** The `kernel` facet: a constant-folding kernel, and what evaluating it costs. */
export interface OpKernel extends KernelEntry {
  /**
   * Evaluating it costs nothing whatever the size (it returns its input or its attribute's
   * tensor), so shape inference holds it to no size budget: 'unread' passes its input on without
   * reading it (Identity; Constant has none), so a lazy input stays lazy; 'view' reads it
   * (Dropout builds its mask), so a lazy input is still held to the budget.
   */
  readonly zeroCopy?: 'unread' | 'view';
}

/** The `passesWeights` facet of an op that passes a weight only in some forms, or with more inputs. */
export interface PassesWeights {
  /**
   * The weight passes only when this holds of the node (`isConst`: the value is stored or
   * constant). Gather: constant indices; an embedding lookup by run-time indices picks rows
   * that are an activation (the Gather's own layer counts the table).
   */
  readonly when?: (node: Node, isConst: (v: Value) => boolean) => boolean;
  /**
   * Inputs stored along with the weight it passes (DequantizeLinear's scale and zero point):
   * counted as buffers of the layer that reads the weight through it.
   */
  readonly buffers?: readonly number[];
}

/**
 * The kinds of reason an op has for not declaring attributes, shape or cost (each stated with the
 * op's own words in `undeclared`); the analysis prints both where the facet's absence reaches the
 * user (a layer of unknown cost, an op with no shape rule):
 * - 'data-dependent': the answer depends on tensor values, not on shapes (NonMaxSuppression's work);
 * - 'subgraphs': described by its body graphs, which the analysis walks (If, Loop, Scan);
 * - 'not-modelled': no formula written yet (Det's LU decomposition, the random generators' cost);
 * - 'as-declared': its outputs keep the types and shapes the model declares (the random
 *   generators, onnxruntime's contrib ops, whose value_info onnxruntime writes);
 * - 'not-validated': its attributes are read where needed, not checked against a schema
 *   (onnxruntime's contrib ops).
 */
export const UNDECLARED_KINDS = ['data-dependent', 'subgraphs', 'not-modelled', 'as-declared', 'not-validated'] as const;
export type UndeclaredKind = (typeof UNDECLARED_KINDS)[number];

/** A facet an op does not declare: the kind of reason, and the op's own words for it. */
export interface Undeclared {
  readonly kind: UndeclaredKind;
  readonly undeclared: string;
}

export function undeclared(kind: UndeclaredKind, why: string): Undeclared {
  return Object.freeze({ kind, undeclared: why });
}

/** "kind: why", as the analysis prints an undeclared facet's reason. */
export function undeclaredReason(u: Undeclared): string {
  return `${u.kind}: ${u.undeclared}`;
}

export function isUndeclared(x: unknown): x is Undeclared {
  return typeof x === 'object' && x !== null && 'undeclared' in x;
}

/** A constraint on an attribute value; returns what is wrong, phrased after "attribute 'x' ". */
export type AttributeCheck = (value: AttributeValue) => string | undefined;

/** One attribute: its ONNX type, its default when absent (if it has one) and a value check. */
export interface AttributeSpec {
  readonly type: AttributeType;
  readonly default?: number | string | readonly number[];
  readonly check?: AttributeCheck;
}

/** Attribute name → spec: the attributes the op has (as far as the toolkit reads or keeps them). */
export type AttributeSchema = Readonly<Record<string, AttributeSpec>>;

/** Float16 safety: the op may run in float16, except inputs `keepFloat32` (scales, sizes, ratios). */
export interface Fp16Facet {
  readonly keepFloat32: readonly number[];
  /**
   * Inputs the op reads for their shape only (Shape): taken as they are, float32 or float16 —
   * convert-fp16 casts them neither to float16 nor back to float32.
   */
  readonly anyFloat?: readonly number[];
  /**
   * For an op float16-safe in some forms only (onnxruntime's float16 support depends on the
   * node's opset or attributes): why `node`, in a model of default-domain opset `opset`, stays
   * float32 (an OrtFloat16, as `ort.float16` states it for a whole op type), or undefined when
   * onnxruntime 1.30 runs it in float16 with its own kernel (each answer measured:
   * test/ops/ort-float16.test.ts). IsInf: 'rejects' below opset 20 (IsInf-10 has no float16);
   * ScatterElements: 'fails-at-run' with reduction 'add' or 'mul'; ScatterND: with any reduction
   * but 'none'. Absent: every node of the op is float16-safe, and convert-fp16 calls nothing per
   * node to know it.
   */
  readonly unsafeFor?: (node: Node, opset: number) => OrtFloat16 | undefined;
}

/**
 * What onnxruntime (onnxruntime-node 1.30, CPU execution provider) does with the op besides
 * running its own kernel; the analysis's as-executed roofline (analysis/executed.ts) and its
 * integer-work count of QDQ graphs (analysis/analyze.ts) read it.
 */
export interface OrtFacet {
  /** Removed at level basic (EliminateIdentity, EliminateDropout). */
  readonly eliminated?: true;
  /**
   * Fused into the Conv or Gemm producing its input at level extended (ConvActivationFusion,
   * GemmActivationFusion → FusedConv / FusedGemm).
   */
  readonly fusesIntoConv?: true;
  /**
   * Its QDQ form at level extended and above (QDQSelectorActionTransformer), with every data
   * input from a DequantizeLinear of 8-bit integers:
   * - 'mac': an integer matrix kernel (QLinearConv, QGemm, QLinearMatMul or MatMulIntegerToFloat),
   *   when its output goes to QuantizeLinear or it declares `qdqFloatOutput`;
   * - 'element': a QLinear kernel when its output also goes to QuantizeLinear (QLinearAdd,
   *   QLinearMul, QLinearConcat, QLinearAveragePool, QLinearGlobalAveragePool, QLinearSigmoid,
   *   QLinearLeakyRelu, QLinearSoftmax, QLinearWhere);
   * - 'data': the DequantizeLinear and QuantizeLinear around it are dropped and the op moves the
   *   8-bit values itself (DropQDQNodes: data movement, MaxPool, Resize, ReduceMax/Min), when
   *   the QuantizeLinear repeats the DequantizeLinear's scale and zero point (a positive scale
   *   for `qdqPositiveScale`; measured for Transpose and MaxPool: ort-qdq test);
   * Absent: the op runs in float between its DequantizeLinear and QuantizeLinear nodes
   * (measured for ConvTranspose: test/analysis/ort-qdq.test.ts).
   * Whatever the form, every selector fuses a group only when its dequantized inputs and its
   * QuantizeLinear outputs have one 8-bit type as onnxruntime sees it, and on x86-64 that is
   * not always the declared one: its QDQS8ToU8Transformer rewrites an int8 QuantizeLinear →
   * DequantizeLinear pair as uint8 only when the QuantizeLinear feeds that one DequantizeLinear
   * and the DequantizeLinear feeds one input of one node (EnsureUniqueDQForNodeUnit first gives
   * every further reader its own DequantizeLinear), and both zero points are constant int8
   * scalars of one value (a per-axis or unequal pair stays int8). So with int8 activations an op
   * reading or writing a tensor that two inputs read stays float, while with uint8 it fuses. The
   * values of the scales and zero points play no other part (measured for Softmax: output scale
   * 1/256, 1/255 or 8/255, zero point 0, 128 or −128, axis 1 of rank 4, rank 2 at opset 12 all fuse; the int8 rule measured
   * for Softmax, Sigmoid, LeakyRelu, AveragePool, GlobalAveragePool, Add, Mul, Concat, Where and
   * Conv: ort-qdq test).
   */
  readonly qdq?: 'mac' | 'element' | 'data';
  /**
   * The inputs its QDQ form reads from a DequantizeLinear, when not every present input: the
   * others are read as they are and never dequantized. Where: [1, 2] — its condition (input 0)
   * is bool; onnxruntime's WhereNodeGroupSelector takes exactly the two DequantizeLinear of X and
   * Y and hands the condition to QLinearWhere unchanged (measured: ort-qdq test). Absent: every
   * present input (an Add with one float input stays float).
   */
  readonly qdqInputs?: readonly number[];
  /**
   * One of its `qdqInputs` may be a float scalar initializer instead of a dequantized tensor,
   * when its output is read by one QuantizeLinear alone: onnxruntime 1.30's WhereDummyDq gives
   * the scalar a DequantizeLinear of the other input's declared 8-bit type (measured for Where:
   * fused with uint8, not with int8 — the other's pair becomes uint8 and the dummy stays int8 —
   * nor with a non-scalar constant; ort-qdq test).
   */
  readonly qdqScalarConstant?: true;
  /**
   * Its 'mac' kernel may output float (MatMulIntegerToFloat, QGemm without y_scale): fused with
   * no QuantizeLinear after it. Absent: a 'mac' op fuses only when every use of its output is a
   * QuantizeLinear (a QDQ Conv with a float output stays a float Conv: measured, ort-qdq test).
   */
  readonly qdqFloatOutput?: true;
  /**
   * Its 'mac' kernel takes no int8 activation on x86-64 (ConvNodeGroupSelector and
   * MatMulNodeGroupSelector refuse one: QDQIsInt8Allowed() is false there): fused only when its
   * data input is uint8 as onnxruntime sees it (see `qdq`). Absent: either 8-bit type (Gemm).
   */
  readonly qdqUint8Activation?: true;
  /**
   * Its 'data' form needs a positive scale (a negative one reverses the order of the 8-bit
   * values: MaxPool, ReduceMax, ReduceMin — onnxruntime's drop_no_int16_support_and_positive_scale
   * rule; measured for MaxPool: ort-qdq test). Every 'data' form also needs the QuantizeLinear
   * after it to repeat the DequantizeLinear's scale and zero point (IsQDQPairSupported).
   */
  readonly qdqPositiveScale?: true;
  /**
   * It has no float16 kernel on onnxruntime 1.30's CPU provider (measured for each op that says
   * so: test/ops/ort-float16.test.ts), so running it in float16 gains nothing — the reason
   * convert-fp16 gives when it keeps the op float32 (its `fp16` facet is absent):
   * - 'casts': onnxruntime runs it in float32 between Casts it inserts (InsertCastTransformer);
   * - 'no-kernel': no float16 kernel and no float16 input to cast (RandomNormal, RandomUniform
   *   with dtype float16): the session fails;
   * - 'rejects': its ONNX schema has no float16 (Celu, Range): the model is invalid;
   * - 'fails-at-run': its float16 kernel loads but refuses the node's form when run (a
   *   ScatterND with a reduction: "MLFloat16 data type is not supported with ScatterND opset 18
   *   when reduction is 'max'"), stated per node only (Fp16Facet.unsafeFor).
   * Absent: onnxruntime has a float16 kernel for it, or this was not measured. An op whose
   * float16 support depends on the node (its opset or attributes) states it per node in its
   * `fp16` facet instead (Fp16Facet.unsafeFor), not here.
   */
  readonly float16?: OrtFloat16;
}

/** What onnxruntime does with the op in float16 when it has no float16 kernel (OrtFacet.float16). */
export type OrtFloat16 = 'casts' | 'no-kernel' | 'rejects' | 'fails-at-run';

/** Each OrtFloat16 in words, as convert-fp16 prints it after "stays float32: ". */
export const ORT_FLOAT16_WHY: { readonly [K in OrtFloat16]: string } = Object.freeze({
  casts: "onnxruntime 1.30's CPU provider has no float16 kernel for it (it would run it in float32, casting its float16 tensors)",
  'no-kernel': "onnxruntime 1.30's CPU provider has no float16 kernel for it (the session would fail)",
  rejects: 'its ONNX schema has no float16 (onnxruntime rejects the model)',
  'fails-at-run': "onnxruntime 1.30's CPU kernel for it refuses float16 in this form (the session would load, then fail when run)",
});

/**
 * How the static QDQ quantizer (quantize/qdq.ts) places Q/DQ pairs around the op:
 * - 'conv': data input 0, float32 weight initializer at 1 (rank ≥ 3) and 1-D bias at 2 (int32);
 * - 'gemm': A at 0, 2-D weight B at 1, per-column bias C at 2 (int32, beta = 1); a graph
 *   output stays float (the fused kernel outputs float);
 * - 'matmul': A at 0, B at 1 a weight when constant, else a second activation; a graph output
 *   stays float;
 * - 'binary': both inputs activations (Add, Mul);
 * - 'variadic': every input an activation (Concat);
 * - 'unary': input 0 an activation, its own output scale;
 * - 'select': a bool condition at 0 left as it is, X at 1 and Y at 2 activations, its own
 *   output scale (Where, as onnxruntime's quantizer places QDQWhere);
 * - 'shared-scale': the output takes input 0's scale and zero point (8-bit data passes through:
 *   pooling, Resize, data movement), kept only next to a quantized compute op.
 */
export type QdqPlacement = 'conv' | 'gemm' | 'matmul' | 'binary' | 'variadic' | 'unary' | 'select' | 'shared-scale';

/** Output quantization parameters an op fixes whatever its calibrated range (QuantizeFacet.fixedOutput). */
export interface FixedQdqParams {
  readonly scale: number;
  readonly uint8ZeroPoint: number;
  readonly int8ZeroPoint: number;
}

/** The quantizer's view of an op it quantizes (absent: the op stays float). */
export interface QuantizeFacet {
  readonly placement: QdqPlacement;
  /** Worth quantizing on its own: a model with none of these quantizable is refused. */
  readonly anchor?: true;
  /**
   * Its output's scale and zero point whatever the calibration measured (a 'unary' op whose
   * output range is known: Softmax's [0, 1], as onnxruntime's quantizer fixes it in QDQSoftmax),
   * for asymmetric and symmetric activations.
   */
  readonly fixedOutput?: { readonly asymmetric: FixedQdqParams; readonly symmetric: FixedQdqParams };
}

export interface OpDef {
  readonly type: string;
  /** '' is the default ONNX domain. */
  readonly domain: string;
  readonly attributes: AttributeSchema | Undeclared;
  readonly shape: ShapeRule | Undeclared;
  readonly cost: OpCost | Undeclared;
  /** The float32 constant folder's kernel and its coverage note (used by shape inference too). */
  readonly kernel?: OpKernel;
  /** The float64 reference kernel (verification), when written. */
  readonly reference?: ReferenceKernel;
  /** Input slots holding weights that weight compression (fp16-weights) may round. */
  readonly weightInputs?: readonly number[];
  /**
   * A weight reaching a layer through this op (its input 0) is still that weight (views, casts,
   * slicing, dequantization): the analysis traces learnable parameters back through it — always
   * (true), or as the PassesWeights object says.
   */
  readonly passesWeights?: true | PassesWeights;
  /**
   * Int8 friendliness: the output-channel axis of the weight at input `input` (of rank `rank`),
   * for per-channel int8 weight quantization; undefined when that input cannot be quantized so.
   */
  readonly int8WeightAxis?: (node: Node, input: number, rank: number) => number | undefined;
  /**
   * Absent: the op is not float16-safe and convert-fp16 keeps it float32. Present: float16-safe,
   * every node of it or, with `unsafeFor`, the nodes that function does not name.
   */
  readonly fp16?: Fp16Facet;
  /**
   * Its output is random (Random*, Bernoulli, Multinomial; Dropout in training mode): never
   * constant-folded, never merged with an identical twin.
   */
  readonly nondeterministic?: true;
  /** What onnxruntime does with the op beyond its kernel (fusions, elimination, QDQ form). */
  readonly ort?: OrtFacet;
  /** How static QDQ quantization treats the op; absent: it stays float. */
  readonly quantize?: QuantizeFacet;
  /**
   * The lowest opset (≥ 10) from which the op's definition means what it means at opset 13: the
   * quantizer raises an opset 10–12 model to 13 only when every op of it declares a value ≤ the
   * model's opset. A function decides per node (undefined: this node's form changed by 13, e.g.
   * Clip with min/max attributes); `{ changedBy13 }` says the op changed, and how. Absent: not
   * reviewed. The quantizer's refusal names each op with which of these it is.
   */
  readonly sameAt13From?: number | ((node: Node) => number | undefined) | { readonly changedBy13: ChangedBy13 };
}

/**
 * `sameAt13From` of an op whose attribute `name` became an input at opset 13 (ONNX Changelog:
 * Squeeze/Unsqueeze/ReduceSum `axes`, Split `split`): a node without the attribute means at 10–12
 * what it means at 13; one with it does not.
 */
export function sameAt13WithoutAttribute(name: string): (node: Node) => number | undefined {
  return (n) => (n.attr(name) === undefined ? 10 : undefined);
}

/**
 * How an op changed by opset 13 (`sameAt13From: { changedBy13 }`):
 * - 'axis-semantics': before 13 its `axis` coerced the input to 2-D (the axes from it on
 *   flattened into one), from 13 it names one axis, and its default went from 1 to −1
 *   (Softmax, LogSoftmax, Hardmax);
 * - 'deprecated': deprecated at opset 10 and not defined at 13 (Upsample: Resize replaces it).
 */
export type ChangedBy13 = 'axis-semantics' | 'deprecated';

/** Each ChangedBy13 in words, as the quantizer's refusal prints it. */
export const CHANGED_BY_13_WHY: { readonly [K in ChangedBy13]: string } = Object.freeze({
  'axis-semantics': 'changed by 13: its axis coerced the input to 2-D before, names one axis from 13',
  deprecated: 'deprecated at 10, not defined at 13',
});

export type OpDefInput = Omit<OpDef, 'domain'> & { readonly domain?: string };

/** The facets of OpDef (every key but `type` and `domain`). */
export type FacetName = Exclude<keyof OpDef, 'type' | 'domain'>;

/**
 * Every facet and what an op without it is: null for the three each op states or declares
 * `undeclared(reason)` for (attributes, shape, cost); for an optional facet, the one meaning of
 * its absence, which every consumer applies. Typed over OpDef's keys: a new facet does not
 * compile until it says what its absence means (the registry test and README list these).
 */
export const FACETS: { readonly [K in FacetName]-?: string | null } = Object.freeze({
  attributes: null,
  shape: null,
  cost: null,
  kernel: 'not constant-folded, and shape inference computes no values through it',
  reference: 'the float64 reference evaluator refuses it (no reference kernel)',
  weightInputs: 'no input is a weight that fp16-weights may round',
  passesWeights: 'the analysis does not trace a weight back through it',
  int8WeightAxis: 'a weight it reads is quantized per tensor, if at all',
  fp16: "not float16-safe: convert-fp16 keeps it float32 (reason not-fp16-safe, with the op's `ort.float16` when it states why)",
  nondeterministic: 'deterministic: it may be constant-folded and merged with an identical twin',
  ort: 'onnxruntime runs its own kernel: not eliminated, fused into no Conv/Gemm, no QDQ form (float between DequantizeLinear and QuantizeLinear), a float16 kernel or not measured',
  quantize: 'static QDQ quantization leaves it float',
  sameAt13From: 'not reviewed for opset 13: the quantizer does not raise an opset 10–12 model holding it, and says so',
});

/** Declares one op: fills the defaults and freezes the declaration. */
export function defineOp(def: OpDefInput): OpDef {
  return Object.freeze({ ...def, domain: def.domain ?? '' });
}

/**
 * `op` with the facets a family helper's arguments do not take (onnxruntime behaviour, quantizer
 * placement, opset-13 stability), frozen like defineOp's result.
 */
export function withFacets(op: OpDef, facets: Pick<OpDefInput, 'ort' | 'quantize' | 'sameAt13From'>): OpDef {
  return Object.freeze({ ...op, ...facets });
}

/** Float16-safe with every input convertible. */
export const FP16_ALL: Fp16Facet = Object.freeze({ keepFloat32: [] });
/** An op that reads its input's shape only: any float type, never cast (Fp16Facet.anyFloat). */
export const FP16_SHAPE_ONLY: Fp16Facet = Object.freeze({ keepFloat32: [], anyFloat: Object.freeze([0]) });
