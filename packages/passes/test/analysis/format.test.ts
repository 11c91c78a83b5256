/**
 * Device profiles (built-ins, the calibrated `local` format, typed errors) and the report
 * formatters: terminal table, CSV, Markdown, canonical JSON, Netron attachment.
 */
import { describe, expect, it } from 'vitest';
import { DataType, GraphBuilder } from '@onnxkit/graph';
import { alexnet, resnet50 } from '@onnxkit/zoo';
import {
  DEVICES,
  DeviceProfileError,
  analysisToCsv,
  analysisToJson,
  analysisJsonPieces,
  analysisToMarkdown,
  analyzeModel,
  formatAnalysisTable,
  formatCount,
  formatJoules,
  formatSeconds,
  getDevice,
  parseDeviceProfile,
  toNetronAttachment,
} from '../../src/analysis/index.js';

describe('formatJoules and formatSeconds', () => {
  it('print 3 significant digits in the sub-unit that keeps them readable, 0 as 0 and an unknown as ?', () => {
    expect([2.5e-9, 3.456e-5, 0.0125, 7.891, 0, null].map(formatJoules)).toEqual(['2.50 nJ', '34.6 µJ', '12.5 mJ', '7.89 J', '0', '?']);
    expect([2.5e-9, 3.456e-5, 0.0125, 7.891, 0, undefined].map(formatSeconds)).toEqual(['2.50 ns', '34.6 µs', '12.5 ms', '7.89 s', '0', '?']);
  });
});

describe('device profiles', () => {
  it('ships the named, versioned, sourced profiles', () => {
    expect(DEVICES.map((d) => d.id)).toEqual(['jetson-agx-orin', 'raspberry-pi-4', 'h100-sxm']);
    for (const d of DEVICES) {
      expect(d.version).toMatch(/\S/);
      expect(d.source.length).toBeGreaterThan(60);
      expect(d.peakFlops.fp32).toBeGreaterThan(0);
      expect(d.memoryBandwidth).toBeGreaterThan(0);
      expect(parseDeviceProfile(JSON.stringify(d))).toEqual(d);
    }
    expect(getDevice('h100-sxm').memoryBandwidth).toBe(3.35e12);
    expect(getDevice('jetson-agx-orin').memoryBandwidth).toBe(204.8e9);
    expect(getDevice('raspberry-pi-4').peakFlops.fp32).toBe(48e9);
  });

  it('reads the calibrated local profile format and refuses malformed ones clearly', () => {
    const local = parseDeviceProfile({ id: 'local', version: 1, title: 'This machine', peakFlops: { fp32: 5.8e10 }, memoryBandwidth: 1.6e10, measuredAt: '2025-01-01T00:00:00Z', method: 'ORT MatMul 1024² ×20, Buffer.copy 256 MiB' });
    expect(local.version).toBe('1');
    expect(local.source).toMatch(/ORT MatMul/);
    expect(analyzeModel(alexnet(), { device: local }).device).toMatchObject({ id: 'local', peakFlops: 5.8e10 });
    expect(() => parseDeviceProfile('{nope')).toThrow(DeviceProfileError);
    expect(() => parseDeviceProfile({ id: 'x', version: '1', peakFlops: { fp32: -1 }, memoryBandwidth: 1, source: 's' })).toThrow(/peakFlops\.fp32 must be a positive number/);
    expect(() => parseDeviceProfile({ id: 'x', version: '1', peakFlops: { fp32: 1 }, memoryBandwidth: 1 })).toThrow(/source/);
    expect(() => getDevice('tpu-v9')).toThrow(DeviceProfileError);
    try {
      getDevice('tpu-v9');
    } catch (e) {
      expect((e as DeviceProfileError).hint).toMatch(/jetson-agx-orin, raspberry-pi-4, h100-sxm/);
    }
    expect(() => getDevice('local')).toThrow(/calibrate/);
  });
});

describe('formatters', () => {
  const report = analyzeModel(alexnet(), { bits: 8 });

  it('formats counts with thousands separators', () => {
    expect(formatCount(724_406_816)).toBe('724,406,816');
    expect(formatCount(-1234.5)).toBe('-1,234.5');
    expect(formatCount(null)).toBe('?');
  });

  it('prints the lecture table: rows, totals with separators, convention; colours only on request', () => {
    const t = formatAnalysisTable(report);
    const row = t.split('\n').find((l) => /features\.3\s/.test(l))!;
    expect(row).toMatch(/256×27×27\s+307,200\s+223,948,800\s+186,624/);
    expect(t).toMatch(/Total\s+60,954,656\s+724,406,816\s+932,264/);
    expect(t).toMatch(/peak 440,928/);
    expect(t).toMatch(/60,954,656 B/);
    expect(t).toContain(report.convention);
    expect(t).not.toContain('\x1b[');
    expect(formatAnalysisTable(report, { color: true })).toContain('\x1b[');
  });

  it('writes CSV with one row per layer and quoted fields where needed', () => {
    const b = new GraphBuilder();
    const x = b.input('x', DataType.FLOAT, [1, 4]);
    b.output(b.op('Relu', [x], {}, { name: 'weird, "name"' }), 'y');
    const csv = analysisToCsv(analyzeModel(b.build()));
    const lines = csv.trimEnd().split('\n').filter((l) => !l.startsWith('#'));
    expect(lines[0]!.split(',')[1]).toBe('name');
    expect(lines[1]).toContain('"weird, ""name"""');
    const alex = analysisToCsv(report).trimEnd().split('\n');
    expect(alex[0]).toMatch(/^# convention: /);
    const data = alex.filter((l) => !l.startsWith('#'));
    expect(data).toHaveLength(report.layers.length + 1);
    expect(data[1]!.split(',').slice(0, 8)).toEqual(['0', 'features.0', 'Conv', '1x96x55x55', '34944', '34848', '0', '105415200']);
  });

  it('CSV from hostile names: every row parses back to its cells, no formula, no forged row from a dim name', () => {
    const b = new GraphBuilder();
    const x = b.input('=HYPERLINK("http://evil","x")', DataType.FLOAT, ['N\n1,forged,row', 4]);
    const names = ['=1+1', '+cmd', '-2+3', '@SUM(A1)', 'a,b\r\n"c"\nd', 'plain'];
    let v = x;
    for (const name of names) v = b.op('Relu', [v], {}, { name });
    b.output(v, 'y');
    const csv = analysisToCsv(analyzeModel(b.build()));
    const rows = parseCsv(csv.replace(/^#.*\n/gm, ''));
    expect(rows[0]![0]).toBe('index');
    // Every line before the header is a comment, whatever the dim names hold.
    const header = csv.split('\n').findIndex((l) => l.startsWith('index,'));
    expect(csv.split('\n').slice(0, header).every((l) => l.startsWith('# '))).toBe(true);
    expect(rows.slice(1).map((r) => r[1])).toEqual(["'=1+1", "'+cmd", "'-2+3", "'@SUM(A1)", 'a,b\r\n"c"\nd', 'plain']);
    for (const r of rows) expect(r).toHaveLength(rows[0]!.length);
    // No text cell a spreadsheet would evaluate; numbers stay numbers.
    for (const r of rows.slice(1)) for (const c of r) expect(c).not.toMatch(/^[=+@\t\r]|^-(?!\d)/);
  });

  it('Markdown from hostile names: one row per layer, no raw HTML, no links, | kept inside its cell', () => {
    const b = new GraphBuilder();
    const x = b.input('x', DataType.FLOAT, [1, 4]);
    const y = b.op('Relu', [x], {}, { name: 'a|b\\|c\n| 9 | forged |<img src=x onerror=alert(1)>[x](javascript:alert(1))' });
    b.output(b.op('Relu', [y], {}, { name: 'second' }), 'z');
    const md = analysisToMarkdown(analyzeModel(b.build()));
    const table = md.split('\n').filter((l) => /^\| \d+ \|/.test(l));
    expect(table).toHaveLength(2);
    expect(table[0]).toContain('| a\\|b\\\\\\|c<br>\\| 9 \\| forged \\|&lt;img src=x onerror=alert(1)&gt;\\[x\\](javascript:alert(1)) | Relu |');
    expect(md).not.toMatch(/<img|[^\\]\]\(/);
    // Unescaped pipes (the cell borders) are the same in both rows.
    const borders = (l: string) => l.replace(/\\./g, '').split('|').length;
    expect(borders(table[0]!)).toBe(borders(table[1]!));
  });

  it('Markdown: a dim name in the shape and activation columns is escaped too (review: it forged a row)', () => {
    const b = new GraphBuilder();
    const x = b.input('x', DataType.FLOAT, [1, 'a|b<img src=x onerror=alert(1)>\n| forged | row |']);
    b.output(b.op('Relu', [x], {}, { name: 'r' }), 'y');
    const md = analysisToMarkdown(analyzeModel(b.build()));
    expect(md).not.toMatch(/<img/);
    expect(md.split('\n').filter((l) => l.startsWith('| forged'))).toEqual([]);
    const rows = md.split('\n').filter((l) => /^\| \d+ \|/.test(l));
    expect(rows).toHaveLength(1);
    expect(rows[0]).toContain('a\\|b&lt;img src=x onerror=alert(1)&gt;<br>\\| forged \\| row \\|');
  });

  it('writes Markdown tables', () => {
    const md = analysisToMarkdown(report);
    expect(md).toMatch(/^# alexnet/);
    expect(md).toContain('| MACs | 724,406,816 |');
    expect(md).toContain('| 0 | features.0 | Conv | 96×55×55 | 34,848 | 105,415,200 | 290,400 |');
    expect(md).toContain(`> ${report.convention}`);
  });

  it('writes JSON with a stable key order that round-trips', () => {
    const j = analysisToJson(report);
    expect(Object.keys(JSON.parse(j))).toEqual(['schemaVersion', 'model', 'convention', 'device', 'bits', 'totals', 'layers', 'memoryTimeline', 'diagnostics']);
    expect(analysisToJson(JSON.parse(j))).toBe(j);
    const t = JSON.parse(j).totals;
    expect(t.params).toBe(report.totals.params);
    expect(Object.keys(t)).toEqual([...Object.keys(t)].sort());
    expect(analysisToJson(analyzeModel(alexnet(), { bits: 8 }))).toBe(j);
  });

  it('JSON in pieces: the layers and the memory timeline one element a piece, joined the very text of one JSON.stringify', () => {
    // A million layers' text is longer than V8's longest string: analyze --json writes the pieces.
    const r = analyzeModel(resnet50({ batch: 'N', weights: 'zeros' }));
    const pieces = [...analysisJsonPieces(r)];
    const text = pieces.join('');
    // The layout of JSON.stringify(…, null, 2) itself (and the key order analysisToJson has always had).
    expect(text).toBe(`${JSON.stringify(JSON.parse(text), null, 2)}\n`);
    expect(text).toBe(analysisToJson(r));
    expect(Object.keys(JSON.parse(text))).toEqual(['schemaVersion', 'model', 'convention', 'device', 'bits', 'totals', 'layers', 'memoryTimeline', 'diagnostics']);
    expect(pieces.length).toBeGreaterThan(r.layers.length + r.memoryTimeline!.length);
    expect(Math.max(...pieces.map((p) => p.length))).toBeLessThan(text.length / 20);
    // Other indents, and a report with empty arrays.
    for (const indent of [0, 4]) expect([...analysisJsonPieces(r, { indent })].join('')).toBe(`${JSON.stringify(JSON.parse(text), null, indent)}\n`);
    const empty = analyzeModel(new GraphBuilder({ opset: 17 }).build());
    expect([...analysisJsonPieces(empty)].join('')).toBe(`${JSON.stringify(JSON.parse(analysisToJson(empty)), null, 2)}\n`);
  });

  it('writes a Netron attachment keyed by node names', () => {
    const m = resnet50();
    const r = analyzeModel(m);
    const a = toNetronAttachment(r);
    expect(a.signature).toBe('netron:attachment');
    const names = new Set([...m.graph].map((n) => n.name));
    const seen = new Set<string>();
    for (const item of [...a.metadata, ...a.metrics]) {
      expect(['model', 'node']).toContain(item.kind);
      if (item.kind === 'model') expect(item.target).toBe('');
      else expect(names.has(item.target), item.target).toBe(true);
      expect(item.name).toMatch(/\S/);
      const key = `${item.kind}|${item.target}|${item.name}`;
      expect(seen.has(key), key).toBe(false);
      seen.add(key);
    }
    const conv1 = a.metrics.filter((x) => x.target === r.layers[0]!.name);
    expect(conv1.find((x) => x.name === 'MACs')!.value).toBe(r.layers[0]!.macs);
    expect(a.metrics.find((x) => x.kind === 'model' && x.name === 'parameters')!.value).toBe(25_557_032);
    expect(JSON.parse(JSON.stringify(a))).toEqual(a);
  });

  it('a symbolic batch: model totals in the Netron attachment are text (expression, ≥ or ?), never a 0', () => {
    const a = toNetronAttachment(analyzeModel(resnet50({ batch: 'N' })));
    const model = (name: string) => a.metrics.find((x) => x.kind === 'model' && x.name === name)!.value;
    expect(model('MACs')).toBe('4089184256*N');
    expect(model('FLOPs')).toMatch(/^\d+\*N$/);
    expect(model('activations (total)')).toMatch(/^\d+\*N$/);
    for (const name of ['activations (peak)', 'latency estimate (µs)']) expect(model(name), name).toMatch(/^(\?|≥ .+)$/);
    const pinned = toNetronAttachment(analyzeModel(resnet50({ batch: 'N' }), { dimValues: { N: 1 } }));
    expect(pinned.metrics.find((x) => x.kind === 'model' && x.name === 'FLOPs')!.value).toEqual(expect.any(Number));
  });

  it('skips unnamed nodes in the Netron attachment and says so', () => {
    const b = new GraphBuilder();
    const x = b.input('x', DataType.FLOAT, [1, 4]);
    const n = b.node('Relu', [x]);
    n.name = '';
    b.output(n.output, 'y');
    const a = toNetronAttachment(analyzeModel(b.build()));
    expect(a.metrics.filter((i) => i.kind === 'node')).toEqual([]);
    expect(a.metadata.some((i) => /1 node\(s\) have no name/.test(String(i.value)))).toBe(true);
  });
});

/** RFC 4180: fields separated by commas, records by CRLF or LF; a quoted field may hold commas, line breaks and "" for a quote. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let i = 0;
  while (i < text.length) {
    let field = '';
    if (text[i] === '"') {
      i++;
      for (;;) {
        if (i >= text.length) throw new Error('unterminated quoted field');
        if (text[i] === '"') {
          if (text[i + 1] !== '"') {
            i++;
            break;
          }
          field += '"';
          i += 2;
        } else field += text[i++];
      }
    } else {
      while (i < text.length && !',\r\n'.includes(text[i]!)) {
        if (text[i] === '"') throw new Error(`bare quote at ${i}`);
        field += text[i++];
      }
    }
    row.push(field);
    if (text[i] === ',') i++;
    else {
      if (text[i] === '\r') i++;
      if (text[i] === '\n') i++;
      rows.push(row);
      row = [];
    }
  }
  return rows;
}
