export { main, buildProgram, parseInputShapes } from './program.js';
export * from './report/index.js';
