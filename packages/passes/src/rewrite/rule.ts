/**
 * Rules as data (after onnxscript's rewriter pattern → check → rewrite and tract's
 * `declutter() -> Patch`).
 *
 * A rule declares
 *  - `anchor`: the op type(s) it starts from (`'Conv'` = the default ONNX domain;
 *    `'com.microsoft:FusedConv'` for another domain). The pass visits only nodes of these types;
 *  - `reasons`: every reason it may decline with, `as const` — `check` and `rewrite` can only
 *    return these (a misspelt reason fails typecheck), plus the reasons of the shared mutation
 *    primitive (`ApplyReason`) which the session adds by itself;
 *  - `match(node, ctx)`: the structural pattern around the anchor (undefined = not a candidate,
 *    nothing recorded);
 *  - `check(match, ctx)`: the preconditions; a `[reason, detail]` pair declines the candidate;
 *  - `rewrite(match, ctx)`: the replacement as a `Patch` (nodes to remove, values to replace, new
 *    nodes and initializers), a late decline (a condition only the computation reveals, e.g. an
 *    approximation error above the bound), or undefined when there is nothing to do after all;
 *  - optionally `state: () => S`, the rule's per-run state (totals to report, a patch object
 *    refilled for each change): made once per pass run, before the first visit, and handed to
 *    match, check, rewrite, outcome and `after` (once, after the traversal: metrics) as
 *    `ctx.state`, typed `S`. A rule keeps nothing of a run anywhere else — not in a module-level
 *    map keyed by the session — so two runs (of one pipeline, or of two pipelines in one process)
 *    never see each other's state. A rule without `state` has `ctx.state` undefined.
 *
 * `defineRulePass` turns rules into a RewritePass: the pass owns the traversal (graph order over the
 * anchored nodes only, graphs whose owner was removed skipped), the change budget
 * (`stopAfterChanges`), counting, `--explain` change records (through RewriteSession.apply: the
 * one primitive that validates, rewires uses, removes safely and stamps the rule name) and decline
 * records. A rule may start from initializers instead of nodes (`defineInitializerRule`: a weight
 * stored another way, its patch replacing the initializer). Whole-graph passes (dead code, CSE,
 * initializer dedup, convert-fp16) give `sweep` instead of rules, with the same typed reasons and
 * the same session primitives (`apply`; `mutate`, which checks locally a change that says what it
 * touched).
 *
 * Options are typed: a pass declares its defaults, and `pass.with(options)` is the typed factory
 * (a configured instance: what `PipelineOptions.configured` and the CLI's flags give the
 * pipeline). A parser from loose values (JSON, `pass.key=value` text: `PipelineOptions.passOptions`,
 * `passOptionsFromStrings`) checks them against the same types.
 */
import type { Graph, Model, Node, Value } from '@onnxkit/graph';
import { PassError } from './errors.js';
import { anchorKey, hasAnchor, opCounts } from './op-counts.js';
import { RewriteSession, type Rewrite } from './session.js';
import type { PassContext, PassOptions, PassResult, RewritePass } from './types.js';

/** Reasons the shared mutation primitive (RewriteSession.apply/mutate) may decline with. */
export const APPLY_REASONS = [
  'output-used-elsewhere',
  'output-is-graph-output',
  'graph-output-name',
  'missing-input',
  'internal-node-not-in-graph',
  'internal-replaced-value-not-removed',
  'stopped-after-n-changes',
] as const;
export type ApplyReason = (typeof APPLY_REASONS)[number];

/** Reasons the shared attribute check (`attributeIssue`) returns. */
export const ATTRIBUTE_REASONS = ['unknown-attribute', 'bad-attribute'] as const;
export type AttributeReason = (typeof ATTRIBUTE_REASONS)[number];

/**
 * A declined candidate: a reason of the rule's union and a free-text detail; an initializer rule
 * may name the node its decline is about (the reader that needs exact values), which the decline
 * record then shows (a node rule's record names its anchor).
 */
export type Decline<R extends string> = readonly [reason: R, detail: string, node?: Node];

/** What a rule's rewrite returns: a node-pattern rewrite; `rule` defaults to the rule's name. */
export type Patch = Omit<Rewrite, 'rule'> & { rule?: string };

/**
 * What a rule's `after` sees, once per pass run: the run's session, options and the rule's state.
 * The session declines only with the rule's reasons (and the primitive's):
 * `ctx.session.decline(n, 'not-a-reason')` fails typecheck like a wrong `check` result.
 */
export interface RunContext<O, R extends string = never, S = undefined> {
  readonly session: RewriteSession<R | ApplyReason>;
  readonly options: O;
  /** The rule's per-run state (RuleSpec.state), made once per pass run; undefined for a rule without one. */
  readonly state: S;
}

/** What match, check, rewrite and outcome see: the run's context and the graph the anchor is in. */
export interface RuleContext<O, R extends string = never, S = undefined> extends RunContext<O, R, S> {
  /** The graph the anchor node is in. */
  readonly graph: Graph;
}

export interface Rule<O = unknown, R extends string = string> {
  readonly name: string;
  /** Anchor keys: op type for the default domain, `domain::OpType` (the registry's opKey) otherwise. */
  readonly anchors: readonly string[];
  /** Anchor keys of which the graph must hold a node for `visit` to match at all (see RuleSpec.requires). */
  readonly requires?: readonly string[];
  readonly reasons: readonly R[];
  /** Makes the rule's state for one pass run (RuleSpec.state); undefined for a rule without. */
  readonly state: (() => unknown) | undefined;
  /**
   * Visits one anchored node; returns a decline or undefined (applied, or not a candidate).
   * `ctx.state` is what this rule's `state` made for the run (the driver's contract).
   */
  visit(node: Node, ctx: RuleContext<O, R, unknown>): Decline<R | ApplyReason> | undefined;
  /** Runs once per pass run after the traversal (RuleSpec.after). (A method: options are bivariant, as in `visit`.) */
  after?(ctx: RunContext<O, R, unknown>): void;
}

export interface RuleSpec<M, R extends string, O, S = undefined> {
  readonly name: string;
  readonly anchor: string | readonly string[];
  /**
   * Op types (anchor keys) the match needs next to the anchor — e.g. the MatMul producer of
   * matmul+add's Add — when it matches nothing (and declines nothing) without one of them. A
   * graph with none of them is skipped like a graph without anchors, without visiting an anchor.
   */
  readonly requires?: string | readonly string[];
  readonly reasons: readonly R[];
  /**
   * The rule's per-run state: called once per pass run, before the traversal (not when the pass's
   * precondition declines); its value is `ctx.state` in every hook below, for that run only.
   */
  readonly state?: () => S;
  match(node: Node, ctx: RuleContext<O, NoInfer<R>, NoInfer<S>>): M | undefined;
  check?(match: NoInfer<M>, ctx: RuleContext<O, NoInfer<R>, NoInfer<S>>): Decline<NoInfer<R>> | undefined;
  /** A Patch to apply, a late decline, or undefined: nothing to do after all (not recorded). */
  rewrite(match: NoInfer<M>, ctx: RuleContext<O, NoInfer<R>, NoInfer<S>>): Patch | Decline<NoInfer<R>> | undefined;
  /** Told the final outcome of every matched candidate (undefined = applied or nothing to do). */
  outcome?(match: NoInfer<M>, declined: Decline<NoInfer<R> | ApplyReason> | undefined, ctx: RuleContext<O, NoInfer<R>, NoInfer<S>>): void;
  /**
   * Runs once per pass run after the traversal (also when the change budget cut it short; not
   * when the precondition declined): what the run's state says, e.g. `session.metrics`.
   */
  after?(ctx: RunContext<O, NoInfer<R>, NoInfer<S>>): void;
}

/**
 * A rule anchored on initializers rather than nodes: it is offered each initializer of each graph
 * (those of the graph when the pass's rules start on it, in the graph's order), e.g. a weight to
 * store another way. Its patch replaces the initializer (Rewrite.replace: the initializer leaves
 * the graph, its replacement takes its name) and inserts the nodes that compute it.
 */
export interface InitializerRule<O = unknown, R extends string = string> {
  readonly name: string;
  readonly reasons: readonly R[];
  /** Makes the rule's state for one pass run (InitializerRuleSpec.state); undefined for a rule without. */
  readonly state: (() => unknown) | undefined;
  /** Visits one initializer of `ctx.graph`; returns a decline or undefined (applied, or not a candidate). */
  visit(initializer: Value, ctx: RuleContext<O, R, unknown>): Decline<R | ApplyReason> | undefined;
  /** Runs once per pass run after the traversal (RuleSpec.after). (A method: options are bivariant, as in `visit`.) */
  after?(ctx: RunContext<O, R, unknown>): void;
}

export interface InitializerRuleSpec<M, R extends string, O, S = undefined> extends Omit<RuleSpec<M, R, O, S>, 'anchor' | 'requires' | 'match'> {
  match(initializer: Value, ctx: RuleContext<O, NoInfer<R>, NoInfer<S>>): M | undefined;
}

/** What a node rule and an initializer rule both declare: a match from their anchor, check, rewrite, outcome. */
type RuleBody<X, M, R extends string, O, S> = Pick<RuleSpec<M, R, O, S>, 'name' | 'check' | 'rewrite' | 'outcome'> & {
  match(anchor: X, ctx: RuleContext<O, NoInfer<R>, NoInfer<S>>): M | undefined;
};

/**
 * A rule's visit (node or initializer anchored): match, check → rewrite → apply, then the outcome.
 * The driver hands it the context whose state this rule's `state` made (an `unknown` to it).
 */
function visitorOf<X, M, R extends string, O, S>(spec: RuleBody<X, M, R, O, S>): (anchor: X, ctx: RuleContext<O, R, unknown>) => Decline<R | ApplyReason> | undefined {
  return (anchor, ctx: RuleContext<O, R, unknown>) => {
    const c = ctx as RuleContext<O, R, S>;
    const m = spec.match(anchor, c);
    if (m === undefined) return undefined;
    const out = attempt(spec, m, c);
    spec.outcome?.(m, out, c);
    return out;
  };
}

/** check → rewrite → apply, for one matched candidate. */
function attempt<X, M, R extends string, O, S>(spec: RuleBody<X, M, R, O, S>, m: M, ctx: RuleContext<O, R, S>): Decline<R | ApplyReason> | undefined {
  const why = spec.check?.(m, ctx);
  if (why) return why;
  const p = spec.rewrite(m, ctx);
  if (p === undefined || isDecline(p)) return p;
  // The patch is the rule's fresh object: name it in place (no copy per change).
  p.rule ??= spec.name;
  return ctx.session.tryApply(ctx.graph, p as Rewrite);
}

/** A rule's `after` as the driver calls it (with the context of the state its `state` made). */
function afterOf<R extends string, O, S>(spec: Pick<RuleSpec<unknown, R, O, S>, 'after'>): ((ctx: RunContext<O, R, unknown>) => void) | undefined {
  return spec.after === undefined ? undefined : (ctx) => spec.after!(ctx as RunContext<O, R, S>);
}

/** Declares a rule (see the file header). */
export function defineRule<M, const R extends string, O = unknown, S = undefined>(spec: RuleSpec<M, R, O, S>): Rule<O, R> {
  const anchors = typeof spec.anchor === 'string' ? [spec.anchor] : [...spec.anchor];
  const requires = spec.requires === undefined ? undefined : typeof spec.requires === 'string' ? [spec.requires] : [...spec.requires];
  return {
    name: spec.name,
    anchors,
    ...(requires ? { requires } : {}),
    reasons: spec.reasons,
    state: spec.state,
    visit: visitorOf<Node, M, R, O, S>(spec),
    after: afterOf<R, O, S>(spec),
  };
}

/** Declares an initializer-anchored rule (see InitializerRule). */
export function defineInitializerRule<M, const R extends string, O = unknown, S = undefined>(spec: InitializerRuleSpec<M, R, O, S>): InitializerRule<O, R> {
  return { name: spec.name, reasons: spec.reasons, state: spec.state, visit: visitorOf<Value, M, R, O, S>(spec), after: afterOf<R, O, S>(spec) };
}

function isDecline<R extends string>(p: Patch | Decline<R>): p is Decline<R> {
  return Array.isArray(p);
}

export { anchorKey } from './op-counts.js';

/** Typed options: defaults plus a parser from loose (CLI / JSON) values that throws on bad input. */
export interface OptionsSpec<O> {
  readonly defaults: O;
  /** Validates loose values (unknown keys and wrong types are errors); keys left out keep their defaults. */
  parse(loose: PassOptions): Partial<O>;
  /** Checks the merged options (a required value still unset, a bound out of range); returns the problem. */
  validate?(options: O): string | undefined;
}

/** A rewrite pass built from rules (or a whole-graph sweep) with typed options and reasons. */
export interface RulePass<O = Record<string, never>, R extends string = string> extends RewritePass {
  /** Every reason this pass may decline with (rules' unions + ApplyReason), sorted. */
  readonly reasons: readonly (R | ApplyReason)[];
  readonly rules: readonly Rule<O, string>[];
  readonly initializerRules: readonly InitializerRule<O, string>[];
  readonly defaults: O;
  /** The typed options factory: this pass with `options` over its defaults. */
  with(options: Partial<O>): RulePass<O, R>;
  /** Parses loose option values (CLI, passOptions) into typed options; throws a PassError on bad input. */
  parseOptions(loose: PassOptions): O;
}

interface PassSpecBase<O, R extends string> {
  readonly name: string;
  readonly description: string;
  readonly exact: boolean;
  readonly options?: OptionsSpec<O>;
  /** Reasons the pass-level code (`sweep`, `before`) declines with. */
  readonly reasons?: readonly R[];
}

export interface RulePassSpec<O, R extends string> extends PassSpecBase<O, R> {
  readonly rules?: readonly Rule<O, R>[];
  /** Rules anchored on initializers (run after the node rules). */
  readonly initializerRules?: readonly InitializerRule<O, R>[];
  /**
   * A precondition of the whole pass (an opset too old for what its rules insert): a decline is
   * recorded once, for the model, and no rule runs.
   */
  precondition?(s: RewriteSession<R | ApplyReason>, options: O): Decline<R> | undefined;
  /**
   * A whole-graph pass body (instead of, or before, the rules). Declines through
   * `s.decline(node, reason)` with reason typed by the pass's union.
   */
  sweep?(s: RewriteSession<R | ApplyReason>, options: O): void | Promise<void>;
  /** Runs after the rules (summary metrics). */
  after?(s: RewriteSession<R | ApplyReason>, options: O): void;
}

const NO_OPTIONS: OptionsSpec<Record<string, never>> = {
  defaults: {},
  parse(loose) {
    const keys = Object.keys(loose);
    if (keys.length > 0) throw new Error(`takes no options (got ${keys.join(', ')})`);
    return {};
  },
};

/** Builds a RewritePass from rules and/or a whole-graph sweep (see the file header). */
export function defineRulePass<O = Record<string, never>, const R extends string = never>(spec: RulePassSpec<O, R>): RulePass<O, R> {
  const optSpec = (spec.options ?? NO_OPTIONS) as OptionsSpec<O>;
  const rules = spec.rules ?? [];
  const initializerRules = spec.initializerRules ?? [];
  const reasonSet = new Set<string>([...(spec.reasons ?? []), ...APPLY_REASONS]);
  for (const r of rules) for (const x of r.reasons) reasonSet.add(x);
  for (const r of initializerRules) for (const x of r.reasons) reasonSet.add(x);
  const reasons = [...reasonSet].sort() as (R | ApplyReason)[];
  // Per anchor key, the rules anchored there (their positions in `rules`), in declaration order.
  const byAnchor = new Map<string, number[]>();
  rules.forEach((r, i) => {
    for (const a of r.anchors) byAnchor.set(a, [...(byAnchor.get(a) ?? []), i]);
  });

  const make = (fixed: O | undefined): RulePass<O, R> => ({
    name: spec.name,
    description: spec.description,
    exact: spec.exact,
    reasons,
    rules,
    initializerRules,
    defaults: fixed ?? optSpec.defaults,
    with: (o: Partial<O>) => make({ ...(fixed ?? optSpec.defaults), ...o }),
    parseOptions: (loose: PassOptions) => parseOptions(spec.name, optSpec, loose),
    run(model: Model, ctx: PassContext): PassResult | Promise<PassResult> {
      const options = parseOptions(spec.name, optSpec, ctx.options, fixed);
      const s = new RewriteSession<R | ApplyReason>(spec.name, model, ctx);
      const finish = (): PassResult => {
        const why = spec.precondition?.(s, options);
        if (why) s.decline(why[2] ?? null, why[0], why[1]);
        else {
          // Each rule's state for this run (RuleSpec.state), by its position: made here, dropped
          // with the run.
          const states = rules.map(stateOf);
          const initializerStates = initializerRules.map(stateOf);
          if (byAnchor.size > 0) runRules(s, rules, byAnchor, options, states);
          if (initializerRules.length > 0) runInitializerRules(s, initializerRules, options, initializerStates);
          afterRules(s, rules, options, states);
          afterRules(s, initializerRules, options, initializerStates);
        }
        spec.after?.(s, options);
        return s.finish();
      };
      const r = spec.sweep?.(s, options);
      return r instanceof Promise ? r.then(finish) : finish();
    },
  });
  return make(undefined);
}

function parseOptions<O>(pass: string, spec: OptionsSpec<O>, loose: PassOptions, base?: O): O {
  try {
    const o = Object.keys(loose).length === 0 ? (base ?? spec.defaults) : { ...(base ?? spec.defaults), ...spec.parse(loose) };
    const problem = spec.validate?.(o);
    if (problem) throw new Error(problem);
    return o;
  } catch (e) {
    throw new PassError(`bad option: ${e instanceof Error ? e.message : String(e)}`, {
      pass,
      ranBefore: [],
      code: 'PASS_BAD_OPTION',
      hint: `${pass} options (defaults): ${Object.entries(spec.defaults as object).map(([k, v]) => `${k}=${Array.isArray(v) ? `[${v.join(',')}]` : String(v)}`).join(', ') || 'none'}`,
    });
  }
}

/**
 * The traversal every rule pass shares: the anchored nodes of each live graph, in graph order,
 * each offered to its rules. The op-type index (anchor key → nodes with their positions) is built
 * by one scan of a graph and shared by every following pass run until the next change that adds
 * nodes or re-sorts the graph (it lives in the manager's `PassContext.shared`), so a pass that finds nothing
 * costs a lookup per anchored node, not a scan of the graph. Nodes a rule inserts are seen on the
 * pass's next run (the manager reruns a pass that changed something); nodes removed meanwhile are
 * skipped.
 */
function runRules<O, R extends string>(s: RewriteSession<R | ApplyReason>, rules: readonly Rule<O, R>[], byAnchor: ReadonlyMap<string, readonly number[]>, options: O, states: readonly unknown[]): void {
  const anchors = [...byAnchor.keys()];
  for (const g of s.liveGraphs()) {
    // A graph where no rule can match (none of its anchor op types, or none of the op types its
    // match requires) is skipped: the pass changes nothing there. Its op counts, when not known
    // yet, are read off the op-type index, built here (one scan of the graph, not a count and
    // then an index: building it costs about what counting does, and later rule passes share it).
    const shared = s.ctx.shared;
    if (shared !== undefined && (shared.opCounts as Map<Graph, unknown> | undefined)?.has(g) !== true) opIndex(s, g);
    if (!mayMatch(opCounts(shared, g), rules)) continue;
    const work = anchoredNodes(opIndex(s, g), anchors);
    if (work.length === 0) continue;
    // One context per rule (its own state), per graph.
    const ctxs = states.map((state): RuleContext<O, R, unknown> => ({ session: s, options, state, graph: g }));
    if (!visitAll(s, g, work, rules, byAnchor, ctxs)) return;
  }
}

/** A rule's state for one pass run (undefined for a rule without). */
function stateOf(r: { readonly state: (() => unknown) | undefined }): unknown {
  return r.state === undefined ? undefined : r.state();
}

/** Each rule's `after`, once per pass run, with its run's state. */
function afterRules<O, R extends string>(s: RewriteSession<R | ApplyReason>, rules: readonly (Rule<O, R> | InitializerRule<O, R>)[], options: O, states: readonly unknown[]): void {
  for (let i = 0; i < rules.length; i++) rules[i]!.after?.({ session: s, options, state: states[i] });
}

/**
 * Offers each node of `work` (anchored nodes of `g`, in graph order) to its rules; false once the
 * change budget is spent. A function of its own, not runRules' inner loop: the loop is what V8
 * compiles on the stack (OSR) while a pass runs, and code compiled in the middle of runRules
 * met its unrun remainder (the next graph, the next pass's prologue) as it left the loop and was
 * thrown away, then compiled again — the most recompiled function of the rule passes.
 */
function visitAll<O, R extends string>(s: RewriteSession<R | ApplyReason>, g: Graph, work: readonly Node[], rules: readonly Rule<O, R>[], byAnchor: ReadonlyMap<string, readonly number[]>, ctxs: readonly RuleContext<O, R, unknown>[]): boolean {
  // Indexed loops: array iterators allocate a result per step until this is optimised.
  for (let i = 0; i < work.length; i++) {
    const n = work[i]!;
    if (s.stopped) return false;
    if (n.graph !== g) continue;
    const here = byAnchor.get(anchorKey(n))!;
    for (let r = 0; r < here.length; r++) {
      const k = here[r]!;
      if (n.graph !== g) break;
      const why = rules[k]!.visit(n, ctxs[k]!);
      if (why) s.decline(n, why[0], why[1]);
      if (s.stopped) return false;
    }
  }
  return true;
}

/**
 * The traversal of initializer rules: each initializer of each live graph (those registered when
 * the graph's turn comes; one a rule replaced, or that left meanwhile, is skipped), offered to
 * each rule in order. Stops once the change budget is spent.
 */
function runInitializerRules<O, R extends string>(s: RewriteSession<R | ApplyReason>, rules: readonly InitializerRule<O, R>[], options: O, states: readonly unknown[]): void {
  for (const g of s.liveGraphs()) {
    if (g.initializers.size === 0) continue;
    const ctxs = states.map((state): RuleContext<O, R, unknown> => ({ session: s, options, state, graph: g }));
    for (const v of [...g.initializers.values()]) {
      for (let r = 0; r < rules.length; r++) {
        if (s.stopped) return;
        if (g.initializers.get(v.name) !== v) break;
        const why = rules[r]!.visit(v, ctxs[r]!);
        if (why) s.decline(why[2] ?? null, why[0], why[1]);
      }
    }
  }
}

/** Whether some rule has an anchor in the graph and, if it requires op types, one of them. */
function mayMatch(counts: ReadonlyMap<string, number>, rules: readonly Rule<unknown, string>[]): boolean {
  for (const r of rules) if (hasAnchor(counts, r.anchors) && (r.requires === undefined || hasAnchor(counts, r.requires))) return true;
  return false;
}

/** Nodes of one op type (anchor key) in graph order, with their positions in the graph. */
interface Bucket {
  readonly nodes: Node[];
  readonly pos: number[];
}
type OpIndex = Map<string, Bucket>;

/** The op-type index of `g`, shared across pass runs while the model is unchanged. */
function opIndex(s: RewriteSession<string>, g: Graph): OpIndex {
  const shared = s.ctx.shared;
  let all = shared?.opIndex as Map<Graph, OpIndex> | undefined;
  const hit = all?.get(g);
  if (hit) return hit;
  const index: OpIndex = new Map();
  let i = 0;
  // A cursor walk (nothing changes meanwhile): Graph's iterator allocates a result per node.
  for (let n = g.firstNode; n !== null; n = n.next) {
    const k = anchorKey(n);
    let b = index.get(k);
    if (!b) index.set(k, (b = { nodes: [], pos: [] }));
    b.nodes.push(n);
    b.pos.push(i++);
  }
  if (shared) {
    if (!all) shared.opIndex = all = new Map();
    all.set(g, index);
    // The op counts, when not known: the buckets' sizes (every node was just met in the graph),
    // not a second look at each indexed node (opCounts' liveness check, for an older index).
    let counts = shared.opCounts as Map<Graph, Map<string, number>> | undefined;
    if (counts?.has(g) !== true) {
      if (!counts) shared.opCounts = counts = new Map();
      const c = new Map<string, number>();
      for (const [k, b] of index) c.set(k, b.nodes.length);
      counts.set(g, c);
    }
  }
  return index;
}

/** The nodes of the given anchor keys, merged in graph order. */
function anchoredNodes(index: OpIndex, anchors: readonly string[]): readonly Node[] {
  const buckets: Bucket[] = [];
  for (const a of anchors) {
    const b = index.get(a);
    if (b) buckets.push(b);
  }
  if (buckets.length === 0) return [];
  if (buckets.length === 1) return buckets[0]!.nodes;
  // Positions are distinct graph positions: when the anchored nodes are a good share of the graph
  // (eliminate-identity's 16 anchor types on a chain: 60,000 of 100,000 nodes), each node is put
  // in its slot and the slots are read in order — two linear passes instead of a comparison of
  // every bucket's head per node.
  let total = 0;
  let end = 0;
  for (let j = 0; j < buckets.length; j++) {
    const pos = buckets[j]!.pos;
    total += pos.length;
    end = Math.max(end, pos[pos.length - 1]! + 1);
  }
  if (total * 4 >= end) {
    // Typed slots (bucket + 1, index in it): a JS array this long would be a dictionary.
    const bucketAt = new Int32Array(end);
    const indexAt = new Int32Array(end);
    for (let j = 0; j < buckets.length; j++) {
      const pos = buckets[j]!.pos;
      for (let i = 0; i < pos.length; i++) {
        bucketAt[pos[i]!] = j + 1;
        indexAt[pos[i]!] = i;
      }
    }
    const merged = new Array<Node>(total);
    let k = 0;
    for (let p = 0; p < end; p++) {
      const j = bucketAt[p]!;
      if (j !== 0) merged[k++] = buckets[j - 1]!.nodes[indexAt[p]!]!;
    }
    return merged;
  }
  const out: Node[] = [];
  const at = new Array<number>(buckets.length).fill(0);
  for (;;) {
    let best = -1;
    let bestPos = Infinity;
    for (let j = 0; j < buckets.length; j++) {
      const p = buckets[j]!.pos[at[j]!];
      if (p !== undefined && p < bestPos) {
        bestPos = p;
        best = j;
      }
    }
    if (best < 0) return out;
    out.push(buckets[best]!.nodes[at[best]!++]!);
  }
}

/** Helpers for option parsers: each throws with the key name on a wrong type. */
export const opt = {
  bool(loose: PassOptions, key: string): boolean | undefined {
    const v = loose[key];
    if (v === undefined) return undefined;
    if (typeof v === 'boolean') return v;
    if (v === 'true' || v === 'false') return v === 'true';
    throw new Error(`'${key}' must be true or false, got ${JSON.stringify(v)}`);
  },
  num(loose: PassOptions, key: string, check: (n: number) => boolean = Number.isFinite): number | undefined {
    const v = loose[key];
    if (v === undefined) return undefined;
    const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
    if (!check(n)) throw new Error(`'${key}' has a bad value ${JSON.stringify(v)}`);
    return n;
  },
  strings(loose: PassOptions, key: string): string[] | undefined {
    const v = loose[key];
    if (v === undefined) return undefined;
    if (typeof v === 'string') return v.split(',').map((x) => x.trim()).filter(Boolean);
    if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return [...(v as string[])];
    throw new Error(`'${key}' must be a list of names, got ${JSON.stringify(v)}`);
  },
  /** Throws on any key not in `known`. */
  only(loose: PassOptions, known: readonly string[]): void {
    const bad = Object.keys(loose).filter((k) => !known.includes(k));
    if (bad.length > 0) throw new Error(`unknown option${bad.length > 1 ? 's' : ''} ${bad.map((k) => `'${k}'`).join(', ')} (known: ${known.join(', ') || 'none'})`);
  },
};
