import { cloneModel } from '@onnxkit/graph';
import { load, save } from '@onnxkit/importer';
import { analyzeModel, runPipeline } from '@onnxkit/passes';
import { verifyModels } from '@onnxkit/runtime';

export async function optimizeFile(input: string, output: string) {
  const model = load(input);                                     // lazy, zero-copy import
  const before = analyzeModel(model, { device: 'raspberry-pi-4' }); // lecture metrics + roofline
  const optimized = cloneModel(model);
  const pipeline = await runPipeline(optimized, 'default');      // exact rewrites, verified
  const check = await verifyModels(model, optimized);            // onnxruntime, fp32 tolerances
  save(optimized, output);                                       // atomic, deterministic
  return { macs: before.totals.macsExpr ?? before.totals.macs, changes: pipeline.totalChanges, equivalent: check.equivalent };
}
