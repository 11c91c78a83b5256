/**
 * `onnxkit report MODEL -o report.html`: the self-contained HTML report. With `--optimize` it
 * runs a pipeline on a copy; with `--optimized OTHER` it compares against an existing file.
 * Either way the second model is verified and benchmarked against the first unless told not to.
 */
import { statSync } from 'node:fs';
import { writeFileAtomic } from '@onnxkit/importer';
import { analyzeModel } from '@onnxkit/passes';
import { createReferenceEvaluator } from '../reference.js';
import { benchPair, compareWithRoofline, verifyModels } from '@onnxkit/runtime';
import { resolveDevice } from '../devices.js';
import { CliError } from '../errors.js';
import { freeDimsAsOne, reportData, runJob, type JobResult } from '../job.js';
import { intOption, parseInputShapes } from '../program.js';
import { latencyFromBenchPair, renderReport, summarizeModel, verificationData, type ReportData } from '../report/index.js';
import { fmtBytes, outputMode, Progress } from '../ui.js';
import { generator } from '../version.js';
import { pipelineFromFlags } from './optimize.js';
import { loadModel } from '../limits.js';
import { ensureParent } from '../fs-utils.js';

export interface ReportCliOptions {
  output: string;
  optimized?: string;
  optimize?: string | boolean;
  device?: string;
  inputShape?: string[];
  verify?: boolean;
  bench?: string | boolean;
  threads?: string;
  seed?: string;
  json?: boolean;
}

export default async function report(file: string, opts: ReportCliOptions): Promise<number> {
  const mode = outputMode(opts);
  if (opts.optimized && opts.optimize) throw new CliError('give --optimize or --optimized, not both');
  const progress = new Progress(mode);
  const device = resolveDevice(opts.device);
  const inputShapes = parseInputShapes(opts.inputShape);
  const benchIterations = opts.bench === false ? 0 : opts.bench === undefined || opts.bench === true ? 30 : intOption('--bench', opts.bench, { min: 0 })!;
  const threads = intOption('--threads', opts.threads, { min: 1 }) ?? 1;
  const seed = intOption('--seed', opts.seed, { min: 0 }) ?? 0;

  let step = progress.step(`import ${file}`);
  const model = loadModel(file);
  const input = { model, file, fileBytes: statSync(file).size };
  step.done();

  let data: ReportData;
  let equivalent: boolean | undefined;
  if (opts.optimized === undefined) {
    const pipeline = opts.optimize ? (typeof opts.optimize === 'string' ? opts.optimize.split(',') : ['default']) : null;
    const result: JobResult = await runJob(input, {
      device,
      ...(inputShapes ? { inputShapes } : {}),
      pipeline,
      ...(pipeline ? { pipelineOptions: pipelineFromFlags({ passes: pipeline.join(',') }).options } : {}),
      verify: opts.verify !== false,
      benchIterations: pipeline ? benchIterations : 0,
      threads,
      seed,
      progress,
    });
    equivalent = result.verify?.equivalent;
    data = reportData(input, result, { generator: generator(), ...(pipeline ? { pipelineName: pipeline.join(', ') } : {}) });
  } else {
    const other = opts.optimized;
    step = progress.step('analyze both models');
    // As runJob does: free input symbols at 1, the values the runtime's inputs give them.
    const dimValues = freeDimsAsOne(model, inputShapes);
    const shapes = { ...(inputShapes ? { inputShapes } : {}), ...(dimValues ? { dimValues } : {}) };
    const analysis = analyzeModel(model, { device, ...shapes });
    const otherModel = loadModel(other);
    const otherAnalysis = analyzeModel(otherModel, { device, ...shapes });
    step.done();
    const summary = summarizeModel(model, { file, fileBytes: input.fileBytes });
    const d: { -readonly [K in keyof ReportData]: ReportData[K] } = {
      model: summary,
      analysis,
      generator: generator(),
      optimized: { model: summarizeModel(otherModel, { file: other, fileBytes: statSync(other).size }), analysis: otherAnalysis, passes: [] },
    };
    if (opts.verify !== false) {
      step = progress.step('verify in onnxruntime');
      const v = await verifyModels(file, other, { seed, threads, bisect: true, reference: createReferenceEvaluator() });
      equivalent = v.equivalent;
      d.verification = verificationData(v, 'disabled');
      step.done(v.verdict);
    }
    if (benchIterations > 0) {
      step = progress.step('benchmark both, interleaved (profiled)');
      const pair = await benchPair(file, other, { iterations: benchIterations, threads, graphOptimizationLevel: 'disabled', profile: true, synthetic: { seed } });
      d.latency = latencyFromBenchPair(pair, {
        ...(pair.a.profile ? { original: compareWithRoofline(pair.a.profile, analysis) } : {}),
        ...(pair.b.profile ? { optimized: compareWithRoofline(pair.b.profile, otherAnalysis) } : {}),
      });
      step.done(`×${pair.ratio.median.toFixed(3)}`);
    }
    data = d;
  }

  step = progress.step(`write ${opts.output}`);
  const html = renderReport(data);
  ensureParent(opts.output);
  writeFileAtomic(opts.output, new TextEncoder().encode(html));
  step.done(fmtBytes(html.length));
  if (mode.json) process.stdout.write(JSON.stringify({ output: opts.output, bytes: html.length, ...(equivalent !== undefined ? { equivalent } : {}) }, null, 2) + '\n');
  else process.stdout.write(`wrote ${opts.output}${equivalent === false ? ' — the second model is NOT equivalent (see the report)' : ''}\n`);
  return equivalent === false ? 1 : 0;
}
