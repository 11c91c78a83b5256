// The onnxruntime-node worker of @onnxkit/runtime.
//
// onnxruntime-node's session create and run block the thread they run on, so every session
// lives here, in a worker_threads Worker, and the main thread stays responsive. This file is
// plain ESM on purpose: Node 20 cannot run TypeScript in a Worker and vitest does not
// transform worker files. It imports only onnxruntime-node; everything onnxkit-specific
// (IR tensors, errors, statistics) stays on the main thread.
//
// Protocol: the main thread posts `{ id, type, ... }`; the worker answers `{ id, ok: true, ... }`
// or `{ id, ok: false, error: { name, message } }`. Tensors travel as
// `{ name, type, dims, data }` where `data` is a typed array whose buffer is transferred (or a
// string array for string tensors).
import { parentPort } from 'node:worker_threads';
import ort from 'onnxruntime-node';

const sessions = new Map();

/** Metadata as plain data: ORT type string, dims with symbolic names (or '' when unnamed). */
function describe(list) {
  return list.map((m) =>
    m.isTensor ? { name: m.name, isTensor: true, type: m.type, shape: [...m.shape] } : { name: m.name, isTensor: false },
  );
}

function toOrtTensor(t) {
  return new ort.Tensor(t.type, t.data, t.dims);
}

function fromOrtTensor(name, t) {
  if (t === null || t === undefined || typeof t !== 'object' || !('dims' in t)) {
    return { name, type: 'unsupported', dims: [], data: null };
  }
  return { name, type: t.type, dims: [...t.dims], data: t.data };
}

function transferList(tensors) {
  const seen = new Set();
  for (const t of tensors) {
    const d = t.data;
    if (d && ArrayBuffer.isView(d) && d.buffer instanceof ArrayBuffer && d.buffer.byteLength > 0) seen.add(d.buffer);
  }
  return [...seen];
}

function session(id) {
  const s = sessions.get(id);
  if (s === undefined) throw new Error(`no session ${id} in this worker (released?)`);
  return s;
}

const handlers = {
  async create(msg) {
    const t0 = performance.now();
    const source = msg.path !== undefined ? msg.path : new Uint8Array(msg.bytes, msg.byteOffset ?? 0, msg.byteLength ?? msg.bytes.byteLength);
    const s = await ort.InferenceSession.create(source, msg.options);
    sessions.set(msg.sessionId, s);
    return { inputs: describe(s.inputMetadata), outputs: describe(s.outputMetadata), ms: performance.now() - t0 };
  },
  async run(msg) {
    const s = session(msg.sessionId);
    const feeds = {};
    for (const t of msg.feeds) feeds[t.name] = toOrtTensor(t);
    const fetches = msg.fetches ?? s.outputNames;
    const t0 = performance.now();
    const result = await s.run(feeds, fetches);
    const ms = performance.now() - t0;
    const outputs = fetches.map((name) => fromOrtTensor(name, result[name]));
    return { outputs, ms, transfer: transferList(outputs) };
  },
  async endProfiling(msg) {
    session(msg.sessionId).endProfiling();
    return {};
  },
  async release(msg) {
    const s = sessions.get(msg.sessionId);
    sessions.delete(msg.sessionId);
    if (s) await s.release();
    return {};
  },
  async ping() {
    return { sessions: sessions.size };
  },
  // Test hook: dies without answering, as a worker killed by a native fault or OOM would.
  async crash(msg) {
    process.exit(msg.code ?? 70);
  },
};

// One request at a time: ORT calls block this thread anyway, and strict ordering keeps
// A/B interleaving honest.
let queue = Promise.resolve();
parentPort.on('message', (msg) => {
  queue = queue.then(async () => {
    const handler = handlers[msg.type];
    try {
      if (handler === undefined) throw new Error(`unknown request '${msg.type}'`);
      const { transfer, ...reply } = await handler(msg);
      try {
        parentPort.postMessage({ id: msg.id, ok: true, ...reply }, transfer ?? []);
      } catch {
        // Some ORT buffers cannot be transferred (external backing stores): copy instead.
        parentPort.postMessage({ id: msg.id, ok: true, ...reply });
      }
    } catch (e) {
      parentPort.postMessage({
        id: msg.id,
        ok: false,
        error: { name: e?.name ?? 'Error', message: e instanceof Error ? e.message : String(e) },
      });
    }
  });
});
