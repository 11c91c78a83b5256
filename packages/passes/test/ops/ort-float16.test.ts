// The ops' `ort.float16` facet against onnxruntime-node 1.30 itself: each op that says it has no
// float16 kernel is built as a one-node float16 model (opset 21) and given to an InferenceSession
// (level basic, optimizedModelFilePath): 'casts' — onnxruntime accepts it and its optimized graph
// holds the Casts its InsertCastTransformer put around the op; 'no-kernel' — no kernel is found;
// 'rejects' — the model is invalid for the op's schema. Ops not declaring it that onnxruntime runs
// in float16 natively (Shape, Shrink, GatherElements) show what the contrast looks like. And
// convert-fp16 gives that reason when it keeps such an op in float32 (its `not-fp16-safe`
// decline), where before it said only "not declared float16-safe".
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataType, GraphBuilder, Tensor, type Value } from '@onnxkit/graph';
import { decode, encode } from '@onnxkit/importer';
import { getPass, standaloneContext } from '@onnxkit/passes';
import * as ort from 'onnxruntime-node';
import { afterAll, describe, expect, it } from 'vitest';
import { OPS } from '../../src/ops/registry.js';
import { ORT_FLOAT16_WHY } from '../../src/ops/types.js';

const H = DataType.FLOAT16;
const I = DataType.INT64;
const X4 = [2, 3, 4, 4];

/** How to build each op around a float16 tensor `x` ([2, 3, 4, 4]) or inputs of its own: its outputs. */
type Build = (b: GraphBuilder, x: Value) => Value[];
const BUILD: Record<string, Build> = {
  Det: (b) => [b.op('Det', [b.input('m', H, [2, 3, 3])])],
  LpPool: (b, x) => [b.op('LpPool', [x], { kernel_shape: [2, 2] })],
  EyeLike: (b) => [b.op('EyeLike', [b.input('m', H, [3, 3])])],
  OneHot: (b) => [b.op('OneHot', [b.input('ind', I, [3]), b.constant('depth', Tensor.fromNumbers(I, [], [4])), b.input('vals', H, [2])])],
  Range: (b) => [b.op('Range', [b.input('s', H, []), b.input('l', H, []), b.input('d', H, [])])],
  GridSample: (b, x) => [b.op('GridSample', [x, b.input('g', H, [2, 4, 4, 2])])],
  NegativeLogLikelihoodLoss: (b, x) => [b.op('NegativeLogLikelihoodLoss', [x, b.input('t', I, [2, 4, 4])])],
  SoftmaxCrossEntropyLoss: (b, x) => [b.op('SoftmaxCrossEntropyLoss', [x, b.input('t', I, [2, 4, 4])])],
  RandomNormal: (b) => [b.op('RandomNormal', [], { shape: [2, 3], dtype: H })],
  RandomUniform: (b) => [b.op('RandomUniform', [], { shape: [2, 3], dtype: H })],
  Multinomial: (b) => [b.op('Multinomial', [b.input('p', H, [2, 3])])],
  RNN: (b) => [b.node('RNN', [b.input('X', H, [2, 1, 3]), b.input('W', H, [1, 4, 3]), b.input('R', H, [1, 4, 4])], { hidden_size: 4 }).outputs[0]!],
  GRU: (b) => [b.node('GRU', [b.input('X', H, [2, 1, 3]), b.input('W', H, [1, 12, 3]), b.input('R', H, [1, 12, 4])], { hidden_size: 4 }).outputs[0]!],
  LSTM: (b) => [b.node('LSTM', [b.input('X', H, [2, 1, 3]), b.input('W', H, [1, 16, 3]), b.input('R', H, [1, 16, 4])], { hidden_size: 4 }).outputs[0]!],
  GatherElements: (b, x) => [b.op('GatherElements', [x, b.input('idx', I, X4)])],
};

const dir = mkdtempSync(join(tmpdir(), 'onnxkit-ort-float16-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** What onnxruntime does with `op` in float16: the Casts it inserts, or the error it gives. */
async function inFloat16(op: string): Promise<{ casts: number } | { error: string }> {
  const b = new GraphBuilder({ opset: 21 });
  const build = BUILD[op];
  const outs = build ? build(b, b.input('x', H, X4)) : [b.op(op, [b.input('x', H, X4)])];
  outs.forEach((o, i) => b.output(o, `y${i}`));
  const out = join(dir, `${op}.onnx`);
  try {
    const session = await ort.InferenceSession.create(encode(b.build()), { graphOptimizationLevel: 'basic', optimizedModelFilePath: out, intraOpNumThreads: 1 });
    await session.release();
  } catch (e) {
    return { error: e instanceof Error ? e.message : String(e) };
  }
  return { casts: [...decode(readFileSync(out)).graph].filter((n) => n.opType === 'Cast').length };
}

describe("ops' ort.float16 facet against onnxruntime-node 1.30", () => {
  const declared = OPS.filter((op) => op.ort?.float16 !== undefined);

  it('is declared only by ops convert-fp16 keeps in float32 (no fp16 facet)', () => {
    expect(declared.length).toBeGreaterThan(30);
    expect(declared.filter((op) => op.fp16 !== undefined).map((op) => op.type)).toEqual([]);
  });

  for (const op of declared) {
    const kind = op.ort!.float16!;
    it(`${op.type}: ${kind}`, async () => {
      const r = await inFloat16(op.type);
      if (kind === 'casts') expect(r, op.type).toEqual({ casts: expect.any(Number) as number });
      if (kind === 'casts') expect((r as { casts: number }).casts, op.type).toBeGreaterThan(0);
      if (kind === 'no-kernel') expect((r as { error: string }).error, op.type).toMatch(/Could not find an implementation/);
      if (kind === 'rejects') expect((r as { error: string }).error, op.type).toMatch(/Type 'tensor\(float16\)' of input parameter .* is invalid/);
    });
  }

  for (const op of ['Shape', 'Shrink', 'GatherElements']) {
    it(`${op}: not declared, and onnxruntime runs it in float16 without a Cast`, async () => {
      expect(OPS.find((o) => o.type === op)!.ort?.float16).toBeUndefined();
      expect(await inFloat16(op)).toEqual({ casts: 0 });
    });
  }
});

describe("convert-fp16 gives the op's reason for keeping it float32", () => {
  it('says why Tan stays float32 (no float16 kernel), and only that an undeclared op is not declared safe', async () => {
    const b = new GraphBuilder({ opset: 17 });
    const x = b.input('x', DataType.FLOAT, [2, 3]);
    const w = b.constant('w', Tensor.fromArray(DataType.FLOAT, [3, 3], Float32Array.from({ length: 9 }, (_, i) => i / 9)));
    const m = b.op('MatMul', [x, w], {}, { name: 'mm' });
    const tan = b.op('Tan', [m], {}, { name: 'tan' });
    b.output(b.op('Shrink', [b.op('MatMul', [tan, w], {}, { name: 'mm2' })], {}, { name: 'shrink' }), 'y');
    const model = b.build();
    const r = await getPass('convert-fp16').run(model, standaloneContext({}));
    const why = (node: string): string | undefined => r.declined.find((d) => d.node === node && d.reason === 'not-fp16-safe')?.detail;
    expect(why('tan')).toBe(`Tan is not declared float16-safe (its fp16 facet, ops/): stays float32: ${ORT_FLOAT16_WHY.casts}`);
    expect(why('shrink')).toBe('Shrink is not declared float16-safe (its fp16 facet, ops/): stays float32');
  });
});
