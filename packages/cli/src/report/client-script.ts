/**
 * The report page's script, as text to inline. Its source is TypeScript
 * (packages/cli/client/report.ts: type-checked with the DOM library and linted); `pnpm build`
 * bundles it to dist/report/client.js (scripts/build-client.mjs), read here once. The batch
 * summary's script (client/batch.ts → dist/report/batch.js) is read when a summary is written. The path is
 * the same from src/report (tests) and dist/report (the installed package): ../../dist/report.
 */
import { readFileSync } from 'node:fs';
import { ReportError } from './errors.js';

function load(file: string, what: string): string {
  const built = new URL(`../../dist/report/${file}`, import.meta.url);
  try {
    return readFileSync(built, 'utf8');
  } catch (e) {
    throw new ReportError(`the ${what} is not built (${(e as NodeJS.ErrnoException).code ?? 'unreadable'}: ${built.pathname}); run \`pnpm build\``);
  }
}

export const CLIENT_SCRIPT = load('client.js', 'report script');

/** The batch summary page's table sorter (client/batch.ts → dist/report/batch.js). */
export function batchScript(): string {
  return load('batch.js', 'batch summary script');
}
