// The framing between this process and the onnxruntime child (worker/frames.mjs, imported by
// both sides): bytes travel raw — typed arrays and Buffers alike — and frames split at any byte
// boundary reassemble.
import { describe, expect, test } from 'vitest';
import { encodeFrame, frameReader } from '../worker/frames.mjs';

function roundTrip(message: unknown, chunk: number): unknown[] {
  const bytes = Buffer.concat(encodeFrame(message));
  const got: unknown[] = [];
  const push = frameReader((m) => got.push(m));
  for (let i = 0; i < bytes.length; i += chunk) push(bytes.subarray(i, i + chunk));
  return got;
}

describe('frames', () => {
  test('a Buffer travels as raw bytes (not as the JSON array its toJSON would give) and arrives as a Uint8Array', () => {
    const buf = Buffer.from([1, 2, 3, 250]);
    const parts = encodeFrame({ bytes: buf });
    expect(parts).toHaveLength(2);
    expect(parts[0]!.byteLength).toBeLessThan(60);
    const [m] = roundTrip({ bytes: buf }, 3) as [{ bytes: Uint8Array }];
    expect(m.bytes).toBeInstanceOf(Uint8Array);
    expect([...m.bytes]).toEqual([1, 2, 3, 250]);
  });

  test('typed arrays keep their type, offset views are sent alone, and any chunking reassembles', () => {
    const big = new Float64Array([0.5, -1, 3, 7]);
    const msg = { id: 7, list: [{ data: new Float64Array(big.buffer, 8, 2) }, { data: BigInt64Array.of(-5n) }], text: 'x' };
    for (const chunk of [1, 5, 4096]) {
      const [m] = roundTrip(msg, chunk) as [typeof msg];
      expect(m.id).toBe(7);
      expect(m.text).toBe('x');
      expect(m.list[0]!.data).toBeInstanceOf(Float64Array);
      expect([...m.list[0]!.data]).toEqual([-1, 3]);
      expect([...m.list[1]!.data]).toEqual([-5n]);
    }
  });
});
