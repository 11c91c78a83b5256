// Input files under mutation (issue 13): seeded byte-level mutations of .npy, .npz (stored and
// deflated) and .json inputs must give tensors or a VerifyError — never another exception, a
// hang, or an allocation beyond the input limit. Deterministic: the same seed, the same cases.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { DataType, GraphBuilder, Tensor } from '@onnxkit/graph';
import { encodeNpy, encodeNpz, loadInputs, VerifyError, Xoshiro128 } from '@onnxkit/runtime';

const dir = mkdtempSync(join(tmpdir(), 'onnxkit-input-fuzz-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const b = new GraphBuilder({ name: 'm', opset: 17 });
b.output(b.op('Identity', [b.input('x', DataType.FLOAT, [2, 3])]), 'y');
const model = b.build();
const x = Tensor.fromArray(DataType.FLOAT, [2, 3], Float32Array.of(1, -0, 2, Infinity, NaN, 3));

const SEEDS: [string, Uint8Array][] = [
  ['x.npy', encodeNpy(x)],
  ['stored.npz', encodeNpz({ x })],
  ['deflated.npz', encodeNpz({ x }, { compress: true })],
  ['in.json', new TextEncoder().encode(JSON.stringify({ x: [[1, 2, 3], [4, 5, 6]] }))],
];
const INTERESTING = [0, 0xff, 0x7f, 0x80, 0x5b, 0x5d, 0x2c, 0x7b];

function mutate(bytes: Uint8Array, rng: Xoshiro128): Uint8Array {
  const out = new Uint8Array(bytes);
  const kind = Math.floor(rng.nextFloat() * 4);
  const at = Math.floor(rng.nextFloat() * out.length);
  if (kind === 0) out[at] = INTERESTING[Math.floor(rng.nextFloat() * INTERESTING.length)]!;
  else if (kind === 1) out[at] ^= 1 << Math.floor(rng.nextFloat() * 8);
  else if (kind === 2) return out.subarray(0, at);
  else for (let k = 0; k < 4 && at + k < out.length; k++) out[at + k] = 0xff;
  return out;
}

it('2,000 mutated input files: tensors or a VerifyError, nothing else', () => {
  const rng = new Xoshiro128(13, 7);
  let ok = 0;
  let refused = 0;
  for (let i = 0; i < 2000; i++) {
    const [name, seed] = SEEDS[i % SEEDS.length]!;
    let bytes = seed;
    for (let k = 0, n = 1 + Math.floor(rng.nextFloat() * 3); k < n; k++) bytes = mutate(bytes, rng);
    const file = join(dir, name);
    writeFileSync(file, bytes);
    try {
      loadInputs([file], model, { maxTensorBytes: 1 << 20 });
      ok++;
    } catch (e) {
      if (!(e instanceof VerifyError)) throw new Error(`case ${i} (${name}): ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`);
      refused++;
    }
  }
  expect(ok + refused).toBe(2000);
  expect(refused).toBeGreaterThan(0);
});
