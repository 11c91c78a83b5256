// onnxruntime in a child process (issue 13): real native crashes — SIGFPE from INT32_MIN / -1
// in an integer Div or Mod, a segfault on a chain of 10,000 local functions — become typed
// RuntimeErrors naming the model and the signal; this process and the other sessions live on.
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { DataType, Tensor, type Model } from '@onnxkit/graph';
import { save } from '@onnxkit/importer';
import { BenchCrashError, benchPair, CHILD_SPAWN_CHANNEL, createSession, defaultWorker, RuntimeError, RuntimeWorker, VerifyCrashError, verifyModels } from '@onnxkit/runtime';
import { alwaysFaulting, faultingFeeds, functionChain, intAdd, intDivide } from '../../../fuzz/hostile.js';
import { floatRelu, floats, mlp } from './helpers.js';
import { rejection, scratchDir } from '../../../test/helpers/errors.js';

const tmp = scratchDir('isolation');

/** The model saved as a real ONNX file; its path. */
function file(m: Model, name: string): string {
  const p = join(tmp, name);
  save(m, p);
  return p;
}

describe('native crashes stay in the child process', () => {
  test.each(['Div', 'Mod'] as const)('INT32_MIN / -1 in an integer %s: SIGFPE becomes a RuntimeError, the process lives on', async (op) => {
    const s = await createSession(intDivide(op, `fpe-${op}`));
    const pid = s.worker.pid;
    expect(pid).not.toBe(process.pid);
    const e = await rejection<RuntimeError>(s.run(faultingFeeds()));
    expect(e).toBeInstanceOf(RuntimeError);
    expect(e.code).toBe('RUNTIME_WORKER_CRASH');
    expect(e.model).toBe(`model 'fpe-${op}'`);
    expect(e.step).toBe('run');
    expect(e.exitCode).toBe(2);
    expect(e.message).toMatch(/was killed by SIGFPE/);
    expect(e.message).not.toMatch(/\n/);
    await s.release();
    // The next session gets a fresh child; the same model with harmless inputs runs.
    const again = await createSession(intDivide(op));
    expect(again.worker.pid).not.toBe(pid);
    const ok = await again.run(new Map([
      ['a', Tensor.fromArray(DataType.INT32, [2], Int32Array.of(7, -7))],
      ['b', Tensor.fromArray(DataType.INT32, [2], Int32Array.of(2, 2))],
    ]));
    expect([...(ok.get('y')!.toArray() as Int32Array)]).toEqual(op === 'Div' ? [3, -3] : [1, 1]);
    await again.release();
  });

  test('a chain of 10,000 local functions: the segfault in onnxruntime becomes a RuntimeError', async () => {
    const e = await rejection<RuntimeError>(createSession(functionChain(10_000), { label: 'chain.onnx' }));
    expect(e).toBeInstanceOf(RuntimeError);
    expect(e.model).toBe('chain.onnx');
    // onnxruntime 1.30 inlines functions recursively and overflows its stack: a real SIGSEGV.
    expect(e.code).toBe('RUNTIME_WORKER_CRASH');
    expect(e.step).toBe('create');
    expect(e.message).toMatch(/was killed by SIGSEGV/);
  }, 60_000);

  test('a crash kills only the sessions of that child; a session in another child keeps running', async () => {
    const other = new RuntimeWorker();
    try {
      const good = await createSession(mlp({ name: 'good' }), { worker: other });
      const bad = await createSession(intDivide('Div'));
      await rejection<RuntimeError>(bad.run(faultingFeeds()));
      const out = await good.run({ x: Tensor.fromArray(DataType.FLOAT, [1, 4], floats(4, 1)) });
      expect(out.get('z')!.dims).toEqual([1, 3]);
      await good.release();
      await bad.release();
    } finally {
      await other.terminate();
    }
  });

  test('verify of two models that both crash onnxruntime is a typed error naming the first, then the second', async () => {
    const a = intDivide('Div', 'A');
    const e = await rejection<RuntimeError>(verifyModels(a, intDivide('Div', 'B'), { inputs: faultingFeeds() }));
    expect(e).toBeInstanceOf(VerifyCrashError);
    expect(e.message).toMatch(/^A \(A\): the onnxruntime process was killed by SIGFPE.*; B \(B\) crashed onnxruntime too$/);
    expect((e as VerifyCrashError).survivor).toBeNull();
    expect(defaultWorker().alive).toBe(true);
  });

  test('a signal from the child is named even when it is not a crash (SIGTERM from outside)', async () => {
    const s = await createSession(mlp({ name: 'victim' }), { isolate: true });
    process.kill(s.worker.pid!, 'SIGTERM');
    const e = await rejection<RuntimeError>(s.run({ x: Tensor.fromArray(DataType.FLOAT, [1, 4], floats(4, 1)) }));
    expect(['RUNTIME_WORKER_CRASH', 'RUNTIME_WORKER_DEAD']).toContain(e.code);
    expect(e.message).toMatch(/SIGTERM/);
    await s.release();
  });
});

describe('when onnxruntime dies on one model of two, the other model\'s results are kept', () => {
  const add = file(intAdd('add'), 'add.onnx');
  const fpe = file(alwaysFaulting('fpe'), 'fpe.onnx');
  const div = file(intDivide('Div', 'div'), 'div.onnx');
  const sum = (feeds: Map<string, Tensor>): number[] => {
    const a = feeds.get('a')!.toArray() as Int32Array;
    const b = feeds.get('b')!.toArray() as Int32Array;
    return [...a].map((x, i) => (x + b[i]!) | 0);
  };

  test('verify: B crashes at run (SIGFPE) — A\'s outputs and timings survive, the error names B', async () => {
    const e = await rejection<RuntimeError>(verifyModels(add, fpe, { inputs: faultingFeeds() }));
    expect(e).toBeInstanceOf(VerifyCrashError);
    const c = e as VerifyCrashError;
    expect(c.side).toBe('B');
    expect(c.model).toBe(fpe);
    expect(c.step).toBe('run');
    expect(c.exitCode).toBe(2);
    expect(c.message).toMatch(/fpe\.onnx: the onnxruntime process was killed by SIGFPE.*; .*add\.onnx ran without a crash$/);
    expect(c.message).not.toMatch(/\n/);
    expect(c.survivor!.side).toBe('A');
    expect(c.survivor!.model).toBe(add);
    expect([...(c.survivor!.outputs.get('y')!.toArray() as Int32Array)]).toEqual(sum(faultingFeeds()));
    expect(c.survivor!.runMs).toBeGreaterThan(0);
    expect(c.survivor!.createMs).toBeGreaterThan(0);
    expect(c.survivor!.inputs.source).toBe('given');
  });

  test('verify: A crashes at run and takes B\'s session with it — B is opened again in a fresh child and runs', async () => {
    const e = (await rejection<RuntimeError>(verifyModels(div, add, { inputs: faultingFeeds() }))) as VerifyCrashError;
    expect(e).toBeInstanceOf(VerifyCrashError);
    expect(e.side).toBe('A');
    expect(e.message).toMatch(/^.*div\.onnx: the onnxruntime process was killed by SIGFPE/);
    expect(e.survivor!.side).toBe('B');
    expect([...(e.survivor!.outputs.get('y')!.toArray() as Int32Array)]).toEqual(sum(faultingFeeds()));
  });

  test('verify: A segfaults onnxruntime at load (10,000 chained functions) — B still runs on synthetic inputs', async () => {
    const chain = file(functionChain(10_000), 'chain.onnx');
    const e = (await rejection<RuntimeError>(verifyModels(chain, file(floatRelu('relu'), 'relu.onnx'), { seed: 3 }))) as VerifyCrashError;
    expect(e).toBeInstanceOf(VerifyCrashError);
    expect(e.side).toBe('A');
    expect(e.step).toBe('create');
    expect(e.message).toMatch(/chain\.onnx: the onnxruntime process was killed by SIGSEGV/);
    expect(e.survivor!.outputs.get('y')!.dims).toEqual([2]);
    expect(e.survivor!.inputs.source).toBe('synthetic');
  }, 60_000);

  test('verify on a caller\'s worker: the survivor runs in a spare child, which is ended afterwards; the caller\'s worker is dead, not replaced', async () => {
    const w = new RuntimeWorker();
    try {
      const e = (await rejection<RuntimeError>(verifyModels(div, add, { inputs: faultingFeeds(), sessionOptions: { worker: w } }))) as VerifyCrashError;
      expect(e.survivor!.side).toBe('B');
      expect(w.alive).toBe(false);
    } finally {
      await w.terminate();
    }
  });

  test('bench --vs: B crashes on every run — A is benchmarked alone and its timings are kept', async () => {
    const e = (await rejection<RuntimeError>(benchPair(add, fpe, { iterations: 5, warmup: 1, graphOptimizationLevel: 'disabled' }))) as BenchCrashError;
    expect(e).toBeInstanceOf(BenchCrashError);
    expect(e.side).toBe('B');
    expect(e.model).toBe('fpe.onnx');
    expect(e.message).toMatch(/^fpe\.onnx: the onnxruntime process was killed by SIGFPE.*; add\.onnx, benchmarked alone, ran without a crash$/);
    expect(e.survivor!.model).toBe('add.onnx');
    expect(e.survivor!.iterations).toBe(5);
    expect(e.survivor!.latency.p50Ms).toBeGreaterThan(0);
  });

  test('bench --vs: A crashes — B is benchmarked alone', async () => {
    const e = (await rejection<RuntimeError>(benchPair(fpe, add, { iterations: 3, warmup: 0, graphOptimizationLevel: 'disabled' }))) as BenchCrashError;
    expect(e.side).toBe('A');
    expect(e.survivor!.model).toBe('add.onnx');
    expect(e.survivor!.iterations).toBe(3);
  });
});

describe('tensors cross the process boundary as raw bytes', () => {
  test('every element type and an unaligned view arrive bit-exact', async () => {
    const { GraphBuilder } = await import('@onnxkit/graph');
    const types = [DataType.FLOAT, DataType.DOUBLE, DataType.INT8, DataType.UINT8, DataType.INT16, DataType.UINT16, DataType.INT32, DataType.UINT32, DataType.INT64, DataType.UINT64, DataType.BOOL, DataType.FLOAT16];
    const b = new GraphBuilder({ name: 'echo', opset: 17 });
    types.forEach((t, i) => b.output(b.op('Identity', [b.input(`x${i}`, t, [5])]), `y${i}`));
    const s = await createSession(b.build());
    try {
      const feeds = new Map<string, Tensor>();
      types.forEach((t, i) => {
        const size = t === DataType.BOOL || t === DataType.INT8 || t === DataType.UINT8 ? 1 : t === DataType.INT16 || t === DataType.UINT16 || t === DataType.FLOAT16 ? 2 : t === DataType.INT64 || t === DataType.UINT64 || t === DataType.DOUBLE ? 8 : 4;
        // A view at an odd offset into a larger buffer, as a tensor read from a file can be.
        const raw = new Uint8Array(5 * size + 1);
        for (let k = 0; k < raw.length; k++) raw[k] = t === DataType.BOOL ? k % 2 : (k * 37 + i) & 0x7f;
        feeds.set(`x${i}`, Tensor.fromBytes(t, [5], raw.subarray(1)));
      });
      const out = await s.run(feeds);
      types.forEach((_, i) => expect(Buffer.from(out.get(`y${i}`)!.bytes())).toEqual(Buffer.from(feeds.get(`x${i}`)!.bytes())));
    } finally {
      await s.release();
    }
  });
});

describe('the onnxkit command hears of every child before it exists', () => {
  // The CLI installs its signal handlers (which end the children) only then
  // (packages/cli/src/interrupt.ts, subscribed by the channel's name without loading this package).
  test('each spawn is published on CHILD_SPAWN_CHANNEL, synchronously as the worker is constructed; the CLI subscribes to that name', () => {
    const seen: (number | undefined)[] = [];
    let current: RuntimeWorker | undefined;
    const listener = (): void => {
      seen.push(current === undefined ? -1 : current.pid);
    };
    subscribe(CHILD_SPAWN_CHANNEL, listener);
    try {
      const w = new RuntimeWorker();
      current = w;
      // Published during the constructor (worker-client.ts does it just before spawning).
      expect(seen).toEqual([-1]);
      expect(w.pid).toBeGreaterThan(0);
      void w.terminate();
    } finally {
      unsubscribe(CHILD_SPAWN_CHANNEL, listener);
    }
    const cli = readFileSync(join(import.meta.dirname, '..', '..', 'cli', 'src', 'interrupt.ts'), 'utf8');
    expect(cli).toContain(`RUNTIME_CHILD_SPAWN_CHANNEL = '${CHILD_SPAWN_CHANNEL}'`);
  });
});
