// Sessions in a child process: paths and in-memory models, metadata, options, feed checks,
// typed errors (load failures, released sessions, crashed and timed-out workers), and an event
// loop that stays responsive while onnxruntime runs.
import { existsSync, mkdtempSync, readdirSync, realpathSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { cloneModel, DataType, GraphBuilder, Tensor } from '@onnxkit/graph';
import { ImportError, load, save } from '@onnxkit/importer';
import { prepareModel } from '../src/model-source.js';
import { createSession, defaultWorker, runModel, RuntimeError, RuntimeWorker, syntheticInputs, VerifyError } from '@onnxkit/runtime';
import { CORPUS, corpusAvailable, floats, heavy, mlp } from './helpers.js';
import { rejection, scratchDir } from '../../../test/helpers/errors.js';

const dir = scratchDir('session');

/** MLP reference in float64, rounded like onnxruntime's float32 only at the end. */
function mlpReference(x: Float32Array, n: number): number[] {
  const W = floats(32, 1);
  const bias = floats(8, 2);
  const V = floats(24, 3);
  const out: number[] = [];
  for (let r = 0; r < n; r++) {
    const h = Array.from({ length: 8 }, (_, j) => Math.max(0, bias[j]! + [0, 1, 2, 3].reduce((s, k) => s + x[r * 4 + k]! * W[k * 8 + j]!, 0)));
    for (let c = 0; c < 3; c++) out.push(h.reduce((s, v, j) => s + v * V[j * 3 + c]!, 0));
  }
  return out;
}

describe('createSession', () => {
  test('from a path: metadata and a correct run', async () => {
    if (!corpusAvailable()) return;
    const s = await createSession(join(CORPUS, 'node/test_add/model.onnx'));
    try {
      expect(s.label).toBe('model.onnx');
      expect(s.inputs.map((m) => [m.name, m.dtype, m.shape])).toEqual([
        ['x', DataType.FLOAT, [3, 4, 5]],
        ['y', DataType.FLOAT, [3, 4, 5]],
      ]);
      expect(s.options).toEqual({ intraOpNumThreads: 1, interOpNumThreads: 1, graphOptimizationLevel: 'disabled', enableProfiling: false, allowSpinning: true });
      const feeds = syntheticInputs(s, { seed: 4 });
      const out = await s.run(feeds);
      const [x, y, sum] = [feeds.get('x')!, feeds.get('y')!, out.get('sum')!].map((t) => t.toArray() as Float32Array);
      expect(out.get('sum')!.dims).toEqual([3, 4, 5]);
      for (let i = 0; i < 60; i++) expect(sum![i]).toBe(Math.fround(x![i]! + y![i]!));
    } finally {
      await s.release();
    }
  });

  test('from an in-memory Model, with a symbolic batch dim', async () => {
    const s = await createSession(mlp());
    try {
      expect(s.label).toBe("model 'mlp'");
      expect(s.inputs).toEqual([{ name: 'x', isTensor: true, dtype: DataType.FLOAT, shape: ['N', 4] }]);
      expect(s.outputs).toEqual([{ name: 'z', isTensor: true, dtype: DataType.FLOAT, shape: ['N', 3] }]);
      const x = Tensor.fromArray(DataType.FLOAT, [5, 4], floats(20, 77));
      const { outputs, ms } = await s.runTimed(new Map([['x', x]]));
      expect(ms).toBeGreaterThanOrEqual(0);
      const z = outputs.get('z')!;
      expect(z.dims).toEqual([5, 3]);
      const want = mlpReference(x.toArray() as Float32Array, 5);
      const got = z.toArray() as Float32Array;
      want.forEach((w, i) => expect(Math.abs(got[i]! - w)).toBeLessThan(1e-6));
    } finally {
      await s.release();
    }
  });

  test('int64, bool and float16 tensors cross the worker boundary intact', async () => {
    const b = new GraphBuilder({ name: 'types' });
    const i = b.input('i', DataType.INT64, [3]);
    const f = b.input('f', DataType.FLOAT16, [2]);
    const k = b.input('k', DataType.BOOL, [2]);
    b.output(b.op('Identity', [i]), 'io', { kind: 'tensor', elemType: DataType.INT64, shape: [3] });
    b.output(b.op('Neg', [f]), 'fo', { kind: 'tensor', elemType: DataType.FLOAT16, shape: [2] });
    b.output(b.op('Not', [k]), 'ko', { kind: 'tensor', elemType: DataType.BOOL, shape: [2] });
    const s = await createSession(b.build());
    try {
      const out = await s.run({
        i: Tensor.fromNumbers(DataType.INT64, [3], [2n ** 62n + 1n, -1n, 0n]),
        f: Tensor.fromNumbers(DataType.FLOAT16, [2], [1.5, -0.25]),
        k: Tensor.fromNumbers(DataType.BOOL, [2], [1, 0]),
      });
      expect([...(out.get('io')!.toArray() as BigInt64Array)]).toEqual([2n ** 62n + 1n, -1n, 0n]);
      expect(out.get('fo')!.dtype).toBe(DataType.FLOAT16);
      expect([...out.get('fo')!.toFloat64()]).toEqual([-1.5, 0.25]);
      expect([...out.get('ko')!.toFloat64()]).toEqual([0, 1]);
    } finally {
      await s.release();
    }
  });

  test('an input of unknown rank is reported as such, not as a scalar', async () => {
    const b = new GraphBuilder({ name: 'rankless' });
    const x = b.input('x', DataType.FLOAT, null);
    b.output(b.op('Relu', [x]), 'y', { kind: 'tensor', elemType: DataType.FLOAT, shape: null });
    const s = await createSession(b.build());
    try {
      expect(s.inputs).toEqual([{ name: 'x', isTensor: true, dtype: DataType.FLOAT, shape: null }]);
      expect(s.outputs[0]!.shape).toBeNull();
      expect(() => syntheticInputs(s)).toThrow(/input 'x' has no declared shape \(its rank is unknown\)/);
      const out = await s.run(syntheticInputs(s, { inputShapes: { x: [2, 2] } }));
      expect(out.get('y')!.dims).toEqual([2, 2]);
    } finally {
      await s.release();
    }
  });

  test('outputs can be selected; unknown names and bad feeds are VerifyErrors', async () => {
    const s = await createSession(mlp());
    try {
      const x = Tensor.fromArray(DataType.FLOAT, [1, 4], floats(4, 5));
      expect([...(await s.run({ x }, ['z'])).keys()]).toEqual(['z']);
      expect((await rejection(s.run({ x }, ['nope'])) as VerifyError).code).toBe('VERIFY_UNKNOWN_OUTPUT');
      const missing = await rejection(s.run(new Map()));
      expect(missing).toBeInstanceOf(VerifyError);
      expect(missing.message).toMatch(/input 'x' \(float\[N,4\]\) of model 'mlp' was not provided/);
      const wrongType = await rejection(s.run({ x: Tensor.fromNumbers(DataType.DOUBLE, [1, 4], [1, 2, 3, 4]) }));
      expect(wrongType.message).toMatch(/input 'x': model 'mlp' expects float, got double/);
      const wrongShape = await rejection(s.run({ x: Tensor.fromNumbers(DataType.FLOAT, [1, 5], [1, 2, 3, 4, 5]) }));
      expect(wrongShape.message).toMatch(/expects shape \[N,4\], got \[1,5\]/);
      const extra = await rejection(s.run({ x, w: x }));
      expect((extra as VerifyError).code).toBe('VERIFY_INPUT_EXTRA');
    } finally {
      await s.release();
    }
  });

  test('optimization level and optimizedModelFilePath reach onnxruntime', async () => {
    const out = join(dir, 'optimized.onnx');
    const s = await createSession(mlp(), { graphOptimizationLevel: 'basic', optimizedModelFilePath: out, intraOpNumThreads: 2 });
    try {
      expect(s.options.graphOptimizationLevel).toBe('basic');
      expect(s.options.intraOpNumThreads).toBe(2);
      expect(existsSync(out)).toBe(true);
    } finally {
      await s.release();
    }
    await expect(createSession(mlp(), { intraOpNumThreads: 0 })).rejects.toThrow(/intraOpNumThreads must be a positive integer/);
  });

  test('models onnxruntime cannot load give a RuntimeError naming the model and the step', async () => {
    const b = new GraphBuilder({ name: 'custom' });
    b.output(b.op('NoSuchOp', [b.input('x', DataType.FLOAT, [1])], {}, { domain: 'com.example' }), 'y');
    const c = (await rejection(createSession(b.build()))) as RuntimeError;
    expect(c.code).toBe('RUNTIME_LOAD_FAILED');
    expect(c.message).toMatch(/NoSuchOp/);
    // A well-formed file (our decoder reads it) onnxruntime refuses: onnxruntime's words.
    const custom = join(dir, 'custom.onnx');
    save(b.build(), custom);
    const e = (await rejection(createSession(custom))) as RuntimeError;
    expect(e).toBeInstanceOf(RuntimeError);
    expect(e.code).toBe('RUNTIME_LOAD_FAILED');
    expect(e.step).toBe('create');
    expect(e.model).toBe('custom.onnx');
    expect(e.message).toMatch(/^custom\.onnx: onnxruntime cannot load the model: .*NoSuchOp/);
    expect(e.exitCode).toBe(2);

    // A malformed file: onnxruntime says only 'Protobuf parsing failed'; the decoder's typed
    // error says what and at which byte (it was the RuntimeError above, without an offset).
    const junk = join(dir, 'junk.onnx');
    writeFileSync(junk, 'this is not a model');
    const j = (await rejection(createSession(junk))) as ImportError;
    expect(j).toBeInstanceOf(ImportError);
    expect(j.code).toBe('IMPORT_NOT_ONNX');
    expect(j.byteOffset).toBe(0);
    expect(j.message).toMatch(/junk\.onnx: not an ONNX model: .*\(at byte 0, in ModelProto\)$/);

    const gone = (await rejection(createSession(join(dir, 'missing.onnx')))) as RuntimeError;
    expect(gone.code).toBe('RUNTIME_MODEL_NOT_FOUND');
  });

  test('a released session refuses to run; an isolated one takes its worker with it', async () => {
    const s = await createSession(mlp());
    expect(s.worker).toBe(defaultWorker());
    await s.release();
    await s.release(); // idempotent
    const e = (await rejection(s.run({ x: Tensor.fromArray(DataType.FLOAT, [1, 4], floats(4, 1)) }))) as RuntimeError;
    expect(e.code).toBe('RUNTIME_RELEASED');
    expect(s.worker.alive).toBe(true); // the shared worker lives on
    const iso = await createSession(mlp(), { isolate: true });
    expect(iso.worker).not.toBe(defaultWorker());
    await iso.release();
    expect(iso.worker.alive).toBe(false);
  });

  test('sessions can share a worker; releasing one keeps the worker for the other', async () => {
    const worker = new RuntimeWorker();
    try {
      const a = await createSession(mlp({ name: 'a' }), { worker });
      const b = await createSession(mlp({ name: 'b' }), { worker });
      await a.release();
      expect(worker.alive).toBe(true);
      const out = await b.run({ x: Tensor.fromArray(DataType.FLOAT, [1, 4], floats(4, 1)) });
      expect(out.get('z')!.dims).toEqual([1, 3]);
      await b.release();
      expect(worker.alive).toBe(true);
    } finally {
      await worker.terminate();
    }
    expect(worker.alive).toBe(false);
  });
});

describe('child process', () => {
  test('the event loop stays responsive while onnxruntime runs', async () => {
    const s = await createSession(heavy(24));
    try {
      const x = Tensor.fromArray(DataType.FLOAT, [512, 512], floats(512 * 512, 3));
      let ticks = 0;
      const timer = setInterval(() => ticks++, 2);
      let result;
      try {
        result = await s.runTimed({ x });
      } finally {
        clearInterval(timer);
      }
      // 24 MatMuls of 0.27 GFLOP take well over 20 ms on any CPU; had ORT blocked this thread,
      // no tick could have fired while it ran.
      expect(result.outputs.get('y')!.dims).toEqual([512, 512]);
      expect(ticks).toBeGreaterThanOrEqual(5);
    } finally {
      await s.release();
    }
  });

  test('a worker that dies mid-request becomes a typed RuntimeError, not a hang', async () => {
    const s = await createSession(mlp({ name: 'victim' }));
    const x = Tensor.fromArray(DataType.FLOAT, [1, 4], floats(4, 1));
    s.worker._crashForTesting();
    const e = (await rejection(s.run({ x }))) as RuntimeError;
    expect(e).toBeInstanceOf(RuntimeError);
    expect(e.code).toBe('RUNTIME_WORKER_CRASH');
    expect(e.step).toBe('run');
    expect(e.model).toBe("model 'victim'");
    expect(e.message).toMatch(/the onnxruntime process exited with code 70 during run/);
    const again = (await rejection(s.run({ x }))) as RuntimeError;
    expect(again.code).toBe('RUNTIME_WORKER_DEAD');
    await s.release();
    // The shared worker is replaced for the next session.
    expect(defaultWorker()).not.toBe(s.worker);
    expect(defaultWorker().alive).toBe(true);
  });

  test('a crash during session creation rejects the creation', async () => {
    const worker = new RuntimeWorker();
    worker._crashForTesting(3);
    const e = (await rejection(createSession(mlp(), { worker }))) as RuntimeError;
    expect(e).toBeInstanceOf(RuntimeError);
    expect(['RUNTIME_WORKER_CRASH', 'RUNTIME_WORKER_DEAD']).toContain(e.code);
    expect(e.step).toBe('create');
    await worker.terminate();
  });

  test('a run that exceeds its timeout is stopped with RUNTIME_TIMEOUT', async () => {
    // Isolated, so release() can wait for the abandoned native call before ending the thread.
    const s = await createSession(heavy(48), { runTimeoutMs: 5, isolate: true });
    const x = Tensor.fromArray(DataType.FLOAT, [512, 512], floats(512 * 512, 3));
    const e = (await rejection(s.run({ x }))) as RuntimeError;
    expect(e.code).toBe('RUNTIME_TIMEOUT');
    expect(e.message).toMatch(/run did not finish within 5 ms/);
    expect(s.worker.alive).toBe(false);
    // The native run cannot be interrupted; release waits for it, then ends the worker.
    await s.release();
    const again = (await rejection(s.run({ x }))) as RuntimeError;
    expect(again.code).toBe('RUNTIME_RELEASED');
  });
});

describe('in-memory models and external data', () => {
  test('a model whose weights live in an external file runs from memory, its data left on disk', async () => {
    const folder = mkdtempSync(join(dir, 'ext-'));
    save(mlp({ name: 'ext' }), join(folder, 'model.onnx'), { externalData: { location: 'weights.bin', sizeThreshold: 0 } });
    expect(readdirSync(folder).sort()).toEqual(['model.onnx', 'weights.bin']);
    const model = load(join(folder, 'model.onnx'));
    const external = [...model.graph.initializers.values()].filter((v) => v.constValue?.external !== undefined);
    expect(external.length).toBe(3);
    const weightBytes = external.reduce((n, v) => n + v.constValue!.byteLength, 0);

    // Handed over by folder: the folder is the one the importer read the data from, and the
    // bytes given to onnxruntime hold references, not the weights.
    const prepared = prepareModel(model);
    expect(prepared.externalDataDir).toBe(realpathSync(folder));
    const inline = prepareModel(cloneModel(mlp({ name: 'ext' })));
    expect(inline.externalDataDir).toBeUndefined();
    expect(inline.bytes!.byteLength).toBeGreaterThan(weightBytes);
    const weights = Buffer.from(model.graph.initializers.get('W')!.constValue!.bytes());
    expect(Buffer.from(inline.bytes!).includes(weights)).toBe(true);
    expect(Buffer.from(prepared.bytes!).includes(weights)).toBe(false);

    const x = Tensor.fromArray(DataType.FLOAT, [2, 4], floats(8, 8));
    const want = await runModel(mlp(), { x });
    for (const options of [{}, { externalDataDir: folder }]) {
      const got = await runModel(model, { x }, { sessionOptions: options });
      expect(Buffer.from(got.get('z')!.bytes()).equals(Buffer.from(want.get('z')!.bytes()))).toBe(true);
    }
  });

  test('external tensors from an unknown folder are read into the bytes handed over', async () => {
    const m = mlp({ name: 'lazy' });
    for (const v of m.graph.initializers.values()) {
      const t = v.constValue!;
      const bytes = t.bytes();
      v.constValue = Tensor.lazy(t.dtype, t.dims, { byteLength: bytes.byteLength, description: 'test source', external: { location: 'elsewhere.bin', offset: 0, length: bytes.byteLength }, read: () => bytes }, { name: t.name });
    }
    expect(m.graph.initializers.get('W')!.constValue!.external).toBeDefined();
    const prepared = prepareModel(m);
    expect(prepared.externalDataDir).toBeUndefined();
    const x = Tensor.fromArray(DataType.FLOAT, [2, 4], floats(8, 8));
    const got = await runModel(m, { x });
    const want = await runModel(mlp(), { x });
    expect(Buffer.from(got.get('z')!.bytes()).equals(Buffer.from(want.get('z')!.bytes()))).toBe(true);
  });
});
