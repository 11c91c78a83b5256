/**
 * What an operator declares about itself: the `OpDef` every module in this folder exports, one
 * per op type, with a facet per thing the toolkit knows about the op (attribute schema, shape
 * and type rule, cost, float32 constant-folding kernel, float64 reference kernel, weight inputs,
 * float16 safety). The tables the analyses and rewrites read are views of the registry
 * (registry.ts), derived from these declarations, never written by hand.
 *
 * A facet an op deliberately lacks is stated with a reason (`undeclared('…')`), so "no shape
 * rule" reads as a decision, and the registry test can require every op to say something.
 */
import type { AttributeType, AttributeValue, DataType, Node } from '@onnxkit/graph';
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

/** A facet an op does not declare, and why. */
export interface Undeclared {
  readonly undeclared: string;
}

export function undeclared(why: string): Undeclared {
  return { undeclared: why };
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
}

export interface OpDef {
  readonly type: string;
  /** '' is the default ONNX domain. */
  readonly domain: string;
  readonly attributes: AttributeSchema | Undeclared;
  readonly shape: ShapeRule | Undeclared;
  readonly cost: OpCost | Undeclared;
  /** The float32 constant folder's kernel and its coverage note (used by shape inference too). */
  readonly kernel?: KernelEntry;
  /** The float64 reference kernel (verification), when written. */
  readonly reference?: ReferenceKernel;
  /** Input slots holding weights that weight compression (fp16-weights) may round. */
  readonly weightInputs?: readonly number[];
  /**
   * A weight reaching a layer through this op is still that weight (views, casts, slicing,
   * dequantization): the analysis traces learnable parameters back through it.
   */
  readonly passesWeights?: boolean;
  /**
   * Int8 friendliness: the output-channel axis of the weight at input `input` (of rank `rank`),
   * for per-channel int8 weight quantization; undefined when that input cannot be quantized so.
   */
  readonly int8WeightAxis?: (node: Node, input: number, rank: number) => number | undefined;
  /** Absent: the op is not float16-safe and convert-fp16 keeps it float32. */
  readonly fp16?: Fp16Facet;
}

export type OpDefInput = Omit<OpDef, 'domain'> & { readonly domain?: string };

/** Declares one op: fills the defaults and freezes the declaration. */
export function defineOp(def: OpDefInput): OpDef {
  return Object.freeze({ ...def, domain: def.domain ?? '' });
}

/** Float16-safe with every input convertible. */
export const FP16_ALL: Fp16Facet = Object.freeze({ keepFloat32: [] });
