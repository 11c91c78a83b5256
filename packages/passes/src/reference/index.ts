/** The float64 reference evaluator (see evaluate.ts); its kernels live in the op homes (ops/, `reference`). */
export * from '../kernels/reference/errors.js';
export { evaluateReference, findUnsupportedNode, topologicalOrder, DEFAULT_REFERENCE_MEMORY_LIMIT, type ReferenceOptions, type ReferenceResult } from './evaluate.js';
export { REFERENCE_KERNELS, REFERENCE_OPS } from '../ops/registry.js';
export { refFromTensor, refToTensor, f64Of, refBytes } from '../kernels/reference/tensor.js';
