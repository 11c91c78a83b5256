/**
 * Locates and reads the Chart.js UMD build that the report inlines. chart.js 4.6.1's package
 * `exports` map does not expose `dist/chart.umd.js` (nor package.json), so we resolve the
 * package's CommonJS entry (`dist/chart.cjs`) and take its sibling `chart.umd.js`.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { ReportError } from './errors.js';

let cached: string | undefined;

/** Path of chart.js's `dist/chart.umd.js` as installed with @onnxkit/cli. */
export function chartJsPath(): string {
  let entry: string;
  try {
    entry = createRequire(import.meta.url).resolve('chart.js');
  } catch (e) {
    throw new ReportError('cannot find the chart.js package that the HTML report inlines', {
      code: 'REPORT_CHARTJS_MISSING',
      hint: 'it is a dependency of @onnxkit/cli: run `pnpm install`',
      cause: e,
    });
  }
  return join(dirname(entry), 'chart.umd.js');
}

/**
 * The Chart.js UMD source, without its `sourceMappingURL` comment (the map is not inlined, and
 * a dangling reference would make devtools try to fetch it). Read once per process.
 */
export function chartJsSource(): string {
  if (cached !== undefined) return cached;
  const path = chartJsPath();
  let src: string;
  try {
    src = readFileSync(path, 'utf8');
  } catch (e) {
    throw new ReportError(`cannot read the Chart.js UMD build at '${path}'`, {
      code: 'REPORT_CHARTJS_MISSING',
      hint: 'reinstall dependencies with `pnpm install` (chart.js 4 ships dist/chart.umd.js)',
      cause: e,
    });
  }
  if (!/^\s*\/\*!?\s*\n?\s*\*\s*Chart\.js v4\./.test(src)) {
    throw new ReportError(`'${path}' is not a Chart.js 4 UMD build`, { code: 'REPORT_CHARTJS_MISSING', hint: 'reinstall chart.js 4 with `pnpm install`' });
  }
  cached = src.replace(/\n\/\/# sourceMappingURL=\S+\s*$/, '\n');
  return cached;
}
