/**
 * Per-op type and shape rules for shape inference: one function per ONNX op (default domain),
 * following the operator spec for opsets 7–21+. A rule reads its inputs' facts through a
 * RuleContext and sets its outputs; it never throws on inconsistent input but reports a
 * diagnostic and leaves what it cannot know as null.
 *
 * Rules also propagate *partial values* of small integer tensors (Shape, Gather, Concat,
 * Unsqueeze, Slice, Cast, arithmetic…), which is how a Reshape whose target was computed from
 * `Shape(x)` of a symbolic-batch input still gets concrete trailing dims.
 */
import { AttributeType, DataType, type Dim, type SparseTensor, type Tensor } from '@onnxkit/graph';
import { lookup, opTable } from '../common/op-table.js';
import { sliceAxis } from '../kernels/shape-ops.js';
import type { Facts, RuleContext, ShapeRule } from './inference-types.js';

const U = DataType.UNDEFINED;

// ---------------------------------------------------------------- helpers

function normAxis(axis: number, rank: number): number | undefined {
  const a = axis < 0 ? axis + rank : axis;
  return a >= 0 && a < rank ? a : undefined;
}

function firstType(c: RuleContext, ...idx: number[]): DataType {
  for (const i of idx) {
    const t = c.dtype(i);
    if (t !== U) return t;
  }
  return U;
}

/** Symbolic numpy broadcasting of one axis; reports concrete conflicts. */
function broadcastDim(c: RuleContext, dims: readonly Dim[]): Dim {
  let num: number | undefined;
  let sym: string | undefined;
  let symbolsDiffer = false;
  let unknown = false;
  for (const d of dims) {
    if (d === 1) continue;
    if (typeof d === 'number') {
      if (num !== undefined && num !== d) {
        c.mismatch(`dimensions ${num} and ${d} do not broadcast`);
        return null;
      }
      num = d;
    } else if (typeof d === 'string') {
      if (sym !== undefined && sym !== d) symbolsDiffer = true;
      sym = d;
    } else {
      unknown = true;
    }
  }
  if (num !== undefined) return num;
  if (unknown || symbolsDiffer) return null;
  return sym ?? 1;
}

/** numpy multidirectional broadcasting of shapes (null shape → unknown result rank). */
export function broadcastShapesSymbolic(c: RuleContext, shapes: readonly (readonly Dim[] | null)[]): Dim[] | null {
  if (shapes.some((s) => s === null)) return null;
  const ss = shapes as (readonly Dim[])[];
  const rank = ss.reduce((m, s) => Math.max(m, s.length), 0);
  const out: Dim[] = [];
  for (let i = 0; i < rank; i++) {
    out.push(broadcastDim(c, ss.map((s) => (i - (rank - s.length) >= 0 ? s[i - (rank - s.length)]! : 1))));
  }
  return out;
}

/** Merge two claims about the same dim (equal or one unknown); reports concrete conflicts. */
function mergeDim(c: RuleContext, a: Dim, b: Dim, what: string): Dim {
  if (a === null) return b;
  if (b === null) return a;
  if (a === b) return a;
  if (typeof a === 'number' && typeof b === 'number') {
    c.mismatch(`${what}: ${a} vs ${b}`);
    return null;
  }
  return typeof a === 'number' ? a : typeof b === 'number' ? b : a;
}

function intsAttr(c: RuleContext, name: string): number[] | undefined {
  return c.node.getInts(name);
}

function isIntType(t: DataType): boolean {
  return t === DataType.INT64 || t === DataType.INT32 || t === DataType.INT16 || t === DataType.INT8 || t === DataType.UINT8 || t === DataType.UINT16 || t === DataType.UINT32 || t === DataType.UINT64;
}

// ---------------------------------------------------------------- element-wise

const same: ShapeRule = (c) => c.out(0, c.dtype(0), c.shape(0));
const sameBool: ShapeRule = (c) => c.out(0, DataType.BOOL, c.shape(0));

const identity: ShapeRule = (c) => {
  same(c);
  const p = c.ints(0);
  if (p) c.partial(0, p);
};

type PartialOp = (c: RuleContext, a: Dim, b: Dim, isInt: boolean) => Dim;

const PARTIAL_BINARY: Readonly<Record<string, PartialOp>> = opTable<PartialOp>({
  Add: (c, a, b) => c.alg.add(a, b),
  Sub: (c, a, b) => c.alg.sub(a, b),
  Mul: (c, a, b) => {
    if (typeof a === 'number' && typeof b === 'number') return a * b;
    // Symbols are integers: a fractional factor leaves the ring.
    if ((typeof a === 'number' && !Number.isInteger(a)) || (typeof b === 'number' && !Number.isInteger(b))) return null;
    return c.alg.mul(a, b);
  },
  Div: (c, a, b, isInt) => {
    if (typeof a === 'number' && typeof b === 'number') return b === 0 ? null : isInt ? Math.trunc(a / b) : a / b;
    if (typeof b === 'number' && b > 0) return isInt ? c.alg.floorDiv(a, b) : c.alg.divExact(a, b);
    return c.alg.divExact(a, b);
  },
  Max: (c, a, b) => c.alg.max(a, b),
  Min: (c, a, b) => c.alg.min(a, b),
  Mod: (_c, a, b) => (typeof a === 'number' && typeof b === 'number' && b !== 0 ? a - Math.floor(a / b) * b : null),
  // Symbolic dims are non-negative: equal to a negative number they never are.
  Equal: (_c, a, b) => (a !== null && a === b ? 1 : typeof a === 'number' && typeof b === 'number' ? 0 : (typeof a === 'number' && a < 0) || (typeof b === 'number' && b < 0) ? 0 : null),
  Less: (_c, a, b) => (typeof a === 'number' && typeof b === 'number' ? (a < b ? 1 : 0) : typeof b === 'number' && b <= 0 && a !== null ? 0 : null),
  Greater: (_c, a, b) => (typeof a === 'number' && typeof b === 'number' ? (a > b ? 1 : 0) : typeof b === 'number' && b < 0 && a !== null ? 1 : null),
});

/** Element-wise combination of the partial values of inputs 0 and 1 (length-1 broadcast). */
function partialBinary(c: RuleContext, op: PartialOp): void {
  const a = c.ints(0);
  const b = c.ints(1);
  if (!a || !b) return;
  if ((c.rank(0) ?? 2) > 1 || (c.rank(1) ?? 2) > 1) return;
  if (a.length !== b.length && a.length !== 1 && b.length !== 1) return;
  const n = Math.max(a.length, b.length);
  const isInt = isIntType(c.dtype(0));
  const out: Dim[] = [];
  for (let i = 0; i < n; i++) out.push(op(c, a[a.length === 1 ? 0 : i]!, b[b.length === 1 ? 0 : i]!, isInt));
  c.partial(0, out);
}

function binary(outType?: DataType): ShapeRule {
  return (c) => {
    c.out(0, outType ?? firstType(c, 0, 1), broadcastShapesSymbolic(c, [c.shape(0), c.shape(1)]));
    const op = lookup(PARTIAL_BINARY, c.node.opType);
    if (op) partialBinary(c, op);
  };
}

const variadic: ShapeRule = (c) => {
  const shapes: (readonly Dim[] | null)[] = [];
  for (let i = 0; i < c.inputCount; i++) if (c.has(i)) shapes.push(c.shape(i));
  c.out(0, firstType(c, 0, 1), broadcastShapesSymbolic(c, shapes));
  const op = lookup(PARTIAL_BINARY, c.node.opType);
  if (op && c.inputCount === 2) partialBinary(c, op);
};

const where: ShapeRule = (c) => {
  c.out(0, firstType(c, 1, 2), broadcastShapesSymbolic(c, [c.shape(0), c.shape(1), c.shape(2)]));
  const cond = c.ints(0);
  const x = c.ints(1);
  const y = c.ints(2);
  if (!cond || !x || !y || [0, 1, 2].some((i) => (c.rank(i) ?? 2) > 1)) return;
  const n = Math.max(cond.length, x.length, y.length);
  if ([cond, x, y].some((p) => p.length !== n && p.length !== 1)) return;
  const out: Dim[] = [];
  for (let i = 0; i < n; i++) {
    const k = cond[cond.length === 1 ? 0 : i];
    out.push(k === null || typeof k === 'string' ? null : k ? x[x.length === 1 ? 0 : i]! : y[y.length === 1 ? 0 : i]!);
  }
  c.partial(0, out);
};

const notRule: ShapeRule = (c) => {
  sameBool(c);
  const p = c.ints(0);
  if (p) c.partial(0, p.map((v) => (typeof v === 'number' ? (v ? 0 : 1) : null)));
};

/** Unary ops whose partial values survive (rounding functions on integers, Neg, Abs). */
function unaryPartial(f: (v: number) => number, keepsSymbols: boolean): ShapeRule {
  return (c) => {
    same(c);
    const p = c.ints(0);
    if (p) c.partial(0, p.map((v) => (typeof v === 'number' ? f(v) : keepsSymbols ? v : null)));
  };
}

const cast: ShapeRule = (c) => {
  const to = c.node.getInt('to', U);
  c.out(0, to as DataType, c.shape(0));
  const p = c.ints(0);
  if (p && to !== DataType.BOOL) c.partial(0, isIntType(to as DataType) ? p.map((v) => (typeof v === 'number' ? Math.trunc(v) : v)) : p);
};

const castLike: ShapeRule = (c) => {
  c.out(0, c.dtype(1), c.shape(0));
  const p = c.ints(0);
  if (p) c.partial(0, p);
};

const dropout: ShapeRule = (c) => {
  identity(c);
  if (c.node.outputs.length > 1) c.out(1, c.opset >= 10 ? DataType.BOOL : c.dtype(0), c.shape(0));
};

const clip: ShapeRule = (c) => same(c);

const prelu: ShapeRule = (c) => c.out(0, c.dtype(0), c.shape(0));

// ---------------------------------------------------------------- convolution and pooling

interface WindowParams {
  kernel: readonly Dim[];
  strides: number[];
  dilations: number[];
  pads: number[];
  autoPad: string;
  ceil: boolean;
}

function windowParams(c: RuleContext, spatial: number, kernel: readonly Dim[]): WindowParams {
  const n = c.node;
  return {
    kernel,
    strides: n.getInts('strides') ?? new Array<number>(spatial).fill(1),
    dilations: n.getInts('dilations') ?? new Array<number>(spatial).fill(1),
    pads: n.getInts('pads') ?? new Array<number>(2 * spatial).fill(0),
    autoPad: n.getString('auto_pad', 'NOTSET'),
    ceil: n.getInt('ceil_mode', 0) === 1,
  };
}

/** Output extent of one spatial axis of Conv/pooling (ONNX spec formulas, incl. ceil_mode). */
function windowOut(c: RuleContext, p: WindowParams, i: number, spatial: number, inDim: Dim): Dim {
  const k = p.kernel[i] ?? null;
  const s = p.strides[i] ?? 1;
  const d = p.dilations[i] ?? 1;
  if (inDim === null || k === null) return null;
  const alg = c.alg;
  const extent = alg.add(alg.mul(d, alg.sub(k, 1)), 1);
  if (p.autoPad === 'SAME_UPPER' || p.autoPad === 'SAME_LOWER') return alg.ceilDiv(inDim, s);
  if (p.autoPad === 'VALID') {
    const span = alg.add(alg.sub(inDim, extent), 1);
    return p.ceil ? alg.add(alg.ceilDiv(alg.sub(inDim, extent), s), 1) : alg.ceilDiv(span, s);
  }
  const pb = p.pads[i] ?? 0;
  const pe = p.pads[i + spatial] ?? 0;
  const span = alg.sub(alg.add(inDim, pb + pe), extent);
  if (!p.ceil) return alg.add(alg.floorDiv(span, s), 1);
  let out = alg.add(alg.ceilDiv(span, s), 1);
  // A window may not start in the end padding: drop the last one if it would (ORT, PyTorch).
  if (typeof out === 'number' && typeof inDim === 'number' && (out - 1) * s >= inDim + pb) out -= 1;
  return out;
}

function conv(xIdx: number, wIdx: number, outType?: (c: RuleContext) => DataType): ShapeRule {
  return (c) => {
    const xs = c.shape(xIdx);
    const ws = c.shape(wIdx);
    const type = outType ? outType(c) : c.dtype(xIdx);
    const rank = xs?.length ?? ws?.length;
    if (rank === undefined) return c.out(0, type, null);
    const spatial = rank - 2;
    if (spatial < 0) {
      c.mismatch(`input or weight has rank ${rank}; a convolution needs at least 2`);
      return c.out(0, type, null);
    }
    const group = c.node.getInt('group', 1);
    const kernel: Dim[] = c.node.getInts('kernel_shape') ?? (ws ? ws.slice(2) : new Array<Dim>(spatial).fill(null));
    if (xs && ws && typeof xs[1] === 'number' && typeof ws[1] === 'number' && xs[1] !== ws[1] * group) {
      c.mismatch(`input has ${xs[1]} channels but the weight expects ${ws[1]} × group ${group}`);
    }
    const p = windowParams(c, spatial, kernel);
    const out: Dim[] = [xs?.[0] ?? null, ws?.[0] ?? null];
    for (let i = 0; i < spatial; i++) out.push(windowOut(c, p, i, spatial, xs?.[2 + i] ?? null));
    c.out(0, type, out);
  };
}

const convTranspose: ShapeRule = (c) => {
  const xs = c.shape(0);
  const ws = c.shape(1);
  const rank = xs?.length ?? ws?.length;
  if (rank === undefined) return c.out(0, c.dtype(0), null);
  const spatial = rank - 2;
  if (spatial < 0) {
    c.mismatch(`input or weight has rank ${rank}; a convolution needs at least 2`);
    return c.out(0, c.dtype(0), null);
  }
  const group = c.node.getInt('group', 1);
  const alg = c.alg;
  const kernel: Dim[] = c.node.getInts('kernel_shape') ?? (ws ? ws.slice(2) : new Array<Dim>(spatial).fill(null));
  const strides = c.node.getInts('strides') ?? new Array<number>(spatial).fill(1);
  const dil = c.node.getInts('dilations') ?? new Array<number>(spatial).fill(1);
  const outPad = c.node.getInts('output_padding') ?? new Array<number>(spatial).fill(0);
  const pads = c.node.getInts('pads') ?? new Array<number>(2 * spatial).fill(0);
  const autoPad = c.node.getString('auto_pad', 'NOTSET');
  const outputShape = c.node.getInts('output_shape');
  if (xs && ws && typeof xs[1] === 'number' && typeof ws[0] === 'number' && xs[1] !== ws[0]) {
    c.mismatch(`input has ${xs[1]} channels but the weight has ${ws[0]}`);
  }
  const out: Dim[] = [xs?.[0] ?? null, alg.mul(ws?.[1] ?? null, group)];
  for (let i = 0; i < spatial; i++) {
    const inDim = xs?.[2 + i] ?? null;
    if (outputShape) {
      out.push(outputShape[outputShape.length === spatial + 2 ? i + 2 : i] ?? null);
      continue;
    }
    const s = strides[i] ?? 1;
    if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') {
      out.push(alg.mul(inDim, s));
      continue;
    }
    const pb = autoPad === 'VALID' ? 0 : (pads[i] ?? 0);
    const pe = autoPad === 'VALID' ? 0 : (pads[i + spatial] ?? 0);
    const k = kernel[i] ?? null;
    const extent = alg.add(alg.mul(dil[i] ?? 1, alg.sub(k, 1)), 1);
    out.push(alg.sub(alg.add(alg.add(alg.mul(s, alg.sub(inDim, 1)), outPad[i] ?? 0), extent), pb + pe));
  }
  c.out(0, c.dtype(0), out);
};

function pool(withIndices: boolean): ShapeRule {
  return (c) => {
    const xs = c.shape(0);
    if (!xs) {
      c.out(0, c.dtype(0), null);
      if (withIndices && c.node.outputs.length > 1) c.out(1, DataType.INT64, null);
      return;
    }
    const spatial = xs.length - 2;
    if (spatial < 0) {
      c.mismatch(`input has rank ${xs.length}; pooling needs at least 2`);
      c.out(0, c.dtype(0), null);
      if (withIndices && c.node.outputs.length > 1) c.out(1, DataType.INT64, null);
      return;
    }
    const kernel = c.node.getInts('kernel_shape');
    if (!kernel) c.mismatch("attribute 'kernel_shape' is required");
    const p = windowParams(c, spatial, kernel ?? new Array<Dim>(spatial).fill(null));
    const out: Dim[] = [xs[0]!, xs[1]!];
    for (let i = 0; i < spatial; i++) out.push(windowOut(c, p, i, spatial, xs[2 + i]!));
    c.out(0, c.dtype(0), out);
    if (withIndices && c.node.outputs.length > 1) c.out(1, DataType.INT64, out);
  };
}

const globalPool: ShapeRule = (c) => {
  const xs = c.shape(0);
  c.out(0, c.dtype(0), xs ? [xs[0]!, xs[1]!, ...xs.slice(2).map(() => 1)] : null);
};

// ---------------------------------------------------------------- linear algebra

const gemm: ShapeRule = (c) => {
  const a = c.shape(0);
  const b = c.shape(1);
  const ta = c.node.getInt('transA', 0) === 1;
  const tb = c.node.getInt('transB', 0) === 1;
  if ((a && a.length !== 2) || (b && b.length !== 2)) c.mismatch('Gemm inputs must be 2-D');
  const m = a ? (ta ? a[1] : a[0]) ?? null : null;
  const k1 = a ? (ta ? a[0] : a[1]) ?? null : null;
  const k2 = b ? (tb ? b[1] : b[0]) ?? null : null;
  const n = b ? (tb ? b[0] : b[1]) ?? null : null;
  mergeDim(c, k1, k2, 'Gemm inner dimensions differ');
  c.out(0, firstType(c, 0, 1), [m, n]);
};

function matmul(outType?: (c: RuleContext) => DataType, bIdx = 1): ShapeRule {
  return (c) => {
    const a = c.shape(0);
    const b = c.shape(bIdx);
    const type = outType ? outType(c) : firstType(c, 0, bIdx);
    if (!a || !b) return c.out(0, type, null);
    if (a.length === 0 || b.length === 0) {
      c.mismatch('MatMul inputs must have rank ≥ 1');
      return c.out(0, type, null);
    }
    const aa = a.length === 1 ? [1, a[0]!] : a;
    const bb = b.length === 1 ? [b[0]!, 1] : b;
    mergeDim(c, aa[aa.length - 1]!, bb[bb.length - 2]!, 'MatMul inner dimensions differ');
    const batch = broadcastShapesSymbolic(c, [aa.slice(0, -2), bb.slice(0, -2)]) ?? [];
    const out = [...batch];
    if (a.length !== 1) out.push(aa[aa.length - 2]!);
    if (b.length !== 1) out.push(bb[bb.length - 1]!);
    c.out(0, type, out);
  };
}

const einsum: ShapeRule = (c) => {
  const eq = c.node.getString('equation', '').replace(/\s+/g, '');
  const [lhs, rhsGiven] = eq.split('->') as [string, string | undefined];
  const terms = lhs.split(',');
  const letters = new Map<string, Dim>();
  const counts = new Map<string, number>();
  let ellipsis: Dim[] | null = [];
  for (let t = 0; t < terms.length; t++) {
    const s = c.shape(t);
    const term = terms[t]!;
    const parts = term.split('...');
    const explicit = parts.join('').length;
    if (!s) {
      ellipsis = parts.length > 1 ? null : ellipsis;
      for (const ch of parts.join('')) counts.set(ch, (counts.get(ch) ?? 0) + 1);
      continue;
    }
    const eRank = s.length - explicit;
    let pos = 0;
    const head = parts[0]!;
    for (const ch of head) {
      letters.set(ch, mergeDim(c, letters.get(ch) ?? null, s[pos++]!, `Einsum dimension '${ch}'`));
      counts.set(ch, (counts.get(ch) ?? 0) + 1);
    }
    if (parts.length > 1) {
      const e = s.slice(pos, pos + eRank);
      pos += eRank;
      if (ellipsis) ellipsis = broadcastShapesSymbolic(c, [ellipsis, e]);
    }
    for (const ch of parts[1] ?? '') {
      letters.set(ch, mergeDim(c, letters.get(ch) ?? null, s[pos++]!, `Einsum dimension '${ch}'`));
      counts.set(ch, (counts.get(ch) ?? 0) + 1);
    }
  }
  const rhs = rhsGiven ?? `${lhs.includes('...') ? '...' : ''}${[...counts.keys()].filter((k) => counts.get(k) === 1).sort().join('')}`;
  const out: Dim[] = [];
  const rparts = rhs.split('...');
  for (const ch of rparts[0]!) out.push(letters.get(ch) ?? null);
  if (rparts.length > 1) {
    if (ellipsis === null) return c.out(0, c.dtype(0), null);
    for (const d of ellipsis) out.push(d);
    for (const ch of rparts[1]!) out.push(letters.get(ch) ?? null);
  }
  c.out(0, c.dtype(0), out);
};

// ---------------------------------------------------------------- normalisation

const batchNorm: ShapeRule = (c) => {
  const xs = c.shape(0);
  c.out(0, c.dtype(0), xs);
  const ch = xs?.[1] ?? c.shape(1)?.[0] ?? null;
  for (let i = 1; i < c.node.outputs.length; i++) c.out(i, firstType(c, 3, 0), [ch]);
};

const layerNorm: ShapeRule = (c) => {
  const xs = c.shape(0);
  c.out(0, c.dtype(0), xs);
  if (c.node.outputs.length > 1) {
    const stash = c.node.getInt('stash_type', 1) as DataType;
    let s: Dim[] | null = null;
    if (xs) {
      const axis = normAxis(c.node.getInt('axis', -1), xs.length);
      if (axis !== undefined) s = [...xs.slice(0, axis), ...xs.slice(axis).map(() => 1)];
    }
    for (let i = 1; i < c.node.outputs.length; i++) c.out(i, stash, s);
  }
};

// ---------------------------------------------------------------- shape manipulation

/** Axes from the attribute before `inputOpset`, from input 1 after; null when absent. */
function axesOf(c: RuleContext, inputOpset: number, inputIdx = 1): number[] | null | undefined {
  if (c.opset < inputOpset) return intsAttr(c, 'axes') ?? null;
  if (!c.has(inputIdx)) return null;
  return c.exactInts(inputIdx);
}

const reshape: ShapeRule = (c) => {
  const xs = c.shape(0);
  const target = c.opset < 5 ? intsAttr(c, 'shape') : c.ints(1);
  const type = c.dtype(0);
  if (!target) {
    const ts = c.shape(1);
    const n = ts?.[0];
    c.unresolved('the target shape is not a constant');
    return c.out(0, type, c.unknownDims(n));
  }
  const allowZero = c.opset >= 14 && c.node.getInt('allowzero', 0) === 1;
  const dims: Dim[] = [];
  let infer = -1;
  target.forEach((t, i) => {
    if (t === -1) {
      if (infer >= 0) c.mismatch('the target shape has more than one -1');
      infer = i;
      dims.push(null);
    } else if (t === 0 && !allowZero) {
      dims.push(xs ? (i < xs.length ? xs[i]! : (c.mismatch(`target dim ${i} is 0 but the input has rank ${xs.length}`), null)) : null);
    } else if (typeof t === 'number' && t < -1) {
      c.mismatch(`target dim ${i} is ${t}`);
      dims.push(null);
    } else {
      dims.push(t);
    }
  });
  const total = xs ? c.alg.product(xs) : null;
  if (infer >= 0) {
    const known = c.alg.product(dims.filter((_, i) => i !== infer));
    dims[infer] = known === 0 ? null : c.alg.divExact(total, known);
    if (dims[infer] === null && total !== null && known !== null) {
      if (typeof total === 'number' && typeof known === 'number') c.mismatch(`cannot reshape ${total} elements to ${known} × -1`);
    }
  } else {
    const prod = c.alg.product(dims);
    if (typeof prod === 'number' && typeof total === 'number' && prod !== total) c.mismatch(`cannot reshape ${total} elements into ${prod}`);
  }
  c.out(0, type, dims);
  const p = c.ints(0);
  if (p && dims.length <= 1) c.partial(0, p);
};

const flatten: ShapeRule = (c) => {
  const xs = c.shape(0);
  if (!xs) return c.out(0, c.dtype(0), [null, null]);
  let axis = c.node.getInt('axis', 1);
  if (axis < 0) axis += xs.length;
  if (axis < 0 || axis > xs.length) {
    c.mismatch(`axis ${c.node.getInt('axis', 1)} is out of range for rank ${xs.length}`);
    return c.out(0, c.dtype(0), [null, null]);
  }
  c.out(0, c.dtype(0), [c.alg.product(xs.slice(0, axis)), c.alg.product(xs.slice(axis))]);
};

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
  const type = present.map((i) => c.dtype(i)).find((t) => t !== U) ?? U;
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

const unsqueeze: ShapeRule = (c) => {
  const xs = c.shape(0);
  const axes = axesOf(c, 13);
  const type = c.dtype(0);
  if (axes === null) c.mismatch('axes are required');
  if (!axes || !xs) {
    if (axes === undefined) c.unresolved('the axes are not constant');
    return c.out(0, type, null);
  }
  const r = xs.length + axes.length;
  const set = new Set(axes.map((a) => normAxis(a, r)));
  if (set.has(undefined) || set.size !== axes.length) {
    c.mismatch(`axes ${JSON.stringify(axes)} are invalid for output rank ${r}`);
    return c.out(0, type, null);
  }
  const out: Dim[] = [];
  let k = 0;
  for (let i = 0; i < r; i++) out.push(set.has(i) ? 1 : xs[k++]!);
  c.out(0, type, out);
  const p = c.ints(0);
  if (p && r <= 1) c.partial(0, p);
};

const squeeze: ShapeRule = (c) => {
  const xs = c.shape(0);
  const axes = axesOf(c, 13);
  const type = c.dtype(0);
  if (!xs || axes === undefined) {
    if (axes === undefined) c.unresolved('the axes are not constant');
    return c.out(0, type, null);
  }
  let out: Dim[];
  if (axes === null) {
    if (xs.some((d) => typeof d !== 'number')) {
      c.unresolved('squeeze without axes on a dimension that is not concrete');
      return c.out(0, type, null);
    }
    out = xs.filter((d) => d !== 1);
  } else {
    const drop = new Set(axes.map((a) => normAxis(a, xs.length)));
    if (drop.has(undefined)) {
      c.mismatch(`axes ${JSON.stringify(axes)} are out of range for rank ${xs.length}`);
      return c.out(0, type, null);
    }
    for (const a of drop) if (typeof xs[a!] === 'number' && xs[a!] !== 1) c.mismatch(`cannot squeeze axis ${a} of size ${xs[a!]}`);
    out = xs.filter((_, i) => !drop.has(i));
  }
  c.out(0, type, out);
  const p = c.ints(0);
  if (p && out.length === 0) c.partial(0, p);
};

const shape: ShapeRule = (c) => {
  const xs = c.shape(0);
  if (!xs) return c.out(0, DataType.INT64, [null]);
  const r = xs.length;
  let start = c.opset >= 15 ? c.node.getInt('start', 0) : 0;
  let end = c.opset >= 15 ? c.node.getInt('end', r) : r;
  start = Math.min(Math.max(start < 0 ? start + r : start, 0), r);
  end = Math.min(Math.max(end < 0 ? end + r : end, 0), r);
  const dims = xs.slice(start, Math.max(start, end));
  c.out(0, DataType.INT64, [dims.length]);
  c.partial(0, dims);
};

const size: ShapeRule = (c) => {
  c.out(0, DataType.INT64, []);
  const xs = c.shape(0);
  if (xs) c.partial(0, [c.alg.product(xs)]);
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

function scaleDim(c: RuleContext, d: Dim, scale: number): Dim {
  if (typeof d === 'number') return Math.floor(d * scale);
  if (d !== null && Number.isInteger(scale)) return c.alg.mul(d, scale);
  return null;
}

const resize: ShapeRule = (c) => {
  const xs = c.shape(0);
  const type = c.dtype(0);
  if (!xs) return c.out(0, type, null);
  const r = xs.length;
  const axes = (c.opset >= 18 ? intsAttr(c, 'axes') : undefined)?.map((a) => normAxis(a, r) ?? 0) ?? Array.from({ length: r }, (_, i) => i);
  let scales: number[] | undefined;
  let sizes: readonly Dim[] | undefined;
  if (c.opset < 11 || c.node.opType === 'Upsample') {
    scales = c.node.opType === 'Upsample' && c.opset < 9 ? c.node.getFloats('scales') : c.floats(1);
  } else {
    if (c.has(3)) {
      sizes = c.ints(3);
      if (sizes && sizes.length === 0) sizes = undefined;
    }
    if (!sizes && c.has(2)) {
      scales = c.floats(2);
      if (scales && scales.length === 0) scales = undefined;
    }
  }
  const out: Dim[] = [...xs];
  if (sizes) {
    const policy = c.node.getString('keep_aspect_ratio_policy', 'stretch');
    if (policy !== 'stretch' && axes.every((a, k) => typeof xs[a] === 'number' && typeof sizes![k] === 'number')) {
      const ratios = axes.map((a, k) => (sizes![k] as number) / (xs[a] as number));
      const s = policy === 'not_larger' ? ratios.reduce((m, r) => Math.min(m, r), Infinity) : ratios.reduce((m, r) => Math.max(m, r), -Infinity);
      axes.forEach((a) => (out[a] = Math.round(s * (xs[a] as number))));
    } else {
      axes.forEach((a, k) => (out[a] = sizes![k] ?? null));
    }
  } else if (scales) {
    axes.forEach((a, k) => (out[a] = scaleDim(c, xs[a]!, scales![k] ?? 1)));
  } else {
    c.unresolved('neither scales nor sizes are constant');
    axes.forEach((a) => (out[a] = null));
  }
  c.out(0, type, out);
};

function reduce(inputOpset: number, outType?: DataType): ShapeRule {
  return (c) => {
    const xs = c.shape(0);
    const type = outType ?? c.dtype(0);
    const keep = c.node.getInt('keepdims', 1) === 1;
    let axes: number[] | null | undefined;
    let noop = false;
    if (c.node.opType === 'ArgMax' || c.node.opType === 'ArgMin') {
      axes = [c.node.getInt('axis', 0)];
    } else {
      axes = axesOf(c, inputOpset);
      if (c.opset >= inputOpset) noop = c.node.getInt('noop_with_empty_axes', 0) === 1;
    }
    if (!xs) return c.out(0, type, null);
    if (axes === undefined) {
      c.unresolved('the reduction axes are not constant');
      return c.out(0, type, keep ? xs.map(() => null) : null);
    }
    if (axes === null || axes.length === 0) {
      if (noop) return c.out(0, type, xs);
      return c.out(0, type, keep ? xs.map(() => 1) : []);
    }
    const set = new Set(axes.map((a) => normAxis(a, xs.length)));
    if (set.has(undefined)) {
      c.mismatch(`axes ${JSON.stringify(axes)} are out of range for rank ${xs.length}`);
      return c.out(0, type, null);
    }
    c.out(0, type, keep ? xs.map((d, i) => (set.has(i) ? 1 : d)) : xs.filter((_, i) => !set.has(i)));
  };
}

// ---------------------------------------------------------------- generators

function sparseDims(sp: SparseTensor): number[] {
  return [...sp.dims];
}

const constant: ShapeRule = (c) => {
  for (const a of c.node.attributes.values()) {
    switch (a.name) {
      case 'value': {
        if (a.isRef) return c.out(0, U, null);
        const t = a.value as Tensor;
        return c.out(0, t.dtype, t.dims);
      }
      case 'value_float':
        return c.out(0, DataType.FLOAT, []);
      case 'value_floats':
        return c.out(0, DataType.FLOAT, [a.isRef ? null : (a.value as number[]).length]);
      case 'value_int':
        return c.out(0, DataType.INT64, []);
      case 'value_ints':
        return c.out(0, DataType.INT64, [a.isRef ? null : (a.value as bigint[]).length]);
      case 'value_string':
        return c.out(0, DataType.STRING, []);
      case 'value_strings':
        return c.out(0, DataType.STRING, [a.isRef ? null : (a.value as string[]).length]);
      case 'sparse_value':
        return c.out(0, a.isRef ? U : (a.value as SparseTensor).values.dtype, a.isRef ? null : sparseDims(a.value as SparseTensor));
      default:
        break;
    }
  }
  c.mismatch('Constant has no value attribute');
  c.out(0, U, null);
};

const constantOfShape: ShapeRule = (c) => {
  const v = c.node.attr('value');
  const type = v && v.type === AttributeType.TENSOR && !v.isRef ? (v.value as Tensor).dtype : DataType.FLOAT;
  const dims = c.ints(0);
  if (!dims) {
    c.unresolved('the shape is not a constant');
    return c.out(0, type, c.unknownDims(c.shape(0)?.[0]));
  }
  c.out(0, type, dims);
};

const range: ShapeRule = (c) => {
  const type = firstType(c, 0, 1, 2);
  const scalar = (i: number): Dim => {
    const p = c.ints(i);
    if (p && p.length === 1) return p[0]!;
    const f = c.floats(i);
    return f && f.length === 1 ? f[0]! : null;
  };
  const [start, limit, delta] = [scalar(0), scalar(1), scalar(2)];
  let n: Dim = null;
  if (typeof start === 'number' && typeof limit === 'number' && typeof delta === 'number' && delta !== 0) {
    n = Math.max(0, Math.ceil((limit - start) / delta));
  } else if (typeof delta === 'number' && delta > 0 && Number.isInteger(delta) && start !== null && limit !== null) {
    n = c.alg.ceilDiv(c.alg.sub(limit, start), delta);
  } else {
    c.unresolved('start, limit and delta are not all known');
  }
  c.out(0, type, [n]);
};

const eyeLike: ShapeRule = (c) => c.out(0, c.node.getInt('dtype', c.dtype(0)) as DataType, c.shape(0));

const oneHot: ShapeRule = (c) => {
  const is = c.shape(0);
  const depth = c.ints(1)?.[0] ?? (c.floats(1)?.[0] ?? null);
  const type = c.dtype(2);
  if (!is) return c.out(0, type, null);
  const r = is.length + 1;
  const axis = normAxis(c.node.getInt('axis', -1), r) ?? r - 1;
  const out: Dim[] = [...is];
  out.splice(axis, 0, typeof depth === 'number' ? Math.trunc(depth) : depth);
  c.out(0, type, out);
};

// ---------------------------------------------------------------- selection

const topK: ShapeRule = (c) => {
  const xs = c.shape(0);
  const k = c.opset < 10 ? c.node.getInt('k') ?? null : (c.ints(1)?.[0] ?? null);
  if (!xs) {
    c.out(0, c.dtype(0), null);
    c.out(1, DataType.INT64, null);
    return;
  }
  const axis = normAxis(c.node.getInt('axis', -1), xs.length);
  const out = [...xs];
  if (axis !== undefined) out[axis] = k;
  if (k === null) c.unresolved('K is not a constant');
  c.out(0, c.dtype(0), out);
  c.out(1, DataType.INT64, out);
};

const nonZero: ShapeRule = (c) => {
  const r = c.rank(0);
  c.out(0, DataType.INT64, [r ?? null, null]);
};

const compress: ShapeRule = (c) => {
  const xs = c.shape(0);
  const axis = c.node.getInt('axis');
  if (axis === undefined || !xs) return c.out(0, c.dtype(0), axis === undefined ? [null] : null);
  const a = normAxis(axis, xs.length);
  c.out(0, c.dtype(0), xs.map((d, i) => (i === a ? null : d)));
};

const nms: ShapeRule = (c) => c.out(0, DataType.INT64, [null, 3]);

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

// ---------------------------------------------------------------- quantization

const quantize: ShapeRule = (c) => {
  const type = c.has(2) ? c.dtype(2) : (c.node.getInt('output_dtype', 0) as DataType) || DataType.UINT8;
  c.out(0, type, c.shape(0));
};
const dequantize: ShapeRule = (c) => c.out(0, c.node.getInt('output_dtype', 0) || c.dtype(1), c.shape(0));
const dynamicQuantize: ShapeRule = (c) => {
  c.out(0, DataType.UINT8, c.shape(0));
  c.out(1, DataType.FLOAT, []);
  c.out(2, DataType.UINT8, []);
};

// ---------------------------------------------------------------- recurrent

/**
 * LSTM/GRU/RNN: Y [seq, dirs, batch, hidden] and Y_h (and LSTM's Y_c) [dirs, batch, hidden];
 * with layout=1 (opset 14) batch comes first: Y [batch, seq, dirs, hidden], Y_h [batch, dirs, hidden].
 */
const recurrent: ShapeRule = (c) => {
  const xs = c.shape(0);
  const dirs = c.node.getString('direction', 'forward') === 'bidirectional' ? 2 : 1;
  const hidden: Dim = c.node.getInt('hidden_size') ?? c.shape(2)?.[2] ?? null;
  const layout = c.node.getInt('layout', 0);
  const seq = xs ? (layout === 1 ? xs[1]! : xs[0]!) : null;
  const batch = xs ? (layout === 1 ? xs[0]! : xs[1]!) : null;
  const type = c.dtype(0);
  c.out(0, type, layout === 1 ? [batch, seq, dirs, hidden] : [seq, dirs, batch, hidden]);
  for (let i = 1; i < c.node.outputs.length; i++) c.out(i, type, layout === 1 ? [batch, dirs, hidden] : [dirs, batch, hidden]);
};

// ---------------------------------------------------------------- control flow

function mergeFacts(a: Facts | undefined, b: Facts | undefined): { type: DataType; shape: Dim[] | null } {
  const type = a?.elemType ?? U;
  const sa = a?.shape ?? null;
  const sb = b?.shape ?? null;
  if (!sa || !sb || sa.length !== sb.length) return { type, shape: null };
  return { type, shape: sa.map((d, i) => (d === sb[i] ? d : null)) };
}

const ifRule: ShapeRule = (c) => {
  const thenG = c.node.attr('then_branch');
  const elseG = c.node.attr('else_branch');
  if (!thenG || !elseG || thenG.isRef || elseG.isRef) {
    for (let i = 0; i < c.node.outputs.length; i++) c.out(i, U, null);
    return;
  }
  const t = c.subgraph(thenG.asGraph(), []);
  const e = c.subgraph(elseG.asGraph(), []);
  const cond = c.ints(0)?.[0];
  for (let i = 0; i < c.node.outputs.length; i++) {
    // A constant condition selects one branch; otherwise the branches' common shape.
    const pick = typeof cond === 'number' ? (cond ? t[i] : e[i]) : undefined;
    if (pick) c.out(i, pick.elemType, pick.shape);
    else {
      const m = mergeFacts(t[i], e[i]);
      c.out(i, m.type, m.shape);
    }
  }
};

const loopRule: ShapeRule = (c) => {
  const body = c.node.attr('body');
  const nCarried = Math.max(0, c.inputCount - 2);
  if (!body || body.isRef) {
    for (let i = 0; i < c.node.outputs.length; i++) c.out(i, U, null);
    return;
  }
  const carried = Array.from({ length: nCarried }, (_, i) => c.facts(2 + i));
  const outs = c.subgraph(body.asGraph(), [{ elemType: DataType.INT64, shape: [] }, { elemType: DataType.BOOL, shape: [] }, ...carried]);
  for (let i = 0; i < nCarried && i < c.node.outputs.length; i++) {
    const m = mergeFacts(carried[i], outs[1 + i]);
    c.out(i, m.type !== U ? m.type : (outs[1 + i]?.elemType ?? U), m.shape);
  }
  const trips = c.has(0) ? (c.ints(0)?.[0] ?? null) : null;
  for (let j = nCarried; j < c.node.outputs.length; j++) {
    const f = outs[1 + j];
    c.out(j, f?.elemType ?? U, f?.shape ? [trips, ...f.shape] : null);
  }
};

// ---------------------------------------------------------------- the table

const UNARY_SAME = [
  'Relu', 'LeakyRelu', 'Elu', 'Selu', 'Celu', 'Sigmoid', 'HardSigmoid', 'HardSwish', 'Gelu', 'Erf', 'Tanh',
  'Softmax', 'LogSoftmax', 'Hardmax', 'Softplus', 'Softsign', 'Mish', 'Exp', 'Log', 'Sqrt', 'Reciprocal',
  'Sin', 'Cos', 'Tan', 'Asin', 'Acos', 'Atan', 'Sinh', 'Cosh', 'Asinh', 'Acosh', 'Atanh', 'ThresholdedRelu',
  'Shrink', 'LRN', 'InstanceNormalization', 'MeanVarianceNormalization', 'LpNormalization', 'GroupNormalization',
  'CumSum', 'Trilu', 'BitwiseNot', 'ReverseSequence', 'ScatterElements', 'ScatterND', 'Scatter', 'Swish',
  'RMSNormalization',
];

/** Det: the determinants of the trailing square matrices. */
const det: ShapeRule = (c) => {
  const xs = c.shape(0);
  c.out(0, c.dtype(0), xs ? xs.slice(0, -2) : null);
};

export const SHAPE_RULES: Readonly<Record<string, ShapeRule>> = opTable<ShapeRule>({
  ...Object.fromEntries(UNARY_SAME.map((op) => [op, same])),
  Neg: unaryPartial((v) => -v, false),
  Abs: unaryPartial(Math.abs, true),
  Floor: unaryPartial(Math.floor, true),
  Ceil: unaryPartial(Math.ceil, true),
  Round: unaryPartial((v) => Math.round(v), true),
  Sign: same,
  Det: det,
  Identity: identity,
  Dropout: dropout,
  Clip: clip,
  PRelu: prelu,
  IsNaN: sameBool,
  IsInf: sameBool,
  Not: notRule,
  Cast: cast,
  CastLike: castLike,
  Add: binary(),
  Sub: binary(),
  Mul: binary(),
  Div: binary(),
  Pow: binary(),
  Mod: binary(),
  BitShift: binary(),
  BitwiseAnd: binary(),
  BitwiseOr: binary(),
  BitwiseXor: binary(),
  And: binary(DataType.BOOL),
  Or: binary(DataType.BOOL),
  Xor: binary(DataType.BOOL),
  Equal: binary(DataType.BOOL),
  Less: binary(DataType.BOOL),
  Greater: binary(DataType.BOOL),
  LessOrEqual: binary(DataType.BOOL),
  GreaterOrEqual: binary(DataType.BOOL),
  Max: variadic,
  Min: variadic,
  Sum: variadic,
  Mean: variadic,
  Where: where,
  Conv: conv(0, 1),
  ConvInteger: conv(0, 1, () => DataType.INT32),
  QLinearConv: conv(0, 3, (c) => c.dtype(7)),
  ConvTranspose: convTranspose,
  MaxPool: pool(true),
  AveragePool: pool(false),
  LpPool: pool(false),
  GlobalAveragePool: globalPool,
  GlobalMaxPool: globalPool,
  GlobalLpPool: globalPool,
  Gemm: gemm,
  MatMul: matmul(),
  MatMulInteger: matmul(() => DataType.INT32),
  QLinearMatMul: matmul((c) => c.dtype(7), 3),
  Einsum: einsum,
  BatchNormalization: batchNorm,
  LayerNormalization: layerNorm,
  Reshape: reshape,
  Flatten: flatten,
  Transpose: transpose,
  Concat: concat,
  Split: split,
  Slice: slice,
  Gather: gather,
  GatherElements: gatherElements,
  GatherND: gatherND,
  Squeeze: squeeze,
  Unsqueeze: unsqueeze,
  Shape: shape,
  Size: size,
  Expand: expand,
  Tile: tile,
  Pad: pad,
  Resize: resize,
  Upsample: resize,
  ReduceSum: reduce(13),
  ReduceMean: reduce(18),
  ReduceMax: reduce(18),
  ReduceMin: reduce(18),
  ReduceProd: reduce(18),
  ReduceL1: reduce(18),
  ReduceL2: reduce(18),
  ReduceLogSum: reduce(18),
  ReduceLogSumExp: reduce(18),
  ReduceSumSquare: reduce(18),
  ArgMax: reduce(Infinity, DataType.INT64),
  ArgMin: reduce(Infinity, DataType.INT64),
  Constant: constant,
  ConstantOfShape: constantOfShape,
  Range: range,
  EyeLike: eyeLike,
  OneHot: oneHot,
  TopK: topK,
  NonZero: nonZero,
  Compress: compress,
  NonMaxSuppression: nms,
  DepthToSpace: depthToSpace,
  SpaceToDepth: spaceToDepth,
  QuantizeLinear: quantize,
  DequantizeLinear: dequantize,
  DynamicQuantizeLinear: dynamicQuantize,
  LSTM: recurrent,
  GRU: recurrent,
  RNN: recurrent,
  If: ifRule,
  Loop: loopRule,
});
