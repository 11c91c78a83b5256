/**
 * `onnxkit verify A B`: are two models numerically the same in onnxruntime (and is B faster)?
 * Judged against a float64 evaluation of A (the reference) when it can run A; otherwise by the
 * fixed tolerance, labelled as such. Exit 0 when equivalent (or within float32 rounding, or
 * within the requested budget), 1 when not, 2 on bad input.
 */
import { formatSpeedup, pairedP50, summarizeTensor, VerifyCrashError, verifyModels, type VerifyProgress, type VerifyReport } from '@onnxkit/runtime';
import { oneLine } from '@onnxkit/passes';
import type { Model } from '@onnxkit/graph';
import { CliError, EXIT } from '../errors.js';
import { createReferenceEvaluator } from '../reference.js';
import { checkDimSymbols, ITERATIONS, numericInputShapes, parseDimValues, parseInputFiles, parsePerOutput } from '../options.js';
import { loadModel } from '../limits.js';
import { fmtDuration, fmtInt, outputMode, outputsTable, paint, Progress, table, terminalSafe, type OutputMode, type StepHandle } from '../ui.js';
import { fmtDb } from '../units.js';
import type { OptionsOf } from '../definitions.js';

/** The options of `onnxkit verify`, as its definition (definitions.ts) makes commander parse them. */
export type VerifyCliOptions = OptionsOf<'verify'>;

/**
 * The symbol bindings verify runs a model with symbolic input dims at, by default: every free
 * symbol at 1, then the batch (an input's leading dim) at 2 and every other symbol (sequence,
 * image size) at 128 — so shape-dependent bugs cannot hide at 1. Symbols the user bound
 * (--dim, --input-shape) keep their value in both. One binding when nothing is free.
 */
export function verifyBindings(inputs: readonly { name: string; shape: readonly (number | string | null)[] | null }[], given: Record<string, number> | undefined, pinned: Record<string, unknown> | undefined): Record<string, number>[] {
  const batch = new Set<string>();
  const free = new Set<string>();
  for (const v of inputs) {
    if (pinned?.[v.name] !== undefined) continue;
    v.shape?.forEach((d, i) => {
      if (typeof d !== 'string' || given?.[d] !== undefined) return;
      free.add(d);
      if (i === 0) batch.add(d);
    });
  }
  if (free.size === 0) return [given ?? {}];
  const at = (f: (d: string) => number) => ({ ...Object.fromEntries([...free].map((d) => [d, f(d)])), ...given });
  return [at(() => 1), at((d) => (batch.has(d) ? 2 : 128))];
}

export default async function verify(a: string, b: string, opts: VerifyCliOptions): Promise<number> {
  const mode = outputMode(opts);
  const progress = new Progress(mode);
  const benchIterations = opts.bench === true ? ITERATIONS.verifyBench : opts.bench;
  let step: StepHandle | undefined;
  let phase = '';
  // Which binding the steps that follow belong to when there are several: it heads the first
  // step's progress line ('binding 1 of 2 (N=1): loading a.onnx'), not a line of its own — that
  // line came before a failure's error line, two lines on stderr where the error must be alone.
  let binding = '';
  let header = '';
  const onProgress = (p: VerifyProgress): void => {
    const key = `${binding}${p.phase}${p.model ?? ''}`;
    if (key !== phase) {
      step?.done();
      phase = key;
      step = progress.step(`${header}${p.message}`);
      header = '';
    }
    if (p.total) step?.update((p.done ?? 0) / p.total, `${p.done ?? 0}/${p.total}`);
  };
  if (a === '-' && b === '-') throw new CliError('only one of the two models can come from stdin (-)');
  // Every flag is read before a model is loaded or a line printed: a bad --atol or --threads
  // came after 'binding 1 of 2: N=1' (two lines, and the models loaded for nothing).
  const flags = {
    ...(opts.atol !== undefined ? { atol: opts.atol } : {}),
    ...(opts.rtol !== undefined ? { rtol: opts.rtol } : {}),
    ...(opts.tolerance ? { perOutput: parsePerOutput(opts.tolerance) } : {}),
    ...(opts.inputs ? { inputFiles: parseInputFiles(opts.inputs) } : {}),
    seed: opts.seed,
    ...(opts.maxError !== undefined ? { maxError: opts.maxError } : {}),
    ...(opts.minSqnr !== undefined ? { minSqnrDb: opts.minSqnr } : {}),
    threads: opts.threads,
  };
  const given = parseDimValues(opts.dim);
  const pinnedShapes = numericInputShapes(opts);
  // A model from stdin goes to onnxruntime as the decoded model, not as a path.
  const modelA = a === '-' ? loadModel(a) : a;
  const modelB = b === '-' ? loadModel(b) : b;
  // Input files fix the shapes; otherwise a model with free symbolic dims is checked at two bindings.
  // Model A as a decoded model, for the checks below (loaded here when it came as a path).
  const decodedA = (): Model => (typeof modelA === 'string' ? loadModel(modelA) : modelA);
  const structureA = given || !opts.inputs ? decodedA() : undefined;
  if (structureA) checkDimSymbols(structureA, opts);
  // A --tolerance for a name that is not an output applied to nothing, silently (a typo, exit 0).
  if (flags.perOutput) {
    const outputs = (structureA ?? decodedA()).graph.outputs.map((v) => v.name);
    const unknown = Object.keys(flags.perOutput).find((n) => !outputs.includes(n));
    if (unknown !== undefined) throw new CliError(`--tolerance names '${unknown}', which is not an output of ${a === '-' ? 'the model on stdin' : a} (its outputs: ${outputs.join(', ')})`, { hint: 'name an output as `onnxkit inspect` lists it' });
  }
  const bindings = opts.inputs ? [given ?? {}] : verifyBindings(structureA!.graph.inputs.filter((v) => !v.isInitializer).map((v) => ({ name: v.name, shape: v.shape })), given, pinnedShapes);
  const runs: { dimValues: Record<string, number>; report: VerifyReport }[] = [];
  for (const [k, first] of bindings.entries()) {
    let dimValues = first;
    const bound = Object.keys(dimValues).length > 0;
    const headed = (): void => {
      binding = fmtBinding(dimValues);
      if (bound && bindings.length > 1) header = `binding ${k + 1} of ${bindings.length} (${binding}): `;
    };
    headed();
    // The larger binding may exceed what the model supports (a learned position table of 64):
    // halve the non-batch symbols until the models run, and say so — once a binding ran: when
    // none does, the last one's error is the only line.
    const retries: string[] = [];
    for (;;) {
      try {
        runs.push({ dimValues, report: await runOnce(bound ? dimValues : undefined, k === 0) });
        if (!mode.json && !mode.quiet) for (const r of retries) process.stderr.write(r);
        break;
      } catch (e) {
        // A crash is not a size problem: the surviving model's results are printed, then the error.
        const smaller = k > 0 && !(e instanceof VerifyCrashError) ? halveLarge(dimValues, given) : undefined;
        if (smaller === undefined) {
          if (e instanceof VerifyCrashError) {
            step?.done();
            printCrash(e, runs, bound ? dimValues : undefined, mode);
          }
          throw e;
        }
        retries.push(`${terminalSafe(`onnxruntime cannot run ${fmtBinding(dimValues)} (${e instanceof Error ? e.message.split('\n')[0]!.slice(0, 160) : String(e)}); trying ${fmtBinding(smaller)}`, { keepNewlines: false })}\n`);
        dimValues = smaller;
        headed();
      }
    }
  }
  step?.done();
  const failed = runs.find((r) => !r.report.equivalent);
  const report = (failed ?? runs[runs.length - 1]!).report;
  if (mode.json) {
    process.stdout.write(JSON.stringify(runs.length > 1 || Object.keys(runs[0]!.dimValues).length > 0 ? { ...report, equivalent: !failed, dimValues: (failed ?? runs[runs.length - 1]!).dimValues, bindings: runs.map((r) => ({ dimValues: r.dimValues, equivalent: r.report.equivalent, report: r.report })) } : report, null, 2) + '\n');
  } else {
    process.stdout.write(
      runs.map((r) => `${Object.keys(r.dimValues).length > 0 ? `${paint(mode, 'bold', `symbolic dims ${fmtBinding(r.dimValues)}`)}\n` : ''}${formatVerify(r.report, mode)}`).join('\n\n') + '\n',
    );
  }
  return failed ? EXIT.checkFailed : EXIT.ok;

  function runOnce(dimValues: Record<string, number> | undefined, withBench: boolean): Promise<VerifyReport> {
    return verifyModels(modelA, modelB, {
    ...flags,
    ...(pinnedShapes ? { inputShapes: pinnedShapes } : {}),
    ...(dimValues ? { dimValues } : {}),
    bisect: opts.bisect === true,
    ...(opts.reference !== false ? { reference: createReferenceEvaluator() } : {}),
    ...(benchIterations !== undefined && withBench ? { bench: { iterations: benchIterations } } : {}),
    onProgress,
    });
  }
}

/**
 * onnxruntime crashed on one model: what the other produced (its outputs and timings, and the
 * bindings verified before), on stdout; the caller then throws the crash's one-line error (exit 2).
 */
function printCrash(e: VerifyCrashError, runs: { dimValues: Record<string, number>; report: VerifyReport }[], dimValues: Record<string, number> | undefined, mode: OutputMode): void {
  const s = e.survivor;
  const crashed = { side: e.side, model: e.model ?? null, step: e.step ?? null, code: e.code, error: e.message };
  if (mode.json) {
    const survivor = s === null ? null : { side: s.side, model: s.model, createMs: s.createMs, runMs: s.runMs, inputs: s.inputs, outputs: [...s.outputs].map(([name, t]) => summarizeTensor(name, t)) };
    process.stdout.write(JSON.stringify({ equivalent: false, crashed, survivor, ...(dimValues ? { dimValues } : {}), ...(runs.length > 0 ? { bindings: runs.map((r) => ({ dimValues: r.dimValues, equivalent: r.report.equivalent, report: r.report })) } : {}) }, null, 2) + '\n');
    return;
  }
  const parts = runs.map((r) => `${Object.keys(r.dimValues).length > 0 ? `${paint(mode, 'bold', `symbolic dims ${fmtBinding(r.dimValues)}`)}\n` : ''}${formatVerify(r.report, mode)}`);
  if (s !== null) {
    const head = `${dimValues ? `${paint(mode, 'bold', `symbolic dims ${fmtBinding(dimValues)}`)}\n` : ''}${paint(mode, 'bold', `${s.side} ${s.model}`)} (${e.side} crashed onnxruntime)`;
    parts.push(`${head}\n${outputsTable([...s.outputs].map(([name, t]) => summarizeTensor(name, t)), mode)}\n${s.side}: created in ${fmtDuration(s.createMs)}, ran in ${fmtDuration(s.runMs)}; ${describeInputs(s.inputs)}`);
  }
  if (parts.length > 0) process.stdout.write(parts.join('\n\n') + '\n');
}

function describeInputs(i: VerifyReport['inputs']): string {
  return i.source === 'files' ? `inputs from ${i.files.join(', ')}` : i.source === 'given' ? 'given inputs' : `synthetic inputs (seed ${(i as { seed?: number }).seed ?? 0})`;
}

/** The binding with every symbol verify chose above 2 halved (the user's own values kept); undefined when none is left to halve. */
function halveLarge(d: Record<string, number>, given: Record<string, number> | undefined): Record<string, number> | undefined {
  let changed = false;
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(d)) {
    out[k] = given?.[k] === undefined && v > 2 ? Math.max(2, Math.floor(v / 2)) : v;
    if (out[k] !== v) changed = true;
  }
  return changed ? out : undefined;
}

function fmtBinding(d: Record<string, number>): string {
  return oneLine(
    Object.entries(d)
      .map(([k, v]) => `${k}=${v}`)
      .join(', '),
  );
}

const sci = (x: number): string => (x === 0 ? '0' : Math.abs(x) >= 0.01 && Math.abs(x) < 1000 ? x.toPrecision(3) : x.toExponential(2));

const db = (x: number | null): string => fmtDb(x);

/** The float64 table (per output: both models' error against float64, SQNR, the budget), or the fallback line. */
function formatReference(r: VerifyReport, mode: OutputMode): string[] {
  const ref = r.reference;
  if (ref === null) return [];
  if (ref.basis === 'fixed-tolerance') {
    return [paint(mode, 'yellow', `float64 reference unavailable: ${ref.unavailable?.reason ?? 'unknown reason'} — falling back to the fixed tolerance`), ''];
  }
  // (the table's cells are one line each already: its lines are listed, not the table as one entry)
  return [
    ...table(
      ['output', 'A max err', 'A mean err', 'A SQNR dB', 'B max err', 'B mean err', 'B SQNR dB', 'budget', 'over budget', ''],
      ref.outputs.map((o) => [
        o.name,
        sci(o.a.maxError),
        sci(o.a.meanError),
        db(o.a.sqnrDb),
        sci(o.b.maxError),
        sci(o.b.meanError),
        db(o.b.sqnrDb),
        o.exact ? 'exact' : sci(o.budget),
        `${fmtInt(o.exceeding)} / ${fmtInt(o.compared)}`,
        o.pass ? paint(mode, 'green', '✔') : paint(mode, 'red', '✖'),
      ]),
      mode,
    ).split('\n'),
    `errors against a float64 evaluation of A (${fmtDuration(ref.ms)}); budget = ${ref.rule.text}`,
    '',
  ];
}

export function formatVerify(r: VerifyReport, mode: OutputMode): string {
  const outputs = table(
      ['output', 'dtype', 'shape', 'max abs', 'max rel', 'cosine', 'mismatches', ''],
      r.outputs.map((o) => [
        o.name,
        o.dtypeA ?? '?',
        o.shapeA ? `[${o.shapeA.join(',')}]` : '?',
        // Never "max abs 0, cosine 1" for a pair that differs only in NaN/Inf elements.
        o.mismatches > 0 && o.maxAbsError === 0 ? `0 finite (${fmtInt(o.nan.a + o.inf.a)}/${fmtInt(o.nan.b + o.inf.b)} non-finite)` : sci(o.maxAbsError),
        sci(o.maxRelError),
        o.cosine === null ? '—' : o.mismatches > 0 && o.cosine >= 0.9999995 ? '≈1 (differs)' : o.cosine.toFixed(6),
        `${fmtInt(o.mismatches)} / ${fmtInt(o.total)}`,
        o.pass ? paint(mode, 'green', '✔') : paint(mode, 'red', `✖ ${o.reason ?? ''}`.trim()),
      ]),
      mode,
    );
  const lines: string[] = [''];
  for (const l of formatReference(r, mode)) lines.push(l);
  const tol = r.tolerance.atol === null && r.tolerance.rtol === null ? 'per-dtype defaults' : `atol ${r.tolerance.atol ?? 'default'}, rtol ${r.tolerance.rtol ?? 'default'}`;
  const inputs = describeInputs(r.inputs);
  const verdict = r.equivalent ? paint(mode, 'green', r.verdict) : paint(mode, 'red', `NOT equivalent${r.reason ? `: ${r.reason}` : ''}`);
  const basis = r.reference?.basis === 'reference' ? `judged against float64 (${r.reference.rule.text}); fixed tolerance ${tol}` : `${r.reference ? 'FALLBACK: fixed tolerance ' : ''}${tol}`;
  lines.push(`${paint(mode, 'bold', verdict)} — ${fmtInt(r.compared)} elements compared; ${basis}; ${inputs}`);
  if (r.firstDivergence !== undefined) {
    const d = r.firstDivergence;
    lines.push(
      d === null
        ? r.reference?.basis === 'reference'
          ? 'bisect: no intermediate value shared by both models exceeds the float64 budget'
          : 'bisect: no intermediate value shared by both models diverges'
        : d.judgement !== undefined
          ? `first value over the float64 budget: '${d.value}' produced by ${d.node.opType} '${d.node.name}' (node ${d.nodeIndex}; B max err ${sci(d.judgement.b.maxError)} vs A ${sci(d.judgement.a.maxError)}, budget ${sci(d.judgement.budget)}, ${fmtInt(d.judgement.exceeding)} ${d.judgement.exceeding === 1 ? 'element' : 'elements'} over${d.judgement.nonFinite > 0 ? `, ${fmtInt(d.judgement.nonFinite)} of them NaN/±Inf in one model only` : ''})`
          : `first divergence: '${d.value}' produced by ${d.node.opType} '${d.node.name}' (node ${d.nodeIndex}; max abs ${sci(d.comparison.maxAbsError)}, ${fmtInt(d.comparison.mismatches)} mismatches)`,
    );
  }
  if (r.latency) {
    const l = r.latency;
    lines.push(
      `latency: A p50 ${fmtDuration(l.a.p50Ms)}, B p50 ${fmtDuration(l.b.p50Ms)}; speed-up B/A ${formatSpeedup(l.ratioStats, l.iterations)}, ${l.ratioStats.verdict === 'same' ? 'no difference beyond the noise' : `B is ${l.ratioStats.verdict}`}; ${l.threads} thread${l.threads > 1 ? 's' : ''}, ORT ${l.graphOptimizationLevel}${pairedP50(l.a.p50Ms, l.b.p50Ms, l.ratioStats).consistent ? '' : ` (p50(B)/p50(A) = ×${(l.b.p50Ms / l.a.p50Ms).toFixed(3)} lies outside the interval: the two timing distributions differ in shape; the speed-up is the paired median)`}`,
    );
  }
  // Each entry is one line: a line break in a node, value or output name cannot forge a verdict.
  return [outputs, ...lines.map(oneLine)].join('\n');
}
