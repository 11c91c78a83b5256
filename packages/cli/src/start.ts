/**
 * The `onnxkit` command, as a function: bin.ts calls it, and so does the single CommonJS bundle
 * the launcher (bin/onnxkit.js) loads with a V8 code cache (scripts/bundle-cli.mjs), which
 * cannot hold top-level await.
 */
import { describeError, EXIT, stdoutWriteError } from './errors.js';
import './interrupt.js';
import { whenUsed } from './ui.js';

/** Commands that always run onnxruntime. */
const ORT_COMMANDS: ReadonlySet<string> = new Set(['verify', 'bench', 'run', 'demo']);

/** The command word of an `onnxkit` command line (global options and their values skipped). */
function commandOf(argv: readonly string[]): string | undefined {
  for (let i = 2; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--max-tensor-bytes' || a === '--max-folded-bytes') i++;
    else if (!a.startsWith('-')) return a;
  }
  return undefined;
}

/** Runs the command line `argv` (as process.argv) and sets process.exitCode. */
export async function start(argv: readonly string[]): Promise<void> {
  // A command that will run onnxruntime starts its child process first: the child's start-up
  // (node, onnxruntime and its one-time set-up, ≈100 ms of CPU) then overlaps loading the command
  // and decoding the model instead of following them. The light entry loads only the worker client.
  if (ORT_COMMANDS.has(commandOf(argv) ?? '') && !argv.some((a) => a === '--help' || a === '-h')) {
    (await import('@onnxkit/runtime/start')).startRuntime();
  }
  const { main } = await import('./program.js');

  // SIGINT, SIGTERM and SIGHUP are handled only once a save or an onnxruntime child needs cleaning
  // up (interrupt.ts armInterruption); until then they end the process at once.

  // Output piped into `head` closes stdout early; that is not an error worth a stack trace. Any
  // other failed write (a full disk behind `> out.json`) lost output: one line and exit 2, not 0.
  whenUsed('stdout', (stdout) =>
    stdout.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'EPIPE') process.exit(EXIT.ok);
      const { line, exitCode } = describeError(stdoutWriteError(e));
      process.stderr.write(`onnxkit: ${line}\n`);
      process.exit(exitCode);
    }),
  );

  process.exitCode = await main([...argv]);
}
