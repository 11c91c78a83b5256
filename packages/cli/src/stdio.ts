/**
 * `-` as a file name: the model comes from stdin, or goes to stdout (`onnxkit optimize - -o - < a > b`).
 * Only a self-contained model can travel through a pipe: tensors in external data need a seekable
 * file with its data file beside it, so such a model (or `--external-data` towards `-`) is refused
 * with a message that says so.
 */
import { readFileSync, statSync } from 'node:fs';
import type { Model } from '@onnxkit/graph';
import { decode, encode, ExportError, save, type DecodeOptions, type SaveOptions, type SaveResult } from '@onnxkit/importer';
import { CliError } from './errors.js';
import { ensureParent } from './fs-utils.js';

export const STDIO = '-';

let stdinBytes: number | undefined;

/** The model on stdin, decoded; refuses a terminal, an empty stream and external data. */
export function loadStdin(options: DecodeOptions): Model {
  if (process.stdin.isTTY) throw new CliError("'-' reads the model from stdin, which is a terminal", { hint: 'pipe a file into it: onnxkit inspect - < model.onnx' });
  let bytes: Buffer;
  try {
    bytes = readFileSync(0);
  } catch (e) {
    throw new CliError(`cannot read the model from stdin: ${(e as Error).message}`);
  }
  if (bytes.length === 0) throw new CliError("'-' reads the model from stdin, but stdin is empty", { hint: 'pipe a file into it: onnxkit inspect - < model.onnx' });
  stdinBytes = bytes.length;
  const model = decode(bytes, options);
  for (const g of model.graphs()) {
    for (const v of g.initializers.values()) {
      const ext = v.constValue?.external;
      if (ext) {
        throw new CliError(`stdin ('-'): tensor '${v.name}' is in external data ('${ext.location}'), which needs a seekable file next to its data`, {
          hint: 'pass the .onnx file path instead of -',
        });
      }
    }
  }
  return model;
}

/** Bytes of the model file, or of what came through stdin for `-`. */
export function inputBytes(path: string): number {
  if (path === STDIO) return stdinBytes ?? 0;
  return statSync(path).size;
}

/** Saves a model to a file (creating missing folders) or, for `-`, writes its bytes to stdout. */
export async function writeModel(model: Model, output: string, options: SaveOptions): Promise<SaveResult> {
  if (output !== STDIO) {
    ensureParent(output);
    try {
      return save(model, output, options);
    } catch (e) {
      // The library's hint names its option ({ inPlace: true }); the CLI's is --in-place.
      if (e instanceof ExportError && e.code === 'EXPORT_OVERWRITE_SOURCE') {
        throw new CliError(e.message, { code: e.code, hint: 'give another file name, or pass --in-place to replace it' });
      }
      throw e;
    }
  }
  if (options.externalData) throw new CliError("--external-data needs a file to write beside the model; '-o -' (stdout) cannot hold it", { hint: 'give -o a file path' });
  const bytes = encode(model);
  await new Promise<void>((resolve, reject) => process.stdout.write(bytes, (e) => (e ? reject(e) : resolve())));
  return { bytesWritten: bytes.byteLength, externalFiles: [] };
}

/** Bytes written to `output` and its external files (what writeModel returned for stdout). */
export function outputBytes(output: string, saved: SaveResult): number {
  if (output === STDIO) return saved.bytesWritten;
  return statSync(output).size + saved.externalFiles.reduce((n, f) => n + statSync(f).size, 0);
}
