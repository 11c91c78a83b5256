/** The op homes: one declaration per op type (defineOp) and the registry the tables derive from. */
export { OPS, getOp, knownAttributes, int8WeightAxis } from './registry.js';
export { defineOp, undeclared, isUndeclared, FP16_ALL } from './types.js';
export type { OpDef, OpDefInput, AttributeSpec, AttributeSchema, AttributeCheck, Fp16Facet, Undeclared, RefTensor, ReferenceKernel } from './types.js';
