/** The CLI's version, read from its package.json. */
import { readFileSync } from 'node:fs';

let cached: string | undefined;

export function version(): string {
  if (cached === undefined) {
    try {
      cached = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;
    } catch {
      cached = 'unknown';
    }
  }
  return cached;
}

/** "onnxkit 0.1.0", for files onnxkit writes. */
export function generator(): string {
  return `onnxkit ${version()}`;
}
