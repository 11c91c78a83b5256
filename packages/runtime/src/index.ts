/**
 * @onnxkit/runtime — the only package that touches onnxruntime-node: sessions in a child
 * process, seeded and file inputs, numeric comparison, verification with divergence bisection,
 * benchmarking, profiling and device calibration.
 */
export * from './errors.js';
export { RuntimeWorker, defaultWorker, shutdownRuntime, startRuntime, WORKER_URL, CHILD_SPAWN_CHANNEL, type RuntimeWorkerOptions } from './worker-client.js';
export {
  createSession,
  checkFeeds,
  formatMetadata,
  RuntimeSession,
  type Feeds,
  type GraphOptimizationLevel,
  type RunResult,
  type SessionOptions,
  type ValueMetadata,
} from './session.js';
export { ortTypeName, dataTypeFromOrt, isOrtIoType } from './wire.js';
export {
  syntheticInputs,
  describeSynthetic,
  resolveShape,
  modelInputs,
  modelOutputs,
  Xoshiro128,
  type SyntheticOptions,
  type SyntheticDescription,
} from './synthetic.js';
export { decodeNpy, encodeNpy, decodeNpz, encodeNpz, npzEntryName, crc32 } from './npy.js';
export { maxInputBytes, checkInputSize, tensorBytes, DEFAULT_MAX_INPUT_BYTES } from './input-limits.js';
export { writeNpy, writeNpz, readNpy, readNpz } from './npy-files.js';
export { loadInputs, backendTestData, type InputFile, type LoadInputsOptions } from './load-inputs.js';
export {
  compareTensors,
  compareOutputs,
  toleranceFor,
  isExactType,
  percentile,
  DEFAULT_TOLERANCES,
  type Tolerance,
  type TensorComparison,
  type CompareOptions,
  type CompareTensorOptions,
  type OutputsComparison,
} from './compare.js';
export {
  parseProfile,
  compareWithRoofline,
  type ProfileSummary,
  type ProfileNodeStat,
  type ProfileOpStat,
  type RooflineLayerLike,
  type RooflineComparison,
  type RooflineComparisonRow,
} from './profile.js';
export {
  benchModel,
  benchPair,
  BenchCrashError,
  latencyStats,
  ratioStats,
  withNoiseFloor,
  medianInterval,
  formatSpeedup,
  pairedP50,
  CONFIDENCE_LEVEL,
  SPEEDUP_DEFINITION,
  planBatch,
  type BenchOptions,
  type BenchResult,
  type BenchPairResult,
  type BenchProgress,
  type BatchInfo,
  type LatencyStats,
  type RatioStats,
} from './bench.js';
export { bisectModels, bisectCandidates, type Candidate, type BisectOptions, type BisectResult, type BisectProgress, type Divergence } from './bisect.js';
export {
  verifyModels,
  runModel,
  checkSameInterface,
  VerifyCrashError,
  type SurvivingRun,
  type VerifyOptions,
  type VerifyReport,
  type VerifyProgress,
  type VerifyLatency,
  type InputsDescription,
  type FileInputsDescription,
  type GivenInputsDescription,
  type RunModelOptions,
} from './verify.js';
export { summarizeTensor, type SummaryValue, type TensorSummary } from './summary.js';
export { calibrate, calibrationModel, DEFAULT_CALIBRATION_KERNELS, type CalibrateOptions, type CalibratedProfile, type CalibrationBranch, type CalibrationKernelSpec, type KernelTiming } from './calibrate.js';
export { createConstantEvaluator, type OrtConstantEvaluator, type ConstantEvaluatorOptions } from './constant-evaluator.js';
export * from './calibration/index.js';
export {
  judgeOutput,
  ulpAt,
  ruleText,
  verdictOf,
  REFERENCE_RULE,
  type ReferenceEvaluator,
  type ReferenceRun,
  type ReferenceValue,
  type ReferenceJudgement,
  type OutputJudgement,
  type ModelErrorStats,
  type Verdict,
} from './reference-judge.js';
