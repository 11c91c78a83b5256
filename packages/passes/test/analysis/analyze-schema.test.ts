/**
 * Issue 16.1: every `analyze --json` output validates against the published JSON Schema
 * (docs/analyze.schema.json) — the zoo (static and symbolic), the fixtures and the whole ONNX
 * backend corpus — and no whole-model total is a partial sum in JSON, CSV or Netron output.
 * Printed expressions parse back: evaluated at random bindings they equal the analysis pinned
 * at the same bindings.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import AjvModule, { type ErrorObject } from 'ajv';
import { describe, expect, it } from 'vitest';
import { load } from '@onnxkit/importer';
import type { Model } from '@onnxkit/graph';
import { alexnet, mobilenetv2, resnet50, transformer } from '@onnxkit/zoo';
import {
  ANALYSIS_SCHEMA_VERSION,
  analysisToCsv,
  analysisToJson,
  analyzeModel,
  evaluateDimExpr,
  formatAnalysisTable,
  formatExpr,
  toNetronAttachment,
  type AnalysisReport,
} from '../../src/analysis/index.js';
import { CORPUS_ROOT, corpusAvailable, corpusTests } from './corpus.js';

const ROOT = new URL('../../../../', import.meta.url).pathname;
const schema = JSON.parse(readFileSync(join(ROOT, 'docs/analyze.schema.json'), 'utf8'));
// ajv is CommonJS: its default export arrives as the module object under NodeNext.
const Ajv = (AjvModule as unknown as { default: typeof AjvModule.default }).default;
const ajv = new Ajv({ allErrors: true, strict: false });
const validate = ajv.compile(schema);

/** Validates the JSON text of a report; returns the error list (empty when valid). */
function schemaErrors(r: AnalysisReport): string[] {
  const doc = JSON.parse(analysisToJson(r));
  if (validate(doc)) return [];
  return (validate.errors ?? []).slice(0, 5).map((e: ErrorObject) => `${e.instancePath} ${e.message} ${JSON.stringify(e.params)}`);
}

/** The model-level totals of the JSON, CSV and Netron outputs never hold a partial sum. */
function expectNoPartialTotals(r: AnalysisReport, label: string): void {
  const t = r.totals;
  const netron = toNetronAttachment(r).metrics.filter((m) => m.kind === 'model');
  const csvTotals = analysisToCsv(r).split('\n').find((l) => l.startsWith('# totals:'))!;
  const field = (k: string) => new RegExp(`(?:^| )${k}=([^ ]*)`).exec(csvTotals)?.[1];
  if (t.macs === null) {
    expect(netron.find((m) => m.name === 'MACs')!.value, `${label} netron MACs`).toBe(t.macsExpr ?? '?');
    expect(field('macs'), `${label} csv macs`).toBe('');
  } else expect(field('macs')).toBe(String(t.macs));
  if (t.latency.seconds === null) {
    expect(netron.find((m) => m.name === 'latency estimate (µs)')!.value, `${label} netron latency`).toBe('?');
    expect(field('latencySeconds')).toBe('');
  }
  if (t.unknownLayers > 0) expect(t.flops, label).toBeNull();
  if (r.layers.some((l) => l.macs === null)) expect(t.macs, label).toBeNull();
  if (r.layers.some((l) => l.flops === null)) expect(t.flops, label).toBeNull();
  if (r.layers.some((l) => l.latency === null && !l.constant)) expect(t.latency.seconds, label).toBeNull();
  expect(formatAnalysisTable(r), label).not.toMatch(/≥/);
}

function check(r: AnalysisReport, label: string): void {
  expect(r.schemaVersion).toBe(ANALYSIS_SCHEMA_VERSION);
  expect(schemaErrors(r), label).toEqual([]);
  expectNoPartialTotals(r, label);
}

describe('analyze --json against docs/analyze.schema.json', () => {
  it('the schema rejects a partial sum in a symbolic total and a null total without a reason', () => {
    const r = JSON.parse(analysisToJson(analyzeModel(resnet50({ batch: 'N', weights: 'zeros' }))));
    expect(validate(r)).toBe(true);
    expect(validate({ ...r, totals: { ...r.totals, macs: 0 } })).toBe(false);
    const layers = r.layers.map((l: Record<string, unknown>, i: number) => (i === 0 ? { ...l, macs: null, macsExpr: undefined, unknown: undefined } : l));
    expect(validate(JSON.parse(JSON.stringify({ ...r, layers })))).toBe(false);
    expect(validate({ ...r, schemaVersion: 1 })).toBe(false);
  });

  it.each([
    ['alexnet', () => alexnet({ weights: 'zeros' })],
    ['resnet50 N', () => resnet50({ batch: 'N', weights: 'zeros' })],
    ['mobilenetv2', () => mobilenetv2({ weights: 'zeros' })],
    ['transformer N×S', () => transformer({ layers: 2, dModel: 64, heads: 4, ffn: 256, batch: 'N', seqLen: 'S', weights: 'zeros' })],
  ] as [string, () => Model][])('zoo: %s', (label, make) => {
    const m = make();
    check(analyzeModel(m), label);
    check(analyzeModel(m, { bits: 8, device: 'raspberry-pi-4' }), `${label} int8`);
  });

  it('fixtures', () => {
    const dir = join(ROOT, 'fixtures');
    const files = readdirSync(dir).filter((d) => existsSync(join(dir, d, 'model.onnx')));
    expect(files.length).toBeGreaterThan(5);
    for (const f of files) check(analyzeModel(load(join(dir, f, 'model.onnx'))), f);
  });

  it.runIf(corpusAvailable())('the ONNX backend corpus (every folder of libonnx-testdata)', () => {
    let n = 0;
    for (const sub of readdirSync(CORPUS_ROOT)) {
      const dir = join(CORPUS_ROOT, sub);
      for (const t of corpusTests(dir)) {
        let m: Model;
        try {
          m = load(join(dir, t, 'model.onnx'));
        } catch {
          continue; // the importer rejects it (tested elsewhere); nothing to analyse
        }
        check(analyzeModel(m), `${sub}/${t}`);
        n++;
      }
    }
    expect(n).toBeGreaterThan(900);
  }, 240_000);
});

describe('printed expressions parse back to the same value', () => {
  /** Random bindings of `symbols` (1..64), seeded. */
  function* bindings(symbols: string[], count: number, seed: number): Generator<Record<string, number>> {
    let s = seed;
    const rnd = () => ((s = (s * 1103515245 + 12345) % 2 ** 31), 1 + (s % 64));
    for (let i = 0; i < count; i++) yield Object.fromEntries(symbols.map((x) => [x, rnd()]));
  }

  function roundTrip(m: Model, label: string): number {
    const free = analyzeModel(m);
    const t = free.totals;
    let checked = 0;
    if (t.macsExpr === undefined && t.flopsExpr === undefined) return 0;
    for (const at of bindings(free.model.symbols, 4, 7)) {
      const pinnedReport = analyzeModel(m, { dimValues: at });
      const pinned = pinnedReport.totals;
      // Shape arithmetic (Shape → Gather → Concat) runs while dims are symbolic and is folded into
      // constants once they are bound: its work is added to the pinned number. (The activation
      // total is not compared for the same reason.)
      const shapeWork = (k: 'macs' | 'flops') =>
        free.layers.reduce((n, l, i) => n + (!l.constant && pinnedReport.layers[i]!.constant ? (l[k] ?? evaluateDimExpr(l[`${k}Expr`]!, at, free.model.symbols)) : 0), 0);
      for (const [expr, pinnedValue, k] of [[t.macsExpr, pinned.macs, 'macs'], [t.flopsExpr, pinned.flops, 'flops']] as const) {
        if (expr === undefined || pinnedValue === null) continue;
        const want = pinnedValue + shapeWork(k);
        // The human form (digit grouping) and the JSON form read back to the pinned number.
        expect(evaluateDimExpr(formatExpr(expr), at, free.model.symbols), `${label} ${expr} at ${JSON.stringify(at)}`).toBe(want);
        expect(evaluateDimExpr(expr, at, free.model.symbols)).toBe(want);
        checked++;
      }
    }
    return checked;
  }

  it('zoo transformer and resnet', () => {
    expect(roundTrip(transformer({ layers: 2, dModel: 64, heads: 4, ffn: 256, batch: 'N', seqLen: 'S', weights: 'zeros' }), 'transformer')).toBeGreaterThan(0);
    expect(roundTrip(resnet50({ batch: 'N', weights: 'zeros' }), 'resnet50')).toBeGreaterThan(0);
  });

  it('fixtures with symbolic dims', () => {
    const dir = join(ROOT, 'fixtures');
    let checked = 0;
    for (const f of readdirSync(dir).filter((d) => existsSync(join(dir, d, 'model.onnx')))) checked += roundTrip(load(join(dir, f, 'model.onnx')), f);
    expect(checked).toBeGreaterThan(10);
  });

  it('floor and ceil keep their operands: (d−1)/2 is printed as floor((d-1)/2), with dotted symbol names', async () => {
    const { GraphBuilder, DataType } = await import('@onnxkit/graph');
    const b = new GraphBuilder();
    // A stride-2 conv over a length named as paddle2onnx names it.
    const x = b.input('x', DataType.FLOAT, [1, 1, 'p2o.DynamicDimension.1']);
    b.output(b.op('Conv', [x, b.floats('w', [4, 1, 3], new Array(12).fill(0.5))], { strides: [2], kernel_shape: [3] }, { name: 'conv' }), 'y');
    const m = b.build();
    const r = analyzeModel(m);
    const conv = r.layers[0]!;
    expect(conv.macsExpr).toContain('floor((p2o.DynamicDimension.1-3)/2)');
    for (const d of [3, 4, 5, 17, 128, 1001]) {
      const want = analyzeModel(m, { dimValues: { 'p2o.DynamicDimension.1': d } }).totals.macs;
      expect(evaluateDimExpr(formatExpr(r.totals.macsExpr!), { 'p2o.DynamicDimension.1': d })).toBe(want);
    }
  });

  it('a name declared inside the graph reads back too, whatever its characters (fuzz case 0de4438a41)', async () => {
    // An unknown op's declared output dim "a*ÿ" (an operator and a byte no identifier has) enters
    // the activation total; the total's symbols were parsed with the graph inputs' names only, and
    // analyze threw an untyped "cannot parse dim expression".
    const { GraphBuilder, DataType } = await import('@onnxkit/graph');
    const b = new GraphBuilder();
    const x = b.input('x', DataType.FLOAT, ['N', 4]);
    const y = b.op('Foo', [b.op('Relu', [x])], {}, { domain: 'custom' });
    y.type = { kind: 'tensor', elemType: DataType.FLOAT, shape: ['a*\u00ff', 4] };
    b.output(b.op('Relu', [y]), 'y');
    const r = analyzeModel(b.build());
    const act = r.totals.activations;
    expect(act.totalSymbols).toEqual(['N', 'a*\u00ff']);
    for (const [n, a] of [[1, 1], [3, 7]] as const) {
      const pinned = analyzeModel(b.build(), { dimValues: { N: n, 'a*\u00ff': a } }).totals.activations.total;
      expect(evaluateDimExpr(act.totalExpr!, { N: n, 'a*\u00ff': a }, act.totalSymbols)).toBe(pinned);
    }
  });

  it('names inside a floor read back too: a pooled dim declared as "a*ÿ" or "seq-len"', async () => {
    const { GraphBuilder, DataType } = await import('@onnxkit/graph');
    for (const name of ['a*\u00ff', 'seq-len']) {
      const build = () => {
        const b = new GraphBuilder();
        const x = b.input('x', DataType.FLOAT, ['N', 4, 8, 8]);
        const shape = b.input('s', DataType.INT64, [4]);
        const r = b.op('Reshape', [x, shape]);
        r.type = { kind: 'tensor', elemType: DataType.FLOAT, shape: [1, 4, name, 8] };
        b.output(b.op('MaxPool', [r], { kernel_shape: [3, 3], strides: [2, 2] }), 'y');
        return b.build();
      };
      const t = analyzeModel(build()).totals;
      expect(t.activations.totalSymbols, name).toEqual(['N', name]);
      for (const [n, a] of [[1, 9], [2, 30]] as const) {
        const pinned = analyzeModel(build(), { dimValues: { N: n, [name]: a } }).totals.activations.total;
        expect(evaluateDimExpr(t.activations.totalExpr!, { N: n, [name]: a }, t.activations.totalSymbols), name).toBe(pinned);
      }
    }
  });

  it('a symbol named with an operator character is one atom', () => {
    const symbols = ['seq-len', 'N'];
    expect(evaluateDimExpr('2*N*(seq-len)+seq-len', { 'seq-len': 5, N: 3 }, symbols)).toBe(35);
    expect(evaluateDimExpr('1,024*N', { N: 2 })).toBe(2048);
    expect(() => evaluateDimExpr('2*M', { N: 1 })).toThrow(/'M' is not bound/);
  });
});

describe("the lecture's other costs (issue 16.6)", () => {
  it('energy per layer and in total from MACs and bytes moved, with the cited per-op energies', () => {
    const r = analyzeModel(alexnet({ weights: 'zeros' }));
    const e = r.totals.energy;
    expect(e.table).toMatchObject({ dramReadPj: 640, sramReadPj: 5, multPj: 3.7, addPj: 0.9 });
    expect(e.table.source).toMatch(/Horowitz.*ISSCC 2014.*45 nm/);
    // Hand formula on the first conv: MACs × (3.7 + 0.9) + other FLOPs × 0.9 + 2·MACs × 5 + bytes/4 × 640 (pJ).
    const c = r.layers.find((l) => l.opType === 'Conv')!;
    const bytes = c.bytes.weights + c.bytes.input! + c.bytes.output!;
    const want = (c.macs! * 4.6 + (c.flops! - 2 * c.macs!) * 0.9 + 2 * c.macs! * 5 + (bytes / 4) * 640) * 1e-12;
    expect(c.energy.joules).toBeCloseTo(want, 15);
    expect(e.joules).toBeCloseTo(r.layers.reduce((s, l) => s + l.energy.joules!, 0), 12);
    // Data movement dominates arithmetic, the lecture's point.
    expect(e.dramJoules!).toBeGreaterThan(e.computeJoules!);
    const text = formatAnalysisTable(r);
    expect(text).toMatch(/Energy estimate: [\d.]+ mJ per inference .*DRAM read 640 pJ, SRAM read 5 pJ, float mult 3\.7 pJ, add 0\.9 pJ, int8 mult 0\.2 pJ, int32 add 0\.1 pJ, int8 add 0\.03 pJ, int32 mult 3\.1 pJ; M\. Horowitz/);
    // A device's own table.
    const own = { source: 'my 7 nm measurement', dramReadPj: 100, sramReadPj: 1, multPj: 0.5, addPj: 0.1 };
    const r2 = analyzeModel(alexnet({ weights: 'zeros' }), { energy: own });
    expect(r2.totals.energy.table).toEqual(own);
    expect(r2.totals.energy.joules!).toBeLessThan(e.joules!);
    const r3 = analyzeModel(alexnet({ weights: 'zeros' }), { device: { id: 'mine', version: '1', peakFlops: { fp32: 1e12 }, memoryBandwidth: 1e11, source: 'test', energy: own } as never });
    expect(r3.totals.energy.table).toEqual(own);
  });

  it('training memory: weights, gradients, SGD-momentum and Adam state, activations at a batch size', () => {
    const r = analyzeModel(resnet50({ batch: 'N', weights: 'zeros' }), { trainingBatch: 32 });
    const tr = r.totals.training;
    const P = r.totals.params;
    expect(tr).toMatchObject({ batch: 32, weightsBytes: 4 * P, gradientsBytes: 4 * P, optimizerBytes: { sgdMomentum: 4 * P, adam: 8 * P } });
    const one = analyzeModel(resnet50({ batch: 1, weights: 'zeros' })).totals;
    expect(tr.activationsBytes).toBe(one.activations.total! * 32 * 4);
    expect(tr.totalBytes.adam).toBe(16 * P + tr.activationsBytes!);
    // The lecture's point: at batch 32, activations, not weights, dominate training memory.
    expect(tr.activationsBytes!).toBeGreaterThan(tr.weightsBytes + tr.gradientsBytes + tr.optimizerBytes.adam);
    expect(formatAnalysisTable(r)).toMatch(/Training memory \(fp32, batch 32\): weights [\d.]+ MB \+ gradients/);
    expect(() => analyzeModel(alexnet({ weights: 'zeros' }), { trainingBatch: 0 })).toThrow(/trainingBatch must be a positive integer/);
  });
});

describe('hierarchical roofline (issue 16.4)', () => {
  it('a layer whose bytes fit in a cache level moves at that level’s bandwidth', () => {
    const base = { id: 'm', version: '1', title: 'm', peakFlops: { fp32: 1e11 }, memoryBandwidth: 1e10, source: 'test' };
    const flat = analyzeModel(alexnet({ weights: 'zeros' }), { device: base });
    const cached = analyzeModel(alexnet({ weights: 'zeros' }), { device: { ...base, memoryHierarchy: [{ bytes: 2 * 2 ** 20, bandwidth: 1e12 }] } });
    // The 151 MB classifier weights do not fit in 2 MiB: same time; a small ReLU does.
    const layer = (r: AnalysisReport, name: string) => r.layers.find((l) => l.name === name)!;
    expect(layer(cached, 'classifier.1').latency).toBe(layer(flat, 'classifier.1').latency);
    expect(layer(cached, 'features.11').latency!).toBeLessThan(layer(flat, 'features.11').latency!);
    expect(cached.totals.latency.seconds!).toBeLessThan(flat.totals.latency.seconds!);
    expect(schemaErrors(cached)).toEqual([]);
  });
});
