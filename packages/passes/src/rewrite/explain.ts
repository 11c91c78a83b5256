/**
 * `--explain` text and JSON for a pipeline run: per pass, what changed (rule, nodes removed and
 * added, bytes) and, for every declined candidate, why. Pure formatting — no I/O.
 */
import type { PipelineReport } from './manager.js';

export interface ExplainOptions {
  /** Show at most this many changes per pass run (default all). */
  maxChanges?: number;
  /** Show at most this many declines per pass run (default 50; counts are always complete). */
  maxDeclines?: number;
}

export function formatExplain(report: PipelineReport, options: ExplainOptions = {}): string {
  const maxChanges = options.maxChanges ?? Infinity;
  const maxDeclines = options.maxDeclines ?? 50;
  const lines: string[] = [];
  lines.push(
    `pipeline: ${report.pipeline.join(' → ')}${report.disabled.length ? `  (disabled: ${report.disabled.join(', ')})` : ''}`,
    `${report.totalChanges} change(s) in ${report.iterations} sweep(s), ${report.converged ? 'converged' : report.stoppedEarly ? 'stopped by stopAfterChanges' : 'iteration bound reached'}, ${report.timeMs.toFixed(1)} ms (verify ${report.verifyMs.toFixed(1)} ms)`,
  );
  for (const run of report.runs) {
    const r = run.result;
    const declines = Object.values(r.rejected).reduce((a, b) => a + b, 0);
    if (r.changes === 0 && declines === 0) continue;
    lines.push('', `[${run.pass}${run.iteration > 1 ? ` #${run.iteration}` : ''}] ${r.changes} change(s), −${r.nodesRemoved}/+${r.nodesAdded} nodes, ${fmtBytes(r.bytesDelta)}, ${r.timeMs.toFixed(1)} ms`);
    r.log.slice(0, maxChanges).forEach((c) => {
      const parts = [`  ✓ ${c.rule}: ${c.description}`];
      if (c.removed.length) parts.push(`removed [${c.removed.join(', ')}]`);
      if (c.added.length) parts.push(`added [${c.added.join(', ')}]`);
      lines.push(parts.join('; '));
    });
    if (r.log.length > maxChanges) lines.push(`  … ${r.log.length - maxChanges} more change(s)`);
    if (declines > 0) {
      lines.push(`  declined: ${Object.entries(r.rejected).map(([k, v]) => `${k} ×${v}`).join(', ')}`);
      r.declined.slice(0, maxDeclines).forEach((d) => lines.push(`  ✗ ${d.node ? `${d.opType} '${d.node}'` : '(model)'}: ${d.reason}${d.detail ? ` — ${d.detail}` : ''}`));
      if (r.declined.length > maxDeclines) lines.push(`  … ${r.declined.length - maxDeclines} more declined candidate(s)`);
    }
  }
  return lines.join('\n');
}

/** A JSON-ready view of the report (numbers only, stable keys). */
export function explainJson(report: PipelineReport): unknown {
  return {
    pipeline: report.pipeline,
    disabled: report.disabled,
    iterations: report.iterations,
    converged: report.converged,
    stoppedEarly: report.stoppedEarly,
    totalChanges: report.totalChanges,
    timeMs: report.timeMs,
    verifyMs: report.verifyMs,
    summary: report.summary,
    runs: report.runs.map((r) => ({ pass: r.pass, iteration: r.iteration, ...r.result })),
  };
}

function fmtBytes(n: number): string {
  const sign = n > 0 ? '+' : n < 0 ? '−' : '±';
  const a = Math.abs(n);
  const v = a >= 1 << 20 ? `${(a / (1 << 20)).toFixed(2)} MiB` : a >= 1024 ? `${(a / 1024).toFixed(1)} KiB` : `${a} B`;
  return `${sign}${v}`;
}
