/**
 * A rule's per-run state (RuleSpec.state): made once per pass run, handed to match/check/rewrite/
 * outcome/after as `ctx.state`, typed, and never seen by another run — neither the next run of the
 * same pass nor a run of another pipeline interleaved with it in the same process. Each test
 * fails if the state were kept per rule (made once and shared by every run).
 */
import { DataType, GraphBuilder, type Model } from '@onnxkit/graph';
import { defineRule, defineRulePass, getPass, PassManager, standaloneContext, type QuantizedTensorReport } from '@onnxkit/passes';
import { describe, expect, it } from 'vitest';
import { f32, rnd } from './helpers.js';

/** `k` MatMuls, each with its own [16, 16] weight, each followed by a Relu. */
function chain(k: number, opset = 17): Model {
  const b = new GraphBuilder({ opset });
  let x = b.input('x', DataType.FLOAT, [1, 16]);
  for (let i = 0; i < k; i++) x = b.op('Relu', [b.op('MatMul', [x, b.constant(`w${i}`, f32([16, 16], rnd(i + 1)))])], {}, { name: `relu${i}` });
  b.output(x, 'y');
  return b.build();
}

describe('rule state is per pass run', () => {
  it('fp16-weights and quantize-weights-int8: two runs in one process report their own totals', async () => {
    for (const [name, count] of [
      ['fp16-weights', 'converted'],
      ['quantize-weights-int8', 'quantized'],
    ] as const) {
      const pass = getPass(name);
      const a = await pass.run(chain(3), standaloneContext({ minElements: 16 }));
      const b = await pass.run(chain(1), standaloneContext({ minElements: 16 }));
      const none = await pass.run(chain(0), standaloneContext({ minElements: 16 }));
      expect([a.metrics[count], b.metrics[count], none.metrics[count]], name).toEqual([3, 1, 0]);
      expect(b.metrics['bytesSaved'], name).toBe((a.metrics['bytesSaved'] as number) / 3);
      expect(none.metrics['bytesSaved'], name).toBe(0);
    }
    const q = await getPass('quantize-weights-int8').run(chain(2), standaloneContext({ minElements: 16 }));
    expect((q.metrics['tensors'] as QuantizedTensorReport[]).map((t) => t.name)).toEqual(['w0', 'w1']);
  });

  it("a rule's after does not run when the pass's precondition declines (no state was made)", async () => {
    const r = await getPass('quantize-weights-int8').run(chain(2, 11), standaloneContext({ minElements: 16 }));
    expect(r.rejected).toEqual({ 'opset-too-old': 1 });
    expect(r.metrics).toEqual({});
  });

  /** A pass whose rule records the Relus it saw in its state; its sweep yields first, so runs interleave. */
  function recorder() {
    let made = 0;
    const rule = defineRule({
      name: 'record',
      anchor: 'Relu',
      reasons: ['seen'],
      state: () => {
        made++;
        return { seen: [] as string[], checked: 0 };
      },
      match: (n, { state }) => {
        state.seen.push(n.name);
        return n;
      },
      check: (n, { state }) => {
        state.checked++;
        return ['seen', n.name];
      },
      rewrite: () => undefined,
      after({ session, state }) {
        session.metrics['seen'] = state.seen;
        session.metrics['checked'] = state.checked;
      },
    });
    const pass = defineRulePass({
      name: 'record-relus',
      description: 'records the Relus it visits (test)',
      exact: true,
      rules: [rule],
      sweep: () => new Promise<void>((resolve) => setTimeout(resolve, 0)),
    });
    return { pass, made: () => made };
  }

  it('two pipelines interleaved in one process: each run sees only its own state', async () => {
    const { pass, made } = recorder();
    // Both runs start (and yield in their sweep) before either visits a node.
    const [a, b] = await Promise.all([pass.run(chain(3), standaloneContext()), pass.run(chain(2), standaloneContext())]);
    expect(a.metrics['seen']).toEqual(['relu0', 'relu1', 'relu2']);
    expect(a.metrics['checked']).toBe(3);
    expect(b.metrics['seen']).toEqual(['relu0', 'relu1']);
    expect(b.metrics['checked']).toBe(2);
    expect(made()).toBe(2);
    // Through the manager too: two pipelines at once, each pass run with its own state.
    const runs: unknown[][] = [[], []];
    const [p, q] = await Promise.all(
      [chain(1), chain(4)].map((m, i) => new PassManager([pass], { onPass: (run) => runs[i]!.push(run.result.metrics['seen']) }).run(m)),
    );
    expect(runs).toEqual([[['relu0']], [['relu0', 'relu1', 'relu2', 'relu3']]]);
    expect(p.summary[0]!.rejected).toEqual({ seen: 1 });
    expect(q.summary[0]!.rejected).toEqual({ seen: 4 });
  });

  it('the state is typed by its factory; a rule without state has none (typecheck)', () => {
    const withState = defineRule({
      name: 'typed',
      anchor: 'Relu',
      reasons: [],
      state: () => ({ count: 0 }),
      match(n, { state }) {
        state.count++;
        // @ts-expect-error 'total' is not a field of this rule's state
        state.total = 1;
        return n;
      },
      rewrite: () => undefined,
    });
    const without = defineRule({
      name: 'plain',
      anchor: 'Relu',
      reasons: [],
      match(n, { state }) {
        // @ts-expect-error a rule without `state` has ctx.state undefined
        state.count++;
        return n;
      },
      rewrite: () => undefined,
    });
    expect(withState.state?.()).toEqual({ count: 0 });
    expect(without.state).toBeUndefined();
  });
});
