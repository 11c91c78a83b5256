/**
 * `onnxkit demo [MODEL]` (and `pnpm start`): the main job. Import → analyze → optimize
 * (`default` preset) → verify against the original in onnxruntime → benchmark both,
 * interleaved → write the optimized model, the HTML report, the analysis JSON and a Netron
 * attachment to out/. With no MODEL it uses an embedded default: the zoo MobileNetV2 with its
 * BatchNormalization nodes kept. Exits 1 when the optimized model is not equivalent.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { save, writeFileAtomic } from '@onnxkit/importer';
import { analysisToJson, parseDeviceProfile, toNetronAttachment, type DeviceProfile } from '@onnxkit/passes';
import { calibrate } from '@onnxkit/runtime';
import { buildZooModel } from '@onnxkit/zoo';
import { localProfilePath, resolveDevice } from '../devices.js';
import { EXIT } from '../errors.js';
import { reportData, runJob, type JobResult } from '../job.js';
import { intOption, parseInputShapes } from '../program.js';
import { renderReport } from '../report/index.js';
import { fmtBytes, fmtDuration, fmtInt, outputMode, paint, Progress, table, type OutputMode } from '../ui.js';
import { generator } from '../version.js';
import { pipelineFromFlags } from './optimize.js';
import { loadModel } from '../limits.js';
import { ensureDir } from '../fs-utils.js';

export interface DemoCliOptions {
  out?: string;
  device?: string;
  preset?: string;
  iterations?: string;
  threads?: string;
  seed?: string;
  inputShape?: string[];
  json?: boolean;
}

const encoder = new TextEncoder();

export default async function demo(modelArg: string | undefined, opts: DemoCliOptions): Promise<number> {
  const mode = outputMode(opts);
  const progress = new Progress(mode);
  const outDir = opts.out ?? 'out';
  ensureDir(outDir);
  const t0 = performance.now();

  let file: string;
  let name: string;
  if (modelArg === undefined) {
    name = 'mobilenetv2';
    file = join(outDir, `${name}.onnx`);
    const step = progress.step(`build the embedded default: zoo MobileNetV2 with BatchNorm kept → ${file}`);
    save(buildZooModel('mobilenetv2', { seed: 0 }), file);
    step.done();
  } else {
    file = modelArg;
    name = basename(file).replace(/\.onnx$/i, '');
  }

  let step = progress.step(`import ${file}`);
  const model = loadModel(file);
  const fileBytes = statSync(file).size;
  step.done(`${fmtInt(model.graph.nodeCount)} nodes, ${fmtBytes(fileBytes)}`);

  const device = await demoDevice(opts.device, outDir, progress);
  const inputShapes = parseInputShapes(opts.inputShape);
  const preset = opts.preset ?? 'default';
  const input = { model, file, fileBytes };
  const result = await runJob(input, {
    device,
    ...(inputShapes ? { inputShapes } : {}),
    pipeline: [preset],
    pipelineOptions: pipelineFromFlags({ preset }).options,
    verify: true,
    benchIterations: intOption('--iterations', opts.iterations, { min: 1 }) ?? 30,
    threads: intOption('--threads', opts.threads, { min: 1 }) ?? 1,
    seed: intOption('--seed', opts.seed, { min: 0 }) ?? 0,
    progress,
  });

  step = progress.step(`write ${outDir}/`);
  const files = {
    optimized: join(outDir, `${name}.optimized.onnx`),
    report: join(outDir, `${name}.report.html`),
    analysis: join(outDir, `${name}.analysis.json`),
    netron: join(outDir, `${name}.netron.json`),
  };
  save(result.optimized!.model, files.optimized);
  const optimizedBytes = statSync(files.optimized).size;
  const data = reportData(input, result, { generator: generator(), pipelineName: preset });
  writeFileAtomic(files.report, encoder.encode(renderReport(data)));
  writeFileAtomic(files.analysis, encoder.encode(JSON.stringify({ original: JSON.parse(analysisToJson(result.original.analysis)), optimized: JSON.parse(analysisToJson(result.optimized!.analysis)) }, null, 2) + '\n'));
  writeFileAtomic(files.netron, encoder.encode(JSON.stringify(toNetronAttachment(result.original.analysis), null, 2) + '\n'));
  step.done(Object.values(files).map((f) => basename(f)).join(', '));

  const summary = demoSummary(name, preset, result, fileBytes, optimizedBytes, device, performance.now() - t0);
  if (mode.json) process.stdout.write(JSON.stringify({ ...summary, files }, null, 2) + '\n');
  else process.stdout.write('\n' + formatSummary(summary, files, mode) + '\n');
  return result.verify?.equivalent === false ? EXIT.checkFailed : EXIT.ok;
}

/** The roofline device: --device, else this machine's measured profile (measured once, kept in out/). */
async function demoDevice(name: string | undefined, outDir: string, progress: Progress): Promise<DeviceProfile> {
  if (name !== undefined) return resolveDevice(name);
  for (const p of [localProfilePath(), join(outDir, 'local-device.json')]) {
    if (existsSync(p)) return parseDeviceProfile(JSON.parse(readFileSync(p, 'utf8')));
  }
  const step = progress.step('calibrate this CPU for the roofline (once; onnxkit calibrate does it thoroughly)');
  const profile = await calibrate({ threads: 1, matmulSizes: [1024], minTimeMs: 400, minRuns: 3, copyBytes: 64 * 1024 * 1024, copies: 5 });
  writeFileAtomic(join(outDir, 'local-device.json'), encoder.encode(JSON.stringify(profile, null, 2) + '\n'));
  step.done(`${(profile.peakFlops.fp32 / 1e9).toFixed(1)} GFLOP/s, ${fmtBytes(profile.memoryBandwidth)}/s`);
  return parseDeviceProfile(profile);
}

interface Side {
  nodes: number;
  params: number;
  modelSizeBytes: number;
  fileBytes: number;
  macs: number;
  estimatedMs: number;
  measuredMs: { all: number | null; disabled: number | null };
}

export interface DemoSummary {
  model: string;
  preset: string;
  device: string;
  original: Side;
  optimized: Side;
  measuredRatio: { all: number | null; disabled: number | null };
  /** Symbolic input dims bound for the metrics and the runs (the optimized model stays symbolic). */
  boundDims?: Record<string, number>;
  /** Whether the 95% confidence interval of each ratio excludes 1 ('same': within the noise). */
  measuredVerdict: { all: 'faster' | 'slower' | 'same' | null; disabled: 'faster' | 'slower' | 'same' | null };
  equivalent: boolean | null;
  /** 'equivalent', 'equivalent within float32 rounding', 'NOT equivalent' (null: not verified). */
  verdict: string | null;
  /** Worst error of each model against the float64 reference (null: reference not used). */
  errorVsFloat64: { a: number; b: number; budget: number } | null;
  maxAbsError: number | null;
  maxRelError: number | null;
  changes: number;
  elapsedMs: number;
}

function demoSummary(name: string, preset: string, r: JobResult, fileBytes: number, optimizedBytes: number, device: DeviceProfile, elapsedMs: number): DemoSummary {
  const o = r.optimized!;
  const sideOf = (a: JobResult['original']['analysis'], nodes: number, bytes: number, which: 'a' | 'b'): Side => ({
    nodes,
    params: a.totals.params,
    modelSizeBytes: a.totals.modelSizeBytes,
    fileBytes: bytes,
    macs: a.totals.macs,
    estimatedMs: a.totals.latency.seconds * 1e3,
    measuredMs: { all: r.benchAll?.[which].latency.p50Ms ?? null, disabled: r.benchProfiled?.[which].latency.p50Ms ?? null },
  });
  const outs = r.verify?.outputs ?? [];
  return {
    model: name,
    preset,
    device: `${device.title} [${device.id}]`,
    original: sideOf(r.original.analysis, r.original.model.graph.nodeCount, fileBytes, 'a'),
    optimized: sideOf(o.analysis, o.model.graph.nodeCount, optimizedBytes, 'b'),
    measuredRatio: { all: r.benchAll?.ratio.median ?? null, disabled: r.benchProfiled?.ratio.median ?? null },
    measuredVerdict: { all: r.benchAll?.ratio.verdict ?? null, disabled: r.benchProfiled?.ratio.verdict ?? null },
    ...(r.boundDims ? { boundDims: r.boundDims } : {}),
    equivalent: r.verify?.equivalent ?? null,
    verdict: r.verify?.verdict ?? null,
    errorVsFloat64:
      r.verify?.reference?.basis === 'reference' && r.verify.reference.outputs.length > 0
        ? { a: Math.max(...r.verify.reference.outputs.map((x) => x.a.maxError)), b: Math.max(...r.verify.reference.outputs.map((x) => x.b.maxError)), budget: Math.min(...r.verify.reference.outputs.map((x) => x.budget)) }
        : null,
    maxAbsError: outs.length ? Math.max(...outs.map((x) => x.maxAbsError)) : null,
    maxRelError: outs.length ? Math.max(...outs.map((x) => x.maxRelError)) : null,
    changes: o.pipeline.totalChanges,
    elapsedMs,
  };
}

/** "  ×0.937 interleaved, faster" — or "within noise" when the ratio's 95% interval spans 1. */
function ratioText(ratio: number | null, verdict: 'faster' | 'slower' | 'same' | null): string {
  if (ratio === null) return '';
  return `  ×${ratio.toFixed(3)} interleaved${verdict === null ? '' : verdict === 'same' ? ', within noise' : `, ${verdict}`}`;
}

function formatSummary(s: DemoSummary, files: Record<string, string>, mode: OutputMode): string {
  const ms = (x: number | null): string => (x === null ? '—' : fmtDuration(x));
  const arrow = (a: string, b: string): string => (a === b ? a : `${a} → ${b}`);
  const rows = [
    ['nodes', arrow(fmtInt(s.original.nodes), fmtInt(s.optimized.nodes))],
    ['learnable params', arrow(fmtInt(s.original.params), fmtInt(s.optimized.params))],
    ['model size (weights)', arrow(fmtBytes(s.original.modelSizeBytes), fmtBytes(s.optimized.modelSizeBytes))],
    ['file size', arrow(fmtBytes(s.original.fileBytes), fmtBytes(s.optimized.fileBytes))],
    ['MACs', arrow(fmtInt(s.original.macs), fmtInt(s.optimized.macs))],
    ['latency, roofline estimate', `${arrow(ms(s.original.estimatedMs), ms(s.optimized.estimatedMs))}  (${s.device})`],
    ['latency, measured p50 (ORT all)', `${arrow(ms(s.original.measuredMs.all), ms(s.optimized.measuredMs.all))}${ratioText(s.measuredRatio.all, s.measuredVerdict.all)}`],
    ['latency, measured p50 (ORT disabled)', `${arrow(ms(s.original.measuredMs.disabled), ms(s.optimized.measuredMs.disabled))}${ratioText(s.measuredRatio.disabled, s.measuredVerdict.disabled)}`],
  ];
  const verdict =
    s.equivalent === null
      ? 'not verified'
      : s.equivalent
        ? paint(mode, 'green', `${s.verdict ?? 'equivalent'} — max abs error ${s.maxAbsError?.toExponential(2)}, max rel error ${s.maxRelError?.toExponential(2)}${s.errorVsFloat64 ? `; vs float64: original ${s.errorVsFloat64.a.toExponential(2)}, optimized ${s.errorVsFloat64.b.toExponential(2)} (budget ${s.errorVsFloat64.budget.toExponential(2)})` : ''}`)
        : paint(mode, 'red', `NOT equivalent — max abs error ${s.maxAbsError?.toExponential(2)}, max rel error ${s.maxRelError?.toExponential(2)}`);
  return [
    `${paint(mode, 'bold', s.model)}: ${s.changes} rewrites by the '${s.preset}' preset`,
    table(['', 'original → optimized'], rows, mode),
    ...(s.boundDims ? [`(symbolic dims ${Object.entries(s.boundDims).map(([k, v]) => `${k}=${v}`).join(', ')} for the metrics and the runs; the optimized model keeps them symbolic)`] : []),
    '',
    `verification: ${verdict}`,
    `files: ${Object.values(files).join(', ')}`,
    `done in ${fmtDuration(s.elapsedMs)}`,
  ].join('\n');
}
