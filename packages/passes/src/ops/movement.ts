/**
 * Data movement: Transpose, Concat, Split, Slice, Gather*, Expand, Tile, Pad, DepthToSpace, …
 */
import type { Dim, Node } from '@onnxkit/graph';
import type { RuleContext, ShapeRule } from '../analysis/inference-types.js';
import { concatKernel, expandKernel, gatherKernel, sliceAxis, sliceKernel, tileKernel, transposeKernel } from '../kernels/shape-ops.js';
import { ATTR, attrs, withDefault } from './attributes.js';
import { normAxis } from './axes.js';
import type { OpCost } from './cost.js';
import { firstTypeOf, intsAttr, mergeDim, same } from './shape-helpers.js';
import { type AttributeSchema, defineOp, FP16_ALL, type Fp16Facet, type OpDef, type OpDefInput, type OrtFloat16, sameAt13WithoutAttribute } from './types.js';
import { gatherNDRef, scatterElementsRef, scatterNDRef, triluRef } from '../kernels/reference/misc.js';
import { concatRef, depthToSpaceRef, expandRef, gatherElementsRef, gatherRef, padRef, sliceRef, spaceToDepthRef, splitRef, tileRef, transposeRef } from '../kernels/reference/shape.js';

const transpose: ShapeRule = (c) => {
  const xs = c.shape(0);
  if (!xs) return c.out(0, c.dtype(0), null);
  const r = xs.length;
  const perm = intsAttr(c, 'perm') ?? Array.from({ length: r }, (_, i) => r - 1 - i);
  if (perm.length !== r) {
    c.mismatch(`perm has ${perm.length} entries for rank ${r}`);
    return c.out(0, c.dtype(0), new Array<Dim>(r).fill(null));
  }
  c.out(0, c.dtype(0), perm.map((p) => xs[normAxis(p, r) ?? -1] ?? null));
};

const concat: ShapeRule = (c) => {
  const present = Array.from({ length: c.inputCount }, (_, i) => i).filter((i) => c.has(i));
  const shapes = present.map((i) => c.shape(i));
  const type = firstTypeOf(c, present);
  const known = shapes.find((s) => s !== null);
  if (!known) return c.out(0, type, null);
  const r = known.length;
  const axis = normAxis(c.node.getInt('axis', 0), r);
  if (axis === undefined) {
    c.mismatch(`axis ${c.node.getInt('axis', 0)} is out of range for rank ${r}`);
    return c.out(0, type, null);
  }
  const out: Dim[] = [];
  for (let i = 0; i < r; i++) {
    if (i === axis) {
      let sum: Dim = 0;
      for (const s of shapes) sum = s ? c.alg.add(sum, s[i] ?? null) : null;
      out.push(sum);
    } else {
      let d: Dim = null;
      for (const s of shapes) {
        if (s && s.length !== r) {
          c.mismatch(`inputs have ranks ${r} and ${s.length}`);
          return c.out(0, type, null);
        }
        if (s) d = mergeDim(c, d, s[i]!, `Concat inputs differ on axis ${i}`);
      }
      out.push(d);
    }
  }
  c.out(0, type, out);
  if (r === 1) {
    const parts = present.map((i) => c.ints(i));
    if (parts.every((p) => p !== undefined)) c.partial(0, parts.flatMap((p) => [...p!]));
  }
};

const split: ShapeRule = (c) => {
  const xs = c.shape(0);
  const n = c.node.outputs.length;
  const type = c.dtype(0);
  if (!xs) {
    for (let i = 0; i < n; i++) c.out(i, type, null);
    return;
  }
  const axis = normAxis(c.node.getInt('axis', 0), xs.length);
  if (axis === undefined) {
    c.mismatch(`axis ${c.node.getInt('axis', 0)} is out of range for rank ${xs.length}`);
    for (let i = 0; i < n; i++) c.out(i, type, xs.map(() => null));
    return;
  }
  const dim = xs[axis]!;
  let sizes: Dim[] | undefined;
  if (c.opset < 13) sizes = intsAttr(c, 'split');
  else if (c.has(1)) {
    const s = c.ints(1);
    if (s === undefined) c.unresolved('the split sizes are not constant');
    sizes = s ? [...s] : new Array<Dim>(n).fill(null);
  }
  if (!sizes) {
    const parts = c.opset >= 18 ? c.node.getInt('num_outputs', n) : n;
    if (typeof dim === 'number') {
      const chunk = c.opset >= 18 ? Math.ceil(dim / parts) : dim / parts;
      if (!Number.isInteger(chunk)) c.mismatch(`axis of size ${dim} does not split into ${parts} equal parts`);
      sizes = Array.from({ length: n }, (_, i) => (Number.isInteger(chunk) ? (i < n - 1 ? chunk : dim - chunk * (n - 1)) : null));
    } else {
      const chunk = c.alg.divExact(dim, parts);
      sizes = new Array<Dim>(n).fill(chunk);
    }
  }
  if (sizes.length !== n) c.mismatch(`${sizes.length} split sizes for ${n} outputs`);
  for (let i = 0; i < n; i++) {
    const o = [...xs];
    o[axis] = sizes[i] ?? null;
    c.out(i, type, o);
  }
  // A shape vector split into its parts (onnxruntime's GatherSliceToSplitFusion writes
  // Shape → Split → Squeeze for PyTorch's Shape → Gather chains): each part's known contents.
  if (xs.length === 1) {
    const p = c.ints(0);
    if (p === undefined) return;
    let at = 0;
    for (let i = 0; i < n; i++) {
      const len = sizes[i];
      if (typeof len !== 'number') return;
      c.partial(i, p.slice(at, at + len));
      at += len;
    }
  }
};

/** Resolved slice of one axis on possibly symbolic extents. */
function sliceDim(c: RuleContext, dim: Dim, start: Dim, end: Dim, step: Dim): { count: Dim; start: number | undefined } {
  if (step === 0 || start === null || end === null || step === null || typeof step === 'string') return { count: null, start: undefined };
  if (typeof dim === 'number' && typeof start === 'number' && typeof end === 'number') return sliceAxis(dim, start, end, step);
  if (step !== 1 || dim === null) return { count: null, start: undefined };
  const BIG = 2 ** 31;
  // Symbolic extent: the common cases x[s:], x[:S] and x[s:S] (assuming s ≤ dim).
  const endIsAll = (typeof end === 'number' && end >= BIG) || end === dim;
  if (typeof start === 'number' && start >= 0 && endIsAll) return { count: c.alg.sub(dim, start), start };
  if (start === 0 && typeof end === 'string') return { count: end, start: 0 };
  return { count: null, start: undefined };
}

const slice: ShapeRule = (c) => {
  const xs = c.shape(0);
  const type = c.dtype(0);
  let starts: readonly Dim[] | undefined;
  let ends: readonly Dim[] | undefined;
  let axes: readonly Dim[] | undefined;
  let steps: readonly Dim[] | undefined;
  if (c.opset < 10) {
    starts = intsAttr(c, 'starts');
    ends = intsAttr(c, 'ends');
    axes = intsAttr(c, 'axes');
  } else {
    starts = c.ints(1);
    ends = c.ints(2);
    axes = c.has(3) ? c.ints(3) : undefined;
    steps = c.has(4) ? c.ints(4) : undefined;
    if ((c.has(3) && !axes) || (c.has(4) && !steps)) starts = undefined;
  }
  if (!xs) return c.out(0, type, null);
  const r = xs.length;
  if (!starts || !ends) {
    c.unresolved('the slice bounds are not constant');
    const out = xs.map(() => null as Dim);
    if (axes && axes.every((a) => typeof a === 'number')) {
      for (let i = 0; i < r; i++) if (!axes.some((a) => normAxis(a as number, r) === i)) out[i] = xs[i]!;
    }
    return c.out(0, type, out);
  }
  const out: Dim[] = [...xs];
  const plan: { axis: number; start: number | undefined; step: Dim }[] = [];
  for (let k = 0; k < starts.length; k++) {
    const a = axes ? axes[k] : k;
    const axis = typeof a === 'number' ? normAxis(a, r) : undefined;
    if (axis === undefined) {
      c.mismatch(`slice axis ${a} is out of range for rank ${r}`);
      return c.out(0, type, xs.map(() => null));
    }
    const step = steps ? (steps[k] ?? null) : 1;
    const res = sliceDim(c, xs[axis]!, starts[k] ?? null, ends[k] ?? null, step);
    out[axis] = res.count;
    plan.push({ axis, start: res.start, step });
  }
  c.out(0, type, out);
  const p = c.ints(0);
  // Partial values describe every element of the 1-D input (p.length = its dim), which bounds the loop.
  if (p && r === 1 && xs[0] === p.length && plan.length === 1 && typeof out[0] === 'number' && plan[0]!.start !== undefined && typeof plan[0]!.step === 'number') {
    const vals: Dim[] = [];
    for (let i = 0; i < out[0]; i++) vals.push(p[plan[0]!.start + i * plan[0]!.step] ?? null);
    c.partial(0, vals);
  }
};

const gather: ShapeRule = (c) => {
  const xs = c.shape(0);
  const is = c.shape(1);
  const type = c.dtype(0);
  if (!xs || !is) return c.out(0, type, null);
  const axis = normAxis(c.node.getInt('axis', 0), xs.length);
  if (axis === undefined) {
    c.mismatch(`axis ${c.node.getInt('axis', 0)} is out of range for rank ${xs.length}`);
    return c.out(0, type, null);
  }
  c.out(0, type, [...xs.slice(0, axis), ...is, ...xs.slice(axis + 1)]);
  const p = c.ints(0);
  const idx = c.exactInts(1);
  if (p && idx && xs.length === 1 && is.length <= 1) {
    c.partial(0, idx.map((i) => p[i < 0 ? i + p.length : i] ?? null));
  }
};

const gatherElements: ShapeRule = (c) => c.out(0, c.dtype(0), c.shape(1));

const gatherND: ShapeRule = (c) => {
  const xs = c.shape(0);
  const is = c.shape(1);
  const b = c.node.getInt('batch_dims', 0);
  const last = is?.[is.length - 1];
  if (!xs || !is || typeof last !== 'number') return c.out(0, c.dtype(0), null);
  c.out(0, c.dtype(0), [...is.slice(0, -1), ...xs.slice(b + last)]);
};

/** Expand: two-way broadcast where a target dim of 1 keeps the input dim. */
const expand: ShapeRule = (c) => {
  const xs = c.shape(0);
  const target = c.ints(1);
  const type = c.dtype(0);
  if (!target) {
    c.unresolved('the target shape is not a constant');
    const n = c.shape(1)?.[0];
    return c.out(0, type, xs && typeof n === 'number' ? c.unknownDims(Math.max(n, xs.length)) : null);
  }
  if (!xs) return c.out(0, type, null);
  const r = Math.max(xs.length, target.length);
  const out: Dim[] = [];
  for (let i = 0; i < r; i++) {
    const d = xs[i - (r - xs.length)] ?? 1;
    const t = target[i - (r - target.length)] ?? 1;
    if (t === 1) out.push(d);
    else if (d === 1 || d === t) out.push(t);
    else if (typeof t === 'number' && typeof d === 'number') {
      c.mismatch(`input dim ${d} cannot expand to ${t}`);
      out.push(null);
    } else if (typeof t === 'number') out.push(t);
    else if (typeof d === 'number') out.push(d);
    else out.push(null);
  }
  c.out(0, type, out);
};

const tile: ShapeRule = (c) => {
  const xs = c.shape(0);
  const reps = c.ints(1);
  if (!xs) return c.out(0, c.dtype(0), null);
  if (!reps) {
    c.unresolved('the repeats are not constant');
    return c.out(0, c.dtype(0), xs.map(() => null));
  }
  if (reps.length !== xs.length) c.mismatch(`${reps.length} repeats for rank ${xs.length}`);
  c.out(0, c.dtype(0), xs.map((d, i) => c.alg.mul(d, reps[i] ?? null)));
};

const pad: ShapeRule = (c) => {
  const xs = c.shape(0);
  if (!xs) return c.out(0, c.dtype(0), null);
  const r = xs.length;
  const pads = c.opset < 11 ? intsAttr(c, 'pads') : c.ints(1);
  if (!pads) {
    c.unresolved('the pads are not constant');
    return c.out(0, c.dtype(0), xs.map(() => null));
  }
  let axes: number[] = Array.from({ length: r }, (_, i) => i);
  if (c.opset >= 18 && c.has(3)) {
    const a = c.exactInts(3);
    if (!a) {
      c.unresolved('the pad axes are not constant');
      return c.out(0, c.dtype(0), xs.map(() => null));
    }
    axes = a.map((x) => normAxis(x, r) ?? -1);
  }
  const n = axes.length;
  if (pads.length !== 2 * n) c.mismatch(`${pads.length} pads for ${n} axes`);
  const out: Dim[] = [...xs];
  axes.forEach((a, k) => {
    if (a >= 0) out[a] = c.alg.add(c.alg.add(xs[a]!, pads[k] ?? null), pads[k + n] ?? null);
  });
  c.out(0, c.dtype(0), out);
};

const depthToSpace: ShapeRule = (c) => {
  const xs = c.shape(0);
  const b = c.node.getInt('blocksize', 1);
  if (!xs || xs.length !== 4) return c.out(0, c.dtype(0), null);
  c.out(0, c.dtype(0), [xs[0]!, c.alg.divExact(xs[1]!, b * b), c.alg.mul(xs[2]!, b), c.alg.mul(xs[3]!, b)]);
};

const spaceToDepth: ShapeRule = (c) => {
  const xs = c.shape(0);
  const b = c.node.getInt('blocksize', 1);
  if (!xs || xs.length !== 4) return c.out(0, c.dtype(0), null);
  c.out(0, c.dtype(0), [xs[0]!, c.alg.mul(xs[1]!, b * b), c.alg.divExact(xs[2]!, b), c.alg.divExact(xs[3]!, b)]);
};

const MOVES: OpCost = { opsNote: 'data movement' };

/**
 * The `fp16` facet of a Scatter* op: float16-safe but for a node whose `reduction` is one of
 * `refused`, which onnxruntime's float16 kernel refuses when run.
 */
function scatterFp16(...refused: readonly string[]): Fp16Facet {
  return Object.freeze({ keepFloat32: [], unsafeFor: (node: Node): OrtFloat16 | undefined => (refused.includes(node.getString('reduction', 'none')) ? 'fails-at-run' : undefined) });
}

/** An op that moves or selects data without arithmetic. */
const move = (type: string, attributes: AttributeSchema, shape: ShapeRule, more: Partial<OpDefInput> = {}): OpDef => defineOp({ type, attributes, shape, cost: MOVES, ...more });

export const MOVEMENT_OPS: readonly OpDef[] = [
  move('Transpose', attrs('perm'), transpose, { kernel: { note: 'perm (default: reverse)', fn: transposeKernel }, passesWeights: true, fp16: FP16_ALL, reference: transposeRef, ort: { qdq: 'data' }, quantize: { placement: 'shared-scale' }, sameAt13From: 10 }),
  // A learned token concatenated to the sequence (ViT's class token) is a parameter.
  move('Concat', attrs('axis'), concat, {
    cost: { constOperandsLearnable: true, opsNote: 'data movement' },
    kernel: { note: 'any element-addressable dtype, negative axis', fn: concatKernel },
    reference: concatRef,
    weightInputs: [0, 1, 2, 3, 4, 5, 6, 7],
    fp16: FP16_ALL,
    ort: { qdq: 'element' },
    quantize: { placement: 'variadic' },
    sameAt13From: 10,
  }),
  // Split's `split` attribute became an input at 13 (ONNX Changelog): the same only without it (equal parts).
  move('Split', { axis: withDefault(ATTR.axis, 0), num_outputs: ATTR.num_outputs, split: ATTR.split }, split, { fp16: FP16_ALL, reference: splitRef, sameAt13From: sameAt13WithoutAttribute('split') }),
  move('Slice', attrs('axes', 'ends', 'starts'), slice, { kernel: { note: 'attributes (< opset 10) or inputs with axes/steps, negative and INT64_MAX bounds', fn: sliceKernel }, passesWeights: true, fp16: FP16_ALL, reference: sliceRef, ort: { qdq: 'data' }, sameAt13From: 11 }),
  move('Gather', { axis: withDefault(ATTR.axis, 0) }, gather, {
    cost: { weights: [0], opsNote: 'data movement' },
    kernel: { note: 'any element-addressable dtype, int32/int64 indices, negative indices', fn: gatherKernel },
    reference: gatherRef,
    weightInputs: [0],
    // An embedding lookup (indices computed at run time) picks rows that are an activation.
    passesWeights: { when: (n, isConst) => n.inputs[1] === null || n.inputs[1] === undefined || isConst(n.inputs[1]) },
    fp16: FP16_ALL,
    ort: { qdq: 'data' },
    sameAt13From: 10,
  }),
  move('GatherElements', { axis: withDefault(ATTR.axis, 0) }, gatherElements, { reference: gatherElementsRef, ort: { qdq: 'data' }, sameAt13From: 11, fp16: FP16_ALL }),
  move('GatherND', { batch_dims: withDefault(ATTR.batch_dims, 0) }, gatherND, { reference: gatherNDRef, sameAt13From: 12, fp16: FP16_ALL }),
  move('Expand', attrs(), expand, { kernel: { note: 'numpy two-way broadcast of input and shape', fn: expandKernel }, passesWeights: true, fp16: FP16_ALL, reference: expandRef, ort: { qdq: 'data' }, sameAt13From: 10 }),
  move('Tile', attrs(), tile, { kernel: { note: 'repeats per axis', fn: tileKernel }, passesWeights: true, fp16: FP16_ALL, reference: tileRef, ort: { qdq: 'data' }, sameAt13From: 10 }),
  move('Pad', { mode: withDefault(ATTR.mode, 'constant'), pads: ATTR.pads, paddings: ATTR.paddings, value: ATTR.valueFloat }, pad, { fp16: FP16_ALL, reference: padRef, sameAt13From: 11 }),
  move('DepthToSpace', { blocksize: ATTR.blocksize, mode: withDefault(ATTR.mode, 'DCR') }, depthToSpace, { fp16: FP16_ALL, reference: depthToSpaceRef, sameAt13From: 10 }),
  move('SpaceToDepth', attrs('blocksize'), spaceToDepth, { fp16: FP16_ALL, reference: spaceToDepthRef, sameAt13From: 10 }),
  move('Trilu', { upper: withDefault(ATTR.upper, 1) }, same, { reference: triluRef, ort: { float16: 'casts' } }),
  // Float16-safe per node: onnxruntime 1.30 runs them in float16 with its own kernels at every
  // opset with reduction 'none' (ScatterElements also 'max'/'min'), but its kernels refuse
  // float16 at run time for ScatterElements 'add'/'mul' and every ScatterND reduction ("MLFloat16
  // data type is not supported with ScatterND opset 18 when reduction is 'max'"): those nodes
  // stay float32 (test/ops/ort-float16.test.ts).
  move('ScatterElements', { axis: withDefault(ATTR.axis, 0), reduction: withDefault(ATTR.reduction, 'none') }, same, { sameAt13From: 11, reference: scatterElementsRef, fp16: scatterFp16('add', 'mul') }),
  move('ScatterND', { reduction: withDefault(ATTR.reduction, 'none') }, same, { reference: scatterNDRef, sameAt13From: 11, fp16: scatterFp16('add', 'mul', 'max', 'min') }),
  move('Scatter', { axis: withDefault(ATTR.axis, 0) }, same),
  move('ReverseSequence', { batch_axis: withDefault(ATTR.batch_axis, 1), time_axis: withDefault(ATTR.time_axis, 0) }, same, { sameAt13From: 10, fp16: FP16_ALL }),
];
