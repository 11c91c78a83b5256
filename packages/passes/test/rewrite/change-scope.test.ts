/**
 * The manager's ChangeScope (manager.ts header): after a quiet run, eliminate-dead-code,
 * fold-constants and eliminate-common-subexpressions look only at what validated patches touched
 * since. These tests make a later pass create new work for each of them through a validated patch
 * and check that the scoped pipeline does exactly what the unscoped one does (same runs, counts,
 * records and graph), and that the scope was really used (a scope that missed the new work would
 * leave it undone and fail the comparison).
 */
import { DataType, GraphBuilder, Node, Tensor, type Model } from '@onnxkit/graph';
import { PassManager, defineRulePass, getPass, type PipelineReport, type RewritePass } from '@onnxkit/passes';
import { describe, expect, it } from 'vitest';

/**
 * A test pass: every `Sum(a, …, z)` becomes `Relu(z)` through a validated patch. What that creates
 * depends on z and on what read a: a twin of an existing Relu(z) (CSE), a Relu of a constant
 * (constant folding), or a node left without readers (dead code).
 */
const sumToRelu: RewritePass = defineRulePass({
  name: 'sum-to-relu',
  description: 'test pass: Sum(…, z) → Relu(z)',
  exact: false,
  sweep(s) {
    const g = s.model.graph;
    for (const n of [...g]) {
      if (n.opType !== 'Sum') continue;
      const z = n.inputs[n.inputs.length - 1]!;
      const relu = new Node('Relu', [], { name: `${n.name}_relu`, outputs: [`${n.name}_r`] });
      const r = s.apply(g, { rule: 'sum-to-relu', remove: [n], replace: [[n.outputs[0]!, relu.outputs[0]!]], add: [relu], inputs: [[z]], description: `${n.name} → Relu` });
      expect(r.ok).toBe(true);
    }
  },
});

/**
 * x → a chain of `filler` Relu → Neg pairs (nothing to fold, merge or remove: the graph is much
 * larger than what the patches touch, so the manager gives a scope), plus the three cases:
 *  - CSE: `Relu(x) → Abs` and `Sum(y, x) → Abs`: the new Relu(x) is a twin of the first;
 *  - fold: `Sum(x, c) → Abs` with c an initializer: Relu(c) folds;
 *  - dead code: `Neg(x) → Sum(t, x) → Abs`: Neg loses its only reader;
 *  - only when asked (`late`): `Neg(c)` that nothing reads, and `Abs(x)`, which readsLate rewires to it.
 */
function model(filler: number, only?: 'cse' | 'dead' | 'fold' | 'late'): Model {
  const b = new GraphBuilder();
  const x = b.input('x', DataType.FLOAT, [2, 3]);
  let h = b.input('x2', DataType.FLOAT, [2, 3]);
  for (let i = 0; i < filler; i++) h = b.op(i % 2 === 0 ? 'Relu' : 'Neg', [h], {}, { name: `f${i}` });
  b.output(h, 'filler');
  if (only === undefined || only === 'fold') {
    const c = b.constant('c', Tensor.fromArray(DataType.FLOAT, [2, 3], new Float32Array([-1, 2, -3, 4, -5, 6])));
    b.output(b.op('Abs', [b.op('Sum', [x, c], {}, { name: 'sum_fold' })], {}, { name: 'abs_fold' }), 'o_fold');
  }
  if (only === undefined || only === 'cse') {
    const r = b.op('Relu', [x], {}, { name: 'twin' });
    b.output(b.op('Softplus', [r], {}, { name: 'softplus_twin' }), 'o_twin');
    const y = b.op('Sigmoid', [x], {}, { name: 'y' });
    b.output(b.op('Abs', [y], {}, { name: 'abs_y' }), 'o_y');
    b.output(b.op('Abs', [b.op('Sum', [y, x], {}, { name: 'sum_cse' })], {}, { name: 'abs_cse' }), 'o_cse');
  }
  if (only === undefined || only === 'dead') {
    const t = b.op('Neg', [x], {}, { name: 'dead_after' });
    b.output(b.op('Softsign', [b.op('Sum', [t, x], {}, { name: 'sum_dead' })], {}, { name: 'softsign_dead' }), 'o_dead');
  }
  if (only === 'late') {
    const c = b.constant('c', Tensor.fromArray(DataType.FLOAT, [2, 3], new Float32Array([-1, 2, -3, 4, -5, 6])));
    b.op('Neg', [c], {}, { name: 'late' });
    b.output(b.op('Abs', [x], {}, { name: 'abs_late' }), 'o_late');
  }
  return b.build();
}

/** A test pass: `Abs(x)` becomes `Add(x, late)`, a new node reading a value no removed node read. */
const readsLate: RewritePass = defineRulePass({
  name: 'reads-late',
  description: 'test pass: Abs(x) → Add(x, late)',
  exact: false,
  sweep(s) {
    const g = s.model.graph;
    const abs = [...g].find((n) => n.name === 'abs_late');
    const late = [...g].find((n) => n.name === 'late');
    if (abs === undefined || late === undefined) return;
    const add = new Node('Add', [], { name: 'add_late', outputs: ['add_late_out'] });
    const r = s.apply(g, { rule: 'reads-late', remove: [abs], replace: [[abs.outputs[0]!, add.outputs[0]!]], add: [add], inputs: [[abs.inputs[0]!, late.outputs[0]!]], description: 'Abs → Add' });
    expect(r.ok).toBe(true);
  },
});

const PIPELINE = ['eliminate-dead-code', 'fold-constants', 'eliminate-common-subexpressions'];

async function run(scoped: boolean, filler: number, only?: 'cse' | 'dead' | 'fold' | 'late', passes = [...PIPELINE.map(getPass), sumToRelu]): Promise<{ report: PipelineReport; model: Model }> {
  const m = model(filler, only);
  const report = await new PassManager(passes, { scoped }).run(m);
  return { report, model: m };
}

/** Everything a pipeline run reports or leaves, except times. */
function outcome({ report, model }: { report: PipelineReport; model: Model }) {
  return {
    runs: report.runs.map((r) => ({ pass: r.pass, iteration: r.iteration, changes: r.result.changes, rejected: r.result.rejected, log: r.result.log, metrics: r.result.metrics, declined: r.result.declined })),
    summary: report.summary.map(({ timeMs: _t, ...rest }) => rest),
    iterations: report.iterations,
    converged: report.converged,
    finalCheck: report.finalCheck,
    nodes: model.graph.nodes.map((n) => `${n.opType} ${n.name} (${n.inputs.map((v) => v?.name ?? '').join(',')}) → ${n.outputs.map((v) => v.name).join(',')}`),
    initializers: [...model.graph.initializers.keys()],
    outputs: model.graph.outputs.map((v) => `${v.name} ← ${v.producer?.name ?? 'input/initializer'}`),
  };
}

describe('ChangeScope: whole-graph passes after a quiet run look only at what changed', () => {
  const second = (r: { report: PipelineReport }, pass: string) => r.report.runs.find((x) => x.pass === pass && x.iteration === 2)?.result.changes ?? 0;

  it('still catches the CSE twin a later patch creates', async () => {
    const scoped = await run(true, 400, 'cse');
    const full = await run(false, 400, 'cse');
    // eliminate-dead-code, fold-constants and CSE of the second sweep are all scoped.
    expect(scoped.report.scopedRuns).toBeGreaterThanOrEqual(3);
    expect(full.report.scopedRuns).toBe(0);
    expect(outcome(scoped)).toEqual(outcome(full));
    expect(second(scoped, 'eliminate-common-subexpressions')).toBe(1);
    expect(scoped.model.graph.nodes.map((n) => n.name)).not.toContain('sum_cse_relu');
  });

  it('still catches the node a later patch leaves without readers', async () => {
    const scoped = await run(true, 400, 'dead');
    expect(scoped.report.scopedRuns).toBeGreaterThanOrEqual(1); // eliminate-dead-code, first of the second sweep
    expect(outcome(scoped)).toEqual(outcome(await run(false, 400, 'dead')));
    expect(second(scoped, 'eliminate-dead-code')).toBe(1);
    expect(scoped.model.graph.nodes.map((n) => n.name)).not.toContain('dead_after');
  });

  it('folds the constant a later patch creates (that patch changed a value\'s facts: no scope)', async () => {
    const scoped = await run(true, 400, 'fold');
    expect(outcome(scoped)).toEqual(outcome(await run(false, 400, 'fold')));
    expect(second(scoped, 'fold-constants')).toBeGreaterThanOrEqual(1);
    expect(scoped.model.graph.nodes.map((n) => n.name)).not.toContain('sum_fold_relu');
  });

  it('gives the same result with all three at once', async () => {
    expect(outcome(await run(true, 400))).toEqual(outcome(await run(false, 400)));
  });

  it('folds the unread constant node a later patch gives a reader (the new node\'s inputs are not in the scope)', async () => {
    // No eliminate-dead-code in this pipeline: `late` (Neg of an initializer) has no reader, so the
    // first fold-constants run passes it by and is quiet; the patch then wires a new Add to it.
    const passes = [getPass('fold-constants'), readsLate];
    const scoped = await run(true, 400, 'late', passes);
    expect(scoped.report.scopedRuns).toBeGreaterThanOrEqual(1);
    expect(outcome(scoped)).toEqual(outcome(await run(false, 400, 'late', passes)));
    expect(second(scoped, 'fold-constants')).toBe(1);
    expect(scoped.model.graph.nodes.map((n) => n.name)).not.toContain('late');
  });

  it('gives no scope when the changes are not much smaller than the graph (a sweep costs no more)', async () => {
    const small = await run(true, 4);
    expect(small.report.scopedRuns).toBe(0);
    expect(outcome(small)).toEqual(outcome(await run(false, 4)));
  });
});
