/**
 * Net: the layer vocabulary the zoo builders share (Conv, BatchNormalization, ReLU, ReLU6,
 * pools, Flatten, Gemm, Add), emitted the way `torch.onnx.export` (torch 1.13) emits it: node
 * and initializer names are PyTorch module paths (`layer1.0.conv1`, `layer1.0.conv1.weight`),
 * attributes as PyTorch writes them, ReLU6 as Clip with Constant-node bounds. Initializers hold
 * only parameters and BatchNorm buffers; other constants are Constant nodes, as in an export.
 *
 * Initialisation (documented because tests and BN folding rely on it):
 * - Conv / Linear weights: He (Kaiming) uniform, U(±√(6/fan_in)), i.e. variance 2/fan_in;
 *   a classifier's last layer uses U(±√(3/fan_in)) (variance 1/fan_in) so logits are O(1).
 * - Biases: PyTorch's default, U(±1/√fan_in).
 * - BatchNorm: γ ~ U(0.5, 1.5), β ~ U(−0.25, 0.25); running mean/var calibrated to the
 *   statistics the layer sees for a standard-normal input (see stats.ts), then perturbed —
 *   mean by U(±0.25)·σ, variance by a factor U(0.5, 1.5) — so folding BN is a non-trivial
 *   rewrite that a wrong formula visibly breaks.
 */
import { Attribute, DataType, GraphBuilder, Tensor, type Model, type Value } from '@onnxkit/graph';
import { irVersionFor, type Resolved } from './options.js';
import {
  addStats,
  averagedStats,
  batchNormStats,
  clampStats,
  convStats,
  maxPoolStats,
  standardStats,
  type ChannelStats,
  type ClampOf,
} from './stats.js';
import { WeightFactory, uniform, uniformRange, type Fill } from './weights.js';

/** An activation: its value, per-sample dims (e.g. [C, H, W]) and statistics (null for zero weights). */
export interface Act {
  readonly value: Value;
  readonly dims: readonly number[];
  readonly stats: ChannelStats | null;
  /** Set when the activation is a ReLU/ReLU6 of a Gaussian (pooling statistics need it). */
  readonly clamp?: ClampOf;
}

export interface ConvSpec {
  out: number;
  kernel: number;
  stride?: number;
  pad?: number;
  groups?: number;
  bias?: boolean;
}

export const BN_EPSILON = 1e-5;

export class Net {
  readonly b: GraphBuilder;
  readonly w: WeightFactory;
  readonly o: Resolved;

  constructor(name: string, o: Resolved) {
    this.o = o;
    this.b = new GraphBuilder({ name, opset: o.opset });
    this.w = new WeightFactory(o.weights, o.seed, o.lazy);
  }

  /** The float image input [batch, ...dims], standard-normal statistics. */
  input(name: string, dims: readonly number[]): Act {
    const value = this.b.input(name, DataType.FLOAT, [this.o.batch, ...dims]);
    return { value, dims, stats: this.o.weights === 'random' ? standardStats(dims[0]!) : null };
  }

  output(x: Act, name: string): Value {
    return this.b.output(x.value, name, { kind: 'tensor', elemType: DataType.FLOAT, shape: [this.o.batch, ...x.dims] });
  }

  build(docString: string, metadata: Record<string, string>): Model {
    return this.b.build({
      irVersion: irVersionFor(this.o.opset),
      producerName: 'onnxkit-zoo',
      producerVersion: '0.1.0',
      docString,
      metadataProps: new Map(Object.entries({ ...metadata, seed: String(this.o.seed), weights: this.o.weights })),
    });
  }

  /** A parameter initializer named `name`. */
  param(name: string, dims: readonly number[], fill: Fill, keep = false): { value: Value; values: Float32Array | null } {
    const made = this.w.float(name, dims, fill, keep);
    return { value: this.b.constant(name, made.tensor), values: made.values };
  }

  /** A Constant node (PyTorch exports scalars and shapes this way). */
  constant(name: string, t: Tensor): Value {
    return this.b.op('Constant', [], { value: t }, { name });
  }

  conv(name: string, x: Act, s: ConvSpec): Act {
    const [cin, h, w] = x.dims as [number, number, number];
    const stride = s.stride ?? 1;
    const pad = s.pad ?? 0;
    const groups = s.groups ?? 1;
    const k = s.kernel;
    const fanIn = (cin / groups) * k * k;
    const keep = x.stats !== null;
    const weight = this.param(`${name}.weight`, [s.out, cin / groups, k, k], uniform(Math.sqrt(6 / fanIn)), keep);
    const bias = s.bias ? this.param(`${name}.bias`, [s.out], uniform(1 / Math.sqrt(fanIn)), keep) : null;
    const value = this.b.op('Conv', [x.value, weight.value, bias?.value], { dilations: [1, 1], group: groups, ...squareWindow(k, stride, pad) }, { name });
    const ho = pooledSize(h, k, stride, pad);
    const wo = pooledSize(w, k, stride, pad);
    const stats = x.stats && weight.values ? convStats(x.stats, weight.values, bias?.values ?? null, s.out, groups, k * k) : null;
    return { value, dims: [s.out, ho, wo], stats };
  }

  batchNorm(name: string, x: Act): Act {
    const c = x.dims[0]!;
    const st = x.stats;
    const gamma = this.param(`${name}.weight`, [c], uniformRange(0.5, 1.5), true);
    const beta = this.param(`${name}.bias`, [c], uniformRange(-0.25, 0.25), true);
    const runMean = this.param(`${name}.running_mean`, [c], (rng, out) => {
      for (let i = 0; i < c; i++) out[i] = st ? st.mean[i]! + (rng.nextFloat() - 0.5) * 0.5 * Math.sqrt(st.var[i]!) : 0;
    }, true);
    const runVar = this.param(`${name}.running_var`, [c], (rng, out) => {
      for (let i = 0; i < c; i++) out[i] = st ? st.var[i]! * (0.5 + rng.nextFloat()) : 1;
    }, true);
    const value = this.b.op('BatchNormalization', [x.value, gamma.value, beta.value, runMean.value, runVar.value], {
      epsilon: Attribute.float('epsilon', BN_EPSILON),
      momentum: Attribute.float('momentum', 0.9),
    }, { name });
    const stats = st && gamma.values && beta.values && runMean.values && runVar.values
      ? batchNormStats(st, gamma.values, beta.values, runMean.values, runVar.values, BN_EPSILON)
      : null;
    return { value, dims: x.dims, stats };
  }

  relu(name: string, x: Act): Act {
    const value = this.b.op('Relu', [x.value], {}, { name });
    if (!x.stats) return { value, dims: x.dims, stats: null };
    return { value, dims: x.dims, stats: clampStats(x.stats, 0, Infinity), clamp: { pre: x.stats, lo: 0, hi: Infinity } };
  }

  /** ReLU6 as PyTorch exports it: Clip(x, Constant 0, Constant 6). */
  relu6(name: string, x: Act): Act {
    const lo = this.constant(`${name}.Constant`, Tensor.scalar(DataType.FLOAT, 0));
    const hi = this.constant(`${name}.Constant_1`, Tensor.scalar(DataType.FLOAT, 6));
    const value = this.b.op('Clip', [x.value, lo, hi], {}, { name });
    if (!x.stats) return { value, dims: x.dims, stats: null };
    return { value, dims: x.dims, stats: clampStats(x.stats, 0, 6), clamp: { pre: x.stats, lo: 0, hi: 6 } };
  }

  maxPool(name: string, x: Act, kernel: number, stride: number, pad = 0): Act {
    const [c, h, w] = x.dims as [number, number, number];
    const value = this.b.op('MaxPool', [x.value], { ceil_mode: 0, ...squareWindow(kernel, stride, pad) }, { name });
    const ho = pooledSize(h, kernel, stride, pad);
    const wo = pooledSize(w, kernel, stride, pad);
    return { value, dims: [c, ho, wo], stats: x.stats && maxPoolStats(x.stats, kernel * kernel, x.clamp) };
  }

  /** AveragePool without padding (PyTorch's export of an adaptive pool whose sizes divide). */
  averagePool(name: string, x: Act, kernel: number, stride: number): Act {
    const [c, h, w] = x.dims as [number, number, number];
    const value = this.b.op('AveragePool', [x.value], { kernel_shape: [kernel, kernel], strides: [stride, stride] }, { name });
    const ho = pooledSize(h, kernel, stride, 0);
    const wo = pooledSize(w, kernel, stride, 0);
    return { value, dims: [c, ho, wo], stats: x.stats && (kernel === 1 ? x.stats : averagedStats(x.stats)) };
  }

  globalAveragePool(name: string, x: Act): Act {
    const value = this.b.op('GlobalAveragePool', [x.value], {}, { name });
    return { value, dims: [x.dims[0]!, 1, 1], stats: x.stats && averagedStats(x.stats) };
  }

  /** torch.flatten(x, 1): works for any batch size, symbolic included. */
  flatten(name: string, x: Act): Act {
    const value = this.b.op('Flatten', [x.value], { axis: 1 }, { name });
    const features = x.dims.reduce((a, d) => a * d, 1);
    return { value, dims: [features], stats: null };
  }

  /**
   * The classifier of torchvision's AlexNet and VGG: Flatten → Linear 4096 → ReLU → Linear 4096 →
   * ReLU → Linear `numClasses`, named `classifier.<i>` at the five given module indices (the
   * Dropout slots between them are absent at inference).
   */
  classifier(x: Act, numClasses: number, indices: readonly [number, number, number, number, number]): Act {
    const [fc1, relu1, fc2, relu2, fc3] = indices.map((i) => `classifier.${i}`) as [string, string, string, string, string];
    let y = this.flatten('Flatten', x);
    y = this.relu(relu1, this.linear(fc1, y, 4096));
    y = this.relu(relu2, this.linear(fc2, y, 4096));
    return this.linear(fc3, y, numClasses, { last: true });
  }

  /** nn.Linear as PyTorch exports it for a 2-D input: Gemm(x, W[out,in], b, transB=1). */
  linear(name: string, x: Act, out: number, options: { last?: boolean } = {}): Act {
    const fanIn = x.dims[0]!;
    const bound = options.last ? Math.sqrt(3 / fanIn) : Math.sqrt(6 / fanIn);
    const weight = this.param(`${name}.weight`, [out, fanIn], uniform(bound));
    const bias = this.param(`${name}.bias`, [out], uniform(1 / Math.sqrt(fanIn)));
    const value = this.b.op('Gemm', [x.value, weight.value, bias.value], {
      alpha: Attribute.float('alpha', 1),
      beta: Attribute.float('beta', 1),
      transB: 1,
    }, { name });
    return { value, dims: [out], stats: null };
  }

  add(name: string, a: Act, b: Act): Act {
    const value = this.b.op('Add', [a.value, b.value], {}, { name });
    return { value, dims: a.dims, stats: a.stats && b.stats && addStats(a.stats, b.stats) };
  }
}

/** kernel_shape, pads and strides of a square 2-D window (same on both axes, symmetric pads). */
function squareWindow(kernel: number, stride: number, pad: number): { kernel_shape: number[]; pads: number[]; strides: number[] } {
  return { kernel_shape: [kernel, kernel], pads: [pad, pad, pad, pad], strides: [stride, stride] };
}

/** Output size along one axis of a window of `kernel` (floor mode, no dilation). */
function pooledSize(n: number, kernel: number, stride: number, pad: number): number {
  return Math.floor((n + 2 * pad - kernel) / stride) + 1;
}
