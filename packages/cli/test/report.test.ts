/**
 * Unit tests of the HTML report's renderer (packages/cli/src/report): escaping of hostile model
 * strings, sections present according to the optional data, the embedded JSON round trip,
 * determinism, bad input, the inlined chart library, formatting and the adapters. The real
 * browser checks are in report.browser.test.ts.
 */
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cloneModel, DataType, GraphBuilder, OnnxkitError, Tensor, type Model } from '@onnxkit/graph';
import { analyzeModel, planQdq, quantizeQdq, runPipeline, type PipelineReport } from '@onnxkit/passes';
import type { VerifyReport } from '@onnxkit/runtime';
import { mobilenetv2, resnet50 } from '@onnxkit/zoo';
import { beforeAll, describe, expect, it } from 'vitest';
import { fmtBytes, fmtChange, fmtInt, fmtSI, fmtSeconds, fmtShape } from '../src/report/format.js';
import { inlineScript } from '../src/report/escape.js';
import {
  chartJsPath,
  chartJsSource,
  DATA_ELEMENT_ID,
  escapeHtml,
  jsonForScript,
  optimizedData,
  passChanges,
  renderReport,
  ReportError,
  reportSections,
  summarizeModel,
  validateReportData,
  verificationData,
  type ReportData,
  type ReportLatency,
  type ReportQuantized,
  type ReportVerification,
} from '../src/report/index.js';
import { browserAvailability } from './browser/chromium.js';

const EVIL = '</script><script>window.__pwned=1</script><!-- <img src=x onerror="alert(1)"> "quoted" \'single\' & \u2028';

/** The text of the embedded JSON element, found without trusting the renderer's own helpers. */
function embeddedJson(html: string): string {
  const open = `<script type="application/json" id="${DATA_ELEMENT_ID}">`;
  const start = html.indexOf(open);
  expect(start).toBeGreaterThan(0);
  const end = html.indexOf('</script>', start + open.length);
  return html.slice(start + open.length, end);
}

/** The page without its three script elements: what the browser renders as markup. */
function markup(html: string): string {
  return html.replace(/<script\b[^>]*>[\s\S]*?<\/script>/g, '<script></script>');
}

/** Substring checks that name the missing text instead of printing a 500 KB page. */
function expectIn(html: string, s: string): void {
  expect(html.includes(s), `expected the page to contain ${JSON.stringify(s)}`).toBe(true);
}
function expectNotIn(html: string, s: string): void {
  expect(html.includes(s), `expected the page not to contain ${JSON.stringify(s)}`).toBe(false);
}

/** A small real model whose every name is hostile: graph, node, input, output, metadata. */
function hostileModel(): Model {
  const b = new GraphBuilder({ name: `graph ${EVIL}` });
  const x = b.input(`in ${EVIL}`, DataType.FLOAT, [1, 3, 8, 8]);
  const w = b.constant(`w ${EVIL}`, Tensor.fromNumbers(DataType.FLOAT, [4, 3, 3, 3], new Float32Array(108).fill(0.5)));
  const y = b.op('Conv', [x, w], { pads: [1, 1, 1, 1] }, { name: `conv ${EVIL}` });
  const z = b.op('Relu', [y], {}, { name: `relu ${EVIL}` });
  b.output(z, `out ${EVIL}`);
  return b.build({ producerName: `producer ${EVIL}`, docString: `doc ${EVIL}`, metadataProps: new Map([[`key ${EVIL}`, `value ${EVIL}`]]) });
}

function dataFor(model: Model, extra: Partial<ReportData> = {}): ReportData {
  return { model: summarizeModel(model, { file: `dir/${EVIL}.onnx`, fileBytes: 1234 }), analysis: analyzeModel(model), ...extra };
}

const verification: ReportVerification = {
  equivalent: true,
  reason: null,
  tolerance: { atol: null, rtol: null },
  outputs: [{ name: 'output', dtypeA: 'float', shapeA: [1, 1000], atol: 1e-5, rtol: 1e-4, mismatches: 0, pass: true, maxAbsError: 3.1e-6, maxRelError: 2e-5, cosine: 0.9999999997, total: 1000 }],
  compared: 1000,
};
const latency: ReportLatency = { original: { p50Ms: 41.5, p90Ms: 44.25 }, optimized: { p50Ms: 37.75, p90Ms: 40 }, ratio: 0.91, threads: 1 };

describe('escaping', () => {
  it('escapes HTML special characters, quotes included', () => {
    expect(escapeHtml(`<a href="x">'&'</a>`)).toBe('&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
  });

  it('makes JSON safe inside <script>: no <, > or & survive, and it parses back', () => {
    const value = { name: EVIL, nested: [EVIL, 1.5, null, true] };
    const s = jsonForScript(value);
    expect(s).not.toMatch(/[<>&\u2028]/);
    expect(JSON.parse(s)).toEqual(value);
  });

  it('inlines scripts with </script escaped and refuses <!--', () => {
    expect(inlineScript('var s = "</script>"; var r = /<\\/SCRIPT/;', 'x')).toBe('var s = "<\\/script>"; var r = /<\\/SCRIPT/;');
    expect(() => inlineScript('var s = "<!--";', 'the test script')).toThrow(/the test script contains '<!--'/);
  });

  it('renders a model whose every string is hostile as inert text', () => {
    const model = hostileModel();
    const html = renderReport(dataFor(model));
    // Exactly our three script elements: data, Chart.js, the report script.
    expect(html.match(/<script\b/gi)).toHaveLength(3);
    expect(html.match(/<\/script/gi)).toHaveLength(3);
    expectNotIn(html, '<img');
    expectNotIn(html, '<!--');
    expectNotIn(html, 'window.__pwned=1</script>');
    expect(html).not.toMatch(/onerror="alert/);
    // …and the strings are still there, escaped, in the header, table and metadata.
    const escaped = escapeHtml(EVIL);
    expectIn(html, `<h1>${escapeHtml(`graph ${EVIL}`)}</h1>`);
    expectIn(html, `>${escapeHtml(`conv ${EVIL}`)}</td>`);
    expectIn(html, `>${escapeHtml(`key ${EVIL}`)}</th>`);
    expectIn(html, escapeHtml(`in ${EVIL}`));
    expect(html.split(escaped).length - 1).toBeGreaterThanOrEqual(8);
    // The embedded JSON carries the raw strings back.
    const back = JSON.parse(embeddedJson(html)) as ReportData;
    expect(back.model.name).toBe(`graph ${EVIL}`);
    expect(back.analysis.layers.map((l) => l.name)).toEqual([`conv ${EVIL}`, `relu ${EVIL}`]);
  });
});

describe('renderReport on ResNet-50', () => {
  let original: Model;
  let optimized: Model;
  let pipeline: PipelineReport;
  let base: ReportData;
  let full: ReportData;

  beforeAll(async () => {
    original = resnet50();
    optimized = cloneModel(original);
    pipeline = await runPipeline(optimized, 'default');
    base = { model: summarizeModel(original), analysis: analyzeModel(original) };
    full = {
      ...base,
      optimized: optimizedData(summarizeModel(optimized, { name: 'resnet50-opt' }), analyzeModel(optimized), pipeline, 'default'),
      verification,
      latency,
    };
  });

  it('embeds the data as JSON that parses back to exactly the input', () => {
    const html = renderReport(full);
    expect(JSON.parse(embeddedJson(html))).toEqual(JSON.parse(JSON.stringify(full)));
  });

  it('is deterministic: the same data renders the same bytes, with no clock in it', () => {
    const a = renderReport(full);
    const b = renderReport(JSON.parse(JSON.stringify(full)) as ReportData);
    expect(b).toBe(a);
    const year = String(new Date().getUTCFullYear());
    expect(a.replace(chartJsSource(), '')).not.toContain(year);
    const stamped = renderReport({ ...full, generatedAt: '2001-02-03 04:05' });
    expectIn(stamped, 'on 2001-02-03 04:05');
  });

  it('shows sections according to the optional data', () => {
    const sections = (html: string) => [...html.matchAll(/<section class="sec" id="([a-z]+)" data-section="\1">/g)].map((m) => m[1]);
    const charts = (html: string) => [...html.matchAll(/<canvas id="([a-z-]+)"/g)].map((m) => m[1]);
    const core = ['overview', 'layers', 'roofline', 'memory', 'table', 'conventions'];

    const plain = renderReport(base);
    expect(sections(plain)).toEqual(core);
    expect(charts(plain)).toEqual(['chart-macs', 'chart-params', 'chart-activations', 'chart-roofline', 'chart-memory']);
    expectNotIn(markup(plain), 'data-toggle="view"');
    expect(reportSections(base)).toEqual(core);

    const withOpt = renderReport({ ...base, optimized: full.optimized });
    expect(sections(withOpt)).toEqual(['overview', 'layers', 'roofline', 'memory', 'comparison', 'table', 'conventions']);
    expect(charts(withOpt)).toContain('chart-ops');
    expectIn(markup(withOpt), 'data-toggle="view"');
    expectIn(withOpt, 'Not verified in this report');
    expectNotIn(withOpt, 'data-block="latency"');

    const measuredOnly = renderReport({ ...base, latency: { original: { p50Ms: 10, p90Ms: 12 }, threads: 2 } });
    expect(sections(measuredOnly)).toEqual(['overview', 'layers', 'roofline', 'memory', 'measurements', 'table', 'conventions']);
    expectIn(measuredOnly, 'data-block="latency"');
    expectNotIn(measuredOnly, 'data-block="verification"');

    const everything = renderReport(full);
    expectIn(everything, 'data-block="verification"');
    expectIn(everything, 'data-block="latency"');
    expectIn(everything, '✓ equivalent');
    expectIn(everything, '×0.91');
    expectIn(everything, '9% faster'); // no interval given: the median speaks for itself

    // A ratio whose confidence interval spans 1 is not called faster or slower.
    // One confidence level everywhere: 95% is printed whatever the exact coverage of the order statistics.
    const noisy = renderReport({ ...full, latency: { ...latency, ratio: 0.997, ratioCi: { low: 0.99, high: 1.004, level: 0.95, coverage: 0.967, reached: true } } });
    expectIn(noisy, '95% confidence interval ×0.990–×1.004');
    expectNotIn(noisy, '96%');
    expectNotIn(noisy, '97%');
    expectIn(noisy, 'no difference beyond the measurement noise');
    expectNotIn(noisy, 'faster');
    const clear = renderReport({ ...full, latency: { ...latency, ratio: 0.9, ratioCi: { low: 0.88, high: 0.92, level: 0.95, coverage: 0.96, reached: true } } });
    expectIn(clear, '10% faster');
    // The card and the comparison table state the same speed-up (not a ratio of p50s beside it).
    const changes = [...clear.matchAll(/×0\.900 \(−10\.0%\)/g)];
    expect(changes.length).toBeGreaterThanOrEqual(2);
    const tooFew = renderReport({ ...full, latency: { ...latency, ratio: 0.9, ratioCi: { low: 0.88, high: 0.92, level: 0.95, coverage: 0.75, reached: false } } });
    expectIn(tooFew, 'too few pairs for a 95% interval');
    expectIn(tooFew, 'no difference beyond the measurement noise');

    const failed = renderReport({ ...full, verification: { ...verification, equivalent: false, reason: 'output differs', outputs: [{ ...verification.outputs[0]!, pass: false, mismatches: 7 }] } });
    expectIn(failed, '✗ not equivalent');
    expectIn(failed, 'output differs');
  });

  it('has one table row per layer, with sortable numeric values', () => {
    const html = renderReport(full);
    const table = html.slice(html.indexOf('<table class="layers" data-table="layers" data-view="original"'), html.indexOf('</table>', html.indexOf('data-view="original" data-rows')));
    const rows = table.match(/<tr data-i="/g) ?? [];
    expect(rows).toHaveLength(base.analysis.layers.length);
    // The MACs cell of each row carries the exact number for numeric sorting.
    const macsIndex = 6;
    const values = [...table.matchAll(/<tr data-i="(\d+)">((?:<td[^>]*>.*?<\/td>)+)<\/tr>/g)].map((m) => [...m[2]!.matchAll(/<td([^>]*)>/g)][macsIndex]![1]);
    expect(values).toHaveLength(base.analysis.layers.length);
    values.forEach((attrs, i) => expect(attrs).toContain(`data-v="${base.analysis.layers[i]!.macs}"`));
    // The optimized model's table is there too, hidden until the view is switched.
    expectIn(html, `data-view="optimized" data-rows="${full.optimized!.analysis.layers.length}"`);
  });

  it('writes the headline numbers with thousands separators and human sizes', () => {
    const html = renderReport(full);
    const t = base.analysis.totals;
    expect(t.params).toBe(25_557_032);
    expectIn(html, '25,557,032');
    expectIn(html, '4,089,184,256');
    expectIn(html, '25.6 M');
    expectIn(html, '4.09 G');
    expectIn(html, fmtBytes(t.modelSizeBytes));
    expect(fmtBytes(t.modelSizeBytes)).toMatch(/^97\.\d MiB$/);
    expectIn(html, escapeHtml(base.analysis.convention));
  });

  it('inlines Chart.js and loads nothing from elsewhere', () => {
    const html = renderReport(base);
    expectIn(html, 'Chart.js v4.6.1');
    expect(html.length).toBeGreaterThan(200_000);
    expect(html).not.toMatch(/<script[^>]+src=/i);
    expect(html).not.toMatch(/<link\b/i);
    expect(html).not.toMatch(/sourceMappingURL/);
    expect(html).not.toMatch(/\s(src|href)="(?!#)/);
    expect(html).not.toMatch(/@import|url\(/);
  });

  it('uses a given Chart.js source instead of the installed one', () => {
    const html = renderReport(base, { chartJs: '/* stand-in */ window.Chart = undefined;' });
    expectIn(html, '/* stand-in */');
    expectNotIn(html, 'Chart.js v4.6.1');
  });

  it('rejects malformed data with a ReportError naming the field', () => {
    const bad = (d: unknown) => () => renderReport(d as ReportData);
    expect(bad(null)).toThrow(ReportError);
    expect(bad({ model: base.model })).toThrow(/report data: analysis must be an object, got nothing/);
    const layers = base.analysis.layers.map((l, i) => (i === 3 ? { ...l, macs: 'many' } : l));
    expect(bad({ ...base, analysis: { ...base.analysis, layers } })).toThrow(/analysis\.layers\[3\]\.macs must be a finite number or null, got "many"/);
    expect(bad({ ...base, analysis: { ...base.analysis, device: { ...base.analysis.device, memoryBandwidth: 0 } } })).toThrow(/analysis\.device\.memoryBandwidth must be a positive number/);
    expect(bad({ ...full, optimized: { ...full.optimized!, passes: [{ pass: 'x' }] } })).toThrow(/optimized\.passes\[0\]\.changes/);
    expect(bad({ ...base, latency: { original: { p50Ms: 1 }, threads: 1 } })).toThrow(/latency\.original\.p90Ms/);
    try {
      validateReportData({ ...base, model: { ...base.model, name: 7 } });
      expect.unreachable('a numeric model name must be rejected');
    } catch (e) {
      expect(e).toBeInstanceOf(OnnxkitError);
      expect((e as ReportError).code).toBe('REPORT_INVALID_DATA');
      expect((e as ReportError).message).toContain('model.name must be a string, got 7');
      expect((e as ReportError).hint).toMatch(/summarizeModel/);
    }
  });
});

describe('renderReport with a symbolic batch', () => {
  it('shows symbolic MACs as an expression and unknown totals as unknown, never as 0', () => {
    const model = mobilenetv2({ batch: 'N' });
    const analysis = analyzeModel(model);
    expect(analysis.totals.macsExpr).toMatch(/\*N$/);
    const html = renderReport({ model: summarizeModel(model), analysis });
    const cards = html.slice(html.indexOf('<div class="cards">'), html.indexOf('</section>', html.indexOf('<div class="cards">')));
    const card = (label: string) => cards.slice(cards.indexOf(`<div class="label">${label}</div>`)).match(/<div class="value">(.*?)<\/div><div class="exact">(.*?)<\/div>/)!;
    const coefficient = Number(analysis.totals.macsExpr!.split('*')[0]);
    expect(card('MACs')[1]).toBe(`${fmtSI(coefficient)}·N`);
    expect(card('MACs')[2]).toBe(`${analysis.totals.macsExpr} (symbolic dims)`);
    // FLOPs are an expression too, with the coefficient of the batch-1 analysis.
    const perSample = analyzeModel(model, { dimValues: { N: 1 } }).totals.flops;
    expect(analysis.totals.flopsExpr).toBe(`${perSample}*N`);
    expect(card('FLOPs')[1]).toBe(`${fmtSI(perSample)}·N`);
    expect(card('Estimated latency')[1]).toBe('unknown');
    // A symbolic layer's MACs cell shows its expression and has no sort value.
    const conv = analysis.layers.find((l) => l.opType === 'Conv')!;
    expect(conv.macs).toBeNull();
    const row = html.slice(html.indexOf(`<tr data-i="${conv.index}">`), html.indexOf('</tr>', html.indexOf(`<tr data-i="${conv.index}">`)));
    expectIn(row, `<td class="num" title="${escapeHtml(conv.unknown!.join('; '))}">${escapeHtml(conv.macsExpr!)}</td>`);
  });
});

describe("renderReport: the lecture's other costs (issue 16.6)", () => {
  it('shows the energy estimate with its cited per-op energies and the training memory', () => {
    const model = mobilenetv2({ weights: 'zeros' });
    const analysis = analyzeModel(model, { trainingBatch: 16 });
    const html = renderReport({ model: summarizeModel(model), analysis });
    expect(html).toContain('<div class="label">Estimated energy</div>');
    expect(html).toContain('DRAM read 640 pJ, SRAM read 5 pJ, float mult 3.7 pJ, add 0.9 pJ, int8 mult 0.2 pJ, int32 add 0.1 pJ');
    expect(html).toContain('Horowitz');
    expect(html).toContain('<div class="label">Training memory (batch 16)</div>');
    expect(html).toContain(`${fmtBytes(analysis.totals.training.totalBytes.adam)} Adam`);
    expect(html).toMatch(/data-key="energy"/);
  });

  it('the layer table has an integer-OPs column for an integer model: a QLinearConv shows its intOps', () => {
    const b = new GraphBuilder({ opset: 17 });
    const U8 = DataType.UINT8;
    const x = b.input('x', U8, [1, 8, 16, 16]);
    const s = b.constant('s', Tensor.fromArray(DataType.FLOAT, [], new Float32Array([0.1])));
    const zx = b.constant('zx', Tensor.fromArray(U8, [], new Uint8Array([128])));
    const w = b.constant('w', Tensor.fromArray(DataType.INT8, [16, 8, 3, 3], new Int8Array(16 * 8 * 9).fill(1)));
    const y = b.op('QLinearConv', [x, s, zx, w, s, zx, s, zx], { pads: [1, 1, 1, 1] }, { name: 'qconv' });
    const f = b.op('DequantizeLinear', [y, s, zx], {}, { name: 'dq' });
    b.output(f);
    const model = b.build();
    const analysis = analyzeModel(model);
    const html = renderReport({ model: summarizeModel(model), analysis });
    expect(html).toMatch(/data-key="intOps"[^>]*>int OPs</);
    // A float model's table has no integer column.
    expect(renderReport({ model: summarizeModel(mobilenetv2({ weights: 'zeros' })), analysis: analyzeModel(mobilenetv2({ weights: 'zeros' })) })).not.toMatch(/data-key="intOps"/);
    const q = analysis.layers.find((l) => l.name === 'qconv')!;
    expect(q.intOps).toBeGreaterThan(2 * q.macs!);
    const row = html.slice(html.indexOf(`<tr data-i="${q.index}">`), html.indexOf('</tr>', html.indexOf(`<tr data-i="${q.index}">`)));
    expectIn(row, `<td class="num" data-v="${q.intOps}">${fmtInt(q.intOps)}</td>`);
  });
});

describe('renderReport: the int8 model beside fp32 (issue 11.7)', () => {
  it('shows size, MACs, integer OPs, roofline, energy, measured latency and SQNR; rejects a malformed block naming the field', async () => {
    const fp32 = mobilenetv2({ seed: 0 });
    await runPipeline(fp32, ['fold-batchnorm']);
    const int8 = cloneModel(fp32);
    const q = quantizeQdq(int8, { ranges: new Map(planQdq(int8).tensors.map((n) => [n, { min: -4, max: 4 }])) });
    const a = analyzeModel(fp32);
    const b = analyzeModel(int8);
    const quantized: ReportQuantized = {
      reference: 'the optimized model (default)',
      fp32: { analysis: a, fileBytes: 14_000_000 },
      int8: { model: summarizeModel(int8, { name: 'mbv2 (int8)', fileBytes: 3_900_000 }), analysis: b },
      calibration: { method: 'percentile', percentile: 99.99, source: 'calib/', samples: 8, msPerSample: 120 },
      evaluation: { source: '2 held-back sample(s) of --calibration', samples: 2 },
      layers: q.layers.length,
      fusedActivations: q.fusedActivations.length,
      // A neighbour-less node is not listed (the section names layers kept in float for a reason of their own).
      skipped: [
        { node: 'odd', opType: 'Erf', code: 'input-not-float', reason: 'input is not float32' },
        { node: 'lonely', opType: 'Relu', code: 'no-quantized-neighbour', reason: 'no quantized neighbour' },
      ],
      accuracy: { overall: { name: 'all outputs', sqnrDb: 21.25, maxAbsError: 0.125, meanAbsError: 0.03 }, outputs: [{ name: 'output', sqnrDb: 21.25, maxAbsError: 0.125, meanAbsError: 0.03 }, { name: 'exact', sqnrDb: null, maxAbsError: 0, meanAbsError: 0 }] },
      latency: { original: { p50Ms: 30, p90Ms: 33 }, optimized: { p50Ms: 15, p90Ms: 16 }, ratio: 0.5, ratioCi: { low: 0.45, high: 0.55, level: 0.95 }, threads: 1, graphOptimizationLevel: 'all' },
    };
    const data: ReportData = { model: summarizeModel(fp32), analysis: a, quantized };
    const html = renderReport(data);
    expect(reportSections(data)).toEqual(['overview', 'layers', 'roofline', 'memory', 'quantized', 'table', 'conventions']);
    const sec = html.slice(html.indexOf('<section class="sec" id="quantized"'), html.indexOf('</section>', html.indexOf('<section class="sec" id="quantized"')));
    expectIn(sec, 'output SQNR 21.3 dB');
    expectIn(sec, 'fp32 side: the optimized model (default)');
    expectIn(sec, 'Calibration: percentile 99.99 on calib/ (8 samples');
    expectIn(sec, `<td>weights as stored</td><td class="num" data-v="${a.totals.modelSizeBytes}">${fmtBytes(a.totals.modelSizeBytes)}</td><td class="num" data-v="${b.totals.modelSizeBytes}">${fmtBytes(b.totals.modelSizeBytes)}</td>`);
    expectIn(sec, `<td>integer OPs</td><td class="num" data-v="0">0</td><td class="num" data-v="${b.totals.intOps}">${fmtInt(b.totals.intOps)}</td>`);
    expectIn(sec, `<td>MACs</td><td class="num" data-v="${a.totals.macs}">`);
    expectIn(sec, `<td>estimated latency as onnxruntime runs it, level all (jetson-agx-orin, int8 at 85 TOP/s)</td><td class="num" data-v="${a.totals.latency.asExecuted.all.seconds}">`);
    // The fused QDQ kernels: the int8 estimate as executed is below fp32's.
    expect(b.totals.latency.asExecuted.all.seconds!).toBeLessThan(a.totals.latency.asExecuted.all.seconds!);
    expectIn(sec, '<td>estimated energy</td>');
    expectIn(sec, '<td>measured latency p50</td><td class="num" data-v="30">');
    expectIn(sec, '×0.500 (−50.0%)');
    expectIn(sec, '<td class="mono">exact</td><td class="num">∞</td>');
    expectIn(sec, 'Kept in float: odd (input is not float32)');
    expect(sec).not.toContain('lonely');
    expectIn(sec, 'Speed-up, int8 / fp32 — the median over interleaved pairs');
    expectIn(sec, '<tr><td>fp32</td><td class="num" data-v="30">');
    expect(b.totals.modelSizeBytes / a.totals.modelSizeBytes).toBeLessThan(0.3);
    const bad = (d: unknown) => () => renderReport(d as ReportData);
    expect(bad({ ...data, quantized: { ...quantized, accuracy: { ...quantized.accuracy, overall: { ...quantized.accuracy.overall, sqnrDb: 'high' } } } })).toThrow(/quantized\.accuracy\.overall\.sqnrDb must be a finite number or null/);
    expect(bad({ ...data, quantized: { ...quantized, int8: { ...quantized.int8, analysis: undefined } } })).toThrow(/quantized\.int8\.analysis must be an object/);
  }, 60_000);
});

describe('renderReport: furthest from the roof (issue 16.3)', () => {
  it('lists measured / as-executed estimate per layer, largest first', () => {
    const model = mobilenetv2({ weights: 'zeros' });
    const analysis = analyzeModel(model);
    const named = analysis.layers.filter((l) => !l.constant).slice(0, 3);
    const perLayer = named.map((l, i) => ({ name: l.name, measuredUs: 10 * (i + 1), estimatedUs: 5, ratio: 2 * (i + 1) }));
    const html = renderReport({ model: summarizeModel(model), analysis, latency: { original: { p50Ms: 1, p90Ms: 1 }, threads: 1, graphOptimizationLevel: 'all', perLayer } });
    const table = html.slice(html.indexOf('data-table="furthest"'));
    const order = [...table.matchAll(/<td class="name mono">(.*?)<\/td>/g)].map((m) => m[1]).slice(0, 3);
    expect(order).toEqual([named[2]!.name, named[1]!.name, named[0]!.name].map(escapeHtml));
    expect(html).toContain('as onnxruntime executes it (level all)');
  });
});

describe('adapters', () => {
  it('summarizes a model: interface, metadata, node count and op histogram', () => {
    const m = resnet50();
    const s = summarizeModel(m, { file: 'models/resnet50.onnx', fileBytes: 99 });
    expect(s.name).toBe('resnet50');
    expect(s.file).toBe('models/resnet50.onnx');
    expect(s.fileBytes).toBe(99);
    expect(s.opset).toBe(17);
    expect(s.nodes).toBe(m.graph.nodeCount);
    // ResNet-50: 53 convolutions (49 in the bottlenecks + conv1 + 3 downsamples), each with a BN.
    expect(s.opHistogram.Conv).toBe(53);
    expect(s.opHistogram.BatchNormalization).toBe(53);
    expect(Object.values(s.opHistogram).reduce((a, b) => a + b, 0)).toBe(m.graph.nodeCount);
    expect(Object.keys(s.opHistogram)[0]).toBe('BatchNormalization');
    expect(s.inputs).toEqual([{ name: 'input', dtype: 'float', shape: [1, 3, 224, 224] }]);
    expect(s.outputs).toEqual([{ name: 'output', dtype: 'float', shape: [1, 1000] }]);
    expect(s.metadata['zoo.model']).toBe('resnet50');
    expect(summarizeModel(m, { file: 'x/y/net.onnx' }).name).toBe('resnet50');
  });

  it('takes the per-pass changes of a real pipeline run', async () => {
    const m = resnet50();
    const report = await runPipeline(m, 'default');
    const passes = passChanges(report);
    expect(passes.map((p) => p.pass)).toEqual(report.pipeline);
    expect(passes.reduce((s, p) => s + p.changes, 0)).toBe(report.totalChanges);
    const bn = passes.find((p) => p.pass === 'fold-batchnorm')!;
    expect(bn.changes).toBe(53);
    expect(bn.nodesRemoved - bn.nodesAdded).toBe(53);
    expect(bn.bytesDelta).toBeLessThan(0);
  });

  it('maps a VerifyReport, describing the inputs and the first divergence', () => {
    const comparison = {
      name: 'y', dtypeA: 'float', dtypeB: 'float', shapeA: [2], shapeB: [2], exact: false, atol: 1e-5, rtol: 1e-4, total: 2, compared: 2, mismatches: 1, pass: false,
      reason: '1 of 2 elements differ', maxAbsError: 0.5, meanAbsError: 0.25, medianAbsError: 0.25, p99AbsError: 0.5, maxRelError: 0.25, meanRelError: 0.125,
      medianRelError: 0.125, p99RelError: 0.25, cosine: 0.98, nan: { a: 0, b: 0 }, inf: { a: 0, b: 0 },
    };
    const v = {
      equivalent: false,
      reason: "output 'y' differs",
      models: { a: 'A', b: 'B' },
      outputs: [comparison],
      compared: 2,
      inputs: { source: 'synthetic', seed: 3, distribution: 'uniform', range: [-1, 1], mean: null, std: null, shapes: { x: [1, 2] } },
      tolerance: { atol: null, rtol: null, perOutput: {} },
      firstDivergence: { value: 'h', node: { name: 'n1', opType: 'Mul' }, nodeIndex: 4, comparison: { ...comparison, name: 'h', maxAbsError: 0.75 } },
      timings: { createMs: { a: 1, b: 1 }, runMs: { a: 1, b: 1 }, compareMs: 1, totalMs: 3 },
    } as unknown as VerifyReport;
    const r = verificationData(v, 'disabled');
    expect(r.equivalent).toBe(false);
    expect(r.inputs).toBe('synthetic uniform [-1, 1), seed 3; x 1×2');
    expect(r.firstDivergence).toEqual({ value: 'h', node: 'n1', opType: 'Mul', maxAbsError: 0.75 });
    expect(r.graphOptimizationLevel).toBe('disabled');
    expect(r.outputs[0]).toMatchObject({ name: 'y', maxAbsError: 0.5, maxRelError: 0.25, cosine: 0.98, mismatches: 1, pass: false });
    const html = renderReport({ ...dataFor(hostileModel()), verification: r });
    expectIn(html, 'First diverging value: <code>h</code> from Mul <code>n1</code>');
  });
});

describe('formatting', () => {
  it('formats counts, sizes, durations, changes and shapes', () => {
    expect(fmtInt(1234567.4)).toBe('1,234,567');
    expect(fmtInt(null)).toBe('—');
    expect(fmtSI(999)).toBe('999');
    expect(fmtSI(1500)).toBe('1.5 K');
    expect(fmtSI(5.3e12, 'FLOP/s')).toBe('5.3 TFLOP/s');
    expect(fmtSI(999_600)).toBe('1 M');
    expect(fmtBytes(512)).toBe('512 B');
    expect(fmtBytes(1536)).toBe('1.5 KiB');
    expect(fmtBytes(3 * 1024 ** 3)).toBe('3 GiB');
    expect(fmtSeconds(4.45e-5)).toBe('44.5 µs');
    expect(fmtSeconds(0.00278)).toBe('2.78 ms');
    expect(fmtChange(200, 150)).toBe('−25%');
    expect(fmtChange(100, 100.004)).toBe('+<0.01%');
    expect(fmtChange(0, 3)).toBe('+∞');
    expect(fmtShape(['N', 3, null])).toBe('N×3×?');
    expect(fmtShape(null)).toBe('?');
  });
});

describe('environment', () => {
  it('finds the Chart.js 4 UMD build shipped with chart.js', () => {
    const p = chartJsPath();
    expect(p.endsWith(join('dist', 'chart.umd.js'))).toBe(true);
    expect(existsSync(p)).toBe(true);
    expect(chartJsSource()).toMatch(/^\/\*!\s*\n \* Chart\.js v4\./);
  });

  it('fails with the install command when Chromium is missing, and skips only when explicitly allowed', () => {
    const missing = join(tmpdir(), 'onnxkit-no-such-chromium');
    expect(() => browserAvailability(missing, {})).toThrow(/apt-get install chromium/);
    expect(() => browserAvailability(missing, { ONNXKIT_ALLOW_NO_BROWSER: '0' })).toThrow(/ONNXKIT_ALLOW_NO_BROWSER=1/);
    const skip = browserAvailability(missing, { ONNXKIT_ALLOW_NO_BROWSER: '1' });
    expect(skip.status).toBe('skip');
    expect(skip.status === 'skip' && skip.reason).toMatch(/apt-get install chromium/);
    expect(browserAvailability(process.execPath, {})).toEqual({ status: 'ok' });
  });
});
