/**
 * Rules as data (issue 15 part 2): every pass is a RulePass whose reason union matches its file
 * header, reasons are typed (a misspelt one fails typecheck — see the @ts-expect-error below,
 * checked by `pnpm typecheck`), options are typed and validated, and the traversal visits only
 * anchored nodes.
 */
import { readFileSync } from 'node:fs';
import { DataType, GraphBuilder, Node, Tensor, verifyErrors } from '@onnxkit/graph';
import { APPLY_REASONS, PASSES, PRESETS, PassManager, defineRule, defineRulePass, getPass, passOptionsFromStrings, runPipeline, standaloneContext, type RulePass } from '@onnxkit/passes';
import { describe, expect, it } from 'vitest';

/** `[reason]` codes in the header comment of a pass file. */
function headerReasons(name: string): Set<string> {
  const src = readFileSync(new URL(`../../src/rewrite/${name}.ts`, import.meta.url), 'utf8');
  const header = src.slice(0, src.indexOf('*/'));
  return new Set([...header.matchAll(/(?:^|\s)\[([a-z][a-z0-9]*(?:-[a-z0-9]+)*)\]/gm)].map((m) => m[1]!));
}

describe('pass headers list exactly the reasons the code can return', () => {
  for (const [name, pass] of Object.entries(PASSES)) {
    it(name, () => {
      const declared = headerReasons(name);
      const reasons = new Set<string>(pass.reasons);
      const apply = new Set<string>(APPLY_REASONS);
      // Every pass may decline with the shared primitive's reasons; the header need not repeat them.
      expect([...reasons].filter((r) => !declared.has(r) && !apply.has(r)), 'in the reason union but not in the header').toEqual([]);
      expect([...declared].filter((r) => !reasons.has(r)), 'promised by the header but never returned').toEqual([]);
    });
  }
});

describe('typed reasons and options', () => {
  it('a rule cannot decline with a reason outside its union (typecheck)', () => {
    const rule = defineRule({
      name: 'demo',
      anchor: 'Relu',
      reasons: ['too-big'],
      match: (n) => n,
      // @ts-expect-error 'too-bigg' is not in the rule's reason union
      check: () => ['too-bigg', ''],
      rewrite: () => undefined,
    });
    expect(rule.reasons).toEqual(['too-big']);
  });

  it("a rule's session declines only with the rule's reasons (typecheck)", () => {
    const rule = defineRule({
      name: 'demo',
      anchor: 'Relu',
      reasons: ['too-big'],
      match: (n) => n,
      check(n, { session }) {
        session.decline(n, 'too-big');
        session.decline(n, 'output-used-elsewhere'); // the primitive's reasons are every rule's
        // @ts-expect-error 'any-string' is not in the rule's reason union
        session.decline(n, 'any-string');
        return undefined;
      },
      rewrite: () => undefined,
    });
    expect(rule.reasons).toEqual(['too-big']);
  });

  it('the catalogue holds declared passes only (typecheck: no cast to RulePass)', () => {
    const passes: readonly RulePass<unknown, string>[] = Object.values(PASSES);
    for (const p of passes) expect(p.reasons.length, p.name).toBeGreaterThan(0);
    expect(getPass('fold-constants').parseOptions({ maxTensorBytes: '1024' })).toMatchObject({ maxTensorBytes: 1024 });
  });

  it('every pass exposes typed defaults and rejects unknown options with a PassError', async () => {
    for (const pass of Object.values(PASSES)) {
      expect(pass.defaults, pass.name).toBeTypeOf('object');
      expect(() => pass.parseOptions({ noSuchOption: 1 }), pass.name).toThrow(/bad option: .*noSuchOption/);
    }
    expect((PASSES['fold-constants'] as RulePass<{ maxTensorBytes: number }>).parseOptions({ maxTensorBytes: '1024' }).maxTensorBytes).toBe(1024);
    const b = new GraphBuilder({ opset: 17 });
    b.output(b.op('Relu', [b.input('x', DataType.FLOAT, [2])]), 'y');
    await expect(Promise.resolve().then(() => getPass('fp16-weights').run(b.build(), standaloneContext({ minElements: 'many' })))).rejects.toThrow(/minElements/);
  });

  it('pass.key=value strings map onto the typed options, checked per pass', () => {
    expect(passOptionsFromStrings(['decouple-conv.rank=2', 'decouple-conv.maxError=0.3', 'fold-constants.kernels=false'])).toEqual({
      'decouple-conv': { rank: '2', maxError: '0.3' },
      'fold-constants': { kernels: 'false' },
    });
    expect((PASSES['decouple-conv'] as RulePass<{ rank: number; maxError: number }>).parseOptions({ rank: '2', maxError: '0.3' })).toMatchObject({ rank: 2, maxError: 0.3 });
    expect(() => passOptionsFromStrings(['decouple-conv.rank=two'])).toThrow(/'rank' has a bad value/);
    expect(() => passOptionsFromStrings(['fold-constants.nope=1'])).toThrow(/unknown option 'nope'/);
    expect(() => passOptionsFromStrings(['no-such-pass.x=1'])).toThrow(/unknown pass 'no-such-pass'/);
    expect(() => passOptionsFromStrings(['rank=2'])).toThrow(/bad pass option 'rank=2'/);
  });

  it('with() is the typed factory: options fixed at construction apply without passOptions', async () => {
    const make = () => {
      const b = new GraphBuilder({ opset: 17 });
      const x = b.input('x', DataType.FLOAT, [1, 8]);
      b.output(b.op('MatMul', [x, b.constant('w', Tensor.fromArray(DataType.FLOAT, [8, 8], new Float32Array(64).fill(0.5)))]), 'y');
      return b.build();
    };
    const fp16 = PASSES['fp16-weights'] as RulePass<{ minElements: number }>;
    expect((await fp16.run(make(), standaloneContext())).changes).toBe(1);
    expect((await fp16.with({ minElements: 1000 }).run(make(), standaloneContext())).rejected).toEqual({ 'too-small': 1 });
    // PipelineOptions.configured: the configured instance runs in place of the catalogue's pass.
    const piped = await runPipeline(make(), ['fp16-weights'], { configured: [fp16.with({ minElements: 1000 })] });
    expect(piped.summary[0]!.rejected).toEqual({ 'too-small': 1 });
    expect((await runPipeline(make(), ['fp16-weights'])).totalChanges).toBe(1);
  });

  it('presets name only registered passes; default holds only exact passes; decouple-conv is approximate', () => {
    for (const p of Object.values(PRESETS)) for (const n of p.passes) expect(PASSES[n], n).toBeDefined();
    for (const n of PRESETS['default']!.passes) expect(PASSES[n]!.exact, n).toBe(true);
    expect(PASSES['conv-to-depthwise']!.exact).toBe(true);
    expect(PASSES['decouple-conv']!.exact).toBe(false);
  });
});

describe('the pass owns traversal', () => {
  it('a rule sees only its anchors, in graph order, and declines are recorded with the rule reasons', async () => {
    const seen: string[] = [];
    const rule = defineRule({
      name: 'relu-probe',
      anchor: ['Relu', 'com.example::Relu'],
      reasons: ['probe-declined'],
      match: (n) => {
        seen.push(`${n.domain || 'onnx'}:${n.name}`);
        return n.name === 'r2' ? n : undefined;
      },
      check: () => ['probe-declined', 'r2 always'],
      rewrite: () => undefined,
    });
    const pass = defineRulePass({ name: 'probe', description: 'test', exact: true, rules: [rule] });
    const b = new GraphBuilder({ opset: 17, opsets: { 'com.example': 1 } });
    let x = b.input('x', DataType.FLOAT, [2]);
    x = b.op('Relu', [x], {}, { name: 'r1' });
    x = b.op('Sigmoid', [x], {}, { name: 's1' });
    x = b.op('Relu', [x], {}, { name: 'r2', domain: 'com.example' });
    x = b.op('Relu', [x], {}, { name: 'r3' });
    b.output(x, 'y');
    const r = await pass.run(b.build(), standaloneContext());
    expect(seen).toEqual(['onnx:r1', 'com.example:r2', 'onnx:r3']);
    expect(r.rejected).toEqual({ 'probe-declined': 1 });
    expect(r.declined[0]).toMatchObject({ pass: 'probe', node: 'r2', reason: 'probe-declined' });
  });

  it('anchors of several op types are visited in graph order, dense or sparse among other nodes', async () => {
    // Dense (a third of the nodes anchored) and sparse (one in ten): the two ways the op-type
    // index merges its buckets.
    for (const every of [3, 10]) {
      const seen: string[] = [];
      const rule = defineRule({
        name: 'order-probe',
        anchor: ['Relu', 'Sigmoid', 'Tanh'],
        reasons: [],
        match: (n) => void seen.push(n.name),
        rewrite: () => undefined,
      });
      const pass = defineRulePass({ name: 'order-probe', description: 'test', exact: true, rules: [rule] });
      const b = new GraphBuilder({ opset: 17 });
      let x = b.input('x', DataType.FLOAT, [2]);
      const expected: string[] = [];
      const ops = ['Tanh', 'Relu', 'Sigmoid', 'Relu', 'Tanh', 'Tanh', 'Sigmoid'];
      for (let i = 0; i < 70; i++) {
        const anchored = i % every === 0;
        const op = anchored ? ops[(i / every) % ops.length]! : 'Neg';
        x = b.op(op, [x], {}, { name: `n${i}` });
        if (anchored) expected.push(`n${i}`);
      }
      b.output(x, 'y');
      // Through the manager: the index is built once and shared (PassContext.shared).
      await new PassManager([pass]).run(b.build());
      expect(seen, `one node in ${every} anchored`).toEqual(expected);
    }
  });

  it('stopAfterChanges stops the anchored traversal', async () => {
    const b = new GraphBuilder({ opset: 17 });
    let x = b.input('x', DataType.FLOAT, [2]);
    for (let i = 0; i < 5; i++) x = b.op('Identity', [b.op('Relu', [x])]);
    b.output(b.op('Relu', [x]), 'y');
    const m = b.build();
    const rep = await runPipeline(m, ['eliminate-identity'], { stopAfterChanges: 2 });
    expect(rep.totalChanges).toBe(2);
    expect(rep.stoppedEarly).toBe(true);
    expect(m.graph.nodes.filter((n) => n.opType === 'Identity')).toHaveLength(3);
  });
});

describe('anchors and required op types are looked up, not visited', () => {
  /** x → Sigmoid → Sigmoid → Relu → y (opset 17). */
  function chain() {
    const b = new GraphBuilder({ name: 'c' });
    const x = b.input('x', DataType.FLOAT, [2]);
    b.output(b.op('Relu', [b.op('Sigmoid', [b.op('Sigmoid', [x])])]), 'y');
    return b.build({ opsetImports: new Map([['', 17]]) });
  }

  it('a rule whose required op type is absent is never matched; a node a patch added is still an anchor for the next pass', async () => {
    const m = chain();
    let matchedWithoutTanh = 0;
    // Requires Tanh, which only the second pass's patches create: never matched in the first sweep.
    const needsTanh = defineRulePass({
      name: 'needs-tanh',
      description: 'test',
      exact: true,
      rules: [defineRule({ name: 'r', anchor: 'Relu', requires: 'Tanh', reasons: [] as const, match: (n) => (n.inputs[0]?.producer?.opType === 'Tanh' ? n : (matchedWithoutTanh++, undefined)), rewrite: () => undefined })],
    });
    // Sigmoid → Tanh: adds a Tanh node per change (the op counts must follow the patch).
    const toTanh = defineRulePass({
      name: 'to-tanh',
      description: 'test',
      exact: true,
      rules: [
        defineRule({
          name: 's2t',
          anchor: 'Sigmoid',
          reasons: [] as const,
          match: (n) => n,
          rewrite: (n) => {
            const t = new Node('Tanh', [n.inputs[0]!], { name: `${n.name}_t`, outputs: [n.outputs[0]!.name] });
            return { remove: [n], replace: [[n.outputs[0]!, t.outputs[0]!]], add: [t], description: 'sigmoid to tanh' };
          },
        }),
      ],
    });
    let tanhSeen = 0;
    const countTanh = defineRulePass({
      name: 'count-tanh',
      description: 'test',
      exact: true,
      rules: [defineRule({ name: 'c', anchor: 'Tanh', reasons: [] as const, match: (n) => (tanhSeen++, n), rewrite: () => undefined })],
    });
    const report = await new PassManager([needsTanh, toTanh, countTanh]).run(m);
    expect(report.totalChanges).toBe(2);
    expect(matchedWithoutTanh).toBe(0);
    expect(tanhSeen).toBeGreaterThanOrEqual(2); // both new Tanh nodes, in the sweep that added them
    expect(m.graph.nodes.map((n) => n.opType)).toEqual(['Tanh', 'Tanh', 'Relu']);
    expect(verifyErrors(m)).toEqual([]);
  });
});
