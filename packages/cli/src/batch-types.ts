/** Messages between `onnxkit batch` and its worker threads. */
import type { DeviceProfile } from '@onnxkit/passes';

export interface BatchWorkerData {
  device: DeviceProfile;
  /** Pipeline to run, or null for analysis only. */
  pipeline: string[] | null;
  verify: boolean;
  /** Global --max-tensor-bytes. */
  maxTensorBytes?: number;
  /** --input-shape, by input name (applies to the models that have that input). */
  inputShapes?: Record<string, (number | string)[]>;
  /** --dim, by symbol (applies wherever a model's inputs use it). */
  dimValues?: Record<string, number>;
}

export interface BatchTask {
  file: string;
}

/** A worker's answers to a task: 'started' before any work (batch-pool.ts), then the row. */
export type BatchReply = { type: 'started' } | { type: 'row'; row: BatchRow };

export interface BatchRow {
  file: string;
  ok: boolean;
  error: string | null;
  ms: number;
  fileBytes?: number;
  nodes?: number;
  params?: number;
  weightParams?: number;
  modelSizeBytes?: number;
  /** null: unknown (a layer of unknown cost or an unbound symbol), never a partial sum. */
  macs?: number | null;
  flops?: number | null;
  activationsTotal?: number | null;
  activationsPeak?: number | null;
  peakMemoryBytes?: number | null;
  latencyMs?: number | null;
  unknownLayers?: number;
  /** Symbolic input dims were bound to 1 for the numbers. */
  symbolicDimsBoundTo1?: boolean;
  /** The model's nodes were out of order (no cycle) and were sorted in memory: how many reads came before their producer. */
  inputSorted?: number;
  optimized?: { nodes: number; params: number; macs: number | null; changes: number; latencyMs: number | null };
  verify?: { equivalent: boolean; verdict: string; maxAbsError: number; reason: string | null; errorVsFloat64: { a: number; b: number } | null };
}
