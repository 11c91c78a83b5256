/** @onnxkit/graph — the in-memory IR of onnxkit. See DESIGN.md §2 and INVARIANTS.md. */
export * from './data-type.js';
export * from './float-formats.js';
export * from './types.js';
export * from './errors.js';
export * from './tensor.js';
export * from './attribute.js';
export * from './core.js';
export * from './verify.js';
export * from './printer.js';
export * from './builder.js';
export * from './clone.js';
export * from './compare.js';
export type { MemoryBudget } from './memory.js';
/** @internal the name table the importer's decoder and verify() share (not part of the documented API) */
export { NameTable, nameHash, sameAscii } from './name-table.js';
