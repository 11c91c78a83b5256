/**
 * Shape-inference helpers shared by the op modules: numpy broadcasting of symbolic shapes, dim merging,
 * the same-shape rules, and the Conv/pooling window arithmetic.
 */
import { DataType, type Dim, type Node } from '@onnxkit/graph';
import type { RuleContext, ShapeRule } from '../analysis/inference-types.js';

export const U = DataType.UNDEFINED;

export function firstType(c: RuleContext, ...idx: number[]): DataType {
  return firstTypeOf(c, idx);
}

/** The first known element type among the inputs `idx` (UNDEFINED when none is known). */
export function firstTypeOf(c: RuleContext, idx: readonly number[]): DataType {
  for (const i of idx) {
    const t = c.dtype(i);
    if (t !== U) return t;
  }
  return U;
}

/** Symbolic numpy broadcasting of one axis; reports concrete conflicts. */
export function broadcastDim(c: RuleContext, dims: readonly Dim[]): Dim {
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
  if (shapes.length === 2) return broadcastTwo(c, shapes[0]!, shapes[1]!);
  if (shapes.some((s) => s === null)) return null;
  const ss = shapes as (readonly Dim[])[];
  const rank = ss.reduce((m, s) => Math.max(m, s.length), 0);
  const out: Dim[] = [];
  for (let i = 0; i < rank; i++) {
    out.push(broadcastDim(c, ss.map((s) => (i - (rank - s.length) >= 0 ? s[i - (rank - s.length)]! : 1))));
  }
  return out;
}

/** broadcastShapesSymbolic of two shapes (every binary op) without a dims array per axis. */
function broadcastTwo(c: RuleContext, a: readonly Dim[] | null, b: readonly Dim[] | null): Dim[] | null {
  if (a === null || b === null) return null;
  const rank = Math.max(a.length, b.length);
  const oa = rank - a.length;
  const ob = rank - b.length;
  const pair: Dim[] = [1, 1];
  const out: Dim[] = [];
  for (let i = 0; i < rank; i++) {
    pair[0] = i >= oa ? a[i - oa]! : 1;
    pair[1] = i >= ob ? b[i - ob]! : 1;
    out.push(broadcastDim(c, pair));
  }
  return out;
}

/** The pair broadcastTwoShared hands broadcastDim (which does not call back into it). */
const PAIR: Dim[] = [1, 1];

/**
 * broadcastShapesSymbolic(c, [a, b]) — the same dims, the same reports — returned as `a` itself
 * when it equals `a` (an Add of a bias, a Mul by a scalar, an element-wise op of two same-shaped
 * values): shapes are read-only, so a rule that only passes the result to `out` saves an array
 * per node (and `out` then shares the input's facts).
 */
export function broadcastTwoShared(c: RuleContext, a: readonly Dim[] | null, b: readonly Dim[] | null): readonly Dim[] | null {
  if (a === null || b === null) return null;
  if (b.length > a.length) return broadcastTwo(c, a, b);
  const ob = a.length - b.length;
  let out: Dim[] | undefined;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    PAIR[0] = x;
    PAIR[1] = i >= ob ? b[i - ob]! : 1;
    const d = broadcastDim(c, PAIR);
    if (out !== undefined) out.push(d);
    else if (d !== x) {
      out = a.slice(0, i);
      out.push(d);
    }
  }
  return out ?? a;
}

/** Merge two claims about the same dim (equal or one unknown); reports concrete conflicts. */
export function mergeDim(c: RuleContext, a: Dim, b: Dim, what: string): Dim {
  if (a === null) return b;
  if (b === null) return a;
  if (a === b) return a;
  if (typeof a === 'number' && typeof b === 'number') {
    c.mismatch(`${what}: ${a} vs ${b}`);
    return null;
  }
  return typeof a === 'number' ? a : typeof b === 'number' ? b : a;
}

export function intsAttr(c: RuleContext, name: string): number[] | undefined {
  return c.node.getInts(name);
}

export function isIntType(t: DataType): boolean {
  return t === DataType.INT64 || t === DataType.INT32 || t === DataType.INT16 || t === DataType.INT8 || t === DataType.UINT8 || t === DataType.UINT16 || t === DataType.UINT32 || t === DataType.UINT64;
}

export const same: ShapeRule = (c) => c.out(0, c.dtype(0), c.shape(0));

export const sameBool: ShapeRule = (c) => c.out(0, DataType.BOOL, c.shape(0));

export const identity: ShapeRule = (c) => {
  same(c);
  const p = c.ints(0);
  if (p) c.partial(0, p);
};

/** A Conv/pooling window over some spatial axes: `kernel` as given, the other attributes as windowParams reads them. */
export interface WindowParams<K extends Dim = Dim> {
  kernel: readonly K[];
  strides: number[];
  dilations: number[];
  pads: number[];
  autoPad: string;
  ceil: boolean;
}

/**
 * The window attributes of a Conv/pooling `node` over `spatial` axes, ONNX's defaults where it
 * has none: strides and dilations 1, pads 0, auto_pad NOTSET, ceil_mode off (only 1 is on, as
 * onnxruntime 1.30 reads it: ceil_mode 2 floors, test/ops/window.test.ts). The one place these
 * defaults are written: the shape rules (windowOut) and the float64 kernels (kernels/reference:
 * conv, pool; Col2Im, MaxUnpool) read it.
 */
export function windowParams<K extends Dim>(node: Node, spatial: number, kernel: readonly K[]): WindowParams<K> {
  return {
    kernel,
    strides: node.getInts('strides') ?? new Array<number>(spatial).fill(1),
    dilations: node.getInts('dilations') ?? new Array<number>(spatial).fill(1),
    pads: node.getInts('pads') ?? new Array<number>(2 * spatial).fill(0),
    autoPad: node.getString('auto_pad', 'NOTSET'),
    ceil: node.getInt('ceil_mode', 0) === 1,
  };
}

/** Output extent of one spatial axis of Conv/pooling (ONNX spec formulas, incl. ceil_mode). */
export function windowOut(c: RuleContext, p: WindowParams, i: number, spatial: number, inDim: Dim): Dim {
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

/** Axes from the attribute before `inputOpset`, from input 1 after; null when absent. */
export function axesOf(c: RuleContext, inputOpset: number, inputIdx = 1): number[] | null | undefined {
  if (c.opset < inputOpset) return intsAttr(c, 'axes') ?? null;
  if (!c.has(inputIdx)) return null;
  return c.exactInts(inputIdx);
}

/** Input i's value when it is one known element (a constant, or a partial value: a number or a symbol), else null. */
export function scalarInput(c: RuleContext, i: number): Dim {
  const v = c.ints(i);
  return v?.length === 1 ? v[0]! : null;
}

/** A length read from a constant input or attribute: a negative one is reported (`what`) and left unknown. */
export function nonNegativeDim(c: RuleContext, d: Dim, what: string): Dim {
  if (typeof d === 'number' && d < 0) {
    c.mismatch(`${what} is ${d}; it must not be negative`);
    return null;
  }
  return d;
}
