/**
 * Shape and type inference — an analysis: it never mutates the model.
 *
 * Walks every graph in node order, applying one rule per op (shape-rules.ts) to the facts known
 * about the node's inputs: element type, dims (concrete, symbolic, unknown), the content of
 * values that are constant (initializers, Constant nodes, sub-computations the TypeScript
 * kernels evaluate) and the partially known content of small integer tensors (so that
 * `Shape → Gather → Unsqueeze → Concat → Reshape` resolves even with a symbolic batch).
 *
 * Declared types (graph inputs, value_info, graph outputs) are inputs to the analysis: pinned
 * shapes (`inputShapes`, the CLI's `--input-shape`) override graph inputs and bind their
 * symbols everywhere; a declared type that contradicts inference is a diagnostic, and declared
 * dims fill in what inference left unknown. Unknown ops (custom domains, unsupported ONNX ops,
 * Scan) produce a diagnostic naming the op and node; their outputs take their declared types
 * if any, and analysis continues around them. `applyInferredTypes` is the separate, explicit
 * mutation that writes the results into `Value.type` (for exporters).
 */
import {
  DataType,
  Tensor,
  type Attribute,
  dataTypeName,
  isStaticShape,
  typesEqual,
  type Dim,
  type Graph,
  type Model,
  type Node,
  type OnnxFunction,
  type Shape,
  type TypeInfo,
  Value,
} from '@onnxkit/graph';
import { attributeProblem } from '../common/attribute-schema.js';
import { isDefinedDataType, knownDataTypeInfo } from '../common/data-types.js';
import { lookup } from '../common/op-table.js';
import { evaluateNode, KernelBudgetError, KernelError, SUPPORTED_KERNELS } from '../kernels/index.js';
import { DimAlgebra } from './dim-algebra.js';
import { ShapeError } from './errors.js';
import { MAX_RANK, type AnalysisDiagnostic, type DiagnosticSeverity, type Facts, type RuleContext, type ShapeRule } from './inference-types.js';
import { SHAPE_RULES } from './shape-rules.js';
import { CONTRIB_SHAPE_FACET, opKey, undeclaredFacet, ZERO_COPY_KERNELS } from '../ops/registry.js';

export interface InferShapesOptions {
  /**
   * Pins graph-input shapes by name, e.g. `{ input: [1, 3, 224, 224] }`. A symbolic dim of the
   * declared input pinned to a number binds that symbol for the whole model.
   */
  inputShapes?: Readonly<Record<string, readonly (number | string)[]>>;
  /**
   * Binds symbolic dims by name wherever graph inputs declare them, e.g. `{ N: 1 }` (the CLI's
   * `--dim N=1`, onnxruntime's free dimension overrides). Combines with `inputShapes`; a
   * symbol bound to two different values is an error.
   */
  dimValues?: Readonly<Record<string, number>>;
  /** Largest tensor (elements) the kernels compute during inference; default 65,536. */
  maxConstantElements?: number;
}

/** The result of `inferShapes`: per-value facts plus diagnostics. Read-only. */
export interface ShapeInference {
  /** Inferred type (tensor types carry the inferred shape); null when nothing is known. */
  typeOf(v: Value): TypeInfo | null;
  /** Inferred dims; null when the rank is unknown. Read without allocating (`typeOf` builds an object per call). */
  shapeOf(v: Value): Shape | null;
  /** Content of values that are constant: initializers, Constant outputs, evaluated sub-computations. */
  constOf(v: Value): Tensor | undefined;
  /**
   * Partially known content of a small integer tensor (e.g. Shape of a symbolic-batch input):
   * numbers, symbols, or null per element; values beyond ±2^53 read as ±Infinity.
   */
  shapeValueOf(v: Value): readonly Dim[] | undefined;
  readonly diagnostics: readonly AnalysisDiagnostic[];
  /** Nodes no rule covered (unknown ops): their outputs are declared or unknown. */
  readonly unknownNodes: ReadonlySet<Node>;
  /** Default-domain opset the model imports. */
  readonly opset: number;
  /** The algebra that printed this inference's symbolic dims (to keep computing with them). */
  readonly algebra: DimAlgebra;
}

const DEFAULT_MAX_CONST = 65_536;
const MAX_PARTIAL = 4096;
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
/** Bytes per element allowed for kernel outputs during inference (the element cap × 8). */
const MAX_BYTES_PER_CONST_ELEMENT = 8;
/** Local function calls nest at most this deep in an analysis (the JS stack, not the model, is the limit). */
const MAX_FUNCTION_DEPTH = 256;
/** Node visits all function expansions of one analysis may cost (issue 13: 2^n expansions). */
const FUNCTION_WORK_BUDGET = 250_000;

export function inferShapes(model: Model, options: InferShapesOptions = {}): ShapeInference {
  const engine = new Engine(model, options);
  engine.run();
  const r = engine.result();
  ENGINES.set(r, engine);
  return r;
}

/** The engine behind each result of `inferShapes` (what `updateInference` continues from). */
const ENGINES = new WeakMap<ShapeInference, Engine>();
/** Node visits one `updateInference` may spend propagating changed facts before giving up. */
const UPDATE_BUDGET = 4096;

/** An exact rewrite of one graph, as RewriteSession.apply made it (see `updateInference`). */
export interface InferencePatch {
  /** The graph the rewrite changed. */
  readonly graph: Graph;
  /** Nodes it inserted, in graph order. */
  readonly added: readonly Node[];
  /** (old value, value now read in its place). */
  readonly replaced: ReadonlyArray<readonly [Value, Value]>;
  /** Initializers it registered. */
  readonly initializers: readonly Value[];
}

/**
 * Brings `inference` (a result of `inferShapes`) up to date after an exact rewrite of the model,
 * in place, instead of inferring the whole model again: the inserted nodes are inferred from
 * their inputs' facts, and where a value now read in place of a replaced one has other facts than
 * it, the readers are inferred again, and their readers while their facts change. The result is
 * what `inferShapes` of the rewritten model gives for every live value (each node's facts are a
 * function of its inputs' facts and its declared types, and every node whose inputs' facts
 * changed is revisited), except its diagnostics, which still list those of removed nodes (see
 * `diagnosticsExact`). Returns false — the inference is then stale and must be computed again —
 * when the patch is outside what this covers: a subgraph or a model with local functions (their
 * facts depend on the call site), a reader inside a subgraph, an input without facts, or more
 * than UPDATE_BUDGET revisits.
 */
export function updateInference(inference: ShapeInference, patch: InferencePatch): boolean {
  const engine = ENGINES.get(inference);
  return engine !== undefined && engine.update(patch);
}

/**
 * Forgets the facts of the outputs of `removed` (nodes a rewrite took out of the model), so an
 * inference kept up to date through a pipeline does not keep every removed node reachable (each
 * Value knows its producer) until the pipeline ends: 60,000 removed nodes on a 100k-node chain.
 * Call it once nothing reads those values' facts any more (RewriteSession.apply, after its notes).
 */
export function forgetRemoved(inference: ShapeInference, removed: readonly Node[]): void {
  const engine = ENGINES.get(inference);
  if (engine === undefined) return;
  const facts = engine.facts;
  engine.lastNode = null;
  // With facts held on the values, a removed value holds its own facts (nothing keeps it
  // reachable); they are still forgotten, so that a value put back is read as new.
  for (let i = 0; i < removed.length; i++) {
    const n = removed[i]!;
    if (n.graph !== null) continue;
    const outs = n.outputs;
    for (let k = 0; k < outs.length; k++) facts.delete(outs[k]!);
  }
}

/**
 * @internal The facts behind a result of `inferShapes` (on the values, or a map; undefined for
 * any other ShapeInference): the analysis reads a node's facts once from it instead of asking
 * `shapeOf`, `constOf` and `typeOf` one by one (a read each). For a value without facts, the
 * accessors fall back to its declared type: readers must do the same (see `Facts`).
 */
export function inferenceFacts(inference: ShapeInference): FactsView | undefined {
  return ENGINES.get(inference)?.facts;
}

/** @internal What `inferenceFacts` gives: the facts of a value, and (for tests) every facts object held. */
export interface FactsView {
  get(v: Value): Facts | undefined;
  values(): Iterable<Facts>;
  /** True when the facts are held on the values (Value._facts): `get` is two field reads, no lookup. */
  readonly onValues?: boolean;
}

/** Where an Engine keeps its facts: a FactsSlots, or a map when another inference holds the slots. */
interface FactsStore extends FactsView {
  set(v: Value, f: Facts): void;
  has(v: Value): boolean;
  delete(v: Value): void;
}

/** Ids of FactsSlots, from 1; wrapped below 2^30 to stay a small integer. */
let nextSlotsId = 1;
/**
 * Which FactsSlots holds the slots of each graph's values: one inference at a time, since two live
 * inferences must not overwrite each other's facts; later ones keep a map. Claimed per graph, not
 * per model: two models may share a graph (GraphBuilder.build() twice, `new Model({ graph })`),
 * and the facts live on its values. Only the id is kept (not the inference), and the claim lapses
 * when the inference holding it is collected (LIVE_SLOTS, SLOTS_FINALIZER), so the model does not
 * keep its first inference alive and a later inference may take the slots again.
 */
const SLOT_CLAIMS = new WeakMap<Graph, number>();
const LIVE_SLOTS = new Set<number>();
const SLOTS_FINALIZER = new FinalizationRegistry<number>((id) => void LIVE_SLOTS.delete(id));

/** A new FactsSlots id claiming every graph of `model`, or 0 when a live inference holds any of them. */
function claimSlots(model: Model): number {
  // The graphs are listed by one walk (forEachGraph visits every node to find subgraphs), checked, then claimed.
  const graphs: Graph[] = [];
  let free = true;
  model.forEachGraph((g) => {
    graphs.push(g);
    const id = SLOT_CLAIMS.get(g);
    if (id !== undefined && LIVE_SLOTS.has(id)) free = false;
  });
  if (!free) return 0;
  const id = nextSlotsId;
  nextSlotsId = nextSlotsId >= 0x3fffffff ? 1 : nextSlotsId + 1;
  LIVE_SLOTS.add(id);
  for (let i = 0; i < graphs.length; i++) SLOT_CLAIMS.set(graphs[i]!, id);
  return id;
}

/**
 * Facts held on the values themselves (Value._factsOf, valid while this id owns them): a read is
 * two fields of an object the reader has in hand, not a hash lookup, and forgetting a removed
 * value is two writes, not a map deletion.
 */
class FactsSlots implements FactsStore {
  readonly onValues = true;
  constructor(
    readonly model: Model,
    readonly id: number,
  ) {}
  get(v: Value): Facts | undefined {
    // (a missing value has none, as a map answers: callers pass `outputs[0]` of any node)
    return v === undefined ? undefined : (Value._factsOf(v, this.id) as Facts | undefined);
  }
  set(v: Value, f: Facts): void {
    Value._setFacts(v, this.id, f);
  }
  has(v: Value): boolean {
    return v !== undefined && Value._hasFacts(v, this.id);
  }
  delete(v: Value): void {
    if (v !== undefined && Value._hasFacts(v, this.id)) Value._setFacts(v, 0, undefined);
  }
  /** Every value of the model (inputs, initializers, node outputs of every graph and function) with facts. */
  *values(): IterableIterator<Facts> {
    const graphs: Graph[] = [];
    this.model.forEachGraph((g) => void graphs.push(g));
    const seen = new Set<Value>();
    for (const g of graphs) {
      const vs: Value[] = [...g.inputs, ...g.initializers.values(), ...g.sparseInitializers.values()];
      for (const n of g) for (const v of n.outputs) vs.push(v);
      for (const v of vs) {
        const f = this.get(v);
        if (f !== undefined && !seen.has(v)) {
          seen.add(v);
          yield f;
        }
      }
    }
  }
}

/**
 * @internal The main graph's nodes in the order `inferShapes` visited them, and the facts of
 * their outputs in the same order (node by node, output by output): what the analysis reads
 * sequentially instead of looking each output up in the facts map. Undefined once
 * `updateInference` changed the inference, when the facts are held on the values (no lookup to
 * save), or for any other ShapeInference.
 */
export function inferenceOrder(inference: ShapeInference): VisitOrder | undefined {
  return ENGINES.get(inference)?.order ?? undefined;
}

export interface VisitOrder {
  readonly nodes: readonly Node[];
  readonly facts: readonly (Facts | undefined)[];
}

/** Whether `inference` knows the same facts about `a` and `b` (type, dims, constant, partial content). */
export function sameFacts(inference: ShapeInference, a: Value, b: Value): boolean {
  const engine = ENGINES.get(inference);
  if (engine === undefined) return false;
  const fa = engine.facts.get(a);
  return fa !== undefined && factsEqual(fa, engine.facts.get(b));
}

/**
 * False once `updateInference` changed `inference`: its diagnostics may then name removed nodes
 * (facts and the rest stay exact). Callers that report diagnostics infer again.
 */
export function diagnosticsExact(inference: ShapeInference): boolean {
  const engine = ENGINES.get(inference);
  return engine === undefined || !engine.updated;
}

/** Writes inferred tensor types into `Value.type` of node outputs; returns how many changed. */
export function applyInferredTypes(model: Model, inference: ShapeInference): number {
  let changed = 0;
  for (const g of model.graphs()) {
    for (const n of g) {
      for (const v of n.outputs) {
        const t = inference.typeOf(v);
        if (!t || t.kind !== 'tensor' || t.elemType === DataType.UNDEFINED) continue;
        const prev = v.type;
        const next: TypeInfo =
          prev && prev.kind === 'tensor'
            ? { ...prev, elemType: t.elemType, shape: t.shape }
            : { kind: 'tensor', elemType: t.elemType, shape: t.shape };
        if (!typesEqual(prev, next)) {
          v.type = next;
          changed++;
        }
      }
    }
  }
  return changed;
}

function opLabel(n: Node): string {
  return n.isOnnxDomain ? n.opType : `${n.domain}::${n.opType}`;
}

function nodeLabel(n: Node): string {
  return n.name || n.describe();
}

class Engine {
  readonly facts: FactsStore;
  readonly diagnostics: AnalysisDiagnostic[] = [];
  readonly alg = new DimAlgebra();
  readonly unknownNodes = new Set<Node>();
  readonly opset: number;
  readonly maxConst: number;
  readonly #bindings = new Map<string, Dim>();
  readonly #intsCache = new WeakMap<Facts, readonly Dim[]>();
  /**
   * Plain facts (an element type and dims, nothing else) stored once per distinct pair: every
   * value with equal plain facts shares one frozen object and one frozen dims array (see `plain`).
   */
  readonly #plain = new Map<string, Facts>();
  /** Each rule's last clean result, for the next node with the same inputs (see RuleMemo). */
  readonly #ruleMemo = new Map<ShapeRule, RuleMemo>();
  /** The last type `declared` read with no symbol bound and nothing to report, and its facts. */
  #lastDeclared: TypeInfo | null = null;
  #lastDeclaredFacts: Facts | undefined = undefined;
  /** Values already reported for an unknown element type or an over-long rank (one diagnostic each). */
  readonly #reported = new Set<Value>();
  /** Local functions being expanded (the call chain), and node visits spent inside function bodies. */
  readonly #calls: OnnxFunction[] = [];
  #functionWork = 0;
  #depthReported = false;
  /** Whether `update` changed these facts since `run`. */
  updated = false;
  /** See inferenceOrder: recorded by `run`, dropped by the first `update`. */
  order: { nodes: Node[]; facts: (Facts | undefined)[] } | null = null;
  /**
   * The node visited last and the facts it left on its outputs (equal to their entries in
   * `facts`): most nodes read the output of the node before them, whose facts are then taken
   * from here instead of from the map (on a large graph a lookup is a cache miss or two). Null
   * whenever entries for its outputs may have changed otherwise (`update`, `forgetRemoved`).
   */
  lastNode: Node | null = null;
  readonly lastFacts: (Facts | undefined)[] = [];

  constructor(
    readonly model: Model,
    readonly options: InferShapesOptions,
  ) {
    this.opset = model.opsetVersion('') ?? 21;
    this.maxConst = options.maxConstantElements ?? DEFAULT_MAX_CONST;
    const id = claimSlots(model);
    if (id !== 0) {
      const slots = new FactsSlots(model, id);
      this.facts = slots;
      // (the slots object, not this engine: whatever can still read the facts holds it)
      SLOTS_FINALIZER.register(slots, id);
    } else this.facts = new Map<Value, Facts>();
  }

  run(): void {
    const pinned = this.#pinInputs();
    // With the facts on the values, reading an output's facts costs no lookup: no order to keep
    // (two arrays of a node's length, alive until the first update).
    this.order = this.facts instanceof FactsSlots ? null : { nodes: [], facts: [] };
    this.runGraph(this.model.graph, undefined, pinned);
  }

  /** See `updateInference`. */
  update(p: InferencePatch): boolean {
    const { graph, added } = p;
    if (graph !== this.model.graph || this.model.functions.length > 0) return false;
    this.updated = true;
    this.lastNode = null;
    this.order = null;
    const facts = this.facts;
    // Indexed loops: this runs once per change, and array iterators allocate until optimised.
    const inits = p.initializers;
    for (let i = 0; i < inits.length; i++) {
      const v = inits[i]!;
      const t = v.constValue;
      if (t && (!v.isGraphInput || this.model.irVersion < 4)) facts.set(v, { elemType: t.dtype, shape: t.dims, value: t });
    }
    for (let i = 0; i < added.length; i++) if (!this.#visitIfReady(added[i]!, graph)) return false;
    // Values whose facts may differ from those their readers were inferred with (usually none).
    let changed: Value[] | undefined;
    const replaced = p.replaced;
    for (let i = 0; i < replaced.length; i++) {
      const o = replaced[i]![0];
      const v = replaced[i]![1];
      // A graph output's declared type may just have been copied onto its new value.
      const q = v.producer;
      if (v.isGraphOutput && q !== null && !added.includes(q)) {
        if (!this.#ready(q, graph)) return false;
        changed = this.#revisit(q, changed);
      }
      if (!factsEqual(facts.get(o), facts.get(v))) (changed ??= []).push(v);
    }
    let budget = UPDATE_BUDGET;
    while (changed !== undefined && changed.length > 0) {
      const v = changed.pop()!;
      for (const u of v.uses) {
        if (--budget < 0 || !this.#ready(u.node, graph)) return false;
        changed = this.#revisit(u.node, changed);
      }
    }
    return true;
  }

  /** Whether `n` is a node of `graph` whose every input has facts (so visiting it is exact). */
  #ready(n: Node, graph: Graph): boolean {
    if (n.graph !== graph) return false;
    const ins = n.inputs;
    for (let i = 0; i < ins.length; i++) {
      const v = ins[i];
      if (v && !this.facts.has(v)) return false;
    }
    return true;
  }

  /** The list #visitIfReady reads inputs' facts into, kept from patch to patch (not a list per added node). */
  readonly #readyIns: (Facts | undefined)[] = reusedList();

  /** Visits `n` when it is #ready (reading each input's facts once); false when it is not. */
  #visitIfReady(n: Node, graph: Graph): boolean {
    if (n.graph !== graph) return false;
    const ins = this.inputFacts(n, this.#readyIns);
    const inputs = n.inputs;
    for (let i = 0; i < ins.length; i++) if (ins[i] === undefined && inputs[i]) return false;
    this.visit(n, ins);
    return true;
  }

  /** Infers `n` again; adds its outputs whose facts changed to `changed`. */
  #revisit(n: Node, changed: Value[] | undefined): Value[] | undefined {
    const before = n.outputs.map((x) => this.facts.get(x));
    this.visit(n);
    n.outputs.forEach((x, i) => {
      if (!factsEqual(before[i], this.facts.get(x))) (changed ??= []).push(x);
    });
    return changed;
  }

  /**
   * The one facts object of this engine that is exactly { elemType, shape } (dims compared by
   * value): frozen, its dims a frozen copy of `shape`, so values with equal facts share it
   * whatever created them (a rule's output, a declared or pinned type, `update`). On a chain of
   * 100k [1,16] activations that is one object, not one object and one array per value. Facts
   * are never mutated after creation (freezing makes that a TypeError, not a silent change).
   */
  plain(elemType: DataType, shape: readonly Dim[] | null): Facts {
    const key = plainKey(elemType, shape);
    let f = this.#plain.get(key);
    if (f === undefined) {
      f = Object.freeze({ elemType, shape: shape === null ? null : Object.freeze(shape.slice()) });
      this.#plain.set(key, f);
    }
    return f;
  }

  /** `f`, or its interned equal when it is plain (no content, partial content or other type). */
  interned(f: Facts): Facts {
    return f.value === undefined && f.partial === undefined && f.other === undefined ? this.plain(f.elemType, f.shape) : f;
  }

  result(): ShapeInference {
    const facts = this.facts;
    return {
      typeOf: (v) => {
        const f = facts.get(v);
        if (!f) return v.type;
        if (f.other) return f.other;
        if (f.elemType === DataType.UNDEFINED && f.shape === null) return null;
        return { kind: 'tensor', elemType: f.elemType, shape: f.shape };
      },
      shapeOf: (v) => {
        const f = facts.get(v);
        return f ? f.shape : v.shape;
      },
      constOf: (v) => facts.get(v)?.value,
      shapeValueOf: (v) => {
        const f = facts.get(v);
        return f ? (f.partial ?? this.intsOf(f)) : undefined;
      },
      diagnostics: this.diagnostics,
      unknownNodes: this.unknownNodes,
      opset: this.opset,
      algebra: this.alg,
    };
  }

  /** Validates `inputShapes` against the graph inputs and records symbol bindings. */
  #pinInputs(): Map<Value, readonly Dim[]> {
    const pinned = new Map<Value, readonly Dim[]>();
    for (const [sym, n] of Object.entries(this.options.dimValues ?? {})) {
      if (sym.length === 0) throw new ShapeError('--dim: empty symbol name');
      if (!Number.isSafeInteger(n) || n < 0) throw new ShapeError(`--dim ${sym}=${n}: the value is not a non-negative integer`);
      this.#bindings.set(sym, n);
    }
    const req = this.options.inputShapes ?? {};
    const g = this.model.graph;
    const names = g.inputs.filter((v) => !v.isInitializer).map((v) => v.name);
    for (const [name, dims] of Object.entries(req)) {
      const v = g.inputs.find((x) => x.name === name);
      if (!v) {
        throw new ShapeError(`--input-shape names '${name}', which is not a graph input`, {
          hint: `the model's inputs are: ${names.join(', ') || '(none)'}`,
        });
      }
      for (const d of dims) {
        if (typeof d === 'number' && (!Number.isSafeInteger(d) || d < 0)) {
          throw new ShapeError(`--input-shape ${name}: dimension ${d} is not a non-negative integer`);
        }
        if (typeof d === 'string' && d.length === 0) throw new ShapeError(`--input-shape ${name}: empty symbolic dimension`);
      }
      const declared = v.shape;
      if (declared && declared.length !== dims.length) {
        throw new ShapeError(`--input-shape ${name}=${dims.join('x')} has rank ${dims.length}, but the input is declared with rank ${declared.length} (${declared.map((d) => d ?? '?').join('x')})`, {
          hint: 'give one dimension per axis of the declared input',
        });
      }
      declared?.forEach((d, i) => {
        const p = dims[i]!;
        if (typeof d === 'string' && typeof p === 'number') {
          const prev = this.#bindings.get(d);
          if (prev !== undefined && prev !== p) {
            throw new ShapeError(`--input-shape binds symbol '${d}' to both ${prev} and ${p}`);
          }
          this.#bindings.set(d, p);
        } else if (typeof d === 'number' && d >= 0 && typeof p === 'number' && d !== p) {
          // (a negative declared dim is unknown, not overridden: declared() reports it)
          this.diag('warning', 'input-shape-override', `input '${name}' is declared with dim ${i} = ${d}; using ${p} as requested`);
        }
      });
      pinned.set(v, dims);
    }
    return pinned;
  }

  diag(severity: DiagnosticSeverity, code: string, message: string, node?: Node): void {
    this.diagnostics.push(node ? { severity, code, message, node: nodeLabel(node), op: opLabel(node) } : { severity, code, message });
  }

  /**
   * Facts from a declared type (graph input, value_info), with pinned symbols substituted. An
   * element type ONNX does not define becomes UNDEFINED (unknown: its size is unknown too) and a
   * rank above MAX_RANK an unknown shape, each with one diagnostic naming the value.
   */
  declared(v: Value, node?: Node): Facts | undefined {
    const t = v.type;
    if (!t) return undefined;
    if (t.kind !== 'tensor' && t.kind !== 'sparse_tensor') return { elemType: DataType.UNDEFINED, shape: null, other: t };
    // The facts of the type asked last, while no symbol is bound: values of one type are met in
    // runs (a chain's outputs share the decoder's one type object), and `plain` builds a string
    // key per call to find the facts it returns for that type every time.
    const unbound = this.#bindings.size === 0;
    if (unbound && t === this.#lastDeclared) return this.#lastDeclaredFacts;
    // (with no symbol bound, the declared dims as they are: `plain` copies what it keeps)
    let shape = t.shape ? (unbound ? t.shape : t.shape.map((d) => (typeof d === 'string' && this.#bindings.has(d) ? this.#bindings.get(d)! : d))) : null;
    let elemType = t.elemType;
    let reported = false;
    if (elemType !== DataType.UNDEFINED && !isDefinedDataType(elemType)) {
      this.#reportOnce(v, 'unknown-dtype', `'${v.name}' is declared with element type ${dataTypeName(elemType)}, which ONNX does not define; its element type and size are unknown`, node);
      elemType = DataType.UNDEFINED;
      reported = true;
    }
    if (shape && shape.length > MAX_RANK) {
      this.#reportOnce(v, 'rank-limit', `'${v.name}' is declared with rank ${shape.length}, above the limit of ${MAX_RANK}; its shape is treated as unknown`, node);
      shape = null;
      reported = true;
    }
    // Exporters write -1 for a dim they do not know: it is unknown, not a size (counted as one, an
    // input [-1, 3, 8, 8] gave -192 activations and the Conv after it an "invalid output shape").
    if (shape && !validDims(shape)) {
      const bad = shape.find((d) => !validDim(d));
      this.#reportOnce(v, 'negative-dim', `'${v.name}' is declared with dim ${String(bad)}; a dim that is not a size is treated as unknown`, node);
      shape = shape.map((d) => (validDim(d) ? d : null));
      reported = true;
    }
    const f = this.plain(elemType, shape);
    // (a type reported for one value is reported for each: not kept)
    if (unbound && !reported) {
      this.#lastDeclared = t;
      this.#lastDeclaredFacts = f;
    }
    return f;
  }

  #reportOnce(v: Value, code: string, message: string, node?: Node): void {
    if (this.#reported.has(v)) return;
    this.#reported.add(v);
    this.diag('warning', code, message, node);
  }

  runGraph(g: Graph, inputFacts?: readonly (Facts | undefined)[], pinned?: Map<Value, readonly Dim[]>): (Facts | undefined)[] {
    // (forEach: the values() iterator allocates a result per initializer)
    g.initializers.forEach((v) => {
      const t = v.constValue;
      if (!t) return;
      // An initializer that is also a graph input is only a default: the caller may override it
      // (from IR 4 on; before, every initializer had to be listed as an input and is a constant,
      // as onnxruntime treats it: it is not among the session's inputs).
      this.facts.set(v, v.isGraphInput && g === this.model.graph && this.model.irVersion >= 4 ? this.plain(t.dtype, t.dims) : { elemType: t.dtype, shape: t.dims, value: t });
    });
    for (const v of g.sparseInitializers.values()) {
      const sp = v.sparseValue;
      if (sp) this.facts.set(v, this.plain(sp.values.dtype, sp.dims));
    }
    g.inputs.forEach((v, i) => {
      if (v.isInitializer && this.facts.has(v)) return;
      const given = inputFacts?.[i];
      const pin = pinned?.get(v);
      const decl = this.declared(v);
      if (given) this.facts.set(v, this.interned(given));
      else if (pin) this.facts.set(v, this.plain(decl?.elemType ?? DataType.UNDEFINED, pin));
      else this.facts.set(v, decl ?? this.plain(DataType.UNDEFINED, null));
    });
    // A cursor walk (the analysis never mutates): Graph's iterator allocates a result per node.
    const order = g === this.model.graph ? this.order : null;
    if (order === null) for (let n = g.firstNode; n !== null; n = n.next) this.visit(n);
    else {
      // Sized up front (a node has one output, mostly), not grown push by push: each growth copies.
      const nodes = (order.nodes = new Array<Node>(g.nodeCount));
      const facts = (order.facts = new Array<Facts | undefined>(g.nodeCount));
      let i = 0;
      let f = 0;
      for (let n = g.firstNode; n !== null; n = n.next) {
        this.visit(n);
        // visit(n) left n's output facts, final in this walk, in lastFacts.
        nodes[i++] = n;
        const m = n.outputs.length;
        for (let k = 0; k < m; k++) facts[f++] = this.lastFacts[k];
      }
      nodes.length = i;
      facts.length = f;
    }
    return g.outputs.map((v) => this.facts.get(v));
  }

  /**
   * Contexts of visits that ended, for the next ones: a visit inside a visit (a local function's
   * body, a subgraph) takes another, so one in use is never handed out. A context per visit was
   * three objects per node of garbage (it, its outputs' list and its inputs' facts).
   */
  readonly #idle: Ctx[] = [];

  /** `ins`: the facts of the node's inputs, when the caller has read them already. */
  visit(node: Node, ins?: (Facts | undefined)[]): void {
    const ctx = (this.#idle.pop() ?? new Ctx(this)).load(node, ins);
    try {
      this.#visitWith(node, ctx);
    } finally {
      this.#idle.push(ctx);
    }
  }

  #visitWith(node: Node, ctx: Ctx): void {
    const bad = attributeProblem(node);
    if (bad !== undefined) {
      // A malformed node (ONNX Runtime would reject it): no rule, no evaluation, outputs as declared.
      this.unknownNodes.add(node);
      this.diag('warning', 'bad-attribute', `${node.describe()}: ${bad}; the node is malformed, its outputs are unknown (or as declared) and analysis continues around it`, node);
      this.#setOutputs(node, ctx);
      return;
    }
    const rule = node.isOnnxDomain ? lookup(SHAPE_RULES, node.opType) : lookup(CONTRIB_SHAPE_FACET, opKey(node.domain, node.opType));
    const fn = rule ? undefined : this.model.findFunction(node.domain, node.opType, node.overload);
    if (rule) {
      const memo = this.#ruleMemo.get(rule);
      if (memo !== undefined && memo.matches(node, ctx)) memo.replay(ctx);
      else {
        const diagnostics = this.diagnostics.length;
        const epoch = this.alg.epoch;
        let failed = false;
        try {
          rule(ctx);
        } catch (e) {
          failed = true;
          this.diag('error', 'rule-failed', `shape rule of ${node.describe()} failed: ${e instanceof Error ? e.message : String(e)}`, node);
        }
        // (not when the rule's own computation changed how a dim it may have read is read: see DimAlgebra.epoch)
        if (!failed && !ctx.unmemoizable && this.diagnostics.length === diagnostics && this.alg.epoch === epoch) {
          if (memo !== undefined) memo.record(node, ctx);
          else this.#ruleMemo.set(rule, new RuleMemo(node, ctx));
        }
      }
    } else if (fn && this.#canExpand(fn, node)) {
      this.#calls.push(fn);
      try {
        const outs = ctx.subgraph(fn.graph, node.inputs.map((v) => (v ? this.facts.get(v) : undefined)));
        outs.forEach((f, i) => f && ctx.setFacts(i, f));
      } finally {
        this.#calls.pop();
      }
    } else if (fn) {
      this.unknownNodes.add(node);
    } else {
      this.unknownNodes.add(node);
      const sub = node.subgraphs().length > 0 ? ' (its subgraphs are not analysed)' : '';
      // A registered op that declares no shape rule says why (its `shape: undeclared(kind, …)`, ops/).
      const label = opLabel(node);
      const why = undeclaredFacet(label, 'shape');
      this.diag('warning', 'unknown-op', `no shape rule for op '${label}' at node '${nodeLabel(node)}'${sub}${why === undefined ? '' : ` (${why})`}; its outputs are unknown (or as declared) and analysis continues around it`, node);
    }
    this.#evaluate(node, ctx);
    this.#setOutputs(node, ctx);
  }

  /** Records the facts of `node`'s outputs (finished with their declared types), and `node` as lastNode. */
  #setOutputs(node: Node, ctx: Ctx): void {
    const outs = node.outputs;
    const last = this.lastFacts;
    // Not lastNode while its facts are being replaced.
    this.lastNode = null;
    for (let i = 0; i < outs.length; i++) {
      const v = outs[i]!;
      const f = this.#finish(node, v, ctx.outs[i]);
      this.facts.set(v, f);
      last[i] = f;
    }
    this.lastNode = node;
  }

  /**
   * The facts of each input of `n` (undefined for an omitted input or one without facts): a new
   * array by default, else `out`, whose entries past the inputs are cleared, not cut off (a
   * length change is a runtime call, and a reused list changes length from node to node) — but
   * for a list far longer than the inputs, which is cut back: after a Concat of 50,000 inputs,
   * clearing 50,000 entries at each of the next nodes made the inference quadratic (a dead
   * Concat of 100,000 inputs ahead of 100,000 nodes: 9 s of `optimize`).
   */
  inputFacts(n: Node, out: (Facts | undefined)[] = new Array<Facts | undefined>(n.inputs.length)): (Facts | undefined)[] {
    const ins = n.inputs;
    fitInputStore(out, ins.length);
    const last = this.lastNode;
    const facts = this.facts;
    if (facts instanceof FactsSlots) {
      // A read from the value itself: cheaper than asking whether the last node produced it.
      for (let i = 0; i < ins.length; i++) {
        const v = ins[i];
        out[i] = v ? facts.get(v) : undefined;
      }
      return out;
    }
    for (let i = 0; i < ins.length; i++) {
      const v = ins[i];
      if (!v) out[i] = undefined;
      else {
        const f = factsFromLast(v, last, this.lastFacts);
        out[i] = f !== NOT_LAST ? f : this.facts.get(v);
      }
    }
    return out;
  }

  /**
   * Whether a call of local function `fn` may be expanded (its body analysed for this call): not
   * when `fn` is already being expanded (recursion, which ONNX forbids), when calls nest deeper
   * than MAX_FUNCTION_DEPTH, or when expansions have cost more than FUNCTION_WORK_BUDGET node
   * visits (functions that each call the next twice expand to 2^n nodes from a tiny file). The
   * first refusal of each kind is an error naming the call chain; the outputs stay as declared.
   */
  #canExpand(fn: OnnxFunction, node: Node): boolean {
    const chain = (): string => {
      const names = [...this.#calls, fn].map((f) => f.name);
      return (names.length > 9 ? [...names.slice(0, 4), '…', ...names.slice(-4)] : names).join(' → ');
    };
    if (this.#calls.includes(fn)) {
      this.diag('error', 'recursive-function', `local function '${fn.name}' is called recursively (${chain()}); ONNX forbids recursion, so the call is not expanded`, node);
      return false;
    }
    if (this.#calls.length >= MAX_FUNCTION_DEPTH) {
      if (!this.#depthReported) this.diag('error', 'function-limit', `local function calls nest deeper than ${MAX_FUNCTION_DEPTH} levels (at ${fn.name}); deeper calls are not expanded`, node);
      this.#depthReported = true;
      return false;
    }
    this.#functionWork += fn.graph.nodeCount;
    if (this.#functionWork > FUNCTION_WORK_BUDGET) {
      if (this.#functionWork !== Infinity) {
        this.diag('error', 'function-limit', `expanding local functions would visit more than ${FUNCTION_WORK_BUDGET} nodes (at ${chain()}); further calls are not expanded and their outputs are as declared`, node);
      }
      this.#functionWork = Infinity;
      return false;
    }
    return true;
  }

  /** Computes constant outputs with the TypeScript kernels, within the size budget. */
  #evaluate(node: Node, ctx: Ctx): void {
    if (!node.isOnnxDomain || lookup(SUPPORTED_KERNELS, node.opType) === undefined) return;
    // Most nodes read an activation: find out before allocating anything.
    const n = node.inputs.length;
    for (let i = 0; i < n; i++) if (node.inputs[i] !== null && ctx.facts(i)?.value === undefined) return;
    const inputs: (Tensor | null)[] = [];
    let inSize = 0;
    let anyLazy = false;
    const zeroCopy = lookup(ZERO_COPY_KERNELS, node.opType);
    for (let i = 0; i < n; i++) {
      if (node.inputs[i] === null) {
        inputs.push(null);
        continue;
      }
      const t = ctx.facts(i)?.value;
      if (!t) return;
      // A lazy input (left in the file by the import) is evaluated as an in-memory one is, within
      // the size budget below: the facts must not depend on where the import left a weight (a
      // file over 64 MiB, or optimize's mid-size files, leave their larger payloads on disk).
      // A zero-copy kernel that passes it on unread (Identity) is not; any other op is held to
      // the budget (Dropout too, which otherwise is not: its kernel would read the weight and
      // build its mask).
      if (t.isLazy && zeroCopy !== 'unread') anyLazy = true;
      inSize += t.size;
      inputs.push(t);
    }
    // (each op's `kernel.zeroCopy`, ops/: Constant, Identity, Dropout)
    if (zeroCopy === undefined || anyLazy) {
      let outSize = 0;
      for (const o of ctx.outs) {
        const n = o?.shape && isStaticShape(o.shape) ? o.shape.reduce((a: number, b) => a * (b as number), 1) : undefined;
        outSize = Math.max(outSize, n ?? inSize);
      }
      if (ctx.outs.length === 0) outSize = inSize;
      if (outSize > this.maxConst || inSize > 16 * this.maxConst) return;
    }
    let results: Tensor[] | undefined;
    try {
      results = evaluateNode(node, inputs, this.opset, { maxOutputBytes: this.maxConst * MAX_BYTES_PER_CONST_ELEMENT });
    } catch (e) {
      // Over the size budget: the value stays unknown, as for any output too large to compute.
      if (e instanceof KernelBudgetError) return;
      if (e instanceof KernelError) this.diag('error', 'invalid-constant-input', e.message, node);
      else this.diag('error', 'kernel-failed', `evaluating ${node.describe()} failed: ${e instanceof Error ? e.message : String(e)}`, node);
      return;
    }
    if (!results) return;
    results.forEach((t, i) => {
      const prev = ctx.outs[i];
      if (prev?.shape && isStaticShape(prev.shape) && (prev.shape.length !== t.dims.length || prev.shape.some((d, k) => d !== t.dims[k]))) {
        this.diag('warning', 'rule-kernel-disagree', `${node.describe()}: the shape rule says [${prev.shape.join(',')}] but evaluation gives [${t.dims.join(',')}]`, node);
      }
      ctx.setFacts(i, { elemType: t.dtype, shape: t.dims, value: t });
    });
  }

  /** Combines inferred facts with the value's declared type, reporting contradictions. */
  #finish(node: Node, v: Value, inferred: Facts | undefined): Facts {
    const decl = this.declared(v, node);
    if (!inferred) return decl ?? this.plain(DataType.UNDEFINED, null);
    if (!decl || decl.other) return inferred;
    // Plain facts that agree with the declared type (the common case of a model with value_info):
    // the merge below would build the same dims and intern them to `decl`, which `declared`
    // interned (`plain`) for the same element type and dims.
    if (inferred.elemType === decl.elemType && inferred.shape !== null && inferred.value === undefined && inferred.partial === undefined && inferred.other === undefined && dimsEqual(inferred.shape, decl.shape)) {
      return decl;
    }
    let elemType = inferred.elemType;
    if (elemType === DataType.UNDEFINED) elemType = decl.elemType;
    else if (decl.elemType !== DataType.UNDEFINED && decl.elemType !== elemType) {
      this.diag('warning', 'declared-type-mismatch', `'${v.name}' is declared ${dataTypeName(decl.elemType)} but inferred ${dataTypeName(elemType)}`, node);
    }
    let shape = inferred.shape;
    if (shape === null) shape = decl.shape;
    else if (decl.shape !== null) {
      if (decl.shape.length !== shape.length) {
        this.diag('warning', 'declared-type-mismatch', `'${v.name}' is declared with rank ${decl.shape.length} but inferred [${shape.map((d) => d ?? '?').join(',')}]`, node);
      } else {
        const merged = shape.map((d, i) => {
          const e = decl.shape![i]!;
          if (typeof d === 'number' && typeof e === 'number' && d !== e) {
            this.diag('warning', 'declared-type-mismatch', `'${v.name}' is declared with dim ${i} = ${e} but inferred ${d}`, node);
          }
          return d ?? e;
        });
        shape = merged;
      }
    }
    if (elemType === inferred.elemType && shape === inferred.shape) return inferred;
    return this.interned({ ...inferred, elemType, shape });
  }

  /** Known element values of a small 0-D/1-D integer tensor (or its partial content). */
  intsOf(f: Facts): readonly Dim[] | undefined {
    if (f.partial) return f.partial;
    const t = f.value;
    if (!t || t.rank > 1 || t.size > MAX_PARTIAL) return undefined;
    // A float constant (every bias an Add reads) has none: decided before the cache is consulted.
    const kind = knownDataTypeInfo(t.dtype)?.kind;
    if (kind !== 'int' && kind !== 'uint' && kind !== 'bool') return undefined;
    const cached = this.#intsCache.get(f);
    if (cached !== undefined) return cached;
    // Beyond ±2^53 a value is ±Infinity here: still right for slice bounds (INT64_MAX means
    // "to the end"), never materialised as a constant, so int64 is never narrowed silently.
    const out = Array.from(t.toBigInt64(), (v) => (v > MAX_SAFE ? Infinity : v < -MAX_SAFE ? -Infinity : Number(v)));
    this.#intsCache.set(f, out);
    return out;
  }
}

/** What factsFromLast returns for a value `last` did not produce. */
export const NOT_LAST: unique symbol = Symbol('not produced by the last node');

/** Entries past a node's inputs that inputFacts clears in a reused list; past that, it cuts the list. */
const WIDE_STORE = 64;

/**
 * @internal Readies `out`, a reused list, for the facts of `count` inputs (Engine.inputFacts):
 * the entries past them cleared, or, when more than WIDE_STORE are, the list cut back to `count`.
 */
export function fitInputStore(out: unknown[], count: number): void {
  if (out.length > count + WIDE_STORE) out.length = count;
  for (let i = count; i < out.length; i++) out[i] = undefined;
}

/**
 * @internal A new reused per-node list (Engine's and Ctx's input stores, LayerCost's facts and
 * shapes): four entries, each undefined, as entries past the end read. An empty literal is an
 * array of small integers, whose first store of an object changes its map, and whose stores past
 * its end grow it: code compiled on the first engine's or LayerCost's lists (inputFacts,
 * LayerCost.load) was deoptimized by the next one's first node (`wrong map`, then `out of bounds`)
 * and compiled again (`--trace-deopt` on the 100k-node chain). A literal of objects' kind (packed,
 * as the lists the code sees elsewhere) and long enough for most nodes, its stores stay what the
 * compiled code saw.
 */
export function reusedList<T>(): T[] {
  const a: (T | undefined)[] = [undefined, undefined, undefined, undefined];
  return a as T[];
}

/**
 * @internal The facts of `v` when `last` (the node visited or read just before) produced it:
 * `lastFacts` holds the facts of `last`'s outputs, in order. Most nodes of a graph read the
 * output of the node before them, and on a large graph a facts map lookup is a cache miss or
 * two: the inference (Engine.inputFacts) and the analysis (LayerCost.load) take it from here.
 */
export function factsFromLast(v: Value, last: Node | null | undefined, lastFacts: readonly (Facts | undefined)[]): Facts | undefined | typeof NOT_LAST {
  if (last === null || last === undefined || v.producer !== last) return NOT_LAST;
  const k = last.outputs.indexOf(v);
  return k >= 0 ? lastFacts[k] : NOT_LAST;
}

/** Same facts: equal types and dims, the same constant tensor, equal partial content. */
function factsEqual(a: Facts | undefined, b: Facts | undefined): boolean {
  if (a === b) return true;
  if (a === undefined || b === undefined) return false;
  return a.elemType === b.elemType && a.value === b.value && dimsEqual(a.shape, b.shape) && dimsEqual(a.partial ?? null, b.partial ?? null) && (a.other === b.other || (a.other !== undefined && b.other !== undefined && typesEqual(a.other, b.other)));
}

/** A dim that is not a negative or unsafe number. */
function validDim(d: Dim): boolean {
  return typeof d !== 'number' || (d >= 0 && Number.isSafeInteger(d));
}

/** No dim is a negative or unsafe number. */
function validDims(s: readonly Dim[]): boolean {
  for (let i = 0; i < s.length; i++) if (!validDim(s[i]!)) return false;
  return true;
}

/**
 * The key of plain facts in Engine.plain: the element type, then each dim (a number, `?` for
 * unknown, a symbol JSON-quoted so no name can imitate another dim list); no dims part for an
 * unknown rank.
 */
function plainKey(elemType: DataType, shape: readonly Dim[] | null): string {
  if (shape === null) return String(elemType);
  let k = `${elemType}:`;
  for (let i = 0; i < shape.length; i++) {
    const d = shape[i];
    k += typeof d === 'number' ? `${d},` : d === null || d === undefined ? '?,' : `${JSON.stringify(d)},`;
  }
  return k;
}

function dimsEqual(a: readonly Dim[] | null, b: readonly Dim[] | null): boolean {
  if (a === b) return true;
  if (a === null || b === null || a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** What RuleMemo keeps for an omitted input. */
const NO_INPUT: unique symbol = Symbol('no input');

/**
 * A rule's last result, given back for the next node it is asked about if the rule would compute
 * the same: nodes of a graph repeat (a chain's blocks, a transformer's layers), and the decoder
 * shares their attributes, the inference interns plain facts, so the inputs of the next Relu are
 * mostly the very objects the last one read. A rule is a function of what it reads through its
 * RuleContext — the node's op type and domain, its attributes, its input and output counts, which
 * inputs are present, and the inputs' facts — and of the engine's opset and algebra (one memo per
 * engine; the algebra reads a dim string a model wrote, "2*N", as one atom until it prints that
 * string itself, so a result holds only in the algebra's epoch it was computed in, and is not
 * kept when its own computation moved the epoch). So a result is kept when the rule ended without an exception or diagnostic (those name
 * the node) and did nothing else (partial content, other types and subgraph facts are new objects
 * per node, or read other values: `unmemoizable`); it is given back when every one of those reads
 * is the same object: the attributes (read-only, their list replaced, never changed, by a
 * change), and each input's facts — except that a constant input (facts with a content, one object
 * per value) is compared by element type and dims when the rule never read its whole facts
 * (`readsContent`: its content cannot have mattered; the facts `out` shares with an output are
 * never such facts). The outputs are facts objects the rule took from `plain` or from an input
 * whose facts are the same object: the same objects the rule would give.
 */
class RuleMemo {
  opType = '';
  domain = '';
  outputCount = 0;
  attrs: readonly Attribute[] = [];
  /** Whether constant inputs are compared as their facts objects (the rule read their content). */
  exact = false;
  /** The algebra's epoch the result was computed in (a dim string may read otherwise in another). */
  epoch = 0;
  /** Per input: its facts (NO_INPUT: omitted), and for a constant input its element type and dims. */
  readonly ins: (Facts | undefined | typeof NO_INPUT)[] = [];
  readonly outs: (Facts | undefined)[] = [];

  constructor(node: Node, ctx: Ctx) {
    this.record(node, ctx);
  }

  record(node: Node, ctx: Ctx): void {
    this.opType = node.opType;
    this.domain = node.domain;
    this.outputCount = ctx.outs.length;
    this.attrs = node._attributeItems;
    this.exact = ctx.readsContent;
    this.epoch = ctx.alg.epoch;
    const ins = node.inputs;
    const n = ins.length;
    const keys = this.ins;
    if (keys.length !== n) keys.length = n;
    for (let i = 0; i < n; i++) keys[i] = ins[i] ? ctx.readFacts(i) : NO_INPUT;
    const outs = this.outs;
    const m = ctx.outs.length;
    if (outs.length !== m) outs.length = m;
    for (let i = 0; i < m; i++) outs[i] = ctx.outs[i];
  }

  /** Whether the rule, asked about `node` (loaded in `ctx`), would read what it read last time. */
  matches(node: Node, ctx: Ctx): boolean {
    if (node.opType !== this.opType || node.domain !== this.domain || ctx.outs.length !== this.outputCount || ctx.alg.epoch !== this.epoch) return false;
    const ins = node.inputs;
    const keys = this.ins;
    const n = ins.length;
    if (n !== keys.length) return false;
    const attrs = node._attributeItems;
    if (attrs !== this.attrs) {
      const mine = this.attrs;
      if (attrs.length !== mine.length) return false;
      for (let i = 0; i < attrs.length; i++) if (attrs[i] !== mine[i]) return false;
    }
    for (let i = 0; i < n; i++) {
      const k = keys[i];
      if (!ins[i]) {
        if (k !== NO_INPUT) return false;
        continue;
      }
      const f = ctx.readFacts(i);
      if (f === k) continue;
      if (this.exact || f === undefined || k === undefined || k === NO_INPUT || !constantFacts(f) || !constantFacts(k) || f.elemType !== k.elemType || f.shape !== k.shape) return false;
    }
    return true;
  }

  replay(ctx: Ctx): void {
    const outs = ctx.outs;
    const mine = this.outs;
    for (let i = 0; i < mine.length; i++) outs[i] = mine[i];
  }
}

/** Facts of a constant only (a content; no partial content, no other type): compared by type and dims in RuleMemo. */
function constantFacts(f: Facts): boolean {
  return f.value !== undefined && f.partial === undefined && f.other === undefined;
}

/** An element type whose constants have integer content for RuleContext.ints (as Engine.intsOf decides). */
function intLike(t: DataType): boolean {
  const kind = knownDataTypeInfo(t)?.kind;
  return kind === 'int' || kind === 'uint' || kind === 'bool';
}

/** The RuleContext of a node visit, loaded node after node (see Engine.visit); collects output facts. */
class Ctx implements RuleContext {
  /** The facts of the node's outputs so far: exactly one entry per output. */
  readonly outs: (Facts | undefined)[] = [];
  readonly opset: number;
  readonly alg: DimAlgebra;
  node!: Node;
  inputCount = 0;
  /** Whether the rule read the whole facts (so possibly the content) of a constant input (see RuleMemo). */
  readsContent = false;
  /** Whether the rule did something the memo cannot replay (partial content, a subgraph, another value's facts). */
  unmemoizable = false;
  #ins: (Facts | undefined)[] | undefined;
  /** The list `facts` reads the inputs' facts into, kept from node to node. */
  readonly #insStore: (Facts | undefined)[] = reusedList();

  constructor(readonly engine: Engine) {
    this.opset = engine.opset;
    this.alg = engine.alg;
  }

  /** Starts the visit of `node`; `ins`: its inputs' facts, when the caller has read them already. */
  load(node: Node, ins: (Facts | undefined)[] | undefined): this {
    this.node = node;
    this.#ins = ins;
    this.readsContent = false;
    this.unmemoizable = false;
    this.inputCount = node.inputs.length;
    const m = node.outputs.length;
    const outs = this.outs;
    if (outs.length !== m) outs.length = m;
    for (let i = 0; i < m; i++) outs[i] = undefined;
    return this;
  }

  has(i: number): boolean {
    return this.node.inputs[i] != null;
  }
  /** The inputs' facts, read once per visit. */
  readFacts(i: number): Facts | undefined {
    // Read once per visit: rules ask for an input's type, shape and content separately, and the
    // inputs' facts cannot change while their reader is visited.
    const ins = (this.#ins ??= this.engine.inputFacts(this.node, this.#insStore));
    return ins[i];
  }
  facts(i: number): Facts | undefined {
    const f = this.readFacts(i);
    // (the whole facts: the rule may read a constant input's content — see RuleMemo)
    if (f !== undefined && f.value !== undefined) this.readsContent = true;
    return f;
  }
  factsOf(v: Value): Facts | undefined {
    this.unmemoizable = true;
    return this.engine.facts.get(v);
  }
  readsGraph(): void {
    this.unmemoizable = true;
  }
  dtype(i: number): DataType {
    return this.readFacts(i)?.elemType ?? DataType.UNDEFINED;
  }
  shape(i: number): readonly Dim[] | null {
    return this.readFacts(i)?.shape ?? null;
  }
  rank(i: number): number | undefined {
    return this.shape(i)?.length;
  }
  value(i: number): Tensor | undefined {
    return this.facts(i)?.value;
  }
  ints(i: number): readonly Dim[] | undefined {
    const f = this.readFacts(i);
    if (f === undefined) return undefined;
    // A constant of a non-integer element type (every bias an Add reads) has none: known from
    // its element type alone, without reading its content (intsOf decides the same way).
    if (f.partial === undefined && f.value !== undefined && f.value.dtype === f.elemType && !intLike(f.elemType)) return undefined;
    return this.engine.intsOf(this.facts(i)!);
  }
  exactInts(i: number): number[] | undefined {
    const p = this.ints(i);
    return p && p.every((d) => typeof d === 'number') ? (p as number[]) : undefined;
  }
  floats(i: number): number[] | undefined {
    const t = this.value(i);
    if (!t || t.size > MAX_PARTIAL || t.dtype === DataType.STRING) return undefined;
    const kind = knownDataTypeInfo(t.dtype)?.kind;
    if (kind !== 'float' && kind !== 'int' && kind !== 'uint') return undefined;
    return Array.from(t.toFloat64());
  }

  out(i: number, elemType: DataType, shape: readonly Dim[] | null): void {
    if (i >= this.outs.length) return;
    let type = elemType;
    if (type !== DataType.UNDEFINED && !isDefinedDataType(type)) {
      this.engine.diag('warning', 'unknown-dtype', `${this.node.describe()}: output ${i} would have element type ${dataTypeName(type)}, which ONNX does not define; it is unknown`, this.node);
      type = DataType.UNDEFINED;
    }
    let s = shape;
    if (s && s.length > MAX_RANK) {
      this.engine.diag('warning', 'rank-limit', `${this.node.describe()}: output ${i} would have rank ${s.length}, above the limit of ${MAX_RANK}; its shape is unknown`, this.node);
      s = null;
    }
    if (s && !validDims(s)) {
      this.mismatch(`computed an invalid output shape [${s.join(',')}]`);
      s = s.map((d) => (validDim(d) ? d : null));
    }
    this.outs[i] = this.#inputFactsLike(type, s) ?? this.engine.plain(type, s);
  }

  /**
   * The facts of an input that are exactly { elemType, shape } (equal dims, no content, no
   * partial content, no other type), to be shared by the output instead of a new object and
   * array per value: an element-wise op, a MatMul keeping its input's shape. Facts are never
   * mutated, so sharing them is safe, and on a 100k-node chain it saves ≈100k objects and arrays
   * that would each survive into the old generation (collector time and memory).
   */
  #inputFactsLike(elemType: DataType, shape: readonly Dim[] | null): Facts | undefined {
    const n = this.inputCount;
    for (let i = 0; i < n; i++) {
      const f = this.readFacts(i);
      if (f !== undefined && f.elemType === elemType && f.value === undefined && f.partial === undefined && f.other === undefined && dimsEqual(f.shape, shape)) return f;
    }
    return undefined;
  }

  unknownDims(count: Dim | undefined): Dim[] | null {
    if (typeof count !== 'number' || !Number.isSafeInteger(count) || count < 0) return null;
    if (count > MAX_RANK) {
      this.engine.diag('warning', 'rank-limit', `${this.node.describe()}: the output rank would be ${count} (the length of a shape input), above the limit of ${MAX_RANK}; its shape is unknown`, this.node);
      return null;
    }
    return new Array<Dim>(count).fill(null);
  }

  partial(i: number, values: readonly Dim[]): void {
    // (new facts objects and tensors per call: a value's own, not to be shared through the memo)
    this.unmemoizable = true;
    const o = this.outs[i];
    if (!o || values.length > MAX_PARTIAL) return;
    let value: Tensor | undefined;
    const rank = o.shape?.length ?? 1;
    if ((o.elemType === DataType.INT64 || o.elemType === DataType.INT32) && rank <= 1 && values.every((d) => typeof d === 'number' && Number.isSafeInteger(d))) {
      if (rank === 0 && values.length !== 1) return;
      value = Tensor.fromNumbers(o.elemType, rank === 0 ? [] : [values.length], values as number[]);
    }
    this.outs[i] = { ...o, shape: o.shape ?? [values.length], partial: values, ...(value ? { value } : {}) };
  }

  outOther(i: number, type: TypeInfo): void {
    this.unmemoizable = true;
    if (i < this.outs.length) this.outs[i] = { elemType: DataType.UNDEFINED, shape: null, other: type };
  }

  setFacts(i: number, f: Facts): void {
    this.unmemoizable = true;
    if (i >= this.outs.length) return;
    const prev = this.outs[i];
    // Keep symbolic content a rule derived when evaluation produced the same values anyway.
    const partial = f.partial ?? (f.value ? undefined : prev?.partial);
    this.outs[i] = partial ? { ...f, partial } : f;
  }

  mismatch(message: string): void {
    this.engine.diag('warning', 'shape-mismatch', `${this.node.describe()}: ${message}`, this.node);
  }

  unresolved(message: string): void {
    this.engine.diag('info', 'unresolved-shape', `${this.node.describe()}: ${message}; dependent dims are unknown`, this.node);
  }

  subgraph(g: Graph, inputs: readonly (Facts | undefined)[]): (Facts | undefined)[] {
    this.unmemoizable = true;
    return this.engine.runGraph(g, inputs);
  }
}
