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
import { webConstantEvaluator } from './ort-evaluator.js';
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

/**
 * Positional reads of a file on the local server (`onnxkit serve MODEL`) through HTTP Range
 * requests: synchronous XMLHttpRequest, which dedicated workers allow, so the codec reads the
 * structure of a served model exactly as it reads a dropped File, without fetching its weights.
 */
class HttpReader implements RangeReader {
  bytesRead = 0;
  private constructor(
    private readonly url: string,
    readonly name: string,
    readonly size: number,
  ) {}
  /** The file's size from a HEAD request; undefined when the server has no such file (404). */
  static open(url: string, name: string): HttpReader | undefined {
    const xhr = new XMLHttpRequest();
    xhr.open('HEAD', url, false);
    xhr.send();
    if (xhr.status === 404) return undefined;
    const size = Number(xhr.getResponseHeader('content-length'));
    if (xhr.status !== 200 || !Number.isSafeInteger(size)) throw new ImportError('IMPORT_IO', `the local server did not describe ${name} (HTTP ${xhr.status})`, { file: name });
    if (xhr.getResponseHeader('accept-ranges') !== 'bytes') {
      throw new ImportError('IMPORT_IO', `the server of ${name} does not answer range requests`, { file: name, hint: 'serve it with `onnxkit serve MODEL`, or open the file with the file picker' });
    }
    return new HttpReader(url, name, size);
  }
  readAt(offset: number, target: Uint8Array, length: number): void {
    if (offset < 0 || offset + length > this.size) {
      throw new ImportError('IMPORT_TRUNCATED', `the file ends at byte ${this.size}, but ${length} bytes are needed at ${offset} (is the file complete?)`, { file: this.name });
    }
    if (length === 0) return;
    const xhr = new XMLHttpRequest();
    xhr.open('GET', this.url, false);
    xhr.responseType = 'arraybuffer';
    xhr.setRequestHeader('range', `bytes=${offset}-${offset + length - 1}`);
    xhr.send();
    const body = xhr.response instanceof ArrayBuffer ? new Uint8Array(xhr.response) : undefined;
    if (xhr.status !== 206 || !body || body.byteLength !== length) {
      throw new ImportError('IMPORT_IO', `the local server answered a read of ${length} bytes at ${offset} of ${this.name} with HTTP ${xhr.status} (${body?.byteLength ?? 0} bytes)`, { file: this.name, hint: 'is `onnxkit serve` still running?' });
    }
    target.set(body);
    this.bytesRead += length;
  }
}

class MissingExternal extends OnnxkitError {}

/** Where the model comes from: a dropped or picked File, or a URL of the local server. */
type Origin = { kind: 'file'; file: File } | { kind: 'url'; url: string };

interface Opened {
  name: string;
  size: number;
  origin: Origin;
  reader: RangeReader & { bytesRead: number };
  model: Model;
  stem: string;
  extra: Map<string, File>;
  missing: Set<string>;
  /** True when some tensor is stored in an external data file. */
  external: boolean;
  /** True once the model was optimized (verify then runs). */
  optimized?: boolean;
}

let current: Opened | undefined;

function freshReader(o: Origin, name: string): RangeReader & { bytesRead: number } {
  if (o.kind === 'file') return new BlobReader(o.file, name);
  const r = HttpReader.open(o.url, name);
  if (!r) throw new ImportError('IMPORT_IO', `the local server has no file ${name} any more`, { file: name });
  return r;
}

/**
 * External data of the model: the files opened with it (by location, or by base name), else,
 * for a model from the local server, the file of that name next to it on the server (which
 * serves only the data files the model names, inside the model's folder). A location found in
 * neither is recorded in `missing`, so the page can ask for it by name; `locations` gets every
 * location the model names.
 */
function externalResolver(extra: Map<string, File>, missing: Set<string>, locations: Set<string>, origin: Origin) {
  const served = new Map<string, HttpReader | undefined>();
  const fromServer = (location: string): HttpReader | undefined => {
    if (origin.kind !== 'url') return undefined;
    if (!served.has(location)) {
      const url = new URL(location.split('/').map(encodeURIComponent).join('/'), new URL(origin.url, self.location.href)).href;
      served.set(location, HttpReader.open(url, location));
    }
    return served.get(location);
  };
  return (info: ExternalDataInfo, tensorName: string, _fieldPath: string, byteLength: number): TensorSource => {
    const location = info.location;
    locations.add(location);
    const base = location.split('/').pop() ?? location;
    const file = extra.get(location) ?? extra.get(base);
    const reader: RangeReader | undefined = file ? new BlobReader(file, location) : fromServer(location);
    if (!reader) missing.add(location);
    const offset = info.offset ?? 0;
    const absent = (): never => {
      throw new MissingExternal(`tensor '${tensorName}' is stored in the external data file '${location}', which was not opened with the model`, { code: 'APP_EXTERNAL_MISSING', hint: `open '${location}' together with the model` });
    };
    return {
      byteLength,
      external: info,
      description: `${location} @ ${offset} + ${byteLength} bytes`,
      read(): Uint8Array {
        if (!reader) return absent();
        const out = new Uint8Array(byteLength);
        reader.readAt(offset, out, byteLength);
        return out;
      },
      readInto(target: Uint8Array, sourceOffset: number, length: number): void {
        if (!reader) return absent();
        reader.readAt(offset + sourceOffset, target, length);
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
  return { name: c.name, size: c.size, bytesRead: c.reader.bytesRead, missingExternal: [...c.missing] };
}

function analyzeCurrent(req: AnalyzeRequest): Reply {
  const c = current!;
  const t0 = performance.now();
  // `onnxkit analyze` names an unnamed graph after the file; the model itself stays as decoded
  // (so the optimized download matches `onnxkit optimize`, which does not rename).
  const graphName = c.model.graph.name;
  if (!graphName) c.model.graph.name = c.stem;
  let report: AnalysisReport;
  try {
    report = analyzeModel(c.model, analyzeOptions(req));
  } finally {
    c.model.graph.name = graphName;
  }
  const data: ReportData = { generator: 'onnxkit app', model: summarizeModel(c.model, { file: c.name, fileBytes: c.size }), analysis: report };
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

/** A fresh structure decode of the current model, as `onnxkit optimize` loads it (cloneModel would drop the codec's per-object hints and change a few bytes of the output). */
function decodeAgain(c: Opened): Model {
  return decodeSource(freshReader(c.origin, c.name), { file: c.name, external: externalResolver(c.extra, new Set(), new Set(), c.origin) }).model;
}

async function optimizeCurrent(req: OptimizeRequest): Promise<Reply> {
  const c = current!;
  const names = req.passes && req.passes.length > 0 ? req.passes : [req.preset ?? 'default'];
  resolvePipeline(names);
  const model = decodeAgain(c);
  const before: AnalysisReport = analyzeModel(model, {});
  const beforeSummary = summarizeModel(model, { file: c.name, fileBytes: c.size });
  // The options `onnxkit optimize` gives runPipeline (cli/src/pipeline.ts), with onnxruntime-web
  // in place of onnxruntime-node as the constant evaluator (off: `--no-ort-fold`).
  const pipeline = await runPipeline(model, names, {
    verify: 'pass',
    ...(req.disabled && req.disabled.length ? { disabled: req.disabled } : {}),
    passOptions: {},
    ...(req.ortFold === false ? {} : { evaluator: webConstantEvaluator() }),
  });
  const after = analyzeModel(model, {});
  // Weights inline, as `onnxkit optimize` saves a model under protobuf's 2 GiB limit (also for a model that had external data).
  const bytes = encode(model, { externalData: 'embed' });
  c.optimized = true;
  const afterSummary = summarizeModel(model, { name: `${c.stem} (optimized)`, file: `${c.name} → ${names.join(',')}`, fileBytes: bytes.byteLength });
  const data: ReportData = { generator: 'onnxkit app', model: beforeSummary, analysis: before, optimized: optimizedData(afterSummary, after, pipeline, names.join(',')) };
  return {
    type: 'optimized',
    bytes,
    explain: formatExplain(pipeline),
    pipeline: explainJson(pipeline),
    before: { nodes: beforeSummary.nodes, params: before.totals.params, macs: before.totals.macs, fileBytes: c.size, opHistogram: beforeSummary.opHistogram },
    after: { nodes: afterSummary.nodes, params: after.totals.params, macs: after.totals.macs, fileBytes: bytes.byteLength, opHistogram: afterSummary.opHistogram },
    reportHtml: renderReport(data),
  };
}

/**
 * The original model for verify (onnxruntime-web and the float64 reference take a model in one
 * buffer): the file as it is, or, when it keeps weights in external data files, re-encoded with
 * those weights inline (read from the files opened with it or from the local server). The
 * optimized model already has its weights inline.
 */
function verifyBytes(): Reply {
  const c = current!;
  if (!c.optimized) return { type: 'error', code: 'APP_NO_MODEL', message: 'optimize the model first' };
  let original: Uint8Array;
  if (c.external) original = encode(decodeAgain(c), { externalData: 'embed' });
  else {
    original = new Uint8Array(c.size);
    freshReader(c.origin, c.name).readAt(0, original, c.size);
  }
  return { type: 'verify-bytes', original };
}

function open(origin: Origin, extra: File[], req: AnalyzeRequest): Reply {
  const name = origin.kind === 'file' ? origin.file.name : decodeURIComponent(origin.url.split('/').pop() ?? origin.url);
  const reader = freshReader(origin, name);
  if (reader.size > MAX_FILE_BYTES) {
    return { type: 'error', code: 'APP_TOO_LARGE', message: `${name} is ${reader.size} bytes, more than this page can hold (${MAX_FILE_BYTES} bytes)`, hint: 'use the CLI (`onnxkit analyze`) for this model' };
  }
  const extraMap = new Map(extra.map((f) => [f.name, f] as const));
  const missing = new Set<string>();
  const locations = new Set<string>();
  const { model } = decodeSource(reader, { file: name, external: externalResolver(extraMap, missing, locations, origin) });
  current = { name, size: reader.size, origin, reader, model, stem: name.replace(/\.onnx$/i, ''), extra: extraMap, missing, external: locations.size > 0 };
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

function transferables(reply: Reply): Transferable[] {
  if (reply.type === 'optimized') return [reply.bytes.buffer as ArrayBuffer];
  if (reply.type === 'verify-bytes') return [reply.original.buffer as ArrayBuffer];
  return [];
}

self.onmessage = async (ev: MessageEvent<Request>) => {
  const req = ev.data;
  let reply: Reply;
  try {
    if (req.type === 'open') reply = open({ kind: 'file', file: req.file }, req.extra, req.options);
    else if (req.type === 'open-url') reply = open({ kind: 'url', url: req.url }, [], req.options);
    else if (!current) reply = { type: 'error', code: 'APP_NO_MODEL', message: 'open a model first' };
    else if (req.type === 'analyze') reply = analyzeCurrent(req.options);
    else if (req.type === 'verify-bytes') reply = verifyBytes();
    else reply = await optimizeCurrent(req.options);
  } catch (e) {
    reply = errorReply(e);
  }
  try {
    (self as unknown as Worker).postMessage({ ...reply, id: req.id }, transferables(reply));
  } catch (e) {
    // A reply that cannot be sent (a buffer that cannot be transferred) still answers the request.
    (self as unknown as Worker).postMessage({ ...errorReply(e), id: req.id });
  }
};
