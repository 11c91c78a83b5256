/**
 * Formatters of an AnalysisReport — pure functions, browser-safe: a terminal table in the style
 * of the lecture's AlexNet tables, CSV, Markdown, canonical JSON, and Netron's metrics
 * attachment (`"signature": "netron:attachment"`, read by Netron's metadata.Attachment: items
 * `{ kind, target, name, value, type? }` in a `metrics` and a `metadata` list, where `target` is
 * a node's name, or '' for the model). Every output carries the report's convention sentence.
 */
import type { Dim } from '@onnxkit/graph';
import type { AnalysisReport, LayerReport } from './analyze.js';

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

/** Seconds in the unit that keeps 3 significant digits readable (µs, ms, s). */
export function formatSeconds(s: number | null | undefined): string {
  if (s === null || s === undefined) return '?';
  if (s === 0) return '0';
  if (s < 1e-3) return `${(s * 1e6).toPrecision(3)} µs`;
  if (s < 1) return `${(s * 1e3).toPrecision(3)} ms`;
  return `${s.toPrecision(3)} s`;
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

const ANSI = { bold: '\x1b[1m', dim: '\x1b[2m', red: '\x1b[31m', green: '\x1b[32m', yellow: '\x1b[33m', reset: '\x1b[0m' };

function activationCell(l: LayerReport): string {
  if (l.alias) return 'view';
  if (l.inPlace) return 'in place';
  return formatCount(l.activations.output);
}

/**
 * A total summed over the layers where it is known: exact when none is missing, "≥ x" when some
 * are, "?" when all are (never a bare 0 that means "unknown").
 */
export function formatPartial(value: number, missing: number, format: (n: number) => string = formatCount): string {
  if (missing === 0) return format(value);
  return value === 0 ? '?' : `≥ ${format(value)}`;
}

/** FLOPs, activation and latency totals: exact, an expression of symbolic dims, a lower bound ("≥ …") or unknown ("?"). */
export function partialTotals(report: AnalysisReport): { flops: string; activationsTotal: string; activationsPeak: string; peakMemory: string; latency: string } {
  const t = report.totals;
  return {
    flops: t.flopsExpr ?? formatPartial(t.flops, t.unknownLayers),
    activationsTotal: t.activations.totalExpr ?? formatPartial(t.activations.total, t.activations.unknownLayers),
    activationsPeak: formatPartial(t.activations.peak, t.activations.unknownLayers),
    peakMemory: formatPartial(t.peakMemoryBytes, t.peakMemoryUnknownValues, formatBytes),
    latency: formatPartial(t.latency.seconds, t.latencyUnknownLayers, formatSeconds),
  };
}

/** A number when complete, else its formatPartial text. */
function partialValue(n: number, missing: number): number | string {
  return missing === 0 ? n : formatPartial(n, missing);
}

function macsCell(l: LayerReport): string {
  if (l.macs !== null) return formatCount(l.macs);
  return l.macsExpr ?? '?';
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
  const header = ['#', 'Layer', 'Op', 'C×H×W', '#Params', 'MACs', 'Activations', 'Latency', 'Bound'];
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
  ]);
  const t = report.totals;
  const pt = partialTotals(report);
  const totalRow = ['', 'Total', '', '', formatCount(t.weightParams), t.macsExpr ?? formatPartial(t.macs, t.unknownLayers), pt.activationsTotal, pt.latency, t.latencyUnknownLayers > 0 ? '' : t.latency.bound];
  const right = new Set([0, 4, 5, 6, 7]);
  const widths = header.map((h, i) => rows.reduce((m, r) => Math.max(m, r[i]!.length), Math.max(h.length, totalRow[i]!.length)));
  const cell = (s: string, i: number) => (right.has(i) ? s.padStart(widths[i]!) : s.padEnd(widths[i]!));
  const paint = (s: string, i: number, raw: string): string => {
    if (raw === '?') return `${c.red}${s}${c.reset}`;
    if (i === 8 && raw === 'compute') return `${c.green}${s}${c.reset}`;
    if (i === 8 && raw === 'memory') return `${c.yellow}${s}${c.reset}`;
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
  // With a FLOPs expression every layer is in it; otherwise say how many are missing from the sums.
  out.push(`MACs: ${t.macsExpr ?? formatPartial(t.macs, t.unknownLayers)}   FLOPs: ${pt.flops}${t.unknownLayers && t.flopsExpr === undefined ? `   (${c.red}${t.unknownLayers} layer(s) unknown${c.reset}, not in the sums)` : ''}`);
  out.push(`Activations: total ${pt.activationsTotal}, peak ${pt.activationsPeak}${t.activations.peakLayer && t.activations.unknownLayers === 0 ? ` (${t.activations.peakLayer})` : ''}   Peak live memory: ${pt.peakMemory}${t.peakMemoryLayer && t.peakMemoryUnknownValues === 0 ? ` at ${t.peakMemoryLayer}` : ''} (activations only${t.peakMemoryUnknownValues ? `; ${t.peakMemoryUnknownValues} of unknown size` : ''})`);
  const d = report.device;
  out.push(`Latency estimate: ${pt.latency} on ${d.title} [${d.id} v${d.version}, ${d.precision}: ${formatCount(d.peakFlops / 1e9)} GFLOP/s, ${formatCount(d.memoryBandwidth / 1e9)} GB/s] — ${t.computeBoundLayers} compute-bound, ${t.memoryBoundLayers} memory-bound${t.latencyUnknownLayers ? `, ${c.red}${t.latencyUnknownLayers} unknown${c.reset}` : ''} layers`);
  if (report.model.symbols.length > 0 && (t.unknownLayers > 0 || t.latencyUnknownLayers > 0 || t.activations.unknownLayers > 0)) {
    const sym = report.model.symbols;
    out.push(`${c.yellow}Symbolic dims ${sym.join(', ')}: totals marked ≥ or ? leave out the layers whose shapes depend on them; bind them (--dim ${sym.map((x) => `${x}=1`).join(' --dim ')}, or --input-shape) for exact numbers${c.reset}`);
  }
  out.push(`${c.dim}Convention: ${report.convention}${c.reset}`);
  const problems = report.diagnostics.filter((x) => x.severity !== 'info');
  for (const p of problems) out.push(`${p.severity === 'error' ? c.red : c.yellow}${p.severity}: ${p.message}${c.reset}`);
  return out.join('\n');
}

function csvField(v: unknown): string {
  if (v === null || v === undefined) return '';
  const s = String(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

const CSV_COLUMNS = [
  'index', 'name', 'opType', 'outputShape', 'params', 'weightParams', 'bufferParams', 'macs', 'macsExpr', 'flops', 'flopsExpr',
  'activationsIn', 'activationsOut', 'bytesWeights', 'bytesIn', 'bytesOut', 'arithmeticIntensity', 'latencySeconds',
  'bound', 'inPlace', 'alias', 'constant', 'unknown',
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
    `# totals: params=${t.params} weightParams=${t.weightParams} macs=${t.macs} flops=${t.flops} activations=${t.activations.total} peakActivations=${t.activations.peak} peakMemoryBytes=${t.peakMemoryBytes} latencySeconds=${t.latency.seconds} unknownLayers=${t.unknownLayers} activationUnknownLayers=${t.activations.unknownLayers} latencyUnknownLayers=${t.latencyUnknownLayers} peakMemoryUnknownValues=${t.peakMemoryUnknownValues}${t.macsExpr ? ` macsExpr=${t.macsExpr}` : ''}${t.flopsExpr ? ` flopsExpr=${t.flopsExpr}` : ''}${t.activations.totalExpr ? ` activationsExpr=${t.activations.totalExpr}` : ''}${report.model.symbols.length ? ` symbols=${report.model.symbols.join(';')}` : ''}`,
    CSV_COLUMNS.join(','),
  ];
  for (const l of report.layers) {
    const row: unknown[] = [
      l.index, l.name, l.opType, l.outputShape === null ? '' : formatShape(l.outputShape), l.params, l.weightParams, l.bufferParams,
      l.macs, l.macsExpr, l.flops, l.flopsExpr, l.activations.input, l.activations.output, l.bytes.weights, l.bytes.input, l.bytes.output,
      l.arithmeticIntensity, l.latency, l.bound, l.inPlace ? 1 : 0, l.alias ? 1 : 0, l.constant ? 1 : 0, l.unknown?.join('; '),
    ];
    lines.push(row.map(csvField).join(','));
  }
  return `${lines.join('\n')}\n`;
}

function mdCell(s: string): string {
  return s.replace(/\|/g, '\\|');
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
    ['MACs', t.macsExpr ?? formatPartial(t.macs, t.unknownLayers)],
    ['FLOPs', pt.flops],
    ['Activations (total)', pt.activationsTotal],
    ['Activations (peak)', pt.activationsPeak],
    ['Peak live memory (activations)', formatPartial(t.peakMemoryBytes, t.peakMemoryUnknownValues, (n) => `${formatCount(n)} B`)],
    [`Latency estimate (${d.id}, ${d.precision})`, pt.latency],
    ['Layers unknown', formatCount(t.unknownLayers)],
  ];
  for (const [k, v] of rows) out.push(`| ${k} | ${mdCell(v)} |`);
  out.push('', `Device: ${mdCell(d.title)} (${d.id} v${d.version}) — ${mdCell(d.source)}`, '');
  out.push('| # | Layer | Op | C×H×W | #Params (bias ignored) | MACs | Activations | Latency | Bound |', '|---:|---|---|---|---:|---:|---:|---:|---|');
  for (const l of report.layers) {
    if (l.constant) continue;
    out.push(
      `| ${l.index} | ${mdCell(l.name)} | ${l.opType} | ${formatPerSample(l.outputShape)} | ${l.weightParams ? formatCount(l.weightParams) : ''} | ${l.macs === 0 ? '' : mdCell(macsCell(l))} | ${activationCell(l)} | ${formatSeconds(l.latency)} | ${l.bound ?? ''} |`,
    );
  }
  if (report.diagnostics.length) {
    out.push('', '## Diagnostics', '');
    for (const x of report.diagnostics) out.push(`- **${x.severity}** \`${x.code}\`${x.node ? ` (${mdCell(x.node)})` : ''}: ${mdCell(x.message)}`);
  }
  return `${out.join('\n')}\n`;
}

const TOP_ORDER = ['model', 'convention', 'device', 'bits', 'totals', 'layers', 'memoryTimeline', 'diagnostics'];

function canonical(v: unknown, top = false): unknown {
  if (Array.isArray(v)) return v.map((x) => canonical(x));
  if (v === null || typeof v !== 'object') return typeof v === 'number' && !Number.isFinite(v) ? null : v;
  const o = v as Record<string, unknown>;
  const keys = Object.keys(o).filter((k) => o[k] !== undefined);
  keys.sort(top ? (a, b) => (TOP_ORDER.indexOf(a) + 1 || 99) - (TOP_ORDER.indexOf(b) + 1 || 99) || (a < b ? -1 : 1) : (a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const out: Record<string, unknown> = {};
  for (const k of keys) out[k] = canonical(o[k]);
  return out;
}

/** JSON with a stable key order (fixed top-level order, nested keys sorted) and no NaN/Infinity. */
export function analysisToJson(report: AnalysisReport, options: { indent?: number } = {}): string {
  return `${JSON.stringify(canonical(report, true), null, options.indent ?? 2)}\n`;
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
    { kind: 'model', target: '', name: 'onnxkit device', value: `${report.device.title} (${report.device.id} v${report.device.version}, ${report.device.precision})` },
  ];
  const metrics: NetronItem[] = [
    { kind: 'model', target: '', name: 'parameters', value: t.params },
    { kind: 'model', target: '', name: 'weight parameters', value: t.weightParams },
    // A total missing some layers is shown as text ("≥ 1,234" or "?"), never as a plain number.
    { kind: 'model', target: '', name: 'MACs', value: t.macsExpr ?? partialValue(t.macs, t.unknownLayers) },
    { kind: 'model', target: '', name: 'FLOPs', value: t.flopsExpr ?? partialValue(t.flops, t.unknownLayers) },
    { kind: 'model', target: '', name: 'activations (total)', value: t.activations.totalExpr ?? partialValue(t.activations.total, t.activations.unknownLayers) },
    { kind: 'model', target: '', name: 'activations (peak)', value: partialValue(t.activations.peak, t.activations.unknownLayers) },
    { kind: 'model', target: '', name: 'peak memory (bytes)', value: partialValue(t.peakMemoryBytes, t.peakMemoryUnknownValues) },
    { kind: 'model', target: '', name: 'latency estimate (µs)', value: partialValue(round(t.latency.seconds * 1e6), t.latencyUnknownLayers) },
  ];
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
    add('arithmetic intensity (FLOP/B)', l.arithmeticIntensity === null ? undefined : round(l.arithmeticIntensity));
    if (l.unknown) add('unknown', l.unknown.join('; '));
  }
  if (unnamed > 0) metadata.push({ kind: 'model', target: '', name: 'onnxkit unnamed nodes', value: `${unnamed} node(s) have no name and carry no per-node metrics` });
  return { signature: 'netron:attachment', metadata, metrics };
}

function round(x: number): number {
  return Number(x.toPrecision(4));
}
