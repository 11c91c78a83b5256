/**
 * The supervised worker pool of `onnxkit batch`: `jobs` slots, each running one worker thread
 * at a time and feeding it one model after another. When a worker dies (an uncaught error, an
 * out-of-memory abort, a native crash that ends the thread), only the model it was working on is
 * marked failed; a fresh worker takes the slot and the batch goes on.
 *
 * Which model a dead worker "was working on" is decided by what the worker said, never by timing.
 * A worker answers each task with a 'started' message before any work, then the row. Two event
 * orders used to blame a model that never ran:
 *  - Node delivers a dead worker's last messages during its exit (the row of model X, drained
 *    just before 'exit'); the row's handler fed the next model Y to the dead worker, and 'exit'
 *    then failed Y with "worker crashed", though Y was never read. The same when the worker died
 *    right after posting X's row, before Y reached it.
 *  - A worker that dies before it runs any code (a thread that cannot be created on a loaded
 *    machine, ERR_WORKER_INIT_FAILED) failed the model it had been handed.
 * A task the worker never acknowledged is now handed to the replacement (at most START_ATTEMPTS
 * times, so a worker that can never start ends each model with its reason instead of looping);
 * only an acknowledged task without a row is the crash's. And an 'error' event whose value is not
 * an Error (a worker that throws a string) took the whole batch down with a TypeError.
 */
import type { BatchReply, BatchRow, BatchTask } from './batch-types.js';

/** The part of a worker_threads Worker the pool uses (tests drive it with scripted event orders). */
export interface PoolWorker {
  postMessage(task: BatchTask | null): void;
  on(event: 'message', listener: (reply: BatchReply) => void): unknown;
  on(event: 'error', listener: (error: unknown) => void): unknown;
  on(event: 'exit', listener: (code: number) => void): unknown;
}

/** How many workers a model is handed to before a worker that never acknowledges it fails it. */
export const START_ATTEMPTS = 3;

/** Runs every file through the pool; rows in the files' order. `onRow` after each finished model. */
export function runPool(files: readonly string[], jobs: number, spawn: () => PoolWorker, onRow?: (done: number) => void): Promise<BatchRow[]> {
  const rows: BatchRow[] = new Array(files.length);
  const attempts = new Array<number>(files.length).fill(0);
  /** Tasks handed to a worker that died before acknowledging them: the next feed takes them first. */
  const handBack: number[] = [];
  let next = 0;
  let done = 0;
  const slot = (): Promise<void> =>
    new Promise<void>((resolveSlot) => {
      const start = (): void => {
        const w = spawn();
        let current = -1;
        let started = false;
        let crash: string | undefined;
        const feed = (): void => {
          started = false;
          if (handBack.length === 0 && next >= files.length) {
            w.postMessage(null);
            return;
          }
          current = handBack.length > 0 ? handBack.shift()! : next++;
          attempts[current]!++;
          w.postMessage({ file: files[current]! });
        };
        const record = (i: number, row: BatchRow): void => {
          rows[i] = row;
          done++;
          onRow?.(done);
        };
        w.on('message', (reply: BatchReply) => {
          if (reply.type === 'started') {
            started = true;
            return;
          }
          record(current, reply.row);
          current = -1;
          feed();
        });
        w.on('error', (e: unknown) => {
          crash = e instanceof Error ? e.message.split('\n')[0] : `${String(e).split('\n')[0]} (thrown, not an Error)`;
        });
        w.on('exit', (code: number) => {
          if (current >= 0 && rows[current] === undefined) {
            if (started || attempts[current]! >= START_ATTEMPTS) {
              const why = crash ?? `exit code ${code}`;
              record(current, { file: files[current]!, ok: false, error: started ? `worker crashed: ${why}` : `worker did not start (${attempts[current]} attempts): ${why}`, ms: 0 });
            } else {
              handBack.push(current);
            }
          }
          // Done when no model is left (a replacement would only be told to finish).
          if (next >= files.length && handBack.length === 0) return resolveSlot();
          start(); // replace the dead worker; it picks up the next model
        });
        feed();
      };
      start();
    });
  return Promise.all(Array.from({ length: Math.min(jobs, files.length) }, slot)).then(() => rows);
}
