export { main, buildProgram } from './program.js';
export { parseInputShapes, parseDimValues } from './options.js';
export * from './report/index.js';
