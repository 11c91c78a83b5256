/**
 * `optimize --explain[=all|changes]`: per pass, every change, and the declined candidates grouped
 * — the same reason on the same op type is one line with a count and a few of the node names,
 * so a model with 300 Convs that all decline for one reason prints one line, not 300.
 * `changes` leaves the declines out.
 */
import { oneLine, type PipelineReport } from '@onnxkit/passes';
import { fmtDuration } from './ui.js';
import { fmtBytesDelta } from './units.js';

export type ExplainMode = 'all' | 'changes';

/** Names shown per grouped decline before "…". */
const NAMES_SHOWN = 3;

export function formatExplainGrouped(report: PipelineReport, mode: ExplainMode = 'all'): string {
  const lines: string[] = [
    `pipeline: ${report.pipeline.join(' → ')}${report.disabled.length ? `  (disabled: ${report.disabled.join(', ')})` : ''}`,
    `${report.totalChanges} change(s) in ${report.iterations} sweep(s), ${report.converged ? 'converged' : report.stoppedEarly ? 'stopped by --stop-after' : 'iteration bound reached'}, ${fmtDuration(report.timeMs)} (verify ${fmtDuration(report.verifyMs)})`,
  ];
  for (const run of report.runs) {
    const r = run.result;
    const declines = Object.values(r.rejected).reduce((a, b) => a + b, 0);
    if (r.changes === 0 && (mode === 'changes' || declines === 0)) continue;
    lines.push('', `[${run.pass}${run.iteration > 1 ? ` #${run.iteration}` : ''}] ${r.changes} change(s), −${r.nodesRemoved}/+${r.nodesAdded} nodes, ${fmtBytesDelta(r.bytesDelta)}, ${fmtDuration(r.timeMs)}`);
    for (const c of r.log) {
      const parts = [`  ✓ ${c.rule}: ${c.description}`];
      if (c.removed.length) parts.push(`removed [${c.removed.join(', ')}]`);
      if (c.added.length) parts.push(`added [${c.added.join(', ')}]`);
      lines.push(parts.join('; '));
    }
    if (mode === 'changes' || declines === 0) continue;
    const groups = new Map<string, { opType: string; reason: string; detail: string; nodes: string[] }>();
    for (const d of r.declined) {
      const key = `${d.opType}\u0000${d.reason}\u0000${d.detail}`;
      const g = groups.get(key) ?? { opType: d.opType, reason: d.reason, detail: d.detail, nodes: [] };
      g.nodes.push(d.node);
      groups.set(key, g);
    }
    const recorded = r.declined.length;
    lines.push(`  declined ${declines}: ${Object.entries(r.rejected).map(([k, v]) => `${k} ×${v}`).join(', ')}`);
    for (const g of groups.values()) {
      const who = g.nodes[0] === '' ? '(model)' : g.opType;
      const count = g.nodes.length > 1 ? ` ×${g.nodes.length}` : '';
      const named = g.nodes.filter((n) => n !== '');
      const names = named.length ? ` [${named.slice(0, NAMES_SHOWN).map((n) => `'${n}'`).join(', ')}${named.length > NAMES_SHOWN ? ', …' : ''}]` : '';
      lines.push(`  ✗ ${who}${count}${names}: ${g.reason}${g.detail ? ` — ${g.detail}` : ''}`);
    }
    if (recorded < declines) lines.push(`  (${declines - recorded} more declined candidate(s) were counted but not recorded)`);
  }
  // Each entry is one line: a line break in a node name cannot forge a change or a decline.
  return lines.map(oneLine).join('\n');
}
