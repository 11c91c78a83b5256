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
import { CliError, stdoutWriteError } from './errors.js';
import { jsonTerminalSafe, jsonTerminalSafeBytes } from './ui.js';

/** Size units (values + string length / 64) under which a value is stringified natively in one call. */
const LEAF_BUDGET = 512;
/**
 * Size units of consecutive small array elements stringified in one call (≈ 85 KB of text for
 * the change records of `optimize --json`, under V8's 128 KiB large-object size). JSON.stringify
 * builds its result in parts that double from 32 up to 16 Ki characters, the last allocated whole
 * and cut, and the result is copied once more when flattened: at 1,024 units (≈ 21 KB) that last
 * part wasted ≈ 50 % on top of the text, at 4,096 ≈ 15 % (100k chain: 55 → 46 MB allocated).
 */
const RUN_BUDGET = 4096;

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
function stringifyPieces(value: unknown, put: (piece: string) => void): void {
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
        if (end > start) {
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
  writeJsonText((put) => {
    stringifyPieces(value, put);
    put('\n');
  }, fd);
}

/**
 * Writes the JSON text `produce` hands to `put` piece by piece (each piece ending between two
 * tokens), escaped and buffered as writeJson does: for text made elsewhere in pieces, such as
 * analysisJsonPieces.
 */
export function writeJsonText(produce: (put: (text: string) => void) => void, fd = 1): void {
  const buf = (scratch ??= Buffer.allocUnsafe(BUFFER_BYTES));
  let used = 0;
  const flush = (): void => {
    if (used > 0) writeAll(fd, buf.subarray(0, used));
    used = 0;
  };
  const put = (text: string): void => {
    const room = text.length * 3;
    if (room > buf.length - used) {
      flush();
      // A piece longer than the buffer holds (one long string, say) is encoded on its own.
      if (room > buf.length) return writeAll(fd, jsonTerminalSafeBytes(text));
    }
    const n = buf.write(text, used, 'utf8');
    // Not plain ASCII without DEL: escape what JSON.stringify leaves raw (DEL, C1, bidi controls).
    // Pieces end between tokens, so each is escaped on its own as the whole text would be.
    if (n !== text.length || buf.subarray(used, used + n).indexOf(0x7f) !== -1) {
      const safe = jsonTerminalSafe(text);
      if (safe.length * 3 > buf.length - used) {
        flush();
        if (safe.length * 3 > buf.length) return writeAll(fd, Buffer.from(safe, 'utf8'));
      }
      used += buf.write(safe, used, 'utf8');
    } else used += n;
  };
  try {
    produce(put);
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
    // (the one wording of a failed write to stdout, as for every other output)
    if (fd === 1) throw stdoutWriteError(e);
    throw new CliError(`cannot write the JSON report: ${(e as Error).message}`, { hint: 'check where the output goes (a full disk, a closed pipe)' });
  }
}
