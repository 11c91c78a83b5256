// Small models built in code for the runtime tests, and the corpus location.
import { existsSync } from 'node:fs';
import { DataType, GraphBuilder, Tensor, type Model } from '@onnxkit/graph';
import { RuntimeWorker } from '@onnxkit/runtime';

export const CORPUS = '/usr/share/libonnx-testdata/data';

/** Fails clearly when the ONNX backend test corpus is missing, unless skipping is allowed. */
export function corpusAvailable(): boolean {
  if (existsSync(CORPUS)) return true;
  if (process.env.ONNXKIT_ALLOW_MISSING_CORPUS === '1') return false;
  throw new Error(`the ONNX backend test corpus is missing at ${CORPUS}: apt-get install libonnx-testdata, or set ONNXKIT_ALLOW_MISSING_CORPUS=1 to skip`);
}

/** Deterministic pseudo-random floats in [-0.5, 0.5). */
export function floats(n: number, seed: number): Float32Array {
  const a = new Float32Array(n);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    a[i] = (s >>> 0) / 2 ** 32 - 0.5;
  }
  return a;
}

/** y = relu(x · W + b), z = y · V; x is [N, 4]. Named nodes. */
export function mlp(options: { name?: string; batch?: number | string } = {}): Model {
  const b = new GraphBuilder({ name: options.name ?? 'mlp', opset: 17 });
  const x = b.input('x', DataType.FLOAT, [options.batch ?? 'N', 4]);
  const w = b.constant('W', Tensor.fromArray(DataType.FLOAT, [4, 8], floats(32, 1)));
  const bias = b.constant('bias', Tensor.fromArray(DataType.FLOAT, [8], floats(8, 2)));
  const v = b.constant('V', Tensor.fromArray(DataType.FLOAT, [8, 3], floats(24, 3)));
  const h = b.op('MatMul', [x, w], {}, { name: 'fc1' });
  const hb = b.op('Add', [h, bias], {}, { name: 'fc1_bias' });
  const r = b.op('Relu', [hb], {}, { name: 'relu' });
  const z = b.op('MatMul', [r, v], {}, { name: 'fc2' });
  b.output(z, 'z', { kind: 'tensor', elemType: DataType.FLOAT, shape: [options.batch ?? 'N', 3] });
  return b.build();
}

/**
 * A model that keeps onnxruntime busy: `steps` chained 512×512 MatMuls on a [512, 512] input
 * (0.27 GFLOP each), with a Tanh between them so values stay bounded.
 */
export function heavy(steps = 24): Model {
  const b = new GraphBuilder({ name: 'heavy', opset: 17 });
  let x = b.input('x', DataType.FLOAT, [512, 512]);
  const w = b.constant('W', Tensor.fromArray(DataType.FLOAT, [512, 512], floats(512 * 512, 9).map((v) => v / 16)));
  for (let i = 0; i < steps; i++) x = b.op('Tanh', [b.op('MatMul', [x, w])]);
  b.output(x, 'y', { kind: 'tensor', elemType: DataType.FLOAT, shape: [512, 512] });
  return b.build();
}

/** Conv → Relu → Conv → GlobalAveragePool on [N, 3, 8, 8]; node names conv1, relu1, conv2, pool. */
export function convnet(): Model {
  const b = new GraphBuilder({ name: 'convnet', opset: 17 });
  const x = b.input('x', DataType.FLOAT, ['N', 3, 8, 8]);
  const w1 = b.constant('conv1.weight', Tensor.fromArray(DataType.FLOAT, [4, 3, 3, 3], floats(108, 11)));
  const w2 = b.constant('conv2.weight', Tensor.fromArray(DataType.FLOAT, [4, 4, 3, 3], floats(144, 12)));
  const c1 = b.op('Conv', [x, w1], { pads: [1, 1, 1, 1] }, { name: 'conv1' });
  const r1 = b.op('Relu', [c1], {}, { name: 'relu1' });
  const c2 = b.op('Conv', [r1, w2], { pads: [1, 1, 1, 1] }, { name: 'conv2' });
  const p = b.op('GlobalAveragePool', [c2], {}, { name: 'pool' });
  b.output(p, 'y', { kind: 'tensor', elemType: DataType.FLOAT, shape: ['N', 4, 1, 1] });
  return b.build();
}

/** y = Relu(x) on float [2]: the inputs and output of fuzz/hostile.ts's functionChain. */
export function floatRelu(name = 'relu'): Model {
  const b = new GraphBuilder({ name, opset: 17 });
  b.output(b.op('Relu', [b.input('x', DataType.FLOAT, [2])]), 'y', { kind: 'tensor', elemType: DataType.FLOAT, shape: [2] });
  return b.build();
}

/**
 * A worker that records the options of every session it is asked to create (what the library
 * sends to onnxruntime's child process), and the list they go into.
 */
export function workerRecordingSessions(): { worker: RuntimeWorker; sent: unknown[] } {
  const worker = new RuntimeWorker();
  const sent: unknown[] = [];
  const request = worker.request.bind(worker);
  worker.request = ((type: string, payload: Record<string, unknown>, o?: unknown) => {
    if (type === 'create') sent.push(payload.options);
    return request(type, payload, o as Parameters<typeof request>[2]);
  }) as typeof worker.request;
  return { worker, sent };
}

