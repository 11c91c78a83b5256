/**
 * verify(): checks the invariants of INVARIANTS.md on a model or graph and returns every
 * violation as a diagnostic instead of throwing on the first. An empty list means valid.
 *
 * A node that reads a value before the node producing it (I4) is one of two problems, told apart
 * on the error path alone (a valid graph pays nothing): a cycle (no order of the nodes can run
 * them; onnxruntime and onnx.checker refuse it too), named by its nodes in one diagnostic
 * (`topology: 'cycle'`, "a cycle: Add 'n1' → Relu 'n2' → Add 'n1'"), or nodes merely out of
 * order (`topology: 'out-of-order'`): ONNX requires a topological order and onnx.checker refuses
 * such a file, but onnxruntime sorts the nodes itself and runs it, and Graph.sort() mends it —
 * `onnxkit optimize` does (the pass manager's `sortInput`) and says so. The search is
 * Graph.findCycle(), sort()'s own, run once per graph that has such a read, and only when the
 * graph's links are otherwise sound (a read judged "before" in a graph whose producers or names
 * are broken keeps its plain words: sorting would not mend that).
 */
import { AttributeType } from './attribute.js';
import type { Graph} from './core.js';
import { describeCycle, Model, type Node, type Value } from './core.js';
import { dataTypeName } from './data-type.js';
import { NameTable, nameHash } from './name-table.js';
import { isStaticShape, shapesEqual } from './types.js';

export type Severity = 'error' | 'warning';

export interface Diagnostic {
  readonly severity: Severity;
  /** Invariant id from INVARIANTS.md, e.g. "I4-topological-order". */
  readonly code: string;
  readonly message: string;
  readonly graph?: string;
  readonly node?: string;
  readonly value?: string;
  /**
   * Set on an I4 read-before-produced diagnostic of a graph whose links are otherwise sound:
   * 'cycle' — the read closes a cycle (the message names its nodes); 'out-of-order' — the graph
   * has no cycle, a topological sort (Graph.sort()) mends it.
   */
  readonly topology?: 'cycle' | 'out-of-order';
}

export interface VerifyOptions {
  /** Report names that shadow an outer-scope name (ONNX forbids it; some exporters do it). */
  checkShadowing?: boolean;
  /**
   * Filled in by the check, which walks every node: `subgraphs` is false when no node it walked
   * has a GRAPH or GRAPHS attribute (then no node of the target holds a subgraph), else true. A
   * caller that needs to know (the pass manager) is spared a walk of its own.
   */
  noted?: { subgraphs: boolean };
}

export function verify(target: Model | Graph, options: VerifyOptions = {}): Diagnostic[] {
  const out: Diagnostic[] = [];
  const v = new Verifier(out, options);
  if (target instanceof Model) {
    v.model = target;
    v.graph(target.graph, []);
    for (const f of target.functions) v.graph(f.graph, [], true);
    for (const t of target.trainingInfo) {
      // Training graphs see the main graph's initializers (global mutable variables).
      const outer = [scopeOf(target.graph)];
      if (t.initialization) v.graph(t.initialization, outer);
      if (t.algorithm) v.graph(t.algorithm, outer);
    }
    v.opsets(target);
  } else {
    v.graph(target, []);
  }
  if (options.noted !== undefined) options.noted.subgraphs = v.sawSubgraph;
  return out;
}

/** Throws-free convenience: only the errors. */
export function verifyErrors(target: Model | Graph, options?: VerifyOptions): Diagnostic[] {
  return verify(target, options).filter((d) => d.severity === 'error');
}

/**
 * Values with more uses than this have their reads checked against a cursor into their use list
 * first (Verifier.listsUse). A value with a handful of uses keeps them in a short list, which
 * hasUse scans; past 8 (core.ts SMALL_USES) they are in a hash map.
 */
const CURSOR_USES = 8;

/** How many initializers on from its cursor a read looks for its value (see Verifier.graph). */
const INIT_LOOKAHEAD = 4;

/** Definitions the SSA check files in the name table at once (see Verifier.graph's `file`). */
const BATCH = 64;

/**
 * What a graph defines, seen from the checks. The graph's own reads are answered from the name
 * table the SSA check builds anyway (a `NameTable` in the first run, `seen` in the exact one,
 * filled in walk order: a value found there under its own name is defined before the read), so a
 * valid graph costs one name lookup per read. Every
 * other question (a name not defined yet, a read from a subgraph, shadowing) goes to `full()`:
 * every value of the graph and its definition position (-1 = before all nodes, the last
 * definition winning), built once on first use.
 */
class Defs {
  /**
   * The exact run's table: named values defined so far in walk order, by name (the last one
   * defined under a name).
   */
  readonly seen = new Map<string, Value>();
  /** Unnamed values defined so far (omitted outputs; seldom any). */
  readonly unnamed = new Set<Value>();
  /**
   * Set when a name is defined twice, or a definition's value has a producer other than this very
   * slot (an input, initializer or sparse initializer with a producer, an output that does not
   * point back): then a value may be defined twice, a read judged by `seen` may have been wrong,
   * and the graph is checked again from `full()` alone, with the SSA check's own lookups.
   */
  dirty = false;
  #full: Map<Value, number> | undefined;
  #names: Set<string> | undefined;
  constructor(readonly graph: Graph) {}

  full(): Map<Value, number> {
    if (this.#full !== undefined) return this.#full;
    const g = this.graph;
    const defined = new Map<Value, number>();
    for (const v of g.inputs) defined.set(v, -1);
    for (const v of g.initializers.values()) defined.set(v, -1);
    for (const v of g.sparseInitializers.values()) defined.set(v, -1);
    let i = 0;
    for (let n = g.firstNode; n !== null; n = n.next) {
      for (const o of n.outputs) defined.set(o, i);
      i++;
    }
    return (this.#full = defined);
  }

  /** Whether a value of this graph has `name` (only the shadowing check asks). */
  hasName(name: string): boolean {
    if (this.#names === undefined) {
      this.#names = new Set<string>();
      for (const v of this.full().keys()) if (v.name) this.#names.add(v.name);
    }
    return this.#names.has(name);
  }
}

interface Scope {
  readonly defs: Defs;
  /** Seen from a subgraph: only values defined before this position are visible. */
  readonly limit: number;
}

function scopeOf(g: Graph): Scope {
  return { defs: new Defs(g), limit: Infinity };
}

class Verifier {
  model: Model | null = null;
  /**
   * The domains of each graph's nodes, in node order with consecutive repeats dropped, noted by
   * `graph` as it walks the nodes (opsets() then needs no walk of its own), and whether any node
   * held a subgraph (then opsets() walks, for Model.forEachGraph's order of graphs).
   */
  readonly domains = new Map<Graph, string[]>();
  sawSubgraph = false;
  /** The next use to compare a read with, of each value with many uses read so far (see listsUse). */
  readonly cursors = new Map<Value, number>();
  /** The batch of definitions `graph` files at once (see its `file`), reused by every graph. */
  readonly pending = new Array<Value>(BATCH);
  readonly pendingHashes = new Int32Array(BATCH);
  /**
   * The read-before-produced diagnostics reported so far, with their reader and producer (the
   * error path alone; see `topology`).
   */
  early: Map<Diagnostic, { reader: Node; producer: Node }> | undefined;
  constructor(
    private readonly out: Diagnostic[],
    private readonly options: VerifyOptions,
  ) {}

  private report(severity: Severity, code: string, message: string, where: { graph?: Graph; node?: Node; value?: Value } = {}): void {
    const d: { -readonly [K in keyof Diagnostic]: Diagnostic[K] } = { severity, code, message };
    if (where.graph) d.graph = where.graph.name;
    if (where.node) d.node = where.node.name || where.node.opType;
    if (where.value) d.value = where.value.name;
    this.out.push(d);
  }

  /**
   * `usesEach`: check the uses of every value where verify() always did (of a node's outputs after
   * its own checks, of the inputs and initializers after the walk), not by the count below (the
   * second run of a graph whose count did not close; see `deferred`).
   */
  graph(g: Graph, outer: Scope[], inFunction = false, exact = false, usesEach = false): void {
    const start = this.out.length;
    const scope = scopeOf(g);
    const defs = scope.defs;
    const seenNames = defs.seen;
    /** Reads are judged by `defs.full()` alone and names checked one by one (the second run of a dirty graph). */
    const fast = !exact;
    /**
     * The uses of this graph's values (I1, I12 from the value's side: `uses`) are checked by a
     * count instead of value by value: `usesTotal` sums the use counts of every value the graph
     * defines (its inputs, initializers, sparse initializers and node outputs; a value in two of
     * these lists is counted twice), `usesSeen` counts the reads the walk met by a node of this
     * graph that the read value lists (listsUse) of a value it found defined in this graph (by the
     * checks below, each of which proves the value is among those counted). Each such read is a
     * distinct use of a counted value whose node is in the graph and reads it at that input, so
     * usesSeen ≤ usesTotal, and they are equal only when every use of every counted value is such
     * a read (and no value is counted twice): then `uses` would report nothing for any of them and
     * is not run. Otherwise (a use by a node elsewhere — a removed node, a subgraph, a training
     * graph —, a stale use, a value counted twice) the graph is walked again with `uses` run for
     * each value where it always was, so the diagnostics are verify()'s, in its order. A cache
     * miss or two per use saved on a large graph (`uses` reads each reader again, after the walk
     * for initializers, before the walk reaches it for node outputs). Only for a graph of no node
     * (main graph, function body, training graph: no owner to be removed with).
     */
    let deferred = fast && !usesEach && g.parent === null;
    let usesTotal = 0;
    let usesSeen = 0;
    /** A subgraph was met after a diagnostic, with uses not checked yet: walk again (see `deferred`). */
    let again = false;
    // Sized for one output per node; it grows past that.
    const names = new NameTable(fast ? g.inputs.length + g.initializers.size + g.sparseInitializers.size + g.nodeCount : 0);

    /**
     * The fast run's definitions not yet filed in `names`, and their nameHashes: filed by batches
     * (NameTable.addAll: the table's random slots are read a batch at a time), and before any
     * lookup, so every lookup sees every definition made before it, as if filed one by one.
     */
    const pending = fast ? this.pending : [];
    const pendingHashes = this.pendingHashes;
    let pendingCount = 0;
    const file = (): void => {
      for (let i = 0; i < pendingCount; i++) pendingHashes[i] = nameHash(pending[i]!.name);
      // A name already in the table under another value (never in a valid graph) sends the
      // graph to the exact second run, which reports it.
      if (names.addAll(pending, pendingHashes, pendingCount)) defs.dirty = true;
      pendingCount = 0;
    };

    /** Whether `v` itself was defined in this graph so far (the fast run's table). */
    const definedHere = (v: Value): boolean => {
      if (v.name === '') return defs.unnamed.has(v);
      if (pendingCount > 0) file();
      return names.get(v.name) === v;
    };

    /** `what`: the kind of definition, or the node whose output `v` is. */
    const define = (v: Value, what: string | Node): void => {
      if (v.name === '') {
        defs.unnamed.add(v);
        return;
      }
      if (fast) {
        pending[pendingCount++] = v;
        if (pendingCount === BATCH) file();
      } else {
        const prev = seenNames.get(v.name);
        if (prev !== undefined && prev !== v) {
          // A graph input that is also an initializer (IR < 4 style) is the same Value; only a
          // different Value under the same name breaks SSA.
          const kind = typeof what === 'string' ? what : `output of ${what.describe()}`;
          this.report('error', 'I5-unique-names', `name '${v.name}' is defined twice in graph '${g.name}' (${kind})`, { graph: g, value: v });
        }
        seenNames.set(v.name, v);
      }
      if (this.options.checkShadowing) {
        for (const s of outer) {
          if (s.defs.hasName(v.name)) {
            this.report('warning', 'I5-unique-names', `'${v.name}' in graph '${g.name}' shadows a name of graph '${s.defs.graph.name}'`, { graph: g, value: v });
          }
        }
      }
    };

    for (const v of g.inputs) {
      // (an input that is also an initializer is counted with the initializers)
      if (deferred && !(v._initializerOf === g && g.initializers.get(v.name) === v)) usesTotal += v.useCount;
      if (v.producer !== null) this.report('error', 'I9-graph-inputs', `graph input '${v.name}' has a producer`, { graph: g, value: v });
      if (v._inputOf !== g) this.report('error', 'I9-graph-inputs', `graph input '${v.name}' does not point back to graph '${g.name}'`, { graph: g, value: v });
      if (v.producer !== null) defs.dirty = true;
      define(v, 'graph input');
    }
    // The initializers in the map's order, for the reads' cursor below (the fast run only; an
    // array per graph, since a subgraph's walk runs inside this one's).
    const inits: Value[] = fast && g.initializers.size > 0 ? new Array<Value>(g.initializers.size) : [];
    let initCount = 0;
    // (forEach: a for-of over the entries makes a [name, value] pair per initializer)
    g.initializers.forEach((v, name) => {
      if (v.producer !== null) defs.dirty = true;
      if (!v.isGraphInput) define(v, 'initializer');
      this.initializer(g, name, v);
      if (fast) inits[initCount++] = v;
      if (deferred) usesTotal += v.useCount;
    });
    let initAt = 0;
    for (const [name, v] of g.sparseInitializers) {
      if (deferred) usesTotal += v.useCount;
      if (v.producer !== null) defs.dirty = true;
      if (!v.isGraphInput) define(v, 'sparse initializer');
      if (v.name !== name) this.report('error', 'I6-initializers', `sparse initializer key '${name}' differs from its value name '${v.name}'`, { graph: g, value: v });
      if (v.sparseValue === null) this.report('error', 'I6-initializers', `sparse initializer '${name}' has no sparse value`, { graph: g, value: v });
    }

    let index = 0;
    /** The node walked just before `n`: its outputs are defined at `index - 1`. */
    let prev: Node | null = null;
    const domains: string[] = [];
    let lastDomain: string | undefined;
    // A cursor walk (the check never mutates): Graph's iterator allocates a result per node.
    for (let n = g.firstNode; n !== null; n = n.next) {
      const domain = n.domain;
      if (domain !== lastDomain) {
        domains.push(domain);
        lastDomain = domain;
      }
      const inGraph = n.graph === g;
      if (!inGraph) this.report('error', 'I3-node-graph', `${n.describe()} does not point back to graph '${g.name}'`, { graph: g, node: n });
      const inputs = n.inputs;
      for (let i = 0; i < inputs.length; i++) {
        const v = inputs[i];
        if (v === null || v === undefined) continue;
        const listed = this.listsUse(v, n, i);
        if (!listed) {
          this.report('error', 'I1-use-consistency', `${n.describe()} reads '${v.name}' at input ${i} but the value does not list that use`, { graph: g, node: n, value: v });
        }
        /** Whether the read is a use `usesSeen` counts once the value is found defined here. */
        const seen = deferred && listed && inGraph;
        // Defined earlier in this graph (an output of the node just before, the common case of
        // a chain, or found under its own name): visible. Anything else (not defined yet, or
        // from an enclosing scope) is looked up exactly.
        if (fast && prev !== null && v.producer === prev && prev.outputs.includes(v)) {
          if (seen) usesSeen++;
          continue;
        }
        // A value of this graph's initializer map: visible, as `visible` would find it (every
        // initializer is at position -1 there; `definedHere` finds it too, filed under its own
        // name or as a graph input). Were a name defined twice or an initializer produced, the
        // graph would be dirty and its reads judged again exactly. Found first by a cursor into
        // the map's order, which a model mostly reads its initializers in (an exporter writes them
        // in the order its layers use them): the entry at the cursor, or one a few entries on
        // (initializers read elsewhere or not at all are skipped), is an array read, where the
        // map lookup below reads the name string and a slot of a table of every initializer —
        // cache misses each on a large graph.
        if (fast && initAt < initCount) {
          const end = initAt + INIT_LOOKAHEAD < initCount ? initAt + INIT_LOOKAHEAD : initCount;
          let k = initAt;
          while (k < end && inits[k] !== v) k++;
          if (k < end) {
            initAt = k + 1;
            if (seen) usesSeen++;
            continue;
          }
        }
        // Otherwise an initializer of this graph, registered under its name (a Map lookup on the
        // string's cached hash, not the table's own hash of every character).
        if (fast && ((v._initializerOf === g && v.producer === null && g.initializers.get(v.name) === v) || definedHere(v))) {
          if (seen) usesSeen++;
          continue;
        }
        this.visible(v, g, scope, outer, index, n);
      }
      const outputs = n.outputs;
      for (let k = 0; k < outputs.length; k++) {
        const o = outputs[k]!;
        if (o.producer !== n || o.index !== k) {
          defs.dirty = true;
          this.report('error', 'I2-producer-consistency', `output ${k} ('${o.name}') of ${n.describe()} does not point back to it`, { graph: g, node: n, value: o });
        }
        if (o.name === '' && (o.useCount > 0 || o.isGraphOutput)) {
          this.report('error', 'I8-omitted-outputs', `an unnamed (omitted) output of ${n.describe()} is used`, { graph: g, node: n });
        }
        if (deferred) usesTotal += o.useCount;
        else this.uses(o, g);
        // The description is built only when a name is defined twice (define reports it).
        define(o, n);
      }
      if (n.attributes.size > 0) for (const a of n.attributes.values()) {
        if (a.isRef && !inFunction && outer.length === 0) {
          this.report('error', 'I11-attributes', `${n.describe()}: reference attribute '${a.name}' outside a function`, { graph: g, node: n });
        }
        if (a.type === AttributeType.GRAPH || a.type === AttributeType.GRAPHS) {
          this.sawSubgraph = true;
          if (deferred) {
            // A subgraph's nodes may read this graph's values (uses this walk does not meet):
            // the uses of the outputs so far are checked now, where they would have been had no
            // diagnostic come between (none has), and the rest of the graph as it always was.
            deferred = false;
            if (this.out.length === start) {
              for (let m: Node | null = g.firstNode; m !== null; m = m === n ? null : m.next) {
                const outs = m.outputs;
                for (let k = 0; k < outs.length; k++) this.uses(outs[k]!, g);
              }
            } else again = true;
          }
          const subs = a.isRef ? [] : a.type === AttributeType.GRAPH ? [a.value as Graph] : (a.value as Graph[]);
          for (const sg of subs) {
            if (sg.parent !== n) this.report('error', 'I3-node-graph', `subgraph '${sg.name}' of ${n.describe()} does not point back to it`, { graph: sg, node: n });
            // O(1): the subgraph sees this graph's values defined before the owning node.
            // (Its walk files its own definitions in the shared batch: this graph's go first.)
            if (pendingCount > 0) file();
            this.graph(sg, [{ defs, limit: index }, ...outer], inFunction);
          }
        }
      }
      prev = n;
      index++;
    }
    if (pendingCount > 0) file();
    if (deferred) again = usesSeen !== usesTotal;
    else if (!again) {
      for (const v of g.inputs) this.uses(v, g);
      // (forEach: a for-of over a Map makes an iterator result per entry until optimised)
      g.initializers.forEach((v) => this.uses(v, g));
    }
    for (const v of g.outputs) {
      if (!v._outputOf.includes(g)) this.report('error', 'I7-graph-outputs', `graph output '${v.name}' does not point back to graph '${g.name}'`, { graph: g, value: v });
      if (fast && definedHere(v)) continue;
      this.visible(v, g, scope, outer, Number.MAX_SAFE_INTEGER, null);
    }
    this.domains.set(g, domains);
    if (fast && defs.dirty) {
      // A name or value may be defined twice here, so a read judged by the name table may have
      // seen the first definition where the last one counts: check the graph again, exactly.
      this.out.length = start;
      this.graph(g, outer, inFunction, true);
    } else if (again) {
      this.out.length = start;
      this.graph(g, outer, inFunction, false, true);
    } else if (fast && this.early !== undefined) this.topology(g, start);
  }

  /**
   * (The error path: a read before its producer was reported, in a graph whose names and
   * producers are sound — the fast run's last word.) Tells a cycle from nodes out of order
   * (Graph.findCycle): without a cycle each such diagnostic says the nodes are out of order and
   * what mends it; with one, the reads along the cycle give way to one diagnostic naming its
   * nodes, where the first of them was, and the other reads keep their words.
   */
  private topology(g: Graph, start: number): void {
    const early = this.early!;
    const out = this.out;
    const found: number[] = [];
    for (let i = start; i < out.length; i++) {
      const e = early.get(out[i]!);
      if (e !== undefined && e.reader.graph === g) found.push(i);
    }
    if (found.length === 0) return;
    const cycle = g.findCycle();
    if (cycle === null) {
      for (const i of found) {
        const d = out[i]!;
        early.delete(d);
        out[i] = { ...d, message: `${d.message}: the nodes are out of order (there is no cycle), which ONNX forbids; a topological sort mends it (onnxruntime sorts them itself; \`onnxkit optimize\` writes them sorted)`, topology: 'out-of-order' };
      }
      return;
    }
    const on = new Map<Node, number>();
    cycle.forEach((n, k) => on.set(n, k));
    let at = -1;
    let first: Diagnostic | undefined;
    let reader: Node | undefined;
    let from = 0;
    // The reads along the cycle, dropped in one rebuild of the list (a long cycle in reverse
    // order has a read per node: a splice each would be quadratic).
    const drop = new Set<number>();
    for (const i of found) {
      const d = out[i]!;
      const e = early.get(d)!;
      early.delete(d);
      const r = on.get(e.reader);
      const p = on.get(e.producer);
      // The read is an edge of the cycle: the producer just before its reader.
      if (r === undefined || p === undefined || (p + 1) % cycle.length !== r) continue;
      drop.add(i);
      if (first === undefined) {
        at = i;
        first = d;
        reader = e.reader;
        from = r;
      }
    }
    const nodes = [...cycle.slice(from), ...cycle.slice(0, from)];
    const how = nodes.length === 1 ? 'it reads its own output, so no order of the nodes can run it' : 'each reads an output of the one before it, so no order of the nodes can run them';
    const text = `a cycle: ${describeCycle(nodes)} (${how}; the model must be re-exported or edited to break it)`;
    let named: Diagnostic;
    if (first !== undefined) {
      named = { ...first, message: `${reader!.describe()} reads '${first.value ?? ''}' on ${text}`, topology: 'cycle' };
    } else {
      // (a cycle through a subgraph's capture alone: its read is reported as from another scope)
      const d: { -readonly [K in keyof Diagnostic]: Diagnostic[K] } = { severity: 'error', code: 'I4-topological-order', message: `${nodes[0]!.describe()} is on ${text}`, topology: 'cycle' };
      d.graph = g.name;
      d.node = nodes[0]!.name || nodes[0]!.opType;
      named = d;
      at = found[0]!;
    }
    const tail = out.splice(at);
    out.push(named);
    for (let k = 0; k < tail.length; k++) if (!drop.has(at + k)) out.push(tail[k]!);
  }

  /**
   * `v.hasUse(n, i)`, answered where it can be from a cursor into the use list of a value with
   * many uses: a walk meets the reads of such a value (a shared weight or constant) mostly in the
   * order its uses were recorded — the decoder adds them in node order — so the use at the
   * cursor is mostly the read at hand, an array read where hasUse would look the reader up in the
   * value's use index (a hash map of every reader: a cache miss each on a large graph). A read
   * the cursor does not show is asked of hasUse, so the answer is hasUse's.
   */
  private listsUse(v: Value, n: Node, i: number): boolean {
    if (v.useCount <= CURSOR_USES) return v.hasUse(n, i);
    const list = v.uses;
    const at = this.cursors.get(v) ?? 0;
    const u = list[at];
    if (u !== undefined && u.node === n && u.index === i) {
      this.cursors.set(v, at + 1);
      return true;
    }
    return v.hasUse(n, i);
  }

  private initializer(g: Graph, name: string, v: Value): void {
    if (v.name !== name) this.report('error', 'I6-initializers', `initializer key '${name}' differs from its value name '${v.name}'`, { graph: g, value: v });
    const t = v.constValue;
    if (t === null) {
      this.report('error', 'I6-initializers', `initializer '${name}' has no tensor`, { graph: g, value: v });
      return;
    }
    if (v.producer !== null) this.report('error', 'I6-initializers', `initializer '${name}' also has a producer`, { graph: g, value: v });
    const tt = v.tensorType;
    if (tt) {
      if (tt.elemType !== 0 && tt.elemType !== t.dtype) {
        this.report('error', 'I6-initializers', `initializer '${name}' is ${dataTypeName(t.dtype)} but its value type says ${dataTypeName(tt.elemType)}`, { graph: g, value: v });
      }
      if (isStaticShape(tt.shape) && !shapesEqual(tt.shape, t.dims)) {
        this.report('error', 'I6-initializers', `initializer '${name}' has dims [${t.dims}] but its value type says [${tt.shape.join(',')}]`, { graph: g, value: v });
      }
    }
  }

  private uses(v: Value, g: Graph): void {
    // (by index, node and slot apart: reading `uses` would build an array, and `_useAt` a Use
    // object, for every single-use value of the model)
    const n = v.useCount;
    for (let i = 0; i < n; i++) {
      const node = v._userAt(i);
      if (node.graph === null) {
        this.report('error', 'I12-detached-uses', `'${v.name}' is used by ${node.describe()}, which is in no graph`, { graph: g, value: v, node });
        continue;
      }
      const owner = removedOwner(node);
      if (owner !== null) {
        this.report('error', 'I12-detached-uses', `'${v.name}' is used by ${node.describe()} inside a subgraph of ${owner.describe()}, which is in no graph`, { graph: g, value: v, node });
        continue;
      }
      const index = v._useIndexAt(i);
      if (node.inputs[index] !== v) {
        // (index -1: a single use, kept as its node alone, whose node no longer reads the value)
        const where = index < 0 ? ', but it reads the value at no input' : ` at input ${index}, but that input is another value`;
        this.report('error', 'I1-use-consistency', `'${v.name}' lists a use by ${node.describe()}${where}`, { graph: g, value: v, node });
      }
    }
  }

  private visible(v: Value, g: Graph, scope: Scope, outer: Scope[], at: number, n: Node | null): void {
    const pos = scope.defs.full().get(v);
    if (pos !== undefined) {
      if (pos >= at) {
        const who = n ? n.describe() : `graph '${g.name}' output`;
        this.report('error', 'I4-topological-order', `${who} reads '${v.name}' before ${v.producer?.describe() ?? 'its definition'} produces it`, { graph: g, node: n ?? undefined, value: v });
        if (n !== null && v.producer !== null) (this.early ??= new Map()).set(this.out[this.out.length - 1]!, { reader: n, producer: v.producer });
      }
      return;
    }
    for (const s of outer) {
      const p = s.defs.full().get(v);
      if (p !== undefined && p < s.limit) return;
    }
    const who = n ? n.describe() : `graph '${g.name}' output`;
    const producer = v.producer;
    const where = producer ? `produced by ${producer.describe()}${producer.graph ? ` in graph '${producer.graph.name}'` : ' (a removed node)'}` : 'defined nowhere in scope';
    this.report('error', 'I4-topological-order', `${who} reads '${v.name}', which is ${where}`, { graph: g, node: n ?? undefined, value: v });
  }

  opsets(m: Model): void {
    const local = new Set(m.functions.map((f) => f.domain));
    const domains = new Set<string>();
    // The graphs in m.graphs()'s order. Without subgraphs that is the order verify() checked
    // them in (main graph, functions, training graphs), and `graph` noted each one's domains as
    // it walked it; otherwise they are found by cursors (no iterator result per node).
    const noted = this.domains;
    if (!this.sawSubgraph) {
      const graphs = [m.graph, ...m.functions.map((f) => f.graph)];
      for (const t of m.trainingInfo) {
        if (t.initialization) graphs.push(t.initialization);
        if (t.algorithm) graphs.push(t.algorithm);
      }
      for (const g of graphs) {
        const list = noted.get(g)!;
        for (let i = 0; i < list.length; i++) domains.add(list[i] === 'ai.onnx' ? '' : list[i]!);
      }
    } else m.forEachGraph((g) => {
      // Runs of nodes share a domain: add it to the set only when it changes.
      let last: string | undefined;
      for (let n = g.firstNode; n !== null; n = n.next) {
        const d = n.domain;
        if (d === last) continue;
        last = d;
        domains.add(d === 'ai.onnx' ? '' : d);
      }
    });
    for (const d of domains) {
      if (m.opsetVersion(d) === undefined && !local.has(d)) {
        this.report('error', 'I10-opset-imports', `nodes use domain '${d || 'ai.onnx'}' but the model imports no opset for it`);
      }
    }
  }
}

/** The node, owning `n` through subgraphs, that is no longer in a graph (null when all are). */
function removedOwner(n: Node): Node | null {
  for (let g = n.graph; g !== null && g.parent !== null; g = g.parent.graph) {
    if (g.parent.graph === null) return g.parent;
  }
  return null;
}
