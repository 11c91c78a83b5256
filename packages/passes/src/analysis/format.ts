/**
 * Formatters of an AnalysisReport — pure functions, browser-safe: a terminal table in the style
 * of the lecture's AlexNet tables, CSV, Markdown, canonical JSON, and Netron's metrics
 * attachment (`"signature": "netron:attachment"`, read by Netron's metadata.Attachment: items
 * `{ kind, target, name, value, type? }` in a `metrics` and a `metadata` list, where `target` is
 * a node's name, or '' for the model). Every output carries the report's convention sentence.
 */
import type { Dim } from '@onnxkit/graph';
import type { AnalysisReport, LayerReport } from './analyze.js';
import type { EnergyTable } from './energy.js';

/** 1234567 → "1,234,567" (locale-independent); null → "?". */
export function formatCount(n: number | null | undefined): string {
  if (n === null || n === undefined) return '?';
  if (!Number.isFinite(n)) return String(n);
  const neg = n < 0;
  const [int, frac] = Math.abs(n).toString().split('.') as [string, string | undefined];
  const grouped = int.length > 15 ? int : int.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return `${neg ? '-' : ''}${grouped}${frac ? `.${frac}` : ''}`;
}

/** Bytes with a binary-free SI unit, as the lecture writes model sizes (243.8 MB). */
export function formatBytes(n: number | null | undefined): string {
  if (n === null || n === undefined) return '?';
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let v = n;
  let u = 0;
  while (v >= 1000 && u < units.length - 1) {
    v /= 1000;
    u++;
  }
  return u === 0 ? `${formatCount(n)} B` : `${v.toFixed(v >= 100 ? 1 : 2)} ${units[u]}`;
}

/** `x` of `unit` with the sub-unit SI prefix (n, µ, m or none) that keeps 3 significant digits readable; '?' when unknown. */
function formatSubUnit(x: number | null | undefined, unit: string): string {
  if (x === null || x === undefined) return '?';
  if (x === 0) return '0';
  if (x < 1e-6) return `${(x * 1e9).toPrecision(3)} n${unit}`;
  if (x < 1e-3) return `${(x * 1e6).toPrecision(3)} µ${unit}`;
  if (x < 1) return `${(x * 1e3).toPrecision(3)} m${unit}`;
  return `${x.toPrecision(3)} ${unit}`;
}

/** Joules in the unit that keeps 3 significant digits readable (nJ, µJ, mJ, J). */
export function formatJoules(j: number | null | undefined): string {
  return formatSubUnit(j, 'J');
}

/** Seconds in the unit that keeps 3 significant digits readable (ns, µs, ms, s). */
export function formatSeconds(s: number | null | undefined): string {
  return formatSubUnit(s, 's');
}

/** Per-sample extent of an output: the leading batch dim dropped for rank ≥ 2 ("96×55×55"). */
export function formatPerSample(shape: readonly Dim[] | null): string {
  if (shape === null) return '?';
  const dims = shape.length >= 2 ? shape.slice(1) : shape;
  return dims.length === 0 ? 'scalar' : dims.map((d) => (d === null ? '?' : String(d))).join('×');
}

function formatShape(shape: readonly Dim[] | null): string {
  return shape === null ? '?' : shape.map((d) => (d === null ? '?' : String(d))).join('x');
}

/**
 * A field of a one-line layout (a table cell, a summary line) that may hold model text: a line
 * break in a node, tensor or dim name is written as `\n` (`\r` as `\r`), so a name cannot end
 * the row and forge another one (a fake layer, a fake verdict) below it.
 */
export function oneLine(s: string): string {
  return s.replace(/\r/g, '\\r').replace(/\n/g, '\\n');
}

const ANSI = { bold: '\x1b[1m', dim: '\x1b[2m', red: '\x1b[31m', green: '\x1b[32m', yellow: '\x1b[33m', reset: '\x1b[0m' };

function activationCell(l: LayerReport): string {
  if (l.alias) return 'view';
  if (l.inPlace) return 'in place';
  return formatCount(l.activations.output);
}

/**
 * A total summed over the layers where it is known: exact when none is missing, "≥ x" when some
 * are, "?" when all are (never a bare 0 that means "unknown"). Kept for counts (MACs of an
 * optimize comparison); latency and the analysis totals print "?" with their coverage instead.
 */
export function formatPartial(value: number | null, missing: number, format: (n: number) => string = formatCount): string {
  if (value === null) return '?';
  if (missing === 0) return format(value);
  return value === 0 ? '?' : `≥ ${format(value)}`;
}

/**
 * A printed dim expression with digit grouping for humans ("4089184256*N" → "4,089,184,256*N").
 * Digits inside a symbol's name (p2o.DynamicDimension.1) are left alone; evaluateDimExpr reads
 * the grouped form back to the same value.
 */
export function formatExpr(expr: string): string {
  return expr.replace(/(?<![\w.])\d{4,}(?![\w.])/g, (m) => formatCount(Number(m)));
}

/** A whole-model total for humans: the number, its expression (grouped), or "?" — never a partial sum. */
export function formatTotal(value: number | null, expr: string | undefined, format: (n: number) => string = formatCount): string {
  if (value !== null) return format(value);
  return expr !== undefined ? formatExpr(expr) : '?';
}

/** FLOPs, activation, memory and latency totals for humans: exact, an expression of symbolic dims, or "?". */
export function partialTotals(report: AnalysisReport): { macs: string; flops: string; activationsTotal: string; activationsPeak: string; peakMemory: string; latency: string } {
  const t = report.totals;
  return {
    macs: formatTotal(t.macs, t.macsExpr),
    flops: formatTotal(t.flops, t.flopsExpr),
    activationsTotal: formatTotal(t.activations.total, t.activations.totalExpr),
    activationsPeak: formatTotal(t.activations.peak, undefined),
    peakMemory: formatTotal(t.peakMemoryBytes, undefined, formatBytes),
    latency: formatTotal(t.latency.seconds, undefined, formatSeconds),
  };
}

/** What the unknown totals wait on: the free symbols, or the count of unknown layers. */
export function waitingOn(report: AnalysisReport): string | undefined {
  const t = report.totals;
  if (t.latency.seconds !== null && t.macs !== null && t.flops !== null) return undefined;
  const parts: string[] = [];
  if (report.model.symbols.length > 0 && t.symbolicLayers + t.latencyUnknownLayers > 0) parts.push(`symbolic dims ${report.model.symbols.join(', ')} (bind with --dim ${report.model.symbols.map((x) => `${x}=…`).join(' --dim ')})`);
  if (t.unknownLayers > 0) parts.push(`${t.unknownLayers} layer(s) of unknown cost`);
  return parts.length ? parts.join('; ') : undefined;
}

/** A total for machine-facing text outputs (Netron): the number, the expression, or "?". */
function totalValue(n: number | null, expr?: string): number | string {
  return n !== null ? n : (expr ?? '?');
}

function macsCell(l: LayerReport): string {
  if (l.macs !== null) return formatCount(l.macs);
  return l.macsExpr !== undefined ? formatExpr(l.macsExpr) : '?';
}

export interface TableOptions {
  /** ANSI colours (bound and unknown cells). Default false. */
  color?: boolean;
  /** Also list constant layers (computed once at load). Default false. */
  showConstant?: boolean;
}

/**
 * The lecture-style terminal table: layer, output C×H×W (per sample), #params, MACs,
 * activations, estimated latency and bound, then totals, memory, device and the convention.
 */
export function formatAnalysisTable(report: AnalysisReport, options: TableOptions = {}): string {
  const c = options.color ? ANSI : { bold: '', dim: '', red: '', green: '', yellow: '', reset: '' };
  const layers = report.layers.filter((l) => options.showConstant || !l.constant);
  // #Params as in the lecture's tables: weights only, bias ignored (learnable totals below).
  const header = ['#', 'Layer', 'Op', 'C×H×W', '#Params', 'MACs', 'Activations', 'Latency', 'Bound', 'Energy'];
  const rows = layers.map((l) => [
    String(l.index),
    l.name,
    l.opType,
    formatPerSample(l.outputShape),
    l.weightParams ? formatCount(l.weightParams) : '',
    l.macs === 0 ? '' : macsCell(l),
    activationCell(l),
    formatSeconds(l.latency),
    l.bound ?? (l.latency === null ? '?' : ''),
    formatJoules(l.energy.joules),
  ]);
  const t = report.totals;
  const pt = partialTotals(report);
  const totalRow = ['', 'Total', '', '', formatCount(t.weightParams), pt.macs, pt.activationsTotal, pt.latency, t.latency.bound ?? '', formatJoules(t.energy.joules)];
  const right = new Set([0, 4, 5, 6, 7, 9]);
  let boundCol = 8;
  // A model with integer layers (QLinearConv, QDQ) gets an integer-OPs column after MACs.
  if (report.layers.some((l) => (l.intOps ?? 0) > 0 || l.intOpsExpr !== undefined)) {
    header.splice(6, 0, 'Int OPs');
    layers.forEach((l, i) => rows[i]!.splice(6, 0, l.intOpsExpr ?? (l.intOps ? formatCount(l.intOps) : l.intOps === null ? '?' : '')));
    totalRow.splice(6, 0, formatTotal(t.intOps, t.intOpsExpr));
    right.clear();
    for (const i of [0, 4, 5, 6, 7, 8, 10]) right.add(i);
    boundCol = 9;
  }
  for (const r of [...rows, totalRow]) r.forEach((v, i) => (r[i] = oneLine(v)));
  const widths = header.map((h, i) => rows.reduce((m, r) => Math.max(m, r[i]!.length), Math.max(h.length, totalRow[i]!.length)));
  const cell = (s: string, i: number) => (right.has(i) ? s.padStart(widths[i]!) : s.padEnd(widths[i]!));
  const paint = (s: string, i: number, raw: string): string => {
    if (raw === '?') return `${c.red}${s}${c.reset}`;
    if (i === boundCol && raw === 'compute') return `${c.green}${s}${c.reset}`;
    if (i === boundCol && raw === 'memory') return `${c.yellow}${s}${c.reset}`;
    return s;
  };
  const line = (r: string[]) => r.map((s, i) => paint(cell(s, i), i, s)).join('  ').trimEnd();
  const rule = widths.map((w) => '─'.repeat(w)).join('──');
  const out: string[] = [];
  const m = report.model;
  out.push(`${c.bold}${m.name || 'model'}${c.reset} — ${m.nodes} nodes, opset ${m.opset}${m.inputs.length ? `, input ${m.inputs.map((i) => `${i.name} ${i.dtype}[${formatShape(i.shape)}]`).join(', ')}` : ''}`);
  out.push(`${c.bold}${line(header)}${c.reset}`);
  out.push(rule);
  for (const r of rows) out.push(line(r));
  out.push(rule);
  out.push(`${c.bold}${line(totalRow)}${c.reset}`);
  const hidden = report.layers.length - layers.length;
  if (hidden > 0) out.push(`${c.dim}(${hidden} constant layer(s) computed once at load are not shown)${c.reset}`);
  out.push('');
  out.push(`#Params: ${formatCount(t.weightParams)} weights (bias ignored, as in the table); ${formatCount(t.params)} learnable incl. biases and norm scale/shift; ${formatCount(t.bufferParams)} buffers`);
  out.push(`Model size: ${formatBytes(t.modelSizeBytes)} at stored dtypes${t.modelSizeBytesAtBits !== null ? `; ${formatBytes(t.modelSizeBytesAtBits)} at ${report.bits} bits (${formatCount(t.modelSizeBytesAtBits)} B)` : ''}`);
  const hasInt = report.layers.some((l) => (l.intOps ?? 0) > 0 || l.intOpsExpr !== undefined);
  const intOps = !hasInt ? '' : `   integer OPs: ${formatTotal(t.intOps, t.intOpsExpr)} (timed at ${report.device.intPrecision} ${formatCount(report.device.peakIntOps / 1e9)} GOP/s)`;
  out.push(`MACs: ${pt.macs}   FLOPs: ${pt.flops}${intOps}`);
  if (t.macs === null || t.flops === null || t.latency.seconds === null) out.push(`${c.yellow}Coverage: ${t.coverage.text.join('; ')}${c.reset}`);
  out.push(`Activations: total ${pt.activationsTotal}, peak ${pt.activationsPeak}${t.activations.peakLayer ? ` (${t.activations.peakLayer})` : ''}   Peak live memory: ${pt.peakMemory}${t.peakMemoryLayer ? ` at ${t.peakMemoryLayer}` : ''} (activations only${t.peakMemoryUnknownValues ? `; ${t.peakMemoryUnknownValues} of unknown size` : ''})`);
  const d = report.device;
  out.push(`Latency estimate: ${pt.latency} on ${d.title} [${d.id} v${d.version}, ${d.precision}: ${formatCount(d.peakFlops / 1e9)} GFLOP/s, ${formatCount(d.memoryBandwidth / 1e9)} GB/s] — ${t.computeBoundLayers} compute-bound, ${t.memoryBoundLayers} memory-bound${t.latencyUnknownLayers ? `, ${c.red}${t.latencyUnknownLayers} unknown${c.reset}` : ''} layers`);
  const ax = t.latency.asExecuted;
  out.push(`As onnxruntime executes it (fused layers pay no memory traffic): ${(['basic', 'extended', 'all'] as const).map((k) => `${k} ${formatSeconds(ax[k].seconds)} (${ax[k].fusedLayers} fused)`).join(', ')}`);
  for (const line of costLines(report)) out.push(line);
  const bound = Object.entries(report.model.bindings);
  if (bound.length > 0) out.push(`Symbolic dims bound: ${bound.map(([k, v]) => `${k}=${v}`).join(', ')}`);
  const waits = waitingOn(report);
  if (waits !== undefined) out.push(`${c.yellow}Totals shown as ? or as expressions wait on ${waits}${c.reset}`);
  out.push(`${c.dim}Convention: ${report.convention}${c.reset}`);
  const problems = report.diagnostics.filter((x) => x.severity !== 'info');
  for (const p of problems) out.push(`${p.severity === 'error' ? c.red : c.yellow}${p.severity}: ${p.message}${c.reset}`);
  // Every entry is one line: model text in it (a model, input, layer or dim name) cannot add one.
  return out.map(oneLine).join('\n');
}

/** The integer entries of an energy table, as the human outputs print them ('' when it has none). */
export function intEnergyText(t: EnergyTable): string {
  const parts = [
    t.int8MultPj !== undefined ? `int8 mult ${t.int8MultPj} pJ` : '',
    t.int32AddPj !== undefined ? `int32 add ${t.int32AddPj} pJ` : '',
    t.int8AddPj !== undefined ? `int8 add ${t.int8AddPj} pJ` : '',
    t.int32MultPj !== undefined ? `int32 mult ${t.int32MultPj} pJ` : '',
  ].filter(Boolean);
  return parts.length ? `, ${parts.join(', ')}` : '';
}

function intEnergyCsv(t: EnergyTable): string {
  return (['int8MultPj', 'int8AddPj', 'int32MultPj', 'int32AddPj'] as const).map((k) => (t[k] === undefined ? '' : ` ${k}=${t[k]}`)).join('');
}

/** The energy and training-memory lines of the human outputs (table, Markdown, report). */
export function costLines(report: AnalysisReport): string[] {
  const t = report.totals;
  const e = t.energy;
  const tr = t.training;
  return [
    `Energy estimate: ${formatJoules(e.joules)} per inference${e.joules !== null ? ` (arithmetic ${formatJoules(e.computeJoules)}, SRAM ${formatJoules(e.sramJoules)}, DRAM ${formatJoules(e.dramJoules)})` : ` (${e.unknownLayers} layer(s) unknown)`} — per op: DRAM read ${e.table.dramReadPj} pJ, SRAM read ${e.table.sramReadPj} pJ, float mult ${e.table.multPj} pJ, add ${e.table.addPj} pJ${intEnergyText(e.table)}; ${e.table.source}`,
    `Training memory (fp32, batch ${tr.batch}): weights ${formatBytes(tr.weightsBytes)} + gradients ${formatBytes(tr.gradientsBytes)} + optimizer state (SGD-momentum ${formatBytes(tr.optimizerBytes.sgdMomentum)}, Adam ${formatBytes(tr.optimizerBytes.adam)}) + stored activations ${formatBytes(tr.activationsBytes)} = ${formatBytes(tr.totalBytes.sgdMomentum)} with SGD-momentum, ${formatBytes(tr.totalBytes.adam)} with Adam`,
  ];
}

/**
 * One CSV cell (RFC 4180 quoting). A text cell a spreadsheet would read as a formula (it starts
 * with =, +, -, @, tab or CR — a node named `=HYPERLINK(…)` or `-2+3`) gets a leading `'`, the
 * usual guard against CSV formula injection; numbers are written as they are.
 */
export function csvField(v: unknown): string {
  if (v === null || v === undefined) return '';
  let s = String(v);
  if (typeof v === 'string' && /^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

const CSV_COLUMNS = [
  'index', 'name', 'opType', 'outputShape', 'params', 'weightParams', 'bufferParams', 'macs', 'macsExpr', 'flops', 'flopsExpr',
  'intOps', 'intOpsExpr', 'activationsIn', 'activationsOut', 'bytesWeights', 'bytesIn', 'bytesOut', 'arithmeticIntensity', 'latencySeconds',
  'bound', 'energyJoules', 'inPlace', 'alias', 'constant', 'unknown',
] as const;

/**
 * One row per layer; shapes as "1x96x55x55". Leading `# ` lines carry the convention, device
 * and totals (most CSV readers skip them with a comment option, e.g. pandas `comment='#'`).
 */
export function analysisToCsv(report: AnalysisReport): string {
  const t = report.totals;
  const lines = [
    `# convention: ${report.convention}`,
    `# device: ${report.device.id} v${report.device.version} (${report.device.precision}, ${report.device.peakFlops} FLOP/s, ${report.device.memoryBandwidth} B/s)`,
    // A total that is not known is empty (never a partial sum); its expression and symbols follow.
    `# totals: params=${t.params} weightParams=${t.weightParams} macs=${t.macs ?? ''} flops=${t.flops ?? ''} intOps=${t.intOps ?? ''} activations=${t.activations.total ?? ''} peakActivations=${t.activations.peak ?? ''} peakMemoryBytes=${t.peakMemoryBytes ?? ''} latencySeconds=${t.latency.seconds ?? ''} unknownLayers=${t.unknownLayers} symbolicLayers=${t.symbolicLayers} activationUnknownLayers=${t.activations.unknownLayers} latencyUnknownLayers=${t.latencyUnknownLayers} peakMemoryUnknownValues=${t.peakMemoryUnknownValues}${t.macsExpr ? ` macsExpr=${t.macsExpr} macsSymbols=${t.macsSymbols!.join(';')}` : ''}${t.flopsExpr ? ` flopsExpr=${t.flopsExpr} flopsSymbols=${t.flopsSymbols!.join(';')}` : ''}${t.activations.totalExpr ? ` activationsExpr=${t.activations.totalExpr}` : ''}${report.model.symbols.length ? ` symbols=${report.model.symbols.join(';')}` : ''}${Object.keys(report.model.bindings).length ? ` bindings=${Object.entries(report.model.bindings).map(([k, v]) => `${k}:${v}`).join(';')}` : ''}`,
    `# coverage: ${t.coverage.text.join('; ')}`,
    `# energy: joules=${t.energy.joules ?? ''} computeJoules=${t.energy.computeJoules ?? ''} sramJoules=${t.energy.sramJoules ?? ''} dramJoules=${t.energy.dramJoules ?? ''} dramReadPj=${t.energy.table.dramReadPj} sramReadPj=${t.energy.table.sramReadPj} multPj=${t.energy.table.multPj} addPj=${t.energy.table.addPj}${intEnergyCsv(t.energy.table)} source=${JSON.stringify(t.energy.table.source)}`,
    `# training: batch=${t.training.batch} weightsBytes=${t.training.weightsBytes} gradientsBytes=${t.training.gradientsBytes} sgdMomentumStateBytes=${t.training.optimizerBytes.sgdMomentum} adamStateBytes=${t.training.optimizerBytes.adam} activationsBytes=${t.training.activationsBytes ?? ''} totalSgdMomentumBytes=${t.training.totalBytes.sgdMomentum ?? ''} totalAdamBytes=${t.training.totalBytes.adam ?? ''}`,
    // (oneLine: a line break in a model string, a dim name, is written as `\n`, so it cannot end
    // a comment line and forge a data row)
  ].map(oneLine);
  lines.push(CSV_COLUMNS.join(','));
  for (const l of report.layers) {
    const row: unknown[] = [
      l.index, l.name, l.opType, l.outputShape === null ? '' : formatShape(l.outputShape), l.params, l.weightParams, l.bufferParams,
      l.macs, l.macsExpr, l.flops, l.flopsExpr, l.intOps, l.intOpsExpr, l.activations.input, l.activations.output, l.bytes.weights, l.bytes.input, l.bytes.output,
      l.arithmeticIntensity, l.latency, l.bound, l.energy.joules, l.inPlace ? 1 : 0, l.alias ? 1 : 0, l.constant ? 1 : 0, l.unknown?.join('; '),
    ];
    lines.push(row.map(csvField).join(','));
  }
  return `${lines.join('\n')}\n`;
}

/**
 * Text from the model (names, op types, expressions, messages) inside Markdown: `|` would end a
 * table cell and a line break the row (forging rows); `<`, `>` and `&` would be raw HTML to most
 * renderers (`<img onerror=…>` in a node name); `[` and `]` would make links (`[x](javascript:…)`),
 * and a backslash would escape our own `|`. Each is escaped; a line break becomes `<br>`.
 */
function mdCell(s: string): string {
  return s
    .replace(/[\\[\]|]/g, (c) => `\\${c}`)
    .replace(/[&<>]/g, (c) => (c === '&' ? '&amp;' : c === '<' ? '&lt;' : '&gt;'))
    .replace(/\r\n|\r|\n/g, '<br>');
}

/** A Markdown report: totals, the layer table (non-constant layers), diagnostics, convention. */
export function analysisToMarkdown(report: AnalysisReport): string {
  const t = report.totals;
  const pt = partialTotals(report);
  const d = report.device;
  const out: string[] = [];
  out.push(`# ${mdCell(report.model.name || 'model')}`, '');
  out.push(`> ${report.convention}`, '');
  out.push('| Metric | Value |', '|---|---:|');
  const rows: [string, string][] = [
    ['#Params (learnable)', formatCount(t.params)],
    ['#Params (weights only, bias ignored)', formatCount(t.weightParams)],
    ['Buffers (BN running statistics)', formatCount(t.bufferParams)],
    ['Model size (stored dtypes)', `${formatCount(t.modelSizeBytes)} B`],
    ...(t.modelSizeBytesAtBits !== null ? [[`Model size at ${report.bits} bits`, `${formatCount(t.modelSizeBytesAtBits)} B`] as [string, string]] : []),
    ['MACs', pt.macs],
    ['FLOPs', pt.flops],
    ['Activations (total)', pt.activationsTotal],
    ['Activations (peak)', pt.activationsPeak],
    ['Peak live memory (activations)', formatTotal(t.peakMemoryBytes, undefined, (n) => `${formatCount(n)} B`)],
    [`Latency estimate (${d.id}, ${d.precision})`, pt.latency],
    ['Layers unknown', formatCount(t.unknownLayers)],
    ['Coverage', t.coverage.text.join('; ')],
    ['Energy per inference', formatJoules(t.energy.joules)],
    [`Training memory, SGD-momentum (batch ${t.training.batch})`, formatBytes(t.training.totalBytes.sgdMomentum)],
    [`Training memory, Adam (batch ${t.training.batch})`, formatBytes(t.training.totalBytes.adam)],
    ...(Object.keys(report.model.bindings).length ? [['Symbolic dims bound', Object.entries(report.model.bindings).map(([k, v]) => `${k}=${v}`).join(', ')] as [string, string]] : []),
  ];
  for (const [k, v] of rows) out.push(`| ${k} | ${mdCell(v)} |`);
  out.push('', `Device: ${mdCell(d.title)} (${d.id} v${d.version}) — ${mdCell(d.source)}`, '');
  for (const line of costLines(report)) out.push(`${mdCell(line)}`, '');
  out.push('| # | Layer | Op | C×H×W | #Params (bias ignored) | MACs | Activations | Latency | Bound |', '|---:|---|---|---|---:|---:|---:|---:|---|');
  for (const l of report.layers) {
    if (l.constant) continue;
    out.push(
      `| ${l.index} | ${mdCell(l.name)} | ${mdCell(l.opType)} | ${mdCell(formatPerSample(l.outputShape))} | ${l.weightParams ? formatCount(l.weightParams) : ''} | ${l.macs === 0 ? '' : mdCell(macsCell(l))} | ${mdCell(activationCell(l))} | ${formatSeconds(l.latency)} | ${l.bound ?? ''} |`,
    );
  }
  if (report.diagnostics.length) {
    out.push('', '## Diagnostics', '');
    for (const x of report.diagnostics) out.push(`- **${x.severity}** \`${x.code}\`${x.node ? ` (${mdCell(x.node)})` : ''}: ${mdCell(x.message)}`);
  }
  return `${out.join('\n')}\n`;
}

const TOP_ORDER = ['schemaVersion', 'model', 'convention', 'device', 'bits', 'totals', 'layers', 'memoryTimeline', 'diagnostics'];

function canonical(v: unknown, top = false): unknown {
  if (Array.isArray(v)) return v.map((x) => canonical(x));
  if (v === null || typeof v !== 'object') return typeof v === 'number' && !Number.isFinite(v) ? null : v;
  const o = v as Record<string, unknown>;
  const keys = canonicalKeys(o, top);
  const out: Record<string, unknown> = {};
  for (const k of keys) out[k] = canonical(o[k]);
  return out;
}

/** JSON with a stable key order (fixed top-level order, nested keys sorted) and no NaN/Infinity. */
export function analysisToJson(report: AnalysisReport, options: { indent?: number } = {}): string {
  let text = '';
  for (const piece of analysisJsonPieces(report, options)) text += piece;
  return text;
}

/**
 * analysisToJson's text in pieces, the top-level arrays (the layers, the memory timeline) one
 * element at a time: the text of a report on a million layers is longer than V8's longest string
 * (≈ 512 MB), and `analyze --json` ended in "Invalid string length"; written piece by piece it
 * never exists whole. The pieces joined are exactly `JSON.stringify(canonical(report), null,
 * indent)` and a line break.
 */
export function* analysisJsonPieces(report: AnalysisReport, options: { indent?: number } = {}): Generator<string> {
  const indent = options.indent ?? 2;
  const pad = ' '.repeat(indent);
  const nl = indent > 0 ? '\n' : '';
  const colon = indent > 0 ? ': ' : ':';
  const o = report as unknown as Record<string, unknown>;
  const keys = canonicalKeys(o, true);
  if (keys.length === 0) {
    yield '{}\n';
    return;
  }
  yield '{';
  for (let i = 0; i < keys.length; i++) {
    const v = o[keys[i]!];
    const head = `${i > 0 ? ',' : ''}${nl}${pad}${JSON.stringify(keys[i])}${colon}`;
    if (Array.isArray(v) && v.length > 0) {
      yield `${head}[`;
      for (let j = 0; j < v.length; j++) yield `${j > 0 ? ',' : ''}${nl}${pad}${pad}${nested(v[j], indent, pad + pad)}`;
      yield `${nl}${pad}]`;
    } else yield head + nested(v, indent, pad);
  }
  yield `${nl}}\n`;
}

/** JSON.stringify(canonical(v), null, indent) as it reads `pad` deep (strings hold no raw line break). */
function nested(v: unknown, indent: number, pad: string): string {
  const text = JSON.stringify(canonical(v), null, indent) ?? 'null';
  return indent > 0 ? text.replaceAll('\n', `\n${pad}`) : text;
}

/** The keys canonical() writes, in its order. */
function canonicalKeys(o: Record<string, unknown>, top: boolean): string[] {
  const keys = Object.keys(o).filter((k) => o[k] !== undefined);
  keys.sort(top ? (a, b) => (TOP_ORDER.indexOf(a) + 1 || 99) - (TOP_ORDER.indexOf(b) + 1 || 99) || (a < b ? -1 : 1) : (a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return keys;
}

export interface NetronItem {
  readonly kind: 'model' | 'graph' | 'node' | 'value' | 'tensor';
  readonly target: string;
  readonly name: string;
  readonly value: string | number;
  readonly type?: string;
}

export interface NetronAttachment {
  readonly signature: 'netron:attachment';
  readonly metadata: NetronItem[];
  readonly metrics: NetronItem[];
}

/**
 * Netron's metrics attachment: open the model in Netron, then this JSON file; the per-node
 * numbers appear in the node sidebar's Metrics section and the totals in the model's. Netron
 * matches `target` against node names (first line), so unnamed nodes cannot be addressed and
 * are counted in a model-level metadata entry instead.
 */
export function toNetronAttachment(report: AnalysisReport): NetronAttachment {
  const t = report.totals;
  const metadata: NetronItem[] = [
    { kind: 'model', target: '', name: 'onnxkit convention', value: report.convention },
    { kind: 'model', target: '', name: 'onnxkit energy table', value: t.energy.table.source },
    { kind: 'model', target: '', name: 'onnxkit device', value: `${report.device.title} (${report.device.id} v${report.device.version}, ${report.device.precision})` },
  ];
  const metrics: NetronItem[] = [
    { kind: 'model', target: '', name: 'parameters', value: t.params },
    { kind: 'model', target: '', name: 'weight parameters', value: t.weightParams },
    // A total that is not known is its expression or "?", never a partial sum.
    { kind: 'model', target: '', name: 'MACs', value: totalValue(t.macs, t.macsExpr) },
    { kind: 'model', target: '', name: 'FLOPs', value: totalValue(t.flops, t.flopsExpr) },
    { kind: 'model', target: '', name: 'activations (total)', value: totalValue(t.activations.total, t.activations.totalExpr) },
    { kind: 'model', target: '', name: 'activations (peak)', value: totalValue(t.activations.peak) },
    { kind: 'model', target: '', name: 'peak memory (bytes)', value: totalValue(t.peakMemoryBytes) },
    { kind: 'model', target: '', name: 'latency estimate (µs)', value: totalValue(t.latency.seconds === null ? null : round(t.latency.seconds * 1e6)) },
    { kind: 'model', target: '', name: 'coverage', value: t.coverage.text.join('; ') },
    { kind: 'model', target: '', name: 'energy estimate (µJ)', value: totalValue(t.energy.joules === null ? null : round(t.energy.joules * 1e6)) },
    { kind: 'model', target: '', name: `training memory, Adam, batch ${t.training.batch} (bytes)`, value: totalValue(t.training.totalBytes.adam) },
  ];
  const bound = Object.entries(report.model.bindings);
  if (bound.length > 0) metadata.push({ kind: 'model', target: '', name: 'onnxkit symbolic dims bound', value: bound.map(([k, v]) => `${k}=${v}`).join(', ') });
  if (report.model.symbols.length > 0) metadata.push({ kind: 'model', target: '', name: 'onnxkit free symbolic dims', value: report.model.symbols.join(', ') });
  let unnamed = 0;
  for (const l of report.layers) {
    if (l.unnamed) {
      unnamed++;
      continue;
    }
    const target = l.name.split('\n')[0]!;
    const add = (name: string, value: string | number | null | undefined) => {
      if (value !== null && value !== undefined) metrics.push({ kind: 'node', target, name, value });
    };
    add('parameters', l.params || undefined);
    add('MACs', l.macs ?? l.macsExpr);
    add('FLOPs', l.flops ?? l.flopsExpr);
    add('activations', l.alias ? 'view' : l.inPlace ? 'in place' : l.activations.output);
    add('latency estimate (µs)', l.latency === null ? undefined : round(l.latency * 1e6));
    add('bound', l.bound);
    add('energy estimate (µJ)', l.energy.joules === null ? undefined : round(l.energy.joules * 1e6));
    add('arithmetic intensity (FLOP/B)', l.arithmeticIntensity === null ? undefined : round(l.arithmeticIntensity));
    if (l.unknown) add('unknown', l.unknown.join('; '));
  }
  if (unnamed > 0) metadata.push({ kind: 'model', target: '', name: 'onnxkit unnamed nodes', value: `${unnamed} node(s) have no name and carry no per-node metrics` });
  return { signature: 'netron:attachment', metadata, metrics };
}

function round(x: number): number {
  return Number(x.toPrecision(4));
}
