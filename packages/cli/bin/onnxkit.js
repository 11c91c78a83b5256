#!/usr/bin/env node
// Launcher for the `onnxkit` command: runs the compiled CLI, or says how to build it.
import { existsSync } from 'node:fs';

const entry = new URL('../dist/bin.js', import.meta.url);
if (!existsSync(entry)) {
  process.stderr.write('onnxkit: the CLI is not built yet; run `pnpm build` in the onnxkit checkout first\n');
  process.exit(2);
}
await import(entry.href);
