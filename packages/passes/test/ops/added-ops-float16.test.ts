/**
 * What onnxruntime-node 1.30 does with the ops added as modules this round in float16 (opset 21,
 * level basic, its optimized graph read back), the reason none of them declares `fp16`: the
 * transforms, pooling and sampling ops run in float32 between the Casts its InsertCastTransformer
 * adds (CenterCropPad, a function, is expanded: its Pad runs in float32 between Casts, its Slice
 * in float16), and the
 * window and mel generators have no float16 kernel at all. Only Unique declares `ort.float16`
 * ('casts'): test/ops/ort-float16.test.ts builds every op that declares it, and its default
 * one-input build fits Unique alone; the others await a builder there.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterAll, describe, expect, it } from 'vitest';
import { DataType, GraphBuilder, Tensor, type Value } from '@onnxkit/graph';
import { decode, encode } from '@onnxkit/importer';
import { getOp } from '../../src/ops/registry.js';

const H = DataType.FLOAT16;
const I = DataType.INT64;
const dir = mkdtempSync(join(tmpdir(), 'onnxkit-added-float16-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const scalar = (b: GraphBuilder, name: string, dtype: DataType, v: number): Value => b.constant(name, Tensor.scalar(dtype, v));

/** Each op in float16, as a one-node model. */
const CASTS: Record<string, (b: GraphBuilder) => Value> = {
  DFT: (b) => b.op('DFT', [b.input('x', H, [1, 8, 1])]),
  STFT: (b) => b.op('STFT', [b.input('x', H, [1, 32, 1]), scalar(b, 'step', I, 4), b.input('w', H, [8])]),
  RoiAlign: (b) => b.op('RoiAlign', [b.input('x', H, [1, 1, 4, 4]), b.input('r', H, [1, 4]), b.input('i', I, [1])]),
  MaxRoiPool: (b) => b.op('MaxRoiPool', [b.input('x', H, [1, 1, 4, 4]), b.input('r', H, [1, 5])], { pooled_shape: [2, 2] }),
  MaxUnpool: (b) => b.op('MaxUnpool', [b.input('x', H, [1, 1, 2, 2]), b.input('i', I, [1, 1, 2, 2])], { kernel_shape: [2, 2], strides: [2, 2] }),
  Unique: (b) => b.op('Unique', [b.input('x', H, [6])]),
  Col2Im: (b) => b.op('Col2Im', [b.input('x', H, [1, 4, 9]), b.int64s('img', [4, 4]), b.int64s('blk', [2, 2])]),
  CenterCropPad: (b) => b.op('CenterCropPad', [b.input('x', H, [4, 5]), b.int64s('s', [3, 7])]),
  AffineGrid: (b) => b.op('AffineGrid', [b.input('t', H, [1, 2, 3]), b.int64s('s', [1, 1, 3, 4])]),
  DeformConv: (b) => b.op('DeformConv', [b.input('x', H, [1, 1, 4, 4]), b.input('w', H, [1, 1, 2, 2]), b.input('o', H, [1, 8, 3, 3])]),
};
const NO_KERNEL: Record<string, (b: GraphBuilder) => Value> = {
  HannWindow: (b) => b.op('HannWindow', [b.input('n', I, [])], { output_datatype: H }),
  HammingWindow: (b) => b.op('HammingWindow', [b.input('n', I, [])], { output_datatype: H }),
  BlackmanWindow: (b) => b.op('BlackmanWindow', [b.input('n', I, [])], { output_datatype: H }),
  MelWeightMatrix: (b) =>
    b.op('MelWeightMatrix', [b.input('m', I, []), b.input('d', I, []), b.input('r', I, []), b.input('lo', DataType.FLOAT, []), b.input('hi', DataType.FLOAT, [])], { output_datatype: H }),
};

/** onnxruntime's optimized graph's op types, or its error. */
async function optimized(op: string, build: (b: GraphBuilder) => Value): Promise<string[] | string> {
  const b = new GraphBuilder({ opset: 21 });
  b.output(build(b), 'y');
  const file = join(dir, `${op}.onnx`);
  try {
    const session = await ort.InferenceSession.create(encode(b.build()), { graphOptimizationLevel: 'basic', optimizedModelFilePath: file, intraOpNumThreads: 1 });
    await session.release();
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  }
  return [...decode(new Uint8Array(readFileSync(file))).graph].map((n) => n.opType);
}

describe('ops added this round, in float16 in onnxruntime-node 1.30', () => {
  for (const [op, build] of Object.entries(CASTS)) {
    it(`${op}: runs in float32 between Casts (not float16-safe)`, async () => {
      const ops = await optimized(op, build);
      expect(Array.isArray(ops), String(ops)).toBe(true);
      if (op === 'CenterCropPad') {
        // A function: expanded, its Pad between a Cast to float32 and one back; its Slice in float16.
        expect(ops.indexOf('Cast')).toBeLessThan(ops.indexOf('Pad'));
        expect(ops.lastIndexOf('Cast')).toBeGreaterThan(ops.indexOf('Pad'));
        expect(ops[ops.length - 1]).toBe('Slice');
      } else {
        expect(ops[0]).toBe('Cast');
        expect(ops[ops.length - 1]).toBe('Cast');
      }
      expect(getOp(op)!.fp16).toBeUndefined();
      if (op === 'Unique') expect(getOp(op)!.ort).toEqual({ float16: 'casts' });
    });
  }
  for (const [op, build] of Object.entries(NO_KERNEL)) {
    it(`${op}: has no float16 kernel`, async () => {
      expect(await optimized(op, build)).toMatch(/Could not find an implementation/);
      expect(getOp(op)!.fp16).toBeUndefined();
    });
  }
});
