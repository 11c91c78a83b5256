/**
 * Headless Chromium for the report's browser tests: the Debian `chromium` package driven by
 * playwright-core (no browser download). When the binary is missing the tests fail with the
 * install command, unless ONNXKIT_ALLOW_NO_BROWSER=1 explicitly allows skipping them.
 */
import { existsSync } from 'node:fs';
import { chromium, type Browser, type ConsoleMessage, type Page } from 'playwright-core';

export const CHROMIUM_PATH = '/usr/bin/chromium';
export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update'];

export function noBrowserMessage(path: string = CHROMIUM_PATH): string {
  return (
    `headless Chromium is missing at ${path}: install it with \`apt-get install chromium\` ` +
    '(the report tests need a real browser), or set ONNXKIT_ALLOW_NO_BROWSER=1 to skip them explicitly'
  );
}

/**
 * 'ok' when the browser exists; 'skip' when it is missing and skipping is explicitly allowed.
 * Throws (failing the suite) when it is missing and skipping is not allowed.
 */
export function browserAvailability(
  path: string = CHROMIUM_PATH,
  env: Readonly<Record<string, string | undefined>> = process.env,
): { status: 'ok' } | { status: 'skip'; reason: string } {
  if (existsSync(path)) return { status: 'ok' };
  if (env.ONNXKIT_ALLOW_NO_BROWSER === '1') return { status: 'skip', reason: `ONNXKIT_ALLOW_NO_BROWSER=1 and ${path} is missing (apt-get install chromium)` };
  throw new Error(noBrowserMessage(path));
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS, headless: true });
}

/** Everything the page reported as an error: console.error/warning-level errors and uncaught exceptions. */
export interface PageProblems {
  consoleErrors: string[];
  pageErrors: string[];
  /** Requests to anything but file: URLs (all of them are aborted). */
  networkRequests: string[];
}

/** Blocks every request that is not a file: URL and records console errors and page errors. */
export async function watchPage(page: Page): Promise<PageProblems> {
  const problems: PageProblems = { consoleErrors: [], pageErrors: [], networkRequests: [] };
  page.on('console', (m: ConsoleMessage) => {
    if (m.type() === 'error') problems.consoleErrors.push(m.text());
  });
  page.on('pageerror', (e) => problems.pageErrors.push(String(e)));
  await page.route('**', (r) => {
    const url = r.request().url();
    if (url.startsWith('file:')) return r.continue();
    problems.networkRequests.push(url);
    return r.abort();
  });
  return problems;
}

export interface CanvasStats {
  id: string;
  /** Backing-store size in pixels. */
  width: number;
  height: number;
  /** CSS size on the page. */
  cssWidth: number;
  cssHeight: number;
  /** Fraction of pixels with alpha > 0. */
  inkFraction: number;
  /** Distinct colours among inked pixels (RGB quantised to 4 bits per channel). */
  colours: number;
  /** Share of inked pixels taken by the most common colour. */
  dominantShare: number;
  /**
   * Fraction of all pixels whose colour is one of the chart's dataset colours (bars, points,
   * lines; read from the Chart.js instance): the data drew, not only axes and grid.
   */
  dataFraction: number;
  /** Dataset colours looked for. */
  dataColours: string[];
}

/** Pixel statistics of every <canvas> in the page, read with getImageData. */
export function canvasStats(page: Page): Promise<CanvasStats[]> {
  return page.evaluate(() => {
    type ChartLike = { data: { datasets: { backgroundColor?: unknown; borderColor?: unknown }[] } };
    const getChart = (globalThis as unknown as { Chart?: { getChart(c: HTMLCanvasElement): ChartLike | undefined } }).Chart?.getChart;
    const rgb = (c: unknown): [number, number, number] | null => {
      if (typeof c !== 'string') return null;
      let m = /^#([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})?$/i.exec(c);
      if (m) return m[4] === '00' ? null : [parseInt(m[1]!, 16), parseInt(m[2]!, 16), parseInt(m[3]!, 16)];
      m = /^rgba?\((\d+),\s*(\d+),\s*(\d+)(?:,\s*([\d.]+))?\)$/.exec(c);
      if (m) return m[4] !== undefined && Number(m[4]) === 0 ? null : [Number(m[1]), Number(m[2]), Number(m[3])];
      return null;
    };
    return Array.from(document.querySelectorAll('canvas')).map((c) => {
      const ctx = c.getContext('2d', { willReadFrequently: true });
      const r = c.getBoundingClientRect();
      const chart = getChart ? getChart(c) : undefined;
      const dataColours: string[] = [];
      for (const d of chart?.data.datasets ?? []) {
        for (const col of [d.backgroundColor, d.borderColor]) if (typeof col === 'string' && rgb(col) && !dataColours.includes(col)) dataColours.push(col);
      }
      const targets = dataColours.map(rgb).filter((x): x is [number, number, number] => x !== null);
      const base = { id: c.id, width: c.width, height: c.height, cssWidth: r.width, cssHeight: r.height, dataColours };
      if (!ctx || c.width === 0 || c.height === 0) return { ...base, inkFraction: 0, colours: 0, dominantShare: 1, dataFraction: 0 };
      const data = ctx.getImageData(0, 0, c.width, c.height).data;
      let ink = 0;
      let dataPx = 0;
      const counts = new Map<number, number>();
      for (let i = 0; i < data.length; i += 4) {
        if (data[i + 3]! === 0) continue;
        ink++;
        const R = data[i]!;
        const G = data[i + 1]!;
        const B = data[i + 2]!;
        const key = ((R >> 4) << 8) | ((G >> 4) << 4) | (B >> 4);
        counts.set(key, (counts.get(key) ?? 0) + 1);
        for (const t of targets) {
          if (Math.abs(R - t[0]) + Math.abs(G - t[1]) + Math.abs(B - t[2]) <= 24) {
            dataPx++;
            break;
          }
        }
      }
      let top = 0;
      for (const n of counts.values()) top = Math.max(top, n);
      const area = c.width * c.height;
      return { ...base, inkFraction: ink / area, colours: counts.size, dominantShare: ink ? top / ink : 1, dataFraction: dataPx / area };
    });
  });
}
