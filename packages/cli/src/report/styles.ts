/**
 * The report's stylesheet: a 1200 px column that reads well at 1280 px, tabular figures for
 * numbers, one colour per meaning (blue = compute-bound / original accent, amber = memory-bound,
 * green = optimized), and a print layout for A4 (no sticky or scrolling elements, one section
 * per page, charts at fixed print sizes).
 */
export const STYLES = `
:root {
  --ink: #0f172a; --ink-2: #334155; --muted: #64748b; --line: #e2e8f0; --line-2: #cbd5e1;
  --bg: #f6f7f9; --card: #ffffff; --accent: #2563eb; --accent-soft: #dbeafe;
  --compute: #2563eb; --memory: #d97706; --optimized: #059669; --original: #475569;
  --good: #047857; --good-bg: #d1fae5; --bad: #b91c1c; --bad-bg: #fee2e2; --warn: #b45309; --warn-bg: #fef3c7;
  --mono: ui-monospace, "SFMono-Regular", "DejaVu Sans Mono", Menlo, Consolas, monospace;
}
* { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; }
body {
  margin: 0; background: var(--bg); color: var(--ink);
  font: 14px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", "Liberation Sans", "DejaVu Sans", Arial, sans-serif;
  font-variant-numeric: tabular-nums;
}
.wrap { max-width: 1280px; margin: 0 auto; padding: 0 24px; }
a { color: var(--accent); text-decoration: none; }
a:hover { text-decoration: underline; }
code, .mono { font-family: var(--mono); font-size: 12.5px; }
h1, h2, h3 { margin: 0; font-weight: 650; letter-spacing: -0.01em; }
h1 { font-size: 28px; line-height: 1.2; }
h2 { font-size: 19px; }
h3 { font-size: 14px; color: var(--ink-2); margin: 18px 0 8px; }
p { margin: 6px 0; }

.page-head { background: #0f172a; color: #e2e8f0; padding: 26px 0 22px; }
.page-head .eyebrow { text-transform: uppercase; letter-spacing: 0.08em; font-size: 11px; color: #94a3b8; font-weight: 600; }
.page-head h1 { color: #fff; margin: 4px 0 2px; overflow-wrap: anywhere; }
.page-head .doc { color: #cbd5e1; margin: 2px 0 12px; overflow-wrap: anywhere; }
.page-head dl { display: flex; flex-wrap: wrap; gap: 6px 28px; margin: 0; font-size: 13px; }
.page-head dl div { display: flex; gap: 6px; min-width: 0; }
.page-head dt { color: #94a3b8; }
.page-head dd { margin: 0; color: #f1f5f9; overflow-wrap: anywhere; }

nav.toc { display: flex; flex-wrap: wrap; gap: 4px 18px; padding-top: 12px; padding-bottom: 12px; font-size: 13px; border-bottom: 1px solid var(--line); background: #fff; }
nav.toc a { color: var(--ink-2); }

main { padding-top: 8px; padding-bottom: 40px; }
section.sec { background: var(--card); border: 1px solid var(--line); border-radius: 10px; padding: 18px 20px 20px; margin-top: 18px; min-width: 0; }
.sec-head { display: flex; align-items: baseline; justify-content: space-between; gap: 16px; flex-wrap: wrap; margin-bottom: 4px; }
.sec-head .count { color: var(--muted); font-weight: 500; font-size: 14px; }
.caption { color: var(--muted); font-size: 13px; margin: 2px 0 12px; max-width: 920px; }

.cards { display: grid; grid-template-columns: repeat(4, minmax(0, 1fr)); gap: 12px; margin: 14px 0 4px; }
.card { border: 1px solid var(--line); border-radius: 8px; padding: 12px 14px; background: #fbfcfd; min-width: 0; }
.card .label { text-transform: uppercase; letter-spacing: 0.06em; font-size: 11px; color: var(--muted); font-weight: 600; }
.card .value { font-size: 24px; font-weight: 650; margin: 2px 0 0; line-height: 1.25; }
.card .exact { font-size: 12.5px; color: var(--ink-2); overflow-wrap: anywhere; }
.card .after { font-size: 12.5px; color: var(--optimized); margin-top: 4px; font-weight: 550; }
.card .after .chg { color: var(--muted); font-weight: 400; }
.card .after .chg.better { color: var(--good); }
.card .after .chg.worse { color: var(--bad); }

.cols { display: grid; grid-template-columns: minmax(0, 1fr) minmax(0, 1fr); gap: 24px; }
.chips { display: flex; flex-wrap: wrap; gap: 6px; margin: 4px 0; }
.chip { border: 1px solid var(--line); border-radius: 999px; padding: 1px 9px; font-size: 12.5px; background: #fff; }
.chip b { font-weight: 600; }

table { border-collapse: collapse; width: 100%; font-size: 13px; }
th, td { padding: 5px 8px; border-bottom: 1px solid var(--line); text-align: left; vertical-align: top; }
th { font-weight: 600; color: var(--ink-2); background: #f8fafc; white-space: nowrap; }
td.num, th.num { text-align: right; white-space: nowrap; }
td.name { overflow-wrap: anywhere; }
table.kv th { width: 34%; background: none; white-space: normal; }
tr.zero td { color: var(--muted); }
.muted { color: var(--muted); }
.tag { display: inline-block; font-size: 10.5px; border-radius: 4px; padding: 0 4px; margin-left: 3px; background: #f1f5f9; color: var(--muted); vertical-align: 1px; }
.bound { display: inline-block; border-radius: 4px; padding: 0 6px; font-size: 11.5px; font-weight: 600; }
.bound.compute { background: var(--accent-soft); color: #1d4ed8; }
.bound.memory { background: #fef3c7; color: #92400e; }
.verdict { display: inline-block; border-radius: 6px; padding: 2px 10px; font-weight: 650; }
.verdict.ok { background: var(--good-bg); color: var(--good); }
.verdict.fail { background: var(--bad-bg); color: var(--bad); }
.sev { display: inline-block; min-width: 58px; text-align: center; border-radius: 4px; font-size: 11px; font-weight: 650; text-transform: uppercase; padding: 0 5px; }
.sev.error { background: var(--bad-bg); color: var(--bad); }
.sev.warning { background: var(--warn-bg); color: var(--warn); }
.sev.info { background: #e0f2fe; color: #0369a1; }
.better { color: var(--good); }
.worse { color: var(--bad); }

.toolbar { display: flex; gap: 14px; align-items: center; flex-wrap: wrap; }
.seg { display: inline-flex; border: 1px solid var(--line-2); border-radius: 7px; overflow: hidden; }
.seg button { font: inherit; font-size: 12.5px; border: 0; background: #fff; color: var(--ink-2); padding: 4px 11px; cursor: pointer; }
.seg button + button { border-left: 1px solid var(--line-2); }
.seg button[aria-pressed="true"] { background: var(--ink); color: #fff; }
.seg-label { font-size: 12px; color: var(--muted); }

.chart-grid { display: grid; grid-template-columns: minmax(0, 1fr); gap: 18px; }
.chart-grid > div { min-width: 0; }
.chart-title { font-size: 13px; font-weight: 600; color: var(--ink-2); margin: 0 0 4px; }
.chart-note { font-weight: 400; color: var(--muted); font-size: 12px; margin-left: 6px; }
.chart-scroll { overflow-x: auto; overflow-y: hidden; }
.chart-box { position: relative; width: 100%; height: 260px; }
.chart-box.tall { height: 440px; }
.chart-box canvas { display: block; }
.chart-missing { position: absolute; inset: 0; display: flex; align-items: center; justify-content: center; padding: 0 24px; text-align: center; color: var(--muted); font-size: 13px; background: #fafbfc; border: 1px dashed var(--line-2); border-radius: 8px; }
.legend-note { font-size: 12px; color: var(--muted); margin-top: 6px; }

.table-scroll { overflow: auto; max-height: 640px; border: 1px solid var(--line); border-radius: 8px; }
.table-scroll table { font-size: 12px; }
.table-scroll th, .table-scroll td { padding: 4px 5px; }
.table-scroll table.measured { font-size: 11.5px; }
.table-scroll table.measured th, .table-scroll table.measured td { padding: 4px 4px; }
table.layers td.name, table.layers td.shape { overflow-wrap: normal; white-space: nowrap; }
table.layers td.name { font-weight: 500; }
table.layers td.flags { white-space: nowrap; }
.table-scroll th { position: sticky; top: 0; z-index: 1; box-shadow: inset 0 -1px 0 var(--line-2); }
.table-scroll td { border-bottom-color: #eef2f6; }
th.sortable { cursor: pointer; user-select: none; }
th.sortable::after { content: "↕"; color: #cbd5e1; margin-left: 3px; font-size: 10px; }
th[aria-sort="descending"]::after { content: "↓"; color: var(--ink); }
th[aria-sort="ascending"]::after { content: "↑"; color: var(--ink); }
tbody tr:hover td { background: #f8fafc; }

blockquote { margin: 8px 0 14px; padding: 10px 14px; border-left: 3px solid var(--accent); background: #f8fafc; color: var(--ink-2); font-size: 13px; }
.formulas td:first-child { width: 36%; font-weight: 550; }
.formulas td:last-child { font-family: var(--mono); font-size: 12.5px; }
footer { color: var(--muted); font-size: 12px; padding: 10px 0 36px; }

@media (max-width: 1000px) {
  .cards { grid-template-columns: repeat(2, minmax(0, 1fr)); }
  .cols { grid-template-columns: minmax(0, 1fr); }
}

@page { size: A4; margin: 12mm; }
@media print {
  body { background: #fff; font-size: 11px; -webkit-print-color-adjust: exact; print-color-adjust: exact; }
  .wrap { max-width: none; padding: 0; }
  nav.toc, .toolbar .seg, .seg-label, .no-print { display: none !important; }
  .page-head { padding: 0 0 8px; background: #fff; color: var(--ink); border-bottom: 2px solid var(--ink); }
  .page-head h1 { color: var(--ink); }
  .page-head .doc, .page-head dd { color: var(--ink-2); }
  .page-head dt, .page-head .eyebrow { color: var(--muted); }
  section.sec { border: 0; border-radius: 0; padding: 0; margin: 0; break-before: page; page-break-before: always; }
  section.sec:first-of-type { break-before: auto; page-break-before: auto; margin-top: 10px; }
  .cards { grid-template-columns: repeat(4, minmax(0, 1fr)); gap: 6px; }
  .card { padding: 6px 8px; }
  .card .value { font-size: 16px; }
  .chart-scroll, .table-scroll { overflow: visible !important; max-height: none !important; border: 0; }
  .table-scroll th { position: static; }
  .chart-box { width: 100% !important; height: 62mm; break-inside: avoid; }
  .chart-box.tall { height: 110mm; }
  .chart-box.bars { height: 80mm; }
  table, .table-scroll table { font-size: 9.5px; }
  .table-scroll table.layers { font-size: 8px; }
  th, td, .table-scroll th, .table-scroll td { padding: 2px 3px; }
  .tag { font-size: 7.5px; padding: 0 2px; }
  .bound { font-size: 8px; padding: 0 3px; }
  code, .mono { font-size: 0.95em; }
  .caption { font-size: 10px; }
  table.layers td.name, table.layers td.flags { white-space: normal; overflow-wrap: anywhere; }
  table.layers td.num { white-space: nowrap; }
  /* The per-layer energy column does not fit the A4 column: its total is on the overview card. */
  table.layers .energy { display: none; }
  th.sortable::after { content: none; }
  tr, .card { break-inside: avoid; }
  thead { display: table-header-group; }
  a { color: inherit; }
}
`;
