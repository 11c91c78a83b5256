/**
 * `onnxkit verify A B`: are two models numerically the same in onnxruntime (and is B faster)?
 * Exit 0 when equivalent, 1 when not, 2 on bad input.
 */
import { formatSpeedup, pairedP50, verifyModels, type VerifyProgress, type VerifyReport } from '@onnxkit/runtime';
import { CliError, EXIT } from '../errors.js';
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
    ...(benchIterations !== undefined ? { bench: { iterations: benchIterations } } : {}),
    threads: intOption('--threads', opts.threads, { min: 1 }) ?? 1,
    onProgress,
  });
  step?.done();
  if (mode.json) process.stdout.write(JSON.stringify(report, null, 2) + '\n');
  else process.stdout.write(formatVerify(report, mode) + '\n');
  return report.equivalent ? EXIT.ok : EXIT.checkFailed;
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

export function formatVerify(r: VerifyReport, mode: OutputMode): string {
  const lines: string[] = [];
  lines.push(
    table(
      ['output', 'dtype', 'shape', 'max abs', 'max rel', 'cosine', 'mismatches', ''],
      r.outputs.map((o) => [
        o.name,
        o.dtypeA ?? '?',
        o.shapeA ? `[${o.shapeA.join(',')}]` : '?',
        sci(o.maxAbsError),
        sci(o.maxRelError),
        o.cosine === null ? '—' : o.cosine.toFixed(6),
        `${fmtInt(o.mismatches)} / ${fmtInt(o.total)}`,
        o.pass ? paint(mode, 'green', '✔') : paint(mode, 'red', `✖ ${o.reason ?? ''}`.trim()),
      ]),
      mode,
    ),
  );
  lines.push('');
  const tol = r.tolerance.atol === null && r.tolerance.rtol === null ? 'per-dtype defaults' : `atol ${r.tolerance.atol ?? 'default'}, rtol ${r.tolerance.rtol ?? 'default'}`;
  const inputs = r.inputs.source === 'files' ? `inputs from ${r.inputs.files.join(', ')}` : r.inputs.source === 'given' ? 'given inputs' : `synthetic inputs (seed ${(r.inputs as { seed?: number }).seed ?? 0})`;
  const verdict = r.equivalent ? paint(mode, 'green', 'equivalent') : paint(mode, 'red', `NOT equivalent${r.reason ? `: ${r.reason}` : ''}`);
  lines.push(`${paint(mode, 'bold', verdict)} — ${fmtInt(r.compared)} elements compared; ${tol}; ${inputs}`);
  if (r.firstDivergence !== undefined) {
    const d = r.firstDivergence;
    lines.push(
      d === null
        ? 'bisect: no intermediate value shared by both models diverges'
        : `first divergence: '${d.value}' produced by ${d.node.opType} '${d.node.name}' (node ${d.nodeIndex}; max abs ${sci(d.comparison.maxAbsError)}, ${fmtInt(d.comparison.mismatches)} mismatches)`,
    );
  }
  if (r.latency) {
    const l = r.latency;
    lines.push(
      `latency: A p50 ${fmtDuration(l.a.p50Ms)}, B p50 ${fmtDuration(l.b.p50Ms)}; speed-up B/A ${formatSpeedup(l.ratioStats, l.iterations)}, ${l.ratioStats.verdict === 'same' ? 'no difference beyond the noise' : `B is ${l.ratioStats.verdict}`}; ${l.threads} thread${l.threads > 1 ? 's' : ''}, ORT ${l.graphOptimizationLevel}${pairedP50(l.a.p50Ms, l.b.p50Ms, l.ratioStats).consistent ? '' : ` (p50(B)/p50(A) = ×${(l.b.p50Ms / l.a.p50Ms).toFixed(3)} lies outside the interval: the two timing distributions differ in shape; the speed-up is the paired median)`}`,
    );
  }
  return lines.join('\n');
}
