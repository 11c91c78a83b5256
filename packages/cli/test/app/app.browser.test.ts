/**
 * Issue 12.6: the browser app in a real browser. The app as `pnpm build` prebuilt it into
 * dist/app (what the package ships) is served by `serveStatic` on 127.0.0.1 (what
 * `onnxkit serve` runs); headless Debian Chromium, driven by
 * playwright-core with a fresh profile, opens zoo models and fixtures through the file input,
 * and we compare what the page shows and downloads with the real CLI processes:
 * total MACs and the analysis JSON equal `onnxkit analyze --json`, the optimized download is
 * byte-identical to `onnxkit optimize` (the page folds with onnxruntime-web what the CLI folds
 * with onnxruntime-node; unchecked, `--no-ort-fold`). Served by `serve MODEL`, the page reads a
 * model through HTTP Range requests (VGG-16: structure only), with its external data files from
 * the same server; dropped or served, a model with external data optimizes and verifies. Bad
 * files get a message in the page. No console errors, no page errors, and no
 * request leaves 127.0.0.1. Screenshots go to artifacts/ (one is docs/app.png in the README).
 */
import { execFileSync, spawn } from 'node:child_process';
import { request } from 'node:http';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DataType, GraphBuilder, Model } from '@onnxkit/graph';
import { encode } from '@onnxkit/importer';
import { decodeModelBytes } from '@onnxkit/importer/codec';
import { alexnet, mobilenetv2, resnet50 } from '@onnxkit/zoo';
import { prebuiltApp } from '../../src/app-static.js';
import { serveStatic, type StaticServer } from '../../src/commands/serve.js';
import { browserAvailability, CHROMIUM_PATH } from '../browser/chromium.js';

const ROOT = resolve(import.meta.dirname, '../../../..');
const BIN = join(ROOT, 'packages/cli/bin/onnxkit.js');
const ARTIFACTS = join(ROOT, 'artifacts');
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

let skip: string | undefined;
let tmp: string;
let server: StaticServer;
let context: BrowserContext;
const outside: string[] = [];

beforeAll(async () => {
  const a = browserAvailability();
  if (a.status === 'skip') {
    skip = a.reason;
    return;
  }
  tmp = mkdtempSync(join(tmpdir(), 'onnxkit-app-test-'));
  mkdirSync(ARTIFACTS, { recursive: true });
  server = await serveStatic(prebuiltApp(), 0);
  context = await chromium.launchPersistentContext(join(tmp, 'profile'), { executablePath: CHROMIUM_PATH, args: ARGS, headless: true, acceptDownloads: true, viewport: { width: 1280, height: 900 } });
  await context.route('**', (r) => {
    const url = new URL(r.request().url());
    if (url.hostname === '127.0.0.1' || url.protocol === 'blob:' || url.protocol === 'data:' || url.protocol === 'about:') return r.continue();
    outside.push(url.href);
    return r.abort();
  });
}, 240_000);

afterAll(async () => {
  await context?.close();
  await server?.close();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

interface Watched {
  page: Page;
  errors: string[];
}

async function newPage(): Promise<Watched> {
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(server.url);
  await page.waitForSelector('html[data-state="ready"]');
  return { page, errors };
}

/**
 * Presses a button through a DOM click event on the element itself: a mouse click at its
 * coordinates can land beside it if the layout shifts under load after the hit-target check
 * (the onnxruntime-web test once clicked, and the page never started optimizing).
 */
async function press(page: Page, testid: string): Promise<void> {
  await page.locator(`[data-testid="${testid}"]`).dispatchEvent('click');
}

function cli(args: string[]): string {
  return execFileSync(process.execPath, [BIN, ...args], { encoding: 'utf8', maxBuffer: 1 << 28 });
}

async function downloadOf(page: Page, testid: string): Promise<Buffer> {
  const [dl] = await Promise.all([page.waitForEvent('download'), page.click(`[data-testid="${testid}"]`)]);
  return readFileSync((await dl.path())!);
}

/** A GET with the path sent as written (fetch would normalise '..' away before sending). */
function rawGet(base: string, path: string, host?: string): Promise<{ status: number; body: string }> {
  return new Promise((ok, fail) => {
    const req = request({ host: '127.0.0.1', port: new URL(base).port, path, method: 'GET', ...(host ? { headers: { host } } : {}) }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => ok({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', fail);
    req.end();
  });
}

function modelFile(name: string, bytes: Uint8Array): string {
  const p = join(tmp, name);
  writeFileSync(p, bytes);
  return p;
}

async function openModel(page: Page, path: string | string[]): Promise<void> {
  await page.setInputFiles('[data-testid="model-file"]', path);
  await page.waitForSelector('html[data-state="analyzed"], html[data-state="error"]', { timeout: 120_000 });
}

describe('onnxkit app in Chromium', () => {
  const cases: [string, () => string][] = [
    ['mobilenetv2 (zoo)', () => modelFile('mobilenetv2.onnx', encode(mobilenetv2()))],
    ['resnet50 (zoo)', () => modelFile('resnet50.onnx', encode(resnet50()))],
    ['alexnet (zoo)', () => modelFile('alexnet.onnx', encode(alexnet()))],
    ['resnet_tiny_bn (fixture)', () => join(ROOT, 'fixtures/resnet_tiny_bn/model.onnx')],
    ['transformer_encoder (fixture)', () => join(ROOT, 'fixtures/transformer_encoder/model.onnx')],
  ];
  for (const [label, make] of cases) {
    it(`${label}: open → analyze → optimize → download equal the CLI's`, async (ctx) => {
      if (skip) return ctx.skip();
      const file = make();
      const { page, errors } = await newPage();
      await openModel(page, file);
      expect(await page.getAttribute('html', 'data-state'), await page.textContent('[data-testid="error"]') ?? '').toBe('analyzed');
      const json = cli(['analyze', file, '--json']);
      const expected = JSON.parse(json) as { totals: { macs: number | null } };
      // A total that waits on a symbolic dim is null in the CLI's JSON, and 'null' in the page.
      expect(await page.getAttribute('[data-testid="total-macs"]', 'data-value')).toBe(String(expected.totals.macs));
      expect((await downloadOf(page, 'download-analysis')).toString('utf8')).toBe(json);
      const rows = Number(await page.getAttribute('[data-testid="layer-table"]', 'data-rows'));
      expect(rows).toBeGreaterThan(0);
      const stem = label.split(' ')[0]!;
      await page.screenshot({ path: join(ARTIFACTS, `app-${stem}-analysis.png`), fullPage: false });

      await press(page, 'run-optimize');
      await page.waitForSelector('html[data-optimized="done"], html[data-optimized="error"]', { timeout: 180_000 });
      expect(await page.getAttribute('html', 'data-optimized'), await page.textContent('[data-testid="error"]') ?? '').toBe('done');
      const optimized = await downloadOf(page, 'download-optimized');
      const out = join(tmp, `${stem}.opt.onnx`);
      cli(['optimize', file, '-o', out, '--json']);
      expect(Buffer.compare(optimized, readFileSync(out)), 'the optimized download is byte-identical to onnxkit optimize').toBe(0);
      expect(await page.textContent('[data-testid="explain"]')).toMatch(/\S/);
      await page.screenshot({ path: join(ARTIFACTS, `app-${stem}-optimized.png`), fullPage: false });

      // Verify in the page (onnxruntime-web WASM + float64 reference in a worker) and compare the
      // verdict with `onnxkit verify` on the same files and seed (onnxruntime-node).
      await page.fill('[data-testid="iterations"]', '3');
      await press(page, 'run-verify');
      await page.waitForSelector('html[data-verified="done"], html[data-verified="error"]', { timeout: 240_000 });
      expect(await page.getAttribute('html', 'data-verified'), await page.textContent('[data-testid="error"]') ?? '').toBe('done');
      let cliVerify: { verdict: string };
      try {
        cliVerify = JSON.parse(cli(['verify', file, out, '--seed', '0', '--json'])) as { verdict: string };
      } catch (e) {
        cliVerify = JSON.parse((e as { stdout: string }).stdout) as { verdict: string };
      }
      expect(await page.textContent('[data-testid="verdict"]')).toBe(cliVerify.verdict);
      expect(await page.textContent('[data-testid="latency-pair"]')).toMatch(/original [\d.]+ ms, optimized [\d.]+ ms/);
      await page.locator('[data-testid="verdict"]').scrollIntoViewIfNeeded();
      await page.screenshot({ path: join(ARTIFACTS, `app-${stem}-verified.png`), fullPage: false });
      if (stem === 'resnet50') {
        await page.evaluate(() => window.scrollTo(0, 0));
        await page.screenshot({ path: join(ARTIFACTS, 'app-resnet50.png') });
        mkdirSync(join(ROOT, 'docs'), { recursive: true });
        copyFileSync(join(ARTIFACTS, 'app-resnet50.png'), join(ROOT, 'docs/app-resnet50.png'));
      }
      expect(errors).toEqual([]);
      expect(outside).toEqual([]);
      await page.close();
    }, 300_000);
  }

  it('the table sorts and filters; the device selector and a dim binding re-analyze', async (ctx) => {
    if (skip) return ctx.skip();
    const { page, errors } = await newPage();
    const file = modelFile('mbv2-dyn.onnx', encode(mobilenetv2({ batch: 'N' })));
    await openModel(page, file);
    expect(await page.getAttribute('html', 'data-state')).toBe('analyzed');
    const all = Number(await page.getAttribute('[data-testid="layer-table"]', 'data-rows'));
    await page.fill('[data-testid="layer-filter"]', 'Conv');
    const convs = Number(await page.getAttribute('[data-testid="layer-table"]', 'data-rows'));
    expect(convs).toBeGreaterThan(0);
    expect(convs).toBeLessThan(all);
    await page.click('#layers th:nth-child(6)');
    await page.click('#layers th:nth-child(6)');
    const dimInputs = await page.locator('[data-testid^="dim-"]').count();
    expect(dimInputs, 'one binding field for the symbolic batch dim').toBe(1);
    // Before binding, total MACs are shown as an expression of N.
    expect(await page.textContent('[data-testid="total-macs"]')).toMatch(/N/);
    {
      await page.locator('[data-testid^="dim-"]').first().fill('4');
      await page.locator('[data-testid^="dim-"]').first().dispatchEvent('change');
      await page.waitForFunction(() => document.querySelector('[data-testid="status"]')?.textContent?.startsWith('analyzed'));
      const sym = (await page.locator('[data-testid^="dim-"]').first().getAttribute('data-testid'))!.slice(4);
      const json = JSON.parse(cli(['analyze', file, '--json', '--dim', `${sym}=4`])) as { totals: { macs: number } };
      await page.waitForFunction((v) => document.querySelector('[data-testid="total-macs"]')?.getAttribute('data-value') === String(v), json.totals.macs);
    }
    // Sorted by MACs, descending (two clicks on the header): the first row holds the largest.
    await page.click('#layers th:nth-child(6)');
    await page.click('#layers th:nth-child(6)');
    const macsCol = await page.$$eval('#layers tbody tr td:nth-child(6)', (tds) => tds.map((td) => Number(td.textContent!.replace(/,/g, '')) || 0));
    expect(macsCol[0]).toBe(Math.max(...macsCol));
    expect(macsCol[0]).toBeGreaterThan(macsCol[macsCol.length - 1]!);
    await page.selectOption('[data-testid="device"]', 'raspberry-pi-4');
    await page.waitForFunction(() => document.querySelector('[data-testid="latency"]')?.textContent !== '');
    const json = cli(['analyze', file, '--json', '--device', 'raspberry-pi-4', ...(dimInputs > 0 ? ['--dim', `${(await page.locator('[data-testid^="dim-"]').first().getAttribute('data-testid'))!.slice(4)}=4`] : [])]);
    await page.waitForFunction(() => document.querySelector('[data-testid="status"]')?.textContent?.startsWith('analyzed'));
    expect((await downloadOf(page, 'download-analysis')).toString('utf8')).toBe(json);
    expect(errors).toEqual([]);
    await page.close();
  }, 300_000);

  it('bad input gets a message in the page: not ONNX, truncated, missing external data, too large', async (ctx) => {
    if (skip) return ctx.skip();
    const { page, errors } = await newPage();
    await openModel(page, modelFile('notes.onnx', new TextEncoder().encode('these are not the weights you are looking for\n'.repeat(20))));
    expect(await page.getAttribute('html', 'data-state')).toBe('error');
    expect(await page.textContent('[data-testid="error"]')).toMatch(/not an ONNX model/i);

    const bytes = encode(mobilenetv2());
    await openModel(page, modelFile('truncated.onnx', bytes.subarray(0, Math.floor(bytes.length / 2))));
    expect(await page.getAttribute('html', 'data-state')).toBe('error');
    expect(await page.textContent('[data-testid="error"]')).toMatch(/truncated|damaged|ends/i);
    await page.screenshot({ path: join(ARTIFACTS, 'app-error-truncated.png') });

    const ext = join(tmp, 'ext');
    mkdirSync(ext, { recursive: true });
    cli(['zoo', 'alexnet', '-o', join(ext, 'alexnet.onnx'), '--external-data']);
    await openModel(page, join(ext, 'alexnet.onnx'));
    expect(await page.textContent('[data-testid="error"]')).toMatch(/alexnet\.onnx\.data/);
    // Opened together with its data file, the model optimizes.
    await openModel(page, [join(ext, 'alexnet.onnx'), join(ext, 'alexnet.onnx.data')]);
    expect(await page.getAttribute('html', 'data-state')).toBe('analyzed');
    expect(await page.isHidden('[data-testid="error"]')).toBe(true);
    // A model larger than the page accepts (a sparse 5 GiB file: nothing is read).
    const huge = join(tmp, 'huge.onnx');
    writeFileSync(huge, '');
    truncateSync(huge, 5 * 2 ** 30);
    await openModel(page, huge);
    expect(await page.getAttribute('html', 'data-state')).toBe('error');
    expect(await page.textContent('[data-testid="error"]')).toMatch(/Too large for the browser: huge\.onnx is 5368709120 bytes/);
    expect(errors).toEqual([]);
    expect(outside).toEqual([]);
    await page.close();
  }, 300_000);

  it('drag and drop opens a model', async (ctx) => {
    if (skip) return ctx.skip();
    const { page, errors } = await newPage();
    const bytes = [...readFileSync(join(ROOT, 'fixtures/resnet_tiny_bn/model.onnx'))];
    await page.evaluate((data) => {
      const dt = new DataTransfer();
      dt.items.add(new File([new Uint8Array(data)], 'dropped.onnx'));
      document.querySelector('[data-testid="drop-zone"]')!.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
    }, bytes);
    await page.waitForSelector('html[data-state="analyzed"]', { timeout: 60_000 });
    const json = JSON.parse(cli(['analyze', join(ROOT, 'fixtures/resnet_tiny_bn/model.onnx'), '--json'])) as { totals: { macs: number | null } };
    expect(await page.getAttribute('[data-testid="total-macs"]', 'data-value')).toBe(String(json.totals.macs));
    expect(errors).toEqual([]);
    await page.close();
  }, 120_000);

  it('`onnxkit serve MODEL --port 0` prints a 127.0.0.1 URL whose page opens the model; `onnxkit app -o DIR` writes the static app', async (ctx) => {
    if (skip) return ctx.skip();
    const model = join(ROOT, 'fixtures/resnet_tiny_bn/model.onnx');
    const child = spawn(process.execPath, [BIN, 'serve', model, '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      const url = await new Promise<string>((ok, fail) => {
        let out = '';
        child.stdout.on('data', (c: Buffer) => {
          out += c.toString();
          const m = /(http:\/\/127\.0\.0\.1:\d+\/\S*)/.exec(out);
          if (m) ok(m[1]!);
        });
        child.on('exit', (code) => fail(new Error(`serve exited with ${code}`)));
        setTimeout(() => fail(new Error(`no URL printed: ${out}`)), 60_000);
      });
      const page = await context.newPage();
      const errors: string[] = [];
      page.on('console', (m) => {
        if (m.type() === 'error') errors.push(m.text());
      });
      await page.goto(url);
      await page.waitForSelector('html[data-state="analyzed"]', { timeout: 60_000 });
      // The page analysed the very model serve was given: its totals are the CLI's for that file.
      const cliJson = JSON.parse(cli(['analyze', model, '--json'])) as { totals: { macs: number | null } };
      expect(await page.getAttribute('[data-testid="total-macs"]', 'data-value')).toBe(String(cliJson.totals.macs));
      expect(errors).toEqual([]);
      await page.close();
    } finally {
      child.kill('SIGINT');
    }
    const dir = join(tmp, 'static-app');
    expect(cli(['app', '-o', dir])).toMatch(/wrote the onnxkit app/);
    expect(existsSync(join(dir, 'index.html'))).toBe(true);
    const busy = join(tmp, 'busy');
    mkdirSync(busy, { recursive: true });
    writeFileSync(join(busy, 'keep.txt'), 'x');
    expect(() => execFileSync(process.execPath, [BIN, 'app', '-o', busy], { encoding: 'utf8', stdio: 'pipe' })).toThrow(/refusing to write into/);
  }, 180_000);

  it('constants only onnxruntime folds: the page folds them with onnxruntime-web — exact ops (Trilu, CumSum, Round, Sign) byte-identical to `onnxkit optimize`, unchecked to `--no-ort-fold`; Sin within 1 ulp of the native build', async (ctx) => {
    if (skip) return ctx.skip();
    const build = (name: string, withSin: boolean): string => {
      const b = new GraphBuilder({ name });
      const x = b.input('x', DataType.FLOAT, [2, 3]);
      const c = b.floats('c', [2, 3], [0.5, -1.25, 2, 0.75, 3.5, -0.25]);
      const exact = b.op('Sign', [b.op('Round', [b.op('CumSum', [b.op('Trilu', [c]), b.int64s('axis', [1], [])])])]);
      const y = b.op('Add', [x, exact]);
      b.output(withSin ? b.op('Mul', [y, b.op('Sin', [c])]) : y, 'y');
      return modelFile(`${name}.onnx`, encode(new Model({ graph: b.graph, irVersion: 8, opsetImports: new Map([['', 17]]) })));
    };
    const optimizeOnce = async (page: Page): Promise<Buffer> => {
      await page.evaluate(() => delete document.documentElement.dataset.optimized);
      await press(page, 'run-optimize');
      // onnxruntime-web loads on the first fold it is needed for (its WASM compiled in this worker).
      try {
        await page.waitForSelector('html[data-optimized="done"], html[data-optimized="error"]', { timeout: 240_000 });
      } catch (e) {
        // Say where the page stood (it failed once in a full-suite run, never alone).
        const state = await page.evaluate(() => ({ optimized: document.documentElement.dataset.optimized, status: document.querySelector('[data-testid="status"]')?.textContent, error: document.querySelector('[data-testid="error"]')?.textContent }));
        throw new Error(`${(e as Error).message}; page: ${JSON.stringify(state)}; console errors: ${JSON.stringify(errors)}`);
      }
      expect(await page.getAttribute('html', 'data-optimized'), (await page.textContent('[data-testid="error"]')) ?? '').toBe('done');
      expect(await page.textContent('[data-testid="explain"]')).not.toMatch(/did not answer/);
      return downloadOf(page, 'download-optimized');
    };
    const cliOptimize = (file: string, ...flags: string[]): Buffer => {
      const out = join(tmp, `${file.split('/').pop()!}.${flags.length}.opt.onnx`);
      cli(['optimize', file, '-o', out, ...flags]);
      return readFileSync(out);
    };
    const { page, errors } = await newPage();

    const exactFile = build('ort-fold-exact', false);
    const withOrt = cliOptimize(exactFile);
    const withoutOrt = cliOptimize(exactFile, '--no-ort-fold');
    expect(Buffer.compare(withOrt, withoutOrt), 'onnxruntime folds what the TypeScript kernels cannot').not.toBe(0);
    await openModel(page, exactFile);
    expect(await page.isChecked('[data-testid="ort-fold"]'), 'onnxruntime folding is on by default, as in the CLI').toBe(true);
    expect(Buffer.compare(await optimizeOnce(page), withOrt), 'byte-identical to onnxkit optimize').toBe(0);
    await page.uncheck('[data-testid="ort-fold"]');
    expect(Buffer.compare(await optimizeOnce(page), withoutOrt), 'byte-identical to onnxkit optimize --no-ort-fold').toBe(0);
    await page.check('[data-testid="ort-fold"]');

    // Sin: onnxruntime's WASM build rounds sin(0.75) to the nearest float32; the native build
    // (vectorized) lands 1 ulp away here. Same graph, same constants but for that last bit.
    const sinFile = build('ort-fold-sin', true);
    await openModel(page, sinFile);
    const pageModel = decodeModelBytes(await optimizeOnce(page)).model;
    const cliModel = decodeModelBytes(cliOptimize(sinFile)).model;
    expect([...pageModel.graph].map((n) => n.opType)).toEqual(['Add', 'Mul']);
    expect([...cliModel.graph].map((n) => n.opType)).toEqual(['Add', 'Mul']);
    let maxUlp = 0;
    for (const [name, v] of cliModel.graph.initializers) {
      const a = new Int32Array(new Float32Array(pageModel.graph.initializers.get(name)!.constValue!.toFloat64()).buffer);
      const b = new Int32Array(new Float32Array(v.constValue!.toFloat64()).buffer);
      expect(a.length, name).toBe(b.length);
      a.forEach((x, i) => (maxUlp = Math.max(maxUlp, Math.abs(x - b[i]!))));
    }
    expect(maxUlp).toBeLessThanOrEqual(1);
    expect(errors).toEqual([]);
    expect(outside).toEqual([]);
    await page.close();
  }, 300_000);

  /** Serves `model` as `onnxkit serve MODEL` does (in this process, to read the bytes it sent), opens the page on it. */
  async function servedPage(model: string): Promise<{ s: StaticServer; page: Page; errors: string[] }> {
    const s = await serveStatic(prebuiltApp(), 0, model);
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.goto(s.url);
    await page.waitForSelector('html[data-state="analyzed"], html[data-state="error"]', { timeout: 120_000 });
    return { s, page, errors };
  }

  it('VGG-16 (553 MB) opens reading its structure only: picked (Blob.slice) and served by `serve MODEL` (HTTP Range requests)', async (ctx) => {
    if (skip) return ctx.skip();
    const file = join(tmp, 'vgg16.onnx');
    cli(['zoo', 'vgg16', '-o', file]);
    const size = statSync(file).size;
    expect(size).toBeGreaterThan(500e6);
    const macs = String((JSON.parse(cli(['analyze', file, '--json'])) as { totals: { macs: number } }).totals.macs);

    const picked = await newPage();
    await openModel(picked.page, file);
    expect(await picked.page.getAttribute('html', 'data-state')).toBe('analyzed');
    expect(await picked.page.getAttribute('[data-testid="total-macs"]', 'data-value')).toBe(macs);
    const pickedRead = Number(await picked.page.getAttribute('[data-testid="bytes-read"]', 'data-value'));
    expect(pickedRead).toBeGreaterThan(0);
    expect(pickedRead, 'the picked file: structure only').toBeLessThan(1 << 20);
    expect(picked.errors).toEqual([]);
    await picked.page.close();

    const { s, page, errors } = await servedPage(file);
    try {
      expect(await page.getAttribute('html', 'data-state'), (await page.textContent('[data-testid="error"]')) ?? '').toBe('analyzed');
      expect(await page.getAttribute('[data-testid="total-macs"]', 'data-value')).toBe(macs);
      const read = Number(await page.getAttribute('[data-testid="bytes-read"]', 'data-value'));
      const sent = s.bytesSent.get('/model/vgg16.onnx') ?? 0;
      // What crossed the wire is what the codec read: the structure, through range requests.
      expect(sent).toBe(read);
      expect(sent, 'bytes of the served model sent to the page').toBeLessThan(1 << 20);
      console.log(`VGG-16 ${size} bytes: the picked file read ${pickedRead} bytes; served, ${sent} bytes sent over HTTP`);
      expect(errors).toEqual([]);
      expect(outside).toEqual([]);
    } finally {
      await page.close();
      await s.close();
    }
  }, 300_000);

  it('a model with external data: dropped with its data file, and served by `serve MODEL` with the file next to it, it optimizes (byte-identical to `onnxkit optimize`) and verifies (the CLI\'s verdict)', async (ctx) => {
    if (skip) return ctx.skip();
    const dir = join(tmp, 'ext-verify');
    mkdirSync(dir, { recursive: true });
    const model = join(dir, 'alexnet.onnx');
    cli(['zoo', 'alexnet', '-o', model, '--external-data']);
    const out = join(tmp, 'alexnet-ext.opt.onnx');
    cli(['optimize', model, '-o', out, '--json']);
    let cliVerdict: string;
    try {
      cliVerdict = (JSON.parse(cli(['verify', model, out, '--seed', '0', '--json'])) as { verdict: string }).verdict;
    } catch (e) {
      cliVerdict = (JSON.parse((e as { stdout: string }).stdout) as { verdict: string }).verdict;
    }
    const optimizeAndVerify = async (page: Page): Promise<void> => {
      await press(page, 'run-optimize');
      await page.waitForSelector('html[data-optimized="done"], html[data-optimized="error"]', { timeout: 180_000 });
      expect(await page.getAttribute('html', 'data-optimized'), (await page.textContent('[data-testid="error"]')) ?? '').toBe('done');
      expect(Buffer.compare(await downloadOf(page, 'download-optimized'), readFileSync(out)), 'the optimized download is byte-identical to the CLI\'s').toBe(0);
      await page.fill('[data-testid="iterations"]', '1');
      await press(page, 'run-verify');
      await page.waitForSelector('html[data-verified="done"], html[data-verified="error"]', { timeout: 240_000 });
      expect(await page.getAttribute('html', 'data-verified'), (await page.textContent('[data-testid="error"]')) ?? '').toBe('done');
      expect(await page.textContent('[data-testid="verdict"]')).toBe(cliVerdict);
    };

    const dropped = await newPage();
    await openModel(dropped.page, [model, `${model}.data`]);
    expect(await dropped.page.getAttribute('html', 'data-state')).toBe('analyzed');
    await optimizeAndVerify(dropped.page);
    expect(dropped.errors).toEqual([]);
    await dropped.page.close();

    const { s, page, errors } = await servedPage(model);
    try {
      expect(await page.getAttribute('html', 'data-state'), (await page.textContent('[data-testid="error"]')) ?? '').toBe('analyzed');
      expect(await page.isHidden('[data-testid="error"]'), 'the server supplies the data file: nothing to ask for').toBe(true);
      // Opening read the structure only; the weights came when optimize needed them.
      expect(s.bytesSent.get('/model/alexnet.onnx.data') ?? 0).toBe(0);
      await optimizeAndVerify(page);
      expect(s.bytesSent.get('/model/alexnet.onnx.data')).toBeGreaterThan(200e6);
      expect(errors).toEqual([]);
      expect(outside).toEqual([]);
    } finally {
      await page.close();
      await s.close();
    }
  }, 600_000);

  it('`serve MODEL` serves only the model and the data files it names, inside its folder; the page names a missing one', async (ctx) => {
    if (skip) return ctx.skip();
    const dir = join(tmp, 'ext-missing');
    mkdirSync(dir, { recursive: true });
    const model = join(dir, 'alexnet.onnx');
    cli(['zoo', 'alexnet', '-o', model, '--external-data']);
    rmSync(`${model}.data`);
    writeFileSync(join(dir, 'secret.txt'), 'not for the page\n');
    const { s, page, errors } = await servedPage(model);
    try {
      // Analysis needs only the structure; the page names the file it needs to optimize.
      expect(await page.getAttribute('html', 'data-state')).toBe('analyzed');
      expect(await page.textContent('[data-testid="error"]')).toMatch(/'alexnet\.onnx\.data'/);
      expect(s.notServed).toEqual(['alexnet.onnx.data']);
      const base = s.url.replace(/\/\?.*$/, '');
      expect((await fetch(`${base}/model/alexnet.onnx`, { method: 'HEAD' })).status).toBe(200);
      expect((await fetch(`${base}/model/secret.txt`)).status).toBe(404);
      expect((await fetch(`${base}/model/alexnet.onnx.data`)).status).toBe(404);
      for (const p of ['/model/../ext-missing/secret.txt', '/model/%2e%2e/ext-missing/secret.txt', '/model/..%2fext-missing%2fsecret.txt', '/model/sub/../secret.txt']) {
        const r = await rawGet(base, p);
        expect([403, 404], p).toContain(r.status);
        expect(r.body, p).not.toContain('not for the page');
      }
      // Range requests: a slice, a suffix, and one past the end.
      const bytes = readFileSync(model);
      const r = await fetch(`${base}/model/alexnet.onnx`, { headers: { range: 'bytes=10-19' } });
      expect(r.status).toBe(206);
      expect(r.headers.get('content-range')).toBe(`bytes 10-19/${bytes.length}`);
      expect(Buffer.from(await r.arrayBuffer())).toEqual(bytes.subarray(10, 20));
      const tail = await fetch(`${base}/model/alexnet.onnx`, { headers: { range: 'bytes=-5' } });
      expect(Buffer.from(await tail.arrayBuffer())).toEqual(bytes.subarray(bytes.length - 5));
      const past = await fetch(`${base}/model/alexnet.onnx`, { headers: { range: `bytes=${bytes.length}-` } });
      expect(past.status).toBe(416);
      expect(past.headers.get('content-range')).toBe(`bytes */${bytes.length}`);
      // Another host name (DNS rebinding) gets nothing.
      expect((await rawGet(base, '/model/alexnet.onnx', 'evil.example:80')).status).toBe(421);
      expect(errors).toEqual([]);
    } finally {
      await page.close();
      await s.close();
    }
  }, 300_000);

  it('bad input served by `serve MODEL` gets a message in the page: not ONNX, truncated', async (ctx) => {
    if (skip) return ctx.skip();
    const bytes = encode(mobilenetv2());
    for (const [file, message] of [
      [modelFile('served-notes.onnx', new TextEncoder().encode('these are not the weights you are looking for\n'.repeat(20))), /not an ONNX model/i],
      [modelFile('served-truncated.onnx', bytes.subarray(0, Math.floor(bytes.length / 2))), /truncated|damaged|ends/i],
    ] as const) {
      const { s, page, errors } = await servedPage(file);
      try {
        expect(await page.getAttribute('html', 'data-state'), file).toBe('error');
        expect(await page.textContent('[data-testid="error"]')).toMatch(message);
        expect(errors).toEqual([]);
      } finally {
        await page.close();
        await s.close();
      }
    }
  }, 120_000);

  it('the server refuses path traversal and serves files only', async (ctx) => {
    if (skip) return ctx.skip();
    const base = server.url.replace(/\/$/, '');
    const get = async (path: string, method = 'GET'): Promise<number> => (await fetch(base + path, { method })).status;
    expect(await get('/index.html')).toBe(200);
    const raw = (path: string): Promise<{ status: number; body: string }> => rawGet(base, path);
    for (const p of ['/../../../../etc/passwd', '/..%2f..%2f..%2fetc%2fpasswd', '/%2e%2e/%2e%2e/etc/passwd', '/..\\..\\etc\\passwd', '/x/%00']) {
      const r = await raw(p);
      expect([400, 403, 404], p).toContain(r.status);
      expect(r.body).not.toContain('root:');
    }
    expect((await raw('/..%2f..%2fetc%2fpasswd')).status).toBe(403);
    expect(await get('/nope.js')).toBe(404);
    expect(await get('/index.html', 'POST')).toBe(405);
  });
});
