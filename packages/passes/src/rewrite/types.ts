/**
 * The vocabulary of rewrite passes: what a pass returns (`PassResult`), what it records for
 * `--explain` (`ChangeRecord`, `DeclineRecord`), what it receives (`PassContext`) and the
 * pluggable `ConstantEvaluator` interface that packages/runtime implements with onnxruntime.
 *
 * A rewrite mutates the model in place. `modified` must equal `changes > 0`; the PassManager
 * checks it (DESIGN.md §3).
 */
import type { Model, Node, Tensor, Value } from '@onnxkit/graph';
import type { AppliedPatch } from './local-verify.js';

/** One applied rewrite, as printed by `--explain`. */
export interface ChangeRecord {
  /** The pass that made the change. */
  readonly pass: string;
  /** The rule inside the pass (e.g. `conv+bn`), also stamped on new nodes. */
  readonly rule: string;
  /** Names (or `OpType#n` when unnamed) of the nodes removed. */
  readonly removed: readonly string[];
  /** Names of the nodes added. */
  readonly added: readonly string[];
  /** Graph the change happened in ('' for the main graph's own name). */
  readonly graph: string;
  /** Human sentence: what happened. */
  readonly description: string;
  /** Change of initializer bytes (negative = smaller model). */
  readonly bytesDelta: number;
  /** Rule-specific numbers (weight error, MACs saved, ...), JSON-serialisable. */
  readonly details?: Readonly<Record<string, unknown>>;
}

/** A candidate the pass looked at and declined, with the reason (also counted in `rejected`). */
export interface DeclineRecord {
  readonly pass: string;
  /** Node name (or `OpType#n`), or '' for model-level declines. */
  readonly node: string;
  readonly opType: string;
  /** Stable short reason code, the key of `PassResult.rejected`. */
  readonly reason: string;
  /** Free-text detail: which value, which dimension, which attribute. */
  readonly detail: string;
}

export interface PassResult {
  /** True iff the model changed; must equal `changes > 0`. */
  modified: boolean;
  changes: number;
  nodesAdded: number;
  nodesRemoved: number;
  /** Initializer bytes after minus before (negative = smaller). */
  bytesDelta: number;
  /** Declined candidates per reason code. */
  rejected: Record<string, number>;
  timeMs: number;
  /**
   * Every applied change, in order (only the last one when the pipeline ran with
   * `changeLog: false`; `changes` is the count either way).
   */
  log: ChangeRecord[];
  /** Declined candidates (capped at `MAX_DECLINE_RECORDS`; `rejected` stays exact). */
  declined: DeclineRecord[];
  /** Pass-specific summary numbers (bytes saved, weight error, ...), JSON-serialisable. */
  metrics: Record<string, unknown>;
}

/**
 * Evaluates constant sub-computations the TypeScript kernels do not cover. packages/runtime
 * provides one backed by onnxruntime; passes only know this interface.
 */
export interface ConstantEvaluator {
  /**
   * Evaluates `nodes` (in topological order, all in one graph) given the constant values of
   * every input they read from outside the list. Returns a tensor for each output of each node
   * that it could compute; a missing entry means "could not evaluate" (the pass leaves that
   * node alone). It must not mutate the nodes.
   */
  evaluate(nodes: readonly Node[], inputs: ReadonlyMap<Value, Tensor>, opset: number): Promise<Map<Value, Tensor>>;
}

/** Options a pass accepts; each pass documents its own keys. */
export type PassOptions = Readonly<Record<string, unknown>>;

/** Hooks the PassManager gives a pass; every mutation goes through them. */
export interface PassContext {
  /** This pass's options. */
  readonly options: PassOptions;
  /** Optional evaluator for constant folding beyond the TypeScript kernels. */
  readonly evaluator?: ConstantEvaluator;
  /** Fixed input shapes (`--input-shape`), forwarded to shape inference. */
  readonly inputShapes?: Readonly<Record<string, readonly (number | string)[]>>;
  /** False: keep only the last ChangeRecord in `PassResult.log` (PipelineOptions.changeLog). */
  readonly changeLog?: boolean;
  /** Asked before each change; false means "stop changing" (stopAfterChanges reached). */
  mayChange(): boolean;
  /**
   * Called after each applied change (the manager verifies the model here in 'change' mode).
   * `validated` is true for a patch RewriteSession.apply validated before making it, and for a
   * `mutate` change the session checked locally (one that said what it touched); a change made
   * any other way (another `mutate`, a hand-written pass) leaves it unset and is verified after its pass.
   * `factsKept`: the shared shape facts were brought up to date with the change (see
   * `Facts.patched`); otherwise the manager drops them. `factsAlike`: besides, every value read
   * in place of a replaced one has the replaced one's facts, so no other value's facts changed.
   */
  afterChange(model: Model, record: ChangeRecord, validated?: boolean, factsKept?: boolean, factsAlike?: boolean): void;
  /**
   * What one pass run learned about the model that stays true until the next change: the shape
   * inference facts, the list of graphs and the op-type index. The manager shares it between consecutive pass runs
   * and empties it on every change — except the facts, which a validated patch updates in place
   * (only the nodes it touched are inferred again), the op counts, which it keeps exact, the graph
   * list, which it leaves usable unless it adds a node holding a subgraph, and the op-type index,
   * which it leaves usable when it only removed nodes — so a pipeline of exact rewrites infers
   * shapes once, not once per pass or per changed model.
   */
  readonly shared?: SharedModelState;
  /**
   * Told what each validated patch touched (RewriteSession.apply), before its afterChange: the
   * manager's closing check re-checks only that (see local-verify.ts). The patch object is the
   * session's own, refilled for each patch: read it and its arrays during the call, keep neither
   * (copy what must be kept: some arrays are a rule's own, refilled for its next patch).
   */
  readonly onPatch?: (patch: AppliedPatch) => void;
  /**
   * Told, when a pass run ends, that a change it reported as validated left a use that is not
   * sound: the walk of a value's uses RewriteSession.mutate's check left to the end of the run
   * (PatchTracker.checkChange) failed. The manager then treats the run as one with an unvalidated
   * change (the model is verified in full after it).
   */
  readonly onUnsound?: () => void;
  /**
   * Set by the manager when this pass's previous run in the pipeline changed nothing and declined
   * nothing, and every change since was a validated patch of the main graph (no subgraphs in the
   * model) that kept the shape facts exactly (no value took other facts than the one it replaced):
   * what those patches touched. A whole-graph pass may then look only there, and run its full sweep
   * when it finds anything that could make it change or decline something (ChangeScope).
   */
  readonly scope?: ChangeScope;
  /** Whether the manager keeps a ChangeScope now (it then wants `factsAlike` of each patch). */
  readonly scopeWatched?: () => boolean;
}

/**
 * What the validated patches since a pass's last quiet run touched (see PassContext.scope).
 * A node or value here may since have left the graph (`node.graph === null`, no producer).
 */
export interface ChangeScope {
  /** Nodes the patches inserted. */
  readonly nodes: readonly Node[];
  /**
   * Values whose uses changed: the values read in place of replaced ones and the replaced ones,
   * the inputs of removed nodes, registered initializers, renamed values.
   */
  readonly values: readonly Value[];
}

/** See `PassContext.shared`; opaque to passes (RewriteSession reads and fills it). */
export interface SharedModelState {
  facts?: unknown;
  graphs?: unknown;
  opIndex?: unknown;
  /** Node counts per op type and graph: kept exact by validated patches, dropped by any other change. */
  opCounts?: unknown;
}

/** A rewrite pass. `run` mutates `model` in place. */
export interface RewritePass {
  /** Pass name = file stem = CLI name, e.g. `fold-batchnorm`. */
  readonly name: string;
  /** One line for `onnxkit passes`. */
  readonly description: string;
  /** True when the rewrite preserves outputs up to floating-point reassociation. */
  readonly exact: boolean;
  run(model: Model, ctx: PassContext): PassResult | Promise<PassResult>;
}

/** How many decline records a pass keeps for `--explain` (counts in `rejected` stay exact). */
export const MAX_DECLINE_RECORDS = 5000;
