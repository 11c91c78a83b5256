// onnxruntime in a child process (issue 13): real native crashes — SIGFPE from INT32_MIN / -1
// in an integer Div or Mod, a segfault on a chain of 10,000 local functions — become typed
// RuntimeErrors naming the model and the signal; this process and the other sessions live on.
import { describe, expect, test } from 'vitest';
import { DataType, Tensor } from '@onnxkit/graph';
import { createSession, defaultWorker, RuntimeError, RuntimeWorker, verifyModels } from '@onnxkit/runtime';
import { faultingFeeds, functionChain, intDivide } from '../../../fuzz/hostile.js';
import { floats, mlp } from './helpers.js';
import { rejection } from '../../../test/helpers/errors.js';

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

  test('verify of a model that crashes onnxruntime is a typed error naming that model', async () => {
    const a = intDivide('Div', 'A');
    const e = await rejection<RuntimeError>(verifyModels(a, intDivide('Div', 'B'), { inputs: faultingFeeds() }));
    expect(e).toBeInstanceOf(RuntimeError);
    expect(e.message).toMatch(/^A \(A\): the onnxruntime process was killed by SIGFPE/);
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
