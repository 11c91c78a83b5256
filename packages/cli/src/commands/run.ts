/** `onnxkit run MODEL [--inputs …] [-o outputs.npz]`: run a model once in onnxruntime. */
import { runModel, summarizeTensor, writeNpz } from '@onnxkit/runtime';
import { intOption, numericInputShapes, optLevel, parseDimValues, parseInputFiles, type CommonOptions, type ShapeOptions } from '../options.js';
import { loadModel } from '../limits.js';
import { outputMode, outputsTable, Progress } from '../ui.js';
import { ensureParent, refuseOverwritingInput, refuseOverwritingModelFiles, refuseUnwritableOutput } from '../fs-utils.js';

export default async function run(
  model: string,
  opts: CommonOptions & ShapeOptions & { inputs?: string[]; output?: string; seed?: string; threads?: string; ortOpt?: string },
): Promise<number> {
  const mode = outputMode(opts);
  const progress = new Progress(mode);
  const inputShapes = numericInputShapes(opts);
  const dimValues = parseDimValues(opts.dim);
  const step = progress.step(`run ${model === '-' ? '(stdin)' : model}`);
  const inputFiles = parseInputFiles(opts.inputs);
  refuseOverwritingInput(model, opts.output, '-o');
  refuseUnwritableOutput(opts.output);
  // The outputs must not replace an external data file of the model (its weights): which files
  // those are takes a structure-only (lazy) read of the model, done only when -o is given.
  if (opts.output !== undefined && model !== '-') {
    let structure: ReturnType<typeof loadModel> | undefined;
    try {
      structure = loadModel(model, { lazy: true });
    } catch {
      // A model the importer refuses is still run (onnxruntime says what it thinks of it); the
      // check then knows no data file beyond the name compared above.
    }
    if (structure !== undefined) refuseOverwritingModelFiles(structure, opts.output, '-o');
  }
  const outputs = await runModel(model === '-' ? loadModel(model) : model, undefined, {
    ...(inputFiles ? { inputFiles } : {}),
    synthetic: {
      seed: intOption('--seed', opts.seed, { min: 0 }) ?? 0,
      ...(inputShapes ? { inputShapes } : {}),
      ...(dimValues ? { dimValues } : {}),
    },
    threads: intOption('--threads', opts.threads, { min: 1 }) ?? 1,
    graphOptimizationLevel: optLevel(opts.ortOpt) ?? 'disabled',
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

