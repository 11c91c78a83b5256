/**
 * Typed errors and non-fatal diagnostics of the ONNX codec.
 *
 * Every ImportError carries where it happened: the byte offset in the input, the protobuf field
 * path being read (`ModelProto.graph.node[12].attribute[3].t.raw_data`) and the file, so a user
 * can locate the damage with a hex editor and a tool can report one precise line.
 */
import { GraphError, OnnxkitError } from '@onnxkit/graph';

/** Stable machine-readable codes of ImportError. */
export type ImportErrorCode =
  /** The input ends inside a field. */
  | 'IMPORT_TRUNCATED'
  /** A known field has a wire type it cannot have (or the wire type is not a protobuf one). */
  | 'IMPORT_WIRE_TYPE'
  /** A length prefix claims more bytes than the enclosing message has left. */
  | 'IMPORT_LENGTH'
  /** Messages nest deeper than the configured limit. */
  | 'IMPORT_NESTING'
  /** Well-formed protobuf that is not a valid ONNX value (bad dims, unknown data type, ...). */
  | 'IMPORT_INVALID'
  /** External data refused (path outside the model folder, bad keys, out-of-range bytes, ...). */
  | 'IMPORT_EXTERNAL_DATA'
  /** The input is not an ONNX model at all (empty, another format, random bytes). */
  | 'IMPORT_NOT_ONNX'
  /** A tensor is larger than `maxTensorBytes` allows to read into memory, or the structure outgrows the `memory` budget. */
  | 'IMPORT_TOO_LARGE'
  /** A file could not be read, or changed since it was loaded. */
  | 'IMPORT_IO'
  /** A bug in onnxkit surfaced while decoding; the message carries the original error. */
  | 'IMPORT_INTERNAL';

export interface ImportErrorInit {
  byteOffset?: number;
  fieldPath?: string;
  file?: string;
  hint?: string;
  cause?: unknown;
}

export class ImportError extends OnnxkitError {
  /** Offset in the input (model file or external data file) where the problem was found. */
  readonly byteOffset: number | undefined;
  /** Protobuf field path being read, e.g. `ModelProto.graph.node[12].attribute[3].t.raw_data`. */
  readonly fieldPath: string;
  /** The file being read, when the input came from a path. */
  readonly file: string | undefined;
  declare readonly code: ImportErrorCode;

  /**
   * `what` is the bare problem; the message prepends the file and appends the location, so
   * `oneLine()` gives "model.onnx: length prefix of 4294967295 bytes exceeds ... at byte 812
   * (ModelProto.graph.initializer[3].raw_data)".
   */
  constructor(code: ImportErrorCode, what: string, init: ImportErrorInit = {}) {
    const where: string[] = [];
    if (init.byteOffset !== undefined) where.push(`at byte ${init.byteOffset}`);
    if (init.fieldPath) where.push(`in ${init.fieldPath}`);
    const message = `${init.file ? `${init.file}: ` : ''}${what}${where.length ? ` (${where.join(', ')})` : ''}`;
    super(message, { code, hint: init.hint, cause: init.cause });
    this.byteOffset = init.byteOffset;
    this.fieldPath = init.fieldPath ?? '';
    this.file = init.file;
  }
}

/** Stable machine-readable codes of ExportError. */
export type ExportErrorCode =
  /** The encoded model would pass protobuf's 2 GiB message limit. */
  | 'EXPORT_TOO_LARGE'
  /** Saving would overwrite the file a lazily loaded model still reads from. */
  | 'EXPORT_OVERWRITE_SOURCE'
  /** An external-data location that would write outside the output folder. */
  | 'EXPORT_LOCATION'
  /** A model that cannot be written as ONNX (unnamed initializer, unknown data type, ...). */
  | 'EXPORT_INVALID'
  /** The file system refused a write, rename or fsync. */
  | 'EXPORT_IO';

/** An error while encoding or writing a model; the output file is left untouched. */
export class ExportError extends OnnxkitError {
  declare readonly code: ExportErrorCode;
  readonly file: string | undefined;
  constructor(code: ExportErrorCode, message: string, init: { file?: string; hint?: string; cause?: unknown } = {}) {
    super(`${init.file ? `${init.file}: ` : ''}${message}`, { code, hint: init.hint, cause: init.cause });
    this.file = init.file;
  }
}

/** A non-fatal finding of the importer (the model still loads). */
export interface ImportDiagnostic {
  /** e.g. IMPORT_UNDEFINED_NAME, IMPORT_DUPLICATE_KEY, IMPORT_NON_UTF8. */
  readonly code: string;
  readonly message: string;
  readonly fieldPath?: string;
}

/**
 * Runs a decode so that only OnnxkitErrors escape: IR errors become IMPORT_INVALID, and any
 * other exception (a bug) becomes IMPORT_INTERNAL with the original as its cause. Shared by the
 * Node loader (load.ts) and the browser-safe codec (codec.ts).
 */
export function guardDecode<T>(file: string | undefined, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof ImportError) throw e;
    if (e instanceof GraphError) throw new ImportError('IMPORT_INVALID', e.message, { file, cause: e });
    if (e instanceof OnnxkitError) throw e;
    const msg = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
    throw new ImportError('IMPORT_INTERNAL', `internal error while decoding (${msg})`, { file, cause: e, hint: 'please report this file to the onnxkit maintainers' });
  }
}
