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
  cycle: { bytes: model([node('Add', ['x', 'b'], ['a'], fBytes(3, 'n1')), node('Relu', ['a'], ['b'], fBytes(3, 'n2')), node('Identity', ['a'], ['y'], fBytes(3, 'n3')), ...io]), says: /\[I4-topological-order\] Add 'n1' reads 'b' before Relu 'n2' produces it/ },
};
const dir = join(tmp, 'models');
mkdirSync(dir);
for (const [name, m] of Object.entries(INVALID)) writeFileSync(join(dir, `${name}.onnx`), m.bytes);

describe('structurally invalid models', () => {
  it('analyze and report refuse them as optimize does: one line naming the node or value, exit 2, nothing written', () => {
    for (const [name, m] of Object.entries(INVALID)) {
      const file = join(dir, `${name}.onnx`);
      expectOneLineError(onnxkit(['analyze', file]), 2, new RegExp(`^onnxkit: the input model is invalid, so it was not analyzed: ${m.says.source}`));
      expectOneLineError(onnxkit(['analyze', file, '--json', '-o', join(tmp, `${name}.json`)]), 2, m.says);
      expect(existsSync(join(tmp, `${name}.json`))).toBe(false);
      expectOneLineError(onnxkit(['report', file, '-o', join(tmp, `${name}.html`)]), 2, new RegExp(`^onnxkit: the input model is invalid, so no report was written: ${m.says.source}`));
      expect(existsSync(join(tmp, `${name}.html`))).toBe(false);
      expectOneLineError(onnxkit(['optimize', file, '-o', join(tmp, `${name}.opt.onnx`)]), 2, new RegExp(`^onnxkit: the input model is invalid, so no pass ran: ${m.says.source}`));
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
