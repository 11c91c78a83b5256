/**
 * fuse-pad-into-conv — folds a constant Pad into the `pads` attribute of the Conv,
 * AveragePool or MaxPool that consumes it, where that is exact.
 *
 * Math: Conv(Pad(x, p, 0); pads q) = Conv(x; pads q + p) since Conv pads with zeros; for pools
 * the padded elements must be treated the same way before and after:
 *  - AveragePool: the Pad's zeros are ordinary elements (counted in the mean), so the fused pool
 *    must count padding: exact when count_include_pad = 1 already, or when the pool had no pads of
 *    its own (then count_include_pad is set to 1). A pool that excluded its own padding while the
 *    Pad's zeros were counted cannot be expressed (onnxoptimizer's fuse_pad_into_pool sets
 *    count_include_pad = 1 unconditionally — onnx/optimizer #269).
 *  - MaxPool pads with −∞: exact when the Pad value is −∞, or when the Pad value is 0, the data
 *    is non-negative (produced by Relu, or Clip with min ≥ 0) and every window keeps at least one
 *    real element (pad < kernel, dilation 1, ceil_mode 0). A zero Pad before MaxPool on signed data
 *    is declined (another onnx/optimizer #269 trap).
 *
 * Preconditions:
 *  1. Pad mode is "constant"; pads (and value, axes) are constants [pad-not-constant] [pad-mode].
 *  2. No padding on the batch and channel axes, none negative [pad-on-batch-or-channel]
 *     [negative-pad].
 *  3. Conv/AveragePool: pad value 0 [pad-value-nonzero]. MaxPool: see above [maxpool-pad-value].
 *  4. The consumer has auto_pad NOTSET [auto-pad]; AveragePool/MaxPool fused only with
 *     ceil_mode 0 [ceil-mode], an AveragePool that excludes its own padding only without pads of
 *     its own [count-include-pad], when the fused pads stay below the kernel size (onnxruntime's pool
 *     kernels reject larger pads) [pads-exceed-kernel]; MaxPool's Indices output unused
 *     [indices-used].
 *  5. The Pad output feeds only the consumer and is not a graph output
 *     [pad-output-used-elsewhere] [pad-output-is-graph-output].
 *  6. No unknown attribute on either node [unknown-attribute], none of the wrong type, a pool's
 *     kernel_shape present, and the consumer's own pads have one entry per spatial edge
 *     [bad-attribute]; the Conv weight's rank is known and ≥ 3 [unknown-rank]; the Pad has a data
 *     input [missing-input].
 *
 * Known limits: LpPool and ConvTranspose are not handled; a Pad feeding several consumers is left.
 */
import { knownAttributes } from '../ops/registry.js';
import { Attribute, Node, type Value } from '@onnxkit/graph';
import { ATTRIBUTE_REASONS, defineRule, defineRulePass, type Decline, type Patch } from './rule.js';
import type { RewriteSession } from './session.js';
import { numericScalar } from '../common/data-types.js';
import { attributeIssue, intsOf, nodeLabel, trimInputs } from './util.js';

const CONV_ATTRS = knownAttributes('Conv');
const AVG_ATTRS = knownAttributes('AveragePool');
const MAX_ATTRS = knownAttributes('MaxPool');

const REASONS = [
  ...ATTRIBUTE_REASONS,
  'unknown-rank',
  'pad-mode',
  'pad-not-constant',
  'pad-on-batch-or-channel',
  'negative-pad',
  'auto-pad',
  'missing-input',
  'pad-output-is-graph-output',
  'pad-output-used-elsewhere',
  'pads-exceed-kernel',
  'pad-value-nonzero',
  'ceil-mode',
  'count-include-pad',
  'indices-used',
  'maxpool-pad-value',
] as const;
type Reason = (typeof REASONS)[number];

const padConsumer = defineRule({
  name: 'pad+consumer',
  anchor: ['Conv', 'AveragePool', 'MaxPool'],
  reasons: REASONS,
  match(c): { pad: Node; c: Node; plan?: Plan } | undefined {
    const pad = c.inputs[0]?.producer;
    return pad && pad.opType === 'Pad' && pad.isOnnxDomain ? { pad, c } : undefined;
  },
  check(m, { session: s }) {
    const { pad, c } = m;
    const issue = attributeIssue(c, c.opType === 'Conv' ? CONV_ATTRS : c.opType === 'AveragePool' ? AVG_ATTRS : MAX_ATTRS);
    if (issue) return issue;
    const plan = planFusion(s, pad, c);
    if (!('attrs' in plan)) return plan;
    m.plan = plan;
    return undefined;
  },
  rewrite: ({ pad, c, plan }, { session: s }) => fuse(s, pad, c, plan!),
});

export const fusePadIntoConv = defineRulePass({
  name: 'fuse-pad-into-conv',
  description: 'Fold a constant zero Pad into the pads of the following Conv (and AveragePool/MaxPool where exact)',
  exact: true,
  rules: [padConsumer],
});

interface PadSpec {
  pads: number[];
  value: number;
}

function readPad(s: RewriteSession, pad: Node, rank: number): PadSpec | Decline<Reason> {
  const issue = attributeIssue(pad, ['mode', 'pads', 'paddings', 'value']);
  if (issue) return issue;
  const mode = pad.getString('mode', 'constant');
  if (mode !== 'constant') return ['pad-mode', `Pad mode '${mode}'`];
  let pads: number[] | undefined;
  let value = 0;
  if (s.opset < 11) {
    pads = pad.getInts('pads') ?? pad.getInts('paddings');
    value = pad.getFloat('value', 0);
  } else {
    const pv = pad.inputs[1];
    const pt = pv ? s.facts.constOf(pv) : undefined;
    if (!pt) return ['pad-not-constant', `pads '${pv?.name ?? ''}' is not a constant`];
    pads = intsOf(pt);
    if (!pads) return ['pad-not-constant', `pads '${pv!.name}' is not an int64 tensor`];
    const vv = pad.inputs[2];
    if (vv) {
      const vt = s.facts.constOf(vv);
      const x = vt ? numericScalar(vt) : undefined;
      if (x === undefined) return ['pad-not-constant', `constant_value '${vv.name}' is not a numeric scalar constant`];
      value = x;
    }
    const av = pad.inputs[3];
    if (av) {
      const at = s.facts.constOf(av);
      const raw = at ? intsOf(at) : undefined;
      if (!raw) return ['pad-not-constant', `axes '${av.name}' is not an integer constant`];
      const axes = raw.map((a) => (a < 0 ? a + rank : a));
      if (axes.some((a) => a < 0 || a >= rank) || new Set(axes).size !== axes.length) return ['pad-not-constant', `axes [${raw.join(',')}] are not distinct axes of rank ${rank}`];
      if (pads.length !== 2 * axes.length) return ['pad-not-constant', 'pads and axes lengths disagree'];
      const full = new Array<number>(2 * rank).fill(0);
      axes.forEach((a, i) => {
        full[a] = pads![i]!;
        full[a + rank] = pads![i + axes.length]!;
      });
      pads = full;
    }
  }
  if (!pads || pads.length !== 2 * rank) return ['pad-not-constant', `pads has ${pads?.length ?? 0} entries for rank ${rank}`];
  return { pads, value };
}

/** The fused consumer's data input and attributes (pads summed, count_include_pad set). */
interface Plan {
  readonly x: Value;
  readonly attrs: Attribute[];
  readonly newPads: number[];
}

/** Proves that Pad → `c` equals `c` with the Pad's spatial pads added to its own, or says why not. */
function planFusion(s: RewriteSession, pad: Node, c: Node): Plan | Decline<Reason> {
  const op = c.opType;
  let rank: number;
  if (op === 'Conv') {
    const w = c.inputs[1] ? s.facts.constOf(c.inputs[1]) : undefined;
    const wr = w?.dims.length ?? (c.inputs[1] ? s.facts.rankOf(c.inputs[1]) : undefined);
    if (wr === undefined) return ['unknown-rank', 'Conv weight rank is not known'];
    if (wr < 3) return ['unknown-rank', `Conv weight has rank ${wr}`];
    rank = wr;
  } else {
    const ks = c.getInts('kernel_shape');
    if (!ks) return ['bad-attribute', `${op} lacks its required kernel_shape`];
    rank = ks.length + 2;
  }
  const spec = readPad(s, pad, rank);
  if (!('pads' in spec)) return spec;
  const { pads, value } = spec;
  if (pads[0] !== 0 || pads[1] !== 0 || pads[rank] !== 0 || pads[rank + 1] !== 0) return ['pad-on-batch-or-channel', `pads [${pads.join(',')}]`];
  if (pads.some((p) => p < 0)) return ['negative-pad', `pads [${pads.join(',')}]`];
  const autoPad = c.getString('auto_pad', 'NOTSET');
  if (autoPad !== 'NOTSET') return ['auto-pad', `auto_pad ${autoPad}`];
  const x = pad.inputs[0];
  if (!x) return ['missing-input', `${nodeLabel(pad)} has no data input`];
  const p = pad.outputs[0]!;
  if (p.isGraphOutput) return ['pad-output-is-graph-output', `'${p.name}' is a graph output`];
  if (p.useCount !== 1) return ['pad-output-used-elsewhere', `'${p.name}' has ${p.uses.length} uses`];
  const sp = rank - 2;
  const own = c.getInts('pads') ?? new Array<number>(2 * sp).fill(0);
  if (own.length !== 2 * sp) return ['bad-attribute', `${op} pads [${own.join(',')}] do not have ${2 * sp} entries`];
  const newPads = own.map((q, i) => q + (i < sp ? pads[2 + i]! : pads[rank + 2 + (i - sp)]!));
  const attrs = [...c.attributes.values()].filter((a) => a.name !== 'pads');
  attrs.push(Attribute.ints('pads', newPads));

  if (op !== 'Conv') {
    // onnxruntime's pool kernels reject pads ≥ kernel ("Pad should be smaller than kernel").
    const ks = c.getInts('kernel_shape')!;
    for (let i = 0; i < sp; i++) {
      if (newPads[i]! >= ks[i]! || newPads[i + sp]! >= ks[i]!) return ['pads-exceed-kernel', `fused pads [${newPads.join(',')}] reach kernel [${ks.join(',')}]`];
    }
  }
  if (op === 'Conv') {
    if (value !== 0) return ['pad-value-nonzero', `Pad value ${value}`];
  } else if (op === 'AveragePool') {
    if (value !== 0) return ['pad-value-nonzero', `Pad value ${value}`];
    if (c.getInt('ceil_mode', 0) !== 0) return ['ceil-mode', 'ceil_mode=1'];
    const cip = c.getInt('count_include_pad', 0);
    if (cip === 0) {
      if (own.some((q) => q !== 0)) return ['count-include-pad', 'the pool excludes its own padding but the Pad zeros are counted'];
      const i = attrs.findIndex((a) => a.name === 'count_include_pad');
      if (i >= 0) attrs.splice(i, 1);
      attrs.push(Attribute.int('count_include_pad', 1));
    }
  } else {
    if (c.getInt('ceil_mode', 0) !== 0) return ['ceil-mode', 'ceil_mode=1'];
    const idx = c.outputs[1];
    if (idx && (idx.useCount > 0 || idx.isGraphOutput)) return ['indices-used', 'MaxPool Indices output is used'];
    if (value !== -Infinity) {
      if (value !== 0 || !nonNegative(s, x)) return ['maxpool-pad-value', `Pad value ${value} on data not known to be non-negative (MaxPool pads with -inf)`];
      const ks = c.getInts('kernel_shape')!;
      const dil = c.getInts('dilations') ?? ks.map(() => 1);
      if (dil.some((d) => d !== 1)) return ['maxpool-pad-value', 'zero Pad before a dilated MaxPool'];
      for (let i = 0; i < sp; i++) {
        if (pads[2 + i]! >= ks[i]! || pads[rank + 2 + i]! >= ks[i]!) return ['maxpool-pad-value', 'a window could hold only padding'];
      }
    }
  }
  return { x, attrs, newPads };
}

function fuse(s: RewriteSession, pad: Node, c: Node, { x, attrs, newPads }: Plan): Patch {
  const op = c.opType;
  const outs = c.outputs.map((o) => (o.name ? s.freshName(o.name) : ''));
  const fused = new Node(op, trimInputs([x, ...c.inputs.slice(1)]), { name: c.name, attributes: attrs, outputs: outs });
  const replace: [Value, Value][] = [];
  c.outputs.forEach((o, i) => {
    if (o.name) replace.push([o, fused.outputs[i]!]);
  });
  return {
    rule: `pad+${op.toLowerCase()}`,
    remove: [pad, c],
    replace,
    add: [fused],
    insertBefore: c,
    description: `folded Pad ${nodeLabel(pad)} into ${op} ${nodeLabel(c)} (pads [${newPads.join(',')}])`,
  };
}

function nonNegative(s: RewriteSession, v: Value): boolean {
  const p = v.producer;
  if (!p || !p.isOnnxDomain) return false;
  if (p.opType === 'Relu') return true;
  if (p.opType === 'Clip') {
    if (attributeIssue(p) !== undefined) return false;
    if (s.opset < 11) return p.getFloat('min', -Infinity) >= 0;
    const mv = p.inputs[1];
    const t = mv ? s.facts.constOf(mv) : undefined;
    const min = t ? numericScalar(t) : undefined;
    return min !== undefined && min >= 0;
  }
  return false;
}
