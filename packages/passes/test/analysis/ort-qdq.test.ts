// The ops' `ort.qdq` facet (ops/) against onnxruntime-node 1.30 itself: a tiny QDQ model
// Conv → op → Conv per op, quantized by quantizeQdq, optimized by an InferenceSession at level
// extended (optimizedModelFilePath), and read back. 'mac'/'element': the op is gone into a QLinear
// kernel; 'data': the op stays, reading the 8-bit tensor (no DequantizeLinear in front of it);
// no facet: the op stays in float between DequantizeLinear and QuantizeLinear. The analysis
// counts the op's work as integer (its QDQ note, no FLOPs) exactly when onnxruntime runs it as
// an integer kernel. Where (its bool condition a constant here) is measured on its own below too:
// QLinearWhere, with the condition never dequantized (`ort.qdqInputs`).
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataType, GraphBuilder, Tensor, type Graph, type Model, type Value } from '@onnxkit/graph';
import { decode, encode } from '@onnxkit/importer';
import * as ort from 'onnxruntime-node';
import { afterAll, describe, expect, it } from 'vitest';
import { getOp } from '../../src/ops/registry.js';
import { analyzeModel, planQdq, quantizeQdq } from '../../src/index.js';

const f32 = (dims: number[], f: (i: number) => number): Tensor => Tensor.fromArray(DataType.FLOAT, dims, Float32Array.from({ length: dims.reduce((a, d) => a * d, 1) }, (_, i) => f(i)));

/** x → Conv → `op` (named 'op') → Conv → y, channels 4 (8 after a Concat, 2 after a Gather). */
function sandwich(op: string): Model {
  const b = new GraphBuilder({ opset: 17 });
  const x = b.input('x', DataType.FLOAT, [1, 4, 8, 8]);
  const c = b.op('Conv', [x, b.constant('w', f32([4, 4, 3, 3], Math.sin))], { pads: [1, 1, 1, 1] }, { name: 'conv' });
  let y: Value;
  let channels = 4;
  if (op === 'ConvTranspose') y = b.op(op, [c, b.constant('wt', f32([4, 4, 3, 3], Math.cos)), b.constant('bt', f32([4], (i) => i / 10))], { pads: [1, 1, 1, 1] }, { name: 'op' });
  else if (op === 'AveragePool' || op === 'MaxPool') y = b.op(op, [c], { kernel_shape: [2, 2] }, { name: 'op' });
  else if (op === 'Concat') {
    y = b.op(op, [c, c], { axis: 1 }, { name: 'op' });
    channels = 8;
  } else if (op === 'Gather') {
    y = b.op(op, [c, b.constant('idx', Tensor.fromNumbers(DataType.INT64, [2], [0, 2]))], { axis: 1 }, { name: 'op' });
    channels = 2;
  } else if (op === 'Where') {
    // A bool condition (broadcast over the spatial axes) choosing between the Conv's output and the input x.
    y = b.op(op, [b.constant('cond', Tensor.fromNumbers(DataType.BOOL, [1, 4, 1, 1], [1, 0, 0, 1])), c, x], {}, { name: 'op' });
  } else if (op === 'Add' || op === 'Mul') y = b.op(op, [c, c], {}, { name: 'op' });
  else y = b.op(op, [c], {}, { name: 'op' });
  b.output(b.op('Conv', [y, b.constant('w2', f32([4, channels, 1, 1], (i) => Math.cos(i + 1)))], {}, { name: 'conv2' }), 'y');
  return b.build();
}

const dir = mkdtempSync(join(tmpdir(), 'onnxkit-ort-qdq-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** onnxruntime's optimized graph of `m` at level extended (the QDQ selectors run there). */
async function ortOptimized(m: Model, name: string): Promise<Graph> {
  const out = join(dir, `${name}.onnx`);
  const session = await ort.InferenceSession.create(encode(m), { graphOptimizationLevel: 'extended', optimizedModelFilePath: out, intraOpNumThreads: 1 });
  await session.release();
  return decode(readFileSync(out)).graph;
}

/** The quantized sandwich and onnxruntime's optimized graph of it: node op types, and what feeds the op's first data input if it is still there. */
async function optimized(op: string): Promise<{ quantized: Model; ops: string[]; feeder: string | undefined }> {
  const m = sandwich(op);
  const opTypes = ['Conv', op];
  const plan = planQdq(m, { opTypes });
  expect(plan.nodes.map((p) => p.node.name)).toContain('op');
  quantizeQdq(m, { opTypes, ranges: new Map(plan.tensors.map((t) => [t, { min: -2, max: 2 }])) });
  const g = await ortOptimized(m, op);
  const node = [...g].find((n) => n.opType === op);
  return { quantized: m, ops: [...g].map((n) => n.opType), feeder: node?.inputs[getOp(op)!.ort?.qdqInputs?.[0] ?? 0]?.producer?.opType };
}

describe("ops' ort.qdq facet against onnxruntime-node 1.30", () => {
  const cases = ['Conv', 'ConvTranspose', 'Add', 'Mul', 'Concat', 'AveragePool', 'GlobalAveragePool', 'Sigmoid', 'LeakyRelu', 'MaxPool', 'Transpose', 'Gather', 'Tanh', 'HardSigmoid', 'Softmax', 'Where'];
  for (const op of cases) {
    const qdq = getOp(op)!.ort?.qdq;
    it(`${op}: ${qdq ?? 'float between DQ and Q'}`, async () => {
      const { quantized, ops, feeder } = await optimized(op === 'Conv' ? 'Sigmoid' : op);
      if (op === 'Conv') {
        expect(ops).not.toContain('Conv');
        expect(ops.filter((t) => t === 'QLinearConv')).toHaveLength(2);
        return;
      }
      if (qdq === 'mac' || qdq === 'element') expect(ops).not.toContain(op);
      else {
        expect(ops).toContain(op);
        expect(feeder === 'DequantizeLinear').toBe(qdq === undefined);
      }
      const layer = analyzeModel(quantized, { timeline: false }).layers.find((l) => l.name === 'op')!;
      // (a Concat's work is 0 either way: the analysis's note says which it took it for)
      expect(layer.notes?.some((n) => n.startsWith('QDQ:')) ?? false).toBe(qdq === 'mac' || qdq === 'element');
      if (qdq === 'mac' || qdq === 'element') expect(layer.flops).toBe(0);
    });
  }
});

/** x → Q → DQ → `op`(·, DQ(int8 W)) → y, the output left float (no QuantizeLinear after it). */
function floatOutput(op: 'Conv' | 'MatMul' | 'Gemm'): Model {
  const b = new GraphBuilder({ opset: 17 });
  const x = b.input('x', DataType.FLOAT, op === 'Conv' ? [1, 4, 8, 8] : [2, 4]);
  const s = b.constant('s', Tensor.fromArray(DataType.FLOAT, [], Float32Array.of(0.02)));
  const z = b.constant('z', Tensor.fromArray(DataType.UINT8, [], Uint8Array.of(128)));
  const dq = b.op('DequantizeLinear', [b.op('QuantizeLinear', [x, s, z]), s, z]);
  const dims = op === 'Conv' ? [4, 4, 3, 3] : [4, 4];
  const wq = b.constant('wq', Tensor.fromArray(DataType.INT8, dims, Int8Array.from({ length: dims.reduce((a, d) => a * d, 1) }, (_, i) => (i % 7) - 3)));
  const w = b.op('DequantizeLinear', [wq, b.constant('ws', Tensor.fromArray(DataType.FLOAT, [], Float32Array.of(0.01))), b.constant('wz', Tensor.fromArray(DataType.INT8, [], Int8Array.of(0)))]);
  b.output(b.op(op, [dq, w], op === 'Conv' ? { pads: [1, 1, 1, 1] } : {}, { name: 'op' }), 'y');
  return b.build();
}

describe("ops' ort.qdqFloatOutput against onnxruntime-node 1.30: an integer kernel with a float output", () => {
  for (const op of ['Conv', 'MatMul', 'Gemm'] as const) {
    const floatOut = getOp(op)!.ort?.qdqFloatOutput === true;
    it(`${op}: ${floatOut ? 'fused (float output)' : 'stays float without a QuantizeLinear after it'}`, async () => {
      const m = floatOutput(op);
      const ops = [...(await ortOptimized(m, `${op}-float-output`))].map((n) => n.opType);
      expect(ops.includes(op)).toBe(!floatOut);
      const layer = analyzeModel(m, { timeline: false }).layers.find((l) => l.name === 'op')!;
      expect(layer.notes?.some((n) => n.startsWith('QDQ:')) ?? false).toBe(floatOut);
    });
  }
});

/**
 * Where's QDQ form (`ort: { qdq: 'element', qdqInputs: [1, 2] }`): onnxruntime fuses
 * DQ(X), DQ(Y) → Where → Q into com.microsoft QLinearWhere and reads the bool condition as it is;
 * the quantizer quantizes X, Y and the output and leaves the condition alone; the analysis counts
 * the Where as integer exactly when onnxruntime fuses it. Variants: Y a float graph input (no DQ),
 * the output left float (no Q): onnxruntime keeps the float Where, and so does the analysis.
 */
describe("Where's QDQ form against onnxruntime-node 1.30: QLinearWhere, the condition never dequantized", () => {
  /** Where(c, DQ(x) or x, DQ(y) or y) → Q → DQ or straight out. */
  function where(dequantizeY: boolean, quantizeOutput: boolean): Model {
    const b = new GraphBuilder({ opset: 17 });
    const c = b.input('c', DataType.BOOL, [1, 4, 8, 8]);
    const x = b.input('x', DataType.FLOAT, [1, 4, 8, 8]);
    const y = b.input('y', DataType.FLOAT, [1, 4, 8, 8]);
    const s = b.constant('s', Tensor.fromArray(DataType.FLOAT, [], Float32Array.of(0.02)));
    const z = b.constant('z', Tensor.fromArray(DataType.UINT8, [], Uint8Array.of(128)));
    const qdq = (v: Value): Value => b.op('DequantizeLinear', [b.op('QuantizeLinear', [v, s, z]), s, z]);
    const w = b.op('Where', [c, qdq(x), dequantizeY ? qdq(y) : y], {}, { name: 'op' });
    b.output(quantizeOutput ? qdq(w) : w, 'o');
    return b.build();
  }

  for (const [dequantizeY, quantizeOutput, fused] of [[true, true, true], [false, true, false], [true, false, false]] as const) {
    it(`${fused ? 'fuses' : 'keeps the float Where for'} DQ(X), ${dequantizeY ? 'DQ(Y)' : 'a float Y'} and ${quantizeOutput ? 'a Q after it' : 'a float output'}`, async () => {
      const m = where(dequantizeY, quantizeOutput);
      const g = await ortOptimized(m, `where-${dequantizeY}-${quantizeOutput}`);
      const ops = [...g].map((n) => (n.domain ? `${n.domain}::${n.opType}` : n.opType));
      expect(ops.includes('com.microsoft::QLinearWhere')).toBe(fused);
      expect(ops.includes('Where')).toBe(!fused);
      if (fused) {
        // The condition goes to QLinearWhere as the bool graph input, never through a DequantizeLinear.
        const q = [...g].find((n) => n.opType === 'QLinearWhere')!;
        expect(q.inputs[0]!.name).toBe('c');
      }
      const layer = analyzeModel(m, { timeline: false }).layers.find((l) => l.name === 'op')!;
      expect(layer.notes?.some((n) => n.startsWith('QDQ:')) ?? false).toBe(fused);
      expect(layer.flops === 0).toBe(fused);
      expect(layer.intOps! > 0).toBe(fused);
    });
  }

  it('is quantized by quantizeQdq as onnxruntime fuses it: X and Y through Q/DQ, the condition left bool', async () => {
    const b = new GraphBuilder({ opset: 17 });
    const c = b.input('c', DataType.BOOL, [1, 4, 8, 8]);
    const x = b.input('x', DataType.FLOAT, [1, 4, 8, 8]);
    const w = b.constant('w', f32([4, 4, 1, 1], Math.sin));
    const conv = b.op('Conv', [x, w], {}, { name: 'conv' });
    const sel = b.op('Where', [c, conv, x], {}, { name: 'op' });
    b.output(b.op('Conv', [sel, b.constant('w2', f32([4, 4, 1, 1], Math.cos))], {}, { name: 'conv2' }), 'y');
    const m = b.build();
    const plan = planQdq(m);
    const p = plan.nodes.find((n) => n.node.name === 'op')!;
    expect(p.activationInputs).toEqual(getOp('Where')!.ort!.qdqInputs);
    expect(plan.tensors).not.toContain('c');
    const report = quantizeQdq(m, { ranges: new Map(plan.tensors.map((t) => [t, { min: -2, max: 2 }])) });
    expect(report.layers.map((l) => l.opType)).toEqual(['Conv', 'Where', 'Conv']);
    const node = [...m.graph].find((n) => n.name === 'op')!;
    expect(node.inputs[0]!.name).toBe('c');
    expect(node.inputs.slice(1).map((v) => v!.producer?.opType)).toEqual(['DequantizeLinear', 'DequantizeLinear']);
    const ops = [...(await ortOptimized(m, 'where-quantized'))].map((n) => n.opType);
    expect(ops).toEqual(expect.arrayContaining(['QLinearWhere', 'QLinearConv']));
    expect(ops).not.toContain('Where');
  });
});
