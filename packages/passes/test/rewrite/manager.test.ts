import { DataType, GraphBuilder, Node, verifyErrors, type Model } from '@onnxkit/graph';
import {
  PASSES,
  PRESETS,
  PassError,
  PassManager,
  defineRule,
  defineRulePass,
  explainJson,
  formatExplain,
  getPass,
  resolvePipeline,
  runPipeline,
  type RewritePass,
} from '@onnxkit/passes';
import { describe, expect, it } from 'vitest';

/** x → Identity → Identity → Relu → Identity → out, plus a dead Relu. */
function chain(): Model {
  const b = new GraphBuilder();
  const x = b.input('x', DataType.FLOAT, [2, 3]);
  const a = b.op('Identity', [x], {}, { name: 'id1' });
  const c = b.op('Identity', [a], {}, { name: 'id2' });
  const r = b.op('Relu', [c], {}, { name: 'relu' });
  b.op('Relu', [x], {}, { name: 'dead' });
  const o = b.op('Identity', [r], {}, { name: 'id3' });
  b.output(o, 'out');
  return b.build();
}

/**
 * A pass that corrupts the graph: it detaches Relu's input node while Relu still reads it. With
 * `describe`, its mutate says what it touched (removed node, released values), so the session's
 * local check runs right after it.
 */
function breakerPass(name: string, description: string, describe: boolean) {
  return defineRulePass({
    name,
    description,
    exact: true,
    sweep(s) {
      const g = s.model.graph;
      const relu = g.nodes.find((n) => n.opType === 'Relu' && n.name === 'relu');
      if (!relu || relu.inputs[0]!.producer?.graph !== g) return;
      const producer = relu.inputs[0]!.producer!;
      s.mutate(g, 'break', `removed ${producer.name} unsafely`, () => {
        const released = producer.inputs.filter((v) => v !== null);
        g.remove(producer); // not safe: Relu still reads its output
        return describe ? { removed: [producer.name], touched: { removedNodes: [producer], released } } : { removed: [producer.name] };
      });
    },
  });
}
const breaker = breakerPass('breaker', 'test pass that leaves a dangling use', false);

describe('PassManager', () => {
  it('runs a pipeline to a fixed point and reports per-pass counts', async () => {
    const m = chain();
    const report = await runPipeline(m, ['eliminate-identity', 'eliminate-dead-code']);
    expect(report.converged).toBe(true);
    expect(report.iterations).toBe(2); // one sweep that changes, one that proves nothing is left
    expect(m.graph.nodes.map((n) => n.opType)).toEqual(['Relu']);
    expect(m.graph.outputs[0]!.name).toBe('out');
    expect(m.graph.nodes[0]!.inputs[0]).toBe(m.graph.inputs[0]);
    const ident = report.summary.find((s) => s.pass === 'eliminate-identity')!;
    expect(ident.changes).toBe(3);
    expect(ident.nodesRemoved).toBe(3);
    const dce = report.summary.find((s) => s.pass === 'eliminate-dead-code')!;
    expect(dce.changes).toBe(1);
    expect(report.totalChanges).toBe(4);
    expect(verifyErrors(m)).toEqual([]);
  });

  it('changeLog: false keeps only the last record per pass run; counts and the summary are unchanged', async () => {
    const full = await runPipeline(chain(), ['eliminate-identity', 'eliminate-dead-code']);
    const lean = await runPipeline(chain(), ['eliminate-identity', 'eliminate-dead-code'], { changeLog: false });
    expect(lean.summary).toEqual(full.summary.map((s) => ({ ...s, timeMs: lean.summary.find((l) => l.pass === s.pass)!.timeMs })));
    expect(lean.totalChanges).toBe(full.totalChanges);
    expect(lean.runs.map((r) => r.result.changes)).toEqual(full.runs.map((r) => r.result.changes));
    expect(full.runs[0]!.result.log).toHaveLength(3);
    expect(lean.runs.map((r) => r.result.log)).toEqual(full.runs.map((r) => r.result.log.slice(-1)));
  });

  it('bounds the number of sweeps', async () => {
    let calls = 0;
    const forever = defineRulePass({
      name: 'forever',
      description: 'always changes something',
      exact: true,
      sweep(s) {
        calls++;
        s.mutate(s.model.graph, 'noop', 'pretends to change', () => ({}));
      },
    });
    const report = await new PassManager([forever], { maxIterations: 3 }).run(chain());
    expect(calls).toBe(3);
    expect(report.converged).toBe(false);
    expect(report.iterations).toBe(3);
  });

  it("verify 'pass' throws a PassError naming the pass, what ran before and the diagnostics", async () => {
    const m = chain();
    const p = new PassManager([getPass('eliminate-dead-code'), breaker], { verify: 'pass' }).run(m);
    await expect(p).rejects.toBeInstanceOf(PassError);
    const err = (await p.catch((e: unknown) => e)) as PassError;
    expect(err.pass).toBe('breaker');
    expect(err.ranBefore).toEqual(['eliminate-dead-code']);
    expect(err.diagnostics.length).toBeGreaterThan(0);
    expect(err.message).toMatch(/breaker/);
    expect(err.message).toMatch(/I4-topological-order|I12|I1/);
    expect(err.change?.rule).toBe('break');
  });

  it('a mutate that says what it touched is checked locally right after it: a broken one is verified in full after its pass', async () => {
    // The breaker's removal, described: Relu still reads the removed node's output, which the
    // local check of the values it touched finds (the producer left the graph).
    const describedBreaker = breakerPass('described-breaker', 'test pass that leaves a dangling use and says what it touched', true);
    const err = (await new PassManager([describedBreaker], { verify: 'pass' }).run(chain()).catch((e: unknown) => e)) as PassError;
    expect(err).toBeInstanceOf(PassError);
    expect(err.pass).toBe('described-breaker');
    expect(err.change?.rule).toBe('break');
  });

  it("verify 'pass': passes whose changes are all validated patches share one whole-model check; a change made another way is checked after its pass", async () => {
    // eliminate-identity changes only through RewriteSession.apply: the input is verified in
    // full, the output by the closing check of what the patches touched (local-verify.ts).
    const r1 = await runPipeline(chain(), ['eliminate-identity']);
    expect(r1.totalChanges).toBe(3);
    expect(r1.verifications).toBe(1);
    expect(r1.finalCheck).toBe('local');
    // eliminate-dead-code removes a node through mutate, saying what it touched: the session checks
    // that locally (local-verify.ts), so the closing check covers it too — one whole-model verify.
    const r2 = await runPipeline(chain(), ['eliminate-identity', 'eliminate-dead-code']);
    expect(r2.verifications).toBe(1);
    expect(r2.finalCheck).toBe('local');
    // A mutate that does not say what it touched is checked in full after its pass; nothing
    // changed after that check, so the closing check has nothing left to look at.
    let once = false;
    const opaque = defineRulePass({
      name: 'opaque',
      description: 'test pass: one change through mutate, not described',
      exact: true,
      sweep(s) {
        if (once) return;
        once = true;
        s.mutate(s.model.graph, 'noop', 'an undescribed change', () => ({}));
      },
    });
    const r5 = await new PassManager([getPass('eliminate-identity'), opaque]).run(chain());
    expect(r5.verifications).toBe(2);
    // 'change' mode still checks after every change.
    const r3 = await runPipeline(chain(), ['eliminate-identity'], { verify: 'change' });
    expect(r3.verifications).toBe(1 + 3 + 1); // input, each change, after the pass
    // A pipeline that changes nothing is verified in full at both ends, as before.
    const r4 = await runPipeline(chain(), ['fuse-consecutive-transposes']);
    expect(r4.verifications).toBe(2);
    expect(r4.finalCheck).toBe('full');
  });

  it("verify 'pass': a deferred check that fails names the patch-only pass that changed the model since the last one", async () => {
    // A rule that breaks the graph behind the primitive's back and then reports an (empty) patch.
    const sneaky = defineRulePass({
      name: 'sneaky',
      description: 'test pass whose rule corrupts the graph before returning a patch',
      exact: true,
      rules: [
        defineRule({
          name: 'sneaky',
          anchor: 'Relu',
          reasons: [],
          match: (n) => (n.name === 'relu' ? n : undefined),
          rewrite: (relu, ctx) => {
            const producer = relu.inputs[0]!.producer;
            if (producer?.graph !== ctx.graph) return undefined;
            ctx.graph.remove(producer); // not safe: Relu still reads its output
            return { remove: [], replace: [], description: 'nothing, officially' };
          },
        }),
      ],
    });
    // Alone: the final check fails and names it.
    const err = (await new PassManager([sneaky], { verify: 'pass' }).run(chain()).catch((e: unknown) => e)) as PassError;
    expect(err).toBeInstanceOf(PassError);
    expect(err.code).toBe('PASS_INVALID_RESULT');
    expect(err.pass).toBe('sneaky');
    expect(err.message).toMatch(/changed since the last check by sneaky;/);
    expect(err.diagnostics.length).toBeGreaterThan(0);
    // Followed by a pass that changes the model through a mutate it does not describe: that pass's
    // check fails and names both.
    const opaque = defineRulePass({
      name: 'opaque',
      description: 'test pass: one change through mutate, not described',
      exact: true,
      sweep(s) {
        s.mutate(s.model.graph, 'noop', 'an undescribed change', () => ({}));
      },
    });
    const err2 = (await new PassManager([sneaky, opaque], { verify: 'pass' }).run(chain()).catch((e: unknown) => e)) as PassError;
    expect(err2).toBeInstanceOf(PassError);
    expect(err2.pass).toBe('opaque');
    expect(err2.message).toMatch(/or an earlier pass since the last check: sneaky;/);
  });

  it("verify 'change' names the exact change", async () => {
    const p = new PassManager([breaker], { verify: 'change' }).run(chain());
    const err = (await p.catch((e: unknown) => e)) as PassError;
    expect(err).toBeInstanceOf(PassError);
    expect(err.code).toBe('PASS_INVALID_RESULT');
    expect(err.message).toMatch(/change #1 \(break: removed id2 unsafely\)/);
  });

  it("verify 'off' still refuses to hand back an invalid model", async () => {
    const p = new PassManager([breaker], { verify: 'off' }).run(chain());
    const err = (await p.catch((e: unknown) => e)) as PassError;
    expect(err).toBeInstanceOf(PassError);
    expect(err.message).toMatch(/pipeline produced an invalid model/);
  });

  it('refuses an input model that is already invalid', async () => {
    const m = chain();
    const relu = m.graph.nodes.find((n) => n.name === 'relu')!;
    m.graph.remove(relu.inputs[0]!.producer!);
    const err = (await runPipeline(m, 'default').catch((e: unknown) => e)) as PassError;
    expect(err.code).toBe('PASS_INPUT_INVALID');
    // (no pass is named: the message blamed the pipeline's first, 'pass 'eliminate-identity': … (ran before: nothing)')
    expect(err.message).toMatch(/^the input model is invalid, so no pass ran: \[I4-topological-order\]/);
  });

  // An input whose nodes are merely out of order (no cycle) was refused like a cycle; with
  // sortInput (optimize sets it) it is sorted and the report says how many reads were early.
  it('sortInput sorts an input that is only out of order, and still refuses a cycle', async () => {
    const outOfOrder = (): Model => {
      const m = chain();
      const relu = m.graph.nodes.find((n) => n.name === 'relu')!;
      const early = new Node('Neg', [relu.outputs[0]!], { name: 'early', outputs: ['e'] });
      m.graph.prepend(early); // reads relu's output before relu
      m.graph.addOutput(early.outputs[0]!);
      return m;
    };
    const plain = outOfOrder();
    const refused = (await runPipeline(plain, 'default').catch((e: unknown) => e)) as PassError;
    expect(refused.code).toBe('PASS_INPUT_INVALID');
    expect(refused.diagnostics.map((d) => d.topology)).toEqual(['out-of-order']);
    const m = outOfOrder();
    const report = await runPipeline(m, 'default', { sortInput: true });
    expect(report.sortedInput).toBe(1);
    expect(verifyErrors(m)).toEqual([]);
    const inOrder = await runPipeline(chain(), 'default', { sortInput: true });
    expect(inOrder.sortedInput).toBe(0);
    const cyclic = chain();
    const [first, second] = cyclic.graph.nodes as [Node, Node];
    first.setInput(0, second.outputs[0]!);
    const err = (await runPipeline(cyclic, 'default', { sortInput: true }).catch((e: unknown) => e)) as PassError;
    expect(err.code).toBe('PASS_INPUT_INVALID');
    expect(err.message).toMatch(/on a cycle: /);
  });

  it('stopAfterChanges stops after exactly N changes (bisection)', async () => {
    for (const n of [0, 1, 2, 3]) {
      const m = chain();
      const report = await runPipeline(m, ['eliminate-identity', 'eliminate-dead-code'], { stopAfterChanges: n });
      expect(report.totalChanges).toBe(n);
      expect(report.stoppedEarly).toBe(true);
      expect(m.graph.nodeCount).toBe(5 - n);
      expect(verifyErrors(m)).toEqual([]);
    }
  });

  it('skips disabled passes', async () => {
    const m = chain();
    const report = await runPipeline(m, ['eliminate-identity', 'eliminate-dead-code'], { disabled: ['eliminate-dead-code'] });
    expect(report.pipeline).toEqual(['eliminate-identity']);
    expect(report.disabled).toEqual(['eliminate-dead-code']);
    expect(m.graph.nodes.map((n) => n.name)).toContain('dead');
  });

  it('wraps a throwing pass with its name and the passes that ran before', async () => {
    const boom: RewritePass = {
      name: 'boom',
      description: 'throws',
      exact: true,
      run() {
        throw new Error('kaput');
      },
    };
    const err = (await new PassManager([getPass('eliminate-identity'), boom]).run(chain()).catch((e: unknown) => e)) as PassError;
    expect(err).toBeInstanceOf(PassError);
    expect(err.message).toMatch(/pass 'boom': failed: kaput \(ran before: eliminate-identity\)/);
    expect((err.cause as Error).message).toBe('kaput');
  });

  it('checks the modified === (changes > 0) contract', async () => {
    const liar: RewritePass = {
      name: 'liar',
      description: 'lies',
      exact: true,
      run: () => ({ modified: true, changes: 0, nodesAdded: 0, nodesRemoved: 0, bytesDelta: 0, rejected: {}, timeMs: 0, log: [], declined: [], metrics: {} }),
    };
    const err = (await new PassManager([liar]).run(chain()).catch((e: unknown) => e)) as PassError;
    expect(err.code).toBe('PASS_CONTRACT');
  });

  it('runs async passes', async () => {
    const slow = defineRulePass({
      name: 'slow',
      description: 'awaits',
      exact: true,
      reasons: ['nothing-to-do'],
      async sweep(s) {
        await new Promise((r) => setTimeout(r, 5));
        s.decline(null, 'nothing-to-do', 'just waited');
      },
    });
    const report = await new PassManager([slow]).run(chain());
    expect(report.runs[0]!.result.rejected).toEqual({ 'nothing-to-do': 1 });
  });

  it('explain lists changes with rules and node names, and declines with reasons', async () => {
    const b = new GraphBuilder();
    const x = b.input('x', DataType.FLOAT, [2, 3]);
    const k = b.input('k', DataType.FLOAT, [2, 3]);
    const y = b.op('Identity', [x], {}, { name: 'ident' });
    const z = b.op('Cast', [k], { to: DataType.FLOAT }, { name: 'same_cast' });
    b.output(b.op('Add', [y, z], {}, { name: 'add' }), 'out');
    b.output(k, 'k_out');
    const m = b.build();
    const report = await runPipeline(m, ['eliminate-identity']);
    const text = formatExplain(report);
    expect(text).toMatch(/\[eliminate-identity\] 2 change\(s\)/);
    expect(text).toMatch(/✓ identity: bypassed Identity ident/);
    expect(text).toMatch(/removed \[ident\]/);
    const json = explainJson(report) as { runs: { declined: unknown[] }[] };
    expect(Array.isArray(json.runs[0]!.declined)).toBe(true);
    // A declined candidate: Identity whose output would merge two graph outputs.
    const b2 = new GraphBuilder();
    const x2 = b2.input('x', DataType.FLOAT, [2]);
    b2.output(b2.op('Identity', [x2], {}, { name: 'passthrough' }), 'y');
    const r2 = await runPipeline(b2.build(), ['eliminate-identity']);
    const t2 = formatExplain(r2);
    expect(t2).toMatch(/✗ Identity 'passthrough': graph-output-name — graph output 'y'/);
  });

  it('lists every pass and preset with a description; default holds exact passes only', () => {
    for (const p of Object.values(PASSES)) {
      expect(p.description.length).toBeGreaterThan(10);
      expect(p.name).toMatch(/^[a-z0-9-]+$/);
    }
    for (const name of PRESETS.default!.passes) expect(PASSES[name]!.exact, name).toBe(true);
    expect(PRESETS.edge!.passes.some((n) => !PASSES[n]!.exact)).toBe(true);
    expect(resolvePipeline(['default', 'eliminate-identity']).length).toBe(PRESETS.default!.passes.length);
    expect(() => getPass('no-such-pass')).toThrow(/unknown pass 'no-such-pass'/);
  });

  it('a pass meeting an unknown op leaves it alone', async () => {
    const b = new GraphBuilder({ opsets: { 'com.example': 1 } });
    const x = b.input('x', DataType.FLOAT, [2]);
    const c = b.op('Mystery', [x], {}, { domain: 'com.example', name: 'mystery' });
    b.op('Mystery', [x], {}, { domain: 'com.example', name: 'unused_mystery' });
    b.output(b.op('Identity', [c]), 'out');
    const m = b.build();
    const report = await runPipeline(m, 'default');
    expect(m.graph.nodes.filter((n) => n.opType === 'Mystery').length).toBe(2);
    const dce = report.summary.find((s) => s.pass === 'eliminate-dead-code')!;
    expect(dce.rejected['unknown-domain']).toBeGreaterThan(0);
    expect(m.graph.nodes.map((n) => n.opType)).toEqual(['Mystery', 'Mystery']);
    expect(new Node('X').opType).toBe('X');
  });
});

describe('IR versions before 4', () => {
  it('an initializer a pass adds is listed as a graph input too (the format requires it there)', async () => {
    // Review: fold-constants in an IR 3 model (its initializer-inputs constants to inference) wrote
    // a folded initializer that no input listed, and ONNX's checker refused the file.
    const b = new GraphBuilder({ opset: 8 });
    const x = b.input('x', DataType.FLOAT, [2]);
    const c1 = b.floats('c1', [2], [1, 2]);
    const c2 = b.floats('c2', [2], [3, 4]);
    const m = b.build({ irVersion: 3 });
    m.graph.addInput(c1);
    m.graph.addInput(c2);
    const k = b.op('Neg', [b.op('Mul', [c1, c2])]);
    b.output(b.op('Add', [x, k]), 'y');
    const report = await runPipeline(m, 'default');
    expect(report.totalChanges).toBeGreaterThan(0);
    const inputs = new Set(m.graph.inputs);
    const missing = [...m.graph.initializers.values()].filter((v) => !inputs.has(v)).map((v) => v.name);
    expect(missing).toEqual([]);
    expect(verifyErrors(m)).toEqual([]);
    // IR 4 on: a folded constant is no input.
    const b4 = new GraphBuilder({ opset: 13 });
    const x4 = b4.input('x', DataType.FLOAT, [2]);
    b4.output(b4.op('Add', [x4, b4.op('Neg', [b4.floats('c', [2], [1, 2])])]), 'y');
    const m4 = b4.build();
    await runPipeline(m4, 'default');
    expect(m4.graph.inputs.map((v) => v.name)).toEqual(['x']);
  });
});
