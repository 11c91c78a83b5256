/**
 * Test helpers for the zoo: classifying initializers by how the graph uses them and an
 * independent shape/MAC walker for the CNN op set.
 *
 * The walker and the classifier read only the graph (op types, attributes, initializer dims),
 * never the builders' internals, so they check the models rather than restate the code.
 */
import type { Model, Node, Value } from '@onnxkit/graph';

export interface ParamCounts {
  /** Conv/Gemm/MatMul weights and biases, BN/LN scale and shift, embeddings. */
  learnable: number;
  /** The lecture's convention: weights of Conv and Gemm only (bias ignored). */
  weightsOnly: number;
  /** BatchNormalization running mean and variance. */
  buffers: number;
  /** Initializers that fit none of the roles above (should be none). */
  unclassified: string[];
}

function role(v: Value): 'weight' | 'bias' | 'affine' | 'buffer' | 'embedding' | null {
  const roles = new Set<string>();
  for (const { node, index } of v.uses) {
    const op = node.opType;
    if ((op === 'Conv' || op === 'Gemm') && index === 1) roles.add('weight');
    else if ((op === 'Conv' || op === 'Gemm') && index === 2) roles.add('bias');
    else if (op === 'MatMul' && index === 1) roles.add('weight');
    else if (op === 'Add' && v.constValue!.rank === 1) roles.add('bias');
    else if (op === 'BatchNormalization' && (index === 1 || index === 2)) roles.add('affine');
    else if (op === 'BatchNormalization' && (index === 3 || index === 4)) roles.add('buffer');
    else if (op === 'LayerNormalization' && (index === 1 || index === 2)) roles.add('affine');
    else if (op === 'Mul' && v.constValue!.rank === 1) roles.add('affine');
    else if (op === 'Gather' && index === 0) roles.add('embedding');
    else roles.add(`?${op}:${index}`);
  }
  if (roles.size !== 1) return null;
  const r = [...roles][0]!;
  return r.startsWith('?') ? null : (r as 'weight');
}

export function countParams(m: Model): ParamCounts {
  const out: ParamCounts = { learnable: 0, weightsOnly: 0, buffers: 0, unclassified: [] };
  for (const v of m.graph.initializers.values()) {
    const n = v.constValue!.size;
    const r = role(v);
    if (r === null) out.unclassified.push(v.name);
    else if (r === 'buffer') out.buffers += n;
    else {
      out.learnable += n;
      if (r === 'weight' && v.uses.every((u) => u.node.opType === 'Conv' || u.node.opType === 'Gemm')) out.weightsOnly += n;
    }
  }
  return out;
}

export interface LayerRow {
  name: string;
  opType: string;
  /** Output dims without the batch dim. */
  dims: number[];
  /** Elements of the constant weight (Conv/Gemm input 1), bias ignored. */
  params: number;
  macs: number;
}

/**
 * Static shapes and MACs of a CNN at batch 1, from the ONNX op definitions (Conv output
 * ⌊(h + 2p − k)/s⌋ + 1, MACs = c_out·h_o·w_o·(c_in/g)·k_h·k_w; Gemm MACs = out·in).
 */
export function walkCnn(m: Model): LayerRow[] {
  const dims = new Map<Value, number[]>();
  const x = m.graph.inputs[0]!;
  dims.set(x, (x.shape ?? []).slice(1).map((d) => (typeof d === 'number' ? d : NaN)));
  const rows: LayerRow[] = [];
  const inDims = (n: Node, i = 0): number[] => {
    const d = dims.get(n.inputs[i]!);
    if (!d) throw new Error(`walker: no shape for input ${i} of ${n.describe()}`);
    return d;
  };
  const spatial = (h: number, k: number, s: number, p0: number, p1: number): number => Math.floor((h + p0 + p1 - k) / s) + 1;
  for (const n of m.graph) {
    let out: number[];
    let macs = 0;
    let params = 0;
    switch (n.opType) {
      case 'Constant':
        continue;
      case 'Conv': {
        const [c, h, w] = inDims(n);
        const wd = n.inputs[1]!.constValue!.dims;
        const [k0, k1] = n.getInts('kernel_shape')!;
        const [s0, s1] = n.getInts('strides', [1, 1]);
        const p = n.getInts('pads', [0, 0, 0, 0]);
        const g = n.getInt('group', 1);
        if (wd[1]! * g !== c) throw new Error(`walker: ${n.describe()} weight ${JSON.stringify(wd)} does not fit ${c} input channels, group ${g}`);
        out = [wd[0]!, spatial(h!, k0!, s0!, p[0]!, p[2]!), spatial(w!, k1!, s1!, p[1]!, p[3]!)];
        params = wd.reduce((a, b) => a * b, 1);
        macs = out[0]! * out[1]! * out[2]! * wd[1]! * k0! * k1!;
        break;
      }
      case 'MaxPool':
      case 'AveragePool': {
        const [c, h, w] = inDims(n);
        const [k0, k1] = n.getInts('kernel_shape')!;
        const [s0, s1] = n.getInts('strides', [1, 1]);
        const p = n.getInts('pads', [0, 0, 0, 0]);
        out = [c!, spatial(h!, k0!, s0!, p[0]!, p[2]!), spatial(w!, k1!, s1!, p[1]!, p[3]!)];
        break;
      }
      case 'GlobalAveragePool':
        out = [inDims(n)[0]!, 1, 1];
        break;
      case 'Relu':
      case 'Clip':
      case 'BatchNormalization':
        out = inDims(n);
        break;
      case 'Add': {
        const a = inDims(n, 0);
        const b = inDims(n, 1);
        if (a.join() !== b.join()) throw new Error(`walker: ${n.describe()} adds ${a} and ${b}`);
        out = a;
        break;
      }
      case 'Flatten':
        out = [inDims(n).reduce((a, b) => a * b, 1)];
        break;
      case 'Gemm': {
        const [features] = inDims(n);
        const wd = n.inputs[1]!.constValue!.dims;
        if (n.getInt('transB', 0) !== 1 || wd[1] !== features) throw new Error(`walker: ${n.describe()} weight ${JSON.stringify(wd)} vs ${features} features`);
        out = [wd[0]!];
        params = wd[0]! * wd[1]!;
        macs = wd[0]! * wd[1]!;
        break;
      }
      default:
        throw new Error(`walker: op ${n.opType} (${n.describe()}) is not in the CNN walker`);
    }
    dims.set(n.output, out);
    rows.push({ name: n.name, opType: n.opType, dims: out, params, macs });
  }
  return rows;
}

export const sum = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0);
