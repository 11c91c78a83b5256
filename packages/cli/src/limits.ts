/**
 * Resource limits from the global flags (issue 7: refusing is better than swapping):
 * `--max-tensor-bytes` caps any single tensor read into memory; `--max-folded-bytes` caps the
 * tensors constant folding may create. Every command loads models through `loadModel`.
 */
import { load, type DecodeOptions } from '@onnxkit/importer';
import type { Model } from '@onnxkit/graph';
import { CliError } from './errors.js';
import { importMemory } from './memory.js';
import { loadStdin, STDIO } from './stdio.js';

export const limits: { maxTensorBytes?: number; maxFoldedBytes?: number } = {};

const UNITS: Record<string, number> = { '': 1, b: 1, k: 1e3, kb: 1e3, kib: 1024, m: 1e6, mb: 1e6, mib: 1024 ** 2, g: 1e9, gb: 1e9, gib: 1024 ** 3, t: 1e12, tb: 1e12, tib: 1024 ** 4 };

/** "1073741824", "512MiB", "2GB", "1.5 GiB" → bytes. */
export function parseBytes(flag: string, v: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(v);
  const unit = m ? UNITS[m[2]!.toLowerCase()] : undefined;
  if (!m || unit === undefined) throw new CliError(`${flag} expects a size such as 268435456, 512MiB or 2GB, got '${v}'`);
  return Math.floor(Number(m[1]) * unit);
}

/** Loads a model file, or the model on stdin for `-` (see stdio.ts). */
export function loadModel(path: string, options: DecodeOptions = {}): Model {
  const o = { ...(limits.maxTensorBytes !== undefined ? { maxTensorBytes: limits.maxTensorBytes } : {}), memory: importMemory(), ...options };
  return path === STDIO ? loadStdin(o) : load(path, o);
}
