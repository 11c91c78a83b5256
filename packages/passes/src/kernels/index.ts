/** TypeScript kernels: evaluate constant nodes (shape arithmetic, element-wise math, reductions). */
export { evaluateNode, SUPPORTED_KERNELS, type EvaluateOptions } from './evaluate.js';
export { KernelError, KernelBudgetError } from './errors.js';
export type { KernelFn } from './types.js';
export { castTensor, bigintToFloat32 } from './cast.js';
export { erf } from './elementwise.js';
export { broadcastShapes } from './tensor-data.js';
