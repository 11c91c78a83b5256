/**
 * Control flow: If, Loop and Scan (their bodies are inferred as subgraphs).
 */
import { DataType, type Dim } from '@onnxkit/graph';
import type { Facts, ShapeRule } from '../analysis/inference-types.js';
import { attrs } from './attributes.js';
import { U } from './shape-helpers.js';
import { defineOp, type OpDef, undeclared } from './types.js';

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

/**
 * Scan: the body runs once per slice of the scan inputs, so it is inferred with the states' facts
 * and each scan input's shape without its scan axis; the final states merge the initial and body
 * states, and each scan output stacks a body output over the iterations. Opset 9 on: scan axes
 * `scan_input_axes`/`scan_output_axes` (default 0), the iterations the extent of the first scan
 * input along its axis. Opset 8: input 0 is sequence_lens, every input has a leading batch axis
 * (the body sees one batch entry) and the scan axis is 1: states [batch, …], scan outputs
 * [batch, seq, …].
 */
const scanRule: ShapeRule = (c) => {
  const body = c.node.attr('body');
  const nScan = c.node.getInt('num_scan_inputs', 0);
  const batched = c.opset < 9;
  const first = batched ? 1 : 0;
  const nState = c.inputCount - nScan - first;
  // (no c.out: the outputs keep their declared types)
  if (!body || body.isRef || nScan < 1 || nState < 0) return;
  const inAxes = batched ? undefined : c.node.getInts('scan_input_axes');
  const ins: (Facts | undefined)[] = [];
  let batch: Dim = null;
  for (let i = 0; i < nState; i++) {
    const f = c.facts(first + i);
    if (!batched) ins.push(f);
    else if (!f?.shape || f.shape.length < 1) ins.push(undefined);
    else {
      batch ??= f.shape[0]!;
      ins.push({ elemType: f.elemType, shape: f.shape.slice(1) });
    }
  }
  let trips: Dim = null;
  for (let j = 0; j < nScan; j++) {
    const f = c.facts(first + nState + j);
    const s = f?.shape ?? null;
    const ax = s === null || (batched && s.length < 2) ? -1 : batched ? 1 : axisIn(inAxes?.[j] ?? 0, s.length);
    if (!f || s === null || ax < 0) {
      ins.push(undefined);
      continue;
    }
    if (batched) batch ??= s[0]!;
    trips ??= s[ax]!;
    ins.push({ elemType: f.elemType, shape: batched ? s.slice(2) : [...s.slice(0, ax), ...s.slice(ax + 1)] });
  }
  const outs = c.subgraph(body.asGraph(), ins);
  const nOut = c.node.outputs.length;
  for (let i = 0; i < nState && i < nOut; i++) {
    const m = mergeFacts(ins[i], outs[i]);
    const type = m.type !== U ? m.type : (outs[i]?.elemType ?? U);
    c.out(i, type, batched ? (m.shape ? [batch, ...m.shape] : null) : m.shape);
  }
  const outAxes = batched ? undefined : c.node.getInts('scan_output_axes');
  for (let k = nState; k < nOut; k++) {
    const f = outs[k];
    if (!f?.shape) continue;
    if (batched) {
      c.out(k, f.elemType, [batch, trips, ...f.shape]);
      continue;
    }
    const ax = axisIn(outAxes?.[k - nState] ?? 0, f.shape.length + 1);
    if (ax < 0) continue;
    c.out(k, f.elemType, [...f.shape.slice(0, ax), trips, ...f.shape.slice(ax)]);
  }
};

/** `axis` of a rank-`rank` shape, negative counted from the end; -1 when out of range. */
function axisIn(axis: number, rank: number): number {
  const a = axis < 0 ? axis + rank : axis;
  return a >= 0 && a < rank ? a : -1;
}

const SUBGRAPHS = "no per-node formula: the analysis counts the body's own layers (If: the costlier branch; Loop and Scan: the body × the trip count or scan extent)";

export const CONTROL_FLOW_OPS: readonly OpDef[] = [
  defineOp({ type: 'If', attributes: attrs('then_branch', 'else_branch'), shape: ifRule, cost: undeclared('subgraphs', SUBGRAPHS) }),
  defineOp({ type: 'Loop', attributes: attrs('body'), shape: loopRule, cost: undeclared('subgraphs', SUBGRAPHS) }),
  defineOp({
    type: 'Scan',
    attributes: attrs('body', 'num_scan_inputs', 'scan_input_axes', 'scan_input_directions', 'scan_output_axes', 'scan_output_directions'),
    shape: scanRule,
    cost: undeclared('subgraphs', SUBGRAPHS),
  }),
];
