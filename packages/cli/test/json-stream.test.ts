import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { stringifyChunked, writeJson } from '../src/json-stream.js';
import { jsonTerminalSafeBytes } from '../src/ui.js';

const dir = mkdtempSync(join(tmpdir(), 'onnxkit-json-stream-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** What writeJson printed to a file, as bytes. */
function written(value: unknown): Buffer {
  const file = join(dir, 'out.json');
  const fd = openSync(file, 'w');
  try {
    writeJson(value, fd);
  } finally {
    closeSync(fd);
  }
  return readFileSync(file);
}

/** The bytes of the writer this replaced: one string, escaped, and a newline. */
const expected = (value: unknown): Buffer => Buffer.concat([jsonTerminalSafeBytes(JSON.stringify(value, null, 2)), Buffer.from('\n')]);

function chunks(value: unknown, size: number): string[] {
  const out: string[] = [];
  stringifyChunked(value, (t) => out.push(t), size);
  return out;
}

const hostile = 'a\u007fb\u0085c\u009bd\u202ee\u2066f\u2028g\u061ch\u200ei\u001b[31mj\u0000k\n"\\';
const big = Array.from({ length: 3000 }, (_, i) => ({
  pass: 'eliminate-identity',
  rule: i % 2 ? 'identity' : 'mul',
  removed: [`Identity_${i}`],
  added: [],
  graph: 'g',
  description: i % 500 === 7 ? hostile : `bypassed Identity_${i}`,
  bytesDelta: i % 3 ? 0 : -4.5,
}));

const cases: Record<string, unknown> = {
  'a change report with 3000 records': { input: 'm.onnx', pipeline: { runs: [{ pass: 'p', iteration: 1, log: big, declined: [], rejected: {} }], summary: [] }, after: { opHistogram: { Gemm: 2, Relu: 1 } } },
  'empty arrays and objects at every depth': { a: [], b: {}, c: [[], {}, [[]], [{}]], d: { e: { f: [] } } },
  'unicode, astral and lone surrogates': { s: 'héllo — 日本 😀 \ud800 x \udfff', k: ['é', '\u{1f600}'], 'clé 😀': 1 },
  'DEL, C1 and bidi characters in keys and values': { [hostile]: hostile, list: [hostile, { [hostile]: [hostile] }] },
  'numbers, booleans, null': [0, -0, 1.5e300, -1e-7, NaN, Infinity, -Infinity, true, false, null],
  'undefined, functions and symbols': { a: undefined, b: () => 1, c: Symbol('s'), d: [undefined, () => 1, Symbol('t')], e: 1, f: undefined },
  'only undefined members': { a: undefined, b: undefined },
  'toJSON with its key, and a Date': { d: new Date(0), t: { toJSON: (k: string) => `key:${k}` }, arr: [{ toJSON: (k: string) => ({ k }) }] },
  'boxed primitives': { n: Object(1), s: Object('str'), b: Object(false) },
  'a deep nesting with a large array inside': { x: { y: { z: Array.from({ length: 2000 }, (_, i) => [i, { i, s: `${i}` }]) } } },
  'a long string': { s: 'x'.repeat(300_000) + hostile },
  'a large flat object': Object.fromEntries(Array.from({ length: 2000 }, (_, i) => [`k${i}`, i % 5 ? i : { v: [i] }])),
  'a large array mixing runs, holes, undefined, functions, toJSON (with its index) and large elements': (() => {
    const a: unknown[] = Array.from({ length: 3000 }, (_, i) =>
      i % 97 === 0 ? { toJSON: (k: string) => `index ${k}` } : i % 401 === 0 ? { nested: Array.from({ length: 700 }, (_, j) => ({ j })) } : i % 7 === 0 ? undefined : i % 11 === 0 ? () => i : i % 13 === 0 ? [] : { i, s: hostile });
    delete a[5];
    a.length = 3005;
    return { a, tail: [a.slice(0, 600)] };
  })(),
  'a string at the top': hostile,
  'a number at the top': 42,
  'integer-like keys (ordered first)': { b: 1, 2: 'two', a: 3, 1: 'one' },
};

describe('stringifyChunked', () => {
  for (const [name, value] of Object.entries(cases)) {
    it(`pieces join to JSON.stringify(v, null, 2): ${name}`, () => {
      const want = JSON.stringify(value, null, 2);
      for (const size of [1, 7, 4096, 1 << 16]) {
        const pieces = chunks(value, size);
        expect(pieces.join('')).toBe(want);
        // Every piece but the last is at least `size` characters (the output really is chunked).
        for (const p of pieces.slice(0, -1)) expect(p.length).toBeGreaterThanOrEqual(size);
      }
    });
  }

  it('cuts only between tokens: every piece is well-formed UTF-16 and no string literal spans two pieces', () => {
    const value = Array.from({ length: 500 }, (_, i) => ({ s: `😀${i}\ud800`, t: hostile }));
    for (const p of chunks(value, 1)) {
      expect(Buffer.from(p, 'utf8').toString('utf8')).toBe(p);
      expect((p.replace(/\\./g, '').match(/"/g) ?? []).length % 2).toBe(0);
    }
  });

  it('throws as JSON.stringify does on a cycle and on a bigint', () => {
    const a: Record<string, unknown> = { list: Array.from({ length: 1000 }, (_, i) => i) };
    a.self = { back: a, pad: Array.from({ length: 1000 }, (_, i) => i) };
    expect(() => chunks(a, 64)).toThrow(TypeError);
    expect(() => chunks({ n: 1n }, 64)).toThrow(TypeError);
    expect(() => chunks({ big: Array.from({ length: 1000 }, () => 0), n: 1n }, 64)).toThrow(TypeError);
  });
});

describe('writeJson (streamed)', () => {
  for (const [name, value] of Object.entries(cases)) {
    it(`writes the same bytes as the one-string writer: ${name}`, () => {
      expect(written(value).equals(expected(value))).toBe(true);
    });
  }

  it('escapes DEL, C1 and bidi controls as \\uXXXX and leaves no raw one in the output', () => {
    const out = written(cases['DEL, C1 and bidi characters in keys and values']).toString('utf8');
    expect(out).toContain('a\\u007fb\\u0085c\\u009bd\\u202ee\\u2066f\\u2028g\\u061ch\\u200ei\\u001b[31mj\\u0000k\\n\\"\\\\');
    expect(out).not.toMatch(/[\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/);
    expect(JSON.parse(out)).toEqual(cases['DEL, C1 and bidi characters in keys and values']);
  });

  it.skipIf(!existsSync('/dev/full'))('a failed write (a full disk) is a one-line CliError, not lost output', () => {
    const fd = openSync('/dev/full', 'w');
    try {
      expect(() => writeJson(cases['a change report with 3000 records'], fd)).toThrow(/^cannot write the JSON report: ENOSPC/); // (fd 1 says 'cannot write to stdout', as every output does: output-safety.test.ts);
    } finally {
      closeSync(fd);
    }
  });
});
