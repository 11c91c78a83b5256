/** `onnxkit run MODEL [--inputs …] [-o outputs.npz]`: run a model once in onnxruntime. */
import { dataTypeName, type Tensor } from '@onnxkit/graph';
import { runModel, writeNpz } from '@onnxkit/runtime';
import { intOption, numericInputShapes, optLevel, parseDimValues, parseInputFiles, type CommonOptions, type ShapeOptions } from '../options.js';
import { loadModel } from '../limits.js';
import { outputMode, Progress, table } from '../ui.js';
import { ensureParent } from '../fs-utils.js';

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
  const rows = [...outputs].map(([name, t]) => describe(name, t));
  if (mode.json) {
    process.stdout.write(JSON.stringify({ model, outputs: rows, ...(opts.output ? { saved: opts.output } : {}) }, null, 2) + '\n');
  } else {
    process.stdout.write(table(['output', 'dtype', 'shape', 'min', 'max', 'mean', 'first values'], rows.map((r) => [r.name, r.dtype, `[${r.shape.join(',')}]`, fmt(r.min), fmt(r.max), fmt(r.mean), r.head.map(fmt).join(', ')]), mode) + '\n');
    if (opts.output) process.stdout.write(`saved ${opts.output}\n`);
  }
  return 0;
}

function describe(name: string, t: Tensor): { name: string; dtype: string; shape: number[]; min: number | null; max: number | null; mean: number | null; head: number[] } {
  let values: Float64Array | null = null;
  try {
    values = t.toFloat64();
  } catch {
    values = null;
  }
  let min: number | null = null;
  let max: number | null = null;
  let sum = 0;
  if (values) {
    for (const v of values) {
      if (min === null || v < min) min = v;
      if (max === null || v > max) max = v;
      sum += v;
    }
  }
  return { name, dtype: dataTypeName(t.dtype), shape: [...t.dims], min, max, mean: values && values.length ? sum / values.length : null, head: values ? Array.from(values.subarray(0, 4)) : [] };
}

const fmt = (x: number | null): string => (x === null ? '—' : Number.isInteger(x) ? String(x) : x.toPrecision(4));
