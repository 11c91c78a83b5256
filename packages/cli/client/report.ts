/**
 * The script inlined in the report page: reads the embedded JSON, draws the charts with
 * Chart.js (per-layer bars, roofline, memory timeline, operator histogram), sorts the layer
 * table, switches between the original and optimized model, and resizes charts for print.
 *
 * Browser TypeScript, type-checked (client/tsconfig.json) and linted with the rest; the build
 * (scripts/build-client.mjs) compiles it to one classic script, dist/report/client.js, which the
 * report inlines. It records its own render time in `window.onnxkitReport` and a
 * `performance.measure('onnxkit-report-render')`.
 */

// ——— the report JSON (ReportData, as render.ts embeds it) and the formats of the static parts ———
// Imported, not copied: the build (scripts/build-client.mjs) bundles units.ts and format.ts in, so
// the charts and the table print numbers exactly as the server-rendered parts do.
import type { ReportData, ReportLayerTime } from '../src/report/types.js';
import { fmtShape } from '../src/report/format.js';
import { fmtBytes as bytes, fmtInt as int, fmtSeconds as secs, fmtSI as si } from '../src/units.js';

type ReportJson = ReportData;
type Analysis = ReportData['analysis'];
type Layer = Analysis['layers'][number];
type LayerTime = ReportLayerTime;

// ——— the slice of Chart.js 4 this script uses (the UMD build defines the global `Chart`) ———
interface ChartScale {
  getPixelForValue(v: number): number;
}
interface ChartInstance {
  readonly canvas: HTMLCanvasElement;
  readonly ctx: CanvasRenderingContext2D;
  readonly scales: Record<string, ChartScale>;
  readonly chartArea: { left: number; right: number; top: number; bottom: number };
  destroy(): void;
  resize(width?: number, height?: number): void;
  draw(): void;
  $roof?: { ridge: number; peak: number; bw: number; xmin: number; precision: string };
  $peak?: { x: number; y: number; color: string; text: string };
}
interface ChartPlugin {
  id: string;
  afterDatasetsDraw(chart: ChartInstance): void;
}
interface ChartConfig {
  type: 'bar' | 'scatter' | 'line';
  data: unknown;
  options: unknown;
  plugins?: ChartPlugin[];
}
interface ChartConstructor {
  new (canvas: HTMLCanvasElement, config: ChartConfig): ChartInstance;
  defaults: { font: { family: string; size: number }; color: string; borderColor: string };
}
interface TooltipItem<R> {
  readonly raw: R;
  readonly dataIndex: number;
  readonly datasetIndex: number;
  readonly dataset: { readonly label: string };
}
interface ReportHandle {
  renderMs: number;
  startMs: number;
  endMs: number;
  charts: string[];
  view(): string;
  setView(v: string): void;
}
declare const Chart: ChartConstructor;
declare global {
  interface Window {
    onnxkitReport?: ReportHandle;
  }
}

type ViewName = 'original' | 'optimized';
interface View {
  a: Analysis;
  times: readonly LayerTime[] | undefined;
}
interface Point {
  x: number;
  y: number;
  l?: Layer;
}

(function () {
  const t0 = performance.now();
  performance.mark('onnxkit-report-start');
  const D = JSON.parse(document.getElementById('onnxkit-report-data')!.textContent ?? '{}') as ReportJson;
  const state: { view: ViewName; bars: string } = { view: 'original', bars: 'order' };
  const charts: Record<string, ChartInstance> = {};
  const TOP_N = 20;

  // ——— formatting: units.ts (imported above), as the static parts ———
  const prec = (v: number): string => String(Number(v.toPrecision(3)));
  /** Tick labels: "0", "500 K", "1 G", "0.01". */
  function tick(v: number): string {
    if (v === 0) return '0';
    if (Math.abs(v) < 1) return String(Number(v.toPrecision(2)));
    return si(v).replace(' ', '');
  }
  const shape = fmtShape;
  function isPow10(v: number): boolean {
    const l = Math.log10(v);
    return Math.abs(l - Math.round(l)) < 1e-9;
  }

  // ——— data per view ———
  const VIEWS: Partial<Record<ViewName, View>> = { original: { a: D.analysis, times: D.latency?.perLayer } };
  if (D.optimized) VIEWS.optimized = { a: D.optimized.analysis, times: D.latency?.perLayerOptimized };
  const view = (): View => VIEWS[state.view]!;
  const opKey = (l: Layer): string => (l.domain ? `${l.domain}::${l.opType}` : l.opType);

  // One colour per operator, fixed by the original model's histogram order (then the optimized one's).
  const PALETTE = ['#4e79a7', '#f28e2b', '#59a14f', '#e15759', '#76b7b2', '#edc948', '#b07aa1', '#ff9da7', '#9c755f', '#86bcb6', '#d37295', '#a0cbe8'];
  const opColors: Record<string, string> = {};
  const opOrder = Object.keys(D.model.opHistogram).concat(D.optimized ? Object.keys(D.optimized.model.opHistogram) : []);
  opOrder.forEach((op) => {
    if (!(op in opColors)) opColors[op] = PALETTE[Object.keys(opColors).length] ?? '#94a3b8';
  });
  const opColor = (op: string): string => opColors[op] ?? '#94a3b8';

  const C = { ink: '#0f172a', ink2: '#334155', muted: '#64748b', grid: '#e9edf2', compute: '#2563eb', memory: '#d97706', original: '#64748b', optimized: '#059669', roof: '#0f172a', measured: '#dc2626' };

  function missing(box: HTMLElement, text: string): void {
    clearMissing(box);
    const d = document.createElement('div');
    d.className = 'chart-missing';
    d.textContent = text;
    box.appendChild(d);
  }
  function clearMissing(box: HTMLElement): void {
    box.querySelector('.chart-missing')?.remove();
  }

  function base(extra: Record<string, unknown>): Record<string, unknown> {
    return {
      responsive: true,
      maintainAspectRatio: false,
      animation: false,
      devicePixelRatio: Math.max(2, window.devicePixelRatio || 1),
      plugins: { legend: { labels: { boxWidth: 12, boxHeight: 12, padding: 10 } }, tooltip: { backgroundColor: 'rgba(15,23,42,0.92)', padding: 9, titleFont: { weight: '600' } } },
      ...extra,
    };
  }

  const message = (e: unknown): string => (e instanceof Error ? e.message : String(e));

  function make(id: string, config: ChartConfig): ChartInstance | null {
    const canvas = document.getElementById(id) as HTMLCanvasElement | null;
    if (!canvas) return null;
    drop(id);
    try {
      charts[id] = new Chart(canvas, config);
      return charts[id]!;
    } catch (e) {
      console.error(`onnxkit report: chart ${id} failed: ${message(e)}`);
      missing(canvas.parentNode as HTMLElement, `This chart could not be drawn: ${message(e)}`);
      return null;
    }
  }
  function drop(id: string): void {
    const c = charts[id];
    if (c) {
      c.destroy();
      delete charts[id];
    }
  }

  // ——— 2. per-layer bars ———
  type Metric = 'macs' | 'params' | 'activations';
  const METRICS: Record<Metric, { unit: string; noun: string; value: (l: Layer) => number | null }> = {
    macs: { unit: 'MACs', noun: 'MACs', value: (l) => l.macs },
    params: { unit: 'parameters', noun: 'parameters', value: (l) => l.params },
    activations: { unit: 'elements', noun: 'new activations', value: (l) => (l.inPlace || l.alias || l.constant ? 0 : l.activations.output) },
  };

  function drawBars(metric: Metric): void {
    const m = METRICS[metric];
    const a = view().a;
    const box = document.querySelector<HTMLElement>(`[data-chart-box="${metric}"]`);
    if (!box) return;
    const top = state.bars === 'top';
    // Layers without any of this quantity (a Relu has no MACs, a view no activations) would only
    // add empty slots and push the names of the layers that matter off the axis.
    const v = (l: Layer): number => m.value(l) ?? 0;
    let layers = a.layers.filter((l) => v(l) > 0);
    const unknown = a.layers.filter((l) => m.value(l) === null || m.value(l) === undefined).length;
    const note = document.querySelector(`[data-chart-note="${metric}"]`);
    clearMissing(box);
    if (!layers.length) {
      drop(`chart-${metric}`);
      if (note) note.textContent = '';
      box.style.width = '';
      box.style.height = '';
      missing(box, unknown ? `No layer has known ${m.noun}: ${unknown} are unknown (symbolic or unresolved shapes, or ops without a cost model; see Diagnostics).` : `No layer of this model has ${m.noun}.`);
      return;
    }
    if (note) note.textContent = `${layers.length} of ${a.layers.length} layers have ${m.noun}${top ? `; the ${Math.min(TOP_N, layers.length)} largest are shown.` : '; the others are left out.'}${unknown ? ` ${unknown} unknown (see Diagnostics).` : ''}`;
    if (top) {
      layers = layers.slice().sort((x, y) => v(y) - v(x) || x.index - y.index).slice(0, TOP_N);
      box.style.width = '';
      box.style.height = `${Math.max(160, layers.length * 17 + 70)}px`;
    } else {
      const avail = (box.parentNode as HTMLElement).clientWidth;
      box.style.width = `${Math.max(avail, layers.length * 6 + 90)}px`;
      box.style.height = '';
    }
    const ops: string[] = [];
    layers.forEach((l) => {
      const k = opKey(l);
      if (v(l) > 0 && !ops.includes(k)) ops.push(k);
    });
    ops.sort((x, y) => opOrder.indexOf(x) - opOrder.indexOf(y));
    const datasets = ops.map((op) => ({
      label: op,
      data: layers.map((l) => (opKey(l) === op ? m.value(l) : null)),
      backgroundColor: opColor(op),
      borderWidth: 0,
      grouped: false,
      barPercentage: top ? 0.8 : 0.9,
      categoryPercentage: 1,
    }));
    const valueAxis = {
      beginAtZero: true,
      grid: { color: C.grid },
      border: { display: false },
      title: { display: true, text: m.unit, color: C.muted },
      ticks: { callback: (t: number) => tick(t), maxTicksLimit: 6 },
    };
    const nameAxis = {
      grid: { display: false },
      title: { display: !top, text: 'layer (execution order)', color: C.muted },
      ticks: {
        autoSkip: true,
        autoSkipPadding: top ? 2 : 10,
        maxRotation: top ? 0 : 50,
        minRotation: top ? 0 : 50,
        font: { size: top ? 11 : 10 },
        callback(this: { getLabelForValue(v: number): string }, t: number): string {
          const s = this.getLabelForValue(t);
          return s.length > 24 ? `${s.slice(0, 23)}…` : s;
        },
      },
    };
    make(`chart-${metric}`, {
      type: 'bar',
      data: { labels: layers.map((l) => l.name), datasets },
      options: base({
        indexAxis: top ? 'y' : 'x',
        layout: { padding: { right: 8 } },
        scales: top ? { x: valueAxis, y: nameAxis } : { x: nameAxis, y: valueAxis },
        plugins: {
          legend: { position: 'top', align: 'end', labels: { boxWidth: 10, boxHeight: 10, padding: 8, font: { size: 11 } } },
          tooltip: {
            backgroundColor: 'rgba(15,23,42,0.92)',
            filter: (item: TooltipItem<number | null>) => item.raw !== null,
            callbacks: {
              title: (items: TooltipItem<number>[]) => (items.length ? layers[items[0]!.dataIndex]!.name : ''),
              label: (item: TooltipItem<number>) => `${item.dataset.label}: ${int(item.raw)} ${m.unit} (${si(item.raw, '')})`,
              afterLabel: (item: TooltipItem<number>) => {
                const l = layers[item.dataIndex]!;
                return `#${l.index} · output ${shape(l.outputShape)}`;
              },
            },
          },
        },
      }),
    });
  }

  /** Text on a translucent white plate, so a label stays legible where it crosses a line. */
  function plate(ctx: CanvasRenderingContext2D, text: string, x: number, y: number): void {
    const w = ctx.measureText(text).width;
    const left = ctx.textAlign === 'right' ? x - w : ctx.textAlign === 'center' ? x - w / 2 : x;
    const top = ctx.textBaseline === 'top' ? y : ctx.textBaseline === 'bottom' ? y - 15 : y - 8;
    const fill = ctx.fillStyle;
    ctx.fillStyle = 'rgba(255,255,255,0.88)';
    ctx.fillRect(left - 3, top - 1, w + 6, 17);
    ctx.fillStyle = fill;
    ctx.fillText(text, x, y);
  }

  // ——— 3. roofline ———
  const rooflineLabels: ChartPlugin = {
    id: 'onnxkitRooflineLabels',
    afterDatasetsDraw(chart) {
      const r = chart.$roof;
      if (!r) return;
      const ctx = chart.ctx;
      const x = chart.scales.x!;
      const y = chart.scales.y!;
      const area = chart.chartArea;
      ctx.save();
      const rx = x.getPixelForValue(r.ridge);
      const ry = y.getPixelForValue(r.peak);
      ctx.strokeStyle = '#94a3b8';
      ctx.setLineDash([4, 4]);
      ctx.lineWidth = 1;
      ctx.beginPath();
      ctx.moveTo(rx, area.bottom);
      ctx.lineTo(rx, ry);
      ctx.stroke();
      ctx.setLineDash([]);
      ctx.font = `600 12px ${Chart.defaults.font.family}`;
      ctx.fillStyle = C.ink2;
      ctx.textAlign = 'left';
      ctx.textBaseline = 'bottom';
      plate(ctx, `ridge ${prec(r.ridge)} FLOP/B`, rx + 6, area.bottom - 6);
      // The compute ceiling, extended dashed to the left where no layer can reach it, carries its
      // label there: right of the ridge the layers' points sit on the roof itself.
      ctx.strokeStyle = '#94a3b8';
      ctx.setLineDash([4, 4]);
      ctx.beginPath();
      ctx.moveTo(area.left, ry);
      ctx.lineTo(rx, ry);
      ctx.stroke();
      ctx.setLineDash([]);
      ctx.textAlign = 'left';
      ctx.textBaseline = 'bottom';
      plate(ctx, `compute roof: ${si(r.peak, 'FLOP/s')} (${r.precision})`, area.left + 6, ry - 4);
      // The memory roof's label follows its slope, at the geometric middle of the slanted part.
      const x1 = x.getPixelForValue(r.xmin);
      const y1 = y.getPixelForValue(r.bw * r.xmin);
      const angle = Math.atan2(ry - y1, rx - x1);
      const mx = Math.sqrt(r.xmin * r.ridge);
      const px = x.getPixelForValue(mx);
      const py = y.getPixelForValue(r.bw * mx);
      ctx.translate(px, py);
      ctx.rotate(angle);
      ctx.textAlign = 'center';
      ctx.fillText(`memory roof: ${si(r.bw, 'B/s')}`, 0, -6);
      ctx.restore();
    },
  };

  function drawRoofline(): void {
    const vw = view();
    const a = vw.a;
    const dev = a.device;
    const P = dev.peakFlops;
    const B = dev.memoryBandwidth;
    const R = P / B;
    const pts = a.layers.filter((l) => !l.constant && (l.arithmeticIntensity ?? 0) > 0 && (l.flops ?? 0) > 0);
    const note = document.getElementById('roofline-note');
    const skipped = a.layers.length - pts.length;
    if (note) note.textContent = `${pts.length} of ${a.layers.length} layers plotted${skipped ? `; ${skipped} without FLOPs or bytes moved (views, constants, unknown shapes) have no intensity and are left out.` : '.'}`;
    let maxF = 0;
    pts.forEach((l) => {
      if (l.flops! > maxF) maxF = l.flops!;
    });
    const point = (l: Layer, yv: number): Point => ({ x: l.arithmeticIntensity!, y: yv, l });
    const radius = (ctx: { raw?: Point }): number => {
      const l = ctx.raw?.l;
      return l ? 2.5 + 7 * Math.sqrt(l.flops! / maxF) : 3;
    };
    const comp: Point[] = [];
    const mem: Point[] = [];
    pts.forEach((l) => (l.bound === 'compute' ? comp : mem).push(point(l, Math.min(P, B * l.arithmeticIntensity!))));
    const measured: Point[] = [];
    if (vw.times) {
      const byName: Record<string, number | null> = {};
      vw.times.forEach((t) => {
        byName[t.name] = t.measuredUs;
      });
      pts.forEach((l) => {
        const us = byName[l.name];
        if (us != null && us > 0) measured.push(point(l, l.flops! / (us * 1e-6)));
      });
    }
    const xs = pts.map((l) => l.arithmeticIntensity!).concat([R]);
    const lo = Math.min(...xs);
    const hi = Math.max(...xs);
    let xmin = Math.pow(10, Math.floor(Math.log10(lo)));
    let xmax = Math.pow(10, Math.ceil(Math.log10(hi * 1.0001)));
    if (xmax / xmin < 100) {
      xmin /= 10;
      xmax *= 10;
    }
    const ys = [B * xmin].concat(measured.map((p) => p.y));
    const ymin = Math.pow(10, Math.floor(Math.log10(Math.min(...ys))));
    const ymax = Math.pow(10, Math.ceil(Math.log10(P * 1.6)));
    const alpha = (hex: string): string => `${hex}b3`;
    const datasets: Record<string, unknown>[] = [
      { label: 'roofline', data: [{ x: xmin, y: B * xmin }, { x: R, y: P }, { x: xmax, y: P }], showLine: true, borderColor: C.roof, borderWidth: 2, pointRadius: 0, pointHoverRadius: 0, order: 3 },
      { label: `compute-bound (${comp.length})`, data: comp, backgroundColor: alpha(C.compute), borderColor: C.compute, borderWidth: 1, pointRadius: radius, pointHoverRadius: radius, order: 1 },
      { label: `memory-bound (${mem.length})`, data: mem, backgroundColor: alpha(C.memory), borderColor: C.memory, borderWidth: 1, pointRadius: radius, pointHoverRadius: radius, order: 2 },
    ];
    if (measured.length) datasets.push({ label: `measured (${measured.length})`, data: measured, pointStyle: 'rectRot', backgroundColor: 'rgba(0,0,0,0)', borderColor: C.measured, borderWidth: 1.5, pointRadius: 4, pointHoverRadius: 5, order: 0 });
    const logAxis = (title: string, min: number, max: number, fmt: (v: number) => string): Record<string, unknown> => ({
      type: 'logarithmic',
      min,
      max,
      grid: { color: (c: { tick?: { value: number } }) => (c.tick && isPow10(c.tick.value) ? '#e2e8f0' : 'rgba(0,0,0,0)') },
      border: { display: false },
      title: { display: true, text: title, color: C.muted },
      ticks: { autoSkip: false, maxRotation: 0, callback: (v: number) => (isPow10(v) ? fmt(v) : '') },
    });
    const chart = make('chart-roofline', {
      type: 'scatter',
      data: { datasets },
      options: base({
        layout: { padding: { top: 6, right: 10 } },
        scales: {
          x: logAxis('arithmetic intensity (FLOP/byte, log scale)', xmin, xmax, tick),
          y: logAxis('attainable performance (FLOP/s, log scale)', ymin, ymax, tick),
        },
        plugins: {
          legend: {
            position: 'top',
            align: 'end',
            labels: {
              boxWidth: 10,
              boxHeight: 10,
              padding: 10,
              usePointStyle: true,
              filter: (item: { text: string }) => item.text !== 'roofline',
              sort: (x: { datasetIndex: number }, y: { datasetIndex: number }) => x.datasetIndex - y.datasetIndex,
            },
          },
          tooltip: {
            backgroundColor: 'rgba(15,23,42,0.92)',
            filter: (item: TooltipItem<Point | undefined>) => !!item.raw?.l,
            callbacks: {
              title: (items: TooltipItem<Point>[]) => (items.length && items[0]!.raw.l ? items[0]!.raw.l.name : ''),
              label: (item: TooltipItem<Point>) => {
                const l = item.raw.l!;
                const isMeasured = item.dataset.label.startsWith('measured');
                return [
                  opKey(l) + (l.bound ? ` · ${l.bound}-bound` : ''),
                  `intensity ${prec(l.arithmeticIntensity!)} FLOP/B · ${si(l.flops, 'FLOP')}`,
                  (isMeasured ? 'measured ' : 'attainable ') + si(item.raw.y, 'FLOP/s'),
                  `estimated ${secs(l.latency)}${isMeasured ? ` · measured ${secs(l.flops! / item.raw.y)}` : ''}`,
                ];
              },
            },
          },
        },
      }),
      plugins: [rooflineLabels],
    });
    if (chart) {
      chart.$roof = { ridge: R, peak: P, bw: B, xmin, precision: dev.precision };
      chart.draw();
    }
  }

  // ——— 4. memory timeline ———
  const peakLabel: ChartPlugin = {
    id: 'onnxkitPeakLabel',
    afterDatasetsDraw(chart) {
      const p = chart.$peak;
      if (!p) return;
      const ctx = chart.ctx;
      const area = chart.chartArea;
      const px = chart.scales.x!.getPixelForValue(p.x);
      const py = chart.scales.y!.getPixelForValue(p.y);
      ctx.save();
      ctx.font = `600 12px ${Chart.defaults.font.family}`;
      ctx.textBaseline = 'middle';
      const w = ctx.measureText(p.text).width;
      const right = px + 14 + w < area.right;
      ctx.fillStyle = p.color;
      ctx.textAlign = right ? 'left' : 'right';
      plate(ctx, p.text, right ? px + 14 : px - 14, Math.max(area.top + 8, py - 2));
      ctx.restore();
    },
  };

  function drawMemory(): void {
    const canvas = document.getElementById('chart-memory');
    if (!canvas) return;
    const t = view().a.memoryTimeline;
    const color = state.view === 'optimized' ? C.optimized : C.compute;
    const box = canvas.parentNode as HTMLElement;
    let pk = t && t.length ? t[0]! : null;
    if (t && pk) t.forEach((p) => {
      if (p.liveBytes > pk!.liveBytes) pk = p;
    });
    if (!t || !pk || pk.liveBytes === 0) {
      drop('chart-memory');
      missing(box, !pk ? 'No memory timeline in this analysis (it was computed with timeline: false).' : 'Every activation size is unknown (symbolic or unresolved shapes): pin input shapes with --input-shape to see the timeline.');
      return;
    }
    const peak = pk;
    clearMissing(box);
    const unit: [string, number] = peak.liveBytes >= 1073741824 ? ['GiB', 1073741824] : peak.liveBytes >= 1048576 ? ['MiB', 1048576] : peak.liveBytes >= 1024 ? ['KiB', 1024] : ['B', 1];
    const pt = (p: { step: number; node: string; liveBytes: number }) => ({ x: p.step, y: p.liveBytes / unit[1], n: p.node, b: p.liveBytes });
    type MemPoint = ReturnType<typeof pt>;
    const chart = make('chart-memory', {
      type: 'line',
      data: {
        datasets: [
          { label: 'live activation bytes', data: t.map(pt), borderColor: color, backgroundColor: `${color}26`, fill: 'origin', borderWidth: 1.5, pointRadius: 0, pointHoverRadius: 3, stepped: 'middle' },
          { label: 'peak', data: [pt(peak)], showLine: false, pointStyle: 'triangle', pointRadius: 7, pointHoverRadius: 8, backgroundColor: color, borderColor: '#fff', borderWidth: 1 },
        ],
      },
      options: base({
        interaction: { mode: 'nearest', axis: 'x', intersect: false },
        layout: { padding: { top: 6, right: 10 } },
        scales: {
          x: { type: 'linear', min: 0, max: t[t.length - 1]!.step, grid: { color: C.grid }, border: { display: false }, title: { display: true, text: 'execution step (node index)', color: C.muted }, ticks: { precision: 0, maxTicksLimit: 16 } },
          y: { beginAtZero: true, grace: '14%', grid: { color: C.grid }, border: { display: false }, title: { display: true, text: `live activations (${unit[0]})`, color: C.muted }, ticks: { maxTicksLimit: 7, callback: (v: number) => String(Number(v.toPrecision(3))) } },
        },
        plugins: {
          legend: { display: false },
          tooltip: {
            backgroundColor: 'rgba(15,23,42,0.92)',
            filter: (item: TooltipItem<MemPoint>) => item.datasetIndex === 0,
            callbacks: {
              title: (items: TooltipItem<MemPoint>[]) => (items.length ? `step ${items[0]!.raw.x} · ${items[0]!.raw.n}` : ''),
              label: (item: TooltipItem<MemPoint>) => `live activations: ${bytes(item.raw.b)}`,
            },
          },
        },
      }),
      plugins: [peakLabel],
    });
    if (chart) {
      chart.$peak = { x: peak.step, y: peak.liveBytes / unit[1], color, text: `peak ${bytes(peak.liveBytes)} at step ${peak.step} · ${peak.node}` };
      chart.draw();
    }
  }

  // ——— 5. operator histogram ———
  function drawOps(): void {
    if (!D.optimized || !document.getElementById('chart-ops')) return;
    const ops: string[] = [];
    opOrder.forEach((op) => {
      if (!ops.includes(op)) ops.push(op);
    });
    const a = D.model.opHistogram;
    const b = D.optimized.model.opHistogram;
    make('chart-ops', {
      type: 'bar',
      data: {
        labels: ops,
        datasets: [
          { label: 'original', data: ops.map((o) => a[o] ?? 0), backgroundColor: C.original, borderWidth: 0, barPercentage: 0.85, categoryPercentage: 0.8 },
          { label: 'optimized', data: ops.map((o) => b[o] ?? 0), backgroundColor: C.optimized, borderWidth: 0, barPercentage: 0.85, categoryPercentage: 0.8 },
        ],
      },
      options: base({
        indexAxis: 'y',
        scales: {
          x: { beginAtZero: true, grid: { color: C.grid }, border: { display: false }, title: { display: true, text: 'nodes', color: C.muted }, ticks: { precision: 0 } },
          y: { grid: { display: false }, ticks: { autoSkip: false, font: { size: 11 } } },
        },
        plugins: { legend: { position: 'top', align: 'end', labels: { boxWidth: 10, boxHeight: 10 } } },
      }),
    });
  }

  // ——— 6. sortable tables ———
  function setupTable(table: HTMLTableElement): void {
    const tbody = table.tBodies[0];
    const head = table.tHead?.rows[0];
    if (!tbody || !head) return;
    const rows = Array.from(tbody.rows);
    const heads = Array.from(head.cells);
    heads.forEach((th, col) => {
      const numeric = th.getAttribute('data-type') === 'num';
      function sort(): void {
        const cur = th.getAttribute('aria-sort');
        const dir = cur === 'none' ? (numeric && th.getAttribute('data-key') !== 'index' ? 'descending' : 'ascending') : cur === 'ascending' ? 'descending' : 'ascending';
        const keyed = rows.map((r) => {
          const c = r.cells[col]!;
          let k: number | string | null;
          if (numeric) k = c.hasAttribute('data-v') ? Number(c.getAttribute('data-v')) : null;
          else k = c.hasAttribute('data-s') ? c.getAttribute('data-s') : c.textContent === '—' ? null : c.textContent;
          return { r, k, i: Number(r.getAttribute('data-i')) };
        });
        keyed.sort((x, y) => {
          if (x.k === null || y.k === null) return x.k === y.k ? x.i - y.i : x.k === null ? 1 : -1;
          let c = numeric ? (x.k as number) - (y.k as number) : x.k < y.k ? -1 : x.k > y.k ? 1 : 0;
          if (dir === 'descending') c = -c;
          return c || x.i - y.i;
        });
        const frag = document.createDocumentFragment();
        keyed.forEach((e) => frag.appendChild(e.r));
        tbody!.appendChild(frag);
        heads.forEach((h) => h.setAttribute('aria-sort', 'none'));
        th.setAttribute('aria-sort', dir);
      }
      th.addEventListener('click', sort);
      th.addEventListener('keydown', (e) => {
        if (e.key === 'Enter' || e.key === ' ') {
          e.preventDefault();
          sort();
        }
      });
    });
  }

  // ——— toggles ———
  function press(group: string, value: string): void {
    document.querySelectorAll(`[data-toggle="${group}"] button`).forEach((b) => b.setAttribute('aria-pressed', String(b.getAttribute('data-value') === value)));
  }
  const BARS: Metric[] = ['macs', 'params', 'activations'];
  function drawLayerCharts(): void {
    BARS.forEach(drawBars);
    drawRoofline();
    drawMemory();
  }
  function setView(v: string): void {
    if ((v !== 'original' && v !== 'optimized') || !VIEWS[v] || state.view === v) return;
    state.view = v;
    press('view', v);
    document.querySelectorAll<HTMLElement>('.table-scroll[data-view]').forEach((el) => {
      el.hidden = el.getAttribute('data-view') !== v;
    });
    const count = document.querySelector('[data-layer-count]');
    if (count) count.textContent = `${int(VIEWS[v]!.a.layers.length)} layers`;
    drawLayerCharts();
  }
  document.querySelectorAll('[data-toggle="view"] button').forEach((b) => b.addEventListener('click', () => setView(b.getAttribute('data-value') ?? '')));
  document.querySelectorAll('[data-toggle="bars"] button').forEach((b) => {
    b.addEventListener('click', () => {
      const v = b.getAttribute('data-value') ?? '';
      if (state.bars === v) return;
      state.bars = v;
      press('bars', v);
      BARS.forEach(drawBars);
    });
  });

  // ——— print: charts take the A4 column (≈186 mm) and the print heights of the stylesheet ———
  const PRINT_WIDTH = 700;
  function fitPrint(on: boolean): void {
    Object.keys(charts).forEach((id) => {
      const c = charts[id]!;
      if (!on) {
        c.resize();
        return;
      }
      const box = c.canvas.parentNode as HTMLElement;
      // The print heights of the stylesheet in CSS px (1 mm = 3.78 px): tall 110 mm, bars 80 mm, others 62 mm.
      const h = box.classList.contains('tall') ? 416 : box.classList.contains('bars') ? 302 : id === 'chart-ops' ? Math.min(box.clientHeight, 520) : 234;
      c.resize(PRINT_WIDTH, h);
    });
  }
  window.addEventListener('beforeprint', () => fitPrint(true));
  window.addEventListener('afterprint', () => fitPrint(false));
  const mq = typeof window.matchMedia === 'function' ? window.matchMedia('print') : null;
  if (mq && typeof mq.addEventListener === 'function') mq.addEventListener('change', (e) => fitPrint(e.matches));

  document.querySelectorAll<HTMLTableElement>('table[data-table="layers"]').forEach(setupTable);
  if (typeof Chart === 'undefined') {
    document.querySelectorAll<HTMLElement>('.chart-box').forEach((b) => missing(b, 'Chart.js did not load, so charts are not drawn; the tables below are complete.'));
    console.error('onnxkit report: Chart.js is not available');
  } else {
    Chart.defaults.font.family = getComputedStyle(document.body).fontFamily;
    Chart.defaults.font.size = 12;
    Chart.defaults.color = C.ink2;
    Chart.defaults.borderColor = C.grid;
    drawLayerCharts();
    drawOps();
  }

  performance.mark('onnxkit-report-end');
  performance.measure('onnxkit-report-render', 'onnxkit-report-start', 'onnxkit-report-end');
  const t1 = performance.now();
  window.onnxkitReport = { renderMs: t1 - t0, startMs: t0, endMs: t1, charts: Object.keys(charts), view: () => state.view, setView };
  document.documentElement.setAttribute('data-report-ready', '1');
})();

export {};
