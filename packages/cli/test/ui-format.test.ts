// fmtInt and compareNames avoid ICU (toLocaleString / localeCompare cost ≈10 ms of set-up on
// their first call in a process, paid by every command); they must print and order exactly as
// the ICU versions do.
import { describe, expect, it } from 'vitest';
import { compareNames, fmtInt } from '../src/ui.js';

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
