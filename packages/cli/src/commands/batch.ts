/**
 * `onnxkit batch DIR`: the model-zoo regression use case. Analyzes every .onnx under DIR (and
 * with --optimize/--verify optimizes and verifies each) on worker threads, then writes one
 * summary table as JSON, CSV or HTML. Exit 1 when any model failed to load or verify.
 */
import { readdirSync, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { extname, join, relative } from 'node:path';
import { Worker } from 'node:worker_threads';
import { writeFileAtomic } from '@onnxkit/importer';
import { csvField } from '@onnxkit/passes';
import type { BatchRow, BatchWorkerData } from '../batch-types.js';
import { runPool } from '../batch-pool.js';
import { resolveDevice } from '../devices.js';
import { CliError, EXIT } from '../errors.js';
import { limits } from '../limits.js';
import { batchScript } from '../report/client-script.js';
import { escapeHtml, inlineScript } from '../report/escape.js';
import { shapeBindings } from '../options.js';
import { fmtBytes, fmtDuration, fmtInt, outputMode, paint, Progress, table } from '../ui.js';
import { ensureParent, refuseOverwritingFiles, refuseUnwritableOutput } from '../fs-utils.js';
import { optimizeFlagPipeline } from '../pipeline.js';
import type { OptionsOf } from '../definitions.js';

/** The options of `onnxkit batch`, as its definition (definitions.ts) makes commander parse them. */
export type BatchCliOptions = OptionsOf<'batch'>;

/**
 * .onnx files under `dir`, sorted, skipping node_modules and hidden folders. A symlink named
 * .onnx is a model too (a Hugging Face cache links each snapshot's model.onnx to a blob: batch of
 * a snapshot folder found no model, silently); one that does not resolve to a file (dangling, a
 * loop) is kept, so its row says why it failed. Symlinks to folders are not walked (no loops).
 * A FIFO, device or socket named .onnx (skipped without a word before) is kept too: its row
 * fails saying what it is ("is not a regular file (a FIFO); refusing to read it") — the worker's
 * load() stats the path first and never opens it (opening a FIFO would wait for a writer), as
 * for a symlink to one.
 */
export function findModels(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      if (e.name.startsWith('.') || e.name === 'node_modules') continue;
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (extname(e.name).toLowerCase() !== '.onnx') continue;
      else if (!e.isSymbolicLink() || !linksToFolder(p)) out.push(p); // (a folder was walked above)
    }
  };
  walk(dir);
  return out;
}

function linksToFolder(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false; // dangling or a loop: the row says so
  }
}

export default async function batch(dir: string, opts: BatchCliOptions): Promise<number> {
  const mode = outputMode(opts);
  if (!statSync(dir).isDirectory()) throw new CliError(`'${dir}' is not a folder`, { hint: 'onnxkit batch takes a folder of .onnx files' });
  if (opts.verify && !opts.optimize) throw new CliError('--verify compares each model with its optimized version; add --optimize');
  const format = opts.output ? extname(opts.output).toLowerCase() : null;
  if (format !== null && !['.json', '.csv', '.html'].includes(format)) throw new CliError(`-o '${opts.output}': the summary is written as .json, .csv or .html`);
  refuseOverwritingFiles(opts.output, '-o', [['--device', opts.device]]);
  refuseUnwritableOutput(opts.output);
  const pipeline = optimizeFlagPipeline(opts.optimize);
  const files = findModels(dir);
  if (files.length === 0) throw new CliError(`no .onnx files under '${dir}'`);
  const jobs = Math.min(files.length, opts.jobs ?? Math.max(1, Math.min(availableParallelism(), 4)));
  const data: BatchWorkerData = {
    device: resolveDevice(opts.device),
    pipeline,
    verify: opts.verify === true,
    ...shapeBindings(opts),
    ...(limits.maxTensorBytes !== undefined ? { maxTensorBytes: limits.maxTensorBytes } : {}),
  };

  const progress = new Progress(mode);
  const step = progress.step(`${opts.optimize ? 'analyze, optimize' + (opts.verify ? ', verify' : '') : 'analyze'} ${files.length} models on ${jobs} worker thread${jobs > 1 ? 's' : ''}`);
  // A supervised pool (batch-pool.ts): a worker that dies fails only the model it was working on.
  const rows = await runPool(files, jobs, () => new Worker(new URL('../batch-worker.js', import.meta.url), { workerData: data }), (done) => step.update(done / files.length, `${done}/${files.length}`));
  step.done();

  const failed = rows.filter((r) => !r.ok).length;
  const summary = { folder: dir, models: rows.length, failed, device: data.device.id, pipeline: data.pipeline, rows: rows.map((r) => ({ ...r, file: relative(dir, r.file) })) };
  if (opts.output) {
    ensureParent(opts.output);
    const text = format === '.json' ? JSON.stringify(summary, null, 2) + '\n' : format === '.csv' ? toCsv(summary.rows) : toHtml(summary);
    writeFileAtomic(opts.output, new TextEncoder().encode(text));
  }
  if (mode.json) {
    process.stdout.write(JSON.stringify(summary, null, 2) + '\n');
  } else {
    const header = ['model', 'nodes', 'params', 'MACs', 'peak mem', 'est. latency', ...(data.pipeline ? ['nodes after', 'changes'] : []), ...(data.verify ? ['equivalent'] : []), 'status'];
    process.stdout.write(
      table(
        header,
        summary.rows.map((r) => [
          r.file,
          fmtInt(r.nodes),
          fmtInt(r.params),
          fmtInt(r.macs),
          r.peakMemoryBytes == null ? '—' : fmtBytes(r.peakMemoryBytes),
          r.latencyMs == null ? '—' : fmtDuration(r.latencyMs),
          ...(data.pipeline ? [fmtInt(r.optimized?.nodes), fmtInt(r.optimized?.changes)] : []),
          ...(data.verify ? [r.verify ? (r.verify.equivalent ? (r.verify.verdict === 'equivalent' ? 'yes' : `yes (${r.verify.verdict})`) : `NO (${r.verify.maxAbsError.toExponential(1)})`) : '—'] : []),
          paint(mode, r.ok ? 'green' : 'red', rowStatus(r)),
        ]),
        mode,
      ) + '\n',
    );
    process.stdout.write(`${rows.length - failed} of ${rows.length} models ok${opts.output ? `; summary written to ${opts.output}` : ''}\n`);
  }
  return failed > 0 ? EXIT.checkFailed : EXIT.ok;
}

/** A row's status: 'ok' (saying so when its nodes had to be sorted), else why not. */
function rowStatus(r: BatchRow): string {
  if (!r.ok) return r.error ?? 'not equivalent';
  return r.inputSorted ? 'ok (its nodes were out of order: sorted)' : 'ok';
}

const CSV_COLUMNS = [
  'file', 'ok', 'error', 'fileBytes', 'nodes', 'params', 'weightParams', 'modelSizeBytes', 'macs', 'flops', 'activationsTotal',
  'activationsPeak', 'peakMemoryBytes', 'latencyMs', 'unknownLayers', 'optimized.nodes', 'optimized.params', 'optimized.macs',
  'optimized.changes', 'verify.equivalent', 'verify.maxAbsError', 'ms',
] as const;

function toCsv(rows: BatchRow[]): string {
  const get = (r: BatchRow, k: string): unknown => k.split('.').reduce<unknown>((o, p) => (o === null || o === undefined ? undefined : (o as Record<string, unknown>)[p]), r);
  return [CSV_COLUMNS.join(','), ...rows.map((r) => CSV_COLUMNS.map((k) => csvField(get(r, k))).join(','))].join('\n') + '\n';
}

function toHtml(s: { folder: string; models: number; failed: number; device: string; pipeline: string[] | null; rows: BatchRow[] }): string {
  // [header, display text, sort key] — sizes and durations sort by their raw numbers.
  type Col = [string, (r: BatchRow) => string, ((r: BatchRow) => number | null | undefined)?];
  const cols: Col[] = [
    ['model', (r) => r.file],
    ['nodes', (r) => fmtInt(r.nodes), (r) => r.nodes],
    ['params', (r) => fmtInt(r.params), (r) => r.params],
    ['MACs', (r) => fmtInt(r.macs), (r) => r.macs],
    ['peak memory', (r) => (r.peakMemoryBytes == null ? '—' : fmtBytes(r.peakMemoryBytes)), (r) => r.peakMemoryBytes],
    ['est. latency', (r) => (r.latencyMs == null ? '—' : fmtDuration(r.latencyMs)), (r) => r.latencyMs],
    ...(s.pipeline
      ? ([
          ['nodes after', (r: BatchRow) => fmtInt(r.optimized?.nodes), (r: BatchRow) => r.optimized?.nodes],
          ['changes', (r: BatchRow) => fmtInt(r.optimized?.changes), (r: BatchRow) => r.optimized?.changes],
        ] as Col[])
      : []),
    ['equivalent', (r) => (r.verify ? (r.verify.equivalent ? 'yes' : 'NO') : '—')],
    ['verdict', (r) => r.verify?.verdict ?? '—'],
    ['status', rowStatus],
  ];
  const head = cols.map(([h]) => `<th>${escapeHtml(h)}</th>`).join('');
  const cell = ([, text, key]: Col, r: BatchRow): string => {
    const k = key?.(r);
    return `<td${k === undefined || k === null ? '' : ` data-v="${k}"`}>${escapeHtml(text(r))}</td>`;
  };
  const body = s.rows.map((r) => `<tr class="${r.ok ? 'ok' : 'bad'}">${cols.map((c) => cell(c, r)).join('')}</tr>`).join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>onnxkit batch — ${escapeHtml(s.folder)}</title>
<style>body{font:14px system-ui,sans-serif;margin:24px;color:#1f2933}table{border-collapse:collapse}th,td{padding:4px 10px;border-bottom:1px solid #e4e7eb;text-align:right}th:first-child,td:first-child,td:last-child{text-align:left}th{cursor:pointer;background:#f5f7fa}tr.bad td:last-child{color:#c81e1e}</style></head>
<body><h1>onnxkit batch</h1><p>${escapeHtml(s.folder)} — ${s.models} models, ${s.failed} failed; device ${escapeHtml(s.device)}${s.pipeline ? `; pipeline ${escapeHtml(s.pipeline.join(', '))}` : ''}</p>
<table><thead><tr>${head}</tr></thead><tbody>
${body}
</tbody></table>
<script>${inlineScript(batchScript(), 'the batch summary script')}</script></body></html>
`;
}
