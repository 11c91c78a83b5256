// One units/format module for the CLI, the report and its browser scripts (issue 15.4): the
// formats below are what every table, report cell and chart label prints. Before, the CLI and the
// report each had fmtInt/fmtNum/fmtSI ("724.4M" in one, "724 M" in the other), two duration
// formats, five decibel formats and a copy of passes' formatJoules.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { fmtBytes, fmtDb, fmtDuration, fmtInt, fmtNum, fmtSeconds, fmtSI, fmtSig } from '../src/units.js';
import * as format from '../src/report/format.js';
import * as ui from '../src/ui.js';

describe('units', () => {
  it('the CLI and the report share one definition of each format', () => {
    for (const f of ['fmtBytes', 'fmtInt', 'fmtDuration'] as const) expect(ui[f], f).toBe(format[f]);
    expect(format.fmtSI).toBe(fmtSI);
    expect(format.fmtSeconds).toBe(fmtSeconds);
    expect(format.fmtDb).toBe(fmtDb);
  });

  it('counts, bytes and numbers', () => {
    expect(fmtSI(724406816)).toBe('724 M');
    expect(fmtSI(4089184256)).toBe('4.09 G');
    expect(fmtSI(5.3e12, 'FLOP/s')).toBe('5.3 TFLOP/s');
    expect(fmtBytes(102440608)).toBe('97.7 MiB');
    expect(fmtInt(60954656)).toBe('60,954,656');
    expect(fmtInt(12345678901234567890n)).toBe('12,345,678,901,234,567,890');
    expect(fmtNum(1234.567)).toBe('1,234.57');
    expect([fmtSig(0.4991), fmtSig(61.29), fmtSig(12345.6), fmtSig(null)]).toEqual(['0.499', '61.3', '12,346', '—']);
  });

  it('durations: three significant digits, then minutes', () => {
    expect([fmtDuration(4.45e-5), fmtDuration(0.0445), fmtDuration(2.78), fmtDuration(123.4), fmtDuration(2345), fmtDuration(125_400)]).toEqual(['44.5 ns', '44.5 µs', '2.78 ms', '123 ms', '2.35 s', '2 min 5 s']);
    expect([fmtDuration(0), fmtDuration(null), fmtSeconds(0.00278)]).toEqual(['0', '—', '2.78 ms']);
  });

  it('decibels: one decimal; no error at all is ∞', () => {
    expect([fmtDb(31.25), fmtDb(31.25, { unit: true }), fmtDb(null), fmtDb(Infinity, { unit: true }), fmtDb(-Infinity)]).toEqual(['31.3', '31.3 dB', '∞', '∞', '-∞']);
  });
});

// The batch summary's table sorter is typed client code now (client/batch.ts), bundled by the
// build; it was an untyped script in a template string in commands/batch.ts.
describe('batch summary sorter (dist/report/batch.js)', () => {
  it('sorts numerically by data-v (cells without one last), else by text, toggling the direction', () => {
    const cell = (text: string, v?: number) => ({ textContent: text, dataset: v === undefined ? {} : { v: String(v) } });
    const rows = [
      { cells: [cell('b.onnx'), cell('10', 10)] },
      { cells: [cell('a.onnx'), cell('—')] },
      { cells: [cell('c.onnx'), cell('2', 2)] },
    ];
    const tbody = { rows, appendChild(r: (typeof rows)[number]) { rows.splice(rows.indexOf(r), 1); rows.push(r); } };
    const listeners: (() => void)[] = [];
    const ths = [0, 1].map(() => ({ dataset: {} as Record<string, string>, addEventListener: (_: string, f: () => void) => listeners.push(f) }));
    const document = { querySelectorAll: () => ths, querySelector: () => tbody };
    new Function('document', readFileSync(new URL('../dist/report/batch.js', import.meta.url), 'utf8'))(document);
    const names = () => rows.map((r) => r.cells[0]!.textContent);
    listeners[1]!();
    expect(names()).toEqual(['c.onnx', 'b.onnx', 'a.onnx']);
    listeners[1]!();
    expect(names()).toEqual(['b.onnx', 'c.onnx', 'a.onnx']);
    listeners[0]!();
    expect(names()).toEqual(['a.onnx', 'b.onnx', 'c.onnx']);
  });
});
