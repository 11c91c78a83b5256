/** `onnxkit zoo [NAME] -o FILE`: write a reference model (or list them). */
import { statSync } from 'node:fs';
import { save } from '@onnxkit/importer';
import { buildZooModel, ZOO_MODELS } from '@onnxkit/zoo';
import { CliError } from '../errors.js';
import { intOption } from '../program.js';
import { fmtBytes, outputMode, Progress, table } from '../ui.js';
import { ensureParent } from '../fs-utils.js';

export default async function zoo(
  name: string | undefined,
  opts: { output?: string; batch?: string; seed?: string; opset?: string; externalData?: boolean; json?: boolean },
): Promise<number> {
  const mode = outputMode(opts);
  if (name === undefined) {
    if (mode.json) process.stdout.write(JSON.stringify(ZOO_MODELS, null, 2) + '\n');
    else process.stdout.write(table(['name', 'model', 'reference'], ZOO_MODELS.map((m) => [m.name, m.title, m.reference]), mode) + '\n');
    return 0;
  }
  const known: string[] = ZOO_MODELS.map((m) => m.name);
  if (!known.includes(name)) throw new CliError(`unknown zoo model '${name}'`, { hint: `choose one of ${known.join(', ')}` });
  if (!opts.output) throw new CliError('zoo needs -o FILE to write the model to', { hint: `onnxkit zoo ${name} -o ${name}.onnx` });
  const batch = opts.batch === undefined || /^\d+$/.test(opts.batch) ? intOption('--batch', opts.batch, { min: 1 }) : opts.batch;
  if (typeof batch === 'string' && !/^[A-Za-z_]\w*$/.test(batch)) throw new CliError(`--batch '${batch}' is neither a size nor a symbol`);
  const seed = intOption('--seed', opts.seed, { min: 0 });
  const opset = intOption('--opset', opts.opset, { min: 7 });
  const progress = new Progress(mode);
  let step = progress.step(`build ${name}`);
  const model = buildZooModel(name, { batch, seed, ...(opset !== undefined ? { opset } : {}) });
  step.done(`${model.graph.nodeCount} nodes`);
  ensureParent(opts.output);
  step = progress.step(`write ${opts.output}`);
  const result = save(model, opts.output, { externalData: opts.externalData === true });
  step.done();
  const size = statSync(opts.output).size;
  if (mode.json) process.stdout.write(JSON.stringify({ model: name, output: opts.output, bytes: size, externalFiles: result.externalFiles }, null, 2) + '\n');
  else process.stdout.write(`wrote ${opts.output} (${fmtBytes(size)})\n`);
  return 0;
}
