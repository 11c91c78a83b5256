/** Analyses: shape and type inference, the op cost table, metrics, roofline, formatters. */
export { inferShapes, applyInferredTypes, updateInference, diagnosticsExact, forgetRemoved, sameFacts, type InferShapesOptions, type InferencePatch, type ShapeInference } from './shape-inference.js';
export type { AnalysisDiagnostic, DiagnosticSeverity } from './inference-types.js';
export { DimAlgebra, evaluateDimExpr, exprSymbols } from './dim-algebra.js';
export { ShapeError, DeviceProfileError, AnalysisError } from './errors.js';
export { COST_TABLE, CONVENTION, type OpCost, type CostContext, type Count } from './cost-table.js';
export { DEVICES, DEFAULT_DEVICE, getDevice, parseDeviceProfile, type DeviceProfile, type PeakFlops } from './devices.js';
export {
  analyzeModel,
  analyzeTotals,
  type CostTotals,
  ANALYSIS_SCHEMA_VERSION,
  type AnalyzeOptions,
  type AnalysisReport,
  type AnalysisTotals,
  type LayerReport,
  type DeviceUse,
  type Bound,
} from './analyze.js';
export type { MemoryStep } from './memory.js';
export {
  formatAnalysisTable,
  analysisToCsv,
  csvField,
  oneLine,
  analysisToMarkdown,
  analysisToJson,
  analysisJsonPieces,
  toNetronAttachment,
  formatCount,
  formatBytes,
  formatSeconds,
  formatJoules,
  costLines,
  intEnergyText,
  formatPerSample,
  formatPartial,
  partialTotals,
  formatExpr,
  formatTotal,
  waitingOn,
  type TableOptions,
  type NetronAttachment,
  type NetronItem,
} from './format.js';
export { HOROWITZ_45NM, ENERGY_CONVENTION, layerEnergy, parseEnergyTable, trainingMemory, type EnergyTable, type LayerEnergy, type TrainingMemory } from './energy.js';
export { executedRoofline, ORT_LEVELS, type OrtLevel, type ExecutedRoofline } from './executed.js';
