/**
 * fold-constants — evaluates nodes whose inputs are all constant and stores the results as
 * initializers.
 *
 * What: (1) Constant nodes become initializers; (2) Shape (with start/end) and Size of a value
 * whose shape is statically known fold even though the value itself is not constant; (3) any
 * other default-domain node whose inputs are all constant is evaluated — first by the TypeScript
 * kernels (`evaluateNode` from ../kernels), else by the pluggable `ConstantEvaluator`
 * (onnxruntime, provided by packages/runtime) — and replaced by initializers. Walking in graph
 * order folds whole constant chains (PyTorch's Shape→Gather→Unsqueeze→Concat→Reshape) in a sweep.
 *
 * Math: a deterministic node of constant inputs has constant outputs.
 *
 * Preconditions:
 *  1. Default ONNX domain (a node of another domain with constant inputs is declined
 *     [unknown-domain]); no attribute of the wrong type or an impossible value [bad-attribute].
 *     Nodes with subgraph attributes (If, Loop, Scan) are never evaluated: declined [no-kernel]
 *     with that reason when every input is constant, else skipped (not counted).
 *  2. Never random or non-deterministic ops: RandomNormalLike, RandomUniformLike, Multinomial,
 *     Bernoulli with constant inputs are declined [no-kernel] with their op's reason (its
 *     `nondeterministic` facet: the output is random); RandomNormal/RandomUniform read no input
 *     and Dropout is left to eliminate-identity (which checks training mode): skipped, not counted.
 *  3. Shape/Size: the dims it returns (all of them for Size, those between start and end for
 *     Shape) must be known numbers from trusted facts (shape inference or declared graph inputs —
 *     never a stale value_info) [shape-not-static]; other dims may stay symbolic.
 *  4. Never a compressed weight's decompression: a Cast or DequantizeLinear whose data input is a
 *     float16/bfloat16/int8/uint8/int4/uint4 constant and whose output is a wider float type
 *     (what fp16-weights, quantize-weights-int8 and quantize insert) is declined
 *     [compressed-weight] — folding it would store the float tensor again, undo the compression,
 *     and make a pipeline that compresses never converge.
 *  5. A kernel or the evaluator produced every used output [no-kernel] (its detail is the op's own
 *     reason, from its module in ops/ — registry noKernelWhy: not registered, random, body graphs,
 *     no kernel declared, with what the module states of its undeclared facets, or a kernel that
 *     does not cover the node's form — worded once per op type), with the declared dtype
 *     when there is one [dtype-mismatch]; a kernel that finds the computation invalid (integer
 *     division by zero, …) is reported [kernel-error], never thrown, and so is an evaluator
 *     failure [evaluator-error]. Option `kernels: false`
 *     leaves everything but Shape/Size/Constant to the evaluator.
 *  6. Byte budget: each produced tensor ≤ `maxTensorBytes` and the pass's total ≤ `maxTotalBytes`
 *     (defaults FOLD_CONSTANTS_BUDGET: 16 MiB / 64 MiB) [budget-exceeded] — folding an Expand or a
 *     ConstantOfShape can otherwise blow up the file. Checked BEFORE evaluating: from the output
 *     shapes shape inference gives (for the kernels and the evaluator alike), and by the kernels
 *     themselves (`evaluateNode`'s `maxOutputBytes`), which size their outputs from the inputs
 *     and refuse before allocating — a ConstantOfShape of 4 GiB is declined, never built.
 *  7. Outputs that are graph outputs are not turned into initializers [graph-output-name].
 *
 * Known limits: nodes that only some inputs make constant (x·0) are not simplified; the
 * evaluator is called one node at a time.
 */
import { DataType, Tensor, dataTypeName, type Graph, type Node, type Shape, type Value } from '@onnxkit/graph';
import { elementBits } from '../common/data-types.js';
import { lookup } from '../common/op-table.js';
import { evaluateNode, KernelBudgetError } from '../kernels/index.js';
import { shapeRange } from '../ops/axes.js';
import { KERNEL_FACET, NONDETERMINISTIC_OPS, noKernelWhy, type NoKernelWhy } from '../ops/registry.js';
import { defineRulePass, opt, type ApplyReason } from './rule.js';
import type { RewriteSession } from './session.js';
import type { ChangeScope } from './types.js';
import { attributeIssue, constantNodeValue, nodeLabel } from './util.js';

/** Default byte budget for tensors produced by folding (overridable per run). */
export const FOLD_CONSTANTS_BUDGET = Object.freeze({
  /** Largest single tensor fold-constants will materialise. */
  maxTensorBytes: 16 * 1024 * 1024,
  /** Total bytes of new tensors in one run of the pass. */
  maxTotalBytes: 64 * 1024 * 1024,
});

type EvaluateNode = typeof evaluateNode;

const REASONS = ['bad-attribute', 'unknown-domain', 'shape-not-static', 'compressed-weight', 'budget-exceeded', 'kernel-error', 'evaluator-error', 'no-kernel', 'dtype-mismatch'] as const;

/** Storage types of compressed weights (fp16-weights, quantize-weights-int8, quantize). */
const COMPRESSED_TYPES: ReadonlySet<DataType> = new Set([DataType.FLOAT16, DataType.BFLOAT16, DataType.INT8, DataType.UINT8, DataType.INT4, DataType.UINT4]);

/**
 * Why `n` is the decompression of a compressed weight — a Cast or DequantizeLinear whose data
 * input is a float16/bfloat16/int8/uint8/int4/uint4 constant and whose output is a wider float —
 * or undefined. Folding it would store the float tensor again and undo the compression (and the
 * compressing pass would redo it next sweep: the pipeline would never converge).
 */
function compressedWeightIssue(s: Session, n: Node, x: Tensor | null | undefined): string | undefined {
  if ((n.opType !== 'Cast' && n.opType !== 'DequantizeLinear') || !x || !COMPRESSED_TYPES.has(x.dtype)) return undefined;
  const o = n.outputs[0];
  const to = n.opType === 'Cast' ? n.getInt('to', 0) : o ? (s.facts.dtypeOf(o) ?? DataType.FLOAT) : undefined;
  if (to !== DataType.FLOAT && to !== DataType.DOUBLE && to !== DataType.FLOAT16 && to !== DataType.BFLOAT16) return undefined;
  const toBits = elementBits(to);
  const fromBits = elementBits(x.dtype);
  if (toBits === undefined || fromBits === undefined || toBits <= fromBits) return undefined;
  return `${n.opType} ${nodeLabel(n)} decompresses the ${dataTypeName(x.dtype)} weight '${n.inputs[0]?.name ?? ''}' to ${dataTypeName(to)}: folding it would undo the compression`;
}
type Session = RewriteSession<(typeof REASONS)[number] | ApplyReason>;

export interface FoldConstantsOptions {
  /** Largest single tensor the pass materialises (bytes). */
  readonly maxTensorBytes: number;
  /** Total bytes of new tensors in one run. */
  readonly maxTotalBytes: number;
  /** False: leave everything but Shape/Size/Constant to the evaluator. */
  readonly kernels: boolean;
}

export const foldConstants = defineRulePass({
  name: 'fold-constants',
  description: 'Evaluate nodes whose inputs are constant (TS kernels, optional onnxruntime evaluator) and store results as initializers',
  exact: true,
  reasons: REASONS,
  options: {
    defaults: { ...FOLD_CONSTANTS_BUDGET, kernels: true },
    parse(loose) {
      opt.only(loose, ['maxTensorBytes', 'maxTotalBytes', 'kernels']);
      const size = (x: number) => Number.isFinite(x) && x >= 0;
      const maxTensorBytes = opt.num(loose, 'maxTensorBytes', size);
      const maxTotalBytes = opt.num(loose, 'maxTotalBytes', size);
      const kernels = opt.bool(loose, 'kernels');
      return { ...(maxTensorBytes !== undefined ? { maxTensorBytes } : {}), ...(maxTotalBytes !== undefined ? { maxTotalBytes } : {}), ...(kernels !== undefined ? { kernels } : {}) };
    },
  },
  // Every node is a candidate (any op with constant inputs), and the evaluator is asynchronous:
  // a whole-graph sweep in graph order, through the same session primitive and typed reasons.
  async sweep(s, options) {
    const state = { kernels: options.kernels, total: 0, maxTensor: options.maxTensorBytes, maxTotal: options.maxTotalBytes, byKernel: 0, byEvaluator: 0 };
    const evaluate: EvaluateNode | undefined = options.kernels ? evaluateNode : undefined;
    // After a quiet run, only nodes the patches since touched can have become foldable (PassContext.scope).
    const scope = s.scope;
    for (const g of scope !== undefined && !mayFoldIn(s, s.model.graph, scope) ? [] : s.liveGraphs()) {
      // A cursor walk (Graph's iterator allocates a result per node). A fold removes the node
      // and the orphans before it and inserts none, so the next node, read first, stays put.
      for (let n = g.firstNode; n !== null; ) {
        if (s.stopped) break;
        const next = n.next;
        const p = foldNode(s, g, n, evaluate, state);
        if (p) await p;
        // (Were `next` removed, its `next` would read null and end the walk silently: say so.)
        if (next !== null && next.graph !== g) throw new Error(`internal: fold-constants removed ${nodeLabel(next)}, the node after the one it folded`);
        n = next;
      }
    }
    s.metrics['bytesProduced'] = state.total;
    s.metrics['byKernel'] = state.byKernel;
    s.metrics['byEvaluator'] = state.byEvaluator;
    s.metrics['kernelsUsed'] = evaluate !== undefined;
  },
});

/**
 * Whether the sweep could fold or decline anything after the changes in `scope` (the run before
 * did neither, and the patches since left every other value's facts as they were): a node that
 * could is one the patches inserted, the producer of an input of one (its output newly read: an
 * unread node is passed by, and a new node may read a value no removed node read, which the
 * scope's values do not list), or one that reads or produces a value they touched (a new
 * constant input, an output newly read). Conservative: anything foldNode might look at further.
 */
function mayFoldIn(s: Session, g: Graph, scope: ChangeScope): boolean {
  const nodes = scope.nodes;
  for (let i = 0; i < nodes.length; i++) {
    const n = nodes[i]!;
    if (n.graph !== g) continue;
    if (mayFold(s, n)) return true;
    const ins = n.inputs;
    for (let k = 0; k < ins.length; k++) {
      const p = ins[k]?.producer;
      if (p !== null && p !== undefined && p.graph === g && mayFold(s, p)) return true;
    }
  }
  const values = scope.values;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    const p = v.producer;
    if (p !== null && p.graph === g && mayFold(s, p)) return true;
    if (v.useCount === 0) continue;
    const uses = v.uses;
    for (let k = 0; k < uses.length; k++) if (uses[k]!.node.graph === g && mayFold(s, uses[k]!.node)) return true;
  }
  return false;
}

/** Whether foldNode could act on `n` (fold it or decline it): a Constant, Shape or Size, or every present input constant. */
function mayFold(s: Session, n: Node): boolean {
  const op = n.opType;
  if (op === 'Constant' || op === 'Shape' || op === 'Size') return true;
  const ins = n.inputs;
  if (ins.length === 0) return false;
  for (let i = 0; i < ins.length; i++) {
    const v = ins[i];
    if (v !== null && v !== undefined && !s.facts.constOf(v)) return false;
  }
  return true;
}

interface FoldState {
  /** Whether the TypeScript kernels run (option `kernels`). */
  kernels: boolean;
  total: number;
  maxTensor: number;
  maxTotal: number;
  byKernel: number;
  byEvaluator: number;
}

/** Folds `n` when it can; returns a promise only when the evaluator must be awaited. */
function foldNode(s: Session, g: Graph, n: Node, evaluate: EvaluateNode | undefined, st: FoldState): Promise<void> | undefined {
  // Runs for every node: indexed loops, no closure, nothing allocated for a node that stays.
  const outs = n.outputs;
  let used = false;
  for (let i = 0; i < outs.length && !used; i++) used = outs[i]!.useCount > 0 || outs[i]!.isGraphOutput;
  if (!used) return;
  if (n.opType === 'Constant' && n.isOnnxDomain) {
    const issue = attributeIssue(n);
    if (issue) return void s.decline(n, issue[0], issue[1]);
    const t = constantNodeValue(n) ?? stringConstant(n);
    if (!t) return;
    replaceWith(s, g, n, [t], 'constant-to-initializer', st, false);
    return;
  }
  if (!n.isOnnxDomain) {
    if (n.inputs.length > 0 && n.inputs.every((v) => v === null || s.facts.constOf(v))) s.decline(n, 'unknown-domain', `${n.domain}::${n.opType}`);
    return;
  }
  // Random ops (each op's `nondeterministic` facet) and ops with body graphs are never evaluated:
  // with every input constant they are declined with their op's reason; Dropout (a kernel, random
  // only in training mode) is left to eliminate-identity.
  if (NONDETERMINISTIC_OPS.has(n.opType) || (n.attributes.size > 0 && n.subgraphs().length > 0)) {
    if (lookup(KERNEL_FACET, n.opType) === undefined && mayFold(s, n)) s.decline(n, 'no-kernel', noKernelWhy(n.opType).why);
    return;
  }
  if (n.opType === 'Shape' || n.opType === 'Size') {
    const x = n.inputs[0];
    if (!x) return;
    const issue = attributeIssue(n);
    if (issue) return void s.decline(n, issue[0], issue[1]);
    const shape = s.facts.shapeOf(x);
    if (!shape) return;
    // Shape(start, end) needs only the selected dims to be known numbers.
    const dims = n.opType === 'Size' ? shape : shapeSlice(n, shape, s.opset);
    if (!dims.every((d): d is number => typeof d === 'number')) {
      s.decline(n, 'shape-not-static', `shape of '${x.name}' has symbolic or unknown dims`);
      return;
    }
    const t = n.opType === 'Size' ? sizeTensor(dims) : Tensor.fromNumbers(DataType.INT64, [dims.length], dims);
    replaceWith(s, g, n, [t], n.opType.toLowerCase(), st, true);
    return;
  }
  if (n.inputs.length === 0) return;
  // Every present input must be constant (an initializer, a Constant's output, or a value
  // inference computed): find out before allocating anything (most nodes read an activation).
  const ins = n.inputs;
  for (let i = 0; i < ins.length; i++) {
    const v = ins[i];
    if (v !== null && v !== undefined && !s.facts.constOf(v)) return;
  }
  const inputs: (Tensor | null)[] = [];
  for (let i = 0; i < ins.length; i++) {
    const v = ins[i];
    inputs.push(v ? s.facts.constOf(v)! : null);
  }
  const issue = attributeIssue(n);
  if (issue) return void s.decline(n, issue[0], issue[1]);
  const compressed = compressedWeightIssue(s, n, inputs[0]);
  if (compressed !== undefined) return void s.decline(n, 'compressed-weight', compressed);
  // The budget first, from the inferred output shapes: nothing is evaluated that could not be kept.
  const over = budgetProblem(s, n, st);
  if (over !== undefined) return void s.decline(n, 'budget-exceeded', over);
  let results: (Tensor | undefined)[] | undefined;
  if (evaluate) {
    try {
      results = evaluate(n, inputs, s.opset, { maxOutputBytes: st.maxTensor });
    } catch (e) {
      if (e instanceof KernelBudgetError) s.decline(n, 'budget-exceeded', `${nodeLabel(n)} would allocate ${e.bytes} bytes (max ${st.maxTensor})`);
      else s.decline(n, 'kernel-error', e instanceof Error ? e.message : String(e));
      return;
    }
  }
  if (!results && s.ctx.evaluator) return withEvaluator(s, g, n, inputs, st);
  finishFold(s, g, n, results, 'kernel', st);
  return;
}

async function withEvaluator(s: Session, g: Graph, n: Node, inputs: readonly (Tensor | null)[], st: FoldState): Promise<void> {
  let results: (Tensor | undefined)[] | undefined;
  {
    const feed = new Map<Value, Tensor>();
    n.inputs.forEach((v, i) => {
      if (v) feed.set(v, inputs[i]!);
    });
    try {
      const out = await s.ctx.evaluator!.evaluate([n], feed, s.opset);
      results = n.outputs.map((o) => out.get(o));
    } catch (e) {
      s.decline(n, 'evaluator-error', e instanceof Error ? e.message : String(e));
      return;
    }
  }
  finishFold(s, g, n, results, 'evaluator', st);
}

function finishFold(s: Session, g: Graph, n: Node, results: (Tensor | undefined)[] | undefined, by: 'kernel' | 'evaluator', st: FoldState): void {
  if (!results) {
    s.decline(n, 'no-kernel', noKernelDetail(n, st.kernels, s.ctx.evaluator !== undefined));
    return;
  }
  const tensors: (Tensor | undefined)[] = [];
  for (let i = 0; i < n.outputs.length; i++) {
    const o = n.outputs[i]!;
    const t = results[i];
    if (o.useCount === 0 && !o.isGraphOutput) {
      tensors.push(undefined);
      continue;
    }
    if (!t) {
      s.decline(n, 'no-kernel', `output ${i} ('${o.name}') was not computed`);
      return;
    }
    const declared = o.tensorType?.elemType;
    if (declared !== undefined && declared !== 0 && declared !== t.dtype) {
      s.decline(n, 'dtype-mismatch', `'${o.name}' is declared ${dataTypeName(declared)} but evaluated as ${dataTypeName(t.dtype)}`);
      return;
    }
    tensors.push(t);
  }
  if (replaceWith(s, g, n, tensors, 'fold', st, true)) {
    if (by === 'kernel') st.byKernel++;
    else st.byEvaluator++;
  }
}

/**
 * The words of a no-kernel decline per registered op type (its NoKernelWhy, one object per type):
 * [no evaluator, the evaluator failed too]. An unregistered type's NoKernelWhy is new each call,
 * so its entry goes with it.
 */
const NO_KERNEL_DETAIL = new WeakMap<NoKernelWhy, readonly [string, string]>();

/**
 * Why `n` got no kernel result: its op's own reason (registry noKernelWhy) and whether the
 * evaluator was there, worded once per registered op type (a decline is recorded per node, its
 * words are not built per node); an unregistered type's words are built per decline.
 */
function noKernelDetail(n: Node, kernels: boolean, evaluator: boolean): string {
  if (!kernels) return evaluator ? 'the TypeScript kernels are off (option kernels: false) and the evaluator (onnxruntime) could not fold it' : 'the TypeScript kernels are off (option kernels: false) and no evaluator (onnxruntime) was given';
  const why = noKernelWhy(n.opType);
  let d = NO_KERNEL_DETAIL.get(why);
  if (d === undefined) {
    d = [`${why.why}; no evaluator (onnxruntime) was given`, `${why.why}; the evaluator (onnxruntime) could not fold it either`];
    NO_KERNEL_DETAIL.set(why, d);
  }
  return d[evaluator ? 1 : 0];
}

function replaceWith(s: Session, g: Graph, n: Node, tensors: readonly (Tensor | undefined)[], rule: string, st: FoldState, budgeted: boolean): boolean {
  const replace: [Value, Value][] = [];
  const inits: Value[] = [];
  let bytes = 0;
  for (let i = 0; i < n.outputs.length; i++) {
    const o = n.outputs[i]!;
    if (o.useCount === 0 && !o.isGraphOutput) continue;
    const t = tensors[i];
    if (t === undefined) {
      // e.g. a Size or Constant node given extra outputs: the op defines one, nothing computes the rest.
      s.decline(n, 'no-kernel', `output ${i} ('${o.name}') of ${n.opType} is not computed (the op has ${tensors.length} output(s))`);
      return false;
    }
    if (budgeted && t.byteLength > st.maxTensor) {
      s.decline(n, 'budget-exceeded', `'${o.name}' would be ${t.byteLength} bytes (max ${st.maxTensor})`);
      return false;
    }
    bytes += t.byteLength;
    const v = s.newInitializer(o.name || `${n.opType}_folded`, t);
    replace.push([o, v]);
    inits.push(v);
  }
  if (budgeted && st.total + bytes > st.maxTotal) {
    s.decline(n, 'budget-exceeded', `the pass already produced ${st.total} bytes (max ${st.maxTotal})`);
    return false;
  }
  const r = s.apply(g, {
    rule,
    remove: [n],
    replace,
    initializers: inits,
    insertBefore: n,
    description: rule === 'constant-to-initializer' ? `Constant ${nodeLabel(n)} → initializer` : `folded ${n.opType} ${nodeLabel(n)} into ${inits.length} initializer(s)`,
  });
  if (!r.ok) {
    s.decline(n, r.reason, r.detail);
    return false;
  }
  if (budgeted) st.total += bytes;
  return true;
}

/**
 * Why folding `n` would break the byte budget, judged from the output types shape inference gives
 * (static shape and element type); undefined when within budget or not known in advance (then
 * the kernels' own limit and the check on the computed tensors still apply).
 */
function budgetProblem(s: Session, n: Node, st: FoldState): string | undefined {
  let bytes = 0;
  for (const o of n.outputs) {
    if (o.useCount === 0 && !o.isGraphOutput) continue;
    const shape = s.facts.staticShape(o);
    const dtype = s.facts.dtypeOf(o);
    const bits = dtype === undefined ? undefined : elementBits(dtype);
    if (shape === null || bits === undefined) continue;
    let elements = 1;
    for (const d of shape) elements *= d;
    const b = Math.ceil((elements * bits) / 8);
    if (b > st.maxTensor) return `'${o.name}' would be ${b} bytes (max ${st.maxTensor})`;
    bytes += b;
  }
  if (bytes > 0 && st.total + bytes > st.maxTotal) return `the pass already produced ${st.total} bytes (max ${st.maxTotal})`;
  return undefined;
}

/** The dims Shape(start, end) returns (start/end from opset 15, clamped like the spec). */
function shapeSlice(n: Node, shape: Shape, opset: number): Shape {
  const { start, end } = shapeRange(n, shape.length, opset);
  return shape.slice(start, end);
}

function sizeTensor(shape: readonly number[]): Tensor {
  let n = 1;
  for (const d of shape) n *= d;
  return Tensor.fromNumbers(DataType.INT64, [], [n]);
}


function stringConstant(n: Node): Tensor | undefined {
  const a = n.attr('value_string');
  if (a && !a.isRef) return Tensor.fromStrings([], [a.asString()]);
  const b = n.attr('value_strings');
  if (b && !b.isRef) {
    const v = b.asStrings();
    return Tensor.fromStrings([v.length], v);
  }
  return undefined;
}
