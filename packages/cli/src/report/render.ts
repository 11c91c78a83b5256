/**
 * renderReport: one self-contained HTML file (no network: Chart.js, styles, script and data are
 * inline). Text, tables and the before/after comparison are rendered here, escaped, so the page
 * reads and prints even with scripts off; the charts and the table sorting are drawn by the
 * inline script from the same data, embedded as JSON (`#onnxkit-report-data`). The output is a
 * pure function of the input: no clock, no randomness, a fixed number locale.
 */
import { formatJoules as fmtJoules, intEnergyText, type AnalysisReport, type LayerReport } from '@onnxkit/passes';
import { chartJsSource } from './chart-library.js';
import { CLIENT_SCRIPT } from './client-script.js';
import { escapeHtml as esc, inlineScript, jsonForScript } from './escape.js';
import { fmtBytes, fmtChange, fmtDb, fmtDuration, fmtInt, fmtSI, fmtSeconds, fmtShape, fmtSig, fmtSignedInt } from './format.js';
import { STYLES } from './styles.js';
import type { RenderOptions, ReportCrash, ReportData, ReportLatency, ReportQuantizedError, ReportVerification } from './types.js';
import { validateReportData } from './validate.js';

/** Section ids, in page order; a section is present only when its data is. */
export const SECTION_IDS = ['overview', 'layers', 'roofline', 'memory', 'comparison', 'measurements', 'quantized', 'table', 'conventions'] as const;
export type SectionId = (typeof SECTION_IDS)[number];

/** The element holding the embedded JSON. */
export const DATA_ELEMENT_ID = 'onnxkit-report-data';

const SECTION_TITLES: Record<SectionId, string> = {
  overview: 'Overview',
  layers: 'Per-layer cost',
  roofline: 'Roofline',
  memory: 'Activation memory',
  comparison: 'Before / after',
  measurements: 'Measurements',
  quantized: 'int8 beside fp32',
  table: 'Layer table',
  conventions: 'Conventions',
};

function deviceName(a: AnalysisReport): string {
  return a.device.title || a.device.id;
}

function numCell(v: number | null | undefined, text: string, title?: string): string {
  const dv = v === null || v === undefined || !Number.isFinite(v) ? '' : ` data-v="${v}"`;
  return `<td class="num"${dv}${title ? ` title="${esc(title)}"` : ''}>${esc(text)}</td>`;
}

function changeClass(before: number | null | undefined, after: number | null | undefined, lowerIsBetter = true): string {
  if (before === null || before === undefined || after === null || after === undefined || before === after) return '';
  return (after < before) === lowerIsBetter ? 'better' : 'worse';
}

// ——— 1. header and overview ———

function header(d: ReportData): string {
  const m = d.model;
  const a = d.analysis;
  const items: [string, string][] = [];
  if (m.file) items.push(['file', m.file]);
  if (m.fileBytes !== null) items.push(['size', `${fmtBytes(m.fileBytes)} (${fmtInt(m.fileBytes)} B)`]);
  const producer = [m.producer.name, m.producer.version].filter(Boolean).join(' ');
  items.push(['producer', producer || 'unknown']);
  items.push(['IR version', String(m.irVersion)]);
  items.push(['opset', m.opsets.length ? m.opsets.map((o) => (o.domain === 'ai.onnx' ? String(o.version) : `${o.domain} ${o.version}`)).join(', ') : 'none']);
  items.push(['nodes', fmtInt(m.nodes)]);
  items.push(['device', `${deviceName(a)} · ${a.device.precision}`]);
  return `<header class="page-head"><div class="wrap">
<div class="eyebrow">onnxkit model report</div>
<h1>${esc(m.name)}</h1>
${m.docString ? `<p class="doc">${esc(m.docString)}</p>` : ''}
<dl>${items.map(([k, v]) => `<div><dt>${esc(k)}</dt><dd>${esc(v)}</dd></div>`).join('')}</dl>
</div></header>`;
}

function nav(present: readonly SectionId[]): string {
  return `<nav class="toc wrap" aria-label="Sections">${present.map((s) => `<a href="#${s}">${SECTION_TITLES[s]}</a>`).join('')}</nav>`;
}

/** A symbolic count with readable coefficients: "300774272*N" → "301 M·N". */
function fmtExpr(expr: string): string {
  return expr.replace(/\d{4,}/g, (n) => fmtSI(Number(n))).replace(/\*/g, '·');
}

/** A whole-model total: "unknown" when it is null (a layer unknown or a symbol unbound), else the value. */
function partial(value: number | null, _unknownLayers: number, fmt: (x: number) => string): string {
  return value === null ? 'unknown' : fmt(value);
}

/** An exact count, or the coverage of a total that is not known. */
function exactOr(value: number | null, coverage: string): string {
  return value === null ? `unknown: ${coverage}` : fmtInt(value);
}

function unknownNote(unknownLayers: number): string {
  return unknownLayers > 0 ? ` · ${fmtInt(unknownLayers)} layer${unknownLayers === 1 ? '' : 's'} unknown, not included` : '';
}

interface Card {
  label: string;
  value: string;
  exact: string;
  after?: { value: string; change: string; cls: string };
}

function card(c: Card): string {
  const after = c.after ? `<div class="after">→ ${esc(c.after.value)} <span class="chg ${c.after.cls}">${esc(c.after.change)}</span></div>` : '';
  return `<div class="card"><div class="label">${esc(c.label)}</div><div class="value">${esc(c.value)}</div><div class="exact">${esc(c.exact)}</div>${after}</div>`;
}

/** Which value each symbolic dim was bound to for this report, and which were defaulted. */
function bindingsNote(d: ReportData): string {
  const values = d.bindings?.values ?? d.analysis.model.bindings ?? {};
  const entries = Object.entries(values);
  if (entries.length === 0) return '';
  const defaulted = new Set(d.bindings?.defaulted ?? []);
  const list = entries.map(([k, v]) => `<code>${esc(k)}=${v}</code>${defaulted.has(k) ? ' (default)' : ''}`).join(', ');
  const hint = defaulted.size > 0 ? ` Symbols marked default were not given: choose them with <code>--dim ${esc([...defaulted][0]!)}=…</code> (at 1, a sequence makes attention look free).` : '';
  return `<p class="caption" data-block="bindings">Symbolic dims bound for every number and run in this report: ${list}.${hint}</p>`;
}

function overview(d: ReportData): string {
  const t = d.analysis.totals;
  const o = d.optimized?.analysis.totals;
  const lat = d.latency;
  const after = (v: number | null | undefined, before: number | null, text: (x: number) => string) =>
    o === undefined || v === undefined || v === null || before === null ? undefined : { value: text(v), change: fmtChange(before, v), cls: changeClass(before, v) };
  const cards: Card[] = [
    {
      label: 'Parameters',
      value: fmtSI(t.params),
      exact: `${fmtInt(t.params)} learnable · ${fmtInt(t.weightParams)} weights${t.bufferParams ? ` · ${fmtInt(t.bufferParams)} buffers` : ''}`,
      after: after(o?.params, t.params, fmtSI),
    },
    {
      label: 'Model size',
      value: fmtBytes(d.model.fileBytes ?? t.modelSizeBytes),
      exact: `${d.model.fileBytes !== null ? `file ${fmtInt(d.model.fileBytes)} B · ` : ''}weights ${fmtBytes(t.modelSizeBytes)} as stored${t.modelSizeBytesAtBits !== null ? ` · ${fmtBytes(t.modelSizeBytesAtBits)} at ${d.analysis.bits} bit` : ''}`,
      after:
        o === undefined
          ? undefined
          : d.model.fileBytes !== null && d.optimized!.model.fileBytes !== null
            ? { value: fmtBytes(d.optimized!.model.fileBytes), change: fmtChange(d.model.fileBytes, d.optimized!.model.fileBytes), cls: changeClass(d.model.fileBytes, d.optimized!.model.fileBytes) }
            : after(o.modelSizeBytes, t.modelSizeBytes, fmtBytes),
    },
    {
      label: 'MACs',
      value: t.macsExpr ? fmtExpr(t.macsExpr) : partial(t.macs, t.unknownLayers, fmtSI),
      exact: t.macsExpr ? `${t.macsExpr} (symbolic dims)` : `${exactOr(t.macs, t.coverage.text[0]!)}${unknownNote(t.unknownLayers)}`,
      after: after(o?.macs, t.macs, fmtSI),
    },
    t.flopsExpr
      ? { label: 'FLOPs', value: fmtExpr(t.flopsExpr), exact: `${t.flopsExpr} (symbolic dims) · 2·MACs + element-wise`, after: after(o?.flops, t.flops, fmtSI) }
      : { label: 'FLOPs', value: partial(t.flops, t.unknownLayers, fmtSI), exact: `${exactOr(t.flops, t.coverage.text[1]!)} · 2·MACs + element-wise${unknownNote(t.unknownLayers)}`, after: after(o?.flops, t.flops, fmtSI) },
    {
      label: 'Activations',
      value: partial(t.activations.total, t.activations.unknownLayers, (x) => `${fmtSI(x)} total`),
      exact: `${t.activations.total === null ? (t.activations.totalExpr ?? 'unknown') : fmtInt(t.activations.total)} elements · peak ${t.activations.peak === null ? 'unknown' : fmtInt(t.activations.peak)}${t.activations.peakLayer ? ` at ${t.activations.peakLayer}` : ''}${unknownNote(t.activations.unknownLayers)}`,
      after: after(o?.activations.total, t.activations.total, (x) => `${fmtSI(x)} total`),
    },
    {
      label: 'Peak memory',
      value: partial(t.peakMemoryBytes, t.peakMemoryUnknownValues, fmtBytes),
      exact: `live activations${t.peakMemoryLayer ? ` at ${t.peakMemoryLayer}` : ''}; weights excluded`,
      after: after(o?.peakMemoryBytes, t.peakMemoryBytes, fmtBytes),
    },
    {
      label: 'Estimated latency',
      value: partial(t.latency.seconds, t.unknownLayers, fmtSeconds),
      exact: `${d.analysis.device.id} ${d.analysis.device.precision} roofline · ${t.latency.bound === null ? t.coverage.text[2]! : `${t.latency.bound}-bound overall`}; ${fmtInt(t.computeBoundLayers)} compute- / ${fmtInt(t.memoryBoundLayers)} memory-bound layers`,
      after: after(o?.latency.seconds, t.latency.seconds, fmtSeconds),
    },
    ...(t.energy
      ? [
          {
            label: 'Estimated energy',
            value: partial(t.energy.joules, t.energy.unknownLayers, fmtJoules),
            exact: `per inference: arithmetic ${fmtJoules(t.energy.computeJoules)} · SRAM ${fmtJoules(t.energy.sramJoules)} · DRAM ${fmtJoules(t.energy.dramJoules)}; DRAM read ${t.energy.table.dramReadPj} pJ, SRAM read ${t.energy.table.sramReadPj} pJ, float mult ${t.energy.table.multPj} pJ, add ${t.energy.table.addPj} pJ${intEnergyText(t.energy.table)} (${t.energy.table.source})`,
            after: after(o?.energy?.joules, t.energy.joules, fmtJoules),
          },
        ]
      : []),
    ...(t.training
      ? [
          {
            label: `Training memory (batch ${t.training.batch})`,
            value: partial(t.training.totalBytes.adam, 0, (x) => `${fmtBytes(x)} Adam`),
            exact: `fp32: weights ${fmtBytes(t.training.weightsBytes)} + gradients ${fmtBytes(t.training.gradientsBytes)} + optimizer state (SGD-momentum ${fmtBytes(t.training.optimizerBytes.sgdMomentum)}, Adam ${fmtBytes(t.training.optimizerBytes.adam)}) + stored activations ${t.training.activationsBytes === null ? 'unknown' : fmtBytes(t.training.activationsBytes)}; ${t.training.totalBytes.sgdMomentum === null ? '' : `${fmtBytes(t.training.totalBytes.sgdMomentum)} with SGD-momentum`}`,
          },
        ]
      : []),
    lat
      ? {
          label: 'Measured latency',
          value: `${fmtDuration(lat.original.p50Ms)} p50`,
          exact: `p90 ${fmtDuration(lat.original.p90Ms)} · onnxruntime CPU, ${lat.threads} thread${lat.threads === 1 ? '' : 's'}${lat.graphOptimizationLevel ? `, optimization ${lat.graphOptimizationLevel}` : ''}`,
          after: lat.optimized
            ? {
                value: `${fmtDuration(lat.optimized.p50Ms)} p50`,
                change: lat.ratio !== undefined ? speedupChange(lat.ratio) : fmtChange(lat.original.p50Ms, lat.optimized.p50Ms),
                cls: changeClass(1, lat.ratio ?? lat.optimized.p50Ms / lat.original.p50Ms),
              }
            : undefined,
        }
      : d.crash
        ? crashCard(d.crash)
        : { label: 'Layers', value: fmtInt(t.layers), exact: `${fmtInt(d.model.nodes)} nodes · ${Object.keys(d.model.opHistogram).length} op types`, after: after(o?.layers, t.layers, fmtInt) },
  ];

  const io = (side: 'inputs' | 'outputs'): string =>
    d.model[side].map((v) => `<tr><td class="name mono">${esc(v.name)}</td><td>${esc(v.dtype)}</td><td class="mono">${esc(fmtShape(v.shape))}</td></tr>`).join('');
  const meta = Object.entries(d.model.metadata);
  const ops = Object.entries(d.model.opHistogram);
  return `<section class="sec" id="overview" data-section="overview">
<div class="sec-head"><h2>Overview</h2><span class="count">${fmtInt(t.layers)} layers · ${ops.length} op types</span></div>
${bindingsNote(d)}<div class="cards">${cards.map(card).join('')}</div>
${d.optimized ? `<p class="caption">Arrows give the optimized model (${esc(d.optimized.pipeline ?? 'optimized')}) and the change from the original.</p>` : ''}
<div class="cols">
<div><h3>Inputs and outputs</h3><table><thead><tr><th>name</th><th>type</th><th>shape</th></tr></thead>
<tbody>${io('inputs')}<tr><td colspan="3" class="muted" style="font-size:11.5px;padding-top:8px">outputs</td></tr>${io('outputs')}</tbody></table></div>
<div><h3>Metadata</h3>${
    meta.length
      ? `<table class="kv"><tbody>${meta.map(([k, v]) => `<tr><th>${esc(k)}</th><td class="name">${esc(v)}</td></tr>`).join('')}</tbody></table>`
      : '<p class="muted">No metadata_props.</p>'
  }</div>
</div>
<h3>Operators</h3>
<div class="chips">${ops.map(([op, n]) => `<span class="chip">${esc(op)} <b>${fmtInt(n)}</b></span>`).join('')}</div>
</section>`;
}

// ——— 2–4. chart sections (drawn by the script) ———

function viewToggle(d: ReportData): string {
  if (!d.optimized) return '';
  return `<span class="seg-label">model</span><span class="seg" data-toggle="view">
<button type="button" data-value="original" aria-pressed="true">original (${fmtInt(d.analysis.layers.length)})</button><button type="button" data-value="optimized" aria-pressed="false">optimized (${fmtInt(d.optimized.analysis.layers.length)})</button></span>`;
}

function layersSection(d: ReportData): string {
  const chart = (metric: string, title: string) =>
    `<div><div class="chart-title">${title} <span class="chart-note" data-chart-note="${metric}"></span></div><div class="chart-scroll"><div class="chart-box bars" data-chart-box="${metric}"><canvas id="chart-${metric}" role="img" aria-label="${esc(title)} per layer"></canvas></div></div></div>`;
  return `<section class="sec" id="layers" data-section="layers">
<div class="sec-head"><h2>Per-layer cost</h2><div class="toolbar">${viewToggle(d)}<span class="seg-label">layers</span><span class="seg" data-toggle="bars">
<button type="button" data-value="order" aria-pressed="true">all, in execution order</button><button type="button" data-value="top" aria-pressed="false">top 20</button></span></div></div>
<p class="caption">Bars are coloured by operator, in execution order (or the largest first). Activations are the output elements a layer writes; element-wise activation functions and inference BatchNorm work in place and views (Reshape, Flatten, …) alias their input, so they add none (see Conventions). Hover a bar for the layer.</p>
<div class="chart-grid">${chart('macs', 'MACs')}${chart('params', 'Parameters')}${chart('activations', 'Activations (output elements)')}</div>
</section>`;
}

function rooflineSection(d: ReportData): string {
  const dev = d.analysis.device;
  const ridge = dev.peakFlops / dev.memoryBandwidth;
  const measured = d.latency?.perLayer?.length
    ? " Hollow diamonds are each layer's FLOPs over its measured onnxruntime kernel time on the machine that ran the benchmark, not on this device: compare how far layers fall below the roof, not absolute heights."
    : '';
  return `<section class="sec" id="roofline" data-section="roofline">
<div class="sec-head"><h2>Roofline · ${esc(deviceName(d.analysis))}</h2><div class="toolbar">${viewToggle(d)}</div></div>
<p class="caption">Each layer at its arithmetic intensity (FLOPs per byte moved) and the performance the device can attain there: min(peak ${esc(fmtSI(dev.peakFlops, 'FLOP/s'))}, ${esc(fmtSI(dev.memoryBandwidth, 'B/s'))} × intensity). Left of the ridge point (${esc(fmtSig(ridge))} FLOP/B) a layer is memory-bound, right of it compute-bound. Point area grows with the layer's FLOPs.${measured}</p>
<div class="chart-box tall"><canvas id="chart-roofline" role="img" aria-label="Roofline plot"></canvas></div>
<p class="legend-note" id="roofline-note"></p>
${furthestFromRoof(d)}
</section>`;
}

/** Measured / as-executed estimate per layer, the layers furthest from their roof first. */
function furthestFromRoof(d: ReportData): string {
  const rows = (d.latency?.perLayer ?? []).filter((r) => r.ratio !== undefined && r.ratio !== null && r.measuredUs !== null).sort((a, b) => b.ratio! - a.ratio!);
  if (rows.length === 0) return '';
  const body = rows
    .slice(0, 20)
    .map((r) => `<tr><td class="name mono">${esc(r.name)}</td>${numCell(r.measuredUs, fmtSeconds(r.measuredUs! / 1e6))}${numCell(r.estimatedUs ?? null, r.estimatedUs == null ? '—' : fmtSeconds(r.estimatedUs / 1e6))}${numCell(r.ratio!, `${fmtSig(r.ratio!)}×`)}</tr>`)
    .join('');
  return `<h3>Furthest from the roof</h3>
<p class="caption">Measured onnxruntime kernel time per run against the roofline of the graph as onnxruntime executes it${d.latency?.graphOptimizationLevel ? ` (level ${esc(d.latency.graphOptimizationLevel)})` : ''}: layers it fuses (BatchNorm, activations, residual adds) run inside their producer's kernel and add no memory traffic. ${rows.length > 20 ? `The 20 of ${fmtInt(rows.length)} measured layers` : 'Measured layers'} with the largest measured / estimate first.</p>
<table data-table="furthest"><thead><tr><th>layer</th><th class="num">measured</th><th class="num">estimate as executed</th><th class="num">measured / estimate</th></tr></thead><tbody>${body}</tbody></table>`;
}

function memorySection(d: ReportData): string {
  const t = d.analysis.totals;
  const o = d.optimized?.analysis.totals;
  return `<section class="sec" id="memory" data-section="memory">
<div class="sec-head"><h2>Activation memory over the execution order</h2><div class="toolbar"><span class="count">peak ${esc(fmtBytes(t.peakMemoryBytes))}${t.peakMemoryLayer ? ` at ${esc(t.peakMemoryLayer)}` : ''}${o ? ` → ${esc(fmtBytes(o.peakMemoryBytes))} optimized` : ''}</span>${viewToggle(d)}</div></div>
<p class="caption">Bytes of activations alive while each node runs (its inputs and outputs included), freed after their last reader; views share their input's buffer and in-place ops reuse it. Weights are resident for the whole run and not included.</p>
<div class="chart-box"><canvas id="chart-memory" role="img" aria-label="Activation memory timeline"></canvas></div>
</section>`;
}

// ——— 5. before / after, verification, measured latency ———

/** Cosine similarity near 1 as "1 − 3.2e-9", which says more than "1.0000000". */
function fmtCosine(c: number | null): string {
  if (c === null) return '—';
  if (c === 1) return '1';
  if (c > 0.9999 && c < 1) return `1 − ${(1 - c).toExponential(1)}`;
  return c.toFixed(6);
}

/** Both models' error against the float64 reference, per output (or the fallback line). */
function referenceTable(v: ReportVerification): string {
  const r = v.reference;
  if (r === undefined) return '';
  if (r.basis === 'fixed-tolerance') return `<p class="muted">Float64 reference unavailable (${esc(r.unavailable ?? '')}); judged by the fixed tolerance below.</p>`;
  const e = (x: number): string => (x === 0 ? '0' : x.toExponential(2));
  const rows = r.outputs.map((o) => `<tr><td>${esc(o.name)}</td><td class="num">${e(o.aMaxError)}</td><td class="num">${e(o.aMeanError)}</td><td class="num">${fmtDb(o.aSqnrDb)}</td><td class="num">${e(o.bMaxError)}</td><td class="num">${e(o.bMeanError)}</td><td class="num">${fmtDb(o.bSqnrDb)}</td><td class="num">${e(o.budget)}</td><td class="num">${fmtInt(o.exceeding)}</td><td>${o.pass ? '✓' : '✗'}</td></tr>`).join('');
  return `<p class="caption">Judged against a float64 evaluation of the original: ${esc(r.rule)}.</p>
<table><thead><tr><th>output</th><th class="num">A max err</th><th class="num">A mean err</th><th class="num">A SQNR dB</th><th class="num">B max err</th><th class="num">B mean err</th><th class="num">B SQNR dB</th><th class="num">budget</th><th class="num">over budget</th><th>result</th></tr></thead><tbody>${rows}</tbody></table>`;
}

function verificationBlock(v: ReportVerification): string {
  const tol = v.tolerance.atol !== null || v.tolerance.rtol !== null ? `atol ${v.tolerance.atol ?? 'default'}, rtol ${v.tolerance.rtol ?? 'default'}` : 'per-dtype defaults';
  const rows = v.outputs
    .map((o) => {
      const shape = o.shapeA ?? o.shapeB ?? null;
      return `<tr><td class="name mono">${esc(o.name)}</td><td>${esc(o.dtypeA ?? o.dtypeB ?? '')}</td><td class="mono">${esc(shape ? fmtShape(shape) : '?')}</td>${numCell(o.maxAbsError, o.maxAbsError === null ? '—' : o.maxAbsError.toExponential(2))}${numCell(
        o.maxRelError,
        o.maxRelError === null ? '—' : o.maxRelError.toExponential(2),
      )}${numCell(o.cosine, fmtCosine(o.cosine))}${numCell(o.mismatches, `${fmtInt(o.mismatches)}${o.total !== undefined ? ` / ${fmtInt(o.total)}` : ''}`)}<td class="num">${o.exact ? 'exact' : `${o.atol} / ${o.rtol}`}</td><td>${o.pass ? '<span class="verdict ok">pass</span>' : `<span class="verdict fail" title="${esc(o.reason ?? '')}">fail</span>`}</td></tr>`;
    })
    .join('');
  const div =
    v.firstDivergence === undefined
      ? ''
      : v.firstDivergence === null
        ? '<p class="muted">Bisection found no diverging intermediate value.</p>'
        : `<p>First diverging value: <code>${esc(v.firstDivergence.value)}</code> from ${esc(v.firstDivergence.opType)} <code>${esc(v.firstDivergence.node)}</code> (max abs error ${v.firstDivergence.maxAbsError.toExponential(2)}).</p>`;
  return `<div data-block="verification"><h3>Equivalence (onnxruntime-node)</h3>
<p>${v.equivalent ? `<span class="verdict ok">✓ ${esc(v.verdict ?? 'equivalent')}</span>` : '<span class="verdict fail">✗ not equivalent</span>'} ${v.reason ? esc(v.reason) : ''}</p>
${referenceTable(v)}
<p class="caption">Tolerances: ${esc(tol)}; an element fails only when it exceeds both atol and rtol·|reference|. ${v.inputs ? `Inputs: ${esc(v.inputs)}.` : ''} ${v.graphOptimizationLevel ? `onnxruntime graph optimizations: ${esc(v.graphOptimizationLevel)}.` : ''} ${v.compared !== undefined ? `${fmtInt(v.compared)} elements compared.` : ''}</p>
<table><thead><tr><th>output</th><th>dtype</th><th>shape</th><th class="num">max abs error</th><th class="num">max rel error</th><th class="num">cosine</th><th class="num">mismatches</th><th class="num">atol / rtol</th><th>result</th></tr></thead><tbody>${rows}</tbody></table>
${div}</div>`;
}

/** Latency ratios near 1 need three decimals (a 0.3% difference must not print as ×1). */
const fmtRatio = (x: number): string => x.toFixed(3);

/** The one confidence level of every speed-up (runtime's CONFIDENCE_LEVEL). */
const CONFIDENCE_PERCENT = 95;

/** A speed-up as a change: "×0.890 (−11.0%)" — the ratio and its percentage are the same number. */
function speedupChange(ratio: number): string {
  const pct = (ratio - 1) * 100;
  return `×${fmtRatio(ratio)} (${pct < 0 ? '−' : '+'}${Math.abs(pct).toFixed(1)}%)`;
}

/** Faster or slower only when the 95% confidence interval excludes 1; otherwise within the noise. */
function ratioVerdict(ratio: number, ci: ReportLatency['ratioCi']): string {
  if (ci && (ci.reached === false || (ci.coverage ?? ci.level) < 0.95 || (ci.low <= 1 && ci.high >= 1))) return 'no difference beyond the measurement noise';
  if (ratio < 1) return `${fmtSig((1 - ratio) * 100, 2)}% faster`;
  if (ratio > 1) return `${fmtSig((ratio - 1) * 100, 2)}% slower`;
  return 'same speed';
}

function latencyBlock(l: ReportLatency, names: { a: string; b: string } = { a: 'original', b: 'optimized' }): string {
  const row = (label: string, s: NonNullable<ReportLatency['optimized']>) =>
    `<tr><td>${label}</td>${numCell(s.p50Ms, fmtDuration(s.p50Ms))}${numCell(s.p90Ms, fmtDuration(s.p90Ms))}${numCell(s.p99Ms, fmtDuration(s.p99Ms))}${numCell(s.meanMs, fmtDuration(s.meanMs))}${numCell(s.minMs, fmtDuration(s.minMs))}</tr>`;
  const ratio =
    l.ratio !== undefined
      ? `<p>Speed-up, ${esc(names.b)} / ${esc(names.a)} — the median over interleaved pairs of the per-pair time ratio: <b>×${fmtRatio(l.ratio)}</b>${l.ratioCi ? ` (${l.ratioCi.reached === false ? `too few pairs for a ${CONFIDENCE_PERCENT}% interval` : `${CONFIDENCE_PERCENT}% confidence interval ×${fmtRatio(l.ratioCi.low)}–×${fmtRatio(l.ratioCi.high)}`})` : ''}${l.ratioP10 !== undefined && l.ratioP90 !== undefined ? `${l.ratioCi ? ';' : ''} per pair p10 ×${fmtRatio(l.ratioP10)}, p90 ×${fmtRatio(l.ratioP90)}` : ''} — ${ratioVerdict(l.ratio, l.ratioCi)}.</p>`
      : '';
  return `<div data-block="latency"><h3>Measured latency (onnxruntime-node, CPU)</h3>
<p class="caption">${l.iterations !== undefined ? `${fmtInt(l.iterations)} timed runs${l.warmup !== undefined ? ` after ${fmtInt(l.warmup)} warm-up runs` : ''}, ` : ''}${l.threads} intra-op thread${l.threads === 1 ? '' : 's'}${l.graphOptimizationLevel ? `, graph optimization level ${esc(l.graphOptimizationLevel)}` : ''}${l.optimized ? '; the two models ran interleaved so machine noise hits both alike' : ''}.</p>
<table><thead><tr><th>model</th><th class="num">p50</th><th class="num">p90</th><th class="num">p99</th><th class="num">mean</th><th class="num">min</th></tr></thead><tbody>${row(esc(names.a), l.original)}${l.optimized ? row(esc(names.b), l.optimized) : ''}</tbody></table>
${ratio}</div>`;
}

function comparisonSection(d: ReportData): string {
  const opt = d.optimized!;
  const a = d.analysis.totals;
  const b = opt.analysis.totals;
  const lat = d.latency;
  const rows: ComparisonRow[] = [
    ['nodes', d.model.nodes, opt.model.nodes, fmtInt],
    ['layers analysed', a.layers, b.layers, fmtInt],
    ['parameters (learnable)', a.params, b.params, fmtInt],
    ['weight parameters', a.weightParams, b.weightParams, fmtInt],
    ['buffers (BN statistics)', a.bufferParams, b.bufferParams, fmtInt],
    ['weights as stored', a.modelSizeBytes, b.modelSizeBytes, fmtBytes],
    ['file size', d.model.fileBytes, opt.model.fileBytes, fmtBytes],
    ['MACs', a.macs, b.macs, fmtInt],
    ['FLOPs', a.flops, b.flops, fmtInt],
    ['activations (elements)', a.activations.total, b.activations.total, fmtInt],
    ['peak activations (elements)', a.activations.peak, b.activations.peak, fmtInt],
    ['peak activation memory', a.peakMemoryBytes, b.peakMemoryBytes, fmtBytes],
    [`estimated latency (${d.analysis.device.id})`, a.latency.seconds, b.latency.seconds, fmtSeconds],
  ];
  const summary = comparisonRows(rows, lat);
  const passRows = opt.passes
    .map((p) => {
      const rejected = Object.entries(p.rejected ?? {})
        .sort((x, y) => y[1] - x[1] || (x[0] < y[0] ? -1 : 1))
        .map(([r, n]) => `${r} ×${n}`)
        .join(', ');
      return `<tr class="${p.changes === 0 ? 'zero' : ''}"><td class="mono">${esc(p.pass)}</td>${numCell(p.runs, p.runs === undefined ? '—' : fmtInt(p.runs))}${numCell(p.changes, fmtInt(p.changes))}${numCell(p.nodesAdded, fmtInt(p.nodesAdded))}${numCell(
        p.nodesRemoved,
        fmtInt(p.nodesRemoved),
      )}${numCell(-p.bytesDelta, p.bytesDelta === 0 ? '0' : p.bytesDelta < 0 ? fmtBytes(-p.bytesDelta) : `−${fmtBytes(p.bytesDelta)}`, `${fmtSignedInt(p.bytesDelta)} bytes of initializers`)}${numCell(p.timeMs, fmtDuration(p.timeMs))}<td class="muted" style="font-size:12px">${esc(rejected)}</td></tr>`;
    })
    .join('');
  const tot = opt.passes.reduce(
    (s, p) => ({ changes: s.changes + p.changes, added: s.added + p.nodesAdded, removed: s.removed + p.nodesRemoved, bytes: s.bytes + p.bytesDelta, ms: s.ms + p.timeMs }),
    { changes: 0, added: 0, removed: 0, bytes: 0, ms: 0 },
  );
  const run = [
    opt.pipeline ? `pipeline <code>${esc(opt.pipeline)}</code>` : '',
    opt.iterations !== undefined ? `${opt.iterations} sweep${opt.iterations === 1 ? '' : 's'}` : '',
    opt.converged !== undefined ? (opt.converged ? 'reached a fixed point' : 'stopped before a fixed point') : '',
    opt.timeMs !== undefined ? `${fmtDuration(opt.timeMs)} in total` : '',
  ].filter(Boolean);
  const ops = [...new Set([...Object.keys(d.model.opHistogram), ...Object.keys(opt.model.opHistogram)])];
  const opRows = ops
    .map((op) => {
      const x = d.model.opHistogram[op] ?? 0;
      const y = opt.model.opHistogram[op] ?? 0;
      return `<tr class="${x === y ? 'zero' : ''}"><td>${esc(op)}</td>${numCell(x, fmtInt(x))}${numCell(y, fmtInt(y))}<td class="num">${x === y ? '' : esc(fmtSignedInt(y - x))}</td></tr>`;
    })
    .join('');
  return `<section class="sec" id="comparison" data-section="comparison">
<div class="sec-head"><h2>Before / after optimization</h2><span class="count">${esc(d.model.name)} → ${esc(opt.model.name)}</span></div>
<div class="cols">
<div><h3>Totals</h3><table><thead><tr><th>metric</th><th class="num">original</th><th class="num">optimized</th><th class="num">change</th></tr></thead><tbody>${summary}</tbody></table></div>
<div><h3>Operators</h3><div class="chart-box" style="height:${Math.max(160, 26 * ops.length + 70)}px"><canvas id="chart-ops" role="img" aria-label="Operator histogram before and after"></canvas></div>
<table style="margin-top:10px"><thead><tr><th>op</th><th class="num">original</th><th class="num">optimized</th><th class="num">change</th></tr></thead><tbody>${opRows}</tbody></table></div>
</div>
<h3>Passes</h3>
${run.length ? `<p class="caption">${run.join(' · ')}.</p>` : ''}
<div class="table-scroll" style="max-height:none"><table data-table="passes"><thead><tr><th>pass</th><th class="num">runs</th><th class="num">changes</th><th class="num">nodes added</th><th class="num">nodes removed</th><th class="num">bytes saved</th><th class="num">time</th><th>declined (reason ×count)</th></tr></thead>
<tbody>${passRows}</tbody><tfoot><tr><th>total</th><th></th><th class="num">${fmtInt(tot.changes)}</th><th class="num">${fmtInt(tot.added)}</th><th class="num">${fmtInt(tot.removed)}</th><th class="num">${tot.bytes <= 0 ? fmtBytes(-tot.bytes) : `−${fmtBytes(tot.bytes)}`}</th><th class="num">${fmtDuration(tot.ms)}</th><th></th></tr></tfoot></table></div>
${d.verification ? verificationBlock(d.verification) : d.crash ? crashBlock(d.crash) : '<h3>Equivalence</h3><p class="muted">Not verified in this report: run <code>onnxkit verify</code> to compare the outputs in onnxruntime.</p>'}
${lat ? latencyBlock(lat) : ''}${d.crash ? crashLatencyBlock(d.crash) : ''}
</section>`;
}

/** A before/after (or fp32/int8) row: label, the two values, their format. */
type ComparisonRow = [label: string, before: number | null, after: number | null, fmt: (x: number) => string];

/**
 * The rows of a two-model comparison table, with the measured p50/p90 rows when both models were
 * timed. The measured p50 row's change is the speed-up (median of interleaved pair ratios), the
 * same number as the card and the latency block — not a ratio of the two p50s.
 */
function comparisonRows(rows: readonly ComparisonRow[], lat: ReportLatency | undefined): string {
  const all = lat?.optimized
    ? [...rows, ['measured latency p50', lat.original.p50Ms, lat.optimized.p50Ms, fmtDuration] as ComparisonRow, ['measured latency p90', lat.original.p90Ms, lat.optimized.p90Ms, fmtDuration] as ComparisonRow]
    : rows;
  return all
    .map(([label, x, y, f]) => {
      const speedup = label === 'measured latency p50' && lat?.ratio !== undefined;
      const cls = speedup ? changeClass(1, lat!.ratio!) : changeClass(x, y);
      return `<tr><td>${esc(label)}</td>${numCell(x, x === null ? '—' : f(x))}${numCell(y, y === null ? '—' : f(y))}<td class="num ${cls}">${esc(speedup ? speedupChange(lat!.ratio!) : fmtChange(x, y))}</td></tr>`;
    })
    .join('');
}

function quantizedSection(d: ReportData): string {
  const q = d.quantized!;
  const a = q.fp32.analysis.totals;
  const b = q.int8.analysis.totals;
  const lat = q.latency;
  const rows: ComparisonRow[] = [
    ['weights as stored', a.modelSizeBytes, b.modelSizeBytes, fmtBytes],
    ['file size (encoded)', q.fp32.fileBytes, q.int8.model.fileBytes, fmtBytes],
    ['MACs', a.macs, b.macs, fmtInt],
    ['FLOPs', a.flops, b.flops, fmtInt],
    ['integer OPs', a.intOps, b.intOps, fmtInt],
    [`estimated latency as onnxruntime runs it, level all (${q.int8.analysis.device.id}, int8 at ${fmtSI(q.int8.analysis.device.peakIntOps)}OP/s)`, a.latency.asExecuted.all.seconds, b.latency.asExecuted.all.seconds, fmtSeconds],
    ['estimated latency, graph as written', a.latency.seconds, b.latency.seconds, fmtSeconds],
    ['estimated energy', a.energy.joules, b.energy.joules, fmtJoules],
  ];
  const summary = comparisonRows(rows, lat);
  const errRow = (e: ReportQuantizedError): string =>
    `<tr><td class="mono">${esc(e.name)}</td>${numCell(e.sqnrDb, fmtDb(e.sqnrDb, { unit: true }))}${numCell(e.maxAbsError, e.maxAbsError.toPrecision(3))}${numCell(e.meanAbsError, e.meanAbsError.toPrecision(3))}</tr>`;
  const c = q.calibration;
  const floats = q.skipped.filter((x) => x.code !== 'no-quantized-neighbour');
  return `<section class="sec" id="quantized" data-section="quantized">
<div class="sec-head"><h2>int8 beside fp32</h2><span class="count">output SQNR ${esc(fmtDb(q.accuracy.overall.sqnrDb, { unit: true }))}</span></div>
<p class="caption">Static int8 quantization (QDQ, as <code>onnxkit quantize</code>: int8 per-channel weights, int32 biases), which onnxruntime fuses into integer kernels. fp32 side: ${esc(q.reference)}. ${fmtInt(q.layers)} layers quantized, ${fmtInt(q.fusedActivations)} Relu/Clip folded into them. Calibration: ${esc(c.method)}${c.percentile !== undefined ? ` ${c.percentile}` : ''} on ${esc(c.source)} (${fmtInt(c.samples)} samples, ${fmtDuration(c.msPerSample)} per sample); accuracy on ${esc(q.evaluation.source)}, inputs not used for calibration.</p>
<div class="cols">
<div><h3>Totals</h3><table data-table="quantized"><thead><tr><th>metric</th><th class="num">fp32</th><th class="num">int8</th><th class="num">change</th></tr></thead><tbody>${summary}</tbody></table></div>
<div><h3>Accuracy against fp32</h3><table data-table="sqnr"><thead><tr><th>output</th><th class="num">SQNR</th><th class="num">max abs err</th><th class="num">mean abs err</th></tr></thead><tbody>${q.accuracy.outputs.map(errRow).join('')}</tbody></table>
<p class="caption">SQNR = 10·log10(Σ fp32² / Σ (int8 − fp32)²) over the held-out samples; 20 dB means the error carries 1% of the output's energy. Per-layer SQNR, sensitivity and mixed precision: <code>onnxkit quantize --sensitivity --min-sqnr DB</code>; accept the int8 model explicitly with <code>onnxkit verify --min-sqnr DB</code>.</p>
${floats.length ? `<p class="caption">Kept in float: ${floats.slice(0, 12).map((x) => `${esc(x.node || x.opType)} (${esc(x.reason)})`).join(', ')}${floats.length > 12 ? `, … ${floats.length - 12} more` : ''}.</p>` : ''}</div>
</div>
<p class="caption">The estimate as onnxruntime runs it fuses each integer layer with the DequantizeLinear of its activations and the QuantizeLinear of its output into one kernel (QLinearConv, QGemm, …) that reads and writes 8-bit tensors, as onnxruntime does from level extended on. The graph as written, and the energy estimate, count each QuantizeLinear/DequantizeLinear as a layer moving float activations, which the fused kernels do not pay; the measured latency is what runs.</p>
${lat ? latencyBlock(lat, { a: 'fp32', b: 'int8' }) : ''}
</section>`;
}

function measurementsSection(d: ReportData): string {
  return `<section class="sec" id="measurements" data-section="measurements">
<div class="sec-head"><h2>Measurements</h2></div>
${d.verification ? verificationBlock(d.verification) : d.crash ? crashBlock(d.crash) : ''}
${d.latency ? latencyBlock(d.latency) : ''}${d.crash ? crashLatencyBlock(d.crash) : ''}
</section>`;
}

/** The per-layer times of the model that survived a crash, for its layer table. */
function survivorLayers(d: ReportData, side: 'original' | 'optimized'): ReportLatency['perLayer'] {
  const l = d.crash?.survivorLatency;
  return l?.side === side ? l.perLayer : undefined;
}

// ——— onnxruntime crashed on a model (issue 13): what is known, the rest marked unavailable ———

function crashedWhat(c: ReportCrash): string {
  return c.crashed.length > 1 ? 'both models' : `the ${c.crashed[0]} model`;
}

/** The overview's measured-latency card when a crash cut the pair short. */
function crashCard(c: ReportCrash): Card {
  const l = c.survivorLatency;
  return {
    label: 'Measured latency',
    value: l ? `${fmtDuration(l.stats.p50Ms)} p50 (${l.side})` : 'unavailable',
    exact: `onnxruntime crashed on ${crashedWhat(c)}: ${c.reason}`,
  };
}

/** In place of the equivalence verdict: why there is none, and what the other model produced. */
function crashBlock(c: ReportCrash): string {
  const r = c.survivorRun;
  const outputs = r
    ? `<p class="caption">The ${esc(r.side)} model ran without a crash: created in ${fmtDuration(r.createMs)}, ran in ${fmtDuration(r.runMs)}.</p>
<table><thead><tr><th>output (${esc(r.side)})</th><th>dtype</th><th>shape</th></tr></thead><tbody>${r.outputs.map((o) => `<tr><td class="name mono">${esc(o.name)}</td><td>${esc(o.dtype)}</td><td class="mono">${esc(fmtShape(o.shape))}</td></tr>`).join('')}</tbody></table>`
    : '';
  return `<div data-block="crash"><h3>Equivalence (onnxruntime-node)</h3>
<p><span class="verdict fail">✗ unavailable</span> onnxruntime crashed on ${crashedWhat(c)} during ${c.step === 'verify' ? 'verification' : 'the benchmark'}: ${esc(c.reason)}</p>
${outputs}</div>`;
}

/** Measured latency with the crashed model's columns marked unavailable. */
function crashLatencyBlock(c: ReportCrash): string {
  const l = c.survivorLatency;
  const unavailable = (side: string): string => `<tr><td>${esc(side)}</td><td class="num muted" colspan="5">unavailable: onnxruntime crashed on it</td></tr>`;
  const row = (side: string): string =>
    l && l.side === side ? `<tr><td>${esc(side)} (alone)</td>${numCell(l.stats.p50Ms, fmtDuration(l.stats.p50Ms))}${numCell(l.stats.p90Ms, fmtDuration(l.stats.p90Ms))}${numCell(l.stats.p99Ms, fmtDuration(l.stats.p99Ms))}${numCell(l.stats.meanMs, fmtDuration(l.stats.meanMs))}${numCell(l.stats.minMs, fmtDuration(l.stats.minMs))}</tr>` : unavailable(side);
  return `<div data-block="latency-crash"><h3>Measured latency (onnxruntime-node, CPU)${l ? `, level ${esc(l.graphOptimizationLevel)}` : ''}</h3>
<p class="caption">onnxruntime crashed on ${crashedWhat(c)} (${esc(c.model)}): no interleaved comparison${l ? ` at this level` : ''} and no speed-up.${l ? ` The ${esc(l.side)} model was benchmarked alone: ${fmtInt(l.iterations)} timed runs after ${fmtInt(l.warmup)} warm-up runs, ${l.threads} intra-op thread${l.threads === 1 ? '' : 's'}, graph optimization level ${esc(l.graphOptimizationLevel)}.` : ''}</p>
<table><thead><tr><th>model</th><th class="num">p50</th><th class="num">p90</th><th class="num">p99</th><th class="num">mean</th><th class="num">min</th></tr></thead><tbody>${row('original')}${row('optimized')}</tbody></table></div>`;
}

// ——— 6. the layer table ———

function layerRow(l: LayerReport, measured: Map<string, number | null> | undefined, withInt: boolean): string {
  const tags = [l.inPlace ? 'in place' : '', l.alias ? 'view' : '', l.constant ? 'constant' : ''].filter(Boolean);
  const why = l.unknown?.join('; ');
  const bytes = l.bytes.input === null || l.bytes.output === null ? null : l.bytes.weights + l.bytes.input + l.bytes.output;
  const act = l.activations.output;
  const m = measured?.get(l.name);
  return `<tr data-i="${l.index}"><td class="num" data-v="${l.index}">${l.index}</td><td class="name"${l.notes?.length ? ` title="${esc(l.notes.join('; '))}"` : ''}>${esc(l.name)}</td><td>${esc(l.domain ? `${l.domain}::${l.opType}` : l.opType)}</td><td class="shape">${esc(fmtShape(l.outputShape))}</td>${numCell(l.params, fmtInt(l.params))}${numCell(l.weightParams, fmtInt(l.weightParams))}${numCell(
    l.macs,
    l.macs === null ? (l.macsExpr ?? '—') : fmtInt(l.macs),
    why,
  )}${numCell(l.flops, fmtInt(l.flops), why)}${withInt ? numCell(l.intOps ?? null, l.intOps == null ? (l.intOpsExpr ?? '—') : fmtInt(l.intOps), why) : ''}${numCell(act, fmtInt(act))}${numCell(bytes, fmtBytes(bytes), bytes === null ? undefined : `${fmtInt(bytes)} B: weights ${fmtInt(l.bytes.weights)}, in ${fmtInt(l.bytes.input)}, out ${fmtInt(l.bytes.output)}`)}${numCell(
    l.arithmeticIntensity,
    fmtSig(l.arithmeticIntensity),
  )}${numCell(l.latency === null ? null : l.latency * 1e6, l.latency === null ? '—' : fmtSeconds(l.latency), why)}${numCell(l.energy?.joules ?? null, l.energy?.joules == null ? '—' : fmtJoules(l.energy.joules)).replace('<td class="num"', '<td class="num energy"')}${measured ? numCell(m ?? null, m === null || m === undefined ? '—' : fmtSeconds(m / 1e6)) : ''}<td class="flags"${l.bound ? ` data-s="${l.bound}"` : ''}>${l.bound ? `<span class="bound ${l.bound}">${l.bound}</span>` : '—'}${tags.map((t) => `<span class="tag">${t}</span>`).join('')}</td></tr>`;
}

function layerTable(a: AnalysisReport, view: 'original' | 'optimized', times: ReportLatency['perLayer'], hidden: boolean): string {
  const measured = times ? new Map(times.map((t) => [t.name, t.measuredUs])) : undefined;
  // The integer-OPs column only for a model with integer layers (a float table stays as wide as before).
  const withInt = a.layers.some((l) => (l.intOps ?? 0) > 0 || l.intOpsExpr !== undefined);
  const cols: [key: string, label: string, numeric: boolean][] = [
    ['index', '#', true],
    ['name', 'layer', false],
    ['opType', 'op', false],
    ['outputShape', 'output', false],
    ['params', 'params', true],
    ['weightParams', 'weights', true],
    ['macs', 'MACs', true],
    ['flops', 'FLOPs', true],
    // Integer OPs: the work of QLinearConv/QGemm and QDQ-fused layers, timed at the int8 peak.
    ...(withInt ? ([['intOps', 'int OPs', true]] as [string, string, boolean][]) : []),
    ['activations', 'act. out', true],
    ['bytes', 'bytes', true],
    ['arithmeticIntensity', 'FLOP/B', true],
    ['latency', 'est. time', true],
    ['energy', 'est. energy', true],
    ...(measured ? ([['measured', 'measured', true]] as [string, string, boolean][]) : []),
    ['bound', 'bound', false],
  ];
  const head = cols
    .map(([k, label, n]) => `<th class="sortable${n ? ' num' : ''}${k === 'energy' ? ' energy' : ''}" data-key="${k}" data-type="${n ? 'num' : 'str'}" tabindex="0" aria-sort="${k === 'index' ? 'ascending' : 'none'}">${esc(label)}</th>`)
    .join('');
  return `<div class="table-scroll" data-view="${view}"${hidden ? ' hidden' : ''}><table class="layers${measured ? ' measured' : ''}" data-table="layers" data-view="${view}" data-rows="${a.layers.length}"><thead><tr>${head}</tr></thead>
<tbody>${a.layers.map((l) => layerRow(l, measured, withInt)).join('\n')}</tbody></table></div>`;
}

function diagnostics(a: AnalysisReport, label: string): string {
  if (a.diagnostics.length === 0) return `<p class="muted">No diagnostics for the ${label} model: every layer has known shapes and a cost model.</p>`;
  return `<table data-table="diagnostics"><thead><tr><th>severity</th><th>code</th><th>where</th><th>message</th></tr></thead><tbody>${a.diagnostics
    .map(
      (g) =>
        `<tr><td><span class="sev ${esc(g.severity)}">${esc(g.severity)}</span></td><td class="mono">${esc(g.code)}</td><td class="name mono">${esc([g.op, g.node].filter(Boolean).join(' '))}</td><td>${esc(g.message)}</td></tr>`,
    )
    .join('')}</tbody></table>`;
}

function tableSection(d: ReportData): string {
  const a = d.analysis;
  const o = d.optimized?.analysis;
  return `<section class="sec" id="table" data-section="table">
<div class="sec-head"><h2>Layers <span class="count" data-layer-count>${fmtInt(a.layers.length)} layers</span></h2><div class="toolbar">${viewToggle(d)}</div></div>
<p class="caption">Click a column header to sort (numbers sort numerically, unknown values last). Act. out = output activation elements; bytes = weights + input + output activations moved; FLOP/B = arithmetic intensity; est. time = the ${esc(deviceName(a))} roofline estimate${d.latency?.perLayer ? '; measured = the mean onnxruntime kernel time per run' : ''}. Tags: in place and view layers add no activation memory. Hover a name for notes, a dash for why a value is unknown.</p>
${layerTable(a, 'original', d.latency?.perLayer ?? survivorLayers(d, 'original'), false)}
${o ? layerTable(o, 'optimized', d.latency?.perLayerOptimized ?? survivorLayers(d, 'optimized'), true) : ''}
<h3>Diagnostics</h3>
${diagnostics(a, 'original')}
${o ? `<h3>Diagnostics of the optimized model</h3>${diagnostics(o, 'optimized')}` : ''}
</section>`;
}

// ——— 7. conventions ———

/** c_o → c<sub>o</sub> in the (already escaped) formula strings of this module. */
function subscripts(s: string): string {
  return s.replace(/\b([a-z])_([a-z])\b/g, '$1<sub>$2</sub>');
}

function conventionsSection(d: ReportData): string {
  const a = d.analysis;
  const dev = a.device;
  const formulas: [string, string][] = [
    ['Linear (Gemm, MatMul)', 'MACs = c_o · c_i  (× batch, × rows)'],
    ['Convolution', 'MACs = c_i · k_h · k_w · h_o · w_o · c_o  (× batch)'],
    ['Grouped convolution', 'MACs = c_i · k_h · k_w · h_o · w_o · c_o / g'],
    ['Depthwise convolution', 'MACs = k_h · k_w · h_o · w_o · c_o'],
    ['FLOPs', 'FLOPs = 2 · MACs + element-wise operations'],
    ['#Parameters (lecture)', 'weights only, bias ignored; learnable adds biases and norm scale/shift'],
    ['Model size', 'size = #parameters × bit width / 8'],
    ['Activations', 'total = inputs + outputs written; peak = max over layers of (input + output)'],
    ['Arithmetic intensity', 'AI = FLOPs / (weight + input + output bytes)'],
    ['Roofline', 'attainable = min(peak FLOP/s, bandwidth × AI)'],
    ['Latency estimate', 'Σ over layers of max(FLOPs / peak FLOP/s, bytes / bandwidth)'],
    ['Ridge point', `peak / bandwidth = ${fmtSig(dev.peakFlops / dev.memoryBandwidth)} FLOP/B on this device`],
  ];
  return `<section class="sec" id="conventions" data-section="conventions">
<div class="sec-head"><h2>Conventions</h2></div>
<p class="caption">How every number above is counted (MIT EfficientML.ai lecture 2 conventions, as implemented by <code>analyzeModel</code>).</p>
<blockquote data-convention>${esc(a.convention)}</blockquote>
<div class="cols">
<div><h3>Formulas</h3><table class="formulas"><tbody>${formulas.map(([k, v]) => `<tr><td>${esc(k)}</td><td>${subscripts(esc(v))}</td></tr>`).join('')}</tbody></table></div>
<div><h3>Device profile</h3><table class="kv"><tbody>
<tr><th>device</th><td>${esc(dev.title)} <span class="muted">(${esc(dev.id)} v${esc(dev.version)})</span></td></tr>
<tr><th>precision</th><td>${esc(dev.precision)}${a.bits !== null ? ` (weights and activations at ${a.bits} bit)` : ' (tensors at their stored dtypes)'}</td></tr>
<tr><th>peak compute</th><td>${esc(fmtSI(dev.peakFlops, 'FLOP/s'))} <span class="muted">${fmtInt(dev.peakFlops)}</span></td></tr>
<tr><th>memory bandwidth</th><td>${esc(fmtSI(dev.memoryBandwidth, 'B/s'))} <span class="muted">${fmtInt(dev.memoryBandwidth)}</span></td></tr>
<tr><th>source</th><td style="font-size:12.5px">${esc(dev.source)}</td></tr>
</tbody></table>
<p class="caption" style="margin-top:10px">Vendor peaks are not reached by real kernels: the roofline latency is a lower bound, useful to rank layers and compare models, not to predict wall time.</p></div>
</div>
</section>`;
}

// ——— the page ———

/** The sections present for this data, in page order. */
export function reportSections(d: ReportData): SectionId[] {
  return SECTION_IDS.filter((s) => {
    if (s === 'comparison') return d.optimized !== undefined;
    if (s === 'measurements') return d.optimized === undefined && (d.verification !== undefined || d.latency !== undefined || d.crash !== undefined);
    if (s === 'quantized') return d.quantized !== undefined;
    return true;
  });
}

/**
 * Renders the report as one self-contained HTML document. Throws a ReportError when the data
 * is malformed (naming the field) or the Chart.js build cannot be read.
 */
export function renderReport(data: ReportData, options: RenderOptions = {}): string {
  validateReportData(data);
  const d = data;
  const chart = inlineScript(options.chartJs ?? chartJsSource(), 'Chart.js');
  const sections = reportSections(d);
  const body: Record<SectionId, () => string> = {
    overview: () => overview(d),
    layers: () => layersSection(d),
    roofline: () => rooflineSection(d),
    memory: () => memorySection(d),
    comparison: () => comparisonSection(d),
    measurements: () => measurementsSection(d),
    quantized: () => quantizedSection(d),
    table: () => tableSection(d),
    conventions: () => conventionsSection(d),
  };
  const title = d.title ?? `${d.model.name} — onnxkit report`;
  const footer = [d.generator ? `Generated by ${d.generator}` : 'Generated by onnxkit', d.generatedAt ? `on ${d.generatedAt}` : '']
    .filter(Boolean)
    .join(' ');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="${esc(d.generator ?? 'onnxkit')}">
<title>${esc(title)}</title>
<style>${STYLES}</style>
</head>
<body>
${header(d)}
${nav(sections)}
<main class="wrap">
${sections.map((s) => body[s]()).join('\n')}
</main>
<footer class="wrap">${esc(footer)} · self-contained: charts by Chart.js 4 (MIT), inlined.</footer>
<script type="application/json" id="${DATA_ELEMENT_ID}">${jsonForScript(d)}</script>
<script>${chart}</script>
<script>${inlineScript(CLIENT_SCRIPT, 'the report script')}</script>
</body>
</html>
`;
}
