/**
 * The page: file picker / drag-and-drop, the analysis views and the optimize panel. All
 * computation is in ./worker.ts; this file only renders what the worker returns.
 */
import { DEVICES, PRESETS, type AnalysisReport, type LayerReport } from '@onnxkit/passes';
import type { AnalyzeRequest, OptimizeRequest, Reply, Request, VerifyReply } from './protocol.js';

const $ = <T extends HTMLElement = HTMLElement>(id: string): T => document.getElementById(id) as T;
const worker = new Worker(new URL('./worker.ts', import.meta.url), { type: 'module' });
let nextId = 1;
const pending = new Map<number, (r: Reply) => void>();
worker.onmessage = (ev: MessageEvent<Reply & { id: number }>) => {
  const done = pending.get(ev.data.id);
  pending.delete(ev.data.id);
  done?.(ev.data);
};
worker.onerror = (ev) => {
  ev.preventDefault();
  const message = `the worker failed: ${ev.message || 'unknown error'}`;
  showError(message);
  // Every request in flight gets its answer (an error), so no view waits for ever.
  for (const [id, done] of pending) {
    pending.delete(id);
    done({ type: 'error', code: 'APP_WORKER', message });
  }
};

type Body = Request extends infer R ? (R extends { id: number } ? Omit<R, 'id'> : never) : never;
function call(body: Body, transfer: Transferable[] = []): Promise<Reply> {
  const id = nextId++;
  return new Promise((resolve) => {
    pending.set(id, resolve);
    worker.postMessage({ ...body, id }, transfer);
  });
}

const fmtInt = (n: number): string => n.toLocaleString('en-US');
function fmtSI(n: number, unit = ''): string {
  const units = ['', 'K', 'M', 'G', 'T', 'P'];
  let i = 0;
  let v = n;
  while (Math.abs(v) >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return `${i === 0 ? String(v) : v.toFixed(2)} ${units[i]}${unit}`.trim();
}
function fmtBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const u = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < u.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(1)} ${u[i]}`;
}
const dimText = (d: readonly (number | string | null)[] | null): string => (d === null ? '?' : `[${d.map((x) => (x === null ? '?' : String(x))).join(', ')}]`);

function status(text: string): void {
  $('status').textContent = text;
}
function showError(message: string, hint?: string): void {
  const el = $('error');
  el.textContent = hint ? `${message}\n${hint}` : message;
  el.hidden = false;
  status('');
  document.documentElement.dataset.state = 'error';
}
function clearError(): void {
  $('error').hidden = true;
  $('error').textContent = '';
}

let analysis: AnalysisReport | undefined;
let analysisJson = '';
let optimizedBytes: Uint8Array | undefined;
/** Name of the open model file. */
let modelFile: string | undefined;
/** When the current file was picked or dropped (for the time-to-table measurement, bench/browser.bench.mjs). */
let openStarted: number | undefined;
const dimValues: Record<string, number> = {};

function options(): AnalyzeRequest {
  const bits = ($('bits') as HTMLInputElement).value;
  return {
    device: ($('device') as HTMLSelectElement).value,
    ...(bits ? { bits: Number(bits) } : {}),
    ...(Object.keys(dimValues).length ? { dimValues: { ...dimValues } } : {}),
  };
}

async function openFiles(list: File[]): Promise<void> {
  clearError();
  const model = list.find((f) => /\.onnx$/i.test(f.name)) ?? list[0];
  if (!model) return;
  beginOpen(model.name);
  status(`reading ${model.name} (${fmtBytes(model.size)})…`);
  const reply = await call({ type: 'open', file: model, extra: list.filter((f) => f !== model), options: options() });
  show(reply);
}

function beginOpen(name: string): void {
  modelFile = name;
  openStarted = performance.now();
  for (const k of Object.keys(dimValues)) delete dimValues[k];
  optimizedBytes = undefined;
  $('opt-result').hidden = true;
  $('verify-result').hidden = true;
  document.documentElement.dataset.state = 'loading';
}

async function reanalyze(): Promise<void> {
  if (!modelFile) return;
  clearError();
  status('analyzing…');
  show(await call({ type: 'analyze', options: options() }));
}

function show(reply: Reply): void {
  if (reply.type === 'error') {
    $('results').hidden = true;
    showError(errorText(reply.code, reply.message), reply.hint);
    return;
  }
  if (reply.type !== 'analysis') return;
  analysis = reply.analysis;
  analysisJson = reply.json;
  const a = reply.analysis;
  const t = a.totals;
  $('results').hidden = false;
  $('model-name').textContent = reply.summary.name;
  const s = reply.summary;
  $('summary').textContent =
    `${reply.file.name} · ${fmtBytes(reply.file.size)} · IR ${s.irVersion} · opset ${s.opset ?? '—'} · ${fmtInt(s.nodes)} nodes · producer ${s.producer.name || '—'} ${s.producer.version} · inputs ${s.inputs.map((i) => `${i.name} ${i.dtype}${dimText(i.shape)}`).join(', ')}`;
  // A total that waits on a symbol or an unknown layer is null: its expression, or '?', never a partial sum.
  $('total-macs').textContent = t.macs === null ? (t.macsExpr ?? '?') : fmtInt(t.macs);
  $('total-macs').dataset.value = String(t.macs);
  $('total-params').textContent = fmtInt(t.params);
  $('total-params').dataset.value = String(t.params);
  $('peak-memory').textContent = t.peakMemoryBytes === null ? '?' : fmtBytes(t.peakMemoryBytes);
  $('latency').textContent = t.latency.seconds === null ? '?' : `${(t.latency.seconds * 1000).toFixed(3)} ms (${t.latency.bound}-bound)`;
  $('bytes-read').textContent = `${fmtBytes(reply.file.bytesRead)} of ${fmtBytes(reply.file.size)}`;
  $('bytes-read').dataset.value = String(reply.file.bytesRead);
  if (reply.file.missingExternal.length > 0) {
    showError(
      `this model keeps weights in external data files that were not opened with it: ${reply.file.missingExternal.map((f) => `'${f}'`).join(', ')}`,
      'open the model again together with these files (select them all in the file dialog, or drop them together) to optimize it; the analysis below needs only the structure',
    );
  }
  renderOps(reply.summary.opHistogram);
  renderDims(a);
  renderLayers();
  if (openStarted !== undefined) {
    // From the file event to the per-layer table in the DOM.
    document.documentElement.dataset.openMs = (performance.now() - openStarted).toFixed(1);
    openStarted = undefined;
  }
  ($('report') as HTMLIFrameElement).srcdoc = reply.reportHtml;
  status(`analyzed in ${reply.ms.toFixed(0)} ms`);
  document.documentElement.dataset.state = 'analyzed';
}

function errorText(code: string, message: string): string {
  if (code === 'IMPORT_NOT_ONNX') return `This is not an ONNX model: ${message}`;
  if (code === 'IMPORT_TRUNCATED' || code === 'IMPORT_LENGTH') return `The file looks truncated or damaged: ${message}`;
  if (code === 'APP_TOO_LARGE' || code === 'IMPORT_TOO_LARGE') return `Too large for the browser: ${message}`;
  return message;
}

function renderOps(hist: Readonly<Record<string, number>>): void {
  const el = $('ops');
  el.textContent = '';
  for (const [op, n] of Object.entries(hist).sort((x, y) => y[1] - x[1] || x[0].localeCompare(y[0]))) {
    const span = document.createElement('span');
    span.textContent = `${op} × ${n}`;
    el.append(span);
  }
}

function renderDims(a: AnalysisReport): void {
  const el = $('dims');
  el.textContent = '';
  const symbols = [...new Set([...a.model.symbols, ...Object.keys(dimValues)])];
  for (const sym of symbols) {
    const label = document.createElement('label');
    label.textContent = `${sym} = `;
    const input = document.createElement('input');
    input.type = 'number';
    input.min = '1';
    input.dataset.testid = `dim-${sym}`;
    input.value = dimValues[sym] !== undefined ? String(dimValues[sym]) : '';
    input.placeholder = 'symbolic';
    input.addEventListener('change', () => {
      if (input.value && Number(input.value) >= 1) dimValues[sym] = Math.floor(Number(input.value));
      else delete dimValues[sym];
      void reanalyze();
    });
    label.append(input);
    el.append(label);
  }
}

interface Column {
  head: string;
  text: (l: LayerReport) => string;
  key: (l: LayerReport) => number | string;
}
const num = (x: number | null | undefined): number => (x === null || x === undefined ? -1 : x);
const COLUMNS: Column[] = [
  { head: '#', text: (l) => String(l.index), key: (l) => l.index },
  { head: 'name', text: (l) => l.name, key: (l) => l.name },
  { head: 'op', text: (l) => l.opType, key: (l) => l.opType },
  { head: 'output', text: (l) => dimText(l.outputShape), key: (l) => dimText(l.outputShape) },
  { head: 'params', text: (l) => fmtInt(l.params), key: (l) => l.params },
  { head: 'MACs', text: (l) => l.macsExpr ?? (l.macs === null ? '?' : fmtInt(l.macs)), key: (l) => num(l.macs) },
  { head: 'FLOPs', text: (l) => l.flopsExpr ?? (l.flops === null ? '?' : fmtSI(l.flops)), key: (l) => num(l.flops) },
  { head: 'activations out', text: (l) => (l.activations.output === null ? '?' : fmtInt(l.activations.output)), key: (l) => num(l.activations.output) },
  { head: 'weights bytes', text: (l) => fmtBytes(l.bytes.weights), key: (l) => l.bytes.weights },
];
let sortCol = 0;
let sortDir = 1;

function renderLayers(): void {
  if (!analysis) return;
  const table = $('layers') as HTMLTableElement;
  const head = table.tHead!;
  head.textContent = '';
  const tr = document.createElement('tr');
  COLUMNS.forEach((c, i) => {
    const th = document.createElement('th');
    th.textContent = c.head + (i === sortCol ? (sortDir > 0 ? ' ▲' : ' ▼') : '');
    th.dataset.col = String(i);
    th.addEventListener('click', () => {
      sortDir = sortCol === i ? -sortDir : 1;
      sortCol = i;
      renderLayers();
    });
    tr.append(th);
  });
  head.append(tr);
  const filter = ($('filter') as HTMLInputElement).value.trim().toLowerCase();
  const col = COLUMNS[sortCol]!;
  const rows = analysis.layers
    .filter((l) => !filter || l.name.toLowerCase().includes(filter) || l.opType.toLowerCase().includes(filter))
    .sort((x, y) => {
      const a = col.key(x);
      const b = col.key(y);
      return (a < b ? -1 : a > b ? 1 : 0) * sortDir;
    });
  const body = table.tBodies[0]!;
  body.textContent = '';
  const frag = document.createDocumentFragment();
  for (const l of rows) {
    const r = document.createElement('tr');
    for (const c of COLUMNS) {
      const td = document.createElement('td');
      td.textContent = c.text(l);
      r.append(td);
    }
    frag.append(r);
  }
  body.append(frag);
  table.dataset.rows = String(rows.length);
}

function download(bytes: Uint8Array | string, name: string, type: string): void {
  const blob = new Blob([typeof bytes === 'string' ? bytes : (bytes as Uint8Array<ArrayBuffer>)], { type });
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

const stemOf = (name: string | undefined): string => (name ? name.replace(/\.onnx$/i, '') : 'model');

function renderPassToggles(): void {
  const preset = PRESETS[($('preset') as HTMLSelectElement).value];
  const el = $('pass-toggles');
  el.textContent = '';
  for (const p of preset?.passes ?? []) {
    const label = document.createElement('label');
    const box = document.createElement('input');
    box.type = 'checkbox';
    box.checked = true;
    box.value = p;
    box.dataset.testid = `pass-${p}`;
    label.append(box, ` ${p}`);
    el.append(label);
  }
}

async function optimize(): Promise<void> {
  if (!modelFile) {
    showError('open a model first');
    document.documentElement.dataset.optimized = 'error';
    return;
  }
  clearError();
  const disabled = Array.from($('pass-toggles').querySelectorAll<HTMLInputElement>('input[type=checkbox]')).filter((b) => !b.checked).map((b) => b.value);
  const ortFold = ($('ort-fold') as HTMLInputElement).checked;
  const req: OptimizeRequest = { preset: ($('preset') as HTMLSelectElement).value, ...(disabled.length ? { disabled } : {}), ...(ortFold ? {} : { ortFold: false }) };
  status('optimizing…');
  document.documentElement.dataset.optimized = 'running';
  const reply = await call({ type: 'optimize', options: req });
  if (reply.type === 'error') {
    showError(errorText(reply.code, reply.message), reply.hint);
    document.documentElement.dataset.optimized = 'error';
    return;
  }
  if (reply.type !== 'optimized') return;
  optimizedBytes = reply.bytes;
  const rows: [string, number | null, number | null][] = [
    ['nodes', reply.before.nodes, reply.after.nodes],
    ['file bytes', reply.before.fileBytes, reply.after.fileBytes],
    ['params', reply.before.params, reply.after.params],
    ['MACs', reply.before.macs, reply.after.macs],
  ];
  for (const op of new Set([...Object.keys(reply.before.opHistogram), ...Object.keys(reply.after.opHistogram)])) {
    rows.push([`  ${op}`, reply.before.opHistogram[op] ?? 0, reply.after.opHistogram[op] ?? 0]);
  }
  const t = $('before-after') as HTMLTableElement;
  t.textContent = '';
  const h = t.insertRow();
  for (const x of ['', 'before', 'after']) h.insertCell().textContent = x;
  for (const [k, b, a] of rows) {
    const r = t.insertRow();
    r.insertCell().textContent = k;
    r.insertCell().textContent = b === null ? '?' : fmtInt(b);
    r.insertCell().textContent = a === null ? '?' : fmtInt(a);
  }
  $('explain').textContent = reply.explain;
  ($('report') as HTMLIFrameElement).srcdoc = reply.reportHtml;
  $('opt-result').hidden = false;
  status(`optimized: ${fmtInt(reply.before.nodes)} → ${fmtInt(reply.after.nodes)} nodes`);
  document.documentElement.dataset.optimized = 'done';
}

let verifier: Worker | undefined;
async function verifyModels(): Promise<void> {
  if (!modelFile || !optimizedBytes) return;
  clearError();
  status('verifying in onnxruntime-web (WASM)…');
  document.documentElement.dataset.verified = 'running';
  verifier ??= new Worker(new URL('./verify-worker.ts', import.meta.url), { type: 'module' });
  const w = verifier;
  // The original with its weights inline (a model with external data is re-encoded by the worker); the optimized download already is.
  const inline = await call({ type: 'verify-bytes' });
  if (inline.type !== 'verify-bytes') {
    if (inline.type === 'error') showError(errorText(inline.code, inline.message), inline.hint);
    document.documentElement.dataset.verified = 'error';
    return;
  }
  const original = inline.original.buffer as ArrayBuffer;
  const optimized = optimizedBytes.slice().buffer;
  const seed = Number(($('seed') as HTMLInputElement).value || '0');
  const iterations = Math.max(1, Number(($('iterations') as HTMLInputElement).value || '10'));
  const reply = await new Promise<VerifyReply>((resolve) => {
    w.onmessage = (ev: MessageEvent<VerifyReply>) => resolve(ev.data);
    w.onerror = (ev) => {
      ev.preventDefault();
      resolve({ type: 'error', code: 'APP_VERIFY', message: `the verify worker failed: ${ev.message || 'unknown error'}` });
    };
    w.postMessage({ id: 1, original, optimized, seed, iterations }, [original, optimized]);
  });
  if (reply.type === 'error') {
    showError(reply.message, reply.hint);
    document.documentElement.dataset.verified = 'error';
    return;
  }
  $('verdict').textContent = reply.verdict;
  $('verdict').dataset.equivalent = String(reply.equivalent);
  $('verdict-basis').textContent =
    reply.basis === 'reference' ? `(judged against the float64 reference: ${reply.rule})` : `(fixed fp32 tolerance; the float64 reference could not run: ${reply.referenceUnavailable ?? ''})`;
  const t = $('verify-outputs') as HTMLTableElement;
  t.textContent = '';
  const h = t.insertRow();
  for (const x of ['output', 'max |A−B|', 'error A vs float64', 'error B vs float64', 'pass']) h.insertCell().textContent = x;
  const e = (x: number | null): string => (x === null ? '—' : x.toExponential(2));
  for (const o of reply.outputs) {
    const r = t.insertRow();
    for (const x of [o.name, e(o.maxAbsError), e(o.errorA), e(o.errorB), o.pass ? 'yes' : 'NO']) r.insertCell().textContent = x;
  }
  const l = reply.latency;
  $('latency-pair').textContent = `latency (onnxruntime-web WASM, 1 thread, median of ${l.iterations} interleaved pairs): original ${l.originalMs.toFixed(2)} ms, optimized ${l.optimizedMs.toFixed(2)} ms (${(l.originalMs / l.optimizedMs).toFixed(2)}×)`;
  $('verify-result').hidden = false;
  status(`verified: ${reply.verdict}`);
  document.documentElement.dataset.verified = 'done';
}

function init(): void {
  const device = $('device') as HTMLSelectElement;
  for (const d of DEVICES) device.add(new Option(d.title, d.id));
  device.value = 'jetson-agx-orin';
  device.addEventListener('change', () => void reanalyze());
  $('bits').addEventListener('change', () => void reanalyze());
  const preset = $('preset') as HTMLSelectElement;
  for (const p of Object.keys(PRESETS)) preset.add(new Option(p, p));
  preset.value = 'default';
  preset.addEventListener('change', renderPassToggles);
  renderPassToggles();
  $('filter').addEventListener('input', renderLayers);
  const input = $('model-file') as HTMLInputElement;
  input.addEventListener('change', () => void openFiles(Array.from(input.files ?? [])));
  const drop = $('open');
  drop.addEventListener('dragover', (e) => {
    e.preventDefault();
    drop.classList.add('over');
  });
  drop.addEventListener('dragleave', () => drop.classList.remove('over'));
  drop.addEventListener('drop', (e) => {
    e.preventDefault();
    drop.classList.remove('over');
    void openFiles(Array.from(e.dataTransfer?.files ?? []));
  });
  $('download-analysis').addEventListener('click', () => download(analysisJson, `${stemOf(modelFile)}.analysis.json`, 'application/json'));
  $('download-optimized').addEventListener('click', () => {
    if (optimizedBytes) download(optimizedBytes, `${stemOf(modelFile)}.optimized.onnx`, 'application/octet-stream');
  });
  $('run-optimize').addEventListener('click', () => void optimize());
  $('run-verify').addEventListener('click', () => void verifyModels());
  window.addEventListener('unhandledrejection', (e) => showError(`unexpected error: ${String(e.reason)}`));
  document.documentElement.dataset.state = 'ready';
  // `onnxkit serve MODEL` links to ?model=model/<name>: the model comes from the same local server.
  const fromServer = new URLSearchParams(location.search).get('model');
  if (fromServer && /^model\/[^/]+$/.test(fromServer)) void openFromServer(fromServer);
}

/**
 * A model of the local server (`onnxkit serve MODEL`): the worker reads it through HTTP Range
 * requests, so opening it reads its structure only, as for a picked file; its external data
 * files come from the same server (it serves only the ones the model names).
 */
async function openFromServer(path: string): Promise<void> {
  clearError();
  const name = decodeURIComponent(path.slice('model/'.length));
  beginOpen(name);
  status(`reading ${name} from the local server…`);
  show(await call({ type: 'open-url', url: new URL(path, location.href).href, options: options() }));
}

init();
