/** Messages between the page and its worker (structured-cloneable data only). */
import type { AnalysisReport } from '@onnxkit/passes';
import type { ReportModelSummary } from '../src/report/types.js';

export interface AnalyzeRequest {
  device?: string;
  bits?: number;
  inputShapes?: Record<string, (number | string)[]>;
  dimValues?: Record<string, number>;
}

export interface OptimizeRequest {
  preset?: string;
  /** Explicit pass list (overrides the preset). */
  passes?: string[];
  disabled?: string[];
  /** Fold constants with onnxruntime-web where the TypeScript kernels cannot, as `onnxkit optimize` does with onnxruntime-node (default true; false = `--no-ort-fold`). */
  ortFold?: boolean;
}

export type Request =
  | { id: number; type: 'open'; file: File; extra: File[]; options: AnalyzeRequest }
  | { id: number; type: 'open-url'; url: string; options: AnalyzeRequest }
  | { id: number; type: 'analyze'; options: AnalyzeRequest }
  | { id: number; type: 'verify-bytes' }
  | { id: number; type: 'optimize'; options: OptimizeRequest };

export interface FileInfo {
  name: string;
  size: number;
  /** Bytes of the model file read so far (structure only, after opening). */
  bytesRead: number;
  /** External data files the model names that were not opened with it. */
  missingExternal: string[];
}

export interface Side {
  nodes: number;
  params: number;
  macs: number | null;
  fileBytes: number;
  opHistogram: Readonly<Record<string, number>>;
}

export type Reply =
  | { type: 'analysis'; file: FileInfo; analysis: AnalysisReport; json: string; summary: ReportModelSummary; reportHtml: string; ms: number }
  | { type: 'optimized'; bytes: Uint8Array; explain: string; pipeline: unknown; before: Side; after: Side; reportHtml: string }
  /** The original model with every weight inline (for onnxruntime-web and the float64 reference). */
  | { type: 'verify-bytes'; original: Uint8Array }
  | { type: 'error'; code: string; message: string; hint?: string };

export interface VerifyRequest {
  original: ArrayBuffer;
  optimized: ArrayBuffer;
  seed: number;
  /** Timed pairs (one untimed warm-up pair first). */
  iterations: number;
}

export type VerifyReply =
  | {
      type: 'verified';
      /** The verdict of `onnxkit verify` (equivalent / equivalent within float32 rounding / NOT equivalent). */
      verdict: string;
      equivalent: boolean;
      reason: string | null;
      basis: 'reference' | 'fixed-tolerance';
      referenceUnavailable: string | null;
      referenceMs: number;
      rule: string;
      k: number;
      outputs: { name: string; maxAbsError: number | null; errorA: number | null; errorB: number | null; pass: boolean }[];
      latency: { iterations: number; originalMs: number; optimizedMs: number };
    }
  | { type: 'error'; code: string; message: string; hint?: string };
