/**
 * Interruption (issue 13). `interruption.requested` is set when the user pressed Ctrl-C: errors
 * caused by stopping the work are not reported.
 *
 * Importing this module makes every exit remove the temporary files of saves in progress
 * (`removeLiveTemporaries`; outputs are written under temporary names and renamed into place, so
 * the target is never half-written).
 *
 * Signal handlers (`armInterruption`) are installed only once there is something to clean up:
 * just before the first temporary file of a save is created (@onnxkit/importer's
 * onTemporaryFile) and just before the first onnxruntime child process is spawned (the
 * CHILD_SPAWN_CHANNEL diagnostics channel, so that commands which never run onnxruntime do not
 * load @onnxkit/runtime). Until then SIGINT, SIGTERM and SIGHUP keep Node's default
 * disposition: the process dies at once, as Unix tools do, and the shell reports 128 + n
 * (130, 143, 129). A JS handler runs only when the event loop turns, so with handlers installed
 * from the start, long synchronous work (decoding, analysing or optimizing a 1M-node model:
 * seconds to minutes) was deaf to `timeout`'s SIGTERM and to Ctrl-C (an `analyze` ran 11 minutes
 * until SIGKILL). Nothing is lost by dying there: no output exists yet, and an idle onnxruntime
 * child exits when its channel closes.
 *
 * Once armed they stay (saves come last; removing them could lose a signal queued during a
 * synchronous save, whose handle would be closed before the loop turned): SIGTERM and SIGHUP
 * remove the temporary files, end the onnxruntime child processes and exit 143 (129 for SIGHUP);
 * SIGINT prints 'onnxkit: interrupted' and exits 130, a second Ctrl-C at once. Saves are
 * synchronous, so a signal during one is handled when it ends: the output is then complete (it
 * is renamed into place only when whole) or absent, never partial, and no temporary file remains.
 */
import { subscribe } from 'node:diagnostics_channel';
import { onTemporaryFile, removeLiveTemporaries } from '@onnxkit/importer';
import { installSafeStdout } from './ui.js';

// Everything printed to stdout goes through the one escaping function (ui.ts terminalSafe).
installSafeStdout();

export const interruption = { requested: false };

/** Exit codes of a process ended by a signal, as shells report them (128 + signal number). */
export const SIGNAL_EXIT = { SIGINT: 130, SIGTERM: 143, SIGHUP: 129 } as const;

/** @onnxkit/runtime's CHILD_SPAWN_CHANNEL (worker-client.ts), named here so as not to load the package. */
export const RUNTIME_CHILD_SPAWN_CHANNEL = 'onnxkit:runtime:child-spawn';

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

/** Ends the onnxruntime children (if the package was ever loaded) and exits with `code`. */
function shutdownAndExit(code: number): void {
  // onnxruntime children end when their channel closes; kill them at once (a native call in
  // flight is abandoned: it runs in another process) and wait for their exit.
  void import('@onnxkit/runtime')
    .then((r) => r.shutdownRuntime())
    .catch(() => undefined)
    .finally(() => process.exit(code));
}

let armed = false;

/** Installs the SIGINT, SIGTERM and SIGHUP handlers (see above). Idempotent. */
export function armInterruption(): void {
  if (armed) return;
  armed = true;
  process.on('SIGINT', () => {
    // A second Ctrl-C exits at once.
    if (interruption.requested) process.exit(SIGNAL_EXIT.SIGINT);
    interruption.requested = true;
    process.stderr.write('\nonnxkit: interrupted\n');
    removeLiveTemporaries();
    shutdownAndExit(SIGNAL_EXIT.SIGINT);
  });
  // SIGHUP (the terminal closed: an ssh session dropped) is ended the same way; it killed the process
  // where it stood, leaving the temporary file of a save in progress beside the output.
  for (const signal of ['SIGTERM', 'SIGHUP'] as const) {
    process.on(signal, () => {
      interruption.requested = true;
      removeLiveTemporaries();
      shutdownAndExit(SIGNAL_EXIT[signal]);
    });
  }
}

onTemporaryFile(armInterruption);
subscribe(RUNTIME_CHILD_SPAWN_CHANNEL, armInterruption);
