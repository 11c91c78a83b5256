/**
 * NumPy `.npy` and `.npz` files ⇄ onnxkit Tensors.
 *
 * .npy (format versions 1.0, 2.0, 3.0): magic `\x93NUMPY`, version, header length, a Python-dict
 * header `{'descr': '<f4', 'fortran_order': False, 'shape': (1, 3), }` padded to a multiple of 64
 * bytes, then the data. Little- and big-endian numeric types, bool, and fixed-width unicode
 * (`<U8`) are read; Fortran-ordered arrays are transposed to C order.
 * .npz: a zip of `<name>.npy` entries, stored or deflated (node:zlib), CRC-checked; zip64 sizes
 * are understood.
 *
 * Writers are deterministic: the same tensors give the same bytes (fixed zip timestamps, entries
 * in map order, stored by default).
 */
import { createRequire } from 'node:module';
import { inflateRawSync, deflateRawSync } from 'node:zlib';
import { maxInputBytes } from './input-limits.js';
import { DataType, Tensor, dataTypeName } from '@onnxkit/graph';
import { VerifyError } from './errors.js';

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

interface Descr {
  dtype: DataType;
  bytes: number;
  bigEndian: boolean;
  /** Unicode strings: UTF-32 code units per element. */
  chars?: number;
}

const DESCR_TYPES: Record<string, DataType> = {
  f2: DataType.FLOAT16,
  f4: DataType.FLOAT,
  f8: DataType.DOUBLE,
  i1: DataType.INT8,
  i2: DataType.INT16,
  i4: DataType.INT32,
  i8: DataType.INT64,
  u1: DataType.UINT8,
  u2: DataType.UINT16,
  u4: DataType.UINT32,
  u8: DataType.UINT64,
  b1: DataType.BOOL,
  c8: DataType.COMPLEX64,
  c16: DataType.COMPLEX128,
};
const NPY_NAMES: ReadonlyMap<DataType, string> = new Map(Object.entries(DESCR_TYPES).map(([k, v]) => [v, k]));

function fail(message: string, file: string | undefined, byteOffset?: number, hint?: string): never {
  throw new VerifyError(`${file ?? '.npy data'}: ${message}${byteOffset !== undefined ? ` (at byte ${byteOffset})` : ''}`, {
    code: 'VERIFY_INPUT_FILE',
    file,
    byteOffset,
    hint: hint ?? 'write it with numpy.save / numpy.savez',
  });
}

function parseDescr(d: string, file: string | undefined): Descr {
  const m = /^([<>|=]?)([a-zA-Z])(\d+)$/.exec(d);
  if (!m) fail(`unsupported dtype descr '${d}' (structured and object arrays are not supported)`, file, 8);
  const [, order, kind, width] = m;
  const bigEndian = order === '>';
  if (kind === 'U') {
    const chars = Number(width);
    return { dtype: DataType.STRING, bytes: 4 * chars, bigEndian, chars };
  }
  const dtype = DESCR_TYPES[`${kind}${width}`];
  if (dtype === undefined) fail(`unsupported dtype descr '${d}'`, file, 8);
  return { dtype, bytes: dtype === DataType.COMPLEX64 ? 8 : dtype === DataType.COMPLEX128 ? 16 : Number(width), bigEndian };
}

/** Parses the Python dict literal of an .npy header (only the three keys numpy writes). */
function parseHeader(text: string, file: string | undefined, offset: number): { descr: string; fortran: boolean; shape: number[] } {
  const descr = /['"]descr['"]\s*:\s*['"]([^'"]+)['"]/.exec(text);
  const fortran = /['"]fortran_order['"]\s*:\s*(True|False)/.exec(text);
  const shape = /['"]shape['"]\s*:\s*\(([^)]*)\)/.exec(text);
  if (!descr || !fortran || !shape) fail(`malformed header ${JSON.stringify(text.trim())}: expected descr, fortran_order and shape`, file, offset);
  const dims = shape[1]!
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')
    .map((s) => {
      const v = Number(s.replace(/L$/, ''));
      if (!Number.isSafeInteger(v) || v < 0) fail(`bad dimension '${s}' in header shape`, file, offset);
      return v;
    });
  return { descr: descr[1]!, fortran: fortran[1] === 'True', shape: dims };
}

/** Decodes one .npy file. `name` becomes the tensor's name. */
export function decodeNpy(bytes: Uint8Array, name = '', file?: string): Tensor {
  if (bytes.byteLength < 10 || MAGIC.some((b, i) => bytes[i] !== b)) fail('not an .npy file (missing \\x93NUMPY magic)', file, 0);
  const major = bytes[6]!;
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let headerLen: number;
  let start: number;
  if (major === 1) {
    headerLen = dv.getUint16(8, true);
    start = 10;
  } else if (major === 2 || major === 3) {
    if (bytes.byteLength < 12) fail('truncated header', file, 8);
    headerLen = dv.getUint32(8, true);
    start = 12;
  } else fail(`unsupported .npy format version ${major}.${bytes[7]}`, file, 6);
  if (start + headerLen > bytes.byteLength) fail(`header claims ${headerLen} bytes but the file has ${bytes.byteLength - start} left`, file, start);
  const text = new TextDecoder(major === 3 ? 'utf-8' : 'latin1').decode(bytes.subarray(start, start + headerLen));
  const h = parseHeader(text, file, start);
  const d = parseDescr(h.descr, file);
  const size = h.shape.reduce((p, x) => p * x, 1);
  const dataStart = start + headerLen;
  const need = size * d.bytes;
  if (bytes.byteLength - dataStart < need) {
    fail(`data truncated: ${h.descr}[${h.shape.join(',')}] needs ${need} bytes, the file has ${bytes.byteLength - dataStart}`, file, dataStart);
  }
  if (bytes.byteLength - dataStart > need) fail(`${bytes.byteLength - dataStart - need} unexpected bytes after the array data`, file, dataStart + need);
  const raw = bytes.subarray(dataStart, dataStart + need);
  let t: Tensor;
  if (d.dtype === DataType.STRING) {
    const strings: string[] = [];
    const v = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    for (let i = 0; i < size; i++) {
      let s = '';
      for (let c = 0; c < d.chars!; c++) {
        const cp = v.getUint32((i * d.chars! + c) * 4, !d.bigEndian);
        if (cp === 0) break;
        s += String.fromCodePoint(cp);
      }
      strings.push(s);
    }
    t = Tensor.fromStrings(h.shape, strings, { name });
  } else {
    // A real copy (Buffer.prototype.slice would only make a view), aligned for typed arrays.
    const copy = new Uint8Array(need);
    copy.set(raw);
    const unit = d.dtype === DataType.COMPLEX64 ? 4 : d.dtype === DataType.COMPLEX128 ? 8 : d.bytes;
    if (d.bigEndian && unit > 1) swapBytes(copy, unit);
    if (d.dtype === DataType.BOOL) for (let i = 0; i < copy.length; i++) copy[i] = copy[i] ? 1 : 0;
    t = Tensor.fromBytes(d.dtype, h.shape, copy, { name });
  }
  return h.fortran && h.shape.length > 1 ? fortranToC(t, d.bytes, name) : t;
}

function swapBytes(b: Uint8Array, width: number): void {
  for (let i = 0; i + width <= b.length; i += width) {
    for (let j = 0; j < width >> 1; j++) {
      const x = b[i + j]!;
      b[i + j] = b[i + width - 1 - j]!;
      b[i + width - 1 - j] = x;
    }
  }
}

/** Fortran (column-major) element order → C (row-major). */
function fortranToC(t: Tensor, width: number, name: string): Tensor {
  const dims = t.dims;
  const n = t.size;
  const rank = dims.length;
  const fStride = new Array<number>(rank);
  let s = 1;
  for (let i = 0; i < rank; i++) {
    fStride[i] = s;
    s *= dims[i]!;
  }
  const idx = new Array<number>(rank).fill(0);
  if (t.dtype === DataType.STRING) {
    const src = t.texts();
    const out: string[] = new Array(n);
    for (let k = 0; k < n; k++) {
      let f = 0;
      for (let i = 0; i < rank; i++) f += idx[i]! * fStride[i]!;
      out[k] = src[f]!;
      for (let i = rank - 1; i >= 0 && ++idx[i]! === dims[i]; i--) idx[i] = 0;
    }
    return Tensor.fromStrings(dims, out, { name });
  }
  const src = t.bytes();
  const out = new Uint8Array(src.length);
  for (let k = 0; k < n; k++) {
    let f = 0;
    for (let i = 0; i < rank; i++) f += idx[i]! * fStride[i]!;
    out.set(src.subarray(f * width, (f + 1) * width), k * width);
    for (let i = rank - 1; i >= 0 && ++idx[i]! === dims[i]; i--) idx[i] = 0;
  }
  return Tensor.fromBytes(t.dtype, dims, out, { name });
}

/** Encodes a tensor as .npy (format 1.0, C order, little-endian). */
export function encodeNpy(t: Tensor): Uint8Array {
  let descr: string;
  let data: Uint8Array;
  if (t.dtype === DataType.STRING) {
    const texts = t.texts().map((s) => [...s].map((c) => c.codePointAt(0)!));
    const chars = texts.reduce((m, cps) => Math.max(m, cps.length), 1);
    descr = `<U${chars}`;
    data = new Uint8Array(t.size * chars * 4);
    const v = new DataView(data.buffer);
    texts.forEach((cps, i) => cps.forEach((cp, c) => v.setUint32((i * chars + c) * 4, cp, true)));
  } else {
    const code = NPY_NAMES.get(t.dtype);
    if (code === undefined) {
      throw new VerifyError(`tensor '${t.name}' is ${dataTypeName(t.dtype)}, which has no NumPy dtype`, { code: 'VERIFY_OUTPUT_TYPE', tensor: t.name, hint: 'cast it to float32 first' });
    }
    descr = `${code === 'b1' || code === 'i1' || code === 'u1' ? '|' : '<'}${code}`;
    data = t.bytes();
  }
  const shape = t.dims.length === 1 ? `(${t.dims[0]},)` : `(${t.dims.join(', ')})`;
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shape}, }`;
  // Pad with spaces so magic + version + length + header + '\n' is a multiple of 64.
  const total = 10 + header.length + 1;
  header += ' '.repeat((64 - (total % 64)) % 64) + '\n';
  if (header.length > 65535) throw new VerifyError(`tensor '${t.name}': .npy header too long`, { tensor: t.name });
  const out = new Uint8Array(10 + header.length + data.byteLength);
  out.set(MAGIC, 0);
  out[6] = 1;
  out[7] = 0;
  out[8] = header.length & 0xff;
  out[9] = header.length >> 8;
  for (let i = 0; i < header.length; i++) out[10 + i] = header.charCodeAt(i);
  out.set(data, 10 + header.length);
  return out;
}

// ------------------------------------------------------------------------------------- zip

let crcTable: Uint32Array | undefined;
// zlib's native CRC-32 (Node ≥ 20.15) is ~12× faster than the table loop on 32 MiB (bench/npz.bench.mjs).
// Looked up on first use, by name (a namespace import would make the CLI bundle copy zlib's
// exports, loading zlib and Node's stream modules, at start-up; a named import of crc32 fails to
// link on a Node without it).
let nativeCrc32: ((data: Uint8Array) => number) | null | undefined;
export function crc32(bytes: Uint8Array): number {
  nativeCrc32 ??= (createRequire(import.meta.url)('node:zlib') as { crc32?: (data: Uint8Array) => number }).crc32 ?? null;
  if (nativeCrc32 !== null) return nativeCrc32(bytes) >>> 0;
  if (crcTable === undefined) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) c = crcTable[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** Decodes an .npz archive: tensors by entry name (without `.npy`), in archive order. */
export function decodeNpz(bytes: Uint8Array, file?: string, options: { maxTensorBytes?: number } = {}): Map<string, Tensor> {
  try {
    return decodeNpzUnchecked(bytes, file, options);
  } catch (e) {
    // A field pointing past the end of the file (found by mutating input files, issue 13).
    if (e instanceof RangeError) {
      throw new VerifyError(`${file ?? '.npz data'}: corrupt zip structure (${e.message})`, { code: 'VERIFY_INPUT_FILE', file, cause: e, hint: 'write it with numpy.savez or numpy.savez_compressed' });
    }
    throw e;
  }
}

function decodeNpzUnchecked(bytes: Uint8Array, file: string | undefined, options: { maxTensorBytes?: number }): Map<string, Tensor> {
  const where = file ?? '.npz data';
  // A zip bomb (3 MB inflating to 9.5 GB) is refused from the sizes in the directory, and
  // inflation itself stops at the size the directory promised.
  const limit = maxInputBytes(options.maxTensorBytes);
  let total = 0;
  function bad(msg: string, off?: number): never {
    throw new VerifyError(`${where}: ${msg}${off !== undefined ? ` (at byte ${off})` : ''}`, { code: 'VERIFY_INPUT_FILE', file, byteOffset: off, hint: 'write it with numpy.savez or numpy.savez_compressed' });
  }
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  // End of central directory: scan back over at most the 64 KiB comment.
  let eocd = -1;
  for (let i = bytes.length - 22; i >= Math.max(0, bytes.length - 22 - 65535); i--) {
    if (dv.getUint32(i, true) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) bad(bytes.length >= 4 && dv.getUint32(0, true) === 0x04034b50 ? 'truncated zip: no end-of-central-directory record' : 'not a zip archive (.npz files are zips)');
  let count = dv.getUint16(eocd + 10, true);
  let cdSize = dv.getUint32(eocd + 12, true);
  let cdOffset = dv.getUint32(eocd + 16, true);
  if (count === 0xffff || cdOffset === 0xffffffff || cdSize === 0xffffffff) {
    const loc = eocd - 20;
    if (loc < 0 || dv.getUint32(loc, true) !== 0x07064b50) bad('zip64 archive without a zip64 locator', eocd);
    const rec = Number(dv.getBigUint64(loc + 8, true));
    if (rec + 56 > bytes.length || dv.getUint32(rec, true) !== 0x06064b50) bad('bad zip64 end-of-central-directory record', rec);
    count = Number(dv.getBigUint64(rec + 32, true));
    cdSize = Number(dv.getBigUint64(rec + 40, true));
    cdOffset = Number(dv.getBigUint64(rec + 48, true));
  }
  if (cdOffset + cdSize > bytes.length) bad(`central directory (${cdSize} bytes at ${cdOffset}) lies beyond the end of the file`, eocd);
  const out = new Map<string, Tensor>();
  let p = cdOffset;
  for (let e = 0; e < count; e++) {
    if (p + 46 > bytes.length || dv.getUint32(p, true) !== 0x02014b50) bad(`bad central directory entry ${e}`, p);
    const flags = dv.getUint16(p + 8, true);
    const method = dv.getUint16(p + 10, true);
    const crc = dv.getUint32(p + 16, true);
    let csize = dv.getUint32(p + 20, true);
    let usize = dv.getUint32(p + 24, true);
    const nameLen = dv.getUint16(p + 28, true);
    const extraLen = dv.getUint16(p + 30, true);
    const commentLen = dv.getUint16(p + 32, true);
    let local = dv.getUint32(p + 42, true);
    const entryName = new TextDecoder(flags & 0x800 ? 'utf-8' : 'latin1').decode(bytes.subarray(p + 46, p + 46 + nameLen));
    // zip64 extended information: present fields follow in a fixed order, only those saturated.
    let x = p + 46 + nameLen;
    const xEnd = x + extraLen;
    while (x + 4 <= xEnd) {
      const id = dv.getUint16(x, true);
      const len = dv.getUint16(x + 2, true);
      if (id === 0x0001) {
        let q = x + 4;
        if (usize === 0xffffffff) {
          usize = Number(dv.getBigUint64(q, true));
          q += 8;
        }
        if (csize === 0xffffffff) {
          csize = Number(dv.getBigUint64(q, true));
          q += 8;
        }
        if (local === 0xffffffff) local = Number(dv.getBigUint64(q, true));
      }
      x += 4 + len;
    }
    p = xEnd + commentLen;
    if (flags & 1) bad(`entry '${entryName}' is encrypted`, local);
    if (local + 30 > bytes.length || dv.getUint32(local, true) !== 0x04034b50) bad(`entry '${entryName}': bad local header`, local);
    const dataStart = local + 30 + dv.getUint16(local + 26, true) + dv.getUint16(local + 28, true);
    if (dataStart + csize > bytes.length) bad(`entry '${entryName}' is truncated: ${csize} bytes expected at ${dataStart}`, dataStart);
    const comp = bytes.subarray(dataStart, dataStart + csize);
    total += usize;
    if (usize > limit + 4096 || total > 4 * limit + 4096) {
      throw new VerifyError(`${where}: entry '${entryName}' inflates to ${usize} bytes${usize > limit + 4096 ? '' : ` (${total} bytes in all)`}, above the limit of ${limit} bytes per tensor`, {
        code: 'VERIFY_INPUT_TOO_LARGE',
        file,
        byteOffset: local,
        hint: 'raise --max-tensor-bytes if the machine has the memory',
      });
    }
    let data: Uint8Array;
    if (method === 0) data = comp;
    else if (method === 8) {
      try {
        data = new Uint8Array(inflateRawSync(comp, { maxOutputLength: Math.max(1, usize) }));
      } catch (err) {
        bad(`entry '${entryName}': corrupt deflate data (${(err as Error).message})`, dataStart);
      }
    } else bad(`entry '${entryName}' uses compression method ${method}; only stored (0) and deflate (8) are supported`, local);
    if (data.length !== usize) bad(`entry '${entryName}': ${data.length} bytes after decompression, the directory says ${usize}`, dataStart);
    if (crc32(data) !== crc) bad(`entry '${entryName}': CRC mismatch (corrupt file)`, dataStart);
    const stem = entryName.endsWith('.npy') ? entryName.slice(0, -4) : entryName;
    // Undo npzEntryName's percent-encoding, so tensor names round-trip.
    const name = stem.replace(/%([0-9A-F]{2})/g, (_m, h: string) => String.fromCharCode(parseInt(h, 16)));
    if (out.has(name)) bad(`duplicate entry '${entryName}'`, local);
    out.set(name, decodeNpy(data, name, `${where}:${entryName}`));
  }
  return out;
}

/**
 * Encodes tensors as an .npz archive (`<name>.npy` entries in map order). Deterministic: fixed
 * timestamps (1980-01-01), no extra fields. `compress` deflates entries like
 * numpy.savez_compressed. Archives are limited to 4 GiB (no zip64 on the writing side).
 */
/**
 * The archive entry name (without .npy) for a tensor name taken from a model (issue 13): an
 * unzip must never write outside its folder, so '/', '\\', ':', control characters and '%' are
 * percent-encoded, as is a leading '.' (so '..' and hidden names cannot appear). Plain names
 * (letters, digits, '_', '-', '.' inside) are unchanged, as numpy.savez writes them.
 */
export function npzEntryName(name: string): string {
  // eslint-disable-next-line no-control-regex -- encoding control characters is the point
  let s = name.replace(/[%/\\:\u0000-\u001f\u007f]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`);
  if (s.startsWith('.')) s = `%2E${s.slice(1)}`;
  return s === '' ? '%00' : s;
}

export function encodeNpz(tensors: ReadonlyMap<string, Tensor> | Readonly<Record<string, Tensor>>, options: { compress?: boolean } = {}): Uint8Array {
  const entries = tensors instanceof Map ? [...tensors] : Object.entries(tensors);
  const enc = new TextEncoder();
  const locals: Uint8Array[] = [];
  const centrals: Uint8Array[] = [];
  let offset = 0;
  const method = options.compress ? 8 : 0;
  const used = new Set<string>();
  for (const [name, t] of entries) {
    const entry = npzEntryName(name);
    if (used.has(entry)) throw new VerifyError(`two tensors map to the archive entry '${entry}.npy'`, { code: 'VERIFY_BAD_OPTION', tensor: name });
    used.add(entry);
    const fname = enc.encode(`${entry}.npy`);
    const data = encodeNpy(t.name === name ? t : t.with({ name }));
    const crc = crc32(data);
    const body = options.compress ? new Uint8Array(deflateRawSync(data, { level: 6 })) : data;
    if (offset + 30 + fname.length + body.length >= 0xffffffff) {
      throw new VerifyError('.npz archives of 4 GiB or more are not supported by this writer', { code: 'VERIFY_OUTPUT_TOO_LARGE', tensor: name, hint: 'save fewer outputs per file' });
    }
    const lh = new Uint8Array(30 + fname.length);
    const l = new DataView(lh.buffer);
    l.setUint32(0, 0x04034b50, true);
    l.setUint16(4, 20, true); // version needed: 2.0
    l.setUint16(6, 0x800, true); // UTF-8 names
    l.setUint16(8, method, true);
    l.setUint16(10, 0, true); // 00:00:00
    l.setUint16(12, 0x21, true); // 1980-01-01
    l.setUint32(14, crc, true);
    l.setUint32(18, body.length, true);
    l.setUint32(22, data.length, true);
    l.setUint16(26, fname.length, true);
    l.setUint16(28, 0, true);
    lh.set(fname, 30);
    const ch = new Uint8Array(46 + fname.length);
    const c = new DataView(ch.buffer);
    c.setUint32(0, 0x02014b50, true);
    c.setUint16(4, 20, true);
    c.setUint16(6, 20, true);
    c.setUint16(8, 0x800, true);
    c.setUint16(10, method, true);
    c.setUint16(12, 0, true);
    c.setUint16(14, 0x21, true);
    c.setUint32(16, crc, true);
    c.setUint32(20, body.length, true);
    c.setUint32(24, data.length, true);
    c.setUint16(28, fname.length, true);
    c.setUint32(42, offset, true);
    ch.set(fname, 46);
    locals.push(lh, body);
    centrals.push(ch);
    offset += lh.length + body.length;
  }
  const cdSize = centrals.reduce((n, b) => n + b.length, 0);
  const eocd = new Uint8Array(22);
  const e = new DataView(eocd.buffer);
  e.setUint32(0, 0x06054b50, true);
  e.setUint16(8, entries.length, true);
  e.setUint16(10, entries.length, true);
  e.setUint32(12, cdSize, true);
  e.setUint32(16, offset, true);
  const parts = [...locals, ...centrals, eocd];
  const out = new Uint8Array(parts.reduce((n, b) => n + b.length, 0));
  let q = 0;
  for (const part of parts) {
    out.set(part, q);
    q += part.length;
  }
  return out;
}
