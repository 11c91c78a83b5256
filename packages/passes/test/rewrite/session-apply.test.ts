/**
 * RewriteSession.apply: a bypass (one node removed, its output replaced by an existing value,
 * nothing added) is checked on a short path of its own, which must decline exactly what the
 * general check declines, with the same reason and detail, and change nothing when it declines;
 * a declined patch leaves no use by the new nodes its rule built; new nodes wired after the
 * matched nodes leave (Rewrite.inputs) read what they were given; apply keeps neither a patch nor
 * its arrays (a rule may refill them for its next candidate).
 */
import { Attribute, DataType, GraphBuilder, Node, Tensor, verifyErrors, type Model, type Value } from '@onnxkit/graph';
import { Facts, inferShapes, RewriteSession, runPipeline, standaloneContext, type PassContext, type Rewrite } from '@onnxkit/passes';
import { describe, expect, it } from 'vitest';

/**
 * x → Relu (r) → Identity (i) → Neg (n) → out, Relu also → Tanh → t_out, and Relu → Dropout
 * (d, mask) → Abs; the mask is read by Sign (`maskUse`) or is a graph output (`maskOut`).
 */
function model(mask: 'maskUse' | 'maskOut' | 'none' = 'none'): Model {
  const b = new GraphBuilder({ name: 'm' });
  const x = b.input('x', DataType.FLOAT, [2]);
  const r = b.op('Relu', [x], {}, { name: 'relu', outputs: ['r'] });
  const i = b.op('Identity', [r], {}, { name: 'id', outputs: ['i'] });
  b.output(b.op('Neg', [i], {}, { name: 'neg', outputs: ['n'] }), 'out');
  b.output(b.op('Tanh', [r], {}, { name: 'tanh', outputs: ['t'] }), 't_out');
  const drop = new Node('Dropout', [r], { name: 'drop', outputs: ['d', 'mask'] });
  b.graph.append(drop);
  b.output(b.op('Abs', [drop.outputs[0]!], {}, { name: 'abs', outputs: ['a'] }), 'a_out');
  if (mask === 'maskUse') b.output(b.op('Not', [drop.outputs[1]!], {}, { name: 'not', outputs: ['m2'] }), 'm_out');
  if (mask === 'maskOut') b.output(drop.outputs[1]!, 'mask_out');
  return b.build({ opsetImports: new Map([['', 17]]) });
}

function node(m: Model, name: string): Node {
  return m.graph.nodes.find((n) => n.name === name)!;
}

type Outcome = { ok: boolean; reason?: string; detail?: string };

function outcome(m: Model, rw: Rewrite): Outcome {
  const s = new RewriteSession('test', m, standaloneContext());
  const r = s.apply(m.graph, rw);
  return r.ok ? { ok: true } : { ok: false, reason: r.reason, detail: r.detail };
}

/** The same patch through the general check: its pair listed twice (the same checks, not a bypass). */
function general(m: Model, rw: Rewrite): Outcome {
  const pair = rw.replace[0]!;
  return outcome(m, { ...rw, replace: [pair, pair] });
}

const bypass = (n: Node, v: Value | undefined, o: Value = n.outputs[0]!): Rewrite => ({ rule: 'r', remove: [n], replace: [[o, v as Value]], description: 'd' });

describe('RewriteSession.apply on a bypass', () => {
  const cases: Array<[string, 'maskUse' | 'maskOut' | 'none', (m: Model) => Rewrite, string | undefined]> = [
    ['a node of another graph', 'none', (m) => bypass(new Node('Identity', [], { name: 'stray', outputs: ['s'] }), m.graph.inputs[0]!), 'internal-node-not-in-graph'],
    ['a missing replacement', 'none', (m) => bypass(node(m, 'id'), undefined), 'missing-input'],
    ['a replaced value the node does not produce', 'none', (m) => bypass(node(m, 'id'), m.graph.inputs[0]!, node(m, 'relu').outputs[0]!), 'internal-replaced-value-not-removed'],
    ['a replacement the node produces', 'none', (m) => bypass(node(m, 'drop'), node(m, 'drop').outputs[1]!), 'internal-replaced-value-not-removed'],
    ['another output read by a node that stays', 'maskUse', (m) => bypass(node(m, 'drop'), node(m, 'relu').outputs[0]!), 'output-used-elsewhere'],
    ['another output that is a graph output', 'maskOut', (m) => bypass(node(m, 'drop'), node(m, 'relu').outputs[0]!), 'output-is-graph-output'],
    ['a graph output taken over by a graph input', 'none', (m) => bypass(node(m, 'neg'), m.graph.inputs[0]!), 'graph-output-name'],
    ['a graph output taken over by another graph output', 'none', (m) => bypass(node(m, 'neg'), node(m, 'tanh').outputs[0]!), 'graph-output-name'],
    ['a valid bypass', 'none', (m) => bypass(node(m, 'id'), node(m, 'relu').outputs[0]!), undefined],
    ['a valid bypass of a Dropout whose mask is unused', 'none', (m) => bypass(node(m, 'drop'), node(m, 'relu').outputs[0]!), undefined],
  ];
  for (const [what, mask, make, reason] of cases) {
    it(`${reason ? `declines (${reason})` : 'applies'} ${what} as the general check does`, () => {
      const a = model(mask);
      const b = model(mask);
      const before = a.graph.nodeCount;
      const fast = outcome(a, make(a));
      expect(fast).toEqual(general(b, make(b)));
      expect(fast.reason).toBe(reason);
      expect(a.graph.nodeCount).toBe(reason ? before : before - 1);
      expect(verifyErrors(a)).toEqual([]);
    });
  }
});

describe('RewriteSession.apply with new nodes', () => {
  it('a declined patch leaves no use by the nodes its rule built', () => {
    const m = model();
    const r = node(m, 'relu').outputs[0]!;
    const uses = r.useCount;
    // A new Neg reading r, in a patch the check declines (the replaced value is not an output of
    // the removed node).
    const neg = new Node('Neg', [r], { name: 'neg2', outputs: ['n2'] });
    expect(r.useCount).toBe(uses + 1);
    const out = outcome(m, { rule: 'r', remove: [node(m, 'id')], replace: [[r, neg.outputs[0]!]], add: [neg], description: 'd' });
    expect(out.reason).toBe('internal-replaced-value-not-removed');
    expect(r.useCount).toBe(uses);
    expect(verifyErrors(m)).toEqual([]);
  });

  it('wires Rewrite.inputs after the matched nodes leave, and refuses a list that does not match the new nodes', () => {
    const m = model();
    const id = node(m, 'id');
    const r = node(m, 'relu').outputs[0]!;
    const neg = new Node('Neg', [], { name: 'neg2', outputs: ['n2'] });
    const rw: Rewrite = { rule: 'r', remove: [id], replace: [[id.outputs[0]!, neg.outputs[0]!]], add: [neg], inputs: [[r]], description: 'd' };
    expect(() => outcome(m, { ...rw, inputs: [] })).toThrow(/Rewrite.inputs lists 0 input list\(s\) for 1 new node/);
    expect(outcome(m, rw)).toEqual({ ok: true });
    expect(neg.inputs).toEqual([r]);
    expect(r.uses.map((u) => u.node.name).sort()).toEqual(['drop', 'neg2', 'tanh']);
    expect(verifyErrors(m)).toEqual([]);
  });

  it('keeps neither a patch nor its arrays: a rule may refill one patch for its next candidate', () => {
    // What eliminate-identity and fuse-matmul-add-into-gemm rely on: after apply returns, the
    // patch's arrays are overwritten, and nothing the session made or the model holds changes.
    const m = model();
    const id = node(m, 'id');
    const neg = node(m, 'neg');
    const r = node(m, 'relu').outputs[0]!;
    const seen: string[] = [];
    const ctx = { ...standaloneContext(), onPatch: (p: { readonly added: readonly Node[]; readonly replaced: readonly unknown[]; readonly released: readonly Value[] }) => void seen.push(`${p.added.length}:${p.replaced.length}:${p.released.length}`) };
    const s = new RewriteSession('test', m, ctx);
    const abs = new Node('Abs', [], { name: 'abs2', outputs: ['i2'] });
    const patch = { rule: 'r', remove: [id], replace: [[id.outputs[0]!, abs.outputs[0]!]] as [Value, Value][], add: [abs], inputs: [[r]] as Value[][], description: 'd' };
    const first = s.apply(m.graph, patch);
    expect(first.ok).toBe(true);
    // Refilled for a bypass of Neg (whose output is the graph output 'out').
    const other = new Node('Identity', [], { name: 'x', outputs: ['x'] });
    patch.remove[0] = neg;
    patch.replace[0] = [neg.outputs[0]!, abs.outputs[0]!];
    patch.add[0] = other;
    patch.inputs[0]![0] = m.graph.inputs[0]!;
    patch.add.length = 0;
    patch.inputs.length = 0;
    expect(abs.inputs).toEqual([r]);
    expect(r.uses.map((u) => u.node.name).sort()).toEqual(['abs2', 'drop', 'tanh']);
    expect(verifyErrors(m)).toEqual([]);
    const second = s.apply(m.graph, patch);
    expect(second.ok).toBe(true);
    expect(first.ok && first.record).toMatchObject({ removed: ['id'], added: ['abs2'] });
    expect(second.ok && second.record).toMatchObject({ removed: ['neg'], added: [] });
    expect(s.log.map((c) => c.removed)).toEqual([['id'], ['neg']]);
    expect(seen).toEqual(['1:1:1', '0:1:1']);
    expect(m.graph.outputs[0]!.name).toBe('out');
    expect(verifyErrors(m)).toEqual([]);
  });

  it('declines a new node wired through Rewrite.inputs to an output of a removed node that is not replaced, as it would built with it', () => {
    // Dropout's d is replaced by a new Not that reads the mask, the Dropout's other output.
    const detail = (how: 'built' | 'wired'): Outcome => {
      const m = model();
      const drop = node(m, 'drop');
      const mask = drop.outputs[1]!;
      const not = new Node('Not', how === 'built' ? [mask] : [], { name: 'not2', outputs: ['m3'] });
      const rw: Rewrite = { rule: 'r', remove: [drop], replace: [[drop.outputs[0]!, not.outputs[0]!]], add: [not], description: 'd' };
      const out = outcome(m, how === 'built' ? rw : { ...rw, inputs: [[mask]] });
      if (how === 'wired') expect(not.inputs).toEqual([]);
      expect(verifyErrors(m)).toEqual([]);
      return out;
    };
    const wired = detail('wired');
    expect(wired).toMatchObject({ ok: false, reason: 'output-used-elsewhere' });
    expect(wired).toEqual(detail('built'));
  });

  it('stops after any number of changes in the middle of fusions with a valid model (the Gemm of the refused patch reads nothing)', async () => {
    const chain = (): Model => {
      const b = new GraphBuilder({ name: 'chain' });
      let x = b.input('x', DataType.FLOAT, [1, 4]);
      for (let i = 0; i < 6; i++) {
        x = b.op('MatMul', [x, b.constant('w', Tensor.fromArray(DataType.FLOAT, [4, 4], new Float32Array(16).fill(i)))]);
        x = b.op('Add', [x, b.constant('b', Tensor.fromArray(DataType.FLOAT, [4], new Float32Array(4).fill(i)))]);
        x = b.op('Relu', [x]);
      }
      b.output(x, 'y');
      return b.build({ opsetImports: new Map([['', 17]]) });
    };
    for (const stop of [1, 3, 5]) {
      const m = chain();
      const report = await runPipeline(m, 'default', { stopAfterChanges: stop });
      expect(report.totalChanges).toBe(stop);
      expect(report.stoppedEarly).toBe(true);
      expect(verifyErrors(m)).toEqual([]);
    }
  });
});

/**
 * A bypass is applied by its own short function (#applyBypass, optimised apart from the general
 * #apply for speed); a patch with `inputs: []` (no wiring, nothing added) is the same change made
 * by the general path. Both must leave the same model and report the same record, the same
 * AppliedPatch to onPatch, the same flags to afterChange and the same shape facts.
 */
type AppliedPatch = Parameters<NonNullable<PassContext['onPatch']>>[0];

describe('RewriteSession.apply: a bypass made on its short path is the change the general path makes', () => {
  /** x → Relu r → [Identity i] → Neg n → out; `one` (an initializer) → Mul(r, one) → m_out; a Constant c → Add(r, c) → a_out. */
  function m2(): Model {
    const b = new GraphBuilder({ name: 'm2' });
    const x = b.input('x', DataType.FLOAT, [2]);
    const r = b.op('Relu', [x], {}, { name: 'relu', outputs: ['r'] });
    const i = b.op('Identity', [r], {}, { name: 'id', outputs: ['i'] });
    b.output(b.op('Neg', [i], {}, { name: 'neg', outputs: ['n'] }), 'out');
    const one = b.constant('one', Tensor.scalar(DataType.FLOAT, 1));
    b.output(b.op('Mul', [r, one], {}, { name: 'mul', outputs: ['m'] }), 'm_out');
    const c = b.op('Constant', [], { value: Tensor.scalar(DataType.FLOAT, 0) }, { name: 'cst', outputs: ['c'] });
    b.output(b.op('Add', [r, c], {}, { name: 'add', outputs: ['a'] }), 'a_out');
    const t = b.op('Tanh', [r], {}, { name: 'tanh', outputs: ['t'] });
    b.output(b.op('Identity', [t], {}, { name: 'id2', outputs: ['t_out'] }), 't_out');
    return b.build({ opsetImports: new Map([['', 17]]) });
  }
  const names = (vs: readonly (Value | Node)[]): string[] => vs.map((v) => v.name);
  function run(m: Model, rw: Rewrite): unknown {
    const patches: unknown[] = [];
    const changes: unknown[] = [];
    const facts = new Facts(m, undefined, inferShapes(m));
    const ctx = {
      ...standaloneContext(),
      shared: { facts },
      onPatch: (p: AppliedPatch) =>
        patches.push({
          graph: p.graph.name,
          added: names(p.added),
          replaced: p.replaced.map(([a, b]) => [a.name, b.name]),
          released: names(p.released),
          values: names(p.values),
          left: [...p.left],
          introduced: [...p.introduced],
          initializers: names(p.initializers),
          nodesRemoved: p.nodesRemoved,
          initializersDelta: p.initializersDelta,
        }),
      afterChange: (_m: Model, record: unknown, validated?: boolean, factsKept?: boolean, factsAlike?: boolean) => changes.push({ record, validated, factsKept, factsAlike }),
    };
    const r = new RewriteSession('test', m, ctx).apply(m.graph, rw);
    const fresh = inferShapes(m);
    const live = m.graph.nodes.flatMap((n) => [...n.inputs, ...n.outputs]).filter((v): v is Value => v !== undefined);
    return {
      outcome: r.ok ? { ok: true, record: r.record } : r,
      patches,
      changes,
      nodes: m.graph.nodes.map((n) => `${n.opType} ${n.name}: ${names(n.inputs.filter((v): v is Value => v !== undefined))} → ${names(n.outputs)}`),
      outputs: names(m.graph.outputs),
      initializers: [...m.graph.initializers.keys()],
      facts: live.map((v) => [v.name, facts.typeOf(v), fresh.typeOf(v)]),
      errors: verifyErrors(m),
    };
  }
  const cases: Array<[string, (m: Model) => Rewrite]> = [
    ['an Identity inside the graph', (m) => bypass(node(m, 'id'), node(m, 'relu').outputs[0]!)],
    ['an Identity whose output is a graph output (the value read instead takes its name)', (m) => bypass(node(m, 'id2'), node(m, 'tanh').outputs[0]!)],
    ['a Mul by an initializer that is then read by nothing', (m) => bypass(node(m, 'mul'), node(m, 'relu').outputs[0]!)],
    ['an Add of a Constant node that is then read by nothing', (m) => bypass(node(m, 'add'), node(m, 'relu').outputs[0]!)],
  ];
  for (const [what, make] of cases) {
    it(what, () => {
      const a = m2();
      const b = m2();
      const short = run(a, make(a));
      const general = run(b, { ...make(b), inputs: [] });
      expect(short).toEqual(general);
      expect((short as { outcome: { ok: boolean } }).outcome.ok).toBe(true);
      expect((short as { errors: unknown[] }).errors).toEqual([]);
    });
  }
});

describe('RewriteSession.apply replacing an initializer (a weight stored another way)', () => {
  /** x → MatMul(x, w) → out, w a 4×4 float32 initializer; `asInput`: w is also a graph input. */
  function weighted(asInput = false): { m: Model; w: Value } {
    const b = new GraphBuilder({ name: 'w' });
    const x = b.input('x', DataType.FLOAT, [1, 4]);
    const w = b.constant('w', Tensor.fromArray(DataType.FLOAT, [4, 4], new Float32Array(16).fill(0.5)));
    b.output(b.op('MatMul', [x, w], {}, { name: 'mm', outputs: ['y'] }), 'out');
    const m = b.build({ opsetImports: new Map([['', 17]]) });
    if (asInput) m.graph.addInput(w);
    return { m, w };
  }

  function castPatch(s: RewriteSession, m: Model, w: Value): Rewrite {
    const half = s.newInitializer('w_fp16', Tensor.fromArray(DataType.FLOAT16, [4, 4], new Uint16Array(16).fill(0x3800)));
    const cast = new Node('Cast', [half], { name: 'w_cast', attributes: [Attribute.int('to', DataType.FLOAT)], outputs: [s.replacementName(w, 'w_fp32')] });
    return { rule: 'test', remove: [], replace: [[w, cast.outputs[0]!]], add: [cast], insertBefore: m.graph.firstNode!, initializers: [half], description: 'w → Cast(w_fp16)' };
  }

  it('drops the initializer, gives its name to the replacement, inserts the node first and counts the bytes', () => {
    const { m, w } = weighted();
    const s = new RewriteSession('test', m, standaloneContext());
    const r = s.apply(m.graph, castPatch(s, m, w));
    expect(r.ok).toBe(true);
    expect(verifyErrors(m)).toEqual([]);
    expect([...m.graph.initializers.keys()]).toEqual(['w_fp16']);
    expect(m.graph.nodes.map((n) => `${n.opType}:${n.outputs[0]!.name}`)).toEqual(['Cast:w', 'MatMul:out']);
    expect(node(m, 'mm').inputs[1]!.producer?.opType).toBe('Cast');
    if (r.ok) expect(r.record).toMatchObject({ removed: [], added: ['w_cast'], bytesDelta: 32 - 64 });
    expect(s.finish().modified).toBe(true);
  });

  it('declines an initializer that is a graph input, and changes nothing', () => {
    const { m, w } = weighted(true);
    const s = new RewriteSession('test', m, standaloneContext());
    const r = s.apply(m.graph, castPatch(s, m, w));
    expect(r).toMatchObject({ ok: false, reason: 'internal-replaced-value-not-removed' });
    expect([...m.graph.initializers.keys()]).toEqual(['w']);
    expect(m.graph.nodes.map((n) => n.opType)).toEqual(['MatMul']);
    expect(verifyErrors(m)).toEqual([]);
  });

  it('tells the manager it was a validated patch (no whole-model verify after the pass that made it)', async () => {
    // fp16-weights and quantize-weights-int8 patch through apply: in 'pass' mode no verify() of
    // their own follows them (a `mutate` did: 2 verifications, the input and after the pass), and
    // the closing check of what the patches touched covers them (the new initializers' names are
    // ones the session minted), so the input is the one whole-model verify.
    const big = () => {
      const b = new GraphBuilder({ name: 'big' });
      const x = b.input('x', DataType.FLOAT, [1, 16]);
      const w = b.constant('w', Tensor.fromArray(DataType.FLOAT, [16, 16], Float32Array.from({ length: 256 }, (_, i) => Math.sin(i))));
      b.output(b.op('MatMul', [x, w], {}, { name: 'mm' }), 'out');
      return b.build({ opsetImports: new Map([['', 17]]) });
    };
    for (const pass of ['fp16-weights', 'quantize-weights-int8']) {
      const model = big();
      const report = await runPipeline(model, [pass], { verify: 'pass' });
      expect(report.totalChanges, pass).toBe(1);
      expect(report.verifications, pass).toBe(1);
      expect(report.finalCheck, pass).toBe('local');
      expect(verifyErrors(model)).toEqual([]);
    }
  });

  it('eliminate-duplicate-initializers merges through apply (replace by the kept initializer): closed locally', async () => {
    const b = new GraphBuilder({ name: 'dups' });
    const x = b.input('x', DataType.FLOAT, [1, 4]);
    const w = () => Tensor.fromArray(DataType.FLOAT, [4, 4], new Float32Array(16).fill(0.25));
    const y = b.op('MatMul', [x, b.constant('w1', w())], {}, { name: 'mm1' });
    b.output(b.op('MatMul', [y, b.constant('w2', w())], {}, { name: 'mm2' }), 'out');
    const m = b.build({ opsetImports: new Map([['', 17]]) });
    const report = await runPipeline(m, ['eliminate-duplicate-initializers'], { verify: 'pass' });
    expect(report.totalChanges).toBe(1);
    expect(report.runs[0]!.result.log[0]).toMatchObject({ rule: 'duplicate-initializer', removed: [], added: [], bytesDelta: -64, description: "'w2' is byte-identical to 'w1'" });
    expect([...m.graph.initializers.keys()]).toEqual(['w1']);
    // A mutate was verified in full after the pass (2 verifications); a validated patch is not.
    expect(report.verifications).toBe(1);
    expect(report.finalCheck).toBe('local');
    expect(verifyErrors(m)).toEqual([]);
  });
});
