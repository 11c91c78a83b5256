/**
 * `onnxkit report MODEL -o report.html`: the self-contained HTML report. With `--optimize` it
 * runs a pipeline on a copy; with `--optimized OTHER` it compares against an existing file.
 * Either way the second model is verified and benchmarked against the first unless told not to.
 * When onnxruntime crashes on one of them, the report is still written with what is known (the
 * other model's outputs and latency, the crashed model's columns marked unavailable with the
 * reason), then the crash's one line, exit 2.
 */
import { statSync } from 'node:fs';
import type { Model } from '@onnxkit/graph';
import { writeFileAtomic } from '@onnxkit/importer';
import { analyzeModel } from '@onnxkit/passes';
import { compareWithRoofline } from '@onnxkit/runtime';
import { resolveDevice } from '../devices.js';
import { CliError } from '../errors.js';
import { freeDimsAsOne, jobCrashData, reportData, runJob, verifyAndBench, type JobCrash, type JobResult } from '../job.js';
import { checkDimSymbols, inputShapesWithDims, ITERATIONS, parseDimValues, parseInputShapes } from '../options.js';
import { quantizeBeside } from '../quantize-compare.js';
import { calibrationSettings, strayCalibrationFlag } from '../static-quantize.js';
import { inputBytes, STDIO } from '../stdio.js';
import { latencyFromBenchPair, refuseOversizedReport, renderReport, summarizeModel, verificationData, type ReportData } from '../report/index.js';
import { fmtBytes, outputMode, Progress } from '../ui.js';
import { generator } from '../version.js';
import { optimizeFlagPipeline, pipelineFromFlags } from '../pipeline.js';
import { loadModel } from '../limits.js';
import { refuseInvalidModel, sortedInputWarning } from '../validity.js';
import { ensureParent, refuseOverwritingFiles, refuseOverwritingInput, refuseOverwritingModelFiles, refuseUnwritableOutput } from '../fs-utils.js';
import { analysisMemory } from '../memory.js';
import type { OptionsOf } from '../definitions.js';

/** The options of `onnxkit report`, as its definition (definitions.ts) makes commander parse them. */
export type ReportCliOptions = OptionsOf<'report'>;

export default async function report(file: string, opts: ReportCliOptions): Promise<number> {
  const mode = outputMode(opts);
  if (opts.optimized && opts.optimize) throw new CliError('give --optimize or --optimized, not both');
  const progress = new Progress(mode);
  const device = resolveDevice(opts.device);
  parseInputShapes(opts.inputShape); // bad flags fail before the model is read
  const dims = parseDimValues(opts.dim);
  const pipeline = opts.optimized === undefined ? optimizeFlagPipeline(opts.optimize) : null;
  if (opts.output === STDIO && mode.json) throw new CliError('--json and -o - both write to stdout');
  refuseOverwritingInput(file, opts.output, '-o');
  if (opts.optimized !== undefined) refuseOverwritingInput(opts.optimized, opts.output, '-o');
  refuseOverwritingFiles(opts.output, '-o', [['--device', opts.device], ['--calibration', opts.calibration], ['--eval', opts.eval]]);
  refuseUnwritableOutput(opts.output);
  const benchIterations = opts.bench === false ? 0 : opts.bench === true || opts.bench === undefined ? ITERATIONS.reportBench : opts.bench;
  const { threads, seed } = opts;
  const stray = opts.quantize ? undefined : strayCalibrationFlag(opts);
  if (stray) throw new CliError(`${stray} applies to --quantize`, { hint: 'onnxkit report MODEL -o report.html --quantize --calibration DIR' });
  const int8 = opts.quantize ? calibrationSettings(opts) : undefined;

  let step = progress.step(`import ${file === STDIO ? '(stdin)' : file}`);
  const model = loadModel(file);
  const sortedWarning = sortedInputWarning(refuseInvalidModel(model, 'no report was written'));
  if (sortedWarning !== undefined && !mode.quiet) process.stderr.write(`${sortedWarning}\n`);
  checkDimSymbols(model, opts);
  refuseOversizedReport(model, file);
  refuseOverwritingModelFiles(model, opts.output, '-o');
  // A model from stdin is passed to onnxruntime as the model itself (file: null), not a path.
  const input = { model, file: file === STDIO ? null : file, fileBytes: inputBytes(file) };
  const source = input.file ?? model;
  const inputShapes = inputShapesWithDims(model, opts);
  step.done();

  let data: ReportData;
  let equivalent: boolean | undefined;
  let optimizedModel: Model | undefined;
  let crash: JobCrash | undefined;
  if (opts.optimized === undefined) {
    const result: JobResult = await runJob(input, {
      device,
      ...(inputShapes ? { inputShapes } : {}),
      ...(dims ? { dimValues: dims } : {}),
      pipeline,
      ...(pipeline ? { pipelineOptions: pipelineFromFlags({ passes: pipeline.join(',') }).options } : {}),
      verify: opts.verify !== false,
      benchIterations: pipeline ? benchIterations : 0,
      threads,
      seed,
      progress,
    });
    equivalent = result.verify?.equivalent;
    optimizedModel = result.optimized?.model;
    crash = result.crash;
    data = reportData(input, result, { generator: generator(), ...(pipeline ? { pipelineName: pipeline.join(', ') } : {}) });
  } else {
    const other = opts.optimized;
    step = progress.step('analyze both models');
    // As runJob does: --dim values, the other free input symbols at 1 (the report says which).
    const defaulted = freeDimsAsOne(model, inputShapes);
    for (const k of Object.keys(dims ?? {})) delete defaulted?.[k];
    const dimValues = defaulted && Object.keys(defaulted).length > 0 ? { ...defaulted, ...dims } : dims;
    const shapes = { ...(inputShapes ? { inputShapes } : {}), ...(dimValues ? { dimValues } : {}) };
    const analysis = analyzeModel(model, { device, ...shapes, memory: analysisMemory() });
    const otherModel = loadModel(other);
    const otherSorted = sortedInputWarning(refuseInvalidModel(otherModel, 'no report was written', `the --optimized model ${other}`), `the --optimized model's`);
    if (otherSorted !== undefined && !mode.quiet) process.stderr.write(`${otherSorted}\n`);
    refuseOversizedReport(otherModel, other);
    refuseOverwritingModelFiles(otherModel, opts.output, '-o');
    const otherAnalysis = analyzeModel(otherModel, { device, ...shapes, memory: analysisMemory() });
    step.done();
    const summary = summarizeModel(model, { file: input.file, fileBytes: input.fileBytes });
    const d: { -readonly [K in keyof ReportData]: ReportData[K] } = {
      model: summary,
      analysis,
      generator: generator(),
      optimized: { model: summarizeModel(otherModel, { file: other, fileBytes: statSync(other).size }), analysis: otherAnalysis, passes: [] },
      ...(dimValues ? { bindings: { values: dimValues, defaulted: Object.keys(defaulted ?? {}) } } : {}),
    };
    const m = await verifyAndBench(source, other, { verify: opts.verify !== false, benchIterations, levels: ['disabled'], threads, seed, ...(dimValues ? { dimValues } : {}), progress });
    if (m.verify) {
      equivalent = m.verify.equivalent;
      d.verification = verificationData(m.verify, 'disabled');
    }
    const pair = m.benchProfiled;
    if (pair) {
      d.latency = latencyFromBenchPair(pair, {
        ...(pair.a.profile ? { original: compareWithRoofline(pair.a.profile, analysis, { level: pair.a.graphOptimizationLevel }) } : {}),
        ...(pair.b.profile ? { optimized: compareWithRoofline(pair.b.profile, otherAnalysis, { level: pair.b.graphOptimizationLevel }) } : {}),
      });
    }
    if (m.crash) {
      crash = m.crash;
      d.crash = jobCrashData(m.crash, analysis, otherAnalysis);
    }
    data = d;
  }

  // The int8 step runs the fp32 side in onnxruntime: not when onnxruntime crashed on it.
  const fp32Crashed = crash !== undefined && (crash.both || crash.side === (optimizedModel ? 'B' : 'A'));
  if (int8 && fp32Crashed && !mode.json && !mode.quiet) process.stderr.write(`onnxkit: note: --quantize skipped: onnxruntime crashed on the ${optimizedModel ? 'optimized' : 'original'} model\n`);
  if (int8 && !fp32Crashed) {
    // The fp32 side: the model --optimize produced when there is one, else the original (BatchNorm folded either way).
    const optimized = optimizedModel;
    const q = await quantizeBeside(optimized ?? model, {
      settings: int8,
      device,
      analysisShapes: { ...(inputShapes ? { inputShapes } : {}), ...(data.bindings ? { dimValues: { ...data.bindings.values } } : dims ? { dimValues: dims } : {}) },
      benchIterations,
      threads,
      seed,
      progress,
      reference: optimized ? `the optimized model (${data.optimized!.pipeline ?? 'default'})` : 'the original model, BatchNorm folded',
      name: `${data.model.name} (int8)`,
      warn: (w) => {
        if (!mode.json && !mode.quiet) process.stderr.write(`onnxkit: warning: ${w}\n`);
      },
    });
    data = { ...data, quantized: q.data };
  }

  step = progress.step(`write ${opts.output === STDIO ? '(stdout)' : opts.output}`);
  const html = renderReport(data);
  if (opts.output === STDIO) {
    process.stdout.write(html);
  } else {
    ensureParent(opts.output);
    writeFileAtomic(opts.output, new TextEncoder().encode(html));
  }
  step.done(fmtBytes(html.length));
  const crashed = data.crash ? { side: data.crash.crashed.length > 1 ? 'both' : data.crash.crashed[0], model: data.crash.model, step: data.crash.step, error: data.crash.reason } : undefined;
  if (mode.json) process.stdout.write(JSON.stringify({ output: opts.output, bytes: html.length, ...(equivalent !== undefined ? { equivalent } : {}), ...(crashed ? { crashed } : {}) }, null, 2) + '\n');
  else if (opts.output !== STDIO && !mode.quiet) {
    const note = crashed ? ` — onnxruntime crashed on ${crashed.side === 'both' ? 'both models' : `the ${crashed.side} model`}: its columns are marked unavailable` : equivalent === false ? ' — the second model is NOT equivalent (see the report)' : '';
    process.stdout.write(`wrote ${opts.output}${note}\n`);
  }
  // The report holds what is known; the crash is the command's result (exit 2).
  if (crash !== undefined) throw crash.error;
  return equivalent === false ? 1 : 0;
}
