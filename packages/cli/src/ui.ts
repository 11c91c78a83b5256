/**
 * Terminal output helpers: colour only on a TTY and never under --json or NO_COLOR, numbers
 * with thousands separators, human sizes and durations, and a progress indicator on stderr
 * that degrades to one line per step when stderr is not a terminal.
 */
import { performance } from 'node:perf_hooks';
import { isatty } from 'node:tty';
import { oneLine } from '@onnxkit/passes';
import { fmtDuration } from './units.js';
import type { TensorSummary } from '@onnxkit/runtime';

export interface OutputMode {
  json: boolean;
  color: boolean;
  /** stderr is a TTY: progress can redraw in place. */
  interactive: boolean;
  /** --quiet: no progress or notes on stderr. */
  quiet: boolean;
}

/**
 * Colour: never under --json, --no-color or NO_COLOR (the user's standing choice wins); else
 * FORCE_COLOR (any value but 0/false) turns it on even when piped, FORCE_COLOR=0 off; else only
 * on a terminal.
 */
export function outputMode(opts: { json?: boolean; color?: boolean; quiet?: boolean }): OutputMode {
  const env = process.env;
  const noColor = env.NO_COLOR !== undefined && env.NO_COLOR !== '';
  const force = env.FORCE_COLOR;
  const forced = force === undefined || force === '' ? undefined : !['0', 'false'].includes(force.toLowerCase());
  const json = Boolean(opts.json);
  // Asked when something is shown: a quiet command then never loads node:tty (and with it
  // Node's stream modules, ≈6–10 ms of CPU; the launcher loads it on first use).
  let color: boolean | undefined;
  let interactive: boolean | undefined;
  return {
    json,
    quiet: opts.quiet === true,
    get color(): boolean {
      color ??= !json && !noColor && opts.color !== false && (forced ?? (isatty(1) && env.TERM !== 'dumb'));
      if (color) stdoutColored = true;
      return color;
    },
    get interactive(): boolean {
      return (interactive ??= isatty(2) && env.TERM !== 'dumb');
    },
  };
}

const codes = { bold: [1, 22], dim: [2, 22], red: [31, 39], green: [32, 39], yellow: [33, 39], cyan: [36, 39] } as const;
export type Style = keyof typeof codes;

/**
 * Set once a command's output mode has decided to colour stdout: until then (--no-color,
 * NO_COLOR, --json, a pipe) no SGR sequence is ours, so the stdout guard lets none through.
 */
let stdoutColored = false;

/**
 * Control characters a model's names and doc strings may carry to take over the terminal (set
 * the title, clear the screen, move the cursor, fake a new line with CR, reorder text with bidi
 * overrides): C0 except newline, DEL, C1, and the bidi/line-separator format characters. The SGR
 * sequences our own colours use (paint's codes and the analysis table's: reset, bold, dim, red,
 * green, yellow, cyan, default colour) are matched whole so that `keepColor` can let them
 * through; any other SGR (conceal `ESC[8m`, black on black `ESC[30;40m`, which a node name used
 * to hide the rest of a line or a warning) is escaped like every other control sequence.
 */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const UNSAFE = /(\u001b\[(?:0|1|2|22|31|32|33|36|39)m)|[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

/**
 * The one escaping function for text shown on a terminal (issue 13): every control character
 * becomes a visible `\uXXXX` (which also keeps JSON string literals valid and equal in meaning).
 * `keepNewlines` (default true) keeps line feeds; `keepColor` keeps SGR colour sequences.
 */
export function terminalSafe(s: string, options: { keepNewlines?: boolean; keepColor?: boolean } = {}): string {
  const keepNewlines = options.keepNewlines ?? true;
  const out = s.replace(UNSAFE, (m: string, sgr: string | undefined) => {
    if (sgr !== undefined) return options.keepColor ? sgr : `\\u001b${sgr.slice(1)}`;
    return `\\u${m.charCodeAt(0).toString(16).padStart(4, '0')}`;
  });
  return keepNewlines ? out : out.replace(/\n/g, '\\n');
}

/**
 * The terminal-unsafe characters (see UNSAFE) that JSON.stringify leaves raw: it escapes every C0
 * control (ESC included, so no SGR sequence survives either) but not DEL, C1 or the format
 * characters.
 */
const UNSAFE_IN_JSON = /[\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

/**
 * `terminalSafe(json)` for text JSON.stringify produced, as UTF-8 bytes — the same bytes, without
 * the general pattern's scan of every character: an `optimize --json` of a 100k-node chain is
 * 22 MB, and terminalSafe spent ≈36 ms on it. JSON.stringify already escapes C0 and its layout
 * adds only newlines and spaces, so only UNSAFE_IN_JSON can remain; in ASCII text (a byte per
 * character) that is DEL alone, found by a byte search of the encoded text.
 */
export function jsonTerminalSafeBytes(json: string): Buffer {
  const bytes = Buffer.from(json, 'utf8');
  if (bytes.length === json.length && bytes.indexOf(0x7f) === -1) return bytes;
  return Buffer.from(jsonTerminalSafe(json), 'utf8');
}

/** `terminalSafe(json)` for text JSON.stringify produced (or any piece of it cut between tokens), as a string. */
export function jsonTerminalSafe(json: string): string {
  return json.replace(UNSAFE_IN_JSON, (m) => `\\u${m.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/**
 * Calls `fn` with process.stdout (or stderr) when it is first used. Node creates these streams on
 * first access, which loads its stream modules (≈6–10 ms of CPU), and a quiet command that writes
 * nothing never needs them; `isatty` answers `isTTY` without them. When the stream may exist
 * already (Node's Writable is loaded: every kind of stdio stream is one), `fn` is called now:
 * a holder of the stream (console, say) would otherwise write to it without reading the property.
 */
export function whenUsed(name: 'stdout' | 'stderr', fn: (stream: NodeJS.WriteStream) => void): void {
  const d = Object.getOwnPropertyDescriptor(process, name);
  if (d?.get === undefined || !d.configurable || mayHaveStdioStreams()) {
    fn(process[name]);
    return;
  }
  const get = d.get;
  Object.defineProperty(process, name, {
    configurable: true,
    enumerable: d.enumerable,
    get(): NodeJS.WriteStream {
      const stream = get.call(process) as NodeJS.WriteStream;
      Object.defineProperty(process, name, { value: stream, configurable: true, enumerable: d.enumerable, writable: true });
      fn(stream);
      return stream;
    },
  });
}

/** Whether Node's Writable is loaded, without which no stdio stream can have been created. */
function mayHaveStdioStreams(): boolean {
  const loaded = (process as { moduleLoadList?: readonly string[] }).moduleLoadList;
  return loaded === undefined || loaded.includes('NativeModule internal/streams/writable');
}

let safeStdout = false;
/**
 * Routes every string written to stdout through terminalSafe (newlines kept, and our colours when
 * the output mode colours stdout), so no
 * formatter can forget it. Buffers (binary output such as `convert -o -`) pass untouched.
 * Idempotent; installed at start-up by interrupt.ts, taking effect when stdout is first used.
 */
export function installSafeStdout(): void {
  if (safeStdout) return;
  safeStdout = true;
  whenUsed('stdout', wrapStdoutWrite);
}

function wrapStdoutWrite(stdout: NodeJS.WriteStream): void {
  const write = stdout.write;
  stdout.write = function (this: NodeJS.WriteStream, chunk: unknown, encoding?: unknown, cb?: unknown): boolean {
    const safe = typeof chunk === 'string' ? terminalSafe(chunk, { keepColor: stdoutColored }) : chunk;
    return Reflect.apply(write, this, cb === undefined ? (encoding === undefined ? [safe] : [safe, encoding]) : [safe, encoding, cb]) as boolean;
  } as typeof process.stdout.write;
}

export function paint(mode: OutputMode, style: Style, s: string): string {
  if (!mode.color) return s;
  const [a, b] = codes[style];
  return `\u001b[${a}m${s}\u001b[${b}m`;
}

const PLAIN_NAME = /^[A-Za-z0-9]*$/;

/**
 * `a.localeCompare(b)`, without ICU's ≈6 ms first-call set-up for names of ASCII letters and
 * digits (op types, most tensor names), whose order it reproduces: case-insensitive first, then
 * lowercase before uppercase at the first difference. Anything else goes to localeCompare.
 */
export function compareNames(a: string, b: string): number {
  if (!PLAIN_NAME.test(a) || !PLAIN_NAME.test(b)) return a.localeCompare(b);
  const la = a.toLowerCase();
  const lb = b.toLowerCase();
  if (la !== lb) return la < lb ? -1 : 1;
  for (let i = 0; i < a.length; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) return x > y ? -1 : 1;
  }
  return 0;
}

// Numbers, bytes and durations: one convention for the CLI and the report, defined in units.ts.
export { fmtBytes, fmtDuration, fmtInt, fmtNum } from './units.js';

/** Renders rows as an aligned text table; numeric-looking cells are right-aligned. */
export function table(headerCells: string[], rowCells: string[][], mode: OutputMode): string {
  // A cell is one line: a line break in a model's name would forge a row (a fake output or verdict).
  const header = headerCells.map((cell) => oneLine(cell ?? ''));
  const rows = rowCells.map((r) => r.map((cell) => oneLine(cell ?? '')));
  const all = [header, ...rows];
  const widths = header.map((_, c) => all.reduce((m, r) => Math.max(m, visibleLength(r[c] ?? '')), 0));
  const numeric = header.map((_, c) => rows.length > 0 && rows.every((r) => /^[-+]?[\d,.]+\s*[%×a-zA-Zµ]*$|^—$/.test((r[c] ?? '').trim())));
  const fmt = (r: string[]): string =>
    r.map((cell, c) => (numeric[c] ? padStart(cell ?? '', widths[c]!) : padEnd(cell ?? '', widths[c]!))).join('  ').trimEnd();
  const lines = [paint(mode, 'bold', fmt(header)), widths.map((w) => '─'.repeat(w)).join('  ')];
  for (const r of rows) lines.push(fmt(r));
  return lines.join('\n');
}

/** A model's outputs, one row each (`run`, and `verify` for the model that survived a crash of the other). */
export function outputsTable(rows: readonly TensorSummary[], mode: OutputMode): string {
  // (a string is a NaN, an infinity or an int64 beyond ±2^53, exact: SummaryValue)
  const fmt = (x: number | string | null): string => (x === null ? '—' : typeof x === 'string' ? x : Number.isInteger(x) ? String(x) : x.toPrecision(4));
  const anyNan = rows.some((r) => r.nan > 0);
  const header = ['output', 'dtype', 'shape', 'min', 'max', 'mean', ...(anyNan ? ['NaN'] : []), 'first values'];
  return table(header, rows.map((r) => [r.name, r.dtype, `[${r.shape.join(',')}]`, fmt(r.min), fmt(r.max), fmt(r.mean), ...(anyNan ? [String(r.nan)] : []), r.head.map(fmt).join(', ')]), mode);
}

function visibleLength(s: string): number {
  // eslint-disable-next-line no-control-regex
  return s.replace(/\u001b\[[0-9;]*m/g, '').length;
}
function padStart(s: string, w: number): string {
  return ' '.repeat(Math.max(0, w - visibleLength(s))) + s;
}
function padEnd(s: string, w: number): string {
  return s + ' '.repeat(Math.max(0, w - visibleLength(s)));
}

/**
 * A step reporter: `const s = progress.step('import'); ...; s.done('12 MB')`. On a TTY it shows
 * a spinner/bar with elapsed time on stderr and a line per finished step; when stderr is not a
 * terminal, only the line per finished step. Silent under --json, --quiet or ONNXKIT_PROGRESS=0.
 */
export class Progress {
  private timer: NodeJS.Timeout | undefined;
  private active: { label: string; start: number; fraction: number | undefined; detail: string } | undefined;
  private frame = 0;

  constructor(private readonly mode: OutputMode, private readonly quiet = false) {}

  step(label: string): StepHandle {
    label = terminalSafe(label, { keepNewlines: false });
    this.finishActive();
    this.active = { label, start: performance.now(), fraction: undefined, detail: '' };
    if (this.enabled && this.mode.interactive) {
      this.render();
      this.timer = setInterval(() => this.render(), 100);
      this.timer.unref();
    }
    const mine = this.active;
    return {
      update: (fraction?: number, detail?: string): void => {
        if (this.active !== mine) return;
        mine.fraction = fraction;
        if (detail !== undefined) mine.detail = detail;
      },
      done: (detail?: string): number => {
        const ms = performance.now() - mine.start;
        if (this.active === mine) {
          this.clear();
          this.active = undefined;
          if (this.enabled) process.stderr.write(`${paint(this.mode, 'green', '✔')} ${mine.label}${detail ? ` — ${detail}` : ''} ${paint(this.mode, 'dim', `(${fmtDuration(ms)})`)}\n`);
        }
        return ms;
      },
      fail: (detail?: string): void => {
        if (this.active !== mine) return;
        this.clear();
        this.active = undefined;
        if (this.enabled) process.stderr.write(`${paint(this.mode, 'red', '✖')} ${mine.label}${detail ? ` — ${detail}` : ''}\n`);
      },
    };
  }

  /**
   * Progress goes to stderr, never stdout, so piped output stays clean; off a terminal it is one
   * plain line per finished step (a log a CI job can read), and the error line stays the last.
   */
  private get enabled(): boolean {
    return !this.quiet && !this.mode.quiet && !this.mode.json && process.env.ONNXKIT_PROGRESS !== '0';
  }

  private finishActive(): void {
    if (this.active) {
      this.clear();
      this.active = undefined;
    }
  }

  private clear(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    if (this.enabled && this.mode.interactive) process.stderr.write('\r\u001b[2K');
  }

  private render(): void {
    const a = this.active;
    if (!a) return;
    const spin = '⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏'[this.frame++ % 10];
    const elapsed = fmtDuration(performance.now() - a.start);
    let bar = '';
    if (a.fraction !== undefined) {
      const w = 24;
      const filled = Math.round(Math.max(0, Math.min(1, a.fraction)) * w);
      bar = ` [${'█'.repeat(filled)}${'░'.repeat(w - filled)}] ${(a.fraction * 100).toFixed(0)}%`;
    }
    process.stderr.write(`\r\u001b[2K${spin} ${a.label}${bar}${a.detail ? ` ${a.detail}` : ''} ${paint(this.mode, 'dim', elapsed)}`);
  }
}

export interface StepHandle {
  update(fraction?: number, detail?: string): void;
  done(detail?: string): number;
  fail(detail?: string): void;
}
