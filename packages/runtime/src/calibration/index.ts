/** Activation calibration for static quantization (statistics through onnxruntime). */
export { TensorStatistics, klThreshold, DEFAULT_HALF_BINS, type CalibrationMethod } from './histogram.js';
export { checkPercentile } from '../options.js';
export { calibrateRanges, type CalibrationOptions, type CalibrationResult } from './collect.js';
export { listSamples, readSamples, syntheticSamples } from './samples.js';
export { ErrorAccumulator, measureAccuracy, referenceRuns, type AccuracyOptions, type AccuracyReport, type AccuracySummary, type LayerPair } from './accuracy.js';
