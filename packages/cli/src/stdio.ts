/**
 * `-` as a file name: the model comes from stdin, or goes to stdout (`onnxkit optimize - -o - < a > b`).
 * Only a self-contained model can travel through a pipe: tensors in external data need a seekable
 * file with its data file beside it, so such a model (or `--external-data` towards `-`) is refused
 * with a message that says so.
 */
import { fstatSync, readSync, statSync } from 'node:fs';
import type { Model } from '@onnxkit/graph';
import { decode, encode, ExportError, save, type DecodeOptions, type SaveOptions, type SaveResult } from '@onnxkit/importer';
import { CliError } from './errors.js';
import { ensureParent } from './fs-utils.js';

export const STDIO = '-';

let stdinBytes: number | undefined;

/** The model on stdin, decoded; refuses a terminal, an empty stream and external data. */
export function loadStdin(options: DecodeOptions): Model {
  if (process.stdin.isTTY) throw new CliError("'-' reads the model from stdin, which is a terminal", { hint: 'pipe a file into it: onnxkit inspect - < model.onnx' });
  const bytes = readStdin();
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

/**
 * The most a model on stdin may hold: protobuf's 2 GiB limit for one message, the size of any
 * model without external data (the only kind a pipe can carry).
 */
const MAX_STDIN_BYTES = 2 ** 31 - 1;
const STDIN_CHUNK = 1 << 20;

/**
 * All of stdin, read in chunks up to MAX_STDIN_BYTES. A character device (`< /dev/zero`,
 * `< /dev/urandom`) is refused at once, and a stream longer than any model is refused at the
 * limit: readFileSync(0) read /dev/zero until memory ran out, deaf to SIGTERM while it did.
 */
function readStdin(): Uint8Array {
  const hint = 'pipe a file into it: onnxkit inspect - < model.onnx';
  let st;
  try {
    st = fstatSync(0);
  } catch (e) {
    throw new CliError(`cannot read the model from stdin: ${(e as Error).message}`);
  }
  if (st.isDirectory()) throw new CliError("'-' reads the model from stdin, which is a folder", { hint });
  if (st.isCharacterDevice() || st.isBlockDevice()) throw new CliError(`'-' reads the model from stdin, which is a ${st.isCharacterDevice() ? 'character' : 'block'} device (such as /dev/null or /dev/zero), not a file or a pipe`, { hint });
  const tooLong = (): CliError => new CliError(`stdin holds more than ${MAX_STDIN_BYTES} bytes, more than any ONNX file without external data (protobuf's 2 GiB limit)`, { hint: 'pass the .onnx file path instead of -' });
  if (st.isFile() && st.size > MAX_STDIN_BYTES) throw tooLong();
  // (a pipe gives at most 64 KiB per read: each chunk is filled by as many reads as it takes)
  const chunks: Buffer[] = [];
  let total = 0;
  let chunk = Buffer.allocUnsafe(st.isFile() ? Math.max(1, st.size) : STDIN_CHUNK);
  let used = 0;
  for (;;) {
    if (used === chunk.length) {
      chunks.push(chunk);
      chunk = Buffer.allocUnsafe(STDIN_CHUNK);
      used = 0;
    }
    let n: number;
    try {
      n = readSync(0, chunk, used, chunk.length - used, null);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EAGAIN') {
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1);
        continue;
      }
      if (code === 'EOF') break;
      throw new CliError(`cannot read the model from stdin: ${(e as Error).message}`);
    }
    if (n === 0) break;
    used += n;
    total += n;
    if (total > MAX_STDIN_BYTES) throw tooLong();
  }
  chunks.push(chunk.subarray(0, used));
  return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, total);
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
