/** The op homes: one declaration per op type (defineOp) and the registry the tables derive from. */
export { OPS, getOp, knownAttributes, int8WeightAxis } from './registry.js';
export { defineOp, undeclared, undeclaredReason, isUndeclared, FP16_ALL, withFacets, UNDECLARED_KINDS } from './types.js';
export type { OpDef, OpDefInput, OpKernel, AttributeSpec, AttributeSchema, AttributeCheck, Fp16Facet, OrtFacet, QuantizeFacet, QdqPlacement, Undeclared, UndeclaredKind, RefTensor, ReferenceKernel } from './types.js';
