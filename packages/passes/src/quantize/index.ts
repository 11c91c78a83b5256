/** Static int8 quantization (QDQ format) — browser-safe: no node:* imports. */
export { computeParams, quantizeValue, qRange, type QuantParams, type QuantType, type TensorRange } from './params.js';
export {
  COMPUTE_OPS,
  QUANTIZABLE_OPS,
  SHARED_SCALE_OPS,
  QuantizeError,
  planQdq,
  quantizeQdq,
  quantizeWeight,
  type PlannedNode,
  type QdqOptions,
  type QdqPlan,
  type QdqPlanOptions,
  type QdqReport,
  type QuantizedLayer,
} from './qdq.js';
export { quantizeDynamic, type DynamicReport } from './dynamic.js';
