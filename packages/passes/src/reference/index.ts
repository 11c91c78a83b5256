/** The float64 reference evaluator (see evaluate.ts). */
export * from './types.js';
export * from './errors.js';
export { evaluateReference, findUnsupportedNode, topologicalOrder, DEFAULT_REFERENCE_MEMORY_LIMIT, type ReferenceOptions, type ReferenceResult } from './evaluate.js';
export { REFERENCE_KERNELS, REFERENCE_OPS } from './table.js';
export { refFromTensor, refToTensor, f64Of, refBytes } from './tensor.js';
