/**
 * How a model reaches onnxruntime: a path is handed over as is; an in-memory Model is encoded
 * with @onnxkit/importer and its bytes are sent to the onnxruntime child process. Tensors stored in external
 * data files stay where they are: ORT finds them through its
 * `session.model_external_initializers_file_folder_path` option, with the folder the caller
 * gives (`externalDataDir`) or, for a model the importer loaded, the folder its external files
 * were read from. Only when no folder is known are they read into the encoded bytes (< 2 GiB).
 */
import { statSync } from 'node:fs';
import { basename, normalize, resolve, sep } from 'node:path';
import { cloneModel, type Model, type Graph } from '@onnxkit/graph';
import { encode } from '@onnxkit/importer';
import { RuntimeError } from './errors.js';

/** ORT refuses single-file models at 2 GiB (protobuf's limit); stay clear of it. */
const MAX_INLINE_BYTES = 2 ** 31 - 64 * 2 ** 20;

export interface PreparedModel {
  /** Name used in messages: the file name, or the graph name of an in-memory model. */
  label: string;
  path?: string;
  bytes?: Uint8Array;
  /** Folder holding external data for `bytes`. */
  externalDataDir?: string;
}

/** A short name for messages. */
export function modelLabel(model: Model | string): string {
  if (typeof model === 'string') return basename(model);
  return model.graph.name ? `model '${model.graph.name}'` : 'in-memory model';
}

function* allGraphs(model: Model): IterableIterator<Graph> {
  yield* model.graphs();
}

/** Bytes held in external data files, and whether any tensor lives there. */
function externalBytes(model: Model): number {
  let n = 0;
  for (const g of allGraphs(model)) {
    for (const v of g.initializers.values()) {
      const t = v.constValue;
      if (t?.external !== undefined) n += t.byteLength;
    }
  }
  return n;
}

/**
 * The folder an imported model's external data was read from: the importer's file sources
 * expose the resolved `file`, which ends with the tensor's `location`. Undefined unless every
 * external tensor agrees.
 */
function inferExternalDir(model: Model): string | undefined {
  let dir: string | undefined;
  for (const g of allGraphs(model)) {
    for (const v of g.initializers.values()) {
      const t = v.constValue;
      const info = t?.external;
      if (t === null || info === undefined) continue;
      const file = (t.source as { file?: unknown } | undefined)?.file;
      if (typeof file !== 'string') return undefined;
      const loc = normalize(info.location);
      const f = normalize(file);
      if (!f.endsWith(sep + loc)) return undefined;
      const base = f.slice(0, f.length - loc.length - 1);
      if (dir !== undefined && dir !== base) return undefined;
      dir = base;
    }
  }
  return dir;
}

export function prepareModel(model: Model | string, options: { externalDataDir?: string; label?: string } = {}): PreparedModel {
  const label = options.label ?? modelLabel(model);
  if (typeof model === 'string') {
    const path = resolve(model);
    let st;
    try {
      st = statSync(path);
    } catch {
      throw new RuntimeError(`model file not found: ${model}`, { code: 'RUNTIME_MODEL_NOT_FOUND', model: label, step: 'create', hint: 'check the path' });
    }
    if (!st.isFile()) throw new RuntimeError(`${model} is not a file`, { code: 'RUNTIME_MODEL_NOT_FOUND', model: label, step: 'create' });
    return { label, path };
  }
  let toEncode = model;
  let externalDataDir: string | undefined;
  const ext = externalBytes(model);
  if (ext > 0) {
    const inferred = options.externalDataDir === undefined ? inferExternalDir(model) : undefined;
    if (options.externalDataDir !== undefined || inferred !== undefined) {
      externalDataDir = resolve(options.externalDataDir ?? inferred!);
    } else if (ext > MAX_INLINE_BYTES) {
      throw new RuntimeError(`${label}: ${ext} bytes of weights live in external data files and cannot be inlined (onnxruntime's 2 GiB limit)`, {
        code: 'RUNTIME_MODEL_TOO_LARGE',
        model: label,
        step: 'encode',
        hint: 'pass externalDataDir (the folder of its external data), or pass the model path instead',
      });
    } else {
      // Without a folder ORT cannot resolve the locations, so read the weights into the proto.
      toEncode = cloneModel(model);
      for (const g of allGraphs(toEncode)) {
        for (const v of g.initializers.values()) {
          const t = v.constValue;
          if (t?.external !== undefined) v.constValue = t.materialize();
        }
      }
    }
  }
  let bytes: Uint8Array;
  try {
    bytes = encode(toEncode);
  } catch (e) {
    throw new RuntimeError(`${label}: could not encode the model for onnxruntime: ${(e as Error).message}`, {
      code: 'RUNTIME_ENCODE_FAILED',
      model: label,
      step: 'encode',
      cause: e,
      hint: ext > 0 ? 'pass externalDataDir (the folder of its external data) or save the model and load it by path' : undefined,
    });
  }
  if (bytes.byteLength > MAX_INLINE_BYTES) {
    throw new RuntimeError(`${label}: the encoded model is ${bytes.byteLength} bytes; onnxruntime rejects single-file models of 2 GiB or more`, {
      code: 'RUNTIME_MODEL_TOO_LARGE',
      model: label,
      step: 'encode',
      hint: 'save it with external data (importer save(..., { externalData: true })) and pass the path',
    });
  }
  return { label, bytes, externalDataDir };
}
