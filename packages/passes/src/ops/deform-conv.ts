/**
 * DeformConv (opset 19): deformable convolution (Dai et al. 2017, v2's mask: Zhu et al. 2019),
 * as torchvision's `deform_conv2d` — each kernel tap reads X at its regular position moved by a
 * learned offset, bilinearly sampled, optionally scaled by a mask.
 *
 * - Inputs: X [N, C, H, W], W [oC, C/group, kH, kW], offset [N, offset_group·2·kH·kW, oH, oW]
 *   ((Δh, Δw) per tap, tap-major), B [oC] optional, mask [N, offset_group·kH·kW, oH, oW] optional.
 * - Shapes: Conv's rule (conv.ts's convShape) fixed to 2-D: [N, oC, oH, oW], oH = ⌊(H + pads −
 *   dil·(kH − 1) − 1)/stride⌋ + 1, X's type; X or W of another rank is a mismatch, and with
 *   both shapes unknown the output is still rank 4 (the spec defines no other), its dims unknown.
 *   The reference takes its geometry (and the negative-size check) from Conv's (convGeometry).
 * - Reference (float64, 2-D, the only form the spec defines): tap (i, j) of output (y, x) reads
 *   X at (y·stride − pad + i·dil + Δh, x·stride − pad + j·dil + Δw); a point with h ≤ −1, h ≥ H,
 *   w ≤ −1 or w ≥ W reads 0, otherwise the bilinear mix of its four neighbours, those outside
 *   the map 0 (torchvision's rule, onnxruntime's too: test/ops/deform-conv.test.ts).
 * - Cost: Conv's MACs (output × C/group·kH·kW) plus the sampling, 4 MACs per sampled value (one
 *   per neighbour) — N·C·oH·oW·kH·kW samples, shared by the group's output channels; so
 *   MACs = N·oH·oW·kH·kW·C·(oC/group + 4). The bilinear weights' own arithmetic is not counted,
 *   and the mask is part of it: m·Σ w_i·x_i = Σ (m·w_i)·x_i scales the four weights, as STFT's
 *   window is folded into its DFT matrix (signal.ts). A MAC is a multiply-add (2 FLOPs, README's
 *   analysis convention), which the mask's lone multiply is not: it is no longer counted as one
 *   (it was, until round 15). The bias adds 1 per output.
 * - No kernel: offsets come from a convolution of the activations. Not float16-safe:
 *   onnxruntime 1.30 runs it in float32 between Casts (test/ops/added-ops-float16.test.ts).
 */
import { convGeometry } from '../kernels/reference/conv.js';
import { ReferenceInputError, ReferenceUnsupportedError } from '../kernels/reference/errors.js';
import { allocF64 } from '../kernels/reference/tensor.js';
import { ATTR, withDefault } from './attributes.js';
import { biasOps, type CostContext, type Factors } from './cost.js';
import { convShape } from './conv.js';
import { defineOp, type OpDef, type ReferenceKernel } from './types.js';

const macs = (c: CostContext): Factors => {
  const xs = c.inputShapes[0];
  const ws = c.inputShapes[1];
  const out = c.outputShapes[0];
  if (!xs || !ws || !out || out.length !== 4 || ws.length !== 4) return { unknown: 'input, weight or output shape unknown' };
  const oc = ws[0];
  const group = c.node.getInt('group', 1);
  if (typeof oc !== 'number' || oc % group !== 0) return { unknown: 'output channels per group unknown' };
  return [out[0]!, out[2]!, out[3]!, ws[2]!, ws[3]!, xs[1]!, oc / group + 4];
};

/** X[base + h·W + w] bilinearly at (h, w), torchvision's rule (0 outside). */
function sample(x: Float64Array, base: number, height: number, width: number, h: number, w: number): number {
  if (h <= -1 || h >= height || w <= -1 || w >= width) return 0;
  const h0 = Math.floor(h);
  const w0 = Math.floor(w);
  const lh = h - h0;
  const lw = w - w0;
  const at = (i: number, j: number): number => (i >= 0 && i < height && j >= 0 && j < width ? x[base + i * width + j]! : 0);
  return (1 - lh) * (1 - lw) * at(h0, w0) + (1 - lh) * lw * at(h0, w0 + 1) + lh * (1 - lw) * at(h0 + 1, w0) + lh * lw * at(h0 + 1, w0 + 1);
}

const reference: ReferenceKernel = (node, inputs) => {
  const [x, wt, off, bias, mask] = inputs;
  if (!x || !wt || !off || !(x.data instanceof Float64Array) || !(wt.data instanceof Float64Array) || !(off.data instanceof Float64Array)) throw new ReferenceInputError(node, 'X, W and offset must be float tensors');
  if (x.dims.length !== 4 || wt.dims.length !== 4) throw new ReferenceUnsupportedError(node, 'only the 2-D form is covered');
  const [n, ch, height, width] = x.dims as [number, number, number, number];
  const [oc, cpg, kh, kw] = wt.dims as [number, number, number, number];
  const group = node.getInt('group', 1);
  const og = node.getInt('offset_group', 1);
  const geometry = convGeometry(node, [height, width], [kh, kw]);
  if (geometry.kernel[0] !== kh || geometry.kernel[1] !== kw) throw new ReferenceInputError(node, `kernel_shape [${geometry.kernel.join(',')}] is not W's [${kh},${kw}]`);
  const [oh, ow] = geometry.outSpatial as [number, number];
  const [sh, sw] = geometry.strides as [number, number];
  const [dh, dw] = geometry.dilations as [number, number];
  const [pt, pl] = geometry.padBegin as [number, number];
  const taps = kh * kw;
  if (cpg * group !== ch || oc % group !== 0 || ch % og !== 0) throw new ReferenceInputError(node, `channels ${ch}, weight [${wt.dims.join(',')}], group ${group} and offset_group ${og} do not fit`);
  if (off.dims.join(',') !== [n, og * 2 * taps, oh, ow].join(',')) throw new ReferenceInputError(node, `offset is [${off.dims.join(',')}], expected [${n},${og * 2 * taps},${oh},${ow}]`);
  if (mask && mask.dims.join(',') !== [n, og * taps, oh, ow].join(',')) throw new ReferenceInputError(node, `mask is [${mask.dims.join(',')}], expected [${n},${og * taps},${oh},${ow}]`);
  const xs = x.data;
  const ws = wt.data;
  const os = off.data;
  const ms = mask ? (mask.data as Float64Array) : undefined;
  const bs = bias ? (bias.data as Float64Array) : undefined;
  const plane = oh * ow;
  // The deformed samples of every input channel: cols[c][tap][position].
  const cols = allocF64(ch * taps * plane);
  const y = allocF64(n * oc * plane);
  const ocpg = oc / group;
  for (let b = 0; b < n; b++) {
    for (let c = 0; c < ch; c++) {
      const g = Math.floor(c / (ch / og));
      for (let i = 0; i < kh; i++) {
        for (let j = 0; j < kw; j++) {
          const t = i * kw + j;
          for (let py = 0; py < oh; py++) {
            for (let px = 0; px < ow; px++) {
              const q = py * ow + px;
              const dy = os[((b * og + g) * 2 * taps + 2 * t) * plane + q]!;
              const dx = os[((b * og + g) * 2 * taps + 2 * t + 1) * plane + q]!;
              const m = ms ? ms[((b * og + g) * taps + t) * plane + q]! : 1;
              cols[(c * taps + t) * plane + q] = m * sample(xs, (b * ch + c) * height * width, height, width, py * sh - pt + i * dh + dy, px * sw - pl + j * dw + dx);
            }
          }
        }
      }
    }
    for (let o = 0; o < oc; o++) {
      const g = Math.floor(o / ocpg);
      for (let q = 0; q < plane; q++) {
        let acc = bs ? bs[o]! : 0;
        for (let ci = 0; ci < cpg; ci++) {
          const c = g * cpg + ci;
          for (let t = 0; t < taps; t++) acc += ws[(o * cpg + ci) * taps + t]! * cols[(c * taps + t) * plane + q]!;
        }
        y[(b * oc + o) * plane + q] = acc;
      }
    }
  }
  return [{ dtype: x.dtype, dims: [n, oc, oh, ow], data: y }];
};

export const DeformConv: OpDef = defineOp({
  type: 'DeformConv',
  attributes: {
    dilations: ATTR.dilations,
    group: withDefault(ATTR.group, 1),
    kernel_shape: ATTR.kernel_shape,
    offset_group: withDefault(ATTR.offset_group, 1),
    pads: ATTR.pads,
    strides: ATTR.strides,
  },
  shape: convShape(0, 1, { spatial: 2 }),
  cost: { weights: [1], biases: [3], macs, ops: biasOps(3), opsNote: 'MACs: Conv\'s plus 4 per bilinear sample, N·C·oH·oW·kH·kW samples (a mask scales the bilinear weights, not counted with them: no MAC); 1 per output for the bias' },
  reference,
});
