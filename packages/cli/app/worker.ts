/**
 * The app's worker: every computation of the page runs here (decode, analysis, report
 * rendering, rewrite passes, encode), so the page stays responsive and nothing leaves the
 * machine. The model is read from the dropped `File` through `Blob.slice` positional reads
 * (`FileReaderSync`, synchronous in workers), so only its structure is read when it opens;
 * weights are read when a pass or the encoder needs them.
 */
import { OnnxkitError, type ExternalDataInfo, type Model, type TensorSource } from '@onnxkit/graph';
import { decodeSource, encode, ImportError, type RangeReader } from '@onnxkit/importer/codec';
import { analysisToJson, analyzeModel, explainJson, formatExplain, resolvePipeline, runPipeline, type AnalysisReport, type AnalyzeOptions } from '@onnxkit/passes';
import { optimizedData, renderReport, summarizeModel, type ReportData } from '../src/report/index.js';
import type { AnalyzeRequest, FileInfo, OptimizeRequest, Reply, Request } from './protocol.js';

/** Largest file the page accepts (a browser tab holds about this much; structure reads are lazy anyway). */
const MAX_FILE_BYTES = 4 * 2 ** 30;

/** Synchronous Blob reads, available in dedicated workers (the test tsconfig has DOM types, not WebWorker ones). */
declare const FileReaderSync: { new (): { readAsArrayBuffer(blob: Blob): ArrayBuffer } };

class BlobReader implements RangeReader {
  readonly size: number;
  bytesRead = 0;
  private readonly sync = new FileReaderSync();
  constructor(
    private readonly blob: Blob,
    readonly name: string,
  ) {
    this.size = blob.size;
  }
  readAt(offset: number, target: Uint8Array, length: number): void {
    if (offset < 0 || offset + length > this.size) {
      throw new ImportError('IMPORT_TRUNCATED', `the file ends at byte ${this.size}, but ${length} bytes are needed at ${offset} (is the file complete?)`, { file: this.name });
    }
    const buf = this.sync.readAsArrayBuffer(this.blob.slice(offset, offset + length));
    target.set(new Uint8Array(buf, 0, length));
    this.bytesRead += length;
  }
}

class MissingExternal extends OnnxkitError {}

let current: { file: File; reader: BlobReader; model: Model; name: string; extra: Map<string, File>; missing: Set<string> } | undefined;

function externalResolver(extra: Map<string, File>, missing: Set<string>) {
  return (info: ExternalDataInfo, tensorName: string, _fieldPath: string, byteLength: number): TensorSource => {
    const location = info.location;
    const base = location.split('/').pop() ?? location;
    const file = extra.get(location) ?? extra.get(base);
    if (!file) missing.add(location);
    const offset = info.offset ?? 0;
    return {
      byteLength,
      external: info,
      description: `${location} @ ${offset} + ${byteLength} bytes`,
      read(): Uint8Array {
        if (!file) throw new MissingExternal(`tensor '${tensorName}' is stored in the external data file '${location}', which was not opened with the model`, { code: 'APP_EXTERNAL_MISSING', hint: `drop '${location}' together with the model` });
        const out = new Uint8Array(byteLength);
        new BlobReader(file, location).readAt(offset, out, byteLength);
        return out;
      },
      readInto(target: Uint8Array, sourceOffset: number, length: number): void {
        if (!file) throw new MissingExternal(`external data file '${location}' was not opened with the model`, { code: 'APP_EXTERNAL_MISSING', hint: `drop '${location}' together with the model` });
        new BlobReader(file, location).readAt(offset + sourceOffset, target, length);
      },
    };
  };
}

function analyzeOptions(req: AnalyzeRequest): AnalyzeOptions {
  return {
    device: req.device ?? 'jetson-agx-orin',
    ...(req.bits !== undefined ? { bits: req.bits } : {}),
    ...(req.inputShapes ? { inputShapes: req.inputShapes } : {}),
    ...(req.dimValues ? { dimValues: req.dimValues } : {}),
  };
}

function info(): FileInfo {
  const c = current!;
  return { name: c.file.name, size: c.file.size, bytesRead: c.reader.bytesRead, missingExternal: [...c.missing] };
}

function analyzeCurrent(req: AnalyzeRequest): Reply {
  const c = current!;
  const t0 = performance.now();
  // `onnxkit analyze` names an unnamed graph after the file; the model itself stays as decoded
  // (so the optimized download matches `onnxkit optimize`, which does not rename).
  const graphName = c.model.graph.name;
  if (!graphName) c.model.graph.name = c.name;
  let report: AnalysisReport;
  try {
    report = analyzeModel(c.model, analyzeOptions(req));
  } finally {
    c.model.graph.name = graphName;
  }
  const data: ReportData = { generator: 'onnxkit app', model: summarizeModel(c.model, { file: c.file.name, fileBytes: c.file.size }), analysis: report };
  return {
    type: 'analysis',
    file: info(),
    analysis: report,
    // Exactly what `onnxkit analyze --json` prints (analysisToJson plus the CLI's newline).
    json: analysisToJson(report) + '\n',
    summary: data.model,
    reportHtml: renderReport(data),
    ms: performance.now() - t0,
  };
}

async function optimizeCurrent(req: OptimizeRequest): Promise<Reply> {
  const c = current!;
  const names = req.passes && req.passes.length > 0 ? req.passes : [req.preset ?? 'default'];
  resolvePipeline(names);
  // A fresh structure decode of the same file, as `onnxkit optimize` loads it (cloneModel would
  // drop the codec's per-object hints and change a few bytes of the output).
  const model = decodeSource(new BlobReader(c.file, c.file.name), { file: c.file.name, external: externalResolver(c.extra, new Set()) }).model;
  const before: AnalysisReport = analyzeModel(model, {});
  const beforeSummary = summarizeModel(model, { file: c.file.name, fileBytes: c.file.size });
  const pipeline = await runPipeline(model, names, { verify: 'pass', ...(req.disabled && req.disabled.length ? { disabled: req.disabled } : {}), passOptions: {} });
  const after = analyzeModel(model, {});
  const bytes = encode(model);
  const name = c.name;
  const afterSummary = summarizeModel(model, { name: `${name} (optimized)`, file: `${c.file.name} → ${names.join(',')}`, fileBytes: bytes.byteLength });
  const data: ReportData = { generator: 'onnxkit app', model: beforeSummary, analysis: before, optimized: optimizedData(afterSummary, after, pipeline, names.join(',')) };
  return {
    type: 'optimized',
    bytes,
    explain: formatExplain(pipeline),
    pipeline: explainJson(pipeline),
    before: { nodes: beforeSummary.nodes, params: before.totals.params, macs: before.totals.macs, fileBytes: c.file.size, opHistogram: beforeSummary.opHistogram },
    after: { nodes: afterSummary.nodes, params: after.totals.params, macs: after.totals.macs, fileBytes: bytes.byteLength, opHistogram: afterSummary.opHistogram },
    reportHtml: renderReport(data),
  };
}

function open(file: File, extra: File[], req: AnalyzeRequest): Reply {
  if (file.size > MAX_FILE_BYTES) {
    return { type: 'error', code: 'APP_TOO_LARGE', message: `${file.name} is ${file.size} bytes, more than this page can hold (${MAX_FILE_BYTES} bytes)`, hint: 'use the CLI (`onnxkit analyze`) for this model' };
  }
  const reader = new BlobReader(file, file.name);
  const extraMap = new Map(extra.map((f) => [f.name, f] as const));
  const missing = new Set<string>();
  const { model } = decodeSource(reader, { file: file.name, external: externalResolver(extraMap, missing) });
  const name = file.name.replace(/\.onnx$/i, '');
  current = { file, reader, model, name, extra: extraMap, missing };
  return analyzeCurrent(req);
}

function errorReply(e: unknown): Reply {
  if (e instanceof OnnxkitError) {
    const err = e as OnnxkitError & { code?: string; hint?: string };
    return { type: 'error', code: err.code ?? 'ERROR', message: err.message, ...(err.hint ? { hint: err.hint } : {}) };
  }
  if (e instanceof RangeError) return { type: 'error', code: 'APP_TOO_LARGE', message: `the browser ran out of memory (${e.message})`, hint: 'use the CLI for this model' };
  return { type: 'error', code: 'APP_INTERNAL', message: `internal error: ${e instanceof Error ? e.message : String(e)}`, hint: 'please report this model to the onnxkit maintainers' };
}

self.onmessage = async (ev: MessageEvent<Request>) => {
  const req = ev.data;
  let reply: Reply;
  try {
    if (req.type === 'open') reply = open(req.file, req.extra, req.options);
    else if (!current) reply = { type: 'error', code: 'APP_NO_MODEL', message: 'open a model first' };
    else if (req.type === 'analyze') reply = analyzeCurrent(req.options);
    else reply = await optimizeCurrent(req.options);
  } catch (e) {
    reply = errorReply(e);
  }
  (self as unknown as Worker).postMessage({ ...reply, id: req.id }, reply.type === 'optimized' ? [reply.bytes.buffer as ArrayBuffer] : []);
};
