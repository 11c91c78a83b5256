/**
 * The operator registry: every OpDef of this folder, registered here and nowhere else, and the
 * per-facet tables the rest of the package reads, derived from it. Lookups are prototype-safe
 * (`constructor` or `__proto__` as an op type finds nothing).
 *
 * Adding an op: one module declaring its OpDef (see README "Adding an operator") and one line in
 * OPS below.
 */
import { AttributeType, type Node } from '@onnxkit/graph';
import type { ShapeRule } from '../analysis/inference-types.js';
import { lookup, opTable } from '../common/op-table.js';
import type { KernelEntry } from '../kernels/types.js';
import { CAST_OPS } from './cast.js';
import { CONTROL_FLOW_OPS } from './control-flow.js';
import { CONTRIB_FUSED_OPS } from './contrib-fused.js';
import { CONTRIB_NCHWC_OPS } from './contrib-nchwc.js';
import { CONTRIB_QUANTIZED_OPS } from './contrib-quantized.js';
import { CONTRIB_TRANSFORMER_OPS } from './contrib-transformer.js';
import { ATTENTION_OPS } from './attention.js';
import { CONV_OPS } from './conv.js';
import type { OpCost } from './cost.js';
import { BINARY_OPS, VARIADIC_OPS } from './elementwise-binary.js';
import { ACTIVATION_OPS, UNARY_MATH_OPS } from './elementwise-unary.js';
import { GENERATOR_OPS } from './generators.js';
import { GridSample } from './grid-sample.js';
import { LINEAR_OPS } from './linear.js';
import { LOSS_OPS } from './loss.js';
import { MOVEMENT_OPS } from './movement.js';
import { NORMALIZATION_OPS, SOFTMAX_OPS } from './normalization.js';
import { POOL_OPS } from './pool.js';
import { QUANTIZE_OPS } from './quantize.js';
import { RECURRENT_OPS } from './recurrent.js';
import { REDUCE_OPS } from './reduce.js';
import { RESHAPE_OPS } from './reshape-family.js';
import { RESIZE_OPS } from './resize.js';
import { SELECTION_OPS } from './selection.js';
import { SIGNAL_OPS } from './signal.js';
import { ROI_POOL_OPS } from './roi-pool.js';
import { MaxUnpool } from './unpool.js';
import { Unique } from './unique.js';
import { Col2Im } from './col2im.js';
import { CenterCropPad } from './center-crop-pad.js';
import { AffineGrid } from './affine-grid.js';
import { DeformConv } from './deform-conv.js';
import { CHANGED_BY_13_WHY, isUndeclared, ORT_FLOAT16_WHY, undeclaredReason, type Fp16Facet, type OpDef, type OrtFacet, type OrtFloat16, type PassesWeights, type QuantizeFacet, type ReferenceKernel } from './types.js';

/** Every registered op, in registration order. */
export const OPS: readonly OpDef[] = Object.freeze([
  ...ACTIVATION_OPS,
  ...UNARY_MATH_OPS,
  ...BINARY_OPS,
  ...VARIADIC_OPS,
  ...CAST_OPS,
  ...CONV_OPS,
  ...POOL_OPS,
  ...LINEAR_OPS,
  ...RECURRENT_OPS,
  ...NORMALIZATION_OPS,
  ...SOFTMAX_OPS,
  ...LOSS_OPS,
  ...REDUCE_OPS,
  ...SELECTION_OPS,
  ...RESIZE_OPS,
  ...RESHAPE_OPS,
  ...MOVEMENT_OPS,
  ...GENERATOR_OPS,
  ...QUANTIZE_OPS,
  ...CONTROL_FLOW_OPS,
  ...CONTRIB_QUANTIZED_OPS,
  ...CONTRIB_FUSED_OPS,
  ...CONTRIB_NCHWC_OPS,
  ...CONTRIB_TRANSFORMER_OPS,
  ...ATTENTION_OPS,
  GridSample,
  ...SIGNAL_OPS,
  ...ROI_POOL_OPS,
  MaxUnpool,
  Unique,
  Col2Im,
  CenterCropPad,
  AffineGrid,
  DeformConv,
]);

/** `domain::type`, or `type` in the default domain: the registry key of an op. */
export function opKey(domain: string, type: string): string {
  return domain === '' || domain === 'ai.onnx' ? type : `${domain}::${type}`;
}

/** A prototype-less table of `ops` by key; throws when two declarations share a key. */
export function registerOps(ops: readonly OpDef[]): Readonly<Record<string, OpDef>> {
  const seen = new Map<string, OpDef>();
  for (const op of ops) {
    const key = opKey(op.domain, op.type);
    if (seen.has(key)) throw new Error(`op ${key} is registered twice (ops/registry.ts): keep one declaration`);
    seen.set(key, op);
  }
  return opTable(seen);
}

/** op key → declaration. */
export const REGISTRY: Readonly<Record<string, OpDef>> = registerOps(OPS);

/** The declaration of a default-domain op type (or `domain::type`), if registered. */
export function getOp(type: string, domain = ''): OpDef | undefined {
  return lookup(REGISTRY, opKey(domain, type));
}

/** The default-domain ops whose facet `pick` returns something, as a prototype-less table. */
function facet<T>(pick: (op: OpDef) => T | undefined): Readonly<Record<string, T>> {
  const rows: [string, T][] = [];
  for (const op of OPS) {
    if (op.domain !== '') continue;
    const v = pick(op);
    if (v !== undefined) rows.push([op.type, v]);
  }
  return opTable(rows);
}

/** op type → cost (ops whose cost is undeclared are absent: the analysis reports them unknown). */
export const COST_FACET: Readonly<Record<string, OpCost>> = facet((op) => (isUndeclared(op.cost) ? undefined : op.cost));
/**
 * `domain::type` → cost, for the ops of other domains (onnxruntime's com.microsoft quantized ops);
 * the analysis looks a non-default-domain node up here.
 */
export const CONTRIB_COST_FACET: Readonly<Record<string, OpCost>> = opTable(
  OPS.filter((op) => op.domain !== '' && !isUndeclared(op.cost)).map((op) => [opKey(op.domain, op.type), op.cost as OpCost] as [string, OpCost]),
);
/** `domain::type` → shape/type rule for the ops of other domains that declare one. */
export const CONTRIB_SHAPE_FACET: Readonly<Record<string, ShapeRule>> = opTable(
  OPS.filter((op) => op.domain !== '' && !isUndeclared(op.shape)).map((op) => [opKey(op.domain, op.type), op.shape as ShapeRule] as [string, ShapeRule]),
);
/** op type → shape/type rule. */
export const SHAPE_FACET: Readonly<Record<string, ShapeRule>> = facet((op) => (isUndeclared(op.shape) ? undefined : op.shape));
/** op type → how a zero-copy kernel treats its input (`kernel.zeroCopy`: Constant, Identity, Dropout). */
export const ZERO_COPY_KERNELS: Readonly<Record<string, 'unread' | 'view'>> = facet((op) => op.kernel?.zeroCopy);
/** op type → float32 constant-folding kernel. */
export const KERNEL_FACET: Readonly<Record<string, KernelEntry>> = facet((op) => op.kernel);
/**
 * op type → float64 reference kernel (the reference evaluator's lookup, reference/evaluate.ts):
 * the default-domain ops whose OpDef declares `reference`, in registration order.
 */
export const REFERENCE_KERNELS: ReadonlyMap<string, ReferenceKernel> = new Map(Object.entries(facet((op) => op.reference)));
/** The op types the reference evaluates (default domain), sorted. */
export const REFERENCE_OPS: readonly string[] = Object.freeze([...REFERENCE_KERNELS.keys()].sort());
/** op type → input slots holding weights that weight compression may round (fp16-weights). */
export const WEIGHT_INPUTS: Readonly<Record<string, readonly number[]>> = facet((op) => op.weightInputs);
/**
 * op type → its `fp16` facet, for the ops convert-fp16 may run in float16: one lookup gives the
 * inputs kept float32, the inputs read for their shape only (anyFloat) and, for an op
 * float16-safe in some forms only, its per-node `unsafeFor`.
 */
export const FP16_FACET: Readonly<Record<string, Fp16Facet>> = facet((op) => op.fp16);
/** op type → input slots kept float32 (FP16_FACET's keepFloat32): convert-fp16's public FP16_OPS. */
export const FP16_SAFE: Readonly<Record<string, readonly number[]>> = opTable(Object.entries(FP16_FACET).map(([type, f]) => [type, f.keepFloat32] as const));
/** op type → why convert-fp16 keeps it float32, for the ops not float16-safe whose `ort.float16` says why (built once). */
const NOT_FP16_SAFE: Readonly<Record<string, string>> = facet((op) =>
  op.fp16 === undefined && op.ort?.float16 !== undefined ? `${notFp16SafeWords(op.type)}: ${ORT_FLOAT16_WHY[op.ort.float16]}` : undefined,
);

function notFp16SafeWords(type: string): string {
  return `${type} is not declared float16-safe (its fp16 facet, ops/): stays float32`;
}

/**
 * convert-fp16's reason for keeping a default-domain op without the `fp16` facet in float32:
 * the op's own (its `ort.float16`) when it states one (a string built once per op type).
 */
export function notFp16Safe(type: string): string {
  return lookup(NOT_FP16_SAFE, type) ?? notFp16SafeWords(type);
}

/**
 * convert-fp16's reason for keeping in float32 a node of an op float16-safe in some forms only,
 * which its `fp16.unsafeFor` names (`why`) at the model's `opset` (built only for such a node).
 */
export function notFp16SafeNode(type: string, why: OrtFloat16, opset: number): string {
  return `${type} is float16-safe only in some forms (its fp16 facet, ops/): this one, at opset ${opset}, stays float32: ${ORT_FLOAT16_WHY[why]}`;
}

/** Default-domain ops whose output is random (`nondeterministic`): never folded, never merged by CSE. */
export const NONDETERMINISTIC_OPS: ReadonlySet<string> = new Set(OPS.filter((op) => op.domain === '' && op.nondeterministic === true).map((op) => op.type));

/** Default-domain ops with body graphs (a GRAPH attribute: If, Loop, Scan): control flow. */
export const SUBGRAPH_OPS: ReadonlySet<string> = new Set(
  OPS.filter((op) => op.domain === '' && !isUndeclared(op.attributes) && Object.values(op.attributes).some((a) => a.type === AttributeType.GRAPH)).map((op) => op.type),
);

/**
 * Why the constant folder has no TypeScript kernel result for a node, as its op module states it
 * (the `kind`, typed):
 * - 'not-registered': no module in ops/ declares the op type;
 * - 'nondeterministic': its output is random (its `nondeterministic` facet): no one value to fold;
 * - 'subgraphs': it runs body graphs (If, Loop, Scan), which the folder does not evaluate;
 * - 'no-kernel-facet': its module declares no `kernel` (with what it states of its undeclared
 *   facets, e.g. NonMaxSuppression's data-dependent cost);
 * - 'not-covered': its kernel declines this node's form (dtype, attributes), as its note says.
 */
export const NO_KERNEL_KINDS = ['not-registered', 'nondeterministic', 'subgraphs', 'no-kernel-facet', 'not-covered'] as const;
export type NoKernelKind = (typeof NO_KERNEL_KINDS)[number];

/** Why there is no kernel result, in words beginning with the op type (`why`). */
export interface NoKernelWhy {
  readonly kind: NoKernelKind;
  readonly why: string;
}

function noKernelOf(op: OpDef): NoKernelWhy {
  const t = op.type;
  if (op.kernel !== undefined) return Object.freeze({ kind: 'not-covered', why: `${t}: its kernel does not cover this node (it covers: ${op.kernel.note})` });
  if (op.nondeterministic === true) return Object.freeze({ kind: 'nondeterministic', why: `${t}: its output is random (nondeterministic): there is no one value to fold` });
  if (SUBGRAPH_OPS.has(t)) return Object.freeze({ kind: 'subgraphs', why: `${t}: it runs its body graphs, which constant folding does not evaluate` });
  const stated = (['attributes', 'shape', 'cost'] as const).flatMap((f) => {
    const u = op[f];
    return isUndeclared(u) ? [`${f} ${undeclaredReason(u)}`] : [];
  });
  return Object.freeze({ kind: 'no-kernel-facet', why: `${t}: its op module (ops/) declares no TypeScript kernel${stated.length > 0 ? `; it states: ${stated.join('; ')}` : ''}` });
}

/** op type → why there is no kernel result for it (default domain, built once per op type). */
const NO_KERNEL: Readonly<Record<string, NoKernelWhy>> = facet(noKernelOf);
/**
 * Why constant folding got no TypeScript kernel result for a default-domain node of `type` (its
 * op's own reason, see NO_KERNEL_KINDS): for a registered op the same frozen object for every
 * node of the type, so a caller may key its own per-type words on it. An op type no module
 * declares gets a new object each call: op types come from files, and a cache keyed by them
 * would grow with every new name a process meets (a batch worker, a fuzz child). Read where a
 * decline is recorded, not per node.
 */
export function noKernelWhy(type: string): NoKernelWhy {
  return lookup(NO_KERNEL, type) ?? Object.freeze({ kind: 'not-registered', why: `${type}: not registered (no module in ops/ declares it), so no TypeScript kernel` });
}

/** op type → what onnxruntime does with it beyond its kernel (the ops that declare `ort`). */
export const ORT_FACET: Readonly<Record<string, OrtFacet>> = facet((op) => op.ort);

/** op type → how static QDQ quantization places Q/DQ around it (the ops it quantizes). */
export const QUANTIZE_FACET: Readonly<Record<string, QuantizeFacet>> = facet((op) => op.quantize);

/**
 * Why the op registered under `key` (opKey: the type, `domain::type` for another domain)
 * declares no `facet` (attributes, shape or cost), as "kind: the op's words" (undeclaredReason);
 * undefined when it declares one, or is not registered. Read where the facet's absence reaches
 * the user (a layer of unknown cost, an op without a shape rule), never per node on a hot path.
 */
export function undeclaredFacet(key: string, facet: 'attributes' | 'shape' | 'cost'): string | undefined {
  const f = lookup(REGISTRY, key)?.[facet];
  return f !== undefined && isUndeclared(f) ? undeclaredReason(f) : undefined;
}

/**
 * Whether `node` (default domain) means at opset 13 what it means at `opset` (10–12): its op's
 * `sameAt13From` is at most `opset`.
 */
export function sameAt13(node: Node, opset: number): boolean {
  return sameAt13Why(node, opset) === undefined;
}

/**
 * Why `node` (default domain) may not mean at opset 13 what it means at `opset` (10–12), from its
 * op's `sameAt13From`: the way it changed, that its form here changed, the opset from which it
 * is the same, or that it was not reviewed; undefined when it means the same.
 */
export function sameAt13Why(node: Node, opset: number): string | undefined {
  const f = getOp(node.opType)?.sameAt13From;
  if (f === undefined) return 'not reviewed for opset 13';
  if (typeof f === 'object') return CHANGED_BY_13_WHY[f.changedBy13];
  const from = typeof f === 'function' ? f(node) : f;
  if (from === undefined) return 'this form of it (its attributes) changed by 13';
  return from <= opset ? undefined : `the same as at 13 only from opset ${from}`;
}

/** Default-domain ops a weight passes through unchanged in meaning (views, casts, slicing, dequantization). */
export const WEIGHT_PASS_THROUGH: ReadonlySet<string> = new Set(OPS.filter((op) => op.domain === '' && op.passesWeights !== undefined).map((op) => op.type));

/** op type → its `passesWeights` facet (true, or when it passes and which inputs go with the weight). */
export const PASSES_WEIGHTS: Readonly<Record<string, true | PassesWeights>> = facet((op) => op.passesWeights);

/**
 * The output-channel axis of a weight of rank `rank` read at `input` of `node`, for per-channel
 * int8 quantization (each op's `int8WeightAxis`); undefined when not quantizable so.
 */
export function int8WeightAxis(node: Node, input: number, rank: number): number | undefined {
  return node.isOnnxDomain ? getOp(node.opType)?.int8WeightAxis?.(node, input, rank) : undefined;
}

/**
 * The attribute names a default-domain op has (for rewrites that decline on anything else). A
 * schema lists the attributes of the op's current ONNX versions plus the older ones the toolkit
 * reads or accepts (`spatial`, `is_test`, Gemm's `broadcast`…), not every opset-1 leftover
 * (`consumed_inputs` of the element-wise ops).
 */
export function knownAttributes(type: string): readonly string[] {
  const op = getOp(type);
  if (op === undefined || isUndeclared(op.attributes)) throw new Error(`op ${type} declares no attribute schema (ops/registry.ts)`);
  return Object.keys(op.attributes);
}
