/**
 * `onnxkit optimize IN OUT` (or `-o OUT`; `-` for stdin/stdout): run a rewrite pipeline (a preset or a pass list), verify the
 * graph after every pass, write the result atomically, and print what each pass did with a
 * before/after comparison (op histogram, nodes, file size, params, MACs).
 *
 * An invalid input is refused, one line, exit 2 — except one whose nodes are merely out of order
 * (no cycle): onnxruntime sorts such a file and runs it, OpenVINO's reader sorts it, only
 * onnx.checker (and onnxsim, which runs it first) refuses it, and an optimizer's job is to write
 * a valid file. Its nodes are sorted (stable, Graph.sort) before the "before" analysis, with one
 * warning line (`inputSorted` in --json); a cycle is still refused, named by its nodes. The check
 * is the pass manager's own input verify(), run here and handed on (checkInput): no extra cost.
 */
import { cloneModel, type Model } from '@onnxkit/graph';
import { withReadSessionAsync } from '@onnxkit/importer';
import { analyzeTotals, checkInput, explainJson, formatPartial, inferShapes, resolvePipeline, runPipeline, type CostTotals, type PipelineReport, type ShapeInference } from '@onnxkit/passes';
import { approximatePassesRun, formatAccuracy, measureAccuracy, type AccuracyReport } from '../accuracy.js';
import { CliError } from '../errors.js';
import { edgeQuantizationJson, edgeQuantizeSettings, explainEdgeQuantization, formatEdgeQuantization, quantizeForEdge } from '../edge-quantize.js';
import { formatExplainGrouped } from '../explain.js';
import { pipelineFromFlags } from '../pipeline.js';
import { inputBytes, outputBytes, STDIO, writeModel } from '../stdio.js';
import { compareNames, fmtBytes, fmtDuration, fmtInt, outputMode, paint, Progress, table, terminalSafe, type OutputMode } from '../ui.js';
import { sortedInputWarning } from '../validity.js';
import { writeJson } from '../json-stream.js';
import { loadModel } from '../limits.js';
import { collectImportGarbage, LAZY_WEIGHTS_FILE_BYTES, tuneCompilerForGraph, tuneHeapForModel } from '../heap.js';
import { checkDimSymbols, numericInputShapes, parseDimValues } from '../options.js';
import { refuseOverwritingFiles, refuseOverwritingModelFiles, refuseReplacingInput, refuseUnwritableOutput } from '../fs-utils.js';
import type { OptionsOf } from '../definitions.js';

export interface ModelSide {
  nodes: number;
  fileBytes: number;
  params: number;
  weightParams: number;
  /** null when unknown or symbolic (see macsExpr). */
  macs: number | null;
  /** MACs as an expression of symbolic dims (then `macs` is null). */
  macsExpr?: string;
  flops: number | null;
  flopsExpr?: string;
  /** Layers whose MACs/FLOPs are unknown (symbolic or unresolved): missing from the sums. */
  unknownLayers: number;
  opHistogram: Record<string, number>;
}

export function opHistogram(m: Model): Record<string, number> {
  const h: Record<string, number> = {};
  // (one cursor walk per graph: Graph's iterator allocates a result per node, and a 1M-node graph
  // is counted twice, before and after; the entries' order does not matter, they are sorted)
  m.forEachNode((n) => {
    h[n.opType] = (h[n.opType] ?? 0) + 1;
  });
  return Object.fromEntries(Object.entries(h).sort((a, b) => b[1] - a[1] || compareNames(a[0], b[0])));
}

export function side(m: Model, a: { readonly totals: CostTotals }, fileBytes: number, histogram: Record<string, number> = opHistogram(m), nodes = m.graph.nodeCount): ModelSide {
  const t = a.totals;
  return { nodes, fileBytes, params: t.params, weightParams: t.weightParams, macs: t.macs, ...(t.macsExpr ? { macsExpr: t.macsExpr } : {}), flops: t.flops, ...(t.flopsExpr ? { flopsExpr: t.flopsExpr } : {}), unknownLayers: t.unknownLayers, opHistogram: histogram };
}

export default async function optimize(input: string, positionalOutput: string | undefined, opts: OptionsOf<'optimize'>): Promise<number> {
  const mode = outputMode(opts);
  if (positionalOutput !== undefined && opts.output !== undefined && positionalOutput !== opts.output) {
    throw new CliError(`two outputs: '${positionalOutput}' and -o '${opts.output}'`, { hint: 'give the output once, as onnxkit optimize IN OUT or -o OUT' });
  }
  const target = positionalOutput ?? opts.output;
  if (target === undefined && !opts.inPlace) throw new CliError('optimize needs an output: onnxkit optimize IN OUT, -o OUT, or --in-place to replace the input');
  const output = target ?? input;
  if (output === STDIO && input === STDIO && opts.inPlace) throw new CliError('--in-place needs a file, not -');
  refuseReplacingInput(input, output, opts.inPlace);
  refuseOverwritingFiles(output, '-o', [['--calibration', opts.calibration], ['--eval', opts.eval]]);
  refuseUnwritableOutput(output, opts.externalData === true);
  if (output === STDIO && mode.json) throw new CliError("--json and -o - both write to stdout", { hint: 'write the model to a file, or drop --json' });
  if (output === STDIO && opts.externalData) throw new CliError("--external-data needs a file to write beside the model; '-o -' (stdout) cannot hold it", { hint: 'give -o a file path' });
  // `edge` with calibration data means int8: the exact passes, then quantize (edge-quantize.ts).
  const int8 = await edgeQuantizeSettings(opts);
  pipelineFromFlags(opts); // bad flags fail before the model is read
  const progress = new Progress(mode);
  let step = progress.step(`import ${input === STDIO ? '(stdin)' : input}`);
  tuneHeapForModel(input === STDIO ? null : input); // before the import (heap.ts)
  let model = loadModel(input, { lazyWeightsFrom: LAZY_WEIGHTS_FILE_BYTES });
  checkDimSymbols(model, opts);
  if (!opts.inPlace) refuseOverwritingModelFiles(model, output, '-o');
  tuneCompilerForGraph(model.graph.nodeCount); // after the import: small graphs tier up later (heap.ts)
  collectImportGarbage(input === STDIO ? null : input, model.graph.nodeCount); // the file's dead bytes (heap.ts)
  const inBytes = inputBytes(input);
  step.done(`${fmtInt(model.graph.nodeCount)} nodes`);
  const { names, options } = pipelineFromFlags(opts, model);

  // The pass manager's input check, run here so that the "before" analysis sees what the passes
  // see: an input whose nodes are merely out of order (no cycle) is sorted, with a warning below
  // (onnxruntime runs such a file; onnx.checker and onnxsim refuse it); any other invalid input
  // is refused, one line, exit 2. Not an extra check: the manager is handed the result.
  const inputChecked = checkInput(model, { sortInput: true, pass: names[0] ?? '(none)' });

  const inputShapes = options?.inputShapes;
  // The before/after totals are printed by the summary table and --json; -q without --json prints
  // neither, so they are not computed (on a 100k-node chain ≈0.2 s of CPU).
  const showTotals = mode.json || !mode.quiet;
  step = progress.step('analyze (before)');
  // One shape inference of the input serves the table and the pipeline's first passes.
  let inferenceBefore: ShapeInference | undefined = inferShapes(model, inputShapes ? { inputShapes } : {});
  const before = showTotals ? analyzeTotals(model, { ...(inputShapes ? { inputShapes } : {}), inference: inferenceBefore }) : undefined;
  const beforeHist = showTotals ? opHistogram(model) : {};
  const beforeNodes = model.graph.nodeCount;
  step.done();
  if (!mode.quiet) warnMalformedNodes(inferenceBefore);
  const sortedWarning = sortedInputWarning(inputChecked);
  if (!mode.quiet && sortedWarning !== undefined) process.stderr.write(`${sortedWarning} and the output is in order\n`);

  // Kept to measure an approximate pass's error against the float64 reference of the original.
  // Only when the pipeline has an approximate pass: a copy costs memory (and, for external data, reads).
  const original = opts.accuracy !== false && resolvePipeline(names).some((p) => p.exact === false) ? cloneModel(model) : undefined;
  step = progress.step(`optimize (${names.join(', ')})`);
  // Lazy weights read by the passes (hashed, compared, folded) share one descriptor per file and
  // read-ahead windows, instead of an open/check/read/close each (200k of them on the 1M chain).
  const report = await withReadSessionAsync(() => runPipeline(model, names, {
    ...options,
    inference: inferenceBefore,
    sortInput: true,
    inputChecked,
    // The default table shows counts only: the change records (≈ 300 B each, 600,000 on a
    // 1M-node chain) are kept when --json or --explain prints them.
    changeLog: mode.json || Boolean(opts.explain),
    onPass: (run) => step.update(undefined, `${run.pass} (sweep ${run.iteration})`),
  }));
  inferenceBefore = undefined; // stale once the pipeline changed the model: let it be collected
  step.done(`${fmtInt(report.totalChanges)} changes in ${report.iterations} sweep${report.iterations === 1 ? '' : 's'}`);

  const quantized = int8 ? await quantizeForEdge(model, int8, progress) : undefined;
  if (quantized) model = quantized.model;

  let after: ReturnType<typeof analyzeTotals> | undefined;
  if (showTotals) {
    step = progress.step('analyze (after)');
    after = analyzeTotals(model, { ...(inputShapes ? { inputShapes } : {}), ...(report.inference ? { inference: report.inference } : {}) });
    step.done();
  }

  let accuracy: AccuracyReport | undefined;
  const approximate = approximatePassesRun(report);
  const measure = async (): Promise<void> => {
    if (!original || approximate.length === 0) return;
    step = progress.step(`accuracy against float64 (${approximate.join(', ')})`);
    accuracy = await measureAccuracy(original, model, approximate, { inputShapes: numericInputShapes(opts), dimValues: parseDimValues(opts.dim) });
    const nonFinite = accuracy.outputs.reduce((n, o) => n + o.nonFinite, 0);
    step.done(accuracy.basis === 'float64' ? `max |err| ${accuracy.outputs.reduce((m, o) => Math.max(m, o.maxError), -Infinity).toExponential(2)}${nonFinite > 0 ? ` + ${nonFinite} non-finite` : ''}` : accuracy.basis);
  };
  // In place, the write replaces the input file, where both models may leave weights to be read
  // on use (a lazy import): their accuracy is measured first, while the file is the one loaded.
  if (opts.inPlace) await measure();

  step = progress.step(`write ${output === STDIO ? '(stdout)' : output}`);
  const saved = await writeModel(model, output, { externalData: opts.externalData === true, inPlace: opts.inPlace === true });
  const outBytes = outputBytes(output, saved);
  step.done(fmtBytes(outBytes));

  if (!opts.inPlace) await measure();

  if (mode.json) {
    writeJson({
      input,
      output,
      pipeline: explainJson(report),
      ...(inputChecked.sortedReads > 0 ? { inputSorted: { reads: inputChecked.sortedReads, first: inputChecked.firstSortedRead } } : {}),
      before: side(model, before!, inBytes, beforeHist, beforeNodes),
      after: side(model, after!, outBytes),
      ...(accuracy ? { accuracy } : {}),
      ...(quantized ? { quantize: edgeQuantizationJson(quantized) } : {}),
    });
    return 0;
  }
  // With -o - stdout carries the model, so the human summary goes to stderr (or nowhere, -q).
  const say = (text: string): void => {
    if (output === STDIO) {
      if (!mode.quiet) process.stderr.write(text);
    } else if (!mode.quiet || opts.explain) process.stdout.write(text);
  };
  const explainMode = opts.explain === true ? 'all' : opts.explain || undefined;
  if (explainMode) say(formatExplainGrouped(report, explainMode) + '\n\n' + (quantized ? explainEdgeQuantization(quantized) + '\n\n' : ''));
  if (quantized && !mode.quiet) for (const w of quantized.prepared.warnings) process.stderr.write(`onnxkit: warning: ${w}\n`);
  if (!mode.quiet) {
    say(formatPassTable(report, mode, explainMode !== undefined) + '\n\n' + formatBeforeAfter(side(model, before!, inBytes, beforeHist, beforeNodes), side(model, after!, outBytes), mode) + '\n');
    if (accuracy) say('\n' + formatAccuracy(accuracy, mode) + '\n\n');
    if (quantized) say('\n' + formatEdgeQuantization(quantized, mode) + '\n\n');
    say(`wrote ${output === STDIO ? 'the model to stdout' : output}${saved.externalFiles.length ? ` + ${saved.externalFiles.join(', ')}` : ''}\n`);
  }
  return 0;
}

/** The per-pass table; the --explain hint only when --explain was not given. */
export function formatPassTable(report: PipelineReport, mode: OutputMode, explained = false): string {
  const rows = report.summary.map((s) => {
    const declined = Object.values(s.rejected).reduce((a, b) => a + b, 0);
    return [
      s.pass,
      s.changes ? fmtInt(s.changes) : paint(mode, 'dim', '0'),
      fmtInt(s.nodesRemoved),
      fmtInt(s.nodesAdded),
      s.bytesDelta < 0 ? fmtBytes(-s.bytesDelta) : s.bytesDelta > 0 ? `+${fmtBytes(s.bytesDelta)}` : '0',
      declined ? fmtInt(declined) : '',
      fmtDuration(s.timeMs),
    ];
  });
  const head = `${paint(mode, 'bold', 'passes')} — ${fmtInt(report.totalChanges)} changes, ${report.iterations} sweep(s), ${report.converged ? 'converged' : report.stoppedEarly ? 'stopped early (--stop-after)' : 'iteration bound reached'}, ${fmtDuration(report.timeMs)}`;
  return `${head}\n${table(['pass', 'changes', 'nodes removed', 'nodes added', 'bytes saved', 'declined', 'time'], rows, mode)}${!explained && rows.some((r) => r[5]) ? '\n(run with --explain to see what changed and why candidates were declined)' : ''}`;
}

export function formatBeforeAfter(b: ModelSide, a: ModelSide, mode: OutputMode): string {
  const delta = (x: number, y: number): string => {
    if (x === y) return paint(mode, 'dim', '=');
    const pct = x === 0 ? '' : ` (${(((y - x) / x) * 100).toFixed(1)}%)`;
    return `${y < x ? '−' : '+'}${fmtInt(Math.abs(y - x))}${pct}`;
  };
  const rows = [
    ['nodes', fmtInt(b.nodes), fmtInt(a.nodes), delta(b.nodes, a.nodes)],
    ['file size', fmtBytes(b.fileBytes), fmtBytes(a.fileBytes), b.fileBytes === a.fileBytes ? '=' : `${a.fileBytes < b.fileBytes ? '−' : '+'}${fmtBytes(Math.abs(a.fileBytes - b.fileBytes))}`],
    ['learnable params', fmtInt(b.params), fmtInt(a.params), delta(b.params, a.params)],
    ['weights (bias ignored)', fmtInt(b.weightParams), fmtInt(a.weightParams), delta(b.weightParams, a.weightParams)],
    // Symbolic or unknown totals are shown as such, never as a bare 0 (formatPartial: "≥ x", "?").
    b.macs === null || a.macs === null
      ? ['MACs', b.macsExpr ?? formatPartial(b.macs, b.unknownLayers), a.macsExpr ?? formatPartial(a.macs, a.unknownLayers), (b.macsExpr ?? b.macs) === (a.macsExpr ?? a.macs) ? paint(mode, 'dim', '=') : '']
      : ['MACs', fmtInt(b.macs), fmtInt(a.macs), delta(b.macs, a.macs!)],
    b.flops === null || a.flops === null
      ? ['FLOPs', b.flopsExpr ?? formatPartial(b.flops, b.unknownLayers), a.flopsExpr ?? formatPartial(a.flops, a.unknownLayers), (b.flopsExpr ?? b.flops) === (a.flopsExpr ?? a.flops) ? paint(mode, 'dim', '=') : '']
      : ['FLOPs', fmtInt(b.flops), fmtInt(a.flops), delta(b.flops, a.flops!)],
  ];
  const ops = [...new Set([...Object.keys(b.opHistogram), ...Object.keys(a.opHistogram)])];
  for (const op of ops) {
    const x = b.opHistogram[op] ?? 0;
    const y = a.opHistogram[op] ?? 0;
    rows.push([`  ${op}`, fmtInt(x), fmtInt(y), delta(x, y)]);
  }
  return `${paint(mode, 'bold', 'before → after')}\n${table(['', 'before', 'after', 'change'], rows, mode)}`;
}

/** How many malformed nodes optimize names before it counts the rest. */
const MALFORMED_SHOWN = 5;

/**
 * Warns (stderr) of the input's malformed nodes — an attribute of the wrong type, as a builder
 * writing `alpha: 1` for Gemm's FLOAT alpha makes, or an impossible value: onnxruntime refuses such
 * a model, the passes decline every rewrite that reads the node, and the output keeps it as it is.
 * `analyze` reports them with the rest of its diagnostics; optimize used to write the model back
 * without a word (and exit 0), leaving the user to learn it from onnxruntime.
 */
function warnMalformedNodes(inference: ShapeInference): void {
  const bad = inference.diagnostics.filter((d) => d.code === 'bad-attribute');
  for (const d of bad.slice(0, MALFORMED_SHOWN)) {
    // (the analysis's wording goes on about itself after "; the node is malformed")
    const what = d.message.split('; the node is malformed')[0]!;
    process.stderr.write(`onnxkit: warning: ${terminalSafe(what)}: a malformed node (onnxruntime refuses the model); no pass rewrites it\n`);
  }
  if (bad.length > MALFORMED_SHOWN) process.stderr.write(`onnxkit: warning: and ${fmtInt(bad.length - MALFORMED_SHOWN)} more malformed node(s); \`onnxkit analyze\` lists them all\n`);
}
