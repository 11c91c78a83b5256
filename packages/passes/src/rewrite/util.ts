/**
 * Small helpers shared by the rewrite passes: reading constants (initializers and Constant
 * nodes), building float tensors from float64 math, attribute checks, axis normalisation and
 * broadcasting facts. Pure functions over the IR; nothing here mutates a graph.
 */
import { AttributeType, DataType, Tensor, dataTypeName, isFloatType, type Graph, type Node, type Value } from '@onnxkit/graph';
import { attributeProblem } from '../common/attribute-schema.js';
import { knownDataTypeInfo } from '../common/data-types.js';
import { opt, type AttributeReason, type OptionsSpec } from './rule.js';
import type { RewriteSession } from './session.js';
import { deferredScaled, scaleRunF32, scaleRunF64 } from './scaled-weight.js';

/** Float element types the weight-rewriting passes compute on (in float64, rounded once). */
export const WEIGHT_FLOAT_TYPES: ReadonlySet<DataType> = new Set([DataType.FLOAT, DataType.DOUBLE, DataType.FLOAT16]);

/**
 * Sets `pairs[0]` to (from, to), refilling the pair a reused patch object already holds (a rule's
 * per-run state: eliminate-identity's bypass, fuse-matmul-add's fusion) instead of allocating one
 * per change.
 */
export function setFirstPair(pairs: [Value, Value][], from: Value, to: Value): void {
  const pair = pairs[0];
  if (pair === undefined) pairs[0] = [from, to];
  else {
    pair[0] = from;
    pair[1] = to;
  }
}

/** "Conv 'name'" style label used in records: the node name, or `OpType#k` when unnamed. */
export function nodeLabel(n: Node): string {
  return n.name || `${n.opType}#unnamed`;
}

/**
 * The constant tensor a value holds, if it is one: a (non-overridable) initializer, or the output
 * of a Constant node with a tensor-valued attribute. An initializer that is also a graph input
 * is a default the caller may override, so it is NOT constant.
 */
export function constantOf(v: Value | null | undefined): Tensor | undefined {
  if (!v) return undefined;
  if (v.isInitializer) return v.isGraphInput ? undefined : (v.constValue ?? undefined);
  const p = v.producer;
  if (p && p.opType === 'Constant' && p.isOnnxDomain && p.outputs[0] === v) return constantNodeValue(p);
  return undefined;
}

/** The tensor a Constant node produces, for every `value*` attribute form; undefined if unknown or malformed. */
export function constantNodeValue(n: Node): Tensor | undefined {
  if (attributeProblem(n) !== undefined) return undefined;
  for (const a of n.attributes.values()) {
    if (a.isRef) return undefined;
    switch (a.name) {
      case 'value':
        return a.type === AttributeType.TENSOR ? a.asTensor() : undefined;
      case 'value_float':
        return Tensor.scalar(DataType.FLOAT, a.asFloat());
      case 'value_floats': {
        const f = a.asFloats();
        return Tensor.fromNumbers(DataType.FLOAT, [f.length], f);
      }
      case 'value_int':
        return Tensor.fromNumbers(DataType.INT64, [], [a.value as bigint]);
      case 'value_ints': {
        const v = a.value as readonly bigint[];
        return Tensor.fromNumbers(DataType.INT64, [v.length], v);
      }
      default:
        // value_string(s) and sparse_value are valid but none of the passes computes on them.
        return undefined;
    }
  }
  return undefined;
}

const SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/**
 * Integer contents of a constant int32/int64 tensor as numbers, saturated at ±(2^53 − 1). Every
 * caller compares them with tensor dims (Slice ends like INT64_MAX, pads, shapes), where any value
 * beyond 2^53 behaves exactly like 2^53 — so saturating never changes a decision, unlike wrapping.
 * Undefined for any other element type: ONNX types shapes, pads, axes and slice bounds as
 * int64 (int32 for some), so a float or string tensor there is a malformed model, never
 * something to truncate.
 */
export function intsOf(t: Tensor): number[] | undefined {
  if (t.dtype === DataType.INT64) {
    return Array.from(t.toBigInt64(), (v) => (v > SAFE ? Number.MAX_SAFE_INTEGER : v < -SAFE ? -Number.MAX_SAFE_INTEGER : Number(v)));
  }
  if (t.dtype === DataType.INT32) return Array.from(t.toArray() as Int32Array);
  return undefined;
}

/** True for tensors whose elements are real numbers (float, integer, bool): `toFloat64` is their value. */
export function isRealNumeric(t: Tensor): boolean {
  const k = knownDataTypeInfo(t.dtype)?.kind;
  return k === 'float' || k === 'int' || k === 'uint' || k === 'bool';
}

/** A float tensor of `dtype` from float64 values, rounded once. */
export function floatTensor(dtype: DataType, dims: readonly number[], values: Float64Array | readonly number[], name = ''): Tensor {
  if (dtype === DataType.FLOAT) return Tensor.fromArray(DataType.FLOAT, dims, Float32Array.from(values), { name });
  if (dtype === DataType.DOUBLE) return Tensor.fromArray(DataType.DOUBLE, dims, Float64Array.from(values), { name });
  if (!isFloatType(dtype)) throw new RangeError(`floatTensor: ${dataTypeName(dtype)} is not a float type`);
  return Tensor.fromNumbers(dtype, dims, values, { name });
}

/** An int64 1-D tensor. */
export function int64Tensor(values: readonly (number | bigint)[], name = ''): Tensor {
  return Tensor.fromNumbers(DataType.INT64, [values.length], values, { name });
}

/** Product of dims. */
export function product(dims: readonly number[]): number {
  let n = 1;
  for (const d of dims) n *= d;
  return n;
}

/** Normalises a possibly negative axis for `rank`; undefined when out of range (one helper for the package). */
export { normAxis } from '../ops/axes.js';

/** True when every element of a float/int tensor equals `x` exactly (bit-level for ±0 is not distinguished). */
export function allEqual(t: Tensor, x: number): boolean {
  if (t.dtype === DataType.BOOL || !isRealNumeric(t)) return false;
  if (t.dtype === DataType.INT64 || t.dtype === DataType.UINT64) {
    if (!Number.isSafeInteger(x)) return false;
    const b = BigInt(x);
    for (const v of t.toArray() as BigInt64Array) if (v !== b) return false;
    return true;
  }
  // Types whose storage elements are their values: read them in place (no float64 copy).
  const a = DIRECT_NUMERIC.has(t.dtype) ? (t.toArray() as Float32Array) : t.toFloat64();
  for (let i = 0; i < a.length; i++) if (a[i] !== x) return false;
  return true;
}

const DIRECT_NUMERIC: ReadonlySet<DataType> = new Set([DataType.FLOAT, DataType.DOUBLE, DataType.INT8, DataType.INT16, DataType.INT32, DataType.UINT8, DataType.UINT16, DataType.UINT32]);

/**
 * The attribute names an op's rewrite understands. A node carrying any other attribute is left
 * alone ("unknown-attribute"), since an attribute we do not know may change the semantics.
 */
export function unknownAttribute(n: Node, known: readonly string[]): string | undefined {
  // Most nodes a rule checks carry no attribute: no iterators for them.
  if (n.attributes.size === 0) return undefined;
  for (const a of n.attributes.keys()) if (!known.includes(a)) return a;
  for (const a of n.attributes.values()) if (a.isRef) return a.name;
  return undefined;
}

/**
 * Why a rewrite must leave `n` alone because of its attributes: one of the wrong type or an
 * impossible value (`bad-attribute`: the node is malformed — see common/attribute-schema.ts), or,
 * when `known` is given, one the rule does not understand (`unknown-attribute`). Every pass asks
 * this before reading a node's attributes, so a malformed node is declined, never a crash.
 */
export function attributeIssue(n: Node): [reason: 'bad-attribute', detail: string] | undefined;
export function attributeIssue(n: Node, known: readonly string[] | undefined): [reason: AttributeReason, detail: string] | undefined;
export function attributeIssue(n: Node, known?: readonly string[]): [reason: AttributeReason, detail: string] | undefined {
  const bad = attributeProblem(n);
  if (bad !== undefined) return ['bad-attribute', `${nodeLabel(n)}: ${bad}`];
  if (known !== undefined) {
    const u = unknownAttribute(n, known);
    if (u !== undefined) return ['unknown-attribute', `${n.opType} attribute '${u}' is not understood`];
  }
  return undefined;
}

/** The INTS attribute as numbers, or `fallback`. */
export function intsAttr(n: Node, name: string, fallback: number[]): number[] {
  const a = n.attr(name);
  return a && a.type === AttributeType.INTS ? a.asInts() : fallback;
}


/**
 * For a constant of dims `c` combined element-wise with a tensor of rank `rank` whose channel axis
 * is `axis` (size `channels`): the per-channel vector it applies, or undefined when the constant
 * varies along any other axis or would change the output shape. A scalar applies to every channel.
 */
export function perChannelValues(c: Tensor, rank: number, axis: number, channels: number): Float64Array | undefined {
  const dims = c.dims;
  if (dims.length > rank) return undefined;
  const offset = rank - dims.length;
  let channelDim = 1;
  for (let i = 0; i < dims.length; i++) {
    const outAxis = i + offset;
    if (outAxis === axis) {
      if (dims[i] !== channels && dims[i] !== 1) return undefined;
      channelDim = dims[i]!;
    } else if (dims[i] !== 1) {
      return undefined;
    }
  }
  const f = c.toFloat64();
  const out = new Float64Array(channels);
  for (let k = 0; k < channels; k++) out[k] = channelDim === 1 ? f[0]! : f[k]!;
  return out;
}

/** Bit-exact key of a float (distinguishes -0 from +0 and NaN payloads). */
export function floatBitsKey(x: number): string {
  const b = new Float32Array([x]);
  return new Uint32Array(b.buffer)[0]!.toString(16);
}

/**
 * A fingerprint of a tensor's bytes: dtype, dims, length and up to 64 evenly spaced 32-bit
 * words. Cheap (O(1) reads); equal fingerprints still need a full byte comparison.
 */
export function tensorFingerprint(t: Tensor): string {
  if (t.dtype === DataType.STRING) return `s|${t.dims.join('x')}|${t.texts().join('\u0000')}`;
  const bytes = t.bytes();
  const words = Math.floor(bytes.byteLength / 4);
  const parts: number[] = [];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const samples = Math.min(64, words);
  for (let i = 0; i < samples; i++) {
    const w = samples === 1 ? 0 : Math.floor((i * (words - 1)) / (samples - 1));
    parts.push(view.getUint32(w * 4, true));
  }
  for (let i = words * 4; i < bytes.byteLength; i++) parts.push(bytes[i]!);
  return `${t.dtype}|${t.dims.join('x')}|${bytes.byteLength}|${parts.join(',')}`;
}

/** Byte-for-byte equality of two tensors (dtype, dims and data). */
export function tensorsIdentical(a: Tensor, b: Tensor): boolean {
  if (a === b) return true;
  if (a.dtype !== b.dtype || a.dims.length !== b.dims.length) return false;
  for (let i = 0; i < a.dims.length; i++) if (a.dims[i] !== b.dims[i]) return false;
  if (a.dtype === DataType.STRING) {
    const x = a.strings();
    const y = b.strings();
    if (x.length !== y.length) return false;
    for (let i = 0; i < x.length; i++) if (!bytesEqual(x[i]!, y[i]!)) return false;
    return true;
  }
  return bytesEqual(a.bytes(), b.bytes());
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false;
  if (a.byteOffset % 4 === 0 && b.byteOffset % 4 === 0) {
    const n = a.byteLength >> 2;
    const x = new Uint32Array(a.buffer, a.byteOffset, n);
    const y = new Uint32Array(b.buffer, b.byteOffset, n);
    for (let i = 0; i < n; i++) if (x[i] !== y[i]) return false;
    for (let i = n * 4; i < a.byteLength; i++) if (a[i] !== b[i]) return false;
    return true;
  }
  for (let i = 0; i < a.byteLength; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * Element values of a float tensor without conversion where possible: the zero-copy storage
 * array for float32/float64, a float64 copy otherwise. Read-only.
 */
export function floatView(t: Tensor): Float32Array | Float64Array {
  if (t.dtype === DataType.FLOAT || t.dtype === DataType.DOUBLE) return t.toArray() as Float32Array | Float64Array;
  return t.toFloat64();
}

/** A scratch array for results in `dtype`: float32 storage for float (one rounding on store), float64 otherwise. */
export function floatScratch(dtype: DataType, n: number): Float32Array | Float64Array {
  return dtype === DataType.FLOAT ? new Float32Array(n) : new Float64Array(n);
}

/** A tensor of `dtype` from a scratch array made by `floatScratch` (zero-copy for float32/float64). */
export function tensorFromScratch(dtype: DataType, dims: readonly number[], data: Float32Array | Float64Array): Tensor {
  if (dtype === DataType.FLOAT && data instanceof Float32Array) return Tensor.fromArray(DataType.FLOAT, dims, data);
  if (dtype === DataType.DOUBLE && data instanceof Float64Array) return Tensor.fromArray(DataType.DOUBLE, dims, data);
  return floatTensor(dtype, dims, data as Float64Array);
}

/**
 * A float weight scaled per row (out[r·per + k] = w[r·per + k] · scale[r], float64 multiply, one
 * rounding on store), as a new scratch array for `tensorFromScratch`: float32/float64 data is
 * copied once into the result (whatever its alignment in the file; a lazy weight is read from its
 * file straight into it) and scaled in place, so a 100 MB weight costs one new array, not a read
 * buffer or an aligned copy plus the result.
 */
function scaledCopy(w: Tensor, scale: Float64Array, per: number): Float32Array | Float64Array {
  let out: Float32Array | Float64Array;
  if (w.dtype === DataType.FLOAT || w.dtype === DataType.DOUBLE) {
    out = w.dtype === DataType.FLOAT ? new Float32Array(w.size) : new Float64Array(w.size);
    w.copyTo(new Uint8Array(out.buffer)); // a lazy weight is read straight into the result
  } else {
    out = w.toFloat64(); // always a fresh array for the other float types
  }
  // In place, in the monomorphic loop of the array's type (the BN fold's hot loop).
  if (out instanceof Float32Array) scaleRunF32(out, scale, per, 0);
  else scaleRunF64(out, scale, per, 0);
  return out;
}

/** The smallest magnitude float16 stores as ±inf: halfway past its largest value 65504, rounded to even. */
export const FLOAT16_OVERFLOW = 65520;

/** Whether the float64 result `x` stays finite once stored in `dtype` (float32 rounds to ±inf from FLT_MAX + ½ ulp, float16 from FLOAT16_OVERFLOW). */
export function fitsFloat(x: number, dtype: DataType): boolean {
  if (dtype === DataType.FLOAT) return Number.isFinite(Math.fround(x));
  if (dtype === DataType.FLOAT16) return Math.abs(x) < FLOAT16_OVERFLOW;
  return Number.isFinite(x);
}

/**
 * Where a per-row scaling of a finite weight would overflow its type (the fold would write ±inf
 * where the model computes finite values): the first row whose largest finite |W| times
 * |rowScale(r)| does not fit, as a sentence, or undefined. Rows are `rows` runs of `size / rows`
 * elements (layout 'rows'), or the columns of a [size / rows, rows] matrix ('columns'). A float32
 * or float64 weight still in its file is not read (the fold scales it as it is written, and reading
 * it here would cost the lazy fold its point): undefined.
 */
export function scaledWeightOverflow(w: Tensor, rows: number, rowScale: (r: number) => number, layout: 'rows' | 'columns' = 'rows'): string | undefined {
  if (w.isLazy && (w.dtype === DataType.FLOAT || w.dtype === DataType.DOUBLE)) return undefined;
  const W = floatView(w);
  const max = new Float64Array(rows);
  const per = W.length / rows;
  if (layout === 'rows') {
    for (let r = 0, i = 0; r < rows; r++) {
      let m = 0;
      for (const end = i + per; i < end; i++) {
        const a = Math.abs(W[i]!);
        if (a > m && a !== Infinity) m = a;
      }
      max[r] = m;
    }
  } else {
    for (let i = 0; i < W.length; ) {
      for (let c = 0; c < rows; c++, i++) {
        const a = Math.abs(W[i]!);
        if (a > max[c]! && a !== Infinity) max[c] = a;
      }
    }
  }
  for (let r = 0; r < rows; r++) {
    const product = max[r]! * Math.abs(rowScale(r));
    // (a NaN factor makes the row NaN before and after the fold alike)
    if (product === product && !fitsFloat(product, w.dtype)) return `${layout === 'rows' ? 'row' : 'column'} ${r}: |W| up to ${max[r]} times ${Math.abs(rowScale(r))} overflows ${dataTypeName(w.dtype)}`;
  }
  return undefined;
}

/**
 * A float weight scaled per row, as a tensor of the weight's dtype and dims: deferred when the
 * weight still lives in its file (its bytes are scaled as they are written, scaled-weight.ts),
 * else `scaledCopy`'s array. The one entry every per-output-channel weight fold (BatchNorm, a
 * Mul after Conv/Gemm) goes through, so a lazily imported model is folded without reading it.
 */
export function scaledWeight(w: Tensor, scale: Float64Array, rows: number, per: number): Tensor {
  return deferredScaled(w, scale, rows, per) ?? tensorFromScratch(w.dtype, w.dims, scaledCopy(w, scale, per));
}

/**
 * Drops trailing omitted (null) inputs: `[x, w, null]` → `[x, w]`. Both mean the same in ONNX, but
 * a trailing '' in the file makes some consumers (onnxruntime's ConvBNFusion, onnxoptimizer)
 * take the bias as present and skip their own fusions.
 */
export function trimInputs<T>(inputs: readonly (T | null)[]): (T | null)[] {
  let n = inputs.length;
  while (n > 0 && inputs[n - 1] === null) n--;
  return inputs.slice(0, n);
}

/**
 * The float32 tensor of an initializer a weight rule may store another way (fp16-weights,
 * quantize-weights-int8): read by some node, not a graph input or output; else undefined.
 */
export function storedFloat32Weight(v: Value): Tensor | undefined {
  const t = v.constValue;
  return t && t.dtype === DataType.FLOAT && !v.isGraphInput && !v.isGraphOutput && v.useCount > 0 ? t : undefined;
}

/** The one option of the weight-compression passes: the smallest initializer (in elements) they touch. */
export function minElementsOption(defaultValue: number): OptionsSpec<{ minElements: number }> {
  return {
    defaults: { minElements: defaultValue },
    parse(loose) {
      opt.only(loose, ['minElements']);
      const minElements = opt.num(loose, 'minElements', (x) => Number.isInteger(x) && x >= 0);
      return minElements !== undefined ? { minElements } : {};
    },
  };
}

/** A whole-graph sweep: `run` on the main graph and every live subgraph, until the session stops. */
export function sweepLiveGraphs<S extends RewriteSession<string>>(run: (s: S, g: Graph) => void): (s: S) => void {
  return (s) => {
    for (const g of s.liveGraphs()) {
      if (s.stopped) return;
      run(s, g);
    }
  };
}

/**
 * The check of a back-to-back pair (Reshape→Reshape, Squeeze/Unsqueeze→Squeeze/Unsqueeze): both
 * nodes' attributes well-formed and among `known`, and the first node has a data input.
 */
export function pairIssue(first: Node, second: Node, known: readonly string[]): [reason: AttributeReason | 'missing-input', detail: string] | undefined {
  return attributeIssue(first, known) ?? attributeIssue(second, known) ?? (first.inputs[0] ? undefined : ['missing-input', `${nodeLabel(first)} has no data input`]);
}
