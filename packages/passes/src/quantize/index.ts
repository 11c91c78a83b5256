/** Static int8 quantization (QDQ format) — browser-safe: no node:* imports. */
export { computeParams, quantizeValue, qRange, type QuantParams, type QuantType, type TensorRange } from './params.js';
export {
  COMPUTE_OPS,
  QUANTIZABLE_OPS,
  SHARED_SCALE_OPS,
  QDQ_SKIP_CODES,
  QuantizeError,
  planQdq,
  qdqSkipText,
  quantizeQdq,
  quantizeWeight,
  type PlannedNode,
  type QdqOptions,
  type QdqPlan,
  type QdqPlanOptions,
  type QdqReport,
  type QdqSkip,
  type QdqSkipCode,
  type QdqSkipReason,
  type QuantizedLayer,
} from './qdq.js';
export { quantizeDynamic, type DynamicReport } from './dynamic.js';
