/**
 * `@onnxkit/runtime/start`: the light entry point for starting the onnxruntime child early — it
 * loads the worker client alone, not the rest of the package (the `onnxkit` binary imports it
 * before the command module when the command will run onnxruntime).
 */
export { startRuntime } from './worker-client.js';
