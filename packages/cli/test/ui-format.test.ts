// fmtInt and compareNames avoid ICU (toLocaleString / localeCompare cost ≈10 ms of set-up on
// their first call in a process, paid by every command); they must print and order exactly as
// the ICU versions do.
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { compareNames, fmtInt, jsonTerminalSafeBytes, terminalSafe } from '../src/ui.js';

/** A seeded generator, so a failure reproduces. */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}

describe('fmtInt', () => {
  it("prints what toLocaleString('en-US') prints for integers, fractions, signs, bigints and huge values", () => {
    const cases: (number | bigint)[] = [0, 1, -1, 12, 999, 1000, -1000, 1234567, -1234567.5, 2.5, -2.5, 0.4, -0.4, 2 ** 53, -(2 ** 53), 1e20, 1e21, 1.5e300, 10n, -12345678901234567890n];
    const r = lcg(1);
    for (let i = 0; i < 20000; i++) cases.push(Math.round((r() - 0.5) * 10 ** (r() * 22)) + (i % 3 === 0 ? 0.5 : 0));
    for (const x of cases) expect(fmtInt(x), String(x)).toBe(typeof x === 'bigint' ? x.toLocaleString('en-US') : Math.round(x).toLocaleString('en-US'));
    expect([fmtInt(NaN), fmtInt(Infinity), fmtInt(null)]).toEqual(['NaN', 'Infinity', '—']);
  });
});

describe('compareNames', () => {
  it('orders as localeCompare does (op types, mixed case, digits, and anything else)', () => {
    const names = ['Conv', 'conv', 'CONV', 'Relu', 'ReLU', 'MatMul', 'Matmul', 'Conv2', 'Conv10', 'ConvTranspose', 'a', 'A', '', '0', 'aB', 'Ab', 'x_1', 'x-1', 'é', 'Ä'];
    const r = lcg(2);
    const pick = (chars: string) => Array.from({ length: Math.floor(r() * 6) }, () => chars[Math.floor(r() * chars.length)]).join('');
    for (let i = 0; i < 20000; i++) names.push(pick(i % 2 ? 'aAbB01' : 'aAzZ09_-. é'));
    for (let i = 0; i + 1 < names.length; i++) {
      const [a, b] = [names[i]!, names[i + 1]!];
      expect(Math.sign(compareNames(a, b)), JSON.stringify([a, b])).toBe(Math.sign(a.localeCompare(b)));
    }
  });
});

describe('jsonTerminalSafeBytes', () => {
  it('keepColor keeps only the SGR codes onnxkit paints with; conceal and other SGR from a name are escaped', () => {
    expect(terminalSafe('\u001b[1mok\u001b[22m \u001b[33mm\u001b[0m', { keepColor: true })).toBe('\u001b[1mok\u001b[22m \u001b[33mm\u001b[0m');
    expect(terminalSafe('a\u001b[8mb\u001b[30;40mc\u001b[5md', { keepColor: true })).toBe('a\\u001b[8mb\\u001b[30;40mc\\u001b[5md');
  });

  it('gives the bytes of terminalSafe(JSON text) for every character class terminalSafe escapes, ASCII or not', () => {
    // Every C0 control, DEL, C1, the bidi and line-separator format characters, an SGR sequence,
    // non-ASCII text, a surrogate pair and a lone surrogate, each in a name and as a whole value.
    const evil = [...Array.from({ length: 0xa0 }, (_, i) => String.fromCharCode(i)), '\u061c', '\u200e', '\u200f', '\u2028', '\u2029', '\u202a', '\u202e', '\u2066', '\u2069', '\u001b[31m', 'é', '𝄞', '\ud800'];
    const docs: unknown[] = [{ plain: 'ascii only', n: 1 }, { del: 'a\u007fb' }, ...evil.map((c) => ({ [`k${c}`]: `v${c}`, list: [c, 1, null] }))];
    docs.push(Object.fromEntries(evil.map((c, i) => [String(i), c])));
    for (const doc of docs) {
      const json = JSON.stringify(doc, null, 2) + '\n';
      const bytes = jsonTerminalSafeBytes(json);
      expect(bytes.toString('utf8')).toBe(terminalSafe(json, { keepColor: true }));
      // Still the same JSON document.
      expect(JSON.parse(bytes.toString('utf8'))).toEqual(doc);
    }
  });
});

describe('installSafeStdout', () => {
  // A child process, so the stream exists (or not) as in a real start-up; the compiled module, as
  // the command runs it (vitest's own stdout would make every case the eager one).
  const ui = new URL('../dist/ui.js', import.meta.url).href;
  const child = (body: string): string =>
    execFileSync(process.execPath, ['--input-type=module', '-e', `const { installSafeStdout } = await import(${JSON.stringify(ui)});\n${body}`], { encoding: 'utf8' });

  it('escapes what is written after it is installed, whether stdout was created before or after', () => {
    const title = "'\\x1b]0;pwned\\x07'";
    expect(child(`installSafeStdout(); console.log(${title});`)).toBe('\\u001b]0;pwned\\u0007\n');
    // console took the stream before the hook: it must still be wrapped.
    expect(child(`console.log('first'); installSafeStdout(); console.log(${title});`)).toBe('first\n\\u001b]0;pwned\\u0007\n');
    const early = 'const out = process.stdout;';
    expect(child(`${early} installSafeStdout(); out.write(${title} + '\\n');`)).toBe('\\u001b]0;pwned\\u0007\n');
  });
});
