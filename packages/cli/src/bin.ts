/** Entry point of the `onnxkit` command. */
import { EXIT } from './errors.js';
import { main } from './program.js';

process.on('SIGINT', () => {
  // Outputs are written to a temporary file and renamed into place, so stopping here leaves
  // no half-written file behind; temporary files are removed by their writers' cleanup.
  process.stderr.write('\nonnxkit: interrupted\n');
  process.exit(EXIT.interrupted);
});

// Output piped into `head` closes stdout early; that is not an error worth a stack trace.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(EXIT.ok);
});

process.exitCode = await main(process.argv);
