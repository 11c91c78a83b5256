/** Entry point of the `onnxkit` command (ES modules; bin/onnxkit.js prefers the code-cached bundle). */
import { start } from './start.js';

await start(process.argv);
