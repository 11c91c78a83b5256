// The onnxruntime-node child process of @onnxkit/runtime.
//
// Every onnxruntime session lives here, in a separate process, so a native fault in
// onnxruntime (a segfault on a pathological model, SIGFPE from an integer division of INT32_MIN
// by -1, an abort) ends this process, not the CLI: the parent sees the exit signal and turns it
// into a typed error naming the model. This file is plain ESM on purpose (no TypeScript loader
// in the child); it loads only onnxruntime-node and the framing shared with the parent.
//
// Protocol over fd 3 (see frames.mjs): the parent sends `{ id, type, ... }`; the child answers
// `{ id, ok: true, ... }` or `{ id, ok: false, error: { name, message } }`. Tensors travel as
// `{ name, type, dims, data }` where `data` is a typed array sent as raw bytes (or a string
// array for string tensors). The child exits when the parent closes the channel.
import { createRequire } from 'node:module';
import net from 'node:net';
import { frameReader, writeFrame } from './frames.mjs';

// onnxruntime-node is CommonJS: `require` loads it ~10 ms of CPU faster than `import`, which
// first scans its sources for named exports (start-up is paid on every CLI run).
const ort = createRequire(import.meta.url)('onnxruntime-node');

// Errors only, and never ORT's coloured console lines on the user's terminal: the parent keeps
// this process's stderr for crash messages and does not forward it.
try {
  ort.env.logLevel = 'error';
} catch {
  // older bindings have no env.logLevel; the session option logSeverityLevel still applies
}

const channel = new net.Socket({ fd: 3, readable: true, writable: true });
const sessions = new Map();

function send(message) {
  writeFrame(channel, message);
}

function describe(list) {
  return list.map((m) =>
    m.isTensor ? { name: m.name, isTensor: true, type: m.type, shape: [...m.shape] } : { name: m.name, isTensor: false },
  );
}

function fromOrtTensor(name, t) {
  if (t === null || t === undefined || typeof t !== 'object' || !('dims' in t)) {
    return { name, type: 'unsupported', dims: [], data: null };
  }
  return { name, type: t.type, dims: [...t.dims], data: t.data };
}

function session(id) {
  const s = sessions.get(id);
  if (s === undefined) throw new Error(`no session ${id} in this process (released?)`);
  return s;
}

const handlers = {
  async create(msg) {
    const t0 = performance.now();
    const source = msg.path !== undefined ? msg.path : msg.bytes;
    const s = await ort.InferenceSession.create(source, msg.options);
    sessions.set(msg.sessionId, s);
    return { inputs: describe(s.inputMetadata), outputs: describe(s.outputMetadata), ms: performance.now() - t0 };
  },
  async run(msg) {
    const s = session(msg.sessionId);
    const feeds = {};
    for (const t of msg.feeds) feeds[t.name] = new ort.Tensor(t.type, t.data, t.dims);
    const fetches = msg.fetches ?? s.outputNames;
    const t0 = performance.now();
    const result = await s.run(feeds, fetches);
    const ms = performance.now() - t0;
    return { outputs: fetches.map((name) => fromOrtTensor(name, result[name])), ms };
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
    return { sessions: sessions.size, pid: process.pid };
  },
  // Test hook: dies without answering, by exit code or by a signal, as a native fault would.
  async crash(msg) {
    if (msg.signal) process.kill(process.pid, msg.signal);
    else process.exit(msg.code ?? 70);
  },
};

// The first session of a process pays for onnxruntime's one-time set-up (its environment, the
// operator schemas and kernel registry: ~25 ms of CPU, more than the model itself for a small
// one). Creating a 4-element Identity model right away does it while the parent is still
// loading and decoding (the CLI starts this process before it loads the command), so the
// parent's first real request does not wait for it. Its failure would surface on that request.
const IDENTITY = Buffer.from('CAgSB29ubnhraXQ6PAoaCgF4EgF5GghJZGVudGl0eSIISWRlbnRpdHkSCGlkZW50aXR5Wg8KAXgSCgoICAESBAoCCARiAwoBeUIECgAQEQ==', 'base64');
const warmUp = ort.InferenceSession.create(IDENTITY, { executionProviders: ['cpu'], intraOpNumThreads: 1, interOpNumThreads: 1, graphOptimizationLevel: 'disabled', logSeverityLevel: 3 })
  .then((s) => s.release())
  .catch(() => undefined);

// One request at a time: strict ordering keeps A/B interleaving honest.
let queue = warmUp;
channel.on(
  'data',
  frameReader((msg) => {
    queue = queue.then(async () => {
      const handler = handlers[msg.type];
      try {
        if (handler === undefined) throw new Error(`unknown request '${msg.type}'`);
        send({ id: msg.id, ok: true, ...(await handler(msg)) });
      } catch (e) {
        send({ id: msg.id, ok: false, error: { name: e?.name ?? 'Error', message: e instanceof Error ? e.message : String(e) } });
      }
    });
  }),
);
// The parent went away (exit, crash, or it ended us): nothing is left to answer.
channel.on('end', () => process.exit(0));
channel.on('error', () => process.exit(0));
