/**
 * Binary framing between this process and the onnxruntime child (`worker/ort-child.mjs`); the
 * child's copy of this code is `worker/frames.mjs` (plain ESM) and the two must stay in step.
 *
 * A frame is [u32 LE n][n bytes of JSON { m, b }][buffer 0][buffer 1]...: `m` is the message with
 * every typed array replaced by { $b: i }, `b` lists [constructor name, byte length] per buffer.
 * Tensor bytes travel raw (never as JSON numbers), are written from the caller's views without a
 * copy, and each arrives in its own ArrayBuffer, aligned for any element type.
 */
type Ctor = { new (buffer: ArrayBuffer, offset: number, length: number): ArrayBufferView; readonly BYTES_PER_ELEMENT: number };

const CTORS: Readonly<Record<string, Ctor>> = {
  Float32Array,
  Float64Array,
  Int8Array,
  Uint8Array,
  Uint8ClampedArray,
  Int16Array,
  Uint16Array,
  Int32Array,
  Uint32Array,
  BigInt64Array,
  BigUint64Array,
};

/** The byte chunks of one frame, ready to write in order. */
export function encodeFrame(message: unknown): Uint8Array[] {
  const views: ArrayBufferView[] = [];
  const b: [string, number][] = [];
  const json = JSON.stringify({ m: message, b }, (_key, value: unknown) => {
    if (ArrayBuffer.isView(value)) {
      const name = Buffer.isBuffer(value) ? 'Uint8Array' : value.constructor.name;
      views.push(value);
      b.push([name in CTORS ? name : 'Uint8Array', value.byteLength]);
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

function revive(value: unknown, buffers: ArrayBufferView[]): unknown {
  if (Array.isArray(value)) return value.map((v) => revive(v, buffers));
  if (value !== null && typeof value === 'object') {
    const o = value as Record<string, unknown>;
    if (typeof o.$b === 'number') return buffers[o.$b];
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(o)) out[k] = revive(o[k], buffers);
    return out;
  }
  return value;
}

/** A push(chunk) function that calls `onFrame` with every complete message. */
export function frameReader(onFrame: (message: unknown) => void): (chunk: Uint8Array) => void {
  let target = new Uint8Array(4);
  let off = 0;
  let stage: 'len' | 'json' | 'buf' = 'len';
  let meta: { m: unknown; b: [string, number][] } | null = null;
  let buffers: ArrayBufferView[] = [];
  const advance = (): void => {
    off = 0;
    if (stage === 'len') {
      target = new Uint8Array(Buffer.from(target.buffer, target.byteOffset, 4).readUInt32LE(0));
      stage = 'json';
      return;
    }
    if (stage === 'json') {
      meta = JSON.parse(Buffer.from(target.buffer, target.byteOffset, target.byteLength).toString('utf8')) as { m: unknown; b: [string, number][] };
      buffers = [];
      stage = 'buf';
    } else {
      const C = CTORS[meta!.b[buffers.length]![0]] ?? Uint8Array;
      buffers.push(new C(target.buffer as ArrayBuffer, 0, target.byteLength / C.BYTES_PER_ELEMENT));
    }
    if (buffers.length < meta!.b.length) {
      target = new Uint8Array(meta!.b[buffers.length]![1]);
      return;
    }
    const message = revive(meta!.m, buffers);
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
