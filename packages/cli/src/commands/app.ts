/**
 * `onnxkit app -o DIR`: builds the browser app into a static folder that can be hosted anywhere
 * (see app-build.ts).
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { buildApp } from '../app-build.js';
import { CliError } from '../errors.js';

export interface AppCliOptions {
  output?: string;
}

export default async function app(opts: AppCliOptions): Promise<number> {
  if (!opts.output) throw new CliError('app needs -o DIR (the folder to write the static app into)');
  if (existsSync(opts.output)) {
    const entries = readdirSync(opts.output);
    if (entries.length > 0 && !entries.includes('index.html')) {
      throw new CliError(`refusing to empty '${opts.output}': it is not empty and holds no previous app build`, { hint: 'give a new or empty folder' });
    }
  }
  const files = await buildApp(opts.output);
  process.stdout.write(`wrote the onnxkit app to ${opts.output} (${files.length} files); open ${join(opts.output, 'index.html')} through any static web server\n`);
  return 0;
}
