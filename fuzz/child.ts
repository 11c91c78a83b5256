/**
 * Entry point of a fuzz child process (started by supervisor.ts with the TypeScript loader of
 * fuzz/ts-loader, `--expose-gc` and a heap cap): receives one job over IPC, runs it with
 * engine.ts and exits. Running cases in a child is what lets the supervisor survive, time out
 * and attribute a hang, a native crash or an out-of-memory abort.
 */
import { Shard, type ChildMessage, type ShardJob } from './engine.js';
import { minimize } from './minimize.js';

function send(m: ChildMessage): void {
  process.send?.(m);
}

/** Sends the last message and disconnects only once it is handed over (a disconnect right after send can drop it). */
function finish(): Promise<void> {
  return new Promise((resolve) => {
    if (!process.send) return resolve();
    process.send({ type: 'stats-flush' }, () => {
      process.disconnect();
      resolve();
    });
  });
}

process.once('message', (job: ShardJob) => {
  void (async () => {
    if (job.mode === 'minimize') {
      const shard = new Shard(job.progressFile, send, 0);
      const input = new Uint8Array(Buffer.from(job.bytesBase64, 'base64'));
      const r = await minimize(input, async (b) => (await shard.signatureFor(b, job.target)) === job.signature, job.seconds);
      send({ type: 'minimized', bytesBase64: Buffer.from(r.bytes).toString('base64'), attempts: r.attempts });
    } else {
      const shard = new Shard(job.progressFile, send, job.keepPerSignature);
      if (job.mode === 'cases') await shard.runCases(job);
      else await shard.runFiles(job);
    }
    await finish();
  })().catch((e: unknown) => {
    process.stderr.write(`fuzz child failed: ${e instanceof Error ? e.stack : String(e)}\n`);
    process.exit(70);
  });
});
