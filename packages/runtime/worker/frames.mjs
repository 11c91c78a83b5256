// Binary framing between @onnxkit/runtime (src/worker-client.ts) and its onnxruntime child
// process (ort-child.mjs): the one implementation both sides import. It is plain ESM because
// the child runs without a TypeScript loader; frames.d.mts gives the parent its types.
//
// A frame is [u32 LE n][n bytes of JSON { m, b }][buffer 0][buffer 1]...: `m` is the message with
// every typed array replaced by { $b: i }, `b` lists [constructor name, byte length] per buffer.
// Tensor bytes travel raw (never as JSON numbers), are written from the caller's views without a
// copy, and each arrives in its own ArrayBuffer, aligned for any element type.
const CTORS = {
  Float32Array, Float64Array, Int8Array, Uint8Array, Uint8ClampedArray, Int16Array, Uint16Array,
  Int32Array, Uint32Array, BigInt64Array, BigUint64Array,
};

/** The byte chunks of one frame, ready to write in order. */
export function encodeFrame(message) {
  const views = [];
  const b = [];
  // `this[key]`, not `value`: JSON.stringify has already replaced a Buffer by its toJSON()
  // (an array of numbers) when the replacer sees it; the holder still has the Buffer itself.
  const json = JSON.stringify({ m: message, b }, function (key, value) {
    const raw = this[key];
    if (ArrayBuffer.isView(raw)) {
      const name = Buffer.isBuffer(raw) ? 'Uint8Array' : raw.constructor.name;
      views.push(raw);
      b.push([name in CTORS ? name : 'Uint8Array', raw.byteLength]);
      return { $b: views.length - 1 };
    }
    return value;
  });
  const text = Buffer.from(json, 'utf8');
  const head = Buffer.allocUnsafe(4 + text.length);
  head.writeUInt32LE(text.length, 0);
  text.copy(head, 4);
  return [head, ...views.map((v) => new Uint8Array(v.buffer, v.byteOffset, v.byteLength))];
}

/** Writes one frame to a socket (corked: the header and the buffers leave together). */
export function writeFrame(socket, message) {
  const parts = encodeFrame(message);
  socket.cork();
  for (const p of parts) socket.write(p);
  socket.uncork();
}

function revive(value, buffers) {
  if (Array.isArray(value)) return value.map((v) => revive(v, buffers));
  if (value !== null && typeof value === 'object') {
    if (typeof value.$b === 'number') return buffers[value.$b];
    const out = {};
    for (const k of Object.keys(value)) out[k] = revive(value[k], buffers);
    return out;
  }
  return value;
}

/** A push(chunk) function that calls `onFrame` with every complete message. */
export function frameReader(onFrame) {
  let target = new Uint8Array(4);
  let off = 0;
  let stage = 'len';
  let meta = null;
  let buffers = [];
  const advance = () => {
    off = 0;
    if (stage === 'len') {
      target = new Uint8Array(Buffer.from(target.buffer, target.byteOffset, 4).readUInt32LE(0));
      stage = 'json';
      return;
    }
    if (stage === 'json') {
      meta = JSON.parse(Buffer.from(target.buffer, target.byteOffset, target.byteLength).toString('utf8'));
      buffers = [];
      stage = 'buf';
    } else {
      const Ctor = CTORS[meta.b[buffers.length][0]] ?? Uint8Array;
      buffers.push(new Ctor(target.buffer, 0, target.byteLength / Ctor.BYTES_PER_ELEMENT));
    }
    if (buffers.length < meta.b.length) {
      target = new Uint8Array(meta.b[buffers.length][1]);
      return;
    }
    const message = revive(meta.m, buffers);
    meta = null;
    buffers = [];
    stage = 'len';
    target = new Uint8Array(4);
    onFrame(message);
  };
  return (chunk) => {
    let pos = 0;
    for (;;) {
      while (off === target.byteLength) advance();
      if (pos >= chunk.length) return;
      const take = Math.min(target.byteLength - off, chunk.length - pos);
      target.set(chunk.subarray(pos, pos + take), off);
      off += take;
      pos += take;
    }
  };
}
