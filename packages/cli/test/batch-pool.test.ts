// The batch pool under event orders that real worker threads produce only now and then (a
// loaded machine, a thread that cannot be created, a worker that dies right after its last row):
// scripted workers make each order happen every time.
import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import type { BatchReply, BatchTask } from '../src/batch-types.js';
import { runPool, START_ATTEMPTS, type PoolWorker } from '../src/batch-pool.js';

/** What a scripted worker does with a task: emit events on `w`, in order (after a turn of the loop, as a thread would). */
type Script = (task: string, w: FakeWorker, nth: number) => void;

class FakeWorker extends EventEmitter implements PoolWorker {
  dead = false;
  received: string[] = [];
  constructor(private readonly script: Script, readonly nth: number) {
    super();
  }
  postMessage(task: BatchTask | null): void {
    if (this.dead) return; // a message to a thread that has ended goes nowhere
    if (task === null) return void setImmediate(() => this.exit(0));
    this.received.push(task.file);
    setImmediate(() => {
      if (!this.dead) this.script(task.file, this, this.nth);
    });
  }
  reply(m: BatchReply): void {
    this.emit('message', m);
  }
  row(file: string): void {
    this.reply({ type: 'row', row: { file, ok: true, error: null, ms: 1 } });
  }
  exit(code: number, error?: unknown): void {
    this.dead = true;
    if (error !== undefined) this.emit('error', error);
    this.emit('exit', code);
  }
}

function pool(files: string[], jobs: number, script: Script): { run: Promise<Awaited<ReturnType<typeof runPool>>>; workers: FakeWorker[] } {
  const workers: FakeWorker[] = [];
  const run = runPool(files, jobs, () => {
    const w = new FakeWorker(script, workers.length);
    workers.push(w);
    return w;
  });
  return { run, workers };
}

const FILES = ['a', 'b', 'c', 'd', 'e'];
const normal: Script = (f, w) => {
  w.reply({ type: 'started' });
  w.row(f);
};

describe('onnxkit batch: the worker pool', () => {
  it('every model once, in order, on healthy workers', async () => {
    const { run, workers } = pool(FILES, 2, normal);
    expect((await run).map((r) => [r.file, r.ok])).toEqual(FILES.map((f) => [f, true]));
    expect(workers).toHaveLength(2);
  });

  // Node delivers a dead worker's last messages while it handles its exit, before 'exit': the
  // row's handler fed the next model to the dead worker, and 'exit' failed that model
  // ("worker crashed: exit code 1"), though it was never read.
  it('a worker that dies right after its row: the next model goes to the replacement, nobody is blamed', async () => {
    const { run, workers } = pool(FILES, 2, (f, w) => {
      w.reply({ type: 'started' });
      w.row(f);
      if (f === 'b') w.exit(1); // the row, then the exit, in one go: the order of a drain at exit
    });
    const rows = await run;
    expect(rows.map((r) => [r.file, r.ok, r.error])).toEqual(FILES.map((f) => [f, true, null]));
    // The model handed to the dead worker was run by its replacement.
    const died = workers.find((w) => w.dead && w.received.includes('b'))!;
    const handed = died.received[died.received.length - 1]!;
    expect(handed).not.toBe('b');
    expect(workers.filter((w) => w.received.includes(handed))).toHaveLength(2);
  });

  it('a worker thread that fails to start (ERR_WORKER_INIT_FAILED) does not fail its model; the replacement runs it', async () => {
    const initFailed = Object.assign(new Error('Worker initialization failure: EAGAIN'), { code: 'ERR_WORKER_INIT_FAILED' });
    const { run } = pool(FILES, 2, (f, w, nth) => (nth === 1 ? w.exit(1, initFailed) : normal(f, w, nth)));
    expect((await run).map((r) => [r.file, r.ok])).toEqual(FILES.map((f) => [f, true]));
  });

  it('workers that never start: each model fails with the reason after a bounded number of attempts, and the batch ends', async () => {
    const { run, workers } = pool(FILES, 2, (_f, w) => w.exit(1, new Error('Cannot find module batch-worker.js')));
    const rows = await run;
    expect(rows.map((r) => r.error)).toEqual(FILES.map(() => `worker did not start (${START_ATTEMPTS} attempts): Cannot find module batch-worker.js`));
    expect(workers).toHaveLength(FILES.length * START_ATTEMPTS);
  });

  it('a crash after the worker started a model fails that model only, with the error\'s first line', async () => {
    const { run } = pool(FILES, 2, (f, w) => {
      w.reply({ type: 'started' });
      if (f === 'c') w.exit(1, new Error('simulated crash\n    at somewhere'));
      else w.row(f);
    });
    const rows = await run;
    expect(rows.map((r) => [r.file, r.ok, r.error])).toEqual(FILES.map((f) => [f, f !== 'c', f === 'c' ? 'worker crashed: simulated crash' : null]));
  });

  it('a worker that throws something other than an Error fails its model; the batch goes on (it threw a TypeError in the pool)', async () => {
    const { run } = pool(FILES, 2, (f, w) => {
      w.reply({ type: 'started' });
      if (f === 'a') w.exit(1, 'a bare string');
      else if (f === 'd') w.exit(1, undefined);
      else w.row(f);
    });
    const rows = await run;
    expect(rows.map((r) => r.error)).toEqual(['worker crashed: a bare string (thrown, not an Error)', null, null, 'worker crashed: exit code 1', null]);
  });
});
