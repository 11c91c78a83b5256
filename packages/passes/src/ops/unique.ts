/**
 * Unique (opset 11): the distinct elements of X (no `axis`: X flattened) or distinct slices
 * along `axis`, as numpy.unique with return_index, return_inverse and return_counts.
 *
 * - Shapes: how many distinct values there are is known only at run time, so that dim is
 *   unknown (null), as NonZero's count is: Y [?] without axis, X's shape with the axis dim ? with
 *   one; indices [?]; inverse_indices [numel(X)] or [X.shape[axis]] (known); counts [?].
 * - Reference (float64; numbers, int64, bool and string): `sorted` 1 (default) orders the
 *   values (slices: lexicographically, the slice read in X's order with the axis taken out)
 *   ascending, 0 keeps the order of first occurrence; indices are first occurrences. −0 equals
 *   0; each NaN is distinct (NaN ≠ NaN).
 * - Cost: a sort of the input (n·log2 n comparisons, or a hash per element unsorted); counted
 *   as 1 per input element, a lower bound, as TopK is (the Count form is linear in the elements).
 * - No kernel: its output shape depends on the values, nothing the folder or shape inference
 *   would gain on a constant input in real models. Not float16-safe: onnxruntime 1.30 runs a
 *   float16 Unique in float32 between Casts (`ort.float16`).
 */
import { DataType, type Dim } from '@onnxkit/graph';
import type { ShapeRule } from '../analysis/inference-types.js';
import { ReferenceInputError } from '../kernels/reference/errors.js';
import { allocI64, gatherData, normAxis as refAxis, sizeOf } from '../kernels/reference/tensor.js';
import { ATTR, withDefault } from './attributes.js';
import { normAxis } from './axes.js';
import { perInput } from './cost.js';
import { defineOp, type OpDef, type RefTensor, type ReferenceKernel } from './types.js';

const shape: ShapeRule = (c) => {
  const xs = c.shape(0);
  const axis = c.node.getInt('axis');
  const outs = c.node.outputs.length;
  const a = axis === undefined || !xs ? undefined : normAxis(axis, xs.length);
  if (axis !== undefined && xs && a === undefined) c.mismatch(`axis ${axis} is out of range for rank ${xs.length}`);
  let y: Dim[] | null = [null];
  let inverse: Dim[] | null = [xs ? c.alg.product(xs) : null];
  if (axis !== undefined) {
    y = xs && a !== undefined ? xs.map((d, i) => (i === a ? null : d)) : null;
    inverse = [xs && a !== undefined ? xs[a]! : null];
  }
  c.out(0, c.dtype(0), y);
  if (outs > 1) c.out(1, DataType.INT64, [null]);
  if (outs > 2) c.out(2, DataType.INT64, inverse);
  if (outs > 3) c.out(3, DataType.INT64, [null]);
};

type Scalar = number | bigint | string | boolean;

/** −1, 0 or 1: lexicographic order of two slices (NaN sorts last and equals nothing). */
function compareSlices(a: readonly Scalar[], b: readonly Scalar[]): number {
  for (let i = 0; i < a.length; i++) {
    const p = a[i]!;
    const q = b[i]!;
    if (p === q) continue;
    if (p < q) return -1;
    if (p > q) return 1;
    // Unordered: a NaN on one side (or both).
    const pn = typeof p === 'number' && Number.isNaN(p);
    const qn = typeof q === 'number' && Number.isNaN(q);
    if (pn !== qn) return pn ? 1 : -1;
    return 1;
  }
  return 0;
}

const sameSlice = (a: readonly Scalar[], b: readonly Scalar[]): boolean => a.every((v, i) => v === b[i]);

const reference: ReferenceKernel = (node, inputs) => {
  const x = inputs[0];
  if (!x) throw new ReferenceInputError(node, 'X is required');
  const dims = x.dims;
  const axisAttr = node.getInt('axis');
  const a = axisAttr === undefined ? undefined : refAxis(node, axisAttr, dims.length);
  // n slices of `len` elements: X[outer, j, inner] for slice j (the whole X flattened without axis).
  const total = sizeOf(dims);
  const n = a === undefined ? total : dims[a]!;
  const inner = a === undefined ? 1 : sizeOf(dims.slice(a + 1));
  const outer = a === undefined ? 1 : sizeOf(dims.slice(0, a));
  const data = x.data as ArrayLike<Scalar>;
  const slices: Scalar[][] = [];
  for (let j = 0; j < n; j++) {
    const s: Scalar[] = [];
    for (let o = 0; o < outer; o++) for (let i = 0; i < inner; i++) s.push(data[(o * n + j) * inner + i]!);
    slices.push(s);
  }
  // Stable sort of the slice numbers; equal neighbours form one group, its first the first occurrence.
  const order = [...slices.keys()].sort((p, q) => compareSlices(slices[p]!, slices[q]!) || p - q);
  const groupOf = new Array<number>(n);
  const firsts: number[] = [];
  const counts: number[] = [];
  for (let k = 0; k < n; k++) {
    const j = order[k]!;
    if (k === 0 || !sameSlice(slices[order[k - 1]!]!, slices[j]!)) {
      firsts.push(j);
      counts.push(0);
    }
    groupOf[j] = firsts.length - 1;
    counts[counts.length - 1]!++;
  }
  // Unsorted: the groups in order of first occurrence.
  let rank = firsts.map((_, g) => g);
  if (node.getInt('sorted', 1) === 0) {
    const byFirst = rank.slice().sort((p, q) => firsts[p]! - firsts[q]!);
    rank = new Array<number>(byFirst.length);
    byFirst.forEach((g, r) => (rank[g] = r));
  }
  const u = firsts.length;
  const pick = new Array<number>(u);
  rank.forEach((r, g) => (pick[r] = g));
  const yIndex: number[] = [];
  for (let o = 0; o < outer; o++) for (let r = 0; r < u; r++) for (let i = 0; i < inner; i++) yIndex.push((o * n + firsts[pick[r]!]!) * inner + i);
  const ints = (values: readonly number[]): RefTensor => {
    const out = allocI64(values.length);
    values.forEach((v, i) => (out[i] = BigInt(v)));
    return { dtype: DataType.INT64, dims: [values.length], data: out };
  };
  const yDims = a === undefined ? [u] : dims.map((d, i) => (i === a ? u : d));
  return [
    { dtype: x.dtype, dims: yDims, data: gatherData(x.data, yIndex) },
    ints(pick.map((g) => firsts[g]!)),
    ints(groupOf.map((g) => rank[g]!)),
    ints(pick.map((g) => counts[g]!)),
  ].slice(0, Math.max(1, node.outputs.length));
};

export const Unique: OpDef = defineOp({
  type: 'Unique',
  attributes: { axis: ATTR.axis, sorted: withDefault(ATTR.sorted, 1) },
  shape,
  cost: { ops: perInput(1), opsNote: '1 per input element (lower bound: a sort takes n·log2 n comparisons)' },
  reference,
  sameAt13From: 11, // introduced at 11, unchanged since
  ort: { float16: 'casts' }, // (onnxruntime 1.30 casts a float16 Unique to float32 and back: test/ops/added-ops-float16.test.ts)
});
