/** Messages between `onnxkit batch` and its worker threads. */
import type { DeviceProfile } from '@onnxkit/passes';

export interface BatchWorkerData {
  device: DeviceProfile;
  /** Pipeline to run, or null for analysis only. */
  pipeline: string[] | null;
  verify: boolean;
  /** Global --max-tensor-bytes. */
  maxTensorBytes?: number;
}

export interface BatchTask {
  file: string;
}

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
  macs?: number;
  flops?: number;
  activationsTotal?: number;
  activationsPeak?: number;
  peakMemoryBytes?: number;
  latencyMs?: number;
  unknownLayers?: number;
  /** Symbolic input dims were bound to 1 for the numbers. */
  symbolicDimsBoundTo1?: boolean;
  optimized?: { nodes: number; params: number; macs: number; changes: number; latencyMs: number };
  verify?: { equivalent: boolean; verdict: string; maxAbsError: number; reason: string | null; errorVsFloat64: { a: number; b: number } | null };
}
