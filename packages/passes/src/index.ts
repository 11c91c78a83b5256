/** @onnxkit/passes — analyses (shape inference, cost, memory, roofline) and rewrite passes. */
export * from './kernels/index.js';
export * from './analysis/index.js';
export * from './rewrite/index.js';
export * from './ops/index.js';
// RefTensor and ReferenceKernel are declared by both ops/types.ts and reference/types.ts (same shape); ops' win.
export { ReferenceUnsupportedError, ReferenceMemoryError, ReferenceInputError } from './reference/errors.js';
export { evaluateReference, findUnsupportedNode, topologicalOrder, DEFAULT_REFERENCE_MEMORY_LIMIT, type ReferenceOptions, type ReferenceResult } from './reference/evaluate.js';
export { REFERENCE_KERNELS, REFERENCE_OPS } from './reference/table.js';
export { refFromTensor, refToTensor, f64Of, refBytes } from './reference/tensor.js';
