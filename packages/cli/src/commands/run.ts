/** `onnxkit run MODEL [--inputs …] [-o outputs.npz]`: run a model once in onnxruntime. */
import { runModel, summarizeTensor, writeNpz } from '@onnxkit/runtime';
import { checkDimSymbols, numericInputShapes, parseDimValues, parseInputFiles } from '../options.js';
import { loadModel } from '../limits.js';
import { outputMode, outputsTable, Progress } from '../ui.js';
import { ensureParent, refuseOverwritingFiles, refuseOverwritingInput, refuseOverwritingModelFiles, refuseUnwritableOutput } from '../fs-utils.js';
import type { OptionsOf } from '../definitions.js';

export default async function run(
  model: string,
  opts: OptionsOf<'run'>,
): Promise<number> {
  const mode = outputMode(opts);
  const progress = new Progress(mode);
  const inputShapes = numericInputShapes(opts);
  const dimValues = parseDimValues(opts.dim);
  const step = progress.step(`run ${model === '-' ? '(stdin)' : model}`);
  const inputFiles = parseInputFiles(opts.inputs);
  refuseOverwritingInput(model, opts.output, '-o');
  refuseOverwritingFiles(opts.output, '-o', (inputFiles ?? []).map((f) => ['--inputs', typeof f === 'string' ? f : f.path] as const));
  refuseUnwritableOutput(opts.output);
  // The outputs must not replace an external data file of the model (its weights), and a --dim
  // symbol must be one the model uses: both take a structure-only (lazy) read of the model, done
  // only when -o or --dim is given.
  const fromStdin = model === '-' ? loadModel(model) : undefined;
  let structure = fromStdin;
  if (structure === undefined && (opts.output !== undefined || dimValues)) {
    try {
      structure = loadModel(model, { lazy: true });
    } catch {
      // A model the importer refuses is still run (onnxruntime says what it thinks of it); the
      // checks then know no data file beyond the name compared above, and no symbols.
    }
  }
  if (structure !== undefined) {
    checkDimSymbols(structure, opts);
    if (opts.output !== undefined && model !== '-') refuseOverwritingModelFiles(structure, opts.output, '-o');
  }
  const outputs = await runModel(fromStdin ?? model, undefined, {
    ...(inputFiles ? { inputFiles } : {}),
    synthetic: {
      seed: opts.seed,
      ...(inputShapes ? { inputShapes } : {}),
      ...(dimValues ? { dimValues } : {}),
    },
    threads: opts.threads,
    graphOptimizationLevel: opts.ortOpt,
  });
  step.done(`${outputs.size} output${outputs.size === 1 ? '' : 's'}`);
  if (opts.output) {
    ensureParent(opts.output);
    writeNpz(opts.output, outputs);
  }
  const rows = [...outputs].map(([name, t]) => summarizeTensor(name, t));
  if (mode.json) {
    process.stdout.write(JSON.stringify({ model, outputs: rows, ...(opts.output ? { saved: opts.output } : {}) }, null, 2) + '\n');
  } else {
    process.stdout.write(outputsTable(rows, mode) + '\n');
    if (opts.output) process.stdout.write(`saved ${opts.output}\n`);
  }
  return 0;
}

