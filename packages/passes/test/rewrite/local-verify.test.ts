/**
 * The pipeline's closing check re-checks only what validated patches touched (local-verify.ts):
 * it must still catch every broken patch — a node reading a value produced after it, a value of
 * a removed node, a duplicate name — and a pass that changes the graph without reporting it.
 */
import { Attribute, DataType, GraphBuilder, Node, Tensor, Value, verifyErrors, type Graph, type Model } from '@onnxkit/graph';
import { PassError, PassManager, defineRule, defineRulePass, runPipeline, standaloneContext, type MutationResult, type PassContext, type Patch, type RewritePass, type RuleContext } from '@onnxkit/passes';
import { describe, expect, it, vi } from 'vitest';

/** x → Sigmoid → Relu → Tanh → out. */
function small(): Model {
  const b = new GraphBuilder({ name: 'small' });
  const x = b.input('x', DataType.FLOAT, [2, 3]);
  const s = b.op('Sigmoid', [x], {}, { name: 'sig', outputs: ['s'] });
  const r = b.op('Relu', [s], {}, { name: 'relu', outputs: ['r'] });
  const t = b.op('Tanh', [r], {}, { name: 'tanh', outputs: ['t'] });
  b.output(t, 'out');
  return b.build({ opsetImports: new Map([['', 17]]) });
}

/** A pass of one rule anchored on Sigmoid whose patch is `make(sigmoid)`. */
function passOf(make: (n: Node, ctx: RuleContext<unknown>) => Patch) {
  const rule = defineRule({ name: 'broken', anchor: 'Sigmoid', reasons: [] as const, match: (n) => n, rewrite: (n, ctx) => make(n, ctx) });
  return defineRulePass({ name: 'broken-pass', description: 'test', exact: true, rules: [rule] });
}

async function expectCaught(m: Model, pass: ReturnType<typeof passOf>, code: string): Promise<void> {
  const err = await new PassManager([pass]).run(m).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(PassError);
  expect((err as PassError).code).toBe('PASS_INVALID_RESULT');
  expect((err as PassError).diagnostics?.map((d) => d.code)).toContain(code);
}

describe('closing check of validated patches', () => {
  it('is local on a chain of exact rewrites, and the output verifies', async () => {
    const b = new GraphBuilder({ name: 'chain' });
    let x = b.input('x', DataType.FLOAT, [1, 4]);
    const one = b.constant('one', Tensor.scalar(DataType.FLOAT, 1));
    for (let i = 0; i < 10; i++) {
      x = b.op('MatMul', [x, b.floats('w', [4, 4], Array.from({ length: 16 }, (_, k) => Math.sin(i * 16 + k)))]);
      x = b.op('Add', [x, b.floats('b', [4], [i, i + 1, i + 2, i + 3])]);
      x = b.op('Identity', [b.op('Relu', [x])]);
      x = b.op('Mul', [x, one]);
    }
    b.output(x, 'y');
    const m = b.build({ opsetImports: new Map([['', 17]]) });
    const report = await runPipeline(m, 'default');
    expect(report.totalChanges).toBe(30);
    expect(report.finalCheck).toBe('local');
    expect(report.verifications).toBe(1); // the input only
    expect(verifyErrors(m)).toEqual([]);
  });

  it('is local on a chain of more changes than one chunk of its lists holds, and catches the last one when broken', async () => {
    /** x → (Sigmoid → Relu) × 1,500 → Tanh → out. */
    const long = (): Model => {
      const b = new GraphBuilder({ name: 'long' });
      let x = b.input('x', DataType.FLOAT, [2, 3]);
      for (let i = 0; i < 1500; i++) x = b.op('Relu', [b.op('Sigmoid', [x])]);
      b.output(b.op('Tanh', [x]), 'out');
      return b.build({ opsetImports: new Map([['', 17]]) });
    };
    // Each Sigmoid becomes a HardSigmoid (valid); with `last`, the last one reads Tanh's output instead.
    const pass = (last: boolean) =>
      passOf((n, { graph }) => {
        const tanh = last && n.outputs[0]!.uses[0]!.node.outputs[0]!.uses[0]?.node.opType === 'Tanh' ? [...graph].find((x) => x.opType === 'Tanh')! : undefined;
        const h = new Node('HardSigmoid', [tanh ? tanh.outputs[0]! : n.inputs[0]!], { outputs: [`${n.outputs[0]!.name}_h`] });
        return { remove: [n], replace: [[n.outputs[0]!, h.outputs[0]!]], add: [h], description: 'hard' };
      });
    const m = long();
    const report = await new PassManager([pass(false)]).run(m);
    expect(report.totalChanges).toBe(1500);
    expect(report.finalCheck).toBe('local');
    expect(verifyErrors(m)).toEqual([]);
    await expectCaught(long(), pass(true), 'I4-topological-order');
  });

  it('catches a new node that reads a value produced after it', async () => {
    const m = small();
    // Sigmoid's output becomes Neg(t): Relu reads Neg, which reads Tanh's output, produced later.
    const pass = passOf((n, { graph }) => {
      const t = [...graph].find((x) => x.opType === 'Tanh')!.outputs[0]!;
      const neg = new Node('Neg', [t], { name: 'neg', outputs: [n.outputs[0]!.name] });
      return { remove: [n], replace: [[n.outputs[0]!, neg.outputs[0]!]], add: [neg], description: 'reads a later value' };
    });
    await expectCaught(m, pass, 'I4-topological-order');
  });

  it('catches a replacement by the value of a node that is gone', async () => {
    const m = small();
    const g = m.graph;
    // A stale value: the output of a Sigmoid that is no longer in the graph.
    const ghost = new Node('Sigmoid', [g.inputs[0]!], { name: 'ghost', outputs: ['ghost_out'] });
    g.insertBefore(g.nodes[0]!, ghost);
    g.remove(ghost, { safe: true });
    const pass = passOf((n) => ({ remove: [n], replace: [[n.outputs[0]!, ghost.outputs[0]!]], description: 'reads a removed value' }));
    await expectCaught(m, pass, 'I4-topological-order');
  });

  it('catches a name defined twice', async () => {
    const m = small();
    // A new intermediate value takes the name of Relu's output, which stays in the graph (the
    // replacement itself is renamed to the name it replaces, so it is the inner one).
    const pass = passOf((n) => {
      const neg = new Node('Neg', [n.inputs[0]!], { name: 'neg', outputs: ['r'] });
      const abs = new Node('Abs', [neg.outputs[0]!], { name: 'abs', outputs: ['abs_out'] });
      return { remove: [n], replace: [[n.outputs[0]!, abs.outputs[0]!]], add: [neg, abs], description: 'duplicate name' };
    });
    await expectCaught(m, pass, 'I5-unique-names');
  });

  it('catches a name that left once and is claimed twice', async () => {
    const m = small();
    // Sigmoid's output name 's' leaves once; a new inner node takes it, and the replacement
    // (renamed to the name it replaces) takes it again.
    const pass = passOf((n) => {
      const neg = new Node('Neg', [n.inputs[0]!], { name: 'neg', outputs: ['s'] });
      const abs = new Node('Abs', [neg.outputs[0]!], { name: 'abs', outputs: ['abs_out'] });
      return { remove: [n], replace: [[n.outputs[0]!, abs.outputs[0]!]], add: [neg, abs], description: 'one name claimed twice' };
    });
    await expectCaught(m, pass, 'I5-unique-names');
  });

  it('catches a pass that changes the graph without reporting it', async () => {
    const m = small();
    // A valid patch, plus an unreported removal of Relu (Tanh is left reading a removed node).
    const pass = passOf((n, { graph }) => {
      const relu = [...graph].find((x) => x.opType === 'Relu')!;
      graph.remove(relu);
      return { remove: [n], replace: [[n.outputs[0]!, n.inputs[0]!]], description: 'bypass, and an unreported removal' };
    });
    await expectCaught(m, pass, 'I4-topological-order');
  });

  it("trusts the pass contract; closingCheck 'full' (ONNXKIT_VERIFY=full) catches a change made behind the session", async () => {
    // A valid patch, plus an unreported rewiring of a node no patch touched: Tanh reads its own
    // output (a cycle). The node and initializer counts are unchanged, so the local check's tripwire does not fire.
    const sneaky = () =>
      passOf((n, { graph }) => {
        const tanh = [...graph].find((x) => x.opType === 'Tanh')!;
        tanh.setInput(0, tanh.outputs[0]!);
        return { remove: [n], replace: [[n.outputs[0]!, n.inputs[0]!]], description: 'bypass, and an unreported rewiring' };
      });
    const m1 = small();
    const report = await new PassManager([sneaky()]).run(m1);
    expect(report.finalCheck).toBe('local');
    expect(verifyErrors(m1).map((d) => d.code)).toContain('I4-topological-order'); // the gap
    const m2 = small();
    const err = await new PassManager([sneaky()], { closingCheck: 'full' }).run(m2).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(PassError);
    expect((err as PassError).code).toBe('PASS_INVALID_RESULT');
    expect((err as PassError).diagnostics?.map((d) => d.code)).toContain('I4-topological-order');
    expect((err as PassError).message).toContain('without going through its session');
  });

  it('a pass that reports changes it made behind the session drops what the pipeline keeps about the graph (op counts, index, facts) and is verified in full', async () => {
    // Sweep 1: the Sigmoid rule finds no Sigmoid (the op counts say so and are kept); then a pass
    // that is not a rule pass replaces Tanh by a Sigmoid with Graph methods and reports one change
    // without reporting it change by change. Sweep 2: the rule must see the new Sigmoid.
    const m = small();
    m.graph.remove([...m.graph].find((x) => x.opType === 'Sigmoid')!, { safe: false });
    const relu = [...m.graph].find((x) => x.opType === 'Relu')!;
    relu.setInput(0, m.graph.inputs[0]!);
    let done = false;
    const raw: RewritePass = {
      name: 'raw',
      description: 'test: Tanh → Sigmoid behind the session',
      exact: true,
      run: ({ graph }) => {
        if (done) return { modified: false, changes: 0, nodesAdded: 0, nodesRemoved: 0, bytesDelta: 0, rejected: {}, timeMs: 0, log: [], declined: [], metrics: {} };
        done = true;
        const tanh = [...graph].find((x) => x.opType === 'Tanh')!;
        const sig = new Node('Sigmoid', [tanh.inputs[0]!], { name: 'sig2', outputs: ['s2'] });
        graph.insertBefore(tanh, sig);
        tanh.outputs[0]!.replaceAllUsesWith(sig.outputs[0]!, { outputs: true });
        graph.remove(tanh);
        return { modified: true, changes: 1, nodesAdded: 1, nodesRemoved: 1, bytesDelta: 0, rejected: {}, timeMs: 0, log: [], declined: [], metrics: {} };
      },
    };
    const bypass = passOf((n) => ({ remove: [n], replace: [[n.outputs[0]!, n.inputs[0]!]], description: 'bypass' }));
    const report = await new PassManager([bypass, raw]).run(m);
    expect([...m.graph].map((x) => x.opType)).toEqual(['Relu']);
    expect(report.totalChanges).toBe(2);
    expect(report.verifications).toBe(2); // the input, and the raw pass's output in full
    expect(verifyErrors(m)).toEqual([]);
  });

  it("closingCheck 'full' verifies a valid output in full and changes nothing else", async () => {
    const m = small();
    const bypass = passOf((n) => ({ remove: [n], replace: [[n.outputs[0]!, n.inputs[0]!]], description: 'bypass' }));
    const report = await new PassManager([bypass], { closingCheck: 'full' }).run(m);
    expect(report.totalChanges).toBe(1);
    expect(report.finalCheck).toBe('full');
    expect(report.verifications).toBe(2); // the input and the output
    expect(verifyErrors(m)).toEqual([]);
  });
});

describe("convert-fp16's whole-graph change is checked locally (RewriteSession.mutate with what it touched)", () => {
  /** x → MatMul(w1) → Celu (not float16-safe: stays float32) → Relu → MatMul(w2) → y. */
  function mixed(): Model {
    const b = new GraphBuilder({ name: 'mixed' });
    const x = b.input('x', DataType.FLOAT, [2, 8]);
    const w = (name: string) => b.floats(name, [8, 8], Array.from({ length: 64 }, (_, k) => Math.sin(k + name.length)));
    const h = b.op('MatMul', [x, w('w1')], {}, { name: 'mm1', outputs: ['h'] });
    const c = b.op('Celu', [h], {}, { name: 'celu', outputs: ['c'] });
    const r = b.op('Relu', [c], {}, { name: 'relu', outputs: ['r'] });
    b.output(b.op('MatMul', [r, w('w2x')], {}, { name: 'mm2', outputs: ['y'] }), 'y');
    return b.build({ opsetImports: new Map([['', 17]]) });
  }

  it('is local (Casts inserted, weights retyped, the output renamed) and the output verifies', async () => {
    const m = mixed();
    const report = await runPipeline(m, ['convert-fp16']);
    expect(report.totalChanges).toBe(1);
    expect(m.graph.nodes.filter((n) => n.opType === 'Cast').length).toBe(4); // x, around Celu, y
    expect(m.graph.initializers.get('w1')!.constValue!.dtype).toBe(DataType.FLOAT16);
    expect(m.graph.outputs.map((o) => [o.name, o.producer?.opType])).toEqual([['y', 'Cast']]);
    expect(report.finalCheck).toBe('local');
    expect(report.verifications).toBe(1); // the input only
    expect(verifyErrors(m)).toEqual([]);
  });

  /** A whole-graph pass whose one mutate is `change`, saying what it touched. */
  function mutating(change: (g: Model['graph'], s: Parameters<NonNullable<Parameters<typeof defineRulePass>[0]['sweep']>>[0]) => MutationResult): RewritePass {
    return defineRulePass({
      name: 'broken-mutate',
      description: 'test',
      exact: false,
      sweep(s) {
        const g = s.model.graph;
        s.mutate(g, 'broken', 'a broken type change', () => change(g, s));
      },
    });
  }

  async function expectMutateCaught(pass: RewritePass, code: string): Promise<void> {
    const err = await new PassManager([pass]).run(mixed()).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(PassError);
    expect((err as PassError).code).toBe('PASS_INVALID_RESULT');
    expect((err as PassError).diagnostics?.map((d) => d.code)).toContain(code);
  }

  it('catches a weight stored as float16 whose declared type still says float32', async () => {
    const pass = mutating((g) => {
      const w = g.initializers.get('w1')!;
      const t = w.constValue!;
      w.constValue = Tensor.fromArray(DataType.FLOAT16, t.dims, new Uint16Array(t.size), { name: w.name });
      // (w.type left FLOAT: the type change is broken)
      return { bytesDelta: -t.byteLength / 2, touched: { retyped: [w] } };
    });
    await expectMutateCaught(pass, 'I6-initializers');
  });

  it('catches an inserted Cast whose output takes a name still in the graph, or one fresh name twice', async () => {
    const taken = mutating((g) => {
      const x = g.inputs[0]!;
      const cast = new Node('Cast', [x], { name: 'cast', attributes: [Attribute.int('to', DataType.FLOAT16)], outputs: ['h'] });
      g.prepend(cast);
      return { added: ['cast'], touched: { addedNodes: [cast] } };
    });
    await expectMutateCaught(taken, 'I5-unique-names');
    const twice = mutating((g, s) => {
      const x = g.inputs[0]!;
      const name = s.freshName('x_fp16');
      const a = new Node('Cast', [x], { name: 'a', attributes: [Attribute.int('to', DataType.FLOAT16)], outputs: [name] });
      const b = new Node('Cast', [x], { name: 'b', attributes: [Attribute.int('to', DataType.FLOAT16)], outputs: [name] });
      g.prepend(b);
      g.prepend(a);
      return { added: ['a', 'b'], touched: { addedNodes: [a, b] } };
    });
    await expectMutateCaught(twice, 'I5-unique-names');
  });

  it('catches a reader moved onto a Cast inserted after it', async () => {
    const pass = mutating((g) => {
      const celu = g.nodes.find((n) => n.opType === 'Celu')!;
      const h = celu.inputs[0]!;
      const cast = new Node('Cast', [h], { name: 'late', attributes: [Attribute.int('to', DataType.FLOAT)], outputs: ['h_late'] });
      g.append(cast); // after its reader
      celu.setInput(0, cast.outputs[0]!);
      return { added: ['late'], touched: { addedNodes: [cast], released: [h] } };
    });
    await expectMutateCaught(pass, 'I4-topological-order');
  });
});

describe("a mutate's local check costs what the change touched (PatchTracker.checkChange)", () => {
  /** x → Relu → y, plus `k` dead Add(x, w) and `k` dead Relu(x): x has 2k + 1 uses, w has k. */
  function fanOut(k: number): Model {
    const b = new GraphBuilder({ name: 'fan-out' });
    const x = b.input('x', DataType.FLOAT, [1, 4]);
    const w = b.floats('w', [4], [1, 2, 3, 4]);
    b.output(b.op('Relu', [x], {}, { name: 'live', outputs: ['r'] }), 'y');
    for (let i = 0; i < k; i++) {
      b.op('Add', [x, w], {}, { name: `add${i}` });
      b.op('Relu', [x], {}, { name: `relu${i}` });
    }
    return b.build({ opsetImports: new Map([['', 17]]) });
  }

  it('walks the uses of a value read by many removed nodes once per pass run and once at the close, not once per removal', async () => {
    const m = fanOut(40);
    const x = m.graph.inputs[0]!;
    const w = m.graph.initializers.get('w')!;
    // Walks of every use of a value (local-verify.ts's usesOk) while it had more than FEW_USES (8)
    // uses: a value with few is simply walked again, as often as it is touched.
    const walks = new Map<Value, number>();
    const original = Value.prototype._usesIn;
    const spy = vi.spyOn(Value.prototype, '_usesIn').mockImplementation(function (this: Value, g: Graph) {
      if (this.useCount > 8) walks.set(this, (walks.get(this) ?? 0) + 1);
      return original.call(this, g);
    });
    try {
      const report = await runPipeline(m, ['eliminate-dead-code']);
      expect(report.totalChanges).toBe(81); // 80 dead nodes and the initializer they read
      expect(report.finalCheck).toBe('local');
      expect(report.verifications).toBe(1); // the input only
    } finally {
      spy.mockRestore();
    }
    expect(m.graph.nodes.map((n) => n.name)).toEqual(['live']);
    expect(verifyErrors(m)).toEqual([]);
    // Without checkChange: x walked at each of the 72 removals that left it more than 8 uses, w at 32.
    expect(walks.get(x) ?? 0).toBeLessThanOrEqual(2);
    expect(walks.get(w) ?? 0).toBeLessThanOrEqual(2);
  });

  /** A pass whose one mutate removes the dead Add `add0` (reading x and w), then runs `corrupt`. */
  function removing(corrupt: (g: Graph, removed: Node) => void): RewritePass {
    return defineRulePass({
      name: 'stale-use',
      description: 'test',
      exact: true,
      sweep(s) {
        const g = s.model.graph;
        const n = g.nodes.find((k) => k.name === 'add0');
        if (n === undefined) return;
        s.mutate(g, 'break', 'removed add0, leaving a use behind', () => {
          const released = n.inputs.filter((v) => v !== null);
          g.remove(n, { safe: true });
          corrupt(g, n);
          return { removed: ['add0'], touched: { removedNodes: [n], released } };
        });
      },
    });
  }

  async function expectCaughtAfterPass(pass: RewritePass): Promise<void> {
    const err = (await new PassManager([pass]).run(fanOut(20)).catch((e: unknown) => e)) as PassError;
    expect(err).toBeInstanceOf(PassError);
    expect(err.code).toBe('PASS_INVALID_RESULT');
    // Verified in full right after the pass (not only by the pipeline's closing check): the
    // error names the pass and its change.
    expect(err.pass).toBe('stale-use');
    expect(err.change?.rule).toBe('break');
    expect(err.diagnostics.length).toBeGreaterThan(0);
  }

  /** What the pass's run told a context: each change's `validated`, and how often onUnsound. */
  async function verdicts(pass: RewritePass): Promise<{ validated: (boolean | undefined)[]; unsound: number }> {
    const validated: (boolean | undefined)[] = [];
    let unsound = 0;
    const ctx: PassContext = {
      ...standaloneContext(),
      onPatch: () => undefined,
      onUnsound: () => void unsound++,
      afterChange: (_m, _r, v) => void validated.push(v),
    };
    await pass.run(fanOut(20), ctx);
    return { validated, unsound };
  }

  /** Adds a use of `v` by `n` at input `i` that `n` does not hold (what a broken graph edit leaves). */
  const staleUse = (v: Value, n: Node, i: number) => (v as unknown as { _addUse(n: Node, i: number): void })._addUse(n, i);

  it('catches a use left behind by the removed node on a value of many uses: asked of the removed node (O(1)), the change is not validated', async () => {
    // x has 41 uses, w 20: the removed node's stale use of each is found without walking them.
    const onX = removing((g, removed) => staleUse(g.inputs[0]!, removed, 0));
    const onW = removing((g, removed) => staleUse(g.initializers.get('w')!, removed, 1));
    expect(await verdicts(onX)).toEqual({ validated: [false], unsound: 0 });
    expect(await verdicts(onW)).toEqual({ validated: [false], unsound: 0 });
    await expectCaughtAfterPass(onX);
    await expectCaughtAfterPass(onW);
  });

  it('catches a stale use by a live node on a value of many uses, which the change did not report: the walk at the end of the pass run', async () => {
    // relu5 reads x at input 0 only: a use of x at its input 1 is a use no input holds.
    const pass = removing((g) => staleUse(g.inputs[0]!, g.nodes.find((k) => k.name === 'relu5')!, 1));
    expect(await verdicts(pass)).toEqual({ validated: [true], unsound: 1 });
    await expectCaughtAfterPass(pass);
  });
});

describe('the closing check of a node reading one value at many inputs', () => {
  it('checks the node once, not once per input: a Concat of 40 equal Relus after CSE', async () => {
    const b = new GraphBuilder({ name: 'fan-in' });
    const x = b.input('x', DataType.FLOAT, [1, 4]);
    const ins = Array.from({ length: 40 }, (_, i) => b.op('Relu', [x], {}, { name: `relu${i}` }));
    b.output(b.op('Concat', ins, { axis: 0 }, { name: 'concat', outputs: ['c'] }), 'y');
    const m = b.build({ opsetImports: new Map([['', 17]]) });
    const concat = m.graph.nodes.find((n) => n.name === 'concat')!;
    // hasUse asked of the Concat: by the closing check's node check, once per input it checks.
    let asked = 0;
    const original = Value.prototype.hasUse;
    const spy = vi.spyOn(Value.prototype, 'hasUse').mockImplementation(function (this: Value, n: Node, i: number) {
      if (n === concat) asked++;
      return original.call(this, n, i);
    });
    try {
      const report = await runPipeline(m, ['eliminate-common-subexpressions', 'eliminate-dead-code']);
      expect(report.finalCheck).toBe('local');
    } finally {
      spy.mockRestore();
    }
    expect(m.graph.nodes.map((n) => n.opType)).toEqual(['Relu', 'Concat']);
    expect(new Set(concat.inputs).size).toBe(1);
    expect(verifyErrors(m)).toEqual([]);
    // Once per its 40 inputs in the closing check (and the patches' own checks), not once per
    // use of the value it reads 40 times (40 × 40 = 1,600).
    expect(asked).toBeLessThanOrEqual(200);
  });
});
