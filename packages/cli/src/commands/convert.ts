/** `onnxkit convert IN -o OUT [--external-data [LOCATION]]`: re-encode a model. */
import { statSync } from 'node:fs';
import { save } from '@onnxkit/importer';
import { intOption } from '../program.js';
import { fmtBytes, outputMode, Progress } from '../ui.js';
import { loadModel } from '../limits.js';
import { ensureParent } from '../fs-utils.js';

export default async function convert(
  input: string,
  opts: { output: string; externalData?: string | boolean; sizeThreshold?: string; inPlace?: boolean; json?: boolean },
): Promise<number> {
  const mode = outputMode(opts);
  const progress = new Progress(mode);
  const threshold = intOption('--size-threshold', opts.sizeThreshold, { min: 0 });
  let step = progress.step(`import ${input}`);
  const model = loadModel(input);
  step.done(`${model.graph.nodeCount} nodes`);
  ensureParent(opts.output);
  step = progress.step(`write ${opts.output}`);
  const externalData =
    opts.externalData === undefined || opts.externalData === false
      ? false
      : { ...(typeof opts.externalData === 'string' ? { location: opts.externalData } : {}), ...(threshold !== undefined ? { sizeThreshold: threshold } : {}) };
  const result = save(model, opts.output, { externalData, inPlace: opts.inPlace === true });
  step.done(fmtBytes(result.bytesWritten));
  // `-o -` streamed the model to stdout: nothing else may go there. A device or FIFO has no size.
  if (opts.output === '-') return 0;
  const st = statSync(opts.output);
  const size = st.isFile() ? st.size : result.bytesWritten;
  if (mode.json) {
    process.stdout.write(JSON.stringify({ input, output: opts.output, bytes: size, externalFiles: result.externalFiles }, null, 2) + '\n');
  } else {
    process.stdout.write(`wrote ${opts.output} (${fmtBytes(size)})${result.externalFiles.length ? ` + ${result.externalFiles.join(', ')}` : ''}\n`);
  }
  return 0;
}
