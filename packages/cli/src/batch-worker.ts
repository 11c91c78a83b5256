/**
 * Worker thread of `onnxkit batch`: analyzes (and optionally optimizes and verifies) one model
 * per message and posts back a summary row. Failures become rows with an error, never crashes.
 */
import { statSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import { cloneModel, OnnxkitError } from '@onnxkit/graph';
import { load } from '@onnxkit/importer';
import { analyzeModel, parseDeviceProfile, runPipeline } from '@onnxkit/passes';
import { analysisMemory, importMemory } from './memory.js';
import { createReferenceEvaluator } from './reference.js';
import { refuseInvalidModel } from './validity.js';
import { verifyModels } from '@onnxkit/runtime';
import type { BatchReply, BatchRow, BatchTask, BatchWorkerData } from './batch-types.js';

const config = workerData as BatchWorkerData;
const device = parseDeviceProfile(config.device);

async function handle(task: BatchTask): Promise<BatchRow> {
  const t0 = performance.now();
  const row: BatchRow = { file: task.file, ok: true, error: null, ms: 0 };
  try {
    const model = load(task.file, { ...(config.maxTensorBytes !== undefined ? { maxTensorBytes: config.maxTensorBytes } : {}), memory: importMemory() });
    row.fileBytes = statSync(task.file).size;
    row.nodes = model.graph.nodeCount;
    const sorted = refuseInvalidModel(model, 'it was not analyzed');
    if (sorted.sortedReads > 0) row.inputSorted = sorted.sortedReads;
    // A summary table needs numbers: --input-shape and --dim first, then symbolic input dims
    // left over (a dynamic batch) are bound to 1.
    const inputShapes: Record<string, (number | string)[]> = {};
    for (const v of model.graph.inputs) {
      if (v.isInitializer || !v.shape) continue;
      const pinned = config.inputShapes?.[v.name] ?? v.shape;
      const dims = pinned.map((d) => (typeof d === 'string' && config.dimValues?.[d] !== undefined ? config.dimValues[d] : d));
      const free = dims.some((d) => typeof d !== 'number');
      if (free) row.symbolicDimsBoundTo1 = true;
      if (free || pinned !== v.shape || dims.some((d, i) => d !== pinned[i])) inputShapes[v.name] = dims.map((d) => (typeof d === 'number' ? d : 1));
    }
    const a = analyzeModel(model, { device, inputShapes, memory: analysisMemory() });
    row.params = a.totals.params;
    row.weightParams = a.totals.weightParams;
    row.modelSizeBytes = a.totals.modelSizeBytes;
    row.macs = a.totals.macs;
    row.flops = a.totals.flops;
    row.activationsTotal = a.totals.activations.total;
    row.activationsPeak = a.totals.activations.peak;
    row.peakMemoryBytes = a.totals.peakMemoryBytes;
    row.latencyMs = a.totals.latency.seconds === null ? null : a.totals.latency.seconds * 1e3;
    row.unknownLayers = a.totals.unknownLayers;
    if (config.pipeline) {
      const opt = cloneModel(model);
      const p = await runPipeline(opt, config.pipeline);
      const b = analyzeModel(opt, { device, inputShapes, memory: analysisMemory() });
      row.optimized = { nodes: opt.graph.nodeCount, params: b.totals.params, macs: b.totals.macs, changes: p.totalChanges, latencyMs: b.totals.latency.seconds === null ? null : b.totals.latency.seconds * 1e3 };
      if (config.verify) {
        const v = await verifyModels(task.file, opt, { seed: 0, reference: createReferenceEvaluator() });
        const judged = v.reference?.basis === 'reference' ? v.reference.outputs : null;
        row.verify = {
          equivalent: v.equivalent,
          verdict: v.verdict,
          maxAbsError: v.outputs.reduce((m, o) => Math.max(m, o.maxAbsError), 0),
          reason: v.reason,
          errorVsFloat64:
            judged && judged.length > 0
              ? { a: judged.reduce((m, o) => Math.max(m, o.a.maxError), -Infinity), b: judged.reduce((m, o) => Math.max(m, o.b.maxError), -Infinity) }
              : null,
        };
        if (!v.equivalent) row.ok = false;
      }
    }
  } catch (e) {
    row.ok = false;
    row.error = e instanceof OnnxkitError ? e.oneLine() : e instanceof Error ? `${e.name}: ${e.message.split('\n')[0]}` : String(e);
  }
  row.ms = performance.now() - t0;
  return row;
}

parentPort!.on('message', (task: BatchTask | null) => {
  if (task === null) {
    process.exit(0);
  }
  // Before any work: a worker that dies from here on died on this model (batch-pool.ts).
  parentPort!.postMessage({ type: 'started' } satisfies BatchReply);
  // Tests simulate a worker crash on one model (an error thrown outside any handler).
  const crashOn = process.env.ONNXKIT_BATCH_TEST_CRASH;
  if (crashOn && task.file.endsWith(crashOn)) {
    setImmediate(() => {
      throw new Error(`simulated crash on ${task.file}`);
    });
    return;
  }
  void handle(task).then((row) => parentPort!.postMessage({ type: 'row', row } satisfies BatchReply));
});
