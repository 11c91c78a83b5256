// `pnpm bench`: runs every bench/*.bench.mjs (or those whose names contain an argument) against
// the built packages (dist/), each printing ratios measured in this same run.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ROOT } from './lib.mjs';

const filters = process.argv.slice(2);
const files = readdirSync(join(ROOT, 'bench'))
  .filter((f) => f.endsWith('.bench.mjs'))
  .filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)))
  .sort();
console.log(`onnxkit bench — node ${process.version}, ${new Date().toISOString()}`);
let failed = 0;
for (const f of files) {
  const mod = await import(pathToFileURL(join(ROOT, 'bench', f)).href);
  try {
    await mod.default();
  } catch (e) {
    failed++;
    console.log(`  ${f} failed: ${e instanceof Error ? e.stack : e}`);
  }
}
if (failed) process.exitCode = 1;
