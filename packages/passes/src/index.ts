/** @onnxkit/passes — analyses (shape inference, cost, memory, roofline) and rewrite passes. */
export * from './kernels/index.js';
export * from './analysis/index.js';
export * from './rewrite/index.js';
export * from './ops/index.js';
export * from './quantize/index.js';
export * from './reference/index.js';
