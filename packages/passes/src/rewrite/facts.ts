/**
 * What a rewrite may assume about a value: its element type, its shape, its constant content.
 *
 * Shapes come from the analysis half's `inferShapes` (packages/passes/src/analysis); when it
 * fails on a model, only from declarations that onnxruntime itself enforces — graph inputs and
 * initializers. Declared `value_info` of intermediate values is deliberately NOT trusted:
 * a stale value_info is exactly how onnxoptimizer's `eliminate_shape_op` / `eliminate_nop_*`
 * passes changed outputs (onnx/optimizer #262, #275, #279). Values a pass creates are noted in an
 * overlay with the type of the value they replace, so one inference serves a whole pass run; and
 * each validated patch brings the inference itself up to date (`patched`: only the nodes it
 * touched are inferred again), so one inference serves a whole pipeline of exact rewrites.
 */
import { DataType, type Graph, type Model, type Node, type Shape, type Tensor, type TypeInfo, type Value, isStaticShape } from '@onnxkit/graph';
import { inferenceFacts, type FactsView } from '../analysis/shape-inference.js';
import type { Facts as InferredFacts } from '../analysis/inference-types.js';
import { forgetRemoved, inferShapes, sameFacts, updateInference, type InferencePatch, type ShapeInference } from '../analysis/index.js';
import { constantOf } from './util.js';

export class Facts {
  readonly #model: Model;
  readonly #inputShapes: Record<string, readonly (number | string)[]> | undefined;
  #inference: ShapeInference | null | undefined;
  readonly #overlay = new Map<Value, TypeInfo>();
  /** The facts map behind `#factsOf` (see `#inferred`). */
  #factsOf: ShapeInference | undefined;
  #factsMap: FactsView | undefined;
  readonly #patch: { -readonly [K in keyof InferencePatch]: InferencePatch[K] } = { graph: null as unknown as Graph, added: [], replaced: [], initializers: [] };
  /** Why inference is unavailable (for explain output), when it is. */
  inferenceError: string | undefined;

  /** `inference`: one already computed for this model with the same input shapes (reused, not recomputed). */
  constructor(model: Model, inputShapes?: Readonly<Record<string, readonly (number | string)[]>>, inference?: ShapeInference) {
    this.#model = model;
    this.#inputShapes = inputShapes ? { ...inputShapes } : undefined;
    if (inference) this.#inference = inference;
  }

  /** The shape inference these facts were read from, if it has been computed (and succeeded). */
  get inference(): ShapeInference | undefined {
    return this.#inference ?? undefined;
  }

  #infer(): ShapeInference | null {
    if (this.#inference !== undefined) return this.#inference;
    try {
      this.#inference = inferShapes(this.#model, this.#inputShapes ? { inputShapes: this.#inputShapes } : {});
    } catch (e) {
      // An analysis bug must not take a rewrite down: passes then see fewer facts and decline more.
      this.inferenceError = `shape inference failed: ${e instanceof Error ? e.message : String(e)}`;
      this.#inference = null;
    }
    return this.#inference;
  }

  /**
   * Called when a new pass run starts reading these facts: the overlay of the previous run is
   * dropped (the inference, kept up to date by `patched`, now knows those values itself), so a
   * pass run sees what a fresh inference of the model would give.
   */
  beginRun(): void {
    this.#overlay.clear();
  }

  /**
   * Brings the inference up to date after a patch RewriteSession.apply made (see
   * `updateInference`). False when it could not: these facts are stale and must be dropped.
   * Facts whose inference is not computed yet stay valid (it will be computed on the model as it
   * is then).
   */
  patched(graph: Graph, added: readonly Node[], replaced: ReadonlyArray<readonly [Value, Value]>, initializers: readonly Value[]): boolean {
    const inf = this.#inference;
    if (inf === undefined) return true;
    if (inf === null) return false;
    // One patch object per Facts, refilled: updateInference reads it during the call (a patch
    // per change was 28 B of garbage × 60,000 changes on the 100k-node chain).
    const p = this.#patch;
    p.graph = graph;
    p.added = added;
    p.replaced = replaced;
    p.initializers = initializers;
    return updateInference(inf, p);
  }

  /** Drops what the inference knows about the outputs of nodes a patch removed (see `forgetRemoved`). */
  released(removed: readonly Node[]): void {
    const inf = this.#inference;
    if (inf) forgetRemoved(inf, removed);
  }

  /**
   * True when the inference (kept up to date by `patched`) gives `b` the very facts of `a`: a
   * note of `b` as `a`'s type would change nothing.
   */
  inferredAlike(a: Value, b: Value): boolean {
    const inf = this.#inference;
    return inf !== undefined && inf !== null && sameFacts(inf, a, b);
  }

  /** Records the type of a value a pass created (typically the type of the value it replaces). */
  note(v: Value, type: TypeInfo | null): void {
    if (type) this.#overlay.set(v, type);
  }

  /** Type of `v` from trusted sources, or null. */
  typeOf(v: Value): TypeInfo | null {
    const o = this.#overlay.get(v);
    if (o) return o;
    const c = v.isInitializer ? v.constValue : null;
    if (c) return { kind: 'tensor', elemType: c.dtype, shape: c.dims };
    const inf = this.#infer();
    if (inf) {
      const t = inf.typeOf(v);
      if (t) {
        if ((t.kind === 'tensor' || t.kind === 'sparse_tensor') && t.shape === null) {
          const s = inf.shapeOf(v);
          if (s !== null) return { ...t, shape: s };
        }
        return t;
      }
    }
    if (v.isGraphInput && v.graph === this.#model.graph) {
      const pinned = this.#inputShapes && Object.hasOwn(this.#inputShapes, v.name) ? this.#inputShapes[v.name] : undefined;
      const tt = v.tensorType;
      if (tt && pinned) return { ...tt, shape: pinned };
      return v.type;
    }
    const k = constantOf(v);
    if (k) return { kind: 'tensor', elemType: k.dtype, shape: k.dims };
    return null;
  }

  /** Element type, when known (`dtypeIn(typeOf(v))`, without allocating for an inferred value). */
  dtypeOf(v: Value): DataType | undefined {
    const f = this.#inferred(v);
    if (f === undefined) return dtypeIn(this.typeOf(v));
    return f.elemType !== DataType.UNDEFINED ? f.elemType : undefined;
  }

  /** Shape (dims may be symbolic or null), or null when the rank is unknown (`shapeIn(typeOf(v))`, without allocating). */
  shapeOf(v: Value): Shape | null {
    const f = this.#inferred(v);
    return f !== undefined ? f.shape : shapeIn(this.typeOf(v));
  }

  /**
   * The inference's facts of `v` when `typeOf(v)` is exactly the tensor type they describe (not
   * noted, not an initializer, a tensor whose type or rank is known), so that `dtypeOf` and
   * `shapeOf` read them instead of a new TypeInfo per call (rules ask per match); undefined
   * when `typeOf` must be asked.
   */
  #inferred(v: Value): InferredFacts | undefined {
    if (v.isInitializer || (this.#overlay.size > 0 && this.#overlay.has(v))) return undefined;
    const inf = this.#infer();
    if (inf === null) return undefined;
    if (this.#factsOf !== inf) {
      this.#factsOf = inf;
      this.#factsMap = inferenceFacts(inf);
    }
    const f = this.#factsMap?.get(v);
    if (f === undefined || f.other !== undefined || (f.elemType === DataType.UNDEFINED && f.shape === null)) return undefined;
    return f;
  }

  /** Rank, when known. */
  rankOf(v: Value): number | undefined {
    return this.shapeOf(v)?.length;
  }

  /** Fully static shape, or null. */
  staticShape(v: Value): number[] | null {
    const s = this.shapeOf(v);
    return isStaticShape(s) ? [...s] : null;
  }

  /** Constant content: initializers and Constant nodes, plus values inference computed. */
  constOf(v: Value): Tensor | undefined {
    const k = constantOf(v);
    if (k) return k;
    if (v.isGraphInput) {
      // An initializer that is also a graph input is a default the caller may override, except
      // below IR 4, where every initializer of the main graph had to be listed as an input:
      // onnxruntime takes those as constants, and so do the analysis and shape inference.
      const m = this.#model;
      return v.isInitializer && m.irVersion > 0 && m.irVersion < 4 && v.graph === m.graph ? (v.constValue ?? undefined) : undefined;
    }
    return this.#infer()?.constOf(v);
  }
}

/**
 * `dtypeOf` of a value whose `typeOf` is `t`: a rule that needs both the element type and the
 * shape of one value reads its type once (each `typeOf` is a lookup and a new object).
 */
function dtypeIn(t: TypeInfo | null): DataType | undefined {
  return t && (t.kind === 'tensor' || t.kind === 'sparse_tensor') && t.elemType !== 0 ? t.elemType : undefined;
}

/** `shapeOf` of a value whose `typeOf` is `t` (see `dtypeIn`). */
function shapeIn(t: TypeInfo | null): Shape | null {
  return t && (t.kind === 'tensor' || t.kind === 'sparse_tensor') ? t.shape : null;
}
