/**
 * Local verification of validated patches: the pipeline's closing check without re-reading the
 * whole model (issue 15, "verify cost").
 *
 * The manager verifies the input in full (`verify()`), so every invariant of
 * packages/graph/INVARIANTS.md holds before the first rewrite. A patch RewriteSession.apply made
 * can only break them where it touched the model: its new nodes, the readers of the values it
 * rewired, the values whose uses or definitions it changed (replacements, the removed nodes'
 * inputs, new initializers, renamed values) and the names it introduced. When every change since
 * the last full verify was such a patch of the main graph, the closing check re-checks exactly
 * those, with the rules verify() applies to them:
 *  - I1/I2 use and producer consistency of every touched node and value;
 *  - I3 a touched node is in the main graph; I12 no use by a node that left it;
 *  - I4 each input of a touched node is a graph input, an initializer, or the output of a live
 *    node found before it (walking back at most WALK nodes; farther, or after a re-sort, is not
 *    decided here);
 *  - I5 every name a patch introduced is one that left the graph with that patch, each claimed
 *    at most once (a fresh name from anywhere else is not decided here; the names the session
 *    minted for new initializers, unused anywhere in the model by construction, are not listed);
 *  - I6 new initializers; I7 touched graph outputs; I8 omitted outputs; I10 the op's domain is
 *    imported; I11 no reference attribute; a touched node with a subgraph is not decided here.
 * Anything it does not decide, or any problem it finds, makes the manager run the full verify()
 * (so the diagnostics and the errors are exactly verify()'s); a change it does not cover (a
 * `mutate` that does not say what it touched, a subgraph's patch) makes the next check a full one.
 * A `mutate` that says what it touched is reported like a patch: its inserted nodes as new nodes,
 * its retyped initializers as new ones (I6), its renamed values with their old names as names
 * that left (a name `freshName` minted during the change is not listed). It relies on the pass contract
 * that every mutation goes through the session (PassContext): as a tripwire for a pass that
 * breaks it, the main graph's node and initializer counts must be what the reported patches
 * account for. Untouched nodes keep their
 * invariants: a patch does not change them, and Graph.sort() restores a topological order by
 * construction (it throws on a cycle).
 */
import { AttributeType, isStaticShape, shapesEqual, type Graph, type Model, type Node, type Value } from '@onnxkit/graph';

/**
 * What one validated patch changed (RewriteSession.apply reports it, in one object per session
 * that it refills for each patch: valid during the `onPatch` call).
 */
export interface AppliedPatch {
  readonly graph: Graph;
  /** Nodes it inserted. */
  readonly added: readonly Node[];
  /**
   * The (replaced value, value read in its place) pairs of the patch: the second of each pair is
   * rewired (its readers changed inputs).
   */
  readonly replaced: ReadonlyArray<readonly [Value, Value]>;
  /** The removed nodes' inputs, read still or not (their use lists shrank). */
  readonly released: readonly Value[];
  /** Other values whose uses or definition it changed: the removed nodes' inputs still in use, renamed values. */
  readonly values: readonly Value[];
  /**
   * Names that left the graph with the patch (removed nodes' outputs, dropped initializers,
   * previous names of renamed values): listed only when `introduced` is not empty (what they are
   * read for), else empty.
   */
  readonly left: readonly string[];
  /**
   * Names it gave to values in the graph (new outputs, new initializers, renamed values), but
   * for the names of new initializers the session minted (RewriteSession.newInitializer).
   */
  readonly introduced: readonly string[];
  /** Initializers it registered (also among `values`). */
  readonly initializers: readonly Value[];
  /** Nodes it took out of the graph (matched nodes and orphaned Constant nodes). */
  readonly nodesRemoved: number;
  /** Initializers it registered minus those it dropped. */
  readonly initializersDelta: number;
}

/** How far back the order check walks from a node to find the producer of an input. */
const WALK = 64;
/** Touched values with more uses than this are checked once (see `check`); others as often as touched. */
const FEW_USES = 8;

export class PatchTracker {
  readonly #model: Model;
  #covered = true;
  // Lists, not sets: an entry met twice is checked twice (the checks are cheap and idempotent),
  // which costs less than hashing every touched object.
  #nodes = new ChunkedList<Node>();
  #rewired = new ChunkedList<Value>();
  #values = new ChunkedList<Value>();
  #initializers = new ChunkedList<Value>();
  /** The main graph's node and initializer counts the reported changes account for. */
  #nodeCount: number;
  #initializerCount: number;
  /** The last domain #nodeOk found imported, during one `check` (nothing changes the model meanwhile). */
  #domainOk: string | undefined;
  /** During `checkChange`: the change's removed nodes, and where its values of many uses go. */
  #removed: readonly Node[] = [];
  #walkLater: Set<Value> | undefined;

  constructor(model: Model) {
    this.#model = model;
    this.#nodeCount = model.graph.nodeCount;
    this.#initializerCount = model.graph.initializers.size;
  }

  /** The model was just verified in full: nothing is pending. */
  reset(): void {
    this.#covered = true;
    this.#clear();
    this.#nodeCount = this.#model.graph.nodeCount;
    this.#initializerCount = this.#model.graph.initializers.size;
  }

  /** A change the local check does not cover: the next check must be a full verify(). */
  uncovered(): void {
    this.#covered = false;
    this.#clear();
  }

  #clear(): void {
    this.#nodes = new ChunkedList<Node>();
    this.#rewired = new ChunkedList<Value>();
    this.#values = new ChunkedList<Value>();
    this.#initializers = new ChunkedList<Value>();
  }

  record(p: AppliedPatch): void {
    if (!this.#covered) return;
    if (p.graph !== this.#model.graph) return this.uncovered();
    // (Indexed loops: this runs once per change, and array iterators allocate until optimised.)
    if (p.introduced.length > 0 && !claims(p.introduced, p.left)) return this.uncovered();
    pushAll(this.#nodes, p.added);
    // A rewired value that is an output of one of the patch's new nodes is checked with that
    // node's outputs (`check` checks every output of a new node as it checks a rewired value):
    // listed once, not twice (a fusion's output, 20,000 on the 100k-node chain).
    pushRewired(this.#rewired, p.replaced, p.added);
    pushNew(this.#values, p.values);
    pushAll(this.#initializers, p.initializers);
    this.#nodeCount += p.added.length - p.nodesRemoved;
    this.#initializerCount += p.initializersDelta;
  }

  /**
   * `check` of the one change recorded, made by RewriteSession.mutate right after it (its removed
   * nodes `removed`), costing what the change touched: a touched value of many uses (> FEW_USES)
   * is not walked whole here but added to `walkLater`, which the session walks once per pass run.
   *
   * Why that detects what the walk per change did. Such a value is one the change released (an
   * input of a node it removed) or renamed. Before the change its uses were sound: the model was
   * verified in full, and every change since was checked (or the next check is a full one). What
   * the change may do to those uses within its report: drop the removed nodes' uses — a stale one
   * left behind is a use by a removed node, asked of each removed node here (`_usedBy`: O(1) for
   * such a value, whose uses are indexed by node); add uses by its new nodes — each new node's
   * inputs are checked against their use lists (`hasUse`, O(1)) with the new nodes; and renaming
   * leaves uses as they are. Anything else on that value's uses — a reader the change rewired
   * without reporting it — is outside the report, but still caught by the whole walk: the
   * session's once per pass run (at `finish`, before the manager decides how to verify after the
   * pass: a failure there makes that a full verify(), as a failed check here does) and the
   * manager's closing check (the value is in the same report, `onPatch`; see `dueCheck`). Walking
   * it per change instead made eliminate-dead-code quadratic: 100,000 dead nodes, half of them
   * Adds of one initializer, took 36 s (each removal also rebuilt the value's `uses` array).
   */
  checkChange(removed: readonly Node[], walkLater: Set<Value>): boolean {
    this.#removed = removed;
    this.#walkLater = walkLater;
    try {
      return this.check();
    } finally {
      this.#removed = [];
      this.#walkLater = undefined;
    }
  }

  /**
   * True when every invariant the recorded patches could break holds where they touched the
   * model; false when the model must be verified in full (not decided here, or a problem).
   */
  check(): boolean {
    if (!this.#covered) return false;
    this.#domainOk = undefined;
    const g = this.#model.graph;
    // A tripwire for a pass that changed the graph without reporting it (a broken pass
    // contract): the counts must be what the reported patches account for.
    if (g.nodeCount !== this.#nodeCount || g.initializers.size !== this.#initializerCount) return false;
    // New initializers: registered under their own name, with a tensor that fits their type.
    for (const inits of this.#initializers.chunks()) {
      for (let i = 0; i < inits.length; i++) {
        const v = inits[i]!;
        if (g.initializers.get(v.name) !== v) continue; // dropped again by a later patch
        const t = v.constValue;
        if (t === null || v.producer !== null) return false;
        const tt = v.tensorType;
        if (tt && ((tt.elemType !== 0 && tt.elemType !== t.dtype) || (isStaticShape(tt.shape) && !shapesEqual(tt.shape, t.dims)))) return false;
      }
    }
    // A value with many uses is checked once however many patches touched it: a weight shared by
    // every block of a chain is touched by each of 20,000 patches and has 20,000 uses (checked
    // twice each, that was 4·10⁸ use visits on the 100k-node shared-weight chain). A value with
    // few uses is simply checked again (cheaper than hashing the 100,000 values a chain's
    // patches touch; consecutive repeats were already dropped by `record`).
    const seen = new Set<Value>();
    for (const values of this.#values.chunks()) {
      for (let i = 0; i < values.length; i++) {
        const v = values[i]!;
        if (dueCheck(v, seen) && !(this.#walkLater !== undefined && v.useCount > FEW_USES ? this.#notUsedByRemoved(v, g) : valueOk(v, g))) return false;
      }
    }
    const seenRewired = new Set<Value>();
    for (const rewired of this.#rewired.chunks()) {
      for (let i = 0; i < rewired.length; i++) {
        const v = rewired[i]!;
        if (dueCheck(v, seenRewired) && (!valueOk(v, g) || !this.#readersOk(v, g))) return false;
      }
    }
    // New nodes, and each of their outputs as a rewired value (`record` lists a new node's
    // rewired outputs here only): also those of a node a later patch removed again.
    for (const nodes of this.#nodes.chunks()) {
      for (let i = 0; i < nodes.length; i++) {
        const n = nodes[i]!;
        if (n.graph !== null && !this.#nodeOk(n, g)) return false;
        const outs = n.outputs;
        for (let k = 0; k < outs.length; k++) {
          const o = outs[k]!;
          if (!valueOk(o, g) || !this.#readersOk(o, g)) return false;
        }
      }
    }
    return true;
  }

  /**
   * valueOk of a value of many uses touched by the change `checkChange` checks, but for its uses:
   * none is by a node the change removed (the walk of the others is left to `#walkLater`; see
   * checkChange). Asked per removed node while they are fewer than the value's uses, else the
   * uses are walked (no more work than the removed nodes).
   */
  #notUsedByRemoved(v: Value, g: Graph): boolean {
    const removed = this.#removed;
    if (removed.length >= v.useCount) return valueOk(v, g);
    for (let i = 0; i < removed.length; i++) if (v._usedBy(removed[i]!)) return false;
    this.#walkLater!.add(v);
    return placeOk(v, g);
  }

  #readersOk(v: Value, g: Graph): boolean {
    // `_userAt`, not `uses`: no list and no Use object per value the check touches. A reader met
    // again right after itself (a node reading `v` at several inputs, whose uses are filed in a
    // row) is not checked again: a Concat reading one value at each of its 50,000 inputs (what
    // CSE leaves of 50,000 equal inputs) was checked 50,000 times, each a check of its 50,000
    // inputs — minutes at 10,000.
    const count = v.useCount;
    let last: Node | null = null;
    for (let i = 0; i < count; i++) {
      const n = v._userAt(i);
      if (n === last) continue;
      last = n;
      if (!this.#nodeOk(n, g)) return false;
    }
    return true;
  }

  #nodeOk(n: Node, g: Graph): boolean {
    if (n.graph !== g) return false;
    const inputs = n.inputs;
    for (let i = 0; i < inputs.length; i++) {
      const v = inputs[i];
      if (v === null || v === undefined) continue;
      if (!v.hasUse(n, i)) return false;
      const p = v.producer;
      if (p !== null) {
        if (p.graph !== g || !before(p, n)) return false;
      } else if (!(v._inputOf === g || v._initializerOf === g || g.sparseInitializers.get(v.name) === v)) {
        return false;
      }
    }
    const outputs = n.outputs;
    for (let k = 0; k < outputs.length; k++) {
      const o = outputs[k]!;
      if (o.producer !== n || o.index !== k) return false;
      if (o.name === '' && (o.useCount > 0 || o.isGraphOutput)) return false;
      if (!usesOk(o, g)) return false;
    }
    if (n.attributes.size > 0) {
      for (const a of n.attributes.values()) {
        if (a.isRef || a.type === AttributeType.GRAPH || a.type === AttributeType.GRAPHS) return false;
      }
    }
    // The domain is imported (I10): asked of the model once per domain, not per node.
    const d = n.domain;
    if (d !== this.#domainOk) {
      const dd = d === 'ai.onnx' ? '' : d;
      if (this.#model.opsetVersion(dd) === undefined && !this.#model.functions.some((f) => f.domain === dd)) return false;
      this.#domainOk = d;
    }
    return true;
  }
}

/** Use consistency (I1, I12), initializer ownership and graph-output membership of a touched value. */
function valueOk(v: Value, g: Graph): boolean {
  return usesOk(v, g) && placeOk(v, g);
}

/** valueOk but for the uses: initializer ownership and graph-output membership. */
function placeOk(v: Value, g: Graph): boolean {
  const init = v._initializerOf;
  if (init !== null && init !== g) return false;
  if (v.isGraphOutput) {
    if (!v._outputOf.includes(g) || !g.outputs.includes(v)) return false;
    const p = v.producer;
    if (p !== null ? p.graph !== g : !(init === g || v._inputOf === g)) return false;
  }
  return true;
}

/**
 * Whether `v`, met again in a list of touched values, is to be checked: always when it has few
 * uses, else the first time only (`seen`, the list's values of many uses met so far).
 */
function dueCheck(v: Value, seen: Set<Value>): boolean {
  if (v.useCount <= FEW_USES) return true;
  if (seen.has(v)) return false;
  seen.add(v);
  return true;
}

/** Each use of `v` is by a node of `g` that reads `v` at that input (I1, I12). */
function usesOk(v: Value, g: Graph): boolean {
  // (`_usesIn`: the use storage read once, no Use object per single-use value checked)
  return v._usesIn(g);
}

/**
 * Whether each introduced name can claim its own entry of `left` (a name that left once is
 * introduced at most once). A patch's lists are short: claimed entries are bits of a mask, not a
 * copy of `left` spliced per name.
 */
function claims(introduced: readonly string[], left: readonly string[]): boolean {
  if (left.length > 31) {
    const rest = left.slice();
    for (let k = 0; k < introduced.length; k++) {
      const i = rest.indexOf(introduced[k]!);
      if (i < 0) return false;
      rest.splice(i, 1);
    }
    return true;
  }
  let taken = 0;
  for (let k = 0; k < introduced.length; k++) {
    const name = introduced[k]!;
    let i = 0;
    while (i < left.length && ((taken >>> i) & 1 || left[i] !== name)) i++;
    if (i === left.length) return false;
    taken |= 1 << i;
  }
  return true;
}

/** Entries per array of a ChunkedList: 8 KiB of pointers, far below V8's large-object size. */
const CHUNK = 1024;

/**
 * An append-only list kept in arrays of at most CHUNK entries. One array grown by pushes (30,000–
 * 60,000 entries per list on the 100k-node chain) left its outgrown backing stores as dead large
 * objects (≈ 1.9 MB), old-generation garbage until a full collection, at the process's peak.
 */
class ChunkedList<T> {
  readonly #full: T[][] = emptyList();
  #tail: T[] = emptyList();
  /** The last entry pushed, or undefined. */
  last: T | undefined = undefined;

  push(x: T): void {
    if (this.#tail.length === CHUNK) {
      this.#full.push(this.#tail);
      this.#tail = emptyList();
    }
    this.#tail.push(x);
    this.last = x;
  }

  /** The arrays holding the entries, in order. */
  chunks(): readonly (readonly T[])[] {
    return this.#full.length === 0 ? [this.#tail] : this.#full.concat([this.#tail]);
  }
}

/**
 * An empty array whose elements are already of the kind objects need. An empty literal is an array
 * of small integers, whose first push of an object changes its map: `push`, compiled on the first
 * lists, was deoptimized (`wrong map`) by each fresh tail and by the first full chunk, and compiled
 * four times on the 100k-node chain (`--trace-deopt`).
 */
function emptyList<T>(): T[] {
  const a = [undefined as T];
  a.pop();
  return a;
}

function pushAll<T>(to: ChunkedList<T>, from: readonly T[]): void {
  for (let i = 0; i < from.length; i++) to.push(from[i]!);
}

/** pushNew of a patch's rewired values, leaving out outputs of its new nodes (checked with them). */
function pushRewired(to: ChunkedList<Value>, replaced: ReadonlyArray<readonly [Value, Value]>, added: readonly Node[]): void {
  for (let i = 0; i < replaced.length; i++) {
    const x = replaced[i]![1];
    const p = x.producer;
    if (p !== null && added.length > 0 && added.includes(p)) continue;
    if (to.last !== x) to.push(x);
  }
}

/** pushAll, dropping an entry equal to the last one pushed (a chain's patches touch a value twice in a row). */
function pushNew<T>(to: ChunkedList<T>, from: readonly T[]): void {
  for (let i = 0; i < from.length; i++) {
    const x = from[i]!;
    if (to.last !== x) to.push(x);
  }
}

/** Whether `p` comes before `n` within WALK nodes (false: farther, or not before). */
function before(p: Node, n: Node): boolean {
  return n._follows(p, WALK);
}
