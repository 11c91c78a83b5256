/**
 * `JSON.stringify(value, null, 2)`, produced piece by piece instead of as one string: an
 * `optimize --json` of a 100k-node chain is 22 MB (60,000 change records), which as one string
 * plus its UTF-8 Buffer held ≈ 80 MB at the peak. The pieces concatenated are exactly the text
 * JSON.stringify returns — same key order, layout and escaping (tested against it, see
 * json-stream.test.ts) — and every piece ends on a token boundary, so a piece never splits a
 * string literal or a surrogate pair (each can be encoded and escaped on its own).
 *
 * Large containers are walked here; small values (a change record, a histogram) are handed to
 * JSON.stringify whole and re-indented, which is where the speed comes from.
 */
import { writeAllSync } from '@onnxkit/importer';
import { CliError } from './errors.js';
import { jsonTerminalSafe, jsonTerminalSafeBytes } from './ui.js';

/** Size units (values + string length / 64) under which a value is stringified natively in one call. */
const LEAF_BUDGET = 512;
/** Size units of consecutive small array elements stringified in one call. */
const RUN_BUDGET = 1024;

/**
 * `JSON.stringify(v, null, 2)` as it reads at nesting `depth`: v is stringified natively inside
 * `depth` one-element arrays (which indent it as its place in the document does), and the
 * wrappers' text cut off — "[\n  " per level before (d² + 3d characters), "\n  ]" after (d² + d).
 * `v` is an object without toJSON (or a boxed primitive): the wrappers change no key it sees.
 */
function nativeAt(v: unknown, depth: number): string {
  let w = v;
  for (let j = 0; j < depth; j++) w = [w];
  const text = JSON.stringify(w, null, 2);
  return depth === 0 ? text : text.slice(depth * depth + 3 * depth, text.length - depth * depth - depth);
}

/** Calls `emit` with consecutive pieces of `JSON.stringify(value, null, 2)`, each of at least `chunkChars` characters but the last (the tests check the pieces against JSON.stringify this way; writeJson writes them to a descriptor). */
export function stringifyChunked(value: unknown, emit: (text: string) => void, chunkChars = 1 << 16): void {
  let out = '';
  stringifyPieces(value, (piece) => {
    out += piece;
    if (out.length >= chunkChars) {
      emit(out);
      out = '';
    }
  });
  if (out.length > 0) emit(out);
}

/**
 * Calls `put` with the pieces of `JSON.stringify(value, null, 2)` in order, as they are made —
 * each a whole number of tokens (a run of array elements, a member's key, a value), so no piece
 * splits a string literal or a surrogate pair — without joining them: writeJson encodes each
 * straight into its buffer (joined first, they were a rope V8 flattened into one more copy).
 */
function stringifyPieces(value: unknown, put: (piece: string) => void, direct?: DirectWriter): void {
  const stack: object[] = [];
  const indents = [''];
  const indentOf = (depth: number): string => {
    while (indents.length <= depth) indents.push(`${indents[indents.length - 1]!}  `);
    return indents[depth]!;
  };
  /** Whether the last `resolve` called a toJSON (whose result must not go to JSON.stringify if it has a toJSON itself). */
  let fromToJson = false;
  /** SerializeJSONProperty's first step: `v`'s toJSON(key), on objects and bigints; NO_VALUE for undefined, a function, a symbol. */
  const resolve = (v: unknown, key: string): unknown => {
    fromToJson = false;
    if ((typeof v === 'object' && v !== null) || typeof v === 'bigint') {
      const toJSON = (v as { toJSON?: unknown }).toJSON;
      if (typeof toJSON === 'function') {
        v = toJSON.call(v, key);
        fromToJson = true;
      }
    }
    return v === undefined || typeof v === 'function' || typeof v === 'symbol' ? NO_VALUE : v;
  };

  /** Puts the serialization of `v`, a value `resolve` returned (not NO_VALUE), at nesting `depth`. */
  const write = (v: unknown, depth: number): void => {
    if (typeof v !== 'object' || v === null) {
      // Primitives: JSON.stringify's own answer; a bigint throws its TypeError.
      if (typeof v === 'string') put(JSON.stringify(v));
      else if (typeof v === 'number') put(Number.isFinite(v) ? String(v) : 'null');
      else if (typeof v === 'boolean') put(v ? 'true' : 'false');
      else if (v === null) put('null');
      else JSON.stringify(v);
      return;
    }
    const boxed = v instanceof Number || v instanceof String || v instanceof Boolean || v instanceof BigInt;
    // A toJSON result that itself has a toJSON must not be handed to JSON.stringify (it would call it again).
    if (boxed || ((!fromToJson || typeof (v as { toJSON?: unknown }).toJSON !== 'function') && sizeWithin(v, LEAF_BUDGET) >= 0)) {
      if (!boxed && direct !== undefined && direct.value(v, depth)) return;
      put(nativeAt(v, depth));
      return;
    }
    if (stack.includes(v)) throw new TypeError('Converting circular structure to JSON');
    stack.push(v);
    const inner = indentOf(depth + 1);
    if (Array.isArray(v)) {
      // Runs of small elements are stringified natively, a run per call (a slice of the array, so
      // nulls for holes and undefined come out as JSON.stringify writes them); an element with a
      // toJSON (which takes its index as key) or too large for a run is written on its own.
      put('[');
      const list: readonly unknown[] = v;
      const n = list.length;
      let start = 0;
      let units = 0;
      const run = (end: number): void => {
        if (end > start && !(direct !== undefined && direct.run(list, start, end, depth))) {
          const text = nativeAt(list.slice(start, end), depth);
          // "[\n<inner>e1,\n<inner>e2\n<indent>]" → "\n<inner>e1,\n<inner>e2" after a comma if not first.
          if (start > 0) put(',');
          put(text.slice(1, text.length - 2 - 2 * depth));
        }
        units = 0;
        start = end;
      };
      for (let i = 0; i < n; i++) {
        const e = list[i];
        const own = typeof e === 'bigint' || (typeof e === 'object' && e !== null && typeof (e as { toJSON?: unknown }).toJSON === 'function');
        const left = own ? -1 : sizeWithin(e, LEAF_BUDGET);
        if (left < 0) {
          run(i);
          put(i === 0 ? `\n${inner}` : `,\n${inner}`);
          const r = resolve(e, String(i));
          if (r === NO_VALUE) put('null');
          else write(r, depth + 1);
          start = i + 1;
          continue;
        }
        units += LEAF_BUDGET - left;
        if (units >= RUN_BUDGET) run(i + 1);
      }
      run(n);
      put(n > 0 ? `\n${indentOf(depth)}]` : ']');
    } else {
      put('{');
      let any = false;
      for (const k of Object.keys(v)) {
        const r = resolve((v as Record<string, unknown>)[k], k);
        // No value (undefined, a function, a symbol): the member is left out.
        if (r === NO_VALUE) continue;
        put(`${any ? ',' : ''}\n${inner}${JSON.stringify(k)}: `);
        any = true;
        write(r, depth + 1);
      }
      put(any ? `\n${indentOf(depth)}}` : '}');
    }
    stack.pop();
  };

  const r = resolve(value, '');
  if (r === NO_VALUE) throw new TypeError('the value has no JSON text (undefined, a function or a symbol)');
  write(r, 0);
}

/** What `resolve` returns for a value JSON leaves out. */
const NO_VALUE = Symbol('no JSON value');

/**
 * `budget` minus the size of `v` (one per value, plus a string's length / 64), or a negative
 * number as soon as it exceeds the budget (a cycle does too, so this always ends).
 */
function sizeWithin(v: unknown, budget: number): number {
  if (typeof v === 'string') return budget - 1 - (v.length >> 6);
  if (typeof v !== 'object' || v === null) return budget - 1;
  if (Array.isArray(v)) {
    budget -= 1 + v.length;
    for (let i = 0; i < v.length && budget >= 0; i++) {
      const e: unknown = v[i];
      if (typeof e === 'object' && e !== null) budget = sizeWithin(e, budget);
      else if (typeof e === 'string') budget -= e.length >> 6;
    }
    return budget;
  }
  budget -= 1;
  for (const k in v) {
    if (budget < 0) break;
    if (!Object.prototype.hasOwnProperty.call(v, k)) continue;
    budget = sizeWithin((v as Record<string, unknown>)[k], budget - 1);
  }
  return budget;
}

/** Deepest nesting DirectWriter writes (deeper values go to JSON.stringify). */
const DIRECT_DEPTH = 32;

/**
 * Writes small values (what stringifyPieces would hand to JSON.stringify) straight into
 * writeJson's output buffer as the bytes `JSON.stringify(v, null, 2)` makes of them at their
 * depth — when they are plain data: plain objects (no toJSON) and arrays of strings in printable
 * ASCII without `"` and `\`, finite numbers, booleans and null. That is nearly all of an
 * `optimize --json` report (its 60,000 change records on the 100k-node chain); the native path
 * made each run of records a string, then copied it into the buffer, then scanned it for DEL.
 * Anything else (another character, undefined, a function, a toJSON, a class instance, a hole)
 * makes it give up and leave the buffer as it found it: the value then takes the native path,
 * which escapes it as before. Printable ASCII needs no JSON escape and no terminal escape
 * (jsonTerminalSafe), so the bytes are the same either way (json-stream.test.ts compares them).
 */
class DirectWriter {
  /** False when Object.prototype has enumerable properties (for-in would see them; JSON does not). */
  readonly #enabled: boolean;

  constructor(
    readonly buf: Buffer,
    private readonly flush: () => void,
  ) {
    let clean = true;
    for (const _ in Object.prototype) clean = false;
    this.#enabled = clean;
  }

  /** Bytes of `buf` filled (by writeJson's `put` and by this writer alike). */
  get used(): number {
    return dPos;
  }
  set used(n: number) {
    dPos = n;
  }

  /** Writes `v` as it reads at `depth`; false (nothing written) when it is not plain data. */
  value(v: unknown, depth: number): boolean {
    return this.#attempt(v, -1, 0, depth);
  }

  /** Writes elements [start, end) of an array at `depth` as a run (see stringifyPieces' `run`). */
  run(list: readonly unknown[], start: number, end: number, depth: number): boolean {
    return this.#attempt(list, start, end, depth);
  }

  /** `start` < 0: the value `v`; else elements [start, end) of the array `v`. */
  #attempt(v: unknown, start: number, end: number, depth: number): boolean {
    if (!this.#enabled) return false;
    dBuf = this.buf;
    for (let retry = 0; retry < 2; retry++) {
      const from = dPos;
      dFull = false;
      if (start < 0 ? directValue(v, depth) : directRun(v as readonly unknown[], start, end, depth)) return true;
      dPos = from;
      // Not plain data, or larger than the whole buffer: the native path.
      if (!dFull || from === 0) return false;
      this.flush();
    }
    return false;
  }
}

/** DirectWriter's state: the buffer, the bytes filled, whether the last attempt ran out of room. */
let dBuf: Buffer = Buffer.alloc(0);
let dPos = 0;
let dFull = false;
/** `\n` and two spaces per level, for every depth up to DIRECT_DEPTH + 1. */
const NEWLINE_INDENT = Buffer.from(`\n${'  '.repeat(DIRECT_DEPTH + 1)}`, 'latin1');
/** Room kept free for punctuation and indentation around a value (more than a line's prefix needs). */
const SLACK = 2 * DIRECT_DEPTH + 16;

function directRun(list: readonly unknown[], start: number, end: number, depth: number): boolean {
  if (start > 0) {
    if (dPos + 1 > dBuf.length) return (dFull = true), false;
    dBuf[dPos++] = 0x2c;
  }
  for (let i = start; i < end; i++) {
    if (dPos + SLACK > dBuf.length) return (dFull = true), false;
    if (i > start) dBuf[dPos++] = 0x2c;
    indent(depth + 1);
    if (!directValue(list[i], depth + 1)) return false;
  }
  return true;
}

/** Writes `\n` and the indentation of `depth` (the caller checked the room: SLACK). */
function indent(depth: number): void {
  const buf = dBuf;
  let p = dPos;
  const n = 1 + 2 * depth;
  for (let i = 0; i < n; i++) buf[p++] = NEWLINE_INDENT[i]!;
  dPos = p;
}

/** A string whose characters are all printable ASCII other than `"` and `\`, quoted; false otherwise. */
function directString(s: string): boolean {
  const n = s.length;
  if (dPos + n + SLACK > dBuf.length) return (dFull = true), false;
  const buf = dBuf;
  let p = dPos;
  buf[p++] = 0x22;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c > 0x7e || c === 0x22 || c === 0x5c) return false;
    buf[p++] = c;
  }
  buf[p++] = 0x22;
  dPos = p;
  return true;
}

/** ASCII text (a number, true, false, null). */
function directAscii(s: string): boolean {
  const n = s.length;
  if (dPos + n + SLACK > dBuf.length) return (dFull = true), false;
  const buf = dBuf;
  let p = dPos;
  for (let i = 0; i < n; i++) buf[p++] = s.charCodeAt(i);
  dPos = p;
  return true;
}

function directValue(v: unknown, depth: number): boolean {
  if (typeof v === 'string') return directString(v);
  // JSON's number text is Number#toString's (-0 included: "0"); non-finite ones are null.
  if (typeof v === 'number') return directAscii(Number.isFinite(v) ? String(v) : 'null');
  if (typeof v === 'boolean') return directAscii(v ? 'true' : 'false');
  // undefined, a function, a symbol (left out or null, by place), a bigint (a TypeError).
  if (typeof v !== 'object') return false;
  if (v === null) return directAscii('null');
  if (depth >= DIRECT_DEPTH) return false;
  // (each write of punctuation and indentation follows a check that SLACK bytes are free)
  if (dPos + SLACK > dBuf.length) return (dFull = true), false;
  if (Array.isArray(v)) {
    if (Object.getPrototypeOf(v) !== Array.prototype || typeof (v as { toJSON?: unknown }).toJSON === 'function') return false;
    const list: readonly unknown[] = v;
    const n = list.length;
    if (n === 0) return directAscii('[]');
    dBuf[dPos++] = 0x5b;
    for (let i = 0; i < n; i++) {
      if (dPos + SLACK > dBuf.length) return (dFull = true), false;
      if (i > 0) dBuf[dPos++] = 0x2c;
      indent(depth + 1);
      if (!directValue(list[i], depth + 1)) return false;
    }
    if (dPos + SLACK > dBuf.length) return (dFull = true), false;
    indent(depth);
    dBuf[dPos++] = 0x5d;
    return true;
  }
  const proto: unknown = Object.getPrototypeOf(v);
  if ((proto !== Object.prototype && proto !== null) || typeof (v as { toJSON?: unknown }).toJSON === 'function') return false;
  dBuf[dPos++] = 0x7b;
  let any = false;
  // for-in sees the own enumerable string keys in Object.keys' order (Object.prototype is
  // checked clean); a value JSON would leave out (undefined, ...) makes the attempt fail.
  for (const k in v) {
    if (dPos + SLACK > dBuf.length) return (dFull = true), false;
    if (any) dBuf[dPos++] = 0x2c;
    any = true;
    indent(depth + 1);
    if (!directString(k)) return false;
    dBuf[dPos++] = 0x3a;
    dBuf[dPos++] = 0x20;
    if (!directValue((v as Record<string, unknown>)[k], depth + 1)) return false;
  }
  if (dPos + SLACK > dBuf.length) return (dFull = true), false;
  if (any) indent(depth);
  dBuf[dPos++] = 0x7d;
  return true;
}

/**
 * Bytes of the reused output buffer: pieces are encoded into it one after the other and it is
 * written when the next piece might not fit (3 bytes, UTF-8's most per UTF-16 unit, per
 * character); a piece longer than a third of it is encoded on its own.
 */
const BUFFER_BYTES = 6 << 16;
let scratch: Buffer | undefined;

/** Thrown inside stringifyPieces' put to stop when the reader has gone (EPIPE). */
const READER_GONE = Symbol('reader gone');

/**
 * Prints `value` as indented JSON and a newline on `fd` (stdout), byte for byte what
 * `jsonTerminalSafeBytes(JSON.stringify(value, null, 2))` + '\n' is — escaped as every stdout
 * string is (terminalSafe) — but streamed: the pieces stringifyPieces makes are encoded into one
 * reused buffer as they come, and the buffer written synchronously when full, so the whole text
 * (22 MB for the 100k-node chain's `optimize --json`) never exists as one string or Buffer, and
 * no piece is copied into a joined string first. A full non-blocking pipe (EAGAIN) is waited
 * for; a reader that went away (EPIPE, `| head`) ends the output quietly, as for other stdout
 * writes (start.ts).
 */
export function writeJson(value: unknown, fd = 1): void {
  const buf = (scratch ??= Buffer.allocUnsafe(BUFFER_BYTES));
  // `w.used`: bytes of `buf` filled, by `put` and by the DirectWriter alike.
  const flush = (): void => {
    if (w.used > 0) writeAll(fd, buf.subarray(0, w.used));
    w.used = 0;
  };
  const w = new DirectWriter(buf, flush);
  const put = (text: string): void => {
    const room = text.length * 3;
    if (room > buf.length - w.used) {
      flush();
      // A piece longer than the buffer holds (one long string, say) is encoded on its own.
      if (room > buf.length) return writeAll(fd, jsonTerminalSafeBytes(text));
    }
    const used = w.used;
    const n = buf.write(text, used, 'utf8');
    // Not plain ASCII without DEL: escape what JSON.stringify leaves raw (DEL, C1, bidi controls).
    // Pieces end between tokens, so each is escaped on its own as the whole text would be.
    if (n !== text.length || buf.subarray(used, used + n).indexOf(0x7f) !== -1) {
      const safe = jsonTerminalSafe(text);
      if (safe.length * 3 > buf.length - used) {
        flush();
        if (safe.length * 3 > buf.length) return writeAll(fd, Buffer.from(safe, 'utf8'));
      }
      w.used += buf.write(safe, w.used, 'utf8');
    } else w.used += n;
  };
  try {
    stringifyPieces(value, put, w);
    put('\n');
    flush();
  } catch (e) {
    if (e !== READER_GONE) throw e;
  }
}

function writeAll(fd: number, bytes: Uint8Array): void {
  try {
    writeAllSync(fd, bytes);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EPIPE') throw READER_GONE;
    throw new CliError(`cannot write the JSON report to stdout: ${(e as Error).message}`, { hint: 'check where stdout goes (a full disk, a closed pipe)' });
  }
}
