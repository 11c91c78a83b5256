/**
 * Worker-thread entry of the float64 reference (see reference.ts): receives a model (path or
 * encoded bytes) and the feeds as raw bytes, evaluates in float64, and posts back the outputs
 * (their arrays transferred, not copied) or why it could not.
 */
import { parentPort } from 'node:worker_threads';
import { Tensor, type DataType } from '@onnxkit/graph';
import { decode, load } from '@onnxkit/importer';
import type { RefTensor } from '@onnxkit/passes';
import { importMemory } from './memory.js';
import { evaluateInline, type WireFeed, type WireRequest, type WireResponse } from './reference.js';

function feedTensor(f: WireFeed): Tensor {
  return f.strings !== undefined ? Tensor.fromStrings(f.dims, f.strings) : Tensor.fromBytes(f.dtype as DataType, f.dims, f.bytes!);
}

parentPort?.on('message', (req: WireRequest) => {
  let res: WireResponse;
  const transfer: ArrayBuffer[] = [];
  try {
    const model = req.path !== undefined ? load(req.path, { memory: importMemory() }) : decode(req.bytes!, { memory: importMemory() });
    const feeds = new Map(req.feeds.map((f) => [f.name, feedTensor(f)]));
    const run = evaluateInline(model, feeds, req.memoryLimitBytes, req.extraOutputs);
    if (run.ok) {
      const pack = (m: ReadonlyMap<string, RefTensor>): [string, RefTensor][] =>
        [...m].map(([k, t]) => {
          if (t.data instanceof Float64Array || t.data instanceof BigInt64Array) {
            // A view of an initializer (Reshape of a weight) may share its buffer: copy those.
            const own = t.data.byteOffset === 0 && t.data.byteLength === t.data.buffer.byteLength && !transfer.includes(t.data.buffer as ArrayBuffer);
            const data = own ? t.data : t.data.slice();
            transfer.push(data.buffer as ArrayBuffer);
            return [k, { dtype: t.dtype, dims: t.dims, data }];
          }
          return [k, t];
        });
      res = { ok: true, outputs: pack(run.outputs as ReadonlyMap<string, RefTensor>), extra: run.extra ? pack(run.extra as ReadonlyMap<string, RefTensor>) : undefined, ms: run.ms };
    } else res = run;
  } catch (e) {
    res = { ok: false, node: 'the model', op: null, reason: e instanceof Error ? e.message : String(e), ms: 0 };
  }
  parentPort!.postMessage(res, transfer);
});
