/**
 * convert-fp16 — runs the model's float32 computation in float16 (opt-in, approximate),
 * keeping float32 graph inputs and outputs by default (Casts at the boundary).
 *
 * Math: every float32 value computed by a converted node, and every float32 weight read only by
 * converted nodes, becomes float16 (round to nearest even). Casts are inserted where a float32
 * value meets a converted node (→ float16) and where a converted value meets a node that stays
 * float32 or a graph output (→ float32). Results differ from float32 by float16 rounding, so the
 * pass reports rather than claims equivalence.
 *
 * Which ops convert: FP16_OPS below — the ops declaring the `fp16` facet (ops/): their ONNX
 * schema admits float16 and they ran in float16 on onnxruntime-node 1.30 CPU in our probe (one
 * model per op, run at graphOptimizationLevel 'disabled'). onnxruntime's CPU provider has native float16 kernels only
 * for some of them; for the rest its InsertCastTransformer wraps the node in Casts to float32
 * (microsoft/onnxruntime #11831, #16778), so the model runs everywhere but is not necessarily
 * faster on CPU. Everything else stays float32 (Range and Celu failed in float16 in the probe:
 * their declarations say so). An op whose float16 support in onnxruntime depends on the node
 * declares it per node (the facet's `unsafeFor`, called only for such an op: IsInf, float16 from
 * opset 20; ScatterElements and ScatterND, whose float16 kernels refuse some reductions at run
 * time): a node it names stays float32 with that reason, the others convert.
 *
 * Preconditions:
 *  1. Default domain, in FP16_OPS and not named by its facet's `unsafeFor` at the model's opset
 *     [not-fp16-safe], not named in option `block` [blocked-op];
 *     attributes well typed [bad-attribute].
 *  2. The element type of every input and output is known [unknown-dtype] and float inputs are
 *     float32 (no float64/bfloat16 mixing) [mixed-float-types].
 *  3. No subgraph attributes; outputs not read inside subgraphs [captured-by-subgraph].
 *  4. Inputs that must stay float32 are never converted: Resize roi/scales, Upsample scales,
 *     Dropout ratio. Inputs read for their shape only (Shape's; the facet's `anyFloat`) are left
 *     as they are, float32 or float16: no Cast either way, and a graph where nothing else would
 *     change is not changed.
 *  5. Graph inputs/outputs keep float32 unless option `keepIoTypes: false`.
 *  6. Constant float32 inputs (initializers, Constant values) are finite in float16: a weight
 *     with |w| ≥ 65520 would be written as ±inf, so its consumer stays float32
 *     [out-of-fp16-range]. Computed values outside the float16 range become ±inf at run time (a
 *     property of fp16 compute, checked by the error report, not here).
 *
 * Checked locally: the change is one `mutate` that says what it touched (the Casts it inserts,
 * the values whose readers it moves onto them, the graph outputs whose names the Casts take, the
 * weights it retypes), so the session checks it right after it is made with the closing check's
 * rules over those (local-verify.ts, I6 included: a retyped weight's declared type must match its
 * float16 tensor) and no whole-model verify() follows the pass. What verify() checks of types is
 * only that (I6): it has no rule for a node's input and output element types, so neither check
 * catches a consumer left reading the wrong type — the differential tests (onnxruntime) do.
 *
 * Known limits: subgraph bodies are not converted; one change per graph (stopAfterChanges cannot
 * split it).
 */
import { Attribute, DataType, Node, Tensor, type Graph, type TypeInfo, type Value, numberToFloat16Bits } from '@onnxkit/graph';
import { defineRulePass, opt, type ApplyReason } from './rule.js';
import type { RewriteSession } from './session.js';
import { lookup } from '../common/op-table.js';
import { FP16_FACET, FP16_SAFE, notFp16Safe, notFp16SafeNode } from '../ops/registry.js';
import { FLOAT16_OVERFLOW, attributeIssue, fitsFloat, nodeLabel } from './util.js';

/** Ops converted to float16, with input positions that must keep their float32 type: each op's `fp16` facet (ops/). */
export const FP16_OPS: Readonly<Record<string, readonly number[]>> = FP16_SAFE;

const BOUNDARY = 'convert-fp16-boundary';

const REASONS = ['bad-attribute', 'unknown-dtype', 'not-fp16-safe', 'blocked-op', 'mixed-float-types', 'captured-by-subgraph', 'out-of-fp16-range'] as const;
type Session = RewriteSession<(typeof REASONS)[number] | ApplyReason>;

export const convertFp16 = defineRulePass({
  name: 'convert-fp16',
  description: 'Run float32 compute in float16, keeping float32 graph inputs/outputs with boundary Casts (approximate)',
  exact: false,
  reasons: REASONS,
  options: {
    defaults: { keepIoTypes: true, block: [] as readonly string[] },
    parse(loose) {
      opt.only(loose, ['keepIoTypes', 'block']);
      const keepIoTypes = opt.bool(loose, 'keepIoTypes');
      const block = opt.strings(loose, 'block');
      return { ...(keepIoTypes !== undefined ? { keepIoTypes } : {}), ...(block !== undefined ? { block } : {}) };
    },
  },
  sweep(s, options) {
    const keepIo = options.keepIoTypes;
    const block = new Set(options.block);
    convertGraph(s, s.model.graph, block, keepIo);
  },
});

function convertGraph(s: Session, g: Graph, block: Set<string>, keepIo: boolean): void {
  const F = new Set<Node>();
  for (const n of g) {
    let why = eligible(s, g, n, block);
    if (why === true) why = constantsFitFp16(n) ?? true;
    if (why === true) F.add(n);
    else if (why) s.decline(n, why[0], why[1]);
  }
  if (F.size === 0) return;
  // Both from the op's fp16 facet: inputs kept float32 (keepFloat32), and inputs read for their
  // shape only (anyFloat, Shape's) — neither cast to float16 nor back to float32.
  const exempt = (n: Node, i: number): boolean => lookup(FP16_FACET, n.opType)?.keepFloat32.includes(i) === true;
  const asIs = (n: Node, i: number): boolean => lookup(FP16_FACET, n.opType)?.anyFloat?.includes(i) === true;
  const isF32 = (v: Value): boolean => s.facts.dtypeOf(v) === DataType.FLOAT;
  // Values that become float16: outputs of converted nodes, and float32 weights read only by
  // converted nodes at convertible positions (in this graph).
  const converted = new Set<Value>();
  for (const n of F) for (const o of n.outputs) if (o.name && isF32(o)) converted.add(o);
  const weights: Value[] = [];
  for (const v of g.initializers.values()) {
    if (v.isGraphInput || v.isGraphOutput || !v.constValue || v.constValue.dtype !== DataType.FLOAT || v.useCount === 0) continue;
    if (v.uses.every((u) => F.has(u.node) && !exempt(u.node, u.index))) {
      converted.add(v);
      weights.push(v);
    }
  }
  // Input i of converted node n gets a float16 Cast (step 2): a float32 value that stays float32,
  // at a position neither kept float32 nor read as is; a Cast to float32 becomes one to float16 instead.
  const castsTo16 = (n: Node, x: Value | null, i: number): x is Value => x !== null && n.opType !== 'Cast' && !exempt(n, i) && !asIs(n, i) && !converted.has(x) && isF32(x);
  // Nothing becomes float16 and no input needs a float16 Cast (only nodes that read shapes or
  // write no float, e.g. a Shape of a float32 tensor): no change, and none to report each sweep.
  if (converted.size === 0 && ![...F].some((n) => n.inputs.some((x, i) => castsTo16(n, x, i)))) return;

  s.mutate(g, 'convert-fp16', `converted ${F.size} node(s) and ${weights.length} weight(s) of graph '${g.name}' to float16`, () => {
    const added: string[] = [];
    // What the change touched, for the session's local check (RewriteSession.mutate): the Casts
    // it inserts, the values whose readers it moves onto them, the graph outputs whose names the
    // Casts take, the weights it retypes.
    const addedNodes: Node[] = [];
    const released: Value[] = [];
    const renamed: [Value, string][] = [];
    let bytesDelta = 0;
    const to16 = new Map<Value, Value>();
    const to32 = new Map<Value, Value>();
    const place = (src: Value, cast: Node): void => {
      const p = src.producer;
      if (p && p.graph === g) g.insertAfter(p, cast);
      else g.prepend(cast);
      cast.metadataProps.set('onnxkit.rule', BOUNDARY);
      added.push(nodeLabel(cast));
      addedNodes.push(cast);
      released.push(src);
    };
    const cast16 = (x: Value): Value => {
      let c = to16.get(x);
      if (!c) {
        const node = new Node('Cast', [x], { name: `${x.name}_to_fp16`, attributes: [Attribute.int('to', DataType.FLOAT16)], outputs: [s.freshName(`${x.name}_fp16`)] });
        c = node.outputs[0]!;
        s.facts.note(c, retype(s.facts.typeOf(x), DataType.FLOAT16));
        place(x, node);
        to16.set(x, c);
      }
      return c;
    };
    const cast32 = (x: Value, name?: string): Value => {
      let c = name ? undefined : to32.get(x);
      if (!c) {
        const node = new Node('Cast', [x], { name: `${name ?? x.name}_to_fp32`, attributes: [Attribute.int('to', DataType.FLOAT)], outputs: [name ?? s.freshName(`${x.name}_fp32`)] });
        c = node.outputs[0]!;
        const t = retype(s.facts.typeOf(x), DataType.FLOAT);
        // A graph output needs its declared type; intermediates get none (no value_info noise).
        if (name) c.type = t;
        s.facts.note(c, t);
        place(x, node);
        if (!name) to32.set(x, c);
      }
      return c;
    };

    // 1. Weights: new float16 tensors under the same names.
    for (const v of weights) {
      const t = v.constValue!;
      const src = t.toArray() as Float32Array;
      const bits = new Uint16Array(src.length);
      for (let i = 0; i < src.length; i++) bits[i] = numberToFloat16Bits(src[i]!);
      const half = Tensor.fromArray(DataType.FLOAT16, t.dims, bits, { name: v.name });
      bytesDelta += half.byteLength - t.byteLength;
      v.constValue = half;
      v.type = { kind: 'tensor', elemType: DataType.FLOAT16, shape: t.dims };
    }
    // 2. Converted nodes: float32 inputs get a float16 version; type attributes follow.
    for (const n of F) {
      n.inputs.forEach((x, i) => {
        if (castsTo16(n, x, i)) n.setInput(i, cast16(x));
      });
      if (n.opType === 'Cast' && n.getInt('to') === DataType.FLOAT) n.setAttribute(Attribute.int('to', DataType.FLOAT16));
      if (n.opType === 'Constant' || n.opType === 'ConstantOfShape') {
        const a = n.attr('value');
        if (a && !a.isRef && a.asTensor().dtype === DataType.FLOAT) n.setAttribute(Attribute.tensor('value', toHalf(a.asTensor())));
        const f = n.attr('value_float');
        if (f && !f.isRef) {
          n.removeAttribute('value_float');
          n.setAttribute(Attribute.tensor('value', toHalf(Tensor.scalar(DataType.FLOAT, f.asFloat()))));
        }
        const fs = n.attr('value_floats');
        if (fs && !fs.isRef) {
          n.removeAttribute('value_floats');
          const vals = fs.asFloats();
          n.setAttribute(Attribute.tensor('value', toHalf(Tensor.fromNumbers(DataType.FLOAT, [vals.length], vals))));
        }
      }
      for (const o of n.outputs) if (converted.has(o) && o.type) o.type = retype(o.type, DataType.FLOAT16);
    }
    // 3. Converted values read by float32 consumers (other nodes, exempt inputs, subgraphs).
    for (const x of converted) {
      for (const u of [...x.uses]) {
        if (u.node.metadataProps.get('onnxkit.rule') === BOUNDARY) continue;
        if (F.has(u.node) && !exempt(u.node, u.index)) continue;
        u.node.setInput(u.index, cast32(x));
      }
    }
    // 4. Graph outputs keep float32 (the Cast takes the output's name).
    if (keepIo) {
      g.outputs.forEach((o, i) => {
        if (!converted.has(o)) return;
        const name = o.name;
        const declared = o.type;
        o.name = s.freshName(`${name}_fp16`);
        renamed.push([o, name]);
        const c = cast32(o, name);
        if (declared) c.type = retype(declared, DataType.FLOAT);
        g.setOutput(i, c);
      });
    } else {
      for (const o of g.outputs) if (converted.has(o) && o.type) o.type = retype(o.type, DataType.FLOAT16);
    }
    return { added, bytesDelta, details: { nodes: F.size, weights: weights.length }, touched: { addedNodes, released, renamed, retyped: weights } };
  });
  s.metrics['convertedNodes'] = F.size;
  s.metrics['convertedWeights'] = weights.length;
}

/** True when a finite value of `t` would round to ±inf in float16 (|x| ≥ 65520). */
function overflowsFp16(t: Tensor): boolean {
  const src = t.toFloat64();
  for (let i = 0; i < src.length; i++) {
    const x = src[i]!;
    if (Number.isFinite(x) && !fitsFloat(x, DataType.FLOAT16)) return true;
  }
  return false;
}

/** A node reading a constant float32 value that float16 cannot hold stays float32. */
function constantsFitFp16(n: Node): [(typeof REASONS)[number], string] | undefined {
  const exempt = lookup(FP16_FACET, n.opType)?.keepFloat32 ?? [];
  for (let i = 0; i < n.inputs.length; i++) {
    const t = n.inputs[i]?.constValue;
    if (!t || t.dtype !== DataType.FLOAT || exempt.includes(i)) continue;
    if (overflowsFp16(t)) return ['out-of-fp16-range', `'${n.inputs[i]!.name}' holds a value of magnitude ≥ ${FLOAT16_OVERFLOW}, which float16 would store as ±inf`];
  }
  if (n.opType === 'Constant' || n.opType === 'ConstantOfShape') {
    const a = n.attr('value');
    const big = (xs: readonly number[]): boolean => xs.some((x) => Number.isFinite(x) && !fitsFloat(x, DataType.FLOAT16));
    const f = n.attr('value_float');
    const fs = n.attr('value_floats');
    if ((a && !a.isRef && a.asTensor().dtype === DataType.FLOAT && overflowsFp16(a.asTensor())) || (f && !f.isRef && big([f.asFloat()])) || (fs && !fs.isRef && big(fs.asFloats()))) {
      return ['out-of-fp16-range', `its value holds a magnitude ≥ ${FLOAT16_OVERFLOW}, which float16 would store as ±inf`];
    }
  }
  return undefined;
}

function toHalf(t: Tensor): Tensor {
  const src = t.toFloat64();
  const bits = new Uint16Array(src.length);
  for (let i = 0; i < src.length; i++) bits[i] = numberToFloat16Bits(src[i]!);
  return Tensor.fromArray(DataType.FLOAT16, t.dims, bits, { name: t.name });
}

function retype(t: TypeInfo | null, elemType: DataType): TypeInfo | null {
  if (!t || (t.kind !== 'tensor' && t.kind !== 'sparse_tensor')) return t;
  return { ...t, elemType };
}

function eligible(s: Session, g: Graph, n: Node, block: Set<string>): true | [(typeof REASONS)[number], string] | undefined {
  if (n.metadataProps.get('onnxkit.rule') === BOUNDARY) return undefined;
  if (!n.isOnnxDomain) return undefined;
  const issue = attributeIssue(n);
  if (issue) return issue;
  const fp16 = lookup(FP16_FACET, n.opType);
  const floats = [...n.inputs, ...n.outputs].filter((v): v is Value => v !== null && v.name !== '');
  const types = floats.map((v) => s.facts.dtypeOf(v));
  const touchesF32 = types.some((t) => t === DataType.FLOAT) || (n.opType === 'Cast' && n.getInt('to') === DataType.FLOAT);
  if (!touchesF32) {
    // A convertible op whose types are unknown might be float32 compute we cannot see.
    const unknown = floats.find((v, i) => types[i] === undefined);
    return unknown && fp16 !== undefined && n.opType !== 'Cast' ? ['unknown-dtype', `type of '${unknown.name}' is not known`] : undefined;
  }
  if (fp16 === undefined) return ['not-fp16-safe', notFp16Safe(n.opType)];
  // An op float16-safe in some forms only (its fp16 facet's unsafeFor; absent for the others, which pay nothing here).
  const unsafe = fp16.unsafeFor?.(n, s.opset);
  if (unsafe !== undefined) return ['not-fp16-safe', notFp16SafeNode(n.opType, unsafe, s.opset)];
  if (block.has(n.opType)) return ['blocked-op', `${n.opType} is in the block list: stays float32`];
  if (n.subgraphs().length > 0) return ['blocked-op', 'has a subgraph'];
  if (n.opType === 'Cast' && n.getInt('to') !== DataType.FLOAT) return undefined;
  for (let i = 0; i < n.inputs.length; i++) {
    const v = n.inputs[i];
    if (!v) continue;
    const t = s.facts.dtypeOf(v);
    if (t === undefined) return ['unknown-dtype', `type of input '${v.name}' is not known`];
    if (!fp16.keepFloat32.includes(i) && n.opType !== 'Cast' && t !== DataType.FLOAT && (t === DataType.DOUBLE || t === DataType.BFLOAT16 || t === DataType.FLOAT16)) {
      return ['mixed-float-types', `input '${v.name}' is ${DataType[t]}`];
    }
  }
  for (const o of n.outputs) {
    if (!o.name) continue;
    if (s.facts.dtypeOf(o) === undefined) return ['unknown-dtype', `type of output '${o.name}' is not known`];
    if (o.uses.some((u) => u.node.graph !== g)) return ['captured-by-subgraph', `'${o.name}' is read inside a subgraph`];
  }
  return true;
}
