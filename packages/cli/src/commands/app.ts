/**
 * `onnxkit app -o DIR`: copies the prebuilt browser app (dist/app, built by `pnpm build`; see
 * app-static.ts) into a static folder that can be hosted anywhere.
 */
import { join } from 'node:path';
import { copyApp } from '../app-static.js';
import { CliError } from '../errors.js';

export interface AppCliOptions {
  output?: string;
}

export default function app(opts: AppCliOptions): Promise<number> {
  if (!opts.output) throw new CliError('app needs -o DIR (the folder to write the static app into)');
  const files = copyApp(opts.output);
  process.stdout.write(`wrote the onnxkit app to ${opts.output} (${files.length} files); open ${join(opts.output, 'index.html')} through any static web server\n`);
  return Promise.resolve(0);
}
