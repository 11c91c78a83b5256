/**
 * The report page's script, as text to inline. Its source is TypeScript
 * (packages/cli/client/report.ts: type-checked with the DOM library and linted); `pnpm build`
 * compiles it to dist/report/client.js (scripts/build-client.mjs), read here once. The path is
 * the same from src/report (tests) and dist/report (the installed package): ../../dist/report.
 */
import { readFileSync } from 'node:fs';
import { ReportError } from './errors.js';

const BUILT = new URL('../../dist/report/client.js', import.meta.url);

function load(): string {
  try {
    return readFileSync(BUILT, 'utf8');
  } catch (e) {
    throw new ReportError(`the report script is not built (${(e as NodeJS.ErrnoException).code ?? 'unreadable'}: ${BUILT.pathname}); run \`pnpm build\``);
  }
}

export const CLIENT_SCRIPT = load();
