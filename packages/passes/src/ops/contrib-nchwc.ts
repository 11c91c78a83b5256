/**
 * onnxruntime's NCHWc layout (com.microsoft.nchwc), written by its NchwcTransformer at level
 * `all` on a CPU with AVX2 (block size 8) or AVX-512 (16): ReorderInput, ReorderOutput, Conv (a
 * float Conv, a BatchNormalization as a depthwise 1×1 Conv, with a fused activation and the
 * residual Add as its Sum input), MaxPool, AveragePool, GlobalMaxPool, GlobalAveragePool and
 * Upsample (a Resize), and between them the ONNX element-wise ops it runs on blocked tensors as
 * they are (Add, Sum, Mul, Relu, Sigmoid, Tanh; and what later fusions make of them, such as
 * com.microsoft QuickGelu).
 *
 * Measured with onnxruntime-node 1.30 (AVX-512, block 16; packages/runtime/test/nchwc-analysis.test.ts):
 * - A Conv's output channels are padded to the block: Conv(3→20) is stored [32, 3, 3, 3] with a
 *   [32] bias, the 12 extra filters and biases zero. Its input is read as it is (NCHW) when it has
 *   fewer channels than the block (group 1), else blocked and padded too: Conv(20→20) after it is
 *   stored [32, 32, 3, 3]. A depthwise Conv(20, group 20) is stored [32, 1, 3, 3] with group 32; a
 *   BatchNormalization on a blocked tensor of 20 channels becomes Conv [32, 1, 1, 1], group 32.
 * - ReorderInput reads an NCHW tensor whose channels are a multiple of 4 (not of the block: the
 *   20-channel input of Conv(20→24) is reordered and padded to 32); `channels_last` reads NHWC
 *   (the Transpose before it fused). ReorderOutput writes `channels` of them back.
 * - The pools are converted only when their input's channels are a multiple of the block (a
 *   MaxPool over 20 channels stays an ONNX MaxPool between ReorderOutput and ReorderInput):
 *   their channels are never padded. Upsample (nearest with asymmetric/floor, or linear) keeps its
 *   input's channels; its `scales` are integers.
 * - The element-wise ops, QuickGelu and the Conv's fused Sum and activation run over the padded
 *   channels of a blocked tensor.
 *
 * The analysis gives a blocked tensor the model's channel count (the count onnxruntime tracks,
 * its NchwcArgument's channels), so that every op on it — Conv, pool, element-wise — counts what
 * the original did, and its activations are the original's (the blocks' padding is not counted).
 * The count is not stored: a Conv's output has it when the graph says it (blockedChannels) — the
 * `channels` of a ReorderOutput downstream through ops that keep the channels, the input of a
 * depthwise Conv, the Sum input it shares its channels with, or a non-zero bias of the last
 * stored filter (onnxruntime's padding is zero, so that filter is the model's). Otherwise
 * (Conv(3→20) → Conv(20→20), whose blocked tensor between them only ever has 32 stored channels)
 * the channel dim is unknown (null): the MACs and FLOPs of the ops on it are null with the reason,
 * and the Conv's parameters are counted as stored, an upper bound, with a note on the layer and an
 * `nchwc-padded-params` warning on the report (parameters are never null in the report's schema).
 * A group-1 NCHWc Conv reading it says nothing: its weight pads the input channels too (a grouped
 * one does: groupedInputChannels). Nor does the file elsewhere: onnxruntime writes no value_info
 * for the blocked tensors.
 *
 * Not followed: with symbolic dims it cannot prove equal, onnxruntime adds two blocked tensors as
 * Reshapes to [N, C/B, H, W, B] (ONNX Reshape, Add, Reshape back to [N, C, H, W]); blockedChannels
 * does not walk through them, so the Convs before stay unknown (the Add's `-1` dim with them)
 * rather than counting the Add over the padded blocks. The roofline's bytes are the model's
 * channels', not the padded buffers onnxruntime moves. The Conv's shape rule reads the node's
 * readers, not only its inputs: an incremental re-inference (updateInference) after a rewrite
 * downstream of it keeps the count it found (a whole inference, as `analyze` runs, finds it again).
 */
import { AttributeType, DataType, type Dim, type Node, type Tensor, type Value } from '@onnxkit/graph';
import type { RuleContext, ShapeRule } from '../analysis/inference-types.js';
import { ATTR, attrs, withDefault } from './attributes.js';
import { type CostContext, type Factors, type PaddedChannels, resizeOps } from './cost.js';
import { FUSED_CONV_ATTRIBUTES, FUSED_CONV_COST } from './contrib-fused.js';
import { POOL_OPS } from './pool.js';
import { windowOut, windowParams } from './shape-helpers.js';
import { defineOp, type OpDef } from './types.js';

const NCHWC = 'com.microsoft.nchwc';

/** The com.microsoft.nchwc ops whose output 0 has their input 0's channels. */
const NCHWC_CHANNEL_KEEPING: ReadonlySet<string> = new Set(['MaxPool', 'AveragePool', 'GlobalMaxPool', 'GlobalAveragePool', 'Upsample']);
/** The ONNX ops NchwcTransformer runs on a blocked tensor as they are (element-wise: the channels kept). */
const ONNX_CHANNEL_KEEPING: ReadonlySet<string> = new Set(['Relu', 'LeakyRelu', 'Sigmoid', 'Tanh', 'HardSigmoid', 'Clip', 'Add', 'Sum', 'Mul']);
/** The com.microsoft ops onnxruntime's later fusions make of those (Mul(x, Sigmoid(x)) → QuickGelu). */
const MS_CHANNEL_KEEPING: ReadonlySet<string> = new Set(['QuickGelu']);

/** An NCHWc Conv's stored weight dims (its constant's, else its value's shape). */
function weightDims(node: Node): readonly Dim[] | null | undefined {
  const w = node.inputs[1];
  return w?.constValue?.dims ?? w?.shape;
}

/** A depthwise NCHWc Conv (its group the stored output channels, one input channel per filter): its output has its input's channels. */
function isDepthwise(node: Node): boolean {
  const wd = weightDims(node);
  const group = node.getInt('group', 1);
  return group > 1 && wd?.[1] === 1 && wd[0] === group;
}

/**
 * The input channels of a grouped, not depthwise, NCHWc Conv (its weight's per-group input
 * channels × group), or undefined. onnxruntime converts a grouped Conv only when its channels
 * per group are a multiple of the block (measured with onnxruntime-node 1.30, AVX-512: group 2
 * over 20, 24 or 40 channels stays a FusedConv behind a ReorderOutput; over 32, 48 with group 3
 * and 64 with group 4 it is an NCHWc Conv [c, 16, 3, 3]), so its input is not padded and this is
 * the count exactly. (A group-1 Conv's weight pads its input channels: it says nothing.)
 */
function groupedInputChannels(node: Node): number | undefined {
  const group = node.getInt('group', 1);
  if (group <= 1 || isDepthwise(node)) return undefined;
  const perGroup = weightDims(node)?.[1];
  return typeof perGroup === 'number' && perGroup > 0 ? perGroup * group : undefined;
}

/**
 * The model's channel count of the blocked tensor `v` as its readers say it: the `channels` of the
 * ReorderOutput that returns it to NCHW, through the ops that keep its channels (an NCHWc pool or
 * Upsample, an element-wise op, a depthwise Conv, the Conv that reads it as its Sum input, whose
 * output has the same channels), or a grouped Conv reading it (groupedInputChannels). Undefined
 * when no reader says. (A group-1 Conv that reads it as X says nothing: its weight's input
 * channels are padded too.)
 */
function blockedChannels(v: Value): number | undefined {
  // Breadth first, each value once, at most BLOCKED_WALK_VALUES of them: a recursion over uses
  // walked every path, 2^k of them through k chained Add(x, x) (a 40-deep chain ran for minutes).
  const seen = new Set<Value>([v]);
  const queue: Value[] = [v];
  for (let head = 0; head < queue.length; head++) {
    for (const use of queue[head]!.uses) {
      const u = use.node;
      let next: Value | null | undefined;
      if (u.domain === NCHWC) {
        if (u.opType === 'ReorderOutput') {
          const ch = u.getInt('channels', -1);
          if (ch > 0) return ch;
        } else if (u.opType === 'Conv') {
          if (use.index === 3 || (use.index === 0 && isDepthwise(u))) next = u.outputs[0];
          else if (use.index === 0) {
            const ch = groupedInputChannels(u);
            if (ch !== undefined) return ch;
          }
        } else if (NCHWC_CHANNEL_KEEPING.has(u.opType)) next = u.outputs[0];
      } else if (u.isOnnxDomain ? ONNX_CHANNEL_KEEPING.has(u.opType) : u.domain === 'com.microsoft' && MS_CHANNEL_KEEPING.has(u.opType)) next = u.outputs[0];
      if (next && !seen.has(next)) {
        if (seen.size >= BLOCKED_WALK_VALUES) return undefined;
        seen.add(next);
        queue.push(next);
      }
    }
  }
  return undefined;
}

/**
 * How many values blockedChannels visits from one Conv output before it gives up (the channel
 * count is then unknown: null with the reason). onnxruntime's blocked chains run from a Conv to
 * its ReorderOutput through a stage's residual adds (tens of values); the bound keeps a graph of
 * N such Convs with no ReorderOutput linear (N walks of at most this many values), not N².
 */
const BLOCKED_WALK_VALUES = 4096;

/** Whether the last of a float bias's `n` stored values is non-zero (undefined: not readable). */
function lastBiasNonZero(t: Tensor | null | undefined, n: number): boolean | undefined {
  if (!t || t.dtype !== DataType.FLOAT || t.dims.length !== 1 || t.dims[0] !== n) return undefined;
  try {
    const b = t.bytesAt(4 * (n - 1), 4);
    return new DataView(b.buffer, b.byteOffset, 4).getFloat32(0, true) !== 0;
  } catch {
    return undefined; // external data not at hand
  }
}

/**
 * The model's output channels of the NCHWc Conv `node` (stored `padded`): its input's when
 * depthwise (`inChannels`), its Sum input's (`sumChannels`), its readers' (blockedChannels), or
 * all of them when the last stored filter's bias is non-zero. Undefined when none says.
 */
function convChannels(node: Node, padded: number, inChannels: Dim | undefined, sumChannels: Dim | undefined): number | undefined {
  if (isDepthwise(node) && typeof inChannels === 'number') return inChannels;
  if (typeof sumChannels === 'number') return sumChannels;
  const out = node.outputs[0];
  const read = out ? blockedChannels(out) : undefined;
  if (read !== undefined) return read;
  return lastBiasNonZero(node.inputs[2]?.constValue, padded) === true ? padded : undefined;
}

/**
 * Why the model's output channels of an NCHWc Conv with `padded` stored are not known, with the
 * range they are in: `padded` is the count rounded up to the block, 16 or 8 (8 when `padded` is no
 * multiple of 16), so more than `padded` − block of them are the model's.
 */
const unknownChannels = (padded: Dim): string => {
  const range = typeof padded === 'number' && padded > 0 ? `, of which ${Math.max(1, padded - (padded % 16 === 0 ? 16 : 8) + 1)} to ${padded} are the model's` : '';
  return `the model's output channels are not recorded: onnxruntime pads them to its block size (${padded} stored${range}; the last filter's bias zero or absent) and no ReorderOutput, depthwise Conv or Sum input establishes them`;
};

/**
 * NCHWc Conv: the ONNX Conv's rule on the dims in NCHW order, with the model's output channels
 * (convChannels; null when not established) where the weight stores them padded. The input's
 * channels are the model's too (up to the weight's, padded, for group 1).
 */
const nchwcConvShape: ShapeRule = (c: RuleContext) => {
  // The channel count comes from the node's readers and its bias's values, which two Convs of
  // the same attributes and input facts need not share: no result given back to the next one.
  c.readsGraph();
  const xs = c.shape(0);
  const ws = c.shape(1);
  const type = c.dtype(0);
  if (!xs || xs.length !== 4 || !ws || ws.length !== 4) return c.out(0, type, null);
  const group = c.node.getInt('group', 1);
  const cin = xs[1]!;
  const wIn = ws[1]!;
  if (typeof cin === 'number' && typeof wIn === 'number') {
    if (isDepthwise(c.node) ? cin > wIn * group : group === 1 ? cin > wIn : cin !== wIn * group) c.mismatch(`input has ${cin} channels but the weight has ${wIn} × group ${group}`);
  }
  const padded = ws[0]!;
  let channels: Dim = null;
  if (typeof padded === 'number') {
    const real = convChannels(c.node, padded, cin, c.has(3) ? (c.shape(3)?.[1] ?? null) : undefined);
    if (real !== undefined && (real > padded || real <= 0)) c.mismatch(`output channels ${real} do not fit the ${padded} stored`);
    else if (real !== undefined) channels = real;
  }
  const kernel: Dim[] = c.node.getInts('kernel_shape') ?? ws.slice(2);
  const p = windowParams(c.node, 2, kernel);
  c.out(0, type, [xs[0]!, channels, windowOut(c, p, 0, 2, xs[2]!), windowOut(c, p, 1, 2, xs[3]!)]);
};

/**
 * NCHWc Conv MACs on the model's channels: output elements × input channels per filter × kernel.
 * Group 1 reads its input's channels (the weight stores them padded when the input is blocked);
 * a depthwise or grouped Conv its weight's (1, or a multiple of the block: not padded).
 */
const nchwcConvMacs = (c: CostContext): Factors => {
  const out = c.outputShapes[0];
  const w = c.inputShapes[1];
  if (!w || w.length !== 4) return { unknown: 'weight shape unknown' };
  if (!out) return { unknown: 'output shape unknown' };
  if (out[1] === null) return { unknown: unknownChannels(w[0]!) };
  const perFilter = c.node.getInt('group', 1) === 1 ? (c.inputShapes[0]?.[1] ?? null) : w[1]!;
  if (perFilter === null) return { unknown: "the model's input channels are not established (the input is blocked, padded to the block size)" };
  return [out[0]!, out[1]!, out[2]!, out[3]!, perFilter, w[2]!, w[3]!];
};

/**
 * The NCHWc Conv's stored channels against the model's, by which the analysis scales the
 * parameters it counts: its weight stores [out padded, in (padded when blocked), kh, kw], its
 * bias [out padded], the extra filters zero. `c`: the node's cost context (its inferred shapes
 * carry the model's channels).
 */
const nchwcChannels = (node: Node, c: CostContext): PaddedChannels => {
  const wd = weightDims(node);
  if (!wd || wd.length !== 4 || typeof wd[0] !== 'number' || typeof wd[1] !== 'number') return { unknown: 'weight shape unknown' };
  const out = c.outputShapes[0]?.[1];
  if (typeof out !== 'number') return { unknown: unknownChannels(wd[0]) };
  if (out > wd[0] || out <= 0) return { unknown: `output channels ${out} do not fit the ${wd[0]} stored` };
  if (node.getInt('group', 1) !== 1) return { out, outStored: wd[0], in: wd[1], inStored: wd[1] };
  const cin = c.inputShapes[0]?.[1];
  if (typeof cin !== 'number') return { unknown: "the model's input channels are not established (the input is blocked, padded to the block size)" };
  if (cin > wd[1] || cin <= 0) return { unknown: `input channels ${cin} do not fit the ${wd[1]} stored` };
  return { out, outStored: wd[0], in: cin, inStored: wd[1] };
};

/** ReorderInput: NCHW (or NHWC with `channels_last`) into the blocked layout, the dims in NCHW order: the model's channels. */
const reorderInputShape: ShapeRule = (c) => {
  const xs = c.shape(0);
  if (!xs || c.node.getInt('channels_last', 0) !== 1 || xs.length < 3) return c.out(0, c.dtype(0), xs);
  c.out(0, c.dtype(0), [xs[0]!, xs[xs.length - 1]!, ...xs.slice(1, -1)]);
};

/** ReorderOutput: back to NCHW (NHWC with `channels_last`) with `channels` channels, dropping the block padding. */
const reorderOutputShape: ShapeRule = (c) => {
  const xs = c.shape(0);
  const ch = c.node.getInt('channels', -1);
  if (!xs || xs.length < 3) return c.out(0, c.dtype(0), null);
  const channels: Dim = ch > 0 ? ch : null;
  if (typeof xs[1] === 'number' && ch > 0 && xs[1] !== ch) c.mismatch(`input has ${xs[1]} channels but 'channels' is ${ch}`);
  c.out(0, c.dtype(0), c.node.getInt('channels_last', 0) === 1 ? [xs[0]!, ...xs.slice(2), channels] : [xs[0]!, channels, ...xs.slice(2)]);
};

/** NCHWc Upsample: each dim times its integer `scale` (batch and channels 1: onnxruntime converts only spatial scaling). */
const upsampleShape: ShapeRule = (c) => {
  const xs = c.shape(0);
  const scales = c.node.getInts('scales');
  if (!xs || !scales || scales.length !== xs.length) return c.out(0, c.dtype(0), null);
  c.out(
    0,
    c.dtype(0),
    xs.map((d, i) => c.alg.mul(d, scales[i]!)),
  );
};

/** The ONNX op of `type` (pool.ts), whose attributes, shape rule and cost its NCHWc form keeps. */
const onnxPool = (type: string): OpDef => POOL_OPS.find((op) => op.type === type)!;
const pooled = (type: string): OpDef => {
  const op = onnxPool(type);
  // The ONNX pool's attributes, shape rule and cost on the blocked layout (dims as NCHW, the model's channels).
  return defineOp({ type, domain: NCHWC, attributes: op.attributes, shape: op.shape, cost: op.cost });
};

export const CONTRIB_NCHWC_OPS: readonly OpDef[] = [
  defineOp({
    type: 'ReorderInput',
    domain: NCHWC,
    attributes: attrs('channels_last'),
    shape: reorderInputShape,
    cost: {}, // data movement
  }),
  defineOp({
    type: 'ReorderOutput',
    domain: NCHWC,
    attributes: { channels: ATTR.channels, channels_last: withDefault(ATTR.channels_last, 0) },
    shape: reorderOutputShape,
    cost: {}, // data movement
  }),
  defineOp({
    type: 'Conv',
    domain: NCHWC,
    attributes: FUSED_CONV_ATTRIBUTES,
    shape: nchwcConvShape,
    // FusedConv's bias, Sum and activation per output element (of the model's channels), its MACs
    // on the model's channels, its weight and bias scaled to them (nchwcChannels).
    cost: { ...FUSED_CONV_COST, macs: nchwcConvMacs, paddedChannels: nchwcChannels },
  }),
  pooled('MaxPool'),
  pooled('AveragePool'),
  pooled('GlobalMaxPool'),
  pooled('GlobalAveragePool'),
  defineOp({
    type: 'Upsample',
    domain: NCHWC,
    // Integer scales (onnxruntime's NchwcUpsample), unlike the ONNX Upsample's floats.
    attributes: { scales: Object.freeze({ type: AttributeType.INTS }), mode: withDefault(ATTR.mode, 'nearest'), coordinate_transformation_mode: withDefault(ATTR.coordinate_transformation_mode, 'asymmetric') },
    shape: upsampleShape,
    // As the Resize it replaced: nearest 0, linear 2·2^r per output.
    cost: { ops: resizeOps, opsNote: 'as Resize' },
  }),
];
