/**
 * GridSample (opset 16; N-D and the linear/cubic names from opset 20): samples X at the
 * normalised positions of a flow field `grid`, as spatial transformers, deformable attention and
 * optical-flow warps do. The worked example of README "Adding an operator": everything the
 * toolkit knows about the op is declared here.
 *
 * - Shapes: X [N, C, d_1…d_r], grid [N, D_1…D_r, r] → Y [N, C, D_1…D_r], X's type.
 * - Cost: no MACs; per output element the interpolation's multiply-adds, as Resize counts them:
 *   nearest 0, linear 2·2^r, cubic 2·4^r.
 * - Reference (float64): the spec's formulas — grid value g ∈ [−1, 1] along an axis of size d is
 *   the position ((g + 1)/2)·(d − 1) with align_corners, ((g + 1)·d − 1)/2 without; nearest rounds
 *   half to even; positions outside the border clamp (`border`) or reflect (`reflection`), and a
 *   `zeros` read outside X is 0; linear weights are 1 − t and t, cubic are Keys' with a = −0.75.
 * - No float32 folding kernel: its grid is an activation in every real model, so there is
 *   nothing to fold, and ORT's float32 interpolation order is not reproduced bit for bit.
 * - Not float16-safe: ONNX Runtime's CPU kernel takes float32 (and float64) only.
 */
import type { Dim, Node } from '@onnxkit/graph';
import type { ShapeRule } from '../analysis/inference-types.js';
import { ATTR, withDefault } from './attributes.js';
import type { Count, CostContext } from './cost.js';
import { mergeDim } from './shape-helpers.js';
import { defineOp, type RefTensor, type ReferenceKernel } from './types.js';

const shape: ShapeRule = (c) => {
  const xs = c.shape(0);
  const gs = c.shape(1);
  const type = c.dtype(0);
  if (xs && gs && xs.length !== gs.length) {
    c.mismatch(`X has rank ${xs.length} but grid has rank ${gs.length}; they must be equal`);
    return c.out(0, type, null);
  }
  const rank = xs?.length ?? gs?.length;
  if (rank === undefined) return c.out(0, type, null);
  const last = gs?.[rank - 1];
  if (typeof last === 'number' && last !== rank - 2) c.mismatch(`grid's last dim is ${last}; it must be ${rank - 2}, the number of spatial axes`);
  const batch = mergeDim(c, xs?.[0] ?? null, gs?.[0] ?? null, 'batch of X and grid');
  const spatial: Dim[] = gs ? gs.slice(1, rank - 1) : new Array<Dim>(rank - 2).fill(null);
  c.out(0, type, [batch, xs?.[1] ?? null, ...spatial]);
};

type Interpolation = 'nearest' | 'linear' | 'cubic';

/** The interpolation mode under both spellings (bilinear/bicubic before opset 20). */
function interpolation(node: Node): Interpolation | undefined {
  const mode = node.getString('mode', 'bilinear');
  return mode === 'nearest' ? 'nearest' : mode === 'linear' || mode === 'bilinear' ? 'linear' : mode === 'cubic' || mode === 'bicubic' ? 'cubic' : undefined;
}

const ops = (c: CostContext): Count => {
  const mode = interpolation(c.node);
  const rank = c.outputShapes[0]?.length;
  if (mode === undefined) return { unknown: `mode '${c.node.getString('mode', '')}' is not an ONNX GridSample mode` };
  if (rank === undefined) return { unknown: 'output rank unknown' };
  const r = Math.max(0, rank - 2);
  return { perOutput: mode === 'nearest' ? 0 : mode === 'linear' ? 2 * 2 ** r : 2 * 4 ** r };
};

/** Reflects x into [lo, hi] by its near border until it lies inside. */
function reflect(x: number, lo: number, hi: number): number {
  const span = hi - lo;
  if (span <= 0) return lo;
  if (x >= lo && x <= hi) return x;
  const below = x < lo;
  const dist = below ? lo - x : x - hi;
  const flips = Math.floor(dist / span);
  const rest = dist - flips * span;
  return below === (flips % 2 === 0) ? lo + rest : hi - rest;
}

/** Keys' cubic convolution weights for the four neighbours −1, 0, 1, 2 at fraction t. */
function cubicWeights(t: number): number[] {
  const a = -0.75;
  const near = (x: number): number => ((a + 2) * x - (a + 3)) * x * x + 1;
  const far = (x: number): number => ((a * x - 5 * a) * x + 8 * a) * x - 4 * a;
  return [far(t + 1), near(t), near(1 - t), far(2 - t)];
}

const reference: ReferenceKernel = (node, inputs) => {
  const [x, grid] = inputs;
  if (!x || !grid || !(x.data instanceof Float64Array) || !(grid.data instanceof Float64Array)) throw new Error('GridSample reference: X and grid must be float tensors');
  const mode = interpolation(node);
  if (mode === undefined) throw new Error(`GridSample reference: mode '${node.getString('mode', '')}' is not an ONNX GridSample mode`);
  const padding = node.getString('padding_mode', 'zeros');
  const aligned = node.getInt('align_corners', 0) === 1;
  const [n, ch, ...dims] = x.dims as number[];
  const r = dims.length;
  const outDims = grid.dims.slice(1, -1);
  const outSize = outDims.reduce((a, b) => a * b, 1);
  const inSize = dims.reduce((a, b) => a * b, 1);
  const xs = x.data;
  const gs = grid.data;
  const lo = dims.map(() => (aligned ? 0 : -0.5));
  const hi = dims.map((d) => (aligned ? d - 1 : d - 0.5));
  const strides = dims.map((_, a) => dims.slice(a + 1).reduce((p, q) => p * q, 1));
  const y = new Float64Array(n! * ch! * outSize);
  /** X[b, c] at integer position idx, with the padding mode's rule for outside positions. */
  const pixel = (base: number, idx: readonly number[]): number => {
    let off = base;
    for (let a = 0; a < r; a++) {
      let i = idx[a]!;
      const d = dims[a]!;
      if (i < 0 || i >= d) {
        if (padding === 'zeros') return 0;
        i = padding === 'border' ? Math.min(d - 1, Math.max(0, i)) : Math.trunc(reflect(i, lo[a]!, hi[a]!));
      }
      off += i * strides[a]!;
    }
    return xs[off]!;
  };
  const pos = new Array<number>(r);
  for (let b = 0; b < n!; b++) {
    for (let o = 0; o < outSize; o++) {
      // grid's last axis lists coordinates innermost axis first (x = width, then y = height, …).
      for (let a = 0; a < r; a++) {
        const g = gs[(b * outSize + o) * r + (r - 1 - a)]!;
        const d = dims[a]!;
        let p = aligned ? ((g + 1) / 2) * (d - 1) : ((g + 1) * d - 1) / 2;
        if (mode === 'nearest') p = roundHalfEven(p);
        if (p < lo[a]! || p > hi[a]!) {
          if (padding === 'border') p = Math.min(d - 1, Math.max(0, p));
          else if (padding === 'reflection') p = reflect(p, lo[a]!, hi[a]!);
        }
        // Nearest reads the pixel the rounded position names (a reflected one may carry a .0 fraction).
        pos[a] = mode === 'nearest' ? Math.trunc(p) : p;
      }
      for (let c = 0; c < ch!; c++) {
        const base = (b * ch! + c) * inSize;
        y[(b * ch! + c) * outSize + o] = mode === 'nearest' ? pixel(base, pos) : interpolate(pixel, base, pos, mode === 'linear' ? 2 : 4);
      }
    }
  }
  const out: RefTensor = { dtype: x.dtype, dims: [n!, ch!, ...outDims], data: y };
  return [out];
};

/** Sum over the 2^r (linear) or 4^r (cubic) neighbours of the separable weights' products. */
function interpolate(pixel: (base: number, idx: readonly number[]) => number, base: number, pos: readonly number[], taps: 2 | 4): number {
  const r = pos.length;
  const first = pos.map((p) => Math.floor(p) - (taps === 4 ? 1 : 0));
  const weights = pos.map((p) => {
    const t = p - Math.floor(p);
    return taps === 2 ? [1 - t, t] : cubicWeights(t);
  });
  const idx = new Array<number>(r);
  let sum = 0;
  for (let k = 0; k < taps ** r; k++) {
    let w = 1;
    let rest = k;
    for (let a = r - 1; a >= 0; a--) {
      const j = rest % taps;
      rest = Math.floor(rest / taps);
      idx[a] = first[a]! + j;
      w *= weights[a]![j]!;
    }
    sum += w * pixel(base, idx);
  }
  return sum;
}

function roundHalfEven(v: number): number {
  const f = Math.floor(v);
  const diff = v - f;
  return diff > 0.5 || (diff === 0.5 && f % 2 !== 0) ? f + 1 : f;
}

export const GridSample = defineOp({
  type: 'GridSample',
  attributes: {
    align_corners: withDefault(ATTR.align_corners, 0),
    mode: withDefault(ATTR.mode, 'bilinear'),
    padding_mode: withDefault(ATTR.padding_mode, 'zeros'),
  },
  shape, // X [N, C, d…], grid [N, D…, r] → [N, C, D…]
  cost: { ops, opsNote: 'nearest 0, linear 2·2^r, cubic 2·4^r per output (r spatial axes), as Resize' },
  reference, // float64, the spec's interpolation and padding rules
  // no `kernel`: its grid is an activation, nothing to fold; no `fp16`: ORT's CPU kernel is float32-only
  ort: { float16: 'casts' }, // (ORT casts a float16 GridSample to float32 and back: why convert-fp16 keeps it float32)
});
