/** Entry point of the `onnxkit` command. */
import { EXIT } from './errors.js';
import { interruption } from './interrupt.js';
import { main } from './program.js';

process.on('SIGINT', () => {
  // A second Ctrl-C exits at once.
  if (interruption.requested) process.exit(EXIT.interrupted);
  interruption.requested = true;
  process.stderr.write('\nonnxkit: interrupted\n');
  // Outputs are written to a temporary file and renamed into place, so stopping here leaves no
  // half-written file. Exiting while onnxruntime is inside a native call would abort the
  // process, so the runtime's worker threads are retired first (an in-flight call finishes).
  void import('@onnxkit/runtime')
    .then((r) => r.shutdownRuntime())
    .finally(() => process.exit(EXIT.interrupted));
});

// Output piped into `head` closes stdout early; that is not an error worth a stack trace.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(EXIT.ok);
});

process.exitCode = await main(process.argv);
