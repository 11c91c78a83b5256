// The browser app (issue 12): time from picking a model to the per-layer table in headless
// Chromium (the page reads the file through Blob.slice positional reads in a Web Worker, decodes
// the structure, analyzes, renders) against the CLI's `onnxkit analyze --json` process on the same
// file, for the zoo ResNet-50 and VGG-16; and the bytes of VGG-16 read to open it (target: the
// structure only, like the CLI's lazy import), picked and served by `onnxkit serve MODEL` (HTTP
// Range requests). Ratios are measured in this run, interleaved.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeWithDiagnostics, encode } from '@onnxkit/importer';
import { resnet50, vgg16 } from '@onnxkit/zoo';
import { CACHE, ROOT, fmtMs, median, ratio, row, section, skip } from './lib.mjs';

const CHROMIUM = '/usr/bin/chromium';
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const BIN = join(ROOT, 'packages/cli/bin/onnxkit.js');
const RUNS = 5;


export default async function () {
  section('browser app: file picked → per-layer table (headless Chromium) vs `onnxkit analyze --json` (process)');
  if (!existsSync(CHROMIUM)) return skip('browser app', `${CHROMIUM} is missing (apt-get install chromium)`);
  const { chromium } = await import('playwright-core');
  const { prebuiltApp } = await import('../packages/cli/dist/app-static.js');
  const { serveStatic } = await import('../packages/cli/dist/commands/serve.js');
  const tmp = mkdtempSync(join(tmpdir(), 'onnxkit-bench-app-'));
  const models = [
    ['ResNet-50', join(CACHE, 'browser-resnet50.onnx'), resnet50],
    ['VGG-16', join(CACHE, 'browser-vgg16.onnx'), vgg16],
  ];
  for (const [, file, make] of models) if (!existsSync(file)) writeFileSync(file, encode(make()));
  // The app as `pnpm bench` built it (dist/app, what `onnxkit serve` serves).
  const server = await serveStatic(prebuiltApp(), 0);
  const context = await chromium.launchPersistentContext(join(tmp, 'profile'), { executablePath: CHROMIUM, args: ARGS, headless: true });
  try {
    await context.route('**', (r) => (new URL(r.request().url()).hostname === '127.0.0.1' ? r.continue() : r.abort()));
    const page = await context.newPage();
    await page.goto(server.url);
    await page.waitForSelector('html[data-state="ready"]');
    const openInPage = async (file) => {
      await page.evaluate(() => {
        const doc = globalThis.document;
        delete doc.documentElement.dataset.openMs;
        doc.documentElement.dataset.state = 'ready';
        // Picking the same file again fires no 'change' unless the input is cleared first.
        doc.getElementById('model-file').value = '';
      });
      await page.setInputFiles('[data-testid="model-file"]', file);
      await page.waitForSelector('html[data-open-ms], html[data-state="error"]', { state: 'attached', timeout: 120_000 });
      if ((await page.getAttribute('html', 'data-state')) === 'error') throw new Error(`the page failed to open ${file}: ${await page.textContent('[data-testid="error"]')}`);
      return {
        ms: Number(await page.getAttribute('html', 'data-open-ms')),
        bytesRead: Number(await page.getAttribute('[data-testid="bytes-read"]', 'data-value')),
        macs: Number(await page.getAttribute('[data-testid="total-macs"]', 'data-value')),
      };
    };
    const cliAnalyze = (file) => {
      const t0 = performance.now();
      const out = execFileSync(process.execPath, [BIN, 'analyze', file, '--json'], { encoding: 'utf8', maxBuffer: 1 << 28 });
      return { ms: performance.now() - t0, macs: JSON.parse(out).totals.macs };
    };
    for (const [label, file] of models) {
      // Warm-up pair (worker start, JIT, page cache of the file), then interleaved pairs.
      await openInPage(file);
      cliAnalyze(file);
      const p = [];
      const c = [];
      let last;
      for (let i = 0; i < RUNS; i++) {
        last = await openInPage(file);
        p.push(last.ms);
        const ci = cliAnalyze(file);
        c.push(ci.ms);
        if (ci.macs !== last.macs) throw new Error(`${label}: page total MACs ${last.macs} ≠ CLI ${ci.macs}`);
      }
      row(`${label}: page, pick → table (median of ${RUNS})`, fmtMs(median(p)), `min ${fmtMs(Math.min(...p))}`);
      row(`${label}: CLI analyze --json process (median of ${RUNS})`, fmtMs(median(c)), `min ${fmtMs(Math.min(...c))}`);
      ratio(`${label}: page / CLI process`, median(p), median(c));
      if (label === 'VGG-16') {
        const size = (await import('node:fs')).statSync(file).size;
        const cliRead = decodeWithDiagnostics(file, { lazy: true }).stats.bytesRead;
        row('VGG-16: file bytes', size.toLocaleString('en-US'));
        row('VGG-16: bytes read by the page to open it', `${last.bytesRead.toLocaleString('en-US')} (${((last.bytesRead / size) * 100).toFixed(3)}% of the file)`, 'target: structure only');
        row('VGG-16: bytes read by the CLI lazy import', cliRead.toLocaleString('en-US'));
        // `onnxkit serve MODEL`: the page reads the model through HTTP Range requests.
        const served = await serveStatic(prebuiltApp(), 0, file);
        try {
          const t0 = performance.now();
          await page.goto(served.url);
          await page.waitForSelector('html[data-open-ms], html[data-state="error"]', { state: 'attached', timeout: 120_000 });
          const ms = performance.now() - t0;
          if ((await page.getAttribute('html', 'data-state')) === 'error') throw new Error(`the page failed to open the served VGG-16: ${await page.textContent('[data-testid="error"]')}`);
          const sent = [...served.bytesSent].filter(([p]) => p.startsWith('/model/')).reduce((a, [, n]) => a + n, 0);
          row('VGG-16 served by `serve MODEL`: bytes sent over HTTP to open it', `${sent.toLocaleString('en-US')} (${((sent / size) * 100).toFixed(3)}% of the file)`, `page load → table ${fmtMs(ms)}`);
        } finally {
          await served.close();
        }
      }
    }
  } finally {
    await context.close();
    await server.close();
    rmSync(tmp, { recursive: true, force: true });
  }
}
