/** .npy / .npz files on disk: atomic, deterministic writers and readers (see npy.ts). */
import { readFileSync } from 'node:fs';
import type { Tensor } from '@onnxkit/graph';
import { writeFileAtomic } from '@onnxkit/importer';
import { VerifyError } from './errors.js';
import { decodeNpy, decodeNpz, encodeNpy, encodeNpz } from './npy.js';

/** Writes one tensor as an .npy file (atomic: a crash never leaves a half-written file). */
export function writeNpy(path: string, tensor: Tensor): void {
  writeFileAtomic(path, encodeNpy(tensor));
}

/** Writes tensors as an .npz archive (atomic, deterministic; `compress` deflates entries). */
export function writeNpz(path: string, tensors: ReadonlyMap<string, Tensor> | Readonly<Record<string, Tensor>>, options: { compress?: boolean } = {}): void {
  writeFileAtomic(path, encodeNpz(tensors, options));
}

function read(path: string): Uint8Array {
  try {
    return new Uint8Array(readFileSync(path));
  } catch (e) {
    throw new VerifyError(`cannot read ${path}: ${(e as Error).message}`, { code: 'VERIFY_INPUT_FILE', file: path, cause: e });
  }
}

/** Reads an .npy file; the tensor is named after the file stem unless `name` is given. */
export function readNpy(path: string, name?: string): Tensor {
  const stem = path.replace(/^.*[\\/]/, '').replace(/\.npy$/i, '');
  return decodeNpy(read(path), name ?? stem, path);
}

/** Reads an .npz archive. */
export function readNpz(path: string): Map<string, Tensor> {
  return decodeNpz(read(path), path);
}
