/** Plain-text summaries of fuzz runs, shared by fuzz/run.mjs, the CI test and the benchmark. */
import type { FoundIssue, FuzzSummary } from './supervisor.js';

const MiB = 1024 * 1024;

function fmtBytes(n: number): string {
  return n >= MiB ? `${(n / MiB).toFixed(1)} MiB` : `${(n / 1024).toFixed(1)} KiB`;
}

function issueLines(list: readonly FoundIssue[], max = 20): string[] {
  const out: string[] = [];
  for (const f of list.slice(0, max)) {
    out.push(`  [${f.target}/${f.kind}] ×${f.count} ${f.message.split('\n')[0]!.slice(0, 240)}`);
    out.push(`      from ${f.seedName}${f.runSeed !== null && f.index !== null ? ` (seed ${f.runSeed} case ${f.index})` : ''}: ${f.mutations.join(' ; ').slice(0, 240) || '(no mutation)'}`);
    if (f.stack) out.push(...f.stack.split('\n').slice(1, 4).map((l) => `      ${l.trim()}`));
    if (f.written) out.push(`      written to ${f.written}${f.minimizedBytes !== undefined ? ` (${f.minimizedBytes} bytes after minimising)` : ''}`);
  }
  if (list.length > max) out.push(`  … and ${list.length - max} more`);
  return out;
}

export function formatSummary(s: FuzzSummary): string {
  const lines: string[] = [];
  const rate = s.cases / Math.max(s.seconds, 1e-9);
  lines.push(
    `fuzz${s.seed !== null ? ` seed ${s.seed}` : ''} (seed set ${s.fingerprint}): ${s.cases} cases in ${s.seconds.toFixed(1)} s = ${rate.toFixed(0)} cases/s on ${s.workers} process(es); ` +
      `analyze ${s.analyzeEvery > 0 ? `1/${s.analyzeEvery}` : 'none'}, optimize ${s.optimizeEvery > 0 ? `1/${s.optimizeEvery}` : 'none'} of decoded cases`,
  );
  const st = s.stats;
  if (st.busyMs > 0) {
    lines.push(`  per process: ${((st.cases * 1000) / st.busyMs).toFixed(0)} cases/s while running cases (${(st.busyMs / 1000).toFixed(1)} process-seconds; start-up and hang timeouts excluded)`);
  }
  if (st.smallCases > 0) {
    lines.push(`  small seeds (≤ 64 KiB): ${st.smallCases} cases, import phase ${(st.smallImportMs / st.smallCases).toFixed(3)} ms/case = ${(1000 / (st.smallImportMs / st.smallCases)).toFixed(0)} cases/s per process`);
  }
  lines.push(`  IR-level cases: ${st.irCases}; memory probe: ${st.memoryProbe ? 'peak RSS (VmHWM reset per phase) + ArrayBuffers' : 'ArrayBuffers only (no /proc)'}`);
  for (const [t, ts] of Object.entries(st.targets)) {
    if (ts.runs === 0) continue;
    const codes = Object.entries(ts.codes)
      .sort((a, b) => b[1] - a[1])
      .map(([k, v]) => `${k} ${v}`)
      .join(', ');
    lines.push(
      `  ${t.padEnd(8)} ${String(ts.runs).padStart(7)} runs: ok ${ts.verdicts.ok}, refused ${ts.verdicts.refused}, warnings ${ts.verdicts.warning}, findings ${ts.verdicts.finding}; ` +
        `mean ${(ts.totalMs / ts.runs).toFixed(2)} ms, slowest ${ts.maxMs.toFixed(0)} ms (${ts.maxMsCase}); ` +
        `max peak RSS +${fmtBytes(ts.maxPeakRss)} (${ts.maxPeakRssCase}), max ArrayBuffers +${fmtBytes(ts.maxArrayBuffers)}`,
    );
    lines.push(`           outcomes: ${codes}`);
  }
  const ir = Object.entries(st.irRefusals);
  if (ir.length > 0) lines.push(`  IR mutations the encoder refused (not cases): ${ir.map(([k, v]) => `${k} ${v}`).join(', ')}`);
  if (s.restarts > 0) lines.push(`  fuzz processes restarted after a hang or crash: ${s.restarts}`);
  lines.push(`  findings (fatal): ${s.findings.length} distinct`);
  lines.push(...issueLines(s.findings));
  lines.push(`  warnings (typed but outside the contract): ${s.warnings.length} distinct`);
  lines.push(...issueLines(s.warnings, 8));
  return lines.join('\n');
}
