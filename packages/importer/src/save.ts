/**
 * save(): writes a model to disk, optionally with its large initializers in one external data
 * file, atomically and deterministically, streaming tensor bytes (lazy sources are copied in
 * chunks, never all loaded), so models far beyond 4 GiB of weights save in bounded memory.
 *
 * Safety rules (issue 7): external data is written only inside the output's folder, whatever
 * locations the model carried (CVE-2025-51480 wrote through a model's own `location`); the
 * location may not be absolute, contain `..`, or pass through a symlink leaving the folder; a
 * model is never written over a file it still reads from unless `inPlace: true`. Both files are
 * written under temporary names and renamed only when both are complete.
 */
import { existsSync, lstatSync, realpathSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { DataType, type Model, type Tensor } from '@onnxkit/graph';
import { AtomicFile, commitTogether, resolveOutput } from './atomic-write.js';
import { encodeModel, isRangeReadable, type EncodeOut, type ExternalPlan } from './encode.js';
import { ExportError, ImportError } from './errors.js';
import { checkExternalLocationSyntax } from './external-entries.js';
import { isInside } from './external-data.js';
import { withReadSession } from './file-source.js';
import { getModelOrigin } from './hints.js';

export interface ExternalDataOptions {
  /** File name (relative to the output's folder) for the data; default `<model file name>.data`. */
  location?: string;
  /** Initializers smaller than this many bytes stay inside the model (default 1024). */
  sizeThreshold?: number;
  /** Offsets of tensors of at least 64 KiB are multiples of this (default 4096, for mmap); others of 16. */
  align?: number;
}

export interface SaveOptions {
  /**
   * Store large initializers in an external file. Default: only when the model would pass
   * protobuf's 2 GiB limit otherwise. `false` refuses (EXPORT_TOO_LARGE) in that case.
   */
  externalData?: boolean | ExternalDataOptions;
  /** Allow overwriting the file (or data file) this model was loaded from. */
  inPlace?: boolean;
}

export interface SaveResult {
  /** Bytes written in all files. */
  bytesWritten: number;
  /** Absolute paths of the external data files written (empty when none). */
  externalFiles: string[];
}

const MAX_MESSAGE = 0x7fffffff;
/**
 * The largest piece written at once (and the buffer small payloads and metadata are gathered
 * in): 256 KiB, not 4 MiB, since the save of the 100k-node weighted chain became the peak of
 * `optimize -q` once the import's was lowered (its chunk buffer is committed memory on top of
 * the whole model and its encoded metadata), for 16× as many writes (≈ 100 for its 26 MB
 * output). 1 MiB: bench --memory 1,019 B/node; 256 KiB: 1,015.
 */
const CHUNK = 256 << 10;
const BIG_TENSOR = 64 * 1024;

/**
 * The file `save(model, path, { externalData: { location } })` would write the external data to,
 * resolved as save resolves it (a symlinked output followed, the real path of its folder, then
 * of the location's folder); undefined when `path` is not a file path (stdout, a device) or a
 * folder on the way does not exist. For a caller's checks before the work (the CLI refuses a
 * read-only data file at once); save itself checks the location's safety when it writes.
 */
export function externalDataFile(path: string, location?: string): string | undefined {
  const dest = resolveOutput(path);
  if (dest.kind !== 'file') return undefined;
  const out = resolve(dest.path);
  try {
    const dataPath = join(realpathSync(dirname(out)), location ?? defaultLocation(out));
    return join(realpathSync(dirname(dataPath)), basename(dataPath));
  } catch {
    return undefined;
  }
}

/**
 * Checks, before any work, an external data location save() would refuse for the output `path`
 * (an absolute location, a `..` segment, one naming no file, one outside the output folder or
 * through a symlink leaving it, a folder, the model file itself, a missing folder of the
 * location): throws the ExportError save() would throw, the same words. The checks are save()'s
 * own (checkLocationIn). Does nothing for a `path` that is not a file path (stdout, a device):
 * save refuses external data there in its own words. When the output's folder does not exist yet
 * (the CLI creates it), only the location's spelling is checked.
 */
export function checkExternalDataLocation(path: string, location: string | undefined): void {
  const dest = resolveOutput(path);
  if (dest.kind !== 'file') return;
  const out = resolve(dest.path);
  const loc = location ?? defaultLocation(out);
  let realDir: string;
  try {
    realDir = realpathSync(dirname(out));
  } catch {
    checkSyntax(loc, path);
    return;
  }
  const realOut = join(realDir, basename(out));
  checkLocationIn(realDir, loc, path, existsSync(realOut) ? realpathSync(realOut) : realOut, realOut);
}

function checkSyntax(location: string, path: string): void {
  checkExternalLocationSyntax(location, 'the external data', (_code, what) => {
    throw new ExportError('EXPORT_LOCATION', what.replace(/^the external data has /, ''), { file: path, hint: 'pass a file name inside the output folder' });
  });
}

/**
 * The real path of the external data file at `location` beside the output `path` (whose folder's
 * real path is `realDir`; `target` the output's real path, `realOut` its name in `realDir`), or
 * the ExportError (EXPORT_LOCATION) saying why it may not be written there.
 */
function checkLocationIn(realDir: string, location: string, path: string, target: string, realOut: string): string {
  checkSyntax(location, path);
  const dataPath = join(realDir, location);
  if (!isInside(realDir, dataPath) || dataPath === realDir) {
    throw new ExportError('EXPORT_LOCATION', `external data location '${location}' is outside the output folder`, { file: path });
  }
  let parentReal: string;
  try {
    parentReal = realpathSync(dirname(dataPath));
  } catch (e) {
    throw new ExportError('EXPORT_LOCATION', `the folder of external data location '${location}' does not exist`, { file: path, cause: e });
  }
  if (!isInside(realDir, parentReal)) {
    throw new ExportError('EXPORT_LOCATION', `external data location '${location}' passes through a symlink to ${parentReal}, outside the output folder; refusing to write there`, { file: path });
  }
  const real = join(parentReal, basename(dataPath));
  if (existsSync(real) && lstatSync(real).isDirectory()) {
    throw new ExportError('EXPORT_LOCATION', `external data location '${location}' is a directory`, { file: path });
  }
  if (real === target || real === realOut) throw new ExportError('EXPORT_LOCATION', `external data location '${location}' is the model file itself`, { file: path });
  return real;
}

/** The external data file's name when none is given: `<model file name>.data`. */
const defaultLocation = (out: string): string => `${basename(out)}.data`;

export function save(model: Model, path: string, options: SaveOptions = {}): SaveResult {
  const dest = resolveOutput(path);
  if (dest.kind !== 'file') return saveStream(model, path, options);
  const out = resolve(dest.path);
  const dir = dirname(out);
  let realDir: string;
  try {
    realDir = realpathSync(dir);
  } catch (e) {
    throw new ExportError('EXPORT_IO', `the output folder ${dir} does not exist`, { file: path, cause: e });
  }
  const realOut = join(realDir, basename(out));
  const origin = getModelOrigin(model);
  const readsFrom = (p: string): boolean => origin !== undefined && (origin.modelFile === p || origin.files.has(p));
  const target = existsSync(realOut) ? realpathSync(realOut) : realOut;
  if (!options.inPlace && readsFrom(target)) {
    throw new ExportError('EXPORT_OVERWRITE_SOURCE', 'is the file this model was loaded from (its tensors may still be read from it); refusing to overwrite it', {
      file: path,
      hint: 'write to another path, or pass { inPlace: true } to replace it',
    });
  }

  let ext = options.externalData;
  let plan: ExternalPlan | undefined;
  let dataPath: string | undefined;
  // Without external data this encoding is also the one written (its payloads are only
  // references, so encoding a model over 2 GiB to learn that costs its metadata, not its weights).
  let inline: EncodeOut | undefined;
  if (ext === undefined || ext === false) {
    inline = encodeForSave(model, undefined, path);
    if (inline.length > MAX_MESSAGE) {
      if (ext === false) {
        throw new ExportError('EXPORT_TOO_LARGE', `the model would be ${inline.length} bytes, over protobuf's 2 GiB limit for one file`, {
          file: path,
          hint: 'save it with external data ({ externalData: true })',
        });
      }
      ext = true;
    }
  }
  const order: Tensor[] = [];
  let dataBytes = 0;
  if (ext !== undefined && ext !== false) {
    const o: ExternalDataOptions = ext === true ? {} : ext;
    const location = o.location ?? defaultLocation(out);
    dataPath = checkLocationIn(realDir, location, path, target, realOut);
    if (!options.inPlace && readsFrom(existsSync(dataPath) ? realpathSync(dataPath) : dataPath)) {
      throw new ExportError('EXPORT_OVERWRITE_SOURCE', `external data file '${location}' is a file this model still reads tensors from; refusing to overwrite it`, {
        file: path,
        hint: 'choose another location, or pass { inPlace: true }',
      });
    }
    const threshold = o.sizeThreshold ?? 1024;
    const align = o.align ?? 4096;
    if (!(Number.isSafeInteger(align) && align >= 1)) throw new ExportError('EXPORT_INVALID', `align must be a positive integer, got ${align}`);
    plan = new Map();
    for (const g of model.graphs()) {
      for (const v of g.initializers.values()) {
        const t = v.constValue;
        if (t === null || plan.has(t) || t.dtype === DataType.STRING || t.byteLength < threshold) continue;
        const a = t.byteLength >= BIG_TENSOR ? align : 16;
        dataBytes = Math.ceil(dataBytes / a) * a;
        plan.set(t, { location, offset: dataBytes, length: t.byteLength });
        order.push(t);
        dataBytes += t.byteLength;
      }
    }
  }

  const encoded = plan === undefined && inline !== undefined ? inline : encodeForSave(model, plan, path);
  inline = undefined;
  const size = encoded.length;
  if (size > MAX_MESSAGE) {
    throw new ExportError('EXPORT_TOO_LARGE', `even with external data the model would be ${size} bytes, over protobuf's 2 GiB limit`, {
      file: path,
      hint: 'lower externalData.sizeThreshold so more tensors go to the data file',
    });
  }

  const files: AtomicFile[] = [];
  try {
    // Every tensor is read in this session (the source files stay open, small payloads are read
    // in windows); it ends, closing them, before the new files replace anything (--in-place) —
    // unless the caller holds an outer session, which keeps them open until it ends (POSIX renames
    // over an open file; the CLI's session around the pipeline has ended before the save).
    withReadSession(() => {
      if (dataPath !== undefined && plan !== undefined) {
        const data = new AtomicFile(dataPath);
        files.push(data);
        writeExternalData(data, order, plan);
        data.finish();
      }
      const file = new AtomicFile(realOut);
      files.push(file);
      encoded.stream((chunk) => file.write(chunk), CHUNK);
      if (file.bytesWritten !== size) throw new ExportError('EXPORT_INVALID', `internal: wrote ${file.bytesWritten} bytes, expected ${size}`, { file: path });
      file.finish();
    });
    // Data file first, so a reader never sees a model whose data is missing; if the model's
    // rename fails, the old data file is put back: the old pair stays intact.
    commitTogether(files);
  } catch (e) {
    for (const f of files) f.abort();
    throw unreadable(e, path);
  }
  return { bytesWritten: files.reduce((n, f) => n + f.bytesWritten, 0), externalFiles: dataPath !== undefined ? [dataPath] : [] };
}

/** Standard output (`-`), a device or a FIFO: the model is streamed, in one file. */
function saveStream(model: Model, path: string, options: SaveOptions): SaveResult {
  if (options.externalData !== undefined && options.externalData !== false) {
    throw new ExportError('EXPORT_LOCATION', 'is not a regular file (stdout, a device or a FIFO); external data needs a file in a folder', { file: path, hint: 'write to a file path' });
  }
  const encoded = encodeModel(model, undefined);
  if (encoded.length > MAX_MESSAGE) throw new ExportError('EXPORT_TOO_LARGE', `the model would be ${encoded.length} bytes, over protobuf's 2 GiB limit for one file`, { file: path, hint: 'save it to a file with external data' });
  const file = new AtomicFile(path);
  try {
    withReadSession(() => encoded.stream((chunk) => file.write(chunk), CHUNK));
    file.commit();
  } catch (e) {
    file.abort();
    throw e;
  }
  return { bytesWritten: file.bytesWritten, externalFiles: [] };
}

/** A tensor that cannot be read while saving is an export error (naming the tensor), not an import error. */
function unreadable(e: unknown, path: string): unknown {
  return e instanceof ImportError ? new ExportError('EXPORT_IO', `cannot read tensor data while saving: ${e.message}`, { file: path, cause: e, hint: e.hint }) : e;
}

/** Encodes (small payloads are read now, large ones when written). */
function encodeForSave(model: Model, plan: ExternalPlan | undefined, path: string): EncodeOut {
  try {
    return withReadSession(() => encodeModel(model, plan));
  } catch (e) {
    throw unreadable(e, path);
  }
}

function writeExternalData(file: AtomicFile, order: readonly Tensor[], plan: ExternalPlan): void {
  let pos = 0;
  let scratch: Uint8Array | undefined;
  for (const t of order) {
    const at = plan.get(t)!.offset;
    if (at > pos) {
      file.write(new Uint8Array(at - pos));
      pos = at;
    }
    const n = t.byteLength;
    const src = t.source;
    if (isRangeReadable(src)) {
      scratch ??= new Uint8Array(Math.min(CHUNK, Math.max(n, 1)));
      if (scratch.byteLength < Math.min(CHUNK, n)) scratch = new Uint8Array(Math.min(CHUNK, n));
      for (let off = 0; off < n; ) {
        const k = Math.min(scratch.byteLength, n - off);
        src.readInto(scratch, off, k);
        file.write(scratch.subarray(0, k));
        off += k;
      }
    } else {
      file.write(t.bytes());
    }
    pos += n;
  }
}
