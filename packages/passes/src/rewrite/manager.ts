/**
 * PassManager: runs a pipeline of rewrite passes to a bounded fixed point (after onnx/ir-py's
 * `PassManager(steps, early_stop)` and tract's optimizer loop).
 *
 * - verify: 'off' | 'pass' | 'change' — run `verify()` after each pass or after each change and
 *   throw a PassError naming the pass, the change and the diagnostics. In 'pass' mode a pass whose
 *   every change was a patch applied by RewriteSession.apply (which validates a rewrite before
 *   making it, rewires through the IR's use-keeping primitives and restores topological order) is
 *   not followed by a whole-model verify() of its own: the next check (after a pass that changed
 *   the model some other way, or the final one) covers it and names it. Whatever the mode, the
 *   input is verified first and the output last: the manager never hands back a model that fails
 *   `verify()` (it throws instead; the model was mutated in place, so callers that must keep the
 *   original pass a clone).
 * - stopAfterChanges: N — the N+1-th change is refused, to bisect a bad rewrite.
 * - disabled: pass names to skip.
 * - Every error is wrapped in a PassError carrying the pass name and the passes that ran before.
 * - The contract `modified === (changes > 0)` is checked for every pass.
 * - A pass that changed nothing is not rerun until another pass changes the model.
 * - A pass whose last run changed and declined nothing is told what changed since (PassContext.scope)
 *   while every change since was a validated patch of the main graph of a model without subgraphs
 *   that left every other value's shape facts as they were: whole-graph passes (dead code,
 *   constant folding, CSE) then look there first and sweep the whole graph only when something
 *   there could make them act — the same result as a full sweep, for the cost of the change.
 * - sortInput: an input whose only problem is nodes out of order (no cycle: every diagnostic is
 *   verify()'s `topology: 'out-of-order'`) is sorted (Graph.sort, stable) and checked again
 *   instead of refused, and the report's `sortedInput` says so. ONNX requires a topological order
 *   and onnx.checker (so onnxsim, which checks its input) refuses such a file, but onnxruntime
 *   sorts the nodes itself and runs it, OpenVINO's reader sorts them, and exporters and graph
 *   editors that append nodes write them: an optimizer that writes a valid file from it is what a
 *   user wants, said in one line (`onnxkit optimize` sets it and warns). A cycle, or any other
 *   problem, is still refused. The check is the input verify() the manager runs anyway: a valid
 *   input pays nothing. `checkInput` runs it for a caller that analyses the input before the
 *   pipeline (optimize's "before" column), which hands the result on (`inputChecked`).
 */
import { tensorType, verifyErrors, type Diagnostic, type Graph, type Model, type Node, type Value } from '@onnxkit/graph';
import { diagnosticsExact, type ShapeInference } from '../analysis/index.js';
import { PassError, formatDiagnostics } from './errors.js';
import { Facts } from './facts.js';
import { PatchTracker } from './local-verify.js';
import type { ChangeRecord, ChangeScope, ConstantEvaluator, PassContext, PassOptions, PassResult, RewritePass, SharedModelState } from './types.js';

export type VerifyMode = 'off' | 'pass' | 'change';

export interface PipelineOptions {
  /** When to run verify() (default 'pass'). The input and the final output are always verified. */
  verify?: VerifyMode;
  /** Bound on full pipeline sweeps (default 10). */
  maxIterations?: number;
  /** Stop after this many applied changes in total (bisection). */
  stopAfterChanges?: number;
  /** Pass names to skip. */
  disabled?: readonly string[];
  /**
   * Configured passes (`decoupleConv.with({ rank: 2 })`, the typed options factory): each runs in
   * place of the pipeline's pass of its name, with its options checked by their type. One the
   * pipeline does not run is ignored (as disabling a pass it does not run changes nothing).
   */
  configured?: readonly RewritePass[];
  /**
   * Per-pass options as loose values (JSON, text), by pass name: each pass parses and checks them
   * against its typed options (an unknown key or a bad value is a PassError when it runs). They
   * apply over a configured pass's options. Prefer `configured`, which typechecks.
   */
  passOptions?: Readonly<Record<string, PassOptions>>;
  /** Evaluator for constant folding beyond the TypeScript kernels (packages/runtime). */
  evaluator?: ConstantEvaluator;
  /** Pinned input shapes for shape inference. */
  inputShapes?: Readonly<Record<string, readonly (number | string)[]>>;
  /** Progress callback after each pass run. */
  onPass?: (run: PassRun) => void;
  /**
   * Shape inference of the input model with the same `inputShapes` (e.g. the one a caller's
   * analysis already computed): the first pass run reads its facts from it instead of inferring
   * again. Like the model, it is updated in place by the rewrites (it then describes the output).
   */
  inference?: ShapeInference;
  /**
   * Keep every ChangeRecord in `PassResult.log` (default true). False keeps only the last one
   * per pass run (error messages name it): counts, bytes and the summary stay exact. A caller that
   * shows only the counts (the CLI's default table) saves the records' memory: ≈ 300 B per change,
   * 600,000 changes on a 1M-node chain.
   */
  changeLog?: boolean;
  /**
   * How the output is closed when every change since the last full verify was a validated patch:
   * 'local' (default) re-checks what the patches touched (local-verify.ts), trusting the pass
   * contract that every mutation goes through the session; 'full' runs verify() on the whole
   * model anyway (a debug mode: it also catches a pass that changed the graph behind the
   * session's back where the local check does not look). The CLI sets it from
   * `ONNXKIT_VERIFY=full`.
   */
  closingCheck?: 'local' | 'full';
  /** Give passes the scope of what changed since their last quiet run (default true; see the header). */
  scoped?: boolean;
  /** Sort an input whose nodes are out of order (and only that wrong) instead of refusing it (see the header). */
  sortInput?: boolean;
  /**
   * The input was checked (and sorted, with `sortInput`) by `checkInput` since its last change:
   * the manager does not verify it again.
   */
  inputChecked?: InputCheck;
}

/** What the input check found (`checkInput`, the manager's first step). */
export interface InputCheck {
  /** verify() met a subgraph attribute in its walk of every node (VerifyOptions.noted). */
  readonly subgraphs: boolean;
  /**
   * With `sortInput`: how many reads came before their producer in an input whose nodes were out
   * of order and have been sorted (0 when they were in order), and the first of them.
   */
  readonly sortedReads: number;
  readonly firstSortedRead?: string;
  readonly verifyMs: number;
  readonly verifications: number;
}

/** What sortOutOfOrder did: the diagnostics left, and the reads it found before their producer. */
export interface OutOfOrderSort {
  readonly diagnostics: Diagnostic[];
  /** Reads that came before their producer in a model whose nodes were out of order and are now sorted (0: nothing sorted). */
  readonly sortedReads: number;
  /** The first of them ("Add 'a' reads 'x' before Relu 'r' produces it"). */
  readonly firstSortedRead: string | undefined;
}

/**
 * Sorts `model`'s graphs (Graph.sort, stable) when `diagnostics`, verify()'s findings on it, are
 * all nodes merely out of order (`topology: 'out-of-order'`, no cycle), and verifies it again;
 * otherwise leaves it as it is. The one place optimize (checkInput's sortInput) and the CLI's
 * other commands (packages/cli/src/validity.ts) admit such a model: see the header.
 */
export function sortOutOfOrder(model: Model, diagnostics: Diagnostic[], verifyOptions: { noted?: { subgraphs: boolean } } = {}): OutOfOrderSort {
  if (diagnostics.length === 0 || !diagnostics.every((x) => x.topology === 'out-of-order')) return { diagnostics, sortedReads: 0, firstSortedRead: undefined };
  const graphs: Graph[] = [];
  model.forEachGraph((g) => graphs.push(g));
  for (const g of graphs) g.sort();
  return { diagnostics: verifyErrors(model, verifyOptions), sortedReads: diagnostics.length, firstSortedRead: diagnostics[0]!.message.replace(/: the nodes are out of order.*$/, '') };
}

/**
 * Verifies `model` as the pass manager's input: throws PassError (PASS_INPUT_INVALID) naming the
 * problems when it is invalid; with `sortInput`, sorts an input whose nodes are merely out of
 * order and checks it again (see the header).
 */
export function checkInput(model: Model, options: { sortInput?: boolean; pass?: string } = {}): InputCheck {
  const t = performance.now();
  const noted = { subgraphs: true };
  const first = verifyErrors(model, { noted });
  const { diagnostics: d, sortedReads, firstSortedRead } = options.sortInput === true ? sortOutOfOrder(model, first, { noted }) : { diagnostics: first, sortedReads: 0, firstSortedRead: undefined };
  const verifications = sortedReads > 0 ? 2 : 1;
  if (d.length > 0) {
    throw new PassError(`the input model is invalid, so no pass ran: ${formatDiagnostics(d)}`, {
      pass: options.pass ?? '(none)',
      ranBefore: [],
      diagnostics: d,
      code: 'PASS_INPUT_INVALID',
      hint: 'fix the model before optimizing it; `onnxkit inspect` shows it and its problems',
    });
  }
  return { subgraphs: noted.subgraphs, sortedReads, ...(firstSortedRead !== undefined ? { firstSortedRead } : {}), verifyMs: performance.now() - t, verifications };
}

/** One execution of one pass. */
export interface PassRun {
  readonly pass: string;
  /** 1-based pipeline sweep. */
  readonly iteration: number;
  readonly result: PassResult;
}

/** Totals of one pass over all sweeps. */
export interface PassSummary {
  pass: string;
  runs: number;
  changes: number;
  nodesAdded: number;
  nodesRemoved: number;
  bytesDelta: number;
  timeMs: number;
  rejected: Record<string, number>;
}

export interface PipelineReport {
  /** Pass names in pipeline order (after removing disabled ones). */
  pipeline: string[];
  disabled: string[];
  runs: PassRun[];
  /** Per-pass totals, in pipeline order. */
  summary: PassSummary[];
  iterations: number;
  /** True when the last sweep changed nothing. */
  converged: boolean;
  /** True when stopAfterChanges cut the run short. */
  stoppedEarly: boolean;
  totalChanges: number;
  timeMs: number;
  /** Time spent in verify() (input, per pass/change as configured, and the final check). */
  verifyMs: number;
  /** How many times verify() ran on the whole model. */
  verifications: number;
  /**
   * With `sortInput`: how many reads came before their producer in the input, whose nodes were
   * sorted before the first pass (0: they were in order).
   */
  sortedInput: number;
  /**
   * How the output was checked: 'full' — verify() of the whole model; 'local' — every change
   * since the last full verify was a validated patch, and the invariants held on everything the
   * patches touched (local-verify.ts).
   */
  finalCheck: 'full' | 'local';
  /**
   * Shape inference of the output model, when a pass run computed one after the last change (so a
   * caller analysing the result need not infer again). Not enumerable: it is not report data.
   */
  readonly inference?: ShapeInference;
  /** How many pass runs were given a ChangeScope. Not enumerable: it is not report data. */
  readonly scopedRuns?: number;
}

/** A ChangeScope is given only when the graph has this many times more nodes than it has entries. */
const SCOPE_RATIO = 8;

/** Where a quiet pass run left the scope log (see `PassManager.run`). */
interface QuietMark {
  epoch: number;
  nodes: number;
  values: number;
}

/** True when some node of the main graph holds a subgraph. */
function hasSubgraphs(model: Model): boolean {
  for (let n = model.graph.firstNode; n !== null; n = n.next) if (n._hasSubgraphs()) return true;
  return false;
}

export class PassManager {
  readonly passes: readonly RewritePass[];
  readonly options: PipelineOptions;

  constructor(passes: readonly RewritePass[], options: PipelineOptions = {}) {
    this.passes = passes;
    this.options = options;
  }

  async run(model: Model): Promise<PipelineReport> {
    const t0 = performance.now();
    const opts = this.options;
    const verifyMode = opts.verify ?? 'pass';
    const maxIterations = Math.max(1, opts.maxIterations ?? 10);
    const disabled = new Set(opts.disabled ?? []);
    const configured = opts.configured;
    const pipeline = this.passes.filter((p) => !disabled.has(p.name)).map((p) => configured?.find((c) => c.name === p.name) ?? p);
    const ranBefore: string[] = [];
    const runs: PassRun[] = [];
    let totalChanges = 0;
    let stoppedEarly = false;
    const limit = opts.stopAfterChanges;
    let verifyMs = 0;
    const timedVerify = (m: Model, noted?: { subgraphs: boolean }) => {
      const t = performance.now();
      const d = verifyErrors(m, noted === undefined ? undefined : { noted });
      verifyMs += performance.now() - t;
      verifications++;
      if (d.length === 0) {
        deferred.length = 0;
        tracker.reset();
      }
      return d;
    };
    // What validated patches touched since the last full verify (the closing check's scope).
    const tracker = new PatchTracker(model);
    /** Whether the patch just reported (onPatch, then afterChange) added no node. */
    let removalsOnly = false;
    /** Whether it added a node that holds a subgraph (the list of graphs changes). */
    let addsGraphs = false;
    // 'pass' mode: passes whose changes were all validated patches, not yet followed by a verify().
    const deferred: string[] = [];
    let verifications = 0;
    let unvalidatedInRun = false;
    /** Changes the running pass reported through afterChange. */
    let reportedInRun = 0;

    // The scope log: what validated patches touched since the oldest quiet mark. A mark is valid
    // while its epoch is the current one; anything the scope cannot describe starts a new epoch.
    const quiet = new Map<RewritePass, QuietMark>();
    const scopeNodes: Node[] = [];
    const scopeValues: Value[] = [];
    let epoch = 0;
    let scopedRuns = 0;
    const breakScope = () => {
      epoch++;
      quiet.clear();
      scopeNodes.length = 0;
      scopeValues.length = 0;
    };
    /**
     * The running pass made a change that is not validated (unreported, or a use its checks left
     * to the end of the run is unsound): the model is verified after it, and nothing the pipeline
     * keeps about the graph (scope, op counts and index, graph list, shape facts) holds.
     */
    const unvalidated = (): void => {
      unvalidatedInRun = true;
      breakScope();
      tracker.uncovered();
      shared.opCounts = undefined;
      shared.opIndex = undefined;
      shared.graphs = undefined;
      shared.facts = undefined;
    };
    const push = (to: Value[], vs: readonly Value[]) => {
      for (let i = 0; i < vs.length; i++) to.push(vs[i]!);
    };

    const input = opts.inputChecked ?? checkInput(model, { sortInput: opts.sortInput === true, pass: pipeline[0]?.name ?? '(none)' });
    // (the input's check counts as this run's, whoever ran it)
    verifyMs += input.verifyMs;
    verifications += input.verifications;
    tracker.reset(); // (as after any clean verify)
    const inputNoted = { subgraphs: input.subgraphs };
    // One answer for the scope's question and the passes' graph list (without subgraphs, the list
    // RewriteSession.graphs would walk the main graph to build is that graph alone): the input
    // verify() met no subgraph attribute in its walk of every node (then no node holds one), else
    // a walk of the main graph says.
    const nested = inputNoted.subgraphs && hasSubgraphs(model);
    const scoped = opts.scoped !== false && !nested;

    // A pass whose last run changed nothing, on the model as it still is, would change nothing
    // again (passes are deterministic), so it is not rerun. A pass that did change something is
    // always rerun once more, which also exposes a pass that is not idempotent.
    const seenAt = new Map<RewritePass, number>();
    // Facts and graph lists carried from one pass run to the next while nothing changes.
    const shared: SharedModelState = {};
    if (!nested) shared.graphs = [model.graph];
    // (an inference of the input as it was before the manager sorted it describes another order)
    if (opts.inference && (opts.inputChecked !== undefined || input.sortedReads === 0)) shared.facts = new Facts(model, opts.inputShapes, opts.inference);
    let iteration = 0;
    let converged = false;
    while (iteration < maxIterations && !stoppedEarly) {
      iteration++;
      let sweepChanges = 0;
      for (const pass of pipeline) {
        if (seenAt.get(pass) === totalChanges) continue;
        const label = iteration > 1 ? `${pass.name}#${iteration}` : pass.name;
        let scope: ChangeScope | undefined;
        const mark = quiet.get(pass);
        if (mark !== undefined) {
          quiet.delete(pass);
          // A scope that is not much smaller than the graph saves nothing over a sweep of it (on the
          // 100k-node chain, 20,000 fusions touch every node left: the whole graph is the scope).
          const size = scopeNodes.length - mark.nodes + scopeValues.length - mark.values;
          if (mark.epoch === epoch && size * SCOPE_RATIO <= model.graph.nodeCount) {
            scope = { nodes: scopeNodes.slice(mark.nodes), values: scopeValues.slice(mark.values) };
            scopedRuns++;
          }
          if (quiet.size === 0) breakScope();
        }
        const ctx: PassContext = {
          options: opts.passOptions?.[pass.name] ?? {},
          ...(opts.evaluator ? { evaluator: opts.evaluator } : {}),
          ...(opts.inputShapes ? { inputShapes: opts.inputShapes } : {}),
          mayChange: () => limit === undefined || totalChanges < limit,
          ...(opts.changeLog === false ? { changeLog: false } : {}),
          shared,
          ...(scope ? { scope } : {}),
          scopeWatched: () => quiet.size > 0,
          onPatch: (p) => {
            tracker.record(p);
            removalsOnly = p.added.length === 0;
            addsGraphs = false;
            for (let i = 0; i < p.added.length && !addsGraphs; i++) {
              const n = p.added[i]!;
              addsGraphs = n._hasSubgraphs();
            }
            if (quiet.size === 0) return;
            if (addsGraphs || p.graph !== model.graph) return breakScope();
            // A log this long could not make a scope any more (see SCOPE_RATIO): stop keeping it.
            if ((scopeNodes.length + scopeValues.length) * SCOPE_RATIO > model.graph.nodeCount) return breakScope();
            for (let i = 0; i < p.added.length; i++) scopeNodes.push(p.added[i]!);
            for (let i = 0; i < p.replaced.length; i++) scopeValues.push(p.replaced[i]![0], p.replaced[i]![1]);
            push(scopeValues, p.released);
            push(scopeValues, p.initializers as readonly Value[]);
            push(scopeValues, p.values);
          },
          onUnsound: unvalidated,
          afterChange: (m: Model, record: ChangeRecord, validated?: boolean, factsKept?: boolean, factsAlike?: boolean) => {
            totalChanges++;
            reportedInRun++;
            if (validated !== true || factsAlike !== true) breakScope();
            if (validated !== true) {
              unvalidatedInRun = true;
              tracker.uncovered();
              shared.opCounts = undefined;
            }
            if (factsKept !== true) shared.facts = undefined;
            // A validated patch that only removed nodes leaves the graph list and the op-type
            // index usable: removed nodes are skipped where they are met, and none is missing.
            // One that added nodes none of which holds a subgraph leaves the graph list usable.
            // (A pass that re-sorts a graph drops both itself: RewriteSession.finish.)
            if (validated !== true || !removalsOnly) shared.opIndex = undefined;
            if (validated !== true || addsGraphs) shared.graphs = undefined;
            removalsOnly = false;
            addsGraphs = false;
            if (verifyMode === 'change') {
              const diags = timedVerify(m);
              if (diags.length > 0) {
                throw new PassError(`change #${totalChanges} (${record.rule}: ${record.description}) left an invalid model: ${formatDiagnostics(diags)}`, {
                  pass: pass.name,
                  ranBefore: [...ranBefore],
                  change: record,
                  diagnostics: diags,
                  code: 'PASS_INVALID_RESULT',
                });
              }
            }
          },
        };
        unvalidatedInRun = false;
        reportedInRun = 0;
        let result: PassResult;
        try {
          result = await pass.run(model, ctx);
        } catch (e) {
          if (e instanceof PassError) throw e;
          throw new PassError(`failed: ${e instanceof Error ? e.message : String(e)}`, { pass: pass.name, ranBefore: [...ranBefore], cause: e, code: 'PASS_FAILED' });
        }
        if (result.modified !== result.changes > 0) {
          throw new PassError(`broke the pass contract: modified=${result.modified} but changes=${result.changes}`, {
            pass: pass.name,
            ranBefore: [...ranBefore],
            code: 'PASS_CONTRACT',
            hint: 'this is a bug in the pass; disable it and report the model',
          });
        }
        if (result.changes !== reportedInRun) {
          // Changes made without reporting each one (against the pass contract): nothing the
          // pipeline keeps about the graph (op counts and index, graph list, shape facts) holds,
          // and the passes that saw no change must look again.
          totalChanges += Math.max(0, result.changes - reportedInRun);
          unvalidated();
        }
        if (verifyMode === 'pass' && result.modified && !unvalidatedInRun) {
          // Every change went through RewriteSession.apply, which validated the rewrite before
          // making it (see the header): the whole-model check is deferred to the next one.
          deferred.push(label);
        } else if (verifyMode !== 'off' && result.modified) {
          const diags = timedVerify(model);
          if (diags.length > 0) {
            const last = result.log[result.log.length - 1];
            const also = deferred.length > 0 ? ` (or an earlier pass since the last check: ${deferred.join(', ')}; --verify-each change names the change)` : '';
            throw new PassError(`left an invalid model after ${result.changes} change(s)${also}: ${formatDiagnostics(diags)}`, {
              pass: pass.name,
              ranBefore: [...ranBefore],
              ...(last ? { change: last } : {}),
              diagnostics: diags,
              code: 'PASS_INVALID_RESULT',
            });
          }
        }
        if (result.changes === 0) seenAt.set(pass, totalChanges);
        else seenAt.delete(pass);
        if (scoped && result.changes === 0 && result.declined.length === 0 && isEmpty(result.rejected)) {
          quiet.set(pass, { epoch, nodes: scopeNodes.length, values: scopeValues.length });
        }
        const run: PassRun = { pass: pass.name, iteration, result };
        runs.push(run);
        opts.onPass?.(run);
        ranBefore.push(label);
        sweepChanges += result.changes;
        if (limit !== undefined && totalChanges >= limit) {
          stoppedEarly = true;
          break;
        }
      }
      if (sweepChanges === 0) {
        converged = true;
        break;
      }
    }

    const suspects = [...deferred];
    // The closing check: when every change since the last full verify was a validated patch of
    // the main graph, re-check only what the patches touched (local-verify.ts); anything that
    // check does not decide, or finds wrong, is verified in full (and reported as verify() says).
    const t = performance.now();
    const localOk = totalChanges > 0 && tracker.check();
    verifyMs += performance.now() - t;
    // In the 'full' debug mode the local check's verdict is kept only to say, on a failure, that
    // it would have passed (so the pass broke the contract the local check relies on).
    const full = opts.closingCheck === 'full';
    const local = localOk && !full;
    const finalDiags = local ? [] : timedVerify(model);
    if (finalDiags.length > 0) {
      const by = suspects.length > 0 ? ` (changed since the last check by ${suspects.join(', ')}; --verify-each change names the change)` : '';
      const missed = full && localOk ? ' — the local check of the reported patches passed: a pass changed the graph without going through its session' : '';
      throw new PassError(`the pipeline produced an invalid model${by}${missed}: ${formatDiagnostics(finalDiags)}`, {
        pass: suspects.length === 1 ? suspects[0]!.replace(/#\d+$/, '') : (ranBefore[ranBefore.length - 1] ?? '(none)'),
        ranBefore: [...ranBefore],
        diagnostics: finalDiags,
        code: 'PASS_INVALID_RESULT',
      });
    }

    // IR < 4: every initializer of the main graph is one of its inputs too (the format's rule
    // there; onnxruntime takes them as constants, not session inputs). A pass that added one (a
    // folded constant, a folded BatchNorm's weights) lists it, or ONNX's checker refuses the file.
    if (totalChanges > 0 && model.irVersion > 0 && model.irVersion < 4) listInitializersAsInputs(model.graph);

    const report: PipelineReport = {
      pipeline: pipeline.map((p) => p.name),
      disabled: this.passes.filter((p) => disabled.has(p.name)).map((p) => p.name),
      runs,
      summary: summarize(pipeline.map((p) => p.name), runs),
      iterations: iteration,
      converged,
      stoppedEarly,
      totalChanges,
      timeMs: performance.now() - t0,
      verifyMs,
      verifications,
      sortedInput: input.sortedReads,
      finalCheck: local ? 'local' : 'full',
    };
    // shared.facts is emptied on every change it was not brought up to date with, so facts still
    // there describe the output model. An inference updated in place is handed on only while its
    // diagnostics are exact too (none to be stale): callers report them.
    const finalInference = (shared.facts as Facts | undefined)?.inference;
    if (finalInference && (diagnosticsExact(finalInference) || finalInference.diagnostics.length === 0)) {
      Object.defineProperty(report, 'inference', { value: finalInference, enumerable: false });
    }
    Object.defineProperty(report, 'scopedRuns', { value: scopedRuns, enumerable: false });
    return report;
  }
}

function isEmpty(o: object): boolean {
  for (const _ in o) return false;
  return true;
}

function summarize(order: string[], runs: PassRun[]): PassSummary[] {
  const by = new Map<string, PassSummary>();
  for (const name of order) by.set(name, { pass: name, runs: 0, changes: 0, nodesAdded: 0, nodesRemoved: 0, bytesDelta: 0, timeMs: 0, rejected: {} });
  for (const r of runs) {
    const s = by.get(r.pass)!;
    s.runs++;
    s.changes += r.result.changes;
    s.nodesAdded += r.result.nodesAdded;
    s.nodesRemoved += r.result.nodesRemoved;
    s.bytesDelta += r.result.bytesDelta;
    s.timeMs += r.result.timeMs;
    for (const [k, v] of Object.entries(r.result.rejected)) s.rejected[k] = (s.rejected[k] ?? 0) + v;
  }
  return [...by.values()];
}

/** A context for running one pass by hand (tests, tools): no budget, no verification. */
export function standaloneContext(options: PassOptions = {}, extra: { evaluator?: ConstantEvaluator; inputShapes?: Readonly<Record<string, readonly (number | string)[]>> } = {}): PassContext {
  return {
    options,
    ...(extra.evaluator ? { evaluator: extra.evaluator } : {}),
    ...(extra.inputShapes ? { inputShapes: extra.inputShapes } : {}),
    mayChange: () => true,
    afterChange: () => undefined,
  };
}

/**
 * Adds every initializer of `g` that is not one of its inputs to its inputs (after the others, in
 * the initializers' order), with a type from its tensor when it has none. The main graph only: a
 * Loop body's or an If branch's formal inputs are positional.
 */
function listInitializersAsInputs(g: Graph): void {
  g.initializers.forEach((v) => {
    if (v.isGraphInput) return;
    if (v.type === null && v.constValue !== null) v.type = tensorType(v.constValue.dtype, v.constValue.dims);
    g.addInput(v);
  });
}
