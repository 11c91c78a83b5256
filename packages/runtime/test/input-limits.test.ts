// Input tensors obey a size limit before anything is allocated (issue 13): a declared
// [1e5, 1e5] input, a 4 GiB input asked for by a tiny model, an .npz zip bomb (from its
// directory, or by a directory that lies), and JSON nested past any tensor's rank.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DataType, GraphBuilder, Tensor, type Model } from '@onnxkit/graph';
import { decodeNpz, encodeNpz, loadInputs, syntheticInputs, VerifyError } from '@onnxkit/runtime';
import { scratchDir, thrown } from '../../../test/helpers/errors.js';

const dir = scratchDir('limits');

function model(shape: number[]): Model {
  const b = new GraphBuilder({ name: 'm', opset: 17 });
  b.output(b.op('Identity', [b.input('x', DataType.FLOAT, shape)]), 'y');
  return b.build();
}

const refusal = (fn: () => unknown): VerifyError => thrown(VerifyError, fn);

describe('synthetic inputs', () => {
  it('a declared [1e5, 1e5] float input is refused, named, before allocation', () => {
    const e = refusal(() => syntheticInputs(model([100_000, 100_000])));
    expect(e.code).toBe('VERIFY_INPUT_TOO_LARGE');
    expect(e.message).toMatch(/input 'x' would be float\[100000,100000\] = 37\.3 GiB, above the limit of 2\.0 GiB per tensor/);
  });

  it('a 4 GiB input is refused; the limit can be lowered or raised', () => {
    expect(refusal(() => syntheticInputs(model([2 ** 30]))).code).toBe('VERIFY_INPUT_TOO_LARGE');
    expect(refusal(() => syntheticInputs(model([1024]), { maxTensorBytes: 1000 })).message).toMatch(/4096 bytes, above the limit of 1000 bytes/);
    expect(syntheticInputs(model([1024]), { maxTensorBytes: 4096 }).get('x')!.size).toBe(1024);
  });

  it('element counts beyond 2^53 are refused, not wrapped', () => {
    expect(refusal(() => syntheticInputs(model([2 ** 30, 2 ** 30, 2 ** 30]), { maxTensorBytes: Number.MAX_VALUE })).code).toBe('VERIFY_INPUT_TOO_LARGE');
  });

  it('ONNXKIT_MAX_TENSOR_BYTES (set by --max-tensor-bytes) is the default', () => {
    process.env.ONNXKIT_MAX_TENSOR_BYTES = '100';
    try {
      expect(refusal(() => syntheticInputs(model([1024]))).code).toBe('VERIFY_INPUT_TOO_LARGE');
    } finally {
      delete process.env.ONNXKIT_MAX_TENSOR_BYTES;
    }
  });
});

describe('input files', () => {
  const n = 4 * 2 ** 20;
  const bomb = encodeNpz({ x: Tensor.fromArray(DataType.FLOAT, [n], new Float32Array(n)) }, { compress: true });

  it('an .npz that inflates past the limit is refused from its directory (16 MiB from ~16 KiB)', () => {
    expect(bomb.byteLength).toBeLessThan(64 * 1024);
    const e = refusal(() => decodeNpz(bomb, 'bomb.npz', { maxTensorBytes: 2 ** 20 }));
    expect(e.code).toBe('VERIFY_INPUT_TOO_LARGE');
    expect(e.message).toMatch(/entry 'x\.npy' inflates to 16777344 bytes, above the limit of 1048576 bytes per tensor/);
    const file = join(dir, 'bomb.npz');
    writeFileSync(file, bomb);
    expect(refusal(() => loadInputs([file], model([n]), { maxTensorBytes: 2 ** 20 })).code).toBe('VERIFY_INPUT_TOO_LARGE');
  });

  it('an .npz whose directory understates the size stops inflating at the stated size', () => {
    const lying = new Uint8Array(bomb);
    const dv = new DataView(lying.buffer);
    // Patch the uncompressed size in the central directory entry (offset 24) to 1 KiB.
    const cd = lying.length - 22 - 0;
    const cdOffset = dv.getUint32(cd + 16, true);
    dv.setUint32(cdOffset + 24, 1024, true);
    const e = refusal(() => decodeNpz(lying, 'lying.npz'));
    expect(e.message).toMatch(/lying\.npz: entry 'x\.npy'/);
  });

  it('JSON arrays nested deeper than any tensor rank are refused, not a stack overflow', () => {
    const file = join(dir, 'deep.json');
    writeFileSync(file, `{"x":${'['.repeat(200_000)}${']'.repeat(200_000)}}`);
    const e = refusal(() => loadInputs([file], model([1])));
    expect(e.message).toMatch(/arrays nest deeper than 64 levels/);
  });
});
