/**
 * No data lost (issue 7 part 4): a process killed mid-write leaves its temporary file behind;
 * the next atomic write of the same target removes the temporaries of dead processes on this
 * host, and only those. (test/integration/big-model.test.ts kills a real save with SIGKILL.)
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { writeFileAtomic } from '@onnxkit/importer';
import { cleanup, tempDir, tempFiles } from './helpers/files.js';

afterAll(cleanup);

/** A pid that existed and is gone: a child that has exited. */
function deadPid(): number {
  return Number(execFileSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']).toString());
}

/** The `<name>.tmp-<host>-` prefix this process uses, observed during a real write. */
function ownPrefix(dir: string, name: string): string {
  let seen: string[] = [];
  function* chunks(): Generator<Uint8Array> {
    yield Uint8Array.of(1);
    seen = tempFiles(dir);
  }
  writeFileAtomic(join(dir, name), chunks());
  expect(seen).toHaveLength(1);
  const m = /^(.*\.tmp-[a-z0-9]+-)(\d+)-[0-9a-z]+$/.exec(seen[0]!);
  expect(m, `temporary name ${seen[0]} carries host and pid`).not.toBeNull();
  expect(Number(m![2])).toBe(process.pid);
  return m![1]!;
}

describe('temporary files of interrupted writes', () => {
  it('the next write removes those of dead processes on this host, and keeps live or foreign ones', () => {
    const dir = tempDir('stale');
    const prefix = ownPrefix(dir, 'model.onnx');
    const dead = `${prefix}${deadPid()}-k3j2`;
    const live = `${prefix}${process.ppid}-a1b2`;
    const foreign = `model.onnx.tmp-someotherhost-${deadPid()}-zz`;
    const otherTarget = `${prefix.replace('model.onnx', 'other.onnx')}${deadPid()}-x1`;
    for (const f of [dead, live, foreign, otherTarget]) writeFileSync(join(dir, f), 'half-written');
    writeFileAtomic(join(dir, 'model.onnx'), Uint8Array.of(9, 9));
    expect(readFileSync(join(dir, 'model.onnx'))).toEqual(Buffer.from([9, 9]));
    const left = readdirSync(dir).sort();
    expect(left).not.toContain(dead);
    expect(left).toEqual([foreign, live, 'model.onnx', otherTarget].sort());
  });
});
