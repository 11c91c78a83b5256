/**
 * The ReportData of the browser test, built from real parts: the zoo ResNet-50, analyzeModel,
 * the `default` rewrite pipeline on a clone, both models encoded to ONNX bytes (file sizes),
 * a verification in onnxruntime-node, and an interleaved benchmark with ORT profiling for the
 * per-layer measured times. Iteration counts are small: the test checks rendering, not speed.
 */
import { cloneModel, type Model } from '@onnxkit/graph';
import { encode } from '@onnxkit/importer';
import { analyzeModel, runPipeline, type AnalysisReport } from '@onnxkit/passes';
import { benchPair, compareWithRoofline, verifyModels } from '@onnxkit/runtime';
import { resnet50 } from '@onnxkit/zoo';
import { latencyFromBenchPair, optimizedData, summarizeModel, verificationData, type ReportData } from '../../src/report/index.js';

export interface ResNetReport {
  data: ReportData;
  original: Model;
  optimized: Model;
  analysis: AnalysisReport;
  optimizedAnalysis: AnalysisReport;
}

export async function buildResNetReport(): Promise<ResNetReport> {
  const original = resnet50();
  const analysis = analyzeModel(original);
  const optimized = cloneModel(original);
  const pipeline = await runPipeline(optimized, 'default');
  const optimizedAnalysis = analyzeModel(optimized);
  const verify = await verifyModels(original, optimized, { seed: 0 });
  // Optimizations off, so ORT's node names still match the models' nodes for the per-layer times.
  const bench = await benchPair(original, optimized, { iterations: 6, warmup: 2, profile: true, graphOptimizationLevel: 'disabled' });
  if (!bench.a.profile || !bench.b.profile) throw new Error('benchPair({ profile: true }) returned no ORT profile');
  const data: ReportData = {
    generator: 'onnxkit (browser test)',
    model: summarizeModel(original, { file: 'zoo:resnet50', fileBytes: encode(original).byteLength }),
    analysis,
    optimized: optimizedData(
      summarizeModel(optimized, { name: 'resnet50 (optimized)', file: 'zoo:resnet50 → default', fileBytes: encode(optimized).byteLength }),
      optimizedAnalysis,
      pipeline,
      'default',
    ),
    verification: verificationData(verify),
    latency: latencyFromBenchPair(bench, {
      original: compareWithRoofline(bench.a.profile, analysis),
      optimized: compareWithRoofline(bench.b.profile, optimizedAnalysis),
    }),
  };
  return { data, original, optimized, analysis, optimizedAnalysis };
}
