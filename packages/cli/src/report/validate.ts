/**
 * Checks ReportData before rendering. The data often arrives as JSON (an `analysis.json`
 * written by an older onnxkit, or hand-edited), so a missing or mistyped field is reported as
 * a ReportError naming its path (`analysis.layers[12].macs`) instead of a broken page.
 */
import { ReportError } from './errors.js';
import type { ReportData } from './types.js';

type Obj = Record<string, unknown>;

class Checker {
  fail(path: string, expected: string, got: unknown): never {
    const shown = got === undefined ? 'nothing' : typeof got === 'string' ? JSON.stringify(got.length > 40 ? `${got.slice(0, 40)}…` : got) : Array.isArray(got) ? 'an array' : got === null ? 'null' : typeof got === 'object' ? 'an object' : String(got);
    throw new ReportError(`report data: ${path} must be ${expected}, got ${shown}`, {
      code: 'REPORT_INVALID_DATA',
      hint: 'pass the AnalysisReport of @onnxkit/passes unchanged and build the rest with the adapters of the report module (summarizeModel, optimizedData, verificationData, latencyFrom*)',
    });
  }

  obj(v: unknown, path: string): Obj {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) this.fail(path, 'an object', v);
    return v as Obj;
  }

  arr(v: unknown, path: string): unknown[] {
    if (!Array.isArray(v)) this.fail(path, 'an array', v);
    return v;
  }

  str(v: unknown, path: string): string {
    if (typeof v !== 'string') this.fail(path, 'a string', v);
    return v;
  }

  /** A finite number (JSON turns Infinity/NaN into null, so nullable where the analysis allows null). */
  num(v: unknown, path: string, { nullable = false, positive = false } = {}): void {
    if (nullable && v === null) return;
    if (typeof v !== 'number' || !Number.isFinite(v)) this.fail(path, `a finite number${nullable ? ' or null' : ''}`, v);
    if (positive && v <= 0) this.fail(path, 'a positive number', v);
  }

  optional(o: Obj, key: string, path: string, check: (v: unknown, p: string) => void): void {
    if (o[key] !== undefined) check(o[key], `${path}.${key}`);
  }
}

function checkShape(c: Checker, v: unknown, path: string): void {
  if (v === null) return;
  c.arr(v, path).forEach((d, i) => {
    if (d !== null && typeof d !== 'string' && (typeof d !== 'number' || !Number.isFinite(d))) c.fail(`${path}[${i}]`, 'a number, a symbol or null', d);
  });
}

function checkModel(c: Checker, v: unknown, path: string): void {
  const m = c.obj(v, path);
  c.str(m.name, `${path}.name`);
  if (m.file !== null && m.file !== undefined) c.str(m.file, `${path}.file`);
  if (m.fileBytes !== null && m.fileBytes !== undefined) c.num(m.fileBytes, `${path}.fileBytes`);
  const p = c.obj(m.producer, `${path}.producer`);
  c.str(p.name, `${path}.producer.name`);
  c.str(p.version, `${path}.producer.version`);
  c.num(m.irVersion, `${path}.irVersion`);
  c.num(m.opset, `${path}.opset`, { nullable: true });
  c.arr(m.opsets, `${path}.opsets`).forEach((o, i) => {
    const x = c.obj(o, `${path}.opsets[${i}]`);
    c.str(x.domain, `${path}.opsets[${i}].domain`);
    c.num(x.version, `${path}.opsets[${i}].version`);
  });
  for (const [k, val] of Object.entries(c.obj(m.metadata, `${path}.metadata`))) c.str(val, `${path}.metadata[${JSON.stringify(k)}]`);
  for (const side of ['inputs', 'outputs'] as const) {
    c.arr(m[side], `${path}.${side}`).forEach((io, i) => {
      const x = c.obj(io, `${path}.${side}[${i}]`);
      c.str(x.name, `${path}.${side}[${i}].name`);
      c.str(x.dtype, `${path}.${side}[${i}].dtype`);
      checkShape(c, x.shape, `${path}.${side}[${i}].shape`);
    });
  }
  c.num(m.nodes, `${path}.nodes`);
  for (const [k, n] of Object.entries(c.obj(m.opHistogram, `${path}.opHistogram`))) c.num(n, `${path}.opHistogram[${JSON.stringify(k)}]`);
}

function checkAnalysis(c: Checker, v: unknown, path: string): void {
  const a = c.obj(v, path);
  c.str(a.convention, `${path}.convention`);
  const d = c.obj(a.device, `${path}.device`);
  c.str(d.id, `${path}.device.id`);
  c.str(d.title, `${path}.device.title`);
  c.num(d.peakFlops, `${path}.device.peakFlops`, { positive: true });
  c.num(d.memoryBandwidth, `${path}.device.memoryBandwidth`, { positive: true });
  const t = c.obj(a.totals, `${path}.totals`);
  for (const k of ['params', 'weightParams', 'bufferParams', 'modelSizeBytes', 'layers']) c.num(t[k], `${path}.totals.${k}`);
  // Totals that wait on a symbol or an unknown layer are null (schemaVersion 2).
  for (const k of ['macs', 'flops', 'peakMemoryBytes']) c.num(t[k], `${path}.totals.${k}`, { nullable: true });
  const act = c.obj(t.activations, `${path}.totals.activations`);
  c.num(act.total, `${path}.totals.activations.total`, { nullable: true });
  c.num(act.peak, `${path}.totals.activations.peak`, { nullable: true });
  const lat = c.obj(t.latency, `${path}.totals.latency`);
  c.num(lat.seconds, `${path}.totals.latency.seconds`, { nullable: true });
  const cov = c.obj(t.coverage, `${path}.totals.coverage`);
  c.arr(cov.text, `${path}.totals.coverage.text`).forEach((x, i) => c.str(x, `${path}.totals.coverage.text[${i}]`));
  const layers = c.arr(a.layers, `${path}.layers`);
  layers.forEach((l, i) => {
    const p = `${path}.layers[${i}]`;
    const x = c.obj(l, p);
    c.str(x.name, `${p}.name`);
    c.str(x.opType, `${p}.opType`);
    checkShape(c, x.outputShape, `${p}.outputShape`);
    for (const k of ['params', 'weightParams']) c.num(x[k], `${p}.${k}`);
    for (const k of ['macs', 'flops', 'arithmeticIntensity', 'latency']) c.num(x[k], `${p}.${k}`, { nullable: true });
    const acts = c.obj(x.activations, `${p}.activations`);
    c.num(acts.input, `${p}.activations.input`, { nullable: true });
    c.num(acts.output, `${p}.activations.output`, { nullable: true });
    const bytes = c.obj(x.bytes, `${p}.bytes`);
    c.num(bytes.weights, `${p}.bytes.weights`);
    c.num(bytes.input, `${p}.bytes.input`, { nullable: true });
    c.num(bytes.output, `${p}.bytes.output`, { nullable: true });
    if (x.bound !== null && x.bound !== 'compute' && x.bound !== 'memory') c.fail(`${p}.bound`, "'compute', 'memory' or null", x.bound);
  });
  c.arr(a.memoryTimeline, `${path}.memoryTimeline`).forEach((s, i) => {
    const x = c.obj(s, `${path}.memoryTimeline[${i}]`);
    c.num(x.step, `${path}.memoryTimeline[${i}].step`);
    c.str(x.node, `${path}.memoryTimeline[${i}].node`);
    c.num(x.liveBytes, `${path}.memoryTimeline[${i}].liveBytes`);
  });
  c.arr(a.diagnostics, `${path}.diagnostics`).forEach((g, i) => {
    const x = c.obj(g, `${path}.diagnostics[${i}]`);
    c.str(x.severity, `${path}.diagnostics[${i}].severity`);
    c.str(x.message, `${path}.diagnostics[${i}].message`);
  });
}

function checkStats(c: Checker, v: unknown, path: string): void {
  const s = c.obj(v, path);
  c.num(s.p50Ms, `${path}.p50Ms`);
  c.num(s.p90Ms, `${path}.p90Ms`);
}

function checkLayerTimes(c: Checker, v: unknown, path: string): void {
  c.arr(v, path).forEach((r, i) => {
    const x = c.obj(r, `${path}[${i}]`);
    c.str(x.name, `${path}[${i}].name`);
    c.num(x.measuredUs, `${path}[${i}].measuredUs`, { nullable: true });
  });
}

/** Throws a ReportError naming the first field that is missing or of the wrong type. */
export function validateReportData(data: unknown): asserts data is ReportData {
  const c = new Checker();
  const d = c.obj(data, 'ReportData');
  for (const k of ['title', 'generator', 'generatedAt']) c.optional(d, k, '', (v, p) => c.str(v, p.slice(1)));
  checkModel(c, d.model, 'model');
  checkAnalysis(c, d.analysis, 'analysis');
  if (d.optimized !== undefined) {
    const o = c.obj(d.optimized, 'optimized');
    checkModel(c, o.model, 'optimized.model');
    checkAnalysis(c, o.analysis, 'optimized.analysis');
    c.arr(o.passes, 'optimized.passes').forEach((p, i) => {
      const x = c.obj(p, `optimized.passes[${i}]`);
      c.str(x.pass, `optimized.passes[${i}].pass`);
      for (const k of ['changes', 'nodesAdded', 'nodesRemoved', 'bytesDelta', 'timeMs']) c.num(x[k], `optimized.passes[${i}].${k}`);
    });
  }
  if (d.verification !== undefined) {
    const v = c.obj(d.verification, 'verification');
    if (typeof v.equivalent !== 'boolean') c.fail('verification.equivalent', 'a boolean', v.equivalent);
    c.obj(v.tolerance, 'verification.tolerance');
    c.arr(v.outputs, 'verification.outputs').forEach((o, i) => {
      const p = `verification.outputs[${i}]`;
      const x = c.obj(o, p);
      c.str(x.name, `${p}.name`);
      for (const k of ['atol', 'rtol', 'mismatches']) c.num(x[k], `${p}.${k}`);
      // NaN/Infinity errors become null through JSON: shown as "—".
      for (const k of ['maxAbsError', 'maxRelError', 'cosine']) c.num(x[k], `${p}.${k}`, { nullable: true });
      if (typeof x.pass !== 'boolean') c.fail(`${p}.pass`, 'a boolean', x.pass);
    });
  }
  if (d.quantized !== undefined) {
    const q = c.obj(d.quantized, 'quantized');
    c.str(q.reference, 'quantized.reference');
    checkAnalysis(c, c.obj(q.fp32, 'quantized.fp32').analysis, 'quantized.fp32.analysis');
    const i = c.obj(q.int8, 'quantized.int8');
    checkModel(c, i.model, 'quantized.int8.model');
    checkAnalysis(c, i.analysis, 'quantized.int8.analysis');
    c.str(c.obj(q.calibration, 'quantized.calibration').method, 'quantized.calibration.method');
    c.num(q.layers, 'quantized.layers');
    const acc = c.obj(q.accuracy, 'quantized.accuracy');
    const err = (v: unknown, p: string): void => {
      const x = c.obj(v, p);
      c.num(x.sqnrDb, `${p}.sqnrDb`, { nullable: true });
      c.num(x.maxAbsError, `${p}.maxAbsError`);
      c.num(x.meanAbsError, `${p}.meanAbsError`);
    };
    err(acc.overall, 'quantized.accuracy.overall');
    c.arr(acc.outputs, 'quantized.accuracy.outputs').forEach((o, k) => err(o, `quantized.accuracy.outputs[${k}]`));
    c.optional(q, 'latency', 'quantized', (v, p) => {
      const l = c.obj(v, p);
      checkStats(c, l.original, `${p}.original`);
      c.optional(l, 'optimized', p, (w, pp) => checkStats(c, w, pp));
    });
  }
  if (d.crash !== undefined) {
    const x = c.obj(d.crash, 'crash');
    c.arr(x.crashed, 'crash.crashed').forEach((v, i) => {
      if (v !== 'original' && v !== 'optimized') c.fail(`crash.crashed[${i}]`, "'original' or 'optimized'", v);
    });
    for (const k of ['model', 'reason', 'step']) c.str(x[k], `crash.${k}`);
    c.optional(x, 'survivorLatency', 'crash', (v, p) => checkStats(c, c.obj(v, p).stats, `${p}.stats`));
  }
  if (d.latency !== undefined) {
    const l = c.obj(d.latency, 'latency');
    checkStats(c, l.original, 'latency.original');
    c.optional(l, 'optimized', 'latency', (v, p) => checkStats(c, v, p));
    c.num(l.threads, 'latency.threads');
    c.optional(l, 'ratio', 'latency', (v, p) => c.num(v, p));
    c.optional(l, 'perLayer', 'latency', (v, p) => checkLayerTimes(c, v, p));
    c.optional(l, 'perLayerOptimized', 'latency', (v, p) => checkLayerTimes(c, v, p));
  }
}
