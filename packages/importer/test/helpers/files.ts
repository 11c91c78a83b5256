/** Temporary folders and small models with real weights for the file-based tests. */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataType, GraphBuilder, Tensor, type Model } from '@onnxkit/graph';
import { cat, fBytes, fMsg, fVarint, model, node, valueInfo } from './pb.js';

const made: string[] = [];

/** A fresh temporary folder, removed by `cleanup()`. */
export function tempDir(tag = 'io'): string {
  const d = mkdtempSync(join(tmpdir(), `onnxkit-importer-${tag}-`));
  made.push(d);
  return d;
}

export function cleanup(): void {
  for (const d of made.splice(0)) rmSync(d, { recursive: true, force: true });
}

/** Names in `dir` that look like leftover temporary files of an atomic write. */
export function tempFiles(dir: string): string[] {
  return readdirSync(dir).filter((f) => f.includes('.tmp-'));
}

/** Deterministic pseudo-random floats in [-1, 1). */
export function seededFloats(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    out[i] = s / 2147483648 - 1;
  }
  return out;
}

/** y = relu(x·W1 + b1)·W2 + b2 with x: float[1, width]; weights of width² floats each. */
export function mlp(width = 64, seed = 1): Model {
  const b = new GraphBuilder({ name: 'mlp', opset: 17 });
  const x = b.input('x', DataType.FLOAT, [1, width]);
  const w1 = b.constant('w1', Tensor.fromArray(DataType.FLOAT, [width, width], seededFloats(width * width, seed)));
  const b1 = b.constant('b1', Tensor.fromArray(DataType.FLOAT, [width], seededFloats(width, seed + 1)));
  const w2 = b.constant('w2', Tensor.fromArray(DataType.FLOAT, [width, width], seededFloats(width * width, seed + 2)));
  const b2 = b.constant('b2', Tensor.fromArray(DataType.FLOAT, [width], seededFloats(width, seed + 3)));
  const h = b.op('Relu', [b.op('Add', [b.op('MatMul', [x, w1]), b1])]);
  b.output(b.op('Add', [b.op('MatMul', [h, w2]), b2]), 'y', { kind: 'tensor', elemType: DataType.FLOAT, shape: [1, width] });
  return b.build({ irVersion: 8 });
}

/** A float[4] initializer 'w' stored as external data with the given entries, read by Identity. */
export function externalModel(entries: [string, string][], extra: Uint8Array[] = []): Uint8Array {
  const tensor = fMsg(5, fVarint(1, 4), fVarint(2, DataType.FLOAT), fBytes(8, 'w'), ...entries.map(([k, v]) => fMsg(13, fBytes(1, k), fBytes(2, v))), fVarint(14, 1), ...extra);
  return model([node('Identity', ['w'], ['y']), fBytes(2, 'g'), tensor, valueInfo(12, 'y', DataType.FLOAT, [4])]);
}

export { cat };
