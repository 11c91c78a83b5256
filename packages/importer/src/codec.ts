/**
 * @onnxkit/importer/codec — the browser-safe half of the importer: decode and encode of bytes,
 * and a decode from positional reads of any source (a `Blob` in a Web Worker through
 * `FileReaderSync`, a buffer, a remote range reader…). Nothing here imports a Node built-in;
 * file paths, the lazy file walk, external data folders and atomic saves stay in the Node-only
 * modules behind the package's main entry (load.ts, save.ts, file-source.ts, external-data.ts,
 * atomic-write.ts).
 *
 * The decoder is the very one `load` uses (decode.ts + wire.ts): `decodeSource` walks the
 * structure through a small window of positional reads exactly as the CLI's lazy import does,
 * leaving payloads of at least `lazyThreshold` bytes in the source, read on first use.
 */
import { type ExternalDataInfo, type Model, type TensorSource } from '@onnxkit/graph';
import { Decoder, type CoreDecodeOptions, type MemoryBudget } from './decode.js';
import { guardDecode, ImportError, type ImportDiagnostic } from './errors.js';
import { ModelSpec } from './schema.js';
import type { PositionalInput } from './wire.js';

export { ImportError, ExportError, type ImportErrorCode, type ExportErrorCode, type ImportDiagnostic } from './errors.js';
export { encode, encodeTensorProto, type EncodeOptions } from './encode.js';
export type { PositionalInput } from './wire.js';
export type { MemoryBudget } from './decode.js';

/**
 * Payloads at least this large stay in the source. load.ts's LAZY_TENSOR_BYTES is lower (1 KiB),
 * for files read through read sessions; a RangeReader here has no such batching, so this stays 4 KiB.
 */
export const LAZY_TENSOR_BYTES = 4096;

/** Positional reads of anything addressable, plus a name for messages. */
export interface RangeReader extends PositionalInput {
  /** Name shown in messages (e.g. the dropped file's name). */
  readonly name: string;
}

export interface CodecDecodeOptions {
  /** File name used in messages. */
  file?: string;
  maxDepth?: number;
  onDiagnostic?: (d: ImportDiagnostic) => void;
  /**
   * Resolves a tensor stored as external data (e.g. from files the user dropped next to the model).
   * Without it, reading such a tensor throws an ImportError; the structure still decodes.
   */
  external?: (info: ExternalDataInfo, tensorName: string, fieldPath: string, byteLength: number) => TensorSource;
  /** `decodeSource`: payloads of at least this many bytes stay in the source (default 4096). */
  lazyThreshold?: number;
  /** Memory the decode may take; past it, IMPORT_TOO_LARGE instead of running out of memory. Default: no limit. */
  memory?: MemoryBudget;
}

export interface CodecDecodeResult {
  model: Model;
  diagnostics: ImportDiagnostic[];
  /** Bytes read from the input by the decode itself. */
  bytesRead: number;
  inputBytes: number;
}

/** Decodes a whole model held in memory (tensors are zero-copy views of `bytes`). */
export function decodeModelBytes(bytes: Uint8Array, options: CodecDecodeOptions = {}): CodecDecodeResult {
  return guardDecode(options.file, () => {
    const view = bytes.constructor === Uint8Array ? bytes : new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const dec = new Decoder(view, ModelSpec, core(options));
    const model = dec.model();
    return { model, diagnostics: dec.diagnostics, bytesRead: bytes.byteLength, inputBytes: bytes.byteLength };
  });
}

/**
 * Decodes the structure of a model through positional reads of `input`; tensor payloads of at
 * least `lazyThreshold` bytes are left in the source and read (positionally) on first use.
 */
export function decodeSource(input: RangeReader, options: CodecDecodeOptions = {}): CodecDecodeResult {
  const file = options.file ?? input.name;
  return guardDecode(file, () => {
    const opts = core({ ...options, file });
    opts.lazyRaw = {
      threshold: options.lazyThreshold ?? LAZY_TENSOR_BYTES,
      source: (offset, length, tensorName) => new RangeSource(input, offset, length, tensorName),
    };
    const dec = new Decoder(input, ModelSpec, opts);
    const model = dec.model();
    return { model, diagnostics: dec.diagnostics, bytesRead: dec.r.bytesRead, inputBytes: input.size };
  });
}

/** A byte range of a RangeReader as a lazy tensor payload. */
export class RangeSource implements TensorSource {
  readonly description: string;
  constructor(
    private readonly input: RangeReader,
    private readonly offset: number,
    readonly byteLength: number,
    tensorName = '',
  ) {
    this.description = `${input.name} @ ${offset} + ${byteLength} bytes${tensorName ? ` (tensor '${tensorName}')` : ''}`;
  }
  read(): Uint8Array {
    const out = new Uint8Array(this.byteLength);
    this.input.readAt(this.offset, out, this.byteLength);
    return out;
  }
  readInto(target: Uint8Array, sourceOffset: number, length: number): void {
    if (sourceOffset < 0 || sourceOffset + length > this.byteLength) {
      throw new ImportError('IMPORT_IO', `read of ${length} bytes at ${sourceOffset} is outside ${this.description}`);
    }
    this.input.readAt(this.offset + sourceOffset, target, length);
  }
}

/** A RangeReader over bytes already in memory (tests, and small files in the page). */
export function bytesReader(bytes: Uint8Array, name = 'model.onnx'): RangeReader & { bytesRead: number } {
  const r = {
    name,
    size: bytes.byteLength,
    bytesRead: 0,
    readAt(offset: number, target: Uint8Array, length: number): void {
      if (offset < 0 || offset + length > bytes.byteLength) throw new ImportError('IMPORT_TRUNCATED', `read past the end of ${name} (${offset} + ${length} > ${bytes.byteLength})`, { file: name });
      target.set(bytes.subarray(offset, offset + length));
      r.bytesRead += length;
    },
  };
  return r;
}

function core(options: CodecDecodeOptions): CoreDecodeOptions {
  return { file: options.file, maxDepth: options.maxDepth, onDiagnostic: options.onDiagnostic, external: options.external, memory: options.memory };
}

