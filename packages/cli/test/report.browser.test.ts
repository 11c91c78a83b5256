/**
 * The HTML report in a real browser: headless Chromium (Debian package, driven by
 * playwright-core) opens the ResNet-50 report from a file:// URL with every non-file request
 * blocked, and we check what a reader would see — every chart drawn, the table complete and
 * sortable, no errors, no horizontal overflow at 1280 px, a print layout — and save a
 * screenshot and a PDF under artifacts/.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { analyzeModel } from '@onnxkit/passes';
import { mobilenetv2 } from '@onnxkit/zoo';
import { renderReport, summarizeModel, type ReportData } from '../src/report/index.js';
import { browserAvailability, canvasStats, launchChromium, watchPage, type CanvasStats, type PageProblems } from './browser/chromium.js';
import { buildResNetReport, type ResNetReport } from './browser/resnet-report.js';

const ARTIFACTS = resolve(import.meta.dirname, '../../../artifacts');
const A4_COLUMN_PX = 703;
const CHARTS = ['chart-macs', 'chart-params', 'chart-activations', 'chart-roofline', 'chart-memory', 'chart-ops'];

let skipReason: string | undefined;
let browser: Browser | undefined;
let report: ResNetReport;
let htmlPath: string;

beforeAll(async () => {
  const a = browserAvailability();
  if (a.status === 'skip') {
    skipReason = a.reason;
    console.warn(`report browser tests skipped: ${a.reason}`);
    return;
  }
  report = await buildResNetReport();
  mkdirSync(ARTIFACTS, { recursive: true });
  htmlPath = join(ARTIFACTS, 'report-resnet50.html');
  writeFileSync(htmlPath, renderReport(report.data));
  browser = await launchChromium();
}, 180_000);

afterAll(async () => {
  await browser?.close();
});

async function open(file: string, width = 1280): Promise<{ page: Page; problems: PageProblems }> {
  const page = await browser!.newPage({ viewport: { width, height: 900 } });
  const problems = await watchPage(page);
  await page.goto(pathToFileURL(file).href, { waitUntil: 'load' });
  await page.waitForSelector('html[data-report-ready="1"]', { timeout: 20_000 });
  return { page, problems };
}

function expectClean(p: PageProblems): void {
  expect(p.pageErrors, 'uncaught exceptions in the page').toEqual([]);
  expect(p.consoleErrors, 'console errors').toEqual([]);
  expect(p.networkRequests, 'the report must not request anything from the network').toEqual([]);
}

/**
 * Charts drew something real: a meaningful share of inked pixels, more than one colour, and
 * pixels in the colours of the chart's own datasets (bars, points, lines), not only axes.
 */
function expectDrawn(stats: CanvasStats[], ids: readonly string[]): void {
  expect(stats.map((s) => s.id).sort()).toEqual([...ids].sort());
  for (const s of stats) {
    expect(s.width, `${s.id} width`).toBeGreaterThan(100);
    expect(s.height, `${s.id} height`).toBeGreaterThan(100);
    expect(s.inkFraction, `${s.id}: share of drawn pixels`).toBeGreaterThan(0.02);
    expect(s.colours, `${s.id}: distinct colours`).toBeGreaterThanOrEqual(4);
    expect(s.dominantShare, `${s.id}: one colour must not be everything`).toBeLessThan(0.99);
    expect(s.dataColours.length, `${s.id}: dataset colours`).toBeGreaterThan(0);
    expect(s.dataFraction, `${s.id}: pixels in the datasets' colours`).toBeGreaterThan(0.002);
  }
}

describe('HTML report in headless Chromium (ResNet-50)', () => {
  it('opens offline from file:// with the network blocked, draws every chart, and reports its render time', async (ctx) => {
    if (skipReason) ctx.skip(skipReason);
    const { page, problems } = await open(htmlPath);
    const stats = await canvasStats(page);
    console.log(stats.map((c) => `${c.id}: ${c.width}×${c.height} px, ${(c.inkFraction * 100).toFixed(1)}% inked, ${(c.dataFraction * 100).toFixed(1)}% in dataset colours, ${c.colours} colours`).join('\n'));
    expectDrawn(stats, CHARTS);
    const timing = await page.evaluate(() => {
      const r = (window as unknown as { onnxkitReport: { renderMs: number; charts: string[] } }).onnxkitReport;
      const nav = performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming;
      const measure = performance.getEntriesByName('onnxkit-report-render')[0];
      return { renderMs: r.renderMs, measureMs: measure?.duration ?? null, charts: r.charts, loadEventEndMs: nav.loadEventEnd };
    });
    expect(timing.charts.sort()).toEqual([...CHARTS].sort());
    expect(timing.measureMs).not.toBeNull();
    console.log(
      `report render (ResNet-50, ${report.analysis.layers.length} layers): script ${timing.renderMs.toFixed(0)} ms ` +
        `(performance.measure ${timing.measureMs!.toFixed(0)} ms), navigation to load end ${timing.loadEventEndMs.toFixed(0)} ms`,
    );
    // Verdict and headline numbers come from the data, formatted with separators.
    const header = await page.locator('#overview .cards').innerText();
    expect(header).toContain(report.analysis.totals.params.toLocaleString('en-US'));
    expect(header).toContain(report.analysis.totals.macs!.toLocaleString('en-US'));
    expect(await page.locator('[data-block="verification"] .verdict').first().innerText()).toContain(report.data.verification!.equivalent ? 'equivalent' : 'not equivalent');
    expectClean(problems);
    await page.close();
  });

  it('has one table row per analysed layer, in each model view', async (ctx) => {
    if (skipReason) ctx.skip(skipReason);
    const { page, problems } = await open(htmlPath);
    const n = report.analysis.layers.length;
    expect(n).toBeGreaterThan(150);
    expect(await page.locator('table[data-view="original"] tbody tr').count()).toBe(n);
    expect(await page.locator('[data-layer-count]').innerText()).toBe(`${n} layers`);
    await expect(page.locator('table[data-view="optimized"]').isVisible()).resolves.toBe(false);
    // Switching the view swaps table, count and charts to the optimized model.
    await page.locator('#table [data-toggle="view"] button[data-value="optimized"]').click();
    const m = report.optimizedAnalysis.layers.length;
    expect(m).toBeLessThan(n);
    expect(await page.locator('table[data-view="optimized"] tbody tr').count()).toBe(m);
    await expect(page.locator('table[data-view="optimized"]').isVisible()).resolves.toBe(true);
    await expect(page.locator('table[data-view="original"]').isVisible()).resolves.toBe(false);
    expect(await page.locator('[data-layer-count]').innerText()).toBe(`${m} layers`);
    // The MACs bars are the optimized model's layers that have MACs, in execution order.
    const barLabels = await page.evaluate(() => (globalThis as unknown as { Chart: { getChart(id: string): { data: { labels: string[] } } } }).Chart.getChart('chart-macs')!.data.labels);
    expect(barLabels).toEqual(report.optimizedAnalysis.layers.filter((l) => (l.macs ?? 0) > 0).map((l) => l.name));
    expectDrawn(await canvasStats(page), CHARTS);
    expectClean(problems);
    await page.close();
  });

  it('sorts the layer table by MACs numerically, descending then ascending, unknown values last', async (ctx) => {
    if (skipReason) ctx.skip(skipReason);
    const { page, problems } = await open(htmlPath);
    const table = page.locator('table[data-view="original"]');
    const macsCol = await table.locator('thead th').evaluateAll((ths) => ths.findIndex((th) => th.getAttribute('data-key') === 'macs'));
    expect(macsCol).toBeGreaterThan(0);
    const read = () =>
      table.locator('tbody tr').evaluateAll((rows, col) => (rows as HTMLTableRowElement[]).map((r) => ({ name: r.cells[1]!.textContent, v: r.cells[col]!.getAttribute('data-v') })), macsCol);
    const before = await read();
    expect(before.map((r) => r.name)).toEqual(report.analysis.layers.map((l) => l.name));

    const known = report.analysis.layers.filter((l) => l.macs !== null).map((l) => l.macs!);
    const unknown = report.analysis.layers.filter((l) => l.macs === null).map(() => null);
    await table.locator('thead th[data-key="macs"]').click();
    const desc = await read();
    expect(desc.map((r) => (r.v === null ? null : Number(r.v)))).toEqual([...[...known].sort((x, y) => y - x), ...unknown]);
    const heaviest = report.analysis.layers.reduce((best, l) => ((l.macs ?? -1) > (best.macs ?? -1) ? l : best));
    expect(desc[0]!.name).toBe(heaviest.name);
    expect(await table.locator('thead th[data-key="macs"]').getAttribute('aria-sort')).toBe('descending');

    await table.locator('thead th[data-key="macs"]').click();
    const asc = await read();
    expect(asc.map((r) => (r.v === null ? null : Number(r.v)))).toEqual([...[...known].sort((x, y) => x - y), ...unknown]);
    expect(await table.locator('thead th[data-key="macs"]').getAttribute('aria-sort')).toBe('ascending');

    // A text column sorts by text, and '#' restores execution order.
    await table.locator('thead th[data-key="name"]').click();
    const byName = (await read()).map((r) => r.name!);
    expect(byName).toEqual([...byName].sort((x, y) => (x < y ? -1 : x > y ? 1 : 0)));
    await table.locator('thead th[data-key="index"]').click();
    expect((await read()).map((r) => r.name)).toEqual(report.analysis.layers.map((l) => l.name));
    expectClean(problems);
    await page.close();
  });

  it('switches the per-layer charts to the top 20 layers by each metric', async (ctx) => {
    if (skipReason) ctx.skip(skipReason);
    const { page, problems } = await open(htmlPath);
    await page.locator('[data-toggle="bars"] button[data-value="top"]').click();
    const labels = await page.evaluate(() => {
      const C = (globalThis as unknown as { Chart: { getChart(id: string): { data: { labels: string[] } } } }).Chart;
      return { macs: C.getChart('chart-macs')!.data.labels, params: C.getChart('chart-params')!.data.labels };
    });
    const top = (key: (l: (typeof report.analysis.layers)[number]) => number) =>
      [...report.analysis.layers]
        .filter((l) => key(l) > 0)
        .sort((x, y) => key(y) - key(x) || x.index - y.index)
        .slice(0, 20)
        .map((l) => l.name);
    expect(labels.macs).toEqual(top((l) => l.macs ?? 0));
    expect(labels.params).toEqual(top((l) => l.params));
    expectDrawn(await canvasStats(page), CHARTS);
    expectClean(problems);
    await page.close();
  });

  it('fits 1280 px without horizontal overflow of the body, and saves a screenshot', async (ctx) => {
    if (skipReason) ctx.skip(skipReason);
    const { page, problems } = await open(htmlPath, 1280);
    const overflow = await page.evaluate(() => ({
      doc: document.documentElement.scrollWidth,
      body: document.body.scrollWidth,
      viewport: document.documentElement.clientWidth,
    }));
    expect(overflow.doc).toBeLessThanOrEqual(overflow.viewport);
    expect(overflow.body).toBeLessThanOrEqual(overflow.viewport);
    const png = join(ARTIFACTS, 'report-resnet50.png');
    await page.screenshot({ path: png, fullPage: true });
    console.log(`report screenshot: ${png}\nreport HTML: ${htmlPath}`);
    expectClean(problems);
    await page.close();
  });

  it('renders for print: page breaks between sections, no sticky or scrolling boxes, charts redrawn at A4 width', async (ctx) => {
    if (skipReason) ctx.skip(skipReason);
    const { page, problems } = await open(htmlPath);
    // A4 portrait minus the 12 mm @page margins is 186 mm ≈ 703 CSS px: the printed column.
    await page.setViewportSize({ width: A4_COLUMN_PX, height: 1000 });
    await page.emulateMedia({ media: 'print' });
    await page.waitForFunction((w) => {
      const c = document.getElementById('chart-roofline');
      return c !== null && c.getBoundingClientRect().width <= w;
    }, A4_COLUMN_PX);
    const layout = await page.evaluate(() => {
      const css = (el: Element | null) => (el ? getComputedStyle(el) : null);
      const sections = Array.from(document.querySelectorAll('section.sec')).map((s) => css(s)!.breakBefore);
      return {
        sections,
        nav: css(document.querySelector('nav.toc'))!.display,
        stickyHeads: Array.from(document.querySelectorAll('th')).filter((th) => css(th)!.position === 'sticky').length,
        scrollers: Array.from(document.querySelectorAll('.table-scroll, .chart-scroll')).filter((e) => !e.hasAttribute('hidden') && css(e)!.overflowX !== 'visible').length,
        maxChartWidth: Math.max(...Array.from(document.querySelectorAll('canvas')).map((c) => c.getBoundingClientRect().width)),
        scrollWidth: document.documentElement.scrollWidth,
      };
    });
    expect(layout.nav).toBe('none');
    expect(layout.stickyHeads).toBe(0);
    expect(layout.scrollers).toBe(0);
    expect(layout.sections[0]).not.toBe('page');
    expect(layout.sections.slice(1).every((b) => b === 'page')).toBe(true);
    expect(layout.maxChartWidth).toBeLessThanOrEqual(A4_COLUMN_PX);
    expect(layout.scrollWidth, 'nothing wider than the printed column').toBeLessThanOrEqual(A4_COLUMN_PX);
    expectDrawn(await canvasStats(page), CHARTS);
    const pdf = await page.pdf({ format: 'A4', printBackground: true });
    const pages = (pdf.toString('latin1').match(/\/Type\s*\/Page[^s]/g) ?? []).length;
    expect(pages).toBeGreaterThanOrEqual(layout.sections.length);
    const pdfPath = join(ARTIFACTS, 'report-resnet50.pdf');
    writeFileSync(pdfPath, pdf);
    console.log(`report PDF (print layout): ${pdfPath}, ${pages} A4 pages`);
    expectClean(problems);
    await page.close();
  });

  it('shows what is unknown for a symbolic batch: messages instead of empty charts, unknown MACs sorted last', async (ctx) => {
    if (skipReason) ctx.skip(skipReason);
    const model = mobilenetv2({ batch: 'N' });
    const analysis = analyzeModel(model);
    const unknownMacs = analysis.layers.filter((l) => l.macs === null).length;
    expect(unknownMacs).toBeGreaterThan(0);
    const file = join(ARTIFACTS, 'report-symbolic.html');
    writeFileSync(file, renderReport({ model: summarizeModel(model), analysis }));
    const { page, problems } = await open(file);
    // Every conv's MACs are an expression of N: the MACs chart says so instead of drawing nothing.
    expect(await page.locator('[data-chart-box="macs"] .chart-missing').innerText()).toMatch(/No layer has known MACs: \d+ are unknown/);
    expect(await page.locator('#memory .chart-missing').innerText()).toMatch(/activation size is unknown/);
    const drawn = (await canvasStats(page)).filter((c) => c.id === 'chart-params' || c.id === 'chart-roofline');
    expectDrawn(drawn, ['chart-params', 'chart-roofline']);
    const table = page.locator('table[data-view="original"]');
    expect(await table.locator('tbody tr').count()).toBe(analysis.layers.length);
    await table.locator('thead th[data-key="macs"]').click();
    const cells = await table.locator('tbody tr').evaluateAll((rows) =>
      (rows as HTMLTableRowElement[]).map((r) => {
        const th = Array.from(r.closest('table')!.tHead!.rows[0]!.cells).findIndex((h) => h.getAttribute('data-key') === 'macs');
        return r.cells[th]!.getAttribute('data-v');
      }),
    );
    const firstNull = cells.indexOf(null);
    expect(firstNull).toBe(analysis.layers.length - unknownMacs);
    expect(cells.slice(firstNull).every((v) => v === null)).toBe(true);
    expect(await page.locator('#overview .cards').innerText()).toContain('unknown');
    expectClean(problems);
    await page.close();
  });

  it('keeps hostile model strings as text: no markup, no script runs', async (ctx) => {
    if (skipReason) ctx.skip(skipReason);
    const evil = '</script><script>window.__pwned=1</script><img src=x onerror="window.__pwned=2">"\'&';
    const d = JSON.parse(JSON.stringify(report.data)) as ReportData & { model: { name: string; metadata: Record<string, string> } };
    const hostile: ReportData = {
      ...d,
      model: { ...d.model, name: `net ${evil}`, metadata: { [`k${evil}`]: `v${evil}` }, docString: evil },
      analysis: { ...d.analysis, layers: d.analysis.layers.map((l, i) => (i === 0 ? { ...l, name: `conv ${evil}` } : l)) },
    };
    const file = join(ARTIFACTS, 'report-hostile.html');
    writeFileSync(file, renderReport(hostile));
    const { page, problems } = await open(file);
    expect(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
    expect(await page.locator('img').count()).toBe(0);
    expect(await page.locator('h1').innerText()).toBe(`net ${evil}`);
    expect(await page.locator('table[data-view="original"] tbody tr').first().locator('td').nth(1).innerText()).toBe(`conv ${evil}`);
    const label0 = await page.evaluate(() => (globalThis as unknown as { Chart: { getChart(id: string): { data: { labels: string[] } } } }).Chart.getChart('chart-macs')!.data.labels[0]);
    expect(label0).toBe(`conv ${evil}`);
    expectDrawn(await canvasStats(page), CHARTS);
    expectClean(problems);
    await page.close();
  });
});
