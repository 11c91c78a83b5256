/**
 * Control flow: If and Loop (their bodies are inferred as subgraphs).
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

const SUBGRAPHS = "no per-node formula: the analysis counts the body's own layers (If: the costlier branch; Loop and Scan: the body × the trip count or scan extent)";

export const CONTROL_FLOW_OPS: readonly OpDef[] = [
  defineOp({ type: 'If', attributes: attrs('then_branch', 'else_branch'), shape: ifRule, cost: undeclared(SUBGRAPHS) }),
  defineOp({ type: 'Loop', attributes: attrs('body'), shape: loopRule, cost: undeclared(SUBGRAPHS) }),
  defineOp({
    type: 'Scan',
    attributes: attrs('body', 'num_scan_inputs', 'scan_input_axes', 'scan_input_directions', 'scan_output_axes', 'scan_output_directions'),
    shape: undeclared('outputs left as declared: the scan outputs stack the body outputs along axes the body decides'),
    cost: undeclared(SUBGRAPHS),
  }),
];
