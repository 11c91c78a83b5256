/**
 * eliminate-identity — removes nodes that provably return their input unchanged.
 *
 * What: Identity; Dropout in inference; Cast/CastLike to the input's own type; Reshape, Expand,
 * Transpose, Slice, Pad, Concat, Split and Flatten that do nothing; Add 0 / Mul 1 / Sub 0 / Div 1
 * by constants. Each such node is bypassed: its consumers read its (data) input directly.
 *
 * Math: y = f(x) with f the identity on every input the node accepts, so y ≡ x bit for bit. For
 * floats that rules out Add(x, +0) and Sub(x, −0), which map −0 to +0 (so 1/y is +inf where 1/x
 * was −inf): only Add(x, −0) and Sub(x, +0) are removed (decline reason `signed-zero`).
 *
 * Preconditions (each one a decline reason when it fails):
 *  1. The node is in the default ONNX domain, has no attribute the rule does not know
 *     [unknown-attribute] and no attribute of the wrong type [bad-attribute]; shapes, pads,
 *     slice bounds and split sizes are int32/int64 constants [not-integer-constant].
 *     Split sizes are constant [split-not-constant].
 *  2. Only the bypassed output is used; extra outputs (Dropout mask, …) are unused
 *     [mask-output-used].
 *  3. The output has the input's element type [unknown-input-dtype] [unknown-target-dtype]
 *     [dtype-mismatch] and provably the input's shape [unknown-input-shape]
 *     [shape-not-provably-equal] — from constant operands and trusted shapes (shape inference,
 *     or declared graph-input shapes), never from value_info of intermediates. A numeric target
 *     dim against a symbolic input dim is not proof.
 *  4. Element-wise unit ops: the constant is all 0 (Add/Sub) or all 1 (Mul/Div), in the input's
 *     dtype, and broadcasting it changes neither shape nor dtype (rank ≤ input rank; every dim 1
 *     or equal to the input's dim) [broadcast-changes-shape]. Sub and Div only with the constant
 *     as second operand. A float Add needs −0 and a float Sub +0 [signed-zero].
 *  5. If the output is a graph output, the input must be an intermediate value that can take the
 *     output's name (not a graph input, initializer or another graph output) — otherwise two
 *     outputs would merge or the interface would change (onnxoptimizer's `tryReplacingAllUsesWith`
 *     trap behind onnx/optimizer #252, #273–#285).
 *  6. Dropout: opset ≥ 12 training_mode absent or constant false; opset < 7 is_test = 1
 *     [training-mode] [training-mode-not-constant].
 *
 * Known limits: Concat is only removed with a single input (not with empty siblings); Squeeze/
 * Unsqueeze no-ops are left to fuse-consecutive-squeeze-unsqueeze; Pow(x, 1) is not handled.
 */
import { DataType, dataTypeInfo, type Node, type Tensor, type Value } from '@onnxkit/graph';
import { lookup, opTable } from '../common/op-table.js';
import { knownAttributes } from '../ops/registry.js';
import { ATTRIBUTE_REASONS, defineRule, defineRulePass, type Patch } from './rule.js';
import type { RewriteSession } from './session.js';
import { numericScalar } from '../common/data-types.js';
import { allEqual, attributeIssue, intsAttr, intsOf, nodeLabel, normAxis, setFirstPair } from './util.js';

/** 2^53: a Slice end at or beyond this means "to the end" for any realistic dimension. */
const HUGE = 2 ** 53;

const REASONS = [
  ...ATTRIBUTE_REASONS,
  'not-integer-constant',
  'split-not-constant',
  'training-mode',
  'training-mode-not-constant',
  'mask-output-used',
  'unknown-input-dtype',
  'unknown-target-dtype',
  'dtype-mismatch',
  'unknown-input-shape',
  'shape-not-provably-equal',
  'broadcast-changes-shape',
  'signed-zero',
] as const;
type Reason = (typeof REASONS)[number];

/** The value the output provably equals, why not (a decline), or null (not a no-op; nothing recorded). */
type Verdict = Value | Refusal | null;

/** A declined no-op: the reason and its detail. (A proven no-op is the bare input value: no object per node.) */
class Refusal {
  constructor(
    readonly reason: Reason,
    readonly detail: string,
  ) {}
}

const BYPASSED = ['Identity', 'Dropout', 'Cast', 'CastLike', 'Reshape', 'Expand', 'Transpose', 'Slice', 'Pad', 'Concat', 'Split', 'Flatten', 'Add', 'Sub', 'Mul', 'Div'] as const;

/** The attributes each bypassed op may carry: its home's schema (ops/; Dropout's has its INT `seed`). */
const KNOWN: Readonly<Record<string, readonly string[]>> = opTable<readonly string[]>(BYPASSED.map((op): [string, readonly string[]] => [op, knownAttributes(op)]));

/** A candidate: the node, and (once check proved it a no-op) the value its output equals. */
interface Candidate {
  readonly n: Node;
  /** Made with the field (undefined) so that setting it keeps the object's shape. */
  input: Value | undefined;
}

/**
 * The one patch the rule hands to RewriteSession.apply in a pass run, refilled for each bypass
 * (the rule's per-run state): apply reads a patch and its arrays during the call and keeps none
 * of them (the records it keeps are its own), and a patch, its two arrays and a pair per bypass
 * were four objects of garbage per change (40,000 changes on the 100k-node chain).
 */
interface BypassPatch {
  rule: string;
  remove: Node[];
  replace: [Value, Value][];
  description: string;
}

const bypass = defineRule({
  name: 'bypass',
  anchor: BYPASSED,
  reasons: REASONS,
  state: (): BypassPatch => ({ rule: '', remove: [], replace: [], description: '' }),
  match: (n): Candidate | undefined => ((n.inputs[0] || n.opType === 'Add' || n.opType === 'Mul') && n.outputs.length > 0 ? { n, input: undefined } : undefined),
  check(m, { session: s }) {
    const issue = attributeIssue(m.n, lookup(KNOWN, m.n.opType)!);
    if (issue !== undefined) return issue;
    const v = verdict(s, m.n);
    if (v instanceof Refusal) return [v.reason, v.detail];
    if (v !== null) m.input = v;
    return undefined;
  },
  rewrite({ n, input }, { state: p }): Patch | undefined {
    if (input === undefined) return undefined;
    const out = n.outputs[0]!;
    p.rule = ruleName(n.opType);
    p.remove[0] = n;
    setFirstPair(p.replace, out, input);
    p.description = describeBypass(n, out, input);
    return p;
  },
});

/**
 * `bypassed ${op} ` for each bypassed op, made once: a description is then two string
 * concatenations shorter (the records keep the text, the pieces are garbage: 40,000 per 100k chain).
 */
const BYPASSED_PREFIX = new Map<string, string>(BYPASSED.map((op) => [op, `bypassed ${op} `]));
function bypassedPrefix(op: string): string {
  return BYPASSED_PREFIX.get(op) ?? `bypassed ${op} `;
}

/**
 * The pieces of a bypass's description, refilled for each bypass: joined, they make the record's
 * text as one flat string. A template literal made a tree of cons strings (six per description,
 * 32 B each) that apply then flattened and dropped: garbage for each of the 40,000 bypasses of
 * the 100k-node chain. Module scratch, not per-run state: filled and joined in one synchronous
 * call, nothing in it is read again.
 */
const DESCRIPTION: string[] = ['', '', ": '", '', "' is '", '', "'"];
/** `bypassed ${op} ${label}: '${out}' is '${input}'`, as one flat string (see DESCRIPTION). */
function describeBypass(n: Node, out: Value, input: Value): string {
  const d = DESCRIPTION;
  d[0] = bypassedPrefix(n.opType);
  d[1] = nodeLabel(n);
  d[3] = out.name;
  d[5] = input.name;
  return d.join('');
}

/** The change-record rule name of each bypassed op (its lower-case name), made once. */
const RULE_NAMES = new Map<string, string>(BYPASSED.map((op) => [op, op.toLowerCase()]));
function ruleName(op: string): string {
  return RULE_NAMES.get(op) ?? op.toLowerCase();
}

export const eliminateIdentity = defineRulePass({
  name: 'eliminate-identity',
  description: 'Remove Identity, inference Dropout, same-type Cast, no-op Reshape/Expand/Transpose/Slice/Pad/Concat/Split/Flatten and x+0, x*1, x-0, x/1',
  exact: true,
  rules: [bypass],
});

/** Whether `n` (structurally a candidate, attributes checked) provably returns its input. */
function verdict(s: RewriteSession, n: Node): Verdict {
  const x = n.inputs[0];
  switch (n.opType) {
    case 'Identity':
      return x ? x : null;
    case 'Dropout':
      return dropout(s, n, x!);
    case 'Cast':
    case 'CastLike':
      return cast(s, n, x!);
    case 'Reshape':
      return reshape(s, n, x!);
    case 'Expand':
      return expand(s, n, x!);
    case 'Transpose':
      return transpose(s, n, x!);
    case 'Slice':
      return slice(s, n, x!);
    case 'Pad':
      return pad(s, n, x!);
    case 'Concat':
      return n.inputs.length === 1 && x ? x : null;
    case 'Split':
      return split(s, n, x!);
    case 'Flatten':
      return flatten(s, n, x!);
    default:
      return unitOp(s, n);
  }
}

function no(reason: Reason, detail: string): Verdict {
  return new Refusal(reason, detail);
}

function dropout(s: RewriteSession, n: Node, x: Value): Verdict {
  const opset = s.opset;
  if (opset < 7 && n.getInt('is_test', 0) !== 1) return no('training-mode', 'Dropout is_test=0 (training)');
  if (opset >= 12) {
    const tm = n.inputs[2];
    if (tm) {
      const t = s.facts.constOf(tm);
      if (!t) return no('training-mode-not-constant', `training_mode '${tm.name}' is not a constant`);
      const on = numericScalar(t);
      if (on === undefined) return no('training-mode-not-constant', `training_mode '${tm.name}' is not a scalar boolean`);
      if (on !== 0) return no('training-mode', 'training_mode is true');
    }
  }
  const mask = n.outputs[1];
  if (mask && (mask.useCount > 0 || mask.isGraphOutput)) return no('mask-output-used', `mask '${mask.name}' is used`);
  return x;
}

function cast(s: RewriteSession, n: Node, x: Value): Verdict {
  const from = s.facts.dtypeOf(x);
  if (from === undefined) return no('unknown-input-dtype', `element type of '${x.name}' is not known`);
  let to: number | undefined;
  if (n.opType === 'Cast') to = n.getInt('to');
  else {
    const like = n.inputs[1];
    to = like ? s.facts.dtypeOf(like) : undefined;
  }
  if (to === undefined) return no('unknown-target-dtype', 'target type is not known');
  return from === to ? x : null;
}

function reshape(s: RewriteSession, n: Node, x: Value): Verdict {
  const shapeIn = n.inputs[1];
  let target: number[] | undefined;
  if (shapeIn) {
    const t = s.facts.constOf(shapeIn);
    if (!t) return null;
    target = intsOf(t);
    if (!target) return no('not-integer-constant', `shape '${shapeIn.name}' is not an int64 tensor`);
  } else if (s.opset < 5) {
    target = intsAttr(n, 'shape', []);
  }
  if (!target) return null;
  const inShape = s.facts.shapeOf(x);
  if (!inShape) return no('unknown-input-shape', `shape of '${x.name}' is not known`);
  if (target.length !== inShape.length) return null;
  const allowzero = n.getInt('allowzero', 0) === 1;
  let unproven = -1;
  for (let i = 0; i < target.length; i++) {
    const d = target[i]!;
    const have = inShape[i];
    if (d === 0 && !allowzero) continue;
    if (d === -1) {
      if (unproven >= 0) return null;
      unproven = i;
      continue;
    }
    if (typeof have === 'number') {
      if (have !== d) return null;
    } else {
      return no('shape-not-provably-equal', `dim ${i} of '${x.name}' is symbolic (${String(have)}) and the target says ${d}`);
    }
  }
  // A single -1 with every other dim proven equal must equal the remaining input dim.
  return x;
}

function expand(s: RewriteSession, n: Node, x: Value): Verdict {
  const shapeIn = n.inputs[1];
  const t = shapeIn ? s.facts.constOf(shapeIn) : undefined;
  if (!t) return null;
  const target = intsOf(t);
  if (!target) return no('not-integer-constant', `shape '${shapeIn!.name}' is not an int64 tensor`);
  const inShape = s.facts.shapeOf(x);
  if (!inShape) return no('unknown-input-shape', `shape of '${x.name}' is not known`);
  if (target.length > inShape.length) return null;
  const off = inShape.length - target.length;
  for (let i = 0; i < target.length; i++) {
    const d = target[i]!;
    const have = inShape[off + i];
    if (d === 1) continue;
    if (typeof have !== 'number') return no('shape-not-provably-equal', `dim ${off + i} of '${x.name}' is symbolic and Expand asks for ${d}`);
    if (have !== d) return null;
  }
  return x;
}

function transpose(s: RewriteSession, n: Node, x: Value): Verdict {
  const perm = n.getInts('perm');
  if (perm) return perm.every((p, i) => p === i) ? x : null;
  const rank = s.facts.rankOf(x);
  if (rank === undefined) return no('unknown-input-shape', `rank of '${x.name}' is not known (default perm reverses axes)`);
  return rank <= 1 ? x : null;
}

function slice(s: RewriteSession, n: Node, x: Value): Verdict {
  let starts: number[] | undefined;
  let ends: number[] | undefined;
  let axes: number[] | undefined;
  let steps: number[] | undefined;
  if (s.opset < 10) {
    starts = n.getInts('starts');
    ends = n.getInts('ends');
    axes = n.getInts('axes');
  } else {
    const get = (i: number): number[] | null | undefined => {
      const v = n.inputs[i];
      if (!v) return undefined;
      const t = s.facts.constOf(v);
      return t ? (intsOf(t) ?? null) : null;
    };
    const st = get(1);
    const en = get(2);
    const ax = get(3);
    const sp = get(4);
    if (st === null || en === null || ax === null || sp === null) return null;
    starts = st;
    ends = en;
    axes = ax;
    steps = sp;
  }
  if (!starts || !ends) return null;
  const shape = s.facts.shapeOf(x);
  if (!shape) return no('unknown-input-shape', `shape of '${x.name}' is not known`);
  const rank = shape.length;
  for (let k = 0; k < starts.length; k++) {
    const axis = normAxis(axes ? axes[k]! : k, rank);
    if (axis === undefined) return null;
    const step = steps ? steps[k]! : 1;
    if (step !== 1) return null;
    const dim = shape[axis];
    const st = starts[k]!;
    const en = ends[k]!;
    if (typeof dim === 'number') {
      const startClamped = st < 0 ? Math.max(0, st + dim) : Math.min(st, dim);
      const endClamped = en < 0 ? Math.max(0, en + dim) : Math.min(en, dim);
      if (startClamped !== 0 || endClamped !== dim) return null;
    } else {
      if (st !== 0 || en < HUGE) return no('shape-not-provably-equal', `axis ${axis} of '${x.name}' is symbolic; the slice is not provably full`);
    }
  }
  return x;
}

function pad(s: RewriteSession, n: Node, x: Value): Verdict {
  let pads: number[] | undefined;
  if (s.opset < 11) pads = n.getInts('pads') ?? n.getInts('paddings');
  else {
    const p = n.inputs[1];
    const t = p ? s.facts.constOf(p) : undefined;
    if (!t) return null;
    pads = intsOf(t);
    if (!pads) return no('not-integer-constant', `pads '${p!.name}' is not an int64 tensor`);
  }
  if (!pads) return null;
  return pads.every((p) => p === 0) ? x : null;
}

function split(s: RewriteSession, n: Node, x: Value): Verdict {
  if (n.outputs.length !== 1) return null;
  let sizes: number[] | undefined;
  if (s.opset >= 13) {
    const v = n.inputs[1];
    if (v) {
      const t = s.facts.constOf(v);
      if (!t) return no('split-not-constant', `split '${v.name}' is not a constant`);
      sizes = intsOf(t);
      if (!sizes) return no('not-integer-constant', `split '${v.name}' is not an int64 tensor`);
    }
  } else {
    sizes = n.getInts('split');
  }
  if (sizes && sizes.length > 0) {
    const shape = s.facts.shapeOf(x);
    if (!shape) return no('unknown-input-shape', `shape of '${x.name}' is not known`);
    const axis = normAxis(n.getInt('axis', 0), shape.length);
    if (axis === undefined) return null;
    const dim = shape[axis];
    if (typeof dim !== 'number') return no('shape-not-provably-equal', `split axis of '${x.name}' is symbolic`);
    if (sizes.length !== 1 || sizes[0] !== dim) return null;
  }
  return x;
}

function flatten(s: RewriteSession, n: Node, x: Value): Verdict {
  const shape = s.facts.shapeOf(x);
  if (!shape) return no('unknown-input-shape', `shape of '${x.name}' is not known`);
  if (shape.length !== 2) return null;
  const axis = n.getInt('axis', 1);
  return axis === 1 || axis === -1 ? x : null;
}

const UNIT: Readonly<Record<string, { value: number; commutative: boolean }>> = opTable({
  Add: { value: 0, commutative: true },
  Sub: { value: 0, commutative: false },
  Mul: { value: 1, commutative: true },
  Div: { value: 1, commutative: false },
});

/** Every element is −0 (`negative`) or every element is +0. */
function zeroSignExact(t: Tensor, negative: boolean): boolean {
  const f = t.toFloat64();
  for (let i = 0; i < f.length; i++) if (Object.is(f[i], -0) !== negative) return false;
  return true;
}

/**
 * allEqual(t, 0 | 1), remembered per tensor (tensors are immutable; one constant often feeds many
 * nodes). A content cache, not per-run state: the answer is the tensor's, whatever run asks.
 */
const UNIT_SEEN: readonly [WeakMap<Tensor, boolean>, WeakMap<Tensor, boolean>] = [new WeakMap(), new WeakMap()];
function isUnit(t: Tensor, value: number): boolean {
  if (!firstMayBeUnit(t, value)) return false;
  const seen = UNIT_SEEN[value === 0 ? 0 : 1];
  let r = seen.get(t);
  if (r === undefined) seen.set(t, (r = allEqual(t, value)));
  return r;
}

/**
 * False when the first element of a float32 tensor held in memory is not `value` (±0 for 0), read
 * from its bytes in place: most constants an Add or a Mul reads are biases and scales, not units,
 * and this answers for them without a typed-array copy or a cache entry (20,000 distinct biases
 * on the 100k-node chain). True means "not decided here".
 */
function firstMayBeUnit(t: Tensor, value: number): boolean {
  // (`size`, a field, not `byteLength`, a getter: a float32 tensor has fewer than 4 bytes only when empty.)
  if (t.dtype !== DataType.FLOAT || t.size === 0) return true;
  // The first element's bits, read in place (no view object per constant asked).
  let w = t._firstUint32();
  if (w < 0) {
    if (t.isLazy) return true;
    const b = t.bytes();
    w = (b[0]! | (b[1]! << 8) | (b[2]! << 16) | (b[3]! << 24)) >>> 0;
  }
  // Float32 bits: 1.0 is 0x3f800000, +0 is 0 and −0 is 0x80000000.
  if ((w & 0xffff) !== 0) return false;
  if (value === 1) return w === 0x3f800000;
  if (value === 0) return w === 0 || w === 0x80000000;
  return true;
}

function unitOp(s: RewriteSession, n: Node): Verdict {
  const unit = lookup(UNIT, n.opType);
  if (unit === undefined) return null;
  if (n.inputs.length !== 2) return null;
  // Indexed reads: array destructuring runs the iterator protocol (this runs once per Add/Mul).
  const a = n.inputs[0];
  const b = n.inputs[1];
  if (!a || !b) return null;
  let last: Verdict = null;
  // (x, constant) = (a, b), then (b, a) for a commutative op; no pair arrays per node.
  for (let k = 0; k < (unit.commutative ? 2 : 1); k++) {
    const x = k === 0 ? a : b;
    const c = k === 0 ? b : a;
    const t = s.facts.constOf(c);
    if (!t) continue;
    if (!isUnit(t, unit.value)) continue;
    // Signed zeros (issue 13): x + (+0) turns −0 into +0 and x − (−0) likewise (then 1/x flips
    // from −inf to +inf), so for floats only Add(x, −0) and Sub(x, +0) are the identity.
    if (unit.value === 0 && dataTypeInfo(t.dtype).kind === 'float' && !zeroSignExact(t, n.opType === 'Add')) {
      last = no('signed-zero', `${n.opType}(x, ${n.opType === 'Add' ? '+0' : '−0'}) maps x = −0 to +0; only ${n.opType === 'Add' ? 'Add(x, −0)' : 'Sub(x, +0)'} is exact`);
      continue;
    }
    const dt = s.facts.dtypeOf(x);
    if (dt === undefined) {
      last = no('unknown-input-dtype', `element type of '${x.name}' is not known`);
      continue;
    }
    if (dt !== t.dtype || dt === DataType.BOOL || dt === DataType.STRING) {
      last = no('dtype-mismatch', `constant is ${t.dtype}, input is ${dt}`);
      continue;
    }
    const shape = s.facts.shapeOf(x);
    if (!shape) {
      last = no('unknown-input-shape', `shape of '${x.name}' is not known; broadcasting could change it`);
      continue;
    }
    if (t.dims.length > shape.length) {
      last = no('broadcast-changes-shape', `constant rank ${t.dims.length} > input rank ${shape.length}`);
      continue;
    }
    const off = shape.length - t.dims.length;
    let ok = true;
    for (let i = 0; i < t.dims.length; i++) {
      const d = t.dims[i]!;
      if (d === 1) continue;
      if (shape[off + i] !== d) {
        ok = false;
        last = no('broadcast-changes-shape', `constant dim ${i} is ${d}, input dim is ${String(shape[off + i])}`);
        break;
      }
    }
    if (ok) return x;
  }
  return last;
}
