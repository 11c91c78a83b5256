/** `onnxkit zoo [NAME] -o FILE`: write a reference model (or list them). */
import { buildZooModel, ZOO_MODELS } from '@onnxkit/zoo';
import { CliError } from '../errors.js';
import { refuseUnwritableOutput } from '../fs-utils.js';
import { outputBytes, STDIO, writeModel } from '../stdio.js';
import { fmtBytes, outputMode, Progress, table } from '../ui.js';
import type { OptionsOf } from '../definitions.js';

export default async function zoo(
  name: string | undefined,
  opts: OptionsOf<'zoo'>,
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
  if (opts.output === STDIO && mode.json) throw new CliError('--json and -o - both write to stdout');
  refuseUnwritableOutput(opts.output, opts.externalData === true);
  const { batch, seed, opset } = opts; // parsed by commander (options.ts: batchArg, intArg)
  const progress = new Progress(mode);
  let step = progress.step(`build ${name}`);
  const model = buildZooModel(name, { batch, seed, ...(opset !== undefined ? { opset } : {}) });
  step.done(`${model.graph.nodeCount} nodes`);
  step = progress.step(`write ${opts.output === STDIO ? '(stdout)' : opts.output}`);
  const result = await writeModel(model, opts.output, { externalData: opts.externalData === true });
  const size = outputBytes(opts.output, result);
  step.done();
  if (mode.json) process.stdout.write(JSON.stringify({ model: name, output: opts.output, bytes: size, externalFiles: result.externalFiles }, null, 2) + '\n');
  else if (!mode.quiet && opts.output !== STDIO) process.stdout.write(`wrote ${opts.output} (${fmtBytes(size)})\n`);
  return 0;
}
