/** `onnxkit convert IN -o OUT [--external-data [LOCATION]]`: re-encode a model. */
import { statSync } from 'node:fs';
import { CliError } from '../errors.js';
import { STDIO, writeModel } from '../stdio.js';
import { fmtBytes, outputMode, Progress } from '../ui.js';
import { loadModel } from '../limits.js';
import { refuseOverwritingModelFiles, refuseReplacingInput, refuseUnwritableOutput } from '../fs-utils.js';
import type { OptionsOf } from '../definitions.js';

export default async function convert(
  input: string,
  opts: OptionsOf<'convert'>,
): Promise<number> {
  const mode = outputMode(opts);
  const progress = new Progress(mode);
  const threshold = opts.sizeThreshold;
  if (opts.output === STDIO && mode.json) throw new CliError('--json and -o - both write to stdout');
  refuseReplacingInput(input, opts.output, opts.inPlace);
  refuseUnwritableOutput(opts.output, opts.externalData);
  let step = progress.step(`import ${input === STDIO ? '(stdin)' : input}`);
  const model = loadModel(input);
  if (!opts.inPlace) refuseOverwritingModelFiles(model, opts.output, '-o');
  step.done(`${model.graph.nodeCount} nodes`);
  step = progress.step(`write ${opts.output === STDIO ? '(stdout)' : opts.output}`);
  const externalData =
    opts.externalData === undefined
      ? false
      : { ...(typeof opts.externalData === 'string' ? { location: opts.externalData } : {}), ...(threshold !== undefined ? { sizeThreshold: threshold } : {}) };
  const result = await writeModel(model, opts.output, { externalData, inPlace: opts.inPlace === true });
  step.done(fmtBytes(result.bytesWritten));
  // `-o -` streamed the model to stdout: nothing else may go there. A device or FIFO has no size.
  if (opts.output === STDIO) return 0;
  const st = statSync(opts.output);
  const size = st.isFile() ? st.size : result.bytesWritten; // the model file alone
  if (mode.json) {
    process.stdout.write(JSON.stringify({ input, output: opts.output, bytes: size, externalFiles: result.externalFiles }, null, 2) + '\n');
  } else if (!mode.quiet && opts.output !== STDIO) {
    process.stdout.write(`wrote ${opts.output} (${fmtBytes(size)})${result.externalFiles.length ? ` + ${result.externalFiles.join(', ')}` : ''}\n`);
  }
  return 0;
}
