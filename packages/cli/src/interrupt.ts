/**
 * Interruption (issue 13). `interruption.requested` is set when the user pressed Ctrl-C: errors
 * caused by stopping the work are not reported.
 *
 * Importing this module also makes every exit remove the temporary files of saves in progress
 * (`removeLiveTemporaries`; outputs are written under temporary names and renamed into place, so
 * the target is never half-written), and installs the SIGTERM and SIGHUP handlers: remove them,
 * end the onnxruntime child processes, exit 143 (129 for SIGHUP). (SIGINT is handled in bin.ts: exit 130, a second
 * Ctrl-C at once; both go through the exit hook below.) Saves are synchronous, so a signal
 * during one is handled when it ends: the output is then complete (it is renamed into place
 * only when whole) or absent, never partial, and no temporary file remains.
 */
import { removeLiveTemporaries } from '@onnxkit/importer';
import { installSafeStdout } from './ui.js';

// Everything printed to stdout goes through the one escaping function (ui.ts terminalSafe).
installSafeStdout();

export const interruption = { requested: false };

/** Exit codes of a process ended by a signal, as shells report them (128 + signal number). */
export const SIGNAL_EXIT = { SIGINT: 130, SIGTERM: 143, SIGHUP: 129 } as const;

process.on('exit', () => {
  removeLiveTemporaries();
});

// A signal that arrives during synchronous work (a long save) is queued, and Node's signal
// watchers do not keep the event loop alive: when the work ends, the process would exit with
// code 0 without ever running the handler. One more turn of the loop lets it run (exit 130/143).
let drained = false;
process.on('beforeExit', () => {
  if (drained) return;
  drained = true;
  setImmediate(() => undefined);
});

// SIGHUP (the terminal closed: an ssh session dropped) is ended the same way; it killed the process
// where it stood, leaving the temporary file of a save in progress beside the output.
for (const signal of ['SIGTERM', 'SIGHUP'] as const) {
  process.on(signal, () => {
    interruption.requested = true;
    removeLiveTemporaries();
    // onnxruntime children end when their channel closes; kill them at once if they were loaded.
    void import('@onnxkit/runtime')
      .then((r) => r.shutdownRuntime())
      .catch(() => undefined)
      .finally(() => process.exit(SIGNAL_EXIT[signal]));
  });
}
