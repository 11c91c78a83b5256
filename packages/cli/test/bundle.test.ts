// The launcher (bin/onnxkit.js) runs the command as one CommonJS bundle compiled with the V8 code
// cache the build made (scripts/bundle-cli.mjs). V8 refuses a cache made with other V8 flags, so a
// flag set at run time during the build's cache-producing run (optimize's heap flags) silently
// cost every command its cache; these cases fail if the cache is not used.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cliRunner, FIXTURE } from './helpers/cli.js';

const tmp = mkdtempSync(join(tmpdir(), 'onnxkit-bundle-'));
const onnxkit = cliRunner(tmp, { env: { ONNXKIT_DEBUG_CODE_CACHE: '1' } });

describe('the code-cached CLI bundle', () => {
  it('is loaded with the build\'s code cache by optimize (which sets heap flags) and by other commands', () => {
    for (const args of [['optimize', FIXTURE, '-o', join(tmp, 'o.onnx'), '-q'], ['inspect', FIXTURE], ['--version']]) {
      const r = onnxkit(args);
      expect(r.code, args[0]).toBe(0);
      expect(r.stderr, args[0]).toContain('onnxkit: code cache used');
    }
  });

  it('gives the same output as the ES modules (ONNXKIT_NO_BUNDLE=1)', () => {
    const bundled = onnxkit(['analyze', FIXTURE, '--json']);
    const plain = onnxkit(['analyze', FIXTURE, '--json'], { env: { ONNXKIT_NO_BUNDLE: '1' } });
    expect(bundled.code).toBe(0);
    expect(plain.code).toBe(0);
    expect(plain.stderr).not.toContain('code cache');
    const strip = (s: string) => s.replace(/"(timeMs|ms|measuredAt)":\s*[^,\n]+/g, '"$1": 0');
    expect(strip(bundled.stdout)).toBe(strip(plain.stdout));
  });
});
