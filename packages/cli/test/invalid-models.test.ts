// Structurally invalid models (a cycle, two nodes writing one value name, a node reading a name
// nothing produces), built as ONNX bytes by hand (our IR cannot hold them). optimize refused them;
// analyze, report and batch printed numbers of the invalid graph (exit 0), and inspect showed it
// without a word. Now analyze, report and batch refuse them as optimize does (one line naming the
// node or value, exit 2; a failed row in batch, exit 1), and inspect shows the model and says on
// one stderr line that it is invalid and why, exit 1 (validity.ts).
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fBytes, model, node, valueInfo } from '../../importer/test/helpers/pb.js';
import { cliRunner, expectOneLineError, FIXTURE } from './helpers/cli.js';

const tmp = mkdtempSync(join(tmpdir(), 'onnxkit-invalid-'));
const onnxkit = cliRunner(tmp);

const io = [fBytes(2, 'g'), valueInfo(11, 'x', 1, [2, 3]), valueInfo(12, 'y', 1, [2, 3])];
/** Each model, and what the error must name. */
const INVALID: Record<string, { bytes: Uint8Array; says: RegExp }> = {
  dangling: { bytes: model([node('Add', ['x', 'ghost'], ['y'], fBytes(3, 'add0')), ...io]), says: /\[I4-topological-order\] Add 'add0' reads 'ghost', which is defined nowhere/ },
  twice: { bytes: model([node('Relu', ['x'], ['y'], fBytes(3, 'r1')), node('Neg', ['x'], ['y'], fBytes(3, 'r2')), ...io]), says: /\[I5-unique-names\] name 'y' is defined twice in graph 'g' \(output of Neg 'r2'\)/ },
  cycle: { bytes: model([node('Add', ['x', 'b'], ['a'], fBytes(3, 'n1')), node('Relu', ['a'], ['b'], fBytes(3, 'n2')), node('Identity', ['a'], ['y'], fBytes(3, 'n3')), ...io]), says: /\[I4-topological-order\] Add 'n1' reads 'b' on a cycle: Add 'n1' → Relu 'n2' → Add 'n1' \(each reads an output of the one before it, so no order of the nodes can run them/ },
};
const dir = join(tmp, 'models');
mkdirSync(dir);
for (const [name, m] of Object.entries(INVALID)) writeFileSync(join(dir, `${name}.onnx`), m.bytes);

// Nodes merely out of order (Identity 'n3' reads 'a' before Relu 'n1' produces it; no cycle): ONNX
// forbids it and onnx.checker (so onnxsim) refuses it, onnxruntime sorts the nodes and runs it.
// optimize refused it with the words of a cycle; now it sorts the nodes, says so on one stderr
// line, and writes a valid model. analyze and the other readers refused it; now they sort it in
// memory the same way, with the same warning (batch: in the row), and count the sorted model.
const OUT_OF_ORDER = model([node('Identity', ['a'], ['y'], fBytes(3, 'n3')), node('Relu', ['x'], ['a'], fBytes(3, 'n1')), ...io]);

describe('structurally invalid models', () => {
  it('optimize, analyze and batch sort an input whose nodes are only out of order, with one warning line; inspect names the reads', () => {
    const file = join(tmp, 'out-of-order.onnx');
    writeFileSync(file, OUT_OF_ORDER);
    const out = join(tmp, 'sorted.onnx');
    const r = onnxkit(['optimize', file, '-o', out]);
    expect(r.code, r.stderr).toBe(0);
    const warnings = r.stderr.split('\n').filter((l) => l.startsWith('onnxkit:'));
    expect(warnings).toEqual(["onnxkit: warning: the input's nodes were out of order (1 read before its producer, e.g. Identity 'n3' reads 'a' before Relu 'n1' produces it), which ONNX forbids; they were sorted topologically and the output is in order"]);
    expect(readFileSync(file)).toEqual(Buffer.from(OUT_OF_ORDER)); // the input is untouched
    const a = onnxkit(['analyze', out, '--json']);
    expect(a.code, a.stderr).toBe(0);
    const j = onnxkit(['optimize', file, '-o', join(tmp, 'sorted2.onnx'), '--json']);
    expect(j.code, j.stderr).toBe(0);
    expect(JSON.parse(j.stdout).inputSorted).toEqual({ reads: 1, first: "Identity 'n3' reads 'a' before Relu 'n1' produces it" });
    const q = onnxkit(['optimize', file, '-o', join(tmp, 'sorted3.onnx'), '-q']);
    expect(q.code, q.stderr).toBe(0);
    expect(q.stderr).toBe('');
    const i = onnxkit(['inspect', file]);
    expect(i.code).toBe(1);
    expect(i.stderr).toMatch(/^onnxkit: the input model is invalid, so the other commands sort its nodes in memory \(optimize writes them sorted\): \[I4-topological-order\] Identity 'n3' reads 'a' before Relu 'n1' produces it: the nodes are out of order/m);
    // analyze: the numbers of the same nodes in order, one warning line.
    const inOrder = join(tmp, 'in-order.onnx');
    writeFileSync(inOrder, model([node('Relu', ['x'], ['a'], fBytes(3, 'n1')), node('Identity', ['a'], ['y'], fBytes(3, 'n3')), ...io]));
    const unsorted = onnxkit(['analyze', file, '--json']);
    expect(unsorted.code, unsorted.stderr).toBe(0);
    expect(unsorted.stderr.split('\n').filter((l) => l.startsWith('onnxkit:'))).toEqual(["onnxkit: warning: the input's nodes were out of order (1 read before its producer, e.g. Identity 'n3' reads 'a' before Relu 'n1' produces it), which ONNX forbids; they were sorted topologically"]);
    const totals = (stdout: string): unknown => (JSON.parse(stdout) as { totals: unknown }).totals;
    expect(totals(unsorted.stdout)).toEqual(totals(onnxkit(['analyze', inOrder, '--json']).stdout));
    expect(onnxkit(['analyze', file, '--json', '-q']).stderr).toBe('');
    expect(readFileSync(file)).toEqual(Buffer.from(OUT_OF_ORDER));
    // batch: an ok row saying so.
    const folder = join(tmp, 'out-of-order');
    mkdirSync(folder);
    writeFileSync(join(folder, 'm.onnx'), OUT_OF_ORDER);
    const b = onnxkit(['batch', folder, '--json']);
    expect(b.code, b.stderr).toBe(0);
    expect((JSON.parse(b.stdout) as { rows: { ok: boolean; inputSorted?: number }[] }).rows.map((r) => [r.ok, r.inputSorted])).toEqual([[true, 1]]);
    expect(onnxkit(['batch', folder]).stdout).toMatch(/ok \(its nodes were out of order: sorted\)/);
  });

  it('analyze and report refuse them as optimize does: one line naming the node or value, exit 2, nothing written', () => {
    for (const [name, m] of Object.entries(INVALID)) {
      const file = join(dir, `${name}.onnx`);
      expectOneLineError(onnxkit(['analyze', file]), 2, new RegExp(`^onnxkit: the input model is invalid, so it was not analyzed: ${m.says.source}`));
      expectOneLineError(onnxkit(['analyze', file, '--json', '-o', join(tmp, `${name}.json`)]), 2, m.says);
      expect(existsSync(join(tmp, `${name}.json`))).toBe(false);
      expectOneLineError(onnxkit(['report', file, '-o', join(tmp, `${name}.html`)]), 2, new RegExp(`^onnxkit: the input model is invalid, so no report was written: ${m.says.source}`));
      expect(existsSync(join(tmp, `${name}.html`))).toBe(false);
      expectOneLineError(onnxkit(['optimize', file, '-o', join(tmp, `${name}.opt.onnx`)]), 2, new RegExp(`^onnxkit: the input model is invalid, so no pass ran: ${m.says.source}`));
      // demo analysed it first ('✔ analyze — 0 MACs, 0 params'), then failed at optimize
      expectOneLineError(onnxkit(['demo', file, '--out', join(tmp, `${name}-demo`)]), 2, new RegExp(`^onnxkit: the input model is invalid, so the demo did not run: ${m.says.source}`));
      expect(existsSync(join(tmp, `${name}-demo`))).toBe(false);
    }
    // report --optimized B: B is checked too, and named.
    expectOneLineError(onnxkit(['report', FIXTURE, '--optimized', join(dir, 'twice.onnx'), '-o', join(tmp, 'vs.html')]), 2, /^onnxkit: the --optimized model .*twice\.onnx is invalid, so no report was written: \[I5-unique-names\]/);
  });

  it('inspect shows the model, then one stderr line saying it is invalid and why, exit 1; a valid model exits 0', () => {
    for (const [name, m] of Object.entries(INVALID)) {
      const file = join(dir, `${name}.onnx`);
      const r = onnxkit(['inspect', file]);
      expect(r.code, r.stderr).toBe(1);
      expect(r.stdout).toMatch(/^nodes \d+/m);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(new RegExp(`^onnxkit: the input model is invalid, so analyze, report and optimize refuse it: ${m.says.source}`));
      const j = onnxkit(['inspect', file, '--json']);
      expect(j.code).toBe(1);
      const s = JSON.parse(j.stdout) as { problems: { code: string; message: string }[]; nodes: number };
      expect(s.problems.length).toBeGreaterThan(0);
      expect(`[${s.problems[0]!.code}] ${s.problems[0]!.message}`).toMatch(m.says);
    }
    const ok = onnxkit(['inspect', FIXTURE, '--json']);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stderr).toBe('');
    expect(JSON.parse(ok.stdout).problems).toEqual([]);
  });

  it('batch fails each invalid model\'s row with the same words (no numbers), exit 1', () => {
    writeFileSync(join(dir, 'valid.onnx'), readFileSync(FIXTURE));
    const r = onnxkit(['batch', dir, '--json']);
    expect(r.code, r.stderr).toBe(1);
    const rows = (JSON.parse(r.stdout) as { rows: { file: string; ok: boolean; error: string | null; macs?: number }[] }).rows;
    for (const [name, m] of Object.entries(INVALID)) {
      const row = rows.find((x) => x.file === `${name}.onnx`)!;
      expect(row.ok).toBe(false);
      expect(row.error).toMatch(new RegExp(`^the input model is invalid, so it was not analyzed: ${m.says.source}`));
      expect(row.macs).toBeUndefined();
    }
    expect(rows.find((x) => x.file === 'valid.onnx')).toMatchObject({ ok: true, macs: 5_804_672 });
  });
});
