/** Types shared by the shape-inference engine and its per-op rules. */
import type { DataType, Dim, Graph, Node, Tensor, TypeInfo, Value } from '@onnxkit/graph';
import type { DimAlgebra } from './dim-algebra.js';

export type DiagnosticSeverity = 'error' | 'warning' | 'info';

/** A finding of an analysis. Analyses report; they never throw on a model's content. */
export interface AnalysisDiagnostic {
  readonly severity: DiagnosticSeverity;
  /** Stable code, e.g. "unknown-op", "shape-mismatch", "declared-type-mismatch". */
  readonly code: string;
  readonly message: string;
  /** Node name (or its description when unnamed). */
  readonly node?: string;
  /** Op type, domain-qualified for custom domains ("com.microsoft::Attention"). */
  readonly op?: string;
}

/** What inference knows about one value. */
export interface Facts {
  /** Element type; DataType.UNDEFINED when unknown. */
  readonly elemType: DataType;
  /** Dims (number | symbol | null); null when even the rank is unknown. */
  readonly shape: readonly Dim[] | null;
  /** The content, when it was computed (initializer, Constant, evaluated sub-computation). */
  readonly value?: Tensor;
  /**
   * Partially known content of a small 0-D/1-D tensor, element by element (a number, a symbol,
   * or null) — e.g. Shape of an [N,3,224,224] input is [N, 3, 224, 224] even though N has no
   * value. This is what lets PyTorch's Shape→Gather→Unsqueeze→Concat→Reshape chains resolve
   * with a symbolic batch.
   */
  readonly partial?: readonly Dim[];
  /** A non-tensor type (sequence, map, optional), passed through as declared. */
  readonly other?: TypeInfo;
}

/**
 * The view a per-op rule has of the node it infers. A rule reads of `node` only its op type,
 * domain, attributes and input/output counts, and everything else through these methods: shape
 * inference gives a rule's result back for the next node that would read the same (RuleMemo in
 * shape-inference.ts), which a read of anything else (a value's name or declared type, the nodes
 * around it) would make stale.
 */
export interface RuleContext {
  readonly node: Node;
  /** Default-domain opset version in effect. */
  readonly opset: number;
  readonly alg: DimAlgebra;
  /** Number of input slots (including omitted ones). */
  readonly inputCount: number;
  /** True when input i is present (not omitted). */
  has(i: number): boolean;
  facts(i: number): Facts | undefined;
  dtype(i: number): DataType;
  shape(i: number): readonly Dim[] | null;
  rank(i: number): number | undefined;
  value(i: number): Tensor | undefined;
  /** Known element values of a 0-D/1-D input (numbers/symbols/null), from its value or partial. */
  ints(i: number): readonly Dim[] | undefined;
  /** Element values of a 0-D/1-D input when every one is a concrete number. */
  exactInts(i: number): number[] | undefined;
  /** Float content of a constant input. */
  floats(i: number): number[] | undefined;
  /** Sets output i. */
  out(i: number, elemType: DataType, shape: readonly Dim[] | null): void;
  /** Records partially known content for output i (a 0-D/1-D integer-like result). */
  partial(i: number, values: readonly Dim[]): void;
  /** Output i keeps a non-tensor type. */
  outOther(i: number, type: TypeInfo): void;
  /** Shapes contradict each other (e.g. MatMul inner dims); a warning naming the node. */
  mismatch(message: string): void;
  /** Information is lost here (e.g. a Reshape target that is not constant); an info diagnostic. */
  unresolved(message: string): void;
  /**
   * `count` unknown dims, for an output whose rank is a computed number (the length of a shape
   * input); null — with a `rank-limit` diagnostic — when that number is above MAX_RANK, so that a
   * shape input declared `int64[2147483648]` cannot make inference build a rank-2^31 shape.
   */
  unknownDims(count: Dim | undefined): Dim[] | null;
  /** Infers a subgraph with given facts for its inputs; returns its output facts. */
  subgraph(g: Graph, inputs: readonly (Facts | undefined)[]): (Facts | undefined)[];
  /** Facts of a value (for captured outer-scope values). */
  factsOf(v: Value): Facts | undefined;
  /**
   * Says the rule reads the graph beyond this context (its node's readers, a constant input's
   * values): its result is then not given back to a later node that reads the same attributes
   * and input facts (the engine's rule memo, shape-inference.ts RuleMemo), whose readers or
   * constants may differ.
   */
  readsGraph(): void;
}

export type ShapeRule = (c: RuleContext) => void;

/**
 * The largest rank inference materialises (NumPy 2's NPY_MAXDIMS; ONNX Runtime's kernels and
 * PyTorch stop well below it). A declared or computed shape of higher rank is treated as unknown
 * with a `rank-limit` diagnostic: ranks come from dims of shape tensors, which a file can set to
 * 2^62, and building a shape with one entry per element would hang or exhaust memory.
 */
export const MAX_RANK = 64;
