/**
 * RewriteSession: the one primitive every rewrite goes through (after tract's ModelPatch and the
 * onnxscript rewriter's match → check → replace).
 *
 * A pass finds a match, checks it (declining with a reason code via `decline`), builds the
 * replacement nodes/initializers, and hands them to `apply`, which
 *   1. validates first and changes nothing if the rewrite is unsafe (an output of a removed node
 *      still used elsewhere, a graph output whose name cannot be kept, the change budget spent);
 *   2. inserts the new nodes before the anchor (the last removed node by default), registers new
 *      initializers, stamps the rule in `metadataProps['onnxkit.rule']`;
 *   3. rewires every use of each replaced value, keeping graph-output names (the replacement
 *      takes the old name, or the rewrite is declined — two outputs never merge into one);
 *   4. removes the matched nodes with `graph.remove(..., { safe: true })`, then the initializers
 *      and Constant nodes only they used;
 *   5. records a ChangeRecord and calls the manager's `afterChange` hook (verify in 'change' mode).
 * A patch may also replace an initializer (fp16-weights, quantize-weights-int8, merging duplicate
 * initializers): it leaves the graph. Changes that are not patterns (dropping dead nodes and
 * initializers, convert-fp16's whole-graph conversion) use `mutate`, which does the budget check,
 * the counting and the hook the same way, and checks locally a change that says what it touched
 * (nodes removed and inserted, values rewired and renamed, initializers removed and retyped).
 */
import { AttributeType, type Graph, type Model, type Node, type Tensor, Value } from '@onnxkit/graph';
import { Facts } from './facts.js';
import { countPatch, countRemovedConstant } from './op-counts.js';
import { nodeLabel } from './util.js';
import { PatchTracker, type AppliedPatch } from './local-verify.js';
import type { ApplyReason } from './rule.js';
import { MAX_DECLINE_RECORDS, type ChangeRecord, type ChangeScope, type DeclineRecord, type PassContext, type PassOptions, type PassResult } from './types.js';

/**
 * A node-pattern rewrite. `apply` reads it and its arrays during the call and keeps none of them
 * (the change record and the reports it makes are its own; the record holds `details` itself), so
 * a rule may refill one patch for each candidate (eliminate-identity's bypass does).
 */
export interface Rewrite {
  /** Rule name, stamped on new nodes and shown by `--explain`. */
  rule: string;
  /** Matched nodes to remove, in graph order. */
  remove: readonly Node[];
  /**
   * (old value, new value): every use of old (and its graph-output slot) moves to new. The old
   * value is an output of a removed node, or an initializer of the graph (not a graph input or
   * output, not bound by training_info), which then leaves the graph: a weight the patch stores
   * another way (fp16-weights, quantize-weights-int8), its name taken by its replacement.
   */
  replace: ReadonlyArray<readonly [Value, Value]>;
  /** New nodes, in order; inserted before `insertBefore`. */
  add?: readonly Node[];
  /**
   * The inputs of `add[i]` (one entry per new node), set once the matched nodes have left the
   * graph; such a node is built without inputs. A value a removed node reads and a new node reads
   * then goes from one use to one use, not through a list of two (and the one-element list it
   * would keep): what a fusion's operands do.
   */
  inputs?: ReadonlyArray<readonly (Value | null)[]>;
  /**
   * Anchor for insertion; defaults to the last node of `remove`. A patch that removes no node gives
   * one: the graph's first node puts new nodes that read only initializers before every reader of
   * a replaced initializer (no re-sort).
   */
  insertBefore?: Node;
  /** New initializer values (constValue set, unique names from `freshName`). */
  initializers?: readonly Value[];
  /** What happened, for `--explain`. */
  description: string;
  details?: Record<string, unknown>;
}

/** What a `mutate` closure returns: the counts of its change record, and what it touched. */
export interface MutationResult {
  /** Labels of the nodes it added (a change that adds nodes is checked locally only when `touched.addedNodes` lists them). */
  added?: string[];
  /** Labels of the nodes it removed. */
  removed?: string[];
  bytesDelta?: number;
  details?: Record<string, unknown>;
  /** What it touched, for the local check (see `mutate`). */
  touched?: MutationTouched;
}

/** What a `mutate` touched (see `mutate`): every change to the graph it made, listed. */
export interface MutationTouched {
  /** Nodes it took out of the graph. */
  readonly removedNodes?: readonly Node[];
  /** Values whose use lists it changed: their readers were rewired elsewhere (or removed). */
  readonly released?: readonly Value[];
  /** Initializers it removed. */
  readonly removedInitializers?: readonly Value[];
  /**
   * Nodes it inserted (the same ones as `added`), checked as a patch's new nodes are, with the
   * readers of their outputs. Their output names come from `freshName` during the change or are
   * names that left with it (`renamed`).
   */
  readonly addedNodes?: readonly Node[];
  /** Existing values it renamed, with their previous names (which leave the graph; a new value may take one). */
  readonly renamed?: ReadonlyArray<readonly [value: Value, previous: string]>;
  /** Initializers whose tensor or declared type it replaced in place (I6 is checked again). */
  readonly retyped?: readonly Value[];
}

export type ApplyOutcome = { ok: true; record: ChangeRecord } | { ok: false; reason: ApplyReason; detail: string };

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** Why `apply` declined a patch: a reason and a detail (the rule driver's decline tuple). */
export type ApplyDecline = readonly [reason: ApplyReason, detail: string];

/** The decline of a patch past the change budget (one frozen tuple). */
const BUDGET_SPENT: ApplyDecline = Object.freeze(['stopped-after-n-changes', 'change budget reached'] as const);

/**
 * `why`, once the new nodes of the declined patch `rw` read nothing: a rule builds them before
 * the patch is checked, and a node outside any graph must not stay a use of the values it reads
 * (verify's I12: a use by a node that is not in the graph).
 */
function declined(rw: Rewrite, why: ApplyDecline): ApplyDecline {
  const added = rw.add;
  if (added !== undefined) for (let i = 0; i < added.length; i++) if (added[i]!.graph === null && added[i]!.inputs.length > 0) added[i]!.setInputs(NONE);
  return why;
}

/** What #apply returned: a decline (an array) rather than a record. */
function isDeclined(r: ChangeRecord | ApplyDecline): r is ApplyDecline {
  return Array.isArray(r);
}

const RULE_KEY = 'onnxkit.rule';
/** Option objects of the graph primitives apply calls once per change (made once). */
const WITH_OUTPUTS = Object.freeze({ outputs: true });
const SAFE = Object.freeze({ safe: true });
const NONE: readonly never[] = Object.freeze([]);
/**
 * The empty node list of a bypass's report and facts update: not frozen (never written either),
 * so that the code reading it sees the array map of a fusion's `add` list, not a second one.
 */
const NO_NODES: readonly Node[] = [];
/** The shared empty name list of change records (frozen: records are read-only). */
const NO_NAMES = Object.freeze([]) as readonly string[] as string[];
/** The shared empty value list (frozen: never written). */
const NO_VALUES = Object.freeze([]) as readonly Value[] as Value[];

/**
 * `list` with `name` added when a change gave it (not empty, not one freshName minted during the
 * change: those are claimed once, here); NO_NAMES stays shared until a first name is added. A
 * function, not a closure per change: eliminate-dead-code makes one change per dead node.
 */
function givenName(list: string[], name: string, minting: Set<string> | undefined): string[] {
  if (name === '' || minting?.delete(name) === true) return list;
  const out = list === NO_NAMES ? [] : list;
  out.push(name);
  return out;
}

/**
 * `R` is the union of reasons the pass may decline with (see rule.ts); `decline` accepts only
 * those, so a misspelt reason fails typecheck.
 */
export class RewriteSession<R extends string = string> {
  readonly pass: string;
  readonly model: Model;
  readonly ctx: PassContext;
  changes = 0;
  nodesAdded = 0;
  nodesRemoved = 0;
  readonly rejected: Record<string, number> = {};
  readonly log: ChangeRecord[] = [];
  readonly declined: DeclineRecord[] = [];
  readonly metrics: Record<string, unknown> = {};
  /** Set once the change budget is spent; passes stop looking for work. */
  stopped = false;
  readonly #sortNeeded = new Set<Graph>();
  #names: Set<string> | undefined;
  /** Whether a `mutate` is running (freshName then notes the names it hands out in #minting). */
  #mutating = false;
  /** Names `freshName` handed out during the running `mutate` (each may name one value it introduced); made on the first. */
  #minting: Set<string> | undefined;
  /**
   * The values of many uses `mutate`'s local checks left to one walk of their uses, at `finish`
   * (PatchTracker.checkChange says why that detects what a walk per change did).
   */
  #walkLater: Set<Value> | undefined;
  readonly #suffix = new Map<string, number>();
  readonly #preferred = new WeakMap<Value, string>();
  /**
   * Initializers `newInitializer` made: their names come from `freshName` (or are a preferred
   * name it found unused), unused anywhere in the model, so a patch does not list them among the
   * names it introduces (AppliedPatch.introduced): the closing check need not decide them.
   */
  readonly #minted = new WeakSet<Value>();
  #facts: Facts | undefined;
  readonly #t0 = performance.now();
  #bytesDelta = 0;
  #graphs: Graph[] | undefined;
  /** The report `onPatch` is given, refilled for each patch (see PassContext.onPatch). */
  readonly #applied: Mutable<AppliedPatch> = { graph: null as unknown as Graph, added: NONE, replaced: [], released: NO_VALUES, values: NO_VALUES, left: NO_NAMES, introduced: NO_NAMES, initializers: NONE, nodesRemoved: 0, initializersDelta: 0 };
  /**
   * Lists #apply fills for each patch and keeps none of once it returns (the removed nodes'
   * inputs, the values the report says it touched), by length: a list of its exact length made
   * once per session and refilled, not a new one per change (two of the few arrays a change
   * still allocated). Read by onPatch during the call only (PassContext.onPatch).
   */
  readonly #released: Value[][] = [];
  readonly #touched: Value[][] = [];

  /** What the last #dropOrphans removed besides nodes: tensor bytes, initializers. */
  #orphanBytes = 0;
  #orphanInitializers = 0;

  constructor(pass: string, model: Model, ctx: PassContext) {
    this.pass = pass;
    this.model = model;
    this.ctx = ctx;
  }

  /**
   * The graphs a pass rewrites: the main graph and its subgraphs (If/Loop/Scan bodies), not
   * function bodies (their outputs are a contract with callers) nor training graphs. Computed
   * once per pass run; graphs of nodes removed meanwhile are skipped by the passes.
   */
  get graphs(): readonly Graph[] {
    if (this.#graphs) return this.#graphs;
    const shared = this.ctx.shared;
    const cached = shared?.graphs as Graph[] | undefined;
    this.#graphs = cached ?? withSubgraphs(this.model.graph);
    if (shared && !cached) shared.graphs = this.#graphs;
    return this.#graphs;
  }

  /**
   * `graphs` as a pass walks them: a subgraph whose owning node an earlier change of this run
   * removed is skipped when it is reached (its nodes are no longer in the model).
   */
  *liveGraphs(): Generator<Graph> {
    for (const g of this.graphs) if (isLiveGraph(g)) yield g;
  }

  /** What changed since this pass's last quiet run, when the manager knows (PassContext.scope). */
  get scope(): ChangeScope | undefined {
    return this.ctx.scope;
  }

  get options(): PassOptions {
    return this.ctx.options;
  }

  /** Shape/type/constant facts for this pass run (inference runs once, lazily). */
  get facts(): Facts {
    if (this.#facts) return this.#facts;
    // Facts inferred by an earlier pass run stay true while nothing has changed since.
    const shared = this.ctx.shared;
    const cached = shared?.facts as Facts | undefined;
    cached?.beginRun();
    this.#facts = cached ?? new Facts(this.model, this.ctx.inputShapes);
    if (shared && !cached) shared.facts = this.#facts;
    return this.#facts;
  }

  /** Opset of the default domain. */
  get opset(): number {
    return this.model.opsetVersion('') ?? 1;
  }

  /** Records a declined candidate; `reason` is a stable code, `detail` says which value/attribute. */
  decline(node: Node | null, reason: R | ApplyReason, detail = ''): void {
    this.rejected[reason] = (this.rejected[reason] ?? 0) + 1;
    if (this.declined.length < MAX_DECLINE_RECORDS) {
      this.declined.push({ pass: this.pass, node: node ? nodeLabel(node) : '', opType: node?.opType ?? '', reason, detail });
    }
  }

  /** A value name unused anywhere in the model (main graph, subgraphs, functions). */
  freshName(base: string): string {
    const names = (this.#names ??= collectNames(this.model));
    let name = base || 'v';
    if (!names.has(name)) {
      names.add(name);
      if (this.#mutating) (this.#minting ??= new Set()).add(name);
      return name;
    }
    // Continue after the last suffix handed out for this base: many unnamed nodes share a base
    // ('reshape_shape', …) and restarting at 1 each time made n names cost O(n²).
    let k = this.#suffix.get(base) ?? 0;
    do name = `${base}__${++k}`;
    while (names.has(name));
    this.#suffix.set(base, k);
    names.add(name);
    if (this.#mutating) (this.#minting ??= new Set()).add(name);
    return name;
  }

  /**
   * The output name of a new value that replaces `old` in a patch: `old`'s own name, which `apply`
   * gives a fresh replacement anyway (so a temporary fresh name, and the model-wide name index it
   * needs, would be thrown away), or a fresh name from `base` when `old` is unnamed. Until the
   * patch is applied the two values share the name; a declined patch inserts nothing.
   */
  replacementName(old: Value, base: string): string {
    return old.name || this.freshName(base);
  }

  /** A new initializer value (not yet registered; pass it in `Rewrite.initializers`). */
  newInitializer(base: string, tensor: Tensor): Value {
    const name = this.freshName(base);
    const v = new Value({ name, constValue: tensor.name === name ? tensor : tensor.with({ name }), type: { kind: 'tensor', elemType: tensor.dtype, shape: tensor.dims } });
    // The base name is usually the weight being replaced: take it over once that one is gone.
    if (name !== base && base) this.#preferred.set(v, base);
    this.#minted.add(v);
    return v;
  }

  /** True while the manager's change budget allows another change. */
  mayChange(): boolean {
    if (this.stopped) return false;
    if (!this.ctx.mayChange()) {
      this.stopped = true;
      this.rejected['stopped-after-n-changes'] = (this.rejected['stopped-after-n-changes'] ?? 0) + 1;
      return false;
    }
    return true;
  }

  /** The session's list of `length` elements from `by` (see #released), made on first use. */
  #scratch(by: Value[][], length: number): Value[] {
    return (by[length] ??= new Array<Value>(length));
  }

  /** Applies a node-pattern rewrite, or changes nothing and returns why not. */
  apply(graph: Graph, rw: Rewrite): ApplyOutcome {
    const r = isPlainBypass(rw) ? this.#applyBypass(graph, rw) : this.#apply(graph, rw);
    return isDeclined(r) ? { ok: false, reason: r[0], detail: r[1] } : { ok: true, record: r };
  }

  /**
   * `apply` for callers that need only the outcome (the rule driver, once per candidate):
   * undefined when applied, else the decline. No outcome object per change.
   */
  tryApply(graph: Graph, rw: Rewrite): ApplyDecline | undefined {
    const r = isPlainBypass(rw) ? this.#applyBypass(graph, rw) : this.#apply(graph, rw);
    return isDeclined(r) ? r : undefined;
  }

  /**
   * #apply for a bypass (`isPlainBypass`: one node removed, one of its outputs replaced by an
   * existing value, nothing added or wired): the same steps with the same results — record,
   * report, names, facts — with the general case's loops over added nodes, initializers and
   * renamed values left out. Its own function, so that each is optimised for the patches it
   * sees: with one function for both, the code TurboFan made during eliminate-identity's 40,000
   * bypasses on the 100k-node chain was thrown away at the first fusion (another patch shape,
   * paths never run before) and #apply, the largest function of the rule passes, was compiled
   * again. The record and the touched values are made by the same two helpers (#record,
   * #touchedValues), small enough to recompile cheaply. (Below 50,000 nodes the CLI keeps functions
   * of LARGE_FUNCTION_BYTES of bytecode or more out of TurboFan, #apply among them:
   * packages/cli/src/heap.ts. This one, ≈ 1,100 bytes, is compiled there too; whole `optimize --json` processes on the 10k and 20k chains showed no difference
   * beyond the noise: 10k 0.43 s against 0.44 s without it, 9 pairs; 20k 0.63 against 0.65 s,
   * 15 pairs, load ≈ 8.)
   */
  #applyBypass(graph: Graph, rw: Rewrite): ChangeRecord | ApplyDecline {
    const remove = rw.remove;
    const replace = rw.replace;
    const n = remove[0]!;
    const oldV = replace[0]![0];
    const newV = replace[0]![1];
    const problem = validateBypass(graph, n, oldV, newV);
    if (problem) return problem;
    if (!this.mayChange()) return BUDGET_SPENT;

    let bytes = 0;
    bytes -= constantNodeBytes(n);
    // The removed node's inputs, each once (see #apply).
    const ins = n.inputs;
    const slots = ins.length;
    let inputsOfRemoved = this.#scratch(this.#released, slots);
    let nIns = 0;
    for (let k = 0; k < slots; k++) {
      const v = ins[k];
      if (!v) continue;
      let seen = false;
      for (let j = 0; j < nIns && !seen; j++) seen = inputsOfRemoved[j] === v;
      if (!seen) inputsOfRemoved[nIns++] = v;
    }
    if (nIns < slots) inputsOfRemoved = inputsOfRemoved.slice(0, nIns);
    const removedNames = new Array<string>(1);
    removedNames[0] = nodeLabel(n);
    graph.remove(n);
    countPatch(this.ctx.shared, graph, NO_NODES, remove);

    // A graph output keeps its name: the existing value takes it (validateBypass checked it may).
    const output = oldV.isGraphOutput;
    let name: string | undefined;
    if (output) {
      name = oldV.name;
      if (!newV.type && oldV.type) newV.type = oldV.type;
    }
    oldV.replaceAllUsesWith(newV, WITH_OUTPUTS);

    const onPatch = this.ctx.onPatch;
    let left: string[] | undefined;
    let renamedFrom: string | undefined;
    let renamed = false;
    if (name !== undefined && !newV.isInitializer) {
      if (onPatch && newV.name !== name) {
        renamedFrom = newV.name || undefined;
        renamed = true;
      }
      this.#rename(graph, newV, name);
    }
    if (onPatch && renamed) {
      let named = renamedFrom !== undefined ? 1 : 0;
      const outs = n.outputs;
      for (let k = 0; k < outs.length; k++) if (outs[k]!.name) named++;
      left = new Array<string>(named);
      named = 0;
      for (let k = 0; k < outs.length; k++) if (outs[k]!.name) left[named++] = outs[k]!.name;
      if (renamedFrom !== undefined) left[named++] = renamedFrom;
    }
    const cleanedNodes = this.#dropOrphans(inputsOfRemoved, left);
    bytes -= this.#orphanBytes;
    const touchedInputs = inputsOfRemoved;

    const record = this.#record(rw, graph, cleanedNodes.length === 0 ? removedNames : [...removedNames, ...cleanedNodes], NO_NAMES, bytes);
    this.nodesRemoved += 1 + cleanedNodes.length;
    if (onPatch) {
      const values = this.#touchedValues(touchedInputs, renamed ? [newV] : undefined, replace);
      let introduced = NO_NAMES;
      if (renamed) {
        introduced = new Array<string>(1);
        introduced[0] = name!;
      }
      this.#report(onPatch, graph, NO_NODES, replace, touchedInputs, values, left ?? NO_NAMES, introduced, NO_VALUES, 1 + cleanedNodes.length, 0 - this.#orphanInitializers);
    }
    this.#commitPatch(graph, record, NO_NODES, replace, NO_VALUES, remove);
    return record;
  }

  #apply(graph: Graph, rw: Rewrite): ChangeRecord | ApplyDecline {
    if (rw.inputs !== undefined && rw.inputs.length !== (rw.add?.length ?? 0)) {
      throw new Error(`rule '${rw.rule}': Rewrite.inputs lists ${rw.inputs.length} input list(s) for ${rw.add?.length ?? 0} new node(s)`);
    }
    const problem = isBypass(rw) ? validateBypass(graph, rw.remove[0]!, rw.replace[0]![0], rw.replace[0]![1]) : this.#validate(graph, rw);
    if (problem) return declined(rw, problem);
    if (!this.mayChange()) return declined(rw, BUDGET_SPENT);

    // Patches are small (a few nodes): membership is a scan of the patch's own arrays, so a
    // rewrite allocates no Set or Map of its own (60,000 rewrites on a 100k-node chain). Loops
    // are indexed: this runs once per change, often before it is optimised, and an array
    // iterator allocates a result per step until then.
    const added = rw.add ?? NONE;
    const inits = rw.initializers ?? NONE;
    const remove = rw.remove;
    const replace = rw.replace;

    let bytes = 0;
    for (let i = 0; i < inits.length; i++) bytes += inits[i]!.constValue?.byteLength ?? 0;
    for (let i = 0; i < remove.length; i++) bytes -= constantNodeBytes(remove[i]!);
    const anchor = rw.insertBefore ?? remove[remove.length - 1];
    for (let i = 0; i < added.length; i++) {
      const n = added[i]!;
      if (anchor) graph.insertBefore(anchor, n);
      else graph.append(n);
      n.metadataProps.set(RULE_KEY, rw.rule);
    }

    // Arrays below are allocated at their size: a literal `[]` grows to 17 slots on its first
    // push, and these few-element arrays were most of the 1.2 KB a change allocated.
    // The removed nodes' inputs, each once, in first-seen order (what #dropOrphans walks).
    let slots = 0;
    for (let i = 0; i < remove.length; i++) slots += remove[i]!.inputs.length;
    let inputsOfRemoved = this.#scratch(this.#released, slots);
    let nIns = 0;
    const removedNames = new Array<string>(remove.length);
    for (let i = 0; i < remove.length; i++) {
      const ins = remove[i]!.inputs;
      for (let k = 0; k < ins.length; k++) {
        const v = ins[k];
        if (!v) continue;
        let seen = false;
        for (let j = 0; j < nIns && !seen; j++) seen = inputsOfRemoved[j] === v;
        if (!seen) inputsOfRemoved[nIns++] = v;
      }
      removedNames[i] = nodeLabel(remove[i]!);
    }
    // Omitted inputs or one read twice (seldom): a list of its own, of the length read.
    if (nIns < slots) inputsOfRemoved = inputsOfRemoved.slice(0, nIns);
    // The matched nodes leave before their outputs' readers are rewired: the inputs they read
    // lose those uses first, so a value a removed node is bypassed to (its own input) goes from
    // one use to one use instead of through a list of two (and the one-element list it would
    // keep). Graph.remove releases the removed nodes' subgraph captures itself. #validate
    // established what `{ safe: true }` would check again (no output of a removed node is a graph
    // output or read by a node that stays, once the replaced values are rewired), so each node
    // takes Graph.remove's unchecked one-node path: no list copy and no Set per patch.
    for (let i = 0; i < remove.length; i++) graph.remove(remove[i]!);
    countPatch(this.ctx.shared, graph, added, remove);
    const wire = rw.inputs;
    if (wire !== undefined) for (let i = 0; i < wire.length; i++) added[i]!.setInputs(wire[i]!);

    // Initializers the patch replaced (and dropped), seldom any.
    let droppedInits: Value[] | undefined;
    let dropped = 0;
    // Values that take a name: parallel arrays in insertion order (a Map per patch cost more).
    let renV: Value[] | undefined;
    let renN: string[] | undefined;
    for (let i = 0; i < replace.length; i++) {
      const oldV = replace[i]![0];
      const newV = replace[i]![1];
      let name: string | undefined;
      if (oldV.isGraphOutput) {
        name = oldV.name;
        if (!newV.type && oldV.type) newV.type = oldV.type;
      } else if (oldV.name && isFresh(newV, added, inits)) {
        // Fresh values inherit the replaced name so names stay stable across rewrites.
        name = oldV.name;
      }
      if (name !== undefined) {
        const at = renV === undefined ? -1 : renV.indexOf(newV);
        if (at >= 0) renN![at] = name;
        else if (renV === undefined) {
          renV = [newV];
          renN = [name];
        } else {
          renV.push(newV);
          renN!.push(name);
        }
      }
      oldV.replaceAllUsesWith(newV, WITH_OUTPUTS);
      const op = oldV.producer;
      if (op === null) {
        // A replaced initializer (#validate checked it may leave): it goes before the renames
        // below, which may give its name to its replacement. (This branch, the minted-name test
        // and the report's #fill cost the 100k-node chain nothing measurable: whole `optimize -q`
        // processes against main's build, 8 alternating pairs, load ≈ 5: user CPU medians 1.23 →
        // 1.26 s, elapsed 1.48 → 1.46 s, peak RSS 139 → 138 MB; `rules.bench.mjs --pipeline
        // 100000`, 3 pairs: 877 → 881 ms. #apply: 3,446 → 3,761 bytes of bytecode.)
        graph.removeInitializer(oldV.name);
        bytes -= oldV.constValue?.byteLength ?? 0;
        (droppedInits ??= []).push(oldV);
        dropped++;
      }
      // A replacement made by a new node is placed before the anchor; a consumer of an old value
      // produced earlier than the anchor could now precede it — restore order once at the end.
      // (Not when the old value is an initializer and the new nodes went first in the graph.)
      if (newV.producer && added.includes(newV.producer) && op !== anchor && (op !== null || added[0]!.prev !== null)) this.#sortNeeded.add(graph);
    }

    // What the patch touched, for the manager's closing check (local-verify.ts). The names that
    // left are listed only for a patch that introduces names (the check reads them only then):
    // a bypass introduces none, and its list was an array per change for nothing.
    const onPatch = this.ctx.onPatch;
    let left: string[] | undefined;
    let introduced: string[] = NO_NAMES;
    let renamedValues: Value[] | undefined;
    let renamedFrom: string[] | undefined;
    let fresh = 0;
    if (onPatch) {
      fresh = inits.length;
      for (let i = 0; i < added.length; i++) {
        const outs = added[i]!.outputs;
        for (let k = 0; k < outs.length; k++) if (outs[k]!.name) fresh++;
      }
      if (fresh > 0) introduced = new Array<string>(fresh);
    }
    // Names an existing value takes from a graph output (listed after the new outputs').
    let renamedTo: string[] | undefined;
    if (renV) {
      for (let r = 0; r < renV.length; r++) {
        const v = renV[r]!;
        const name = renN![r]!;
        if (v.isInitializer || inits.includes(v)) continue;
        if (onPatch && v.name !== name && !(v.producer !== null && added.includes(v.producer))) {
          // An existing value takes a graph output's name: its own name leaves.
          if (v.name) (renamedFrom ??= []).push(v.name);
          (renamedTo ??= []).push(name);
          (renamedValues ??= []).push(v);
        }
        this.#rename(graph, v, name);
      }
    }
    if (onPatch && (fresh > 0 || renamedTo !== undefined)) {
      let named = (renamedFrom?.length ?? 0) + dropped;
      for (let i = 0; i < remove.length; i++) {
        const outs = remove[i]!.outputs;
        for (let k = 0; k < outs.length; k++) if (outs[k]!.name) named++;
      }
      left = new Array<string>(named);
      named = 0;
      for (let i = 0; i < remove.length; i++) {
        const outs = remove[i]!.outputs;
        for (let k = 0; k < outs.length; k++) if (outs[k]!.name) left[named++] = outs[k]!.name;
      }
      if (renamedFrom) for (let i = 0; i < renamedFrom.length; i++) left[named++] = renamedFrom[i]!;
      if (droppedInits) for (let i = 0; i < droppedInits.length; i++) left[named++] = droppedInits[i]!.name;
    }
    // #dropOrphans reads the inputs without consuming them (onPatch reads them again below).
    const cleanedNodes = this.#dropOrphans(inputsOfRemoved, left);
    bytes -= this.#orphanBytes;
    const touchedInputs = inputsOfRemoved;
    // New initializers are registered last, under their final names: the name of the value they
    // replace, or the weight they supersede once that one is gone. (Renaming a registered
    // initializer would cost a pass over the initializer map each time.) `minted`: those whose
    // name the session minted (see #minted), by position.
    let minted = 0;
    for (let i = 0; i < inits.length; i++) {
      const v = inits[i]!;
      const at = renV === undefined ? -1 : renV.indexOf(v);
      const adopt = at >= 0 ? renN![at] : undefined;
      if (adopt === undefined && i < 31 && this.#minted.has(v)) minted |= 1 << i;
      const want = adopt ?? this.#preferred.get(v);
      if (want !== undefined && want !== v.name && (adopt !== undefined || (this.#names !== undefined && !this.#names.has(want)))) {
        v.name = want;
        this.#names?.add(want);
      }
      if (v.constValue && v.constValue.name !== v.name) v.constValue = v.constValue.with({ name: v.name });
      graph.addInitializer(v);
    }

    let addedNames = NO_NAMES;
    if (added.length > 0) {
      addedNames = new Array<string>(added.length);
      for (let i = 0; i < added.length; i++) addedNames[i] = nodeLabel(added[i]!);
    }
    const record = this.#record(rw, graph, cleanedNodes.length === 0 ? removedNames : [...removedNames, ...cleanedNodes], addedNames, bytes);
    this.nodesAdded += added.length;
    this.nodesRemoved += remove.length + cleanedNodes.length;
    if (onPatch) {
      let f = 0;
      for (let i = 0; i < added.length; i++) {
        const outs = added[i]!.outputs;
        for (let k = 0; k < outs.length; k++) if (outs[k]!.name) introduced[f++] = outs[k]!.name;
      }
      for (let i = 0; i < inits.length; i++) if (((minted >>> i) & 1) === 0) introduced[f++] = inits[i]!.name;
      if (f === 0) introduced = NO_NAMES;
      else if (f < introduced.length) introduced.length = f;
      if (renamedTo) introduced = introduced === NO_NAMES ? renamedTo : introduced.concat(renamedTo);
      const values = this.#touchedValues(touchedInputs, renamedValues, replace);
      this.#report(onPatch, graph, added, replace, touchedInputs, values, left ?? NO_NAMES, introduced, inits, remove.length + cleanedNodes.length, inits.length - this.#orphanInitializers - dropped);
    }
    this.#commitPatch(graph, record, added, replace, inits, remove);
    return record;
  }

  /**
   * Tells the manager what a patch touched (#apply, #applyBypass): one report object per session,
   * refilled (onPatch reads it during the call; see PassContext.onPatch).
   */
  #report(onPatch: (p: AppliedPatch) => void, graph: Graph, added: readonly Node[], replaced: Rewrite['replace'], released: readonly Value[], values: readonly Value[], left: readonly string[], introduced: readonly string[], initializers: readonly Value[], nodesRemoved: number, initializersDelta: number): void {
    this.#fill(graph, added, replaced, released, values, left, introduced, initializers, nodesRemoved, initializersDelta);
    onPatch(this.#applied);
  }

  /** Refills the session's report object (see #report). */
  #fill(graph: Graph, added: readonly Node[], replaced: Rewrite['replace'], released: readonly Value[], values: readonly Value[], left: readonly string[], introduced: readonly string[], initializers: readonly Value[], nodesRemoved: number, initializersDelta: number): void {
    const p = this.#applied;
    p.graph = graph;
    p.added = added;
    p.replaced = replaced;
    p.released = released;
    p.values = values;
    p.left = left;
    p.introduced = introduced;
    p.initializers = initializers;
    p.nodesRemoved = nodesRemoved;
    p.initializersDelta = initializersDelta;
  }

  /** A patch's change record (#apply, #applyBypass); `details` only when the rewrite gives some. */
  #record(rw: Rewrite, graph: Graph, removed: string[], added: string[], bytes: number): ChangeRecord {
    return rw.details
      ? { pass: this.pass, rule: rw.rule, removed, added, graph: graph.name, description: flat(rw.description), bytesDelta: bytes, details: rw.details }
      : { pass: this.pass, rule: rw.rule, removed, added, graph: graph.name, description: flat(rw.description), bytesDelta: bytes };
  }

  /**
   * The values a patch touched, for its report (AppliedPatch.values; #apply, #applyBypass): the
   * existing values it renamed (`renamed`: their names changed), then the removed nodes' inputs
   * still read or still graph outputs (their use lists changed), except a value something was
   * rewired to. In a session list (#touched) the report holds during the call only.
   */
  #touchedValues(released: readonly Value[], renamed: readonly Value[] | undefined, replace: Rewrite['replace']): Value[] {
    let touched = renamed?.length ?? 0;
    for (let i = 0; i < released.length; i++) {
      const v = released[i]!;
      if ((v.useCount > 0 || v.isGraphOutput) && !isRewired(v, replace)) touched++;
    }
    if (touched === 0) return NO_VALUES;
    const values = this.#scratch(this.#touched, touched);
    let t = 0;
    if (renamed) for (let i = 0; i < renamed.length; i++) values[t++] = renamed[i]!;
    for (let i = 0; i < released.length; i++) {
      const v = released[i]!;
      if ((v.useCount > 0 || v.isGraphOutput) && !isRewired(v, replace)) values[t++] = v;
    }
    return values;
  }

  /**
   * The end of a validated patch (#apply, #applyBypass): the shape facts follow it (only the nodes
   * it touched are inferred again; when they cannot, the manager drops them and the next reader
   * infers the model again), then the change is committed.
   */
  #commitPatch(graph: Graph, record: ChangeRecord, added: readonly Node[], replace: Rewrite['replace'], inits: readonly Value[], remove: readonly Node[]): void {
    const facts = this.#facts ?? (this.ctx.shared?.facts as Facts | undefined);
    const factsKept = facts !== undefined && facts.patched(graph, added, replace, inits);
    // For the rest of this run a new value has the type of the one it replaced (the overlay),
    // unless the updated inference already says exactly that (the usual case: no note needed).
    // The replaced value's own facts are unchanged by the patch (it is no longer read).
    // `alike`: every new value has the facts of the one it replaced, so no other value's facts
    // changed (the manager's ChangeScope holds only then).
    // (Asked only while the manager keeps a scope; `own`, when set, is `facts`.)
    let alike = factsKept;
    const own = this.#facts;
    if (own) {
      for (let i = 0; i < replace.length; i++) {
        const oldV = replace[i]![0];
        const newV = replace[i]![1];
        if (!factsKept || !own.inferredAlike(oldV, newV)) {
          alike = false;
          own.note(newV, own.typeOf(oldV));
        }
      }
    } else if (alike && this.ctx.scopeWatched?.() === true) {
      for (let i = 0; i < replace.length && alike; i++) alike = facts!.inferredAlike(replace[i]![0], replace[i]![1]);
    } else alike = false;
    // Nothing reads the removed nodes' facts any more: let them (and the nodes) be collected.
    if (factsKept) facts.released(remove);
    this.#commit(record, true, factsKept, alike);
  }

  /**
   * Applies a change that is not a node pattern. `fn` performs it and returns the counts; it must
   * leave the model valid. Returns false (and does nothing) when the budget is spent.
   *
   * When `fn` also says what it touched (`touched`: the nodes it took out and the values whose
   * uses it changed, the initializers it removed, the nodes it inserted, the values it renamed and
   * the initializers it retyped), the change is checked right after it is made — the removed
   * nodes and initializers are out of the graph and nothing reads them (what `apply` validates of
   * the nodes a patch removes), then the closing check's local rules over what it touched
   * (local-verify.ts: use and producer consistency, order, ownership, names, the types of the
   * initializers it retyped, the graph's node and initializer counts) — and, when they hold,
   * reported to the manager like a validated patch (onPatch): no whole-model verify() follows it.
   * A name a new or renamed value takes is one `freshName` minted during the change (unused in
   * the model by construction; each claimed once) or one that left with it (a renamed value's
   * previous name). Otherwise — or without `touched` — the manager verifies the whole model
   * after the pass.
   */
  mutate(graph: Graph, rule: string, description: string, fn: () => MutationResult): boolean {
    if (!this.mayChange()) return false;
    const onPatch = this.ctx.onPatch;
    // A tracker per change (made before `fn`: it reads the graph's counts the change starts
    // from). Made only for a change that says what it touched and reused per session (with counts
    // passed in, lists cleared in place), it measured nothing (2026-12-07): the rule passes make
    // no `mutate` on the 100k chain (eliminate-dead-code finds nothing there), and 100,000 dead
    // Relus, one `mutate` each, took 206.6 → 204.8 ms of main-thread CPU (medians of 8 alternating
    // runs, load 10–15), so it stays this line. Its check costs what the change touched: a value
    // of many uses it released is not walked whole per change, but once at `finish`
    // (PatchTracker.checkChange).
    const check = onPatch !== undefined && graph === this.model.graph ? new PatchTracker(this.model) : undefined;
    this.#mutating = true;
    this.#minting = undefined;
    let r: MutationResult;
    try {
      r = fn();
    } finally {
      this.#mutating = false;
    }
    const minting = this.#minting as Set<string> | undefined;
    this.#minting = undefined;
    const record: ChangeRecord = {
      pass: this.pass,
      rule,
      removed: r.removed ?? [],
      added: r.added ?? [],
      graph: graph.name,
      description: flat(description),
      bytesDelta: r.bytesDelta ?? 0,
      ...(r.details ? { details: r.details } : {}),
    };
    this.nodesAdded += record.added.length;
    this.nodesRemoved += record.removed.length;
    const t = r.touched;
    let checked = false;
    const addedNodes = t?.addedNodes ?? NO_NODES;
    if (t !== undefined && check !== undefined && record.added.length === addedNodes.length) {
      const removedNodes = t.removedNodes ?? NO_NODES;
      const released = t.released ?? NO_VALUES;
      const renamed = t.renamed ?? NONE;
      const values = released.filter((v) => v.useCount > 0 || v.isGraphOutput);
      for (const [v] of renamed) values.push(v);
      // Names given: the new nodes' outputs' and the renamed values' new ones, but for those
      // freshName minted during the change (each once); those that left: renamed values' old names.
      let introduced = NO_NAMES;
      for (let i = 0; i < addedNodes.length; i++) {
        const outs = addedNodes[i]!.outputs;
        for (let j = 0; j < outs.length; j++) introduced = givenName(introduced, outs[j]!.name, minting);
      }
      for (let i = 0; i < renamed.length; i++) introduced = givenName(introduced, renamed[i]![0].name, minting);
      const left = introduced.length > 0 ? renamed.map(([, previous]) => previous) : NO_NAMES;
      // The report the manager's tracker reads, checked first by a tracker of this change alone.
      const removedInits = t.removedInitializers ?? NO_VALUES;
      this.#fill(graph, addedNodes, NONE, released, values, left, introduced, t.retyped ?? NO_VALUES, removedNodes.length, -removedInits.length);
      check.record(this.#applied);
      // What #validate establishes for a patch's removed nodes: out of the graph, and no output
      // still read or a graph output; then the closing check's rules over what it touched.
      checked = removedNodes.every(isGone) && removedInits.every((v) => v.useCount === 0 && !v.isGraphOutput && !v.isInitializer) && check.checkChange(removedNodes, (this.#walkLater ??= new Set()));
      if (checked) {
        countPatch(this.ctx.shared, graph, addedNodes, removedNodes);
        onPatch!(this.#applied);
      }
    }
    this.#commit(record, checked);
    return true;
  }

  /** Marks a graph whose order a custom mutation may have broken; it is re-sorted at the end. */
  needsSort(graph: Graph): void {
    this.#sortNeeded.add(graph);
  }

  /** Finishes the run: restores topological order where needed and builds the PassResult. */
  finish(): PassResult {
    // The walks `mutate`'s checks left here, one per value (before a re-sort: it moves no use).
    // A use that is not sound makes the manager verify the model in full after the pass, as a
    // change whose check failed does.
    const later = this.#walkLater;
    if (later !== undefined && later.size > 0) {
      const g = this.model.graph;
      for (const v of later) {
        if (!v._usesIn(g)) {
          this.ctx.onUnsound?.();
          break;
        }
      }
    }
    this.#walkLater = undefined;
    for (const g of this.#sortNeeded) g.sort();
    // The op-type index records graph positions, and the graph list follows node order: a
    // re-sorted graph needs new ones.
    if (this.#sortNeeded.size > 0 && this.ctx.shared) {
      this.ctx.shared.opIndex = undefined;
      this.ctx.shared.graphs = undefined;
    }
    // Without shape inference passes see fewer facts and decline more; say why in the report.
    if (this.#facts?.inferenceError) this.metrics['shapeInference'] = this.#facts.inferenceError;
    const timeMs = performance.now() - this.#t0;
    return {
      modified: this.changes > 0,
      changes: this.changes,
      nodesAdded: this.nodesAdded,
      nodesRemoved: this.nodesRemoved,
      bytesDelta: this.#bytesDelta,
      rejected: { ...this.rejected },
      timeMs,
      log: this.log,
      declined: this.declined,
      metrics: this.metrics,
    };
  }

  /** `validated`: the change is a patch `apply` checked before making it (see PassContext.afterChange). */
  #commit(record: ChangeRecord, validated: boolean, factsKept = false, factsAlike = false): void {
    this.changes++;
    this.#bytesDelta += record.bytesDelta;
    // Without a change log only the last record is kept (errors name it); the counts stay exact.
    // (An index store: `length = 0` then push would be a runtime call per change.)
    if (this.ctx.changeLog === false && this.log.length > 0) this.log[0] = record;
    else this.log.push(record);
    this.ctx.afterChange(this.model, record, validated, factsKept, factsAlike);
  }

  #validate(graph: Graph, rw: Rewrite): ApplyDecline | undefined {
    const remove = rw.remove;
    const replace = rw.replace;
    // Small patches are checked by scanning their arrays (no Set/Map per rewrite); big ones by
    // sets. Indexed loops: this runs once per candidate, often before it is optimised.
    // (Module functions, not closures: two closures and their context per candidate were a
    // sixth of what a change allocated.)
    const removeSet = remove.length > 8 ? new Set(remove) : undefined;
    for (let i = 0; i < remove.length; i++) {
      const n = remove[i]!;
      if (n.graph !== graph) return ['internal-node-not-in-graph', `${nodeLabel(n)} is not in graph '${graph.name}'`];
    }
    for (let i = 0; i < replace.length; i++) {
      const o = replace[i]![0];
      const v = replace[i]![1];
      // A replacement read from a malformed node (an input slot that is empty) is not a value.
      if (!(v instanceof Value)) return ['missing-input', `nothing to replace '${o.name}' with (a matched node lacks an input)`];
      const op = o.producer;
      if (op === null) {
        // A weight the patch stores another way: it leaves the graph (see Rewrite.replace).
        if (graph.initializers.get(o.name) !== o || o.isGraphInput || isTrainingBound(this.model, graph, o)) {
          return ['internal-replaced-value-not-removed', `'${o.name}' is neither an output of a removed node nor an initializer of graph '${graph.name}' that may leave it`];
        }
        if (o.isGraphOutput) return ['output-is-graph-output', `initializer '${o.name}' is a graph output`];
      } else if (!isRemoved(op, remove, removeSet)) {
        return ['internal-replaced-value-not-removed', `'${o.name}' is not an output of a removed node`];
      }
      // Its readers would read a removed node (what Graph.remove's safe mode would refuse).
      if (v.producer !== null && isRemoved(v.producer, remove, removeSet)) {
        return ['internal-replaced-value-not-removed', `'${o.name}' would be replaced by '${v.name}', an output of a removed node`];
      }
    }
    const replacedSet = replace.length > 8 ? new Set(replace.map(([o]) => o)) : undefined;
    for (let i = 0; i < remove.length; i++) {
      const n = remove[i]!;
      const outs = n.outputs;
      for (let k = 0; k < outs.length; k++) {
        const o = outs[k]!;
        if (isReplaced(o, replace, replacedSet)) continue;
        if (o.isGraphOutput) return ['output-is-graph-output', `'${o.name}' of ${nodeLabel(n)} is a graph output`];
        // `_userAt`, not `uses` (a list and a Use object per single-use value).
        const count = o.useCount;
        for (let j = 0; j < count; j++) {
          const user = o._userAt(j);
          if (!isRemoved(user, remove, removeSet)) return ['output-used-elsewhere', `'${o.name}' of ${nodeLabel(n)} is also used by ${nodeLabel(user)}`];
        }
        // A new node wired through Rewrite.inputs reads it too (it is no reader yet).
        const wire = rw.inputs;
        if (wire !== undefined) {
          for (let a = 0; a < wire.length; a++) {
            if (wire[a]!.includes(o)) return ['output-used-elsewhere', `'${o.name}' of ${nodeLabel(n)} is also used by ${nodeLabel(rw.add![a]!)}`];
          }
        }
      }
    }
    const added = rw.add ?? NONE;
    let takenOutputs: Value[] | undefined;
    for (let i = 0; i < replace.length; i++) {
      const o = replace[i]![0];
      const v = replace[i]![1];
      if (!o.isGraphOutput) continue;
      // A fresh value (an output of a new node) may take the graph output's name.
      if (v.producer !== null && added.includes(v.producer)) continue;
      // An existing value would have to take the graph output's name: only an intermediate,
      // unnamed-interface value may, and only once.
      if (v.isGraphInput || v.isInitializer || v.isGraphOutput || takenOutputs?.includes(v) || v.producer === null || isRemoved(v.producer, remove, removeSet)) {
        return ['graph-output-name', `graph output '${o.name}' would be renamed or merged with '${v.name}' (a graph input, initializer or another output)`];
      }
      if (v.graph !== graph) return ['graph-output-name', `'${v.name}' is defined in another scope`];
      (takenOutputs ??= []).push(v);
    }
    return undefined;
  }

  #rename(graph: Graph, v: Value, name: string): void {
    if (v.name === name) return;
    if (v.isInitializer) {
      const owner = v.graph ?? graph;
      if (owner.initializers.get(v.name) === v) owner.renameInitializer(v, name);
      else v.name = name;
    } else {
      v.name = name;
    }
  }

  /**
   * Removes initializers and Constant nodes left without uses by a rewrite (`work` is read, last
   * first, and left as it is); the names that leave the graph are added to `left` when given.
   * Returns the labels of the Constant nodes removed; the bytes and the count of initializers
   * removed are left in #orphanBytes and #orphanInitializers (no result object per change).
   */
  #dropOrphans(work: readonly Value[], left?: string[]): string[] {
    let nodes: string[] = NO_NAMES;
    let bytes = 0;
    let initializers = 0;
    for (let w = work.length - 1; w >= 0; w--) {
      const v = work[w]!;
      if (v.useCount > 0 || v.isGraphOutput || v.isGraphInput) continue;
      if (v.isInitializer) {
        const g = v.graph;
        if (g && g.initializers.get(v.name) === v && !isTrainingBound(this.model, g, v)) {
          bytes += v.constValue?.byteLength ?? 0;
          g.removeInitializer(v.name);
          this.#names?.delete(v.name);
          left?.push(v.name);
          initializers++;
        }
        continue;
      }
      const p = v.producer;
      if (p && p.opType === 'Constant' && p.isOnnxDomain && p.graph && p.outputs.every((o) => o.useCount === 0 && !o.isGraphOutput)) {
        if (nodes === NO_NAMES) nodes = [];
        nodes.push(nodeLabel(p));
        bytes += constantNodeBytes(p);
        for (const o of p.outputs) {
          this.#names?.delete(o.name);
          if (o.name) left?.push(o.name);
        }
        countRemovedConstant(this.ctx.shared, p.graph);
        p.graph.remove(p, SAFE);
      }
    }
    this.#orphanBytes = bytes;
    this.#orphanInitializers = initializers;
    return nodes;
  }
}

/**
 * Whether a patch is a bypass — one node removed, one of its outputs replaced by an existing
 * value, nothing added — the most common patch (eliminate-identity's), which `validateBypass`
 * checks without the general case's scans.
 */
function isBypass(rw: Rewrite): boolean {
  return rw.remove.length === 1 && rw.replace.length === 1 && (rw.add === undefined || rw.add.length === 0) && (rw.initializers === undefined || rw.initializers.length === 0);
}

/**
 * A bypass (`isBypass`) that wires nothing either: what RewriteSession's #applyBypass makes.
 */
function isPlainBypass(rw: Rewrite): boolean {
  return rw.inputs === undefined && isBypass(rw);
}

/**
 * RewriteSession's #validate for a bypass (see `isBypass`): removing `n` and replacing its output
 * `o` by `v`. The same checks in the same order, so the same reason and detail.
 */
function validateBypass(graph: Graph, n: Node, o: Value, v: Value): ApplyDecline | undefined {
  if (n.graph !== graph) return ['internal-node-not-in-graph', `${nodeLabel(n)} is not in graph '${graph.name}'`];
  if (!(v instanceof Value)) return ['missing-input', `nothing to replace '${o.name}' with (a matched node lacks an input)`];
  if (o.producer !== n) return ['internal-replaced-value-not-removed', `'${o.name}' is not an output of a removed node`];
  const p = v.producer;
  if (p === n) return ['internal-replaced-value-not-removed', `'${o.name}' would be replaced by '${v.name}', an output of a removed node`];
  const outs = n.outputs;
  for (let k = 0; k < outs.length; k++) {
    const x = outs[k]!;
    if (x === o) continue;
    if (x.isGraphOutput) return ['output-is-graph-output', `'${x.name}' of ${nodeLabel(n)} is a graph output`];
    const count = x.useCount;
    for (let j = 0; j < count; j++) {
      const user = x._userAt(j);
      if (user !== n) return ['output-used-elsewhere', `'${x.name}' of ${nodeLabel(n)} is also used by ${nodeLabel(user)}`];
    }
  }
  if (o.isGraphOutput) {
    // An existing value would have to take the graph output's name (nothing new is added).
    if (v.isGraphInput || v.isInitializer || v.isGraphOutput || p === null) {
      return ['graph-output-name', `graph output '${o.name}' would be renamed or merged with '${v.name}' (a graph input, initializer or another output)`];
    }
    if (v.graph !== graph) return ['graph-output-name', `'${v.name}' is defined in another scope`];
  }
  return undefined;
}

/** Whether a node a mutation removed is out of its graph with no output read or a graph output. */
function isGone(n: Node): boolean {
  return n.graph === null && n.outputs.every((o) => o.useCount === 0 && !o.isGraphOutput);
}

/** Whether `n` is among the nodes a patch removes (`set`: the same nodes, for a big patch). */
function isRemoved(n: Node, remove: readonly Node[], set: ReadonlySet<Node> | undefined): boolean {
  return set ? set.has(n) : remove.includes(n);
}

/** Whether `o` is a value a patch replaces (`set`: the same values, for a big patch). */
function isReplaced(o: Value, replace: ReadonlyArray<readonly [Value, Value]>, set: ReadonlySet<Value> | undefined): boolean {
  if (set) return set.has(o);
  for (let i = 0; i < replace.length; i++) if (replace[i]![0] === o) return true;
  return false;
}

/** Whether `v` is read in place of a value a patch replaces. */
function isRewired(v: Value, replace: ReadonlyArray<readonly [Value, Value]>): boolean {
  for (let i = 0; i < replace.length; i++) if (replace[i]![1] === v) return true;
  return false;
}

/** Whether `v` is new in a patch: an output of one of its nodes, or one of its initializers. */
function isFresh(v: Value, added: readonly Node[], inits: readonly Value[]): boolean {
  return (v.producer !== null && added.includes(v.producer)) || inits.includes(v);
}

/**
 * `s` as one flat string. A description built from a template literal is a tree of cons strings
 * (seven per description of eliminate-identity, 32 B each) and a change log keeps one per change
 * (60,000 on the 100k-node chain): reading a character makes V8 flatten it, and the GC then drops
 * the tree (about 130 B less per record).
 */
function flat(s: string): string {
  s.charCodeAt(0);
  return s;
}

/** Total bytes of every initializer (and Constant-node tensor) in the model. */
export function initializerBytes(model: Model): number {
  let n = 0;
  for (const g of model.graphs()) {
    for (const v of g.initializers.values()) n += v.constValue?.byteLength ?? 0;
    for (const node of g) n += constantNodeBytes(node);
  }
  return n;
}

/** Bytes of the tensor a Constant node carries (0 for any other node). */
export function constantNodeBytes(node: Node): number {
  if (node.opType !== 'Constant') return 0;
  const a = node.attr('value');
  return a && !a.isRef && a.type === AttributeType.TENSOR ? a.asTensor().byteLength : 0;
}

/** Initializers named in training_info bindings must stay (they are updated by name). */
function isTrainingBound(model: Model, g: Graph, v: Value): boolean {
  if (model.trainingInfo.length === 0 || g !== model.graph) return false;
  return model.trainingInfo.some((t) => t.initializationBinding.some(([k]) => k === v.name) || t.updateBinding.some(([k]) => k === v.name));
}

/**
 * `g` and every graph nested in it, depth first. Cheaper than Graph.subgraphs() on big graphs:
 * only nodes that carry attributes are inspected, and nothing is allocated per node.
 */
export function withSubgraphs(g: Graph): Graph[] {
  const out: Graph[] = [g];
  for (let i = 0; i < out.length; i++) {
    // A cursor walk: Graph's iterator allocates a result per node.
    for (let n = out[i]!.firstNode; n !== null; n = n.next) {
      if (n.attributes.size === 0) continue;
      for (const a of n.attributes.values()) {
        if (a.isRef) continue;
        if (a.type === AttributeType.GRAPH) out.push(a.value as Graph);
        else if (a.type === AttributeType.GRAPHS) for (const g of a.value as Graph[]) out.push(g);
      }
    }
  }
  return out;
}

function collectNames(model: Model): Set<string> {
  const s = new Set<string>();
  const graphs = withSubgraphs(model.graph);
  for (const f of model.functions) for (const g of withSubgraphs(f.graph)) graphs.push(g);
  for (const t of model.trainingInfo) for (const tg of [t.initialization, t.algorithm]) if (tg) for (const g of withSubgraphs(tg)) graphs.push(g);
  for (const g of graphs) {
    for (const v of g.inputs) s.add(v.name);
    for (const k of g.initializers.keys()) s.add(k);
    for (const k of g.sparseInitializers.keys()) s.add(k);
    for (const n of g) for (const o of n.outputs) if (o.name) s.add(o.name);
    for (const v of g.outputs) s.add(v.name);
  }
  return s;
}

/** False for a subgraph whose owning node was removed from its graph. */
export function isLiveGraph(g: Graph): boolean {
  return g.parent === null || g.parent.graph !== null;
}
