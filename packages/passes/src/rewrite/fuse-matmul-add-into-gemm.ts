/**
 * fuse-matmul-add-into-gemm — `MatMul(A, B) → Add(·, C)` becomes `Gemm(A, B, C)`.
 *
 * Math: Gemm computes α·A·B + β·C with α = β = 1, transA = transB = 0 — the same sum; C is
 * unidirectionally broadcast to [M, N], exactly what Add does when C's broadcast does not change
 * the [M, N] result.
 *
 * Preconditions:
 *  1. A is provably 2-D [a-not-2d] (Gemm is 2-D only; batched MatMul keeps its semantics).
 *  2. B is a 2-D constant [b-not-constant] [b-not-2d].
 *  3. C is a constant of rank ≤ 2 whose dims broadcast to [M, N] without changing it: last dim 1
 *     or N, first dim (rank 2) 1 or the static M [c-not-constant] [bias-shape].
 *  4. A, B, C share one float dtype (float, double, float16) [unsupported-dtype].
 *  5. The MatMul output feeds only the Add and is not a graph output
 *     [producer-output-used-elsewhere] [producer-output-is-graph-output].
 *  6. Opset ≥ 7 (older Gemm needs a `broadcast` flag) [opset-too-old].
 *  7. Neither node has attributes [unknown-attribute] [bad-attribute].
 *
 * Known limits: MatMul with a non-constant B is left alone (it would still be valid, but there is
 * no gain on onnxruntime's CPU kernels); Add(C, MatMul) with C first is handled too.
 */
import { DataType, Node, type Value } from '@onnxkit/graph';
import { ATTRIBUTE_REASONS, defineRule, defineRulePass, type Decline, type Patch } from './rule.js';
import type { RewriteSession } from './session.js';
import { attributeIssue, nodeLabel, setFirstPair } from './util.js';

const FLOATS: ReadonlySet<DataType> = new Set([DataType.FLOAT, DataType.DOUBLE, DataType.FLOAT16]);

const REASONS = [
  ...ATTRIBUTE_REASONS,
  'opset-too-old',
  'b-not-constant',
  'b-not-2d',
  'c-not-constant',
  'a-not-2d',
  'unsupported-dtype',
  'bias-shape',
  'producer-output-is-graph-output',
  'producer-output-used-elsewhere',
] as const;

/** The attributes MatMul and Add may carry: none. */
const NO_ATTRIBUTES: readonly string[] = Object.freeze([]);

interface MatmulAdd {
  add: Node;
  mm: Node;
  side: 0 | 1;
}

const matmulAdd = defineRule({
  name: 'matmul+add',
  anchor: 'Add',
  // match needs a default-domain MatMul feeding the Add.
  requires: 'MatMul',
  reasons: REASONS,
  match(add): MatmulAdd | undefined {
    if (add.inputs.length !== 2) return undefined;
    // Indexed reads: array destructuring runs the iterator protocol (this runs once per Add).
    const p = add.inputs[0];
    const q = add.inputs[1];
    if (!p || !q) return undefined;
    const side: 0 | 1 | -1 = p.producer?.opType === 'MatMul' && p.producer.isOnnxDomain ? 0 : q.producer?.opType === 'MatMul' && q.producer.isOnnxDomain ? 1 : -1;
    if (side === -1) return undefined;
    const mm = add.inputs[side]!.producer!;
    if (!mm.inputs[0] || !mm.inputs[1]) return undefined;
    return { add, mm, side };
  },
  check(m, { session: s }) {
    const issue = attributeIssue(m.mm, NO_ATTRIBUTES) ?? attributeIssue(m.add, NO_ATTRIBUTES);
    if (issue) return issue;
    if (s.opset < 7) return ['opset-too-old', `opset ${s.opset}`];
    return operandIssue(s, m);
  },
  state: (): FusionPatch => ({ remove: [], replace: [], add: [], inputs: [], insertBefore: undefined, description: '' }),
  rewrite: (m, { session: s, state }) => fuse(s, m, state),
});

export const fuseMatmulAddIntoGemm = defineRulePass({
  name: 'fuse-matmul-add-into-gemm',
  description: 'Fuse 2-D MatMul with a constant weight followed by Add of a constant bias into Gemm',
  exact: true,
  rules: [matmulAdd],
});

/** Why MatMul(A, B) + C is not Gemm(A, B, C): B and C constant, A 2-D, one float type, C broadcastable to [M, N]. */
function operandIssue(s: RewriteSession, { add, mm, side }: MatmulAdd): Decline<(typeof REASONS)[number]> | undefined {
  const y = add.inputs[side]!;
  const cv = add.inputs[1 - side]!;
  const a = mm.inputs[0]!;
  const bv = mm.inputs[1]!;
  const B = s.facts.constOf(bv);
  if (!B) return ['b-not-constant', `'${bv.name}' is not a constant`];
  if (B.dims.length !== 2) return ['b-not-2d', `B has rank ${B.dims.length}`];
  const C = s.facts.constOf(cv);
  if (!C) return ['c-not-constant', `'${cv.name}' is not a constant`];
  const aShape = s.facts.shapeOf(a);
  if (!aShape) return ['a-not-2d', `rank of '${a.name}' is not known`];
  if (aShape.length !== 2) return ['a-not-2d', `'${a.name}' has rank ${aShape.length}`];
  const aType = s.facts.dtypeOf(a);
  if (aType === undefined || !FLOATS.has(B.dtype) || aType !== B.dtype || C.dtype !== B.dtype) return ['unsupported-dtype', 'A, B and C must share one float type'];
  const N = B.dims[1]!;
  const M = aShape[0];
  const cd = C.dims;
  if (cd.length > 2) return ['bias-shape', `C has rank ${cd.length}`];
  if (cd.length >= 1 && cd[cd.length - 1] !== 1 && cd[cd.length - 1] !== N) return ['bias-shape', `C's last dim ${cd[cd.length - 1]} vs N=${N}`];
  if (cd.length === 2 && cd[0] !== 1 && cd[0] !== M) return ['bias-shape', `C's first dim ${cd[0]} vs M=${String(M)}`];
  if (y.isGraphOutput) return ['producer-output-is-graph-output', `'${y.name}' is a graph output`];
  if (y.useCount !== 1) return ['producer-output-used-elsewhere', `'${y.name}' has ${y.uses.length} uses`];
  return undefined;
}

/**
 * The one patch the rule hands to RewriteSession.apply in a pass run, refilled for each fusion
 * (the rule's per-run state): apply reads a patch and its arrays during the call and keeps none
 * of them (Gemm's inputs are copied when it wires them), and a patch and its six arrays were
 * seven objects of garbage per fusion (20,000 on the 100k-node chain).
 */
interface FusionPatch {
  remove: Node[];
  replace: [Value, Value][];
  add: Node[];
  inputs: Value[][];
  insertBefore: Node | undefined;
  description: string;
}

/**
 * The pieces of a fusion's description (`fused MatMul ${mm} and Add ${add} into Gemm`), refilled
 * for each fusion and joined into one flat string: a template literal made a tree of cons strings
 * that apply then flattened and dropped. Module scratch, not per-run state: filled and joined in
 * one synchronous call, nothing in it is read again.
 */
const DESCRIPTION: string[] = ['fused MatMul ', '', ' and Add ', '', ' into Gemm'];

function fuse(s: RewriteSession, { add, mm, side }: MatmulAdd, p: FusionPatch): Patch {
  const a = mm.inputs[0]!;
  const bv = mm.inputs[1]!;
  const cv = add.inputs[1 - side]!;
  const z = add.outputs[0]!;
  // Built without inputs: apply wires them once MatMul and Add are gone (Rewrite.inputs).
  // (z's own name when it has one: `replacementName` without building the fallback name first.)
  const gemm = new Node('Gemm', [], { name: mm.name, outputs: [z.name || s.freshName(`${mm.name}_out`)] });
  const y = gemm.outputs[0]!;
  p.remove[0] = mm;
  p.remove[1] = add;
  setFirstPair(p.replace, z, y);
  p.add[0] = gemm;
  const ins = p.inputs[0];
  if (ins === undefined) p.inputs[0] = [a, bv, cv];
  else {
    ins[0] = a;
    ins[1] = bv;
    ins[2] = cv;
  }
  p.insertBefore = add;
  const d = DESCRIPTION;
  d[1] = nodeLabel(mm);
  d[3] = nodeLabel(add);
  p.description = d.join('');
  return p;
}
