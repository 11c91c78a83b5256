/**
 * The cost analysis gives a cost entry's last MACs and work back for the next layer its functions
 * would read the same for (CostWalk's per-entry memo): layers in a row of one op with one thing
 * changed — a weight's dims, an attribute, an omitted input, an input or output shape, a symbolic
 * dim, an unknown dim — must each get their own MACs, FLOPs and reasons, as if analysed alone.
 */
import { describe, expect, it } from 'vitest';
import { Attribute, DataType, GraphBuilder, Tensor, type Model } from '@onnxkit/graph';
import { analyzeModel, analyzeTotals } from '../../src/analysis/index.js';

const F = DataType.FLOAT;

function weight(b: GraphBuilder, name: string, dims: number[]) {
  return b.constant(name, Tensor.fromArray(F, dims, new Float32Array(dims.reduce((a, c) => a * c, 1))));
}

/** Each layer's opType, MACs, FLOPs (or their expressions) and unknown reasons, in order. */
function layers(m: Model) {
  // (the reasons of the work alone: the roofline's 'latency: …' comes from elsewhere)
  return analyzeModel(m).layers.map((l) => {
    const unknown = l.unknown?.filter((u) => !u.startsWith('latency:'));
    return { op: l.opType, macs: l.macsExpr ?? l.macs, flops: l.flopsExpr ?? l.flops, ...(unknown?.length ? { unknown } : {}) };
  });
}

describe('cost of repeated layers (the per-entry memo)', () => {
  it('tells each layer’s attributes, input shapes, present inputs and output shapes apart from the last one’s', () => {
    const b = new GraphBuilder({ name: 'keys' });
    const x = b.input('x', F, [2, 16]);
    const x2 = b.input('x2', F, [2, 32]);
    const u = b.input('u', F, [null, 3]);
    const c = b.input('c', F, null);
    const bias = weight(b, 'bias', [4]);
    // attributes: the same inputs, alpha given or not
    b.output(b.op('Gemm', [x, weight(b, 'g1', [16, 4]), bias]));
    b.output(b.op('Gemm', [x, weight(b, 'g2', [16, 4]), bias], { alpha: Attribute.float('alpha', 2.5) }));
    // input shapes: the same output shape, another inner dim
    b.output(b.op('MatMul', [x, weight(b, 'm1', [16, 8])]));
    b.output(b.op('MatMul', [x2, weight(b, 'm2', [32, 8])]));
    // output shapes: a declared output fills in the unknown batch of one Relu, not of the next
    b.output(b.op('Relu', [u]), 'r_declared', { kind: 'tensor', elemType: F, shape: [7, 3] });
    b.output(b.op('Relu', [u]));
    b.output(b.op('Relu', [u]));
    const m = b.build();
    // present inputs: a bias of unknown shape, then none (both read as a null shape)
    const g = m.graph;
    const w3 = g.valuesByName().get('g1')!;
    const withBias = b.node('Gemm', [x, w3, c]);
    b.output(withBias.outputs[0]!);
    const noBias = b.node('Gemm', [x, w3]);
    noBias.setInput(2, null);
    b.output(noBias.outputs[0]!);
    expect(layers(m)).toEqual([
      { op: 'Gemm', macs: 128, flops: 264 },
      { op: 'Gemm', macs: 128, flops: 272 },
      { op: 'MatMul', macs: 256, flops: 512 },
      { op: 'MatMul', macs: 512, flops: 1024 },
      { op: 'Relu', macs: 0, flops: 21 },
      { op: 'Relu', macs: 0, flops: null, unknown: ['element-wise ops: output shape unknown'] },
      { op: 'Relu', macs: 0, flops: null, unknown: ['element-wise ops: output shape unknown'] },
      { op: 'Gemm', macs: 128, flops: 264 },
      { op: 'Gemm', macs: 128, flops: 256 },
    ]);
  });

  it('counts each MatMul and Gemm by its own weight dims, attributes and bias', () => {
    const b = new GraphBuilder({ name: 'linear' });
    const x = b.input('x', F, [2, 16]);
    b.output(b.op('MatMul', [x, weight(b, 'w1', [16, 8])]));
    b.output(b.op('MatMul', [x, weight(b, 'w2', [16, 8])]));
    b.output(b.op('MatMul', [x, weight(b, 'w3', [16, 4])]));
    const bias = weight(b, 'bias', [4]);
    b.output(b.op('Gemm', [x, weight(b, 'g1', [16, 4]), bias]));
    b.output(b.op('Gemm', [x, weight(b, 'g2', [16, 4])]));
    b.output(b.op('Gemm', [x, weight(b, 'g3', [16, 4]), bias], { alpha: Attribute.float('alpha', 2.5) }));
    b.output(b.op('Gemm', [x, weight(b, 'g4', [4, 16]), bias], { transB: 1 }));
    const m = b.build();
    expect(layers(m)).toEqual([
      { op: 'MatMul', macs: 256, flops: 512 },
      { op: 'MatMul', macs: 256, flops: 512 },
      { op: 'MatMul', macs: 128, flops: 256 },
      { op: 'Gemm', macs: 128, flops: 264 },
      { op: 'Gemm', macs: 128, flops: 256 },
      { op: 'Gemm', macs: 128, flops: 272 },
      { op: 'Gemm', macs: 128, flops: 264 },
    ]);
    expect(analyzeTotals(m).totals).toMatchObject({ macs: 1152, flops: 2336, unknownLayers: 0 });
  });

  it('counts each element-wise layer by its own output shape, symbolic dims and unknown dims', () => {
    const b = new GraphBuilder({ name: 'elementwise' });
    const inputs = [b.input('a', F, [2, 3]), b.input('c', F, [4, 5]), b.input('n', F, ['N', 3]), b.input('m', F, ['M', 3]), b.input('u', F, [null, 3])];
    for (const v of inputs) b.output(b.op('Relu', [v]));
    const m = b.build();
    const got = layers(m);
    expect(got.map((l) => l.flops)).toEqual([6, 20, '3*N', '3*M', null]);
    expect(got[4]!.unknown).toEqual(['element-wise ops: output shape unknown']);
    expect(got.slice(0, 4).every((l) => l.unknown === undefined)).toBe(true);
    expect(analyzeTotals(m).totals).toMatchObject({ flops: null, unknownLayers: 1 });
  });
  it('reads a dim a model wrote as an expression ("2*N") as the analysis reads it at each layer, also after it printed that expression itself', () => {
    // Hardmax's cost computes 2·N and prints it "2*N": from then on the input dim "2*N" reads as
    // 2·N, not as one opaque symbol. Sigmoid B must not get Sigmoid A's work back.
    const b = new GraphBuilder({ name: 'printed' });
    const x = b.input('x', F, ['2*N']);
    const y = b.input('y', F, ['N']);
    b.output(b.op('Sigmoid', [x], {}, { name: 'A', outputs: ['a'] }));
    b.output(b.op('Hardmax', [y], {}, { name: 'C', outputs: ['c'] }));
    b.output(b.op('Sigmoid', [x], {}, { name: 'B', outputs: ['bb'] }));
    const [a, , bb] = layers(b.build());
    expect(a!.flops).toBe('4*(2*N)');
    expect(bb!.flops).toBe('8*N');
  });
});
