export { main, buildProgram, parseInputShapes } from './program.js';
