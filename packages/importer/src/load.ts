/**
 * decode / load: bytes or a path → Model, choosing between an in-memory decode (zero-copy ranges
 * of one file buffer; a file that is mostly structure has its small payloads copied out, so no
 * tensor keeps the whole buffer alive) and a lazy structure walk (positional reads through a small
 * window, tensor payloads left on disk and read on first use, small ones copied into shared slabs).
 *
 * `lazy: 'auto'` walks lazily from AUTO_LAZY_BYTES up. The threshold comes from `pnpm bench`
 * (bench/import.bench.mjs): an eager import costs about one `readFileSync` of the whole file,
 * a lazy walk costs O(structure) regardless of weight bytes, and reading every tensor of a
 * lazily loaded model later costs about the same as the eager read. Files over 2 GiB are always
 * walked lazily (Node's readFileSync stops at 2 GiB).
 */
import { readFileSync, realpathSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { type Model, type Tensor } from '@onnxkit/graph';
import { Decoder, type CoreDecodeOptions, type MemoryBudget } from './decode.js';
import { guardDecode, ImportError, type ImportDiagnostic } from './errors.js';
import { externalResolver } from './external-data.js';
import { FileHandle, FileRangeSource, fileKind, ioError } from './file-source.js';
import { setModelOrigin } from './hints.js';
import { ModelSpec, TensorSpec } from './schema.js';

/** Files at least this large are walked lazily under `lazy: 'auto'` (see the module header). */
export const AUTO_LAZY_BYTES = 64 * 1024 * 1024;
/**
 * In a lazy walk, raw_data payloads at least this large stay on disk; smaller ones are read (into
 * shared slabs). 1 KiB (was 4 KiB) leaves a 16×16 fp32 weight on disk: on the 1M-node weighted
 * chain (bench/rules.bench.mjs writeChain, 290 MB, 200k such weights), `/usr/bin/time -f %M
 * onnxkit optimize chain.onnx -o out.onnx -q` peaks at 914–916 instead of 1,069–1,071 MiB
 * (medians of two series of 5 alternating pairs), ≈ 905 B/node over the 5-node baseline, at the
 * same CPU (medians 13.05 vs 12.92 s and 15.53 vs 14.72 s; pair differences −1.9 to +0.8 s).
 * Small lazy reads are that cheap only in a read session (file-source.ts; save and the CLI's
 * optimize pipeline open one): one descriptor per file and 64 KiB read-ahead windows instead of
 * an open/check/read/close per tensor (with 1 KiB and no sessions: 12.0 → 15.2 s CPU).
 */
export const LAZY_TENSOR_BYTES = 1024;
/**
 * Default message nesting limit. An If nested in an If costs three levels (node, attribute,
 * graph), so the decoder's own default of 64 refused legitimate models with 21 nested Ifs
 * (issue 13). The limit guards the stack only: the work of a decode is bounded by the file's
 * size, whatever the depth. 256 levels (about 85 nested Ifs) is beyond what onnxruntime loads.
 */
export const DEFAULT_MAX_DEPTH = 256;
/** Default of `maxTensorBytes`: 2 GiB. */
export const DEFAULT_MAX_TENSOR_BYTES = 2 ** 31;
const READ_FILE_LIMIT = 2 ** 31 - 1;

export interface DecodeOptions {
  /** Folder that external data locations are relative to, when decoding bytes. */
  baseDir?: string;
  /** Leave tensor payloads on disk and read them on first use. Default 'auto' (see AUTO_LAZY_BYTES). */
  lazy?: boolean | 'auto';
  /**
   * Under `lazy: 'auto'`, a file of at least this many bytes (and under AUTO_LAZY_BYTES) is read
   * whole and decoded in memory, but its payloads of LAZY_TENSOR_BYTES or more are left in the
   * file (read on use, as a lazy import's are) and the smaller ones copied into shared slabs: no
   * tensor keeps a view of the file's bytes, which are garbage once the import returns. Reading
   * those payloads is not limited by `maxTensorBytes` (the file was read whole, as it is without
   * this option). Default: never (tensors view the file's bytes, which stay alive with them).
   */
  lazyWeightsFrom?: number;
  /** Refuse to read a lazy/external tensor larger than this into memory (default 2 GiB). */
  maxTensorBytes?: number;
  /** Maximum nesting of messages (subgraphs, type protos); default DEFAULT_MAX_DEPTH (256). */
  maxDepth?: number;
  /** Called for every non-fatal finding, as it is found. */
  onDiagnostic?: (d: ImportDiagnostic) => void;
  /** Memory the import may take; past it, IMPORT_TOO_LARGE instead of an out-of-memory abort. Default: no limit. */
  memory?: MemoryBudget;
}

export interface DecodeStats {
  /** Size of the input in bytes. */
  inputBytes: number;
  /** Bytes of the model file read by the decode itself (all of it unless lazy). */
  bytesRead: number;
  lazy: boolean;
}

export interface DecodeResult {
  model: Model;
  diagnostics: ImportDiagnostic[];
  stats: DecodeStats;
}

/** Decodes a model from bytes or a path; throws ImportError on anything it cannot read. */
export function decode(input: Uint8Array | string, options: DecodeOptions = {}): Model {
  return decodeWithDiagnostics(input, options).model;
}

/** Reads the model at `path` (= decode(path)). */
export function load(path: string, options: DecodeOptions = {}): Model {
  return decodeWithDiagnostics(path, options).model;
}

export function decodeWithDiagnostics(input: Uint8Array | string, options: DecodeOptions = {}): DecodeResult {
  const file = typeof input === 'string' ? input : undefined;
  return guardDecode(file, () => refuseAmbiguous(typeof input === 'string' ? decodePath(input, options) : decodeBytes(input, options), file));
}

/**
 * Refuses models that decode but have no single meaning:
 * - two initializers (or a sparse and a dense one) with one name: the decoder keeps the first,
 *   onnxruntime uses the last, so inspect/convert/optimize would show or keep weights that never
 *   run;
 * - local functions that call themselves, directly or through others (ONNX forbids it; inlining
 *   them never ends). The error names the chain.
 */
function refuseAmbiguous(result: DecodeResult, file: string | undefined): DecodeResult {
  for (const d of result.diagnostics) {
    if (d.code === 'IMPORT_DUPLICATE_NAME' && /^(sparse )?initializer '/.test(d.message)) {
      throw new ImportError('IMPORT_INVALID', `${d.message.replace(/; the first definition is kept$/, '')}: onnxruntime would use the last definition, onnxkit the first, so the model is refused`, {
        file,
        fieldPath: d.fieldPath,
        hint: 'remove or rename one of the two definitions',
      });
    }
  }
  const chain = recursiveFunctionChain(result.model);
  if (chain !== undefined) {
    const what = chain.length === 2 ? `local function '${chain[0]}' calls itself` : `local functions call each other recursively: ${chain.join(' → ')}`;
    throw new ImportError('IMPORT_INVALID', `${what}; ONNX forbids recursive functions (inlining them never ends)`, {
      file,
      fieldPath: 'ModelProto.functions',
      hint: 'the file is corrupt or hostile; a function may only call functions defined without it',
    });
  }
  return result;
}

/**
 * The first cycle in the call graph of a model's local functions, as names from a function back
 * to itself (['f', 'f'] for self-recursion), or undefined. Iterative: a chain of 100,000
 * functions does not overflow the stack. Calls inside subgraphs of a function body count.
 */
export function recursiveFunctionChain(model: Model): string[] | undefined {
  if (model.functions.length === 0) return undefined;
  const key = (domain: string, name: string, overload: string): string => `${domain}\u0000${name}\u0000${overload}`;
  const index = new Map<string, number>();
  model.functions.forEach((f, i) => {
    if (!index.has(key(f.domain, f.name, f.overload))) index.set(key(f.domain, f.name, f.overload), i);
  });
  const callees: number[][] = model.functions.map((f) => {
    const out = new Set<number>();
    for (const n of f.graph.allNodes()) {
      const j = index.get(key(n.domain, n.opType, n.overload));
      if (j !== undefined) out.add(j);
    }
    return [...out];
  });
  const label = (i: number): string => {
    const f = model.functions[i]!;
    return f.domain ? `${f.domain}:${f.name}` : f.name;
  };
  // 0 = unvisited, 1 = on the current path, 2 = done.
  const state = new Uint8Array(model.functions.length);
  for (let root = 0; root < callees.length; root++) {
    if (state[root] !== 0) continue;
    const path: number[] = [root];
    const next: number[] = [0];
    state[root] = 1;
    while (path.length > 0) {
      const top = path.length - 1;
      const f = path[top]!;
      const k = next[top]!;
      if (k >= callees[f]!.length) {
        state[f] = 2;
        path.pop();
        next.pop();
        continue;
      }
      next[top] = k + 1;
      const g = callees[f]![k]!;
      if (state[g] === 1) {
        const from = path.indexOf(g);
        return [...path.slice(from), g].map(label);
      }
      if (state[g] === 0) {
        state[g] = 1;
        path.push(g);
        next.push(0);
      }
    }
  }
  return undefined;
}

function decodeBytes(bytes: Uint8Array, options: DecodeOptions): DecodeResult {
  const files = new Set<string>();
  const core: CoreDecodeOptions = {
    maxDepth: options.maxDepth ?? DEFAULT_MAX_DEPTH,
    onDiagnostic: options.onDiagnostic,
    memory: options.memory,
    external: options.baseDir === undefined ? undefined : externalResolver({ baseDir: options.baseDir, baseDirGiven: true, maxTensorBytes: maxBytes(options), file: undefined, files }),
  };
  const view = bytes.constructor === Uint8Array ? bytes : new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dec = new Decoder(view, ModelSpec, core);
  const model = dec.model();
  if (files.size > 0) setModelOrigin(model, { files, modelFile: undefined });
  return { model, diagnostics: dec.diagnostics, stats: { inputBytes: bytes.byteLength, bytesRead: bytes.byteLength, lazy: false } };
}

function decodePath(path: string, options: DecodeOptions): DecodeResult {
  let st;
  try {
    st = statSync(path);
  } catch (e) {
    throw ioError(path, 'cannot read the model', e);
  }
  if (st.isDirectory()) throw new ImportError('IMPORT_IO', 'is a directory, not an ONNX file', { file: path });
  // (stat, never open: opening a FIFO waits for a writer, a device may never end)
  if (!st.isFile()) throw new ImportError('IMPORT_IO', `is not a regular file (${fileKind(st)}); refusing to read it`, { file: path });
  const size = st.size;
  const wantLazy = options.lazy ?? 'auto';
  let lazy = wantLazy === 'auto' ? size >= AUTO_LAZY_BYTES : wantLazy;
  const diagnostics: ImportDiagnostic[] = [];
  const onDiagnostic = (d: ImportDiagnostic): void => {
    diagnostics.push(d);
    options.onDiagnostic?.(d);
  };
  if (!lazy && size > READ_FILE_LIMIT) {
    lazy = true;
    onDiagnostic({ code: 'IMPORT_LAZY_FORCED', message: `the file is ${size} bytes, over what one read can hold; tensors are read lazily` });
  }
  const realFile = realpathSync(path);
  const files = new Set<string>();
  const limit = maxBytes(options);
  const core: CoreDecodeOptions = {
    file: path,
    maxDepth: options.maxDepth ?? DEFAULT_MAX_DEPTH,
    onDiagnostic,
    memory: options.memory,
    external: externalResolver({ baseDir: options.baseDir ?? dirname(resolve(path)), baseDirGiven: options.baseDir !== undefined, maxTensorBytes: limit, file: path, files }),
  };
  let model: Model;
  let bytesRead: number;
  if (!lazy && wantLazy === 'auto' && size >= (options.lazyWeightsFrom ?? Infinity)) {
    // The bytes decoded are the file's identity was taken of: read through the handle, which
    // checks it before reading (as every later read of a payload left in the file does).
    const handle = FileHandle.open(realFile, path, 'the model file');
    handle.pin();
    try {
      // (the size of the file opened, which a later read is checked against, not of the stat before)
      const bytes = new Uint8Array(handle.size);
      handle.readAt(0, bytes, handle.size);
      core.ownsInput = true;
      // (no maxTensorBytes on these reads: the file was read whole, as without lazyWeightsFrom)
      core.lazyRaw = { threshold: LAZY_TENSOR_BYTES, source: (offset, length, tensorName) => FileRangeSource.raw(handle, offset, length, Infinity, tensorName) };
      model = new Decoder(bytes, ModelSpec, core).model();
    } finally {
      handle.unpin();
    }
    bytesRead = handle.size;
    lazy = true;
    files.add(realFile);
  } else if (!lazy) {
    let bytes: Uint8Array;
    try {
      bytes = readFileSync(path);
    } catch (e) {
      throw ioError(path, 'cannot read the model', e);
    }
    const view = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    core.ownsInput = true; // the bytes were read here: payloads may be copied out so they can be freed
    bytesRead = bytes.byteLength; // (before the decode, which may detach them: Decoder.releaseInput)
    model = new Decoder(view, ModelSpec, core).model();
  } else {
    const handle = FileHandle.open(realFile, path, 'the model file');
    core.lazyRaw = {
      threshold: LAZY_TENSOR_BYTES,
      source: (offset, length, tensorName) => FileRangeSource.raw(handle, offset, length, limit, tensorName),
    };
    handle.pin();
    try {
      const dec = new Decoder(handle, ModelSpec, core);
      model = dec.model();
      bytesRead = dec.r.bytesRead;
    } finally {
      handle.unpin();
    }
    files.add(realFile);
  }
  setModelOrigin(model, { files, modelFile: realFile });
  return { model, diagnostics, stats: { inputBytes: size, bytesRead, lazy } };
}

function maxBytes(options: DecodeOptions): number {
  const m = options.maxTensorBytes ?? DEFAULT_MAX_TENSOR_BYTES;
  if (!(m >= 0)) throw new ImportError('IMPORT_INVALID', `maxTensorBytes must be a non-negative number, got ${m}`);
  return m;
}

/** Decodes one TensorProto (the `.pb` files of ONNX test data). */
export function decodeTensorProto(bytes: Uint8Array): Tensor {
  return guardDecode(undefined, () => {
    const view = bytes.constructor === Uint8Array ? bytes : new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const dec = new Decoder(view, TensorSpec, {});
    return dec.tensor([0, view.byteLength], '', -1);
  });
}

