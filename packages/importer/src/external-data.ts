/**
 * External data on the read side: turns a checked `(location, offset, length)` into a lazy
 * source, confined to the model's folder.
 *
 * The syntactic checks (no absolute path, no `..`, closed key set) already ran in the decoder.
 * Here the file system is consulted: the location is resolved with realpath and must stay
 * inside the folder's realpath (a symlink pointing outside is refused: CVE-2026-27489), must be
 * a regular file (not a device, FIFO or directory), and must hold `offset + length` bytes. Each
 * refusal names the tensor and the file. Nothing is read until a tensor's bytes are needed.
 */
import { realpathSync, statSync } from 'node:fs';
import { isAbsolute, join, relative, sep } from 'node:path';
import type { ExternalDataInfo, TensorSource } from '@onnxkit/graph';
import { ImportError } from './errors.js';
import { FileHandle, FileRangeSource, ioError } from './file-source.js';

export interface ExternalResolverOptions {
  /** Folder the locations are relative to. */
  baseDir: string;
  /** Whether the caller chose `baseDir` (decode's or load's option), not the model file's folder: a missing file's hint names the option only then. */
  baseDirGiven: boolean;
  maxTensorBytes: number;
  /** The model file, for messages. */
  file: string | undefined;
  /** Receives the real path of every external file opened (for overwrite protection). */
  files: Set<string>;
}

/** True when `child` is `parent` or inside it (both absolute, normalised). */
export function isInside(parent: string, child: string): boolean {
  const rel = relative(parent, child);
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel) && rel.split(sep)[0] !== '..');
}

export function externalResolver(o: ExternalResolverOptions): (info: ExternalDataInfo, tensorName: string, fieldPath: string, byteLength: number) => TensorSource {
  let baseReal: string | undefined;
  const handles = new Map<string, FileHandle>();
  return (info, tensorName, fieldPath, byteLength) => {
    const label = tensorName ? `tensor '${tensorName}'` : 'a tensor';
    const refuse = (what: string, hint?: string, cause?: unknown): never => {
      throw new ImportError('IMPORT_EXTERNAL_DATA', `${label}: ${what}`, { fieldPath, file: o.file, hint, cause });
    };
    if (baseReal === undefined) {
      try {
        baseReal = realpathSync(o.baseDir);
      } catch (e) {
        throw ioError(o.baseDir, 'cannot resolve the model folder for external data', e);
      }
    }
    const joined = join(baseReal, info.location);
    if (!isInside(baseReal, joined)) refuse(`external data location '${info.location}' resolves outside the model folder ${baseReal}`);
    let real: string;
    try {
      real = realpathSync(joined);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      return refuse(
        code === 'ENOENT' ? `external data file '${info.location}' does not exist in ${baseReal}` : `cannot resolve external data file '${info.location}': ${(e as Error).message}`,
        code === 'ENOENT' ? (o.baseDirGiven ? 'copy the data file next to the model, or pass the right baseDir' : 'copy the data file next to the model') : undefined,
        e,
      );
    }
    if (!isInside(baseReal, real)) {
      refuse(`external data file '${info.location}' is a symbolic link (or lies under one) that resolves to ${real}, outside the model folder ${baseReal}; refusing to read it`);
    }
    let st;
    try {
      st = statSync(real);
    } catch (e) {
      return refuse(`cannot stat external data file '${info.location}'`, undefined, e);
    }
    if (!st.isFile()) {
      const kind = st.isDirectory() ? 'a directory' : st.isFIFO() ? 'a FIFO' : st.isCharacterDevice() || st.isBlockDevice() ? 'a device' : 'not a regular file';
      refuse(`external data location '${info.location}' is ${kind}, not a regular file; refusing to read it`);
    }
    let handle = handles.get(real);
    if (handle === undefined) {
      try {
        handle = FileHandle.open(real, info.location, `external data file '${info.location}'`, (opened) => {
          if (!isInside(baseReal!, opened)) {
            refuse(`external data file '${info.location}' resolved inside the model folder when checked, but the file opened is ${opened}, outside it (the folder changed in between); refusing to read it`);
          }
        });
      } catch (e) {
        if (e instanceof ImportError && e.code === 'IMPORT_EXTERNAL_DATA') throw e;
        if (e instanceof ImportError) return refuse(e.message, undefined, e);
        throw e;
      }
      handles.set(real, handle);
    }
    const needed = info.offset + byteLength;
    if (needed > handle.size) {
      refuse(`external data file '${info.location}' holds ${handle.size} bytes, but the tensor needs bytes ${info.offset} to ${needed}`, 'the data file is truncated or belongs to another model');
    }
    if (info.length !== undefined && info.offset + info.length > handle.size) {
      refuse(`external data file '${info.location}' holds ${handle.size} bytes, but offset ${info.offset} + length ${info.length} passes its end`);
    }
    o.files.add(real);
    return new FileRangeSource(handle, info.offset, byteLength, `${info.location} @ ${info.offset} + ${byteLength} bytes`, info, o.maxTensorBytes, label);
  };
}
