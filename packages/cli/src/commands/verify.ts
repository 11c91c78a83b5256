/**
 * `onnxkit verify A B`: are two models numerically the same in onnxruntime (and is B faster)?
 * Judged against a float64 evaluation of A (the reference) when it can run A; otherwise by the
 * fixed tolerance, labelled as such. Exit 0 when equivalent (or within float32 rounding, or
 * within the requested budget), 1 when not, 2 on bad input.
 */
import { verifyModels, type VerifyProgress, type VerifyReport } from '@onnxkit/runtime';
import { CliError, EXIT } from '../errors.js';
import { createReferenceEvaluator } from '../reference.js';
import { parseInputFiles, parsePerOutput, positive } from '../options.js';
import { intOption, parseInputShapes } from '../program.js';
import { fmtDuration, fmtInt, outputMode, paint, Progress, table, type OutputMode, type StepHandle } from '../ui.js';

export interface VerifyCliOptions {
  json?: boolean;
  atol?: string;
  rtol?: string;
  tolerance?: string[];
  inputs?: string[];
  seed?: string;
  inputShape?: string[];
  bisect?: boolean;
  reference?: boolean;
  maxError?: string;
  minSqnr?: string;
  bench?: string | boolean;
  threads?: string;
}

export default async function verify(a: string, b: string, opts: VerifyCliOptions): Promise<number> {
  const mode = outputMode(opts);
  const progress = new Progress(mode);
  const benchIterations = opts.bench === undefined || opts.bench === false ? undefined : opts.bench === true ? 20 : intOption('--bench', opts.bench, { min: 1 });
  let step: StepHandle | undefined;
  let phase = '';
  const onProgress = (p: VerifyProgress): void => {
    const key = `${p.phase}${p.model ?? ''}`;
    if (key !== phase) {
      step?.done();
      phase = key;
      step = progress.step(p.message);
    }
    if (p.total) step?.update((p.done ?? 0) / p.total, `${p.done ?? 0}/${p.total}`);
  };
  const report = await verifyModels(a, b, {
    ...(opts.atol !== undefined ? { atol: positive('--atol', opts.atol) } : {}),
    ...(opts.rtol !== undefined ? { rtol: positive('--rtol', opts.rtol) } : {}),
    ...(opts.tolerance ? { perOutput: parsePerOutput(opts.tolerance) } : {}),
    ...(opts.inputs ? { inputFiles: parseInputFiles(opts.inputs) } : {}),
    seed: intOption('--seed', opts.seed, { min: 0 }) ?? 0,
    ...(opts.inputShape ? { inputShapes: numericShapes(parseInputShapes(opts.inputShape)) } : {}),
    bisect: opts.bisect === true,
    ...(opts.reference !== false ? { reference: createReferenceEvaluator() } : {}),
    ...(opts.maxError !== undefined ? { maxError: positive('--max-error', opts.maxError) } : {}),
    ...(opts.minSqnr !== undefined ? { minSqnrDb: finiteNumber('--min-sqnr', opts.minSqnr) } : {}),
    ...(benchIterations !== undefined ? { bench: { iterations: benchIterations } } : {}),
    threads: intOption('--threads', opts.threads, { min: 1 }) ?? 1,
    onProgress,
  });
  step?.done();
  if (mode.json) process.stdout.write(JSON.stringify(report, null, 2) + '\n');
  else process.stdout.write(formatVerify(report, mode) + '\n');
  return report.equivalent ? EXIT.ok : EXIT.checkFailed;
}

function finiteNumber(flag: string, v: string): number {
  const x = Number(v);
  if (v.trim() === '' || !Number.isFinite(x)) throw new CliError(`${flag}: '${v}' is not a number`);
  return x;
}

function numericShapes(shapes: Record<string, (number | string)[]> | undefined): Record<string, number[]> | undefined {
  if (!shapes) return undefined;
  const out: Record<string, number[]> = {};
  for (const [k, dims] of Object.entries(shapes)) {
    out[k] = dims.map((d) => {
      if (typeof d !== 'number') throw new CliError(`--input-shape ${k}: '${d}' must be a number to run the model`);
      return d;
    });
  }
  return out;
}

const sci = (x: number): string => (x === 0 ? '0' : Math.abs(x) >= 0.01 && Math.abs(x) < 1000 ? x.toPrecision(3) : x.toExponential(2));

const db = (x: number | null): string => (x === null ? '∞' : Number.isFinite(x) ? x.toFixed(1) : '-∞');

/** The float64 table (per output: both models' error against float64, SQNR, the budget), or the fallback line. */
function formatReference(r: VerifyReport, mode: OutputMode): string[] {
  const ref = r.reference;
  if (ref === null) return [];
  if (ref.basis === 'fixed-tolerance') {
    return [paint(mode, 'yellow', `float64 reference unavailable: ${ref.unavailable?.reason ?? 'unknown reason'} — falling back to the fixed tolerance`), ''];
  }
  return [
    table(
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
    ),
    `errors against a float64 evaluation of A (${fmtDuration(ref.ms)}); budget = ${ref.rule.text}`,
    '',
  ];
}

export function formatVerify(r: VerifyReport, mode: OutputMode): string {
  const lines: string[] = [];
  lines.push(
    table(
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
    ),
  );
  lines.push('');
  lines.push(...formatReference(r, mode));
  const tol = r.tolerance.atol === null && r.tolerance.rtol === null ? 'per-dtype defaults' : `atol ${r.tolerance.atol ?? 'default'}, rtol ${r.tolerance.rtol ?? 'default'}`;
  const inputs = r.inputs.source === 'files' ? `inputs from ${r.inputs.files.join(', ')}` : r.inputs.source === 'given' ? 'given inputs' : `synthetic inputs (seed ${(r.inputs as { seed?: number }).seed ?? 0})`;
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
          ? `first value over the float64 budget: '${d.value}' produced by ${d.node.opType} '${d.node.name}' (node ${d.nodeIndex}; B max err ${sci(d.judgement.b.maxError)} vs A ${sci(d.judgement.a.maxError)}, budget ${sci(d.judgement.budget)}, ${fmtInt(d.judgement.exceeding)} elements over)`
          : `first divergence: '${d.value}' produced by ${d.node.opType} '${d.node.name}' (node ${d.nodeIndex}; max abs ${sci(d.comparison.maxAbsError)}, ${fmtInt(d.comparison.mismatches)} mismatches)`,
    );
  }
  if (r.latency) {
    const l = r.latency;
    lines.push(
      `latency: A p50 ${fmtDuration(l.a.p50Ms)}, B p50 ${fmtDuration(l.b.p50Ms)}, B/A ${l.ratio.toFixed(3)}× (median of ${l.iterations} interleaved pairs, ${Math.round(l.ratioStats.ci.level * 100)}% CI ${l.ratioStats.ci.low.toFixed(3)}–${l.ratioStats.ci.high.toFixed(3)}, ${l.ratioStats.verdict === 'same' ? 'no difference beyond the noise' : `B is ${l.ratioStats.verdict}`}; ${l.threads} thread${l.threads > 1 ? 's' : ''}, ORT ${l.graphOptimizationLevel})`,
    );
  }
  return lines.join('\n');
}
