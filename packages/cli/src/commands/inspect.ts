/**
 * `onnxkit inspect MODEL [--json]`: what a model is, without reading its weights. A structurally
 * invalid model (validity.ts) is still shown, as it is: one stderr line says it is invalid and
 * why (in --json, `problems` lists every problem), and the exit code is 1 — the check failed.
 */
import { statSync } from 'node:fs';
import { dataTypeName, formatType, type Diagnostic, type Model } from '@onnxkit/graph';
import { oneLine } from '@onnxkit/passes';
import { compareNames, fmtBytes, fmtInt, outputMode, paint, table, terminalSafe } from '../ui.js';
import { EXIT } from '../errors.js';
import { invalidModelText, structuralErrors } from '../validity.js';
import { loadModel } from '../limits.js';
import { inputBytes, STDIO } from '../stdio.js';
import type { OptionsOf } from '../definitions.js';

export interface InspectSummary {
  file: string;
  fileBytes: number;
  irVersion: number;
  producer: { name: string; version: string };
  domain: string;
  modelVersion: string;
  docString: string;
  opsets: { domain: string; version: number }[];
  inputs: { name: string; type: string; dtype: string | null; shape: (number | string | null)[] | null }[];
  outputs: { name: string; type: string; dtype: string | null; shape: (number | string | null)[] | null }[];
  nodes: number;
  nodesIncludingSubgraphs: number;
  opHistogram: Record<string, number>;
  initializers: { count: number; bytes: number; elements: number; byDtype: Record<string, { count: number; bytes: number }> };
  externalData: { location: string; tensors: number; bytes: number }[];
  functions: string[];
  metadata: Record<string, string>;
  /** The model's structural problems (a cycle, a name defined twice, a read of a name nothing defines…): empty when it is valid. */
  problems: { code: string; message: string }[];
}

export function summarize(model: Model, file: string, fileBytes: number, problems: readonly Diagnostic[] = []): InspectSummary {
  const hist = new Map<string, number>();
  let all = 0;
  for (const g of model.graphs()) {
    for (const n of g) {
      const op = n.isOnnxDomain ? n.opType : `${n.domain}::${n.opType}`;
      hist.set(op, (hist.get(op) ?? 0) + 1);
      all++;
    }
  }
  const byDtype: Record<string, { count: number; bytes: number }> = {};
  const ext = new Map<string, { tensors: number; bytes: number }>();
  let bytes = 0;
  let elements = 0;
  for (const v of model.graph.initializers.values()) {
    const t = v.constValue!;
    const d = dataTypeName(t.dtype);
    byDtype[d] ??= { count: 0, bytes: 0 };
    byDtype[d].count++;
    byDtype[d].bytes += t.byteLength;
    bytes += t.byteLength;
    elements += t.size;
    const loc = t.external?.location;
    if (loc !== undefined) {
      const e = ext.get(loc) ?? { tensors: 0, bytes: 0 };
      e.tensors++;
      e.bytes += t.byteLength;
      ext.set(loc, e);
    }
  }
  const io = (v: { name: string; type: Model['graph']['inputs'][number]['type']; dtype: number | undefined; shape: readonly (number | string | null)[] | null }) => ({
    name: v.name,
    type: formatType(v.type),
    dtype: v.dtype === undefined ? null : dataTypeName(v.dtype),
    shape: v.shape === null ? null : [...v.shape],
  });
  const sortedHist = [...hist.entries()].sort((a, b) => b[1] - a[1] || compareNames(a[0], b[0]));
  return {
    file,
    fileBytes,
    irVersion: model.irVersion,
    producer: { name: model.producerName, version: model.producerVersion },
    domain: model.domain,
    modelVersion: String(model.modelVersion),
    docString: model.docString,
    opsets: [...model.opsetImports].map(([domain, version]) => ({ domain: domain || 'ai.onnx', version })),
    inputs: model.graph.inputs.filter((v) => !v.isInitializer).map(io),
    outputs: model.graph.outputs.map(io),
    nodes: model.graph.nodeCount,
    nodesIncludingSubgraphs: all,
    opHistogram: Object.fromEntries(sortedHist),
    initializers: { count: model.graph.initializers.size, bytes, elements, byDtype },
    externalData: [...ext.entries()].map(([location, e]) => ({ location, ...e })),
    functions: model.functions.map((f) => f.id),
    metadata: Object.fromEntries(model.metadataProps),
    problems: problems.map((d) => ({ code: d.code, message: d.message })),
  };
}

export default async function inspect(file: string, opts: OptionsOf<'inspect'>): Promise<number> {
  const mode = outputMode(opts);
  // stat first: a missing file is reported as "cannot open 'x'" before any decoding.
  const statBytes = file === STDIO ? 0 : statSync(file).size;
  const model = loadModel(file);
  const fileBytes = file === STDIO ? inputBytes(file) : statBytes;
  const problems = structuralErrors(model);
  const s = summarize(model, file, fileBytes, problems);
  // After the model, as the last line on stderr (an error line's place); exit 1: the check failed.
  const verdict = (): number => {
    if (problems.length === 0) return EXIT.ok;
    process.stderr.write(`onnxkit: ${terminalSafe(invalidModelText(problems, problems.every((d) => d.topology === 'out-of-order') ? 'the other commands sort its nodes in memory (optimize writes them sorted)' : 'analyze, report and optimize refuse it'), { keepNewlines: false })}\n`);
    return EXIT.checkFailed;
  };
  if (mode.json) {
    process.stdout.write(JSON.stringify(s, null, 2) + '\n');
    return verdict();
  }
  const b = (x: string): string => paint(mode, 'bold', x);
  const lines: string[] = [];
  lines.push(`${b(file === '-' ? '(stdin)' : file)}  ${fmtBytes(fileBytes)}`);
  // Model text goes through oneLine: a line break in a name or a producer would forge a line below.
  lines.push(oneLine(`  IR version ${s.irVersion}, producer ${s.producer.name || '?'} ${s.producer.version}`.trimEnd()));
  lines.push(oneLine(`  opsets: ${s.opsets.map((o) => `${o.domain} ${o.version}`).join(', ')}`));
  if (Object.keys(s.metadata).length) lines.push(oneLine(`  metadata: ${Object.entries(s.metadata).map(([k, v]) => `${k}=${v}`).join(', ')}`));
  lines.push('');
  lines.push(b('inputs'));
  for (const v of s.inputs) lines.push(oneLine(`  ${v.name}: ${v.type}`));
  lines.push(b('outputs'));
  for (const v of s.outputs) lines.push(oneLine(`  ${v.name}: ${v.type}`));
  lines.push('');
  const sub = s.nodesIncludingSubgraphs !== s.nodes ? ` (${fmtInt(s.nodesIncludingSubgraphs)} with subgraphs and functions)` : '';
  lines.push(`${b('nodes')} ${fmtInt(s.nodes)}${sub}`);
  lines.push(
    table(
      ['op', 'count'],
      Object.entries(s.opHistogram).map(([op, n]) => [op, fmtInt(n)]),
      mode,
    ).replace(/^/gm, '  '),
  );
  lines.push('');
  lines.push(`${b('initializers')} ${fmtInt(s.initializers.count)} tensors, ${fmtInt(s.initializers.elements)} elements, ${fmtBytes(s.initializers.bytes)}`);
  for (const [d, x] of Object.entries(s.initializers.byDtype)) lines.push(`  ${d}: ${fmtInt(x.count)} tensors, ${fmtBytes(x.bytes)}`);
  if (s.externalData.length) {
    lines.push(b('external data'));
    for (const e of s.externalData) lines.push(oneLine(`  ${e.location}: ${fmtInt(e.tensors)} tensors, ${fmtBytes(e.bytes)}`));
  }
  if (s.functions.length) lines.push(`${b('functions')} ${oneLine(s.functions.join(', '))}`);
  process.stdout.write(lines.join('\n') + '\n');
  return verdict();
}
