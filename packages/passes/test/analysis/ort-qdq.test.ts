// The ops' `ort.qdq` facet (ops/) against onnxruntime-node 1.30 itself: a tiny QDQ model
// Conv → op → Conv per op, quantized by quantizeQdq, optimized by an InferenceSession at level
// extended (optimizedModelFilePath), and read back. 'mac'/'element': the op is gone into a QLinear
// kernel; 'data': the op stays, reading the 8-bit tensor (no DequantizeLinear in front of it);
// no facet: the op stays in float between DequantizeLinear and QuantizeLinear. The analysis
// counts the op's work as integer (its QDQ note, no FLOPs) exactly when onnxruntime runs it as
// an integer kernel. Where (its bool condition a constant here) is measured on its own below too:
// QLinearWhere, with the condition never dequantized (`ort.qdqInputs`), or one branch a float
// scalar (`ort.qdqScalarConstant`). Then what decides a group's fusion beyond the op: one 8-bit
// type as onnxruntime sees it on x86-64 (int8 pairs of single-reader tensors become uint8, a
// tensor read twice stays int8), no int8 activation for Conv/MatMul (`ort.qdqUint8Activation`),
// Softmax's parameters (none matter) and its quantize facet (output fixed at [0, 1) as
// onnxruntime's quantizer fixes it), and the 'data' form's equal scale and zero point (positive
// for MaxPool: `ort.qdqPositiveScale`). Each condition is checked both ways against onnxruntime.
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

  // `ort.qdqScalarConstant`: onnxruntime 1.30's WhereDummyDq gives a float scalar Y a DequantizeLinear of X's declared type.
  for (const [y, int8, readTwice, fused] of [['scalar', false, false, true], ['[1, 4, 1] constant', false, false, false], ['scalar', true, false, false], ['scalar', false, true, false]] as const) {
    it(`${fused ? 'fuses' : 'keeps the float Where for'} DQ(X) and a ${y} Y${int8 ? ' (int8: X becomes uint8, the dummy DQ stays int8)' : ''}${readTwice ? ', its output read by a Q and a Neg' : ''}`, async () => {
      const b = new GraphBuilder({ opset: 17 });
      const c = b.input('c', DataType.BOOL, [1, 4, 8]);
      const x = b.input('x', DataType.FLOAT, [1, 4, 8]);
      const s = b.constant('s', Tensor.fromArray(DataType.FLOAT, [], Float32Array.of(0.02)));
      const z = b.constant('z', int8 ? Tensor.fromArray(DataType.INT8, [], Int8Array.of(0)) : Tensor.fromArray(DataType.UINT8, [], Uint8Array.of(128)));
      const k = b.constant('k', y === 'scalar' ? Tensor.fromArray(DataType.FLOAT, [], Float32Array.of(-1)) : Tensor.fromArray(DataType.FLOAT, [1, 4, 1], Float32Array.of(-1, 0, 1, 2)));
      const w = b.op('Where', [c, b.op('DequantizeLinear', [b.op('QuantizeLinear', [x, s, z]), s, z]), k], {}, { name: 'op' });
      b.output(b.op('DequantizeLinear', [b.op('QuantizeLinear', [w, s, z]), s, z]), 'o');
      if (readTwice) b.output(b.op('Neg', [w]), 'o2');
      const m = b.build();
      const ops = [...(await ortOptimized(m, `where-constant-${y}-${int8}-${readTwice}`))].map((n) => n.opType);
      expect(ops.includes('QLinearWhere')).toBe(fused);
      expect(countedInteger(m, 'op')).toBe(fused);
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

/** Whether the analysis counts layer `name` of `m` as integer (its QDQ note). */
function countedInteger(m: Model, name: string): boolean {
  const layer = analyzeModel(m, { timeline: false }).layers.find((l) => l.name === name)!;
  return layer.notes?.some((n) => n.startsWith('QDQ:')) ?? false;
}

/**
 * What decides a QDQ group's fusion in onnxruntime 1.30 (x86-64), beyond the op's `ort.qdq`:
 * every selector wants one 8-bit type over the group's dequantized inputs and its
 * QuantizeLinear outputs, as onnxruntime sees them — and QDQS8ToU8Transformer rewrites an int8
 * Q → DQ pair as uint8 only when the Q feeds that one DQ and the DQ one input of one node
 * (EnsureUniqueDQForNodeUnit first gives each further reader its own DQ, so the Q of a tensor two
 * inputs read feeds two DQs and stays int8). With int8 activations, a tensor read twice makes the
 * groups around it mismatch and stay float; with uint8 nothing is rewritten and they fuse. Conv
 * and MatMul take no int8 activation at all (`ort.qdqUint8Activation`). Each case compares, for
 * every Conv and the op, the analysis's integer count with onnxruntime's optimized graph (a
 * fused node keeps its name and changes its op type), and states the op's outcome.
 */
describe("one 8-bit type per QDQ group as onnxruntime 1.30 sees it: an int8 tensor read twice stays int8, a single-reader one becomes uint8", () => {
  /** x → Conv 'conv' → c, `op`(c) or `op`(c, d) with x2 → Conv 'conv_b' → d, → Conv 'conv2' → y; `shared`: Conv 'conv3' reads c too (→ z). */
  function graph(op: string, shared: boolean): Model {
    const b = new GraphBuilder({ opset: 17 });
    const x = b.input('x', DataType.FLOAT, [1, 4, 8, 8]);
    const c = b.op('Conv', [x, b.constant('w', f32([4, 4, 3, 3], Math.sin))], { pads: [1, 1, 1, 1] }, { name: 'conv' });
    const second = op === 'Add' || op === 'Mul' || op === 'Concat' || op === 'Where';
    const d = second ? b.op('Conv', [b.input('x2', DataType.FLOAT, [1, 4, 8, 8]), b.constant('wb', f32([4, 4, 1, 1], Math.cos))], {}, { name: 'conv_b' }) : c;
    let y: Value;
    let channels = 4;
    if (op === 'Add' || op === 'Mul') y = b.op(op, [c, d], {}, { name: 'op' });
    else if (op === 'Concat') {
      y = b.op(op, [c, d], { axis: 1 }, { name: 'op' });
      channels = 8;
    } else if (op === 'Where') y = b.op(op, [b.constant('cond', Tensor.fromNumbers(DataType.BOOL, [1, 4, 1, 1], [1, 0, 0, 1])), c, d], {}, { name: 'op' });
    else y = b.op(op, [c], op === 'AveragePool' ? { kernel_shape: [2, 2] } : op === 'Softmax' ? { axis: 1 } : {}, { name: 'op' });
    b.output(b.op('Conv', [y, b.constant('w2', f32([4, channels, 1, 1], (i) => Math.cos(i + 1)))], {}, { name: 'conv2' }), 'y');
    if (shared) b.output(b.op('Conv', [c, b.constant('w3', f32([4, 4, 1, 1], (i) => Math.sin(i + 2)))], {}, { name: 'conv3' }), 'z');
    return b.build();
  }

  // A constant operand is quantized to a lone DequantizeLinear of an int8 initializer, which
  // onnxruntime leaves int8: with int8 activations the group sees int8 and uint8 and stays float.
  for (const op of ['Add', 'Mul', 'Concat', 'Where']) {
    for (const activationType of ['uint8', 'int8'] as const) {
      it(`${op} of c and a constant, ${activationType} activations: ${activationType === 'uint8' ? 'fused' : 'stays float'}, as the analysis says`, async () => {
        const b = new GraphBuilder({ opset: 17 });
        const c = b.op('Conv', [b.input('x', DataType.FLOAT, [1, 4, 8, 8]), b.constant('w', f32([4, 4, 3, 3], Math.sin))], { pads: [1, 1, 1, 1] }, { name: 'conv' });
        const k = b.constant('k', f32([1, 4, 8, 8], Math.cos));
        const cond = (): Value => b.constant('cond', Tensor.fromNumbers(DataType.BOOL, [1, 4, 1, 1], [1, 0, 0, 1]));
        const y = b.op(op, op === 'Where' ? [cond(), c, k] : [c, k], op === 'Concat' ? { axis: 1 } : {}, { name: 'op' });
        b.output(b.op('Conv', [y, b.constant('w2', f32([4, op === 'Concat' ? 8 : 4, 1, 1], (i) => Math.cos(i + 1)))], {}, { name: 'conv2' }), 'y');
        const m = b.build();
        const opTypes = ['Conv', op];
        const plan = planQdq(m, { opTypes, activationType });
        quantizeQdq(m, { opTypes, activationType, ranges: new Map(plan.tensors.map((t) => [t, { min: -4, max: 4 }])) });
        const byName = new Map([...(await ortOptimized(m, `constant-${op}-${activationType}`))].map((n) => [n.name, n.opType]));
        expect(byName.get('op') !== op).toBe(activationType === 'uint8');
        expect(countedInteger(m, 'op')).toBe(activationType === 'uint8');
      });
    }
  }

  const ops = ['Softmax', 'Sigmoid', 'LeakyRelu', 'AveragePool', 'GlobalAveragePool', 'Add', 'Mul', 'Concat', 'Where'];
  for (const op of ops) {
    for (const activationType of ['uint8', 'int8'] as const) {
      for (const shared of [false, true]) {
        const fused = !(activationType === 'int8' && shared);
        it(`${op}, ${activationType} activations, ${shared ? 'its input c read by a second Conv' : 'every tensor read once'}: ${fused ? 'fused' : 'stays float'}, and the analysis agrees on every layer`, async () => {
          const m = graph(op, shared);
          const opTypes = ['Conv', op];
          const plan = planQdq(m, { opTypes, activationType });
          quantizeQdq(m, { opTypes, activationType, ranges: new Map(plan.tensors.map((t) => [t, { min: -4, max: 4 }])) });
          const g = await ortOptimized(m, `types-${op}-${activationType}-${shared}`);
          const byName = new Map([...g].map((n) => [n.name, n.opType]));
          const layers = [...m.graph].filter((n) => n.opType === 'Conv' || n.name === 'op').map((n) => n.name);
          for (const name of layers) {
            const original = [...m.graph].find((n) => n.name === name)!.opType;
            const ortFused = byName.get(name) !== original;
            expect({ name, counted: countedInteger(m, name) }).toEqual({ name, counted: ortFused });
          }
          expect(byName.get('op') !== op).toBe(fused);
          // conv3 reads the int8 c itself: Conv takes no int8 activation (qdqUint8Activation).
          if (shared) expect(byName.get('conv3')).toBe(activationType === 'uint8' ? 'QLinearConv' : 'Conv');
        });
      }
    }
  }
});

/**
 * Softmax's fusion does not depend on its quantization parameters (the selectors read only the
 * types; QLinearSoftmax takes the output scale and zero point as inputs): any scale, zero point,
 * axis, rank and opset fuses. What does decide it is the types as onnxruntime sees them: a uint8
 * input with an int8 output fuses when the output's Q → DQ pair is rewritten as uint8 (its DQ read
 * once) and stays float when that DQ is read twice.
 */
describe('Softmax against onnxruntime-node 1.30: its QDQ parameters play no part, its types do', () => {
  interface Case {
    readonly name: string;
    readonly outType?: 'uint8' | 'int8';
    readonly sOut?: number;
    readonly zOut?: number;
    readonly axis?: number;
    readonly shape?: number[];
    readonly opset?: number;
    /** The output's DequantizeLinear read by two nodes (its Q → DQ pair then stays as declared). */
    readonly outputReadTwice?: true;
    readonly fused: boolean;
  }
  /** x → Q(uint8, 8/255, 128) → DQ → Softmax 'op' → Q(outType, sOut, zOut) → DQ → y (and Neg → y2 when read twice). */
  function softmax(c: Case): Model {
    const b = new GraphBuilder({ opset: c.opset ?? 17 });
    const shape = c.shape ?? [1, 4, 8];
    const x = b.input('x', DataType.FLOAT, shape);
    const sIn = b.constant('s_in', Tensor.fromArray(DataType.FLOAT, [], Float32Array.of(8 / 255)));
    const zIn = b.constant('z_in', Tensor.fromArray(DataType.UINT8, [], Uint8Array.of(128)));
    const sm = b.op('Softmax', [b.op('DequantizeLinear', [b.op('QuantizeLinear', [x, sIn, zIn]), sIn, zIn])], c.axis === undefined ? {} : { axis: c.axis }, { name: 'op' });
    const sOut = b.constant('s_out', Tensor.fromArray(DataType.FLOAT, [], Float32Array.of(c.sOut ?? 1 / 256)));
    const z = c.zOut ?? (c.outType === 'int8' ? -128 : 0);
    const zOut = b.constant('z_out', c.outType === 'int8' ? Tensor.fromArray(DataType.INT8, [], Int8Array.of(z)) : Tensor.fromArray(DataType.UINT8, [], Uint8Array.of(z)));
    const out = b.op('DequantizeLinear', [b.op('QuantizeLinear', [sm, sOut, zOut]), sOut, zOut]);
    b.output(b.op('Relu', [out]), 'y');
    if (c.outputReadTwice) b.output(b.op('Neg', [out]), 'y2');
    return b.build();
  }
  const cases: Case[] = [
    { name: "onnxruntime's quantizer's output parameters (1/256, zero point 0)", fused: true },
    { name: 'a calibrated output scale 1/255', sOut: 1 / 255, fused: true },
    { name: "the input's own scale and zero point (8/255, 128)", sOut: 8 / 255, zOut: 128, fused: true },
    { name: 'axis 1 of a rank-4 input', axis: 1, shape: [1, 2, 4, 8], fused: true },
    { name: 'a rank-2 input at opset 12 (2-D coercion)', shape: [4, 8], opset: 12, fused: true },
    { name: 'an int8 output read once (its pair rewritten as uint8)', outType: 'int8', fused: true },
    { name: 'an int8 output read twice (its pair stays int8: types differ)', outType: 'int8', outputReadTwice: true, fused: false },
    { name: 'a uint8 output read twice (types agree)', outputReadTwice: true, fused: true },
  ];
  for (const c of cases) {
    it(`${c.fused ? 'fuses' : 'keeps the float Softmax for'} ${c.name}`, async () => {
      const m = softmax(c);
      const g = await ortOptimized(m, `softmax-${cases.indexOf(c)}`);
      const ops = [...g].map((n) => n.opType);
      expect(ops.includes('QLinearSoftmax')).toBe(c.fused);
      expect(ops.includes('Softmax')).toBe(!c.fused);
      expect(countedInteger(m, 'op')).toBe(c.fused);
    });
  }
});

/**
 * `ort.qdqUint8Activation` against onnxruntime-node 1.30: MatMul (and Conv) take no int8
 * activation on x86-64, Gemm does (QGemm). A = DQ(Q(x, int8)) read by a MatMul and a Gemm, both
 * with int8 weights and float outputs: read by both, A stays int8 and only the Gemm fuses; read
 * by the MatMul alone, A's pair becomes uint8 and the MatMul fuses (MatMulIntegerToFloat).
 */
describe("ops' ort.qdqUint8Activation against onnxruntime-node 1.30: no int8 activation for MatMul, Gemm takes one", () => {
  function model(withGemm: boolean): Model {
    const b = new GraphBuilder({ opset: 17 });
    const x = b.input('x', DataType.FLOAT, [2, 4]);
    const s = b.constant('s', Tensor.fromArray(DataType.FLOAT, [], Float32Array.of(0.02)));
    const z = b.constant('z', Tensor.fromArray(DataType.INT8, [], Int8Array.of(0)));
    const a = b.op('DequantizeLinear', [b.op('QuantizeLinear', [x, s, z]), s, z]);
    const weight = (name: string): Value =>
      b.op('DequantizeLinear', [b.constant(name, Tensor.fromArray(DataType.INT8, [4, 4], Int8Array.from({ length: 16 }, (_, i) => (i % 7) - 3))), b.constant(`${name}_s`, Tensor.fromArray(DataType.FLOAT, [], Float32Array.of(0.01))), b.constant(`${name}_z`, Tensor.fromArray(DataType.INT8, [], Int8Array.of(0)))]);
    b.output(b.op('MatMul', [a, weight('wm')], {}, { name: 'matmul' }), 'y');
    if (withGemm) b.output(b.op('Gemm', [a, weight('wg')], {}, { name: 'gemm' }), 'y2');
    return b.build();
  }
  for (const withGemm of [false, true]) {
    it(`int8 A read by ${withGemm ? 'a MatMul and a Gemm: the Gemm fuses, the MatMul stays float' : 'a MatMul alone: rewritten as uint8, the MatMul fuses'}`, async () => {
      const m = model(withGemm);
      const byName = new Map([...(await ortOptimized(m, `uint8-activation-${withGemm}`))].map((n) => [n.name, n.opType]));
      expect(byName.get('matmul') !== 'MatMul').toBe(!withGemm);
      expect(countedInteger(m, 'matmul')).toBe(!withGemm);
      if (withGemm) {
        expect(byName.get('gemm')).not.toBe('Gemm');
        expect(countedInteger(m, 'gemm')).toBe(true);
      }
    });
  }
});

describe('the int8 → uint8 rewrite against onnxruntime-node 1.30: only with equal constant int8 scalar zero points', () => {
  // A MatMul takes no int8 activation (above): it fuses only when onnxruntime rewrites the
  // activation's int8 Q → DQ pair as uint8, which it does only when both zero points are
  // constant int8 scalars of one value; the scales play no part.
  const cases = [
    { name: 'zero points 0 and 0, scales 0.02 and 0.03', qz: [0], dqz: [0], dqScale: 0.03, fused: true },
    { name: 'Q zero point 0, DQ zero point 5', qz: [0], dqz: [5], dqScale: 0.02, fused: false },
    { name: 'per-axis zero points (4 of them, all 0)', qz: [0, 0, 0, 0], dqz: [0, 0, 0, 0], dqScale: 0.02, fused: false },
  ];
  for (const c of cases) {
    it(`${c.name}: the MatMul ${c.fused ? 'fuses' : 'stays float'}`, async () => {
      const b = new GraphBuilder({ opset: 17 });
      const x = b.input('x', DataType.FLOAT, [2, 4]);
      const perAxis = c.qz.length > 1;
      const scale = (name: string, v: number): Value => b.constant(name, perAxis ? f32([4], () => v) : Tensor.fromArray(DataType.FLOAT, [], Float32Array.of(v)));
      const zp = (name: string, v: number[]): Value => b.constant(name, Tensor.fromArray(DataType.INT8, perAxis ? [4] : [], Int8Array.from(v)));
      const axis = perAxis ? { axis: 1 } : {};
      const q = b.op('QuantizeLinear', [x, scale('qs', 0.02), zp('qz', c.qz)], axis);
      const a = b.op('DequantizeLinear', [q, scale('dqs', c.dqScale), zp('dqz', c.dqz)], axis);
      const w = b.op('DequantizeLinear', [b.constant('w', Tensor.fromArray(DataType.INT8, [4, 4], Int8Array.from({ length: 16 }, (_, i) => (i % 7) - 3))), b.constant('ws', Tensor.fromArray(DataType.FLOAT, [], Float32Array.of(0.01))), b.constant('wz', Tensor.fromArray(DataType.INT8, [], Int8Array.of(0)))]);
      b.output(b.op('MatMul', [a, w], {}, { name: 'matmul' }), 'y');
      const m = b.build();
      const byName = new Map([...(await ortOptimized(m, `s8-to-u8-${c.dqz.join('-')}-${c.qz.length}-${c.dqScale}`))].map((n) => [n.name, n.opType]));
      expect(byName.get('matmul') !== 'MatMul', 'onnxruntime').toBe(c.fused);
      expect(countedInteger(m, 'matmul'), 'the analysis').toBe(c.fused);
    });
  }
});

/**
 * Softmax's `quantize` facet: quantizeQdq quantizes it (its own output scale, 'unary') with the
 * output fixed as onnxruntime's quantizer fixes it (QDQSoftmax: [0, 1) at 1/256, zero point 0
 * for uint8 and −128 for int8; 1/128 with 128 or 0 when symmetric) whatever the calibrated range
 * says, and onnxruntime fuses it into QLinearSoftmax. Before, an explicitly requested Softmax
 * passed 8-bit data through with its input's scale (a [−4, 4] scale for values in [0, 1]).
 */
describe("Softmax's quantize facet: the output fixed as onnxruntime's quantizer fixes it, fused by onnxruntime-node 1.30", () => {
  const cases = [
    ['uint8', false, 1 / 256, 0],
    ['int8', false, 1 / 256, -128],
    ['uint8', true, 1 / 128, 128],
    ['int8', true, 1 / 128, 0],
  ] as const;
  for (const [activationType, symmetricActivations, scale, zeroPoint] of cases) {
    it(`${activationType}${symmetricActivations ? ' symmetric' : ''}: scale ${scale}, zero point ${zeroPoint}; QLinearSoftmax`, async () => {
      const b = new GraphBuilder({ opset: 17 });
      const x = b.input('x', DataType.FLOAT, [1, 4, 8, 8]);
      const c = b.op('Conv', [x, b.constant('w', f32([4, 4, 3, 3], Math.sin))], { pads: [1, 1, 1, 1] }, { name: 'conv' });
      const s = b.op('Softmax', [c], { axis: 1 }, { name: 'op' });
      b.output(b.op('Conv', [s, b.constant('w2', f32([4, 4, 1, 1], (i) => Math.cos(i + 1)))], {}, { name: 'conv2' }), 'y');
      const m = b.build();
      // The default op types quantize it.
      const plan = planQdq(m, { activationType, symmetricActivations });
      expect(plan.nodes.map((p) => p.node.name)).toEqual(['conv', 'op', 'conv2']);
      expect(plan.nodes[1]!.sharesInput).toBe(false);
      quantizeQdq(m, { activationType, symmetricActivations, ranges: new Map(plan.tensors.map((t) => [t, { min: -4, max: 4 }])) });
      const q = [...m.graph].find((n) => n.name === 'op')!.outputs[0]!.uses[0]!.node;
      expect(q.opType).toBe('QuantizeLinear');
      expect(q.inputs[1]!.constValue!.toArray()[0]).toBe(scale);
      expect(Number(q.inputs[2]!.constValue!.toArray()[0])).toBe(zeroPoint);
      const ops = [...(await ortOptimized(m, `softmax-quantized-${activationType}-${symmetricActivations}`))].map((n) => n.opType);
      expect(ops).toContain('QLinearSoftmax');
      expect(ops).not.toContain('Softmax');
      expect(countedInteger(m, 'op')).toBe(true);
    });
  }
});

/**
 * A 'data' op's form (the as-executed roofline drops its DequantizeLinear and QuantizeLinear and
 * moves 8-bit values) against onnxruntime-node 1.30: the Q must repeat the DQ's scale and zero
 * point, of one 8-bit type as onnxruntime sees it, and for MaxPool (`ort.qdqPositiveScale`) the
 * scale must be positive.
 */
describe("the 'data' form's conditions against onnxruntime-node 1.30: equal scale and zero point, one type, a positive scale for MaxPool", () => {
  interface Case {
    readonly name: string;
    readonly op: 'Transpose' | 'MaxPool';
    readonly sOut?: number;
    readonly zOut?: number;
    readonly scale?: number;
    readonly int8?: true;
    /** The input's DequantizeLinear read by a second node too (its int8 pair then stays int8). */
    readonly inputReadTwice?: true;
    /** The output's DequantizeLinear read by two nodes (its int8 pair then stays int8). */
    readonly outputReadTwice?: true;
    /** The output pair declared uint8 (zero point `zOut`, default 128) beside an int8 input pair. */
    readonly outUint8?: true;
    readonly dropped: boolean;
  }
  function model(c: Case): Model {
    const b = new GraphBuilder({ opset: 17 });
    const x = b.input('x', DataType.FLOAT, [1, 4, 8]);
    const zp = (z: number): Tensor => (c.int8 ? Tensor.fromArray(DataType.INT8, [], Int8Array.of(z)) : Tensor.fromArray(DataType.UINT8, [], Uint8Array.of(z)));
    const s = b.constant('s', Tensor.fromArray(DataType.FLOAT, [], Float32Array.of(c.scale ?? 8 / 255)));
    const z = b.constant('z', zp(c.int8 ? 0 : 128));
    const dq = b.op('DequantizeLinear', [b.op('QuantizeLinear', [x, s, z], {}, { name: 'q_in' }), s, z], {}, { name: 'dq_in' });
    const y = b.op(c.op, [dq], c.op === 'MaxPool' ? { kernel_shape: [2] } : {}, { name: 'op' });
    const s2 = b.constant('s2', Tensor.fromArray(DataType.FLOAT, [], Float32Array.of(c.sOut ?? c.scale ?? 8 / 255)));
    const z2 = b.constant('z2', c.outUint8 ? Tensor.fromArray(DataType.UINT8, [], Uint8Array.of(c.zOut ?? 128)) : zp(c.zOut ?? (c.int8 ? 0 : 128)));
    const out = b.op('DequantizeLinear', [b.op('QuantizeLinear', [y, s2, z2], {}, { name: 'q_out' }), s2, z2], {}, { name: 'dq_out' });
    b.output(c.outputReadTwice ? b.op('Relu', [out]) : out, 'y');
    if (c.inputReadTwice) b.output(b.op('Neg', [dq]), 'y2');
    if (c.outputReadTwice) b.output(b.op('Neg', [out]), 'y3');
    return b.build();
  }
  const cases: Case[] = [
    { name: 'Transpose, the same scale and zero point', op: 'Transpose', dropped: true },
    { name: 'Transpose, another output scale and zero point', op: 'Transpose', sOut: 1 / 256, zOut: 0, dropped: false },
    { name: 'Transpose, the same negative scale', op: 'Transpose', scale: -8 / 255, dropped: true },
    { name: 'MaxPool, the same scale and zero point', op: 'MaxPool', dropped: true },
    { name: 'MaxPool, the same negative scale', op: 'MaxPool', scale: -8 / 255, dropped: false },
    { name: 'MaxPool, int8, every tensor read once (both pairs become uint8)', op: 'MaxPool', int8: true, dropped: true },
    { name: 'MaxPool, int8, its input read twice (int8 in, uint8 out)', op: 'MaxPool', int8: true, inputReadTwice: true, dropped: false },
    { name: 'MaxPool, int8, its output read twice (uint8 in, int8 out)', op: 'MaxPool', int8: true, outputReadTwice: true, dropped: false },
    { name: 'MaxPool, uint8, its output read twice', op: 'MaxPool', outputReadTwice: true, dropped: true },
    // Declared types mixed: the int8 input pair (zero point 0) becomes uint8 with zero point 128.
    { name: 'Transpose, int8 in (read once: uint8, zero point 128), uint8 out with zero point 128', op: 'Transpose', int8: true, outUint8: true, dropped: true },
    { name: 'Transpose, int8 in (read once: uint8, zero point 128), uint8 out with zero point 0', op: 'Transpose', int8: true, outUint8: true, zOut: 0, dropped: false },
  ];
  for (const c of cases) {
    it(`${c.name}: ${c.dropped ? 'moves 8-bit values' : 'keeps its DequantizeLinear and QuantizeLinear'}`, async () => {
      const m = model(c);
      const ops = [...(await ortOptimized(m, `data-${cases.indexOf(c)}`))].map((n) => n.opType);
      expect(ops).toContain(c.op);
      // Without the pair around the op, onnxruntime keeps the input Q and the output DQ only.
      expect(ops.filter((t) => t === 'QuantizeLinear' || t === 'DequantizeLinear').length).toBe((c.dropped ? 2 : 4) + (c.inputReadTwice ? 1 : 0) + (c.outputReadTwice ? 1 : 0));
      const layers = analyzeModel(m, { timeline: false }).layers;
      for (const name of ['dq_in', 'q_out']) expect({ name, host: layers.find((l) => l.name === name)!.fusedInto?.extended }).toEqual({ name, host: c.dropped ? 'op' : undefined });
    });
  }
});
