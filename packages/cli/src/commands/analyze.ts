/**
 * `onnxkit analyze MODEL`: the lecture's efficiency metrics per layer and in total — #params,
 * model size, activations, MACs/FLOPs, peak memory and a roofline latency estimate.
 */
import { basename } from 'node:path';
import { writeFileAtomic } from '@onnxkit/importer';
import { analysisJsonPieces, analysisToCsv, analysisToMarkdown, analyzeModel, formatAnalysisTable, parseEnergyTable, toNetronAttachment } from '@onnxkit/passes';
import { resolveDeviceOrCalibrate } from '../devices.js';
import { CliError } from '../errors.js';
import { checkDimSymbols, parseDimValues, parseInputShapes } from '../options.js';
import { outputMode } from '../ui.js';
import { writeJsonText } from '../json-stream.js';
import { loadModel } from '../limits.js';
import { refuseInvalidModel, sortedInputWarning } from '../validity.js';
import { analysisMemory } from '../memory.js';
import { ensureParent, readSmallFile, refuseOverwritingFiles, refuseOverwritingInput, refuseOverwritingModelFiles, refuseUnwritableOutput } from '../fs-utils.js';
import type { OptionsOf } from '../definitions.js';

/** The options of `onnxkit analyze`, as its definition (definitions.ts) makes commander parse them. */
export type AnalyzeCliOptions = OptionsOf<'analyze'>;

export default async function analyze(file: string, opts: AnalyzeCliOptions): Promise<number> {
  const formats = [opts.json, opts.csv, opts.markdown].filter(Boolean).length;
  if (formats > 1) throw new CliError('choose one of --json, --csv, --markdown');
  const mode = outputMode({ json: opts.json || opts.csv || opts.markdown, quiet: opts.quiet === true });
  const bits = opts.bits;
  const inputShapes = parseInputShapes(opts.inputShape);
  const dimValues = parseDimValues(opts.dim);
  const device = await resolveDeviceOrCalibrate(opts.device, 1);
  const trainingBatch = opts.trainingBatch;
  const energy = opts.energyTable === undefined ? undefined : parseEnergyTable(readJsonFile(opts.energyTable), `--energy-table ${opts.energyTable}`);
  refuseOverwritingInput(file, opts.output, '-o');
  if (typeof opts.netron === 'string') refuseOverwritingInput(file, opts.netron, '--netron');
  const netronFile = typeof opts.netron === 'string' ? opts.netron : opts.netron && file !== '-' ? `${file}.json` : undefined;
  const read = [['--device', opts.device], ['--energy-table', opts.energyTable]] as const;
  refuseOverwritingFiles(opts.output, '-o', read, [['--netron', netronFile]]);
  refuseOverwritingFiles(netronFile, '--netron', read);
  refuseUnwritableOutput(opts.output);
  if (typeof opts.netron === 'string') refuseUnwritableOutput(opts.netron);
  const model = loadModel(file);
  const sortedWarning = sortedInputWarning(refuseInvalidModel(model, 'it was not analyzed'));
  if (sortedWarning !== undefined && !mode.quiet) process.stderr.write(`${sortedWarning}\n`);
  checkDimSymbols(model, opts);
  refuseOverwritingModelFiles(model, opts.output, '-o');
  if (netronFile !== undefined) refuseOverwritingModelFiles(model, netronFile, '--netron');
  if (!model.graph.name) model.graph.name = file === '-' ? 'model' : basename(file).replace(/\.onnx$/i, '');
  const report = analyzeModel(model, { device, ...(bits !== undefined ? { bits } : {}), ...(inputShapes ? { inputShapes } : {}), ...(dimValues ? { dimValues } : {}), ...(trainingBatch !== undefined ? { trainingBatch } : {}), ...(energy ? { energy } : {}), memory: analysisMemory() });
  const toFile = opts.output !== undefined && opts.output !== '-';
  if (toFile) ensureParent(opts.output!);
  if (opts.json) {
    // In pieces, never one string: a million layers' JSON is longer than V8's longest string.
    // (A blank line after it, as before: analysisToJson ends with one, and a line break was added.)
    const pieces = function* (): Generator<string> {
      yield* analysisJsonPieces(report);
      yield '\n';
    };
    if (toFile) writeFileAtomic(opts.output!, utf8Chunks(pieces()));
    else writeJsonText((put) => {
      for (const piece of pieces()) put(piece);
    });
  } else {
    const text = opts.csv
      ? analysisToCsv(report)
      : opts.markdown
        ? analysisToMarkdown(report)
        : formatAnalysisTable(report, { color: mode.color, showConstant: opts.all === true }) + '\n';
    if (toFile) writeFileAtomic(opts.output!, new TextEncoder().encode(text));
    else process.stdout.write(text);
  }
  if (opts.netron) {
    if (file === '-' && typeof opts.netron !== 'string') throw new CliError('--netron needs a file name when the model comes from stdin', { hint: '--netron model.json' });
    const target = netronFile!; // (the one case it is undefined, stdin without a name, was refused above)
    ensureParent(target);
    writeFileAtomic(target, new TextEncoder().encode(JSON.stringify(toNetronAttachment(report), null, 2) + '\n'));
    if (!mode.json && !mode.quiet) process.stderr.write(`wrote Netron attachment ${target} (open the model in Netron next to it to see the metrics)\n`);
  }
  return 0;
}

/** The pieces as UTF-8 chunks of about 64 KiB (a file written in pieces). */
function* utf8Chunks(pieces: Iterable<string>): Generator<Uint8Array> {
  const encoder = new TextEncoder();
  let pending = '';
  for (const piece of pieces) {
    pending += piece;
    if (pending.length >= 1 << 16) {
      yield encoder.encode(pending);
      pending = '';
    }
  }
  yield encoder.encode(pending);
}

function readJsonFile(path: string): unknown {
  // A FIFO would block the read forever, /dev/urandom never ends: a small regular file only.
  const text = readSmallFile(path, 'an energy table');
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new CliError(`${path} is not valid JSON: ${e instanceof Error ? e.message : String(e)}`);
  }
}
